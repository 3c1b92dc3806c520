/*
 * intel_pattern.c - the subset of the STIX 2.1 patterning language we can
 * match with single-value indicators: equalities of an observable's
 * property to a string, and url:value MATCHES a regex or LIKE a wildcard
 * (URL pattern indicators, the LIKE translated to an anchored regex),
 * joined by OR.  Everything else is read far enough to say where and why
 * it is not taken (see intel.h for the contract).
 *
 * Grammar read (STIX 2.1 section 9, simplified to what we decide on):
 *   pattern    := obs-expr { ("OR" | "AND" | "FOLLOWEDBY") obs-expr }
 *   obs-expr   := "(" pattern ")" | "[" cmp-expr "]" { qualifier }
 *   cmp-expr   := cmp-prim { ("OR" | "AND") cmp-prim }
 *   cmp-prim   := "(" cmp-expr ")" | "EXISTS" path | path ["NOT"] op constant
 * Equalities are collected first and handed over only when the whole
 * pattern is known to be an OR of them.
 */
#include "intel/intel.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Equalities and refused comparisons remembered per pattern. */
#define PAT_EQ_MAX 512
#define PAT_UNSUP_MAX 64
/* Longest pattern read; nesting of parentheses and brackets. */
#define PAT_LEN_MAX (256 * 1024)
#define PAT_DEPTH_MAX 32

struct pat {
    const char *s;
    size_t len, off;
    char *scratch; /* unescaped values and LIKE translations, back to back */
    size_t used, cap;
    struct {
        int type;
        size_t at, len;
    } eq[PAT_EQ_MAX];
    size_t neq;
    struct {
        size_t off;
        const char *why;
    } unsup[PAT_UNSUP_MAX];
    size_t nunsup;
    int whole;           /* 1: the whole pattern is unsupported */
    size_t whole_off;
    const char *whole_why;
    const char *bad; /* syntax error */
    size_t bad_off;
    unsigned depth;
};

static void skip_ws(struct pat *p)
{
    while (p->off < p->len && isspace((unsigned char)p->s[p->off]))
        p->off++;
}

static int fail(struct pat *p, const char *why)
{
    if (!p->bad) {
        p->bad = why;
        p->bad_off = p->off;
    }
    return -EINVAL;
}

static void whole_unsup(struct pat *p, size_t off, const char *why)
{
    if (!p->whole) {
        p->whole = 1;
        p->whole_off = off;
        p->whole_why = why;
    }
}

static void cmp_unsup(struct pat *p, size_t off, const char *why)
{
    if (p->nunsup < PAT_UNSUP_MAX) {
        p->unsup[p->nunsup].off = off;
        p->unsup[p->nunsup].why = why;
        p->nunsup++;
    }
}

/* 1 and consumed when the next word is keyword `kw` (case-insensitive,
 * not followed by a word character). */
static int keyword(struct pat *p, const char *kw)
{
    size_t n = strlen(kw);

    skip_ws(p);
    if (p->len - p->off < n || strncasecmp(p->s + p->off, kw, n) != 0)
        return 0;
    if (p->off + n < p->len &&
        (isalnum((unsigned char)p->s[p->off + n]) || p->s[p->off + n] == '_'))
        return 0;
    p->off += n;
    return 1;
}

/* A quoted string at the cursor ('...' with \' and \\), unescaped into the
 * scratch buffer when `keep`; ret_at and ret_len locate it there. */
static int read_string(struct pat *p, int keep, size_t *ret_at, size_t *ret_len)
{
    size_t at = p->used;

    if (p->off >= p->len || p->s[p->off] != '\'')
        return fail(p, "expected a quoted string");
    p->off++;
    while (p->off < p->len && p->s[p->off] != '\'') {
        char c = p->s[p->off];
        if (c == '\\') {
            if (p->off + 1 >= p->len || (p->s[p->off + 1] != '\'' && p->s[p->off + 1] != '\\'))
                return fail(p, "bad escape in string (only \\' and \\\\)");
            c = p->s[++p->off];
        }
        if (keep)
            p->scratch[p->used++] = c;
        p->off++;
    }
    if (p->off >= p->len)
        return fail(p, "unterminated string");
    p->off++;
    *ret_at = at;
    *ret_len = p->used - at;
    return 0;
}

/* An object path: type ':' property {'.' property | '.' 'quoted' | [n|*]};
 * its span in ret_b and ret_e. */
static int read_path(struct pat *p, size_t *ret_b, size_t *ret_e)
{
    size_t b;

    skip_ws(p);
    b = p->off;
    while (p->off < p->len &&
           (isalnum((unsigned char)p->s[p->off]) || p->s[p->off] == '-' || p->s[p->off] == '_'))
        p->off++;
    if (p->off == b || p->off >= p->len || p->s[p->off] != ':')
        return fail(p, "expected an object path (type:property)");
    p->off++;
    for (int first = 1;; first = 0) {
        size_t pb = p->off;
        if (p->off < p->len && p->s[p->off] == '\'') {
            size_t a, l;
            if (read_string(p, 0, &a, &l) < 0)
                return -EINVAL;
        } else {
            while (p->off < p->len && (isalnum((unsigned char)p->s[p->off]) ||
                                       p->s[p->off] == '-' || p->s[p->off] == '_'))
                p->off++;
        }
        if (p->off == pb)
            return fail(p, first ? "expected a property name" : "expected a property after '.'");
        while (p->off < p->len && p->s[p->off] == '[') {
            p->off++;
            while (p->off < p->len && (isdigit((unsigned char)p->s[p->off]) || p->s[p->off] == '*'))
                p->off++;
            if (p->off >= p->len || p->s[p->off] != ']')
                return fail(p, "expected ']' after a list index");
            p->off++;
        }
        if (p->off < p->len && p->s[p->off] == '.') {
            p->off++;
            continue;
        }
        break;
    }
    *ret_b = b;
    *ret_e = p->off;
    return 0;
}

/* Skips a constant that is not a plain string; *ret_kind says which. */
static int skip_constant(struct pat *p, const char **ret_kind)
{
    size_t a, l;

    skip_ws(p);
    if (p->off >= p->len)
        return fail(p, "expected a constant");
    if (p->s[p->off] == '(') {
        unsigned guard = 0;
        *ret_kind = "a list constant";
        p->off++;
        for (;;) {
            const char *k;
            if (++guard > 100000)
                return fail(p, "list too long");
            skip_ws(p);
            if (p->off < p->len && p->s[p->off] == ')') {
                p->off++;
                return 0;
            }
            if (p->off < p->len && p->s[p->off] == '\'') {
                if (read_string(p, 0, &a, &l) < 0)
                    return -EINVAL;
            } else if (skip_constant(p, &k) < 0) {
                return -EINVAL;
            }
            skip_ws(p);
            if (p->off < p->len && p->s[p->off] == ',')
                p->off++;
            else if (p->off >= p->len || p->s[p->off] != ')')
                return fail(p, "expected ',' or ')' in a list");
        }
    }
    if (p->off + 1 < p->len && p->s[p->off + 1] == '\'' && strchr("hbt", p->s[p->off])) {
        *ret_kind = p->s[p->off] == 'h'   ? "a hex constant"
                    : p->s[p->off] == 'b' ? "a binary constant"
                                          : "a timestamp constant";
        p->off++;
        return read_string(p, 0, &a, &l);
    }
    if (keyword(p, "true") || keyword(p, "false")) {
        *ret_kind = "a boolean constant";
        return 0;
    }
    {
        size_t b = p->off;
        if (p->off < p->len && (p->s[p->off] == '-' || p->s[p->off] == '+'))
            p->off++;
        while (p->off < p->len && (isdigit((unsigned char)p->s[p->off]) || p->s[p->off] == '.'))
            p->off++;
        if (p->off == b)
            return fail(p, "expected a constant");
        *ret_kind = "a number";
    }
    return 0;
}

static const struct {
    const char *op;
    int word;
} ops[] = {
    {"!=", 0}, {"<=", 0},         {">=", 0},          {"=", 0},          {"<", 0},
    {">", 0},  {"IN", 1},         {"LIKE", 1},        {"MATCHES", 1},
    {"ISSUBSET", 1}, {"ISSUPERSET", 1},
};

static int cmp_expr(struct pat *p);

static int cmp_prim(struct pat *p)
{
    size_t b, e, start, at = 0, vlen = 0;
    const char *op = NULL, *kind;
    int neg = 0, type;

    skip_ws(p);
    start = p->off;
    if (p->off < p->len && p->s[p->off] == '(') {
        int r;
        if (++p->depth > PAT_DEPTH_MAX)
            return fail(p, "nested too deep");
        p->off++;
        r = cmp_expr(p);
        p->depth--;
        skip_ws(p);
        if (r < 0)
            return r;
        if (p->off >= p->len || p->s[p->off] != ')')
            return fail(p, "expected ')'");
        p->off++;
        return 0;
    }
    if (keyword(p, "EXISTS")) {
        if (read_path(p, &b, &e) < 0)
            return -EINVAL;
        cmp_unsup(p, start, "EXISTS tests presence, not a value");
        return 0;
    }
    if (read_path(p, &b, &e) < 0)
        return -EINVAL;
    if (keyword(p, "NOT"))
        neg = 1;
    skip_ws(p);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t n = strlen(ops[i].op);
        if (ops[i].word ? keyword(p, ops[i].op)
                        : (p->len - p->off >= n && memcmp(p->s + p->off, ops[i].op, n) == 0)) {
            if (!ops[i].word)
                p->off += n;
            op = ops[i].op;
            break;
        }
    }
    if (!op)
        return fail(p, "expected a comparison operator");
    skip_ws(p);
    if (p->off < p->len && p->s[p->off] == '\'') {
        if (read_string(p, 1, &at, &vlen) < 0)
            return -EINVAL;
        kind = NULL;
    } else if (skip_constant(p, &kind) < 0) {
        return -EINVAL;
    }
    if (neg) {
        cmp_unsup(p, start, "a negated comparison (NOT) matches what is not the value");
        return 0;
    }
    if (strcmp(op, "MATCHES") == 0 || strcmp(op, "LIKE") == 0) {
        int like = op[0] == 'L';
        if (kind) {
            cmp_unsup(p, start, "only string constants are supported");
            return 0;
        }
        if (intel_pattern_path_type(p->s + b, e - b) != INTEL_URL) {
            cmp_unsup(p, start,
                      like ? "LIKE (a wildcard match) is supported on url:value only"
                           : "MATCHES (a regular expression) is supported on url:value only");
            return 0;
        }
        if (like) {
            /* the translation goes after the operand in the scratch
             * buffer, which has room for it (intel_pattern_parse) */
            size_t room = p->cap - p->used;
            const char *why = "bad LIKE operand";
            int n;
            if (room > INTEL_VALUE_MAX + 1)
                room = INTEL_VALUE_MAX + 1;
            n = intel_urlpat_from_like(p->scratch + at, vlen, p->scratch + p->used, room, &why);
            if (n < 0) {
                cmp_unsup(p, start,
                          n == -ENOSPC ? "LIKE operand longer than a URL pattern may be" : why);
                return 0;
            }
            at = p->used;
            vlen = (size_t)n;
            p->used += (size_t)n + 1;
        }
        type = INTEL_URL_PATTERN;
    } else if (strcmp(op, "=") != 0) {
        cmp_unsup(p, start,
                  strcmp(op, "IN") == 0 ? "IN (a list) is not supported"
                                        : "only '=' comparisons are supported");
        return 0;
    } else if (kind) {
        cmp_unsup(p, start, "only string constants are supported");
        return 0;
    } else if ((type = intel_pattern_path_type(p->s + b, e - b)) < 0) {
        cmp_unsup(p, start, "object path not mapped to an indicator type");
        return 0;
    }
    if (p->neq >= PAT_EQ_MAX) {
        cmp_unsup(p, start, "more than 512 comparisons in one pattern");
        return 0;
    }
    p->eq[p->neq].type = type;
    p->eq[p->neq].at = at;
    p->eq[p->neq].len = vlen;
    p->neq++;
    return 0;
}

static int cmp_expr(struct pat *p)
{
    for (;;) {
        size_t at;
        if (cmp_prim(p) < 0)
            return -EINVAL;
        skip_ws(p);
        at = p->off;
        if (keyword(p, "OR"))
            continue;
        if (keyword(p, "AND")) {
            whole_unsup(p, at, "AND needs every comparison to hold on one object; a single value "
                               "would match where the pattern does not");
            continue;
        }
        return 0;
    }
}

static int pattern_expr(struct pat *p);

static int obs_expr(struct pat *p)
{
    skip_ws(p);
    if (p->off < p->len && p->s[p->off] == '(') {
        int r;
        if (++p->depth > PAT_DEPTH_MAX)
            return fail(p, "nested too deep");
        p->off++;
        r = pattern_expr(p);
        p->depth--;
        skip_ws(p);
        if (r < 0)
            return r;
        if (p->off >= p->len || p->s[p->off] != ')')
            return fail(p, "expected ')'");
        p->off++;
    } else {
        if (p->off >= p->len || p->s[p->off] != '[')
            return fail(p, "expected '[' to open an observation expression");
        p->off++;
        if (cmp_expr(p) < 0)
            return -EINVAL;
        skip_ws(p);
        if (p->off >= p->len || p->s[p->off] != ']')
            return fail(p, "expected ']'");
        p->off++;
    }
    /* qualifiers: their arguments are skipped as constants */
    for (;;) {
        size_t at;
        const char *k;
        skip_ws(p);
        at = p->off;
        if (keyword(p, "WITHIN")) {
            if (skip_constant(p, &k) < 0 || !keyword(p, "SECONDS"))
                return fail(p, "WITHIN needs a number of SECONDS");
            whole_unsup(p, at, "the WITHIN qualifier needs observations over time");
        } else if (keyword(p, "REPEATS")) {
            if (skip_constant(p, &k) < 0 || !keyword(p, "TIMES"))
                return fail(p, "REPEATS needs a number of TIMES");
            whole_unsup(p, at, "the REPEATS qualifier needs a count of observations");
        } else if (keyword(p, "START")) {
            if (skip_constant(p, &k) < 0 || !keyword(p, "STOP") || skip_constant(p, &k) < 0)
                return fail(p, "START needs a timestamp and STOP another");
            whole_unsup(p, at, "the START/STOP qualifier bounds time");
        } else {
            return 0;
        }
    }
}

static int pattern_expr(struct pat *p)
{
    for (;;) {
        size_t at;
        if (obs_expr(p) < 0)
            return -EINVAL;
        skip_ws(p);
        at = p->off;
        if (keyword(p, "OR"))
            continue;
        if (keyword(p, "AND")) {
            whole_unsup(p, at, "AND between observations needs both to be seen");
            continue;
        }
        if (keyword(p, "FOLLOWEDBY")) {
            whole_unsup(p, at, "FOLLOWEDBY needs observations in order");
            continue;
        }
        return 0;
    }
}

int intel_pattern_parse(const char *pat, size_t len,
                        int (*eq)(void *ctx, const struct intel_pattern_eq *e),
                        void (*unsup)(void *ctx, size_t off, const char *why), void *ctx,
                        struct parse_err *reterr)
{
    struct pat *p;
    int r;

    if (len > PAT_LEN_MAX) {
        parse_err_set(reterr, 0, "pattern longer than 256 KiB");
        return -EINVAL;
    }
    p = calloc(1, sizeof(*p));
    /* Every operand unescaped (at most len bytes in all) and each LIKE
     * operand translated (at most 2 bytes per byte plus "^$" and a NUL,
     * and an operand takes at least its two quotes): 5 * len covers it. */
    if (p)
        p->cap = 5 * len + 16;
    if (!p || !(p->scratch = malloc(p->cap))) {
        free(p);
        return -ENOMEM;
    }
    p->s = pat;
    p->len = len;
    r = pattern_expr(p);
    skip_ws(p);
    if (r == 0 && p->off != p->len)
        r = fail(p, "unexpected text after the pattern");
    if (r < 0) {
        parse_err_set(reterr, p->bad_off, p->bad ? p->bad : "bad pattern");
        r = -EINVAL;
        goto out;
    }
    if (p->whole) {
        parse_err_set(reterr, p->whole_off, p->whole_why);
        r = -ENOTSUP;
        goto out;
    }
    for (size_t i = 0; unsup && i < p->nunsup; i++)
        unsup(ctx, p->unsup[i].off, p->unsup[i].why);
    for (size_t i = 0; i < p->neq; i++) {
        struct intel_pattern_eq e = {(enum intel_type)p->eq[i].type, p->scratch + p->eq[i].at,
                                     p->eq[i].len};
        if ((r = eq(ctx, &e)) < 0)
            goto out;
    }
    r = (int)p->neq;
out:
    free(p->scratch);
    free(p);
    return r;
}

/* Object paths we map, compared case-insensitively after the quotes of a
 * quoted property are dropped ("file:hashes.'SHA-256'" is
 * "file:hashes.SHA-256"). */
static const struct {
    const char *path;
    enum intel_type t;
} paths[] = {
    {"ipv4-addr:value", INTEL_IPV4},
    {"ipv6-addr:value", INTEL_IPV6},
    {"domain-name:value", INTEL_DOMAIN},
    {"url:value", INTEL_URL},
    {"email-addr:value", INTEL_EMAIL},
    {"email-message:from_ref.value", INTEL_EMAIL},
    {"email-message:sender_ref.value", INTEL_EMAIL},
    {"file:hashes.MD5", INTEL_MD5},
    {"file:hashes.SHA-1", INTEL_SHA1},
    {"file:hashes.SHA1", INTEL_SHA1},
    {"file:hashes.SHA-256", INTEL_SHA256},
    {"file:hashes.SHA256", INTEL_SHA256},
    {"artifact:hashes.MD5", INTEL_MD5},
    {"artifact:hashes.SHA-1", INTEL_SHA1},
    {"artifact:hashes.SHA-256", INTEL_SHA256},
    {"windows-registry-key:key", INTEL_REGKEY},
    {"process:name", INTEL_PROCESS},
    {"process:image_ref.name", INTEL_PROCESS},
    {"network-traffic:extensions.http-request-ext.request_header.User-Agent", INTEL_USER_AGENT},
    {"x509-certificate:hashes.MD5", INTEL_MD5},
    {"x509-certificate:hashes.SHA-1", INTEL_SHA1},
    {"x509-certificate:hashes.SHA-256", INTEL_SHA256},
    {"network-traffic:extensions.x-ja3.value", INTEL_JA3},
    {"network-traffic:extensions.x-ja4.value", INTEL_JA4},
};

int intel_pattern_path_type(const char *path, size_t len)
{
    char flat[256];
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (path[i] == '\'')
            continue;
        if (n + 1 >= sizeof(flat))
            return -1;
        flat[n++] = path[i];
    }
    flat[n] = '\0';
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (strcasecmp(flat, paths[i].path) == 0)
            return (int)paths[i].t;
    return -1;
}
