/*
 * decode_leef.c - IBM QRadar Log Event Extended Format 1.0 and 2.0.
 *
 * Every value is a view into the record: LEEF defines no escapes.
 */
#include "decode/decode_leef.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "event/event.h"
#include "event/time.h"
#include "util/hex.h"
#include "util/limits.h"

static int keep(int r)
{
    /* A full event or a refused name drops one field (counted); only
     * memory exhaustion stops the decoder. */
    return r == -ENOMEM ? r : 0;
}

/* The delimiter named by a LEEF 2.0 header field, or -1. */
static int parse_delim(const char *s, size_t n)
{
    size_t i = 0;
    int v = 0;

    if (n == 1)
        return (unsigned char)s[0];
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        i = 2;
    else if (n >= 1 && (s[0] == 'x' || s[0] == 'X'))
        i = 1;
    else
        return -1;
    if (n - i < 1 || n - i > 2)
        return -1;
    for (; i < n; i++) {
        int h = hex_value(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v == 0 ? -1 : v;
}

static int add_lower(struct event *ev, uint32_t id, const char *v, size_t n)
{
    char *d;

    if (n == 1 && v[0] == '6')
        return keep(event_add(ev, id, "tcp", 3));
    if (n == 2 && v[0] == '1' && v[1] == '7')
        return keep(event_add(ev, id, "udp", 3));
    if (n == 1 && v[0] == '1')
        return keep(event_add(ev, id, "icmp", 4));
    if (!(d = arena_alloc(ev->arena, n ? n : 1)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
    return keep(event_add(ev, id, d, n));
}

struct leef_alias {
    const char *key;
    uint32_t id;
};

static const struct leef_alias leef_aliases[] = {
    {"src", FIELD_SOURCE_IP},       {"dst", FIELD_DESTINATION_IP},
    {"srcPort", FIELD_SOURCE_PORT}, {"dstPort", FIELD_DESTINATION_PORT},
    {"usrName", FIELD_USER_NAME},   {"proto", FIELD_NETWORK_TRANSPORT},
    {"sev", FIELD_EVENT_SEVERITY},
};

static int set_devtime(struct event *ev, const char *v, size_t n, const struct decode_ctx *ctx)
{
    int64_t us;
    size_t used;
    const struct tz *tz = ctx ? ctx->tz : NULL;

    if ((time_parse_epoch(v, n, &us, &used) == 0 && used == n) ||
        time_parse_rfc3164(v, n, ctx ? ctx->ref_us : 0, ctx ? ctx->prev_us : 0, tz, &us, &used) == 0 ||
        time_parse_iso8601(v, n, tz, &us, &used) == 0)
        return event_set_time(ev, us, v, n);
    return 0;
}

static int add_attr(struct event *ev, const char *t, size_t n, const struct decode_ctx *ctx)
{
    const char *eq = memchr(t, '=', n);
    char name[LIMIT_FIELD_NAME_LEN + 1];
    size_t kn, vn;
    const char *v;
    uint32_t id = FIELD_NONE;
    int r;

    /* Tolerate a space after the delimiter ("a=1\t b=2"). */
    while (n && t[0] == ' ') {
        t++;
        n--;
        eq = memchr(t, '=', n);
    }
    if (!eq || eq == t)
        return 0;
    kn = (size_t)(eq - t);
    v = eq + 1;
    vn = n - kn - 1;
    if (kn + 5 <= LIMIT_FIELD_NAME_LEN) {
        memcpy(name, "leef.", 5);
        memcpy(name + 5, t, kn);
        id = field_intern(name, kn + 5);
    }
    if ((r = keep(event_add(ev, id, v, vn))) < 0 || vn == 0)
        return r;
    if (kn == 7 && memcmp(t, "devTime", 7) == 0)
        return set_devtime(ev, v, vn, ctx);
    for (size_t a = 0; a < sizeof(leef_aliases) / sizeof(leef_aliases[0]); a++) {
        if (strlen(leef_aliases[a].key) != kn || memcmp(leef_aliases[a].key, t, kn) != 0)
            continue;
        if (leef_aliases[a].id == FIELD_NETWORK_TRANSPORT)
            return add_lower(ev, leef_aliases[a].id, v, vn);
        return keep(event_add(ev, leef_aliases[a].id, v, vn));
    }
    return 0;
}

int decode_leef(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr)
{
    static const uint32_t hid[5] = {FIELD_NONE, FIELD_OBSERVER_VENDOR, FIELD_OBSERVER_PRODUCT,
                                    FIELD_OBSERVER_VERSION, FIELD_EVENT_CODE};
    const char *start = memmem(p, len, "LEEF:", 5);
    const char *hdr[6];
    size_t hlen[6], i, f0, off, nf = 0, want;
    int delim = '\t', v2, r;

    if (!start)
        return -ENOENT;
    off = (size_t)(start - p);
    i = f0 = off + 5;
    if (i < len && (p[i] == '1' || p[i] == '2') &&
        (i + 1 == len || p[i + 1] == '|' ||
         (p[i + 1] == '.' && i + 2 < len && p[i + 2] == '0' &&
          (i + 3 == len || p[i + 3] == '|')))) {
        v2 = p[i] == '2';
    } else {
        parse_err_set(reterr, i, "unknown LEEF version");
        return -EINVAL;
    }
    want = v2 ? 6 : 5;
    for (; i < len && nf < want; i++) {
        if (p[i] == '|') {
            hdr[nf] = p + f0;
            hlen[nf] = i - f0;
            nf++;
            f0 = i + 1;
        }
    }
    if (nf < 5) {
        parse_err_set(reterr, off, "LEEF header has fewer than 5 fields");
        return -EINVAL;
    }
    if (v2 && nf == 6 && memchr(hdr[5], '=', hlen[5])) {
        /* No delimiter field: the sixth field was the first attribute. */
        f0 = (size_t)(hdr[5] - p);
    } else if (v2 && nf == 6 && hlen[5] > 0) {
        if ((delim = parse_delim(hdr[5], hlen[5])) < 0) {
            parse_err_set(reterr, (size_t)(hdr[5] - p), "bad LEEF 2.0 delimiter");
            return -EINVAL;
        }
    } else if (v2 && nf == 5) {
        /* Header ends without a delimiter field and without attributes. */
        f0 = (size_t)(hdr[4] - p) + hlen[4] + 1;
    }
    if ((r = keep(event_add(ev, field_intern("leef.version", 12), hdr[0], hlen[0]))) < 0)
        return r;
    for (size_t k = 1; k < 5; k++)
        if (hlen[k] && (r = keep(event_add(ev, hid[k], hdr[k], hlen[k]))) < 0)
            return r;
    for (i = f0; i <= len; i++) {
        if (i == len || (unsigned char)p[i] == (unsigned)delim) {
            if (i > f0 && (r = add_attr(ev, p + f0, i - f0, ctx)) < 0)
                return r;
            f0 = i + 1;
        }
    }
    ev->decoder = "leef";
    return 0;
}
