/*
 * test_pipeline_silence.c - the silent-source table: a sender is reported
 * once when silent past its interval, not before, again only after it came
 * back and stopped again; senders and inputs apart; the table's cap.  The
 * learner, on a clock the test sets (every call is given its time): a
 * steady sender, a bursty one judged by its pauses, one with too few
 * records or too short a history, a configured interval winning, the floor
 * and the cap; and the published list of senders for the health answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "pipeline/pipeline_silence.h"
#include "util/limits.h"

#define S INT64_C(1000000)

static const uint8_t A[16] = {192, 0, 2, 1};
static const uint8_t B[16] = {192, 0, 2, 2};
static const uint8_t NONE[16];

/* A table watching `input` at a configured interval (every_us > 0) or
 * learning one between min_us and max_us (every_us == 0). */
static void watch(struct psilence *s, uint32_t input, int64_t every_us, int64_t min_us,
                  int64_t max_us)
{
    struct psilence_watch w = {every_us, min_us, max_us};

    assert_int_equal(psilence_watch(s, input, &w), 0);
}

static struct psilence *configured(int64_t every_us)
{
    struct psilence *s = psilence_new();

    assert_non_null(s);
    watch(s, 0, every_us, 0, 0);
    return s;
}

static void test_once_per_silence(void **state)
{
    struct psilence *s = configured(60 * S);
    struct psilence_src src;

    (void)state;
    assert_int_equal(psilence_seen(s, 0, 4, A, 1000 * S), 0);
    assert_int_equal(psilence_seen(s, 0, 4, B, 1030 * S), 0);
    assert_int_equal(psilence_due(s, 1059 * S, &src), 0);
    assert_int_equal(psilence_due(s, 1060 * S, &src), 1);
    assert_memory_equal(src.addr, A, 16);
    assert_int_equal(src.last_us, 1000 * S);
    assert_int_equal(src.every_us, 60 * S);
    assert_int_equal(psilence_due(s, 1061 * S, &src), 0); /* A once; B not yet */
    assert_int_equal(psilence_due(s, 1090 * S, &src), 1);
    assert_memory_equal(src.addr, B, 16);
    assert_int_equal(psilence_due(s, 5000 * S, &src), 0);
    /* A is back: reported as such, then silent again later */
    assert_int_equal(psilence_seen(s, 0, 4, A, 5000 * S), 1);
    assert_int_equal(psilence_seen(s, 0, 4, A, 5001 * S), 0);
    assert_int_equal(psilence_due(s, 5060 * S, &src), 0);
    assert_int_equal(psilence_due(s, 5061 * S, &src), 1);
    assert_memory_equal(src.addr, A, 16);
    psilence_free(s);
}

static void test_inputs_apart(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_src src;

    (void)state;
    assert_non_null(s);
    watch(s, 0, 10 * S, 0, 0);
    watch(s, 1, 100 * S, 0, 0);
    watch(s, 2, 10 * S, 0, 0);
    assert_int_equal(psilence_seen(s, 0, 4, A, 0), 0);
    assert_int_equal(psilence_seen(s, 1, 4, A, 0), 0);
    assert_int_equal(psilence_seen(s, 2, 0, NONE, 0), 0);
    assert_int_equal(psilence_due(s, 10 * S, &src), 1);
    assert_int_equal(psilence_due(s, 10 * S, &src), 1);
    assert_int_equal(psilence_due(s, 10 * S, &src), 0); /* input 1's interval is longer */
    assert_int_equal(psilence_due(s, 100 * S, &src), 1);
    assert_int_equal(src.input, 1);
    psilence_free(s);
}

static void test_cap(void **state)
{
    struct psilence *s = configured(S);
    uint8_t a[16] = {10};
    uint32_t i;

    (void)state;
    for (i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        memcpy(a + 1, &i, sizeof(i));
        (void)psilence_seen(s, 0, 4, a, 0);
    }
    assert_int_equal(psilence_untracked(s), LIMIT_SILENCE_SOURCES / 4);
    psilence_free(s);
}

/* Sends n records from A on input 0, `gap` apart from t; returns the
 * last one's time. */
static int64_t steady(struct psilence *s, int n, int64_t t, int64_t gap)
{
    for (int i = 0; i < n; i++, t += gap)
        assert_int_equal(psilence_seen(s, 0, 4, A, t), 0);
    return t - gap;
}

static void test_not_watched(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_src src;

    (void)state;
    assert_non_null(s);
    watch(s, 1, -1, 0, 0); /* expect_every: off */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(psilence_seen(s, 0, 4, A, i * S), 0); /* input 0: never set */
        assert_int_equal(psilence_seen(s, 1, 4, A, i * S), 0);
    }
    assert_int_equal(psilence_due(s, 100000 * S, &src), 0);
    psilence_publish(s);
    assert_int_equal(psilence_sources(s, 0, NULL, 0), 0);
    assert_int_equal(psilence_sources(s, 1, NULL, 0), 0);
    psilence_free(s);
}

/* Every 10 s: expected every 30 s once learned, reported 30 s after its
 * last record and not a second before; back when it sends again. */
static void test_learn_steady(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_src src;
    int64_t last;

    (void)state;
    assert_non_null(s);
    watch(s, 0, 0, S, 3600 * S);
    last = steady(s, 20, 1000 * S, 10 * S);
    assert_int_equal(psilence_every(s, 0, 4, A), 30 * S);
    assert_int_equal(psilence_due(s, last + 29 * S, &src), 0);
    assert_int_equal(psilence_due(s, last + 30 * S, &src), 1);
    assert_int_equal(src.learned, 1);
    assert_int_equal(src.every_us, 30 * S);
    assert_int_equal(src.last_us, last);
    assert_int_equal(psilence_due(s, last + 31 * S, &src), 0);
    assert_int_equal(psilence_seen(s, 0, 4, A, last + 60 * S), 1);
    /* the 60 s pause is 60 of the 250 s watched, more than 5 %: the
     * learned interval grows to 3 x 60 s */
    assert_int_equal(psilence_every(s, 0, 4, A), 180 * S);
    psilence_free(s);
}

/* Bursts of 50 records 10 ms apart every 10 minutes: judged by the pauses
 * between bursts (the time they cover), not by the short gaps that are
 * most of its gaps. */
static void test_learn_bursty(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_src src;
    int64_t t = 0, last = 0, every;

    (void)state;
    assert_non_null(s);
    watch(s, 0, 0, S, 86400 * S);
    for (int burst = 0; burst < 20; burst++, t += 600 * S)
        last = steady(s, 50, t, 10000);
    every = psilence_every(s, 0, 4, A);
    /* 3 x the 599.51 s pause */
    assert_true(every >= 1798 * S && every <= 1799 * S);
    assert_int_equal(psilence_due(s, last + 1000 * S, &src), 0);
    assert_int_equal(psilence_due(s, last + every, &src), 1);
    assert_int_equal(src.learned, 1);
    psilence_free(s);
}

/* Too few gaps, or a history shorter than the interval it would learn:
 * never reported, however long it stays silent. */
static void test_learn_not_enough(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_src src;
    int64_t last;

    (void)state;
    assert_non_null(s);
    watch(s, 0, 0, S, 86400 * S);
    last = steady(s, PSILENCE_LEARN_GAPS, 0, 10 * S); /* one gap short */
    assert_int_equal(psilence_every(s, 0, 4, A), 0);
    assert_int_equal(psilence_due(s, last + 30 * 86400 * S, &src), 0);
    psilence_free(s);

    /* a backlog of 1000 records read in one second, floor one minute */
    s = psilence_new();
    assert_non_null(s);
    watch(s, 0, 0, 60 * S, 86400 * S);
    last = steady(s, 1000, 0, 1000);
    assert_int_equal(psilence_every(s, 0, 4, A), 0);
    assert_int_equal(psilence_due(s, last + 86400 * S, &src), 0);
    /* then once a second: learned (the floor) once heard over a minute */
    last = steady(s, 59, S, S);
    assert_int_equal(psilence_every(s, 0, 4, A), 0);
    assert_int_equal(psilence_seen(s, 0, 4, A, last + S), 0);
    assert_int_equal(psilence_every(s, 0, 4, A), 60 * S);
    psilence_free(s);
}

/* A configured interval wins over what the traffic would teach. */
static void test_configured_wins(void **state)
{
    struct psilence *s = configured(5 * S);
    struct psilence_src src;
    int64_t last;

    (void)state;
    last = steady(s, 20, 0, 100 * S);
    assert_int_equal(psilence_every(s, 0, 4, A), 5 * S);
    assert_int_equal(psilence_due(s, last + 4 * S, &src), 0);
    assert_int_equal(psilence_due(s, last + 5 * S, &src), 1);
    assert_int_equal(src.learned, 0);
    assert_int_equal(src.every_us, 5 * S);
    psilence_free(s);
}

static void test_floor_and_cap(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_watch bad = {0, 10 * S, 5 * S};

    (void)state;
    assert_non_null(s);
    assert_int_equal(psilence_watch(s, 0, &bad), -EINVAL);
    watch(s, 0, 0, 60 * S, 2 * 3600 * S);
    (void)steady(s, 200, 0, S); /* 3 s learned: the floor */
    assert_int_equal(psilence_every(s, 0, 4, A), 60 * S);
    psilence_free(s);
    s = psilence_new();
    assert_non_null(s);
    watch(s, 0, 0, 60 * S, 2 * 3600 * S);
    (void)steady(s, 20, 0, 3600 * S); /* 3 h learned: the cap */
    assert_int_equal(psilence_every(s, 0, 4, A), 2 * 3600 * S);
    psilence_free(s);
}

/* What the health answer reads: per input, silent senders first, then the
 * most recently heard, cut at max with the total counted. */
static void test_sources(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_src src;
    struct pipeline_source got[2];
    uint8_t c[16] = {192, 0, 2, 3};

    (void)state;
    assert_non_null(s);
    watch(s, 0, 10 * S, 0, 0);
    watch(s, 1, 0, S, 3600 * S);
    assert_int_equal(psilence_seen(s, 0, 4, A, 0), 0);
    assert_int_equal(psilence_seen(s, 0, 4, B, 8 * S), 0);
    assert_int_equal(psilence_seen(s, 0, 4, c, 5 * S), 0);
    assert_int_equal(psilence_seen(s, 1, 0, NONE, 9 * S), 0);
    assert_int_equal(psilence_due(s, 10 * S, &src), 1);  /* A */
    assert_int_equal(psilence_sources(s, 0, got, 2), 0); /* nothing published yet */
    psilence_publish(s);
    assert_int_equal(psilence_sources(s, 0, got, 2), 3);
    assert_memory_equal(got[0].addr, A, 16);
    assert_int_equal(got[0].silent, 1);
    assert_int_equal(got[0].learned, 0);
    assert_int_equal(got[0].every_us, 10 * S);
    assert_memory_equal(got[1].addr, B, 16); /* heard at 8 s, C at 5 s */
    assert_int_equal(got[1].silent, 0);
    assert_int_equal(got[1].last_us, 8 * S);
    assert_int_equal(psilence_sources(s, 1, got, 2), 1);
    assert_int_equal(got[0].family, 0);
    assert_int_equal(got[0].learned, 1);
    assert_int_equal(got[0].every_us, 0); /* still learning */
    /* A is back: no longer silent once published again */
    assert_int_equal(psilence_seen(s, 0, 4, A, 11 * S), 1);
    psilence_publish(s);
    assert_int_equal(psilence_sources(s, 0, got, 1), 3);
    assert_memory_equal(got[0].addr, A, 16);
    assert_int_equal(got[0].silent, 0);
    assert_int_equal(got[0].last_us, 11 * S);
    psilence_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_once_per_silence),
        cmocka_unit_test(test_inputs_apart),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_not_watched),
        cmocka_unit_test(test_learn_steady),
        cmocka_unit_test(test_learn_bursty),
        cmocka_unit_test(test_learn_not_enough),
        cmocka_unit_test(test_configured_wins),
        cmocka_unit_test(test_floor_and_cap),
        cmocka_unit_test(test_sources),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
