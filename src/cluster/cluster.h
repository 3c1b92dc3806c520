/*
 * cluster.h - scale-out over NATS JetStream (issue 23, docs/scale.md).
 *
 * One binary, roles chosen by the configuration (role:).  A collector runs
 * the inputs and the archive as the all-in-one daemon does, then publishes
 * every archived record, with its receive metadata, to the stream subject
 * SUBJECT.PARTITION, the partition a keyed hash of the record's entity (the
 * sender's address, or its host name).  A record counts as delivered only
 * once the stream acked it: the collector's cursor into its archive moves
 * then, so while NATS is down or the stream is full the records wait in the
 * archive and are published from the cursor when it can take them again.
 *
 * An analyser owns partitions through leases in a JetStream key-value
 * bucket and pulls each owned partition's durable consumer: decode, detect,
 * correlate, triage and store through the pipeline, then acks once the
 * store committed.  A record the stream delivers twice is stored once (its
 * record id, NAME:NUMBER of the collector's archive, is a unique key in the
 * store).  A dead analyser's leases expire within the ack wait and the
 * others take its partitions, with the records it had not acked.
 */
#ifndef HIKESHI_CLUSTER_CLUSTER_H
#define HIKESHI_CLUSTER_CLUSTER_H

#include <stdatomic.h>
#include <stdint.h>

struct config;
struct config_nats;
struct parchive;
struct pipeline;
struct queue;
struct store;

/* What a collector did, read by any thread. */
struct cluster_pub_stats {
    _Atomic uint64_t published;  /* records the stream acked */
    _Atomic uint64_t cursor;     /* archive records up to here are acked */
    _Atomic uint64_t backlog;    /* archive records not yet acked */
    _Atomic uint64_t failures;   /* rounds whose publishes were not all acked */
    _Atomic uint64_t unreadable; /* archive records skipped as unreadable */
    /* rounds the stream refused because its limits (nats.max_bytes,
     * max_msgs) were reached: the analysers are behind (back-pressure) */
    _Atomic uint64_t backpressure;
    _Atomic int connected; /* 1: connected to a NATS server */
};

struct cluster_pub;

/*
 * Starts the collector's publisher thread: it pops the input queue `q`
 * (whose push hook has appended each batch to archive `a`), and publishes
 * the archive's records after the cursor saved in `st` (none yet: the
 * archive's end) to the stream of c->nats, which it creates when missing.
 * `c`, `q`, `a` and `st` must outlive it; `st` is used by its thread only.
 * A NATS that does not answer is not an error: the thread keeps trying and
 * the records wait.  0 or -errno (logged).
 */
int cluster_pub_start(const struct config *c, struct queue *q, struct parchive *a, struct store *st,
                      struct cluster_pub **ret);
/* After the inputs stopped: drains the queue, publishes what it can within
 * a few seconds, saves the cursor, stops and frees.  NULL is a no-op. */
void cluster_pub_stop(struct cluster_pub *p);
const struct cluster_pub_stats *cluster_pub_stats(const struct cluster_pub *p);

/* What an analyser did. */
struct cluster_sub_stats {
    _Atomic uint64_t received;    /* records fetched */
    _Atomic uint64_t acked;       /* records acked after their commit */
    _Atomic uint64_t rejected;    /* messages with bad metadata, terminated */
    _Atomic uint64_t redelivered; /* records delivered more than once */
    _Atomic uint32_t owned;       /* partitions owned now */
    _Atomic int connected;
    /* per partition (`partitions` of them): the records its consumer still
     * holds for delivery after this node's last fetch from it (the lag),
     * or -1 when this node does not own it */
    uint32_t partitions;
    _Atomic int64_t *pending;
};

struct cluster_sub;

/*
 * Starts the analyser's thread: membership and partition leases in the
 * bucket STREAM_owners, one durable pull consumer per partition
 * (STREAM_pN), records through `pl` (not started: this thread processes
 * under pipeline_lock) into `st`.  0 or -errno (logged).
 */
int cluster_sub_start(const struct config *c, struct pipeline *pl, struct store *st,
                      struct cluster_sub **ret);
/* Stops fetching, acks what is committed, gives up its leases, frees.
 * NULL is a no-op. */
void cluster_sub_stop(struct cluster_sub *s);
const struct cluster_sub_stats *cluster_sub_stats(const struct cluster_sub *s);

/*
 * The secrets nats: names, as the connection will read them:
 * nkey_seed_file and credentials_file must be regular files that no one
 * but their owner may read or write (refused with the chmod to run);
 * the first holds one NKey user seed, the second a user JWT section and
 * a user seed section.  0, or -errno with the reason (naming the file) in
 * err.
 */
int cluster_nats_secrets_check(const struct config_nats *c, char *err, size_t errlen);

#endif
