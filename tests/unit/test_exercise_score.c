/*
 * test_exercise_score.c - the scoring of a tabletop exercise run
 * (src/exercise/exercise_score.c, issue 22): wall-clock facts turned into
 * scenario time by the run's speed, each expectation on time, late or
 * missed, which facts count for a decision and which do not (an automatic
 * level change, another category, a note that isolates nothing), first aid
 * against its target, and the summary kept for the trend read back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exercise/exercise_score.h"
#include "exercise/scenario.h"
#include "util/buf.h"

#define S INT64_C(1000000)
#define START (INT64_C(1796600000) * S)

static const char scen_text[] = "scenario: unit\n"
                                "title: scoring\n"
                                "targets:\n"
                                "  first_aid: 30m\n"
                                "stages:\n"
                                "  - name: one\n"
                                "    at: 0s\n"
                                "    records:\n"
                                "      - at: 0s\n"
                                "        format: syslog\n"
                                "        text: \"<38>${ts} h sshd[1]: x\"\n"
                                "    messages:\n"
                                "      - at: 5s\n"
                                "        from: the owner\n"
                                "        channel: phone\n"
                                "        text: is it down?\n"
                                "expect:\n"
                                "  detections:\n"
                                "    - rule: fast_rule\n"
                                "      within: 3m\n"
                                "    - rule: slow_rule\n"
                                "      within: 5m\n"
                                "    - rule: never_rule\n"
                                "      within: 5m\n"
                                "  decisions:\n"
                                "    - declare: orange\n"
                                "      category: A\n"
                                "      within: 30m\n"
                                "    - isolate: www1\n"
                                "      within: 30m\n"
                                "    - notify: regulator\n"
                                "      within: 1h\n"
                                "    - withhold: press\n"
                                "      until: 2h\n";

static struct scenario *load(void)
{
    struct scenario *s = NULL;
    struct parse_err e;

    assert_int_equal(scenario_parse(scen_text, strlen(scen_text), "unit.yaml", &s, &e), 0);
    return s;
}

/* A fact at scenario time `scen_s` of a run at `speed`. */
static struct exercise_fact fact(const char *kind, double scen_s, double speed, int64_t inc,
                                 char *a, char *b, char *c)
{
    struct exercise_fact f;

    memset(&f, 0, sizeof(f));
    strncpy(f.kind, kind, sizeof(f.kind) - 1);
    f.time_us = START + (int64_t)(scen_s * (double)S / speed);
    f.incident_id = inc;
    f.a = a; /* borrowed: never freed by these tests */
    f.b = b;
    f.c = c;
    return f;
}

static const struct exercise_item *find(const struct exercise_score *sc, const char *label)
{
    for (size_t i = 0; i < sc->ndet; i++)
        if (strcmp(sc->det[i].label, label) == 0)
            return &sc->det[i];
    for (size_t i = 0; i < sc->ndec; i++)
        if (strcmp(sc->dec[i].label, label) == 0)
            return &sc->dec[i];
    fail_msg("no item %s", label);
    /* not reached: cmocka's _fail() jumps out, but it is not declared
     * noreturn, and gcc -O3 would see a NULL to dereference */
    abort();
}

/* At speed 60 an alert 4 wall seconds in is 4 scenario minutes in: late
 * for a 3-minute deadline, on time for a 5-minute one. */
static void test_speed_and_deadlines(void **state)
{
    struct scenario *s = load();
    struct exercise_fact f[] = {
        fact("alert", 60, 60, 0, "fast_rule", NULL, NULL),
        fact("alert", 240, 60, 0, "fast_rule", NULL, NULL), /* a later one changes nothing */
        fact("alert", 240, 60, 0, "slow_rule", NULL, NULL),
        fact("alert", 240, 60, 0, "other", "never_rule_not", NULL),
    };
    struct exercise_score sc;

    (void)state;
    assert_int_equal(exercise_score(s, 1, START, 60, NULL, f, 4, &sc), 0);
    assert_int_equal(find(&sc, "rule fast_rule")->status, EXERCISE_OK);
    assert_int_equal(find(&sc, "rule fast_rule")->at_us, 60 * S);
    assert_int_equal(find(&sc, "rule slow_rule")->status, EXERCISE_OK);
    assert_int_equal(find(&sc, "rule slow_rule")->at_us, 240 * S);
    assert_int_equal(find(&sc, "rule never_rule")->status, EXERCISE_MISSED);
    assert_int_equal(find(&sc, "rule never_rule")->at_us, -1);
    exercise_score_done(&sc);

    /* at speed 1, alerts at 200 s and 360 s of scenario time: both late */
    f[2] = fact("alert", 360, 1, 0, "slow_rule", NULL, NULL);
    f[0] = fact("alert", 200, 1, 0, "fast_rule", NULL, NULL);
    f[1] = fact("alert", 400, 1, 0, "fast_rule", NULL, NULL);
    assert_int_equal(exercise_score(s, 1, START, 1, NULL, f, 4, &sc), 0);
    assert_int_equal(find(&sc, "rule fast_rule")->status, EXERCISE_LATE);
    assert_int_equal(find(&sc, "rule slow_rule")->status, EXERCISE_LATE);
    /* decisions, first aid and the first report missed; nothing went to the
     * press */
    assert_int_equal(sc.points, 1 + 1 + 2);
    assert_int_equal(sc.max_points, 2 * 7 + 2 + 2);
    exercise_score_done(&sc);
    scenario_free(s);
}

/* Which facts count for a decision. */
static void test_decisions(void **state)
{
    struct scenario *s = load();
    struct exercise_fact f[] = {
        fact("incident", 30, 1, 7, "intruded, no damage yet", "[]", "A"),
        fact("incident", 30, 1, 8, "probe or attack without damage", "[]", "B"),
        /* triage raising the level is not the team's decision */
        fact("timeline", 40, 1, 7, "level", "Red", "hikeshi"),
        /* the right level on the wrong category */
        fact("timeline", 50, 1, 8, "level", "Orange", "alice"),
        /* too low */
        fact("timeline", 60, 1, 7, "level", "Yellow", "alice"),
        /* a note naming the host but isolating nothing */
        fact("note", 70, 1, 7, "www1 looks busy", NULL, NULL),
        fact("note", 900, 1, 7, "WWW1 Isolated from the LAN", NULL, NULL),
        fact("timeline", 2400, 1, 7, "level", "Red", "bob"), /* late: 40m > 30m */
        /* a communication to someone else */
        fact("comm", 100, 1, 7, "press", "statement", "mail"),
    };
    struct exercise_score sc;

    (void)state;
    assert_int_equal(exercise_score(s, 2, START, 1, NULL, f, sizeof(f) / sizeof(f[0]), &sc), 0);
    assert_int_equal(find(&sc, "declare Orange for category A")->status, EXERCISE_LATE);
    assert_int_equal(find(&sc, "declare Orange for category A")->at_us, 2400 * S);
    assert_int_equal(find(&sc, "isolate www1")->status, EXERCISE_OK);
    assert_int_equal(find(&sc, "isolate www1")->at_us, 900 * S);
    assert_int_equal(find(&sc, "notify regulator")->status, EXERCISE_MISSED);
    /* the press was told inside its embargo */
    assert_int_equal(find(&sc, "withhold from press until 2h00m")->status, EXERCISE_WRONG);
    assert_int_equal(find(&sc, "withhold from press until 2h00m")->at_us, 100 * S);
    assert_int_equal(sc.nwrong, 1);
    assert_int_equal(sc.nincidents, 2);
    assert_int_equal(sc.m.first_incident, 30 * S);
    exercise_score_done(&sc);

    /* a declaration of the organisation's level counts too */
    f[8] = fact("declare", 600, 1, 0, "A", "Orange", NULL);
    assert_int_equal(exercise_score(s, 2, START, 1, NULL, f, sizeof(f) / sizeof(f[0]), &sc), 0);
    assert_int_equal(find(&sc, "declare Orange for category A")->status, EXERCISE_OK);
    assert_int_equal(find(&sc, "declare Orange for category A")->at_us, 600 * S);
    exercise_score_done(&sc);
    scenario_free(s);
}

/* First aid is measured from the first incident to leaving first aid. */
static void test_first_aid(void **state)
{
    struct scenario *s = load();
    struct exercise_fact f[] = {
        fact("incident", 60, 1, 7, "intruded, no damage yet", "[]", "A"),
        fact("timeline", 120, 1, 7, "phase", "first_aid", "alice"),
        fact("timeline", 60 + 31 * 60, 1, 7, "phase", "emergency", "alice"),
    };
    struct exercise_score sc;
    struct exercise_trend_row row;
    struct buf b;

    (void)state;
    assert_int_equal(exercise_score(s, 3, START, 1, NULL, f, 3, &sc), 0);
    assert_int_equal(sc.first_aid, EXERCISE_LATE);
    assert_int_equal(sc.m.first_aid_start, 120 * S);
    assert_int_equal(sc.m.first_aid_done, (60 + 31 * 60) * S);
    exercise_score_done(&sc);
    f[2] = fact("timeline", 60 + 29 * 60, 1, 7, "phase", "emergency", "alice");
    assert_int_equal(exercise_score(s, 3, START, 1, NULL, f, 3, &sc), 0);
    assert_int_equal(sc.first_aid, EXERCISE_OK);
    assert_int_equal(sc.points, 2 + 2); /* first aid, and nothing went to the press */

    /* the summary kept for the trend reads back */
    buf_init(&b, 4096);
    assert_int_equal(exercise_score_summary(&sc, &b), 0);
    memset(&row, 0, sizeof(row));
    assert_int_equal(exercise_summary_parse(b.data, b.len, &row), 0);
    assert_int_equal(row.points, sc.points);
    assert_int_equal(row.max_points, sc.max_points);
    assert_int_equal(row.first_incident, 60 * S);
    assert_int_equal(row.first_aid_done, (60 + 29 * 60) * S);
    assert_int_equal(exercise_summary_parse("{\"points\":1}", 12, &row), -EINVAL);
    buf_done(&b);
    exercise_score_done(&sc);

    /* never leaving first aid: missed */
    assert_int_equal(exercise_score(s, 3, START, 1, NULL, f, 2, &sc), 0);
    assert_int_equal(sc.first_aid, EXERCISE_MISSED);
    exercise_score_done(&sc);
    scenario_free(s);
}

/* The daemon's own first-aid target counts beside the scenario's: met
 * for the scenario's 30 minutes, late for the daemon's 15, and the report
 * says both. */
static void test_daemon_targets(void **state)
{
    struct scenario *s = load();
    struct exercise_fact f[] = {
        fact("incident", 60, 1, 7, "intruded, no damage yet", "[]", "A"),
        fact("timeline", 60 + 20 * 60, 1, 7, "phase", "emergency", "alice"),
    };
    const struct exercise_targets tg = {15 * 60 * S, 2 * 86400 * S, "category A, Orange"};
    struct exercise_score sc, same;
    struct buf b;

    (void)state;
    assert_int_equal(exercise_score(s, 4, START, 1, NULL, f, 2, &same), 0);
    assert_int_equal(same.cfg_scored, 0); /* the defaults say 30m, as the scenario */
    assert_int_equal(exercise_score(s, 4, START, 1, &tg, f, 2, &sc), 0);
    assert_int_equal(sc.first_aid_target_us, 30 * 60 * S);
    assert_int_equal(sc.first_aid, EXERCISE_OK);
    assert_int_equal(sc.first_aid_cfg, EXERCISE_LATE);
    assert_int_equal(sc.cfg_scored, 1);
    assert_int_equal(sc.max_points, same.max_points + 2);
    assert_int_equal(sc.points, same.points + 1);
    /* emergency never completed: not reached, whatever the target */
    assert_int_equal(sc.emergency, EXERCISE_MISSED);
    buf_init(&b, 1 << 20);
    assert_int_equal(exercise_report(s, &sc, NULL, 0, NULL, 0, EXERCISE_FMT_MD, &b), 0);
    assert_non_null(strstr(b.data, "30m00s from the first incident: met; the daemon's 15m00s "
                                   "(category A, Orange): MISSED (late)"));
    assert_non_null(strstr(b.data, "not the daemon's own of 15m00s"));
    buf_done(&b);
    exercise_score_done(&sc);
    exercise_score_done(&same);
    scenario_free(s);
}

/* Messages approved for sending: one to the regulator meets notify, one
 * to the press breaks the embargo only inside it, and the first-report
 * message is the first report, scored against the first-aid target. */
static void test_messages(void **state)
{
    struct scenario *s = load();
    struct exercise_fact f[] = {
        fact("incident", 60, 1, 7, "intruded, no damage yet", "[]", "A"),
        fact("message", 60 + 20 * 60, 1, 7, "responsible", "first_report", "queued"),
        fact("message", 50 * 60, 1, 7, "regulator", "manual", "delivered"),
        fact("message", 3 * 3600, 1, 7, "press", "manual", "delivered"), /* after 2h */
    };
    struct exercise_score sc;
    struct buf b;

    (void)state;
    assert_int_equal(exercise_score(s, 5, START, 1, NULL, f, 4, &sc), 0);
    assert_int_equal(find(&sc, "notify regulator")->status, EXERCISE_OK);
    assert_int_equal(find(&sc, "notify regulator")->at_us, 50 * 60 * S);
    assert_int_equal(find(&sc, "withhold from press until 2h00m")->status, EXERCISE_OK);
    assert_int_equal(sc.m.first_report, (60 + 20 * 60) * S);
    assert_int_equal(sc.first_report, EXERCISE_OK);
    assert_int_equal(sc.nmessages, 3);
    assert_int_equal(sc.nwrong, 0);
    exercise_score_done(&sc);

    /* the press an hour in, the first report 40 minutes after the incident */
    f[3] = fact("message", 3600, 1, 7, "press", "manual", "queued");
    f[1] = fact("message", 60 + 40 * 60, 1, 7, "responsible", "first_report", "delivered");
    assert_int_equal(exercise_score(s, 5, START, 1, NULL, f, 4, &sc), 0);
    assert_int_equal(find(&sc, "withhold from press until 2h00m")->status, EXERCISE_WRONG);
    assert_int_equal(sc.first_report, EXERCISE_LATE);
    buf_init(&b, 1 << 20);
    assert_int_equal(exercise_report(s, &sc, NULL, 0, NULL, 0, EXERCISE_FMT_MD, &b), 0);
    assert_non_null(
        strstr(b.data, "| withhold from press until 2h00m | 1h00m | 2h00m | WRONG PARTY |"));
    assert_non_null(strstr(b.data, "a message went to that party at 1h00m"));
    assert_non_null(strstr(b.data, "The first report to the responsible person came late"));
    buf_reset(&b);
    assert_int_equal(exercise_report(s, &sc, NULL, 0, NULL, 0, EXERCISE_FMT_JSON, &b), 0);
    assert_non_null(strstr(b.data, "\"status\":\"wrong_party\""));
    assert_non_null(strstr(b.data, "\"first_report\":\"late\""));
    buf_done(&b);
    exercise_score_done(&sc);
    scenario_free(s);
}

/* An incident detection is met by triage's proposed type when the team's
 * record froze another one. */
static void test_proposed_type(void **state)
{
    static const char text[] = "scenario: unit2\n"
                               "title: proposed\n"
                               "stages:\n"
                               "  - name: one\n"
                               "    at: 0s\n"
                               "    records:\n"
                               "      - at: 0s\n"
                               "        format: syslog\n"
                               "        text: \"<38>${ts} h sshd[1]: x\"\n"
                               "expect:\n"
                               "  detections:\n"
                               "    - incident: intruded\n"
                               "      within: 10m\n";
    struct scenario *s = NULL;
    struct parse_err e;
    struct exercise_fact f[] = {
        fact("incident", 30, 1, 7, "probe or attack without damage", "[]", "A"),
        fact("proposed", 30, 1, 7, "intruded, no damage yet", NULL, NULL),
    };
    struct exercise_score sc;

    (void)state;
    assert_int_equal(scenario_parse(text, strlen(text), "unit2.yaml", &s, &e), 0);
    assert_int_equal(exercise_score(s, 6, START, 1, NULL, f, 1, &sc), 0);
    assert_int_equal(sc.det[0].status, EXERCISE_MISSED);
    exercise_score_done(&sc);
    assert_int_equal(exercise_score(s, 6, START, 1, NULL, f, 2, &sc), 0);
    assert_int_equal(sc.det[0].status, EXERCISE_OK);
    assert_int_equal(sc.det[0].at_us, 30 * S);
    assert_int_equal(sc.nincidents, 1); /* a proposal is no second incident */
    exercise_score_done(&sc);
    scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_speed_and_deadlines),
        cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_first_aid),
        cmocka_unit_test(test_daemon_targets),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_proposed_type),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
