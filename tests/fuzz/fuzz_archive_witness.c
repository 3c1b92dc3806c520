/*
 * fuzz_archive_witness.c - the witness line parser (archive_witness.c) on
 * hostile bytes: archive_witness_parse must accept or refuse with a reason
 * without reading past the input, and a line it accepted must format back
 * (archive_witness_line) to a line that parses to the same seal bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct archive_witnessed ws, back;
    char line[ARCHIVE_WITNESS_LINE_MAX];
    const char *why = NULL;
    char *copy;
    int n;

    /* An exact-size copy, so that a read past the input is caught. */
    if (!(copy = malloc(size ? size : 1)))
        return 0;
    memcpy(copy, data, size);
    if (archive_witness_parse(copy, size, &ws, &why) < 0) {
        free(copy);
        if (!why)
            abort();
        return 0;
    }
    free(copy);
    n = archive_witness_line(&ws, line, sizeof(line));
    if (n < 0 || archive_witness_parse(line, (size_t)n - 1, &back, &why) < 0 ||
        memcmp(back.bytes, ws.bytes, sizeof(ws.bytes)) != 0 || back.epoch != ws.epoch ||
        back.frame != ws.frame || back.records != ws.records)
        abort();
    return 0;
}
