/*
 * test_input_evtx.c - input_evtx on real EVTX samples, a truncated copy
 * and a file that is not EVTX.
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

#include "input/input_evtx.h"

static const char *shared_dir(void)
{
    const char *d = getenv("HIKESHI_SHARED");

    return d && *d ? d : "../shared";
}

static void sample_path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/data/windows/EVTX-ATTACK-SAMPLES/%s", shared_dir(), rel);
}

/* Samples and their record counts (libevtx's count of the file's records;
 * neither has recovered records that render). */
static const struct {
    const char *rel;
    uint64_t records;
} samples[] = {
    {"Execution/Exec_sysmon_meterpreter_reversetcp_msipackage.evtx", 8},
    {"Defense Evasion/DE_1102_security_log_cleared.evtx", 112},
};

static uint64_t read_all(const char *path, int check_first)
{
    struct input_evtx *r;
    const char *xml;
    size_t len;
    uint64_t n = 0;
    int rc;

    assert_int_equal(input_evtx_open(path, &r), 0);
    while ((rc = input_evtx_next(r, &xml, &len)) == 1) {
        if (n++ == 0 && check_first) {
            assert_true(len > 6 && memcmp(xml, "<Event", 6) == 0);
            assert_non_null(memmem(xml, len, "<EventID", 8));
        }
    }
    assert_int_equal(rc, 0);
    assert_int_equal(input_evtx_stats(r)->records, n);
    assert_int_equal(input_evtx_stats(r)->skipped, 0);
    input_evtx_free(r);
    return n;
}

static void test_samples(void **state)
{
    char path[4096];

    (void)state;
    for (size_t k = 0; k < sizeof(samples) / sizeof(samples[0]); k++) {
        sample_path(path, sizeof(path), samples[k].rel);
        assert_int_equal(input_evtx_is_evtx(path), 1);
        assert_int_equal(read_all(path, 1), samples[k].records);
    }
}

/* input_evtx_last_id() is the record number of the record's header (not
 * always the EventRecordID its XML shows: in a cleared log they differ),
 * and it grows strictly over the live records of every sample: the daemon
 * saves it as its position in a followed file. */
static void test_record_ids(void **state)
{
    char path[4096];

    (void)state;
    for (size_t k = 0; k < sizeof(samples) / sizeof(samples[0]); k++) {
        struct input_evtx *r;
        const char *xml;
        size_t len;
        uint64_t n = 0, prev = 0;

        sample_path(path, sizeof(path), samples[k].rel);
        assert_int_equal(input_evtx_open(path, &r), 0);
        input_evtx_skip_recovered(r);
        while (input_evtx_next(r, &xml, &len) == 1) {
            assert_true(input_evtx_last_id(r) > prev);
            prev = input_evtx_last_id(r);
            n++;
        }
        assert_int_equal(n, samples[k].records);
        assert_int_equal(input_evtx_stats(r)->recovered, 0);
        input_evtx_free(r);
    }
}

/* A prefix of a sample: records before the damage, or a clean refusal. */
static void test_truncated(void **state)
{
    char path[4096], tmp[] = "/tmp/test_input_evtx_XXXXXX";
    FILE *f;
    char *buf;
    long size;
    int fd;
    const long cuts[] = {4, 100, 4096, 4096 + 512, 4096 + 65536 / 2, 4096 + 65536 + 100};

    (void)state;
    sample_path(path, sizeof(path), samples[1].rel);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    fd = mkstemp(tmp);
    assert_true(fd >= 0);
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        struct input_evtx *r;
        const char *xml;
        size_t len;
        long cut = cuts[k] < size ? cuts[k] : size - 1;

        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, buf, (size_t)cut, 0), cut);
        if (input_evtx_open(tmp, &r) < 0)
            continue;
        while (input_evtx_next(r, &xml, &len) == 1)
            assert_true(len > 0);
        input_evtx_free(r);
    }
    close(fd);
    unlink(tmp);
    free(buf);
}

static void test_not_evtx(void **state)
{
    char path[4096];
    struct input_evtx *r = NULL;

    (void)state;
    snprintf(path, sizeof(path), "%s/data/MANIFEST.md", shared_dir());
    assert_int_equal(access(path, R_OK), 0);
    assert_int_equal(input_evtx_is_evtx(path), 0);
    assert_int_equal(input_evtx_open(path, &r), -EINVAL);
    assert_null(r);
    assert_int_equal(input_evtx_open("/nonexistent/x.evtx", &r), -ENOENT);
    input_evtx_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_record_ids),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_not_evtx),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
