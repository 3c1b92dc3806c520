/*
 * test_decode_ftp.c - vsftpd and ProFTPD login messages.  No FTP server
 * log is in ../shared/data: the lines are written from vsftpd's documented
 * vsftpd.log and syslog lines and ProFTPD's mod_auth messages, with
 * documentation addresses.  Hostile and truncated variants follow.
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

#include "decode/decode_ftp.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good vsftpd_good[] = {
    {"[alice] FAIL LOGIN: Client \"203.0.113.7\"",
     {{"event.module", "vsftpd"},
      {"event.action", "auth_failure"},
      {"event.outcome", "failure"},
      {"user.name", "alice"},
      {"source.ip", "203.0.113.7"},
      {NULL, NULL}}},
    {"Mon Jan  8 10:00:00 2024 [pid 1234] [bob] OK LOGIN: Client \"::ffff:198.51.100.4\"",
     {{"event.action", "login"},
      {"event.outcome", "success"},
      {"user.name", "bob"},
      {"source.ip", "198.51.100.4"},
      {NULL, NULL}}},
    {"Mon Jan  8 10:00:00 2024 [pid 1233] CONNECT: Client \"2001:db8::7\"",
     {{"event.action", "connection"},
      {"user.name", NULL},
      {"source.ip", "2001:db8::7"},
      {NULL, NULL}}},
    {"[ftp] OK LOGIN: Client \"203.0.113.9\", anon password \"?\"",
     {{"user.name", "ftp"}, {"source.ip", "203.0.113.9"}, {NULL, NULL}}},
};

static const struct decode_testlib_bad vsftpd_bad[] = {
    {"", -ENOENT, 0},
    {"[alice] FTP response: Client \"203.0.113.7\", \"230 Login successful.\"", -ENOENT, 0},
    {"[alice] FAIL LOGIN: Client \"203.0.113.7", -ENOENT, 0},
    {"[alice", -ENOENT, 0},
};

static const struct decode_testlib_good proftpd_good[] = {
    {"ftp.example.org (203.0.113.7[203.0.113.7]) - USER alice (Login failed): Incorrect password",
     {{"event.module", "proftpd"},
      {"event.action", "auth_failure"},
      {"event.outcome", "failure"},
      {"user.name", "alice"},
      {"source.ip", "203.0.113.7"},
      {"source.domain", NULL},
      {"event.reason", "Incorrect password"},
      {NULL, NULL}}},
    {"ftp.example.org (scanner.example.net[198.51.100.66]) - USER admin: no such user found from "
     "scanner.example.net [198.51.100.66] to 192.0.2.10:21",
     {{"user.name", "admin"},
      {"source.ip", "198.51.100.66"},
      {"source.domain", "scanner.example.net"},
      {"event.reason", "no such user found"},
      {NULL, NULL}}},
    {"ftp.example.org (203.0.113.7[203.0.113.7]) - Maximum login attempts (3) exceeded, "
     "connection refused",
     {{"event.action", "auth_failure"}, {"user.name", NULL}, {NULL, NULL}}},
    {"ftp.example.org (192.0.2.44[192.0.2.44]) - USER carol: Login successful.",
     {{"event.action", "login"},
      {"event.outcome", "success"},
      {"user.name", "carol"},
      {NULL, NULL}}},
};

static const struct decode_testlib_bad proftpd_bad[] = {
    {"", -ENOENT, 0},
    {"ftp.example.org - ProFTPD 1.3.8 (stable) (built Mon Jan 1 2024) standalone mode STARTUP",
     -ENOENT, 0},
    {"ftp.example.org (203.0.113.7[203.0.113.7]) - FTP session opened.", -ENOENT, 0},
    {"ftp.example.org (203.0.113.7[203.0.113.7]) - USER alice", -ENOENT, 0},
    {") - ", -ENOENT, 0},
};

static void test_vsftpd(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_vsftpd, "vsftpd", vsftpd_good,
                              sizeof(vsftpd_good) / sizeof(vsftpd_good[0]));
    decode_testlib_check_bad(decode_vsftpd, vsftpd_bad, sizeof(vsftpd_bad) / sizeof(vsftpd_bad[0]));
}

static void test_proftpd(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_proftpd, "proftpd", proftpd_good,
                              sizeof(proftpd_good) / sizeof(proftpd_good[0]));
    decode_testlib_check_bad(decode_proftpd, proftpd_bad,
                             sizeof(proftpd_bad) / sizeof(proftpd_bad[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vsftpd),
        cmocka_unit_test(test_proftpd),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
