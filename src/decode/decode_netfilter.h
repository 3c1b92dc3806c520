/*
 * decode_netfilter.h - kernel netfilter LOG lines (iptables/nftables "log",
 * ufw), the syslog MSG part of a "kernel:" record:
 *
 *   [ 1234.567890] [UFW BLOCK] IN=eth0 OUT= MAC=... SRC=a DST=b LEN=60 TOS=0x00
 *   PREC=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=4321 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0
 *
 * The optional "[ uptime]" is skipped; what precedes "IN=" is the log prefix.
 * For ICMP errors the kernel appends the offending packet in "[SRC=... ]";
 * that inner packet is skipped so it never overwrites the outer addresses.
 *
 * Fields set:
 *   event.category "network", event.action "netfilter_log";
 *   netfilter.prefix     the prefix, without trailing spaces and colons
 *                        ("[UFW BLOCK]"; "DROP-IN" for "DROP-IN: ");
 *   event.outcome/event.type  "failure"/"denied" when the prefix holds BLOCK,
 *                        DROP, REJECT or DENY, "success"/"allowed" when it holds
 *                        ACCEPT or ALLOW (case-insensitive), absent otherwise;
 *   observer.ingress.interface.name (IN=), observer.egress.interface.name
 *                        (OUT=) when not empty;
 *   source.ip (SRC=), destination.ip (DST=), network.transport (PROTO=,
 *                        lowercased into the arena: tcp, udp, icmp, icmpv6, ...),
 *   source.port (SPT=), destination.port (DPT=);
 *   tcp.flags            the TCP flag words (CWR ECE URG ACK PSH RST SYN FIN)
 *                        space separated, e.g. "SYN ACK";
 *   netfilter.mac (MAC=), netfilter.len (LEN=), netfilter.ttl (TTL=, or
 *                        HOPLIMIT= for IPv6), icmp.type (TYPE=), icmp.code
 *                        (CODE=).
 * ev->decoder is set to "netfilter".
 */
#ifndef HIKESHI_DECODE_DECODE_NETFILTER_H
#define HIKESHI_DECODE_DECODE_NETFILTER_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h) for a kernel message.  Returns -ENOENT unless
 * the message has "IN=" (at its start or after a space) followed later by
 * " SRC="; -EINVAL when SRC/DST is not an address or SPT/DPT not a port.
 * `ctx` is unused.
 */
int decode_netfilter(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr);

#endif
