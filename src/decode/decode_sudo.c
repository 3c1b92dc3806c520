/*
 * decode_sudo.c - sudo decision lines and sudo's PAM lines.
 *
 * Every value is a view into the message; nothing is copied.
 */
#include "decode/decode_sudo.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_util.h"
#include "event/event.h"

struct sudo_result {
    const char *action;
    const char *category;
    const char *outcome;
    struct decode_span user;
    struct decode_span effective;
    struct decode_span tty;
    struct decode_span pwd;
    struct decode_span group;
    struct decode_span command;
    struct decode_span reason;
};

#define LIT(s) s, sizeof(s) - 1

static int starts(struct decode_span s, const char *lit, size_t n)
{
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static struct decode_span skip(struct decode_span s, size_t n)
{
    s.p += n;
    s.n -= n;
    return s;
}

static long find(struct decode_span s, const char *lit, size_t n)
{
    const char *q = memmem(s.p, s.n, lit, n);

    return q ? (long)(q - s.p) : -1;
}

static int contains(struct decode_span s, const char *lit, size_t n)
{
    return find(s, lit, n) >= 0;
}

/* The bytes of s up to the first of the bytes in `stop`. */
static struct decode_span upto(struct decode_span s, const char *stop)
{
    size_t k = 0;

    while (k < s.n && !strchr(stop, s.p[k]))
        k++;
    s.n = k;
    return s;
}

static struct decode_span trim(struct decode_span s)
{
    while (s.n && s.p[0] == ' ')
        s = skip(s, 1);
    while (s.n && s.p[s.n - 1] == ' ')
        s.n--;
    return s;
}

/* The value of " key=" (or "key=" at the start) in a PAM "k=v k=v" list. */
static struct decode_span pam_kv(struct decode_span s, const char *key, size_t n)
{
    struct decode_span v = {NULL, 0};
    long f;

    if (starts(s, key + 1, n - 1))
        return upto(skip(s, n - 1), " ");
    if ((f = find(s, key, n)) >= 0)
        v = upto(skip(s, (size_t)f + n), " ");
    return v;
}

/* "pam_unix(sudo:session): ..." and "pam_unix(sudo:auth): ..."; sudo -i
 * runs as the "sudo-i" PAM service. */
static int pam_line(struct decode_span m, struct sudo_result *res)
{
    if (starts(m, LIT("pam_unix(sudo:session): ")) ||
        starts(m, LIT("pam_unix(sudo-i:session): "))) {
        m = skip(m, m.p[13] == '-' ? 26 : 24);
        res->category = "process";
        res->outcome = "success";
        if (starts(m, LIT("session opened for user "))) {
            struct decode_span rest = skip(m, 24);
            long by;
            res->action = "sudo_session_opened";
            res->effective = upto(rest, " (");
            if ((by = find(rest, LIT(" by "))) >= 0)
                res->user = upto(skip(rest, (size_t)by + 4), " (");
            return 0;
        }
        if (starts(m, LIT("session closed for user "))) {
            res->action = "sudo_session_closed";
            res->effective = upto(skip(m, 24), " (");
            return 0;
        }
        return -ENOENT;
    }
    if (starts(m, LIT("pam_unix(sudo:auth): ")) || starts(m, LIT("pam_unix(sudo-i:auth): "))) {
        m = skip(m, m.p[13] == '-' ? 23 : 21);
        res->action = "sudo_auth_failure";
        res->category = "authentication";
        res->outcome = "failure";
        if (starts(m, LIT("authentication failure;"))) {
            res->user = pam_kv(m, LIT(" user="));
            if (!res->user.n)
                res->user = pam_kv(m, LIT(" ruser="));
            if (!res->user.n)
                res->user = pam_kv(m, LIT(" logname="));
            return 0;
        }
        if (starts(m, LIT("auth could not identify password for ["))) {
            res->user = upto(skip(m, 38), "]");
            return 0;
        }
        if (starts(m, LIT("conversation failed")))
            return 0;
        return -ENOENT;
    }
    return -ENOENT;
}

static int is_key(struct decode_span s)
{
    return starts(s, LIT("TTY=")) || starts(s, LIT("PWD=")) || starts(s, LIT("USER=")) ||
           starts(s, LIT("GROUP=")) || starts(s, LIT("COMMAND=")) || starts(s, LIT("ENV=")) ||
           starts(s, LIT("TSID=")) || starts(s, LIT("HOST="));
}

/* "user : [reason ; ]KEY=value ; ... ; COMMAND=rest of line" */
static int decision_line(struct decode_span m, struct sudo_result *res, struct parse_err *reterr)
{
    long sep = find(m, LIT(" : "));
    struct decode_span rest, seg;
    int seen_key = 0, have_command = 0;

    if (starts(m, LIT(": "))) {
        /* No user at all; decided below whether this is a sudo line. */
        res->user.p = m.p;
        rest = skip(m, 2);
    } else if (sep >= 0) {
        res->user = trim((struct decode_span){m.p, (size_t)sep});
        rest = skip(m, (size_t)sep + 3);
    } else {
        return -ENOENT;
    }
    if (!is_key(rest)) {
        long e = find(rest, LIT(" ; "));
        if (e < 0)
            return -ENOENT;
        res->reason = trim((struct decode_span){rest.p, (size_t)e});
        rest = skip(rest, (size_t)e + 3);
    }
    while (rest.n) {
        long e;
        if (starts(rest, LIT("COMMAND="))) {
            res->command = skip(rest, 8);
            have_command = 1;
            break;
        }
        e = find(rest, LIT(" ; "));
        seg = rest;
        if (e >= 0)
            seg.n = (size_t)e;
        if (is_key(seg))
            seen_key = 1;
        if (starts(seg, LIT("TTY=")))
            res->tty = skip(seg, 4);
        else if (starts(seg, LIT("PWD=")))
            res->pwd = skip(seg, 4);
        else if (starts(seg, LIT("USER=")))
            res->effective = skip(seg, 5);
        else if (starts(seg, LIT("GROUP=")))
            res->group = skip(seg, 6);
        if (e < 0)
            break;
        rest = skip(rest, (size_t)e + 3);
    }
    if (!seen_key && !have_command)
        return -ENOENT;
    if (!res->user.n || memchr(res->user.p, ' ', res->user.n)) {
        parse_err_set(reterr, 0, "sudo line without a user name before ' : '");
        return -EINVAL;
    }
    if (!have_command) {
        parse_err_set(reterr, m.n, "sudo line without COMMAND=");
        return -EINVAL;
    }

    if (!res->reason.n) {
        res->action = "sudo_command";
        res->category = "process";
        res->outcome = "success";
        return 0;
    }
    res->category = "authentication";
    res->outcome = "failure";
    if (contains(res->reason, LIT("incorrect password attempt")) ||
        contains(res->reason, LIT("a password is required")))
        res->action = "sudo_auth_failure";
    else if (contains(res->reason, LIT("NOT in sudoers")) ||
             contains(res->reason, LIT("NOT authorized on host")))
        res->action = "sudo_not_in_sudoers";
    else if (contains(res->reason, LIT("command not allowed")))
        res->action = "sudo_command_not_allowed";
    else
        return -ENOENT;
    return 0;
}

int decode_sudo(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr)
{
    struct sudo_result res;
    struct decode_span m = {p, len};
    int r;

    (void)ctx;
    memset(&res, 0, sizeof(res));
    m = trim(m);
    if (starts(m, LIT("pam_unix(")))
        r = pam_line(m, &res);
    else
        r = decision_line(m, &res, reterr);
    if (r < 0)
        return r;
    if ((r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr(res.category))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, decode_util_cstr(res.action))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr(res.outcome))) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME, res.user)) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_EFFECTIVE_NAME, res.effective)) < 0 ||
        (r = decode_util_add(ev, FIELD_PROCESS_WORKING_DIRECTORY, res.pwd)) < 0 ||
        (r = decode_util_add(ev, FIELD_PROCESS_COMMAND_LINE, res.command)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON, res.reason)) < 0 ||
        (r = decode_util_add_named(ev, LIT("sudo.tty"), res.tty)) < 0 ||
        (r = decode_util_add_named(ev, LIT("sudo.group"), res.group)) < 0)
        return r;
    ev->decoder = "sudo";
    return 0;
}
