/*
 * anomaly.c - the rate baselines, first-seen pairs and beaconing
 * detectors, their options and life cycle, the saved state's layout, and
 * the alerts' text and JSON.
 *
 * Every piece of learned state is an entry keyed by a byte string:
 *   kind (1 byte), sub-kind (1 byte), then 2 or 3 parts, each one length
 *   byte followed by that many bytes (values are truncated to 255 bytes).
 * The key says which fields the parts are (see entity_fields()), so a
 * saved blob needs no field names.  The entries' keyed table, LRU list and
 * memory cap are anomaly_table.c's.
 */
#include "triage/anomaly.h"
#include "triage/anomaly_priv.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "event/tz.h"
#include "util/buf.h"
#include "util/parse_err.h"

#define HOUR_US 3600000000LL
#define RATE_SLOTS 48           /* 24 hours of day x (weekday, weekend) */
#define RATE_GAP_FILL_HOURS 168 /* zero hours learned after a silence, at most */
#define RATE_N_MAX 65535
#define RATE_HOUR_MAX 3000000000LL /* beyond any hour of an int64 µs time */

enum first_sub {
    FIRST_LOGIN,     /* user.name, host.name */
    FIRST_PORT_IP,   /* source.ip, destination.port */
    FIRST_PORT_HOST, /* host.name, destination.port */
    FIRST_PROC_NAME, /* host.name, process.name */
    FIRST_PROC_EXE,  /* host.name, process.executable */
    FIRST_SUB_COUNT
};

/* Rate entities: the sub-kind of a rate key indexes this. */
static const uint32_t rate_fields[] = {FIELD_HOST_NAME, FIELD_USER_NAME, FIELD_SOURCE_IP};
#define RATE_SUB_COUNT (sizeof(rate_fields) / sizeof(rate_fields[0]))
static const char *const rate_names[RATE_SUB_COUNT] = {"host.name", "user.name", "source.ip"};

struct rate_state {
    int64_t cur_hour;       /* hour number (since the epoch, in tz) of the open hour */
    uint32_t cur_count;     /* events so far in the open hour */
    uint8_t alerted;        /* 1 once the open hour has raised its alert */
    float mean[RATE_SLOTS]; /* EWMA of the hourly count; >= 0 */
    float dev[RATE_SLOTS];  /* EWMA of |count - mean|; >= 0 */
    uint16_t n[RATE_SLOTS]; /* hours learned, saturating */
};

struct beacon_state {
    int64_t last_us;       /* event time of the last counted connection */
    int64_t last_alert_us; /* INT64_MIN until the first alert */
    uint32_t total;        /* connections counted, saturating */
    uint16_t cap;          /* ring size, 2 .. ANOMALY_BEACON_HISTORY_MAX */
    uint16_t nint;         /* intervals in the ring, <= cap */
    uint16_t head;         /* next ring slot written */
    uint32_t iv[];         /* intervals in ms, saturating */
};

/* ---- keys ------------------------------------------------------------- */

/* Field names of a key's parts, by kind and sub-kind; NULL if invalid. */
static const char *const *entity_fields(uint8_t kind, uint8_t sub, unsigned *ret_n)
{
    static const char *const rate[RATE_SUB_COUNT][2] = {
        {"host.name", "event.dataset"},
        {"user.name", "event.dataset"},
        {"source.ip", "event.dataset"},
    };
    static const char *const first[FIRST_SUB_COUNT][2] = {
        {"user.name", "host.name"},          {"source.ip", "destination.port"},
        {"host.name", "destination.port"},   {"host.name", "process.name"},
        {"host.name", "process.executable"},
    };
    static const char *const beacon[3] = {"source.ip", "destination.ip", "destination.port"};

    if (kind == KEY_RATE && sub < RATE_SUB_COUNT) {
        *ret_n = 2;
        return rate[sub];
    }
    if (kind == KEY_FIRST && sub < FIRST_SUB_COUNT) {
        *ret_n = 2;
        return first[sub];
    }
    if (kind == KEY_BEACON && sub == 0) {
        *ret_n = 3;
        return beacon;
    }
    return anomaly_outbound_fields(kind, sub, ret_n);
}

/* 1 if `k` is a well-formed key: known kind and sub-kind, exactly the
 * right number of non-empty parts filling it. */
static int key_valid(const unsigned char *k, size_t n)
{
    unsigned parts;
    size_t off = 2;

    if (n < 2 || !entity_fields(k[0], k[1], &parts))
        return 0;
    for (unsigned i = 0; i < parts; i++) {
        if (off >= n || k[off] == 0 || n - off - 1 < k[off])
            return 0;
        off += 1 + (size_t)k[off];
    }
    return off == n;
}

/* ---- options, life cycle ---------------------------------------------- */

void anomaly_opts_default(struct anomaly_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->mem_cap = 32u * 1024 * 1024;
    o->tz_off_s = 0;
    o->rate_enable = 1;
    o->rate_alpha = 0.1;
    o->rate_cold_samples = 3;
    o->rate_min_count = 20;
    o->rate_threshold = 5.0;
    o->rate_min_dev = 1.0;
    o->first_seen_enable = 1;
    o->first_seen_learn_us = 7 * 24 * HOUR_US;
    o->beacon_enable = 1;
    o->beacon_min_conns = 20;
    o->beacon_history = 32;
    o->beacon_max_cv = 0.1;
    o->beacon_min_interval_us = 10 * 1000000LL;
    o->beacon_max_interval_us = HOUR_US;
    o->beacon_merge_us = 1000000LL;
    o->beacon_quiet_us = 24 * HOUR_US;
    anomaly_outbound_opts_default(o);
}

static int opts_check(const struct anomaly_opts *o)
{
    if (o->mem_cap < ANOMALY_MEM_CAP_MIN || o->tz_off_s > 14 * 3600 || o->tz_off_s < -14 * 3600)
        return -EINVAL;
    if (!(o->rate_alpha > 0.0 && o->rate_alpha <= 1.0) || o->rate_cold_samples < 1 ||
        !(o->rate_threshold > 0.0) || !(o->rate_min_dev >= 0.0) || !isfinite(o->rate_threshold) ||
        !isfinite(o->rate_min_dev))
        return -EINVAL;
    if (o->first_seen_learn_us < 0)
        return -EINVAL;
    if (o->beacon_min_conns < 3 || o->beacon_history < 2 ||
        o->beacon_history > ANOMALY_BEACON_HISTORY_MAX || !(o->beacon_max_cv > 0.0) ||
        o->beacon_min_interval_us <= 0 || o->beacon_max_interval_us < o->beacon_min_interval_us ||
        o->beacon_merge_us < 0 || o->beacon_quiet_us < 0)
        return -EINVAL;
    return anomaly_outbound_opts_check(o);
}

int anomaly_new(const struct anomaly_opts *opts, struct anomaly **ret)
{
    struct anomaly *a;
    int r;

    *ret = NULL;
    if (sodium_init() < 0)
        return -EIO;
    a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    if (opts)
        a->o = *opts;
    else
        anomaly_opts_default(&a->o);
    if (opts_check(&a->o) < 0) {
        free(a);
        return -EINVAL;
    }
    if (a->o.tz) {
        if (!(a->tz_own = tz_dup(a->o.tz))) {
            free(a);
            return -ENOMEM;
        }
        a->o.tz = a->tz_own;
    }
    /* The table's hash key is random: senders cannot flood one bucket
     * with chosen entity names. */
    if ((r = anomaly_entries_init(a)) < 0) {
        tz_free(a->tz_own);
        free(a);
        return r;
    }
    a->id_exe = field_intern("process.executable", 18);
    a->id_dns_name = field_intern("dns.question.name", 17);
    a->id_dns_type = field_intern("dns.type", 8);
    *ret = a;
    return 0;
}

int anomaly_new_like(const struct anomaly *a, struct anomaly **ret)
{
    return anomaly_new(&a->o, ret);
}

void anomaly_free(struct anomaly *a)
{
    if (!a)
        return;
    anomaly_entries_free(a);
    tz_free(a->tz_own);
    free(a);
}

void anomaly_stats(const struct anomaly *a, struct anomaly_stats *ret)
{
    *ret = a->st;
    ret->entries = htable_count(&a->tab);
    ret->mem_used = htable_bytes(&a->tab);
    ret->mem_cap = a->o.mem_cap;
}

/* ---- event helpers ---------------------------------------------------- */

/* 1 if v contains needle (lower case), ignoring ASCII case. */
static int ci_contains(struct anomaly_val v, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= v.n; i++) {
        size_t k = 0;
        while (k < n) {
            char c = v.p[i + k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != needle[k])
                break;
            k++;
        }
        if (k == n)
            return 1;
    }
    return 0;
}

/* ---- rate ------------------------------------------------------------- */

/* Poisson counts vary by about sqrt(mean) on their own, so a deviation
 * learned from a very steady feed never goes below that. */
static double dev_eff(const struct anomaly_opts *o, double mean, double dev)
{
    double d = dev;

    if (d < o->rate_min_dev)
        d = o->rate_min_dev;
    if (d < sqrt(mean))
        d = sqrt(mean);
    return d;
}

static void rate_learn(const struct anomaly_opts *o, struct rate_state *r, int s, double x)
{
    double m = r->mean[s], d = r->dev[s];
    unsigned n = r->n[s];

    /* A burst that already alerted is learned only up to the threshold, so
     * that one attack does not teach the baseline to accept the next. */
    if (n && n >= o->rate_cold_samples) {
        double lim = m + o->rate_threshold * dev_eff(o, m, d);
        if (x > lim)
            x = lim;
    }
    r->n[s] = (uint16_t)anomaly_ewma_learn(&r->mean[s], &r->dev[s], n, RATE_N_MAX, o->rate_alpha,
                                           x);
}

static int rate_one(struct anomaly *a, const struct event *ev, unsigned sub, struct anomaly_val ent,
                    struct anomaly_val cat, int64_t hour)
{
    struct anomaly_key k;
    struct anomaly_entry *e;
    struct rate_state *r;
    int created, s, hod, weekend;
    double dev;

    anomaly_key_start(&k, KEY_RATE, (uint8_t)sub);
    anomaly_key_part(&k, ent.p, ent.n);
    anomaly_key_part(&k, cat.p, cat.n);
    e = anomaly_entry_get(a, KEY_RATE, k.b, k.n, sizeof(struct rate_state), &created);
    if (!e)
        return -ENOMEM;
    r = (struct rate_state *)e->data;
    if (created)
        r->cur_hour = hour;
    if (hour < r->cur_hour) {
        a->st.late++;
        return 0;
    }
    if (hour > r->cur_hour) {
        int64_t from = r->cur_hour + 1;
        rate_learn(&a->o, r, anomaly_slot_of(r->cur_hour, NULL, NULL), r->cur_count);
        /* Hours without any event of this entity were zero-count hours. */
        if (hour - from > RATE_GAP_FILL_HOURS)
            from = hour - RATE_GAP_FILL_HOURS;
        for (int64_t h = from; h < hour; h++)
            rate_learn(&a->o, r, anomaly_slot_of(h, NULL, NULL), 0);
        r->cur_hour = hour;
        r->cur_count = 0;
        r->alerted = 0;
    }
    if (r->cur_count < UINT32_MAX)
        r->cur_count++;
    s = anomaly_slot_of(hour, &hod, &weekend);
    if (r->alerted || r->n[s] < a->o.rate_cold_samples || r->cur_count < a->o.rate_min_count)
        return 0;
    dev = dev_eff(&a->o, r->mean[s], r->dev[s]);
    if (r->cur_count > r->mean[s] + a->o.rate_threshold * dev) {
        struct anomaly_alert al;
        memset(&al, 0, sizeof(al));
        r->alerted = 1;
        al.kind = ANOMALY_RATE;
        al.what = "rate";
        al.time_us = ev->time_us;
        anomaly_set_entity(&al, rate_names[sub], ent);
        al.category = cat.p;
        al.category_len = cat.n;
        al.mean = r->mean[s];
        al.dev = dev;
        al.observed = r->cur_count;
        al.score = (r->cur_count - al.mean) / dev;
        al.learned = r->n[s];
        al.slot_hour = hod;
        al.slot_weekend = weekend;
        return anomaly_alert_emit(a, &al);
    }
    return 0;
}

static int rate_observe(struct anomaly *a, const struct event *ev)
{
    struct anomaly_val cat = anomaly_get(ev, FIELD_EVENT_DATASET);
    int64_t t = ev->time_us, hour;
    int r = 0;

    if (cat.n == 0 && ev->decoder) {
        cat.p = ev->decoder;
        cat.n = strlen(ev->decoder);
        if (cat.n > ANOMALY_VALUE_MAX)
            cat.n = ANOMALY_VALUE_MAX;
    }
    if (cat.n == 0) {
        cat.p = "-";
        cat.n = 1;
    }
    hour = anomaly_local_hour(a, t);
    for (unsigned i = 0; i < RATE_SUB_COUNT && r >= 0; i++) {
        struct anomaly_val ent = anomaly_get(ev, rate_fields[i]);
        if (ent.n)
            r = rate_one(a, ev, i, ent, cat, hour);
    }
    return r;
}

/* ---- first seen ------------------------------------------------------- */

static int first_one(struct anomaly *a, const struct event *ev, unsigned sub, const char *what,
                     struct anomaly_val v0, struct anomaly_val v1)
{
    struct anomaly_key k;
    struct anomaly_entry *e;
    int created;
    int64_t t = ev->time_us, end;
    const char *const *names;
    unsigned nn;
    struct anomaly_alert al;

    anomaly_key_start(&k, KEY_FIRST, (uint8_t)sub);
    anomaly_key_part(&k, v0.p, v0.n);
    anomaly_key_part(&k, v1.p, v1.n);
    e = anomaly_entry_get(a, KEY_FIRST, k.b, k.n, sizeof(struct anomaly_first_state), &created);
    if (!e)
        return -ENOMEM;
    if (!created)
        return 0;
    ((struct anomaly_first_state *)e->data)->first_us = t;
    end = a->start_us > INT64_MAX - a->o.first_seen_learn_us
              ? INT64_MAX
              : a->start_us + a->o.first_seen_learn_us;
    if (t < end)
        return 0;
    memset(&al, 0, sizeof(al));
    names = entity_fields(KEY_FIRST, (uint8_t)sub, &nn);
    if (!names)
        return 0;
    al.kind = ANOMALY_FIRST_SEEN;
    al.what = what;
    al.time_us = t;
    anomaly_set_entity(&al, names[0], v0);
    anomaly_set_entity(&al, names[1], v1);
    al.observed = 1;
    al.score = 1;
    al.learned = htable_count(&a->tab) > UINT32_MAX ? UINT32_MAX : (uint32_t)htable_count(&a->tab);
    al.learn_end_us = end;
    return anomaly_alert_emit(a, &al);
}

static int first_observe(struct anomaly *a, const struct event *ev)
{
    struct anomaly_val host = anomaly_get(ev, FIELD_HOST_NAME),
                       cat = anomaly_get(ev, FIELD_EVENT_CATEGORY);
    struct anomaly_val out = anomaly_get(ev, FIELD_EVENT_OUTCOME),
                       dport = anomaly_get(ev, FIELD_DESTINATION_PORT);
    int r = 0;

    if (anomaly_val_is(cat, "authentication") && anomaly_val_is(out, "success")) {
        struct anomaly_val act = anomaly_get(ev, FIELD_EVENT_ACTION),
                           user = anomaly_get(ev, FIELD_USER_NAME);
        if (user.n && host.n &&
            (ci_contains(act, "login") || ci_contains(act, "logon") ||
             ci_contains(act, "logged-in")))
            r = first_one(a, ev, FIRST_LOGIN, "first_seen_login", user, host);
    }
    if (r >= 0 && anomaly_val_is(cat, "network") && dport.n &&
        !anomaly_val_is(anomaly_get(ev, FIELD_EVENT_TYPE), "denied")) {
        struct anomaly_val src = anomaly_get(ev, FIELD_SOURCE_IP);
        if (src.n)
            r = first_one(a, ev, FIRST_PORT_IP, "first_seen_port", src, dport);
        else if (host.n)
            r = first_one(a, ev, FIRST_PORT_HOST, "first_seen_port", host, dport);
    }
    if (r >= 0 && host.n) {
        struct anomaly_val code = anomaly_get(ev, FIELD_EVENT_CODE);
        if (anomaly_val_is(cat, "process") || anomaly_val_is(code, "1") ||
            anomaly_val_is(code, "4688")) {
            struct anomaly_val exe = anomaly_get(ev, a->id_exe),
                               name = anomaly_get(ev, FIELD_PROCESS_NAME);
            if (exe.n)
                r = first_one(a, ev, FIRST_PROC_EXE, "first_seen_process", host, exe);
            else if (name.n)
                r = first_one(a, ev, FIRST_PROC_NAME, "first_seen_process", host, name);
        }
    }
    return r;
}

/* ---- beaconing -------------------------------------------------------- */

static size_t beacon_size(unsigned cap)
{
    return sizeof(struct beacon_state) + cap * sizeof(uint32_t);
}

static void beacon_push(struct beacon_state *b, uint64_t d_us)
{
    uint64_t ms = d_us / 1000;

    b->iv[b->head] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    b->head = (uint16_t)((b->head + 1) % b->cap);
    if (b->nint < b->cap)
        b->nint++;
}

static int beacon_observe(struct anomaly *a, const struct event *ev)
{
    struct anomaly_val src = anomaly_get(ev, FIELD_SOURCE_IP),
                       dst = anomaly_get(ev, FIELD_DESTINATION_IP);
    struct anomaly_val dport = anomaly_get(ev, FIELD_DESTINATION_PORT);
    struct anomaly_key k;
    struct anomaly_entry *e;
    struct beacon_state *b;
    int64_t t = ev->time_us;
    double sum = 0, sq = 0, mean, sd, cv;
    int created;

    if (!src.n || !dst.n || !dport.n)
        return 0;
    anomaly_key_start(&k, KEY_BEACON, 0);
    anomaly_key_part(&k, src.p, src.n);
    anomaly_key_part(&k, dst.p, dst.n);
    anomaly_key_part(&k, dport.p, dport.n);
    e = anomaly_entry_get(a, KEY_BEACON, k.b, k.n, beacon_size(a->o.beacon_history), &created);
    if (!e)
        return -ENOMEM;
    b = (struct beacon_state *)e->data;
    if (created) {
        b->last_us = t;
        b->last_alert_us = INT64_MIN;
        b->total = 1;
        b->cap = (uint16_t)a->o.beacon_history;
        return 0;
    }
    if (t < b->last_us) {
        a->st.late++;
        return 0;
    }
    /* Several log lines of one connection (packets, open and close). */
    if (anomaly_span_us(b->last_us, t) < (uint64_t)a->o.beacon_merge_us)
        return 0;
    beacon_push(b, anomaly_span_us(b->last_us, t));
    b->last_us = t;
    if (b->total < UINT32_MAX)
        b->total++;
    if (b->total < a->o.beacon_min_conns || b->nint < 2)
        return 0;
    if (b->last_alert_us != INT64_MIN &&
        (t < b->last_alert_us ||
         anomaly_span_us(b->last_alert_us, t) < (uint64_t)a->o.beacon_quiet_us))
        return 0;
    for (unsigned i = 0; i < b->nint; i++) {
        double x = b->iv[i] / 1000.0;
        sum += x;
        sq += x * x;
    }
    mean = sum / b->nint;
    sd = sq / b->nint - mean * mean;
    sd = sd > 0 ? sqrt(sd) : 0;
    if (!(mean > 0) || mean * 1e6 < (double)a->o.beacon_min_interval_us ||
        mean * 1e6 > (double)a->o.beacon_max_interval_us)
        return 0;
    cv = sd / mean;
    if (cv > a->o.beacon_max_cv)
        return 0;
    b->last_alert_us = t;
    {
        struct anomaly_alert al;
        memset(&al, 0, sizeof(al));
        al.kind = ANOMALY_BEACON;
        al.what = "beacon";
        al.time_us = t;
        anomaly_set_entity(&al, "source.ip", src);
        anomaly_set_entity(&al, "destination.ip", dst);
        anomaly_set_entity(&al, "destination.port", dport);
        al.mean = mean;
        al.dev = sd;
        al.observed = cv;
        al.score = cv * 1000 < a->o.beacon_max_cv ? 1000 : a->o.beacon_max_cv / cv;
        al.learned = b->nint;
        return anomaly_alert_emit(a, &al);
    }
}

/* ---- observe ---------------------------------------------------------- */

int anomaly_observe(struct anomaly *a, const struct event *ev)
{
    int r = 0;

    a->st.events++;
    a->nkept = 0;
    if (!a->started) {
        a->start_us = ev->time_us;
        a->started = 1;
    }
    if (a->o.rate_enable)
        r = rate_observe(a, ev);
    if (r >= 0 && a->o.first_seen_enable)
        r = first_observe(a, ev);
    if (r >= 0 && a->o.beacon_enable)
        r = beacon_observe(a, ev);
    if (r >= 0)
        r = anomaly_outbound_observe(a, ev);
    return r;
}

/* ---- save ------------------------------------------------------------- */

#define BLOB_MAGIC "HKAN"
/* Version 2 added the outbound kinds; a version 1 blob (which has none)
 * still restores. */
#define BLOB_VERSION 2
#define BLOB_HEADER 20 /* magic 4, version 2, flags 2, start 8, count 4 */
#define BLOB_FLAG_STARTED 1u

static void save_entry(struct anomaly_wr *w, const struct anomaly_entry *e)
{
    uint8_t kind = anomaly_entry_kind(e);

    anomaly_w_uint(w, kind, 1);
    anomaly_w_uint(w, anomaly_entry_key_len(e), 2);
    anomaly_w_bytes(w, anomaly_entry_key(e), anomaly_entry_key_len(e));
    if (kind == KEY_RATE) {
        const struct rate_state *r = (const struct rate_state *)e->data;
        anomaly_w_uint(w, (uint64_t)r->cur_hour, 8);
        anomaly_w_uint(w, r->cur_count, 4);
        anomaly_w_uint(w, r->alerted, 1);
        for (int s = 0; s < RATE_SLOTS; s++)
            anomaly_w_f32(w, r->mean[s]);
        for (int s = 0; s < RATE_SLOTS; s++)
            anomaly_w_f32(w, r->dev[s]);
        for (int s = 0; s < RATE_SLOTS; s++)
            anomaly_w_uint(w, r->n[s], 2);
    } else if (kind == KEY_FIRST) {
        anomaly_w_uint(w, (uint64_t)((const struct anomaly_first_state *)e->data)->first_us, 8);
    } else if (kind != KEY_BEACON) {
        anomaly_outbound_save(w, e);
    } else {
        const struct beacon_state *b = (const struct beacon_state *)e->data;
        anomaly_w_uint(w, (uint64_t)b->last_us, 8);
        anomaly_w_uint(w, (uint64_t)b->last_alert_us, 8);
        anomaly_w_uint(w, b->total, 4);
        anomaly_w_uint(w, b->nint, 2);
        /* Oldest first: the ring starts at head once it has wrapped. */
        for (unsigned i = 0; i < b->nint; i++)
            anomaly_w_uint(w, b->iv[(b->head + b->cap - b->nint + i) % b->cap], 4);
    }
}

int anomaly_save(const struct anomaly *a, struct buf *out)
{
    struct anomaly_wr w = {out, 0};
    size_t start = out->len;
    uint32_t crc;

    anomaly_w_bytes(&w, BLOB_MAGIC, 4);
    anomaly_w_uint(&w, BLOB_VERSION, 2);
    anomaly_w_uint(&w, a->started ? BLOB_FLAG_STARTED : 0, 2);
    anomaly_w_uint(&w, (uint64_t)a->start_us, 8);
    anomaly_w_uint(&w, htable_count(&a->tab), 4);
    for (const struct htable_node *n = htable_oldest(&a->tab); n; n = htable_newer(n))
        save_entry(&w, (const struct anomaly_entry *)n);
    if (w.err)
        return w.err;
    crc = (uint32_t)crc32_z(0L, (const Bytef *)out->data + start, out->len - start);
    anomaly_w_uint(&w, crc, 4);
    return w.err;
}

/* ---- restore ---------------------------------------------------------- */

static int restore_entry(struct anomaly *t, struct anomaly_rd *r)
{
    uint8_t kind = (uint8_t)anomaly_r_uint(r, 1);
    size_t klen = (size_t)anomaly_r_uint(r, 2), kofs = r->off;
    struct anomaly_entry *e;
    int created;

    if (r->msg)
        return -EINVAL;
    if (kind < KEY_RATE || kind >= KEY_KIND_END)
        return anomaly_r_fail(r, "anomaly state entry of an unknown kind");
    if (r->len - r->off < klen)
        return anomaly_r_fail(r, "truncated anomaly state");
    if (!key_valid(r->p + kofs, klen) || r->p[kofs] != kind)
        return anomaly_r_fail(r, "anomaly state entry with a malformed key");
    r->off += klen;
    if (kind == KEY_RATE) {
        struct rate_state rs;
        memset(&rs, 0, sizeof(rs));
        rs.cur_hour = (int64_t)anomaly_r_uint(r, 8);
        rs.cur_count = (uint32_t)anomaly_r_uint(r, 4);
        rs.alerted = (uint8_t)anomaly_r_uint(r, 1);
        for (int s = 0; s < RATE_SLOTS; s++)
            rs.mean[s] = anomaly_r_f32(r);
        for (int s = 0; s < RATE_SLOTS; s++)
            rs.dev[s] = anomaly_r_f32(r);
        for (int s = 0; s < RATE_SLOTS; s++)
            rs.n[s] = (uint16_t)anomaly_r_uint(r, 2);
        if (r->msg)
            return -EINVAL;
        if (rs.alerted > 1)
            return anomaly_r_fail(r, "anomaly state rate entry with an invalid flag");
        /* Event hours never pass +/-2.6e9; further out the gap arithmetic
         * could overflow. */
        if (rs.cur_hour > RATE_HOUR_MAX || rs.cur_hour < -RATE_HOUR_MAX)
            return anomaly_r_fail(r, "anomaly state rate entry with an impossible hour");
        e = anomaly_entry_get(t, kind, r->p + kofs, klen, sizeof(rs), &created);
        if (!e)
            return -ENOMEM;
        if (!created)
            return anomaly_r_fail(r, "anomaly state has a duplicate entry");
        memcpy(e->data, &rs, sizeof(rs));
    } else if (kind != KEY_FIRST && kind != KEY_BEACON) {
        size_t psz = anomaly_outbound_payload(t, kind);
        uint64_t pay[ANOMALY_OUTBOUND_PAYLOAD_MAX / 8];

        memset(pay, 0, sizeof(pay));
        if (psz > sizeof(pay) || anomaly_outbound_restore(t, r, kind, pay) < 0)
            return r->msg ? -EINVAL : anomaly_r_fail(r, "invalid anomaly state entry");
        e = anomaly_entry_get(t, kind, r->p + kofs, klen, psz, &created);
        if (!e)
            return -ENOMEM;
        if (!created)
            return anomaly_r_fail(r, "anomaly state has a duplicate entry");
        memcpy(e->data, pay, psz);
    } else if (kind == KEY_FIRST) {
        int64_t first = (int64_t)anomaly_r_uint(r, 8);
        if (r->msg)
            return -EINVAL;
        e = anomaly_entry_get(t, kind, r->p + kofs, klen, sizeof(struct anomaly_first_state),
                              &created);
        if (!e)
            return -ENOMEM;
        if (!created)
            return anomaly_r_fail(r, "anomaly state has a duplicate entry");
        ((struct anomaly_first_state *)e->data)->first_us = first;
    } else {
        int64_t last = (int64_t)anomaly_r_uint(r, 8), last_alert = (int64_t)anomaly_r_uint(r, 8);
        uint32_t total = (uint32_t)anomaly_r_uint(r, 4);
        unsigned nint = (unsigned)anomaly_r_uint(r, 2), cap = t->o.beacon_history, skip;
        struct beacon_state *b;
        if (r->msg)
            return -EINVAL;
        if (nint > ANOMALY_BEACON_HISTORY_MAX || total == 0 || nint >= total)
            return anomaly_r_fail(r, "anomaly state beacon entry with inconsistent counts");
        if ((r->len - r->off) / 4 < nint)
            return anomaly_r_fail(r, "truncated anomaly state");
        e = anomaly_entry_get(t, kind, r->p + kofs, klen, beacon_size(cap), &created);
        if (!e)
            return -ENOMEM;
        if (!created)
            return anomaly_r_fail(r, "anomaly state has a duplicate entry");
        b = (struct beacon_state *)e->data;
        b->last_us = last;
        b->last_alert_us = last_alert;
        b->total = total;
        b->cap = (uint16_t)cap;
        /* A shorter history now keeps the newest intervals. */
        skip = nint > cap ? nint - cap : 0;
        for (unsigned i = 0; i < nint; i++) {
            uint32_t ms = (uint32_t)anomaly_r_uint(r, 4);
            if (i >= skip)
                beacon_push(b, (uint64_t)ms * 1000);
        }
    }
    return r->msg ? -EINVAL : 0;
}

int anomaly_restore(struct anomaly *a, const char *buf, size_t len, struct parse_err *reterr)
{
    struct anomaly_rd r = {(const unsigned char *)buf, len, 0, 0, NULL};
    struct anomaly *t = NULL;
    uint32_t crc, want, n, flags;
    unsigned ver;
    int ret;

    if (len < BLOB_HEADER + 4) {
        parse_err_set(reterr, len, "truncated anomaly state");
        return -EINVAL;
    }
    if (memcmp(buf, BLOB_MAGIC, 4) != 0) {
        parse_err_set(reterr, 0, "not an anomaly state (bad magic)");
        return -EINVAL;
    }
    r.off = 4;
    ver = (unsigned)anomaly_r_uint(&r, 2);
    if (ver != 1 && ver != BLOB_VERSION) {
        parse_err_set(reterr, 4, "unsupported anomaly state version");
        return -EINVAL;
    }
    want = (uint32_t)crc32_z(0L, (const Bytef *)buf, len - 4);
    r.len = len - 4;
    {
        struct anomaly_rd c = {(const unsigned char *)buf, len, len - 4, 0, NULL};
        crc = (uint32_t)anomaly_r_uint(&c, 4);
    }
    if (crc != want) {
        parse_err_set(reterr, len - 4, "anomaly state checksum mismatch (corrupt or truncated)");
        return -EINVAL;
    }
    flags = (uint32_t)anomaly_r_uint(&r, 2);
    if (flags & ~BLOB_FLAG_STARTED) {
        parse_err_set(reterr, 6, "anomaly state with unknown flags");
        return -EINVAL;
    }
    if ((ret = anomaly_new(&a->o, &t)) < 0) {
        parse_err_set(reterr, 0, "out of memory");
        return ret;
    }
    t->started = (flags & BLOB_FLAG_STARTED) != 0;
    t->start_us = (int64_t)anomaly_r_uint(&r, 8);
    n = (uint32_t)anomaly_r_uint(&r, 4);
    for (uint32_t i = 0; i < n; i++) {
        if ((ret = restore_entry(t, &r)) < 0)
            break;
    }
    if (ret == 0 && r.off != r.len)
        ret = anomaly_r_fail(&r, "anomaly state has trailing bytes after its entries");
    if (ret < 0) {
        if (ret == -ENOMEM)
            parse_err_set(reterr, r.off, "out of memory");
        else
            parse_err_set(reterr, r.fail_off, r.msg ? r.msg : "invalid anomaly state");
        anomaly_free(t);
        return ret;
    }
    /* Swap the new state in; counters stay, plus the restore's evictions. */
    anomaly_entries_take(a, t);
    a->nkept = 0;
    a->start_us = t->start_us;
    a->started = t->started;
    memcpy(a->st.entries_by_kind, t->st.entries_by_kind, sizeof(a->st.entries_by_kind));
    a->st.evicted += t->st.evicted;
    tz_free(t->tz_own);
    free(t);
    return 0;
}

/* ---- formatting ------------------------------------------------------- */

const char *anomaly_kind_name(enum anomaly_kind k)
{
    switch (k) {
    case ANOMALY_RATE: return "rate";
    case ANOMALY_FIRST_SEEN: return "first_seen";
    case ANOMALY_BEACON: return "beacon";
    case ANOMALY_FIRST_EXTERNAL: return "first_external";
    case ANOMALY_OUTBOUND_VOLUME: return "outbound_volume";
    case ANOMALY_DNS_TUNNEL: return "dns_tunnel";
    }
    return "unknown";
}

/* A value in double quotes; quotes, backslashes and non-printable bytes
 * escaped so a hostile value cannot fake the rest of the sentence. */
static int put_quoted(struct buf *out, const char *p, size_t n)
{
    int r = buf_putc(out, '"');

    for (size_t i = 0; i < n && r == 0; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            r = buf_printf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            r = buf_printf(out, "\\x%02x", c);
        else
            r = buf_putc(out, (char)c);
    }
    return r ? r : buf_putc(out, '"');
}

static int put_entities(struct buf *out, const struct anomaly_alert *al, const char *sep)
{
    int r = 0;

    for (unsigned i = 0; i < al->nentity && i < 3 && r == 0; i++) {
        if (i)
            r = buf_puts(out, sep);
        if (!r)
            r = buf_printf(out, "%s=", al->entity[i].field);
        if (!r)
            r = put_quoted(out, al->entity[i].val, al->entity[i].len);
    }
    return r;
}

int anomaly_alert_text(const struct anomaly_alert *al, struct buf *out)
{
    char ts[TIME_ISO_LEN];
    int r;

    time_format_iso(al->time_us, ts, sizeof(ts));
    switch (al->kind) {
    case ANOMALY_RATE:
        r = buf_puts(out, "rate anomaly: ");
        r = r ? r : put_entities(out, al, " ");
        r = r ? r : buf_puts(out, " category ");
        r = r ? r : put_quoted(out, al->category, al->category_len);
        r = r ? r
              : buf_printf(out,
                           " had %.0f events in the %02d:00 %s hour up to %s; baseline "
                           "%.1f +/- %.1f from %u hours learned (score %.1f)",
                           al->observed, al->slot_hour, al->slot_weekend ? "weekend" : "weekday",
                           ts, al->mean, al->dev, al->learned, al->score);
        return r;
    case ANOMALY_FIRST_SEEN:
        r = buf_printf(out, "%s: ", al->what);
        r = r ? r : put_entities(out, al, " with ");
        if (!r) {
            char end[TIME_ISO_LEN];
            time_format_iso(al->learn_end_us, end, sizeof(end));
            r = buf_printf(out, " seen for the first time at %s (learning ended %s)", ts, end);
        }
        return r;
    case ANOMALY_FIRST_EXTERNAL:
        r = buf_puts(out, "first_seen_external: ");
        r = r ? r : put_entities(out, al, " to ");
        if (!r) {
            char end[TIME_ISO_LEN];
            time_format_iso(al->learn_end_us, end, sizeof(end));
            r = buf_printf(out,
                           " for the first time at %s (host learning ended %s; %.1f new "
                           "external destinations a day over %u days)",
                           ts, end, al->mean, al->learned);
        }
        return r;
    case ANOMALY_OUTBOUND_VOLUME:
        r = buf_puts(out, "outbound volume: ");
        r = r ? r : put_entities(out, al, " ");
        r = r ? r
              : buf_printf(out,
                           " sent %.0f bytes to external addresses in the %02d:00 %s hour up "
                           "to %s; baseline %.0f +/- %.0f from %u hours learned (score %.1f); "
                           "last to ",
                           al->observed, al->slot_hour, al->slot_weekend ? "weekend" : "weekday",
                           ts, al->mean, al->dev, al->learned, al->score);
        r = r ? r : put_quoted(out, al->sample, al->sample ? al->sample_len : 0);
        return r;
    case ANOMALY_DNS_TUNNEL:
        r = buf_puts(out, "dns tunnel: ");
        r = r ? r : put_entities(out, al, " resolved names under ");
        r = r ? r
              : buf_printf(out,
                           ": %.0f distinct long, high-entropy names within %u s up to %s "
                           "(mean %.1f characters, %.2f bits each; score %.1f), e.g. ",
                           al->observed, al->learned, ts, al->mean, al->dev, al->score);
        r = r ? r : put_quoted(out, al->sample, al->sample ? al->sample_len : 0);
        return r;
    case ANOMALY_BEACON:
        r = buf_puts(out, "beaconing: ");
        r = r ? r : put_entities(out, al, " to ");
        r = r ? r
              : buf_printf(out,
                           " every %.1f s +/- %.1f s over the last %u intervals up to %s "
                           "(cv %.3f, score %.1f)",
                           al->mean, al->dev, al->learned, ts, al->observed, al->score);
        return r;
    }
    return buf_puts(out, "unknown anomaly");
}

int anomaly_alert_json(const struct anomaly_alert *al, struct buf *out)
{
    char ts[TIME_ISO_LEN];
    int r;

    time_format_iso(al->time_us, ts, sizeof(ts));
    r = buf_printf(out, "{\"kind\":\"%s\",\"what\":", anomaly_kind_name(al->kind));
    r = r ? r : buf_json_str(out, al->what ? al->what : "", al->what ? strlen(al->what) : 0);
    r = r ? r : buf_printf(out, ",\"time\":\"%s\",\"entity\":{", ts);
    for (unsigned i = 0; i < al->nentity && i < 3 && r == 0; i++) {
        if (i)
            r = buf_putc(out, ',');
        r = r ? r : buf_json_str(out, al->entity[i].field, strlen(al->entity[i].field));
        r = r ? r : buf_putc(out, ':');
        r = r ? r : buf_json_str(out, al->entity[i].val, al->entity[i].len);
    }
    r = r ? r : buf_putc(out, '}');
    switch (al->kind) {
    case ANOMALY_RATE:
        r = r ? r : buf_puts(out, ",\"category\":");
        r = r ? r : buf_json_str(out, al->category, al->category_len);
        r = r ? r
              : buf_printf(out,
                           ",\"slot\":{\"hour\":%d,\"weekend\":%s},\"baseline\":{\"mean\":%.3f,"
                           "\"dev\":%.3f,\"hours_learned\":%u},\"observed\":%.0f",
                           al->slot_hour, al->slot_weekend ? "true" : "false", al->mean, al->dev,
                           al->learned, al->observed);
        break;
    case ANOMALY_FIRST_SEEN: {
        char end[TIME_ISO_LEN];
        time_format_iso(al->learn_end_us, end, sizeof(end));
        r = r ? r
              : buf_printf(out, ",\"learning_ended\":\"%s\",\"entries_known\":%u", end,
                           al->learned);
        break;
    }
    case ANOMALY_FIRST_EXTERNAL: {
        char end[TIME_ISO_LEN];
        time_format_iso(al->learn_end_us, end, sizeof(end));
        r = r ? r
              : buf_printf(out,
                           ",\"learning_ended\":\"%s\",\"baseline\":{\"new_per_day\":%.3f,"
                           "\"days_learned\":%u}",
                           end, al->mean, al->learned);
        break;
    }
    case ANOMALY_OUTBOUND_VOLUME:
        r = r ? r
              : buf_printf(out,
                           ",\"slot\":{\"hour\":%d,\"weekend\":%s},\"baseline\":{\"mean\":%.0f,"
                           "\"dev\":%.0f,\"hours_learned\":%u},\"observed_bytes\":%.0f,"
                           "\"last_peer\":",
                           al->slot_hour, al->slot_weekend ? "true" : "false", al->mean, al->dev,
                           al->learned, al->observed);
        r = r ? r
              : buf_json_str(out, al->sample ? al->sample : "", al->sample ? al->sample_len : 0);
        break;
    case ANOMALY_DNS_TUNNEL:
        r = r ? r
              : buf_printf(out,
                           ",\"window_s\":%u,\"distinct_names\":%.0f,\"mean_length\":%.1f,"
                           "\"mean_entropy\":%.3f,\"sample\":",
                           al->learned, al->observed, al->mean, al->dev);
        r = r ? r
              : buf_json_str(out, al->sample ? al->sample : "", al->sample ? al->sample_len : 0);
        break;
    case ANOMALY_BEACON:
        r = r ? r
              : buf_printf(out,
                           ",\"baseline\":{\"interval_mean_s\":%.3f,\"interval_stddev_s\":%.3f,"
                           "\"intervals\":%u},\"observed_cv\":%.4f",
                           al->mean, al->dev, al->learned, al->observed);
        break;
    }
    r = r ? r : buf_printf(out, ",\"score\":%.3f}", al->score);
    return r;
}
