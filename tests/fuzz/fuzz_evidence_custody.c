/*
 * fuzz_evidence_custody.c - custody lines and seal lines as found in a
 * store or a bundle.  First byte even: the rest is one custody line; a
 * line that parses must hold its details inside it, and its hash flag must
 * say whether the SHA-256 of the bytes before `,"hash":` is the one
 * written.  First byte odd: the rest is one seal line; one that parses must
 * format back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "evidence/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parse_err pe = {0};
    const char *p;
    char *copy;
    size_t n;

    if (size < 1)
        return 0;
    n = size - 1;
    if (!(copy = malloc(n ? n : 1)))
        return 0;
    if (n)
        memcpy(copy, data + 1, n);
    p = copy;
    if ((data[0] & 1) == 0) {
        struct evidence_entry e;

        if (evidence_entry_parse(p, n, &e, &pe) == 0) {
            /* The hashed bytes are those before the last `,"hash":`; the
             * flag must say whether their SHA-256 is the one written. */
            uint8_t h[32];
            size_t cut = 0;

            for (size_t i = 0; i + 8 <= n; i++)
                if (memcmp(p + i, ",\"hash\":", 8) == 0)
                    cut = i + 1;
            if (cut == 0 || e.details < p || e.details + e.details_len > p + n ||
                e.details[0] != '{' || e.details[e.details_len - 1] != '}')
                abort();
            crypto_hash_sha256(h, (const uint8_t *)p, cut - 1);
            if ((memcmp(h, e.hash, 32) == 0) != e.hash_ok)
                abort();
        } else if (!pe.msg) {
            abort(); /* a refusal always says why */
        }
    } else {
        struct evidence_seal s;

        if (evidence_seal_parse(p, n, &s, &pe) == 0) {
            struct buf b;

            buf_init(&b, EVIDENCE_LINE_MAX);
            if (evidence_seal_format(&b, &s) < 0 || b.len != n || memcmp(b.data, p, n) != 0)
                abort();
            (void)evidence_seal_sig_ok(&s);
            buf_done(&b);
        }
    }
    free(copy);
    return 0;
}
