/*
 * test_decode_time.c - which time an event gets, through decode_record():
 * the record's own timestamp before the syslog header's, and yearless
 * headers dated from their stream as the pipeline does it (the previous
 * record's time from a time_streams table, noted after each record).
 *
 * Expected instants were computed with Python's calendar.timegm() from the
 * civil date-times written in the lines.
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

#include "decode/decode.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/time.h"
#include "event/time_stream.h"
#include "event/tz.h"
#include "util/arena.h"

#define US 1000000LL

/* One stream of records decoded as the pipeline does; the want of each row
 * is the @timestamp it must get. */
struct row {
    const char *line;
    const char *want;
};

static void run_stream(const struct row *rows, size_t n, int64_t ref_us, const struct tz *tz)
{
    struct time_streams *ts = time_streams_new();
    struct arena arena;
    uint64_t key;

    assert_non_null(ts);
    key = time_streams_key(ts, 0, "stream", 6);
    arena_init(&arena, 0);
    for (size_t i = 0; i < n; i++) {
        struct decode_ctx ctx = {.ref_us = ref_us, .tz = tz};
        struct parse_err err;
        struct event ev;
        size_t len = strlen(rows[i].line);
        char *copy = malloc(len);

        assert_non_null(copy);
        memcpy(copy, rows[i].line, len);
        ctx.prev_us = time_streams_last(ts, key, ref_us);
        event_init(&ev, &arena, copy, len, ref_us);
        if (decode_record(&ev, NULL, &ctx, &err) != 0)
            fail_msg("row %zu did not decode: %s", i, rows[i].line);
        assert_int_equal(ev.has_time, 1);
        decode_testlib_expect_field(&ev, "@timestamp", rows[i].want, rows[i].line);
        time_streams_note(ts, key, ev.time_us, ref_us);
        event_reset(&ev);
        free(copy);
    }
    arena_done(&arena);
    time_streams_free(ts);
}

/* Suricata EVE relayed by syslog: the EVE `timestamp` wins over the relay's
 * yearless header, and the yearless lines after it take its year although
 * the file was written years later. */
static void test_eve_in_syslog(void **state)
{
    static const struct row rows[] = {
        {"<134>Dec  6 10:00:00 sensor suricata[123]: {\"timestamp\":\"2017-03-25T16:49:58."
         "856335-0600\",\"event_type\":\"alert\",\"src_ip\":\"84.92.227.177\",\"src_port\":6668,"
         "\"dest_ip\":\"10.192.19.6\",\"dest_port\":57966,\"proto\":\"TCP\",\"alert\":{"
         "\"signature_id\":2000355,\"signature\":\"ET CHAT IRC authorization message\"}}",
         "2017-03-25T22:49:58.856335Z"},
        {"Mar 25 22:50:03 sensor sshd[77]: Failed password for root from 84.92.227.177 port 4 "
         "ssh2",
         "2017-03-25T22:50:03.000000Z"},
        /* ECS @timestamp inside a relayed JSON object is the record's own. */
        {"<14>Dec  6 10:00:01 relay app: {\"@timestamp\":\"2017-03-26T01:02:03Z\",\"a\":1}",
         "2017-03-26T01:02:03.000000Z"},
        /* RFC 5424 relays the same way: the EVE time wins over the header's
         * full date. */
        {"<134>1 2026-12-06T20:00:00Z sensor suricata 4242 - - {\"timestamp\":\"2017-03-26T"
         "01:00:00.5+0100\",\"event_type\":\"alert\"}",
         "2017-03-26T00:00:00.500000Z"},
        /* No time member in the JSON: the header's time stands, and its
         * year comes from the stream. */
        {"<14>Mar 26 01:02:04 relay app: {\"a\":2}", "2017-03-26T01:02:04.000000Z"},
    };

    (void)state;
    run_stream(rows, sizeof(rows) / sizeof(rows[0]), 1796000000LL * US, NULL);
}

/* An access log line relayed by syslog carries its time and zone. */
static void test_access_log_time(void **state)
{
    static const struct row rows[] = {
        {"<190>Dec  6 10:00:00 web nginx: 10.0.0.1 - - [10/Oct/2025:13:55:36 +0200] \"GET / "
         "HTTP/1.1\" 200 5 \"-\" \"curl/8\"",
         "2025-10-10T11:55:36.000000Z"},
        {"10.0.0.1 - - [10/Oct/2025:13:55:37 +0200] \"GET /a HTTP/1.1\" 404 5",
         "2025-10-10T11:55:37.000000Z"},
        /* The yearless syslog line after it: 2025, not the current year. */
        {"Oct 10 11:56:00 web sshd[9]: Accepted publickey for a from 10.0.0.1 port 1 ssh2",
         "2025-10-10T11:56:00.000000Z"},
    };

    (void)state;
    run_stream(rows, sizeof(rows) / sizeof(rows[0]), 1796000000LL * US, NULL);
}

/* A stream across New Year in a file written on Jan 1. */
static void test_new_year(void **state)
{
    static const struct row rows[] = {
        {"Dec 31 23:59:58 h sshd[1]: x", "2025-12-31T23:59:58.000000Z"},
        {"Jan  1 00:00:02 h sshd[1]: y", "2026-01-01T00:00:02.000000Z"},
        {"Dec 31 23:59:59 h sshd[1]: late", "2025-12-31T23:59:59.000000Z"},
    };

    (void)state;
    run_stream(rows, sizeof(rows) / sizeof(rows[0]), time_from_civil(2026, 1, 1, 0, 5, 0) * US,
               NULL);
}

/* A local zone for headers; the EVE offset stays the record's own. */
static void test_zone(void **state)
{
    static const struct row rows[] = {
        {"Mar 30 01:59:59 h p: before the change", "2025-03-30T00:59:59.000000Z"},
        {"Mar 30 03:00:00 h p: after it", "2025-03-30T01:00:00.000000Z"},
        {"<14>Mar 30 03:00:01 h suricata: {\"timestamp\":\"2025-03-30T01:00:00.5+0000\"}",
         "2025-03-30T01:00:00.500000Z"},
    };
    struct tz *z = NULL;

    (void)state;
    if (tz_load("Europe/Berlin", NULL, &z) < 0)
        fail_msg("Europe/Berlin missing (is tzdata installed?)");
    run_stream(rows, sizeof(rows) / sizeof(rows[0]), time_from_civil(2025, 4, 1, 0, 0, 0) * US, z);
    tz_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eve_in_syslog),
        cmocka_unit_test(test_access_log_time),
        cmocka_unit_test(test_new_year),
        cmocka_unit_test(test_zone),
    };

    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
