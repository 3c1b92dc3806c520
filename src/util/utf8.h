/*
 * utf8.h - UTF-8 written once: the length and code point of one
 * well-formed sequence, and a code point's encoding.  Inline because the
 * JSON decoder runs it on every non-ASCII byte of a record.
 *
 * Well-formed is RFC 3629's: no overlong forms, no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing past U+10FFFF, no cut sequence.  NUL is a
 * well-formed one-byte sequence here; readers that refuse it (JSON
 * strings, names) check for it themselves.
 */
#ifndef HIKESHI_UTIL_UTF8_H
#define HIKESHI_UTIL_UTF8_H

#include <stddef.h>

/* The length (1..4) of the well-formed sequence at s[0..n), n >= 1, with
 * its code point in *ret_cp (when not NULL); 0 when it is not one. */
static inline size_t utf8_seq(const unsigned char *s, size_t n, unsigned *ret_cp)
{
    unsigned c = s[0], cp, min;
    size_t k;

    if (c < 0x80) {
        if (ret_cp)
            *ret_cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        k = 1, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        k = 2, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 3, cp = c & 0x07, min = 0x10000;
    else
        return 0; /* a continuation byte, 0xc0/0xc1 or 0xf5.. */
    if (n - 1 < k)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[j] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (ret_cp)
        *ret_cp = cp;
    return k + 1;
}

/* 1 when all of s[0..n) is well-formed UTF-8. */
static inline int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = utf8_seq(s + i, n - i, NULL);

        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* Code point cp (<= U+10FFFF) as UTF-8 into out[4]; returns its length. */
static inline size_t utf8_put(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

#endif
