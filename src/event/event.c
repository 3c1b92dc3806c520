/*
 * event.c - the normalized event.
 */
#include "event/event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "event/time.h"
#include "util/buf.h"
#include "util/limits.h"

/* Fields of a first allocation.  Product decoders give 20 to 60 (a Zeek
 * JSON record 33-60, PAN-OS and FortiGate 25-42): with 32 most of their
 * records grew once, an allocation and a copy of the array (issue 24);
 * 64 (1 KiB of the record's arena) holds nearly all in one. */
#define EVENT_FIELDS_INITIAL 64

void event_init(struct event *ev, struct arena *arena, const char *raw, size_t raw_len,
                int64_t recv_us)
{
    memset(ev, 0, sizeof(*ev));
    ev->arena = arena;
    ev->raw = raw;
    ev->raw_len = raw_len;
    ev->msg = raw;
    ev->msg_len = raw_len;
    ev->recv_us = recv_us;
    ev->time_us = recv_us;
}

void event_reset(struct event *ev)
{
    struct arena *a = ev->arena;

    arena_reset(a);
    memset(ev, 0, sizeof(*ev));
    ev->arena = a;
}

static int event_grow(struct event *ev)
{
    uint32_t ncap = ev->cap ? ev->cap * 2 : EVENT_FIELDS_INITIAL;
    struct event_field *nf;

    if (ncap > LIMIT_EVENT_FIELDS)
        ncap = LIMIT_EVENT_FIELDS;
    if (ncap <= ev->cap)
        return -E2BIG;
    /* Arena memory is not freed on growth; the waste is bounded by the
     * doubling (at most the final size again). */
    nf = arena_alloc(ev->arena, ncap * sizeof(*nf));
    if (!nf)
        return -ENOMEM;
    if (ev->nfields)
        memcpy(nf, ev->fields, ev->nfields * sizeof(*nf));
    ev->fields = nf;
    ev->cap = ncap;
    return 0;
}

int event_add_slow(struct event *ev, uint32_t id, const char *val, size_t len)
{
    int r;

    if (id == FIELD_NONE || len > UINT32_MAX) {
        ev->dropped++;
        return -E2BIG;
    }
    if (ev->nfields == ev->cap && (r = event_grow(ev)) < 0) {
        ev->dropped++;
        return r;
    }
    ev->fields[ev->nfields].id = id;
    ev->fields[ev->nfields].len = (uint32_t)len;
    ev->fields[ev->nfields].val = val;
    ev->nfields++;
    return 0;
}

int event_add_copy(struct event *ev, uint32_t id, const char *val, size_t len)
{
    char *p = arena_strndup(ev->arena, val, len);

    if (!p) {
        ev->dropped++;
        return -ENOMEM;
    }
    return event_add(ev, id, p, len);
}

int event_add_str(struct event *ev, uint32_t id, const char *s)
{
    return event_add_copy(ev, id, s, strlen(s));
}

int event_add_int(struct event *ev, uint32_t id, long long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", v);

    return event_add_copy(ev, id, tmp, (size_t)n);
}

int event_add_named(struct event *ev, const char *name, size_t name_len, const char *val,
                    size_t len)
{
    return event_add(ev, field_intern(name, name_len), val, len);
}

int event_set(struct event *ev, uint32_t id, const char *val, size_t len)
{
    uint32_t o = 0;

    /* Most often the name is not there yet (a decoder setting the time of
     * a record of many fields): nothing to move. */
    while (o < ev->nfields && ev->fields[o].id != id)
        o++;
    for (uint32_t i = o; i < ev->nfields; i++) {
        if (ev->fields[i].id != id)
            ev->fields[o++] = ev->fields[i];
    }
    ev->nfields = o;
    return event_add(ev, id, val, len);
}

const char *event_get(const struct event *ev, uint32_t id, size_t *ret_len)
{
    for (uint32_t i = 0; i < ev->nfields; i++) {
        if (ev->fields[i].id == id) {
            if (ret_len)
                *ret_len = ev->fields[i].len;
            return ev->fields[i].val;
        }
    }
    return NULL;
}

int event_is(const struct event *ev, uint32_t id, const char *s)
{
    size_t len;
    const char *v = event_get(ev, id, &len);

    return v && strlen(s) == len && memcmp(v, s, len) == 0;
}

int event_set_time(struct event *ev, int64_t time_us, const char *orig, size_t orig_len)
{
    char iso[TIME_ISO_LEN];
    size_t n = time_format_iso(time_us, iso, sizeof(iso));
    char *p = arena_strndup(ev->arena, iso, n);
    int r;

    if (!p)
        return -ENOMEM;
    ev->time_us = time_us;
    ev->has_time = 1;
    /* Most often neither field is there yet (the first time a record's
     * decoders set): one look over the fields instead of event_set()'s two,
     * then two appends, which is what the two event_set() below come to
     * then (a FortiGate line of 35 fields spent 270 instructions in them,
     * issue 24).  With either there, the general path below. */
    {
        uint32_t i = 0;

        while (i < ev->nfields && ev->fields[i].id != FIELD_TIMESTAMP &&
               ev->fields[i].id != FIELD_EVENT_ORIGINAL_TIME)
            i++;
        if (i == ev->nfields) {
            if ((r = event_add(ev, FIELD_TIMESTAMP, p, n)) < 0 || !orig || !orig_len)
                return r;
            return event_add(ev, FIELD_EVENT_ORIGINAL_TIME, orig, orig_len);
        }
    }
    if ((r = event_set(ev, FIELD_TIMESTAMP, p, n)) < 0)
        return r;
    if (orig && orig_len)
        return event_set(ev, FIELD_EVENT_ORIGINAL_TIME, orig, orig_len);
    /* No original text this time: an earlier one no longer describes the
     * event's time. */
    {
        uint32_t o = 0;
        while (o < ev->nfields && ev->fields[o].id != FIELD_EVENT_ORIGINAL_TIME)
            o++;
        for (uint32_t i = o; i < ev->nfields; i++) {
            if (ev->fields[i].id != FIELD_EVENT_ORIGINAL_TIME)
                ev->fields[o++] = ev->fields[i];
        }
        ev->nfields = o;
    }
    return 0;
}

int event_fields_json(const struct event *ev, struct buf *out)
{
    int r, first = 1;

    if ((r = buf_putc(out, '{')) < 0)
        return r;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct event_field *f = &ev->fields[i];
        uint32_t count = 0;
        int seen = 0;

        /* Emit each name once, at its first occurrence. */
        for (uint32_t j = 0; j < i; j++) {
            if (ev->fields[j].id == f->id) {
                seen = 1;
                break;
            }
        }
        if (seen)
            continue;
        for (uint32_t j = i; j < ev->nfields; j++)
            count += ev->fields[j].id == f->id;
        if (!first && (r = buf_putc(out, ',')) < 0)
            return r;
        first = 0;
        {
            const char *name = field_name(f->id);
            if ((r = buf_json_str(out, name, strlen(name))) < 0 || (r = buf_putc(out, ':')) < 0)
                return r;
        }
        if (count == 1) {
            if ((r = buf_json_str(out, f->val, f->len)) < 0)
                return r;
            continue;
        }
        if ((r = buf_putc(out, '[')) < 0)
            return r;
        for (uint32_t j = i, k = 0; j < ev->nfields; j++) {
            if (ev->fields[j].id != f->id)
                continue;
            if (k++ && (r = buf_putc(out, ',')) < 0)
                return r;
            if ((r = buf_json_str(out, ev->fields[j].val, ev->fields[j].len)) < 0)
                return r;
        }
        if ((r = buf_putc(out, ']')) < 0)
            return r;
    }
    return buf_putc(out, '}');
}
