/*
 * casefile_priv.h - what the case file's files share (casefile.h is the
 * interface): the error helpers, the table-driven reader of request bodies,
 * the one transaction skeleton every change runs through, and loading the
 * record.  Included by src/incident/casefile*.c only.
 *
 * The files, one per resource of casefile.h:
 *   casefile.c           this header's helpers and casefile_change()
 *   casefile_incident.c  the incident shown, listed, created and updated
 *   casefile_tasks.c     the checklist
 *   casefile_notes.c     notes and communications
 *   casefile_report.c    reports
 *   casefile_alert.c     acknowledging, attaching and suppressing alerts
 *   casefile_intake.c    reports from people, contacts
 *   casefile_level.c     the declared level, the risk meter
 *   casefile_response.c  the approval queue, blocks lifted by hand
 *   casefile_lead.c      the responsible person: who decides, requests kept
 *   casefile_approval.c  the lead's approval queue answered
 */
#ifndef HIKESHI_INCIDENT_CASEFILE_PRIV_H
#define HIKESHI_INCIDENT_CASEFILE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "incident/casefile.h"
#include "incident/incident.h"
#include "incident/playbook.h"
#include "store/store.h"
#include "util/buf.h"

/* Fills *err (msg from fmt, the body offset or -1, the field or NULL) and
 * returns r. */
int casefile_fail(struct casefile_err *err, int r, long off, const char *field, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
/* A store error r told with the store's message ("out of memory" for
 * -ENOMEM); returns r. */
int casefile_store_fail(const struct casefile *cf, struct casefile_err *err, int r);

/* ------------------------------------------------------------------ */
/* Request bodies: flat objects described by a table                   */

enum casefile_kind {
    CASEFILE_STR,
    CASEFILE_STR_NULL,
    CASEFILE_I64,
    CASEFILE_NUM,
    CASEFILE_BOOL,
    CASEFILE_STRV,
    CASEFILE_I64V, /* an array of integers, at most `max` of them */
};

struct casefile_field {
    const char *name;
    enum casefile_kind kind;
    unsigned max; /* strings: bytes (each, for CASEFILE_STRV) */
    int required;
};

struct casefile_val {
    int have, is_null;
    char *s;     /* heap; CASEFILE_STRV: the strings joined by newlines */
    int64_t *iv; /* heap; CASEFILE_I64V: niv integers */
    size_t niv;
    int64_t i;
    double d;
    int b;
};

#define CASEFILE_NFIELDS(spec) (sizeof(spec) / sizeof((spec)[0]))

/*
 * Reads `body` as one object of the fields in spec[0..n) into vals (zeroed
 * here; the caller frees them with casefile_vals_free on success).
 * Unknown fields, duplicates, wrong types, strings past their cap and
 * missing required fields are refused (-EINVAL) with the offset and the
 * field; nothing is left to free then.
 */
int casefile_read_body(const char *body, size_t len, const struct casefile_field *spec, size_t n,
                       struct casefile_val *vals, struct casefile_err *err);
void casefile_vals_free(struct casefile_val *v, size_t n);
/* -EINVAL when the string value v[i], given, is empty. */
int casefile_nonempty(const struct casefile_field *spec, const struct casefile_val *v, size_t i,
                      struct casefile_err *err);
/* 1 when s is one of the NULL-terminated set. */
int casefile_one_of(const char *s, const char *const *set);

/* ------------------------------------------------------------------ */
/* The transaction every change runs in                                */

/*
 * One change of the case file.  The caller fills the first part and calls
 * casefile_run(), which begins the store transaction, loads `incident`
 * when asked, gives `act` the details buffer to write the audit entry's
 * JSON into, then appends the audit entry (who, action, object, details or
 * "{}") and commits; when act or the append fails, the transaction is
 * rolled back and nothing is kept.
 */
struct casefile_txn {
    const char *who;
    int64_t now_us;
    const char *action; /* "note.add" ...; act may change it */
    const char *object; /* the audit object; NULL: objbuf */
    char objbuf[64];    /* "incident/7" ...; act may write it */
    int64_t incident;   /* > 0: loaded into inc/row before act */
    /* With incident: the body field that named it, so that a missing one
     * is that field's fault (-EINVAL); NULL: -ENOENT. */
    const char *incident_field;
    size_t details_max;           /* cap of details; 0: AUDIT_DETAILS_MAX */
    const struct casefile_val *v; /* the request body's values, or NULL */

    /* Filled by casefile_run for act; freed by it afterwards. */
    struct incident inc;
    struct store_incident_row row;
    struct buf details;
};

/* act's return: nothing changed; roll back, write no audit entry, succeed. */
#define CASEFILE_TXN_NOTHING 1

/*
 * Runs t as above.  act returns 0 (commit), CASEFILE_TXN_NOTHING, or a
 * negative errno told in *err.  Returns 0 or that errno; a failed begin,
 * load, audit append or commit is told in *err too.
 */
int casefile_run(const struct casefile *cf, struct casefile_txn *t,
                 int (*act)(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                            struct casefile_err *err),
                 void *ctx, struct casefile_err *err);
/* "incident/ID", the audit object of a change to an incident. */
void casefile_object(char *obj, size_t size, int64_t id);
/* The audit details of a change: {"incident":ID,"version":V,"KEY":"EXTRA"}
 * (the last member only with extra_key). */
int casefile_details(struct buf *d, const struct incident *inc, const char *extra_key,
                     const char *extra);

/* ------------------------------------------------------------------ */
/* The record (casefile.c)                                             */

/* Loads incident `id`: its record or, when nobody changed it yet, the seed
 * from triage's proposal.  The caller frees inc (incident_done) and row
 * (store_incident_row_done) on success; -ENOENT "no such incident". */
int casefile_load(const struct casefile *cf, int64_t id, struct incident *inc,
                  struct store_incident_row *row, struct casefile_err *err);
/* Folds in what triage linked (alerts, victims, stages) without counting
 * it as a change.  -ENOMEM or a store error (not told in err). */
int casefile_merge_triage(const struct casefile *cf, struct incident *inc,
                          const struct store_incident_row *row);
/* A timeline entry that is not a field of the record (task, note, ...). */
int casefile_event(const struct casefile *cf, int64_t id, const struct incident *inc,
                   int64_t now_us, const char *who, const char *what, const char *from,
                   const char *to, struct casefile_err *err);

/* ------------------------------------------------------------------ */
/* Shared between resources                                            */

/* casefile_incident.c: opens an incident of t->who with the fields of an
 * update body and applies them, in t's transaction; t->object names it.
 * The caller frees *inc (incident_done) whatever the result. */
int casefile_record_new(const struct casefile *cf, struct casefile_txn *t, const char *json,
                        size_t len, struct incident *inc, struct casefile_err *err);
/* As casefile_record_new, by t->who of `rank`: an opening at Orange or
 * Red by someone below lead is made at Yellow and the level asked for
 * filed as an approval (as casefile_create_as): its id in *ret_approval
 * (else 0), the request's audit details in *ret_asked (malloc'd JSON, else
 * NULL; the caller frees it whatever the result). */
int casefile_record_new_as(const struct casefile *cf, struct casefile_txn *t, const char *json,
                           size_t len, enum casefile_rank rank, struct incident *inc,
                           int64_t *ret_approval, char **ret_asked, struct casefile_err *err);

/* casefile_tasks.c: the incident's checklist as stored (the caller frees
 * it with playbook_checklist_done on success). */
int casefile_tasks_load(const struct casefile *cf, int64_t id, struct playbook_checklist *cl,
                        struct casefile_err *err);
int casefile_task_save(const struct casefile *cf, int64_t id, const struct playbook_task *t,
                       struct casefile_err *err);
/* Creates the playbook's tasks for entering inc's current phase and saves
 * those new to the checklist; due times count from inc->phase_since_us. */
int casefile_phase_tasks(const struct casefile *cf, const struct incident *inc,
                         struct playbook_checklist *cl, struct casefile_err *err);

/* casefile_leak.c: when the changes ch[0..nch) set inc's leak type, adds
 * the leak playbook's tasks missing from cl (due from the change's time),
 * saves them and puts them on the timeline.  How many were added (0: none
 * due, none missing), or a negative errno told in err. */
int casefile_leak_tasks(const struct casefile *cf, const struct incident *inc,
                        const struct incident_change *ch, size_t nch, struct playbook_checklist *cl,
                        struct casefile_err *err);
/* casefile_notes.c: records a communication inside the caller's
 * transaction (*ret_comm may be NULL). */
int casefile_comm_put(const struct casefile *cf, int64_t id, const struct store_comm_rec *c,
                      int64_t *ret_comm, struct casefile_err *err);

/* casefile_lead.c: the responsible person's decisions (issue 25). */
/* What an incident was before a change. */
struct casefile_before {
    enum incident_phase phase;
    enum triage_alert_level level;
    char *responsible; /* heap copy or NULL */
};
/* 1 when `who` of `rank` decides for `inc` (its responsible person, an
 * admin, or a lead when it has none). */
int casefile_lead_may_decide(const struct incident *inc, const char *who, enum casefile_rank rank);
/* 1 when the change from b to `after` holds a decision; `what` gets them
 * as a sentence. */
int casefile_lead_gated(const struct casefile_before *b, const struct incident *after, char *what,
                        size_t size);
/* -EINVAL unless inc's responsible person (if any) is a lead or admin. */
int casefile_lead_check_responsible(const struct casefile *cf, const struct incident *inc,
                                    struct casefile_err *err);
/* Keeps the PATCH `body` as an approval in t's transaction, sets t's
 * action, object and details. */
int casefile_lead_request(const struct casefile *cf, struct casefile_txn *t, int64_t incident,
                          const char *decider, const char *body, size_t len, const char *what,
                          int64_t *ret_approval, struct casefile_err *err);
/* 1 when the change from b to `inc` leaves the emergency phase for watch
 * or full response in a category: casefile_lead_watch declares Yellow
 * for it. */
int casefile_lead_declares(const struct casefile_before *b, const struct incident *inc);
/* After a change: leaving the emergency phase for watch or full response
 * sets the level to Yellow (its timeline entry in *ret, *ret_changed 1)
 * unless the change set one, and declares Yellow for the category. */
int casefile_lead_watch(const struct casefile *cf, const struct casefile_before *b,
                        struct incident *inc, const char *who, int64_t now_us,
                        struct incident_change *ret, int *ret_changed, struct casefile_err *err);
/* casefile_incident.c: applies a PATCH body to incident `id` inside t's
 * transaction as casefile_update_as says; requested_by (not NULL) names
 * whose approved request it is; ret_approval NULL: a decision not the
 * caller's is refused (-EACCES). */
int casefile_update_in(const struct casefile *cf, struct casefile_txn *t, int64_t id,
                       const char *body, size_t len, enum casefile_rank rank,
                       const char *requested_by, int64_t *ret_approval, struct casefile_err *err);

#endif
