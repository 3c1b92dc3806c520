/*
 * test_rules.c - the default rule set in rules/ against its own samples.
 *
 * Every rules/NAME.yml must load, carry a level, an author and ATT&CK
 * tactic and technique tags, have a unique id, and come with
 * tests/rules/NAME.txt: raw log lines as hikeshi receives them, each
 * prefixed by "+ " (the rule must match) or "- " (it must not), at least two
 * of each.  Each line goes through the real auto-detecting decoder, so a
 * rule that names a field the decoders do not produce fails here.  A line
 * "# evtx: PATH MIN" names an EVTX file under
 * $HIKESHI_SHARED/data/windows/EVTX-ATTACK-SAMPLES/ of which at least MIN
 * records must match.  All mismatches are printed before the test fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "decode/decode.h"
#include "detect/sigma.h"
#include "detect/sigma_corr.h"
#include "event/event.h"
#include "event/field.h"
#include "input/input_evtx.h"
#include "util/arena.h"

/* 2026-11-23T12:00:00Z: the reference for year inference of syslog lines
 * written in November. */
#define TEST_RULES_REF_US 1795435200000000LL
#define TEST_RULES_MAX_RULES 512
#define TEST_RULES_EVTX_DIR "data/windows/EVTX-ATTACK-SAMPLES"

static char src_dir[1024];
static char shared_dir[2048];

/* Figures printed at the end, and failures counted so every problem is
 * reported before the test fails. */
static unsigned n_rules, n_lines, n_evtx_records, n_failures;

static void fail_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    n_failures++;
}

static void set_dirs(void)
{
    const char *s = getenv("HIKESHI_SOURCE"), *sh = getenv("HIKESHI_SHARED");

    snprintf(src_dir, sizeof(src_dir), "%s", s && *s ? s : ".");
    if (sh && *sh)
        snprintf(shared_dir, sizeof(shared_dir), "%s", sh);
    else
        snprintf(shared_dir, sizeof(shared_dir), "%s/../shared", src_dir);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The base names (without .yml) of rules/, sorted; caller frees. */
static size_t list_rules(char **names, size_t cap)
{
    char path[4200];
    struct dirent *de;
    size_t n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/rules", src_dir);
    d = opendir(path);
    if (!d)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);

        if (len <= 4 || strcmp(de->d_name + len - 4, ".yml") != 0)
            continue;
        assert_true(n < cap);
        names[n] = strndup(de->d_name, len - 4);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    return n;
}

static int is_tactic(const char *tag)
{
    static const char *const tactics[] = {
        "reconnaissance",  "resource_development",
        "initial_access",  "execution",
        "persistence",     "privilege_escalation",
        "defense_evasion", "credential_access",
        "discovery",       "lateral_movement",
        "collection",      "command_and_control",
        "exfiltration",    "impact",
    };

    if (strncmp(tag, "attack.", 7) != 0)
        return 0;
    for (size_t i = 0; i < sizeof(tactics) / sizeof(tactics[0]); i++)
        if (strcmp(tag + 7, tactics[i]) == 0)
            return 1;
    return 0;
}

/* "attack.t1234" or "attack.t1234.001". */
static int is_technique(const char *tag)
{
    const char *p = tag + 8;

    if (strncmp(tag, "attack.t", 8) != 0)
        return 0;
    for (int i = 0; i < 4; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    p += 4;
    if (*p == '\0')
        return 1;
    return p[0] == '.' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' && p[3] >= '0' &&
           p[3] <= '9' && p[4] == '\0';
}

static void check_metadata(const char *name, const struct sigma_rule *r)
{
    int tactic = 0, technique = 0;

    if (r->level == SIGMA_LEVEL_NONE)
        fail_note("%s: no level", name);
    if (!r->author || !*r->author)
        fail_note("%s: no author", name);
    if (!r->id || !*r->id)
        fail_note("%s: no id", name);
    if (!r->title || !*r->title)
        fail_note("%s: no title", name);
    for (size_t i = 0; i < r->tags.n; i++) {
        tactic |= is_tactic(r->tags.v[i]);
        technique |= is_technique(r->tags.v[i]);
    }
    if (!tactic)
        fail_note("%s: no ATT&CK tactic tag", name);
    if (!technique)
        fail_note("%s: no ATT&CK technique tag", name);
}

/* Decodes `len` bytes as hikeshi would and evaluates `r`: 1/0, or -1 when
 * the record did not decode (reported).  With `explain` set, a result that
 * differs from `want` prints the rule's per-identifier results. */
static int eval_record(const char *name, const struct sigma_rule *r, struct arena *a, const char *p,
                       size_t len, int want, int explain)
{
    struct decode_ctx ctx = {.ref_us = TEST_RULES_REF_US};
    struct parse_err perr = {0};
    unsigned char matched[256];
    struct event ev;
    int ret, got;

    event_init(&ev, a, p, len, TEST_RULES_REF_US);
    ret = decode_record(&ev, NULL, &ctx, &perr);
    if (ret < 0) {
        fail_note("%s: line does not decode (decode_record %d): %.*s", name, ret, (int)len, p);
        event_reset(&ev);
        return -1;
    }
    got = sigma_eval(r, &ev);
    if (explain && got != want) {
        fail_note("%s: expected %s, got %s (decoder %s): %.*s", name, want ? "match" : "no match",
                  got ? "match" : "no match", ev.decoder ? ev.decoder : "none", (int)len, p);
        assert_true(r->nsearches <= sizeof(matched));
        assert_int_equal(sigma_eval_explain(r, &ev, matched), got);
        for (size_t i = 0; i < r->nsearches; i++)
            fprintf(stderr, "    %s: %s\n", r->searches[i].name, matched[i] ? "true" : "false");
    }
    event_reset(&ev);
    return got;
}

/* "# evtx: PATH MIN": at least MIN records of the file must match. */
static void check_evtx(const char *name, const struct sigma_rule *r, struct arena *a,
                       const char *spec)
{
    char path[8192], rel[2048];
    const char *sp = strrchr(spec, ' ');
    struct input_evtx *in = NULL;
    const char *xml;
    size_t xlen;
    unsigned long min;
    unsigned hits = 0;
    char *end;
    int ret;

    if (!sp || sp == spec) {
        fail_note("%s: bad evtx line: %s", name, spec);
        return;
    }
    min = strtoul(sp + 1, &end, 10);
    if (*end || end == sp + 1) {
        fail_note("%s: bad evtx count: %s", name, spec);
        return;
    }
    snprintf(rel, sizeof(rel), "%.*s", (int)(sp - spec), spec);
    snprintf(path, sizeof(path), "%s/%s/%s", shared_dir, TEST_RULES_EVTX_DIR, rel);
    ret = input_evtx_open(path, &in);
    if (ret < 0) {
        fail_note("%s: cannot open evtx %s: %s", name, path, strerror(-ret));
        return;
    }
    while ((ret = input_evtx_next(in, &xml, &xlen)) == 1) {
        n_evtx_records++;
        if (eval_record(name, r, a, xml, xlen, 0, 0) == 1)
            hits++;
    }
    assert_int_equal(ret, 0);
    input_evtx_free(in);
    printf("  %s: %u record(s) of %s match (at least %lu wanted)\n", name, hits, rel, min);
    if (hits < min)
        fail_note("%s: only %u record(s) of %s match, want at least %lu", name, hits, rel, min);
}

static void check_samples(const char *name, const struct sigma_rule *r)
{
    char path[4300], *line = NULL;
    size_t cap = 0;
    unsigned pos = 0, neg = 0;
    struct arena a;
    ssize_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/tests/rules/%s.txt", src_dir, name);
    f = fopen(path, "r");
    if (!f) {
        fail_note("%s: no sample file %s", name, path);
        return;
    }
    arena_init(&a, 0);
    while ((n = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)n;
        int want;

        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        line[len] = '\0';
        if (len == 0)
            continue;
        if (line[0] == '#') {
            if (strncmp(line, "# evtx: ", 8) == 0)
                check_evtx(name, r, &a, line + 8);
            continue;
        }
        if (len < 3 || (line[0] != '+' && line[0] != '-') || line[1] != ' ') {
            fail_note("%s: sample line without '+ ' or '- ': %s", name, line);
            continue;
        }
        want = line[0] == '+';
        want ? pos++ : neg++;
        n_lines++;
        eval_record(name, r, &a, line + 2, len - 2, want, 1);
    }
    free(line);
    fclose(f);
    arena_done(&a);
    if (pos < 2 || neg < 2)
        fail_note("%s: %u positive and %u negative sample lines, want at least 2 of each", name,
                  pos, neg);
}

static void test_rules_all(void **state)
{
    char *names[TEST_RULES_MAX_RULES];
    char *ids[TEST_RULES_MAX_RULES];
    char *refs[TEST_RULES_MAX_RULES], *known[TEST_RULES_MAX_RULES];
    size_t n, nids = 0, nrefs = 0, nknown = 0;

    (void)state;
    set_dirs();
    n = list_rules(names, TEST_RULES_MAX_RULES);
    if (n == 0)
        fail_msg("no rules in %s/rules", src_dir);
    for (size_t i = 0; i < n; i++) {
        char path[4300];
        struct sigma_rule *r = NULL;
        struct sigma_doc *docs = NULL;
        size_t ndocs = 0;
        struct sigma_err err;
        int ret;

        memset(&err, 0, sizeof(err));
        snprintf(path, sizeof(path), "%s/rules/%s.yml", src_dir, names[i]);
        /* A correlation file (one correlation document) has no samples of
         * its own: its metadata and references are checked here, its
         * behaviour in test_sigma_corr. */
        ret = sigma_load_docs_file(path, NULL, &docs, &ndocs, &err);
        if (ret == 0 && ndocs == 1 && docs[0].corr) {
            struct sigma_corr_rule *c = docs[0].corr;
            n_rules++;
            if (c->level == SIGMA_LEVEL_NONE || !c->author || !c->id || !c->name)
                fail_note("%s: correlation needs level, author, id and name", names[i]);
            if (c->author && strcmp(c->author, "hikeshi project") != 0)
                fail_note("%s: author is not 'hikeshi project'", names[i]);
            int tac = 0, tech = 0;
            for (size_t k = 0; k < c->tags.n; k++) {
                tac |= is_tactic(c->tags.v[k]);
                tech |= is_technique(c->tags.v[k]);
            }
            if (!tac || !tech)
                fail_note("%s: needs an ATT&CK tactic and technique tag", names[i]);
            if (c->id)
                for (size_t j = 0; j < nids; j++)
                    if (strcmp(ids[j], c->id) == 0)
                        fail_note("%s: id %s used twice", names[i], c->id);
            if (c->id) {
                ids[nids] = strdup(c->id);
                assert_non_null(ids[nids]);
                nids++;
            }
            for (size_t k = 0; k < c->rules.n; k++) {
                refs[nrefs] = strdup(c->rules.v[k]);
                assert_non_null(refs[nrefs]);
                nrefs++;
                assert_true(nrefs < TEST_RULES_MAX_RULES);
            }
            if (c->name) {
                known[nknown] = strdup(c->name);
                assert_non_null(known[nknown]);
                nknown++;
            }
            sigma_docs_free(docs, ndocs);
            continue;
        }
        sigma_docs_free(docs, ndocs);
        memset(&err, 0, sizeof(err));
        ret = sigma_load_file(path, NULL, &r, &err);
        if (ret < 0) {
            fail_note("%s: refused at %u:%u: %s", path, err.at.line, err.at.col, err.reason);
            continue;
        }
        n_rules++;
        if (r->nwarnings)
            fail_note("%s: %u loader warning(s)", names[i], r->nwarnings);
        check_metadata(names[i], r);
        if (r->id && *r->id) {
            for (size_t j = 0; j < nids; j++)
                if (strcmp(ids[j], r->id) == 0)
                    fail_note("%s: id %s used twice", names[i], r->id);
            ids[nids] = strdup(r->id);
            assert_non_null(ids[nids]);
            nids++;
        }
        if (r->name) {
            known[nknown] = strdup(r->name);
            assert_non_null(known[nknown]);
            nknown++;
        }
        check_samples(names[i], r);
        sigma_rule_free(r);
    }
    /* Every correlation reference names a rule id or name of rules/. */
    for (size_t k = 0; k < nrefs; k++) {
        int found = 0;
        for (size_t j = 0; j < nids && !found; j++)
            found = strcmp(ids[j], refs[k]) == 0;
        for (size_t j = 0; j < nknown && !found; j++)
            found = strcmp(known[j], refs[k]) == 0;
        if (!found)
            fail_note("correlation reference %s names no rule in rules/", refs[k]);
        free(refs[k]);
    }
    for (size_t j = 0; j < nknown; j++)
        free(known[j]);
    printf("rules: %u loaded, %u sample lines checked (%u EVTX records scanned)\n", n_rules,
           n_lines, n_evtx_records);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    for (size_t i = 0; i < nids; i++)
        free(ids[i]);
    assert_int_equal(n_rules, n);
    assert_int_equal(n_failures, 0);
}

static int setup(void **state)
{
    (void)state;
    field_init();
    return 0;
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
        cmocka_unit_test(test_rules_all),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
