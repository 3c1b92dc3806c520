/*
 * csf.h - the five functions of the NIST Cybersecurity Framework
 * (MISSION.md section 7): identify, protect, detect, respond, recover.
 *
 * Tasks of playbooks and procedures name the function they serve, so that
 * reports can say how much of the work went into each (docs/incident.md).
 */
#ifndef HIKESHI_INCIDENT_CSF_H
#define HIKESHI_INCIDENT_CSF_H

#include <stddef.h>

enum csf_function {
    CSF_NONE = 0, /* not said */
    CSF_IDENTIFY,
    CSF_PROTECT,
    CSF_DETECT,
    CSF_RESPOND,
    CSF_RECOVER,
};
#define CSF_COUNT (CSF_RECOVER + 1)

/* "identify" .. "recover"; "" for CSF_NONE or out of range. */
const char *csf_function_name(enum csf_function f);

/* Exact, lower-case name of len bytes to its function (not CSF_NONE):
 * 0, or -EINVAL. */
int csf_function_from_name(const char *s, size_t len, enum csf_function *ret);

#endif
