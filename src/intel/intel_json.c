/*
 * intel_json.c - the helpers the JSON feed parsers (STIX, MISP) share
 * over the house's one JSON reader (util/jp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "event/time.h"
#include "intel/intel_priv.h"

int intel_span_str(struct jp_span v, char *out, size_t cap)
{
    struct parse_err err;
    struct jp j = {v.p, v.len, 0, &err, NULL, 0};

    if (v.len == 0 || v.p[0] != '"')
        return -EINVAL;
    return jp_string(&j, out, cap, NULL) < 0 ? -EINVAL : 0;
}

int intel_member_str(struct jp_span obj, const char *key, char *out, size_t cap)
{
    struct jp_span v;
    int r;

    if ((r = jp_lookup(obj, key, &v)) < 0)
        return r;
    return intel_span_str(v, out, cap);
}

int intel_span_time(struct jp_span v, int64_t *ret_us)
{
    char t[64];
    size_t used;

    if (intel_span_str(v, t, sizeof(t) - 1) < 0)
        return -EINVAL;
    if (time_parse_iso8601(t, strlen(t), NULL, ret_us, &used) < 0 || used != strlen(t))
        return -EINVAL;
    return 0;
}

void intel_bad(const struct intel_sink *s, const char *where, const char *why)
{
    if (s->bad)
        s->bad(s->ctx, where, why);
}

int intel_emit(const struct intel_sink *s, struct intel_ind *ind, int type, const char *raw,
               size_t len, const char *where)
{
    const char *why = NULL;

    if (type < 0 || type >= INTEL_TYPE_COUNT) {
        intel_bad(s, where, "unknown indicator type");
        return 0;
    }
    if (intel_normalize((enum intel_type)type, raw, len, ind->value, &why) < 0) {
        /* the value, shortened and with control bytes shown as '?', so
         * that the report can be printed as it is */
        char shown[100], msg[256];
        size_t n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;
        for (size_t i = 0; i < n; i++)
            shown[i] = (unsigned char)raw[i] < 0x20 || raw[i] == 0x7f ? '?' : raw[i];
        shown[n] = '\0';
        snprintf(msg, sizeof(msg), "%s '%s%s': %s", intel_type_name((enum intel_type)type), shown,
                 len > n ? "..." : "", why);
        intel_bad(s, where, msg);
        return 0;
    }
    ind->type = (enum intel_type)type;
    return s->ind(s->ctx, ind);
}
