/*
 * test_input_file.c - following a file like tail -F: new lines, rotation
 * by rename, truncation, saved positions and restarts (every line exactly
 * once), and partial lines held back until their newline.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "input/input.h"
#include "input/record.h"
#include "util/queue.h"

static char tmpdir[256];

/* Real lines (OpenSSH_2k.log); each test line is "<tag> <n> <sample>". */
static const char *sample[] = {
    "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
    ("Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from "
     "173.234.31.186 port 38926 ssh2"),
    "Dec 10 07:07:38 LabSZ sshd[24206]: Invalid user test9 from 52.80.34.196",
};

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hikeshi-file-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *tpath(const char *name)
{
    char *p;

    assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
    return p;
}

static void append(const char *path, const char *tag, int from, int to)
{
    FILE *fp = fopen(path, "a");

    assert_non_null(fp);
    for (int i = from; i < to; i++)
        fprintf(fp, "%s %d %s\n", tag, i, sample[i % 3]);
    assert_int_equal(fclose(fp), 0);
}

static void append_raw(const char *path, const char *s)
{
    FILE *fp = fopen(path, "a");

    assert_non_null(fp);
    fputs(s, fp);
    assert_int_equal(fclose(fp), 0);
}

struct seen {
    char **v;
    size_t n;
    struct file_pos pos; /* of the last batch */
    char *path;          /* of the last batch */
};

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

static void take(struct seen *s, struct rec_batch *b)
{
    assert_int_equal(b->has_pos, 1);
    assert_non_null(b->path);
    for (struct record *r = rec_batch_first(b); r; r = rec_batch_next(b, r)) {
        s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n] = malloc(r->len + 1);
        memcpy(s->v[s->n], r->data, r->len);
        s->v[s->n][r->len] = '\0';
        s->n++;
    }
    s->pos = b->pos;
    free(s->path);
    s->path = strdup(b->path);
    rec_batch_free(b);
}

/* Pops until `want` records in total or 10 s passed. */
static void wait_for(struct queue *q, struct seen *s, size_t want)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (s->n < want) {
        struct rec_batch *b = queue_pop(q, 50);

        if (b)
            take(s, b);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10)
            break;
    }
}

/* Nothing more arrives within `ms`. */
static void assert_quiet(struct queue *q, int ms)
{
    struct rec_batch *b = queue_pop(q, ms);

    if (b) {
        struct record *r = rec_batch_first(b);

        fail_msg("unexpected record '%.*s'", r ? (int)r->len : 0, r ? r->data : "");
    }
}

/* The records seen are tag from..to-1, in order, starting at index `at`. */
static void assert_lines(const struct seen *s, size_t at, const char *tag, int from, int to)
{
    for (int i = from; i < to; i++) {
        char want[512];

        snprintf(want, sizeof(want), "%s %d %s", tag, i, sample[i % 3]);
        assert_true(at < s->n);
        assert_string_equal(s->v[at], want);
        at++;
    }
}

static void conf_init(struct input_conf *c, const char *path, int from_start)
{
    memset(c, 0, sizeof(*c));
    c->id = 1;
    c->name = "file";
    c->type = INPUT_FILE;
    c->path = path;
    c->max_line = 4096;
    c->from_start = from_start;
    c->poll_ms = 20;
}

static void file_id(const char *path, struct file_pos *ret)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    ret->dev = (uint64_t)st.st_dev;
    ret->ino = (uint64_t)st.st_ino;
    ret->offset = (uint64_t)st.st_size;
}

/* New lines arrive; a partial line waits for its newline; rotation by
 * rename and truncation are followed. */
static void test_follow_rotate_truncate(void **state)
{
    char *path = tpath("app.log"), *rot = tpath("app.log.1");
    struct queue *q = rec_batch_queue_new(64);
    struct input_stats st;
    struct input_conf c;
    struct input *in;
    struct seen s = {0};
    struct file_pos id;
    char err[256];

    (void)state;
    memset(&st, 0, sizeof(st));
    append(path, "old", 0, 5); /* before start: skipped (from the end) */
    conf_init(&c, path, 0);
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), 0);
    assert_quiet(q, 200);
    append(path, "a", 0, 10);
    wait_for(q, &s, 10);
    assert_int_equal(s.n, 10);
    assert_lines(&s, 0, "a", 0, 10);
    file_id(path, &id);
    assert_int_equal(s.pos.dev, id.dev);
    assert_int_equal(s.pos.ino, id.ino);
    assert_int_equal(s.pos.offset, id.offset);
    assert_string_equal(s.path, path);

    /* A partial line is held until its newline arrives. */
    append_raw(path, "a 10 Dec 10 06:55:48 LabSZ sshd[24200]: Failed password");
    assert_quiet(q, 300);
    append_raw(path, " for invalid user webmaster from 173.234.31.186 port 38926 ssh2\r\n");
    wait_for(q, &s, 11);
    assert_lines(&s, 0, "a", 0, 11); /* CR stripped */

    /* Rotation: the last lines of the old file, then the new file. */
    append(path, "a", 11, 15);
    assert_int_equal(rename(path, rot), 0);
    append(path, "b", 0, 6);
    wait_for(q, &s, 21);
    assert_int_equal(s.n, 21);
    assert_lines(&s, 0, "a", 0, 15);
    assert_lines(&s, 15, "b", 0, 6);
    assert_int_equal(st.rotations, 1);
    file_id(path, &id);
    assert_int_equal(s.pos.ino, id.ino);
    assert_int_equal(s.pos.offset, id.offset);

    /* Truncation in place: read again from 0. */
    assert_int_equal(truncate(path, 0), 0);
    usleep(100000);
    append(path, "c", 0, 3);
    wait_for(q, &s, 24);
    assert_int_equal(s.n, 24);
    assert_lines(&s, 21, "c", 0, 3);
    assert_int_equal(st.rotations, 2);

    /* Written just before stop: delivered; a partial line is not. */
    append(path, "c", 3, 5);
    append_raw(path, "c 5 partial");
    input_stop(in);
    wait_for(q, &s, 26);
    assert_int_equal(s.n, 26);
    assert_lines(&s, 24, "c", 3, 5);
    assert_quiet(q, 100);
    file_id(path, &id);
    assert_int_equal(s.pos.offset, id.offset - strlen("c 5 partial"));
    assert_int_equal(st.records, 26);

    input_free(in);
    queue_free(q);
    seen_free(&s);
    free(path);
    free(rot);
}

/* A file that does not exist yet is waited for; from_start reads it all;
 * a long line is truncated. */
static void test_wait_and_from_start(void **state)
{
    char *path = tpath("late.log");
    struct queue *q = rec_batch_queue_new(64);
    struct input_stats st;
    struct input_conf c;
    struct input *in;
    struct seen s = {0};
    char err[256], big[300];

    (void)state;
    memset(&st, 0, sizeof(st));
    conf_init(&c, path, 1);
    c.max_line = 256;
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), 0);
    assert_quiet(q, 100);
    append(path, "l", 0, 4);
    memset(big, 'z', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\0';
    append_raw(path, big);
    wait_for(q, &s, 5);
    assert_int_equal(s.n, 5);
    assert_lines(&s, 0, "l", 0, 4);
    assert_int_equal(strlen(s.v[4]), 256);
    assert_int_equal(st.truncated, 1);
    input_stop(in);
    input_free(in);
    queue_free(q);
    seen_free(&s);
    free(path);
}

/*
 * Restart: positions saved from the batches; while stopped the file grows,
 * is rotated, and the new file grows.  Starting again with the saved
 * position reads the rest of the rotated file, then the new one: every line
 * exactly once.  Also: a saved position in the same file.
 */
static void test_restart_exactly_once(void **state)
{
    char *path = tpath("svc.log"), *rot = tpath("svc.log-20260101");
    struct queue *q = rec_batch_queue_new(64);
    struct input_stats st;
    struct input_conf c;
    struct input *in;
    struct seen s = {0};
    struct file_pos saved;
    char err[256];

    (void)state;
    memset(&st, 0, sizeof(st));
    append(path, "r", 0, 20);
    conf_init(&c, path, 1);
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), 0);
    wait_for(q, &s, 20);
    assert_int_equal(s.n, 20);
    input_stop(in);
    input_free(in);
    saved = s.pos;

    /* Same file, grown while stopped. */
    append(path, "r", 20, 25);
    assert_int_equal(input_start(&c, q, &st, &saved, &in, err, sizeof(err)), 0);
    wait_for(q, &s, 25);
    input_stop(in);
    input_free(in);
    assert_int_equal(s.n, 25);
    assert_lines(&s, 0, "r", 0, 25);
    saved = s.pos;

    /* Grown, rotated, new file grown, all while stopped. */
    append(path, "r", 25, 30);
    append_raw(path, "r 30 ");
    append_raw(path, sample[0]);
    append_raw(path, "\n");
    assert_int_equal(rename(path, rot), 0);
    append(path, "s", 0, 7);
    assert_int_equal(input_start(&c, q, &st, &saved, &in, err, sizeof(err)), 0);
    wait_for(q, &s, 38);
    assert_int_equal(s.n, 38);
    assert_lines(&s, 0, "r", 0, 31);
    assert_lines(&s, 31, "s", 0, 7);
    assert_quiet(q, 200);
    assert_int_equal(st.rotations, 1);
    input_stop(in);
    input_free(in);
    saved = s.pos;
    {
        struct file_pos id;

        file_id(path, &id);
        assert_int_equal(saved.ino, id.ino);
        assert_int_equal(saved.offset, id.offset);
    }

    /* Restarting on an unchanged file repeats nothing. */
    assert_int_equal(input_start(&c, q, &st, &saved, &in, err, sizeof(err)), 0);
    assert_quiet(q, 300);
    append(path, "s", 7, 9);
    wait_for(q, &s, 40);
    assert_int_equal(s.n, 40);
    assert_lines(&s, 38, "s", 7, 9);
    input_stop(in);
    input_free(in);

    /* A saved offset beyond the end of the same file: it was truncated. */
    saved = s.pos;
    assert_int_equal(truncate(path, 0), 0);
    append(path, "t", 0, 2);
    assert_int_equal(input_start(&c, q, &st, &saved, &in, err, sizeof(err)), 0);
    wait_for(q, &s, 42);
    assert_int_equal(s.n, 42);
    assert_lines(&s, 40, "t", 0, 2);
    input_stop(in);
    input_free(in);

    queue_free(q);
    seen_free(&s);
    free(path);
    free(rot);
}

static void test_errors(void **state)
{
    struct queue *q = rec_batch_queue_new(4);
    struct input_stats st;
    struct input_conf c;
    struct input *in = NULL;
    char err[256];

    (void)state;
    memset(&st, 0, sizeof(st));
    conf_init(&c, "", 1);
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), -EINVAL);
    assert_null(in);
    /* max_line 0 is refused. */
    conf_init(&c, tmpdir, 1);
    c.max_line = 0;
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), -EINVAL);
    input_free(NULL);
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow_rotate_truncate),
        cmocka_unit_test(test_wait_and_from_start),
        cmocka_unit_test(test_restart_exactly_once),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
