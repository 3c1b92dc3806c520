/*
 * jp.h - a strict, bounded JSON pull parser for request bodies and records
 * (incident updates, API requests).  It reads from a length-delimited
 * buffer (no NUL needed, never past len), decodes strings into caller
 * buffers with a cap, refuses what JSON refuses (and NUL, control bytes,
 * bad UTF-8, lone surrogates, leading zeros), and reports the byte offset
 * and a static message of the first problem in a struct parse_err.  No
 * allocation.
 *
 * Usage: struct jp j = {buf, len, 0, &err, NULL, 0}; jp_expect(&j, '{', ...);
 * then jp_member() in a loop, a typed reader per value, then jp_end().
 */
#ifndef HIKESHI_UTIL_JP_H
#define HIKESHI_UTIL_JP_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

/* Longest key compared; longer keys are cut and so match no known key. */
#define JP_KEY_MAX 32

struct jp {
    const char *p;
    size_t len, off;
    struct parse_err *err;
    char *why; /* optional: a sentence with the offset; NULL/0 for none */
    size_t whylen;
};

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code
 * points past U+10FFFF) without NUL bytes. */
int jp_utf8_ok(const unsigned char *s, size_t n);

/* Records msg at the cursor; returns -EINVAL.  _key names the field. */
int jp_fail(struct jp *j, const char *msg);
int jp_fail_key(struct jp *j, const char *msg, const char *key);
/* The next non-space byte (skipping it not), or -1 at the end. */
int jp_peek(struct jp *j);
/* Consumes byte c after spaces, else fails with msg. */
int jp_expect(struct jp *j, char c, const char *msg);
/* 1 and consumed when the next value is null, else 0. */
int jp_null(struct jp *j);
/* Decodes a string into out[cap + 1], NUL-terminated; *ret_len (may be
 * NULL) gets its length.  Longer than cap: "string too long". */
int jp_string(struct jp *j, char *out, size_t cap, size_t *ret_len);
/* Integers without fraction or exponent, within range. */
int jp_u64(struct jp *j, uint64_t *ret);
int jp_i64(struct jp *j, int64_t *ret);
/* A finite number (integer, fraction, exponent). */
int jp_double(struct jp *j, double *ret);
/* true or false. */
int jp_bool(struct jp *j, int *ret);
/* Object members: call with *first = 1 after the '{'.  1 with the key in
 * key[JP_KEY_MAX + 1], 0 after the closing '}', or an error. */
int jp_member(struct jp *j, int *first, char *key);
/* Array elements: 1 before each, 0 after the closing ']'. */
int jp_element(struct jp *j, int *first);
/* Fails unless only spaces are left. */
int jp_end(struct jp *j);

#endif
