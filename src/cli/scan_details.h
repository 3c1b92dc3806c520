/*
 * scan_details.h - what a timeline row of `hikeshi scan` says about its
 * event, and the ATT&CK names of a rule's tags.
 *
 * An analyst reading a timeline wants the few fields that tell what
 * happened (who logged on, from where, what ran), not the event's XML.
 * Per event kind (Windows channel and event id) a profile names those
 * fields and a short label for each; other events get a generic line: a
 * few non-empty fields of the event's data, or the message.  `-f jsonl`
 * carries the same columns as fields of each alert's JSON object.
 */
#ifndef HIKESHI_CLI_SCAN_DETAILS_H
#define HIKESHI_CLI_SCAN_DETAILS_H

#include <stddef.h>

struct buf;
struct event;

/* Longest details line (bytes) and longest value in it. */
#define SCAN_DETAILS_MAX 1024
#define SCAN_DETAILS_VALUE_MAX 240

/* Appends the details of `ev` to `out` as "Label: value | Label: value",
 * control bytes as spaces, each value cut at SCAN_DETAILS_VALUE_MAX (or its
 * profile's cut), the whole at SCAN_DETAILS_MAX, cuts marked "...".  Never
 * the raw record when it is XML.  *ret_profiled (may be NULL): 1 when a
 * profile gave the line, 0 for the generic line.  0 or -ENOMEM. */
int scan_details_event(const struct event *ev, struct buf *out, int *ret_profiled);

/* Appends to `tactics` and `techniques` (", "-separated) the ATT&CK names
 * in Sigma tags: attack.execution -> Execution, attack.t1059.001 ->
 * T1059.001.  Other tags are left out.  0 or -ENOMEM. */
int scan_details_attack(const char *const *tags, size_t ntags, struct buf *tactics,
                        struct buf *techniques);

/* The timeline's own columns of one row, for scan_details_json(). */
struct scan_details_row {
    const char *details;   /* the details line; NULL: already in the object */
    const char *record_id; /* EventRecordID as the event says it; NULL: none */
    size_t record_id_len;
    const char *channel; /* the Windows channel; NULL: none */
    size_t channel_len;
    const char *tactics;    /* ", "-separated, as scan_details_attack() makes */
    const char *techniques; /* the same */
    const char *file;       /* the file the event was read from; NULL: none */
};

/* Adds the row's columns to the JSON object at the end of `out` (its
 * closing brace is moved after them): "details" (a string), "channel"
 * (string or null), "record_id" (a number, or null when the event has none
 * or it is no decimal number), "tactics" and "techniques" (arrays of
 * strings) and "file" (string or null).  -EINVAL when `out` does not end
 * with '}', else 0 or -ENOMEM. */
int scan_details_json(struct buf *out, const struct scan_details_row *row);

#endif
