/*
 * htable.c - the keyed, capped, least-recently-touched hash table of
 * htable.h.  Chained buckets that double when the entries outnumber them;
 * SipHash-2-4 under a per-table random key so that record contents cannot
 * steer entries into one bucket.  One doubly-linked touch list per
 * eviction class.
 */
#include "util/htable.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(crypto_shorthash_BYTES == sizeof(uint64_t), "shorthash is 64 bits");
_Static_assert(crypto_shorthash_KEYBYTES == sizeof(((struct htable_key *)0)->k),
               "htable key size matches crypto_shorthash");

#define HTABLE_MIN_BUCKETS 16

int htable_key_init(struct htable_key *k)
{
    /* sodium_init is idempotent and makes randombytes safe to call; it
     * fails only without an entropy source. */
    if (sodium_init() < 0)
        return -EIO;
    randombytes_buf(k->k, sizeof(k->k));
    return 0;
}

uint64_t htable_key_hash(const struct htable_key *k, const void *p, size_t n)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;

    crypto_shorthash(out, (const unsigned char *)p, n, k->k);
    memcpy(&h, out, sizeof(h));
    return h;
}

int htable_init(struct htable *t, size_t max_entries, size_t max_bytes, htable_evict_fn evict,
                void *ctx)
{
    int r;

    memset(t, 0, sizeof(*t));
    if ((r = htable_key_init(&t->key)) < 0)
        return r;
    /* The buckets are pointers: spelled out for clang-tidy's
     * bugprone-sizeof-expression. */
    if (!(t->b = calloc(HTABLE_MIN_BUCKETS, sizeof(struct htable_node *))))
        return -ENOMEM;
    t->nb = HTABLE_MIN_BUCKETS;
    t->max_entries = max_entries;
    t->max_bytes = max_bytes;
    t->evict = evict;
    t->ctx = ctx;
    return 0;
}

void htable_done(struct htable *t)
{
    free(t->b);
    t->b = NULL;
    t->nb = 0;
    t->n = 0;
    t->bytes = 0;
    for (unsigned k = 0; k < HTABLE_NCLASS; k++)
        t->oldest[k] = t->newest[k] = NULL;
}

void htable_charge_buckets(struct htable *t)
{
    if (t->charge_buckets)
        return;
    t->charge_buckets = 1;
    t->bytes += t->nb * sizeof(struct htable_node *);
}

uint64_t htable_hash(const struct htable *t, const void *key, size_t len)
{
    return htable_key_hash(&t->key, key, len);
}

struct htable_node *htable_find(const struct htable *t, const void *key, size_t len)
{
    uint32_t h;

    if (len > UINT32_MAX)
        return NULL;
    h = (uint32_t)htable_hash(t, key, len);
    for (struct htable_node *n = t->b[h & (t->nb - 1)]; n; n = n->hnext)
        if (n->hash == h && n->klen == len && memcmp(n->key, key, len) == 0)
            return n;
    return NULL;
}

static void lru_unlink(struct htable *t, struct htable_node *n)
{
    if (n->lprev)
        n->lprev->lnext = n->lnext;
    else
        t->oldest[n->cls] = n->lnext;
    if (n->lnext)
        n->lnext->lprev = n->lprev;
    else
        t->newest[n->cls] = n->lprev;
    n->lprev = n->lnext = NULL;
}

static void lru_append(struct htable *t, struct htable_node *n)
{
    n->lprev = t->newest[n->cls];
    n->lnext = NULL;
    if (t->newest[n->cls])
        t->newest[n->cls]->lnext = n;
    else
        t->oldest[n->cls] = n;
    t->newest[n->cls] = n;
}

/* Doubles the buckets; on OOM, or when charged buckets would not fit
 * under the byte cap, keeps the old ones (longer chains, still correct).
 * The hashes are 32 bits: the buckets stop at 2^31. */
static void grow(struct htable *t)
{
    size_t nb = t->nb * 2, more = t->nb * sizeof(struct htable_node *);
    struct htable_node **b;

    /* calloc checks nb * size for overflow itself. */
    if (nb > ((size_t)1 << 31))
        return;
    if (t->charge_buckets && t->max_bytes && t->bytes + more > t->max_bytes)
        return;
    if (!(b = calloc(nb, sizeof(struct htable_node *))))
        return;
    for (size_t i = 0; i < t->nb; i++) {
        struct htable_node *n, *next;

        for (n = t->b[i]; n; n = next) {
            next = n->hnext;
            n->hnext = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
    if (t->charge_buckets)
        t->bytes += more;
}

static void unlink_node(struct htable *t, struct htable_node *n)
{
    struct htable_node **pp = &t->b[n->hash & (t->nb - 1)];

    while (*pp && *pp != n)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = n->hnext;
    n->hnext = NULL;
    lru_unlink(t, n);
    t->n--;
    t->bytes -= n->cost;
}

static int over(const struct htable *t, size_t more_n, size_t more_bytes)
{
    return (t->max_entries && t->n + more_n > t->max_entries) ||
           (t->max_bytes && t->bytes + more_bytes > t->max_bytes);
}

/* The next entry to evict: the oldest of the lowest class that has one
 * other than `keep`. */
static struct htable_node *victim(const struct htable *t, const struct htable_node *keep)
{
    for (unsigned k = 0; k < HTABLE_NCLASS; k++) {
        struct htable_node *n = t->oldest[k];

        if (n && n == keep)
            n = n->lnext;
        if (n)
            return n;
    }
    return NULL;
}

static void evict_one(struct htable *t, struct htable_node *n)
{
    unlink_node(t, n);
    if (t->evict)
        t->evict(t->ctx, n);
}

/* Evicts entries other than `keep` until `more_*` fit. */
static void make_room(struct htable *t, size_t more_n, size_t more_bytes,
                      const struct htable_node *keep)
{
    struct htable_node *v;

    while (over(t, more_n, more_bytes) && (v = victim(t, keep)))
        evict_one(t, v);
}

static uint32_t cost32(size_t cost)
{
    return cost > UINT32_MAX ? UINT32_MAX : (uint32_t)cost;
}

void htable_insert(struct htable *t, struct htable_node *n, const void *key, size_t len,
                   size_t cost)
{
    size_t i;

    assert(len <= UINT32_MAX);
    n->cost = cost32(cost);
    make_room(t, 1, n->cost, NULL);
    if (t->n >= t->nb)
        grow(t);
    n->key = key;
    n->klen = (uint32_t)len;
    n->hash = (uint32_t)htable_hash(t, key, len);
    n->cls = 0;
    i = n->hash & (t->nb - 1);
    n->hnext = t->b[i];
    t->b[i] = n;
    lru_append(t, n);
    t->n++;
    t->bytes += n->cost;
}

void htable_touch(struct htable *t, struct htable_node *n)
{
    if (t->newest[n->cls] == n)
        return;
    lru_unlink(t, n);
    lru_append(t, n);
}

void htable_touch_class(struct htable *t, struct htable_node *n, unsigned cls)
{
    assert(cls < HTABLE_NCLASS);
    if (n->cls == cls && t->newest[cls] == n)
        return;
    lru_unlink(t, n);
    n->cls = (uint8_t)cls;
    lru_append(t, n);
}

void htable_remove(struct htable *t, struct htable_node *n)
{
    unlink_node(t, n);
}

void htable_trim(struct htable *t, size_t max_bytes, const struct htable_node *keep)
{
    struct htable_node *v;

    while (t->bytes > max_bytes && (v = victim(t, keep)))
        evict_one(t, v);
}

void htable_recost(struct htable *t, struct htable_node *n, size_t cost)
{
    uint32_t c = cost32(cost);

    t->bytes = t->bytes - n->cost + c;
    n->cost = c;
    make_room(t, 0, 0, n);
}
