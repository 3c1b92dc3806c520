/*
 * store_incident.c - incident management in the SQLite store: the CSIRT's
 * record beside triage's proposal, timeline, notes, tasks, contacts and
 * communications, reports, declared levels, the risk meter, aggregated
 * alerts for the API.
 *
 * None of this is on the per-record path (it serves API requests), so
 * statements are prepared per call; each function is one statement, its
 * parameters bound from a short format string.
 */
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

#define ISO(col) STORE_ISO(col)
/* Now in µs since the epoch, as SQLite sees the clock: a task's `overdue`
 * is decided when it is read, whether or not the escalation clock runs
 * (never on a closed incident: its deadlines no longer bind anyone). */
#define TASK_NOW_US "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"

/*
 * Prepares `sql` and binds the variadic arguments as `fmt` says, one letter
 * each: 'i' int64_t, 'u' uint64_t, 't' const char * (NULL binds SQL NULL),
 * 'd' double.  On failure the error is recorded and *ret is NULL.
 */
static int stmt_prep(struct store *st, const char *what, sqlite3_stmt **ret, const char *sql,
                     const char *fmt, va_list ap)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

    *ret = NULL;
    for (int i = 1; rc == SQLITE_OK && fmt[i - 1]; i++) {
        switch (fmt[i - 1]) {
        case 'i': rc = sqlite3_bind_int64(s, i, va_arg(ap, int64_t)); break;
        case 'u': rc = sqlite3_bind_int64(s, i, (int64_t)va_arg(ap, uint64_t)); break;
        case 't': rc = store_bind_text(s, i, va_arg(ap, const char *)); break;
        case 'd': rc = sqlite3_bind_double(s, i, va_arg(ap, double)); break;
        default: rc = SQLITE_MISUSE; break;
        }
    }
    if (rc != SQLITE_OK) {
        int r = store_dberr(st, rc, what);
        sqlite3_finalize(s);
        return r;
    }
    *ret = s;
    return 0;
}

/* Runs a statement that returns no rows; *ret_changes (may be NULL) gets
 * the rows it changed, *ret_id (may be NULL) the last inserted row id. */
int store_exec_sql(struct store *st, const char *what, int64_t *ret_changes, int64_t *ret_id,
                    const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s;
    va_list ap;
    int r, rc;

    va_start(ap, fmt);
    r = stmt_prep(st, what, &s, sql, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        r = store_dberr(st, rc, what);
    } else {
        if (ret_changes)
            *ret_changes = sqlite3_changes64(st->db);
        if (ret_id)
            *ret_id = sqlite3_last_insert_rowid(st->db);
    }
    sqlite3_finalize(s);
    return r;
}

/* Appends the JSON of each row (first column), comma-separated. */
int store_json_sql(struct store *st, const char *what, struct buf *out, size_t *ret_n,
                    const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = stmt_prep(st, what, &s, sql, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    r = store_json_rows(st, s, out, ret_n);
    sqlite3_finalize(s);
    return r;
}

/* The same for exactly one object: -ENOENT (message `missing`) without a row. */
int store_json_one(struct store *st, const char *what, const char *missing, struct buf *out,
                    const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s;
    va_list ap;
    size_t n = 0;
    int r;

    va_start(ap, fmt);
    r = stmt_prep(st, what, &s, sql, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    r = store_json_rows(st, s, out, &n);
    sqlite3_finalize(s);
    if (r == 0 && n == 0) {
        store_seterr(st, "%s", missing);
        return -ENOENT;
    }
    return r;
}

/*
 * Runs `sql`, whose one parameter is `arg`, and calls row(s, ctx) on each
 * row; stops at row's first negative return and returns it.
 */
int store_each_row(struct store *st, const char *what, const char *sql, int64_t arg,
                    int (*row)(sqlite3_stmt *s, void *ctx), void *ctx)
{
    sqlite3_stmt *s;
    int r = 0, rc;

    rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    /* A statement without parameters leaves `arg` unused. */
    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(s) > 0)
        rc = sqlite3_bind_int64(s, 1, arg);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((r = row(s, ctx)) < 0)
            break;
        rc = SQLITE_OK;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, what);
    sqlite3_finalize(s);
    return r;
}

static int col_dup(sqlite3_stmt *s, int i, char **ret)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    *ret = NULL;
    if (!t)
        return 0;
    *ret = strdup((const char *)t);
    return *ret ? 0 : -ENOMEM;
}

/*
 * Prepares `sql` with the arguments as stmt_prep does and steps to its one
 * row: 0 with *ret on that row (the caller reads the columns, then
 * finalizes), -ENOENT with the message `missing`, or an error; in those
 * two cases nothing is left to finalize.
 */
int store_row_one(struct store *st, const char *what, const char *missing, sqlite3_stmt **ret,
                   const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s;
    va_list ap;
    int r, rc;

    va_start(ap, fmt);
    r = stmt_prep(st, what, &s, sql, fmt, ap);
    va_end(ap);
    *ret = NULL;
    if (r < 0)
        return r;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *ret = s;
        return 0;
    }
    if (rc == SQLITE_DONE) {
        store_seterr(st, "%s", missing);
        r = -ENOENT;
    } else {
        r = store_dberr(st, rc, what);
    }
    sqlite3_finalize(s);
    return r;
}

/* Heap copies of columns first.. of the row into *outs[i] (NULL for SQL
 * NULL); on -ENOMEM none is kept. */
static int col_dups(sqlite3_stmt *s, int first, char **const *outs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (col_dup(s, first + (int)i, outs[i]) < 0) {
            for (size_t j = 0; j < i; j++) {
                free(*outs[j]);
                *outs[j] = NULL;
            }
            return -ENOMEM;
        }
    }
    return 0;
}

int store_incident_row_get(struct store *st, int64_t id, struct store_incident_row *ret)
{
    char **const cols[] = {&ret->entity_key,     &ret->proposed_type, &ret->proposed_level,
                           &ret->proposed_category, &ret->phase,      &ret->stages_json,
                           &ret->victims_json,   &ret->record};
    sqlite3_stmt *s;
    int r;

    memset(ret, 0, sizeof(*ret));
    r = store_row_one(st, "reading an incident", "no such incident", &s,
                "SELECT entity_key, coalesce(proposed_type, type), coalesce(proposed_level, level),"
                " coalesce(proposed_category, category), phase, stages, victims, record, version,"
                " created_us, first_us, last_us FROM incidents WHERE id = ?1",
                "i", id);
    if (r < 0)
        return r;
    ret->id = id;
    r = col_dups(s, 0, cols, sizeof(cols) / sizeof(cols[0]));
    ret->version = (uint64_t)sqlite3_column_int64(s, 8);
    ret->created_us = sqlite3_column_int64(s, 9);
    ret->first_us = sqlite3_column_int64(s, 10);
    ret->last_us = sqlite3_column_int64(s, 11);
    sqlite3_finalize(s);
    return r;
}

void store_incident_row_done(struct store_incident_row *r)
{
    free(r->entity_key);
    free(r->proposed_type);
    free(r->proposed_level);
    free(r->proposed_category);
    free(r->phase);
    free(r->stages_json);
    free(r->victims_json);
    free(r->record);
    memset(r, 0, sizeof(*r));
}

int store_record_put(struct store *st, int64_t id, const char *json, uint64_t version,
                     uint64_t expect, const struct store_record_cols *c)
{
    int64_t n = 0;
    int r;

    r = store_exec_sql(st, "saving an incident record", &n, NULL,
                 "UPDATE incidents SET record = ?2, version = ?3, type = ?5, level = ?6,"
                 " category = coalesce(?7, category), phase = ?8"
                 " WHERE id = ?1 AND version = ?4",
                 "ituutttt", id, json, version, expect, c->type, c->level, c->category, c->phase);
    if (r < 0 || n == 1)
        return r;
    /* Nothing changed: a stale version, or no such incident. */
    n = 0;
    if ((r = store_exec_sql(st, "saving an incident record", &n, NULL,
                      "UPDATE incidents SET id = id WHERE id = ?1", "i", id)) < 0)
        return r;
    store_seterr(st, n ? "the incident changed since it was read" : "no such incident");
    return n ? -ESTALE : -ENOENT;
}

int store_incident_new(struct store *st, const struct store_record_cols *c, int64_t now_us,
                       int64_t *ret_id)
{
    return store_exec_sql(st, "opening an incident", NULL, ret_id,
                    "INSERT INTO incidents(id, entity_key, type, level, category, first_us, last_us,"
                    " nalerts, nevents, phase, created_us, updated_us)"
                    " SELECT coalesce(max(id), 0) + 1, '', ?1, ?2, ?3, ?4, ?4, 0, 0, ?5, ?4, ?4"
                    " FROM incidents",
                    "tttit", c->type, c->level, c->category, now_us, c->phase);
}

/*
 * store_incident_ids() most urgent first.  The deadline is computed here,
 * in the query, so that a page of a long list is the right page: the
 * targets become a table of (phase, category, level, µs) rows joined on
 * the incident's, and the phase's start is the record's phase_since_us
 * (the creation time until the CSIRT keeps a record, as casefile_load
 * seeds it).
 */
static int incident_ids_urgent(struct store *st, const struct store_incident_filter *f,
                               int open_only, int64_t *ids, size_t max, size_t *ret_n)
{
    struct buf q;
    sqlite3_stmt *s = NULL;
    size_t n = 0;
    int r, rc = SQLITE_OK;

    if (f->ntargets > STORE_TARGETS_MAX)
        return -E2BIG;
    buf_init(&q, 64 * 1024);
    r = buf_puts(&q, "WITH tg(tphase, tcat, tlvl, tus) AS (VALUES ('', '', '', 0)");
    for (size_t i = 0; r == 0 && i < f->ntargets; i++)
        r = buf_printf(&q, ", (?%zu, ?%zu, ?%zu, ?%zu)", 7 + 4 * i, 8 + 4 * i, 9 + 4 * i,
                       10 + 4 * i);
    if (r == 0)
        r = buf_puts(&q, ") SELECT i.id FROM incidents i LEFT JOIN tg ON tg.tphase = i.phase"
                         " AND tg.tcat = iif(i.category IN ('A', 'B', 'C', 'D'), i.category, '')"
                         " AND tg.tlvl = i.level AND tg.tus > 0"
                         " WHERE (?1 IS NULL OR i.type = ?1)"
                         " AND (?2 IS NULL OR i.phase = ?2) AND (?3 IS NULL OR i.level = ?3)"
                         " AND (?4 = 0 OR i.phase <> 'closed')"
                         " ORDER BY CASE i.level WHEN 'Red' THEN 0 WHEN 'Orange' THEN 1"
                         " WHEN 'Yellow' THEN 2 WHEN 'Green' THEN 3 ELSE 4 END,"
                         " tg.tus IS NULL, coalesce(json_extract(i.record, '$.phase_since_us'),"
                         " i.created_us) + tg.tus, i.id DESC LIMIT ?5 OFFSET ?6");
    if (r == 0)
        r = buf_putc(&q, '\0');
    if (r < 0) {
        buf_done(&q);
        return r;
    }
    rc = sqlite3_prepare_v2(st->db, q.data, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 1, f->type);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 2, f->phase);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, f->level);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 4, open_only);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, f->limit);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 6, f->offset);
    for (size_t i = 0; rc == SQLITE_OK && i < f->ntargets; i++) {
        const struct store_target *t = &f->targets[i];
        int at = 7 + 4 * (int)i;

        rc = store_bind_text(s, at, t->phase);
        if (rc == SQLITE_OK)
            rc = store_bind_text(s, at + 1, t->category ? t->category : "");
        if (rc == SQLITE_OK)
            rc = store_bind_text(s, at + 2, t->level);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(s, at + 3, t->us);
    }
    while (rc == SQLITE_OK && n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        ids[n++] = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "listing incidents");
    sqlite3_finalize(s);
    buf_done(&q);
    *ret_n = n;
    return r;
}

int store_incident_ids(struct store *st, const struct store_incident_filter *f, int open_only,
                       int64_t *ids, size_t max, size_t *ret_n)
{
    sqlite3_stmt *s;
    size_t n = 0;
    int r, rc;

    *ret_n = 0;
    r = 0;
    if (f->targets)
        return incident_ids_urgent(st, f, open_only, ids, max, ret_n);
    rc = sqlite3_prepare_v2(st->db,
                            "SELECT id FROM incidents WHERE (?1 IS NULL OR type = ?1)"
                            " AND (?2 IS NULL OR phase = ?2) AND (?3 IS NULL OR level = ?3)"
                            " AND (?4 = 0 OR phase <> 'closed')"
                            " ORDER BY id DESC LIMIT ?5 OFFSET ?6",
                            -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 1, f->type);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 2, f->phase);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, f->level);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 4, open_only);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, f->limit);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 6, f->offset);
    while (rc == SQLITE_OK && n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        ids[n++] = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "listing incidents");
    sqlite3_finalize(s);
    *ret_n = n;
    return r;
}

struct ids_ctx {
    uint64_t *ids;
    size_t max, n;
};

static int ids_row(sqlite3_stmt *s, void *ctx)
{
    struct ids_ctx *c = ctx;

    if (c->n >= c->max)
        return -E2BIG; /* enough: the caller asked for at most max */
    c->ids[c->n++] = (uint64_t)sqlite3_column_int64(s, 0);
    return 0;
}

int store_incident_agg_ids(struct store *st, int64_t id, uint64_t *ids, size_t max,
                           size_t *ret_n)
{
    struct ids_ctx c = {ids, max, 0};
    int r = store_each_row(st, "reading an incident's alerts",
                     "SELECT id FROM agg_alerts WHERE incident_id = ?1 ORDER BY id", id, ids_row,
                     &c);

    *ret_n = c.n;
    return r == -E2BIG ? 0 : r;
}

int store_timeline_add(struct store *st, int64_t incident_id, int64_t time_us, uint64_t version,
                       const char *who, const char *what, const char *from, const char *to,
                       const char *reason)
{
    return store_exec_sql(st, "adding to the timeline", NULL, NULL,
                    "INSERT INTO timeline(incident_id, time_us, version, who, what, from_v, to_v,"
                    " reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    "iiuttttt", incident_id, time_us, version, who, what, from, to,
                    reason && *reason ? reason : NULL);
}

int store_timeline_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading the timeline", out, ret_n,
                    "SELECT json_object('time', " ISO("time_us") ", 'version', version,"
                    " 'who', who, 'what', what, 'from', from_v, 'to', to_v, 'reason', reason)"
                    " FROM timeline WHERE incident_id = ?1 ORDER BY id",
                    "i", incident_id);
}

struct timeline_ctx {
    int (*fn)(void *ctx, const struct store_timeline_rec *t);
    void *ctx;
};

static int timeline_row(sqlite3_stmt *s, void *ctx)
{
    struct timeline_ctx *c = ctx;
    struct store_timeline_rec t = {
        .time_us = sqlite3_column_int64(s, 0),
        .version = (uint64_t)sqlite3_column_int64(s, 1),
        .who = (const char *)sqlite3_column_text(s, 2),
        .what = (const char *)sqlite3_column_text(s, 3),
        .from = (const char *)sqlite3_column_text(s, 4),
        .to = (const char *)sqlite3_column_text(s, 5),
        .reason = (const char *)sqlite3_column_text(s, 6),
    };

    return c->fn(c->ctx, &t);
}

int store_timeline_each(struct store *st, int64_t incident_id,
                        int (*fn)(void *ctx, const struct store_timeline_rec *t), void *ctx)
{
    struct timeline_ctx c = {fn, ctx};

    return store_each_row(st, "reading the timeline",
                    "SELECT time_us, version, who, what, from_v, to_v, reason"
                    " FROM timeline WHERE incident_id = ?1 ORDER BY id",
                    incident_id, timeline_row, &c);
}

#define NOTE_JSON "json_object('id', id, 'time', " ISO("time_us") ", 'who', who, 'text', text)"

int store_note_add(struct store *st, int64_t incident_id, int64_t time_us, const char *who,
                   const char *text, int64_t *ret_id)
{
    return store_exec_sql(st, "adding a note", NULL, ret_id,
                    "INSERT INTO notes(incident_id, time_us, who, text) VALUES(?1, ?2, ?3, ?4)",
                    "iitt", incident_id, time_us, who, text);
}

int store_notes_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading notes", out, ret_n,
                    "SELECT " NOTE_JSON " FROM notes WHERE incident_id = ?1 ORDER BY id", "i",
                    incident_id);
}

int store_note_json(struct store *st, int64_t note_id, struct buf *out)
{
    return store_json_one(st, "reading a note", "no such note", out,
                    "SELECT " NOTE_JSON " FROM notes WHERE id = ?1", "i", note_id);
}

int store_task_put(struct store *st, int64_t incident_id, const struct store_task_rec *t)
{
    return store_exec_sql(st, "saving a task", NULL, NULL,
                    "INSERT OR REPLACE INTO tasks(incident_id, id, phase, title, description,"
                    " owner, assignee, required, added, done, done_us, done_by, function,"
                    " due_us, box)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                    " nullif(?13, ''), ?14, ?15)",
                    "iitttttiiiittit", incident_id, (int64_t)t->id, t->phase, t->title,
                    t->description, t->owner, t->assignee, (int64_t)t->required,
                    (int64_t)t->added, (int64_t)t->done, t->done_us, t->done_by,
                    t->function ? t->function : "", t->due_us, t->box);
}

struct tasks_ctx {
    int (*fn)(void *ctx, const struct store_task_rec *t);
    void *ctx;
};

static int task_row(sqlite3_stmt *s, void *ctx)
{
    struct tasks_ctx *c = ctx;
    struct store_task_rec t = {
        .id = (uint32_t)sqlite3_column_int64(s, 0),
        .phase = (const char *)sqlite3_column_text(s, 1),
        .title = (const char *)sqlite3_column_text(s, 2),
        .description = (const char *)sqlite3_column_text(s, 3),
        .owner = (const char *)sqlite3_column_text(s, 4),
        .assignee = (const char *)sqlite3_column_text(s, 5),
        .required = sqlite3_column_int(s, 6),
        .added = sqlite3_column_int(s, 7),
        .done = sqlite3_column_int(s, 8),
        .done_us = sqlite3_column_int64(s, 9),
        .done_by = (const char *)sqlite3_column_text(s, 10),
        .function = (const char *)sqlite3_column_text(s, 11),
        .due_us = sqlite3_column_int64(s, 12),
        .box = (const char *)sqlite3_column_text(s, 13),
    };

    return c->fn(c->ctx, &t);
}

int store_tasks_each(struct store *st, int64_t incident_id,
                     int (*fn)(void *ctx, const struct store_task_rec *t), void *ctx)
{
    struct tasks_ctx c = {fn, ctx};

    return store_each_row(st, "reading tasks",
                    "SELECT id, phase, title, description, owner, assignee, required,"
                    " added, done, done_us, done_by, function, due_us, box FROM tasks"
                    " WHERE incident_id = ?1"
                    " ORDER BY id",
                    incident_id, task_row, &c);
}

#define TASK_JSON                                                                                  \
    "json_object('id', id, 'phase', phase, 'title', title,"                                       \
    " 'description', description, 'owner', owner, 'assignee', assignee,"                          \
    " 'required', json(iif(required, 'true', 'false')),"                                          \
    " 'added', json(iif(added, 'true', 'false')),"                                                \
    " 'done', json(iif(done, 'true', 'false')),"                                                  \
    " 'done_at', iif(done, " ISO("done_us") ", NULL), 'done_by', done_by,"                      \
    " 'function', function, 'due', iif(due_us > 0, " ISO("due_us") ", NULL), 'box', box,"        \
    " 'overdue', json(iif(done = 0 AND due_us > 0 AND due_us <= " TASK_NOW_US                \
    " AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = tasks.incident_id"                    \
    " AND i.phase = 'closed'), 'true', 'false')))"

int store_tasks_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading tasks", out, ret_n,
                    "SELECT " TASK_JSON " FROM tasks WHERE incident_id = ?1 ORDER BY id", "i",
                    incident_id);
}

int store_task_json(struct store *st, int64_t incident_id, int64_t task, struct buf *out)
{
    return store_json_one(st, "reading a task", "no such task", out,
                    "SELECT " TASK_JSON " FROM tasks WHERE incident_id = ?1 AND id = ?2", "ii",
                    incident_id, task);
}

#define COMM_JSON                                                                                  \
    "json_object('id', m.id, 'time', " ISO("m.time_us") ", 'who', m.who, 'contact', m.contact_id," \
    " 'party', coalesce(m.party, c.name), 'channel', m.channel, 'direction', m.direction,"         \
    " 'summary', m.summary)"

int store_comm_add(struct store *st, int64_t incident_id, const struct store_comm_rec *c,
                   int64_t *ret_id)
{
    return store_exec_sql(st, "recording a communication", NULL, ret_id,
                    "INSERT INTO communications(incident_id, contact_id, party, channel,"
                    " direction, summary, time_us, who)"
                    " VALUES(?1, nullif(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8)",
                    "iittttit", incident_id, c->contact_id, c->party, c->channel, c->direction,
                    c->summary, c->time_us, c->who);
}

int store_comms_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading communications", out, ret_n,
                    "SELECT " COMM_JSON " FROM communications m LEFT JOIN contacts c"
                    " ON c.id = m.contact_id WHERE m.incident_id = ?1 ORDER BY m.id",
                    "i", incident_id);
}

int store_comm_json(struct store *st, int64_t comm_id, struct buf *out)
{
    return store_json_one(st, "reading a communication", "no such communication", out,
                    "SELECT " COMM_JSON " FROM communications m LEFT JOIN contacts c"
                    " ON c.id = m.contact_id WHERE m.id = ?1",
                    "i", comm_id);
}

#define CONTACT_JSON                                                                               \
    "json_object('id', id, 'name', name, 'kind', kind, 'organisation', organisation,"             \
    " 'role', role, 'email', email, 'phone', phone, 'notes', notes,"                              \
    " 'quiet_hours', nullif(quiet_hours, ''), 'on_call', nullif(on_call, ''),"                     \
    " 'timezone', nullif(timezone, ''),"                                                           \
    " 'created', " ISO("created_us") ", 'created_by', created_by)"

int store_contact_add(struct store *st, const struct store_contact_rec *c, int64_t *ret_id)
{
    return store_exec_sql(st, "adding a contact", NULL, ret_id,
                    "INSERT INTO contacts(name, kind, organisation, role, email, phone, notes,"
                    " created_us, created_by, quiet_hours, on_call, timezone)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    "tttttttitttt", c->name, c->kind, c->organisation, c->role, c->email,
                    c->phone, c->notes, c->created_us, c->created_by, c->quiet_hours, c->on_call,
                    c->timezone);
}

int store_contacts_json(struct store *st, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading contacts", out, ret_n,
                    "SELECT " CONTACT_JSON " FROM contacts ORDER BY kind, name, id", "");
}

int store_contact_json(struct store *st, int64_t id, struct buf *out)
{
    return store_json_one(st, "reading a contact", "no such contact", out,
                    "SELECT " CONTACT_JSON " FROM contacts WHERE id = ?1", "i", id);
}

int store_contact_update(struct store *st, int64_t id, const struct store_contact_rec *c)
{
    int64_t changes = 0;
    int r = store_exec_sql(st, "updating a contact", &changes, NULL,
                           "UPDATE contacts SET name = coalesce(?2, name), kind = coalesce(?3,"
                           " kind), organisation = coalesce(?4, organisation), role = coalesce(?5,"
                           " role), email = coalesce(?6, email), phone = coalesce(?7, phone),"
                           " notes = coalesce(?8, notes), quiet_hours = coalesce(?9,"
                           " quiet_hours), on_call = coalesce(?10, on_call), timezone ="
                           " coalesce(?11, timezone) WHERE id = ?1",
                           "itttttttttt", id, c->name, c->kind, c->organisation, c->role,
                           c->email, c->phone, c->notes, c->quiet_hours, c->on_call, c->timezone);
    if (r < 0)
        return r;
    if (!changes) {
        store_seterr(st, "no such contact");
        return -ENOENT;
    }
    return 0;
}

int store_contact_delete(struct store *st, int64_t id)
{
    int64_t changes = 0;
    int r;

    /* The communications keep the party's name and the messages their
     * recipient; only the link goes. */
    r = store_exec_sql(st, "unlinking a contact", NULL, NULL,
                       "UPDATE communications SET party = coalesce(party, (SELECT name FROM"
                       " contacts WHERE id = ?1)), contact_id = NULL WHERE contact_id = ?1",
                       "i", id);
    if (r == 0)
        r = store_exec_sql(st, "unlinking a contact", NULL, NULL,
                           "UPDATE messages SET contact_id = NULL WHERE contact_id = ?1", "i", id);
    if (r == 0)
        r = store_exec_sql(st, "deleting a contact", &changes, NULL,
                           "DELETE FROM contacts WHERE id = ?1", "i", id);
    if (r < 0)
        return r;
    if (!changes) {
        store_seterr(st, "no such contact");
        return -ENOENT;
    }
    return 0;
}

struct contact_incs {
    struct store_contact_inc *v;
    size_t n, cap;
};

static int contact_inc_row(sqlite3_stmt *s, void *ctx)
{
    struct contact_incs *c = ctx;

    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        struct store_contact_inc *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].incident = sqlite3_column_int64(s, 0);
    c->v[c->n].version = (uint64_t)sqlite3_column_int64(s, 1);
    c->n++;
    return 0;
}

int store_contact_incidents(struct store *st, int64_t id, struct store_contact_inc **ret,
                            size_t *ret_n)
{
    struct contact_incs c = {0};
    int r = store_each_row(st, "listing a contact's incidents",
                           "SELECT DISTINCT i.id, i.version FROM communications m"
                           " JOIN incidents i ON i.id = m.incident_id WHERE m.contact_id = ?1"
                           " ORDER BY i.id",
                           id, contact_inc_row, &c);

    if (r < 0) {
        free(c.v);
        c.v = NULL;
        c.n = 0;
    }
    *ret = c.v;
    *ret_n = c.n;
    return r;
}

int store_contact_name(struct store *st, int64_t id, char *ret, size_t size)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "reading a contact", "no such contact", &s,
                          "SELECT name FROM contacts WHERE id = ?1", "i", id);
    const unsigned char *name;

    if (r < 0)
        return r;
    name = sqlite3_column_text(s, 0);
    snprintf(ret, size, "%s", name ? (const char *)name : "");
    sqlite3_finalize(s);
    return 0;
}

#define REPORT_META_JSON                                                                           \
    "json_object('id', id, 'kind', kind, 'version', version,"                                     \
    " 'edited', json(iif(edited, 'true', 'false')), 'author', author,"                            \
    " 'created', " ISO("created_us") ")"

int store_report_add(struct store *st, int64_t incident_id, const char *kind, int edited,
                     const char *author, int64_t now_us, const char *markdown, const char *html,
                     int64_t *ret_id)
{
    return store_exec_sql(st, "saving a report", NULL, ret_id,
                    "INSERT INTO reports(incident_id, kind, version, edited, author, created_us,"
                    " markdown, html) SELECT ?1, ?2, coalesce(max(version), 0) + 1, ?3, ?4, ?5,"
                    " ?6, ?7 FROM reports WHERE incident_id = ?1 AND kind = ?2",
                    "itititt", incident_id, kind, (int64_t)edited, author, now_us, markdown,
                    html);
}

int store_report_next_version(struct store *st, int64_t incident_id, const char *kind,
                              int64_t *ret)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT coalesce(max(version), 0) + 1 FROM reports"
                                " WHERE incident_id = ?1 AND kind = ?2",
                                -1, &s, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, incident_id);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 2, kind);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        *ret = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? 0 : store_dberr(st, rc, "reading report versions");
}

int store_report_meta_json(struct store *st, int64_t incident_id, int64_t report_id,
                           struct buf *out)
{
    return store_json_one(st, "reading a report", "no such report", out,
                    "SELECT " REPORT_META_JSON " FROM reports WHERE incident_id = ?1 AND id = ?2",
                    "ii", incident_id, report_id);
}

int store_reports_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading reports", out, ret_n,
                    "SELECT " REPORT_META_JSON " FROM reports WHERE incident_id = ?1 ORDER BY id",
                    "i", incident_id);
}

int store_report_text(struct store *st, int64_t incident_id, int64_t report_id, char **ret_kind,
                      char **ret_markdown, char **ret_html)
{
    char **const cols[] = {ret_kind, ret_markdown, ret_html};
    sqlite3_stmt *s;
    int r;

    *ret_kind = *ret_markdown = *ret_html = NULL;
    r = store_row_one(st, "reading a report", "no such report", &s,
                "SELECT kind, markdown, html FROM reports WHERE incident_id = ?1 AND id = ?2", "ii",
                incident_id, report_id);
    if (r < 0)
        return r;
    r = col_dups(s, 0, cols, 3);
    sqlite3_finalize(s);
    return r;
}

#define DECL_JSON                                                                                  \
    "json_object('category', category, 'level', level, 'time', " ISO("time_us") ","               \
    " 'who', who, 'why', why)"

int store_declare_add(struct store *st, const char *category, const char *level,
                      const char *who, const char *why, int64_t time_us)
{
    return store_exec_sql(st, "declaring a level", NULL, NULL,
                    "INSERT INTO declarations(category, level, time_us, who, why)"
                    " VALUES(?1, ?2, ?3, ?4, ?5)",
                    "ttitt", category, level, time_us, who, why);
}

int store_declared_current_json(struct store *st, struct buf *out)
{
    return store_json_one(st, "reading declared levels", "no declarations", out,
                    "WITH cats(c) AS (VALUES('A'), ('B'), ('C'), ('D'))"
                    " SELECT json_group_object(c, (SELECT json(" DECL_JSON ") FROM declarations"
                    " WHERE category = cats.c ORDER BY id DESC LIMIT 1)) FROM cats",
                    "");
}

int store_declared_last_json(struct store *st, struct buf *out)
{
    return store_json_one(st, "reading declared levels", "no declarations", out,
                    "SELECT " DECL_JSON " FROM declarations ORDER BY id DESC LIMIT 1", "");
}

int store_declared_history_json(struct store *st, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading declared levels", out, ret_n,
                    "SELECT " DECL_JSON " FROM declarations ORDER BY id", "");
}

int store_risk_add(struct store *st, const struct store_risk_rec *r, int64_t *ret_id)
{
    return store_exec_sql(st, "recording the risk meter", NULL, ret_id,
                    "INSERT INTO risk_samples(time_us, a, b, c, d, value, live, who, note)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    "idddddttt", r->time_us, r->a, r->b, r->c, r->d, r->value,
                    r->live_json ? r->live_json : "[]", r->who, r->note);
}

int store_risk_json(struct store *st, int64_t limit, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading the risk meter", out, ret_n,
                    "SELECT json_object('time', " ISO("time_us") ", 'a', a, 'b', b, 'c', c,"
                    " 'd', d, 'value', value, 'live', json(live), 'who', who, 'note', note)"
                    " FROM (SELECT * FROM risk_samples ORDER BY id DESC LIMIT ?1) ORDER BY id",
                    "i", limit);
}

int store_risk_live(struct store *st, int64_t now_us, double *ret_a, double *ret_d)
{
    sqlite3_stmt *s;
    int r = 0, rc;

    rc = sqlite3_prepare_v2(st->db,
                            "SELECT (SELECT coalesce(sum(CASE level WHEN 'Red' THEN 10"
                            " WHEN 'Orange' THEN 5 WHEN 'Yellow' THEN 2 ELSE 1 END), 0)"
                            " FROM incidents WHERE phase <> 'closed'),"
                            " (SELECT count(*) FROM agg_alerts WHERE last_us > ?1 - 3600000000"
                            " AND last_us <= ?1)",
                            -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, now_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *ret_a = sqlite3_column_double(s, 0);
        *ret_d = sqlite3_column_double(s, 1);
    } else {
        r = store_dberr(st, rc, "reading the live risk inputs");
    }
    sqlite3_finalize(s);
    return r;
}

int store_entities_json(struct store *st, int64_t limit, int64_t offset, struct buf *out,
                        size_t *ret_n)
{
    /* Triage writes "field=value", or "user.name=U|host.name=H" for a local
     * policy alert (the user is the entity; the host is among the victims);
     * records keep the value and its kind. */
    return store_json_sql(st, "listing entities", out, ret_n,
                    "WITH e(value, field, role, id, last_us) AS ("
                    " SELECT iif(substr(entity_key, 1, 10) = 'user.name='"
                    "   AND instr(entity_key, '|host.name=') > 0,"
                    "   substr(entity_key, 11, instr(entity_key, '|host.name=') - 11),"
                    "   substr(entity_key, instr(entity_key, '=') + 1)),"
                    "  substr(entity_key, 1, instr(entity_key, '=') - 1), 'attacker', id, last_us"
                    "  FROM incidents WHERE entity_key <> ''"
                    " UNION SELECT substr(j.value, instr(j.value, '=') + 1),"
                    "  substr(j.value, 1, instr(j.value, '=') - 1), 'victim', i.id, i.last_us"
                    "  FROM incidents i, json_each(coalesce(i.victims, '[]')) j"
                    " UNION SELECT json_extract(j.value, '$.value'), json_extract(j.value, '$.kind'),"
                    "  json_extract(j.value, '$.role'), i.id, i.last_us"
                    "  FROM incidents i, json_each(i.record, '$.entities') j"
                    "  WHERE i.record IS NOT NULL)"
                    " SELECT json_object('value', value, 'role', role, 'field', min(field),"
                    "  'incidents', json_group_array(DISTINCT id), 'last', " ISO("max(last_us)") ")"
                    " FROM e GROUP BY value, role"
                    " ORDER BY count(DISTINCT id) DESC, max(last_us) DESC, value"
                    " LIMIT ?1 OFFSET ?2",
                    "ii", limit, offset);
}

#define AGG_JSON                                                                                   \
    "json_object('id', id, 'kind', kind, 'rule_id', rule_id, 'rule', rule_name,"                  \
    " 'title', rule_title, 'level', level,"                                                        \
    /* The key is the rule id then field=value pairs, 0x1f-separated. */                           \
    " 'entity', rtrim(replace(substr(entity_key, instr(entity_key, char(31)) + 1), char(31), ' ')),"\
    " 'count', count,"                                                                             \
    " 'first', " ISO("first_us") ", 'last', " ISO("last_us") ", 'incident', incident_id,"         \
    " 'type', type, 'acknowledged', json(iif(ack_us IS NULL, 'false', 'true')),"                  \
    " 'acknowledged_by', ack_by,"                                                        \
    " 'acknowledged_at', iif(ack_us IS NULL, NULL, " ISO("ack_us") "))"

/* The aggregated alerts a filter keeps: ?1 rule, ?2 level, ?3 incident,
 * ?4 acknowledged, ?5 entity ("field=value" or a value, whole), ?6 search text (a
 * part of the title, rule name, id or entity key, any case), ?7/?8 last
 * seen from/until (event time, µs; 0 open). */
#define AGG_WHERE                                                                                  \
    " WHERE (?1 IS NULL OR rule_name = ?1 OR rule_id = ?1)"                                        \
    " AND (?2 = 0 OR level >= ?2) AND (?3 = 0 OR incident_id = ?3)"                                \
    " AND (?4 < 0 OR (ack_us IS NOT NULL) = ?4)"                                                   \
    " AND (?5 IS NULL OR instr(char(31) || entity_key || char(31),"                                \
    "   iif(instr(?5, '=') > 0, char(31), '=') || ?5 || char(31)) > 0)"                            \
    " AND (?6 IS NULL OR instr(lower(coalesce(rule_title, '') || ' ' || coalesce(rule_name, '')"   \
    "   || ' ' || coalesce(rule_id, '') || ' ' || entity_key), lower(?6)) > 0)"                    \
    " AND (?7 = 0 OR last_us >= ?7) AND (?8 = 0 OR last_us <= ?8)"

int store_agg_list_json(struct store *st, const struct store_agg_filter *f, struct buf *out,
                        size_t *ret_n)
{
    return store_json_sql(st, "listing alerts", out, ret_n,
                    "SELECT " AGG_JSON " FROM agg_alerts" AGG_WHERE
                    " ORDER BY id DESC LIMIT ?9 OFFSET ?10",
                    "tiiittiiii", f->rule, (int64_t)f->min_level, f->incident_id,
                    (int64_t)f->acknowledged, f->entity, f->q, f->since_us, f->until_us,
                    f->limit, f->offset);
}

int store_agg_ids(struct store *st, const struct store_agg_filter *f, int64_t *ids, size_t max,
                  size_t *ret_n, int64_t *ret_total)
{
    sqlite3_stmt *s;
    size_t n = 0;
    int64_t total = 0;
    int r = 0, rc;

    *ret_n = 0;
    *ret_total = 0;
    rc = sqlite3_prepare_v2(st->db, "SELECT id FROM agg_alerts" AGG_WHERE " ORDER BY id", -1, &s,
                            NULL);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 1, f->rule);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, f->min_level);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, f->incident_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, f->acknowledged);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 5, f->entity);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 6, f->q);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 7, f->since_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 8, f->until_us);
    /* Counted to the end: the caller says how far past its cap it was. */
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n < max)
            ids[n++] = sqlite3_column_int64(s, 0);
        total++;
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "selecting alerts");
    sqlite3_finalize(s);
    *ret_n = n;
    *ret_total = total;
    return r;
}

int store_agg_count_json(struct store *st, const struct store_agg_filter *f, struct buf *out)
{
    return store_json_one(st, "counting alerts", "no count", out,
                    "SELECT count(*) FROM agg_alerts" AGG_WHERE, "tiiittii", f->rule,
                    (int64_t)f->min_level, f->incident_id, (int64_t)f->acknowledged, f->entity,
                    f->q, f->since_us, f->until_us);
}

int store_agg_json(struct store *st, int64_t id, struct buf *out)
{
    return store_json_one(st, "reading an alert", "no such alert", out,
                    "SELECT " AGG_JSON " FROM agg_alerts WHERE id = ?1", "i", id);
}

struct events_ctx {
    struct buf *out;
    size_t n;
};

static int event_row(sqlite3_stmt *s, void *ctx)
{
    struct events_ctx *c = ctx;
    const char *raw = (const char *)sqlite3_column_blob(s, 7);
    const char *fields = (const char *)sqlite3_column_text(s, 6);
    const char *txt[4];
    int r;

    for (int i = 0; i < 4; i++)
        txt[i] = (const char *)sqlite3_column_text(s, 2 + i);
    r = buf_printf(c->out, "%s{\"id\":%lld,\"time\":\"%s\",\"rule_id\":", c->n ? "," : "",
                   (long long)sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1));
    for (int i = 0; r == 0 && i < 4; i++) {
        static const char *const keys[] = {"", ",\"title\":", ",\"kind\":", ",\"input\":"};
        if (i)
            r = buf_puts(c->out, keys[i]);
        if (r == 0)
            r = txt[i] ? buf_json_str(c->out, txt[i], strlen(txt[i])) : buf_puts(c->out, "null");
    }
    if (r == 0)
        r = buf_printf(c->out, ",\"fields\":%s,\"raw\":", fields && *fields ? fields : "{}");
    if (r == 0)
        r = buf_json_str(c->out, raw ? raw : "", raw ? (size_t)sqlite3_column_bytes(s, 7) : 0);
    if (r == 0)
        r = buf_putc(c->out, '}');
    c->n++;
    return r;
}

int store_agg_events_json(struct store *st, int64_t id, int64_t limit, int64_t offset,
                          struct buf *out, size_t *ret_n)
{
    struct events_ctx c = {out, 0};
    struct buf probe;
    sqlite3_stmt *s;
    int r = 0, rc;

    *ret_n = 0;
    buf_init(&probe, 64 * 1024);
    r = store_agg_json(st, id, &probe);
    buf_done(&probe);
    if (r < 0)
        return r;
    rc = sqlite3_prepare_v2(st->db,
                            "SELECT id, " ISO("time_us") ", rule_id, rule_title, kind, input,"
                            " fields, raw FROM alerts WHERE agg_id = ?1 ORDER BY id"
                            " LIMIT ?2 OFFSET ?3",
                            -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, limit);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, offset);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((r = event_row(s, &c)) < 0)
            break;
        rc = SQLITE_OK;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "reading an alert's events");
    sqlite3_finalize(s);
    *ret_n = c.n;
    return r;
}

int store_agg_ack(struct store *st, int64_t id, const char *who, int64_t now_us)
{
    int64_t n = 0;
    int r = store_exec_sql(st, "acknowledging an alert", &n, NULL,
                     "UPDATE agg_alerts SET ack_by = ?2, ack_us = ?3 WHERE id = ?1", "iti", id,
                     who, now_us);

    if (r == 0 && n == 0) {
        store_seterr(st, "no such alert");
        r = -ENOENT;
    }
    return r;
}

int store_agg_attach(struct store *st, int64_t id, int64_t incident_id)
{
    int64_t n = 0;
    int r = store_exec_sql(st, "attaching an alert", &n, NULL,
                     "UPDATE agg_alerts SET incident_id = ?2, attached = 1 WHERE id = ?1", "ii", id,
                     incident_id);

    if (r == 0 && n == 0) {
        store_seterr(st, "no such alert");
        r = -ENOENT;
    }
    return r;
}

int store_supp_add(struct store *st, const struct store_supp_rec *s, int64_t *ret_id)
{
    return store_exec_sql(st, "saving a suppression", NULL, ret_id,
                    "INSERT INTO suppressions(created_us, who, alert_id, reason, expires_us, yaml)"
                    " VALUES(?1, ?2, nullif(?3, 0), ?4, ?5, ?6)",
                    "ititit", s->created_us, s->who, s->alert_id, s->reason, s->expires_us,
                    s->yaml);
}

int store_supp_set_yaml(struct store *st, int64_t id, const char *yaml)
{
    return store_exec_sql(st, "saving a suppression", NULL, NULL,
                    "UPDATE suppressions SET yaml = ?2 WHERE id = ?1", "it", id, yaml);
}

#define SUPP_JSON                                                                                  \
    "json_object('id', id, 'created', " ISO("created_us") ", 'who', who, 'alert', alert_id,"       \
    " 'reason', reason, 'expires', " ISO("expires_us") ","                                       \
    " 'active', json(iif(expires_us > ?1 AND lifted_us IS NULL, 'true', 'false')),"              \
    " 'lifted', iif(lifted_us IS NULL, NULL, " ISO("lifted_us") "), 'lifted_by', lifted_by,"      \
    " 'yaml', yaml)"

int store_supps_json(struct store *st, int64_t now_us, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "listing suppressions", out, ret_n,
                    "SELECT " SUPP_JSON " FROM suppressions ORDER BY id", "i", now_us);
}

int store_supp_json(struct store *st, int64_t id, int64_t now_us, struct buf *out)
{
    return store_json_one(st, "reading a suppression", "no such suppression", out,
                    "SELECT " SUPP_JSON " FROM suppressions WHERE id = ?2", "ii", now_us, id);
}

struct supp_ctx {
    int (*fn)(void *ctx, const struct store_supp_rec *s);
    void *ctx;
};

static int supp_row(sqlite3_stmt *s, void *ctx)
{
    struct supp_ctx *c = ctx;
    struct store_supp_rec rec = {
        .id = sqlite3_column_int64(s, 0),
        .created_us = sqlite3_column_int64(s, 1),
        .who = (const char *)sqlite3_column_text(s, 2),
        .alert_id = sqlite3_column_int64(s, 3),
        .reason = (const char *)sqlite3_column_text(s, 4),
        .expires_us = sqlite3_column_int64(s, 5),
        .yaml = (const char *)sqlite3_column_text(s, 6),
        .lifted_us = sqlite3_column_int64(s, 7),
        .lift_seq = sqlite3_column_int64(s, 8),
    };

    return c->fn(c->ctx, &rec);
}

#define SUPP_COLS                                                                                  \
    "id, created_us, who, alert_id, reason, expires_us, yaml, coalesce(lifted_us, 0),"            \
    " coalesce(lift_seq, 0)"

int store_supp_each(struct store *st, int64_t after,
                    int (*fn)(void *ctx, const struct store_supp_rec *s), void *ctx)
{
    struct supp_ctx c = {fn, ctx};

    return store_each_row(st, "reading suppressions",
                    "SELECT " SUPP_COLS " FROM suppressions WHERE id > ?1 ORDER BY id",
                    after, supp_row, &c);
}

int store_supp_lift(struct store *st, int64_t id, const char *who, int64_t now_us)
{
    int64_t changed = 0;
    sqlite3_stmt *s;
    int r;

    /* One statement: the check and the change cannot be split by another
     * writer. */
    r = store_exec_sql(st, "lifting a suppression", &changed, NULL,
                       "UPDATE suppressions SET lifted_us = ?2, lifted_by = ?3,"
                       " lift_seq = (SELECT coalesce(max(lift_seq), 0) + 1 FROM suppressions)"
                       " WHERE id = ?1 AND lifted_us IS NULL AND expires_us > ?2",
                       "iit", id, now_us, who);
    if (r < 0 || changed)
        return r;
    r = store_row_one(st, "reading a suppression", "no such suppression", &s,
                      "SELECT lifted_us IS NOT NULL FROM suppressions WHERE id = ?1", "i", id);
    if (r < 0)
        return r;
    if (sqlite3_column_int(s, 0))
        store_seterr(st, "suppression %lld was lifted already", (long long)id);
    else
        store_seterr(st, "suppression %lld has expired: there is nothing to lift", (long long)id);
    sqlite3_finalize(s);
    return -ESTALE;
}

int store_supp_each_lifted(struct store *st, int64_t after,
                           int (*fn)(void *ctx, const struct store_supp_rec *s), void *ctx)
{
    struct supp_ctx c = {fn, ctx};

    /* suppressions_lift_seq makes this a range read of the new lifts. */
    return store_each_row(st, "reading lifted suppressions",
                    "SELECT " SUPP_COLS " FROM suppressions WHERE lift_seq > ?1 ORDER BY lift_seq",
                    after, supp_row, &c);
}

int store_agg_rule_key(struct store *st, int64_t id, char **ret_rule, char **ret_key)
{
    char **const cols[] = {ret_rule, ret_key};
    sqlite3_stmt *s;
    int r;

    *ret_rule = *ret_key = NULL;
    r = store_row_one(st, "reading an alert", "no such alert", &s,
                "SELECT coalesce(rule_id, rule_name), entity_key FROM agg_alerts WHERE id = ?1",
                "i", id);
    if (r < 0)
        return r;
    r = col_dups(s, 0, cols, 2);
    sqlite3_finalize(s);
    return r;
}

int store_user_get(struct store *st, const char *name, int64_t *ret_id, char **ret_role,
                   char **ret_pw_hash)
{
    char **const cols[] = {ret_role, ret_pw_hash};
    sqlite3_stmt *s;
    int r;

    *ret_role = *ret_pw_hash = NULL;
    r = store_row_one(st, "reading a user", "no such user", &s,
                "SELECT id, role, pw_hash FROM users WHERE name = ?1", "t", name);
    if (r < 0)
        return r;
    *ret_id = sqlite3_column_int64(s, 0);
    r = col_dups(s, 1, cols, 2);
    sqlite3_finalize(s);
    return r;
}
