/*
 * test_decode_rfc3164.c - BSD syslog headers: real lines from loghub, the
 * Metron ASA sample and what util-linux logger 2.38 sends, field by field;
 * malformed headers; and whole sample files for coverage.
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

#include "decode/decode_rfc3164.h"
#include "event/tz.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define MAX_EXPECT 12

/* One line and what must come out of it.  `want` holds name/value pairs;
 * a NULL value means the field must be absent. */
struct rfc3164_case {
    const char *line;
    size_t len; /* 0: strlen(line) */
    int ret;
    const char *want[MAX_EXPECT * 2 + 1];
    const char *msg; /* expected ev->msg when ret == 0 */
};

static const struct rfc3164_case cases[] = {
    /* loghub OpenSSH_2k.log line 1 */
    {"Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for "
     "ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
     0,
     0,
     {"@timestamp", "2025-12-10T06:55:46.000000Z", "event.original_time", "Dec 10 06:55:46",
      "host.name", "LabSZ", "process.name", "sshd", "log.syslog.appname", "sshd", "process.pid",
      "24200", "log.syslog.priority", NULL, NULL},
     "reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - "
     "POSSIBLE BREAK-IN ATTEMPT!"},
    /* loghub Linux_2k.log line 1: the odd "sshd(pam_unix)" tag, trailing space kept */
    {"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 "
     "tty=NODEVssh ruser= rhost=218.188.2.4 ",
     0,
     0,
     {"@timestamp", "2025-06-14T15:16:01.000000Z", "host.name", "combo", "process.name", "sshd",
      "log.syslog.appname", "sshd(pam_unix)", "process.pid", "19939", NULL},
     "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 "},
    /* Linux_2k.log: a tag ended by a space, not a colon */
    {"Jun 19 04:09:11 combo syslogd 1.4.1: restart.",
     0,
     0,
     {"process.name", "syslogd", "process.pid", NULL, "host.name", "combo", "message",
      "1.4.1: restart.", NULL},
     "1.4.1: restart."},
    /* Linux_2k.log: padding after the hostname */
    {"Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2",
     0,
     0,
     {"@timestamp", "2025-07-07T08:06:15.000000Z", "host.name", "combo", "process.name", "--",
      NULL},
     "root[2421]: ROOT LOGIN ON tty2"},
    /* Mac_2k.log: text between the pid and the colon */
    {"Jul  1 09:29:02 calvisitor-10-105-160-95 sandboxd[129] ([31211]): com.apple.Addres(31211) "
     "deny network-outbound /private/var/run/mDNSResponder",
     0,
     0,
     {"host.name", "calvisitor-10-105-160-95", "process.name", "sandboxd", "process.pid", "129",
      NULL},
     "([31211]): com.apple.Addres(31211) deny network-outbound /private/var/run/mDNSResponder"},
    /* Metron asa_raw: PRI, a padded day, an address as hostname, an ASA tag */
    {"<166>Jan  5 08:52:35 10.22.8.216 %ASA-6-302021: Teardown ICMP connection for faddr "
     "10.22.8.74/0(LOCAL\\user.name) gaddr 10.22.8.205/0 laddr 10.22.8.205/0",
     0,
     0,
     {"log.syslog.priority", "166", "log.syslog.facility.code", "20", "log.syslog.severity.code",
      "6", "@timestamp", "2026-01-05T08:52:35.000000Z", "host.name", "10.22.8.216", "process.name",
      "%ASA-6-302021", NULL},
     "Teardown ICMP connection for faddr 10.22.8.74/0(LOCAL\\user.name) gaddr 10.22.8.205/0 "
     "laddr 10.22.8.205/0"},
    /* util-linux logger -n 127.0.0.1 --udp --rfc3164 "msg udp 3164" */
    {"<13>Nov 23 12:24:54 vm root: msg udp 3164",
     0,
     0,
     {"log.syslog.priority", "13", "log.syslog.facility.code", "1", "log.syslog.severity.code", "5",
      "@timestamp", "2025-11-23T12:24:54.000000Z", "host.name", "vm", "process.name", "root",
      "message", "msg udp 3164", NULL},
     "msg udp 3164"},
    /* util-linux logger to a local socket: no hostname */
    {"<13>Nov 23 12:25:01 root: local default",
     0,
     0,
     {"host.name", NULL, "process.name", "root", "process.pid", NULL, "message", "local default",
      NULL},
     "local default"},
    {"<13>Nov 23 12:25:01 sshd[6246]: local pid",
     0,
     0,
     {"host.name", NULL, "process.name", "sshd", "process.pid", "6246", NULL},
     "local pid"},
    /* RFC 3164 section 5.4 example 1 */
    {"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
     0,
     0,
     {"log.syslog.facility.code", "4", "log.syslog.severity.code", "2", "@timestamp",
      "2025-10-11T22:14:15.000000Z", "host.name", "mymachine", "process.name", "su", NULL},
     "'su root' failed for lonvick on /dev/pts/8"},
    /* a year in the timestamp, and fractional seconds */
    {"<34>Oct 11 2022 22:14:15 mymachine su: x",
     0,
     0,
     {"@timestamp", "2022-10-11T22:14:15.000000Z", "event.original_time", "Oct 11 2022 22:14:15",
      NULL},
     "x"},
    {"May 31 23:59:59.123456 h app: y",
     0,
     0,
     {"@timestamp", "2026-05-31T23:59:59.123456Z", "host.name", "h", NULL},
     "y"},
    /* rsyslog's RFC 3339 timestamp in a BSD header */
    {"<13>2026-05-31T23:00:00.5+02:00 host app[1]: hi",
     0,
     0,
     {"@timestamp", "2026-05-31T21:00:00.500000Z", "host.name", "host", "process.pid", "1", NULL},
     "hi"},
    /* PRI without timestamp: RFC 3164 4.3.2, the rest is MSG */
    {"<13>hello world",
     0,
     0,
     {"log.syslog.priority", "13", "host.name", NULL, "@timestamp", NULL, "message", "hello world",
      NULL},
     "hello world"},
    /* a pid too large for 32 bits is not a pid */
    {"Oct 11 22:14:15 host prog[99999999999]: m",
     0,
     0,
     {"process.name", "prog", "process.pid", NULL, NULL},
     "m"},
    /* a truncated tag is not taken as a tag */
    {"Dec 10 06:55:46 LabSZ sshd[24200",
     0,
     0,
     {"host.name", "LabSZ", "process.name", NULL, "message", "sshd[24200", NULL},
     "sshd[24200"},
    /* non-UTF-8 bytes are carried as they are */
    {"Oct 11 22:14:15 h\xff\xfe prog: \xc3\x28 bad",
     0,
     0,
     {"host.name", "h\xff\xfe", "process.name", "prog", NULL},
     "\xc3\x28 bad"},
    /* the length bounds the parse: no NUL needed, nothing past it read */
    {"Dec 10 06:55:46 LabSZ sshd[24200]: hello", 37, 0, {"message", "he", NULL}, "he"},
    {"Dec 10 06:55:46 LabSZ sshd[24200]: hello", 11, -ENOENT, {NULL}, NULL},
    /* malformed */
    {"<999>Oct 11 22:14:15 host x: y", 0, -EINVAL, {NULL}, NULL},
    {"<192>Oct 11 22:14:15 host x: y", 0, -EINVAL, {NULL}, NULL},
    {"<13>", 0, -EINVAL, {NULL}, NULL},
    {"<13", 0, -EINVAL, {NULL}, NULL},
    {"<>x", 0, -EINVAL, {NULL}, NULL},
    {"<1a>Oct 11 22:14:15 host x: y", 0, -EINVAL, {NULL}, NULL},
    {"Oct 11 22:14:15", 0, -EINVAL, {NULL}, NULL},
    {"Oct 11 22:14:15   ", 0, -EINVAL, {NULL}, NULL},
    {"Oct 11 22:14:15 h\x01st prog: m", 0, -EINVAL, {NULL}, NULL},
    /* not syslog */
    {"", 0, -ENOENT, {NULL}, NULL},
    {"hello", 0, -ENOENT, {NULL}, NULL},
    {"Oct 99 22:14:15 host x: y", 0, -ENOENT, {NULL}, NULL},
    /* loghub Thunderbird_2k.log and BGL_2k.log */
    {"- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session "
     "closed for user root",
     0,
     -ENOENT,
     {NULL},
     NULL},
    {"- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 "
     "RAS KERNEL INFO instruction cache parity error corrected",
     0,
     -ENOENT,
     {NULL},
     NULL},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct rfc3164_case *t = &cases[c];
        size_t len = t->len ? t->len : strlen(t->line);
        struct event ev;
        struct parse_err err;
        int r = decode_testlib_run(decode_rfc3164, &ev, t->line, len, &err);

        decode_testlib_expect_ret(c, t->line, r, t->ret, &err);
        if (r == -ENOENT)
            assert_int_equal(ev.nfields, 0);
        if (r == 0) {
            assert_string_equal(ev.decoder, "rfc3164");
            decode_testlib_expect_fields(&ev, t->want, t->line);
            decode_testlib_expect_msg(&ev, t->msg);
        }
    }
}

/* The zone assumed for a zoneless timestamp comes from ctx. */
static void test_tz_offset(void **state)
{
    struct decode_ctx ctx = decode_testlib_ctx();
    const char *line = "Jan  5 08:52:35 h p: m";
    struct event ev;
    struct parse_err err;
    struct tz *z = NULL;

    (void)state;
    assert_int_equal(tz_fixed(3600, &z), 0);
    ctx.tz = z;
    assert_int_equal(decode_testlib_run_ctx(decode_rfc3164, &ctx, &ev, line, strlen(line), &err),
                     0);
    decode_testlib_expect_field(&ev, "@timestamp", "2026-01-05T07:52:35.000000Z", line);
    assert_int_equal(ev.has_time, 1);
    tz_free(z);
}

/*
 * Decodes every line of a sample and returns how many were understood;
 * *ret_einval counts lines rejected as malformed.
 */
static size_t scan_file(const char *rel, size_t *ret_total, size_t *ret_einval)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n, ok = 0, total = 0, einval = 0;

    decode_testlib_lines_open(&it, rel);
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err err;
        int r = decode_testlib_run(decode_rfc3164, &ev, line, n, &err);

        total++;
        if (r == 0)
            ok++;
        else if (r == -EINVAL)
            einval++;
    }
    decode_testlib_lines_close(&it);
    printf("%s: rfc3164 decoded %zu/%zu (%.1f%%), %zu malformed\n", rel, ok, total,
           total ? 100.0 * (double)ok / (double)total : 0.0, einval);
    *ret_total = total;
    *ret_einval = einval;
    return ok;
}

/* Every line of these files is a BSD syslog line: all must decode. */
static void test_samples_syslog(void **state)
{
    static const char *files[] = {
        "data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log",
        "data/linux-logs/loghub/Linux/Linux_2k.log",
        "data/linux-logs/loghub/Mac/Mac_2k.log",
        "data/firewall/metron/metron-platform/metron-integration-test/src/main/sample/data/asa/"
        "raw/asa_raw",
        "data/firewall/metron/metron-platform/metron-integration-test/src/main/sample/data/"
        "syslog3164/raw/Syslog3164Output",
    };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t total, einval, ok = scan_file(files[i], &total, &einval);
        assert_true(total > 0);
        assert_int_equal(ok, total);
    }
}

/* Thunderbird and BGL lines carry their own prefix before any syslog part:
 * not this format, and never mistaken for a malformed header. */
static void test_samples_not_syslog(void **state)
{
    static const char *files[] = {
        "data/linux-logs/loghub/Thunderbird/Thunderbird_2k.log",
        "data/linux-logs/loghub/BGL/BGL_2k.log",
        "data/linux-logs/loghub/HPC/HPC_2k.log",
    };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        size_t total, einval, ok = scan_file(files[i], &total, &einval);
        assert_true(total > 0);
        assert_int_equal(ok, 0);
        assert_int_equal(einval, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_tz_offset),
        cmocka_unit_test(test_samples_syslog),
        cmocka_unit_test(test_samples_not_syslog),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, 0);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
