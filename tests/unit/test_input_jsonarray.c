/*
 * test_input_jsonarray.c - framing a JSON array file into one record per
 * element: pretty-printed and single-line arrays, strings holding brackets,
 * quotes and backslashes, the cap, what is not an array, and the public
 * Suricata samples (one record per alert, as Python's json module counts
 * them).
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

#include "input/input_jsonarray.h"
#include "input/record.h"

struct got {
    char rec[8][256];
    unsigned flags[8];
    size_t n;
};

static int collect(void *arg, const char *rec, size_t len, unsigned flags)
{
    struct got *g = arg;

    if (g->n < 8) {
        snprintf(g->rec[g->n], sizeof(g->rec[0]), "%.*s", (int)len, rec);
        g->flags[g->n] = flags;
    }
    g->n++;
    return 0;
}

/* Feeds `text` line by line, as scan does; returns the last feed's result
 * or finish()'s. */
static int feed_text(struct jsonarray *a, const char *text, struct got *g, size_t *ret_off)
{
    const char *p = text;

    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        int r = input_jsonarray_feed(a, p, n, collect, g, ret_off);
        if (r)
            return r;
        if (!nl)
            break;
        p = nl + 1;
    }
    return input_jsonarray_finish(a);
}

static void test_starts(void **state)
{
    (void)state;
    assert_true(input_jsonarray_starts("[", 1));
    assert_true(input_jsonarray_starts("  [ ", 4));
    assert_true(input_jsonarray_starts("[{\"a\":1}]", 9));
    assert_true(input_jsonarray_starts("[ {", 3));
    assert_true(input_jsonarray_starts("[]", 2));
    /* Apache's error log and a bracketed syslog tag are not arrays. */
    assert_false(input_jsonarray_starts("[Sun Dec 04 04:47:44 2005] [notice] x", 37));
    assert_false(input_jsonarray_starts("[1, 2]", 6));
    assert_false(input_jsonarray_starts("{\"a\":1}", 7));
    assert_false(input_jsonarray_starts("", 0));
}

static void test_pretty(void **state)
{
    static const char text[] = "[\n"
                               "  {\n"
                               "    \"msg\": \"a } and a ] in a string\",\n"
                               "    \"q\": \"say \\\"{\\\" \\\\\",\n"
                               "    \"nested\": {\"list\": [1, {\"x\": []}]}\n"
                               "  },\n"
                               "  {\"b\": 2}\n"
                               "]\n";
    struct jsonarray a;
    struct got g = {0};
    size_t off = 0;
    (void)state;

    assert_int_equal(input_jsonarray_init(&a, 4096), 0);
    assert_int_equal(feed_text(&a, text, &g, &off), 0);
    assert_int_equal(g.n, 2);
    /* Each line break is one space, the indentation stays. */
    assert_string_equal(g.rec[0], "{     \"msg\": \"a } and a ] in a string\",   "
                                  "  \"q\": \"say \\\"{\\\" \\\\\",     \"nested\": "
                                  "{\"list\": [1, {\"x\": []}]}   }");
    assert_string_equal(g.rec[1], "{\"b\": 2}");
    assert_int_equal(g.flags[0], 0);
    assert_int_equal(a.elements, 2);
    input_jsonarray_done(&a);
}

static void test_one_line_and_empty(void **state)
{
    struct jsonarray a;
    struct got g = {0};
    (void)state;

    assert_int_equal(input_jsonarray_init(&a, 64), 0);
    assert_int_equal(feed_text(&a, "[{\"a\":1},{\"b\":\"]\"} , {}]", &g, NULL), 0);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.rec[1], "{\"b\":\"]\"}");
    assert_string_equal(g.rec[2], "{}");
    input_jsonarray_done(&a);

    memset(&g, 0, sizeof(g));
    assert_int_equal(input_jsonarray_init(&a, 64), 0);
    assert_int_equal(feed_text(&a, "[\n]\n", &g, NULL), 0);
    assert_int_equal(g.n, 0);
    input_jsonarray_done(&a);
}

/* An element past the cap is cut and flagged; the next one starts right. */
static void test_cap(void **state)
{
    struct jsonarray a;
    struct got g = {0};
    (void)state;

    assert_int_equal(input_jsonarray_init(&a, 8), 0);
    assert_int_equal(feed_text(&a, "[{\"long\": \"{{{{[[[[\"}, {\"b\":1}]", &g, NULL), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.rec[0], "{\"long\":");
    assert_int_equal(g.flags[0], RECORD_TRUNCATED);
    assert_string_equal(g.rec[1], "{\"b\":1}");
    assert_int_equal(g.flags[1], 0);
    input_jsonarray_done(&a);
}

static void test_not_an_array(void **state)
{
    static const struct {
        const char *text;
        size_t elements, off;
    } cases[] = {
        {"[{\"a\":1}, 2]", 1, 10},        /* a scalar element */
        {"[{\"a\":1}] trailing", 1, 10},  /* text after the array */
        {"[{\"a\":1}, }]", 1, 10},        /* a stray close */
        {"x[{\"a\":1}]", 0, 0},           /* no array at all */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jsonarray a;
        struct got g = {0};
        size_t off = 999;

        assert_int_equal(input_jsonarray_init(&a, 64), 0);
        assert_int_equal(feed_text(&a, cases[i].text, &g, &off), -EBADMSG);
        assert_int_equal(g.n, cases[i].elements);
        assert_int_equal(off, cases[i].off);
        /* Once refused, nothing more comes out. */
        assert_int_equal(input_jsonarray_feed(&a, "{\"z\":1}", 7, collect, &g, NULL), -EBADMSG);
        assert_int_equal(g.n, cases[i].elements);
        input_jsonarray_done(&a);
    }
}

static void test_unclosed(void **state)
{
    struct jsonarray a;
    struct got g = {0};
    (void)state;

    assert_int_equal(input_jsonarray_init(&a, 64), 0);
    assert_int_equal(feed_text(&a, "[{\"a\":1},\n{\"b\":", &g, NULL), -EBADMSG);
    assert_int_equal(g.n, 1);
    input_jsonarray_done(&a);
}

static int count_emit(void *arg, const char *rec, size_t len, unsigned flags)
{
    size_t *n = arg;

    assert_true(len >= 2 && rec[0] == '{' && rec[len - 1] == '}');
    assert_int_equal(flags, 0);
    (*n)++;
    return 0;
}

/* The four public Suricata samples, pretty-printed arrays: 136, 44, 161
 * and 207 alerts as json.load() counts them. */
static void test_suricata_samples(void **state)
{
    static const struct {
        const char *name;
        size_t alerts;
    } samples[] = {
        {"first-org-conf-2015", 136},
        {"honeypot-2018", 44},
        {"wrccdc-2017", 161},
        {"wrccdc-2018", 207},
    };
    const char *shared = getenv("HIKESHI_SHARED");
    (void)state;

    if (!shared)
        fail_msg("HIKESHI_SHARED is not set");
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char path[1024], line[4096];
        struct jsonarray a;
        size_t n = 0;
        FILE *f;

        snprintf(path, sizeof(path),
                 "%s/data/network/suricata-sample-data/samples/%s/alerts-only.json", shared,
                 samples[i].name);
        f = fopen(path, "r");
        if (!f)
            fail_msg("%s: cannot open", path);
        assert_int_equal(input_jsonarray_init(&a, 65536), 0);
        while (fgets(line, sizeof(line), f)) {
            size_t len = strlen(line);
            if (len && line[len - 1] == '\n')
                len--;
            assert_int_equal(input_jsonarray_feed(&a, line, len, count_emit, &n, NULL), 0);
        }
        fclose(f);
        assert_int_equal(input_jsonarray_finish(&a), 0);
        assert_int_equal(n, samples[i].alerts);
        input_jsonarray_done(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starts),
        cmocka_unit_test(test_pretty),
        cmocka_unit_test(test_one_line_and_empty),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_not_an_array),
        cmocka_unit_test(test_unclosed),
        cmocka_unit_test(test_suricata_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
