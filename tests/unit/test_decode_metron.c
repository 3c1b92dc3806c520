/*
 * test_decode_metron.c - hikeshi's decoders against Apache Metron's own
 * expectations (issue 24's differential test).
 *
 * ../shared/data/firewall/metron holds, per product, raw sample lines
 * (sample/data/PRODUCT/raw/..., and SampleInput/...) and the records
 * Metron's parser made of them (sample/data/PRODUCT/parsed/..., one JSON
 * object a line, with the raw line in "original_string").  For every raw
 * line of a product in products[] below, the line goes through hikeshi's
 * auto-detecting decode_record() as any received record would; it must be
 * taken by that product's decoder, and every address, port, protocol,
 * action and user that Metron's record for the same line holds (the names
 * in fields[]) must appear in hikeshi's event under its ECS name, compared
 * case-insensitively (Metron writes "TCP" and "tcp", hikeshi "tcp").  The
 * per-product agreement is printed; the test fails under 100 %, or when a
 * product's lines give no field to check (a test that checked nothing).
 *
 * Where hikeshi and Metron read a line differently on purpose, the row says
 * so in a function, never by skipping a field: Metron takes an ASA
 * message's first address as the source whatever the message says, while
 * hikeshi takes the side that opened the connection (Cisco: a "Built
 * outbound" connection names the responder first; an inbound ICMP
 * connection was opened by the foreign address).  For those lines Metron's
 * source is compared with hikeshi's destination and the other way round,
 * and the number of such lines is printed.
 *
 * Adding a product: one row in products[] (its decoder's name, raw files,
 * Metron's parsed file, NULL or a swap function), and a row in fields[] if
 * Metron names one more thing to compare.  Lines are matched to Metron's
 * records by their text, so a raw file without a parsed file of its own
 * (SampleInput/) is checked against the product's parsed file; lines
 * Metron never parsed still must be taken by the product's decoder.
 * Metron's Bro parser rewrites the line it keeps, so Bro's files are
 * matched by position (by_position[]), and its "protocol" is the Zeek log
 * stream, compared with hikeshi's event.dataset (protocol_as[]).
 * Links the decode library only (util, event, decode).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/decode.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define MSAMPLES                                                                                   \
    "data/firewall/metron/metron-platform/metron-integration-test/src/main/sample/data/"
#define METRON_MAX_RECORDS 2048
#define METRON_MAX_RAW 4
#define METRON_REPORT 12 /* disagreements printed per product */

/* Metron's name -> hikeshi's ECS name.  `swap` names the ECS field taken
 * instead on a line whose source and destination the two read the other
 * way round (NULL: not a side of the connection). */
struct metron_field {
    const char *metron;
    const char *ecs;
    const char *swap;
};

static const struct metron_field fields[] = {
    {"ip_src_addr", "source.ip", "destination.ip"},
    {"ip_dst_addr", "destination.ip", "source.ip"},
    {"ip_src_port", "source.port", "destination.port"},
    {"ip_dst_port", "destination.port", "source.port"},
    {"protocol", "network.transport", NULL},
    {"action", "event.action", NULL},
    {"username", "user.name", NULL},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct metron_product {
    const char *name;    /* as printed */
    const char *decoder; /* hikeshi decoder that must take every line */
    const char *raw[METRON_MAX_RAW];
    const char *parsed; /* Metron's records; NULL: there are none */
    /* 1 when Metron's source/destination are hikeshi's destination/source
     * on this raw line (see the file's comment); NULL: never. */
    int (*swapped)(const char *line);
    /* 1 for a raw line that is corrupt in the sample and that the product's
     * decoder rightly refuses: it must not be taken, and is counted apart;
     * NULL: none. */
    int (*refused)(const char *line);
};

/* Products whose Metron "protocol" is not the transport: the ECS name it
 * is compared with, and what hikeshi writes before the value (Bro: the log
 * stream, hikeshi's event.dataset "zeek.STREAM"). */
static const struct {
    const char *product;
    const char *ecs;
    const char *prefix;
} protocol_as[] = {
    {"bro", "event.dataset", "zeek."},
};

/* Products whose Metron parser rewrites original_string (Bro's: "HTTP |
 * id.orig_p:58808 ..."): their raw and parsed files are matched line by
 * line, in order (checked: each pair has the same stream and ts). */
static const char *const by_position[] = {"bro"};

/* Cisco ASA: the lines whose first address is not the opener (Cisco's
 * "Syslog Messages" guide, 302013/302015/302017 and 302020). */
static int asa_swapped(const char *line)
{
    return (strstr(line, ": Built outbound ") && !strstr(line, " ICMP connection ")) ||
           strstr(line, ": Built inbound ICMP connection ");
}

/* PAN-OS: one line of SampleInput/PaloaltoOutput lost the dots of an
 * address to commas ("23.200,10,217"), which shifts every later field;
 * decode_panos refuses it (test_decode_panos checks where and why). */
static int panos_refused(const char *line)
{
    return strstr(line, ",23.200,10,217,") != NULL;
}

static const struct metron_product products[] = {
    {"asa",
     "cisco-asa",
     {MSAMPLES "asa/raw/asa_raw", MSAMPLES "SampleInput/AsaOutput"},
     MSAMPLES "asa/parsed/asa_parsed",
     asa_swapped,
     NULL},
    {"squid",
     "squid",
     {MSAMPLES "squid/raw/SquidExampleOutput"},
     MSAMPLES "squid/parsed/SquidExampleParsed",
     NULL,
     NULL},
    {"snort",
     "snort",
     {MSAMPLES "snort/raw/SnortOutput"},
     MSAMPLES "snort/parsed/SnortParsed",
     NULL,
     NULL},
    /* the generic LEEF decoder on Metron's Trend Micro Deep Security lines */
    {"leef",
     "leef",
     {MSAMPLES "leef/raw/leefOutput"},
     MSAMPLES "leef/parsed/leefParsed",
     NULL,
     NULL},
    /* Metron's sample has no parsed file for PAN-OS: every line must be
     * taken by panos (test_decode_panos checks the fields of each). */
    {"panos", "panos", {MSAMPLES "SampleInput/PaloaltoOutput"}, NULL, NULL, panos_refused},
    /* Zeek (Bro) JSON as its Kafka writer wraps it: {"http":{...}} */
    {"bro",
     "json",
     {MSAMPLES "bro/raw/BroExampleOutput"},
     MSAMPLES "bro/parsed/BroExampleParsed",
     NULL,
     NULL},
};

/* One Metron record: its raw line and the values of fields[]. */
struct metron_record {
    char *orig;
    char *val[NFIELDS]; /* NULL: Metron has no such field for the line */
};

struct metron_set {
    struct metron_record *r;
    size_t n;
};

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    assert_non_null(d);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Reads Metron's parsed file with hikeshi's JSON decoder (its unescaping
 * of "\/" and "\\" included; test_decode_json tests that decoder). */
static void load_parsed(const char *rel, struct metron_set *set)
{
    const struct decoder *json = decode_lookup("json");
    struct decode_testlib_lines it;
    char *line;
    size_t len;

    assert_non_null(json);
    set->r = calloc(METRON_MAX_RECORDS, sizeof(*set->r));
    assert_non_null(set->r);
    set->n = 0;
    decode_testlib_lines_open(&it, rel);
    while (decode_testlib_lines_next(&it, &line, &len)) {
        struct event ev;
        struct parse_err perr;
        struct metron_record *rec;
        const char *v;
        size_t vn;

        assert_true(set->n < METRON_MAX_RECORDS);
        if (decode_testlib_run(json->fn, &ev, line, len, &perr) != 0)
            fail_msg("%s: a parsed record is not JSON: %.80s", rel, line);
        rec = &set->r[set->n++];
        v = event_get(&ev, field_intern("original_string", 15), &vn);
        if (!v)
            fail_msg("%s: a record without original_string: %.80s", rel, line);
        rec->orig = dup_n(v, vn);
        for (size_t f = 0; f < NFIELDS; f++) {
            v = event_get(&ev, field_intern(fields[f].metron, strlen(fields[f].metron)), &vn);
            if (v && vn)
                rec->val[f] = dup_n(v, vn);
        }
    }
    decode_testlib_lines_close(&it);
}

static void free_set(struct metron_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->r[i].orig);
        for (size_t f = 0; f < NFIELDS; f++)
            free(set->r[i].val[f]);
    }
    free(set->r);
}

static const struct metron_record *find_record(const struct metron_set *set, const char *line)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->r[i].orig, line) == 0)
            return &set->r[i];
    return NULL;
}

/* decode_record() with auto-detection, in the decode_fn shape the test
 * library runs (it sets ev->raw to its copy of the line). */
static int decode_auto_fn(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                          struct parse_err *reterr)
{
    (void)p;
    (void)len;
    return decode_record(ev, NULL, ctx, reterr);
}

/* 1 when some value of ECS field `name` equals `want`, case aside. */
static int has_value(const struct event *ev, const char *name, const char *want)
{
    uint32_t id = field_intern(name, strlen(name));
    size_t wn = strlen(want);

    for (uint32_t i = 0; i < ev->nfields; i++)
        if (ev->fields[i].id == id && ev->fields[i].len == wn &&
            strncasecmp(ev->fields[i].val, want, wn) == 0)
            return 1;
    return 0;
}

struct metron_tally {
    size_t lines, taken, refused, matched, swapped, checked, agreed, reported;
};

static void check_line(const struct metron_product *p, const struct metron_set *set,
                       const char *line, size_t len, struct metron_tally *t)
{
    struct event ev;
    struct parse_err perr;
    const struct metron_record *rec;
    int swap;
    int r = decode_testlib_run(decode_auto_fn, &ev, line, len, &perr);

    t->lines++;
    if (p->refused && p->refused(line)) {
        /* Counted as refused only when the product's decoder did refuse
         * it; taken, it fails the product (taken + refused != lines). */
        if (!(r == 0 && ev.decoder && strcmp(ev.decoder, p->decoder) == 0))
            t->refused++;
        else if (t->reported++ < METRON_REPORT)
            printf("  %s: a corrupt line was taken by %s: %.100s\n", p->name, p->decoder, line);
        return;
    }
    if (r == 0 && ev.decoder && strcmp(ev.decoder, p->decoder) == 0) {
        t->taken++;
    } else if (t->reported++ < METRON_REPORT) {
        printf("  %s: not taken by %s (r=%d, decoder %s): %.100s\n", p->name, p->decoder, r,
               ev.decoder ? ev.decoder : "none", line);
    }
    rec = find_record(set, line);
    for (size_t k = 0; k < sizeof(by_position) / sizeof(by_position[0]); k++)
        if (strcmp(by_position[k], p->name) == 0)
            rec = t->lines - 1 < set->n ? &set->r[t->lines - 1] : NULL;
    if (!rec)
        return;
    t->matched++;
    swap = p->swapped && p->swapped(line);
    t->swapped += swap != 0;
    for (size_t f = 0; f < NFIELDS; f++) {
        const char *ecs = swap && fields[f].swap ? fields[f].swap : fields[f].ecs;
        char want[256];

        if (!rec->val[f])
            continue;
        snprintf(want, sizeof(want), "%s", rec->val[f]);
        for (size_t k = 0; k < sizeof(protocol_as) / sizeof(protocol_as[0]); k++) {
            if (strcmp(protocol_as[k].product, p->name) == 0 &&
                strcmp(fields[f].metron, "protocol") == 0) {
                ecs = protocol_as[k].ecs;
                snprintf(want, sizeof(want), "%s%s", protocol_as[k].prefix, rec->val[f]);
            }
        }
        t->checked++;
        if (r == 0 && has_value(&ev, ecs, want)) {
            t->agreed++;
        } else if (t->reported++ < METRON_REPORT) {
            size_t n = 0;
            const char *got = event_get(&ev, field_intern(ecs, strlen(ecs)), &n);
            printf("  %s: %s=%s wanted as %s, got %.*s: %.100s\n", p->name, fields[f].metron, want,
                   ecs, got ? (int)n : 4, got ? got : "none", line);
        }
    }
}

static void test_products(void **state)
{
    int failed = 0;

    (void)state;
    printf("%-8s %-10s %6s %6s %8s %8s %8s %8s %7s\n", "product", "decoder", "lines", "taken",
           "matched", "swapped", "checked", "agreed", "agree%");
    for (size_t i = 0; i < sizeof(products) / sizeof(products[0]); i++) {
        const struct metron_product *p = &products[i];
        struct metron_set set = {NULL, 0};
        struct metron_tally t;
        double pct;

        memset(&t, 0, sizeof(t));
        if (p->parsed)
            load_parsed(p->parsed, &set);
        for (size_t k = 0; k < METRON_MAX_RAW && p->raw[k]; k++) {
            struct decode_testlib_lines it;
            char *line;
            size_t len;

            decode_testlib_lines_open(&it, p->raw[k]);
            while (decode_testlib_lines_next(&it, &line, &len))
                check_line(p, &set, line, len, &t);
            decode_testlib_lines_close(&it);
        }
        pct = t.checked ? 100.0 * (double)t.agreed / (double)t.checked : 0;
        if (p->parsed)
            printf("%-8s %-10s %6zu %6zu %8zu %8zu %8zu %8zu %6.1f%%\n", p->name, p->decoder,
                   t.lines, t.taken, t.matched, t.swapped, t.checked, t.agreed, pct);
        else /* nothing of Metron's to agree with: taken or refused is all */
            printf("%-8s %-10s %6zu %6zu %8s %8s %8s %8s %7s (no parsed file)\n", p->name,
                   p->decoder, t.lines, t.taken, "-", "-", "-", "-", "-");
        if (t.refused)
            printf("%-8s %zu corrupt line(s) refused, as expected\n", p->name, t.refused);
        if (t.lines == 0 || t.taken + t.refused != t.lines || t.agreed != t.checked ||
            (p->parsed && (t.matched == 0 || t.checked == 0)))
            failed = 1;
        if (p->parsed)
            free_set(&set);
    }
    if (failed)
        fail_msg("some product is below 100 %% agreement with Metron (see above)");
}

/* The swap is told by the line alone: check it on the two kinds of line
 * it names and on the ones it does not. */
static void test_asa_swapped(void **state)
{
    (void)state;
    assert_true(asa_swapped("<166>Jan  5 09:52:32 h %ASA-6-302013: Built outbound TCP connection 1 "
                            "for outside:1.1.1.1/80 (1.1.1.1/80) to inside:2.2.2.2/5 (3.3.3.3/6)"));
    assert_true(asa_swapped("<166>Jan  5 09:52:32 h %ASA-6-302020: Built inbound ICMP connection "
                            "for faddr 1.1.1.1/0 gaddr 2.2.2.2/1 laddr 2.2.2.2/1"));
    assert_false(asa_swapped("<166>Jan  5 09:52:32 h %ASA-6-302020: Built outbound ICMP "
                             "connection for faddr 1.1.1.1/0 gaddr 2.2.2.2/1 laddr 2.2.2.2/1"));
    assert_false(
        asa_swapped("<166>Jan  5 09:52:32 h %ASA-6-302013: Built inbound TCP connection "
                    "1 for outside:1.1.1.1/80 (1.1.1.1/80) to inside:2.2.2.2/5 (2.2.2.2/5)"));
    assert_false(asa_swapped("<166>Jan  5 09:52:32 h %ASA-6-302014: Teardown TCP connection 1 for "
                             "outside:1.1.1.1/80 to inside:2.2.2.2/5 duration 0:00:01 bytes 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_products),
        cmocka_unit_test(test_asa_swapped),
    };

    /* Metron's samples are from 2014-2016; the syslog lines are yearless. */
    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
