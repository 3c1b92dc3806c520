/*
 * decode_fortigate.h - Fortinet FortiGate (FortiOS) syslog: key=value
 * pairs, values bare or double-quoted, as the FortiOS Log Message
 * Reference describes them (FortiOS 5.6 to 7.x):
 *
 *   date=2019-05-10 time=11:37:47 devname="FG100E" devid="FG100E4Q17000000"
 *   logid="0000000013" type="traffic" subtype="forward" level="notice"
 *   srcip=10.1.100.11 srcport=58012 dstip=203.0.113.35 dstport=80 proto=6
 *   action="close" policyid=1 ...
 *
 * The event time is the firewall's: eventtime= (since the epoch, seconds,
 * microseconds or nanoseconds by magnitude), else date= and time= in the
 * zone of tz= ("+0200"), or without tz= in the context's zone; a value that
 * is no time leaves the syslog header's.
 *
 * The pairs below are mapped to ECS; every other pair is kept under its
 * own key (as the kv decoder keeps them: msg, service, catdesc, ...; up to
 * 128 of them):
 *   all types: observer.vendor "Fortinet", observer.product "FortiGate",
 *     observer.name (devname), observer.serial_number (devid), event.code
 *     (logid), log.level (level), event.dataset (fortigate.traffic,
 *     fortigate.utm, fortigate.event; fortigate.other for other types);
 *   addresses: source.ip/port (srcip/srcport, or remip for VPN events),
 *     destination.ip/port (dstip/dstport), network.transport (proto
 *     6/17/1/58 as tcp/udp/icmp/ipv6-icmp), observer.ingress.interface.name
 *     (srcintf), observer.egress.interface.name (dstintf), source.nat.ip
 *     and source.nat.port (transip/transport), source.bytes (sentbyte),
 *     destination.bytes (rcvdbyte);
 *   rule.id (policyid; attackid for ips), rule.name (policyname; the
 *     virus name for virus, the attack name for ips), user.name (user),
 *     network.application (app), url.domain (hostname), url.original
 *     (url), file.name (filename), event.severity (severity),
 *     event.action (action), event.reason (reason, or logdesc);
 *   event.outcome and event.type: "failure"/"denied" for the actions deny,
 *     block, blocked, dropped, reset and those ending "-fail", or status
 *     failed/failure; "success"/"allowed" for accept, allow, pass,
 *     passthrough, close, timeout, client-rst, server-rst, or status
 *     success; event.type only for traffic and utm;
 *   event.category: network (traffic), intrusion_detection (ips), malware
 *     (virus), web (webfilter), authentication (event logs of logins and
 *     VPN tunnels: action "login", "logout", "ssl-login-fail", ...,
 *     subtype "vpn" or "user").
 * Quoted values are views of the bytes between the quotes (FortiOS does
 * not escape).  ev->decoder is set to "fortigate".
 */
#ifndef HIKESHI_DECODE_DECODE_FORTIGATE_H
#define HIKESHI_DECODE_DECODE_FORTIGATE_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT unless the record holds the
 * pairs logid= and type= with values (FortiOS writes both in every log); -EINVAL when
 * a quoted value is not closed, or srcip/dstip/remip is not an address or
 * srcport/dstport not a port.  `ctx` is unused.
 */
int decode_fortigate(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr);

#endif
