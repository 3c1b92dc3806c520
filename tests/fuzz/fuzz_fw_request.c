/*
 * fuzz_fw_request.c - arbitrary bytes as a request to the firewall helper.
 * A request the helper accepts must render to one nft command made only of
 * the configured names, an address and a number: nothing else may reach
 * the nftables parser.  The helper's never-block check takes the same bytes
 * and must answer 0 or 1 with a sentence when it refuses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "respond/respond_fw.h"
#include "respond/respond_never.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct respond_fw_conf confs[] = {
        {.family = "inet", .table = "hikeshi"},
        {.family = "ip", .table = "fw", .set4 = "bad4"},
        {.family = "ip6", .table = "fw6", .set6 = "bad6"},
    };
    const struct respond_fw_conf *c = &confs[size ? data[size - 1] % 3 : 0];
    static const struct respond_never_src nohost = {
        .route4 = "/nonexistent", .route6 = "/nonexistent", .resolv = "/nonexistent",
        .no_ifaddrs = 1};
    static struct respond_never never;
    struct respond_fw_conf nc;
    char cmd[512], nwhy[256];
    const char *why = NULL;
    int nr;

    if (never.n == 0) {
        respond_never_add_text(&never, "192.0.2.0/24", "in the allowlist");
        respond_never_add_text(&never, "2001:db8::/32", "in a management network");
    }
    nc = *c;
    nc.never = &never;
    nr = respond_fw_request_never(&nc, data, size, &nohost, nwhy, sizeof(nwhy));
    if (nr < 0 || nr > 1 || (nr == 1 && strncmp(nwhy, "the firewall helper refuses", 27) != 0))
        abort();

    if (respond_fw_request_render(c, data, size, cmd, sizeof(cmd), &why) < 0) {
        if (!why || cmd[0] != '\0')
            abort();
        return 0;
    }
    if (size != RESPOND_FW_REQUEST_SIZE || !strstr(cmd, c->table))
        abort();
    if (strncmp(cmd, "add element ", 12) != 0 && strncmp(cmd, "delete element ", 15) != 0 &&
        strncmp(cmd, "get element ", 12) != 0)
        abort();
    for (const char *p = cmd; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ {}.:", *p))
            abort();
    return 0;
}
