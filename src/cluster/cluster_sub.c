/*
 * cluster_sub.c - the analyser role (cluster.h): partitions owned through
 * leases, records pulled from their durable consumers, processed and
 * committed by the pipeline, then acked.
 *
 * Ownership.  Every analyser keeps a member key m.NODE alive in the bucket
 * STREAM_owners, whose entries expire after half the ack wait.  Partition
 * N goes to the live member whose hash of (member, N) is highest
 * (rendezvous hashing: each member computes the same answer, and a member
 * leaving or joining moves only its own share).  The owner holds the lease
 * p.N, created only if absent and renewed by revision, so two analysers
 * never both believe they own N; a member that stops renewing (killed)
 * loses its leases when they expire, and the new owner's consumer gets the
 * records the dead one had not acked once their ack wait has passed.
 *
 * Delivery.  One thread: fetch from each owned partition, build batches
 * (one input each), process them in one store transaction under the
 * pipeline's lock, commit, and ack every record of the round only then.
 * A failed commit naks them (redelivered).  Records are processed at
 * least once; the store's unique record id makes the second time a no-op.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cluster/cluster.h"
#include "cluster/cluster_nats.h"
#include "cluster/cluster_rec.h"
#include "conf/config.h"
#include "event/time.h"
#include "input/record.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
#include "util/limits.h"
#include "util/log.h"

/* Bytes of records per batch handed to the pipeline. */
#define SUB_BATCH_BYTES (256 * 1024)
/* The longest a fetch of what a partition holds may take, and how long an
 * empty partition is left alone (the latency a new record may wait). */
#define SUB_FETCH_WAIT_MS 10
#define SUB_IDLE_POLL_US 50000
#define SUB_MEMBERS_MAX 256

struct sub_part {
    natsSubscription *sub; /* NULL: not owned */
    uint64_t rev;          /* the lease's revision */
    int64_t idle_until_us; /* found empty: not fetched from before this */
};

struct cluster_sub {
    const struct config *cfg;
    const struct config_nats *nc;
    struct pipeline *pl;
    struct store *st;
    char node[CONFIG_NATS_NAME_MAX + 1];
    uint32_t fallback_input; /* records of an input this node does not know */

    natsConnection *conn;
    jsCtx *js;
    kvStore *kv;
    int setup_ok; /* stream, consumers and bucket ready */
    struct sub_part *parts;
    int64_t lease_every_us, next_lease_us;

    pthread_t thread;
    int started;
    atomic_int stopping;
    struct cluster_sub_stats stats;
    struct log_ratelimit rl, rl_bad;
};

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- ownership ---- */

/* The rendezvous weight of `member` for partition `part`. */
static uint64_t weight(const char *member, uint32_t part)
{
    unsigned char in[CONFIG_NATS_NAME_MAX + 8], out[8];
    size_t n = strlen(member);
    uint64_t v = 0;

    if (n > CONFIG_NATS_NAME_MAX)
        n = CONFIG_NATS_NAME_MAX;
    memcpy(in, member, n);
    memcpy(in + n, &part, sizeof(part));
    crypto_generichash(out, sizeof(out), in, n + sizeof(part), NULL, 0);
    for (size_t i = 0; i < sizeof(out); i++)
        v = v << 8 | out[i];
    return v;
}

static void lease_key(char *out, size_t outlen, uint32_t part)
{
    snprintf(out, outlen, "p.%" PRIu32, part);
}

static void part_drop(struct cluster_sub *s, uint32_t i, int delete_lease, const char *why)
{
    char key[32];

    if (!s->parts[i].sub)
        return;
    natsSubscription_Unsubscribe(s->parts[i].sub);
    natsSubscription_Destroy(s->parts[i].sub);
    s->parts[i].sub = NULL;
    atomic_fetch_sub(&s->stats.owned, 1);
    atomic_store(&s->stats.pending[i], -1);
    if (delete_lease) {
        lease_key(key, sizeof(key), i);
        kvStore_Delete(s->kv, key);
    }
    log_info("nats: partition %" PRIu32 " released by %s: %s", i, s->node, why);
}

/* Binds to partition i's durable consumer. */
static int part_take(struct cluster_sub *s, uint32_t i, uint64_t rev)
{
    char subj[256], durable[128];
    jsSubOptions so;
    jsErrCode jerr = 0;

    snprintf(subj, sizeof(subj), "%s.%" PRIu32, s->nc->subject, i);
    snprintf(durable, sizeof(durable), "%s_p%" PRIu32, s->nc->stream, i);
    jsSubOptions_Init(&so);
    so.Stream = s->nc->stream;
    so.Consumer = durable;
    if (js_PullSubscribe(&s->parts[i].sub, s->js, subj, durable, NULL, &so, &jerr) != NATS_OK) {
        log_warnx("nats: binding to consumer %s: %s (JetStream error %d)", durable,
                  nats_GetLastError(NULL), (int)jerr);
        s->parts[i].sub = NULL;
        return -EIO;
    }
    s->parts[i].rev = rev;
    s->parts[i].idle_until_us = 0;
    atomic_store(&s->stats.pending[i], 0); /* until the first fetch says */
    atomic_fetch_add(&s->stats.owned, 1);
    log_info("nats: partition %" PRIu32 " owned by %s (consumer %s)", i, s->node, durable);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One round: renews this node's membership, reads who is alive, and takes,
 * keeps or gives up each partition as the rendezvous says.
 */
static void lease_round(struct cluster_sub *s)
{
    char mkey[CONFIG_NATS_NAME_MAX + 8], key[32];
    const char *members[SUB_MEMBERS_MAX];
    kvKeysList keys = {0};
    size_t nm = 0;
    int self_seen = 0;

    snprintf(mkey, sizeof(mkey), "m.%s", s->node);
    if (kvStore_PutString(NULL, s->kv, mkey, s->node) != NATS_OK) {
        unsigned long supp;

        if (log_ratelimit_ok(&s->rl, &supp))
            log_warnx("nats: renewing membership %s: %s", mkey, nats_GetLastError(NULL));
        /* The bucket is stored in memory: every server restarted (a lone
         * one, or all at once) lost it.  Set up again from the next turn:
         * the bucket is made anew, the stream and consumers found. */
        s->setup_ok = 0;
    }
    if (kvStore_Keys(&keys, s->kv, NULL) == NATS_OK) {
        for (int i = 0; i < keys.Count && nm < SUB_MEMBERS_MAX; i++) {
            if (strncmp(keys.Keys[i], "m.", 2) != 0 || !keys.Keys[i][2])
                continue;
            members[nm++] = keys.Keys[i] + 2;
            if (strcmp(keys.Keys[i] + 2, s->node) == 0)
                self_seen = 1;
        }
    }
    if (!self_seen && nm < SUB_MEMBERS_MAX)
        members[nm++] = s->node;
    qsort(members, nm, sizeof(members[0]), cmp_str);
    for (uint32_t p = 0; p < s->nc->partitions; p++) {
        const char *best = NULL;
        uint64_t bw = 0, rev = 0;

        for (size_t m = 0; m < nm; m++) {
            uint64_t w = weight(members[m], p);

            if (!best || w > bw) {
                best = members[m];
                bw = w;
            }
        }
        lease_key(key, sizeof(key), p);
        if (s->parts[p].sub) {
            if (strcmp(best, s->node) != 0) {
                part_drop(s, p, 1, "another analyser's share now");
            } else if (kvStore_UpdateString(&rev, s->kv, key, s->node, s->parts[p].rev) ==
                       NATS_OK) {
                s->parts[p].rev = rev;
            } else {
                part_drop(s, p, 0, "its lease expired or was taken (not renewed in time)");
            }
        } else if (strcmp(best, s->node) == 0 &&
                   kvStore_CreateString(&rev, s->kv, key, s->node) == NATS_OK) {
            if (part_take(s, p, rev) < 0)
                kvStore_Delete(s->kv, key);
        }
    }
    kvKeysList_Destroy(&keys);
}

/* ---- setup ---- */

static int setup(struct cluster_sub *s)
{
    char why[320], bucket[128];
    kvConfig kc;

    if (cluster_nats_stream(s->js, s->nc, why, sizeof(why)) < 0) {
        unsigned long supp;

        if (log_ratelimit_ok(&s->rl, &supp))
            log_warnx("nats: stream %s: %s; retrying", s->nc->stream, why);
        return -EIO;
    }
    for (uint32_t i = 0; i < s->nc->partitions; i++) {
        char durable[128], subj[256];
        jsConsumerConfig cc;
        jsConsumerInfo *ci = NULL;
        jsErrCode jerr = 0;

        snprintf(durable, sizeof(durable), "%s_p%" PRIu32, s->nc->stream, i);
        snprintf(subj, sizeof(subj), "%s.%" PRIu32, s->nc->subject, i);
        jsConsumerConfig_Init(&cc);
        cc.Durable = durable;
        cc.FilterSubject = subj;
        cc.AckPolicy = js_AckExplicit;
        cc.DeliverPolicy = js_DeliverAll;
        cc.AckWait = s->nc->ack_wait_us * 1000;
        cc.MaxAckPending = (int64_t)s->nc->fetch * 4;
        cc.MaxDeliver = -1;
        if (js_AddConsumer(&ci, s->js, s->nc->stream, &cc, NULL, &jerr) != NATS_OK) {
            /* an existing one keeps its settings: bound all the same */
            jsConsumerInfo_Destroy(ci);
            ci = NULL;
            if (js_GetConsumerInfo(&ci, s->js, s->nc->stream, durable, NULL, &jerr) != NATS_OK) {
                log_warnx("nats: consumer %s: %s (JetStream error %d)", durable,
                          nats_GetLastError(NULL), (int)jerr);
                return -EIO;
            }
        }
        jsConsumerInfo_Destroy(ci);
    }
    snprintf(bucket, sizeof(bucket), "%s_owners", s->nc->stream);
    kvStore_Destroy(s->kv); /* set up again: the server may have lost it */
    s->kv = NULL;
    if (js_KeyValue(&s->kv, s->js, bucket) != NATS_OK) {
        kvConfig_Init(&kc);
        kc.Bucket = bucket;
        kc.History = 1;
        kc.TTL = s->nc->ack_wait_us * 1000 / 2;
        kc.Replicas = (int)s->nc->replicas;
        kc.StorageType = js_MemoryStorage;
        if (js_CreateKeyValue(&s->kv, s->js, &kc) != NATS_OK &&
            js_KeyValue(&s->kv, s->js, bucket) != NATS_OK) {
            log_warnx("nats: leases bucket %s: %s", bucket, nats_GetLastError(NULL));
            return -EIO;
        }
    }
    log_info("nats: analyser %s on stream %s: %" PRIu32 " partitions, leases in %s (expire "
             "after %lld ms)",
             s->node, s->nc->stream, s->nc->partitions, bucket,
             (long long)(s->nc->ack_wait_us / 2000));
    return 0;
}

/* ---- records ---- */

/* The pipeline input of a record's input name. */
static uint32_t input_id(const struct cluster_sub *s, const char *name)
{
    for (size_t i = 0; i < s->cfg->ninputs; i++)
        if (strcmp(s->cfg->inputs[i].name, name) == 0)
            return (uint32_t)i;
    return s->fallback_input;
}

/* Counts, logs (rate-limited, quoted) and terminates a message whose
 * metadata is bad: the stream never delivers it again. */
static void reject(struct cluster_sub *s, natsMsg *m, const char *what, const char *why)
{
    unsigned long supp;

    atomic_fetch_add(&s->stats.rejected, 1);
    if (log_ratelimit_ok(&s->rl_bad, &supp)) {
        char q[120];
        const char *subj = natsMsg_GetSubject(m);

        log_warnx("nats: message on %s rejected: %s: %s%s",
                  log_quote(q, sizeof(q), subj ? subj : "", subj ? strlen(subj) : 0), what, why,
                  supp ? " (earlier messages suppressed)" : "");
    }
    natsMsg_Term(m, NULL);
}

struct round {
    struct rec_batch **b; /* batches in order */
    const char ***ids;    /* each batch's record ids (into the messages) */
    size_t nb, cap;
    natsMsg **ok; /* the messages to ack after the commit */
    size_t nok;
};

static void round_free(struct round *rd)
{
    for (size_t i = 0; i < rd->nb; i++) {
        rec_batch_free(rd->b[i]);
        free(rd->ids[i]);
    }
    free(rd->b);
    free(rd->ids);
    free(rd->ok);
    memset(rd, 0, sizeof(*rd));
}

/* Adds message m's record to the round.  A batch may take records of
 * several partitions' lists, so its id array holds `maxmsgs`, the whole
 * round's count (one list's count overflowed it).  0, -EINVAL (rejected),
 * -ENOMEM. */
static int round_add(struct cluster_sub *s, struct round *rd, natsMsg *m, size_t maxmsgs)
{
    const char *meta = NULL, *id = NULL, *iname = NULL;
    const char *data = natsMsg_GetData(m);
    int dlen = natsMsg_GetDataLength(m);
    struct cluster_meta cm;
    struct parse_err perr = {0};
    struct rec_batch *b;
    struct record *r;
    uint32_t in;

    if (natsMsgHeader_Get(m, CLUSTER_HDR_META, &meta) != NATS_OK || !meta) {
        reject(s, m, CLUSTER_HDR_META, "missing");
        return -EINVAL;
    }
    if (cluster_meta_parse(meta, strlen(meta), &cm, &perr) < 0) {
        reject(s, m, CLUSTER_HDR_META, perr.msg ? perr.msg : "invalid");
        return -EINVAL;
    }
    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id ||
        !cluster_rec_id_ok(id, strlen(id))) {
        reject(s, m, "Nats-Msg-Id", "missing, or not a record id NAME:NUMBER");
        return -EINVAL;
    }
    if (natsMsgHeader_Get(m, CLUSTER_HDR_INPUT, &iname) != NATS_OK || !iname ||
        !cluster_input_name_ok(iname, strlen(iname))) {
        reject(s, m, CLUSTER_HDR_INPUT, "missing, or not an input name");
        return -EINVAL;
    }
    if (dlen < 0 || (size_t)dlen > LIMIT_LINE_MAX) {
        reject(s, m, "data", "longer than the longest record");
        return -EINVAL;
    }
    in = input_id(s, iname);
    b = rd->nb ? rd->b[rd->nb - 1] : NULL;
    if (!b || b->input_id != in ||
        b->used + rec_batch_record_size((size_t)dlen) > SUB_BATCH_BYTES) {
        if (rd->nb == rd->cap) {
            size_t cap = rd->cap ? rd->cap * 2 : 8;
            struct rec_batch **nb = realloc(rd->b, cap * sizeof(struct rec_batch *));
            const char ***ni;

            if (!nb)
                return -ENOMEM;
            rd->b = nb;
            if (!(ni = realloc(rd->ids, cap * sizeof(*ni))))
                return -ENOMEM;
            rd->ids = ni;
            rd->cap = cap;
        }
        if (!(b = rec_batch_new(in, SUB_BATCH_BYTES)))
            return -ENOMEM;
        if (!(rd->ids[rd->nb] = calloc(maxmsgs, sizeof(char *)))) {
            rec_batch_free(b);
            return -ENOMEM;
        }
        rd->b[rd->nb++] = b;
    }
    if (!(r = rec_batch_add(b, data ? data : "", (size_t)dlen, cm.recv_us, cm.flags)))
        return -ENOMEM;
    r->peer_family = cm.peer_family;
    r->peer_port = cm.peer_port;
    memcpy(r->peer_addr, cm.peer_addr, sizeof(r->peer_addr));
    rd->ids[rd->nb - 1][b->nrec - 1] = id;
    return 0;
}

/* Processes the round's batches in one transaction; 0 when committed. */
static int round_commit(struct cluster_sub *s, struct round *rd)
{
    int r = 0;

    pipeline_lock(s->pl);
    if ((r = store_begin(s->st)) < 0) {
        pipeline_unlock(s->pl);
        return r;
    }
    for (size_t i = 0; i < rd->nb; i++) {
        pipeline_set_record_ids(s->pl, rd->ids[i]);
        (void)pipeline_process(s->pl, rd->b[i]); /* errors counted and logged there */
    }
    r = pipeline_commit(s->pl, 0);
    pipeline_unlock(s->pl);
    return r;
}

/* Fetches from every owned partition once, processes, commits, acks.
 * Returns the records handled. */
static size_t fetch_round(struct cluster_sub *s)
{
    struct round rd = {0};
    natsMsgList lists[CONFIG_NATS_PARTITIONS_MAX];
    size_t nl = 0, total = 0, nmsgs = 0;
    int64_t t0 = time_now_us();
    int fail = 0;

    for (uint32_t p = 0; p < s->nc->partitions; p++) {
        jsFetchRequest fr;
        natsStatus st;

        if (!s->parts[p].sub || s->parts[p].idle_until_us > t0)
            continue;
        /* what the partition holds now, without waiting: an empty one
         * must not hold up the others (the thread sleeps when all are) */
        jsFetchRequest_Init(&fr);
        fr.Batch = (int)s->nc->fetch;
        fr.NoWait = true;
        fr.Expires = (int64_t)SUB_FETCH_WAIT_MS * 1000000;
        memset(&lists[nl], 0, sizeof(lists[nl]));
        st = natsSubscription_FetchRequest(&lists[nl], s->parts[p].sub, &fr);
        if (st == NATS_OK && lists[nl].Count > 0) {
            jsMsgMetaData *md = NULL;

            /* the last message says what the consumer still holds */
            if (natsMsg_GetMetaData(&md, lists[nl].Msgs[lists[nl].Count - 1]) == NATS_OK)
                atomic_store(&s->stats.pending[p], (int64_t)md->NumPending);
            jsMsgMetaData_Destroy(md);
            nmsgs += (size_t)lists[nl].Count;
            nl++;
            s->parts[p].idle_until_us = 0;
        } else {
            /* empty: looked at again only after a pause */
            s->parts[p].idle_until_us = time_now_us() + SUB_IDLE_POLL_US;
            natsMsgList_Destroy(&lists[nl]);
            /* nothing within the wait: the consumer holds nothing more */
            if (st == NATS_TIMEOUT || st == NATS_NOT_FOUND || st == NATS_OK)
                atomic_store(&s->stats.pending[p], 0);
        }
    }
    if (nmsgs == 0)
        return 0;
    if (!(rd.ok = calloc(nmsgs, sizeof(natsMsg *))))
        fail = 1;
    for (size_t l = 0; l < nl && !fail; l++) {
        for (int i = 0; i < lists[l].Count && !fail; i++) {
            natsMsg *m = lists[l].Msgs[i];
            jsMsgMetaData *md = NULL;
            int r;

            if (natsMsg_GetMetaData(&md, m) == NATS_OK && md->NumDelivered > 1)
                atomic_fetch_add(&s->stats.redelivered, 1);
            jsMsgMetaData_Destroy(md);
            atomic_fetch_add(&s->stats.received, 1);
            if ((r = round_add(s, &rd, m, nmsgs)) == -ENOMEM)
                fail = 1;
            else if (r == 0)
                rd.ok[rd.nok++] = m;
        }
    }
    if (fail) {
        log_warnx("nats: out of memory for a round of %zu records; they are redelivered", nmsgs);
    } else if (round_commit(s, &rd) == 0) {
        for (size_t i = 0; i < rd.nok; i++)
            natsMsg_Ack(rd.ok[i], NULL);
        atomic_fetch_add(&s->stats.acked, rd.nok);
        total = rd.nok;
    } else {
        /* the store did not take them: delivered again, here or elsewhere */
        for (size_t i = 0; i < rd.nok; i++)
            natsMsg_Nak(rd.ok[i], NULL);
    }
    round_free(&rd);
    for (size_t l = 0; l < nl; l++)
        natsMsgList_Destroy(&lists[l]);
    return total ? total : nmsgs;
}

static void *sub_main(void *arg)
{
    struct cluster_sub *s = arg;

    while (!atomic_load(&s->stopping)) {
        int64_t now = time_now_us();

        atomic_store(&s->stats.connected,
                     natsConnection_Status(s->conn) == NATS_CONN_STATUS_CONNECTED);
        if (!atomic_load(&s->stats.connected)) {
            sleep_ms(100);
            continue;
        }
        if (!s->setup_ok) {
            if (setup(s) < 0) {
                sleep_ms(500);
                continue;
            }
            s->setup_ok = 1;
        }
        if (now >= s->next_lease_us) {
            s->next_lease_us = now + s->lease_every_us;
            lease_round(s);
        }
        if (atomic_load(&s->stats.owned) == 0 || fetch_round(s) == 0)
            sleep_ms(atomic_load(&s->stats.owned) ? 5 : 100);
    }
    /* give the partitions back at once rather than after the lease's expiry */
    for (uint32_t p = 0; s->parts && p < s->nc->partitions; p++)
        if (s->parts[p].sub)
            part_drop(s, p, 1, "stopping");
    if (s->kv) {
        char mkey[CONFIG_NATS_NAME_MAX + 8];

        snprintf(mkey, sizeof(mkey), "m.%s", s->node);
        kvStore_Delete(s->kv, mkey);
    }
    natsConnection_FlushTimeout(s->conn, 2000);
    return NULL;
}

int cluster_sub_start(const struct config *c, struct pipeline *pl, struct store *st,
                      struct cluster_sub **ret)
{
    struct cluster_sub *s = calloc(1, sizeof(*s));
    char who[128];
    int r;

    *ret = NULL;
    if (!s)
        return -ENOMEM;
    s->cfg = c;
    s->nc = &c->nats;
    s->pl = pl;
    s->st = st;
    s->rl = (struct log_ratelimit){.interval_s = 10, .burst = 3};
    s->rl_bad = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    s->lease_every_us = s->nc->ack_wait_us / 8;
    if (s->lease_every_us < 250000)
        s->lease_every_us = 250000;
    cluster_nats_node(s->nc, s->node, sizeof(s->node));
    if (!(s->parts = calloc(s->nc->partitions, sizeof(*s->parts))) ||
        !(s->stats.pending = calloc(s->nc->partitions, sizeof(*s->stats.pending)))) {
        r = -ENOMEM;
        goto fail;
    }
    s->stats.partitions = s->nc->partitions;
    for (uint32_t p = 0; p < s->nc->partitions; p++)
        atomic_init(&s->stats.pending[p], -1);
    /* records of an input this node's configuration does not name are
     * decoded by auto-detection under this input */
    if ((r = pipeline_add_input(pl, "nats-unknown-input", "auto")) < 0)
        goto fail;
    s->fallback_input = (uint32_t)r;
    snprintf(who, sizeof(who), "hikeshi analyser %s", s->node);
    if ((r = cluster_nats_connect(s->nc, who, &s->stats.connected, &s->conn)) < 0)
        goto fail;
    if (natsConnection_JetStream(&s->js, s->conn, NULL) != NATS_OK) {
        log_error("nats: JetStream context: %s", nats_GetLastError(NULL));
        r = -EIO;
        goto fail;
    }
    if ((r = pthread_create(&s->thread, NULL, sub_main, s)) != 0) {
        r = -r;
        goto fail;
    }
    s->started = 1;
    *ret = s;
    return 0;
fail:
    jsCtx_Destroy(s->js);
    cluster_nats_close(s->conn, &s->stats.connected);
    free(s->parts);
    free(s->stats.pending);
    free(s);
    return r;
}

void cluster_sub_stop(struct cluster_sub *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    if (s->started)
        pthread_join(s->thread, NULL);
    log_info("nats: analyser %s stopped: %" PRIu64 " records received, %" PRIu64 " acked, %" PRIu64
             " redelivered, %" PRIu64 " rejected",
             s->node, atomic_load(&s->stats.received), atomic_load(&s->stats.acked),
             atomic_load(&s->stats.redelivered), atomic_load(&s->stats.rejected));
    kvStore_Destroy(s->kv);
    jsCtx_Destroy(s->js);
    cluster_nats_close(s->conn, &s->stats.connected);
    free(s->parts);
    free(s->stats.pending);
    free(s);
}

const struct cluster_sub_stats *cluster_sub_stats(const struct cluster_sub *s)
{
    return &s->stats;
}
