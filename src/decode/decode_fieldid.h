/*
 * decode_fieldid.h - field names to dictionary ids for the JSON and Zeek
 * decoders, remembered per thread.
 *
 * A JSON record of 30 members asks the dictionary (event/field.c) for 30
 * ids and the Zeek mapping for 20 more; each ask takes the dictionary's
 * mutex, hashes the name and compares it, about a third of the record's
 * whole cost.  The same few hundred names come back on every record of a
 * feed, so each thread keeps the ids it was given in a small direct-mapped
 * table, with a copy of the name to check a hit against and the
 * dictionary's generation (event/field.h), so a stale or colliding entry
 * is never answered: it is only a miss.
 */
#ifndef HIKESHI_DECODE_DECODE_FIELDID_H
#define HIKESHI_DECODE_DECODE_FIELDID_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "event/field.h"

/* The id of `name` (len bytes, no NUL needed), interning it when it is
 * new: field_intern()'s result, FIELD_NONE when the dictionary refuses it
 * (empty, too long, an embedded NUL, the dictionary full). */
uint32_t decode_fieldid_intern(const char *name, size_t len);

/* As decode_fieldid_intern() without interning: field_lookup()'s result,
 * FIELD_NONE when no one interned `name`. */
uint32_t decode_fieldid_lookup(const char *name, size_t len);

/*
 * A memo of one name by its place in a record.  The records of one feed
 * repeat their keys in the same order (a FortiGate traffic line, a Zeek
 * stream), so a decoder keeps one memo per position (the n-th pair or
 * member) in a thread-local array, and the n-th name of a record is most
 * often the one the memo holds: comparing it by two words is cheaper than
 * decode_fieldid_intern()'s hash and set (issue 24).  Only names of 1 to
 * 16 bytes are kept: their two words hold every byte, so equal words and
 * length are an equal name.  `gen` is field_generation(), read by the
 * decoder once per record: an id is answered only for the dictionary that
 * gave it.  A name the dictionary refuses is not kept.
 */
struct decode_fieldid_memo {
    uint64_t a, b;
    uint32_t id, gen;
    uint32_t len; /* 0: empty */
};

/* Names up to this long are kept in a memo. */
#define DECODE_FIELDID_MEMO_NAME 16

static inline uint64_t decode_fieldid_load(const char *p, size_t n)
{
    uint64_t v = 0;

    memcpy(&v, p, n);
    return v;
}

/* The memo of a name among `n` (a power of two up to 2^16) by what
 * precedes it: the previous name's id and its place in the record.  Records
 * of one kind share their first names and then part ways: a name that
 * follows a shared one in two kinds of record (srcip, then srcport in one
 * and dstip in the other) finds the one memo of its kind by its place. */
static inline size_t decode_fieldid_memo_slot(uint32_t prev_id, size_t place, size_t n)
{
    return (size_t)(((prev_id * 0x9e3779b1u) ^ ((uint32_t)place * 0x85ebca6bu)) >> 16) & (n - 1);
}

/* decode_fieldid_intern(name, len), answered from *m when it holds the
 * name, and kept in *m otherwise. */
static inline uint32_t decode_fieldid_memo_intern(struct decode_fieldid_memo *m, uint32_t gen,
                                                  const char *name, size_t len)
{
    uint64_t a, b;
    uint32_t id;

    if (len == 0 || len > DECODE_FIELDID_MEMO_NAME)
        return decode_fieldid_intern(name, len);
    if (len >= 8) {
        a = decode_fieldid_load(name, 8);
        b = decode_fieldid_load(name + len - 8, 8);
    } else if (len >= 4) {
        a = decode_fieldid_load(name, 4);
        b = decode_fieldid_load(name + len - 4, 4);
    } else {
        a = decode_fieldid_load(name, len);
        b = 0;
    }
    if (m->len == len && m->a == a && m->b == b && m->gen == gen)
        return m->id;
    id = decode_fieldid_intern(name, len);
    if (id != FIELD_NONE) {
        m->a = a;
        m->b = b;
        m->id = id;
        m->gen = gen;
        m->len = (uint32_t)len;
    }
    return id;
}

/*
 * A guess of a record's next key, before it is read: the records of one
 * feed write their keys in a few orders, so the key at a place after a
 * given key is most often the one that came there the last time.
 * Comparing the record's bytes with the guess's two words (and the
 * separator after them) replaces the key's scan, and the guess carries
 * what was derived from the key before: its id (for the generation that
 * gave it) and `aux`, the decoder's own (a FortiGate key's row, a kv key's
 * ECS alias).  Issue 24: a key's scan, hash and look-ups, for each of a
 * FortiGate line's 25-35 pairs, were most of its cost.  A decoder keeps a
 * thread-local table of 2^bits guesses; the one for a key is picked by the
 * previous key's guess (its `tok`, a hash of its words) and the place, so
 * that records of two kinds that share their first keys part ways after.
 * Only keys of 1 to 16 bytes are kept: the two words (for 1-3 bytes the
 * first, middle and last) hold every byte, so equal words and length are
 * an equal key.
 */
struct decode_fieldid_guess {
    uint64_t a, b;
    uint32_t len;     /* 0: empty */
    uint32_t tok;     /* a hash of the words: where the next key's guess is */
    uint32_t id, gen; /* the key's id, from generation gen (FIELD_NONE: none yet) */
    int aux;          /* the decoder's own, set with the key */
};

/* What the place adds to the slot's hash: the caller keeps place * K
 * (an add a key, not a multiply). */
#define DECODE_FIELDID_GUESS_K 0x9e3779b1u

/* The words of a key of n bytes, 1 to 16. */
__attribute__((always_inline)) static inline void decode_fieldid_words(const char *k, size_t n,
                                                                       uint64_t *a, uint64_t *b)
{
    if (n >= 8) {
        memcpy(a, k, 8);
        memcpy(b, k + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;

        memcpy(&x, k, 4);
        memcpy(&y, k + n - 4, 4);
        *a = x;
        *b = y;
    } else {
        *a = (unsigned char)k[0] | (uint64_t)(unsigned char)k[n / 2] << 8 |
             (uint64_t)(unsigned char)k[n - 1] << 16;
        *b = 0;
    }
}

/* The set of two guesses, among tab's 2^bits (bits from 2 to 31), for the
 * key at a place after a given key: h is that key's guess's tok (0 for the
 * first key) plus the place times DECODE_FIELDID_GUESS_K, both kept by the
 * caller as it goes (adds, no loads or multiplies a key).  Two guesses a
 * set: records of two kinds that part ways after the same key meet in one
 * set (with one guess a set, each took it from the other: three misses a
 * record on the bench's three FortiGate lines). */
__attribute__((always_inline)) static inline struct decode_fieldid_guess *
decode_fieldid_guess_for(struct decode_fieldid_guess *tab, unsigned bits, uint32_t h)
{
    return &tab[(h >> (33 - bits)) << 1];
}

/* The length of the key of set's guess that the avail bytes at p start
 * with, followed by sep (*ret_g: that guess), else 0. */
__attribute__((always_inline)) static inline size_t
decode_fieldid_guess_key(struct decode_fieldid_guess *set, const char *p, size_t avail, char sep,
                         struct decode_fieldid_guess **ret_g)
{
    for (int k = 0; k < 2; k++) {
        const struct decode_fieldid_guess *g = &set[k];
        uint64_t a, b;

        if (!g->len || g->len >= avail || p[g->len] != sep)
            continue;
        decode_fieldid_words(p, g->len, &a, &b);
        if (a == g->a && b == g->b) {
            *ret_g = &set[k];
            return g->len;
        }
    }
    return 0;
}

/* 1 if g holds the key k of n bytes. */
__attribute__((always_inline)) static inline int
decode_fieldid_guess_is(const struct decode_fieldid_guess *g, const char *k, size_t n)
{
    uint64_t a, b;

    if (g->len != n || !n)
        return 0;
    decode_fieldid_words(k, n, &a, &b);
    return a == g->a && b == g->b;
}

/* Keeps the key k of n bytes, with aux, as set's first guess (the first
 * becomes the second); a key over 16 bytes (or none) leaves it empty.
 * Returns the first. */
static inline struct decode_fieldid_guess *
decode_fieldid_guess_keep(struct decode_fieldid_guess *set, const char *k, size_t n, int aux)
{
    struct decode_fieldid_guess *g = &set[0];

    set[1] = set[0];
    if (n == 0 || n > DECODE_FIELDID_MEMO_NAME) {
        memset(g, 0, sizeof(*g));
        return g;
    }
    decode_fieldid_words(k, n, &g->a, &g->b);
    g->len = (uint32_t)n;
    g->id = FIELD_NONE;
    g->gen = 0;
    g->aux = aux;
    g->tok =
        (uint32_t)((g->a ^ g->b * 0x9e3779b97f4a7c15ull ^ g->len) * 0xbf58476d1ce4e5b9ull >> 32);
    return g;
}

/* The id of g's key (the key k of n bytes), for generation gen: g's, or
 * decode_fieldid_memo_intern()'s through memo's slot for (prev_id, place)
 * (memo: a table of nmemo, see decode_fieldid_memo_slot()), then kept in
 * g. */
__attribute__((always_inline)) static inline uint32_t
decode_fieldid_guess_id(struct decode_fieldid_guess *g, uint32_t gen,
                        struct decode_fieldid_memo *memo, size_t nmemo, uint32_t prev_id,
                        size_t place, const char *k, size_t n)
{
    if (g->gen == gen && g->id != FIELD_NONE)
        return g->id;
    g->id = decode_fieldid_memo_intern(&memo[decode_fieldid_memo_slot(prev_id, place, nmemo)], gen,
                                       k, n);
    g->gen = gen;
    return g->id;
}

#endif
