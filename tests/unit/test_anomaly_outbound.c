/*
 * test_anomaly_outbound.c - the outbound detectors of anomaly_outbound.c:
 * first external destinations, outbound volume, DNS tunnelling; their
 * options, saving and restoring; and that real Zeek DNS traffic (zed sample
 * data, the OTRF APT29 capture) raises no DNS tunnel alert.
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
#include <zlib.h>

#include "decode/decode.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "triage/anomaly.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/parse_err.h"
#include "util/readfile.h"

#define SEC 1000000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* Monday 2023-12-04 00:00:00 UTC. */
static int64_t t0(void)
{
    return time_from_civil(2023, 12, 4, 0, 0, 0) * SEC;
}

struct evb {
    struct arena ar;
    struct event ev;
};

struct got {
    unsigned n[ANOMALY_KIND_COUNT];
    unsigned total;
    char ent[3][256];
    char sample[256];
    struct buf text;
};

static int collect(const struct anomaly_alert *al, void *arg)
{
    struct got *g = arg;

    g->n[al->kind]++;
    g->total++;
    for (unsigned i = 0; i < 3; i++)
        g->ent[i][0] = '\0';
    for (unsigned i = 0; i < al->nentity && i < 3; i++)
        snprintf(g->ent[i], sizeof(g->ent[i]), "%s=%.*s", al->entity[i].field,
                 (int)al->entity[i].len, al->entity[i].val);
    snprintf(g->sample, sizeof(g->sample), "%.*s", al->sample ? (int)al->sample_len : 0,
             al->sample ? al->sample : "");
    assert_int_equal(anomaly_alert_text(al, &g->text), 0);
    assert_int_equal(buf_putc(&g->text, '\n'), 0);
    assert_int_equal(anomaly_alert_json(al, &g->text), 0);
    assert_int_equal(buf_putc(&g->text, '\n'), 0);
    return 0;
}

/* Observes `ev`, then hands each alert it raised (kept by the anomaly until
 * the next observe) to cb, in order. */
static int observe(struct anomaly *a, const struct event *ev,
                   int (*cb)(const struct anomaly_alert *, void *), void *arg)
{
    int r = anomaly_observe(a, ev);

    for (size_t i = 0; i < anomaly_alert_count(a); i++)
        cb(anomaly_alert_get(a, i), arg);
    return r;
}

static void got_init(struct got *g)
{
    memset(g, 0, sizeof(*g));
    buf_init(&g->text, 16 * 1024 * 1024);
}

static void got_done(struct got *g)
{
    buf_done(&g->text);
}

/* Options with the other detectors off, so that counts are ours alone. */
static void opts_outbound_only(struct anomaly_opts *o)
{
    anomaly_opts_default(o);
    o->rate_enable = 0;
    o->first_seen_enable = 0;
    o->beacon_enable = 0;
}

static struct anomaly *new_anomaly(const struct anomaly_opts *o)
{
    struct anomaly *a = NULL;

    assert_int_equal(anomaly_new(o, &a), 0);
    return a;
}

/* One connection record: src -> dst:port, bytes each way (NULL: absent). */
static void conn(struct anomaly *a, struct evb *b, struct got *g, int64_t t, const char *src,
                 const char *dst, const char *port, const char *sbytes, const char *dbytes,
                 const char *type)
{
    event_init(&b->ev, &b->ar, "", 0, t);
    b->ev.has_time = 1;
    b->ev.decoder = "json";
    assert_int_equal(event_add_str(&b->ev, FIELD_SOURCE_IP, src), 0);
    assert_int_equal(event_add_str(&b->ev, FIELD_DESTINATION_IP, dst), 0);
    if (port)
        assert_int_equal(event_add_str(&b->ev, FIELD_DESTINATION_PORT, port), 0);
    if (sbytes)
        assert_int_equal(event_add_str(&b->ev, FIELD_SOURCE_BYTES, sbytes), 0);
    if (dbytes)
        assert_int_equal(event_add_str(&b->ev, FIELD_DESTINATION_BYTES, dbytes), 0);
    if (type)
        assert_int_equal(event_add_str(&b->ev, FIELD_EVENT_TYPE, type), 0);
    assert_int_equal(observe(a, &b->ev, collect, g), 0);
    event_reset(&b->ev);
}

static void dnsq(struct anomaly *a, struct evb *b, struct got *g, int64_t t, const char *client,
                 const char *name, const char *type)
{
    event_init(&b->ev, &b->ar, "", 0, t);
    b->ev.has_time = 1;
    b->ev.decoder = "json";
    assert_int_equal(event_add_str(&b->ev, FIELD_SOURCE_IP, client), 0);
    assert_int_equal(event_add_str(&b->ev, FIELD_DESTINATION_IP, "10.0.0.53"), 0);
    assert_int_equal(event_add_str(&b->ev, field_intern("dns.question.name", 17), name), 0);
    if (type)
        assert_int_equal(event_add_str(&b->ev, field_intern("dns.type", 8), type), 0);
    assert_int_equal(observe(a, &b->ev, collect, g), 0);
    event_reset(&b->ev);
}

/* A name as a tunnel tool makes it: `len` characters of hex (two per
 * byte of a counter-driven pseudo-random stream), split in labels of 60. */
static void tunnel_name(char *out, size_t cap, unsigned seq, size_t len, const char *domain)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t x = 0x9e3779b97f4a7c15ULL * (seq + 1);
    size_t o = 0;

    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        if (i && i % 60 == 0)
            out[o++] = '.';
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out[o++] = hex[(x * 0x2545F4914F6CDD1DULL) >> 60];
    }
    snprintf(out + o, cap - o, ".%s", domain);
}

/* ---- DNS tunnelling --------------------------------------------------- */

static void test_dns_tunnel_fires_once(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a;
    struct evb b;
    struct got g;
    char name[300];

    (void)state;
    opts_outbound_only(&o);
    a = new_anomaly(&o);
    got_init(&g);
    arena_init(&b.ar, 0);
    /* 29 distinct names: one short of dns_min_names. */
    for (unsigned i = 0; i < 29; i++) {
        tunnel_name(name, sizeof(name), i, 48, "exfil-example.com");
        dnsq(a, &b, &g, t0() + i * SEC, "10.1.2.3", name, NULL);
    }
    assert_int_equal(g.total, 0);
    /* The same names again add nothing. */
    for (unsigned i = 0; i < 29; i++) {
        tunnel_name(name, sizeof(name), i, 48, "exfil-example.com");
        dnsq(a, &b, &g, t0() + (30 + i) * SEC, "10.1.2.3", name, NULL);
    }
    assert_int_equal(g.total, 0);
    /* The 30th distinct one fires, with the name and the domain. */
    tunnel_name(name, sizeof(name), 29, 48, "Exfil-Example.COM.");
    dnsq(a, &b, &g, t0() + 70 * SEC, "10.1.2.3", name, NULL);
    assert_int_equal(g.n[ANOMALY_DNS_TUNNEL], 1);
    assert_string_equal(g.ent[0], "source.ip=10.1.2.3");
    assert_string_equal(g.ent[1], "dns.question.registered_domain=exfil-example.com");
    assert_non_null(strstr(g.sample, ".exfil-example.com"));
    assert_non_null(strstr(g.text.data, "30 distinct long, high-entropy names"));
    /* More names in the quiet hour: no second alert. */
    for (unsigned i = 30; i < 200; i++) {
        tunnel_name(name, sizeof(name), i, 48, "exfil-example.com");
        dnsq(a, &b, &g, t0() + (80 + i) * SEC, "10.1.2.3", name, NULL);
    }
    assert_int_equal(g.n[ANOMALY_DNS_TUNNEL], 1);
    /* After the quiet time, a new window of 30 names alerts again. */
    for (unsigned i = 200; i < 230; i++) {
        tunnel_name(name, sizeof(name), i, 48, "exfil-example.com");
        dnsq(a, &b, &g, t0() + 2 * HOUR + i * SEC, "10.1.2.3", name, NULL);
    }
    assert_int_equal(g.n[ANOMALY_DNS_TUNNEL], 2);
    arena_done(&b.ar);
    got_done(&g);
    anomaly_free(a);
}

static void test_dns_tunnel_negatives(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a;
    struct evb b;
    struct got g;
    char name[300];

    (void)state;
    opts_outbound_only(&o);
    a = new_anomaly(&o);
    got_init(&g);
    arena_init(&b.ar, 0);
    for (unsigned i = 0; i < 100; i++) {
        int64_t t = t0() + i * SEC;
        /* Spread over 100 domains: no one domain gets many. */
        char dom[64];
        snprintf(dom, sizeof(dom), "d%u-example.net", i);
        tunnel_name(name, sizeof(name), i, 48, dom);
        dnsq(a, &b, &g, t, "10.1.2.3", name, NULL);
        /* Reverse lookups: nibbles by design. */
        tunnel_name(name, sizeof(name), i, 32, "ip6.arpa");
        dnsq(a, &b, &g, t, "10.1.2.3", name, NULL);
        /* Long but repetitive: low entropy. */
        snprintf(name, sizeof(name), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%u.example.org", i);
        dnsq(a, &b, &g, t, "10.1.2.3", name, NULL);
        /* Short random labels: below dns_min_len. */
        tunnel_name(name, sizeof(name), i, 16, "cdn.example.com");
        dnsq(a, &b, &g, t, "10.1.2.3", name, NULL);
        /* The answers of a tunnel, and a tunnel from an outside client. */
        tunnel_name(name, sizeof(name), i, 48, "exfil-example.com");
        dnsq(a, &b, &g, t, "10.1.2.3", name, "answer");
        dnsq(a, &b, &g, t, "198.51.100.7", name, NULL);
    }
    if (g.total)
        print_message("%s", g.text.data);
    assert_int_equal(g.total, 0);
    /* A window that ends before the 30th name: 25 names every 11 minutes. */
    for (unsigned w = 0; w < 4; w++)
        for (unsigned i = 0; i < 25; i++) {
            tunnel_name(name, sizeof(name), 1000 + w * 25 + i, 48, "slow-example.com");
            dnsq(a, &b, &g, t0() + HOUR + w * 11 * MIN + i * SEC, "10.1.2.4", name, NULL);
        }
    assert_int_equal(g.total, 0);
    arena_done(&b.ar);
    got_done(&g);
    anomaly_free(a);
}

/* Decodes every line of a (gzipped or plain) JSON file and feeds it. */
static void feed_file(struct anomaly *a, struct got *g, const char *path, unsigned *ret_lines,
                      unsigned *ret_names)
{
    gzFile f = gzopen(path, "rb");
    static char line[65536];
    struct evb b;
    uint32_t id = field_intern("dns.question.name", 17);

    assert_non_null(f);
    arena_init(&b.ar, 0);
    while (gzgets(f, line, sizeof(line))) {
        size_t n = strlen(line);
        struct decode_ctx ctx = {.ref_us = t0()};
        struct parse_err err;
        size_t vn;

        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        event_init(&b.ev, &b.ar, line, n, ctx.ref_us);
        if (decode_record(&b.ev, NULL, &ctx, &err) == 0) {
            (*ret_lines)++;
            if (event_get(&b.ev, id, &vn))
                (*ret_names)++;
            assert_int_equal(observe(a, &b.ev, collect, g), 0);
        }
        event_reset(&b.ev);
    }
    gzclose(f);
    arena_done(&b.ar);
}

static void test_dns_tunnel_real_zeek_quiet(void **state)
{
    static const char *const files[] = {
        "data/network/zed-sample-data/zeek-json/dns.json.gz",
        "data/network/Security-Datasets-apt29/datasets/compound/apt29/day1/zeek/"
        "individual_zeek_logs/NASHUA_dns.log",
        "data/network/Security-Datasets-apt29/datasets/compound/apt29/day2/zeek/"
        "individual_zeek_logs/NEWYORK_dns.log",
        "data/network/Security-Datasets-apt29/datasets/compound/apt29/day2/zeek/"
        "individual_zeek_logs/UTICA-A_dns.log",
    };
    const char *shared = getenv("HIKESHI_SHARED");
    struct anomaly_opts o;
    struct anomaly *a;
    struct got g;
    unsigned lines = 0, names = 0;

    (void)state;
    if (!shared)
        shared = "../shared";
    opts_outbound_only(&o);
    o.external_enable = 0;
    o.volume_enable = 0;
    a = new_anomaly(&o);
    got_init(&g);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", shared, files[i]);
        feed_file(a, &g, path, &lines, &names);
    }
    print_message("real Zeek DNS: %u records, %u with a query name, %u alerts\n", lines, names,
                  g.total);
    /* The decoder names the query of (nearly) every record: the detector
     * really looked at them. */
    assert_true(lines > 53000);
    assert_true(names > 50000);
    if (g.total)
        print_message("%s", g.text.data);
    assert_int_equal(g.n[ANOMALY_DNS_TUNNEL], 0);
    got_done(&g);
    anomaly_free(a);
}

/* ---- first external destination -------------------------------------- */

static void test_first_external(void **state)
{
    static const char *const usual[] = {"198.51.100.10", "198.51.100.11", "203.0.113.5"};
    struct anomaly_opts o;
    struct anomaly *a;
    struct evb b;
    struct got g;
    int64_t t8 = t0() + 8 * DAY + 10 * HOUR;

    (void)state;
    opts_outbound_only(&o);
    o.volume_enable = 0;
    a = new_anomaly(&o);
    got_init(&g);
    arena_init(&b.ar, 0);
    /* Learning week: a server with three usual destinations, and a
     * workstation finding 20 new ones a day. */
    for (int d = 0; d < 8; d++) {
        for (int h = 0; h < 24; h += 2)
            for (size_t i = 0; i < 3; i++)
                conn(a, &b, &g, t0() + d * DAY + h * HOUR + (int64_t)i * MIN, "10.0.0.5", usual[i],
                     "443", NULL, NULL, NULL);
        for (int i = 0; i < 20; i++) {
            char dst[32];
            snprintf(dst, sizeof(dst), "192.0.2.%d", (d * 20 + i) % 250 + 1);
            conn(a, &b, &g, t0() + d * DAY + 9 * HOUR + i * MIN, "10.0.0.6", dst, "443", NULL, NULL,
                 NULL);
        }
    }
    assert_int_equal(g.total, 0);
    /* Known address on a common port: nothing.  On an uncommon port: new. */
    conn(a, &b, &g, t8, "10.0.0.5", usual[0], "443", NULL, NULL, NULL);
    assert_int_equal(g.total, 0);
    conn(a, &b, &g, t8 + SEC, "10.0.0.5", usual[0], "4444", NULL, NULL, NULL);
    assert_int_equal(g.n[ANOMALY_FIRST_EXTERNAL], 1);
    assert_string_equal(g.ent[2], "destination.port=4444");
    /* A new address on 443: the address alone. */
    conn(a, &b, &g, t8 + 2 * SEC, "10.0.0.5", "203.0.113.200", "443", NULL, NULL, NULL);
    assert_int_equal(g.n[ANOMALY_FIRST_EXTERNAL], 2);
    assert_string_equal(g.ent[1], "destination.ip=203.0.113.200");
    assert_string_equal(g.ent[2], "");
    /* Again: known now. */
    conn(a, &b, &g, t8 + 3 * SEC, "10.0.0.5", "203.0.113.200", "443", NULL, NULL, NULL);
    assert_int_equal(g.total, 2);
    /* Never: inbound, internal to internal, refused, special addresses. */
    conn(a, &b, &g, t8 + 4 * SEC, "203.0.113.99", "10.0.0.5", "22", NULL, NULL, NULL);
    conn(a, &b, &g, t8 + 5 * SEC, "10.0.0.5", "10.9.9.9", "8443", NULL, NULL, NULL);
    conn(a, &b, &g, t8 + 6 * SEC, "10.0.0.5", "203.0.113.77", "6667", NULL, NULL, "denied");
    conn(a, &b, &g, t8 + 7 * SEC, "10.0.0.5", "224.0.0.251", "5353", NULL, NULL, NULL);
    conn(a, &b, &g, t8 + 8 * SEC, "10.0.0.5", "127.0.0.1", "9000", NULL, NULL, NULL);
    assert_int_equal(g.total, 2);
    /* The workstation's new destinations are its normal. */
    conn(a, &b, &g, t8 + 9 * SEC, "10.0.0.6", "198.18.0.1", "443", NULL, NULL, NULL);
    conn(a, &b, &g, t8 + 10 * SEC, "10.0.0.6", "198.18.0.2", "8080", NULL, NULL, NULL);
    assert_int_equal(g.total, 2);
    /* A burst from the server: at most external_max_alerts_per_day (5). */
    for (int i = 0; i < 20; i++) {
        char dst[32];
        snprintf(dst, sizeof(dst), "198.18.1.%d", i + 1);
        conn(a, &b, &g, t8 + (20 + i) * SEC, "10.0.0.5", dst, "443", NULL, NULL, NULL);
    }
    assert_int_equal(g.n[ANOMALY_FIRST_EXTERNAL], 5);
    /* A host first seen after the others' learning learns on its own. */
    conn(a, &b, &g, t8 + HOUR, "10.0.0.7", "198.18.2.1", "4444", NULL, NULL, NULL);
    assert_int_equal(g.n[ANOMALY_FIRST_EXTERNAL], 5);
    arena_done(&b.ar);
    got_done(&g);
    anomaly_free(a);
}

static void test_first_external_internal_option(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a;
    struct evb b;
    struct got g;

    (void)state;
    opts_outbound_only(&o);
    o.volume_enable = 0;
    o.external_learn_us = 0;
    /* Only 203.0.113.0/24 is ours: 10.0.0.5 is now outside. */
    o.ninternal = 1;
    assert_int_equal(asset_net_parse("203.0.113.0/24", 14, &o.internal[0]), 0);
    a = new_anomaly(&o);
    got_init(&g);
    arena_init(&b.ar, 0);
    conn(a, &b, &g, t0(), "10.0.0.5", "198.51.100.1", "443", NULL, NULL, NULL);
    assert_int_equal(g.total, 0);
    conn(a, &b, &g, t0() + SEC, "203.0.113.9", "10.0.0.5", "443", NULL, NULL, NULL);
    assert_int_equal(g.n[ANOMALY_FIRST_EXTERNAL], 1);
    assert_string_equal(g.ent[0], "source.ip=203.0.113.9");
    arena_done(&b.ar);
    got_done(&g);
    anomaly_free(a);
}

/* ---- outbound volume -------------------------------------------------- */

/* Four days of hourly traffic: about 1 MB out per hour, +/- 20 %. */
static void volume_baseline(struct anomaly *a, struct evb *b, struct got *g)
{
    for (int h = 0; h < 4 * 24; h++) {
        char by[32];
        snprintf(by, sizeof(by), "%d", 800000 + (h * 7919) % 400000);
        conn(a, b, g, t0() + h * HOUR + 5 * MIN, "10.0.0.5", "198.51.100.10", "443", by, "5000",
             NULL);
        conn(a, b, g, t0() + h * HOUR + 6 * MIN, "203.0.113.40", "10.0.0.8", "443", "3000",
             "2000000", NULL);
    }
}

static void test_outbound_volume(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a;
    struct evb b;
    struct got g;
    int64_t t = t0() + 4 * DAY + 14 * HOUR;

    (void)state;
    opts_outbound_only(&o);
    o.external_enable = 0;
    a = new_anomaly(&o);
    got_init(&g);
    arena_init(&b.ar, 0);
    volume_baseline(a, &b, &g);
    assert_int_equal(g.total, 0);
    /* 10 MB: far above 1 MB, but under the 32 MiB floor. */
    conn(a, &b, &g, t, "10.0.0.5", "198.51.100.10", "443", "10000000", "0", NULL);
    assert_int_equal(g.total, 0);
    /* 600 MB more in the same hour, in pieces: one alert when the sum
     * crosses, naming the last peer. */
    for (int i = 0; i < 6; i++)
        conn(a, &b, &g, t + (i + 1) * MIN, "10.0.0.5", "192.0.2.66", "443", "100000000", "0", NULL);
    assert_int_equal(g.n[ANOMALY_OUTBOUND_VOLUME], 1);
    assert_string_equal(g.ent[0], "source.ip=10.0.0.5");
    assert_string_equal(g.sample, "192.0.2.66");
    /* Inbound connection, our server answering with 800 MB. */
    conn(a, &b, &g, t + 10 * MIN, "203.0.113.40", "10.0.0.8", "443", "3000", "800000000", NULL);
    assert_int_equal(g.n[ANOMALY_OUTBOUND_VOLUME], 2);
    assert_string_equal(g.ent[0], "source.ip=10.0.0.8");
    /* Refused, internal and malformed counts are not outbound bytes. */
    conn(a, &b, &g, t + HOUR + MIN, "10.0.0.5", "198.51.100.10", "443", "900000000", NULL,
         "denied");
    conn(a, &b, &g, t + HOUR + 2 * MIN, "10.0.0.5", "10.0.0.9", "445", "900000000", NULL, NULL);
    conn(a, &b, &g, t + HOUR + 3 * MIN, "10.0.0.5", "198.51.100.10", "443", "-900000000", NULL,
         NULL);
    conn(a, &b, &g, t + HOUR + 4 * MIN, "10.0.0.5", "198.51.100.10", "443", "9e9", NULL, NULL);
    assert_int_equal(g.n[ANOMALY_OUTBOUND_VOLUME], 2);
    arena_done(&b.ar);
    got_done(&g);
    anomaly_free(a);
}

/* A host whose baseline is large and steady: its usual hour is no anomaly. */
static void test_outbound_volume_busy_host(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a;
    struct evb b;
    struct got g;

    (void)state;
    opts_outbound_only(&o);
    o.external_enable = 0;
    a = new_anomaly(&o);
    got_init(&g);
    arena_init(&b.ar, 0);
    for (int h = 0; h < 5 * 24; h++) {
        char by[32];
        snprintf(by, sizeof(by), "%d", 400000000 + (h * 7919) % 100000000);
        conn(a, &b, &g, t0() + h * HOUR + 5 * MIN, "10.0.0.20", "198.51.100.10", "443", by, NULL,
             NULL);
    }
    assert_int_equal(g.total, 0);
    arena_done(&b.ar);
    got_done(&g);
    anomaly_free(a);
}

/* ---- options, state --------------------------------------------------- */

static void test_outbound_options(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a = NULL;

    (void)state;
    anomaly_opts_default(&o);
    assert_int_equal(o.ninternal, 5);
    o.dns_min_names = 1;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    anomaly_opts_default(&o);
    o.dns_min_names = ANOMALY_DNS_NAMES_MAX + 1;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    anomaly_opts_default(&o);
    o.ninternal = ANOMALY_INTERNAL_MAX + 1;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    anomaly_opts_default(&o);
    o.volume_alpha = 0;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    anomaly_opts_default(&o);
    o.external_max_alerts_per_day = 0;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    anomaly_opts_default(&o);
    o.dns_window_us = 0;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    assert_null(a);
}

static void test_outbound_save_restore(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a, *r;
    struct evb b;
    struct got ga, gr;
    struct buf s1, s2;
    struct parse_err err;
    char name[300];
    int64_t t = t0() + 4 * DAY + 14 * HOUR;

    (void)state;
    opts_outbound_only(&o);
    o.external_learn_us = 2 * DAY;
    a = new_anomaly(&o);
    r = new_anomaly(&o);
    got_init(&ga);
    got_init(&gr);
    arena_init(&b.ar, 0);
    volume_baseline(a, &b, &ga);
    for (unsigned i = 0; i < 20; i++) {
        tunnel_name(name, sizeof(name), i, 48, "exfil-example.com");
        dnsq(a, &b, &ga, t - 5 * MIN + i * SEC, "10.1.2.3", name, NULL);
    }
    assert_int_equal(ga.total, 0);
    buf_init(&s1, 16 * 1024 * 1024);
    buf_init(&s2, 16 * 1024 * 1024);
    assert_int_equal(anomaly_save(a, &s1), 0);
    assert_int_equal(anomaly_restore(r, s1.data, s1.len, &err), 0);
    assert_int_equal(anomaly_save(r, &s2), 0);
    assert_int_equal(s1.len, s2.len);
    assert_memory_equal(s1.data, s2.data, s1.len);
    /* Both go on alike: the volume baseline, the host's learning and the
     * ten names still needed travelled in the blob. */
    for (int k = 0; k < 2; k++) {
        struct anomaly *x = k ? r : a;
        struct got *g = k ? &gr : &ga;
        conn(x, &b, g, t, "10.0.0.5", "192.0.2.66", "4444", "700000000", NULL, NULL);
        for (unsigned i = 20; i < 30; i++) {
            tunnel_name(name, sizeof(name), i, 48, "exfil-example.com");
            dnsq(x, &b, g, t + i * SEC, "10.1.2.3", name, NULL);
        }
    }
    assert_int_equal(ga.n[ANOMALY_OUTBOUND_VOLUME], 1);
    assert_int_equal(ga.n[ANOMALY_FIRST_EXTERNAL], 1);
    assert_int_equal(ga.n[ANOMALY_DNS_TUNNEL], 1);
    assert_string_equal(ga.text.data, gr.text.data);
    /* A truncated copy is refused and leaves the state as it was. */
    assert_int_equal(anomaly_restore(r, s1.data, s1.len - 9, &err), -EINVAL);
    buf_done(&s1);
    buf_done(&s2);
    arena_done(&b.ar);
    got_done(&ga);
    got_done(&gr);
    anomaly_free(a);
    anomaly_free(r);
}

/* ---- decoders to detectors -------------------------------------------- */

/* Decodes one line (auto-detected) into b->ev; the caller resets it. */
static void decode_line(struct evb *b, const char *line, int64_t ref)
{
    struct decode_ctx ctx = {.ref_us = ref};
    struct parse_err err;

    event_init(&b->ev, &b->ar, line, strlen(line), ref);
    assert_int_equal(decode_record(&b->ev, NULL, &ctx, &err), 0);
}

static void assert_field(const struct event *ev, const char *name, const char *want)
{
    size_t n;
    const char *v = event_get(ev, field_intern(name, strlen(name)), &n);

    if (!want) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(v, want, n);
}

static void test_decoders_feed_outbound(void **state)
{
    static const char nf[] =
        "<4>Mar 22 14:20:01 fw kernel: [81234.567890] ACCEPT-OUT: IN=eth1 OUT=eth0 "
        "SRC=10.47.9.17 DST=203.0.113.51 LEN=1500 TOS=0x00 PREC=0x00 TTL=63 ID=4242 DF "
        "PROTO=TCP SPT=40000 DPT=8443 WINDOW=501 RES=0x00 ACK PSH URG=0";
    static const char zeek_conn[] =
        "{\"_path\":\"conn\",\"ts\":1521728400.5,\"uid\":\"Cx\",\"id.orig_h\":\"10.47.9.15\","
        "\"id.orig_p\":50000,\"id.resp_h\":\"203.0.113.50\",\"id.resp_p\":8443,\"proto\":\"tcp\","
        "\"orig_bytes\":249500000,\"resp_bytes\":90000,\"conn_state\":\"SF\","
        "\"orig_ip_bytes\":250000000,\"resp_ip_bytes\":3700000}";
    static const char eve_flow[] =
        "{\"timestamp\":\"2018-03-22T14:20:30.000000+0000\",\"event_type\":\"flow\","
        "\"src_ip\":\"10.47.9.16\",\"src_port\":62000,\"dest_ip\":\"203.0.113.50\","
        "\"dest_port\":8443,\"proto\":\"TCP\",\"flow\":{\"bytes_toserver\":250000000,"
        "\"bytes_toclient\":3700000}}";
    static const char eve_alert[] =
        "{\"timestamp\":\"2018-03-22T14:20:30.000000+0000\",\"event_type\":\"alert\","
        "\"src_ip\":\"10.47.9.16\",\"src_port\":62000,\"dest_ip\":\"203.0.113.50\","
        "\"dest_port\":8443,\"proto\":\"TCP\",\"alert\":{\"signature\":\"x\"},"
        "\"flow\":{\"bytes_toserver\":1000,\"bytes_toclient\":0}}";
    static const char eve_dns3[] =
        "{\"timestamp\":\"2024-01-10T10:00:00.000000+0000\",\"event_type\":\"dns\","
        "\"src_ip\":\"10.1.2.3\",\"src_port\":5353,\"dest_ip\":\"10.0.0.53\",\"dest_port\":53,"
        "\"proto\":\"UDP\",\"dns\":{\"version\":3,\"type\":\"request\",\"id\":1,"
        "\"queries\":[{\"rrname\":\"abc.example.com\",\"rrtype\":\"TXT\"}]}}";
    static const char zeek_dns[] =
        "{\"@stream\":\"dns\",\"ts\":1588205199.82437,\"id_orig_h\":\"10.0.1.6\","
        "\"id_orig_p\":54243,\"id_resp_h\":\"10.0.0.4\",\"id_resp_p\":53,\"proto\":\"udp\","
        "\"query\":\"newyork.dmevals.local\",\"qtype_name\":\"A\"}";
    struct anomaly_opts o;
    struct anomaly *a;
    struct evb b;
    struct got g;
    int64_t ref = time_from_civil(2018, 3, 19, 0, 0, 0) * SEC; /* a Monday */

    (void)state;
    arena_init(&b.ar, 0);
    decode_line(&b, nf, ref);
    assert_field(&b.ev, "source.bytes", "1500");
    event_reset(&b.ev);
    decode_line(&b, zeek_conn, ref);
    assert_field(&b.ev, "source.bytes", "250000000");
    assert_field(&b.ev, "destination.bytes", "3700000");
    event_reset(&b.ev);
    decode_line(&b, eve_flow, ref);
    assert_field(&b.ev, "source.bytes", "250000000");
    assert_field(&b.ev, "destination.bytes", "3700000");
    event_reset(&b.ev);
    /* An alert's flow block is a snapshot: not outbound bytes. */
    decode_line(&b, eve_alert, ref);
    assert_field(&b.ev, "source.bytes", NULL);
    event_reset(&b.ev);
    decode_line(&b, eve_dns3, ref);
    assert_field(&b.ev, "dns.question.name", "abc.example.com");
    assert_field(&b.ev, "dns.question.type", "TXT");
    event_reset(&b.ev);
    decode_line(&b, zeek_dns, ref);
    assert_field(&b.ev, "dns.question.name", "newyork.dmevals.local");
    event_reset(&b.ev);

    /* Netfilter packets summed: a floor of 1 MB and one learned hour a
     * slot, so that a few lines show the sum crossing. */
    opts_outbound_only(&o);
    o.external_enable = 0;
    o.volume_min_bytes = 1000000;
    o.volume_cold_samples = 1;
    a = new_anomaly(&o);
    got_init(&g);
    for (int d = 0; d < 2; d++) {
        for (int i = 0; i < 10; i++) {
            decode_line(&b, nf, ref);
            b.ev.time_us = ref + d * DAY + 14 * HOUR + i * MIN;
            assert_int_equal(observe(a, &b.ev, collect, &g), 0);
            event_reset(&b.ev);
        }
    }
    assert_int_equal(g.total, 0);
    for (int i = 0; i < 800; i++) {
        decode_line(&b, nf, ref);
        b.ev.time_us = ref + 2 * DAY + 14 * HOUR + i * SEC;
        assert_int_equal(observe(a, &b.ev, collect, &g), 0);
        event_reset(&b.ev);
    }
    /* 667 packets of 1500 bytes pass 1 MB: one alert. */
    assert_int_equal(g.n[ANOMALY_OUTBOUND_VOLUME], 1);
    assert_string_equal(g.ent[0], "source.ip=10.47.9.17");
    assert_string_equal(g.sample, "203.0.113.51");
    got_done(&g);
    anomaly_free(a);
    arena_done(&b.ar);
}

/* A version 1 blob (before the outbound kinds) still restores; version 3
 * does not. */
static void test_restore_version_1(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a, *r;
    struct evb b;
    struct got g;
    struct buf s;
    struct parse_err err;
    uint32_t crc;
    unsigned char *p;

    (void)state;
    anomaly_opts_default(&o);
    a = new_anomaly(&o);
    r = new_anomaly(&o);
    got_init(&g);
    arena_init(&b.ar, 0);
    /* Internal to internal: rate, first-seen port and beacon entries only. */
    for (int i = 0; i < 5; i++)
        conn(a, &b, &g, t0() + i * MIN, "10.0.0.5", "10.0.0.9", "445", NULL, NULL, NULL);
    buf_init(&s, 1 << 20);
    assert_int_equal(anomaly_save(a, &s), 0);
    p = (unsigned char *)s.data;
    for (unsigned v = 1; v <= 3; v += 2) {
        p[4] = (unsigned char)v;
        crc = (uint32_t)crc32_z(0L, p, s.len - 4);
        for (int i = 0; i < 4; i++)
            p[s.len - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
        assert_int_equal(anomaly_restore(r, s.data, s.len, &err), v == 1 ? 0 : -EINVAL);
    }
    buf_done(&s);
    arena_done(&b.ar);
    got_done(&g);
    anomaly_free(a);
    anomaly_free(r);
}

/* The fuzz seed of the outbound kinds restores, entry by entry. */
static void test_outbound_seed_blob(void **state)
{
    const char *src = getenv("HIKESHI_SOURCE");
    char path[1024];
    char *data = NULL;
    size_t len = 0;
    struct anomaly *a = new_anomaly(NULL);
    struct parse_err err;
    struct anomaly_stats st;

    (void)state;
    snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/fuzz_anomaly_state/outbound",
             src ? src : ".");
    assert_int_equal(readfile_all(path, 1 << 20, &data, &len), 0);
    assert_int_equal(anomaly_restore(a, data, len, &err), 0);
    anomaly_stats(a, &st);
    assert_int_equal(st.entries, 5);
    assert_int_equal(st.entries_by_kind[ANOMALY_FIRST_EXTERNAL], 3); /* 2 pairs, 1 host */
    assert_int_equal(st.entries_by_kind[ANOMALY_OUTBOUND_VOLUME], 1);
    assert_int_equal(st.entries_by_kind[ANOMALY_DNS_TUNNEL], 1);
    free(data);
    anomaly_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbound_options),
        cmocka_unit_test(test_dns_tunnel_fires_once),
        cmocka_unit_test(test_dns_tunnel_negatives),
        cmocka_unit_test(test_dns_tunnel_real_zeek_quiet),
        cmocka_unit_test(test_first_external),
        cmocka_unit_test(test_first_external_internal_option),
        cmocka_unit_test(test_outbound_volume),
        cmocka_unit_test(test_outbound_volume_busy_host),
        cmocka_unit_test(test_outbound_save_restore),
        cmocka_unit_test(test_decoders_feed_outbound),
        cmocka_unit_test(test_outbound_seed_blob),
        cmocka_unit_test(test_restore_version_1),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
