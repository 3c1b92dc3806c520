/*
 * decode_cef.h - ArcSight Common Event Format.
 *
 *   [syslog prefix ]CEF:Version|Vendor|Product|DevVersion|SignatureID|Name|Severity|Extension
 *
 * The record may carry anything before "CEF:" (a syslog header, a bare
 * timestamp); decoding starts at the first "CEF:".  Header fields use the
 * escapes \| and \\; extension values use \=, \\, \n and \r (other
 * backslashes are kept as written, as devices are careless about them).  An
 * extension value runs until the next " key=", so values may hold spaces,
 * and an '=' not preceded by " key" stays in the value (URLs).
 *
 * Fields set: cef.version, observer.vendor, observer.product,
 * observer.version, rule.id (signature id), rule.name, event.severity (as
 * written: a number or Low/Medium/High/Very-High), one field cef.KEY per
 * extension (empty values included), and for non-empty values the ECS
 * aliases src -> source.ip, dst -> destination.ip, spt -> source.port,
 * dpt -> destination.port, suser -> source.user.name, duser -> user.name,
 * shost -> source.domain, dhost -> destination.domain, proto ->
 * network.transport (lowercased; 6/17/1 become tcp/udp/icmp), request ->
 * url.original, requestMethod -> http.request.method, act -> event.action,
 * msg -> message.  rt (epoch milliseconds or "MMM dd yyyy HH:mm:ss") sets
 * the event time; without rt, a timestamp at the very start of the prefix
 * (ISO 8601, or RFC 3164 after an optional <PRI>) is used.  ev->decoder is
 * set to "cef".
 */
#ifndef HIKESHI_DECODE_DECODE_CEF_H
#define HIKESHI_DECODE_DECODE_CEF_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT when the record holds no
 * "CEF:"; -EINVAL when the version is not a number, the header has fewer
 * than seven '|'-separated fields, or the extension does not start with
 * key=.
 */
int decode_cef(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
               struct parse_err *reterr);

#endif
