/*
 * decode_db.h - database servers' authentication failures and logins (the
 * syslog MSG part, or a line of the server's own error log): MySQL and
 * MariaDB, PostgreSQL.  Written from the servers' documented messages
 * (MySQL's ER_ACCESS_DENIED_ERROR text and error-log format, PostgreSQL's
 * client authentication messages and log_line_prefix).
 *
 * mysql (ev->decoder "mysql"), behind an optional error-log prefix
 *   ("2024-01-08T10:00:00.123456Z 12 [Note] [MY-010926] [Server] ",
 *   "240108 10:00:00 [Warning] ", "[Warning] "):
 *   "Access denied for user 'U'@'HOST' (using password: YES|NO)"
 *       auth_failure, failure; mysql.using_password;
 *   "Aborted connection N to db: 'D' user: 'U' host: 'HOST' (REASON)"
 *       connection_aborted (network), reason.
 * postgres (ev->decoder "postgres"), behind any log_line_prefix (the
 *   severity word is the anchor):
 *   "FATAL:  password authentication failed for user "U""
 *   "FATAL:  role "U" does not exist"
 *   "FATAL:  no pg_hba.conf entry for host "IP", user "U", database "D"..."
 *       auth_failure, failure (reason: the message);
 *   "LOG:  connection authorized: user=U database=D ..." login, success;
 *   "LOG:  connection received: host=IP port=P" connection_received.
 *   An address in the prefix as "host=IP" or in the hba message gives
 *   source.ip.
 * Common fields (decode_svc.h): event.module (mysql, postgresql),
 * event.dataset (MODULE.log), event.action, event.category, event.outcome,
 * user.name, source.ip (HOST when an address; source.domain otherwise),
 * source.port, event.reason.
 */
#ifndef HIKESHI_DECODE_DECODE_DB_H
#define HIKESHI_DECODE_DECODE_DB_H

#include <stddef.h>

#include "decode/decode.h"

/* decode_fns (see decode.h) for one message; -ENOENT for a shape they do
 * not know, never -EINVAL. */
int decode_mysql(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr);
int decode_postgres(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                    struct parse_err *reterr);

#endif
