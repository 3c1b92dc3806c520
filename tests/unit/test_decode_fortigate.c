/*
 * test_decode_fortigate.c - FortiGate key=value logs.  No FortiGate log is
 * in ../shared/data: these lines were written from the FortiOS Log Message
 * Reference (6.x/7.x field names and values: traffic forward/local, utm
 * virus/webfilter/ips/app-ctrl, event system admin logins and vpn SSL
 * logins), with hostile and cut variants; the device's own time (date=,
 * time=, tz=, eventtime=) from the same reference, with bad times that
 * leave the header's.
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

#include "decode/decode_fortigate.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "event/tz.h"

#define DEV "date=2024-05-10 time=11:37:47 devname=\"FGT-HQ\" devid=\"FG100E4Q17000001\" "

static const struct decode_testlib_good good[] = {
    /* traffic forward, session closed normally */
    {DEV "eventtime=1715340000000000000 tz=\"+0200\" logid=\"0000000013\" type=\"traffic\" "
         "subtype=\"forward\" level=\"notice\" vd=\"root\" srcip=10.1.100.11 srcport=58012 "
         "srcintf=\"port12\" srcintfrole=\"lan\" dstip=203.0.113.35 dstport=80 dstintf=\"port11\" "
         "dstintfrole=\"wan\" sessionid=98744 proto=6 action=\"close\" policyid=1 "
         "policytype=\"policy\" policyname=\"LAN-to-WAN\" service=\"HTTP\" trandisp=\"snat\" "
         "transip=198.51.100.2 transport=58012 app=\"HTTP.BROWSER_Firefox\" duration=116 "
         "sentbyte=1188 rcvdbyte=1224 sentpkt=17 rcvdpkt=16",
     {{"observer.vendor", "Fortinet"},
      {"observer.product", "FortiGate"},
      {"observer.name", "FGT-HQ"},
      {"observer.serial_number", "FG100E4Q17000001"},
      {"event.code", "0000000013"},
      {"event.dataset", "fortigate.traffic"},
      {"event.category", "network"},
      {"source.ip", "10.1.100.11"},
      {"source.port", "58012"},
      {"destination.ip", "203.0.113.35"},
      {"destination.port", "80"},
      {"network.transport", "tcp"},
      {"observer.ingress.interface.name", "port12"},
      {"source.nat.ip", "198.51.100.2"},
      {"source.bytes", "1188"},
      {"destination.bytes", "1224"},
      {"rule.id", "1"},
      {"rule.name", "LAN-to-WAN"},
      {"event.action", "close"},
      {"event.outcome", "success"},
      {"event.type", "allowed"},
      {"service", "HTTP"},
      {NULL, NULL}}},
    /* traffic denied by policy 0 (implicit deny), UDP */
    {DEV "logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" "
         "srcip=192.0.2.50 srcport=5353 srcintf=\"wan1\" dstip=10.0.0.5 dstport=161 "
         "dstintf=\"internal\" proto=17 action=\"deny\" policyid=0 policytype=\"policy\" "
         "service=\"SNMP\" sentbyte=0 rcvdbyte=0",
     {{"event.action", "deny"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"network.transport", "udp"},
      {"destination.port", "161"},
      {"rule.id", "0"},
      {"source.nat.ip", NULL},
      {NULL, NULL}}},
    /* utm virus blocked */
    {DEV "logid=\"0211008192\" type=\"utm\" subtype=\"virus\" eventtype=\"infected\" "
         "level=\"warning\" vd=\"root\" policyid=1 msg=\"File is infected.\" action=\"blocked\" "
         "service=\"HTTP\" sessionid=359260 srcip=10.1.100.11 dstip=172.16.200.55 srcport=60446 "
         "dstport=80 srcintf=\"port12\" dstintf=\"port11\" proto=6 direction=\"incoming\" "
         "filename=\"eicar.com\" quarskip=\"File-was-not-quarantined.\" virus=\"EICAR_TEST_FILE\" "
         "dtype=\"Virus\" ref=\"http://www.fortinet.com/ve?vn=EICAR_TEST_FILE\" virusid=2172 "
         "url=\"http://172.16.200.55/virus/eicar.com\" profile=\"default\" "
         "analyticscksum=\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\"",
     {{"event.dataset", "fortigate.utm"},
      {"event.category", "malware"},
      {"rule.name", "EICAR_TEST_FILE"},
      {"rule.id", NULL},
      {"file.name", "eicar.com"},
      {"url.original", "http://172.16.200.55/virus/eicar.com"},
      {"event.action", "blocked"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"msg", "File is infected."},
      {NULL, NULL}}},
    /* utm webfilter passthrough */
    {DEV "logid=\"0317013312\" type=\"utm\" subtype=\"webfilter\" eventtype=\"ftgd_allow\" "
         "level=\"notice\" policyid=1 sessionid=1234 user=\"alice\" srcip=10.1.100.20 "
         "srcport=50000 srcintf=\"port12\" dstip=93.184.216.34 dstport=443 dstintf=\"port11\" "
         "proto=6 service=\"HTTPS\" hostname=\"www.example.com\" profile=\"default\" "
         "action=\"passthrough\" reqtype=\"direct\" url=\"/\" sentbyte=100 rcvdbyte=0 "
         "direction=\"outgoing\" msg=\"URL belongs to an allowed category in policy\" cat=52 "
         "catdesc=\"Information Technology\"",
     {{"event.category", "web"},
      {"url.domain", "www.example.com"},
      {"url.original", "/"},
      {"user.name", "alice"},
      {"event.outcome", "success"},
      {"catdesc", "Information Technology"},
      {NULL, NULL}}},
    /* utm ips dropped */
    {DEV
     "logid=\"0419016384\" type=\"utm\" subtype=\"ips\" eventtype=\"signature\" "
     "level=\"alert\" severity=\"critical\" srcip=198.51.100.66 srccountry=\"Reserved\" "
     "dstip=10.0.0.80 srcintf=\"wan1\" dstintf=\"dmz\" sessionid=5555 action=\"dropped\" "
     "proto=6 service=\"HTTP\" policyid=5 attack=\"Apache.Log4j.Error.Log.Remote.Code.Execution\" "
     "srcport=40000 dstport=80 direction=\"outgoing\" attackid=51006 profile=\"default\" "
     "ref=\"http://www.fortinet.com/ids/VID51006\" incidentserialno=123 msg=\"web_app3: "
     "Apache.Log4j.Error.Log.Remote.Code.Execution,\"",
     {{"event.category", "intrusion_detection"},
      {"rule.name", "Apache.Log4j.Error.Log.Remote.Code.Execution"},
      {"rule.id", "51006"},
      {"event.severity", "critical"},
      {"event.outcome", "failure"},
      {NULL, NULL}}},
    /* utm app-ctrl */
    {DEV "logid=\"1059028704\" type=\"utm\" subtype=\"app-ctrl\" eventtype=\"signature\" "
         "level=\"information\" appid=16009 srcip=10.1.100.22 dstip=203.0.113.9 srcport=51000 "
         "dstport=443 srcintf=\"port12\" dstintf=\"port11\" proto=6 service=\"SSL\" "
         "direction=\"outgoing\" policyid=1 sessionid=77 applist=\"default\" appcat=\"Proxy\" "
         "app=\"Tor\" action=\"block\" msg=\"Proxy: Tor,\" apprisk=\"critical\"",
     {{"network.application", "Tor"},
      {"event.category", "network"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"appcat", "Proxy"},
      {NULL, NULL}}},
    /* event system: failed admin login */
    {DEV "logid=\"0100032002\" type=\"event\" subtype=\"system\" level=\"alert\" vd=\"root\" "
         "logdesc=\"Admin login failed\" sn=\"0\" user=\"admin\" ui=\"https(203.0.113.77)\" "
         "method=\"https\" srcip=203.0.113.77 dstip=198.51.100.2 action=\"login\" "
         "status=\"failed\" reason=\"passwd_invalid\" msg=\"Administrator admin login failed from "
         "https(203.0.113.77) because of invalid password\"",
     {{"event.dataset", "fortigate.event"},
      {"event.category", "authentication"},
      {"user.name", "admin"},
      {"source.ip", "203.0.113.77"},
      {"event.action", "login"},
      {"event.outcome", "failure"},
      {"event.type", NULL},
      {"event.reason", "passwd_invalid"},
      {NULL, NULL}}},
    /* event vpn: SSL VPN login failure, the client in remip */
    {DEV "logid=\"0101039426\" type=\"event\" subtype=\"vpn\" level=\"alert\" vd=\"root\" "
         "logdesc=\"SSL VPN login fail\" action=\"ssl-login-fail\" tunneltype=\"ssl-web\" "
         "tunnelid=0 remip=192.0.2.200 user=\"bob\" group=\"N/A\" dst_host=\"N/A\" "
         "reason=\"sslvpn_login_unknown_user\" msg=\"SSL user failed to logged in\"",
     {{"event.category", "authentication"},
      {"source.ip", "192.0.2.200"},
      {"user.name", "bob"},
      {"event.action", "ssl-login-fail"},
      {"event.outcome", "failure"},
      {"event.reason", "sslvpn_login_unknown_user"},
      {NULL, NULL}}},
    /* event vpn: tunnel up, no outcome word */
    {DEV "logid=\"0101039424\" type=\"event\" subtype=\"vpn\" level=\"information\" "
         "logdesc=\"SSL VPN tunnel up\" action=\"tunnel-up\" tunneltype=\"ssl-tunnel\" "
         "remip=192.0.2.201 user=\"carol\" reason=\"tunnel-established\"",
     {{"event.outcome", NULL}, {"user.name", "carol"}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_fortigate, "fortigate", good, sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"srcip=1.2.3.4 dstip=5.6.7.8 action=deny", -ENOENT, 0},
    /* the words without being pairs */
    {"the logid= and type= of nothing", -ENOENT, 0},
    {"Accepted password for root from 192.0.2.1 port 22 ssh2", -ENOENT, 0},
    /* an unclosed quote */
    {"logid=\"0000000013\" type=\"traffic\" action=\"close", -EINVAL, 41},
    /* bad address, bad port */
    {"logid=\"0000000013\" type=\"traffic\" srcip=10.1.100.300 dstip=1.2.3.4", -EINVAL, 40},
    {"logid=\"0000000013\" type=\"traffic\" srcip=10.1.100.3 dstport=70000", -EINVAL, 59},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_fortigate, bad, sizeof(bad) / sizeof(bad[0]));
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
        int r = decode_testlib_run(decode_fortigate, &ev, line, k, &perr);
        assert_true(r == 0 || r == -ENOENT || r == -EINVAL);
    }
}

/* Every key the decoder maps is recognised (its slot in the decoder's
 * table is right): a line holding all of them keeps none under its raw
 * name, as an unknown key would be kept. */
static void test_all_keys(void **state)
{
    static const char *const keys[] = {
        "action",    "app",        "attack",   "attackid", "devid",  "devname", "dstintf",
        "dstip",     "dstport",    "filename", "hostname", "level",  "logdesc", "logid",
        "policyid",  "policyname", "proto",    "rcvdbyte", "reason", "remip",   "sentbyte",
        "severity",  "srcintf",    "srcip",    "srcport",  "status", "subtype", "transip",
        "transport", "type",       "url",      "user",     "virus"};
    static const char line[] =
        "action=\"vaction\" app=\"vapp\" attack=\"vattack\" attackid=\"vattackid\" "
        "devid=\"vdevid\" devname=\"vdevname\" dstintf=\"vdstintf\" dstip=192.0.2.2 dstport=2 "
        "filename=\"vfilename\" hostname=\"vhostname\" level=\"vlevel\" logdesc=\"vlogdesc\" "
        "logid=\"0000000013\" policyid=\"vpolicyid\" policyname=\"vpolicyname\" proto=\"vproto\" "
        "rcvdbyte=\"vrcvdbyte\" reason=\"vreason\" remip=192.0.2.3 sentbyte=\"vsentbyte\" "
        "severity=\"vseverity\" srcintf=\"vsrcintf\" srcip=192.0.2.1 srcport=1 status=\"vstatus\" "
        "subtype=\"vsubtype\" transip=192.0.2.4 transport=3 type=\"traffic\" url=\"vurl\" "
        "user=\"vuser\" virus=\"vvirus\"";
    struct event ev;
    struct parse_err perr;

    (void)state;
    assert_int_equal(decode_testlib_run(decode_fortigate, &ev, line, strlen(line), &perr), 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        decode_testlib_expect_field(&ev, keys[i], NULL, keys[i]);
    decode_testlib_expect_field(&ev, "rule.name", "vpolicyname", line);
    decode_testlib_expect_field(&ev, "source.nat.port", "3", line);
}

/* A stand-in for the syslog header decoder: the header's time, and the
 * whole line as the message. */
#define HDR_TIME "2026-01-05T08:52:35.000000Z"
static int fake_header(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                       struct parse_err *reterr)
{
    int64_t us;
    size_t used;

    (void)ctx;
    (void)reterr;
    ev->msg = p;
    ev->msg_len = len;
    assert_int_equal(time_parse_iso8601(HDR_TIME, strlen(HDR_TIME), NULL, &us, &used), 0);
    return event_set_time(ev, us, "Jan  5 08:52:35", 15);
}

#define BASE "logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" srcip=10.1.100.11 "

/* The firewall's own time replaces the header's when it is one; the
 * header's stays when it is not.  Times written as FortiOS writes them
 * (the Log Message Reference's date=, time=, tz= and eventtime=). */
static void test_device_time(void **state)
{
    static const struct {
        const char *line, *want, *orig;
    } rows[] = {
        /* eventtime in nanoseconds (FortiOS 6.4 on) first, whatever date= says */
        {DEV "eventtime=1715340000000000000 tz=\"+0200\" " BASE, "2024-05-10T11:20:00.000000Z",
         "1715340000000000000"},
        /* in seconds (FortiOS 6.0-6.2) */
        {BASE "eventtime=1715340000", "2024-05-10T11:20:00.000000Z", "1715340000"},
        /* in microseconds */
        {BASE "eventtime=1715340000123456", "2024-05-10T11:20:00.123456Z", "1715340000123456"},
        /* no eventtime: date and time in the zone of tz= */
        {DEV "tz=\"+0200\" " BASE, "2024-05-10T09:37:47.000000Z", "2024-05-10T11:37:47+0200"},
        {DEV "tz=\"-0500\" " BASE, "2024-05-10T16:37:47.000000Z", "2024-05-10T11:37:47-0500"},
        /* a bad eventtime is passed over for date and time (no tz: the
         * context's zone, UTC here) */
        {DEV "eventtime=17153x0000 " BASE, "2024-05-10T11:37:47.000000Z", "2024-05-10T11:37:47"},
        {DEV "eventtime=0 " BASE, "2024-05-10T11:37:47.000000Z", "2024-05-10T11:37:47"},
        /* a tz that is no offset is not used */
        {DEV "tz=\"CEST\" " BASE, "2024-05-10T11:37:47.000000Z", "2024-05-10T11:37:47"},
        /* nothing usable: the header's time stays */
        {"date=2024-13-10 time=11:37:47 " BASE, HDR_TIME, "Jan  5 08:52:35"},
        {"date=2024-02-30 time=11:37:47 " BASE, HDR_TIME, "Jan  5 08:52:35"},
        {"date=2024-05-10 time=25:00:00 " BASE, HDR_TIME, "Jan  5 08:52:35"},
        {"date=2024-05-10 time=11:37 " BASE, HDR_TIME, "Jan  5 08:52:35"},
        {"date=2024/05/10 time=11:37:47 eventtime=abc " BASE, HDR_TIME, "Jan  5 08:52:35"},
        {BASE, HDR_TIME, "Jan  5 08:52:35"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct event ev;
        struct parse_err perr;
        uint32_t before;

        assert_int_equal(decode_testlib_run_chain(fake_header, decode_fortigate, &ev, rows[i].line,
                                                  strlen(rows[i].line), &perr, &before),
                         0);
        decode_testlib_expect_field(&ev, "@timestamp", rows[i].want, rows[i].line);
        decode_testlib_expect_field(&ev, "event.original_time", rows[i].orig, rows[i].line);
        assert_int_equal(ev.has_time, 1);
    }
}

/* date= and time= without tz= are local time in the context's zone, as
 * every zoneless time (hikeshi.yaml(5), timezone). */
static void test_device_time_zone(void **state)
{
    const char *line = DEV BASE;
    struct decode_ctx ctx = decode_testlib_ctx();
    struct event ev;
    struct parse_err perr;
    struct tz *z = NULL;

    (void)state;
    assert_int_equal(tz_fixed(9 * 3600, &z), 0);
    ctx.tz = z;
    assert_int_equal(decode_testlib_run_ctx(decode_fortigate, &ctx, &ev, line, strlen(line), &perr),
                     0);
    decode_testlib_expect_field(&ev, "@timestamp", "2024-05-10T02:37:47.000000Z", line);
    tz_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_prefixes),    cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_device_time), cmocka_unit_test(test_device_time_zone),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
