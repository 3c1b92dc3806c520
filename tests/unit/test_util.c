/*
 * test_util.c - arena, buf, log_quote, the rate limiter and the bounded
 * queue.  Links util/ alone: the queue is tested with an item type of its
 * own (record batches are input/'s, in test_record.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/queue.h"

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- arena ---- */

static void test_arena_alignment(void **state)
{
    struct arena a;
    unsigned char *prev = NULL;
    size_t prev_n = 0;

    arena_init(&a, 0);
    /* Odd sizes in a row, crossing into new blocks several times. */
    for (size_t i = 0; i < 2000; i++) {
        size_t n = 1 + (i * 37) % 301;
        unsigned char *p = arena_alloc(&a, n);

        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        /* Writing every byte would trip ASan if the block were short. */
        memset(p, (int)(i & 0xff), n);
        if (prev) {
            /* The previous allocation was not overwritten. */
            for (size_t k = 0; k < prev_n; k++)
                assert_int_equal(prev[k], (i - 1) & 0xff);
        }
        prev = p;
        prev_n = n;
    }
    assert_non_null(arena_alloc(&a, 0));
    arena_done(&a);
}

static void test_arena_reset_reuses(void **state)
{
    struct arena a;
    void *p1, *p2, *big;
    unsigned char *z;

    arena_init(&a, 0);
    p1 = arena_alloc(&a, 100);
    assert_non_null(p1);
    /* A second, bigger-than-a-block allocation lands in a new block. */
    big = arena_alloc(&a, 1024 * 1024);
    assert_non_null(big);
    memset(big, 1, 1024 * 1024);
    arena_reset(&a);
    assert_int_equal(a.used_total, 0);
    p2 = arena_alloc(&a, 100);
    assert_ptr_equal(p1, p2);
    memset(p2, 0xaa, 100);
    arena_reset(&a);
    z = arena_zalloc(&a, 100);
    assert_ptr_equal(z, p1);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    arena_done(&a);
    /* Done twice and on a zeroed arena is harmless. */
    arena_done(&a);
    {
        struct arena zero = {0};
        arena_done(&zero);
        arena_reset(&zero);
    }
}

static void test_arena_cap(void **state)
{
    struct arena a;
    char *p;

    arena_init(&a, 1024);
    assert_non_null(arena_alloc(&a, 1000));
    assert_null(arena_alloc(&a, 64));
    assert_null(arena_strndup(&a, "0123456789012345678901234567890123456789", 40));
    /* Requests so large that a careless sum would wrap around. */
    assert_null(arena_alloc(&a, SIZE_MAX));
    assert_null(arena_alloc(&a, SIZE_MAX - 64));
    assert_null(arena_alloc(&a, SIZE_MAX - 40));
    assert_null(arena_alloc(&a, SIZE_MAX / 2));
    /* Failure did not break the arena: after a reset it serves again. */
    arena_reset(&a);
    p = arena_alloc(&a, 1000);
    assert_non_null(p);
    memset(p, 0, 1000);
    arena_done(&a);

    /* The default cap is LIMIT_ARENA_MAX (64 MiB): 65 MiB is refused. */
    arena_init(&a, 0);
    assert_null(arena_alloc(&a, 65u * 1024 * 1024));
    assert_non_null(arena_alloc(&a, 16));
    arena_done(&a);
}

static void test_arena_huge_then_reset(void **state)
{
    struct arena a;
    char *p;

    arena_init(&a, 0);
    p = arena_alloc(&a, 8 * 1024 * 1024);
    assert_non_null(p);
    memset(p, 'x', 8 * 1024 * 1024);
    arena_reset(&a);
    /* One oversized block is not kept for the next event. */
    assert_null(a.head);
    assert_int_equal(a.used_total, 0);
    p = arena_alloc(&a, 10);
    assert_non_null(p);
    arena_done(&a);
}

static void test_arena_printf_strndup(void **state)
{
    struct arena a;
    char *s, *t;
    char long_s[5000];

    arena_init(&a, 0);
    s = arena_printf(&a, "%s-%d-%05.1f", "abc", 42, 3.25);
    assert_string_equal(s, "abc-42-003.2");
    t = arena_strndup(&a, "hello world", 5);
    assert_string_equal(t, "hello");
    assert_string_equal(s, "abc-42-003.2");
    memset(long_s, 'y', sizeof(long_s) - 1);
    long_s[sizeof(long_s) - 1] = '\0';
    s = arena_printf(&a, "<%s>", long_s);
    assert_int_equal(strlen(s), sizeof(long_s) + 1);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[sizeof(long_s)], '>');
    assert_string_equal(arena_strndup(&a, "", 0), "");
    arena_done(&a);
}

/* ---- buf ---- */

static void test_buf_cap(void **state)
{
    struct buf b;
    char *before;

    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "hello", 5), 0);
    assert_int_equal(buf_append(&b, "world!", 6), -E2BIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "hello");
    assert_int_equal(buf_printf(&b, "%d", 123456), -E2BIG);
    assert_string_equal(b.data, "hello");
    assert_int_equal(buf_json_str(&b, "abcd", 4), -E2BIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "hello");
    assert_int_equal(buf_puts(&b, "world"), 0);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "helloworld");
    assert_int_equal(buf_putc(&b, '!'), -E2BIG);
    assert_string_equal(b.data, "helloworld");
    before = b.data;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_ptr_equal(b.data, before);
    assert_int_equal(buf_printf(&b, "%s=%u", "n", 7u), 0);
    assert_string_equal(b.data, "n=7");
    buf_done(&b);
    buf_done(&b);

    /* Growth well past the first allocation keeps the contents. */
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_printf(&b, "%04d", i % 10000), 0);
    assert_int_equal(b.len, 40000);
    assert_memory_equal(b.data + 4 * 1234, "1234", 4);
    assert_int_equal(b.data[b.len], '\0');
    buf_done(&b);
}

static void test_buf_json_str(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
#define C(in, out) {in, sizeof(in) - 1, out}
        C("plain text", "\"plain text\""),
        C("", "\"\""),
        C("say \"hi\"", "\"say \\\"hi\\\"\""),
        C("C:\\temp\\x", "\"C:\\\\temp\\\\x\""),
        C("a\nb\rc\td", "\"a\\nb\\rc\\td\""),
        C("\x01\x1f\b\f", "\"\\u0001\\u001f\\u0008\\u000c\""),
        C("nul\0byte", "\"nul\\u0000byte\""),
        C("del\x7f", "\"del\x7f\""),
        /* Valid UTF-8 of 2, 3 and 4 bytes is kept as it is. */
        C("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\""),
        /* Invalid: lone bytes, stray continuation, overlongs, surrogates,
         * past U+10FFFF, truncated sequences. */
        C("\xff", "\"\\u00ff\""),
        C("a\x80z", "\"a\\u0080z\""),
        C("\xc0\xaf", "\"\\u00c0\\u00af\""),
        C("\xc1\xbf", "\"\\u00c1\\u00bf\""),
        C("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\""),
        C("\xf0\x80\x80\xaf", "\"\\u00f0\\u0080\\u0080\\u00af\""),
        C("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""),
        C("\xed\xbf\xbf", "\"\\u00ed\\u00bf\\u00bf\""),
        C("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""),
        C("\xf5\x80", "\"\\u00f5\\u0080\""),
        C("ok\xe2\x82", "\"ok\\u00e2\\u0082\""),
        C("\xc3", "\"\\u00c3\""),
        C("\xc3(", "\"\\u00c3(\""),
        /* A valid character right after an invalid byte survives. */
        C("\xff\xc3\xa9", "\"\\u00ff\xc3\xa9\""),
#undef C
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;

        buf_init(&b, 1024);
        assert_int_equal(buf_json_str(&b, cases[i].in, cases[i].len), 0);
        if (strcmp(b.data, cases[i].out) != 0)
            fail_msg("case %zu: got [%s] want [%s]", i, b.data, cases[i].out);
        assert_int_equal(b.len, strlen(cases[i].out));
        buf_done(&b);
    }
}

/* ---- log ---- */

static void test_log_quote(void **state)
{
    char out[64];
    char small[16];

    assert_string_equal(log_quote(out, sizeof(out), "sshd", 4), "'sshd'");
    assert_string_equal(log_quote(out, sizeof(out), "", 0), "''");
    assert_string_equal(log_quote(out, sizeof(out), "it's a\\b", 8), "'it\\'s a\\\\b'");
    assert_string_equal(log_quote(out, sizeof(out), "a\nb\x1b[31m\x7f\xff\0z", 12),
                        "'a\\x0ab\\x1b[31m\\x7f\\xff\\x00z'");
    /* Truncation: the result fits, ends with "...'", and is a prefix. */
    log_quote(small, sizeof(small), "abcdefghijklmnopqrstuvwxyz", 26);
    assert_true(strlen(small) < sizeof(small));
    assert_string_equal(small, "'abcdefghij...'");
    /* An escape is never cut in half. */
    log_quote(small, sizeof(small), "abcdefghi\x01zzzzzzzz", 18);
    assert_string_equal(small, "'abcdefghi...'");
    /* Too small to say anything useful: an empty string, no overflow. */
    assert_string_equal(log_quote(small, 7, "abc", 3), "");
    log_quote(small, 8, "abcdefgh", 8);
    assert_true(strlen(small) < 8);
    assert_int_equal(small[0], '\'');
}

static void test_log_ratelimit(void **state)
{
    struct log_ratelimit rl = {.interval_s = 3600, .burst = 3};
    unsigned long sup = 99;

    assert_int_equal(log_ratelimit_ok(&rl, &sup), 1);
    assert_int_equal(sup, 0);
    assert_int_equal(log_ratelimit_ok(&rl, &sup), 1);
    assert_int_equal(log_ratelimit_ok(&rl, NULL), 1);
    assert_int_equal(log_ratelimit_ok(&rl, &sup), 0);
    assert_int_equal(log_ratelimit_ok(&rl, &sup), 0);
    assert_int_equal(sup, 0);
    assert_int_equal(rl.suppressed, 2);
    /* Pretend the interval has passed: the new window reports the 2. */
    rl.window_start -= 3600;
    assert_int_equal(log_ratelimit_ok(&rl, &sup), 1);
    assert_int_equal(sup, 2);
    assert_int_equal(rl.suppressed, 0);
    assert_int_equal(log_ratelimit_ok(&rl, &sup), 1);
    assert_int_equal(sup, 0);
}

/* ---- queue ---- */

/* The queue's items are opaque to it: this one keeps its link away from the
 * start, so a queue that ignored link_offset would corrupt id and seq. */
struct item {
    uint32_t id;
    uint32_t seq;
    struct queue_link link;
    char pad[8];
};

static int items_freed;

static void item_free(void *p)
{
    items_freed++;
    free(p);
}

static struct queue *item_queue(size_t max)
{
    return queue_new(max, offsetof(struct item, link), item_free);
}

static struct item *item_with(uint32_t id, uint32_t seq)
{
    struct item *it = calloc(1, sizeof(*it));

    assert_non_null(it);
    it->id = id;
    it->seq = seq;
    memset(it->pad, 0x5a, sizeof(it->pad));
    return it;
}

/* The push hook (the daemon's archive) sees each item that enters, in the
 * order it will be popped, before a pop can take it, and never an item
 * refused (full, closed). */
struct hook_log {
    uint32_t seen[8];
    size_t n;
};

static void hook_note(void *ctx, void *item)
{
    struct hook_log *h = ctx;
    struct item *it = item;

    if (h->n < 8)
        h->seen[h->n++] = it->id;
    it->seq = 100 + it->id; /* visible to the popper: the hook ran first */
}

static void test_queue_push_hook(void **state)
{
    struct queue *q = item_queue(2);
    struct hook_log h = {{0}, 0};
    struct item *extra;

    (void)state;
    assert_non_null(q);
    queue_set_push_hook(q, hook_note, &h);
    assert_int_equal(queue_push(q, item_with(1, 0)), 0);
    assert_int_equal(queue_trypush(q, item_with(2, 0)), 0);
    extra = item_with(3, 0);
    assert_int_equal(queue_trypush(q, extra), -EAGAIN);
    assert_int_equal(h.n, 2);
    for (uint32_t i = 1; i <= 2; i++) {
        struct item *it = queue_pop(q, 0);
        assert_non_null(it);
        assert_int_equal(it->id, i);
        assert_int_equal(it->seq, 100 + i);
        free(it);
    }
    queue_close(q);
    assert_int_equal(queue_push(q, extra), -ESHUTDOWN);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.seen[0], 1);
    assert_int_equal(h.seen[1], 2);
    free(extra);
    queue_free(q);
}

static void test_queue_fifo_trypush(void **state)
{
    struct queue *q = item_queue(3);
    struct item *extra;

    assert_non_null(q);
    assert_int_equal(queue_capacity(q), 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(queue_trypush(q, item_with(i, i)), 0);
    extra = item_with(9, 9);
    assert_int_equal(queue_trypush(q, extra), -EAGAIN);
    assert_int_equal(queue_depth(q), 3);
    for (uint32_t i = 0; i < 3; i++) {
        struct item *it = queue_pop(q, 0);
        assert_non_null(it);
        assert_int_equal(it->id, i);
        assert_int_equal(it->seq, i);
        assert_int_equal(it->pad[0], 0x5a);
        assert_int_equal(it->pad[7], 0x5a);
        free(it);
    }
    assert_int_equal(queue_depth(q), 0);
    assert_int_equal(queue_high_water(q), 3);
    assert_int_equal(queue_push(q, extra), 0);
    assert_int_equal(queue_push(q, item_with(10, 10)), 0);
    /* Freeing a queue frees what is still in it, through the callback
     * (ASan checks nothing leaks). */
    items_freed = 0;
    queue_free(q);
    assert_int_equal(items_freed, 2);
    queue_free(NULL);
}

/* Without a free callback the queue leaves queued items alone. */
static void test_queue_no_free_fn(void **state)
{
    struct item it = {.id = 1};
    struct queue *q = queue_new(2, offsetof(struct item, link), NULL);

    assert_non_null(q);
    items_freed = 0;
    assert_int_equal(queue_push(q, &it), 0);
    queue_free(q);
    assert_int_equal(items_freed, 0);
    assert_int_equal(it.id, 1);
}

static void test_queue_pop_timeout(void **state)
{
    struct queue *q = item_queue(4);
    int64_t t0 = mono_ms(), dt;

    assert_null(queue_pop(q, 100));
    dt = mono_ms() - t0;
    assert_true(dt >= 95);
    assert_true(dt < 5000);
    assert_null(queue_pop(q, 0));
    queue_free(q);
}

struct pusher {
    struct queue *q;
    struct item *it;
    int r;
};

static void *push_thread(void *arg)
{
    struct pusher *p = arg;

    p->r = queue_push(p->q, p->it);
    return NULL;
}

static void *pop_thread(void *arg)
{
    return queue_pop(arg, -1);
}

static void test_queue_close(void **state)
{
    struct queue *q = item_queue(1);
    struct pusher p = {.q = q, .r = 1};
    pthread_t t;
    struct item *it;
    void *got = (void *)1;

    assert_int_equal(queue_push(q, item_with(1, 1)), 0);
    p.it = item_with(2, 2);
    assert_int_equal(pthread_create(&t, NULL, push_thread, &p), 0);
    usleep(100 * 1000);
    /* Still blocked on the full queue. */
    assert_int_equal(p.r, 1);
    queue_close(q);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(p.r, -ESHUTDOWN);
    free(p.it); /* ownership stayed with the pusher */
    p.it = item_with(3, 3);
    assert_int_equal(queue_trypush(q, p.it), -ESHUTDOWN);
    assert_int_equal(queue_push(q, p.it), -ESHUTDOWN);
    free(p.it);
    /* The queued item drains, then NULL at once even with no timeout. */
    it = queue_pop(q, -1);
    assert_non_null(it);
    assert_int_equal(it->id, 1);
    free(it);
    assert_null(queue_pop(q, -1));
    queue_free(q);

    /* Close also wakes a consumer waiting forever on an empty queue. */
    q = item_queue(2);
    assert_int_equal(pthread_create(&t, NULL, pop_thread, q), 0);
    usleep(50 * 1000);
    queue_close(q);
    assert_int_equal(pthread_join(t, &got), 0);
    assert_null(got);
    queue_free(q);
}

#define MPSC_PRODUCERS 4
#define MPSC_ITEMS 100000

struct producer {
    struct queue *q;
    uint32_t id;
    int failures;
};

static void *producer_thread(void *arg)
{
    struct producer *p = arg;

    for (uint32_t i = 0; i < MPSC_ITEMS / MPSC_PRODUCERS; i++) {
        struct item *it = item_with(p->id, i);

        if (queue_push(p->q, it) < 0) {
            free(it);
            p->failures++;
        }
    }
    return NULL;
}

static void test_queue_mpsc(void **state)
{
    struct queue *q = item_queue(64);
    struct producer prod[MPSC_PRODUCERS];
    pthread_t t[MPSC_PRODUCERS];
    uint32_t next[MPSC_PRODUCERS] = {0};
    unsigned got = 0;
    int64_t t0 = mono_ms();

    for (uint32_t i = 0; i < MPSC_PRODUCERS; i++) {
        prod[i] = (struct producer){.q = q, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, producer_thread, &prod[i]), 0);
    }
    while (got < MPSC_ITEMS) {
        struct item *it = queue_pop(q, 5000);

        if (!it)
            fail_msg("queue_pop timed out after %u items", got);
        assert_true(it->id < MPSC_PRODUCERS);
        /* Each producer's items arrive in the order it pushed them. */
        assert_int_equal(it->seq, next[it->id]);
        next[it->id]++;
        got++;
        free(it);
    }
    for (int i = 0; i < MPSC_PRODUCERS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(prod[i].failures, 0);
        assert_int_equal(next[i], MPSC_ITEMS / MPSC_PRODUCERS);
    }
    assert_null(queue_pop(q, 0));
    assert_true(queue_high_water(q) <= 64);
    print_message("queue: %d items from %d producers in %lld ms (high water %zu)\n", MPSC_ITEMS,
                  MPSC_PRODUCERS, (long long)(mono_ms() - t0), queue_high_water(q));
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alignment),
        cmocka_unit_test(test_arena_reset_reuses),
        cmocka_unit_test(test_arena_cap),
        cmocka_unit_test(test_arena_huge_then_reset),
        cmocka_unit_test(test_arena_printf_strndup),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_json_str),
        cmocka_unit_test(test_log_quote),
        cmocka_unit_test(test_log_ratelimit),
        cmocka_unit_test(test_queue_fifo_trypush),
        cmocka_unit_test(test_queue_push_hook),
        cmocka_unit_test(test_queue_no_free_fn),
        cmocka_unit_test(test_queue_pop_timeout),
        cmocka_unit_test(test_queue_close),
        cmocka_unit_test(test_queue_mpsc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
