/*
 * test_time.c - timestamp parsers and the ISO formatter.
 *
 * Expected values were computed independently of time.c, with Python's
 * calendar.timegm() over the civil date-time written in each row's text,
 * and for zones with Python's zoneinfo (PEP 495 fold=0, which is the rule
 * tz.h documents for gaps and overlaps) over the system's tzdata.
 * Every parser also runs on every prefix of every row, copied into a heap
 * buffer of exactly that length, so ASan catches any read past `len`.
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
#include <time.h>

#include "event/time.h"
#include "event/time_stream.h"
#include "event/tz.h"
#include "util/limits.h"
#include "util/readfile.h"

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
    struct tz *z = NULL;
    int rc = -EINVAL;

    /* A fixed-offset zone for the rows that name an offset; NULL is UTC. */
    if (r->tz_off_s)
        assert_int_equal(tz_fixed(r->tz_off_s, &z), 0);
    switch (k) {
    case K_RFC3164: rc = time_parse_rfc3164(s, len, r->ref_us, 0, z, ret_us, ret_len); break;
    case K_ISO: rc = time_parse_iso8601(s, len, z, ret_us, ret_len); break;
    case K_EPOCH: rc = time_parse_epoch(s, len, ret_us, ret_len); break;
    case K_CLF: rc = time_parse_clf(s, len, ret_us, ret_len); break;
    case K_CTIME: rc = time_parse_ctime(s, len, z, ret_us, ret_len); break;
    }
    tz_free(z);
    return rc;
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

/* The reference: gmtime_r(3) for the civil fields and snprintf(3) for the
 * text, the way time_format_iso wrote it before it had its own digits. */
static size_t ref_iso(int64_t us, char *buf, size_t size)
{
    int64_t secs = us / 1000000, rem = us % 1000000;
    time_t t;
    struct tm tm;
    int n;

    if (rem < 0) {
        rem += 1000000;
        secs--;
    }
    t = (time_t)secs;
    assert_non_null(gmtime_r(&t, &tm));
    n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
    assert_true(n > 0);
    return (size_t)n < size ? (size_t)n : size - 1;
}

static uint64_t xs_state = 0x9e3779b97f4a7c15ULL;

static uint64_t xs_next(void)
{
    xs_state ^= xs_state << 13;
    xs_state ^= xs_state >> 7;
    xs_state ^= xs_state << 17;
    return xs_state;
}

static void check_iso(int64_t us)
{
    char got[TIME_ISO_LEN], want[TIME_ISO_LEN];
    size_t n = time_format_iso(us, got, sizeof(got));
    size_t w = ref_iso(us, want, sizeof(want));

    if (n != w || strcmp(got, want) != 0)
        fail_msg("%lld: got \"%s\", want \"%s\"", (long long)us, got, want);
    /* Where strftime's %Y is four digits its text must agree as well. */
    if (us >= -62135596800000000LL && us < 253402300800000000LL) {
        time_t t = (time_t)((us - (((us % 1000000) + 1000000) % 1000000)) / 1000000);
        struct tm tm;
        char sf[TIME_ISO_LEN];

        assert_non_null(gmtime_r(&t, &tm));
        if (tm.tm_year + 1900 >= 1000) {
            assert_int_equal(strftime(sf, sizeof(sf), "%Y-%m-%dT%H:%M:%S", &tm), 19);
            assert_memory_equal(got, sf, 19);
        }
    }
}

/* The hand-written digits against gmtime_r + snprintf over random and edge
 * instants: the whole int64 range, 1600..2400, the days around every year
 * boundary and leap day of interest, every µs fraction edge, and every
 * short buffer. */
static void test_format_iso_digits(void **state)
{
    static const int years[] = {-1,   0,    1,    99,   100,  999,  1000, 1582, 1600, 1700,
                                1900, 1969, 1970, 1999, 2000, 2004, 2038, 2100, 2400, 9999,
                                10000};
    static const int64_t edges[] = {0, 1, -1, 999999, -999999, 1000000, -1000000, INT64_MAX,
                                    INT64_MIN, INT64_MAX - 999999, INT64_MIN + 999999,
                                    253402300799999999LL, 253402300800000000LL,
                                    -62135596800000000LL, -62135596800000001LL};

    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        check_iso(edges[i]);
    for (size_t i = 0; i < sizeof(years) / sizeof(years[0]); i++) {
        /* Midnight of Jan 1, Feb 28, Feb 29 or Mar 1, Dec 31, and the µs
         * either side of each. */
        int64_t jan1 = time_from_civil(years[i], 1, 1, 0, 0, 0) * 1000000;
        int64_t mar1 = time_from_civil(years[i], 3, 1, 0, 0, 0) * 1000000;
        int64_t dec31 = time_from_civil(years[i], 12, 31, 23, 59, 59) * 1000000 + 999999;

        for (int64_t d = -1; d <= 1; d++) {
            check_iso(jan1 + d);
            check_iso(mar1 + d);
            check_iso(mar1 - 86400000000LL + d);
            check_iso(dec31 + d);
        }
    }
    for (int k = 0; k < 200000; k++) {
        uint64_t r = xs_next();

        check_iso((int64_t)r);
        /* 1600..2400: where real records are. */
        check_iso(-11676096000000000LL + (int64_t)(r % 25245100800000000ULL));
    }
    /* Every buffer size gets what snprintf would leave in it. */
    for (int k = 0; k < 2000; k++) {
        int64_t us = (int64_t)xs_next();
        char got[TIME_ISO_LEN], want[TIME_ISO_LEN];

        for (size_t size = 1; size <= sizeof(got); size++) {
            memset(got, 'x', sizeof(got));
            memset(want, 'x', sizeof(want));
            assert_int_equal(time_format_iso(us, got, size), ref_iso(us, want, size));
            assert_memory_equal(got, want, sizeof(got));
        }
    }
    assert_int_equal(time_format_iso(0, NULL, 0), 0);
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

#define S(y, mo, d, h, mi, s) time_from_civil(y, mo, d, h, mi, s)
#define US 1000000LL

static struct tz *load(const char *name)
{
    struct tz *z = NULL;
    int r = tz_load(name, NULL, &z);

    if (r < 0)
        fail_msg("tz_load(%s): %d (is the tzdata package installed?)", name, r);
    return z;
}

/* Europe/Berlin and America/New_York across their 2025 changes, both ways,
 * from the system's tzdata. */
static void test_tz_dst(void **state)
{
    static const struct {
        const char *zone;
        int y, mo, d, h, mi, s;
        int64_t want; /* UTC seconds, from zoneinfo fold=0 */
    } rows[] = {
        {"Europe/Berlin", 2025, 1, 15, 12, 0, 0, 1736938800},
        {"Europe/Berlin", 2025, 7, 1, 12, 0, 0, 1751364000},
        {"Europe/Berlin", 2025, 3, 30, 1, 59, 59, 1743296399},
        {"Europe/Berlin", 2025, 3, 30, 2, 30, 0, 1743298200}, /* gap: before's offset */
        {"Europe/Berlin", 2025, 3, 30, 3, 0, 0, 1743296400},
        {"Europe/Berlin", 2025, 10, 26, 1, 59, 59, 1761436799},
        {"Europe/Berlin", 2025, 10, 26, 2, 30, 0, 1761438600}, /* overlap: first */
        {"Europe/Berlin", 2025, 10, 26, 3, 0, 0, 1761444000},
        {"America/New_York", 2025, 3, 9, 2, 30, 0, 1741505400},  /* gap */
        {"America/New_York", 2025, 11, 2, 1, 30, 0, 1762061400}, /* overlap */
        {"America/New_York", 2025, 7, 4, 12, 0, 0, 1751644800},
        {"America/New_York", 2025, 12, 25, 12, 0, 0, 1766682000},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct tz *z = load(rows[i].zone);
        int64_t got = tz_local_to_utc(
            z, S(rows[i].y, rows[i].mo, rows[i].d, rows[i].h, rows[i].mi, rows[i].s));
        if (got != rows[i].want)
            fail_msg("%s row %zu: got %lld want %lld", rows[i].zone, i, (long long)got,
                     (long long)rows[i].want);
        tz_free(z);
    }
    {
        /* The offsets either side of each change. */
        struct tz *b = load("Europe/Berlin"), *n = load("America/New_York");
        assert_int_equal(tz_offset_at(b, 1743296400 - 1), 3600);
        assert_int_equal(tz_offset_at(b, 1743296400), 7200);
        assert_int_equal(tz_offset_at(b, 1761440400 - 1), 7200);
        assert_int_equal(tz_offset_at(b, 1761440400), 3600);
        assert_int_equal(tz_offset_at(n, 1741503600 - 1), -5 * 3600);
        assert_int_equal(tz_offset_at(n, 1741503600), -4 * 3600);
        assert_int_equal(tz_offset_at(n, 1762063200 - 1), -4 * 3600);
        assert_int_equal(tz_offset_at(n, 1762063200), -5 * 3600);
        assert_string_equal(tz_name(b), "Europe/Berlin");
        assert_false(tz_is_fixed(b));
        tz_free(b);
        tz_free(n);
    }
}

/* The parsers read zoneless local times in the zone they are given. */
static void test_tz_parsers(void **state)
{
    struct tz *b = load("Europe/Berlin");
    int64_t us;
    size_t n;
    const char *iso = "2025-07-01T12:00:00", *ct = "Wed Jan 15 12:00:00 2025";

    (void)state;
    assert_int_equal(time_parse_iso8601(iso, strlen(iso), b, &us, &n), 0);
    assert_int_equal(us, 1751364000 * US);
    /* An explicit offset wins over the zone. */
    assert_int_equal(time_parse_iso8601("2025-07-01T12:00:00Z", 20, b, &us, &n), 0);
    assert_int_equal(us, S(2025, 7, 1, 12, 0, 0) * US);
    assert_int_equal(time_parse_ctime(ct, strlen(ct), b, &us, &n), 0);
    assert_int_equal(us, 1736938800 * US);
    /* RFC 3164 in summer and winter of the same stream. */
    assert_int_equal(
        time_parse_rfc3164("Jul  1 12:00:00", 15, S(2025, 8, 1, 0, 0, 0) * US, 0, b, &us, &n), 0);
    assert_int_equal(us, 1751364000 * US);
    assert_int_equal(
        time_parse_rfc3164("Oct 26 02:30:00", 15, S(2025, 11, 1, 0, 0, 0) * US, 0, b, &us, &n), 0);
    assert_int_equal(us, 1761438600 * US);
    tz_free(b);
}

/* Appends a big-endian 32-bit value. */
static size_t put32(unsigned char *p, size_t i, uint32_t v)
{
    p[i] = (unsigned char)(v >> 24);
    p[i + 1] = (unsigned char)(v >> 16);
    p[i + 2] = (unsigned char)(v >> 8);
    p[i + 3] = (unsigned char)v;
    return i + 4;
}

/* A version-2 TZif file with no transitions, one type of `off` seconds and
 * the footer `rule`: what zic -b slim writes for a zone whose rules reach
 * back far enough, so every time goes through the POSIX TZ rule. */
static size_t slim_tzif(unsigned char *p, int32_t off, const char *rule)
{
    size_t i = 0;

    for (int v = 0; v < 2; v++) {
        memcpy(p + i, "TZif2", 5);
        memset(p + i + 5, 0, 15);
        i += 20;
        i = put32(p, i, 0); /* isutcnt */
        i = put32(p, i, 0); /* isstdcnt */
        i = put32(p, i, 0); /* leapcnt */
        i = put32(p, i, 0); /* timecnt */
        i = put32(p, i, 1); /* typecnt */
        i = put32(p, i, 4); /* charcnt */
        i = put32(p, i, (uint32_t)off);
        p[i++] = 0; /* isdst */
        p[i++] = 0; /* abbreviation index */
        memcpy(p + i, "STD", 4);
        i += 4;
    }
    p[i++] = '\n';
    memcpy(p + i, rule, strlen(rule));
    i += strlen(rule);
    p[i++] = '\n';
    return i;
}

/* The POSIX TZ rule of the footer agrees with the transitions of the system
 * file, hour by hour through 2025 (northern and southern hemisphere), and
 * the system file's own footer takes over after its last transition. */
static void test_tz_footer(void **state)
{
    static const struct {
        const char *zone, *rule;
        int32_t off;
    } rows[] = {
        {"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3", 3600},
        {"America/New_York", "EST5EDT,M3.2.0,M11.1.0", -18000},
        {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3", 36000},
    };
    unsigned char buf[512];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct tz *sys = load(rows[i].zone), *slim = NULL;
        size_t n = slim_tzif(buf, rows[i].off, rows[i].rule);
        assert_int_equal(tz_parse_tzif(buf, n, "slim", &slim), 0);
        for (int64_t t = S(2025, 1, 1, 0, 0, 0); t < S(2026, 1, 1, 0, 0, 0); t += 1800) {
            if (tz_offset_at(sys, t) != tz_offset_at(slim, t))
                fail_msg("%s at %lld: file %d, rule %d", rows[i].zone, (long long)t,
                         tz_offset_at(sys, t), tz_offset_at(slim, t));
        }
        /* 2050 is past every transition of the file: its footer decides. */
        for (int64_t t = S(2050, 1, 1, 0, 0, 0); t < S(2051, 1, 1, 0, 0, 0); t += 3600)
            assert_int_equal(tz_offset_at(sys, t), tz_offset_at(slim, t));
        tz_free(sys);
        tz_free(slim);
    }
}

/* Fixed offsets, bad names refused before any file is opened, unknown
 * zones, and every truncation of a real file refused without reading past
 * it (exact-size heap copies for ASan). */
static void test_tz_refused(void **state)
{
    static const char *const bad[] = {
        "",        "../etc/passwd",  "/etc/localtime", "Europe//Berlin", "Europe/",
        ".hidden", "Europe/../../x", "Europe/Ber lin", "+25:00",         "+09:60"};
    struct tz *z = NULL;
    char *data = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(tz_load("+09:00", NULL, &z), 0);
    assert_true(tz_is_fixed(z));
    assert_string_equal(tz_name(z), "+09:00");
    assert_int_equal(tz_local_to_utc(z, 9 * 3600), 0);
    tz_free(z);
    assert_int_equal(tz_load("-0530", NULL, &z), 0);
    assert_int_equal(tz_offset_at(z, 0), -19800);
    tz_free(z);
    assert_int_equal(tz_load("UTC", NULL, &z), 0);
    assert_int_equal(tz_offset_at(z, 0), 0);
    tz_free(z);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        z = NULL;
        if (tz_load(bad[i], NULL, &z) != -EINVAL)
            fail_msg("zone name \"%s\" not refused", bad[i]);
    }
    assert_int_equal(tz_load("Mars/Olympus_Mons", NULL, &z), -ENOENT);
    assert_int_equal(tz_load("9", NULL, &z), -ENOENT);      /* a name, not an offset */
    assert_int_equal(tz_load("Europe", NULL, &z), -ENOENT); /* a directory */

    assert_int_equal(
        readfile_all(TZ_DIR_DEFAULT "/Europe/Berlin", LIMIT_TZ_FILE_BYTES, &data, &len), 0);
    for (size_t n = 0; n < len; n++) {
        unsigned char *cp = malloc(n ? n : 1);
        assert_non_null(cp);
        memcpy(cp, data, n);
        z = NULL;
        /* Only the whole file holds the footer's closing newline. */
        assert_int_equal(tz_parse_tzif(cp, n, "x", &z), -EINVAL);
        free(cp);
    }
    assert_int_equal(tz_parse_tzif((const unsigned char *)data, len, "x", &z), 0);
    {
        struct tz *d = tz_dup(z);
        assert_non_null(d);
        assert_int_equal(tz_offset_at(d, 1751364000), 7200);
        tz_free(d);
    }
    tz_free(z);
    /* A leap-second count is refused. */
    data[28 + 3] = 1;
    assert_int_equal(tz_parse_tzif((const unsigned char *)data, len, "x", &z), -EINVAL);
    free(data);
}

/* Year inference from the stream's previous record and the reference. */
static void test_year(void **state)
{
    int64_t us;
    size_t n;

    (void)state;
    /* Across New Year on live input: received just after midnight, the
     * stream's last line was Dec 31. */
    {
        int64_t ref = S(2026, 1, 1, 0, 0, 5) * US, prev = S(2025, 12, 31, 23, 59, 58) * US;
        assert_int_equal(time_parse_rfc3164("Dec 31 23:59:59", 15, ref, prev, NULL, &us, &n), 0);
        assert_int_equal(us, S(2025, 12, 31, 23, 59, 59) * US);
        assert_int_equal(time_parse_rfc3164("Jan  1 00:00:01", 15, ref, us, NULL, &us, &n), 0);
        assert_int_equal(us, S(2026, 1, 1, 0, 0, 1) * US);
    }
    /* Replaying last year's archive across its New Year: the file's mtime
     * is months later, the stream carries the year over. */
    {
        int64_t ref = S(2025, 3, 1, 0, 0, 0) * US, prev = 0;
        assert_int_equal(time_parse_rfc3164("Dec 30 10:00:00", 15, ref, prev, NULL, &us, &n), 0);
        assert_int_equal(us, S(2024, 12, 30, 10, 0, 0) * US);
        assert_int_equal(time_parse_rfc3164("Jan  2 10:00:00", 15, ref, us, NULL, &us, &n), 0);
        assert_int_equal(us, S(2025, 1, 2, 10, 0, 0) * US);
    }
    /* A year-old file keeps its year (mtime), even scanned today. */
    assert_int_equal(
        time_parse_rfc3164("Dec 10 06:55:46", 15, S(2024, 12, 11, 0, 0, 0) * US, 0, NULL, &us, &n),
        0);
    assert_int_equal(us, S(2024, 12, 10, 6, 55, 46) * US);
    /* Mixed years: a record with its own 2017 date before the yearless
     * line pulls it to 2017, although the file was written in 2026. */
    assert_int_equal(time_parse_rfc3164("Jul 13 07:05:00", 15, S(2026, 12, 6, 0, 0, 0) * US,
                                        S(2017, 7, 13, 7, 4, 26) * US, NULL, &us, &n),
                     0);
    assert_int_equal(us, S(2017, 7, 13, 7, 5, 0) * US);
    /* Never in the future: the nearest year to the previous record would
     * be after the reference (+1 day), so the year before is taken. */
    assert_int_equal(time_parse_rfc3164("Dec 20 00:00:00", 15, S(2026, 12, 6, 0, 0, 0) * US,
                                        S(2026, 12, 5, 0, 0, 0) * US, NULL, &us, &n),
                     0);
    assert_int_equal(us, S(2025, 12, 20, 0, 0, 0) * US);
    /* Within the skew is not the future. */
    assert_int_equal(time_parse_rfc3164("Dec  6 20:00:00", 15, S(2026, 12, 6, 0, 0, 0) * US,
                                        S(2026, 12, 5, 0, 0, 0) * US, NULL, &us, &n),
                     0);
    assert_int_equal(us, S(2026, 12, 6, 20, 0, 0) * US);
    /* Feb 29 next to a leap year's records. */
    assert_int_equal(time_parse_rfc3164("Feb 29 12:00:00", 15, S(2026, 12, 6, 0, 0, 0) * US,
                                        S(2024, 2, 28, 23, 0, 0) * US, NULL, &us, &n),
                     0);
    assert_int_equal(us, S(2024, 2, 29, 12, 0, 0) * US);
    /* A previous record after the reference (a forged future date) is not
     * a neighbour: the reference decides. */
    assert_int_equal(time_parse_rfc3164("Mar  1 00:00:00", 15, S(2026, 12, 6, 0, 0, 0) * US,
                                        S(2031, 3, 1, 0, 0, 0) * US, NULL, &us, &n),
                     0);
    assert_int_equal(us, S(2026, 3, 1, 0, 0, 0) * US);
}

/* The streams table: per input and identity, stale after a silence, future
 * times not noted, and a flood of senders never makes a lookup wrong. */
static void test_streams(void **state)
{
    struct time_streams *ts = time_streams_new();
    int64_t ref = S(2026, 12, 6, 0, 0, 0) * US, t = S(2026, 12, 5, 0, 0, 0) * US;
    uint64_t a, b, c;

    (void)state;
    assert_non_null(ts);
    a = time_streams_key(ts, 0, "10.0.0.1", 8);
    b = time_streams_key(ts, 1, "10.0.0.1", 8);
    c = time_streams_key(ts, 0, "10.0.0.2", 8);
    assert_true(a != b && a != c && b != c);
    assert_int_equal(time_streams_last(ts, a, ref), 0);
    time_streams_note(ts, a, t, ref);
    assert_int_equal(time_streams_last(ts, a, ref), t);
    assert_int_equal(time_streams_last(ts, b, ref), 0);
    /* A time beyond ref + skew is not noted. */
    time_streams_note(ts, a, ref + TIME_FUTURE_SKEW_US + 1, ref);
    assert_int_equal(time_streams_last(ts, a, ref), t);
    /* Stale after a month of silence. */
    assert_int_equal(time_streams_last(ts, a, ref + TIME_STREAM_STALE_US + 1), 0);
    /* A flood of other senders: a's answer is its own time or unknown. */
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t k = time_streams_key(ts, 0, &i, sizeof(i));
        time_streams_note(ts, k, t - 1000 - i, ref);
    }
    {
        int64_t l = time_streams_last(ts, a, ref);
        assert_true(l == 0 || l == t);
    }
    time_streams_free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3164),    cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_epoch),      cmocka_unit_test(test_clf),
        cmocka_unit_test(test_ctime),      cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_format_iso), cmocka_unit_test(test_format_iso_digits),
        cmocka_unit_test(test_from_civil),
        cmocka_unit_test(test_tz_dst),     cmocka_unit_test(test_tz_parsers),
        cmocka_unit_test(test_tz_footer),  cmocka_unit_test(test_tz_refused),
        cmocka_unit_test(test_year),       cmocka_unit_test(test_streams),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
