/*
 * test_archive_retention.c - retention (archive_retention.c) and what
 * verify makes of it: segments removed by age and by size leave signed
 * tombstones and the archive still verifies from the verification key;
 * records not yet processed (past the cursor) or not yet sealed are
 * kept; a segment removed without a tombstone, a tombstone with a changed
 * field (check recomputed or not), one signed by a key outside the chain
 * and an unsigned one in a sealed archive are each reported, by name.
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
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "archive/archive.h"
#include "archive/archive_retention.h"

#define NREC 1500
#define T0 1700000000000000LL

static char tmp[64], dir[128], keyp[128], pubp[128];
static uint8_t pub[ARCHIVE_PUBKEY_LEN];

/* Seals often enough that every segment holds some. */
static const struct archive_writer_opts tiny = {
    .block_bytes = 4096, .seal_records = 40, .segment_bytes = 12 * 1024};

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/test_retention.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(dir, sizeof(dir), "%s/archive", tmp);
    snprintf(keyp, sizeof(keyp), "%s/archive.key", tmp);
    snprintf(pubp, sizeof(pubp), "%s/archive.pub", tmp);
    return archive_key_generate(keyp, pubp, pub);
}

static int teardown(void **state)
{
    char cmd[160];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Records [from, to): record i received at T0 + i ms, its text numbered. */
static void write_records(size_t from, size_t to, const struct archive_writer_opts *o, int with_key)
{
    struct archive_open_report rep;
    struct archive_writer *w;
    struct archive_key *k = NULL;
    const char *why;
    char line[160], noise[65];
    uint8_t h[32];

    if (with_key)
        assert_int_equal(archive_key_load(keyp, &k, &why), 0);
    assert_int_equal(archive_writer_open(dir, o, k, &w, &rep), 0);
    assert_int_equal(rep.records, from);
    for (size_t i = from; i < to; i++) {
        struct archive_record r = {0};
        uint64_t le = i;
        int n;

        /* Incompressible enough that segments of 12 KiB fill quickly. */
        crypto_generichash(h, sizeof(h), (const uint8_t *)&le, sizeof(le), NULL, 0);
        sodium_bin2hex(noise, sizeof(noise), h, sizeof(h));
        n = snprintf(line, sizeof(line), "<13>Jan  1 00:00:00 host app: line %06zu %s", i, noise);

        r.recv_us = T0 + (int64_t)i * 1000;
        r.input = "tcp";
        r.input_len = 3;
        r.raw = (const uint8_t *)line;
        r.raw_len = (size_t)n;
        assert_int_equal(archive_writer_append(w, &r), 0);
    }
    assert_int_equal(archive_writer_close(w), 0);
    archive_key_free(k);
}

static uint64_t key_epoch(void)
{
    struct archive_key *k;
    const char *why;
    uint64_t e;

    assert_int_equal(archive_key_load(keyp, &k, &why), 0);
    e = archive_key_epoch(k);
    archive_key_free(k);
    return e;
}

static void expect_fault(enum archive_fault f, const uint8_t *key, uint64_t epoch,
                         struct archive_verify_result *res)
{
    assert_int_equal(archive_verify(dir, key, epoch, res), 0);
    if (res->fault != f)
        fail_msg("expected '%s', got '%s' at %s: %s", archive_fault_name(f),
                 archive_fault_name(res->fault), res->segment, res->why);
}

static int prune(const struct archive_retention *rt, int with_key, uint64_t cursor,
                 struct archive_prune_report *rep)
{
    struct archive_key *k = NULL;
    const char *why;
    int r;

    if (with_key)
        assert_int_equal(archive_key_load(keyp, &k, &why), 0);
    r = archive_prune(dir, rt, k, cursor, T0 + NREC * 1000LL, 0, rep);
    archive_key_free(k);
    return r;
}

static int exists(const char *name)
{
    char p[256];

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Records older than one second go; the rest verifies, reads back from the
 * first kept record, and takes appends and a second prune. */
static void test_prune_by_age(void **state)
{
    struct archive_retention rt = {.max_age_us = 1000000};
    struct archive_prune_report rep;
    struct archive_verify_result res;
    struct archive_reader *rd;
    struct archive_record rec;
    uint64_t epoch;
    int n;

    (void)state;
    write_records(0, NREC, &tiny, 1);
    epoch = key_epoch();
    expect_fault(ARCHIVE_FAULT_NONE, pub, epoch, &res);
    assert_true(res.segments >= 6);
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    assert_true(rep.segments >= 2);
    /* Every removed record is older than now - max_age = record 500. */
    assert_int_equal(rep.first_record, 0);
    assert_true(rep.last_record < 500);
    assert_true(rep.t_max < T0 + 500 * 1000LL);
    assert_false(exists("seg-0000000000000000.hka"));
    assert_true(exists("tomb-0000000000000000.hkt"));
    assert_int_equal(key_epoch(), epoch); /* signing did not evolve the key */

    expect_fault(ARCHIVE_FAULT_NONE, pub, epoch, &res);
    assert_int_equal(res.tombstones, rep.segments);
    assert_int_equal(res.tomb_unsigned, 0);
    assert_int_equal(res.removed_records, rep.records);
    assert_int_equal(res.removed_first, 0);
    assert_int_equal(res.removed_last, rep.last_record);
    assert_int_equal(res.tomb_epoch_min, epoch);
    assert_int_equal(res.records, NREC);
    assert_int_equal(res.epoch, epoch); /* the key chain walked through the seal copies */

    assert_int_equal(archive_reader_open(dir, INT64_MIN, INT64_MAX, &rd), 0);
    n = archive_reader_next(rd, &rec);
    assert_int_equal(n, 1);
    assert_int_equal(archive_reader_record_no(rd), rep.last_record + 1);
    assert_int_equal(rec.recv_us, T0 + (int64_t)(rep.last_record + 1) * 1000);
    archive_reader_free(rd);

    write_records(NREC, NREC + 50, &tiny, 1);
    expect_fault(ARCHIVE_FAULT_NONE, pub, key_epoch(), &res);
    assert_int_equal(res.records, NREC + 50);
}

/* The cursor holds back what the pipeline has not processed. */
static void test_prune_keeps_unprocessed(void **state)
{
    struct archive_retention rt = {.max_age_us = 1}; /* everything is old */
    struct archive_prune_report rep;
    struct archive_verify_result res;

    (void)state;
    write_records(0, NREC, &tiny, 1);
    assert_int_equal(prune(&rt, 1, 300, &rep), 0);
    assert_true(rep.segments >= 1);
    assert_true(rep.last_record < 300);
    assert_int_equal(rep.kept_for_cursor, 1);
    expect_fault(ARCHIVE_FAULT_NONE, pub, key_epoch(), &res);
    assert_true(res.removed_last < 300);
    /* With every record processed, still never the last (open) segment. */
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    expect_fault(ARCHIVE_FAULT_NONE, pub, key_epoch(), &res);
    assert_int_equal(res.segments, 1);
    assert_int_equal(res.records, NREC);
}

static uint64_t dir_bytes(void)
{
    uint64_t seqs_total = 0;
    char p[256];
    struct stat st;

    for (uint64_t s = 0; s < 1000; s++) {
        snprintf(p, sizeof(p), "%s/seg-%016llx.hka", dir, (unsigned long long)s);
        if (stat(p, &st) == 0)
            seqs_total += (uint64_t)st.st_size;
    }
    return seqs_total;
}

static void test_prune_by_size(void **state)
{
    struct archive_retention rt = {.max_bytes = 30 * 1024};
    struct archive_prune_report rep;
    struct archive_verify_result res;

    (void)state;
    write_records(0, NREC, &tiny, 1);
    assert_true(dir_bytes() > 30 * 1024);
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    assert_true(rep.segments >= 1);
    assert_true(dir_bytes() <= 30 * 1024);
    expect_fault(ARCHIVE_FAULT_NONE, pub, key_epoch(), &res);
    assert_int_equal(res.tombstones, rep.segments);
}

/* A segment deleted by hand is named; so is its neighbour's tombstone
 * gone. */
static void test_removed_without_tombstone(void **state)
{
    struct archive_retention rt = {.max_age_us = 1000000};
    struct archive_prune_report rep;
    struct archive_verify_result res;
    char p[256], name[64];

    (void)state;
    write_records(0, NREC, &tiny, 1);
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    /* The first segment retention kept, removed by hand. */
    snprintf(name, sizeof(name), "seg-%016llx.hka", (unsigned long long)rep.segments);
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    assert_int_equal(unlink(p), 0);
    expect_fault(ARCHIVE_FAULT_SEGMENT, pub, 0, &res);
    assert_string_equal(res.segment, name);
    assert_non_null(strstr(res.why, "no tombstone"));
}

static uint8_t *slurp(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *b;
    FILE *f = fopen(path, "rb");

    assert_non_null(f);
    assert_int_equal(fstat(fileno(f), &st), 0);
    b = malloc((size_t)st.st_size);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    *len = (size_t)st.st_size;
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* A flipped byte fails the check; a changed record count with the check
 * recomputed (a forger's move) fails the signature. */
static void test_forged_tombstone(void **state)
{
    struct archive_retention rt = {.max_age_us = 1000000};
    struct archive_prune_report rep;
    struct archive_verify_result res;
    char p[256];
    uint8_t *b, *orig;
    size_t len;

    (void)state;
    write_records(0, NREC, &tiny, 1);
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    snprintf(p, sizeof(p), "%s/tomb-0000000000000000.hkt", dir);
    orig = slurp(p, &len);
    b = malloc(len);
    assert_non_null(b);

    memcpy(b, orig, len);
    b[60] ^= 1; /* t_max */
    spill(p, b, len);
    expect_fault(ARCHIVE_FAULT_TOMBSTONE, pub, 0, &res);
    assert_string_equal(res.segment, "tomb-0000000000000000.hkt");
    assert_non_null(strstr(res.why, "check mismatch"));

    memcpy(b, orig, len);
    archive_put64(b + 40, archive_get64(b + 40) - 1); /* one record fewer */
    crypto_generichash(b + len - 16, 16, b, len - 16, NULL, 0);
    spill(p, b, len);
    expect_fault(ARCHIVE_FAULT_TOMBSTONE, pub, 0, &res);
    assert_string_equal(res.segment, "tomb-0000000000000000.hkt");
    assert_non_null(strstr(res.why, "signature"));

    spill(p, orig, len);
    expect_fault(ARCHIVE_FAULT_NONE, pub, key_epoch(), &res);
    free(b);
    free(orig);
}

/* A tombstone re-signed with a key outside the chain (removing evidence
 * with a key of one's own) is caught against the chain's key. */
static void test_tombstone_foreign_key(void **state)
{
    struct archive_retention rt = {.max_age_us = 1000000};
    struct archive_prune_report rep;
    struct archive_verify_result res;
    struct archive_tomb t;
    struct archive_key *other;
    uint8_t opub[ARCHIVE_PUBKEY_LEN], *orig, *b;
    char p[256], ok[160], op[160];
    const char *why;
    size_t len, blen;

    (void)state;
    write_records(0, NREC, &tiny, 1);
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    snprintf(p, sizeof(p), "%s/tomb-0000000000000000.hkt", dir);
    orig = slurp(p, &len);
    assert_int_equal(archive_tomb_parse(orig, len, &t, &why), 0);
    snprintf(ok, sizeof(ok), "%s/other.key", tmp);
    snprintf(op, sizeof(op), "%s/other.pub", tmp);
    assert_int_equal(archive_key_generate(ok, op, opub), 0);
    assert_int_equal(archive_key_load(ok, &other, &why), 0);
    assert_int_equal(archive_key_evolve_to(other, t.sig.epoch), 0);
    assert_int_equal(archive_tomb_build(&t, other, &b, &blen), 0);
    archive_key_free(other);
    spill(p, b, blen);
    expect_fault(ARCHIVE_FAULT_TOMBSTONE, pub, 0, &res);
    assert_string_equal(res.segment, "tomb-0000000000000000.hkt");
    assert_non_null(strstr(res.why, "not the key chain"));
    free(b);
    free(orig);
}

/* An archive without a key gets unsigned tombstones, and verify says so;
 * a sealed archive is never pruned without its key, and an unsigned
 * tombstone in it is a fault. */
static void test_unsigned(void **state)
{
    static const struct archive_writer_opts nokey = {.block_bytes = 4096,
                                                     .segment_bytes = 12 * 1024};
    struct archive_retention rt = {.max_age_us = 500000};
    struct archive_prune_report rep;
    struct archive_verify_result res;
    struct archive_tomb t;
    uint8_t *b, *orig;
    size_t len, blen;
    const char *why;
    char p[256];

    (void)state;
    write_records(0, NREC, &nokey, 0);
    assert_int_equal(prune(&rt, 0, NREC, &rep), 0);
    assert_true(rep.segments >= 2);
    expect_fault(ARCHIVE_FAULT_NONE, NULL, 0, &res);
    assert_int_equal(res.tombstones, rep.segments);
    assert_int_equal(res.tomb_unsigned, rep.segments);
    teardown(state);
    assert_int_equal(setup(state), 0);

    write_records(0, NREC, &tiny, 1);
    assert_int_equal(prune(&rt, 0, NREC, &rep), -ENOKEY);
    assert_true(exists("seg-0000000000000000.hka"));
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    snprintf(p, sizeof(p), "%s/tomb-0000000000000000.hkt", dir);
    orig = slurp(p, &len);
    assert_int_equal(archive_tomb_parse(orig, len, &t, &why), 0);
    assert_int_equal(archive_tomb_build(&t, NULL, &b, &blen), 0);
    spill(p, b, blen);
    expect_fault(ARCHIVE_FAULT_TOMBSTONE, pub, 0, &res);
    assert_string_equal(res.segment, "tomb-0000000000000000.hkt");
    assert_non_null(strstr(res.why, "unsigned"));
    free(b);
    free(orig);
}

/* Hostile bytes: every cut length and a seal count past the cap. */
static void test_parse_bounds(void **state)
{
    struct archive_retention rt = {.max_age_us = 1000000};
    struct archive_prune_report rep;
    struct archive_tomb t;
    const char *why;
    uint8_t *orig;
    size_t len;
    char p[256];

    (void)state;
    write_records(0, NREC, &tiny, 1);
    assert_int_equal(prune(&rt, 1, NREC, &rep), 0);
    snprintf(p, sizeof(p), "%s/tomb-0000000000000000.hkt", dir);
    orig = slurp(p, &len);
    assert_int_equal(archive_tomb_parse(orig, len, &t, &why), 0);
    assert_true(t.nseals >= 1);
    assert_true(archive_tomb_sig_ok(orig, len, &t));
    for (size_t n = 0; n < len; n++)
        assert_int_equal(archive_tomb_parse(orig, n, &t, &why), -EBADMSG);
    archive_put32(orig + 172, 0xffffffffu);
    assert_int_equal(archive_tomb_parse(orig, len, &t, &why), -EBADMSG);
    assert_non_null(strstr(why, "seal count"));
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prune_by_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_unprocessed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_by_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_without_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_foreign_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsigned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_bounds, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
