/*
 * test_store.c - the SQLite store: schema, migrations, round trips.
 *
 * Rows are read back through a second, independent sqlite3 connection so
 * that the test checks what is on disk, not what the store believes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "input/record.h"
#include "store/store.h"
#include "util/buf.h"
#include "triage/alert.h"
#include "util/arena.h"

struct fixture {
    char dir[64];
    char db[128];
    struct store *st;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char *err = NULL;
    int r;

    assert_non_null(f);
    strcpy(f->dir, "/tmp/hikeshi-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    /* A subdirectory that does not exist yet: store_open must create it. */
    strcat(f->dir, "/db");
    snprintf(f->db, sizeof(f->db), "%s/hikeshi.db", f->dir);
    r = store_open(f->dir, &f->st, &err);
    if (r < 0)
        fail_msg("store_open: %d %s", r, err ? err : "");
    assert_null(err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char *slash;

    store_free(f->st);
    slash = strrchr(f->dir, '/');
    *slash = '\0';
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    field_done();
    return 0;
}

/* Where `word` starts in the NUL-terminated `s`; fails the test if absent. */
static const char *at(const char *s, const char *word)
{
    const char *p = strstr(s, word);

    assert_non_null(p);
    return p;
}

/* A second connection onto the same file. */
static sqlite3 *peek_open(const struct fixture *f)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static int64_t peek_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void test_open_wal_and_version(void **state)
{
    struct fixture *f = *state;
    char wal[160];
    struct stat sb;
    sqlite3 *db;
    sqlite3_stmt *s = NULL;

    assert_int_equal(stat(f->dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0750);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_counter_set(f->st, "x", 1), 0);
    snprintf(wal, sizeof(wal), "%s-wal", f->db);
    assert_int_equal(stat(wal, &sb), 0);

    db = peek_open(f);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    assert_int_equal(peek_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    /* The tables of schema 1 exist. */
    assert_int_equal(peek_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND"
                                  " name IN ('events','alerts','input_offsets','counters')"),
                     4);
    assert_int_equal(peek_int(db,
                              "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
                              " name IN ('events_time_us','alerts_created_us','alerts_rule_created')"),
                     3);
    sqlite3_close(db);
}

static void test_reopen_idempotent(void **state)
{
    struct fixture *f = *state;
    struct store *st2 = NULL;
    int64_t id = 0, n = -1;
    struct arena a;
    struct event ev;
    char *err = NULL;

    arena_init(&a, 0);
    event_init(&ev, &a, "hello", 5, 1000);
    assert_int_equal(store_event_add(f->st, &ev, "in", &id), 0);
    store_free(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_event_count(f->st, &n), 0);
    assert_int_equal(n, 1);
    /* A second connection at the same time (the CLI next to the daemon). */
    assert_int_equal(store_open(f->dir, &st2, &err), 0);
    assert_int_equal(store_event_count(st2, &n), 0);
    assert_int_equal(n, 1);
    store_free(st2);
    event_reset(&ev);
    arena_done(&a);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    struct store *st2 = NULL;
    char *err = NULL;
    sqlite3 *db = peek_open(f);

    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->dir, &st2, &err), -EPROTO);
    assert_null(st2);
    assert_non_null(err);
    /* The message names both versions. */
    assert_non_null(strstr(err, "99"));
    assert_non_null(strstr(err, "version"));
    {
        char mine[16];
        snprintf(mine, sizeof(mine), "%d", STORE_SCHEMA_VERSION);
        assert_non_null(strstr(err, mine));
    }
    free(err);
    /* Refusing did not touch it. */
    db = peek_open(f);
    assert_int_equal(peek_int(db, "PRAGMA user_version"), 99);
    sqlite3_close(db);
}

static void test_not_a_directory(void **state)
{
    struct fixture *f = *state;
    struct store *st2 = NULL;
    char *err = NULL;

    /* The db file itself is not a directory. */
    assert_int_equal(store_open(f->db, &st2, &err), -ENOTDIR);
    assert_null(st2);
    assert_non_null(err);
    free(err);
}

static void test_events_round_trip(void **state)
{
    static const char raw0[] = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from "
                               "173.234.31.186";
    static const char raw1[] = "user=\xff\xfe root \"quoted\"\\";
    static const char raw2[] = "a\0b"; /* embedded NUL: a BLOB keeps it */
    struct fixture *f = *state;
    struct arena a;
    struct event ev;
    int64_t ids[3];
    sqlite3 *db;
    sqlite3_stmt *s = NULL;
    static const char *const want_fields[3] = {
        ("{\"process.name\":\"sshd\",\"process.pid\":\"24200\",\"user.name\":\"webmaster\","
         "\"source.ip\":\"173.234.31.186\"}"),
        "{\"user.name\":[\"\\u00ff\\u00fe\",\"root\"],\"message\":\"\\\"quoted\\\"\\\\\"}",
        "{}",
    };
    static const char *const want_decoder[3] = {"sshd", NULL, NULL};
    const char *raws[3] = {raw0, raw1, raw2};
    size_t raw_lens[3] = {sizeof(raw0) - 1, sizeof(raw1) - 1, sizeof(raw2) - 1};

    arena_init(&a, 0);
    for (int i = 0; i < 3; i++) {
        event_init(&ev, &a, raws[i], raw_lens[i], 1700000000000000LL + i);
        if (i == 0) {
            ev.decoder = "sshd";
            assert_int_equal(event_set_time(&ev, 1702191346000000LL, NULL, 0), 0);
            /* set_time added @timestamp; drop it for a simple expected JSON. */
            ev.nfields = 0;
            assert_int_equal(event_add(&ev, FIELD_PROCESS_NAME, at(raw0, "sshd"), 4), 0);
            assert_int_equal(event_add(&ev, FIELD_PROCESS_PID, at(raw0, "24200"), 5), 0);
            assert_int_equal(event_add(&ev, FIELD_USER_NAME, at(raw0, "webmaster"), 9), 0);
            assert_int_equal(event_add(&ev, FIELD_SOURCE_IP, at(raw0, "173.234.31.186"), 14), 0);
        } else if (i == 1) {
            assert_int_equal(event_add(&ev, FIELD_USER_NAME, raw1 + 5, 2), 0);
            assert_int_equal(event_add(&ev, FIELD_USER_NAME, raw1 + 8, 4), 0);
            assert_int_equal(event_add(&ev, FIELD_MESSAGE, raw1 + 13, 9), 0);
        }
        assert_int_equal(store_event_add(f->st, &ev, "sshd-file", &ids[i]), 0);
        event_reset(&ev);
    }
    arena_done(&a);
    assert_true(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1]);

    db = peek_open(f);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, recv_us, time_us, input, decoder, raw, fields,"
                                        " typeof(raw), json_valid(fields) FROM events ORDER BY id",
                                        -1, &s, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(s, 0), ids[i]);
        assert_int_equal(sqlite3_column_int64(s, 1), 1700000000000000LL + i);
        assert_int_equal(sqlite3_column_int64(s, 2),
                         i == 0 ? 1702191346000000LL : 1700000000000000LL + i);
        assert_string_equal((const char *)sqlite3_column_text(s, 3), "sshd-file");
        if (want_decoder[i])
            assert_string_equal((const char *)sqlite3_column_text(s, 4), want_decoder[i]);
        else
            assert_int_equal(sqlite3_column_type(s, 4), SQLITE_NULL);
        assert_string_equal((const char *)sqlite3_column_text(s, 7), "blob");
        assert_int_equal(sqlite3_column_bytes(s, 5), (int)raw_lens[i]);
        assert_memory_equal(sqlite3_column_blob(s, 5), raws[i], raw_lens[i]);
        assert_string_equal((const char *)sqlite3_column_text(s, 6), want_fields[i]);
        assert_int_equal(sqlite3_column_int(s, 8), 1);
    }
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_alerts_round_trip(void **state)
{
    static const char raw[] = "Failed password for root from 5.36.59.76 port 42393 ssh2";
    struct fixture *f = *state;
    struct arena a;
    struct event ev;
    int64_t eid = 0, aid1 = 0, aid2 = 0, n = 0;
    struct alert al = {
        .rule_id = "8309e9a2-6e8e-4e7b-9f6a-0f2b4b6a2c11",
        .rule_title = "SSH failed root login",
        .rule_author = "hikeshi tests",
        .rule_level = "medium",
        .input_name = "auth",
        .created_us = 1700000001000000LL,
    };
    sqlite3 *db;
    sqlite3_stmt *s = NULL;

    arena_init(&a, 0);
    event_init(&ev, &a, raw, sizeof(raw) - 1, 1700000000000000LL);
    assert_int_equal(event_add(&ev, FIELD_USER_NAME, at(raw, "root"), 4), 0);
    assert_int_equal(store_event_add(f->st, &ev, "auth", &eid), 0);
    al.ev = &ev;
    assert_int_equal(store_alert_add(f->st, &al, eid, &aid1), 0);
    /* No event: fields "{}" and an empty raw; event_id 0 stores NULL. */
    al.ev = NULL;
    al.rule_author = NULL;
    assert_int_equal(store_alert_add(f->st, &al, 0, &aid2), 0);
    assert_int_equal(store_alert_count(f->st, &n), 0);
    assert_int_equal(n, 2);
    /* A dangling event id is refused by the foreign key. */
    al.ev = &ev;
    assert_int_equal(store_alert_add(f->st, &al, eid + 1000, NULL), -EIO);
    assert_non_null(strstr(store_errmsg(f->st), "FOREIGN KEY"));
    event_reset(&ev);
    arena_done(&a);

    db = peek_open(f);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, created_us, time_us, rule_id, rule_title,"
                                        " rule_author, rule_level, input, event_id, fields, raw"
                                        " FROM alerts ORDER BY id",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), aid1);
    assert_int_equal(sqlite3_column_int64(s, 1), 1700000001000000LL);
    assert_int_equal(sqlite3_column_int64(s, 2), 1700000000000000LL);
    assert_string_equal((const char *)sqlite3_column_text(s, 3),
                        "8309e9a2-6e8e-4e7b-9f6a-0f2b4b6a2c11");
    assert_string_equal((const char *)sqlite3_column_text(s, 4), "SSH failed root login");
    assert_string_equal((const char *)sqlite3_column_text(s, 5), "hikeshi tests");
    assert_string_equal((const char *)sqlite3_column_text(s, 6), "medium");
    assert_string_equal((const char *)sqlite3_column_text(s, 7), "auth");
    assert_int_equal(sqlite3_column_int64(s, 8), eid);
    assert_string_equal((const char *)sqlite3_column_text(s, 9), "{\"user.name\":\"root\"}");
    assert_int_equal(sqlite3_column_bytes(s, 10), (int)sizeof(raw) - 1);
    assert_memory_equal(sqlite3_column_blob(s, 10), raw, sizeof(raw) - 1);

    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), aid2);
    assert_int_equal(sqlite3_column_int64(s, 2), 1700000001000000LL);
    assert_int_equal(sqlite3_column_type(s, 5), SQLITE_NULL);
    assert_int_equal(sqlite3_column_type(s, 8), SQLITE_NULL);
    assert_string_equal((const char *)sqlite3_column_text(s, 9), "{}");
    assert_int_equal(sqlite3_column_type(s, 10), SQLITE_BLOB);
    assert_int_equal(sqlite3_column_bytes(s, 10), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_offsets(void **state)
{
    struct fixture *f = *state;
    struct file_pos p1 = {.dev = 0xfd01, .ino = 131090, .offset = 4096};
    /* Values past INT64_MAX survive the int64 column. */
    struct file_pos p2 = {.dev = UINT64_MAX, .ino = (1ULL << 63) + 5, .offset = 123456789012ULL};
    struct file_pos got;
    char *path = NULL;

    assert_int_equal(store_offset_get(f->st, "auth", &path, &got), -ENOENT);
    assert_null(path);
    assert_int_equal(store_offset_set(f->st, "auth", "/var/log/auth.log", &p1), 0);
    assert_int_equal(store_offset_get(f->st, "auth", &path, &got), 0);
    assert_string_equal(path, "/var/log/auth.log");
    free(path);
    path = NULL;
    assert_true(got.dev == p1.dev && got.ino == p1.ino && got.offset == p1.offset);

    assert_int_equal(store_offset_set(f->st, "auth", "/var/log/auth.log.1", &p2), 0);
    assert_int_equal(store_offset_get(f->st, "auth", &path, &got), 0);
    assert_string_equal(path, "/var/log/auth.log.1");
    free(path);
    path = NULL;
    assert_true(got.dev == p2.dev && got.ino == p2.ino && got.offset == p2.offset);
    /* Another input is separate. */
    assert_int_equal(store_offset_get(f->st, "nginx", &path, &got), -ENOENT);
    {
        sqlite3 *db = peek_open(f);
        assert_int_equal(peek_int(db, "SELECT count(*) FROM input_offsets"), 1);
        sqlite3_close(db);
    }
}

static void test_counters(void **state)
{
    struct fixture *f = *state;
    uint64_t v = 7;

    assert_int_equal(store_counter_get(f->st, "pipeline.events", &v), -ENOENT);
    assert_int_equal(store_counter_set(f->st, "pipeline.events", 42), 0);
    assert_int_equal(store_counter_get(f->st, "pipeline.events", &v), 0);
    assert_true(v == 42);
    assert_int_equal(store_counter_set(f->st, "pipeline.events", UINT64_MAX - 1), 0);
    assert_int_equal(store_counter_get(f->st, "pipeline.events", &v), 0);
    assert_true(v == UINT64_MAX - 1);
    assert_int_equal(store_counter_set(f->st, "input.auth", 3), 0);
    assert_int_equal(store_counter_get(f->st, "input.auth", &v), 0);
    assert_true(v == 3);
    assert_int_equal(store_counter_get(f->st, "pipeline.events", &v), 0);
    assert_true(v == UINT64_MAX - 1);
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    struct arena a;
    struct event ev;
    int64_t n = 0;
    uint64_t v;

    arena_init(&a, 0);
    event_init(&ev, &a, "x", 1, 1);
    assert_int_equal(store_commit(f->st), -EINVAL);
    assert_int_equal(store_rollback(f->st), 0);

    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_begin(f->st), -EBUSY);
    assert_int_equal(store_event_add(f->st, &ev, "a", NULL), 0);
    assert_int_equal(store_counter_set(f->st, "c", 1), 0);
    assert_int_equal(store_commit(f->st), 0);

    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_event_add(f->st, &ev, "b", NULL), 0);
    assert_int_equal(store_event_add(f->st, &ev, "b", NULL), 0);
    assert_int_equal(store_counter_set(f->st, "c", 2), 0);
    assert_int_equal(store_counter_set(f->st, "d", 2), 0);
    /* Visible inside the transaction... */
    assert_int_equal(store_event_count(f->st, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(store_rollback(f->st), 0);
    /* ...and gone after the rollback. */
    assert_int_equal(store_event_count(f->st, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_counter_get(f->st, "c", &v), 0);
    assert_true(v == 1);
    assert_int_equal(store_counter_get(f->st, "d", &v), -ENOENT);
    {
        sqlite3 *db = peek_open(f);
        assert_int_equal(peek_int(db, "SELECT count(*) FROM events WHERE input = 'b'"), 0);
        assert_int_equal(peek_int(db, "SELECT count(*) FROM events WHERE input = 'a'"), 1);
        sqlite3_close(db);
    }
    event_reset(&ev);
    arena_done(&a);
}

/* Triage's tables: a correlation alert without an event, an aggregated
 * alert and an incident updated in place (the incident keeps its creation
 * time and phase), named state blobs, and the id high-water marks a new
 * triage state numbers on from. */
static void test_triage_tables(void **state)
{
    struct fixture *f = *state;
    static const char fields[] = "{\"source.ip\":\"203.0.113.5\",\"count\":12}";
    struct store_alert_rec ar = {
        .kind = "correlation", .created_us = 1000, .time_us = 900,
        .rule_id = "c0ffee00-0000-4000-8000-000000000001", .rule_title = "SSH brute force",
        .rule_author = "hikeshi project", .rule_level = "high", .input = "auth",
        .fields_json = fields, .fields_len = sizeof(fields) - 1, .agg_id = 3,
    };
    struct store_agg_rec ag = {
        .id = 3, .kind = "correlation", .rule_id = ar.rule_id, .rule_name = "ssh_bruteforce",
        .rule_title = "SSH brute force", .level = 4,
        .entity_key = "ssh_bruteforce|host.name=web01|source.ip=203.0.113.5", .count = 1,
        .first_us = 900, .last_us = 900, .incident_id = 7,
        .type = "probe or attack without damage",
    };
    struct store_incident_rec in = {
        .id = 7, .entity_key = "source.ip=203.0.113.5", .type = "probe or attack without damage",
        .level = "Yellow", .stage = "exploitation", .stages_json = "[\"exploitation\"]",
        .victims_json = "[\"host.name=web01\"]", .category = "A", .criticality = "high",
        .first_us = 900, .last_us = 900, .nalerts = 1, .nevents = 12, .updated_us = 2000,
        .why = "opened because: 3 rules, 2 tactics, risk 84 >= 60",
    };
    int64_t id = 0, n;
    void *blob;
    size_t len;
    sqlite3 *db;

    assert_int_equal(store_agg_max_id(f->st, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_alert_add_rec(f->st, &ar, &id), 0);
    assert_true(id > 0);
    assert_int_equal(store_agg_put(f->st, &ag), 0);
    ag.count = 40;
    ag.last_us = 5000;
    assert_int_equal(store_agg_put(f->st, &ag), 0);
    assert_int_equal(store_incident_put(f->st, &in), 0);
    in.type = "intruded, no damage yet";
    in.level = "Orange";
    in.nalerts = 2;
    in.why = NULL; /* an update does not lose why it opened */
    in.updated_us = 3000;
    assert_int_equal(store_incident_put(f->st, &in), 0);
    assert_int_equal(store_agg_max_id(f->st, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(store_incident_max_id(f->st, &n), 0);
    assert_int_equal(n, 7);
    assert_int_equal(store_incident_count(f->st, &n), 0);
    assert_int_equal(n, 1);

    db = peek_open(f);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM alerts WHERE kind = 'correlation' AND "
                                  "event_id IS NULL AND agg_id = 3 AND "
                                  "json_extract(fields, '$.count') = 12"), 1);
    assert_int_equal(peek_int(db, "SELECT count FROM agg_alerts WHERE id = 3"), 40);
    assert_int_equal(peek_int(db, "SELECT last_us FROM agg_alerts WHERE id = 3"), 5000);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM agg_alerts"), 1);
    assert_int_equal(peek_int(db, "SELECT created_us FROM incidents WHERE id = 7"), 2000);
    assert_int_equal(peek_int(db, "SELECT updated_us FROM incidents WHERE id = 7"), 3000);
    assert_int_equal(peek_int(db, "SELECT nalerts FROM incidents WHERE id = 7"), 2);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM incidents WHERE id = 7 AND phase = 'new' "
                                  "AND type = 'intruded, no damage yet' AND level = 'Orange'"),
                     1);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM incidents WHERE id = 7 AND opened_why ="
                                  " 'opened because: 3 rules, 2 tactics, risk 84 >= 60'"),
                     1);
    sqlite3_close(db);
    {
        struct buf out;
        buf_init(&out, 64 * 1024);
        assert_int_equal(store_incident_get_json(f->st, 7, &out), 0);
        assert_int_equal(buf_putc(&out, '\0'), 0);
        assert_non_null(strstr(out.data, "\"why\":\"opened because: 3 rules, 2 tactics"));
        buf_done(&out);
    }

    assert_int_equal(store_state_get(f->st, "anomaly", &blob, &len), -ENOENT);
    assert_null(blob);
    assert_int_equal(store_state_set(f->st, "anomaly", "a\0b", 3), 0);
    assert_int_equal(store_state_set(f->st, "anomaly", "xy\0z", 4), 0);
    assert_int_equal(store_state_get(f->st, "anomaly", &blob, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(blob, "xy\0z", 4);
    free(blob);
    assert_int_equal(store_state_set(f->st, "empty", "", 0), 0);
    assert_int_equal(store_state_get(f->st, "empty", &blob, &len), 0);
    assert_int_equal(len, 0);
    assert_non_null(blob);
    free(blob);
}

/* In a child process (another process, as a CLI or backup tool reading
 * the store would be): opens the database, reads counter "c", closes.
 * Returns the value read, or -1. */
static int64_t child_read_counter(const char *db)
{
    int fds[2];
    pid_t pid;
    int64_t v = -1;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *c = NULL;
        sqlite3_stmt *s = NULL;
        int64_t x = -1;

        close(fds[0]);
        if (sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(c, "SELECT value FROM counters WHERE name = 'c'", -1, &s, NULL) ==
                SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            x = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        sqlite3_close(c); /* the last-connection check happens here */
        if (write(fds[1], &x, sizeof(x)) != (ssize_t)sizeof(x))
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &v, sizeof(v)), (ssize_t)sizeof(v));
    close(fds[0]);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return v;
}

/* A second store opened in the same process (the HTTP API beside the
 * pipeline) must not drop the first one's locks: a reader in another
 * process closing afterwards would otherwise take itself for the last
 * connection, checkpoint and delete the -wal file still in use, and later
 * commits would vanish from every other reader's view.  (The daemon showed
 * exactly that when store_open() opened and closed an existing database
 * file itself; this cycle checks the property but did not reproduce that
 * failure with the old code, which only the daemon did: e2e_api checks
 * the daemon's open files.) */
static void test_second_open_keeps_wal(void **state)
{
    struct fixture *f = *state;
    struct store *st2 = NULL;
    char *err = NULL, wal[160];
    uint64_t v;

    snprintf(wal, sizeof(wal), "%s-wal", f->db);
    assert_int_equal(store_counter_set(f->st, "c", 1), 0);
    /* The second store opens while the first is inside a transaction, as
     * the API did while the pipeline thread wrote a batch. */
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_open(f->dir, &st2, &err), 0);
    assert_int_equal(store_commit(f->st), 0);
    /* Readers come and go while both stores are open and the first one
     * writes, as the e2e polling does against the daemon. */
    for (int i = 2; i < 12; i++) {
        assert_int_equal(store_begin(f->st), 0);
        assert_int_equal(store_counter_set(f->st, "c", (uint64_t)i), 0);
        assert_int_equal(store_commit(f->st), 0);
        assert_int_equal(child_read_counter(f->db), i);
        assert_int_equal(access(wal, F_OK), 0);
    }
    assert_int_equal(store_counter_get(st2, "c", &v), 0);
    assert_true(v == 11);
    store_free(st2);
    assert_int_equal(store_counter_set(f->st, "c", 12), 0);
    assert_int_equal(child_read_counter(f->db), 12);
}

/* Users and tokens: names are unique, a token is found by its hash only,
 * and the store never sees the token itself. */
static void test_users_tokens(void **state)
{
    struct fixture *f = *state;
    unsigned char h1[32], h2[32];
    char *user = NULL, *role = NULL;
    int64_t a = 0, b = 0;

    memset(h1, 0xa1, sizeof(h1));
    memset(h2, 0xb2, sizeof(h2));
    assert_int_equal(store_user_add(f->st, "alice", "admin", "$argon2id$v=19$x", &a), 0);
    assert_int_equal(store_user_add(f->st, "victor", "viewer", NULL, &b), 0);
    assert_true(a > 0 && b > a);
    assert_int_equal(store_user_add(f->st, "alice", "viewer", NULL, NULL), -EEXIST);
    assert_int_equal(store_token_add(f->st, a, h1, sizeof(h1), "laptop", 0), 0);
    assert_int_equal(store_token_add(f->st, b, h2, sizeof(h2), NULL, 0), 0);
    assert_int_equal(store_token_find(f->st, h2, sizeof(h2), &user, &role, NULL), 0);
    assert_string_equal(user, "victor");
    assert_string_equal(role, "viewer");
    free(user);
    free(role);
    assert_int_equal(store_token_find(f->st, h1, sizeof(h1), &user, &role, NULL), 0);
    assert_string_equal(user, "alice");
    assert_string_equal(role, "admin");
    free(user);
    free(role);
    h1[31] ^= 1;
    assert_int_equal(store_token_find(f->st, h1, sizeof(h1), &user, &role, NULL), -ENOENT);
    assert_null(user);
    assert_null(role);
}

/* Accounts (schema 10): expiry, pruning, disabling, the listing, revoking
 * all of a user's tokens, rotation. */
static void test_accounts(void **state)
{
    struct fixture *f = *state;
    unsigned char h1[32], h2[32], h3[32], h4[32];
    char *user = NULL, *role = NULL;
    struct store_user_info ui, *v = NULL;
    int64_t a = 0, b = 0, now = time_now_us(), n = -1, id = 0;
    size_t nv = 0;
    sqlite3 *db;

    memset(h1, 0xa1, sizeof(h1));
    memset(h2, 0xb2, sizeof(h2));
    memset(h3, 0xc3, sizeof(h3));
    memset(h4, 0xd4, sizeof(h4));
    assert_int_equal(store_user_add(f->st, "alice", "admin", "$argon2id$v=19$x", &a), 0);
    assert_int_equal(store_user_add(f->st, "bob", "viewer", NULL, &b), 0);
    /* Expired: refused at once, and removed by the next token made. */
    assert_int_equal(store_token_add(f->st, a, h1, sizeof(h1), "old", now - 1000000), 0);
    assert_int_equal(store_token_find(f->st, h1, sizeof(h1), &user, &role, NULL), -ENOENT);
    assert_int_equal(store_token_add(f->st, a, h2, sizeof(h2), "ci", now + 3600000000), 0);
    db = peek_open(f);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM tokens WHERE label = 'old'"), 0);
    sqlite3_close(db);
    assert_int_equal(store_session_add(f->st, a, h3, sizeof(h3), now + 3600000000), 0);
    assert_int_equal(store_user_set_login(f->st, a, now), 0);

    assert_int_equal(store_user_find(f->st, "alice", now, &ui), 0);
    assert_string_equal(ui.name, "alice");
    assert_string_equal(ui.role, "admin");
    assert_int_equal(ui.disabled, 0);
    assert_int_equal(ui.has_password, 1);
    assert_true(ui.last_login_us == now);
    assert_int_equal(ui.tokens, 2);
    assert_int_equal(store_user_find(f->st, "nobody", now, &ui), -ENOENT);
    assert_int_equal(store_user_list(f->st, now, &v, &nv), 0);
    assert_int_equal(nv, 2);
    assert_string_equal(v[1].name, "bob");
    assert_int_equal(v[1].has_password, 0);
    assert_true(v[1].last_login_us == 0);
    assert_int_equal(v[1].tokens, 0);
    free(v);

    /* Disabled: neither token nor session works; enabled: both again. */
    assert_int_equal(store_user_set_disabled(f->st, a, 1), 0);
    assert_int_equal(store_token_find(f->st, h2, sizeof(h2), &user, &role, NULL), -ENOENT);
    assert_int_equal(store_token_find(f->st, h3, sizeof(h3), &user, &role, NULL), -ENOENT);
    assert_int_equal(store_user_find(f->st, "alice", now, &ui), 0);
    assert_int_equal(ui.disabled, 1);
    assert_int_equal(store_user_set_disabled(f->st, a, 0), 0);
    assert_int_equal(store_token_find(f->st, h2, sizeof(h2), &user, &role, NULL), 0);
    free(user);
    free(role);
    assert_int_equal(store_user_set_disabled(f->st, 999, 1), -ENOENT);

    /* Rotation keeps the label, drops the old hash; a session is refused. */
    assert_int_equal(store_token_rotate(f->st, h2, h4, sizeof(h4), now, now + 7200000000, &id), 0);
    assert_true(id > 0);
    assert_int_equal(store_token_find(f->st, h2, sizeof(h2), &user, &role, NULL), -ENOENT);
    assert_int_equal(store_token_find(f->st, h4, sizeof(h4), &user, &role, NULL), 0);
    free(user);
    free(role);
    db = peek_open(f);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM tokens WHERE label = 'ci' AND session = 0"),
                     1);
    sqlite3_close(db);
    assert_int_equal(store_token_rotate(f->st, h3, h1, sizeof(h1), now, now + 1, NULL), -ENOENT);
    assert_int_equal(store_token_find(f->st, h3, sizeof(h3), &user, &role, NULL), 0);
    free(user);
    free(role);

    /* Every token and session of alice goes; bob's table row stays. */
    assert_int_equal(store_tokens_revoke_user(f->st, a, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_token_find(f->st, h3, sizeof(h3), &user, &role, NULL), -ENOENT);
    assert_int_equal(store_tokens_revoke_user(f->st, b, &n), 0);
    assert_int_equal(n, 0);
}

struct outbox_seen {
    char lines[4][128];
    int n, fail_at;
};

static int outbox_cb(void *ctx, const char *actor, const char *action, const char *object,
                     const char *details)
{
    struct outbox_seen *o = ctx;

    if (o->n == o->fail_at)
        return -EIO;
    snprintf(o->lines[o->n++], sizeof(o->lines[0]), "%s %s %s %s", actor, action, object, details);
    return 0;
}

/* The audit outbox: drained oldest first; an entry whose append failed
 * stays for the next drain, and none is lost or reordered. */
static void test_audit_outbox(void **state)
{
    struct fixture *f = *state;
    struct outbox_seen o = {.fail_at = 1};
    size_t n = 9;

    assert_int_equal(store_outbox_drain(f->st, outbox_cb, &o, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_outbox_add(f->st, "cli:root", "user.disable", "user/a", "{}"), 0);
    assert_int_equal(store_outbox_add(f->st, "cli:root", "user.enable", "user/a", "{\"x\":1}"), 0);
    assert_int_equal(store_outbox_drain(f->st, outbox_cb, &o, &n), -EIO);
    assert_int_equal(n, 1);
    assert_string_equal(o.lines[0], "cli:root user.disable user/a {}");
    o.fail_at = -1;
    assert_int_equal(store_outbox_drain(f->st, outbox_cb, &o, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(o.lines[1], "cli:root user.enable user/a {\"x\":1}");
    assert_int_equal(store_outbox_drain(f->st, outbox_cb, &o, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(o.n, 2);
}

/* Schema 9 to 10: the tokens that had an expiry were sessions; API tokens
 * that had none get 30 days from the upgrade, not an instant expiry. */
static void test_migrate_tokens_v10(void **state)
{
    struct fixture *f = *state;
    char *err = NULL;
    int64_t before = time_now_us() / 1000000;
    sqlite3 *db;

    store_free(f->st);
    f->st = NULL;
    db = peek_open(f);
    assert_int_equal(
        sqlite3_exec(
            db,
            "DROP INDEX events_record_id; ALTER TABLE events DROP COLUMN record_id;"
            "DROP INDEX alerts_record_rule; ALTER TABLE alerts DROP COLUMN record_id;"
            "ALTER TABLE contacts DROP COLUMN quiet_hours;"
            "ALTER TABLE contacts DROP COLUMN on_call; ALTER TABLE contacts DROP COLUMN timezone;"
            "DROP TABLE procedure_runs; ALTER TABLE tasks DROP COLUMN box;"
            "ALTER TABLE tasks DROP COLUMN due_us; ALTER TABLE tasks DROP COLUMN function;"
            "DROP TABLE incident_observables; DROP TABLE approvals;"
            "DROP TABLE exercise_log; DROP TABLE exercise_runs;"
            "DROP TABLE exercise_marks;"
            "DROP TABLE countermeasures; DROP TABLE incident_impact;"
            "DROP TABLE field_markings; DROP TABLE message_replies; DROP TABLE messages;"
            "DROP TABLE incident_clock;"
            "DROP TABLE intel_sightings; DROP TABLE intel_tags; DROP TABLE intel_indicators;"
            "DROP TABLE evidence_seals; DROP TABLE evidence_custody;"
            "DROP TABLE evidence_links; DROP TABLE evidence_items;"
            "DROP TABLE audit_outbox; DROP INDEX tokens_expires_us;"
            "DROP INDEX tokens_user_id; ALTER TABLE tokens DROP COLUMN session;"
            "ALTER TABLE users DROP COLUMN disabled;"
            "ALTER TABLE users DROP COLUMN last_login_us;"
            "INSERT INTO users(id, name, role, created_us) VALUES(1, 'a', 'admin', 1);"
            "INSERT INTO tokens(user_id, hash, label, created_us) VALUES(1, x'01', 'api', 1);"
            "INSERT INTO tokens(user_id, hash, label, created_us, expires_us)"
            " VALUES(1, x'02', 'session', 1, 99);"
            "PRAGMA user_version = 9;",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    db = peek_open(f);
    assert_int_equal(peek_int(db, "SELECT session FROM tokens WHERE hash = x'02'"), 1);
    assert_int_equal(peek_int(db, "SELECT expires_us FROM tokens WHERE hash = x'02'"), 99);
    assert_int_equal(peek_int(db, "SELECT session FROM tokens WHERE hash = x'01'"), 0);
    {
        int64_t exp = peek_int(db, "SELECT expires_us / 1000000 FROM tokens WHERE hash = x'01'");

        assert_true(exp >= before + 30 * 86400 && exp <= before + 30 * 86400 + 60);
    }
    assert_int_equal(peek_int(db, "SELECT disabled FROM users WHERE id = 1"), 0);
    sqlite3_close(db);
}

/* A database written by schema 1 (the first release) is migrated to the
 * current one in place: old alerts become kind 'rule'. */
static void test_migrate_from_v1(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;
    char *err = NULL;
    int64_t n;

    store_free(f->st);
    f->st = NULL;
    db = peek_open(f);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX events_record_id; ALTER TABLE events DROP COLUMN record_id;"
                                  "DROP INDEX alerts_record_rule; ALTER TABLE alerts DROP COLUMN record_id;"
                                  "DROP TABLE procedure_runs;"
                                  "DROP TABLE incident_observables; DROP TABLE approvals;"
                                  "DROP TABLE exercise_log; DROP TABLE exercise_runs;"
                                  "DROP TABLE exercise_marks;"
                                  "DROP TABLE countermeasures; DROP TABLE incident_impact;"
                                  "DROP TABLE field_markings; DROP TABLE message_replies;"
                                  "DROP TABLE messages;"
                                  "DROP TABLE incident_clock;"
                                  "DROP TABLE intel_sightings; DROP TABLE intel_tags;"
                                  "DROP TABLE intel_indicators;"
                                  "DROP TABLE evidence_seals; DROP TABLE evidence_custody;"
                                  "DROP TABLE evidence_links; DROP TABLE evidence_items;"
                                  "DROP TABLE timeline; DROP TABLE notes; DROP TABLE tasks;"
                                  "DROP TABLE communications; DROP TABLE contacts;"
                                  "DROP TABLE reports; DROP TABLE declarations;"
                                  "DROP TABLE risk_samples; DROP TABLE suppressions;"
                                  "DROP TABLE responses;"
                                  "DROP TABLE tokens; DROP TABLE users; DROP TABLE audit_outbox;"
                                  "DROP TABLE agg_alerts; DROP TABLE incidents; DROP TABLE state;"
                                  "DROP INDEX events_recv_us; DROP INDEX alerts_rule_created;"
                                  "CREATE INDEX alerts_rule_id ON alerts(rule_id);"
                                  "ALTER TABLE alerts DROP COLUMN agg_id;"
                                  "ALTER TABLE alerts DROP COLUMN kind;"
                                  "INSERT INTO alerts(created_us, time_us, rule_id, fields, raw)"
                                  " VALUES(1, 1, 'r', '{}', x'00');"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_incident_count(f->st, &n), 0);
    assert_int_equal(n, 0);
    db = peek_open(f);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM alerts WHERE kind = 'rule'"), 1);
    /* Schema 4's tables and columns are there. */
    assert_int_equal(peek_int(db, "SELECT count(*) FROM pragma_table_info('incidents')"
                                  " WHERE name IN ('record', 'version', 'proposed_type',"
                                  " 'opened_why')"),
                     4);
    assert_int_equal(peek_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND"
                                  " name IN ('timeline', 'notes', 'tasks', 'contacts',"
                                  " 'communications', 'reports', 'declarations',"
                                  " 'risk_samples', 'suppressions', 'responses')"),
                     10);
    sqlite3_close(db);
}


/* ---- responses (schema 6) ---- */

static int64_t resp_add(struct fixture *f, const char *state, const char *addr,
                        const char *actions, int64_t expires_us, int dry_run)
{
    struct store_resp_rec r = {
        .created_us = 1000,
        .state = state,
        .policy_rule = "brute",
        .kind = "correlation",
        .rule_name = "ssh_bruteforce",
        .level = 3,
        .address = addr,
        .actions = actions,
        .mode = "auto",
        .agg_id = 5,
        .reason = "rule brute: block",
        .ban_us = 600000000,
        .expires_us = expires_us,
        .dry_run = dry_run,
    };
    int64_t id = 0;

    assert_int_equal(store_resp_add(f->st, &r, &id), 0);
    assert_true(id > 0);
    return id;
}

static int count_cb(void *ctx, const struct store_resp_rec *r)
{
    int64_t *ids = ctx;

    ids[++ids[0]] = r->id;
    assert_non_null(r->state);
    assert_non_null(r->policy_rule);
    return 0;
}

static void test_responses(void **state)
{
    struct fixture *f = *state;
    const int64_t now = 5000000000;
    int64_t p1, p2, done, expired, dry, id = 0, ids[16] = {0};
    struct store_resp_filter flt = {.state = "pending"};
    struct buf b;
    size_t n = 0;

    p1 = resp_add(f, "pending", "203.0.113.1", "block", 0, 0);
    p2 = resp_add(f, "pending", NULL, "block,webhook", 0, 0);
    done = resp_add(f, "done", "203.0.113.2", "block,webhook", now + 60000000, 0);
    expired = resp_add(f, "done", "203.0.113.3", "block", now - 1, 0);
    dry = resp_add(f, "dry_run", "203.0.113.4", "block", now + 60000000, 1);
    /* The pending request of the same rule and address, or of the incident. */
    assert_int_equal(store_resp_pending_find(f->st, "brute", "203.0.113.1", 0, &id), 0);
    assert_int_equal(id, p1);
    assert_int_equal(store_resp_pending_find(f->st, "brute", NULL, 0, &id), 0);
    assert_int_equal(id, p2);
    assert_int_equal(store_resp_pending_find(f->st, "other", "203.0.113.1", 0, &id), -ENOENT);
    assert_int_equal(store_resp_seen(f->st, p1, 2000), 0);
    /* Two answers race: one wins, the other is told the state. */
    assert_int_equal(store_resp_decide(f->st, p1, 1, "alice", "ok", 3000), 0);
    assert_int_equal(store_resp_decide(f->st, p1, 0, "bob", "no", 3001), -ESTALE);
    assert_non_null(strstr(store_errmsg(f->st), "approved"));
    assert_int_equal(store_resp_decide(f->st, 999, 1, "alice", NULL, 3000), -ENOENT);
    /* The engine takes up exactly the approved row. */
    assert_int_equal(store_resp_each_approved(f->st, count_cb, ids), 0);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], p1);
    assert_int_equal(store_resp_finish(f->st, p1, "done", "{\"block\":\"blocked\"}", NULL,
                                       now + 1000, 4000),
                     0);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_resp_each_approved(f->st, count_cb, ids), 0);
    assert_int_equal(ids[0], 0);
    /* Lifting: only a block in force, not dry run, once. */
    assert_int_equal(store_resp_lift_request(f->st, done, "alice", now), 0);
    assert_int_equal(store_resp_lift_request(f->st, done, "bob", now), -ESTALE);
    assert_int_equal(store_resp_lift_request(f->st, expired, "alice", now), -ESTALE);
    assert_int_equal(store_resp_lift_request(f->st, dry, "alice", now), -ESTALE);
    assert_int_equal(store_resp_lift_request(f->st, p2, "alice", now), -ESTALE);
    assert_int_equal(store_resp_lift_request(f->st, 999, "alice", now), -ENOENT);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_resp_each_lift(f->st, count_cb, ids), 0);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], done);
    /* In force now: p1 (expires now+1ms) and done (lift asked), soonest first. */
    buf_init(&b, 4096);
    assert_int_equal(store_blocks_json(f->st, now, &b, &n), 0);
    assert_int_equal(n, 2);
    assert_non_null(strstr(b.data, "203.0.113.1"));
    assert_true(strstr(b.data, "203.0.113.1") < strstr(b.data, "203.0.113.2"));
    assert_null(strstr(b.data, "203.0.113.3"));
    assert_null(strstr(b.data, "203.0.113.4"));
    assert_int_equal(store_resp_lifted(f->st, done, now), 0);
    buf_reset(&b);
    assert_int_equal(store_blocks_json(f->st, now, &b, &n), 0);
    assert_int_equal(n, 1);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_resp_each_lift(f->st, count_cb, ids), 0);
    assert_int_equal(ids[0], 0);
    /* Listing with a filter, and one row as JSON. */
    buf_reset(&b);
    assert_int_equal(store_resps_json(f->st, &flt, &b, &n), 0);
    assert_int_equal(n, 1); /* p2 only: p1 is done now */
    buf_reset(&b);
    assert_int_equal(store_resp_json(f->st, p1, &b), 0);
    assert_non_null(strstr(b.data, "\"actions\":[\"block\"]"));
    assert_non_null(strstr(b.data, "\"result\":{\"block\":\"blocked\"}"));
    assert_non_null(strstr(b.data, "\"decided_by\":\"alice\""));
    assert_non_null(strstr(b.data, "\"seen\":2"));
    assert_non_null(strstr(b.data, "\"dry_run\":false"));
    buf_reset(&b);
    assert_int_equal(store_resp_json(f->st, 999, &b), -ENOENT);
    buf_done(&b);
}

/* A task past its due time is overdue while its incident is open, and no
 * longer once the incident is closed; a done one never is. */
static void test_task_overdue(void **state)
{
    struct fixture *f = *state;
    struct store_record_cols c = {"probe", "Green", "B", "first_aid"};
    struct store_task_rec t = {.id = 1, .phase = "first_aid", .title = "Notify the regulator",
                               .description = "", .owner = "csirt-lead", .function = "respond",
                               .due_us = 1000000, .box = "leak"};
    struct store_task_rec later = t;
    struct buf out;
    sqlite3 *db = NULL;
    int64_t id = 0;

    later.id = 2;
    later.due_us = INT64_C(4102444800000000); /* 2100 */
    assert_int_equal(store_incident_new(f->st, &c, 1000, &id), 0);
    assert_int_equal(store_task_put(f->st, id, &t), 0);
    assert_int_equal(store_task_put(f->st, id, &later), 0);
    buf_init(&out, 1 << 16);
    assert_int_equal(store_tasks_json(f->st, id, &out, NULL), 0);
    assert_int_equal(buf_putc(&out, '\0'), 0);
    assert_non_null(strstr(out.data, "\"due\":\"1970-01-01T00:00:01"));
    assert_non_null(strstr(out.data, "\"box\":\"leak\",\"overdue\":true}"));
    assert_non_null(strstr(out.data, "\"function\":\"respond\""));
    assert_non_null(strstr(out.data, "\"overdue\":false}"));

    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE incidents SET phase = 'closed'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    buf_reset(&out);
    assert_int_equal(store_tasks_json(f->st, id, &out, NULL), 0);
    assert_int_equal(buf_putc(&out, '\0'), 0);
    assert_null(strstr(out.data, "\"overdue\":true"));
    buf_done(&out);
}

static void test_100k_events(void **state)
{
    static const char raw[] = "Dec 10 07:07:38 LabSZ sshd[24206]: Failed password for invalid user "
                              "test9 from 52.80.34.196 port 36060 ssh2";
    enum { N = 100000 };
    struct fixture *f = *state;
    struct arena a;
    struct event ev;
    struct timespec t0, t1;
    int64_t n = 0, last = 0;
    double secs;

    arena_init(&a, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_begin(f->st), 0);
    for (int i = 0; i < N; i++) {
        event_init(&ev, &a, raw, sizeof(raw) - 1, 1700000000000000LL + i);
        ev.decoder = "sshd";
        if (event_add(&ev, FIELD_PROCESS_NAME, at(raw, "sshd"), 4) < 0 ||
            event_add(&ev, FIELD_PROCESS_PID, at(raw, "24206"), 5) < 0 ||
            event_add(&ev, FIELD_USER_NAME, at(raw, "test9"), 5) < 0 ||
            event_add(&ev, FIELD_SOURCE_IP, at(raw, "52.80.34.196"), 12) < 0 ||
            event_add_int(&ev, FIELD_SOURCE_PORT, 36060 + i % 1000) < 0)
            fail_msg("event_add at %d", i);
        if (store_event_add(f->st, &ev, "auth", &last) < 0)
            fail_msg("store_event_add at %d: %s", i, store_errmsg(f->st));
        event_reset(&ev);
    }
    assert_int_equal(store_commit(f->st), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("store: %d events in one transaction in %.3f s = %.0f events/s\n", N, secs,
                  N / secs);
    assert_int_equal(store_event_count(f->st, &n), 0);
    assert_int_equal(n, N);
    assert_int_equal(last, N);
    arena_done(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_wal_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_triage_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_tokens_v10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_keeps_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_overdue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_100k_events, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
