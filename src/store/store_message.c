/*
 * store_message.c - the SQL of store_message.h (schema 15, issue 25):
 * messages and replies, field markings, the impact record and the
 * countermeasures.  Conditional updates carry the state they expect, so
 * that two deliverers or an approval racing a send change a message once.
 */
#include "store/store_message.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_priv.h"
#include "util/buf.h"

#define MSG_JSON                                                                                                                                      \
    "json_object('id', m.id, 'incident', m.incident_id, 'kind', m.kind, 'party', m.party,"                                                            \
    " 'contact', m.contact_id, 'contact_name', c.name, 'recipient', m.recipient,"                                                                     \
    " 'channel', m.channel, 'subject', m.subject, 'body', m.body,"                                                                                    \
    " 'fields', CASE WHEN m.fields = '' THEN json_array() ELSE"                                                                                       \
    " json('[\"' || replace(m.fields, ',', '\",\"') || '\"]') END,"                                                                                   \
    " 'tlp', m.tlp, 'ref', m.ref, 'state', m.state, 'attempts', m.attempts,"                                                                          \
    " 'next_attempt', CASE WHEN m.state IN ('queued', 'retry') THEN " STORE_ISO(                                                                      \
        "m.next_us") " END, 'error', m.error, 'created', " STORE_ISO("m.created_us") ","                                                              \
                                                                                     " 'created_"                                                     \
                                                                                     "by', "                                                          \
                                                                                     "m.created_"                                                     \
                                                                                     "by, "                                                           \
                                                                                     "'approved',"                                                    \
                                                                                     " " STORE_ISO(                                                   \
                                                                                         "m."                                                         \
                                                                                         "approve"                                                    \
                                                                                         "d_us") ","                                                  \
                                                                                                 " 'approved_by', m.approved_by, 'sent', " STORE_ISO( \
                                                                                                     "m.sent_us") ","                                 \
                                                                                                                  " 'done', " STORE_ISO(              \
                                                                                                                      "m.done_us") ","                \
                                                                                                                                   " 'replies', (SELECT count(*) FROM message_replies r WHERE r.message_id = m.id))"

int store_message_add(struct store *st, const struct store_message_rec *m, int64_t *ret_id)
{
    return store_exec_sql(
        st, "adding a message", NULL, ret_id,
        "INSERT INTO messages(incident_id, kind, party, contact_id, recipient, channel, subject,"
        " body, fields, tlp, ref, state, created_us, created_by, updated_us)"
        " VALUES(?1, ?2, ?3, NULLIF(?4, 0), ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'draft', ?12, ?13, ?12)",
        "ittitttttttit", m->incident_id, m->kind, m->party, m->contact_id, m->recipient, m->channel,
        m->subject, m->body, m->fields, m->tlp, m->ref, m->created_us, m->created_by);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return strdup(t ? (const char *)t : "");
}

void store_message_row_done(struct store_message_row *m)
{
    if (!m)
        return;
    free(m->kind);
    free(m->party);
    free(m->recipient);
    free(m->channel);
    free(m->subject);
    free(m->body);
    free(m->fields);
    free(m->tlp);
    free(m->ref);
    free(m->state);
    memset(m, 0, sizeof(*m));
}

int store_message_get(struct store *st, int64_t id, struct store_message_row *ret)
{
    sqlite3_stmt *s;
    int r;

    memset(ret, 0, sizeof(*ret));
    r = store_row_one(st, "reading a message", "no such message", &s,
                      "SELECT id, incident_id, IFNULL(contact_id, 0), next_us, attempts, kind,"
                      " party, recipient, channel, subject, body, fields, tlp, ref, state"
                      " FROM messages WHERE id = ?1",
                      "i", id);
    if (r < 0)
        return r;
    ret->id = sqlite3_column_int64(s, 0);
    ret->incident_id = sqlite3_column_int64(s, 1);
    ret->contact_id = sqlite3_column_int64(s, 2);
    ret->next_us = sqlite3_column_int64(s, 3);
    ret->attempts = (int)sqlite3_column_int64(s, 4);
    ret->kind = col_dup(s, 5);
    ret->party = col_dup(s, 6);
    ret->recipient = col_dup(s, 7);
    ret->channel = col_dup(s, 8);
    ret->subject = col_dup(s, 9);
    ret->body = col_dup(s, 10);
    ret->fields = col_dup(s, 11);
    ret->tlp = col_dup(s, 12);
    ret->ref = col_dup(s, 13);
    ret->state = col_dup(s, 14);
    sqlite3_finalize(s);
    if (!ret->kind || !ret->party || !ret->recipient || !ret->channel || !ret->subject ||
        !ret->body || !ret->fields || !ret->tlp || !ret->ref || !ret->state) {
        store_message_row_done(ret);
        return -ENOMEM;
    }
    return 0;
}

int store_message_move(struct store *st, int64_t id, const struct store_message_move *mv)
{
    int64_t changes = 0;
    int r;

    r = store_exec_sql(
        st, "changing a message's state", &changes, NULL,
        "UPDATE messages SET state = ?3, attempts = ?4, next_us = ?5, error = ?6,"
        " updated_us = ?8,"
        " approved_us = CASE WHEN ?3 = 'approved' THEN ?8 ELSE approved_us END,"
        " approved_by = CASE WHEN ?3 = 'approved' THEN ?7 ELSE approved_by END,"
        " sent_us = CASE WHEN ?3 = 'sent' THEN ?8 ELSE sent_us END,"
        " done_us = CASE WHEN ?3 IN ('delivered', 'failed', 'cancelled') THEN ?8 ELSE done_us END"
        " WHERE id = ?1 AND state = ?2",
        "ittiitti", id, mv->from, mv->to, (int64_t)mv->attempts, mv->next_us, mv->error, mv->who,
        mv->now_us);
    if (r < 0)
        return r;
    if (changes == 0) {
        store_seterr(st, "the message is no longer %s", mv->from);
        return -ESTALE;
    }
    return 0;
}

int store_messages_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading messages", out, ret_n,
                          "SELECT " MSG_JSON " FROM messages m LEFT JOIN contacts c"
                          " ON c.id = m.contact_id WHERE m.incident_id = ?1 ORDER BY m.id",
                          "i", incident_id);
}

int store_message_json(struct store *st, int64_t msg, struct buf *out)
{
    return store_json_one(st, "reading a message", "no such message", out,
                          "SELECT " MSG_JSON " FROM messages m LEFT JOIN contacts c"
                          " ON c.id = m.contact_id WHERE m.id = ?1",
                          "i", msg);
}

static int ids_sql(struct store *st, const char *what, const char *sql, int64_t arg, int64_t *ids,
                   size_t max, size_t *ret_n)
{
    sqlite3_stmt *s = NULL;
    int rc;

    *ret_n = 0;
    rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_dberr(st, rc, what);
    sqlite3_bind_int64(s, 1, arg);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *ret_n < max)
        ids[(*ret_n)++] = sqlite3_column_int64(s, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = store_dberr(st, rc, what);
        sqlite3_finalize(s);
        return rc;
    }
    sqlite3_finalize(s);
    return 0;
}

int store_message_due(struct store *st, int64_t now_us, int64_t *ids, size_t max, size_t *ret_n)
{
    return ids_sql(st, "finding messages to send",
                   "SELECT id FROM messages WHERE state IN ('queued', 'retry')"
                   " AND next_us <= ?1 ORDER BY next_us, id LIMIT ?2",
                   now_us, ids, max, ret_n);
}

int store_message_inflight(struct store *st, int64_t *ids, size_t max, size_t *ret_n)
{
    return ids_sql(st, "finding messages left in flight",
                   "SELECT id FROM messages WHERE state = 'sent' AND ?1 = ?1"
                   " ORDER BY id LIMIT ?2",
                   0, ids, max, ret_n);
}

int store_message_by_ref(struct store *st, const char *ref, int64_t *ret_id, int64_t *ret_incident)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "finding a message by reference", "no message has this reference", &s,
                          "SELECT id, incident_id FROM messages WHERE ref = ?1", "t", ref);

    if (r < 0)
        return r;
    *ret_id = sqlite3_column_int64(s, 0);
    *ret_incident = sqlite3_column_int64(s, 1);
    sqlite3_finalize(s);
    return 0;
}

int store_message_has_kind(struct store *st, int64_t incident_id, const char *kind, int *ret)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "looking for a message", "none", &s,
                          "SELECT count(*) FROM messages WHERE incident_id = ?1 AND kind = ?2",
                          "it", incident_id, kind);

    *ret = 0;
    if (r < 0)
        return r;
    *ret = sqlite3_column_int64(s, 0) > 0;
    sqlite3_finalize(s);
    return 0;
}

int store_message_is_exercise(struct store *st, int64_t incident_id, int *ret)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "looking for an exercise mark", "none", &s,
                          "SELECT count(*) FROM exercise_marks WHERE kind = 'incident' AND id = ?1",
                          "i", incident_id);

    *ret = 0;
    if (r < 0)
        return r;
    *ret = sqlite3_column_int64(s, 0) > 0;
    sqlite3_finalize(s);
    return 0;
}

int store_reply_add(struct store *st, const struct store_reply_rec *r, int64_t *ret_id)
{
    return store_exec_sql(st, "attaching a reply", NULL, ret_id,
                          "INSERT INTO message_replies(message_id, incident_id, sender, subject,"
                          " body, received_us, received_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                          "iitttit", r->message_id, r->incident_id, r->sender, r->subject, r->body,
                          r->received_us, r->received_by);
}

int store_replies_json(struct store *st, int64_t message_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(
        st, "reading replies", out, ret_n,
        "SELECT json_object('id', id, 'message', message_id, 'incident',"
        " incident_id, 'from', sender, 'subject', subject, 'body', body,"
        " 'received', " STORE_ISO(
            "received_us") ", 'received_by', received_by)"
                           " FROM message_replies WHERE message_id = ?1 ORDER BY id",
        "i", message_id);
}

int store_marking_set(struct store *st, int64_t incident_id, const char *field, const char *tlp)
{
    return store_exec_sql(st, "marking a field", NULL, NULL,
                          "INSERT INTO field_markings(incident_id, field, tlp) VALUES(?1, ?2, ?3)"
                          " ON CONFLICT(incident_id, field) DO UPDATE SET tlp = excluded.tlp",
                          "itt", incident_id, field, tlp);
}

int store_markings_json(struct store *st, int64_t incident_id, struct buf *out)
{
    return store_json_sql(st, "reading field markings", out, NULL,
                          "SELECT json_quote(field) || ':' || json_quote(tlp) FROM field_markings"
                          " WHERE incident_id = ?1 ORDER BY field",
                          "i", incident_id);
}

int store_marking_get(struct store *st, int64_t incident_id, const char *field, char *ret,
                      size_t size)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "reading a field marking", "unmarked", &s,
                          "SELECT tlp FROM field_markings WHERE incident_id = ?1 AND field = ?2",
                          "it", incident_id, field);

    ret[0] = '\0';
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    snprintf(ret, size, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return 0;
}

int store_impact_put(struct store *st, int64_t incident_id, const struct store_impact_rec *r)
{
    return store_exec_sql(
        st, "saving the impact analysis", NULL, NULL,
        "INSERT INTO incident_impact(incident_id, record, recommended, impact_text, threats_text,"
        " updated_us, updated_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT(incident_id) DO UPDATE SET record = excluded.record,"
        " recommended = excluded.recommended, impact_text = excluded.impact_text,"
        " threats_text = excluded.threats_text, updated_us = excluded.updated_us,"
        " updated_by = excluded.updated_by",
        "ittttit", incident_id, r->record, r->recommended, r->impact_text, r->threats_text,
        r->now_us, r->who);
}

int store_impact_texts(struct store *st, int64_t incident_id, struct buf *impact,
                       struct buf *threats)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "reading the impact analysis", "no impact analysis yet", &s,
                          "SELECT impact_text, threats_text FROM incident_impact"
                          " WHERE incident_id = ?1",
                          "i", incident_id);

    if (r < 0)
        return r;
    r = buf_puts(impact, (const char *)sqlite3_column_text(s, 0));
    if (r == 0)
        r = buf_puts(threats, (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    return r;
}

int store_impact_json(struct store *st, int64_t incident_id, struct buf *out)
{
    return store_json_one(
        st, "reading the impact analysis", "no impact analysis yet", out,
        "SELECT json_patch(record, json_object('recommended_level', recommended,"
        " 'updated', " STORE_ISO("updated_us") ", 'updated_by', updated_by))"
                                               " FROM incident_impact WHERE incident_id = ?1",
        "i", incident_id);
}

#define CM_JSON                                                                                    \
    "json_object('id', id, 'incident', incident_id, 'function', function, 'title', title,"         \
    " 'owner', owner, 'due', " STORE_ISO(                                                          \
        "due_us") ", 'state', state,"                                                              \
                  " 'verification', verification, 'verified_by', verified_by,"                     \
                  " 'created', " STORE_ISO("created_us") ", 'created_by', created_by,"             \
                                                         " 'updated', " STORE_ISO(                 \
                                                             "updated_us") ")"

int store_cm_add(struct store *st, const struct store_cm_rec *c, int64_t *ret_id)
{
    return store_exec_sql(st, "adding a countermeasure", NULL, ret_id,
                          "INSERT INTO countermeasures(incident_id, function, title, owner,"
                          " due_us, state, created_us, created_by, updated_us)"
                          " VALUES(?1, ?2, ?3, ?4, NULLIF(?5, 0), 'planned', ?6, ?7, ?6)",
                          "itttiit", c->incident_id, c->function, c->title, c->owner, c->due_us,
                          c->created_us, c->created_by);
}

int store_cm_update(struct store *st, int64_t incident_id, int64_t id, const char *state,
                    const char *verification, const char *who, int64_t now_us, char *ret_old,
                    size_t old_size)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "reading a countermeasure", "no such countermeasure", &s,
                          "SELECT state FROM countermeasures WHERE id = ?1 AND incident_id = ?2",
                          "ii", id, incident_id);

    if (r < 0)
        return r;
    snprintf(ret_old, old_size, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return store_exec_sql(st, "changing a countermeasure", NULL, NULL,
                          "UPDATE countermeasures SET state = ?2,"
                          " verification = IFNULL(?3, verification), updated_us = ?5,"
                          " verified_by = CASE WHEN ?2 = 'verified' THEN ?4 ELSE verified_by END"
                          " WHERE id = ?1",
                          "ittti", id, state, verification, who, now_us);
}

int store_cms_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading countermeasures", out, ret_n,
                          "SELECT " CM_JSON " FROM countermeasures WHERE incident_id = ?1"
                          " ORDER BY id",
                          "i", incident_id);
}

int store_cm_json(struct store *st, int64_t id, struct buf *out)
{
    return store_json_one(st, "reading a countermeasure", "no such countermeasure", out,
                          "SELECT " CM_JSON " FROM countermeasures WHERE id = ?1", "i", id);
}

int store_contact_addr(struct store *st, int64_t id, char *ret_email, size_t email_size,
                       char *ret_name, size_t name_size)
{
    sqlite3_stmt *s;
    const unsigned char *e, *n;
    int r = store_row_one(st, "reading a contact", "no such contact", &s,
                          "SELECT email, name FROM contacts WHERE id = ?1", "i", id);

    if (r < 0)
        return r;
    e = sqlite3_column_text(s, 0);
    n = sqlite3_column_text(s, 1);
    snprintf(ret_email, email_size, "%s", e ? (const char *)e : "");
    snprintf(ret_name, name_size, "%s", n ? (const char *)n : "");
    sqlite3_finalize(s);
    return 0;
}

int store_contact_by_key(struct store *st, const char *key, int64_t *ret_id)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "finding a contact", "no such contact", &s,
                          "SELECT id FROM contacts WHERE (lower(role) = lower(?1) OR name = ?1)"
                          " AND email IS NOT NULL AND email != ''"
                          " ORDER BY lower(role) = lower(?1) DESC, kind = 'vertical' DESC, id"
                          " LIMIT 1",
                          "t", key);

    if (r < 0)
        return r;
    *ret_id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}
