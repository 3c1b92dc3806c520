/*
 * fuzz_bulk.c - the Elasticsearch bulk body parser and its answer: any
 * bytes as a body, documents over 64 bytes refused as too long.  Checks
 * that every document handed over is one of the body's lines, that the
 * items never outnumber the lines, and that the answer, when written, is
 * one well-formed JSON document.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/input_bulk.h"
#include "util/buf.h"
#include "util/jp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_body {
    const char *p;
    size_t n;
    size_t docs;
};

static int fuzz_take(void *arg, const char *doc, size_t len)
{
    struct fuzz_body *b = arg;

    if (doc < b->p || len > b->n || (size_t)(doc - b->p) > b->n - len)
        abort(); /* not inside the body */
    if (len > 64)
        return -E2BIG;
    b->docs++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_body b = {(const char *)data, size, 0};
    struct bulk_item *items;
    struct parse_err pe;
    struct jp_span doc;
    struct buf out;
    size_t n, lines = 1;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (bulk_parse(b.p, size, fuzz_take, &b, &items, &n, &pe) < 0) {
        if (pe.off > size)
            abort();
        return 0;
    }
    if (n > lines || b.docs > n)
        abort();
    buf_init(&out, 64 * 1024 * 1024);
    if (bulk_response(items, n, 3, "idx", 42, &out) == 0 &&
        jp_doc(out.data, out.len, &doc, NULL) < 0)
        abort();
    buf_done(&out);
    free(items);
    return 0;
}
