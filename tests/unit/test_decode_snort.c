/*
 * test_decode_snort.c - Snort/Suricata alerts: alert_csv, fast.log and the
 * syslog form.
 *
 * The CSV lines are real: Apache Metron's Snort sample
 * (../shared/data/firewall/metron/.../snort/raw/SnortOutput).  The fast.log
 * and syslog lines are written from the formats Snort's alert_fast and
 * alert_syslog and Suricata's fast.log write (documentation addresses;
 * the signatures are public ET/GPL ones): with and without the year,
 * Suricata's verdict, IPv6 in both notations, ICMP without ports.  Then
 * lines that are not alerts, broken endpoints and every truncation.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "decode/decode_snort.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good good[] = {
    /* Metron */
    {"01/27/16-16:01:04.877970 ,129,12,1,\"Consecutive TCP small segments exceeding "
     "threshold\",TCP,10.0.2.2,56642,10.0.2.15,22,52:54:00:12:35:02,08:00:27:7F:93:2D,0x4E,"
     "***AP***,0x9AFF3D7,0xC8761D52,,0xFFFF,64,0,59677,64,65536,,,,",
     {{"@timestamp", "2016-01-27T16:01:04.877970Z"},
      {"event.kind", "alert"},
      {"event.action", "alert"},
      {"event.dataset", "snort.alert"},
      {"snort.gid", "129"},
      {"rule.id", "12"},
      {"rule.version", "1"},
      {"rule.name", "Consecutive TCP small segments exceeding threshold"},
      {"network.transport", "tcp"},
      {"source.ip", "10.0.2.2"},
      {"source.port", "56642"},
      {"destination.ip", "10.0.2.15"},
      {"destination.port", "22"},
      {"source.mac", "52:54:00:12:35:02"},
      {"destination.mac", "08:00:27:7F:93:2D"},
      {"tcp.flags", "***AP***"},
      {"ip.ttl", "64"},
      {"icmp.type", NULL},
      {NULL, NULL}}},
    /* Metron */
    {"02/22/16-15:56:48.612494 ,129,12,1,\"Consecutive TCP small segments exceeding "
     "threshold\",TCP,96.44.142.5,80,10.0.2.15,50895,52:54:00:12:35:02,08:00:27:7F:93:2D,0x6E,"
     "***AP***,0xDB45F7A,0x7701DD5B,,0xFFFF,64,0,16785,96,98304,,,,",
     {{"source.ip", "96.44.142.5"},
      {"source.port", "80"},
      {"destination.port", "50895"},
      {NULL, NULL}}},
    /* written: CSV cut after the ports (a shorter output list), ICMP */
    {"01/27/16-16:01:05.1 ,1,384,8,\"GPL ICMP_INFO PING\",ICMP,192.0.2.1,,192.0.2.2,",
     {{"network.transport", "icmp"},
      {"source.port", NULL},
      {"rule.name", "GPL ICMP_INFO PING"},
      {NULL, NULL}}},
    /* written: Suricata fast.log */
    {"10/05/2017-04:33:03.383208  [**] [1:2013504:5] ET POLICY GNU/Linux APT User-Agent "
     "Outbound likely related to package management [**] [Classification: Not Suspicious "
     "Traffic] [Priority: 3] {TCP} 10.0.2.15:38732 -> 91.189.88.162:80",
     {{"@timestamp", "2017-10-05T04:33:03.383208Z"},
      {"rule.id", "2013504"},
      {"rule.name", "ET POLICY GNU/Linux APT User-Agent Outbound likely related to package "
                    "management"},
      {"rule.category", "Not Suspicious Traffic"},
      {"event.severity", "3"},
      {"source.port", "38732"},
      {"destination.ip", "91.189.88.162"},
      {NULL, NULL}}},
    /* written: Snort fast.log without the year, a message holding brackets */
    {"05/31-23:59:58.000001  [**] [1:2019401:3] ET POLICY [x] Vulnerable Java Version [**] "
     "[Priority: 1] {UDP} 192.0.2.9:5353 -> 224.0.0.251:5353",
     {{"@timestamp", "2026-05-31T23:59:58.000001Z"},
      {"rule.name", "ET POLICY [x] Vulnerable Java Version"},
      {"rule.category", NULL},
      {"event.severity", "1"},
      {"network.transport", "udp"},
      {NULL, NULL}}},
    /* written: the syslog form (no time, ": <iface>") */
    {"[1:2100498:7] GPL ATTACK_RESPONSE id check returned root [Classification: Potentially Bad "
     "Traffic] [Priority: 2]: <eth0> {TCP} 198.51.100.4:80 -> 192.0.2.7:51234",
     {{"@timestamp", NULL},
      {"rule.id", "2100498"},
      {"rule.category", "Potentially Bad Traffic"},
      {"observer.ingress.interface.name", "eth0"},
      {"source.ip", "198.51.100.4"},
      {"destination.port", "51234"},
      {NULL, NULL}}},
    /* written: Suricata's drop, IPv6 ICMP without ports */
    {"01/12/2026-10:00:00.5  [Drop] [**] [1:2:3] x [**] [Classification: A] [Priority: 1] "
     "{IPV6-ICMP} 2001:db8::1 -> 2001:db8::2",
     {{"event.action", "drop"},
      {"event.type", "denied"},
      {"source.ip", "2001:db8::1"},
      {"destination.ip", "2001:db8::2"},
      {"source.port", NULL},
      {NULL, NULL}}},
    /* written: IPv6 with ports, Suricata's full form and the bracketed one */
    {"01/12/2026-10:00:00.5  [**] [1:2:3] x [**] {TCP} "
     "2001:0db8:0000:0000:0000:0000:0000:0001:443 -> [2001:db8::2]:50000",
     {{"source.ip", "2001:0db8:0000:0000:0000:0000:0000:0001"},
      {"source.port", "443"},
      {"destination.ip", "2001:db8::2"},
      {"destination.port", "50000"},
      {NULL, NULL}}},
};

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"hello [1:2] world", -ENOENT, 0},
    {"01/27/16-16:01:04.877970 just text", -ENOENT, 0},
    {"[1:x:3] msg {TCP} 1.2.3.4:1 -> 5.6.7.8:2", -ENOENT, 0},
    {"01/27/16-16:01:04.877970 ,a,12,1,\"m\",TCP,10.0.2.2,1,10.0.2.15,2", -ENOENT, 0},
    {"01/27/16-16:01:04.877970 ,1,12,1,\"unterminated,TCP,10.0.2.2,1,10.0.2.15,2", -ENOENT, 0},
    {"13/27/16-16:01:04.877970 [**] [1:2:3] m [**] {TCP} 1.2.3.4:1 -> 5.6.7.8:2", -ENOENT, 0},
    /* an alert whose endpoints are broken */
    {"[1:2:3] m {TCP} 1.2.3.4:1 - 5.6.7.8:2", -EINVAL, 16},
    {"[1:2:3] m {TCP} 1.2.3.999:1 -> 5.6.7.8:2", -EINVAL, 16},
    {"[1:2:3] m {TCP} 1.2.3.4:1 -> 5.6.7.8:70000", -EINVAL, 29},
    {"[1:2:3] m {TCP 1.2.3.4:1 -> 5.6.7.8:2", -EINVAL, 10},
    {"01/27/16-16:01:04.877970 ,1,12,1,\"m\",TCP,10.0.2.300,1,10.0.2.15,2", -EINVAL, 41},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_snort, "snort", good, sizeof(good) / sizeof(good[0]));
}

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_snort, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_truncated(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(good) / sizeof(good[0]); c++) {
        for (size_t k = 0; k < strlen(good[c].line); k++) {
            struct event ev;
            struct parse_err perr;
            int r = decode_testlib_run(decode_snort, &ev, good[c].line, k, &perr);

            if (r != 0 && r != -ENOENT && r != -EINVAL)
                fail_msg("case %zu cut at %zu: %d", c, k, r);
            if (r == -ENOENT)
                assert_int_equal(ev.nfields, 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_truncated),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
