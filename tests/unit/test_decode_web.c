/*
 * test_decode_web.c - Apache/nginx access and error logs: the loghub Apache
 * error log checked line by line against its structured CSV, and
 * access-log lines (no access log is in the shared data) including attack
 * traffic and scanner junk.
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

#include "decode/decode_url.h"
#include "decode/decode_web.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "util/arena.h"

static const struct decode_testlib_good access_good[] = {
    /* Apache combined, SQL injection from sqlmap */
    {"203.0.113.50 - - [10/Oct/2023:13:55:36 -0700] \"GET /item.php?id=1%27%20AND%201=1--%20- "
     "HTTP/1.1\" 200 2326 \"http://shop.example/\" \"sqlmap/1.7.2#stable (https://sqlmap.org)\"",
     {{"source.ip", "203.0.113.50"},
      {"user.name", NULL},
      {"@timestamp", "2023-10-10T20:55:36.000000Z"},
      {"event.original_time", "10/Oct/2023:13:55:36 -0700"},
      {"http.request.method", "GET"},
      {"url.original", "/item.php?id=1%27%20AND%201=1--%20-"},
      {"url.path", "/item.php"},
      {"url.query", "id=1%27%20AND%201=1--%20-"},
      {"http.version", "1.1"},
      {"http.response.status_code", "200"},
      {"http.response.body.bytes", "2326"},
      {"http.request.referrer", "http://shop.example/"},
      {"user_agent.original", "sqlmap/1.7.2#stable (https://sqlmap.org)"},
      {"event.category", "web"},
      {"event.dataset", "web.access"},
      {"http.request.malformed", NULL},
      {NULL, NULL}}},
    /* common format, authuser, '-' bytes, path traversal */
    {"192.0.2.10 - frank [05/Feb/2024:01:02:03 +0000] \"GET /../../../../etc/passwd HTTP/1.0\" "
     "404 -",
     {{"source.ip", "192.0.2.10"},
      {"user.name", "frank"},
      {"url.path", "/../../../../etc/passwd"},
      {"url.query", NULL},
      {"http.version", "1.0"},
      {"http.response.status_code", "404"},
      {"http.response.body.bytes", NULL},
      {"user_agent.original", NULL},
      {NULL, NULL}}},
    /* IPv6 client, nginx default, Nikto with an escaped quote in the UA */
    {"2001:db8::1 - - [05/Feb/2024:01:02:04 +0100] \"HEAD /cgi-bin/test.cgi HTTP/1.1\" 403 0 "
     "\"-\" \"Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:\\\"000003\\\")\"",
     {{"source.ip", "2001:db8::1"},
      {"http.request.method", "HEAD"},
      {"http.response.body.bytes", "0"},
      {"http.request.referrer", NULL},
      {"user_agent.original", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:\"000003\")"},
      {NULL, NULL}}},
    /* TLS handshake sent to a plain-HTTP port */
    {"198.51.100.7 - - [05/Feb/2024:01:02:05 +0000] \"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01"
     "\\xfc\\x03\\x03\" 400 226 \"-\" \"-\"",
     {{"url.original", "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03"},
      {"http.request.malformed", "true"},
      {"http.request.method", NULL},
      {"http.response.status_code", "400"},
      {NULL, NULL}}},
    /* vhost-prefixed (%v:%p), an empty request "-", extra trailing fields */
    {"www.example.com:443 192.0.2.33 - - [05/Feb/2024:01:02:06 +0000] \"-\" 408 - \"-\" \"-\" "
     "\"198.51.100.1\"",
     {{"url.domain", "www.example.com"},
      {"source.ip", "192.0.2.33"},
      {"url.original", NULL},
      {"http.request.malformed", NULL},
      {"http.response.status_code", "408"},
      {NULL, NULL}}},
    /* Host name client (HostnameLookups On), HTTP/0.9-style request */
    {"crawler.example.net - - [05/Feb/2024:01:02:07 +0000] \"GET /\" 200 12",
     {{"source.domain", "crawler.example.net"},
      {"source.ip", NULL},
      {"url.original", "/"},
      {"http.version", NULL},
      {NULL, NULL}}},
};

static const struct decode_testlib_good error_good[] = {
    /* Apache_2k.log */
    {"[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
     {{"log.level", "error"},
      {"message", "mod_jk child workerEnv in error state 6"},
      {"@timestamp", "2005-12-04T04:47:44.000000Z"},
      {"event.dataset", "web.error"},
      {NULL, NULL}}},
    {"[Sun Dec 04 07:18:00 2005] [error] [client 24.147.151.74] Directory index forbidden by "
     "rule: /var/www/html/",
     {{"log.level", "error"},
      {"source.ip", "24.147.151.74"},
      {"source.port", NULL},
      {"message", "Directory index forbidden by rule: /var/www/html/"},
      {NULL, NULL}}},
    /* Apache 2.4 */
    {"[Wed Oct 11 14:32:52.123456 2023] [core:error] [pid 12345:tid 140234] [client "
     "203.0.113.9:51234] AH00126: Invalid URI in request GET /..%2f..%2fetc/passwd HTTP/1.1",
     {{"log.level", "error"},
      {"apache.error.module", "core"},
      {"process.pid", "12345"},
      {"source.ip", "203.0.113.9"},
      {"source.port", "51234"},
      {"error.code", "AH00126"},
      {"message", "AH00126: Invalid URI in request GET /..%2f..%2fetc/passwd HTTP/1.1"},
      {"@timestamp", "2023-10-11T14:32:52.123456Z"},
      {NULL, NULL}}},
    {"[Wed Oct 11 14:32:53.000001 2023] [authz_core:error] [pid 9] [client 2001:db8::7:4433] "
     "AH01630: client denied by server configuration: /srv/www/admin",
     {{"source.ip", "2001:db8::7"}, {"source.port", "4433"}, {"process.pid", "9"}, {NULL, NULL}}},
    /* nginx */
    {"2024/01/02 03:04:05 [error] 1234#0: *56 open() \"/usr/share/nginx/html/wp-login.php\" "
     "failed (2: No such file or directory), client: 198.51.100.4, server: localhost, request: "
     "\"GET /wp-login.php HTTP/1.1\", host: \"example.com\"",
     {{"log.level", "error"},
      {"process.pid", "1234"},
      {"source.ip", "198.51.100.4"},
      {"message", "open() \"/usr/share/nginx/html/wp-login.php\" failed (2: No such file or "
                  "directory), client: 198.51.100.4, server: localhost, request: \"GET "
                  "/wp-login.php HTTP/1.1\", host: \"example.com\""},
      {"@timestamp", "2024-01-02T03:04:05.000000Z"},
      {NULL, NULL}}},
    {"2024/01/02 03:04:06 [notice] 1#1: signal process started",
     {{"log.level", "notice"}, {"message", "signal process started"}, {NULL, NULL}}},
};

/*
 * The normalised view of the target (decode_url.h), one payload family a
 * row: each target is put in a combined-format line as Apache logs it.
 */
struct norm_case {
    const char *target; /* as it appears between the quotes of the log */
    const char *normalized;
    const char *query;   /* url.query_normalized, NULL: absent */
    const char *evasion; /* url.evasion, NULL: absent */
};

static const struct norm_case norm_cases[] = {
    {"/item.php?id=1%27%20AND%201=1--%20-", "/item.php?id=1' and 1=1-- -", "id=1' and 1=1-- -",
     NULL},
    {"/index.php?q=%27%3B%20DROP%20TABLE%20users--", "/index.php?q='; drop table users--",
     "q='; drop table users--", NULL},
    {"/p?x=1%22%20or%20%22a%22=%22a", "/p?x=1\" or \"a\"=\"a", "x=1\" or \"a\"=\"a", NULL},
    {"/search?q=Hello+World%21+%2B1", "/search?q=hello world! +1", "q=hello world! +1", NULL},
    {"/a+b/c", "/a+b/c", NULL, NULL}, /* '+' is a space only in the query */
    {"/a/..;/..;/etc/passwd", "/a/../../etc/passwd", NULL, "dot_segment_trick"},
    {"/static/....//....//etc/passwd", "/static/../../etc/passwd", NULL, "dot_segment_trick"},
    {"/x/..././..././etc/shadow", "/x/../../etc/shadow", NULL, "dot_segment_trick"},
    {"/.%2e/.%2E/win.ini", "/../../win.ini", NULL, NULL},
    {"/%252e%252e%252fetc%252fpasswd", "/../etc/passwd", NULL, "double_encoding"},
    {"/x?a=%25%32%37", "/x?a='", "a='", "double_encoding"},
    /* three rounds and no more: the fourth layer stays encoded */
    {"/x?a=%25252527", "/x?a=%27", "a=%27", "double_encoding"},
    {"/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/../../etc/passwd", NULL, "overlong_utf8"},
    {"/\\xc0\\xae\\xc0\\xae/boot.ini", "/../boot.ini", NULL, "overlong_utf8"},
    {"/%e0%80%ae%e0%80%ae/etc/passwd", "/../etc/passwd", NULL, "overlong_utf8"},
    {"/..\\\\..\\\\windows\\\\win.ini", "/../../windows/win.ini", NULL, "backslash"},
    {"/download?file=../../etc/passwd%00.png", "/download?file=../../etc/passwd.png",
     "file=../../etc/passwd.png", "null_byte"},
    {"/%u002e%u002e/%u2215etc", "/../etc", NULL, "unicode_escape dot_segment_trick"},
    {"/a/./b//c", "/a/b/c", NULL, NULL},
    {"http://Example.COM//x", "http://example.com/x", NULL, NULL},
    {"/images/Logo.PNG", "/images/logo.png", NULL, NULL},
    {"/wait.../x/.htaccess", "/wait.../x/.htaccess", NULL, NULL},
    {"/q?a=1%0a%09union%20%20select", "/q?a=1 union select", "a=1 union select", NULL},
    {"/e?x=%zz%", "/e?x=%zz%", "x=%zz%", NULL},
};

static void test_normalized(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
        const struct norm_case *c = &norm_cases[i];
        char line[512];
        struct event ev;
        struct parse_err perr;
        int n = snprintf(line, sizeof(line),
                         "203.0.113.50 - - [10/Oct/2023:13:55:36 -0700] \"GET %s HTTP/1.1\" "
                         "404 10 \"-\" \"curl/8.0\"",
                         c->target);

        assert_true(n > 0 && (size_t)n < sizeof(line));
        assert_int_equal(decode_testlib_run(decode_web_access, &ev, line, (size_t)n, &perr), 0);
        decode_testlib_expect_field(&ev, "http.request.malformed", NULL, line);
        decode_testlib_expect_field(&ev, "url.normalized", c->normalized, line);
        decode_testlib_expect_field(&ev, "url.query_normalized", c->query, line);
        decode_testlib_expect_field(&ev, "url.evasion", c->evasion, line);
    }
}

/* A quote and a backslash logged as \" and \\ no longer make the request
 * malformed; a malformed one still gets the normalised view. */
static void test_request_escapes(void **state)
{
    static const char ok[] = "192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] \"GET /a?b=\\\"x\\\\y "
                             "HTTP/1.1\" 200 1";
    static const char junk[] = "192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] \"\\x16\\x03\\x01\" "
                               "400 1";
    struct event ev;
    struct parse_err perr;

    (void)state;
    assert_int_equal(decode_testlib_run(decode_web_access, &ev, ok, sizeof(ok) - 1, &perr), 0);
    decode_testlib_expect_field(&ev, "http.request.malformed", NULL, ok);
    decode_testlib_expect_field(&ev, "url.original", "/a?b=\"x\\y", ok);
    decode_testlib_expect_field(&ev, "url.query_normalized", "b=\"x/y", ok);
    assert_int_equal(decode_testlib_run(decode_web_access, &ev, junk, sizeof(junk) - 1, &perr), 0);
    decode_testlib_expect_field(&ev, "http.request.malformed", "true", junk);
    decode_testlib_expect_field(&ev, "url.normalized", "\x16\x03\x01", junk);
}

/*
 * Hostile sizes: 60 000 bytes of layered encodings and dot runs come back
 * no longer than they went in, with the bound on rounds holding.
 */
static void test_normalize_bounds(void **state)
{
    static const char *const units[] = {"%2525", "....//", "%c0%ae", "\\x5c..", "%u002e;/", "?"};
    struct arena a;
    size_t n = 60000;
    char *buf = malloc(n);

    (void)state;
    assert_non_null(buf);
    arena_init(&a, 4u << 20);
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        struct decode_url_norm nm;
        size_t ul = strlen(units[u]);

        for (size_t i = 0; i < n; i++)
            buf[i] = units[u][i % ul];
        assert_int_equal(decode_url_normalize(&a, buf, n, DECODE_URL_LOG_ESCAPES, &nm), 0);
        assert_true(nm.len <= n);
        assert_int_equal(nm.text[nm.len], '\0');
        if (nm.query)
            assert_true(nm.query >= nm.text && nm.query + nm.query_len == nm.text + nm.len);
        arena_reset(&a);
    }
    /* "%2525..." decodes three times: "%25" -> "%" ... and no further. */
    {
        struct decode_url_norm nm;
        assert_int_equal(decode_url_normalize(&a, "%25252541", 9, 0, &nm), 0);
        assert_string_equal(nm.text, "%41");
        assert_true(nm.evasion & DECODE_URL_EV_DOUBLE_ENCODING);
    }
    arena_done(&a);
    free(buf);
}

static void test_access(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_web_access, "web-access", access_good,
               sizeof(access_good) / sizeof(access_good[0]));
}

static void test_error(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_web_error, "web-error", error_good,
               sizeof(error_good) / sizeof(error_good[0]));
}

static const struct decode_testlib_bad access_bad[] = {
    {"", -ENOENT, 0},
    {"hello world", -ENOENT, 0},
    {"a b c d e [10/Oct/2023:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1", -ENOENT, 0},
    {"a b [10/Oct/2023:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1", -ENOENT, 0},
    {"1.2.3.4 - - [10/Oct/2023:99:55:36 -0700] \"GET / HTTP/1.1\" 200 1", -ENOENT, 0},
    {"1.2.3.4 - - [10/Oct/2023:13:55:36 -0700", -ENOENT, 0},
    {"1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] 200 1", -EINVAL, 40},
    {"1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] \"GET / HTTP/1.1 200 1", -EINVAL, 41},
    {"1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] \"GET /\" 2000 1", -EINVAL, 48},
    {"1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] \"GET /\" OK", -EINVAL, 48},
    {"1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] \"GET /\" 200 1 \"-", -EINVAL, 55},
};

static const struct decode_testlib_bad error_bad[] = {
    {"", -ENOENT, 0},
    {"[", -ENOENT, 0},
    {"[Sun Dec 04 04:47:44 2005]", -ENOENT, 0},
    {"[Sun Dec 04 04:47:44 2005] error", -ENOENT, 0},
    {"[not a time] [error] x", -ENOENT, 0},
    {"[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4 no close", -EINVAL, 35},
    {"2024/13/02 03:04:05 [error] x", -ENOENT, 0},
    {"2024/01/02 03:04:05 [error x", -ENOENT, 0},
    {"2024-01-02 03:04:05 [error] x", -ENOENT, 0},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_web_access, access_bad, sizeof(access_bad) / sizeof(access_bad[0]));
    decode_testlib_check_bad(decode_web_error, error_bad, sizeof(error_bad) / sizeof(error_bad[0]));
}

static int field_eq(const struct event *ev, uint32_t id, const char *s, size_t n)
{
    size_t vn;
    const char *v = event_get(ev, id, &vn);

    return v && vn == n && memcmp(v, s, n) == 0;
}

/*
 * Apache_2k.log, checked line by line against loghub's structured CSV
 * (LineId,Time,Level,...): every line must decode with the same time text
 * and level, and every "[client A]" line must give source.ip A.
 */
static void test_apache_2k(void **state)
{
    struct decode_testlib_lines log, csv;
    char *line, *row;
    size_t n, rown;
    unsigned lines = 0, ok = 0, same = 0, clients = 0, client_ok = 0;

    (void)state;
    decode_testlib_lines_open(&log, "data/linux-logs/loghub/Apache/Apache_2k.log");
    decode_testlib_lines_open(&csv, "data/linux-logs/loghub/Apache/Apache_2k.log_structured.csv");
    assert_true(decode_testlib_lines_next(&csv, &row, &rown)); /* header */
    while (decode_testlib_lines_next(&log, &line, &n)) {
        struct event ev;
        struct parse_err perr;
        const char *t, *lv, *cl;
        size_t tn, lvn;

        lines++;
        assert_true(decode_testlib_lines_next(&csv, &row, &rown));
        t = (const char *)memchr(row, ',', rown) + 1;
        tn = (size_t)((const char *)memchr(t, ',', rown) - t);
        lv = t + tn + 1;
        lvn = (size_t)((const char *)memchr(lv, ',', rown) - lv);
        if (decode_testlib_run(decode_web_error, &ev, line, n, &perr) == 0) {
            ok++;
            same += field_eq(&ev, FIELD_EVENT_ORIGINAL_TIME, t, tn) &&
                    field_eq(&ev, FIELD_LOG_LEVEL, lv, lvn);
            if ((cl = memmem(line, n, "[client ", 8)) != NULL) {
                const char *a = cl + 8, *e = memchr(a, ']', (size_t)(line + n - a));
                clients++;
                client_ok += e && field_eq(&ev, FIELD_SOURCE_IP, a, (size_t)(e - a));
            }
        }
    }
    decode_testlib_lines_close(&log);
    decode_testlib_lines_close(&csv);
    printf("Apache_2k.log: %u/%u decoded, %u match the CSV's time and level, %u/%u client "
           "addresses\n",
           ok, lines, same, client_ok, clients);
    assert_int_equal(lines, 2000);
    assert_int_equal(ok, lines);
    assert_int_equal(same, lines);
    assert_true(clients > 0);
    assert_int_equal(client_ok, clients);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_apache_2k),
        cmocka_unit_test(test_normalized),
        cmocka_unit_test(test_request_escapes),
        cmocka_unit_test(test_normalize_bounds),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
