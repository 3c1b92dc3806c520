/*
 * test_playbook_leak.c - information-leak playbooks (issue 25): the shipped
 * playbooks/leak/ loads, serves every leak type and names a function for
 * every task; malformed files are refused with line and column; a leak
 * type's tasks join a checklist once, with the common stages once per
 * incident and due times from the moment given; the record's leak_type in
 * JSON (written, read back, set and cleared by an update, bad values
 * refused).  Run with cwd = source root (HIKESHI_SOURCE).
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

#include "incident/incident.h"
#include "incident/playbook.h"
#include "incident/playbook_leak.h"

#define T0 INT64_C(1700000000000000)
#define HOUR_US (INT64_C(3600) * 1000000)

static void load_shipped(struct playbook_leak_set *set)
{
    const char *src = getenv("HIKESHI_SOURCE");
    char dir[1024];
    int n;

    snprintf(dir, sizeof(dir), "%s/playbooks/leak", src ? src : ".");
    playbook_leak_set_init(set);
    n = playbook_leak_set_load_dir(set, dir);
    for (size_t i = 0; i < set->nissues; i++)
        print_error("%s:%u:%u: %s\n", set->issues[i].file, set->issues[i].line, set->issues[i].col,
                    set->issues[i].msg);
    assert_int_equal(set->nissues, 0);
    assert_int_equal(n, INCIDENT_LEAK_COUNT); /* seven types and the common stages */
}

static void test_shipped(void **state)
{
    struct playbook_leak_set set;
    const struct playbook_leak *pb, *common;
    int regulator = 0;
    (void)state;

    load_shipped(&set);
    for (int l = 1; l < INCIDENT_LEAK_COUNT; l++) {
        size_t n = 0;

        pb = playbook_leak_find(&set, (enum incident_leak)l);
        assert_non_null(pb);
        assert_false(pb->common);
        for (int p = 0; p < INCIDENT_PHASE_COUNT; p++)
            n += pb->ntasks[p];
        if (n < 2)
            fail_msg("leak type %s has %zu tasks", incident_leak_name((enum incident_leak)l), n);
    }
    assert_null(playbook_leak_find(&set, INCIDENT_LEAK_NONE));
    common = playbook_leak_common(&set);
    assert_non_null(common);
    for (size_t i = 0; i < set.n; i++)
        for (int p = 0; p < INCIDENT_PHASE_COUNT; p++)
            for (size_t k = 0; k < set.pb[i].ntasks[p]; k++) {
                const struct playbook_task_def *t = &set.pb[i].tasks[p][k];
                if (t->function == CSF_NONE)
                    fail_msg("%s: \"%s\" names no function", set.pb[i].file, t->title);
            }
    /* The regulator's report: 72 hours from discovery. */
    for (size_t k = 0; k < common->ntasks[INCIDENT_PHASE_EMERGENCY]; k++) {
        const struct playbook_task_def *t = &common->tasks[INCIDENT_PHASE_EMERGENCY][k];
        if (strstr(t->title, "regulator")) {
            regulator++;
            assert_int_equal(t->due_us, 72 * HOUR_US);
            assert_int_equal(t->function, CSF_RESPOND);
            assert_true(t->required);
        }
    }
    assert_int_equal(regulator, 1);
    playbook_leak_set_done(&set);
}

/* Parses `text` into a fresh set; expects failure at line:col with a
 * message containing `msg`. */
static void refused(const char *text, unsigned line, unsigned col, const char *msg)
{
    struct playbook_leak_set set;
    struct parse_err e;

    playbook_leak_set_init(&set);
    assert_int_equal(playbook_leak_parse(&set, text, strlen(text), "t.yaml", &e), -EINVAL);
    assert_int_equal(set.n, 0);
    if (e.line != line || e.col != col || !e.msg || !strstr(e.msg, msg))
        fail_msg("want %u:%u \"%s\", got %u:%u \"%s\" for:\n%s", line, col, msg, e.line, e.col,
                 e.msg ? e.msg : "(null)", text);
    playbook_leak_set_done(&set);
}

static void test_refused(void **state)
{
    (void)state;
    refused("name: x\nleak: [usb]\nphases: {}\n", 2, 8, "unknown leak type");
    refused("name: x\nleak: [common, p2p]\nphases: {}\n", 2, 7, "common stands alone");
    refused("name: x\nleak: []\nphases: {}\n", 2, 7, "at least one leak type");
    refused("name: x\nleak: p2p\nphases: {}\n", 2, 7, "leak is a list");
    refused("name: x\ntypes: [probe]\nphases: {}\n", 2, 1, "unknown key");
    refused("name: x\nphases: {}\n", 1, 1, "needs leak");
    refused("leak: [p2p]\nphases: {}\n", 1, 1, "needs a name");
    refused("name: x\nleak: [p2p]\nphases:\n  first_aid:\n    - title: t\n", 5, 7,
            "names its function");
    refused("name: x\nleak: [p2p]\nphases:\n  first_aid:\n    - {title: t, function: plan}\n", 5,
            28, "function is one of");
    refused("name: x\nleak: [p2p]\nphases:\n  first_aid:\n    - {title: t, function: detect, due: "
            "soon}\n",
            5, 41, "");
    refused("name: x\nleak: [p2p]\nphases:\n  closed:\n    - {title: t, function: detect}\n", 4, 3,
            "unknown phase");
}

static void test_duplicate_type(void **state)
{
    static const char a[] = "name: a\nleak: [p2p, insider]\nphases: {}\n";
    static const char b[] = "name: b\nleak: [malware, insider]\nphases: {}\n";
    static const char c1[] = "name: c\nleak: [common]\nphases: {}\n";
    struct playbook_leak_set set;
    struct parse_err e;
    (void)state;

    playbook_leak_set_init(&set);
    assert_int_equal(playbook_leak_parse(&set, a, strlen(a), "a", &e), 0);
    assert_int_equal(playbook_leak_parse(&set, b, strlen(b), "b", &e), -EINVAL);
    assert_non_null(strstr(e.msg, "already served"));
    assert_int_equal(playbook_leak_parse(&set, c1, strlen(c1), "c", &e), 0);
    assert_int_equal(playbook_leak_parse(&set, c1, strlen(c1), "c2", &e), -EINVAL);
    assert_int_equal(set.n, 2);
    assert_ptr_equal(playbook_leak_find(&set, INCIDENT_LEAK_INSIDER), &set.pb[0]);
    assert_null(playbook_leak_find(&set, INCIDENT_LEAK_MALWARE));
    playbook_leak_set_done(&set);
}

static size_t with_box(const struct playbook_checklist *cl, const char *box)
{
    size_t n = 0;
    for (size_t i = 0; i < cl->n; i++)
        if (cl->t[i].box && strcmp(cl->t[i].box, box) == 0)
            n++;
    return n;
}

static void test_tasks_once(void **state)
{
    static const char own[] =
        "name: p\nleak: [p2p]\nphases:\n"
        "  first_aid:\n    - {title: Find the node, function: identify, due: 4h, required: true}\n"
        "  emergency:\n    - {title: Takedown, function: respond}\n";
    static const char mal[] = "name: m\nleak: [malware]\nphases:\n  first_aid:\n    - {title: "
                              "Isolate, function: protect}\n";
    static const char common[] =
        "name: c\nleak: [common]\nphases:\n"
        "  emergency:\n    - {title: Regulator, function: respond, due: 72h}\n";
    struct playbook_leak_set set;
    struct playbook_checklist cl;
    struct parse_err e;
    (void)state;

    playbook_leak_set_init(&set);
    assert_int_equal(playbook_leak_parse(&set, own, strlen(own), "p", &e), 0);
    assert_int_equal(playbook_leak_parse(&set, mal, strlen(mal), "m", &e), 0);
    assert_int_equal(playbook_leak_parse(&set, common, strlen(common), "c", &e), 0);
    playbook_checklist_init(&cl);
    /* A task a person added stays and does not count as the playbook's. */
    assert_int_equal(
        playbook_task_add(&cl, INCIDENT_PHASE_FIRST_AID, "by hand", NULL, NULL, 0, NULL), 0);

    assert_int_equal(playbook_leak_tasks(&set, INCIDENT_LEAK_P2P, T0, &cl), 3);
    assert_int_equal(cl.n, 4);
    assert_int_equal(with_box(&cl, "leak:p2p"), 2);
    assert_int_equal(with_box(&cl, "leak"), 1);
    assert_string_equal(cl.t[1].title, "Find the node");
    assert_int_equal(cl.t[1].phase, INCIDENT_PHASE_FIRST_AID);
    assert_int_equal(cl.t[1].function, CSF_IDENTIFY);
    assert_int_equal(cl.t[1].due_us, T0 + 4 * HOUR_US);
    assert_true(cl.t[1].required);
    assert_int_equal(cl.t[2].phase, INCIDENT_PHASE_EMERGENCY);
    assert_int_equal(cl.t[2].due_us, 0); /* no due: no deadline */
    assert_string_equal(cl.t[3].title, "Regulator");
    assert_int_equal(cl.t[3].due_us, T0 + 72 * HOUR_US);

    /* Again, later: nothing. */
    assert_int_equal(playbook_leak_tasks(&set, INCIDENT_LEAK_P2P, T0 + HOUR_US, &cl), 0);
    assert_int_equal(cl.n, 4);
    /* Another type: its own tasks only, the common stages are there. */
    assert_int_equal(playbook_leak_tasks(&set, INCIDENT_LEAK_MALWARE, T0 + HOUR_US, &cl), 1);
    assert_int_equal(with_box(&cl, "leak:malware"), 1);
    assert_int_equal(with_box(&cl, "leak"), 1);
    /* A type without a playbook of its own still gets nothing twice. */
    assert_int_equal(playbook_leak_tasks(&set, INCIDENT_LEAK_RUMOUR, T0, &cl), 0);
    assert_int_equal(playbook_leak_tasks(&set, INCIDENT_LEAK_NONE, T0, &cl), -EINVAL);
    assert_int_equal(playbook_leak_tasks(&set, (enum incident_leak)99, T0, &cl), -EINVAL);
    playbook_checklist_done(&cl);

    /* A checklist without room gets none of them, not half. */
    playbook_checklist_init(&cl);
    for (int i = 0; i < PLAYBOOK_CHECKLIST_MAX - 2; i++)
        assert_int_equal(
            playbook_task_add(&cl, INCIDENT_PHASE_FIRST_AID, "filler", NULL, NULL, 0, NULL), 0);
    assert_int_equal(playbook_leak_tasks(&set, INCIDENT_LEAK_P2P, T0, &cl), -E2BIG);
    assert_int_equal(cl.n, PLAYBOOK_CHECKLIST_MAX - 2);
    assert_int_equal(playbook_leak_tasks(&set, INCIDENT_LEAK_MALWARE, T0, &cl), 2);
    playbook_checklist_done(&cl);
    playbook_leak_set_done(&set);
}

static void test_record_json(void **state)
{
    struct incident inc, back;
    struct incident_change *ch = NULL;
    struct parse_err e;
    struct buf b;
    char why[200];
    size_t n = 0;
    enum incident_leak l;
    (void)state;

    for (int i = 1; i < INCIDENT_LEAK_COUNT; i++) {
        const char *name = incident_leak_name((enum incident_leak)i);
        assert_int_equal(incident_leak_from_name(name, strlen(name), &l), 0);
        assert_int_equal(l, i);
    }
    assert_int_equal(incident_leak_from_name("none", 4, &l), -EINVAL);
    assert_int_equal(incident_leak_from_name("P2P", 3, &l), -EINVAL);
    assert_string_equal(incident_leak_name((enum incident_leak)42), "?");

    assert_int_equal(incident_init(&inc, 7, T0), 0);
    buf_init(&b, 1 << 20);
    assert_int_equal(incident_to_json(&inc, &b), 0);
    assert_non_null(strstr(b.data, "\"leak_type\":null"));

    static const char set_p2p[] = "{\"leak_type\":\"p2p\",\"reason\":\"found on a share\"}";
    assert_int_equal(incident_update_json(&inc, set_p2p, strlen(set_p2p), "alice", T0 + 1, &ch, &n,
                                          &e, why, sizeof(why)),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(ch[0].what, "leak_type");
    assert_string_equal(ch[0].from, "none");
    assert_string_equal(ch[0].to, "p2p");
    free(ch);
    assert_int_equal(inc.leak, INCIDENT_LEAK_P2P);
    /* The same again is no change. */
    assert_int_equal(incident_update_json(&inc, set_p2p, strlen(set_p2p), "alice", T0 + 2, &ch, &n,
                                          &e, why, sizeof(why)),
                     0);
    assert_int_equal(n, 0);
    assert_null(ch);

    b.len = 0;
    assert_int_equal(incident_to_json(&inc, &b), 0);
    assert_non_null(strstr(b.data, "\"leak_type\":\"p2p\""));
    assert_int_equal(incident_from_json(b.data, b.len, &back, &e), 0);
    assert_int_equal(back.leak, INCIDENT_LEAK_P2P);
    incident_done(&back);

    static const char bad1[] = "{\"leak_type\":\"usb\"}";
    static const char bad2[] = "{\"leak_type\":3}";
    static const char bad3[] = "{\"leak_type\":\"none\"}";
    assert_int_equal(
        incident_update_json(&inc, bad1, strlen(bad1), "alice", T0, &ch, &n, &e, why, sizeof(why)),
        -EINVAL);
    assert_non_null(strstr(why, "\"leak_type\""));
    assert_int_equal(
        incident_update_json(&inc, bad2, strlen(bad2), "alice", T0, &ch, &n, &e, why, sizeof(why)),
        -EINVAL);
    assert_int_equal(
        incident_update_json(&inc, bad3, strlen(bad3), "alice", T0, &ch, &n, &e, why, sizeof(why)),
        -EINVAL);
    assert_int_equal(inc.leak, INCIDENT_LEAK_P2P);

    static const char clear[] = "{\"leak_type\":null}";
    assert_int_equal(incident_update_json(&inc, clear, strlen(clear), "alice", T0 + 3, &ch, &n, &e,
                                          why, sizeof(why)),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(ch[0].to, "none");
    free(ch);
    assert_int_equal(inc.leak, INCIDENT_LEAK_NONE);
    buf_done(&b);
    incident_done(&inc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped),        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_duplicate_type), cmocka_unit_test(test_tasks_once),
        cmocka_unit_test(test_record_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
