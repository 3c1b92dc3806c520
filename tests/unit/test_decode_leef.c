/*
 * test_decode_leef.c - the LEEF decoder, on the real LEEF samples (Metron)
 * and on malformed input.
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

#include "decode/decode_leef.h"
#include "event/event.h"
#include "util/arena.h"

static struct arena arena;
static const struct decode_ctx ctx = {1700000000000000LL, 0};

/* The shared data directory: $HIKESHI_SHARED, else ../shared beside the
 * source tree. */
static const char *shared_dir(void)
{
    static char buf[4096];
    const char *s = getenv("HIKESHI_SHARED"), *src = getenv("HIKESHI_SOURCE");

    if (s && *s)
        return s;
    snprintf(buf, sizeof(buf), "%s/../shared", src && *src ? src : "..");
    return buf;
}

/* Decodes `line` into a fresh event; returns the decoder's result. */
static int run_fn(decode_fn fn, struct event *ev, const char *line, size_t len,
                  struct parse_err *perr)
{
    arena_reset(&arena);
    event_init(ev, &arena, line, len, 1700000000000000LL);
    memset(perr, 0, sizeof(*perr));
    return fn(ev, line, len, &ctx, perr);
}

/* Asserts the first value of field `name` equals `want` (NULL: absent). */
static void expect_field(const struct event *ev, const char *name, const char *want)
{
    size_t n;
    uint32_t id = field_lookup(name, strlen(name));
    const char *v = id ? event_get(ev, id, &n) : NULL;

    if (!want) {
        if (v)
            fail_msg("field %s: want absent, got \"%.*s\"", name, (int)n, v);
        return;
    }
    if (!v)
        fail_msg("field %s: want \"%s\", absent", name, want);
    if (n != strlen(want) || memcmp(v, want, n) != 0)
        fail_msg("field %s: want \"%s\", got \"%.*s\"", name, want, (int)n, v);
}

struct kv {
    const char *name;
    const char *want;
};

struct good_case {
    const char *line;
    struct kv f[24];
};

static void check_good(decode_fn fn, const char *decoder, const struct good_case *g, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        struct event ev;
        struct parse_err perr;
        int r = run_fn(fn, &ev, g[c].line, strlen(g[c].line), &perr);

        if (r != 0)
            fail_msg("case %zu: r=%d at %zu: %s", c, r, perr.off, perr.msg ? perr.msg : "");
        assert_string_equal(ev.decoder, decoder);
        for (const struct kv *f = g[c].f; f->name; f++)
            expect_field(&ev, f->name, f->want);
    }
}

struct bad_case {
    const char *line;
    int want;
    size_t off;
};

static void check_bad(decode_fn fn, const struct bad_case *b, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        struct event ev;
        struct parse_err perr;
        int r = run_fn(fn, &ev, b[c].line, strlen(b[c].line), &perr);

        if (r != b[c].want)
            fail_msg("case %zu: want %d got %d", c, b[c].want, r);
        if (r == -EINVAL) {
            assert_non_null(perr.msg);
            if (perr.off != b[c].off)
                fail_msg("case %zu: want offset %zu got %zu (%s)", c, b[c].off, perr.off, perr.msg);
        }
        if (r == -ENOENT)
            assert_int_equal(ev.nfields, 0);
        if (r != 0)
            assert_null(ev.decoder);
    }
}

/* Reads a whole file (must exist) into a heap buffer; *ret_n gets its size. */
static char *read_sample(const char *rel, size_t *ret_n)
{
    char path[8192];
    FILE *f;
    char *b;
    long n;

    snprintf(path, sizeof(path), "%s/%s", shared_dir(), rel);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("missing sample %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *ret_n = (size_t)n;
    return b;
}

static int setup(void **state)
{
    (void)state;
    arena_init(&arena, 0);
    field_init();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_done(&arena);
    field_done();
    return 0;
}

static const struct good_case good[] = {
    /* sample.leef line 1: LEEF 2.0 without a delimiter field (Trend Micro) */
    {"LEEF:2.0|Trend Micro|Deep Security Manager|<DSA version>|192|cat=System\tname=Alert "
     "Ended\tdesc=Alert: CPU Warning Threshold Exceeded\\nSubject: 10.201.114.164\\nSeverity: "
     "Warning\tsev=3\tsrc=10.201.114.164\tusrName=System\tmsg=Alert: CPUWarning Threshold "
     "Exceeded\\nSubject: 10.201.114.164\\nSeverity:Warning\tTrendMicroDsTenant=Primary",
     {{"leef.version", "2.0"},
      {"observer.vendor", "Trend Micro"},
      {"observer.product", "Deep Security Manager"},
      {"observer.version", "<DSA version>"},
      {"event.code", "192"},
      {"leef.cat", "System"},
      {"event.category", NULL},
      {"leef.name", "Alert Ended"},
      {"leef.sev", "3"},
      {"event.severity", "3"},
      {"source.ip", "10.201.114.164"},
      {"user.name", "System"},
      {"leef.TrendMicroDsTenant", "Primary"},
      {NULL, NULL}}},
    /* sample.leef line 2: a value holding "k=v" pairs separated by spaces */
    {"LEEF:2.0|Trend Micro|Deep Security Agent|<DSA version>|2002779|cat=Integrity Monitor\t"
     "name=Microsoft Windows - System file modified\tsev=8 cn1=37 cn1Label=Host ID\tdvchost="
     "www.example.com\tact=updated\tsuser=admin",
     {{"leef.cat", "Integrity Monitor"},
      {"leef.sev", "8 cn1=37 cn1Label=Host ID"},
      {"leef.dvchost", "www.example.com"},
      {"leef.suser", "admin"},
      {NULL, NULL}}},
    /* LEEF 1.0 as QRadar documents it, with devTime and a syslog prefix */
    {"<13>Jan 18 11:07:53 fw01 LEEF:1.0|Palo Alto Networks|PAN-OS Syslog Integration|8.1|"
     "allow|cat=TRAFFIC\tdevTime=Jan 18 2019 11:07:53 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z"
     "\tsrc=192.168.1.10\tdst=203.0.113.5\tsrcPort=51234\tdstPort=443\tproto=6\t"
     "usrName=corp\\\\alice",
     {{"leef.version", "1.0"},
      {"event.code", "allow"},
      {"source.ip", "192.168.1.10"},
      {"destination.ip", "203.0.113.5"},
      {"source.port", "51234"},
      {"destination.port", "443"},
      {"leef.proto", "6"},
      {"network.transport", "tcp"},
      {"user.name", "corp\\\\alice"},
      {"@timestamp", "2019-01-18T11:07:53.000000Z"},
      {NULL, NULL}}},
    /* LEEF 2.0 with a '^' delimiter and with the hex form */
    {"LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^proto=UDP^sev=5",
     {{"source.ip", "10.0.1.8"},
      {"destination.ip", "10.0.0.5"},
      {"network.transport", "udp"},
      {"event.severity", "5"},
      {NULL, NULL}}},
    {"LEEF:2.0|Vendor|Product|1.0|login|x09|usrName=bob\tsrc=10.1.1.1\tdevTime=1547809673000",
     {{"user.name", "bob"},
      {"source.ip", "10.1.1.1"},
      {"@timestamp", "2019-01-18T11:07:53.000000Z"},
      {NULL, NULL}}},
    {"LEEF:2.0|Vendor|Product|1.0|login|0x7c|a=1|b=2",
     {{"leef.a", "1"}, {"leef.b", "2"}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    check_good(decode_leef, "leef", good, sizeof(good) / sizeof(good[0]));
}

static const struct bad_case bad[] = {
    {"", -ENOENT, 0},
    {"cat=System\tsrc=1.2.3.4", -ENOENT, 0},
    {"LEEF:3.0|a|b|c|d|", -EINVAL, 5},
    {"LEEF:1.5|a|b|c|d|", -EINVAL, 5},
    {"LEEF:|a|b|c|d|", -EINVAL, 5},
    {"LEEF:1.0|a|b|c|d", -EINVAL, 0},
    {"xx LEEF:2.0|a|b", -EINVAL, 3},
    {"LEEF:2.0|a|b|c|d|xZZ|k=v", -EINVAL, 17},
    {"LEEF:2.0|a|b|c|d|tab|k=v", -EINVAL, 17},
    {"LEEF:2.0|a|b|c|d|x00|k=v", -EINVAL, 17},
    {"LEEF:2.0|a|b|c|d|x123|k=v", -EINVAL, 17},
    {"LEEF:1.0|a|b|c|d|noequals\t=v\tk=", 0, 0},
};

static void test_bad(void **state)
{
    (void)state;
    check_bad(decode_leef, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Both sample files: every line decodes and yields its attributes. */
static void scan_file(const char *rel, unsigned want_lines, unsigned want_attrs)
{
    size_t n, l0 = 0;
    char *b = read_sample(rel, &n);
    unsigned lines = 0, ok = 0, attrs = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && b[i] != '\n')
            continue;
        if (i > l0) {
            struct event ev;
            struct parse_err perr;

            lines++;
            if (run_fn(decode_leef, &ev, b + l0, i - l0, &perr) == 0) {
                ok++;
                for (uint32_t f = 0; f < ev.nfields; f++)
                    attrs += strncmp(field_name(ev.fields[f].id), "leef.", 5) == 0;
            }
        }
        l0 = i + 1;
    }
    free(b);
    printf("%s: %u/%u decoded, %u leef.* fields\n", strrchr(rel, '/') + 1, ok, lines, attrs);
    assert_int_equal(lines, want_lines);
    assert_int_equal(ok, lines);
    assert_int_equal(attrs, want_attrs);
}

static void test_samples(void **state)
{
    (void)state;
    scan_file("data/firewall/metron/metron-platform/metron-parsing/metron-parsers/src/test/"
              "resources/org/apache/metron/parsers/leef/sample.leef",
              /* 4 records (the last without a newline) of 8, 9, 15 and 9
               * tab-separated attributes, plus leef.version on each. */
              4, 8 + 9 + 15 + 9 + 4);
    scan_file("data/firewall/metron/metron-platform/metron-integration-test/src/main/sample/"
              "data/leef/raw/leefOutput",
              /* The same four records. */
              4, 8 + 9 + 15 + 9 + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_samples),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
