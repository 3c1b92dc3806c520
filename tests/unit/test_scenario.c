/*
 * test_scenario.c - tabletop scenarios (src/exercise/scenario.c): the
 * shipped scenarios load; a malformed scenario is refused at the line and
 * column of what is wrong, with a message saying why; templates expand
 * every placeholder exactly; the send schedule interleaves repeats of
 * several templates in time order.  Run with cwd = source root
 * (HIKESHI_SOURCE).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exercise/scenario.h"
#include "triage/triage.h"
#include "util/buf.h"

#define S(x) ((int64_t)(x)*1000000)

static void test_shipped(void **state)
{
    const char *src = getenv("HIKESHI_SOURCE");
    char dir[1024], path[2048], msg[512];
    struct scenario *s;
    struct parse_err e;
    struct dirent *de;
    DIR *dp;
    int n = 0;
    (void)state;

    snprintf(dir, sizeof(dir), "%s/scenarios", src ? src : ".");
    assert_non_null(dp = opendir(dir));
    while ((de = readdir(dp)) != NULL) {
        size_t len = strlen(de->d_name);

        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (scenario_load(path, &s, &e) != 0) {
            scenario_err_format(msg, sizeof(msg), path, &e);
            fail_msg("%s", msg);
        }
        assert_true(s->total_records > 0 || s->nmessages > 0);
        scenario_free(s);
        n++;
    }
    closedir(dp);
    assert_true(n >= 1);
}

static void test_tiny(void **state)
{
    const char *src = getenv("HIKESHI_SOURCE");
    char path[1024];
    struct scenario *s;
    struct parse_err e;
    (void)state;

    snprintf(path, sizeof(path), "%s/scenarios/tiny.yaml", src ? src : ".");
    assert_int_equal(scenario_load(path, &s, &e), 0);
    assert_string_equal(s->name, "tiny");
    assert_int_equal(s->first_aid_us, S(1800));
    assert_int_equal(s->emergency_us, S(2 * 86400));
    assert_int_equal(s->nstages, 2);
    assert_int_equal(s->stages[1].at_us, S(30));
    assert_int_equal(s->stages[1].kill_chain, TRIAGE_STAGE_INSTALLATION);
    assert_int_equal(s->nrecords, 2);
    assert_int_equal(s->total_records, 13);
    /* The accepted login is the stage's at plus its own. */
    assert_int_equal(s->records[1].at_us, S(30));
    assert_int_equal(s->records[0].repeat, 12);
    assert_int_equal(s->records[0].every_us, S(2));
    assert_int_equal(s->nmessages, 1);
    assert_int_equal(s->messages[0].at_us, S(40));
    assert_non_null(strstr(s->messages[0].text, "root on www1 and"));
    assert_int_equal(s->ndetections, 3);
    assert_int_equal(s->detections[2].kind, SCENARIO_DET_INCIDENT);
    assert_int_equal(s->detections[2].code, TRIAGE_TYPE_INTRUDED);
    assert_string_equal(s->detections[2].value, "intruded, no damage yet");
    assert_int_equal(s->ndecisions, 5);
    assert_int_equal(s->decisions[0].kind, SCENARIO_DEC_DECLARE);
    assert_int_equal(s->decisions[0].level, TRIAGE_ORANGE);
    assert_string_equal(s->decisions[0].category, "A");
    assert_int_equal(s->decisions[1].kind, SCENARIO_DEC_ISOLATE);
    assert_string_equal(s->decisions[1].target, "www1");
    assert_int_equal(s->decisions[3].kind, SCENARIO_DEC_REPORT);
    assert_string_equal(s->decisions[3].target, "first");
    assert_int_equal(s->decisions[4].kind, SCENARIO_DEC_WITHHOLD);
    assert_string_equal(s->decisions[4].target, "press");
    assert_int_equal(s->decisions[4].within_us, 0); /* the whole run */
    assert_int_equal(s->end_us, S(40));
    scenario_free(s);
}

static const char base[] = "scenario: t\n"
                           "title: T\n"
                           "vars:\n"
                           "  host: web1\n"
                           "  ip: 198.51.100.7\n"
                           "stages:\n"
                           "  - name: one\n"
                           "    at: 10s\n"
                           "    records:\n";

/* Parses base + tail; returns the error (0 when it parsed). */
static int parse_tail(const char *tail, struct parse_err *e, struct scenario **ret)
{
    char text[4096];
    struct scenario *s = NULL;
    int r;

    snprintf(text, sizeof(text), "%s%s", base, tail);
    r = scenario_parse(text, strlen(text), "t.yaml", &s, e);
    if (ret)
        *ret = s;
    else
        scenario_free(s);
    return r;
}

struct bad {
    const char *tail;
    unsigned line; /* of the error */
    const char *says;
};

static void test_errors(void **state)
{
    static const struct bad bad[] = {
        /* line 10 is the record's first line */
        {"      - at: 0s\n        format: syslog\n        text: \"<38>${nope}\"\n", 10,
         "unknown placeholder"},
        {"      - at: 0s\n        format: syslog\n        text: \"<38>${host\"\n", 10,
         "placeholder is ${name}"},
        {"      - at: 0s\n        format: syslog\n        text: \"no pri ${host}\"\n", 10,
         "starts with its <PRI>"},
        {"      - at: 0s\n        format: eve\n        text: '{\"a\": ${ip}}'\n", 10,
         "one JSON object"},
        {"      - at: 0s\n        format: web\n        text: '{\"a\": 1}'\n", 10,
         "access log line"},
        {"      - at: 0s\n        format: syslog\n        repeat: 3\n        text: \"<1>x\"\n", 10,
         "needs every"},
        {"      - at: 0s\n        format: syslog\n        text: \"<1>x\"\n        colour: red\n",
         13, "unknown key"},
        {"      - at: 0s\n        format: json\n        text: \"<1>x\"\n", 11,
         "expected syslog, eve, web or winevent"},
        {"      - at: soon\n        format: syslog\n        text: \"<1>x\"\n", 10,
         "expected a time"},
        {"      - at: 31d\n        format: syslog\n        text: \"<1>x\"\n", 10, "30 days"},
        {"      - format: syslog\n        text: \"<1>x\"\n  - name: one\n    records: []\n", 12,
         "two stages are named one"},
        {"      - format: syslog\n        text: \"<1>x\"\n    kill_chain: lunch\n", 12,
         "not a kill-chain stage"},
        {"      - format: syslog\n        text: \"<1>x\"\nexpect:\n  decisions:\n"
         "    - declare: orange\n      within: 30m\n",
         14, "declare needs a category"},
        {"      - format: syslog\n        text: \"<1>x\"\nexpect:\n  decisions:\n"
         "    - isolate: ${host}\n      notify: police\n      within: 30m\n",
         14, "exactly one of"},
        {"      - format: syslog\n        text: \"<1>x\"\nexpect:\n  decisions:\n"
         "    - report: first\n",
         14, "needs a deadline"},
        {"      - format: syslog\n        text: \"<1>x\"\nexpect:\n  decisions:\n"
         "    - declare: purple\n      category: A\n      within: 1h\n",
         14, "green, yellow, orange or red"},
        {"      - format: syslog\n        text: \"<1>x\"\nexpect:\n  decisions:\n"
         "    - withhold: press\n      within: 1h\n",
         14, "withhold takes until"},
        {"      - format: syslog\n        text: \"<1>x\"\nexpect:\n  decisions:\n"
         "    - notify: press\n      until: 1h\n",
         14, "until goes with withhold only"},
        {"      - format: syslog\n        text: \"<1>x\"\nexpect:\n  detections:\n"
         "    - incident: alien invasion\n",
         14, "not an incident type"},
        {"      - format: syslog\n        text: \"<1>x\"\n        repeat: 10001\n        every: "
         "1s\n",
         12, "10000"},
    };
    char msg[512];
    struct parse_err e;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = parse_tail(bad[i].tail, &e, NULL);

        scenario_err_format(msg, sizeof(msg), "t.yaml", &e);
        if (r != -EINVAL || !e.msg || !strstr(e.msg, bad[i].says) || e.line != bad[i].line)
            fail_msg("case %zu: r=%d, got \"%s\", wanted line %u saying \"%s\"", i, r, msg,
                     bad[i].line, bad[i].says);
    }
}

static void test_top_errors(void **state)
{
    struct scenario *s;
    struct parse_err e;
    const char *t1 = "title: no name\nstages: []\n";
    const char *t2 = "scenario: x\ntitle: y\nstages:\n  - name: a\n";
    const char *t3 = "scenario: x\ntitle: y\nvars:\n  ts: 1\nstages:\n  - name: a\n";
    const char *t4 = "scenario: Bad Name\ntitle: y\n";
    (void)state;

    assert_int_equal(scenario_parse(t1, strlen(t1), "f", &s, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "a name is required"));
    assert_int_equal(scenario_parse(t2, strlen(t2), "f", &s, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "injects nothing"));
    assert_int_equal(scenario_parse(t3, strlen(t3), "f", &s, &e), -EINVAL);
    assert_int_equal(e.line, 4);
    assert_non_null(strstr(e.msg, "placeholders of their own"));
    assert_int_equal(scenario_parse(t4, strlen(t4), "f", &s, &e), -EINVAL);
    assert_int_equal(e.line, 1);
    assert_null(s);
    assert_int_equal(scenario_parse("", 0, "f", &s, &e), -EINVAL);
    assert_int_equal(scenario_parse("a: [", 4, "f", &s, &e), -EINVAL);
}

static void test_expand(void **state)
{
    struct scenario *s;
    struct parse_err e;
    struct buf b;
    const char *why;
    /* 2026-12-07 06:05:09.000042 UTC */
    struct scenario_clock clk = {S(1796623509) + 42, 7, "r-1"};
    (void)state;

    assert_int_equal(parse_tail("      - format: syslog\n        text: \"<1>x\"\n", &e, &s), 0);
    buf_init(&b, 1 << 16);
    assert_int_equal(scenario_expand(s, "${ts}|${iso}|${clf}|${epoch}|${n}|${run}|${host}/${ip}$x{",
                                     &clk, &b, &why),
                     0);
    assert_string_equal(b.data, "Dec  7 06:05:09|2026-12-07T06:05:09.000042Z|"
                                "07/Dec/2026:06:05:09 +0000|1796623509|7|r-1|web1/198.51.100.7$x{");
    buf_reset(&b);
    assert_int_equal(scenario_expand(s, "a ${host", &clk, &b, &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(b.len, 0);
    assert_int_equal(scenario_expand(s, "${HOST}", &clk, &b, &why), -EINVAL);
    buf_done(&b);
    scenario_free(s);
}

static void test_sched(void **state)
{
    struct scenario *s;
    struct scenario_send *v;
    struct parse_err e;
    size_t n;
    (void)state;

    /* Stage at 10s: A at 10, 13, 16; B at 11, 13 (B's second ties A's). */
    assert_int_equal(parse_tail("      - format: syslog\n        text: \"<1>a\"\n"
                                "        repeat: 3\n        every: 3s\n"
                                "      - at: 1s\n        format: syslog\n        text: \"<1>b\"\n"
                                "        repeat: 2\n        every: 2s\n",
                                &e, &s),
                     0);
    assert_int_equal(scenario_sched(s, &v, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(v[0].at_us, S(10));
    assert_int_equal(v[1].at_us, S(11));
    assert_int_equal(v[2].at_us, S(13));
    assert_int_equal(v[3].at_us, S(13));
    assert_true(v[2].rec < v[3].rec);
    assert_int_equal(v[4].at_us, S(16));
    assert_int_equal(v[4].n, 3);
    assert_string_equal(s->records[v[1].rec].text, "<1>b");
    assert_int_equal(s->end_us, S(16));
    free(v);
    scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped), cmocka_unit_test(test_tiny),
        cmocka_unit_test(test_errors),  cmocka_unit_test(test_top_errors),
        cmocka_unit_test(test_expand),  cmocka_unit_test(test_sched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
