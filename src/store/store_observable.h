/*
 * store_observable.h - an incident's observables (issue 20, docs/intel.md
 * "Observables in incidents"): the addresses, names, URLs, hashes and
 * users its alerts' events held, taken as each alert joins the incident,
 * and those analysts add.  The same (type, value) in two incidents links
 * them; an observable can be promoted to an indicator of the local feed.
 * One table, incident_observables (migration 18).
 */
#ifndef HIKESHI_STORE_STORE_OBSERVABLE_H
#define HIKESHI_STORE_STORE_OBSERVABLE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct store;

/* Who added an observable. */
#define STORE_OBS_ALERT "alert"
#define STORE_OBS_ANALYST "analyst"

/*
 * Adds (type, value) to incident `incident` unless it holds it already.
 * origin STORE_OBS_*, by the analyst's name (NULL for alerts), alert_id
 * the alert it came from (0: none), note may be NULL.  *ret_id (may be
 * NULL) gets the observable's id, new or held; *ret_new (may be NULL) 1
 * when it was added.  0 or a negative errno.
 */
int store_observable_add(struct store *st, int64_t incident, const char *type, const char *value,
                         const char *origin, const char *by, int64_t alert_id, const char *note,
                         int64_t now_us, int64_t *ret_id, int *ret_new);
/* Deletes observable `id` of `incident`: 0, -ENOENT. */
int store_observable_delete(struct store *st, int64_t incident, int64_t id);
/*
 * Appends the observables of `incident` (JSON objects, comma-separated,
 * oldest first; each with "incidents": the other incidents holding the
 * same type and value) to `out`.  *ret_n (may be NULL) gets their count.
 */
int store_observables_json(struct store *st, int64_t incident, struct buf *out, size_t *ret_n);
/* Appends one observable of `incident` as a JSON object; -ENOENT. */
int store_observable_json(struct store *st, int64_t incident, int64_t id, struct buf *out);
/* Appends the incidents linked to `incident` by a shared observable, as
 * {"incident": N, "shared": COUNT} objects, comma-separated, lowest first
 * (at most 1000). */
int store_observable_links_json(struct store *st, int64_t incident, struct buf *out, size_t *ret_n);
/* Reads observable `id` of `incident`: its type and value into the
 * buffers (cut to fit).  0, -ENOENT. */
int store_observable_get(struct store *st, int64_t incident, int64_t id, char *type,
                         size_t type_size, char *value, size_t value_size);
/*
 * Promotes observable `id` of `incident` to an indicator of `feed`
 * (type, value canonical, as the caller checked them), with `confidence`
 * and `tlp`, inside the caller's transaction: an indicator of that feed
 * already held is re-stated (confidence and TLP replaced, its sightings
 * kept).  The
 * observable records the indicator's id (*ret_indicator, may be NULL).
 * 0, -ENOENT (no such observable), or a negative errno.
 */
int store_observable_promote(struct store *st, int64_t incident, int64_t id, const char *feed,
                             const char *type, const char *value, int confidence, const char *tlp,
                             int64_t now_us, int64_t *ret_indicator);

#endif
