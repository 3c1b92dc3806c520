/*
 * alert.h - an alert: a rule matched an event.
 *
 * Until the triage stage lands, an alert is the match itself; dedup and
 * aggregation come later.  The alert does not own what it points to: the
 * rule strings belong to the loaded rule set and the event to its arena, so
 * an alert must be written out (store, JSON lines) before the event is reset.
 */
#ifndef HIKESHI_TRIAGE_ALERT_H
#define HIKESHI_TRIAGE_ALERT_H

#include <stdint.h>

struct buf;
struct event;

struct alert {
    const char *rule_id;     /* rule's id (UUID for Sigma rules) */
    const char *rule_title;  /* rule's title */
    const char *rule_author; /* rule's author: the DRL requires it be shown */
    const char *rule_level;  /* informational, low, medium, high, critical */
    const char *input_name;  /* the input the event came from */
    int64_t created_us;      /* when the alert was raised */
    const struct event *ev;  /* the matched event */
};

/* Appends the alert as one JSON object (no newline): rule, times, the
 * event's fields and its raw text.  0 or a negative errno from buf. */
int alert_to_json(const struct alert *a, struct buf *out);

#endif
