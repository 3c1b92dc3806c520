/*
 * test_sigma_corr.c - Sigma correlation rules: loading (the specification's
 * schema examples, malformed documents) and the engine on hand-built event
 * sequences (thresholds, windows on event time, lateness, order, groups,
 * chaining, aliases, generate, the memory cap), then end to end through
 * detect_sigma with the rules in rules/ over realistic sshd lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "detect/detect_sigma.h"
#include "detect/sigma.h"
#include "detect/sigma_corr.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

#define SEC 1000000LL
/* 2026-06-01T11:59:50Z: ten seconds before an hour boundary. */
#define T0 (1780315190LL * SEC)

static const char *shared_dir(void)
{
    const char *s = getenv("HIKESHI_SHARED");
    return s && *s ? s : "../shared";
}

/* ---- a small world: base rules, correlations, an engine ---- */

static const char base_rules[] = "title: A\nid: aaaa-1\nname: rule_a\nlogsource: {product: x}\n"
                                 "detection: {s: {k: a}, condition: s}\n"
                                 "---\n"
                                 "title: B\nid: bbbb-2\nname: rule_b\nlogsource: {product: x}\n"
                                 "detection: {s: {k: b}, condition: s}\n"
                                 "---\n"
                                 "title: C\nid: cccc-3\nname: rule_c\nlogsource: {product: x}\n"
                                 "detection: {s: {k: c}, condition: s}\n";

struct world {
    struct sigma_doc *docs;
    size_t ndocs;
    struct sigma_rule *rules[8];
    size_t nrules;
    struct sigma_corr_rule *corrs[8];
    size_t ncorrs;
    struct sigma_corr_engine *e;
    struct arena arena;
    struct event ev;
    unsigned hits;
    struct {
        char name[64];
        char group[256];
        double value;
        uint64_t events;
        int64_t first, last;
        size_t nsamples;
    } last;
    unsigned reports;
};

static void on_hit(void *arg, const struct sigma_corr_hit *h)
{
    struct world *w = arg;
    size_t p = 0;

    w->hits++;
    snprintf(w->last.name, sizeof(w->last.name), "%s", h->rule->name ? h->rule->name : "");
    w->last.group[0] = '\0';
    for (size_t i = 0; i < h->ngroup; i++)
        p += (size_t)snprintf(w->last.group + p, sizeof(w->last.group) - p, "%s%s=%s", i ? "," : "",
                              h->group_fields[i], h->group_values[i]);
    w->last.value = h->value;
    w->last.events = h->events;
    w->last.first = h->first_us;
    w->last.last = h->last_us;
    w->last.nsamples = h->nsamples;
    for (size_t i = 0; i < h->nsamples; i++)
        assert_true(h->samples[i].raw_len <= SIGMA_CORR_SAMPLE_RAW);
}

static void on_report(void *arg, const struct sigma_corr_rule *c, const char *why)
{
    struct world *w = arg;
    (void)c;
    (void)why;
    w->reports++;
}

/* Loads the base rules plus `corr_yaml` (one or more documents). */
static void world_init(struct world *w, const char *corr_yaml, const struct sigma_corr_opts *o)
{
    char *text;
    size_t len;
    struct sigma_err err;

    memset(w, 0, sizeof(*w));
    len = strlen(base_rules) + strlen(corr_yaml) + 8;
    text = malloc(len);
    assert_non_null(text);
    snprintf(text, len, "%s---\n%s", base_rules, corr_yaml);
    if (sigma_load_docs_buf(text, strlen(text), "t.yml", NULL, &w->docs, &w->ndocs, &err) != 0)
        fail_msg("load: %u:%u %s", err.at.line, err.at.col, err.reason);
    free(text);
    for (size_t i = 0; i < w->ndocs; i++) {
        if (w->docs[i].rule)
            w->rules[w->nrules++] = w->docs[i].rule;
        else
            w->corrs[w->ncorrs++] = w->docs[i].corr;
    }
    assert_int_equal(
        sigma_corr_engine_new(w->corrs, w->ncorrs, w->rules, w->nrules, o, on_report, w, &w->e), 0);
    arena_init(&w->arena, 0);
}

static void world_done(struct world *w)
{
    sigma_corr_engine_free(w->e);
    sigma_docs_free(w->docs, w->ndocs);
    arena_done(&w->arena);
}

/* Feeds one match of base rule `rule` (0 = rule_a ...) at `t` with fields
 * given as "name=value" strings, NULL-terminated. */
static int feed(struct world *w, size_t rule, int64_t t, ...)
{
    va_list ap;
    const char *kv;
    int r;

    event_init(&w->ev, &w->arena, "raw line", 8, t);
    w->ev.time_us = t;
    va_start(ap, t);
    while ((kv = va_arg(ap, const char *))) {
        const char *eq = strchr(kv, '=');
        assert_non_null(eq);
        assert_int_equal(event_add_named(&w->ev, kv, (size_t)(eq - kv), eq + 1, strlen(eq + 1)), 0);
    }
    va_end(ap);
    r = sigma_corr_feed(w->e, rule, &w->ev, on_hit, w);
    event_reset(&w->ev);
    assert_true(r >= 0);
    return r;
}

static const char ec_yaml[] = "title: Many A\nname: many_a\ncorrelation:\n    type: event_count\n"
                              "    rules: [rule_a]\n    group-by: [source.ip]\n"
                              "    timespan: 5m\n    condition: {gte: 10}\n";

/* ---- loading ---- */

static void test_schema_examples_load(void **state)
{
    static const char *const files[] = {
        "event_count.yml", "event_count_ecs.yml", "temporal.yml",         "temporal_ordered.yml",
        "value_avg.yml",   "value_count.yml",     "value_percentile.yml", "value_sum.yml",
    };
    static const enum sigma_corr_type types[] = {
        SIGMA_CORR_EVENT_COUNT,      SIGMA_CORR_EVENT_COUNT, SIGMA_CORR_TEMPORAL,
        SIGMA_CORR_TEMPORAL_ORDERED, SIGMA_CORR_VALUE_AVG,   SIGMA_CORR_VALUE_COUNT,
        SIGMA_CORR_VALUE_PERCENTILE, SIGMA_CORR_VALUE_SUM,
    };
    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[4096];
        struct sigma_doc *docs;
        size_t n;
        struct sigma_err err;

        snprintf(path, sizeof(path), "%s/sigma/spec/schema-examples/correlation/%s", shared_dir(),
                 files[i]);
        if (sigma_load_docs_file(path, NULL, &docs, &n, &err) != 0)
            fail_msg("%s refused: %u:%u %s", path, err.at.line, err.at.col, err.reason);
        assert_int_equal(n, 1);
        assert_non_null(docs[0].corr);
        assert_int_equal(docs[0].corr->type, types[i]);
        assert_true(docs[0].corr->timespan_us > 0);
        sigma_docs_free(docs, n);
    }
}

static void test_malformed_refused(void **state)
{
    static const struct {
        const char *yaml;
        unsigned line, col;
        const char *msg;
    } bad[] = {
        {"title: t\ncorrelation:\n    type: event_sum\n    rules: [a]\n    timespan: 5m\n"
         "    condition: {gte: 2}\n",
         3, 11, "unknown correlation type"},
        {"title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n"
         "    condition: {gte: 2}\n",
         3, 5, "missing timespan"},
        {"title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5x\n"
         "    condition: {gte: 2}\n",
         5, 15, "invalid timespan"},
        {"title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n"
         "    condition: {field: x}\n",
         6, 16, "condition without operator"},
        {"title: t\ncorrelation:\n    type: value_count\n    rules: [a]\n    timespan: 5m\n"
         "    condition: {gte: 2}\n",
         6, 16, "missing field"},
        {"title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n"
         "    condition: {lt: 2}\n",
         6, 16, "absence condition not supported"},
        {"title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n"
         "    condition: {gt: 2, gte: 3}\n",
         6, 16, "invalid condition"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sigma_doc *docs = NULL;
        size_t n = 0;
        struct sigma_err err;
        int r =
            sigma_load_docs_buf(bad[i].yaml, strlen(bad[i].yaml), "b.yml", NULL, &docs, &n, &err);
        if (r != -EINVAL)
            fail_msg("case %zu accepted", i);
        assert_null(docs);
        assert_non_null(err.at.msg);
        if (strcmp(err.at.msg, bad[i].msg) != 0 || err.at.line != bad[i].line ||
            err.at.col != bad[i].col)
            fail_msg("case %zu: got %u:%u '%s' (%s), want %u:%u '%s'", i, err.at.line, err.at.col,
                     err.at.msg, err.reason, bad[i].line, bad[i].col, bad[i].msg);
        assert_true(err.reason[0] != '\0');
    }
}

static void test_unknown_reference_left_out(void **state)
{
    struct world w;
    (void)state;
    world_init(&w,
               "title: Ghost\nname: ghost\ncorrelation:\n    type: event_count\n"
               "    rules: [no_such_rule]\n    timespan: 5m\n    condition: {gte: 1}\n"
               "---\ntitle: On ghost\ncorrelation:\n    type: event_count\n"
               "    rules: [ghost]\n    timespan: 5m\n    condition: {gte: 1}\n"
               "---\n"
               "title: Good\nname: good\ncorrelation:\n    type: event_count\n"
               "    rules: [rule_b]\n    timespan: 5m\n    condition: {gte: 1}\n",
               NULL);
    /* The unresolvable one and the one built on it are reported; the
     * third loads. */
    assert_int_equal(w.reports, 2);
    assert_int_equal(sigma_corr_engine_count(w.e), 1);
    assert_int_equal(feed(&w, 1, T0, NULL), 1);
    assert_string_equal(w.last.name, "good");
    world_done(&w);
}

/* ---- event_count: thresholds, windows ---- */

static void test_event_count_threshold(void **state)
{
    struct world w;
    (void)state;
    world_init(&w, ec_yaml, NULL);
    for (int i = 0; i < 9; i++)
        feed(&w, 0, T0 + i * SEC, "source.ip=198.51.100.7", NULL);
    assert_int_equal(w.hits, 0); /* one below */
    feed(&w, 0, T0 + 9 * SEC, "source.ip=198.51.100.7", NULL);
    assert_int_equal(w.hits, 1); /* at */
    assert_string_equal(w.last.group, "source.ip=198.51.100.7");
    assert_true(w.last.value == 10);
    assert_int_equal(w.last.events, 10);
    assert_true(w.last.first == T0 && w.last.last == T0 + 9 * SEC);
    assert_int_equal(w.last.nsamples, 10);
    for (int i = 10; i < 30; i++)
        feed(&w, 0, T0 + i * SEC, "source.ip=198.51.100.7", NULL);
    assert_int_equal(w.hits, 1); /* above, same window: no flood */
    /* A whole timespan after the hit, the attack still going: one more. */
    feed(&w, 0, T0 + 9 * SEC + 5 * 60 * SEC + SEC, "source.ip=198.51.100.7", NULL);
    assert_int_equal(w.hits, 2);
    /* Events that do not carry the group-by field are not counted. */
    for (int i = 0; i < 20; i++)
        feed(&w, 0, T0 + 400 * SEC + i * SEC, "user.name=x", NULL);
    assert_int_equal(w.hits, 2);
    world_done(&w);
}

static void test_event_count_boundaries(void **state)
{
    struct world w;
    (void)state;
    world_init(&w, ec_yaml, NULL);
    /* 11:59:50 .. 12:00:08, two seconds apart: across the hour. */
    for (int i = 0; i < 10; i++)
        feed(&w, 0, T0 + i * 2 * SEC, "source.ip=203.0.113.5", NULL);
    assert_int_equal(w.hits, 1);
    /* Nine events, then the tenth just past the timespan of the first:
     * the window never spans more than 5 minutes, so no hit. */
    for (int i = 0; i < 9; i++)
        feed(&w, 0, T0 + i * SEC, "source.ip=203.0.113.6", NULL);
    feed(&w, 0, T0 + 300 * SEC + SEC, "source.ip=203.0.113.6", NULL);
    assert_int_equal(w.hits, 1);
    /* ... while exactly 5 minutes still counts. */
    for (int i = 0; i < 9; i++)
        feed(&w, 0, T0 + i * SEC, "source.ip=203.0.113.8", NULL);
    feed(&w, 0, T0 + 300 * SEC, "source.ip=203.0.113.8", NULL);
    assert_int_equal(w.hits, 2);
    world_done(&w);
}

static void test_late_events(void **state)
{
    struct world w;
    struct sigma_corr_opts o = {.tolerance_us = 30 * SEC};
    struct sigma_corr_stats st;
    (void)state;
    world_init(&w, ec_yaml, &o);
    /* Newest first at +100 s; then 8 events up to 20 s late: counted. */
    feed(&w, 0, T0 + 100 * SEC, "source.ip=192.0.2.1", NULL);
    for (int i = 0; i < 8; i++)
        feed(&w, 0, T0 + 80 * SEC + i * SEC, "source.ip=192.0.2.1", NULL);
    assert_int_equal(w.hits, 0);
    /* 60 s late: beyond the tolerance, dropped and counted. */
    feed(&w, 0, T0 + 40 * SEC, "source.ip=192.0.2.1", NULL);
    assert_int_equal(w.hits, 0);
    sigma_corr_engine_stats(w.e, &st);
    assert_int_equal(st.late_dropped, 1);
    /* The tenth, in order: fires with the nine counted before. */
    feed(&w, 0, T0 + 101 * SEC, "source.ip=192.0.2.1", NULL);
    assert_int_equal(w.hits, 1);
    assert_true(w.last.first == T0 + 80 * SEC);
    world_done(&w);
}

static void test_group_isolation(void **state)
{
    struct world w;
    (void)state;
    world_init(&w, ec_yaml, NULL);
    for (int i = 0; i < 9; i++) {
        feed(&w, 0, T0 + i * SEC, "source.ip=10.0.0.1", NULL);
        feed(&w, 0, T0 + i * SEC, "source.ip=10.0.0.2", NULL);
    }
    assert_int_equal(w.hits, 0); /* 18 events, 9 per group */
    feed(&w, 0, T0 + 10 * SEC, "source.ip=10.0.0.2", NULL);
    assert_int_equal(w.hits, 1);
    assert_string_equal(w.last.group, "source.ip=10.0.0.2");
    world_done(&w);
}

/* ---- value_count, value_sum, value_avg, value_percentile ---- */

static void test_value_count(void **state)
{
    struct world w;
    char port[32];
    (void)state;
    world_init(&w,
               "title: Scan\nname: scan\ncorrelation:\n    type: value_count\n"
               "    rules: [rule_a]\n    group-by: [source.ip, destination.ip]\n"
               "    timespan: 5m\n    condition: {field: destination.port, gte: 20}\n",
               NULL);
    for (int i = 0; i < 19; i++) {
        snprintf(port, sizeof(port), "destination.port=%d", 1000 + i);
        feed(&w, 0, T0 + i * SEC, "source.ip=203.0.113.9", "destination.ip=10.0.1.5", port, NULL);
        /* Repeats do not add distinct values. */
        feed(&w, 0, T0 + i * SEC, "source.ip=203.0.113.9", "destination.ip=10.0.1.5", port, NULL);
    }
    assert_int_equal(w.hits, 0);
    feed(&w, 0, T0 + 30 * SEC, "source.ip=203.0.113.9", "destination.ip=10.0.1.5",
         "destination.port=22", NULL);
    assert_int_equal(w.hits, 1);
    assert_true(w.last.value == 20);
    assert_int_equal(w.last.events, 39);
    assert_string_equal(w.last.group, "source.ip=203.0.113.9,destination.ip=10.0.1.5");
    world_done(&w);
}

static void test_value_sum_avg_percentile(void **state)
{
    struct world w;
    (void)state;
    world_init(&w,
               "title: Sum\nname: sum\ncorrelation:\n    type: value_sum\n"
               "    rules: [rule_a]\n    group-by: [user.name]\n"
               "    timespan: 1h\n    condition: {field: bytes, gt: 1000}\n"
               "---\ntitle: Avg\nname: avg\ncorrelation:\n    type: value_avg\n"
               "    rules: [rule_b]\n    group-by: [user.name]\n"
               "    timespan: 1h\n    condition: {field: bytes, gte: 100, lt: 200}\n"
               "---\ntitle: Rare\nname: rare\ncorrelation:\n    type: value_percentile\n"
               "    rules: [rule_c]\n    group-by: [host.name]\n"
               "    timespan: 1d\n    condition: {field: process.name, lte: 1}\n",
               NULL);
    feed(&w, 0, T0, "user.name=u", "bytes=600", NULL);
    feed(&w, 0, T0 + SEC, "user.name=u", "bytes=abc", NULL); /* not a number: ignored */
    assert_int_equal(w.hits, 0);
    feed(&w, 0, T0 + 2 * SEC, "user.name=u", "bytes=401", NULL);
    assert_int_equal(w.hits, 1);
    assert_string_equal(w.last.name, "sum");
    assert_true(w.last.value == 1001);

    feed(&w, 1, T0, "user.name=u", "bytes=300", NULL);       /* avg 300 */
    feed(&w, 1, T0 + SEC, "user.name=u", "bytes=200", NULL); /* avg 250 */
    assert_int_equal(w.hits, 1);
    feed(&w, 1, T0 + 2 * SEC, "user.name=u", "bytes=10", NULL); /* avg 170 */
    assert_int_equal(w.hits, 2);
    assert_string_equal(w.last.name, "avg");

    for (int i = 0; i < 150; i++)
        feed(&w, 2, T0 + i * SEC, "host.name=h", "process.name=bash", NULL);
    assert_int_equal(w.hits, 2);
    feed(&w, 2, T0 + 200 * SEC, "host.name=h", "process.name=nc", NULL); /* 1 of 151 */
    assert_int_equal(w.hits, 3);
    assert_string_equal(w.last.name, "rare");
    assert_true(w.last.value <= 1.0);
    world_done(&w);
}

/* ---- temporal, temporal_ordered, chaining, aliases, generate ---- */

static void test_temporal(void **state)
{
    struct world w;
    (void)state;
    world_init(&w,
               "title: Ordered\nname: ordered\ncorrelation:\n    type: temporal_ordered\n"
               "    rules: [rule_a, rule_b, rule_c]\n    group-by: [host.name]\n"
               "    timespan: 5m\n"
               "---\ntitle: Any order\nname: anyorder\ncorrelation:\n    type: temporal\n"
               "    rules: [rule_a, rule_b]\n    group-by: [user.name]\n    timespan: 5m\n",
               NULL);
    /* Wrong order c, b, a: nothing. */
    feed(&w, 2, T0, "host.name=h1", NULL);
    feed(&w, 1, T0 + SEC, "host.name=h1", NULL);
    feed(&w, 0, T0 + 2 * SEC, "host.name=h1", NULL);
    assert_int_equal(w.hits, 0);
    /* a then b then c (the a above counts as the first step). */
    feed(&w, 1, T0 + 3 * SEC, "host.name=h1", NULL);
    assert_int_equal(w.hits, 0);
    feed(&w, 2, T0 + 4 * SEC, "host.name=h1", NULL);
    assert_int_equal(w.hits, 1);
    assert_string_equal(w.last.name, "ordered");
    assert_true(w.last.value == 3);
    /* The steps on two hosts do not combine. */
    feed(&w, 0, T0 + 10 * SEC, "host.name=h2", NULL);
    feed(&w, 1, T0 + 11 * SEC, "host.name=h3", NULL);
    feed(&w, 2, T0 + 12 * SEC, "host.name=h2", NULL);
    assert_int_equal(w.hits, 1);
    /* temporal: any order, both rules. */
    feed(&w, 1, T0, "user.name=bob", NULL);
    assert_int_equal(w.hits, 1);
    feed(&w, 0, T0 + SEC, "user.name=bob", NULL);
    assert_int_equal(w.hits, 2);
    assert_string_equal(w.last.name, "anyorder");
    world_done(&w);
}

static void test_chaining_and_generate(void **state)
{
    struct world w;
    (void)state;
    /* The specification's worked example, shape for shape. */
    world_init(&w,
               "title: Failed then success\nname: outer\ncorrelation:\n"
               "    type: temporal_ordered\n    rules: [many_failed, rule_b]\n"
               "    group-by: [User]\n    timespan: 10m\nlevel: high\n"
               "---\ntitle: Many failed\nname: many_failed\ncorrelation:\n"
               "    type: event_count\n    rules: [aaaa-1]\n    group-by: [User]\n"
               "    timespan: 10m\n    condition: {gte: 3}\n",
               NULL);
    assert_int_equal(sigma_corr_engine_count(w.e), 2);
    /* generate defaults to false: rule_a and rule_b are hidden, rule_c
     * (referenced by nothing) is not. */
    assert_false(sigma_corr_engine_generates(w.e, 0));
    assert_false(sigma_corr_engine_generates(w.e, 1));
    assert_true(sigma_corr_engine_generates(w.e, 2));
    feed(&w, 1, T0, "User=alice", NULL); /* success before: no order */
    for (int i = 0; i < 3; i++)
        feed(&w, 0, T0 + (1 + i) * SEC, "User=alice", NULL);
    /* The inner hit is not reported (referenced, no generate). */
    assert_int_equal(w.hits, 0);
    feed(&w, 1, T0 + 10 * SEC, "User=alice", NULL);
    assert_int_equal(w.hits, 1);
    assert_string_equal(w.last.name, "outer");
    assert_string_equal(w.last.group, "User=alice");
    world_done(&w);

    world_init(&w,
               "title: G\nname: g\ncorrelation:\n    type: event_count\n"
               "    rules: [rule_a]\n    timespan: 1m\n    condition: {gte: 2}\n"
               "    generate: true\n",
               NULL);
    assert_true(sigma_corr_engine_generates(w.e, 0));
    /* No group-by: one global group. */
    feed(&w, 0, T0, "source.ip=1.1.1.1", NULL);
    feed(&w, 0, T0 + SEC, "source.ip=2.2.2.2", NULL);
    assert_int_equal(w.hits, 1);
    world_done(&w);
}

static void test_aliases(void **state)
{
    struct world w;
    (void)state;
    world_init(&w,
               "title: In then out\nname: inout\ncorrelation:\n    type: temporal\n"
               "    rules: [rule_a, rule_b]\n    group-by: [internal_ip]\n    timespan: 5m\n"
               "    aliases:\n        internal_ip:\n            rule_a: destination.ip\n"
               "            rule_b: source.ip\n",
               NULL);
    feed(&w, 0, T0, "destination.ip=10.9.9.9", "source.ip=203.0.113.1", NULL);
    feed(&w, 1, T0 + SEC, "source.ip=10.9.9.8", "destination.ip=10.9.9.9", NULL);
    assert_int_equal(w.hits, 0); /* b's source is another host */
    feed(&w, 1, T0 + 2 * SEC, "source.ip=10.9.9.9", "destination.ip=198.51.100.1", NULL);
    assert_int_equal(w.hits, 1);
    assert_string_equal(w.last.group, "internal_ip=10.9.9.9");
    world_done(&w);
}

/* ---- bounded state ---- */

static void test_eviction_cap(void **state)
{
    struct world w;
    struct sigma_corr_opts o = {.max_bytes = 256 * 1024, .tolerance_us = -1};
    struct sigma_corr_stats st;
    char ip[64];
    size_t peak = 0;
    (void)state;
    world_init(&w, ec_yaml, &o);
    /* 1M distinct sources within one second: nothing expires by age. */
    for (unsigned i = 0; i < 1000000; i++) {
        snprintf(ip, sizeof(ip), "source.ip=10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        event_init(&w.ev, &w.arena, "x", 1, T0);
        event_add_named(&w.ev, "source.ip", 9, ip + 10, strlen(ip + 10));
        assert_true(sigma_corr_feed(w.e, 0, &w.ev, on_hit, &w) >= 0);
        event_reset(&w.ev);
        if (i % 4096 == 0) {
            sigma_corr_engine_stats(w.e, &st);
            if (st.bytes > peak)
                peak = st.bytes;
        }
    }
    sigma_corr_engine_stats(w.e, &st);
    printf("cap test: %zu groups live, %zu bytes (peak sampled %zu), %llu evicted by cap\n",
           st.groups_live, st.bytes, peak, (unsigned long long)st.evicted_cap);
    assert_true(st.bytes <= o.max_bytes);
    assert_true(peak <= o.max_bytes);
    assert_true(st.evicted_cap > 900000);
    assert_int_equal(st.groups_live + st.evicted_cap, 1000000);
    /* Age: one event far later expires every group. */
    feed(&w, 0, T0 + 3600 * SEC, "source.ip=192.0.2.200", NULL);
    sigma_corr_engine_stats(w.e, &st);
    assert_int_equal(st.groups_live, 1);
    assert_true(st.evicted_age > 0);
    world_done(&w);
}

/* One match of base rule `rule` from source `ip` at `t` (the flood's hot
 * path: no varargs, no assertion per field). */
static void feed_ip(struct world *w, size_t rule, int64_t t, const char *ip)
{
    event_init(&w->ev, &w->arena, "Failed password for root from x port 22 ssh2", 43, t);
    w->ev.time_us = t;
    assert_int_equal(event_add_named(&w->ev, "source.ip", 9, ip, strlen(ip)), 0);
    assert_true(sigma_corr_feed(w->e, rule, &w->ev, on_hit, w) >= 0);
    event_reset(&w->ev);
}

/* The shape of rules/corr_ssh_bruteforce.yml and its _success chain. */
static const char chain_yaml[] =
    "title: Brute force\nname: brute\ncorrelation:\n    type: event_count\n"
    "    rules: [rule_a]\n    group-by: [source.ip]\n    timespan: 10m\n"
    "    condition: {gte: 10}\n"
    "---\ntitle: Brute force then success\nname: brute_success\ncorrelation:\n"
    "    type: temporal_ordered\n    rules: [brute, rule_b]\n    group-by: [source.ip]\n"
    "    timespan: 10m\n    generate: true\n";

/* Per-rule figures add up to the totals, and every group created is live,
 * expired or evicted. */
static void check_accounts(const struct world *w, struct sigma_corr_rule_stats *rs, size_t nrs)
{
    struct sigma_corr_stats st;
    uint64_t cap = 0, age = 0, created = 0, live = 0, by_cost = 0;
    size_t bytes = 0, i;

    sigma_corr_engine_stats(w->e, &st);
    for (i = 0; sigma_corr_engine_rule_stats(w->e, i, &rs[i < nrs ? i : nrs - 1]) == 0; i++) {
        const struct sigma_corr_rule_stats *r = &rs[i < nrs ? i : nrs - 1];
        uint64_t rc = 0;
        for (size_t k = 0; k < SIGMA_CORR_NCOST; k++)
            rc += r->evicted_cap_cost[k];
        assert_int_equal(rc, r->evicted_cap);
        assert_int_equal(r->groups_created, r->groups_live + r->evicted_age + r->evicted_cap);
        cap += r->evicted_cap;
        age += r->evicted_age;
        created += r->groups_created;
        live += r->groups_live;
        bytes += r->bytes;
    }
    assert_int_equal(i, sigma_corr_engine_count(w->e));
    assert_int_equal(sigma_corr_engine_rule_stats(w->e, i, &rs[0]), -ENOENT);
    for (size_t k = 0; k < SIGMA_CORR_NCOST; k++)
        by_cost += st.evicted_cap_cost[k];
    assert_int_equal(cap, st.evicted_cap);
    assert_int_equal(by_cost, st.evicted_cap);
    assert_int_equal(age, st.evicted_age);
    assert_int_equal(created, st.groups_created);
    assert_int_equal(live, st.groups_live);
    /* The engine's total is its groups plus the hash table. */
    assert_true(st.bytes > bytes);
    assert_true(st.bytes - bytes <= 2 * 16 + st.groups_live * 4 * sizeof(void *) + 64 * 8);
    for (i = 0; i < nrs && sigma_corr_engine_rule_stats(w->e, i, &rs[i]) == 0; i++)
        ;
}

static void test_cap_keeps_attacks(void **state)
{
    struct world w;
    struct sigma_corr_opts o = {.max_bytes = 512 * 1024, .tolerance_us = -1};
    struct sigma_corr_stats st;
    struct sigma_corr_rule_stats rs[2];
    char ip[32];
    unsigned hits_before;
    (void)state;
    world_init(&w, chain_yaml, &o);
    assert_int_equal(sigma_corr_engine_count(w.e), 2);
    /* 203.0.113.7: ten failures (brute fires, the sequence is half done);
     * 198.51.100.9: nine (one short). */
    for (int i = 0; i < 10; i++)
        feed_ip(&w, 0, T0 + i * SEC, "203.0.113.7");
    assert_int_equal(w.hits, 1);
    assert_string_equal(w.last.name, "brute");
    for (int i = 0; i < 9; i++)
        feed_ip(&w, 0, T0 + i * SEC, "198.51.100.9");
    assert_int_equal(w.hits, 1);
    /* 100,000 one-off sources over 100 s (inside every window): half fail
     * once (brute groups at 1 of 10), half log in once (sequences with no
     * step in order). */
    for (unsigned i = 0; i < 100000; i++) {
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        feed_ip(&w, i & 1, T0 + 10 * SEC + (int64_t)i * 1000, ip);
    }
    assert_int_equal(w.hits, 1);
    sigma_corr_engine_stats(w.e, &st);
    printf("flood: %zu groups live, %zu of %zu bytes, %llu evicted at the cap "
           "(single %llu, far %llu, mid %llu, near %llu)\n",
           st.groups_live, st.bytes, st.max_bytes, (unsigned long long)st.evicted_cap,
           (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_SINGLE],
           (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_FAR],
           (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_MID],
           (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_NEAR]);
    /* The cap held and was pressed hard... */
    assert_int_equal(st.max_bytes, o.max_bytes);
    assert_int_equal(st.cap_sized, 0);
    assert_true(st.bytes <= o.max_bytes);
    assert_true(st.evicted_cap > 90000);
    assert_int_equal(st.evicted_age, 0);
    /* ...and only the one-off groups went. */
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_NEAR], 0);
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_MID], 0);
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_FAR], 0);
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_SINGLE], st.evicted_cap);
    check_accounts(&w, rs, 2);
    /* Both correlations lost one-off groups to the flood. */
    assert_string_equal(rs[0].rule->name, "brute");
    assert_string_equal(rs[1].rule->name, "brute_success");
    assert_true(rs[0].evicted_cap > 40000);
    assert_true(rs[1].evicted_cap > 40000);
    assert_int_equal(rs[0].groups_created, 2 + 50000);
    assert_int_equal(rs[1].groups_created, 1 + 50000);

    /* The tenth failure still fires, */
    hits_before = w.hits;
    feed_ip(&w, 0, T0 + 115 * SEC, "198.51.100.9");
    assert_int_equal(w.hits, hits_before + 1);
    assert_string_equal(w.last.name, "brute");
    assert_string_equal(w.last.group, "source.ip=198.51.100.9");
    assert_true(w.last.value == 10);
    /* and the login completes the half-done sequence. */
    feed_ip(&w, 1, T0 + 116 * SEC, "203.0.113.7");
    assert_int_equal(w.hits, hits_before + 2);
    assert_string_equal(w.last.name, "brute_success");
    assert_string_equal(w.last.group, "source.ip=203.0.113.7");
    assert_true(w.last.value == 2);
    sigma_corr_engine_stats(w.e, &st);
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_NEAR], 0);
    check_accounts(&w, rs, 2);
    world_done(&w);
}

/* Among groups of one class, the least recently fed goes first; a class
 * above is touched only when the ones below are empty. */
static void test_cap_order(void **state)
{
    struct world w;
    struct sigma_corr_opts o = {.max_bytes = 64 * 1024, .tolerance_us = -1};
    struct sigma_corr_stats st;
    struct sigma_corr_rule_stats rs[1];
    char ip[32];
    (void)state;
    world_init(&w, ec_yaml, &o);
    /* Five sources at 5 of 10 (mid), one at 9 (near), one at 2 (far, but
     * more than a one-off), then one-offs until the cap is hit and stays
     * so, the source at 2 coming back in the middle of them. */
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < 5; i++) {
            snprintf(ip, sizeof(ip), "192.0.2.%d", s);
            feed_ip(&w, 0, T0 + i * SEC, ip);
        }
    for (int i = 0; i < 9; i++)
        feed_ip(&w, 0, T0 + i * SEC, "192.0.2.99");
    feed_ip(&w, 0, T0 + 9 * SEC, "192.0.2.50");
    feed_ip(&w, 0, T0 + 9 * SEC, "192.0.2.50");
    for (unsigned i = 0; i < 5000; i++) {
        snprintf(ip, sizeof(ip), "10.0.%u.%u", (i >> 8) & 255, i & 255);
        feed_ip(&w, 0, T0 + 10 * SEC, ip);
        if (i == 2500)
            feed_ip(&w, 0, T0 + 10 * SEC, "192.0.2.50");
    }
    sigma_corr_engine_stats(w.e, &st);
    assert_true(st.evicted_cap > 4000);
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_SINGLE], st.evicted_cap);
    /* Seven more from the source at 3 make ten: its count survived. */
    for (int i = 0; i < 7; i++)
        feed_ip(&w, 0, T0 + 12 * SEC, "192.0.2.50");
    assert_int_equal(w.hits, 1);
    assert_string_equal(w.last.group, "source.ip=192.0.2.50");
    /* The newest one-off is still there (oldest first): two more events
     * from it make a group of 3, not 2 fresh ones. */
    {
        uint64_t before = st.groups_created;
        feed_ip(&w, 0, T0 + 11 * SEC, "10.0.19.135"); /* i = 4999 */
        sigma_corr_engine_stats(w.e, &st);
        assert_int_equal(st.groups_created, before);
        /* The first one-off is long gone: it comes back as a new group. */
        feed_ip(&w, 0, T0 + 11 * SEC, "10.0.0.0");
        sigma_corr_engine_stats(w.e, &st);
        assert_int_equal(st.groups_created, before + 1);
    }
    /* A cap below what the mid and near groups alone need: they go too, the
     * mid one before the near one. */
    world_done(&w);
    o.max_bytes = 1; /* every group but the one being fed goes */
    world_init(&w, ec_yaml, &o);
    for (int i = 0; i < 5; i++)
        feed_ip(&w, 0, T0 + i * SEC, "192.0.2.1");
    for (int i = 0; i < 9; i++)
        feed_ip(&w, 0, T0 + i * SEC, "192.0.2.99");
    sigma_corr_engine_stats(w.e, &st);
    assert_int_equal(st.groups_live, 1);
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_MID], 1);
    feed_ip(&w, 0, T0 + 10 * SEC, "10.1.1.1");
    sigma_corr_engine_stats(w.e, &st);
    assert_int_equal(st.groups_live, 1);
    assert_int_equal(st.evicted_cap_cost[SIGMA_CORR_COST_NEAR], 1);
    check_accounts(&w, rs, 1);
    assert_int_equal(rs[0].evicted_cap, 2);
    world_done(&w);
}

static void test_size_cap_formula(void **state)
{
    struct sigma_corr_size v[3] = {
        {.timespan_us = 300 * SEC, .groups_per_s = 0, .bytes_per_group = 500},
        {.timespan_us = 600 * SEC, .groups_per_s = 0, .bytes_per_group = 500},
        {.timespan_us = 600 * SEC, .groups_per_s = 0, .bytes_per_group = 500},
    };
    size_t a, b, c;
    (void)state;
    /* Nothing, or little: the floor. */
    assert_int_equal(sigma_corr_size_cap(NULL, 0, 60 * SEC, 1024, 0), SIGMA_CORR_AUTO_FLOOR);
    assert_int_equal(sigma_corr_size_cap(v, 3, 60 * SEC, 1024, 0), SIGMA_CORR_AUTO_FLOOR);
    /* 200 groups/s for 5 min + 1 min of 500 bytes, twice over. */
    v[0].groups_per_s = 200;
    a = sigma_corr_size_cap(v, 1, 60 * SEC, 1024, 0);
    assert_int_equal(a, 1024 + (size_t)(2.0 * 200 * 360 * 500));
    /* Grows with the rate, */
    v[0].groups_per_s = 400;
    b = sigma_corr_size_cap(v, 1, 60 * SEC, 1024, 0);
    assert_int_equal(b - 1024, 2 * (a - 1024));
    /* with the rules (the others at the base rate), */
    c = sigma_corr_size_cap(v, 3, 60 * SEC, 1024, 0);
    assert_int_equal(c, b + (size_t)(2.0 * 2 * 660 * 500));
    /* with the tolerance, and with the bytes per group. */
    assert_true(sigma_corr_size_cap(v, 1, 600 * SEC, 1024, 0) > b);
    v[0].bytes_per_group = 1000;
    assert_true(sigma_corr_size_cap(v, 1, 60 * SEC, 1024, 0) > b);
    /* Never below what is in use (a falling rate must not evict). */
    assert_int_equal(sigma_corr_size_cap(v, 3, 60 * SEC, 1024, 300u * 1024 * 1024),
                     300u * 1024 * 1024);
    /* The ceiling holds, whatever the rate or the use. */
    v[0].groups_per_s = 1e9;
    assert_int_equal(sigma_corr_size_cap(v, 3, 60 * SEC, 1024, 0), SIGMA_CORR_AUTO_CEILING);
    assert_int_equal(sigma_corr_size_cap(v, 1, 60 * SEC, 0, SIZE_MAX), SIGMA_CORR_AUTO_CEILING);
    /* A rate that is not a number counts as the base rate. */
    v[0].groups_per_s = NAN;
    v[0].bytes_per_group = 500;
    assert_int_equal(sigma_corr_size_cap(v, 3, 60 * SEC, 1024, 0), SIGMA_CORR_AUTO_FLOOR);
}

/* With no configured cap the engine measures the rate in event time and
 * sizes the cap from it: a steady stream of new sources is not evicted. */
static void test_size_cap_engine(void **state)
{
    struct world w;
    struct sigma_corr_opts o = {.max_bytes = 0, .tolerance_us = -1};
    struct sigma_corr_stats st;
    struct sigma_corr_rule_stats rs[1];
    char ip[32];
    (void)state;
    world_init(&w, ec_yaml, &o);
    sigma_corr_engine_stats(w.e, &st);
    assert_int_equal(st.cap_sized, 1);
    assert_int_equal(st.max_bytes, SIGMA_CORR_AUTO_FLOOR);
    /* 1000 new sources per second of event time for 40 s. */
    for (unsigned i = 0; i < 40000; i++) {
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        feed_ip(&w, 0, T0 + (int64_t)i * 1000, ip);
    }
    sigma_corr_engine_stats(w.e, &st);
    check_accounts(&w, rs, 1);
    printf("sized cap: %.0f groups/s measured, %zu groups, %zu bytes (%zu per group), cap %zu\n",
           rs[0].groups_per_s, st.groups_live, st.bytes, rs[0].bytes / rs[0].groups_live,
           st.max_bytes);
    assert_true(rs[0].groups_per_s > 950 && rs[0].groups_per_s < 1050);
    assert_int_equal(st.evicted_cap, 0);
    assert_int_equal(st.groups_live, 40000);
    /* Room for the groups of a whole lifetime (5 min + 1 min) at this
     * rate, twice over, within the bounds. */
    assert_true((double)st.max_bytes >=
                1000.0 * 360 * (double)rs[0].bytes / (double)rs[0].groups_live);
    assert_true(st.max_bytes <= SIGMA_CORR_AUTO_CEILING);
    /* The rate falls to nothing: the cap does not fall below the state
     * still held, so nothing is evicted for it. */
    feed_ip(&w, 0, T0 + 45 * SEC, "192.0.2.1");
    feed_ip(&w, 0, T0 + 100 * SEC, "192.0.2.1");
    sigma_corr_engine_stats(w.e, &st);
    assert_true(st.max_bytes >= st.bytes);
    assert_int_equal(st.evicted_cap, 0);
    world_done(&w);
}

/* ---- end to end: rules/ through detect_sigma ---- */

static unsigned e2e_rule_alerts, e2e_failure_alerts, e2e_accepted_alerts;
static char e2e_hits[8][64];
static unsigned e2e_nhits;

static void e2e_rule(void *arg, const struct sigma_rule *r)
{
    (void)arg;
    e2e_rule_alerts++;
    if (r->id && strcmp(r->id, "2fb617eb-05b3-4b3f-b699-88d22213f1e0") == 0)
        e2e_failure_alerts++;
    if (r->name && strcmp(r->name, "lnx_sshd_login_accepted") == 0)
        e2e_accepted_alerts++;
}

static void e2e_corr(void *arg, const struct sigma_corr_hit *h)
{
    (void)arg;
    if (e2e_nhits < 8)
        snprintf(e2e_hits[e2e_nhits], sizeof(e2e_hits[0]), "%s %s", h->rule->name,
                 h->ngroup ? h->group_values[0] : "");
    e2e_nhits++;
}

static void test_end_to_end(void **state)
{
    static const char *const lines[] = {
        /* Benign: two typos from the office, then a login. */
        "Jun  1 09:00:01 web01 sshd[1001]: Failed password for alice from 10.0.5.20 port 50110 "
        "ssh2",
        "Jun  1 09:00:05 web01 sshd[1001]: Failed password for alice from 10.0.5.20 port 50110 "
        "ssh2",
        "Jun  1 09:00:09 web01 sshd[1001]: Accepted password for alice from 10.0.5.20 port 50110 "
        "ssh2",
        /* Guessing from one address, across 09:59 -> 10:00, then success. */
        "Jun  1 09:59:50 web01 sshd[2001]: Invalid user admin from 192.0.2.218 port 40001",
        "Jun  1 09:59:52 web01 sshd[2001]: Failed password for invalid user admin from 192.0.2.218 "
        "port 40001 ssh2",
        "Jun  1 09:59:54 web01 sshd[2002]: Failed password for root from 192.0.2.218 port 40002 "
        "ssh2",
        "Jun  1 09:59:56 web01 sshd[2002]: Failed password for root from 192.0.2.218 port 40002 "
        "ssh2",
        "Jun  1 09:59:58 web01 sshd[2002]: Failed password for root from 192.0.2.218 port 40002 "
        "ssh2",
        "Jun  1 10:00:00 web01 sshd[2003]: Failed password for grace from 192.0.2.218 port 40003 "
        "ssh2",
        "Jun  1 10:00:02 web01 sshd[2003]: Failed password for grace from 192.0.2.218 port 40003 "
        "ssh2",
        "Jun  1 10:00:04 web01 sshd[2003]: Failed password for grace from 192.0.2.218 port 40003 "
        "ssh2",
        "Jun  1 10:00:06 web01 sshd[2004]: Failed password for grace from 192.0.2.218 port 40004 "
        "ssh2",
        "Jun  1 10:00:08 web01 sshd[2004]: Failed password for grace from 192.0.2.218 port 40004 "
        "ssh2",
        "Jun  1 10:00:10 web01 sshd[2004]: Failed password for grace from 192.0.2.218 port 40004 "
        "ssh2",
        "Jun  1 10:00:12 web01 sshd[2004]: Failed password for grace from 192.0.2.218 port 40004 "
        "ssh2",
        "Jun  1 10:00:20 web01 sshd[2005]: Accepted password for grace from 192.0.2.218 port 40005 "
        "ssh2",
    };
    const char *paths[] = {"rules"};
    struct detect_sigma *d;
    char err[512];
    struct arena a;
    struct event ev;
    struct decode_ctx ctx = {.ref_us = 1780272000LL * SEC}; /* 2026-06-01 */
    struct sigma_corr_stats st;
    (void)state;

    if (detect_sigma_new(paths, 1, "rules/config", NULL, NULL, NULL, &d, err, sizeof(err)) != 0)
        fail_msg("detect_sigma_new: %s", err);
    assert_true(detect_sigma_correlations(d) >= 5);
    detect_sigma_set_corr_cb(d, e2e_corr, NULL);
    arena_init(&a, 0);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct parse_err pe;
        event_init(&ev, &a, lines[i], strlen(lines[i]), ctx.ref_us);
        assert_int_equal(decode_record(&ev, NULL, &ctx, &pe), 0);
        detect_sigma_match(d, &ev, e2e_rule, NULL);
        event_reset(&ev);
    }
    detect_sigma_corr_stats(d, &st);
    printf("end to end: %u correlation hits, %u rule alerts, %llu hits suppressed\n", e2e_nhits,
           e2e_rule_alerts, (unsigned long long)st.suppressed);
    for (unsigned i = 0; i < e2e_nhits && i < 8; i++)
        printf("  hit %s\n", e2e_hits[i]);
    /* The attacker guesses root, admin and grace: the fast count and the
     * account guessing both see it; alice's two typos are neither. */
    assert_int_equal(e2e_nhits, 3);
    assert_string_equal(e2e_hits[0], "ssh_bruteforce 192.0.2.218");
    assert_string_equal(e2e_hits[1], "ssh_account_guessing 192.0.2.218");
    assert_string_equal(e2e_hits[2], "ssh_bruteforce_success 192.0.2.218");
    /* lnx_sshd_auth_failure feeds only ssh_bruteforce (generate false):
     * no alert of its own for 14 failures.  Accepted logins feed
     * ssh_bruteforce_success (generate true): both alert.  Other rules
     * (invalid user, root failures) are referenced by nothing and alert. */
    assert_int_equal(e2e_failure_alerts, 0);
    assert_int_equal(e2e_accepted_alerts, 2);
    assert_true(e2e_rule_alerts > 2);
    detect_sigma_free(d);
    arena_done(&a);
}

/* Lines through decode and the bundled rules; the correlation hits land in
 * e2e_hits. */
static void e2e_run(const char *const *lines, size_t n)
{
    const char *paths[] = {"rules"};
    struct detect_sigma *d;
    char err[512];
    struct arena a;
    struct event ev;
    struct decode_ctx ctx = {.ref_us = 1780272000LL * SEC}; /* 2026-06-01 */

    e2e_nhits = 0;
    if (detect_sigma_new(paths, 1, "rules/config", NULL, NULL, NULL, &d, err, sizeof(err)) != 0)
        fail_msg("detect_sigma_new: %s", err);
    detect_sigma_set_corr_cb(d, e2e_corr, NULL);
    arena_init(&a, 0);
    for (size_t i = 0; i < n; i++) {
        struct parse_err pe;
        event_init(&ev, &a, lines[i], strlen(lines[i]), ctx.ref_us);
        assert_int_equal(decode_record(&ev, NULL, &ctx, &pe), 0);
        detect_sigma_match(d, &ev, e2e_rule, NULL);
        event_reset(&ev);
    }
    detect_sigma_free(d);
    arena_done(&a);
}

/* syslogd folds identical lines into "message repeated N times: [ M ]":
 * one failure plus four folded ones is five guesses and fires the fast
 * count, as loghub's OpenSSH log shows real attacks doing; a count the
 * sender inflated past SIGMA_CORR_MAX_REPEAT counts once. */
static void test_repeat_counts(void **state)
{
    static const char *const folded[] = {
        "Dec 10 07:13:43 LabSZ sshd[24227]: Failed password for root from 198.51.100.7 port 42393 "
        "ssh2",
        "Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 4 times: [ Failed password for root "
        "from 198.51.100.7 port 42393 ssh2]",
    };
    static const char *const three[] = {
        "Dec 10 07:13:43 LabSZ sshd[24227]: Failed password for root from 198.51.100.7 port 42393 "
        "ssh2",
        "Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 3 times: [ Failed password for root "
        "from 198.51.100.7 port 42393 ssh2]",
    };
    static const char *const forged[] = {
        "Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 999999 times: [ Failed password for "
        "root from 198.51.100.7 port 42393 ssh2]",
    };
    (void)state;

    e2e_run(folded, 2);
    assert_true(e2e_nhits >= 1);
    assert_string_equal(e2e_hits[0], "ssh_bruteforce 198.51.100.7");
    e2e_run(three, 2); /* four guesses: below five */
    assert_int_equal(e2e_nhits, 0);
    e2e_run(forged, 1);
    assert_int_equal(e2e_nhits, 0);
}

static int teardown(void **state)
{
    (void)state;
    field_done();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_examples_load),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_unknown_reference_left_out),
        cmocka_unit_test(test_event_count_threshold),
        cmocka_unit_test(test_event_count_boundaries),
        cmocka_unit_test(test_late_events),
        cmocka_unit_test(test_group_isolation),
        cmocka_unit_test(test_value_count),
        cmocka_unit_test(test_value_sum_avg_percentile),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_chaining_and_generate),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_eviction_cap),
        cmocka_unit_test(test_cap_keeps_attacks),
        cmocka_unit_test(test_cap_order),
        cmocka_unit_test(test_size_cap_formula),
        cmocka_unit_test(test_size_cap_engine),
        cmocka_unit_test(test_end_to_end),
        cmocka_unit_test(test_repeat_counts),
    };
    field_init();
    return cmocka_run_group_tests(tests, NULL, teardown);
}
