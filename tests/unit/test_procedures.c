/*
 * test_procedures.c - the procedures per box (issue 25): the shipped file
 * defines all sixteen boxes, every task names its NIST CSF function and
 * every party to inform passes its disclosure rule; malformed files are
 * refused with the line, column and reason; the JSON the API shows, with
 * its filters.  Run with cwd = source root (HIKESHI_SOURCE).
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

#include "incident/csf.h"
#include "incident/procedures.h"
#include "incident/report.h"

static void shipped_path(char *out, size_t size)
{
    const char *src = getenv("HIKESHI_SOURCE");
    snprintf(out, size, "%s/playbooks/procedures/boxes.yaml", src ? src : ".");
}

static void test_shipped(void **state)
{
    struct procedure_set set;
    struct parse_err e;
    char path[1024];
    int r;
    (void)state;

    shipped_path(path, sizeof(path));
    procedure_set_init(&set);
    r = procedure_set_load(&set, path, &e);
    if (r < 0)
        fail_msg("%s:%u:%u: %s (%d)", path, e.line, e.col, e.msg ? e.msg : "", r);
    assert_int_equal(set.ndefined, 16);
    for (int c = ASSET_CAT_A; c <= ASSET_CAT_D; c++)
        for (int l = TRIAGE_GREEN; l <= TRIAGE_RED; l++) {
            const struct procedure_box *b =
                procedure_box_get(&set, (enum asset_category)c, (enum triage_alert_level)l);
            char name[PROCEDURES_BOX_NAME_MAX];

            assert_non_null(b);
            assert_int_equal(procedure_box_name((enum asset_category)c, (enum triage_alert_level)l,
                                                name, sizeof(name)),
                             0);
            assert_string_equal(b->name, name);
            assert_true(b->ntasks > 0);
            for (size_t i = 0; i < b->ntasks; i++)
                assert_int_not_equal(b->tasks[i].function, CSF_NONE);
            /* Red and Orange tell the responsible person at least. */
            if (l >= TRIAGE_ORANGE) {
                int resp = 0;
                for (size_t i = 0; i < b->ninform; i++)
                    resp |= b->inform[i].party == MESSAGE_PARTY_RESPONSIBLE;
                assert_true(resp);
                /* Something must be done within hours. */
                assert_true(b->tasks[0].due_us > 0 &&
                            b->tasks[0].due_us <= INT64_C(7200) * 1000000);
            }
        }
    {
        const struct procedure_box *b = procedure_box_get(&set, ASSET_CAT_B, TRIAGE_ORANGE);
        assert_string_equal(b->name, "B-Orange");
        assert_int_equal(b->tasks[0].function, CSF_DETECT);
        assert_int_equal(b->tasks[0].due_us, INT64_C(3600) * 1000000);
    }
    assert_null(procedure_box_get(&set, ASSET_CAT_NONE, TRIAGE_RED));
    procedure_set_done(&set);
}

/* One bad file: the error is at line:col with a message holding `want`. */
static void refused(const char *yaml, unsigned line, unsigned col, const char *want)
{
    struct procedure_set set;
    struct parse_err e;
    int r;

    procedure_set_init(&set);
    r = procedure_set_parse(&set, yaml, strlen(yaml), "t.yaml", &e);
    if (r != -EINVAL || e.line != line || e.col != col || !e.msg || !strstr(e.msg, want))
        fail_msg("for\n%s\ngot %d at %u:%u '%s', want -EINVAL at %u:%u '%s'", yaml, r, e.line,
                 e.col, e.msg ? e.msg : "(null)", line, col, want);
    /* Left empty: nothing from the half-read file is used. */
    assert_int_equal(set.ndefined, 0);
    assert_null(procedure_box_get(&set, ASSET_CAT_A, TRIAGE_RED));
    procedure_set_done(&set);
}

#define TASK "  tasks:\n    - title: t\n      function: respond\n"

static void test_refused(void **state)
{
    (void)state;
    refused("", 1, 1, "empty procedures file");
    refused("- a\n", 1, 1, "maps box names");
    refused("E-Red:\n" TASK, 1, 1, "CATEGORY-LEVEL");
    refused("B-Purple:\n" TASK, 1, 1, "CATEGORY-LEVEL");
    refused("B-Red:\n" TASK "B-Red:\n" TASK, 5, 1, "defined twice");
    refused("B-Red:\n  tasks: []\n", 2, 3, "at least one task or party");
    refused("B-Red:\n  task:\n    - title: x\n", 2, 3, "unknown key (tasks, inform)");
    refused("B-Red:\n  tasks:\n    - title: t\n", 3, 7, "NIST CSF function");
    refused("B-Red:\n  tasks:\n    - title: t\n      function: mitigate\n", 4, 17,
            "function is one of");
    refused("B-Red:\n  tasks:\n    - title: t\n      function: detect\n      due: soon\n", 5, 12,
            "duration");
    refused("B-Red:\n" TASK "  inform:\n    - party: journalist\n      disclose: [type]\n", 6, 14,
            "party is one of");
    /* The press may have TLP:CLEAR at most, and never the entities. */
    refused("B-Red:\n" TASK "  inform:\n    - party: press\n      tlp: TLP:AMBER\n"
            "      disclose: [type]\n",
            7, 12, "at most TLP:CLEAR");
    refused("B-Red:\n" TASK "  inform:\n    - party: press\n      disclose: [type, entities]\n", 7,
            17, "does not allow the field entities");
    refused("B-Red:\n" TASK "  inform:\n    - party: isp\n      disclose: [type, colour]\n", 7, 24,
            "unknown field");
    refused("B-Red:\n" TASK "  inform:\n    - party: isp\n", 6, 7, "needs disclose");
    refused("B-Red:\n" TASK "  inform:\n    - party: isp\n      channel: fax\n"
            "      disclose: [type]\n",
            7, 16, "smtp, webhook or export");
    refused("B-Red:\n" TASK "  inform:\n    - {party: isp, disclose: [type]}\n"
            "    - {party: isp, disclose: [title]}\n",
            7, 7, "each party once");
    refused("B-Red:\n" TASK "  inform:\n    - {party: isp, disclose: [type, type]}\n", 6, 37,
            "named twice");
    refused("B-Red: [\n", 2, 1, "");
}

static void test_caps(void **state)
{
    struct procedure_set set;
    struct parse_err e;
    struct buf b;
    int r;
    (void)state;

    /* 65 tasks in one box. */
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_puts(&b, "A-Red:\n  tasks:\n"), 0);
    for (int i = 0; i <= PROCEDURES_MAX_TASKS; i++)
        assert_int_equal(buf_printf(&b, "    - {title: t%d, function: detect}\n", i), 0);
    procedure_set_init(&set);
    r = procedure_set_parse(&set, b.data, b.len, "t", &e);
    assert_int_equal(r, -EINVAL);
    assert_int_equal(e.line, 3);
    procedure_set_done(&set);
    buf_reset(&b);
    /* A file past its cap is refused before it is read. */
    assert_int_equal(buf_puts(&b, "A-Red:\n" TASK "#"), 0);
    while (b.len <= PROCEDURES_MAX_FILE_BYTES)
        assert_int_equal(buf_putc(&b, 'x'), 0);
    procedure_set_init(&set);
    assert_int_equal(procedure_set_parse(&set, b.data, b.len, "t", &e), -EINVAL);
    assert_non_null(strstr(e.msg, "too large"));
    procedure_set_done(&set);
    buf_done(&b);
}

static void test_json(void **state)
{
    static const char y[] = "B-Orange:\n"
                            "  tasks:\n"
                            "    - title: Verify \"exposure\"\n"
                            "      owner: analyst\n"
                            "      required: true\n"
                            "      function: detect\n"
                            "      due: 90m\n"
                            "    - {title: Plan, function: protect}\n"
                            "  inform:\n"
                            "    - {party: partner, tlp: green, disclose: [phase, title]}\n"
                            "B-Red:\n" TASK "A-Green:\n" TASK;
    struct procedure_set set;
    struct parse_err e;
    struct buf b;
    size_t n;
    (void)state;

    procedure_set_init(&set);
    assert_int_equal(procedure_set_parse(&set, y, strlen(y), "t", &e), 0);
    assert_int_equal(set.ndefined, 3);
    buf_init(&b, 1 << 20);
    assert_int_equal(procedure_set_json(&set, ASSET_CAT_B, TRIAGE_ORANGE, &b, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_string_equal(
        b.data, "{\"box\":\"B-Orange\",\"level\":\"Orange\",\"category\":\"B\",\"tasks\":["
                "{\"title\":\"Verify \\\"exposure\\\"\",\"description\":\"\",\"owner\":\"analyst\","
                "\"required\":true,\"function\":\"detect\",\"due\":\"90m\",\"due_seconds\":5400},"
                "{\"title\":\"Plan\",\"description\":\"\",\"owner\":\"\",\"required\":false,"
                "\"function\":\"protect\",\"due\":null,\"due_seconds\":null}],"
                "\"inform\":[{\"party\":\"partner\",\"channel\":\"smtp\",\"tlp\":\"TLP:GREEN\","
                "\"disclose\":[\"title\",\"phase\"]}]}");
    /* All of category B, Red before Orange; everything: A first. */
    buf_reset(&b);
    assert_int_equal(procedure_set_json(&set, ASSET_CAT_B, -1, &b, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_true(strstr(b.data, "B-Red") < strstr(b.data, "B-Orange"));
    buf_reset(&b);
    assert_int_equal(procedure_set_json(&set, ASSET_CAT_NONE, -1, &b, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_true(strstr(b.data, "A-Green") < strstr(b.data, "B-Red"));
    buf_reset(&b);
    assert_int_equal(procedure_set_json(&set, ASSET_CAT_C, -1, &b, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(b.len, 0);
    buf_done(&b);
    procedure_set_done(&set);
}

/* The report counts the tasks by NIST CSF function, done and open: the
 * tasks of a box, ticked and not, and one that names no function. */
static void test_report_by_function(void **state)
{
    static const char y[] = "B-Orange:\n"
                            "  tasks:\n"
                            "    - {title: look, function: detect}\n"
                            "    - {title: shield, function: protect}\n"
                            "    - {title: tell, function: respond}\n"
                            "    - {title: act, function: respond}\n";
    struct procedure_set set;
    struct playbook_checklist cl;
    struct parse_err e;
    struct incident inc;
    struct report_input in;
    struct report rep;
    const struct procedure_box *b;
    (void)state;

    procedure_set_init(&set);
    assert_int_equal(procedure_set_parse(&set, y, strlen(y), "t", &e), 0);
    b = procedure_box_get(&set, ASSET_CAT_B, TRIAGE_ORANGE);
    playbook_checklist_init(&cl);
    assert_int_equal(
        playbook_tasks_append(&cl, INCIDENT_PHASE_FIRST_AID, b->tasks, b->ntasks, 1, b->name), 4);
    assert_string_equal(cl.t[2].box, "B-Orange");
    assert_int_equal(
        playbook_task_add(&cl, INCIDENT_PHASE_FIRST_AID, "by hand", NULL, NULL, 0, NULL), 0);
    assert_int_equal(playbook_task_tick(&cl, cl.t[2].id, 1, "ann", 2), 0);
    assert_int_equal(playbook_task_tick(&cl, cl.t[0].id, 1, "ann", 2), 0);
    assert_int_equal(incident_init(&inc, 7, 1), 0);
    memset(&in, 0, sizeof(in));
    in.inc = &inc;
    in.tasks = &cl;
    in.recommended_level = -1;
    in.revised_level = -1;
    assert_int_equal(report_generate(&in, REPORT_FINAL, 1, "ann", 3, &rep), 0);
    assert_int_equal(buf_putc(&rep.markdown, '\0'), 0);
    assert_int_equal(buf_putc(&rep.html, '\0'), 0);
    assert_non_null(strstr(rep.markdown.data, "### Tasks by NIST CSF function\n\n"
                                              "| function | done | open |\n|---|---:|---:|\n"
                                              "| identify | 0 | 0 |\n"
                                              "| protect | 0 | 1 |\n"
                                              "| detect | 1 | 0 |\n"
                                              "| respond | 1 | 1 |\n"
                                              "| recover | 0 | 0 |\n"
                                              "| not said | 0 | 1 |\n"));
    assert_non_null(strstr(rep.html.data, "<tr><td>respond</td><td>1</td><td>1</td></tr>"));
    report_done(&rep);
    /* The first report carries it too. */
    assert_int_equal(report_generate(&in, REPORT_FIRST, 1, "ann", 3, &rep), 0);
    assert_int_equal(buf_putc(&rep.markdown, '\0'), 0);
    assert_non_null(strstr(rep.markdown.data, "| detect | 1 | 0 |"));
    report_done(&rep);
    incident_done(&inc);
    playbook_checklist_done(&cl);
    procedure_set_done(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_report_by_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
