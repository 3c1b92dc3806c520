/*
 * store_procedure.c - the SQL of the procedures per box (see
 * store_procedure.h): the procedure_runs table of schema 19, and the open
 * incidents of a category.
 */
#include "store/store_procedure.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "store/store_priv.h"

int store_procedure_run_add(struct store *st, int64_t incident_id, const char *box, const char *who,
                            int64_t now_us)
{
    int64_t changes = 0;
    int r = store_exec_sql(st, "recording a procedure run", &changes, NULL,
                           "INSERT OR IGNORE INTO procedure_runs(incident_id, box, run_us, who)"
                           " VALUES(?1, ?2, ?3, ?4)",
                           "itit", incident_id, box, now_us, who);

    if (r < 0)
        return r;
    return changes ? 1 : 0;
}

int store_procedure_runs_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading procedure runs", out, ret_n,
                          "SELECT json_object('box', box, 'time', " STORE_ISO(
                              "run_us") ","
                                        " 'who', who) FROM procedure_runs WHERE incident_id = ?1"
                                        " ORDER BY run_us, box",
                          "i", incident_id);
}

int store_procedure_declared_at(struct store *st, const char *category, int64_t time_us,
                                char *ret_level, size_t size)
{
    sqlite3_stmt *s;
    const unsigned char *l;
    int r = store_row_one(st, "reading a declaration", "no declaration then", &s,
                          "SELECT level FROM declarations WHERE category = ?1 AND time_us = ?2"
                          " ORDER BY rowid DESC LIMIT 1",
                          "ti", category, time_us);

    if (r < 0)
        return r;
    l = sqlite3_column_text(s, 0);
    snprintf(ret_level, size, "%s", l ? (const char *)l : "");
    sqlite3_finalize(s);
    return 0;
}

int store_procedure_open_incidents(struct store *st, const char *category, int64_t *ids, size_t max,
                                   size_t *ret_n)
{
    sqlite3_stmt *s;
    size_t n = 0;
    int r = 0, rc;

    *ret_n = 0;
    rc = sqlite3_prepare_v2(st->db,
                            "SELECT id FROM incidents WHERE category = ?1 AND phase <> 'closed'"
                            " ORDER BY id LIMIT ?2",
                            -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_dberr(st, rc, "listing the open incidents of a category");
    rc = store_bind_text(s, 1, category);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
    while (rc == SQLITE_OK && n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        ids[n++] = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "listing the open incidents of a category");
    sqlite3_finalize(s);
    *ret_n = n;
    return r;
}

int store_procedure_due(struct store *st, const char *boxes, int64_t incident_id, int64_t quiet_us,
                        struct store_procedure_due *due, size_t max, size_t *ret_n)
{
    sqlite3_stmt *s;
    size_t n = 0;
    int r = 0, rc;

    *ret_n = 0;
    rc = sqlite3_prepare_v2(
        st->db,
        "WITH cur AS (SELECT d.category, d.level, d.time_us FROM declarations d"
        "  WHERE d.id = (SELECT max(e.id) FROM declarations e WHERE e.category = d.category)),"
        " open AS (SELECT i.id, i.category, i.level FROM incidents i"
        "  WHERE i.phase <> 'closed' AND i.category IS NOT NULL AND (?3 = 0 OR i.id = ?3)"
        "  AND (?4 = 0 OR max(i.created_us, coalesce((SELECT max(t.time_us) FROM timeline t"
        "   WHERE t.incident_id = i.id), 0)) <= ?4)),"
        " want AS (SELECT o.id, o.category || '-' || o.level AS box, 0 AS declared FROM open o"
        "  UNION ALL SELECT o.id, o.category || '-' || c.level, 1"
        "  FROM open o JOIN cur c ON c.category = o.category WHERE ?4 = 0 OR c.time_us <= ?4)"
        " SELECT w.id, w.box, w.declared FROM want w"
        " WHERE instr(?1, ',' || w.box || ',') > 0 AND NOT EXISTS (SELECT 1 FROM procedure_runs p"
        "  WHERE p.incident_id = w.id AND p.box = w.box)"
        " ORDER BY w.id, w.declared LIMIT ?2",
        -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_dberr(st, rc, "listing the boxes open incidents are owed");
    rc = store_bind_text(s, 1, boxes);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, (sqlite3_int64)incident_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)quiet_us);
    while (rc == SQLITE_OK && n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *b = sqlite3_column_text(s, 1);

        due[n].incident_id = sqlite3_column_int64(s, 0);
        snprintf(due[n].box, sizeof(due[n].box), "%s", b ? (const char *)b : "");
        due[n].declared = sqlite3_column_int(s, 2);
        n++;
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "listing the boxes open incidents are owed");
    sqlite3_finalize(s);
    *ret_n = n;
    return r;
}
