/*
 * test_decode_bind.c - BIND 9 query log lines.  The loghub Linux sample has
 * named lines, none of them queries (they must be refused); the query and
 * denied lines are written from the BIND 9 ARM's logging chapter and the
 * messages named writes (documentation addresses, made-up names).  Hostile
 * and truncated variants follow.
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

#include "decode/decode_bind.h"
#include "decode/decode_rfc3164.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good good[] = {
    {"client @0x7f2c3c0b2a60 203.0.113.7#53412 (www.example.com): query: www.example.com IN A "
     "+E(0)K (192.0.2.53)",
     {{"event.module", "bind"},
      {"event.dataset", "bind.query"},
      {"event.action", "dns_query"},
      {"event.outcome", NULL},
      {"source.ip", "203.0.113.7"},
      {"source.port", "53412"},
      {"destination.ip", "192.0.2.53"},
      {"dns.question.name", "www.example.com"},
      {"dns.question.type", "A"},
      {"dns.question.class", "IN"},
      {"bind.flags", "+E(0)K"},
      {"network.transport", "udp"},
      {NULL, NULL}}},
    /* named's own file, with the category and severity printed; TCP */
    {"08-Jan-2024 10:00:00.123 queries: info: client @0x7f1 2001:db8::7#40000 (x.example.org): "
     "view internal: query: x.example.org IN AAAA +ET (2001:db8::53)",
     {{"source.ip", "2001:db8::7"},
      {"bind.view", "internal"},
      {"dns.question.type", "AAAA"},
      {"network.transport", "tcp"},
      {"@timestamp", "2024-01-08T10:00:00.123000Z"},
      {NULL, NULL}}},
    /* BIND 9.9: no client object address */
    {"client 198.51.100.4#1234 (a.example.net): query: a.example.net IN TXT + (192.0.2.53)",
     {{"source.ip", "198.51.100.4"}, {"dns.question.type", "TXT"}, {NULL, NULL}}},
    {"client @0x7f2c 203.0.113.9#5353 (version.bind): query (cache) 'version.bind/TXT/CH' denied",
     {{"event.action", "dns_query_denied"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"dns.question.name", "version.bind"},
      {"dns.question.type", "TXT"},
      {"dns.question.class", "CH"},
      {NULL, NULL}}},
    {"security: error: client @0x7f2c 203.0.113.9#41000 (example.com): zone transfer "
     "'example.com/AXFR/IN' denied",
     {{"event.action", "zone_transfer_denied"}, {"dns.question.type", "AXFR"}, {NULL, NULL}}},
    /* cut after the type: what is there is kept */
    {"client 198.51.100.4#1234 (a.example.net): query: a.example.net IN MX",
     {{"dns.question.type", "MX"}, {"destination.ip", NULL}, {"bind.flags", NULL}, {NULL, NULL}}},
};

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    /* real (loghub Linux) */
    {"notify question section contains no SOA", -ENOENT, 0},
    {"starting BIND 9.18.24-1-Debian", -ENOENT, 0},
    {"client @0x7f2c notanip#53 (x): query: x IN A + (1.1.1.1)", -ENOENT, 0},
    {"client 1.2.3.4#99999 (x): query: x IN A + (1.1.1.1)", -ENOENT, 0},
    {"client 1.2.3.4#53 (x): query: ", -ENOENT, 0},
    {"client 1.2.3.4#53 (x", -ENOENT, 0},
    {"client 1.2.3.4#53 (x): view v", -ENOENT, 0},
    {"client 1.2.3.4#53: received notify for zone 'example.com'", -ENOENT, 0},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_bind, "bind", good, sizeof(good) / sizeof(good[0]));
}

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_bind, bad, sizeof(bad) / sizeof(bad[0]));
}

/* The loghub Linux sample's named lines: none is a query, all refused. */
static void test_loghub(void **state)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n;
    unsigned named = 0, taken = 0;

    (void)state;
    decode_testlib_lines_open(&it, "data/linux-logs/loghub/Linux/Linux_2k.log");
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err perr;
        uint32_t before;

        if (!strstr(line, " named["))
            continue;
        named++;
        if (decode_testlib_run_chain(decode_rfc3164, decode_bind, &ev, line, n, &perr, &before) ==
            0)
            taken++;
    }
    decode_testlib_lines_close(&it);
    printf("loghub Linux: %u named lines, %u taken as queries\n", named, taken);
    assert_true(named >= 10);
    assert_int_equal(taken, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_loghub),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
