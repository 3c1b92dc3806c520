/*
 * test_evidence_plan.c - collection plans (evidence_plan.c): the shipped
 * plans of playbooks/collection load, each takes volatile data first and
 * names its kinds; malformed plans are refused with the line and a
 * sentence naming the step and the reason; a directory with a class given
 * twice is refused naming both files.  Run with cwd = source root
 * (HIKESHI_SOURCE).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "evidence/evidence_plan.h"

static void shipped_dir(char *out, size_t size)
{
    const char *src = getenv("HIKESHI_SOURCE");

    snprintf(out, size, "%s/playbooks/collection", src ? src : ".");
}

static void test_shipped_plans(void **state)
{
    static const char *const classes[] = {"cloud", "network-device", "server", "workstation"};
    struct evidence_plan_set s;
    char dir[4096], err[1024];
    const struct evidence_plan *p;
    const struct evidence_plan_step *st;

    (void)state;
    shipped_dir(dir, sizeof(dir));
    assert_int_equal(evidence_plan_load_dir(dir, &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(s.v[i].name, classes[i]);
        /* Volatile data first, in every shipped plan. */
        assert_int_equal(s.v[i].steps[0].order, EVIDENCE_PLAN_VOLATILE);
        for (size_t j = 1; j < s.v[i].nsteps; j++)
            assert_true(s.v[i].steps[j].order >= s.v[i].steps[j - 1].order);
    }
    p = evidence_plan_find(&s, "server");
    assert_non_null(p);
    assert_string_equal(p->steps[0].id, "memory");
    assert_string_equal(p->steps[0].kind, "memory-dump");
    st = evidence_plan_find_ref(&s, "server/disk", &p);
    assert_non_null(st);
    assert_string_equal(st->kind, "disk-image");
    assert_int_equal(st->order, EVIDENCE_PLAN_DISK);
    assert_null(evidence_plan_find_ref(&s, "server/nothing", NULL));
    assert_null(evidence_plan_find_ref(&s, "mainframe/memory", NULL));
    assert_null(evidence_plan_find_ref(&s, "server", NULL));
    evidence_plan_set_done(&s);
}

struct bad {
    const char *yaml;
    unsigned line;
    const char *msg; /* a substring of the message */
};

static void test_malformed_plans(void **state)
{
    static const struct bad bad[] = {
        {"", 1, "empty plan"},
        {"plan: server\n", 1, "needs steps"},
        {"steps:\n  - {id: a, what: b, order: logs, kind: other}\n", 1, "needs plan"},
        {"plan: Server\nsteps: []\n", 1, "a-z"},
        {"plan: s\nsteps: []\n", 2, "at least one step"},
        {"plan: s\nsteps: {a: 1}\n", 2, "list of steps"},
        {"plan: s\ncolour: red\nsteps: []\n", 2, "unknown key"},
        {"plan: s\nsteps:\n  - {id: a, what: b, order: logs, kind: other, owner: x}\n", 3,
         "unknown step key"},
        {"plan: s\nsteps:\n  - {what: b, order: logs, kind: other}\n", 3, "needs an id"},
        {"plan: s\nsteps:\n  - {id: a, order: logs, kind: other}\n", 3, "step a needs what"},
        {"plan: s\nsteps:\n  - {id: a, what: b, kind: other}\n", 3, "step a needs order"},
        {"plan: s\nsteps:\n  - {id: a, what: b, order: logs}\n", 3, "step a needs kind"},
        {"plan: s\nsteps:\n  - {id: a, what: b, order: later, kind: other}\n", 3,
         "volatile, disk or logs"},
        {"plan: s\nsteps:\n  - {id: a, what: b, order: logs, kind: attestation}\n", 3,
         "disk-image, memory-dump"},
        {"plan: s\nsteps:\n  - {id: A B, what: b, order: logs, kind: other}\n", 3, "a-z"},
        {"plan: s\nsteps:\n  - {id: a, what: b, order: disk, kind: other}\n"
         "  - {id: a, what: c, order: disk, kind: other}\n",
         4, "step a is given twice"},
        {"plan: s\nsteps:\n  - {id: disk, what: b, order: disk, kind: disk-image}\n"
         "  - {id: mem, what: c, order: volatile, kind: memory-dump}\n",
         4, "step mem (volatile) comes after step disk (disk): collect volatile data first"},
        {"plan: s\nsteps:\n  - [a, b]\n", 3, "a step is a mapping"},
        {"plan: s\nsteps: [\n", 0, ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct evidence_plan p;
        struct parse_err e;
        int r = evidence_plan_parse(bad[i].yaml, strlen(bad[i].yaml), "t.yaml", &p, &e);

        if (r != -EINVAL || !e.msg || !strstr(e.msg, bad[i].msg) ||
            (bad[i].line && e.line != bad[i].line))
            fail_msg("case %zu: r %d, line %u, msg '%s'", i, r, e.line, e.msg ? e.msg : "");
        evidence_plan_done(&p);
    }
}

static void test_dir_twice(void **state)
{
    char dir[] = "/tmp/test_evidence_plan_XXXXXX", path[256], err[1024];
    struct evidence_plan_set s;
    const char *plan = "plan: server\nsteps:\n  - {id: a, what: b, order: logs, kind: other}\n";

    (void)state;
    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 2; i++) {
        FILE *f;

        snprintf(path, sizeof(path), "%s/%c.yaml", dir, 'a' + i);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(plan, f);
        fclose(f);
    }
    assert_int_equal(evidence_plan_load_dir(dir, &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.yaml: plan server is also given by"));
    assert_non_null(strstr(err, "a.yaml"));
    assert_int_equal(s.n, 0);
    snprintf(path, sizeof(path), "%s/b.yaml", dir);
    {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs("plan: cloud\nsteps:\n  - {id: a, what: b, order: disks, kind: other}\n", f);
        fclose(f);
    }
    assert_int_equal(evidence_plan_load_dir(dir, &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.yaml:3:"));
    assert_non_null(strstr(err, "volatile, disk or logs"));
    unlink(path);
    snprintf(path, sizeof(path), "%s/a.yaml", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_plans),
        cmocka_unit_test(test_malformed_plans),
        cmocka_unit_test(test_dir_twice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
