/*
 * decode_clamav.h - ClamAV detections: clamd's and clamonacc's log lines
 * (through syslog or clamd.log), clamscan's report lines and clamav-milter's
 * infected-message lines.  Written from ClamAV's documented output (the
 * clamd, clamscan and clamav-milter manuals and their log messages).
 *
 *   [Www Mmm dd hh:mm:ss yyyy -> ]PATH: SIGNATURE[(MD5:SIZE)] FOUND
 *       PATH may hold ": " itself: the signature is what follows the last
 *       ": " before " FOUND".  PATH is "instream(IP@PORT)" or "fd[N]" for
 *       a stream scan (source.ip from the instream client when an
 *       address); ExtendedDetectionInfo adds "(MD5:SIZE)".
 *   Message QUEUEID from <A> to <B> with subject 'S' ... infected by SIG
 *       (clamav-milter).
 *
 * Fields: event.module "clamav", event.dataset "clamav.log", event.kind
 * "alert", event.category "malware", event.type "info", event.action
 * "malware_detected", clamav.signature and rule.name (the signature; the
 * Sigma antivirus rules' Signature maps to it, rules/config/fields.yaml),
 * file.path (not for stream scans), file.hash.md5 and file.size,
 * email.from.address, email.to.address, email.subject (milter).
 * ev->decoder is set to "clamav".
 */
#ifndef HIKESHI_DECODE_DECODE_CLAMAV_H
#define HIKESHI_DECODE_DECODE_CLAMAV_H

#include <stddef.h>

#include "decode/decode.h"

/* A decode_fn (see decode.h) for one ClamAV message: -ENOENT for anything
 * but a detection (OK lines, summaries, freshclam), never -EINVAL. */
int decode_clamav(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr);

#endif
