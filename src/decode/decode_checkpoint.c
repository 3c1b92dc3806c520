/*
 * decode_checkpoint.c - Check Point Log Exporter's syslog format.
 *
 * The header is handed to the syslog header decoders: an RFC 5424 header
 * is copied into the arena with "-" (no structured data) where Check
 * Point's list starts, which decode_rfc5424 then accepts; an RFC 3164
 * header is decoded in place.  The list is read pair by pair; the pairs
 * with an ECS meaning are held until the action is known, the others are
 * added as checkpoint.KEY as they come.
 */
#include "decode/decode_checkpoint.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_rfc3164.h"
#include "decode/decode_rfc5424.h"
#include "decode/decode_util.h"
#include "event/event.h"
#include "util/limits.h"

#define LIT(s) s, sizeof(s) - 1
/* How far into the record the list may start (a syslog header is shorter). */
#define CHECKPOINT_SCAN 512
#define CHECKPOINT_PREFIX "checkpoint."

enum cp_key {
    CK_SRC,
    CK_DST,
    CK_S_PORT,
    CK_SERVICE,
    CK_PROTO,
    CK_ACTION,
    CK_RULE_NAME,
    CK_RULE_UID,
    CK_IFDIR,
    CK_IFNAME,
    CK_INZONE,
    CK_OUTZONE,
    CK_ORIGIN,
    CK_PRODUCT,
    CK_SRC_USER_NAME,
    CK_USER,
    CK_XLATESRC,
    CK_XLATESPORT,
    CK_XLATEDST,
    CK_XLATEDPORT,
    CK_REASON,
    CK_N
};

static const char *const cp_names[CK_N] = {
    "src",           "dst",   "s_port",   "service",    "proto",    "action",     "rule_name",
    "rule_uid",      "ifdir", "ifname",   "inzone",     "outzone",  "origin",     "product",
    "src_user_name", "user",  "xlatesrc", "xlatesport", "xlatedst", "xlatedport", "reason",
};

/* The names of each length (indices into cp_names, -1 ends a list), so
 * that a key is compared only with names of its length (strlen and memcmp
 * over all 21 names were a quarter of a record's instructions, issue 24);
 * test_decode_checkpoint's lines hold every name. */
#define CP_MAXLEN 13
static const short cp_by_len[CP_MAXLEN + 1][7] = {
    {-1},                      /* 0 */
    {-1},                      /* 1 */
    {-1},                      /* 2 */
    {0, 1, -1},                /* 3: src dst */
    {15, -1},                  /* 4: user */
    {4, 8, -1},                /* 5: proto ifdir */
    {2, 5, 9, 10, 12, 20, -1}, /* 6: s_port action ifname inzone origin reason */
    {3, 11, 13, -1},           /* 7: service outzone product */
    {7, 16, 18, -1},           /* 8: rule_uid xlatesrc xlatedst */
    {6, -1},                   /* 9: rule_name */
    {17, 19, -1},              /* 10: xlatesport xlatedport */
    {-1},                      /* 11 */
    {-1},                      /* 12 */
    {14, -1},                  /* 13: src_user_name */
};

/* 1 for the bytes of a key: [A-Za-z0-9_.-] (a table: the comparisons
 * were 9 % of a record's instructions). */
static const unsigned char cp_keych[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int is_key_char(char c)
{
    return cp_keych[(unsigned char)c];
}

/* Offset of the '[' opening a key:"value" list, or -1. */
static long find_list(const char *p, size_t len)
{
    size_t scan = len < CHECKPOINT_SCAN ? len : CHECKPOINT_SCAN;

    for (size_t i = 0; i < scan; i++) {
        size_t k = i + 1;
        if (p[i] != '[')
            continue;
        while (k < len && is_key_char(p[k]))
            k++;
        if (k > i + 1 && k + 1 < len && p[k] == ':' && p[k + 1] == '"')
            return (long)i;
    }
    return -1;
}

/* Decodes the syslog header p[0..n) (n > 0). */
static int header(struct event *ev, const char *p, size_t n, const struct decode_ctx *ctx,
                  struct parse_err *reterr)
{
    if (n > 3 && p[0] == '<') {
        size_t i = 1;
        while (i < n && i < 5 && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i + 2 < n && p[i] == '>' && p[i + 1] == '1' && p[i + 2] == ' ') {
            /* RFC 5424: the header with "-" for the structured data. */
            char *h = arena_alloc(ev->arena, n + 2);
            size_t hn = n;

            if (!h)
                return -ENOMEM;
            memcpy(h, p, n);
            if (h[hn - 1] != ' ')
                h[hn++] = ' ';
            h[hn++] = '-';
            return decode_rfc5424(ev, h, hn, ctx, reterr);
        }
    }
    return decode_rfc3164(ev, p, n, ctx, reterr);
}

/* The value as an event value: a view, or unescaped into the arena. */
static int unescape(struct event *ev, struct decode_span *v, int esc)
{
    char *t;
    size_t o = 0;

    if (!esc)
        return 0;
    if (!(t = arena_alloc(ev->arena, v->n)))
        return -ENOMEM;
    for (size_t i = 0; i < v->n; i++) {
        if (v->p[i] == '\\' && i + 1 < v->n)
            i++;
        t[o++] = v->p[i];
    }
    v->p = t;
    v->n = o;
    return 0;
}

static int add_other(struct event *ev, struct decode_span k, struct decode_span v)
{
    char name[LIMIT_FIELD_NAME_LEN];

    if (k.n + sizeof(CHECKPOINT_PREFIX) - 1 > sizeof(name))
        return 0;
    memcpy(name, CHECKPOINT_PREFIX, sizeof(CHECKPOINT_PREFIX) - 1);
    memcpy(name + sizeof(CHECKPOINT_PREFIX) - 1, k.p, k.n);
    return decode_util_add_named(ev, name, k.n + sizeof(CHECKPOINT_PREFIX) - 1, v);
}

/* 1 success, 0 failure, -1 not an outcome. */
static int outcome(struct decode_span a)
{
    static const char *const good[] = {"Accept",  "Allow",  "Encrypt",
                                       "Decrypt", "Log In", "Key Install"};
    static const char *const bad[] = {"Drop",    "Reject",        "Block",
                                      "Prevent", "Failed Log In", "Deny"};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (decode_util_eq(a, good[i]))
            return 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (decode_util_eq(a, bad[i]))
            return 0;
    return -1;
}

static int emit(struct event *ev, const struct decode_span *t)
{
    int o = outcome(t[CK_ACTION]), login = decode_util_eq(t[CK_ACTION], "Log In") ||
                                           decode_util_eq(t[CK_ACTION], "Failed Log In");
    int in = decode_util_eq(t[CK_IFDIR], "inbound"), r;

    if ((r = decode_util_add(ev, FIELD_OBSERVER_VENDOR, decode_util_cstr("Check Point"))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT,
                             t[CK_PRODUCT].n ? t[CK_PRODUCT] : decode_util_cstr("Check Point"))) <
            0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("checkpoint.log"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY,
                             decode_util_cstr(login ? "authentication" : "network"))) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, t[CK_SRC])) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, t[CK_DST])) < 0 ||
        (decode_util_is_port(t[CK_S_PORT].p, t[CK_S_PORT].n) &&
         (r = decode_util_add(ev, FIELD_SOURCE_PORT, t[CK_S_PORT])) < 0) ||
        (decode_util_is_port(t[CK_SERVICE].p, t[CK_SERVICE].n) &&
         (r = decode_util_add(ev, FIELD_DESTINATION_PORT, t[CK_SERVICE])) < 0) ||
        (r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT,
                             decode_util_iana_transport(t[CK_PROTO]))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, t[CK_ACTION])) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, t[CK_RULE_NAME])) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_ID, t[CK_RULE_UID])) < 0 ||
        (r = decode_util_add_named(ev, LIT("network.direction"), t[CK_IFDIR])) < 0 ||
        (r = decode_util_add(
             ev, in ? FIELD_OBSERVER_INGRESS_INTERFACE : FIELD_OBSERVER_EGRESS_INTERFACE,
             t[CK_IFNAME])) < 0 ||
        (r = decode_util_add_named(ev, LIT("observer.ingress.zone"), t[CK_INZONE])) < 0 ||
        (r = decode_util_add_named(ev, LIT("observer.egress.zone"), t[CK_OUTZONE])) < 0 ||
        (r = decode_util_add_named(ev, LIT("observer.ip"), t[CK_ORIGIN])) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME,
                             t[CK_SRC_USER_NAME].n ? t[CK_SRC_USER_NAME] : t[CK_USER])) < 0 ||
        (r = decode_util_add_nat(ev, LIT("source.nat.ip"), t[CK_XLATESRC], 0)) < 0 ||
        (r = decode_util_add_nat(ev, LIT("source.nat.port"), t[CK_XLATESPORT], 1)) < 0 ||
        (r = decode_util_add_nat(ev, LIT("destination.nat.ip"), t[CK_XLATEDST], 0)) < 0 ||
        (r = decode_util_add_nat(ev, LIT("destination.nat.port"), t[CK_XLATEDPORT], 1)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON, t[CK_REASON])) < 0)
        return r;
    if (o >= 0) {
        if ((r = decode_util_add(ev, FIELD_EVENT_OUTCOME,
                                 decode_util_cstr(o ? "success" : "failure"))) < 0)
            return r;
        if (!login && (r = decode_util_add(ev, FIELD_EVENT_TYPE,
                                           decode_util_cstr(o ? "allowed" : "denied"))) < 0)
            return r;
    }
    return 0;
}

int decode_checkpoint(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr)
{
    struct decode_span t[CK_N];
    long lb = find_list(p, len);
    size_t i;
    int r;

    if (lb < 0)
        return -ENOENT;
    if (lb > 0) {
        if ((r = header(ev, p, (size_t)lb, ctx, reterr)) == -ENOENT) {
            parse_err_set(reterr, 0, "no syslog header before the Check Point list");
            return -EINVAL;
        }
        if (r < 0)
            return r;
        ev->msg = p + lb;
        ev->msg_len = len - (size_t)lb;
        if ((r = decode_util_add(ev, FIELD_MESSAGE, (struct decode_span){ev->msg, ev->msg_len})) <
            0)
            return r;
    }
    memset(t, 0, sizeof(t));
    i = (size_t)lb + 1;
    while (i < len) {
        struct decode_span k, v;
        int esc = 0, known = -1;

        while (i < len && (p[i] == ' ' || p[i] == ';'))
            i++;
        if (i >= len || p[i] == ']')
            break;
        k.p = p + i;
        while (i < len && is_key_char(p[i]))
            i++;
        k.n = (size_t)(p + i - k.p);
        if (!k.n || i + 1 >= len || p[i] != ':' || p[i + 1] != '"') {
            parse_err_set(reterr, i, "Check Point field is not key:\"value\"");
            return -EINVAL;
        }
        i += 2;
        v.p = p + i;
        /* to the closing quote, 8 bytes a step; a backslash escapes the
         * byte after it */
        for (;;) {
            i = decode_util_scan_to2(p, i, len, '"', '\\');
            if (i >= len || p[i] == '"')
                break;
            if (i + 1 < len) {
                esc = 1;
                i++;
            }
            i++;
        }
        if (i >= len) {
            parse_err_set(reterr, (size_t)(v.p - p) - 1, "Check Point value's quote is not closed");
            return -EINVAL;
        }
        v.n = (size_t)(p + i - v.p);
        i++;
        if ((r = unescape(ev, &v, esc)) < 0)
            return r;
        for (const short *c = k.n <= CP_MAXLEN ? cp_by_len[k.n] : cp_by_len[0]; *c >= 0; c++)
            if (cp_names[*c][0] == k.p[0] && memcmp(cp_names[*c] + 1, k.p + 1, k.n - 1) == 0) {
                known = *c;
                break;
            }
        if (known >= 0 && !t[known].p)
            t[known] = v;
        else if ((r = add_other(ev, k, v)) < 0)
            return r;
    }
    if ((t[CK_SRC].n && !decode_util_is_ip(t[CK_SRC].p, t[CK_SRC].n)) ||
        (t[CK_DST].n && !decode_util_is_ip(t[CK_DST].p, t[CK_DST].n))) {
        parse_err_set(reterr, (size_t)lb, "Check Point src or dst is not an address");
        return -EINVAL;
    }
    if ((r = emit(ev, t)) < 0)
        return r;
    ev->decoder = "checkpoint";
    return 0;
}
