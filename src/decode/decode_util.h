/*
 * decode_util.h - small checks and field helpers that several decoders share.
 *
 * Each reads exactly (p, n): no NUL needed, nothing past n read.
 */
#ifndef HIKESHI_DECODE_DECODE_UTIL_H
#define HIKESHI_DECODE_DECODE_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "event/event.h"

/* A view of bytes in the record being decoded; not NUL-terminated. */
struct decode_span {
    const char *p;
    size_t n;
};

/* 1 if (p, n) is an IPv4 address in dotted-quad form or an IPv6 address as
 * inet_pton() reads them, else 0. */
int decode_util_is_ip(const char *p, size_t n);

/* 1 if (p, n) is 1 to 5 decimal digits worth at most 65535, else 0. */
int decode_util_is_port(const char *p, size_t n);

/* 1 if the span is exactly the NUL-terminated literal `lit`. */
int decode_util_eq(struct decode_span s, const char *lit);
/* 1 if s is one or more decimal digits (any count), else 0. */
int decode_util_all_digits(struct decode_span s);

/*
 * The first occurrence of (needle, nn) in (p, n), or NULL; (p, n) itself
 * for an empty needle: what memmem() returns.  glibc's memmem prepares a
 * table for needles of 3 bytes and more, which cost 1.4k to 2.9k
 * instructions a record in the decoders that look for a few markers in a
 * line of 100-200 bytes (snort, mikrotik); this is memchr for the first
 * byte and a compare of the rest.
 */
const char *decode_util_find(const char *p, size_t n, const char *needle, size_t nn);

/* Nonzero where a byte of x is zero: the lowest set bit (bit 7 of a byte)
 * marks the first zero byte exactly; bits above it may be false. */
static inline uint64_t decode_util_zero_bytes(uint64_t x)
{
    return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

/*
 * The index of the first byte c in p[i..len), or len: a CSV or key=value
 * split's inner loop, 8 bytes a step (a byte at a time was 40 % of a
 * PAN-OS record's instructions).  Reads nothing at or past len.
 */
static inline size_t decode_util_scan_to(const char *p, size_t i, size_t len, char c)
{
#ifdef __SSE2__
    /* 16 bytes a step where SSE2 is there (x86-64's baseline); the
     * 16-byte loads stay inside [i, len). */
    const __m128i vc = _mm_set1_epi8(c);

    while (i + 16 <= len) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vc));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t cc = 0x0101010101010101ull * (unsigned char)c;

    while (i + 8 <= len) {
        uint64_t x, t;

        memcpy(&x, p + i, 8);
        if ((t = decode_util_zero_bytes(x ^ cc)))
            return i + ((size_t)__builtin_ctzll(t) >> 3);
        i += 8;
    }
#endif
    while (i < len && p[i] != c)
        i++;
    return i;
}

/* As decode_util_scan_to for the first of two bytes (a blank: ' ' or '\t'). */
static inline size_t decode_util_scan_to2(const char *p, size_t i, size_t len, char c1, char c2)
{
#ifdef __SSE2__
    const __m128i v1 = _mm_set1_epi8(c1), v2 = _mm_set1_epi8(c2);

    while (i + 16 <= len) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, v1), _mm_cmpeq_epi8(x, v2)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t m1 = 0x0101010101010101ull * (unsigned char)c1;
    const uint64_t m2 = 0x0101010101010101ull * (unsigned char)c2;

    while (i + 8 <= len) {
        uint64_t x, t;

        memcpy(&x, p + i, 8);
        if ((t = decode_util_zero_bytes(x ^ m1) | decode_util_zero_bytes(x ^ m2)))
            return i + ((size_t)__builtin_ctzll(t) >> 3);
        i += 8;
    }
#endif
    while (i < len && p[i] != c1 && p[i] != c2)
        i++;
    return i;
}

/* 1 for the bytes of a key=value key: [A-Za-z0-9_.-] (kv, FortiGate). */
static inline int decode_util_is_keych(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26 || (unsigned char)(c - '0') < 10 || c == '_' ||
           c == '-' || c == '.';
}

/*
 * The index of the first byte in p[i..len) that is not a key byte
 * ([A-Za-z0-9_.-]), or len: the key scan of kv and FortiGate, 16 bytes a
 * step with SSE2 (a byte a step otherwise, and for the last 15 bytes).  Reads nothing at or past
 * len.
 */
static inline size_t decode_util_scan_key(const char *p, size_t i, size_t len)
{
#ifdef __SSE2__
    while (i + 16 <= len) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* Bytes from 0x80 on are negative to the signed compares below,
         * so none of them passes. */
        __m128i lo = _mm_or_si128(x, _mm_set1_epi8(0x20));
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lo, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(lo, _mm_set1_epi8('z' + 1)));
        /* '-' '.' '/' and the digits are 0x2d-0x39; '/' is not a key byte. */
        __m128i num = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('-' - 1)),
                                    _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        __m128i key;
        unsigned m;

        num = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')), num);
        key = _mm_or_si128(_mm_or_si128(alpha, num), _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
        m = ~(unsigned)_mm_movemask_epi8(key) & 0xffffu;
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < len && decode_util_is_keych((unsigned char)p[i]))
        i++;
    return i;
}

/* 1 if `upper` (upper-case ASCII) occurs in the span, ignoring ASCII case. */
int decode_util_ci_contains(struct decode_span s, const char *upper);

/* The ECS network.transport name of an IANA protocol number as firewalls
 * log it ("6" tcp, "17" udp, "1" icmp, "58" ipv6-icmp); any other span is
 * returned as it is. */
struct decode_span decode_util_iana_transport(struct decode_span proto);

/* Adds a NAT address (port 0) or port (port 1) under `name` unless it is
 * empty, unset (0.0.0.0, ::, port 0) or not an address/port. */
int decode_util_add_nat(struct event *ev, const char *name, size_t n, struct decode_span v,
                        int port);

/* The span of a NUL-terminated static string (inline: the literal's
 * length is then known when compiling). */
static inline struct decode_span decode_util_cstr(const char *s)
{
    struct decode_span v = {s, strlen(s)};

    return v;
}

/*
 * Adds field `id` with the span as a view, skipping empty spans.  Returns 0,
 * or -ENOMEM (the only error worth stopping a decoder for: a field refused
 * at a cap is counted in ev->dropped and decoding goes on).
 */
static inline int decode_util_add(struct event *ev, uint32_t id, struct decode_span s)
{
    int r;

    if (!s.n)
        return 0;
    r = event_add(ev, id, s.p, s.n);
    return r == -ENOMEM ? r : 0;
}
/* As decode_util_add for a product field named (name, name_n). */
int decode_util_add_named(struct event *ev, const char *name, size_t name_n, struct decode_span s);

#endif
