/*
 * event.h - the normalized event.
 *
 * An event is the raw record plus an array of (field id, value) pairs.
 * Values are views: they point into the raw record when the text is used as
 * it is, or into the event's arena when a decoder had to rewrite it
 * (unescaping, a formatted timestamp).  Everything an event points to lives
 * until event_reset(); a stage that keeps data copies it out on purpose.
 *
 * A field may occur more than once (a JSON array, a repeated key): the
 * values keep their order and event_get() returns the first.
 */
#ifndef HIKESHI_EVENT_EVENT_H
#define HIKESHI_EVENT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "event/field.h"
#include "util/arena.h"

struct buf;

struct event_field {
    uint32_t id;     /* interned field id, never FIELD_NONE */
    uint32_t len;    /* bytes of val */
    const char *val; /* view into raw or into the arena; not NUL-terminated */
};

struct event {
    /* The record as received, after framing (no trailing newline).  Not
     * owned: the caller keeps it alive until event_reset(). */
    const char *raw;
    size_t raw_len;

    int64_t recv_us; /* receive time, µs since the epoch, UTC */
    int64_t time_us; /* event time, UTC; equals recv_us until a decoder
                        finds a timestamp in the record */
    int has_time;    /* 1 once a decoder set time_us from the record */

    /* The syslog MSG part (or the whole record when there is no header):
     * what product decoders parse.  A view into raw. */
    const char *msg;
    size_t msg_len;

    const char *decoder; /* static name of the decoder that understood the
                            record (the most specific one); NULL = unparsed */
    uint32_t input_id;   /* index of the input it came from */
    /* 0 for real records; a tabletop exercise's record carries its run (the
     * store's exercise run id, -1 when unknown), set by the pipeline:
     * correlation and triage keep each run's state apart from the others'
     * and from the real one (docs/exercise.md). */
    int64_t realm;
    uint32_t dropped;    /* fields dropped (cap reached or interning refused) */

    struct event_field *fields; /* from the arena */
    uint32_t nfields;
    uint32_t cap;

    struct arena *arena; /* not owned */
};

/* Prepares `ev` for a new record; `arena` must outlive it.  `raw` is kept as
 * a view.  Sets recv_us and time_us to `recv_us`. */
void event_init(struct event *ev, struct arena *arena, const char *raw, size_t raw_len,
                int64_t recv_us);
/* Forgets the fields and resets the arena. */
void event_reset(struct event *ev);

/*
 * Appends field `id` with the value (`val`, `len`), kept as a view (no copy).
 * Returns 0, or -E2BIG when the event already has LIMIT_EVENT_FIELDS fields
 * or `id` is FIELD_NONE (the field is dropped and counted in ev->dropped), or
 * -ENOMEM.
 */
int event_add_slow(struct event *ev, uint32_t id, const char *val, size_t len);
/* The common case inline (a decoder adds 5 to 40 fields a record, and the
 * call was a tenth of a FortiGate line's instructions: bench/README.md,
 * "Decoders"); a full array, FIELD_NONE or an oversized value take
 * event_add_slow(), which grows, refuses and counts. */
static inline int event_add(struct event *ev, uint32_t id, const char *val, size_t len)
{
    struct event_field *f;

    if (id == FIELD_NONE || len > UINT32_MAX || ev->nfields == ev->cap)
        return event_add_slow(ev, id, val, len);
    f = &ev->fields[ev->nfields++];
    f->id = id;
    f->len = (uint32_t)len;
    f->val = val;
    return 0;
}
/* As event_add, copying the value into the arena first. */
int event_add_copy(struct event *ev, uint32_t id, const char *val, size_t len);
/* As event_add_copy for a NUL-terminated string. */
int event_add_str(struct event *ev, uint32_t id, const char *s);
/* Appends a decimal integer value (formatted into the arena). */
int event_add_int(struct event *ev, uint32_t id, long long v);
/* Interns `name` and appends; the common path for product fields. */
int event_add_named(struct event *ev, const char *name, size_t name_len, const char *val,
                    size_t len);
/* Replaces every value of `id` by this one (or adds it). */
int event_set(struct event *ev, uint32_t id, const char *val, size_t len);

/* Returns the first value of `id`, or NULL.  *ret_len gets its length. */
const char *event_get(const struct event *ev, uint32_t id, size_t *ret_len);
/* 1 if the first value of `id` equals the NUL-terminated `s`. */
int event_is(const struct event *ev, uint32_t id, const char *s);

/*
 * Sets the event time from a decoded timestamp: time_us, has_time, the
 * "@timestamp" field (ISO 8601 UTC with microseconds) and the original text
 * in "event.original_time".  Replaces an earlier time.
 */
int event_set_time(struct event *ev, int64_t time_us, const char *orig, size_t orig_len);

/*
 * Appends the fields as one JSON object to `out`: {"name":"value",...}; a
 * field that occurs more than once becomes an array of its values in order.
 */
int event_fields_json(const struct event *ev, struct buf *out);

#endif
