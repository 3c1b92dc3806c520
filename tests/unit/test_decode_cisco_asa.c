/*
 * test_decode_cisco_asa.c - Cisco ASA/FTD messages, as decode_cisco_asa
 * receives them (from the "%ASA-" marker on).
 *
 * The lines marked "Metron" are real: Apache Metron's ASA sample
 * (../shared/data/firewall/metron/.../asa/raw/asa_raw).  The message ids
 * that sample lacks (106100, 710003, 111008, 113004/113005/113015,
 * 611101/611102, 716xxx, 722xxx, FTD) are written from the layouts in
 * Cisco's "Cisco Secure Firewall ASA Series Syslog Messages" guide (FTD's
 * own 430002-430005 events from its "Threat Defense Syslog Messages"
 * guide), with documentation addresses.  Then hostile variants: truncated at every
 * byte, bad ids, addresses that are not addresses.  The whole sample must
 * decode, and the framing through decode_record() is tested in
 * test_decode_metron.
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

#include "decode/decode_cisco_asa.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define ASA_SAMPLE                                                                                 \
    "data/firewall/metron/metron-platform/metron-integration-test/src/main/sample/data/asa/raw/"   \
    "asa_raw"

static const struct decode_testlib_good good[] = {
    /* Metron: inbound TCP with mapped addresses, identity user, AAA user */
    {"%ASA-6-302013: Built inbound TCP connection 212806031 for outside:10.22.8.17/58633 "
     "(10.22.8.17/58633)(LOCAL\\user.name) to inside:10.22.8.12/389 (10.22.8.12/389) (user.name)",
     {{"observer.vendor", "Cisco"},
      {"observer.product", "ASA"},
      {"event.dataset", "cisco.asa"},
      {"event.code", "302013"},
      {"event.severity", "6"},
      {"event.action", "built"},
      {"event.outcome", "success"},
      {"network.direction", "inbound"},
      {"network.transport", "tcp"},
      {"source.ip", "10.22.8.17"},
      {"source.port", "58633"},
      {"source.user.name", "user.name"},
      {"source.user.domain", "LOCAL"},
      {"destination.ip", "10.22.8.12"},
      {"destination.port", "389"},
      {"observer.ingress.interface.name", "outside"},
      {"observer.egress.interface.name", "inside"},
      {"user.name", "user.name"},
      {"cisco.asa.connection_id", "212806031"},
      {"source.nat.ip", NULL},
      {NULL, NULL}}},
    /* Metron: outbound: the second side opened it; its mapped address */
    {"%ASA-6-302013: Built outbound TCP connection 17605397 for outside:69.111.72.0/80 "
     "(69.111.72.0/80) to inside:10.22.8.102/55659 (206.111.72.41/40627)",
     {{"network.direction", "outbound"},
      {"source.ip", "10.22.8.102"},
      {"source.port", "55659"},
      {"source.nat.ip", "206.111.72.41"},
      {"source.nat.port", "40627"},
      {"destination.ip", "69.111.72.0"},
      {"destination.port", "80"},
      {"observer.ingress.interface.name", "inside"},
      {"observer.egress.interface.name", "outside"},
      {"user.name", NULL},
      {NULL, NULL}}},
    /* Metron: teardown with reason and user */
    {"%ASA-6-302014: Teardown TCP connection 212805593 for outside:10.22.8.223/59614"
     "(LOCAL\\user.name) to inside:10.22.8.78/8102 duration 0:00:07 bytes 3433 TCP FINs "
     "(user.name)",
     {{"event.action", "teardown"},
      {"event.type", "end"},
      {"source.ip", "10.22.8.223"},
      {"source.port", "59614"},
      {"destination.port", "8102"},
      {"network.bytes", "3433"},
      {"event.reason", "TCP FINs"},
      {"user.name", "user.name"},
      {NULL, NULL}}},
    /* Metron: UDP teardown, no user */
    {"%ASA-6-302016: Teardown UDP connection 17603649 for outside:206.111.72.2/161 to "
     "inside:10.22.8.48/63297 duration 0:02:01 bytes 209",
     {{"network.transport", "udp"},
      {"network.bytes", "209"},
      {"event.reason", NULL},
      {NULL, NULL}}},
    /* Metron: inbound ICMP: the foreign address opened it */
    {"%ASA-6-302020: Built inbound ICMP connection for faddr 207.111.72.122/0 gaddr "
     "206.111.72.24/512 laddr 10.22.8.57/512",
     {{"network.transport", "icmp"},
      {"source.ip", "207.111.72.122"},
      {"destination.ip", "10.22.8.57"},
      {"destination.nat.ip", "206.111.72.24"},
      {"source.port", NULL},
      {"destination.port", NULL},
      {NULL, NULL}}},
    /* Metron: ICMP teardown names no direction: the local side is the source */
    {"%ASA-6-302021: Teardown ICMP connection for faddr 10.22.8.74/0(LOCAL\\user.name) gaddr "
     "10.22.8.205/0 laddr 10.22.8.205/0",
     {{"source.ip", "10.22.8.205"},
      {"destination.ip", "10.22.8.74"},
      {"destination.user.name", "user.name"},
      {"source.nat.ip", NULL},
      {NULL, NULL}}},
    /* Metron: deny without a connection */
    {"%ASA-6-106015: Deny TCP (no connection) from 10.22.8.84/445 to 10.22.8.219/60726 flags ACK  "
     "on interface inside",
     {{"event.action", "deny"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"source.ip", "10.22.8.84"},
      {"source.port", "445"},
      {"destination.ip", "10.22.8.219"},
      {"destination.port", "60726"},
      {"observer.ingress.interface.name", "inside"},
      {NULL, NULL}}},
    /* Metron */
    {"%ASA-2-106001: Inbound TCP connection denied from 10.47.32.45/60641 to 10.254.8.193/5060 "
     "flags SYN  on interface Inside",
     {{"event.action", "denied"},
      {"event.severity", "2"},
      {"source.port", "60641"},
      {"destination.port", "5060"},
      {"observer.ingress.interface.name", "Inside"},
      {NULL, NULL}}},
    /* Metron: protocol number, no ports */
    {"%ASA-3-106010: Deny inbound protocol 47 src Outside:14.169.120.66 dst "
     "Outside:172.18.105.105",
     {{"network.iana_number", "47"},
      {"network.transport", NULL},
      {"source.ip", "14.169.120.66"},
      {"destination.ip", "172.18.105.105"},
      {NULL, NULL}}},
    /* Metron */
    {"%ASA-3-106014: Deny inbound icmp src Inside:10.230.4.87 dst Inside:10.22.75.251 (type 8, "
     "code 0)",
     {{"event.action", "deny"}, {"icmp.type", "8"}, {"icmp.code", "0"}, {NULL, NULL}}},
    /* Metron: the ACL's name */
    {"%ASA-4-106023: Deny udp src Inside:10.230.4.88/42350 dst Outside:192.168.2.53/53 by "
     "access-group \"Inside_access_in\" [0x962df600, 0x0]",
     {{"rule.name", "Inside_access_in"},
      {"source.port", "42350"},
      {"destination.ip", "192.168.2.53"},
      {"destination.port", "53"},
      {"observer.egress.interface.name", "Outside"},
      {NULL, NULL}}},
    /* Metron: address translation */
    {"%ASA-6-305011: Built dynamic TCP translation from inside:10.22.8.188/64340 to "
     "outside:206.111.72.41/2013",
     {{"source.ip", "10.22.8.188"},
      {"source.port", "64340"},
      {"source.nat.ip", "206.111.72.41"},
      {"source.nat.port", "2013"},
      {NULL, NULL}}},
    /* Metron */
    {"%ASA-3-313001: Denied ICMP type=3, code=3 from 198.27.69.147 on interface Outside",
     {{"event.action", "denied"},
      {"source.ip", "198.27.69.147"},
      {"icmp.type", "3"},
      {"icmp.code", "3"},
      {"observer.ingress.interface.name", "Outside"},
      {NULL, NULL}}},
    /* Metron */
    {"%ASA-7-710005: UDP request discarded from 10.22.8.223/49192 to "
     "outside:224.111.72.252/5355",
     {{"event.action", "discarded"},
      {"source.port", "49192"},
      {"destination.port", "5355"},
      {NULL, NULL}}},
    /* Metron: management commands */
    {"%ASA-5-111010: User 'admin', running 'N/A' from IP 10.25.112.191, executed "
     "'service-object object TCP44720-44722'",
     {{"user.name", "admin"},
      {"source.ip", "10.25.112.191"},
      {"cisco.asa.command", "service-object object TCP44720-44722"},
      {NULL, NULL}}},
    /* Metron: the IKE peer */
    {"%ASA-4-113019: Group = 192.168.140.20, Username = 192.168.140.20, IP = 192.168.140.20, "
     "Session disconnected. Session Type: LAN-to-LAN, Duration: 12d 9h:11m:22s, Bytes xmt: "
     "523781833, Bytes rcv: 16336203, Reason: Lost Service",
     {{"event.action", "vpn-session-end"},
      {"source.ip", "192.168.140.20"},
      {"event.reason", "Lost Service"},
      {NULL, NULL}}},
    /* Cisco's guide: the ids the sample lacks */
    {"%ASA-4-106100: access-list outside_in denied tcp outside/198.51.100.7(44321) -> "
     "inside/192.0.2.10(22) hit-cnt 1 first hit [0x91a2b3c4, 0x0]",
     {{"event.action", "denied"},
      {"rule.name", "outside_in"},
      {"source.ip", "198.51.100.7"},
      {"source.port", "44321"},
      {"destination.ip", "192.0.2.10"},
      {"destination.port", "22"},
      {"observer.ingress.interface.name", "outside"},
      {NULL, NULL}}},
    {"%ASA-6-106100: access-list inside_out permitted udp inside/192.0.2.10(53000) -> "
     "outside/198.51.100.53(53) hit-cnt 4 300-second interval [0x0, 0x0]",
     {{"event.action", "permitted"},
      {"event.outcome", "success"},
      {"event.type", "allowed"},
      {NULL, NULL}}},
    {"%ASA-3-710003: TCP access denied by ACL from 198.51.100.7/51515 to outside:192.0.2.1/22",
     {{"event.action", "denied"},
      {"source.ip", "198.51.100.7"},
      {"destination.ip", "192.0.2.1"},
      {"destination.port", "22"},
      {"observer.egress.interface.name", "outside"},
      {NULL, NULL}}},
    {"%ASA-5-111008: User 'enable_15' executed the 'write memory' command.",
     {{"user.name", "enable_15"}, {"cisco.asa.command", "write memory"}, {NULL, NULL}}},
    {"%ASA-6-113004: AAA user authentication Successful : server = 192.0.2.5 : user = alice",
     {{"event.action", "authentication"},
      {"event.outcome", "success"},
      {"user.name", "alice"},
      {"destination.ip", "192.0.2.5"},
      {NULL, NULL}}},
    {"%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = "
     "192.0.2.5 : user = bob : user IP = 198.51.100.20",
     {{"event.outcome", "failure"},
      {"user.name", "bob"},
      {"source.ip", "198.51.100.20"},
      {"event.reason", "AAA failure"},
      {NULL, NULL}}},
    {"%ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local "
     "database : user = admin : user IP = 203.0.113.9",
     {{"event.outcome", "failure"},
      {"user.name", "admin"},
      {"source.ip", "203.0.113.9"},
      {"event.reason", "Invalid password"},
      {NULL, NULL}}},
    {"%ASA-5-611101: User authentication succeeded: IP address: 192.0.2.44, Uname: netops",
     {{"event.outcome", "success"},
      {"user.name", "netops"},
      {"source.ip", "192.0.2.44"},
      {NULL, NULL}}},
    {"%ASA-5-611102: User authentication failed: IP address: 203.0.113.9, Uname: root",
     {{"event.outcome", "failure"},
      {"user.name", "root"},
      {"source.ip", "203.0.113.9"},
      {NULL, NULL}}},
    {"%ASA-4-716039: Group <DfltGrpPolicy> User <mallory> IP <203.0.113.66> Authentication: "
     "rejected, Session Type: WebVPN.",
     {{"event.action", "authentication"},
      {"event.outcome", "failure"},
      {"user.name", "mallory"},
      {"source.ip", "203.0.113.66"},
      {"group.name", "DfltGrpPolicy"},
      {NULL, NULL}}},
    {"%ASA-6-716001: Group <Staff> User <alice> IP <198.51.100.23> WebVPN session started.",
     {{"event.action", "vpn-session-start"}, {"user.name", "alice"}, {NULL, NULL}}},
    {"%ASA-6-722022: Group <Staff> User <alice> IP <198.51.100.23> TCP SVC connection "
     "established without compression",
     {{"event.action", "vpn-session-start"}, {"source.ip", "198.51.100.23"}, {NULL, NULL}}},
    {"%ASA-4-722037: Group <Staff> User <alice> IP <198.51.100.23> SVC closing connection: "
     "Transport closing.",
     {{"event.action", "vpn-session-end"}, {NULL, NULL}}},
    /* FTD: the same ids under its own marker */
    {"%FTD-6-302015: Built outbound UDP connection 9 for outside:198.51.100.53/53 "
     "(198.51.100.53/53) to inside:192.0.2.10/53000 (203.0.113.1/53000)",
     {{"observer.product", "FTD"},
      {"event.dataset", "cisco.ftd"},
      {"source.ip", "192.0.2.10"},
      {"source.nat.ip", "203.0.113.1"},
      {"source.nat.port", "53000"},
      {"destination.port", "53"},
      {NULL, NULL}}},
    /* FTD's own connection, file and malware events (430002-430005):
     * written from the "Key: value" layout of Cisco's "Cisco Secure
     * Firewall Threat Defense Syslog Messages" guide, with documentation
     * addresses; no real FTD log is in ../shared/data. */
    {"%FTD-1-430002: DeviceUUID: 6b1d4b0c-2a3b-11ec-9c5a-0a1b2c3d4e5f, InstanceID: 1, "
     "FirstPacketSecond: 2024-05-10T11:37:47Z, ConnectionID: 24168, "
     "AccessControlRuleAction: Allow, SrcIP: 192.0.2.10, DstIP: 198.51.100.80, SrcPort: 51234, "
     "DstPort: 443, Protocol: tcp, IngressInterface: inside, EgressInterface: outside, "
     "IngressZone: in-zone, EgressZone: out-zone, ACPolicy: Default-Access, "
     "AccessControlRuleName: Allow-Web, Prefilter Policy: Default Prefilter Policy, "
     "User: EXAMPLE\\alice, Client: SSL client, ApplicationProtocol: HTTPS, InitiatorPackets: 3, "
     "ResponderPackets: 2, InitiatorBytes: 517, ResponderBytes: 1430, "
     "NAPPolicy: Balanced Security and Connectivity",
     {{"event.code", "430002"},
      {"event.dataset", "cisco.ftd"},
      {"event.action", "allow"},
      {"event.outcome", "success"},
      {"event.category", "network"},
      {"source.ip", "192.0.2.10"},
      {"source.port", "51234"},
      {"destination.ip", "198.51.100.80"},
      {"destination.port", "443"},
      {"network.transport", "tcp"},
      {"network.protocol", "https"},
      {"rule.name", "Allow-Web"},
      {"rule.ruleset", "Default-Access"},
      {"user.name", "alice"},
      {"user.domain", "EXAMPLE"},
      {"observer.ingress.interface.name", "inside"},
      {"observer.egress.interface.name", "outside"},
      {"source.bytes", "517"},
      {"destination.bytes", "1430"},
      {"source.packets", "3"},
      {NULL, NULL}}},
    {"%FTD-1-430003: DeviceUUID: 6b1d4b0c-2a3b-11ec-9c5a-0a1b2c3d4e5f, InstanceID: 1, "
     "FirstPacketSecond: 2024-05-10T11:38:00Z, ConnectionID: 24170, "
     "AccessControlRuleAction: Block, AccessControlRuleReason: Default Action, "
     "SrcIP: 203.0.113.7, DstIP: 192.0.2.20, SrcPort: 40000, DstPort: 3389, Protocol: tcp, "
     "IngressInterface: outside, EgressInterface: inside, ACPolicy: Default-Access, "
     "AccessControlRuleName: Block-RDP, User: No Authentication Required, "
     "ConnectionDuration: 0, InitiatorPackets: 1, ResponderPackets: 0, InitiatorBytes: 60, "
     "ResponderBytes: 0",
     {{"event.action", "block"},
      {"event.outcome", "failure"},
      {"event.type", "end"},
      {"source.ip", "203.0.113.7"},
      {"destination.port", "3389"},
      {"rule.name", "Block-RDP"},
      {"user.name", NULL},
      {"url.original", NULL},
      {NULL, NULL}}},
    /* a URL holding ", " and ','; the value ends only before a key */
    {"%FTD-1-430003: AccessControlRuleAction: Block with reset, SrcIP: 10.0.0.5, "
     "DstIP: 203.0.113.50, SrcPort: 50000, DstPort: 80, Protocol: 6, "
     "AccessControlRuleName: Block-Malicious-URL, URLCategory: Malware Sites, "
     "URL: http://malicious.example/dl?a=1,2&q=x, y, User: bob",
     {{"event.action", "block with reset"},
      {"event.outcome", "failure"},
      {"network.transport", "tcp"},
      {"url.original", "http://malicious.example/dl?a=1,2&q=x, y"},
      {"user.name", "bob"},
      {NULL, NULL}}},
    {"%FTD-1-430004: DeviceUUID: 6b1d4b0c-2a3b-11ec-9c5a-0a1b2c3d4e5f, InstanceID: 1, "
     "ConnectionID: 24180, SrcIP: 198.51.100.99, DstIP: 192.0.2.30, SrcPort: 80, "
     "DstPort: 52000, Protocol: tcp, FileDirection: Download, FileAction: Detect, "
     "FileSHA256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, "
     "SHA_Disposition: Unknown, ThreatName: , FileName: report.pdf, FileType: PDF, "
     "FileSize: 20480, ApplicationProtocol: HTTP, User: carol, FilePolicy: Default File Policy",
     {{"event.category", "file"},
      {"event.action", "detect"},
      {"event.kind", NULL},
      {"file.name", "report.pdf"},
      {"file.hash.sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
      {"file.size", "20480"},
      {"source.ip", "198.51.100.99"},
      {"user.name", "carol"},
      {"rule.name", NULL},
      {NULL, NULL}}},
    {"%FTD-1-430005: SrcIP: 198.51.100.99, DstIP: 192.0.2.31, SrcPort: 80, DstPort: 52010, "
     "Protocol: tcp, FileDirection: Download, FileAction: Malware Block, "
     "FileSHA256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae, "
     "SHA_Disposition: Malware, ThreatName: Win.Ransomware.Example, FileName: invoice.exe, "
     "FileType: MSEXE, FileSize: 73802, AccessControlRuleAction: Allow",
     {{"event.kind", "alert"},
      {"event.category", "malware"},
      {"event.action", "malware block"},
      {"event.outcome", "failure"},
      {"rule.name", "Win.Ransomware.Example"},
      {"threat.software.name", "Win.Ransomware.Example"},
      {"cisco.ftd.disposition", "Malware"},
      {"file.name", "invoice.exe"},
      {"destination.ip", "192.0.2.31"},
      {NULL, NULL}}},
    /* hostile: addresses, ports and a hash that are not; a key given twice
     * (the first kept); an empty text; no pairs at all */
    {"%FTD-1-430003: SrcIP: 999.0.0.1, DstIP: not-an-ip, SrcPort: 70000, DstPort: -1, "
     "FileSHA256: abc, SrcIP: 192.0.2.1, Protocol: 17",
     {{"source.ip", NULL},
      {"destination.ip", NULL},
      {"source.port", NULL},
      {"destination.port", NULL},
      {"file.hash.sha256", NULL},
      {"network.transport", "udp"},
      {NULL, NULL}}},
    {"%FTD-1-430002: SrcIP: 192.0.2.1, SrcIP: 192.0.2.99",
     {{"source.ip", "192.0.2.1"}, {NULL, NULL}}},
    {"%FTD-1-430003:", {{"event.code", "430003"}, {"source.ip", NULL}, {NULL, NULL}}},
    {"%FTD-1-430003: ,,, : : SrcIP, :DstIP: 192.0.2.9",
     {{"event.code", "430003"}, {"source.ip", NULL}, {"destination.ip", NULL}, {NULL, NULL}}},
    /* IPv6 behind an interface name */
    {"%ASA-4-106023: Deny tcp src outside:2001:db8::7/40000 dst inside:2001:db8:1::10/443 by "
     "access-group \"v6\" [0x0, 0x0]",
     {{"source.ip", "2001:db8::7"},
      {"destination.ip", "2001:db8:1::10"},
      {"destination.port", "443"},
      {NULL, NULL}}},
    /* behind the device's own timestamp */
    {"Aug 06 2016 20:39:42: %ASA-6-110002: Failed to locate egress interface for UDP from "
     "Inside:10.25.14.52/56544 to 172.18.106.2/161",
     {{"event.code", "110002"},
      {"@timestamp", "2016-08-06T20:39:42.000000Z"},
      {"source.ip", "10.25.14.52"},
      {"destination.port", "161"},
      {NULL, NULL}}},
    /* no device time before the marker: none taken */
    {"fw01 : %ASA-6-110002: Failed to locate egress interface for UDP from "
     "Inside:10.25.14.52/56544 "
     "to 172.18.106.2/161",
     {{"@timestamp", NULL}, {"source.port", "56544"}, {NULL, NULL}}},
    /* an id without a reader: the header fields only */
    {"%ASA-7-609001: Built local-host inside:10.22.8.205",
     {{"event.code", "609001"}, {"event.action", NULL}, {"source.ip", NULL}, {NULL, NULL}}},
    /* a listed id whose text is not its shape: the header fields only */
    {"%ASA-6-302014: Teardown TCP connection 488030393 for DMZ-Inside:[10.22.8.10/57109 to "
     "Inside-Trunk:10.22.8.128/443 duration 0:00:00 bytes 0",
     {{"event.code", "302014"}, {"source.ip", NULL}, {"destination.ip", NULL}, {NULL, NULL}}},
    /* an address that is not one is not taken */
    {"%ASA-6-106015: Deny TCP (no connection) from 999.1.1.1/80 to 10.0.0.1/1 flags ACK",
     {{"source.ip", NULL}, {"event.action", NULL}, {NULL, NULL}}},
    {"%ASA-6-106015: Deny TCP (no connection) from 10.0.0.2/99999 to 10.0.0.1/1 flags ACK",
     {{"source.port", NULL}, {NULL, NULL}}},
};

static const struct decode_testlib_bad bad[] = {
    {"Built inbound TCP connection 1 for a:1.2.3.4/1 to b:5.6.7.8/2", -ENOENT, 0},
    {"", -ENOENT, 0},
    {"%ASB-6-302013: Built", -ENOENT, 0},
    {"%ASA-9-302013: Built", -EINVAL, 5},
    {"%ASA-6-30201: Built", -EINVAL, 7},
    {"%ASA-6-3020133: Built", -EINVAL, 7},
    {"%ASA-6-302013 Built", -EINVAL, 7},
    {"%ASA-", -EINVAL, 5},
    {"%ASA-6", -EINVAL, 5},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_cisco_asa, "cisco-asa", good, sizeof(good) / sizeof(good[0]));
}

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_cisco_asa, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Every prefix of every good line: no read past the end (ASan), and a
 * result the contract allows, with nothing added on -ENOENT. */
static void test_truncated(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(good) / sizeof(good[0]); c++) {
        size_t n = strlen(good[c].line);

        for (size_t k = 0; k < n; k++) {
            struct event ev;
            struct parse_err perr;
            int r = decode_testlib_run(decode_cisco_asa, &ev, good[c].line, k, &perr);

            if (r != 0 && r != -ENOENT && r != -EINVAL)
                fail_msg("case %zu cut at %zu: %d", c, k, r);
            if (r == -ENOENT)
                assert_int_equal(ev.nfields, 0);
        }
    }
}

/* The marker farther in than the scan reaches is not looked for. */
static void test_scan_limit(void **state)
{
    char line[512];
    struct event ev;
    struct parse_err perr;

    (void)state;
    memset(line, 'x', DECODE_CISCO_ASA_SCAN);
    snprintf(line + DECODE_CISCO_ASA_SCAN, sizeof(line) - DECODE_CISCO_ASA_SCAN,
             "%%ASA-6-302013: Built");
    assert_int_equal(decode_testlib_run(decode_cisco_asa, &ev, line, strlen(line), &perr), -ENOENT);
}

/* Metron's sample whole: every line's message is an ASA message, and the
 * lines of the connection and deny ids carry addresses. */
static void test_sample(void **state)
{
    struct decode_testlib_lines it;
    char *line;
    size_t len, n = 0, with_ip = 0;

    (void)state;
    decode_testlib_lines_open(&it, ASA_SAMPLE);
    while (decode_testlib_lines_next(&it, &line, &len)) {
        struct event ev;
        struct parse_err perr;
        const char *m = strstr(line, "%ASA-");
        size_t vlen;

        assert_non_null(m);
        assert_int_equal(
            decode_testlib_run(decode_cisco_asa, &ev, m, len - (size_t)(m - line), &perr), 0);
        n++;
        with_ip += event_get(&ev, FIELD_SOURCE_IP, &vlen) != NULL;
    }
    decode_testlib_lines_close(&it);
    printf("asa sample: %zu lines, %zu with source.ip\n", n, with_ip);
    assert_int_equal(n, 128);
    /* 101 lines carry a source address by Metron's reading; the IKE
     * peers add more */
    assert_true(with_ip >= 101);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),      cmocka_unit_test(test_bad),
        cmocka_unit_test(test_truncated), cmocka_unit_test(test_scan_limit),
        cmocka_unit_test(test_sample),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
