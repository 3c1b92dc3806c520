/*
 * decode_mail.h - the mail servers' authentication and connection messages
 * (the syslog MSG part, chosen by the program's tag): Postfix smtpd, the
 * Dovecot IMAP/POP3 login and auth processes, Exim.  Written from each
 * project's documented log lines (Postfix's DEBUG_README and smtpd(8)
 * messages, Dovecot's login/auth process logging, Exim's mainlog chapter).
 *
 * Common fields (decode_svc.h): event.module (postfix, dovecot, exim),
 * event.dataset (MODULE.log), event.action, event.category
 * ("authentication" for logins, "network" for connections, "email" for
 * refused mail), event.outcome, user.name, source.ip, source.port,
 * source.domain, destination.ip, destination.port, event.reason.
 *
 * postfix (ev->decoder "postfix"):
 *   "warning: NAME[IP]: SASL METHOD authentication failed: REASON"
 *       sasl_auth_failure, failure; postfix.sasl_method; user.name from a
 *       "sasl_username=" in the reason (Postfix 3.x);
 *   "QUEUEID: client=NAME[IP], sasl_method=M, sasl_username=U"
 *       sasl_login, success (without sasl_username: smtp_client, no outcome);
 *   "connect from NAME[IP]", "disconnect from NAME[IP] ..." smtp_connect,
 *       smtp_disconnect;  "lost connection after CMD from NAME[IP]"
 *       smtp_lost_connection (reason "after CMD");
 *   "NOQUEUE: reject: CMD from NAME[IP]: CODE ...; from=<a> to=<b> ..."
 *       smtp_reject, failure, event.type denied; email.from.address,
 *       email.to.address.
 *   NAME is source.domain unless "unknown"; "[IP]:PORT" gives source.port.
 * dovecot (ev->decoder "dovecot"):
 *   "SVC-login: Login: user=<u>, method=M, rip=IP, lip=IP, ..." login, success;
 *   "SVC-login: Aborted login|Disconnected[: ...] (auth failed, N attempts
 *       in S secs): user=<u>, ..." auth_failure, failure, dovecot.attempts;
 *       other reasons in the parentheses: login_aborted, reason;
 *   "auth[-worker(N)]: [Info: ]DRIVER(user,IP[,<session>]): TEXT" with TEXT
 *       saying unknown user, a password mismatch or a failure:
 *       auth_failure, failure, reason TEXT.
 *   dovecot.service is the login service (imap, pop3, ...).
 * exim (ev->decoder "exim"), with or without its own "YYYY-MM-DD HH:MM:SS
 *   [pid] " prefix (then the event time) and message id:
 *   "NAME authenticator failed for [H=][host ][(helo) ][IP]:PORT: 535 ...
 *       (set_id=USER)" auth_failure, failure, exim.authenticator;
 *   "<= SENDER H=... [IP] ... A=AUTH:USER ..." login, success;
 *   "H=... [IP] ... rejected RCPT|MAIL|connection ...: REASON" smtp_reject,
 *       failure, event.type denied.
 */
#ifndef HIKESHI_DECODE_DECODE_MAIL_H
#define HIKESHI_DECODE_DECODE_MAIL_H

#include <stddef.h>

#include "decode/decode.h"

/* decode_fns (see decode.h) for one message of each product.  Each returns
 * -ENOENT for a message of a shape it does not know, and never -EINVAL: a
 * known shape whose address does not parse keeps the rest. */
int decode_postfix(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr);
int decode_dovecot(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr);
int decode_exim(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr);

#endif
