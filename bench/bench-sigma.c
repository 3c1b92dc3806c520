/*
 * bench-sigma.c - Sigma matching throughput: the compiled rule set against
 * the plain evaluator.
 *
 * usage: bench_sigma [GEN]
 *   GEN: path to hikeshi-gen; 200,000 generated lines are then part of the
 *   events (else the loghub Linux and OpenSSH samples are).
 * Environment: HIKESHI_SHARED (default ../shared), the source root as the
 * working directory (for rules/), BENCH_SECONDS (per timing, default 3).
 *
 * Events are decoded once, up front (EVTX-ATTACK-SAMPLES records and the
 * lines), so only matching is timed.  Three rule sets: (a) hikeshi's
 * rules/, (b) the first 100 SigmaHQ rules/ files in sorted path order,
 * (c) every loadable SigmaHQ rules/ rule.  Each timing loops over the
 * events until BENCH_SECONDS have passed (at least one event): the plain
 * evaluator on (c) would otherwise take an hour, so it times an evenly
 * spread sample of the events (see time_plain()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "detect/sigma.h"
#include "event/event.h"
#include "event/field.h"
#include "input/input_evtx.h"
#include "util/arena.h"

#include "../tests/unit/sigma_testlib.h"

#define BENCH_ARENA_ROLL (32u * 1024 * 1024) /* start a new arena past this */
#define BENCH_GEN_RECORDS "200000"

struct corpus {
    struct event *ev;
    size_t n, cap;
    struct arena **arenas;
    size_t narenas;
    char **bufs; /* file contents the events point into */
    size_t nbufs;
};

static void die(const char *what)
{
    fprintf(stderr, "bench_sigma: %s\n", what);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every file under `dir` ending in `suffix`, sorted; exits when `dir`
 * cannot be read. */
static void find_files(const char *dir, const char *suffix, struct sigma_testlib_paths *pv)
{
    int r = sigma_testlib_find_files(dir, suffix, pv);

    if (r < 0) {
        fprintf(stderr, "bench_sigma: cannot open %s: %s\n", dir, strerror(-r));
        exit(1);
    }
    sigma_testlib_paths_sort(pv);
}

/* The arena for the next event: a fresh one once the current is large. */
static struct arena *corpus_arena(struct corpus *c)
{
    if (c->narenas && c->arenas[c->narenas - 1]->used_total < BENCH_ARENA_ROLL)
        return c->arenas[c->narenas - 1];
    c->arenas = xrealloc(c->arenas, (c->narenas + 1) * sizeof(*c->arenas));
    struct arena *a = malloc(sizeof(*a));
    if (!a)
        die("out of memory");
    arena_init(a, 0);
    c->arenas[c->narenas++] = a;
    return a;
}

static void corpus_add(struct corpus *c, const char *raw, size_t len, int copy)
{
    struct arena *a = corpus_arena(c);
    if (copy) {
        char *p = arena_strndup(a, raw, len);
        if (!p)
            die("arena full");
        raw = p;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->ev = xrealloc(c->ev, c->cap * sizeof(*c->ev));
    }
    struct event *ev = &c->ev[c->n++];
    struct decode_ctx ctx = {0};
    struct parse_err err;
    event_init(ev, a, raw, len, 0);
    (void)decode_record(ev, NULL, &ctx, &err);
}

static void corpus_evtx(struct corpus *c, const char *dir)
{
    struct sigma_testlib_paths pv = {0};
    find_files(dir, ".evtx", &pv);
    for (size_t i = 0; i < pv.n; i++) {
        struct input_evtx *in = NULL;
        const char *xml;
        size_t len;
        if (input_evtx_open(pv.v[i], &in) == 0) {
            while (input_evtx_next(in, &xml, &len) == 1)
                corpus_add(c, xml, len, 1);
            input_evtx_free(in);
        }
    }
    sigma_testlib_paths_free(&pv);
}

static void corpus_lines(struct corpus *c, const char *path)
{
    size_t len;
    char *buf = sigma_testlib_slurp(path, &len);
    if (!buf) {
        fprintf(stderr, "bench_sigma: cannot read %s\n", path);
        exit(1);
    }
    c->bufs = xrealloc(c->bufs, (c->nbufs + 1) * sizeof(*c->bufs));
    c->bufs[c->nbufs++] = buf;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && buf[e] != '\n')
            e++;
        if (e > i)
            corpus_add(c, buf + i, e - i, 0);
        i = e + 1;
    }
}

/* Runs `gen` into a temporary file and adds its lines. */
static void corpus_gen(struct corpus *c, const char *gen)
{
    char tmp[] = "/tmp/bench-sigma.XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0)
        die("mkstemp failed");
    close(fd);
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        execl(gen, gen, "--seed", "1", "--records", BENCH_GEN_RECORDS, "-o", tmp, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(tmp);
        die("hikeshi-gen failed");
    }
    corpus_lines(c, tmp);
    unlink(tmp);
}

struct rules {
    struct sigma_rule **v;
    size_t n;
};

static void load_paths(struct rules *rs, char **paths, size_t n)
{
    rs->v = xrealloc(rs->v, (rs->n + n) * sizeof(*rs->v));
    for (size_t i = 0; i < n; i++) {
        struct sigma_rule *r = NULL;
        struct sigma_err err;
        if (sigma_load_file(paths[i], NULL, &r, &err) == 0)
            rs->v[rs->n++] = r;
    }
}

static double bench_seconds(void)
{
    const char *s = getenv("BENCH_SECONDS");
    double v = s ? strtod(s, NULL) : 3.0;
    return v > 0 ? v : 3.0;
}

struct timing {
    double eps;     /* events per second */
    size_t matches; /* over the events timed */
    size_t events;
};

static struct timing time_compiled(struct sigma_ruleset *set, const struct corpus *c, double budget)
{
    struct timing t = {0};
    double t0 = now_s(), dt;
    do {
        for (size_t i = 0; i < c->n; i++)
            t.matches += sigma_ruleset_match(set, &c->ev[i], NULL, NULL);
        t.events += c->n;
        dt = now_s() - t0;
    } while (dt < budget);
    t.eps = (double)t.events / dt;
    return t;
}

/* The plain evaluator rarely gets through all events in the budget, so it
 * walks them with a stride coprime to their count: the events it does time
 * are spread evenly over the corpus (EVTX and lines in their proportion). */
static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static struct timing time_plain(const struct rules *rs, const struct corpus *c, double budget)
{
    struct timing t = {0};
    double t0 = now_s(), dt;
    size_t i = 0, stride = 7919;
    while (gcd(stride, c->n) != 1)
        stride++;
    do {
        for (size_t k = 0; k < rs->n; k++)
            t.matches += (size_t)sigma_eval(rs->v[k], &c->ev[i]);
        t.events++;
        i = (i + stride) % c->n;
        dt = now_s() - t0;
    } while (dt < budget);
    t.eps = (double)t.events / dt;
    return t;
}

int main(int argc, char **argv)
{
    const char *base = getenv("HIKESHI_SHARED");
    char dir[4096];
    struct corpus c = {0};
    double budget = bench_seconds();
    if (!base)
        base = "../shared";
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: bench_sigma [PATH-TO-hikeshi-gen]\n");
        return 2;
    }

    double t0 = now_s();
    snprintf(dir, sizeof(dir), "%s/data/windows/EVTX-ATTACK-SAMPLES", base);
    corpus_evtx(&c, dir);
    size_t nevtx = c.n;
    if (argc == 2) {
        corpus_gen(&c, argv[1]);
    } else {
        snprintf(dir, sizeof(dir), "%s/data/linux-logs/loghub/Linux/Linux_2k.log", base);
        corpus_lines(&c, dir);
        snprintf(dir, sizeof(dir), "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log", base);
        corpus_lines(&c, dir);
    }
    if (c.n == 0)
        die("no events");
    printf("events: %zu (%zu EVTX-ATTACK-SAMPLES records, %zu %s lines), decoded in %.1f s\n",
           c.n, nevtx, c.n - nevtx, argc == 2 ? "hikeshi-gen" : "loghub", now_s() - t0);

    struct sigma_testlib_paths own = {0}, sigma = {0};
    find_files("rules", ".yml", &own);
    snprintf(dir, sizeof(dir), "%s/sigma/rules", base);
    find_files(dir, ".yml", &sigma);
    struct rules sets[3] = {{0}};
    load_paths(&sets[0], own.v, own.n);
    load_paths(&sets[1], sigma.v, sigma.n < 100 ? sigma.n : 100);
    load_paths(&sets[2], sigma.v, sigma.n);
    static const char *const names[3] = {"(a) hikeshi rules/", "(b) SigmaHQ first 100",
                                         "(c) SigmaHQ rules/ all"};

    printf("timing budget: %.1f s per measurement\n\n", budget);
    printf("%-24s %6s %8s %9s %12s %12s %8s %10s\n", "rule set", "rules", "literals", "always",
           "compiled ev/s", "plain ev/s", "speedup", "cand/ev");
    double comp[3], plain[3];
    for (int s = 0; s < 3; s++) {
        struct sigma_ruleset *set = NULL;
        double c0 = now_s();
        if (sigma_ruleset_new(sets[s].v, sets[s].n, &set) < 0)
            die("sigma_ruleset_new failed");
        double ct = now_s() - c0;
        struct timing tc = time_compiled(set, &c, budget);
        struct sigma_ruleset_stats st;
        sigma_ruleset_stats(set, &st);
        struct timing tp = time_plain(&sets[s], &c, budget);
        comp[s] = tc.eps;
        plain[s] = tp.eps;
        printf("%-24s %6zu %8zu %9zu %12.0f %12.0f %7.1fx %10.2f\n", names[s], st.rules,
               st.literals, st.always, tc.eps, tp.eps, tc.eps / tp.eps,
               (double)st.evaluated / (double)st.events);
        printf("    compile %.2f s; compiled: %zu matches in %zu events; plain timed %zu events\n",
               ct, tc.matches, tc.events, tp.events);
        sigma_ruleset_free(set);
    }
    printf("\nslowdown (c)/(a) in events/s: compiled %.1fx, plain %.1fx (rules x%.0f)\n",
           comp[0] / comp[2], plain[0] / plain[2], (double)sets[2].n / (double)sets[0].n);

    for (int s = 0; s < 3; s++) {
        /* (b) and (c) share nothing: each set loaded its own copies. */
        for (size_t i = 0; i < sets[s].n; i++)
            sigma_rule_free(sets[s].v[i]);
        free(sets[s].v);
    }
    sigma_testlib_paths_free(&own);
    sigma_testlib_paths_free(&sigma);
    for (size_t i = 0; i < c.narenas; i++) {
        arena_done(c.arenas[i]);
        free(c.arenas[i]);
    }
    for (size_t i = 0; i < c.nbufs; i++)
        free(c.bufs[i]);
    free(c.arenas);
    free(c.bufs);
    free(c.ev);
    field_done();
    return 0;
}
