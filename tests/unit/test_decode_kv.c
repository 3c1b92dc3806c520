/*
 * test_decode_kv.c - the key=value decoder, on real auditd records
 * (Security-Datasets linux) and FortiGate-style lines, and on text that
 * must not be taken for key=value.
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

#include "decode/decode_kv.h"
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
    /* Security-Datasets sh_binary_padding_dd: auditd SYSCALL */
    {"type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes exit=0 "
     "a0=558e25052c70 items=2 ppid=29002 pid=2168 auid=1000 uid=1000 gid=1000 euid=1000 "
     "tty=pts0 ses=104 comm=\"dd\" exe=\"/bin/dd\" key=(null)",
     {{"type", "SYSCALL"},
      {"msg", "audit(1604996384.965:93777):"},
      {"syscall", "59"},
      {"comm", "dd"},
      {"exe", "/bin/dd"},
      {"key", "(null)"},
      {"pid", "2168"},
      {NULL, NULL}}},
    /* auditd EXECVE: quoted values holding '=' */
    {"type=EXECVE msg=audit(1604996384.965:93777): argc=4 a0=\"dd\" a1=\"if=/dev/zero\" "
     "a2=\"bs=1\" a3=\"count=1\"",
     {{"argc", "4"}, {"a1", "if=/dev/zero"}, {"a2", "bs=1"}, {"a3", "count=1"}, {NULL, NULL}}},
    /* FortiGate traffic log as FortiOS writes it */
    {"date=2024-01-02 time=03:04:05 devname=\"FGT60E\" devid=\"FGT60E4Q1600000\" "
     "logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" "
     "srcip=192.168.1.100 srcport=52311 srcintf=\"internal\" dstip=203.0.113.80 dstport=443 "
     "dstintf=\"wan1\" proto=6 action=\"deny\" policyid=0 service=\"HTTPS\" user=\"alice\"",
     {{"devname", "FGT60E"},
      {"srcip", "192.168.1.100"},
      {"source.ip", "192.168.1.100"},
      {"source.port", "52311"},
      {"destination.ip", "203.0.113.80"},
      {"destination.port", "443"},
      {"proto", "6"},
      {"network.transport", "tcp"},
      {"event.action", "deny"},
      {"user.name", "alice"},
      {NULL, NULL}}},
    /* Escaped quotes, empty values, tabs, first alias wins, text proto */
    {"src=10.0.0.1\tsrc_ip=10.9.9.9 protocol=UDP msg=\"said \\\"hi\\\" \\\\o/\" note= "
     "username=bob",
     {{"source.ip", "10.0.0.1"},
      {"src_ip", "10.9.9.9"},
      {"network.transport", "udp"},
      {"msg", "said \"hi\" \\o/"},
      {"note", ""},
      {"user.name", "bob"},
      {NULL, NULL}}},
    /* A few words around the pairs are allowed while pairs dominate */
    {"CEF-less appliance: src=1.2.3.4 dst=5.6.7.8 dpt=22 act=blocked",
     {{"source.ip", "1.2.3.4"}, {"destination.port", "22"}, {"act", "blocked"}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    check_good(decode_kv, "kv", good, sizeof(good) / sizeof(good[0]));
}

static const struct bad_case bad[] = {
    {"", -ENOENT, 0},
    {"   ", -ENOENT, 0},
    {"Failed password for root from 1.2.3.4 port 22 ssh2", -ENOENT, 0},
    {"pam_unix(sshd:auth): authentication failure; logname= uid=0", -ENOENT, 0},
    {"the query was a=1 and it failed because the server was down", -ENOENT, 0},
    {"only=one", -ENOENT, 0},
    {"=x =y", -ENOENT, 0},
    {"a=1 b=\"unterminated", -EINVAL, 4},
    /* The escaped quote swallows the rest: one pair only, so not kv. */
    {"a=\"x\\\" y=2 z=3", -ENOENT, 0},
};

static void test_bad(void **state)
{
    (void)state;
    check_bad(decode_kv, bad, sizeof(bad) / sizeof(bad[0]));
}

static void scan_file(const char *rel, unsigned *ret_lines, unsigned *ret_ok)
{
    size_t n, l0 = 0, tn;
    char *b = read_sample(rel, &n);

    for (size_t i = 0; i <= n; i++) {
        if (i < n && b[i] != '\n')
            continue;
        if (i > l0) {
            struct event ev;
            struct parse_err perr;

            (*ret_lines)++;
            if (run_fn(decode_kv, &ev, b + l0, i - l0, &perr) == 0 &&
                event_get(&ev, field_lookup("type", 4), &tn) != NULL)
                (*ret_ok)++;
        }
        l0 = i + 1;
    }
    free(b);
}

/* auditd records are key=value throughout: every one must decode and
 * carry its type. */
static void test_samples(void **state)
{
    unsigned lines = 0, ok = 0;

    (void)state;
    scan_file("data/windows/Security-Datasets/datasets/atomic/linux/defense_evasion/host/"
              "sh_binary_padding_dd_2020-11-10081941.log",
              &lines, &ok);
    scan_file("data/windows/Security-Datasets/datasets/atomic/linux/discovery/host/"
              "sh_arp_cache_2020-11-10074812.log",
              &lines, &ok);
    printf("Security-Datasets auditd logs: %u/%u decoded\n", ok, lines);
    assert_true(lines >= 6);
    assert_int_equal(ok, lines);
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
