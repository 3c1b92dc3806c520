/*
 * fuzz_playbook.c - the incident module's parsers: playbook YAML, whole
 * incidents in JSON and partial updates (the API's PATCH body).  The first
 * byte picks the parser so that one corpus covers all three; a parsed
 * incident is also rendered as JSON (which must parse back) and as a report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incident/incident.h"
#include "incident/playbook.h"
#include "incident/report.h"

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);

static void fuzz_yaml(const char *p, size_t n)
{
    struct playbook_set set;
    struct playbook_checklist cl;
    struct parse_err e;

    playbook_set_init(&set);
    playbook_checklist_init(&cl);
    if (playbook_parse(&set, p, n, "fuzz", &e) == 0) {
        for (int t = 0; t < TRIAGE_TYPE_ALL_COUNT; t++)
            for (int ph = 0; ph < INCIDENT_PHASE_COUNT; ph++)
                playbook_tasks_for(&set, (enum triage_type)t, (enum incident_phase)ph, 0, &cl);
    }
    playbook_checklist_done(&cl);
    playbook_set_done(&set);
}

static void fuzz_json(const char *p, size_t n)
{
    struct incident inc, back;
    struct parse_err e;
    struct buf b;

    if (incident_from_json(p, n, &inc, &e) < 0)
        return;
    buf_init(&b, 4 * 1024 * 1024);
    if (incident_to_json(&inc, &b) == 0) {
        /* What we write we must read. */
        if (incident_from_json(b.data, b.len, &back, &e) != 0)
            abort();
        incident_done(&back);
    }
    {
        struct report_input in;
        struct report r;
        memset(&in, 0, sizeof(in));
        in.inc = &inc;
        in.recommended_level = -1;
        in.revised_level = -1;
        report_generate(&in, REPORT_FINAL, 1, "fuzz", 0, &r);
        report_done(&r);
    }
    buf_done(&b);
    incident_done(&inc);
}

static void fuzz_update(const char *p, size_t n)
{
    struct incident inc;
    struct incident_change *ch = NULL;
    size_t nch = 0;
    struct parse_err e;
    char why[256];

    if (incident_init(&inc, 1, 0) < 0)
        return;
    incident_update_json(&inc, p, n, "fuzz", 1, &ch, &nch, &e, why, sizeof(why));
    free(ch);
    incident_done(&inc);
}

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
    if (n < 1)
        return 0;
    switch (d[0] % 3) {
    case 0: fuzz_yaml((const char *)d + 1, n - 1); break;
    case 1: fuzz_json((const char *)d + 1, n - 1); break;
    default: fuzz_update((const char *)d + 1, n - 1); break;
    }
    return 0;
}
