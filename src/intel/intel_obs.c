/*
 * intel_obs.c - which event fields hold an incident's observables, and
 * their canonical form (issue 20, docs/intel.md "Observables in
 * incidents"): one table for the pipeline, which takes them from the
 * event of an alert joining an incident, and for the case file, which
 * takes them from the stored events of an alert an analyst attaches.
 */
#include "intel/intel.h"

#include <string.h>

const struct intel_obs_field intel_obs_fields[] = {
    {"source.ip", INTEL_IPV4},
    {"destination.ip", INTEL_IPV4},
    {"client.ip", INTEL_IPV4},
    {"server.ip", INTEL_IPV4},
    {"dns.question.name", INTEL_DOMAIN},
    {"url.domain", INTEL_DOMAIN},
    {"destination.domain", INTEL_DOMAIN},
    {"tls.client.server_name", INTEL_DOMAIN},
    {"url.full", INTEL_URL},
    {"url.original", INTEL_URL},
    {"email.from.address", INTEL_EMAIL},
    {"file.hash.md5", INTEL_MD5},
    {"file.hash.sha1", INTEL_SHA1},
    {"file.hash.sha256", INTEL_SHA256},
    {"process.hash.md5", INTEL_MD5},
    {"process.hash.sha1", INTEL_SHA1},
    {"process.hash.sha256", INTEL_SHA256},
    {"user.name", INTEL_OBS_USER},
    {"user.target.name", INTEL_OBS_USER},
};
const size_t intel_obs_nfields = sizeof(intel_obs_fields) / sizeof(intel_obs_fields[0]);

int intel_obs_norm(int type, const char *v, size_t n, char *out, const char **ret_type)
{
    const char *why = NULL;

    if (type == INTEL_OBS_USER) {
        if (n == 0 || n > INTEL_OBS_USER_MAX)
            return -1;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return -1;
        memcpy(out, v, n);
        out[n] = '\0';
        *ret_type = "user";
        return 0;
    }
    if (type == INTEL_IPV4 && memchr(v, ':', n))
        type = INTEL_IPV6;
    if (type < 0 || type >= INTEL_TYPE_COUNT || type == INTEL_URL_PATTERN ||
        intel_normalize((enum intel_type)type, v, n, out, &why) < 0)
        return -1;
    *ret_type = intel_type_name((enum intel_type)type);
    return 0;
}
