/*
 * test_decode_checkpoint.c - Check Point Log Exporter's syslog format.  No
 * Check Point log is in ../shared/data: these lines were written from
 * Check Point's Log Exporter documentation (the syslog format's header and
 * key:"value" list, its field names for connections, NAT, identity
 * awareness and VPN logins), with hostile and cut variants.  The whole
 * record is handed to the decoder, as auto-detection does.
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

#include "decode/decode_checkpoint.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define H5424 "<134>1 2023-03-01T10:00:00Z gw-01 CheckPoint 26203 - "

static const struct decode_testlib_good good[] = {
    /* a drop by the cleanup rule, RFC 5424 header */
    {H5424 "[action:\"Drop\"; flags:\"411908\"; ifdir:\"inbound\"; ifname:\"eth1\"; "
           "logid:\"0\"; loguid:\"{0x63ff1234,0x0,0x1d2e3f4a,0xc0000000}\"; origin:\"192.0.2.1\"; "
           "originsicname:\"CN=gw-01,O=mgmt..abcd\"; sequencenum:\"7\"; time:\"1677664800\"; "
           "version:\"5\"; dst:\"192.0.2.10\"; inzone:\"External\"; layer_name:\"Network\"; "
           "outzone:\"Internal\"; product:\"VPN-1 & FireWall-1\"; proto:\"6\"; "
           "rule_name:\"Cleanup rule\"; rule_uid:\"1a2b3c4d-0000-4000-8000-123456789abc\"; "
           "s_port:\"40000\"; service:\"22\"; service_id:\"ssh\"; src:\"198.51.100.7\"]",
     {{"host.name", "gw-01"},
      {"process.name", "CheckPoint"},
      {"observer.vendor", "Check Point"},
      {"observer.product", "VPN-1 & FireWall-1"},
      {"event.dataset", "checkpoint.log"},
      {"event.category", "network"},
      {"source.ip", "198.51.100.7"},
      {"source.port", "40000"},
      {"destination.ip", "192.0.2.10"},
      {"destination.port", "22"},
      {"network.transport", "tcp"},
      {"event.action", "Drop"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"rule.name", "Cleanup rule"},
      {"rule.id", "1a2b3c4d-0000-4000-8000-123456789abc"},
      {"network.direction", "inbound"},
      {"observer.ingress.interface.name", "eth1"},
      {"observer.ingress.zone", "External"},
      {"observer.ip", "192.0.2.1"},
      {"checkpoint.service_id", "ssh"},
      {"checkpoint.loguid", "{0x63ff1234,0x0,0x1d2e3f4a,0xc0000000}"},
      {NULL, NULL}}},
    /* an accepted outbound connection with source NAT and a user */
    {H5424 "[action:\"Accept\"; ifdir:\"outbound\"; ifname:\"eth0\"; origin:\"192.0.2.1\"; "
           "src:\"10.1.1.20\"; dst:\"93.184.216.34\"; proto:\"6\"; s_port:\"51000\"; "
           "service:\"443\"; xlatesrc:\"198.51.100.2\"; xlatesport:\"30211\"; "
           "xlatedst:\"0.0.0.0\"; xlatedport:\"0\"; src_user_name:\"Alice (alice)\"; "
           "rule_name:\"Web\"]",
     {{"event.outcome", "success"},
      {"event.type", "allowed"},
      {"observer.egress.interface.name", "eth0"},
      {"observer.ingress.interface.name", NULL},
      {"source.nat.ip", "198.51.100.2"},
      {"source.nat.port", "30211"},
      {"destination.nat.ip", NULL},
      {"destination.nat.port", NULL},
      {"user.name", "Alice (alice)"},
      {"observer.product", "Check Point"},
      {NULL, NULL}}},
    /* a failed VPN login, RFC 3164 header; an escaped quote in a value */
    {"<134>Mar  1 10:00:01 gw-01 CheckPoint[26203]: [action:\"Failed Log In\"; "
     "origin:\"192.0.2.1\"; product:\"Mobile Access\"; src:\"203.0.113.50\"; user:\"bob\"; "
     "auth_method:\"Password\"; reason:\"Wrong \\\"password\\\"\"]",
     {{"process.name", "CheckPoint"},
      {"event.category", "authentication"},
      {"event.action", "Failed Log In"},
      {"event.outcome", "failure"},
      {"event.type", NULL},
      {"source.ip", "203.0.113.50"},
      {"user.name", "bob"},
      {"event.reason", "Wrong \"password\""},
      {"checkpoint.auth_method", "Password"},
      {NULL, NULL}}},
    /* the message part alone; a service name that is not a port */
    {"[action:\"Reject\"; src:\"2001:db8::5\"; dst:\"2001:db8::1\"; proto:\"17\"; "
     "service:\"domain-udp\"]",
     {{"source.ip", "2001:db8::5"},
      {"network.transport", "udp"},
      {"destination.port", NULL},
      {"checkpoint.service", NULL},
      {"event.outcome", "failure"},
      {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_checkpoint, "checkpoint", good,
                              sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"<134>1 2023-03-01T10:00:00Z gw-01 CheckPoint 26203 - - no list here", -ENOENT, 0},
    {"<13>1 2023-03-01T10:00:00Z h app - - [exampleSDID@32473 iut=\"3\"] msg", -ENOENT, 0},
    /* a header that is not a syslog header */
    {"garbage before [action:\"Drop\"]", -EINVAL, 0},
    /* an unclosed quote, a malformed pair, a bad address */
    {"[action:\"Drop\"; src:\"198.51.100.7]", -EINVAL, 20},
    {"[action:\"Drop\"; src=\"198.51.100.7\"]", -EINVAL, 19},
    {"[action:\"Drop\"; src:\"198.51.100.700\"]", -EINVAL, 0},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_checkpoint, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Every prefix of a full record: 0, -ENOENT or -EINVAL only, never a read
 * past it (the heap copy is exactly the prefix). */
static void test_prefixes(void **state)
{
    const char *line = good[0].line;

    (void)state;
    for (size_t k = 0; k <= strlen(line); k++) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run(decode_checkpoint, &ev, line, k, &perr);
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
