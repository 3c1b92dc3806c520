/*
 * test_archive_index.c - the blocks' index (src/archive/archive_index.c):
 * no false negative for any substring a hunt may look for, a false-positive
 * rate near its design, hostile sizes refused or left unindexed, blocks of
 * the older format (no index) never skipped, blocks skipped by the index
 * through the reader, and archive verify finding a damaged or rebuilt-wrong
 * index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "archive/archive.h"
#include "archive/archive_priv.h"

static char tmp[64], dir[128];

/* A deterministic generator (xorshift), so a failure can be replayed. */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random token of [A-Za-z0-9._@:-] (mixed case: the index folds it). */
static size_t rand_token(char *out, size_t min, size_t max)
{
    static const char cs[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@:-";
    size_t n = min + (size_t)(rng() % (max - min + 1));

    for (size_t i = 0; i < n; i++)
        out[i] = cs[rng() % (sizeof(cs) - 1)];
    return n;
}

static void lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] + 32);
}

/* Builds an index over `nrec` records; *ret_buf owned by the caller. */
static size_t build(char **recs, const size_t *lens, size_t nrec, uint8_t **ret_buf,
                    struct archive_index *ix)
{
    struct archive_index_builder b;
    const char *why;
    size_t len;

    archive_index_builder_init(&b);
    for (size_t i = 0; i < nrec; i++)
        assert_int_equal(archive_index_builder_add(&b, (const uint8_t *)recs[i], lens[i]), 0);
    len = archive_index_builder_size(&b);
    *ret_buf = NULL;
    if (len) {
        *ret_buf = malloc(len);
        assert_non_null(*ret_buf);
        archive_index_builder_write(&b, *ret_buf, len);
        assert_int_equal(archive_index_decode(*ret_buf, len, ix, &why), 0);
    }
    archive_index_builder_done(&b);
    return len;
}

#define NREC 2000
#define NREC_SUBSTR 600 /* 8 random tokens a record: within the entry cap */

/* Every substring a hunt could look for in a record is "may contain":
 * whole tokens, any window of 5 bytes or more, phrases across separators,
 * short tokens bounded by separators, in any case. */
static void test_no_false_negative(void **state)
{
    static char *recs[NREC_SUBSTR];
    static size_t lens[NREC_SUBSTR];
    struct archive_index ix;
    uint8_t *buf;
    char q[600];

    (void)state;
    for (size_t i = 0; i < NREC_SUBSTR; i++) {
        size_t n = 0;

        recs[i] = malloc(512);
        assert_non_null(recs[i]);
        for (int t = 0; t < 8; t++) {
            n += rand_token(recs[i] + n, 1, 24);
            recs[i][n++] = " /=[]\"\t,"[rng() % 8];
        }
        lens[i] = n;
    }
    assert_true(build(recs, lens, NREC_SUBSTR, &buf, &ix) > 0);
    for (size_t i = 0; i < NREC_SUBSTR; i++) {
        for (int t = 0; t < 20; t++) {
            size_t a = (size_t)(rng() % lens[i]), b = a + 1 + (size_t)(rng() % (lens[i] - a));

            memcpy(q, recs[i] + a, b - a);
            lower(q, b - a);
            if (!archive_index_may_contain(&ix, q, b - a))
                fail_msg("record %zu: substring [%zu,%zu) '%.*s' reported absent", i, a, b,
                         (int)(b - a), q);
        }
        free(recs[i]);
    }
    free(buf);
}

/* Absent text: the rate of "may contain" stays near the design (about
 * 2.2 % at 8 bits and 5 hashes per entry). */
static void test_false_positive_rate(void **state)
{
    static char *recs[NREC];
    static size_t lens[NREC];
    struct archive_index ix;
    uint8_t *buf;
    unsigned fp = 0, tries = 20000;
    char q[8];

    (void)state;
    for (size_t i = 0; i < NREC; i++) {
        recs[i] = malloc(64);
        assert_non_null(recs[i]);
        /* Only letters: the probes below are digits, so never present. */
        for (size_t k = 0; k < 6; k++)
            recs[i][k] = (char)('a' + rng() % 26);
        recs[i][6] = ' ';
        for (size_t k = 7; k < 13; k++)
            recs[i][k] = (char)('a' + rng() % 26);
        lens[i] = 13;
    }
    assert_true(build(recs, lens, NREC, &buf, &ix) > 0);
    for (unsigned t = 0; t < tries; t++) {
        for (int k = 0; k < 6; k++)
            q[k] = (char)('0' + rng() % 10);
        fp += (unsigned)archive_index_may_contain(&ix, q, 6);
    }
    print_message("false positives: %u of %u\n", fp, tries);
    assert_true(fp < tries * 35 / 1000); /* < 3.5 % */
    assert_true(fp > tries / 1000);      /* and the filter is not oversized */
    /* And a word not there at all, bounded: absent. */
    assert_int_equal(archive_index_may_contain(&ix, " 0123456789 ", 12), 0);
    for (size_t i = 0; i < NREC; i++)
        free(recs[i]);
    free(buf);
}

/* Short query runs: bounded on both sides they are whole tokens; at an
 * edge they may be part of a longer token, so they rule nothing out. */
static void test_short_runs(void **state)
{
    char *recs[1] = {"sshd[42]: Accepted key for bob from 10.1.2.3 port 22"};
    size_t lens[1] = {strlen(recs[0])};
    struct archive_index ix;
    uint8_t *buf;

    (void)state;
    assert_true(build(recs, lens, 1, &buf, &ix) > 0);
    assert_int_equal(archive_index_may_contain(&ix, " bob ", 5), 1);
    assert_int_equal(archive_index_may_contain(&ix, "for bob from", 12), 1);
    assert_int_equal(archive_index_may_contain(&ix, " eve ", 5), 0);
    assert_int_equal(archive_index_may_contain(&ix, "eve", 3), 1); /* could be in "steve" */
    assert_int_equal(archive_index_may_contain(&ix, "10.1.2.3", 8), 1);
    assert_int_equal(archive_index_may_contain(&ix, "0.1.2.3", 7), 1); /* a substring */
    assert_int_equal(archive_index_may_contain(&ix, "10.9.9.9", 8), 0);
    assert_int_equal(archive_index_may_contain(&ix, "accepted key", 12), 1);
    assert_int_equal(archive_index_may_contain(&ix, "accepted lock", 13), 1); /* "locker"? */
    assert_int_equal(archive_index_may_contain(&ix, "accepted lock ", 14), 0);
    assert_int_equal(archive_index_may_contain(&ix, "accepted", 8), 1);
    assert_int_equal(archive_index_may_contain(&ix, "acceptes", 8), 0);
    assert_int_equal(archive_index_may_contain(&ix, "sshd[", 5), 1);
    assert_int_equal(archive_index_may_contain(&ix, "[4242]", 6), 0); /* bounded */
    free(buf);
}

/* Hostile sizes: too many entries get no index (never skipped); decoding
 * refuses every malformed header or length. */
static void test_hostile_sizes(void **state)
{
    struct archive_index_builder b;
    struct archive_index ix;
    const char *why;
    uint8_t *big = malloc(400000), *buf, k;
    size_t len;

    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i < 400000; i++)
        big[i] = (uint8_t)('a' + rng() % 26); /* one token: 400k grams */
    archive_index_builder_init(&b);
    assert_int_equal(archive_index_builder_add(&b, big, 400000), 0);
    assert_int_equal(archive_index_builder_size(&b), 0);
    archive_index_builder_reset(&b);
    assert_int_equal(archive_index_builder_size(&b), 0); /* nothing added */
    assert_int_equal(archive_index_builder_add(&b, (const uint8_t *)"  \t ", 4), 0);
    assert_int_equal(archive_index_builder_size(&b), 0);
    assert_int_equal(archive_index_builder_add(&b, (const uint8_t *)"hello world", 11), 0);
    len = archive_index_builder_size(&b);
    assert_int_equal(len, ARCHIVE_INDEX_HDR_LEN + 512 / 8);
    buf = calloc(1, ARCHIVE_INDEX_MAX + 1);
    assert_non_null(buf);
    archive_index_builder_write(&b, buf, len);
    assert_int_equal(archive_index_decode(buf, len, &ix, &why), 0);
    assert_int_equal(archive_index_decode(buf, len - 1, &ix, &why), -EBADMSG);
    assert_int_equal(archive_index_decode(buf, len + 1, &ix, &why), -EBADMSG);
    assert_int_equal(archive_index_decode(buf, 3, &ix, &why), -EBADMSG);
    buf[0] = 2;
    assert_int_equal(archive_index_decode(buf, len, &ix, &why), -EBADMSG);
    buf[0] = 1;
    k = buf[1];
    buf[1] = 0; /* no hash */
    assert_int_equal(archive_index_decode(buf, len, &ix, &why), -EBADMSG);
    buf[1] = k;
    buf[2] = 1; /* reserved */
    assert_int_equal(archive_index_decode(buf, len, &ix, &why), -EBADMSG);
    buf[2] = 0;
    archive_put32(buf + 4, 0);
    assert_int_equal(archive_index_decode(buf, ARCHIVE_INDEX_HDR_LEN, &ix, &why), -EBADMSG);
    archive_put32(buf + 4, 520); /* not a multiple of 64 */
    assert_int_equal(archive_index_decode(buf, ARCHIVE_INDEX_HDR_LEN + 65, &ix, &why), -EBADMSG);
    archive_put32(buf + 4, 2u << 20); /* past the cap */
    assert_int_equal(archive_index_decode(buf, ARCHIVE_INDEX_HDR_LEN + (2u << 20) / 8, &ix, &why),
                     -EBADMSG);
    archive_put32(buf + 4, UINT32_MAX - 63);
    assert_int_equal(archive_index_decode(buf, ARCHIVE_INDEX_MAX, &ix, &why), -EBADMSG);
    archive_put32(buf + 4, 1u << 20); /* the largest */
    assert_int_equal(archive_index_decode(buf, ARCHIVE_INDEX_MAX, &ix, &why), 0);
    archive_index_builder_done(&b);
    free(big);
    free(buf);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/test_archive_index.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(dir, sizeof(dir), "%s/archive", tmp);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* 3000 records; record i names user-<i / 100>, so each block holds a few. */
static void write_users(int no_index)
{
    struct archive_writer_opts o = {.block_bytes = 4096, .no_index = no_index};
    struct archive_open_report rep;
    struct archive_writer *w;
    char line[128];

    assert_int_equal(archive_writer_open(dir, &o, NULL, &w, &rep), 0);
    for (int i = 0; i < 3000; i++) {
        struct archive_record r = {0};

        r.recv_us = 1700000000000000LL + i;
        r.raw_len = (size_t)snprintf(line, sizeof(line),
                                     "<38>Dec  6 10:00:00 host sshd[%d]: session for user-%d", i,
                                     i / 100);
        r.raw = (const uint8_t *)line;
        assert_int_equal(archive_writer_append(w, &r), 0);
    }
    assert_int_equal(archive_writer_close(w), 0);
}

struct want {
    const char *text;
};

static int may_match(void *ctx, const struct archive_index *ix)
{
    const struct want *w = ctx;

    return archive_index_may_contain(ix, w->text, strlen(w->text));
}

/* Reads everything with the index asking for `text`; returns the records
 * containing it and fills the block counts. */
static unsigned read_with(const char *text, uint64_t *ret_skipped, uint64_t *ret_indexed)
{
    struct archive_reader *rd;
    struct archive_record rec;
    struct want w = {text};
    unsigned hits = 0;
    int r;

    assert_int_equal(archive_reader_open(dir, INT64_MIN, INT64_MAX, &rd), 0);
    archive_reader_set_index(rd, may_match, &w);
    while ((r = archive_reader_next(rd, &rec)) == 1)
        hits += memmem(rec.raw, rec.raw_len, text, strlen(text)) != NULL;
    assert_int_equal(r, 0);
    archive_reader_index_counts(rd, ret_skipped, ret_indexed);
    archive_reader_free(rd);
    return hits;
}

static void test_reader_skips(void **state)
{
    struct archive_verify_result res;
    uint64_t skipped, indexed;

    (void)state;
    write_users(0);
    assert_int_equal(read_with("user-17", &skipped, &indexed), 100);
    assert_true(indexed > 20);
    assert_true(skipped > indexed * 3 / 4); /* most blocks hold no user-17 */
    assert_int_equal(read_with("user-999", &skipped, &indexed), 0);
    assert_int_equal(skipped, indexed);
    assert_int_equal(archive_verify(dir, NULL, 0, &res), 0);
    assert_int_equal(res.fault, ARCHIVE_FAULT_NONE);
    assert_int_equal(res.records, 3000);
}

/* Blocks written without an index (the older format) are never skipped. */
static void test_old_blocks_never_skipped(void **state)
{
    struct archive_verify_result res;
    uint64_t skipped, indexed;

    (void)state;
    write_users(1);
    assert_int_equal(read_with("user-17", &skipped, &indexed), 100);
    assert_int_equal(indexed, 0);
    assert_int_equal(skipped, 0);
    assert_int_equal(archive_verify(dir, NULL, 0, &res), 0);
    assert_int_equal(res.fault, ARCHIVE_FAULT_NONE);
}

/* The first block frame of segment 0: its offset and header. */
static void first_block(int fd, uint64_t *ret_off, struct archive_frame_hdr *fh, uint8_t *hdr)
{
    const char *why;

    *ret_off = ARCHIVE_SEG_HDR_LEN;
    assert_int_equal(pread(fd, hdr, ARCHIVE_FRAME_HDR_LEN, (off_t)*ret_off),
                     ARCHIVE_FRAME_HDR_LEN);
    assert_int_equal(archive_frame_hdr_decode(hdr, ARCHIVE_FRAME_HDR_LEN, fh, &why), 0);
    assert_int_equal(fh->type, ARCHIVE_FRAME_BLOCK);
    assert_true(fh->index_len > 0);
}

/* A flipped byte in an index: the frame hash.  An index replaced by one
 * that leaves a run out, with the frame's hash recomputed: the index no
 * longer matches its records. */
static void test_verify_index(void **state)
{
    struct archive_verify_result res;
    struct archive_frame_hdr fh;
    uint8_t hdr[ARCHIVE_FRAME_HDR_LEN], *payload;
    char seg[256];
    uint64_t off;
    int fd;

    (void)state;
    write_users(0);
    snprintf(seg, sizeof(seg), "%s/seg-0000000000000000.hka", dir);
    fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    first_block(fd, &off, &fh, hdr);
    payload = malloc(fh.payload_len);
    assert_non_null(payload);
    assert_int_equal(pread(fd, payload, fh.payload_len, (off_t)(off + ARCHIVE_FRAME_HDR_LEN)),
                     (ssize_t)fh.payload_len);
    /* A byte in the index's bits. */
    payload[fh.payload_len - fh.index_len / 2] ^= 0x10;
    assert_int_equal(pwrite(fd, payload, fh.payload_len, (off_t)(off + ARCHIVE_FRAME_HDR_LEN)),
                     (ssize_t)fh.payload_len);
    assert_int_equal(archive_verify(dir, NULL, 0, &res), 0);
    assert_int_equal(res.fault, ARCHIVE_FAULT_HASH);
    assert_int_equal(res.offset, off);
    /* The index emptied and the frame re-hashed: the hash holds, the
     * index does not. */
    memset(payload + fh.payload_len - fh.index_len + ARCHIVE_INDEX_HDR_LEN, 0,
           fh.index_len - ARCHIVE_INDEX_HDR_LEN);
    archive_frame_finish(&fh, hdr, payload, fh.payload_len);
    assert_int_equal(pwrite(fd, hdr, sizeof(hdr), (off_t)off), (ssize_t)sizeof(hdr));
    assert_int_equal(pwrite(fd, payload, fh.payload_len, (off_t)(off + ARCHIVE_FRAME_HDR_LEN)),
                     (ssize_t)fh.payload_len);
    close(fd);
    assert_int_equal(archive_verify(dir, NULL, 0, &res), 0);
    assert_int_equal(res.fault, ARCHIVE_FAULT_BLOCK);
    assert_int_equal(res.offset, off);
    assert_non_null(strstr(res.why, "index"));
    free(payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_false_negative),
        cmocka_unit_test(test_false_positive_rate),
        cmocka_unit_test(test_short_runs),
        cmocka_unit_test(test_hostile_sizes),
        cmocka_unit_test_setup_teardown(test_reader_skips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_blocks_never_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_index, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
