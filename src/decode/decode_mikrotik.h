/*
 * decode_mikrotik.h - MikroTik RouterOS firewall log lines (a rule with
 * action=log or log=yes; the syslog MSG part), as RouterOS 6 and 7 write
 * them:
 *
 *   [PREFIX ]CHAIN: in:IFACE out:IFACE, [connection-state:STATE ]src-mac MAC,
 *   proto PROTO[ (FLAGS | type T, code C)], SRC[:PORT]->DST[:PORT],
 *   [NAT (...)->(...), ]len N
 *
 * with "out:(unknown 0)" when there is no output interface and IPv6
 * addresses in brackets when a port follows ("[2001:db8::1]:5678").  A
 * leading topics word ("firewall,info"), when the syslog header left it in
 * the message, is skipped.
 *
 * Fields set: observer.vendor "MikroTik", observer.product "RouterOS",
 * event.dataset "mikrotik.firewall", event.category "network",
 * mikrotik.chain (input, forward, output, or a custom chain), rule.name (the
 * log prefix, when there is one), event.outcome and event.type from the
 * prefix ("failure"/"denied" when it holds DROP, REJECT, BLOCK, DENY or
 * TARPIT, "success"/"allowed" for ACCEPT or ALLOW; case-insensitive),
 * observer.ingress.interface.name, observer.egress.interface.name (unless
 * "(unknown 0)"), mikrotik.connection_state, source.mac,
 * network.transport (lowercased), tcp.flags ("SYN", "ACK,PSH", ...),
 * icmp.type and icmp.code, source.ip, source.port, destination.ip,
 * destination.port, source.bytes (len).  ev->decoder is set to "mikrotik".
 */
#ifndef HIKESHI_DECODE_DECODE_MIKROTIK_H
#define HIKESHI_DECODE_DECODE_MIKROTIK_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT unless the message holds
 * "CHAIN: in:" followed by " out:" and a "->" between addresses; -EINVAL
 * when an address is not one or a port not a port.  `ctx` is unused.
 */
int decode_mikrotik(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                    struct parse_err *reterr);

#endif
