/*
 * fuzz_sigma_corr.c - libFuzzer target over the multi-document rule loader
 * and the correlation loader (YAML in), then the correlation engine built
 * from what loaded, fed a few events so that reference resolution,
 * grouping and firing run on fuzzed rules too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "detect/sigma.h"
#include "detect/sigma_corr.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_hit(void *arg, const struct sigma_corr_hit *h)
{
    size_t *n = arg;
    (*n) += h->nsamples + h->ngroup;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sigma_doc *docs = NULL;
    size_t ndocs = 0, nr = 0, nc = 0, hits = 0;
    struct sigma_err err;
    struct sigma_rule *rules[SIGMA_MAX_DOCS];
    struct sigma_corr_rule *corrs[SIGMA_MAX_DOCS];
    struct sigma_corr_engine *e = NULL;
    struct arena a;
    struct event ev;
    static const char *const names[] = {"source.ip", "host.name", "User", "destination.port"};

    if (sigma_load_docs_buf((const char *)data, size, "fuzz.yml", NULL, &docs, &ndocs, &err) < 0)
        return 0;
    for (size_t i = 0; i < ndocs; i++) {
        if (docs[i].rule)
            rules[nr++] = docs[i].rule;
        else
            corrs[nc++] = docs[i].corr;
    }
    if (sigma_corr_engine_new(corrs, nc, rules, nr, NULL, NULL, NULL, &e) == 0) {
        arena_init(&a, 0);
        for (int k = 0; k < 24; k++) {
            event_init(&ev, &a, "raw", 3, (int64_t)k * 1000000);
            for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++)
                event_add_named(&ev, names[f], strlen(names[f]), (k & 1) ? "a" : "17",
                                (k & 1) ? 1 : 2);
            for (size_t r = 0; r < nr; r++)
                (void)sigma_corr_feed(e, r, &ev, on_hit, &hits);
            event_reset(&ev);
        }
        arena_done(&a);
        sigma_corr_engine_free(e);
    }
    sigma_docs_free(docs, ndocs);
    return 0;
}
