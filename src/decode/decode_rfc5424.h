/*
 * decode_rfc5424.h - RFC 5424 syslog.
 *
 *   <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
 *   STRUCTURED-DATA [SP MSG]
 * with "-" (NILVALUE) allowed for every header field and for the structured
 * data, which is otherwise one or more [SD-ID PARAM="VALUE" ...] elements.
 *
 * Fields set:
 *   log.syslog.priority, log.syslog.facility.code, log.syslog.severity.code;
 *   log.syslog.version;
 *   @timestamp, event.original_time    unless TIMESTAMP is "-";
 *   host.name                          unless "-";
 *   log.syslog.appname, process.name   APP-NAME, unless "-";
 *   log.syslog.procid                  PROCID, unless "-";
 *   process.pid                        PROCID when it is a 32-bit decimal;
 *   log.syslog.msgid                   unless "-";
 *   log.syslog.structured_data.<SD-ID>.<PARAM-NAME>  one per parameter, the
 *                                      value unescaped (\" \\ \]) into the
 *                                      arena when it held an escape, a view
 *                                      otherwise;
 *   message                            the MSG, a UTF-8 BOM removed, when
 *                                      not empty.
 * ev->msg/ev->msg_len are set to the MSG (BOM removed); ev->decoder to
 * "rfc5424".
 */
#ifndef HIKESHI_DECODE_DECODE_RFC5424_H
#define HIKESHI_DECODE_DECODE_RFC5424_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT unless the record starts with
 * "<digits>" followed by a version number and a space (an RFC 3164 record is
 * not this format); -EINVAL for a PRI out of 0..191, a bad timestamp, a
 * missing or empty header field, or broken structured data.  `ctx` may be
 * NULL (timestamps without a zone are then UTC).
 */
int decode_rfc5424(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr);

#endif
