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
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "event/field.h"
#include "event/time.h"
#include "input/record.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
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
    struct queue *q = rec_batch_queue_new(4);

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

/* A reload to a rules directory that holds no rule keeps the running
 * rules (-ENOENT); only `rules: []` turns detection off. */
static void test_reload_keeps_rules(void **state)
{
    char dir[] = "/tmp/hikeshi-norules-XXXXXX", text[512];
    struct config *c1 = parse(conf_v1), *empty, *off;
    struct pipeline *p = pipeline_new(c1, NULL, NULL);

    assert_non_null(p);
    assert_int_equal(pipeline_rules_loaded(p), 1);
    assert_non_null(mkdtemp(dir));
    snprintf(text, sizeof(text),
             "data_dir: /unused\nsigma:\n  rules: [%s]\n"
             "  mappings: rules/config\n",
             dir);
    empty = parse(text);
    assert_int_equal(pipeline_reload(p, empty), -ENOENT);
    assert_int_equal(pipeline_rules_loaded(p), 1);
    off = parse("data_dir: /unused\nsigma:\n  rules: []\n");
    assert_int_equal(pipeline_reload(p, off), 0);
    assert_int_equal(pipeline_rules_loaded(p), 0);
    assert_int_equal(rmdir(dir), 0);
    pipeline_free(p);
    config_free(off);
    config_free(empty);
    config_free(c1);
}

/* Adds one syslog record from sender 10.0.0.`host` received at `recv_us`. */
static void add_rec(struct rec_batch *b, const char *line, int64_t recv_us, int host)
{
    struct record *r = rec_batch_add(b, line, strlen(line), recv_us, 0);

    assert_non_null(r);
    r->peer_family = 4;
    memset(r->peer_addr, 0, sizeof(r->peer_addr));
    r->peer_addr[0] = 10;
    r->peer_addr[3] = (uint8_t)host;
}

/*
 * Event times through the pipeline: the input's own zone, years from the
 * stream (sender, or file) with live input dated by the receive time and
 * not pulled years back by a sender's old full date, files (scan) pulled to
 * the year of their own dated records, one stream per file.
 */
static void test_stream_years(void **state)
{
    static const char conf[] = "data_dir: /unused\n"
                               "timezone: Europe/Berlin\n"
                               "sigma:\n  rules: []\n"
                               "inputs:\n"
                               "  - name: udp\n    type: syslog-udp\n    listen: 127.0.0.1:9\n"
                               "  - name: ny\n    type: syslog-udp\n    listen: 127.0.0.1:10\n"
                               "    timezone: America/New_York\n";
    static const char eve[] = "<134>Dec  6 21:00:00 sensor suricata[1]: {\"timestamp\":"
                              "\"2017-03-25T16:49:58.856335-0600\",\"event_type\":\"alert\"}";
    static const int64_t want[] = {
        /* live, sender 1: EVE's own time, then the receive time's year */
        1490482198856335LL, /* 2017-03-25T22:49:58.856335Z */
        1774475400000000LL, /* 2026-03-25T21:50:00Z (22:50 CET) */
        /* live, sender 1, across New Year (Berlin) */
        1798757999000000LL, /* 2026-12-31T22:59:59Z */
        1798758001000000LL, /* 2026-12-31T23:00:01Z = Jan 1 00:00:01 CET */
        /* live, input ny in New York summer time */
        1782921600000000LL, /* 2026-07-01T16:00:00Z */
        /* scan of a file written 2026-12-06: pulled to 2017 by its EVE */
        1490482198856335LL,
        1490478600000000LL, /* 2017-03-25T21:50:00Z */
        /* the next file is a new stream: the mtime's year */
        1774475400000000LL,
    };
    char dir[] = "/tmp/hikeshi-pipeline-XXXXXX", db[512];
    const char *mar = "<38>Mar 25 22:50:00 sensor sshd[7]: Failed password for root from "
                      "84.92.227.177 port 1 ssh2";
    int64_t now = 1796587200000000LL; /* 2026-12-06T20:00:00Z */
    int64_t ny = now;
    struct config *c = parse(conf);
    struct store *st;
    struct pipeline *p;
    struct rec_batch *b;
    char *err = NULL;
    sqlite3 *h;
    sqlite3_stmt *q;
    size_t i = 0;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &st, &err), 0);
    p = pipeline_new(c, st, NULL);
    assert_non_null(p);
    pipeline_set_detect(p, 0);

    b = rec_batch_new(0, 4096);
    add_rec(b, eve, now, 1);
    add_rec(b, mar, now, 1);
    add_rec(b, "<38>Dec 31 23:59:59 sensor sshd[7]: a", 1798758005000000LL, 1);
    add_rec(b, "<38>Jan  1 00:00:01 sensor sshd[7]: b", 1798758005000000LL, 1);
    assert_int_equal(pipeline_process(p, b), 0);
    rec_batch_free(b);
    b = rec_batch_new(1, 4096);
    add_rec(b, "<38>Jul  1 12:00:00 nyhost sshd[7]: c", ny, 2);
    assert_int_equal(pipeline_process(p, b), 0);
    rec_batch_free(b);
    /* Scan: records carry no sender; the reference is the mtime. */
    for (int f = 0; f < 2; f++) {
        pipeline_set_ref_time(p, now);
        b = rec_batch_new(0, 4096);
        if (f == 0)
            assert_non_null(rec_batch_add(b, eve, strlen(eve), now, 0));
        assert_non_null(rec_batch_add(b, mar, strlen(mar), now, 0));
        assert_int_equal(pipeline_process(p, b), 0);
        rec_batch_free(b);
    }
    pipeline_free(p);
    store_free(st);

    snprintf(db, sizeof(db), "%s/hikeshi.db", dir);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT time_us FROM events ORDER BY id", -1, &q, NULL),
                     SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        assert_true(i < sizeof(want) / sizeof(want[0]));
        if (sqlite3_column_int64(q, 0) != want[i])
            fail_msg("event %zu: time %lld, want %lld", i, (long long)sqlite3_column_int64(q, 0),
                     (long long)want[i]);
        i++;
    }
    assert_int_equal(i, sizeof(want) / sizeof(want[0]));
    sqlite3_finalize(q);
    sqlite3_close(h);
    config_free(c);
    {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_no_detect),
        cmocka_unit_test(test_sigma),
        cmocka_unit_test(test_reload_keeps_rules),
        cmocka_unit_test(test_stream_years),
    };
    int r;

    field_init();
    r = cmocka_run_group_tests(tests, NULL, NULL);
    field_done();
    return r;
}
