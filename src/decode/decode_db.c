/*
 * decode_db.c - MySQL/MariaDB and PostgreSQL authentication messages (see
 * decode_db.h).
 *
 * Both servers write the interesting text after a prefix whose shape the
 * site chooses (MySQL's error-log format, PostgreSQL's log_line_prefix), so
 * each looks for its message's own words within the line rather than
 * parsing the prefix.  Every value is a view into the message.
 */
#include "decode/decode_db.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_svc.h"
#include "decode/decode_text.h"
#include "event/event.h"

/* How far into a line the message may start: prefixes are short. */
#define DB_PREFIX_MAX 200

static int emit(struct event *ev, const struct decode_svc *svc, const char *decoder)
{
    int r = decode_svc_emit(ev, svc);

    if (r == 0)
        ev->decoder = decoder;
    return r;
}

/* HOST is an address (source.ip) or a name (source.domain). */
static void host(struct decode_svc *svc, struct decode_span h)
{
    if (decode_util_is_ip(h.p, h.n))
        svc->source_ip = h;
    else
        svc->source_domain = h;
}

/* The literal's offset if it starts within DB_PREFIX_MAX bytes, else -1. */
static long find_early(struct decode_span m, const char *lit, size_t n)
{
    struct decode_span head = m;

    if (head.n > DB_PREFIX_MAX + n)
        head.n = DB_PREFIX_MAX + n;
    return text_find(head, lit, n);
}

/* What follows the literal when it starts within DB_PREFIX_MAX bytes;
 * *ret_off gets its offset.  An empty span when absent. */
static struct decode_span after_early(struct decode_span m, const char *lit, size_t n,
                                      long *ret_off)
{
    long f = find_early(m, lit, n);

    *ret_off = f;
    return f < 0 ? (struct decode_span){NULL, 0} : text_skip(m, (size_t)f + n);
}

/* ---------------------------------------------------------------- MySQL */

int decode_mysql(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr)
{
    struct decode_span m = {p, len}, rest, pw = {NULL, 0};
    struct decode_svc svc;
    long f;
    int r;

    (void)ctx;
    (void)reterr;
    memset(&svc, 0, sizeof(svc));
    svc.module = "mysql";
    svc.dataset = "mysql.log";
    if ((rest = after_early(m, TEXT_LIT("Access denied for user '"), &f)).p) {
        /* 'U'@'HOST': a user name may hold a quote only escaped, so the
         * "'@'" is the separator */
        svc.user = text_before(rest, TEXT_LIT("'@'"));
        if (svc.user.n == rest.n)
            return -ENOENT;
        rest = text_skip(rest, svc.user.n + 3);
        host(&svc, text_upto(rest, "'"));
        svc.action = "auth_failure";
        svc.category = "authentication";
        svc.outcome = "failure";
        svc.reason = decode_util_cstr("Access denied");
        pw = text_upto(text_after(rest, TEXT_LIT("(using password: ")), ")");
    } else if ((f = find_early(m, TEXT_LIT("Aborted connection "))) >= 0) {
        rest = text_skip(m, (size_t)f);
        svc.user = text_between(rest, TEXT_LIT(" user: '"), '\'');
        host(&svc, text_between(rest, TEXT_LIT(" host: '"), '\''));
        svc.reason = text_between(rest, TEXT_LIT("' ("), ')');
        if (!svc.user.p && !svc.source_ip.p && !svc.source_domain.p)
            return -ENOENT;
        svc.action = "connection_aborted";
        svc.category = "network";
    } else {
        return -ENOENT;
    }
    if ((r = emit(ev, &svc, "mysql")) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("mysql.using_password"), pw)) < 0)
        return r;
    return 0;
}

/* ----------------------------------------------------------- PostgreSQL */

int decode_postgres(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                    struct parse_err *reterr)
{
    struct decode_span m = {p, len}, msg, v;
    struct decode_svc svc;
    long f;

    (void)ctx;
    (void)reterr;
    memset(&svc, 0, sizeof(svc));
    svc.module = "postgresql";
    svc.dataset = "postgresql.log";
    if ((msg = after_early(m, TEXT_LIT("FATAL:  "), &f)).p) {
        if ((v = text_after(msg, TEXT_LIT("password authentication failed for user \""))).p &&
            v.p - msg.p == (long)sizeof("password authentication failed for user \"") - 1) {
            svc.user = text_upto(v, "\"");
        } else if (text_starts(msg, TEXT_LIT("role \"")) &&
                   text_find(msg, TEXT_LIT("\" does not exist")) >= 0) {
            svc.user = text_upto(text_skip(msg, sizeof("role \"") - 1), "\"");
        } else if ((v = text_after(msg, TEXT_LIT("no pg_hba.conf entry for host \""))).p &&
                   v.p - msg.p == (long)sizeof("no pg_hba.conf entry for host \"") - 1) {
            host(&svc, text_upto(v, "\""));
            svc.user = text_between(msg, TEXT_LIT(", user \""), '"');
        } else {
            return -ENOENT;
        }
        svc.action = "auth_failure";
        svc.category = "authentication";
        svc.outcome = "failure";
        svc.reason = msg;
    } else if ((msg = after_early(m, TEXT_LIT("LOG:  connection authorized: "), &f)).p) {
        svc.user = text_upto(text_after(msg, TEXT_LIT("user=")), " ");
        if (!svc.user.n)
            return -ENOENT;
        svc.action = "login";
        svc.category = "authentication";
        svc.outcome = "success";
    } else if ((msg = after_early(m, TEXT_LIT("LOG:  connection received: host="), &f)).p) {
        v = text_upto(msg, " ");
        host(&svc, v);
        svc.source_port = text_upto(text_after(msg, TEXT_LIT(" port=")), " ");
        svc.action = "connection_received";
        svc.category = "network";
        svc.type = "start";
    } else {
        return -ENOENT;
    }
    /* a log_line_prefix with %h writes "host=IP" or the bare address */
    if (!svc.source_ip.p) {
        v = text_upto(text_after((struct decode_span){m.p, (size_t)f}, TEXT_LIT("host=")), " ");
        if (decode_util_is_ip(v.p, v.n))
            svc.source_ip = v;
    }
    return emit(ev, &svc, "postgres");
}
