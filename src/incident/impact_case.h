/*
 * impact_case.h - the impact and threat analysis and the countermeasures
 * on the case file (issue 25; impact.h holds the analysis and its level
 * rule).  One store transaction each, with a timeline and an audit entry
 * (incident.impact, countermeasure.add, countermeasure.update).  Errors
 * as casefile.h's.
 */
#ifndef HIKESHI_INCIDENT_IMPACT_CASE_H
#define HIKESHI_INCIDENT_IMPACT_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "incident/casefile.h"

/* Body: {"category", "scale", "state" (required), "whom", "description",
 * and per layer technical_general, technical_specific, business:
 * "LAYER_direct", "LAYER_secondary"}; replaces the analysis.  *ret_level
 * (may be NULL) gets the recommended level's name. */
int impact_case_put(const struct casefile *cf, int64_t incident, const char *who, const char *body,
                    size_t len, int64_t now_us, const char **ret_level, struct casefile_err *err);

/* Body: {"function" (deter, prevent, defend, detect, recover), "title",
 * "owner" (required), "due" (ISO 8601)}. */
int impact_case_cm_add(const struct casefile *cf, int64_t incident, const char *who,
                       const char *body, size_t len, int64_t now_us, int64_t *ret_id,
                       struct casefile_err *err);
/* Body: {"state" (planned, in_progress, done, verified), "verification"};
 * "verified" needs a verification (what was checked, how) now or before. */
int impact_case_cm_update(const struct casefile *cf, int64_t incident, int64_t cm, const char *who,
                          const char *body, size_t len, int64_t now_us, struct casefile_err *err);

#endif
