/*
 * store_observable.c - an incident's observables on SQLite
 * (store_observable.h): the incident_observables table, and the promotion
 * of one to an indicator in intel_indicators.
 */
#include "store/store_observable.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/store_priv.h"

/* clang-format off */
/* One observable as the API shows it, with the other incidents holding
 * the same type and value (at most 100 of them). */
#define OBS_JSON                                                                                   \
    "json_object('id', o.id, 'type', o.type, 'value', o.value, 'origin', o.origin,"               \
    " 'added_by', o.added_by, 'added', " STORE_ISO("o.added_us") ","                               \
    " 'alert', NULLIF(o.alert_id, 0), 'note', o.note, 'indicator', NULLIF(o.indicator_id, 0),"     \
    " 'incidents', json((SELECT json_group_array(x.incident_id) FROM"                              \
    "   (SELECT DISTINCT p.incident_id FROM incident_observables p"                                \
    "    WHERE p.type = o.type AND p.value = o.value AND p.incident_id != o.incident_id"           \
    "    ORDER BY p.incident_id LIMIT 100) x)))"
/* clang-format on */

int store_observable_add(struct store *st, int64_t incident, const char *type, const char *value,
                         const char *origin, const char *by, int64_t alert_id, const char *note,
                         int64_t now_us, int64_t *ret_id, int *ret_new)
{
    int64_t changes = 0, id = 0;
    sqlite3_stmt *s = NULL;
    int r;

    if (ret_new)
        *ret_new = 0;
    r = store_exec_sql(st, "adding an observable", &changes, &id,
                       "INSERT INTO incident_observables(incident_id, type, value, origin,"
                       " added_by, added_us, alert_id, note) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                       " ON CONFLICT (incident_id, type, value) DO NOTHING",
                       "ittttiit", incident, type, value, origin, by, now_us, alert_id, note);
    if (r < 0)
        return r;
    if (changes == 1) {
        if (ret_new)
            *ret_new = 1;
        if (ret_id)
            *ret_id = id;
        return 0;
    }
    if (!ret_id)
        return 0;
    r = store_row_one(st, "reading an observable", "no such observable", &s,
                      "SELECT id FROM incident_observables"
                      " WHERE incident_id = ?1 AND type = ?2 AND value = ?3",
                      "itt", incident, type, value);
    if (r < 0)
        return r;
    *ret_id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

int store_observable_delete(struct store *st, int64_t incident, int64_t id)
{
    int64_t changes = 0;
    int r = store_exec_sql(st, "deleting an observable", &changes, NULL,
                           "DELETE FROM incident_observables WHERE incident_id = ?1 AND id = ?2",
                           "ii", incident, id);

    if (r < 0)
        return r;
    if (changes == 0) {
        store_seterr(st, "no such observable");
        return -ENOENT;
    }
    return 0;
}

int store_observables_json(struct store *st, int64_t incident, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading observables", out, ret_n,
                          "SELECT " OBS_JSON " FROM incident_observables o"
                          " WHERE o.incident_id = ?1 ORDER BY o.id",
                          "i", incident);
}

int store_observable_json(struct store *st, int64_t incident, int64_t id, struct buf *out)
{
    return store_json_one(st, "reading an observable", "no such observable", out,
                          "SELECT " OBS_JSON " FROM incident_observables o"
                          " WHERE o.incident_id = ?1 AND o.id = ?2",
                          "ii", incident, id);
}

int store_observable_links_json(struct store *st, int64_t incident, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading linked incidents", out, ret_n,
                          "SELECT json_object('incident', p.incident_id, 'shared', count(*))"
                          " FROM incident_observables o JOIN incident_observables p"
                          "  ON p.type = o.type AND p.value = o.value"
                          "  AND p.incident_id != o.incident_id"
                          " WHERE o.incident_id = ?1"
                          " GROUP BY p.incident_id ORDER BY p.incident_id LIMIT 1000",
                          "i", incident);
}

int store_observable_get(struct store *st, int64_t incident, int64_t id, char *type,
                         size_t type_size, char *value, size_t value_size)
{
    sqlite3_stmt *s = NULL;
    int r = store_row_one(st, "reading an observable", "no such observable", &s,
                          "SELECT type, value FROM incident_observables"
                          " WHERE incident_id = ?1 AND id = ?2",
                          "ii", incident, id);

    if (r < 0)
        return r;
    snprintf(type, type_size, "%s", (const char *)sqlite3_column_text(s, 0));
    snprintf(value, value_size, "%s", (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    return 0;
}

int store_observable_promote(struct store *st, int64_t incident, int64_t id, const char *feed,
                             const char *type, const char *value, int confidence, const char *tlp,
                             int64_t now_us, int64_t *ret_indicator)
{
    sqlite3_stmt *s = NULL;
    int64_t ind, changes = 0;
    int r;

    /* A value the feed holds already keeps its first-seen time and its
     * sightings; what the analyst says now replaces the rest. */
    r = store_row_one(st, "promoting an observable", "no indicator stored", &s,
                      "INSERT INTO intel_indicators (type, value, feed, confidence, tlp,"
                      "  first_seen_us, last_seen_us, import_us)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)"
                      " ON CONFLICT (type, value, feed) DO UPDATE SET"
                      "  confidence = excluded.confidence, tlp = excluded.tlp,"
                      "  last_seen_us = excluded.last_seen_us, import_us = excluded.import_us,"
                      "  valid_until_us = NULL"
                      " RETURNING id",
                      "tttiti", type, value, feed, (int64_t)confidence, tlp, now_us);
    if (r < 0)
        return r;
    ind = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    r = store_exec_sql(st, "promoting an observable", &changes, NULL,
                       "UPDATE incident_observables SET indicator_id = ?3"
                       " WHERE incident_id = ?1 AND id = ?2",
                       "iii", incident, id, ind);
    if (r < 0)
        return r;
    if (changes == 0) {
        store_seterr(st, "no such observable");
        return -ENOENT;
    }
    if (ret_indicator)
        *ret_indicator = ind;
    return 0;
}
