/*
 * test_intel_export.c - src/intel/intel_export.c: the STIX pattern writer
 * (quotes and backslashes escaped, read back whole by our own pattern
 * parser), the TLP filter (RED never, nothing above the allowance), the
 * TLP 2.0 marking ids, a collection from a store that withholds what
 * the filter refuses, in the order TAXII pages, and intel.identity and
 * intel.peers in the configuration.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "intel/intel.h"
#include "intel/intel_export.h"
#include "store/store.h"
#include "store/store_intel.h"
#include "util/buf.h"

static char pat_value[INTEL_VALUE_MAX + 1];
static int pat_type;

static int take_eq(void *ctx, const struct intel_pattern_eq *e)
{
    (void)ctx;
    pat_type = (int)e->type;
    snprintf(pat_value, sizeof(pat_value), "%.*s", (int)e->len, e->value);
    return 0;
}

static void no_unsup(void *ctx, size_t off, const char *why)
{
    (void)ctx;
    fail_msg("unsupported at %zu: %s", off, why);
}

static void test_pattern_escapes(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    assert_int_equal(intel_export_pattern(&b, INTEL_URL, "http://x.example/a'b\\c"), 0);
    assert_string_equal(b.data, "[url:value = 'http://x.example/a\\'b\\\\c']");
    buf_reset(&b);
    assert_int_equal(intel_export_pattern(&b, INTEL_USER_AGENT, "'\\'"), 0);
    assert_string_equal(b.data, "[network-traffic:extensions.'http-request-ext'.request_header."
                                "'User-Agent' = '\\'\\\\\\'']");
    buf_reset(&b);
    assert_int_equal(intel_export_pattern(&b, INTEL_SHA1, "0123456789abcdef0123456789abcdef01234567"),
                     0);
    assert_string_equal(b.data,
                        "[file:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']");
    buf_reset(&b);
    assert_int_equal(intel_export_pattern(&b, INTEL_TYPE_COUNT, "x"), -EINVAL);
    buf_done(&b);
}

/* Every type's pattern, with a hostile value, reads back through our own
 * parser as that type and that value. */
static void test_pattern_round_trip(void **state)
{
    static const char *const odd[] = {"a'b", "c\\d", "'", "\\", "x\\'y", "plain", "\\\\''"};
    struct buf b;
    struct parse_err e;

    (void)state;
    buf_init(&b, 4096);
    for (int t = 0; t < INTEL_TYPE_COUNT; t++) {
        for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
            buf_reset(&b);
            assert_int_equal(intel_export_pattern(&b, (enum intel_type)t, odd[i]), 0);
            pat_value[0] = '\0';
            pat_type = -1;
            memset(&e, 0, sizeof(e));
            assert_int_equal(intel_pattern_parse(b.data, b.len, take_eq, no_unsup, NULL, &e), 1);
            assert_string_equal(pat_value, odd[i]);
            /* hostname is written as a domain-name, read back as a domain */
            assert_int_equal(pat_type, t == INTEL_HOSTNAME ? INTEL_DOMAIN : t);
        }
    }
    buf_done(&b);
}

static void test_tlp_filter(void **state)
{
    (void)state;
    /* RED never, whatever the allowance */
    for (int m = 0; m < INTEL_TLP_COUNT; m++)
        assert_false(intel_export_tlp_allowed(INTEL_TLP_RED, m));
    /* an unknown TLP is never shared */
    assert_false(intel_export_tlp_allowed(-1, INTEL_TLP_AMBER_STRICT));
    assert_false(intel_export_tlp_allowed(INTEL_TLP_COUNT, INTEL_TLP_AMBER_STRICT));
    assert_true(intel_export_tlp_allowed(INTEL_TLP_CLEAR, INTEL_TLP_CLEAR));
    assert_false(intel_export_tlp_allowed(INTEL_TLP_GREEN, INTEL_TLP_CLEAR));
    assert_true(intel_export_tlp_allowed(INTEL_TLP_GREEN, INTEL_TLP_GREEN));
    assert_false(intel_export_tlp_allowed(INTEL_TLP_AMBER, INTEL_TLP_GREEN));
    assert_true(intel_export_tlp_allowed(INTEL_TLP_AMBER, INTEL_TLP_AMBER));
    assert_false(intel_export_tlp_allowed(INTEL_TLP_AMBER_STRICT, INTEL_TLP_AMBER));
    assert_true(intel_export_tlp_allowed(INTEL_TLP_AMBER_STRICT, INTEL_TLP_AMBER_STRICT));
    assert_string_equal(intel_export_tlp_marking(INTEL_TLP_CLEAR),
                        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
    assert_string_equal(intel_export_tlp_marking(INTEL_TLP_AMBER_STRICT),
                        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
    assert_null(intel_export_tlp_marking(INTEL_TLP_COUNT));
}

static void put(struct store_intel_batch *b, const char *type, const char *value, const char *tlp)
{
    struct store_intel_rec r = {.type = type, .value = value, .tlp = tlp, .ref = "t",
                                .confidence = 50};

    assert_int_equal(store_intel_feed_put(b, &r), 0);
}

static void test_collect(void **state)
{
    char dir[] = "/tmp/hikeshi-intel-export-XXXXXX";
    struct store *st = NULL;
    struct store_intel_batch *b = NULL;
    struct intel_export_set *set = NULL;
    struct intel_export_opts o = {.format = INTEL_EXPORT_CSV, .now_us = 1};
    struct buf out;
    char *err = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &st, &err), 0);
    /* two feeds at two times: the second's are added later */
    assert_int_equal(store_intel_feed_begin(st, "late", 2000000, &b), 0);
    put(b, "ipv4", "192.0.2.9", "CLEAR");
    assert_int_equal(store_intel_feed_commit(b, NULL), 0);
    assert_int_equal(store_intel_feed_begin(st, "early", 1000000, &b), 0);
    put(b, "ipv4", "192.0.2.1", "CLEAR");
    put(b, "domain", "green.example", "GREEN");
    put(b, "domain", "amber.example", "AMBER");
    put(b, "domain", "strict.example", "AMBER+STRICT");
    put(b, "domain", "red.example", "RED");
    assert_int_equal(store_intel_feed_commit(b, NULL), 0);
    /* a campaign whose name holds "label:" and "phase:": no empty list */
    {
        static const char *const kinds[] = {"campaign"};
        static const char *const vals[] = {"label:phase:x"};
        struct store_intel_rec r = {.type = "domain", .value = "tagged.example", .tlp = "GREEN",
                                    .ref = "t", .confidence = 50, .ntags = 1,
                                    .tag_kind = kinds, .tag_value = vals};

        assert_int_equal(store_intel_feed_begin(st, "tagged", 1500000, &b), 0);
        assert_int_equal(store_intel_feed_put(b, &r), 0);
        assert_int_equal(store_intel_feed_commit(b, NULL), 0);
    }

    assert_int_equal(intel_export_collect(st, INTEL_TLP_GREEN, &set), 0);
    assert_int_equal(intel_export_count(set), 4);
    assert_int_equal(intel_export_withheld(set), 3);
    assert_true(intel_export_added_us(set, 0) <= intel_export_added_us(set, 1));
    assert_int_equal(intel_export_added_us(set, 2), 1500000);
    assert_int_equal(intel_export_added_us(set, 3), 2000000);
    buf_init(&out, 1 << 20);
    assert_int_equal(intel_export_write(set, &o, &out, NULL), 0);
    assert_null(strstr(out.data, "red.example"));
    assert_null(strstr(out.data, "amber.example"));
    assert_non_null(strstr(out.data, "green.example"));
    /* the CSV's last row is the one added last */
    assert_non_null(strstr(out.data, "\nipv4,192.0.2.9,late,"));
    intel_export_set_free(set);

    /* even allowed everything, RED stays home */
    assert_int_equal(intel_export_collect(st, INTEL_TLP_RED, &set), 0);
    assert_int_equal(intel_export_count(set), 6);
    buf_reset(&out);
    o.format = INTEL_EXPORT_STIX;
    assert_int_equal(intel_export_write(set, &o, &out, NULL), 0);
    assert_null(strstr(out.data, "\"labels\":[]"));
    assert_null(strstr(out.data, "\"kill_chain_phases\":[]"));
    assert_non_null(strstr(out.data, "\"type\":\"campaign\""));
    assert_null(strstr(out.data, "red.example"));
    assert_null(strstr(out.data, intel_export_tlp_marking(INTEL_TLP_RED)));
    assert_non_null(strstr(out.data, intel_export_tlp_marking(INTEL_TLP_AMBER_STRICT)));
    intel_export_set_free(set);
    buf_done(&out);
    store_free(st);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
}

static int keep_ind(void *ctx, const struct intel_ind *ind)
{
    struct intel_ind *k = ctx;

    if (ind->type == INTEL_URL_PATTERN)
        *k = *ind;
    return 0;
}

static int keep_ja4(void *ctx, const struct intel_ind *ind)
{
    struct intel_ind *k = ctx;

    if (ind->type == INTEL_JA4)
        *k = *ind;
    return 0;
}

static void keep_bad(void *ctx, const char *where, const char *why)
{
    (void)ctx;
    fail_msg("refused at %s: %s", where, why);
}

/* A URL pattern goes out to STIX as a MATCHES pattern that our importer
 * reads back to the same regex; CSV names its type; MISP leaves it out
 * (no MISP type holds a URL regex) and says so in the count. */
static void test_urlpat_round_trip(void **state)
{
    static const char re[] = "^http://evil\\.example/dl/.*\\.exe$";
    char dir[] = "/tmp/hikeshi-intel-urlpat-XXXXXX";
    struct store *st = NULL;
    struct store_intel_batch *b = NULL;
    struct intel_export_set *set = NULL;
    struct intel_export_opts o = {.format = INTEL_EXPORT_STIX, .now_us = 1};
    struct intel_ind back;
    struct intel_sink sink = {keep_ind, keep_bad, &back};
    struct parse_err e = {0};
    struct buf out;
    size_t skipped = 0;
    char *err = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &st, &err), 0);
    assert_int_equal(store_intel_feed_begin(st, "pats", 1000000, &b), 0);
    put(b, "url-pattern", re, "GREEN");
    put(b, "url", "http://exact.example/a", "GREEN");
    assert_int_equal(store_intel_feed_commit(b, NULL), 0);
    assert_int_equal(intel_export_collect(st, INTEL_TLP_GREEN, &set), 0);
    assert_int_equal(intel_export_count(set), 2);

    buf_init(&out, 1 << 20);
    assert_int_equal(intel_export_write(set, &o, &out, NULL), 0);
    /* in the JSON string each backslash of the STIX text is doubled */
    assert_non_null(strstr(out.data, "[url:value MATCHES '^http://evil\\\\\\\\.example/dl/"));
    memset(&back, 0, sizeof(back));
    assert_int_equal(intel_stix_parse(out.data, out.len, &sink, &e), 0);
    assert_int_equal(back.type, INTEL_URL_PATTERN);
    assert_string_equal(back.value, re);

    buf_reset(&out);
    o.format = INTEL_EXPORT_CSV;
    assert_int_equal(intel_export_write(set, &o, &out, NULL), 0);
    assert_non_null(strstr(out.data, "url-pattern,^http://evil\\.example/dl/.*\\.exe$,pats,"));

    buf_reset(&out);
    o.format = INTEL_EXPORT_MISP;
    assert_int_equal(intel_export_write(set, &o, &out, &skipped), 0);
    assert_int_equal(skipped, 1);
    assert_null(strstr(out.data, "evil\\\\.example"));
    assert_non_null(strstr(out.data, "http://exact.example/a"));
    intel_export_set_free(set);
    buf_done(&out);
    store_free(st);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* A JA4 goes out to STIX as an x-ja4 extension pattern that our importer
 * reads back as the same JA4; CSV names its type ja4 and reads back;
 * MISP leaves it out (no MISP type we know of holds one) and counts it. */
static void test_ja4_round_trip(void **state)
{
    static const char ja4[] = "t13d1516h2_8daaf6152771_b186095e22b6";
    char dir[] = "/tmp/hikeshi-intel-ja4-XXXXXX";
    struct store *st = NULL;
    struct store_intel_batch *b = NULL;
    struct intel_export_set *set = NULL;
    struct intel_export_opts o = {.format = INTEL_EXPORT_STIX, .now_us = 1};
    struct intel_ind back;
    struct intel_sink sink = {keep_ja4, keep_bad, &back};
    struct parse_err e = {0};
    struct buf out;
    size_t skipped = 0;
    char *err = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &st, &err), 0);
    assert_int_equal(store_intel_feed_begin(st, "fps", 1000000, &b), 0);
    put(b, "ja4", ja4, "GREEN");
    put(b, "ja3", "e7d705a3286e19ea42f587b344ee6865", "GREEN");
    assert_int_equal(store_intel_feed_commit(b, NULL), 0);
    assert_int_equal(intel_export_collect(st, INTEL_TLP_GREEN, &set), 0);
    assert_int_equal(intel_export_count(set), 2);

    buf_init(&out, 1 << 20);
    assert_int_equal(intel_export_write(set, &o, &out, NULL), 0);
    assert_non_null(strstr(out.data, "[network-traffic:extensions.'x-ja4'.value = '"
                                     "t13d1516h2_8daaf6152771_b186095e22b6']"));
    memset(&back, 0, sizeof(back));
    assert_int_equal(intel_stix_parse(out.data, out.len, &sink, &e), 0);
    assert_int_equal(back.type, INTEL_JA4);
    assert_string_equal(back.value, ja4);

    buf_reset(&out);
    o.format = INTEL_EXPORT_CSV;
    assert_int_equal(intel_export_write(set, &o, &out, NULL), 0);
    assert_non_null(strstr(out.data, "\nja4,t13d1516h2_8daaf6152771_b186095e22b6,fps,"));
    memset(&back, 0, sizeof(back));
    assert_int_equal(intel_csv_parse(out.data, out.len, -1, &sink, &e), 0);
    assert_int_equal(back.type, INTEL_JA4);
    assert_string_equal(back.value, ja4);

    buf_reset(&out);
    o.format = INTEL_EXPORT_MISP;
    assert_int_equal(intel_export_write(set, &o, &out, &skipped), 0);
    assert_int_equal(skipped, 1);
    assert_null(strstr(out.data, ja4));
    assert_non_null(strstr(out.data, "ja3-fingerprint-md5"));
    intel_export_set_free(set);
    buf_done(&out);
    store_free(st);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
}

static void test_config_peers(void **state)
{
    static const char ok[] = "intel:\n"
                             "  identity: \"CSIRT Example\"\n"
                             "  peers:\n"
                             "    - {name: Peer A, user: peera, tlp_max: amber}\n"
                             "    - {user: peerg}\n"
                             "    - {user: peers, tlp_max: TLP:AMBER+STRICT}\n";
    static const char *const bad[] = {
        "intel:\n  peers:\n    - {user: p, tlp_max: red}\n",
        "intel:\n  peers:\n    - {name: no user}\n",
        "intel:\n  peers:\n    - {user: p}\n    - {user: p, tlp_max: clear}\n",
        "intel:\n  peers: peera\n",
    };
    struct config *c = NULL, *c2 = NULL;
    struct parse_err err;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    assert_int_equal(config_parse(ok, strlen(ok), "t.yaml", &c, &err), 0);
    assert_string_equal(c->intel_identity, "CSIRT Example");
    assert_int_equal(c->nintel_peers, 3);
    assert_string_equal(c->intel_peers[0].name, "Peer A");
    assert_int_equal(c->intel_peers[0].tlp_max, INTEL_TLP_AMBER);
    assert_string_equal(c->intel_peers[1].name, "peerg"); /* the user's name */
    assert_int_equal(c->intel_peers[1].tlp_max, INTEL_TLP_GREEN);
    assert_int_equal(c->intel_peers[2].tlp_max, INTEL_TLP_AMBER_STRICT);
    /* the normal form parses back to the same peers */
    f = open_memstream(&text, &len);
    assert_non_null(f);
    config_print(c, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(config_parse(text, len, "printed.yaml", &c2, &err), 0);
    assert_int_equal(c2->nintel_peers, 3);
    assert_string_equal(c2->intel_peers[2].user, "peers");
    assert_int_equal(c2->intel_peers[2].tlp_max, INTEL_TLP_AMBER_STRICT);
    assert_string_equal(c2->intel_identity, "CSIRT Example");
    free(text);
    config_free(c2);
    config_free(c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = NULL;
        assert_int_equal(config_parse(bad[i], strlen(bad[i]), "t.yaml", &c, &err), -EINVAL);
        assert_non_null(err.msg);
        assert_non_null(strstr(err.msg, "peer"));
        assert_null(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_escapes),   cmocka_unit_test(test_pattern_round_trip),
        cmocka_unit_test(test_tlp_filter),        cmocka_unit_test(test_collect),
        cmocka_unit_test(test_urlpat_round_trip), cmocka_unit_test(test_ja4_round_trip),
        cmocka_unit_test(test_config_peers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
