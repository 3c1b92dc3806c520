/*
 * test_input_reader.c - whole-file line reader (plain and gzip) and the
 * directory walk used by `hikeshi scan`.
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
#include <unistd.h>
#include <zlib.h>

#include "input/input_reader.h"
#include "input/record.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hikeshi-reader-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
    char *p;

    assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
    return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static char *read_whole(const char *path, size_t *ret_len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, k;

    assert_non_null(fp);
    do {
        if (cap - len < 65536) {
            cap = cap * 2 + 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        k = fread(buf + len, 1, cap - len, fp);
        len += k;
    } while (k > 0);
    fclose(fp);
    *ret_len = len;
    return buf;
}

static char *sample_path(void)
{
    const char *base = getenv("HIKESHI_SHARED");
    char *p;

    if (!base)
        base = "../shared";
    assert_true(asprintf(&p, "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log", base) > 0);
    return p;
}

/* All lines of a file, as the reader returns them; *ret_err gets the final
 * result (0 or a negative errno). */
struct lines {
    char **v;
    size_t *len;
    unsigned *flags;
    size_t n;
    int err;
};

static void read_lines(const char *path, size_t max_line, struct lines *out)
{
    struct line_reader *r;
    const char *l;
    size_t len;
    unsigned flags;
    int k;

    memset(out, 0, sizeof(*out));
    assert_int_equal(line_reader_open(path, max_line, &r), 0);
    while ((k = line_reader_next(r, &l, &len, &flags)) == 1) {
        assert_true(len <= max_line);
        out->v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
        out->len = realloc(out->len, (out->n + 1) * sizeof(*out->len));
        out->flags = realloc(out->flags, (out->n + 1) * sizeof(*out->flags));
        out->v[out->n] = malloc(len + 1);
        memcpy(out->v[out->n], l, len);
        out->v[out->n][len] = '\0';
        out->len[out->n] = len;
        out->flags[out->n] = flags;
        out->n++;
    }
    out->err = k;
    line_reader_free(r);
}

static void lines_free(struct lines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->v[i]);
    free(ls->v);
    free(ls->len);
    free(ls->flags);
}

static void test_plain_crlf_last_line(void **state)
{
    static const char data[] = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster\r\n"
                               "\n"
                               "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password\n"
                               "a\rb\n"
                               "Dec 10 09:12:35 LabSZ sshd[24492]: Connection closed";
    char *p = tmp_path("plain.log");
    struct lines ls;

    (void)state;
    write_file(p, data, sizeof(data) - 1);
    read_lines(p, 4096, &ls);
    assert_int_equal(ls.err, 0);
    assert_int_equal(ls.n, 5);
    assert_string_equal(ls.v[0], "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster");
    assert_string_equal(ls.v[1], "");
    assert_string_equal(ls.v[2], "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password");
    assert_string_equal(ls.v[3], "a\rb");
    assert_string_equal(ls.v[4], "Dec 10 09:12:35 LabSZ sshd[24492]: Connection closed");
    for (size_t i = 0; i < ls.n; i++)
        assert_int_equal(ls.flags[i], 0);
    lines_free(&ls);
    free(p);
}

static void test_long_lines_truncated(void **state)
{
    size_t big = 300000; /* spans several read buffers */
    char *data = malloc(big + 64);
    char *p = tmp_path("long.log");
    struct lines ls;
    size_t n = 0;

    (void)state;
    memcpy(data, "short\n", 6);
    n = 6;
    for (size_t i = 0; i < big; i++)
        data[n++] = (char)('a' + i % 26);
    memcpy(data + n, "\r\nabcdefghijklmnopq\nend\n", 24);
    n += 24;
    write_file(p, data, n);
    read_lines(p, 16, &ls);
    assert_int_equal(ls.err, 0);
    assert_int_equal(ls.n, 4);
    assert_string_equal(ls.v[0], "short");
    assert_int_equal(ls.flags[0], 0);
    assert_string_equal(ls.v[1], "abcdefghijklmnop");
    assert_int_equal(ls.flags[1], RECORD_TRUNCATED);
    assert_string_equal(ls.v[2], "abcdefghijklmnop");
    assert_int_equal(ls.flags[2], RECORD_TRUNCATED);
    assert_string_equal(ls.v[3], "end");
    assert_int_equal(ls.flags[3], 0);
    lines_free(&ls);
    free(data);
    free(p);
}

/* The real sample: 2000 lines, CRLF stripped, consumed == size at the end. */
static void test_real_sample(void **state)
{
    char *p = sample_path();
    struct line_reader *r;
    const char *l;
    size_t len, n = 0;
    unsigned flags;
    int k;

    (void)state;
    assert_int_equal(line_reader_open(p, 65536, &r), 0);
    assert_int_equal(line_reader_is_gzip(r), 0);
    while ((k = line_reader_next(r, &l, &len, &flags)) == 1) {
        assert_true(len > 0);
        assert_true(l[len - 1] != '\r');
        assert_memory_equal(l, "Dec ", 4);
        n++;
    }
    assert_int_equal(k, 0);
    assert_int_equal(n, 2000);
    assert_true(line_reader_size(r) > 0);
    assert_int_equal(line_reader_consumed(r), line_reader_size(r));
    line_reader_free(r);
    free(p);
}

static void gz_write(const char *path, const char *mode, const char *data, size_t n)
{
    gzFile gz = gzopen(path, mode);

    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(gz), Z_OK);
}

static void assert_same_lines(const struct lines *a, const struct lines *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a->len[i], b->len[i]);
        assert_string_equal(a->v[i], b->v[i]);
        assert_int_equal(a->flags[i], b->flags[i]);
    }
}

static void test_gzip_single_and_multi(void **state)
{
    char *sp = sample_path();
    char *gz1 = tmp_path("ssh.log.gz");
    char *gz2 = tmp_path("ssh-multi.log.gz");
    size_t len, half;
    char *data = read_whole(sp, &len);
    struct lines plain, ls;
    struct line_reader *r;

    (void)state;
    read_lines(sp, 65536, &plain);
    assert_int_equal(plain.n, 2000);

    gz_write(gz1, "wb", data, len);
    assert_int_equal(line_reader_open(gz1, 65536, &r), 0);
    assert_int_equal(line_reader_is_gzip(r), 1);
    line_reader_free(r);
    read_lines(gz1, 65536, &ls);
    assert_int_equal(ls.err, 0);
    assert_int_equal(ls.n, 2000);
    assert_same_lines(&plain, &ls, 2000);
    lines_free(&ls);

    /* Two members, split in the middle of a line ("ab" appends a member). */
    half = len / 2 + 7;
    gz_write(gz2, "wb", data, half);
    gz_write(gz2, "ab", data + half, len - half);
    read_lines(gz2, 65536, &ls);
    assert_int_equal(ls.err, 0);
    assert_int_equal(ls.n, 2000);
    assert_same_lines(&plain, &ls, 2000);
    lines_free(&ls);

    lines_free(&plain);
    free(data);
    free(sp);
    free(gz1);
    free(gz2);
}

/* A gzip file cut short, or corrupted: the good lines, then -EBADMSG. */
static void test_gzip_truncated_and_corrupt(void **state)
{
    char *sp = sample_path();
    char *gz = tmp_path("t.log.gz");
    char *cut = tmp_path("cut.log.gz");
    char *bad = tmp_path("bad.log.gz");
    size_t len, glen;
    char *data = read_whole(sp, &len);
    char *gdata;
    struct lines plain, ls;

    (void)state;
    read_lines(sp, 65536, &plain);
    gz_write(gz, "wb", data, len);
    gdata = read_whole(gz, &glen);

    write_file(cut, gdata, glen / 2);
    read_lines(cut, 65536, &ls);
    assert_int_equal(ls.err, -EBADMSG);
    assert_true(ls.n > 100);
    assert_true(ls.n < 2000);
    assert_same_lines(&plain, &ls, ls.n);
    lines_free(&ls);

    for (size_t i = glen / 2; i < glen / 2 + 64; i++)
        gdata[i] ^= 0x5a;
    write_file(bad, gdata, glen);
    read_lines(bad, 65536, &ls);
    assert_int_equal(ls.err, -EBADMSG);
    /* Corrupt deflate data may decode to garbage for a while before the
     * error (at the latest the CRC) shows; the lines well before the damaged
     * half are intact. */
    assert_true(ls.n >= 100);
    assert_same_lines(&plain, &ls, 100);
    lines_free(&ls);

    lines_free(&plain);
    free(data);
    free(gdata);
    free(sp);
    free(gz);
    free(cut);
    free(bad);
}

static void test_open_errors(void **state)
{
    struct line_reader *r = (struct line_reader *)(uintptr_t)1;
    char *p = tmp_path("does-not-exist");

    (void)state;
    assert_int_equal(line_reader_open(p, 100, &r), -ENOENT);
    assert_null(r);
    assert_int_equal(line_reader_open(tmpdir, 100, &r), -EISDIR);
    line_reader_free(NULL);
    free(p);
}

struct walk_log {
    char buf[4096];
    char errs[1024];
    int nerr;
};

static int walk_cb(void *arg, const char *file)
{
    struct walk_log *w = arg;

    strcat(w->buf, file + strlen(tmpdir));
    strcat(w->buf, " ");
    return 0;
}

static void walk_err(void *arg, const char *path, int err)
{
    struct walk_log *w = arg;
    char e[300];

    snprintf(e, sizeof(e), "%s:%d ", path + strlen(tmpdir), err);
    strcat(w->errs, e);
    w->nerr++;
}

static int walk_stop_cb(void *arg, const char *file)
{
    int *n = arg;

    (void)file;
    return ++*n == 2 ? 7 : 0;
}

static void test_walk(void **state)
{
    static const char *files[] = {"w/b.log", "w/a/z.log", "w/a/sub/x.log", "w/c/1.log",
                                  "w/a.log", "w/a/sub/y.log.gz"};
    struct walk_log w;
    char *p;
    int n = 0;

    (void)state;
    memset(&w, 0, sizeof(w));
    p = tmp_path("w");
    assert_int_equal(mkdir(p, 0700), 0);
    free(p);
    p = tmp_path("w/a");
    assert_int_equal(mkdir(p, 0700), 0);
    free(p);
    p = tmp_path("w/a/sub");
    assert_int_equal(mkdir(p, 0700), 0);
    free(p);
    p = tmp_path("w/c");
    assert_int_equal(mkdir(p, 0700), 0);
    free(p);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        p = tmp_path(files[i]);
        write_file(p, "x\n", 2);
        free(p);
    }
    /* A link to a directory is not followed; a link to a file is read; a
     * dangling link is reported. */
    p = tmp_path("w/d-link");
    assert_int_equal(symlink("a", p), 0);
    free(p);
    p = tmp_path("w/e-link.log");
    assert_int_equal(symlink("b.log", p), 0);
    free(p);
    p = tmp_path("w/f-dangling");
    assert_int_equal(symlink("nowhere", p), 0);
    free(p);
    /* An unreadable file (only unreadable when not running as root). */
    p = tmp_path("w/g-secret.log");
    write_file(p, "x\n", 2);
    assert_int_equal(chmod(p, 0), 0);
    free(p);

    p = tmp_path("w");
    assert_int_equal(input_walk(p, walk_cb, walk_err, &w), 0);
    if (geteuid() == 0) {
        assert_string_equal(w.buf, "/w/a/sub/x.log /w/a/sub/y.log.gz /w/a/z.log /w/a.log "
                                   "/w/b.log /w/c/1.log /w/e-link.log /w/g-secret.log ");
        assert_int_equal(w.nerr, 1);
        assert_string_equal(w.errs, "/w/f-dangling:-2 ");
    } else {
        assert_string_equal(w.buf, "/w/a/sub/x.log /w/a/sub/y.log.gz /w/a/z.log /w/a.log "
                                   "/w/b.log /w/c/1.log /w/e-link.log ");
        assert_int_equal(w.nerr, 2);
        assert_string_equal(w.errs, "/w/f-dangling:-2 /w/g-secret.log:-13 ");
    }
    /* A callback's non-zero result stops the walk. */
    assert_int_equal(input_walk(p, walk_stop_cb, NULL, &n), 7);
    assert_int_equal(n, 2);
    free(p);

    /* A single file, "-", and a missing path. */
    memset(&w, 0, sizeof(w));
    p = tmp_path("w/b.log");
    assert_int_equal(input_walk(p, walk_cb, walk_err, &w), 0);
    assert_string_equal(w.buf, "/w/b.log ");
    free(p);
    p = tmp_path("missing");
    assert_int_equal(input_walk(p, walk_cb, walk_err, &w), 0);
    assert_int_equal(w.nerr, 1);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_crlf_last_line),
        cmocka_unit_test(test_long_lines_truncated),
        cmocka_unit_test(test_real_sample),
        cmocka_unit_test(test_gzip_single_and_multi),
        cmocka_unit_test(test_gzip_truncated_and_corrupt),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_walk),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
