/*
 * decode_kv.c - generic key=value records.
 *
 * Two passes over the record: the first only counts pairs and the bytes
 * they cover, so that free text is rejected before anything is added; the
 * second adds the fields.  Scanning twice is cheaper than adding fields and
 * undoing them, and keeps -ENOENT's promise that nothing was added.
 */
#include "decode/decode_kv.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "event/event.h"

struct kv_pair {
    const char *k, *v;
    size_t kn, vn;
    int quoted, esc, unterminated;
    size_t begin, end; /* bytes of the pair (or skipped word) in the record */
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/*
 * Reads the pair or word starting at *pos (past any blanks).  Returns 1 for
 * a pair, 0 for a word that is not one, -1 at the end of the record.
 */
static int next_item(const char *p, size_t len, size_t *pos, struct kv_pair *kp)
{
    size_t i = *pos, k0;

    while (i < len && is_blank(p[i]))
        i++;
    if (i >= len)
        return -1;
    memset(kp, 0, sizeof(*kp));
    kp->begin = k0 = i;
    while (i < len && is_key_char(p[i]))
        i++;
    if (i == k0 || i >= len || p[i] != '=') {
        while (i < len && !is_blank(p[i]))
            i++;
        kp->end = *pos = i;
        return 0;
    }
    kp->k = p + k0;
    kp->kn = i - k0;
    i++;
    if (i < len && p[i] == '"') {
        size_t v0 = ++i;
        kp->quoted = 1;
        while (i < len && p[i] != '"') {
            if (p[i] == '\\' && i + 1 < len) {
                kp->esc = 1;
                i++;
            }
            i++;
        }
        if (i >= len) {
            kp->unterminated = 1;
            i = len;
        }
        kp->v = p + v0;
        kp->vn = (i < len ? i : len) - v0;
        if (i < len)
            i++; /* closing quote */
    } else {
        size_t v0 = i;
        while (i < len && !is_blank(p[i]))
            i++;
        kp->v = p + v0;
        kp->vn = i - v0;
    }
    kp->end = *pos = i;
    return 1;
}

static int keep(int r)
{
    return r == -ENOMEM ? r : 0;
}

static int add_value(struct event *ev, uint32_t id, const struct kv_pair *kp)
{
    char *d;
    size_t o = 0;

    if (!kp->esc)
        return keep(event_add(ev, id, kp->v, kp->vn));
    if (!(d = arena_alloc(ev->arena, kp->vn)))
        return -ENOMEM;
    for (size_t i = 0; i < kp->vn; i++) {
        if (kp->v[i] == '\\' && i + 1 < kp->vn && (kp->v[i + 1] == '"' || kp->v[i + 1] == '\\'))
            i++;
        d[o++] = kp->v[i];
    }
    return keep(event_add(ev, id, d, o));
}

static int add_transport(struct event *ev, const char *v, size_t n)
{
    char *d;

    if (n == 1 && v[0] == '6')
        return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, "tcp", 3));
    if (n == 2 && v[0] == '1' && v[1] == '7')
        return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, "udp", 3));
    if (n == 1 && v[0] == '1')
        return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, "icmp", 4));
    if (!(d = arena_alloc(ev->arena, n ? n : 1)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
    return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, d, n));
}

struct kv_alias {
    const char *key;
    uint32_t id;
};

static const struct kv_alias kv_aliases[] = {
    {"src", FIELD_SOURCE_IP},
    {"srcip", FIELD_SOURCE_IP},
    {"src_ip", FIELD_SOURCE_IP},
    {"dst", FIELD_DESTINATION_IP},
    {"dstip", FIELD_DESTINATION_IP},
    {"dst_ip", FIELD_DESTINATION_IP},
    {"srcport", FIELD_SOURCE_PORT},
    {"spt", FIELD_SOURCE_PORT},
    {"src_port", FIELD_SOURCE_PORT},
    {"dstport", FIELD_DESTINATION_PORT},
    {"dpt", FIELD_DESTINATION_PORT},
    {"dst_port", FIELD_DESTINATION_PORT},
    {"user", FIELD_USER_NAME},
    {"username", FIELD_USER_NAME},
    {"usr", FIELD_USER_NAME},
    {"proto", FIELD_NETWORK_TRANSPORT},
    {"protocol", FIELD_NETWORK_TRANSPORT},
    {"action", FIELD_EVENT_ACTION},
};

static int add_alias(struct event *ev, const struct kv_pair *kp)
{
    size_t m;

    if (kp->kn > 8 || kp->vn == 0)
        return 0;
    for (size_t a = 0; a < sizeof(kv_aliases) / sizeof(kv_aliases[0]); a++) {
        uint32_t id = kv_aliases[a].id;

        if (strlen(kv_aliases[a].key) != kp->kn || memcmp(kv_aliases[a].key, kp->k, kp->kn) != 0)
            continue;
        if (event_get(ev, id, &m))
            return 0; /* first occurrence wins */
        if (id == FIELD_NETWORK_TRANSPORT && !kp->esc)
            return add_transport(ev, kp->v, kp->vn);
        return add_value(ev, id, kp);
    }
    return 0;
}

int decode_kv(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
              struct parse_err *reterr)
{
    struct kv_pair kp;
    size_t pos = 0, pairs = 0, covered = 0, words = 0, bad_off = 0;
    int t, unterminated = 0, r;

    while ((t = next_item(p, len, &pos, &kp)) >= 0) {
        if (t == 1) {
            pairs++;
            covered += kp.end - kp.begin;
            if (kp.unterminated) {
                unterminated = 1;
                bad_off = kp.begin;
            }
        } else {
            words += kp.end - kp.begin;
        }
    }
    if (pairs < 2 || covered <= words)
        return -ENOENT;
    if (unterminated) {
        parse_err_set(reterr, bad_off, "unterminated quoted value");
        return -EINVAL;
    }
    pos = 0;
    while ((t = next_item(p, len, &pos, &kp)) >= 0) {
        if (t != 1)
            continue;
        if ((r = add_value(ev, field_intern(kp.k, kp.kn), &kp)) < 0 || (r = add_alias(ev, &kp)) < 0)
            return r;
    }
    ev->decoder = "kv";
    return 0;
}
