/*
 * anomaly_priv.h - what anomaly_table.c (the table, keys, values, hours,
 * baselines, the saved state's bytes) gives the detectors (anomaly.c,
 * anomaly_outbound.c), and what anomaly.c asks of anomaly_outbound.c.  Not a public interface: only triage/anomaly*.c
 * include it.
 *
 * Every piece of learned state is an entry keyed by a byte string: kind
 * (1 byte), sub-kind (1 byte), then 1 to 3 parts, each one length byte
 * followed by that many bytes.  anomaly_key_fields() says which fields the
 * parts are, so a saved blob needs no field names.
 */
#ifndef HIKESHI_TRIAGE_ANOMALY_PRIV_H
#define HIKESHI_TRIAGE_ANOMALY_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "triage/anomaly.h"
#include "util/htable.h"

struct event;

/* Kinds of entry.  The first six match enum anomaly_kind; KEY_EXT_HOST is
 * the per-host state of the first-external detector and counts under
 * ANOMALY_FIRST_EXTERNAL. */
enum anomaly_key_kind {
    KEY_RATE = ANOMALY_RATE,
    KEY_FIRST = ANOMALY_FIRST_SEEN,
    KEY_BEACON = ANOMALY_BEACON,
    KEY_EXT = ANOMALY_FIRST_EXTERNAL,     /* (source.ip, destination.ip[, port]) */
    KEY_VOLUME = ANOMALY_OUTBOUND_VOLUME, /* (internal host address) */
    KEY_DNS = ANOMALY_DNS_TUNNEL,         /* (client, registered domain) */
    KEY_EXT_HOST,                         /* (internal host address) */
    KEY_KIND_END
};

/* Sub-kinds of KEY_EXT. */
enum anomaly_ext_sub {
    EXT_ADDR, /* source.ip, destination.ip: a common port (web, DNS, NTP) */
    EXT_PORT, /* source.ip, destination.ip, destination.port */
    EXT_SUB_COUNT
};

/*
 * One learned entry, in util/htable's keyed table.  The node holds the key's
 * length and the entry is one allocation: the node, the payload (by kind,
 * a multiple of 8 bytes), then the key, whose first byte is the kind.
 */
struct anomaly_entry {
    struct htable_node hn; /* first: a node pointer is an entry pointer */
    uint64_t data[];       /* payload, then key bytes */
};

/* An alert anomaly_observe raised, kept for the caller with copies of the
 * values it names: 3 entities, the category, the sample. */
struct anomaly_kept {
    struct anomaly_alert al;
    char text[(ANOMALY_ENTITY_MAX + 2) * (ANOMALY_VALUE_MAX + 1)];
};

struct anomaly {
    struct anomaly_opts o;
    /* The entries, least recently seen first, capped at o.mem_cap with
     * the bucket array counted; evictions counted in st. */
    struct htable tab;
    int64_t start_us;        /* event time of the first event ever observed */
    int started;             /* start_us is valid */
    struct tz *tz_own;       /* o.tz's copy, owned (NULL: o.tz_off_s) */
    uint32_t id_exe;         /* interned "process.executable" */
    uint32_t id_dns_name;    /* interned "dns.question.name" */
    uint32_t id_dns_type;    /* interned "dns.type" */
    struct anomaly_stats st; /* counters (entries and mem filled on demand) */
    struct anomaly_kept kept[ANOMALY_ALERTS_MAX]; /* of the last anomaly_observe */
    size_t nkept;
};

/* Payload of KEY_FIRST and KEY_EXT. */
struct anomaly_first_state {
    int64_t first_us; /* event time the pair was first seen */
};

/* Longest key: 2 header bytes and 3 parts of 1 + ANOMALY_VALUE_MAX bytes. */
#define ANOMALY_KEY_MAX (2 + 3 * (1 + ANOMALY_VALUE_MAX))

struct anomaly_key {
    unsigned char b[ANOMALY_KEY_MAX];
    size_t n;
};

/* A field value of the event being observed (a view, truncated to
 * ANOMALY_VALUE_MAX bytes); p NULL and n 0 when absent. */
struct anomaly_val {
    const char *p;
    size_t n;
};

/* Saving: the first error of the buffer sticks in err. */
struct anomaly_wr {
    struct buf *b;
    int err;
};

/* Restoring: reads past len fail; the first failure's offset and reason
 * stick. */
struct anomaly_rd {
    const unsigned char *p;
    size_t len, off;
    size_t fail_off;
    const char *msg; /* first failure, NULL while all is well */
};

/* anomaly_table.c */
static inline const unsigned char *anomaly_entry_key(const struct anomaly_entry *e)
{
    return (const unsigned char *)e->hn.key;
}
static inline size_t anomaly_entry_key_len(const struct anomaly_entry *e)
{
    return e->hn.klen;
}
/* enum anomaly_key_kind: a key's first byte. */
static inline uint8_t anomaly_entry_kind(const struct anomaly_entry *e)
{
    return anomaly_entry_key(e)[0];
}
/* Makes the empty table (under o.mem_cap).  0, -EIO or -ENOMEM. */
int anomaly_entries_init(struct anomaly *a);
/* Moves the entries of `from` (emptied, its table gone) into `a`, whose
 * own are freed first. */
void anomaly_entries_take(struct anomaly *a, struct anomaly *from);
/* Frees every entry and the table. */
void anomaly_entries_free(struct anomaly *a);
/* The table's keyed hash of p[0..n). */
uint64_t anomaly_key_hash(const struct anomaly *a, const unsigned char *p, size_t n);
/* The entry for `key` (whose first byte is `kind`), made the most recently
 * seen, or a new zeroed one (*ret_created = 1) with `payload` bytes.  NULL
 * on OOM.  May evict other entries, never the one returned. */
struct anomaly_entry *anomaly_entry_get(struct anomaly *a, uint8_t kind, const unsigned char *key,
                                        size_t len, size_t payload, int *ret_created);
void anomaly_key_start(struct anomaly_key *k, uint8_t kind, uint8_t sub);
void anomaly_key_part(struct anomaly_key *k, const char *v, size_t len);
struct anomaly_val anomaly_get(const struct event *ev, uint32_t id);
int anomaly_val_is(struct anomaly_val v, const char *s);
void anomaly_set_entity(struct anomaly_alert *al, const char *field, struct anomaly_val v);
/* Counts the alert and keeps a copy of it (anomaly_alert_get).  0. */
int anomaly_alert_emit(struct anomaly *a, struct anomaly_alert *al);
int64_t anomaly_floor_div(int64_t x, int64_t y);
/* The hour number (hours since the epoch, local time) of event time t_us
 * in the anomaly's zone: the offset in force at that instant. */
int64_t anomaly_local_hour(const struct anomaly *a, int64_t t_us);

/* One step of a learned baseline (the rate's and the outbound volume's):
 * *mean and *dev (EWMA of |x - mean|) take x with weight alpha, or
 * 1 / (n + 1) while that is larger (a plain average over the first hours);
 * the first sample sets the mean.  Both stay >= 0.  Returns n + 1, held at
 * n_max, for the caller's counter. */
unsigned anomaly_ewma_learn(float *mean, float *dev, unsigned n, unsigned n_max, double alpha,
                            double x);
/* Slot of an hour number: hour of day, plus 24 on Saturday and Sunday. */
int anomaly_slot_of(int64_t hour, int *ret_hod, int *ret_weekend);
/* to - from for to >= from, without signed overflow at the extremes. */
uint64_t anomaly_span_us(int64_t from, int64_t to);
void anomaly_w_bytes(struct anomaly_wr *w, const void *p, size_t n);
void anomaly_w_uint(struct anomaly_wr *w, uint64_t v, unsigned n);
void anomaly_w_f32(struct anomaly_wr *w, float f);
int anomaly_r_fail(struct anomaly_rd *r, const char *msg);
uint64_t anomaly_r_uint(struct anomaly_rd *r, unsigned n);
float anomaly_r_f32(struct anomaly_rd *r);

/* anomaly_outbound.c */
/* Largest payload of an outbound entry (the DNS pair at its longest). */
#define ANOMALY_OUTBOUND_PAYLOAD_MAX 2048
/* Defaults of the outbound options (internal networks included). */
void anomaly_outbound_opts_default(struct anomaly_opts *o);
/* 0, or -EINVAL when an outbound option is out of bounds. */
int anomaly_outbound_opts_check(const struct anomaly_opts *o);
/* Field names of the parts of an outbound key; NULL if invalid. */
const char *const *anomaly_outbound_fields(uint8_t kind, uint8_t sub, unsigned *ret_n);
/* Payload bytes of an outbound entry kind under the current options. */
size_t anomaly_outbound_payload(const struct anomaly *a, uint8_t kind);
/* Learns one event: first external destinations, outbound volume, DNS
 * tunnelling.  0, -ENOMEM, or the callback's negative value. */
int anomaly_outbound_observe(struct anomaly *a, const struct event *ev);
/* Writes / reads the payload of an outbound entry (the key is handled by
 * the caller).  Restore returns 0 or -EINVAL (reason in r) and fills
 * `payload` (anomaly_outbound_payload(a, kind) bytes, zeroed). */
void anomaly_outbound_save(struct anomaly_wr *w, const struct anomaly_entry *e);
int anomaly_outbound_restore(const struct anomaly *a, struct anomaly_rd *r, uint8_t kind,
                             void *payload);

#endif
