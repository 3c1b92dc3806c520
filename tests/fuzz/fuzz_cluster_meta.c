/*
 * fuzz_cluster_meta.c - the analyser's reading of a stream message's
 * metadata header and record id (src/cluster/cluster_rec.c): any client
 * allowed to publish on the subject could have written them.  A value that
 * parses must format back to the same bytes (one spelling per record);
 * a refusal must name an offset inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cluster_meta m;
    struct parse_err err = {0};
    char out[CLUSTER_META_MAX];
    char *p = malloc(size ? size : 1);

    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    if (cluster_meta_parse(p, size, &m, &err) == 0) {
        cluster_meta_format(&m, out);
        if (strlen(out) != size || memcmp(out, p, size) != 0)
            abort();
    } else if (!err.msg || err.off > size) {
        abort();
    }
    (void)cluster_rec_id_ok(p, size);
    (void)cluster_input_name_ok(p, size);
    free(p);
    return 0;
}
