/*
 * casefile_observable.h - an analyst's changes to an incident's
 * observables (issue 20, docs/intel.md "Observables in incidents"): add
 * one, remove one, promote one to an indicator of the local feed.  Each
 * runs in the case file's transaction: checked, stored, on the timeline
 * and in the audit log together, or not at all.
 */
#ifndef HIKESHI_INCIDENT_CASEFILE_OBSERVABLE_H
#define HIKESHI_INCIDENT_CASEFILE_OBSERVABLE_H

#include <stddef.h>
#include <stdint.h>

#include "incident/casefile.h"

/* The feed promoted observables go to. */
#define CASEFILE_OBS_FEED "local"
/* The confidence of a promoted observable when the body gives none. */
#define CASEFILE_OBS_CONFIDENCE 80

/*
 * Adds the observable of `body` ({"type", "value"[, "note"]}) to incident
 * `id`: type an indicator type (ipv4, domain, sha256 ... as docs/intel.md)
 * or "user"; the value is checked and stored in its canonical form.  0
 * with *ret_obs and *ret_new (1: added, 0: the incident held it already,
 * nothing written); -EINVAL / -ENOENT told in *err.
 */
int casefile_observable_add(const struct casefile *cf, int64_t id, const char *who,
                            const char *body, size_t len, int64_t now_us, int64_t *ret_obs,
                            int *ret_new, struct casefile_err *err);
/* Removes observable `obs` of incident `id`: 0, -ENOENT told in *err. */
int casefile_observable_delete(const struct casefile *cf, int64_t id, int64_t obs, const char *who,
                               int64_t now_us, struct casefile_err *err);
/*
 * Promotes observable `obs` of incident `id` to an indicator of the feed
 * CASEFILE_OBS_FEED with the TLP and confidence of `body` ({"tlp"[,
 * "confidence"]}, confidence 0..100, default CASEFILE_OBS_CONFIDENCE).  A
 * user name has no indicator type: -EINVAL.  0 with *ret_indicator.
 */
int casefile_observable_promote(const struct casefile *cf, int64_t id, int64_t obs, const char *who,
                                const char *body, size_t len, int64_t now_us,
                                int64_t *ret_indicator, struct casefile_err *err);

/* Alerts of one aggregated alert read for observables when it is
 * attached: its first CASEFILE_OBS_AGG_ALERTS alerts, at most
 * CASEFILE_OBS_PER_ALERT observables each. */
#define CASEFILE_OBS_AGG_ALERTS 64
#define CASEFILE_OBS_PER_ALERT 32
/* Of a bulk attach, the first this many aggregated alerts are read. */
#define CASEFILE_OBS_BULK_AGGS 256

/*
 * Inside the caller's case file transaction: adds to incident `incident`
 * the observables of the stored events of aggregated alert `agg` (its
 * first CASEFILE_OBS_AGG_ALERTS alerts; the fields and canonical forms of
 * intel_obs_fields), origin alert.  *ret_added (may be NULL) gets how many
 * were new.  0 or a store error (told in *err); an event whose fields do
 * not read adds nothing.
 */
int casefile_observables_from_agg(const struct casefile *cf, int64_t incident, int64_t agg,
                                  int64_t now_us, size_t *ret_added, struct casefile_err *err);

#endif
