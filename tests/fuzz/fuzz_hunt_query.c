/*
 * fuzz_hunt_query.c - the hunt's query parser and evaluator
 * (src/hunt/hunt_query.c) on hostile query text.
 *
 * The input up to its first newline is the query; the rest is a record's raw
 * text, also given as the value of a few fields.  A query must parse or be
 * refused with an offset inside it; a parsed one is evaluated on the record
 * (prefilter and match), and a match must never be one the prefilter ruled
 * out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "hunt/hunt_query.h"
#include "util/arena.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena arena;
    static int ready;
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t qlen = nl ? (size_t)(nl - s) : size;
    const char *raw = nl ? nl + 1 : "";
    size_t rlen = nl ? size - qlen - 1 : 0;
    struct hunt_query *q = NULL;
    struct parse_err pe = {0};
    struct event ev;
    int pre, m;

    if (!ready) {
        field_init();
        arena_init(&arena, LIMIT_ARENA_MAX);
        ready = 1;
    }
    if (hunt_query_parse(s, qlen, &q, &pe) < 0) {
        if (!pe.msg || pe.off > qlen)
            abort();
        return 0;
    }
    arena_reset(&arena);
    event_init(&ev, &arena, raw, rlen, 0);
    (void)event_add(&ev, FIELD_SOURCE_IP, raw, rlen);
    (void)event_add(&ev, FIELD_USER_NAME, raw, rlen);
    (void)event_add_str(&ev, FIELD_SOURCE_IP, "10.1.2.3");
    (void)event_add_str(&ev, FIELD_DESTINATION_PORT, "8443");
    (void)event_add_str(&ev, FIELD_URL_ORIGINAL, "/a/../etc/passwd");
    pre = hunt_query_prefilter(q, raw, rlen);
    m = hunt_query_match(q, &ev);
    if (m && !pre)
        abort();
    hunt_query_free(q);
    return 0;
}
