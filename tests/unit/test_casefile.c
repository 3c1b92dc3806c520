/*
 * test_casefile.c - the case file's one transaction skeleton
 * (casefile_run, casefile_priv.h) seen through the public calls: a change
 * is kept with exactly one audit entry naming its action and object; a
 * refused change keeps nothing and writes no entry; a change that changes
 * nothing writes none; an incident named in a body that does not exist is
 * that field's fault; a bulk action is all or nothing, within its cap;
 * the responsible person's decisions wait for them (issue 25).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "incident/audit.h"
#include "incident/casefile.h"
#include "incident/playbook.h"
#include "store/store.h"

#define T0 INT64_C(1795458000000000)

struct fix {
    char dir[64], audit_path[96];
    struct store *st;
    struct audit *audit;
    struct playbook_set pb;
    struct incident_targets targets;
    struct casefile cf;
    struct casefile_err err;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct audit_result ar;
    char *err = NULL;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/hikeshi-test-casefile-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    assert_int_equal(audit_open(f->audit_path, &f->audit, &ar), 0);
    playbook_set_init(&f->pb);
    incident_targets_default(&f->targets);
    f->cf = (struct casefile){
        .st = f->st, .audit = f->audit, .playbooks = &f->pb, .targets = &f->targets};
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fix *f = *state;

    playbook_set_done(&f->pb);
    audit_free(f->audit);
    store_free(f->st);
    nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Audit entries so far; with `action`, only those of that action and (when
 * given) that object. */
static int audited(const struct fix *f, const char *action, const char *object)
{
    char line[8192], a[128], o[128];
    FILE *fp = fopen(f->audit_path, "r");
    int n = 0;

    assert_non_null(fp);
    snprintf(a, sizeof(a), "\"action\":\"%s\"", action ? action : "");
    snprintf(o, sizeof(o), "\"object\":\"%s\"", object ? object : "");
    while (fgets(line, sizeof(line), fp))
        n += (!action || strstr(line, a)) && (!object || strstr(line, o));
    fclose(fp);
    return n;
}

static int64_t make_incident(struct fix *f)
{
    static const char body[] = "{\"title\":\"Scan from 198.51.100.7\"}";
    int64_t id = 0;

    assert_int_equal(casefile_create(&f->cf, "ana", body, strlen(body), T0, &id, &f->err), 0);
    assert_true(id > 0);
    return id;
}

static void test_change_audited_once(void **state)
{
    struct fix *f = *state;
    static const char note[] = "{\"text\":\"called the owner\"}";
    char obj[64];
    int64_t id = make_incident(f), nid = 0;

    snprintf(obj, sizeof(obj), "incident/%lld", (long long)id);
    assert_int_equal(audited(f, "incident.create", obj), 1);
    assert_int_equal(
        casefile_note_add(&f->cf, id, "ana", note, strlen(note), T0 + 1, &nid, &f->err), 0);
    assert_true(nid > 0);
    assert_int_equal(audited(f, "note.add", obj), 1);
    assert_int_equal(audited(f, NULL, NULL), 2);
}

static void test_nothing_changed_not_audited(void **state)
{
    struct fix *f = *state;
    int64_t id = make_incident(f);
    static const char same[] = "{\"version\":1,\"title\":\"Scan from 198.51.100.7\"}";
    static const char other[] = "{\"version\":1,\"title\":\"Scan from 198.51.100.8\"}";
    int before = audited(f, NULL, NULL);

    assert_int_equal(casefile_update(&f->cf, id, "ana", same, strlen(same), T0 + 1, &f->err), 0);
    assert_int_equal(audited(f, NULL, NULL), before);
    assert_int_equal(casefile_update(&f->cf, id, "ana", other, strlen(other), T0 + 2, &f->err), 0);
    assert_int_equal(audited(f, "incident.update", NULL), 1);
}

static void test_refused_keeps_nothing(void **state)
{
    struct fix *f = *state;
    static const char tick[] = "{\"done\":true}";
    int64_t id = make_incident(f);
    int before = audited(f, NULL, NULL);
    struct buf tl;

    /* The act fails inside the transaction: no entry, no timeline row. */
    assert_int_equal(
        casefile_task_update(&f->cf, id, 999, "ana", tick, strlen(tick), T0 + 1, &f->err), -ENOENT);
    assert_string_equal(f->err.msg, "no such task");
    assert_int_equal(audited(f, NULL, NULL), before);
    buf_init(&tl, 1 << 20);
    assert_int_equal(store_tasks_json(f->st, id, &tl, NULL), 0);
    assert_int_equal(tl.len, 0);
    buf_done(&tl);
    /* No such incident: refused before any act. */
    assert_int_equal(
        casefile_task_update(&f->cf, id + 100, 1, "ana", tick, strlen(tick), T0 + 1, &f->err),
        -ENOENT);
    assert_string_equal(f->err.msg, "no such incident");
    assert_int_equal(audited(f, NULL, NULL), before);
}

/* The incident's JSON in *out (reset first); 1 when it holds `needle`. */
static int incident_has(struct fix *f, int64_t id, const char *needle, struct buf *out)
{
    buf_reset(out);
    assert_int_equal(casefile_incident_json(&f->cf, id, T0 + 100, out, &f->err), 0);
    assert_int_equal(buf_putc(out, '\0'), 0);
    return strstr(out->data, needle) != NULL;
}

/* The PATCH `fmt` (its %llu the version) by `who` of `rank`. */
static int patch(struct fix *f, int64_t id, const char *who, enum casefile_rank rank,
                 int64_t *ret_approval, int64_t at, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static int patch(struct fix *f, int64_t id, const char *who, enum casefile_rank rank,
                 int64_t *ret_approval, int64_t at, const char *fmt, ...)
{
    char body[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    return casefile_update_as(&f->cf, id, who, rank, body, strlen(body), at, ret_approval, &f->err);
}

/* The responsible person (casefile_lead.c, casefile_approval.c): an
 * analyst's decision is kept, not applied; who may answer; a stale
 * request; a rejection needs a note; leaving the emergency phase sets and
 * declares Yellow. */
static void test_lead_decisions(void **state)
{
    struct fix *f = *state;
    static const char open[] = "{\"title\":\"Beacon\",\"category\":\"B\"}";
    static const char note[] = "{\"note\":\"still beaconing\"}";
    int64_t id = 0, ap = -1, ap2 = 0, uid = 0;
    unsigned long long v = 1;
    struct buf b;

    buf_init(&b, 1 << 20);
    assert_int_equal(store_user_add(f->st, "lee", "lead", NULL, &uid), 0);
    assert_int_equal(store_user_add(f->st, "ana", "analyst", NULL, &uid), 0);
    assert_int_equal(casefile_create(&f->cf, "ana", open, strlen(open), T0, &id, &f->err), 0);
    /* Not decisions: applied for an analyst. */
    assert_int_equal(patch(f, id, "ana", CASEFILE_RANK_ANALYST, &ap, T0 + 1,
                           "{\"version\":%llu,\"phase\":\"first_aid\"}", v++),
                     0);
    assert_int_equal(ap, 0);
    assert_int_equal(patch(f, id, "ana", CASEFILE_RANK_ANALYST, &ap, T0 + 2,
                           "{\"version\":%llu,\"phase\":\"emergency\",\"level\":\"Yellow\"}", v++),
                     0);
    assert_int_equal(ap, 0);
    /* Orange: kept as an approval, nothing applied; without a queue, 403. */
    assert_int_equal(patch(f, id, "ana", CASEFILE_RANK_ANALYST, NULL, T0 + 3,
                           "{\"version\":%llu,\"level\":\"Orange\"}", v),
                     -EACCES);
    assert_string_equal(f->err.msg, "only a lead or an admin may declare Orange");
    assert_int_equal(patch(f, id, "ana", CASEFILE_RANK_ANALYST, &ap, T0 + 3,
                           "{\"version\":%llu,\"level\":\"Orange\",\"title\":\"C2\"}", v),
                     0);
    assert_true(ap > 0);
    assert_true(incident_has(f, id, "\"level\":\"Yellow\"", &b));
    assert_false(incident_has(f, id, "\"title\":\"C2\"", &b));
    assert_int_equal(audited(f, "approval.request", NULL), 1);
    /* Only a lead (nobody is responsible yet) or an admin answers. */
    assert_int_equal(casefile_approval_answer(&f->cf, ap, 1, "ana", CASEFILE_RANK_ANALYST, "", 0,
                                              T0 + 4, &f->err),
                     -EACCES);
    assert_int_equal(
        casefile_approval_answer(&f->cf, ap, 1, "lee", CASEFILE_RANK_LEAD, "", 0, T0 + 4, &f->err),
        0);
    v++;
    assert_true(incident_has(f, id, "\"level\":\"Orange\"", &b));
    assert_true(incident_has(f, id, "\"title\":\"C2\"", &b));
    assert_int_equal(
        casefile_approval_answer(&f->cf, ap, 1, "lee", CASEFILE_RANK_LEAD, "", 0, T0 + 5, &f->err),
        -ESTALE);
    assert_int_equal(audited(f, "approval.approve", NULL), 1);
    /* The responsible person must be a lead or an admin. */
    assert_int_equal(patch(f, id, "lee", CASEFILE_RANK_LEAD, &ap, T0 + 6,
                           "{\"version\":%llu,\"responsible\":\"ana\"}", v),
                     -EINVAL);
    assert_int_equal(patch(f, id, "lee", CASEFILE_RANK_LEAD, &ap, T0 + 6,
                           "{\"version\":%llu,\"responsible\":\"lee\"}", v++),
                     0);
    assert_int_equal(ap, 0);
    /* Closing the emergency phase: another lead's request waits for lee;
     * a change in between makes it stale, and it stays pending. */
    assert_int_equal(patch(f, id, "lou", CASEFILE_RANK_LEAD, &ap, T0 + 7,
                           "{\"version\":%llu,\"phase\":\"watch\"}", v),
                     0);
    assert_true(ap > 0);
    assert_int_equal(patch(f, id, "ana", CASEFILE_RANK_ANALYST, &ap2, T0 + 8,
                           "{\"version\":%llu,\"summary\":\"seen from 3 hosts\"}", v++),
                     0);
    assert_int_equal(ap2, 0);
    assert_int_equal(
        casefile_approval_answer(&f->cf, ap, 1, "lee", CASEFILE_RANK_LEAD, "", 0, T0 + 9, &f->err),
        -ESTALE);
    buf_reset(&b);
    assert_int_equal(store_approval_json(f->st, ap, &b), 0);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_non_null(strstr(b.data, "\"state\":\"pending\""));
    /* Rejected: a note is required; another lead may not answer. */
    assert_int_equal(
        casefile_approval_answer(&f->cf, ap, 0, "lee", CASEFILE_RANK_LEAD, "", 0, T0 + 10, &f->err),
        -EINVAL);
    assert_int_equal(casefile_approval_answer(&f->cf, ap, 0, "lou", CASEFILE_RANK_LEAD, note,
                                              strlen(note), T0 + 10, &f->err),
                     -EACCES);
    assert_int_equal(casefile_approval_answer(&f->cf, ap, 0, "lee", CASEFILE_RANK_LEAD, note,
                                              strlen(note), T0 + 10, &f->err),
                     0);
    assert_int_equal(audited(f, "approval.reject", NULL), 1);
    /* lee closes the emergency phase: Yellow, and B declared Yellow. */
    assert_int_equal(patch(f, id, "lee", CASEFILE_RANK_LEAD, &ap, T0 + 11,
                           "{\"version\":%llu,\"phase\":\"watch\"}", v++),
                     0);
    assert_int_equal(ap, 0);
    assert_true(incident_has(f, id, "\"phase\":\"watch\"", &b));
    assert_true(incident_has(f, id, "\"level\":\"Yellow\"", &b));
    buf_reset(&b);
    assert_int_equal(store_declared_current_json(f->st, &b), 0);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_non_null(strstr(b.data, "\"level\":\"Yellow\""));
    assert_non_null(strstr(b.data, "\"category\":\"B\""));
    assert_int_equal(audited(f, "incident.phase", NULL), 3);
    buf_done(&b);
}

static void test_attach(void **state)
{
    struct fix *f = *state;
    int64_t id = make_incident(f);
    struct store_agg_rec a = {
        .id = 41,
        .kind = "rule",
        .rule_id = "r-scan",
        .rule_name = "scan",
        .rule_title = "Scan",
        .level = 3,
        .entity_key = "r-scan\x1fsource.ip=198.51.100.7",
        .count = 1,
        .first_us = T0,
        .last_us = T0,
    };
    char body[64], missing[64];

    assert_int_equal(store_agg_put(f->st, &a), 0);
    snprintf(body, sizeof(body), "{\"incident\":%lld}", (long long)id);
    snprintf(missing, sizeof(missing), "{\"incident\":%lld}", (long long)id + 100);
    /* An incident the body names that does not exist is the body's fault. */
    assert_int_equal(
        casefile_alert_attach(&f->cf, 41, "ana", missing, strlen(missing), T0 + 1, &f->err),
        -EINVAL);
    assert_string_equal(f->err.field, "incident");
    assert_string_equal(f->err.msg, "no such incident");
    /* A missing alert: refused inside the transaction, nothing audited. */
    assert_int_equal(casefile_alert_attach(&f->cf, 42, "ana", body, strlen(body), T0 + 1, &f->err),
                     -ENOENT);
    assert_string_equal(f->err.msg, "no such alert");
    assert_int_equal(audited(f, "alert.attach", NULL), 0);
    assert_int_equal(casefile_alert_attach(&f->cf, 41, "ana", body, strlen(body), T0 + 1, &f->err),
                     0);
    assert_int_equal(audited(f, "alert.attach", "alert/41"), 1);
}

/* Aggregated alert `id` of `rule` on source `ip`. */
static void put_agg(struct fix *f, int64_t id, const char *rule, const char *ip)
{
    char key[128];
    struct store_agg_rec a = {.id = id,
                              .kind = "rule",
                              .rule_id = rule,
                              .rule_name = rule,
                              .rule_title = rule,
                              .level = 3,
                              .entity_key = key,
                              .count = 1,
                              .first_us = T0,
                              .last_us = T0};

    snprintf(key, sizeof(key), "%s\x1fsource.ip=%s", rule, ip);
    assert_int_equal(store_agg_put(f->st, &a), 0);
}

static int64_t acked(struct fix *f)
{
    struct store_agg_filter af = {.acknowledged = 1};
    int64_t ids[16], total = 0;
    size_t n = 0;

    assert_int_equal(store_agg_ids(f->st, &af, ids, 16, &n, &total), 0);
    return total;
}

/* Bulk: a selection by ids (sorted, repeats once) or by filter, all or
 * nothing, within its cap, one audit entry holding the ids as ranges; a
 * suppression per distinct rule (and entities, by scope). */
static void test_bulk(void **state)
{
    struct fix *f = *state;
    struct store_agg_filter all = {.acknowledged = -1}, ra = {.acknowledged = -1, .rule = "r-a"};
    struct casefile_bulk_result res;
    static const char ack_ids[] = "{\"action\":\"ack\",\"ids\":[3,1,2,3,10]}";
    static const char ack_missing[] = "{\"action\":\"ack\",\"ids\":[4,99]}";
    static const char ack_all[] = "{\"action\":\"ack\",\"matching\":true,\"max\":4}";
    static const char wrong[] = "{\"action\":\"ack\",\"ids\":[4],\"incident\":1}";
    static const char supp_entity[] = "{\"action\":\"suppress\",\"matching\":true,"
                                      "\"reason\":\"noise\",\"expires\":\"2099-01-01\"}";
    static const char supp_rule[] = "{\"action\":\"suppress\",\"matching\":true,"
                                    "\"reason\":\"noise\",\"expires\":\"2099-01-01\","
                                    "\"scope\":\"rule\"}";
    char line[8192];
    FILE *fp;
    int found = 0;

    put_agg(f, 1, "r-a", "192.0.2.1");
    put_agg(f, 2, "r-a", "192.0.2.1");
    put_agg(f, 3, "r-a", "192.0.2.1");
    put_agg(f, 4, "r-a", "192.0.2.2");
    put_agg(f, 10, "r-b", "192.0.2.1");

    assert_int_equal(
        casefile_alert_bulk(&f->cf, &all, "ana", ack_ids, strlen(ack_ids), T0, &res, &f->err), 0);
    assert_int_equal(res.count, 4);
    assert_int_equal(acked(f), 4);
    assert_int_equal(audited(f, "alert.bulk_ack", "alerts"), 1);
    fp = fopen(f->audit_path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp))
        found +=
            strstr(line, "\"count\":4,\"selected\":\"ids\"") && strstr(line, "\"ids\":\"1-3,10\"");
    fclose(fp);
    assert_int_equal(found, 1);

    /* One unknown id: refused whole, alert 4 stays unacknowledged. */
    assert_int_equal(casefile_alert_bulk(&f->cf, &all, "ana", ack_missing, strlen(ack_missing), T0,
                                         &res, &f->err),
                     -ENOENT);
    assert_string_equal(f->err.msg, "no such alert 99");
    assert_int_equal(acked(f), 4);
    assert_int_equal(audited(f, "alert.bulk_ack", NULL), 1);

    /* Five kept by the filter, at most four asked: nothing done. */
    assert_int_equal(
        casefile_alert_bulk(&f->cf, &all, "ana", ack_all, strlen(ack_all), T0, &res, &f->err),
        -EOVERFLOW);
    assert_non_null(strstr(f->err.msg, "keeps 5 "));
    assert_int_equal(acked(f), 4);
    assert_int_equal(
        casefile_alert_bulk(&f->cf, &all, "ana", wrong, strlen(wrong), T0, &res, &f->err), -EINVAL);
    assert_string_equal(f->err.field, "incident");

    /* r-a on two sources: two suppressions by entity, one by rule. */
    assert_int_equal(casefile_alert_bulk(&f->cf, &ra, "ana", supp_entity, strlen(supp_entity), T0,
                                         &res, &f->err),
                     0);
    assert_int_equal(res.count, 4);
    assert_int_equal(res.suppressions, 2);
    assert_int_equal(
        casefile_alert_bulk(&f->cf, &all, "ana", supp_rule, strlen(supp_rule), T0, &res, &f->err),
        0);
    assert_int_equal(res.count, 5);
    assert_int_equal(res.suppressions, 2);
    assert_int_equal(audited(f, "alert.bulk_suppress", "alerts"), 2);
}

static int fail_change(struct store *st, void *ctx, struct buf *details)
{
    (void)st;
    (void)details;
    *(int *)ctx += 1;
    return -EEXIST;
}

static int ok_change(struct store *st, void *ctx, struct buf *details)
{
    (void)st;
    *(int *)ctx += 1;
    return buf_puts(details, "{\"name\":\"bob\"}");
}

static void test_change_outside_incident(void **state)
{
    struct fix *f = *state;
    int calls = 0;

    assert_int_equal(
        casefile_change(&f->cf, "ada", "user.add", "user/bob", fail_change, &calls, &f->err),
        -EEXIST);
    assert_int_equal(calls, 1);
    assert_int_equal(audited(f, NULL, NULL), 0);
    assert_int_equal(
        casefile_change(&f->cf, "ada", "user.add", "user/bob", ok_change, &calls, &f->err), 0);
    assert_int_equal(calls, 2);
    assert_int_equal(audited(f, "user.add", "user/bob"), 1);
}

/* Opening at Orange or Red is a decision (issue 25): an analyst's opening
 * is made at Yellow and the level asked for waits as an approval, in the
 * creation's one audit entry; a lead's is made as asked. */
static void test_create_gated(void **state)
{
    struct fix *f = *state;
    static const char red[] = "{\"title\":\"Ransom note\",\"category\":\"C\",\"level\":\"Red\"}";
    static const char orange[] = "{\"title\":\"Worm\",\"level\":\"Orange\"}";
    static const char purple[] = "{\"title\":\"Odd\",\"level\":\"Purple\"}";
    int64_t id = 0, ap = -1, uid = 0;
    struct buf b;

    buf_init(&b, 1 << 20);
    assert_int_equal(store_user_add(f->st, "lee", "lead", NULL, &uid), 0);
    assert_int_equal(casefile_create_as(&f->cf, "ana", CASEFILE_RANK_ANALYST, red, strlen(red), T0,
                                        &id, &ap, &f->err),
                     0);
    assert_true(id > 0 && ap > 0);
    assert_true(incident_has(f, id, "\"level\":\"Yellow\"", &b));
    assert_true(incident_has(f, id, "\"version\":1", &b));
    /* One entry: the creation, holding the request; no separate one. */
    assert_int_equal(audited(f, "incident.create", NULL), 1);
    assert_int_equal(audited(f, "approval.request", NULL), 0);
    buf_reset(&b);
    assert_int_equal(store_approval_json(f->st, ap, &b), 0);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_non_null(strstr(b.data, "\"what\":\"declare Red\""));
    assert_non_null(strstr(b.data, "\"state\":\"pending\""));
    /* Approved by a lead: Red, on the version it was asked on. */
    assert_int_equal(
        casefile_approval_answer(&f->cf, ap, 1, "lee", CASEFILE_RANK_LEAD, "", 0, T0 + 1, &f->err),
        0);
    assert_true(incident_has(f, id, "\"level\":\"Red\"", &b));
    /* A lead opens at Orange; casefile_create (no queue) applies it too. */
    assert_int_equal(casefile_create_as(&f->cf, "lee", CASEFILE_RANK_LEAD, orange, strlen(orange),
                                        T0 + 2, &id, &ap, &f->err),
                     0);
    assert_int_equal(ap, 0);
    assert_true(incident_has(f, id, "\"level\":\"Orange\"", &b));
    assert_int_equal(casefile_create(&f->cf, "ana", orange, strlen(orange), T0 + 3, &id, &f->err),
                     0);
    assert_true(incident_has(f, id, "\"level\":\"Orange\"", &b));
    /* A bad level is refused before anything is kept. */
    assert_int_equal(casefile_create_as(&f->cf, "ana", CASEFILE_RANK_ANALYST, purple,
                                        strlen(purple), T0 + 4, &id, &ap, &f->err),
                     -EINVAL);
    assert_int_equal(ap, 0);
    assert_int_equal(audited(f, "incident.create", NULL), 3);
    buf_done(&b);
}

/* Opening an incident from the alerts view is the same decision (issue
 * 25): an analyst's open_incident at Red opens at Yellow with the level
 * filed as an approval, named in the bulk action's one audit entry; a
 * lead's opens at Orange as asked. */
static void test_bulk_open_gated(void **state)
{
    struct fix *f = *state;
    struct store_agg_filter all = {.acknowledged = -1};
    struct casefile_bulk_result res;
    static const char red[] = "{\"action\":\"open_incident\",\"ids\":[1],"
                              "\"title\":\"Ransom note\",\"level\":\"Red\"}";
    static const char orange[] = "{\"action\":\"open_incident\",\"ids\":[2],"
                                 "\"title\":\"Worm\",\"level\":\"Orange\"}";
    char line[8192], want[64];
    struct buf b;
    FILE *fp;
    int found = 0;

    buf_init(&b, 1 << 20);
    put_agg(f, 1, "r-a", "192.0.2.1");
    put_agg(f, 2, "r-a", "192.0.2.2");
    assert_int_equal(casefile_alert_bulk_as(&f->cf, &all, "ana", CASEFILE_RANK_ANALYST, red,
                                            strlen(red), T0, &res, &f->err),
                     0);
    assert_true(res.incident > 0 && res.approval > 0);
    assert_true(incident_has(f, res.incident, "\"level\":\"Yellow\"", &b));
    buf_reset(&b);
    assert_int_equal(store_approval_json(f->st, res.approval, &b), 0);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_non_null(strstr(b.data, "\"what\":\"declare Red\""));
    assert_non_null(strstr(b.data, "\"state\":\"pending\""));
    /* One entry, the bulk action's, naming the approval; no other. */
    assert_int_equal(audited(f, "alert.bulk_open", NULL), 1);
    assert_int_equal(audited(f, "approval.request", NULL), 0);
    snprintf(want, sizeof(want), "\"approval\":{\"approval\":%lld", (long long)res.approval);
    fp = fopen(f->audit_path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp))
        found += strstr(line, "alert.bulk_open") && strstr(line, want);
    fclose(fp);
    assert_int_equal(found, 1);
    /* A lead opens at Orange, no approval. */
    assert_int_equal(casefile_alert_bulk_as(&f->cf, &all, "lee", CASEFILE_RANK_LEAD, orange,
                                            strlen(orange), T0 + 1, &res, &f->err),
                     0);
    assert_int_equal(res.approval, 0);
    assert_true(incident_has(f, res.incident, "\"level\":\"Orange\"", &b));
    buf_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_change_audited_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_changed_not_audited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_keeps_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_outside_incident, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lead_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_gated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_open_gated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
