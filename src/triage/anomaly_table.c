/*
 * anomaly_table.c - what every anomaly detector stands on: the one bounded
 * table of learned entries, their keys, reading an event's values, the
 * hour arithmetic and baselines, and the bytes of the saved state.
 *
 * Entries live in an open-addressing table (linear probing, backward-shift
 * deletion, SipHash-2-4 with a random key so that hostile values cannot
 * pile up in one probe run) and on one LRU list; the memory cap evicts from
 * the list's tail.  The detectors (anomaly.c: rate, first seen, beaconing;
 * anomaly_outbound.c: volume, new external hosts, DNS) call down into this
 * file and never the other way, so the files form no circle.
 */
#include "triage/anomaly_priv.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "event/tz.h"
#include "util/buf.h"

#define ENTRY_OVERHEAD 16 /* malloc bookkeeping, counted against the cap */

/* The anomaly kind an entry kind is counted under. */
static unsigned stat_kind(uint8_t kind)
{
    return kind == KEY_EXT_HOST ? ANOMALY_FIRST_EXTERNAL : kind;
}

/* SipHash-2-4 with the state's random key (libsodium's crypto_shorthash). */
uint64_t anomaly_key_hash(const struct anomaly *a, const unsigned char *p, size_t n)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;

    crypto_shorthash(out, p, n, a->hkey);
    memcpy(&h, out, sizeof(h));
    return h;
}

static size_t entry_size(const struct anomaly_entry *e)
{
    return sizeof(*e) + e->payload_size + e->key_len + ENTRY_OVERHEAD;
}

static void lru_unlink(struct anomaly *a, struct anomaly_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        a->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        a->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_head(struct anomaly *a, struct anomaly_entry *e)
{
    e->prev = NULL;
    e->next = a->head;
    if (a->head)
        a->head->prev = e;
    a->head = e;
    if (!a->tail)
        a->tail = e;
}

static void lru_touch(struct anomaly *a, struct anomaly_entry *e)
{
    if (a->head != e) {
        lru_unlink(a, e);
        lru_push_head(a, e);
    }
}

static struct anomaly_entry *table_find(const struct anomaly *a, const unsigned char *key,
                                        size_t len, uint64_t h)
{
    size_t mask = a->tcap - 1;

    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct anomaly_entry *e = a->tab[i];
        if (!e)
            return NULL;
        if (e->hash == h && e->key_len == len && memcmp(anomaly_entry_key(e), key, len) == 0)
            return e;
    }
}

static void table_put(struct anomaly_entry **tab, size_t tcap, struct anomaly_entry *e)
{
    size_t mask = tcap - 1, i = (size_t)e->hash & mask;

    while (tab[i])
        i = (i + 1) & mask;
    tab[i] = e;
}

/* Removes e from the table, shifting the rest of its probe run back so that
 * lookups never need tombstones. */
static void table_del(struct anomaly *a, const struct anomaly_entry *e)
{
    size_t mask = a->tcap - 1, i = (size_t)e->hash & mask;

    while (a->tab[i] != e)
        i = (i + 1) & mask;
    a->tab[i] = NULL;
    for (size_t j = (i + 1) & mask; a->tab[j]; j = (j + 1) & mask) {
        size_t ideal = (size_t)a->tab[j]->hash & mask;
        if (((j - ideal) & mask) >= ((j - i) & mask)) {
            a->tab[i] = a->tab[j];
            a->tab[j] = NULL;
            i = j;
        }
    }
}

/* Drops the least recently seen entry, which must exist. */
static void evict_tail(struct anomaly *a)
{
    struct anomaly_entry *e = a->tail;

    /* The tail has no successor, so unlinking it is just this. */
    a->tail = e->prev;
    if (a->tail)
        a->tail->next = NULL;
    else
        a->head = NULL;
    table_del(a, e);
    a->count--;
    a->mem -= entry_size(e);
    a->st.entries_by_kind[stat_kind(e->kind)]--;
    a->st.evicted++;
    free(e);
}

/* Evicts least recently seen entries until the cap holds, sparing `keep`. */
static void evict_to_cap(struct anomaly *a, const struct anomaly_entry *keep)
{
    while (a->mem > a->o.mem_cap && a->tail && a->tail != keep)
        evict_tail(a);
}

static int table_grow(struct anomaly *a)
{
    size_t ncap = a->tcap * 2;
    struct anomaly_entry **nt = calloc(ncap, sizeof(struct anomaly_entry *));

    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < a->tcap; i++)
        if (a->tab[i])
            table_put(nt, ncap, a->tab[i]);
    free(a->tab);
    a->mem += (ncap - a->tcap) * sizeof(struct anomaly_entry *);
    a->tab = nt;
    a->tcap = ncap;
    return 0;
}

/* Makes room for one more entry: grows the table while the cap allows,
 * otherwise evicts so that the load stays under 3/4. */
static int table_reserve(struct anomaly *a)
{
    while ((a->count + 1) * 4 > a->tcap * 3) {
        if (a->mem + a->tcap * sizeof(struct anomaly_entry *) <= a->o.mem_cap / 2 || !a->tail) {
            int r = table_grow(a);
            if (r < 0)
                return r;
        } else {
            evict_tail(a);
        }
    }
    return 0;
}

/*
 * Returns the entry for `key`, moved to the head of the LRU list, or a new
 * zeroed one (*ret_created = 1) with `payload` bytes.  NULL on OOM.  May
 * evict other entries, never the one returned.
 */
struct anomaly_entry *anomaly_entry_get(struct anomaly *a, uint8_t kind, const unsigned char *key,
                                        size_t len, size_t payload, int *ret_created)
{
    uint64_t h = anomaly_key_hash(a, key, len);
    struct anomaly_entry *e = table_find(a, key, len, h);

    *ret_created = 0;
    if (e) {
        lru_touch(a, e);
        return e;
    }
    payload = (payload + 7) & ~(size_t)7;
    if (table_reserve(a) < 0)
        return NULL;
    e = calloc(1, sizeof(*e) + payload + len);
    if (!e)
        return NULL;
    e->hash = h;
    e->payload_size = (uint32_t)payload;
    e->key_len = (uint16_t)len;
    e->kind = kind;
    memcpy((unsigned char *)e->data + payload, key, len);
    table_put(a->tab, a->tcap, e);
    lru_push_head(a, e);
    a->count++;
    a->mem += entry_size(e);
    a->st.entries_by_kind[stat_kind(kind)]++;
    evict_to_cap(a, e);
    *ret_created = 1;
    return e;
}

void anomaly_key_start(struct anomaly_key *k, uint8_t kind, uint8_t sub)
{
    k->b[0] = kind;
    k->b[1] = sub;
    k->n = 2;
}

void anomaly_key_part(struct anomaly_key *k, const char *v, size_t len)
{
    if (len > ANOMALY_VALUE_MAX)
        len = ANOMALY_VALUE_MAX;
    k->b[k->n++] = (unsigned char)len;
    memcpy(k->b + k->n, v, len);
    k->n += len;
}

void anomaly_entries_free(struct anomaly *a)
{
    struct anomaly_entry *e = a->head, *next;

    for (; e; e = next) {
        next = e->next;
        free(e);
    }
    free(a->tab);
}

struct anomaly_val anomaly_get(const struct event *ev, uint32_t id)
{
    struct anomaly_val v = {NULL, 0};

    if (id != FIELD_NONE)
        v.p = event_get(ev, id, &v.n);
    if (!v.p)
        v.n = 0;
    if (v.n > ANOMALY_VALUE_MAX)
        v.n = ANOMALY_VALUE_MAX;
    return v;
}

int anomaly_val_is(struct anomaly_val v, const char *s)
{
    size_t n = strlen(s);

    return v.n == n && memcmp(v.p, s, n) == 0;
}

void anomaly_set_entity(struct anomaly_alert *al, const char *field, struct anomaly_val v)
{
    al->entity[al->nentity].field = field;
    al->entity[al->nentity].val = v.p;
    al->entity[al->nentity].len = v.n;
    al->nentity++;
}

int anomaly_alert_emit(struct anomaly *a, struct anomaly_alert *al, anomaly_cb cb, void *arg)
{
    a->st.alerts_by_kind[al->kind]++;
    return cb ? cb(al, arg) : 0;
}

int64_t anomaly_local_hour(const struct anomaly *a, int64_t t_us)
{
    int64_t s = anomaly_floor_div(t_us, 1000000);
    int32_t off = a->o.tz ? tz_offset_at(a->o.tz, s) : a->o.tz_off_s;

    return anomaly_floor_div(s + off, 3600);
}

int64_t anomaly_floor_div(int64_t x, int64_t y)
{
    int64_t q = x / y;

    if (x % y != 0 && ((x < 0) != (y < 0)))
        q--;
    return q;
}

/* Slot of an hour number: hour of day, plus 24 on Saturday and Sunday. */
int anomaly_slot_of(int64_t hour, int *ret_hod, int *ret_weekend)
{
    int64_t day = anomaly_floor_div(hour, 24);
    int hod = (int)(hour - day * 24);
    /* Day 0, 1970-01-01, was a Thursday; 0 = Sunday. */
    int dow = (int)(((day % 7) + 7 + 4) % 7);
    int weekend = dow == 0 || dow == 6;

    if (ret_hod)
        *ret_hod = hod;
    if (ret_weekend)
        *ret_weekend = weekend;
    return weekend * 24 + hod;
}

unsigned anomaly_ewma_learn(float *mean, float *dev, unsigned n, unsigned n_max, double alpha,
                            double x)
{
    double m = *mean, d = *dev, diff;

    if (n == 0) {
        *mean = (float)(x < 0 ? 0 : x);
        *dev = 0;
        return 1;
    }
    /* Plain average while few hours are known, EWMA after. */
    if (1.0 / (n + 1) > alpha)
        alpha = 1.0 / (n + 1);
    diff = x - m;
    m += alpha * diff;
    d += alpha * (fabs(diff) - d);
    *mean = (float)(m < 0 ? 0 : m);
    *dev = (float)(d < 0 ? 0 : d);
    return n < n_max ? n + 1 : n;
}

/* to - from for to >= from, without signed overflow at the extremes of
 * restored or hostile times. */
uint64_t anomaly_span_us(int64_t from, int64_t to)
{
    return (uint64_t)to - (uint64_t)from;
}

void anomaly_w_bytes(struct anomaly_wr *w, const void *p, size_t n)
{
    if (!w->err)
        w->err = buf_append(w->b, p, n);
}

void anomaly_w_uint(struct anomaly_wr *w, uint64_t v, unsigned n)
{
    unsigned char t[8];

    for (unsigned i = 0; i < n; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    anomaly_w_bytes(w, t, n);
}

void anomaly_w_f32(struct anomaly_wr *w, float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    anomaly_w_uint(w, u, 4);
}

int anomaly_r_fail(struct anomaly_rd *r, const char *msg)
{
    if (!r->msg) {
        r->msg = msg;
        r->fail_off = r->off;
    }
    return -EINVAL;
}

uint64_t anomaly_r_uint(struct anomaly_rd *r, unsigned n)
{
    uint64_t v = 0;

    if (r->msg)
        return 0;
    if (r->len - r->off < n) {
        anomaly_r_fail(r, "truncated anomaly state");
        return 0;
    }
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)r->p[r->off + i] << (8 * i);
    r->off += n;
    return v;
}

float anomaly_r_f32(struct anomaly_rd *r)
{
    uint32_t u = (uint32_t)anomaly_r_uint(r, 4);
    float f;

    memcpy(&f, &u, sizeof(f));
    if (!isfinite(f) || f < 0)
        anomaly_r_fail(r, "anomaly state has an invalid baseline value");
    return f;
}
