/*
 * pipeline_archive.h - the daemon's archive stage: every batch an input
 * hands over is appended to DATA_DIR/archive/ as it enters the queue,
 * before any processing, and the pipeline's cursor into the archive is
 * committed in the store with what processing that record stored (issue 17,
 * "the log is the queue").
 *
 * The queue hook appends a batch under the queue's lock, so the archive's
 * order is the order the pipeline pops batches in: a batch's arch_end (the
 * records in the archive once it was appended) is the cursor after it.  At
 * start, records after the committed cursor are replayed through the
 * pipeline before any input runs: each record is processed at least once,
 * and since the cursor commits with the alerts and events a record made,
 * a replayed record does not store them twice.
 */
#ifndef HIKESHI_PIPELINE_PIPELINE_ARCHIVE_H
#define HIKESHI_PIPELINE_PIPELINE_ARCHIVE_H

#include <stdint.h>

#include "archive/archive.h"
#include "archive/archive_retention.h"

struct pwitness;
struct rec_batch;
struct store;

/* The name of the store counter holding the committed cursor. */
#define PARCHIVE_CURSOR "archive.cursor"

struct parchive_opts {
    const char *dir;                /* DATA_DIR/archive (copied) */
    uint64_t sync_ms;               /* fdatasync at least this often; 0: every batch */
    struct archive_writer_opts wo;  /* block, segment and seal sizes */
    struct archive_key *key;        /* borrowed, may be NULL: no seals */
    const char *const *input_names; /* per input id (copied) */
    uint32_t ninputs;
    /* archive.retention: applied by parchive_tick every retention_every_us
     * (max_age_us and max_bytes 0: never). */
    struct archive_retention retention;
    int64_t retention_every_us;
    /* archive.witness: each seal sent to these (pipeline_witness.h), the
     * exporter's state under witness_state_dir.  nwitness 0: none. */
    const struct config_witness *witness;
    size_t nwitness;
    const char *witness_state_dir;
};

/* What /api/v1/health shows of the archive. */
struct parchive_state {
    uint64_t records;  /* records in the archive (synced or not) */
    uint64_t synced;   /* of them, fdatasynced */
    uint64_t appended; /* appended since start */
    uint64_t errors;   /* appends, flushes or syncs that failed */
    uint64_t cursor;   /* the pipeline's committed cursor */
    uint64_t replayed; /* records replayed at start */
    uint64_t dropped;  /* records cut with a torn tail at start */
    uint64_t dropped_bytes;
    int64_t last_sync_us; /* 0: never */
    uint64_t sync_ms;     /* the policy; 0: every record */
    int sealed;           /* 1: a key seals it */
};

struct parchive;

/*
 * Opens the archive for appending (archive_writer_open) and logs what it
 * found: records kept, and a torn tail cut (the bytes and records a crash
 * lost, which the sync policy allowed).  Returns 0, or -errno (logged).
 */
int parchive_open(const struct parchive_opts *o, struct parchive **ret);
/* Seals (with a key), syncs and frees; logs a failure.  NULL is a no-op.
 * Call after the inputs and the pipeline stopped. */
void parchive_close(struct parchive *a);

/* The queue hook (queue_set_push_hook, ctx the parchive): appends the
 * batch's records, sets its arch_end, and syncs as the policy says.  A
 * failure is counted and logged and the batch goes on unarchived. */
void parchive_push_hook(void *ctx, void *item);

/*
 * Before the pipeline commits: writes the open block out (so the archive
 * holds every record up to `cursor` for as long as the process's data
 * survives; fdatasync comes with the policy) and saves `cursor` in the
 * store's open transaction.  0, or -errno (the cursor is then not saved).
 */
int parchive_save_cursor(struct parchive *a, struct store *st, uint64_t cursor);
/* Writes the open block out, so that an archive reader sees every record
 * appended so far, and gives their count in *ret_records.  The collector
 * role (cluster/cluster_pub.c) calls it before it reads what it publishes.
 * 0 or -errno (counted and logged). */
int parchive_flush(struct parchive *a, uint64_t *ret_records);
/* The transaction holding `cursor` committed. */
void parchive_committed(struct parchive *a, uint64_t cursor);
/* Syncs records older than the policy and seals by time; the pipeline
 * calls it when idle and between commits. */
void parchive_tick(struct parchive *a, int64_t now_us);

/*
 * Brings the pipeline up to the archive's end before any input runs:
 * reads the committed cursor (none: the archive's end; past the end: the
 * loss is logged and the cursor moved back), then processes every record
 * after it through `sink`, committing the cursor as it goes.  Records of
 * inputs in `skip` (per input id, may be NULL: file inputs, which re-read
 * them from their own saved offset) or no longer configured are passed
 * over.  0, or -errno (logged).  The pipeline calls it
 * (pipeline_replay_archive) with its own process and commit steps, so this
 * stage stays below pipeline.c and never calls into it.
 */
struct parchive_sink {
    /* processes a batch of replayed records in the open transaction */
    int (*process)(void *arg, const struct rec_batch *b);
    /* commits the open transaction with the cursor after it */
    int (*commit)(void *arg, uint64_t cursor);
    void *arg;
};
int parchive_replay(struct parchive *a, struct store *st, const unsigned char *skip,
                    const struct parchive_sink *sink);

void parchive_state(const struct parchive *a, struct parchive_state *ret);
/* The seal exporter (pipeline_witness.h), NULL when no witness is set. */
struct pwitness *parchive_witness(const struct parchive *a);

#endif
