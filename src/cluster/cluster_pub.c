/*
 * cluster_pub.c - the collector role's publisher (cluster.h): archived
 * records to the stream, acked by the stream before the cursor moves.
 *
 * One thread.  It pops the input queue (each batch already appended to the
 * archive by the queue's push hook) only to free it: what it publishes it
 * reads back from the archive, from its cursor, so that one path serves
 * the live records, the ones NATS was down for, and the ones a restart
 * left unpublished.  A round publishes up to nats.inflight records
 * asynchronously and waits for every ack; only then does the cursor move
 * (and is saved in the store).  A round that fails (no server, a full
 * stream, a lost ack) is published again from the cursor: the stream drops
 * the repeats by their message id, and the analysers' store by record id.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/archive.h"
#include "cluster/cluster.h"
#include "cluster/cluster_nats.h"
#include "cluster/cluster_rec.h"
#include "conf/config.h"
#include "decode/decode.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "input/record.h"
#include "pipeline/pipeline_archive.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/log.h"
#include "util/queue.h"

/* The store counter holding the cursor: records before it were acked. */
#define CLUSTER_PUB_CURSOR "nats.published"
/* How long a round waits for its acks, and the longest pause between
 * attempts while NATS cannot take records. */
#define PUB_ACK_WAIT_MS 10000
#define PUB_BACKOFF_MAX_MS 2000
/* What a record takes in the stream beyond its bytes, at most: subject,
 * the headers (record id, metadata, input name) and the server's framing;
 * for keeping a round within the stream's byte limit. */
#define PUB_RECORD_OVERHEAD 512
/* While behind, a progress line at most this often. */
#define PUB_LOG_EVERY_US (10 * 1000000LL)

struct pub_input {
    const char *name; /* the configuration's (borrowed) */
    size_t len;
    int key;                       /* enum config_nats_key */
    const struct decoder *decoder; /* for the host key; NULL: auto */
};

struct cluster_pub {
    const struct config *cfg;
    const struct config_nats *nc;
    struct queue *q;
    struct parchive *arch;
    struct store *st;
    char archive_dir[4096];
    char node[CONFIG_NATS_NAME_MAX + 1];
    struct cluster_hash hash;
    struct pub_input *inputs;
    size_t ninputs;

    natsConnection *conn;
    jsCtx *js;
    int stream_ok;
    atomic_int pub_errors; /* publishes the library reported failed (its thread) */
    atomic_int pub_full;   /* of which the stream refused as over its limits */
    char last_err[256];    /* the latest such failure (its thread, under elock) */
    pthread_mutex_t elock;

    pthread_t thread;
    int started;
    atomic_int stopping;
    struct cluster_pub_stats stats;

    /* for the host key: one event decoded at a time */
    struct arena arena;
    struct event ev;
    struct log_ratelimit rl;
    int64_t behind_since_us; /* 0: not failing */
    int64_t last_log_us;
    unsigned backoff_ms;
};

static void on_pub_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    struct cluster_pub *p = closure;

    (void)js;
    atomic_fetch_add(&p->pub_errors, 1);
    /* a stream with discard new at its limits answers "maximum messages
     * exceeded" or "maximum bytes exceeded" */
    if (pae->ErrText && strstr(pae->ErrText, "maximum") && strstr(pae->ErrText, "exceeded"))
        atomic_fetch_add(&p->pub_full, 1);
    pthread_mutex_lock(&p->elock);
    snprintf(p->last_err, sizeof(p->last_err), "%s",
             pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
    pthread_mutex_unlock(&p->elock);
}

/* The entity a record is partitioned by, in ent[] (its length returned):
 * the host name its input's decoder reads (key host), else the sender's
 * family and address, else the input's name. */
static size_t record_entity(struct cluster_pub *p, const struct archive_record *rec,
                            const struct pub_input *in, unsigned char *ent, size_t entmax)
{
    size_t n;

    if (in && in->key == CONFIG_NATS_KEY_HOST) {
        struct decode_ctx ctx = {.ref_us = rec->recv_us};
        struct parse_err perr;
        const char *h;
        size_t hl = 0;

        event_init(&p->ev, &p->arena, (const char *)rec->raw, rec->raw_len, rec->recv_us);
        if (decode_record(&p->ev, in->decoder, &ctx, &perr) == 0 &&
            (h = event_get(&p->ev, FIELD_HOST_NAME, &hl)) != NULL && hl > 0) {
            n = hl < entmax - 1 ? hl : entmax - 1;
            ent[0] = 'h';
            memcpy(ent + 1, h, n);
            event_reset(&p->ev);
            return n + 1;
        }
        event_reset(&p->ev);
    }
    if (rec->peer_family == 4 || rec->peer_family == 6) {
        ent[0] = rec->peer_family;
        memcpy(ent + 1, rec->peer_addr, 16);
        return 17;
    }
    n = rec->input_len < entmax - 1 ? rec->input_len : entmax - 1;
    ent[0] = 'i';
    memcpy(ent + 1, rec->input, n);
    return n + 1;
}

static const struct pub_input *input_of(const struct cluster_pub *p,
                                        const struct archive_record *rec)
{
    for (size_t i = 0; i < p->ninputs; i++)
        if (p->inputs[i].len == rec->input_len &&
            memcmp(p->inputs[i].name, rec->input, rec->input_len) == 0)
            return &p->inputs[i];
    return NULL;
}

/* Publishes one record asynchronously.  0 or -EIO. */
static int publish_one(struct cluster_pub *p, const struct archive_record *rec, uint64_t no)
{
    const struct pub_input *in = input_of(p, rec);
    unsigned char ent[1 + 256];
    char subj[256], id[CLUSTER_REC_ID_MAX + 1], meta[CLUSTER_META_MAX], iname[256];
    struct cluster_meta m = {
        .recv_us = rec->recv_us,
        .flags = rec->flags & (RECORD_TRUNCATED | RECORD_TRUSTED),
        .peer_family = rec->peer_family,
        .peer_port = rec->peer_port,
    };
    jsPubOptions po;
    natsMsg *msg = NULL;
    natsStatus s;
    uint32_t part;
    size_t il = rec->input_len < sizeof(iname) - 1 ? rec->input_len : sizeof(iname) - 1;

    memcpy(m.peer_addr, rec->peer_addr, sizeof(m.peer_addr));
    part = cluster_partition(&p->hash, ent, record_entity(p, rec, in, ent, sizeof(ent)),
                             p->nc->partitions);
    snprintf(subj, sizeof(subj), "%s.%" PRIu32, p->nc->subject, part);
    snprintf(id, sizeof(id), "%s:%" PRIu64, p->node, no);
    cluster_meta_format(&m, meta);
    memcpy(iname, rec->input, il);
    iname[il] = '\0';
    s = natsMsg_Create(&msg, subj, NULL, (const char *)rec->raw, (int)rec->raw_len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, CLUSTER_HDR_META, meta);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, CLUSTER_HDR_INPUT, il ? iname : "-");
    if (s == NATS_OK) {
        jsPubOptions_Init(&po);
        po.MsgId = id;
        s = js_PublishMsgAsync(p->js, &msg, &po);
    }
    natsMsg_Destroy(msg); /* NULL once the library took it */
    return s == NATS_OK ? 0 : -EIO;
}

/* Saves the cursor in the store (its own transaction). */
static void save_cursor(struct cluster_pub *p, uint64_t cursor)
{
    if (store_begin(p->st) < 0 || store_counter_set(p->st, CLUSTER_PUB_CURSOR, cursor) < 0 ||
        store_commit(p->st) < 0) {
        store_rollback(p->st);
        log_warnx("nats: saving the published cursor (%" PRIu64 ") in the store: %s; a restart "
                  "publishes again from the last saved one (the stream drops the repeats)",
                  cursor, store_errmsg(p->st));
    }
}

/* A round failed: counted, logged (rate-limited, with the backlog), and
 * the next attempt put off. */
static void round_failed(struct cluster_pub *p, const char *why, uint64_t end)
{
    int64_t now = time_now_us();
    uint64_t cursor = atomic_load(&p->stats.cursor);
    unsigned long supp;

    atomic_fetch_add(&p->stats.failures, 1);
    if (!p->behind_since_us)
        p->behind_since_us = now;
    if (log_ratelimit_ok(&p->rl, &supp))
        log_warnx("nats: records %" PRIu64 "..%" PRIu64 " not acked by stream %s: %s; they wait "
                  "in the archive (backlog %" PRIu64 " records, for %.0f s)%s",
                  cursor, end ? end - 1 : 0, p->nc->stream, why, end - cursor,
                  (double)(now - p->behind_since_us) / 1e6,
                  supp ? " (earlier messages suppressed)" : "");
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : 100;
    if (p->backoff_ms > PUB_BACKOFF_MAX_MS)
        p->backoff_ms = PUB_BACKOFF_MAX_MS;
}

/* The stream is at its limits: a back-pressure event, counted and logged
 * as a failed round. */
static void stream_full(struct cluster_pub *p, uint64_t end)
{
    char why[160];

    atomic_fetch_add(&p->stats.backpressure, 1);
    snprintf(why, sizeof(why),
             "the stream is full at its limits (nats.max_msgs, max_bytes): "
             "the analysers are behind");
    round_failed(p, why, end);
}

/*
 * One round: records [cursor, min(end, cursor + inflight)) read from the
 * archive, as many as the stream has room for, published, and all their
 * acks awaited.  Returns 1 when it moved the cursor, 0 when there was
 * nothing to do, -1 when it failed.
 */
static int publish_round(struct cluster_pub *p, uint64_t end)
{
    uint64_t cursor = atomic_load(&p->stats.cursor), last = cursor, n = 0;
    uint64_t stop = end - cursor > p->nc->inflight ? cursor + p->nc->inflight : end;
    uint64_t room_msgs = 0, room_bytes = 0;
    struct archive_reader *rd = NULL;
    struct archive_record rec;
    jsPubOptions po;
    char why[384];
    natsStatus s;
    int r;

    if (cursor >= end)
        return 0;
    /* never past the stream's limits: the server may lose records there
     * (cluster_nats_room) */
    if (cluster_nats_room(p->js, p->nc, &room_msgs, &room_bytes, why, sizeof(why)) < 0) {
        round_failed(p, why, end);
        return -1;
    }
    if (room_msgs == 0 || room_bytes < PUB_RECORD_OVERHEAD) {
        stream_full(p, end);
        return -1;
    }
    if (stop - cursor > room_msgs)
        stop = cursor + room_msgs;
    if ((r = archive_reader_open(p->archive_dir, INT64_MIN, INT64_MAX, &rd)) < 0) {
        snprintf(why, sizeof(why), "reading the archive: %s", strerror(-r));
        round_failed(p, why, end);
        return -1;
    }
    archive_reader_from_record(rd, cursor);
    atomic_store(&p->pub_errors, 0);
    atomic_store(&p->pub_full, 0);
    while (last < stop && (r = archive_reader_next(rd, &rec)) == 1) {
        uint64_t no = archive_reader_record_no(rd);

        if (no >= stop)
            break;
        if (rec.raw_len + PUB_RECORD_OVERHEAD > room_bytes) {
            if (n == 0) {
                archive_reader_free(rd);
                stream_full(p, end);
                return -1;
            }
            break; /* the rest waits for the next round */
        }
        room_bytes -= rec.raw_len + PUB_RECORD_OVERHEAD;
        if (no > last) {
            /* a block the reader could not read: its records are lost to
             * the stream, and said so */
            log_warnx("nats: archive records %" PRIu64 "..%" PRIu64 " unreadable (a damaged "
                      "block: hikeshi archive verify); not published",
                      last, no - 1);
            atomic_fetch_add(&p->stats.unreadable, no - last);
        }
        if (publish_one(p, &rec, no) < 0) {
            r = -EIO;
            break;
        }
        last = no + 1;
        n++;
    }
    archive_reader_free(rd);
    jsPubOptions_Init(&po);
    po.MaxWait = PUB_ACK_WAIT_MS;
    s = js_PublishAsyncComplete(p->js, &po);
    if (r < 0 || s != NATS_OK || atomic_load(&p->pub_errors) > 0) {
        natsMsgList pending = {0};

        /* the library forgets what it still waits for: it is resent */
        if (js_PublishAsyncGetPendingList(&pending, p->js) == NATS_OK)
            natsMsgList_Destroy(&pending);
        pthread_mutex_lock(&p->elock);
        snprintf(why, sizeof(why), "%s",
                 atomic_load(&p->pub_errors) ? p->last_err
                 : s != NATS_OK              ? natsStatus_GetText(s)
                 : r == -EIO                 ? "publishing failed"
                                             : strerror(-r));
        pthread_mutex_unlock(&p->elock);
        if (atomic_load(&p->pub_full) > 0) {
            size_t wl = strlen(why);

            atomic_fetch_add(&p->stats.backpressure, 1);
            snprintf(why + wl, sizeof(why) - wl, " (the stream is full: the analysers are behind)");
        }
        round_failed(p, why, end);
        return -1;
    }
    if (last == cursor)
        return 0;
    atomic_store(&p->stats.cursor, last);
    atomic_fetch_add(&p->stats.published, n);
    atomic_store(&p->stats.backlog, end > last ? end - last : 0);
    save_cursor(p, last);
    parchive_committed(p->arch, last); /* retention may remove what is published */
    if (p->behind_since_us) {
        log_info("nats: stream %s takes records again after %.1f s; catching up from record "
                 "%" PRIu64 " (backlog %" PRIu64 ")",
                 p->nc->stream, (double)(time_now_us() - p->behind_since_us) / 1e6, cursor,
                 end - cursor);
        p->behind_since_us = 0;
    }
    p->backoff_ms = 0;
    return 1;
}

/* Connected and the stream ready: 1; else 0 (and why, logged rate-limited). */
static int ready(struct cluster_pub *p, uint64_t end)
{
    char why[300];

    if (!natsConnection_IsClosed(p->conn) &&
        natsConnection_Status(p->conn) == NATS_CONN_STATUS_CONNECTED)
        atomic_store(&p->stats.connected, 1);
    else
        atomic_store(&p->stats.connected, 0);
    if (!atomic_load(&p->stats.connected)) {
        if (end > atomic_load(&p->stats.cursor))
            round_failed(p, "no NATS server connected", end);
        return 0;
    }
    if (!p->stream_ok) {
        if (cluster_nats_stream(p->js, p->nc, why, sizeof(why)) < 0) {
            round_failed(p, why, end);
            return 0;
        }
        p->stream_ok = 1;
        log_info("nats: stream %s on %s.* (%" PRIu32 " partitions, %" PRIu32 " replicas)",
                 p->nc->stream, p->nc->subject, p->nc->partitions, p->nc->replicas);
    }
    return 1;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void *pub_main(void *arg)
{
    struct cluster_pub *p = arg;
    int64_t drain_until = 0;

    for (;;) {
        struct rec_batch *b;
        uint64_t end = 0;
        int popped = 0, moved = 0;

        /* the inputs' batches: archived by the push hook, freed here */
        while ((b = queue_pop(p->q, popped ? 0 : 50)) != NULL) {
            if (b->nrec && !b->arch_end)
                log_warnx("nats: %" PRIu32 " records of a batch were not archived (the "
                          "archive failed, see above) and cannot be published",
                          b->nrec);
            rec_batch_free(b);
            if (++popped >= 64)
                break;
        }
        parchive_tick(p->arch, time_now_us());
        if (parchive_flush(p->arch, &end) == 0) {
            uint64_t c = atomic_load(&p->stats.cursor);

            atomic_store(&p->stats.backlog, end > c ? end - c : 0);
            if (end > c && ready(p, end)) {
                int r = publish_round(p, end);

                moved = r > 0;
                if (r < 0 && p->backoff_ms)
                    sleep_ms(p->backoff_ms);
            } else if (end > c && p->backoff_ms) {
                sleep_ms(p->backoff_ms);
            }
        }
        if (atomic_load(&p->stopping)) {
            /* the inputs stopped and the queue is closed: publish what
             * is left for a few seconds, then leave the rest to the next
             * start */
            if (!drain_until)
                drain_until = time_now_us() + 5000000;
            if (atomic_load(&p->stats.backlog) == 0 || time_now_us() > drain_until)
                break;
        }
        (void)moved;
    }
    return NULL;
}

int cluster_pub_start(const struct config *c, struct queue *q, struct parchive *a, struct store *st,
                      struct cluster_pub **ret)
{
    struct cluster_pub *p = calloc(1, sizeof(*p));
    struct parchive_state as;
    jsOptions jo;
    uint64_t cursor;
    char who[128];
    int r;

    *ret = NULL;
    if (!p)
        return -ENOMEM;
    pthread_mutex_init(&p->elock, NULL);
    p->cfg = c;
    p->nc = &c->nats;
    p->q = q;
    p->arch = a;
    p->st = st;
    p->rl = (struct log_ratelimit){.interval_s = 10, .burst = 3};
    arena_init(&p->arena, 0);
    snprintf(p->archive_dir, sizeof(p->archive_dir), "%s/archive", c->data_dir);
    cluster_nats_node(p->nc, p->node, sizeof(p->node));
    cluster_hash_init(&p->hash, p->nc->stream);
    if (!(p->inputs = calloc(c->ninputs + 1, sizeof(*p->inputs)))) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < c->ninputs; i++) {
        struct pub_input *in = &p->inputs[i];

        in->name = c->inputs[i].name;
        in->len = strlen(in->name);
        in->key = config_nats_key_of(p->nc, in->name);
        in->decoder = c->inputs[i].decoder && strcmp(c->inputs[i].decoder, "auto") != 0
                          ? decode_lookup(c->inputs[i].decoder)
                          : NULL;
    }
    p->ninputs = c->ninputs;
    /* where publishing resumes: the saved cursor, else the archive's end */
    parchive_state(a, &as);
    if ((r = store_counter_get(st, CLUSTER_PUB_CURSOR, &cursor)) == -ENOENT) {
        cursor = as.records;
        log_info("nats: no published cursor in the store yet: publishing starts at archive "
                 "record %" PRIu64,
                 cursor);
        save_cursor(p, cursor);
    } else if (r < 0) {
        log_error("nats: reading the published cursor: %s", store_errmsg(st));
        goto fail;
    } else if (cursor > as.records) {
        log_warnx("nats: the published cursor (%" PRIu64 ") is past the archive's end (%" PRIu64
                  "): records were lost from the archive; publishing from its end",
                  cursor, as.records);
        cursor = as.records;
        save_cursor(p, cursor);
    } else {
        log_info("nats: publishing from archive record %" PRIu64 " (%" PRIu64 " waiting)", cursor,
                 as.records - cursor);
    }
    atomic_store(&p->stats.cursor, cursor);
    parchive_committed(a, cursor);
    snprintf(who, sizeof(who), "hikeshi collector %s", p->node);
    if ((r = cluster_nats_connect(p->nc, who, &p->stats.connected, &p->conn)) < 0)
        goto fail;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = p->nc->inflight;
    jo.PublishAsync.ErrHandler = on_pub_err;
    jo.PublishAsync.ErrHandlerClosure = p;
    if (natsConnection_JetStream(&p->js, p->conn, &jo) != NATS_OK) {
        log_error("nats: JetStream context: %s", nats_GetLastError(NULL));
        r = -EIO;
        goto fail;
    }
    if ((r = pthread_create(&p->thread, NULL, pub_main, p)) != 0) {
        r = -r;
        goto fail;
    }
    p->started = 1;
    log_info("nats: collector %s publishes to stream %s, %" PRIu32 " partitions of %s", p->node,
             p->nc->stream, p->nc->partitions, p->nc->subject);
    *ret = p;
    return 0;
fail:
    jsCtx_Destroy(p->js);
    cluster_nats_close(p->conn, &p->stats.connected);
    arena_done(&p->arena);
    free(p->inputs);
    pthread_mutex_destroy(&p->elock);
    free(p);
    return r;
}

void cluster_pub_stop(struct cluster_pub *p)
{
    if (!p)
        return;
    atomic_store(&p->stopping, 1);
    if (p->started)
        pthread_join(p->thread, NULL);
    log_info("nats: collector stopped: %" PRIu64 " records published, %" PRIu64
             " left in the archive for the next start",
             atomic_load(&p->stats.published), atomic_load(&p->stats.backlog));
    jsCtx_Destroy(p->js);
    cluster_nats_close(p->conn, &p->stats.connected);
    arena_done(&p->arena);
    free(p->inputs);
    pthread_mutex_destroy(&p->elock);
    free(p);
}

const struct cluster_pub_stats *cluster_pub_stats(const struct cluster_pub *p)
{
    return &p->stats;
}
