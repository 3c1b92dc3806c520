/*
 * store_clock.c - the escalation clock's state (table incident_clock,
 * schema 13; issue 25): per deadline, i.e. per (incident, phase, phase
 * start), the last step fired.  The daemon advances it with one
 * conditional UPSERT inside the transaction that writes the step's
 * timeline and audit entries, so that a step fires at most once whatever
 * restarts and crashes come between.  Also the contact a chain entry
 * names, looked up by role, then by name.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

int store_clock_step(struct store *st, int64_t incident_id, const char *phase, int64_t since_us,
                     int *ret_step)
{
    sqlite3_stmt *s;
    int r;

    *ret_step = 0;
    r = store_row_one(st, "reading the escalation state", "no state", &s,
                      "SELECT step FROM incident_clock WHERE incident_id = ?1 AND phase = ?2"
                      " AND phase_since_us = ?3",
                      "iti", incident_id, phase, since_us);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    *ret_step = (int)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

int store_clock_advance(struct store *st, int64_t incident_id, const char *phase,
                        int64_t since_us, int64_t due_us, int step, int64_t now_us)
{
    int64_t changes = 0;
    int r;

    r = store_exec_sql(st, "saving the escalation state", &changes, NULL,
                       "INSERT INTO incident_clock(incident_id, phase, phase_since_us, due_us,"
                       " step, fired_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                       " ON CONFLICT(incident_id, phase, phase_since_us) DO UPDATE"
                       " SET step = excluded.step, due_us = excluded.due_us,"
                       " fired_us = excluded.fired_us WHERE step < excluded.step",
                       "itiiii", incident_id, phase, since_us, due_us, (int64_t)step, now_us);
    if (r < 0)
        return r;
    return changes > 0 ? 0 : -ESTALE;
}

int store_clock_contacts(struct store *st, const char *who,
                         int (*fn)(void *ctx, const struct store_clock_cand *c), void *ctx)
{
    sqlite3_stmt *s;
    int r, rc;

    /* The same members as the contacts' list (store_incident.c), without
     * the notes: they are not for a receiver outside. */
    r = store_row_one(
        st, "finding a contact of the escalation chain", "no such contact", &s,
        "SELECT json_object('id', id, 'name', name, 'kind', kind, 'organisation', organisation,"
        " 'role', role, 'email', email, 'phone', phone, 'quiet_hours', nullif(quiet_hours, ''),"
        " 'on_call', nullif(on_call, ''), 'timezone', nullif(timezone, '')), name, quiet_hours,"
        " on_call, timezone, email FROM contacts WHERE lower(role) = lower(?1) OR name = ?1"
        " ORDER BY lower(role) = lower(?1) DESC, kind = 'vertical' DESC, id LIMIT ?2",
        "ti", who, (int64_t)STORE_CLOCK_CANDIDATES);
    if (r < 0)
        return r;
    do {
        struct store_clock_cand c = {
            .json = (const char *)sqlite3_column_text(s, 0),
            .name = (const char *)sqlite3_column_text(s, 1),
            .quiet_hours = (const char *)sqlite3_column_text(s, 2),
            .on_call = (const char *)sqlite3_column_text(s, 3),
            .timezone = (const char *)sqlite3_column_text(s, 4),
            .email = (const char *)sqlite3_column_text(s, 5),
        };

        if (!c.json)
            c.json = "null";
        if (!c.name)
            c.name = "";
        if ((r = fn(ctx, &c)) != 0)
            break;
    } while ((rc = sqlite3_step(s)) == SQLITE_ROW);
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "finding a contact of the escalation chain");
    sqlite3_finalize(s);
    return r;
}
