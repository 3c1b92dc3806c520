/*
 * test_decode_zeek_tsv.c - Zeek's default TSV logs (decode_zeek_tsv.c) and
 * the Zeek ECS names shared with the JSON decoder (decode_zeek.c).
 *
 * The differential test: ../shared/data/network/zed-sample-data holds the
 * same traffic in Zeek's default format (zeek-default/X.log.gz) and as
 * JSON (zeek-json/X.json.gz), row for row (32 logs, 158 k records).  Every
 * file is read as `hikeshi scan` reads it: through auto-detection with one
 * decoder state for the file.  Each row must be taken by zeek-tsv, its JSON
 * twin by json, and the two events must hold the same fields with the same
 * values in the same order, but for what the two writers print differently
 * on purpose: a time is epoch seconds in the TSV and ISO 8601 in this JSON
 * (compared as instants), a double has six decimals in the TSV and all of
 * them in the JSON (compared as numbers), and the JSON writer adds _path
 * and _write_ts.  The event times must be equal.  Spot checks then pin the
 * ECS names of one real row per log of issue 24's list.
 *
 * test_json_ecs checks the ECS names of the JSON form on the first line of
 * real Zeek JSON logs (Security-Datasets apt29: http, files, conn, weird)
 * and on written lines (a stream inferred, the Kafka wrapper's edges).
 *
 * The table tests are lines written from Zeek's documented format (the
 * "Zeek TSV Format Logs" page of the Zeek manual), with hostile and cut
 * variants.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode/decode.h"
#include "decode/decode_zeek_tsv.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "util/arena.h"

#define ZED "data/network/zed-sample-data/"
#define ZEEK_LINE_MAX (1 << 20)

/* ---- table tests over written lines ---- */

static const char *const header_dns[] = {
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tdns",
    "#open\t2026-01-01-00-00-00",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\trcode_name"
    "\tAA\tanswers\tTTLs",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tbool\tvector[string]"
    "\tvector[interval]",
    NULL,
};

/* Feeds the header lines through `ctx`; each must decode as a header. */
static void feed_header(const struct decode_ctx *ctx, const char *const *h)
{
    for (size_t i = 0; h[i]; i++) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run_ctx(decode_zeek_tsv, ctx, &ev, h[i], strlen(h[i]), &perr);

        if (r != 0)
            fail_msg("header line '%s': %d (%s)", h[i], r, perr.msg ? perr.msg : "");
        assert_string_equal(ev.decoder, "zeek-tsv");
    }
}

/* The values of `name` joined with '|', into buf. */
static const char *values(const struct event *ev, const char *name, char *buf, size_t cap)
{
    uint32_t id = field_lookup(name, strlen(name));
    size_t o = 0;

    buf[0] = '\0';
    for (uint32_t i = 0; id != FIELD_NONE && i < ev->nfields; i++) {
        if (ev->fields[i].id != id)
            continue;
        o += (size_t)snprintf(buf + o, cap - o, "%s%.*s", o ? "|" : "", (int)ev->fields[i].len,
                              ev->fields[i].val);
        if (o >= cap)
            break;
    }
    return buf;
}

static void test_rows(void **state)
{
    struct decode_ctx ctx = decode_testlib_ctx();
    struct event ev;
    struct parse_err perr;
    char buf[512];
    const char *row;

    (void)state;
    ctx.stream = decode_stream_new();
    assert_non_null(ctx.stream);
    feed_header(&ctx, header_dns);

    row = "1521911720.865716\tCqKst5\t10.47.1.100\t41772\t10.0.0.100\t53\tUDP\tise.wrccdc.org"
          "\tNOERROR\tT\tise.wrccdc.cpp.edu,134.71.3.16\t2230.000000,41830.000000";
    assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, row, strlen(row), &perr),
                     0);
    {
        static const char *const want[] = {
            "source.ip",
            "10.47.1.100",
            "source.port",
            "41772",
            "destination.ip",
            "10.0.0.100",
            "destination.port",
            "53",
            "network.transport",
            "udp",
            "proto",
            "UDP",
            "dns.question.name",
            "ise.wrccdc.org",
            "dns.response_code",
            "NOERROR",
            "event.outcome",
            "success",
            "event.dataset",
            "zeek.dns",
            "AA",
            "true",
            "@timestamp",
            "2018-03-24T17:15:20.865716Z",
            NULL,
        };
        decode_testlib_expect_fields(&ev, want, row);
    }
    assert_string_equal(ev.decoder, "zeek-tsv");
    assert_int_equal(ev.time_us, 1521911720865716LL);
    assert_string_equal(values(&ev, "answers", buf, sizeof(buf)), "ise.wrccdc.cpp.edu|134.71.3.16");
    assert_string_equal(values(&ev, "TTLs", buf, sizeof(buf)), "2230.000000|41830.000000");

    /* unset gives no field, (empty) no element of a vector and the empty
     * string for a string; escapes decoded; NXDOMAIN a failure. */
    row = "1521911721.000000\t-\t10.0.0.1\t1\t10.0.0.2\t53\tudp\ta\\x09b\\\\c\\x2cd\tNXDOMAIN\tF"
          "\t(empty)\tx\\x2cy,-,z";
    assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, row, strlen(row), &perr),
                     0);
    decode_testlib_expect_field(&ev, "uid", NULL, row);
    decode_testlib_expect_field(&ev, "answers", NULL, row);
    decode_testlib_expect_field(&ev, "query", "a\tb\\c,d", row);
    decode_testlib_expect_field(&ev, "AA", "false", row);
    decode_testlib_expect_field(&ev, "event.outcome", "failure", row);
    assert_string_equal(values(&ev, "TTLs", buf, sizeof(buf)), "x,y|z");

    /* a string that is empty */
    row = "1521911721.000000\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\t(empty)\t-\t-\t-\t-";
    assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, row, strlen(row), &perr),
                     0);
    decode_testlib_expect_field(&ev, "query", "", row);
    decode_testlib_expect_field(&ev, "event.outcome", NULL, row);

    /* column counts that differ from the header's, and cut rows */
    assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, "1\t2\t3", 5, &perr),
                     -EINVAL);
    assert_int_equal(perr.off, 5);
    row = "1521911721.000000\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\tq\t-\t-\t-\t-\textra";
    assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, row, strlen(row), &perr),
                     -EINVAL);
    assert_non_null(perr.msg);
    for (size_t cut = 1; cut < 40; cut++) {
        row = "1521911721.000000\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tudp\tq\t-\t-\t-\t-";
        assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, row, cut, &perr),
                         -EINVAL);
    }
    decode_stream_free(ctx.stream);
}

/* decode_testlib_expect_bad runs with the fixed context (no stream): a
 * row cannot be told from any other line there. */
static void test_no_stream(void **state)
{
    const char *row = "1521911720.865716\tCqKst5\t10.47.1.100\t41772";
    struct event ev;
    struct parse_err perr;

    (void)state;
    decode_testlib_expect_bad(decode_zeek_tsv, 0, row, strlen(row), -ENOENT, 0);
    /* a header line is still understood, and forgotten */
    assert_int_equal(decode_testlib_run(decode_zeek_tsv, &ev, "#path\tconn", 10, &perr), 0);
    decode_testlib_expect_field(&ev, "zeek.header", "path", NULL);
    decode_testlib_expect_field(&ev, "event.dataset", "zeek.conn", NULL);
    decode_testlib_expect_bad(decode_zeek_tsv, 1, row, strlen(row), -ENOENT, 0);
}

static void test_bad_headers(void **state)
{
    struct decode_ctx ctx = decode_testlib_ctx();
    struct event ev;
    struct parse_err perr;
    static const struct {
        const char *line;
        size_t off;
    } bad[] = {
        {"#separator \\x09\\x09", 11}, /* two bytes */
        {"#separator ", 11},
        {"#set_separator\t,,", 15},
        {"#path\t../x", 6},
        {"#path\t", 6},
        {"#types\ttime\tstring", 18}, /* fewer types than the fields above */
        {"#types\ttime\tstring\taddr\tport", 24},
        {"#fields\tts\t\tuid", 11}, /* an empty name */
        {"#fields", 0},             /* names nothing: one empty name */
    };
    char big[LIMIT_ZEEK_COLUMNS * 3 + 16];
    size_t o;

    (void)state;
    ctx.stream = decode_stream_new();
    assert_non_null(ctx.stream);
    feed_header(&ctx,
                (const char *const[]){"#separator \\x09", "#fields\tts\tuid\tid.orig_h", NULL});
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, bad[i].line, strlen(bad[i].line),
                                       &perr);
        if (r != -EINVAL || !perr.msg)
            fail_msg("case %zu '%s': %d", i, bad[i].line, r);
        if (strncmp(bad[i].line, "#fields", 7) != 0 && perr.off != bad[i].off)
            fail_msg("case %zu '%s': offset %zu, want %zu", i, bad[i].line, perr.off, bad[i].off);
    }
    /* more columns than kept */
    o = (size_t)snprintf(big, sizeof(big), "#fields");
    for (size_t c = 0; c <= LIMIT_ZEEK_COLUMNS; c++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "\tc%zu", c % 10);
    assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, big, o, &perr), -EINVAL);
    /* a refused #fields leaves no header: rows are not claimed */
    assert_false(decode_zeek_tsv_claims(&ctx, "1\t2", 3));
    /* a comma as the separator, as Zeek may be told to write */
    feed_header(&ctx, (const char *const[]){"#separator ,", "#path,conn", "#fields,ts,proto",
                                            "#types,time,enum", NULL});
    assert_int_equal(decode_testlib_run_ctx(decode_zeek_tsv, &ctx, &ev, "5.5,TCP", 7, &perr), 0);
    decode_testlib_expect_field(&ev, "network.transport", "tcp", NULL);
    decode_testlib_expect_field(&ev, "event.dataset", "zeek.conn", NULL);
    assert_int_equal(ev.time_us, 5500000);
    decode_stream_free(ctx.stream);
}

/* ---- the Zeek ECS names on real JSON lines (Security-Datasets apt29) ---- */

#define APT29                                                                                      \
    "data/network/Security-Datasets-apt29/datasets/compound/apt29/day1/zeek/"                      \
    "individual_zeek_logs/"

static const struct {
    const char *file;
    struct decode_testlib_kv f[16];
} json_first[] = {
    {APT29 "SCRANTON_http.log",
     {{"event.dataset", "zeek.http"},
      {"source.ip", "10.0.1.4"},
      {"destination.port", "80"},
      {"http.request.method", "OPTIONS"},
      {"http.response.status_code", "403"},
      {"event.outcome", "failure"},
      {"url.original", "/"},
      {"url.path", "/"},
      {"url.domain", "192.168.0.4"},
      {"user_agent.original", "DavClnt"},
      {"http.version", "1.1"},
      {NULL, NULL}}},
    {APT29 "NASHUA_files.log",
     {{"event.dataset", "zeek.files"},
      {"file.hash.md5", "cc85d7649546d3c0b1607f761b73fec2"},
      {"file.hash.sha1", "1a1a10b819f321b91b47d7dd73668406a15992db"},
      {"file.mime_type", "text/ini"},
      {"file.size", "22"},
      {"source.ip", "10.0.0.4"},
      {"destination.ip", "10.0.1.6"},
      {NULL, NULL}}},
    {APT29 "NASHUA_conn.log",
     {{"event.dataset", "zeek.conn"},
      {"source.ip", "10.0.1.6"},
      {"destination.ip", "10.0.0.4"},
      {"network.transport", "udp"},
      {"network.protocol", "dns"},
      {"source.bytes", "67"},
      {"destination.bytes", "83"},
      {"source.packets", "1"},
      {NULL, NULL}}},
    {APT29 "SCRANTON_weird.log", /* no connection id: told by @stream */
     {{"event.dataset", "zeek.weird"}, {"rule.name", "ip_hdr_len_zero"}, {NULL, NULL}}},
};

static void test_json_ecs(void **state)
{
    const struct decoder *json = decode_lookup("json");
    struct event ev;
    struct parse_err perr;

    (void)state;
    assert_non_null(json);
    for (size_t i = 0; i < sizeof(json_first) / sizeof(json_first[0]); i++) {
        struct decode_testlib_lines it;
        char *line;
        size_t len;

        decode_testlib_lines_open(&it, json_first[i].file);
        assert_true(decode_testlib_lines_next(&it, &line, &len));
        assert_int_equal(decode_testlib_run(json->fn, &ev, line, len, &perr), 0);
        for (size_t k = 0; json_first[i].f[k].name; k++)
            decode_testlib_expect_field(&ev, json_first[i].f[k].name, json_first[i].f[k].want,
                                        json_first[i].file);
        decode_testlib_lines_close(&it);
    }
    /* no stream named: inferred from a column only dns.log has */
    {
        const char *l = "{\"ts\":1.5,\"id.orig_h\":\"192.0.2.1\",\"query\":\"example.org\","
                        "\"qtype_name\":\"A\",\"rcode_name\":\"NXDOMAIN\"}";
        assert_int_equal(decode_testlib_run(json->fn, &ev, l, strlen(l), &perr), 0);
        decode_testlib_expect_field(&ev, "event.dataset", "zeek.dns", l);
        decode_testlib_expect_field(&ev, "dns.question.name", "example.org", l);
        decode_testlib_expect_field(&ev, "event.outcome", "failure", l);
    }
    /* the Kafka wrapper with another member beside it: an ordinary object */
    {
        const char *l = "{\"dns\":{\"ts\":1.5,\"query\":\"a\"},\"x\":1}";
        assert_int_equal(decode_testlib_run(json->fn, &ev, l, strlen(l), &perr), 0);
        decode_testlib_expect_field(&ev, "dns.query", "a", l);
        decode_testlib_expect_field(&ev, "query", NULL, l);
        decode_testlib_expect_field(&ev, "x", "1", l);
    }
    /* a cut wrapper is refused */
    {
        const char *l = "{\"dns\":{\"ts\":1.5,\"query\":\"a\"}";
        assert_int_equal(decode_testlib_run(json->fn, &ev, l, strlen(l), &perr), -EINVAL);
    }
    /* ssl versions to ECS */
    {
        const char *l = "{\"_path\":\"ssl\",\"ts\":1,\"version\":\"SSLv3\",\"established\":false}";
        assert_int_equal(decode_testlib_run(json->fn, &ev, l, strlen(l), &perr), 0);
        decode_testlib_expect_field(&ev, "tls.version", "3.0", l);
        decode_testlib_expect_field(&ev, "tls.version_protocol", "ssl", l);
        decode_testlib_expect_field(&ev, "event.outcome", "failure", l);
    }
}

/* ---- the differential test over the zed sample ---- */

struct gz_lines {
    gzFile f;
    char *buf;
};

static void gz_open(struct gz_lines *g, const char *rel)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", decode_testlib_shared_dir(), rel);
    g->f = gzopen(path, "rb");
    if (!g->f)
        fail_msg("%s: cannot open", path);
    g->buf = malloc(ZEEK_LINE_MAX);
    assert_non_null(g->buf);
}

/* The next line without its "\n", or NULL at the end. */
static char *gz_next(struct gz_lines *g, size_t *ret_len)
{
    size_t n;

    if (!gzgets(g->f, g->buf, ZEEK_LINE_MAX))
        return NULL;
    n = strlen(g->buf);
    if (n == ZEEK_LINE_MAX - 1 && g->buf[n - 1] != '\n')
        fail_msg("a line longer than the test reads");
    if (n && g->buf[n - 1] == '\n')
        n--;
    *ret_len = n;
    return g->buf;
}

static void gz_close(struct gz_lines *g)
{
    gzclose(g->f);
    free(g->buf);
}

/* 1 when a (TSV) and b (JSON) are the same value as the two writers print
 * it: equal, the same instant (epoch seconds vs ISO 8601), or the same
 * number to the TSV's six decimals. */
static int same_value(const char *a, size_t an, const char *b, size_t bn)
{
    char x[64], y[64], *ex, *ey;
    int64_t ua, ub;
    size_t used;
    double da, db;

    if (an == bn && memcmp(a, b, an) == 0)
        return 1;
    if (time_parse_epoch(a, an, &ua, &used) == 0 && used == an &&
        time_parse_iso8601(b, bn, NULL, &ub, &used) == 0 && used == bn)
        return ua == ub;
    if (an == 0 || bn == 0 || an >= sizeof(x) || bn >= sizeof(y))
        return 0;
    memcpy(x, a, an);
    x[an] = '\0';
    memcpy(y, b, bn);
    y[bn] = '\0';
    da = strtod(x, &ex);
    if (*ex)
        return 0;
    /* a time the TSV writer printed as "2.385616957e+09" */
    if (time_parse_iso8601(b, bn, NULL, &ub, &used) == 0 && used == bn)
        return fabs(da * 1e6 - (double)ub) <= 1e-9 * fabs((double)ub) + 1;
    db = strtod(y, &ey);
    if (*ey)
        return 0;
    return fabs(da - db) <= 5e-7 * (fabs(db) > 1 ? fabs(db) : 1) + 1e-12;
}

/* The JSON writer's own members, and the time's copies, compared apart. */
static int skipped(uint32_t id)
{
    static uint32_t ids[4];

    if (!ids[0]) {
        ids[0] = field_intern("_path", 5);
        ids[1] = field_intern("_write_ts", 9);
        ids[2] = FIELD_TIMESTAMP;
        ids[3] = FIELD_EVENT_ORIGINAL_TIME;
    }
    for (size_t k = 0; k < 4; k++)
        if (ids[k] == id)
            return 1;
    return 0;
}

/* 1 when t has no value of `id` and j exactly one, empty. */
static int empty_only(const struct event *t, const struct event *j, uint32_t id)
{
    size_t nt = 0, nj = 0, empty = 0;

    for (uint32_t i = 0; i < t->nfields; i++)
        nt += t->fields[i].id == id;
    for (uint32_t i = 0; i < j->nfields; i++) {
        if (j->fields[i].id == id) {
            nj++;
            empty += j->fields[i].len == 0;
        }
    }
    return nt == 0 && nj == 1 && empty == 1;
}

/* Compares the fields of t (TSV) and j (JSON): for every name, the same
 * values in the same order.  Returns NULL or what differs; counts in
 * *ambiguous the names accepted by empty_only(). */
static const char *compare(const struct event *t, const struct event *j, char *why, size_t cap,
                           size_t *ambiguous)
{
    const struct event *evs[2] = {t, j};

    for (int side = 0; side < 2; side++) {
        const struct event *e = evs[side];

        for (uint32_t i = 0; i < e->nfields; i++) {
            uint32_t id = e->fields[i].id, a = 0, b = 0;

            if (skipped(id))
                continue;
            /* walk the values of id in both events, in order */
            for (;;) {
                while (a < t->nfields && t->fields[a].id != id)
                    a++;
                while (b < j->nfields && j->fields[b].id != id)
                    b++;
                if (a >= t->nfields || b >= j->nfields)
                    break;
                if (!same_value(t->fields[a].val, t->fields[a].len, j->fields[b].val,
                                j->fields[b].len)) {
                    snprintf(why, cap, "%s: tsv '%.*s' json '%.*s'", field_name(id),
                             (int)t->fields[a].len, t->fields[a].val, (int)j->fields[b].len,
                             j->fields[b].val);
                    return why;
                }
                a++;
                b++;
            }
            if (b < j->nfields && a >= t->nfields && empty_only(t, j, id)) {
                /* Zeek writes a set holding one empty string as (empty), as
                 * it writes the empty set: the TSV cannot tell them apart. */
                (*ambiguous)++;
                continue;
            }
            if (a < t->nfields || b < j->nfields) {
                snprintf(why, cap, "%s: %s has more values", field_name(id),
                         a < t->nfields ? "tsv" : "json");
                return why;
            }
        }
    }
    if (t->has_time != j->has_time || t->time_us != j->time_us) {
        snprintf(why, cap, "event time %lld vs %lld", (long long)t->time_us, (long long)j->time_us);
        return why;
    }
    return NULL;
}

/* One real row's ECS names per log of issue 24's list (the first row). */
static const struct {
    const char *log;
    const char *pairs[16];
} spot[] = {
    {"dns",
     {"dns.question.name", "ise.wrccdc.org", "dns.question.type", "A", "event.outcome", "success",
      "source.ip", "10.47.1.100", "destination.port", "53", "event.dataset", "zeek.dns", NULL}},
    {"ssl",
     {"tls.version", "1.0", "tls.version_protocol", "tls", "tls.cipher",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "tls.established", "true", "event.outcome", "success",
      "destination.port", "443", NULL}},
    {"notice",
     {"rule.name", "SSL::Invalid_Server_Cert", "message",
      "SSL certificate validation failed with (unable to get local issuer certificate)",
      "event.kind", "alert", "source.ip", "10.164.94.120", NULL}},
    {"weird",
     {"rule.name", "TCP_ack_underflow_or_misorder", "event.dataset", "zeek.weird", "destination.ip",
      "23.217.103.245", NULL}},
};

static void spot_check(const char *log, const struct event *ev)
{
    for (size_t s = 0; s < sizeof(spot) / sizeof(spot[0]); s++)
        if (strcmp(spot[s].log, log) == 0)
            decode_testlib_expect_fields(ev, spot[s].pairs, log);
}

static const char *const zed_logs[] = {
    "analyzer",    "capture_loss",
    "dce_rpc",     "dns",
    "dpd",         "ftp",
    "kerberos",    "known_certs",
    "known_hosts", "known_services",
    "ldap_search", "loaded_scripts",
    "modbus",      "notice",
    "ntlm",        "ntp",
    "ocsp",        "packet_filter",
    "pe",          "rdp",
    "rfb",         "smb_files",
    "smb_mapping", "smtp",
    "snmp",        "software",
    "ssh",         "ssl",
    "stats",       "syslog",
    "weird",       "x509",
};

static void test_differential(void **state)
{
    struct arena at, aj;
    size_t total = 0, headers = 0;
    int failed = 0;

    (void)state;
    arena_init(&at, 0);
    arena_init(&aj, 0);
    for (size_t l = 0; l < sizeof(zed_logs) / sizeof(zed_logs[0]); l++) {
        struct decode_ctx ctx = decode_testlib_ctx(), ctxj = decode_testlib_ctx();
        struct gz_lines gt, gj;
        char rel[256], why[512];
        char *tl, *jl;
        size_t tn = 0, jn = 0, rows = 0, bad = 0, amb = 0;

        ctx.stream = decode_stream_new();
        assert_non_null(ctx.stream);
        snprintf(rel, sizeof(rel), ZED "zeek-default/%s.log.gz", zed_logs[l]);
        gz_open(&gt, rel);
        snprintf(rel, sizeof(rel), ZED "zeek-json/%s.json.gz", zed_logs[l]);
        gz_open(&gj, rel);
        while ((tl = gz_next(&gt, &tn)) != NULL) {
            struct event t, j;
            struct parse_err pt, pj;
            int rt, rj;
            const char *d;

            arena_reset(&at);
            event_init(&t, &at, tl, tn, DECODE_TESTLIB_T2026);
            rt = decode_record(&t, NULL, &ctx, &pt);
            if (rt != 0 || !t.decoder || strcmp(t.decoder, "zeek-tsv") != 0)
                fail_msg("%s: not taken by zeek-tsv (%d %s): %.120s", zed_logs[l], rt,
                         pt.msg ? pt.msg : "", tl);
            if (tl[0] == '#') {
                headers++;
                continue;
            }
            rows++;
            if (!(jl = gz_next(&gj, &jn)))
                fail_msg("%s: more TSV rows than JSON lines", zed_logs[l]);
            arena_reset(&aj);
            event_init(&j, &aj, jl, jn, DECODE_TESTLIB_T2026);
            rj = decode_record(&j, NULL, &ctxj, &pj);
            if (rj != 0 || !j.decoder || strcmp(j.decoder, "json") != 0)
                fail_msg("%s: JSON line not taken by json (%d): %.120s", zed_logs[l], rj, jl);
            if ((d = compare(&t, &j, why, sizeof(why), &amb)) != NULL) {
                if (bad++ < 3)
                    printf("  %s row %zu: %s\n", zed_logs[l], rows, d);
                failed = 1;
            }
            if (rows == 1) {
                spot_check(zed_logs[l], &t);
                spot_check(zed_logs[l], &j);
            }
            event_reset(&t);
            event_reset(&j);
        }
        if (gz_next(&gj, &jn))
            fail_msg("%s: more JSON lines than TSV rows", zed_logs[l]);
        printf("%-16s %7zu rows, %zu differ, %zu (empty) sets read as []\n", zed_logs[l], rows, bad,
               amb);
        assert_true(rows > 0);
        total += rows;
        gz_close(&gt);
        gz_close(&gj);
        decode_stream_free(ctx.stream);
    }
    printf("zed sample: %zu rows and %zu header lines, TSV and JSON compared\n", total, headers);
    arena_done(&at);
    arena_done(&aj);
    if (failed)
        fail_msg("some rows differ between the TSV and the JSON form (see above)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),         cmocka_unit_test(test_no_stream),
        cmocka_unit_test(test_bad_headers),  cmocka_unit_test(test_json_ecs),
        cmocka_unit_test(test_differential),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, DECODE_TESTLIB_T2026);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
