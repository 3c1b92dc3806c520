/*
 * test_record.c - record batches (input/record.c), and the queue of them:
 * the util/ queue told where a batch's link is and how to free one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/record.h"
#include "util/queue.h"

/* ---- record batches ---- */

static void test_record_batch(void **state)
{
    static const char *const lines[] = {"first", "", "a somewhat longer third record", "4"};
    struct rec_batch *b = rec_batch_new(7, 4096);
    struct record *r;
    unsigned n = 0;
    size_t total = 0;

    assert_non_null(b);
    assert_null(rec_batch_first(b));
    for (unsigned i = 0; i < 4; i++) {
        r = rec_batch_add(b, lines[i], strlen(lines[i]), 1000 + i, i == 2 ? RECORD_TRUNCATED : 0);
        assert_non_null(r);
        r->peer_family = 4;
        r->peer_port = (uint16_t)(500 + i);
        total += rec_batch_record_size(strlen(lines[i]));
    }
    assert_int_equal(b->nrec, 4);
    assert_int_equal(b->used, total);
    for (r = rec_batch_first(b); r; r = rec_batch_next(b, r), n++) {
        assert_true(n < 4);
        assert_int_equal((uintptr_t)r % 8, 0);
        assert_int_equal((uintptr_t)r % alignof(struct record), 0);
        assert_int_equal(r->len, strlen(lines[n]));
        assert_memory_equal(r->data, lines[n], r->len);
        assert_int_equal(r->recv_us, 1000 + n);
        assert_int_equal(r->flags, n == 2 ? RECORD_TRUNCATED : 0);
        assert_int_equal(r->peer_port, 500 + n);
    }
    assert_int_equal(n, 4);
    for (size_t len = 0; len < 64; len++) {
        size_t sz = rec_batch_record_size(len);
        assert_true(sz >= sizeof(struct record) + len);
        assert_int_equal(sz % 8, 0);
        assert_true(sz < sizeof(struct record) + len + 8);
    }

    /* Fill until full: the failing add changes nothing. */
    while (rec_batch_add(b, "0123456789", 10, 0, 0))
        ;
    n = b->nrec;
    total = b->used;
    assert_true(b->size - b->used < rec_batch_record_size(10));
    assert_null(rec_batch_add(b, "0123456789", 10, 0, 0));
    assert_int_equal(b->nrec, n);
    assert_int_equal(b->used, total);

    rec_batch_clear(b);
    assert_null(rec_batch_first(b));
    assert_int_equal(b->has_pos, 0);
    assert_non_null(rec_batch_add(b, "again", 5, 1, 0));
    assert_memory_equal(rec_batch_first(b)->data, "again", 5);
    rec_batch_free(b);
    rec_batch_free(NULL);
}

static void test_record_batch_grows_for_first(void **state)
{
    struct rec_batch *b = rec_batch_new(1, 4096);
    size_t big_len = 100000;
    char *big = malloc(big_len);
    struct record *r;

    assert_non_null(b);
    assert_non_null(big);
    memset(big, 'q', big_len);
    big[big_len - 1] = 'Z';
    r = rec_batch_add(b, big, big_len, 5, 0);
    assert_non_null(r);
    assert_true(b->size >= rec_batch_record_size(big_len));
    r = rec_batch_first(b);
    assert_int_equal(r->len, big_len);
    assert_memory_equal(r->data, big, big_len);
    assert_null(rec_batch_next(b, r));
    /* Only the first record may grow the batch. */
    assert_null(rec_batch_add(b, big, big_len, 6, 0));
    assert_int_equal(b->nrec, 1);
    free(big);
    rec_batch_free(b);
}

static void test_record_batch_set_pos(void **state)
{
    struct rec_batch *b = rec_batch_new(2, 0);
    char path[32] = "/var/log/auth.log";
    struct file_pos p1 = {.dev = 64769, .ino = 1234567, .offset = 8192};
    struct file_pos p2 = {.dev = 64769, .ino = 7654321, .offset = 17};

    assert_non_null(b);
    assert_int_equal(b->size, 4096); /* small requests get the minimum */
    assert_int_equal(b->has_pos, 0);
    assert_int_equal(rec_batch_set_pos(b, path, &p1), 0);
    /* The path was copied. */
    strcpy(path, "/changed");
    assert_string_equal(b->path, "/var/log/auth.log");
    assert_int_equal(b->has_pos, 1);
    assert_true(b->pos.dev == p1.dev && b->pos.ino == p1.ino && b->pos.offset == p1.offset);
    assert_int_equal(rec_batch_set_pos(b, "/var/log/auth.log.1", &p2), 0);
    assert_string_equal(b->path, "/var/log/auth.log.1");
    assert_true(b->pos.ino == p2.ino && b->pos.offset == p2.offset);
    assert_int_equal(rec_batch_set_pos(b, "/var/log/auth.log.1", &p1), 0);
    assert_true(b->pos.offset == p1.offset);
    rec_batch_free(b);
}

/* Batches go through the queue in order, whole, and those left in it when
 * it is freed are freed with it (ASan's leak check fails otherwise). */
static void test_record_batch_queue(void **state)
{
    struct queue *q = rec_batch_queue_new(4);
    struct rec_batch *b[3];

    assert_non_null(q);
    for (uint32_t i = 0; i < 3; i++) {
        char line[16];
        int n = snprintf(line, sizeof(line), "line %u", i);

        b[i] = rec_batch_new(i, 64);
        assert_non_null(b[i]);
        assert_non_null(rec_batch_add(b[i], line, (size_t)n, i, 0));
        assert_int_equal(queue_push(q, b[i]), 0);
    }
    for (uint32_t i = 0; i < 2; i++) {
        struct rec_batch *got = queue_pop(q, 0);
        struct record *r;

        assert_ptr_equal(got, b[i]);
        assert_int_equal(got->input_id, i);
        r = rec_batch_first(got);
        assert_non_null(r);
        assert_int_equal(r->recv_us, i);
        rec_batch_free(got);
    }
    assert_int_equal(queue_depth(q), 1);
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_batch),
        cmocka_unit_test(test_record_batch_grows_for_first),
        cmocka_unit_test(test_record_batch_set_pos),
        cmocka_unit_test(test_record_batch_queue),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
