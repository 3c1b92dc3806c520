/*
 * fuzz_playbook_leak.c - the leak playbook parser (playbook_leak.h): any
 * bytes as a leak playbook; a file that parses gives its tasks to a
 * checklist for every leak type twice (the second time must add nothing).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "incident/playbook.h"
#include "incident/playbook_leak.h"

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
    struct playbook_leak_set set;
    struct playbook_checklist cl;
    struct parse_err e;

    playbook_leak_set_init(&set);
    playbook_checklist_init(&cl);
    if (playbook_leak_parse(&set, (const char *)d, n, "fuzz", &e) == 0) {
        for (int l = 1; l < INCIDENT_LEAK_COUNT; l++) {
            (void)playbook_leak_tasks(&set, (enum incident_leak)l, 1, &cl);
            /* Once per incident and type. */
            if (playbook_leak_tasks(&set, (enum incident_leak)l, 2, &cl) > 0)
                abort();
        }
    }
    playbook_checklist_done(&cl);
    playbook_leak_set_done(&set);
    return 0;
}
