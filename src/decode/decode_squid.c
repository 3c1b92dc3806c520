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

#include "decode/decode_util.h"
#include "event/event.h"

#define LIT(s) s, sizeof(s) - 1
#define SQUID_FIELDS 10

/* "SSSSSSSSSS.mmm": seconds (1 to 12 digits) and 1 to 6 fraction digits,
 * into µs; -1 when it is not that. */
static long long epoch_us(struct decode_span s)
{
    const char *dot = s.n ? memchr(s.p, '.', s.n) : NULL;
    struct decode_span sec, frac;
    long long us = 0, scale = 100000;

    if (!dot)
        return -1;
    sec.p = s.p;
    sec.n = (size_t)(dot - s.p);
    frac.p = dot + 1;
    frac.n = s.n - sec.n - 1;
    if (!decode_util_all_digits(sec) || sec.n > 12 || !decode_util_all_digits(frac) || frac.n > 6)
        return -1;
    for (size_t i = 0; i < sec.n; i++)
        us = us * 10 + (sec.p[i] - '0');
    us *= 1000000;
    for (size_t i = 0; i < frac.n; i++, scale /= 10)
        us += (frac.p[i] - '0') * scale;
    return us;
}

/* Splits the URL: "scheme://host[:port]/path[?query]", or CONNECT's
 * "host:port". */
static int add_url(struct event *ev, struct decode_span u)
{
    const char *s = u.p, *end = u.p + u.n, *h, *hend, *path;
    struct decode_span scheme = {NULL, 0}, host, port = {NULL, 0}, pth = {NULL, 0}, q = {NULL, 0};
    const char *sep = u.n >= 3 ? decode_util_find(u.p, u.n, "://", 3) : NULL;
    int r;

    if (!u.n)
        return 0;
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
        if ((r = decode_util_add_named(ev, LIT("url.scheme"), scheme)) < 0 ||
            (r = decode_util_add_named(ev, LIT("url.domain"), host)) < 0 ||
            (r = decode_util_add_named(ev, LIT("url.port"), port)) < 0)
            return r;
    }
    if (path < end) {
        const char *qm = memchr(path, '?', (size_t)(end - path));
        pth.p = path;
        pth.n = (size_t)((qm ? qm : end) - path);
        if (qm) {
            q.p = qm + 1;
            q.n = (size_t)(end - q.p);
        }
    }
    if ((r = decode_util_add(ev, FIELD_URL_PATH, pth)) < 0 ||
        (r = decode_util_add(ev, FIELD_URL_QUERY, q)) < 0)
        return r;
    return 0;
}

/* An address, or a name: "ip" or "domain" of `side` ("source"/"destination"). */
static int add_host(struct event *ev, uint32_t ip_id, const char *dom, size_t dom_n,
                    struct decode_span v)
{
    if (!v.n || (v.n == 1 && v.p[0] == '-'))
        return 0;
    if (decode_util_is_ip(v.p, v.n))
        return decode_util_add(ev, ip_id, v);
    return decode_util_add_named(ev, dom, dom_n, v);
}

static int contains(struct decode_span s, const char *lit, size_t n)
{
    return s.n >= n && decode_util_find(s.p, s.n, lit, n) != NULL;
}

int decode_squid(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr)
{
    struct decode_span f[SQUID_FIELDS], code, status, hier, peer;
    size_t i = 0, nf = 0;
    long long t_us, elapsed = 0;
    const char *slash;
    char *lc;
    int r;

    (void)ctx;
    while (i < len && nf < SQUID_FIELDS) {
        while (i < len && p[i] == ' ')
            i++;
        if (i >= len)
            break;
        f[nf].p = p + i;
        while (i < len && p[i] != ' ')
            i++;
        f[nf].n = (size_t)(p + i - f[nf].p);
        nf++;
    }
    /* The shape: an epoch time, the elapsed milliseconds, CODE/STATUS. */
    if (nf < 4 || (t_us = epoch_us(f[0])) < 0 || !decode_util_all_digits(f[1]) ||
        !(slash = memchr(f[3].p, '/', f[3].n)) || slash == f[3].p)
        return -ENOENT;
    code.p = f[3].p;
    code.n = (size_t)(slash - f[3].p);
    status.p = slash + 1;
    status.n = f[3].n - code.n - 1;
    if (!decode_util_all_digits(status) || status.n != 3) {
        parse_err_set(reterr, (size_t)(status.p - p),
                      "status after the result code is not 3 digits");
        return -EINVAL;
    }
    if (nf < SQUID_FIELDS) {
        parse_err_set(reterr, len, "fewer than ten fields");
        return -EINVAL;
    }
    if (!decode_util_all_digits(f[4])) {
        parse_err_set(reterr, (size_t)(f[4].p - p), "reply size is not a number");
        return -EINVAL;
    }
    for (size_t k = 0; k < f[1].n && k < 12; k++)
        elapsed = elapsed * 10 + (f[1].p[k] - '0');

    if ((r = event_set_time(ev, t_us, f[0].p, f[0].n)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("squid.access"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("web"))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr("squid"))) < 0 ||
        (r = add_host(ev, FIELD_SOURCE_IP, LIT("source.domain"), f[2])) < 0)
        return r;
    if (!(lc = arena_alloc(ev->arena, code.n ? code.n : 1)))
        return -ENOMEM;
    for (size_t k = 0; k < code.n; k++) {
        char c = code.p[k];
        lc[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    if ((r = decode_util_add(ev, FIELD_EVENT_ACTION, (struct decode_span){lc, code.n})) < 0 ||
        (r = decode_util_add(ev, FIELD_HTTP_RESPONSE_STATUS_CODE, status)) < 0 ||
        (r = decode_util_add_named(ev, LIT("http.response.bytes"), f[4])) < 0 ||
        (r = decode_util_add(ev, FIELD_HTTP_REQUEST_METHOD, f[5])) < 0 ||
        (r = event_add_int(ev, field_intern(LIT("event.duration")), elapsed * 1000000LL)) ==
            -ENOMEM)
        return r;
    if ((r = add_url(ev, f[6])) < 0)
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
    if ((r = decode_util_add_named(ev, LIT("squid.hierarchy_code"), hier)) < 0 ||
        (r = add_host(ev, FIELD_DESTINATION_IP, LIT("destination.domain"), peer)) < 0 ||
        (!(f[9].n == 1 && f[9].p[0] == '-') &&
         (r = decode_util_add_named(ev, LIT("http.response.mime_type"), f[9])) < 0))
        return r;
    {
        int st = (status.p[0] - '0') * 100 + (status.p[1] - '0') * 10 + (status.p[2] - '0');
        const char *outcome = contains(code, LIT("DENIED")) || st >= 400 ? "failure"
                              : st >= 100                                ? "success"
                                                                         : NULL;
        if (outcome &&
            (r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr(outcome))) < 0)
            return r;
    }
    ev->decoder = "squid";
    return 0;
}
