/*
 * bench-corr.c - correlation engine under a flood of distinct sources:
 * events/s and peak RSS before and after the memory cap is hit, and
 * whether an attack planted in the flood is still found.
 *
 * usage: bench_corr [EVENTS]      (default 1,000,000)
 * Environment: BENCH_CAP (bytes with k/m suffix, or "auto"; default 64m),
 * BENCH_RATE (flood events per second of event time; default 2000).  Run
 * from the source root (for rules/).
 *
 * The rules are the bundled SSH ones (rules/lnx_sshd_auth_failure.yml,
 * lnx_sshd_login_accepted.yml, corr_ssh_bruteforce.yml and
 * corr_ssh_bruteforce_success.yml): every flood event is one failed login
 * from a new address, so each opens a group that never grows.  Halfway
 * through, one address fails ten times (one a second, in the flood) and
 * then logs in: the brute force and its success must both fire.  Only the
 * engine is timed (events are built in a per-event arena, as the pipeline
 * does); "before cap" ends at the first eviction at the cap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "detect/sigma.h"
#include "detect/sigma_corr.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

#define SEC 1000000LL
#define T0 (1780300800LL * SEC) /* 2026-06-01T08:00:00Z */

static const char *const files[] = {
    "rules/lnx_sshd_auth_failure.yml",
    "rules/lnx_sshd_login_accepted.yml",
    "rules/corr_ssh_bruteforce.yml",
    "rules/corr_ssh_bruteforce_success.yml",
};

struct bench {
    struct sigma_doc *docs[4];
    size_t ndocs[4];
    struct sigma_rule *rules[4];
    size_t nrules;
    struct sigma_corr_rule *corrs[4];
    size_t ncorrs;
    size_t fail_idx, ok_idx; /* base rule indexes */
    struct sigma_corr_engine *e;
    struct arena arena;
    struct event ev;
    unsigned brute_hits, success_hits;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static void on_hit(void *arg, const struct sigma_corr_hit *h)
{
    struct bench *b = arg;

    if (h->ngroup && strcmp(h->group_values[0], "203.0.113.7") != 0)
        return;
    if (h->rule->name && strcmp(h->rule->name, "ssh_bruteforce") == 0)
        b->brute_hits++;
    if (h->rule->name && strcmp(h->rule->name, "ssh_bruteforce_success") == 0)
        b->success_hits++;
}

static int load(struct bench *b)
{
    for (size_t f = 0; f < 4; f++) {
        struct sigma_err err;
        if (sigma_load_docs_file(files[f], NULL, &b->docs[f], &b->ndocs[f], &err) != 0) {
            fprintf(stderr, "bench_corr: %s: %s (run from the source root)\n", files[f],
                    err.reason);
            return -EINVAL;
        }
        for (size_t i = 0; i < b->ndocs[f]; i++) {
            if (b->docs[f][i].rule && b->nrules < 4) {
                if (f == 0)
                    b->fail_idx = b->nrules;
                if (f == 1)
                    b->ok_idx = b->nrules;
                b->rules[b->nrules++] = b->docs[f][i].rule;
            } else if (b->docs[f][i].corr && b->ncorrs < 4) {
                b->corrs[b->ncorrs++] = b->docs[f][i].corr;
            }
        }
    }
    return b->nrules == 2 && b->ncorrs == 2 ? 0 : -EINVAL;
}

static void feed(struct bench *b, size_t rule, int64_t t, const char *ip)
{
    static const char raw[] =
        "Failed password for invalid user admin from 10.1.2.3 port 40000 ssh2";

    event_init(&b->ev, &b->arena, raw, sizeof(raw) - 1, t);
    b->ev.time_us = t;
    (void)event_add_named(&b->ev, "source.ip", 9, ip, strlen(ip));
    (void)event_add_named(&b->ev, "host.name", 9, "web01", 5);
    (void)sigma_corr_feed(b->e, rule, &b->ev, on_hit, b);
    event_reset(&b->ev);
}

static size_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (*end == 'k' || *end == 'K')
        v *= 1024;
    else if (*end == 'm' || *end == 'M')
        v *= 1024 * 1024;
    return (size_t)v;
}

int main(int argc, char **argv)
{
    struct bench b;
    struct sigma_corr_opts o = {.max_bytes = 64u * 1024 * 1024, .tolerance_us = -1};
    struct sigma_corr_stats st;
    const char *cap = getenv("BENCH_CAP"), *rate_s = getenv("BENCH_RATE");
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    double rate = rate_s ? strtod(rate_s, NULL) : 2000;
    double t_start, t_cap = 0, rss_cap = 0;
    unsigned long at_cap = 0, attack_at = n / 2;
    char ip[32];
    int rc = 0;

    memset(&b, 0, sizeof(b));
    if (cap && strcmp(cap, "auto") == 0)
        o.max_bytes = 0;
    else if (cap)
        o.max_bytes = parse_size(cap);
    if (n < 1000 || !(rate > 0)) {
        fprintf(stderr, "usage: bench_corr [EVENTS >= 1000]; BENCH_RATE > 0\n");
        return 2;
    }
    if (load(&b) < 0 ||
        sigma_corr_engine_new(b.corrs, b.ncorrs, b.rules, b.nrules, &o, NULL, NULL, &b.e) < 0)
        return 1;
    arena_init(&b.arena, 0);
    t_start = now_s();
    for (unsigned long i = 0; i < n; i++) {
        int64_t t = T0 + (int64_t)((double)i / rate * 1e6);

        snprintf(ip, sizeof(ip), "10.%lu.%lu.%lu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        feed(&b, b.fail_idx, t, ip);
        /* The attack: one failure every `rate` flood events (a second of
         * event time), ten of them, then the login. */
        if (i >= attack_at && i < attack_at + 11 * (unsigned long)rate &&
            (i - attack_at) % (unsigned long)rate == 0) {
            unsigned long k = (i - attack_at) / (unsigned long)rate;
            feed(&b, k < 10 ? b.fail_idx : b.ok_idx, t, "203.0.113.7");
        }
        if (!at_cap && (i & 1023) == 0) {
            sigma_corr_engine_stats(b.e, &st);
            if (st.evicted_cap) {
                at_cap = i + 1;
                t_cap = now_s() - t_start;
                rss_cap = rss_mb();
            }
        }
    }
    {
        double secs = now_s() - t_start;

        sigma_corr_engine_stats(b.e, &st);
        printf("correlation flood: %lu distinct sources at %.0f/s of event time, cap %zu bytes "
               "(%s)\n",
               n, rate, st.max_bytes, st.cap_sized ? "sized" : "configured");
        if (at_cap)
            printf("  before cap: %9lu events %7.3f s %10.0f events/s  peak RSS %7.1f MB\n", at_cap,
                   t_cap, (double)at_cap / t_cap, rss_cap);
        else
            printf("  before cap: %9lu events %7.3f s %10.0f events/s  peak RSS %7.1f MB "
                   "(cap never hit)\n",
                   n, secs, (double)n / secs, rss_mb());
        if (at_cap)
            printf("  after cap:  %9lu events %7.3f s %10.0f events/s  peak RSS %7.1f MB\n",
                   n - at_cap, secs - t_cap, (double)(n - at_cap) / (secs - t_cap), rss_mb());
        printf("  groups %zu, state %zu bytes, expired %llu, evicted at cap %llu (single %llu, far "
               "%llu, mid %llu, near %llu); attack: brute force %s, then success %s\n",
               st.groups_live, st.bytes, (unsigned long long)st.evicted_age,
               (unsigned long long)st.evicted_cap,
               (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_SINGLE],
               (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_FAR],
               (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_MID],
               (unsigned long long)st.evicted_cap_cost[SIGMA_CORR_COST_NEAR],
               b.brute_hits ? "found" : "MISSED", b.success_hits ? "found" : "MISSED");
        if (!b.brute_hits || !b.success_hits)
            rc = 1;
    }
    sigma_corr_engine_free(b.e);
    for (size_t f = 0; f < 4; f++)
        sigma_docs_free(b.docs[f], b.ndocs[f]);
    arena_done(&b.arena);
    return rc;
}
