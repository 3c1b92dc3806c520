/*
 * incident_clock.h - clocks that escalate (issue 25): which step of an
 * incident's phase deadline is due at a given time.
 *
 * A deadline is one phase of one incident, named by (incident, phase,
 * phase_since_us): re-entering a phase starts a new deadline.  Its steps,
 * numbered from 1, go up the escalation chain (assignee -> lead ->
 * manager, hikeshi.yaml(5) incident.escalation):
 *   step 1        the notice to chain[0], at due - lead (when lead > 0);
 *   step 1 + k    the escalation to chain[k] (k = 1 .. nchain - 1; with a
 *                 chain of one, k = 1 goes to chain[0] again), at
 *                 due + (k - 1) * every.
 * Only the latest due step fires: a daemon that was down while several
 * steps passed fires the one for now, once; the state kept in the store is
 * the last step fired per deadline, so that nothing fires twice.
 *
 * Pure logic (no store, no I/O) so that the unit test drives it with any
 * clock; incident_clock_run.c is the daemon's side.
 */
#ifndef HIKESHI_INCIDENT_INCIDENT_CLOCK_H
#define HIKESHI_INCIDENT_INCIDENT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Longest escalation chain, and longest entry (a role or contact name). */
#define INCIDENT_CLOCK_CHAIN_MAX 8
#define INCIDENT_CLOCK_NAME_MAX 64

struct incident_clock_conf {
    int64_t lead_us;  /* notice this long before the deadline; 0: no notice */
    int64_t every_us; /* between escalation steps past the deadline; 0: all at the deadline */
    size_t nchain;    /* entries in the chain, 1..INCIDENT_CLOCK_CHAIN_MAX */
};

/* What is due for one deadline at now_us. */
struct incident_clock_due {
    int has_deadline; /* 0: no target (<= 0) or the deadline does not fit in int64 */
    int64_t due_us;   /* phase_since + target */
    int step;         /* the step to fire now (> done_step), or 0: nothing */
    size_t chain_idx; /* with step: the chain entry it goes to */
    int overdue;      /* now_us >= due_us */
};

/*
 * Decides for a phase that began at since_us with target target_us, when
 * the steps up to done_step (0: none) have fired.  Hostile values are
 * answered, never trusted: a target <= 0 has no deadline; a sum past
 * int64 has none either; a negative done_step counts as 0; a chain of 0 or
 * past INCIDENT_CLOCK_CHAIN_MAX, or a negative lead or every, is -EINVAL.
 * Returns 0 or -EINVAL (then *ret is zeroed).
 */
int incident_clock_decide(const struct incident_clock_conf *c, int64_t since_us,
                          int64_t target_us, int64_t now_us, int done_step,
                          struct incident_clock_due *ret);

/* "deadline_notice" for step 1, "escalation" for later steps. */
const char *incident_clock_step_name(int step);

#endif
