/*
 * test_playbook.c - the shipped playbooks load and give every type a first
 * aid checklist; malformed playbooks are reported with line and column
 * while the others load; checklists (tick, assign, add, the leave-phase
 * gate); and the four reports, which carry the incident's fields and
 * escape hostile text; the Markdown escaper, which escapes only what would
 * be read as structure where the text stands.  Run with cwd = source root (HIKESHI_SOURCE).
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
#include <sys/stat.h>
#include <unistd.h>

#include "incident/incident.h"
#include "incident/playbook.h"
#include "incident/report.h"

#define T0 INT64_C(1700000000000000)

static void shipped_dir(char *out, size_t size)
{
    const char *src = getenv("HIKESHI_SOURCE");
    snprintf(out, size, "%s/playbooks", src ? src : ".");
}

static void test_shipped_playbooks(void **state)
{
    struct playbook_set set;
    char dir[1024];
    const struct playbook *pb;
    int n;
    (void)state;

    shipped_dir(dir, sizeof(dir));
    playbook_set_init(&set);
    n = playbook_set_load_dir(&set, dir);
    for (size_t i = 0; i < set.nissues; i++)
        print_error("%s:%u:%u: %s\n", set.issues[i].file, set.issues[i].line, set.issues[i].col,
                    set.issues[i].msg);
    assert_int_equal(set.nissues, 0);
    assert_int_equal(n, 7);
    /* Every type, internal and external, has first aid tasks. */
    for (int t = 1; t < TRIAGE_TYPE_ALL_COUNT; t++) {
        pb = playbook_find(&set, (enum triage_type)t);
        assert_non_null(pb);
        if (pb->ntasks[INCIDENT_PHASE_FIRST_AID] == 0)
            fail_msg("type \"%s\" has no first aid tasks", triage_type_name((enum triage_type)t));
    }
    /* The six main types have a playbook of their own. */
    for (int t = TRIAGE_TYPE_VULNERABLE; t <= TRIAGE_TYPE_DAMAGE; t++)
        assert_false(playbook_find(&set, (enum triage_type)t)->is_default);
    assert_true(playbook_find(&set, TRIAGE_TYPE_EXT_LAW)->is_default);

    /* Damage manifest, first aid: MISSION.md section 4's steps, isolation
     * and evidence required before leaving the phase. */
    pb = playbook_find(&set, TRIAGE_TYPE_DAMAGE);
    assert_string_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][0].title, "Isolate the affected host");
    assert_true(pb->tasks[INCIDENT_PHASE_FIRST_AID][0].required);
    assert_string_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][1].title, "Preserve evidence");
    assert_non_null(strstr(pb->tasks[INCIDENT_PHASE_FIRST_AID][1].description, "Do not shut down"));
    assert_string_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][4].title,
                        "Answer the reporter if the report came from outside");
    assert_false(pb->tasks[INCIDENT_PHASE_FIRST_AID][4].required);
    playbook_set_done(&set);
}

static const struct {
    const char *name, *text;
    unsigned line, col;
    const char *msg;
} bad[] = {
    {"unknown-type.yaml",
     "name: x\n"
     "types: [damage manifest, fire]\n"
     "phases: {}\n",
     2, 26, "unknown incident type (MISSION.md section 2 names)"},
    {"unknown-phase.yaml",
     "name: x\n"
     "types: [policy violation]\n"
     "phases:\n"
     "  triage:\n"
     "    - title: t\n",
     4, 3, "unknown phase (first_aid, emergency, watch, full_response)"},
    {"no-title.yaml",
     "name: x\n"
     "types: [policy violation]\n"
     "phases:\n"
     "  first_aid:\n"
     "    - description: no title here\n",
     5, 7, "a task needs a title"},
    {"bad-required.yaml",
     "name: x\n"
     "types: [policy violation]\n"
     "phases:\n"
     "  first_aid:\n"
     "    - title: t\n"
     "      required: maybe\n",
     6, 17, "required must be true or false"},
    {"syntax.yaml",
     "name: x\n"
     "types: [policy violation\n"
     "phases: {}\n",
     3, 7, NULL /* libyaml's own message */},
    {"unknown-key.yaml",
     "name: x\n"
     "types: [policy violation]\n"
     "owner: me\n"
     "phases: {}\n",
     3, 1, "unknown key (name, types, phases)"},
};

static void test_malformed_playbooks(void **state)
{
    struct playbook_set set;
    char dir[] = "/tmp/test_playbook.XXXXXX";
    char path[256];
    int n;
    (void)state;

    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, bad[i].name);
        assert_non_null(f = fopen(path, "w"));
        fputs(bad[i].text, f);
        fclose(f);
    }
    /* One good playbook among them still loads. */
    snprintf(path, sizeof(path), "%s/zz-good.yaml", dir);
    {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("name: good\ntypes: [policy violation]\nphases:\n  first_aid:\n    - title: warn\n",
              f);
        fclose(f);
    }
    playbook_set_init(&set);
    n = playbook_set_load_dir(&set, dir);
    assert_int_equal(n, 1);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.pb[0].name, "good");
    assert_int_equal(set.nissues, sizeof(bad) / sizeof(bad[0]));
    for (size_t i = 0; i < set.nissues; i++) {
        /* Issues come in file-name order; find the row by name. */
        size_t k;
        for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
            if (strstr(set.issues[i].file, bad[k].name))
                break;
        assert_true(k < sizeof(bad) / sizeof(bad[0]));
        if (set.issues[i].line != bad[k].line || set.issues[i].col != bad[k].col)
            fail_msg("%s: at %u:%u, want %u:%u (%s)", bad[k].name, set.issues[i].line,
                     set.issues[i].col, bad[k].line, bad[k].col, set.issues[i].msg);
        if (bad[k].msg)
            assert_string_equal(set.issues[i].msg, bad[k].msg);
    }
    playbook_set_done(&set);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, bad[i].name);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/zz-good.yaml", dir);
    unlink(path);
    rmdir(dir);

    /* Two playbooks for one type: the second is refused. */
    {
        static const char a[] = "name: a\ntypes: [press]\nphases: {}\n";
        static const char b[] = "name: a\ntypes: [attack trend]\nphases: {}\n";
        struct parse_err e;
        playbook_set_init(&set);
        assert_int_equal(playbook_parse(&set, a, strlen(a), "a", &e), -EINVAL);
        assert_int_equal(e.line, 2);
        assert_int_equal(playbook_parse(&set, b, strlen(b), "b", &e), 0);
        assert_int_equal(playbook_parse(&set, b, strlen(b), "c", &e), -EINVAL);
        assert_string_equal(e.msg, "a type is already served by another playbook");
        assert_int_equal(set.n, 1);
        playbook_set_done(&set);
    }
    assert_int_equal(playbook_set_load_dir(&set, "/nonexistent/playbooks"), -ENOENT);
}

/* A task's collect (PLAN/STEP) and needs_evidence, and the definition
 * found again from a checklist task. */
static void test_collect_tasks(void **state)
{
    static const char good[] = "name: g\ntypes: [default]\nphases:\n  first_aid:\n"
                               "    - title: Take memory\n      collect: server/memory\n"
                               "    - title: Keep it\n      needs_evidence: true\n"
                               "    - title: Plain\n";
    static const char *const bad_keys[] = {
        "collect: server",           "collect: Server/memory",  "collect: server/",
        "collect: /memory",          "collect: server/mem ory", "collect: a/b/c",
        "collect: [server, memory]", "needs_evidence: maybe",
        "function: defend",          "function: Respond",       "function: [respond]",
        "due: 0s",                   "due: soon",               "due: 400d",
        "due: 3w",
    };
    const struct playbook_task_def *def;
    struct playbook_checklist cl;
    struct playbook_set set;
    struct parse_err e;
    char text[512];
    (void)state;

    playbook_set_init(&set);
    assert_int_equal(playbook_parse(&set, good, strlen(good), "g", &e), 0);
    playbook_checklist_init(&cl);
    assert_int_equal(playbook_tasks_for(&set, TRIAGE_TYPE_EXT_LAW, INCIDENT_PHASE_FIRST_AID, 0, &cl),
                     3);
    assert_int_equal(cl.n, 3);
    def = playbook_task_def_find(&set, TRIAGE_TYPE_EXT_LAW, &cl.t[0]);
    assert_non_null(def);
    assert_string_equal(def->collect, "server/memory");
    assert_int_equal(def->needs_evidence, 0);
    def = playbook_task_def_find(&set, TRIAGE_TYPE_EXT_LAW, &cl.t[1]);
    assert_non_null(def);
    assert_null(def->collect);
    assert_int_equal(def->needs_evidence, 1);
    def = playbook_task_def_find(&set, TRIAGE_TYPE_EXT_LAW, &cl.t[2]);
    assert_non_null(def);
    assert_null(def->collect);
    assert_int_equal(def->needs_evidence, 0);
    /* A task added by hand has no definition. */
    cl.t[2].added = 1;
    assert_null(playbook_task_def_find(&set, TRIAGE_TYPE_EXT_LAW, &cl.t[2]));
    playbook_checklist_done(&cl);
    playbook_set_done(&set);

    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        snprintf(text, sizeof(text),
                 "name: b\ntypes: [default]\nphases:\n  first_aid:\n"
                 "    - title: T\n      %s\n",
                 bad_keys[i]);
        playbook_set_init(&set);
        if (playbook_parse(&set, text, strlen(text), "b", &e) != -EINVAL)
            fail_msg("accepted: %s", bad_keys[i]);
        assert_int_equal(e.line, 6);
        playbook_set_done(&set);
    }
}

/* A task's NIST CSF function and deadline: parsed, carried into the
 * checklist with the due time counted from when the tasks are made, and
 * tasks appended by another source carry its mark. */
static void test_function_and_due(void **state)
{
    static const char text[] = "name: f\ntypes: [default]\nphases:\n  first_aid:\n"
                               "    - title: Tell the regulator\n"
                               "      function: respond\n      due: 72h\n"
                               "    - title: Check backups\n      function: recover\n"
                               "    - title: No function\n";
    struct playbook_set set;
    struct playbook_checklist cl;
    struct parse_err e;
    const struct playbook *pb;
    (void)state;

    playbook_set_init(&set);
    assert_int_equal(playbook_parse(&set, text, strlen(text), "f", &e), 0);
    pb = playbook_find(&set, TRIAGE_TYPE_DAMAGE);
    assert_non_null(pb);
    assert_int_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][0].function, CSF_RESPOND);
    assert_int_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][0].due_us, INT64_C(72) * 3600 * 1000000);
    assert_int_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][1].function, CSF_RECOVER);
    assert_int_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][1].due_us, 0);
    assert_int_equal(pb->tasks[INCIDENT_PHASE_FIRST_AID][2].function, CSF_NONE);

    playbook_checklist_init(&cl);
    assert_int_equal(playbook_tasks_for(&set, TRIAGE_TYPE_DAMAGE, INCIDENT_PHASE_FIRST_AID, T0, &cl),
                     3);
    assert_int_equal(cl.t[0].due_us, T0 + INT64_C(72) * 3600 * 1000000);
    assert_int_equal(cl.t[0].function, CSF_RESPOND);
    assert_null(cl.t[0].box);
    assert_int_equal(cl.t[1].due_us, 0);
    /* The same definitions appended by a procedure box, later. */
    assert_int_equal(playbook_tasks_append(&cl, INCIDENT_PHASE_EMERGENCY,
                                           pb->tasks[INCIDENT_PHASE_FIRST_AID], 2, T0 + 5,
                                           "B-Orange"),
                     2);
    assert_int_equal(cl.n, 5);
    assert_string_equal(cl.t[3].box, "B-Orange");
    assert_int_equal(cl.t[3].phase, INCIDENT_PHASE_EMERGENCY);
    assert_int_equal(cl.t[3].id, 4);
    assert_int_equal(cl.t[3].due_us, T0 + 5 + INT64_C(72) * 3600 * 1000000);
    assert_int_equal(cl.t[4].function, CSF_RECOVER);
    playbook_checklist_done(&cl);
    playbook_set_done(&set);

    assert_string_equal(csf_function_name(CSF_IDENTIFY), "identify");
    assert_string_equal(csf_function_name(CSF_NONE), "");
    assert_string_equal(csf_function_name((enum csf_function)99), "");
}

static void test_checklist(void **state)
{
    struct playbook_set set;
    struct playbook_checklist cl;
    char dir[1024], why[512];
    uint32_t id;
    int n;
    (void)state;

    shipped_dir(dir, sizeof(dir));
    playbook_set_init(&set);
    assert_int_equal(playbook_set_load_dir(&set, dir), 7);
    playbook_checklist_init(&cl);
    n = playbook_tasks_for(&set, TRIAGE_TYPE_DAMAGE, INCIDENT_PHASE_FIRST_AID, 0, &cl);
    assert_int_equal(n, 5);
    assert_int_equal(cl.t[0].id, 1);
    assert_int_equal(cl.t[0].phase, INCIDENT_PHASE_FIRST_AID);
    assert_string_equal(cl.t[0].owner, "responder");
    assert_false(cl.t[0].added);
    /* Three required tasks are open: the gate names them. */
    assert_int_equal(playbook_checklist_blocking(&cl, INCIDENT_PHASE_FIRST_AID, why, sizeof(why)),
                     3);
    assert_string_equal(why, "3 required tasks of first_aid are open: \"Isolate the affected "
                             "host\", \"Preserve evidence\", \"First report to the responsible "
                             "person\"");
    assert_int_equal(playbook_task_tick(&cl, 1, 1, "bob", T0), 0);
    assert_int_equal(playbook_task_tick(&cl, 2, 1, "bob", T0), 0);
    assert_int_equal(playbook_task_tick(&cl, 3, 1, "", T0), -EINVAL);
    assert_int_equal(playbook_task_tick(&cl, 99, 1, "bob", T0), -ENOENT);
    assert_int_equal(playbook_checklist_blocking(&cl, INCIDENT_PHASE_FIRST_AID, why, sizeof(why)),
                     1);
    assert_int_equal(playbook_task_tick(&cl, 3, 1, "carol", T0 + 1), 0);
    assert_int_equal(playbook_checklist_blocking(&cl, INCIDENT_PHASE_FIRST_AID, NULL, 0), 0);
    assert_string_equal(playbook_task_get(&cl, 3)->done_by, "carol");
    assert_int_equal(playbook_task_get(&cl, 3)->done_us, T0 + 1);
    assert_int_equal(playbook_task_tick(&cl, 3, 0, NULL, T0 + 2), 0);
    assert_false(playbook_task_get(&cl, 3)->done);
    assert_null(playbook_task_get(&cl, 3)->done_by);

    assert_int_equal(playbook_task_assign(&cl, 4, "dave"), 0);
    assert_string_equal(playbook_task_get(&cl, 4)->assignee, "dave");
    assert_int_equal(playbook_task_assign(&cl, 4, NULL), 0);
    assert_null(playbook_task_get(&cl, 4)->assignee);

    assert_int_equal(
        playbook_task_add(&cl, INCIDENT_PHASE_FIRST_AID, "Call the ISP", NULL, NULL, 1, &id), 0);
    assert_int_equal(id, 6);
    assert_true(playbook_task_get(&cl, id)->added);
    assert_int_equal(playbook_task_add(&cl, INCIDENT_PHASE_FIRST_AID, "", NULL, NULL, 0, &id),
                     -EINVAL);
    /* Entering emergency adds its tasks after the first aid ones. */
    assert_int_equal(playbook_tasks_for(&set, TRIAGE_TYPE_DAMAGE, INCIDENT_PHASE_EMERGENCY, 0, &cl),
                     8);
    assert_int_equal(cl.n, 14);
    /* A type served by the default playbook. */
    assert_int_equal(playbook_tasks_for(&set, TRIAGE_TYPE_EXT_VIRUS, INCIDENT_PHASE_FIRST_AID, 0, &cl),
                     1);
    /* No tasks for phases a playbook does not list. */
    assert_int_equal(playbook_tasks_for(&set, TRIAGE_TYPE_DAMAGE, INCIDENT_PHASE_CLOSED, 0, &cl), 0);
    playbook_checklist_done(&cl);
    playbook_set_done(&set);
}

/* Whether every '<' in Markdown text s has a backslash before it: no raw
 * HTML, no autolink. */
static int md_lt_escaped(const char *s)
{
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<'))
        if (p == s || p[-1] != '\\')
            return 0;
    return 1;
}

static void test_reports(void **state)
{
    static const char *const hostile = "<script>alert('x')</script> & \"co\"";
    struct incident inc;
    struct incident_change tl[2];
    struct playbook_checklist cl;
    struct report_input in;
    char why[256];
    (void)state;

    assert_int_equal(incident_init(&inc, 7, T0), 0);
    free(inc.title);
    inc.title = strdup(hostile);
    assert_non_null(inc.title);
    free(inc.summary);
    inc.summary = strdup("Failed password for invalid user webmaster from 173.234.31.186\n# not "
                         "a heading");
    assert_non_null(inc.summary);
    inc.type = TRIAGE_TYPE_INTRUDED;
    inc.category = ASSET_CAT_A;
    assert_int_equal(incident_add_entity(&inc, "173.234.31.186", INCIDENT_ENTITY_ADDRESS,
                                         INCIDENT_ROLE_ATTACKER, "triage", T0, NULL),
                     0);
    assert_int_equal(incident_add_stage(&inc, TRIAGE_STAGE_EXPLOITATION, "triage", T0, NULL), 0);
    assert_int_equal(incident_transition(&inc, INCIDENT_PHASE_FIRST_AID, "alice", "<b>go</b>", T0,
                                         &tl[0], why, sizeof(why)),
                     0);
    assert_int_equal(
        incident_set_level(&inc, TRIAGE_ORANGE, "alice", NULL, T0, &tl[1], why, sizeof(why)), 0);
    playbook_checklist_init(&cl);
    assert_int_equal(playbook_task_add(&cl, INCIDENT_PHASE_FIRST_AID, "Isolate <host>", NULL,
                                       "responder", 1, NULL),
                     0);
    memset(&in, 0, sizeof(in));
    in.inc = &inc;
    in.timeline = tl;
    in.ntimeline = 2;
    in.tasks = &cl;
    in.threats = "credential stuffing on sshd";
    in.evidence = hostile;
    in.scope = "one host: LabSZ";
    in.recommended_level = TRIAGE_RED;
    in.revised_level = -1;

    for (int k = 0; k < REPORT_KIND_COUNT; k++) {
        struct report r;
        assert_int_equal(report_generate(&in, (enum report_kind)k, 3, "alice <a@b>", T0, &r), 0);
        assert_int_equal(r.kind, k);
        assert_int_equal(r.version, 3);
        /* The incident's fields are there. */
        assert_non_null(strstr(r.html.data, "intruded, no damage yet"));
        assert_non_null(strstr(r.markdown.data, "intruded, no damage yet"));
        assert_non_null(strstr(r.html.data, "173.234.31.186"));
        /* Plain text stays plain: nothing there means anything to Markdown. */
        assert_non_null(strstr(r.markdown.data, "173.234.31.186"));
        assert_non_null(strstr(r.markdown.data, "first_aid"));
        assert_non_null(strstr(r.html.data, report_kind_name((enum report_kind)k)));
        /* No raw markup from any field, in either output. */
        assert_null(strstr(r.html.data, "<script"));
        assert_true(md_lt_escaped(r.markdown.data));
        assert_null(strstr(r.html.data, "<host>"));
        assert_null(strstr(r.html.data, "<a@b>"));
        assert_non_null(strstr(r.html.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                                            "&amp; &quot;co&quot;"));
        assert_non_null(strstr(r.markdown.data, "\\<script>alert('x')\\</script> & \"co\""));
        /* A line of the summary cannot start a Markdown heading. */
        assert_null(strstr(r.markdown.data, "\n# not"));
        assert_non_null(strstr(r.markdown.data, "\n\\# not a heading"));
        /* The task's check box is the report's own (a task list item). */
        assert_non_null(strstr(r.markdown.data, "- [ ] first_aid: Isolate \\<host>"));
        switch (k) {
        case REPORT_FIRST:
            assert_non_null(strstr(r.markdown.data, "## Possible level\n\nOrange"));
            assert_non_null(strstr(r.html.data, "credential stuffing on sshd"));
            break;
        case REPORT_INTERIM1:
            assert_non_null(strstr(r.markdown.data, "## Recommended level\n\nRed"));
            assert_non_null(strstr(r.html.data, "<h2>Evidence</h2>"));
            break;
        case REPORT_INTERIM2:
            assert_non_null(strstr(r.markdown.data, "## Revised level\n\nOrange"));
            assert_non_null(strstr(r.html.data, "one host: LabSZ"));
            break;
        case REPORT_FINAL:
            assert_non_null(strstr(r.html.data, "alice: phase new -&gt; first_aid because "
                                                "&lt;b&gt;go&lt;/b&gt;"));
            assert_non_null(strstr(r.html.data, "<h2>Lessons and follow-up</h2>"));
            break;
        }
        report_done(&r);
    }
    {
        struct report r;
        assert_int_equal(report_generate(&in, REPORT_FIRST, 1, "", T0, &r), -EINVAL);
        report_done(&r);
    }
    playbook_checklist_done(&cl);
    incident_done(&inc);
}

/* The Markdown escaper, case by case: what it leaves alone reads as plain
 * text, what it escapes would otherwise open a link, an image, HTML, code,
 * emphasis, a heading, a quote, a list, a rule, a fence or a table. */
static void test_md_escape(void **state)
{
    static const struct {
        const char *in;
        unsigned flags;
        const char *out;
    } cases[] = {
        {"source.ip=198.51.100.7 (port 4242)", 0, "source.ip=198.51.100.7 (port 4242)"},
        {"first_aid", 0, "first_aid"},
        {"don't + \"quote\" - ok! {x}", 0, "don't + \"quote\" - ok! {x}"},
        {"[click](http://evil.example/)", 0, "\\[click\\](http://evil.example/)"},
        {"![img](x)", 0, "!\\[img\\](x)"},
        {"[ref]: http://evil.example/", REPORT_MD_LINE_START, "\\[ref\\]: http://evil.example/"},
        {"<http://evil.example/>", 0, "\\<http://evil.example/>"},
        {"<script>alert(1)</script>", 0, "\\<script>alert(1)\\</script>"},
        {"<!-- c -->", REPORT_MD_LINE_START, "\\<!-- c -->"},
        {"`rm -rf /`", 0, "\\`rm -rf /\\`"},
        {"*bold* and _em_ and ~~gone~~", 0, "\\*bold\\* and \\_em\\_ and \\~\\~gone\\~\\~"},
        {"2 * 3 _ 4 ~ 5", 0, "2 * 3 _ 4 ~ 5"},
        {"a*b*c", 0, "a\\*b\\*c"},
        {"\xe2\x80\x9c_x_\xe2\x80\x9d", 0, "\xe2\x80\x9c\\_x\\_\xe2\x80\x9d"},
        {"a&b &amp; &#60; &#x3C;", 0, "a&b \\&amp; \\&#60; \\&#x3C;"},
        {"C:\\Windows\\System32", 0, "C:\\Windows\\System32"},
        {"a\\*b", 0, "a\\\\\\*b"},
        {"ends in \\", 0, "ends in \\\\"},
        {"# heading", REPORT_MD_LINE_START, "\\# heading"},
        {"# inline", 0, "# inline"},
        {"title ##", 0, "title \\#\\#"},
        {"issue #42", 0, "issue #42"},
        {"- item", REPORT_MD_LINE_START, "\\- item"},
        {"1.5 million", REPORT_MD_LINE_START, "1.5 million"},
        {"one\n- two\n> three\n1. four\n12) five\n===\n   ```sh\n***\n+ x\n|a|b|\n:-|-:",
         REPORT_MD_LINE_START | REPORT_MD_MULTILINE,
         "one  \n\\- two  \n\\> three  \n1\\. four  \n12\\) five  \n\\===  \n   "
         "\\`\\`\\`sh  \n\\*\\*\\*  \n\\+ x  \n\\|a|b|  \n\\:-|-:"},
        {"line\n# next", 0, "line # next"},
        {"a\001b\rc\td", 0, "a bc\td"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        int r;

        buf_init(&b, 4096);
        r = report_md_escape(&b, cases[i].in, strlen(cases[i].in), cases[i].flags);
        assert_int_equal(r, 0);
        if (strcmp(b.data, cases[i].out) != 0)
            fail_msg("case %zu: \"%s\" gave \"%s\", want \"%s\"", i, cases[i].in, b.data,
                     cases[i].out);
        buf_done(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_playbooks), cmocka_unit_test(test_malformed_playbooks),
        cmocka_unit_test(test_collect_tasks),     cmocka_unit_test(test_checklist),
        cmocka_unit_test(test_function_and_due),
        cmocka_unit_test(test_reports),           cmocka_unit_test(test_md_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
