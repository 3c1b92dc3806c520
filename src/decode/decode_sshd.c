/*
 * decode_sshd.c - OpenSSH server messages.
 *
 * Each message shape is recognised by its fixed leading words; the variable
 * parts are then cut from the right-hand end (see decode_sshd.h for why).
 * Every value is a view into the message; nothing is copied.
 */
#include "decode/decode_sshd.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_util.h"
#include "event/event.h"

/* What one message said; the fields are emitted from it in one place. */
struct sshd_result {
    const char *action;
    const char *outcome;
    struct decode_span user;
    struct decode_span ip;
    struct decode_span domain;
    struct decode_span port;
    struct decode_span method;
    struct decode_span reason;
    struct decode_span repeat;
    int invalid_user;
};

#define LIT(s) s, sizeof(s) - 1

static int starts(struct decode_span s, const char *lit, size_t n)
{
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static int ends(struct decode_span s, const char *lit, size_t n)
{
    return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

static struct decode_span skip(struct decode_span s, size_t n)
{
    s.p += n;
    s.n -= n;
    return s;
}

/* Offset of the last occurrence of lit in s, or -1. */
static long find_last(struct decode_span s, const char *lit, size_t n)
{
    if (s.n < n)
        return -1;
    for (size_t i = s.n - n + 1; i-- > 0;)
        if (memcmp(s.p + i, lit, n) == 0)
            return (long)i;
    return -1;
}

static long find_first(struct decode_span s, const char *lit, size_t n)
{
    const char *q = memmem(s.p, s.n, lit, n);

    return q ? (long)(q - s.p) : -1;
}

static struct decode_span token(struct decode_span s)
{
    size_t k = 0;

    while (k < s.n && s.p[k] != ' ')
        k++;
    s.n = k;
    return s;
}

/* 1 to 9 decimal digits. */
static int is_count(struct decode_span s)
{
    if (s.n == 0 || s.n > 9)
        return 0;
    for (size_t k = 0; k < s.n; k++)
        if (s.p[k] < '0' || s.p[k] > '9')
            return 0;
    return 1;
}

/*
 * "IP[ port P]..." at the start of s: the address, then an optional port.
 * Whatever follows (" ssh2", ":11: Bye") is left to the caller in *ret_rest.
 */
static int ip_port(struct decode_span s, struct sshd_result *res, struct decode_span *ret_rest)
{
    struct decode_span ip = token(s);
    size_t k;

    /* "from 1.2.3.4:" in "Received disconnect from 1.2.3.4: 11: ..." */
    if (ip.n && ip.p[ip.n - 1] == ':' && !decode_util_is_ip(ip.p, ip.n))
        ip.n--;
    if (!decode_util_is_ip(ip.p, ip.n))
        return -EINVAL;
    res->ip = ip;
    s = skip(s, ip.n);
    if (starts(s, LIT(" port "))) {
        struct decode_span port = skip(s, 6);
        k = 0;
        while (k < port.n && port.p[k] >= '0' && port.p[k] <= '9')
            k++;
        port.n = k;
        if (!decode_util_is_port(port.p, port.n))
            return -EINVAL;
        res->port = port;
        s = skip(s, 6 + k);
    }
    if (ret_rest)
        *ret_rest = s;
    return 0;
}

/* "[invalid user ]U from IP port P..." : user then the trailing address. */
static int user_from(struct decode_span s, struct sshd_result *res)
{
    long f;

    if (starts(s, LIT("invalid user "))) {
        res->invalid_user = 1;
        s = skip(s, 13);
    }
    if ((f = find_last(s, LIT(" from "))) < 0)
        return -EINVAL;
    res->user.p = s.p;
    res->user.n = (size_t)f;
    return ip_port(skip(s, (size_t)f + 6), res, NULL);
}

/*
 * "[user U |invalid user U |authenticating user U ]IP[ port P]" as in
 * "Disconnected from ..." and "Connection closed by ...".  The address is
 * the last word before " port " (or the last word when there is no port).
 */
static int who_ip_port(struct decode_span s, struct sshd_result *res)
{
    long pp = find_last(s, LIT(" port "));
    struct decode_span head = s, tail;
    long sp;

    if (pp >= 0)
        head.n = (size_t)pp;
    sp = find_last(head, LIT(" "));
    tail = skip(s, (size_t)(sp + 1));
    if (sp >= 0) {
        struct decode_span who = head;
        who.n = (size_t)sp;
        if (starts(who, LIT("invalid user "))) {
            res->invalid_user = 1;
            res->user = skip(who, 13);
        } else if (starts(who, LIT("authenticating user "))) {
            res->user = skip(who, 20);
        } else if (starts(who, LIT("user "))) {
            res->user = skip(who, 5);
        } else {
            return -EINVAL;
        }
    }
    return ip_port(tail, res, NULL);
}

/* The value of " key=" in a PAM "k=v k=v" list (up to the next space). */
static struct decode_span pam_kv(struct decode_span s, const char *key, size_t n)
{
    struct decode_span v = {NULL, 0};
    long f = find_first(s, key, n);

    if (f >= 0)
        v = token(skip(s, (size_t)f + n));
    return v;
}

static void pam_failure(struct decode_span s, struct sshd_result *res)
{
    struct decode_span rhost = pam_kv(s, LIT(" rhost="));

    res->action = "pam_auth_failure";
    res->outcome = "failure";
    res->user = pam_kv(s, LIT(" user="));
    if (rhost.n) {
        if (decode_util_is_ip(rhost.p, rhost.n))
            res->ip = rhost;
        else
            res->domain = rhost;
    }
}

static int session(struct decode_span s, struct sshd_result *res)
{
    int opened = starts(s, LIT("session opened for user "));
    struct decode_span u;
    size_t k = 0;

    /* Both prefixes are 24 bytes long. */
    u = skip(s, 24);
    /* "U by (uid=0)", "U(uid=1000) by (uid=0)" or just "U". */
    while (k < u.n && u.p[k] != ' ' && u.p[k] != '(')
        k++;
    u.n = k;
    res->user = u;
    res->action = opened ? "ssh_session_opened" : "ssh_session_closed";
    res->outcome = "success";
    return 0;
}

/*
 * The message shapes, one handler each.  classify() tries them in table
 * order; the first whose literal is found hands the whole message to its
 * handler, which fills *res and returns 0, -ENOENT or -EINVAL, or
 * SSHD_NEXT when the literal matched but the rest of the shape did not, so
 * that the shapes below it still get their turn.  `at` is the offset at
 * which the literal was found (0 for a prefix).
 */
#define SSHD_NEXT 1

enum sshd_match {
    SSHD_PREFIX,   /* m starts with the literal */
    SSHD_WHOLE,    /* m is the literal */
    SSHD_SUFFIX,   /* m ends with the literal */
    SSHD_ANYWHERE, /* the literal's first occurrence in m */
};

struct sshd_shape {
    enum sshd_match how;
    const char *lit;
    size_t n;
    int (*handle)(struct decode_span m, long at, struct sshd_result *res);
};

static int classify(struct decode_span m, struct sshd_result *res);

/* "message repeated N times: [ M ]": M, with the count. */
static int shape_repeated(struct decode_span m, long at, struct sshd_result *res)
{
    struct decode_span n = token(skip(m, 17)), inner;
    int r;

    (void)at;
    if (!is_count(n) || !starts(skip(m, 17 + n.n), LIT(" times: [")) || !ends(m, LIT("]")))
        return -EINVAL;
    inner = skip(m, 17 + n.n + 9);
    inner.n--;
    while (inner.n && inner.p[0] == ' ')
        inner = skip(inner, 1);
    /* syslogd never nests these; refusing keeps the recursion flat. */
    if (starts(inner, LIT("message repeated ")))
        return -EINVAL;
    r = classify(inner, res);
    if (r == 0)
        res->repeat = n;
    return r;
}

/* "Accepted|Failed METHOD for [invalid user ]U from IP port P ssh2" */
static int shape_login(struct decode_span m, long at, struct sshd_result *res)
{
    int ok = m.p[0] == 'A';
    struct decode_span rest = skip(m, ok ? 9 : 7), method = token(rest);

    (void)at;
    if (!starts(skip(rest, method.n), LIT(" for ")))
        return -ENOENT;
    res->action = "ssh_login";
    res->outcome = ok ? "success" : "failure";
    res->method = method;
    return user_from(skip(rest, method.n + 5), res);
}

/* "Invalid user U from IP [port P]" */
static int shape_invalid_user(struct decode_span m, long at, struct sshd_result *res)
{
    long f;

    (void)at;
    res->action = "ssh_login";
    res->outcome = "failure";
    res->invalid_user = 1;
    if ((f = find_last(m, LIT(" from "))) < 13)
        return -EINVAL;
    res->user.p = m.p + 13;
    res->user.n = (size_t)f - 13;
    return ip_port(skip(m, (size_t)f + 6), res, NULL);
}

/* "input_userauth_request: invalid user U" */
static int shape_userauth_invalid(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    res->action = "ssh_login";
    res->outcome = "failure";
    res->invalid_user = 1;
    res->user = skip(m, 37);
    return 0;
}

/* "User U from IP not allowed because ..."; any other "User " line is
 * left to the shapes below. */
static int shape_not_allowed(struct decode_span m, long at, struct sshd_result *res)
{
    struct decode_span head = m;
    long f, fr;

    (void)at;
    if ((f = find_last(m, LIT(" not allowed because "))) <= 5)
        return SSHD_NEXT;
    head.n = (size_t)f;
    res->action = "ssh_login";
    res->outcome = "failure";
    res->reason = skip(m, (size_t)f + 1);
    if ((fr = find_last(head, LIT(" from "))) < 5)
        return -EINVAL;
    res->user.p = m.p + 5;
    res->user.n = (size_t)fr - 5;
    return ip_port(skip(head, (size_t)fr + 6), res, NULL);
}

/* "Received disconnect from IP [port P]:N: reason" */
static int shape_received_disconnect(struct decode_span m, long at, struct sshd_result *res)
{
    struct decode_span rest;
    int r;

    (void)at;
    res->action = "ssh_disconnect";
    res->outcome = "unknown";
    if ((r = ip_port(skip(m, 25), res, &rest)) < 0)
        return r;
    /* ":11: reason" or ": 11: reason" */
    if (starts(rest, LIT(":")))
        rest = skip(rest, 1);
    while (rest.n && rest.p[0] == ' ')
        rest = skip(rest, 1);
    res->reason = rest;
    return 0;
}

/* "Disconnected from [user|invalid user|authenticating user U ]IP port P" */
static int shape_disconnected(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    res->action = "ssh_disconnect";
    res->outcome = "unknown";
    return who_ip_port(skip(m, 18), res);
}

/* "Connection closed by" / "Connection reset by" alone: cut before the
 * address. */
static int shape_cut_before_address(struct decode_span m, long at, struct sshd_result *res)
{
    (void)m;
    (void)at;
    (void)res;
    return -EINVAL;
}

/* "Connection closed|reset by [... user U ]IP [port P]" */
static int shape_connection_closed(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    res->action = "ssh_connection_closed";
    res->outcome = "unknown";
    return who_ip_port(skip(m, m.p[11] == 'c' ? 21 : 20), res);
}

/* "... - POSSIBLE BREAK-IN ATTEMPT!": "reverse mapping checking
 * getaddrinfo for H [IP] failed" or "Address IP maps to H, but this does
 * not map back ...". */
static int shape_break_in(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    res->action = "ssh_break_in_attempt";
    res->outcome = "unknown";
    if (starts(m, LIT("reverse mapping checking getaddrinfo for "))) {
        struct decode_span rest = skip(m, 41);
        long lb = find_first(rest, LIT(" ["));
        long rb = find_first(rest, LIT("] failed"));
        if (lb < 0 || rb < lb + 2)
            return -EINVAL;
        res->domain.p = rest.p;
        res->domain.n = (size_t)lb;
        res->ip.p = rest.p + lb + 2;
        res->ip.n = (size_t)(rb - lb - 2);
        return decode_util_is_ip(res->ip.p, res->ip.n) ? 0 : -EINVAL;
    }
    if (starts(m, LIT("Address "))) {
        struct decode_span rest = skip(m, 8);
        long mt = find_first(rest, LIT(" maps to "));
        long cm = find_first(rest, LIT(", but this does not map back"));
        if (mt < 0 || cm < mt + 9)
            return -EINVAL;
        res->ip.p = rest.p;
        res->ip.n = (size_t)mt;
        res->domain.p = rest.p + mt + 9;
        res->domain.n = (size_t)(cm - mt - 9);
        return decode_util_is_ip(res->ip.p, res->ip.n) ? 0 : -EINVAL;
    }
    return -ENOENT;
}

/* "Disconnecting: Too many authentication failures [for U]" and
 * "Disconnecting [invalid|authenticating] user U IP port P: Too many ...";
 * `at` is where "Too many" starts. */
static int shape_too_many(struct decode_span m, long at, struct sshd_result *res)
{
    struct decode_span tail = skip(m, (size_t)at + 32);

    res->action = "ssh_max_auth_exceeded";
    res->outcome = "failure";
    if (starts(tail, LIT(" for "))) {
        /* "Disconnecting: Too many authentication failures for U" */
        tail = skip(tail, 5);
        if (starts(tail, LIT("invalid user "))) {
            res->invalid_user = 1;
            tail = skip(tail, 13);
        }
        res->user = tail;
        return 0;
    }
    if (starts(m, LIT("Disconnecting ")) && at >= 16 && m.p[at - 2] == ':') {
        /* "Disconnecting invalid user U IP port P: Too many ..." */
        struct decode_span who = skip(m, 14);
        who.n = (size_t)at - 16;
        return who_ip_port(who, res);
    }
    return 0;
}

/* "maximum authentication attempts exceeded for [invalid user ]U from IP
 * port P ssh2" */
static int shape_max_attempts(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    res->action = "ssh_max_auth_exceeded";
    res->outcome = "failure";
    return user_from(skip(m, 45), res);
}

/* "Did not receive identification string from IP [port P]" */
static int shape_no_identification(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    res->action = "ssh_no_identification";
    res->outcome = "failure";
    return ip_port(skip(m, 43), res, NULL);
}

/*
 * PAM's lines, with the "pam_unix(sshd:...): " prefix cut (OpenSSH logs
 * through the sshd tag) or without one (`legacy`: the "sshd(pam_unix)" tag
 * of older PAM).
 */
static int pam_message(struct decode_span m, int legacy, struct sshd_result *res)
{
    if (starts(m, LIT("authentication failure;"))) {
        pam_failure(m, res);
        /* A current sshd writes its own "Failed password" line beside this
         * one, which is the login to count.  Under the old "sshd(pam_unix)"
         * tag this line is the only trace a failed password leaves in the
         * log that holds it (syslog's messages file), so it is the login. */
        if (legacy)
            res->action = "ssh_login";
        return 0;
    }
    /* pam_unix found no such user; its "authentication failure" line (of
     * the same pid) follows and is what counts. */
    if (starts(m, LIT("check pass; user unknown"))) {
        res->action = "pam_user_unknown";
        res->outcome = "failure";
        res->invalid_user = 1;
        return 0;
    }
    if (starts(m, LIT("PAM ")) && find_first(m, LIT(" more authentication failure")) > 4) {
        pam_failure(m, res);
        return 0;
    }
    if (starts(m, LIT("session opened for user ")) || starts(m, LIT("session closed for user ")))
        return session(m, res);
    return -ENOENT;
}

static int shape_pam_auth(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    return pam_message(skip(m, 21), 0, res);
}

static int shape_pam_session(struct decode_span m, long at, struct sshd_result *res)
{
    (void)at;
    return pam_message(skip(m, 24), 0, res);
}

/* In the order they are tried: an earlier shape wins. */
static const struct sshd_shape sshd_shapes[] = {
    {SSHD_PREFIX, LIT("message repeated "), shape_repeated},
    {SSHD_PREFIX, LIT("Accepted "), shape_login},
    {SSHD_PREFIX, LIT("Failed "), shape_login},
    {SSHD_PREFIX, LIT("Invalid user "), shape_invalid_user},
    {SSHD_PREFIX, LIT("input_userauth_request: invalid user "), shape_userauth_invalid},
    {SSHD_PREFIX, LIT("User "), shape_not_allowed},
    {SSHD_PREFIX, LIT("Received disconnect from "), shape_received_disconnect},
    {SSHD_PREFIX, LIT("Disconnected from "), shape_disconnected},
    {SSHD_WHOLE, LIT("Connection closed by"), shape_cut_before_address},
    {SSHD_WHOLE, LIT("Connection reset by"), shape_cut_before_address},
    {SSHD_PREFIX, LIT("Connection closed by "), shape_connection_closed},
    {SSHD_PREFIX, LIT("Connection reset by "), shape_connection_closed},
    {SSHD_SUFFIX, LIT(" - POSSIBLE BREAK-IN ATTEMPT!"), shape_break_in},
    {SSHD_ANYWHERE, LIT("Too many authentication failures"), shape_too_many},
    {SSHD_PREFIX, LIT("maximum authentication attempts exceeded for "), shape_max_attempts},
    {SSHD_PREFIX, LIT("Did not receive identification string from "), shape_no_identification},
    {SSHD_PREFIX, LIT("pam_unix(sshd:auth): "), shape_pam_auth},
    {SSHD_PREFIX, LIT("pam_unix(sshd:session): "), shape_pam_session},
};

/* Returns 0 with *res filled, -ENOENT or -EINVAL. */
static int classify(struct decode_span m, struct sshd_result *res)
{
    if (starts(m, LIT("error: ")))
        m = skip(m, 7);
    while (m.n && m.p[m.n - 1] == ' ')
        m.n--;
    if (ends(m, LIT(" [preauth]")))
        m.n -= 10;

    for (size_t i = 0; i < sizeof(sshd_shapes) / sizeof(sshd_shapes[0]); i++) {
        const struct sshd_shape *sh = &sshd_shapes[i];
        long at = 0;
        int r;

        /* Every shape needs m at least as long as its literal.  Prefixes,
         * most of the table, are tried first, by their first byte before
         * memcmp: a byte tells most of them apart without the call that a
         * literal of known length would have had inlined. */
        if (m.n < sh->n)
            continue;
        if (sh->how == SSHD_PREFIX) {
            if (m.p[0] != sh->lit[0] || memcmp(m.p, sh->lit, sh->n) != 0)
                continue;
        } else if (sh->how == SSHD_WHOLE) {
            if (m.n != sh->n || memcmp(m.p, sh->lit, sh->n) != 0)
                continue;
        } else if (sh->how == SSHD_SUFFIX) {
            if (m.p[m.n - 1] != sh->lit[sh->n - 1] || !ends(m, sh->lit, sh->n))
                continue;
        } else if ((at = find_first(m, sh->lit, sh->n)) < 0) {
            continue;
        }
        if ((r = sh->handle(m, at, res)) != SSHD_NEXT)
            return r;
    }
    /* PAM's lines under the old "sshd(pam_unix)" tag carry no prefix. */
    return pam_message(m, 1, res);
}

int decode_sshd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr)
{
    struct sshd_result res;
    struct decode_span m = {p, len};
    int r;

    (void)ctx;
    memset(&res, 0, sizeof(res));
    while (m.n && m.p[0] == ' ')
        m = skip(m, 1);
    r = classify(m, &res);
    if (r == -EINVAL) {
        parse_err_set(reterr, 0, "sshd message without a valid address or port");
        return r;
    }
    if (r < 0)
        return r;
    if ((r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("authentication"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, decode_util_cstr(res.action))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr(res.outcome))) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME, res.user)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, res.ip)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, res.port)) < 0 ||
        (r = decode_util_add_named(ev, LIT("source.domain"), res.domain)) < 0 ||
        (r = decode_util_add_named(ev, LIT("ssh.method"), res.method)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON, res.reason)) < 0 ||
        (r = decode_util_add_named(ev, LIT("ssh.repeat_count"), res.repeat)) < 0 ||
        (r = decode_util_add_named(ev, LIT("log.syslog.repeat_count"), res.repeat)) < 0)
        return r;
    if (res.invalid_user && (r = decode_util_add_named(ev, LIT("ssh.invalid_user"), decode_util_cstr("true"))) < 0)
        return r;
    ev->decoder = "sshd";
    return 0;
}
