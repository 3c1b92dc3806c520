/*
 * fuzz_cef.c - libFuzzer target for the cef decoder: any bytes must give
 * 0, -ENOENT or -EINVAL (or -ENOMEM), never a crash or a read past the
 * input, and every field value must lie inside the input or the arena.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_cef.h"
#include "event/event.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct arena arena;

static void run(decode_fn fn, const uint8_t *data, size_t size)
{
    static const struct decode_ctx ctx = {1700000000000000LL, 0};
    struct event ev;
    struct parse_err perr;
    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    char *p = malloc(size ? size : 1);
    int r;

    if (!p)
        return;
    if (size)
        memcpy(p, data, size);
    event_init(&ev, &arena, p, size, 1700000000000000LL);
    r = fn(&ev, p, size, &ctx, &perr);
    assert(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOMEM);
    if (r == -ENOENT)
        assert(ev.nfields == 0);
    if (r == 0)
        assert(ev.decoder != NULL);
    for (uint32_t i = 0; i < ev.nfields; i++) {
        /* Touch every byte of every value. */
        volatile char sink = 0;
        for (uint32_t k = 0; k < ev.fields[i].len; k++)
            sink ^= ev.fields[i].val[k];
        (void)sink;
    }
    event_reset(&ev);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;

    if (!inited) {
        arena_init(&arena, 0);
        field_init();
        inited = 1;
    }
    run(decode_cef, data, size);
    return 0;
}
