/*
 * respond.h - the response engine: what hikeshi does on its own about an
 * alert or incident, what it asks a person first, and what it refuses.
 *
 * The pipeline offers a trigger per triaged alert (and per incident whose
 * type changes); respond_offer() copies it into a bounded queue and never
 * blocks, so a slow firewall or webhook can never hold up the pipeline.
 * Two threads do the rest:
 *
 *  - the decider owns the policy state (rate bucket, active blocks, repeat
 *    offenders) and the firewall helper: it decides each trigger
 *    (respond_decide), blocks at once when told to, and records every
 *    decision but "no rule matches" in the store (table responses): done,
 *    dry_run, refused (the same refusal of the same address is recorded
 *    once a minute), pending (the approval queue; repeats of a pending
 *    request are counted on its row).  Once a second it takes up what
 *    analysts did through the API: approved rows are decided again with
 *    `approved` set, and lift requests remove blocks early.
 *  - the notifier runs the slow actions (webhook with its retries, mail
 *    through sendmail, exec) one after the other and writes their outcome
 *    on the row.
 *
 * Every action, automatic or approved, and every dry-run decision goes to
 * the audit trail with its cause (alert, rule, incident), and to the
 * incident's timeline when there is one.  A failure is recorded on the row
 * and logged; nothing here stops the pipeline.
 */
#ifndef HIKESHI_RESPOND_RESPOND_H
#define HIKESHI_RESPOND_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#include "respond/respond_policy.h"

struct audit;
struct respond;

/* Triggers waiting for the decider; more are dropped and counted. */
#define RESPOND_QUEUE_MAX 4096

struct respond_opts {
    const char *policy_path; /* the policy file (rules/config/respond.yaml by default) */
    const char *data_dir;    /* the store: the engine opens its own connections */
    struct audit *audit;     /* borrowed, may be NULL; audit_append serialises writers */
    /* The peers that send us logs (inputs[].peers of network inputs), as
     * addresses or CIDR text: never blocked, by the policy nor the helper.
     * Borrowed for respond_new only; may be NULL. */
    const char *const *log_peers;
    size_t nlog_peers;
};

/* Where a trigger came from, recorded with its decision. */
struct respond_cause {
    int64_t agg_id;      /* the aggregated alert (store id); 0 none */
    int64_t incident_id; /* 0 none */
    int64_t recv_us;     /* wall clock the newest record behind it arrived; 0 unknown */
};

/*
 * Loads the policy, computes the never-block list (this host's addresses,
 * gateways and resolvers read now, the management networks, the allowlist,
 * o->log_peers) and, when it is not a dry run and some rule blocks,
 * starts the firewall helper (respond_fw_start: fork, so call this before
 * any thread is started); reads the webhook secret.  Returns 0 and an
 * engine; -EINVAL (bad policy, secret too short...) or the helper's error,
 * with one sentence in errbuf naming the file and line where there is one.
 */
int respond_new(const struct respond_opts *o, struct respond **ret, char *errbuf, size_t errlen);
/* Opens the engine's store connections and starts its two threads.  0 or
 * a negative errno with a sentence in errbuf. */
int respond_start(struct respond *r, char *errbuf, size_t errlen);
/* Stops the threads (the decider finishes the queue; the notifier the job
 * it runs, then drops the rest, logged), the helper, and frees.  The
 * blocks already in the kernel stay until they expire.  NULL is a no-op. */
void respond_free(struct respond *r);

/* The policy in force (borrowed). */
const struct respond_policy *respond_policy_of(const struct respond *r);

/*
 * Queues `t` (strings copied; those longer than the engine keeps are cut
 * and the address refused as bad) with its cause.  A trigger no policy
 * rule could match is counted as "none" at once and not queued.  Any
 * thread; never blocks: a full queue drops the trigger and counts it.
 * NULL r: no-op.
 */
void respond_offer(struct respond *r, const struct respond_trigger *t,
                   const struct respond_cause *c);

struct respond_stats {
    uint64_t offered, dropped;                /* triggers queued / dropped when full */
    uint64_t none, act, ask, refused;         /* decisions */
    uint64_t dry_run;                         /* of act, logged only */
    uint64_t blocks, block_failures, lifted;  /* firewall */
    uint64_t notified, notify_failures;       /* webhook, mail, exec runs */
    uint64_t approved;                        /* approved requests taken up */
    /* Record arrival to the block in the kernel set: median and 99th
     * percentile over the last RESPOND_LAT_WINDOW blocks, count and sum
     * (a Prometheus summary's) over all of them, µs. */
    uint64_t lat_n;
    int64_t lat_p50_us, lat_p99_us, lat_sum_us;
};
#define RESPOND_LAT_WINDOW 4096
/* A snapshot; any thread. */
void respond_get_stats(struct respond *r, struct respond_stats *ret);

#endif
