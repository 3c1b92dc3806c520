/*
 * test_decode_squid.c - Squid native access.log lines.
 *
 * The first two lines are real: Apache Metron's Squid sample
 * (../shared/data/firewall/metron/.../squid/raw/SquidExampleOutput).  The
 * others are written from Squid's documented native format (logformat
 * "squid": %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt)
 * for what the sample lacks: CONNECT, denials, a user, IPv6, client and
 * peer names.  Then lines that are not Squid's, malformed ones, and every
 * truncation of the good ones.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "decode/decode_squid.h"
#include "decode_testlib.h"
#include "event/event.h"

static const struct decode_testlib_good good[] = {
    /* Metron */
    {"1461576382.642    161 127.0.0.1 TCP_MISS/200 103701 GET http://www.cnn.com/ - "
     "DIRECT/199.27.79.73 text/html",
     {{"@timestamp", "2016-04-25T09:26:22.642000Z"},
      {"event.dataset", "squid.access"},
      {"source.ip", "127.0.0.1"},
      {"event.action", "tcp_miss"},
      {"http.response.status_code", "200"},
      {"http.response.bytes", "103701"},
      {"http.request.method", "GET"},
      {"url.original", "http://www.cnn.com/"},
      {"url.scheme", "http"},
      {"url.domain", "www.cnn.com"},
      {"url.path", "/"},
      {"url.query", NULL},
      {"user.name", NULL},
      {"squid.hierarchy_code", "DIRECT"},
      {"destination.ip", "199.27.79.73"},
      {"http.response.mime_type", "text/html"},
      {"event.duration", "161000000"},
      {"event.outcome", "success"},
      {NULL, NULL}}},
    /* Metron */
    {"1461576442.228    159 127.0.0.1 TCP_MISS/200 137183 GET http://www.nba.com/ - "
     "DIRECT/66.210.41.9 text/html",
     {{"destination.ip", "66.210.41.9"}, {"url.domain", "www.nba.com"}, {NULL, NULL}}},
    /* written: a denied CONNECT by an authenticated user, no peer */
    {"1700000000.001      3 192.0.2.7 TCP_DENIED/403 3912 CONNECT www.example.com:443 alice "
     "HIER_NONE/- text/html",
     {{"event.action", "tcp_denied"},
      {"event.outcome", "failure"},
      {"user.name", "alice"},
      {"url.domain", "www.example.com"},
      {"url.port", "443"},
      {"url.path", NULL},
      {"destination.ip", NULL},
      {"destination.domain", NULL},
      {NULL, NULL}}},
    /* written: IPv6 client and URL, a query, a parent peer by name */
    {"1700000000.5 12 2001:db8::7 TCP_REFRESH_MODIFIED/200 512 GET "
     "http://[2001:db8::5]:8080/a/b?x=1&y=2 - FIRSTUP_PARENT/proxy2.example -",
     {{"source.ip", "2001:db8::7"},
      {"url.domain", "2001:db8::5"},
      {"url.port", "8080"},
      {"url.path", "/a/b"},
      {"url.query", "x=1&y=2"},
      {"destination.domain", "proxy2.example"},
      {"http.response.mime_type", NULL},
      {NULL, NULL}}},
    /* written: a client logged by name (log_fqdn on), status 000 */
    {"1700000000.123 0 ws1.corp.example NONE_NONE/000 0 NONE error:transaction-end-before-headers "
     "- HIER_NONE/- -",
     {{"source.ip", NULL},
      {"source.domain", "ws1.corp.example"},
      {"event.outcome", NULL},
      {NULL, NULL}}},
};

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"hello world", -ENOENT, 0},
    /* not an epoch with a fraction, or no CODE/STATUS */
    {"1461576382 161 127.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -", -ENOENT, 0},
    {"1461576382.642 161 127.0.0.1 TCP_MISS 1 GET http://a/ - DIRECT/1.2.3.4 -", -ENOENT, 0},
    {"1461576382.642 x 127.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -", -ENOENT, 0},
    {"1461576382.6421234 1 127.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -", -ENOENT, 0},
    /* Squid's shape, broken */
    {"1461576382.642 161 127.0.0.1 TCP_MISS/2000 1 GET http://a/ - DIRECT/1.2.3.4 -", -EINVAL, 38},
    {"1461576382.642 161 127.0.0.1 TCP_MISS/200 1 GET http://a/", -EINVAL, 57},
    {"1461576382.642 161 127.0.0.1 TCP_MISS/200 big GET http://a/ - DIRECT/1.2.3.4 -", -EINVAL, 42},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_squid, "squid", good, sizeof(good) / sizeof(good[0]));
}

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_squid, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_truncated(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(good) / sizeof(good[0]); c++) {
        for (size_t k = 0; k < strlen(good[c].line); k++) {
            struct event ev;
            struct parse_err perr;
            int r = decode_testlib_run(decode_squid, &ev, good[c].line, k, &perr);

            if (r != 0 && r != -ENOENT && r != -EINVAL)
                fail_msg("case %zu cut at %zu: %d", c, k, r);
            if (r == -ENOENT)
                assert_int_equal(ev.nfields, 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_truncated),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
