/*
 * test_scan_timeline.c - the sort of `hikeshi scan`'s rows by event time:
 * in memory, and through runs in a temporary file and their k-way merge
 * when a tiny memory budget forces them; both give the same order, stable
 * for equal times, with every column (empty, long, binary) intact.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/scan_timeline.h"

#define NROWS 5000

struct got {
    int64_t t[NROWS];
    unsigned id[NROWS];
    size_t n;
    int bad; /* a column that did not come back as written */
};

/* Row i: a time with many duplicates (i * 7919 mod 1000, so equal times
 * arrive in a known order), its number, and a column whose length varies
 * up to 3000 bytes and holds NUL and high bytes. */
static void make_row(unsigned i, int64_t *t, char *num, char *blob, size_t *blen)
{
    *t = (int64_t)((i * 7919u) % 1000u) * 1000000 - 500000000;
    snprintf(num, 16, "%u", i);
    *blen = (i * 37u) % 3000u;
    for (size_t k = 0; k < *blen; k++)
        blob[k] = (char)((i + k) & 0xff);
}

static int on_row(void *arg, const struct scan_timeline_row *row)
{
    struct got *g = arg;
    char num[16], blob[3000];
    size_t blen;
    int64_t t;
    unsigned id;

    if (g->n >= NROWS)
        return -EOVERFLOW;
    id = (unsigned)strtoul(row->col[0], NULL, 10);
    make_row(id, &t, num, blob, &blen);
    if (t != row->time_us || row->len[1] != blen || memcmp(row->col[1], blob, blen) != 0 ||
        row->len[2] != 0 || row->col[2][0] != '\0' || row->col[1][blen] != '\0')
        g->bad++;
    g->t[g->n] = row->time_us;
    g->id[g->n++] = id;
    return 0;
}

static void fill_and_check(size_t budget, int want_runs)
{
    struct scan_timeline *tl;
    struct got *g = calloc(1, sizeof(*g));
    char num[16], blob[3000];
    const char *col[3];
    size_t len[3];

    assert_non_null(g);
    assert_int_equal(scan_timeline_new(3, budget, NULL, &tl), 0);
    for (unsigned i = 0; i < NROWS; i++) {
        struct scan_timeline_row row = {.col = col, .len = len};

        make_row(i, &row.time_us, num, blob, &len[1]);
        col[0] = num;
        len[0] = strlen(num);
        col[1] = blob;
        col[2] = NULL; /* an absent column comes back empty */
        len[2] = 0;
        assert_int_equal(scan_timeline_add(tl, &row), 0);
    }
    assert_int_equal(scan_timeline_finish(tl, on_row, g), 0);
    if (want_runs)
        assert_true(scan_timeline_stats(tl)->runs > 50);
    else
        assert_int_equal(scan_timeline_stats(tl)->runs, 0);
    assert_int_equal(g->n, NROWS);
    assert_int_equal(g->bad, 0);
    for (size_t i = 1; i < g->n; i++) {
        assert_true(g->t[i - 1] <= g->t[i]);
        if (g->t[i - 1] == g->t[i])
            assert_true(g->id[i - 1] < g->id[i]); /* arrival order kept */
    }
    scan_timeline_free(tl);
    free(g);
}

static void test_in_memory(void **state)
{
    (void)state;
    fill_and_check(256u * 1024 * 1024, 0);
}

static void test_external_merge(void **state)
{
    /* 64 KiB: each run holds a few dozen rows, so ~100+ runs are merged. */
    (void)state;
    fill_and_check(64 * 1024, 1);
}

static void test_one_row_runs(void **state)
{
    /* A budget of one byte: every row is its own run. */
    struct scan_timeline *tl;
    const char *col[1];
    size_t len[1];
    struct got g = {0};
    static const int64_t times[] = {30, 10, 20, 10, 40, 0};

    (void)state;
    assert_int_equal(scan_timeline_new(1, 1, NULL, &tl), 0);
    for (unsigned i = 0; i < 6; i++) {
        char num[16];
        struct scan_timeline_row row = {.time_us = times[i], .col = col, .len = len};

        snprintf(num, sizeof(num), "%u", i);
        col[0] = num;
        len[0] = strlen(num);
        assert_int_equal(scan_timeline_add(tl, &row), 0);
    }
    assert_int_equal(scan_timeline_stats(tl)->runs, 6);
    g.bad = 0;
    assert_int_equal(scan_timeline_finish(tl, on_row, &g), 0);
    assert_int_equal(g.n, 6);
    {
        static const unsigned want[] = {5, 1, 3, 2, 0, 4};
        for (unsigned i = 0; i < 6; i++)
            assert_int_equal(g.id[i], want[i]);
    }
    scan_timeline_free(tl);
}

static void test_bad_args(void **state)
{
    struct scan_timeline *tl;

    (void)state;
    assert_int_equal(scan_timeline_new(0, 1024, NULL, &tl), -EINVAL);
    assert_int_equal(scan_timeline_new(SCAN_TIMELINE_MAX_COLS + 1, 1024, NULL, &tl), -EINVAL);
    assert_int_equal(scan_timeline_new(2, 1, "/nonexistent/dir", &tl), 0);
    {
        const char *col[2] = {"a", "b"};
        size_t len[2] = {1, 1};
        struct scan_timeline_row row = {.time_us = 1, .col = col, .len = len};
        /* Over the budget with nowhere to write: the error says why. */
        assert_int_equal(scan_timeline_add(tl, &row), -ENOENT);
    }
    scan_timeline_free(tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory),
        cmocka_unit_test(test_external_merge),
        cmocka_unit_test(test_one_row_runs),
        cmocka_unit_test(test_bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
