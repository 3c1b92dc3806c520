/*
 * input_framing.h - RFC 6587 framing of a syslog TCP stream.
 *
 * A stream may use octet counting ("123 <34>1 ...") or newline framing
 * ("<34>Jan ...\n"); the framer decides per frame, by the first byte of the
 * frame (a digit means octet counting, as RFC 6587 3.4.1 and 3.5 suggest).
 * Frames longer than max_line are truncated to max_line and flagged; the
 * rest is skipped without being buffered.  The framer holds at most max_line
 * bytes however the stream behaves.
 */
#ifndef HIKESHI_INPUT_INPUT_FRAMING_H
#define HIKESHI_INPUT_INPUT_FRAMING_H

#include <stddef.h>
#include <stdint.h>

struct framer {
    char *buf;       /* partial frame, up to max_line bytes (heap) */
    size_t len;      /* bytes in buf */
    size_t max_line; /* cap on a frame */
    int state;       /* internal */
    uint64_t want;   /* octet counting: bytes of the frame still expected */
    int truncated;   /* the frame in progress lost bytes */
    uint64_t count;  /* octet counting: digits read so far */
    int ndigits;
};

/* Callback for each complete frame; `flags` is RECORD_TRUNCATED or 0.
 * Returning non-zero stops framer_feed() (which then returns that value). */
typedef int (*framer_cb)(void *arg, const char *frame, size_t len, unsigned flags);

/* 0 or -ENOMEM. */
int framer_init(struct framer *f, size_t max_line);
void framer_done(struct framer *f);
/* Feeds bytes; calls cb for every frame completed.  Returns 0 or the first
 * non-zero cb result. */
int framer_feed(struct framer *f, const char *p, size_t n, framer_cb cb, void *arg);
/* End of stream: delivers a pending unterminated newline frame, if any
 * (an incomplete octet-counted frame is delivered truncated). */
int framer_finish(struct framer *f, framer_cb cb, void *arg);

#endif
