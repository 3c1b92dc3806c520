/*
 * test_ydoc.c - util/ydoc.c: loading, each typed getter's accept and
 * refuse (with the node it blames and the key it names), the keyword
 * walker's unknown and duplicate keys, the accessors, a stream of several
 * documents, and the FILE:LINE:COL form.
 * Links util only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/ydoc.h"

/* Loads `text` (a mapping) and returns the value node of its first key. */
static yaml_node_t *first_value(struct ydoc *d, const char *text, struct parse_err *e)
{
    yaml_node_t *root;

    assert_int_equal(ydoc_load(d, text, strlen(text), e), 0);
    root = ydoc_root(d);
    assert_non_null(root);
    assert_int_equal(root->type, YAML_MAPPING_NODE);
    return ydoc_node(d, root->data.mapping.pairs.start[0].value);
}

static void test_load(void **state)
{
    struct ydoc d;
    struct parse_err e;
    char buf[128];

    (void)state;
    /* Empty documents are "no root": every file of ours takes them as defaults. */
    assert_int_equal(ydoc_load(&d, "", 0, &e), 0);
    assert_null(ydoc_root(&d));
    ydoc_done(&d);
    assert_int_equal(ydoc_load(&d, "# only a comment\n", 17, &e), 0);
    assert_null(ydoc_root(&d));
    ydoc_done(&d);
    /* Only `len` bytes are read: the rest of the buffer is not YAML. */
    assert_int_equal(ydoc_load(&d, "a: 1\n}}}", 5, &e), 0);
    assert_non_null(ydoc_root(&d));
    ydoc_done(&d);

    /* A syntax error: libyaml's message, 1-based where it stopped. */
    assert_int_equal(ydoc_load(&d, "a: [1,\n", 7, &e), -EINVAL);
    assert_non_null(e.msg);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 1);
    ydoc_err_format(buf, sizeof(buf), "x.yaml", &e);
    assert_true(strncmp(buf, "x.yaml:2:1: ", 12) == 0);
    ydoc_done(&d);
    ydoc_done(&d); /* twice is harmless */

    /* From a file, and the file's own errors. */
    {
        char path[] = "/tmp/test_ydoc.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "k: v\n", 5), 5);
        close(fd);
        assert_int_equal(ydoc_load_file(&d, path, 100, &e), 0);
        assert_true(
            ydoc_scalar_is(ydoc_node(&d, ydoc_root(&d)->data.mapping.pairs.start[0].value), "v"));
        ydoc_done(&d);
        assert_int_equal(ydoc_load_file(&d, path, 4, &e), -EFBIG);
        ydoc_done(&d);
        unlink(path);
        assert_int_equal(ydoc_load_file(&d, path, 100, &e), -ENOENT);
        ydoc_done(&d);
        assert_int_equal(ydoc_load_file(&d, "/tmp", 100, &e), -EISDIR);
        ydoc_done(&d);
    }
}

/* The error form: FILE:LINE:COL: MSG, or FILE: MSG without a line. */
static void test_format(void **state)
{
    struct parse_err e = {.off = 9, .line = 3, .col = 7, .msg = "port: out of range"};
    char buf[64];

    (void)state;
    assert_int_equal(ydoc_err_format(buf, sizeof(buf), "h.yaml", &e), 30);
    assert_string_equal(buf, "h.yaml:3:7: port: out of range");
    e.line = 0;
    ydoc_err_format(buf, sizeof(buf), NULL, &e);
    assert_string_equal(buf, "-: port: out of range");
    /* Cut to the buffer, still terminated. */
    e.line = 3;
    ydoc_err_format(buf, 8, "h.yaml", &e);
    assert_string_equal(buf, "h.yaml:");
}

struct str_case {
    const char *yaml;
    size_t min, max;
    const char *want;     /* the copy, or NULL when refused */
    unsigned line, col;   /* where a refusal points */
    const char *msg_part; /* part of its message */
};

static void test_strings(void **state)
{
    static const struct str_case cases[] = {
        {"k: plain\n", 0, 0, "plain", 0, 0, NULL},
        {"k: \"\"\n", 0, 0, "", 0, 0, NULL},
        {"k: \"a\\0b\"\n", 0, 0, NULL, 1, 4, "k: the value contains a NUL byte"},
        {"k: [a, b]\n", 0, 0, NULL, 1, 4, "k: expected a string"},
        {"k: {a: b}\n", 0, 0, NULL, 1, 4, "scalar"},
        {"k: \"\"\n", 1, 0, NULL, 1, 4, "k: must not be empty"},
        {"k: abcde\n", 1, 4, NULL, 1, 4, "k: longer than 4 bytes"},
        {"k: abcd\n", 1, 4, "abcd", 0, 0, NULL},
        {"k: ab\n", 3, 4, NULL, 1, 4, "shorter than 3"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct str_case *c = &cases[i];
        struct ydoc d;
        struct parse_err e;
        yaml_node_t *v = first_value(&d, c->yaml, &e);
        char *dst = strdup("old");
        int r;

        d.key = "k";
        r = ydoc_strdup(&d, v, c->min, c->max, &dst);
        if (c->want) {
            assert_int_equal(r, 0);
            assert_string_equal(dst, c->want);
        } else {
            assert_int_equal(r, -EINVAL);
            assert_string_equal(dst, "old"); /* untouched on refusal */
            if (e.line != c->line || e.col != c->col || !strstr(e.msg, c->msg_part))
                fail_msg("case %zu: %u:%u %s", i, e.line, e.col, e.msg);
        }
        free(dst);
        ydoc_done(&d);
    }
}

static void test_bool(void **state)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    static const char *const bad[] = {"True", "1", "y", "maybe", "\"\""};
    char text[64];

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct ydoc d;
        struct parse_err e;
        int b = -1;

        snprintf(text, sizeof(text), "k: %s\n", yes[i]);
        assert_int_equal(ydoc_bool(&d, first_value(&d, text, &e), NULL, &b), 0);
        assert_int_equal(b, 1);
        ydoc_done(&d);
        snprintf(text, sizeof(text), "k: %s\n", no[i]);
        assert_int_equal(ydoc_bool(&d, first_value(&d, text, &e), NULL, &b), 0);
        assert_int_equal(b, 0);
        ydoc_done(&d);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ydoc d;
        struct parse_err e;
        int b = 7;

        snprintf(text, sizeof(text), "k: %s\n", bad[i]);
        assert_int_equal(ydoc_bool(&d, first_value(&d, text, &e), NULL, &b), -EINVAL);
        assert_int_equal(b, 7);
        assert_string_equal(e.msg, "expected true or false");
        ydoc_done(&d);
    }
    /* The caller's own message, kept as given. */
    {
        struct ydoc d;
        struct parse_err e;
        int b;

        assert_int_equal(ydoc_bool(&d, first_value(&d, "k: [x]\n", &e), "mine", &b), -EINVAL);
        assert_string_equal(e.msg, "mine");
        ydoc_done(&d);
    }
}

struct num_case {
    const char *text;
    int ok;
    uint64_t want;
    const char *msg_part;
};

static void test_uint(void **state)
{
    static const struct num_case cases[] = {
        {"0", 1, 0, NULL},
        {"65535", 1, 65535, NULL},
        {"65536", 0, 0, "out of range (0 to 65535)"},
        {"-1", 0, 0, "non-negative integer"},
        {"+1", 0, 0, "whole number"},
        {"1.0", 0, 0, "whole number"},
        {"1k", 0, 0, "whole number"},
        {"\"\"", 0, 0, "whole number"},
        {"99999999999999999999999", 0, 0, "out of range"},
        {"[1]", 0, 0, "expected a string"},
    };
    char text[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ydoc d;
        struct parse_err e;
        uint64_t v = 42;
        int r;

        snprintf(text, sizeof(text), "n: %s\n", cases[i].text);
        r = ydoc_uint(&d, first_value(&d, text, &e), 0, 65535, NULL, &v);
        if (cases[i].ok ? (r != 0 || v != cases[i].want)
                        : (r != -EINVAL || v != 42 || !strstr(e.msg, cases[i].msg_part)))
            fail_msg("case %s: r=%d v=%llu msg=%s", cases[i].text, r, (unsigned long long)v,
                     e.msg ? e.msg : "-");
        ydoc_done(&d);
    }
}

static void test_bytes_int(void **state)
{
    struct ydoc d;
    struct parse_err e;
    uint64_t u = 0;
    int64_t s = 0;

    (void)state;
    assert_int_equal(ydoc_bytes(&d, first_value(&d, "n: 64k\n", &e), 0, 1 << 30, NULL, &u), 0);
    assert_int_equal(u, 65536);
    ydoc_done(&d);
    assert_int_equal(ydoc_bytes(&d, first_value(&d, "n: 2M\n", &e), 0, 1 << 30, NULL, &u), 0);
    assert_int_equal(u, 2 * 1024 * 1024);
    ydoc_done(&d);
    assert_int_equal(ydoc_bytes(&d, first_value(&d, "n: 2g\n", &e), 0, 1 << 30, NULL, &u), -EINVAL);
    ydoc_done(&d);
    assert_int_equal(ydoc_bytes(&d, first_value(&d, "n: k\n", &e), 0, 1 << 30, NULL, &u), -EINVAL);
    ydoc_done(&d);
    /* A range message of the caller's. */
    assert_int_equal(ydoc_bytes(&d, first_value(&d, "n: 2m\n", &e), 0, 1024, "too big", &u),
                     -EINVAL);
    assert_string_equal(e.msg, "too big");
    ydoc_done(&d);
    /* 2^64 k overflows: out of range, not wrapped. */
    assert_int_equal(
        ydoc_bytes(&d, first_value(&d, "n: 18014398509481984k\n", &e), 0, UINT64_MAX, NULL, &u),
        -EINVAL);
    ydoc_done(&d);

    assert_int_equal(ydoc_int(&d, first_value(&d, "n: -3\n", &e), -3, 3, NULL, &s), 0);
    assert_int_equal(s, -3);
    ydoc_done(&d);
    assert_int_equal(ydoc_int(&d, first_value(&d, "n: -4\n", &e), -3, 3, NULL, &s), -EINVAL);
    assert_non_null(strstr(e.msg, "out of range (-3 to 3)"));
    ydoc_done(&d);
    assert_int_equal(ydoc_int(&d, first_value(&d, "n: -9223372036854775808\n", &e), INT64_MIN,
                              INT64_MAX, NULL, &s),
                     0);
    assert_true(s == INT64_MIN);
    ydoc_done(&d);
    assert_int_equal(ydoc_int(&d, first_value(&d, "n: 9223372036854775808\n", &e), INT64_MIN,
                              INT64_MAX, NULL, &s),
                     -EINVAL);
    ydoc_done(&d);
    assert_int_equal(ydoc_int(&d, first_value(&d, "n: \"-\"\n", &e), -3, 3, NULL, &s), -EINVAL);
    assert_non_null(strstr(e.msg, "whole number"));
    ydoc_done(&d);
}

static void test_double(void **state)
{
    static const struct {
        const char *text;
        int ok;
        double want;
        const char *msg_part;
    } cases[] = {
        {"0.25", 1, 0.25, NULL},
        {"1e2", 1, 100, NULL},
        {"-1", 0, 0, "out of range"},
        {"101", 0, 0, "out of range"},
        {"lots", 0, 0, "expected a number"},
        {"1.5x", 0, 0, "expected a number"},
        {"nan", 0, 0, "expected a number"},
        {"inf", 0, 0, "expected a number"},
        {"\"\"", 0, 0, "expected a number"},
        {"0.000000000000000000000000000000000000000000000000000000000000000001", 0, 0,
         "expected a number"}, /* longer than any number we read */
    };
    char text[128];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ydoc d;
        struct parse_err e;
        double v = 42;
        int r;

        snprintf(text, sizeof(text), "x: %s\n", cases[i].text);
        r = ydoc_double(&d, first_value(&d, text, &e), 0, 100, NULL, &v);
        if (cases[i].ok ? (r != 0 || v != cases[i].want)
                        : (r != -EINVAL || v != 42 || !strstr(e.msg, cases[i].msg_part)))
            fail_msg("case %s: r=%d v=%g msg=%s", cases[i].text, r, v, e.msg ? e.msg : "-");
        ydoc_done(&d);
    }
}

static void test_duration(void **state)
{
    static const struct {
        const char *text;
        int flags;
        int64_t want_s; /* 0: refused */
        const char *msg_part;
    } cases[] = {
        {"30s", 0, 30, NULL},
        {"5m", 0, 300, NULL},
        {"2h", 0, 7200, NULL},
        {"1d", 0, 86400, NULL},
        {"366d", 0, 366 * 86400, NULL},
        {"90", YDOC_DUR_BARE, 90, NULL},
        {"90", 0, 0, "expected a duration"},
        {"367d", 0, 0, "at most a year"},
        {"0s", 0, 0, "positive"},
        {"10x", 0, 0, "unit is not s, m, h or d"},
        {"1w", YDOC_DUR_BARE, 0, "unit"},
        {"m", 0, 0, "expected a duration"},
        {"10mm", 0, 0, "expected a duration"},
        {"-5m", 0, 0, "expected a duration"},
        {"99999999999999999999s", 0, 0, "at most a year"},
    };
    char text[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ydoc d;
        struct parse_err e;
        int64_t us = -1;
        int r;

        snprintf(text, sizeof(text), "window: %s\n", cases[i].text);
        r = ydoc_duration(&d, first_value(&d, text, &e), cases[i].flags, &us);
        if (cases[i].want_s ? (r != 0 || us != cases[i].want_s * 1000000)
                            : (r != -EINVAL || us != -1 || !strstr(e.msg, cases[i].msg_part)))
            fail_msg("case %s: r=%d us=%lld msg=%s", cases[i].text, r, (long long)us,
                     e.msg ? e.msg : "-");
        ydoc_done(&d);
    }
    /* The plain parser: seconds, and its three refusals. */
    {
        int64_t s = 0;

        assert_int_equal(ydoc_parse_duration("0", 1, YDOC_DUR_BARE, &s), 0);
        assert_int_equal(s, 0);
        assert_int_equal(ydoc_parse_duration("12h", 3, 0, &s), 0);
        assert_int_equal(s, 12 * 3600);
        assert_int_equal(ydoc_parse_duration("12h", 2, 0, &s), -EINVAL); /* "12", no unit */
        assert_int_equal(ydoc_parse_duration("1y", 2, 0, &s), -EDOM);
        assert_int_equal(ydoc_parse_duration("36600000d", 9, 0, &s), -ERANGE);
        assert_int_equal(ydoc_parse_duration("", 0, YDOC_DUR_BARE, &s), -EINVAL);
    }
}

static void test_name(void **state)
{
    static const char *const levels[] = {"low", "medium", "high"};
    struct ydoc d;
    struct parse_err e;
    int v = -1;

    (void)state;
    assert_int_equal(ydoc_name(&d, first_value(&d, "level: high\n", &e), levels, 3, 0, NULL, &v),
                     0);
    assert_int_equal(v, 2);
    ydoc_done(&d);
    assert_int_equal(ydoc_name(&d, first_value(&d, "level: High\n", &e), levels, 3, 0, NULL, &v),
                     -EINVAL);
    ydoc_done(&d);
    assert_int_equal(ydoc_name(&d, first_value(&d, "level: High\n", &e), levels, 3, 1, NULL, &v),
                     0);
    assert_int_equal(v, 2);
    ydoc_done(&d);
    /* The generated message lists the names. */
    assert_int_equal(ydoc_name(&d, first_value(&d, "level: hig\n", &e), levels, 3, 1, NULL, &v),
                     -EINVAL);
    assert_string_equal(e.msg, "expected low, medium or high");
    assert_int_equal(e.col, 8);
    ydoc_done(&d);
    /* A prefix of a name is not the name. */
    assert_int_equal(
        ydoc_name(&d, first_value(&d, "level: \"low\\0x\"\n", &e), levels, 3, 0, "no", &v),
        -EINVAL);
    assert_string_equal(e.msg, "no");
    ydoc_done(&d);
}

static void test_lists(void **state)
{
    struct ydoc d;
    struct parse_err e;
    char **v = NULL;
    size_t n = 0;

    (void)state;
    /* A sequence, and a lone scalar as a list of one; appended. */
    assert_int_equal(ydoc_strlist(&d, first_value(&d, "p: [a, bb]\n", &e), 8, 1, 4, &v, &n), 0);
    ydoc_done(&d);
    assert_int_equal(ydoc_strlist(&d, first_value(&d, "p: c\n", &e), 8, 1, 4, &v, &n), 0);
    ydoc_done(&d);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "bb");
    assert_string_equal(v[2], "c");
    /* Too many, a mapping, an item too long, an item not a scalar. */
    assert_int_equal(ydoc_strlist(&d, first_value(&d, "p: [a, b, c]\n", &e), 2, 0, 0, &v, &n),
                     -EINVAL);
    assert_non_null(strstr(e.msg, "at most 2 items"));
    ydoc_done(&d);
    assert_int_equal(ydoc_strlist(&d, first_value(&d, "p: {a: b}\n", &e), 2, 0, 0, &v, &n),
                     -EINVAL);
    assert_non_null(strstr(e.msg, "expected a list"));
    ydoc_done(&d);
    assert_int_equal(ydoc_strlist(&d, first_value(&d, "p: [a, bbbbb]\n", &e), 8, 0, 4, &v, &n),
                     -EINVAL);
    assert_int_equal(e.col, 8); /* the item, not the list */
    ydoc_done(&d);
    assert_int_equal(ydoc_strlist(&d, first_value(&d, "p: [a, [b]]\n", &e), 8, 0, 0, &v, &n),
                     -EINVAL);
    assert_int_equal(e.col, 8);
    ydoc_done(&d);
    /* The items appended before a failure stay the caller's. */
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    /* A scalar is refused where only a sequence will do. */
    assert_int_equal(ydoc_list(&d, first_value(&d, "p: a\n", &e), 0, 8, &n), -EINVAL);
    ydoc_done(&d);
}

/* ---- the walker ---- */

struct sample {
    int on;
    uint64_t port;
    char *name;
    int inner;
};

static int kw_on(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_bool(d, v, NULL, &((struct sample *)arg)->on);
}

static int kw_port(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_uint(d, v, 1, 65535, NULL, &((struct sample *)arg)->port);
}

static int kw_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_strdup(d, v, 1, 0, &((struct sample *)arg)->name);
}

static int kw_deep(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_bool(d, v, NULL, &((struct sample *)arg)->inner);
}

static const struct ydoc_key inner_keys[] = {{"deep", kw_deep}};
static const struct ydoc_table inner_table = {inner_keys, YDOC_NKEYS(inner_keys), NULL, NULL};

static int kw_inner(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_walk(d, v, &inner_table, arg);
}

static const struct ydoc_key sample_keys[] = {
    {"inner", kw_inner}, {"name", kw_name}, {"on", kw_on}, {"port", kw_port}};
static const struct ydoc_table sample_table = {sample_keys, YDOC_NKEYS(sample_keys),
                                               "expected a mapping of settings", NULL};

static void test_walk(void **state)
{
    static const struct {
        const char *yaml;
        unsigned line, col;
        const char *msg; /* the whole message; NULL: accepted */
    } cases[] = {
        {"on: yes\nport: 80\nname: x\ninner: {deep: no}\n", 0, 0, NULL},
        {"on: yes\nprot: 80\n", 2, 1, "prot: unknown key"},
        {"on: yes\non: no\n", 2, 1, "on: duplicate key"},
        {"port: 0\n", 1, 7, "port: out of range (1 to 65535)"},
        {"inner:\n  deep: maybe\n", 2, 9, "deep: expected true or false"},
        {"inner:\n  deep: no\n  deeper: 1\n", 3, 3, "deeper: unknown key"},
        {"inner: [1]\n", 1, 8, "inner: expected a mapping"},
        {"? [a]\n: 1\n", 1, 3, "expected a key (a plain name)"},
        {"\"on\\0x\": yes\n", 1, 1, "expected a key (a plain name)"},
        {"- a\n", 1, 1, "expected a mapping of settings"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sample s = {0};
        struct ydoc d;
        struct parse_err e;
        int r;

        assert_int_equal(ydoc_load(&d, cases[i].yaml, strlen(cases[i].yaml), &e), 0);
        r = ydoc_walk(&d, ydoc_root(&d), &sample_table, &s);
        if (!cases[i].msg) {
            assert_int_equal(r, 0);
            assert_int_equal(s.on, 1);
            assert_int_equal(s.port, 80);
            assert_string_equal(s.name, "x");
            assert_null(d.key);
        } else if (r != -EINVAL || e.line != cases[i].line || e.col != cases[i].col ||
                   strcmp(e.msg, cases[i].msg) != 0) {
            fail_msg("case %zu: r=%d at %u:%u \"%s\", want %u:%u \"%s\"", i, r, e.line, e.col,
                     e.msg ? e.msg : "-", cases[i].line, cases[i].col, cases[i].msg);
        }
        free(s.name);
        ydoc_done(&d);
    }
}

/* The first error is kept; a caller's later complaint does not replace it. */
static void test_first_error(void **state)
{
    static const struct ydoc_table table = {sample_keys, YDOC_NKEYS(sample_keys), NULL,
                                            "not one of ours"};
    struct sample s = {0};
    struct ydoc d;
    struct parse_err e;

    (void)state;
    assert_int_equal(ydoc_load(&d, "port: x\n", 8, &e), 0);
    assert_int_equal(ydoc_walk(&d, ydoc_root(&d), &table, &s), -EINVAL);
    assert_int_equal(ydoc_fail(&d, NULL, "later"), -EINVAL);
    assert_int_equal(ydoc_fail_at(&d, 9, 9, "later"), -EINVAL);
    assert_string_equal(e.msg, "port: expected a whole number (a non-negative integer)");
    assert_int_equal(e.line, 1);
    assert_int_equal(e.off, 6);
    ydoc_done(&d);
    /* The table's own message for unknown keys. */
    assert_int_equal(ydoc_load(&d, "pot: 1\n", 7, &e), 0);
    assert_int_equal(ydoc_walk(&d, ydoc_root(&d), &table, &s), -EINVAL);
    assert_string_equal(e.msg, "not one of ours");
    ydoc_done(&d);
    /* No parse_err at all: still refused, nothing written. */
    assert_int_equal(ydoc_load(&d, "port: x\n", 8, NULL), 0);
    assert_int_equal(ydoc_walk(&d, ydoc_root(&d), &table, &s), -EINVAL);
    ydoc_done(&d);
}

/* ydoc_pairs: data keys, in file order, each named in its own errors. */
static int sum_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n = 0;
    int r;

    (void)k;
    if ((r = ydoc_uint(d, v, 0, 9, NULL, &n)) == 0)
        *(uint64_t *)arg = *(uint64_t *)arg * 10 + n;
    return r;
}

static void test_pairs(void **state)
{
    struct ydoc d;
    struct parse_err e;
    uint64_t acc = 0;

    (void)state;
    assert_int_equal(ydoc_load(&d, "a: 1\nb: 2\na: 3\n", 15, &e), 0);
    assert_int_equal(ydoc_pairs(&d, ydoc_root(&d), sum_pair, &acc), 0);
    assert_int_equal(acc, 123); /* a repeat is the caller's to judge */
    ydoc_done(&d);
    assert_int_equal(ydoc_pairs(&d, first_value(&d, "m:\n  x: 1\n  y: 10\n", &e), sum_pair, &acc),
                     -EINVAL);
    assert_string_equal(e.msg, "y: out of range (0 to 9)");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 6);
    assert_null(d.key); /* restored */
    ydoc_done(&d);
    assert_int_equal(ydoc_load(&d, "[1]\n", 4, &e), 0);
    assert_int_equal(ydoc_pairs(&d, ydoc_root(&d), sum_pair, &acc), -EINVAL);
    assert_string_equal(e.msg, "expected a mapping");
    ydoc_done(&d);
}

/* ydoc_len, ydoc_pair_at, ydoc_get and ydoc_plain: the accessors of loops
 * that word their own errors. */
static void test_accessors(void **state)
{
    const char *y = "a: 1\nb: [x, \"y\", 'z']\nc: {}\na: 2\n\"n\": ~\n";
    yaml_node_t *root, *k, *v, *b;
    struct ydoc d;
    struct parse_err e;

    (void)state;
    assert_int_equal(ydoc_load(&d, y, strlen(y), &e), 0);
    root = ydoc_root(&d);
    assert_int_equal(ydoc_len(root), 5);
    /* In file order; the first of two equal keys is the one found. */
    assert_int_equal(ydoc_pair_at(&d, root, 3, &k, &v), 0);
    assert_true(ydoc_scalar_is(k, "a") && ydoc_scalar_is(v, "2"));
    assert_int_equal(ydoc_pair_at(&d, root, 5, &k, &v), -ENOENT);
    assert_null(k);
    assert_null(v);
    assert_true(ydoc_scalar_is(ydoc_get(&d, root, "a"), "1"));
    assert_null(ydoc_get(&d, root, "missing"));
    assert_int_equal(ydoc_len(ydoc_get(&d, root, "c")), 0);
    /* Sequences count their items; scalars and NULL have none. */
    b = ydoc_get(&d, root, "b");
    assert_int_equal(ydoc_len(b), 3);
    assert_int_equal(ydoc_len(ydoc_list_at(&d, b, 0)), 0);
    assert_int_equal(ydoc_len(NULL), 0);
    /* Not mappings: nothing to get, no pair. */
    assert_null(ydoc_get(&d, b, "x"));
    assert_int_equal(ydoc_pair_at(&d, b, 0, &k, &v), -ENOENT);
    assert_null(ydoc_get(&d, NULL, "a"));
    /* Plain is unquoted: a quoted key or value is not. */
    assert_true(ydoc_plain(ydoc_list_at(&d, b, 0)));
    assert_false(ydoc_plain(ydoc_list_at(&d, b, 1)));
    assert_false(ydoc_plain(ydoc_list_at(&d, b, 2)));
    assert_int_equal(ydoc_pair_at(&d, root, 4, &k, &v), 0);
    assert_false(ydoc_plain(k));
    assert_true(ydoc_plain(v));
    assert_false(ydoc_plain(b));
    assert_false(ydoc_plain(NULL));
    ydoc_done(&d);
}

/* ydoc_top: an empty document has a root as written, which ydoc_root hides. */
static void test_top(void **state)
{
    struct ydoc d;
    struct parse_err e;

    (void)state;
    assert_int_equal(ydoc_load(&d, "---\n", 4, &e), 0);
    assert_null(ydoc_root(&d));
    assert_non_null(ydoc_top(&d));
    assert_int_equal(ydoc_top(&d)->type, YAML_SCALAR_NODE);
    ydoc_done(&d);
    assert_int_equal(ydoc_load(&d, "", 0, &e), 0);
    assert_null(ydoc_top(&d));
    ydoc_done(&d);
    assert_null(ydoc_top(&d)); /* released */
}

/* ydoc_stream: documents one at a time, empty ones included, then the end;
 * a syntax error in a later document names its line and libyaml's words. */
static void test_stream(void **state)
{
    const char *y = "a: 1\n---\n---\n- b\n";
    const char *bad = "a: 1\n---\nb: [1,\n";
    struct ydoc_stream s;
    struct ydoc d;
    struct parse_err e;

    (void)state;
    assert_int_equal(ydoc_stream_open(&s, y, strlen(y), &e), 0);
    assert_int_equal(ydoc_stream_next(&s, &d), 1);
    assert_true(ydoc_scalar_is(ydoc_get(&d, ydoc_root(&d), "a"), "1"));
    assert_ptr_equal(d.err, &e);
    ydoc_done(&d);
    assert_int_equal(ydoc_stream_next(&s, &d), 1); /* the bare `---` */
    assert_null(ydoc_root(&d));
    assert_int_equal(ydoc_top(&d)->type, YAML_SCALAR_NODE);
    assert_true(ydoc_line(ydoc_top(&d)) >= 2); /* libyaml: where the next token starts */
    ydoc_done(&d);
    assert_int_equal(ydoc_stream_next(&s, &d), 1);
    assert_int_equal(ydoc_top(&d)->type, YAML_SEQUENCE_NODE);
    assert_int_equal(ydoc_line(ydoc_top(&d)), 4);
    ydoc_done(&d);
    assert_int_equal(ydoc_stream_next(&s, &d), 0);
    assert_null(ydoc_top(&d));
    assert_int_equal(ydoc_stream_next(&s, &d), 0); /* and stays there */
    assert_null(e.msg);
    ydoc_stream_done(&s);
    ydoc_stream_done(&s); /* twice is harmless */

    /* No document at all: the end at once. */
    assert_int_equal(ydoc_stream_open(&s, "# nothing\n", 10, NULL), 0);
    assert_int_equal(ydoc_stream_next(&s, &d), 0);
    ydoc_stream_done(&s);

    assert_int_equal(ydoc_stream_open(&s, bad, strlen(bad), &e), 0);
    assert_int_equal(ydoc_stream_next(&s, &d), 1);
    ydoc_done(&d);
    assert_int_equal(ydoc_stream_next(&s, &d), -EINVAL);
    assert_non_null(e.msg);
    assert_int_equal(e.line, 4);
    assert_int_equal(e.col, 1);
    assert_int_equal(e.off, strlen(bad));
    assert_non_null(s.problem);
    assert_string_equal(e.msg, s.problem);
    assert_non_null(s.context);
    ydoc_done(&d);
    assert_int_equal(ydoc_stream_next(&s, &d), -EINVAL); /* no further document */
    ydoc_stream_done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),    cmocka_unit_test(test_format),
        cmocka_unit_test(test_strings), cmocka_unit_test(test_bool),
        cmocka_unit_test(test_uint),    cmocka_unit_test(test_bytes_int),
        cmocka_unit_test(test_double),  cmocka_unit_test(test_duration),
        cmocka_unit_test(test_name),    cmocka_unit_test(test_lists),
        cmocka_unit_test(test_walk),    cmocka_unit_test(test_first_error),
        cmocka_unit_test(test_pairs),   cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_top),     cmocka_unit_test(test_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
