/*
 * test_evidence.c - the custody chain and the bundle manifest
 * (src/evidence/): lines written by evidence_entry_format read back and
 * chain; a changed, removed, reordered or unsealed entry is named; seals
 * chain from epoch 0's key and a forged or skipped one is named; the
 * manifest parser takes a good manifest and refuses hostile ones; the
 * digests match known answers.
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

#include "evidence/evidence.h"
#include "util/hex.h"

struct fixture {
    char dir[64];
    char key[96], pub[96];
    struct archive_key *k;
    uint8_t pub0[32];
    struct buf seals; /* JSON array body of the seals signed so far */
};

static int keep(void *ctx, const struct evidence_seal *s)
{
    struct fixture *f = ctx;

    if (f->seals.len)
        buf_putc(&f->seals, ',');
    return evidence_seal_format(&f->seals, s);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *why = NULL;

    assert_non_null(f);
    assert_true(sodium_init() >= 0);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_evidence.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->key, sizeof(f->key), "%s/ev.key", f->dir);
    snprintf(f->pub, sizeof(f->pub), "%s/ev.key.pub", f->dir);
    assert_int_equal(archive_key_generate(f->key, f->pub, f->pub0), 0);
    assert_int_equal(archive_key_load(f->key, &f->k, &why), 0);
    buf_init(&f->seals, 1 << 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    archive_key_free(f->k);
    buf_done(&f->seals);
    unlink(f->key);
    unlink(f->pub);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Writes n entries of item EV-1 (add, then transfers A->B, B->C, ...),
 * each sealed, as a JSON array of objects into `out`. */
static void make_log(struct fixture *f, int n, struct buf *out)
{
    uint8_t prev[32] = {0}, hash[32];
    struct evidence_seal s;

    buf_putc(out, '[');
    for (int i = 1; i <= n; i++) {
        char details[128];

        if (i == 1)
            snprintf(details, sizeof(details),
                     "{\"sha256\":\"%064d\",\"size\":1,\"custodian\":\"p1\"}", 0);
        else
            snprintf(details, sizeof(details), "{\"from\":\"p%d\",\"to\":\"p%d\",\"reason\":\"\"}",
                     i - 1, i);
        if (i > 1)
            buf_putc(out, ',');
        assert_int_equal(evidence_entry_format(out, "EV-1", (uint64_t)i, 1700000000000000 + i,
                                               "cli:test", i == 1 ? "add" : "transfer", details,
                                               prev, hash),
                         0);
        assert_int_equal(evidence_seal_sign(f->k, EVIDENCE_SEAL_CUSTODY, hash, keep, f, &s), 0);
        memcpy(prev, hash, 32);
    }
    buf_putc(out, ']');
}

/* Checks `log` against the fixture's seals; returns the report. */
static void check(struct fixture *f, const char *log, size_t len, struct evidence_report *rep,
                  char *holder)
{
    struct evidence_seals ss;
    struct buf arr;

    buf_init(&arr, 1 << 20);
    buf_putc(&arr, '[');
    buf_append(&arr, f->seals.data, f->seals.len);
    buf_putc(&arr, ']');
    evidence_report_init(rep);
    assert_int_equal(evidence_seals_load(&ss, arr.data, arr.len, f->pub0, rep), 0);
    assert_int_equal(
        evidence_custody_check("item EV-1", "EV-1", log, len, &ss, rep, NULL, holder, 64), 0);
    evidence_seals_done(&ss);
    buf_done(&arr);
}

static void test_chain_intact(void **state)
{
    struct fixture *f = *state;
    struct evidence_report rep;
    struct buf log;
    char holder[64];

    buf_init(&log, 1 << 20);
    make_log(f, 3, &log);
    check(f, log.data, log.len, &rep, holder);
    assert_int_equal(rep.faults, 0);
    assert_string_equal(holder, "p3"); /* add p1, p1->p2, p2->p3 */
    evidence_report_done(&rep);
    buf_done(&log);
}

static void test_entry_roundtrip(void **state)
{
    struct evidence_entry e;
    struct parse_err pe = {0};
    struct buf b;
    uint8_t prev[32], hash[32];

    (void)state;
    memset(prev, 0xab, sizeof(prev));
    buf_init(&b, 4096);
    assert_int_equal(evidence_entry_format(&b, "EV-7", 4, 0, "al\"ice", "transfer",
                                           "{\"to\":\"bob\"}", prev, hash),
                     0);
    assert_int_equal(evidence_entry_parse(b.data, b.len, &e, &pe), 0);
    assert_true(e.hash_ok);
    assert_string_equal(e.item, "EV-7");
    assert_string_equal(e.actor, "al\"ice");
    assert_string_equal(e.time, "1970-01-01T00:00:00.000000Z");
    assert_int_equal(e.seq, 4);
    assert_memory_equal(e.prev, prev, 32);
    assert_memory_equal(e.hash, hash, 32);
    /* A space before a key: not our layout, refused rather than read. */
    {
        char *alt = malloc(b.len + 2);

        memcpy(alt, b.data, 8);
        alt[8] = ' ';
        memcpy(alt + 9, b.data + 8, b.len - 8);
        assert_int_equal(evidence_entry_parse(alt, b.len + 1, &e, &pe), -EINVAL);
        free(alt);
    }
    /* A changed byte in the hashed part: parses, but the hash is wrong. */
    b.data[strlen("{\"item\":\"EV-7\",\"seq\":4,\"time\":\"19")] = '8';
    assert_int_equal(evidence_entry_parse(b.data, b.len, &e, &pe), 0);
    assert_false(e.hash_ok);
    buf_done(&b);
}

static void expect_fault(struct fixture *f, const char *log, const char *needle)
{
    struct evidence_report rep;
    char holder[64];

    check(f, log, strlen(log), &rep, holder);
    assert_true(rep.faults > 0);
    if (!strstr(rep.text.data, needle))
        fail_msg("expected '%s' in: %s", needle, rep.text.data);
    evidence_report_done(&rep);
}

static void test_chain_faults(void **state)
{
    struct fixture *f = *state;
    struct buf log;
    char *copy, *second, *third;

    buf_init(&log, 1 << 20);
    make_log(f, 3, &log);
    second = strstr(log.data, ",{\"item\"");
    third = strstr(second + 1, ",{\"item\"");
    assert_non_null(second);
    assert_non_null(third);

    /* A byte of entry 2 changed (to whom it was handed): hash mismatch,
     * named, and entry 3's hand-over no longer follows. */
    copy = strdup(log.data);
    strstr(copy + (second - log.data), "\"to\":\"p2\"")[7] = '9';
    expect_fault(f, copy, "custody entry 2 (transfer): hash mismatch");
    expect_fault(f, copy, "custody entry 3: transfer from 'p2' while the custodian was 'p9'");
    free(copy);

    /* Entry 2 removed: entry 3 is numbered wrong and does not chain. */
    copy = malloc(log.len + 1);
    memcpy(copy, log.data, (size_t)(second - log.data));
    strcpy(copy + (second - log.data), third);
    expect_fault(f, copy, "does not chain");
    free(copy);

    /* A well-formed entry that no seal signs. */
    {
        struct buf other;
        uint8_t prev[32] = {0}, hash[32];

        buf_init(&other, 4096);
        buf_putc(&other, '[');
        evidence_entry_format(&other, "EV-1", 1, 1, "x", "add", "{\"custodian\":\"x\"}", prev,
                              hash);
        buf_putc(&other, ']');
        expect_fault(f, other.data, "not sealed");
        buf_done(&other);
    }
    buf_done(&log);
}

static void test_seal_chain_faults(void **state)
{
    struct fixture *f = *state;
    struct evidence_report rep;
    struct evidence_seals ss;
    struct buf log, arr;
    char *p;

    buf_init(&log, 1 << 20);
    make_log(f, 3, &log);
    buf_init(&arr, 1 << 20);
    buf_putc(&arr, '[');
    buf_append(&arr, f->seals.data, f->seals.len);
    buf_putc(&arr, ']');

    /* Good chain from epoch 0's key. */
    evidence_report_init(&rep);
    assert_int_equal(evidence_seals_load(&ss, arr.data, arr.len, f->pub0, &rep), 0);
    assert_true(ss.chain_ok);
    assert_int_equal(ss.n, 3);
    evidence_seals_done(&ss);
    evidence_report_done(&rep);

    /* Another key: seal 0's signer is not it. */
    {
        uint8_t other[32];

        memset(other, 7, sizeof(other));
        evidence_report_init(&rep);
        assert_int_equal(evidence_seals_load(&ss, arr.data, arr.len, other, &rep), 0);
        assert_false(ss.chain_ok);
        assert_non_null(strstr(rep.text.data, "seal 0: its signer"));
        evidence_seals_done(&ss);
        evidence_report_done(&rep);
    }

    /* A flipped signature digit. */
    p = strstr(arr.data, "\"sig\":\"") + 7;
    *p = *p == '0' ? '1' : '0';
    evidence_report_init(&rep);
    assert_int_equal(evidence_seals_load(&ss, arr.data, arr.len, f->pub0, &rep), 0);
    assert_false(ss.chain_ok);
    assert_non_null(strstr(rep.text.data, "seal 0: bad signature"));
    evidence_seals_done(&ss);
    evidence_report_done(&rep);
    buf_done(&arr);

    /* The first seal dropped: epochs no longer start at 0. */
    buf_init(&arr, 1 << 20);
    buf_putc(&arr, '[');
    p = strstr(f->seals.data, "},{") + 2;
    buf_puts(&arr, p);
    buf_putc(&arr, ']');
    evidence_report_init(&rep);
    assert_int_equal(evidence_seals_load(&ss, arr.data, arr.len, f->pub0, &rep), 0);
    assert_false(ss.chain_ok);
    assert_non_null(strstr(rep.text.data, "seal 0: epoch 1"));
    evidence_seals_done(&ss);
    evidence_report_done(&rep);
    buf_done(&arr);
    buf_done(&log);
}

static const char good_manifest[] =
    "{\"format\":\"hikeshi-evidence-bundle-v1\",\"created\":\"x\","
    "\"public_key\":\"0000000000000000000000000000000000000000000000000000000000000001\","
    "\"items\":[{\"id\":\"EV-1\",\"record\":{\"size\":3,"
    "\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
    "\"blake2b\":\"ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab"
    "792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923\"},"
    "\"file\":\"items/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
    "\"custody\":[]}],\"seals\":[]}";

static void test_manifest_parse(void **state)
{
    struct evidence_manifest m;
    struct parse_err pe = {0};
    char *bad;

    (void)state;
    assert_int_equal(evidence_manifest_parse(good_manifest, strlen(good_manifest), &m, &pe), 0);
    assert_int_equal(m.n_items, 1);
    assert_string_equal(m.items[0].id, "EV-1");
    assert_int_equal(m.items[0].size, 3);
    assert_string_equal(m.items[0].file,
                        "items/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(m.public_key[31], 1);
    evidence_manifest_done(&m);

    /* A file name that is not items/<its sha256> (a path escape): refused. */
    bad = strdup(good_manifest);
    memcpy(strstr(bad, "items/ba78"), "../../etc/", 10);
    assert_int_equal(evidence_manifest_parse(bad, strlen(bad), &m, &pe), -EINVAL);
    assert_non_null(strstr(pe.msg, "items/<its sha256>"));
    free(bad);

    /* A repeated key (read as its first value here, its last by Python's
     * json): refused, so the two verifiers cannot disagree. */
    {
        char dup[sizeof(good_manifest) + 32];

        snprintf(dup, sizeof(dup), "{\"seals\":[1],%s", good_manifest + 1);
        assert_int_equal(evidence_manifest_parse(dup, strlen(dup), &m, &pe), -EINVAL);
        assert_non_null(strstr(pe.msg, "repeats a key"));
    }

    /* Another format, truncated JSON, a short digest: refused. */
    bad = strdup(good_manifest);
    memcpy(strstr(bad, "bundle-v1"), "bundle-v9", 9);
    assert_int_equal(evidence_manifest_parse(bad, strlen(bad), &m, &pe), -EINVAL);
    assert_int_equal(evidence_manifest_parse(good_manifest, strlen(good_manifest) - 1, &m, &pe),
                     -EINVAL);
    memcpy(strstr(bad, "bundle-v9"), "bundle-v1", 9);
    memmove(strstr(bad, "ba7816bf"), strstr(bad, "ba7816bf") + 1, strlen(strstr(bad, "ba7816bf")));
    assert_int_equal(evidence_manifest_parse(bad, strlen(bad), &m, &pe), -EINVAL);
    free(bad);
}

static void test_digests(void **state)
{
    struct evidence_digest d;
    char path[64], hex[129];
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "/tmp/test_evidence_abc.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    assert_int_equal(evidence_hash_file(path, &d), 0);
    unlink(path);
    assert_int_equal(d.size, 3);
    hex_encode(d.sha256, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hex_encode(d.blake2b, 64, hex);
    assert_string_equal(hex, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                             "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_intact, setup, teardown),
        cmocka_unit_test(test_entry_roundtrip),
        cmocka_unit_test_setup_teardown(test_chain_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_chain_faults, setup, teardown),
        cmocka_unit_test(test_manifest_parse),
        cmocka_unit_test(test_digests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
