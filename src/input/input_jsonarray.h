/*
 * input_jsonarray.h - one record per element of a JSON array, for files
 * written as one array rather than JSON lines (Suricata alerts exported by
 * tools, the public EVE samples, most "download as JSON" buttons), often
 * pretty-printed over many lines.
 *
 * The splitter is fed the file line by line, as `hikeshi scan` reads it,
 * and hands back each top-level object as one record.  A line break inside
 * an object becomes a space: outside strings it is whitespace, and inside
 * a string JSON allows no raw line break at all.  It frames and never
 * parses: an element's content is the JSON decoder's business.
 */
#ifndef HIKESHI_INPUT_INPUT_JSONARRAY_H
#define HIKESHI_INPUT_INPUT_JSONARRAY_H

#include <stddef.h>

struct jsonarray {
    char *buf;           /* the element being assembled, up to max bytes */
    size_t len, max;     /* bytes in buf; its capacity */
    int trunc;           /* the element lost bytes past max */
    int state;           /* enum in input_jsonarray.c */
    unsigned depth;      /* open { and [ inside the element */
    int in_str, esc;     /* inside a string; after a backslash there */
    size_t elements;     /* elements handed out */
};

/*
 * 1 if `line` (the first line of a file) opens a JSON array of objects:
 * "[" alone, or "[" followed by "{" or "]" after optional whitespace.  An
 * Apache error log's "[Sun Dec 04 ...]" is not one.
 */
int input_jsonarray_starts(const char *line, size_t len);

/* Elements longer than `max` bytes are cut there and flagged.  0 or
 * -ENOMEM. */
int input_jsonarray_init(struct jsonarray *a, size_t max);
/* Frees the buffer; a zeroed or done splitter is fine. */
void input_jsonarray_done(struct jsonarray *a);

/* Called once per element: the bytes (valid during the call only), their
 * length, and RECORD_TRUNCATED when cut.  A non-zero return stops the
 * feed and is returned by it. */
typedef int (*jsonarray_emit_fn)(void *arg, const char *rec, size_t len, unsigned flags);

/*
 * Feeds one line (without its newline).  Returns 0, emit's non-zero value,
 * or -EBADMSG once the text stops being an array of objects (a scalar
 * element, text after the closing "]", a stray "}"), with *ret_off the
 * byte of `line` where; everything after that is ignored.
 */
int input_jsonarray_feed(struct jsonarray *a, const char *line, size_t len,
                         jsonarray_emit_fn emit, void *arg, size_t *ret_off);

/* At the end of the file: 0 if the array was closed, -EBADMSG if the file
 * ended inside it (the elements before were handed out). */
int input_jsonarray_finish(const struct jsonarray *a);

#endif
