/*
 * fuzz_jp.c - libFuzzer target for util/jp.c, the JSON reader of the API's
 * request bodies, the CLI's answers and the audit log.
 *
 * The bytes are a document.  The typed readers must accept or refuse it
 * without reading past it.  A document jp_doc accepts must hold up under
 * every span call: its compact copy is a document again and compacts to
 * itself; iteration over each container never fails; each member is found
 * again by jp_lookup under its decoded key; and jp_text of every value
 * succeeds with terminal-safe, well-formed UTF-8 text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/jp.h"
#include "util/limits.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Text for a terminal: no control byte but the newline it was allowed. */
static void check_text(struct jp_span v, unsigned flags, struct buf *out)
{
    int r;

    buf_reset(out);
    r = jp_text(v, out, flags);
    if (r == -E2BIG)
        return;
    if (r != 0 && r != 1)
        abort();
    if (r == 1 && (out->len != 0 || !jp_span_is(v, "null")))
        abort();
    for (size_t i = 0; i < out->len; i++) {
        unsigned char c = (unsigned char)out->data[i];

        if ((c < 0x20 && !(c == '\n' && (flags & JP_TEXT_KEEP_NL))) || c == 0x7f)
            abort();
        if (c == 0xc2 && i + 1 < out->len && (unsigned char)out->data[i + 1] < 0xa0)
            abort(); /* a C1 control */
    }
    if (!utf8_valid((const unsigned char *)out->data, out->len))
        abort();
}

/* Walks value v of an accepted document; `depth` bounds the recursion as
 * jp_doc bounded the nesting. */
static void walk(struct jp_span v, unsigned depth, struct buf *scratch)
{
    struct jp_iter it;
    struct jp_span k = {"", 0}, e = {"", 0}, found = {"", 0};
    int r;

    if (depth > LIMIT_JSON_DEPTH)
        abort();
    check_text(v, depth & 1 ? JP_TEXT_KEEP_NL : 0, scratch);
    if (v.p[0] != '{' && v.p[0] != '[')
        return;
    if (jp_iter_init(&it, v) < 0)
        abort();
    while ((r = jp_iter_next(&it, v.p[0] == '{' ? &k : NULL, &e)) > 0) {
        if (v.p[0] == '{') {
            struct jp kj = {k.p, k.len, 0, NULL, NULL, 0};
            char key[256];
            size_t n;

            /* A key without \u0000 that fits: found again by its text. */
            if (jp_string(&kj, key, sizeof(key) - 1, &n) == 0) {
                if (!jp_key_is(k, key) || jp_lookup(v, key, &found) != 0)
                    abort();
            }
        }
        walk(e, depth + 1, scratch);
    }
    if (r < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parse_err pe = {0};
    struct jp_span doc = {"", 0}, again = {"", 0};
    struct buf c1, c2, scratch;
    char s[64];
    uint64_t u;
    int64_t i;
    double d;
    int b;
    char *p;

    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    p = malloc(size ? size : 1);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);

    /* The typed readers on the raw bytes: accept or refuse, no more. */
    {
        struct jp j = {p, size, 0, &pe, NULL, 0};

        size_t n = 0;

        /* A decoded string is a C string of the length it says. */
        if (jp_string(&j, s, sizeof(s) - 1, &n) == 0 && (n >= sizeof(s) || strlen(s) != n))
            abort();
        j.off = 0;
        (void)jp_u64(&j, &u);
        j.off = 0;
        (void)jp_i64(&j, &i);
        j.off = 0;
        (void)jp_double(&j, &d);
        j.off = 0;
        (void)jp_bool(&j, &b);
        j.off = 0;
        if (jp_skip(&j, 3, NULL) == 0 && j.off > size)
            abort();
    }

    if (jp_doc(p, size, &doc, &pe) < 0) {
        if (pe.off > size || !pe.msg)
            abort();
        free(p);
        return 0;
    }
    buf_init(&c1, 2 * size + 16);
    buf_init(&c2, 2 * size + 16);
    buf_init(&scratch, 4 * size + 64);
    {
        struct jp j = {doc.p, doc.len, 0, NULL, NULL, 0};

        /* Compacting: a document again, no longer, and a fixed point. */
        if (jp_skip_compact(&j, 0, &c1) < 0 || c1.len > doc.len ||
            jp_doc(c1.data, c1.len, &again, NULL) < 0)
            abort();
        j = (struct jp){c1.data, c1.len, 0, NULL, NULL, 0};
        if (jp_skip_compact(&j, 0, &c2) < 0 || c2.len != c1.len ||
            memcmp(c1.data, c2.data, c1.len) != 0)
            abort();
    }
    walk(doc, 0, &scratch);
    buf_done(&c1);
    buf_done(&c2);
    buf_done(&scratch);
    free(p);
    return 0;
}
