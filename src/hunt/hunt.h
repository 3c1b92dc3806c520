/*
 * hunt.h - the hunt engine behind `hikeshi hunt` and GET /api/v1/events:
 * reads the archive's records in a time range (and from a record number),
 * decodes each with its input's configured decoder, keeps those that a
 * query (hunt_query.h) or a Sigma rule file matches, and hands them to the
 * caller one by one, never holding the result.
 *
 * It does not log: damaged blocks are skipped and counted in the stats,
 * errors come back as -errno with a sentence in the caller's buffer.
 */
#ifndef HIKESHI_HUNT_HUNT_H
#define HIKESHI_HUNT_HUNT_H

#include <stddef.h>
#include <stdint.h>

struct archive_record;
struct config;
struct event;

/* What to read and when to stop. */
struct hunt_opts {
    const char *dir;      /* the archive directory */
    int64_t from_us;      /* receive time >= from_us (INT64_MIN: no bound) */
    int64_t to_us;        /* receive time < to_us (INT64_MAX: no bound) */
    uint64_t from_record; /* only records numbered this or later (a cursor) */
    uint64_t limit;       /* stop after this many matches; 0: no limit */
    int64_t budget_us;    /* stop after this much wall time; 0: none */
    int decode;           /* 1: every match is decoded, even for a query of
                             words alone (the caller shows its fields) */
    int no_index;         /* 1: read every block in range, ignoring the
                             blocks' indexes (to compare; the results are
                             the same) */
};

/* One match, valid during the emit call only. */
struct hunt_hit {
    uint64_t record_no;               /* position in the whole archive */
    const struct archive_record *rec; /* as the archive keeps it */
    const struct event *ev;           /* decoded (or only raw, if no decoder
                                         understood it) */
};

/* A negative return stops the hunt; hunt_run returns it. */
typedef int (*hunt_emit_fn)(void *arg, const struct hunt_hit *hit);

enum hunt_stop {
    HUNT_STOP_END = 0, /* the archive (or the time range) was read to its end */
    HUNT_STOP_LIMIT,   /* opts.limit matches */
    HUNT_STOP_BUDGET,  /* opts.budget_us passed */
};

struct hunt_stats {
    uint64_t records;   /* records read (in the range) */
    uint64_t decoded;   /* records decoded (the others failed the raw
                           text's prefilter) */
    uint64_t matched;   /* records handed to emit */
    uint64_t raw_bytes; /* bytes of the records read */
    uint64_t blocks_read, blocks_skipped, blocks_corrupt;
    uint64_t blocks_indexed;       /* blocks in range that had an index */
    uint64_t blocks_index_skipped; /* ... and were skipped by it, unread */
    unsigned long regex_errors; /* regex matches stopped at their limit */
    enum hunt_stop stop;
    uint64_t next_record; /* HUNT_STOP_LIMIT/BUDGET: where to resume */
};

struct hunt;

/*
 * Prepares a hunt for `query` (len bytes; may be NULL/0 when `sigma_path`
 * is given) and/or the Sigma rule file `sigma_path` (routed and mapped by
 * cfg->sigma_mappings); both given, a record must match both.  `cfg` is
 * borrowed for the hunt's life (the inputs' decoders and time zones).
 * 0 and *ret, -EINVAL with a sentence in err (the query's offset and
 * reason, or the rule's file:line:col and reason), -ENOMEM.
 */
int hunt_new(const struct config *cfg, const char *query, size_t len, const char *sigma_path,
             struct hunt **ret, char *err, size_t errlen);
/* NULL is a no-op.  Must precede field_done(). */
void hunt_free(struct hunt *h);

/*
 * Runs the hunt once.  Fills *st.  0 (see st->stop), the emitter's negative
 * return, -ENOENT when there is no archive in o->dir, or the reader's
 * -errno for a fault that stops reading.
 */
int hunt_run(struct hunt *h, const struct hunt_opts *o, hunt_emit_fn emit, void *arg,
             struct hunt_stats *st);

struct buf;

/* The sender's address of a record as "1.2.3.4:514" or "[::1]:514" into
 * buf (size >= 64); "" when the record has none. */
void hunt_peer_format(const struct archive_record *rec, char *buf, size_t size);

/*
 * Appends a match as one JSON object (no newline) to `out`: record (its
 * number), received and time (ISO 8601 UTC), input, peer (null when none),
 * decoder (null when none understood it), raw (the bytes as a string,
 * invalid UTF-8 escaped), fields (the decoded fields, as
 * event_fields_json()).  -ENOMEM or -E2BIG from the buffer's cap.
 */
int hunt_hit_json(const struct hunt_hit *hit, struct buf *out);

#endif
