/*
 * fuzz_jsonarray.c - the JSON array framer fed the input line by line, as
 * `hikeshi scan` feeds it, with a small cap so truncation is exercised.
 * Checks that every element is an object (starts with "{"; ends with "}"
 * unless cut), never longer than the cap, and that a refused text stays
 * refused.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/input_jsonarray.h"
#include "input/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 48

static int fuzz_cb(void *arg, const char *rec, size_t len, unsigned flags)
{
    size_t *n = arg;

    if (len == 0 || len > FUZZ_MAX || rec[0] != '{' || (flags & ~(unsigned)RECORD_TRUNCATED))
        abort();
    if (!(flags & RECORD_TRUNCATED) && rec[len - 1] != '}' && rec[len - 1] != ']')
        abort();
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    struct jsonarray a;
    size_t n = 0, off;
    int bad = 0;

    if (input_jsonarray_init(&a, FUZZ_MAX) != 0)
        return 0;
    (void)input_jsonarray_starts(p, size);
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int r = input_jsonarray_feed(&a, p, len, fuzz_cb, &n, &off);

        if (r == -EBADMSG) {
            if (off >= len && len > 0)
                abort();
            bad = 1;
            break;
        }
        if (r != 0)
            abort();
        if (!nl)
            break;
        p = nl + 1;
    }
    if (bad && input_jsonarray_feed(&a, "{}", 2, fuzz_cb, &n, NULL) != -EBADMSG)
        abort();
    if (n != a.elements)
        abort();
    (void)input_jsonarray_finish(&a);
    input_jsonarray_done(&a);
    return 0;
}
