/*
 * detect_sigma.h - the Sigma detector the pipeline runs: the rules loaded
 * from files and directories, the log-source routing and field map, and the
 * compiled rule set, behind one call per event.
 */
#ifndef HIKESHI_DETECT_DETECT_SIGMA_H
#define HIKESHI_DETECT_DETECT_SIGMA_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct sigma_rule;
struct sigma_corr_hit;
struct sigma_corr_stats;
struct sigma_corr_opts;

struct detect_sigma;

/* Called for each rule file that is refused or unroutable, with a message
 * of the form "FILE:LINE:COL: reason" or "FILE: unroutable (...)". */
typedef void (*detect_sigma_report_fn)(void *arg, const char *msg);

/*
 * Loads every `*.yml` rule under `paths[0..npaths)` (files, or directories
 * recursively) and the map from `map_dir` (logsources.yaml, fields.yaml).
 * A file may hold several YAML documents: detection rules, correlation
 * rules (sigma_corr.h), whose references are resolved by id or name across
 * all files, and filter rules (sigma.h), applied to the rules they name.  A rule that is refused, or whose log source the map does not
 * know, and a correlation whose references do not resolve, are reported
 * and left out; the others load.  `corr_opts` caps the correlation state
 * and sets the late tolerance (NULL: the defaults).  Returns 0, or a negative errno
 * with a message in errbuf when the map cannot be loaded or the rule set
 * cannot be compiled.
 */
int detect_sigma_new(const char *const *paths, size_t npaths, const char *map_dir,
                     const struct sigma_corr_opts *corr_opts,
                     detect_sigma_report_fn report, void *arg, struct detect_sigma **ret,
                     char *errbuf, size_t errlen);
/* Frees.  NULL is a no-op.  Must precede field_done(). */
void detect_sigma_free(struct detect_sigma *d);

/*
 * Adds the mapped field names to `ev`, then, for each rule whose log source
 * the event belongs to and which matches it: feeds the match (at
 * ev->time_us, with the mapped names visible) into the correlations that
 * reference the rule, which may call the correlation callback; then calls
 * cb, unless the rule is referenced by correlations none of which says
 * `generate: true`.  While cb runs, the event shows only its own fields
 * (the aliases are hidden), so what cb writes out is the decoded event.
 * Returns how many times cb was called.
 */
size_t detect_sigma_match(struct detect_sigma *d, struct event *ev,
                          void (*cb)(void *arg, const struct sigma_rule *r), void *arg);

/* Called for each correlation hit; the hit is valid during the call only. */
typedef void (*detect_sigma_corr_fn)(void *arg, const struct sigma_corr_hit *hit);
/* Sets (or with NULL clears) the correlation callback of `d`. */
void detect_sigma_set_corr_cb(struct detect_sigma *d, detect_sigma_corr_fn cb, void *arg);
/* Correlation rules loaded (references resolved), and left out. */
size_t detect_sigma_correlations(const struct detect_sigma *d);
size_t detect_sigma_corr_refused(const struct detect_sigma *d);
/* Counters of the correlation engine (all zero without correlations). */
void detect_sigma_corr_stats(const struct detect_sigma *d, struct sigma_corr_stats *ret);
struct sigma_corr_rule_stats;
/* The i-th correlation's figures (sigma_corr_engine_rule_stats()): 0, or
 * -ENOENT past the last one (at once without correlations). */
int detect_sigma_corr_rule_stats(const struct detect_sigma *d, size_t i,
                                 struct sigma_corr_rule_stats *ret);

/* Rules loaded, refused, and left out as unroutable. */
size_t detect_sigma_loaded(const struct detect_sigma *d);

/* What the rule list of the API shows of one loaded rule; borrowed from
 * the rule, valid only during the callback.  Any string may be NULL. */
struct detect_sigma_rule_info {
    const char *id, *name, *title, *level, *status, *file;
    int correlation; /* 0 a detection rule, 1 a correlation rule */
    const char *const *tags;
    size_t ntags;
};
/* Calls fn for each loaded detection rule, then each correlation rule, in
 * load order; stops at fn's first non-zero return and returns it. */
int detect_sigma_each_rule(const struct detect_sigma *d,
                           int (*fn)(void *ctx, const struct detect_sigma_rule_info *r),
                           void *ctx);
size_t detect_sigma_refused(const struct detect_sigma *d);
size_t detect_sigma_unroutable(const struct detect_sigma *d);
/* Filter rules loaded, and the matches they removed so far. */
size_t detect_sigma_filters(const struct detect_sigma *d);
uint64_t detect_sigma_filtered(const struct detect_sigma *d);

#endif
