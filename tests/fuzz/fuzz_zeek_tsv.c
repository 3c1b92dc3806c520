/*
 * fuzz_zeek_tsv.c - libFuzzer target for decode_zeek_tsv(): the input is a
 * whole file, split at '\n' and decoded line by line with one decoder
 * state, as `hikeshi scan` reads a Zeek log, so that hostile headers
 * (separators, empty and unset markers, #fields and #types of any width)
 * reach the rows they govern.  Each line gets the checks of fuzz_decoder.h:
 * 0, -ENOENT (no field), -EINVAL (a message, an offset inside the line) or
 * -ENOMEM, and every field value readable.  Violations abort().
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/decode_zeek_tsv.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_line(struct arena *arena, const struct decode_ctx *ctx, const uint8_t *data,
                     size_t size)
{
    struct event ev;
    struct parse_err err = {0};
    volatile unsigned char sink = 0;
    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    char *p = malloc(size ? size : 1);
    int r;

    if (!p)
        return;
    if (size)
        memcpy(p, data, size);
    event_init(&ev, arena, p, size, ctx->ref_us);
    r = decode_zeek_tsv(&ev, p, size, ctx, &err);
    if (r != 0 && r != -ENOENT && r != -EINVAL && r != -ENOMEM)
        abort();
    if (r == -EINVAL && (!err.msg || err.off > size))
        abort();
    if (r == -ENOENT && ev.nfields != 0)
        abort();
    if (r == 0 && !ev.decoder)
        abort();
    for (uint32_t i = 0; i < ev.nfields; i++)
        for (uint32_t k = 0; k < ev.fields[i].len; k++)
            sink ^= (unsigned char)ev.fields[i].val[k];
    (void)sink;
    event_reset(&ev);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena arena;
    static int ready;
    /* 2026-06-01T00:00:00Z: fixed so that a crash reproduces. */
    struct decode_ctx ctx = {.ref_us = 1780272000LL * 1000000LL};
    size_t i = 0;

    if (!ready) {
        arena_init(&arena, 0);
        field_init();
        ready = 1;
    }
    if (!(ctx.stream = decode_stream_new()))
        return 0;
    while (i <= size) {
        const uint8_t *nl = i < size ? memchr(data + i, '\n', size - i) : NULL;
        size_t n = nl ? (size_t)(nl - (data + i)) : size - i;

        run_line(&arena, &ctx, data + i, n);
        i += n + 1;
    }
    decode_stream_free(ctx.stream);
    return 0;
}
