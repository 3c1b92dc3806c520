/*
 * test_witness.c - who is believed (docs/respond.md): records decoded the
 * way the pipeline decodes them (auto-detection), then classified by
 * ptriage_witness().  Kinds that see the attacker's own traffic are
 * witnesses; web logs, key=value, other JSON and CEF are not, even when
 * they name a source address -- including a whole CEF record smuggled into
 * a web request, which the decoder does take for CEF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "pipeline/pipeline_triage.h"
#include "util/arena.h"

struct row {
    const char *line;
    const char *kind;   /* NULL: not a witness */
    const char *src_ip; /* the address the record names, to show it names one */
};

static void check_rows(const struct row *rows, size_t n)
{
    struct arena arena;
    struct decode_ctx ctx = {.ref_us = time_from_civil(2026, 11, 24, 0, 0, 0) * 1000000LL};

    arena_init(&arena, 0);
    for (size_t i = 0; i < n; i++) {
        struct event ev;
        struct parse_err err;
        const char *kind, *v;
        size_t len;

        event_init(&ev, &arena, rows[i].line, strlen(rows[i].line), ctx.ref_us);
        if (decode_record(&ev, NULL, &ctx, &err) != 0)
            fail_msg("row %zu does not decode: %s", i, rows[i].line);
        kind = ptriage_witness(&ev);
        if ((kind == NULL) != (rows[i].kind == NULL) ||
            (kind && strcmp(kind, rows[i].kind) != 0))
            fail_msg("row %zu (decoder %s): witness %s, want %s", i,
                     ev.decoder ? ev.decoder : "(none)", kind ? kind : "(none)",
                     rows[i].kind ? rows[i].kind : "(none)");
        v = event_get(&ev, FIELD_SOURCE_IP, &len);
        if (rows[i].src_ip &&
            (!v || len != strlen(rows[i].src_ip) || memcmp(v, rows[i].src_ip, len) != 0))
            fail_msg("row %zu: source.ip %.*s, want %s", i, v ? (int)len : 6, v ? v : "(none)",
                     rows[i].src_ip);
        event_reset(&ev);
    }
    arena_done(&arena);
}

static void test_witnesses(void **state)
{
    static const struct row rows[] = {
        {"<38>Nov 23 10:00:00 gate sshd[5000]: Failed password for root from 203.0.113.5 port "
         "40000 ssh2",
         "sshd", "203.0.113.5"},
        {"<4>Nov 23 10:00:01 fw kernel: [1234.5678] DROP IN=eth0 OUT= "
         "MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.6 DST=192.0.2.10 LEN=60 "
         "TOS=0x00 PREC=0x00 TTL=50 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 "
         "SYN URGP=0",
         "netfilter", "203.0.113.6"},
        {"{\"timestamp\":\"2026-11-23T10:00:02.000000+0000\",\"flow_id\":1,\"event_type\":"
         "\"alert\",\"src_ip\":\"203.0.113.7\",\"src_port\":40000,\"dest_ip\":\"192.0.2.10\","
         "\"dest_port\":22,\"proto\":\"TCP\",\"alert\":{\"signature_id\":2001219,\"signature\":"
         "\"ET SCAN Potential SSH Scan\",\"severity\":2}}",
         "Suricata", "203.0.113.7"},
        /* Zeek as the apt29 data set ships it (id_orig_h, @stream). */
        {"{\"@stream\":\"conn\",\"@system\":\"test-nsm\",\"@proc\":\"zeek\",\"ts\":1588316522.18,"
         "\"uid\":\"CizEoL2BZYFA8BLZH1\",\"id_orig_h\":\"10.0.1.5\",\"id_orig_p\":60818,"
         "\"id_resp_h\":\"10.0.0.4\",\"id_resp_p\":445,\"proto\":\"tcp\"}",
         "Zeek", "10.0.1.5"},
        /* ECS as a shipper writes it. */
        {"{\"@timestamp\":\"2026-11-23T10:00:03Z\",\"event\":{\"dataset\":\"suricata.eve\","
         "\"module\":\"suricata\"},\"source\":{\"ip\":\"203.0.113.8\"}}",
         "Suricata", "203.0.113.8"},
        {"{\"@timestamp\":\"2026-11-23T10:00:04Z\",\"event\":{\"dataset\":\"system.auth\"},"
         "\"source\":{\"ip\":\"203.0.113.9\"}}",
         "sshd (ECS)", "203.0.113.9"},
        /* A Windows failed logon, as forwarded XML. */
        {"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID>"
         "<TimeCreated SystemTime='2026-11-23T10:00:05.000Z'/><Channel>Security</Channel>"
         "<Computer>dc01</Computer></System><EventData><Data Name='TargetUserName'>admin</Data>"
         "<Data Name='IpAddress'>203.0.113.10</Data></EventData></Event>",
         "Windows Security log", NULL},
    };

    (void)state;
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_not_witnesses(void **state)
{
    static const struct row rows[] = {
        /* A web access log: the client's address, and text the client wrote. */
        {"203.0.113.20 - - [23/Nov/2026:10:00:00 +0000] \"GET /login HTTP/1.1\" 401 12 \"-\" "
         "\"curl/8\"",
         NULL, "203.0.113.20"},
        /* A whole CEF record in a request line: decoded as CEF, naming the
         * address the client chose.  Never a witness. */
        {"203.0.113.21 - - [23/Nov/2026:10:00:01 +0000] \"GET /CEF:0|Acme|FW|1|100|deny|9|"
         "src=192.0.2.53 act=deny HTTP/1.1\" 404 0",
         NULL, "192.0.2.53"},
        {"<134>Nov 23 10:00:02 fw01 CEF:0|Acme|FW|1|100|deny|9|src=198.51.100.3 dst=192.0.2.10",
         NULL, "198.51.100.3"},
        {"src=198.51.100.4 dst=192.0.2.10 action=deny", NULL, NULL},
        {"{\"source.ip\":\"198.51.100.5\",\"message\":\"anything at all\"}", NULL, NULL},
        /* A syslog line with no product decoder. */
        {"<38>Nov 23 10:00:03 app1 myapp[7]: login failed for 198.51.100.6", NULL, NULL},
        /* Windows, but not the Security channel. */
        {"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<EventID>4104</EventID><TimeCreated SystemTime='2026-11-23T10:00:05.000Z'/>"
         "<Channel>Microsoft-Windows-PowerShell/Operational</Channel><Computer>ws1</Computer>"
         "</System><EventData><Data Name='ScriptBlockText'>x</Data></EventData></Event>",
         NULL, NULL},
    };

    (void)state;
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* Zeek's default TSV log: a row is read with its file's header, so the
 * lines go through one decoder stream, as the pipeline reads a file. */
static void test_zeek_tsv(void **state)
{
    static const char *const lines[] = {
        "#separator \\x09",
        "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum",
        "1795428000.5\tCizEoL2BZYFA8BLZH1\t203.0.113.11\t60818\t192.0.2.10\t445\ttcp",
    };
    struct arena arena;
    struct decode_ctx ctx = {.ref_us = time_from_civil(2026, 11, 24, 0, 0, 0) * 1000000LL,
                             .stream = decode_stream_new()};
    const char *kind = NULL;

    (void)state;
    assert_non_null(ctx.stream);
    arena_init(&arena, 0);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct event ev;
        struct parse_err err;

        event_init(&ev, &arena, lines[i], strlen(lines[i]), ctx.ref_us);
        if (decode_record(&ev, NULL, &ctx, &err) != 0)
            fail_msg("line %zu does not decode: %s", i, lines[i]);
        assert_string_equal(ev.decoder, "zeek-tsv");
        kind = ptriage_witness(&ev);
        event_reset(&ev);
    }
    assert_non_null(kind);
    assert_string_equal(kind, "Zeek");
    arena_done(&arena);
    decode_stream_free(ctx.stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_witnesses),
        cmocka_unit_test(test_not_witnesses),
        cmocka_unit_test(test_zeek_tsv),
    };

    field_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
