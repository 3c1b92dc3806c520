/*
 * test_anomaly.c - rate baselines, first-seen pairs, beaconing, the memory
 * cap, and saving and restoring the learned state.
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
#include <zlib.h>

#include "decode/decode.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "event/tz.h"
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

/* xorshift64*: a fixed seed gives the same "random" traffic on every run. */
static uint64_t rng_state;

static double rng_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* ---- building events -------------------------------------------------- */

struct evb {
    struct arena ar;
    struct event ev;
};

static void ev_begin(struct evb *b, int64_t t, const char *decoder)
{
    event_init(&b->ev, &b->ar, "", 0, t);
    b->ev.has_time = 1;
    b->ev.decoder = decoder;
}

static void ev_str(struct evb *b, uint32_t id, const char *s)
{
    assert_int_equal(event_add_str(&b->ev, id, s), 0);
}

/* Alerts seen by the callback: counts per kind, the last alert's numbers
 * and first entity value, and every alert as a JSON line. */
struct got {
    unsigned n[ANOMALY_KIND_COUNT];
    unsigned total;
    struct anomaly_alert last;
    char v0[256];
    char v1[256];
    struct buf json;
};

static int collect(const struct anomaly_alert *al, void *arg)
{
    struct got *g = arg;

    g->n[al->kind]++;
    g->total++;
    g->last = *al;
    snprintf(g->v0, sizeof(g->v0), "%.*s", (int)al->entity[0].len, al->entity[0].val);
    if (al->nentity > 1)
        snprintf(g->v1, sizeof(g->v1), "%.*s", (int)al->entity[1].len, al->entity[1].val);
    /* The pointers die with the event: keep only the formatted forms. */
    g->last.entity[0].val = g->last.entity[1].val = g->last.entity[2].val = NULL;
    g->last.category = NULL;
    assert_int_equal(anomaly_alert_json(al, &g->json), 0);
    assert_int_equal(buf_putc(&g->json, '\n'), 0);
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
    buf_init(&g->json, 64 * 1024 * 1024);
}

static struct anomaly *new_anomaly(const struct anomaly_opts *o)
{
    struct anomaly *a = NULL;

    assert_int_equal(anomaly_new(o, &a), 0);
    assert_non_null(a);
    return a;
}

/* ---- rate ------------------------------------------------------------- */

/* `n` sshd events of host web01 spread evenly over the hour starting at t. */
static void feed_hour(struct anomaly *a, struct evb *b, struct got *g, const char *host, int64_t t,
                      unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        ev_begin(b, t + (int64_t)i * (HOUR / n), "sshd");
        ev_str(b, FIELD_HOST_NAME, host);
        assert_int_equal(observe(a, &b->ev, collect, g), 0);
        event_reset(&b->ev);
    }
}

struct rate_case {
    const char *name;
    unsigned learn_hours;  /* hours of normal traffic before the test hour */
    unsigned base, jitter; /* normal hour: base +/- jitter events */
    unsigned test_count;   /* events in the test hour */
    unsigned min_count;    /* option; 0 keeps the default */
    int expect_alert;
};

static const struct rate_case rate_cases[] = {
    {"10x burst after three weeks", 504, 100, 10, 1000, 0, 1},
    {"2x burst after three weeks", 504, 100, 10, 200, 0, 1},
    {"normal fluctuation (+30%)", 504, 100, 10, 130, 0, 0},
    {"usual count", 504, 100, 10, 104, 0, 0},
    {"cold start: slot learned twice", 48, 100, 10, 1000, 0, 0},
    {"cold start just over: slot learned three times", 72, 100, 10, 1000, 0, 1},
    {"15x burst of tiny counts, below the minimum volume", 504, 1, 1, 15, 0, 0},
    {"same tiny burst with a lower minimum volume", 504, 1, 1, 15, 5, 1},
};

static void test_rate(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(rate_cases) / sizeof(rate_cases[0]); c++) {
        const struct rate_case *rc = &rate_cases[c];
        struct anomaly_opts o;
        struct anomaly *a;
        struct evb b;
        struct got g;
        int64_t t = t0();

        print_message("rate: %s\n", rc->name);
        anomaly_opts_default(&o);
        if (rc->min_count)
            o.rate_min_count = rc->min_count;
        a = new_anomaly(&o);
        arena_init(&b.ar, 0);
        got_init(&g);
        for (unsigned h = 0; h < rc->learn_hours; h++) {
            unsigned n = rc->base + (h * 37) % (2 * rc->jitter + 1) - rc->jitter;
            if (n)
                feed_hour(a, &b, &g, "web01.corp.example.com", t + h * HOUR, n);
        }
        assert_int_equal(g.n[ANOMALY_RATE], 0);
        feed_hour(a, &b, &g, "web01.corp.example.com", t + rc->learn_hours * HOUR, rc->test_count);
        assert_int_equal(g.n[ANOMALY_RATE], rc->expect_alert ? 1 : 0);
        if (rc->expect_alert) {
            struct anomaly_stats st;
            assert_string_equal(g.v0, "web01.corp.example.com");
            assert_string_equal(g.last.entity[0].field, "host.name");
            assert_true(fabs(g.last.mean - rc->base) <= rc->jitter + 1);
            assert_true(g.last.learned >= o.rate_cold_samples);
            assert_true(g.last.observed > g.last.mean + o.rate_threshold * g.last.dev);
            assert_true(g.last.score > o.rate_threshold);
            assert_int_equal(g.last.slot_hour, (int)(rc->learn_hours % 24));
            assert_int_equal(g.last.slot_weekend, 0);
            assert_non_null(strstr(g.json.data, "\"category\":\"sshd\""));
            anomaly_stats(a, &st);
            assert_int_equal(st.alerts_by_kind[ANOMALY_RATE], 1);
        }
        buf_done(&g.json);
        anomaly_free(a);
        arena_done(&b.ar);
    }
}

/* With an IANA zone the hour of day is the local one at each instant:
 * a burst at 10:00 UTC is in the 11:00 slot of a Berlin winter week and
 * the 12:00 slot of a summer week, with one zone object (a fixed offset
 * taken when the configuration was read would be an hour off half the
 * year). */
static void test_rate_zone_dst(void **state)
{
    static const struct {
        int month;
        int hour;
    } weeks[] = {{1, 11}, {6, 12}};
    struct tz *berlin = NULL;
    (void)state;

    if (tz_load("Europe/Berlin", NULL, &berlin) != 0)
        fail_msg("Europe/Berlin: the tzdata package is needed");
    for (size_t w = 0; w < sizeof(weeks) / sizeof(weeks[0]); w++) {
        struct anomaly_opts o;
        struct anomaly *a;
        struct evb b;
        struct got g;
        /* A Monday 00:00 UTC, three weeks of learning before it. */
        int64_t t = time_from_civil(2025, weeks[w].month, weeks[w].month == 1 ? 6 : 2, 0, 0, 0) *
                    SEC;

        anomaly_opts_default(&o);
        o.tz = berlin;
        a = new_anomaly(&o);
        arena_init(&b.ar, 0);
        got_init(&g);
        for (unsigned h = 0; h < 21 * 24; h++)
            feed_hour(a, &b, &g, "web01.corp.example.com", t + h * HOUR,
                      100 + (h * 37) % 21 - 10);
        assert_int_equal(g.n[ANOMALY_RATE], 0);
        feed_hour(a, &b, &g, "web01.corp.example.com", t + (21 * 24 + 10) * HOUR, 1000);
        assert_int_equal(g.n[ANOMALY_RATE], 1);
        assert_int_equal(g.last.slot_hour, weeks[w].hour);
        buf_done(&g.json);
        anomaly_free(a);
        arena_done(&b.ar);
    }
    tz_free(berlin);
}

/* The weekend has its own slots: a Saturday learned as quiet alerts on a
 * weekday-sized volume, while the same volume on a weekday does not. */
static void test_rate_weekend_slots(void **state)
{
    struct anomaly *a = new_anomaly(NULL);
    struct evb b;
    struct got g;
    int64_t t = t0();

    (void)state;
    arena_init(&b.ar, 0);
    got_init(&g);
    for (unsigned h = 0; h < 21 * 24; h++) {
        int64_t day = h / 24 % 7; /* 0 = Monday */
        feed_hour(a, &b, &g, "files02.corp.example.com", t + h * HOUR, day >= 5 ? 20 : 200);
    }
    assert_int_equal(g.total, 0);
    /* Monday 10:00 with a weekday volume: normal. */
    feed_hour(a, &b, &g, "files02.corp.example.com", t + (21 * 24 + 10) * HOUR, 200);
    assert_int_equal(g.n[ANOMALY_RATE], 0);
    /* Saturday 10:00 of that week with the same volume: anomalous. */
    feed_hour(a, &b, &g, "files02.corp.example.com", t + (26 * 24 + 10) * HOUR, 200);
    assert_int_equal(g.n[ANOMALY_RATE], 1);
    assert_int_equal(g.last.slot_weekend, 1);
    assert_int_equal(g.last.slot_hour, 10);
    buf_done(&g.json);
    anomaly_free(a);
    arena_done(&b.ar);
}

/* ---- first seen ------------------------------------------------------- */

enum fs_type { FS_LOGIN, FS_LOGIN_FAILED, FS_SESSION, FS_NET, FS_NET_DENIED, FS_PROC };

struct fs_step {
    int64_t at; /* offset from t0 */
    enum fs_type type;
    const char *a, *b;       /* login: user, host; net: source.ip, port; proc: host, exe */
    const char *expect_what; /* NULL: no alert */
};

static const struct fs_step fs_steps[] = {
    {0, FS_LOGIN, "alice", "web01.corp.example.com", NULL},
    {1 * DAY, FS_LOGIN, "alice", "web01.corp.example.com", NULL},
    {3 * DAY, FS_LOGIN, "bob", "web01.corp.example.com", NULL},
    {3 * DAY, FS_NET, "10.20.30.41", "443", NULL},
    {4 * DAY, FS_PROC, "ws17.corp.example.com", "C:\\Windows\\System32\\svchost.exe", NULL},
    {6 * DAY + 23 * HOUR, FS_LOGIN, "dave", "db01.corp.example.com", NULL},
    /* Learning (7 days) is over from here. */
    {8 * DAY, FS_LOGIN, "alice", "web01.corp.example.com", NULL},
    {8 * DAY, FS_LOGIN, "carol", "web01.corp.example.com", "first_seen_login"},
    {8 * DAY + HOUR, FS_LOGIN, "carol", "web01.corp.example.com", NULL},
    {9 * DAY, FS_LOGIN, "bob", "db01.corp.example.com", "first_seen_login"},
    {9 * DAY, FS_LOGIN_FAILED, "mallory", "web01.corp.example.com", NULL},
    {9 * DAY, FS_SESSION, "erin", "web01.corp.example.com", NULL},
    {9 * DAY, FS_NET, "10.20.30.41", "443", NULL},
    {9 * DAY, FS_NET, "10.20.30.41", "4444", "first_seen_port"},
    {9 * DAY, FS_NET_DENIED, "10.20.30.41", "6667", NULL},
    {9 * DAY, FS_PROC, "ws17.corp.example.com", "C:\\Windows\\System32\\svchost.exe", NULL},
    {9 * DAY, FS_PROC, "ws17.corp.example.com", "C:\\Users\\Public\\mimikatz.exe",
     "first_seen_process"},
    {10 * DAY, FS_PROC, "ws17.corp.example.com", "C:\\Users\\Public\\mimikatz.exe", NULL},
};

static void fs_event(struct evb *b, const struct fs_step *s)
{
    ev_begin(b, t0() + s->at, NULL);
    switch (s->type) {
    case FS_LOGIN:
    case FS_LOGIN_FAILED:
    case FS_SESSION:
        b->ev.decoder = "sshd";
        ev_str(b, FIELD_HOST_NAME, s->b);
        ev_str(b, FIELD_USER_NAME, s->a);
        ev_str(b, FIELD_SOURCE_IP, "119.137.62.142");
        ev_str(b, FIELD_EVENT_CATEGORY, "authentication");
        ev_str(b, FIELD_EVENT_ACTION, s->type == FS_SESSION ? "ssh_session_opened" : "ssh_login");
        ev_str(b, FIELD_EVENT_OUTCOME, s->type == FS_LOGIN_FAILED ? "failure" : "success");
        break;
    case FS_NET:
    case FS_NET_DENIED:
        b->ev.decoder = "netfilter";
        ev_str(b, FIELD_HOST_NAME, "fw01.corp.example.com");
        ev_str(b, FIELD_EVENT_CATEGORY, "network");
        ev_str(b, FIELD_EVENT_ACTION, "netfilter_log");
        ev_str(b, FIELD_EVENT_TYPE, s->type == FS_NET ? "allowed" : "denied");
        ev_str(b, FIELD_SOURCE_IP, s->a);
        ev_str(b, FIELD_DESTINATION_IP, "198.51.100.23");
        ev_str(b, FIELD_DESTINATION_PORT, s->b);
        break;
    case FS_PROC:
        b->ev.decoder = "winxml";
        ev_str(b, FIELD_HOST_NAME, s->a);
        ev_str(b, FIELD_EVENT_CODE, "1");
        assert_int_equal(event_add_named(&b->ev, "process.executable", 18, s->b, strlen(s->b)), 0);
        break;
    }
}

static void test_first_seen(void **state)
{
    struct anomaly *a = new_anomaly(NULL);
    struct evb b;
    struct got g;

    (void)state;
    arena_init(&b.ar, 0);
    got_init(&g);
    for (size_t i = 0; i < sizeof(fs_steps) / sizeof(fs_steps[0]); i++) {
        const struct fs_step *s = &fs_steps[i];
        unsigned before = g.n[ANOMALY_FIRST_SEEN];

        fs_event(&b, s);
        assert_int_equal(observe(a, &b.ev, collect, &g), 0);
        event_reset(&b.ev);
        if (!s->expect_what) {
            if (g.n[ANOMALY_FIRST_SEEN] != before)
                fail_msg("step %zu (%s %s): unexpected %s", i, s->a, s->b, g.last.what);
            continue;
        }
        assert_int_equal(g.n[ANOMALY_FIRST_SEEN], before + 1);
        assert_string_equal(g.last.what, s->expect_what);
        assert_int_equal(g.last.time_us, t0() + s->at);
        assert_int_equal(g.last.learn_end_us, t0() + 7 * DAY);
        if (s->type == FS_PROC) {
            assert_string_equal(g.v0, s->a);
            assert_string_equal(g.v1, s->b);
            assert_string_equal(g.last.entity[1].field, "process.executable");
        } else if (s->type == FS_NET) {
            assert_string_equal(g.v0, s->a);
            assert_string_equal(g.v1, s->b);
            assert_string_equal(g.last.entity[1].field, "destination.port");
        } else {
            assert_string_equal(g.v0, s->a);
            assert_string_equal(g.v1, s->b);
            assert_string_equal(g.last.entity[0].field, "user.name");
        }
    }
    buf_done(&g.json);
    anomaly_free(a);
    arena_done(&b.ar);
}

/* The real OpenSSH sample (LogHub OpenSSH_2k, one day of a host under
 * attack): decoded and observed with a one-hour learning period, its single
 * accepted login (fztu on LabSZ at 09:32, hours after the first line) is a
 * first-seen login; with the default week it is still learning. */
static void test_first_seen_real_sshd(void **state)
{
    const char *dir = getenv("HIKESHI_SHARED");
    char path[4096];
    char *data = NULL;
    size_t len = 0, decoded = 0, lines = 0;
    struct anomaly_opts o;
    struct anomaly *a, *a_week;
    struct got g, g_week;
    struct evb b;
    struct anomaly_stats st;

    (void)state;
    snprintf(path, sizeof(path), "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log",
             dir ? dir : "../shared");
    assert_int_equal(readfile_all(path, 64 * 1024 * 1024, &data, &len), 0);
    anomaly_opts_default(&o);
    o.first_seen_learn_us = HOUR;
    a = new_anomaly(&o);
    a_week = new_anomaly(NULL);
    got_init(&g);
    got_init(&g_week);
    arena_init(&b.ar, 0);
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (data + off)) : len - off;
        struct decode_ctx ctx = {.ref_us = time_from_civil(2015, 12, 31, 0, 0, 0) * SEC};
        struct parse_err err;

        event_init(&b.ev, &b.ar, data + off, n, ctx.ref_us);
        lines++;
        if (decode_record(&b.ev, NULL, &ctx, &err) == 0 && b.ev.has_time) {
            decoded++;
            assert_int_equal(observe(a, &b.ev, collect, &g), 0);
            assert_int_equal(observe(a_week, &b.ev, collect, &g_week), 0);
        }
        event_reset(&b.ev);
        off += n + 1;
    }
    print_message("OpenSSH_2k: %zu/%zu lines decoded and observed\n", decoded, lines);
    assert_true(decoded > lines * 9 / 10);
    assert_int_equal(g.n[ANOMALY_FIRST_SEEN], 1);
    assert_string_equal(g.last.what, "first_seen_login");
    assert_string_equal(g.v0, "fztu");
    assert_string_equal(g.v1, "LabSZ");
    assert_int_equal(g_week.n[ANOMALY_FIRST_SEEN], 0);
    anomaly_stats(a, &st);
    assert_int_equal(st.events, decoded);
    buf_done(&g.json);
    buf_done(&g_week.json);
    anomaly_free(a);
    anomaly_free(a_week);
    arena_done(&b.ar);
    free(data);
}

/* ---- beaconing -------------------------------------------------------- */

enum beacon_gen { GEN_REGULAR, GEN_EXPONENTIAL, GEN_BROWSING };

struct beacon_case {
    const char *name;
    enum beacon_gen gen;
    unsigned conns;   /* connections of the pair (browsing: destinations) */
    double period_s;  /* mean interval */
    double jitter;    /* regular: relative half-width of uniform jitter */
    int64_t quiet_us; /* option; 0 keeps the default */
    unsigned min_alerts, max_alerts;
};

static const struct beacon_case beacon_cases[] = {
    {"60 s +/- 5% for one hour", GEN_REGULAR, 61, 60, 0.05, 0, 1, 1},
    {"60 s +/- 5% for five hours, alerted once per quiet period", GEN_REGULAR, 301, 60, 0.05, 0, 1,
     1},
    {"60 s +/- 5% for two hours, 30 min quiet period", GEN_REGULAR, 121, 60, 0.05, 30 * MIN, 3, 4},
    {"300 s +/- 2% for three hours", GEN_REGULAR, 37, 300, 0.02, 0, 1, 1},
    {"too few connections (15)", GEN_REGULAR, 15, 60, 0.05, 0, 0, 0},
    {"too fast to be a beacon (2 s)", GEN_REGULAR, 200, 2, 0.05, 0, 0, 0},
    {"too slow to be a beacon (2 h)", GEN_REGULAR, 40, 7200, 0.01, 0, 0, 0},
    {"exponential inter-arrivals, mean 60 s", GEN_EXPONENTIAL, 300, 60, 0, 0, 0, 0},
    {"browsing 300 destinations for an hour", GEN_BROWSING, 300, 0, 0, 0, 0, 0},
};

static void beacon_event(struct anomaly *a, struct evb *b, struct got *g, int64_t t,
                         const char *src, const char *dst, const char *port)
{
    ev_begin(b, t, "netfilter");
    ev_str(b, FIELD_HOST_NAME, "fw01.corp.example.com");
    ev_str(b, FIELD_EVENT_CATEGORY, "network");
    ev_str(b, FIELD_EVENT_ACTION, "netfilter_log");
    ev_str(b, FIELD_SOURCE_IP, src);
    ev_str(b, FIELD_DESTINATION_IP, dst);
    ev_str(b, FIELD_DESTINATION_PORT, port);
    ev_str(b, FIELD_NETWORK_TRANSPORT, "tcp");
    assert_int_equal(observe(a, &b->ev, collect, g), 0);
    event_reset(&b->ev);
}

static void test_beacon(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(beacon_cases) / sizeof(beacon_cases[0]); c++) {
        const struct beacon_case *bc = &beacon_cases[c];
        struct anomaly_opts o;
        struct anomaly *a;
        struct evb b;
        struct got g;
        int64_t t = t0() + 9 * HOUR;

        print_message("beacon: %s\n", bc->name);
        rng_state = 0x9e3779b97f4a7c15ULL + c;
        anomaly_opts_default(&o);
        if (bc->quiet_us)
            o.beacon_quiet_us = bc->quiet_us;
        a = new_anomaly(&o);
        arena_init(&b.ar, 0);
        got_init(&g);
        if (bc->gen == GEN_BROWSING) {
            /* Each site a few times at random moments of the hour, and one
             * busy site revisited often but irregularly. */
            for (unsigned d = 0; d < bc->conns; d++) {
                char dst[32];
                unsigned k = 1 + (unsigned)(rng_unit() * 5);
                int64_t at = t + (int64_t)(rng_unit() * 30 * MIN);
                snprintf(dst, sizeof(dst), "93.184.%u.%u", 1 + d / 200, 1 + d % 200);
                for (unsigned i = 0; i < k; i++) {
                    beacon_event(a, &b, &g, at, "192.168.1.23", dst, "443");
                    at += (int64_t)(rng_unit() * 10 * MIN) + SEC;
                }
            }
            for (unsigned i = 0; i < 60; i++) {
                t += (int64_t)(-log(1.0 - rng_unit()) * 90 * SEC) + SEC;
                beacon_event(a, &b, &g, t, "192.168.1.23", "142.250.74.46", "443");
            }
        } else {
            for (unsigned i = 0; i < bc->conns; i++) {
                double iv;
                beacon_event(a, &b, &g, t, "10.20.30.41", "198.51.100.23", "443");
                if (bc->gen == GEN_REGULAR)
                    iv = bc->period_s * (1.0 + bc->jitter * (2.0 * rng_unit() - 1.0));
                else
                    iv = -log(1.0 - rng_unit()) * bc->period_s;
                t += (int64_t)(iv * SEC);
            }
        }
        if (g.n[ANOMALY_BEACON] < bc->min_alerts || g.n[ANOMALY_BEACON] > bc->max_alerts)
            fail_msg("%s: %u beacon alerts, expected %u..%u", bc->name, g.n[ANOMALY_BEACON],
                     bc->min_alerts, bc->max_alerts);
        if (g.n[ANOMALY_BEACON]) {
            assert_string_equal(g.v0, "10.20.30.41");
            assert_string_equal(g.v1, "198.51.100.23");
            assert_true(fabs(g.last.mean - bc->period_s) <= bc->period_s * bc->jitter);
            assert_true(g.last.observed <= o.beacon_max_cv);
            assert_true(g.last.learned >= o.beacon_min_conns - 1);
            assert_non_null(strstr(g.json.data, "\"destination.port\":\"443\""));
        }
        assert_int_equal(g.n[ANOMALY_FIRST_SEEN] + g.n[ANOMALY_RATE], 0);
        buf_done(&g.json);
        anomaly_free(a);
        arena_done(&b.ar);
    }
}

/* ---- formatting ------------------------------------------------------- */

static void test_alert_format(void **state)
{
    struct anomaly_alert al;
    struct buf out;
    static const char host[] = "web01\n\"x\"";

    (void)state;
    memset(&al, 0, sizeof(al));
    al.kind = ANOMALY_RATE;
    al.what = "rate";
    al.time_us = t0() + 14 * HOUR;
    al.nentity = 1;
    al.entity[0].field = "host.name";
    al.entity[0].val = host;
    al.entity[0].len = sizeof(host) - 1;
    al.category = "sshd";
    al.category_len = 4;
    al.mean = 100.25;
    al.dev = 10;
    al.observed = 1000;
    al.score = 89.975;
    al.learned = 15;
    al.slot_hour = 14;
    buf_init(&out, 4096);
    assert_int_equal(anomaly_alert_text(&al, &out), 0);
    assert_string_equal(
        out.data, "rate anomaly: host.name=\"web01\\x0a\\\"x\\\"\" category \"sshd\" had 1000 "
                  "events in the 14:00 weekday hour up to 2023-12-04T14:00:00.000000Z; "
                  "baseline 100.2 +/- 10.0 from 15 hours learned (score 90.0)");
    buf_reset(&out);
    assert_int_equal(anomaly_alert_json(&al, &out), 0);
    assert_string_equal(
        out.data, "{\"kind\":\"rate\",\"what\":\"rate\",\"time\":\"2023-12-04T14:00:00.000000Z\","
                  "\"entity\":{\"host.name\":\"web01\\n\\\"x\\\"\"},\"category\":\"sshd\","
                  "\"slot\":{\"hour\":14,\"weekend\":false},\"baseline\":{\"mean\":100.250,"
                  "\"dev\":10.000,\"hours_learned\":15},\"observed\":1000,\"score\":89.975}");
    buf_done(&out);
    assert_string_equal(anomaly_kind_name(ANOMALY_BEACON), "beacon");
    assert_string_equal(anomaly_kind_name((enum anomaly_kind)99), "unknown");
}

static void test_options(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a = (struct anomaly *)&o;

    (void)state;
    anomaly_opts_default(&o);
    assert_int_equal(o.mem_cap, 32u * 1024 * 1024);
    assert_int_equal(o.first_seen_learn_us, 7 * DAY);
    o.beacon_history = ANOMALY_BEACON_HISTORY_MAX + 1;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    assert_null(a);
    anomaly_opts_default(&o);
    o.rate_alpha = 0;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    anomaly_opts_default(&o);
    o.mem_cap = 1024;
    assert_int_equal(anomaly_new(&o, &a), -EINVAL);
    anomaly_free(NULL);
}

/* ---- save and restore ------------------------------------------------- */

/* Phase 1 teaches all three detectors part of the way; phase 2 finishes:
 * a rate burst, a new login, and a beacon that completes its count. */
static void feed_phase(struct anomaly *a, struct got *g, int phase)
{
    struct evb b;
    int64_t t = t0();

    arena_init(&b.ar, 0);
    if (phase == 1) {
        for (unsigned h = 0; h < 4 * 24; h++)
            feed_hour(a, &b, g, "web01.corp.example.com", t + h * HOUR, 40 + h % 7);
        for (size_t i = 0; i < 3; i++)
            fs_event(&b, &fs_steps[i]), observe(a, &b.ev, collect, g), event_reset(&b.ev);
        for (unsigned i = 0; i < 12; i++)
            beacon_event(a, &b, g, t + 3 * DAY + i * 60 * SEC, "10.20.30.41", "198.51.100.23",
                         "8443");
    } else {
        for (size_t i = 6; i < 10; i++)
            fs_event(&b, &fs_steps[i]), observe(a, &b.ev, collect, g), event_reset(&b.ev);
        for (unsigned i = 12; i < 25; i++)
            beacon_event(a, &b, g, t + 3 * DAY + i * 60 * SEC, "10.20.30.41", "198.51.100.23",
                         "8443");
        feed_hour(a, &b, g, "web01.corp.example.com", t + 11 * DAY, 400);
    }
    arena_done(&b.ar);
}

static void test_save_restore_roundtrip(void **state)
{
    struct anomaly *a = new_anomaly(NULL), *r = new_anomaly(NULL);
    struct got ga, gr, g1;
    struct buf s1, s2;
    struct parse_err err;
    struct anomaly_stats sa, sr;

    (void)state;
    got_init(&g1);
    got_init(&ga);
    got_init(&gr);
    feed_phase(a, &g1, 1);
    assert_int_equal(g1.total, 0);
    buf_init(&s1, 64 * 1024 * 1024);
    buf_init(&s2, 64 * 1024 * 1024);
    assert_int_equal(anomaly_save(a, &s1), 0);
    assert_int_equal(anomaly_restore(r, s1.data, s1.len, &err), 0);
    assert_int_equal(anomaly_save(r, &s2), 0);
    assert_int_equal(s1.len, s2.len);
    assert_memory_equal(s1.data, s2.data, s1.len);
    anomaly_stats(a, &sa);
    anomaly_stats(r, &sr);
    assert_int_equal(sa.entries, sr.entries);
    assert_int_equal(sa.mem_used, sr.mem_used);
    print_message("saved state: %zu entries, %zu bytes\n", (size_t)sa.entries, s1.len);

    feed_phase(a, &ga, 2);
    feed_phase(r, &gr, 2);
    assert_int_equal(ga.n[ANOMALY_RATE], 1);
    assert_int_equal(ga.n[ANOMALY_FIRST_SEEN], 2);
    assert_int_equal(ga.n[ANOMALY_BEACON], 1);
    assert_string_equal(ga.json.data, gr.json.data);

    /* A fresh state fed only phase 2 is still learning logins and has
     * too few connections for a beacon: the restored one really carried
     * what phase 1 taught. */
    {
        struct anomaly *f = new_anomaly(NULL);
        struct got gf;
        got_init(&gf);
        feed_phase(f, &gf, 2);
        assert_int_equal(gf.n[ANOMALY_FIRST_SEEN] + gf.n[ANOMALY_BEACON], 0);
        assert_true(gf.json.len == 0 || strcmp(gf.json.data, ga.json.data) != 0);
        buf_done(&gf.json);
        anomaly_free(f);
    }
    buf_done(&s1);
    buf_done(&s2);
    buf_done(&g1.json);
    buf_done(&ga.json);
    buf_done(&gr.json);
    anomaly_free(a);
    anomaly_free(r);
}

/* Blob layout used to aim corruptions: header of 20 bytes, then the oldest
 * entry (here the rate entry of web01): kind, key length (2), key, ... */
#define OFF_VERSION 4
#define OFF_COUNT 16
#define OFF_ENTRY 20

static void fix_crc(unsigned char *p, size_t len)
{
    uint32_t c = (uint32_t)crc32_z(0L, p, len - 4);

    for (int i = 0; i < 4; i++)
        p[len - 4 + i] = (unsigned char)(c >> (8 * i));
}

enum mut { M_TRUNC, M_FLIP, M_SET_FIXCRC, M_APPEND_FIXCRC, M_NAN_MEAN };

struct corrupt_case {
    const char *name;
    enum mut m;
    long where; /* byte offset; negative counts from the end */
    unsigned char val;
    const char *msg_part;
};

static const struct corrupt_case corrupt_cases[] = {
    {"empty", M_TRUNC, 0, 0, "truncated"},
    {"header only", M_TRUNC, 12, 0, "truncated"},
    {"last byte missing", M_TRUNC, -1, 0, "checksum"},
    {"cut in half", M_TRUNC, -2, 0, "checksum"},
    {"bad magic", M_FLIP, 0, 0x20, "magic"},
    {"other version", M_SET_FIXCRC, OFF_VERSION, 3, "version"},
    {"flipped bit in an entry", M_FLIP, OFF_ENTRY + 40, 0x01, "checksum"},
    {"flipped checksum", M_FLIP, -1, 0x80, "checksum"},
    {"unknown flags", M_SET_FIXCRC, 6, 0x80, "flags"},
    {"unknown entry kind", M_SET_FIXCRC, OFF_ENTRY, 9, "unknown kind"},
    {"key length past the end", M_SET_FIXCRC, OFF_ENTRY + 2, 0xff, "truncated"},
    {"malformed key", M_SET_FIXCRC, OFF_ENTRY + 5, 0xf0, "malformed key"},
    {"more entries than present", M_SET_FIXCRC, OFF_COUNT + 3, 0x10, "truncated"},
    {"trailing bytes", M_APPEND_FIXCRC, 0, 0, "trailing"},
    {"NaN baseline", M_NAN_MEAN, 0, 0, "invalid baseline"},
};

static void test_restore_refuses_corrupt(void **state)
{
    struct anomaly *a = new_anomaly(NULL);
    struct got g;
    struct buf s, after;

    (void)state;
    got_init(&g);
    feed_phase(a, &g, 1);
    buf_init(&s, 64 * 1024 * 1024);
    buf_init(&after, 64 * 1024 * 1024);
    assert_int_equal(anomaly_save(a, &s), 0);
    for (size_t c = 0; c < sizeof(corrupt_cases) / sizeof(corrupt_cases[0]); c++) {
        const struct corrupt_case *cc = &corrupt_cases[c];
        size_t len = s.len, at;
        unsigned char *p = malloc(s.len + 8);
        struct parse_err err = {0, 0, 0, NULL};

        assert_non_null(p);
        memcpy(p, s.data, s.len);
        at = cc->where >= 0 ? (size_t)cc->where : s.len - (size_t)-cc->where;
        switch (cc->m) {
        case M_TRUNC: len = cc->where == -2 ? s.len / 2 : at; break;
        case M_FLIP: p[at] ^= cc->val ? cc->val : 0xff; break;
        case M_SET_FIXCRC:
            p[at] = cc->val;
            fix_crc(p, len);
            break;
        case M_APPEND_FIXCRC:
            memmove(p + len - 1, p + len - 4, 4);
            p[len - 4] = 0;
            p[len - 3] = 0;
            p[len - 2] = 0;
            len += 3;
            fix_crc(p, len);
            break;
        case M_NAN_MEAN: {
            /* The first mean follows kind, key length, key, hour (8),
             * count (4) and flag (1). */
            size_t klen = (size_t)p[OFF_ENTRY + 1] | (size_t)p[OFF_ENTRY + 2] << 8;
            size_t m = OFF_ENTRY + 3 + klen + 13;
            assert_int_equal(p[OFF_ENTRY], ANOMALY_RATE);
            p[m] = 0;
            p[m + 1] = 0;
            p[m + 2] = 0xc0;
            p[m + 3] = 0x7f;
            fix_crc(p, len);
            break;
        }
        }
        print_message("restore: %s\n", cc->name);
        assert_int_equal(anomaly_restore(a, (const char *)p, len, &err), -EINVAL);
        assert_non_null(err.msg);
        if (!strstr(err.msg, cc->msg_part))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cc->name, err.msg, cc->msg_part);
        assert_true(err.off <= len);
        /* A refused blob leaves the state as it was. */
        buf_reset(&after);
        assert_int_equal(anomaly_save(a, &after), 0);
        assert_int_equal(after.len, s.len);
        assert_memory_equal(after.data, s.data, s.len);
        free(p);
    }
    buf_done(&s);
    buf_done(&after);
    buf_done(&g.json);
    anomaly_free(a);
}

/* ---- memory cap ------------------------------------------------------- */

static void test_memory_cap(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a;
    struct anomaly_stats st;
    struct evb b;
    struct got g;
    const unsigned n = 1000000;
    int64_t t = t0();

    (void)state;
    anomaly_opts_default(&o);
    o.mem_cap = 256 * 1024;
    a = new_anomaly(&o);
    arena_init(&b.ar, 0);
    got_init(&g);
    for (unsigned i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
        ev_begin(&b, t + i * 10000LL, "sshd");
        ev_str(&b, FIELD_SOURCE_IP, ip);
        assert_int_equal(observe(a, &b.ev, collect, &g), 0);
        event_reset(&b.ev);
        if (i % 4096 == 0) {
            anomaly_stats(a, &st);
            assert_true(st.mem_used <= o.mem_cap);
        }
    }
    anomaly_stats(a, &st);
    print_message("1M entities under 256 KiB: %llu tracked, %llu evicted, %zu bytes\n",
                  (unsigned long long)st.entries, (unsigned long long)st.evicted, st.mem_used);
    assert_true(st.mem_used <= o.mem_cap);
    assert_true(st.entries > 100);
    /* Every event made one new rate entry: what is not held was evicted. */
    assert_int_equal(st.entries + st.evicted, n);
    assert_int_equal(st.entries_by_kind[ANOMALY_RATE], st.entries);
    assert_int_equal(st.events, n);
    /* The most recent entity survived; it is the one an old-first eviction keeps. */
    {
        struct buf s;
        buf_init(&s, 64 * 1024 * 1024);
        assert_int_equal(anomaly_save(a, &s), 0);
        assert_non_null(memmem(s.data, s.len, "10.15.66.63", 11));
        assert_null(memmem(s.data, s.len,
                           "\x08"
                           "10.0.0.1"
                           "\x04",
                           10));
        buf_done(&s);
    }
    buf_done(&g.json);
    anomaly_free(a);
    arena_done(&b.ar);
}

/*
 * The alerts of an event are kept by the anomaly, in the order raised, with
 * their own copies of the values: still whole after the event's arena is
 * reused, gone with the next event (count 0 when it raises none).
 */
static void test_alerts_kept(void **state)
{
    struct anomaly_opts o;
    struct anomaly *a;
    const struct anomaly_alert *al;
    struct evb b;

    (void)state;
    anomaly_opts_default(&o);
    o.first_seen_learn_us = 0;
    o.rate_enable = 0;
    a = new_anomaly(&o);
    arena_init(&b.ar, 0);
    assert_int_equal(anomaly_alert_count(a), 0);
    assert_null(anomaly_alert_get(a, 0));
    /* A login that also starts a process: two first-seen pairs. */
    ev_begin(&b, t0(), "winxml");
    ev_str(&b, FIELD_EVENT_CATEGORY, "authentication");
    ev_str(&b, FIELD_EVENT_OUTCOME, "success");
    ev_str(&b, FIELD_EVENT_ACTION, "logon");
    ev_str(&b, FIELD_EVENT_CODE, "4688");
    ev_str(&b, FIELD_USER_NAME, "alice");
    ev_str(&b, FIELD_HOST_NAME, "web01");
    ev_str(&b, field_intern("process.executable", 18), "C:\\Windows\\evil.exe");
    assert_int_equal(anomaly_observe(a, &b.ev), 0);
    /* The arena reused by another event, never observed. */
    event_reset(&b.ev);
    ev_begin(&b, t0(), "winxml");
    ev_str(&b, FIELD_EVENT_CATEGORY, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    ev_str(&b, FIELD_USER_NAME, "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY");
    ev_str(&b, FIELD_HOST_NAME, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ");
    assert_int_equal(anomaly_alert_count(a), 2);
    al = anomaly_alert_get(a, 0);
    assert_non_null(al);
    assert_string_equal(al->what, "first_seen_login");
    assert_int_equal(al->nentity, 2);
    assert_int_equal(al->entity[0].len, 5);
    assert_memory_equal(al->entity[0].val, "alice", 5);
    assert_string_equal(al->entity[1].val, "web01");
    al = anomaly_alert_get(a, 1);
    assert_non_null(al);
    assert_string_equal(al->what, "first_seen_process");
    assert_string_equal(al->entity[0].val, "web01");
    assert_string_equal(al->entity[1].val, "C:\\Windows\\evil.exe");
    assert_int_equal(al->entity[1].len, strlen("C:\\Windows\\evil.exe"));
    assert_null(anomaly_alert_get(a, 2));
    /* The same pairs again: nothing new, and the last event's are gone. */
    event_reset(&b.ev);
    ev_begin(&b, t0() + SEC, "winxml");
    ev_str(&b, FIELD_EVENT_CATEGORY, "authentication");
    ev_str(&b, FIELD_EVENT_OUTCOME, "success");
    ev_str(&b, FIELD_EVENT_ACTION, "logon");
    ev_str(&b, FIELD_USER_NAME, "alice");
    ev_str(&b, FIELD_HOST_NAME, "web01");
    assert_int_equal(anomaly_observe(a, &b.ev), 0);
    assert_int_equal(anomaly_alert_count(a), 0);
    assert_null(anomaly_alert_get(a, 0));
    event_reset(&b.ev);
    anomaly_free(a);
    arena_done(&b.ar);
}

static int teardown_fields(void **state)
{
    (void)state;
    field_done();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_rate_weekend_slots),
        cmocka_unit_test(test_rate_zone_dst),
        cmocka_unit_test(test_first_seen),
        cmocka_unit_test(test_first_seen_real_sshd),
        cmocka_unit_test(test_beacon),
        cmocka_unit_test(test_alert_format),
        cmocka_unit_test(test_save_restore_roundtrip),
        cmocka_unit_test(test_restore_refuses_corrupt),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_alerts_kept),
    };

    return cmocka_run_group_tests(tests, NULL, teardown_fields);
}
