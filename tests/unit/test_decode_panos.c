/*
 * test_decode_panos.c - Palo Alto PAN-OS CSV syslog.
 *
 * The TRAFFIC and THREAT lines marked "real" are from Apache Metron's
 * sample SampleInput/PaloaltoOutput in ../shared/data (PAN-OS 6.1 era);
 * the whole file is also decoded through the RFC 3164 header.  No SYSTEM,
 * GLOBALPROTECT, IPv6 or url-subtype lines are in the shared data: those
 * were written here from Palo Alto's documented syslog field lists (SYSTEM
 * as in 6.1-11.x with the GlobalProtect and admin-auth descriptions PAN-OS
 * writes, GLOBALPROTECT as in 9.1-11.x), and say so below; so were the
 * device-time rows (Receive and Generated Time, good and bad).
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

#include "decode/decode_panos.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "event/tz.h"

#define SAMPLE                                                                                     \
    "data/firewall/metron/metron-platform/metron-integration-test/src/main/sample/data/"           \
    "SampleInput/PaloaltoOutput"

static const struct decode_testlib_good good[] = {
    /* real: THREAT vulnerability, reset-both */
    {"1,2015/01/05 05:38:58,0006C110285,THREAT,vulnerability,1,2015/01/05 05:38:58,10.0.0.115,"
     "216.0.10.198,0.0.0.0,0.0.0.0,EX-Allow,example\\user.name,,web-browsing,vsys1,internal,"
     "external,ethernet1/2,ethernet1/1,LOG-Default,2015/01/05 05:38:58,12031,1,54180,80,0,0,"
     "0x80004000,tcp,reset-both,\"ad.aspx?f=300x250&id=12;tile=1;ord="
     "67AF705D60B1119C0F18BEA336F9\","
     "HTTP: IIS Denial Of Service Attempt(40019),any,high,client-to-server,347368099,0x0,"
     "10.0.0.0-10.255.255.255,US,0,,1200568889751109656,, ",
     {{"observer.vendor", "Palo Alto Networks"},
      {"observer.product", "PAN-OS"},
      {"observer.serial_number", "0006C110285"},
      {"panos.type", "THREAT"},
      {"panos.subtype", "vulnerability"},
      {"source.ip", "10.0.0.115"},
      {"destination.ip", "216.0.10.198"},
      {"source.nat.ip", NULL},
      {"rule.name", "EX-Allow"},
      {"user.name", "example\\user.name"},
      {"destination.user.name", NULL},
      {"network.application", "web-browsing"},
      {"observer.ingress.zone", "internal"},
      {"source.port", "54180"},
      {"destination.port", "80"},
      {"network.transport", "tcp"},
      {"event.action", "reset-both"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"panos.misc", "ad.aspx?f=300x250&id=12;tile=1;ord=67AF705D60B1119C0F18BEA336F9"},
      {"panos.threat.name", "HTTP: IIS Denial Of Service Attempt"},
      {"rule.id", "40019"},
      {NULL, NULL}}},
    /* real: TRAFFIC end, allow, UDP */
    {"1,2015/01/05 12:51:33,0011C103117,TRAFFIC,end,1,2015/01/05 12:51:33,10.0.0.22,10.1.0.28,"
     "0.0.0.0,0.0.0.0,EX-Allow,,example\\user.name,vmware,vsys1,v_external,v_internal,"
     "ethernet1/2,ethernet1/1,LOG-Default,2015/01/05 12:51:33,33888863,1,62961,902,0,0,0x4019,"
     "udp,allow,108,108,0,1,2015/01/05 12:51:01,30,any,0,17754932051,0x0,10.0.0.0-10.255.255.255,"
     "10.0.0.0-10.255.255.255,0,1,0 ",
     {{"panos.type", "TRAFFIC"},
      {"event.dataset", "panos.traffic"},
      {"source.ip", "10.0.0.22"},
      {"destination.ip", "10.1.0.28"},
      {"user.name", NULL},
      {"destination.user.name", "example\\user.name"},
      {"source.port", "62961"},
      {"destination.port", "902"},
      {"network.transport", "udp"},
      {"event.action", "allow"},
      {"event.outcome", "success"},
      {"event.type", "allowed"},
      {"network.bytes", "108"},
      {"source.bytes", "108"},
      {"destination.bytes", "0"},
      {"network.packets", "1"},
      {"panos.elapsed", "30"},
      {"panos.session_id", "33888863"},
      {"panos.session_end_reason", NULL},
      {NULL, NULL}}},
    /* real: TRAFFIC drop by the catch-all rule, no egress interface */
    {"1,2015/01/05 12:51:33,0003C105690,TRAFFIC,drop,1,2015/01/05 12:51:33,10.0.0.219,10.3.0.21,"
     "0.0.0.0,0.0.0.0,catch all deny,,,not-applicable,vsys1,GuestAccess,trust,vlan.84,,"
     "LOG-Default,2015/01/05 12:51:33,0,1,62063,389,0,0,0x0,tcp,deny,70,70,0,1,2015/01/05 "
     "12:51:34,0,any,0,956329030,0x0,10.0.0.0-10.255.255.255,10.0.0.0-10.255.255.255,0,1,0 ",
     {{"panos.subtype", "drop"},
      {"rule.name", "catch all deny"},
      {"destination.port", "389"},
      {"event.action", "deny"},
      {"event.outcome", "failure"},
      {"observer.ingress.interface.name", "vlan.84"},
      {"observer.egress.interface.name", NULL},
      {NULL, NULL}}},
    /* real: THREAT virus with NAT on both sides: the file name, threat id */
    {"1,2015/01/05 06:41:34,0006C113118,THREAT,virus,1,2015/01/05 06:41:34,94.0.0.3,10.0.0.208,"
     "94.0.0.3,211.0.10.226,EX-Allow,,example\\user.name,web-browsing,vsys1,untrust,trust,"
     "ethernet1/1,ethernet1/2,LOG-Default,2015/01/05 06:41:34,16864,2,80,60194,80,56595,0x404000,"
     "tcp,deny,\"FreemakeVideoConverterSetup.exe\",Virus/Win32.WGeneric.dyxeh(2367869),any,medium,"
     "server-to-client,40462931,0x0,GB,10.0.0.0-10.255.255.255,0,,0,, ",
     {{"source.nat.ip", "94.0.0.3"},
      {"destination.nat.ip", "211.0.10.226"},
      {"source.nat.port", "80"},
      {"destination.nat.port", "56595"},
      {"file.name", "FreemakeVideoConverterSetup.exe"},
      {"panos.misc", NULL},
      {"panos.threat.name", "Virus/Win32.WGeneric.dyxeh"},
      {"rule.id", "2367869"},
      {"panos.severity", "medium"},
      {"panos.direction", "server-to-client"},
      {"event.category", "network"},
      {NULL, NULL}}},
    /* written from the 8.x THREAT field list: url subtype, a quoted URL
     * holding a comma and doubled quotes, user agent and referer */
    {"1,2019/03/18 10:00:00,001801000000,THREAT,url,2049,2019/03/18 10:00:00,192.168.1.20,"
     "198.51.100.80,203.0.113.1,198.51.100.80,Allow-Web,corp\\bob,,web-browsing,vsys1,trust,"
     "untrust,ethernet1/2,ethernet1/1,Forward,2019/03/18 10:00:00,40001,1,51000,80,31000,80,"
     "0x40b000,tcp,block-url,\"bad.example.com/p?a=1,b=\"\"x\"\"\",(9999),malware,informational,"
     "client-to-server,7200000000000000010,0x0,192.168.0.0-192.168.255.255,US,0,text/html,0,,,1,"
     "\"Mozilla/5.0 (Windows NT 10.0)\",,,\"http://ref.example.com/\",,,",
     {{"url.original", "bad.example.com/p?a=1,b=\"x\""},
      {"rule.id", "9999"},
      {"panos.threat.name", NULL},
      {"panos.threat.category", "malware"},
      {"event.action", "block-url"},
      {"event.outcome", "failure"},
      {"source.nat.ip", "203.0.113.1"},
      {"user_agent.original", "Mozilla/5.0 (Windows NT 10.0)"},
      {"http.request.referrer", "http://ref.example.com/"},
      {"email.from.address", NULL},
      {NULL, NULL}}},
    /* written from the TRAFFIC field list: IPv6, cut after the action */
    {"1,2021/07/01 08:00:00,001801000000,TRAFFIC,deny,2049,2021/07/01 08:00:00,2001:db8::10,"
     "2001:db8:1::53,::,::,deny-dns,,,dns,vsys1,trust,untrust,ethernet1/2,,Forward,"
     "2021/07/01 08:00:00,0,1,53000,53,0,0,0x0,udp,deny",
     {{"source.ip", "2001:db8::10"},
      {"destination.ip", "2001:db8:1::53"},
      {"source.nat.ip", "::"},
      {"destination.port", "53"},
      {"event.action", "deny"},
      {"network.bytes", NULL},
      {NULL, NULL}}},
    /* written from the SYSTEM field list and the description GlobalProtect
     * portals wrote before 9.1 */
    {"1,2019/03/18 09:30:00,001801000000,SYSTEM,globalprotect,0,2019/03/18 09:30:00,,"
     "globalprotectportal-auth-fail,GP-Portal,0,0,general,medium,\"GlobalProtect portal user "
     "authentication failed. Login from: 198.51.100.23, Source region: US, User name: alice, "
     "Client OS version: Microsoft Windows 10 Pro , 64-bit, Reason: Authentication failed: "
     "Invalid username or password, Auth type: profile.\",7200000000000000002,0x0,0,0,0,0,,PA-VM",
     {{"panos.type", "SYSTEM"},
      {"event.action", "globalprotectportal-auth-fail"},
      {"event.code", "globalprotectportal-auth-fail"},
      {"panos.object", "GP-Portal"},
      {"panos.module", "general"},
      {"panos.severity", "medium"},
      {"user.name", "alice"},
      {"source.ip", "198.51.100.23"},
      {"event.outcome", "failure"},
      {"event.category", "authentication"},
      {NULL, NULL}}},
    /* written from the SYSTEM field list: a failed administrator login */
    {"1,2019/03/18 09:31:00,001801000000,SYSTEM,auth,0,2019/03/18 09:31:00,,auth-fail,,0,0,"
     "general,medium,\"failed authentication for user 'admin'. Reason: Invalid username/password."
     " From: 192.0.2.44.\",7200000000000000003,0x0,0,0,0,0,,PA-VM",
     {{"event.action", "auth-fail"},
      {"user.name", "admin"},
      {"source.ip", "192.0.2.44"},
      {"event.outcome", "failure"},
      {NULL, NULL}}},
    /* written from the SYSTEM field list: a general event, no auth fields */
    {"1,2019/03/18 09:32:00,001801000000,SYSTEM,general,0,2019/03/18 09:32:00,,general,,0,0,"
     "general,informational,\"User admin logged in via Web from 192.0.2.44 using https\","
     "7200000000000000004,0x0,0,0,0,0,,PA-VM",
     {{"event.action", "general"},
      {"panos.description", "User admin logged in via Web from 192.0.2.44 using https"},
      {"user.name", NULL},
      {"source.ip", NULL},
      {"event.outcome", NULL},
      {NULL, NULL}}},
    /* written from the 9.1-11.x GLOBALPROTECT field list */
    {"1,2023/05/10 10:00:00,012801000000,GLOBALPROTECT,0,2560,2023/05/10 10:00:00,vsys1,"
     "portal-auth,login,LDAP,,jdoe,US,LAPTOP-01,203.0.113.77,::,0.0.0.0,::,abcd-1234,,6.1.0,"
     "Windows,\"Microsoft Windows 10 Pro , 64-bit\",1,,Authentication failed: Invalid username or "
     "password,,failure,,0,on-demand,0,GP-Portal,7200000000000000001,0x0",
     {{"panos.type", "GLOBALPROTECT"},
      {"event.dataset", "panos.globalprotect"},
      {"event.action", "portal-auth"},
      {"panos.stage", "login"},
      {"panos.auth_method", "LDAP"},
      {"user.name", "jdoe"},
      {"source.geo.region_name", "US"},
      {"host.hostname", "LAPTOP-01"},
      {"source.ip", "203.0.113.77"},
      {"panos.private_ip", NULL},
      {"host.os.name", "Windows"},
      {"error.message", "Authentication failed: Invalid username or password"},
      {"event.outcome", "failure"},
      {"panos.portal", "GP-Portal"},
      {"event.category", "authentication"},
      {NULL, NULL}}},
    /* another log type: the common fields only */
    {"1,2019/03/18 09:33:00,001801000000,CONFIG,0,0,2019/03/18 09:33:00,192.0.2.44,vsys1,edit,"
     "admin,Web,Succeeded,deviceconfig system,7200000000000000005,0x0",
     {{"panos.type", "CONFIG"},
      {"event.dataset", "panos.other"},
      {"observer.serial_number", "001801000000"},
      {"source.ip", NULL},
      {"event.action", NULL},
      {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_panos, "panos", good, sizeof(good) / sizeof(good[0]));
}

#define HEAD "1,2015/01/05 05:38:58,0006C110285,TRAFFIC,end,1,2015/01/05 05:38:58,"
static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"hello world, this is not a firewall", -ENOENT, 0},
    {"Mar 21 14:05:02 host sshd[1]: Accepted password for x", -ENOENT, 0},
    /* the shape is wrong: time, type */
    {"1,2015-01-05 05:38:58,0006C110285,TRAFFIC,end,1,x,10.0.0.1,10.0.0.2", -ENOENT, 0},
    {"1,2015/01/05 05:38:58,0006C110285,traffic,end,1,x,10.0.0.1,10.0.0.2", -ENOENT, 0},
    {"x,2015/01/05 05:38:58,0006C110285,TRAFFIC,end,1,x,10.0.0.1,10.0.0.2", -ENOENT, 0},
    {"1,2015/01/05 05:38:58,0006C110285", -ENOENT, 0},
    /* truncated before the action */
    {HEAD "10.0.0.1,10.0.0.2,0.0.0.0,0.0.0.0,r,,,app,vsys1,a,b,e1,e2,L,t,1,1,1000,80", -EINVAL, 0},
    /* a corrupted address (as one line of the Metron sample has) */
    {HEAD "10.0.0.101,23.200,10,217,68.0.0.154,23.200,10,217,r,,,a,vsys1,i,e,e1,e2,L,t,1,1,55137,"
          "443,29553,443,0x0,tcp,allow,1",
     -EINVAL, 79},
    /* a port out of range */
    {HEAD "10.0.0.1,10.0.0.2,0.0.0.0,0.0.0.0,r,,,app,vsys1,a,b,e1,e2,L,t,1,1,70000,80,0,0,0x0,tcp,"
          "allow",
     -EINVAL, 134},
    /* an unterminated quote */
    {HEAD "10.0.0.1,\"10.0.0.2", -EINVAL, 77},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_panos, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Every prefix of a real line: never a read past it, never a crash; a
 * prefix cut past the action decodes unless it ends inside a quoted field
 * (an odd number of quotes so far), which is refused. */
static void test_prefixes(void **state)
{
    const char *line = good[0].line;
    size_t n = strlen(line);
    const char *act = strstr(line, "reset-both");

    (void)state;
    for (size_t k = 0; k <= n; k++) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run(decode_panos, &ev, line, k, &perr);
        size_t quotes = 0;

        for (size_t j = 0; j < k; j++)
            quotes += line[j] == '"';
        assert_true(r == 0 || r == -ENOENT || r == -EINVAL);
        if (k > (size_t)(act - line))
            assert_int_equal(r, quotes % 2 ? -EINVAL : 0);
    }
}

/* The whole Metron sample, each line's message as PAN-OS sent it (from
 * " 1,20" on: the RFC 3164 reader takes its first word for a tag, which
 * decode.c undoes; test_decode_samples checks that path): every line but
 * the one with a corrupted destination ("23.200,10,217") gives the
 * session's addresses, ports, transport, action, outcome and rule. */
static void test_sample(void **state)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n;
    unsigned lines = 0, ok = 0, refused_corrupt = 0;

    (void)state;
    decode_testlib_lines_open(&it, SAMPLE);
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err perr;
        size_t vn = 0;
        const char *msg = strstr(line, " 1,20");
        int r;

        lines++;
        assert_non_null(msg);
        msg++;
        r = decode_testlib_run(decode_panos, &ev, msg, n - (size_t)(msg - line), &perr);
        if (r != 0) {
            if (r != -EINVAL || !strstr(line, ",23.200,10,217,"))
                fail_msg("line %u: r=%d: %s", lines, r, line);
            refused_corrupt++;
            continue;
        }
        ok++;
        assert_string_equal(ev.decoder, "panos");
        for (uint32_t id = FIELD_SOURCE_IP; id <= FIELD_DESTINATION_PORT; id++) {
            if (id == FIELD_SOURCE_BYTES || id == FIELD_DESTINATION_BYTES)
                continue;
            if (!event_get(&ev, id, &vn) || vn == 0)
                fail_msg("line %u lacks field %u: %s", lines, id, line);
        }
        assert_non_null(event_get(&ev, FIELD_NETWORK_TRANSPORT, &vn));
        assert_non_null(event_get(&ev, FIELD_EVENT_ACTION, &vn));
        assert_non_null(event_get(&ev, FIELD_EVENT_OUTCOME, &vn));
        assert_non_null(event_get(&ev, FIELD_RULE_NAME, &vn));
    }
    decode_testlib_lines_close(&it);
    printf("PaloaltoOutput: %u/%u decoded by panos, %u corrupted line refused\n", ok, lines,
           refused_corrupt);
    assert_int_equal(lines, 100);
    assert_int_equal(ok, 99);
    assert_int_equal(refused_corrupt, 1);
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

/* A TRAFFIC line written from Palo Alto's field list with receive time R
 * (position 1) and generated time G (position 6). */
#define TRAFFIC(r, g)                                                                              \
    "1," r ",0006C110285,TRAFFIC,end,1," g ",10.0.0.1,10.0.0.2,0.0.0.0,0.0.0.0,rule1,,,app,"       \
    "vsys1,a,b,e1,e2,L," g ",1,1,1000,80,0,0,0x0,tcp,allow,100"

/* The firewall's own time replaces the header's: Generated Time, else
 * Receive Time; a time that is no date leaves the header's. */
static void test_device_time(void **state)
{
    static const struct {
        const char *line, *want, *orig;
    } rows[] = {
        {TRAFFIC("2024/05/10 11:38:00", "2024/05/10 11:37:47"), "2024-05-10T11:37:47.000000Z",
         "2024/05/10 11:37:47"},
        /* a generated time that is no date: the receive time */
        {TRAFFIC("2024/05/10 11:38:00", "2024/13/10 11:37:47"), "2024-05-10T11:38:00.000000Z",
         "2024/05/10 11:38:00"},
        {TRAFFIC("2024/05/10 11:38:00", ""), "2024-05-10T11:38:00.000000Z", "2024/05/10 11:38:00"},
        {TRAFFIC("2024/05/10 11:38:00", "2024-05-10T11:37:47"), "2024-05-10T11:38:00.000000Z",
         "2024/05/10 11:38:00"},
        /* neither is a date: the header's time stays */
        {TRAFFIC("2024/02/30 11:38:00", "2024/05/10 24:61:00"), HDR_TIME, "Jan  5 08:52:35"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct event ev;
        struct parse_err perr;
        uint32_t before;

        assert_int_equal(decode_testlib_run_chain(fake_header, decode_panos, &ev, rows[i].line,
                                                  strlen(rows[i].line), &perr, &before),
                         0);
        decode_testlib_expect_field(&ev, "@timestamp", rows[i].want, rows[i].line);
        decode_testlib_expect_field(&ev, "event.original_time", rows[i].orig, rows[i].line);
        decode_testlib_expect_field(&ev, "source.ip", "10.0.0.1", rows[i].line);
    }
}

/* PAN-OS times carry no zone: local time in the context's zone, as every
 * zoneless time (hikeshi.yaml(5), timezone). */
static void test_device_time_zone(void **state)
{
    const char *line = TRAFFIC("2024/05/10 11:38:00", "2024/05/10 11:37:47");
    struct decode_ctx ctx = decode_testlib_ctx();
    struct event ev;
    struct parse_err perr;
    struct tz *z = NULL;

    (void)state;
    assert_int_equal(tz_fixed(-5 * 3600, &z), 0);
    ctx.tz = z;
    assert_int_equal(decode_testlib_run_ctx(decode_panos, &ctx, &ev, line, strlen(line), &perr), 0);
    decode_testlib_expect_field(&ev, "@timestamp", "2024-05-10T16:37:47.000000Z", line);
    tz_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_prefixes),    cmocka_unit_test(test_sample),
        cmocka_unit_test(test_device_time), cmocka_unit_test(test_device_time_zone),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
