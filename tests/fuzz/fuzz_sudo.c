/*
 * fuzz_sudo.c - libFuzzer target for decode_sudo(): the input is one record
 * (for sshd, sudo and netfilter: one syslog MSG part).  Checks that the
 * decoder stays inside its input, returns one of its documented codes, and
 * that a success leaves every field value and ev->msg readable.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_sudo.h"
#include "event/event.h"
#include "event/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Reused across inputs, as the pipeline reuses them across records. */
    static struct arena arena;
    static struct event ev;
    static int ready;
    /* 2026-06-01T00:00:00Z: fixed so that a crash reproduces. */
    struct decode_ctx ctx = {1780272000LL * 1000000LL, 0};
    struct parse_err err = {0};
    const char *p = (const char *)data;
    volatile unsigned char sink = 0;
    int r;

    if (!ready) {
        arena_init(&arena, 0);
        ready = 1;
    }
    event_init(&ev, &arena, p, size, 0);
    r = decode_sudo(&ev, p, size, &ctx, &err);
    if (r != 0 && r != -ENOENT && r != -EINVAL && r != -ENOMEM)
        abort();
    if (r == -EINVAL && (!err.msg || err.off > size))
        abort();
    if (r == 0) {
        if (!ev.decoder || (ev.msg_len && (ev.msg < p || ev.msg + ev.msg_len > p + size)))
            abort();
        /* Touch every byte of every value so ASan checks where they point. */
        for (uint32_t i = 0; i < ev.nfields; i++)
            for (uint32_t k = 0; k < ev.fields[i].len; k++)
                sink ^= (unsigned char)ev.fields[i].val[k];
    }
    (void)sink;
    event_reset(&ev);
    return 0;
}
