/*
 * fuzz_archive_tomb.c - the retention tombstone parser (archive_retention.c)
 * on hostile bytes: archive_tomb_parse must accept or refuse without reading
 * past the input, a signature check on what it accepted must not crash, and
 * what it accepted must encode back (unsigned) to bytes it parses to the
 * same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_retention.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct archive_tomb t, u;
    const char *why = NULL;
    uint8_t *b = NULL;
    size_t len = 0;

    if (archive_tomb_parse(data, size, &t, &why) < 0) {
        if (!why)
            abort();
        return 0;
    }
    (void)archive_tomb_sig_ok(data, size, &t);
    if (archive_tomb_build(&t, NULL, &b, &len) < 0)
        abort();
    if (archive_tomb_parse(b, len, &u, &why) < 0 || u.seq != t.seq || u.records != t.records ||
        u.first_record != t.first_record || u.nseals != t.nseals || u.t_min != t.t_min ||
        u.t_max != t.t_max || u.is_signed != 0 ||
        memcmp(u.chain_out, t.chain_out, sizeof(u.chain_out)) != 0)
        abort();
    free(b);
    return 0;
}
