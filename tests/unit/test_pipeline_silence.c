/*
 * test_pipeline_silence.c - the silent-source table: a sender is reported
 * once when silent past its interval, not before, again only after it came
 * back and stopped again; senders and inputs apart; the table's cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pipeline/pipeline_silence.h"
#include "util/limits.h"

#define S INT64_C(1000000)

static const uint8_t A[16] = {192, 0, 2, 1};
static const uint8_t B[16] = {192, 0, 2, 2};

static void test_once_per_silence(void **state)
{
    struct psilence *s = psilence_new();
    struct psilence_src src;

    (void)state;
    assert_non_null(s);
    assert_int_equal(psilence_seen(s, 0, 60 * S, 4, A, 1000 * S), 0);
    assert_int_equal(psilence_seen(s, 0, 60 * S, 4, B, 1030 * S), 0);
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
    assert_int_equal(psilence_seen(s, 0, 60 * S, 4, A, 5000 * S), 1);
    assert_int_equal(psilence_seen(s, 0, 60 * S, 4, A, 5001 * S), 0);
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
    assert_int_equal(psilence_seen(s, 0, 10 * S, 4, A, 0), 0);
    assert_int_equal(psilence_seen(s, 1, 100 * S, 4, A, 0), 0);
    assert_int_equal(psilence_seen(s, 2, 10 * S, 0, (const uint8_t[16]){0}, 0), 0);
    assert_int_equal(psilence_due(s, 10 * S, &src), 1);
    assert_int_equal(psilence_due(s, 10 * S, &src), 1);
    assert_int_equal(psilence_due(s, 10 * S, &src), 0); /* input 1's interval is longer */
    assert_int_equal(psilence_due(s, 100 * S, &src), 1);
    assert_int_equal(src.input, 1);
    psilence_free(s);
}

static void test_cap(void **state)
{
    struct psilence *s = psilence_new();
    uint8_t a[16] = {10};
    uint32_t i;

    (void)state;
    for (i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        memcpy(a + 1, &i, sizeof(i));
        (void)psilence_seen(s, 0, S, 4, a, 0);
    }
    assert_int_equal(psilence_untracked(s), LIMIT_SILENCE_SOURCES / 4);
    psilence_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_once_per_silence),
        cmocka_unit_test(test_inputs_apart),
        cmocka_unit_test(test_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
