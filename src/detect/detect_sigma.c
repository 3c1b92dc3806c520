/*
 * detect_sigma.c - the Sigma detector the pipeline runs.
 *
 * Rules are loaded once (and again on SIGHUP, into a new detector that is
 * swapped in whole).  Per event: the map adds the Sigma names of the
 * event's fields, the compiled rule set finds the rules that match, and
 * each match is kept only if the event belongs to the rule's log source.
 * Routing after matching costs nothing on the common path (most events
 * match no rule) and keeps the rule set independent of the map.  Filter
 * rules are applied the same way, after the match: a rule's condition C
 * becomes `(C) and (F)` for each filter F that applies to it (sigma.h), so
 * the compiled rule set never sees them either.
 */
#include "detect/detect_sigma.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "detect/sigma.h"
#include "detect/sigma_corr.h"
#include "event/event.h"

struct detect_sigma {
    struct sigma_map *map;
    struct sigma_rule **rules;                /* owned */
    const struct sigma_map_source **sources;  /* per rule, from the map */
    size_t nrules, cap;
    struct sigma_ruleset *rs;
    size_t refused, unroutable;
    struct sigma_filter **filters; /* owned */
    size_t nfilters, filter_cap;
    /* Per rule: the filters that apply to it (borrowed from `filters`);
     * rule_filters[i] is NULL when none does. */
    struct rule_filters *rule_filters;
    uint64_t filtered; /* matches removed by filters */
    struct sigma_corr_rule **corrs; /* owned; the engine borrows them */
    size_t ncorrs, corr_cap, corr_refused;
    struct sigma_corr_engine *ce; /* NULL without correlations */
    detect_sigma_corr_fn corr_cb;
    void *corr_arg;
};

struct rule_filters {
    const struct sigma_filter **v; /* owned array */
    size_t n;
};

struct load_ctx {
    struct detect_sigma *d;
    detect_sigma_report_fn report;
    void *arg;
    int err; /* -ENOMEM stops the walk */
};

/* nftw() has no user pointer: the walk in progress, one at a time. */
static struct load_ctx *walk_ctx;

static void report(struct load_ctx *lc, const char *path, const char *why)
{
    char msg[1024];

    if (!lc->report)
        return;
    snprintf(msg, sizeof(msg), "%s: %s", path, why);
    lc->report(lc->arg, msg);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int add_rule(struct load_ctx *lc, const char *path, struct sigma_rule *r)
{
    struct detect_sigma *d = lc->d;
    const struct sigma_map_source *src;

    src = sigma_map_find(d->map, r);
    if (!src) {
        d->unroutable++;
        report(lc, path, "unroutable: no entry for its logsource in logsources.yaml");
        sigma_rule_free(r);
        return 0;
    }
    if (d->nrules == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 64;
        struct sigma_rule **nr = realloc(d->rules, ncap * sizeof(struct sigma_rule *));
        const struct sigma_map_source **ns;

        if (!nr) {
            sigma_rule_free(r);
            return -ENOMEM;
        }
        d->rules = nr;
        ns = realloc((void *)d->sources, ncap * sizeof(const struct sigma_map_source *));
        if (!ns) {
            sigma_rule_free(r);
            return -ENOMEM;
        }
        d->sources = ns;
        d->cap = ncap;
    }
    d->rules[d->nrules] = r;
    d->sources[d->nrules] = src;
    d->nrules++;
    return 0;
}

static int add_corr(struct detect_sigma *d, struct sigma_corr_rule *c)
{
    if (d->ncorrs == d->corr_cap) {
        size_t ncap = d->corr_cap ? d->corr_cap * 2 : 16;
        struct sigma_corr_rule **nc = realloc(d->corrs, ncap * sizeof(struct sigma_corr_rule *));

        if (!nc) {
            sigma_corr_rule_free(c);
            return -ENOMEM;
        }
        d->corrs = nc;
        d->corr_cap = ncap;
    }
    d->corrs[d->ncorrs++] = c;
    return 0;
}

static int add_filter(struct detect_sigma *d, struct sigma_filter *f)
{
    if (d->nfilters == d->filter_cap) {
        size_t ncap = d->filter_cap ? d->filter_cap * 2 : 16;
        struct sigma_filter **nf = realloc(d->filters, ncap * sizeof(struct sigma_filter *));

        if (!nf) {
            sigma_filter_free(f);
            return -ENOMEM;
        }
        d->filters = nf;
        d->filter_cap = ncap;
    }
    d->filters[d->nfilters++] = f;
    return 0;
}

/* Attaches each filter to the loaded rules it applies to (after the rules
 * were sorted); a filter that applies to none is reported, as it would
 * otherwise be silently dead. */
static int attach_filters(struct load_ctx *lc)
{
    struct detect_sigma *d = lc->d;

    if (!d->nfilters || !d->nrules)
        goto unused;
    d->rule_filters = calloc(d->nrules, sizeof(*d->rule_filters));
    if (!d->rule_filters)
        return -ENOMEM;
    for (size_t i = 0; i < d->nrules; i++) {
        struct rule_filters *rf = &d->rule_filters[i];
        for (size_t k = 0; k < d->nfilters; k++) {
            const struct sigma_filter **nv;
            if (!sigma_filter_applies(d->filters[k], d->rules[i]))
                continue;
            nv = realloc((void *)rf->v, (rf->n + 1) * sizeof(const struct sigma_filter *));
            if (!nv)
                return -ENOMEM;
            rf->v = nv;
            rf->v[rf->n++] = d->filters[k];
        }
    }
unused:
    for (size_t k = 0; k < d->nfilters; k++) {
        size_t i;
        for (i = 0; i < d->nrules; i++)
            if (sigma_filter_applies(d->filters[k], d->rules[i]))
                break;
        if (i == d->nrules)
            report(lc, d->filters[k]->det->file ? d->filters[k]->det->file : "?",
                   "filter applies to no loaded rule (no listed id or name with a log source "
                   "the filter contains)");
    }
    return 0;
}

/*
 * Compiles the rule set.  Should Vectorscan refuse a literal, the rule that
 * needs it is refused like a rule that does not load (named, counted) and
 * the rest is compiled again: one rule must not turn detection off.  Runs
 * before the filters are attached, which index the rules.
 */
static int compile_rules(struct load_ctx *lc, char *errbuf, size_t errlen)
{
    struct detect_sigma *d = lc->d;
    struct sigma_ruleset_err err;
    int r;

    while ((r = sigma_ruleset_new_err(d->rules, d->nrules, &d->rs, &err)) < 0) {
        size_t k = err.rule;
        char why[512];

        if (r == -ENOMEM || k >= d->nrules) {
            snprintf(errbuf, errlen, "compiling %zu Sigma rules: %s", d->nrules,
                     err.reason[0] ? err.reason : strerror(-r));
            return r;
        }
        snprintf(why, sizeof(why), "rule '%s' refused: its prefilter cannot be compiled: %s",
                 d->rules[k]->title ? d->rules[k]->title : "?", err.reason);
        d->refused++;
        report(lc, d->rules[k]->file ? d->rules[k]->file : "?", why);
        sigma_rule_free(d->rules[k]);
        memmove(&d->rules[k], &d->rules[k + 1],
                (d->nrules - k - 1) * sizeof(struct sigma_rule *));
        memmove(&d->sources[k], &d->sources[k + 1],
                (d->nrules - k - 1) * sizeof(const struct sigma_map_source *));
        d->nrules--;
    }
    return 0;
}

static void load_one(struct load_ctx *lc, const char *path)
{
    struct detect_sigma *d = lc->d;
    struct sigma_doc *docs = NULL;
    size_t ndocs = 0;
    struct sigma_err err;
    int rv;

    memset(&err, 0, sizeof(err));
    rv = sigma_load_docs_file(path, NULL, &docs, &ndocs, &err);
    if (rv == -ENOMEM) {
        lc->err = -ENOMEM;
        return;
    }
    if (rv < 0) {
        d->refused++;
        report(lc, path, err.reason[0] ? err.reason : "cannot be loaded");
        return;
    }
    /* Ownership of each document moves to `d` (or is freed on refusal). */
    for (size_t i = 0; i < ndocs && !lc->err; i++) {
        if (docs[i].rule)
            rv = add_rule(lc, path, docs[i].rule);
        else if (docs[i].filter)
            rv = add_filter(d, docs[i].filter);
        else
            rv = add_corr(d, docs[i].corr);
        docs[i].rule = NULL;
        docs[i].corr = NULL;
        docs[i].filter = NULL;
        if (rv < 0)
            lc->err = rv;
    }
    sigma_docs_free(docs, ndocs);
}

static void corr_report(void *arg, const struct sigma_corr_rule *c, const char *why)
{
    struct load_ctx *lc = arg;
    char where[512];

    lc->d->corr_refused++;
    snprintf(where, sizeof(where), "%.480s:%u", c->file ? c->file : "?", c->line);
    report(lc, where, why);
}

static int walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    if (type == FTW_F && ends_with(path, ".yml"))
        load_one(walk_ctx, path);
    return walk_ctx->err ? 1 : 0;
}

static int cmp_rule(const void *a, const void *b)
{
    const struct sigma_rule *x = *(const struct sigma_rule *const *)a;
    const struct sigma_rule *y = *(const struct sigma_rule *const *)b;

    return strcmp(x->file ? x->file : "", y->file ? y->file : "");
}

int detect_sigma_new(const char *const *paths, size_t npaths, const char *map_dir,
                     const struct sigma_corr_opts *corr_opts, detect_sigma_report_fn report_fn,
                     void *arg, struct detect_sigma **ret, char *errbuf, size_t errlen)
{
    struct detect_sigma *d = calloc(1, sizeof(*d));
    struct load_ctx lc = {.d = d, .report = report_fn, .arg = arg};
    char ls[4096], fl[4096];
    struct sigma_err err;
    int r;

    *ret = NULL;
    if (!d)
        return -ENOMEM;
    snprintf(ls, sizeof(ls), "%s/logsources.yaml", map_dir);
    snprintf(fl, sizeof(fl), "%s/fields.yaml", map_dir);
    memset(&err, 0, sizeof(err));
    if ((r = sigma_map_load(ls, fl, &d->map, &err)) < 0) {
        snprintf(errbuf, errlen, "Sigma mappings in %s: %s", map_dir,
                 err.reason[0] ? err.reason : strerror(-r));
        detect_sigma_free(d);
        return r;
    }
    walk_ctx = &lc;
    for (size_t i = 0; i < npaths && !lc.err; i++) {
        struct stat sb;

        if (stat(paths[i], &sb) < 0) {
            r = -errno;
            snprintf(errbuf, errlen, "Sigma rules %s: %s", paths[i], strerror(errno));
            walk_ctx = NULL;
            detect_sigma_free(d);
            return r;
        }
        if (S_ISDIR(sb.st_mode))
            nftw(paths[i], walk_cb, 16, FTW_PHYS);
        else
            load_one(&lc, paths[i]);
    }
    walk_ctx = NULL;
    if (lc.err) {
        snprintf(errbuf, errlen, "out of memory loading Sigma rules");
        detect_sigma_free(d);
        return lc.err;
    }
    /* Rule order (and so alert order) must not depend on directory order. */
    if (d->nrules > 1) {
        qsort(d->rules, d->nrules, sizeof(struct sigma_rule *), cmp_rule);
        for (size_t i = 0; i < d->nrules; i++)
            d->sources[i] = sigma_map_find(d->map, d->rules[i]);
    }
    if ((r = compile_rules(&lc, errbuf, errlen)) < 0) {
        detect_sigma_free(d);
        return r;
    }
    if ((r = attach_filters(&lc)) < 0) {
        snprintf(errbuf, errlen, "out of memory attaching Sigma filters");
        detect_sigma_free(d);
        return r;
    }
    if (d->ncorrs &&
        (r = sigma_corr_engine_new(d->corrs, d->ncorrs, d->rules, d->nrules, corr_opts, corr_report,
                                   &lc, &d->ce)) < 0) {
        snprintf(errbuf, errlen, "building %zu Sigma correlations: %s", d->ncorrs, strerror(-r));
        detect_sigma_free(d);
        return r;
    }
    *ret = d;
    return 0;
}

void detect_sigma_free(struct detect_sigma *d)
{
    if (!d)
        return;
    sigma_corr_engine_free(d->ce);
    for (size_t i = 0; i < d->ncorrs; i++)
        sigma_corr_rule_free(d->corrs[i]);
    free(d->corrs);
    sigma_ruleset_free(d->rs);
    if (d->rule_filters)
        for (size_t i = 0; i < d->nrules; i++)
            free((void *)d->rule_filters[i].v);
    free(d->rule_filters);
    for (size_t i = 0; i < d->nfilters; i++)
        sigma_filter_free(d->filters[i]);
    free(d->filters);
    for (size_t i = 0; i < d->nrules; i++)
        sigma_rule_free(d->rules[i]);
    free(d->rules);
    free((void *)d->sources);
    sigma_map_free(d->map);
    free(d);
}

struct match_ctx {
    struct detect_sigma *d;
    struct event *ev;
    uint32_t own_fields; /* the event's fields before the aliases */
    void (*cb)(void *arg, const struct sigma_rule *r);
    void *arg;
    size_t hits;
};

static void on_match(const struct sigma_rule *r, size_t idx, void *arg)
{
    struct match_ctx *mc = arg;
    uint32_t all = mc->ev->nfields;

    if (!sigma_map_source_matches(mc->d->sources[idx], mc->ev))
        return;
    if (mc->d->rule_filters) {
        const struct rule_filters *rf = &mc->d->rule_filters[idx];
        for (size_t k = 0; k < rf->n; k++)
            if (!sigma_filter_keeps(rf->v[k], mc->ev)) {
                mc->d->filtered++;
                return;
            }
    }
    if (mc->d->ce) {
        /* With the mapped names visible: group-by fields are Sigma names.
         * A failure (-ENOMEM) drops this match for the correlations only. */
        if (sigma_corr_engine_uses(mc->d->ce, idx))
            (void)sigma_corr_feed(mc->d->ce, idx, mc->ev, mc->d->corr_cb, mc->d->corr_arg);
        if (!sigma_corr_engine_generates(mc->d->ce, idx))
            return;
    }
    mc->hits++;
    mc->ev->nfields = mc->own_fields;
    mc->cb(mc->arg, r);
    mc->ev->nfields = all;
}

size_t detect_sigma_match(struct detect_sigma *d, struct event *ev,
                          void (*cb)(void *arg, const struct sigma_rule *r), void *arg)
{
    struct match_ctx mc = {.d = d, .ev = ev, .own_fields = ev->nfields, .cb = cb, .arg = arg};

    if (d->nrules == 0)
        return 0;
    if (sigma_map_augment(d->map, ev) < 0)
        return 0;
    sigma_ruleset_match(d->rs, ev, on_match, &mc);
    ev->nfields = mc.own_fields;
    return mc.hits;
}

void detect_sigma_set_corr_cb(struct detect_sigma *d, detect_sigma_corr_fn cb, void *arg)
{
    d->corr_cb = cb;
    d->corr_arg = arg;
}

size_t detect_sigma_correlations(const struct detect_sigma *d)
{
    return d->ce ? sigma_corr_engine_count(d->ce) : 0;
}

size_t detect_sigma_corr_refused(const struct detect_sigma *d)
{
    return d->corr_refused;
}

void detect_sigma_corr_stats(const struct detect_sigma *d, struct sigma_corr_stats *ret)
{
    if (d->ce)
        sigma_corr_engine_stats(d->ce, ret);
    else
        memset(ret, 0, sizeof(*ret));
}

int detect_sigma_corr_rule_stats(const struct detect_sigma *d, size_t i,
                                 struct sigma_corr_rule_stats *ret)
{
    return d->ce ? sigma_corr_engine_rule_stats(d->ce, i, ret) : -ENOENT;
}

size_t detect_sigma_loaded(const struct detect_sigma *d)
{
    return d->nrules;
}

size_t detect_sigma_refused(const struct detect_sigma *d)
{
    return d->refused;
}

size_t detect_sigma_unroutable(const struct detect_sigma *d)
{
    return d->unroutable;
}

size_t detect_sigma_filters(const struct detect_sigma *d)
{
    return d->nfilters;
}

uint64_t detect_sigma_filtered(const struct detect_sigma *d)
{
    return d->filtered;
}

int detect_sigma_each_rule(const struct detect_sigma *d,
                           int (*fn)(void *ctx, const struct detect_sigma_rule_info *r),
                           void *ctx)
{
    int r = 0;

    for (size_t i = 0; r == 0 && i < d->nrules; i++) {
        const struct sigma_rule *x = d->rules[i];
        struct detect_sigma_rule_info ri = {
            x->id, x->name, x->title, x->level_text, x->status, x->file, 0,
            (const char *const *)x->tags.v, x->tags.n,
        };
        r = fn(ctx, &ri);
    }
    for (size_t i = 0; r == 0 && i < d->ncorrs; i++) {
        const struct sigma_corr_rule *x = d->corrs[i];
        struct detect_sigma_rule_info ri = {
            x->id, x->name, x->title, x->level_text, x->status, x->file, 1,
            (const char *const *)x->tags.v, x->tags.n,
        };
        r = fn(ctx, &ri);
    }
    return r;
}
