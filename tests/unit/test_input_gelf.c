/*
 * test_input_gelf.c - GELF datagrams to messages: plain and compressed
 * messages, chunks reassembled in and out of order, duplicates ignored,
 * an incomplete message expired, oversized ones refused, senders kept
 * apart, the table's caps.
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
#include <zlib.h>

#include "input/input_gelf.h"
#include "util/limits.h"

static const char MSG[] = "{\"version\":\"1.1\",\"host\":\"web1\",\"short_message\":"
                          "\"Failed password for root from 203.0.113.9 port 51022 ssh2\","
                          "\"level\":4,\"_process.name\":\"sshd\"}";
static const uint8_t PEER_A[] = {4, 192, 0, 2, 1};
static const uint8_t PEER_B[] = {4, 192, 0, 2, 2};
#define T0 INT64_C(1000000000)

/* One chunk datagram of `piece` into buf; returns its length. */
static size_t chunk(uint8_t *buf, const uint8_t id[8], unsigned seq, unsigned count,
                    const void *piece, size_t n)
{
    buf[0] = 0x1e;
    buf[1] = 0x0f;
    memcpy(buf + 2, id, 8);
    buf[10] = (uint8_t)seq;
    buf[11] = (uint8_t)count;
    memcpy(buf + 12, piece, n);
    return 12 + n;
}

/* Feeds MSG (len n) cut into `count` chunks in the order `order`. */
static int feed_chunks(struct gelf_reasm *g, const uint8_t *msg, size_t n, unsigned count,
                       const unsigned *order, size_t norder, const uint8_t id[8],
                       const uint8_t *peer, size_t peer_len, int64_t t, const char **m,
                       size_t *mlen)
{
    size_t per = (n + count - 1) / count;
    uint8_t buf[2048];
    int r = 0;

    for (size_t k = 0; k < norder; k++) {
        unsigned seq = order[k];
        size_t off = seq * per, len = off >= n ? 0 : (n - off < per ? n - off : per);
        size_t dl = chunk(buf, id, seq, count, msg + off, len);

        r = gelf_reasm_datagram(g, buf, dl, peer, peer_len, t, m, mlen);
        if (k + 1 < norder && r != 0)
            return r == 1 ? 99 : r; /* completed or failed too early */
    }
    return r;
}

static void test_plain(void **state)
{
    struct gelf_reasm *g = gelf_reasm_new(4096);
    const char *m;
    size_t n;
    char buf[512];

    (void)state;
    assert_non_null(g);
    assert_int_equal(gelf_reasm_datagram(g, (const uint8_t *)MSG, strlen(MSG), PEER_A,
                                         sizeof(PEER_A), T0, &m, &n),
                     1);
    assert_int_equal(n, strlen(MSG));
    assert_memory_equal(m, MSG, n);
    /* TCP-style trailing NUL, and a newline, are not part of the message */
    snprintf(buf, sizeof(buf), "%s", MSG);
    memcpy(buf + strlen(MSG), "\n", 2);
    assert_int_equal(gelf_reasm_datagram(g, (const uint8_t *)buf, strlen(MSG) + 2, PEER_A,
                                         sizeof(PEER_A), T0, &m, &n),
                     1);
    assert_int_equal(n, strlen(MSG));
    gelf_reasm_free(g);
}

static size_t compress_buf(uint8_t *out, size_t cap, const char *in, size_t n, int gzip)
{
    z_stream z;

    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY),
                     Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    n = z.total_out;
    deflateEnd(&z);
    return n;
}

static void test_compressed(void **state)
{
    struct gelf_reasm *g = gelf_reasm_new(4096);
    uint8_t z[1024];
    const char *m;
    size_t n, zl;

    (void)state;
    for (int gz = 0; gz <= 1; gz++) {
        zl = compress_buf(z, sizeof(z), MSG, strlen(MSG), gz);
        assert_int_equal(gelf_reasm_datagram(g, z, zl, PEER_A, sizeof(PEER_A), T0, &m, &n), 1);
        assert_int_equal(n, strlen(MSG));
        assert_memory_equal(m, MSG, n);
        /* cut short: the stream does not end */
        assert_int_equal(gelf_reasm_datagram(g, z, zl - 4, PEER_A, sizeof(PEER_A), T0, &m, &n),
                         -EINVAL);
    }
    /* a zlib bomb past max_msg is refused, not inflated further */
    {
        static char big[64 * 1024];
        struct gelf_reasm *small = gelf_reasm_new(1024);

        memset(big, 'a', sizeof(big));
        zl = compress_buf(z, sizeof(z), big, sizeof(big), 0);
        assert_int_equal(gelf_reasm_datagram(small, z, zl, PEER_A, sizeof(PEER_A), T0, &m, &n),
                         -EMSGSIZE);
        assert_int_equal(gelf_reasm_stats(small)->oversized, 1);
        gelf_reasm_free(small);
    }
    gelf_reasm_free(g);
}

static void test_chunks_out_of_order_and_duplicate(void **state)
{
    struct gelf_reasm *g = gelf_reasm_new(4096);
    static const uint8_t id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const unsigned order[] = {3, 0, 3, 2, 1}; /* 3 twice */
    const char *m;
    size_t n;

    (void)state;
    assert_int_equal(feed_chunks(g, (const uint8_t *)MSG, strlen(MSG), 4, order, 5, id, PEER_A,
                                 sizeof(PEER_A), T0, &m, &n),
                     1);
    assert_int_equal(n, strlen(MSG));
    assert_memory_equal(m, MSG, n);
    assert_int_equal(gelf_reasm_stats(g)->duplicates, 1);
    assert_int_equal(gelf_reasm_pending(g), 0);
    gelf_reasm_free(g);
}

static void test_chunked_gzip(void **state)
{
    struct gelf_reasm *g = gelf_reasm_new(4096);
    static const uint8_t id[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    static const unsigned order[] = {1, 2, 0};
    uint8_t z[1024];
    const char *m;
    size_t n, zl = compress_buf(z, sizeof(z), MSG, strlen(MSG), 1);

    (void)state;
    assert_int_equal(feed_chunks(g, z, zl, 3, order, 3, id, PEER_A, sizeof(PEER_A), T0, &m, &n), 1);
    assert_int_equal(n, strlen(MSG));
    assert_memory_equal(m, MSG, n);
    gelf_reasm_free(g);
}

static void test_missing_chunk_expires(void **state)
{
    struct gelf_reasm *g = gelf_reasm_new(4096);
    static const uint8_t id[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    static const unsigned order[] = {0, 2}; /* 1 never comes */
    const char *m;
    size_t n;

    (void)state;
    assert_int_equal(feed_chunks(g, (const uint8_t *)MSG, strlen(MSG), 3, order, 2, id, PEER_A,
                                 sizeof(PEER_A), T0, &m, &n),
                     0);
    assert_int_equal(gelf_reasm_pending(g), 1);
    assert_int_equal(gelf_reasm_expire(g, T0 + (int64_t)LIMIT_GELF_REASM_S * 1000000 - 1), 0);
    assert_int_equal(gelf_reasm_pending(g), 1);
    assert_int_equal(gelf_reasm_expire(g, T0 + (int64_t)LIMIT_GELF_REASM_S * 1000000), 1);
    assert_int_equal(gelf_reasm_pending(g), 0);
    assert_int_equal(gelf_reasm_stats(g)->expired, 1);
    /* the late chunk starts a new message, which stays incomplete */
    {
        static const unsigned late[] = {1};

        assert_int_equal(feed_chunks(g, (const uint8_t *)MSG, strlen(MSG), 3, late, 1, id, PEER_A,
                                     sizeof(PEER_A), T0 + 6000000, &m, &n),
                         0);
        assert_int_equal(gelf_reasm_pending(g), 1);
    }
    gelf_reasm_free(g);
}

static void test_oversized_and_malformed(void **state)
{
    struct gelf_reasm *g = gelf_reasm_new(300);
    static const uint8_t id[8] = {5, 5, 5, 5, 5, 5, 5, 5};
    uint8_t buf[512], piece[200];
    const char *m;
    size_t n, dl;

    (void)state;
    memset(piece, 'x', sizeof(piece));
    dl = chunk(buf, id, 0, 2, piece, sizeof(piece));
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), 0);
    dl = chunk(buf, id, 1, 2, piece, sizeof(piece)); /* 400 > 300 */
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n),
                     -EMSGSIZE);
    assert_int_equal(gelf_reasm_pending(g), 0);
    /* count 0, count over 128, sequence past the count, short header */
    dl = chunk(buf, id, 0, 0, piece, 1);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), -EINVAL);
    dl = chunk(buf, id, 0, 129, piece, 1);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), -EINVAL);
    dl = chunk(buf, id, 3, 3, piece, 1);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), -EINVAL);
    assert_int_equal(gelf_reasm_datagram(g, buf, 11, PEER_A, sizeof(PEER_A), T0, &m, &n), -EINVAL);
    /* the same id announcing another count drops the message */
    dl = chunk(buf, id, 0, 3, piece, 1);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), 0);
    dl = chunk(buf, id, 1, 4, piece, 1);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), -EINVAL);
    assert_int_equal(gelf_reasm_pending(g), 0);
    /* a plain message over max_msg */
    memset(buf, ' ', sizeof(buf));
    buf[0] = '{';
    assert_int_equal(gelf_reasm_datagram(g, buf, sizeof(buf), PEER_A, sizeof(PEER_A), T0, &m, &n),
                     -EMSGSIZE);
    gelf_reasm_free(g);
}

static void test_senders_apart_and_table_cap(void **state)
{
    struct gelf_reasm *g = gelf_reasm_new(4096);
    static const uint8_t id[8] = {4, 4, 4, 4, 4, 4, 4, 4};
    uint8_t buf[64], idn[8] = {0};
    const char *m;
    size_t n, dl;

    (void)state;
    /* A's chunk 0 and B's chunk 1 of the same id do not make a message */
    dl = chunk(buf, id, 0, 2, "{\"a\"", 4);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), 0);
    dl = chunk(buf, id, 1, 2, ":1}", 3);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_B, sizeof(PEER_B), T0, &m, &n), 0);
    assert_int_equal(gelf_reasm_pending(g), 2);
    /* and A's chunk 1 completes A's */
    dl = chunk(buf, id, 1, 2, ":2}", 3);
    assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0, &m, &n), 1);
    assert_int_equal(n, 7);
    assert_memory_equal(m, "{\"a\":2}", 7);
    /* flooding incomplete messages: the table stays at its cap */
    for (unsigned i = 0; i < LIMIT_GELF_PENDING + 10; i++) {
        memcpy(idn, &i, sizeof(i));
        dl = chunk(buf, idn, 0, 2, "x", 1);
        assert_int_equal(gelf_reasm_datagram(g, buf, dl, PEER_A, sizeof(PEER_A), T0 + i, &m, &n),
                         0);
    }
    assert_int_equal(gelf_reasm_pending(g), LIMIT_GELF_PENDING);
    assert_true(gelf_reasm_stats(g)->evicted >= 10);
    gelf_reasm_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_compressed),
        cmocka_unit_test(test_chunks_out_of_order_and_duplicate),
        cmocka_unit_test(test_chunked_gzip),
        cmocka_unit_test(test_missing_chunk_expires),
        cmocka_unit_test(test_oversized_and_malformed),
        cmocka_unit_test(test_senders_apart_and_table_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
