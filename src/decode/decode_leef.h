/*
 * decode_leef.h - IBM QRadar Log Event Extended Format.
 *
 *   LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value...
 *   LEEF:2.0|Vendor|Product|Version|EventID|Delim|key=value<Delim>...
 *
 * The 2.0 delimiter is one character or its hex form (x09, 0x09, ^ written
 * as itself).  Some senders (Trend Micro Deep Security) write "LEEF:2.0"
 * with no delimiter field; when the sixth field already holds key=value it
 * is taken as the first attribute and TAB as the delimiter.  Anything before
 * "LEEF:" (a syslog header) is skipped.  A value runs to the next delimiter
 * and may hold '='; a token without '=' is ignored.
 *
 * Fields set: observer.vendor, observer.product, observer.version,
 * event.code (EventID), leef.version, one leef.KEY per attribute, and the
 * ECS aliases src -> source.ip, dst -> destination.ip, srcPort ->
 * source.port, dstPort -> destination.port, usrName -> user.name, proto ->
 * network.transport (lowercased; 6/17/1 become tcp/udp/icmp), sev ->
 * event.severity.  cat stays leef.cat only (its meaning is per vendor).
 * devTime sets the event time; whatever devTimeFormat says, the forms tried
 * are epoch milliseconds, "MMM dd yyyy HH:mm:ss" and ISO 8601, which cover
 * the formats QRadar documents.  ev->decoder is set to "leef".
 */
#ifndef HIKESHI_DECODE_DECODE_LEEF_H
#define HIKESHI_DECODE_DECODE_LEEF_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT when the record holds no
 * "LEEF:"; -EINVAL for an unknown version, fewer than five header fields
 * after it, or a 2.0 delimiter that is neither one character nor a hex
 * byte.
 */
int decode_leef(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr);

#endif
