/*
 * decode_rfc3164.c - BSD syslog headers.
 *
 * RFC 3164 describes what senders did rather than prescribing it, so this
 * decoder is lenient where senders differ (hostname present or not, odd
 * tags, a year in the timestamp) and strict only where a wrong guess would
 * put attacker text into the wrong field (PRI range, hostname bytes).
 */
#include "decode/decode_rfc3164.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "event/event.h"
#include "event/time.h"

/* Longest tag taken as one.  RFC 3164 says 32, but macOS and Java senders
 * use longer ones ("com.apple.AddressBook.InternetAccountsBridge"). */
#define RFC3164_TAG_MAX 128
/* Longest "[...]" after a tag read as the pid part. */
#define RFC3164_PID_MAX 32

/* Keeps going when a field is dropped for the field cap; stops on OOM. */
static int add(struct event *ev, uint32_t id, const char *v, size_t n)
{
    int r = event_add(ev, id, v, n);

    return r == -ENOMEM ? r : 0;
}

static int add_int(struct event *ev, uint32_t id, long long v)
{
    int r = event_add_int(ev, id, v);

    return r == -ENOMEM ? r : 0;
}

/* "<N>" with N in 0..191, 1 to 3 digits.  On success *i is past the '>'. */
static int parse_pri(const char *p, size_t len, size_t *i, int *ret_pri)
{
    size_t k = 1;
    int v = 0;

    while (k < len && k <= 3 && p[k] >= '0' && p[k] <= '9')
        v = v * 10 + (p[k++] - '0');
    if (k == 1 || k >= len || p[k] != '>' || v > 191)
        return -EINVAL;
    *i = k + 1;
    *ret_pri = v;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A leading timestamp in either form; *ret_n is its length. */
static int parse_time(const char *p, size_t len, const struct decode_ctx *ctx, int64_t ref_us,
                      int64_t *ret_us, size_t *ret_n)
{
    const struct tz *tz = ctx ? ctx->tz : NULL;

    if (time_parse_rfc3164(p, len, ref_us, ctx ? ctx->prev_us : 0, tz, ret_us, ret_n) == 0)
        return 0;
    if (len > 4 && is_digit(p[0]) && time_parse_iso8601(p, len, tz, ret_us, ret_n) == 0)
        return 0;
    return -EINVAL;
}

/* Whether the token after the timestamp is already the tag (no hostname):
 * "root:", "sshd[6246]:", "sshd[6246]".  Hostnames never hold brackets, and
 * an IPv6 address that ends in ':' holds more colons than a tag does. */
static int token_is_tag(const char *t, size_t n)
{
    if (n >= 3 && t[n - 1] == ']' && memchr(t, '[', n))
        return 1;
    if (n >= 2 && t[n - 1] == ':') {
        if (t[n - 2] == ']' && memchr(t, '[', n))
            return 1;
        return memchr(t, ':', n - 1) == NULL;
    }
    return 0;
}

/* A decimal pid that fits 32 bits; -1 otherwise. */
static long long parse_pid(const char *s, size_t n)
{
    long long v = 0;

    if (n == 0 || n > 10)
        return -1;
    for (size_t k = 0; k < n; k++) {
        if (!is_digit(s[k]))
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v <= INT32_MAX ? v : -1;
}

/*
 * Reads "TAG[PID]: " at p[*i].  On return *i is where the MSG starts.  When
 * no tag can be told apart (too long, empty) nothing is added and *i stays.
 */
static int parse_tag(struct event *ev, const char *p, size_t len, size_t *i)
{
    size_t start = *i, k = *i, name_end, pid_s = 0, pid_n = 0, prog_n;
    int r;

    while (k < len && k - start < RFC3164_TAG_MAX && p[k] != ' ' && p[k] != ':' && p[k] != '[')
        k++;
    name_end = k;
    if (name_end == start || (k < len && k - start >= RFC3164_TAG_MAX))
        return 0;
    if (k < len && p[k] == '[') {
        size_t e = k + 1;
        while (e < len && e - k <= RFC3164_PID_MAX && p[e] != ']' && p[e] != ' ')
            e++;
        if (e < len && p[e] == ']') {
            pid_s = k + 1;
            pid_n = e - pid_s;
            k = e + 1;
        } else {
            /* "prog[garbage": not a tag we can trust. */
            return 0;
        }
    }
    if (k < len && p[k] == ':')
        k++;
    if (k < len && p[k] == ' ')
        k++;

    prog_n = name_end - start;
    {
        /* "sshd(pam_unix)": the program is what precedes the '('. */
        const char *paren = memchr(p + start, '(', prog_n);
        if (paren && paren > p + start)
            prog_n = (size_t)(paren - (p + start));
    }
    if ((r = add(ev, FIELD_LOG_SYSLOG_APPNAME, p + start, name_end - start)) < 0 ||
        (r = add(ev, FIELD_PROCESS_NAME, p + start, prog_n)) < 0)
        return r;
    if (pid_n) {
        long long pid = parse_pid(p + pid_s, pid_n);
        if (pid >= 0 && (r = add(ev, FIELD_PROCESS_PID, p + pid_s, pid_n)) < 0)
            return r;
    }
    *i = k;
    return 0;
}

static int set_msg(struct event *ev, const char *m, size_t n)
{
    ev->msg = m;
    ev->msg_len = n;
    return n ? add(ev, FIELD_MESSAGE, m, n) : 0;
}

int decode_rfc3164(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr)
{
    size_t i = 0, ts_n, host_s, host_e;
    int pri = -1, r;
    int64_t us, ref_us = ctx ? ctx->ref_us : ev->recv_us;

    if (len == 0)
        return -ENOENT;
    if (p[0] == '<') {
        if (parse_pri(p, len, &i, &pri) < 0) {
            parse_err_set(reterr, 0, "bad PRI (want <0> to <191>)");
            return -EINVAL;
        }
        if (i == len) {
            parse_err_set(reterr, i, "nothing after PRI");
            return -EINVAL;
        }
        if ((r = add_int(ev, FIELD_LOG_SYSLOG_PRIORITY, pri)) < 0 ||
            (r = add_int(ev, FIELD_LOG_SYSLOG_FACILITY_CODE, pri >> 3)) < 0 ||
            (r = add_int(ev, FIELD_LOG_SYSLOG_SEVERITY_CODE, pri & 7)) < 0)
            return r;
    }

    if (parse_time(p + i, len - i, ctx, ref_us, &us, &ts_n) < 0 ||
        (i + ts_n < len && p[i + ts_n] != ' ')) {
        if (pri < 0)
            return -ENOENT;
        /* RFC 3164 4.3.2: a PRI without a timestamp; all the rest is MSG. */
        goto done_msg;
    }
    if ((r = event_set_time(ev, us, p + i, ts_n)) < 0)
        return r;
    i += ts_n;
    while (i < len && p[i] == ' ')
        i++;
    if (i == len) {
        parse_err_set(reterr, i, "no hostname or tag after the timestamp");
        return -EINVAL;
    }

    host_s = i;
    host_e = i;
    while (host_e < len && p[host_e] != ' ')
        host_e++;
    if (!token_is_tag(p + host_s, host_e - host_s)) {
        for (size_t k = host_s; k < host_e; k++) {
            unsigned char c = (unsigned char)p[k];
            if (c < 0x20 || c == 0x7f) {
                parse_err_set(reterr, k, "control character in hostname");
                return -EINVAL;
            }
        }
        if ((r = add(ev, FIELD_HOST_NAME, p + host_s, host_e - host_s)) < 0)
            return r;
        i = host_e;
        /* Some writers pad after the hostname ("combo  -- root[2421]:"). */
        while (i < len && p[i] == ' ')
            i++;
    }
    if ((r = parse_tag(ev, p, len, &i)) < 0)
        return r;

done_msg:
    if ((r = set_msg(ev, p + i, len - i)) < 0)
        return r;
    ev->decoder = "rfc3164";
    return 0;
}
