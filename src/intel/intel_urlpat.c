/*
 * intel_urlpat.c - URL pattern indicators (STIX `url:value MATCHES` and
 * `LIKE`): the check that Vectorscan compiles a pattern, made when it is
 * imported so that a feed's bad regex is refused there, naming it, and
 * never first found when the matcher builds its database; and the
 * translation of a LIKE wildcard into the anchored regex it means.
 */
#include <ctype.h>
#include <errno.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/intel.h"
#include "intel/intel_priv.h"

/* The pattern as shown in an error: this many bytes, then "...". */
#define URLPAT_SHOWN 80

int intel_urlpat_check(const char *re, size_t len, const char **ret_why)
{
    static _Thread_local char why[URLPAT_SHOWN + 256];
    char shown[URLPAT_SHOWN + 1];
    char *z = NULL;
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    size_t n = len < URLPAT_SHOWN ? len : URLPAT_SHOWN;
    int r = 0;

    if (len == 0) {
        *ret_why = "empty URL pattern";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)re[i] < 0x20 || re[i] == 0x7f) {
            *ret_why = "control character in URL pattern";
            return -EINVAL;
        }
    if (!(z = malloc(len + 1))) {
        *ret_why = "out of memory";
        return -ENOMEM;
    }
    memcpy(z, re, len);
    z[len] = '\0';
    if (hs_compile(z, INTEL_URLPAT_HS_FLAGS, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
        memcpy(shown, re, n);
        shown[n] = '\0';
        snprintf(why, sizeof(why), "regex /%s%s/ refused by Vectorscan: %s", shown,
                 len > n ? "..." : "", cerr && cerr->message ? cerr->message : "does not compile");
        *ret_why = why;
        r = -EINVAL;
    }
    hs_free_compile_error(cerr);
    hs_free_database(db);
    free(z);
    return r;
}

int intel_urlpat_from_like(const char *like, size_t len, char *out, size_t cap,
                           const char **ret_why)
{
    const char *sep = memmem(like, len, "://", 3);
    size_t o = 0, wild = 0, host_end = 0;

    for (size_t i = 0; i < len; i++)
        wild += like[i] == '%';
    if (wild == len) {
        *ret_why = len ? "LIKE '%' matches every URL" : "empty LIKE operand";
        return -EINVAL;
    }
    /* scheme and host in lower case: the URLs scanned are canonical */
    if (sep) {
        host_end = (size_t)(sep - like) + 3;
        while (host_end < len && like[host_end] != '/' && like[host_end] != '?' &&
               like[host_end] != '#')
            host_end++;
    }
    if (cap < 3)
        return -ENOSPC;
    out[o++] = '^';
    for (size_t i = 0; i < len; i++) {
        char c = i < host_end ? (char)tolower((unsigned char)like[i]) : like[i];
        /* room for two bytes, then '$' and the NUL */
        if (o + 4 > cap)
            return -ENOSPC;
        if (c == '%') {
            out[o++] = '.';
            out[o++] = '*';
        } else if (c == '_') {
            out[o++] = '.';
        } else {
            if (c != '\0' && strchr("\\^$.|?*+()[]{}", c))
                out[o++] = '\\';
            out[o++] = c;
        }
    }
    out[o++] = '$';
    out[o] = '\0';
    return (int)o;
}
