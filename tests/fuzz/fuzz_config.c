/*
 * fuzz_config.c - the configuration parser on arbitrary bytes: no crash,
 * no leak, and whatever parses prints a normal form that parses again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *c = NULL, *c2 = NULL;
    struct parse_err err;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    if (config_parse((const char *)data, size, "fuzz", &c, &err) != 0)
        return 0;
    f = open_memstream(&text, &len);
    if (f) {
        config_print(c, f);
        fclose(f);
        if (config_parse(text, len, NULL, &c2, &err) != 0)
            abort(); /* the normal form must always parse */
        config_free(c2);
        free(text);
    }
    config_free(c);
    return 0;
}
