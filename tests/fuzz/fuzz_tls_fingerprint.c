/*
 * fuzz_tls_fingerprint.c - libFuzzer target for the client_fingerprints
 * parser (input_tls_fingerprint_parse).
 *
 * The bytes are one list entry.  The parser must accept or refuse without
 * reading past them; an accepted fingerprint printed back as 32 colon
 * separated pairs, and as 64 bare hex digits, parses to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/input_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t fpr[INPUT_TLS_FPR_LEN], back[INPUT_TLS_FPR_LEN];
    char text[3 * INPUT_TLS_FPR_LEN + 1];
    char *copy = malloc(size ? size : 1);
    size_t n = 0;
    int r;

    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size); /* exactly size bytes: ASan sees an over-read */
    r = input_tls_fingerprint_parse(copy, size, fpr);
    free(copy);
    if (r < 0)
        return 0;
    for (size_t i = 0; i < INPUT_TLS_FPR_LEN; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%02x", i ? ":" : "", fpr[i]);
    if (input_tls_fingerprint_parse(text, n, back) != 0 || memcmp(back, fpr, sizeof(fpr)) != 0)
        abort();
    n = 0;
    for (size_t i = 0; i < INPUT_TLS_FPR_LEN; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%02X", fpr[i]);
    if (input_tls_fingerprint_parse(text, n, back) != 0 || memcmp(back, fpr, sizeof(fpr)) != 0)
        abort();
    return 0;
}
