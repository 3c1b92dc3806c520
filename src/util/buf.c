/*
 * buf.c - a growable byte buffer with a hard cap.
 */
#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->cap = cap;
}

void buf_done(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int buf_reserve(struct buf *b, size_t n)
{
    size_t want, size;
    char *p;

    if (n > b->cap || b->len > b->cap - n)
        return -E2BIG;
    want = b->len + n + 1;
    if (want <= b->size)
        return 0;
    size = b->size ? b->size : 64;
    while (size < want)
        size *= 2;
    if (size > b->cap + 1)
        size = b->cap + 1;
    p = realloc(b->data, size);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->size = size;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int r = buf_reserve(b, n);

    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, r;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    r = buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

static int json_str(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int r;

    if ((r = buf_putc(b, '"')) < 0)
        return r;
    while (i < len) {
        unsigned char c = p[i];
        char esc[7];
        size_t elen = 0;
        size_t n;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        if (c >= 0x80 && (n = utf8_seq(p + i, len - i, NULL)) > 0) {
            i += n;
            run += n;
            continue;
        }
        if (run && (r = buf_append(b, p + i - run, run)) < 0)
            return r;
        run = 0;
        esc[elen++] = '\\';
        switch (c) {
        case '"': esc[elen++] = '"'; break;
        case '\\': esc[elen++] = '\\'; break;
        case '\n': esc[elen++] = 'n'; break;
        case '\r': esc[elen++] = 'r'; break;
        case '\t': esc[elen++] = 't'; break;
        default:
            esc[elen++] = 'u';
            esc[elen++] = '0';
            esc[elen++] = '0';
            esc[elen++] = hex[c >> 4];
            esc[elen++] = hex[c & 15];
            break;
        }
        if ((r = buf_append(b, esc, elen)) < 0)
            return r;
        i++;
    }
    if (run && (r = buf_append(b, p + i - run, run)) < 0)
        return r;
    return buf_putc(b, '"');
}

int buf_json_str(struct buf *b, const char *s, size_t len)
{
    size_t old = b->len;
    int r = json_str(b, s, len);

    /* Like every append, a failure leaves the buffer as it was rather than
     * holding half a string literal. */
    if (r < 0 && b->data) {
        b->len = old;
        b->data[old] = '\0';
    }
    return r;
}
