/*
 * decode_squid.c - Squid native access log lines.
 *
 * Ten space-separated fields, the first padded with spaces by Squid's
 * default format ("%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un
 * %Sh/%<a %mt"); a line counts as Squid's when its first field is an epoch
 * time with milliseconds and its fourth is CODE/STATUS, so free text and
 * other logs that start with a number are declined.  Every value is a view
 * into the line, except the lowercased action and the duration.
 */
#include "decode/decode_squid.h"

#include <errno.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "decode/decode_util.h"
#include "event/event.h"
#include "event/field.h"

#define LIT(s) s, sizeof(s) - 1
#define SQUID_FIELDS 10

/*
 * Squid's own field names (no FIELD_ constant), their ids kept per thread
 * for the dictionary generation that gave them: one compare a name where
 * decode_fieldid_intern() hashed and compared it (700 of a line's 4.7k
 * instructions, issue 24).  A name is asked for where the field is added,
 * as before, so the dictionary sees the same requests in the same order;
 * a refusal (FIELD_NONE) is not kept, the dictionary counts each one.
 */
enum {
    SQ_SOURCE_DOMAIN,
    SQ_DESTINATION_DOMAIN,
    SQ_URL_SCHEME,
    SQ_URL_DOMAIN,
    SQ_URL_PORT,
    SQ_RESPONSE_BYTES,
    SQ_DURATION,
    SQ_HIERARCHY,
    SQ_MIME_TYPE,
    SQ_NAMES
};

static const struct {
    const char *name;
    size_t n;
} sq_names[SQ_NAMES] = {
    [SQ_SOURCE_DOMAIN] = {LIT("source.domain")},
    [SQ_DESTINATION_DOMAIN] = {LIT("destination.domain")},
    [SQ_URL_SCHEME] = {LIT("url.scheme")},
    [SQ_URL_DOMAIN] = {LIT("url.domain")},
    [SQ_URL_PORT] = {LIT("url.port")},
    [SQ_RESPONSE_BYTES] = {LIT("http.response.bytes")},
    [SQ_DURATION] = {LIT("event.duration")},
    [SQ_HIERARCHY] = {LIT("squid.hierarchy_code")},
    [SQ_MIME_TYPE] = {LIT("http.response.mime_type")},
};

struct sq_ids {
    uint32_t gen[SQ_NAMES];
    uint32_t id[SQ_NAMES]; /* FIELD_NONE: not asked yet in this generation */
};

static _Thread_local struct sq_ids sq_ids_tls;

/* What a record's helpers share: the event, this thread's ids (the
 * address taken once a record: each _Thread_local access in these -fPIC
 * libraries is a call) and the dictionary generation read once. */
struct sq {
    struct event *ev;
    struct sq_ids *ids;
    uint32_t gen;
};

static uint32_t sq_id(const struct sq *q, int k)
{
    struct sq_ids *t = q->ids;

    if (t->id[k] == FIELD_NONE || t->gen[k] != q->gen) {
        t->id[k] = decode_fieldid_intern(sq_names[k].name, sq_names[k].n);
        t->gen[k] = q->gen;
    }
    return t->id[k];
}

/* decode_util_add_named() for name k: nothing for an empty span, the name
 * asked for only then (as decode_util_add_named() did). */
static inline int sq_add(const struct sq *q, int k, struct decode_span s)
{
    if (!s.n)
        return 0;
    return decode_util_add(q->ev, sq_id(q, k), s);
}

/* "SSSSSSSSSS.mmm": seconds (1 to 12 digits) and 1 to 6 fraction digits,
 * into µs; -1 when it is not that.  One pass: the first byte that is no
 * digit must be the dot. */
static long long epoch_us(struct decode_span s)
{
    long long us = 0, frac = 0, scale = 100000;
    size_t k = 0, f;
    unsigned d;

    while (k < s.n && (d = (unsigned char)s.p[k] - (unsigned)'0') <= 9) {
        if (k == 12)
            return -1;
        us = us * 10 + d;
        k++;
    }
    if (k == 0 || k == s.n || s.p[k] != '.' || s.n - k - 1 == 0 || s.n - k - 1 > 6)
        return -1;
    for (f = k + 1; f < s.n; f++, scale /= 10) {
        if ((d = (unsigned char)s.p[f] - (unsigned)'0') > 9)
            return -1;
        frac += d * scale;
    }
    return us * 1000000 + frac;
}

/* 1 if s is one or more decimal digits: decode_util_all_digits(), inline
 * (four spans a line). */
static inline int digits(struct decode_span s)
{
    if (!s.n)
        return 0;
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned)((unsigned char)s.p[i] - '0') > 9)
            return 0;
    return 1;
}

/* Splits the URL: "scheme://host[:port]/path[?query]", or CONNECT's
 * "host:port". */
static int add_url(const struct sq *q, struct decode_span u)
{
    struct event *ev = q->ev;
    const char *s = u.p, *end = u.p + u.n, *h, *hend, *path, *sep = NULL;
    struct decode_span scheme = {NULL, 0}, host, port = {NULL, 0}, pth = {NULL, 0}, qs = {NULL, 0};
    int r;

    if (!u.n)
        return 0;
    /* The first "://" (decode_util_find() did the same by a call). */
    for (const char *c = u.n >= 3 ? memchr(u.p, ':', u.n - 2) : NULL; c;
         c = c + 1 < end - 2 ? memchr(c + 1, ':', (size_t)(end - 2 - (c + 1))) : NULL) {
        if (c[1] == '/' && c[2] == '/') {
            sep = c;
            break;
        }
    }
    if ((r = decode_util_add(ev, FIELD_URL_ORIGINAL, u)) < 0)
        return r;
    if (sep) {
        scheme.p = s;
        scheme.n = (size_t)(sep - s);
        h = sep + 3;
    } else if (u.n && u.p[0] == '/') {
        h = NULL; /* a path alone (transparent proxy) */
    } else {
        h = s;
    }
    path = h ? h : s;
    if (h) {
        const char *at;
        hend = h;
        while (hend < end && *hend != '/' && *hend != '?')
            hend++;
        path = hend;
        /* user:password@ is not the host */
        at = memchr(h, '@', (size_t)(hend - h));
        if (at)
            h = at + 1;
        host.p = h;
        host.n = (size_t)(hend - h);
        if (host.n && host.p[0] == '[') { /* [v6]:port */
            const char *rb = memchr(host.p, ']', host.n);
            if (rb) {
                if (rb + 1 < hend && rb[1] == ':') {
                    port.p = rb + 2;
                    port.n = (size_t)(hend - port.p);
                }
                host.p++;
                host.n = (size_t)(rb - host.p);
            }
        } else {
            const char *colon = host.n ? memrchr(host.p, ':', host.n) : NULL;
            if (colon) {
                port.p = colon + 1;
                port.n = (size_t)(hend - port.p);
                host.n = (size_t)(colon - host.p);
            }
        }
        if (port.n && !decode_util_is_port(port.p, port.n))
            port.n = 0;
        if ((r = sq_add(q, SQ_URL_SCHEME, scheme)) < 0 ||
            (r = sq_add(q, SQ_URL_DOMAIN, host)) < 0 || (r = sq_add(q, SQ_URL_PORT, port)) < 0)
            return r;
    }
    if (path < end) {
        const char *qm = memchr(path, '?', (size_t)(end - path));
        pth.p = path;
        pth.n = (size_t)((qm ? qm : end) - path);
        if (qm) {
            qs.p = qm + 1;
            qs.n = (size_t)(end - qs.p);
        }
    }
    if ((r = decode_util_add(ev, FIELD_URL_PATH, pth)) < 0 ||
        (r = decode_util_add(ev, FIELD_URL_QUERY, qs)) < 0)
        return r;
    return 0;
}

/* An address (field ip_id), or a name (field dom, a SQ_ name). */
static int add_host(const struct sq *q, uint32_t ip_id, int dom, struct decode_span v)
{
    if (!v.n || (v.n == 1 && v.p[0] == '-'))
        return 0;
    if (decode_util_is_ip(v.p, v.n))
        return decode_util_add(q->ev, ip_id, v);
    return sq_add(q, dom, v);
}

/* 1 if the result code holds "DENIED" (TCP_DENIED, TCP_DENIED_REPLY, ...). */
static int denied(struct decode_span code)
{
    for (size_t k = 0; k + 6 <= code.n; k++)
        if (code.p[k] == 'D' && memcmp(code.p + k, "DENIED", 6) == 0)
            return 1;
    return 0;
}

/* event.duration: the elapsed milliseconds (at most 12 digits, so the
 * nanoseconds fit a long long) in ns, as "%lld" wrote them, into the
 * arena: the digits and six zeros, without snprintf (900 of a line's 4.7k
 * instructions, issue 24). */
static int add_duration(const struct sq *q, long long elapsed_ms)
{
    struct event *ev = q->ev;
    char tmp[24];
    size_t n = 0, k = sizeof(tmp);
    uint32_t id = sq_id(q, SQ_DURATION);
    char *t;

    if (elapsed_ms == 0) {
        tmp[--k] = '0';
    } else {
        for (int z = 0; z < 6; z++)
            tmp[--k] = '0';
        for (unsigned long long v = (unsigned long long)elapsed_ms; v; v /= 10)
            tmp[--k] = (char)('0' + v % 10);
    }
    n = sizeof(tmp) - k;
    /* event_add_copy()'s copy: n bytes and a NUL */
    if (!(t = arena_strndup(ev->arena, tmp + k, n))) {
        ev->dropped++;
        return -ENOMEM;
    }
    return event_add(ev, id, t, n) == -ENOMEM ? -ENOMEM : 0;
}

int decode_squid(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr)
{
    struct decode_span f[SQUID_FIELDS], code, status, hier, peer;
    struct sq q;
    size_t i = 0, nf = 0;
    long long t_us, elapsed = 0;
    const char *slash;
    char *lc;
    int r;

    (void)ctx;
    /* Fields are split at spaces, 16 bytes a step (decode_util_scan_to);
     * Squid pads the elapsed time with spaces. */
    while (i < len && nf < SQUID_FIELDS) {
        while (i < len && p[i] == ' ')
            i++;
        if (i >= len)
            break;
        f[nf].p = p + i;
        i = decode_util_scan_to(p, i, len, ' ');
        f[nf].n = (size_t)(p + i - f[nf].p);
        nf++;
    }
    /* The shape: an epoch time, the elapsed milliseconds, CODE/STATUS. */
    if (nf < 4 || (t_us = epoch_us(f[0])) < 0 || !digits(f[1]) ||
        !(slash = memchr(f[3].p, '/', f[3].n)) || slash == f[3].p)
        return -ENOENT;
    code.p = f[3].p;
    code.n = (size_t)(slash - f[3].p);
    status.p = slash + 1;
    status.n = f[3].n - code.n - 1;
    if (status.n != 3 || !digits(status)) {
        parse_err_set(reterr, (size_t)(status.p - p),
                      "status after the result code is not 3 digits");
        return -EINVAL;
    }
    if (nf < SQUID_FIELDS) {
        parse_err_set(reterr, len, "fewer than ten fields");
        return -EINVAL;
    }
    if (!digits(f[4])) {
        parse_err_set(reterr, (size_t)(f[4].p - p), "reply size is not a number");
        return -EINVAL;
    }
    for (size_t k = 0; k < f[1].n && k < 12; k++)
        elapsed = elapsed * 10 + (f[1].p[k] - '0');

    q.ev = ev;
    q.ids = &sq_ids_tls;
    q.gen = field_generation();
    if ((r = event_set_time(ev, t_us, f[0].p, f[0].n)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("squid.access"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("web"))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr("squid"))) < 0 ||
        (r = add_host(&q, FIELD_SOURCE_IP, SQ_SOURCE_DOMAIN, f[2])) < 0)
        return r;
    if (!(lc = arena_alloc(ev->arena, code.n ? code.n : 1)))
        return -ENOMEM;
    for (size_t k = 0; k < code.n; k++) {
        char c = code.p[k];
        lc[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    if ((r = decode_util_add(ev, FIELD_EVENT_ACTION, (struct decode_span){lc, code.n})) < 0 ||
        (r = decode_util_add(ev, FIELD_HTTP_RESPONSE_STATUS_CODE, status)) < 0 ||
        (r = sq_add(&q, SQ_RESPONSE_BYTES, f[4])) < 0 ||
        (r = decode_util_add(ev, FIELD_HTTP_REQUEST_METHOD, f[5])) < 0 ||
        (r = add_duration(&q, elapsed)) < 0)
        return r;
    if ((r = add_url(&q, f[6])) < 0)
        return r;
    if (!(f[7].n == 1 && f[7].p[0] == '-') && (r = decode_util_add(ev, FIELD_USER_NAME, f[7])) < 0)
        return r;
    /* "DIRECT/199.27.79.73", "HIER_NONE/-", "FIRSTUP_PARENT/proxy2" */
    hier = f[8];
    peer.p = NULL;
    peer.n = 0;
    if ((slash = memchr(f[8].p, '/', f[8].n))) {
        hier.n = (size_t)(slash - f[8].p);
        peer.p = slash + 1;
        peer.n = f[8].n - hier.n - 1;
    }
    if ((r = sq_add(&q, SQ_HIERARCHY, hier)) < 0 ||
        (r = add_host(&q, FIELD_DESTINATION_IP, SQ_DESTINATION_DOMAIN, peer)) < 0 ||
        (!(f[9].n == 1 && f[9].p[0] == '-') && (r = sq_add(&q, SQ_MIME_TYPE, f[9])) < 0))
        return r;
    {
        int st = (status.p[0] - '0') * 100 + (status.p[1] - '0') * 10 + (status.p[2] - '0');
        const char *outcome = denied(code) || st >= 400 ? "failure" : st >= 100 ? "success" : NULL;
        if (outcome &&
            (r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr(outcome))) < 0)
            return r;
    }
    ev->decoder = "squid";
    return 0;
}
