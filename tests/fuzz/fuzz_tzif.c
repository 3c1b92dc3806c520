/*
 * fuzz_tzif.c - libFuzzer target for the TZif reader (event/tz.c).
 *
 * The bytes are a zone file: tz_parse_tzif must refuse or accept without
 * reading past them, and an accepted zone must answer offset and local-time
 * questions over the whole range our timestamp parsers can produce (years
 * 0 to 9999, and the rule evaluation past the last transition) without
 * overflow or a loop that does not end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/time.h"
#include "event/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t probes[] = {
        -62135596800LL, /* 0001-01-01 */
        -2208988800LL,  /* 1900 */
        0,
        1743296400LL, /* a 2025 change in Europe */
        2147483647LL,
        4102444800LL,   /* 2100 */
        253402300799LL, /* 9999-12-31T23:59:59 */
    };
    struct tz *z = NULL, *d;
    uint8_t *copy = malloc(size ? size : 1);

    if (!copy)
        return 0;
    /* An exact-size heap copy: ASan sees any read past the end. */
    memcpy(copy, data, size);
    if (tz_parse_tzif(copy, size, "fuzz", &z) == 0) {
        d = tz_dup(z);
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            int32_t off = tz_offset_at(z, probes[i]);
            int64_t u = tz_local_to_utc(d ? d : z, probes[i]);
            /* Offsets are bounded by the reader; a local time maps within
             * a day and a bit of itself. */
            if (off <= -26 * 3600 || off >= 26 * 3600 || u < probes[i] - 2 * 86400 ||
                u > probes[i] + 2 * 86400)
                abort();
        }
        tz_free(d);
        tz_free(z);
    }
    free(copy);
    return 0;
}
