/*
 * pipeline_triage.c - anomaly baselines and triage inside the pipeline.
 *
 * Triage numbers its aggregated alerts from 1 in each run; the store keeps
 * them across runs, so the ids written are offset by the largest id already
 * stored when the stage starts.  Incidents take the store's next free id
 * when they open, because the API opens incidents too.
 *
 * Which field of an alert is which entity, in which role, is triage's
 * knowledge (triage/triage_entity.h); this stage only hands it the record,
 * the correlation hit or the anomaly.
 *
 * A rule that matched a record which is itself another detector's alert
 * (event.kind "alert": a Suricata EVE alert) relays that detector's
 * verdict: the alert carries the detector's signature (rule.id, rule.name
 * of the record), the confidence and ATT&CK tactic its metadata states,
 * its connection (EVE flow_id), and triage treats it as risk, aggregated
 * per signature.  The relay rule's own ATT&CK tags are left out: they
 * describe the detector's signatures in general, not this one.
 */
#include "pipeline/pipeline_triage.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/htable.h"
#include <time.h>
#include <unistd.h>

#include "detect/sigma.h"
#include "detect/sigma_corr.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "intel/intel.h"
#include "store/store.h"
#include "store/store_observable.h"
#include "respond/respond.h"
#include "triage/alert.h"
#include "triage/anomaly.h"
#include "triage/asset.h"
#include "triage/triage.h"
#include "triage/triage_entity.h"
#include "util/buf.h"
#include "conf/config.h"
#include "util/log.h"
#include "util/ydoc.h"

#define PT_VAL_MAX 256
#define PT_FLUSH_EVERY_US (10 * INT64_C(1000000))
/* The evidence table: for each address named as a source lately, when it
 * was last named by a record that cannot be forged cheaply (a stream
 * input, a TCP flow) and by one that can (UDP syslog, a UDP flow), and
 * which trusted witnesses named it (docs/respond.md, "Who is believed").
 * Direct-mapped: a colliding address takes the slot over, which only
 * ever forgets trust and corroboration (the safe direction). */
#define PT_EVID_SLOTS 8192
#define PT_EVID_WINDOW_US (15 * 60 * INT64_C(1000000))
#define PT_EVID_SOURCES 3  /* distinct trusted witnesses remembered per address */
#define PT_SRC_MAX 72      /* "<input> from <address>" as text, with its NUL */
#define PT_PEER_SLOTS 1024 /* trusted senders seen (never blocked), direct-mapped */
#define PT_ADDR_MAX 48
/* Tags passed for one alert: the rule's, then the signature's tactic. */
#define PT_MAX_TAGS 32

/* Where a record came from: its input and sender, kept raw so that no
 * record pays for formatting; text only for a trigger (src_text). */
struct pt_src {
    const char *input; /* the pipeline's input name: lives as long as the pipeline */
    uint8_t family;    /* 0 (a file, stdin), 4 or 6 */
    uint8_t addr[16];
};

/* A trusted witness that named an address: its source (input and
 * sender), what kind of witness, and when. */
struct pt_witness {
    uint64_t key;           /* src_key(&src); 0 unused */
    struct pt_src src;      /* for the budget and the reason */
    const char *kind;       /* static, from witness_kinds[] */
    int64_t at_us, firm_us; /* last record; last one neither UDP-carried nor a UDP flow */
    int udp_carrier;        /* the source's records come over UDP */
};

struct pt_evid {
    char addr[PT_ADDR_MAX];
    int64_t stream_us, udp_us; /* any record, event time; 0 never */
    struct pt_witness wit[PT_EVID_SOURCES];
    int64_t other_us;           /* last untrusted or non-witness record */
    unsigned other_n;           /* such records in the window (saturating) */
    struct pt_src other_src;    /* the last one's source */
};

/* A sender whose records a trusted input vouched for: never blocked. */
struct pt_peer {
    uint8_t family; /* 0 unused */
    uint8_t addr[16];
};

/* What the record being processed says about itself. */
struct pt_prov {
    int spoofable; /* UDP carrier or UDP flow */
    int udp_carrier;
    const char *witness;  /* kind of trusted witness, NULL: none */
    int exercise;         /* from an exercise input: responses only in dry run */
    int64_t realm;        /* triage_in.realm: 0 real, else the exercise run */
    struct pt_src src;
    uint64_t key; /* src_key(&src) */
};

struct ptriage {
    struct store *st;
    /* Keys the evidence and peer slots and the source ids: the addresses
     * are the senders', who could otherwise pick ones that share a slot. */
    struct htable_key hkey;
    struct triage_opts *opts;
    struct asset_inv inv;
    struct triage *tr;
    struct anomaly *an; /* NULL when anomaly detection is off */
    /* An exercise run's own baselines (realm != 0): its records never
     * teach the real ones, and a new run starts from nothing.  an_cur is
     * the one the current event was observed by. */
    struct anomaly *an_ex;
    int64_t an_ex_realm;
    struct anomaly *an_cur;
    int64_t agg_base;
    int64_t supp_seen;    /* the last API suppression loaded (store id) */
    int64_t lift_seen;    /* the last lift of one taken up (store lift_seq) */
    int64_t supp_poll_us; /* monotonic time of the last look for more */
    int64_t max_time_us;
    int64_t last_flush_us; /* max_time_us at the last triage_flush */
    int err;
    ptriage_incident_fn inc_cb;
    void *inc_arg;
    const char *input_name; /* of the event being processed */
    struct buf json, text, tmp;
    struct triage_entity_set ents; /* of the alert being triaged */
    /* A relayed alert's signature and tactic, NUL-terminated copies. */
    char sig_id[PT_VAL_MAX], sig_name[PT_VAL_MAX], sig_tactic[PT_VAL_MAX], flow_id[PT_VAL_MAX];
    const char *tagv[PT_MAX_TAGS];
    /* Automatic response (NULL: off): the engine, the evidence table, and
     * what the current event says about its own provenance. */
    struct respond *resp;
    struct pt_evid *evid;
    struct pt_peer *peers;
    struct pt_prov cur;
    int64_t cur_recv_us;
    /* The trigger's source and evidence phrase, valid for one offer. */
    char tr_src[PT_SRC_MAX], tr_evidence[192];
    /* The current rule alert's best address indicator match (ioc_conf 0:
     * none): the address matched, the feed, its confidence 1..3. */
    char ioc_addr[PT_ADDR_MAX], ioc_feed[PT_VAL_MAX], ioc_value[PT_VAL_MAX];
    int ioc_conf;
    char obs_val[INTEL_VALUE_MAX + 1]; /* an observable's canonical value */
};

static void pt_store_err(struct ptriage *t, int r)
{
    if (r < 0 && t->err == 0)
        t->err = r;
}

static int level_of(const char *s)
{
    static const char *const names[] = {"informational", "low", "medium", "high", "critical"};
    size_t n;

    if (!s)
        return TRIAGE_LEVEL_MEDIUM;
    /* Length first, then the bytes: where s is inlined from a fixed array
     * gcc -O3 would otherwise flag the names longer than it as
     * -Wstring-compare (always unequal, which is the right answer). */
    n = strlen(s);
    for (int i = 0; i < 5; i++)
        if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
            return i + 1;
    return TRIAGE_LEVEL_MEDIUM;
}

static const char *kind_name(enum triage_kind k)
{
    return k == TRIAGE_KIND_CORRELATION ? "correlation" : k == TRIAGE_KIND_ANOMALY ? "anomaly"
                                                                                  : "rule";
}

/* ---- automatic response: triggers ---- */

/*
 * Who is believed (issue 15).  A record is a witness when its kind sees the
 * attacker's own traffic: the address it names is the peer of a packet or
 * connection the product handled, not a string somebody wrote into a
 * request.  Decided by the decoder that understood the record and, for
 * JSON, by the product its fields name:
 *
 *   netfilter            the kernel logged the packet's header
 *   sshd, sudo           the daemon logs its connection's peer (sudo: local)
 *   winxml, JSON with winlog.channel Security
 *                        Windows logons: the network address of the logon
 *   JSON event.dataset suricata.*, zeek.*, iptables.*, system.auth
 *                        an IDS / network monitor / firewall / sshd as
 *                        shipped in ECS
 *   zeek-tsv             Zeek's own log files in its default format
 *
 * Never witnesses: web access and error logs (the address of a relayed
 * request, and text the client wrote), key=value and other JSON (free
 * text, any shape), and CEF / LEEF (their marker is found anywhere in the
 * first 256 bytes, so a URL or user agent in another log can carry a whole
 * forged CEF record).  A witness counts only when the input vouched for its
 * sender (RECORD_TRUSTED: inputs[].trust trusted with peers, or a file).
 */
static const struct {
    const char *decoder;
    const char *field; /* NULL: the decoder alone decides */
    const char *value; /* prefix of the field's value ("suricata."), or exact when no '.' ends it */
    const char *kind;  /* for reasons */
} witness_kinds[] = {
    {"netfilter", NULL, NULL, "netfilter"},
    {"sshd", NULL, NULL, "sshd"},
    {"sudo", NULL, NULL, "sudo"},
    {"winxml", "winlog.channel", "Security", "Windows Security log"},
    {"json", "winlog.channel", "Security", "Windows Security log"},
    {"json", "event.dataset", "suricata.", "Suricata"},
    {"json", "event.dataset", "zeek.", "Zeek"},
    {"json", "event.dataset", "iptables.", "iptables"},
    {"json", "event.dataset", "system.auth", "sshd (ECS)"},
    {"zeek-tsv", NULL, NULL, "Zeek"},
};

const char *ptriage_witness(const struct event *ev)
{
    if (!ev->decoder)
        return NULL;
    for (size_t i = 0; i < sizeof(witness_kinds) / sizeof(witness_kinds[0]); i++) {
        const char *v, *want = witness_kinds[i].value;
        size_t n, wn;
        uint32_t id;

        if (strcmp(ev->decoder, witness_kinds[i].decoder) != 0)
            continue;
        if (!witness_kinds[i].field)
            return witness_kinds[i].kind;
        id = field_lookup(witness_kinds[i].field, strlen(witness_kinds[i].field));
        if (id == FIELD_NONE || !(v = event_get(ev, id, &n)))
            continue;
        wn = strlen(want);
        if (want[wn - 1] == '.' ? (n > wn && strncasecmp(v, want, wn) == 0)
                                : (n == wn && strncasecmp(v, want, wn) == 0))
            return witness_kinds[i].kind;
    }
    return NULL;
}

static struct pt_evid *evid_slot(struct ptriage *t, const char *addr, size_t len)
{
    return &t->evid[htable_key_hash(&t->hkey, addr, len) % PT_EVID_SLOTS];
}

static struct pt_peer *peer_slot(struct ptriage *t, uint8_t family, const uint8_t *addr)
{
    uint8_t k[17];

    k[0] = family;
    memcpy(k + 1, addr, family == 4 ? 4 : 16);
    return &t->peers[htable_key_hash(&t->hkey, k, family == 4 ? 5 : 17) % PT_PEER_SLOTS];
}

/* 1 when `addr` (text) sent us records a trusted input vouched for. */
static int is_trusted_peer(struct ptriage *t, const char *addr)
{
    uint8_t a[16] = {0};
    uint8_t family;
    const struct pt_peer *p;

    if (!addr || !t->peers)
        return 0;
    if (inet_pton(AF_INET, addr, a) == 1)
        family = 4;
    else if (inet_pton(AF_INET6, addr, a) == 1)
        family = 6;
    else
        return 0;
    p = peer_slot(t, family, a);
    return p->family == family && memcmp(p->addr, a, family == 4 ? 4 : 16) == 0;
}

/* The source's id: its input (the name's address: one per input) and
 * sender, keyed so that a sender cannot pick an address whose id is
 * another's. */
static uint64_t src_key(const struct ptriage *t, const struct pt_src *src)
{
    unsigned char k[sizeof(src->input) + 1 + 16];
    size_t alen = src->family == 4 ? 4 : src->family == 6 ? 16 : 0;

    memcpy(k, &src->input, sizeof(src->input));
    k[sizeof(src->input)] = src->family;
    memcpy(k + sizeof(src->input) + 1, src->addr, alen);
    return htable_key_hash(&t->hkey, k, sizeof(src->input) + 1 + alen) | 1;
}

/* "<input> from <sender>", or "<input>" for a file. */
static void src_text(const struct pt_src *src, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN];
    const char *in = src->input ? src->input : "?";

    if (src->family == 4 || src->family == 6) {
        if (!inet_ntop(src->family == 4 ? AF_INET : AF_INET6, src->addr, a, sizeof(a)))
            snprintf(a, sizeof(a), "?");
        snprintf(buf, size, "%.20s from %s", in, a);
    } else {
        snprintf(buf, size, "%.60s", in);
    }
}

/* Notes the record's source in the current provenance, and a sender a
 * trusted input vouched for among the peers never to block. */
static void note_source(struct ptriage *t, const struct ptriage_prov *pv)
{
    struct pt_prov *c = &t->cur;

    memset(&c->src, 0, sizeof(c->src));
    c->src.input = pv->input_name;
    if ((pv->peer_family == 4 || pv->peer_family == 6) && pv->peer_addr) {
        c->src.family = pv->peer_family;
        memcpy(c->src.addr, pv->peer_addr, pv->peer_family == 4 ? 4 : 16);
        if (pv->trusted) {
            struct pt_peer *p = peer_slot(t, pv->peer_family, pv->peer_addr);
            p->family = pv->peer_family;
            memcpy(p->addr, pv->peer_addr, pv->peer_family == 4 ? 4 : 16);
        }
    }
    c->key = src_key(t, &c->src);
}

void ptriage_evidence(struct ptriage *t, const struct event *ev, const struct ptriage_prov *pv)
{
    const char *v;
    size_t n;
    struct pt_evid *e;
    struct pt_prov *c = &t->cur;

    /* Needed with response off too: what it makes is marked (issue 22). */
    c->exercise = pv->exercise;
    c->realm = pv->exercise ? (pv->exercise_run > 0 ? pv->exercise_run : -1) : 0;
    if (!t->resp)
        return;
    /* A record that came over UDP can carry any sender and any text; a
     * record about a UDP flow names a source nobody had to own. */
    v = event_get(ev, FIELD_NETWORK_TRANSPORT, &n);
    c->udp_carrier = pv->udp_carrier;
    c->spoofable = pv->udp_carrier || (v && n == 3 && strncasecmp(v, "udp", 3) == 0);
    c->witness = pv->trusted ? ptriage_witness(ev) : NULL;
    note_source(t, pv);
    t->cur_recv_us = ev->recv_us;
    v = event_get(ev, FIELD_SOURCE_IP, &n);
    if (!v || n == 0 || n >= PT_ADDR_MAX)
        return;
    e = evid_slot(t, v, n);
    if (strncmp(e->addr, v, n) != 0 || e->addr[n] != '\0') {
        memset(e, 0, sizeof(*e));
        memcpy(e->addr, v, n);
        e->addr[n] = '\0';
    }
    if (c->spoofable)
        e->udp_us = ev->time_us;
    else
        e->stream_us = ev->time_us;
    if (!c->witness) {
        if (!e->other_us || ev->time_us - e->other_us > PT_EVID_WINDOW_US)
            e->other_n = 0;
        if (e->other_n < 1000000)
            e->other_n++;
        e->other_us = ev->time_us;
        e->other_src = c->src;
        return;
    }
    {
        /* This source's slot, else an empty one, else the stalest. */
        struct pt_witness *w = NULL;
        for (size_t i = 0; i < PT_EVID_SOURCES && !w; i++)
            if (e->wit[i].key == c->key)
                w = &e->wit[i];
        for (size_t i = 0; i < PT_EVID_SOURCES && !w; i++)
            if (!e->wit[i].key)
                w = &e->wit[i];
        if (!w) {
            w = &e->wit[0];
            for (size_t i = 1; i < PT_EVID_SOURCES; i++)
                if (e->wit[i].at_us < w->at_us)
                    w = &e->wit[i];
        }
        if (w->key != c->key) {
            memset(w, 0, sizeof(*w));
            w->key = c->key;
            w->src = c->src;
        }
        w->kind = c->witness;
        w->udp_carrier = c->udp_carrier;
        w->at_us = ev->time_us;
        if (!c->spoofable)
            w->firm_us = ev->time_us;
    }
}

static int within(int64_t then, int64_t at_us)
{
    return then && at_us - then <= PT_EVID_WINDOW_US;
}

/*
 * What the evidence says of `addr` around event time `at_us`, into the
 * trigger: trusted (a trusted witness named it), udp_only (all of that
 * evidence could be spoofed), corroborated (a second, independent trusted
 * witness named it, one of them over a stream: a lone UDP sender's address
 * proves nothing, and untrusted records never corroborate), the source
 * whose budget an action spends, and a phrase for the reason.  An address
 * no record named (an anomaly on an unusual field) is judged by the
 * current record alone.
 */
static void evid_judge(struct ptriage *t, const char *addr, int64_t at_us,
                       struct respond_trigger *tr)
{
    size_t n = addr ? strlen(addr) : 0;
    const struct pt_evid *e = NULL;
    const struct pt_witness *last = NULL;
    unsigned nwit = 0, nstream = 0;
    int firm = 0;

    tr->log_peer = is_trusted_peer(t, addr);
    if (n > 0 && n < PT_ADDR_MAX) {
        e = evid_slot(t, addr, n);
        if (strcmp(e->addr, addr) != 0 ||
            !(within(e->stream_us, at_us) || within(e->udp_us, at_us)))
            e = NULL;
    }
    if (!e) {
        tr->trusted = t->cur.witness != NULL;
        tr->udp_only = t->cur.spoofable;
        tr->corroborated = 0;
        src_text(&t->cur.src, t->tr_src, sizeof(t->tr_src));
        snprintf(t->tr_evidence, sizeof(t->tr_evidence), "%s%s%s %s",
                 t->cur.witness ? "trusted witness " : "no trusted witness: ",
                 t->cur.witness ? t->cur.witness : "record", t->cur.witness ? " via" : " from",
                 t->tr_src);
        goto out;
    }
    for (size_t i = 0; i < PT_EVID_SOURCES; i++) {
        const struct pt_witness *w = &e->wit[i];
        if (!w->key || !within(w->at_us, at_us))
            continue;
        nwit++;
        nstream += !w->udp_carrier;
        firm |= within(w->firm_us, at_us);
        if (!last || w->at_us > last->at_us)
            last = w;
    }
    tr->trusted = nwit > 0;
    if (tr->trusted) {
        tr->udp_only = !firm;
        tr->corroborated = firm || (nwit >= 2 && nstream >= 1);
        src_text(&last->src, t->tr_src, sizeof(t->tr_src));
        snprintf(t->tr_evidence, sizeof(t->tr_evidence),
                 "trusted witness %s via %s (%u trusted source%s%s)%s", last->kind, t->tr_src, nwit,
                 nwit == 1 ? "" : "s", firm ? "" : ", spoofable",
                 within(e->other_us, at_us) ? "; also untrusted records" : "");
    } else {
        /* Untrusted evidence waits for a person; that person's approval
         * still cannot act on what only UDP carried. */
        tr->udp_only = !within(e->stream_us, at_us);
        tr->corroborated = 0;
        src_text(e->other_src.input ? &e->other_src : &t->cur.src, t->tr_src, sizeof(t->tr_src));
        snprintf(t->tr_evidence, sizeof(t->tr_evidence),
                 "no trusted witness: %u record%s from untrusted or content-relayed sources, "
                 "last %s",
                 e->other_n, e->other_n == 1 ? "" : "s", t->tr_src);
    }
out:
    tr->source = t->tr_src;
    tr->evidence = t->tr_evidence;
}

static void offer_alert(struct ptriage *t, const struct triage_in *in,
                        const struct triage_made *made)
{
    const char *addr = NULL;
    struct respond_trigger tr;
    struct respond_cause c;
    int ioc = in->kind == TRIAGE_KIND_RULE && t->ioc_conf > 0;

    if (!made->agg_id)
        return; /* suppressed */
    for (size_t i = 0; i < in->nentities; i++)
        if (in->entities[i].role == TRIAGE_ROLE_ATTACKER &&
            strcmp(in->entities[i].field, "source.ip") == 0)
            addr = in->entities[i].value;
    /* An address a feed lists as known-bad is the one to act on (the C2
     * an inside host reached, not that host); whether the record could
     * witness it is judged as for any address. */
    if (ioc)
        addr = t->ioc_addr;
    tr = (struct respond_trigger){
        .kind = (enum respond_kind)in->kind,
        .rule_id = in->rule_id,
        .rule_name = in->rule_name,
        .level = in->level,
        .incident_type = TRIAGE_TYPE_NONE,
        .correlation = in->corr_type,
        .address = addr,
        .exercise = t->cur.exercise,
    };
    if (ioc) {
        tr.indicator_feed = t->ioc_feed;
        tr.indicator_confidence = t->ioc_conf;
    }
    evid_judge(t, addr, in->time_us, &tr);
    if (ioc) {
        size_t n = strlen(t->tr_evidence);
        static const char *const conf[] = {"", "Low", "Medium", "High"};

        snprintf(t->tr_evidence + n, sizeof(t->tr_evidence) - n, "; indicator %s of feed %s (%s)",
                 t->ioc_value, t->ioc_feed, conf[t->ioc_conf & 3]);
    }
    c = (struct respond_cause){
        .agg_id = t->agg_base + (int64_t)made->agg_id,
        .incident_id = (int64_t)made->incident_id,
        .recv_us = t->cur_recv_us,
    };
    respond_offer(t->resp, &tr, &c);
}

/* An incident asks too, on opening and when its type changes: the policy
 * may act on "intruded" or "damage" whatever the alerts were. */
static void offer_incident(struct ptriage *t, const struct triage_incident *inc)
{
    static const char src[] = "source.ip=";
    const char *addr = NULL;
    struct respond_trigger tr;
    struct respond_cause c;

    if (inc->key && strncmp(inc->key, src, sizeof(src) - 1) == 0)
        addr = inc->key + sizeof(src) - 1;
    tr = (struct respond_trigger){
        .kind = RESPOND_KIND_INCIDENT,
        .incident_type = (int)inc->type,
        .address = addr,
        .exercise = t->cur.exercise,
    };
    evid_judge(t, addr, inc->last_us, &tr);
    c = (struct respond_cause){.incident_id = (int64_t)inc->id, .recv_us = t->cur_recv_us};
    respond_offer(t->resp, &tr, &c);
}

int ptriage_set_respond(struct ptriage *t, struct respond *r)
{
    if (r && !t->evid && !(t->evid = calloc(PT_EVID_SLOTS, sizeof(*t->evid))))
        return -ENOMEM;
    if (r && !t->peers && !(t->peers = calloc(PT_PEER_SLOTS, sizeof(*t->peers))))
        return -ENOMEM;
    t->resp = r;
    return 0;
}

/* ---- triage callbacks: into the store ---- */

static void on_agg(void *ctx, const struct triage_alert *a)
{
    struct ptriage *t = ctx;
    struct store_agg_rec rec = {
        .id = t->agg_base + (int64_t)a->id,
        .kind = kind_name(a->kind),
        .rule_id = a->rule_id,
        .rule_name = a->rule_name,
        .rule_title = a->rule_title,
        .level = a->level,
        .entity_key = a->key,
        .count = a->count,
        .first_us = a->first_us,
        .last_us = a->last_us,
        .incident_id = (int64_t)a->incident_id,
        .type = a->type != TRIAGE_TYPE_NONE ? triage_type_name(a->type) : NULL,
    };

    if (t->st)
        pt_store_err(t, store_agg_put(t->st, &rec));
    /* Grown by an exercise's records (the batch's input): off the dashboard. */
    if (t->st && t->cur.exercise)
        pt_store_err(t, store_exercise_mark(t->st, "agg", rec.id, time_now_us()));
}

/* Appends a JSON array of strings. */
static int json_strv(struct buf *b, const char *const *v, size_t n)
{
    int r = buf_putc(b, '[');

    for (size_t i = 0; r == 0 && i < n; i++) {
        if (i && (r = buf_putc(b, ',')) < 0)
            break;
        r = buf_json_str(b, v[i], strlen(v[i]));
    }
    return r < 0 ? r : buf_putc(b, ']');
}

static void put_incident(struct ptriage *t, const struct triage_incident *inc)
{
    const char *stages[TRIAGE_STAGE_COUNT];
    size_t nst = 0, split;
    struct store_incident_rec rec;

    if (!t->st)
        return;
    for (int s = 1; s < TRIAGE_STAGE_COUNT; s++)
        if (inc->stages & (1u << s))
            stages[nst++] = triage_stage_name((enum triage_stage)s);
    buf_reset(&t->tmp);
    if (json_strv(&t->tmp, stages, nst) < 0 || buf_putc(&t->tmp, '\0') < 0)
        return;
    split = t->tmp.len;
    if (json_strv(&t->tmp, (const char *const *)inc->victims, inc->nvictims) < 0 ||
        buf_putc(&t->tmp, '\0') < 0)
        return;
    rec = (struct store_incident_rec){
        .id = (int64_t)inc->id,
        .entity_key = inc->key,
        .type = triage_type_name(inc->type),
        .level = triage_level_name(inc->level),
        .stage = inc->stage != TRIAGE_STAGE_NONE ? triage_stage_name(inc->stage) : NULL,
        .stages_json = t->tmp.data,
        .victims_json = t->tmp.data + split,
        .category = asset_category_name(inc->cat),
        .criticality = asset_crit_name(inc->crit),
        .risk_opened = inc->risk_opened,
        .why = inc->why[0] ? inc->why : NULL,
        .first_us = inc->first_us,
        .last_us = inc->last_us,
        .nalerts = inc->nalerts,
        .nevents = inc->nevents,
        .updated_us = time_now_us(),
    };
    pt_store_err(t, store_incident_put(t->st, &rec));
}

/* Incidents share one id space with those opened through the API: the
 * next id is the store's, read inside the batch's write transaction. */
static uint64_t next_incident_id(void *ctx)
{
    struct ptriage *t = ctx;
    int64_t max = 0;

    if (store_incident_max_id(t->st, &max) < 0)
        return 0;
    return (uint64_t)max + 1;
}

static void on_inc_opened(void *ctx, const struct triage_incident *inc)
{
    struct ptriage *t = ctx;

    put_incident(t, inc);
    if (t->st && t->cur.exercise)
        pt_store_err(t, store_exercise_mark(t->st, "incident", (int64_t)inc->id, time_now_us()));
    if (t->inc_cb)
        t->inc_cb(t->inc_arg, inc, 0);
    if (t->resp)
        offer_incident(t, inc);
}

static void on_inc_updated(void *ctx, const struct triage_incident *inc, unsigned changed)
{
    struct ptriage *t = ctx;

    put_incident(t, inc);
    if (t->inc_cb)
        t->inc_cb(t->inc_arg, inc, changed);
    if (t->resp && (changed & TRIAGE_CHG_TYPE))
        offer_incident(t, inc);
}

static void on_suppressed(void *ctx, const struct triage_in *in, const struct triage_supp *s)
{
    /* Counted per suppression by triage; a trace for whoever debugs one. */
    log_debug("triage: alert %s suppressed by %s (%s)", in->rule_name ? in->rule_name : in->rule_id,
              s->id ? s->id : "?", s->reason ? s->reason : "");
}


/* Triages `in` with the entities gathered in t->ents, offers it to the
 * response engine, and records which aggregated alert the alert stored as
 * row `alert_id` (0: not stored) was folded into. */
static int64_t add(struct ptriage *t, struct triage_in *in, int64_t alert_id)
{
    struct triage_made made;
    int r;

    in->entities = t->ents.ents;
    in->nentities = t->ents.n;
    in->realm = t->cur.realm; /* an exercise run's alerts stay among themselves */
    if (in->time_us > t->max_time_us)
        t->max_time_us = in->time_us;
    if ((r = triage_add(t->tr, in, &made)) < 0 && r != -ENOMEM)
        pt_store_err(t, r);
    /* A relayed IDS alert only adds risk (docs/triage.md): offered alone,
     * every random source of one policy signature would be a request in
     * the approval queue.  The incident its entity's risk opens is
     * offered instead (offer_incident). */
    if (r == 0 && t->resp && !in->sig_id && !in->sig_name)
        offer_alert(t, in, &made);
    if (t->st && alert_id > 0 && made.agg_id)
        pt_store_err(t, store_alert_set_agg(t->st, alert_id, t->agg_base + (int64_t)made.agg_id));
    return r == 0 && made.agg_id ? (int64_t)made.incident_id : 0;
}

/* ---- observables of incidents (issue 20) ---- */

#define OBS_PER_ALERT 32

/* Adds the observables of `ev` to incident `incident`, which the alert
 * stored as `alert_id` joined: each value of the fields above in its
 * canonical form (a value that is not one, "-" or a bad address, is
 * skipped), at most OBS_PER_ALERT. */
static void add_observables(struct ptriage *t, const struct event *ev, int64_t incident,
                            int64_t alert_id)
{
    size_t added = 0;

    for (size_t i = 0; i < intel_obs_nfields; i++) {
        uint32_t id = field_lookup(intel_obs_fields[i].field, strlen(intel_obs_fields[i].field));

        for (uint32_t k = 0; id != FIELD_NONE && k < ev->nfields && added < OBS_PER_ALERT; k++) {
            const struct event_field *f = &ev->fields[k];
            const char *type = NULL;

            if (f->id != id ||
                intel_obs_norm(intel_obs_fields[i].type, f->val, f->len, t->obs_val, &type) < 0)
                continue;
            pt_store_err(t, store_observable_add(t->st, incident, type, t->obs_val, STORE_OBS_ALERT,
                                                 NULL, alert_id, NULL, ev->time_us, NULL, NULL));
            added++;
        }
    }
}

/* ---- the three kinds of alert ---- */

/* A NUL-terminated copy of field `id` of `ev` into dst (cut to fit), or
 * NULL when the event has none. */
static const char *copy_field(const struct event *ev, uint32_t id, char *dst, size_t size)
{
    size_t n;
    const char *v = id != FIELD_NONE ? event_get(ev, id, &n) : NULL;

    if (!v || n == 0)
        return NULL;
    if (n >= size)
        n = size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return dst;
}

static uint32_t field_by_name(const char *name)
{
    return field_lookup(name, strlen(name));
}

/* The confidence an IDS signature states (ET's metadata "confidence"). */
static int sig_confidence(const struct event *ev)
{
    size_t n;
    uint32_t id = field_by_name("alert.metadata.confidence");
    const char *v = id != FIELD_NONE ? event_get(ev, id, &n) : NULL;

    if (!v)
        return TRIAGE_CONF_NONE;
    if (n == 3 && strncasecmp(v, "low", 3) == 0)
        return TRIAGE_CONF_LOW;
    if (n == 6 && strncasecmp(v, "medium", 6) == 0)
        return TRIAGE_CONF_MEDIUM;
    if (n == 4 && strncasecmp(v, "high", 4) == 0)
        return TRIAGE_CONF_HIGH;
    return TRIAGE_CONF_NONE;
}

/* The ATT&CK tactic an IDS signature states ("Command_And_Control" in ET's
 * metadata "mitre_tactic_name") as a tag, attack.command_and_control;
 * NULL when none or not a plain name. */
static const char *sig_tactic(struct ptriage *t, const struct event *ev)
{
    char *d = t->sig_tactic;
    size_t n, k = 7;
    uint32_t id = field_by_name("alert.metadata.mitre_tactic_name");
    const char *v = id != FIELD_NONE ? event_get(ev, id, &n) : NULL;

    if (!v || n == 0 || n + k >= sizeof(t->sig_tactic))
        return NULL;
    memcpy(d, "attack.", k);
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == ' ' || c == '-')
            c = '_';
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
            return NULL;
        d[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    d[k] = '\0';
    return d;
}

/* The k-th value of field `id` in `ev` (the enrich step adds the fields
 * of each indicator match together, in order), or NULL. */
static const char *nth_field(const struct event *ev, uint32_t id, size_t k, size_t *ret_len)
{
    for (uint32_t i = 0; id != FIELD_NONE && i < ev->nfields; i++)
        if (ev->fields[i].id == id && k-- == 0) {
            *ret_len = ev->fields[i].len;
            return ev->fields[i].val;
        }
    return NULL;
}

/* The best address indicator match of `ev` (threat.indicator.type ipv4 or
 * ipv6 with the matched atomic an address), into t->ioc_*: the highest
 * confidence, the first of equals.  t->ioc_conf 0: none. */
static void note_indicator(struct ptriage *t, const struct event *ev)
{
    static const char *const conf[] = {"Low", "Medium", "High"};
    uint32_t f_type = field_by_name("threat.indicator.type");
    uint32_t f_value = field_by_name("threat.indicator.value");
    uint32_t f_feed = field_by_name("threat.indicator.provider");
    uint32_t f_conf = field_by_name("threat.indicator.confidence");
    uint32_t f_atomic = field_by_name("threat.enrichments.matched.atomic");
    const char *ty, *va, *fe, *co, *at;
    size_t nty, nva, nfe, nco, nat;

    t->ioc_conf = 0;
    for (size_t k = 0; k < 8; k++) {
        unsigned char bin[16];
        char a[PT_ADDR_MAX];
        int level = 0;

        if (!(ty = nth_field(ev, f_type, k, &nty)))
            break;
        if (!(va = nth_field(ev, f_value, k, &nva)) || !(fe = nth_field(ev, f_feed, k, &nfe)) ||
            !(co = nth_field(ev, f_conf, k, &nco)) || !(at = nth_field(ev, f_atomic, k, &nat)))
            break;
        if (!((nty == 4 && (memcmp(ty, "ipv4", 4) == 0 || memcmp(ty, "ipv6", 4) == 0))) ||
            nat == 0 || nat >= sizeof(a) || nfe == 0 || nfe >= sizeof(t->ioc_feed) ||
            nva >= sizeof(t->ioc_value))
            continue;
        for (int i = 0; i < 3; i++)
            if (nco == strlen(conf[i]) && memcmp(co, conf[i], nco) == 0)
                level = i + 1;
        memcpy(a, at, nat);
        a[nat] = '\0';
        if (level <= t->ioc_conf ||
            (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1))
            continue;
        t->ioc_conf = level;
        memcpy(t->ioc_addr, a, nat + 1);
        memcpy(t->ioc_feed, fe, nfe);
        t->ioc_feed[nfe] = '\0';
        memcpy(t->ioc_value, va, nva);
        t->ioc_value[nva] = '\0';
    }
}

void ptriage_rule(struct ptriage *t, const struct sigma_rule *r, const struct event *ev,
                  int64_t alert_id)
{
    struct triage_in in = {
        .kind = TRIAGE_KIND_RULE,
        .rule_id = r->id ? r->id : "",
        .rule_name = r->name,
        .rule_title = r->title,
        .level = r->level != SIGMA_LEVEL_NONE ? (int)r->level : TRIAGE_LEVEL_MEDIUM,
        .tags = (const char *const *)r->tags.v,
        .ntags = r->tags.n,
        .time_us = ev->time_us,
        .count = 1,
    };
    int relayed = event_is(ev, FIELD_EVENT_KIND, "alert");
    int64_t incident;

    if (t->resp)
        note_indicator(t, ev);
    triage_entity_from_event(&t->ents, ev, relayed);
    if (relayed) {
        const char *tactic = sig_tactic(t, ev);
        in.sig_id = copy_field(ev, FIELD_RULE_ID, t->sig_id, sizeof(t->sig_id));
        in.sig_name = copy_field(ev, FIELD_RULE_NAME, t->sig_name, sizeof(t->sig_name));
        in.confidence = sig_confidence(ev);
        in.flow_id = copy_field(ev, field_by_name("flow_id"), t->flow_id, sizeof(t->flow_id));
        /* The relay rule's ATT&CK tags say what the detector's signatures
         * usually are, the same guess for all of them: only the tactic
         * the signature itself states counts.  Its other tags stay. */
        in.ntags = 0;
        for (size_t i = 0; i < r->tags.n && in.ntags < PT_MAX_TAGS - 1; i++)
            if (r->tags.v[i] && strncasecmp(r->tags.v[i], "attack.", 7) != 0)
                t->tagv[in.ntags++] = r->tags.v[i];
        if (tactic)
            t->tagv[in.ntags++] = tactic;
        in.tags = t->tagv;
    }
    incident = add(t, &in, alert_id);
    t->ioc_conf = 0;
    if (t->st && incident > 0)
        add_observables(t, ev, incident, alert_id);
}

/* Formats a correlation hit's JSON (t->json) and one line (t->text). */
static int corr_format(struct ptriage *t, const struct sigma_corr_hit *h, const char **ret_host)
{
    char a[TIME_ISO_LEN], b[TIME_ISO_LEN];
    struct buf *j = &t->json, *x = &t->text;
    int r;

    *ret_host = NULL;
    buf_reset(j);
    buf_reset(x);
    time_format_iso(h->first_us, a, sizeof(a));
    time_format_iso(h->last_us, b, sizeof(b));
    if ((r = buf_printf(j, "{\"type\":\"%s\",\"group\":{", sigma_corr_type_name(h->rule->type))) < 0)
        return r;
    for (size_t i = 0; i < h->ngroup; i++) {
        const char *f = h->group_fields[i], *v = h->group_values[i];

        if ((i && (r = buf_putc(j, ',')) < 0) || (r = buf_json_str(j, f, strlen(f))) < 0 ||
            (r = buf_putc(j, ':')) < 0 || (r = buf_json_str(j, v, strlen(v))) < 0)
            return r;
        if ((r = buf_printf(x, "%s%s=%s", i ? " " : "", f, v)) < 0)
            return r;
        if (strcmp(f, "host.name") == 0 || strcmp(f, "Computer") == 0)
            *ret_host = v;
    }
    if ((r = buf_printf(j, "},\"value\":%.17g,\"events\":%llu,\"first\":\"%s\",\"last\":\"%s\","
                           "\"samples\":[",
                        h->value, (unsigned long long)h->events, a, b)) < 0)
        return r;
    for (size_t i = 0; i < h->nsamples; i++) {
        const struct sigma_corr_sample *s = &h->samples[i];
        char ts[TIME_ISO_LEN];

        time_format_iso(s->time_us, ts, sizeof(ts));
        if ((r = buf_printf(j, "%s{\"time\":\"%s\",\"rule\":", i ? "," : "", ts)) < 0 ||
            (r = buf_json_str(j, s->rule_id ? s->rule_id : "", s->rule_id ? strlen(s->rule_id) : 0)) <
                0 ||
            (r = buf_puts(j, ",\"raw\":")) < 0 || (r = buf_json_str(j, s->raw, s->raw_len)) < 0 ||
            (r = buf_putc(j, '}')) < 0)
            return r;
    }
    if ((r = buf_puts(j, "]}")) < 0)
        return r;
    return buf_printf(x, "%s%s %.17g (%llu events, %s .. %s)", h->ngroup ? ": " : "",
                      sigma_corr_type_name(h->rule->type), h->value,
                      (unsigned long long)h->events, a, b);
}

int ptriage_corr_alert(struct ptriage *t, const struct sigma_corr_hit *h, const char *input_name,
                       struct alert *ret)
{
    const struct sigma_corr_rule *c = h->rule;
    const char *host = NULL;
    int r;

    if ((r = corr_format(t, h, &host)) < 0)
        return r;
    *ret = (struct alert){
        .kind = "correlation",
        .rule_id = c->id ? c->id : (c->name ? c->name : ""),
        .rule_title = c->title ? c->title : "",
        .rule_author = c->author ? c->author : "unknown",
        .rule_level = c->level_text ? c->level_text : "medium",
        .tags = (const char *const *)c->tags.v,
        .ntags = c->tags.n,
        .input_name = input_name,
        .created_us = time_now_us(),
        .time_us = h->last_us,
        .host = host,
        .details = t->text.data,
        .extra_json = t->json.data,
        .extra_len = t->json.len,
    };
    return 0;
}

void ptriage_corr(struct ptriage *t, const struct sigma_corr_hit *h, int64_t alert_id)
{
    const struct sigma_corr_rule *c = h->rule;
    struct triage_in in = {
        .kind = TRIAGE_KIND_CORRELATION,
        .rule_id = c->id ? c->id : (c->name ? c->name : ""),
        .rule_name = c->name,
        .rule_title = c->title,
        .level = c->level != SIGMA_LEVEL_NONE ? (int)c->level : TRIAGE_LEVEL_MEDIUM,
        .tags = (const char *const *)c->tags.v,
        .ntags = c->tags.n,
        .corr_type = sigma_corr_type_name(c->type),
        .time_us = h->last_us,
        .count = h->events,
    };

    triage_entity_from_group(&t->ents, h->group_fields, h->group_values, h->ngroup);
    add(t, &in, alert_id);
}

/* Rule identity and level of each anomaly kind: anomalies are hikeshi's
 * own detections, shown like rules. */
static void anomaly_rule(const struct anomaly_alert *al, const char **ret_name,
                         const char **ret_title, const char **ret_level)
{
    switch (al->kind) {
    case ANOMALY_BEACON:
        *ret_name = "anomaly.beacon";
        *ret_title = "Beaconing: regular connections to one destination";
        *ret_level = "medium";
        break;
    /* Outbound (MISSION.md section 1, backdoor and leak traffic).  A new
     * external destination alone is weak: low, it adds risk and joins. */
    case ANOMALY_FIRST_EXTERNAL:
        *ret_name = "anomaly.first_seen_external";
        *ret_title = "Internal host reached an external address for the first time";
        *ret_level = "low";
        break;
    case ANOMALY_OUTBOUND_VOLUME:
        *ret_name = "anomaly.outbound_volume";
        *ret_title = "Bytes sent outside far above the host's baseline";
        *ret_level = "medium";
        break;
    case ANOMALY_DNS_TUNNEL:
        *ret_name = "anomaly.dns_tunnel";
        *ret_title = "DNS tunnelling: many long, random names under one domain";
        *ret_level = "high";
        break;
    case ANOMALY_FIRST_SEEN:
        *ret_name = "anomaly.first_seen";
        *ret_title = "First seen after the learning period";
        *ret_level = "low";
        break;
    default:
        *ret_name = "anomaly.rate";
        *ret_title = "Event rate far above the entity's baseline";
        *ret_level = "low";
        break;
    }
}

int ptriage_anomaly_alert(struct ptriage *t, size_t i, struct alert *ret)
{
    const struct anomaly_alert *al = t->an_cur ? anomaly_alert_get(t->an_cur, i) : NULL;
    const char *name, *title, *level;
    int r;

    if (!al)
        return -ENOENT;
    buf_reset(&t->json);
    buf_reset(&t->text);
    if ((r = anomaly_alert_json(al, &t->json)) < 0 || (r = anomaly_alert_text(al, &t->text)) < 0)
        return r;
    anomaly_rule(al, &name, &title, &level);
    triage_entity_from_anomaly(&t->ents, al);
    *ret = (struct alert){
        .kind = "anomaly",
        .rule_id = name,
        .rule_title = title,
        .rule_author = "hikeshi project",
        .rule_level = level,
        .input_name = t->input_name,
        .created_us = time_now_us(),
        .time_us = al->time_us,
        .host = triage_entity_get(&t->ents, "host.name"),
        .details = t->text.data,
        .extra_json = t->json.data,
        .extra_len = t->json.len,
    };
    return 0;
}

void ptriage_anomaly(struct ptriage *t, size_t i, int64_t alert_id)
{
    const struct anomaly_alert *al = t->an_cur ? anomaly_alert_get(t->an_cur, i) : NULL;
    const char *name, *title, *level;
    struct triage_in in;

    if (!al)
        return;
    anomaly_rule(al, &name, &title, &level);
    triage_entity_from_anomaly(&t->ents, al);
    in = (struct triage_in){
        .kind = TRIAGE_KIND_ANOMALY,
        .rule_id = name,
        .rule_name = name,
        .rule_title = title,
        .level = level_of(level),
        .time_us = al->time_us,
        .count = 1,
    };
    add(t, &in, alert_id);
}

/* The baselines an event is observed by: the real ones, or its exercise
 * run's (made on the run's first record, dropped at the next run's).
 * NULL when those cannot be made: the event is then not learned at all,
 * never by the real baselines. */
static struct anomaly *anomaly_for(struct ptriage *t, const struct event *ev)
{
    struct anomaly *n;

    if (ev->realm == 0)
        return t->an;
    if (t->an_ex && t->an_ex_realm == ev->realm)
        return t->an_ex;
    if (anomaly_new_like(t->an, &n) < 0) {
        log_warnx("anomaly: out of memory for an exercise run's baselines");
        return NULL;
    }
    anomaly_free(t->an_ex);
    t->an_ex = n;
    t->an_ex_realm = ev->realm;
    return n;
}

size_t ptriage_event(struct ptriage *t, const struct event *ev, const char *input_name)
{
    if (ev->time_us > t->max_time_us)
        t->max_time_us = ev->time_us;
    if (!t->an || !ev->decoder)
        return 0;
    t->input_name = input_name;
    t->an_cur = anomaly_for(t, ev);
    if (!t->an_cur)
        return 0;
    /* Out of memory, part of the event is not learned; the alerts raised
     * before that still go out. */
    (void)anomaly_observe(t->an_cur, ev);
    return anomaly_alert_count(t->an_cur);
}

void ptriage_flush(struct ptriage *t, int force)
{
    /* triage_flush walks every live aggregated alert, incident and entity:
     * once per PT_FLUSH_EVERY_US of event time is enough for windows of
     * minutes, and keeps the walk off the per-batch path.  The counts and
     * last seen that duplicates grew are written every batch, though
     * (triage_sync costs what changed): gated by event time, a quiet
     * source's folded alerts stayed at their first count in the store. */
    if (!force && t->max_time_us - t->last_flush_us < PT_FLUSH_EVERY_US) {
        triage_sync(t->tr);
        return;
    }
    t->last_flush_us = t->max_time_us;
    triage_flush(t->tr, t->max_time_us);
}

int ptriage_save(struct ptriage *t)
{
    int r;

    if (!t->an || !t->st)
        return 0;
    buf_reset(&t->tmp);
    if ((r = anomaly_save(t->an, &t->tmp)) < 0)
        return r;
    return store_state_set(t->st, "anomaly", t->tmp.data, t->tmp.len);
}

int ptriage_take_error(struct ptriage *t)
{
    int r = t->err;

    t->err = 0;
    return r;
}

void ptriage_stats(const struct ptriage *t, struct triage_stats *ret_triage,
                   struct anomaly_stats *ret_anomaly)
{
    if (ret_triage)
        triage_stats(t->tr, ret_triage);
    if (ret_anomaly) {
        memset(ret_anomaly, 0, sizeof(*ret_anomaly));
        if (t->an)
            anomaly_stats(t->an, ret_anomaly);
    }
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int pt_supp_load(void *ctx, const struct store_supp_rec *s)
{
    struct ptriage *t = ctx;
    struct parse_err pe = {0};
    int r;

    t->supp_seen = s->id;
    if (!s->yaml || !*s->yaml || s->lifted_us)
        return 0;
    r = triage_opts_load_suppress(t->opts, s->yaml, strlen(s->yaml), time_now_us(), &pe);
    if (r == -ENOMEM || (r == 0 && triage_supp_added(t->tr) < 0))
        return -ENOMEM;
    if (r < 0)
        log_warnx("triage: suppression %lld from the API refused: %s", (long long)s->id,
                  pe.msg ? pe.msg : strerror(-r));
    else
        log_info("triage: suppression %lld by %s applies until its expiry", (long long)s->id,
                 s->who ? s->who : "?");
    return 0;
}

/* A suppression lifted through the API stops applying: triage's copy of
 * it (labelled api-<id> by the case file) is marked expired. */
static int pt_supp_lifted(void *ctx, const struct store_supp_rec *s)
{
    struct ptriage *t = ctx;
    char label[32];

    t->lift_seen = s->lift_seq;
    snprintf(label, sizeof(label), "api-%lld", (long long)s->id);
    for (size_t i = 0; i < t->opts->nsupp; i++) {
        struct triage_supp *sp = &t->opts->supp[i];
        if (sp->id && strcmp(sp->id, label) == 0 && !sp->expired) {
            sp->expired = 1;
            log_info("triage: suppression %lld lifted by %s", (long long)s->id,
                     s->who ? s->who : "?");
        }
    }
    return 0;
}

void ptriage_poll(struct ptriage *t)
{
    int64_t now = mono_us();
    int r;

    /* A look costs one indexed query; once a second is prompt enough for
     * a person and nothing for the pipeline. */
    if (!t->st || (t->supp_poll_us && now - t->supp_poll_us < 1000000))
        return;
    t->supp_poll_us = now;
    if ((r = store_supp_each(t->st, t->supp_seen, pt_supp_load, t)) < 0)
        log_warnx("triage: reading suppressions: %s",
                  r == -ENOMEM ? "out of memory" : store_errmsg(t->st));
    else if (store_supp_each_lifted(t->st, t->lift_seen, pt_supp_lifted, t) < 0)
        log_warnx("triage: reading lifted suppressions: %s", store_errmsg(t->st));
}

const struct asset_inv *ptriage_assets(const struct ptriage *t)
{
    return &t->inv;
}

void ptriage_set_incident_cb(struct ptriage *t, ptriage_incident_fn cb, void *arg)
{
    t->inc_cb = cb;
    t->inc_arg = arg;
}

/* ---- setup ---- */

static void log_asset_issues(const struct asset_inv *inv, size_t from)
{
    for (size_t i = from; i < inv->nissues; i++)
        log_warnx("assets: %s:%u: %s", inv->issues[i].file ? inv->issues[i].file : "?",
                  inv->issues[i].line, inv->issues[i].reason);
}

static int load_assets(struct ptriage *t, const char *path)
{
    size_t before = t->inv.nissues;
    int r = asset_inv_load_file(&t->inv, path);

    if (r == -ENOMEM)
        return r;
    log_asset_issues(&t->inv, before);
    if (r >= 0)
        log_info("assets: %d entries from %s", r, path);
    return 0;
}

static int load_opts(const struct config *c, struct triage_opts **ret, char *errbuf,
                     size_t errlen)
{
    struct parse_err pe = {0};
    int r;

    *ret = NULL;
    if (!c->triage_config || !*c->triage_config ||
        (!c->triage_explicit && access(c->triage_config, R_OK) != 0)) {
        *ret = triage_opts_defaults();
        return *ret ? 0 : -ENOMEM;
    }
    r = triage_opts_load(c->triage_config, time_now_us(), ret, &pe);
    if (r == -EINVAL)
        ydoc_err_format(errbuf, errlen, c->triage_config, &pe);
    else if (r < 0)
        snprintf(errbuf, errlen, "%s: %s", c->triage_config, strerror(-r));
    return r;
}

int ptriage_new(const struct config *c, struct store *st, struct ptriage **ret, char *errbuf,
                size_t errlen)
{
    struct ptriage *t = calloc(1, sizeof(*t));
    struct triage_cb cb;
    int r;

    *ret = NULL;
    if (!t) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    if (htable_key_init(&t->hkey) < 0) {
        snprintf(errbuf, errlen, "no entropy for the hash key");
        free(t);
        return -EIO;
    }
    t->st = st;
    asset_inv_init(&t->inv);
    buf_init(&t->json, 4 * 1024 * 1024);
    buf_init(&t->text, 64 * 1024);
    buf_init(&t->tmp, 256 * 1024 * 1024);
    if ((r = load_opts(c, &t->opts, errbuf, errlen)) < 0)
        goto fail;
    for (size_t i = 0; i < t->opts->nasset_files; i++)
        if (load_assets(t, t->opts->asset_files[i]) < 0)
            goto oom;
    for (size_t i = 0; i < c->ntriage_assets; i++)
        if (load_assets(t, c->triage_assets[i]) < 0)
            goto oom;
    if (st && (r = store_agg_max_id(st, &t->agg_base)) < 0) {
        snprintf(errbuf, errlen, "store: %s", store_errmsg(st));
        goto fail;
    }
    cb = (struct triage_cb){
        .ctx = t,
        .alert_new = on_agg,
        .alert_updated = on_agg,
        .suppressed = on_suppressed,
        .incident_opened = on_inc_opened,
        .incident_updated = on_inc_updated,
        .incident_id = st ? next_incident_id : NULL,
    };
    t->tr = triage_new(t->opts, &t->inv, &cb);
    if (!t->tr)
        goto oom;
    if (c->anomaly_enabled) {
        struct anomaly_opts ao;

        anomaly_opts_default(&ao);
        ao.tz_off_s = c->tz_off_s;
        ao.tz = c->tz; /* anomaly_new() keeps a copy */
        if (c->anomaly_internal_set) {
            /* The config parser checked each; a failure here is a bug. */
            ao.ninternal = 0;
            for (size_t i = 0; i < c->nanomaly_internal && i < ANOMALY_INTERNAL_MAX; i++) {
                const char *s = c->anomaly_internal[i];
                if (asset_net_parse(s, strlen(s), &ao.internal[ao.ninternal]) == 0)
                    ao.ninternal++;
            }
        }
        if ((r = anomaly_new(&ao, &t->an)) < 0) {
            snprintf(errbuf, errlen, "anomaly: %s", strerror(-r));
            goto fail;
        }
        if (st) {
            void *blob = NULL;
            size_t len = 0;
            struct parse_err pe = {0};

            r = store_state_get(st, "anomaly", &blob, &len);
            if (r == 0 && anomaly_restore(t->an, blob, len, &pe) < 0)
                log_warnx("anomaly: the saved baselines are unusable (byte %zu: %s); learning "
                          "again from scratch",
                          pe.off, pe.msg ? pe.msg : "invalid");
            else if (r == 0)
                log_info("anomaly: baselines restored (%zu bytes)", len);
            free(blob);
        }
    }
    *ret = t;
    return 0;
oom:
    r = -ENOMEM;
    snprintf(errbuf, errlen, "out of memory");
fail:
    ptriage_free(t);
    return r;
}

void ptriage_free(struct ptriage *t)
{
    if (!t)
        return;
    triage_free(t->tr);
    anomaly_free(t->an);
    anomaly_free(t->an_ex);
    triage_opts_free(t->opts);
    asset_inv_done(&t->inv);
    buf_done(&t->json);
    buf_done(&t->text);
    buf_done(&t->tmp);
    free(t->evid);
    free(t->peers);
    free(t);
}
