/*
 * store_exercise.c - tabletop exercises in the store (issue 22,
 * docs/exercise.md): the marks that keep an exercise's events, alerts,
 * aggregated alerts and incidents apart from the real ones, the runs and
 * what each delivered, and the facts scoring reads back.
 *
 * The marks live in a table of their own rather than a column of each
 * table: the pipeline adds one row per object an exercise record made, in
 * the same transaction, and the few readers that count (the dashboard)
 * subtract them through an index on (kind, time_us).
 */
#include "store/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

int store_exercise_mark(struct store *st, const char *kind, int64_t id, int64_t time_us)
{
    return store_exec_sql(st, "marking an exercise object", NULL, NULL,
                          "INSERT OR IGNORE INTO exercise_marks(kind, id, time_us)"
                          " VALUES (?1, ?2, ?3)",
                          "tii", kind, id, time_us);
}

void store_exercise_run_done(struct store_exercise_run *r)
{
    if (!r)
        return;
    free(r->scenario);
    free(r->title);
    free(r->file);
    free(r->state);
    free(r->score);
    memset(r, 0, sizeof(*r));
}

int store_exercise_run_new(struct store *st, const char *scenario, const char *title,
                           const char *file, double speed, int64_t started_us, int64_t *ret_id)
{
    return store_exec_sql(st, "recording an exercise run", NULL, ret_id,
                          "INSERT INTO exercise_runs(scenario, title, file, speed, state,"
                          " started_us, sent, stop) VALUES (?1, ?2, ?3, ?4, 'running', ?5, 0, 0)",
                          "tttdi", scenario, title, file, speed, started_us);
}

int store_exercise_run_update(struct store *st, int64_t id, int64_t sent, const char *state,
                              int64_t ended_us)
{
    int64_t changes = 0;
    int r = store_exec_sql(st, "updating an exercise run", &changes, NULL,
                           "UPDATE exercise_runs SET sent = ?2, state = coalesce(?3, state),"
                           " ended_us = CASE WHEN ?4 > 0 THEN ?4 ELSE ended_us END WHERE id = ?1",
                           "iiti", id, sent, state, ended_us);

    if (r < 0)
        return r;
    return changes ? 0 : -ENOENT;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t ? strdup((const char *)t) : NULL;
}

#define RUN_COLS "id, scenario, title, file, state, speed, started_us, ended_us, sent, stop, score"

/* Fills *ret from a row of RUN_COLS.  0 or -ENOMEM. */
static int run_from_row(sqlite3_stmt *s, struct store_exercise_run *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->id = sqlite3_column_int64(s, 0);
    ret->scenario = col_dup(s, 1);
    ret->title = col_dup(s, 2);
    ret->file = col_dup(s, 3);
    ret->state = col_dup(s, 4);
    ret->speed = sqlite3_column_double(s, 5);
    ret->started_us = sqlite3_column_int64(s, 6);
    ret->ended_us = sqlite3_column_int64(s, 7);
    ret->sent = sqlite3_column_int64(s, 8);
    ret->stop = (int)sqlite3_column_int64(s, 9);
    ret->score = col_dup(s, 10);
    if (!ret->scenario || !ret->title || !ret->file || !ret->state) {
        store_exercise_run_done(ret);
        return -ENOMEM;
    }
    return 0;
}

int store_exercise_run_get(struct store *st, int64_t id, struct store_exercise_run *ret)
{
    sqlite3_stmt *s;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (id > 0)
        r = store_row_one(st, "reading an exercise run", "no such exercise run", &s,
                          "SELECT " RUN_COLS " FROM exercise_runs WHERE id = ?1", "i", id);
    else
        r = store_row_one(st, "reading an exercise run", "no exercise has been run", &s,
                          "SELECT " RUN_COLS " FROM exercise_runs ORDER BY id DESC LIMIT 1", "");
    if (r < 0)
        return r;
    r = run_from_row(s, ret);
    sqlite3_finalize(s);
    return r;
}

int store_exercise_current(struct store *st, int64_t *ret_id)
{
    sqlite3_stmt *s;
    int r;

    *ret_id = 0;
    r = store_row_one(st, "finding the exercise run", "no exercise has been run", &s,
                      "SELECT id FROM exercise_runs ORDER BY state = 'running' DESC, id DESC "
                      "LIMIT 1",
                      "");
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    *ret_id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

int store_exercise_stop(struct store *st, int64_t *ret_n)
{
    return store_exec_sql(st, "stopping exercise runs", ret_n, NULL,
                          "UPDATE exercise_runs SET stop = 1 WHERE state = 'running'", "");
}

int store_exercise_set_score(struct store *st, int64_t id, const char *json)
{
    return store_exec_sql(st, "saving an exercise's score", NULL, NULL,
                          "UPDATE exercise_runs SET score = ?2 WHERE id = ?1", "it", id, json);
}

int store_exercise_runs_each(struct store *st, const char *scenario,
                             int (*fn)(void *ctx, const struct store_exercise_run *r), void *ctx)
{
    sqlite3_stmt *s = NULL;
    struct store_exercise_run run;
    int r = 0, rc;

    rc = sqlite3_prepare_v2(
        st->db, "SELECT " RUN_COLS " FROM exercise_runs WHERE scenario = ?1 ORDER BY id", -1, &s,
        NULL);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 1, scenario);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((r = run_from_row(s, &run)) < 0)
            break;
        r = fn(ctx, &run);
        store_exercise_run_done(&run);
        if (r < 0)
            break;
        rc = SQLITE_OK;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "reading exercise runs");
    sqlite3_finalize(s);
    return r;
}

int store_exercise_log_add(struct store *st, int64_t run_id, int64_t time_us, int64_t scen_us,
                           const char *kind, const char *stage, const char *who,
                           const char *channel, const char *text)
{
    return store_exec_sql(st, "logging an exercise inject", NULL, NULL,
                          "INSERT INTO exercise_log(run_id, time_us, scen_us, kind, stage, who,"
                          " channel, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                          "iiittttt", run_id, time_us, scen_us, kind, stage, who, channel,
                          text ? text : "");
}

int store_exercise_log_each(struct store *st, int64_t run_id,
                            int (*fn)(void *ctx, const struct store_exercise_log *l), void *ctx)
{
    sqlite3_stmt *s = NULL;
    int r = 0, rc;

    rc = sqlite3_prepare_v2(st->db,
                            "SELECT time_us, scen_us, kind, stage, who, channel, text"
                            " FROM exercise_log WHERE run_id = ?1 ORDER BY id",
                            -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, run_id);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_exercise_log l = {
            .time_us = sqlite3_column_int64(s, 0),
            .scen_us = sqlite3_column_int64(s, 1),
            .kind = (const char *)sqlite3_column_text(s, 2),
            .stage = (const char *)sqlite3_column_text(s, 3),
            .who = (const char *)sqlite3_column_text(s, 4),
            .channel = (const char *)sqlite3_column_text(s, 5),
            .text = (const char *)sqlite3_column_text(s, 6),
        };
        if ((r = fn(ctx, &l)) < 0)
            break;
        rc = SQLITE_OK;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "reading an exercise's log");
    sqlite3_finalize(s);
    return r;
}

int store_exercise_active_json(struct store *st, struct buf *out)
{
    int r = store_json_one(
        st, "reading the exercise in progress", "none", out,
        "SELECT json_object('run', json_object('id', r.id, 'scenario', r.scenario,"
        " 'title', r.title, 'speed', r.speed, 'started', " STORE_ISO(
            "r.started_us") ","
                            " 'sent', r.sent),"
                            " 'messages', (SELECT coalesce(json_group_array(json(m.o)), "
                            "json_array()) FROM"
                            "  (SELECT json_object('time', " STORE_ISO(
                                "l.time_us") ", 'from', l.who,"
                                             "   'channel', l.channel, 'stage', l.stage, 'text', "
                                             "l.text) AS o FROM exercise_log l"
                                             "   WHERE l.run_id = r.id AND l.kind = 'message' "
                                             "ORDER BY l.id DESC LIMIT 20) m))"
                                             " FROM exercise_runs r WHERE r.state = 'running' "
                                             "ORDER BY r.id DESC LIMIT 1",
        "");

    if (r == -ENOENT)
        return buf_puts(out, "null");
    return r;
}

/* Every fact, one SELECT per kind joined by UNION ALL; ?1 and ?2 bound the
 * window.  Incidents are those marked; their children are read whatever
 * their time inside the window. */
static const char facts_sql[] =
    "WITH inc AS (SELECT id FROM exercise_marks WHERE kind = 'incident'"
    "  AND time_us >= ?1 AND time_us < ?2)"
    " SELECT 'alert', a.created_us, coalesce(g.incident_id, 0), a.rule_id, g.rule_name, NULL"
    "  FROM exercise_marks m JOIN alerts a ON a.id = m.id"
    "  LEFT JOIN agg_alerts g ON g.id = a.agg_id"
    "  WHERE m.kind = 'alert' AND m.time_us >= ?1 AND m.time_us < ?2"
    " UNION ALL SELECT 'incident', i.created_us, i.id, i.type, i.stages, i.category"
    "  FROM incidents i WHERE i.id IN (SELECT id FROM inc)"
    /* triage's own type, when the team's record says another */
    " UNION ALL SELECT 'proposed', i.created_us, i.id, i.proposed_type, NULL, NULL"
    "  FROM incidents i WHERE i.id IN (SELECT id FROM inc)"
    "  AND i.proposed_type IS NOT NULL AND i.proposed_type != i.type"
    " UNION ALL SELECT 'timeline', t.time_us, t.incident_id, t.what, t.to_v, t.who"
    "  FROM timeline t WHERE t.incident_id IN (SELECT id FROM inc)"
    "  AND t.time_us >= ?1 AND t.time_us < ?2"
    " UNION ALL SELECT 'note', n.time_us, n.incident_id, n.text, NULL, NULL"
    "  FROM notes n WHERE n.incident_id IN (SELECT id FROM inc)"
    "  AND n.time_us >= ?1 AND n.time_us < ?2"
    " UNION ALL SELECT 'task', k.done_us, k.incident_id, k.title, k.description, NULL"
    "  FROM tasks k WHERE k.incident_id IN (SELECT id FROM inc) AND k.done = 1"
    "  AND k.done_us >= ?1 AND k.done_us < ?2"
    " UNION ALL SELECT 'comm', c.time_us, c.incident_id, c.party, c.summary, c.channel"
    "  FROM communications c WHERE c.incident_id IN (SELECT id FROM inc)"
    "  AND c.direction = 'out' AND c.time_us >= ?1 AND c.time_us < ?2"
    " UNION ALL SELECT 'report', p.created_us, p.incident_id, p.kind, NULL, NULL"
    "  FROM reports p WHERE p.incident_id IN (SELECT id FROM inc)"
    "  AND p.created_us >= ?1 AND p.created_us < ?2"
    " UNION ALL SELECT 'evidence', e.t, e.incident_id, CAST(e.item_id AS TEXT), NULL, NULL"
    "  FROM (SELECT l.item_id, l.incident_id,"
    "   CAST((julianday(json_extract(v.record, '$.added')) - 2440587.5) * 86400000000.0"
    "    AS INTEGER) AS t"
    "   FROM evidence_links l JOIN evidence_items v ON v.id = l.item_id"
    "   WHERE l.incident_id IN (SELECT id FROM inc)) e WHERE e.t IS NOT NULL"
    " UNION ALL SELECT 'message', m.approved_us, m.incident_id, m.party, m.kind, m.state"
    "  FROM messages m WHERE m.incident_id IN (SELECT id FROM inc)"
    "  AND m.approved_us >= ?1 AND m.approved_us < ?2"
    " UNION ALL SELECT 'declare', d.time_us, 0, d.category, d.level, NULL"
    "  FROM declarations d WHERE d.time_us >= ?1 AND d.time_us < ?2"
    " ORDER BY 2";

int store_exercise_facts(struct store *st, int64_t since_us, int64_t until_us,
                         int (*fn)(void *ctx, const struct store_exercise_fact *f), void *ctx)
{
    sqlite3_stmt *s = NULL;
    int r = 0, rc;

    rc = sqlite3_prepare_v2(st->db, facts_sql, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, since_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, until_us);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_exercise_fact f = {
            .kind = (const char *)sqlite3_column_text(s, 0),
            .time_us = sqlite3_column_int64(s, 1),
            .incident_id = sqlite3_column_int64(s, 2),
            .a = (const char *)sqlite3_column_text(s, 3),
            .b = (const char *)sqlite3_column_text(s, 4),
            .c = (const char *)sqlite3_column_text(s, 5),
        };
        if (!f.kind)
            f.kind = "";
        if ((r = fn(ctx, &f)) < 0)
            break;
        rc = SQLITE_OK;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "reading what the exercise's team did");
    sqlite3_finalize(s);
    return r;
}
