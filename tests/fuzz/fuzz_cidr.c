/*
 * fuzz_cidr.c - libFuzzer target for util/cidr.c.
 *
 * The bytes are a peers: entry.  cidr_parse must accept or refuse without
 * reading past them; an accepted network has a prefix within its family,
 * no host bits set, contains its own address, and its printed form parses
 * back to the same network.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cidr n, back;
    char text[CIDR_TEXT_MAX];
    char *copy;
    int r;

    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    r = cidr_parse(copy, size, &n);
    free(copy);
    if (r < 0)
        return 0;
    if ((n.family != 4 && n.family != 6) || n.prefix > (n.family == 4 ? 32 : 128))
        abort();
    if (!cidr_contains(&n, n.family, n.addr))
        abort();
    cidr_format(&n, text, sizeof(text));
    if (cidr_parse(text, strlen(text), &back) < 0 || memcmp(&back, &n, sizeof(n)) != 0)
        abort();
    return 0;
}
