/*
 * fuzz_asset.c - libFuzzer over the asset inventory loaders (YAML and CSV)
 * and the triage options parser.  The first byte picks the parser: 'C' CSV,
 * 'O' triage options, anything else YAML; the rest is the text.  After a
 * load the inventory is queried so that lookups run over what was parsed.
 */
#include <stddef.h>
#include <stdint.h>

#include "triage/asset.h"
#include "triage/triage.h"

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
    static const char *const ips[] = {"192.0.2.10", "10.1.2.3", "2001:db8::1", "::ffff:10.0.0.1"};
    struct asset_inv inv;
    const char *text = (const char *)d + 1;
    size_t len = n ? n - 1 : 0;

    if (n == 0)
        return 0;
    if (d[0] == 'O') {
        struct triage_opts *o = NULL;
        struct parse_err e;
        if (triage_opts_parse(text, len, "fuzz", 0, &o, &e) == 0)
            triage_opts_free(o);
        return 0;
    }
    asset_inv_init(&inv);
    if (d[0] == 'C')
        (void)asset_inv_load_csv(&inv, text, len, "fuzz.csv");
    else
        (void)asset_inv_load_yaml(&inv, text, len, "fuzz.yaml");
    for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
        (void)asset_inv_by_ip(&inv, ips[i], __builtin_strlen(ips[i]));
    (void)asset_inv_by_name(&inv, "web01.example.org", 17);
    (void)asset_inv_by_name(&inv, text, len < 64 ? len : 64);
    (void)asset_inv_by_ip(&inv, text, len < 64 ? len : 64);
    asset_inv_done(&inv);
    return 0;
}
