/*
 * sigma_corr.c - the Sigma correlation engine: sliding windows per group
 * over base-rule matches, and the bounded memory that holds them.  The
 * loader is sigma_corr_load.c; the choices the specification leaves open,
 * the accounting and the sizing of the cap are in sigma_corr.h.
 *
 * Engine state is one `struct group` per (correlation, group-by tuple), in
 * util/htable's keyed table.  A group holds its window's entries sorted by
 * event time, the counters the condition needs (distinct values, per-rule
 * counts, a sum) kept up to date as entries enter and leave, and the last
 * few events for the hit.
 *
 * Every group is on two lists, both in order of last use: its
 * correlation's list, where (one timespan per correlation) the head is the
 * first to expire, so expiry is a look at each head; and, in the table,
 * the list of its cost class (how close it is to firing: the table's
 * eviction class), whose oldest entry in the cheapest non-empty class is
 * the one htable_trim evicts at the cap.  Feeding a group moves it to the
 * tail of both, so every step is O(1).  The table charges each group's
 * bytes and its own bucket array: its byte count is the state's.
 */
#include "detect/sigma_corr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "util/htable.h"

/* Bytes of one group-by value that take part in the key (and the hit). */
#define CORR_KEY_VALUE_MAX 256
/* One referenced rule of a correlation, with the field ids to read from
 * that rule's events (aliases applied). */
struct cslot {
    int is_corr;
    size_t target; /* index into the base rules or the correlations */
    uint32_t key_fid[SIGMA_CORR_MAX_GROUP_BY];
    uint32_t val_fid[SIGMA_CORR_MAX_FIELDS];
    const char *label; /* id, name or title of the target, for samples */
};

struct group;

struct ccorr {
    struct sigma_corr_rule *c;
    struct cslot *slots; /* c->rules.n */
    int kept;
    int emit;  /* report hits: not referenced, or referenced with generate */
    int level; /* chaining depth, for cycle detection */
    /* Its groups in order of last use: the head expires first. */
    struct group *ahead, *atail;
    size_t live, bytes; /* its groups and what they account for */
    uint64_t created, created_tick, evicted_age, evicted_cap;
    uint64_t evicted_cap_cost[SIGMA_CORR_NCOST];
    double rate; /* groups created per second of event time, peak-held */
};

/* Where a match of a base rule (or a hit of a correlation) goes. */
struct ref {
    uint32_t corr, slot;
};
struct reflist {
    struct ref *v;
    size_t n;
};

struct entry {
    int64_t t;
    uint64_t vh; /* value (tuple) hash: value_count, value_percentile */
    double num;  /* value_sum, value_avg */
    uint32_t slot;
};

struct sample {
    int64_t t;
    const char *rule_id; /* borrowed from the rule */
    char *raw;           /* rawcap bytes (<= SIGMA_CORR_SAMPLE_RAW), grown on demand */
    uint32_t len, rawcap;
};

/* Distinct value counts: open addressing on the hash, cnt == 0 is empty. */
struct dslot {
    uint64_t h;
    uint32_t cnt;
};

/* The cost classes are the table's eviction classes. */
_Static_assert(SIGMA_CORR_NCOST <= HTABLE_NCLASS, "a cost class per eviction class");

struct group {
    /* First: a node pointer is a group pointer.  Keyed by `key`; its class
     * is the group's enum sigma_corr_cost, its cost `bytes`. */
    struct htable_node hn;
    uint32_t corr;
    struct group *aprev, *anext; /* its correlation's list, in use order */
    int64_t newest;
    int64_t quiet_until; /* after a hit: no new hit while newest <= this */
    int64_t fired_last;  /* time of the last event of the last hit */
    struct entry *ents;  /* window: ents[off .. off + n), sorted by t */
    size_t off, n, cap;
    double sum;
    struct dslot *dt;
    size_t dcap, dn;
    uint32_t *slot_cnt;     /* per referenced rule (temporal types) */
    struct sample *samples; /* ring of scap (grows to SIGMA_CORR_MAX_SAMPLES) */
    uint8_t scap, shead, ns;
    size_t bytes; /* what this group accounts for (allocator sizes) */
    /* hn's key, allocated with the group: the correlation's index (4
     * bytes), then per value a 4-byte length, the bytes, a NUL. */
    char key[];
};

/* The bytes of the group-by key ahead of the values: the correlation. */
#define CORR_KEY_PREFIX 4

struct sigma_corr_engine {
    /* Keys the group and value hashes: group-by values come from records,
     * and a public hash would let crafted ones share a probe run. */
    struct htable_key hkey;
    struct ccorr *corrs;
    size_t ncorrs, nkept;
    struct sigma_rule *const *rules;
    size_t nrules;
    struct reflist *by_rule;       /* nrules */
    struct reflist *by_corr;       /* ncorrs */
    unsigned char *rule_gen;       /* nrules */
    uint32_t *kept;                /* nkept: indexes of the kept correlations */
    struct sigma_corr_size *sizes; /* nkept: scratch for the sizing */
    size_t max_bytes;
    int sized; /* 1: max_bytes follows sigma_corr_size_cap() */
    int64_t tolerance_us;
    uint32_t repeat_fid; /* SIGMA_CORR_REPEAT_FIELD: how many events one record stands for */
    int64_t now;        /* newest event time seen */
    int64_t tick_start; /* event time the current rate interval began */
    int64_t swept;      /* `now` at the last expiry sweep */
    /* The groups, keyed by correlation and group-by values; st.bytes is
     * its byte count (the groups' and its bucket array's). */
    struct htable tab;
    struct sigma_corr_stats st;
};

/* The bytes an allocation of `n` takes from glibc's malloc: `n` plus the
 * 8-byte chunk header, rounded up to 16, at least 32; nothing for none. */
static size_t abytes(size_t n)
{
    if (n == 0)
        return 0;
    n = (n + 8 + 15) & ~(size_t)15;
    return n < 32 ? 32 : n;
}

/* An allocation of `g` went from `was` to `now` bytes requested.  The
 * table has no cap of its own: recosting never evicts. */
static void account(struct sigma_corr_engine *e, struct group *g, size_t was, size_t now)
{
    size_t a = abytes(was), b = abytes(now);

    g->bytes = g->bytes - a + b;
    e->corrs[g->corr].bytes = e->corrs[g->corr].bytes - a + b;
    htable_recost(&e->tab, &g->hn, g->bytes);
    e->st.bytes = htable_bytes(&e->tab);
}

static void evicted_at_cap(void *ctx, struct htable_node *n);

static void resize(struct sigma_corr_engine *e);

static const char *rule_label(const struct sigma_rule *r)
{
    return r->id ? r->id : r->name ? r->name : r->title ? r->title : "";
}

static const char *corr_label(const struct sigma_corr_rule *c)
{
    return c->id ? c->id : c->name ? c->name : c->title ? c->title : "";
}

static int reflist_add(struct reflist *l, uint32_t corr, uint32_t slot)
{
    struct ref *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

    if (!nv)
        return -ENOMEM;
    l->v = nv;
    l->v[l->n].corr = corr;
    l->v[l->n].slot = slot;
    l->n++;
    return 0;
}

/* The field to read for `name` from events of the rule named `rname`. */
static const char *alias_field(const struct sigma_corr_rule *c, const char *name, const char *rname)
{
    for (size_t i = 0; i < c->naliases; i++) {
        if (strcmp(c->aliases[i].name, name) != 0)
            continue;
        for (size_t j = 0; rname && j < c->aliases[i].n; j++)
            if (strcmp(c->aliases[i].rules[j], rname) == 0)
                return c->aliases[i].fields[j];
    }
    return name;
}

static int resolve(struct sigma_corr_engine *e, size_t ci, sigma_corr_report_fn report, void *arg)
{
    struct ccorr *cc = &e->corrs[ci];
    const struct sigma_corr_rule *c = cc->c;
    char why[300];

    if (!(cc->slots = calloc(c->rules.n, sizeof(*cc->slots))))
        return -ENOMEM;
    for (size_t s = 0; s < c->rules.n; s++) {
        const char *ref = c->rules.v[s], *rname = NULL;
        struct cslot *sl = &cc->slots[s];
        size_t i;
        int found = 0;

        for (i = 0; i < e->nrules && !found; i++)
            if (e->rules[i]->id && strcmp(e->rules[i]->id, ref) == 0)
                found = 1;
        for (i = found ? i : 0; i < e->nrules && !found; i++)
            if (e->rules[i]->name && strcmp(e->rules[i]->name, ref) == 0)
                found = 1;
        if (found) {
            sl->target = i - 1;
            rname = e->rules[i - 1]->name;
            sl->label = rule_label(e->rules[i - 1]);
        } else {
            for (i = 0; i < e->ncorrs && !found; i++)
                if (i != ci && ((e->corrs[i].c->id && strcmp(e->corrs[i].c->id, ref) == 0) ||
                                (e->corrs[i].c->name && strcmp(e->corrs[i].c->name, ref) == 0)))
                    found = 1;
            if (!found) {
                snprintf(why, sizeof(why), "unknown rule reference '%.200s'", ref);
                if (report)
                    report(arg, c, why);
                cc->kept = 0;
                return 0;
            }
            sl->is_corr = 1;
            sl->target = i - 1;
            rname = e->corrs[i - 1].c->name;
            sl->label = corr_label(e->corrs[i - 1].c);
        }
        for (size_t k = 0; k < c->group_by.n; k++) {
            const char *f = alias_field(c, c->group_by.v[k], rname);
            sl->key_fid[k] = field_intern(f, strlen(f));
        }
        for (size_t k = 0; k < c->fields.n; k++) {
            const char *f = alias_field(c, c->fields.v[k], rname);
            sl->val_fid[k] = field_intern(f, strlen(f));
        }
    }
    cc->kept = 1;
    return 0;
}

/*
 * Chains: a correlation's level is one more than the deepest one it
 * references.  What has no level after ncorrs rounds references a cycle or
 * a correlation left out, and is left out in turn (and reported).
 */
static void chain_levels(struct sigma_corr_engine *e, sigma_corr_report_fn report, void *arg)
{
    size_t ncorrs = e->ncorrs;

    for (size_t round = 0; round <= ncorrs; round++) {
        int changed = 0;
        for (size_t i = 0; i < ncorrs; i++) {
            struct ccorr *cc = &e->corrs[i];
            int lv = 0, ok = cc->kept;

            if (!ok || cc->level >= 0)
                continue;
            for (size_t s = 0; s < cc->c->rules.n && ok; s++) {
                if (!cc->slots[s].is_corr)
                    continue;
                const struct ccorr *t = &e->corrs[cc->slots[s].target];
                if (!t->kept || t->level < 0)
                    ok = 0;
                else if (t->level + 1 > lv)
                    lv = t->level + 1;
            }
            if (ok) {
                cc->level = lv;
                changed = 1;
            }
        }
        if (!changed)
            break;
    }
    for (size_t i = 0; i < ncorrs; i++) {
        struct ccorr *cc = &e->corrs[i];
        if (cc->kept && cc->level < 0) {
            cc->kept = 0;
            if (report)
                report(arg, cc->c,
                       "references a correlation that is left out or part of a reference cycle");
        }
    }
}

/*
 * The routes of the kept correlations: the list of them, what each base
 * rule's matches and each correlation's hits feed, and who reports.
 * 0 or -ENOMEM.
 */
static int route(struct sigma_corr_engine *e)
{
    int r;

    for (size_t i = 0; i < e->ncorrs; i++) {
        struct ccorr *cc = &e->corrs[i];
        if (!cc->kept)
            continue;
        e->kept[e->nkept++] = (uint32_t)i;
        for (size_t s = 0; s < cc->c->rules.n; s++) {
            struct reflist *l = cc->slots[s].is_corr ? &e->by_corr[cc->slots[s].target]
                                                     : &e->by_rule[cc->slots[s].target];
            if ((r = reflist_add(l, (uint32_t)i, (uint32_t)s)) < 0)
                return r;
        }
    }
    /* generate: a referenced rule reports only if a referencing
     * correlation asks for it. */
    for (size_t i = 0; i < e->nrules; i++) {
        e->rule_gen[i] = e->by_rule[i].n == 0;
        for (size_t k = 0; k < e->by_rule[i].n; k++)
            if (e->corrs[e->by_rule[i].v[k].corr].c->generate)
                e->rule_gen[i] = 1;
    }
    for (size_t i = 0; i < e->ncorrs; i++) {
        e->corrs[i].emit = e->by_corr[i].n == 0;
        for (size_t k = 0; k < e->by_corr[i].n; k++)
            if (e->corrs[e->by_corr[i].v[k].corr].c->generate)
                e->corrs[i].emit = 1;
    }
    return 0;
}

int sigma_corr_engine_new(struct sigma_corr_rule *const *corrs, size_t ncorrs,
                          struct sigma_rule *const *rules, size_t nrules,
                          const struct sigma_corr_opts *opts, sigma_corr_report_fn report,
                          void *arg, struct sigma_corr_engine **ret)
{
    struct sigma_corr_engine *e = calloc(1, sizeof(*e));
    int r = -ENOMEM;

    *ret = NULL;
    if (!e)
        return -ENOMEM;
    field_init();
    e->rules = rules;
    e->nrules = nrules;
    e->sized = !(opts && opts->max_bytes);
    e->max_bytes = e->sized ? SIGMA_CORR_AUTO_FLOOR : opts->max_bytes;
    e->tolerance_us =
        opts && opts->tolerance_us >= 0 ? opts->tolerance_us : SIGMA_CORR_DEFAULT_TOLERANCE_US;
    e->now = e->tick_start = e->swept = INT64_MIN;
    e->repeat_fid = field_intern(SIGMA_CORR_REPEAT_FIELD, sizeof(SIGMA_CORR_REPEAT_FIELD) - 1);
    e->ncorrs = ncorrs;
    if (!(e->corrs = calloc(ncorrs ? ncorrs : 1, sizeof(*e->corrs))) ||
        !(e->by_rule = calloc(nrules ? nrules : 1, sizeof(*e->by_rule))) ||
        !(e->by_corr = calloc(ncorrs ? ncorrs : 1, sizeof(*e->by_corr))) ||
        !(e->rule_gen = calloc(nrules ? nrules : 1, 1)))
        goto out;
    for (size_t i = 0; i < ncorrs; i++) {
        e->corrs[i].c = corrs[i];
        e->corrs[i].level = -1;
    }
    for (size_t i = 0; i < ncorrs; i++)
        if ((r = resolve(e, i, report, arg)) < 0)
            goto out;
    chain_levels(e, report, arg);
    r = -ENOMEM; /* resolve() left 0 in r */
    if (!(e->kept = calloc(ncorrs ? ncorrs : 1, sizeof(*e->kept))) ||
        !(e->sizes = calloc(ncorrs ? ncorrs : 1, sizeof(*e->sizes))))
        goto out;
    if ((r = route(e)) < 0)
        goto out;
    if ((r = htable_key_init(&e->hkey)) < 0)
        goto out;
    /* No cap in the table: evict() trims to a cap that moves, after
     * expiry, at times of its choosing. */
    if ((r = htable_init(&e->tab, 0, 0, evicted_at_cap, e)) < 0)
        goto out;
    htable_charge_buckets(&e->tab);
    e->st.bytes = htable_bytes(&e->tab);
    e->st.correlations = e->nkept;
    if (e->sized)
        resize(e);
    *ret = e;
    return 0;
out:
    sigma_corr_engine_free(e);
    return r;
}

static void group_free(struct group *g)
{
    for (size_t i = 0; i < g->scap; i++)
        free(g->samples[i].raw);
    free(g->samples);
    free(g->ents);
    free(g->dt);
    free(g->slot_cnt);
    free(g);
}

void sigma_corr_engine_free(struct sigma_corr_engine *e)
{
    if (!e)
        return;
    for (unsigned k = 0; k < HTABLE_NCLASS; k++)
        for (struct htable_node *n = htable_oldest_in(&e->tab, k), *nx; n; n = nx) {
            nx = htable_newer(n);
            group_free((struct group *)n);
        }
    htable_done(&e->tab);
    free(e->kept);
    free(e->sizes);
    /* ncorrs is set before corrs is allocated: on OOM there is none. */
    for (size_t i = 0; e->corrs && i < e->ncorrs; i++) {
        free(e->corrs[i].slots);
        if (e->by_corr)
            free(e->by_corr[i].v);
    }
    for (size_t i = 0; e->by_rule && i < e->nrules; i++)
        free(e->by_rule[i].v);
    free(e->by_rule);
    free(e->by_corr);
    free(e->rule_gen);
    free(e->corrs);
    free(e);
}

int sigma_corr_engine_uses(const struct sigma_corr_engine *e, size_t rule_idx)
{
    return rule_idx < e->nrules && e->by_rule[rule_idx].n > 0;
}

int sigma_corr_engine_generates(const struct sigma_corr_engine *e, size_t rule_idx)
{
    return rule_idx >= e->nrules || e->rule_gen[rule_idx];
}

size_t sigma_corr_engine_count(const struct sigma_corr_engine *e)
{
    return e->nkept;
}

void sigma_corr_engine_stats(const struct sigma_corr_engine *e, struct sigma_corr_stats *ret)
{
    *ret = e->st;
    ret->groups_live = htable_count(&e->tab);
    ret->max_bytes = e->max_bytes;
    ret->cap_sized = e->sized;
}

int sigma_corr_engine_rule_stats(const struct sigma_corr_engine *e, size_t i,
                                 struct sigma_corr_rule_stats *ret)
{
    const struct ccorr *cc;

    if (i >= e->nkept)
        return -ENOENT;
    cc = &e->corrs[e->kept[i]];
    memset(ret, 0, sizeof(*ret));
    ret->rule = cc->c;
    ret->groups_live = cc->live;
    ret->bytes = cc->bytes;
    ret->groups_created = cc->created;
    ret->evicted_age = cc->evicted_age;
    ret->evicted_cap = cc->evicted_cap;
    memcpy(ret->evicted_cap_cost, cc->evicted_cap_cost, sizeof(ret->evicted_cap_cost));
    ret->groups_per_s = cc->rate;
    return 0;
}

const char *sigma_corr_cost_name(enum sigma_corr_cost k)
{
    static const char *const names[SIGMA_CORR_NCOST] = {"single", "far", "mid", "near"};
    return (size_t)k < SIGMA_CORR_NCOST ? names[k] : "?";
}

/* ---- sizing the cap ---- */

size_t sigma_corr_size_cap(const struct sigma_corr_size *v, size_t n, int64_t tolerance_us,
                           size_t table_bytes, size_t in_use)
{
    double need = 0;

    if (tolerance_us < 0)
        tolerance_us = 0;
    for (size_t i = 0; i < n; i++) {
        /* NaN or below the base: the base. */
        double rate = v[i].groups_per_s > SIGMA_CORR_AUTO_BASE_RATE ? v[i].groups_per_s
                                                                    : SIGMA_CORR_AUTO_BASE_RATE;
        double life_s = ((double)v[i].timespan_us + (double)tolerance_us) / 1e6;
        need += rate * life_s * (double)v[i].bytes_per_group;
    }
    need = (double)table_bytes + SIGMA_CORR_AUTO_HEADROOM * need;
    if (need < (double)in_use)
        need = (double)in_use;
    if (!(need >= (double)SIGMA_CORR_AUTO_FLOOR))
        return SIGMA_CORR_AUTO_FLOOR;
    if (need >= (double)SIGMA_CORR_AUTO_CEILING)
        return SIGMA_CORR_AUTO_CEILING;
    return (size_t)need;
}

static int uses_values(enum sigma_corr_type t)
{
    return t == SIGMA_CORR_VALUE_COUNT || t == SIGMA_CORR_VALUE_PERCENTILE;
}

/* What a group of `c` with one event and a short key takes, before any
 * group of it exists to measure. */
static size_t group_estimate(const struct sigma_corr_rule *c)
{
    struct entry x;
    size_t b = abytes(sizeof(struct group) + CORR_KEY_PREFIX + c->group_by.n * 32 + 1) +
               abytes(sizeof(x)) + abytes(sizeof(struct sample)) + abytes(256);

    if (c->type == SIGMA_CORR_TEMPORAL || c->type == SIGMA_CORR_TEMPORAL_ORDERED)
        b += abytes(c->rules.n * sizeof(uint32_t));
    if (uses_values(c->type))
        b += abytes(16 * sizeof(struct dslot));
    return b;
}

/* Sets the sized cap from the rates and sizes now. */
static void resize(struct sigma_corr_engine *e)
{
    for (size_t i = 0; i < e->nkept; i++) {
        const struct ccorr *cc = &e->corrs[e->kept[i]];
        e->sizes[i].timespan_us = cc->c->timespan_us;
        e->sizes[i].groups_per_s = cc->rate;
        e->sizes[i].bytes_per_group = cc->live ? cc->bytes / cc->live : group_estimate(cc->c);
    }
    e->max_bytes = sigma_corr_size_cap(e->sizes, e->nkept, e->tolerance_us,
                                       e->tab.nb * sizeof(struct htable_node *), e->st.bytes);
}

/*
 * Every SIGMA_CORR_RATE_TICK_US of event time: each correlation's rate of
 * group creation over the interval; the rate kept is the higher of that
 * and the previous one decayed linearly over one group lifetime (so a
 * burst is remembered as long as its groups may live); then the cap.
 */
static void rate_tick(struct sigma_corr_engine *e)
{
    double secs;

    if (e->tick_start == INT64_MIN) {
        e->tick_start = e->now;
        return;
    }
    if (e->now - e->tick_start < SIGMA_CORR_RATE_TICK_US)
        return;
    secs = (double)(e->now - e->tick_start) / 1e6;
    for (size_t i = 0; i < e->nkept; i++) {
        struct ccorr *cc = &e->corrs[e->kept[i]];
        double life_s = ((double)cc->c->timespan_us + (double)e->tolerance_us) / 1e6;
        double r = (double)cc->created_tick / secs;
        double kept = cc->rate * (1.0 - secs / life_s);

        cc->rate = r > kept ? r : kept > 0 ? kept : 0;
        cc->created_tick = 0;
    }
    e->tick_start = e->now;
    if (e->sized)
        resize(e);
}

/* ---- hashing ---- */

static uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* ---- the two lists ---- */

static void age_unlink(struct ccorr *cc, struct group *g)
{
    if (g->aprev)
        g->aprev->anext = g->anext;
    else
        cc->ahead = g->anext;
    if (g->anext)
        g->anext->aprev = g->aprev;
    else
        cc->atail = g->aprev;
    g->aprev = g->anext = NULL;
}

static void age_append(struct ccorr *cc, struct group *g)
{
    g->aprev = cc->atail;
    g->anext = NULL;
    if (cc->atail)
        cc->atail->anext = g;
    else
        cc->ahead = g;
    cc->atail = g;
}

/* `g` was just used: to the tail of its correlation's list and of the list
 * of class `cost`. */
static void touch(struct sigma_corr_engine *e, struct group *g, enum sigma_corr_cost cost)
{
    struct ccorr *cc = &e->corrs[g->corr];

    if (cc->atail != g) {
        age_unlink(cc, g);
        age_append(cc, g);
    }
    htable_touch_class(&e->tab, &g->hn, (unsigned)cost);
}

/* `g`, out of the table, leaves its correlation's list and is freed. */
static void group_drop(struct sigma_corr_engine *e, struct group *g)
{
    struct ccorr *cc = &e->corrs[g->corr];

    age_unlink(cc, g);
    cc->live--;
    cc->bytes -= g->bytes;
    e->st.bytes = htable_bytes(&e->tab);
    group_free(g);
}

/* Removes `g` from the table and both lists, and frees it. */
static void group_remove(struct sigma_corr_engine *e, struct group *g)
{
    htable_remove(&e->tab, &g->hn);
    group_drop(e, g);
}

/* The table's eviction callback (from htable_trim in evict()): a group
 * lost at the cap, counted by its cost class. */
static void evicted_at_cap(void *ctx, struct htable_node *n)
{
    struct sigma_corr_engine *e = ctx;
    struct group *g = (struct group *)n;
    struct ccorr *cc = &e->corrs[g->corr];

    cc->evicted_cap++;
    cc->evicted_cap_cost[n->cls]++;
    e->st.evicted_cap++;
    e->st.evicted_cap_cost[n->cls]++;
    group_drop(e, g);
}

/*
 * Expires the groups whose window has ended (each correlation's list, from
 * its head), then, while over the cap, evicts the least recently used group
 * of the cheapest class that has one.  Never `keep`.
 */
static void evict(struct sigma_corr_engine *e, const struct group *keep)
{
    int over = e->st.bytes > e->max_bytes;

    if (e->now != e->swept || over) {
        e->swept = e->now;
        for (size_t i = 0; i < e->nkept; i++) {
            struct ccorr *cc = &e->corrs[e->kept[i]];
            int64_t limit = e->now - cc->c->timespan_us - e->tolerance_us;

            while (cc->ahead && cc->ahead != keep && cc->ahead->newest <= limit) {
                group_remove(e, cc->ahead);
                cc->evicted_age++;
                e->st.evicted_age++;
            }
        }
    }
    htable_trim(&e->tab, e->max_bytes, keep ? &keep->hn : NULL);
}

/* The group of correlation `corr` keyed key[0..keylen) (the correlation's
 * index first), made when new.  NULL on OOM. */
static struct group *group_get(struct sigma_corr_engine *e, uint32_t corr, const char *key,
                               size_t keylen)
{
    struct group *g = (struct group *)htable_find(&e->tab, key, keylen);
    struct ccorr *cc = &e->corrs[corr];
    size_t nslots = cc->c->rules.n;

    if (g)
        return g;
    if (!(g = calloc(1, sizeof(*g) + keylen)))
        return NULL;
    g->bytes = abytes(sizeof(*g) + keylen);
    if (cc->c->type == SIGMA_CORR_TEMPORAL || cc->c->type == SIGMA_CORR_TEMPORAL_ORDERED) {
        if (!(g->slot_cnt = calloc(nslots, sizeof(uint32_t)))) {
            group_free(g);
            return NULL;
        }
        g->bytes += abytes(nslots * sizeof(uint32_t));
    }
    memcpy(g->key, key, keylen);
    g->corr = corr;
    g->newest = INT64_MIN;
    g->quiet_until = INT64_MIN;
    g->fired_last = INT64_MIN;
    /* In class SIGMA_CORR_COST_SINGLE (0), the newest; no cap in the
     * table, so nothing is evicted here. */
    htable_insert(&e->tab, &g->hn, g->key, keylen, g->bytes);
    e->st.bytes = htable_bytes(&e->tab);
    cc->bytes += g->bytes;
    cc->live++;
    cc->created++;
    cc->created_tick++;
    e->st.groups_created++;
    age_append(cc, g);
    return g;
}

/* ---- distinct values ---- */

static struct dslot *dt_find(struct dslot *dt, size_t dcap, uint64_t h)
{
    size_t mask = dcap - 1, i = (size_t)hash_mix(h) & mask;

    while (dt[i].cnt && dt[i].h != h)
        i = (i + 1) & mask;
    return &dt[i];
}

static int dt_add(struct sigma_corr_engine *e, struct group *g, uint64_t h)
{
    struct dslot *s;

    if ((g->dn + 1) * 2 > g->dcap) {
        size_t ncap = g->dcap ? g->dcap * 2 : 16;
        struct dslot *nd = calloc(ncap, sizeof(*nd));
        if (!nd)
            return -ENOMEM;
        for (size_t i = 0; i < g->dcap; i++)
            if (g->dt[i].cnt)
                *dt_find(nd, ncap, g->dt[i].h) = g->dt[i];
        free(g->dt);
        account(e, g, g->dcap * sizeof(*nd), ncap * sizeof(*nd));
        g->dt = nd;
        g->dcap = ncap;
    }
    s = dt_find(g->dt, g->dcap, h);
    if (s->cnt == 0) {
        s->h = h;
        g->dn++;
    }
    s->cnt++;
    return 0;
}

static void dt_del(struct group *g, uint64_t h)
{
    size_t mask = g->dcap - 1, i;
    struct dslot *s = dt_find(g->dt, g->dcap, h);

    if (s->cnt == 0 || --s->cnt > 0)
        return;
    g->dn--;
    i = (size_t)(s - g->dt);
    for (size_t j = (i + 1) & mask; g->dt[j].cnt; j = (j + 1) & mask) {
        size_t home = (size_t)hash_mix(g->dt[j].h) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            g->dt[i] = g->dt[j];
            i = j;
        }
    }
    g->dt[i].cnt = 0;
}

static uint32_t dt_count(const struct group *g, uint64_t h)
{
    return g->dcap ? dt_find(g->dt, g->dcap, h)->cnt : 0;
}

/* ---- the window ---- */

/* How many events one record stands for in an event_count: a syslog
 * daemon folds identical messages into "message repeated N times: [ M ]",
 * and the decoder says N in SIGMA_CORR_REPEAT_FIELD.  Anything but a plain
 * count in 1..SIGMA_CORR_MAX_REPEAT counts once (the text is the sender's). */
static double repeat_weight(const struct event *ev, uint32_t fid)
{
    size_t len;
    const char *v = event_get(ev, fid, &len);
    unsigned long n = 0;

    if (!v || len == 0 || len > 6)
        return 1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 1;
        n = n * 10 + (unsigned long)(v[i] - '0');
    }
    return n >= 1 && n <= SIGMA_CORR_MAX_REPEAT ? (double)n : 1;
}

static void window_pop_front(struct group *g, enum sigma_corr_type t)
{
    const struct entry *x = &g->ents[g->off];

    if (uses_values(t))
        dt_del(g, x->vh);
    if (g->slot_cnt)
        g->slot_cnt[x->slot]--;
    g->sum -= x->num;
    g->off++;
    g->n--;
}

static void window_reset(struct group *g, size_t nslots)
{
    g->off = g->n = 0;
    g->sum = 0;
    if (g->dt)
        memset(g->dt, 0, g->dcap * sizeof(*g->dt));
    g->dn = 0;
    if (g->slot_cnt)
        memset(g->slot_cnt, 0, nslots * sizeof(uint32_t));
}

static int window_insert(struct sigma_corr_engine *e, struct group *g, const struct entry *x)
{
    size_t pos;

    if (g->off + g->n == g->cap) {
        if (g->off > 0 && g->off >= g->cap / 2) {
            memmove(g->ents, g->ents + g->off, g->n * sizeof(*g->ents));
            g->off = 0;
        } else {
            /* From one: most groups only ever see one event. */
            size_t ncap = g->cap ? g->cap * 2 : 1;
            struct entry *ne = realloc(g->ents, ncap * sizeof(*ne));
            if (!ne)
                return -ENOMEM;
            account(e, g, g->cap * sizeof(*ne), ncap * sizeof(*ne));
            g->ents = ne;
            g->cap = ncap;
        }
    }
    /* Sorted by time; an equal time goes after, so arrival order holds. */
    pos = g->off + g->n;
    while (pos > g->off && g->ents[pos - 1].t > x->t)
        pos--;
    memmove(&g->ents[pos + 1], &g->ents[pos], (g->off + g->n - pos) * sizeof(*g->ents));
    g->ents[pos] = *x;
    g->n++;
    g->sum += x->num;
    if (g->slot_cnt)
        g->slot_cnt[x->slot]++;
    return 0;
}

/* Frees the kept samples (after a hit: the next hit keeps its own). */
static void samples_drop(struct sigma_corr_engine *e, struct group *g)
{
    for (size_t i = 0; i < g->scap; i++) {
        account(e, g, g->samples[i].rawcap, 0);
        free(g->samples[i].raw);
    }
    account(e, g, g->scap * sizeof(*g->samples), 0);
    free(g->samples);
    g->samples = NULL;
    g->scap = g->shead = g->ns = 0;
}

/* Grows the ring of samples (full, below SIGMA_CORR_MAX_SAMPLES), oldest
 * first from index 0. */
static int samples_grow(struct sigma_corr_engine *e, struct group *g)
{
    size_t ncap = g->scap ? (size_t)g->scap * 2 : 1;
    struct sample *ns;

    if (ncap > SIGMA_CORR_MAX_SAMPLES)
        ncap = SIGMA_CORR_MAX_SAMPLES;
    if (!(ns = calloc(ncap, sizeof(*ns))))
        return -ENOMEM;
    /* A ring of no room holds nothing (ns <= scap); said for the analyzer,
     * which cannot see it. */
    for (size_t k = 0; g->scap && k < g->ns; k++)
        ns[k] = g->samples[(g->shead + k) % g->scap];
    account(e, g, g->scap * sizeof(*ns), ncap * sizeof(*ns));
    free(g->samples);
    g->samples = ns;
    g->scap = (uint8_t)ncap;
    g->shead = 0;
    return 0;
}

/* Keeps the event (its raw text, up to SIGMA_CORR_SAMPLE_RAW bytes) among
 * the group's last SIGMA_CORR_MAX_SAMPLES.  Out of memory, the sample is
 * lost, never the event. */
static void sample_add(struct sigma_corr_engine *e, struct group *g, int64_t t, const char *rule_id,
                       const char *raw, size_t len)
{
    struct sample *s;

    if (g->ns == g->scap && g->scap < SIGMA_CORR_MAX_SAMPLES && samples_grow(e, g) < 0 &&
        g->scap == 0)
        return;
    if (g->ns == g->scap) {
        s = &g->samples[g->shead];
        g->shead = (uint8_t)((g->shead + 1) % g->scap);
    } else {
        s = &g->samples[(g->shead + g->ns) % g->scap];
        g->ns++;
    }
    if (len > SIGMA_CORR_SAMPLE_RAW)
        len = SIGMA_CORR_SAMPLE_RAW;
    if (len > s->rawcap) {
        char *nr = realloc(s->raw, len);
        if (!nr)
            len = s->rawcap;
        else {
            account(e, g, s->rawcap, len);
            s->raw = nr;
            s->rawcap = (uint32_t)len;
        }
    }
    if (len)
        memcpy(s->raw, raw, len);
    s->len = (uint32_t)len;
    s->t = t;
    s->rule_id = rule_id;
}

static double ordered_prefix(const struct group *g, size_t nslots)
{
    size_t want = 0;

    for (size_t i = g->off; i < g->off + g->n && want < nslots; i++)
        if (g->ents[i].slot == want)
            want++;
    return (double)want;
}

/* The threshold a counting condition's value must reach; NAN without a
 * lower bound.  Counts are whole, so `gt: 9` is reached at 10. */
static double threshold(const struct sigma_corr_rule *c)
{
    if (c->has_op[SIGMA_CORR_GTE])
        return c->op_val[SIGMA_CORR_GTE];
    if (c->has_op[SIGMA_CORR_EQ])
        return c->op_val[SIGMA_CORR_EQ];
    if (c->has_op[SIGMA_CORR_GT])
        return c->type == SIGMA_CORR_VALUE_SUM ? c->op_val[SIGMA_CORR_GT]
                                               : floor(c->op_val[SIGMA_CORR_GT]) + 1;
    return NAN;
}

/* How far `g` (of `c`, whose condition's value is `v` now) is from firing;
 * the classes are described in sigma_corr.h. */
static enum sigma_corr_cost group_distance(const struct sigma_corr_rule *c, const struct group *g,
                                           double v)
{
    double t = threshold(c);

    switch (c->type) {
    case SIGMA_CORR_TEMPORAL_ORDERED: return v >= 1 ? SIGMA_CORR_COST_NEAR : SIGMA_CORR_COST_FAR;
    case SIGMA_CORR_TEMPORAL:
        if (v + 1 >= t || 2 * v >= t)
            return SIGMA_CORR_COST_NEAR;
        return v > 0 ? SIGMA_CORR_COST_MID : SIGMA_CORR_COST_FAR;
    case SIGMA_CORR_EVENT_COUNT:
    case SIGMA_CORR_VALUE_COUNT:
        if (v + 1 >= t)
            return SIGMA_CORR_COST_NEAR;
        return 2 * v >= t ? SIGMA_CORR_COST_MID : SIGMA_CORR_COST_FAR;
    case SIGMA_CORR_VALUE_SUM:
        /* The next value may be any size: never NEAR by distance alone. */
        if (isnan(t) || t <= 0)
            return SIGMA_CORR_COST_MID;
        return 2 * v >= t ? SIGMA_CORR_COST_MID : SIGMA_CORR_COST_FAR;
    default:
        /* An average or a share over a single event is no baseline yet. */
        return g->n > 1 ? SIGMA_CORR_COST_MID : SIGMA_CORR_COST_FAR;
    }
}

/* How costly `g` is to lose: its distance, with a far group of a single
 * event below every group that has seen more. */
static enum sigma_corr_cost group_cost(const struct sigma_corr_rule *c, const struct group *g,
                                       double v)
{
    enum sigma_corr_cost k = group_distance(c, g, v);

    return k == SIGMA_CORR_COST_FAR && g->n <= 1 ? SIGMA_CORR_COST_SINGLE : k;
}

static int cond_holds(const struct sigma_corr_rule *c, double v)
{
    if (c->has_op[SIGMA_CORR_GT] && !(v > c->op_val[SIGMA_CORR_GT]))
        return 0;
    if (c->has_op[SIGMA_CORR_GTE] && !(v >= c->op_val[SIGMA_CORR_GTE]))
        return 0;
    if (c->has_op[SIGMA_CORR_LT] && !(v < c->op_val[SIGMA_CORR_LT]))
        return 0;
    if (c->has_op[SIGMA_CORR_LTE] && !(v <= c->op_val[SIGMA_CORR_LTE]))
        return 0;
    if (c->has_op[SIGMA_CORR_EQ] && !(v == c->op_val[SIGMA_CORR_EQ]))
        return 0;
    if (c->has_op[SIGMA_CORR_NEQ] && !(v != c->op_val[SIGMA_CORR_NEQ]))
        return 0;
    return 1;
}

/* A numeric field value; 1 on success. */
static int value_number(const char *v, size_t len, double *ret)
{
    char buf[64], *end;

    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, v, len);
    buf[len] = '\0';
    *ret = strtod(buf, &end);
    return end != buf && *end == '\0' && isfinite(*ret);
}

static int feed_one(struct sigma_corr_engine *e, uint32_t ci, uint32_t si, const struct event *ev,
                    sigma_corr_hit_fn cb, void *arg, unsigned depth);

/* Feeds every correlation in `l` with `ev`. */
static int feed_list(struct sigma_corr_engine *e, const struct reflist *l, const struct event *ev,
                     sigma_corr_hit_fn cb, void *arg, unsigned depth)
{
    int hits = 0, err = 0;

    for (size_t k = 0; k < l->n; k++) {
        int r = feed_one(e, l->v[k].corr, l->v[k].slot, ev, cb, arg, depth);
        if (r < 0)
            err = r;
        else
            hits += r;
    }
    return err ? err : hits;
}

/*
 * The group key of `ev` under slot `sl` of `c` into `key` (per group-by
 * value: a 4-byte length, the bytes, a NUL) and *ret_keylen, and into *x
 * the hash of its value tuple (and, for sums and averages, the number of
 * its first field).  1 when the event lacks one of the fields, which
 * counts it as ungrouped; else 0.
 */
static int feed_key(struct sigma_corr_engine *e, const struct sigma_corr_rule *c,
                    const struct cslot *sl, const struct event *ev, char *key, size_t *ret_keylen,
                    struct entry *x)
{
    size_t keylen = 0;

    for (size_t k = 0; k < c->group_by.n; k++) {
        size_t len;
        const char *val = event_get(ev, sl->key_fid[k], &len);
        uint32_t l32;

        if (!val) {
            e->st.ungrouped++;
            return 1;
        }
        if (len > CORR_KEY_VALUE_MAX)
            len = CORR_KEY_VALUE_MAX;
        l32 = (uint32_t)len;
        memcpy(key + keylen, &l32, 4);
        memcpy(key + keylen + 4, val, len);
        key[keylen + 4 + len] = '\0';
        keylen += len + 5;
    }
    *ret_keylen = keylen;
    if (c->fields.n) {
        uint64_t vh = 0;
        for (size_t k = 0; k < c->fields.n; k++) {
            size_t len;
            const char *val = event_get(ev, sl->val_fid[k], &len);
            if (!val) {
                e->st.ungrouped++;
                return 1;
            }
            /* Mixed before each field so that the tuple's order counts. */
            vh = hash_mix(vh + k) ^ htable_key_hash(&e->hkey, val, len);
            if (k == 0 && (c->type == SIGMA_CORR_VALUE_SUM || c->type == SIGMA_CORR_VALUE_AVG) &&
                !value_number(val, len, &x->num)) {
                e->st.ungrouped++;
                return 1;
            }
        }
        x->vh = vh;
    }
    return 0;
}

/*
 * Takes entry x (of `ev`, through slot `sl`) into g's window, after
 * dropping what the window has left behind.  1 when it comes too late
 * (dropped, and `g` may be evicted), 0 once in, -ENOMEM.
 */
static int feed_window(struct sigma_corr_engine *e, const struct sigma_corr_rule *c,
                       struct group *g, const struct entry *x, const struct cslot *sl,
                       const struct event *ev)
{
    if (g->newest == INT64_MIN || ev->time_us >= g->newest) {
        g->newest = ev->time_us;
    } else if (g->newest - ev->time_us > e->tolerance_us ||
               g->newest - ev->time_us > c->timespan_us || ev->time_us <= g->fired_last) {
        e->st.late_dropped++;
        touch(e, g, (enum sigma_corr_cost)g->hn.cls);
        evict(e, g);
        return 1;
    }
    while (g->n && g->ents[g->off].t < g->newest - c->timespan_us)
        window_pop_front(g, c->type);
    if (uses_values(c->type) && dt_add(e, g, x->vh) < 0)
        return -ENOMEM;
    if (window_insert(e, g, x) < 0) {
        if (uses_values(c->type))
            dt_del(g, x->vh);
        return -ENOMEM;
    }
    sample_add(e, g, ev->time_us, sl->label, ev->raw, ev->raw_len);
    return 0;
}

/* The value c's condition is tested on, per correlation type, once `x`
 * (the newest entry) is in g's window. */
static double cond_value(const struct sigma_corr_rule *c, const struct group *g,
                         const struct entry *x)
{
    double v;

    switch (c->type) {
    case SIGMA_CORR_EVENT_COUNT: return g->sum;
    case SIGMA_CORR_VALUE_COUNT: return (double)g->dn;
    case SIGMA_CORR_TEMPORAL:
        v = 0;
        for (size_t s = 0; g->slot_cnt && s < c->rules.n; s++)
            v += g->slot_cnt[s] > 0;
        return v;
    case SIGMA_CORR_TEMPORAL_ORDERED: return ordered_prefix(g, c->rules.n);
    case SIGMA_CORR_VALUE_SUM: return g->sum;
    case SIGMA_CORR_VALUE_AVG: return g->sum / (double)g->n;
    default: return 100.0 * (double)dt_count(g, x->vh) / (double)g->n;
    }
}

/* Hands the hit of `g` (of c, at value v) to cb: its group-by values, its
 * span and its samples, all borrowed for the call. */
static void report_hit(const struct sigma_corr_rule *c, const struct group *g, double v,
                       sigma_corr_hit_fn cb, void *arg)
{
    const char *vals[SIGMA_CORR_MAX_GROUP_BY];
    struct sigma_corr_sample smp[SIGMA_CORR_MAX_SAMPLES];
    struct sigma_corr_hit hit = {
        .rule = c,
        .group_fields = (const char *const *)c->group_by.v,
        .group_values = vals,
        .ngroup = c->group_by.n,
        .value = v,
        .events = g->n,
        .first_us = g->ents[g->off].t,
        .last_us = g->ents[g->off + g->n - 1].t,
        .samples = smp,
        .nsamples = g->ns,
    };
    size_t p = CORR_KEY_PREFIX;

    for (size_t k = 0; k < c->group_by.n; k++) {
        uint32_t l32;
        memcpy(&l32, g->key + p, 4);
        vals[k] = g->key + p + 4;
        p += l32 + 5;
    }
    for (size_t k = 0; k < g->ns; k++) {
        const struct sample *s = &g->samples[(g->shead + k) % g->scap];
        smp[k].time_us = s->t;
        smp[k].rule_id = s->rule_id;
        smp[k].raw = s->raw ? s->raw : "";
        smp[k].raw_len = s->len;
    }
    cb(arg, &hit);
}

/* Correlation ci fired on `g` at value v: reports it, empties the window
 * and feeds the correlations chained on it.  The hits, or -errno. */
static int feed_fired(struct sigma_corr_engine *e, uint32_t ci, struct group *g, double v,
                      const struct event *ev, sigma_corr_hit_fn cb, void *arg, unsigned depth)
{
    const struct ccorr *cc = &e->corrs[ci];
    const struct sigma_corr_rule *c = cc->c;
    int hits = 0, r;

    e->st.hits++;
    if (cc->emit && cb) {
        report_hit(c, g, v, cb, arg);
        hits++;
    }
    /* The events that made it fire never count again; the next hit
     * needs the window to have moved a whole timespan past them. */
    g->fired_last = g->newest;
    g->quiet_until = g->newest + c->timespan_us;
    window_reset(g, c->rules.n);
    samples_drop(e, g);
    /* Emptied, it only holds the quiet time: losing it costs at most
     * a second hit, never a missed one. */
    touch(e, g, SIGMA_CORR_COST_SINGLE);
    /* A chained correlation counts this hit as one event; `g` may be
     * evicted from here on. */
    evict(e, NULL);
    r = feed_list(e, &e->by_corr[ci], ev, cb, arg, depth + 1);
    if (r < 0)
        return r;
    return hits + r;
}

static int feed_one(struct sigma_corr_engine *e, uint32_t ci, uint32_t si, const struct event *ev,
                    sigma_corr_hit_fn cb, void *arg, unsigned depth)
{
    const struct ccorr *cc = &e->corrs[ci];
    const struct sigma_corr_rule *c = cc->c;
    const struct cslot *sl = &cc->slots[si];
    char key[CORR_KEY_PREFIX + SIGMA_CORR_MAX_GROUP_BY * (CORR_KEY_VALUE_MAX + 5) +
             sizeof(ev->realm)];
    size_t keylen = 0;
    struct entry x = {.t = ev->time_us, .slot = si};
    struct group *g;
    double v;
    int r;

    if (depth > e->ncorrs)
        return 0;
    /* One table for every correlation: the key opens with its index. */
    memcpy(key, &ci, CORR_KEY_PREFIX);
    if (feed_key(e, c, sl, ev, key + CORR_KEY_PREFIX, &keylen, &x))
        return 0;
    keylen += CORR_KEY_PREFIX;
    /* An exercise run's records count among themselves only: its realm
     * closes the key (the group-by values before it are read by length). */
    if (ev->realm) {
        memcpy(key + keylen, &ev->realm, sizeof(ev->realm));
        keylen += sizeof(ev->realm);
    }
    if (c->type == SIGMA_CORR_EVENT_COUNT)
        x.num = repeat_weight(ev, e->repeat_fid);
    if (ev->time_us > e->now) {
        e->now = ev->time_us;
        rate_tick(e);
    }
    if (!(g = group_get(e, ci, key, keylen)))
        return -ENOMEM;
    if ((r = feed_window(e, c, g, &x, sl, ev)) != 0)
        return r < 0 ? r : 0;
    v = cond_value(c, g, &x);
    if (cond_holds(c, v) && g->newest <= g->quiet_until) {
        /* Still inside the window of the last hit: one hit per window. */
        e->st.suppressed++;
    } else if (cond_holds(c, v)) {
        return feed_fired(e, ci, g, v, ev, cb, arg, depth);
    }
    touch(e, g, group_cost(c, g, v));
    evict(e, g);
    return 0;
}

int sigma_corr_feed(struct sigma_corr_engine *e, size_t rule_idx, const struct event *ev,
                    sigma_corr_hit_fn cb, void *arg)
{
    if (rule_idx >= e->nrules)
        return 0;
    return feed_list(e, &e->by_rule[rule_idx], ev, cb, arg, 0);
}
