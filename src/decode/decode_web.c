/*
 * decode_web.c - Apache/nginx access and error logs.
 *
 * Both formats are positional, so each is read left to right with a cursor
 * that never passes `len`.  Values are views into the record, except quoted
 * strings holding \" or \\, which are unescaped into the event's arena.
 */
#include "decode/decode_web.h"
#include "decode/decode_url.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "event/event.h"
#include "event/time.h"

static int keep(int r)
{
    return r == -ENOMEM ? r : 0;
}

static int add(struct event *ev, uint32_t id, const char *v, size_t n)
{
    return keep(event_add(ev, id, v, n));
}

static int add_named(struct event *ev, const char *name, const char *v, size_t n)
{
    return keep(event_add_named(ev, name, strlen(name), v, n));
}

static int is_dash(const char *v, size_t n)
{
    return n == 1 && v[0] == '-';
}

/* An address (IPv4 or IPv6 text) rather than a host name. */
static int looks_like_ip(const char *v, size_t n)
{
    int colons = 0, dots = 0;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == ':')
            colons++;
        else if (c == '.')
            dots++;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return colons >= 2 || (dots == 3 && colons == 0);
}

static int add_client(struct event *ev, const char *v, size_t n)
{
    if (looks_like_ip(v, n))
        return add(ev, FIELD_SOURCE_IP, v, n);
    return add_named(ev, "source.domain", v, n);
}

/* At p[*i] == '"': sets the content span and moves past the closing quote.
 * Returns -1 when unterminated. */
static int read_quoted(const char *p, size_t len, size_t *i, const char **ret_v, size_t *ret_n)
{
    size_t k = *i + 1, v0 = k;

    /* A backslash escapes the byte after it, so a quote closes the string
     * when the backslashes right before it (from v0 on) are even in
     * number: memchr finds the candidates, a look back decides.  The runs
     * looked back over end at different quotes, so the whole is linear. */
    for (;;) {
        const char *q = k < len ? memchr(p + k, '"', len - k) : NULL;
        size_t bs = 0;

        if (!q)
            return -1;
        k = (size_t)(q - p);
        while (k - bs > v0 && p[k - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            break;
        k++;
    }
    *ret_v = p + v0;
    *ret_n = k - v0;
    *i = k + 1;
    return 0;
}

static int is_upper_word(const char *v, size_t n)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'A' && v[i] <= 'Z') || v[i] == '-' || v[i] == '_'))
            return 0;
    return 1;
}

/* Unescapes \" and \\ of a quoted log string into the arena; a view of
 * the string itself when there is nothing to unescape.  NULL on OOM. */
static const char *unquote(struct event *ev, const char *v, size_t n, size_t *ret_n)
{
    char *d;
    size_t o = 0;

    *ret_n = n;
    if (!memchr(v, '\\', n))
        return v;
    if (!(d = arena_alloc(ev->arena, n ? n : 1)))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\'))
            i++;
        d[o++] = v[i];
    }
    *ret_n = o;
    return d;
}

/* Adds a quoted string's content, unescaping \" and \\. */
static int add_quoted(struct event *ev, uint32_t id, const char *v, size_t n)
{
    if (!(v = unquote(ev, v, n, &n)))
        return -ENOMEM;
    return add(ev, id, v, n);
}

/*
 * Splits "METHOD target[ HTTP/x.y]"; anything else is malformed and kept
 * whole.  The request is unescaped first, so that a backslash in the target
 * (logged as "\\", a Windows-style traversal) still leaves a well-formed
 * request.  The target, or the whole malformed line, also gets the
 * normalised view of decode_url.h.
 */
static int add_request(struct event *ev, const char *v, size_t n)
{
    const char *sp1, *t, *sp2, *q;
    size_t tn;
    int r;

    if (is_dash(v, n) || n == 0)
        return 0;
    if (!(v = unquote(ev, v, n, &n)))
        return -ENOMEM;
    sp1 = memchr(v, ' ', n);
    if (!sp1 || !is_upper_word(v, (size_t)(sp1 - v)))
        goto malformed;
    t = sp1 + 1;
    tn = n - (size_t)(t - v);
    sp2 = memchr(t, ' ', tn);
    if (sp2) {
        const char *ver = sp2 + 1;
        size_t vn = n - (size_t)(ver - v);
        if (vn < 6 || memcmp(ver, "HTTP/", 5) != 0 || memchr(ver, ' ', vn))
            goto malformed;
        tn = (size_t)(sp2 - t);
        if ((r = add(ev, FIELD_HTTP_VERSION, ver + 5, vn - 5)) < 0)
            return r;
    }
    if (tn == 0)
        goto malformed;
    if ((r = add(ev, FIELD_HTTP_REQUEST_METHOD, v, (size_t)(sp1 - v))) < 0 ||
        (r = add(ev, FIELD_URL_ORIGINAL, t, tn)) < 0)
        return r;
    q = memchr(t, '?', tn);
    if ((r = add(ev, FIELD_URL_PATH, t, q ? (size_t)(q - t) : tn)) < 0)
        return r;
    if (q && (r = add(ev, FIELD_URL_QUERY, q + 1, tn - (size_t)(q - t) - 1)) < 0)
        return r;
    return decode_url_add_fields(ev, t, tn, DECODE_URL_LOG_ESCAPES);
malformed:
    if ((r = add(ev, FIELD_URL_ORIGINAL, v, n)) < 0 ||
        (r = add_named(ev, "http.request.malformed", "true", 4)) < 0)
        return r;
    return decode_url_add_fields(ev, v, n, DECODE_URL_LOG_ESCAPES);
}

/* What one access line holds, read before any field is added. */
struct web_access {
    /* [vhost] client ident user */
    const char *w[4];
    size_t wn[4], nw;
    /* The time, and its text at p + s0, `used` bytes long. */
    int64_t us;
    size_t s0, used;
    /* The request, the bytes, the referrer and the agent; st is the offset
     * of the status code. */
    const char *rq, *bytes, *ref, *ua;
    size_t rqn, st, bn, refn, uan;
};

/* The fields of a line read whole, in the order the line holds them. */
static int web_access_emit(struct event *ev, const char *p, const struct web_access *a)
{
    size_t c = a->nw == 4 ? 1 : 0;
    int r;

    if (a->nw == 4) {
        const char *colon = memchr(a->w[0], ':', a->wn[0]);
        size_t vn =
            colon && !looks_like_ip(a->w[0], a->wn[0]) ? (size_t)(colon - a->w[0]) : a->wn[0];
        if (!is_dash(a->w[0], vn) && (r = add_named(ev, "url.domain", a->w[0], vn)) < 0)
            return r;
    }
    if ((r = add_client(ev, a->w[c], a->wn[c])) < 0)
        return r;
    if (!is_dash(a->w[c + 2], a->wn[c + 2]) &&
        (r = add(ev, FIELD_USER_NAME, a->w[c + 2], a->wn[c + 2])) < 0)
        return r;
    if ((r = event_set_time(ev, a->us, p + a->s0, a->used)) < 0)
        return r;
    if ((r = add_request(ev, a->rq, a->rqn)) < 0)
        return r;
    if ((r = add(ev, FIELD_HTTP_RESPONSE_STATUS_CODE, p + a->st, 3)) < 0)
        return r;
    if (a->bytes && a->bn && !is_dash(a->bytes, a->bn) &&
        (r = add(ev, FIELD_HTTP_RESPONSE_BODY_BYTES, a->bytes, a->bn)) < 0)
        return r;
    if (a->ref && !is_dash(a->ref, a->refn) && a->refn &&
        (r = add_quoted(ev, FIELD_HTTP_REQUEST_REFERRER, a->ref, a->refn)) < 0)
        return r;
    if (a->ua && !is_dash(a->ua, a->uan) && a->uan &&
        (r = add_quoted(ev, FIELD_USER_AGENT_ORIGINAL, a->ua, a->uan)) < 0)
        return r;
    if ((r = add(ev, FIELD_EVENT_CATEGORY, "web", 3)) < 0 ||
        (r = add(ev, FIELD_EVENT_DATASET, "web.access", 10)) < 0)
        return r;
    return 0;
}

int decode_web_access(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr)
{
    struct web_access a;
    size_t i = 0, nw = 0;
    int r;

    (void)ctx;
    /* Up to four words before "[". */
    while (i < len && nw < 5) {
        size_t w0 = i;
        if (p[i] == '[')
            break;
        while (i < len && p[i] != ' ')
            i++;
        if (nw == 4)
            return -ENOENT;
        a.w[nw] = p + w0;
        a.wn[nw++] = i - w0;
        if (i >= len || p[i] != ' ' || i == w0)
            return -ENOENT;
        i++;
    }
    a.nw = nw;
    if (nw < 3 || i >= len || p[i] != '[')
        return -ENOENT;
    if (time_parse_clf(p + i + 1, len - i - 1, &a.us, &a.used) < 0 || i + 1 + a.used >= len ||
        p[i + 1 + a.used] != ']')
        return -ENOENT;
    a.s0 = i + 1;
    i += a.used + 2;
    if (i + 1 >= len || p[i] != ' ' || p[i + 1] != '"') {
        parse_err_set(reterr, i, "no quoted request after the time");
        return -EINVAL;
    }
    i++;
    if (read_quoted(p, len, &i, &a.rq, &a.rqn) < 0) {
        parse_err_set(reterr, i, "unterminated request");
        return -EINVAL;
    }
    if (i + 4 > len || p[i] != ' ' || p[i + 1] < '1' || p[i + 1] > '5' || p[i + 2] < '0' ||
        p[i + 2] > '9' || p[i + 3] < '0' || p[i + 3] > '9' || (i + 4 < len && p[i + 4] != ' ')) {
        parse_err_set(reterr, i + 1 <= len ? i : len, "bad status code");
        return -EINVAL;
    }
    a.st = i + 1;
    i += 4;
    a.bytes = a.ref = a.ua = NULL;
    a.bn = a.refn = a.uan = 0;
    if (i < len) {
        size_t k = i + 1;
        while (k < len && p[k] != ' ')
            k++;
        a.bytes = p + i + 1;
        a.bn = k - (i + 1);
        i = k;
    }
    /* Combined: ' "referrer" "agent"'; further fields are ignored. */
    if (i + 1 < len && p[i] == ' ' && p[i + 1] == '"') {
        i++;
        if (read_quoted(p, len, &i, &a.ref, &a.refn) < 0) {
            parse_err_set(reterr, i, "unterminated referrer");
            return -EINVAL;
        }
        if (i + 1 < len && p[i] == ' ' && p[i + 1] == '"') {
            i++;
            if (read_quoted(p, len, &i, &a.ua, &a.uan) < 0) {
                parse_err_set(reterr, i, "unterminated user agent");
                return -EINVAL;
            }
        }
    }
    if ((r = web_access_emit(ev, p, &a)) < 0)
        return r;
    ev->decoder = "web-access";
    return 0;
}

/* ---- error logs ---- */

/* Reads n (at most 9) decimal digits at s; -1 if any is not a digit. */
static int digits(const char *s, size_t n)
{
    int v = 0;

    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The client "[client A]" or "[client A:port]" (2.4 always adds a port). */
static int add_apache_client(struct event *ev, const char *v, size_t n, int v24)
{
    const char *colon = NULL;
    int r;

    for (size_t k = n; k-- > 0;)
        if (v[k] == ':') {
            colon = v + k;
            break;
        }
    /* A port is 1 to 5 digits after the last ':'. */
    if (colon && (v24 || memchr(v, '.', n)) && n - (size_t)(colon - v) - 1 <= 5 &&
        digits(colon + 1, n - (size_t)(colon - v) - 1) >= 0) {
        if ((r = add_client(ev, v, (size_t)(colon - v))) < 0)
            return r;
        return add(ev, FIELD_SOURCE_PORT, colon + 1, n - (size_t)(colon - v) - 1);
    }
    return add_client(ev, v, n);
}

static int decode_apache_error(struct event *ev, const char *p, size_t len,
                               const struct decode_ctx *ctx, struct parse_err *reterr)
{
    size_t i, used, m0;
    int64_t us;
    const char *lvl, *colon, *close;
    size_t ln;
    int v24, r;

    if (time_parse_ctime(p + 1, len - 1, ctx ? ctx->tz : NULL, &us, &used) < 0 ||
        1 + used >= len || p[1 + used] != ']')
        return -ENOENT;
    i = used + 2;
    if (i + 1 >= len || p[i] != ' ' || p[i + 1] != '[')
        return -ENOENT;
    i += 2;
    close = memchr(p + i, ']', len - i);
    if (!close)
        return -ENOENT;
    lvl = p + i;
    ln = (size_t)(close - lvl);
    if (ln == 0 || ln > 64 || memchr(lvl, ' ', ln))
        return -ENOENT;
    v24 = memchr(p + 1, '.', used) != NULL;
    if ((r = event_set_time(ev, us, p + 1, used)) < 0)
        return r;
    colon = memchr(lvl, ':', ln);
    if (colon) {
        v24 = 1;
        if ((r = add_named(ev, "apache.error.module", lvl, (size_t)(colon - lvl))) < 0)
            return r;
        ln -= (size_t)(colon - lvl) + 1;
        lvl = colon + 1;
    }
    if ((r = add(ev, FIELD_LOG_LEVEL, lvl, ln)) < 0)
        return r;
    i = (size_t)(close - p) + 1;
    /* Optional "[pid N(:tid M)]" and "[client A]" groups. */
    while (i + 1 < len && p[i] == ' ' && p[i + 1] == '[') {
        const char *g = p + i + 2, *e = memchr(g, ']', len - i - 2);
        size_t gn;

        if (!e) {
            parse_err_set(reterr, i + 1, "unclosed bracket");
            return -EINVAL;
        }
        gn = (size_t)(e - g);
        if (gn > 4 && memcmp(g, "pid ", 4) == 0) {
            size_t k = 4;
            while (k < gn && g[k] >= '0' && g[k] <= '9')
                k++;
            if (k > 4 && (r = add(ev, FIELD_PROCESS_PID, g + 4, k - 4)) < 0)
                return r;
        } else if (gn > 7 && memcmp(g, "client ", 7) == 0) {
            if ((r = add_apache_client(ev, g + 7, gn - 7, v24)) < 0)
                return r;
        } else {
            break; /* part of the message */
        }
        i = (size_t)(e - p) + 1;
    }
    while (i < len && p[i] == ' ')
        i++;
    m0 = i;
    /* "AH00126: " */
    if (len - i > 9 && p[i] == 'A' && p[i + 1] == 'H' && digits(p + i + 2, 5) >= 0 &&
        p[i + 7] == ':') {
        if ((r = add_named(ev, "error.code", p + i, 7)) < 0)
            return r;
    }
    if ((r = add(ev, FIELD_MESSAGE, p + m0, len - m0)) < 0 ||
        (r = add(ev, FIELD_EVENT_DATASET, "web.error", 9)) < 0)
        return r;
    ev->decoder = "web-error";
    return 0;
}

static int decode_nginx_error(struct event *ev, const char *p, size_t len,
                              const struct decode_ctx *ctx, struct parse_err *reterr)
{
    int y, mo, d, h, mi, s;
    size_t i, k;
    const char *close, *cl;
    int64_t us;
    int r;

    /* "yyyy/mm/dd hh:mm:ss [" */
    if (len < 22 || p[4] != '/' || p[7] != '/' || p[10] != ' ' || p[13] != ':' || p[16] != ':' ||
        p[19] != ' ' || p[20] != '[')
        return -ENOENT;
    y = digits(p, 4);
    mo = digits(p + 5, 2);
    d = digits(p + 8, 2);
    h = digits(p + 11, 2);
    mi = digits(p + 14, 2);
    s = digits(p + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        s < 0 || s > 60)
        return -ENOENT;
    close = memchr(p + 21, ']', len - 21);
    if (!close || close == p + 21 || close - p > 40)
        return -ENOENT;
    us = tz_local_to_utc(ctx ? ctx->tz : NULL, time_from_civil(y, mo, d, h, mi, s)) * 1000000LL;
    if ((r = event_set_time(ev, us, p, 19)) < 0 ||
        (r = add(ev, FIELD_LOG_LEVEL, p + 21, (size_t)(close - p - 21))) < 0)
        return r;
    i = (size_t)(close - p) + 1;
    while (i < len && p[i] == ' ')
        i++;
    /* "PID#TID: " */
    k = i;
    while (k < len && p[k] >= '0' && p[k] <= '9')
        k++;
    if (k > i && k < len && p[k] == '#') {
        if ((r = add(ev, FIELD_PROCESS_PID, p + i, k - i)) < 0)
            return r;
        while (k < len && p[k] != ':')
            k++;
        i = k + 1 < len ? k + 1 : len;
        while (i < len && p[i] == ' ')
            i++;
    }
    /* "*CONN " */
    if (i < len && p[i] == '*') {
        k = i + 1;
        while (k < len && p[k] >= '0' && p[k] <= '9')
            k++;
        if (k > i + 1 && (r = add_named(ev, "nginx.error.connection_id", p + i + 1, k - i - 1)) < 0)
            return r;
        i = k;
        while (i < len && p[i] == ' ')
            i++;
    }
    if ((r = add(ev, FIELD_MESSAGE, p + i, len - i)) < 0)
        return r;
    cl = memmem(p + i, len - i, ", client: ", 10);
    if (cl) {
        const char *a = cl + 10, *e = a;
        while (e < p + len && *e != ',' && *e != ' ')
            e++;
        if (e > a && (r = add_client(ev, a, (size_t)(e - a))) < 0)
            return r;
    }
    if ((r = add(ev, FIELD_EVENT_DATASET, "web.error", 9)) < 0)
        return r;
    (void)reterr;
    ev->decoder = "web-error";
    return 0;
}

int decode_web_error(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr)
{
    if (len > 1 && p[0] == '[')
        return decode_apache_error(ev, p, len, ctx, reterr);
    if (len > 4 && p[4] == '/')
        return decode_nginx_error(ev, p, len, ctx, reterr);
    return -ENOENT;
}
