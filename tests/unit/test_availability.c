/*
 * test_availability.c - contacts' quiet hours and on-call rotas
 * (incident/availability.h): what is refused and where, and the state at
 * chosen instants, in UTC, a fixed offset and an IANA zone across its
 * daylight saving change.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event/tz.h"
#include "incident/availability.h"

/* 2026-12-07 is a Monday; 00:00 UTC that day. */
#define MON INT64_C(1796601600)
#define AT(day, h, m) ((MON + (int64_t)(day)*86400 + (h)*3600 + (m)*60) * 1000000)

static void test_refused(void **state)
{
    static const struct {
        const char *text;
        int on_call; /* 0: as quiet_hours */
        size_t at;
        const char *why;
    } bad[] = {
        {"22:00", 0, 5, "expected '-' between"},
        {"22:00-22:00", 0, 11, "same time"},
        {"24:00-07:00", 0, 0, "expected a time"},
        {"22:00-07:60", 0, 6, "expected a time"},
        {"22:00-07:00 x", 0, 12, "unexpected text"},
        {"mon 22:00-07:00", 0, 0, "expected a time"},
        {"monday 09:00-17:00", 1, 3, "blank between the days"},
        {"mon-xyz 09:00-17:00", 1, 4, "ends the range"},
        {"weekdays 09:00-17:00", 1, 0, "expected a day"},
        {"mon 09:00-17:00; tue 09:00-17:00", 1, 15, "expected ','"},
        {"mon 09:00-17:00,", 1, 16, "expected a time"},
    };
    const char *why;
    size_t at;
    char many[400];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = bad[i].on_call ? avail_check_on_call(bad[i].text, &why, &at)
                               : avail_check_quiet(bad[i].text, &why, &at);
        if (r != -EINVAL || at != bad[i].at || !strstr(why, bad[i].why))
            fail_msg("%s: r %d at %zu why %s", bad[i].text, r, at, r ? why : "-");
    }
    /* 15 windows: one past the cap. */
    many[0] = '\0';
    for (int i = 0; i < 15; i++)
        strcat(many, i ? ",01:00-02:00" : "01:00-02:00");
    assert_int_equal(avail_check_on_call(many, &why, &at), -EINVAL);
    assert_non_null(strstr(why, "more than 14"));
    assert_int_equal(avail_check_quiet("", &why, &at), 0);
    assert_int_equal(avail_check_quiet(NULL, &why, &at), 0);
    assert_int_equal(avail_check_quiet(" 22:00-07:00 ", &why, &at), 0);
    assert_int_equal(avail_check_on_call("mon-fri 09:00-18:00, sat 10:00-14:00", &why, &at), 0);
    assert_int_equal(avail_check_on_call("fri-mon 20:00-08:00", &why, &at), 0);
    assert_int_equal(avail_check_on_call("08:00-20:00", &why, &at), 0);
}

static void test_states_utc(void **state)
{
    (void)state;
    /* Quiet hours wrap midnight. */
    assert_int_equal(avail_state_at("22:00-07:00", NULL, NULL, AT(0, 23, 0)), AVAIL_QUIET);
    assert_int_equal(avail_state_at("22:00-07:00", NULL, NULL, AT(1, 6, 59)), AVAIL_QUIET);
    assert_int_equal(avail_state_at("22:00-07:00", NULL, NULL, AT(1, 7, 0)), AVAIL_AVAILABLE);
    assert_int_equal(avail_state_at("22:00-07:00", NULL, NULL, AT(0, 21, 59)), AVAIL_AVAILABLE);
    /* On call on weekdays 09-18: Monday noon yes, Saturday noon no. */
    assert_int_equal(avail_state_at(NULL, "mon-fri 09:00-18:00", NULL, AT(0, 12, 0)),
                     AVAIL_ON_CALL);
    assert_int_equal(avail_state_at(NULL, "mon-fri 09:00-18:00", NULL, AT(5, 12, 0)),
                     AVAIL_AVAILABLE);
    /* A night shift that starts Friday runs into Saturday, not Sunday's. */
    assert_int_equal(avail_state_at(NULL, "fri 20:00-08:00", NULL, AT(5, 7, 0)), AVAIL_ON_CALL);
    assert_int_equal(avail_state_at(NULL, "fri 20:00-08:00", NULL, AT(6, 7, 0)), AVAIL_AVAILABLE);
    /* Sunday's night shift runs into Monday (the week wraps). */
    assert_int_equal(avail_state_at(NULL, "sun 22:00-06:00", NULL, AT(0, 5, 0)), AVAIL_ON_CALL);
    /* On call beats quiet hours; a bad value counts as absent. */
    assert_int_equal(avail_state_at("22:00-07:00", "daily 22:00-23:00", NULL, AT(0, 22, 30)),
                     AVAIL_ON_CALL);
    assert_int_equal(avail_state_at("22:00-07:00", "daily 22:00-23:00", NULL, AT(0, 23, 30)),
                     AVAIL_QUIET);
    assert_int_equal(avail_state_at("bad", "worse", NULL, AT(0, 23, 30)), AVAIL_AVAILABLE);
    assert_string_equal(avail_state_name(AVAIL_ON_CALL), "on-call");
    assert_string_equal(avail_state_name(AVAIL_QUIET), "quiet");
}

static void test_states_zones(void **state)
{
    struct tz *tokyo = NULL, *berlin = NULL;
    (void)state;

    assert_int_equal(tz_load("+09:00", NULL, &tokyo), 0);
    /* 14:00 UTC Monday is 23:00 Monday in +09:00: quiet there, not in UTC. */
    assert_int_equal(avail_state_at("22:00-07:00", NULL, tokyo, AT(0, 14, 0)), AVAIL_QUIET);
    assert_int_equal(avail_state_at("22:00-07:00", NULL, NULL, AT(0, 14, 0)), AVAIL_AVAILABLE);
    /* 20:00 UTC Friday is 05:00 Saturday in +09:00: a Saturday window. */
    assert_int_equal(avail_state_at(NULL, "sat 04:00-06:00", tokyo, AT(4, 20, 0)), AVAIL_ON_CALL);
    tz_free(tokyo);
    if (tz_load("Europe/Berlin", NULL, &berlin) == 0) {
        /* 07:30 UTC is 08:30 in winter (CET) and 09:30 in summer (CEST). */
        int64_t winter = INT64_C(1796715000) * 1000000; /* 2026-12-08 07:30 UTC */
        int64_t summer = INT64_C(1783495800) * 1000000; /* 2026-07-08 07:30 UTC */

        assert_int_equal(avail_state_at(NULL, "09:00-17:00", berlin, winter), AVAIL_AVAILABLE);
        assert_int_equal(avail_state_at(NULL, "09:00-17:00", berlin, summer), AVAIL_ON_CALL);
        tz_free(berlin);
    } else {
        /* tzdata is a build dependency (dev.sh); say so rather than pass. */
        fail_msg("Europe/Berlin not found under %s", TZ_DIR_DEFAULT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_states_utc),
        cmocka_unit_test(test_states_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
