/*
 * fuzz_evidence_plan.c - collection plan files (evidence_plan.c).  A plan
 * that parses must keep the invariants the rest relies on: at least one
 * step, ids of the allowed bytes and unique, steps in volatile-first
 * order, a kind, and every text present (never NULL); each step must be
 * found again by its "CLASS/STEP" reference.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct evidence_plan p;
    struct parse_err e;

    if (evidence_plan_parse((const char *)data, size, "fuzz", &p, &e) == 0) {
        struct evidence_plan_set s = {&p, 1};

        assert(p.nsteps >= 1 && p.name && p.title && p.file);
        for (size_t i = 0; i < p.nsteps; i++) {
            const struct evidence_plan_step *st = &p.steps[i];
            char ref[80];

            assert(st->id && st->what && st->kind && st->tool && st->command && st->notes);
            assert(strspn(st->id, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(st->id));
            assert(i == 0 || st->order >= p.steps[i - 1].order);
            for (size_t j = 0; j < i; j++)
                assert(strcmp(p.steps[j].id, st->id) != 0);
            snprintf(ref, sizeof(ref), "%s/%s", p.name, st->id);
            assert(evidence_plan_find_ref(&s, ref, NULL) == st);
        }
    }
    evidence_plan_done(&p);
    return 0;
}
