/*
 * test_escalation_config.c - incident.escalation and targets in seconds in
 * hikeshi.yaml (issue 25): the values read, the defaults, each refusal
 * with its line, and the normal form parsing back to the same values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "util/parse_err.h"

#define S INT64_C(1000000)

static struct config *parse(const char *text, struct parse_err *pe)
{
    struct config *c = NULL;

    memset(pe, 0, sizeof(*pe));
    if (config_parse(text, strlen(text), "test.yaml", &c, pe) < 0)
        return NULL;
    return c;
}

static const char full[] = "incident:\n"
                           "  targets:\n"
                           "    - {phase: new, seconds: 6}\n"
                           "  escalation:\n"
                           "    lead_time: 3s\n"
                           "    every: 2m\n"
                           "    chain: [assignee, lead, Mark Manager]\n"
                           "    notify: [http://127.0.0.1:9/hook, https://example.org/h]\n"
                           "    secret_file: /etc/hikeshi/escalation.key\n";

static void check_full(const struct config *c)
{
    if (!c) {
        fail_msg("the configuration was refused");
        return;
    }
    assert_int_equal(c->ntargets, 1);
    assert_int_equal(c->targets[0].us, 6 * S);
    assert_int_equal(c->escalation.enabled, 1);
    assert_int_equal(c->escalation.lead_us, 3 * S);
    assert_int_equal(c->escalation.every_us, 120 * S);
    assert_int_equal(c->escalation.nchain, 3);
    assert_string_equal(c->escalation.chain[2], "Mark Manager");
    assert_int_equal(c->escalation.nnotify, 2);
    assert_string_equal(c->escalation.notify[1], "https://example.org/h");
    assert_string_equal(c->escalation.secret_file, "/etc/hikeshi/escalation.key");
}

static void test_values(void **state)
{
    struct parse_err pe;
    struct config *c = parse(full, &pe);

    (void)state;
    check_full(c);
    config_free(c);
}

static void test_defaults(void **state)
{
    struct parse_err pe;
    struct config *c = parse("log:\n  level: info\n", &pe);

    (void)state;
    if (!c) {
        fail_msg("the configuration was refused");
        return;
    }
    assert_int_equal(c->escalation.enabled, 1);
    assert_int_equal(c->escalation.lead_us, 600 * S);
    assert_int_equal(c->escalation.every_us, -1);
    assert_int_equal(c->escalation.nchain, 0); /* the clock's default chain */
    assert_int_equal(c->escalation.nnotify, 0);
    config_free(c);
    c = parse("incident:\n  escalation:\n    enabled: false\n    lead_time: 0\n", &pe);
    if (!c) {
        fail_msg("the configuration was refused");
        return;
    }
    assert_int_equal(c->escalation.enabled, 0);
    assert_int_equal(c->escalation.lead_us, 0);
    config_free(c);
}

static void test_refused(void **state)
{
    static const struct {
        const char *yaml, *msg;
        unsigned line;
    } bad[] = {
        {"incident:\n  escalation:\n    lead_time: 10x\n", "lead_time", 3},
        {"incident:\n  escalation:\n    lead_time: -1\n", "lead_time", 3},
        {"incident:\n  escalation:\n    lead_time: 99999d\n", "10 years", 3},
        {"incident:\n  escalation:\n    every: 1.5m\n", "every", 3},
        {"incident:\n  escalation:\n    notify: [ftp://x/y]\n    secret_file: /k\n", "ftp://x/y", 3},
        {"incident:\n  escalation:\n    notify: [http://x/y]\n", "secret_file", 3},
        {"incident:\n  escalation:\n    chain: [a, b, c, d, e, f, g, h, i]\n", "chain", 3},
        {"incident:\n  escalation:\n    chain: []\n", "chain", 3},
        {"incident:\n  escalation:\n    colour: red\n", NULL, 3},
        {"incident:\n  targets:\n    - {phase: new, seconds: 6, minutes: 1}\n", "one of", 3},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct parse_err pe;
        struct config *c = parse(bad[i].yaml, &pe);

        if (c)
            fail_msg("accepted: %s", bad[i].yaml);
        assert_non_null(pe.msg);
        if (bad[i].msg && !strstr(pe.msg, bad[i].msg))
            fail_msg("%s: message '%s' does not name '%s'", bad[i].yaml, pe.msg, bad[i].msg);
        assert_int_equal(pe.line, bad[i].line);
    }
}

/* The normal form parses back to the same escalation and targets. */
static void test_print_round_trip(void **state)
{
    struct parse_err pe;
    struct config *c = parse(full, &pe), *c2;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    if (!c) {
        fail_msg("the configuration was refused");
        return;
    }
    f = open_memstream(&text, &len);
    assert_non_null(f);
    config_print(c, f);
    fclose(f);
    assert_non_null(strstr(text, "seconds: 6"));
    c2 = parse(text, &pe);
    if (!c2)
        fail_msg("normal form refused at line %u: %s\n%s", pe.line, pe.msg ? pe.msg : "?", text);
    check_full(c2);
    config_free(c2);
    config_free(c);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_print_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
