/*
 * decode_filterlog.h - pfSense and OPNsense packet filter logs: the CSV
 * that their "filterlog" program writes for each logged packet (the syslog
 * MSG part), as Netgate documents it ("Filter Log Format"):
 *
 *   RULE,SUBRULE,ANCHOR,TRACKER,IFACE,REASON,ACTION,DIR,IPVER,
 *   IPv4: TOS,ECN,TTL,ID,OFFSET,FLAGS,PROTOID,PROTO,LENGTH,SRC,DST,
 *   IPv6: CLASS,FLOWLABEL,HOPLIMIT,PROTO,PROTOID,LENGTH,SRC,DST,
 *   then tcp: SPORT,DPORT,DATALEN,TCPFLAGS,SEQ,ACK,WINDOW,URG,OPTIONS
 *        udp: SPORT,DPORT,DATALEN
 *        icmp/ipv6-icmp: ICMPTYPE,... (type-specific)
 *        carp: TYPE,TTL,VHID,VERSION,ADVSKEW,ADVBASE
 *
 * Fields set: observer.product "filterlog", event.dataset "filterlog",
 * event.category "network", rule.id (the tracker, pf's stable rule id;
 * the rule number when there is none), filterlog.rule_number, event.reason
 * (match, bad-offset, ...), event.action (pass, block, reject),
 * event.type/event.outcome ("allowed"/"success" for pass,
 * "denied"/"failure" otherwise), network.direction (inbound, outbound),
 * observer.ingress.interface.name (in) or observer.egress.interface.name
 * (out), network.type (ipv4, ipv6), network.transport (the protocol text:
 * tcp, udp, icmp, ipv6-icmp, carp, ...), source.ip, destination.ip,
 * source.bytes (the IP length), source.port and destination.port (tcp,
 * udp), tcp.flags, icmp.type (the word: request, reply, unreach, ...).
 * ev->decoder is set to "filterlog".
 */
#ifndef HIKESHI_DECODE_DECODE_FILTERLOG_H
#define HIKESHI_DECODE_DECODE_FILTERLOG_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT unless the record has at
 * least nine comma-separated fields with an action (pass, block, reject,
 * or another lower-case word) in the seventh, "in"/"out" in the eighth and
 * 4 or 6 in the ninth; -EINVAL when the addresses are missing or not
 * addresses, or a tcp/udp port is not a port.  `ctx` is unused.
 */
int decode_filterlog(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr);

#endif
