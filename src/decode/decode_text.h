/*
 * decode_text.h - span helpers for the decoders of free-text server
 * messages (mail, VPN, RADIUS, FTP, databases, antivirus, DNS): matching a
 * literal at the start or anywhere, cutting a span at a delimiter, and the
 * bracketed or quoted value after a marker.
 *
 * Inline because every call sits on a decoder's hot path and each is a few
 * comparisons.  Each reads exactly (s.p, s.n): no NUL needed, nothing past
 * s.n read; a span returned is inside the span given, or empty with p NULL.
 */
#ifndef HIKESHI_DECODE_DECODE_TEXT_H
#define HIKESHI_DECODE_DECODE_TEXT_H

#include <stddef.h>
#include <string.h>

#include "decode/decode_util.h"

/* (literal, its length) for the helpers below. */
#define TEXT_LIT(s) s, sizeof(s) - 1

static inline int text_starts(struct decode_span s, const char *lit, size_t n)
{
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static inline struct decode_span text_skip(struct decode_span s, size_t n)
{
    if (n > s.n)
        n = s.n;
    if (n == 0)
        return s; /* an empty span may have p NULL: no arithmetic on it */
    s.p += n;
    s.n -= n;
    return s;
}

/* Offset of the literal in s, or -1. */
static inline long text_find(struct decode_span s, const char *lit, size_t n)
{
    const char *q = s.n ? memmem(s.p, s.n, lit, n) : NULL;

    return q ? (long)(q - s.p) : -1;
}

/* What follows the first occurrence of the literal, or an empty span. */
static inline struct decode_span text_after(struct decode_span s, const char *lit, size_t n)
{
    long f = text_find(s, lit, n);
    struct decode_span none = {NULL, 0};

    return f < 0 ? none : text_skip(s, (size_t)f + n);
}

/* s up to (not including) the first byte that is in `stop` (a C string). */
static inline struct decode_span text_upto(struct decode_span s, const char *stop)
{
    size_t k = 0;

    while (k < s.n && !strchr(stop, s.p[k]))
        k++;
    s.n = k;
    return s;
}

/* s up to the literal, or all of s when it does not occur. */
static inline struct decode_span text_before(struct decode_span s, const char *lit, size_t n)
{
    long f = text_find(s, lit, n);

    if (f >= 0)
        s.n = (size_t)f;
    return s;
}

/* The value after `lit` up to the byte `close`; empty when either is
 * missing (a value cut by the record's end is not trusted whole). */
static inline struct decode_span text_between(struct decode_span s, const char *lit, size_t n,
                                              char close)
{
    struct decode_span v = text_after(s, lit, n);
    const char *e = v.p ? memchr(v.p, close, v.n) : NULL;
    struct decode_span none = {NULL, 0};

    if (!e)
        return none;
    v.n = (size_t)(e - v.p);
    return v;
}

static inline struct decode_span text_trim(struct decode_span s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s = text_skip(s, 1);
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* The span if it is an IP address, else an empty one. */
static inline struct decode_span text_ip(struct decode_span s)
{
    struct decode_span none = {NULL, 0};

    return s.p && decode_util_is_ip(s.p, s.n) ? s : none;
}

#endif
