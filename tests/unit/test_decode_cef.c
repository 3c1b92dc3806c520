/*
 * test_decode_cef.c - the CEF decoder, on the real CEF samples (Metron
 * test resources) and on malformed input.
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

#include "decode/decode_cef.h"
#include "decode_testlib.h"
#include "event/event.h"

#define CEF_DIR                                                                                    \
    "data/firewall/metron/metron-platform/metron-parsing/metron-parsers/src/test/"                 \
    "resources/org/apache/metron/parsers/cef/"

static const struct decode_testlib_good good[] = {
    /* cyberark.cef: syslog prefix, empty values, quoted label values */
    {"Mar 21 14:05:02 HHHPVATN1 CEF:0|Cyber-Ark|Vault|7.20.0091|295|Retrieve password|5|act="
     "Retrieve password suser=spilgrim fname=Root\\ABC phobos3 - COMP dvc=120.99.70.3 shost="
     "10.44.134.78 dhost= duser= externalId= app= reason= cs1Label=\"Affected User Name\" cs1= "
     "cs2Label=\"Safe Name\" cs2=Security Vulnerability Mgmt msg=Needed to verify config files",
     {{"cef.version", "0"},
      {"observer.vendor", "Cyber-Ark"},
      {"observer.product", "Vault"},
      {"observer.version", "7.20.0091"},
      {"rule.id", "295"},
      {"rule.name", "Retrieve password"},
      {"event.severity", "5"},
      {"cef.act", "Retrieve password"},
      {"event.action", "Retrieve password"},
      {"cef.suser", "spilgrim"},
      {"source.user.name", "spilgrim"},
      {"cef.fname", "Root\\ABC phobos3 - COMP"},
      {"cef.shost", "10.44.134.78"},
      {"source.domain", "10.44.134.78"},
      {"cef.dhost", ""},
      {"destination.domain", NULL},
      {"cef.duser", ""},
      {"user.name", NULL},
      {"cef.cs1Label", "\"Affected User Name\""},
      {"cef.cs2", "Security Vulnerability Mgmt"},
      {"message", "Needed to verify config files"},
      {"@timestamp", "2023-03-21T14:05:02.000000Z"},
      {NULL, NULL}}},
    /* palo.cef: "CEF: 0", rt with a year, a stray \" kept as written */
    {"<14>Apr  7 10:10:10 hostname CEF: 0|Palo Alto Networks|PAN-OS|6.1.3|url|THREAT|1|rt=Apr "
     "07 2017 00:10:10 GMT src=10.10.10.10 dst=20.20.20.20 cs3Label=Virtual Sys cs3=vsys2 "
     "spt=18371 dpt=443 proto=tcp act=alert request=\\\"www.example.com/\\\" cs2Label=URL Cat",
     {{"observer.vendor", "Palo Alto Networks"},
      {"observer.product", "PAN-OS"},
      {"rule.id", "url"},
      {"rule.name", "THREAT"},
      {"source.ip", "10.10.10.10"},
      {"destination.ip", "20.20.20.20"},
      {"source.port", "18371"},
      {"destination.port", "443"},
      {"network.transport", "tcp"},
      {"cef.cs3Label", "Virtual Sys"},
      {"url.original", "\\\"www.example.com/\\\""},
      {"cef.cs2Label", "URL Cat"},
      {"@timestamp", "2017-04-07T00:10:10.000000Z"},
      {"event.original_time", "Apr 07 2017 00:10:10 GMT"},
      {NULL, NULL}}},
    /* waf.cef: an empty Name, a text severity, uppercase proto */
    {"<14>CEF:0|Imperva Inc.|SecureSphere|10.0.0.4_16|ABC - Secure Login.vm Page Rate Limit UK "
     "- Source IP||High|act=alert dst=17.43.200.42 dpt=88 duser=${Alert.username} "
     "src=10.31.45.69 spt=34435 proto=TCP cat=Alert cs1= cs1Label=Policy",
     {{"rule.id", "ABC - Secure Login.vm Page Rate Limit UK - Source IP"},
      {"rule.name", NULL},
      {"event.severity", "High"},
      {"user.name", "${Alert.username}"},
      {"network.transport", "tcp"},
      {"cef.proto", "TCP"},
      {"cef.cs1", ""},
      {"cef.cs1Label", "Policy"},
      {NULL, NULL}}},
    /* Escapes, epoch-ms rt, URL with '=' in its query, header \| */
    {"CEF:1|Sec\\|Corp|WAF\\\\X|2.0|942100|SQL Injection \\| libinjection|9|rt=1459517280810 "
     "src=198.51.100.9 requestMethod=GET request=http://shop.example/item?id=1 OR 1\\=1&x=2 "
     "msg=line1\\nline2\\r cs1=a\\\\b cs2Label=k",
     {{"cef.version", "1"},
      {"observer.vendor", "Sec|Corp"},
      {"observer.product", "WAF\\X"},
      {"rule.name", "SQL Injection | libinjection"},
      {"http.request.method", "GET"},
      {"url.original", "http://shop.example/item?id=1 OR 1=1&x=2"},
      {"message", "line1\nline2\r"},
      {"cef.cs1", "a\\b"},
      {"cef.cs2Label", "k"},
      {"@timestamp", "2016-04-01T13:28:00.810000Z"},
      {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_cef, "cef", good, sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"Mar 21 14:05:02 host sshd[1]: Accepted password for x", -ENOENT, 0},
    {"CEF", -ENOENT, 0},
    {"CEF:0|a|b|c|d|e", -EINVAL, 0},
    {"host CEF:0|a|b|c|d|e|", -EINVAL, 5},
    {"CEF:x|a|b|c|d|e|f|", -EINVAL, 4},
    {"CEF:|a|b|c|d|e|f|", -EINVAL, 4},
    {"CEF:0|a|b|c|d|e|f| =x", -EINVAL, 19},
    {"CEF:0|a|b|c|d|e|f|novalue", -EINVAL, 18},
    {"CEF:0|a|b|c|d\\|e|f|g", -EINVAL, 0},
    {"CEF:0|a|b|c|d|e|f|k=v\\", 0, 0},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_cef, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Each sample file holds one record (no final newline). */
static void test_samples(void **state)
{
    static const char *const files[] = {"adallom.cef", "cyberark.cef", "palo.cef", "waf.cef"};
    unsigned ok = 0, ext = 0;

    (void)state;
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        char rel[512];
        size_t n;
        char *b;
        struct event ev;
        struct parse_err perr;

        snprintf(rel, sizeof(rel), "%s%s", CEF_DIR, files[k]);
        b = decode_testlib_read(rel, &n);
        while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
            n--;
        if (decode_testlib_run(decode_cef, &ev, b, n, &perr) == 0) {
            ok++;
            for (uint32_t i = 0; i < ev.nfields; i++)
                ext += strncmp(field_name(ev.fields[i].id), "cef.", 4) == 0;
        }
        free(b);
    }
    printf("metron cef samples: %u/4 decoded, %u cef.* fields\n", ok, ext);
    assert_int_equal(ok, 4);
    /* Every " key=" of the four files (adallom 9, cyberark 25, palo 44, waf
     * 19, counted by hand) plus cef.version of each: no pair merged into its
     * neighbour's value and none invented. */
    assert_int_equal(ext, 9 + 25 + 44 + 19 + 4);
}

/* FireEyeParserTest.txt: eight lines, six syslog-wrapped CEF records and
 * two continuation fragments of a record that FireEye split over lines
 * (they hold no "CEF:" and must be -ENOENT, not misread). */
static void test_fireeye(void **state)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n, vn;
    unsigned lines = 0, ok = 0, timed = 0, cef = 0, noent = 0;

    (void)state;
    decode_testlib_lines_open(&it, "data/firewall/metron/metron-platform/metron-parsing/"
                                   "metron-parsers/src/test/resources/logData/FireEyeParserTest.txt");
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run(decode_cef, &ev, line, n, &perr);

        lines++;
        cef += memmem(line, n, "CEF:", 4) != NULL;
        noent += r == -ENOENT;
        if (r == 0 && event_get(&ev, FIELD_OBSERVER_VENDOR, &vn) && vn == 7) {
            ok++;
            timed += ev.has_time;
        }
    }
    decode_testlib_lines_close(&it);
    printf("FireEyeParserTest.txt: %u/%u decoded, %u with a time\n", ok, lines, timed);
    assert_int_equal(lines, 8);
    assert_int_equal(cef, 6);
    assert_int_equal(ok, cef);
    assert_int_equal(noent, lines - cef);
    assert_int_equal(timed, ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_fireeye),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
