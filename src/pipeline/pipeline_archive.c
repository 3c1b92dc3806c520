/*
 * pipeline_archive.c - the daemon's archive stage: records appended on
 * receipt through the queue's push hook, synced by policy, the pipeline's
 * cursor saved with its commits, and the replay of what a crash left
 * unprocessed.  See pipeline_archive.h for the order it keeps.
 */
#include "pipeline/pipeline_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/time.h"
#include "input/record.h"
#include "pipeline/pipeline_witness.h"
#include "store/store.h"
#include "util/log.h"

/* Records replayed per store transaction, as the pipeline commits. */
#define PARCHIVE_REPLAY_COMMIT 8192
/* Bytes of records per replay batch. */
#define PARCHIVE_REPLAY_BATCH (256 * 1024)

struct parchive {
    pthread_mutex_t lock; /* held around every call into the writer */
    struct archive_writer *w;
    char *dir;
    /* DATA_DIR/archive.running: made at open, removed by a clean close, so
     * the next start knows whether the last run crashed (owned). */
    char *running;
    char **names; /* input name per id (owned) */
    size_t *name_lens;
    uint32_t ninputs;
    int64_t sync_us;      /* 0: sync every batch */
    uint64_t synced_recs; /* records in the archive at the last sync (lock) */
    int sealed;
    struct log_ratelimit rl;
    /* Read by other threads (health). */
    _Atomic uint64_t records, synced, appended, errors, cursor, replayed;
    _Atomic int64_t last_sync_us;
    uint64_t dropped, dropped_bytes;
    /* Retention, run by the pipeline thread's tick (never an input's):
     * the lock above is taken only to sign each tombstone. */
    struct archive_retention rt;
    struct archive_key *key; /* borrowed, may be NULL */
    int64_t prune_every_us, next_prune_us;
    _Atomic uint64_t pruned_segments;
    struct pwitness *witness;            /* archive.witness; NULL: none */
    char kept_by[256];                   /* the input the last prune kept a segment for, or "" */
    struct archive_retention_input *rin; /* rt.inputs, owned */
    char **rin_names;                    /* their names, owned */
};

static void parchive_free(struct parchive *a)
{
    if (!a)
        return;
    for (uint32_t i = 0; a->names && i < a->ninputs; i++)
        free(a->names[i]);
    free(a->names);
    free(a->name_lens);
    free(a->dir);
    free(a->running);
    for (size_t i = 0; a->rin_names && i < a->rt.ninputs; i++)
        free(a->rin_names[i]);
    free(a->rin_names);
    free(a->rin);
    archive_input_cache_free(a->rt.cache);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* Says what opening found: what the archive holds and what a torn tail
 * cost, in the words the crash test and an administrator look for. */
static void report_open(const struct parchive *a, const struct archive_open_report *rep)
{
    if (rep->dropped_bytes || rep->dropped_unknown)
        log_warnx("archive %s: a torn tail was cut at restart from %s: %" PRIu64 " bytes, %" PRIu64
                  "%s records dropped (written but not synced before the "
                  "crash: at most what archive.sync allows)",
                  a->dir, rep->segment, rep->dropped_bytes, rep->dropped_records,
                  rep->dropped_unknown ? " or more (a frame header was torn)" : "");
    else
        log_info("archive %s: %" PRIu64 " records, no torn tail (0 records dropped)", a->dir,
                 rep->records);
    if (rep->seal_gap)
        log_warnx("archive %s: the key is %" PRIu64 " epochs past the archive's last seal: "
                  "seals were lost, and archive verify will say so",
                  a->dir, rep->seal_gap);
}

int parchive_open(const struct parchive_opts *o, struct parchive **ret)
{
    struct archive_open_report rep;
    struct parchive *a = calloc(1, sizeof(*a));
    int r, fd, unclean;

    if (!a)
        return -ENOMEM;
    pthread_mutex_init(&a->lock, NULL);
    a->rl = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    a->sync_us = (int64_t)o->sync_ms * 1000;
    a->sealed = o->key != NULL;
    a->key = o->key;
    a->rt = o->retention;
    a->rt.key_lock = &a->lock;
    /* Per-input retention: copied (the configuration may go at a reload),
     * with the closed segments' per-input figures kept between prunes. */
    a->rt.inputs = NULL;
    a->rt.ninputs = 0;
    a->rt.cache = NULL;
    if (o->retention.ninputs) {
        a->rin = calloc(o->retention.ninputs, sizeof(*a->rin));
        a->rin_names = calloc(o->retention.ninputs, sizeof(*a->rin_names));
        a->rt.cache = archive_input_cache_new();
        if (!a->rin || !a->rin_names || !a->rt.cache) {
            r = -ENOMEM;
            goto fail;
        }
        a->rt.inputs = a->rin;
        for (size_t i = 0; i < o->retention.ninputs; i++, a->rt.ninputs++) {
            a->rin[i] = o->retention.inputs[i];
            if (!(a->rin_names[i] = strdup(o->retention.inputs[i].name))) {
                r = -ENOMEM;
                goto fail;
            }
            a->rin[i].name = a->rin_names[i];
        }
    }
    a->prune_every_us = o->retention_every_us > 0 ? o->retention_every_us : 600000000;
    a->ninputs = o->ninputs;
    a->dir = strdup(o->dir);
    a->names = calloc(o->ninputs + 1, sizeof(*a->names));
    a->name_lens = calloc(o->ninputs + 1, sizeof(*a->name_lens));
    if (!a->dir || !a->names || !a->name_lens) {
        r = -ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < o->ninputs; i++) {
        const char *n = o->input_names[i] ? o->input_names[i] : "";

        a->name_lens[i] = strlen(n);
        if (a->name_lens[i] > ARCHIVE_INPUT_NAME_MAX)
            a->name_lens[i] = ARCHIVE_INPUT_NAME_MAX;
        if (!(a->names[i] = strndup(n, a->name_lens[i]))) {
            r = -ENOMEM;
            goto fail;
        }
    }
    if (asprintf(&a->running, "%s.running", o->dir) < 0) {
        a->running = NULL;
        r = -ENOMEM;
        goto fail;
    }
    unclean = access(a->running, F_OK) == 0;
    r = archive_writer_open(o->dir, &o->wo, o->key, &a->w, &rep);
    if (r < 0) {
        log_error("archive %s: %s%s", o->dir, strerror(-r),
                  r == -EBADMSG ? ": damaged before its end; run hikeshi archive verify" : "");
        goto fail;
    }
    report_open(a, &rep);
    if (unclean && o->sync_ms)
        log_warnx("archive %s: the last run ended without closing the archive (a crash, kill "
                  "-9): records it received in its last %" PRIu64 " ms (archive.sync) may be "
                  "missing beyond the torn tail above; none of them was committed as processed",
                  a->dir, o->sync_ms);
    else if (unclean)
        log_warnx("archive %s: the last run ended without closing the archive (a crash, kill "
                  "-9); with archive.sync every record, every record it queued had been synced",
                  a->dir);
    if ((fd = open(a->running, O_WRONLY | O_CREAT | O_CLOEXEC, 0640)) >= 0)
        close(fd);
    else
        log_warn("archive: %s (the next start cannot tell a crash from a clean stop)", a->running);
    a->dropped = rep.dropped_records;
    a->dropped_bytes = rep.dropped_bytes;
    a->synced_recs = rep.records;
    atomic_store(&a->records, rep.records);
    atomic_store(&a->synced, rep.records);
    if (o->nwitness && !o->key)
        log_warnx("archive %s: archive.witness is set but the archive has no key "
                  "(archive.key): there are no seals to send",
                  a->dir);
    if (o->nwitness && (r = pwitness_start(o->dir, o->witness_state_dir, o->witness, o->nwitness,
                                           &a->witness)) < 0) {
        archive_writer_close(a->w);
        a->w = NULL;
        unlink(a->running);
        goto fail;
    }
    *ret = a;
    return 0;
fail:
    parchive_free(a);
    return r;
}

void parchive_close(struct parchive *a)
{
    int r;

    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    r = archive_writer_close(a->w);
    a->w = NULL;
    pthread_mutex_unlock(&a->lock);
    if (r < 0)
        log_error("archive %s: closing: %s (the last records may not be on disk)", a->dir,
                  strerror(-r));
    else if (unlink(a->running) < 0 && errno != ENOENT)
        log_warn("archive: removing %s", a->running);
    pwitness_stop(a->witness); /* after the last seal, which it sends */
    parchive_free(a);
}

/* Counts and logs (rate-limited) a failed append, flush or sync. */
static void report_error(struct parchive *a, int r, const char *what)
{
    unsigned long supp;

    atomic_fetch_add_explicit(&a->errors, 1, memory_order_relaxed);
    if (log_ratelimit_ok(&a->rl, &supp))
        log_warnx("archive %s: %s failed: %s%s", a->dir, what, strerror(-r),
                  supp ? " (earlier messages suppressed)" : "");
}

/* Syncs the writer; the lock is held. */
static void sync_locked(struct parchive *a, int64_t now)
{
    uint64_t n = archive_writer_records(a->w);
    int r = archive_writer_sync(a->w);

    if (r < 0) {
        report_error(a, r, "sync");
        return;
    }
    a->synced_recs = n;
    atomic_store(&a->synced, n);
    atomic_store(&a->last_sync_us, now);
}

void parchive_push_hook(void *ctx, void *item)
{
    struct parchive *a = ctx;
    struct rec_batch *b = item;
    int ok = 1;

    b->arch_end = 0;
    if (b->nrec == 0)
        return;
    pthread_mutex_lock(&a->lock);
    for (const struct record *rec = rec_batch_first(b); rec; rec = rec_batch_next(b, rec)) {
        struct archive_record ar = {
            .recv_us = rec->recv_us,
            .flags = rec->flags,
            .peer_family = rec->peer_family == 4 || rec->peer_family == 6 ? rec->peer_family : 0,
            .peer_port = rec->peer_port,
            .input = b->input_id < a->ninputs ? a->names[b->input_id] : "",
            .input_len = b->input_id < a->ninputs ? a->name_lens[b->input_id] : 0,
            .raw = (const uint8_t *)rec->data,
            .raw_len = rec->len > ARCHIVE_RECORD_MAX ? ARCHIVE_RECORD_MAX : rec->len,
        };
        int r;

        memcpy(ar.peer_addr, rec->peer_addr, sizeof(ar.peer_addr));
        if ((r = archive_writer_append(a->w, &ar)) < 0) {
            report_error(a, r, "appending a record");
            ok = 0;
            break;
        }
        atomic_fetch_add_explicit(&a->appended, 1, memory_order_relaxed);
    }
    if (ok) {
        int64_t now = time_now_us();

        b->arch_end = archive_writer_records(a->w);
        if (a->sync_us == 0 || now - atomic_load(&a->last_sync_us) >= a->sync_us)
            sync_locked(a, now);
    }
    atomic_store(&a->records, archive_writer_records(a->w));
    pthread_mutex_unlock(&a->lock);
}

int parchive_save_cursor(struct parchive *a, struct store *st, uint64_t cursor)
{
    int r;

    pthread_mutex_lock(&a->lock);
    r = archive_writer_flush(a->w);
    pthread_mutex_unlock(&a->lock);
    if (r < 0) {
        report_error(a, r, "writing the open block before a commit");
        return r;
    }
    return store_counter_set(st, PARCHIVE_CURSOR, cursor);
}

int parchive_flush(struct parchive *a, uint64_t *ret_records)
{
    int r;

    pthread_mutex_lock(&a->lock);
    r = archive_writer_flush(a->w);
    *ret_records = archive_writer_records(a->w);
    pthread_mutex_unlock(&a->lock);
    if (r < 0)
        report_error(a, r, "writing the open block for the collector");
    return r;
}

void parchive_committed(struct parchive *a, uint64_t cursor)
{
    if (cursor > atomic_load(&a->cursor))
        atomic_store(&a->cursor, cursor);
}

/* Applies retention when its interval has passed since the last run.
 * Only closed segments wholly behind the committed cursor go, so nothing
 * the pipeline has yet to read disappears under it. */
static void prune_tick(struct parchive *a, int64_t now)
{
    struct archive_prune_report rep;
    int r;

    if ((!a->rt.max_age_us && !a->rt.max_bytes && !a->rt.ninputs) || now < a->next_prune_us)
        return;
    a->next_prune_us = now + a->prune_every_us;
    r = archive_prune(a->dir, &a->rt, a->key, atomic_load(&a->cursor), now, 0, &rep);
    if (r < 0) {
        log_warnx("archive %s: retention: %s%s", a->dir, strerror(-r),
                  r == -EBADMSG  ? " (a damaged segment, or one missing without a tombstone: "
                                   "run hikeshi archive verify)"
                  : r == -ENOKEY ? " (a sealed archive needs archive.key to prune)"
                                 : "");
        return;
    }
    /* Said once each time the input holding retention back changes. */
    if (rep.kept_for_input && strcmp(a->kept_by, rep.kept_input) != 0)
        log_info("archive %s: retention keeps segments for input %s's retention "
                 "(archive.retention.inputs); others' records in them stay as long",
                 a->dir, rep.kept_input);
    snprintf(a->kept_by, sizeof(a->kept_by), "%s", rep.kept_for_input ? rep.kept_input : "");
    if (rep.segments) {
        atomic_fetch_add(&a->pruned_segments, rep.segments);
        log_info("archive %s: retention removed %" PRIu64 " segments from %s (%" PRIu64
                 " bytes, records %" PRIu64 "-%" PRIu64 "), each left a tombstone",
                 a->dir, rep.segments, rep.first_removed, rep.bytes, rep.first_record,
                 rep.last_record);
    }
}

void parchive_tick(struct parchive *a, int64_t now)
{
    int r;

    pthread_mutex_lock(&a->lock);
    if (archive_writer_records(a->w) > a->synced_recs && a->sync_us > 0 &&
        now - atomic_load(&a->last_sync_us) >= a->sync_us)
        sync_locked(a, now);
    if ((r = archive_writer_tick(a->w, now)) < 0)
        report_error(a, r, "sealing");
    pthread_mutex_unlock(&a->lock);
    prune_tick(a, now);
}

/* Saves `cursor` in a transaction of its own.  0 or -errno (logged). */
static int save_cursor_now(struct parchive *a, struct store *st, uint64_t cursor)
{
    int r;

    if ((r = store_begin(st)) < 0 || (r = store_counter_set(st, PARCHIVE_CURSOR, cursor)) < 0 ||
        (r = store_commit(st)) < 0) {
        log_error("archive: saving the cursor in the store: %s", store_errmsg(st));
        store_rollback(st);
        return r;
    }
    atomic_store(&a->cursor, cursor);
    return 0;
}

/* The committed cursor, made sound against the archive's end `end`. */
static int replay_cursor(struct parchive *a, struct store *st, uint64_t end, uint64_t *ret)
{
    uint64_t c;
    int r = store_counter_get(st, PARCHIVE_CURSOR, &c);

    if (r == -ENOENT) {
        /* A store that never had an archive: what the archive already
         * holds was processed by whoever wrote it, or never will be. */
        log_info("archive %s: no cursor in the store yet: processing starts at record %" PRIu64,
                 a->dir, end);
        *ret = end;
        return save_cursor_now(a, st, end);
    }
    if (r < 0) {
        log_error("archive: reading the cursor from the store: %s", store_errmsg(st));
        return r;
    }
    if (c > end) {
        log_warnx("archive %s: the store's cursor (record %" PRIu64 ") is past the archive's "
                  "end (%" PRIu64 " records): %" PRIu64 " processed records were lost from the "
                  "archive (a power cut inside the archive.sync interval, or a replaced archive)",
                  a->dir, c, end, c - end);
        *ret = end;
        return save_cursor_now(a, st, end);
    }
    *ret = c;
    atomic_store(&a->cursor, c);
    return 0;
}

/* The input id of an archived record's input name, or -1. */
static int64_t input_of(const struct parchive *a, const struct archive_record *rec)
{
    for (uint32_t i = 0; i < a->ninputs; i++)
        if (a->name_lens[i] == rec->input_len &&
            memcmp(a->names[i], rec->input, rec->input_len) == 0)
            return i;
    return -1;
}

struct replay {
    struct parchive *a;
    const struct parchive_sink *sink;
    struct store *st;
    struct rec_batch *b; /* the batch being filled, or NULL */
    uint64_t in_txn;     /* records processed in the open transaction */
    int txn;             /* 1: a transaction is open */
    uint64_t done, skipped, errors;
};

/* Processes the batch being filled (its arch_end is the cursor after it),
 * committing when the transaction holds enough. */
static int replay_batch(struct replay *rp, int commit)
{
    int r;

    if (rp->b) {
        if (!rp->txn) {
            if ((r = store_begin(rp->st)) < 0)
                return r;
            rp->txn = 1;
        }
        if (rp->sink->process(rp->sink->arg, rp->b) < 0)
            rp->errors++;
        rp->in_txn += rp->b->nrec;
        rp->done += rp->b->nrec;
    }
    if (rp->txn && (commit || rp->in_txn >= PARCHIVE_REPLAY_COMMIT)) {
        uint64_t cursor = rp->b ? rp->b->arch_end : 0;

        rp->txn = 0;
        rp->in_txn = 0;
        if ((r = rp->sink->commit(rp->sink->arg, cursor)) < 0)
            return r;
    }
    rec_batch_free(rp->b);
    rp->b = NULL;
    return 0;
}

/* Adds record `no` to the batch, processing the one before when the input
 * changes or it is full. */
static int replay_add(struct replay *rp, uint32_t id, const struct archive_record *rec, uint64_t no)
{
    struct record *r;
    int e;

    if (rp->b && rp->b->input_id != id && (e = replay_batch(rp, 0)) < 0)
        return e;
    for (int tries = 0; tries < 2; tries++) {
        if (!rp->b && !(rp->b = rec_batch_new(id, PARCHIVE_REPLAY_BATCH)))
            return -ENOMEM;
        if ((r = rec_batch_add(rp->b, (const char *)rec->raw, rec->raw_len, rec->recv_us,
                               rec->flags)) != NULL) {
            r->peer_family = rec->peer_family;
            memcpy(r->peer_addr, rec->peer_addr, sizeof(r->peer_addr));
            r->peer_port = rec->peer_port;
            rp->b->arch_end = no + 1;
            return 0;
        }
        if ((e = replay_batch(rp, 0)) < 0)
            return e;
    }
    return -ENOMEM;
}

int parchive_replay(struct parchive *a, struct store *st, const unsigned char *skip,
                    const struct parchive_sink *sink)
{
    struct replay rp = {.a = a, .sink = sink, .st = st};
    struct archive_reader *rd = NULL;
    struct archive_record rec;
    uint64_t end = atomic_load(&a->records), from;
    int64_t t0 = time_now_us();
    int r;

    if ((r = replay_cursor(a, st, end, &from)) < 0)
        return r;
    if (from == end) {
        log_info("archive %s: the pipeline's cursor is at the archive's end (record %" PRIu64
                 "): nothing to replay",
                 a->dir, end);
        return 0;
    }
    if ((r = archive_reader_open(a->dir, INT64_MIN, INT64_MAX, &rd)) < 0) {
        log_error("archive %s: reading it to replay: %s", a->dir, strerror(-r));
        return r;
    }
    archive_reader_from_record(rd, from);
    while ((r = archive_reader_next(rd, &rec)) == 1) {
        uint64_t no = archive_reader_record_no(rd);
        int64_t id;

        if (no >= end)
            break;
        id = input_of(a, &rec);
        if (id < 0 || (skip && skip[id])) {
            rp.skipped++;
            continue;
        }
        if ((r = replay_add(&rp, (uint32_t)id, &rec, no)) < 0)
            break;
    }
    if (r == 0) {
        /* Records passed over after the last batch (or in a corrupt block
         * the reader skipped) are behind the cursor too: it ends at the
         * archive's end. */
        if (rp.b) {
            rp.b->arch_end = end;
            r = replay_batch(&rp, 1);
        } else {
            if (!rp.txn)
                r = store_begin(st);
            rp.txn = 0;
            if (r == 0)
                r = sink->commit(sink->arg, end);
        }
    } else {
        rec_batch_free(rp.b);
        if (rp.txn)
            store_rollback(st);
    }
    archive_reader_free(rd);
    if (r < 0) {
        log_error("archive %s: replay stopped after %" PRIu64 " records: %s", a->dir, rp.done,
                  strerror(-r));
        return r;
    }
    atomic_store(&a->replayed, rp.done);
    log_info("archive %s: replayed %" PRIu64 " records after the committed cursor (records %" PRIu64
             " to %" PRIu64 ") in %.1f s; %" PRIu64 " passed over (file inputs re-read their "
             "files, or inputs no longer configured)%s",
             a->dir, rp.done, from, end, (double)(time_now_us() - t0) / 1e6, rp.skipped,
             rp.errors ? "; some failed to store" : "");
    return 0;
}

void parchive_state(const struct parchive *a, struct parchive_state *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (!a)
        return;
    ret->records = atomic_load(&a->records);
    ret->synced = atomic_load(&a->synced);
    ret->appended = atomic_load(&a->appended);
    ret->errors = atomic_load(&a->errors);
    ret->cursor = atomic_load(&a->cursor);
    ret->replayed = atomic_load(&a->replayed);
    ret->dropped = a->dropped;
    ret->dropped_bytes = a->dropped_bytes;
    ret->last_sync_us = atomic_load(&a->last_sync_us);
    ret->sync_ms = (uint64_t)(a->sync_us / 1000);
    ret->sealed = a->sealed;
}

struct pwitness *parchive_witness(const struct parchive *a)
{
    return a ? a->witness : NULL;
}
