/*
 * test_asset.c - the asset inventory: loaders (YAML, CSV), malformed rows
 * reported with their line while the rest load, lookups by name and by
 * address with the longest prefix winning.  Run with cwd = source root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "triage/asset.h"

static const char inv_yaml[] =
    "assets:\n"                                            /* 1 */
    "  - name: corp\n"                                     /* 2 */
    "    address: 10.0.0.0/8\n"                            /* 3 */
    "    criticality: low\n"                               /* 4 */
    "    category: C\n"                                    /* 5 */
    "  - name: office-lan\n"                               /* 6 */
    "    cidr: 10.20.0.0/16\n"                             /* 7 */
    "    criticality: medium\n"                            /* 8 */
    "    category: B\n"                                    /* 9 */
    "  - name: ws-17\n"                                    /* 10 */
    "    address: 10.20.3.17\n"                            /* 11 */
    "    owner: it-helpdesk\n"                             /* 12 */
    "    criticality: high\n"                              /* 13 */
    "    category: B\n"                                    /* 14 */
    "    tags: [workstation, finance]\n"                   /* 15 */
    "  - name: bad-crit\n"                                 /* 16 */
    "    address: 10.9.9.9\n"                              /* 17 */
    "    criticality: extreme\n"                           /* 18 */
    "  - name: bad-addr\n"                                 /* 19 */
    "    address: 10.300.1.1\n"                            /* 20 */
    "  - owner: nobody\n"                                  /* 21 */
    "  - name: typo\n"                                     /* 22 */
    "    adress: 10.7.7.7\n"                               /* 23 */
    "  - name: corp-v6\n"                                  /* 24 */
    "    address: 2001:db8:100::/48\n"                     /* 25 */
    "    criticality: medium\n"                            /* 26 */
    "    category: A\n"                                    /* 27 */
    "  - name: v6-db\n"                                    /* 28 */
    "    address: 2001:db8:100:5::7\n"                     /* 29 */
    "    criticality: critical\n"                          /* 30 */
    "    category: C\n"                                    /* 31 */
    "  - name: WEB01\n"                                    /* 32 */
    "    criticality: high\n"                              /* 33 */
    "    category: A\n";                                   /* 34 */

static int has_issue(const struct asset_inv *inv, unsigned line, const char *reason_part)
{
    for (size_t i = 0; i < inv->nissues; i++)
        if (inv->issues[i].line == line && strstr(inv->issues[i].reason, reason_part))
            return 1;
    return 0;
}

static void test_yaml_rows_and_issues(void **state)
{
    struct asset_inv inv;
    int r;

    (void)state;
    asset_inv_init(&inv);
    r = asset_inv_load_yaml(&inv, inv_yaml, sizeof(inv_yaml) - 1, "inv.yaml");
    assert_int_equal(r, 6);
    assert_int_equal(inv.n, 6);
    assert_int_equal(inv.nissues, 4);
    assert_true(has_issue(&inv, 18, "criticality"));
    assert_true(has_issue(&inv, 20, "address"));
    assert_true(has_issue(&inv, 21, "neither name nor address"));
    assert_true(has_issue(&inv, 23, "unknown key"));
    assert_string_equal(inv.issues[0].file, "inv.yaml");
    assert_string_equal(inv.v[2].name, "ws-17");
    assert_string_equal(inv.v[2].owner, "it-helpdesk");
    assert_int_equal(inv.v[2].ntags, 2);
    assert_string_equal(inv.v[2].tags[1], "finance");
    assert_int_equal(inv.v[2].line, 10);
    asset_inv_done(&inv);
}

struct ip_case {
    const char *ip;
    const char *want; /* name of the entry, NULL for unknown */
};

static void test_longest_prefix(void **state)
{
    static const struct ip_case cases[] = {
        {"10.20.3.17", "ws-17"},        /* host beats /16 and /8 */
        {"10.20.3.18", "office-lan"},   /* /16 beats /8 */
        {"10.21.0.1", "corp"},          /* only /8 */
        {"10.9.9.9", "corp"},           /* its own row was malformed */
        {"192.0.2.10", NULL},           /* unknown */
        {"::ffff:10.20.3.17", "ws-17"}, /* v4-mapped */
        {"2001:db8:100:5::7", "v6-db"},
        {"2001:db8:100:6::1", "corp-v6"},
        {"2001:db8:200::1", NULL},
        {"not-an-ip", NULL},
        {"10.0.0.0/8", NULL}, /* a network is not an address */
    };
    struct asset_inv inv;

    (void)state;
    asset_inv_init(&inv);
    assert_int_equal(asset_inv_load_yaml(&inv, inv_yaml, sizeof(inv_yaml) - 1, "inv.yaml"), 6);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct asset *a = asset_inv_by_ip(&inv, cases[i].ip, strlen(cases[i].ip));
        if (!cases[i].want) {
            assert_null(a);
            continue;
        }
        assert_non_null(a);
        assert_string_equal(a->name, cases[i].want);
    }
    assert_int_equal(asset_inv_by_ip(&inv, "10.20.3.17", 10)->crit, ASSET_CRIT_HIGH);
    assert_int_equal(asset_inv_by_ip(&inv, "10.21.0.1", 9)->cat, ASSET_CAT_C);
    asset_inv_done(&inv);
}

static void test_by_name(void **state)
{
    struct asset_inv inv;
    const struct asset *a;

    (void)state;
    asset_inv_init(&inv);
    assert_int_equal(asset_inv_load_yaml(&inv, inv_yaml, sizeof(inv_yaml) - 1, "inv.yaml"), 6);
    a = asset_inv_by_name(&inv, "web01", 5);
    assert_non_null(a);
    assert_string_equal(a->name, "WEB01");
    a = asset_inv_by_name(&inv, "web01.example.org", 17);
    assert_non_null(a);
    assert_int_equal(a->crit, ASSET_CRIT_HIGH);
    assert_int_equal(a->cat, ASSET_CAT_A);
    assert_null(asset_inv_by_name(&inv, "web02", 5));
    assert_null(asset_inv_by_name(&inv, "web", 3));
    assert_null(asset_inv_by_name(&inv, "", 0));
    /* Bounded by len: "ws-17" is the first 5 bytes of a longer buffer. */
    assert_non_null(asset_inv_by_name(&inv, "ws-17XYZ", 5));
    asset_inv_done(&inv);
}

static void test_csv(void **state)
{
    static const char csv[] =
        "# inventory exported from the CMDB\n"                       /* 1 */
        "name,address,owner,criticality,category,tags\n"             /* 2 */
        "web01,192.0.2.10,web-team,high,A,web;internet-facing\r\n"   /* 3 */
        "\"db, main\",10.30.4.7,\"hr \"\"it\"\"\",critical,C,\n"     /* 4 */
        "printer,10.20.9.9,it,medium,Z,\n"                           /* 5 */
        "lan,10.20.0.0/16,it,low,B\n"                                /* 6 */
        "\n"                                                         /* 7 */
        "vpn,198.51.100.0/24,netops,medium,A,\"remote;vpn\"\n"       /* 8 */
        "gw,198.51.100.300,netops,medium,A,\n"                       /* 9 */
        "lan,10.20.0.0/16,it,low,B,\n";                              /* 10 */
    struct asset_inv inv;
    const struct asset *a;

    (void)state;
    asset_inv_init(&inv);
    assert_int_equal(asset_inv_load_csv(&inv, csv, sizeof(csv) - 1, "cmdb.csv"), 4);
    assert_int_equal(inv.nissues, 3);
    assert_true(has_issue(&inv, 5, "category"));
    assert_true(has_issue(&inv, 6, "number of fields"));
    assert_true(has_issue(&inv, 9, "address"));
    a = asset_inv_by_ip(&inv, "10.30.4.7", 9);
    assert_non_null(a);
    assert_string_equal(a->name, "db, main");
    assert_string_equal(a->owner, "hr \"it\"");
    assert_int_equal(a->crit, ASSET_CRIT_CRITICAL);
    a = asset_inv_by_name(&inv, "web01", 5);
    assert_non_null(a);
    assert_int_equal(a->ntags, 2);
    assert_string_equal(a->tags[1], "internet-facing");
    a = asset_inv_by_ip(&inv, "198.51.100.7", 12);
    assert_non_null(a);
    assert_string_equal(a->tags[0], "remote");
    asset_inv_done(&inv);
}

static void test_csv_bad_header(void **state)
{
    static const char csv[] = "name,adress,owner\nweb01,192.0.2.10,web\n";
    struct asset_inv inv;

    (void)state;
    asset_inv_init(&inv);
    assert_int_equal(asset_inv_load_csv(&inv, csv, sizeof(csv) - 1, "x.csv"), 0);
    assert_int_equal(inv.nissues, 1);
    assert_int_equal(inv.issues[0].line, 1);
    asset_inv_done(&inv);
}

static void test_yaml_syntax_error(void **state)
{
    static const char y[] = "assets:\n  - name: a\n    address: [10.0.0.1\n";
    struct asset_inv inv;

    (void)state;
    asset_inv_init(&inv);
    assert_int_equal(asset_inv_load_yaml(&inv, y, sizeof(y) - 1, "broken.yaml"), 0);
    assert_int_equal(inv.n, 0);
    assert_int_equal(inv.nissues, 1);
    assert_true(inv.issues[0].line >= 3);
    asset_inv_done(&inv);
}

static void test_example_file(void **state)
{
    struct asset_inv inv;
    const struct asset *a;

    (void)state;
    asset_inv_init(&inv);
    assert_int_equal(asset_inv_load_file(&inv, "etc/assets.example.yaml"), 6);
    assert_int_equal(inv.issues_total, 0);
    a = asset_inv_by_ip(&inv, "192.0.2.10", 10);
    assert_non_null(a);
    assert_string_equal(a->name, "web01");
    a = asset_inv_by_ip(&inv, "192.0.2.99", 10);
    assert_non_null(a);
    assert_string_equal(a->name, "dmz");
    assert_int_equal(asset_inv_load_file(&inv, "etc/no-such-inventory.yaml") < 0, 1);
    assert_int_equal(inv.nissues, 1);
    asset_inv_done(&inv);
}

static void test_net_parse(void **state)
{
    struct asset_net n, ip;

    (void)state;
    assert_int_equal(asset_net_parse("192.0.2.77/24", 13, &n), 0);
    assert_int_equal(n.family, AF_INET);
    assert_int_equal(n.prefix, 24);
    assert_int_equal(n.addr[3], 0); /* host bits cleared */
    assert_int_equal(asset_net_parse("192.0.2.1", 9, &ip), 0);
    assert_true(asset_net_contains(&n, &ip));
    assert_int_equal(asset_net_parse("192.0.3.1", 9, &ip), 0);
    assert_false(asset_net_contains(&n, &ip));
    assert_int_equal(asset_net_parse("10.0.0.0/33", 11, &n), -EINVAL);
    assert_int_equal(asset_net_parse("10.0.0.0/", 9, &n), -EINVAL);
    assert_int_equal(asset_net_parse("2001:db8::/129", 14, &n), -EINVAL);
    assert_int_equal(asset_net_parse("", 0, &n), -EINVAL);
    assert_int_equal(asset_net_parse("0.0.0.0/0", 9, &n), 0);
    assert_true(asset_net_contains(&n, &ip));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_rows_and_issues), cmocka_unit_test(test_longest_prefix),
        cmocka_unit_test(test_by_name),              cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_bad_header),       cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_example_file),         cmocka_unit_test(test_net_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
