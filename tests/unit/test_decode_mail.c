/*
 * test_decode_mail.c - Postfix, Dovecot and Exim messages.  No mail server
 * log is in ../shared/data: the lines are written from each project's
 * documented messages (Postfix smtpd(8) and its SASL warnings, Dovecot's
 * login process and passdb logging, Exim's mainlog chapter), with
 * documentation addresses and made-up names.  Hostile and truncated
 * variants follow.  Each decoder gets the syslog MSG part, as
 * decode_record() gives it after the tag chose the product.
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

#include "decode/decode_mail.h"
#include "decode/decode_rfc3164.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good postfix_good[] = {
    {"warning: unknown[203.0.113.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
     {{"event.module", "postfix"},
      {"event.action", "sasl_auth_failure"},
      {"event.category", "authentication"},
      {"event.outcome", "failure"},
      {"source.ip", "203.0.113.7"},
      {"source.domain", NULL},
      {"postfix.sasl_method", "LOGIN"},
      {"event.reason", "UGFzc3dvcmQ6"},
      {"user.name", NULL},
      {NULL, NULL}}},
    {"warning: mail.example.net[198.51.100.4]:52214: SASL PLAIN authentication failed: "
     "authentication failure, sasl_username=alice@example.org",
     {{"source.domain", "mail.example.net"},
      {"source.port", "52214"},
      {"user.name", "alice@example.org"},
      {"postfix.sasl_method", "PLAIN"},
      {NULL, NULL}}},
    {"warning: unknown[2001:db8::25]: SASL LOGIN authentication failed: Connection lost to "
     "authentication server",
     {{"source.ip", "2001:db8::25"}, {NULL, NULL}}},
    {"4BC8A1F2C3: client=laptop.example.org[192.0.2.44], sasl_method=PLAIN, "
     "sasl_username=bob",
     {{"event.action", "sasl_login"},
      {"event.outcome", "success"},
      {"user.name", "bob"},
      {"postfix.sasl_method", "PLAIN"},
      {"source.ip", "192.0.2.44"},
      {NULL, NULL}}},
    {"4BC8A1F2C3: client=relay.example.org[192.0.2.45]",
     {{"event.action", "smtp_client"}, {"event.outcome", NULL}, {NULL, NULL}}},
    {"connect from unknown[203.0.113.7]",
     {{"event.action", "smtp_connect"}, {"event.type", "start"}, {NULL, NULL}}},
    {"disconnect from unknown[203.0.113.7] ehlo=1 auth=0/1 quit=1 commands=2/3",
     {{"event.action", "smtp_disconnect"}, {"source.ip", "203.0.113.7"}, {NULL, NULL}}},
    {"lost connection after AUTH from unknown[203.0.113.7]",
     {{"event.action", "smtp_lost_connection"}, {"event.reason", "after AUTH"}, {NULL, NULL}}},
    {"NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <x@example.com>: Relay access "
     "denied; from=<spam@example.net> to=<x@example.com> proto=ESMTP helo=<win-abc>",
     {{"event.action", "smtp_reject"},
      {"event.type", "denied"},
      {"event.reason", "554 5.7.1 <x@example.com>: Relay access denied"},
      {"email.from.address", "spam@example.net"},
      {"email.to.address", "x@example.com"},
      {NULL, NULL}}},
    /* hostile: the address is not one; the rest is kept */
    {"warning: unknown[not-an-ip]: SASL LOGIN authentication failed: x",
     {{"source.ip", NULL}, {"event.outcome", "failure"}, {NULL, NULL}}},
    /* cut after the method */
    {"warning: unknown[203.0.113.7]: SASL LOGIN authentication failed",
     {{"event.reason", NULL}, {"source.ip", "203.0.113.7"}, {NULL, NULL}}},
};

static const struct decode_testlib_bad postfix_bad[] = {
    {"", -ENOENT, 0},
    {"warning: hostname foo does not resolve to address 203.0.113.7", -ENOENT, 0},
    {"warning: unknown[203.0.113.7", -ENOENT, 0},
    {"warning: unknown[203.0.113.7]: SASL", -ENOENT, 0},
    {"connect from ", -ENOENT, 0},
    {"connect from unknown[", -ENOENT, 0},
    {"NOQUEUE: reject: RCPT from unknown[203.0.113.9]", -ENOENT, 0},
    {"4BC8A1F2C3: message-id=<x@y>", -ENOENT, 0},
    {"statistics: max connection rate 1/60s for (smtp:203.0.113.7) at Jan  1 00:00:00", -ENOENT, 0},
};

static const struct decode_testlib_good dovecot_good[] = {
    {"imap-login: Aborted login (auth failed, 3 attempts in 15 secs): user=<alice>, "
     "method=PLAIN, rip=203.0.113.7, lip=192.0.2.10, TLS, session=<AbCdEf>",
     {{"event.module", "dovecot"},
      {"event.action", "auth_failure"},
      {"event.outcome", "failure"},
      {"user.name", "alice"},
      {"source.ip", "203.0.113.7"},
      {"destination.ip", "192.0.2.10"},
      {"dovecot.attempts", "3"},
      {"dovecot.method", "PLAIN"},
      {"dovecot.service", "imap"},
      {NULL, NULL}}},
    /* Dovecot 2.3: "Disconnected: reason (auth failed ...)" */
    {"pop3-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): "
     "user=<bob>, method=LOGIN, rip=2001:db8::7, lip=2001:db8::1, rport=50412, lport=995, TLS",
     {{"event.action", "auth_failure"},
      {"source.ip", "2001:db8::7"},
      {"source.port", "50412"},
      {"destination.port", "995"},
      {"dovecot.service", "pop3"},
      {NULL, NULL}}},
    {"imap-login: Login: user=<carol>, method=PLAIN, rip=198.51.100.3, lip=192.0.2.10, "
     "mpid=4242, TLS, session=<x>",
     {{"event.action", "login"},
      {"event.outcome", "success"},
      {"user.name", "carol"},
      {NULL, NULL}}},
    {"imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=203.0.113.8, "
     "lip=192.0.2.10, session=<y>",
     {{"event.action", "login_aborted"},
      {"event.outcome", NULL},
      {"event.reason", "no auth attempts in 0 secs"},
      {"user.name", NULL},
      {NULL, NULL}}},
    {"auth: pam(alice,203.0.113.7,<AbCdEf>): pam_authenticate() failed: Authentication failure "
     "(password mismatch?)",
     {{"event.action", "auth_failure"},
      {"user.name", "alice"},
      {"source.ip", "203.0.113.7"},
      {"event.reason", "pam_authenticate() failed: Authentication failure (password mismatch?)"},
      {NULL, NULL}}},
    {"auth-worker(1234): Info: passwd-file(mallory,203.0.113.9): unknown user",
     {{"user.name", "mallory"}, {"source.ip", "203.0.113.9"}, {NULL, NULL}}},
    {"auth: sql(dave,198.51.100.9,<s>): Password mismatch", {{"user.name", "dave"}, {NULL, NULL}}},
    /* hostile: a comma inside the user's angle brackets is not a parameter */
    {"imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<a, rip=1.1.1.1>, "
     "rip=203.0.113.7",
     {{"user.name", "a, rip=1.1.1.1"}, {"source.ip", "203.0.113.7"}, {NULL, NULL}}},
    /* cut in the parameters */
    {"imap-login: Aborted login (auth failed, 2 attempts in 5 secs): user=<eve",
     {{"user.name", NULL}, {"source.ip", NULL}, {"dovecot.attempts", "2"}, {NULL, NULL}}},
};

static const struct decode_testlib_bad dovecot_bad[] = {
    {"", -ENOENT, 0},
    {"master: Dovecot v2.3.19 starting up for imap, pop3", -ENOENT, 0},
    {"imap(alice)<1><x>: Logged out in=1 out=2", -ENOENT, 0},
    {"imap-login: Aborted login (auth failed", -ENOENT, 0},
    {"auth: Warning: auth client 0 disconnected with 1 pending requests", -ENOENT, 0},
    {"auth: pam(alice,203.0.113.7", -ENOENT, 0},
    {"auth: pam(alice,203.0.113.7): lookup", -ENOENT, 0},
    {"auth-worker(", -ENOENT, 0},
};

static const struct decode_testlib_good exim_good[] = {
    {"2024-03-01 10:11:12 dovecot_login authenticator failed for (User) [203.0.113.7]:54321: "
     "535 Incorrect authentication data (set_id=alice@example.org)",
     {{"event.module", "exim"},
      {"event.action", "auth_failure"},
      {"event.outcome", "failure"},
      {"user.name", "alice@example.org"},
      {"source.ip", "203.0.113.7"},
      {"source.port", "54321"},
      {"exim.authenticator", "dovecot_login"},
      {"event.reason", "535 Incorrect authentication data"},
      {"@timestamp", "2024-03-01T10:11:12.000000Z"},
      {NULL, NULL}}},
    /* the helo holds an address literal: the connection's address wins */
    {"plain_server authenticator failed for H=([198.51.100.66]) [203.0.113.8]: 535 Incorrect "
     "authentication data (set_id=bob)",
     {{"source.ip", "203.0.113.8"}, {"user.name", "bob"}, {"@timestamp", NULL}, {NULL, NULL}}},
    {"2024-03-01 10:11:12 [4321] 1rAbCd-000123-AB <= alice@example.org "
     "H=laptop.example.org (laptop) [192.0.2.44]:50000 P=esmtpsa X=TLS1.3 "
     "A=dovecot_plain:alice@example.org S=1234",
     {{"event.action", "login"},
      {"event.outcome", "success"},
      {"user.name", "alice@example.org"},
      {"source.ip", "192.0.2.44"},
      {"exim.authenticator", "dovecot_plain"},
      {NULL, NULL}}},
    {"H=(win-abc) [203.0.113.9]:61000 F=<spam@example.net> rejected RCPT <x@example.com>: "
     "relay not permitted",
     {{"event.action", "smtp_reject"},
      {"event.type", "denied"},
      {"source.ip", "203.0.113.9"},
      {"event.reason", "relay not permitted"},
      {NULL, NULL}}},
};

static const struct decode_testlib_bad exim_bad[] = {
    {"", -ENOENT, 0},
    {"2024-03-01 10:11:12 Start queue run: pid=1234", -ENOENT, 0},
    {"2024-03-01 10:11:12 1rAbCd-000123-AB Completed", -ENOENT, 0},
    {"x authenticator failed for (helo", -ENOENT, 0},
    {"x authenticator failed for nothing-bracketed", -ENOENT, 0},
    {"H=(a", -ENOENT, 0},
};

static void test_postfix(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_postfix, "postfix", postfix_good,
                              sizeof(postfix_good) / sizeof(postfix_good[0]));
    decode_testlib_check_bad(decode_postfix, postfix_bad,
                             sizeof(postfix_bad) / sizeof(postfix_bad[0]));
}

static void test_dovecot(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_dovecot, "dovecot", dovecot_good,
                              sizeof(dovecot_good) / sizeof(dovecot_good[0]));
    decode_testlib_check_bad(decode_dovecot, dovecot_bad,
                             sizeof(dovecot_bad) / sizeof(dovecot_bad[0]));
}

static void test_exim(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_exim, "exim", exim_good,
                              sizeof(exim_good) / sizeof(exim_good[0]));
    decode_testlib_check_bad(decode_exim, exim_bad, sizeof(exim_bad) / sizeof(exim_bad[0]));
}

/* Through syslog: the decoder reads the MSG part of a full line. */
static void test_syslog(void **state)
{
    static const char line[] = "Mar  1 10:11:12 mx1 postfix/smtpd[2345]: warning: "
                               "unknown[203.0.113.7]: SASL LOGIN authentication failed: x";
    struct event ev;
    struct parse_err perr;
    uint32_t before;

    (void)state;
    assert_int_equal(decode_testlib_run_chain(decode_rfc3164, decode_postfix, &ev, line,
                                              sizeof(line) - 1, &perr, &before),
                     0);
    decode_testlib_expect_field(&ev, "process.name", "postfix/smtpd", line);
    decode_testlib_expect_field(&ev, "source.ip", "203.0.113.7", line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix),
        cmocka_unit_test(test_dovecot),
        cmocka_unit_test(test_exim),
        cmocka_unit_test(test_syslog),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
