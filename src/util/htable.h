/*
 * htable.h - one keyed hash table for state whose keys come from records:
 * triage's alerts, entities and incidents, correlation windows, the API's
 * per-address limiter.
 *
 * Why keyed: the keys (user names, addresses, hostnames) are chosen by
 * whoever writes the logs.  With a public hash (FNV) an attacker can craft
 * keys that all land in one bucket and turn every lookup into a walk of
 * the whole table.  Each table hashes with SipHash-2-4 (libsodium's
 * crypto_shorthash) under its own random key drawn when it is made, so
 * collisions cannot be computed from outside the process.
 *
 * The table is intrusive: the caller embeds a struct htable_node in its
 * own entry and owns the entry and the key bytes, which must stay valid
 * and unchanged while the entry is linked.  The node is 48 bytes, so that
 * a small entry (anomaly's first-seen pairs) pays about what a private
 * open-addressing table cost it.  Entries are kept in
 * least-recently-touched order, so a full table evicts its oldest entry
 * in O(1) and expiry sweeps walk from the oldest.  A table holds at most
 * max_entries entries and max_bytes of the costs its caller declares per
 * entry (optionally with its own bucket array, htable_charge_buckets);
 * the caller learns of each eviction through a callback (triage, anomaly
 * and correlation count them).
 *
 * Eviction classes: an entry is in one of HTABLE_NCLASS classes (0 unless
 * the caller moves it, htable_touch_class), each with its own touch order.
 * Eviction takes the oldest entry of the lowest class that has one, so a
 * caller can rank what is cheap to lose (correlation: a group far from
 * firing before one about to) without a list of its own.  A table whose
 * entries all stay in class 0 is a plain LRU.
 */
#ifndef HIKESHI_UTIL_HTABLE_H
#define HIKESHI_UTIL_HTABLE_H

#include <stddef.h>
#include <stdint.h>

/* A SipHash-2-4 key for direct-mapped caches and identities that are not
 * tables (an evidence slot per address, a source's id). */
struct htable_key {
    unsigned char k[16];
};

/* Draws a random key.  0, or -EIO when the system has no entropy source. */
int htable_key_init(struct htable_key *k);

/* The keyed hash of p[0..n). */
uint64_t htable_key_hash(const struct htable_key *k, const void *p, size_t n);

/* Eviction classes per table; class 0 is evicted first. */
#define HTABLE_NCLASS 4

/* Embedded in the caller's entry; all fields belong to the table (the
 * caller may read key, klen and cls). */
struct htable_node {
    struct htable_node *hnext;         /* bucket chain */
    struct htable_node *lprev, *lnext; /* its class's touch order: lprev is older */
    const void *key;                   /* caller-owned, valid while linked */
    uint32_t hash;                     /* low half of the keyed hash: bucket, quick compare */
    uint32_t klen;                     /* keys are shorter than 4 GiB */
    uint32_t cost;                     /* bytes charged against max_bytes (saturated) */
    uint8_t cls;                       /* eviction class, < HTABLE_NCLASS */
};

/*
 * Called with each entry evicted to make room, after it has been unlinked;
 * the callback owns it from then on (typically frees it).  It must not
 * insert into or remove from the same table.
 */
typedef void (*htable_evict_fn)(void *ctx, struct htable_node *n);

/* Embedded in its owner; htable_init and htable_done bracket its life. */
struct htable {
    struct htable_node **b; /* buckets; nb is a power of two */
    size_t nb;
    size_t n, max_entries;   /* max_entries 0: no cap on the count */
    size_t bytes, max_bytes; /* max_bytes 0: no cap on the costs */
    int charge_buckets;      /* 1: bytes includes the bucket array */
    struct htable_node *oldest[HTABLE_NCLASS], *newest[HTABLE_NCLASS];
    htable_evict_fn evict;
    void *ctx;
    struct htable_key key; /* random per table */
};

/*
 * Makes an empty table holding at most max_entries entries (0: no cap) and
 * max_bytes of declared costs (0: no cap).  `evict` (may be NULL only when
 * both caps are 0) receives what a full table pushes out.  Buckets grow
 * with the table.  0, -EIO (no entropy for the key) or -ENOMEM; the table
 * is safe to htable_done either way.
 */
int htable_init(struct htable *t, size_t max_entries, size_t max_bytes, htable_evict_fn evict,
                void *ctx);

/* Frees the buckets.  Entries still linked stay the caller's: walk them
 * with htable_oldest/htable_newer first.  A zeroed table is fine. */
void htable_done(struct htable *t);

/*
 * From now on the bucket array counts in `bytes` and against max_bytes, as
 * the caller's entries do: a memory cap that holds the whole table.  The
 * buckets then double only while the larger array fits under max_bytes
 * beside the entries; past that the chains grow a little longer instead
 * (the cap fills with entries long before they grow long).
 */
void htable_charge_buckets(struct htable *t);

/* The table's keyed hash of key[0..len). */
uint64_t htable_hash(const struct htable *t, const void *key, size_t len);

/* The entry keyed key[0..len), or NULL.  Does not change its age. */
struct htable_node *htable_find(const struct htable *t, const void *key, size_t len);

/*
 * Links `n` keyed key[0..len) (the caller checked it is absent; len below
 * 4 GiB) as the newest entry of class 0, charging `cost` bytes.  First
 * evicts (oldest of the lowest class first), through the callback, until
 * the new one fits under both caps; an entry costing more than max_bytes
 * alone still goes in, alone.
 */
void htable_insert(struct htable *t, struct htable_node *n, const void *key, size_t len,
                   size_t cost);

/* Makes `n` the newest entry of its class. */
void htable_touch(struct htable *t, struct htable_node *n);

/* Makes `n` the newest entry of class `cls` (< HTABLE_NCLASS). */
void htable_touch_class(struct htable *t, struct htable_node *n, unsigned cls);

/*
 * Evicts through the callback, lowest class first and oldest first within
 * a class, never `keep` (may be NULL), until the costs charged are at most
 * `max_bytes` or nothing else is left.  For a caller that sets no cap of
 * its own in the table because its cap moves (correlation sizes its cap
 * from the traffic) or because it chooses when to evict.
 */
void htable_trim(struct htable *t, size_t max_bytes, const struct htable_node *keep);

/* Unlinks `n`; it is the caller's again (no callback). */
void htable_remove(struct htable *t, struct htable_node *n);

/* Changes the cost charged for linked `n` (an entry that grew); evicts
 * other entries, as htable_trim does, if the table is now over max_bytes. */
void htable_recost(struct htable *t, struct htable_node *n, size_t cost);

/*
 * Iteration in touch order for expiry sweeps: from htable_oldest along
 * htable_newer, within one class.  Fetch the next entry before removing
 * the current one.  htable_oldest is the next entry to be evicted (the
 * oldest of the lowest class with one) and htable_newest the newest of the
 * highest: with every entry in class 0, the whole table.  A table that
 * uses classes walks each from htable_oldest_in.
 */
static inline struct htable_node *htable_oldest_in(const struct htable *t, unsigned cls)
{
    return cls < HTABLE_NCLASS ? t->oldest[cls] : NULL;
}

static inline struct htable_node *htable_oldest(const struct htable *t)
{
    for (unsigned k = 0; k < HTABLE_NCLASS; k++)
        if (t->oldest[k])
            return t->oldest[k];
    return NULL;
}

static inline struct htable_node *htable_newest(const struct htable *t)
{
    for (unsigned k = HTABLE_NCLASS; k-- > 0;)
        if (t->newest[k])
            return t->newest[k];
    return NULL;
}

static inline struct htable_node *htable_newer(const struct htable_node *n)
{
    return n->lnext;
}

static inline struct htable_node *htable_older(const struct htable_node *n)
{
    return n->lprev;
}

static inline size_t htable_count(const struct htable *t)
{
    return t->n;
}

/* The costs charged, with the bucket array once htable_charge_buckets. */
static inline size_t htable_bytes(const struct htable *t)
{
    return t->bytes;
}

#endif
