/*
 * decode_cef.c - ArcSight Common Event Format.
 *
 * Values are views into the record unless they hold an escape; those are
 * unescaped once into the event's arena.  Extension keys are found by
 * looking back from each unescaped '=' for a run of key characters that
 * starts after a space: that is the only way to end a value that may itself
 * contain spaces.
 */
#include "decode/decode_cef.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "event/event.h"
#include "event/time.h"
#include "util/limits.h"

#define CEF_HEADER_FIELDS 7

static int keep(int r)
{
    /* A full event or a refused name drops one field (counted); only
     * memory exhaustion stops the decoder. */
    return r == -ENOMEM ? r : 0;
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '[' || c == ']';
}

/*
 * Adds (v, n) under `id`, unescaping when it holds a backslash.  `header`
 * selects the header escapes (\| \\) over the extension ones (\= \\ \n \r).
 */
static int add_value(struct event *ev, uint32_t id, const char *v, size_t n, int header)
{
    char *d;
    size_t o = 0;

    if (!memchr(v, '\\', n))
        return keep(event_add(ev, id, v, n));
    if (!(d = arena_alloc(ev->arena, n)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\\' && i + 1 < n) {
            char e = v[i + 1];
            if (e == '\\' || (header && e == '|') || (!header && e == '=')) {
                c = e;
                i++;
            } else if (!header && (e == 'n' || e == 'r')) {
                c = e == 'n' ? '\n' : '\r';
                i++;
            }
        }
        d[o++] = c;
    }
    return keep(event_add(ev, id, d, o));
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

struct cef_alias {
    const char *key;
    uint32_t id; /* FIELD_NONE: use name */
    const char *name;
};

static const struct cef_alias cef_aliases[] = {
    {"src", FIELD_SOURCE_IP, NULL},
    {"dst", FIELD_DESTINATION_IP, NULL},
    {"spt", FIELD_SOURCE_PORT, NULL},
    {"dpt", FIELD_DESTINATION_PORT, NULL},
    {"suser", FIELD_NONE, "source.user.name"},
    {"duser", FIELD_USER_NAME, NULL},
    {"shost", FIELD_NONE, "source.domain"},
    {"dhost", FIELD_NONE, "destination.domain"},
    {"proto", FIELD_NETWORK_TRANSPORT, NULL},
    {"request", FIELD_URL_ORIGINAL, NULL},
    {"requestMethod", FIELD_HTTP_REQUEST_METHOD, NULL},
    {"act", FIELD_EVENT_ACTION, NULL},
    {"msg", FIELD_MESSAGE, NULL},
};

/* Tries the time forms of rt: epoch (ms), then "MMM dd yyyy HH:mm:ss". */
static int set_rt(struct event *ev, const char *v, size_t n, const struct decode_ctx *ctx)
{
    int64_t us;
    size_t used;

    if (time_parse_epoch(v, n, &us, &used) == 0 && used == n)
        return event_set_time(ev, us, v, n);
    if (time_parse_rfc3164(v, n, ctx ? ctx->ref_us : 0, ctx ? ctx->prev_us : 0, ctx ? ctx->tz : NULL,
                           &us, &used) == 0 ||
        time_parse_iso8601(v, n, ctx ? ctx->tz : NULL, &us, &used) == 0)
        return event_set_time(ev, us, v, n);
    return 0;
}

/* Uses a timestamp at the start of the text before "CEF:", if any. */
static int set_prefix_time(struct event *ev, const char *p, size_t n, const struct decode_ctx *ctx)
{
    size_t i = 0, used;
    int64_t us;
    const struct tz *tz = ctx ? ctx->tz : NULL;

    if (n && p[0] == '<') {
        while (i < n && i < 6 && p[i] != '>')
            i++;
        if (i >= n || p[i] != '>')
            return 0;
        i++;
    }
    if (time_parse_iso8601(p + i, n - i, tz, &us, &used) == 0 ||
        time_parse_rfc3164(p + i, n - i, ctx ? ctx->ref_us : 0, ctx ? ctx->prev_us : 0, tz, &us,
                           &used) == 0)
        return event_set_time(ev, us, p + i, used);
    return 0;
}

static int add_ext(struct event *ev, const char *k, size_t kn, const char *v, size_t vn,
                   const struct decode_ctx *ctx)
{
    char name[LIMIT_FIELD_NAME_LEN + 1];
    uint32_t id = FIELD_NONE;
    int r;

    if (kn + 4 <= LIMIT_FIELD_NAME_LEN) {
        memcpy(name, "cef.", 4);
        memcpy(name + 4, k, kn);
        id = field_intern(name, kn + 4);
    }
    if ((r = add_value(ev, id, v, vn, 0)) < 0 || vn == 0)
        return r;
    if (kn == 2 && memcmp(k, "rt", 2) == 0)
        return set_rt(ev, v, vn, ctx);
    for (size_t a = 0; a < sizeof(cef_aliases) / sizeof(cef_aliases[0]); a++) {
        const struct cef_alias *al = &cef_aliases[a];

        if (strlen(al->key) != kn || memcmp(al->key, k, kn) != 0)
            continue;
        id = al->id != FIELD_NONE ? al->id : field_intern(al->name, strlen(al->name));
        if (al->id == FIELD_NETWORK_TRANSPORT)
            return add_lower(ev, id, v, vn);
        return add_value(ev, id, v, vn, 0);
    }
    return 0;
}

/* Decodes the extension ext[0..n); `base` is its offset in the input. */
static int decode_ext(struct event *ev, const char *ext, size_t n, size_t base,
                      const struct decode_ctx *ctx, struct parse_err *reterr)
{
    size_t i = 0, k0, kn, v0;
    int r;

    while (i < n && ext[i] == ' ')
        i++;
    if (i == n)
        return 0;
    k0 = i;
    while (i < n && is_key_char(ext[i]))
        i++;
    if (i == k0 || i >= n || ext[i] != '=') {
        parse_err_set(reterr, base + k0, "CEF extension does not start with key=");
        return -EINVAL;
    }
    kn = i - k0;
    v0 = ++i;
    while (i <= n) {
        size_t vend = n, nk0 = 0;
        int found = 0;

        /* Find the next '=' that starts a new " key=". */
        for (; i < n; i++) {
            if (ext[i] == '\\') {
                i++;
                continue;
            }
            if (ext[i] == '=') {
                size_t j = i;
                while (j > v0 && is_key_char(ext[j - 1]))
                    j--;
                if (j < i && j > v0 && ext[j - 1] == ' ') {
                    found = 1;
                    nk0 = j;
                    vend = j - 1;
                    break;
                }
            }
        }
        if (!found)
            vend = n;
        /* Trailing spaces separate pairs; they are not part of the value. */
        while (vend > v0 && ext[vend - 1] == ' ')
            vend--;
        if ((r = add_ext(ev, ext + k0, kn, ext + v0, vend - v0, ctx)) < 0)
            return r;
        if (!found)
            break;
        k0 = nk0;
        kn = i - nk0;
        v0 = ++i;
    }
    return 0;
}

int decode_cef(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
               struct parse_err *reterr)
{
    const char *start = memmem(p, len, "CEF:", 4);
    const char *hdr[CEF_HEADER_FIELDS];
    size_t hlen[CEF_HEADER_FIELDS];
    static const uint32_t hid[CEF_HEADER_FIELDS] = {
        FIELD_NONE,    FIELD_OBSERVER_VENDOR, FIELD_OBSERVER_PRODUCT, FIELD_OBSERVER_VERSION,
        FIELD_RULE_ID, FIELD_RULE_NAME,       FIELD_EVENT_SEVERITY};
    size_t i, off, nf = 0, f0;
    int r;

    if (!start)
        return -ENOENT;
    off = (size_t)(start - p);
    i = off + 4;
    /* Some senders (PAN-OS) write "CEF: 0". */
    while (i < len && i < off + 8 && p[i] == ' ')
        i++;
    f0 = i;
    /* Split the seven header fields on unescaped '|'. */
    for (; i < len && nf < CEF_HEADER_FIELDS; i++) {
        if (p[i] == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (p[i] == '|') {
            hdr[nf] = p + f0;
            hlen[nf] = i - f0;
            nf++;
            f0 = i + 1;
        }
    }
    if (nf < CEF_HEADER_FIELDS) {
        parse_err_set(reterr, off, "CEF header has fewer than 7 fields");
        return -EINVAL;
    }
    if (hlen[0] == 0 || hlen[0] > 3) {
        parse_err_set(reterr, off + 4, "CEF version is not a number");
        return -EINVAL;
    }
    for (size_t k = 0; k < hlen[0]; k++) {
        if (hdr[0][k] < '0' || hdr[0][k] > '9') {
            parse_err_set(reterr, (size_t)(hdr[0] - p) + k, "CEF version is not a number");
            return -EINVAL;
        }
    }
    if ((r = keep(event_add(ev, field_intern("cef.version", 11), hdr[0], hlen[0]))) < 0)
        return r;
    for (size_t k = 1; k < CEF_HEADER_FIELDS; k++)
        if (hlen[k] && (r = add_value(ev, hid[k], hdr[k], hlen[k], 1)) < 0)
            return r;
    if ((r = decode_ext(ev, p + f0, len - f0, f0, ctx, reterr)) < 0)
        return r;
    if (!ev->has_time && off > 0 && (r = set_prefix_time(ev, p, off, ctx)) < 0)
        return r;
    ev->decoder = "cef";
    return 0;
}
