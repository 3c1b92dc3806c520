/*
 * decode_testlib.c - shared scaffolding of the decoder unit tests.
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

#include "decode_testlib.h"
#include "event/event.h"
#include "util/arena.h"

static struct arena arena;
static struct decode_ctx ctx = {.ref_us = DECODE_TESTLIB_T2023};
static int64_t recv_us = DECODE_TESTLIB_T2023;
/* The heap copy the last run decoded; ev->raw points into it. */
static char *copy;

void decode_testlib_set_clock(int64_t ref_us, int64_t recv)
{
    ctx.ref_us = ref_us;
    recv_us = recv;
}

int decode_testlib_setup(void **state)
{
    (void)state;
    arena_init(&arena, 0);
    field_init();
    return 0;
}

int decode_testlib_teardown(void **state)
{
    (void)state;
    free(copy);
    copy = NULL;
    arena_done(&arena);
    field_done();
    return 0;
}

struct decode_ctx decode_testlib_ctx(void)
{
    return ctx;
}

const char *decode_testlib_shared_dir(void)
{
    static char buf[4096];
    const char *s = getenv("HIKESHI_SHARED"), *src = getenv("HIKESHI_SOURCE");

    if (s && *s)
        return s;
    snprintf(buf, sizeof(buf), "%s/../shared", src && *src ? src : "..");
    return buf;
}

char *decode_testlib_read(const char *rel, size_t *ret_n)
{
    char path[8192];
    FILE *f;
    char *b;
    long n;

    snprintf(path, sizeof(path), "%s/%s", decode_testlib_shared_dir(), rel);
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
    b[n] = '\0';
    *ret_n = (size_t)n;
    return b;
}

int decode_testlib_run_ctx(decode_fn fn, const struct decode_ctx *c, struct event *ev,
                           const char *line, size_t len, struct parse_err *perr)
{
    free(copy);
    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, line, len);
    arena_reset(&arena);
    event_init(ev, &arena, copy, len, recv_us);
    memset(perr, 0, sizeof(*perr));
    return fn(ev, copy, len, c, perr);
}

int decode_testlib_run(decode_fn fn, struct event *ev, const char *line, size_t len,
                       struct parse_err *perr)
{
    return decode_testlib_run_ctx(fn, &ctx, ev, line, len, perr);
}

int decode_testlib_run_msg(decode_fn fn, struct event *ev, struct parse_err *perr)
{
    return fn(ev, ev->msg, ev->msg_len, &ctx, perr);
}

int decode_testlib_run_chain(decode_fn hdr, decode_fn fn, struct event *ev, const char *line,
                             size_t len, struct parse_err *perr, uint32_t *ret_before)
{
    int r = decode_testlib_run(hdr, ev, line, len, perr);

    if (r != 0)
        fail_msg("'%s': header ret %d (%s)", line, r, perr->msg ? perr->msg : "");
    *ret_before = ev->nfields;
    return decode_testlib_run_msg(fn, ev, perr);
}

void decode_testlib_expect_field(const struct event *ev, const char *name, const char *want,
                                 const char *line)
{
    size_t n = 0;
    uint32_t id = field_lookup(name, strlen(name));
    const char *v = id ? event_get(ev, id, &n) : NULL;

    if (!line)
        line = "";
    if (!want) {
        if (v)
            fail_msg("%s: field %s: want absent, got \"%.*s\"", line, name, (int)n, v);
        return;
    }
    if (!v)
        fail_msg("%s: field %s: want \"%s\", absent", line, name, want);
    if (n != strlen(want) || memcmp(v, want, n) != 0)
        fail_msg("%s: field %s: want \"%s\", got \"%.*s\"", line, name, want, (int)n, v);
}

void decode_testlib_expect_fields(const struct event *ev, const char *const *pairs,
                                  const char *line)
{
    for (size_t k = 0; pairs[k]; k += 2)
        decode_testlib_expect_field(ev, pairs[k], pairs[k + 1], line);
}

void decode_testlib_expect_ret(size_t c, const char *line, int r, int want,
                               const struct parse_err *perr)
{
    if (r != want)
        fail_msg("case %zu '%s': ret %d, want %d (%s)", c, line, r, want,
                 perr->msg ? perr->msg : "");
    if (r == -EINVAL)
        assert_non_null(perr->msg);
}

void decode_testlib_expect_msg(const struct event *ev, const char *want)
{
    assert_int_equal(ev->msg_len, strlen(want));
    assert_memory_equal(ev->msg, want, ev->msg_len);
}

void decode_testlib_check_good(decode_fn fn, const char *decoder,
                               const struct decode_testlib_good *g, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run(fn, &ev, g[c].line, strlen(g[c].line), &perr);

        if (r != 0)
            fail_msg("case %zu: r=%d at %zu: %s", c, r, perr.off, perr.msg ? perr.msg : "");
        assert_string_equal(ev.decoder, decoder);
        for (const struct decode_testlib_kv *f = g[c].f; f->name; f++)
            decode_testlib_expect_field(&ev, f->name, f->want, g[c].line);
    }
}

void decode_testlib_expect_bad(decode_fn fn, size_t c, const char *line, size_t len, int want,
                               size_t off)
{
    struct event ev;
    struct parse_err perr;
    int r = decode_testlib_run(fn, &ev, line, len, &perr);

    if (r != want)
        fail_msg("case %zu: want %d got %d", c, want, r);
    if (r == -EINVAL) {
        assert_non_null(perr.msg);
        if (perr.off != off)
            fail_msg("case %zu: want offset %zu got %zu (%s)", c, off, perr.off, perr.msg);
    }
    if (r == -ENOENT)
        assert_int_equal(ev.nfields, 0);
    if (r != 0)
        assert_null(ev.decoder);
}

void decode_testlib_check_bad(decode_fn fn, const struct decode_testlib_bad *b, size_t n)
{
    for (size_t c = 0; c < n; c++)
        decode_testlib_expect_bad(fn, c, b[c].line, strlen(b[c].line), b[c].want, b[c].off);
}

void decode_testlib_lines_open(struct decode_testlib_lines *it, const char *rel)
{
    it->buf = decode_testlib_read(rel, &it->len);
    it->pos = 0;
}

int decode_testlib_lines_next(struct decode_testlib_lines *it, char **ret_line, size_t *ret_len)
{
    while (it->pos < it->len) {
        char *line = it->buf + it->pos;
        char *nl = memchr(line, '\n', it->len - it->pos);
        size_t n = nl ? (size_t)(nl - line) : it->len - it->pos;

        it->pos += n + (nl != NULL);
        while (n && line[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        line[n] = '\0';
        *ret_line = line;
        *ret_len = n;
        return 1;
    }
    return 0;
}

void decode_testlib_lines_close(struct decode_testlib_lines *it)
{
    free(it->buf);
    it->buf = NULL;
}
