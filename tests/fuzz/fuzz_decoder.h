/*
 * fuzz_decoder.h - the libFuzzer driver shared by the decoder targets.
 *
 * Any bytes must give 0, -ENOENT, -EINVAL (with a message and an offset
 * inside the input) or -ENOMEM, never a crash or a read past the input;
 * -ENOENT adds no field; a success names its decoder and leaves ev->msg
 * inside the input; every field value must be readable (each byte is
 * touched so that ASan checks where it points).  Violations abort().
 *
 * Header-only: a target includes it once and writes FUZZ_DECODER(fn), or
 * calls fuzz_decoder_run() itself to drive several decoders.
 */
#ifndef HIKESHI_TESTS_FUZZ_DECODER_H
#define HIKESHI_TESTS_FUZZ_DECODER_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs `fn` on one input.  The arena is reused across inputs, as the
 * pipeline reuses it across records. */
static void fuzz_decoder_run(decode_fn fn, const uint8_t *data, size_t size)
{
    static struct arena arena;
    static int ready;
    /* 2026-06-01T00:00:00Z: fixed so that a crash reproduces. */
    static const struct decode_ctx ctx = {.ref_us = 1780272000LL * 1000000LL};
    struct event ev;
    struct parse_err err = {0};
    volatile unsigned char sink = 0;
    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    char *p = malloc(size ? size : 1);
    int r;

    if (!p)
        return;
    if (!ready) {
        arena_init(&arena, 0);
        field_init();
        ready = 1;
    }
    if (size)
        memcpy(p, data, size);
    event_init(&ev, &arena, p, size, ctx.ref_us);
    r = fn(&ev, p, size, &ctx, &err);
    if (r != 0 && r != -ENOENT && r != -EINVAL && r != -ENOMEM)
        abort();
    if (r == -EINVAL && (!err.msg || err.off > size))
        abort();
    if (r == -ENOENT && ev.nfields != 0)
        abort();
    if (r == 0 && (!ev.decoder || (ev.msg_len && (ev.msg < p || ev.msg + ev.msg_len > p + size))))
        abort();
    for (uint32_t i = 0; i < ev.nfields; i++)
        for (uint32_t k = 0; k < ev.fields[i].len; k++)
            sink ^= (unsigned char)ev.fields[i].val[k];
    (void)sink;
    event_reset(&ev);
    free(p);
}

/* Defines the libFuzzer entry point of a target for one decoder. */
#define FUZZ_DECODER(fn)                                                                           \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        fuzz_decoder_run((fn), data, size);                                                        \
        return 0;                                                                                  \
    }

#endif
