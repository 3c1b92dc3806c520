/*
 * sigma_load.c - Sigma rule YAML to `struct sigma_rule`.
 *
 * The YAML is read through util/ydoc.c (libyaml's document API), so that
 * every node keeps its line and column for messages.  Every value is
 * prepared here, once: strings become wildcard patterns (the escaping
 * algorithm of SPEC_NOTES §2.4), modifiers are applied left to right on
 * those patterns (never on re-joined text), expanding modifiers produce
 * OR-groups, regular expressions are compiled.
 * Anything the specification defines as invalid, or that we do not support
 * yet, refuses the rule with its position and a reason.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/sigma.h"
#include "detect/sigma_corr.h"
#include "util/readfile.h"
#include "util/ydoc.h"

struct loader {
    struct ydoc *d; /* the document being read; d->err is &err->at */
    const struct sigma_load_opts *opts;
    struct sigma_err *err;
    struct sigma_rule *rule;
};

/* ---- errors ----
 *
 * A refused rule gets a category (err->at.msg, a static string), a place
 * (err->at) and a reason (err->reason).  The first error is kept, as ydoc
 * keeps it: every caller returns at once, so it is also the only one.
 */

static int lerr_at(struct loader *ld, unsigned line, unsigned col, size_t off, const char *cat,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int lerr_at(struct loader *ld, unsigned line, unsigned col, size_t off, const char *cat,
                   const char *fmt, ...)
{
    struct sigma_err *e = ld->err;
    va_list ap;

    if (!e || e->at.msg)
        return -EINVAL;
    e->at.off = off;
    e->at.line = line;
    e->at.col = col;
    e->at.msg = cat;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int lerr_in(struct loader *ld, const yaml_node_t *n, size_t shift, const char *cat,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Refuses the rule at node n (through ydoc_fail), `shift` bytes further on
 * its first line: a place inside a condition's text. */
static int lerr_in(struct loader *ld, const yaml_node_t *n, size_t shift, const char *cat,
                   const char *fmt, ...)
{
    struct sigma_err *e = ld->err;
    va_list ap;

    if (!e || e->at.msg)
        return -EINVAL;
    ydoc_fail(ld->d, n, cat);
    e->at.col += (unsigned)shift;
    e->at.off += shift;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

#define lerr(ld, node, cat, ...) lerr_in((ld), (node), 0, (cat), __VA_ARGS__)

/* ---- YAML helpers ---- */

static int is_null(const yaml_node_t *n)
{
    if (!ydoc_plain(n))
        return 0;
    return ydoc_scalar_is(n, "") || ydoc_scalar_is(n, "~") || ydoc_scalar_is(n, "null") ||
           ydoc_scalar_is(n, "Null") || ydoc_scalar_is(n, "NULL");
}

/* YAML core-schema booleans; -1 if not one. */
static int plain_bool(const yaml_node_t *n, int yes_no)
{
    if (!ydoc_plain(n))
        return -1;
    if (ydoc_scalar_is(n, "true") || ydoc_scalar_is(n, "True") || ydoc_scalar_is(n, "TRUE"))
        return 1;
    if (ydoc_scalar_is(n, "false") || ydoc_scalar_is(n, "False") || ydoc_scalar_is(n, "FALSE"))
        return 0;
    if (yes_no && (ydoc_scalar_is(n, "yes") || ydoc_scalar_is(n, "Yes")))
        return 1;
    if (yes_no && (ydoc_scalar_is(n, "no") || ydoc_scalar_is(n, "No")))
        return 0;
    return -1;
}

/* A YAML plain decimal number (int or float); 1 and *ret on success. */
static int plain_number(const yaml_node_t *n, double *ret)
{
    size_t len, i = 0;
    const char *s;
    if (!ydoc_plain(n))
        return 0;
    s = ydoc_scalar(n, &len);
    if (len == 0 || len > 40)
        return 0;
    if (s[i] == '-' || s[i] == '+')
        i++;
    size_t digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t ed = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        if (ed == 0)
            return 0;
    }
    if (i != len)
        return 0;
    char buf[48];
    memcpy(buf, s, len);
    buf[len] = '\0';
    *ret = strtod(buf, NULL);
    return 1;
}

/* The key of pair `b` of mapping n if it repeats the scalar key s[0..len). */
static const yaml_node_t *same_key(struct loader *ld, const yaml_node_t *n, size_t b, const char *s,
                                   size_t len)
{
    yaml_node_t *kb, *vb;
    const char *sb;
    size_t lb;

    if (ydoc_pair_at(ld->d, n, b, &kb, &vb) < 0 || !(sb = ydoc_scalar(kb, &lb)))
        return NULL;
    return lb == len && memcmp(sb, s, len) == 0 ? kb : NULL;
}

/* Refuses any mapping, anywhere in the document, with a repeated key. */
static int check_dup_keys(struct loader *ld, yaml_node_t *n, int depth)
{
    yaml_node_t *ka, *va;
    int r;

    if (!n)
        return 0;
    if (depth > 64)
        return lerr(ld, n, "document nested too deeply", "YAML nested more than 64 levels");
    if (n->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; i < ydoc_len(n); i++)
            if ((r = check_dup_keys(ld, ydoc_list_at(ld->d, n, i), depth + 1)) < 0)
                return r;
    } else if (n->type == YAML_MAPPING_NODE) {
        for (size_t a = 0; ydoc_pair_at(ld->d, n, a, &ka, &va) == 0; a++) {
            size_t la;
            const char *sa = ydoc_scalar(ka, &la);

            for (size_t b = 0; sa && b < a; b++) {
                const yaml_node_t *kb = same_key(ld, n, b, sa, la);
                if (kb)
                    return lerr(ld, ka, "duplicate key", "duplicate key '%.*s' (first at line %u)",
                                (int)(la > 60 ? 60 : la), sa, ydoc_line(kb));
            }
            if ((r = check_dup_keys(ld, va, depth + 1)) < 0)
                return r;
        }
    }
    return 0;
}

/* ---- patterns ---- */

static int pat_push(struct sigma_pattern *p, size_t *cap, unsigned char byte, unsigned char kind)
{
    if (p->len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        unsigned char *nb = realloc(p->bytes, ncap);
        if (!nb)
            return -ENOMEM;
        p->bytes = nb;
        unsigned char *nk = realloc(p->kind, ncap);
        if (!nk)
            return -ENOMEM;
        p->kind = nk;
        *cap = ncap;
    }
    p->bytes[p->len] = byte;
    p->kind[p->len] = kind;
    p->len++;
    return 0;
}

static void pat_done(struct sigma_pattern *p)
{
    free(p->bytes);
    free(p->kind);
    p->bytes = p->kind = NULL;
    p->len = 0;
}

/* Parses Sigma string text into a pattern (SPEC_NOTES §2.4). */
static int pat_parse(const char *s, size_t n, struct sigma_pattern *ret)
{
    size_t cap = 0;
    int esc = 0, r = 0;
    memset(ret, 0, sizeof(*ret));
    for (size_t i = 0; i < n && r == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (esc) {
            if (c != '*' && c != '?' && c != '\\')
                r = pat_push(ret, &cap, '\\', SIGMA_TOK_LIT);
            if (r == 0)
                r = pat_push(ret, &cap, c, SIGMA_TOK_LIT);
            esc = 0;
        } else if (c == '\\') {
            esc = 1;
        } else if (c == '*') {
            r = pat_push(ret, &cap, 0, SIGMA_TOK_STAR);
        } else if (c == '?') {
            r = pat_push(ret, &cap, 0, SIGMA_TOK_ONE);
        } else {
            r = pat_push(ret, &cap, c, SIGMA_TOK_LIT);
        }
    }
    if (r == 0 && esc)
        r = pat_push(ret, &cap, '\\', SIGMA_TOK_LIT);
    if (r == 0 && !ret->bytes) /* empty value: keep non-NULL arrays */
        r = pat_push(ret, &cap, 0, SIGMA_TOK_LIT) == 0 ? (ret->len = 0, 0) : -ENOMEM;
    if (r < 0)
        pat_done(ret);
    return r;
}

static int pat_has_wild(const struct sigma_pattern *p)
{
    for (size_t i = 0; i < p->len; i++)
        if (p->kind[i] != SIGMA_TOK_LIT)
            return 1;
    return 0;
}

/* Rebuilds `p` as prefix + p + suffix (each optional). */
static int pat_wrap(struct sigma_pattern *p, int star_front, int star_back)
{
    struct sigma_pattern q = {0};
    size_t cap = 0;
    int r = 0;
    if (star_front)
        r = pat_push(&q, &cap, 0, SIGMA_TOK_STAR);
    for (size_t i = 0; i < p->len && r == 0; i++)
        r = pat_push(&q, &cap, p->bytes[i], p->kind[i]);
    if (r == 0 && star_back)
        r = pat_push(&q, &cap, 0, SIGMA_TOK_STAR);
    if (r == 0 && !q.bytes)
        r = pat_push(&q, &cap, 0, SIGMA_TOK_LIT) == 0 ? (q.len = 0, 0) : -ENOMEM;
    if (r < 0) {
        pat_done(&q);
        return r;
    }
    pat_done(p);
    *p = q;
    return 0;
}

static int pat_add_stars(struct sigma_pattern *p, enum sigma_anchor a)
{
    int front = a == SIGMA_ANCHOR_CONTAINS || a == SIGMA_ANCHOR_ENDSWITH;
    int back = a == SIGMA_ANCHOR_CONTAINS || a == SIGMA_ANCHOR_STARTSWITH;
    if (p->len && p->kind[0] == SIGMA_TOK_STAR)
        front = 0;
    if (p->len && p->kind[p->len - 1] == SIGMA_TOK_STAR)
        back = 0;
    return pat_wrap(p, front, back);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 of `n` bytes into a freshly built literal pattern. */
static int b64_encode(const unsigned char *in, size_t n, struct sigma_pattern *ret)
{
    size_t cap = 0;
    int r = 0;
    memset(ret, 0, sizeof(*ret));
    for (size_t i = 0; i < n && r == 0; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        char o[4] = {b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
                     i + 1 < n ? b64chars[(v >> 6) & 63] : '=', i + 2 < n ? b64chars[v & 63] : '='};
        for (int k = 0; k < 4 && r == 0; k++)
            r = pat_push(ret, &cap, (unsigned char)o[k], SIGMA_TOK_LIT);
    }
    if (r == 0 && !ret->bytes)
        r = pat_push(ret, &cap, 0, SIGMA_TOK_LIT) == 0 ? (ret->len = 0, 0) : -ENOMEM;
    if (r < 0)
        pat_done(ret);
    return r;
}

/* Decodes one UTF-8 code point from literal units of `p` at *i; -1 if
 * invalid or interrupted by a wildcard. */
static long utf8_decode(const struct sigma_pattern *p, size_t *i)
{
    unsigned char c = p->bytes[*i];
    size_t need;
    long cp;
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c < 0xe0)
        need = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c < 0xf0)
        need = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c < 0xf5)
        need = 3, cp = c & 0x07;
    else
        return -1;
    if (*i + need >= p->len)
        return -1;
    for (size_t k = 1; k <= need; k++) {
        if (p->kind[*i + k] != SIGMA_TOK_LIT || (p->bytes[*i + k] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (p->bytes[*i + k] & 0x3f);
    }
    *i += need + 1;
    return cp;
}

enum utf16_kind { U16_LE, U16_BE, U16_BOM_LE, U16_WIDE };

/* Encodes the literal runs of `p` in UTF-16, keeping wildcard tokens. */
static int utf16_encode(struct loader *ld, const yaml_node_t *n, struct sigma_pattern *p,
                        enum utf16_kind k)
{
    struct sigma_pattern q = {0};
    size_t cap = 0, i = 0;
    int r = 0;
    if (k == U16_BOM_LE) {
        r = pat_push(&q, &cap, 0xff, SIGMA_TOK_LIT);
        if (r == 0)
            r = pat_push(&q, &cap, 0xfe, SIGMA_TOK_LIT);
    }
    while (i < p->len && r == 0) {
        if (p->kind[i] != SIGMA_TOK_LIT) {
            r = pat_push(&q, &cap, 0, p->kind[i]);
            i++;
            continue;
        }
        long cp = utf8_decode(p, &i);
        if (cp < 0) {
            pat_done(&q);
            return lerr(ld, n, "invalid value for modifier", "value is not valid UTF-8");
        }
        if (k == U16_WIDE && cp > 0x7f) {
            pat_done(&q);
            return lerr(ld, n, "invalid value for modifier",
                        "'wide' is only allowed for ASCII strings (use utf16le)");
        }
        unsigned units[2];
        int nu = 1;
        if (cp >= 0x10000) {
            units[0] = 0xd800 + (unsigned)((cp - 0x10000) >> 10);
            units[1] = 0xdc00 + (unsigned)((cp - 0x10000) & 0x3ff);
            nu = 2;
        } else {
            units[0] = (unsigned)cp;
        }
        for (int u = 0; u < nu && r == 0; u++) {
            unsigned char lo = (unsigned char)(units[u] & 0xff),
                          hi = (unsigned char)(units[u] >> 8);
            r = pat_push(&q, &cap, k == U16_BE ? hi : lo, SIGMA_TOK_LIT);
            if (r == 0)
                r = pat_push(&q, &cap, k == U16_BE ? lo : hi, SIGMA_TOK_LIT);
        }
    }
    if (r == 0 && !q.bytes)
        r = pat_push(&q, &cap, 0, SIGMA_TOK_LIT) == 0 ? (q.len = 0, 0) : -ENOMEM;
    if (r < 0) {
        pat_done(&q);
        return r;
    }
    pat_done(p);
    *p = q;
    return 0;
}

/* ---- value lists (the alternatives of one group) ---- */

struct alts {
    struct sigma_value *v;
    size_t n, cap;
};

static void value_done(struct sigma_value *v)
{
    pat_done(&v->pat);
    if (v->re)
        pcre2_code_free(v->re);
    free(v->ref);
    memset(v, 0, sizeof(*v));
}

static void alts_done(struct alts *a)
{
    for (size_t i = 0; i < a->n; i++)
        value_done(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* Appends *v (ownership moves into `a`; *v is zeroed). */
static int alts_push(struct alts *a, struct sigma_value *v)
{
    if (a->n >= SIGMA_MAX_EXPANSION)
        return -E2BIG;
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 4;
        struct sigma_value *nv = realloc(a->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        a->v = nv;
        a->cap = ncap;
    }
    a->v[a->n++] = *v;
    memset(v, 0, sizeof(*v));
    return 0;
}

static int string_alt(struct alts *a, struct sigma_pattern *p)
{
    struct sigma_value v = {.kind = SIGMA_V_STRING, .pat = *p};
    memset(p, 0, sizeof(*p));
    int r = alts_push(a, &v);
    if (r < 0)
        value_done(&v);
    return r;
}

static int is_word_unit(const struct sigma_pattern *p, size_t i)
{
    unsigned char c = p->bytes[i];
    if (p->kind[i] != SIGMA_TOK_LIT)
        return 0;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

static const char *const windash_chars[5] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94",
                                             "\xe2\x80\x95"};

/* All 5^k variants of `p` with each word-initial dash replaced. */
static int windash_expand(struct loader *ld, const yaml_node_t *n, const struct sigma_pattern *p,
                          struct alts *out)
{
    size_t pos[16], k = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (p->kind[i] != SIGMA_TOK_LIT || (p->bytes[i] != '-' && p->bytes[i] != '/'))
            continue;
        if (i > 0 && is_word_unit(p, i - 1))
            continue;
        if (i + 1 >= p->len || !is_word_unit(p, i + 1))
            continue;
        if (k == 5) /* 5^6 variants exceed SIGMA_MAX_EXPANSION */
            return lerr(ld, n, "too many expansions",
                        "windash: more than 5 dashes to vary in one value");
        pos[k++] = i;
    }
    size_t total = 1;
    for (size_t i = 0; i < k; i++)
        total *= 5;
    for (size_t combo = 0; combo < total; combo++) {
        struct sigma_pattern q = {0};
        size_t cap = 0, c = combo, next = 0;
        int r = 0;
        for (size_t i = 0; i < p->len && r == 0; i++) {
            if (next < k && pos[next] == i) {
                const char *d = windash_chars[c % 5];
                c /= 5;
                next++;
                for (; *d && r == 0; d++)
                    r = pat_push(&q, &cap, (unsigned char)*d, SIGMA_TOK_LIT);
            } else {
                r = pat_push(&q, &cap, p->bytes[i], p->kind[i]);
            }
        }
        if (r == 0 && !q.bytes)
            r = pat_push(&q, &cap, 0, SIGMA_TOK_LIT) == 0 ? (q.len = 0, 0) : -ENOMEM;
        if (r == 0)
            r = string_alt(out, &q);
        pat_done(&q);
        if (r == -E2BIG)
            return lerr(ld, n, "too many expansions", "value expands to more than %d variants",
                        SIGMA_MAX_EXPANSION);
        if (r < 0)
            return r;
    }
    return 0;
}

static int base64offset_expand(const struct sigma_pattern *p, struct alts *out)
{
    static const size_t start[3] = {0, 2, 3};
    static const size_t cut[3] = {0, 3, 2};
    for (size_t i = 0; i < 3; i++) {
        unsigned char *buf = malloc(p->len + 2 + 1);
        if (!buf)
            return -ENOMEM;
        memset(buf, ' ', i);
        memcpy(buf + i, p->bytes, p->len);
        struct sigma_pattern enc;
        int r = b64_encode(buf, p->len + i, &enc);
        free(buf);
        if (r < 0)
            return r;
        size_t end = enc.len - cut[(p->len + i) % 3];
        if (cut[(p->len + i) % 3] > enc.len)
            end = 0;
        size_t s = start[i] < end ? start[i] : end;
        memmove(enc.bytes, enc.bytes + s, end - s);
        memmove(enc.kind, enc.kind + s, end - s);
        enc.len = end - s;
        r = string_alt(out, &enc);
        pat_done(&enc);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- modifiers ---- */

enum mod {
    M_CONTAINS,
    M_STARTSWITH,
    M_ENDSWITH,
    M_ALL,
    M_BASE64,
    M_BASE64OFFSET,
    M_UTF16LE,
    M_UTF16BE,
    M_WIDE,
    M_UTF16,
    M_WINDASH,
    M_RE,
    M_I,
    M_M,
    M_S,
    M_CIDR,
    M_EXISTS,
    M_FIELDREF,
    M_GT,
    M_GTE,
    M_LT,
    M_LTE,
    M_EXPAND,
    M_CASED,
    M_NEQ,
    M_TIME,
};

static const struct {
    const char *name;
    enum mod m;
} mod_names[] = {
    {"contains", M_CONTAINS},
    {"startswith", M_STARTSWITH},
    {"endswith", M_ENDSWITH},
    {"all", M_ALL},
    {"base64", M_BASE64},
    {"base64offset", M_BASE64OFFSET},
    {"utf16le", M_UTF16LE},
    {"utf16be", M_UTF16BE},
    {"wide", M_WIDE},
    {"utf16", M_UTF16},
    {"windash", M_WINDASH},
    {"re", M_RE},
    {"i", M_I},
    {"ignorecase", M_I},
    {"m", M_M},
    {"multiline", M_M},
    {"s", M_S},
    {"dotall", M_S},
    {"cidr", M_CIDR},
    {"exists", M_EXISTS},
    {"fieldref", M_FIELDREF},
    {"gt", M_GT},
    {"gte", M_GTE},
    {"lt", M_LT},
    {"lte", M_LTE},
    {"expand", M_EXPAND},
    {"cased", M_CASED},
    {"neq", M_NEQ},
    {"minute", M_TIME},
    {"hour", M_TIME},
    {"day", M_TIME},
    {"week", M_TIME},
    {"month", M_TIME},
    {"year", M_TIME},
};

#define MAX_MODS 16

struct modlist {
    enum mod m[MAX_MODS];
    size_t n;
};

static int has_mod(const struct modlist *ml, enum mod m)
{
    for (size_t i = 0; i < ml->n; i++)
        if (ml->m[i] == m)
            return 1;
    return 0;
}

static int parse_mods(struct loader *ld, const yaml_node_t *key, const char *s, size_t n,
                      struct modlist *ret)
{
    ret->n = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '|')
            j++;
        size_t k;
        for (k = 0; k < sizeof(mod_names) / sizeof(mod_names[0]); k++)
            if (strlen(mod_names[k].name) == j - i && memcmp(mod_names[k].name, s + i, j - i) == 0)
                break;
        if (k == sizeof(mod_names) / sizeof(mod_names[0]))
            return lerr(ld, key, "unknown modifier", "unknown modifier '%.*s'",
                        (int)(j - i > 40 ? 40 : j - i), s + i);
        if (mod_names[k].m == M_TIME)
            return lerr(ld, key, "modifier not supported yet",
                        "time part modifier '%s' is not supported yet", mod_names[k].name);
        if (ret->n == MAX_MODS)
            return lerr(ld, key, "too many modifiers", "more than %d modifiers", MAX_MODS);
        ret->m[ret->n++] = mod_names[k].m;
        i = j + 1;
    }
    return 0;
}

static int placeholder_expand(struct loader *ld, const yaml_node_t *n, const char *s, size_t len,
                              struct alts *out);

/*
 * build_value() and its parts.  A value's modifiers put it in one family:
 * exists, null, re, cidr, a numeric comparison, fieldref, a plain boolean or
 * number, or a string that the remaining modifiers transform left to right.
 * Each family checks the modifiers it allows and pushes its alternatives to
 * `out`; n is the value's node and s/len its text.
 */

/* `|exists`: true or false, nothing else beside it. */
static int value_exists(struct loader *ld, const struct sigma_item *item, const struct modlist *ml,
                        const yaml_node_t *n, struct alts *out)
{
    struct sigma_value v = {0};

    if (!item->field)
        return lerr(ld, n, "exists needs a field", "'exists' must be applied to a field");
    if (ml->n != 1)
        return lerr(ld, n, "invalid modifier combination",
                    "'exists' cannot be combined with other modifiers");
    int b = plain_bool(n, 1);
    if (b < 0)
        return lerr(ld, n, "invalid value for modifier", "'exists' needs true or false");
    v.kind = SIGMA_V_EXISTS;
    v.b = b;
    return alts_push(out, &v);
}

/* A null value: the field is absent or empty. */
static int value_null(struct loader *ld, const struct sigma_item *item, const struct modlist *ml,
                      const yaml_node_t *n, struct alts *out)
{
    struct sigma_value v = {0};

    if (!item->field)
        return lerr(ld, n, "null keyword", "a keyword cannot be null");
    for (size_t i = 0; i < ml->n; i++)
        if (ml->m[i] != M_ALL && ml->m[i] != M_NEQ)
            return lerr(ld, n, "invalid modifier combination",
                        "null cannot be combined with value modifiers");
    v.kind = SIGMA_V_NULL;
    return alts_push(out, &v);
}

/* `|re` first, then only its flags and modifiers that change nothing. */
static int value_regex(struct loader *ld, const struct modlist *ml, const yaml_node_t *n,
                       const char *s, size_t len, struct alts *out)
{
    struct sigma_value v = {0};
    uint32_t flags = 0;
    int r;

    if (ml->m[0] != M_RE)
        return lerr(ld, n, "invalid modifier combination",
                    "'re' must be the first modifier (it only applies to unmodified values)");
    for (size_t i = 1; i < ml->n; i++) {
        switch (ml->m[i]) {
        case M_I: flags |= PCRE2_CASELESS; break;
        case M_M: flags |= PCRE2_MULTILINE; break;
        case M_S: flags |= PCRE2_DOTALL; break;
        /* Adding `.*` to an unanchored search changes nothing. */
        case M_CONTAINS:
        case M_STARTSWITH:
        case M_ENDSWITH:
        case M_ALL:
        case M_NEQ: break;
        default:
            return lerr(ld, n, "invalid modifier combination",
                        "only i, m, s, contains, startswith, endswith and all may follow 're'");
        }
    }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)s, len, flags, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        return lerr(ld, n, "invalid regular expression",
                    "invalid regular expression at offset %zu: %s", (size_t)eo, (const char *)msg);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    v.kind = SIGMA_V_REGEX;
    v.re = re;
    r = alts_push(out, &v);
    if (r < 0)
        value_done(&v);
    return r;
}

/* `|cidr` first: an IPv4 or IPv6 network without host bits. */
static int value_cidr(struct loader *ld, const struct sigma_item *item, const struct modlist *ml,
                      const yaml_node_t *n, const char *s, size_t len, struct alts *out)
{
    struct sigma_value v = {0};

    if (!item->field)
        return lerr(ld, n, "cidr needs a field", "'cidr' must be applied to a field");
    if (ml->m[0] != M_CIDR)
        return lerr(ld, n, "invalid modifier combination", "'cidr' must be the first modifier");
    for (size_t i = 1; i < ml->n; i++)
        if (ml->m[i] != M_ALL && ml->m[i] != M_NEQ)
            return lerr(ld, n, "invalid modifier combination",
                        "'cidr' cannot be combined with string modifiers");
    char buf[INET6_ADDRSTRLEN + 8];
    if (len >= sizeof(buf))
        return lerr(ld, n, "invalid CIDR", "invalid CIDR network");
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    v.kind = SIGMA_V_CIDR;
    v.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    unsigned maxp = v.family == AF_INET6 ? 128 : 32;
    if (inet_pton(v.family, buf, v.net) != 1)
        return lerr(ld, n, "invalid CIDR", "'%s' is not an IP address", buf);
    v.prefix = maxp;
    if (slash) {
        char *end;
        unsigned long pl = strtoul(slash + 1, &end, 10);
        if (end == slash + 1 || *end || pl > maxp)
            return lerr(ld, n, "invalid CIDR", "invalid prefix length '%s'", slash + 1);
        v.prefix = (unsigned)pl;
    }
    for (unsigned b = v.prefix; b < maxp; b++)
        if (v.net[b / 8] & (0x80 >> (b % 8)))
            return lerr(ld, n, "invalid CIDR", "CIDR network has host bits set");
    return alts_push(out, &v);
}

/* `|gt`, `|gte`, `|lt` or `|lte` (exactly one) against a number. */
static int value_cmp(struct loader *ld, const struct sigma_item *item, const struct modlist *ml,
                     const yaml_node_t *n, const char *s, size_t len, struct alts *out)
{
    struct sigma_value v = {0};
    size_t ncmp = 0;
    double num;

    if (!item->field)
        return lerr(ld, n, "comparison needs a field", "numeric comparison needs a field");
    for (size_t i = 0; i < ml->n; i++) {
        switch (ml->m[i]) {
        case M_GT:
            v.cmp = SIGMA_CMP_GT;
            ncmp++;
            break;
        case M_GTE:
            v.cmp = SIGMA_CMP_GTE;
            ncmp++;
            break;
        case M_LT:
            v.cmp = SIGMA_CMP_LT;
            ncmp++;
            break;
        case M_LTE:
            v.cmp = SIGMA_CMP_LTE;
            ncmp++;
            break;
        case M_ALL:
        case M_NEQ: break;
        default:
            return lerr(ld, n, "invalid modifier combination",
                        "numeric comparison cannot be combined with string modifiers");
        }
    }
    if (ncmp != 1)
        return lerr(ld, n, "invalid modifier combination", "one comparison per value");
    if (!plain_number(n, &num))
        return lerr(ld, n, "comparison needs a number",
                    "numeric comparison needs a number, not '%.*s'", (int)(len > 40 ? 40 : len), s);
    v.kind = SIGMA_V_CMP;
    v.num = num;
    return alts_push(out, &v);
}

/* `|fieldref`: the value names another field of the same event. */
static int value_fieldref(struct loader *ld, const struct sigma_item *item,
                          const struct modlist *ml, const yaml_node_t *n, const char *s, size_t len,
                          struct alts *out)
{
    struct sigma_value v = {0};
    int r;

    if (!item->field)
        return lerr(ld, n, "fieldref needs a field", "'fieldref' must be applied to a field");
    v.kind = SIGMA_V_FIELDREF;
    for (size_t i = 0; i < ml->n; i++) {
        switch (ml->m[i]) {
        case M_CONTAINS: v.ref_mode = SIGMA_ANCHOR_CONTAINS; break;
        case M_STARTSWITH: v.ref_mode = SIGMA_ANCHOR_STARTSWITH; break;
        case M_ENDSWITH: v.ref_mode = SIGMA_ANCHOR_ENDSWITH; break;
        case M_CASED: v.cased = 1; break;
        case M_FIELDREF:
        case M_ALL:
        case M_NEQ: break;
        default:
            return lerr(ld, n, "invalid modifier combination",
                        "'fieldref' can only be combined with contains, startswith, "
                        "endswith, cased and all");
        }
    }
    if (len == 0 || memchr(s, '*', len) || memchr(s, '?', len))
        return lerr(ld, n, "invalid field reference",
                    "field references must name one field, without wildcards");
    v.ref = strndup(s, len);
    if (!v.ref)
        return -ENOMEM;
    r = alts_push(out, &v);
    if (r < 0)
        value_done(&v);
    return r;
}

/*
 * A plain boolean or number of a field, with no string modifier: pushed
 * typed, and 0 returned.  1 when the value is not one (it is then a
 * string).
 */
static int value_typed(const struct sigma_item *item, const struct modlist *ml,
                       const yaml_node_t *n, const char *s, size_t len, struct alts *out)
{
    struct sigma_value v = {0};
    double num;
    int r;

    for (size_t i = 0; i < ml->n; i++)
        if (ml->m[i] != M_ALL && ml->m[i] != M_NEQ)
            return 1;
    int b = plain_bool(n, 0);
    if (b >= 0 && item->field) {
        v.kind = SIGMA_V_BOOL;
        v.b = b;
        return alts_push(out, &v);
    }
    if (!item->field || !plain_number(n, &num))
        return 1;
    size_t cap = 0;
    v.kind = SIGMA_V_NUMBER;
    v.num = num;
    for (size_t i = 0; i < len; i++)
        if (pat_push(&v.pat, &cap, (unsigned char)s[i], SIGMA_TOK_LIT) < 0) {
            value_done(&v);
            return -ENOMEM;
        }
    r = alts_push(out, &v);
    if (r < 0)
        value_done(&v);
    return r;
}

/* Applies string modifier m to alternative a; the variants of an expanding
 * modifier (base64offset, windash) go to *next. */
static int string_mod(struct loader *ld, const yaml_node_t *n, enum mod m, struct sigma_value *a,
                      struct alts *next)
{
    struct sigma_pattern enc;
    int r = 0;

    switch (m) {
    case M_CONTAINS: return pat_add_stars(&a->pat, SIGMA_ANCHOR_CONTAINS);
    case M_STARTSWITH: return pat_add_stars(&a->pat, SIGMA_ANCHOR_STARTSWITH);
    case M_ENDSWITH: return pat_add_stars(&a->pat, SIGMA_ANCHOR_ENDSWITH);
    case M_CASED: a->cased = 1; return 0;
    case M_ALL:
    case M_NEQ:
    case M_EXPAND: return 0;
    case M_BASE64:
    case M_BASE64OFFSET:
        if (pat_has_wild(&a->pat))
            return lerr(ld, n, "wildcards in encoded value",
                        "base64 encoding of a value with wildcards is not allowed");
        if (m == M_BASE64OFFSET)
            return base64offset_expand(&a->pat, next);
        r = b64_encode(a->pat.bytes, a->pat.len, &enc);
        if (r == 0) {
            pat_done(&a->pat);
            a->pat = enc;
        }
        return r;
    case M_UTF16LE: return utf16_encode(ld, n, &a->pat, U16_LE);
    case M_UTF16BE: return utf16_encode(ld, n, &a->pat, U16_BE);
    case M_UTF16: return utf16_encode(ld, n, &a->pat, U16_BOM_LE);
    case M_WIDE: return utf16_encode(ld, n, &a->pat, U16_WIDE);
    case M_WINDASH: return windash_expand(ld, n, &a->pat, next);
    default:
        return lerr(ld, n, "invalid modifier combination",
                    "re, cidr, exists, fieldref and comparisons must come first");
    }
}

/* Strings: parse once, then apply the transformations left to right on
 * the parsed patterns. */
static int value_string(struct loader *ld, const struct sigma_item *item, const struct modlist *ml,
                        const yaml_node_t *n, const char *s, size_t len, struct alts *out)
{
    struct alts cur = {0};
    int r;

    if (has_mod(ml, M_EXPAND)) {
        r = placeholder_expand(ld, n, s, len, &cur);
    } else {
        struct sigma_pattern p;
        r = pat_parse(s, len, &p);
        if (r == 0) {
            r = string_alt(&cur, &p);
            pat_done(&p);
        }
    }
    for (size_t mi = 0; mi < ml->n && r == 0; mi++) {
        enum mod m = ml->m[mi];
        struct alts next = {0};
        for (size_t ai = 0; ai < cur.n && r == 0; ai++)
            r = string_mod(ld, n, m, &cur.v[ai], &next);
        if (r == 0 && (m == M_BASE64OFFSET || m == M_WINDASH)) {
            /* carry the `cased` flag over to the variants */
            for (size_t k = 0; k < next.n; k++)
                next.v[k].cased = cur.n ? cur.v[0].cased : 0;
            alts_done(&cur);
            cur = next;
        } else {
            alts_done(&next);
        }
    }
    if (r == -E2BIG)
        r = lerr(ld, n, "too many expansions", "value expands to more than %d variants",
                 SIGMA_MAX_EXPANSION);
    if (r == 0 && !item->field) /* keywords match anywhere in a value */
        for (size_t ai = 0; ai < cur.n && r == 0; ai++)
            r = pat_add_stars(&cur.v[ai].pat, SIGMA_ANCHOR_CONTAINS);
    for (size_t ai = 0; ai < cur.n && r == 0; ai++) {
        r = alts_push(out, &cur.v[ai]);
        if (r == -E2BIG)
            r = lerr(ld, n, "too many expansions", "value expands to more than %d variants",
                     SIGMA_MAX_EXPANSION);
    }
    alts_done(&cur);
    return r;
}

/* Builds the alternatives of one rule value `n` under modifiers `ml`. */
static int build_value(struct loader *ld, struct sigma_item *item, const struct modlist *ml,
                       const yaml_node_t *n, struct alts *out)
{
    size_t len;
    const char *s = ydoc_scalar(n, &len);
    int r;

    if (has_mod(ml, M_EXISTS))
        return value_exists(ld, item, ml, n, out);
    if (is_null(n))
        return value_null(ld, item, ml, n, out);
    if (has_mod(ml, M_RE))
        return value_regex(ld, ml, n, s, len, out);
    for (size_t i = 0; i < ml->n; i++)
        if (ml->m[i] == M_I || ml->m[i] == M_M || ml->m[i] == M_S)
            return lerr(ld, n, "invalid modifier combination",
                        "regular expression flags need a preceding 're'");
    if (has_mod(ml, M_CIDR))
        return value_cidr(ld, item, ml, n, s, len, out);
    if (has_mod(ml, M_GT) || has_mod(ml, M_GTE) || has_mod(ml, M_LT) || has_mod(ml, M_LTE))
        return value_cmp(ld, item, ml, n, s, len, out);
    if (has_mod(ml, M_FIELDREF))
        return value_fieldref(ld, item, ml, n, s, len, out);
    if ((r = value_typed(item, ml, n, s, len, out)) <= 0)
        return r;
    return value_string(ld, item, ml, n, s, len, out);
}

/* `%name%` placeholders (only with `expand`): each one is replaced by each
 * of its configured values; `\%` is a literal percent sign. */
static int placeholder_expand(struct loader *ld, const yaml_node_t *n, const char *s, size_t len,
                              struct alts *out)
{
    /* Texts built so far (before Sigma string parsing). */
    char **texts = calloc(1, sizeof(char *));
    size_t ntexts = 1, i = 0;
    int r = 0;
    if (!texts)
        return -ENOMEM;
    texts[0] = strdup("");
    if (!texts[0]) {
        free(texts);
        return -ENOMEM;
    }
    while (i < len && r == 0) {
        const char *piece = s + i;
        size_t plen = 1;
        const struct sigma_placeholder *ph = NULL;
        if (s[i] == '\\' && i + 1 < len && s[i + 1] == '%') {
            piece = "%";
            i += 2;
        } else if (s[i] == '%') {
            const char *close = memchr(s + i + 1, '%', len - i - 1);
            if (!close) {
                r = lerr(ld, n, "invalid placeholder", "unterminated placeholder '%%'");
                break;
            }
            size_t nl = (size_t)(close - (s + i + 1));
            for (size_t k = 0; ld->opts && k < ld->opts->nplaceholders; k++)
                if (strlen(ld->opts->placeholders[k].name) == nl &&
                    memcmp(ld->opts->placeholders[k].name, s + i + 1, nl) == 0)
                    ph = &ld->opts->placeholders[k];
            if (!ph || ph->nvalues == 0) {
                r = lerr(ld, n, "unknown placeholder",
                         "placeholder '%%%.*s%%' has no configured values",
                         (int)(nl > 40 ? 40 : nl), s + i + 1);
                break;
            }
            i += nl + 2;
        } else {
            i++;
        }
        size_t nvals = ph ? ph->nvalues : 1;
        if (ntexts * nvals > SIGMA_MAX_EXPANSION) {
            r = lerr(ld, n, "too many expansions", "placeholders expand to more than %d values",
                     SIGMA_MAX_EXPANSION);
            break;
        }
        char **nt = calloc(ntexts * nvals, sizeof(char *));
        if (!nt) {
            r = -ENOMEM;
            break;
        }
        for (size_t t = 0; t < ntexts && r == 0; t++)
            for (size_t k = 0; k < nvals && r == 0; k++) {
                const char *add = ph ? ph->values[k] : piece;
                size_t al = ph ? strlen(add) : plen, tl = strlen(texts[t]);
                char *x = malloc(tl + al + 1);
                if (!x) {
                    r = -ENOMEM;
                    break;
                }
                memcpy(x, texts[t], tl);
                memcpy(x + tl, add, al);
                x[tl + al] = '\0';
                nt[t * nvals + k] = x;
            }
        for (size_t t = 0; t < ntexts; t++)
            free(texts[t]);
        free(texts);
        texts = nt;
        ntexts *= nvals;
    }
    for (size_t t = 0; t < ntexts && r == 0; t++) {
        struct sigma_pattern p;
        r = pat_parse(texts[t], strlen(texts[t]), &p);
        if (r == 0) {
            r = string_alt(out, &p);
            pat_done(&p);
        }
    }
    for (size_t t = 0; t < ntexts; t++)
        free(texts[t]);
    free(texts);
    return r;
}

/* ---- detections ---- */

static void item_done(struct sigma_item *it)
{
    for (size_t g = 0; g < it->ngroups; g++) {
        for (size_t a = 0; a < it->groups[g].nalts; a++)
            value_done(&it->groups[g].alts[a]);
        free(it->groups[g].alts);
    }
    free(it->groups);
    free(it->field);
    memset(it, 0, sizeof(*it));
}

void sigma_det_done(struct sigma_det *d)
{
    if (!d)
        return;
    item_done(&d->item);
    for (size_t i = 0; i < d->nsubs; i++)
        sigma_det_done(&d->subs[i]);
    free(d->subs);
    d->subs = NULL;
    d->nsubs = 0;
}

/* Builds item `key: value` (key "field|mods", field may be empty). */
static int build_item(struct loader *ld, const yaml_node_t *key, const char *ks, size_t kn,
                      yaml_node_t *val, struct sigma_item *it)
{
    const char *bar = memchr(ks, '|', kn);
    size_t flen = bar ? (size_t)(bar - ks) : kn;
    struct modlist ml = {.n = 0};
    int r;
    memset(it, 0, sizeof(*it));
    if (bar) {
        r = parse_mods(ld, key, bar + 1, kn - flen - 1, &ml);
        if (r < 0)
            return r;
    }
    if (flen) {
        it->field = strndup(ks, flen);
        if (!it->field)
            return -ENOMEM;
    }
    it->all = has_mod(&ml, M_ALL);
    it->neq = has_mod(&ml, M_NEQ);

    size_t nvals = 1;
    if (val->type == YAML_SEQUENCE_NODE)
        nvals = ydoc_len(val);
    else if (val->type != YAML_SCALAR_NODE)
        return lerr(ld, val, "invalid value", "a field value must be a scalar or a list");
    if (val->type == YAML_SEQUENCE_NODE && nvals == 0) {
        /* `field: []` is null (pySigma) */
        if (!it->field)
            return lerr(ld, val, "null keyword", "a keyword list cannot be empty");
        it->groups = calloc(1, sizeof(*it->groups));
        if (!it->groups)
            return -ENOMEM;
        it->groups[0].alts = calloc(1, sizeof(struct sigma_value));
        if (!it->groups[0].alts)
            return -ENOMEM;
        it->ngroups = 1;
        it->groups[0].alts[0].kind = SIGMA_V_NULL;
        it->groups[0].nalts = 1;
        return 0;
    }
    it->groups = calloc(nvals, sizeof(*it->groups));
    if (!it->groups)
        return -ENOMEM;
    for (size_t i = 0; i < nvals; i++) {
        const yaml_node_t *vn = ydoc_list_at(ld->d, val, i); /* a lone scalar is item 0 */
        if (!vn || vn->type != YAML_SCALAR_NODE)
            return lerr(ld, vn ? vn : val, "invalid value", "list values must be scalars");
        if (is_null(vn) && nvals > 1)
            return lerr(ld, vn, "null in a value list",
                        "null cannot be mixed into a value list; use its own identifier");
        struct alts a = {0};
        r = build_value(ld, it, &ml, vn, &a);
        if (r < 0) {
            alts_done(&a);
            return r;
        }
        it->groups[i].alts = a.v;
        it->groups[i].nalts = a.n;
        it->ngroups++;
    }
    return 0;
}

static int build_det(struct loader *ld, yaml_node_t *n, struct sigma_det *d, int depth)
{
    int r;
    memset(d, 0, sizeof(*d));
    if (depth > 16)
        return lerr(ld, n, "detection nested too deeply", "detection nested too deeply");
    if (n->type == YAML_MAPPING_NODE) {
        size_t np = ydoc_len(n);
        if (np == 0)
            return lerr(ld, n, "empty search identifier", "search identifier is empty");
        d->kind = SIGMA_DET_AND;
        d->subs = calloc(np, sizeof(*d->subs));
        if (!d->subs)
            return -ENOMEM;
        for (size_t i = 0; i < np; i++) {
            yaml_node_t *k, *v;
            (void)ydoc_pair_at(ld->d, n, i, &k, &v);
            if (!k || !v || k->type != YAML_SCALAR_NODE)
                return lerr(ld, n, "invalid key", "detection keys must be scalars");
            size_t kn;
            const char *ks = ydoc_scalar(k, &kn);
            d->subs[i].kind = SIGMA_DET_ITEM;
            d->nsubs++;
            r = build_item(ld, k, ks, kn, v, &d->subs[i].item);
            if (r < 0)
                return r;
        }
        return 0;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        size_t ni = ydoc_len(n);
        int all_scalar = 1;
        if (ni == 0)
            return lerr(ld, n, "empty search identifier", "search identifier is an empty list");
        for (size_t i = 0; i < ni; i++) {
            yaml_node_t *e = ydoc_list_at(ld->d, n, i);
            if (!e || e->type != YAML_SCALAR_NODE)
                all_scalar = 0;
        }
        if (all_scalar) {
            d->kind = SIGMA_DET_ITEM;
            return build_item(ld, n, "", 0, n, &d->item);
        }
        d->kind = SIGMA_DET_OR;
        d->subs = calloc(ni, sizeof(*d->subs));
        if (!d->subs)
            return -ENOMEM;
        for (size_t i = 0; i < ni; i++) {
            yaml_node_t *e = ydoc_list_at(ld->d, n, i);
            d->nsubs++;
            if (!e)
                return lerr(ld, n, "invalid detection", "invalid list element");
            if (e->type == YAML_SCALAR_NODE) {
                d->subs[i].kind = SIGMA_DET_ITEM;
                r = build_item(ld, e, "", 0, e, &d->subs[i].item);
            } else {
                r = build_det(ld, e, &d->subs[i], depth + 1);
            }
            if (r < 0)
                return r;
        }
        return 0;
    }
    if (is_null(n))
        return lerr(ld, n, "empty search identifier", "search identifier has no value");
    d->kind = SIGMA_DET_ITEM;
    return build_item(ld, n, "", 0, n, &d->item);
}

/* ---- metadata ---- */

static int copy_str(struct loader *ld, const yaml_node_t *map, const char *key, char **ret)
{
    yaml_node_t *n = ydoc_get(ld->d, map, key);
    if (!n || is_null(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return lerr(ld, n, "invalid attribute", "'%s' must be a string", key);
    size_t len;
    const char *s = ydoc_scalar(n, &len);
    *ret = strndup(s, len);
    return *ret ? 0 : -ENOMEM;
}

static int copy_strv(struct loader *ld, const yaml_node_t *map, const char *key,
                     struct sigma_strv *ret)
{
    yaml_node_t *n = ydoc_get(ld->d, map, key);
    if (!n || is_null(n))
        return 0;
    if (n->type == YAML_SCALAR_NODE) { /* tolerated: one string */
        ret->v = calloc(1, sizeof(char *));
        if (!ret->v)
            return -ENOMEM;
        size_t len;
        const char *s = ydoc_scalar(n, &len);
        ret->v[0] = strndup(s, len);
        if (!ret->v[0])
            return -ENOMEM;
        ret->n = 1;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return lerr(ld, n, "invalid attribute", "'%s' must be a list of strings", key);
    size_t ni = ydoc_len(n);
    ret->v = calloc(ni ? ni : 1, sizeof(char *));
    if (!ret->v)
        return -ENOMEM;
    for (size_t i = 0; i < ni; i++) {
        yaml_node_t *e = ydoc_list_at(ld->d, n, i);
        if (!e || e->type != YAML_SCALAR_NODE)
            return lerr(ld, e ? e : n, "invalid attribute", "'%s' must be a list of strings", key);
        size_t len;
        const char *s = ydoc_scalar(e, &len);
        ret->v[i] = strndup(s, len);
        if (!ret->v[i])
            return -ENOMEM;
        ret->n++;
    }
    return 0;
}

static void strv_done(struct sigma_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
}

void sigma_rule_free(struct sigma_rule *r)
{
    if (!r)
        return;
    free(r->file);
    free(r->title);
    free(r->id);
    free(r->name);
    free(r->status);
    free(r->description);
    free(r->author);
    free(r->date);
    free(r->modified);
    free(r->level_text);
    free(r->product);
    free(r->category);
    free(r->service);
    strv_done(&r->tags);
    strv_done(&r->references);
    strv_done(&r->falsepositives);
    for (size_t i = 0; i < r->nsearches; i++) {
        free(r->searches[i].name);
        sigma_det_done(&r->searches[i].det);
    }
    free(r->searches);
    sigma_cond_free(r->cond);
    free(r);
}

static int load_condition(struct loader *ld, yaml_node_t *cn)
{
    struct sigma_rule *rule = ld->rule;
    char **names = calloc(rule->nsearches ? rule->nsearches : 1, sizeof(char *));
    int r = 0;
    if (!names)
        return -ENOMEM;
    for (size_t i = 0; i < rule->nsearches; i++)
        names[i] = rule->searches[i].name;
    size_t nc = 1;
    if (cn->type == YAML_SEQUENCE_NODE)
        nc = ydoc_len(cn);
    if (nc == 0 || cn->type == YAML_MAPPING_NODE || is_null(cn))
        r = lerr(ld, cn, "invalid condition", "condition must be a string or a list of strings");
    for (size_t i = 0; i < nc && r == 0; i++) {
        const yaml_node_t *e = ydoc_list_at(ld->d, cn, i); /* a lone scalar is item 0 */
        if (!e || e->type != YAML_SCALAR_NODE) {
            r = lerr(ld, e ? e : cn, "invalid condition", "condition must be a string");
            break;
        }
        size_t len;
        const char *s = ydoc_scalar(e, &len);
        struct sigma_cond *c = NULL;
        unsigned warn = 0;
        struct parse_err pe = {0};
        char reason[sizeof(ld->err->reason)];
        r = sigma_cond_parse(s, len, names, rule->nsearches, &c, &warn, &pe, reason,
                             sizeof(reason));
        if (r == -EINVAL) {
            /* The column of the offending byte, past an opening quote. */
            size_t quote = ydoc_plain(e) ? 0 : 1;
            r = lerr_in(ld, e, quote + pe.off, pe.msg, "condition: %s", reason);
            break;
        }
        if (r < 0)
            break;
        rule->nwarnings += warn;
        if (!rule->cond) {
            rule->cond = c;
        } else {
            struct sigma_cond *o = calloc(1, sizeof(*o));
            if (!o) {
                sigma_cond_free(c);
                r = -ENOMEM;
                break;
            }
            o->op = SIGMA_COND_OR;
            o->a = rule->cond;
            o->b = c;
            rule->cond = o;
        }
    }
    free(names);
    return r;
}

static const char *const level_names[] = {"", "informational", "low", "medium", "high", "critical"};

static int load_searches(struct loader *ld, yaml_node_t *det, const char *skip);

/* The `logsource` map of `root` into ld->rule: at least one of product,
 * category, service. */
static int load_logsource(struct loader *ld, const yaml_node_t *root)
{
    struct sigma_rule *rule = ld->rule;
    int r;

    yaml_node_t *ls = ydoc_get(ld->d, root, "logsource");
    if (!ls || ls->type != YAML_MAPPING_NODE)
        return lerr(ld, ls ? ls : root, "missing logsource", "a rule needs a 'logsource' map");
    if ((r = copy_str(ld, ls, "product", &rule->product)) < 0 ||
        (r = copy_str(ld, ls, "category", &rule->category)) < 0 ||
        (r = copy_str(ld, ls, "service", &rule->service)) < 0)
        return r;
    if (!rule->product && !rule->category && !rule->service)
        return lerr(ld, ls, "invalid logsource",
                    "logsource needs at least one of category, product, service");
    return 0;
}

static int load_rule(struct loader *ld, yaml_node_t *root)
{
    struct sigma_rule *rule = ld->rule;
    int r;
    if (!root || root->type != YAML_MAPPING_NODE)
        return lerr_at(ld, 1, 1, 0, "not a rule", "the document is not a YAML mapping");
    r = check_dup_keys(ld, root, 0);
    if (r < 0)
        return r;
    yaml_node_t *n;
    if ((n = ydoc_get(ld->d, root, "correlation")))
        return lerr(ld, n, "correlation rule",
                    "a correlation rule, not a detection rule (load it with "
                    "sigma_load_docs_buf)");
    if ((n = ydoc_get(ld->d, root, "filter")))
        return lerr(ld, n, "filter rule",
                    "a filter rule, not a detection rule (load it with sigma_load_docs_buf)");
    yaml_node_t *title = ydoc_get(ld->d, root, "title");
    if (!title || title->type != YAML_SCALAR_NODE || is_null(title))
        return lerr(ld, title ? title : root, "missing title", "a rule needs a 'title' string");
    if ((r = copy_str(ld, root, "title", &rule->title)) < 0 ||
        (r = copy_str(ld, root, "id", &rule->id)) < 0 ||
        (r = copy_str(ld, root, "name", &rule->name)) < 0 ||
        (r = copy_str(ld, root, "status", &rule->status)) < 0 ||
        (r = copy_str(ld, root, "description", &rule->description)) < 0 ||
        (r = copy_str(ld, root, "author", &rule->author)) < 0 ||
        (r = copy_str(ld, root, "date", &rule->date)) < 0 ||
        (r = copy_str(ld, root, "modified", &rule->modified)) < 0 ||
        (r = copy_str(ld, root, "level", &rule->level_text)) < 0 ||
        (r = copy_strv(ld, root, "tags", &rule->tags)) < 0 ||
        (r = copy_strv(ld, root, "references", &rule->references)) < 0 ||
        (r = copy_strv(ld, root, "falsepositives", &rule->falsepositives)) < 0)
        return r;
    if (rule->level_text) {
        for (size_t i = 1; i < sizeof(level_names) / sizeof(level_names[0]); i++)
            if (strcmp(rule->level_text, level_names[i]) == 0)
                rule->level = (enum sigma_level)i;
        if (rule->level == SIGMA_LEVEL_NONE)
            return lerr(ld, ydoc_get(ld->d, root, "level"), "invalid level",
                        "level must be informational, low, medium, high or critical");
    }
    if ((r = load_logsource(ld, root)) < 0)
        return r;

    yaml_node_t *det = ydoc_get(ld->d, root, "detection");
    if (!det || det->type != YAML_MAPPING_NODE)
        return lerr(ld, det ? det : root, "missing detection", "a rule needs a 'detection' map");
    return load_searches(ld, det, NULL);
}

/*
 * The search identifiers of map `det` (every key but `condition` and, when
 * not NULL, `skip`) and its condition, into ld->rule.
 */
static int load_searches(struct loader *ld, yaml_node_t *det, const char *skip)
{
    struct sigma_rule *rule = ld->rule;
    int r;

    yaml_node_t *cond = ydoc_get(ld->d, det, "condition");
    if (!cond)
        return lerr(ld, det, "missing condition", "detection needs a 'condition'");
    size_t np = ydoc_len(det);
    rule->searches = calloc(np, sizeof(*rule->searches));
    if (!rule->searches)
        return -ENOMEM;
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k, *v;
        (void)ydoc_pair_at(ld->d, det, i, &k, &v);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            return lerr(ld, det, "invalid detection", "detection keys must be strings");
        if (ydoc_scalar_is(k, "condition") || (skip && ydoc_scalar_is(k, skip)))
            continue;
        if (ydoc_scalar_is(k, "timeframe"))
            return lerr(ld, k, "timeframe not supported",
                        "'timeframe' belongs to the obsolete aggregation syntax; use a "
                        "correlation rule");
        size_t kn;
        const char *ks = ydoc_scalar(k, &kn);
        struct sigma_search *s = &rule->searches[rule->nsearches];
        s->name = strndup(ks, kn);
        if (!s->name)
            return -ENOMEM;
        rule->nsearches++;
        r = build_det(ld, v, &s->det, 0);
        if (r < 0)
            return r;
    }
    return load_condition(ld, cond);
}

/* A fresh rule for `file`, loaded from `d` (whose err is &err->at): 0 with
 * *ret_rule, -EINVAL, -ENOMEM. */
static int load_rule_doc(struct ydoc *d, const char *file, const struct sigma_load_opts *opts,
                         struct sigma_rule **ret_rule, struct sigma_err *err)
{
    struct loader ld = {.d = d, .opts = opts, .err = err};
    int r;

    *ret_rule = NULL;
    ld.rule = calloc(1, sizeof(*ld.rule));
    if (!ld.rule)
        return -ENOMEM;
    if (file && !(ld.rule->file = strdup(file))) {
        free(ld.rule);
        return -ENOMEM;
    }
    r = load_rule(&ld, ydoc_root(d));
    if (r < 0) {
        sigma_rule_free(ld.rule);
        return r;
    }
    *ret_rule = ld.rule;
    return 0;
}

/*
 * A filter document (Sigma filters specification): title and optional
 * metadata, `logsource`, and `filter` holding `rules` (the ids or names of
 * the rules it applies to), its search identifiers and `condition`.  The
 * identifiers and condition are prepared exactly as a rule's detection.
 */
static int load_filter(struct loader *ld, yaml_node_t *root, struct sigma_strv *ret_rules)
{
    struct sigma_rule *rule = ld->rule;
    yaml_node_t *title, *fl, *rl;
    int r;

    if ((r = check_dup_keys(ld, root, 0)) < 0)
        return r;
    title = ydoc_get(ld->d, root, "title");
    if (!title || title->type != YAML_SCALAR_NODE || is_null(title))
        return lerr(ld, title ? title : root, "missing title", "a filter needs a 'title' string");
    if ((r = copy_str(ld, root, "title", &rule->title)) < 0 ||
        (r = copy_str(ld, root, "id", &rule->id)) < 0 ||
        (r = copy_str(ld, root, "name", &rule->name)) < 0 ||
        (r = copy_str(ld, root, "description", &rule->description)) < 0 ||
        (r = copy_str(ld, root, "author", &rule->author)) < 0 ||
        (r = copy_str(ld, root, "date", &rule->date)) < 0 ||
        (r = copy_str(ld, root, "modified", &rule->modified)) < 0)
        return r;
    if ((r = load_logsource(ld, root)) < 0)
        return r;
    fl = ydoc_get(ld->d, root, "filter");
    if (!fl || fl->type != YAML_MAPPING_NODE)
        return lerr(ld, fl ? fl : root, "invalid filter",
                    "'filter' must be a map of rules, search identifiers and condition");
    rl = ydoc_get(ld->d, fl, "rules");
    if (!rl)
        return lerr(ld, fl, "invalid filter", "a filter needs 'rules', the rules it applies to");
    if ((r = copy_strv(ld, fl, "rules", ret_rules)) < 0)
        return r;
    if (ret_rules->n == 0)
        return lerr(ld, rl, "invalid filter", "'rules' must name at least one rule id or name");
    for (size_t i = 0; i < ret_rules->n; i++)
        if (ret_rules->v[i][0] == '\0')
            return lerr(ld, rl, "invalid filter", "'rules' holds an empty name");
    if ((r = load_searches(ld, fl, "rules")) < 0)
        return r;
    if (rule->nsearches == 0)
        return lerr(ld, fl, "invalid filter", "a filter needs at least one search identifier");
    return 0;
}

void sigma_filter_free(struct sigma_filter *f)
{
    if (!f)
        return;
    sigma_rule_free(f->det);
    strv_done(&f->rules);
    free(f);
}

/* A fresh filter for `file`, loaded from `d` (whose err is &err->at): 0
 * with *ret, -EINVAL, -ENOMEM. */
static int load_filter_doc(struct ydoc *d, const char *file, const struct sigma_load_opts *opts,
                           struct sigma_filter **ret, struct sigma_err *err)
{
    struct loader ld = {.d = d, .opts = opts, .err = err};
    struct sigma_filter *f;
    int r;

    *ret = NULL;
    if (!(f = calloc(1, sizeof(*f))) || !(f->det = calloc(1, sizeof(*f->det)))) {
        free(f);
        return -ENOMEM;
    }
    ld.rule = f->det;
    if (file && !(f->det->file = strdup(file))) {
        sigma_filter_free(f);
        return -ENOMEM;
    }
    r = load_filter(&ld, ydoc_root(d), &f->rules);
    if (r < 0) {
        sigma_filter_free(f);
        return r;
    }
    *ret = f;
    return 0;
}

/*
 * A syntax error the stream stopped at, which it recorded in ld->err->at
 * (libyaml's problem, where it stopped): worded as Sigma's messages are,
 * with libyaml's context (`with_context`) or without.
 */
static int yaml_error(struct loader *ld, const struct ydoc_stream *ys, int with_context)
{
    struct sigma_err *e = ld->err;
    const char *ctx = with_context ? ys->context : NULL;

    if (with_context)
        snprintf(e->reason, sizeof(e->reason), "YAML: %s%s%s",
                 ys->problem ? ys->problem : "syntax error", ctx ? " " : "", ctx ? ctx : "");
    else
        snprintf(e->reason, sizeof(e->reason), "YAML: %s", ys->problem ? ys->problem : "error");
    e->at.msg = "YAML syntax error";
    return -EINVAL;
}

int sigma_load_buf(const char *buf, size_t len, const char *file,
                   const struct sigma_load_opts *opts, struct sigma_rule **ret_rule,
                   struct sigma_err *reterr)
{
    struct sigma_err dummy = {.reason = ""};
    struct loader ld = {.opts = opts, .err = reterr ? reterr : &dummy};
    struct sigma_rule *rule = NULL;
    struct ydoc_stream ys;
    struct ydoc d, d2;
    int r;

    *ret_rule = NULL;
    memset(ld.err, 0, sizeof(*ld.err));
    if (len > SIGMA_MAX_RULE_BYTES)
        return lerr_at(&ld, 0, 0, 0, "file too large", "rule file larger than %d bytes",
                       SIGMA_MAX_RULE_BYTES);
    if ((r = ydoc_stream_open(&ys, buf, len, &ld.err->at)) < 0)
        return r;
    /* No document at all (r 0) is refused by load_rule as no mapping. */
    r = ydoc_stream_next(&ys, &d);
    if (r >= 0)
        r = load_rule_doc(&d, file, opts, &rule, ld.err);
    else if (r == -EINVAL)
        r = yaml_error(&ld, &ys, 1);
    ydoc_done(&d);
    if (r < 0)
        goto out;
    /* A second document would be a correlation and its base rules: those
     * files load with sigma_load_docs_buf(). */
    r = ydoc_stream_next(&ys, &d2);
    if (r == -EINVAL) {
        r = yaml_error(&ld, &ys, 0);
    } else if (r > 0) {
        ld.d = &d2;
        r = lerr(&ld, ydoc_top(&d2), "multi-document file",
                 "a file with several YAML documents (correlations) holds more than one rule");
        ld.err->at.col = 1; /* the document's line, not where its first node starts */
    }
    ydoc_done(&d2);
out:
    ydoc_stream_done(&ys);
    if (r < 0) {
        sigma_rule_free(rule);
        return r;
    }
    *ret_rule = rule;
    return 0;
}

void sigma_docs_free(struct sigma_doc *docs, size_t n)
{
    if (!docs)
        return;
    for (size_t i = 0; i < n; i++) {
        sigma_rule_free(docs[i].rule);
        sigma_corr_rule_free(docs[i].corr);
        sigma_filter_free(docs[i].filter);
    }
    free(docs);
}

/* One document of a multi-document file into *ret by its kind: a
 * correlation, a filter or a detection rule. */
static int load_one_doc(struct loader *ld, struct ydoc *d, const char *file,
                        const struct sigma_load_opts *opts, struct sigma_doc *ret)
{
    yaml_node_t *root = ydoc_root(d);
    int r;

    if (root && root->type == YAML_MAPPING_NODE && ydoc_get(d, root, "correlation")) {
        ld->d = d;
        r = check_dup_keys(ld, root, 0);
        ld->d = NULL;
        return r < 0 ? r : sigma_corr_load_yaml(d, file, &ret->corr, ld->err);
    }
    if (root && root->type == YAML_MAPPING_NODE && ydoc_get(d, root, "filter"))
        return load_filter_doc(d, file, opts, &ret->filter, ld->err);
    return load_rule_doc(d, file, opts, &ret->rule, ld->err);
}

int sigma_load_docs_buf(const char *buf, size_t len, const char *file,
                        const struct sigma_load_opts *opts, struct sigma_doc **ret_docs,
                        size_t *ret_ndocs, struct sigma_err *reterr)
{
    struct sigma_err dummy = {.reason = ""};
    struct loader ld = {.opts = opts, .err = reterr ? reterr : &dummy};
    struct sigma_doc *docs = NULL;
    struct ydoc_stream ys;
    struct ydoc d;
    size_t n = 0;
    int r = 0;

    *ret_docs = NULL;
    *ret_ndocs = 0;
    memset(ld.err, 0, sizeof(*ld.err));
    if (len > SIGMA_MAX_RULE_BYTES)
        return lerr_at(&ld, 0, 0, 0, "file too large", "rule file larger than %d bytes",
                       SIGMA_MAX_RULE_BYTES);
    if ((r = ydoc_stream_open(&ys, buf, len, &ld.err->at)) < 0)
        return r;
    while ((r = ydoc_stream_next(&ys, &d)) > 0) {
        struct sigma_doc *nd;

        if (n == SIGMA_MAX_DOCS) {
            ld.d = &d;
            r = lerr(&ld, ydoc_top(&d), "too many documents",
                     "more than %d YAML documents in one file", SIGMA_MAX_DOCS);
            ydoc_done(&d);
            goto out;
        }
        nd = realloc(docs, (n + 1) * sizeof(*docs));
        if (!nd) {
            r = -ENOMEM;
            ydoc_done(&d);
            goto out;
        }
        docs = nd;
        memset(&docs[n], 0, sizeof(docs[n]));
        n++;
        r = load_one_doc(&ld, &d, file, opts, &docs[n - 1]);
        ydoc_done(&d);
        if (r < 0)
            goto out;
    }
    if (r == -EINVAL)
        r = yaml_error(&ld, &ys, 1);
    else if (r == 0 && n == 0)
        r = lerr_at(&ld, 1, 1, 0, "not a rule", "the file holds no YAML document");
out:
    ydoc_stream_done(&ys);
    if (r < 0) {
        sigma_docs_free(docs, n);
        return r;
    }
    *ret_docs = docs;
    *ret_ndocs = n;
    return 0;
}

/* Reads a rule file whole; on failure fills *e and returns -errno. */
static int read_rule_file(const char *path, char **ret_buf, size_t *ret_len, struct sigma_err *e)
{
    int r = readfile_all(path, SIGMA_MAX_RULE_BYTES, ret_buf, ret_len);

    if (r < 0) {
        e->at.msg = "cannot read file";
        snprintf(e->reason, sizeof(e->reason), "cannot read: %s", strerror(-r));
    }
    return r;
}

int sigma_load_docs_file(const char *path, const struct sigma_load_opts *opts,
                         struct sigma_doc **ret_docs, size_t *ret_ndocs, struct sigma_err *reterr)
{
    struct sigma_err dummy = {.reason = ""};
    struct sigma_err *e = reterr ? reterr : &dummy;
    char *buf;
    size_t len;
    int r;

    *ret_docs = NULL;
    *ret_ndocs = 0;
    memset(e, 0, sizeof(*e));
    if ((r = read_rule_file(path, &buf, &len, e)) < 0)
        return r;
    r = sigma_load_docs_buf(buf, len, path, opts, ret_docs, ret_ndocs, e);
    free(buf);
    return r;
}

int sigma_load_file(const char *path, const struct sigma_load_opts *opts,
                    struct sigma_rule **ret_rule, struct sigma_err *reterr)
{
    struct sigma_err dummy = {.reason = ""};
    struct sigma_err *e = reterr ? reterr : &dummy;
    char *buf;
    size_t len;
    int r;

    *ret_rule = NULL;
    memset(e, 0, sizeof(*e));
    if ((r = read_rule_file(path, &buf, &len, e)) < 0)
        return r;
    /* The loader fills *e itself. */
    r = sigma_load_buf(buf, len, path, opts, ret_rule, e);
    free(buf);
    return r;
}
