/*
 * test_decode_json.c - the JSON lines decoder, on real EVE/Zeek/Windows
 * records and on malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode/decode_json.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "util/limits.h"

static unsigned count_values(const struct event *ev, const char *name)
{
    uint32_t id = field_lookup(name, strlen(name));
    unsigned c = 0;

    for (uint32_t i = 0; id && i < ev->nfields; i++)
        c += ev->fields[i].id == id;
    return c;
}

/* Real records: the Windows and Zeek lines are copied from the shared
 * samples; the EVE lines follow Suricata's documented EVE output (no EVE
 * file is in the shared data). */
static const struct decode_testlib_good good[] = {
    {"{\"timestamp\":\"2017-04-07T22:24:37.251547+0100\",\"flow_id\":586497171462735,"
     "\"in_iface\":\"eth0\",\"event_type\":\"alert\",\"src_ip\":\"203.0.113.7\",\"src_port\":"
     "53504,\"dest_ip\":\"192.168.1.10\",\"dest_port\":80,\"proto\":\"TCP\",\"alert\":{"
     "\"action\":\"allowed\",\"gid\":1,\"signature_id\":2001219,\"rev\":20,\"signature\":"
     "\"ET SCAN Potential SSH Scan\",\"category\":\"Attempted Information Leak\","
     "\"severity\":2},\"app_proto\":\"http\"}",
     {{"event_type", "alert"},
      {"src_ip", "203.0.113.7"},
      {"source.ip", "203.0.113.7"},
      {"source.port", "53504"},
      {"destination.ip", "192.168.1.10"},
      {"destination.port", "80"},
      {"proto", "TCP"},
      {"network.transport", "tcp"},
      {"alert.signature_id", "2001219"},
      {"rule.id", "2001219"},
      {"rule.name", "ET SCAN Potential SSH Scan"},
      {"rule.category", "Attempted Information Leak"},
      {"event.severity", "2"},
      {"event.kind", "alert"},
      {"event.dataset", "suricata.alert"},
      {"@timestamp", "2017-04-07T21:24:37.251547Z"},
      {"event.original_time", "2017-04-07T22:24:37.251547+0100"},
      {NULL, NULL}}},
    {"{\"timestamp\":\"2023-02-11T10:00:01.000000+0000\",\"event_type\":\"http\",\"src_ip\":"
     "\"198.51.100.23\",\"src_port\":41000,\"dest_ip\":\"10.0.0.5\",\"dest_port\":8080,"
     "\"proto\":\"TCP\",\"http\":{\"hostname\":\"shop.example\",\"url\":"
     "\"/item.php?id=1%27%20OR%201=1--\",\"http_user_agent\":\"sqlmap/1.7#stable\","
     "\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":512}}",
     {{"event.dataset", "suricata.http"},
      {"url.original", "/item.php?id=1%27%20OR%201=1--"},
      {"url.path", "/item.php"},
      {"url.query", "id=1%27%20OR%201=1--"},
      {"url.domain", "shop.example"},
      {"http.request.method", "GET"},
      {"http.response.status_code", "200"},
      {"user_agent.original", "sqlmap/1.7#stable"},
      {"http.http_user_agent", "sqlmap/1.7#stable"},
      {"event.kind", NULL},
      {"rule.name", NULL},
      {NULL, NULL}}},
    /* zed-sample-data zeek-json/conn */
    {"{\"_path\":\"conn\",\"_write_ts\":\"2018-03-24T17:15:21.255387Z\",\"ts\":"
     "\"2018-03-24T17:15:21.255387Z\",\"uid\":\"C8Tful1TvM3Zf5x8fl\",\"id.orig_h\":"
     "\"10.164.94.120\",\"id.orig_p\":39681,\"id.resp_h\":\"10.47.3.155\",\"id.resp_p\":3389,"
     "\"proto\":\"tcp\",\"duration\":0.004266023635864258,\"conn_state\":\"RSTR\"}",
     {{"source.ip", "10.164.94.120"},
      {"source.port", "39681"},
      {"destination.ip", "10.47.3.155"},
      {"destination.port", "3389"},
      {"network.transport", "tcp"},
      {"event.dataset", "zeek.conn"},
      {"duration", "0.004266023635864258"},
      {"@timestamp", "2018-03-24T17:15:21.255387Z"},
      {NULL, NULL}}},
    /* Security-Datasets apt29 day1 SCRANTON_notice.log (epoch ts, id_orig_h) */
    {"{\"@stream\":\"kerberos\",\"@system\":\"simplerockbuild.simplerock.lan\",\"@proc\":"
     "\"zeek\",\"ts\":1588205198.908336,\"uid\":\"CbD9Ha1JtdoSnfM4Mf\",\"id_orig_h\":"
     "\"10.0.1.4\",\"id_orig_p\":60595,\"id_resp_h\":\"10.0.0.4\",\"id_resp_p\":445}",
     {{"source.ip", "10.0.1.4"},
      {"source.port", "60595"},
      {"destination.ip", "10.0.0.4"},
      {"destination.port", "445"},
      {"event.dataset", "zeek.kerberos"},
      {"@timestamp", "2020-04-30T00:06:38.908336Z"},
      {NULL, NULL}}},
    /* Security-Datasets psh_powershell_httplistener: Security 1102 */
    {"{\"Message\":\"The audit log was cleared.\\r\\nSubject:\\r\\n\\tSecurity "
     "ID:\\tS-1-5-21-3940915590-64593676-1414006259-500\",\"EventID\":1102,\"SourceName\":"
     "\"Microsoft-Windows-Eventlog\",\"TimeCreated\":\"2020-11-02T04:12:58.211Z\",\"Hostname\":"
     "\"WORKSTATION5\",\"Task\":\"104\",\"Level\":\"4\",\"Channel\":\"Security\","
     "\"@timestamp\":\"2020-11-02T04:12:58.211Z\"}",
     {{"EventID", "1102"},
      {"event.code", "1102"},
      {"host.name", "WORKSTATION5"},
      {"Channel", "Security"},
      {"winlog.channel", "Security"},
      {"Message", "The audit log was cleared.\r\nSubject:\r\n\tSecurity "
                  "ID:\tS-1-5-21-3940915590-64593676-1414006259-500"},
      {"@timestamp", "2020-11-02T04:12:58.211000Z"},
      {NULL, NULL}}},
    /* Sysmon process creation as the Security-Datasets export writes it */
    {"{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
     "\"WORKSTATION5\",\"Image\":\"C:\\\\Windows\\\\System32\\\\mshta.exe\",\"CommandLine\":"
     "\"mshta.exe vbscript:Close(Execute(\\\"CreateObject(\\\"\\\"Wscript.Shell\\\"\\\")\\\"))"
     "\",\"User\":\"WORKSTATION5\\\\wardog\",\"@timestamp\":\"2020-10-22T02:58:08.080Z\"}",
     {{"Image", "C:\\Windows\\System32\\mshta.exe"},
      {"process.executable", "C:\\Windows\\System32\\mshta.exe"},
      {"process.command_line",
       "mshta.exe vbscript:Close(Execute(\"CreateObject(\"\"Wscript.Shell\"\")\"))"},
      {"event.code", "1"},
      {NULL, NULL}}},
    /* ECS: flattening gives the ECS names */
    {"{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"source\":{\"ip\":\"192.0.2.1\",\"port\":22},"
     "\"event\":{\"category\":[\"authentication\",\"network\"],\"outcome\":\"failure\"},"
     "\"user\":{\"name\":\"root\"},\"tags\":null,\"ok\":true,\"bad\":false}",
     {{"source.ip", "192.0.2.1"},
      {"source.port", "22"},
      {"event.category", "authentication"},
      {"event.outcome", "failure"},
      {"user.name", "root"},
      {"ok", "true"},
      {"bad", "false"},
      {"tags", NULL},
      {"@timestamp", "2024-05-01T12:00:00.000000Z"},
      {NULL, NULL}}},
    /* Escapes: \u with a surrogate pair, \/ and the short escapes. */
    {" {\"k\\u0065y\":\"caf\\u00e9 \\ud83d\\ude00 a\\/b\\\"c\\\\d\\b\\f\", \"n\":-1.5e+300} ",
     {{"key", "caf\xc3\xa9 \xf0\x9f\x98\x80 a/b\"c\\d\b\f"}, {"n", "-1.5e+300"}, {NULL, NULL}}},
    /* Arrays of objects flatten under one prefix. */
    {"{\"dns\":{\"answers\":[{\"rrname\":\"a.example\",\"rdata\":\"192.0.2.7\"},"
     "{\"rrname\":\"a.example\",\"rdata\":\"192.0.2.8\"}]},\"n\":[[1,2],[]]}",
     {{"dns.answers.rdata", "192.0.2.7"}, {"n", "1"}, {NULL, NULL}}},
    /* A notice with no connection (Zeek's scan.zeek), in the plain JSON
     * writer's form: no _path, no id.orig_h, no fuid (written from the
     * notice.log columns) */
    {"{\"ts\":1795435200.5,\"note\":\"Scan::Port_Scan\",\"msg\":\"198.51.100.9 scanned at "
     "least 15 unique ports of host 10.0.0.20 in 0m3s\",\"src\":\"198.51.100.9\",\"dst\":"
     "\"10.0.0.20\",\"actions\":[\"Notice::ACTION_LOG\"],\"suppress_for\":3600.0}",
     {{"event.dataset", "zeek.notice"},
      {"rule.name", "Scan::Port_Scan"},
      {"event.kind", "alert"},
      {"source.ip", "198.51.100.9"},
      {"destination.ip", "10.0.0.20"},
      {NULL, NULL}}},
    /* ts and note alone are not Zeek's: an application's own log */
    {"{\"ts\":1795435200.5,\"note\":\"backup done\",\"src\":\"198.51.100.9\"}",
     {{"event.dataset", NULL}, {"rule.name", NULL}, {"event.kind", NULL}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_json, "json", good, sizeof(good) / sizeof(good[0]));
}

static void test_repeated(void **state)
{
    struct event ev;
    struct parse_err perr;
    const char *line = good[8].line;

    (void)state;
    assert_int_equal(decode_testlib_run(decode_json, &ev, line, strlen(line), &perr), 0);
    assert_int_equal(count_values(&ev, "dns.answers.rdata"), 2);
    assert_int_equal(count_values(&ev, "dns.answers.rrname"), 2);
    assert_int_equal(count_values(&ev, "n"), 2);
    line = good[6].line;
    assert_int_equal(decode_testlib_run(decode_json, &ev, line, strlen(line), &perr), 0);
    assert_int_equal(count_values(&ev, "event.category"), 2);
}

/* Values without escapes are views into the record, not copies. */
static void test_zero_copy(void **state)
{
    struct event ev;
    struct parse_err perr;
    const char *line = good[0].line;
    size_t n;
    const char *v;

    (void)state;
    assert_int_equal(decode_testlib_run(decode_json, &ev, line, strlen(line), &perr), 0);
    v = event_get(&ev, FIELD_SOURCE_IP, &n);
    assert_non_null(v);
    assert_true(v > ev.raw && v < ev.raw + ev.raw_len);
}

struct bad_case {
    const char *line;
    size_t len; /* 0: strlen */
    int want;
    size_t off;
};

static const struct bad_case bad[] = {
    {"", 0, -ENOENT, 0},
    {"   ", 0, -ENOENT, 0},
    {"[1,2]", 0, -ENOENT, 0},
    {"hello {\"a\":1}", 0, -ENOENT, 0},
    {"{", 0, -EINVAL, 1},
    {"{\"a\":\"abc", 0, -EINVAL, 5},
    {"{\"a\":\"a\\qb\"}", 0, -EINVAL, 7},
    {"{\"a\":\"\\u12G4\"}", 0, -EINVAL, 6},
    {"{\"a\":\"\\ud800\"}", 0, -EINVAL, 6},
    {"{\"a\":\"\\ud800\\u0041\"}", 0, -EINVAL, 6},
    {"{\"a\":\"\\udc00\"}", 0, -EINVAL, 6},
    {"{\"a\":\"\xc3\x28\"}", 0, -EINVAL, 6},
    {"{\"a\":\"\xed\xa0\x80\"}", 0, -EINVAL, 6},
    {"{\"a\":\"\xc0\xaf\"}", 0, -EINVAL, 6},
    {"{\"a\":\"tab\there\"}", 0, -EINVAL, 9},
    {"{\"a\":01}", 0, -EINVAL, 6},
    {"{\"a\":1.}", 0, -EINVAL, 7},
    {"{\"a\":-}", 0, -EINVAL, 6},
    {"{\"a\":1e}", 0, -EINVAL, 7},
    {"{\"a\":tru}", 0, -EINVAL, 5},
    {"{\"a\":1,}", 0, -EINVAL, 7},
    {"{\"a\" 1}", 0, -EINVAL, 5},
    {"{a:1}", 0, -EINVAL, 1},
    {"{\"a\":1} x", 0, -EINVAL, 8},
    {"{\"a\":1}{\"b\":2}", 0, -EINVAL, 7},
    {"{\"a\":[1 2]}", 0, -EINVAL, 8},
    {"{\"a\":'x'}", 0, -EINVAL, 5},
    {"{\"a\":\"x\0y\"}", 11, -EINVAL, 7},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(bad) / sizeof(bad[0]); c++)
        decode_testlib_expect_bad(decode_json, c, bad[c].line,
                                  bad[c].len ? bad[c].len : strlen(bad[c].line), bad[c].want,
                                  bad[c].off);
}

/* A depth bomb stops at the limit, and exactly the limit is accepted. */
static void test_depth(void **state)
{
    enum { N = 10000 };
    char *s = malloc(N + 16);
    struct event ev;
    struct parse_err perr;
    size_t n = 0;

    (void)state;
    assert_non_null(s);
    memcpy(s, "{\"a\":", 5);
    n = 5;
    memset(s + n, '[', N);
    n += N;
    assert_int_equal(decode_testlib_run(decode_json, &ev, s, n, &perr), -EINVAL);
    assert_string_equal(perr.msg, "nesting too deep");
    assert_int_equal(perr.off, 5 + LIMIT_JSON_DEPTH - 1);

    /* LIMIT_JSON_DEPTH levels in all, the outer object included. */
    n = 5;
    for (int d = 1; d < LIMIT_JSON_DEPTH; d++)
        s[n++] = '[';
    s[n++] = '7';
    for (int d = 1; d < LIMIT_JSON_DEPTH; d++)
        s[n++] = ']';
    s[n++] = '}';
    assert_int_equal(decode_testlib_run(decode_json, &ev, s, n, &perr), 0);
    decode_testlib_expect_field(&ev, "a", "7", NULL);
    free(s);
}

/* A 5000-digit number is kept as text; a 1000-byte name is dropped and
 * counted, not truncated into a wrong name. */
static void test_huge(void **state)
{
    char *s = malloc(8000);
    struct event ev;
    struct parse_err perr;
    size_t n = 0;

    (void)state;
    assert_non_null(s);
    n += (size_t)sprintf(s, "{\"big\":");
    memset(s + n, '9', 5000);
    n += 5000;
    s[n++] = ',';
    s[n++] = '"';
    memset(s + n, 'k', 1000);
    n += 1000;
    n += (size_t)sprintf(s + n, "\":1,\"x\":2}");
    assert_int_equal(decode_testlib_run(decode_json, &ev, s, n, &perr), 0);
    assert_int_equal(count_values(&ev, "big"), 1);
    assert_int_equal(ev.fields[0].len, 5000);
    assert_int_equal(ev.dropped, 1);
    decode_testlib_expect_field(&ev, "x", "2", NULL);
    free(s);
}

/* ---- whole sample files ---- */

struct tally {
    unsigned long lines, ok, with_time, with_alias;
    unsigned long time_members; /* records holding a member the decoder takes time from */
};

static int has_time_member(const struct event *ev)
{
    static const char *const names[] = {"@timestamp", "timestamp", "TimeCreated", "EventTime",
                                        "ts"};
    size_t n;

    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        uint32_t id = field_lookup(names[k], strlen(names[k]));
        if (id && event_get(ev, id, &n))
            return 1;
    }
    return 0;
}

static void scan_line(struct tally *t, const char *line, size_t len)
{
    struct event ev;
    struct parse_err perr;
    size_t n;

    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0)
        return;
    t->lines++;
    if (decode_testlib_run(decode_json, &ev, line, len, &perr) == 0) {
        t->ok++;
        t->with_time += ev.has_time;
        t->time_members += has_time_member(&ev);
        t->with_alias += event_get(&ev, FIELD_SOURCE_IP, &n) != NULL ||
                         event_get(&ev, FIELD_EVENT_CODE, &n) != NULL;
    }
}

static struct tally *cur_tally;

static int scan_file_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    size_t pl = strlen(path);
    int gz = pl > 8 && strcmp(path + pl - 8, ".json.gz") == 0;
    int js = (pl > 5 && strcmp(path + pl - 5, ".json") == 0) ||
             (pl > 4 && strcmp(path + pl - 4, ".log") == 0 && strstr(path, "zeek"));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    (void)sb;
    (void)ftw;
    if (flag != FTW_F || (!gz && !js))
        return 0;
    if (gz) {
        gzFile g = gzopen(path, "rb");
        enum { MAXL = 1 << 20 };
        char *b = malloc(MAXL);

        assert_non_null(g);
        assert_non_null(b);
        while (gzgets(g, b, MAXL))
            scan_line(cur_tally, b, strlen(b));
        gzclose(g);
        free(b);
        return 0;
    } else {
        FILE *f = fopen(path, "r");

        assert_non_null(f);
        while ((n = getline(&line, &cap, f)) > 0)
            scan_line(cur_tally, line, (size_t)n);
        free(line);
        fclose(f);
    }
    return 0;
}

static void scan_tree(const char *rel, struct tally *t)
{
    char path[8192];

    snprintf(path, sizeof(path), "%s/%s", decode_testlib_shared_dir(), rel);
    memset(t, 0, sizeof(*t));
    cur_tally = t;
    if (nftw(path, scan_file_cb, 16, FTW_PHYS) != 0)
        fail_msg("cannot read %s", path);
    printf("%s: %lu/%lu decoded, %lu with a time, %lu with source.ip or event.code\n", rel, t->ok,
           t->lines, t->with_time, t->with_alias);
}

/* Every record in these exports is a JSON object written by a JSON
 * library, so anything short of all of them decoding is our bug. */
static void test_samples(void **state)
{
    struct tally t;

    (void)state;
    scan_tree("data/windows/Security-Datasets/datasets", &t);
    assert_true(t.lines > 10000);
    assert_int_equal(t.ok, t.lines);
    /* Every record with a time member gets its time; all but the AWS
     * CloudTrail file (no EventID) get event.code. */
    assert_int_equal(t.with_time, t.time_members);
    assert_true(t.with_alias * 100 >= t.lines * 95);

    scan_tree("data/network/Security-Datasets-apt29", &t);
    assert_true(t.lines > 1000);
    assert_int_equal(t.ok, t.lines);
    assert_int_equal(t.with_time, t.lines);

    scan_tree("data/network/zed-sample-data/zeek-json", &t);
    assert_true(t.lines > 1000);
    assert_int_equal(t.ok, t.lines);
    /* Only loaded_scripts has no ts at all. */
    assert_int_equal(t.with_time, t.time_members);
    assert_true(t.with_time * 100 >= t.lines * 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),      cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_zero_copy), cmocka_unit_test(test_bad),
        cmocka_unit_test(test_depth),     cmocka_unit_test(test_huge),
        cmocka_unit_test(test_samples),
    };

    decode_testlib_set_clock(0, 1000000);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
