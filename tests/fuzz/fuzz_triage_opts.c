/*
 * fuzz_triage_opts.c - the triage options parser (rules/config/triage.yaml)
 * and the suppression-file loader on arbitrary bytes.
 *
 * Whatever parses must hold values inside the bounds the parser promises
 * (levels, types and stages by index, counts within their caps); whatever
 * is refused must say where and why, and a refused suppression file must
 * leave the options as they were.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "triage/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct triage_opts *o)
{
    for (size_t i = 0; i < o->ntype_by_rule; i++)
        if (o->type_by_rule[i].value <= 0 || o->type_by_rule[i].value >= TRIAGE_TYPE_COUNT)
            abort();
    for (size_t i = 0; i < o->nstage_by_tactic; i++)
        if (o->stage_by_tactic[i].value <= 0 || o->stage_by_tactic[i].value >= TRIAGE_STAGE_COUNT)
            abort();
    if (o->max_incidents < 2 || o->risk_min_rules < 1 || o->risk_min_rules > 16)
        abort();
    if (o->dedup_window_us <= 0 || o->group_window_us <= 0)
        abort();
    for (size_t i = 0; i < o->nsupp; i++)
        if (!o->supp[i].id || !o->supp[i].reason || !o->supp[i].author)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct triage_opts *o = NULL;
    struct parse_err e;
    char *copy;
    size_t nsupp;
    int r;

    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    r = triage_opts_parse(copy, size, "fuzz.yaml", INT64_C(1700000000000000), &o, &e);
    if (r == 0) {
        check(o);
        triage_opts_free(o);
    } else if (r == -EINVAL && (!e.msg || e.off > size)) {
        abort(); /* a refusal says why, at a place inside the input */
    }
    /* The same bytes as a suppression file added to the defaults. */
    o = triage_opts_defaults();
    if (o) {
        nsupp = o->nsupp;
        if (triage_opts_load_suppress(o, copy, size, 0, &e) < 0 && o->nsupp != nsupp)
            abort();
        check(o);
        triage_opts_free(o);
    }
    free(copy);
    return 0;
}
