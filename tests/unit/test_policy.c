/*
 * test_policy.c - the response policy: what it refuses, when it asks, when
 * it acts, the limits that bound it, the escalating ban, the shipped
 * rules/config/respond.yaml, and config errors with line and column.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "respond/respond_never.h"
#include "respond/respond_policy.h"
#include "triage/triage.h"

#define MIN_US (INT64_C(60) * 1000000)
/* Acting for real needs an allowlist (issue 15); this one is out of the way. */
#define ALLOW "allowlist: [192.0.2.0/24]\n"
#define T0 (INT64_C(1700000000) * 1000000)

static struct respond_policy *parse_ok(const char *text)
{
    struct respond_policy *p = NULL;
    struct parse_err err;
    int r = respond_policy_parse(text, strlen(text), "test.yaml", &p, &err);

    if (r != 0)
        fprintf(stderr, "parse failed %d at %u:%u: %s\n", r, err.line, err.col,
                err.msg ? err.msg : "?");
    assert_int_equal(r, 0);
    assert_non_null(p);
    return p;
}

/* A brute-force correlation hit on `addr`, TCP evidence from a trusted
 * witness (a trusted input's sshd). */
static struct respond_trigger brute(const char *addr)
{
    struct respond_trigger t;

    memset(&t, 0, sizeof(t));
    t.trusted = 1;
    t.source = "tcp from 192.0.2.10";
    t.kind = RESPOND_KIND_CORRELATION;
    t.rule_id = "80f5bd32-8100-4b49-bb75-43301da6c0af";
    t.rule_name = "ssh_bruteforce";
    t.level = TRIAGE_LEVEL_MEDIUM;
    t.correlation = "event_count";
    t.incident_type = TRIAGE_TYPE_PROBE;
    t.address = addr;
    return t;
}

static const char auto_block[] = "dry_run: false\n"
                                 "allowlist:\n"
                                 "  - {net: 10.0.0.0/8, note: own network}\n"
                                 "  - {net: 2001:db8:1::/48, note: own v6 network}\n"
                                 "  - {net: 198.51.100.53, note: DNS server}\n"
                                 "  - 192.0.2.0/24\n"
                                 "rate: {actions_per_minute: 1000, burst: 1000}\n"
                                 "max_blocks: 1000\n"
                                 "rules:\n"
                                 "  - name: brute\n"
                                 "    kind: correlation\n"
                                 "    rule: ssh_bruteforce\n"
                                 "    actions: [block, webhook]\n"
                                 "webhook: {url: \"http://127.0.0.1:9/hook\", secret_file: key}\n";

/* ---- refusals ----------------------------------------------------------- */

static void test_allowlist_never_act(void **state)
{
    static const struct {
        const char *addr;
        const char *reason;
    } rows[] = {
        {"10.1.2.3", "10.1.2.3 is in the allowlist (10.0.0.0/8 own network)"},
        {"10.255.255.255", "10.255.255.255 is in the allowlist (10.0.0.0/8 own network)"},
        {"::ffff:10.9.8.7", "10.9.8.7 is in the allowlist (10.0.0.0/8 own network)"},
        {"::FFFF:198.51.100.53", "198.51.100.53 is in the allowlist (198.51.100.53/32 DNS server)"},
        {"198.51.100.53", "198.51.100.53 is in the allowlist (198.51.100.53/32 DNS server)"},
        {"2001:db8:1:ffff::1",
         "2001:db8:1:ffff::1 is in the allowlist (2001:db8:1::/48 own v6 network)"},
        {"192.0.2.77", "192.0.2.77 is in the allowlist (192.0.2.0/24)"},
    };
    struct respond_policy *p = parse_ok(auto_block);
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;

    (void)state;
    assert_non_null(s);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_trigger t = brute(rows[i].addr);
        /* Approval and corroboration change nothing for an allowlisted address. */
        t.approved = 1;
        t.corroborated = 1;
        assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
        assert_int_equal(d.verdict, RESPOND_REFUSE);
        assert_int_equal(d.refusal, RESPOND_REFUSAL_ALLOWLIST);
        assert_string_equal(d.reason, rows[i].reason);
    }
    assert_int_equal(respond_blocks_active(s, T0), 0);
    /* Just outside each network: acted on. */
    {
        static const char *const outside[] = {"11.0.0.1", "198.51.100.54", "2001:db8:2::1",
                                              "::ffff:192.0.3.1"};
        for (size_t i = 0; i < 4; i++) {
            struct respond_trigger t = brute(outside[i]);
            assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
            assert_int_equal(d.verdict, RESPOND_ACT);
        }
    }
    respond_state_free(s);
    respond_policy_free(p);
}

static void test_never_blockable(void **state)
{
    static const struct {
        const char *addr;
        const char *reason;
    } rows[] = {
        {"127.0.0.1", "127.0.0.1 is a loopback address: never acted on"},
        {"127.8.9.10", "127.8.9.10 is a loopback address: never acted on"},
        {"::1", "::1 is a loopback address: never acted on"},
        {"::ffff:127.0.0.1", "127.0.0.1 is a loopback address: never acted on"},
        {"169.254.10.1", "169.254.10.1 is a link-local address: never acted on"},
        {"fe80::1", "fe80::1 is a link-local address: never acted on"},
        {"224.0.0.251", "224.0.0.251 is a multicast address: never acted on"},
        {"ff02::1", "ff02::1 is a multicast address: never acted on"},
        {"0.0.0.0", "0.0.0.0 is an unspecified address: never acted on"},
        {"255.255.255.255", "255.255.255.255 is the broadcast address: never acted on"},
    };
    /* Even an empty allowlist and a rule for any address refuse these. */
    struct respond_policy *p = parse_ok("dry_run: false\n" ALLOW "rules:\n"
                                        "  - actions: block\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_trigger t = brute(rows[i].addr);
        t.approved = 1;
        assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
        assert_int_equal(d.verdict, RESPOND_REFUSE);
        assert_int_equal(d.refusal, RESPOND_REFUSAL_NEVER);
        assert_string_equal(d.reason, rows[i].reason);
    }
    respond_state_free(s);
    respond_policy_free(p);
}

static void test_bad_or_missing_address(void **state)
{
    static const char *const bad[] = {
        "203.0.113.0/24", "203.0.113.5:22", "not-an-ip", "203.0.113", "", "2001:db8::g"};
    struct respond_policy *p = parse_ok(auto_block);
    struct respond_state *s = respond_state_new(p);
    struct respond_trigger t;
    struct respond_decision d;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = brute(bad[i]);
        assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
        assert_int_equal(d.verdict, RESPOND_REFUSE);
        assert_int_equal(d.refusal, RESPOND_REFUSAL_BAD_ADDRESS);
    }
    t = brute(NULL);
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_REFUSE);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_NO_ADDRESS);
    /* Bad arguments are refused, never acted on. */
    t = brute("203.0.113.5");
    assert_int_equal(respond_decide(p, s, &t, -1, &d), -EINVAL);
    assert_int_equal(d.verdict, RESPOND_REFUSE);
    assert_int_equal(respond_decide(NULL, s, &t, T0, &d), -EINVAL);
    assert_int_equal(d.verdict, RESPOND_REFUSE);
    assert_int_equal(respond_decide(p, s, NULL, T0, &d), -EINVAL);
    assert_int_equal(d.verdict, RESPOND_REFUSE);
    assert_int_equal(respond_blocks_active(s, T0), 0);
    respond_state_free(s);
    respond_policy_free(p);
}

static void test_udp_only_needs_corroboration(void **state)
{
    struct respond_policy *p = parse_ok(auto_block);
    struct respond_state *s = respond_state_new(p);
    struct respond_trigger t = brute("203.0.113.5");
    struct respond_decision d;

    (void)state;
    t.udp_only = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_REFUSE);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_SPOOFABLE);
    assert_string_equal(d.reason, "203.0.113.5: UDP-only evidence without corroboration by a "
                                  "second trusted source: could be spoofed");
    /* An approval does not make spoofable evidence trustworthy. */
    t.approved = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_SPOOFABLE);
    assert_int_equal(respond_blocks_active(s, T0), 0);

    t.approved = 0;
    t.corroborated = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(d.actions, RESPOND_ACTION_BLOCK | RESPOND_ACTION_WEBHOOK);
    assert_int_equal(respond_blocks_active(s, T0), 1);
    respond_state_free(s);
    respond_policy_free(p);
}

/* ---- trust (issue 15) ----------------------------------------------------- */

/* `auto` acts only on a trusted witness; anything else asks a person, with
 * the evidence in the reason, and a person's approval may then act. */
static void test_untrusted_auto_asks(void **state)
{
    struct respond_policy *p = parse_ok(auto_block);
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t = brute("203.0.113.20");

    (void)state;
    t.trusted = 0;
    t.source = "tcp from 198.51.100.7";
    t.evidence = "no trusted witness: 12 records from untrusted or content-relayed sources, last "
                 "tcp from 198.51.100.7";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ASK);
    assert_int_equal(d.untrusted, 1);
    assert_string_equal(d.reason,
                        "rule brute acts on its own only on a trusted witness, so it asks for "
                        "approval: block+webhook 203.0.113.20 for 10m; evidence: no trusted "
                        "witness: 12 records from untrusted or content-relayed sources, last tcp "
                        "from 198.51.100.7");
    assert_int_equal(respond_blocks_active(s, T0), 0);
    /* The allowlist still wins over an untrusted trigger: refused, not asked. */
    t.address = "10.1.1.1";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_REFUSE);
    /* Spoofable and untrusted: refused, approval or not. */
    t.address = "203.0.113.20";
    t.udp_only = 1;
    t.approved = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_SPOOFABLE);
    /* A person approves TCP evidence: acts. */
    t.udp_only = 0;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(d.untrusted, 0);
    /* The same trigger from a trusted witness acts without a person. */
    t = brute("203.0.113.21");
    t.evidence = "trusted witness sshd via tcp from 192.0.2.10 (1 trusted source)";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_non_null(strstr(d.reason, "; evidence: trusted witness sshd via tcp from 192.0.2.10"));
    respond_state_free(s);
    respond_policy_free(p);
}

/* dry_run: false with nothing in the allowlist does not load; the error
 * points at the dry_run line and says why. */
static void test_dry_run_needs_allowlist(void **state)
{
    static const char bad[] = "# acting for real\n"
                              "rules:\n"
                              "  - actions: block\n"
                              "dry_run: false\n";
    struct respond_policy *p = (struct respond_policy *)1;
    struct parse_err err;

    (void)state;
    assert_int_equal(respond_policy_parse(bad, strlen(bad), "r.yaml", &p, &err), -EINVAL);
    assert_null(p);
    assert_int_equal(err.line, 4);
    assert_non_null(strstr(err.msg, "dry_run: false needs an allowlist"));
    /* An empty list is empty too. */
    {
        static const char empty[] = "dry_run: false\nallowlist: []\n";
        assert_int_equal(respond_policy_parse(empty, strlen(empty), "r.yaml", &p, &err), -EINVAL);
        assert_int_equal(err.line, 1);
    }
    /* Management networks are not an allowlist. */
    {
        static const char mgmt[] = "dry_run: false\nmanagement: [192.0.2.0/24]\n";
        assert_int_equal(respond_policy_parse(mgmt, strlen(mgmt), "r.yaml", &p, &err), -EINVAL);
    }
    /* A dry run needs none; one entry is enough to act. */
    respond_policy_free(parse_ok("dry_run: true\nrules:\n  - actions: block\n"));
    respond_policy_free(parse_ok("dry_run: false\nallowlist: [192.0.2.1]\n"));
}

/* The never-block list from the host's state: routes and resolv.conf
 * read from fixtures, and the management networks and log peers, all
 * refused whatever the rule says. */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_never_list_from_host(void **state)
{
    char dir[] = "/tmp/hk_never_XXXXXX", r4[256], r6[256], rc[256];
    struct respond_never nv;
    struct respond_never_src src;
    struct respond_policy *p;
    struct respond_state *s;
    struct respond_decision d;
    struct respond_trigger t;
    int n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(r4, sizeof(r4), "%s/route", dir);
    snprintf(r6, sizeof(r6), "%s/ipv6_route", dir);
    snprintf(rc, sizeof(rc), "%s/resolv.conf", dir);
    /* Gateway 192.0.2.1 (the kernel's host-order hex of a little-endian
     * machine: the bytes C0 00 02 01 reversed) and a route without one. */
    write_file(
        r4, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
            "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
            "eth0\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n");
    write_file(r6, "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                   "20010db8000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n"
                   "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 "
                   "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n");
    write_file(rc, "# written by hand\nsearch example.org\nnameserver 198.51.100.53\n"
                   "nameserver fe80::1%eth0\nnameserver 2001:db8::53\noptions edns0\n");
    src = (struct respond_never_src){.route4 = r4, .route6 = r6, .resolv = rc, .no_ifaddrs = 1};
    respond_never_init(&nv);
    n = respond_never_add_host(&nv, &src);
    /* The v4 gateway, the v6 gateway, two resolvers (the link-local one is
     * left to the policy's own never-nets). */
    assert_int_equal(n, 4);
    assert_int_equal(respond_never_add_text(&nv, "192.0.2.77", "a peer that sends us logs"), 0);
    p = parse_ok("dry_run: false\n"
                 "allowlist: [10.0.0.0/8]\n"
                 "management:\n"
                 "  - {net: 203.0.113.0/28, note: admins' VPN}\n"
                 "rules:\n"
                 "  - name: any\n"
                 "    actions: block\n");
    s = respond_state_new(p);
    respond_state_set_never(s, &nv);
    {
        static const struct {
            const char *addr;
            const char *reason;
        } rows[] = {
            {"192.0.2.1", "192.0.2.1 is a gateway of this host (eth0): never acted on"},
            {"2001:db8::1", "2001:db8::1 is a gateway of this host (eth0): never acted on"},
            {"198.51.100.53",
             "198.51.100.53 is a resolver of this host (resolv.conf): never acted on"},
            {"2001:db8::53",
             "2001:db8::53 is a resolver of this host (resolv.conf): never acted on"},
            {"192.0.2.77", "192.0.2.77 is a peer that sends us logs: never acted on"},
            {"203.0.113.9",
             "203.0.113.9 is in a management network (203.0.113.0/28 admins' VPN): never acted on"},
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            t = brute(rows[i].addr);
            t.approved = 1; /* nobody may approve these */
            assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
            assert_int_equal(d.verdict, RESPOND_REFUSE);
            assert_int_equal(d.refusal, RESPOND_REFUSAL_PROTECTED);
            assert_string_equal(d.reason, rows[i].reason);
        }
    }
    /* A trusted sender seen on the wire (the trigger's log_peer). */
    t = brute("198.51.100.80");
    t.log_peer = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_PROTECTED);
    assert_non_null(strstr(d.reason, "sends us logs"));
    /* Next door to each: acted on. */
    t = brute("192.0.2.2");
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    t = brute("203.0.113.16");
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(respond_blocks_active(s, T0), 2);
    /* The real host: getifaddrs sees at least loopback, which is left out. */
    {
        struct respond_never host;
        struct asset_net lo;
        respond_never_init(&host);
        assert_true(respond_never_add_host(&host, NULL) >= 0);
        assert_int_equal(asset_net_parse("127.0.0.1", 9, &lo), 0);
        assert_null(respond_never_find(&host, &lo));
        respond_never_done(&host);
    }
    respond_state_free(s);
    respond_policy_free(p);
    respond_never_done(&nv);
    remove(r4);
    remove(r6);
    remove(rc);
    rmdir(dir);
}

/* Budgets per source and per rule: a trusted sender that lies (or a flood
 * of forged sources behind one sender) spends its own bucket, and the
 * block another source's witness asks for still happens. */
static void test_budget_per_source_and_rule(void **state)
{
    static const char text[] = "dry_run: false\n"
                               "allowlist: [10.0.0.0/8]\n"
                               "rate:\n"
                               "  actions_per_minute: 30\n"
                               "  burst: 10\n"
                               "  per_source: {actions_per_minute: 2, burst: 3}\n"
                               "  per_rule: {actions_per_minute: 20, burst: 8}\n"
                               "max_blocks: 1000\n"
                               "rules:\n"
                               "  - name: brute\n"
                               "    kind: correlation\n"
                               "    actions: block\n"
                               "  - name: ioc\n"
                               "    kind: rule\n"
                               "    actions: block\n";
    struct respond_policy *p = parse_ok(text);
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t;
    char addr[32], src[32];
    unsigned acts = 0, by_source = 0;

    (void)state;
    assert_int_equal(p->source_apm, 2);
    assert_int_equal(p->source_burst, 3);
    assert_int_equal(p->rule_burst, 8);
    /* 30 forged attackers, all reported by one sender within a second. */
    for (unsigned i = 0; i < 30; i++) {
        snprintf(addr, sizeof(addr), "198.18.0.%u", i + 1);
        t = brute(addr);
        t.source = "tcp from 192.0.2.66";
        assert_int_equal(respond_decide(p, s, &t, T0 + i * 1000, &d), 0);
        if (d.verdict == RESPOND_ACT)
            acts++;
        else if (d.refusal == RESPOND_REFUSAL_RATE && strstr(d.reason, "of the source"))
            by_source++;
    }
    assert_int_equal(acts, 3);
    assert_int_equal(by_source, 27);
    assert_string_equal(d.reason,
                        "rate limit of the source tcp from 192.0.2.66: 2 actions a minute");
    /* The real attacker, seen by another trusted sender: blocked. */
    t = brute("203.0.113.99");
    t.source = "tcp from 192.0.2.10";
    assert_int_equal(respond_decide(p, s, &t, T0 + 40000, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    /* Per rule: brute has spent 4 of its 8; five more sources use it up. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "198.18.1.%u", i + 1);
        snprintf(src, sizeof(src), "tcp from 192.0.2.%u", 100 + i);
        t = brute(addr);
        t.source = src;
        assert_int_equal(respond_decide(p, s, &t, T0 + 50000, &d), 0);
        assert_int_equal(d.verdict, i < 4 ? RESPOND_ACT : RESPOND_REFUSE);
    }
    assert_string_equal(d.reason, "rate limit of rule brute: 20 actions a minute");
    /* ... while the other rule still has its own. */
    t = brute("203.0.113.100");
    t.kind = RESPOND_KIND_RULE;
    t.source = "tcp from 192.0.2.11";
    assert_int_equal(respond_decide(p, s, &t, T0 + 60000, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    /* An approval is not charged to the source. */
    t = brute("203.0.113.101");
    t.kind = RESPOND_KIND_RULE;
    t.source = "tcp from 192.0.2.66";
    t.approved = 1;
    assert_int_equal(respond_decide(p, s, &t, T0 + 70000, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    respond_state_free(s);
    respond_policy_free(p);

    /* Without a budget per source the same flood starves the real attacker:
     * what the budget is for. */
    p = parse_ok("dry_run: false\nallowlist: [10.0.0.0/8]\n"
                 "rate: {actions_per_minute: 30, burst: 10, per_source: {burst: 10}}\n"
                 "rules:\n  - kind: correlation\n    actions: block\n");
    s = respond_state_new(p);
    for (unsigned i = 0; i < 30; i++) {
        snprintf(addr, sizeof(addr), "198.18.0.%u", i + 1);
        t = brute(addr);
        t.source = "tcp from 192.0.2.66";
        assert_int_equal(respond_decide(p, s, &t, T0 + i * 1000, &d), 0);
    }
    t = brute("203.0.113.99");
    t.source = "tcp from 192.0.2.10";
    assert_int_equal(respond_decide(p, s, &t, T0 + 40000, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_RATE);
    respond_state_free(s);
    respond_policy_free(p);
}

/* ---- limits ------------------------------------------------------------- */

static void test_rate_limit_flood(void **state)
{
    struct respond_policy *p =
        parse_ok("dry_run: false\n" ALLOW "rate: {actions_per_minute: 30, burst: 10}\n"
                 "max_blocks: 100000\n"
                 "rules:\n"
                 "  - kind: correlation\n"
                 "    actions: [block]\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    unsigned acts = 0, rate = 0, other = 0;
    char addr[32];

    (void)state;
    /* 10,000 distinct attackers within one minute (one every 6 ms), each
     * reported by its own trusted sender: only the global bucket holds. */
    for (unsigned i = 0; i < 10000; i++) {
        struct respond_trigger t;
        char src[32];
        snprintf(addr, sizeof(addr), "203.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        snprintf(src, sizeof(src), "tcp from 192.0.2.%u", i % 250);
        t = brute(addr);
        t.source = src;
        assert_int_equal(respond_decide(p, s, &t, T0 + (int64_t)i * 6000, &d), 0);
        if (d.verdict == RESPOND_ACT)
            acts++;
        else if (d.verdict == RESPOND_REFUSE && d.refusal == RESPOND_REFUSAL_RATE)
            rate++;
        else
            other++;
    }
    /* The burst, then 30 a minute for the ~60 s the flood lasts. */
    assert_int_equal(other, 0);
    assert_true(acts >= 10 + 29 && acts <= 10 + 30);
    assert_int_equal(acts + rate, 10000);
    assert_int_equal(respond_blocks_active(s, T0 + 60 * 1000000), acts);
    {
        struct respond_trigger t = brute("198.51.100.200");
        assert_int_equal(respond_decide(p, s, &t, T0 + 60 * 1000000 - 1, &d), 0);
        assert_int_equal(d.refusal, RESPOND_REFUSAL_RATE);
        assert_string_equal(d.reason, "rate limit: 30 actions a minute");
    }
    printf("rate flood: %u ACT, %u refused by the rate limit, of 10000 sources\n", acts, rate);
    respond_state_free(s);
    respond_policy_free(p);
}

static void test_max_blocks_and_release(void **state)
{
    struct respond_policy *p =
        parse_ok("dry_run: false\n" ALLOW "rate: {actions_per_minute: 1000, burst: 1000}\n"
                 "max_blocks: 3\n"
                 "ban: {base: 10m}\n"
                 "rules:\n"
                 "  - actions: block\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t;
    static const char *const a[] = {"203.0.113.1", "203.0.113.2", "203.0.113.3"};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        t = brute(a[i]);
        assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
        assert_int_equal(d.verdict, RESPOND_ACT);
    }
    assert_int_equal(respond_blocks_active(s, T0), 3);
    t = brute("203.0.113.4");
    assert_int_equal(respond_decide(p, s, &t, T0 + 1, &d), 0);
    assert_int_equal(d.verdict, RESPOND_REFUSE);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_MAX_BLOCKS);
    assert_string_equal(d.reason, "3 blocks active, the maximum");
    /* The same address again is "already blocked", not a new slot. */
    t = brute("203.0.113.2");
    assert_int_equal(respond_decide(p, s, &t, T0 + MIN_US, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_BLOCKED);
    assert_string_equal(d.reason, "203.0.113.2 is already blocked (9m left)");

    /* An admin lifts one block: a slot is free. */
    assert_int_equal(respond_block_ended(s, "203.0.113.2", T0 + 2), 0);
    assert_int_equal(respond_block_ended(s, "203.0.113.2", T0 + 2), -ENOENT);
    assert_int_equal(respond_block_ended(s, "bogus", T0 + 2), -EINVAL);
    assert_int_equal(respond_blocks_active(s, T0 + 2), 2);
    t = brute("203.0.113.4");
    assert_int_equal(respond_decide(p, s, &t, T0 + 3, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    t = brute("203.0.113.5");
    assert_int_equal(respond_decide(p, s, &t, T0 + 4, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_MAX_BLOCKS);
    /* Blocks expire on their own after the ban. */
    assert_int_equal(respond_blocks_active(s, T0 + 10 * MIN_US - 1), 3);
    assert_int_equal(respond_blocks_active(s, T0 + 10 * MIN_US), 1);
    assert_int_equal(respond_decide(p, s, &t, T0 + 10 * MIN_US, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    respond_state_free(s);
    respond_policy_free(p);
}

static void test_escalation(void **state)
{
    struct respond_policy *p =
        parse_ok("dry_run: false\n" ALLOW "ban: {base: 10m, factor: 2, max: 1h, forget_after: 1d}\n"
                 "rules:\n"
                 "  - actions: block\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t = brute("203.0.113.9");
    static const int64_t want_min[] = {10, 20, 40, 60, 60};
    int64_t now = T0;

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(respond_decide(p, s, &t, now, &d), 0);
        assert_int_equal(d.verdict, RESPOND_ACT);
        assert_int_equal(d.ban_us, want_min[i] * MIN_US);
        assert_int_equal(d.repeat, i);
        /* Offends again a minute after the ban ends. */
        now += d.ban_us + MIN_US;
    }
    assert_string_equal(d.reason, "rule #1: block 203.0.113.9 for 1h (repeat offender)");
    /* Another address starts at the base. */
    {
        struct respond_trigger t2 = brute("203.0.113.10");
        assert_int_equal(respond_decide(p, s, &t2, now, &d), 0);
        assert_int_equal(d.ban_us, 10 * MIN_US);
        assert_int_equal(d.repeat, 0);
    }
    /* The last ban of .9 ended at now - 1m; a day after that it is forgotten. */
    now += 24 * 60 * MIN_US - MIN_US - 1;
    assert_int_equal(respond_decide(p, s, &t, now, &d), 0);
    assert_int_equal(d.ban_us, 60 * MIN_US);
    now += d.ban_us + 24 * 60 * MIN_US;
    assert_int_equal(respond_decide(p, s, &t, now, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(d.ban_us, 10 * MIN_US);
    assert_int_equal(d.repeat, 0);
    respond_state_free(s);
    respond_policy_free(p);
}

/* Offenders beyond `track` evict the least recently banned. */
static void test_offenders_bounded(void **state)
{
    struct respond_policy *p =
        parse_ok("dry_run: false\n" ALLOW "rate: {actions_per_minute: 100000, burst: 100000}\n"
                 "max_blocks: 100000\n"
                 "ban: {base: 1m, factor: 2, max: 1h, track: 4}\n"
                 "rules:\n"
                 "  - actions: block\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t;
    char addr[32];

    (void)state;
    /* Five offenders, one ban each, a second apart: the first is evicted. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "203.0.113.%u", i + 1);
        t = brute(addr);
        assert_int_equal(respond_decide(p, s, &t, T0 + (int64_t)i * 1000000, &d), 0);
        assert_int_equal(d.verdict, RESPOND_ACT);
    }
    t = brute("203.0.113.1");
    assert_int_equal(respond_decide(p, s, &t, T0 + 2 * MIN_US, &d), 0);
    assert_int_equal(d.repeat, 0);
    t = brute("203.0.113.5");
    assert_int_equal(respond_decide(p, s, &t, T0 + 2 * MIN_US, &d), 0);
    assert_int_equal(d.repeat, 1);
    assert_int_equal(d.ban_us, 2 * MIN_US);
    respond_state_free(s);
    respond_policy_free(p);
}

/* ---- modes, dry run, no match ------------------------------------------ */

static void test_approve_gives_ask(void **state)
{
    struct respond_policy *p = parse_ok("dry_run: false\n" ALLOW "rules:\n"
                                        "  - name: ask first\n"
                                        "    min_level: high\n"
                                        "    actions: [block, mail]\n"
                                        "    mode: approve\n"
                                        "mail: {to: csirt@example.org}\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t = brute("203.0.113.7");

    (void)state;
    t.kind = RESPOND_KIND_RULE;
    t.level = TRIAGE_LEVEL_HIGH;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ASK);
    assert_int_equal(d.actions, RESPOND_ACTION_BLOCK | RESPOND_ACTION_MAIL);
    assert_int_equal(d.ban_us, 10 * MIN_US);
    assert_string_equal(d.rule->name, "ask first");
    assert_string_equal(d.reason,
                        "rule ask first asks for approval: block+mail 203.0.113.7 for 10m");
    /* Asking changes nothing. */
    assert_int_equal(respond_blocks_active(s, T0), 0);
    /* Once a person approves, the policy acts. */
    t.approved = 1;
    assert_int_equal(respond_decide(p, s, &t, T0 + 1, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(respond_blocks_active(s, T0 + 1), 1);
    respond_state_free(s);
    respond_policy_free(p);
}

static void test_dry_run_carried(void **state)
{
    static const struct {
        const char *text;
        int dry;
    } rows[] = {
        {"dry_run: true\nrules:\n  - actions: block\n", 1},
        {"dry_run: false\n" ALLOW "rules:\n  - actions: block\n", 0},
        {"rules:\n  - actions: block\n", 1}, /* the default is to do nothing */
    };

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct respond_policy *p = parse_ok(rows[i].text);
        struct respond_state *s = respond_state_new(p);
        struct respond_decision d;
        struct respond_trigger t = brute("203.0.113.8");

        assert_int_equal(p->dry_run, rows[i].dry);
        assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
        assert_int_equal(d.verdict, RESPOND_ACT);
        assert_int_equal(d.dry_run, rows[i].dry);
        assert_true((strstr(d.reason, "(dry run)") != NULL) == rows[i].dry);
        respond_state_free(s);
        respond_policy_free(p);
    }
}

static void test_no_match_none(void **state)
{
    struct respond_policy *p =
        parse_ok("dry_run: false\n" ALLOW "rules:\n"
                 "  - kind: correlation\n"
                 "    rule: [ssh_bruteforce]\n"
                 "    from: outside\n"
                 "    actions: block\n"
                 "  - kind: incident\n"
                 "    incident_type: damage manifest\n"
                 "    actions: mail\n"
                 "  - kind: correlation\n"
                 "    correlation: temporal_ordered\n"
                 "    min_level: critical\n"
                 "    actions: webhook\n"
                 "mail: {to: [a@example.org]}\n"
                 "webhook: {url: \"https://x.example/h\", secret_file: /k}\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t;

    (void)state;
    t = brute("203.0.113.5");
    t.rule_name = "port_scan_vertical";
    t.rule_id = "d1894a54-6d66-405f-b163-83cda75a3337";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    assert_null(d.rule);
    assert_int_equal(d.actions, 0);
    assert_string_equal(d.reason, "no policy rule matches");
    /* Right rule, but from inside. */
    t = brute("10.0.0.5");
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    /* Right rule by id, right kind, from outside: matches. */
    t = brute("203.0.113.5");
    t.rule_name = NULL;
    t.rule_id = "ssh_bruteforce";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    /* Incident of another type. */
    memset(&t, 0, sizeof(t));
    t.kind = RESPOND_KIND_INCIDENT;
    t.incident_type = TRIAGE_TYPE_POLICY;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    t.incident_type = TRIAGE_TYPE_DAMAGE;
    t.trusted = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(d.actions, RESPOND_ACTION_MAIL);
    assert_int_equal(d.ban_us, 0);
    /* Correlation outcome matches but the level is too low. */
    t = brute(NULL);
    t.rule_name = "x";
    t.correlation = "temporal_ordered";
    t.level = TRIAGE_LEVEL_HIGH;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    t.level = TRIAGE_LEVEL_CRITICAL;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(d.actions, RESPOND_ACTION_WEBHOOK);
    /* An empty policy matches nothing. */
    {
        struct respond_policy *e = parse_ok("");
        struct respond_state *es = respond_state_new(e);
        t = brute("203.0.113.5");
        assert_int_equal(respond_decide(e, es, &t, T0, &d), 0);
        assert_int_equal(d.verdict, RESPOND_NONE);
        assert_int_equal(e->dry_run, 1);
        respond_state_free(es);
        respond_policy_free(e);
    }
    respond_state_free(s);
    respond_policy_free(p);
}

/* ---- the shipped policy ------------------------------------------------- */

static struct respond_policy *load_shipped(void)
{
    struct respond_policy *p = NULL;
    struct parse_err err;
    int r = respond_policy_load("rules/config/respond.yaml", &p, &err);

    if (r != 0)
        fprintf(stderr, "respond.yaml: %d at %u:%u: %s\n", r, err.line, err.col,
                err.msg ? err.msg : "?");
    assert_int_equal(r, 0);
    return p;
}

static void test_shipped_policy(void **state)
{
    struct respond_policy *p = load_shipped();
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t;

    (void)state;
    assert_non_null(s);
    /* Nothing is done until an administrator turns dry run off. */
    assert_int_equal(p->dry_run, 1);
    assert_int_equal(p->actions_per_minute, 30);
    assert_int_equal(p->max_blocks, 40);
    assert_int_equal(p->rule_apm, 20);
    assert_int_equal(p->rule_burst, 8);
    assert_int_equal(p->source_apm, 10);
    assert_int_equal(p->source_burst, 4);
    assert_int_equal(p->nmanagement, 0);

    /* SSH brute force from outside (rules/corr_ssh_bruteforce.yml, level medium). */
    t = brute("183.62.140.253");
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_true(d.actions & RESPOND_ACTION_BLOCK);
    assert_int_equal(d.ban_us, 10 * MIN_US);
    assert_int_equal(d.dry_run, 1);
    assert_string_equal(d.rule->name, "ssh brute force from outside");

    /* The same from an internal host is not automatic; its level (medium)
     * asks for nothing. */
    t = brute("192.168.1.20");
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);

    /* Worm spread (rules/corr_worm_smb_rpc_spread.yml) from an internal host. */
    t = brute("10.20.30.40");
    t.rule_name = "worm_smb_rpc_spread";
    t.rule_id = "54825192-15a5-4543-960a-514d0358bf5a";
    t.level = TRIAGE_LEVEL_HIGH;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_string_equal(d.rule->name, "worm propagation");

    /* A lone medium rule alert (rules/lnx_sshd_root_login_failure.yml): the
     * file has no rule for it, so nothing. */
    memset(&t, 0, sizeof(t));
    t.kind = RESPOND_KIND_RULE;
    t.rule_id = "6c8863ae-9736-4adb-b765-f2a104118e79";
    t.rule_name = "SSH Login Failure for Root";
    t.level = TRIAGE_LEVEL_MEDIUM;
    t.address = "187.141.143.180";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);

    /* A lone high rule alert (rules/lnx_sudo_user_not_in_sudoers.yml) asks. */
    t.rule_id = "540474e6-5a94-4638-b5bf-fdc2931f4b44";
    t.rule_name = NULL;
    t.level = TRIAGE_LEVEL_HIGH;
    t.address = "203.0.113.44";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ASK);

    /* An incident with damage asks (the shipped file names no mail until
     * an administrator configures it). */
    memset(&t, 0, sizeof(t));
    t.kind = RESPOND_KIND_INCIDENT;
    t.incident_type = TRIAGE_TYPE_DAMAGE;
    t.address = "203.0.113.45";
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ASK);
    assert_int_equal(d.actions, RESPOND_ACTION_BLOCK);

    /* A known-bad indicator from outside acts: an alert whose address a
     * feed lists with High confidence.  Medium is not enough (and the
     * alert's level alone, medium, matches no other rule). */
    memset(&t, 0, sizeof(t));
    t.kind = RESPOND_KIND_RULE;
    t.rule_name = "intel_indicator_match";
    t.level = TRIAGE_LEVEL_MEDIUM;
    t.address = "2001:db8:bad::1";
    t.indicator_feed = "abuse_ch";
    t.indicator_confidence = 2;
    t.trusted = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    t.indicator_confidence = 3;
    t.trusted = 0;
    /* Named only by untrusted records: a person decides. */
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ASK);
    assert_int_equal(d.untrusted, 1);
    /* By a trusted witness: acts. */
    t.trusted = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_string_equal(d.rule->name, "known-bad indicator");
    respond_state_free(s);
    respond_policy_free(p);
}

/* Brute-force sources of the real OpenSSH_2k sample through the shipped
 * policy: every fifth failed password of one address (in the log's own
 * time) raises an ssh_bruteforce trigger, as the correlation would. */
static void test_shipped_policy_openssh_sample(void **state)
{
    const char *shared = getenv("HIKESHI_SHARED");
    char path[1024], line[2048];
    struct {
        char ip[48];
        unsigned fails;
    } ips[256];
    size_t nips = 0;
    unsigned triggers = 0, acts = 0, blocked = 0, rated = 0, escalated = 0, lines = 0;
    struct respond_policy *p = load_shipped();
    struct respond_state *s = respond_state_new(p);
    FILE *fp;

    (void)state;
    snprintf(path, sizeof(path), "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log",
             shared ? shared : "../shared");
    fp = fopen(path, "r");
    assert_non_null(fp); /* a missing sample fails */
    while (fgets(line, sizeof(line), fp)) {
        char mon[4], ip[48];
        int day, hh, mm, ss;
        const char *f = strstr(line, "Failed password for ");
        const char *from;
        size_t i;

        lines++;
        if (!f || !(from = strstr(f, " from ")) ||
            sscanf(line, "%3s %d %d:%d:%d", mon, &day, &hh, &mm, &ss) != 5 ||
            sscanf(from, " from %47s", ip) != 1)
            continue;
        for (i = 0; i < nips && strcmp(ips[i].ip, ip) != 0; i++)
            ;
        if (i == nips) {
            assert_true(nips < 256);
            snprintf(ips[nips].ip, sizeof(ips[nips].ip), "%s", ip);
            ips[nips++].fails = 0;
        }
        if (++ips[i].fails % 5 == 0) {
            struct respond_trigger t = brute(ips[i].ip);
            struct respond_decision d;
            int64_t now = T0 + ((int64_t)day * 86400 + hh * 3600 + mm * 60 + ss) * 1000000;

            triggers++;
            assert_int_equal(respond_decide(p, s, &t, now, &d), 0);
            if (d.verdict == RESPOND_ACT) {
                acts++;
                assert_int_equal(d.dry_run, 1);
                /* base 10m doubled per remembered repeat, capped at 7d */
                {
                    int64_t want = 10 * MIN_US;
                    for (unsigned k = 0; k < d.repeat && want < 7 * 24 * 60 * MIN_US; k++)
                        want *= 2;
                    if (want > 7 * 24 * 60 * MIN_US)
                        want = 7 * 24 * 60 * MIN_US;
                    assert_int_equal(d.ban_us, want);
                }
                if (d.repeat > 0)
                    escalated++;
            } else {
                assert_int_equal(d.verdict, RESPOND_REFUSE);
                if (d.refusal == RESPOND_REFUSAL_BLOCKED)
                    blocked++;
                else if (d.refusal == RESPOND_REFUSAL_RATE)
                    rated++;
                else
                    fail_msg("unexpected refusal for %s: %s", ips[i].ip, d.reason);
            }
        }
    }
    fclose(fp);
    printf("OpenSSH_2k: %u lines, %zu failing sources, %u triggers: %u ACT (%u escalated), "
           "%u already blocked, %u rate-limited\n",
           lines, nips, triggers, acts, escalated, blocked, rated);
    assert_int_equal(lines, 2000);
    assert_true(triggers > 0);
    assert_true(acts > 0);
    assert_int_equal(acts + blocked + rated, triggers);
    respond_state_free(s);
    respond_policy_free(p);
}

/* ---- config errors ------------------------------------------------------ */

/* indicator / indicator_feeds: only a trigger with an address indicator
 * match of at least that confidence, and of a listed feed when listed. */
static void test_indicator_rule(void **state)
{
    struct respond_policy *p = parse_ok("rules:\n"
                                        "  - name: known-bad\n"
                                        "    indicator: medium\n"
                                        "    indicator_feeds: [peer, national]\n"
                                        "    actions: [block]\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_trigger t;
    struct respond_decision d;

    (void)state;
    assert_non_null(s);
    assert_int_equal(p->rules[0].indicator, 2);
    assert_int_equal(p->rules[0].nindicator_feeds, 2);
    memset(&t, 0, sizeof(t));
    t.kind = RESPOND_KIND_RULE;
    t.rule_name = "intel_indicator_match_high";
    t.level = TRIAGE_LEVEL_HIGH;
    t.address = "198.51.100.9";
    t.trusted = 1;
    /* no indicator: no match, whatever the rule or level */
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    assert_int_equal(respond_policy_may_match(p, &t), 0);
    /* Low is below medium */
    t.indicator_feed = "peer";
    t.indicator_confidence = 1;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    /* a feed not listed, even High */
    t.indicator_feed = "peer2";
    t.indicator_confidence = 3;
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    assert_int_equal(respond_policy_may_match(p, &t), 0);
    /* a listed feed, Medium: acts */
    t.indicator_feed = "national";
    t.indicator_confidence = 2;
    assert_int_equal(respond_policy_may_match(p, &t), 1);
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_string_equal(d.rule->name, "known-bad");
    respond_state_free(s);
    respond_policy_free(p);
}

static void test_config_errors(void **state)
{
    static const struct {
        const char *text;
        unsigned line, col;
        const char *msg; /* a part of the message */
    } rows[] = {
        {"dry_run: maybe\n", 1, 10, "true or false"},
        {"max_blocks: 0\n", 1, 13, "max_blocks"},
        {"rate:\n  actions_per_minute: -3\n", 2, 23, "whole number"},
        {"ban:\n  base: 10x\n", 2, 9, "unit"},
        {"ban:\n  base: 1h\n  max: 10m\n", 2, 3, "shorter"},
        {"ban:\n  factor: 0.5\n", 2, 11, "factor"},
        {"allowlist:\n  - 10.0.0.0/33\n", 2, 5, "network"},
        {"allowlist:\n  - {note: x}\n", 2, 5, "needs a net"},
        {"internal: 10.0.0.0/8\n", 1, 11, "list"},
        {"rules:\n  - actions: [block]\n    mode: sometimes\n", 3, 11, "auto or approve"},
        {"rules:\n  - actions: [nuke]\n", 2, 15, "block, webhook"},
        {"rules:\n  - kind: rule\n", 2, 5, "no actions"},
        {"rules:\n  - actions: [block]\n    indicator: certain\n", 3, 16, "low, medium or high"},
        {"rules:\n  - actions: [block]\n    indicator_feeds: [peer]\n", 2, 5,
         "indicator_feeds needs indicator"},
        {"rules:\n  - actions: block\n    min_level: severe\n", 3, 16, "min_level"},
        {"rules:\n  - actions: block\n    incident_type: alien invasion\n", 3, 20, "incident type"},
        {"rules:\n  - actions: block\n    from: mars\n", 3, 11, "outside"},
        {"rules:\n  - actions: block\n    kind: packet\n", 3, 11, "kind"},
        {"colour: blue\n", 1, 1, "unknown key"},
        {"dry_run: true\ndry_run: false\n", 2, 1, "duplicate"},
        {"- a\n- b\n", 1, 1, "mapping"},
        {"rules: [\n", 2, 1, ""}, /* libyaml's own message */
        {"rules:\n  - actions: block\n    rule: [\"a\\0b\"]\n", 3, 12, "NUL"},
        /* How actions are carried out. */
        {"rules:\n  - actions: block\n  - actions: [block, webhook]\n", 3, 1, "no webhook:"},
        {"rules:\n  - actions: mail\n", 2, 1, "no mail:"},
        {"rules:\n  - actions: exec\n", 2, 1, "no exec:"},
        {"webhook: {url: \"ftp://x/\", secret_file: k}\n", 1, 16, "http://"},
        {"webhook: {url: \"http://x/ y\", secret_file: k}\n", 1, 16, "space"},
        {"webhook:\n  url: \"http://x/\"\n", 2, 3, "secret_file"},
        {"webhook: {url: \"http://x/\", secret_file: k, attempts: 50}\n", 1, 55, "attempts"},
        {"webhook: {url: \"http://x/\", secret_file: k, timeout: 1h}\n", 1, 54, "10m"},
        {"mail: {to: \"a@b\\nBcc: c@d\"}\n", 1, 12, "plain mail address"},
        {"mail: {to: [\"x <a@b>\"]}\n", 1, 13, "plain mail address"},
        {"mail: {to: a@b, sendmail: sendmail}\n", 1, 27, "absolute"},
        {"mail: {from: a@b}\n", 1, 7, "to is required"},
        {"exec: {command: [notify, \"{ip}\"]}\n", 1, 7, "absolute"},
        {"exec: {command: [/bin/echo, \"{ipp}\"]}\n", 1, 7, "placeholder"},
        {"exec: {timeout: 5s}\n", 1, 7, "command is required"},
        {"block: {table: 9lives}\n", 1, 16, "not first a digit"},
        {"block: {set4: \"a;b\"}\n", 1, 15, "letters, digits"},
        {"block: {family: bridge}\n", 1, 17, "inet, ip or ip6"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_policy *p = (struct respond_policy *)1;
        struct parse_err err;
        int r = respond_policy_parse(rows[i].text, strlen(rows[i].text), "bad.yaml", &p, &err);

        if (r != -EINVAL || err.line != rows[i].line || err.col != rows[i].col)
            fail_msg("row %zu: r=%d at %u:%u (%s), want %u:%u", i, r, err.line, err.col,
                     err.msg ? err.msg : "?", rows[i].line, rows[i].col);
        assert_null(p);
        assert_non_null(err.msg);
        if (!strstr(err.msg, rows[i].msg))
            fail_msg("row %zu: message \"%s\" lacks \"%s\"", i, err.msg, rows[i].msg);
    }
}

/* The engine's door: a trigger some rule could match (whatever its
 * address) passes; one no rule can match does not, and then the full
 * decision says NONE too. */
static void test_may_match(void **state)
{
    struct respond_policy *p = parse_ok("rules:\n"
                                        "  - kind: correlation\n"
                                        "    rule: [ssh_bruteforce]\n"
                                        "    from: outside\n"
                                        "    actions: block\n"
                                        "  - kind: rule\n"
                                        "    min_level: critical\n"
                                        "    actions: block\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t = brute("10.1.1.1"); /* inside: `from` fails later */

    (void)state;
    assert_int_equal(respond_policy_may_match(p, &t), 1);
    t.rule_name = "port_scan_vertical";
    t.rule_id = "x";
    assert_int_equal(respond_policy_may_match(p, &t), 0);
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.verdict, RESPOND_NONE);
    t.kind = RESPOND_KIND_RULE;
    t.level = TRIAGE_LEVEL_HIGH;
    assert_int_equal(respond_policy_may_match(p, &t), 0);
    t.level = TRIAGE_LEVEL_CRITICAL;
    assert_int_equal(respond_policy_may_match(p, &t), 1);
    assert_int_equal(respond_policy_may_match(NULL, &t), 0);
    respond_state_free(s);
    respond_policy_free(p);
}

/* Blocks of an earlier run count again: they fill max_blocks, the same
 * address is "already blocked", and its next ban is escalated. */
static void test_block_restore(void **state)
{
    struct respond_policy *p = parse_ok("dry_run: false\n" ALLOW "max_blocks: 2\n"
                                        "ban: {base: 10m, factor: 2}\n"
                                        "rules:\n"
                                        "  - kind: correlation\n"
                                        "    actions: block\n");
    struct respond_state *s = respond_state_new(p);
    struct respond_decision d;
    struct respond_trigger t = brute("203.0.113.1");
    const int64_t min = 60 * INT64_C(1000000);

    (void)state;
    assert_int_equal(respond_block_restore(s, "203.0.113.1", T0 + 5 * min, T0), 0);
    assert_int_equal(respond_block_restore(s, "203.0.113.9", T0 - 1, T0), 0); /* ended */
    assert_int_equal(respond_block_restore(s, "10.0.0.0/8", T0 + min, T0), -EINVAL);
    assert_int_equal(respond_blocks_active(s, T0), 1);
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_BLOCKED);
    assert_int_equal(respond_block_restore(s, "2001:db8::5", T0 + 5 * min, T0), 0);
    t = brute("203.0.113.2");
    assert_int_equal(respond_decide(p, s, &t, T0, &d), 0);
    assert_int_equal(d.refusal, RESPOND_REFUSAL_MAX_BLOCKS);
    /* After the restored ban ends, the address's next ban is doubled. */
    t = brute("203.0.113.1");
    assert_int_equal(respond_decide(p, s, &t, T0 + 6 * min, &d), 0);
    assert_int_equal(d.verdict, RESPOND_ACT);
    assert_int_equal(d.ban_us, 20 * min);
    respond_state_free(s);
    respond_policy_free(p);
}

/* The action sections as the daemon reads them. */
static void test_action_sections(void **state)
{
    struct respond_policy *p = parse_ok(
        "dry_run: false\n" ALLOW "block: {family: ip, table: fw, set4: bad_hosts, create: false}\n"
        "webhook:\n"
        "  url: \"https://soc.example.org/h?k=1\"\n"
        "  secret_file: keys/hook.key\n"
        "  timeout: 3s\n"
        "  attempts: 7\n"
        "  backoff: 500s\n"
        "mail:\n"
        "  to: [csirt@example.org, oncall@example.org]\n"
        "  from: hikeshi@example.org\n"
        "exec:\n"
        "  command: [/usr/local/sbin/notify, \"--ip={ip}\", \"{rule}\"]\n"
        "  timeout: 1m\n"
        "rules:\n"
        "  - actions: [block, webhook, mail, exec]\n");

    (void)state;
    assert_string_equal(p->block.family, "ip");
    assert_string_equal(p->block.table, "fw");
    assert_string_equal(p->block.set4, "bad_hosts");
    assert_int_equal(p->block.create, 0);
    assert_int_equal(p->webhook.given, 1);
    assert_string_equal(p->webhook.url, "https://soc.example.org/h?k=1");
    assert_string_equal(p->webhook.secret_file, "keys/hook.key");
    assert_int_equal(p->webhook.timeout_ms, 3000);
    assert_int_equal(p->webhook.attempts, 7);
    assert_int_equal(p->webhook.backoff_ms, 500000);
    assert_int_equal(p->mail.nto, 2);
    assert_string_equal(p->mail.to[1], "oncall@example.org");
    assert_string_equal(p->mail.from, "hikeshi@example.org");
    assert_null(p->mail.sendmail); /* the default is the caller's */
    assert_int_equal(p->exec.argc, 3);
    assert_string_equal(p->exec.argv[1], "--ip={ip}");
    assert_null(p->exec.argv[3]);
    assert_int_equal(p->exec.timeout_ms, 60000);
    assert_int_equal(p->actions_used, RESPOND_ACTION_BLOCK | RESPOND_ACTION_WEBHOOK |
                                          RESPOND_ACTION_MAIL | RESPOND_ACTION_EXEC);
    respond_policy_free(p);
    /* The shipped policy: block only, with the defaults of the helper. */
    {
        struct respond_policy *q = NULL;
        struct parse_err err;

        assert_int_equal(respond_policy_load("rules/config/respond.yaml", &q, &err), 0);
        assert_int_equal(q->dry_run, 1);
        assert_int_equal(q->actions_used, RESPOND_ACTION_BLOCK);
        assert_string_equal(q->block.table, "hikeshi");
        assert_int_equal(q->block.create, 1);
        assert_int_equal(q->webhook.given, 0);
        respond_policy_free(q);
    }
}

static void test_load_missing_file(void **state)
{
    struct respond_policy *p = (struct respond_policy *)1;
    struct parse_err err;

    (void)state;
    assert_int_equal(respond_policy_load("tests/no/such/respond.yaml", &p, &err), -ENOENT);
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowlist_never_act),
        cmocka_unit_test(test_never_blockable),
        cmocka_unit_test(test_bad_or_missing_address),
        cmocka_unit_test(test_udp_only_needs_corroboration),
        cmocka_unit_test(test_untrusted_auto_asks),
        cmocka_unit_test(test_dry_run_needs_allowlist),
        cmocka_unit_test(test_never_list_from_host),
        cmocka_unit_test(test_budget_per_source_and_rule),
        cmocka_unit_test(test_rate_limit_flood),
        cmocka_unit_test(test_max_blocks_and_release),
        cmocka_unit_test(test_escalation),
        cmocka_unit_test(test_offenders_bounded),
        cmocka_unit_test(test_approve_gives_ask),
        cmocka_unit_test(test_dry_run_carried),
        cmocka_unit_test(test_no_match_none),
        cmocka_unit_test(test_shipped_policy),
        cmocka_unit_test(test_shipped_policy_openssh_sample),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_action_sections),
        cmocka_unit_test(test_may_match),
        cmocka_unit_test(test_block_restore),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_indicator_rule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
