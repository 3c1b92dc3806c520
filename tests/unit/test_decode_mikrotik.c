/*
 * test_decode_mikrotik.c - MikroTik RouterOS firewall log lines.  No
 * RouterOS log is in ../shared/data: these lines were written from the
 * format RouterOS 6 and 7 document and write for rules with log=yes
 * (prefix, chain, in:/out:, src-mac, proto with TCP flags or ICMP type and
 * code, the address pair, NAT, len; v7's connection-state), with hostile
 * and cut variants.
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

#include "decode/decode_mikrotik.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

static const struct decode_testlib_good good[] = {
    /* input chain, no prefix, TCP SYN to SSH */
    {"input: in:ether1 out:(unknown 0), src-mac 00:0c:29:aa:bb:cc, proto TCP (SYN), "
     "203.0.113.5:51234->192.0.2.1:22, len 60",
     {{"observer.vendor", "MikroTik"},
      {"observer.product", "RouterOS"},
      {"event.dataset", "mikrotik.firewall"},
      {"mikrotik.chain", "input"},
      {"rule.name", NULL},
      {"event.outcome", NULL},
      {"observer.ingress.interface.name", "ether1"},
      {"observer.egress.interface.name", NULL},
      {"source.mac", "00:0c:29:aa:bb:cc"},
      {"network.transport", "tcp"},
      {"tcp.flags", "SYN"},
      {"source.ip", "203.0.113.5"},
      {"source.port", "51234"},
      {"destination.ip", "192.0.2.1"},
      {"destination.port", "22"},
      {"source.bytes", "60"},
      {NULL, NULL}}},
    /* a drop rule's prefix; the topics word left in the message */
    {"firewall,info DROP-WAN input: in:ether1 out:(unknown 0), src-mac 00:0c:29:aa:bb:cc, "
     "proto TCP (SYN), 198.51.100.9:40000->192.0.2.1:3389, len 52",
     {{"rule.name", "DROP-WAN"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"destination.port", "3389"},
      {NULL, NULL}}},
    /* forward chain, v7 connection-state, UDP, NAT part, accept prefix */
    {"accept-dns forward: in:bridge out:ether1, connection-state:new src-mac 4c:5e:0c:11:22:33, "
     "proto UDP, 192.168.88.10:53000->8.8.8.8:53, NAT (192.168.88.10:53000->198.51.100.2:53000)"
     "->8.8.8.8:53, len 64",
     {{"rule.name", "accept-dns"},
      {"event.outcome", "success"},
      {"mikrotik.chain", "forward"},
      {"mikrotik.connection_state", "new"},
      {"source.mac", "4c:5e:0c:11:22:33"},
      {"observer.egress.interface.name", "ether1"},
      {"network.transport", "udp"},
      {"tcp.flags", NULL},
      {"source.ip", "192.168.88.10"},
      {"destination.ip", "8.8.8.8"},
      {"destination.port", "53"},
      {"source.bytes", "64"},
      {NULL, NULL}}},
    /* ICMP: type and code in parentheses (a ", " inside), no ports */
    {"input: in:ether1 out:(unknown 0), src-mac 00:0c:29:aa:bb:cc, proto ICMP (type 8, code 0), "
     "203.0.113.5->192.0.2.1, len 84",
     {{"network.transport", "icmp"},
      {"icmp.type", "8"},
      {"icmp.code", "0"},
      {"source.port", NULL},
      {"destination.ip", "192.0.2.1"},
      {"source.bytes", "84"},
      {NULL, NULL}}},
    /* IPv6 with ports in brackets, flags list */
    {"input: in:ether1 out:(unknown 0), src-mac 00:0c:29:aa:bb:cc, proto TCP (ACK,PSH), "
     "[2001:db8::5]:40000->[2001:db8::1]:443, len 80",
     {{"source.ip", "2001:db8::5"},
      {"source.port", "40000"},
      {"destination.ip", "2001:db8::1"},
      {"destination.port", "443"},
      {"tcp.flags", "ACK,PSH"},
      {NULL, NULL}}},
    /* IPv6 ICMP without ports */
    {"input: in:ether1 out:(unknown 0), proto ICMP (type 128, code 0), 2001:db8::5->2001:db8::1, "
     "len 104",
     {{"source.ip", "2001:db8::5"}, {"source.port", NULL}, {"icmp.type", "128"}, {NULL, NULL}}},
    /* cut after the addresses */
    {"input: in:ether1 out:(unknown 0), proto TCP (SYN), 203.0.113.5:1->192.0.2.1:2",
     {{"destination.port", "2"}, {"source.bytes", NULL}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_mikrotik, "mikrotik", good, sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"system,info user admin logged in from 192.0.2.9 via winbox", -ENOENT, 0},
    {"in:ether1 out:ether2 without a chain 1.2.3.4->5.6.7.8", -ENOENT, 0},
    {"input: in:ether1 no out and no arrow", -ENOENT, 0},
    /* netfilter is not this */
    {"[UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.50 DST=192.0.2.10 PROTO=TCP SPT=1 DPT=2", -ENOENT, 0},
    /* bad address, bad port */
    {"input: in:ether1 out:(unknown 0), proto TCP (SYN), 203.0.113.500:1->192.0.2.1:2, len 60",
     -EINVAL, 51},
    {"input: in:ether1 out:(unknown 0), proto TCP (SYN), 203.0.113.5:1->192.0.2.1:99999, len 60",
     -EINVAL, 51},
    /* no address part at all */
    {"input: in:ether1 out:(unknown 0), proto TCP (SYN), x->, len 60", -EINVAL, 51},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_mikrotik, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Every prefix of a full line: 0, -ENOENT or -EINVAL only, never a read
 * past it (the heap copy is exactly the prefix). */
static void test_prefixes(void **state)
{
    const char *line = good[2].line;

    (void)state;
    for (size_t k = 0; k <= strlen(line); k++) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run(decode_mikrotik, &ev, line, k, &perr);
        assert_true(r == 0 || r == -ENOENT || r == -EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_prefixes),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
