/*
 * impact.h - the impact and threat analysis of an incident (MISSION.md
 * section 2, issue 25): the impact category with its scale and state,
 * the three threat layers each with its direct threat and its secondary
 * threat (what a countermeasure itself risks), the level they recommend,
 * and the security functions countermeasures serve.
 *
 * Pure logic: impact_case.c stores it on the record and drafts, the API
 * shows it; the first report to the responsible person carries it.
 *
 * The rule (docs/incident.md, "Impact and threat analysis"), after
 * MISSION.md section 3 (Red: happening, CIA impaired; Orange: highly
 * likely or converging; Yellow: possible, watch):
 *   state occurring, and society at large or scale significant/severe -> Red
 *   state occurring otherwise                                          -> Orange
 *   state likely, and society or third parties or scale >= significant -> Orange
 *   state likely otherwise, or state possible                           -> Yellow
 *   state none                                                          -> Green
 * Secondary threats never raise the level; they are listed as cautions
 * to weigh before a countermeasure is taken.
 */
#ifndef HIKESHI_INCIDENT_IMPACT_H
#define HIKESHI_INCIDENT_IMPACT_H

#include <stddef.h>

#include "triage/triage.h"
#include "util/buf.h"

enum impact_category {
    IMPACT_CATEGORY_NONE = 0, /* not yet known */
    IMPACT_CATEGORY_SOCIETY,  /* society at large */
    IMPACT_CATEGORY_THIRD,    /* specific third parties */
    IMPACT_CATEGORY_OWN,      /* own organisation */
    IMPACT_CATEGORY_COUNT
};
enum impact_scale {
    IMPACT_SCALE_NONE = 0,
    IMPACT_SCALE_LIMITED,
    IMPACT_SCALE_SIGNIFICANT,
    IMPACT_SCALE_SEVERE,
    IMPACT_SCALE_COUNT
};
enum impact_state {
    IMPACT_STATE_NONE = 0, /* no damage expected */
    IMPACT_STATE_POSSIBLE,
    IMPACT_STATE_LIKELY,
    IMPACT_STATE_OCCURRING,
    IMPACT_STATE_COUNT
};
enum impact_layer {
    IMPACT_LAYER_TECH_GENERAL = 0,
    IMPACT_LAYER_TECH_SPECIFIC,
    IMPACT_LAYER_BUSINESS,
    IMPACT_LAYER_COUNT
};
enum impact_function {
    IMPACT_FUNCTION_DETER = 0,
    IMPACT_FUNCTION_PREVENT,
    IMPACT_FUNCTION_DEFEND,
    IMPACT_FUNCTION_DETECT,
    IMPACT_FUNCTION_RECOVER,
    IMPACT_FUNCTION_COUNT
};

#define IMPACT_TEXT_MAX 4000

/* The analysis; the strings are the caller's (NULL or "": not given). */
struct impact {
    enum impact_category category;
    enum impact_scale scale;
    enum impact_state state;
    const char *whom;        /* who is affected */
    const char *description; /* what the impact is */
    const char *direct[IMPACT_LAYER_COUNT];
    const char *secondary[IMPACT_LAYER_COUNT];
};

/* "society", "third_parties", "own", "none"; "none", "limited",
 * "significant", "severe"; "none", "possible", "likely", "occurring";
 * "technical_general", "technical_specific", "business"; "deter" ...
 * Inverse lookups: 0 or -EINVAL. */
const char *impact_category_name(enum impact_category c);
const char *impact_scale_name(enum impact_scale s);
const char *impact_state_name(enum impact_state s);
const char *impact_layer_name(enum impact_layer l);
const char *impact_function_name(enum impact_function f);
int impact_category_from_name(const char *s, enum impact_category *ret);
int impact_scale_from_name(const char *s, enum impact_scale *ret);
int impact_state_from_name(const char *s, enum impact_state *ret);
int impact_function_from_name(const char *s, enum impact_function *ret);

/* The level the analysis recommends (the rule above); why (may be NULL)
 * gets the sentence that says which row applied. */
enum triage_alert_level impact_recommend(const struct impact *im, char *why, size_t why_size);

/* The analysis as a JSON object (docs/api.md IMPACT, without the members
 * the store adds). */
int impact_json(const struct impact *im, struct buf *out);
/* The analysis as text for a message: the impact lines, or the threat
 * lines (each layer's direct and secondary threat). */
int impact_text(const struct impact *im, struct buf *out);
int impact_threats_text(const struct impact *im, struct buf *out);

#endif
