/*
 * decode_rfc3164.h - BSD syslog (RFC 3164 and what real senders make of it).
 *
 * Accepted shapes, with or without a leading "<PRI>":
 *   Mmm dd hh:mm:ss HOST TAG[PID]: MSG    (files under /var/log, relays)
 *   Mmm dd hh:mm:ss TAG[PID]: MSG         (util-linux logger to /dev/log)
 *   Mmm dd yyyy hh:mm:ss[.frac] ...        (devices that add the year)
 *   YYYY-MM-DDThh:mm:ss[.frac][zone] ...   (rsyslog's precise template)
 *   <PRI>MSG                               (no timestamp: RFC 3164 4.3.2,
 *                                           the whole rest is the MSG)
 * TAG may be odd: "sshd(pam_unix)[19939]:", "syslogd 1.4.1:", "%ASA-6-302013:".
 *
 * Fields set:
 *   log.syslog.priority, log.syslog.facility.code, log.syslog.severity.code
 *                        when a PRI is present;
 *   @timestamp, event.original_time   via event_set_time() (year inferred
 *                        from ctx->prev_us and ctx->ref_us, local time in
 *                        ctx->tz when the timestamp has no zone; a time in
 *                        the message's own content wins, see decode.h);
 *   host.name            when a hostname is present;
 *   log.syslog.appname   the full tag name without the pid ("sshd(pam_unix)");
 *   process.name         the program: the tag cut at '(' ("sshd");
 *   process.pid          when the [PID] is a decimal that fits 32 bits;
 *   message              a view of the MSG (may be empty).
 * ev->msg/ev->msg_len are set to the MSG; ev->decoder to "rfc3164".
 */
#ifndef HIKESHI_DECODE_DECODE_RFC3164_H
#define HIKESHI_DECODE_DECODE_RFC3164_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT when the record has neither a
 * PRI nor a leading timestamp, -EINVAL for a bad PRI ("<999>", "<x>"), a PRI
 * with nothing after it, a timestamp with no hostname or tag after it, or
 * control characters in the hostname.  `ctx` may be NULL (UTC, reference
 * time ev->recv_us).
 */
int decode_rfc3164(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr);

#endif
