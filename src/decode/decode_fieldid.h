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

#endif
