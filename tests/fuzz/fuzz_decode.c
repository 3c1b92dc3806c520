/*
 * fuzz_decode.c - auto-detection and every decoder chain on arbitrary
 * bytes, as the pipeline calls them; then the event's JSON must be built
 * without error.
 */
#include <stdint.h>
#include <stdlib.h>

#include "decode/decode.h"
#include "event/event.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena arena;
    static int init;
    struct event ev;
    struct decode_ctx ctx = {.ref_us = 1780000000LL * 1000000, .tz = NULL};
    struct parse_err err;
    struct buf out;
    char *copy;

    if (!init) {
        arena_init(&arena, 0);
        init = 1;
    }
    /* A heap copy of exactly `size` bytes so ASan catches any over-read. */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    for (size_t i = 0; i < size; i++)
        copy[i] = (char)data[i];
    event_init(&ev, &arena, copy, size, ctx.ref_us);
    decode_record(&ev, NULL, &ctx, &err);
    buf_init(&out, 1 << 24);
    if (event_fields_json(&ev, &out) < 0 && out.len < (1u << 23))
        abort();
    buf_done(&out);
    event_reset(&ev);
    free(copy);
    return 0;
}
