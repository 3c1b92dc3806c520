/*
 * alert.h - an alert: a rule matched an event.
 *
 * An alert is what one detection produced: a rule matched an event, a
 * correlation fired, or an anomaly was seen; triage (triage.h) folds alerts
 * into aggregated alerts and incidents.  The alert does not own what it
 * points to: the
 * rule strings belong to the loaded rule set and the event to its arena, so
 * an alert must be written out (store, JSON lines) before the event is reset.
 */
#ifndef HIKESHI_TRIAGE_ALERT_H
#define HIKESHI_TRIAGE_ALERT_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct event;

struct alert {
    const char *kind;        /* NULL or "rule": one event matched a rule;
                                "correlation" or "anomaly": no single event */
    const char *rule_id;     /* rule's id (UUID for Sigma rules) */
    const char *rule_title;  /* rule's title */
    const char *rule_author; /* rule's author: the DRL requires it be shown */
    const char *rule_level;  /* informational, low, medium, high, critical */
    const char *const *tags; /* the rule's tags (attack.t1059.001 ...), or NULL */
    size_t ntags;
    const char *input_name;  /* the input the event came from */
    int64_t created_us;      /* when the alert was raised */
    const struct event *ev;  /* the matched event; NULL for kinds other than rule */
    /* Kinds without an event: */
    int64_t time_us;         /* event time it refers to (a hit: its last event) */
    const char *host;        /* host it concerns, or NULL */
    const char *details;     /* one line for people: group, value, baseline */
    const char *extra_json;  /* JSON object with the details for machines */
    size_t extra_len;
};

/* Appends the alert as one JSON object (no newline): rule, times, the
 * event's fields and its raw text.  0 or a negative errno from buf. */
int alert_to_json(const struct alert *a, struct buf *out);

#endif
