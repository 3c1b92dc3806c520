/*
 * pipeline.h - the stage driver: record batches in, events decoded,
 * matched, stored; alerts out.
 *
 * The daemon runs one pipeline thread fed by the input queue; `scan` calls
 * pipeline_process() directly.  Decode, detect and store never log; this
 * driver counts what they report and logs (rate-limited) for them.
 *
 * Durability: in the daemon, each group of batches is one store transaction
 * that also saves the file inputs' positions, so a restart neither loses
 * nor repeats a line that was committed.
 */
#ifndef HIKESHI_PIPELINE_PIPELINE_H
#define HIKESHI_PIPELINE_PIPELINE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

struct alert;
struct asset_inv;
struct config;
struct decoder;
struct queue;
struct rec_batch;
struct store;
struct anomaly_stats;
struct sigma_corr_stats;
struct triage_incident;
struct triage_stats;

/* Counters of one input as the pipeline saw its records. */
struct pipeline_input_stats {
    _Atomic uint64_t records;   /* records processed */
    _Atomic uint64_t bytes;     /* their bytes */
    _Atomic uint64_t decoded;   /* understood by some decoder */
    _Atomic uint64_t unparsed;  /* understood by none: stored raw */
    _Atomic uint64_t malformed; /* a decoder recognised the format but failed */
    _Atomic uint64_t truncated; /* records that arrived truncated */
    _Atomic uint64_t alerts;    /* alerts raised on its events */
    _Atomic uint64_t silent;    /* gauge: its senders silent past their interval now */
    _Atomic int64_t last_us;    /* receive time of its latest record; 0: none yet */
};

/* One watched sender of an input, as the health answer shows it. */
struct pipeline_source {
    uint8_t family;   /* 0 (the input itself: a file, stdin), 4 or 6 */
    uint8_t addr[16];
    uint8_t learned;  /* 1: every_us is learned from its traffic */
    uint8_t silent;   /* silent past every_us and reported */
    int64_t last_us;  /* its latest record's receive time */
    int64_t every_us; /* expected interval; 0 while it is still learning */
};

struct pipeline_stats {
    _Atomic uint64_t batches;
    _Atomic uint64_t commits;
    _Atomic uint64_t stored;         /* events written to the store */
    _Atomic uint64_t store_errors;   /* failed writes or commits */
    _Atomic uint64_t fields_dropped; /* fields lost to caps */
    _Atomic uint64_t alerts;
    /* After detection, published by the pipeline thread after each batch
     * (the stages' own counters are not thread-safe). */
    _Atomic uint64_t triage_alerts;      /* alerts into triage */
    _Atomic uint64_t triage_suppressed;  /* silenced by a suppression */
    _Atomic uint64_t triage_aggregated;  /* aggregated alerts created */
    _Atomic uint64_t triage_incidents;   /* incidents opened */
    _Atomic uint64_t triage_risk_opened; /* of them: opened by an entity's risk */
    _Atomic uint64_t triage_risk_only;   /* alerts that joined no incident: risk only */
    _Atomic uint64_t triage_evicted;     /* alerts, entities, incidents evicted at caps */
    _Atomic uint64_t corr_groups;        /* correlation groups live */
    _Atomic uint64_t corr_bytes;         /* bytes of correlation state */
    _Atomic uint64_t corr_evicted_age;   /* groups whose window ended */
    _Atomic uint64_t corr_evicted_cap;   /* groups dropped at the memory cap */
    _Atomic uint64_t corr_evicted_cap_single; /* of them: one-off groups */
    _Atomic uint64_t corr_evicted_cap_far;  /* far from their threshold */
    _Atomic uint64_t corr_evicted_cap_mid;  /* half-way or more */
    _Atomic uint64_t corr_evicted_cap_near; /* one event from firing, mid-sequence */
    _Atomic uint64_t corr_max_bytes;        /* the correlation memory cap now */
    _Atomic uint64_t corr_late;          /* events too late for their window */
    _Atomic uint64_t corr_hits;          /* correlation hits */
    _Atomic uint64_t anomaly_entries;    /* baselines tracked */
    _Atomic uint64_t anomaly_bytes;      /* bytes of baseline state */
    _Atomic uint64_t anomaly_evicted;    /* baselines dropped at the memory cap */
    _Atomic uint64_t anomaly_alerts;     /* anomalies raised */
    /* Records whose id the store already held (delivered again by the
     * stream, docs/scale.md): not processed a second time. */
    _Atomic uint64_t duplicates;
};

/* Called for each alert, before the event is reset (scan prints them).
 * Correlation hits and anomalies come with a->ev NULL. */
typedef void (*pipeline_alert_cb)(void *arg, const struct alert *a);
/* Called when triage opens (changed == 0) or changes an incident. */
typedef void (*pipeline_incident_cb)(void *arg, const struct triage_incident *inc,
                                     unsigned changed);

struct pipeline;

/*
 * Creates a pipeline for configuration `c` (its inputs, rules and zone are
 * copied; `c` need not outlive it).  `st` (may be NULL: nothing stored) and
 * `alerts_out` (may be NULL) are not owned.  NULL on failure, which it has
 * logged: out of memory, an unknown decoder, Sigma rules, mappings or
 * triage options that do not load.
 */
struct pipeline *pipeline_new(const struct config *c, struct store *st, FILE *alerts_out);
/* Frees; the thread must have been joined.  NULL is a no-op. */
void pipeline_free(struct pipeline *p);

/* Adds an input not in the configuration (scan: one per command line);
 * returns its id, or -ENOMEM / -EINVAL (unknown decoder name). */
int pipeline_add_input(struct pipeline *p, const char *name, const char *decoder);
/* Sets the callback for alerts. */
void pipeline_set_alert_cb(struct pipeline *p, pipeline_alert_cb cb, void *arg);
/* Sets whether events are stored (alerts always are, when there is a store). */
void pipeline_set_store_events(struct pipeline *p, int on);
struct intel_matcher;
/* Replaces the enrich step's indicators by `m` (the pipeline owns it from
 * now on; NULL: none), for indicators read from another store than the
 * pipeline's (hikeshi scan without --store).  Before the first record. */
void pipeline_set_intel(struct pipeline *p, struct intel_matcher *m);
/* The record ids (docs/scale.md) of the next pipeline_process call's
 * records, one per record in batch order (borrowed until that call
 * returns; NULL: none).  A record whose id the store already holds is
 * counted in stats.duplicates and not processed again; its rule alerts are
 * keyed by id and rule.  The analyser sets them before each batch. */
void pipeline_set_record_ids(struct pipeline *p, const char *const *ids);
/* Disables detection (decode-only benchmarks). */
void pipeline_set_detect(struct pipeline *p, int on);
/* Reference time for year inference; 0 means each record's receive time. */
void pipeline_set_ref_time(struct pipeline *p, int64_t ref_us);

/*
 * Takes the rules, decoders and zone of a new configuration (SIGHUP).  The
 * inputs keep running; an input of `c` with a known name gets its new
 * decoder.  Returns 0, -ENOENT when sigma.rules names paths where no rule
 * loads, or -ENOMEM (then the old settings stay).
 */
int pipeline_reload(struct pipeline *p, const struct config *c);
/* Reloads only the indicators (a feed fetched by URL was imported): the
 * live ones of c->data_dir's store, through a connection of the calling
 * thread's own, scored with the intel.half_life and min_score of the last
 * pipeline_new or pipeline_reload (only c->data_dir is read); a store that
 * cannot be read keeps the running set.  0 or -ENOMEM.  Safe from any
 * thread. */
int pipeline_reload_intel(struct pipeline *p, const struct config *c);

/*
 * Processes one batch: decode, detect, store the events and alerts, write
 * alerts to alerts_out and the callback.  Does not begin or commit a
 * transaction (the caller does).  Returns 0, or a negative errno if the
 * store failed (the batch's counters are still updated).
 */
int pipeline_process(struct pipeline *p, const struct rec_batch *b);

/*
 * Commits the store transaction the caller began around pipeline_process
 * calls, saving the archive cursor `cursor` (the last batch's arch_end; 0:
 * none) in it when an archive is set, and counts the events it stored in
 * stats.stored only then.  A failed commit is rolled back, counted and
 * logged.  0 or -errno.
 */
int pipeline_commit(struct pipeline *p, uint64_t cursor);
struct parchive;
/* Sets the daemon's archive (pipeline_archive.h; not owned) whose cursor
 * each commit saves; set before pipeline_start. */
void pipeline_set_archive(struct pipeline *p, struct parchive *a);
/* The archive set, or NULL (health reads its state). */
const struct parchive *pipeline_archive(const struct pipeline *p);
/* Replays the archive's records after the committed cursor through the
 * pipeline before any input runs (parchive_replay with its process and
 * commit steps); `skip` as there.  0 when there is no archive or store,
 * else parchive_replay's result. */
int pipeline_replay_archive(struct pipeline *p, const unsigned char *skip);

/* Hold the pipeline against a reload (SIGHUP) while a thread other than
 * its own processes and commits batches (the analyser role,
 * cluster/cluster_sub.c, which runs no pipeline thread). */
void pipeline_lock(struct pipeline *p);
void pipeline_unlock(struct pipeline *p);

/* Starts the pipeline thread popping from `q`.  0 or -errno. */
int pipeline_start(struct pipeline *p, struct queue *q);
/* Tells the thread that no more batches will be pushed, then joins it once
 * the queue is drained.  The caller closes the queue after this flag is set;
 * pipeline_stop() does both, in that order. */
void pipeline_stop(struct pipeline *p, struct queue *q);

const struct pipeline_stats *pipeline_stats(const struct pipeline *p);
/* The asset inventory triage uses (read-only, loaded at start and never
 * changed, so other threads may read it); NULL without triage. */
const struct asset_inv *pipeline_assets(const struct pipeline *p);
/* Reports what triage changed and forgets expired windows now (scan calls
 * it at the end, the daemon at stop; batches do it every 10 s of event
 * time).  Not while the pipeline thread runs. */
void pipeline_flush(struct pipeline *p);
void pipeline_set_incident_cb(struct pipeline *p, pipeline_incident_cb cb, void *arg);
struct respond;
/* Offers alerts and incidents to the response engine `r` (NULL: off); set
 * before pipeline_start.  0 or -ENOMEM. */
int pipeline_set_respond(struct pipeline *p, struct respond *r);
/* Saves the anomaly baselines to the store now (the thread does every few
 * minutes; call after pipeline_stop).  0 or a negative errno. */
int pipeline_save_state(struct pipeline *p);
/* The funnel and the state behind it; any pointer may be NULL. */
void pipeline_triage_stats(const struct pipeline *p, struct triage_stats *ret_triage,
                           struct anomaly_stats *ret_anomaly, struct sigma_corr_stats *ret_corr);
/* Sigma rules loaded now (after the last reload). */
size_t pipeline_rules_loaded(const struct pipeline *p);
struct sigma_corr_rule_stats;
/* The i-th correlation's figures (sigma_corr_engine_rule_stats()): 0, or
 * -ENOENT past the last one.  Call from the pipeline's thread or after
 * pipeline_stop (scan). */
int pipeline_corr_rule_stats(const struct pipeline *p, size_t i, struct sigma_corr_rule_stats *ret);
struct detect_sigma_rule_info;
/* Calls fn on each rule loaded now (detect_sigma_each_rule), holding the
 * pipeline's lock so that a reload cannot swap the rules meanwhile: the
 * pipeline waits for the walk, so fn must be quick (copy, do not block).
 * Any thread. */
int pipeline_rules_each(struct pipeline *p,
                        int (*fn)(void *ctx, const struct detect_sigma_rule_info *r), void *ctx);
/* Counters of input `id`, or NULL. */
const struct pipeline_input_stats *pipeline_input_stats(const struct pipeline *p, uint32_t id);
const char *pipeline_input_name(const struct pipeline *p, uint32_t id);
uint32_t pipeline_input_count(const struct pipeline *p);
/* How input `id`'s senders are watched for silence: its configured
 * expect_every (us, > 0), PIPELINE_EXPECT_LEARNED, or 0 when not watched. */
#define PIPELINE_EXPECT_LEARNED (-1)
int64_t pipeline_input_expect(const struct pipeline *p, uint32_t id);
/* Up to `max` watched senders of input `id` (silent ones first, then the
 * most recently heard) as of the last look for silent ones, about once a
 * second; returns how many it watches in all.  Any thread. */
size_t pipeline_input_sources(struct pipeline *p, uint32_t id, struct pipeline_source *ret,
                              size_t max);
/* Saves the counters to the store (under "pipeline.*" and "input.NAME.*"):
 * totals over every run, since pipeline_start() loads the saved ones. */
int pipeline_save_counters(struct pipeline *p);

#endif
