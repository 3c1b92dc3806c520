/*
 * decode_url.h - a normalised view of an HTTP request target.
 *
 * Attackers write the same payload many ways (%27, %2527, \xc0\xae, "+",
 * "..;/", "....//", upper case) so that a filter on the raw text misses it.
 * Rules stay declarative when the decoder adds one canonical form beside
 * the original, and match that:
 *
 *   url.normalized        the whole target, normalised (path, then "?" and
 *                         the query when there is one)
 *   url.query_normalized  the query alone, normalised (absent without "?")
 *   url.evasion           space-separated markers of what had to be undone:
 *                         double_encoding, overlong_utf8, unicode_escape,
 *                         null_byte, backslash, dot_segment_trick
 *
 * Normalisation, in this order: Apache/nginx "\xHH" log escapes decoded
 * (DECODE_URL_LOG_ESCAPES); "+" becomes a space in the query; up to
 * DECODE_URL_ROUNDS rounds of percent-decoding (also IIS "%uXXXX" for ASCII
 * and the full-width dot, slash and backslash), each followed by decoding
 * overlong UTF-8 forms of ASCII; NUL bytes dropped; ASCII lower-cased;
 * backslash made "/"; runs of white space made one space; then dot segments:
 * a segment of two or more dots, with or without ";parameters", becomes
 * ".." (and the slashes after it one), a "." segment is dropped, and runs
 * of "/" become one (but "scheme://" stays).  Dot-dot segments are never resolved: the
 * point is to keep "../" visible.  The result is never longer than the
 * input, and the work is a bounded number of linear passes.
 */
#ifndef HIKESHI_DECODE_DECODE_URL_H
#define HIKESHI_DECODE_DECODE_URL_H

#include <stddef.h>

struct arena;
struct event;

/* Percent-decoding rounds: enough for double and triple encoding, while a
 * deeper stack would only be the attacker's way to make us spin. */
#define DECODE_URL_ROUNDS 3

/* Options of decode_url_normalize(). */
#define DECODE_URL_LOG_ESCAPES 0x1u /* "\xHH" is a byte, as Apache and nginx log it */

/* Bits of decode_url_norm.evasion. */
enum decode_url_evasion {
    DECODE_URL_EV_DOUBLE_ENCODING = 0x01,
    DECODE_URL_EV_OVERLONG_UTF8 = 0x02,
    DECODE_URL_EV_UNICODE_ESCAPE = 0x04,
    DECODE_URL_EV_NULL_BYTE = 0x08,
    DECODE_URL_EV_BACKSLASH = 0x10,
    DECODE_URL_EV_DOT_SEGMENT_TRICK = 0x20,
};

/* The normalised target; text is in the arena given, NUL-terminated. */
struct decode_url_norm {
    char *text;
    size_t len;
    const char *query; /* into text, after the '?'; NULL without a query */
    size_t query_len;
    unsigned evasion; /* enum decode_url_evasion bits */
};

/*
 * Normalises the target (url, n) into memory from `arena`.  Returns 0 with
 * *ret filled, or -ENOMEM.  Any bytes are accepted.
 */
int decode_url_normalize(struct arena *arena, const char *url, size_t n, unsigned opts,
                         struct decode_url_norm *ret);

/*
 * Adds url.normalized, url.query_normalized and url.evasion (see above) for
 * the target (url, n) to `ev`.  Returns 0, or -ENOMEM; a field refused at a
 * cap is counted by the event and is not an error.
 */
int decode_url_add_fields(struct event *ev, const char *url, size_t n, unsigned opts);

#endif
