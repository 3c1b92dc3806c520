/*
 * comms_run.h - the daemon's deliverer of messages (issue 25): a thread
 * with its own store connection that, once a second, drafts the first
 * report to the responsible person of each new incident (a draft waiting
 * for one click), and sends the queued messages through their channel
 * (smtp, webhook, export), retrying with a doubling wait until
 * incident.messages.attempts are spent.  Each attempt is recorded as
 * "sent" before anything leaves and as delivered, retry or failed after;
 * a message found "sent" at start (the daemon stopped during its
 * attempt) is retried, so a recipient may get it twice but never not at
 * all.  docs/incident.md, "Messages".
 */
#ifndef HIKESHI_INCIDENT_COMMS_RUN_H
#define HIKESHI_INCIDENT_COMMS_RUN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct audit;
struct config_messages;
struct comms_run;

/* Process-wide figures for /metrics. */
struct comms_stats {
    _Atomic uint64_t drafted;   /* first reports drafted by hikeshi */
    _Atomic uint64_t attempts;  /* delivery attempts */
    _Atomic uint64_t delivered; /* messages delivered */
    _Atomic uint64_t retries;   /* attempts that failed and will be retried */
    _Atomic uint64_t failed;    /* messages given up */
};
const struct comms_stats *comms_stats(void);

struct comms_run_opts {
    const char *data_dir;              /* the store */
    struct audit *audit;               /* borrowed; outlives the deliverer */
    const struct config_messages *msg; /* copied at start */
    const char *templates_dir;         /* borrowed; outlives the deliverer */
};

/* Opens its store connection and reads the secret (before privileges are
 * dropped), then starts the thread.  -EINVAL, -ENOMEM or the store's
 * error, told in errbuf. */
int comms_run_start(const struct comms_run_opts *o, struct comms_run **ret, char *errbuf,
                    size_t errlen);
/* Stops the thread (an attempt under way finishes first) and frees.  NULL
 * is a no-op. */
void comms_run_stop(struct comms_run *r);

#endif
