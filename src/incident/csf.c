/*
 * csf.c - names of the NIST CSF functions (see csf.h).
 */
#include "incident/csf.h"

#include <errno.h>
#include <string.h>

static const char *const csf_names[CSF_COUNT] = {
    [CSF_NONE] = "",           [CSF_IDENTIFY] = "identify", [CSF_PROTECT] = "protect",
    [CSF_DETECT] = "detect",   [CSF_RESPOND] = "respond",   [CSF_RECOVER] = "recover",
};

const char *csf_function_name(enum csf_function f)
{
    return (unsigned)f < CSF_COUNT ? csf_names[f] : "";
}

int csf_function_from_name(const char *s, size_t len, enum csf_function *ret)
{
    for (int f = CSF_IDENTIFY; f < CSF_COUNT; f++)
        if (strlen(csf_names[f]) == len && memcmp(csf_names[f], s, len) == 0) {
            *ret = (enum csf_function)f;
            return 0;
        }
    return -EINVAL;
}
