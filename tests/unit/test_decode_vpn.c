/*
 * test_decode_vpn.c - OpenVPN, strongSwan and FreeRADIUS messages.  No log
 * of these is in ../shared/data: the lines are written from the messages
 * each project's source and documentation show (OpenVPN's ssl_verify.c,
 * multi.c and auth-pam plugin, strongSwan's charon IKE and ENC messages,
 * FreeRADIUS's "Auth:" lines), with documentation addresses and made-up
 * names.  Hostile and truncated variants follow.
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

#include "decode/decode_vpn.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good openvpn_good[] = {
    {"203.0.113.7:51234 TLS Auth Error: Auth Username/Password verification failed for peer",
     {{"event.module", "openvpn"},
      {"event.action", "auth_failure"},
      {"event.category", "authentication"},
      {"event.outcome", "failure"},
      {"source.ip", "203.0.113.7"},
      {"source.port", "51234"},
      {"user.name", NULL},
      {NULL, NULL}}},
    {"alice/198.51.100.4:1194 TLS Auth Error: Auth Username/Password verification failed for peer",
     {{"user.name", "alice"}, {"source.ip", "198.51.100.4"}, {NULL, NULL}}},
    {"[AF_INET6]2001:db8::7:51234 TLS Auth Error: Auth Username/Password verification failed "
     "for peer",
     {{"source.ip", "2001:db8::7"}, {"source.port", "51234"}, {NULL, NULL}}},
    {"AUTH-PAM: BACKGROUND: user 'bob' failed to authenticate: Authentication failure",
     {{"user.name", "bob"},
      {"event.reason", "Authentication failure"},
      {"event.outcome", "failure"},
      {NULL, NULL}}},
    {"203.0.113.7:51234 WARNING: Failed running command (--auth-user-pass-verify): external "
     "program exited with error status: 1",
     {{"event.action", "auth_failure"},
      {"event.reason", "external program exited with error status: 1"},
      {NULL, NULL}}},
    {"203.0.113.7:51234 PLUGIN_CALL: POST /usr/lib/openvpn/openvpn-plugin-auth-pam.so/"
     "PLUGIN_AUTH_USER_PASS_VERIFY status=1",
     {{"event.outcome", "failure"}, {NULL, NULL}}},
    {"203.0.113.7:51234 PLUGIN_CALL: POST /usr/lib/openvpn/openvpn-plugin-auth-pam.so/"
     "PLUGIN_AUTH_USER_PASS_VERIFY status=0",
     {{"event.outcome", "success"}, {"event.action", "login"}, {NULL, NULL}}},
    {"198.51.100.4:1194 TLS: Username/Password authentication succeeded for username 'carol'",
     {{"user.name", "carol"}, {"event.outcome", "success"}, {NULL, NULL}}},
    {"203.0.113.7:51234 VERIFY ERROR: depth=0, error=certificate has expired: CN=dave",
     {{"event.action", "cert_verify_failure"},
      {"event.reason", "certificate has expired"},
      {NULL, NULL}}},
    {"203.0.113.7:51234 TLS Error: TLS handshake failed",
     {{"event.action", "tls_handshake_failure"}, {"event.category", "network"}, {NULL, NULL}}},
    {"198.51.100.4:1194 [carol] Peer Connection Initiated with [AF_INET]198.51.100.4:1194",
     {{"event.action", "connected"},
      {"user.name", "carol"},
      {"source.ip", "198.51.100.4"},
      {"source.port", "1194"},
      {NULL, NULL}}},
};

static const struct decode_testlib_bad openvpn_bad[] = {
    {"", -ENOENT, 0},
    {"OpenVPN 2.6.3 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL]", -ENOENT, 0},
    {"203.0.113.7:51234 SIGUSR1[soft,tls-error] received, client-instance restarting", -ENOENT, 0},
    {"AUTH-PAM: BACKGROUND: user 'bob", -ENOENT, 0},
    {"TLS: Username/Password authentication succeeded for username 'x", -ENOENT, 0},
    {"[x", -ENOENT, 0},
    /* a peer prefix that is no address: not a client instance's message */
    {"999.1.1.1:80 TLS Error: TLS handshake failed", -ENOENT, 0},
    {"alice/:80 TLS Error: TLS handshake failed", -ENOENT, 0},
};

static const struct decode_testlib_good strongswan_good[] = {
    {"10[IKE] <rw-eap|5> EAP method EAP_MSCHAPV2 failed for peer 203.0.113.7",
     {{"event.module", "strongswan"},
      {"event.action", "eap_failure"},
      {"event.outcome", "failure"},
      {"source.ip", "203.0.113.7"},
      {"strongswan.connection", "rw-eap"},
      {"event.reason", "EAP_MSCHAPV2"},
      {NULL, NULL}}},
    {"06[IKE] tried 1 shared key for 'vpn.example.org' - 'road1', but MAC mismatched",
     {{"event.action", "psk_failure"},
      {"user.name", "road1"},
      {"strongswan.connection", NULL},
      {NULL, NULL}}},
    {"12[IKE] <5> no shared key found for 'vpn.example.org' - '203.0.113.9'",
     {{"event.action", "psk_failure"},
      {"user.name", "203.0.113.9"},
      {"event.reason", "no shared key found"},
      {NULL, NULL}}},
    {"09[IKE] received AUTHENTICATION_FAILED notify error",
     {{"event.action", "auth_failure"}, {NULL, NULL}}},
    {"14[IKE] <rw|3> IKE_SA rw[3] established between 192.0.2.10[vpn.example.org]..."
     "198.51.100.4[alice@example.org]",
     {{"event.action", "connected"},
      {"event.outcome", "success"},
      {"source.ip", "198.51.100.4"},
      {"destination.ip", "192.0.2.10"},
      {"user.name", "alice@example.org"},
      {NULL, NULL}}},
    {"13[IKE] 203.0.113.7 is initiating an IKE_SA",
     {{"event.action", "connection_attempt"},
      {"source.ip", "203.0.113.7"},
      {"event.outcome", NULL},
      {NULL, NULL}}},
    {"11[IKE] <rw-eap|7> received EAP identity 'bob'",
     {{"event.action", "eap_identity"}, {"user.name", "bob"}, {NULL, NULL}}},
    /* cut: the established line without the remote side */
    {"14[IKE] IKE_SA rw[3] established between 192.0.2.10[vpn]",
     {{"source.ip", NULL}, {"destination.ip", "192.0.2.10"}, {NULL, NULL}}},
};

static const struct decode_testlib_bad strongswan_bad[] = {
    {"", -ENOENT, 0},
    {"00[DMN] Starting IKE charon daemon (strongSwan 5.9.8, Linux 6.1.0)", -ENOENT, 0},
    {"[IKE] EAP method X failed for peer 1.2.3.4", -ENOENT, 0},
    {"10[IKE", -ENOENT, 0},
    {"10[IKE] <rw|5", -ENOENT, 0},
    {"10[IKE] received EAP identity 'bob", -ENOENT, 0},
    {"10[VERYLONGSUB] EAP method X failed for peer 1.2.3.4", -ENOENT, 0},
};

static const struct decode_testlib_good freeradius_good[] = {
    {"Auth: (12) Login incorrect (pap: Cleartext password does not match \"known good\" "
     "password): [alice] (from client vpn-gw port 0 cli 203.0.113.7)",
     {{"event.module", "freeradius"},
      {"event.action", "auth_failure"},
      {"event.outcome", "failure"},
      {"user.name", "alice"},
      {"source.ip", "203.0.113.7"},
      {"freeradius.client", "vpn-gw"},
      {"freeradius.calling_station_id", "203.0.113.7"},
      {"event.reason", "pap: Cleartext password does not match \"known good\" password"},
      {NULL, NULL}}},
    /* auth_badpass: the password after '/' is never a field */
    {"Mon Jan  8 10:00:00 2024 : Auth: (13) Login incorrect: [bob/hunter2] (from client ap1 "
     "port 0 cli 02-00-00-00-00-01)",
     {{"user.name", "bob"},
      {"source.ip", NULL},
      {"freeradius.calling_station_id", "02-00-00-00-00-01"},
      {"event.reason", "Login incorrect"},
      {NULL, NULL}}},
    {"Auth: Login incorrect: [carol/<via Auth-Type = EAP>] (from client localhost port 0)",
     {{"user.name", "carol"}, {"freeradius.client", "localhost"}, {NULL, NULL}}},
    {"Auth: (14) Invalid user: [mallory] (from client vpn-gw port 0 cli 198.51.100.66)",
     {{"event.action", "auth_failure"}, {"event.reason", "Invalid user"}, {NULL, NULL}}},
    {"Auth: (15) Login OK: [dave] (from client vpn-gw port 1 cli 198.51.100.4)",
     {{"event.action", "login"},
      {"event.outcome", "success"},
      {"user.name", "dave"},
      {"event.reason", NULL},
      {NULL, NULL}}},
    /* hostile: a '[' inside the reason does not take the user's place */
    {"Auth: (16) Login incorrect (x: [y]): [erin] (from client c port 0)",
     {{"user.name", "erin"}, {"event.reason", "x: [y]"}, {NULL, NULL}}},
};

static const struct decode_testlib_bad freeradius_bad[] = {
    {"", -ENOENT, 0},
    {"Info: Ready to process requests", -ENOENT, 0},
    {"Auth: (12) Login incorrect", -ENOENT, 0},
    {"Auth: (12", -ENOENT, 0},
    {"Auth: (12) Login incorrect: [alice", -ENOENT, 0},
    {"Auth: (12) Login OK [x]", -ENOENT, 0},
};

static void test_openvpn(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_openvpn, "openvpn", openvpn_good,
                              sizeof(openvpn_good) / sizeof(openvpn_good[0]));
    decode_testlib_check_bad(decode_openvpn, openvpn_bad,
                             sizeof(openvpn_bad) / sizeof(openvpn_bad[0]));
}

static void test_strongswan(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_strongswan, "strongswan", strongswan_good,
                              sizeof(strongswan_good) / sizeof(strongswan_good[0]));
    decode_testlib_check_bad(decode_strongswan, strongswan_bad,
                             sizeof(strongswan_bad) / sizeof(strongswan_bad[0]));
}

static void test_freeradius(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_freeradius, "freeradius", freeradius_good,
                              sizeof(freeradius_good) / sizeof(freeradius_good[0]));
    decode_testlib_check_bad(decode_freeradius, freeradius_bad,
                             sizeof(freeradius_bad) / sizeof(freeradius_bad[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openvpn),
        cmocka_unit_test(test_strongswan),
        cmocka_unit_test(test_freeradius),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
