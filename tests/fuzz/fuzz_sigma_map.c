/*
 * fuzz_sigma_map.c - the log-source and field-map loader on arbitrary
 * bytes.  The input is split at the first NUL byte (or in the middle) into
 * the logsources document and the fields document.
 */
#include <stdint.h>
#include <string.h>

#include "detect/sigma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    size_t cut = nul ? (size_t)(nul - p) : size / 2;
    size_t rest = nul ? size - cut - 1 : size - cut;
    struct sigma_map *m = NULL;
    struct sigma_err err;

    if (sigma_map_load_buf(p, cut, "logsources", p + size - rest, rest, "fields", &m, &err) == 0)
        sigma_map_free(m);
    return 0;
}
