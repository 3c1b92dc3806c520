/*
 * fuzz_intel_pattern.c - libFuzzer target for a STIX pattern (src/intel/intel_pattern.c).
 *
 * The bytes are a feed from outside.  The parser must accept or refuse
 * without reading past them (a LIKE's translation included); a URL
 * pattern it hands over is compiled by Vectorscan or refused cleanly;
 * every indicator it hands over holds a value that is canonical for its
 * type (normalising it again gives it back unchanged), and every refusal
 * says where and why.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intel/intel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_ind(void *ctx, const struct intel_ind *ind)
{
    char again[INTEL_VALUE_MAX + 1];
    const char *why;

    (void)ctx;
    if ((unsigned)ind->type >= INTEL_TYPE_COUNT || ind->tlp >= INTEL_TLP_COUNT ||
        ind->confidence > 100 || ind->ntags > INTEL_TAGS_MAX)
        abort();
    if (intel_normalize(ind->type, ind->value, strlen(ind->value), again, &why) < 0 ||
        strcmp(again, ind->value) != 0)
        abort();
    return 0;
}

static void on_bad(void *ctx, const char *where, const char *why)
{
    (void)ctx;
    if (!where || !why || !*why)
        abort();
}

static int on_eq(void *ctx, const struct intel_pattern_eq *eq)
{
    char once[INTEL_VALUE_MAX + 1], twice[INTEL_VALUE_MAX + 1];
    const char *why;

    (void)ctx;
    if ((unsigned)eq->type >= INTEL_TYPE_COUNT || (eq->len && !eq->value))
        abort();
    /* a URL pattern (MATCHES, or a LIKE translated) goes through
     * Vectorscan's compiler; what it accepts is canonical as it stands */
    if (eq->type == INTEL_URL_PATTERN &&
        intel_normalize(eq->type, eq->value, eq->len, once, &why) == 0 &&
        (intel_normalize(eq->type, once, strlen(once), twice, &why) < 0 ||
         strcmp(once, twice) != 0))
        abort();
    return 0;
}

static void on_unsup(void *ctx, size_t off, const char *why)
{
    (void)ctx;
    (void)off;
    if (!why)
        abort();
}

static int on_uuid(void *ctx, const char *uuid)
{
    (void)ctx;
    if (strlen(uuid) != 36 || strchr(uuid, '/') || strchr(uuid, '.'))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct intel_sink s = {on_ind, on_bad, NULL};
    struct parse_err e = {0, 0, 0, NULL};
    char *copy;
    int r;

    (void)s;
    (void)on_eq;
    (void)on_unsup;
    (void)on_uuid;
    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    r = intel_pattern_parse(copy, size, on_eq, on_unsup, NULL, &e);
    if (r == -EINVAL && !e.msg)
        abort(); /* a refusal says why */
    free(copy);
    return 0;
}
