/*
 * test_decode_kv.c - the key=value decoder, on real auditd records
 * (Security-Datasets linux) and FortiGate-style lines, and on text that
 * must not be taken for key=value.
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

#include "decode/decode_kv.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good good[] = {
    /* Security-Datasets sh_binary_padding_dd: auditd SYSCALL */
    {"type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes exit=0 "
     "a0=558e25052c70 items=2 ppid=29002 pid=2168 auid=1000 uid=1000 gid=1000 euid=1000 "
     "tty=pts0 ses=104 comm=\"dd\" exe=\"/bin/dd\" key=(null)",
     {{"type", "SYSCALL"},
      {"msg", "audit(1604996384.965:93777):"},
      {"syscall", "59"},
      {"comm", "dd"},
      {"exe", "/bin/dd"},
      {"key", "(null)"},
      {"pid", "2168"},
      {NULL, NULL}}},
    /* auditd EXECVE: quoted values holding '=' */
    {"type=EXECVE msg=audit(1604996384.965:93777): argc=4 a0=\"dd\" a1=\"if=/dev/zero\" "
     "a2=\"bs=1\" a3=\"count=1\"",
     {{"argc", "4"}, {"a1", "if=/dev/zero"}, {"a2", "bs=1"}, {"a3", "count=1"}, {NULL, NULL}}},
    /* FortiGate traffic log as FortiOS writes it */
    {"date=2024-01-02 time=03:04:05 devname=\"FGT60E\" devid=\"FGT60E4Q1600000\" "
     "logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" "
     "srcip=192.168.1.100 srcport=52311 srcintf=\"internal\" dstip=203.0.113.80 dstport=443 "
     "dstintf=\"wan1\" proto=6 action=\"deny\" policyid=0 service=\"HTTPS\" user=\"alice\"",
     {{"devname", "FGT60E"},
      {"srcip", "192.168.1.100"},
      {"source.ip", "192.168.1.100"},
      {"source.port", "52311"},
      {"destination.ip", "203.0.113.80"},
      {"destination.port", "443"},
      {"proto", "6"},
      {"network.transport", "tcp"},
      {"event.action", "deny"},
      {"user.name", "alice"},
      {NULL, NULL}}},
    /* Escaped quotes, empty values, tabs, first alias wins, text proto */
    {"src=10.0.0.1\tsrc_ip=10.9.9.9 protocol=UDP msg=\"said \\\"hi\\\" \\\\o/\" note= "
     "username=bob",
     {{"source.ip", "10.0.0.1"},
      {"src_ip", "10.9.9.9"},
      {"network.transport", "udp"},
      {"msg", "said \"hi\" \\o/"},
      {"note", ""},
      {"user.name", "bob"},
      {NULL, NULL}}},
    /* A few words around the pairs are allowed while pairs dominate */
    {"CEF-less appliance: src=1.2.3.4 dst=5.6.7.8 dpt=22 act=blocked",
     {{"source.ip", "1.2.3.4"}, {"destination.port", "22"}, {"act", "blocked"}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_kv, "kv", good, sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"   ", -ENOENT, 0},
    {"Failed password for root from 1.2.3.4 port 22 ssh2", -ENOENT, 0},
    {"pam_unix(sshd:auth): authentication failure; logname= uid=0", -ENOENT, 0},
    {"the query was a=1 and it failed because the server was down", -ENOENT, 0},
    {"only=one", -ENOENT, 0},
    {"=x =y", -ENOENT, 0},
    {"a=1 b=\"unterminated", -EINVAL, 4},
    /* The escaped quote swallows the rest: one pair only, so not kv. */
    {"a=\"x\\\" y=2 z=3", -ENOENT, 0},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_kv, bad, sizeof(bad) / sizeof(bad[0]));
}

static void scan_file(const char *rel, unsigned *ret_lines, unsigned *ret_ok)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n, tn;

    decode_testlib_lines_open(&it, rel);
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err perr;

        (*ret_lines)++;
        if (decode_testlib_run(decode_kv, &ev, line, n, &perr) == 0 &&
            event_get(&ev, field_lookup("type", 4), &tn) != NULL)
            (*ret_ok)++;
    }
    decode_testlib_lines_close(&it);
}

/* auditd records are key=value throughout: every one must decode and
 * carry its type. */
static void test_samples(void **state)
{
    unsigned lines = 0, ok = 0;

    (void)state;
    scan_file("data/windows/Security-Datasets/datasets/atomic/linux/defense_evasion/host/"
              "sh_binary_padding_dd_2020-11-10081941.log",
              &lines, &ok);
    scan_file("data/windows/Security-Datasets/datasets/atomic/linux/discovery/host/"
              "sh_arp_cache_2020-11-10074812.log",
              &lines, &ok);
    printf("Security-Datasets auditd logs: %u/%u decoded\n", ok, lines);
    assert_true(lines >= 6);
    assert_int_equal(ok, lines);
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
