/*
 * intel_priv.h - what the feed parsers of src/intel/ share: reading JSON
 * spans into C strings, and handing a value to the sink once normalised.
 */
#ifndef HIKESHI_INTEL_INTEL_PRIV_H
#define HIKESHI_INTEL_INTEL_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "intel/intel.h"
#include "util/jp.h"

/* The Vectorscan flags of a URL pattern, at import (intel_urlpat_check)
 * and in the matcher's database alike (a file using it includes hs/hs.h). */
#define INTEL_URLPAT_HS_FLAGS HS_FLAG_SINGLEMATCH

/* Decodes string span `v` into out[cap + 1]: 0, or -EINVAL when it is not
 * a string or is longer than cap. */
int intel_span_str(struct jp_span v, char *out, size_t cap);
/* Member `key` of object `obj` as a string: 0, -ENOENT, -EINVAL. */
int intel_member_str(struct jp_span obj, const char *key, char *out, size_t cap);
/* An RFC 3339 timestamp string span to µs: 0 or -EINVAL. */
int intel_span_time(struct jp_span v, int64_t *ret_us);
/* Normalises raw[0..len) as `type` into ind->value and hands `ind` to the
 * sink, or reports it as bad at `where`.  0 or the sink's error. */
int intel_emit(const struct intel_sink *s, struct intel_ind *ind, int type, const char *raw,
               size_t len, const char *where);
/* Reports a refused entry: where and why. */
void intel_bad(const struct intel_sink *s, const char *where, const char *why);

#endif
