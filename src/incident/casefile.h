/*
 * casefile.h - incident management over the store: the CSIRT's working
 * record of each incident (MISSION.md sections 2-7) as the API changes it.
 *
 * Every change runs in one store transaction: read the record, apply the
 * change with the incident/playbook/report logic, save with a
 * compare-and-swap on the record's version, write the timeline entries,
 * append to the audit log, commit.  A failure anywhere rolls back; a stale
 * version changes nothing.
 *
 * One file per resource below (casefile_incident.c, casefile_tasks.c, ...:
 * the list is in casefile_priv.h, with what they share).
 *
 * Request bodies are JSON objects read strictly (jp.h): an unknown field,
 * a wrong type or a value past its cap is refused with the byte offset.
 *
 * Errors (all functions): 0, or
 *   -EINVAL  the request is wrong (err->msg, err->off >= 0 when a body
 *            offset applies, err->field when a field is at fault)
 *   -ENOENT  no such incident/task/report/alert/contact (err->msg)
 *   -ESTALE  the version sent is not the current one (err->msg)
 *   -EEXIST  a conflict with what is there: a task ticked done while the
 *            evidence it needs is missing (err->msg, a sentence)
 *   -EDOM    the incident's state refuses it: an illegal phase change, a
 *            phase left with required tasks open (err->msg, a sentence)
 *   -EACCES  a decision that is the responsible person's (casefile_lead.c)
 *   other    store or audit failure (err->msg), -ENOMEM
 */
#ifndef HIKESHI_INCIDENT_CASEFILE_H
#define HIKESHI_INCIDENT_CASEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "incident/incident.h"
#include "incident/playbook.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/jp.h"

struct audit;
struct playbook_leak_set;

/* Largest request body read. */
#define CASEFILE_BODY_MAX (256 * 1024)
#define CASEFILE_NOTE_MAX 8192

/* What the case file works with; all borrowed. */
struct casefile {
    struct store *st;
    struct audit *audit; /* NULL: no audit trail (tests only) */
    const struct playbook_set *playbooks;
    const struct incident_targets *targets;
    /* Leak playbooks (playbooks/leak/, playbook_leak.h); NULL: none. */
    const struct playbook_leak_set *leaks;
};

struct casefile_err {
    char msg[600];
    long off; /* byte of the body at fault, or -1 */
    char field[JP_KEY_MAX + 1];
};

/* The incident as the API shows it (docs/api.md INCIDENT): the record
 * (seeded from triage's proposal when nobody changed it yet) with the
 * alerts, stages and victims triage linked since, its deadline at now_us
 * and triage's proposal. */
int casefile_incident_json(const struct casefile *cf, int64_t id, int64_t now_us, struct buf *out,
                           struct casefile_err *err);
/* How casefile_list_json orders the incidents. */
enum casefile_order {
    CASEFILE_ORDER_URGENT = 0, /* level, Red first, then the nearest deadline, then newest */
    CASEFILE_ORDER_NEWEST,     /* newest (highest id) first */
};
/* The incidents matching `f` (overdue: only those past their target),
 * comma-separated, in `order` (f->targets is the case file's then). */
int casefile_list_json(const struct casefile *cf, const struct store_incident_filter *f,
                       enum casefile_order order, int overdue, int64_t now_us, struct buf *out,
                       size_t *ret_n, struct casefile_err *err);

/* The open incidents whose phase has a time target, the soonest due first
 * (overdue ones lead), at most `max`, comma-separated: {"id", "title",
 * "phase", "level", "category", "due", "left_seconds", "overdue"}.  Looks
 * at the newest CASEFILE_NEAR_SCAN open incidents. */
#define CASEFILE_NEAR_SCAN 2000
int casefile_near_target_json(const struct casefile *cf, int64_t now_us, size_t max,
                              struct buf *out, size_t *ret_n, struct casefile_err *err);

int casefile_create(const struct casefile *cf, const char *who, const char *body, size_t len,
                    int64_t now_us, int64_t *ret_id, struct casefile_err *err);
/* A PATCH applied as an admin decides (casefile_update_as). */
int casefile_update(const struct casefile *cf, int64_t id, const char *who, const char *body,
                    size_t len, int64_t now_us, struct casefile_err *err);

/*
 * The responsible person (issue 25, casefile_lead.c, casefile_approval.c,
 * docs/incident.md "The responsible person"): what the caller may decide.
 * The API maps roles to ranks (analyst and below: ANALYST).
 */
enum casefile_rank {
    CASEFILE_RANK_ANALYST = 0,
    CASEFILE_RANK_LEAD,
    CASEFILE_RANK_ADMIN,
};
/* casefile_update by `who` of `rank`.  When the PATCH holds a decision
 * (closing the emergency phase, Orange or Red, closing the incident,
 * naming the responsible person) that is not theirs, nothing is applied:
 * the body is kept as an approval for the responsible person (audit
 * approval.request), 0 with *ret_approval its id (0: applied).  With
 * ret_approval NULL such a PATCH is refused (-EACCES). */
int casefile_update_as(const struct casefile *cf, int64_t id, const char *who,
                       enum casefile_rank rank, const char *body, size_t len, int64_t now_us,
                       int64_t *ret_approval, struct casefile_err *err);
/* Approves (applies the PATCH kept, as `who`, on the incident's current
 * version: -ESTALE when it changed since the request) or rejects (body
 * {"note"} required) approval `id`.  Only the incident's responsible
 * person, a lead when it has none, or an admin answers (-EACCES).  Audit
 * approval.approve / approval.reject.  -ENOENT; -ESTALE when it is no
 * longer pending; the errors of casefile_update. */
/* casefile_create by `who` of `rank`.  An analyst's opening at Orange or
 * Red opens the incident at Yellow and keeps the level asked for as an
 * approval (PATCH {"level", "version": 1}) for a lead: *ret_approval its
 * id (0: none), in the creation's audit entry (details.approval).  With
 * ret_approval NULL the rank is ignored and the level applied. */
int casefile_create_as(const struct casefile *cf, const char *who, enum casefile_rank rank,
                       const char *body, size_t len, int64_t now_us, int64_t *ret_id,
                       int64_t *ret_approval, struct casefile_err *err);
int casefile_approval_answer(const struct casefile *cf, int64_t id, int approve, const char *who,
                             enum casefile_rank rank, const char *body, size_t len, int64_t now_us,
                             struct casefile_err *err);
int casefile_note_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, int64_t *ret_note, struct casefile_err *err);
int casefile_task_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, uint32_t *ret_task, struct casefile_err *err);
int casefile_task_update(const struct casefile *cf, int64_t id, uint32_t task, const char *who,
                         const char *body, size_t len, int64_t now_us, struct casefile_err *err);
/* The incident's tasks as a JSON array (ids as stored). */
int casefile_tasks_json(const struct casefile *cf, int64_t id, struct buf *out,
                        struct casefile_err *err);
/* What ticking task `task` of incident `id` needs, from the playbook task
 * behind it: *ret_needs 1 when it needs an evidence item, and ret_collect
 * the collection plan step it is ("CLASS/STEP"; "" when none), *ret_done
 * 1 when it is ticked already.  -ENOENT for no such incident or task. */
int casefile_task_evidence_need(const struct casefile *cf, int64_t id, uint32_t task,
                                char *ret_collect, size_t cap, int *ret_needs, int *ret_done,
                                struct casefile_err *err);
/* Ticks task `task` done with evidence item `item` (registered for it):
 * its timeline entry and audit name EV-item.  The checks of
 * casefile_task_update; -ESTALE when it is done already. */
int casefile_task_done_with(const struct casefile *cf, int64_t id, uint32_t task, const char *who,
                            int64_t item, int64_t now_us, struct casefile_err *err);
int casefile_comm_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, int64_t *ret_comm, struct casefile_err *err);
int casefile_report_create(const struct casefile *cf, int64_t id, const char *who, const char *body,
                           size_t len, int64_t now_us, int64_t *ret_report,
                           struct casefile_err *err);
int casefile_report_edit(const struct casefile *cf, int64_t id, int64_t report, const char *who,
                         const char *body, size_t len, int64_t now_us, int64_t *ret_report,
                         struct casefile_err *err);
int casefile_alert_ack(const struct casefile *cf, int64_t alert, const char *who, int64_t now_us,
                       struct casefile_err *err);
int casefile_alert_attach(const struct casefile *cf, int64_t alert, const char *who,
                          const char *body, size_t len, int64_t now_us, struct casefile_err *err);
/* A suppression from an aggregated alert: body {reason, expires (ISO 8601),
 * scope: "entity" (default: the alert's rule on its entities) or "rule"}.
 * Stored for triage in the pipeline to pick up; *ret_id is its id. */
int casefile_alert_suppress(const struct casefile *cf, int64_t alert, const char *who,
                            const char *body, size_t len, int64_t now_us, int64_t *ret_id,
                            struct casefile_err *err);

/*
 * One action over many aggregated alerts (POST /api/v1/alerts/bulk).  The
 * body: {"action": "ack" | "suppress" | "attach" | "open_incident", and
 * either "ids": [..] or "matching": true (the alerts filter `f` keeps,
 * the list's filter), "max" (at most this many, 1..CASEFILE_BULK_MAX, the
 * default), and the action's fields: suppress {reason, expires, scope}
 * (one suppression per distinct rule, or rule and entities, among the
 * selection), attach {incident}, open_incident {title, summary, type,
 * category, level} (the new incident then holds them)}.  All or nothing,
 * in one transaction with one audit entry (alert.bulk_ack, ...) holding
 * the count, the filter or ids, and the ids touched as ranges.
 * -EOVERFLOW when the selection holds more than max (nothing changed),
 * -ENOENT when an id names no alert or the filter keeps none, -EINVAL.
 */
#define CASEFILE_BULK_MAX 20000
enum casefile_bulk_action {
    CASEFILE_BULK_ACK,
    CASEFILE_BULK_SUPPRESS,
    CASEFILE_BULK_ATTACH,
    CASEFILE_BULK_OPEN,
};
struct casefile_bulk_result {
    const char *action;  /* static */
    size_t count;        /* aggregated alerts touched */
    int64_t incident;    /* attach, open_incident: the incident; else 0 */
    size_t suppressions; /* suppress: suppressions made */
    int64_t approval;    /* open_incident at Orange/Red below lead: the request; else 0 */
};
int casefile_alert_bulk(const struct casefile *cf, const struct store_agg_filter *f,
                        const char *who, const char *body, size_t len, int64_t now_us,
                        struct casefile_bulk_result *ret, struct casefile_err *err);
/* casefile_alert_bulk by `who` of `rank` (casefile_alert_bulk: an admin's):
 * open_incident at Orange or Red below lead opens at Yellow and files the
 * level as an approval, as casefile_create_as; ret->approval is its id and
 * the action's audit entry holds it ("approval"). */
int casefile_alert_bulk_as(const struct casefile *cf, const struct store_agg_filter *f,
                           const char *who, enum casefile_rank rank, const char *body, size_t len,
                           int64_t now_us, struct casefile_bulk_result *ret,
                           struct casefile_err *err);
int casefile_intake(const struct casefile *cf, const char *who, const char *body, size_t len,
                    int64_t now_us, int64_t *ret_id, struct casefile_err *err);
int casefile_contact_add(const struct casefile *cf, const char *who, const char *body, size_t len,
                         int64_t now_us, int64_t *ret_id, struct casefile_err *err);
/* PATCH a contact: the fields given (at least one) replace theirs; DELETE
 * one: its communications keep its name as the party.  Both audited
 * (contact.update / contact.delete, before and after) and written on the
 * timeline of every incident that communicated with it; -ENOENT. */
int casefile_contact_update(const struct casefile *cf, int64_t id, const char *who,
                            const char *body, size_t len, int64_t now_us, struct casefile_err *err);
int casefile_contact_delete(const struct casefile *cf, int64_t id, const char *who, int64_t now_us,
                            struct casefile_err *err);
int casefile_declare(const struct casefile *cf, const char *who, const char *body, size_t len,
                     int64_t now_us, struct casefile_err *err);
int casefile_risk_add(const struct casefile *cf, const char *who, const char *body, size_t len,
                      int64_t now_us, struct casefile_err *err);

/*
 * The approval queue (issue 6): an analyst approves (approve = 1; body
 * optional: {"note": "..."}) or rejects (body {"note": "..."} required) the
 * pending response `id`; the response engine takes approved ones up.  One
 * transaction with its audit entry (response.approve / response.reject).
 * -EINVAL (body), -ENOENT, -ESTALE when it is no longer pending.
 */
int casefile_response_answer(const struct casefile *cf, int64_t id, int approve, const char *who,
                             const char *body, size_t len, int64_t now_us,
                             struct casefile_err *err);
/* Asks the engine to lift the block of response `id` before its expiry
 * (audit block.lift_request).  -ENOENT, -ESTALE when it is not a block in
 * force or was asked already. */
int casefile_block_lift(const struct casefile *cf, int64_t id, const char *who, int64_t now_us,
                        struct casefile_err *err);

/*
 * A change outside an incident (users, tokens, suppressions) made the case
 * file's way: change(st, ctx, details) runs inside one store transaction,
 * then the audit entry (who, action, object, the JSON `details` change
 * wrote, "{}" when none) is appended and the transaction committed; when
 * the change or the append fails, nothing is kept.  change returns 0 or a
 * negative errno, told in *err with the store's message: -ENOENT (not
 * found), -ESTALE (nothing left to change), -EEXIST, -EINVAL.
 */
int casefile_change(const struct casefile *cf, const char *who, const char *action,
                    const char *object,
                    int (*change)(struct store *st, void *ctx, struct buf *details), void *ctx,
                    struct casefile_err *err);

#endif
