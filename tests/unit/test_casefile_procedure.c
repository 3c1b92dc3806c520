/*
 * test_casefile_procedure.c - a procedure box on the case file (issue
 * 25), what the end-to-end test cannot reach with the shipped boxes: a
 * draft whose fields are marked above the box's TLP leaves them out (and
 * says so on the timeline and in the audit log), a draft left with none
 * is not made (and says so), the run itself stands either way; a declared
 * box reaches only the open incidents of its category, once.
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
#include <sodium.h>

#include "incident/audit.h"
#include "incident/casefile.h"
#include "incident/casefile_procedure.h"
#include "incident/message_case.h"
#include "store/store.h"
#include "store/store_message.h"
#include "util/readfile.h"

#define T0 INT64_C(1795458000000000)

/* B-Orange tells the press the title (TLP:GREEN by default: above the
 * box's TLP:CLEAR, left out) and the type; B-Red only the title (so no
 * field is left: no draft). */
static const char boxes[] = "B-Orange:\n"
                            "  tasks:\n"
                            "    - {title: look, function: detect, due: 1h}\n"
                            "    - {title: shield, function: protect}\n"
                            "  inform:\n"
                            "    - {party: press, tlp: TLP:CLEAR, disclose: [title, type]}\n"
                            "B-Red:\n"
                            "  tasks:\n"
                            "    - {title: act, function: respond}\n"
                            "  inform:\n"
                            "    - {party: press, tlp: TLP:CLEAR, disclose: [title]}\n";

struct fix {
    char dir[64], audit_path[96];
    struct store *st;
    struct audit *audit;
    struct playbook_set pb;
    struct procedure_set ps;
    struct incident_targets targets;
    struct casefile cf;
    struct casefile_err err;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct audit_result ar;
    struct parse_err pe;
    char *err = NULL;

    assert_non_null(f);
    assert_true(sodium_init() >= 0);
    snprintf(f->dir, sizeof(f->dir), "/tmp/hikeshi-test-cfproc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    assert_int_equal(audit_open(f->audit_path, &f->audit, &ar), 0);
    playbook_set_init(&f->pb);
    procedure_set_init(&f->ps);
    assert_int_equal(procedure_set_parse(&f->ps, boxes, strlen(boxes), "t", &pe), 0);
    casefile_procedure_configure(&f->ps);
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

    casefile_procedure_configure(NULL);
    procedure_set_done(&f->ps);
    playbook_set_done(&f->pb);
    audit_free(f->audit);
    store_free(f->st);
    nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int64_t open_incident(struct fix *f, const char *cat, const char *level)
{
    char body[200];
    int64_t id = 0;

    snprintf(body, sizeof(body), "{\"title\":\"portal\",\"category\":\"%s\",\"level\":\"%s\"}", cat,
             level);
    assert_int_equal(casefile_create(&f->cf, "ana", body, strlen(body), T0, &id, &f->err), 0);
    return id;
}

/* The JSON a store list function appends, NUL-terminated, in *b. */
static const char *list(struct buf *b, int (*fn)(struct store *, int64_t, struct buf *, size_t *),
                        struct fix *f, int64_t id, size_t *n)
{
    buf_reset(b);
    assert_int_equal(fn(f->st, id, b, n), 0);
    assert_int_equal(buf_putc(b, '\0'), 0);
    return b->data;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;

    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static char *audit_text(struct fix *f)
{
    char *text = NULL;
    size_t len;

    assert_int_equal(readfile_all(f->audit_path, 1 << 24, &text, &len), 0);
    return text;
}

static void test_withheld_and_refused(void **state)
{
    struct fix *f = *state;
    struct buf b;
    int64_t id = open_incident(f, "B", "Green");
    size_t n;
    int ran = 0;
    char *audit;

    buf_init(&b, 1 << 20);
    /* B-Green is not defined: nothing runs. */
    assert_int_equal(casefile_procedure_current(&f->cf, id, "ana", T0, &ran, &f->err), 0);
    assert_int_equal(ran, 0);
    assert_int_equal(
        casefile_procedure_declared(&f->cf, ASSET_CAT_B, TRIAGE_ORANGE, "lee", T0 + 1, &n, &f->err),
        0);
    assert_int_equal(n, 1);
    list(&b, store_messages_json, f, id, &n);
    assert_int_equal(n, 1);
    /* The title (TLP:GREEN) stayed out; the type (TLP:CLEAR) went in. */
    assert_non_null(strstr(b.data, "\"fields\":[\"type\"]"));
    assert_non_null(strstr(b.data, "\"kind\":\"procedure\""));
    assert_non_null(strstr(b.data, "\"channel\":\"export\""));
    assert_non_null(strstr(b.data, "\"state\":\"draft\""));
    list(&b, store_timeline_json, f, id, &n);
    assert_non_null(strstr(b.data, "B-Orange (declared): 2 tasks, 1 message to draft"));
    assert_non_null(strstr(b.data, "leaves out title (marked above TLP:CLEAR)"));
    list(&b, store_tasks_json, f, id, &n);
    assert_int_equal(count(b.data, "\"box\":\"B-Orange\""), 2);
    assert_non_null(strstr(b.data, "\"function\":\"detect\""));

    /* Red by its own level: the press would get nothing, so no draft. */
    {
        const char *patch = "{\"level\":\"Red\",\"version\":1}";
        assert_int_equal(casefile_update(&f->cf, id, "lee", patch, strlen(patch), T0 + 2, &f->err),
                         0);
    }
    assert_int_equal(casefile_procedure_current(&f->cf, id, "lee", T0 + 3, &ran, &f->err), 0);
    assert_int_equal(ran, 1);
    list(&b, store_messages_json, f, id, &n);
    assert_int_equal(n, 1);
    list(&b, store_timeline_json, f, id, &n);
    assert_non_null(strstr(b.data, "B-Red: no draft to press: every field the procedure names is "
                                   "marked above TLP:CLEAR"));
    list(&b, store_tasks_json, f, id, &n);
    assert_int_equal(count(b.data, "\"box\":\"B-Red\""), 1);
    audit = audit_text(f);
    assert_int_equal(count(audit, "\"procedure.run\""), 2);
    assert_int_equal(count(audit, "\"procedure.draft_withheld\""), 1);
    assert_int_equal(count(audit, "\"procedure.draft_refused\""), 1);
    free(audit);
    buf_done(&b);
}

static void test_declared_reach(void **state)
{
    struct fix *f = *state;
    struct buf b;
    int64_t b1 = open_incident(f, "B", "Green"), b2 = open_incident(f, "B", "Yellow");
    int64_t a1 = open_incident(f, "A", "Green"), closed = open_incident(f, "B", "Green");
    const char *close = "{\"phase\":\"closed\",\"reason\":\"false positive\",\"version\":1}";
    size_t n;

    buf_init(&b, 1 << 20);
    assert_int_equal(casefile_update(&f->cf, closed, "lee", close, strlen(close), T0, &f->err), 0);
    assert_int_equal(
        casefile_procedure_declared(&f->cf, ASSET_CAT_B, TRIAGE_ORANGE, "lee", T0 + 1, &n, &f->err),
        0);
    assert_int_equal(n, 2);
    assert_int_equal(
        casefile_procedure_declared(&f->cf, ASSET_CAT_B, TRIAGE_ORANGE, "lee", T0 + 2, &n, &f->err),
        0);
    assert_int_equal(n, 0);
    for (int i = 0; i < 4; i++) {
        int64_t id = (int64_t[]){b1, b2, a1, closed}[i];

        buf_reset(&b);
        assert_int_equal(casefile_procedure_runs_json(&f->cf, id, &b, &f->err), 0);
        assert_int_equal(buf_putc(&b, '\0'), 0);
        assert_int_equal(count(b.data, "\"box\":\"B-Orange\""), i < 2 ? 1 : 0);
    }
    buf_reset(&b);
    assert_int_equal(casefile_procedure_runs_json(&f->cf, 999, &b, &f->err), -ENOENT);
    buf_done(&b);
}

/* What nobody asked for (issue 25): casefile_procedure_due runs an open
 * incident's own box and its category's declared one, once each, leaving
 * alone incidents and declarations newer than quiet_us. */
static void test_due(void **state)
{
    struct fix *f = *state;
    struct buf b;
    int64_t b1 = open_incident(f, "B", "Red"), a1 = open_incident(f, "A", "Red");
    size_t n = 9;

    buf_init(&b, 1 << 20);
    /* Created at T0: too new for a quiet limit before it. */
    assert_int_equal(casefile_procedure_due(&f->cf, 0, "hikeshi", T0 + 2, T0 - 1, &n, &f->err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_declare_add(f->st, "B", "Orange", "lee", "partner report", T0 + 1), 0);
    /* Its own box B-Red; the declaration (T0 + 1) is still too new. */
    assert_int_equal(casefile_procedure_due(&f->cf, 0, "hikeshi", T0 + 2, T0, &n, &f->err), 0);
    assert_int_equal(n, 1);
    /* That run is on its timeline at T0 + 2: the incident is quiet again
     * from then; the declared B-Orange follows. */
    assert_int_equal(casefile_procedure_due(&f->cf, 0, "hikeshi", T0 + 3, T0 + 1, &n, &f->err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(casefile_procedure_due(&f->cf, 0, "hikeshi", T0 + 3, T0 + 2, &n, &f->err), 0);
    assert_int_equal(n, 1);
    /* Nothing twice; A's boxes are not defined. */
    assert_int_equal(casefile_procedure_due(&f->cf, 0, "hikeshi", T0 + 4, 0, &n, &f->err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(casefile_procedure_runs_json(&f->cf, b1, &b, &f->err), 0);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_int_equal(count(b.data, "\"box\":\"B-Red\""), 1);
    assert_int_equal(count(b.data, "\"box\":\"B-Orange\""), 1);
    assert_int_equal(count(b.data, "\"who\":\"hikeshi\""), 2);
    buf_reset(&b);
    assert_int_equal(casefile_procedure_runs_json(&f->cf, a1, &b, &f->err), 0);
    assert_int_equal(buf_putc(&b, '\0'), 0);
    assert_string_equal(b.data, "[]");
    buf_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_withheld_and_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_reach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
