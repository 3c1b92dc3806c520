/*
 * decode_checkpoint.h - Check Point Log Exporter, "syslog" format: an RFC
 * 5424 (or RFC 3164) header followed by Check Point's own bracketed list
 * of key:"value" pairs separated by "; ", which is not RFC 5424 structured
 * data (no SD-ID, ':' for '='), so the RFC 5424 decoder refuses it:
 *
 *   <134>1 2023-03-01T10:00:00Z gw-01 CheckPoint 26203 - [action:"Drop";
 *   ifdir:"inbound"; ifname:"eth1"; origin:"192.0.2.1"; product:"VPN-1 &
 *   FireWall-1"; proto:"6"; s_port:"40000"; service:"22"; src:"198.51.100.7";
 *   dst:"192.0.2.10"; rule_name:"Cleanup rule"]
 *
 * (Check Point's Log Exporter "cef" format is read by the CEF decoder: its
 * src, dst, spt, dpt, proto, act, suser and duser get their ECS names
 * there, and Check Point's other fields stay as cef.KEY; see
 * docs/decoders.md.)
 *
 * Fields set: the header's (as decode_rfc5424 or decode_rfc3164 gives
 * them, when the decoder is handed the whole record); observer.vendor
 * "Check Point", observer.product (product, else "Check Point"),
 * event.dataset "checkpoint.log"; source.ip (src), destination.ip (dst),
 * source.port (s_port), destination.port (service, when a port number),
 * network.transport (proto 6/17/1/58 by name), event.action (action as
 * written), event.outcome and event.type ("success"/"allowed" for Accept,
 * Allow, Encrypt, Decrypt, Log In; "failure"/"denied" for Drop, Reject,
 * Block, Prevent, Failed Log In), event.category (authentication for the
 * Log In actions, network otherwise), rule.name (rule_name), rule.id
 * (rule_uid), network.direction (ifdir), the interface (ifname) as ingress
 * or egress by ifdir, observer.ingress.zone/egress.zone (inzone/outzone),
 * observer.ip (origin), user.name (src_user_name, else user),
 * source.nat.ip/port and destination.nat.ip/port (xlatesrc, xlatesport,
 * xlatedst, xlatedport; unless 0.0.0.0 / 0), event.reason (reason); every
 * other pair as checkpoint.KEY.  Values are views unless they hold \"
 * escapes.  ev->decoder is set to "checkpoint".
 */
#ifndef HIKESHI_DECODE_DECODE_CHECKPOINT_H
#define HIKESHI_DECODE_DECODE_CHECKPOINT_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h), for the whole record (header included) or
 * its message part alone (starting at '[').  Returns -ENOENT unless a '['
 * within the first 512 bytes opens a key:"value" list; -EINVAL when the
 * header before it is not a syslog header, a value's quote is not closed,
 * or src/dst is not an address.  `ctx` is passed to the header decoder.
 */
int decode_checkpoint(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr);

#endif
