/*
 * fuzz_nkey.c - nats.nkey_seed_file's and nats.credentials_file's content
 * as cluster_nkey.c reads them (src/cluster/cluster_nkey.c): files someone
 * else's tool wrote.  A seed
 * accepted must give a user public key of the right shape; a refusal must
 * say why and leave no key behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_nkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char pub[CLUSTER_NKEY_PUBLIC_LEN + 1];
    const char *why = NULL;
    char *p = malloc(size ? size : 1);

    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    if (cluster_nkey_user_public(p, size, pub, &why) == 0) {
        if (strlen(pub) != CLUSTER_NKEY_PUBLIC_LEN || pub[0] != 'U' ||
            strspn(pub, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != CLUSTER_NKEY_PUBLIC_LEN)
            abort();
    } else if (!why || pub[0] != '\0') {
        abort();
    }
    why = NULL;
    if (cluster_nkey_creds_user_public(p, size, pub, &why) == 0) {
        if (strlen(pub) != CLUSTER_NKEY_PUBLIC_LEN || pub[0] != 'U')
            abort();
    } else if (!why || pub[0] != '\0') {
        abort();
    }
    free(p);
    return 0;
}
