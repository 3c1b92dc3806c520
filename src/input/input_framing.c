/*
 * input_framing.c - RFC 6587 framing of a syslog TCP stream.
 *
 * A small state machine fed arbitrary chunks.  Whatever the chunking, the
 * frames delivered are the same: the state carries everything between
 * calls, and the only bytes kept are those of the frame in progress, at most
 * max_line of them.  When a whole frame sits inside one chunk and nothing is
 * buffered, it is handed to the callback straight from the caller's bytes.
 */
#include "input/input_framing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "input/record.h"
#include "util/limits.h"

enum {
    FR_START = 0, /* between frames */
    FR_COUNT,     /* reading the digits of an octet count (kept in buf) */
    FR_OCTET,     /* reading an octet-counted frame; `want` bytes to go */
    FR_LINE,      /* reading a newline-framed line */
    FR_LINE_CR,   /* as FR_LINE, just after a CR not yet stored */
};

int framer_init(struct framer *f, size_t max_line)
{
    memset(f, 0, sizeof(*f));
    if (max_line == 0)
        return -EINVAL;
    f->buf = malloc(max_line);
    if (!f->buf)
        return -ENOMEM;
    f->max_line = max_line;
    f->state = FR_START;
    return 0;
}

void framer_done(struct framer *f)
{
    free(f->buf);
    f->buf = NULL;
    f->len = 0;
}

/* Stores up to the cap; what does not fit is dropped and flags the frame. */
static void fr_append(struct framer *f, const char *p, size_t n)
{
    size_t room = f->max_line - f->len;

    if (n > room) {
        f->truncated = 1;
        n = room;
    }
    if (n) {
        memcpy(f->buf + f->len, p, n);
        f->len += n;
    }
}

static void fr_reset(struct framer *f)
{
    f->state = FR_START;
    f->len = 0;
    f->truncated = 0;
    f->want = 0;
    f->count = 0;
    f->ndigits = 0;
}

/*
 * Hands a frame to the callback after resetting the state, so that the
 * callback may feed the framer again.  `data` may point into f->buf: the
 * reset does not touch the bytes.  Empty frames are skipped.
 */
static int fr_deliver(struct framer *f, const char *data, size_t len, int truncated, framer_cb cb,
                      void *arg)
{
    fr_reset(f);
    if (len == 0 && !truncated)
        return 0;
    return cb(arg, data, len, truncated ? RECORD_TRUNCATED : 0);
}

/* An octet-counted message may carry its own line ending; the record
 * should not. */
static int fr_deliver_octet(struct framer *f, const char *data, size_t len, int truncated,
                            framer_cb cb, void *arg)
{
    if (!truncated && len > 0 && data[len - 1] == '\n') {
        len--;
        if (len > 0 && data[len - 1] == '\r')
            len--;
    }
    return fr_deliver(f, data, len, truncated, cb, arg);
}

static int is_line_end(char c)
{
    return c == '\n' || c == '\0';
}

/*
 * The states of framer_feed, one function each.  Each looks at p[*pi..n)
 * (at least one byte), advances *pi past what it consumed (possibly
 * nothing, when it only changes state) and returns the callback's nonzero
 * result to stop, else 0.  Static and called once each: they compile
 * into framer_feed, and none copies a byte that does not have to be kept.
 */

/* FR_COUNT: a digit of the octet count, or what ends it. */
static int fr_feed_count(struct framer *f, const char *p, size_t *pi)
{
    char c = p[*pi];

    if (c >= '0' && c <= '9') {
        if (f->ndigits >= LIMIT_OCTET_COUNT_DIGITS) {
            /* Too long to be a count we would trust: a line. */
            f->state = FR_LINE;
            return 0;
        }
        fr_append(f, &c, 1);
        f->count = f->count * 10 + (uint64_t)(c - '0');
        f->ndigits++;
        (*pi)++;
    } else if (c == ' ') {
        uint64_t want = f->count;

        (*pi)++;
        fr_reset(f);
        if (want == 0)
            return 0; /* "0 ": an empty frame */
        f->want = want;
        f->state = FR_OCTET;
    } else {
        /* "2024-..." and the like: the digits start a line. */
        f->state = FR_LINE;
    }
    return 0;
}

/* FR_OCTET: the bytes of an octet-counted frame. */
static int fr_feed_octet(struct framer *f, const char *p, size_t n, size_t *pi, framer_cb cb,
                         void *arg)
{
    size_t take = n - *pi;

    if (take > f->want)
        take = (size_t)f->want;
    if (f->len == 0 && !f->truncated && take == f->want && take <= f->max_line) {
        /* Whole frame in this chunk: no copy. */
        *pi += take;
        return fr_deliver_octet(f, p + *pi - take, take, 0, cb, arg);
    }
    fr_append(f, p + *pi, take);
    *pi += take;
    f->want -= take;
    if (f->want == 0)
        return fr_deliver_octet(f, f->buf, f->len, f->truncated, cb, arg);
    return 0;
}

/* FR_LINE: the bytes of a line, up to its end or a CR. */
static int fr_feed_line(struct framer *f, const char *p, size_t n, size_t *pi, framer_cb cb,
                        void *arg)
{
    size_t i = *pi, j = i;
    int r;

    while (j < n && !is_line_end(p[j]) && p[j] != '\r')
        j++;
    if (j == n) {
        fr_append(f, p + i, j - i);
        *pi = j;
        return 0;
    }
    if (p[j] == '\r') {
        fr_append(f, p + i, j - i);
        f->state = FR_LINE_CR;
        *pi = j + 1;
        return 0;
    }
    if (f->len == 0 && !f->truncated) {
        size_t len = j - i;
        int trunc = 0;

        if (len > f->max_line) {
            len = f->max_line;
            trunc = 1;
        }
        r = fr_deliver(f, p + i, len, trunc, cb, arg);
    } else {
        fr_append(f, p + i, j - i);
        r = fr_deliver(f, f->buf, f->len, f->truncated, cb, arg);
    }
    *pi = j + 1;
    return r;
}

/* FR_LINE_CR: the byte after a CR. */
static int fr_feed_line_cr(struct framer *f, const char *p, size_t *pi, framer_cb cb, void *arg)
{
    if (is_line_end(p[*pi])) {
        /* CR LF: the CR is not part of the line. */
        (*pi)++;
        return fr_deliver(f, f->buf, f->len, f->truncated, cb, arg);
    }
    /* A lone CR is content; the byte is looked at again. */
    fr_append(f, "\r", 1);
    f->state = FR_LINE;
    return 0;
}

int framer_feed(struct framer *f, const char *p, size_t n, framer_cb cb, void *arg)
{
    size_t i = 0;
    int r = 0;

    while (i < n) {
        switch (f->state) {
        case FR_START:
            if (is_line_end(p[i])) {
                i++; /* empty line */
            } else if (p[i] >= '0' && p[i] <= '9') {
                f->state = FR_COUNT;
            } else {
                f->state = FR_LINE;
            }
            break;
        case FR_COUNT: r = fr_feed_count(f, p, &i); break;
        case FR_OCTET: r = fr_feed_octet(f, p, n, &i, cb, arg); break;
        case FR_LINE: r = fr_feed_line(f, p, n, &i, cb, arg); break;
        case FR_LINE_CR: r = fr_feed_line_cr(f, p, &i, cb, arg); break;
        default: fr_reset(f); break;
        }
        if (r)
            return r;
    }
    return 0;
}

int framer_finish(struct framer *f, framer_cb cb, void *arg)
{
    switch (f->state) {
    case FR_COUNT:
    case FR_LINE:
    case FR_LINE_CR:
        /* A trailing lone CR is dropped, as if its LF were coming. */
        return fr_deliver(f, f->buf, f->len, f->truncated, cb, arg);
    case FR_OCTET:
        /* The frame was cut short by the end of the stream. */
        if (f->len == 0) {
            fr_reset(f);
            return 0;
        }
        return fr_deliver(f, f->buf, f->len, 1, cb, arg);
    default:
        fr_reset(f);
        return 0;
    }
}
