/*
 * sigma_corr.h - Sigma correlation rules (specification 2.1): loading one
 * correlation document, and the engine that counts base-rule matches in
 * sliding windows per group and reports correlation hits (sigma_corr_load.c
 * and sigma_corr.c), in bounded memory (below, "Memory").
 *
 * Choices where the specification is silent or contradicts itself
 * (shared/sigma/SPEC_NOTES.md section 6 and its checklist):
 *
 * - All seven types load.  `group-by` is optional (absent: one global
 *   group).  A condition is one operator, or a lower bound (gt/gte) and an
 *   upper bound (lt/lte) AND-ed; `neq` may join either.  Temporal types
 *   default to `gte: <number of rules>`.  Timespans take s, m, h, d and w.
 * - Windows slide on the events' own timestamps, never the wall clock: a
 *   window holds the group's events no older than its newest event minus
 *   the timespan, so it never spans more than the timespan, and a burst
 *   across a minute or hour boundary counts as one.
 * - A late event (older than its group's newest) is counted when it is at
 *   most `tolerance` late and still inside the window; otherwise it is
 *   dropped and counted in `late_dropped`.
 * - Firing: the condition is tested after each event.  When it holds the
 *   engine reports one hit and empties the group's window: the events that
 *   made it fire never count again (later arrivals at or before the hit's
 *   last event are dropped as late).  For one timespan after that event
 *   the group keeps counting but reports no hit (counted in `suppressed`),
 *   so a sustained attack gives one hit per timespan, not one per event.
 * - Counting types (event_count, value_count, temporal, temporal_ordered)
 *   need a lower bound (gt, gte or eq): a pure absence condition (`lt: 5`)
 *   can only be decided when a window closes, which this engine does not
 *   do; such a rule is refused with that reason.  value_sum, value_avg and
 *   value_percentile test their value after each event, whatever the
 *   operator.
 * - value_count with a list of fields counts distinct tuples.
 *   value_percentile compares the share (0..100) of the window's events
 *   whose `field` equals the current event's: `lte: 1` fires when the value
 *   just seen makes up at most 1 % of the window (a rare value).
 * - temporal_ordered: the value tested is the length of the longest prefix
 *   of `rules` matched in order (ties in time keep arrival order).
 * - An event without one of the group-by fields (after aliases) is not
 *   counted for that correlation: grouping unrelated events under "absent"
 *   would invent correlations.
 * - A chained correlation sees the hit of the correlation it references as
 *   one event: the event that completed the inner hit, at its time.
 * - Distinct values are told apart by a 64-bit hash of their bytes.
 */
#ifndef HIKESHI_DETECT_SIGMA_CORR_H
#define HIKESHI_DETECT_SIGMA_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "detect/sigma.h"

struct event;
struct ydoc;

enum sigma_corr_type {
    SIGMA_CORR_EVENT_COUNT = 0,
    SIGMA_CORR_VALUE_COUNT,
    SIGMA_CORR_TEMPORAL,
    SIGMA_CORR_TEMPORAL_ORDERED,
    SIGMA_CORR_VALUE_SUM,
    SIGMA_CORR_VALUE_AVG,
    SIGMA_CORR_VALUE_PERCENTILE,
};

/* Condition operators; a condition holds when every operator present does. */
enum sigma_corr_op {
    SIGMA_CORR_GT = 0,
    SIGMA_CORR_GTE,
    SIGMA_CORR_LT,
    SIGMA_CORR_LTE,
    SIGMA_CORR_EQ,
    SIGMA_CORR_NEQ,
    SIGMA_CORR_NOPS
};

/* `aliases: {name: {rule: field, ...}}`: for rule rules[i], read fields[i]. */
struct sigma_corr_alias {
    char *name;    /* owned */
    char **rules;  /* owned; rule names */
    char **fields; /* owned; parallel to rules */
    size_t n;
};

#define SIGMA_CORR_MAX_RULES 64   /* references of one correlation */
#define SIGMA_CORR_MAX_GROUP_BY 8 /* group-by fields of one correlation */
#define SIGMA_CORR_MAX_SAMPLES 16 /* events kept per group for a hit */
#define SIGMA_CORR_SAMPLE_RAW 512 /* bytes of each kept raw record */
#define SIGMA_CORR_MAX_FIELDS 8   /* fields of `condition.field` */
/* A record that stands for N identical events (syslog's "message repeated
 * N times") carries N in this field; an event_count counts it N times,
 * at most SIGMA_CORR_MAX_REPEAT. */
#define SIGMA_CORR_REPEAT_FIELD "log.syslog.repeat_count"
#define SIGMA_CORR_MAX_REPEAT 10000

/* A loaded correlation rule.  Every pointer is owned; sigma_corr_rule_free(). */
struct sigma_corr_rule {
    char *file;    /* may be NULL */
    unsigned line; /* line of the document's first node, for messages */
    char *title, *id, *name, *status, *description, *author, *level_text;
    enum sigma_level level;
    struct sigma_strv tags;
    enum sigma_corr_type type;
    struct sigma_strv rules;    /* references, as written: ids or names */
    struct sigma_strv group_by; /* n == 0: one global group */
    struct sigma_strv fields;   /* condition.field (value_* types) */
    int64_t timespan_us;
    unsigned char has_op[SIGMA_CORR_NOPS];
    double op_val[SIGMA_CORR_NOPS];
    struct sigma_corr_alias *aliases; /* owned */
    size_t naliases;
    int generate;
};

/*
 * Loads the correlation document `d` (util/ydoc.h; its root holds
 * `correlation:`), as sigma_load.c hands it over.  `file` is copied (may be
 * NULL).  Returns 0 with *ret_corr (free with sigma_corr_rule_free()),
 * -EINVAL with *reterr filled (line, column, reason), -ENOMEM.  d->err is
 * pointed at reterr->at while loading and restored after.
 */
int sigma_corr_load_yaml(struct ydoc *d, const char *file, struct sigma_corr_rule **ret_corr,
                         struct sigma_err *reterr);
/* Frees; NULL is a no-op. */
void sigma_corr_rule_free(struct sigma_corr_rule *c);
/* The type's name as in the specification ("event_count"). */
const char *sigma_corr_type_name(enum sigma_corr_type t);

/* ---- the engine ---- */

/* One event kept for a hit: copies, valid while the hit is. */
struct sigma_corr_sample {
    int64_t time_us;
    const char *rule_id; /* the base rule's id (or name, or title) */
    const char *raw;     /* up to SIGMA_CORR_SAMPLE_RAW bytes, not NUL-terminated */
    size_t raw_len;
};

/* A correlation that fired.  Everything it points to is valid only during
 * the callback; copy what must be kept. */
struct sigma_corr_hit {
    const struct sigma_corr_rule *rule; /* title, id, author, level, tags, type */
    const char *const *group_fields;    /* rule->group_by names */
    const char *const *group_values;    /* parallel, NUL-terminated */
    size_t ngroup;
    double value;    /* the count or value that satisfied the condition */
    uint64_t events; /* events in the window when it fired */
    int64_t first_us, last_us;
    const struct sigma_corr_sample *samples; /* the most recent, oldest first */
    size_t nsamples;
};

typedef void (*sigma_corr_hit_fn)(void *arg, const struct sigma_corr_hit *hit);
/* Called for each correlation left out when the engine is built. */
typedef void (*sigma_corr_report_fn)(void *arg, const struct sigma_corr_rule *c, const char *why);

/*
 * Memory.  Every group accounts for the bytes it holds as the allocator
 * hands them out (each allocation: its size plus an 8-byte header, rounded
 * up to 16, at least 32): the group itself, its key, its window's entries,
 * its distinct-value set, its per-rule counters and its kept samples.
 *
 * The cap.  An explicit `max_bytes` is the cap.  With 0 the engine sizes
 * it from its correlations and the rate it observes (sigma_corr_size_cap):
 *
 *   cap = clamp(FLOOR, CEILING, max(in_use, table + HEADROOM *
 *               sum over correlations of  rate * (timespan + tolerance) * bytes_per_group))
 *
 * where `rate` is the correlation's group-creation rate in groups per
 * second of event time (at least BASE_RATE), measured every RATE_TICK of
 * event time and held at its peak, decaying over one group lifetime
 * (timespan + tolerance, how long an idle group lives before it expires),
 * and `bytes_per_group` the mean size of the correlation's live groups
 * (an estimate from its type before it has any).  `rate * lifetime` is
 * the number of groups expected alive at once.  The cap is recomputed
 * every RATE_TICK and never drops below what is in use, so a falling rate
 * lets groups expire rather than evicting them.
 *
 * Eviction at the cap takes the cheapest group to lose first: the least
 * recently fed group of the lowest cost class (enum sigma_corr_cost), never
 * a group of a higher class while a lower one has any.  Each eviction is
 * counted, in total, per cost class and per correlation; the engine does
 * not log (the caller reads sigma_corr_engine_rule_stats()).
 */
struct sigma_corr_opts {
    size_t max_bytes;     /* cap on group state; 0: sized (above) */
    int64_t tolerance_us; /* lateness accepted; < 0: SIGMA_CORR_DEFAULT_TOLERANCE_US */
};
#define SIGMA_CORR_AUTO_FLOOR ((size_t)16 * 1024 * 1024)
#define SIGMA_CORR_AUTO_CEILING ((size_t)1024 * 1024 * 1024)
#define SIGMA_CORR_AUTO_BASE_RATE 1.0 /* groups/s assumed of every correlation */
#define SIGMA_CORR_AUTO_HEADROOM 2.0  /* bursts within a tick; estimate lag */
#define SIGMA_CORR_RATE_TICK_US (10LL * 1000000)
#define SIGMA_CORR_DEFAULT_TOLERANCE_US (60LL * 1000000)

/*
 * How costly a group is to lose, by how close it is to firing.  The value
 * v and the threshold T are those of the condition (T: gte, gt + 1 or eq).
 */
enum sigma_corr_cost {
    /* A FAR group (below) holding a single event, or none (emptied by its
     * hit): the one-off sources a flood is made of. */
    SIGMA_CORR_COST_SINGLE = 0,
    /* v < T/2 (three failed logins of ten), a temporal_ordered group with
     * no step in order yet. */
    SIGMA_CORR_COST_FAR,
    /* T/2 <= v and the next event cannot fire it; value_avg and
     * value_percentile windows (no distance to a threshold). */
    SIGMA_CORR_COST_MID,
    /* v + 1 >= T (the next event can fire it), and temporal and
     * temporal_ordered groups that have seen part of their sequence (an
     * ordered prefix of one or more, half the rules for temporal). */
    SIGMA_CORR_COST_NEAR,
    SIGMA_CORR_NCOST
};
/* "single", "far", "mid", "near". */
const char *sigma_corr_cost_name(enum sigma_corr_cost k);

struct sigma_corr_stats {
    size_t correlations; /* correlations in the engine */
    size_t groups_live;
    uint64_t groups_created;
    uint64_t evicted_age;                        /* groups whose window expired */
    uint64_t evicted_cap;                        /* groups dropped at the cap */
    uint64_t evicted_cap_cost[SIGMA_CORR_NCOST]; /* the same by cost class */
    uint64_t late_dropped;                       /* events too late (beyond tolerance or window) */
    uint64_t ungrouped;                          /* events lacking a group-by or value field */
    uint64_t hits;       /* condition met and reported (or not referenced) */
    uint64_t suppressed; /* condition met within the timespan of a hit */
    size_t bytes;        /* group state in use, table included */
    size_t max_bytes;    /* the cap now */
    int cap_sized;       /* 1: the cap is sized, not configured */
};

/* One correlation's share of the state and its evictions. */
struct sigma_corr_rule_stats {
    const struct sigma_corr_rule *rule; /* borrowed, as the engine */
    size_t groups_live;
    size_t bytes;
    uint64_t groups_created;
    uint64_t evicted_age;
    uint64_t evicted_cap;
    uint64_t evicted_cap_cost[SIGMA_CORR_NCOST];
    double groups_per_s; /* the rate the sizing uses (0 before the first tick) */
};

/* One correlation's figures for sigma_corr_size_cap(). */
struct sigma_corr_size {
    int64_t timespan_us;
    double groups_per_s;    /* measured; raised to SIGMA_CORR_AUTO_BASE_RATE */
    size_t bytes_per_group; /* mean of its live groups, or its estimate */
};

/*
 * The sized cap (formula above) for correlations `v[0..n)`, lateness
 * `tolerance_us`, a group table of `table_bytes` and `in_use` bytes held
 * now.  Pure; always within [SIGMA_CORR_AUTO_FLOOR,
 * SIGMA_CORR_AUTO_CEILING].
 */
size_t sigma_corr_size_cap(const struct sigma_corr_size *v, size_t n, int64_t tolerance_us,
                           size_t table_bytes, size_t in_use);

struct sigma_corr_engine;

/*
 * Builds an engine over correlations `corrs[0..ncorrs)` whose references
 * resolve, by id or name, against the base rules `rules[0..nrules)` and
 * the other correlations.  The engine BORROWS both arrays' elements: they
 * must outlive it.  A correlation with an unresolvable reference, a
 * reference cycle, or one that references a correlation left out is
 * reported through `report` (may be NULL) and left out; the others load.
 * `opts` may be NULL.  Field names are interned here.  Returns 0 with
 * *ret (free with sigma_corr_engine_free()), -ENOMEM.
 */
int sigma_corr_engine_new(struct sigma_corr_rule *const *corrs, size_t ncorrs,
                          struct sigma_rule *const *rules, size_t nrules,
                          const struct sigma_corr_opts *opts, sigma_corr_report_fn report,
                          void *arg, struct sigma_corr_engine **ret);
/* Frees; NULL is a no-op. */
void sigma_corr_engine_free(struct sigma_corr_engine *e);

/* 1 if base rule `rule_idx` feeds some correlation of the engine. */
int sigma_corr_engine_uses(const struct sigma_corr_engine *e, size_t rule_idx);
/*
 * 1 if base rule `rule_idx` should still raise its own alert: it is not
 * referenced, or some correlation referencing it says `generate: true`.
 */
int sigma_corr_engine_generates(const struct sigma_corr_engine *e, size_t rule_idx);
/* Correlations kept (not left out). */
size_t sigma_corr_engine_count(const struct sigma_corr_engine *e);

/*
 * Feeds a match of base rule `rule_idx` on `ev` (at ev->time_us) into every
 * correlation that references it, and on to chained correlations; calls
 * `cb` for each hit of a correlation whose hits are reported (not
 * referenced, or referenced with generate: true).  Group-by and value
 * fields are read from `ev` as it is.  Returns the number of hits
 * reported, or -ENOMEM (state that could not be allocated: the event is
 * dropped for that correlation).
 */
int sigma_corr_feed(struct sigma_corr_engine *e, size_t rule_idx, const struct event *ev,
                    sigma_corr_hit_fn cb, void *arg);
/* Counters and sizes. */
void sigma_corr_engine_stats(const struct sigma_corr_engine *e, struct sigma_corr_stats *ret);
/*
 * Fills *ret for the i-th correlation kept (0 <= i <
 * sigma_corr_engine_count(), in the order they were given).  Returns 0, or
 * -ENOENT past the end.
 */
int sigma_corr_engine_rule_stats(const struct sigma_corr_engine *e, size_t i,
                                 struct sigma_corr_rule_stats *ret);

#endif
