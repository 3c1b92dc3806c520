/*
 * store_console.c - what the web console's dashboard and rule list read
 * from the SQLite store: counts of what arrived in a window, alerts per
 * hour, open incidents by level and category, the riskiest entities, and
 * hits per rule.
 *
 * These serve API requests, not the per-record path, so statements are
 * prepared per call.  Every count over the big tables (events, alerts) is
 * a range over an index (schema 8), never a scan of the rows.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

/* What an exercise's records made in the window (store_exercise.c): the
 * dashboard's counts are of real records only (issue 22). */
#define EXERCISE_COUNT(kind)                                                                       \
    "(SELECT count(*) FROM exercise_marks WHERE kind = '" kind "'"                                 \
    " AND time_us >= ?1 AND time_us < ?2)"
#define EXERCISE_IDS(kind) "(SELECT id FROM exercise_marks WHERE kind = '" kind "')"

int store_funnel(struct store *st, int64_t since_us, int64_t until_us, struct store_funnel *ret)
{
    sqlite3_stmt *s;
    int r;

    memset(ret, 0, sizeof(*ret));
    /* Each count(*) reads only the entries of one index in the range. */
    r = store_row_one(st, "counting what arrived", "no row", &s,
                      "SELECT (SELECT count(*) FROM events WHERE recv_us >= ?1 AND recv_us < ?2)"
                      "  - " EXERCISE_COUNT("event") ","
                      " (SELECT count(*) FROM alerts WHERE created_us >= ?1 AND created_us < ?2)"
                      "  - " EXERCISE_COUNT("alert") ","
                      " (SELECT count(*) FROM agg_alerts"
                      "  WHERE created_us >= ?1 AND created_us < ?2) - " EXERCISE_COUNT("agg") ","
                      " (SELECT count(*) FROM incidents"
                      "  WHERE created_us >= ?1 AND created_us < ?2) - " EXERCISE_COUNT("incident"),
                      "ii", since_us, until_us);
    if (r < 0)
        return r;
    ret->records = sqlite3_column_int64(s, 0);
    ret->alerts = sqlite3_column_int64(s, 1);
    ret->aggregated = sqlite3_column_int64(s, 2);
    ret->incidents = sqlite3_column_int64(s, 3);
    sqlite3_finalize(s);
    return 0;
}

int store_alert_rate(struct store *st, int64_t since_us, int64_t width_us, size_t n,
                     int64_t *ret_counts)
{
    sqlite3_stmt *s = NULL;
    int r = 0, rc;

    if (n == 0 || width_us <= 0 || n > (size_t)(INT64_MAX / width_us))
        return -EINVAL;
    memset(ret_counts, 0, n * sizeof(*ret_counts));
    rc = sqlite3_prepare_v2(st->db,
                            "SELECT (created_us - ?1) / ?3, count(*) FROM alerts"
                            " WHERE created_us >= ?1 AND created_us < ?2"
                            " AND id NOT IN " EXERCISE_IDS("alert") " GROUP BY 1",
                            -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, since_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, since_us + (int64_t)n * width_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, width_us);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(s, 0);

        /* The WHERE keeps i in range; checked all the same. */
        if (i >= 0 && (uint64_t)i < n)
            ret_counts[i] = sqlite3_column_int64(s, 1);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
        r = store_dberr(st, rc, "counting alerts per hour");
    sqlite3_finalize(s);
    return r;
}

static int open_row(sqlite3_stmt *s, void *ctx)
{
    static const char *const levels[4] = {"Green", "Yellow", "Orange", "Red"};
    static const char *const cats[4] = {"A", "B", "C", "D"};
    struct store_open_counts *c = ctx;
    const char *level = (const char *)sqlite3_column_text(s, 0);
    const char *cat = (const char *)sqlite3_column_text(s, 1);
    int64_t n = sqlite3_column_int64(s, 2);

    c->total += n;
    for (size_t i = 0; i < 4; i++) {
        if (level && strcmp(level, levels[i]) == 0)
            c->by_level[i] += n;
        if (cat && strcmp(cat, cats[i]) == 0)
            c->by_category[i] += n;
    }
    return 0;
}

int store_open_counts(struct store *st, struct store_open_counts *ret)
{
    memset(ret, 0, sizeof(*ret));
    return store_each_row(st, "counting open incidents",
                          "SELECT level, category, count(*) FROM incidents"
                          " WHERE phase <> 'closed' AND id NOT IN " EXERCISE_IDS("incident")
                          " GROUP BY level, category",
                          0, open_row, ret);
}

/* The kind of incident entity a triage field stands for (as the case file
 * maps them when it seeds a record). */
#define KIND_OF(f)                                                                                 \
    "CASE WHEN " f " IN ('host.name', 'host.hostname') THEN 'host'"                                \
    " WHEN substr(" f ", 1, 5) = 'user.' THEN 'user' ELSE 'address' END"

int store_entity_risk_json(struct store *st, int64_t limit, struct buf *out, size_t *ret_n)
{
    /* One row per entity and incident first (triage's proposal and the
     * CSIRT's record name the same entity twice), then per entity. */
    return store_json_sql(
        st, "ranking entities", out, ret_n,
        "WITH inc(id, w, entity_key, victims, record) AS ("
        " SELECT id, CASE level WHEN 'Red' THEN 10 WHEN 'Orange' THEN 5 WHEN 'Yellow' THEN 2"
        "  ELSE 1 END, entity_key, victims, record FROM incidents WHERE phase <> 'closed'"
        "  AND id NOT IN " EXERCISE_IDS("incident") "),"
        " e(value, kind, role, id, w) AS ("
        " SELECT substr(entity_key, instr(entity_key, '=') + 1),"
        "  " KIND_OF("substr(entity_key, 1, instr(entity_key, '=') - 1)") ", 'attacker', id, w"
        "  FROM inc WHERE instr(entity_key, '=') > 1"
        " UNION ALL SELECT substr(j.value, instr(j.value, '=') + 1),"
        "  " KIND_OF("substr(j.value, 1, instr(j.value, '=') - 1)") ", 'victim', inc.id, inc.w"
        "  FROM inc, json_each(coalesce(inc.victims, '[]')) j WHERE instr(j.value, '=') > 1"
        " UNION ALL SELECT json_extract(j.value, '$.value'), json_extract(j.value, '$.kind'),"
        "  json_extract(j.value, '$.role'), inc.id, inc.w"
        "  FROM inc, json_each(inc.record, '$.entities') j WHERE inc.record IS NOT NULL),"
        " per(value, kind, role, id, w) AS ("
        " SELECT value, min(kind), role, id, max(w) FROM e WHERE value <> ''"
        "  GROUP BY value, role, id)"
        " SELECT json_object('value', value, 'kind', min(kind), 'role', role, 'risk', sum(w),"
        "  'incidents', count(*))"
        " FROM per GROUP BY value, role ORDER BY sum(w) DESC, count(*) DESC, value, role"
        " LIMIT ?1",
        "i", limit);
}

void store_rule_hits_free(struct store_rule_hits *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++)
        free(h[i].rule_id);
    free(h);
}

struct hits_ctx {
    struct store_rule_hits *v;
    size_t n, cap;
};

static int hits_row(sqlite3_stmt *s, void *ctx)
{
    struct hits_ctx *c = ctx;
    const unsigned char *id = sqlite3_column_text(s, 0);

    if (c->n == STORE_RULE_HITS_MAX)
        return -E2BIG;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        struct store_rule_hits *nv = realloc(c->v, ncap * sizeof(*nv));

        if (!nv)
            return -ENOMEM;
        c->v = nv;
        c->cap = ncap;
    }
    c->v[c->n].rule_id = strdup(id ? (const char *)id : "");
    if (!c->v[c->n].rule_id)
        return -ENOMEM;
    c->v[c->n].hits = sqlite3_column_int64(s, 1);
    c->v[c->n].last_us = sqlite3_column_int64(s, 2);
    c->n++;
    return 0;
}

int store_rule_hits(struct store *st, struct store_rule_hits **ret, size_t *ret_n)
{
    struct hits_ctx c = {0};
    int r;

    *ret = NULL;
    *ret_n = 0;
    /* alerts_rule_created holds all three columns: the rows are not read,
     * and the groups come in index order, already sorted.  Alerts of no
     * rule id (NULL or empty) are left out by the range. */
    r = store_each_row(st, "counting hits per rule",
                       "SELECT rule_id, count(*), max(created_us) FROM alerts"
                       " WHERE rule_id > '' AND id NOT IN " EXERCISE_IDS("alert")
                       " GROUP BY rule_id ORDER BY rule_id",
                       0, hits_row, &c);
    if (r == -E2BIG)
        store_seterr(st, "more than %d rule ids in the alerts", STORE_RULE_HITS_MAX);
    if (r < 0) {
        store_rule_hits_free(c.v, c.n);
        return r;
    }
    *ret = c.v;
    *ret_n = c.n;
    return 0;
}
