/*
 * test_decode_rfc5424.c - RFC 5424 syslog: the Metron sample, what
 * util-linux logger 2.38 sends, the RFC's own examples, structured-data
 * escapes, malformed headers, and the whole sample file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_rfc5424.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define MAX_EXPECT 16
#define SD "log.syslog.structured_data."

struct rfc5424_case {
    const char *line;
    int ret;
    const char *want[MAX_EXPECT * 2 + 1]; /* name/value pairs; NULL value: absent */
    const char *msg;                      /* expected ev->msg when ret == 0 */
};

static const struct rfc5424_case cases[] = {
    /* Metron syslog5424/raw/Syslog5424Output, line 1 */
    {"<14>1 2014-06-20T09:14:08+00:00 loggregator d0602076-b14a-4c55-852a-981e7afeed40 DEA MSG-02 "
     "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][exampleSDID@32480 "
     "iut=\"4\" eventSource=\"Other Application\" eventID=\"2022\"] Removing instance",
     0,
     {"log.syslog.priority",
      "14",
      "log.syslog.facility.code",
      "1",
      "log.syslog.severity.code",
      "6",
      "log.syslog.version",
      "1",
      "@timestamp",
      "2014-06-20T09:14:08.000000Z",
      "host.name",
      "loggregator",
      "log.syslog.appname",
      "d0602076-b14a-4c55-852a-981e7afeed40",
      "process.name",
      "d0602076-b14a-4c55-852a-981e7afeed40",
      "log.syslog.procid",
      "DEA",
      "process.pid",
      NULL,
      "log.syslog.msgid",
      "MSG-02",
      SD "exampleSDID@32473.iut",
      "3",
      SD "exampleSDID@32473.eventSource",
      "Application",
      SD "exampleSDID@32480.eventSource",
      "Other Application",
      SD "exampleSDID@32480.eventID",
      "2022",
      "message",
      "Removing instance",
      NULL},
     "Removing instance"},
    /* util-linux logger -n 127.0.0.1 --udp "msg udp default" */
    {"<13>1 2026-11-23T12:24:54.153348+00:00 vm root - - [timeQuality tzKnown=\"1\" "
     "isSynced=\"0\"] msg udp default",
     0,
     {"@timestamp", "2026-11-23T12:24:54.153348Z", "host.name", "vm", "process.name", "root",
      "log.syslog.procid", NULL, "log.syslog.msgid", NULL, SD "timeQuality.tzKnown", "1",
      SD "timeQuality.isSynced", "0", NULL},
     "msg udp default"},
    /* logger --rfc5424=notq,notime: no timestamp, no structured data */
    {"<13>1 - vm root - - - nonq",
     0,
     {"@timestamp", NULL, "host.name", "vm", "log.syslog.appname", "root", "message", "nonq", NULL},
     "nonq"},
    /* RFC 5424 6.5, example 1: BOM before MSG is removed */
    {"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' "
     "failed for lonvick on /dev/pts/8",
     0,
     {"log.syslog.facility.code", "4", "log.syslog.severity.code", "2", "@timestamp",
      "2003-10-11T22:14:15.003000Z", "host.name", "mymachine.example.com", "log.syslog.msgid",
      "ID47", "message", "'su root' failed for lonvick on /dev/pts/8", NULL},
     "'su root' failed for lonvick on /dev/pts/8"},
    /* example 2: zone offset and a numeric PROCID */
    {"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the "
     "do-nuts.",
     0,
     {"log.syslog.priority", "165", "log.syslog.facility.code", "20", "log.syslog.severity.code",
      "5", "@timestamp", "2003-08-24T12:14:15.000003Z", "host.name", "192.0.2.1", "process.pid",
      "8710", "log.syslog.procid", "8710", NULL},
     "%% It's time to make the do-nuts."},
    /* example 4: structured data and no MSG */
    {"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
     "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 "
     "class=\"high\"]",
     0,
     {SD "exampleSDID@32473.eventID", "1011", SD "examplePriority@32473.class", "high", "message",
      NULL, NULL},
     ""},
    /* escapes \" \\ \] are undone; any other backslash stays */
    {"<13>1 - h a - - [x@1 q=\"a\\\"b\\\\c\\]d\\e\" empty=\"\"] m",
     0,
     {SD "x@1.q", "a\"b\\c]d\\e", SD "x@1.empty", "", "message", "m", NULL},
     "m"},
    /* a PROCID too large for a pid */
    {"<13>1 - h a 99999999999 - - m",
     0,
     {"log.syslog.procid", "99999999999", "process.pid", NULL, NULL},
     "m"},
    /* non-UTF-8 in MSG is carried as it is */
    {"<13>1 - h a - - - \xc3\x28\xff", 0, {"message", "\xc3\x28\xff", NULL}, "\xc3\x28\xff"},
    /* malformed */
    {"<999>1 - - - - - -", -EINVAL, {NULL}, NULL},
    {"<192>1 - h a - - - m", -EINVAL, {NULL}, NULL},
    {"<13>1 ", -EINVAL, {NULL}, NULL},
    {"<13>1 2003-13-11T22:14:15Z h a - - - m", -EINVAL, {NULL}, NULL},
    {"<13>1 2003-10-11T22:14:15Zjunk h a - - - m", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m ", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m -x", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m [x", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m [x a=\"b\"", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m [x a=\"b", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m [x a=b]", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m [ a=\"b\"]", -EINVAL, {NULL}, NULL},
    {"<13>1 - h a p m [x a=\"b\"]junk", -EINVAL, {NULL}, NULL},
    {"<13>1 - h\x01 a p m - x", -EINVAL, {NULL}, NULL},
    /* not RFC 5424 */
    {"<13>", -ENOENT, {NULL}, NULL},
    {"<13>1", -ENOENT, {NULL}, NULL},
    {"<13>Oct 11 22:14:15 h p: m", -ENOENT, {NULL}, NULL},
    {"Oct 11 22:14:15 h p: m", -ENOENT, {NULL}, NULL},
    {"", -ENOENT, {NULL}, NULL},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct rfc5424_case *t = &cases[c];
        struct event ev;
        struct parse_err err;
        int r = decode_testlib_run(decode_rfc5424, &ev, t->line, strlen(t->line), &err);

        decode_testlib_expect_ret(c, t->line, r, t->ret, &err);
        if (r == -ENOENT)
            assert_int_equal(ev.nfields, 0);
        if (r == 0) {
            assert_string_equal(ev.decoder, "rfc5424");
            decode_testlib_expect_fields(&ev, t->want, t->line);
            decode_testlib_expect_msg(&ev, t->msg);
        }
    }
}

/* Every line of the Metron RFC 5424 sample decodes, with its SD params. */
static void test_sample(void **state)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n, ok = 0, total = 0, with_sd = 0;

    (void)state;
    decode_testlib_lines_open(&it, "data/firewall/metron/metron-platform/metron-integration-test/"
                                   "src/main/sample/data/syslog5424/raw/Syslog5424Output");
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err err;

        total++;
        if (decode_testlib_run(decode_rfc5424, &ev, line, n, &err) == 0) {
            ok++;
            if (event_get(
                    &ev,
                    field_lookup(SD "exampleSDID@32480.iut", strlen(SD "exampleSDID@32480.iut")),
                    NULL))
                with_sd++;
            decode_testlib_expect_field(&ev, "host.name", "loggregator", line);
            decode_testlib_expect_field(&ev, "message", "Removing instance", line);
        }
    }
    decode_testlib_lines_close(&it);
    printf("Syslog5424Output: rfc5424 decoded %zu/%zu (%.1f%%), %zu with structured data\n", ok,
           total, total ? 100.0 * (double)ok / (double)total : 0.0, with_sd);
    assert_true(total > 0);
    assert_int_equal(ok, total);
    /* The file has one line without SD and the rest with two elements. */
    assert_int_equal(with_sd, total - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_sample),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, 0);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
