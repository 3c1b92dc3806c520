/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Every buffer that untrusted bytes can grow is created with a cap; an
 * append that would pass it fails with -E2BIG and leaves the buffer as it
 * was.  The data is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef HIKESHI_UTIL_BUF_H
#define HIKESHI_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data;  /* heap; NULL until the first append */
    size_t len;  /* bytes used, excluding the NUL */
    size_t size; /* bytes allocated */
    size_t cap;  /* most bytes len may reach */
};

/* Embeds an empty buffer that may grow to `cap` bytes. */
void buf_init(struct buf *b, size_t cap);
/* Frees the data.  Safe on a zeroed or already-done buffer. */
void buf_done(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* 0, -ENOMEM or -E2BIG (the cap would be passed). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, char c);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` as a JSON string literal, quotes included.  Invalid UTF-8
 * bytes are written as \u00XX of the byte value so the output is always
 * valid JSON and nothing of the input is lost silently. */
int buf_json_str(struct buf *b, const char *s, size_t len);

#endif
