/*
 * jp.c - the strict, bounded JSON pull parser (see jp.h).
 *
 * Every reader of a string goes through jp_str_next, one character at a
 * time, so the typed reader (jp_string), the skipper (jp_skip) and the
 * terminal text (jp_text) accept and refuse exactly the same bytes.
 */
#include "util/jp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/hex.h"
#include "util/limits.h"
#include "util/utf8.h"

/* Well-formed UTF-8 (util/utf8.h) without NUL bytes. */
int jp_utf8_ok(const unsigned char *s, size_t n)
{
    return n == 0 || (memchr(s, 0, n) == NULL && utf8_valid(s, n));
}

int jp_fail(struct jp *j, const char *msg)
{
    parse_err_set(j->err, j->off, msg);
    if (j->why && j->whylen)
        snprintf(j->why, j->whylen, "%s at byte %zu", msg, j->off);
    return -EINVAL;
}

/* As jp_fail, naming the field in why. */
int jp_fail_key(struct jp *j, const char *msg, const char *key)
{
    parse_err_set(j->err, j->off, msg);
    if (j->why && j->whylen)
        snprintf(j->why, j->whylen, "%s \"%s\" at byte %zu", msg, key, j->off);
    return -EINVAL;
}

static void jp_ws(struct jp *j)
{
    while (j->off < j->len && (j->p[j->off] == ' ' || j->p[j->off] == '\t' ||
                               j->p[j->off] == '\n' || j->p[j->off] == '\r'))
        j->off++;
}

/* The next non-space byte, or -1 at the end. */
int jp_peek(struct jp *j)
{
    jp_ws(j);
    return j->off < j->len ? (unsigned char)j->p[j->off] : -1;
}

int jp_expect(struct jp *j, char c, const char *msg)
{
    if (jp_peek(j) != (unsigned char)c)
        return jp_fail(j, msg);
    j->off++;
    return 0;
}

int jp_null(struct jp *j)
{
    if (jp_peek(j) == 'n' && j->len - j->off >= 4 && memcmp(j->p + j->off, "null", 4) == 0) {
        j->off += 4;
        return 1;
    }
    return 0;
}

/* Four hex digits at s (the caller checked they are there). */
static int jp_hex4(const char *s, unsigned *ret)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        int h = hex_value(s[i]);

        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *ret = v;
    return 0;
}

/* The escape at the cursor (a backslash): its code point, a surrogate pair
 * joined into one.  Lone surrogates are not characters, so they fail. */
static int jp_escape(struct jp *j, unsigned *ret_cp)
{
    unsigned cp, lo;
    char c;

    if (j->len - j->off < 2)
        return jp_fail(j, "unterminated string");
    c = j->p[j->off + 1];
    j->off += 2;
    switch (c) {
    case '"': cp = '"'; break;
    case '\\': cp = '\\'; break;
    case '/': cp = '/'; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u':
        if (j->len - j->off < 4 || jp_hex4(j->p + j->off, &cp) < 0)
            return jp_fail(j, "bad \\u escape");
        j->off += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return jp_fail(j, "lone low surrogate");
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (j->len - j->off < 6 || j->p[j->off] != '\\' || j->p[j->off + 1] != 'u' ||
                jp_hex4(j->p + j->off + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                return jp_fail(j, "lone high surrogate");
            j->off += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        break;
    default: return jp_fail(j, "bad escape");
    }
    *ret_cp = cp;
    return 0;
}

/*
 * The next character of a string whose opening quote is behind the
 * cursor: 1 with its code point (escapes resolved; \u0000 gives 0), 0 when
 * the closing quote was consumed, or -EINVAL for a raw control byte, a bad
 * escape, bad UTF-8 or the end of the input.
 */
static int jp_str_next(struct jp *j, unsigned *ret_cp)
{
    unsigned char c;
    size_t k;

    if (j->off >= j->len)
        return jp_fail(j, "unterminated string");
    c = (unsigned char)j->p[j->off];
    if (c == '"') {
        j->off++;
        return 0;
    }
    if (c < 0x20)
        return jp_fail(j, "control character in string");
    if (c == '\\')
        return jp_escape(j, ret_cp) < 0 ? -EINVAL : 1;
    k = utf8_seq((const unsigned char *)j->p + j->off, j->len - j->off, ret_cp);
    if (k == 0)
        return jp_fail(j, "invalid UTF-8 in string");
    j->off += k;
    return 1;
}

/*
 * Decodes a JSON string at the cursor into out[cap + 1] (NUL-terminated).
 * Refuses strings whose decoded form passes `cap` bytes, \u0000 (our
 * strings are C strings), raw control bytes and invalid UTF-8.
 */
int jp_string(struct jp *j, char *out, size_t cap, size_t *ret_len)
{
    size_t n = 0;
    unsigned cp;
    int r;

    if (jp_peek(j) != '"')
        return jp_fail(j, "wrong type: expected a string");
    j->off++;
    while ((r = jp_str_next(j, &cp)) > 0) {
        char u[4];
        size_t k;

        if (cp == 0)
            return jp_fail(j, "NUL in string");
        k = utf8_put(cp, u);
        if (n + k > cap)
            return jp_fail(j, "string too long");
        memcpy(out + n, u, k);
        n += k;
    }
    if (r < 0)
        return r;
    out[n] = '\0';
    if (ret_len)
        *ret_len = n;
    return 0;
}

/* An integer: optional '-' (when `neg_ok`), digits, no fraction or
 * exponent, no leading zeros, within int64 / uint64.  Both outputs are
 * written on every path (0 on failure), so no caller reads them unset
 * whatever an optimiser makes of the error paths. */
static int jp_integer(struct jp *j, int neg_ok, uint64_t *ret_mag, int *ret_neg)
{
    uint64_t v = 0;
    size_t start;
    int neg = 0;
    int c = jp_peek(j);

    *ret_mag = 0;
    *ret_neg = 0;
    if (c == '-' && neg_ok) {
        neg = 1;
        j->off++;
    }
    start = j->off;
    while (j->off < j->len && j->p[j->off] >= '0' && j->p[j->off] <= '9') {
        unsigned d = (unsigned)(j->p[j->off] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return jp_fail(j, "integer out of range");
        v = v * 10 + d;
        j->off++;
    }
    if (j->off == start)
        return jp_fail(j, "wrong type: expected an integer");
    if (j->off - start > 1 && j->p[start] == '0')
        return jp_fail(j, "leading zero in integer");
    if (j->off < j->len && (j->p[j->off] == '.' || j->p[j->off] == 'e' || j->p[j->off] == 'E'))
        return jp_fail(j, "wrong type: expected an integer");
    *ret_mag = v;
    *ret_neg = neg;
    return 0;
}

int jp_u64(struct jp *j, uint64_t *ret)
{
    int neg;
    return jp_integer(j, 0, ret, &neg);
}

int jp_i64(struct jp *j, int64_t *ret)
{
    uint64_t m;
    int neg, r = jp_integer(j, 1, &m, &neg);
    if (r < 0)
        return r;
    if (m > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return jp_fail(j, "integer out of range");
    *ret = neg ? (m == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    return 0;
}

/*
 * Iterates the members of an object: call with *first = 1 after '{' was
 * consumed.  Returns 1 with the key in key[JP_KEY_MAX + 1] (a longer key is
 * cut, so it matches no known key), 0 at the closing '}', or an error.
 */
int jp_member(struct jp *j, int *first, char *key)
{
    char big[256] = {0}; /* zeroed: the analyzer cannot see jp_string fill it */
    size_t n;
    int r;

    if (jp_peek(j) == '}') {
        j->off++;
        return 0;
    }
    if (!*first && (r = jp_expect(j, ',', "expected ',' or '}'")) < 0)
        return r;
    *first = 0;
    if (jp_peek(j) != '"')
        return jp_fail(j, "expected a key");
    if ((r = jp_string(j, big, sizeof(big) - 1, &n)) < 0)
        return r;
    big[n < sizeof(big) ? n : sizeof(big) - 1] = '\0';
    memcpy(key, big, n < JP_KEY_MAX ? n : JP_KEY_MAX);
    key[n < JP_KEY_MAX ? n : JP_KEY_MAX] = '\0';
    if ((r = jp_expect(j, ':', "expected ':'")) < 0)
        return r;
    return 1;
}

/* As jp_member for arrays: 1 before each element, 0 after ']'. */
int jp_element(struct jp *j, int *first)
{
    int r;
    if (jp_peek(j) == ']') {
        j->off++;
        return 0;
    }
    if (!*first && (r = jp_expect(j, ',', "expected ',' or ']'")) < 0)
        return r;
    *first = 0;
    return 1;
}

int jp_end(struct jp *j)
{
    if (jp_peek(j) != -1)
        return jp_fail(j, "trailing data after the object");
    return 0;
}

/* Digits at the cursor; the number of them. */
static size_t jp_digits(struct jp *j)
{
    size_t from = j->off;

    while (j->off < j->len && j->p[j->off] >= '0' && j->p[j->off] <= '9')
        j->off++;
    return j->off - from;
}

/* Moves over one number in JSON's grammar (the cursor on its first byte):
 * 0, or -EINVAL with "wrong type: expected a number" (cursor back at the
 * start) when none starts here, "bad number" (cursor at the fault) when
 * its fraction or exponent has no digits. */
static int jp_number_scan(struct jp *j)
{
    size_t start = j->off;

    if (j->off < j->len && j->p[j->off] == '-')
        j->off++;
    if (j->off < j->len && j->p[j->off] == '0') {
        j->off++;
    } else if (j->off >= j->len || j->p[j->off] < '1' || j->p[j->off] > '9') {
        j->off = start;
        return jp_fail(j, "wrong type: expected a number");
    } else {
        jp_digits(j);
    }
    if (j->off < j->len && j->p[j->off] == '.') {
        j->off++;
        if (jp_digits(j) == 0)
            return jp_fail(j, "bad number");
    }
    if (j->off < j->len && (j->p[j->off] == 'e' || j->p[j->off] == 'E')) {
        j->off++;
        if (j->off < j->len && (j->p[j->off] == '+' || j->p[j->off] == '-'))
            j->off++;
        if (jp_digits(j) == 0)
            return jp_fail(j, "bad number");
    }
    return 0;
}

int jp_double(struct jp *j, double *ret)
{
    char tmp[64];
    size_t start, n;
    char *end;
    double v;
    int r;

    /* The JSON number grammar, then strtod on a bounded copy. */
    (void)jp_peek(j);
    start = j->off;
    if ((r = jp_number_scan(j)) < 0)
        return r;
    n = j->off - start;
    if (n >= sizeof(tmp)) {
        j->off = start;
        return jp_fail(j, "number too long");
    }
    memcpy(tmp, j->p + start, n);
    tmp[n] = '\0';
    v = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v)) {
        j->off = start;
        return jp_fail(j, "number out of range");
    }
    *ret = v;
    return 0;
}

int jp_bool(struct jp *j, int *ret)
{
    int c = jp_peek(j);

    if (c == 't' && j->len - j->off >= 4 && memcmp(j->p + j->off, "true", 4) == 0) {
        j->off += 4;
        *ret = 1;
        return 0;
    }
    if (c == 'f' && j->len - j->off >= 5 && memcmp(j->p + j->off, "false", 5) == 0) {
        j->off += 5;
        *ret = 0;
        return 0;
    }
    return jp_fail(j, "wrong type: expected true or false");
}

/* ---- values of any kind, as spans -------------------------------------- */

static int jp_value(struct jp *j, unsigned depth, unsigned depth_max, struct buf *out);

/* Appends j->p[from..off) to out, when there is an out. */
static int jp_emit(struct jp *j, size_t from, struct buf *out)
{
    return out ? buf_append(out, j->p + from, j->off - from) : 0;
}

/* A string at the cursor (its quote not yet consumed), checked whole. */
static int jp_skip_string(struct jp *j, struct buf *out)
{
    size_t from = j->off;
    unsigned cp;
    int r;

    j->off++;
    while ((r = jp_str_next(j, &cp)) > 0)
        ;
    return r < 0 ? r : jp_emit(j, from, out);
}

/* An object or array at the cursor (on its bracket), `depth` containers
 * already open around it. */
static int jp_container(struct jp *j, unsigned depth, unsigned depth_max, struct buf *out)
{
    char close = j->p[j->off] == '{' ? '}' : ']';
    int r, c;

    if (depth >= depth_max)
        return jp_fail(j, "nested too deep");
    if (out && (r = buf_putc(out, j->p[j->off])) < 0)
        return r;
    j->off++;
    if (jp_peek(j) != close) {
        for (;;) {
            if (close == '}') {
                if (jp_peek(j) != '"')
                    return jp_fail(j, "expected a key");
                if ((r = jp_skip_string(j, out)) < 0 || (r = jp_expect(j, ':', "expected ':'")) < 0)
                    return r;
                if (out && (r = buf_putc(out, ':')) < 0)
                    return r;
            }
            if ((r = jp_value(j, depth + 1, depth_max, out)) < 0)
                return r;
            if ((c = jp_peek(j)) == close)
                break;
            if (c != ',')
                return jp_fail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
            j->off++;
            if (out && (r = buf_putc(out, ',')) < 0)
                return r;
        }
    }
    j->off++;
    return out ? buf_putc(out, close) : 0;
}

/* true, false or null at the cursor. */
static int jp_word(struct jp *j, const char *w, struct buf *out)
{
    size_t n = strlen(w), from = j->off;

    if (j->len - j->off < n || memcmp(j->p + j->off, w, n) != 0)
        return jp_fail(j, "expected a value");
    j->off += n;
    return jp_emit(j, from, out);
}

/* Recursion is bounded by depth_max (at most LIMIT_JSON_DEPTH frames). */
static int jp_value(struct jp *j, unsigned depth, unsigned depth_max, struct buf *out)
{
    size_t from;
    int r;

    switch (jp_peek(j)) {
    case '{':
    case '[': return jp_container(j, depth, depth_max, out);
    case '"': return jp_skip_string(j, out);
    case 't': return jp_word(j, "true", out);
    case 'f': return jp_word(j, "false", out);
    case 'n': return jp_word(j, "null", out);
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        from = j->off;
        if ((r = jp_number_scan(j)) < 0)
            return r;
        return jp_emit(j, from, out);
    default: return jp_fail(j, "expected a value");
    }
}

/* The caller's bound, never past LIMIT_JSON_DEPTH: it bounds the stack. */
static unsigned jp_depth(unsigned depth_max)
{
    return depth_max == 0 || depth_max > LIMIT_JSON_DEPTH ? LIMIT_JSON_DEPTH : depth_max;
}

int jp_skip(struct jp *j, unsigned depth_max, struct jp_span *ret_span)
{
    size_t from;
    int r;

    (void)jp_peek(j);
    from = j->off;
    if ((r = jp_value(j, 0, jp_depth(depth_max), NULL)) < 0)
        return r;
    if (ret_span) {
        ret_span->p = j->p + from;
        ret_span->len = j->off - from;
    }
    return 0;
}

int jp_skip_compact(struct jp *j, unsigned depth_max, struct buf *out)
{
    return jp_value(j, 0, jp_depth(depth_max), out);
}

int jp_doc(const char *p, size_t len, struct jp_span *ret, struct parse_err *reterr)
{
    struct jp j = {p, len, 0, reterr, NULL, 0};
    int r;

    if ((r = jp_skip(&j, 0, ret)) < 0)
        return r;
    return jp_end(&j);
}

int jp_iter_init(struct jp_iter *it, struct jp_span c)
{
    if (c.len < 2 || (c.p[0] != '{' && c.p[0] != '[')) {
        *it = (struct jp_iter){.j = {"", 0, 0, NULL, NULL, 0}, .first = 1, .close = '}'};
        return -EINVAL;
    }
    *it = (struct jp_iter){.j = {c.p, c.len, 1, NULL, NULL, 0}, .first = 1};
    it->close = c.p[0] == '{' ? '}' : ']';
    return 0;
}

int jp_iter_next(struct jp_iter *it, struct jp_span *ret_key, struct jp_span *ret_val)
{
    struct jp *j = &it->j;
    int c = jp_peek(j);

    if (c == -1)
        return -EINVAL;
    if (c == it->close && it->first)
        return 0;
    if (!it->first) {
        if (c == it->close)
            return 0;
        if (c != ',')
            return -EINVAL;
        j->off++;
    }
    if (it->close == '}') {
        if (jp_peek(j) != '"' || jp_skip(j, 0, ret_key) < 0 ||
            jp_expect(j, ':', "expected ':'") < 0)
            return -EINVAL;
    }
    if (jp_skip(j, 0, ret_val) < 0)
        return -EINVAL;
    it->first = 0;
    return 1;
}

int jp_key_is(struct jp_span k, const char *s)
{
    struct jp j = {k.p, k.len, 1, NULL, NULL, 0};
    size_t n = 0, want = strlen(s);
    unsigned cp;
    int r;

    if (k.len < 2 || k.p[0] != '"')
        return 0;
    while ((r = jp_str_next(&j, &cp)) > 0) {
        char u[4];
        size_t m = utf8_put(cp, u);

        if (m > want - n || memcmp(s + n, u, m) != 0)
            return 0;
        n += m;
    }
    return r == 0 && n == want && j.off == j.len;
}

int jp_lookup(struct jp_span obj, const char *key, struct jp_span *ret)
{
    struct jp_iter it;
    struct jp_span k = {"", 0}, v = {"", 0}; /* the analyzer cannot see jp_iter_next fill them */
    int r;

    if (obj.len == 0 || obj.p[0] != '{' || jp_iter_init(&it, obj) < 0)
        return -EINVAL;
    while ((r = jp_iter_next(&it, &k, &v)) > 0) {
        if (jp_key_is(k, key)) {
            *ret = v;
            return 0;
        }
    }
    return r < 0 ? r : -ENOENT;
}

int jp_span_is(struct jp_span v, const char *lit)
{
    size_t n = strlen(lit);

    return v.len == n && memcmp(v.p, lit, n) == 0;
}

int jp_span_i64(struct jp_span v, int64_t *ret)
{
    struct jp j = {v.p, v.len, 0, NULL, NULL, 0};
    int64_t x;

    if (jp_i64(&j, &x) < 0 || j.off != j.len)
        return -EINVAL;
    *ret = x;
    return 0;
}

/* Appends code point cp for a terminal (see jp_text). */
static int jp_text_cp(struct buf *out, unsigned cp, unsigned flags)
{
    char u[4];

    if (cp == '\n' && (flags & JP_TEXT_KEEP_NL))
        return buf_putc(out, '\n');
    if (cp == '\n' || cp == '\t' || cp == '\r')
        return buf_putc(out, ' ');
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
        return buf_putc(out, '?');
    return buf_append(out, u, utf8_put(cp, u));
}

int jp_text(struct jp_span v, struct buf *out, unsigned flags)
{
    struct jp j = {v.p, v.len, 0, NULL, NULL, 0};
    unsigned cp;
    int r = 0;

    if (jp_span_is(v, "null"))
        return 1;
    if (v.len > 0 && v.p[0] == '"') {
        j.off = 1;
        while (r == 0 && (r = jp_str_next(&j, &cp)) > 0)
            r = jp_text_cp(out, cp, flags);
        if (r < 0)
            return r;
        return j.off == j.len ? 0 : -EINVAL;
    }
    if (jp_skip(&j, 0, NULL) < 0 || j.off != j.len)
        return -EINVAL;
    /* As written, but its spaces (a container's) as plain spaces, and the
     * raw C1 controls inside its strings as '?'. */
    for (size_t i = 0; i < v.len && r == 0; i++) {
        unsigned char c = (unsigned char)v.p[i];

        if (c == 0xc2 && i + 1 < v.len && (unsigned char)v.p[i + 1] < 0xa0) {
            r = buf_putc(out, '?');
            i++;
        } else {
            r = buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
    }
    return r;
}
