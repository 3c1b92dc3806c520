/*
 * store_response.c - the response engine's decisions and the approval
 * queue (table responses, schema 6).  store.h says what each call does;
 * the state changes analysts make race with each other and with the
 * engine, so each is one conditional UPDATE.
 */
#include "store/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

/* One row as the API shows it. */
#define RESP_JSON                                                                                  \
    "json_object('id', id, 'created', " STORE_ISO("created_us") ","                              \
    " 'updated', " STORE_ISO("updated_us") ", 'state', state, 'policy_rule', policy_rule,"        \
    " 'kind', kind, 'rule_id', rule_id, 'rule_name', rule_name, 'correlation', correlation,"     \
    " 'level', level, 'incident_type', incident_type, 'address', address,"                        \
    " 'udp_only', json(iif(udp_only, 'true', 'false')),"                                         \
    " 'corroborated', json(iif(corroborated, 'true', 'false')),"                                 \
    " 'actions', json('[\"' || replace(actions, ',', '\",\"') || '\"]'), 'mode', mode,"          \
    " 'alert', nullif(agg_id, 0), 'incident', nullif(incident_id, 0), 'reason', reason,"        \
    " 'result', json(result), 'ban_s', iif(ban_us > 0, ban_us / 1000000, NULL),"                \
    " 'expires', iif(expires_us > 0, " STORE_ISO("expires_us") ", NULL),"                        \
    " 'decided_by', decided_by, 'decided', iif(decided_us > 0, " STORE_ISO("decided_us") ","    \
    " NULL), 'decision_note', decision_note, 'lift_requested_by', lift_by,"                       \
    " 'lift_requested', iif(lift_us > 0, " STORE_ISO("lift_us") ", NULL),"                       \
    " 'lifted', json(iif(lifted, 'true', 'false')), 'seen', seen,"                               \
    " 'dry_run', json(iif(dry_run, 'true', 'false')))"

/* The columns resp_row reads, in its order. */
#define RESP_COLS                                                                                  \
    "id, created_us, updated_us, state, policy_rule, kind, rule_id, rule_name, correlation,"     \
    " level, incident_type, address, udp_only, corroborated, actions, mode, agg_id,"             \
    " incident_id, reason, result, ban_us, expires_us, decided_by, decided_us, decision_note,"  \
    " lift_by, lift_us, lifted, seen, dry_run"

/* An active block: done, not dry run, block asked, not expired, not lifted. */
#define ACTIVE_BLOCK                                                                               \
    "state = 'done' AND dry_run = 0 AND ',' || actions || ',' LIKE '%,block,%'"                 \
    " AND expires_us > ?1 AND lifted = 0"

int store_resp_add(struct store *st, const struct store_resp_rec *r, int64_t *ret_id)
{
    if (!r->state || !r->policy_rule || !r->kind || !r->actions || !r->mode || !r->reason)
        return -EINVAL;
    return store_exec_sql(
        st, "recording a response", NULL, ret_id,
        "INSERT INTO responses (created_us, updated_us, state, policy_rule, kind, rule_id,"
        " rule_name, correlation, level, incident_type, address, udp_only, corroborated, actions,"
        " mode, agg_id, incident_id, reason, result, ban_us, expires_us, decided_by, decided_us,"
        " decision_note, lift_by, lift_us, lifted, seen, dry_run)"
        " VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
        "ittttttittiittiittiitittiiii", r->created_us, r->state,
        r->policy_rule, r->kind, r->rule_id, r->rule_name, r->correlation, (int64_t)r->level,
        r->incident_type, r->address, (int64_t)r->udp_only, (int64_t)r->corroborated, r->actions,
        r->mode, r->agg_id, r->incident_id, r->reason, r->result, r->ban_us, r->expires_us,
        r->decided_by, r->decided_us, r->decision_note, r->lift_by, r->lift_us, (int64_t)r->lifted,
        (int64_t)(r->seen > 0 ? r->seen : 1), (int64_t)r->dry_run);
}

int store_resp_pending_find(struct store *st, const char *policy_rule, const char *address,
                            int64_t incident_id, int64_t *ret_id)
{
    sqlite3_stmt *s;
    int r;

    *ret_id = 0;
    r = store_row_one(st, "finding a pending response", "no pending response", &s,
                      "SELECT id FROM responses WHERE state = 'pending' AND policy_rule = ?1"
                      " AND ((?2 IS NOT NULL AND address = ?2)"
                      " OR (?2 IS NULL AND address IS NULL AND incident_id = ?3))"
                      " ORDER BY id LIMIT 1",
                      "tti", policy_rule, address, incident_id);
    if (r < 0)
        return r;
    *ret_id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

/* -ENOENT when an UPDATE of row `id` changed nothing because there is no
 * such row, -ESTALE when the row is there but not in the state asked. */
static int changed_or_why(struct store *st, int64_t id, int64_t changes, const char *what)
{
    sqlite3_stmt *s;
    int r;

    if (changes > 0)
        return 0;
    r = store_row_one(st, what, "no such response", &s, "SELECT state FROM responses WHERE id = ?1",
                      "i", id);
    if (r < 0)
        return r;
    store_seterr(st, "response %lld is %s", (long long)id,
                 (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return -ESTALE;
}

int store_resp_seen(struct store *st, int64_t id, int64_t now_us)
{
    int64_t n = 0;
    int r = store_exec_sql(st, "counting a repeated request", &n, NULL,
                           "UPDATE responses SET seen = seen + 1, updated_us = ?2 WHERE id = ?1",
                           "ii", id, now_us);

    return r < 0 ? r : changed_or_why(st, id, n, "counting a repeated request");
}

int store_resp_finish(struct store *st, int64_t id, const char *state, const char *result,
                      const char *reason, int64_t expires_us, int64_t now_us)
{
    int64_t n = 0;
    int r = store_exec_sql(st, "recording a response's outcome", &n, NULL,
                           "UPDATE responses SET state = ?2, result = coalesce(?3, result),"
                           " reason = coalesce(?4, reason),"
                           " expires_us = iif(?5 > 0, ?5, expires_us), updated_us = ?6"
                           " WHERE id = ?1",
                           "itttii", id, state, result, reason, expires_us, now_us);

    return r < 0 ? r : changed_or_why(st, id, n, "recording a response's outcome");
}

int store_resp_decide(struct store *st, int64_t id, int approve, const char *who,
                      const char *note, int64_t now_us)
{
    int64_t n = 0;
    int r = store_exec_sql(st, "answering a request", &n, NULL,
                           "UPDATE responses SET state = ?2, decided_by = ?3, decision_note = ?4,"
                           " decided_us = ?5, updated_us = ?5"
                           " WHERE id = ?1 AND state = 'pending'",
                           "ittti", id, approve ? "approved" : "rejected", who, note, now_us);

    return r < 0 ? r : changed_or_why(st, id, n, "answering a request");
}

int store_resp_lift_request(struct store *st, int64_t id, const char *who, int64_t now_us)
{
    int64_t n = 0;
    int r = store_exec_sql(st, "asking to lift a block", &n, NULL,
                           "UPDATE responses SET lift_by = ?2, lift_us = ?1, updated_us = ?1"
                           " WHERE id = ?3 AND lift_by IS NULL AND " ACTIVE_BLOCK,
                           "iti", now_us, who, id);

    if (r < 0)
        return r;
    r = changed_or_why(st, id, n, "asking to lift a block");
    if (r == -ESTALE)
        store_seterr(st, "response %lld is not a block in force that nobody asked to lift yet",
                     (long long)id);
    return r;
}

int store_resp_lifted(struct store *st, int64_t id, int64_t now_us)
{
    int64_t n = 0;
    int r = store_exec_sql(st, "recording a lifted block", &n, NULL,
                           "UPDATE responses SET lifted = 1, updated_us = ?2 WHERE id = ?1", "ii",
                           id, now_us);

    return r < 0 ? r : changed_or_why(st, id, n, "recording a lifted block");
}

struct resp_ctx {
    int (*fn)(void *ctx, const struct store_resp_rec *r);
    void *ctx;
};

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static int resp_row(sqlite3_stmt *s, void *ctx)
{
    struct resp_ctx *c = ctx;
    struct store_resp_rec r = {
        .id = sqlite3_column_int64(s, 0),
        .created_us = sqlite3_column_int64(s, 1),
        .updated_us = sqlite3_column_int64(s, 2),
        .state = col_text(s, 3),
        .policy_rule = col_text(s, 4),
        .kind = col_text(s, 5),
        .rule_id = col_text(s, 6),
        .rule_name = col_text(s, 7),
        .correlation = col_text(s, 8),
        .level = sqlite3_column_int(s, 9),
        .incident_type = col_text(s, 10),
        .address = col_text(s, 11),
        .udp_only = sqlite3_column_int(s, 12),
        .corroborated = sqlite3_column_int(s, 13),
        .actions = col_text(s, 14),
        .mode = col_text(s, 15),
        .agg_id = sqlite3_column_int64(s, 16),
        .incident_id = sqlite3_column_int64(s, 17),
        .reason = col_text(s, 18),
        .result = col_text(s, 19),
        .ban_us = sqlite3_column_int64(s, 20),
        .expires_us = sqlite3_column_int64(s, 21),
        .decided_by = col_text(s, 22),
        .decided_us = sqlite3_column_int64(s, 23),
        .decision_note = col_text(s, 24),
        .lift_by = col_text(s, 25),
        .lift_us = sqlite3_column_int64(s, 26),
        .lifted = sqlite3_column_int(s, 27),
        .seen = sqlite3_column_int64(s, 28),
        .dry_run = sqlite3_column_int(s, 29),
    };

    return c->fn(c->ctx, &r);
}

int store_resp_each_approved(struct store *st,
                             int (*fn)(void *ctx, const struct store_resp_rec *r), void *ctx)
{
    struct resp_ctx c = {fn, ctx};

    return store_each_row(st, "reading approved requests",
                          "SELECT " RESP_COLS " FROM responses"
                          " WHERE state = 'approved' AND id > ?1 ORDER BY id",
                          0, resp_row, &c);
}

int store_resp_each_lift(struct store *st, int (*fn)(void *ctx, const struct store_resp_rec *r),
                         void *ctx)
{
    struct resp_ctx c = {fn, ctx};

    return store_each_row(st, "reading lift requests",
                          "SELECT " RESP_COLS " FROM responses"
                          " WHERE lift_by IS NOT NULL AND lifted = 0 AND id > ?1 ORDER BY id",
                          0, resp_row, &c);
}

int store_resp_each_block(struct store *st, int64_t now_us,
                          int (*fn)(void *ctx, const struct store_resp_rec *r), void *ctx)
{
    struct resp_ctx c = {fn, ctx};

    return store_each_row(st, "reading blocks in force",
                          "SELECT " RESP_COLS " FROM responses WHERE " ACTIVE_BLOCK " ORDER BY id",
                          now_us, resp_row, &c);
}

int store_resps_json(struct store *st, const struct store_resp_filter *f, struct buf *out,
                     size_t *ret_n)
{
    return store_json_sql(st, "listing responses", out, ret_n,
                          "SELECT " RESP_JSON " FROM responses"
                          " WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR address = ?2)"
                          " AND (?3 = 0 OR incident_id = ?3)"
                          " ORDER BY id DESC LIMIT ?4 OFFSET ?5",
                          "ttiii", f->state, f->address, f->incident_id,
                          f->limit > 0 ? f->limit : (int64_t)50, f->offset > 0 ? f->offset : 0);
}

int store_resp_json(struct store *st, int64_t id, struct buf *out)
{
    return store_json_one(st, "reading a response", "no such response", out,
                          "SELECT " RESP_JSON " FROM responses WHERE id = ?1", "i", id);
}

int store_blocks_json(struct store *st, int64_t now_us, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "listing blocks", out, ret_n,
                          "SELECT json_object('response', id, 'address', address,"
                          " 'expires', " STORE_ISO("expires_us") ", 'ban_s', ban_us / 1000000,"
                          " 'policy_rule', policy_rule, 'incident', nullif(incident_id, 0),"
                          " 'lift_requested', json(iif(lift_by IS NULL, 'false', 'true')))"
                          " FROM responses WHERE " ACTIVE_BLOCK " ORDER BY expires_us, id",
                          "i", now_us);
}
