/*
 * decode_ftp.h - FTP servers' login messages (the syslog MSG part, or a
 * line of the server's own log): vsftpd and ProFTPD.  Written from their
 * documented log lines (vsftpd's vsftpd.log with log_ftp_protocol off and
 * its syslog_enable form; ProFTPD's auth messages in mod_auth).
 *
 * vsftpd (ev->decoder "vsftpd"), optionally behind vsftpd.log's
 *   "Www Mmm dd hh:mm:ss yyyy [pid N] ":
 *   "[U] FAIL LOGIN: Client "IP"" auth_failure, failure;
 *   "[U] OK LOGIN: Client "IP"[, anon password "..."]" login, success;
 *   "CONNECT: Client "IP"" connection (network).
 *   An IPv4-mapped "::ffff:a.b.c.d" client is given as a.b.c.d.
 * proftpd (ev->decoder "proftpd"): "HOST (RHOST[IP]) - TEXT" with TEXT
 *   "USER U (Login failed): REASON", "USER U: no such user found from ...",
 *   "Maximum login attempts (N) exceeded, connection refused"
 *       auth_failure, failure (reason);
 *   "USER U: Login successful." login, success.
 * Common fields (decode_svc.h): event.module (vsftpd, proftpd),
 * event.dataset (MODULE.log), event.action, event.category,
 * event.outcome, user.name, source.ip, source.domain (proftpd's RHOST when
 * not the address), event.reason.
 */
#ifndef HIKESHI_DECODE_DECODE_FTP_H
#define HIKESHI_DECODE_DECODE_FTP_H

#include <stddef.h>

#include "decode/decode.h"

/* decode_fns (see decode.h) for one message; -ENOENT for a shape they do
 * not know, never -EINVAL. */
int decode_vsftpd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr);
int decode_proftpd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr);

#endif
