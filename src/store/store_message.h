/*
 * store_message.h - the store's side of communications that are sent and
 * of the impact analysis (schema 15, issue 25): messages and their
 * replies, the TLP markings of an incident's fields, the impact record and
 * the countermeasures.  The SQL lives in store_message.c; what the values
 * mean (parties, TLP, states, the level rule) in src/incident/message.h
 * and impact.h.
 *
 * Errors: 0, -ENOENT (not found; store_errmsg says what), -ESTALE (a
 * conditional change found the row in another state), -ENOMEM, or the
 * store's error.
 */
#ifndef HIKESHI_STORE_STORE_MESSAGE_H
#define HIKESHI_STORE_STORE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct store;

/* A message to add; the strings are the caller's. */
struct store_message_rec {
    int64_t incident_id;
    const char *kind, *party;
    int64_t contact_id; /* 0: none */
    const char *recipient, *channel, *subject, *body, *fields, *tlp, *ref;
    int64_t created_us;
    const char *created_by;
};
int store_message_add(struct store *st, const struct store_message_rec *m, int64_t *ret_id);

/* A message as stored; every string owned (store_message_row_done). */
struct store_message_row {
    int64_t id, incident_id, contact_id, next_us;
    int attempts;
    char *kind, *party, *recipient, *channel, *subject, *body, *fields, *tlp, *ref, *state;
};
int store_message_get(struct store *st, int64_t id, struct store_message_row *ret);
void store_message_row_done(struct store_message_row *m);

/* One change of state, made only when the message is in state `from`
 * (-ESTALE otherwise): attempts and next_us set, error set (NULL clears
 * it); `to` "approved" records who and when, "sent" when, "delivered",
 * "failed" and "cancelled" when it ended. */
struct store_message_move {
    const char *from, *to;
    int attempts;
    int64_t next_us;
    const char *error;
    const char *who;
    int64_t now_us;
};
int store_message_move(struct store *st, int64_t id, const struct store_message_move *mv);

/* The messages of incident `id` (oldest first), or message `msg` alone,
 * as JSON objects (docs/api.md MESSAGE). */
int store_messages_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n);
int store_message_json(struct store *st, int64_t msg, struct buf *out);
/* Up to `max` ids of messages due for an attempt at now_us (queued or
 * retry, next_us <= now_us), oldest first. */
int store_message_due(struct store *st, int64_t now_us, int64_t *ids, size_t max, size_t *ret_n);
/* Messages left in state "sent" (a stop or crash during the attempt). */
int store_message_inflight(struct store *st, int64_t *ids, size_t max, size_t *ret_n);
/* The message whose ref is `ref`: -ENOENT when none. */
int store_message_by_ref(struct store *st, const char *ref, int64_t *ret_id, int64_t *ret_incident);
/* 1 in *ret when incident `id` is a tabletop exercise's (issue 22,
 * docs/exercise.md): its messages never leave. */
int store_message_is_exercise(struct store *st, int64_t incident_id, int *ret);
/* 1 in *ret when incident `id` has a message of `kind` (any state). */
int store_message_has_kind(struct store *st, int64_t incident_id, const char *kind, int *ret);

struct store_reply_rec {
    int64_t message_id, incident_id;
    const char *sender, *subject, *body;
    int64_t received_us;
    const char *received_by;
};
int store_reply_add(struct store *st, const struct store_reply_rec *r, int64_t *ret_id);
int store_replies_json(struct store *st, int64_t message_id, struct buf *out, size_t *ret_n);

/* TLP markings of an incident's fields: set one (upsert), list them as
 * {"field": "tlp"} members (comma-separated), read one (*ret "" when
 * unset; size at least 16). */
int store_marking_set(struct store *st, int64_t incident_id, const char *field, const char *tlp);
int store_markings_json(struct store *st, int64_t incident_id, struct buf *out);
int store_marking_get(struct store *st, int64_t incident_id, const char *field, char *ret,
                      size_t size);

/* The impact record (JSON written by impact_json) and its recommended
 * level; the record as stored, or -ENOENT. */
struct store_impact_rec {
    const char *record, *recommended, *impact_text, *threats_text, *who;
    int64_t now_us;
};
int store_impact_put(struct store *st, int64_t incident_id, const struct store_impact_rec *r);
int store_impact_json(struct store *st, int64_t incident_id, struct buf *out);
/* The texts of the analysis (appended; -ENOENT when there is none). */
int store_impact_texts(struct store *st, int64_t incident_id, struct buf *impact,
                       struct buf *threats);

struct store_cm_rec {
    int64_t incident_id;
    const char *function, *title, *owner;
    int64_t due_us; /* 0: none */
    int64_t created_us;
    const char *created_by;
};
int store_cm_add(struct store *st, const struct store_cm_rec *c, int64_t *ret_id);
/* Sets the state (and verification, when not NULL; the verifier with
 * "verified") of countermeasure `id` of incident `incident_id`; *ret_old
 * (size >= 16) gets the state it had. */
int store_cm_update(struct store *st, int64_t incident_id, int64_t id, const char *state,
                    const char *verification, const char *who, int64_t now_us, char *ret_old,
                    size_t old_size);
int store_cms_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n);
int store_cm_json(struct store *st, int64_t id, struct buf *out);

/* The e-mail address ("" when none) and name of contact `id`. */
int store_contact_addr(struct store *st, int64_t id, char *ret_email, size_t email_size,
                       char *ret_name, size_t name_size);
/* The contact whose role (first) or name is `key` and who has an e-mail
 * address, vertical contacts first: -ENOENT when none. */
int store_contact_by_key(struct store *st, const char *key, int64_t *ret_id);

#endif
