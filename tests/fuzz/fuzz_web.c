/*
 * fuzz_web.c - libFuzzer target for the web decoders: every input goes
 * through both the access-log and the error-log decoder, with the checks
 * of fuzz_decoder.h, and through the URL normaliser as a bare target, with
 * and without log escapes: its output must be no longer than the input,
 * NUL-terminated, hold the query inside it after a '?', and have no
 * upper-case ASCII, backslash or NUL left.  Violations abort().
 */
#include <stdlib.h>
#include <string.h>

#include "decode/decode_url.h"
#include "decode/decode_web.h"
#include "fuzz_decoder.h"
#include "util/arena.h"

static void fuzz_url(const uint8_t *data, size_t size, unsigned opts)
{
    static struct arena arena;
    static int ready;
    struct decode_url_norm nm;
    char *p = malloc(size ? size : 1);
    volatile unsigned char sink = 0;

    if (!p)
        return;
    if (!ready) {
        arena_init(&arena, 0);
        ready = 1;
    }
    if (size)
        memcpy(p, data, size);
    if (decode_url_normalize(&arena, p, size, opts, &nm) == 0) {
        if (nm.len > size || nm.text[nm.len] != '\0')
            abort();
        if (nm.query && (nm.query < nm.text + 1 || nm.query[-1] != '?' ||
                         nm.query + nm.query_len != nm.text + nm.len))
            abort();
        if (!nm.query && memchr(p, '?', size))
            abort();
        if (nm.evasion & ~0x3fu)
            abort();
        for (size_t k = 0; k < nm.len; k++) {
            /* Folded: no upper-case ASCII, no backslash, no NUL remain. */
            if ((nm.text[k] >= 'A' && nm.text[k] <= 'Z') || nm.text[k] == '\\' ||
                nm.text[k] == '\0')
                abort();
            sink ^= (unsigned char)nm.text[k];
        }
    }
    (void)sink;
    arena_reset(&arena);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder_run(decode_web_access, data, size);
    fuzz_decoder_run(decode_web_error, data, size);
    fuzz_url(data, size, 0);
    fuzz_url(data, size, DECODE_URL_LOG_ESCAPES);
    return 0;
}
