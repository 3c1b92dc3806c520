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
 *
 * It is also the one reader of JSON outside the decoder's hot path (the
 * decoder keeps its own flattener, src/decode/decode_json.c): jp_skip and
 * jp_doc check a value of any kind as strictly and return its span, the
 * jp_iter_ calls and jp_lookup walk an object or array span, and jp_text
 * decodes a value for a terminal (the CLI's view of the API's answers).
 */
#ifndef HIKESHI_UTIL_JP_H
#define HIKESHI_UTIL_JP_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

struct buf;

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

/* ---- values of any kind, as spans -------------------------------------- */

/* One JSON value as written, quotes and brackets included.  `p` points
 * into the caller's buffer, which must outlive the span. */
struct jp_span {
    const char *p;
    size_t len;
};

/*
 * Skips the one value of any kind at the cursor (spaces before it are
 * skipped too), checking it as strictly as the typed readers do: strings
 * well-formed UTF-8 without control bytes, escapes and surrogate pairs
 * whole, numbers in JSON's grammar, containers nested at most `depth_max`
 * deep (0: LIMIT_JSON_DEPTH).  One difference: the escape \u0000 is valid
 * here, as it is in JSON; only the readers that decode into C strings
 * (jp_string) refuse it.  On success the cursor is just past the value and
 * *ret_span (may be NULL) holds it.  -EINVAL with j->err filled otherwise.
 */
int jp_skip(struct jp *j, unsigned depth_max, struct jp_span *ret_span);
/* As jp_skip, appending the value to `out` without insignificant
 * whitespace (so the copy holds no newline).  -E2BIG/-ENOMEM from `out`. */
int jp_skip_compact(struct jp *j, unsigned depth_max, struct buf *out);
/* A whole document: one value (jp_skip, LIMIT_JSON_DEPTH) with nothing but
 * spaces around it.  0 with its span, or -EINVAL with *reterr (may be
 * NULL) filled. */
int jp_doc(const char *p, size_t len, struct jp_span *ret, struct parse_err *reterr);

/* Walks the members of one object span or the elements of one array span
 * (a span jp_skip returned, or part of one). */
struct jp_iter {
    struct jp j; /* over the container's bytes; no error record */
    int first;   /* nothing returned yet */
    char close;  /* '}' or ']' */
};
/* -EINVAL when `c` is not an object or array; jp_iter_next then fails at
 * once, so an unchecked init is safe. */
int jp_iter_init(struct jp_iter *it, struct jp_span c);
/* The next member or element: 1 with its value and, for objects, its key
 * (a string span, quotes included; ret_key may be NULL), 0 after the last,
 * -EINVAL when the container is malformed. */
int jp_iter_next(struct jp_iter *it, struct jp_span *ret_key, struct jp_span *ret_val);
/* The value of member `key` of object `obj`, keys compared decoded:
 * 0, -ENOENT, or -EINVAL when `obj` is not an object or is malformed
 * before the key is found. */
int jp_lookup(struct jp_span obj, const char *key, struct jp_span *ret);
/* 1 when string span `k` decodes to exactly the C string `s`. */
int jp_key_is(struct jp_span k, const char *s);
/* 1 when the span is exactly the bytes of `lit` ("true", "null"). */
int jp_span_is(struct jp_span v, const char *lit);
/* An integer span (jp_i64's rules, nothing after it): 0 or -EINVAL. */
int jp_span_i64(struct jp_span v, int64_t *ret);

/* jp_text: keep newlines (multi-line fields); without it they are spaces. */
#define JP_TEXT_KEEP_NL 1u

/*
 * Appends a value to `out` as text for a terminal: a string decoded, with
 * C0 and C1 control characters and DEL shown as '?' (tabs, carriage
 * returns and newlines as spaces unless JP_TEXT_KEEP_NL) so that text from
 * elsewhere cannot drive the terminal or break a table's lines; a number,
 * true, false or a container as written, its spaces as spaces; null as
 * nothing.  0, 1 for null (so callers can show "-"), -EINVAL for a span
 * that is not one well-formed value, -E2BIG/-ENOMEM from `out`.
 */
int jp_text(struct jp_span v, struct buf *out, unsigned flags);

#endif
