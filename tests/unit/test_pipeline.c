/*
 * test_pipeline.c - the stage driver with a real queue, thread and store:
 * every record stored (decoded or raw), alerts raised with their rule, file
 * positions saved in the same transaction, counters, and SIGHUP-style
 * reload of the rules.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/field.h"
#include "event/time.h"
#include "input/record.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
#include "util/config.h"
#include "util/queue.h"

/* Two small rule sets (tests/unit/config/pipeline-v*), so that a reload
 * visibly swaps one rule for the other. */
static const char conf_v1[] = "data_dir: /unused\n"
                              "sigma:\n"
                              "  rules: [tests/unit/config/pipeline-v1]\n"
                              "  mappings: rules/config\n"
                              "inputs:\n"
                              "  - name: auth\n"
                              "    type: file\n"
                              "    path: /var/log/auth.log\n";

static const char conf_v2[] = "data_dir: /unused\n"
                              "sigma:\n"
                              "  rules: [tests/unit/config/pipeline-v2]\n"
                              "  mappings: rules/config\n"
                              "inputs:\n"
                              "  - name: auth\n"
                              "    type: file\n"
                              "    path: /var/log/auth.log\n";

static const char *const lines[] = {
    "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
    "Dec 10 07:07:38 LabSZ sshd[24206]: Failed password for root from 112.95.230.3 port 44250 ssh2",
    "\x01\x02 not a log line",
};

static struct config *parse(const char *text)
{
    struct config *c;
    struct parse_err err;

    assert_int_equal(config_parse(text, strlen(text), "t", &c, &err), 0);
    return c;
}

static struct rec_batch *make_batch(uint64_t offset)
{
    struct rec_batch *b = rec_batch_new(0, 4096);
    struct file_pos pos = {.dev = 7, .ino = 42, .offset = offset};

    assert_non_null(b);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(rec_batch_add(b, lines[i], strlen(lines[i]), time_now_us(),
                                      i == 2 ? RECORD_TRUNCATED : 0));
    assert_int_equal(rec_batch_set_pos(b, "/var/log/auth.log", &pos), 0);
    return b;
}

static void run_batches(struct pipeline *p, int nbatches, uint64_t first_offset)
{
    struct queue *q = queue_new(4);

    assert_non_null(q);
    assert_int_equal(pipeline_start(p, q), 0);
    for (int i = 0; i < nbatches; i++)
        assert_int_equal(queue_push(q, make_batch(first_offset + (uint64_t)i * 100)), 0);
    pipeline_stop(p, q);
    queue_free(q);
}

static void test_pipeline(void **state)
{
    char dir[] = "/tmp/hikeshi-pipeline-XXXXXX";
    struct store *st;
    struct config *c1 = parse(conf_v1), *c2 = parse(conf_v2);
    struct pipeline *p;
    const struct pipeline_input_stats *is;
    struct file_pos pos;
    char *path = NULL, *err = NULL, *alerts_text = NULL;
    size_t alerts_len = 0;
    int64_t n;
    uint64_t v;
    FILE *alerts = open_memstream(&alerts_text, &alerts_len);

    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &st, &err), 0);
    p = pipeline_new(c1, st, alerts);
    assert_non_null(p);
    run_batches(p, 2, 1000);

    is = pipeline_input_stats(p, 0);
    assert_int_equal(atomic_load(&is->records), 6);
    assert_int_equal(atomic_load(&is->decoded), 4);
    assert_int_equal(atomic_load(&is->unparsed), 2);
    assert_int_equal(atomic_load(&is->truncated), 2);
    assert_int_equal(atomic_load(&is->alerts), 2);
    assert_int_equal(store_event_count(st, &n), 0);
    assert_int_equal(n, 6); /* the unparsed record is stored too */
    assert_int_equal(store_alert_count(st, &n), 0);
    assert_int_equal(n, 2);
    /* The position of the last committed batch. */
    assert_int_equal(store_offset_get(st, "auth", &path, &pos), 0);
    assert_string_equal(path, "/var/log/auth.log");
    assert_int_equal(pos.ino, 42);
    assert_int_equal(pos.offset, 1100);
    free(path);
    fflush(alerts);
    assert_non_null(strstr(alerts_text, "\"id\":\"0d5c52a4-2f0e-4b84-9d51-3c1f5f0e7a01\""));
    assert_null(strstr(alerts_text, "7b1e2f90-8a4d-4c36-a0b5-6f2d9e4c1b02"));
    assert_non_null(strstr(alerts_text, "\"author\":\"tester\""));
    assert_non_null(strstr(alerts_text, "112.95.230.3"));

    assert_int_equal(pipeline_save_counters(p), 0);
    assert_int_equal(store_counter_get(st, "input.auth.records", &v), 0);
    assert_int_equal(v, 6);
    assert_int_equal(store_counter_get(st, "input.auth.unparsed", &v), 0);
    assert_int_equal(v, 2);

    /* Reload: the root-failure rule goes, the invalid-user rule comes. */
    assert_int_equal(pipeline_reload(p, c2), 0);
    run_batches(p, 1, 5000);
    assert_int_equal(atomic_load(&is->alerts), 3);
    fflush(alerts);
    assert_non_null(strstr(alerts_text, "\"id\":\"7b1e2f90-8a4d-4c36-a0b5-6f2d9e4c1b02\""));
    assert_int_equal(pipeline_rules_loaded(p), 1);
    assert_int_equal(store_offset_get(st, "auth", &path, &pos), 0);
    assert_int_equal(pos.offset, 5000);
    free(path);

    /* Counters are totals across runs: a new pipeline on the same store
     * starts from the saved ones. */
    assert_int_equal(pipeline_save_counters(p), 0);
    pipeline_free(p);
    p = pipeline_new(c2, st, NULL);
    assert_non_null(p);
    run_batches(p, 1, 6000);
    assert_int_equal(pipeline_save_counters(p), 0);
    assert_int_equal(store_counter_get(st, "input.auth.records", &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(store_counter_get(st, "pipeline.alerts", &v), 0);
    assert_int_equal(v, 4);
    pipeline_free(p);
    fclose(alerts);
    free(alerts_text);
    store_free(st);
    config_free(c1);
    config_free(c2);
    {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* Decode-only mode raises nothing; an unknown input id is refused. */
static void test_no_detect(void **state)
{
    struct config *c = parse(conf_v1);
    struct pipeline *p = pipeline_new(c, NULL, NULL);
    struct rec_batch *b = make_batch(0);

    pipeline_set_detect(p, 0);
    assert_int_equal(pipeline_process(p, b), 0);
    assert_int_equal(atomic_load(&pipeline_input_stats(p, 0)->alerts), 0);
    b->input_id = 99;
    assert_int_equal(pipeline_process(p, b), -EINVAL);
    assert_int_equal(pipeline_add_input(p, "x", "no-such-decoder"), -EINVAL);
    assert_int_equal(pipeline_add_input(p, "x", "json"), 1);
    rec_batch_free(b);
    pipeline_free(p);
    config_free(c);
}

/* The bundled Sigma rules run in the pipeline, routed and mapped: an
 * sshd failure raises the Sigma rule's alert with its author, a line of
 * another log source does not. */
static void test_sigma(void **state)
{
    static const char conf[] = "data_dir: /unused\n"
                               "inputs:\n"
                               "  - name: auth\n"
                               "    type: file\n"
                               "    path: /var/log/auth.log\n"
                               "sigma:\n"
                               "  rules: [rules]\n"
                               "  mappings: rules/config\n";
    struct config *c = parse(conf);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    struct pipeline *p = pipeline_new(c, NULL, out);
    struct rec_batch *b = make_batch(0);

    assert_non_null(p);
    assert_int_equal(pipeline_process(p, b), 0);
    fflush(out);
    /* Line 1: invalid user; line 2: failed password for root; line 3:
     * junk.  "SSH Authentication Failure" matches both but raises nothing
     * of its own: the brute-force correlation references it without
     * `generate: true`, so only the correlation speaks for it. */
    assert_non_null(strstr(text, "\"title\":\"SSH Login Attempt for an Invalid User\""));
    assert_null(strstr(text, "\"title\":\"SSH Authentication Failure\""));
    assert_non_null(strstr(text, "\"title\":\"SSH Login Failure for Root\""));
    assert_non_null(strstr(text, "\"author\":\"hikeshi project\""));
    assert_null(strstr(text, "Suricata"));
    /* The alert shows the decoded event, not the map's aliases. */
    assert_null(strstr(text, "\"c-ip\""));
    assert_int_equal(atomic_load(&pipeline_input_stats(p, 0)->alerts), 2);
    rec_batch_free(b);
    pipeline_free(p);
    fclose(out);
    free(text);
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_no_detect),
        cmocka_unit_test(test_sigma),
    };
    int r;

    field_init();
    r = cmocka_run_group_tests(tests, NULL, NULL);
    field_done();
    return r;
}
