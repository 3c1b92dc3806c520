/*
 * test_input_framing.c - RFC 6587 framer: octet counting, newline framing,
 * truncation, and independence from how the stream is chunked.
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

#include "input/input_framing.h"
#include "input/record.h"

struct frame {
    char *data;
    size_t len;
    unsigned flags;
};

struct collect {
    struct frame *v;
    size_t n, cap;
    size_t max_line;
    int stop_after; /* return non-zero after this many frames (0: never) */
};

static int collect_cb(void *arg, const char *frame, size_t len, unsigned flags)
{
    struct collect *c = arg;

    assert_true(len <= c->max_line);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = realloc(c->v, c->cap * sizeof(*c->v));
        assert_non_null(c->v);
    }
    c->v[c->n].data = malloc(len ? len : 1);
    assert_non_null(c->v[c->n].data);
    memcpy(c->v[c->n].data, frame, len);
    c->v[c->n].len = len;
    c->v[c->n].flags = flags;
    c->n++;
    if (c->stop_after && (int)c->n == c->stop_after)
        return 42;
    return 0;
}

static void collect_free(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].data);
    free(c->v);
    memset(c, 0, sizeof(*c));
}

/* Feeds `s` in chunks chosen by `mode`: 0 whole, 1 one byte at a time,
 * otherwise random sizes from seed `mode`. */
static void run_framer(const char *s, size_t n, size_t max_line, unsigned mode,
                       struct collect *c)
{
    struct framer f;
    size_t i = 0;

    memset(c, 0, sizeof(*c));
    c->max_line = max_line;
    assert_int_equal(framer_init(&f, max_line), 0);
    srand(mode);
    while (i < n) {
        size_t k;

        if (mode == 0)
            k = n - i;
        else if (mode == 1)
            k = 1;
        else
            k = 1 + (size_t)rand() % 37;
        if (k > n - i)
            k = n - i;
        assert_int_equal(framer_feed(&f, s + i, k, collect_cb, c), 0);
        assert_true(f.len <= f.max_line);
        i += k;
    }
    assert_int_equal(framer_finish(&f, collect_cb, c), 0);
    framer_done(&f);
}

static void assert_same_frames(const struct collect *a, const struct collect *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->v[i].len, b->v[i].len);
        assert_int_equal(a->v[i].flags, b->v[i].flags);
        assert_memory_equal(a->v[i].data, b->v[i].data, a->v[i].len);
    }
}

struct want {
    const char *data;
    unsigned flags;
};

struct fcase {
    const char *name;
    const char *stream;
    size_t max_line;
    struct want want[8];
};

#define SSH1 "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186"
#define SSH2 "Dec 10 06:55:46 LabSZ sshd[24200]: input_userauth_request: invalid user webmaster [preauth]"
#define SSH3 "Dec 10 07:07:38 LabSZ sshd[24206]: Failed password for invalid user test9 from 52.80.34.196 port 36060 ssh2"
#define RFC5424 "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8"

static const struct fcase cases[] = {
    {"newline LF", SSH1 "\n" SSH2 "\n", 4096, {{SSH1, 0}, {SSH2, 0}}},
    {"newline CRLF", SSH1 "\r\n" SSH2 "\r\n", 4096, {{SSH1, 0}, {SSH2, 0}}},
    {"NUL delimiter", SSH1 "\0" SSH2 "\0", 4096, {{SSH1, 0}, {SSH2, 0}}},
    {"empty lines skipped", "\n\r\n\n" SSH1 "\n\n\n" SSH2 "\n", 4096, {{SSH1, 0}, {SSH2, 0}}},
    {"lone CR is content", "<13>a\rb\n", 4096, {{"<13>a\rb", 0}}},
    {"octet counting", "107 " RFC5424 "77 " SSH1, 4096, {{RFC5424, 0}, {SSH1, 0}}},
    {"octet counting with trailing LF in frame", "78 " SSH1 "\n", 4096, {{SSH1, 0}}},
    {"octet then LF between frames", "77 " SSH1 "\n107 " RFC5424 "\n", 4096,
     {{SSH1, 0}, {RFC5424, 0}}},
    {"mixed octet and newline", "77 " SSH1 SSH2 "\n107 " RFC5424 SSH3 "\n", 4096,
     {{SSH1, 0}, {SSH2, 0}, {RFC5424, 0}, {SSH3, 0}}},
    {"digits not followed by space are a line", "2024-01-01 host msg\n123\n42x y\n", 4096,
     {{"2024-01-01 host msg", 0}, {"123", 0}, {"42x y", 0}}},
    {"too many count digits are a line", "1234567890 hello\n", 4096, {{"1234567890 hello", 0}}},
    {"zero count is an empty frame", "0 " SSH1 "\n", 4096, {{SSH1, 0}}},
    {"newline truncation", "abcdefghij\nxy\n", 4, {{"abcd", RECORD_TRUNCATED}, {"xy", 0}}},
    {"newline exactly max_line with CRLF", "abcd\r\nabcde\r\n", 4,
     {{"abcd", 0}, {"abcd", RECORD_TRUNCATED}}},
    {"octet truncation skips the rest", "10 abcdefghij3 xyz", 4,
     {{"abcd", RECORD_TRUNCATED}, {"xyz", 0}}},
    {"count digits longer than max_line", "123456789\n", 4, {{"1234", RECORD_TRUNCATED}}},
    {"finish delivers partial line", SSH1 "\n" SSH2, 4096, {{SSH1, 0}, {SSH2, 0}}},
    {"finish drops a trailing CR", SSH1 "\r", 4096, {{SSH1, 0}}},
    {"finish delivers short octet frame truncated", "77 " SSH1 "\n20 abc", 4096,
     {{SSH1, 0}, {"abc", RECORD_TRUNCATED}}},
    {"finish delivers lone digits", "12345", 4096, {{"12345", 0}}},
    {"finish with nothing pending", SSH1 "\n", 4096, {{SSH1, 0}}},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct fcase *tc = &cases[k];
        /* Streams with NUL need their full literal length. */
        size_t n = strlen(tc->stream);
        size_t nwant = 0;

        if (strcmp(tc->name, "NUL delimiter") == 0)
            n = sizeof(SSH1 "\0" SSH2 "\0") - 1;
        while (nwant < 8 && tc->want[nwant].data)
            nwant++;
        for (unsigned mode = 0; mode < 12; mode++) {
            struct collect c;

            run_framer(tc->stream, n, tc->max_line, mode, &c);
            if (c.n != nwant)
                fail_msg("%s (mode %u): %zu frames, want %zu", tc->name, mode, c.n, nwant);
            for (size_t i = 0; i < nwant; i++) {
                size_t wl = strlen(tc->want[i].data);

                if (c.v[i].len != wl || memcmp(c.v[i].data, tc->want[i].data, wl) != 0 ||
                    c.v[i].flags != tc->want[i].flags)
                    fail_msg("%s (mode %u): frame %zu is '%.*s' flags %u", tc->name, mode, i,
                             (int)c.v[i].len, c.v[i].data, c.v[i].flags);
            }
            collect_free(&c);
        }
    }
}

static char *shared_path(const char *rel)
{
    const char *base = getenv("HIKESHI_SHARED");
    char *p;

    if (!base)
        base = "../shared";
    assert_true(asprintf(&p, "%s/%s", base, rel) > 0);
    return p;
}

/*
 * The 2000 lines of a real sshd log sent as one stream, alternating octet
 * counting, LF and CRLF framing; whatever the chunking, every line comes back
 * once, in order, intact.
 */
static void test_real_stream_every_split(void **state)
{
    char *path = shared_path("data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log");
    FILE *fp = fopen(path, "r");
    char line[8192];
    char *stream = NULL;
    size_t slen = 0;
    FILE *ms;
    char **lines = NULL;
    size_t nlines = 0;
    struct collect ref, c;

    (void)state;
    assert_non_null(fp);
    ms = open_memstream(&stream, &slen);
    assert_non_null(ms);
    while (fgets(line, sizeof(line), fp)) {
        size_t l = strlen(line);

        /* The sample has CRLF line ends; trailing spaces are content. */
        if (l && line[l - 1] == '\n')
            line[--l] = '\0';
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        lines = realloc(lines, (nlines + 1) * sizeof(*lines));
        lines[nlines] = strdup(line);
        switch (nlines % 3) {
        case 0:
            fprintf(ms, "%zu %s", l, line);
            break;
        case 1:
            fprintf(ms, "%s\n", line);
            break;
        default:
            fprintf(ms, "%s\r\n", line);
            break;
        }
        nlines++;
    }
    fclose(fp);
    fclose(ms);
    assert_int_equal(nlines, 2000);

    run_framer(stream, slen, 4096, 0, &ref);
    assert_int_equal(ref.n, 2000);
    for (size_t i = 0; i < nlines; i++) {
        assert_int_equal(ref.v[i].len, strlen(lines[i]));
        assert_memory_equal(ref.v[i].data, lines[i], ref.v[i].len);
        assert_int_equal(ref.v[i].flags, 0);
    }
    for (unsigned mode = 1; mode < 8; mode++) {
        run_framer(stream, slen, 4096, mode, &c);
        assert_same_frames(&ref, &c);
        collect_free(&c);
    }
    /* A small cap truncates long lines the same way whatever the split. */
    collect_free(&ref);
    run_framer(stream, slen, 64, 0, &ref);
    assert_int_equal(ref.n, 2000);
    for (size_t i = 0; i < nlines; i++) {
        size_t l = strlen(lines[i]);

        assert_int_equal(ref.v[i].len, l > 64 ? 64 : l);
        assert_int_equal(ref.v[i].flags, l > 64 ? RECORD_TRUNCATED : 0);
        assert_memory_equal(ref.v[i].data, lines[i], ref.v[i].len);
    }
    for (unsigned mode = 1; mode < 8; mode++) {
        run_framer(stream, slen, 64, mode, &c);
        assert_same_frames(&ref, &c);
        collect_free(&c);
    }
    collect_free(&ref);
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(lines);
    free(stream);
    free(path);
}

/* Every split point of a mixed stream, two chunks each. */
static void test_every_split_point(void **state)
{
    static const char s[] = "77 " SSH1 SSH2 "\r\n\n107 " RFC5424 "abcdefgh\n";
    size_t n = sizeof(s) - 1;
    struct collect ref;

    (void)state;
    run_framer(s, n, 80, 0, &ref);
    assert_int_equal(ref.n, 4);
    assert_int_equal(ref.v[1].flags, RECORD_TRUNCATED); /* SSH2 is 91 bytes */
    assert_int_equal(ref.v[2].flags, RECORD_TRUNCATED); /* RFC5424 is 107 */
    for (size_t cut = 0; cut <= n; cut++) {
        struct framer f;
        struct collect c;

        memset(&c, 0, sizeof(c));
        c.max_line = 80;
        assert_int_equal(framer_init(&f, 80), 0);
        assert_int_equal(framer_feed(&f, s, cut, collect_cb, &c), 0);
        assert_int_equal(framer_feed(&f, s + cut, n - cut, collect_cb, &c), 0);
        assert_int_equal(framer_finish(&f, collect_cb, &c), 0);
        framer_done(&f);
        assert_same_frames(&ref, &c);
        collect_free(&c);
    }
    collect_free(&ref);
}

/* A huge octet count is skipped without being buffered, and the framer
 * never holds more than max_line. */
static void test_huge_frame_not_buffered(void **state)
{
    struct framer f;
    struct collect c;
    char chunk[1000];

    (void)state;
    memset(&c, 0, sizeof(c));
    c.max_line = 256;
    memset(chunk, 'A', sizeof(chunk));
    assert_int_equal(framer_init(&f, 256), 0);
    assert_int_equal(framer_feed(&f, "100000 ", 7, collect_cb, &c), 0);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(framer_feed(&f, chunk, sizeof(chunk), collect_cb, &c), 0);
        assert_true(f.len <= 256);
    }
    assert_int_equal(c.n, 1);
    assert_int_equal(c.v[0].len, 256);
    assert_int_equal(c.v[0].flags, RECORD_TRUNCATED);
    assert_int_equal(framer_feed(&f, "ok\n", 3, collect_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.v[1].data, "ok", 2);
    framer_done(&f);
    collect_free(&c);
}

/* A callback's non-zero result stops the feed and comes back. */
static void test_callback_stops(void **state)
{
    struct framer f;
    struct collect c;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.max_line = 100;
    c.stop_after = 2;
    assert_int_equal(framer_init(&f, 100), 0);
    assert_int_equal(framer_feed(&f, "a\nb\nc\n", 6, collect_cb, &c), 42);
    assert_int_equal(c.n, 2);
    framer_done(&f);
    collect_free(&c);
    assert_int_equal(framer_init(&f, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_real_stream_every_split),
        cmocka_unit_test(test_huge_frame_not_buffered),
        cmocka_unit_test(test_callback_stops),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
