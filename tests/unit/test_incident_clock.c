/*
 * test_incident_clock.c - the escalation clock's decision (issue 25): what
 * fires at time t for a deadline given the steps already fired, walked
 * through a whole deadline, and with hostile values (target 0 or negative,
 * a phase that began long ago, times at the ends of int64, a bad chain).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "incident/incident_clock.h"

#define T0 INT64_C(1700000000000000)
#define MIN INT64_C(60000000)

static const struct incident_clock_conf three = {.lead_us = 10 * MIN, .every_us = 5 * MIN,
                                                 .nchain = 3};

static int fire(const struct incident_clock_conf *c, int64_t now, int done,
                struct incident_clock_due *d)
{
    assert_int_equal(incident_clock_decide(c, T0, 30 * MIN, now, done, d), 0);
    return d->step;
}

/* First aid's 30 minutes with a 10-minute lead: nothing, the notice to the
 * assignee, the escalation to the lead at the deadline, to the manager
 * five minutes later, then nothing more. */
static void test_walk(void **state)
{
    struct incident_clock_due d;
    int done = 0;

    (void)state;
    assert_int_equal(fire(&three, T0, done, &d), 0);
    assert_int_equal(d.due_us, T0 + 30 * MIN);
    assert_int_equal(fire(&three, T0 + 20 * MIN - 1, done, &d), 0);
    assert_int_equal(fire(&three, T0 + 20 * MIN, done, &d), 1);
    assert_int_equal(d.chain_idx, 0);
    assert_false(d.overdue);
    done = 1;
    assert_int_equal(fire(&three, T0 + 25 * MIN, done, &d), 0);
    assert_int_equal(fire(&three, T0 + 30 * MIN - 1, done, &d), 0);
    assert_int_equal(fire(&three, T0 + 30 * MIN, done, &d), 2);
    assert_int_equal(d.chain_idx, 1);
    assert_true(d.overdue);
    done = 2;
    assert_int_equal(fire(&three, T0 + 35 * MIN - 1, done, &d), 0);
    assert_int_equal(fire(&three, T0 + 35 * MIN, done, &d), 3);
    assert_int_equal(d.chain_idx, 2);
    done = 3;
    /* Past the end of the chain: nothing, however late. */
    assert_int_equal(fire(&three, T0 + 1000 * MIN, done, &d), 0);
    assert_true(d.overdue);
}

/* A daemon down through the notice and both escalations fires the last
 * one, once; down through the notice only, the first escalation. */
static void test_missed_steps_fire_once(void **state)
{
    struct incident_clock_due d;

    (void)state;
    assert_int_equal(fire(&three, T0 + 60 * MIN, 0, &d), 3);
    assert_int_equal(d.chain_idx, 2);
    assert_int_equal(fire(&three, T0 + 60 * MIN, 3, &d), 0);
    assert_int_equal(fire(&three, T0 + 31 * MIN, 0, &d), 2);
    assert_int_equal(d.chain_idx, 1);
}

/* A state from the store that is ahead of the clock (a step fired for a
 * longer target before the level changed) fires nothing earlier. */
static void test_done_ahead(void **state)
{
    struct incident_clock_due d;

    (void)state;
    assert_int_equal(fire(&three, T0 + 21 * MIN, 2, &d), 0);
    assert_int_equal(fire(&three, T0 + 21 * MIN, -5, &d), 1); /* negative counts as none */
}

static void test_no_lead_no_every(void **state)
{
    const struct incident_clock_conf c = {.lead_us = 0, .every_us = 0, .nchain = 3};
    struct incident_clock_due d;

    (void)state;
    assert_int_equal(fire(&c, T0 + 29 * MIN, 0, &d), 0); /* no notice without a lead */
    /* every 0: the whole chain at the deadline, i.e. its last entry. */
    assert_int_equal(fire(&c, T0 + 30 * MIN, 0, &d), 3);
    assert_int_equal(d.chain_idx, 2);
}

/* A chain of one: the notice and the deadline both go to it. */
static void test_chain_of_one(void **state)
{
    const struct incident_clock_conf c = {.lead_us = MIN, .every_us = MIN, .nchain = 1};
    struct incident_clock_due d;

    (void)state;
    assert_int_equal(fire(&c, T0 + 29 * MIN, 0, &d), 1);
    assert_int_equal(d.chain_idx, 0);
    assert_int_equal(fire(&c, T0 + 30 * MIN, 1, &d), 2);
    assert_int_equal(d.chain_idx, 0);
    assert_int_equal(fire(&c, T0 + 300 * MIN, 2, &d), 0);
}

/* A lead longer than the target: the notice is due as the phase begins. */
static void test_lead_past_target(void **state)
{
    const struct incident_clock_conf c = {.lead_us = 100 * MIN, .every_us = MIN, .nchain = 2};
    struct incident_clock_due d;

    (void)state;
    assert_int_equal(fire(&c, T0, 0, &d), 1);
}

static void test_hostile(void **state)
{
    struct incident_clock_due d;
    struct incident_clock_conf c = three;

    (void)state;
    /* No target: no deadline, nothing fires, however late. */
    assert_int_equal(incident_clock_decide(&three, T0, 0, INT64_MAX, 0, &d), 0);
    assert_false(d.has_deadline);
    assert_int_equal(d.step, 0);
    assert_int_equal(incident_clock_decide(&three, T0, -5, INT64_MAX, 0, &d), 0);
    assert_false(d.has_deadline);
    /* A deadline past int64 (hostile phase start plus ten years) is none,
     * not a wrapped one in the past. */
    assert_int_equal(incident_clock_decide(&three, INT64_MAX - 5, 10 * MIN, T0, 0, &d), 0);
    assert_false(d.has_deadline);
    assert_int_equal(d.step, 0);
    /* A huge target: far away, nothing now. */
    assert_int_equal(incident_clock_decide(&three, T0, INT64_MAX / 2, T0 + MIN, 0, &d), 0);
    assert_true(d.has_deadline);
    assert_int_equal(d.step, 0);
    /* A phase that began at the start of time: long overdue; now - due
     * overflows and must read as "every step passed". */
    assert_int_equal(incident_clock_decide(&three, INT64_MIN, 1, INT64_MAX, 0, &d), 0);
    assert_true(d.overdue);
    assert_int_equal(d.step, 3);
    /* The notice's time below INT64_MIN: due from the start. */
    c.lead_us = INT64_MAX;
    assert_int_equal(incident_clock_decide(&c, INT64_MIN, 10, INT64_MIN, 0, &d), 0);
    assert_int_equal(d.step, 1);
    /* A deadline in the past at the first look (clock stepped, daemon down). */
    assert_int_equal(incident_clock_decide(&three, T0 - 1000 * MIN, 30 * MIN, T0, 0, &d), 0);
    assert_int_equal(d.step, 3);
    /* Bad configurations are refused and leave *ret zeroed. */
    c = three;
    c.nchain = 0;
    assert_int_equal(incident_clock_decide(&c, T0, MIN, T0, 0, &d), -EINVAL);
    assert_int_equal(d.step, 0);
    c.nchain = INCIDENT_CLOCK_CHAIN_MAX + 1;
    assert_int_equal(incident_clock_decide(&c, T0, MIN, T0, 0, &d), -EINVAL);
    c = three;
    c.lead_us = -1;
    assert_int_equal(incident_clock_decide(&c, T0, MIN, T0, 0, &d), -EINVAL);
    c = three;
    c.every_us = -1;
    assert_int_equal(incident_clock_decide(&c, T0, MIN, T0, 0, &d), -EINVAL);
    assert_int_equal(incident_clock_decide(NULL, T0, MIN, T0, 0, &d), -EINVAL);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(incident_clock_step_name(1), "deadline_notice");
    assert_string_equal(incident_clock_step_name(2), "escalation");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_missed_steps_fire_once),
        cmocka_unit_test(test_done_ahead),
        cmocka_unit_test(test_no_lead_no_every),
        cmocka_unit_test(test_chain_of_one),
        cmocka_unit_test(test_lead_past_target),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
