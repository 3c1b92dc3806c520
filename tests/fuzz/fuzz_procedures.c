/*
 * fuzz_procedures.c - the procedures file (issue 25): any bytes are either
 * refused with a position or read into boxes that render as JSON and whose
 * parties to inform all pass their disclosure rules.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "incident/procedures.h"

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
    struct procedure_set set;
    struct parse_err e;
    struct buf b;

    procedure_set_init(&set);
    if (procedure_set_parse(&set, (const char *)d, n, "fuzz", &e) == 0) {
        buf_init(&b, 4 * 1024 * 1024);
        (void)procedure_set_json(&set, ASSET_CAT_NONE, -1, &b, NULL);
        buf_done(&b);
        for (int c = ASSET_CAT_A; c <= ASSET_CAT_D; c++)
            for (int l = TRIAGE_GREEN; l <= TRIAGE_RED; l++) {
                const struct procedure_box *box =
                    procedure_box_get(&set, (enum asset_category)c, (enum triage_alert_level)l);
                for (size_t i = 0; box && i < box->ninform; i++) {
                    const struct message_rule *r = message_rule(box->inform[i].party);
                    /* What the parser let through the rule must allow. */
                    if (box->inform[i].tlp > r->max_tlp ||
                        (box->inform[i].disclose & ~r->allowed) || !box->inform[i].disclose)
                        abort();
                }
            }
    } else if (e.line == 0 && e.msg == NULL) {
        /* A refusal always says why (-ENOMEM aside, which libFuzzer's
         * allocator does not give here). */
        abort();
    }
    procedure_set_done(&set);
    return 0;
}
