/*
 * fuzz_auth_header.c - the Authorization header parser, and the token
 * check a Bearer credential goes through next.
 *
 * The input is copied into a buffer of exactly its size, so ASan catches
 * any read past `len`; the parser must never need a NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char h[AUTH_TOKEN_HASHLEN];
    struct auth_header hdr;
    struct parse_err err;
    char *p;
    int r;

    if (auth_init() < 0)
        abort();
    p = malloc(size ? size : 1);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    r = auth_header_parse(size ? p : NULL, size, &hdr, &err);
    if (r == 0 && hdr.scheme == AUTH_SCHEME_BEARER) {
        if (hdr.token < p || hdr.token + hdr.token_len > p + size || hdr.token_len == 0)
            abort();
        (void)auth_token_hash(hdr.token, hdr.token_len, h);
    } else if (r == 0 && hdr.scheme == AUTH_SCHEME_BASIC) {
        /* Views into the struct, NUL-terminated at their stated length,
         * with no control bytes. */
        if (strlen(hdr.user) != hdr.user_len || strlen(hdr.password) != hdr.password_len ||
            hdr.user_len == 0 || hdr.user_len + hdr.password_len + 1 > AUTH_BASIC_MAX)
            abort();
    } else if (r == 0) {
        abort();
    } else if (err.off > size || !err.msg) {
        abort();
    }
    auth_header_done(&hdr);
    free(p);
    return 0;
}
