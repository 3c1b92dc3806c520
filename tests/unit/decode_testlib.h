/*
 * decode_testlib.h - what the decoder unit tests share: the shared data
 * directory, one arena and one fixed decode context per test program,
 * decoding a line into a fresh event, field assertions, and reading sample
 * files line by line.  cmocka-based: failures end the running test.
 *
 * A test program picks its clock in main() (decode_testlib_set_clock) and
 * runs its group with decode_testlib_setup/decode_testlib_teardown.
 */
#ifndef HIKESHI_TESTS_DECODE_TESTLIB_H
#define HIKESHI_TESTS_DECODE_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

struct event;

/* 2023-11-14T22:13:20Z and 2026-06-01T00:00:00Z, in µs since the epoch. */
#define DECODE_TESTLIB_T2023 1700000000000000LL
#define DECODE_TESTLIB_T2026 1780272000000000LL

/* Sets the reference time of the decode context and the receive time of
 * every event decoded afterwards.  Call before the group runs. */
void decode_testlib_set_clock(int64_t ref_us, int64_t recv_us);

/* Group setup and teardown: the arena and the field table. */
int decode_testlib_setup(void **state);
int decode_testlib_teardown(void **state);

/* The fixed context the tests decode with (a copy, to adjust). */
struct decode_ctx decode_testlib_ctx(void);

/* $HIKESHI_SHARED, else $HIKESHI_SOURCE/../shared, else ../shared. */
const char *decode_testlib_shared_dir(void);

/* Reads the whole file `rel` below the shared data directory into a heap
 * buffer (NUL-terminated; *ret_n excludes the NUL).  A missing file fails
 * the test.  The caller frees the buffer. */
char *decode_testlib_read(const char *rel, size_t *ret_n);

/*
 * Decodes a heap copy of exactly `len` bytes of `line` (so ASan sees any
 * read past it) with `fn` and context `ctx` into *ev, freshly initialised on
 * the reset arena; *perr is zeroed first.  The copy lives until the next
 * run or the teardown: ev->raw and the field values point into it.
 * Returns what `fn` returned.
 */
int decode_testlib_run_ctx(decode_fn fn, const struct decode_ctx *ctx, struct event *ev,
                           const char *line, size_t len, struct parse_err *perr);

/* decode_testlib_run_ctx with the fixed context. */
int decode_testlib_run(decode_fn fn, struct event *ev, const char *line, size_t len,
                       struct parse_err *perr);

/* Runs product decoder `fn` on ev->msg with the fixed context, as
 * decode_record() does after a syslog header decoder. */
int decode_testlib_run_msg(decode_fn fn, struct event *ev, struct parse_err *perr);

/* Decodes a full syslog line with header decoder `hdr`, which must accept
 * it, then `fn` on its MSG part; *ret_before gets the number of fields the
 * header gave.  Returns what `fn` returned. */
int decode_testlib_run_chain(decode_fn hdr, decode_fn fn, struct event *ev, const char *line,
                             size_t len, struct parse_err *perr, uint32_t *ret_before);

/* Asserts that the first value of field `name` equals `want`, or with `want`
 * NULL that the field is absent.  `line` (may be NULL) names the input in
 * the failure message. */
void decode_testlib_expect_field(const struct event *ev, const char *name, const char *want,
                                 const char *line);

/* decode_testlib_expect_field for each name/value pair of `pairs`, which
 * ends at a NULL name. */
void decode_testlib_expect_fields(const struct event *ev, const char *const *pairs,
                                  const char *line);

/* Asserts that case `c` (input `line`) returned `want`: prints the case on
 * a mismatch, and a -EINVAL must come with a message. */
void decode_testlib_expect_ret(size_t c, const char *line, int r, int want,
                               const struct parse_err *perr);

/* Asserts that ev->msg is exactly the NUL-terminated `want`. */
void decode_testlib_expect_msg(const struct event *ev, const char *want);

/* A line that must decode, and the fields it must give (NULL want:
 * absent); the list ends at a NULL name. */
struct decode_testlib_kv {
    const char *name;
    const char *want;
};

struct decode_testlib_good {
    const char *line;
    struct decode_testlib_kv f[24];
};

/* Each line of `g` must decode with `fn`, name the decoder `decoder` and
 * give its fields. */
void decode_testlib_check_good(decode_fn fn, const char *decoder,
                               const struct decode_testlib_good *g, size_t n);

/* A line that must be refused with `want`; for -EINVAL, at offset `off`. */
struct decode_testlib_bad {
    const char *line;
    int want;
    size_t off;
};

/* Case `c`: `fn` on (line, len) must return `want` (-EINVAL with a message
 * at `off`), add nothing on -ENOENT and name no decoder on a refusal. */
void decode_testlib_expect_bad(decode_fn fn, size_t c, const char *line, size_t len, int want,
                               size_t off);

/* decode_testlib_expect_bad for each case of `b`. */
void decode_testlib_check_bad(decode_fn fn, const struct decode_testlib_bad *b, size_t n);

/*
 * A sample file read line by line.  Lines come without their "\n" or
 * "\r\n", NUL-terminated in place; empty lines are skipped.
 */
struct decode_testlib_lines {
    char *buf; /* the whole file, owned */
    size_t len;
    size_t pos; /* start of the next line */
};

/* Opens sample `rel` (a missing file fails the test). */
void decode_testlib_lines_open(struct decode_testlib_lines *it, const char *rel);

/* The next non-empty line in *ret_line (NUL-terminated) and its length in
 * *ret_len; returns 1, or 0 at the end of the file. */
int decode_testlib_lines_next(struct decode_testlib_lines *it, char **ret_line, size_t *ret_len);

/* Frees the file. */
void decode_testlib_lines_close(struct decode_testlib_lines *it);

#endif
