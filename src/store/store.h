/*
 * store.h - the one interface to persistent state.
 *
 * SQLite by default (store_sqlite.c, the only file that includes sqlite3.h).
 * Holds events (until the archive lands), alerts, aggregated alerts and
 * incidents from triage, input offsets, counters, named state blobs, and a
 * schema version with forward migrations.  One struct store is used by
 * one thread at a time; the pipeline owns the daemon's.
 *
 * Functions return 0 or a negative errno: -ENOENT not found, -EIO a
 * database error (store_errmsg() says which), -ENOMEM, -EBUSY when the
 * database stayed locked past the busy timeout.
 */
#ifndef HIKESHI_STORE_STORE_H
#define HIKESHI_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct alert;
struct buf;
struct event;
struct file_pos;
struct store;

/* The schema version this build writes; store_open migrates older ones. */
#define STORE_SCHEMA_VERSION 20

/*
 * Opens (creating if needed) the store under directory `dir`, which is
 * created with mode 0750 if missing.  The database is `dir`/hikeshi.db in
 * WAL mode.  Applies pending migrations in one transaction each.  On failure
 * returns a negative errno and, if `reterr` is not NULL, a static or
 * store-independent message in *reterr (heap; the caller frees it).
 * A database whose schema is newer than this build is refused (-EPROTO).
 */
int store_open(const char *dir, struct store **ret, char **reterr);
/* Closes the store.  NULL is a no-op. */
void store_free(struct store *st);
/* The last error's text; valid until the next call on `st`. */
const char *store_errmsg(struct store *st);
/* The schema version of the open database. */
int store_schema_version(struct store *st);

/* Transactions: writes between begin and commit are atomic.  Nesting is
 * not supported (-EBUSY).  Commit with no open transaction is -EINVAL (SQLite
 * may have rolled back by itself after an I/O error: the writes are lost).
 * Rollback with nothing open is a no-op returning 0. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/*
 * Stores an event: receive time, event time, input name, decoder (NULL for
 * unparsed), the raw text and the fields as a JSON object.  *ret_id (if not
 * NULL) gets its row id.
 */
int store_event_add(struct store *st, const struct event *ev, const char *input_name,
                    int64_t *ret_id);
/* Stores an alert with its rule, event fields and raw text; `event_id` is
 * the stored event's row id or 0. */
int store_alert_add(struct store *st, const struct alert *a, int64_t event_id, int64_t *ret_id);
/*
 * The record id (a collector's "NAME:NUMBER", docs/scale.md) of the events
 * and rule alerts stored next; NULL: none (the all-in-one daemon, scan).
 * Borrowed until the next call.  With an id, an event whose id the store
 * already holds, or a rule alert whose id and rule it holds (a record the
 * stream delivered again), is not stored twice: store_event_add and
 * store_alert_add return STORE_DUPLICATE and *ret_id 0.
 */
void store_set_record_id(struct store *st, const char *id);
#define STORE_DUPLICATE 1

/* Saved position of file input `input_name`, and the path it was reading
 * in *ret_path (heap; the caller frees it).  -ENOENT if none was saved. */
int store_offset_get(struct store *st, const char *input_name, char **ret_path,
                     struct file_pos *ret);
/* Saves the position (replacing the previous one for that input). */
int store_offset_set(struct store *st, const char *input_name, const char *path,
                     const struct file_pos *pos);

/* Named counters that survive restarts (totals per input and stage). */
int store_counter_set(struct store *st, const char *name, uint64_t value);
int store_counter_get(struct store *st, const char *name, uint64_t *ret);

/* Counts, for tests, the CLI and health. */
int store_event_count(struct store *st, int64_t *ret);
int store_alert_count(struct store *st, int64_t *ret);
int store_incident_count(struct store *st, int64_t *ret);

/* An alert that is not one event's match (a correlation hit, an anomaly):
 * its fields are given as a JSON object.  Strings are borrowed. */
struct store_alert_rec {
    const char *kind; /* "rule", "correlation", "anomaly" */
    int64_t created_us, time_us;
    const char *rule_id, *rule_title, *rule_author, *rule_level, *input;
    const char *fields_json; /* JSON object; NULL: {} */
    size_t fields_len;
    const char *raw; /* text shown for it (may be NULL) */
    size_t raw_len;
    int64_t agg_id; /* aggregated alert it was folded into, or 0 */
};
int store_alert_add_rec(struct store *st, const struct store_alert_rec *a, int64_t *ret_id);

/* An aggregated alert, inserted or updated by id (triage's id). */
struct store_agg_rec {
    int64_t id;
    const char *kind, *rule_id, *rule_name, *rule_title;
    int level; /* 1 informational .. 5 critical */
    const char *entity_key;
    uint64_t count;
    int64_t first_us, last_us;
    int64_t incident_id; /* 0: none */
    const char *type;    /* incident type it implies, or NULL */
    int64_t created_us;  /* wall clock of its first storing (0: now); an update keeps it */
};
int store_agg_put(struct store *st, const struct store_agg_rec *a);
/* Records that alert `alert_id` was folded into aggregated alert `agg_id`. */
int store_alert_set_agg(struct store *st, int64_t alert_id, int64_t agg_id);

/* An incident as triage proposes it, inserted or updated by id; created_us
 * is set on insert only, and the phase is left to incident management. */
struct store_incident_rec {
    int64_t id;
    const char *entity_key, *type, *level, *stage;
    const char *stages_json, *victims_json; /* JSON arrays, may be NULL */
    const char *category, *criticality;
    int risk_opened;
    const char *why; /* why triage opened it, or NULL; kept from its first storing */
    int64_t first_us, last_us;
    uint64_t nalerts, nevents;
    int64_t updated_us;
};
int store_incident_put(struct store *st, const struct store_incident_rec *in);

/* The largest id stored (0 when none): a new triage state numbers on from
 * there so that ids stay unique across restarts. */
int store_agg_max_id(struct store *st, int64_t *ret);
int store_incident_max_id(struct store *st, int64_t *ret);

/* Named blobs that survive restarts (anomaly baselines).  get: *ret is a
 * heap copy the caller frees; -ENOENT when none was saved. */
int store_state_set(struct store *st, const char *name, const void *val, size_t len);
int store_state_get(struct store *st, const char *name, void **ret, size_t *ret_len);

/* API users: name unique (-EEXIST), role "viewer", "analyst", "lead" or "admin",
 * an Argon2id string or NULL. */
int store_user_add(struct store *st, const char *name, const char *role, const char *pw_hash,
                   int64_t *ret_id);
/* User `name`: id, role and password hash (heap strings; *ret_pw_hash
 * NULL for a tokens-only user); -ENOENT. */
int store_user_get(struct store *st, const char *name, int64_t *ret_id, char **ret_role,
                   char **ret_pw_hash);
/* Keeps the hash of a token (never the token) for user `user_id`, valid
 * until expires_us (wall-clock µs; 0: until revoked, which hikeshi itself
 * never asks for since schema 10).  Removes the expired tokens first. */
int store_token_add(struct store *st, int64_t user_id, const unsigned char *hash, size_t hash_len,
                    const char *label, int64_t expires_us);
/* Deletes every token and session expired at now_us. */
int store_token_prune(struct store *st, int64_t now_us);
/* The user and role a token hash belongs to (heap strings the caller
 * frees) and, when ret_expires_us is not NULL, when it expires (0: never);
 * -ENOENT when no token has that hash, it expired, or its user is
 * disabled. */
int store_token_find(struct store *st, const unsigned char *hash, size_t hash_len,
                     char **ret_user, char **ret_role, int64_t *ret_expires_us);
/* A web console session: a token of `user_id` labelled "session" that
 * store_token_find refuses from `expires_us` on.  Removes the sessions
 * already expired on the way. */
int store_session_add(struct store *st, int64_t user_id, const unsigned char *hash,
                      size_t hash_len, int64_t expires_us);
/* Deletes the token with that hash (logout); -ENOENT when there is none. */
int store_token_revoke_hash(struct store *st, const unsigned char *hash, size_t hash_len);

/* Incidents as JSON objects (id, entity, type, level, phase, stage,
 * stages, category, criticality, risk_opened, why, first, last, alerts, events,
 * victims, created, updated). */
/* A phase's time target for incidents of one category and level (names
 * as stored: phase "new", category "A".."D" or "" for none, level
 * "Green".."Red"). */
struct store_target {
    const char *phase, *category, *level;
    int64_t us;
};

struct store_incident_filter {
    const char *type, *phase, *level; /* NULL: any */
    int64_t limit, offset;
    /* With targets: most urgent first (store_incident_ids): level, Red
     * first, then the nearest deadline (the phase's start plus its target
     * here; none last), then newest.  NULL: newest first. */
    const struct store_target *targets;
    size_t ntargets;
};
/* Appends the incidents matching `f`, newest first, comma-separated (the
 * caller writes the brackets); *ret_n gets how many. */
int store_incident_list_json(struct store *st, const struct store_incident_filter *f,
                             struct buf *out, size_t *ret_n);
/* Appends incident `id` as one object; -ENOENT when there is none. */
int store_incident_get_json(struct store *st, int64_t id, struct buf *out);

/* ------------------------------------------------------------------ */
/* Incident management (store_incident.c, schema 4)                   */
/*
 * The JSON these functions append is built by SQLite (times as UTC ISO
 * 8601 strings); the list functions append objects comma-separated and the
 * caller writes the brackets.  Strings given are borrowed for the call.
 */

/* Triage's columns of an incident and the CSIRT's record, if any.  Heap
 * strings (NULL when the column is); store_incident_row_done frees them. */
struct store_incident_row {
    int64_t id;
    char *entity_key, *proposed_type, *proposed_level, *proposed_category;
    char *phase, *stages_json, *victims_json;
    char *record;     /* incident_to_json text; NULL until the CSIRT keeps one */
    uint64_t version; /* the record's; 0 without one */
    int64_t created_us, first_us, last_us;
};
/* -ENOENT when there is no incident `id`. */
int store_incident_row_get(struct store *st, int64_t id, struct store_incident_row *ret);
void store_incident_row_done(struct store_incident_row *r);

/* The values of the record that lists filter on. */
struct store_record_cols {
    const char *type, *level, *category, *phase;
};
/* Saves the record of incident `id` if its stored version is still
 * `expect` (0: no record yet); else -ESTALE and nothing changes.  -ENOENT
 * when there is no such incident. */
int store_record_put(struct store *st, int64_t id, const char *json, uint64_t version,
                     uint64_t expect, const struct store_record_cols *c);
/* Opens an incident without triage (by hand, intake): the next free id,
 * no grouping entity, no alerts.  The caller saves its record next, in the
 * same transaction. */
int store_incident_new(struct store *st, const struct store_record_cols *c, int64_t now_us,
                       int64_t *ret_id);
/* Ids of the incidents matching `f` (limit/offset applied; open_only:
 * phase not closed), newest first or by f->targets, into ids[0..max).
 * -E2BIG past STORE_TARGETS_MAX targets. */
#define STORE_TARGETS_MAX 200
int store_incident_ids(struct store *st, const struct store_incident_filter *f, int open_only,
                       int64_t *ids, size_t max, size_t *ret_n);
/* Aggregated alerts linked to incident `id`, oldest first, into ids. */
int store_incident_agg_ids(struct store *st, int64_t id, uint64_t *ids, size_t max,
                           size_t *ret_n);

int store_timeline_add(struct store *st, int64_t incident_id, int64_t time_us, uint64_t version,
                       const char *who, const char *what, const char *from, const char *to,
                       const char *reason);
int store_timeline_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n);
/* One timeline entry as store_timeline_each gives it (borrowed strings,
 * any but who and what may be NULL). */
struct store_timeline_rec {
    int64_t time_us;
    uint64_t version;
    const char *who, *what, *from, *to, *reason;
};
/* Calls fn for each entry, oldest first; stops at fn's first negative
 * return and returns it. */
int store_timeline_each(struct store *st, int64_t incident_id,
                        int (*fn)(void *ctx, const struct store_timeline_rec *t), void *ctx);

int store_note_add(struct store *st, int64_t incident_id, int64_t time_us, const char *who,
                   const char *text, int64_t *ret_id);
int store_notes_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n);
/* One note by its id; -ENOENT. */
int store_note_json(struct store *st, int64_t note_id, struct buf *out);

struct store_task_rec {
    uint32_t id;
    const char *phase, *title, *description, *owner, *assignee, *done_by;
    int required, added, done;
    int64_t done_us;
    const char *function; /* a NIST CSF function name; NULL or "": none */
    int64_t due_us;       /* 0: no deadline */
    const char *box;      /* NULL: the playbook of the type or a person */
};
/* Inserts or replaces task rec->id of the incident. */
int store_task_put(struct store *st, int64_t incident_id, const struct store_task_rec *t);
/* Calls fn for each task of the incident in id order; stops at fn's
 * first negative return and returns it. */
int store_tasks_each(struct store *st, int64_t incident_id,
                     int (*fn)(void *ctx, const struct store_task_rec *t), void *ctx);
int store_tasks_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n);
/* One task of the incident; -ENOENT. */
int store_task_json(struct store *st, int64_t incident_id, int64_t task, struct buf *out);

struct store_comm_rec {
    int64_t contact_id; /* 0: none */
    const char *party, *channel, *direction, *summary, *who;
    int64_t time_us;
};
int store_comm_add(struct store *st, int64_t incident_id, const struct store_comm_rec *c,
                   int64_t *ret_id);
int store_comms_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n);
int store_comm_json(struct store *st, int64_t comm_id, struct buf *out);

struct store_contact_rec {
    const char *name, *kind, *organisation, *role, *email, *phone, *notes, *created_by;
    int64_t created_us;
    /* When it may be called (availability.h); NULL: none / unchanged. */
    const char *quiet_hours, *on_call, *timezone;
};
int store_contact_add(struct store *st, const struct store_contact_rec *c, int64_t *ret_id);
int store_contacts_json(struct store *st, struct buf *out, size_t *ret_n);
/* -ENOENT when there is no contact `id`. */
int store_contact_json(struct store *st, int64_t id, struct buf *out);
/* Sets the members of c that are not NULL (created_* unused); -ENOENT. */
int store_contact_update(struct store *st, int64_t id, const struct store_contact_rec *c);
/* Deletes contact `id`: its communications keep its name as the party,
 * messages their recipient, only the link goes; -ENOENT. */
int store_contact_delete(struct store *st, int64_t id);
/* The contact's name into ret (truncated to size); -ENOENT. */
int store_contact_name(struct store *st, int64_t id, char *ret, size_t size);
/* The incidents that communicated with contact `id`, with their record's
 * version, into a heap array (*ret, freed by the caller; NULL when none). */
struct store_contact_inc {
    int64_t incident;
    uint64_t version;
};
int store_contact_incidents(struct store *st, int64_t id, struct store_contact_inc **ret,
                            size_t *ret_n);

/* The escalation clock's state (store_clock.c, docs/incident.md): the last
 * step fired for the deadline of `phase` begun at since_us (0: none). */
int store_clock_step(struct store *st, int64_t incident_id, const char *phase, int64_t since_us,
                     int *ret_step);
/* Records `step` as fired when it is past the last one; -ESTALE when it is
 * not (fired already: by another run, or before a restart). */
int store_clock_advance(struct store *st, int64_t incident_id, const char *phase,
                        int64_t since_us, int64_t due_us, int step, int64_t now_us);
/* The contacts a chain entry names, best first: those whose role it is
 * (vertical contacts first, then by id), then whose name it is; at most
 * STORE_CLOCK_CANDIDATES.  fn gets each: its JSON object without notes,
 * its name and when it may be called (NULL: not said); stops at fn's first
 * non-zero return and returns it.  -ENOENT when none. */
#define STORE_CLOCK_CANDIDATES 32
struct store_clock_cand {
    const char *json, *name, *quiet_hours, *on_call, *timezone, *email;
};
int store_clock_contacts(struct store *st, const char *who,
                         int (*fn)(void *ctx, const struct store_clock_cand *c), void *ctx);

/* ---- the responsible person's approval queue (store_lead.c, issue 25) ---- */

/* A change an analyst asked for, waiting for the responsible person
 * (decider; NULL: any lead or admin).  Strings borrowed for the call. */
struct store_approval_rec {
    int64_t incident_id;
    const char *requested_by, *what, *body, *decider;
    int64_t requested_us;
};
/* Adds it in state pending; *ret_id its id. */
int store_approval_add(struct store *st, const struct store_approval_rec *a, int64_t *ret_id);
/* The newest 1000 approvals in `state` (NULL: any), newest first, as
 * comma-separated JSON objects (docs/api.md "Approvals"). */
int store_approvals_json(struct store *st, const char *state, struct buf *out, size_t *ret_n);
/* Approval `id` as one JSON object; -ENOENT when there is none. */
int store_approval_json(struct store *st, int64_t id, struct buf *out);
/* Its incident, state, requester and PATCH body (heap strings the caller
 * frees); -ENOENT. */
int store_approval_get(struct store *st, int64_t id, int64_t *ret_incident, char **ret_state,
                       char **ret_requested_by, char **ret_body);
/* Moves a pending approval to `state` (approved, rejected) with who
 * answered and the note (may be NULL); -ESTALE when it is not pending. */
int store_approval_decide(struct store *st, int64_t id, const char *state, const char *who,
                          int64_t now_us, const char *note);

/* Adds the next version of report `kind` of the incident (html may be
 * NULL: an edited text). */
int store_report_add(struct store *st, int64_t incident_id, const char *kind, int edited,
                     const char *author, int64_t now_us, const char *markdown, const char *html,
                     int64_t *ret_id);
/* The version store_report_add gives the next report of `kind`. */
int store_report_next_version(struct store *st, int64_t incident_id, const char *kind,
                              int64_t *ret);
/* Metadata (id, kind, version, edited, author, created) of one report of
 * the incident / of all of them. */
int store_report_meta_json(struct store *st, int64_t incident_id, int64_t report_id,
                           struct buf *out);
int store_reports_json(struct store *st, int64_t incident_id, struct buf *out, size_t *ret_n);
/* The texts (heap; *ret_html NULL for an edited version) and kind (heap)
 * of a report of the incident; -ENOENT. */
int store_report_text(struct store *st, int64_t incident_id, int64_t report_id, char **ret_kind,
                      char **ret_markdown, char **ret_html);

int store_declare_add(struct store *st, const char *category, const char *level,
                      const char *who, const char *why, int64_t time_us);
/* {"A": DECL|null, ..., "D": ...} with the latest declaration of each. */
int store_declared_current_json(struct store *st, struct buf *out);
int store_declared_history_json(struct store *st, struct buf *out, size_t *ret_n);
/* The latest declaration; -ENOENT when there is none. */
int store_declared_last_json(struct store *st, struct buf *out);

struct store_risk_rec {
    int64_t time_us;
    double a, b, c, d, value;
    const char *live_json; /* JSON array of the inputs taken from live data */
    const char *who, *note;
};
int store_risk_add(struct store *st, const struct store_risk_rec *r, int64_t *ret_id);
/* Oldest first; at most `limit` of the newest samples. */
int store_risk_json(struct store *st, int64_t limit, struct buf *out, size_t *ret_n);
/* Live inputs of the risk meter at now_us: A the open incidents weighted
 * by level (Green 1, Yellow 2, Orange 5, Red 10), D the aggregated alerts
 * seen in the hour before now_us. */
int store_risk_live(struct store *st, int64_t now_us, double *ret_a, double *ret_d);

/* The entities incidents name (triage's grouping entity and victims, and
 * those in the CSIRT's records), one object per value and role with the
 * incidents it is in, most incidents first. */
int store_entities_json(struct store *st, int64_t limit, int64_t offset, struct buf *out,
                        size_t *ret_n);

/* A suppression made through the API: `yaml` is a triage `suppress:`
 * document (triage_opts_load_suppress) holding one entry. */
struct store_supp_rec {
    int64_t id; /* set by store_supp_each */
    int64_t created_us, expires_us, alert_id;
    const char *who, *reason, *yaml;
    int64_t lifted_us; /* set by the readers: when it was lifted, 0 if not (schema 8) */
    int64_t lift_seq;  /* the lift's number (store_supp_each_lifted), 0 if not lifted */
};
int store_supp_add(struct store *st, const struct store_supp_rec *s, int64_t *ret_id);
int store_supp_set_yaml(struct store *st, int64_t id, const char *yaml);
/* All of them, with `active` (not expired at now_us and not lifted) and
 * `lifted`, `lifted_by` (null until lifted). */
int store_supps_json(struct store *st, int64_t now_us, struct buf *out, size_t *ret_n);
int store_supp_json(struct store *st, int64_t id, int64_t now_us, struct buf *out);
/* Calls fn for each suppression with an id above `after`, in id order
 * (lifted ones too: rec->lifted_us says). */
int store_supp_each(struct store *st, int64_t after,
                    int (*fn)(void *ctx, const struct store_supp_rec *s), void *ctx);
/* Lifts suppression `id` by `who` at now_us: it stops applying, and gets
 * the next lift number.  -ENOENT when there is none, -ESTALE when it was
 * lifted already or has expired at now_us (nothing left to lift). */
int store_supp_lift(struct store *st, int64_t id, const char *who, int64_t now_us);
/* Calls fn for each suppression lifted with a lift number above `after`,
 * in lift order (rec->lift_seq set), so that a reader that remembers the
 * last number sees each lift once. */
int store_supp_each_lifted(struct store *st, int64_t after,
                           int (*fn)(void *ctx, const struct store_supp_rec *s), void *ctx);
/* The rule (id, else name) and entity key of aggregated alert `id`
 * (heap strings); -ENOENT. */
int store_agg_rule_key(struct store *st, int64_t id, char **ret_rule, char **ret_key);

struct store_agg_filter {
    const char *rule;     /* rule name or id; NULL: any */
    int min_level;        /* 0: any */
    int64_t incident_id;  /* 0: any */
    int acknowledged;     /* -1 any, 0 not, 1 yes */
    const char *entity;   /* one of the entities: "source.ip=203.0.113.9" or "203.0.113.9"; NULL: any */
    const char *q;        /* a part of title, rule or entity key, any case; NULL: any */
    int64_t since_us, until_us; /* last seen within (event time); 0: open */
    int64_t limit, offset;
};
int store_agg_list_json(struct store *st, const struct store_agg_filter *f, struct buf *out,
                        size_t *ret_n);
/* The ids of the aggregated alerts `f` keeps (limit and offset aside),
 * lowest first, into ids[0..max); *ret_total gets how many it keeps in
 * all (more than max: only max were written). */
int store_agg_ids(struct store *st, const struct store_agg_filter *f, int64_t *ids, size_t max,
                  size_t *ret_n, int64_t *ret_total);
/* How many aggregated alerts `f` keeps (limit and offset aside), as a JSON
 * number appended to `out`. */
int store_agg_count_json(struct store *st, const struct store_agg_filter *f, struct buf *out);
/* -ENOENT when there is no aggregated alert `id`. */
int store_agg_json(struct store *st, int64_t id, struct buf *out);
/* The alerts folded into aggregated alert `id`, with their events' fields
 * and raw records, oldest first: {"id", "time", "rule_id", "title", "kind",
 * "input", "fields", "raw"} (raw as text, bytes that are not UTF-8 as
 * \u00XX).  -ENOENT when there is no aggregated alert `id`. */
int store_agg_events_json(struct store *st, int64_t id, int64_t limit, int64_t offset,
                          struct buf *out, size_t *ret_n);
int store_agg_ack(struct store *st, int64_t id, const char *who, int64_t now_us);
int store_agg_attach(struct store *st, int64_t id, int64_t incident_id);

/* ---- the web console (store_console.c, store_user.c, schema 8, 10) ----
 *
 * Counts for the dashboard, hit counts per rule, and the admin page's
 * users and tokens.  Times are wall-clock µs; windows are [since, until). */

/* What arrived in the window, by the time it was stored: records
 * (events.recv_us; 0 when events are not stored), alerts raised, aggregated
 * alerts and incidents created.  Each is one range count over an index. */
struct store_funnel {
    int64_t records, alerts, aggregated, incidents;
};
int store_funnel(struct store *st, int64_t since_us, int64_t until_us, struct store_funnel *ret);
/* Alerts raised in each of `n` buckets of `width_us` from since_us into
 * ret_counts[0..n), empty buckets as 0.  -EINVAL when n or width is 0. */
int store_alert_rate(struct store *st, int64_t since_us, int64_t width_us, size_t n,
                     int64_t *ret_counts);

/* The open incidents (phase not closed) by their current level and
 * category; an incident of no known category counts in `total` only. */
struct store_open_counts {
    int64_t total;
    int64_t by_level[4];    /* Green, Yellow, Orange, Red */
    int64_t by_category[4]; /* A, B, C, D */
};
int store_open_counts(struct store *st, struct store_open_counts *ret);

/* The entities the open incidents name (as store_entities_json finds
 * them), riskiest first, at most `limit`: {"value", "kind" (address, host,
 * user), "role", "risk", "incidents"}.  Risk is the sum over those
 * incidents of their level's weight, Green 1, Yellow 2, Orange 5, Red 10
 * (the risk meter's weights); incidents is how many they are. */
int store_entity_risk_json(struct store *st, int64_t limit, struct buf *out, size_t *ret_n);

/* Alerts raised per rule id, all time: one pass over an index. */
struct store_rule_hits {
    char *rule_id; /* owned */
    int64_t hits;
    int64_t last_us; /* the newest alert's created_us */
};
/* At most this many rule ids are read (-E2BIG past it). */
#define STORE_RULE_HITS_MAX 100000
/* *ret (heap, free with store_rule_hits_free) sorted by rule_id (strcmp
 * order), alerts without a rule id left out. */
int store_rule_hits(struct store *st, struct store_rule_hits **ret, size_t *ret_n);
void store_rule_hits_free(struct store_rule_hits *h, size_t n);

/* Users as {"id", "name", "role", "created", "has_password", "disabled",
 * "last_login" (null: never), "tokens"}, tokens counting those still valid
 * at now_us (sessions included); by id. */
int store_users_json(struct store *st, int64_t now_us, struct buf *out, size_t *ret_n);
/* One user; -ENOENT. */
int store_user_json(struct store *st, int64_t id, int64_t now_us, struct buf *out);
/* Name and role of user `id` (heap strings the caller frees); -ENOENT. */
int store_user_get_id(struct store *st, int64_t id, char **ret_name, char **ret_role);
/* Sets the role and/or the password hash (NULL: unchanged) of user `id`;
 * -ENOENT. */
int store_user_update(struct store *st, int64_t id, const char *role, const char *pw_hash);
/* Deletes user `id` and with it its tokens and sessions; -ENOENT. */
int store_user_delete(struct store *st, int64_t id);
/* One user for `hikeshi user list`: never its password hash. */
struct store_user_info {
    int64_t id;
    char name[128]; /* cut short past 127 bytes (names are at most 64) */
    char role[16];
    int disabled, has_password;
    int64_t created_us, last_login_us; /* last_login_us 0: never */
    int64_t tokens;                    /* tokens and sessions valid at now_us */
};
/* User `name` into *ret; -ENOENT. */
int store_user_find(struct store *st, const char *name, int64_t now_us,
                    struct store_user_info *ret);
/* Every user by id into *ret (heap, free(); NULL when none); at most
 * STORE_USERS_MAX (-E2BIG past it). */
#define STORE_USERS_MAX 100000
int store_user_list(struct store *st, int64_t now_us, struct store_user_info **ret, size_t *ret_n);
/* Disables (1) or enables (0) user `id`: a disabled user cannot log in
 * and store_token_find refuses its tokens.  -ENOENT. */
int store_user_set_disabled(struct store *st, int64_t id, int disabled);
/* Notes a successful login of user `id` at now_us. */
int store_user_set_login(struct store *st, int64_t id, int64_t now_us);
/* Revokes every token and session of user `user_id` (*ret_n: how many,
 * may be NULL).  No tokens is not an error. */
int store_tokens_revoke_user(struct store *st, int64_t user_id, int64_t *ret_n);
/* The audit entries that wait for the audit log (schema 10): a change
 * made while another process holds the log is stored with its entry in
 * one transaction, and the log's holder appends it later. */
int store_outbox_add(struct store *st, const char *actor, const char *action, const char *object,
                     const char *details);
/* Calls append() on each waiting entry, oldest first, and deletes each one
 * it returned 0 for; stops at the first error and returns it.  An entry
 * appended whose delete then fails is appended again next time (at least
 * once, never lost).  *ret_n (may be NULL): how many were appended. */
int store_outbox_drain(struct store *st,
                       int (*append)(void *ctx, const char *actor, const char *action,
                                     const char *object, const char *details),
                       void *ctx, size_t *ret_n);
/* ---- the evidence register (schema 11, store_evidence.c) ---- */
/* The next item number (one past the largest); call inside a transaction. */
int store_evidence_next_id(struct store *st, int64_t *ret);
/* Adds item `id` with its record (one JSON object, fixed from now on) and
 * its links to incidents.  -EEXIST when the number is taken. */
int store_evidence_item_add(struct store *st, int64_t id, const char *sha256, const char *record,
                            const int64_t *incidents, size_t n_incidents);
/* Appends item `id`'s record to `out`; -ENOENT when there is none. */
int store_evidence_item_get(struct store *st, int64_t id, struct buf *out);
/* Appends the records of every item (incident 0) or of those linked to
 * `incident`, comma-separated, oldest first; *ret_n how many. */
int store_evidence_items(struct store *st, int64_t incident, struct buf *out, size_t *ret_n);
/* Item numbers as above, into ret[0..cap); *ret_n how many there are. */
int store_evidence_item_ids(struct store *st, int64_t incident, int64_t *ret, size_t cap,
                            size_t *ret_n);
/* Adds custody entry `seq` of item `id` (its whole line). */
int store_evidence_custody_add(struct store *st, int64_t id, uint64_t seq, const char *line);
/* Appends item `id`'s custody lines, comma-separated, in order. */
int store_evidence_custody(struct store *st, int64_t id, struct buf *out, size_t *ret_n);
/* Adds the seal line of `epoch`; -EEXIST when that epoch has one. */
int store_evidence_seal_add(struct store *st, uint64_t epoch, const char *line);
/* Appends the seal lines of epochs below `below`, comma-separated, in
 * order (UINT64_MAX: all). */
int store_evidence_seals(struct store *st, uint64_t below, struct buf *out, size_t *ret_n);
/* The number of seals (one past the last epoch when none is missing) and
 * the last epoch + 1 (0 when there are none). */
int store_evidence_seal_count(struct store *st, uint64_t *ret_count, uint64_t *ret_next);
/* Tokens of user `user_id` still valid at now_us, oldest first:
 * {"id", "label", "created", "expires" (null: until revoked), "session"}. */
int store_tokens_json(struct store *st, int64_t user_id, int64_t now_us, struct buf *out,
                      size_t *ret_n);
/* A token as store_token_add keeps it, made at now_us and valid until
 * expires_us (0: until revoked); *ret_id its id. */
int store_token_add_id(struct store *st, int64_t user_id, const unsigned char *hash,
                       size_t hash_len, const char *label, int64_t now_us, int64_t expires_us,
                       int64_t *ret_id);
/* Replaces the API token of hash old_hash by one of new_hash with the same
 * owner and label, made at now_us and valid until expires_us; *ret_id (may
 * be NULL) the new one's id.  -ENOENT when there is no such token or it is
 * a session.  Call inside a transaction: it is an insert and a delete. */
int store_token_rotate(struct store *st, const unsigned char *old_hash,
                       const unsigned char *new_hash, size_t hash_len, int64_t now_us,
                       int64_t expires_us, int64_t *ret_id);
/* Owner, label (heap; NULL when none) and hash of token `id`; -ENOENT. */
int store_token_get(struct store *st, int64_t id, int64_t *ret_user_id, char **ret_label,
                    unsigned char *hash_out, size_t hash_len);
/* Deletes token `id`; -ENOENT. */
int store_token_revoke(struct store *st, int64_t id);

/* ---- responses (issue 6): what the response engine decided and did ----
 *
 * One row per decision other than "no policy rule matches": an action
 * done (or logged, in dry run), refused with its reason, or waiting for a
 * person in the approval queue.  States:
 *   pending  -> approved | rejected   (an analyst, through the API)
 *   approved -> done | failed | refused (the engine takes it up and acts)
 *   done, failed, refused, dry_run, rejected: final.
 * A block stays "done" after it expires or is lifted; `lift_by` records a
 * request to lift it by hand, `lifted` that the engine removed it.
 * All times are wall-clock µs. */
struct store_resp_rec {
    int64_t id; /* set by readers */
    int64_t created_us, updated_us;
    const char *state;
    const char *policy_rule;   /* name of the matching policy rule */
    const char *kind;          /* rule, correlation, anomaly, incident */
    const char *rule_id, *rule_name; /* may be NULL */
    const char *correlation;   /* correlation type; may be NULL */
    int level;                 /* 1..5, 0 unknown */
    const char *incident_type; /* triage type name; may be NULL */
    const char *address;       /* the address acted on; may be NULL */
    int udp_only, corroborated; /* the evidence, as the decision saw it */
    const char *actions;       /* "block,webhook,mail,exec" (the ones asked) */
    const char *mode;          /* auto, approve */
    int64_t agg_id, incident_id; /* the cause; 0: none */
    const char *reason;        /* the decision's sentence */
    const char *result;        /* JSON object, action name -> outcome; may be NULL */
    int64_t ban_us, expires_us; /* block: its length and end; 0 otherwise */
    const char *decided_by, *decision_note; /* approve/reject; may be NULL */
    int64_t decided_us;
    const char *lift_by; /* a request to lift the block; may be NULL */
    int64_t lift_us;
    int lifted;   /* 1: the engine removed the block before its expiry */
    int64_t seen; /* triggers folded into a pending row (>= 1) */
    int dry_run;
};
/* Inserts `r` (id, updated_us ignored: updated = created; seen 0 taken as 1). */
int store_resp_add(struct store *st, const struct store_resp_rec *r, int64_t *ret_id);
/* The pending row of the same policy rule for the same address (or, when
 * address is NULL, the same incident), so that repeated triggers wait as
 * one request: its id, or -ENOENT. */
int store_resp_pending_find(struct store *st, const char *policy_rule, const char *address,
                            int64_t incident_id, int64_t *ret_id);
/* seen += 1, updated = now. */
int store_resp_seen(struct store *st, int64_t id, int64_t now_us);
/* The engine's outcome: state, result (NULL keeps it), reason (NULL keeps
 * it), expires_us (0 keeps it).  -ENOENT. */
int store_resp_finish(struct store *st, int64_t id, const char *state, const char *result,
                      const char *reason, int64_t expires_us, int64_t now_us);
/* An analyst's answer: pending -> approved (approve = 1) or rejected, with
 * who, when and a note (may be NULL).  -ENOENT without the row, -ESTALE
 * when it is not pending (someone answered first). */
int store_resp_decide(struct store *st, int64_t id, int approve, const char *who,
                      const char *note, int64_t now_us);
/* A request to lift the block of row `id` before its expiry: the row must
 * be state done, not dry run, with block among its actions, expires_us >
 * now, not lifted and not already asked.  -ENOENT, -ESTALE otherwise. */
int store_resp_lift_request(struct store *st, int64_t id, const char *who, int64_t now_us);
/* The engine removed the block (lifted = 1, updated = now). */
int store_resp_lifted(struct store *st, int64_t id, int64_t now_us);
/* Rows the engine must take up, oldest first: state approved / a lift
 * asked and not done.  fn gets borrowed strings; stops at its first
 * negative return and returns it. */
int store_resp_each_approved(struct store *st,
                             int (*fn)(void *ctx, const struct store_resp_rec *r), void *ctx);
int store_resp_each_lift(struct store *st, int (*fn)(void *ctx, const struct store_resp_rec *r),
                         void *ctx);
struct store_resp_filter {
    const char *state;   /* NULL: any */
    const char *address; /* NULL: any */
    int64_t incident_id; /* 0: any */
    int64_t limit, offset;
};
/* Newest first, as JSON objects with every column ("result" as JSON). */
int store_resps_json(struct store *st, const struct store_resp_filter *f, struct buf *out,
                     size_t *ret_n);
/* One row; -ENOENT. */
int store_resp_json(struct store *st, int64_t id, struct buf *out);
/* Calls fn for each block in force at now_us (as store_blocks_json
 * selects them), oldest first. */
int store_resp_each_block(struct store *st, int64_t now_us,
                          int (*fn)(void *ctx, const struct store_resp_rec *r), void *ctx);
/* Blocks in force at now_us (done, not dry run, block asked, expires_us >
 * now, not lifted), soonest expiry first: {"response", "address",
 * "expires", "ban_s", "policy_rule", "incident", "lift_requested"}. */
int store_blocks_json(struct store *st, int64_t now_us, struct buf *out, size_t *ret_n);

/* ---- tabletop exercises (store_exercise.c, issue 22, docs/exercise.md) ---- */

/* The pipeline marks what records of an exercise input made (kind "event",
 * "alert", "agg" or "incident", its row id, its time) in the same
 * transaction, so that the dashboard's counts leave them out and scoring
 * finds them.  0 or an error. */
int store_exercise_mark(struct store *st, const char *kind, int64_t id, int64_t time_us);

/* One run of a scenario (strings heap, store_exercise_run_done frees). */
struct store_exercise_run {
    int64_t id;
    char *scenario, *title, *file;
    char *state; /* running, done, stopped, failed */
    double speed;
    int64_t started_us, ended_us; /* wall clock; ended 0 while running */
    int64_t sent;                 /* records sent so far */
    int stop;                     /* 1: `exercise stop` asked it to stop */
    char *score;                  /* JSON of the last scoring, or NULL */
};
void store_exercise_run_done(struct store_exercise_run *r);
/* A new run in state running; *ret_id its id. */
int store_exercise_run_new(struct store *st, const char *scenario, const char *title,
                           const char *file, double speed, int64_t started_us, int64_t *ret_id);
/* Progress: sent records; state (NULL: unchanged) and ended_us (0:
 * unchanged) when it ends.  -ENOENT for no such run. */
int store_exercise_run_update(struct store *st, int64_t id, int64_t sent, const char *state,
                              int64_t ended_us);
/* Run `id`, or the latest one when id is 0.  -ENOENT. */
int store_exercise_run_get(struct store *st, int64_t id, struct store_exercise_run *ret);
/* The run an exercise input's record belongs to, for triage to keep
 * runs apart: the latest run still running, else the latest run; *ret_id
 * 0 when there is none.  0 or an error. */
int store_exercise_current(struct store *st, int64_t *ret_id);
/* Asks every running run to stop (the runner polls).  *ret_n: how many. */
int store_exercise_stop(struct store *st, int64_t *ret_n);
/* Keeps the JSON of a scoring on the run, for the trend. */
int store_exercise_set_score(struct store *st, int64_t id, const char *json);
/* Runs of `scenario` in id order; fn gets each (borrowed); stops at its
 * first negative return and returns it. */
int store_exercise_runs_each(struct store *st, const char *scenario,
                             int (*fn)(void *ctx, const struct store_exercise_run *r), void *ctx);
/* What the run did, for the console and the report's timeline: kind
 * "stage", "message", "delivery" (a message handed to the team's mail or
 * chat, and how it went), "record" (a summary), "end"; scen_us the
 * scenario time. */
int store_exercise_log_add(struct store *st, int64_t run_id, int64_t time_us, int64_t scen_us,
                           const char *kind, const char *stage, const char *who,
                           const char *channel, const char *text);
struct store_exercise_log {
    int64_t time_us, scen_us;
    const char *kind, *stage, *who, *channel, *text; /* borrowed; may be NULL */
};
int store_exercise_log_each(struct store *st, int64_t run_id,
                            int (*fn)(void *ctx, const struct store_exercise_log *l), void *ctx);
/* The console's banner: {"run": RUN, "messages": [LOG...]} of the run in
 * progress (its messages, newest first, at most 20), or "null". */
int store_exercise_active_json(struct store *st, struct buf *out);

/*
 * What the team and the pipeline did between since_us and until_us about
 * the exercise's objects, as facts for scoring, each with its wall time
 * and incident (0 none):
 *   alert     a = rule id, b = rule name             (marked alerts)
 *   incident  a = type, b = stages (JSON), c = category (marked incidents)
 *   timeline  a = what, b = to value, c = who        (of marked incidents)
 *   note      a = text
 *   task      a = title, b = description             (done tasks)
 *   comm      a = party, b = summary, c = channel    (outgoing)
 *   report    a = kind
 *   evidence  a = item id                            (items linked, at their add time)
 *   message   a = party, b = kind, c = state         (approved for sending, at approval)
 *   declare   a = category, b = level                (declarations in the window)
 * fn's strings are borrowed for the call.  Stops at fn's first negative
 * return.
 */
struct store_exercise_fact {
    const char *kind;
    int64_t time_us;
    int64_t incident_id;
    const char *a, *b, *c;
};
int store_exercise_facts(struct store *st, int64_t since_us, int64_t until_us,
                         int (*fn)(void *ctx, const struct store_exercise_fact *f), void *ctx);

#endif
