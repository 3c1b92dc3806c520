/*
 * test_decode_srx.c - Juniper SRX RT_FLOW session logs.  No Junos log is in
 * ../shared/data: these lines were written from Juniper's RT_FLOW system
 * log reference (RT_FLOW_SESSION_CREATE, _CLOSE and _DENY with their
 * structured-data params, and the BSD form's text), decoded as the
 * pipeline does: the syslog header decoder first, then decode_srx on the
 * message.
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
#include "decode/decode_rfc5424.h"
#include "decode/decode_srx.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define SD "<14>1 2020-03-10T13:45:30.123+01:00 srx340 RT_FLOW - "

struct srx_case {
    const char *line;
    int rfc5424; /* header decoder: 1 RFC 5424, 0 RFC 3164 */
    int ret;
    struct decode_testlib_kv f[24];
};

static const struct srx_case cases[] = {
    /* structured data, session created, source NAT */
    {SD "RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.135 source-address=\"192.168.1.10\" "
        "source-port=\"51234\" destination-address=\"93.184.216.34\" destination-port=\"443\" "
        "connection-tag=\"0\" service-name=\"junos-https\" nat-source-address=\"198.51.100.2\" "
        "nat-source-port=\"28123\" nat-destination-address=\"93.184.216.34\" "
        "nat-destination-port=\"443\" nat-connection-tag=\"0\" src-nat-rule-type=\"source rule\" "
        "src-nat-rule-name=\"r1\" dst-nat-rule-type=\"N/A\" dst-nat-rule-name=\"N/A\" "
        "protocol-id=\"6\" policy-name=\"trust-to-untrust\" source-zone-name=\"trust\" "
        "destination-zone-name=\"untrust\" session-id-32=\"12345\" username=\"N/A\" roles=\"N/A\" "
        "packet-incoming-interface=\"ge-0/0/1.0\" application=\"UNKNOWN\" "
        "nested-application=\"UNKNOWN\" encrypted=\"UNKNOWN\"] session created "
        "192.168.1.10/51234->93.184.216.34/443 0x0 junos-https",
     1,
     0,
     {{"observer.vendor", "Juniper"},
      {"observer.product", "SRX"},
      {"event.dataset", "juniper.srx"},
      {"event.action", "RT_FLOW_SESSION_CREATE"},
      {"event.type", "allowed"},
      {"event.outcome", "success"},
      {"source.ip", "192.168.1.10"},
      {"source.port", "51234"},
      {"destination.ip", "93.184.216.34"},
      {"destination.port", "443"},
      {"source.nat.ip", "198.51.100.2"},
      {"source.nat.port", "28123"},
      {"network.transport", "tcp"},
      {"rule.name", "trust-to-untrust"},
      {"observer.ingress.zone", "trust"},
      {"observer.egress.zone", "untrust"},
      {"observer.ingress.interface.name", "ge-0/0/1.0"},
      {"user.name", NULL},
      {"network.application", NULL},
      {"srx.service_name", "junos-https"},
      {"srx.session_id", "12345"},
      {NULL, NULL}}},
    /* structured data only (empty MSG), session closed, byte counts */
    {SD "RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.40 reason=\"TCP FIN\" "
        "source-address=\"10.0.0.5\" source-port=\"40000\" destination-address=\"203.0.113.80\" "
        "destination-port=\"80\" service-name=\"junos-http\" nat-source-address=\"0.0.0.0\" "
        "nat-source-port=\"0\" protocol-id=\"6\" policy-name=\"web\" source-zone-name=\"trust\" "
        "destination-zone-name=\"untrust\" session-id-32=\"777\" packets-from-client=\"10\" "
        "bytes-from-client=\"1200\" packets-from-server=\"8\" bytes-from-server=\"9000\" "
        "elapsed-time=\"3\" application=\"HTTP\" username=\"alice\"]",
     1,
     0,
     {{"event.action", "RT_FLOW_SESSION_CLOSE"},
      {"event.outcome", "success"},
      {"event.reason", "TCP FIN"},
      {"source.nat.ip", NULL},
      {"source.nat.port", NULL},
      {"source.bytes", "1200"},
      {"destination.bytes", "9000"},
      {"network.application", "HTTP"},
      {"user.name", "alice"},
      {NULL, NULL}}},
    /* structured data, denied UDP */
    {SD "RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address=\"198.51.100.7\" "
        "source-port=\"5353\" destination-address=\"192.0.2.10\" destination-port=\"161\" "
        "service-name=\"junos-snmp-agentx\" protocol-id=\"17\" icmp-type=\"0\" "
        "policy-name=\"default-deny\" source-zone-name=\"untrust\" destination-zone-name=\"trust\" "
        "application=\"UNKNOWN\" nested-application=\"UNKNOWN\" username=\"N/A\" roles=\"N/A\" "
        "packet-incoming-interface=\"ge-0/0/0.0\" encrypted=\"No\" reason=\"policy deny\"] "
        "session denied 198.51.100.7/5353->192.0.2.10/161",
     1,
     0,
     {{"event.action", "RT_FLOW_SESSION_DENY"},
      {"event.type", "denied"},
      {"event.outcome", "failure"},
      {"network.transport", "udp"},
      {"destination.port", "161"},
      {"rule.name", "default-deny"},
      {"event.reason", "policy deny"},
      {NULL, NULL}}},
    /* BSD form: the text gives the addresses */
    {"Mar 10 13:45:30 srx340 RT_FLOW: RT_FLOW_SESSION_DENY: session denied "
     "198.51.100.7/5353->192.0.2.10/161 0x0 junos-snmp 17(0) default-deny untrust trust UNKNOWN "
     "UNKNOWN N/A(N/A) ge-0/0/0.0 No policy deny 1",
     0,
     0,
     {{"event.action", "RT_FLOW_SESSION_DENY"},
      {"event.outcome", "failure"},
      {"source.ip", "198.51.100.7"},
      {"source.port", "5353"},
      {"destination.ip", "192.0.2.10"},
      {"destination.port", "161"},
      {NULL, NULL}}},
    /* IPv6 in the structured data */
    {SD "RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.135 source-address=\"2001:db8::5\" "
        "source-port=\"40000\" destination-address=\"2001:db8::1\" destination-port=\"22\" "
        "protocol-id=\"6\" nat-source-address=\"::\" policy-name=\"ssh\"]",
     1,
     0,
     {{"source.ip", "2001:db8::5"}, {"destination.ip", "2001:db8::1"}, {"source.nat.ip", NULL},
      {NULL, NULL}}},
    /* other RT_FLOW messages and other junos data are not sessions */
    {SD "RT_FLOW_SESSION_X [other@1 source-address=\"1.2.3.4\"]", 1, -ENOENT, {{NULL, NULL}}},
    {SD "RT_SCREEN_TCP [junos@2636.1.1.1.2.40 source-address=\"1.2.3.4\"]", 1, -ENOENT,
     {{NULL, NULL}}},
    {"Mar 10 13:45:30 srx340 RT_FLOW: RT_FLOW_SESSION", 0, -ENOENT, {{NULL, NULL}}},
    /* hostile values */
    {SD "RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.135 source-address=\"999.1.1.1\"]", 1, -EINVAL,
     {{NULL, NULL}}},
    {SD "RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.135 source-address=\"10.0.0.1\" "
        "source-port=\"70000\"]",
     1, -EINVAL, {{NULL, NULL}}},
    {"Mar 10 13:45:30 srx340 RT_FLOW: RT_FLOW_SESSION_DENY: session denied x/1->192.0.2.10/161", 0,
     -EINVAL, {{NULL, NULL}}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct srx_case *t = &cases[c];
        struct event ev;
        struct parse_err err;
        uint32_t before;
        int r = decode_testlib_run_chain(t->rfc5424 ? decode_rfc5424 : decode_rfc3164, decode_srx,
                                         &ev, t->line, strlen(t->line), &err, &before);

        decode_testlib_expect_ret(c, t->line, r, t->ret, &err);
        if (r == 0) {
            assert_string_equal(ev.decoder, "juniper-srx");
            for (const struct decode_testlib_kv *f = t->f; f->name; f++)
                decode_testlib_expect_field(&ev, f->name, f->want, t->line);
        } else if (r == -ENOENT) {
            assert_int_equal(ev.nfields, before);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
