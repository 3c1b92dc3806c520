/*
 * store_intel.h - the indicator store (schema 11): indicators by feed,
 * their tags and their sightings.  The SQL lives in store_intel.c; the
 * meaning of the values (types, TLP, decay) in src/intel/.
 *
 * A feed is replaced as a whole: store_intel_feed_begin opens a
 * transaction, each indicator the new file holds is put (keeping the
 * first-seen time and the sightings of one already held), and
 * store_intel_feed_commit deletes what the feed no longer holds and
 * commits.  store_intel_feed_abort leaves the feed as it was.
 */
#ifndef HIKESHI_STORE_STORE_INTEL_H
#define HIKESHI_STORE_STORE_INTEL_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_intel_batch;

/* One indicator to put; the strings are the caller's. */
struct store_intel_rec {
    const char *type, *value, *tlp, *ref;
    int confidence;
    int64_t valid_from_us, valid_until_us; /* 0: none */
    size_t ntags;
    const char *const *tag_kind; /* ntags each */
    const char *const *tag_value;
};

/* Opens the replacement of `feed` as of now_us.  0 or an errno. */
int store_intel_feed_begin(struct store *st, const char *feed, int64_t now_us,
                           struct store_intel_batch **ret);
/* Puts one indicator (an indicator put twice keeps the higher confidence
 * and the more restrictive of the two TLPs given). */
int store_intel_feed_put(struct store_intel_batch *b, const struct store_intel_rec *rec);
/* Deletes the feed's indicators not put in this batch, commits and frees
 * the batch.  *ret_removed (may be NULL) gets their count. */
int store_intel_feed_commit(struct store_intel_batch *b, int64_t *ret_removed);
/* Rolls back and frees the batch.  NULL is a no-op. */
void store_intel_feed_abort(struct store_intel_batch *b);

/* One stored indicator, valid during the callback. */
struct store_intel_row {
    int64_t id;
    const char *type, *value, *feed, *tlp, *ref;
    const char *tags; /* "kind:value" joined by ';' ("" for none) */
    int confidence;
    int64_t first_seen_us, last_seen_us, valid_until_us; /* 0: no expiry */
    int64_t sightings, first_sighted_us, last_sighted_us; /* 0: never sighted */
    const char *sources; /* "input=count" joined by ';' */
};

/* Calls row() on each indicator (of type `type`, or all when NULL), in id
 * order; stops at the first negative return and returns it. */
int store_intel_each(struct store *st, const char *type,
                     int (*row)(void *ctx, const struct store_intel_row *r), void *ctx);
/* Deletes one indicator (its tags and sightings go with it). */
int store_intel_delete(struct store *st, int64_t id);
/* Adds `count` sightings seen from `source` between first_us and last_us
 * to indicator `id`; an indicator deleted since is skipped (0). */
int store_intel_sight(struct store *st, int64_t id, const char *source, int64_t count,
                      int64_t first_us, int64_t last_us);
/* How many indicators are stored. */
int store_intel_count(struct store *st, int64_t *ret);

#endif
