/*
 * fuzz_framing.c - the RFC 6587 framer fed in chunks whose sizes come from
 * the input's first bytes, with a small cap so truncation is exercised.
 * Checks that no frame is longer than the cap, that the framer never holds
 * more, and that the frames do not depend on the chunking.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/input_framing.h"
#include "input/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LINE 64
#define FUZZ_NSIZES 4

struct fuzz_acc {
    uint64_t frames;
    uint64_t bytes;
    uint64_t hash;
};

static int fuzz_cb(void *arg, const char *frame, size_t len, unsigned flags)
{
    struct fuzz_acc *a = arg;

    if (len > FUZZ_MAX_LINE || len == 0 || (flags & ~(unsigned)RECORD_TRUNCATED))
        abort();
    a->frames++;
    a->bytes += len;
    for (size_t i = 0; i < len; i++)
        a->hash = a->hash * 31 + (unsigned char)frame[i];
    a->hash = a->hash * 31 + flags;
    return 0;
}

static void fuzz_run(const char *p, size_t n, const uint8_t *sizes, size_t nsizes,
                     struct fuzz_acc *a)
{
    struct framer f;
    size_t i = 0, k = 0;

    memset(a, 0, sizeof(*a));
    if (framer_init(&f, FUZZ_MAX_LINE) != 0)
        return;
    while (i < n) {
        size_t c = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : n - i;

        if (c > n - i)
            c = n - i;
        if (framer_feed(&f, p + i, c, fuzz_cb, a) != 0 || f.len > f.max_line)
            abort();
        i += c;
    }
    framer_finish(&f, fuzz_cb, a);
    if (f.len != 0)
        abort();
    framer_done(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_acc whole, chunked;
    size_t nsizes = size < FUZZ_NSIZES ? size : FUZZ_NSIZES;
    const char *p = (const char *)data + nsizes;
    size_t n = size - nsizes;

    fuzz_run(p, n, NULL, 0, &whole);
    fuzz_run(p, n, data, nsizes, &chunked);
    if (whole.frames != chunked.frames || whole.bytes != chunked.bytes ||
        whole.hash != chunked.hash)
        abort();
    return 0;
}
