/*
 * test_respond.c - the response engine against a real store and audit log,
 * in dry run (no firewall): what each decision leaves in the store, that
 * repeated refusals and requests do not multiply rows, that an approval
 * made through the store is taken up, that the queue drops rather than
 * blocks, and that every action is audited.
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
#include <time.h>
#include <unistd.h>

#include "event/time.h"
#include "incident/audit.h"
#include "respond/respond.h"
#include "store/store.h"
#include "triage/triage.h"

static const char policy_text[] =
    "dry_run: true\n"
    "allowlist:\n"
    "  - {net: 192.0.2.0/24, note: gateway network}\n"
    "internal: [10.0.0.0/8]\n"
    "rate: {actions_per_minute: 600, burst: 100}\n"
    "max_blocks: 100\n"
    "rules:\n"
    "  - name: brute\n"
    "    kind: correlation\n"
    "    rule: [ssh_bruteforce]\n"
    "    from: outside\n"
    "    actions: [block]\n"
    "  - name: ask on success\n"
    "    kind: correlation\n"
    "    rule: [ssh_bruteforce_success]\n"
    "    actions: [block]\n"
    "    mode: approve\n";

struct fix {
    char dir[64];
    char policy[128];
    struct audit *audit;
    struct respond *r;
    struct store *st;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct audit_result ar;
    char path[192], err[512];
    FILE *fp;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/hikeshi-respond-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->policy, sizeof(f->policy), "%s/respond.yaml", f->dir);
    fp = fopen(f->policy, "w");
    assert_non_null(fp);
    fputs(policy_text, fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/audit.log", f->dir);
    assert_int_equal(audit_open(path, &f->audit, &ar), 0);
    {
        struct respond_opts o = {.policy_path = f->policy, .data_dir = f->dir, .audit = f->audit};
        int r = respond_new(&o, &f->r, err, sizeof(err));
        if (r < 0)
            fail_msg("respond_new: %s", err);
    }
    {
        char *serr = NULL;
        assert_int_equal(store_open(f->dir, &f->st, &serr), 0);
        free(serr);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    respond_free(f->r);
    store_free(f->st);
    audit_free(f->audit);
    nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static struct respond_trigger brute(const char *addr, const char *rule)
{
    return (struct respond_trigger){
        .kind = RESPOND_KIND_CORRELATION,
        .rule_name = rule,
        .level = 3,
        .correlation = "event_count",
        .address = addr,
        .corroborated = 1,
        .trusted = 1,
        .source = "tcp from 192.0.2.10",
        .evidence = "trusted witness sshd via tcp from 192.0.2.10 (1 trusted source)",
    };
}

/* Rows of the responses table matching `where`, read with SQLite itself. */
static int count_rows(struct fix *f, const char *where)
{
    char path[192], sql[512];
    sqlite3 *db;
    sqlite3_stmt *s;
    int n = -1;

    snprintf(path, sizeof(path), "%s/hikeshi.db", f->dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM responses WHERE %s", where);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (up to 10 s) until count_rows(where) == want; returns the last count. */
static int wait_rows(struct fix *f, const char *where, int want)
{
    int n = -1;

    for (int i = 0; i < 200; i++) {
        if ((n = count_rows(f, where)) == want)
            break;
        sleep_ms(50);
    }
    return n;
}

static void test_decisions_recorded(void **state)
{
    struct fix *f = *state;
    struct respond_trigger t;
    struct respond_cause c = {.agg_id = 7, .incident_id = 3, .recv_us = time_now_us()};
    struct respond_stats rs;
    char err[256];

    assert_int_equal(respond_start(f->r, err, sizeof(err)), 0);
    /* Acts (dry run): an outside brute force. */
    t = brute("203.0.113.9", "ssh_bruteforce");
    respond_offer(f->r, &t, &c);
    assert_int_equal(wait_rows(f, "address='203.0.113.9' AND state='dry_run' AND agg_id=7 "
                                  "AND incident_id=3 AND result LIKE '%would block%'",
                               1),
                     1);
    /* Refused: the allowlist, three times -> one row (a minute's quiet). */
    t = brute("192.0.2.1", "ssh_bruteforce");
    for (int i = 0; i < 3; i++)
        respond_offer(f->r, &t, &c);
    /* Refused: UDP-only, not corroborated. */
    t = brute("198.51.100.20", "ssh_bruteforce");
    t.udp_only = 1;
    t.corroborated = 0;
    respond_offer(f->r, &t, &c);
    /* Asks: twice -> one pending row seen twice. */
    t = brute("198.51.100.30", "ssh_bruteforce_success");
    respond_offer(f->r, &t, &c);
    respond_offer(f->r, &t, &c);
    /* No rule: nothing recorded. */
    t = brute("198.51.100.40", "port_scan_vertical");
    respond_offer(f->r, &t, &c);
    assert_int_equal(wait_rows(f, "state='pending' AND address='198.51.100.30' AND seen=2", 1),
                     1);
    assert_int_equal(count_rows(f, "address='192.0.2.1' AND state='refused' AND "
                                   "reason LIKE '%gateway network%'"),
                     1);
    assert_int_equal(count_rows(f, "address='198.51.100.20' AND state='refused' AND "
                                   "udp_only=1 AND reason LIKE '%spoofed%'"),
                     1);
    assert_int_equal(count_rows(f, "address='198.51.100.40'"), 0);
    respond_get_stats(f->r, &rs);
    /* The trigger no rule matches was answered at the door, not queued. */
    assert_int_equal(rs.offered, 7);
    assert_int_equal(rs.none, 1);
    assert_int_equal(rs.act, 1);
    assert_int_equal(rs.dry_run, 1);
    assert_int_equal(rs.refused, 4);
    assert_int_equal(rs.ask, 2);
    assert_int_equal(rs.blocks, 0); /* dry run: the firewall is never touched */
}

/* Forged text: the auto rule's trigger from no trusted witness waits for a
 * person, with the evidence in the row; never acted on, never dropped. */
static void test_untrusted_queued(void **state)
{
    struct fix *f = *state;
    struct respond_trigger t = brute("203.0.113.66", "ssh_bruteforce");
    struct respond_stats rs;
    char err[256];

    assert_int_equal(respond_start(f->r, err, sizeof(err)), 0);
    t.trusted = 0;
    t.source = "tcp from 198.51.100.200";
    t.evidence = "no trusted witness: 12 records from untrusted or content-relayed sources, last "
                 "tcp from 198.51.100.200";
    respond_offer(f->r, &t, NULL);
    assert_int_equal(wait_rows(f,
                               "address='203.0.113.66' AND state='pending' AND mode='auto' "
                               "AND reason LIKE '%only on a trusted witness%' AND "
                               "reason LIKE '%last tcp from 198.51.100.200'",
                               1),
                     1);
    respond_get_stats(f->r, &rs);
    assert_int_equal(rs.act, 0);
    assert_int_equal(rs.ask, 1);
}

static void test_approval_taken_up(void **state)
{
    struct fix *f = *state;
    struct respond_trigger t = brute("198.51.100.31", "ssh_bruteforce_success");
    struct respond_cause c = {.agg_id = 9};
    char err[256];
    int64_t id = 0;

    assert_int_equal(respond_start(f->r, err, sizeof(err)), 0);
    respond_offer(f->r, &t, &c);
    assert_int_equal(wait_rows(f, "state='pending' AND address='198.51.100.31'", 1), 1);
    assert_int_equal(store_resp_pending_find(f->st, "ask on success", "198.51.100.31", 0, &id), 0);
    assert_int_equal(store_resp_decide(f->st, id, 1, "alice", "checked", time_now_us()), 0);
    /* The decider polls once a second; the approved request acts (dry run). */
    assert_int_equal(wait_rows(f, "state='dry_run' AND address='198.51.100.31' AND "
                                  "decided_by='alice'",
                               1),
                     1);
}

static void test_queue_drops_when_full(void **state)
{
    struct fix *f = *state;
    struct respond_trigger t = brute("203.0.113.50", "ssh_bruteforce");
    struct respond_trigger other = brute("203.0.113.51", "nothing_matches");
    struct respond_stats rs;

    /* Not started: nothing takes triggers out, so the queue fills. */
    for (int i = 0; i < RESPOND_QUEUE_MAX + 10; i++)
        respond_offer(f->r, &t, NULL);
    /* Triggers that match no rule never compete for the queue. */
    for (int i = 0; i < 100; i++)
        respond_offer(f->r, &other, NULL);
    respond_get_stats(f->r, &rs);
    assert_int_equal(rs.offered, RESPOND_QUEUE_MAX);
    assert_int_equal(rs.dropped, 10);
    assert_int_equal(rs.none, 100);
}

static void test_audited(void **state)
{
    struct fix *f = *state;
    struct respond_trigger t = brute("203.0.113.77", "ssh_bruteforce");
    char err[256], path[192], line[4096];
    int found = 0;
    FILE *fp;

    assert_int_equal(respond_start(f->r, err, sizeof(err)), 0);
    respond_offer(f->r, &t, NULL);
    assert_int_equal(wait_rows(f, "address='203.0.113.77'", 1), 1);
    respond_free(f->r); /* joins the threads: the entry is written */
    f->r = NULL;
    snprintf(path, sizeof(path), "%s/audit.log", f->dir);
    fp = fopen(path, "r");
    assert_non_null(fp);
    /* The entry says the evidence was a trusted witness, and which. */
    while (fgets(line, sizeof(line), fp))
        if (strstr(line, "\"action\":\"response.dry_run\"") && strstr(line, "203.0.113.77") &&
            strstr(line, "\"actor\":\"hikeshi\"") && strstr(line, "\"trusted_witness\":true") &&
            strstr(line, "\"evidence_source\":\"tcp from 192.0.2.10\""))
            found++;
    fclose(fp);
    assert_int_equal(found, 1);
}

/* A restart: the blocks in force that the store remembers count again. */
static void test_restart_counts_blocks(void **state)
{
    char dir[] = "/tmp/hikeshi-respond-rs-XXXXXX", path[96], err[512];
    struct respond_opts o = {.policy_path = path, .data_dir = dir};
    struct store_resp_rec rec = {
        .created_us = time_now_us() - 60000000,
        .state = "done",
        .policy_rule = "brute",
        .kind = "correlation",
        .address = "203.0.113.1",
        .actions = "block",
        .mode = "auto",
        .reason = "earlier run",
        .ban_us = 600000000,
        .expires_us = time_now_us() + 540000000,
    };
    struct respond *r = NULL;
    struct respond_trigger t;
    struct store *st;
    char *serr = NULL;
    int64_t id;
    FILE *fp;
    struct fix f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/p.yaml", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("dry_run: true\nmax_blocks: 1\nrules:\n  - kind: correlation\n    actions: block\n",
          fp);
    fclose(fp);
    assert_int_equal(store_open(dir, &st, &serr), 0);
    assert_int_equal(store_resp_add(st, &rec, &id), 0);
    assert_int_equal(respond_new(&o, &r, err, sizeof(err)), 0);
    assert_int_equal(respond_start(r, err, sizeof(err)), 0);
    t = brute("203.0.113.2", "ssh_bruteforce");
    respond_offer(r, &t, NULL);
    memset(&f, 0, sizeof(f));
    snprintf(f.dir, sizeof(f.dir), "%s", dir);
    assert_int_equal(wait_rows(&f, "address='203.0.113.2' AND state='refused' AND "
                                   "reason LIKE '%1 blocks active, the maximum%'",
                               1),
                     1);
    respond_free(r);
    store_free(st);
    free(serr);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The peers that send us logs and the management networks are never
 * acted on, even on a trusted witness's word. */
static void test_log_peers_never(void **state)
{
    char dir[] = "/tmp/hikeshi-respond-lp-XXXXXX", path[96], err[512];
    static const char *const peers[] = {"198.51.100.9", "2001:db8:77::/64", "not-an-address"};
    struct respond_opts o = {
        .policy_path = path, .data_dir = dir, .log_peers = peers, .nlog_peers = 3};
    struct respond *r = NULL;
    struct respond_trigger t;
    struct fix f;
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/p.yaml", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("management: [{net: 203.0.113.128/25, note: jump hosts}]\n"
          "rules:\n  - name: brute\n    kind: correlation\n    actions: block\n",
          fp);
    fclose(fp);
    assert_int_equal(respond_new(&o, &r, err, sizeof(err)), 0);
    assert_int_equal(respond_start(r, err, sizeof(err)), 0);
    t = brute("198.51.100.9", "ssh_bruteforce");
    respond_offer(r, &t, NULL);
    t = brute("2001:db8:77::5", "ssh_bruteforce");
    respond_offer(r, &t, NULL);
    t = brute("203.0.113.200", "ssh_bruteforce");
    respond_offer(r, &t, NULL);
    t = brute("203.0.113.20", "ssh_bruteforce");
    respond_offer(r, &t, NULL);
    memset(&f, 0, sizeof(f));
    snprintf(f.dir, sizeof(f.dir), "%s", dir);
    assert_int_equal(
        wait_rows(&f, "state='refused' AND reason LIKE '%a peer that sends us logs%'", 2), 2);
    assert_int_equal(wait_rows(&f,
                               "address='203.0.113.200' AND state='refused' AND "
                               "reason LIKE '%management network (203.0.113.128/25 jump hosts)%'",
                               1),
                     1);
    assert_int_equal(wait_rows(&f, "address='203.0.113.20' AND state='dry_run'", 1), 1);
    respond_free(r);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_bad_policy_named(void **state)
{
    char dir[] = "/tmp/hikeshi-respond-bad-XXXXXX", path[96], err[512];
    struct respond_opts o = {.policy_path = path, .data_dir = dir};
    struct respond *r = (struct respond *)1;
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/p.yaml", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("dry_run: false\nrules:\n  - actions: [webhook]\n", fp);
    fclose(fp);
    assert_int_equal(respond_new(&o, &r, err, sizeof(err)), -EINVAL);
    assert_null(r);
    assert_non_null(strstr(err, "p.yaml:3:"));
    assert_non_null(strstr(err, "no webhook:"));
    /* Acting for real with an empty allowlist: refused at load, where and why. */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("rules:\n  - actions: [block]\ndry_run: false\n", fp);
    fclose(fp);
    assert_int_equal(respond_new(&o, &r, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "p.yaml:3:"));
    assert_non_null(strstr(err, "needs an allowlist"));
    /* A webhook whose key is too short is refused with the file named. */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("webhook: {url: \"http://127.0.0.1:9/\", secret_file: short.key}\n"
          "rules:\n  - actions: [webhook]\n",
          fp);
    fclose(fp);
    snprintf(err, sizeof(err), "%s/short.key", dir);
    fp = fopen(err, "w");
    assert_non_null(fp);
    fputs("tooshort\n", fp);
    fclose(fp);
    assert_int_equal(respond_new(&o, &r, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "short.key"));
    assert_non_null(strstr(err, "at least 32"));
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decisions_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_taken_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_drops_when_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audited, setup, teardown),
        cmocka_unit_test(test_restart_counts_blocks),
        cmocka_unit_test(test_log_peers_never),
        cmocka_unit_test(test_bad_policy_named),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
