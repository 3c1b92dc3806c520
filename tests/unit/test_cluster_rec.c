/*
 * test_cluster_rec.c - a record's metadata on the NATS stream and its
 * partition (src/cluster/cluster_rec.c): what the collector writes the
 * analyser reads back unchanged, what anyone else could have written is
 * refused with the offset and reason, and one entity always lands in one
 * partition while many spread over all of them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster_rec.h"
#include "input/record.h"

static void roundtrip(const struct cluster_meta *m)
{
    char buf[CLUSTER_META_MAX];
    struct cluster_meta back;
    struct parse_err e = {0};

    cluster_meta_format(m, buf);
    assert_int_equal(cluster_meta_parse(buf, strlen(buf), &back, &e), 0);
    assert_int_equal(back.recv_us, m->recv_us);
    assert_int_equal(back.flags, m->flags);
    assert_int_equal(back.peer_family, m->peer_family);
    assert_int_equal(back.peer_port, m->peer_port);
    assert_memory_equal(back.peer_addr, m->peer_addr,
                        m->peer_family == 4   ? 4
                        : m->peer_family == 6 ? 16
                                              : 0);
}

static void test_meta_roundtrip(void **state)
{
    struct cluster_meta m4 = {.recv_us = 1765000000123456,
                              .flags = RECORD_TRUSTED,
                              .peer_family = 4,
                              .peer_port = 514,
                              .peer_addr = {192, 0, 2, 7}};
    struct cluster_meta m6 = {
        .recv_us = 1,
        .flags = RECORD_TRUNCATED | RECORD_TRUSTED,
        .peer_family = 6,
        .peer_port = 65535,
        .peer_addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x01}};
    struct cluster_meta m0 = {.recv_us = -5, .flags = 0, .peer_family = 0};
    char buf[CLUSTER_META_MAX];

    (void)state;
    roundtrip(&m4);
    roundtrip(&m6);
    roundtrip(&m0);
    cluster_meta_format(&m4, buf);
    assert_string_equal(buf, "v1 1765000000123456 2 4 514 c0000207");
}

static void refused(const char *s, size_t want_off)
{
    struct cluster_meta m;
    struct parse_err e = {0};

    assert_int_equal(cluster_meta_parse(s, strlen(s), &m, &e), -EINVAL);
    assert_non_null(e.msg);
    assert_int_equal(e.off, want_off);
}

static void test_meta_refused(void **state)
{
    (void)state;
    refused("", 0);
    refused("v2 1 0 0 0 -", 0);
    refused("v1 x 0 0 0 -", 3);
    refused("v1 1 4 0 0 -", 5);            /* a flag hikeshi does not know */
    refused("v1 1 0 5 0 -", 7);            /* family */
    refused("v1 1 0 4 70000 c0000207", 9); /* port */
    refused("v1 1 0 4 1 c00002", 11);      /* short address */
    refused("v1 1 0 4 1 C0000207", 11);    /* upper-case hex */
    refused("v1 1 0 4 1 c0000207 ", 11);   /* trailing space */
    refused("v1 1 0 0 1 c0000207", 11);    /* an address without a family */
    refused("v1 1 0 4 1 -", 11);           /* a family without an address */
    refused("v1 1234567890123456789012 0 0 0 -", 3);
    refused("v1 1 0 0 0", 10);
}

static void test_rec_id(void **state)
{
    (void)state;
    assert_true(cluster_rec_id_ok("col1:0", 6));
    assert_true(cluster_rec_id_ok("site-a_col:18446744073709551615", 31));
    assert_false(cluster_rec_id_ok("col1", 4));
    assert_false(cluster_rec_id_ok(":5", 2));
    assert_false(cluster_rec_id_ok("col1:", 5));
    assert_false(cluster_rec_id_ok("col 1:5", 7));
    assert_false(cluster_rec_id_ok("col1:5x", 7));
    assert_false(cluster_rec_id_ok("col1:123456789012345678901", 26));
    assert_true(cluster_input_name_ok("syslog-tcp", 10));
    assert_false(cluster_input_name_ok("a b", 3));
    assert_false(cluster_input_name_ok("", 0));
}

static void test_partition(void **state)
{
    struct cluster_hash h, other;
    unsigned seen[8] = {0};

    (void)state;
    cluster_hash_init(&h, "HIKESHI");
    cluster_hash_init(&other, "OTHER");
    for (uint32_t i = 0; i < 1000; i++) {
        unsigned char ent[17] = {4, 10, (unsigned char)(i >> 8), (unsigned char)i, 1};
        uint32_t p = cluster_partition(&h, ent, sizeof(ent), 8);

        assert_true(p < 8);
        assert_int_equal(cluster_partition(&h, ent, sizeof(ent), 8), p); /* stable */
        seen[p]++;
    }
    for (int i = 0; i < 8; i++)
        assert_true(seen[i] > 60); /* about 125 each */
    assert_int_equal(cluster_partition(&h, "x", 1, 1), 0);
    /* the key is the stream's: another stream places entities elsewhere */
    {
        int differ = 0;

        for (uint32_t i = 0; i < 64; i++)
            differ += cluster_partition(&h, &i, sizeof(i), 1024) !=
                      cluster_partition(&other, &i, sizeof(i), 1024);
        assert_true(differ > 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_roundtrip),
        cmocka_unit_test(test_meta_refused),
        cmocka_unit_test(test_rec_id),
        cmocka_unit_test(test_partition),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
