/*
 * availability.h - when a contact may be called: quiet hours and an on-call
 * rota (issue 25, docs/incident.md "Quiet hours and on-call rotas").
 *
 * The escalation clock calls the contact a chain entry names (a role such
 * as "lead" may name several).  Each contact may say, in its own time zone:
 *   quiet_hours  "22:00-07:00"  not to be woken then (may wrap midnight)
 *   on_call      "mon-fri 09:00-18:00, sat 10:00-14:00" or "daily
 *                20:00-08:00": windows of a weekly rota, each belonging to
 *                the day it starts on (one that wraps runs into the next)
 *   timezone     "Europe/Berlin", "+09:00"; empty or absent: UTC
 * and the clock prefers a contact on call now, then one outside quiet
 * hours, then (nobody else being there) the first in quiet hours: an
 * escalation is never dropped, it says whom it woke.
 *
 * Every string here is chosen by whoever edits contacts: parsing is
 * bounded (AVAIL_TEXT_MAX bytes, AVAIL_WINDOWS_MAX windows) and a refusal
 * says where and why.
 */
#ifndef HIKESHI_INCIDENT_AVAILABILITY_H
#define HIKESHI_INCIDENT_AVAILABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "event/tz.h"

#define AVAIL_TEXT_MAX 256
#define AVAIL_WINDOWS_MAX 14

/* How a contact stands at one instant, best last. */
enum avail_state {
    AVAIL_QUIET = 0,     /* inside its quiet hours, not on call */
    AVAIL_AVAILABLE = 1, /* neither quiet nor on call */
    AVAIL_ON_CALL = 2,   /* inside an on-call window */
};

/* "quiet", "available", "on-call". */
const char *avail_state_name(enum avail_state s);

/*
 * Checks a quiet_hours value ("HH:MM-HH:MM", start and end differing) or
 * an on_call value (comma-separated "[DAYS ]HH:MM-HH:MM", DAYS one of
 * mon..sun, a range "mon-fri", "daily"; without DAYS: daily).  NULL or ""
 * is none and fine.  Returns 0, or -EINVAL with *why (static) and *at (the
 * byte offset) set.
 */
int avail_check_quiet(const char *s, const char **why, size_t *at);
int avail_check_on_call(const char *s, const char **why, size_t *at);

/*
 * The state at now_us of a contact with these values (as checked above;
 * a value that does not parse counts as absent) in zone tz (NULL: UTC).
 */
enum avail_state avail_state_at(const char *quiet_hours, const char *on_call, const struct tz *tz,
                                int64_t now_us);

#endif
