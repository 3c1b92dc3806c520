/*
 * test_decode_filterlog.c - pfSense/OPNsense filterlog CSV.  No filterlog
 * lines are in ../shared/data: these were written from Netgate's "Filter
 * Log Format" field list (IPv4 and IPv6 layouts, tcp/udp/icmp/carp tails,
 * OPNsense's 32-hex-digit rule id as tracker), as pfSense 2.x writes them
 * after "filterlog[PID]: ", including hostile and truncated variants.
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

#include <arpa/inet.h>

#include "decode/decode_filterlog.h"
#include "decode/decode_util.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

static const struct decode_testlib_good good[] = {
    /* IPv4 TCP SYN blocked inbound by the default deny rule */
    {"5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,198.51.100.7,192.0.2.10,52014,"
     "22,0,S,1234567,,64240,,mss;sackOK;TS;nop;wscale",
     {{"observer.product", "filterlog"},
      {"event.dataset", "filterlog"},
      {"rule.id", "1000000103"},
      {"filterlog.rule_number", "5"},
      {"event.reason", "match"},
      {"event.action", "block"},
      {"event.type", "denied"},
      {"event.outcome", "failure"},
      {"network.direction", "inbound"},
      {"observer.ingress.interface.name", "igb1"},
      {"observer.egress.interface.name", NULL},
      {"network.type", "ipv4"},
      {"network.transport", "tcp"},
      {"source.ip", "198.51.100.7"},
      {"destination.ip", "192.0.2.10"},
      {"source.bytes", "60"},
      {"source.port", "52014"},
      {"destination.port", "22"},
      {"tcp.flags", "S"},
      {NULL, NULL}}},
    /* IPv4 UDP passed outbound */
    {"82,,,1000002620,em0,match,pass,out,4,0x0,,64,39214,0,none,17,udp,73,192.0.2.10,198.51.100.53,"
     "41234,53,53",
     {{"event.action", "pass"},
      {"event.type", "allowed"},
      {"event.outcome", "success"},
      {"network.direction", "outbound"},
      {"observer.egress.interface.name", "em0"},
      {"observer.ingress.interface.name", NULL},
      {"network.transport", "udp"},
      {"destination.port", "53"},
      {"tcp.flags", NULL},
      {NULL, NULL}}},
    /* IPv4 ICMP echo request */
    {"5,,,1000000103,igb1,match,block,in,4,0x0,,56,12345,0,none,1,icmp,84,203.0.113.9,192.0.2.10,"
     "request,4321,1",
     {{"network.transport", "icmp"},
      {"icmp.type", "request"},
      {"source.port", NULL},
      {NULL, NULL}}},
    /* IPv6 UDP (DHCPv6) blocked; OPNsense rule id as tracker */
    {"61,,,fae559338f65e11c53669fc3642c93c2,em0,match,block,in,6,0x00,0x00000,1,udp,17,56,"
     "fe80::1:2,ff02::1:2,546,547,56",
     {{"rule.id", "fae559338f65e11c53669fc3642c93c2"},
      {"network.type", "ipv6"},
      {"network.transport", "udp"},
      {"source.ip", "fe80::1:2"},
      {"destination.ip", "ff02::1:2"},
      {"source.bytes", "56"},
      {"source.port", "546"},
      {"destination.port", "547"},
      {NULL, NULL}}},
    /* IPv6 TCP */
    {"9,,,1000000105,igb0,match,pass,in,6,0x00,0x00000,64,tcp,6,40,2001:db8::5,2001:db8::10,"
     "40000,443,0,S,1,,65535,,",
     {{"network.transport", "tcp"},
      {"destination.port", "443"},
      {"tcp.flags", "S"},
      {"event.outcome", "success"},
      {NULL, NULL}}},
    /* IPv6 ICMP; no tracker: the rule number stands in */
    {"12,,,0,igb0,match,pass,out,6,0x00,0x00000,255,ipv6-icmp,58,32,fe80::1,ff02::2,"
     "routersol",
     {{"network.transport", "ipv6-icmp"},
      {"icmp.type", "routersol"},
      {"rule.id", "12"},
      {NULL, NULL}}},
    /* CARP advertisement */
    {"20,,,1000000120,em1,match,pass,out,4,0xb8,,255,0,0,none,112,carp,56,192.0.2.2,224.0.0.18,"
     "advertise,255,1,2,0,1",
     {{"network.transport", "carp"}, {"source.port", NULL}, {NULL, NULL}}},
    /* truncated after the addresses: what is there is kept */
    {"5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,198.51.100.7,192.0.2.10",
     {{"source.ip", "198.51.100.7"}, {"source.port", NULL}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_filterlog, "filterlog", good, sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"hello, world, this is not filterlog", -ENOENT, 0},
    {"Invalid user admin from 192.0.2.1 port 22", -ENOENT, 0},
    /* PAN-OS CSV is not this */
    {"1,2015/01/05 12:51:33,0003C105690,TRAFFIC,drop,1,2015/01/05 12:51:33,10.0.0.219", -ENOENT, 0},
    /* direction and IP version are checked */
    {"5,,,1000000103,igb1,match,block,sideways,4,0x0,,64,0,0,DF,6,tcp,60,1.2.3.4,5.6.7.8", -ENOENT,
     0},
    {"5,,,1000000103,igb1,match,block,in,5,0x0,,64,0,0,DF,6,tcp,60,1.2.3.4,5.6.7.8", -ENOENT, 0},
    /* cut before the addresses */
    {"5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60", -EINVAL, 60},
    /* not an address */
    {"5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,1.2.3.999,5.6.7.8,1,2", -EINVAL,
     61},
    /* IPv6 layout read as IPv4 (wrong version field) */
    {"61,,,1,em0,match,block,in,4,0x00,0x00000,1,udp,17,56,fe80::1:2,ff02::1:2,546,547,56", -EINVAL,
     77},
    /* a port out of range */
    {"5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,1.2.3.4,5.6.7.8,99999,22,0,S",
     -EINVAL, 77},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_filterlog, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Every prefix of a full line: only 0, -ENOENT or -EINVAL, and never a read
 * past it (the heap copy is exactly the prefix). */
static void test_prefixes(void **state)
{
    const char *line = good[0].line;

    (void)state;
    for (size_t k = 0; k <= strlen(line); k++) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run(decode_filterlog, &ev, line, k, &perr);
        assert_true(r == 0 || r == -ENOENT || r == -EINVAL);
    }
}

/* An address with a NUL inside: inet_pton() would stop at the NUL and
 * take "192.0.2.1" (decode_util_is_ip read a copy that way until issue 24's
 * own IPv4 reader); the field is refused. */
static void test_address_with_nul(void **state)
{
    static const char line[] = "82,,,1000002620,em0,match,pass,out,4,0x0,,64,39214,0,none,17,udp,"
                               "73,192.0.2.1\0"
                               "0,198.51.100.53,41234,53,53";
    struct event ev;
    struct parse_err perr;

    (void)state;
    assert_int_equal(decode_testlib_run(decode_filterlog, &ev, line, sizeof(line) - 1, &perr),
                     -EINVAL);
    assert_string_equal(perr.msg, "filterlog source or destination is not an address");
    assert_int_equal(decode_util_is_ip("::1\0x", 5), 0);
}

/* decode_util_is_ip (which filterlog's addresses go through) says what
 * inet_pton() says of every string below and of 20 000 random ones over
 * the bytes addresses are made of: its IPv4 reader is its own. */
static void test_is_ip_as_inet_pton(void **state)
{
    static const char *const fixed[] = {"0.0.0.0",
                                        "255.255.255.255",
                                        "256.1.1.1",
                                        "1.2.3",
                                        "1.2.3.4.",
                                        ".1.2.3.4",
                                        "1..2.3",
                                        "01.2.3.4",
                                        "1.2.3.04",
                                        "1.2.3.0",
                                        "10.0.0.1",
                                        "1.2.3.4 ",
                                        " 1.2.3.4",
                                        "1.2.3.4a",
                                        "1234.1.1.1",
                                        "1.2.3.4567",
                                        "255.255.255.2555",
                                        "00.1.1.1",
                                        "1.2.3.00",
                                        "1.2.3.255",
                                        "1.2.3.-4",
                                        "::",
                                        "::1",
                                        "fe80::1:2",
                                        "2001:db8::7",
                                        "::ffff:1.2.3.4",
                                        "1:2:3:4:5:6:7:8",
                                        "1:2:3:4:5:6:7:8:9",
                                        "g::1",
                                        "",
                                        "1",
                                        "999",
                                        "1.2.3.4/24"};
    static const char alphabet[] = "0123456789.:abfx ";
    unsigned long seed = 24;
    char buf[48];
    unsigned char out[16];

    (void)state;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        int want =
            inet_pton(AF_INET, fixed[i], out) == 1 || inet_pton(AF_INET6, fixed[i], out) == 1;
        assert_int_equal(decode_util_is_ip(fixed[i], strlen(fixed[i])), want);
    }
    for (int k = 0; k < 20000; k++) {
        size_t n;
        int want;

        seed = seed * 6364136223846793005ul + 1442695040888963407ul;
        n = 1 + (seed >> 33) % 16;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            /* digits and dots most of the time, so that many are IPv4 */
            buf[i] = (seed >> 40) % 4 ? "0123456789."[(seed >> 33) % 11]
                                      : alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        buf[n] = '\0';
        want = inet_pton(AF_INET, buf, out) == 1 || inet_pton(AF_INET6, buf, out) == 1;
        assert_int_equal(decode_util_is_ip(buf, n), want);
    }
}

/* decode_util_find (snort's, mikrotik's, squid's and PAN-OS's markers)
 * returns what memmem() returns, on 50 000 random haystacks and needles
 * over a small alphabet (blanks included: the search starts from the
 * needle's first byte that is no blank). */
static void test_find_as_memmem(void **state)
{
    static const char alphabet[] = "  ab-*[";
    unsigned long seed = 24;
    char hay[40], needle[8];

    (void)state;
    for (int k = 0; k < 50000; k++) {
        size_t n, nn;

        seed = seed * 6364136223846793005ul + 1442695040888963407ul;
        n = (seed >> 33) % sizeof(hay);
        nn = (seed >> 45) % sizeof(needle);
        for (size_t i = 0; i < n + nn; i++) {
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            (i < n ? hay : needle)[i < n ? i : i - n] =
                alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        assert_ptr_equal(decode_util_find(hay, n, needle, nn), memmem(hay, n, needle, nn));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_address_with_nul),
        cmocka_unit_test(test_is_ip_as_inet_pton),
        cmocka_unit_test(test_find_as_memmem),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
