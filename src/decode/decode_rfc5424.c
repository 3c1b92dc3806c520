/*
 * decode_rfc5424.c - RFC 5424 syslog headers and structured data.
 *
 * The grammar is strict and so is this decoder: a field that does not fit
 * makes the record -EINVAL, except where RFC 5424 senders commonly differ
 * (lowercase 't'/'z' in timestamps, bytes above 0x7e in header fields), which
 * are let through because rejecting them would only lose the event.
 */
#include "decode/decode_rfc5424.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "event/event.h"
#include "event/time.h"
#include "util/limits.h"

#define SD_PREFIX "log.syslog.structured_data."
/* RFC 5424 6.3.2/6.3.3: SD-NAME is 1*32 PRINTUSASCII. */
#define SD_NAME_MAX 32

static int add(struct event *ev, uint32_t id, const char *v, size_t n)
{
    int r = event_add(ev, id, v, n);

    return r == -ENOMEM ? r : 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ctl(char c)
{
    unsigned char u = (unsigned char)c;

    return u <= 0x20 || u == 0x7f;
}

/*
 * The header field at p[*i]: bytes up to the next space, at least one, then
 * that space.  -EINVAL (with *reterr) when empty, at the end, or holding a
 * control byte.
 */
static int header_field(const char *p, size_t len, size_t *i, const char **ret_s, size_t *ret_n,
                        const char *what, struct parse_err *reterr)
{
    size_t s = *i;
    size_t k = s;

    while (k < len && p[k] != ' ') {
        if (is_ctl(p[k])) {
            parse_err_set(reterr, k, what);
            return -EINVAL;
        }
        k++;
    }
    if (k == s || k == len) {
        parse_err_set(reterr, k, what);
        return -EINVAL;
    }
    *ret_s = p + s;
    *ret_n = k - s;
    *i = k + 1;
    return 0;
}

static int is_nil(const char *s, size_t n)
{
    return n == 1 && s[0] == '-';
}

/* SD-NAME: 1 to 32 printable bytes other than '=', ' ', ']' and '"'. */
static size_t sd_name(const char *p, size_t len, size_t i)
{
    size_t k = i;

    while (k < len && k - i < SD_NAME_MAX + 1 && !is_ctl(p[k]) && p[k] != '=' && p[k] != ']' &&
           p[k] != '"')
        k++;
    return k - i;
}

/*
 * PARAM-VALUE after the opening quote at p[*i]: returns it unescaped in
 * *ret_v (a view when it holds no escape, else an arena copy) and leaves *i
 * past the closing quote.
 */
static int sd_value(struct event *ev, const char *p, size_t len, size_t *i, const char **ret_v,
                    size_t *ret_n, struct parse_err *reterr)
{
    size_t s = *i;
    size_t k = s;
    int escaped = 0;

    while (k < len && p[k] != '"') {
        if (p[k] == '\\' && k + 1 < len) {
            escaped = 1;
            k++;
        }
        k++;
    }
    if (k >= len) {
        parse_err_set(reterr, s, "unterminated PARAM-VALUE");
        return -EINVAL;
    }
    if (!escaped) {
        *ret_v = p + s;
        *ret_n = k - s;
    } else {
        char *out = arena_alloc(ev->arena, k - s + 1);
        size_t o = 0;
        if (!out)
            return -ENOMEM;
        for (size_t j = s; j < k; j++) {
            /* Only \" \\ \] are escapes; any other backslash stays (6.3.3). */
            if (p[j] == '\\' && j + 1 < k &&
                (p[j + 1] == '"' || p[j + 1] == '\\' || p[j + 1] == ']'))
                j++;
            out[o++] = p[j];
        }
        out[o] = '\0';
        *ret_v = out;
        *ret_n = o;
    }
    *i = k + 1;
    return 0;
}

static int sd_add(struct event *ev, const char *id, size_t id_n, const char *name, size_t name_n,
                  const char *v, size_t vn)
{
    char fname[LIMIT_FIELD_NAME_LEN + 1];
    size_t pl = sizeof(SD_PREFIX) - 1;

    /* Both names are at most SD_NAME_MAX, so this always fits; kept as a
     * guard should the limits ever change. */
    if (pl + id_n + 1 + name_n > LIMIT_FIELD_NAME_LEN) {
        ev->dropped++;
        return 0;
    }
    memcpy(fname, SD_PREFIX, pl);
    memcpy(fname + pl, id, id_n);
    fname[pl + id_n] = '.';
    memcpy(fname + pl + id_n + 1, name, name_n);
    {
        int r = event_add_named(ev, fname, pl + id_n + 1 + name_n, v, vn);
        return r == -ENOMEM ? r : 0;
    }
}

/* STRUCTURED-DATA at p[*i]: "-" or one or more SD-ELEMENTs. */
static int parse_sd(struct event *ev, const char *p, size_t len, size_t *i,
                    struct parse_err *reterr)
{
    size_t k = *i;
    int r;

    if (k < len && p[k] == '-') {
        *i = k + 1;
        return 0;
    }
    if (k >= len || p[k] != '[') {
        parse_err_set(reterr, k, "STRUCTURED-DATA is neither '-' nor '['");
        return -EINVAL;
    }
    while (k < len && p[k] == '[') {
        const char *id = p + k + 1;
        size_t id_n = sd_name(p, len, k + 1);

        if (id_n == 0 || id_n > SD_NAME_MAX) {
            parse_err_set(reterr, k + 1, "bad SD-ID");
            return -EINVAL;
        }
        k += 1 + id_n;
        for (;;) {
            const char *name, *v;
            size_t name_n, vn;

            if (k >= len) {
                parse_err_set(reterr, k, "unterminated SD-ELEMENT");
                return -EINVAL;
            }
            if (p[k] == ']') {
                k++;
                break;
            }
            if (p[k] != ' ') {
                parse_err_set(reterr, k, "expected ' ' or ']' in SD-ELEMENT");
                return -EINVAL;
            }
            k++;
            name = p + k;
            name_n = sd_name(p, len, k);
            if (name_n == 0 || name_n > SD_NAME_MAX) {
                parse_err_set(reterr, k, "bad PARAM-NAME");
                return -EINVAL;
            }
            k += name_n;
            if (k + 1 >= len || p[k] != '=' || p[k + 1] != '"') {
                parse_err_set(reterr, k, "expected =\" after PARAM-NAME");
                return -EINVAL;
            }
            k += 2;
            if ((r = sd_value(ev, p, len, &k, &v, &vn, reterr)) < 0)
                return r;
            if ((r = sd_add(ev, id, id_n, name, name_n, v, vn)) < 0)
                return r;
        }
    }
    *i = k;
    return 0;
}

/* A decimal pid that fits 32 bits. */
static int is_pid(const char *s, size_t n)
{
    long long v = 0;

    if (n == 0 || n > 10)
        return 0;
    for (size_t k = 0; k < n; k++) {
        if (!is_digit(s[k]))
            return 0;
        v = v * 10 + (s[k] - '0');
    }
    return v <= INT32_MAX;
}

int decode_rfc5424(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr)
{
    size_t i = 1, vs, n;
    const char *s;
    int pri = 0, r;

    if (len < 2 || p[0] != '<')
        return -ENOENT;
    while (i < len && i <= 3 && is_digit(p[i]))
        pri = pri * 10 + (p[i++] - '0');
    if (i == 1 || i >= len || p[i] != '>')
        return -ENOENT;
    i++;
    /* VERSION = NONZERO-DIGIT 0*2DIGIT, then SP; anything else is RFC 3164. */
    vs = i;
    if (i >= len || p[i] < '1' || p[i] > '9')
        return -ENOENT;
    while (i < len && i - vs < 3 && is_digit(p[i]))
        i++;
    if (i >= len || p[i] != ' ')
        return -ENOENT;
    if (pri > 191) {
        parse_err_set(reterr, 1, "PRI out of range (0 to 191)");
        return -EINVAL;
    }
    if (event_add_int(ev, FIELD_LOG_SYSLOG_PRIORITY, pri) == -ENOMEM ||
        event_add_int(ev, FIELD_LOG_SYSLOG_FACILITY_CODE, pri >> 3) == -ENOMEM ||
        event_add_int(ev, FIELD_LOG_SYSLOG_SEVERITY_CODE, pri & 7) == -ENOMEM ||
        add(ev, FIELD_LOG_SYSLOG_VERSION, p + vs, i - vs) < 0)
        return -ENOMEM;
    i++;

    if ((r = header_field(p, len, &i, &s, &n, "bad or missing TIMESTAMP", reterr)) < 0)
        return r;
    if (!is_nil(s, n)) {
        int64_t us;
        size_t used;
        if (time_parse_iso8601(s, n, ctx ? ctx->tz : NULL, &us, &used) < 0 || used != n) {
            parse_err_set(reterr, (size_t)(s - p), "bad TIMESTAMP");
            return -EINVAL;
        }
        if ((r = event_set_time(ev, us, s, n)) < 0)
            return r;
    }
    if ((r = header_field(p, len, &i, &s, &n, "bad or missing HOSTNAME", reterr)) < 0)
        return r;
    if (!is_nil(s, n) && (r = add(ev, FIELD_HOST_NAME, s, n)) < 0)
        return r;
    if ((r = header_field(p, len, &i, &s, &n, "bad or missing APP-NAME", reterr)) < 0)
        return r;
    if (!is_nil(s, n) && ((r = add(ev, FIELD_LOG_SYSLOG_APPNAME, s, n)) < 0 ||
                          (r = add(ev, FIELD_PROCESS_NAME, s, n)) < 0))
        return r;
    if ((r = header_field(p, len, &i, &s, &n, "bad or missing PROCID", reterr)) < 0)
        return r;
    if (!is_nil(s, n)) {
        static const char procid[] = "log.syslog.procid";
        if ((r = event_add_named(ev, procid, sizeof(procid) - 1, s, n)) == -ENOMEM)
            return r;
        if (is_pid(s, n) && (r = add(ev, FIELD_PROCESS_PID, s, n)) < 0)
            return r;
    }
    /* MSGID is the last header field: it is followed by SP and then SD. */
    if ((r = header_field(p, len, &i, &s, &n, "bad or missing MSGID", reterr)) < 0)
        return r;
    if (!is_nil(s, n) && (r = add(ev, FIELD_LOG_SYSLOG_MSGID, s, n)) < 0)
        return r;
    if ((r = parse_sd(ev, p, len, &i, reterr)) < 0)
        return r;

    if (i < len) {
        if (p[i] != ' ') {
            parse_err_set(reterr, i, "expected ' ' after STRUCTURED-DATA");
            return -EINVAL;
        }
        i++;
        if (len - i >= 3 && memcmp(p + i, "\xef\xbb\xbf", 3) == 0)
            i += 3;
    }
    ev->msg = p + i;
    ev->msg_len = len - i;
    if (len > i && (r = add(ev, FIELD_MESSAGE, p + i, len - i)) < 0)
        return r;
    ev->decoder = "rfc5424";
    return 0;
}
