/*
 * decode_squid.h - Squid's native access.log format ("squid" logformat):
 *
 *   time elapsed client code/status bytes method URL user hierarchy/peer type
 *   1461576382.642    161 127.0.0.1 TCP_MISS/200 103701 GET http://www.cnn.com/
 *       - DIRECT/199.27.79.73 text/html        (one line)
 *
 * The input is the line (from a file) or the syslog message (Squid's
 * access_log syslog: module).  Fields: @timestamp from the epoch time,
 * source.ip (or source.domain when Squid logs client names), event.action
 * (the result code, lowercased), http.response.status_code,
 * http.response.bytes, http.request.method, url.original with url.scheme,
 * url.domain, url.port, url.path, url.query, user.name, destination.ip (or
 * destination.domain) from the hierarchy field's peer,
 * http.response.mime_type, event.duration (ns), squid.hierarchy_code,
 * event.outcome (failure for TCP_DENIED and other *_DENIED codes and for
 * statuses from 400 on), event.dataset squid.access.
 */
#ifndef HIKESHI_DECODE_DECODE_SQUID_H
#define HIKESHI_DECODE_DECODE_SQUID_H

#include "decode/decode.h"

int decode_squid(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr);

#endif
