/*
 * fuzz_auditd.c - libFuzzer target for decode_auditd().  The input is
 * decoded twice: whole, as one audit record (an audit.log line, or a
 * syslog MSG part) with the checks of fuzz_decoder.h; then split at '\n'
 * and decoded line by line with one decoder stream, as the pipeline reads
 * an audit.log file, so that records are held and joined: each line gives
 * 0, -ENOENT, -EINVAL (message, offset inside the line), -ENOMEM or
 * -EAGAIN (held, no field), the joined events are taken after each line
 * and all at the end, and every value of every event must be readable.
 * Violations abort().
 */
#include "decode/decode_auditd.h"
#include "decode/decode_zeek_tsv.h"
#include "fuzz_decoder.h"

static void touch(const struct event *ev)
{
    volatile unsigned char sink = 0;

    for (uint32_t i = 0; i < ev->nfields; i++)
        for (uint32_t k = 0; k < ev->fields[i].len; k++)
            sink ^= (unsigned char)ev->fields[i].val[k];
    for (size_t k = 0; k < ev->raw_len; k++)
        sink ^= (unsigned char)ev->raw[k];
    (void)sink;
}

static void take(struct arena *arena, struct decode_stream *s, int all)
{
    for (;;) {
        struct event ev;
        struct parse_err err = {0};
        int r;

        event_init(&ev, arena, NULL, 0, 0);
        r = decode_auditd_flush(&ev, s, all, &err);
        if (r == -ENOENT) {
            event_reset(&ev);
            break;
        }
        if (r != 0 && r != -EINVAL && r != -ENOMEM)
            abort();
        if (r == 0 && (!ev.decoder || !ev.raw))
            abort();
        touch(&ev);
        event_reset(&ev);
    }
}

static void run_lines(const uint8_t *data, size_t size)
{
    static struct arena arena;
    static int ready;
    static struct decode_stream s; /* auditd's part only: no Zeek decoder here */
    struct decode_ctx ctx = {.ref_us = 1780272000LL * 1000000LL, .stream = &s};
    size_t i = 0;

    if (!ready) {
        arena_init(&arena, 0);
        ready = 1;
    }
    while (i <= size) {
        const uint8_t *nl = i < size ? memchr(data + i, '\n', size - i) : NULL;
        size_t n = nl ? (size_t)(nl - (data + i)) : size - i;
        /* a heap copy of exactly the line, so ASan sees any over-read */
        char *p = malloc(n ? n : 1);
        struct event ev;
        struct parse_err err = {0};
        int r;

        if (!p)
            break;
        if (n)
            memcpy(p, data + i, n);
        event_init(&ev, &arena, p, n, ctx.ref_us);
        r = decode_auditd(&ev, p, n, &ctx, &err);
        if (r != 0 && r != -ENOENT && r != -EINVAL && r != -ENOMEM && r != -EAGAIN)
            abort();
        if ((r == -ENOENT || r == -EAGAIN) && ev.nfields != 0)
            abort();
        if (r == -EINVAL && (!err.msg || err.off > n))
            abort();
        touch(&ev);
        event_reset(&ev);
        free(p);
        take(&arena, &s, 0);
        i += n + 1;
    }
    take(&arena, &s, 1);
    if (decode_auditd_holding(&s))
        abort();
    free(s.auditd);
    s.auditd = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder_run(decode_auditd, data, size);
    run_lines(data, size);
    return 0;
}
