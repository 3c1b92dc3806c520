/*
 * decode_web.h - web server logs: access (Apache/nginx) and error.
 *
 * Access, NCSA common and combined, optionally prefixed by a virtual host
 * ("%v" or "%v:%p"), and tolerant of extra fields after the user agent:
 *   [vhost ]client ident authuser [dd/Mmm/yyyy:hh:mm:ss +zzzz] "request" status bytes
 *       ["referrer" "user agent"]
 * Fields: source.ip (the client; a name when HostnameLookups is on goes to
 * source.domain), user.name (authuser unless "-"), @timestamp,
 * http.request.method, url.original (the request target), url.path,
 * url.query, http.version ("1.1"), http.response.status_code,
 * http.response.body.bytes (unless "-"), http.request.referrer and
 * user_agent.original (unless "-"), url.domain (the vhost),
 * event.category "web", event.dataset "web.access" (Apache and nginx
 * write the same format and cannot be told apart).  Quoted strings are
 * unescaped for \" and \\ only; \xHH stays as written.  A request line that
 * is not "METHOD target[ HTTP/x.y]" (TLS handshakes sent to a plain HTTP
 * port, scanner junk) is kept whole in url.original with
 * http.request.malformed "true".  The target (or that whole line) also
 * gets url.normalized, url.query_normalized and url.evasion, the
 * normalised view of decode_url.h, with \xHH read as the byte it stands
 * for.  ev->decoder is "web-access".
 *
 * Error, three forms:
 *   [Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] message        (Apache 2.2)
 *   [Sun Dec 04 04:47:44.123456 2005] [core:error] [pid 123:tid 456]
 *       [client 1.2.3.4:5678] AH00126: message                          (Apache 2.4)
 *   2024/01/02 03:04:05 [error] 123#0: *1 message, client: 1.2.3.4, ...  (nginx)
 * Fields: @timestamp (zone from ctx), log.level, process.pid,
 * source.ip and source.port (the client), message (the rest),
 * apache.error.module (2.4), error.code (the AHnnnnn code), and
 * event.dataset "web.error".  ev->decoder is "web-error".
 */
#ifndef HIKESHI_DECODE_DECODE_WEB_H
#define HIKESHI_DECODE_DECODE_WEB_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h) for access logs.  Returns -ENOENT unless the
 * record has 3 or 4 words and then a CLF timestamp in brackets; -EINVAL
 * when the timestamp is followed by no quoted request, an unterminated
 * quote, or a status that is not three digits.  `ctx` is unused.
 */
int decode_web_access(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr);

/*
 * A decode_fn (see decode.h) for error logs.  Returns -ENOENT unless the
 * record starts with a bracketed ctime timestamp followed by a bracketed
 * level, or with an nginx "yyyy/mm/dd hh:mm:ss [level]" prefix; -EINVAL
 * when a bracket is not closed.  `ctx` supplies the zone (error logs write
 * local time without a zone).
 */
int decode_web_error(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr);

#endif
