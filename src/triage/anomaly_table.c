/*
 * anomaly_table.c - what every anomaly detector stands on: the one bounded
 * table of learned entries, their keys, reading an event's values, the
 * hour arithmetic and baselines, and the bytes of the saved state.
 *
 * Entries live in util/htable's keyed table (SipHash-2-4 with a random
 * key, so that hostile values cannot pile up in one bucket), least
 * recently seen first, under the memory cap with the table's own buckets
 * counted; the cap evicts the least recently seen.  The detectors
 * (anomaly.c: rate, first seen, beaconing; anomaly_outbound.c: volume, new
 * external hosts, DNS) call down into this file and never the other way, so
 * the files form no circle.
 */
#include "triage/anomaly_priv.h"

#include <errno.h>
#include <math.h>
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

uint64_t anomaly_key_hash(const struct anomaly *a, const unsigned char *p, size_t n)
{
    return htable_hash(&a->tab, p, n);
}

static size_t entry_size(size_t payload, size_t key_len)
{
    return sizeof(struct anomaly_entry) + payload + key_len + ENTRY_OVERHEAD;
}

/* The table's eviction callback: an entry dropped for the cap. */
static void evicted(void *ctx, struct htable_node *n)
{
    struct anomaly *a = ctx;
    struct anomaly_entry *e = (struct anomaly_entry *)n;

    a->st.entries_by_kind[stat_kind(anomaly_entry_kind(e))]--;
    a->st.evicted++;
    free(e);
}

int anomaly_entries_init(struct anomaly *a)
{
    int r;

    if ((r = htable_init(&a->tab, 0, a->o.mem_cap, evicted, a)) < 0) {
        htable_done(&a->tab);
        return r;
    }
    htable_charge_buckets(&a->tab);
    return 0;
}

void anomaly_entries_take(struct anomaly *a, struct anomaly *from)
{
    anomaly_entries_free(a);
    a->tab = from->tab;
    a->tab.ctx = a;
    memset(&from->tab, 0, sizeof(from->tab));
}

struct anomaly_entry *anomaly_entry_get(struct anomaly *a, uint8_t kind, const unsigned char *key,
                                        size_t len, size_t payload, int *ret_created)
{
    struct anomaly_entry *e = (struct anomaly_entry *)htable_find(&a->tab, key, len);
    unsigned char *k;

    *ret_created = 0;
    if (e) {
        htable_touch(&a->tab, &e->hn);
        return e;
    }
    payload = (payload + 7) & ~(size_t)7;
    e = calloc(1, sizeof(*e) + payload + len);
    if (!e)
        return NULL;
    k = (unsigned char *)e->data + payload;
    memcpy(k, key, len);
    /* Evicts the least recently seen until this one fits. */
    htable_insert(&a->tab, &e->hn, k, len, entry_size(payload, len));
    a->st.entries_by_kind[stat_kind(kind)]++;
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
    struct htable_node *n, *next;

    for (n = htable_oldest(&a->tab); n; n = next) {
        next = htable_newer(n);
        free(n);
    }
    htable_done(&a->tab);
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

/* Copies v[0..*n) (at most ANOMALY_VALUE_MAX bytes: *n says how many)
 * into the kept alert's text at *off; the copy, or NULL for none. */
static const char *keep_text(struct anomaly_kept *k, size_t *off, const char *v, size_t *n)
{
    char *p = k->text + *off;

    if (!v) {
        *n = 0;
        return NULL;
    }
    if (*n > ANOMALY_VALUE_MAX)
        *n = ANOMALY_VALUE_MAX;
    memcpy(p, v, *n);
    p[*n] = '\0';
    *off += *n + 1;
    return p;
}

int anomaly_alert_emit(struct anomaly *a, struct anomaly_alert *al)
{
    struct anomaly_kept *k;
    size_t off = 0;

    /* The detectors raise at most ANOMALY_ALERTS_MAX per event (see
     * anomaly.h); one more would be our bug, and is dropped uncounted. */
    if (a->nkept >= ANOMALY_ALERTS_MAX)
        return 0;
    k = &a->kept[a->nkept++];
    k->al = *al;
    /* Views into the event, a detector's stack or an entry that a later
     * detector of the same event may evict: copied. */
    for (unsigned i = 0; i < al->nentity && i < ANOMALY_ENTITY_MAX; i++)
        k->al.entity[i].val = keep_text(k, &off, al->entity[i].val, &k->al.entity[i].len);
    k->al.category = keep_text(k, &off, al->category, &k->al.category_len);
    k->al.sample = keep_text(k, &off, al->sample, &k->al.sample_len);
    a->st.alerts_by_kind[al->kind]++;
    return 0;
}

size_t anomaly_alert_count(const struct anomaly *a)
{
    return a->nkept;
}

const struct anomaly_alert *anomaly_alert_get(const struct anomaly *a, size_t i)
{
    return i < a->nkept ? &a->kept[i].al : NULL;
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
