/*
 * jp.c - the strict, bounded JSON pull parser (see jp.h).
 */
#include "util/jp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jp_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned cp, min;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i - 1 < k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Longest string value the parser decodes (the summary is the longest). */
#define JP_STR_MAX INCIDENT_SUMMARY_MAX
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

static int hex4(const char *s, unsigned *ret)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *ret = v;
    return 0;
}

/*
 * Decodes a JSON string at the cursor into out[cap + 1] (NUL-terminated).
 * Refuses strings whose decoded form passes `cap` bytes, \u0000 (our
 * strings are C strings), raw control bytes and invalid UTF-8.
 */
int jp_string(struct jp *j, char *out, size_t cap, size_t *ret_len)
{
    size_t n = 0;

    if (jp_peek(j) != '"')
        return jp_fail(j, "wrong type: expected a string");
    j->off++;
    for (;;) {
        unsigned char c;
        char tmp[4];
        size_t k = 1;

        if (j->off >= j->len)
            return jp_fail(j, "unterminated string");
        c = (unsigned char)j->p[j->off];
        if (c == '"') {
            j->off++;
            break;
        }
        if (c < 0x20)
            return jp_fail(j, "control character in string");
        if (c != '\\') {
            tmp[0] = (char)c;
            j->off++;
        } else {
            unsigned cp;
            if (j->len - j->off < 2)
                return jp_fail(j, "unterminated string");
            c = (unsigned char)j->p[j->off + 1];
            j->off += 2;
            switch (c) {
            case '"': tmp[0] = '"'; break;
            case '\\': tmp[0] = '\\'; break;
            case '/': tmp[0] = '/'; break;
            case 'b': tmp[0] = '\b'; break;
            case 'f': tmp[0] = '\f'; break;
            case 'n': tmp[0] = '\n'; break;
            case 'r': tmp[0] = '\r'; break;
            case 't': tmp[0] = '\t'; break;
            case 'u':
                if (j->len - j->off < 4 || hex4(j->p + j->off, &cp) < 0)
                    return jp_fail(j, "bad \\u escape");
                j->off += 4;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return jp_fail(j, "lone low surrogate");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned lo;
                    if (j->len - j->off < 6 || j->p[j->off] != '\\' || j->p[j->off + 1] != 'u' ||
                        hex4(j->p + j->off + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                        return jp_fail(j, "lone high surrogate");
                    j->off += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                if (cp == 0)
                    return jp_fail(j, "NUL in string");
                if (cp < 0x80) {
                    tmp[0] = (char)cp;
                } else if (cp < 0x800) {
                    tmp[0] = (char)(0xc0 | (cp >> 6));
                    tmp[1] = (char)(0x80 | (cp & 0x3f));
                    k = 2;
                } else if (cp < 0x10000) {
                    tmp[0] = (char)(0xe0 | (cp >> 12));
                    tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    tmp[2] = (char)(0x80 | (cp & 0x3f));
                    k = 3;
                } else {
                    tmp[0] = (char)(0xf0 | (cp >> 18));
                    tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                    tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    tmp[3] = (char)(0x80 | (cp & 0x3f));
                    k = 4;
                }
                break;
            default: return jp_fail(j, "bad escape");
            }
        }
        if (n + k > cap)
            return jp_fail(j, "string too long");
        memcpy(out + n, tmp, k);
        n += k;
    }
    out[n] = '\0';
    if (!jp_utf8_ok((const unsigned char *)out, n))
        return jp_fail(j, "invalid UTF-8 in string");
    if (ret_len)
        *ret_len = n;
    return 0;
}

/* An integer: optional '-' (when `neg_ok`), digits, no fraction or
 * exponent, no leading zeros, within int64 / uint64. */
static int jp_integer(struct jp *j, int neg_ok, uint64_t *ret_mag, int *ret_neg)
{
    uint64_t v = 0;
    size_t start;
    int neg = 0;
    int c = jp_peek(j);

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

int jp_double(struct jp *j, double *ret)
{
    char tmp[64];
    size_t start, n;
    char *end;
    double v;
    int c = jp_peek(j);

    /* The JSON number grammar, then strtod on a bounded copy. */
    start = j->off;
    if (c == '-')
        j->off++;
    if (j->off < j->len && j->p[j->off] == '0') {
        j->off++;
    } else if (j->off < j->len && j->p[j->off] >= '1' && j->p[j->off] <= '9') {
        while (j->off < j->len && j->p[j->off] >= '0' && j->p[j->off] <= '9')
            j->off++;
    } else {
        j->off = start;
        return jp_fail(j, "wrong type: expected a number");
    }
    if (j->off < j->len && j->p[j->off] == '.') {
        size_t d = ++j->off;
        while (j->off < j->len && j->p[j->off] >= '0' && j->p[j->off] <= '9')
            j->off++;
        if (j->off == d)
            return jp_fail(j, "bad number");
    }
    if (j->off < j->len && (j->p[j->off] == 'e' || j->p[j->off] == 'E')) {
        size_t d;
        j->off++;
        if (j->off < j->len && (j->p[j->off] == '+' || j->p[j->off] == '-'))
            j->off++;
        d = j->off;
        while (j->off < j->len && j->p[j->off] >= '0' && j->p[j->off] <= '9')
            j->off++;
        if (j->off == d)
            return jp_fail(j, "bad number");
    }
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
