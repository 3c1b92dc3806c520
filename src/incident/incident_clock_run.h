/*
 * incident_clock_run.h - the daemon's escalation clock (issue 25): a thread
 * that looks at every open incident's phase deadline once a second and
 * fires what incident_clock_decide() says is due: a deadline notice at the
 * lead time, then the escalations up the chain.  Each step is one store
 * transaction (the state that says it fired, a timeline entry, an audit
 * entry) before anything is sent, so a step fires at most once across
 * restarts and crashes; the webhooks (respond_webhook_send, signed) go
 * after the commit.  docs/incident.md, "Clocks that escalate".
 *
 * Tasks with a due time (playbook `due:`, leak playbooks) are looked at in
 * the same pass: one past its due time and not done is escalated once to
 * its assignee, else to the contact of its owner role, with its own state
 * (the deadline "task:ID" of the incident, begun at its due time) so that
 * it too fires once across restarts.
 */
#ifndef HIKESHI_INCIDENT_INCIDENT_CLOCK_RUN_H
#define HIKESHI_INCIDENT_INCIDENT_CLOCK_RUN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct audit;
struct config_escalation;
struct config_target;
struct incident_clock_run;

/* Process-wide figures for /metrics. */
struct incident_clock_stats {
    _Atomic uint64_t overdue;        /* open incidents past their phase target at the last look */
    _Atomic uint64_t notices;        /* deadline notices fired */
    _Atomic uint64_t escalations;    /* escalations fired */
    _Atomic uint64_t notify_failed;  /* webhook deliveries that failed */
    _Atomic uint64_t running;        /* 1 while the clock runs */
    /* Tasks of open incidents past their due time and not done, at the
     * last look; overdue tasks escalated (once each). */
    _Atomic uint64_t task_overdue;
    _Atomic uint64_t task_escalations;
};
const struct incident_clock_stats *incident_clock_stats(void);

struct incident_clock_run_opts {
    const char *data_dir;                /* the store */
    struct audit *audit;                 /* borrowed; outlives the clock */
    const struct config_target *targets; /* phase targets over the defaults */
    size_t ntargets;
    const struct config_escalation *esc; /* copied at start */
    /* incident.messages' SMTP server and From address (copied; NULL: the
     * steps go by webhook only): each step is also mailed to the contact
     * it names when the contact has an email address. */
    const char *smtp, *from;
};

/*
 * Opens its own store connection and reads the webhook secret (call before
 * dropping privileges), then starts the thread.  -EINVAL (a secret too
 * short, a chain too long), -ENOMEM, or the store's error; errbuf says
 * which, naming the file.
 */
int incident_clock_run_start(const struct incident_clock_run_opts *o,
                             struct incident_clock_run **ret, char *errbuf, size_t errlen);
/* Stops the thread (a webhook being sent finishes first) and frees.  NULL
 * is a no-op. */
void incident_clock_run_stop(struct incident_clock_run *r);

#endif
