/*
 * input_jsonarray.c - framing a JSON array into one record per element.
 *
 * A byte-level state machine: before the opening "[", between elements
 * (whitespace and commas), inside an element (strings with their escapes,
 * nesting depth), after the closing "]".  Only objects are elements: an
 * exported alert or event is always one, and a scalar there means the file
 * is not what we took it for.  The element's bytes are copied into a buffer
 * capped when the splitter is made; past the cap they are dropped but still
 * followed, so the next element starts where it should.
 */
#include "input/input_jsonarray.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "input/record.h"

enum {
    JA_BEFORE,  /* nothing but whitespace yet; "[" next */
    JA_BETWEEN, /* inside the array, between elements */
    JA_IN,      /* inside an element */
    JA_AFTER,   /* after the closing "]": only whitespace may follow */
    JA_BAD      /* not an array of objects: ignore the rest */
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int input_jsonarray_starts(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && is_ws(line[i]))
        i++;
    if (i == len || line[i] != '[')
        return 0;
    for (i++; i < len && is_ws(line[i]); i++)
        ;
    return i == len || line[i] == '{' || line[i] == ']';
}

int input_jsonarray_init(struct jsonarray *a, size_t max)
{
    memset(a, 0, sizeof(*a));
    if (max == 0 || !(a->buf = malloc(max)))
        return -ENOMEM;
    a->max = max;
    a->state = JA_BEFORE;
    return 0;
}

void input_jsonarray_done(struct jsonarray *a)
{
    free(a->buf);
    a->buf = NULL;
    a->len = 0;
}

static void put(struct jsonarray *a, char c)
{
    if (a->len < a->max)
        a->buf[a->len++] = c;
    else
        a->trunc = 1;
}

int input_jsonarray_feed(struct jsonarray *a, const char *line, size_t len,
                         jsonarray_emit_fn emit, void *arg, size_t *ret_off)
{
    /* The line break before this line is whitespace inside an element. */
    if (a->state == JA_IN)
        put(a, ' ');
    for (size_t i = 0; i < len; i++) {
        char c = line[i];

        switch (a->state) {
        case JA_BEFORE:
            if (c == '[')
                a->state = JA_BETWEEN;
            else if (!is_ws(c))
                goto bad;
            break;
        case JA_BETWEEN:
            if (c == '{') {
                a->state = JA_IN;
                a->depth = 1;
                a->in_str = a->esc = 0;
                a->len = 0;
                a->trunc = 0;
                put(a, c);
            } else if (c == ']') {
                a->state = JA_AFTER;
            } else if (!is_ws(c) && c != ',') {
                goto bad;
            }
            break;
        case JA_IN:
            put(a, c);
            if (a->in_str) {
                if (a->esc)
                    a->esc = 0;
                else if (c == '\\')
                    a->esc = 1;
                else if (c == '"')
                    a->in_str = 0;
            } else if (c == '"') {
                a->in_str = 1;
            } else if (c == '{' || c == '[') {
                a->depth++;
            } else if (c == '}' || c == ']') {
                if (--a->depth == 0) {
                    int r;

                    a->state = JA_BETWEEN;
                    a->elements++;
                    r = emit(arg, a->buf, a->len, a->trunc ? RECORD_TRUNCATED : 0);
                    if (r)
                        return r;
                }
            }
            break;
        case JA_AFTER:
            if (!is_ws(c))
                goto bad;
            break;
        default:
            return -EBADMSG;
        }
        continue;
bad:
        a->state = JA_BAD;
        if (ret_off)
            *ret_off = i;
        return -EBADMSG;
    }
    return a->state == JA_BAD ? -EBADMSG : 0;
}

int input_jsonarray_finish(const struct jsonarray *a)
{
    return a->state == JA_AFTER ? 0 : -EBADMSG;
}
