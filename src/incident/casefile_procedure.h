/*
 * casefile_procedure.h - the procedures per box acting on the case file
 * (issue 25, MISSION.md section 3, docs/incident.md "Procedures per box"):
 * a box's tasks appended to an incident's checklist and its messages
 * drafted, once per incident and box.
 *
 * A box runs on an incident when a level is declared for the incident's
 * category (every open incident of it: the declared box), and when an
 * incident is opened in a box or its own level or category moves it into
 * one (its own box: level x category).  Each run is one transaction: the
 * procedure_runs row (which makes a second run of the same box on the same
 * incident a no-op, across restarts), the tasks (phase: the incident's
 * current one; function and box set), a timeline entry ("procedure") and
 * the audit entry procedure.run.  The drafts follow, one message_case
 * transaction each (message.draft); a draft the disclosure rules refuse is
 * written on the timeline and audited (procedure.draft_refused) instead.
 *
 * Errors as casefile.h's.
 */
#ifndef HIKESHI_INCIDENT_CASEFILE_PROCEDURE_H
#define HIKESHI_INCIDENT_CASEFILE_PROCEDURE_H

#include <stddef.h>
#include <stdint.h>

#include "incident/casefile.h"
#include "incident/procedures.h"

/* The procedures in force (borrowed; NULL: none), set once before the API
 * starts, as message_case_configure is. */
void casefile_procedure_configure(const struct procedure_set *set);
const struct procedure_set *casefile_procedure_set(void);

/*
 * Runs the box of incident `id`'s own level and category unless it ran on
 * it before (or the incident is closed, has no category, or the box is not
 * defined: nothing).  *ret_ran (may be NULL) is 1 when it ran now.
 */
int casefile_procedure_current(const struct casefile *cf, int64_t id, const char *who,
                               int64_t now_us, int *ret_ran, struct casefile_err *err);

/*
 * After a change to incident `id` at now_us (a PATCH, an approved
 * request): its own box as casefile_procedure_current, and when the change
 * declared a level for its category (leaving the emergency phase declares
 * Yellow, casefile_lead.c), that box on the category's open incidents as
 * casefile_procedure_declared.
 */
int casefile_procedure_changed(const struct casefile *cf, int64_t id, const char *who,
                               int64_t now_us, struct casefile_err *err);

/*
 * After `level` was declared for category `cat`: runs that box on every
 * open incident of the category that has not had it.  *ret_n (may be NULL)
 * gets on how many it ran now.  At most CASEFILE_PROCEDURE_SCAN incidents.
 */
#define CASEFILE_PROCEDURE_SCAN 10000
int casefile_procedure_declared(const struct casefile *cf, enum asset_category cat,
                                enum triage_alert_level level, const char *who, int64_t now_us,
                                size_t *ret_n, struct casefile_err *err);

/*
 * Runs the boxes open incidents are owed and never had (issue 25): the
 * incident's own box, and the box of the level currently declared for its
 * category (the latest declaration), each once as above.  incident_id 0:
 * every open incident (the clock's tick, for the incidents triage opened
 * and nobody has touched since); else only that one (its opening or a
 * change).  quiet_us as store_procedure_due's (0: no such limit; the
 * clock passes a few seconds ago, so that it does not race a request that
 * runs its boxes right after its own commit).  At most
 * CASEFILE_PROCEDURE_SCAN boxes per call; *ret_n (may be NULL) gets how
 * many ran now.
 */
#define CASEFILE_PROCEDURE_QUIET_US (5 * 1000000LL)
int casefile_procedure_due(const struct casefile *cf, int64_t incident_id, const char *who,
                           int64_t now_us, int64_t quiet_us, size_t *ret_n,
                           struct casefile_err *err);

/* The boxes run on incident `id` as a JSON array of {"box", "time",
 * "who"}, oldest first.  -ENOENT for no such incident. */
int casefile_procedure_runs_json(const struct casefile *cf, int64_t id, struct buf *out,
                                 struct casefile_err *err);

#endif
