/*
 * incident_priv.h - what the record (incident.c) and its JSON forms
 * (incident_json.c) share: the helpers a change is made with.  Included
 * by those two files only; incident.h is the interface.
 */
#ifndef HIKESHI_INCIDENT_INCIDENT_PRIV_H
#define HIKESHI_INCIDENT_INCIDENT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "incident/incident.h"

/* Inverse lookups of the kill-chain stage (not NONE), entity kind and
 * role names.  0 or -EINVAL. */
int incident_stage_from_name(const char *s, size_t len, enum triage_stage *ret);
int incident_entity_kind_from_name(const char *s, size_t len, enum incident_entity_kind *ret);
int incident_entity_role_from_name(const char *s, size_t len, enum incident_entity_role *ret);

/* Copies src into dst[size], cut at a UTF-8 boundary with "..." when it
 * does not fit; NULL copies "". */
void incident_copy_trunc(char *dst, size_t size, const char *src);
void incident_free_tags(char **tags, size_t n);

/* Fills the timeline entry *c (NULL: nothing) of a change at the
 * incident's current version. */
void incident_change_fill(struct incident_change *c, const struct incident *inc, int64_t now_us,
                          const char *who, const char *what, const char *from, const char *to,
                          const char *reason);
/* One change made: version + 1, updated at now_us. */
void incident_bump(struct incident *inc, int64_t now_us);

/* Checks a move to `to` without making it; -EINVAL with why on refusal. */
int incident_transition_check(const struct incident *inc, enum incident_phase to, const char *who,
                              const char *reason, char *why, size_t whylen);
/* Makes a checked move, filling *ch. */
void incident_transition_apply(struct incident *inc, enum incident_phase to, const char *who,
                               const char *reason, int64_t now_us, struct incident_change *ch);
/* Checks a field change: who given, the reason within its cap, a closed
 * incident refusing it (`what` names the thing changed in why). */
int incident_change_check(int closed, const char *who, const char *reason, const char *what,
                          char *why, size_t whylen);

#endif
