/*
 * fuzz_sigma_cond.c - the Sigma condition parser on arbitrary bytes: no
 * crash, no leak, errors always carry a column inside the input (+1).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "detect/sigma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char n0[] = "selection", n1[] = "sel2", n2[] = "filter_main", n3[] = "filter_opt",
                n4[] = "_helper", n5[] = "a-b";
    char *const names[] = {n0, n1, n2, n3, n4, n5};
    struct sigma_cond *c = NULL;
    struct parse_err pe = {0};
    unsigned warn = 0;
    char reason[128];

    int r = sigma_cond_parse((const char *)data, size, names, 6, &c, &warn, &pe, reason,
                             sizeof(reason));
    if (r == -EINVAL && (pe.off > size || pe.msg == NULL))
        abort();
    if (r == 0 && c == NULL)
        abort();
    sigma_cond_free(c);
    return 0;
}
