/*
 * incident_clock.c - which step of a phase deadline fires now (see
 * incident_clock.h).  Every sum is checked: a target of ten years on a
 * phase that began at a hostile time must not wrap into "overdue".
 */
#include "incident/incident_clock.h"

#include <errno.h>
#include <string.h>

int incident_clock_decide(const struct incident_clock_conf *c, int64_t since_us,
                          int64_t target_us, int64_t now_us, int done_step,
                          struct incident_clock_due *ret)
{
    int64_t due, notice_at, past;
    size_t nesc, k;
    int step = 0;

    memset(ret, 0, sizeof(*ret));
    if (!c || c->nchain == 0 || c->nchain > INCIDENT_CLOCK_CHAIN_MAX || c->lead_us < 0 ||
        c->every_us < 0)
        return -EINVAL;
    if (target_us <= 0 || __builtin_add_overflow(since_us, target_us, &due))
        return 0;
    ret->has_deadline = 1;
    ret->due_us = due;
    ret->overdue = now_us >= due;
    /* Escalation steps: one per chain entry after the first; a chain of one
     * still escalates once (to that one) at the deadline. */
    nesc = c->nchain > 1 ? c->nchain - 1 : 1;
    if (ret->overdue) {
        /* now >= due, so now - due overflows only when due is very
         * negative: then every step is long past. */
        if (c->every_us == 0 || __builtin_sub_overflow(now_us, due, &past))
            k = nesc;
        else
            k = 1 + (size_t)((uint64_t)past / (uint64_t)c->every_us);
        if (k > nesc)
            k = nesc;
        step = 1 + (int)k;
        ret->chain_idx = c->nchain > 1 ? k : 0;
    } else if (c->lead_us > 0) {
        if (__builtin_sub_overflow(due, c->lead_us, &notice_at))
            notice_at = INT64_MIN;
        if (now_us >= notice_at) {
            step = 1;
            ret->chain_idx = 0;
        }
    }
    if (done_step < 0)
        done_step = 0;
    if (step <= done_step) {
        step = 0;
        ret->chain_idx = 0;
    }
    ret->step = step;
    return 0;
}

const char *incident_clock_step_name(int step)
{
    return step == 1 ? "deadline_notice" : "escalation";
}
