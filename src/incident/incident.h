/*
 * incident.h - the CSIRT's incident record (MISSION.md sections 2-7): its
 * type, detection method, category and level, the response phase as a state
 * machine, time targets per phase, the organisation's declared level per
 * category, the real risk meter, and the JSON form the API reads and writes.
 *
 * Pure logic: no store, no I/O, no logging.  Every change made through this
 * API bumps `version` (optimistic concurrency: the API refuses an update
 * whose version is stale) and fills a struct incident_change, the timeline
 * entry the caller stores.
 *
 * Types are triage's enum triage_type, one enum for triage's proposal and
 * the record: the internal types triage proposes and the external types
 * that come from information gathering (TRIAGE_TYPE_ALL_COUNT in all), named
 * by triage_type_name() with MISSION.md's exact strings.  Levels are enum
 * triage_alert_level (Green..Red) and categories enum asset_category (A..D).
 */
#ifndef HIKESHI_INCIDENT_INCIDENT_H
#define HIKESHI_INCIDENT_INCIDENT_H

#include <stddef.h>
#include <stdint.h>

#include "triage/asset.h"
#include "triage/triage.h"
#include "util/buf.h"
#include "util/parse_err.h"

/* Caps on what an API client can make an incident hold (bytes exclude the
 * NUL).  Past a cap an update is refused, never truncated. */
#define INCIDENT_TITLE_MAX 256
#define INCIDENT_SUMMARY_MAX 8192
#define INCIDENT_NAME_MAX 64   /* assignee, who, tags */
#define INCIDENT_VALUE_MAX 256 /* entity values */
#define INCIDENT_REASON_MAX 512
#define INCIDENT_MAX_ENTITIES 256
#define INCIDENT_MAX_ALERTS 1024
#define INCIDENT_MAX_TAGS 32
/* Largest JSON document incident_from_json/incident_update_json read. */
#define INCIDENT_JSON_MAX (256 * 1024)

enum incident_method {
    INCIDENT_METHOD_OWN_MONITORING = 0,
    INCIDENT_METHOD_INFO_GATHERING,
    INCIDENT_METHOD_INTERNAL_REPORT,
    INCIDENT_METHOD_EXTERNAL_PRIVATE,
    INCIDENT_METHOD_EXTERNAL_PUBLIC,
    INCIDENT_METHOD_PRESS,
};
#define INCIDENT_METHOD_COUNT 6

/* The kind of an information leak (MISSION.md section 2, issue 25): each
 * has its own response points, brought by its leak playbook
 * (playbooks/leak/, docs/incident.md "Leak playbooks").  NONE: the
 * incident is no leak, or nobody said yet. */
enum incident_leak {
    INCIDENT_LEAK_NONE = 0,
    INCIDENT_LEAK_LOSS_THEFT,   /* "loss-theft": a device or paper lost or stolen */
    INCIDENT_LEAK_MISDELIVERY,  /* "misdelivery": sent to the wrong party, or put on the web */
    INCIDENT_LEAK_INSIDER,      /* "insider": taken out by someone inside */
    INCIDENT_LEAK_P2P,          /* "p2p": shared through file-sharing software */
    INCIDENT_LEAK_MALWARE,      /* "malware": carried out by malicious software */
    INCIDENT_LEAK_UNAUTHORISED, /* "unauthorised-access": taken through a break-in */
    INCIDENT_LEAK_RUMOUR,       /* "rumour": a rumour or blog post claims a leak */
};
#define INCIDENT_LEAK_COUNT 8

/*
 * The response phases of MISSION.md section 4.  Legal moves (the full table
 * with reasons is in docs/incident.md):
 *   new -> first_aid -> emergency -> watch | full_response
 *   watch -> full_response | closed | emergency (renewed activity: reason)
 *   full_response -> closed
 *   new | first_aid | emergency -> closed: only with a reason (false
 *     positive, duplicate, merged)
 *   closed -> first_aid: reopening, only with a reason
 * Anything else (skipping first aid, going back, staying put) is refused.
 */
enum incident_phase {
    INCIDENT_PHASE_NEW = 0,
    INCIDENT_PHASE_FIRST_AID,
    INCIDENT_PHASE_EMERGENCY,
    INCIDENT_PHASE_WATCH,
    INCIDENT_PHASE_FULL_RESPONSE,
    INCIDENT_PHASE_CLOSED,
};
#define INCIDENT_PHASE_COUNT 6

enum incident_entity_kind {
    INCIDENT_ENTITY_HOST = 0,
    INCIDENT_ENTITY_USER,
    INCIDENT_ENTITY_ADDRESS,
};

enum incident_entity_role {
    INCIDENT_ROLE_VICTIM = 0,
    INCIDENT_ROLE_ATTACKER,
};

struct incident_entity {
    char *value; /* owned; 1..INCIDENT_VALUE_MAX bytes */
    enum incident_entity_kind kind;
    enum incident_entity_role role;
};

/* An incident.  Embedded (incident_init/incident_done); every pointer is
 * owned by it.  Strings are valid UTF-8 without NUL bytes. */
struct incident {
    uint64_t id;
    char *title;   /* never NULL after init ("" at first) */
    char *summary; /* never NULL after init */
    enum triage_type type; /* any of TRIAGE_TYPE_ALL_COUNT */
    enum incident_method method;
    /* INCIDENT_LEAK_NONE: no leak type set. */
    enum incident_leak leak;
    enum asset_category category; /* A..D; NONE until known */
    enum triage_alert_level level;
    enum incident_phase phase;
    char *assignee; /* NULL: unassigned */
    /* The responsible person (MISSION.md section 4, issue 25): a user of
     * role lead or admin who decides the phase and level; NULL: none yet
     * (then any lead or admin decides). */
    char *responsible;
    struct incident_entity *entities;
    size_t nentities;
    uint64_t *alerts; /* alert ids, no duplicates, in order added */
    size_t nalerts;
    unsigned stages; /* bit (1 << enum triage_stage) per kill-chain stage seen */
    char **tags;     /* no duplicates */
    size_t ntags;
    int64_t created_us, updated_us;
    int64_t phase_since_us; /* when the current phase began: deadlines count from it */
    uint64_t version;       /* 1 at init; +1 on every change */
};

/* A timeline entry: one change of one incident.  Fixed-size so that the
 * caller can keep it without freeing; long values (a summary) are cut at a
 * UTF-8 boundary and end with "...".  `what` is "phase", "level",
 * "assignee", "title", "summary", "type", "detection_method", "leak_type",
 * "category", "tags", "entity", "alert", "stage". */
struct incident_change {
    int64_t time_us;
    uint64_t version; /* the incident's version after the change */
    char who[INCIDENT_NAME_MAX + 1];
    char what[24];
    char from[INCIDENT_VALUE_MAX + 1];
    char to[INCIDENT_VALUE_MAX + 1];
    char reason[INCIDENT_REASON_MAX + 1];
};

/* Names: MISSION.md's strings (types: triage_type_name).  Out of range
 * gives "none" / "?" . */
const char *incident_method_name(enum incident_method m);
/* "loss-theft", "misdelivery", "insider", "p2p", "malware",
 * "unauthorised-access", "rumour"; "none" for INCIDENT_LEAK_NONE. */
const char *incident_leak_name(enum incident_leak l);
/* "new", "first_aid", "emergency", "watch", "full_response", "closed". */
const char *incident_phase_name(enum incident_phase p);
/* "A".."D", "none". */
const char *incident_category_name(enum asset_category c);
const char *incident_entity_kind_name(enum incident_entity_kind k);
const char *incident_entity_role_name(enum incident_entity_role r);
/* Inverse lookups of the names above (exact, case-sensitive except levels
 * and categories, which also take lower case).  0 or -EINVAL. */
int incident_type_from_name(const char *s, size_t len, enum triage_type *ret);
int incident_method_from_name(const char *s, size_t len, enum incident_method *ret);
/* A leak type other than none (that one is JSON null). */
int incident_leak_from_name(const char *s, size_t len, enum incident_leak *ret);
int incident_phase_from_name(const char *s, size_t len, enum incident_phase *ret);
int incident_category_from_name(const char *s, size_t len, enum asset_category *ret);
int incident_level_from_name(const char *s, size_t len, enum triage_alert_level *ret);

/* Initialises an empty incident: phase new, level Green, own monitoring,
 * version 1, created = updated = phase_since = now_us.  -ENOMEM. */
int incident_init(struct incident *inc, uint64_t id, int64_t now_us);
/* Frees what it owns.  Safe on a zeroed or already-done incident. */
void incident_done(struct incident *inc);

/*
 * Moves `inc` to phase `to` on behalf of `who` (required, non-empty).
 * `reason` may be NULL unless the move needs one (see enum incident_phase).
 * On success fills *ret (may be NULL), sets phase_since_us and updated_us to
 * now_us and bumps version.  On an illegal move returns -EINVAL, leaves
 * `inc` untouched and writes into why (if whylen > 0) a sentence a person
 * understands: "cannot go from new to emergency: first aid comes first ...".
 */
int incident_transition(struct incident *inc, enum incident_phase to, const char *who,
                        const char *reason, int64_t now_us, struct incident_change *ret, char *why,
                        size_t whylen);
/* 1 when the move from -> to is in the table (with or without a reason). */
int incident_transition_legal(enum incident_phase from, enum incident_phase to);

/*
 * Field changes; each fills *ret (may be NULL), bumps version and sets
 * updated_us.  Setting the value it already has is not a change: returns 0
 * with ret->what[0] == '\0' and nothing bumped.  -EINVAL (with why) for an
 * empty `who`, a value out of range, or a string past its cap; a closed
 * incident refuses every change except reopening (incident_transition).
 */
int incident_set_level(struct incident *inc, enum triage_alert_level level, const char *who,
                       const char *reason, int64_t now_us, struct incident_change *ret, char *why,
                       size_t whylen);
/* assignee NULL or "" unassigns. */
int incident_set_assignee(struct incident *inc, const char *assignee, const char *who,
                          int64_t now_us, struct incident_change *ret, char *why, size_t whylen);

/* Adds an entity / alert id / kill-chain stage (duplicates are no change).
 * -E2BIG past the caps, -EINVAL for a bad value, -ENOMEM. */
int incident_add_entity(struct incident *inc, const char *value, enum incident_entity_kind kind,
                        enum incident_entity_role role, const char *who, int64_t now_us,
                        struct incident_change *ret);
int incident_add_alert(struct incident *inc, uint64_t alert_id, const char *who, int64_t now_us,
                       struct incident_change *ret);
int incident_add_stage(struct incident *inc, enum triage_stage stage, const char *who,
                       int64_t now_us, struct incident_change *ret);

/* ------------------------------------------------------------------ */
/* Time targets                                                        */

/*
 * Target duration of each phase, per category and level (0 = no target).
 * [phase][category 0..4, 0 = unknown category][level Green..Red].
 * Defaults (incident_targets_default): new 15 minutes (the real-time window
 * of MISSION.md section 1), first aid 30 minutes, emergency 2 days, watch
 * 14 days, full response 90 days, closed none; due_soon 20% of the target.
 */
struct incident_targets {
    int64_t target_us[INCIDENT_PHASE_COUNT][5][4];
    /* A deadline is "due soon" when less than this share of its target is
     * left (per mille). */
    unsigned due_soon_permille;
};

void incident_targets_default(struct incident_targets *t);
/* Overrides one target.  category ASSET_CAT_NONE..D, or -1 for all;
 * level Green..Red, or -1 for all.  -EINVAL out of range or us < 0. */
int incident_targets_set(struct incident_targets *t, enum incident_phase phase, int category,
                         int level, int64_t us);

struct incident_deadline {
    int has_target;  /* 0: the phase has no target (closed); the rest is 0 */
    int64_t due_us;  /* phase_since_us + target */
    int64_t left_us; /* due_us - now; negative when overdue */
    int overdue;     /* now > due_us */
    int due_soon;    /* not overdue, and left < due_soon share of target */
};

/* The current phase's deadline of `inc` at now_us.  Always 0. */
int incident_deadline(const struct incident *inc, const struct incident_targets *t, int64_t now_us,
                      struct incident_deadline *ret);
/* Writes into ret_idx (room for `max`) the indexes of the overdue ones
 * among incs[0..n) (NULL entries skipped), returns how many are overdue
 * (which may exceed max). */
size_t incident_overdue(const struct incident *const *incs, size_t n,
                        const struct incident_targets *t, int64_t now_us, size_t *ret_idx,
                        size_t max);

/* ------------------------------------------------------------------ */
/* The organisation's declared level per category (MISSION.md §3)      */

#define INCIDENT_ORG_MAX_HISTORY 100000

struct incident_declaration {
    enum asset_category category; /* A..D */
    enum triage_alert_level level;
    int64_t time_us;
    char who[INCIDENT_NAME_MAX + 1];
    char why[INCIDENT_REASON_MAX + 1];
};

/* History of declarations, oldest first.  Embedded (init/done). */
struct incident_org {
    struct incident_declaration *hist; /* owned */
    size_t n, cap;
};

void incident_org_init(struct incident_org *org);
void incident_org_done(struct incident_org *org);
/*
 * Declares `level` for category A..D.  who and why are required (a
 * declaration without a reason cannot be audited); time must not go before
 * the last declaration.  -EINVAL (why in reterr_msg when not NULL: a static
 * string), -E2BIG past INCIDENT_ORG_MAX_HISTORY, -ENOMEM.
 */
int incident_org_declare(struct incident_org *org, enum asset_category category,
                         enum triage_alert_level level, const char *who, const char *why,
                         int64_t now_us, const char **reterr_msg);
/* The current level of a category (Green when never declared); *ret_decl
 * (may be NULL) gets the declaration behind it or NULL. */
enum triage_alert_level incident_org_current(const struct incident_org *org,
                                             enum asset_category category,
                                             const struct incident_declaration **ret_decl);

/* ------------------------------------------------------------------ */
/* The real risk meter (MISSION.md §6)                                 */

/*
 * value = A + A * (100 - B) * (100 - C) * D
 *   A: base risk (>= 0), e.g. the triage risk of the most exposed entity or
 *      the asset's value; B: percentage (0..100) of a first measure in place,
 *      e.g. hosts behind the firewall rule; C: percentage (0..100) of a
 *      second measure, e.g. hosts patched or inspected; D: factor (>= 0),
 *      e.g. the attacker's observed activity (alerts per hour).
 * Returns 0, or -EINVAL for NaN, infinities or values out of range, and
 * -ERANGE when the result is not finite.
 */
int incident_risk_meter(double a, double b, double c, double d, double *ret);

#define INCIDENT_RISK_MAX_SAMPLES 4096

struct incident_risk_sample {
    int64_t time_us;
    double a, b, c, d, value;
};

/* The meter over time; past INCIDENT_RISK_MAX_SAMPLES the oldest goes. */
struct incident_risk_history {
    struct incident_risk_sample *s; /* owned; ring of cap entries */
    size_t start, n, cap;
};

void incident_risk_history_init(struct incident_risk_history *h);
void incident_risk_history_done(struct incident_risk_history *h);
/* Computes and records a sample (errors of incident_risk_meter, -ENOMEM). */
int incident_risk_history_add(struct incident_risk_history *h, int64_t time_us, double a, double b,
                              double c, double d);
/* The i-th sample, oldest first; NULL past the end. */
const struct incident_risk_sample *incident_risk_history_get(const struct incident_risk_history *h,
                                                             size_t i);

/* ------------------------------------------------------------------ */
/* JSON                                                                */

/*
 * Appends `inc` as one JSON object (keys as in docs/incident.md: id, title,
 * summary, type, detection_method, leak_type (null when none), category,
 * level, phase, assignee,
 * responsible, entities, alerts, stages, tags, created_us, updated_us, phase_since_us,
 * version).  0, -ENOMEM, -E2BIG (the buffer's cap).
 */
int incident_to_json(const struct incident *inc, struct buf *b);

/*
 * Reads a whole incident written by incident_to_json (every key optional
 * except id; unknown keys refused).  On success *ret is initialised and
 * owned by the caller (incident_done).  -EINVAL with reterr (offset and a
 * static message naming the field) for bad JSON, an unknown key, a wrong
 * type or a value past its cap; *ret is then zeroed.  -ENOMEM.
 */
int incident_from_json(const char *json, size_t len, struct incident *ret,
                       struct parse_err *reterr);

/*
 * Applies a partial update, the body of an API PATCH: a JSON object of
 * some of title, summary, type, detection_method, leak_type (string or
 * null), category, level, phase, assignee and responsible (string or
 * null), tags (array, replaces), reason (applies to every change),
 * version (when present must equal inc->version, else -ESTALE).  All or
 * nothing: the object is fully validated first; on any error `inc` is
 * unchanged.  A phase change obeys incident_transition and is
 * applied last.  On success *ret_changes (heap, caller frees; NULL when
 * none) holds one timeline entry per change.  Errors: -EINVAL with reterr
 * (an unknown field is named: "unknown field" with off at its key), -ESTALE,
 * -ENOMEM.  For an illegal transition reterr->msg is "illegal phase change"
 * and `why` (if whylen) holds the sentence.
 */
int incident_update_json(struct incident *inc, const char *json, size_t len, const char *who,
                         int64_t now_us, struct incident_change **ret_changes, size_t *ret_n,
                         struct parse_err *reterr, char *why, size_t whylen);
/* The same for the API's PATCH, where `version` is required (-EINVAL
 * "version is required ..." without it): an update made without reading
 * the incident first could silently undo someone else's. */
int incident_patch_json(struct incident *inc, const char *json, size_t len, const char *who,
                        int64_t now_us, struct incident_change **ret_changes, size_t *ret_n,
                        struct parse_err *reterr, char *why, size_t whylen);

#endif
