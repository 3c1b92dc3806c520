/*
 * intel_export.h - the indicators of the store as others read them: a
 * STIX 2.1 bundle, a MISP event, CSV (`hikeshi intel export`), and the
 * STIX objects the TAXII server pages through (api_taxii.c).
 *
 * The Traffic Light Protocol is applied here, once, for every way out:
 * TLP:RED never leaves, and nothing more restricted than the caller's
 * `tlp_max` is collected (docs/intel.md, "Export and sharing").
 */
#ifndef HIKESHI_INTEL_INTEL_EXPORT_H
#define HIKESHI_INTEL_INTEL_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "intel/intel.h"
#include "util/buf.h"

struct store;

enum intel_export_format {
    INTEL_EXPORT_STIX = 0,
    INTEL_EXPORT_MISP,
    INTEL_EXPORT_CSV,
};

/* The OASIS TLP 2.0 marking-definition id of a TLP ("marking-definition--..."). */
const char *intel_export_tlp_marking(enum intel_tlp t);

/* 1 when an indicator of TLP `tlp` may go to a reader allowed `tlp_max`:
 * never RED, else tlp <= tlp_max.  An unknown TLP (-1) is never shared. */
int intel_export_tlp_allowed(int tlp, int tlp_max);

/* Appends the STIX pattern of one indicator ("[ipv4-addr:value = '...']",
 * a URL pattern as "[url:value MATCHES 'regex']"),
 * quotes and backslashes in the value escaped.  0, -EINVAL (a type with
 * no pattern), or the buffer's error. */
int intel_export_pattern(struct buf *b, enum intel_type t, const char *value);

/* The indicators collected for an export, owned by the set. */
struct intel_export_set;

/*
 * Collects the store's indicators a reader allowed `tlp_max` may have
 * (intel_export_tlp_allowed), ordered by when they were added (first
 * seen, then row id): the order TAXII's added_after pages in.  0 or a
 * negative errno.
 */
int intel_export_collect(struct store *st, int tlp_max, struct intel_export_set **ret);
/*
 * As intel_export_collect, only the indicators incident `incident`'s
 * alerts were enriched with: the (type, value) pairs of their
 * threat.indicator.type and .value fields, looked up in the store (a pair
 * whose indicator has gone since is not exported).  *ret_sighted: the
 * distinct pairs found.  0, -EIO (the store's message in store_errmsg)
 * or -ENOMEM.
 */
int intel_export_collect_incident(struct store *st, int64_t incident, int tlp_max,
                                  struct intel_export_set **ret, size_t *ret_sighted);
void intel_export_set_free(struct intel_export_set *s);
size_t intel_export_count(const struct intel_export_set *s);
/* When indicator i was added (its first import), in µs. */
int64_t intel_export_added_us(const struct intel_export_set *s, size_t i);
/* Indicators withheld by the TLP filter (counted, never written). */
size_t intel_export_withheld(const struct intel_export_set *s);

struct intel_export_opts {
    enum intel_export_format format;
    const char *identity; /* who we are (the CSIRT's name); NULL: "hikeshi" */
    int64_t now_us;
};

/*
 * Writes the whole set in o->format: a STIX 2.1 bundle (our identity,
 * one indicator per row with its TLP marking, a sighting per sighted
 * indicator, malware / campaign / intrusion-set / attack-pattern objects
 * with an `indicates` relationship for tags naming them), a MISP event
 * ({"Event": {... "Attribute": [...]}}), or CSV.  *ret_skipped (may be
 * NULL) gets the indicators the format cannot say (MISP has no type for
 * a process name).  0 or the buffer's error.
 */
int intel_export_write(const struct intel_export_set *s, const struct intel_export_opts *o,
                       struct buf *b, size_t *ret_skipped);

/* Appends the STIX indicator objects [from, to) of the set, separated by
 * commas (the inside of a TAXII envelope's "objects" array). */
int intel_export_stix_objects(const struct intel_export_set *s, size_t from, size_t to,
                              const struct intel_export_opts *o, struct buf *b);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (STIX and TAXII timestamps, millisecond
 * precision) into out[32]. */
void intel_export_time(int64_t us, char out[32]);

#endif
