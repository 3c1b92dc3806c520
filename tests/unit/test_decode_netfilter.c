/*
 * test_decode_netfilter.c - netfilter LOG lines.  No netfilter log is in
 * /work/shared/data, so the lines follow what the kernel's nf_log_syslog
 * writes for iptables/nftables "log" rules and ufw (key order, the "DF"
 * and TCP flag words, the bracketed inner packet of ICMP errors, IPv6
 * addresses written in full).  Each full line is decoded with
 * decode_rfc3164 first, then decode_netfilter on ev->msg.  The loghub
 * Linux and Mac kernel lines check that nothing else is taken.
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

#include "decode/decode_netfilter.h"
#include "decode/decode_rfc3164.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define MAX_EXPECT 20
#define H "Jun  1 10:00:00 deb12 kernel: "
#define MAC "MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 "

struct nf_case {
    const char *line;
    int ret;
    const char *want[MAX_EXPECT * 2 + 1]; /* name/value pairs; NULL value: absent */
};

static const struct nf_case cases[] = {
    /* ufw default deny, inbound SYN */
    {H "[ 5316.727838] [UFW BLOCK] IN=eth0 OUT= " MAC "SRC=203.0.113.50 DST=192.0.2.10 LEN=60 "
       "TOS=0x00 PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=43512 DPT=22 WINDOW=64240 RES=0x00 "
       "SYN URGP=0",
     0,
     {"event.category",
      "network",
      "event.action",
      "netfilter_log",
      "netfilter.prefix",
      "[UFW BLOCK]",
      "event.outcome",
      "failure",
      "event.type",
      "denied",
      "observer.ingress.interface.name",
      "eth0",
      "observer.egress.interface.name",
      NULL,
      "source.ip",
      "203.0.113.50",
      "destination.ip",
      "192.0.2.10",
      "network.transport",
      "tcp",
      "source.port",
      "43512",
      "destination.port",
      "22",
      "tcp.flags",
      "SYN",
      "netfilter.mac",
      "52:54:00:12:34:56:52:54:00:65:43:21:08:00",
      "netfilter.len",
      "60",
      "netfilter.ttl",
      "52",
      NULL}},
    /* iptables -j LOG --log-prefix "DROP-IN: " */
    {H "DROP-IN: IN=eth0 OUT= " MAC "SRC=198.51.100.7 DST=192.0.2.10 LEN=40 TOS=0x00 PREC=0x00 "
       "TTL=241 ID=54321 PROTO=TCP SPT=54321 DPT=3389 WINDOW=1024 RES=0x00 SYN URGP=0",
     0,
     {"netfilter.prefix", "DROP-IN", "event.type", "denied", "destination.port", "3389",
      "netfilter.ttl", "241", NULL}},
    /* outbound UDP allowed: two LEN= (IP, then UDP); the first is the packet's */
    {H "[UFW ALLOW] IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.53 LEN=73 TOS=0x00 PREC=0x00 TTL=64 "
       "ID=0 DF PROTO=UDP SPT=53535 DPT=53 LEN=53",
     0,
     {"event.outcome", "success", "event.type", "allowed", "observer.ingress.interface.name", NULL,
      "observer.egress.interface.name", "eth0", "network.transport", "udp", "netfilter.len", "73",
      "tcp.flags", NULL, NULL}},
    /* nftables log prefix, several flags */
    {H "nft-drop IN=eth0 OUT= " MAC "SRC=198.51.100.80 DST=192.0.2.10 LEN=52 TOS=0x00 PREC=0x00 "
       "TTL=117 ID=0 DF PROTO=TCP SPT=443 DPT=51000 WINDOW=501 RES=0x00 ACK FIN URGP=0",
     0,
     {"netfilter.prefix", "nft-drop", "tcp.flags", "ACK FIN", "event.outcome", "failure", NULL}},
    /* --log-tcp-options: OPT (...) after the flags is not a flag */
    {H "ACCEPT-SSH IN=eth0 OUT= " MAC "SRC=198.51.100.9 DST=192.0.2.10 LEN=60 TOS=0x10 PREC=0x00 "
       "TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 CWR ECE SYN URGP=0 OPT "
       "(020405B40402080A)",
     0,
     {"tcp.flags", "CWR ECE SYN", "event.type", "allowed", NULL}},
    /* ICMP echo */
    {H "[UFW BLOCK] IN=eth0 OUT= " MAC "SRC=203.0.113.9 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 "
       "TTL=54 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=1234 SEQ=1",
     0,
     {"network.transport", "icmp", "icmp.type", "8", "icmp.code", "0", "source.port", NULL, NULL}},
    /* ICMP error quoting the offending packet: the outer packet wins */
    {H "IN=eth0 OUT= " MAC "SRC=192.0.2.1 DST=192.0.2.10 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=1 "
       "PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.10 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 "
       "ID=2 PROTO=UDP SPT=5000 DPT=33434 LEN=40 ] ",
     0,
     {"source.ip", "192.0.2.1", "destination.ip", "192.0.2.10", "network.transport", "icmp",
      "source.port", NULL, "destination.port", NULL, "netfilter.prefix", NULL, "event.outcome",
      NULL, "event.type", NULL, "icmp.type", "3", NULL}},
    /* IPv6, written in full by the kernel */
    {H "[UFW BLOCK] IN=eth0 OUT= MAC=33:33:00:00:00:01:52:54:00:12:34:56:86:dd "
       "SRC=fe80:0000:0000:0000:5054:00ff:fe12:3456 DST=ff02:0000:0000:0000:0000:0000:0000:0001 "
       "LEN=72 TC=0 HOPLIMIT=1 FLOWLBL=0 PROTO=ICMPv6 TYPE=134 CODE=0",
     0,
     {"source.ip", "fe80:0000:0000:0000:5054:00ff:fe12:3456", "destination.ip",
      "ff02:0000:0000:0000:0000:0000:0000:0001", "network.transport", "icmpv6", "netfilter.ttl",
      "1", NULL}},
    /* ufw audit: no verdict word in the prefix, no outcome */
    {H "[UFW AUDIT] IN=lo OUT= SRC=127.0.0.1 DST=127.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 "
       "DF PROTO=TCP SPT=5000 DPT=5001 WINDOW=65495 RES=0x00 SYN URGP=0",
     0,
     {"netfilter.prefix", "[UFW AUDIT]", "event.outcome", NULL, "event.type", NULL, NULL}},
    /* flag words that are not adjacent are still collected (arena copy) */
    {H "X IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP SPT=1 DPT=2 RES=0x00 ACK URGP=0 PSH",
     0,
     {"tcp.flags", "ACK PSH", NULL}},
    /* not netfilter */
    {H "[    1.234567] Linux version 6.1.0-21-amd64", -ENOENT, {NULL}},
    {H "IN=eth0 OUT= MAC=00", -ENOENT, {NULL}},
    {H "LOGIN=alice SRC=192.0.2.1", -ENOENT, {NULL}},
    {H "", -ENOENT, {NULL}},
    /* malformed */
    {H "IN=eth0 OUT= SRC=999.1.1.1 DST=192.0.2.1 PROTO=TCP", -EINVAL, {NULL}},
    {H "IN=eth0 OUT= SRC= DST=192.0.2.1 PROTO=TCP", -EINVAL, {NULL}},
    {H "IN=eth0 OUT= SRC=192.0.2.1 DST=nowhere PROTO=TCP", -EINVAL, {NULL}},
    {H "IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP SPT=99999 DPT=1", -EINVAL, {NULL}},
    {H "IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP SPT=1 DPT=x", -EINVAL, {NULL}},
    /* truncated mid-packet: what is there is kept */
    {H "[UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.50 DST=192.0.2.10 LEN=60 TOS=0x00 PR",
     0,
     {"source.ip", "203.0.113.50", "destination.ip", "192.0.2.10", "network.transport", NULL,
      NULL}},
    /* an unterminated inner packet ends the scan */
    {H "IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=ICMP TYPE=3 CODE=1 [SRC=1.1.1.1 [x",
     0,
     {"source.ip", "192.0.2.1", NULL}},
    /* non-UTF-8 in the prefix is carried as it is */
    {H "\xff\xfe IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP",
     0,
     {"netfilter.prefix", "\xff\xfe", NULL}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct nf_case *t = &cases[c];
        struct event ev;
        struct parse_err err;
        uint32_t before;
        int r = decode_testlib_run_chain(decode_rfc3164, decode_netfilter, &ev, t->line,
                                         strlen(t->line), &err, &before);

        assert_true(event_is(&ev, FIELD_PROCESS_NAME, "kernel"));
        decode_testlib_expect_ret(c, t->line, r, t->ret, &err);
        if (r == 0) {
            assert_string_equal(ev.decoder, "netfilter");
            decode_testlib_expect_field(&ev, "@timestamp", "2026-06-01T10:00:00.000000Z", t->line);
            decode_testlib_expect_fields(&ev, t->want, t->line);
        } else {
            assert_int_equal(ev.nfields, before);
        }
    }
}

/* Kernel messages of the loghub Linux and Mac samples hold no netfilter
 * lines: none may be taken, none rejected as malformed. */
static void scan_no_false_positives(const char *rel)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n, kernel = 0, taken = 0, einval = 0;

    decode_testlib_lines_open(&it, rel);
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err err;
        uint32_t before;
        int r = decode_testlib_run_chain(decode_rfc3164, decode_netfilter, &ev, line, n, &err,
                                         &before);

        kernel += event_is(&ev, FIELD_PROCESS_NAME, "kernel");
        taken += r == 0;
        einval += r == -EINVAL;
    }
    decode_testlib_lines_close(&it);
    printf("%s: netfilter decoded %zu of its lines (%zu kernel lines, none netfilter), %zu "
           "malformed\n",
           rel, taken, kernel, einval);
    assert_true(kernel > 0);
    assert_int_equal(taken, 0);
    assert_int_equal(einval, 0);
}

static void test_no_false_positives(void **state)
{
    (void)state;
    scan_no_false_positives("data/linux-logs/loghub/Linux/Linux_2k.log");
    scan_no_false_positives("data/linux-logs/loghub/Mac/Mac_2k.log");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_no_false_positives),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, 0);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
