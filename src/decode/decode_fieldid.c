/*
 * decode_fieldid.c - a per-thread cache of field name -> id in front of
 * the dictionary (see decode_fieldid.h for why).
 *
 * An entry answers only for the very name it holds, from the dictionary
 * that gave the answer, and a "no such name" only while the dictionary has
 * not grown: the cache can make a look-up faster, never different.
 */
#include "decode/decode_fieldid.h"

#include <string.h>

#include "event/field.h"
#include "util/limits.h"

/* Entries per thread, in sets of FIELDID_WAYS: a power of two, well above
 * the names of a feed (Zeek's conn, dns, http and ssl columns are about
 * 120 names).  A name may sit in any way of its set, so that a few names
 * of one record that share a set do not evict each other on every record. */
#define FIELDID_SLOTS 512
#define FIELDID_WAYS 4
#define FIELDID_SETS (FIELDID_SLOTS / FIELDID_WAYS)
/* Names up to this long are cached (longer ones ask the dictionary). */
#define FIELDID_NAME 46

/*
 * One name and what the dictionary said of it.  The entry holds its own
 * copy of the name, so that a hit is checked against the name asked for
 * without reading the dictionary; `gen` says which dictionary answered
 * (ids change when field_done() frees it).  A miss (id FIELD_NONE, from a
 * look-up only) holds while the dictionary has as many names as it had
 * (`count`): a name interned since may be this one.
 */
struct fieldid_entry {
    uint64_t a, b; /* the words name_hash() read: the whole name up to 16
                      bytes, so that a hit on such a name needs no memcmp */
    uint32_t hash;
    uint32_t id;
    uint32_t gen;
    uint32_t count; /* field_count() at a miss */
    uint16_t len;   /* 0: empty */
    char name[FIELDID_NAME];
};

static _Thread_local struct fieldid_entry fieldid_cache[FIELDID_SLOTS];

static uint64_t load8(const char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static uint32_t load4(const char *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

/* The name's words: its first and last 8 (or 4) bytes, or for a name
 * under 4 bytes its first, middle and last bytes.  For a name up to 16
 * bytes long they hold every byte, so two such names of one length are
 * equal when their words are. */
struct name_words {
    uint64_t a, b;
};

static inline struct name_words name_words(const char *s, size_t len)
{
    struct name_words w;

    if (len >= 8) {
        w.a = load8(s);
        w.b = load8(s + len - 8);
    } else if (len >= 4) {
        w.a = load4(s);
        w.b = load4(s + len - 4);
    } else {
        w.a = (unsigned char)s[0] | (uint64_t)(unsigned char)s[len / 2] << 8 |
              (uint64_t)(unsigned char)s[len - 1] << 16;
        w.b = 0;
    }
    return w;
}

/* A hash of the name from its length and its words (a few loads instead
 * of a loop over it): every byte of a name up to 16 bytes long, the ends
 * of a longer one.  Names that share these only share a slot. */
static inline uint32_t name_hash(struct name_words w, size_t len)
{
    uint64_t a = w.a * 0x9e3779b97f4a7c15ull ^ w.b * 0xc2b2ae3d27d4eb4full ^ len;

    a ^= a >> 29;
    a *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(a >> 32);
}

static inline int holds(const struct fieldid_entry *e, const char *name, size_t len,
                        struct name_words w, uint32_t h, uint32_t gen)
{
    if (e->hash != h || e->len != len || e->gen != gen || e->a != w.a || e->b != w.b)
        return 0;
    return len <= 16 || memcmp(e->name, name, len) == 0;
}

/* The entry holding name, or NULL. */
static inline struct fieldid_entry *cached(const char *name, size_t len, struct name_words w,
                                           uint32_t h, uint32_t gen)
{
    struct fieldid_entry *set = &fieldid_cache[(h & (FIELDID_SETS - 1)) * FIELDID_WAYS];

    for (size_t k = 0; k < FIELDID_WAYS; k++)
        if (holds(&set[k], name, len, w, h, gen))
            return &set[k];
    return NULL;
}

/* count: field_count() read before the dictionary was asked (a name
 * interned meanwhile by another thread then makes the miss stale). */
static void remember(const char *name, size_t len, struct name_words w, uint32_t h, uint32_t gen,
                     uint32_t id, uint32_t count)
{
    struct fieldid_entry *e = &fieldid_cache[(h & (FIELDID_SETS - 1)) * FIELDID_WAYS];

    if (len > FIELDID_NAME)
        return;
    /* The newest first, the oldest out (an older entry for the same name,
     * a stale miss, only sits behind the new one until it is pushed out). */
    memmove(e + 1, e, (FIELDID_WAYS - 1) * sizeof(*e));
    e->a = w.a;
    e->b = w.b;
    e->hash = h;
    e->id = id;
    e->gen = gen;
    e->count = count;
    e->len = (uint16_t)len;
    memcpy(e->name, name, len);
}

uint32_t decode_fieldid_intern(const char *name, size_t len)
{
    uint32_t h, id, gen = field_generation();
    const struct fieldid_entry *e;
    struct name_words w;

    if (len == 0 || len > LIMIT_FIELD_NAME_LEN)
        return FIELD_NONE;
    w = name_words(name, len);
    h = name_hash(w, len);
    if ((e = cached(name, len, w, h, gen)) && e->id != FIELD_NONE)
        return e->id;
    /* Refusals are not remembered: the dictionary counts each one. */
    if ((id = field_intern(name, len)) != FIELD_NONE)
        remember(name, len, w, h, gen, id, 0);
    return id;
}

uint32_t decode_fieldid_lookup(const char *name, size_t len)
{
    uint32_t h, id, gen = field_generation(), count = field_count();
    const struct fieldid_entry *e;
    struct name_words w;

    if (len == 0 || len > LIMIT_FIELD_NAME_LEN)
        return FIELD_NONE;
    w = name_words(name, len);
    h = name_hash(w, len);
    if ((e = cached(name, len, w, h, gen)) && (e->id != FIELD_NONE || e->count == count))
        return e->id;
    id = field_lookup(name, len);
    remember(name, len, w, h, gen, id, count);
    return id;
}
