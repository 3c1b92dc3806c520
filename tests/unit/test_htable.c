/*
 * test_htable.c - the keyed hash table of util/htable.c: lookups, touch
 * order, the entry and byte caps with their eviction callback, expiry
 * sweeps, growth, and keys crafted to collide under FNV-1a, which the
 * keyed hash must spread over the buckets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"

struct item {
    struct htable_node hn; /* first: a node pointer is an item pointer */
    char key[24];
    int val;
};

struct evlog {
    int n;
    int vals[64];
};

static void on_evict(void *ctx, struct htable_node *n)
{
    struct evlog *ev = ctx;
    struct item *it = (struct item *)n;

    if (ev->n < 64)
        ev->vals[ev->n] = it->val;
    ev->n++;
    free(it);
}

static struct item *item_new(int val)
{
    struct item *it = calloc(1, sizeof(*it));

    assert_non_null(it);
    snprintf(it->key, sizeof(it->key), "k%d", val);
    it->val = val;
    return it;
}

static void add(struct htable *t, struct item *it, size_t cost)
{
    htable_insert(t, &it->hn, it->key, strlen(it->key), cost);
}

static struct item *get(const struct htable *t, const char *key)
{
    return (struct item *)htable_find(t, key, strlen(key));
}

static void free_all(struct htable *t)
{
    struct htable_node *n, *next;

    for (n = htable_oldest(t); n; n = next) {
        next = htable_newer(n);
        htable_remove(t, n);
        free(n);
    }
    assert_int_equal(htable_count(t), 0);
    htable_done(t);
}

static void test_find_insert_remove(void **state)
{
    struct htable t;
    struct item *a = item_new(1), *b = item_new(2);

    (void)state;
    assert_int_equal(htable_init(&t, 0, 0, NULL, NULL), 0);
    assert_null(get(&t, "k1"));
    add(&t, a, 0);
    add(&t, b, 0);
    assert_ptr_equal(get(&t, "k1"), a);
    assert_ptr_equal(get(&t, "k2"), b);
    assert_null(get(&t, "k3"));
    /* A key is its bytes and its length: a prefix is another key. */
    assert_null(htable_find(&t, "k1", 1));
    htable_remove(&t, &a->hn);
    free(a);
    assert_null(get(&t, "k1"));
    assert_ptr_equal(get(&t, "k2"), b);
    assert_int_equal(htable_count(&t), 1);
    free_all(&t);
}

static void test_entry_cap_evicts_least_recently_touched(void **state)
{
    struct htable t;
    struct evlog ev = {0};

    (void)state;
    assert_int_equal(htable_init(&t, 3, 0, on_evict, &ev), 0);
    for (int i = 1; i <= 3; i++)
        add(&t, item_new(i), 0);
    assert_int_equal(ev.n, 0);
    /* k1 touched: k2 is now the oldest and goes first. */
    htable_touch(&t, &get(&t, "k1")->hn);
    add(&t, item_new(4), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.vals[0], 2);
    assert_null(get(&t, "k2"));
    add(&t, item_new(5), 0);
    assert_int_equal(ev.n, 2);
    assert_int_equal(ev.vals[1], 3);
    assert_int_equal(htable_count(&t), 3);
    assert_non_null(get(&t, "k1"));
    assert_non_null(get(&t, "k4"));
    assert_non_null(get(&t, "k5"));
    free_all(&t);
}

static void test_byte_cap(void **state)
{
    struct htable t;
    struct evlog ev = {0};
    struct item *big;

    (void)state;
    assert_int_equal(htable_init(&t, 0, 100, on_evict, &ev), 0);
    for (int i = 1; i <= 4; i++)
        add(&t, item_new(i), 25);
    assert_int_equal(ev.n, 0);
    assert_int_equal(t.bytes, 100);
    /* 30 more bytes: the two oldest (50 bytes) make room. */
    add(&t, item_new(5), 30);
    assert_int_equal(ev.n, 2);
    assert_int_equal(ev.vals[0], 1);
    assert_int_equal(ev.vals[1], 2);
    assert_int_equal(t.bytes, 80);
    /* An entry that grows pushes out older ones, never itself. */
    big = get(&t, "k3");
    htable_touch(&t, &big->hn);
    htable_recost(&t, &big->hn, 90);
    assert_int_equal(ev.n, 4);
    assert_int_equal(htable_count(&t), 1);
    assert_ptr_equal(get(&t, "k3"), big);
    assert_int_equal(t.bytes, 90);
    /* One entry over the cap alone still goes in, alone. */
    add(&t, item_new(6), 500);
    assert_int_equal(ev.n, 5);
    assert_int_equal(ev.vals[4], 3);
    assert_int_equal(htable_count(&t), 1);
    free_all(&t);
}

static void test_sweep_in_touch_order(void **state)
{
    struct htable t;
    struct htable_node *n, *next;
    int order[8], k = 0;

    (void)state;
    assert_int_equal(htable_init(&t, 0, 0, NULL, NULL), 0);
    for (int i = 0; i < 6; i++)
        add(&t, item_new(i), 0);
    htable_touch(&t, &get(&t, "k0")->hn);
    htable_touch(&t, &get(&t, "k3")->hn);
    /* A sweep that drops the even ones as it walks. */
    for (n = htable_oldest(&t); n; n = next) {
        next = htable_newer(n);
        order[k++] = ((struct item *)n)->val;
        if (((struct item *)n)->val % 2 == 0) {
            htable_remove(&t, n);
            free(n);
        }
    }
    assert_int_equal(k, 6);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 4);
    assert_int_equal(order[3], 5);
    assert_int_equal(order[4], 0);
    assert_int_equal(order[5], 3);
    assert_int_equal(htable_count(&t), 3);
    n = htable_newest(&t);
    if (!n)
        fail();
    assert_int_equal(((struct item *)n)->val, 3);
    n = htable_older(n);
    if (!n)
        fail();
    assert_int_equal(((struct item *)n)->val, 5);
    free_all(&t);
}

static void test_growth_keeps_every_entry(void **state)
{
    struct htable t;
    char key[24];

    (void)state;
    assert_int_equal(htable_init(&t, 0, 0, NULL, NULL), 0);
    for (int i = 0; i < 5000; i++)
        add(&t, item_new(i), 0);
    assert_true(t.nb >= 4096);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_non_null(get(&t, key));
        assert_int_equal(get(&t, key)->val, i);
    }
    free_all(&t);
}

static uint64_t fnv1a(const void *p, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * UINT64_C(1099511628211);
    return h;
}

/*
 * 2000 keys whose FNV-1a hashes agree in their low 12 bits: in a table of
 * up to 4096 buckets indexed by FNV they would all share one chain.  Under
 * the keyed hash they spread: no chain grows long.
 */
static void test_fnv_colliding_keys_spread(void **state)
{
    enum { NKEYS = 2000 };
    struct htable t;
    struct item *it;
    uint64_t x = 0x9e3779b97f4a7c15u;
    size_t longest = 0, found = 0;

    (void)state;
    assert_int_equal(htable_init(&t, 0, 0, NULL, NULL), 0);
    while (found < NKEYS) {
        char key[17];

        /* xorshift: a cheap source of candidate keys */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        snprintf(key, sizeof(key), "%016llx", (unsigned long long)x);
        if ((fnv1a(key, 16) & 0xfff) != 0)
            continue;
        it = calloc(1, sizeof(*it));
        assert_non_null(it);
        memcpy(it->key, key, sizeof(key));
        it->val = (int)found++;
        add(&t, it, 0);
    }
    assert_int_equal(htable_count(&t), NKEYS);
    assert_true(t.nb <= 4096);
    for (size_t i = 0; i < t.nb; i++) {
        size_t len = 0;

        for (const struct htable_node *n = t.b[i]; n; n = n->hnext)
            len++;
        if (len > longest)
            longest = len;
    }
    /* Random spreading of 2000 keys over >= 2048 buckets: a chain of 16
     * has odds far below one in a billion. */
    assert_true(longest < 16);
    for (const struct htable_node *n = htable_oldest(&t); n; n = htable_newer(n))
        assert_ptr_equal(htable_find(&t, n->key, n->klen), n);
    free_all(&t);
}

/* Two tables hash the same key differently: the key is per table. */
static void test_keys_differ_per_table(void **state)
{
    struct htable a, b;
    int same = 0;

    (void)state;
    assert_int_equal(htable_init(&a, 0, 0, NULL, NULL), 0);
    assert_int_equal(htable_init(&b, 0, 0, NULL, NULL), 0);
    for (int i = 0; i < 8; i++) {
        char key[8];

        snprintf(key, sizeof(key), "u%d", i);
        same += htable_hash(&a, key, strlen(key)) == htable_hash(&b, key, strlen(key));
        assert_int_equal(htable_hash(&a, key, strlen(key)), htable_hash(&a, key, strlen(key)));
    }
    assert_int_equal(same, 0);
    htable_done(&a);
    htable_done(&b);
}

/* The node stays small: anomaly embeds one in entries of ~100 bytes. */
static void test_node_size(void **state)
{
    (void)state;
    assert_true(sizeof(struct htable_node) <= 48);
}

static void free_walk(struct htable_node *n)
{
    while (n) {
        struct htable_node *next = htable_newer(n);

        free(n);
        n = next;
    }
}

/* Frees every entry of a table that uses classes. */
static void free_classes(struct htable *t)
{
    for (unsigned k = 0; k < HTABLE_NCLASS; k++) {
        struct htable_node *n;

        while ((n = htable_oldest_in(t, k))) {
            htable_remove(t, n);
            free(n);
        }
    }
    assert_int_equal(htable_count(t), 0);
    htable_done(t);
}

/*
 * Classes: the cap evicts the oldest of the lowest class that has an
 * entry, so an entry moved up survives older ones of class 0; each class
 * keeps its own touch order; htable_oldest is the next victim.
 */
static void test_classes_evict_lowest_first(void **state)
{
    struct htable t;
    struct evlog ev = {0};
    struct htable_node *n;

    (void)state;
    assert_int_equal(htable_init(&t, 4, 0, on_evict, &ev), 0);
    for (int i = 1; i <= 4; i++)
        add(&t, item_new(i), 0);
    /* k1 and k2 go up to class 2, k3 to class 1; k4 stays in 0. */
    htable_touch_class(&t, &get(&t, "k1")->hn, 2);
    htable_touch_class(&t, &get(&t, "k3")->hn, 1);
    htable_touch_class(&t, &get(&t, "k2")->hn, 2);
    assert_int_equal(get(&t, "k1")->hn.cls, 2);
    assert_int_equal(get(&t, "k4")->hn.cls, 0);
    assert_ptr_equal(htable_oldest(&t), &get(&t, "k4")->hn);
    assert_ptr_equal(htable_newest(&t), &get(&t, "k2")->hn);
    assert_ptr_equal(htable_oldest_in(&t, 2), &get(&t, "k1")->hn);
    assert_null(htable_oldest_in(&t, 3));
    assert_null(htable_oldest_in(&t, HTABLE_NCLASS));
    /* A touch keeps the class and moves within it. */
    htable_touch(&t, &get(&t, "k1")->hn);
    assert_int_equal(get(&t, "k1")->hn.cls, 2);
    assert_ptr_equal(htable_oldest_in(&t, 2), &get(&t, "k2")->hn);
    /* New entries are class 0: k4 goes first, then k5 (the only class 0
     * left), then class 1's k3, then class 2's oldest, k2. */
    add(&t, item_new(5), 0);
    add(&t, item_new(6), 0);
    assert_int_equal(ev.n, 2);
    assert_int_equal(ev.vals[0], 4);
    assert_int_equal(ev.vals[1], 5);
    htable_touch_class(&t, &get(&t, "k6")->hn, 3);
    add(&t, item_new(7), 0);
    add(&t, item_new(8), 0);
    assert_int_equal(ev.n, 4);
    assert_int_equal(ev.vals[2], 3);
    assert_int_equal(ev.vals[3], 7);
    add(&t, item_new(9), 0);
    assert_int_equal(ev.vals[4], 8);
    htable_touch_class(&t, &get(&t, "k9")->hn, 3);
    /* Classes 0 and 1 are empty: class 2's oldest, k2, goes for k10; then
     * k10, alone in class 0, for k11.  k1 (class 2) outlives both. */
    add(&t, item_new(10), 0);
    assert_int_equal(ev.n, 6);
    assert_int_equal(ev.vals[5], 2);
    add(&t, item_new(11), 0);
    assert_int_equal(ev.n, 7);
    assert_int_equal(ev.vals[6], 10);
    htable_touch_class(&t, &get(&t, "k11")->hn, 3);
    assert_non_null(get(&t, "k1"));
    assert_int_equal(htable_count(&t), 4);
    /* Class 3 in touch order: k6, k9, k11. */
    n = htable_oldest_in(&t, 3);
    assert_int_equal(((struct item *)n)->val, 6);
    n = htable_newer(n);
    assert_int_equal(((struct item *)n)->val, 9);
    n = htable_newer(n);
    assert_int_equal(((struct item *)n)->val, 11);
    assert_null(htable_newer(n));
    free_classes(&t);
}

/* htable_trim: the caller's own limit, lowest class first, sparing keep
 * wherever it is in its list; no cap of the table's evicts meanwhile. */
static void test_trim(void **state)
{
    struct htable t;
    struct evlog ev = {0};
    struct item *keep;

    (void)state;
    assert_int_equal(htable_init(&t, 0, 0, on_evict, &ev), 0);
    for (int i = 1; i <= 6; i++)
        add(&t, item_new(i), 10);
    assert_int_equal(htable_bytes(&t), 60);
    assert_int_equal(ev.n, 0);
    htable_touch_class(&t, &get(&t, "k1")->hn, 1);
    htable_touch_class(&t, &get(&t, "k2")->hn, 1);
    keep = get(&t, "k3"); /* the oldest of class 0 */
    htable_trim(&t, 60, &keep->hn);
    assert_int_equal(ev.n, 0);
    /* Down to 25 bytes: k4, k5, k6 (class 0 but keep), then k1. */
    htable_trim(&t, 25, &keep->hn);
    assert_int_equal(ev.n, 4);
    assert_int_equal(ev.vals[0], 4);
    assert_int_equal(ev.vals[1], 5);
    assert_int_equal(ev.vals[2], 6);
    assert_int_equal(ev.vals[3], 1);
    assert_int_equal(htable_bytes(&t), 20);
    assert_ptr_equal(get(&t, "k3"), keep);
    /* Nothing but keep left to take: it stays, over the limit. */
    htable_trim(&t, 0, &keep->hn);
    assert_int_equal(ev.n, 5);
    assert_int_equal(htable_count(&t), 1);
    htable_trim(&t, 0, NULL);
    assert_int_equal(ev.n, 6);
    assert_int_equal(htable_count(&t), 0);
    assert_int_equal(htable_bytes(&t), 0);
    htable_done(&t);
}

/*
 * htable_charge_buckets: the bucket array counts in the bytes and against
 * max_bytes; it doubles only while the larger one fits beside the
 * entries, and the cap holds however many entries come.
 */
static void test_charged_buckets(void **state)
{
    enum { CAP = 16384, COST = 64 };
    struct htable t, u;
    struct evlog ev = {0};
    char key[24];
    size_t grew_at = 0, nb;

    (void)state;
    assert_int_equal(htable_init(&t, 0, CAP, on_evict, &ev), 0);
    nb = t.nb;
    htable_charge_buckets(&t);
    assert_int_equal(htable_bytes(&t), nb * sizeof(void *));
    htable_charge_buckets(&t); /* once only */
    assert_int_equal(htable_bytes(&t), nb * sizeof(void *));
    for (int i = 0; i < 2000; i++) {
        add(&t, item_new(i), COST);
        assert_true(htable_bytes(&t) <= CAP);
        assert_int_equal(htable_bytes(&t), htable_count(&t) * COST + t.nb * sizeof(void *));
        if (t.nb != nb) {
            nb = t.nb;
            grew_at = htable_count(&t);
        }
    }
    /* It grew while the array fitted, then held: the entries fill the
     * rest of the cap. */
    assert_true(grew_at > 0);
    assert_true(htable_count(&t) >= (CAP - t.nb * sizeof(void *)) / COST - 1);
    assert_int_equal(htable_count(&t) + (size_t)ev.n, 2000);
    /* The newest are the ones kept, and all are found. */
    for (int i = 1999; i > 1999 - (int)htable_count(&t); i--) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_non_null(get(&t, key));
    }
    /* Removing gives back the entries' costs, never the array's. */
    free_all(&t);

    /* Without a byte cap the charged array grows as ever. */
    assert_int_equal(htable_init(&u, 0, 0, NULL, NULL), 0);
    htable_charge_buckets(&u);
    for (int i = 0; i < 100; i++)
        add(&u, item_new(i), 1);
    assert_true(u.nb >= 64);
    assert_int_equal(htable_bytes(&u), 100 + u.nb * sizeof(void *));
    free_walk(htable_oldest(&u));
    htable_done(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_insert_remove),
        cmocka_unit_test(test_entry_cap_evicts_least_recently_touched),
        cmocka_unit_test(test_byte_cap),
        cmocka_unit_test(test_sweep_in_touch_order),
        cmocka_unit_test(test_growth_keeps_every_entry),
        cmocka_unit_test(test_fnv_colliding_keys_spread),
        cmocka_unit_test(test_keys_differ_per_table),
        cmocka_unit_test(test_node_size),
        cmocka_unit_test(test_classes_evict_lowest_first),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_charged_buckets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
