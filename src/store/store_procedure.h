/*
 * store_procedure.h - the store's side of the procedures per box (schema
 * 19, issue 25): which boxes (level x category, "B-Orange") were run on
 * which incident, so that a box's tasks and message drafts are made once
 * per incident, across restarts; and the open incidents of a category a
 * declared level reaches.  The SQL lives in store_procedure.c; what a box
 * holds in src/incident/procedures.h.
 *
 * Errors: 0 (or a count), -ENOMEM, or the store's error (store_errmsg).
 */
#ifndef HIKESHI_STORE_STORE_PROCEDURE_H
#define HIKESHI_STORE_STORE_PROCEDURE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct store;

/* Records that `box` ran on incident `incident_id` at now_us by `who`
 * (INSERT OR IGNORE): 1 when this is the first run, 0 when it ran
 * before (nothing changed). */
int store_procedure_run_add(struct store *st, int64_t incident_id, const char *box, const char *who,
                            int64_t now_us);

/* Appends the runs of the incident, oldest first, comma-separated:
 * {"box", "time" (ISO 8601), "who"}.  *ret_n (may be NULL) gets how many. */
int store_procedure_runs_json(struct store *st, int64_t incident_id, struct buf *out,
                              size_t *ret_n);

/* The level declared for `category` exactly at time_us (the latest such
 * declaration) into ret_level ("Yellow"; size at least 8): 0, or -ENOENT
 * when none was made at that time. */
int store_procedure_declared_at(struct store *st, const char *category, int64_t time_us,
                                char *ret_level, size_t size);

/* The open (not closed) incidents of category `category` ("A".."D"),
 * oldest first, at most `max` into ids; *ret_n gets how many. */
int store_procedure_open_incidents(struct store *st, const char *category, int64_t *ids, size_t max,
                                   size_t *ret_n);

/* A box an open incident is owed: its own (`declared` 0: category x
 * its level) or its category's currently declared level's (`declared`
 * 1: the latest declaration for the category). */
struct store_procedure_due {
    int64_t incident_id;
    char box[16]; /* "B-Orange" */
    int declared;
};

/*
 * The boxes open incidents are owed and have no procedure_runs row for,
 * among the box names in `boxes` (",A-Red,B-Orange,": the defined ones,
 * each between commas), by incident id then own before declared, at most
 * `max` into due; *ret_n gets how many.  incident_id 0: every open
 * incident, else only that one.  quiet_us 0: as they are; else only
 * incidents created and last on their timeline at or before quiet_us, and
 * declarations made at or before it (what a person's request is running
 * right after its own commit is left to that request).  One query (issue 25: incidents triage
 * opened, and incidents opened in a category already declared).
 */
int store_procedure_due(struct store *st, const char *boxes, int64_t incident_id, int64_t quiet_us,
                        struct store_procedure_due *due, size_t max, size_t *ret_n);

#endif
