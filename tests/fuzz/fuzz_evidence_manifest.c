/*
 * fuzz_evidence_manifest.c - a bundle's manifest is a stranger's file:
 * evidence_manifest_parse must take or refuse any bytes without reading
 * past them, and every item it takes must name a file only as
 * items/<its own sha256>.  The seals and custody arrays it returns are fed
 * to their own checkers too, against a fixed key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"
#include "util/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t pub[32] = {1};
    struct evidence_manifest m;
    struct parse_err pe = {0};
    char *p = malloc(size ? size : 1);

    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    if (evidence_manifest_parse(p, size, &m, &pe) == 0) {
        struct evidence_report rep;
        struct evidence_seals ss;

        for (size_t i = 0; i < m.n_items; i++) {
            char hex[65];

            if (m.items[i].file[0]) {
                hex_encode(m.items[i].sha256, 32, hex);
                if (strncmp(m.items[i].file, "items/", 6) != 0 ||
                    strcmp(m.items[i].file + 6, hex) != 0)
                    abort();
            }
        }
        evidence_report_init(&rep);
        (void)evidence_seals_load(&ss, m.seals, m.seals_len, pub, &rep);
        for (size_t i = 0; i < m.n_items; i++)
            (void)evidence_custody_check("item", m.items[i].id, m.items[i].custody,
                                         m.items[i].custody_len, &ss, &rep, NULL, NULL, 0);
        evidence_seals_done(&ss);
        evidence_report_done(&rep);
        evidence_manifest_done(&m);
    } else if (!pe.msg) {
        abort(); /* a refusal always says why */
    }
    free(p);
    return 0;
}
