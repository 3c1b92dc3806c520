/*
 * fuzz_sigma_rule.c - the Sigma rule loader on arbitrary bytes: no crash, no
 * leak; a rule that loads is evaluated against an event made from the same
 * bytes, so the prepared values and the evaluator run too.  The bytes are
 * also loaded as a multi-document file, so filter documents are loaded,
 * matched against the rules beside them and evaluated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma.h"
#include "event/event.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Gives every field a search of `r` names the input as its value. */
static void add_named_fields(struct event *ev, const struct sigma_rule *r, const uint8_t *data,
                             size_t size)
{
    for (size_t i = 0; i < r->nsearches; i++) {
        const struct sigma_det *d = &r->searches[i].det;
        for (size_t k = 0; k < d->nsubs; k++) {
            const char *f = d->subs[k].item.field;
            if (f)
                event_add_named(ev, f, strlen(f), (const char *)data, size);
        }
    }
}

/* The same bytes as a multi-document file: filter documents load, are
 * matched against the rules beside them and evaluated. */
static void fuzz_docs(const uint8_t *data, size_t size)
{
    struct sigma_doc *docs = NULL;
    struct sigma_err err;
    struct arena a;
    struct event ev;
    size_t n = 0;

    if (sigma_load_docs_buf((const char *)data, size, "fuzz.yml", NULL, &docs, &n, &err) != 0)
        return;
    arena_init(&a, 0);
    for (size_t i = 0; i < n; i++) {
        const struct sigma_filter *f = docs[i].filter;
        if (!f)
            continue;
        (void)sigma_filter_is_inclusive(f);
        for (size_t k = 0; k < n; k++)
            if (docs[k].rule)
                (void)sigma_filter_applies(f, docs[k].rule);
        event_init(&ev, &a, (const char *)data, size, 0);
        add_named_fields(&ev, f->det, data, size);
        if (sigma_filter_keeps(f, &ev) != sigma_eval(f->det, &ev))
            abort();
        event_reset(&ev);
    }
    arena_done(&a);
    sigma_docs_free(docs, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vals[] = {"adm_*", "root"};
    static const struct sigma_placeholder ph[] = {{"Admins", vals, 2}};
    struct sigma_load_opts opts = {ph, 1};
    struct sigma_rule *r = NULL;
    struct sigma_err err;
    struct arena a;
    struct event ev;

    fuzz_docs(data, size);
    if (sigma_load_buf((const char *)data, size, "fuzz.yml", &opts, &r, &err) != 0)
        return 0;
    arena_init(&a, 0);
    event_init(&ev, &a, (const char *)data, size, 0);
    /* Give every field the rule names the whole input as its value, and a
     * few short slices, so that matching code sees both hits and misses. */
    for (size_t i = 0; i < r->nsearches; i++) {
        const struct sigma_det *d = &r->searches[i].det;
        for (size_t k = 0; k < d->nsubs; k++) {
            const char *f = d->subs[k].item.field;
            if (!f)
                continue;
            event_add_named(&ev, f, strlen(f), (const char *)data, size);
            event_add_named(&ev, f, strlen(f), (const char *)data, size / 3);
        }
    }
    unsigned char *m = malloc(r->nsearches ? r->nsearches : 1);
    if (m) {
        int x = sigma_eval_explain(r, &ev, m);
        if (x != sigma_eval(r, &ev))
            abort(); /* explain must agree with the plain evaluation */
        free(m);
    }
    event_reset(&ev);
    arena_done(&a);
    sigma_rule_free(r);
    return 0;
}
