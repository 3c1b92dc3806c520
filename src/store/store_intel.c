/*
 * store_intel.c - the indicator tables on SQLite (store_intel.h).  The
 * import's statements are prepared once per batch: a feed holds up to
 * millions of rows.
 */
#include "store/store_intel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_priv.h"

struct store_intel_batch {
    struct store *st;
    char *feed;
    int64_t now_us;
    sqlite3_stmt *put, *tag;
};

void store_intel_feed_abort(struct store_intel_batch *b)
{
    if (!b)
        return;
    sqlite3_finalize(b->put);
    sqlite3_finalize(b->tag);
    (void)store_rollback(b->st);
    free(b->feed);
    free(b);
}

int store_intel_feed_begin(struct store *st, const char *feed, int64_t now_us,
                           struct store_intel_batch **ret)
{
    struct store_intel_batch *b = calloc(1, sizeof(*b));
    int r, rc;

    *ret = NULL;
    if (!b || !(b->feed = strdup(feed))) {
        free(b);
        return -ENOMEM;
    }
    b->st = st;
    b->now_us = now_us;
    if ((r = store_begin(st)) < 0) {
        free(b->feed);
        free(b);
        return r;
    }
    /* The tags of a value are those its latest import gives it: the
     * feed's are dropped here and each put adds its own back. */
    if ((r = store_exec_sql(st, "replacing a feed's tags", NULL, NULL,
                            "DELETE FROM intel_tags WHERE indicator_id IN"
                            " (SELECT id FROM intel_indicators WHERE feed = ?1)",
                            "t", feed)) < 0) {
        store_intel_feed_abort(b);
        return r;
    }
    /* A value already held keeps its first-seen time and sightings; the
     * import stamps it (import_us) so that commit can tell what the new
     * file no longer holds. */
    rc = sqlite3_prepare_v2(
        st->db,
        "INSERT INTO intel_indicators (type, value, feed, confidence, tlp, ref, first_seen_us,"
        "  last_seen_us, valid_from_us, valid_until_us, import_us)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?7)"
        " ON CONFLICT (type, value, feed) DO UPDATE SET"
        "  confidence = CASE WHEN import_us = excluded.import_us"
        "    THEN max(confidence, excluded.confidence) ELSE excluded.confidence END,"
        "  tlp = CASE WHEN import_us = excluded.import_us AND"
        "    instr('CLEAR GREEN AMBER AMBER+STRICT RED', tlp) >"
        "    instr('CLEAR GREEN AMBER AMBER+STRICT RED', excluded.tlp)"
        "    THEN tlp ELSE excluded.tlp END,"
        "  ref = excluded.ref, last_seen_us = excluded.last_seen_us,"
        "  valid_from_us = excluded.valid_from_us, valid_until_us = excluded.valid_until_us,"
        "  import_us = excluded.import_us"
        " RETURNING id",
        -1, &b->put, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db,
                                "INSERT OR IGNORE INTO intel_tags (indicator_id, kind, value)"
                                " VALUES (?1, ?2, ?3)",
                                -1, &b->tag, NULL);
    if (rc != SQLITE_OK) {
        r = store_dberr(st, rc, "preparing the indicator import");
        store_intel_feed_abort(b);
        return r;
    }
    *ret = b;
    return 0;
}

static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : store_dberr(st, rc, what);
}

int store_intel_feed_put(struct store_intel_batch *b, const struct store_intel_rec *rec)
{
    sqlite3_stmt *s = b->put;
    int64_t id;
    int rc;

    store_bind_text(s, 1, rec->type);
    store_bind_text(s, 2, rec->value);
    store_bind_text(s, 3, b->feed);
    sqlite3_bind_int(s, 4, rec->confidence);
    store_bind_text(s, 5, rec->tlp);
    store_bind_text(s, 6, rec->ref);
    sqlite3_bind_int64(s, 7, b->now_us);
    if (rec->valid_from_us)
        sqlite3_bind_int64(s, 8, rec->valid_from_us);
    if (rec->valid_until_us)
        sqlite3_bind_int64(s, 9, rec->valid_until_us);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return store_dberr(b->st, rc, "storing an indicator");
    }
    id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    /* a value put twice in one import (two STIX objects) gets both's tags */
    for (size_t i = 0; i < rec->ntags; i++) {
        int r;
        sqlite3_bind_int64(b->tag, 1, id);
        store_bind_text(b->tag, 2, rec->tag_kind[i]);
        store_bind_text(b->tag, 3, rec->tag_value[i]);
        if ((r = step_done(b->st, b->tag, "storing an indicator's tag")) < 0)
            return r;
    }
    return 0;
}

int store_intel_feed_commit(struct store_intel_batch *b, int64_t *ret_removed)
{
    int64_t n = 0;
    int r;

    r = store_exec_sql(b->st, "dropping indicators the feed no longer holds", &n, NULL,
                       "DELETE FROM intel_indicators WHERE feed = ?1 AND import_us != ?2", "ti",
                       b->feed, b->now_us);
    if (r < 0) {
        store_intel_feed_abort(b);
        return r;
    }
    sqlite3_finalize(b->put);
    sqlite3_finalize(b->tag);
    b->put = b->tag = NULL;
    if ((r = store_commit(b->st)) < 0) {
        (void)store_rollback(b->st);
    } else if (ret_removed) {
        *ret_removed = n;
    }
    free(b->feed);
    free(b);
    return r;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

int store_intel_each(struct store *st, const char *type,
                     int (*row)(void *ctx, const struct store_intel_row *r), void *ctx)
{
    sqlite3_stmt *s = NULL;
    int rc, r = 0;

    rc = sqlite3_prepare_v2(
        st->db,
        "SELECT i.id, i.type, i.value, i.feed, i.tlp, i.ref, i.confidence, i.first_seen_us,"
        "  i.last_seen_us, i.valid_until_us, i.sightings, i.first_sighted_us, i.last_sighted_us,"
        "  (SELECT group_concat(kind || ':' || value, ';') FROM intel_tags t"
        "     WHERE t.indicator_id = i.id),"
        "  (SELECT group_concat(source || '=' || count, ';') FROM intel_sightings g"
        "     WHERE g.indicator_id = i.id)"
        " FROM intel_indicators i WHERE ?1 IS NULL OR i.type = ?1 ORDER BY i.id",
        -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_dberr(st, rc, "reading indicators");
    store_bind_text(s, 1, type);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_intel_row rw = {
            .id = sqlite3_column_int64(s, 0),
            .type = col_text(s, 1),
            .value = col_text(s, 2),
            .feed = col_text(s, 3),
            .tlp = col_text(s, 4),
            .ref = col_text(s, 5),
            .confidence = sqlite3_column_int(s, 6),
            .first_seen_us = sqlite3_column_int64(s, 7),
            .last_seen_us = sqlite3_column_int64(s, 8),
            .valid_until_us = sqlite3_column_int64(s, 9),
            .sightings = sqlite3_column_int64(s, 10),
            .first_sighted_us = sqlite3_column_int64(s, 11),
            .last_sighted_us = sqlite3_column_int64(s, 12),
            .tags = col_text(s, 13),
            .sources = col_text(s, 14),
        };
        if ((r = row(ctx, &rw)) < 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "reading indicators");
    sqlite3_finalize(s);
    return r;
}

int store_intel_delete(struct store *st, int64_t id)
{
    return store_exec_sql(st, "deleting an indicator", NULL, NULL,
                          "DELETE FROM intel_indicators WHERE id = ?1", "i", id);
}

int store_intel_sight(struct store *st, int64_t id, const char *source, int64_t count,
                      int64_t first_us, int64_t last_us)
{
    int64_t n = 0;
    int r;

    r = store_exec_sql(st, "counting a sighting", &n, NULL,
                       "UPDATE intel_indicators SET sightings = sightings + ?2,"
                       " first_sighted_us = min(coalesce(first_sighted_us, ?3), ?3),"
                       " last_sighted_us = max(coalesce(last_sighted_us, ?4), ?4)"
                       " WHERE id = ?1",
                       "iiii", id, count, first_us, last_us);
    if (r < 0 || n == 0)
        return r;
    return store_exec_sql(st, "counting a sighting", NULL, NULL,
                          "INSERT INTO intel_sightings (indicator_id, source, count, first_us,"
                          "  last_us) VALUES (?1, ?2, ?3, ?4, ?5)"
                          " ON CONFLICT (indicator_id, source) DO UPDATE SET"
                          "  count = count + excluded.count,"
                          "  first_us = min(first_us, excluded.first_us),"
                          "  last_us = max(last_us, excluded.last_us)",
                          "itiii", id, source, count, first_us, last_us);
}

int store_intel_count(struct store *st, int64_t *ret)
{
    sqlite3_stmt *s = NULL;
    int r;

    if ((r = store_row_one(st, "counting indicators", "", &s,
                           "SELECT count(*) FROM intel_indicators", "")) < 0)
        return r;
    *ret = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}
