/*
 * fuzz_policy.c - the response policy parser, then decisions on what it
 * parsed.  The input is a policy text; a few triggers built from fixed
 * addresses and from the input's last bytes run through respond_decide so
 * that matching, refusals and the state tables see what the parser lets in.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "respond/respond_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const addrs[] = {"203.0.113.5", "10.1.2.3",  "::1",   "::ffff:10.0.0.1",
                                        "2001:db8::1", "127.0.0.1", "bogus", NULL};
    static const char *const names[] = {"ssh_bruteforce", "worm_smb_rpc_spread", "ioc.x", NULL};
    struct respond_policy *p = NULL;
    struct respond_state *s;
    struct parse_err err;
    struct respond_decision d;
    char tail[24];
    size_t ntail;

    if (respond_policy_parse((const char *)data, size, "fuzz", &p, &err) < 0)
        return 0;
    s = respond_state_new(p);
    if (!s) {
        respond_policy_free(p);
        return 0;
    }
    /* An address made of the input's last bytes, NUL-terminated. */
    ntail = size < sizeof(tail) - 1 ? size : sizeof(tail) - 1;
    memcpy(tail, data + size - ntail, ntail);
    tail[ntail] = '\0';
    for (unsigned i = 0; i < 64; i++) {
        struct respond_trigger t;

        memset(&t, 0, sizeof(t));
        t.kind = (enum respond_kind)(i % 5); /* 4 is out of range on purpose */
        t.rule_name = names[i % 4];
        t.rule_id = names[(i / 4) % 4];
        t.correlation = i & 1 ? "event_count" : NULL;
        t.level = (int)(i % 7);
        t.incident_type = (int)(i % 10);
        t.address = i % 9 == 8 ? tail : addrs[i % 8];
        t.udp_only = (i >> 3) & 1;
        t.corroborated = (i >> 4) & 1;
        t.approved = (i >> 5) & 1;
        respond_decide(p, s, &t, (int64_t)i * 7000000, &d);
        /* The engine's door must never turn away what a rule matches. */
        if (d.verdict != RESPOND_NONE && !respond_policy_may_match(p, &t))
            abort();
        if (d.verdict == RESPOND_ACT && (i & 3) == 0 && t.address)
            respond_block_ended(s, t.address, (int64_t)i * 7000000);
    }
    respond_blocks_active(s, INT64_C(1) << 40);
    respond_state_free(s);
    respond_policy_free(p);
    return 0;
}
