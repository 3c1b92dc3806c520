/*
 * test_time.c - timestamp parsers and the ISO formatter.
 *
 * Expected values were computed independently of time.c, with Python's
 * calendar.timegm() over the civil date-time written in each row's text.
 * Every parser also runs on every prefix of every row, copied into a heap
 * buffer of exactly that length, so ASan catches any read past `len`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event/time.h"

#define BAD INT64_MIN /* the row must be rejected with -EINVAL */

struct row {
    const char *s;
    int64_t ref_us; /* RFC 3164 only */
    int32_t tz_off_s;
    int64_t want_us; /* or BAD */
    size_t want_len;
};

enum kind { K_RFC3164, K_ISO, K_EPOCH, K_CLF, K_CTIME };

static const char *const kind_names[] = {"rfc3164", "iso8601", "epoch", "clf", "ctime"};

static const struct row rfc3164_rows[] = {
    {"Dec 10 06:55:46 LabSZ sshd[24200]: x", 1765368000000000LL, 0, 1765349746000000LL, 15},
    {"Jun  9 06:06:20 combo syslogd 1.4.1: restart.", 1751328000000000LL, 0, 1749449180000000LL,
     15},
    {"Jan  1 00:00:01 host x", 1767139200000000LL, 0, 1735689601000000LL, 15},
    {"Jan  1 00:00:00 host x", 1767139200000000LL, 0, 1767225600000000LL, 15},
    {"Dec 31 23:59:59 host x", 1767227400000000LL, 0, 1767225599000000LL, 15},
    {"Feb 29 12:00:00 host x", 1780272000000000LL, 0, 1709208000000000LL, 15},
    {"Feb 29 00:00:00 host x", 1835352000000000LL, 0, 1835395200000000LL, 15},
    {"Feb 29 00:00:00 host x", 1835222400000000LL, 0, 1709164800000000LL, 15},
    {"Mar  5 10:00:00 host x", 1748736000000000LL, 3600, 1741165200000000LL, 15},
    {"Mar  5 10:00:00 host x", 1748736000000000LL, -18000, 1741186800000000LL, 15},
    {"Dec 10 2024 06:55:46 fw1 x", 1780272000000000LL, 0, 1733813746000000LL, 20},
    {"Dec 10 06:55:46.123456 host", 1765368000000000LL, 0, 1765349746123456LL, 22},
    {"Aug  7 23:59:60 host", 1756684800000000LL, 0, 1754611200000000LL, 15},
    {"Foo 10 06:55:46 host", 0LL, 0, BAD, 0},
    {"Dec 32 06:55:46 host", 1765324800000000LL, 0, BAD, 0},
    {"Dec  0 06:55:46 host", 1765324800000000LL, 0, BAD, 0},
    {"Dec 10 24:00:00 host", 1765324800000000LL, 0, BAD, 0},
    {"Dec 10 06:60:00 host", 1765324800000000LL, 0, BAD, 0},
    {"Feb 30 00:00:00 host", 1765324800000000LL, 0, BAD, 0},
    {"Dec 10 06:55", 1765324800000000LL, 0, BAD, 0},
    {"dec 10 06:55:46 host", 1765324800000000LL, 0, BAD, 0},
    {"Dec10 06:55:46 host", 1765324800000000LL, 0, BAD, 0},
};

static const struct row iso_rows[] = {
    {"2024-03-10T14:15:16Z", 0, 0, 1710080116000000LL, 20},
    {"2024-03-10T14:15:16+09:00 host", 0, 0, 1710047716000000LL, 25},
    {"2024-03-10T14:15:16-0530", 0, 0, 1710099916000000LL, 24},
    {"2024-03-10T14:15:16+05", 0, 0, 1710062116000000LL, 22},
    {"2024-03-10T14:15:16 app", 0, 7200, 1710072916000000LL, 19},
    {"2024-03-10T14:15:16.1Z", 0, 0, 1710080116100000LL, 22},
    {"2024-03-10T14:15:16.12Z", 0, 0, 1710080116120000LL, 23},
    {"2024-03-10T14:15:16.123Z", 0, 0, 1710080116123000LL, 24},
    {"2024-03-10T14:15:16.1234Z", 0, 0, 1710080116123400LL, 25},
    {"2024-03-10T14:15:16.12345Z", 0, 0, 1710080116123450LL, 26},
    {"2024-03-10T14:15:16.123456Z", 0, 0, 1710080116123456LL, 27},
    {"2024-03-10T14:15:16.1234567Z", 0, 0, 1710080116123456LL, 28},
    {"2024-03-10T14:15:16.12345678Z", 0, 0, 1710080116123456LL, 29},
    {"2024-03-10T14:15:16.123456789Z", 0, 0, 1710080116123456LL, 30},
    {"2024-03-10T14:15:16.999999999+01:00", 0, 0, 1710076516999999LL, 35},
    {"2024-03-10 14:15:16.5Z", 0, 0, 1710080116500000LL, 22},
    {"2003-10-11T22:14:15.003Z", 0, 0, 1065910455003000LL, 24},
    {"2003-08-24T05:14:15.000003-07:00", 0, 0, 1061727255000003LL, 32},
    {"1970-01-01T00:00:00Z", 0, 0, 0LL, 20},
    {"1969-12-31T23:59:59.5Z", 0, 0, -500000LL, 22},
    {"2024-02-29T00:00:00Z", 0, 0, 1709164800000000LL, 20},
    {"2000-02-29T00:00:00Z", 0, 0, 951782400000000LL, 20},
    {"2023-02-29T00:00:00Z", 0, 0, BAD, 0},
    {"1900-02-29T00:00:00Z", 0, 0, BAD, 0},
    {"2024-02-30T00:00:00Z", 0, 0, BAD, 0},
    {"2024-13-01T00:00:00Z", 0, 0, BAD, 0},
    {"2024-00-10T00:00:00Z", 0, 0, BAD, 0},
    {"2024-04-31T00:00:00Z", 0, 0, BAD, 0},
    {"2024-03-10T24:00:00Z", 0, 0, BAD, 0},
    {"2024-03-10T23:60:00Z", 0, 0, BAD, 0},
    {"2024-03-10", 0, 0, BAD, 0},
    {"2024-03-10T14:15", 0, 0, BAD, 0},
    {"2024/03/10T14:15:16Z", 0, 0, BAD, 0},
    {"24-03-10T14:15:16Z", 0, 0, BAD, 0},
};

static const struct row epoch_rows[] = {
    {"1700000000", 0, 0, 1700000000000000LL, 10},
    {"1700000000 rest", 0, 0, 1700000000000000LL, 10},
    {"1700000000.5", 0, 0, 1700000000500000LL, 12},
    {"1700000000.123456789", 0, 0, 1700000000123456LL, 20},
    {"1700000000123", 0, 0, 1700000000123000LL, 13},
    {"1700000000123456", 0, 0, 1700000000123456LL, 16},
    {"1700000000123456789", 0, 0, 1700000000123456LL, 19},
    {"0", 0, 0, 0LL, 1},
    {"99999999999", 0, 0, 99999999999000000LL, 11},
    {"", 0, 0, BAD, 0},
    {"abc", 0, 0, BAD, 0},
    {"-5", 0, 0, BAD, 0},
    {".5", 0, 0, BAD, 0},
    {"9999999999999999999", 0, 0, BAD, 0},
    {"99999999999999999999", 0, 0, BAD, 0},
};

static const struct row clf_rows[] = {
    {"10/Oct/2000:13:55:36 -0700", 0, 0, 971211336000000LL, 26},
    {"17/May/2015:10:05:03 +0000] \"GET /", 0, 0, 1431857103000000LL, 26},
    {"22/Jan/2019:03:56:14 +0330", 0, 0, 1548116774000000LL, 26},
    {"10/Oct/2000:13:55:36", 0, 0, 971186136000000LL, 20},
    {"29/Feb/2024:00:00:00 +0100", 0, 0, 1709161200000000LL, 26},
    {"31/Feb/2000:00:00:00 +0000", 0, 0, BAD, 0},
    {"10/Foo/2000:13:55:36 +0000", 0, 0, BAD, 0},
    {"1/Oct/2000:13:55:36 +0000", 0, 0, BAD, 0},
    {"10/Oct/2000 13:55:36 +0000", 0, 0, BAD, 0},
};

static const struct row ctime_rows[] = {
    {"Sun Dec 04 04:47:44 2005", 0, 0, 1133671664000000LL, 24},
    {"Fri Sep 09 10:42:29.902022 2011] [core:error]", 0, 0, 1315564949902022LL, 31},
    {"Mon Jun  9 06:07:04 2025", 0, 0, 1749449224000000LL, 24},
    {"Mon Jun 9 06:07:04 2025", 0, 0, 1749449224000000LL, 23},
    {"Sun Dec 04 04:47:44 2005", 0, 3600, 1133668064000000LL, 24},
    {"Xyz Dec 04 04:47:44 2005", 0, 0, BAD, 0},
    {"Sun Dec 32 04:47:44 2005", 0, 0, BAD, 0},
    {"Sun Feb 29 04:47:44 2005", 0, 0, BAD, 0},
    {"Sun Dec 04 04:47:44", 0, 0, BAD, 0},
    {"Sun Dec 04 04:47 2005", 0, 0, BAD, 0},
};

static int run(enum kind k, const struct row *r, const char *s, size_t len, int64_t *ret_us,
               size_t *ret_len)
{
    switch (k) {
    case K_RFC3164: return time_parse_rfc3164(s, len, r->ref_us, r->tz_off_s, ret_us, ret_len);
    case K_ISO: return time_parse_iso8601(s, len, r->tz_off_s, ret_us, ret_len);
    case K_EPOCH: return time_parse_epoch(s, len, ret_us, ret_len);
    case K_CLF: return time_parse_clf(s, len, ret_us, ret_len);
    case K_CTIME: return time_parse_ctime(s, len, r->tz_off_s, ret_us, ret_len);
    }
    return -EINVAL;
}

/* Copies s[0..len) into a heap block of exactly len bytes (no NUL). */
static char *exact_copy(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);

    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

static void check_rows(enum kind k, const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        size_t len = strlen(r->s);
        char *s = exact_copy(r->s, len);
        int64_t us = 12345;
        size_t rl = 999;
        int ret = run(k, r, s, len, &us, &rl);

        if (r->want_us == BAD) {
            if (ret != -EINVAL)
                fail_msg("%s row %zu [%s]: got %d, want -EINVAL", kind_names[k], i, r->s, ret);
        } else {
            if (ret != 0)
                fail_msg("%s row %zu [%s]: got %d", kind_names[k], i, r->s, ret);
            if (us != r->want_us)
                fail_msg("%s row %zu [%s]: got %lld us, want %lld", kind_names[k], i, r->s,
                         (long long)us, (long long)r->want_us);
            if (rl != r->want_len)
                fail_msg("%s row %zu [%s]: ret_len %zu, want %zu", kind_names[k], i, r->s, rl,
                         r->want_len);
            /* ret_len may be NULL. */
            us = 0;
            assert_int_equal(run(k, r, s, len, &us, NULL), 0);
            assert_int_equal(us, r->want_us);
            /* Exactly the timestamp, nothing after it, still parses. */
            free(s);
            s = exact_copy(r->s, r->want_len);
            assert_int_equal(run(k, r, s, r->want_len, &us, &rl), 0);
            assert_int_equal(us, r->want_us);
            assert_int_equal(rl, r->want_len);
        }
        free(s);
        /* Every prefix: never reads past len, never claims more than len. */
        for (size_t p = 0; p < len; p++) {
            char *pre = exact_copy(r->s, p);
            rl = 999;
            if (run(k, r, pre, p, &us, &rl) == 0 && rl > p)
                fail_msg("%s row %zu prefix %zu: ret_len %zu", kind_names[k], i, p, rl);
            free(pre);
        }
    }
}

#define CHECK(k, rows) check_rows(k, rows, sizeof(rows) / sizeof(rows[0]))

static void test_rfc3164(void **state)
{
    CHECK(K_RFC3164, rfc3164_rows);
}

static void test_iso8601(void **state)
{
    CHECK(K_ISO, iso_rows);
}

static void test_epoch(void **state)
{
    CHECK(K_EPOCH, epoch_rows);
}

static void test_clf(void **state)
{
    CHECK(K_CLF, clf_rows);
}

static void test_ctime(void **state)
{
    CHECK(K_CTIME, ctime_rows);
}

/* Garbage of every length and byte never crashes or over-reads. */
static void test_garbage(void **state)
{
    static const char *const junk[] = {
        "",
        "D",
        "De",
        "Dec",
        "Dec ",
        "Dec 1",
        "Dec  ",
        "2",
        "2024-",
        "2024-03-10T",
        "2024-03-10T14:15:16.",
        "2024-03-10T14:15:16+",
        "2024-03-10T14:15:16+0",
        "1700000000.",
        "10/",
        "10/Oct/",
        "Sun",
        "Sun ",
        "Sun Dec 04 04:47:44.",
        "\xff\xfe\x00",
    };
    const struct row r = {NULL, 1700000000000000LL, 0, 0, 0};

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        size_t len = strlen(junk[i]);
        for (int k = K_RFC3164; k <= K_CTIME; k++) {
            char *s = exact_copy(junk[i], len);
            int64_t us;
            size_t rl = 999;
            if (run((enum kind)k, &r, s, len, &us, &rl) == 0)
                assert_true(rl <= len);
            free(s);
        }
    }
}

static void test_format_iso(void **state)
{
    static const struct {
        int64_t us;
        const char *want;
    } rows[] = {
        {0LL, "1970-01-01T00:00:00.000000Z"},
        {-1LL, "1969-12-31T23:59:59.999999Z"},
        {-1000000LL, "1969-12-31T23:59:59.000000Z"},
        {1702191346123456LL, "2023-12-10T06:55:46.123456Z"},
        {951868799999999LL, "2000-02-29T23:59:59.999999Z"},
        {-2208945600000000LL, "1900-01-01T12:00:00.000000Z"},
        {2147483648000000LL, "2038-01-19T03:14:08.000000Z"},
        {-62135596800000000LL, "0001-01-01T00:00:00.000000Z"},
        {253402300800000000LL, "10000-01-01T00:00:00.000000Z"},
    };
    char buf[TIME_ISO_LEN];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t n = time_format_iso(rows[i].us, buf, sizeof(buf));
        assert_string_equal(buf, rows[i].want);
        assert_int_equal(n, strlen(rows[i].want));
    }
    /* A short buffer gets a truncated, terminated string. */
    {
        char small[11];
        size_t n = time_format_iso(0, small, sizeof(small));
        assert_int_equal(n, 10);
        assert_string_equal(small, "1970-01-01");
    }
    /* The formatter and the ISO parser agree on a round trip. */
    for (int64_t us = -86400000000LL * 400; us < 86400000000LL * 40000; us += 86399999977LL * 37) {
        int64_t back = 0;
        size_t n = time_format_iso(us, buf, sizeof(buf)), rl = 0;
        if (us >= 0 && us < 253402300800000000LL) {
            assert_int_equal(time_parse_iso8601(buf, n, 0, &back, &rl), 0);
            assert_int_equal(back, us);
            assert_int_equal(rl, n);
        }
    }
}

static void test_from_civil(void **state)
{
    assert_int_equal(time_from_civil(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(time_from_civil(2000, 3, 1, 0, 0, 0), 951868800);
    assert_int_equal(time_from_civil(1969, 12, 31, 23, 59, 59), -1);
    assert_int_equal(time_from_civil(2038, 1, 19, 3, 14, 8), 2147483648LL);
    assert_int_equal(time_from_civil(1600, 1, 1, 0, 0, 0), -11676096000LL);
    assert_true(time_now_us() > 1700000000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3164),    cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_epoch),      cmocka_unit_test(test_clf),
        cmocka_unit_test(test_ctime),      cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_format_iso), cmocka_unit_test(test_from_civil),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
