/*
 * test_decode_db.c - MySQL/MariaDB and PostgreSQL authentication messages.
 * No database log is in ../shared/data: the lines are written from the
 * servers' documented messages and log formats (MySQL 8's error log and
 * the 5.x/MariaDB one, PostgreSQL with Debian's default log_line_prefix
 * '%m [%p] %q%u@%d ' and with one holding host=%h), with documentation
 * addresses.  Hostile and truncated variants follow.
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

#include "decode/decode_db.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good mysql_good[] = {
    {"2024-01-08T10:00:00.123456Z 12 [Note] [MY-010926] [Server] Access denied for user "
     "'root'@'203.0.113.7' (using password: YES)",
     {{"event.module", "mysql"},
      {"event.action", "auth_failure"},
      {"event.category", "authentication"},
      {"event.outcome", "failure"},
      {"user.name", "root"},
      {"source.ip", "203.0.113.7"},
      {"mysql.using_password", "YES"},
      {NULL, NULL}}},
    {"[Warning] Access denied for user 'app'@'web01.example.org' (using password: NO)",
     {{"user.name", "app"},
      {"source.ip", NULL},
      {"source.domain", "web01.example.org"},
      {"mysql.using_password", "NO"},
      {NULL, NULL}}},
    {"240108 10:00:00 [Warning] Access denied for user 'o''brien'@'2001:db8::7' (using "
     "password: YES)",
     {{"user.name", "o''brien"}, {"source.ip", "2001:db8::7"}, {NULL, NULL}}},
    {"2024-01-08T10:00:01.000000Z 13 [Note] [MY-010914] [Server] Aborted connection 13 to db: "
     "'unconnected' user: 'root' host: '203.0.113.7' (Got an error reading communication packets)",
     {{"event.action", "connection_aborted"},
      {"event.outcome", NULL},
      {"user.name", "root"},
      {"source.ip", "203.0.113.7"},
      {"event.reason", "Got an error reading communication packets"},
      {NULL, NULL}}},
    /* cut after the host */
    {"Access denied for user 'root'@'203.0.113.7",
     {{"user.name", "root"},
      {"source.ip", "203.0.113.7"},
      {"mysql.using_password", NULL},
      {NULL, NULL}}},
};

static const struct decode_testlib_bad mysql_bad[] = {
    {"", -ENOENT, 0},
    {"2024-01-08T10:00:00.123456Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for "
     "connections.",
     -ENOENT, 0},
    {"Access denied for user 'root", -ENOENT, 0},
    {"Aborted connection 13 to db", -ENOENT, 0},
};

static const struct decode_testlib_good postgres_good[] = {
    {"2024-01-08 10:00:00.123 UTC [1234] alice@appdb FATAL:  password authentication failed "
     "for user \"alice\"",
     {{"event.module", "postgresql"},
      {"event.action", "auth_failure"},
      {"event.outcome", "failure"},
      {"user.name", "alice"},
      {"source.ip", NULL},
      {"event.reason", "password authentication failed for user \"alice\""},
      {NULL, NULL}}},
    {"2024-01-08 10:00:00.123 UTC [1235] host=203.0.113.7 bob@appdb FATAL:  role \"bob\" does "
     "not exist",
     {{"user.name", "bob"}, {"source.ip", "203.0.113.7"}, {NULL, NULL}}},
    {"[3-1] 2024-01-08 10:00:00 UTC FATAL:  no pg_hba.conf entry for host \"198.51.100.9\", "
     "user \"mallory\", database \"postgres\", no encryption",
     {{"user.name", "mallory"}, {"source.ip", "198.51.100.9"}, {NULL, NULL}}},
    {"2024-01-08 10:00:01.000 UTC [1236] carol@appdb LOG:  connection authorized: user=carol "
     "database=appdb application_name=psql",
     {{"event.action", "login"},
      {"event.outcome", "success"},
      {"user.name", "carol"},
      {NULL, NULL}}},
    {"2024-01-08 10:00:01.000 UTC [1236] [unknown]@[unknown] LOG:  connection received: "
     "host=203.0.113.7 port=50412",
     {{"event.action", "connection_received"},
      {"source.ip", "203.0.113.7"},
      {"source.port", "50412"},
      {NULL, NULL}}},
    /* hostile: an address-like user name in the prefix is not the host */
    {"2024-01-08 10:00:00.123 UTC [1] x@y FATAL:  password authentication failed for user \"x",
     {{"user.name", "x"}, {NULL, NULL}}},
};

static const struct decode_testlib_bad postgres_bad[] = {
    {"", -ENOENT, 0},
    {"2024-01-08 10:00:00.123 UTC [1] LOG:  database system is ready to accept connections",
     -ENOENT, 0},
    {"2024-01-08 10:00:00.123 UTC [1] FATAL:  the database system is starting up", -ENOENT, 0},
    {"2024-01-08 10:00:00.123 UTC [1] LOG:  connection authorized: database=x", -ENOENT, 0},
    {"FATAL:  ", -ENOENT, 0},
};

static void test_mysql(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_mysql, "mysql", mysql_good,
                              sizeof(mysql_good) / sizeof(mysql_good[0]));
    decode_testlib_check_bad(decode_mysql, mysql_bad, sizeof(mysql_bad) / sizeof(mysql_bad[0]));
}

static void test_postgres(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_postgres, "postgres", postgres_good,
                              sizeof(postgres_good) / sizeof(postgres_good[0]));
    decode_testlib_check_bad(decode_postgres, postgres_bad,
                             sizeof(postgres_bad) / sizeof(postgres_bad[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mysql),
        cmocka_unit_test(test_postgres),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
