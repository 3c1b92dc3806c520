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

/* The id of `name` (len bytes, no NUL needed), interning it when it is
 * new: field_intern()'s result, FIELD_NONE when the dictionary refuses it
 * (empty, too long, an embedded NUL, the dictionary full). */
uint32_t decode_fieldid_intern(const char *name, size_t len);

/* As decode_fieldid_intern() without interning: field_lookup()'s result,
 * FIELD_NONE when no one interned `name`. */
uint32_t decode_fieldid_lookup(const char *name, size_t len);

#endif
