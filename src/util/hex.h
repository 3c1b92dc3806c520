/*
 * hex.h - the value of one hexadecimal digit, for the parsers that read
 * escapes (\u00e9, %41, \x41), fingerprints and hashes, and the one
 * lowercase spelling of a digest both ways.  Inline: the JSON and URL
 * decoders call it on the hot path.
 */
#ifndef HIKESHI_UTIL_HEX_H
#define HIKESHI_UTIL_HEX_H

#include <errno.h>
#include <stddef.h>

/* 0..15 for [0-9a-fA-F], -1 for any other byte (including those >= 0x80). */
static inline int hex_value(char ch)
{
    unsigned char c = (unsigned char)ch;

    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes the 2 * n lowercase hex digits of in[0..n) and a NUL to out,
 * which holds at least 2 * n + 1 bytes. */
static inline void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Reads exactly 2 * n lowercase hex digits from in into out[0..n): 0, or
 * -EINVAL on any other byte (uppercase too: a digest written by us has one
 * spelling, so a second one is a change of its text).  Reads no further
 * than in[2 * n - 1]; the caller checks that many bytes are there. */
static inline int hex_decode_lower(const char *in, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < 2 * n; i++)
        if (hex_value(in[i]) < 0 || (in[i] >= 'A' && in[i] <= 'F'))
            return -EINVAL;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)(hex_value(in[2 * i]) << 4 | hex_value(in[2 * i + 1]));
    return 0;
}

#endif
