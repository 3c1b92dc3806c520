/*
 * decode_mail.c - Postfix, Dovecot and Exim authentication and connection
 * messages (see decode_mail.h for the shapes and fields).
 *
 * Three products, one file: they share the client notation helpers and the
 * field set, and each is chosen by its own syslog tag.  Every value is a
 * view into the message; nothing is copied.
 */
#include "decode/decode_mail.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_svc.h"
#include "decode/decode_text.h"
#include "event/event.h"
#include "event/time.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits at the start of s. */
static struct decode_span digits(struct decode_span s)
{
    size_t k = 0;

    while (k < s.n && is_digit(s.p[k]))
        k++;
    s.n = k;
    return s;
}

/*
 * "NAME[IP]" or "NAME[IP]:PORT" at the start of s (Postfix's and Exim's
 * client notation): the address, the port and the name unless "unknown"
 * go to `svc`, *ret_rest gets what follows.  Returns 0 when s does not
 * start so.
 */
static int client(struct decode_span s, struct decode_svc *svc, struct decode_span *ret_rest)
{
    struct decode_span name = text_upto(s, "[ ,");
    struct decode_span ip;
    size_t after;

    if (name.n >= s.n || s.p[name.n] != '[')
        return 0;
    ip = text_upto(text_skip(s, name.n + 1), "]");
    after = name.n + 1 + ip.n;
    if (after >= s.n)
        return 0;
    after++;
    svc->source_ip = ip;
    if (name.n && !(name.n == 7 && memcmp(name.p, "unknown", 7) == 0))
        svc->source_domain = name;
    if (after + 1 < s.n && s.p[after] == ':' && is_digit(s.p[after + 1])) {
        svc->source_port = digits(text_skip(s, after + 1));
        after += 1 + svc->source_port.n;
    }
    *ret_rest = text_skip(s, after);
    return 1;
}

static int emit(struct event *ev, const struct decode_svc *svc, const char *decoder)
{
    int r = decode_svc_emit(ev, svc);

    if (r == 0)
        ev->decoder = decoder;
    return r;
}

/* ------------------------------------------------------------- Postfix */

static void postfix_init(struct decode_svc *svc)
{
    memset(svc, 0, sizeof(*svc));
    svc->module = "postfix";
    svc->dataset = "postfix.log";
}

/* "NOQUEUE: reject: RCPT from NAME[IP]: 554 5.7.1 <x>: Relay access denied;
 * from=<a> to=<b> proto=ESMTP helo=<h>" (or a queue id for NOQUEUE). */
static int postfix_reject(struct event *ev, struct decode_span m)
{
    struct decode_svc svc;
    struct decode_span rest, from, to;
    int r;

    postfix_init(&svc);
    m = text_after(m, TEXT_LIT(" from "));
    if (!m.p || !client(m, &svc, &rest) || !text_starts(rest, TEXT_LIT(": ")))
        return -ENOENT;
    rest = text_skip(rest, 2);
    svc.action = "smtp_reject";
    svc.category = "email";
    svc.type = "denied";
    svc.outcome = "failure";
    svc.reason = text_before(rest, TEXT_LIT("; from=<"));
    from = text_between(rest, TEXT_LIT(" from=<"), '>');
    to = text_between(rest, TEXT_LIT(" to=<"), '>');
    if ((r = emit(ev, &svc, "postfix")) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("email.from.address"), from)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("email.to.address"), to)) < 0)
        return r;
    return 0;
}

int decode_postfix(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr)
{
    struct decode_span m = {p, len}, rest, method = {NULL, 0};
    struct decode_svc svc;
    long f;
    int r;

    (void)ctx;
    (void)reterr;
    postfix_init(&svc);
    if (text_starts(m, TEXT_LIT("warning: "))) {
        /* "warning: NAME[IP]: SASL LOGIN authentication failed: REASON" */
        if (!client(text_skip(m, 9), &svc, &rest) || !text_starts(rest, TEXT_LIT(": SASL ")))
            return -ENOENT;
        rest = text_skip(rest, 7);
        method = text_upto(rest, " ");
        rest = text_skip(rest, method.n);
        if (!text_starts(rest, TEXT_LIT(" authentication failed")))
            return -ENOENT;
        rest = text_skip(rest, 22);
        svc.action = "sasl_auth_failure";
        svc.category = "authentication";
        svc.outcome = "failure";
        if (text_starts(rest, TEXT_LIT(": ")))
            svc.reason = text_skip(rest, 2);
        svc.user = text_upto(text_after(rest, TEXT_LIT("sasl_username=")), ", ");
    } else if (text_starts(m, TEXT_LIT("connect from "))) {
        if (!client(text_skip(m, 13), &svc, &rest))
            return -ENOENT;
        svc.action = "smtp_connect";
        svc.category = "network";
        svc.type = "start";
    } else if (text_starts(m, TEXT_LIT("disconnect from "))) {
        if (!client(text_skip(m, 16), &svc, &rest))
            return -ENOENT;
        svc.action = "smtp_disconnect";
        svc.category = "network";
        svc.type = "end";
    } else if (text_starts(m, TEXT_LIT("lost connection after "))) {
        struct decode_span after = text_skip(m, 16); /* "after CMD" */
        if ((f = text_find(m, TEXT_LIT(" from "))) < 0 ||
            !client(text_skip(m, (size_t)f + 6), &svc, &rest))
            return -ENOENT;
        svc.action = "smtp_lost_connection";
        svc.category = "network";
        svc.reason = text_before(after, TEXT_LIT(" from "));
    } else if ((f = text_find(m, TEXT_LIT(": reject: "))) >= 0 && f <= 32) {
        return postfix_reject(ev, text_skip(m, (size_t)f + 10));
    } else if ((f = text_find(m, TEXT_LIT(": client="))) >= 0 && f <= 32) {
        /* "0A1B2C3D4E: client=NAME[IP], sasl_method=PLAIN, sasl_username=u" */
        if (!client(text_skip(m, (size_t)f + 9), &svc, &rest))
            return -ENOENT;
        svc.user = text_upto(text_after(rest, TEXT_LIT("sasl_username=")), ", ");
        method = text_upto(text_after(rest, TEXT_LIT("sasl_method=")), ", ");
        svc.action = svc.user.n ? "sasl_login" : "smtp_client";
        if (svc.user.n) {
            svc.category = "authentication";
            svc.outcome = "success";
        }
    } else {
        return -ENOENT;
    }
    if ((r = emit(ev, &svc, "postfix")) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("postfix.sasl_method"), method)) < 0)
        return r;
    return 0;
}

/* ------------------------------------------------------------- Dovecot */

static void dovecot_init(struct decode_svc *svc)
{
    memset(svc, 0, sizeof(*svc));
    svc->module = "dovecot";
    svc->dataset = "dovecot.log";
}

/* A ", "-separated "key=value" of a login line's parameter list. */
static struct decode_span dovecot_param(struct decode_span s, const char *key, size_t n)
{
    struct decode_span v;
    long f = text_find(s, key, n);

    /* at the start, or after ", " (not inside another value) */
    while (f > 0 && !(f >= 2 && s.p[f - 2] == ',' && s.p[f - 1] == ' ')) {
        struct decode_span t = text_skip(s, (size_t)f + 1);
        long g = text_find(t, key, n);
        f = g < 0 ? -1 : f + 1 + g;
    }
    if (f < 0)
        return (struct decode_span){NULL, 0};
    v = text_upto(text_skip(s, (size_t)f + n), ",");
    return v;
}

/* "imap-login: ..." and the other login services. */
static int dovecot_login(struct event *ev, struct decode_span svcname, struct decode_span m)
{
    struct decode_svc svc;
    struct decode_span params = {NULL, 0}, attempts = {NULL, 0};
    int r;

    dovecot_init(&svc);
    if (text_starts(m, TEXT_LIT("Login: "))) {
        params = text_skip(m, 7);
        svc.action = "login";
        svc.category = "authentication";
        svc.outcome = "success";
    } else if (text_starts(m, TEXT_LIT("Aborted login")) ||
               text_starts(m, TEXT_LIT("Disconnected"))) {
        struct decode_span why = text_between(m, TEXT_LIT("("), ')');
        if (!why.p)
            return -ENOENT;
        params = text_after(text_skip(m, (size_t)(why.p - m.p)), TEXT_LIT("): "));
        if (text_starts(why, TEXT_LIT("auth failed, "))) {
            attempts = digits(text_skip(why, 13));
            svc.action = "auth_failure";
            svc.category = "authentication";
            svc.outcome = "failure";
        } else {
            svc.action = "login_aborted";
            svc.category = "network";
            svc.reason = why;
        }
    } else {
        return -ENOENT;
    }
    if (params.p) {
        svc.user = text_between(params, TEXT_LIT("user=<"), '>');
        /* The user name is the client's text: what looks like parameters
         * inside its brackets is not read as such. */
        if (svc.user.p)
            params = text_skip(params, (size_t)(svc.user.p - params.p) + svc.user.n + 1);
        svc.source_ip = dovecot_param(params, TEXT_LIT("rip="));
        svc.dest_ip = dovecot_param(params, TEXT_LIT("lip="));
        svc.source_port = dovecot_param(params, TEXT_LIT("rport="));
        svc.dest_port = dovecot_param(params, TEXT_LIT("lport="));
    }
    if ((r = emit(ev, &svc, "dovecot")) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("dovecot.service"), svcname)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("dovecot.attempts"), attempts)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("dovecot.method"),
                                   params.p ? dovecot_param(params, TEXT_LIT("method="))
                                            : params)) < 0)
        return r;
    return 0;
}

/* "auth: [Info: ]pam(alice,203.0.113.7,<sess>): pam_authenticate() failed: ..." */
static int dovecot_auth(struct event *ev, struct decode_span m)
{
    static const char *const levels[] = {"Info: ", "Debug: ", "Warning: ", "Error: "};
    struct decode_svc svc;
    struct decode_span args, text, driver;
    const char *close;

    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (text_starts(m, levels[i], strlen(levels[i])))
            m = text_skip(m, strlen(levels[i]));
    driver = text_upto(m, "(: ");
    if (!driver.n || driver.n >= m.n || m.p[driver.n] != '(')
        return -ENOENT;
    args = text_skip(m, driver.n + 1);
    if (!(close = memchr(args.p, ')', args.n)) || (size_t)(close - args.p) + 2 >= args.n ||
        close[1] != ':' || close[2] != ' ')
        return -ENOENT;
    text = text_skip(args, (size_t)(close - args.p) + 3);
    args.n = (size_t)(close - args.p);
    if (text_find(text, TEXT_LIT("unknown user")) < 0 && text_find(text, TEXT_LIT("ismatch")) < 0 &&
        text_find(text, TEXT_LIT("failed")) < 0)
        return -ENOENT;
    dovecot_init(&svc);
    svc.action = "auth_failure";
    svc.category = "authentication";
    svc.outcome = "failure";
    svc.reason = text;
    svc.user = text_upto(args, ",");
    svc.source_ip = text_upto(text_skip(args, svc.user.n + 1), ",");
    if (svc.user.n >= args.n)
        svc.source_ip = (struct decode_span){NULL, 0};
    return emit(ev, &svc, "dovecot");
}

int decode_dovecot(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr)
{
    struct decode_span m = {p, len}, svcname;
    long f;

    (void)ctx;
    (void)reterr;
    if (text_starts(m, TEXT_LIT("auth: ")))
        return dovecot_auth(ev, text_skip(m, 6));
    if (text_starts(m, TEXT_LIT("auth-worker("))) {
        struct decode_span rest = text_after(m, TEXT_LIT("): "));
        return rest.p ? dovecot_auth(ev, rest) : -ENOENT;
    }
    /* "imap-login: ", "pop3-login: ", "submission-login: ", ... */
    if ((f = text_find(m, TEXT_LIT("-login: "))) <= 0 || f > 24)
        return -ENOENT;
    svcname.p = p;
    svcname.n = (size_t)f;
    return dovecot_login(ev, svcname, text_skip(m, (size_t)f + 8));
}

/* ---------------------------------------------------------------- Exim */

static void exim_init(struct decode_svc *svc)
{
    memset(svc, 0, sizeof(*svc));
    svc->module = "exim";
    svc->dataset = "exim.log";
}

/* Exim's host notation after "H=" or "failed for ": "[H=]name (helo)
 * [IP]:PORT", any part but the address optional. */
static int exim_host(struct decode_span s, struct decode_svc *svc)
{
    const char *br;

    if (text_starts(s, TEXT_LIT("H=")))
        s = text_skip(s, 2);
    /* the client's own name for itself, "(helo)", may hold a "[literal]" */
    for (int k = 0; k < 2 && s.n && s.p[0] != '['; k++) {
        if (s.p[0] == '(') {
            const char *c = memchr(s.p, ')', s.n);
            if (!c)
                return 0;
            s = text_skip(s, (size_t)(c - s.p) + 1);
        } else {
            struct decode_span name = text_upto(s, " ");
            svc->source_domain = name;
            s = text_skip(s, name.n);
        }
        while (s.n && s.p[0] == ' ')
            s = text_skip(s, 1);
    }
    if (!s.n || s.p[0] != '[' || !(br = memchr(s.p, ']', s.n)))
        return 0;
    svc->source_ip = (struct decode_span){s.p + 1, (size_t)(br - s.p) - 1};
    s = text_skip(s, (size_t)(br - s.p) + 1);
    if (s.n && s.p[0] == ':')
        svc->source_port = digits(text_skip(s, 1));
    return 1;
}

/* Exim's own log files put "YYYY-MM-DD HH:MM:SS[.mmm][ +ZZZZ] [PID] ID "
 * ahead of the text: returns the text, with the time's span and value in
 * *ret_time / *ret_us (an empty span when there is none).  The time is set
 * only once the text is known, so that a refusal adds nothing. */
static struct decode_span exim_prefix(struct decode_span m, const struct decode_ctx *ctx,
                                      struct decode_span *ret_time, int64_t *ret_us)
{
    size_t used;

    ret_time->p = NULL;
    ret_time->n = 0;
    if (m.n >= 19 && is_digit(m.p[0]) && m.p[4] == '-' && m.p[10] == ' ' &&
        time_parse_iso8601(m.p, m.n, ctx ? ctx->tz : NULL, ret_us, &used) == 0) {
        *ret_time = (struct decode_span){m.p, used};
        m = text_skip(m, used);
        while (m.n && m.p[0] == ' ')
            m = text_skip(m, 1);
    }
    if (m.n && m.p[0] == '[') {
        struct decode_span pid = digits(text_skip(m, 1));
        if (pid.n && pid.n + 1 < m.n && m.p[pid.n + 1] == ']')
            m = text_skip(m, pid.n + 2);
        while (m.n && m.p[0] == ' ')
            m = text_skip(m, 1);
    }
    /* a message id: 6-6-2 (classic) or 6-11-4 (4.97+) base-62 */
    {
        struct decode_span id = text_upto(m, " ");
        if ((id.n == 16 || id.n == 23) && id.p[6] == '-' && id.n < m.n)
            m = text_skip(m, id.n + 1);
    }
    return m;
}

int decode_exim(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr)
{
    struct decode_span m = {p, len}, auth = {NULL, 0}, rest, tm;
    struct decode_svc svc;
    int64_t us = 0;
    long f;
    int r;

    (void)reterr;
    exim_init(&svc);
    m = exim_prefix(m, ctx, &tm, &us);
    if ((f = text_find(m, TEXT_LIT(" authenticator failed for "))) > 0 && f <= 64) {
        auth = (struct decode_span){m.p, (size_t)f};
        rest = text_skip(m, (size_t)f + 26);
        if (!exim_host(rest, &svc))
            return -ENOENT;
        svc.action = "auth_failure";
        svc.category = "authentication";
        svc.outcome = "failure";
        svc.user = text_between(rest, TEXT_LIT("(set_id="), ')');
        svc.reason =
            text_trim(text_before(text_after(rest, TEXT_LIT(": ")), TEXT_LIT(" (set_id=")));
    } else if (text_starts(m, TEXT_LIT("<= ")) && (rest = text_after(m, TEXT_LIT(" A="))).p) {
        struct decode_span h = text_after(m, TEXT_LIT(" H="));
        auth = text_upto(rest, ": ");
        if (auth.n < rest.n && rest.p[auth.n] == ':')
            svc.user = text_upto(text_skip(rest, auth.n + 1), " ");
        if (h.p)
            exim_host(h, &svc);
        svc.action = "login";
        svc.category = "authentication";
        svc.outcome = "success";
    } else if (text_starts(m, TEXT_LIT("H=")) && (f = text_find(m, TEXT_LIT(" rejected "))) > 0) {
        if (!exim_host(m, &svc))
            return -ENOENT;
        svc.action = "smtp_reject";
        svc.category = "email";
        svc.type = "denied";
        svc.outcome = "failure";
        rest = text_skip(m, (size_t)f + 1);
        svc.reason = text_after(rest, TEXT_LIT(": "));
        if (!svc.reason.p)
            svc.reason = rest;
    } else {
        return -ENOENT;
    }
    if ((tm.n && (r = event_set_time(ev, us, tm.p, tm.n)) < 0) ||
        (r = emit(ev, &svc, "exim")) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("exim.authenticator"), auth)) < 0)
        return r;
    return 0;
}
