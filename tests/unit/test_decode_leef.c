/*
 * test_decode_leef.c - the LEEF decoder, on the real LEEF samples (Metron)
 * and on malformed input.
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

#include "decode/decode_leef.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good good[] = {
    /* sample.leef line 1: LEEF 2.0 without a delimiter field (Trend Micro) */
    {"LEEF:2.0|Trend Micro|Deep Security Manager|<DSA version>|192|cat=System\tname=Alert "
     "Ended\tdesc=Alert: CPU Warning Threshold Exceeded\\nSubject: 10.201.114.164\\nSeverity: "
     "Warning\tsev=3\tsrc=10.201.114.164\tusrName=System\tmsg=Alert: CPUWarning Threshold "
     "Exceeded\\nSubject: 10.201.114.164\\nSeverity:Warning\tTrendMicroDsTenant=Primary",
     {{"leef.version", "2.0"},
      {"observer.vendor", "Trend Micro"},
      {"observer.product", "Deep Security Manager"},
      {"observer.version", "<DSA version>"},
      {"event.code", "192"},
      {"leef.cat", "System"},
      {"event.category", NULL},
      {"leef.name", "Alert Ended"},
      {"leef.sev", "3"},
      {"event.severity", "3"},
      {"source.ip", "10.201.114.164"},
      {"user.name", "System"},
      {"leef.TrendMicroDsTenant", "Primary"},
      {NULL, NULL}}},
    /* sample.leef line 2: a value holding "k=v" pairs separated by spaces */
    {"LEEF:2.0|Trend Micro|Deep Security Agent|<DSA version>|2002779|cat=Integrity Monitor\t"
     "name=Microsoft Windows - System file modified\tsev=8 cn1=37 cn1Label=Host ID\tdvchost="
     "www.example.com\tact=updated\tsuser=admin",
     {{"leef.cat", "Integrity Monitor"},
      {"leef.sev", "8 cn1=37 cn1Label=Host ID"},
      {"leef.dvchost", "www.example.com"},
      {"leef.suser", "admin"},
      {NULL, NULL}}},
    /* LEEF 1.0 as QRadar documents it, with devTime and a syslog prefix */
    {"<13>Jan 18 11:07:53 fw01 LEEF:1.0|Palo Alto Networks|PAN-OS Syslog Integration|8.1|"
     "allow|cat=TRAFFIC\tdevTime=Jan 18 2019 11:07:53 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z"
     "\tsrc=192.168.1.10\tdst=203.0.113.5\tsrcPort=51234\tdstPort=443\tproto=6\t"
     "usrName=corp\\\\alice",
     {{"leef.version", "1.0"},
      {"event.code", "allow"},
      {"source.ip", "192.168.1.10"},
      {"destination.ip", "203.0.113.5"},
      {"source.port", "51234"},
      {"destination.port", "443"},
      {"leef.proto", "6"},
      {"network.transport", "tcp"},
      {"user.name", "corp\\\\alice"},
      {"@timestamp", "2019-01-18T11:07:53.000000Z"},
      {NULL, NULL}}},
    /* LEEF 2.0 with a '^' delimiter and with the hex form */
    {"LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^proto=UDP^sev=5",
     {{"source.ip", "10.0.1.8"},
      {"destination.ip", "10.0.0.5"},
      {"network.transport", "udp"},
      {"event.severity", "5"},
      {NULL, NULL}}},
    {"LEEF:2.0|Vendor|Product|1.0|login|x09|usrName=bob\tsrc=10.1.1.1\tdevTime=1547809673000",
     {{"user.name", "bob"},
      {"source.ip", "10.1.1.1"},
      {"@timestamp", "2019-01-18T11:07:53.000000Z"},
      {NULL, NULL}}},
    {"LEEF:2.0|Vendor|Product|1.0|login|0x7c|a=1|b=2",
     {{"leef.a", "1"}, {"leef.b", "2"}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_leef, "leef", good, sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"cat=System\tsrc=1.2.3.4", -ENOENT, 0},
    {"LEEF:3.0|a|b|c|d|", -EINVAL, 5},
    {"LEEF:1.5|a|b|c|d|", -EINVAL, 5},
    {"LEEF:|a|b|c|d|", -EINVAL, 5},
    {"LEEF:1.0|a|b|c|d", -EINVAL, 0},
    {"xx LEEF:2.0|a|b", -EINVAL, 3},
    {"LEEF:2.0|a|b|c|d|xZZ|k=v", -EINVAL, 17},
    {"LEEF:2.0|a|b|c|d|tab|k=v", -EINVAL, 17},
    {"LEEF:2.0|a|b|c|d|x00|k=v", -EINVAL, 17},
    {"LEEF:2.0|a|b|c|d|x123|k=v", -EINVAL, 17},
    {"LEEF:1.0|a|b|c|d|noequals\t=v\tk=", 0, 0},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_leef, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Both sample files: every line decodes and yields its attributes. */
static void scan_file(const char *rel, unsigned want_lines, unsigned want_attrs)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n;
    unsigned lines = 0, ok = 0, attrs = 0;

    decode_testlib_lines_open(&it, rel);
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err perr;

        lines++;
        if (decode_testlib_run(decode_leef, &ev, line, n, &perr) == 0) {
            ok++;
            for (uint32_t f = 0; f < ev.nfields; f++)
                attrs += strncmp(field_name(ev.fields[f].id), "leef.", 5) == 0;
        }
    }
    decode_testlib_lines_close(&it);
    printf("%s: %u/%u decoded, %u leef.* fields\n", strrchr(rel, '/') + 1, ok, lines, attrs);
    assert_int_equal(lines, want_lines);
    assert_int_equal(ok, lines);
    assert_int_equal(attrs, want_attrs);
}

static void test_samples(void **state)
{
    (void)state;
    scan_file("data/firewall/metron/metron-platform/metron-parsing/metron-parsers/src/test/"
              "resources/org/apache/metron/parsers/leef/sample.leef",
              /* 4 records (the last without a newline) of 8, 9, 15 and 9
               * tab-separated attributes, plus leef.version on each. */
              4, 8 + 9 + 15 + 9 + 4);
    scan_file("data/firewall/metron/metron-platform/metron-integration-test/src/main/sample/"
              "data/leef/raw/leefOutput",
              /* The same four records. */
              4, 8 + 9 + 15 + 9 + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_samples),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
