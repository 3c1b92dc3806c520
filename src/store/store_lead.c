/*
 * store_lead.c - what the responsible person's decisions keep (schema 17;
 * issue 25, docs/incident.md "The responsible person"): the lead's
 * approval queue.  An analyst's PATCH that holds a decision (closing the
 * emergency phase, Orange or Red, closing the incident) is kept whole
 * here, and applied as sent when the responsible person approves it.
 */
#include "store/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

#define ISO(col) STORE_ISO(col)

#define APPROVAL_JSON                                                                              \
    "json_object('id', id, 'incident', incident_id, 'requested_by', requested_by,"                 \
    " 'requested', " ISO("requested_us") ", 'what', what, 'body', json(body), 'state', state,"     \
                                         " 'decided_by', decided_by, 'decided', iif(decided_us "   \
                                         "IS NULL, NULL, " ISO(                                    \
                                             "decided_us") "),"                                    \
                                                           " 'note', note, 'decider', decider)"

int store_approval_add(struct store *st, const struct store_approval_rec *a, int64_t *ret_id)
{
    return store_exec_sql(st, "adding an approval", NULL, ret_id,
                          "INSERT INTO approvals(incident_id, requested_by, requested_us, what,"
                          " body, state, decider) VALUES(?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                          "itittt", a->incident_id, a->requested_by, a->requested_us, a->what,
                          a->body, a->decider);
}

int store_approvals_json(struct store *st, const char *state, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading approvals", out, ret_n,
                          "SELECT " APPROVAL_JSON " FROM approvals"
                          " WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT 1000",
                          "t", state);
}

int store_approval_json(struct store *st, int64_t id, struct buf *out)
{
    return store_json_one(st, "reading an approval", "no such approval", out,
                          "SELECT " APPROVAL_JSON " FROM approvals WHERE id = ?1", "i", id);
}

int store_approval_get(struct store *st, int64_t id, int64_t *ret_incident, char **ret_state,
                       char **ret_requested_by, char **ret_body)
{
    sqlite3_stmt *s;
    int r;

    *ret_state = *ret_requested_by = *ret_body = NULL;
    r = store_row_one(st, "reading an approval", "no such approval", &s,
                      "SELECT incident_id, state, requested_by, body FROM approvals WHERE id = ?1",
                      "i", id);
    if (r < 0)
        return r;
    *ret_incident = sqlite3_column_int64(s, 0);
    *ret_state = strdup((const char *)sqlite3_column_text(s, 1));
    *ret_requested_by = strdup((const char *)sqlite3_column_text(s, 2));
    *ret_body = strdup((const char *)sqlite3_column_text(s, 3));
    sqlite3_finalize(s);
    if (!*ret_state || !*ret_requested_by || !*ret_body) {
        free(*ret_state);
        free(*ret_requested_by);
        free(*ret_body);
        *ret_state = *ret_requested_by = *ret_body = NULL;
        return -ENOMEM;
    }
    return 0;
}

int store_approval_decide(struct store *st, int64_t id, const char *state, const char *who,
                          int64_t now_us, const char *note)
{
    int64_t changes = 0;
    int r = store_exec_sql(st, "deciding an approval", &changes, NULL,
                           "UPDATE approvals SET state = ?2, decided_by = ?3, decided_us = ?4,"
                           " note = ?5 WHERE id = ?1 AND state = 'pending'",
                           "ittit", id, state, who, now_us, note);
    if (r < 0)
        return r;
    return changes ? 0 : -ESTALE;
}
