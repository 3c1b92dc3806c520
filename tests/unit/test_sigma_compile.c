/*
 * test_sigma_compile.c - the compiled rule set against the reference.
 *
 * The property under test: for every event, sigma_ruleset_match() reports
 * exactly the rules for which sigma_eval() is 1.  (1) Hand-made rules for
 * each tricky literal extraction, with events that must and must not match
 * and, where the prefilter can decide, events it must skip without
 * evaluating.  (2) Every loadable SigmaHQ rules/ rule plus hikeshi's own
 * rules/, differentially, on real events: the SigmaHQ regression data (EVTX
 * and JSON forms), EVTX-ATTACK-SAMPLES and the loghub Linux and OpenSSH
 * samples.  Evaluating every rule on every event with the reference is
 * slow (~3 us a pair, 3,000 rules), so by default the large samples are
 * thinned: the first DIFF_EVTX_PER_FILE records of each EVTX-ATTACK-SAMPLES
 * file and every DIFF_LINE_STRIDE-th loghub line (fewer under ASan); the
 * regression data is always used whole.  HIKESHI_SIGMA_DIFF_FULL=1 checks every event.
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
#include "detect/sigma.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

#include "sigma_testlib.h"

/* ---- (1) tricky extractions ---- */

enum skip { ANY = 0, SKIPPED, EVALUATED };

struct ucase {
    const char *name;
    const char *det;        /* the rule's detection: block */
    const char *kv[9];      /* field, value pairs, NULL-terminated */
    const char *raw;        /* raw record, may be NULL */
    int match;              /* what the reference says */
    enum skip skip;         /* what the prefilter must do */
};

static const struct ucase ucases[] = {
    {"endswith and not filter",
     "detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: whoami\n"
     "  filter:\n    User: SYSTEM\n  condition: sel and not filter\n",
     {"Image", "C:\\Windows\\System32\\CMD.EXE", "CommandLine", "cmd /c WHOAMI /all", "User",
      "bob", NULL},
     NULL, 1, EVALUATED},
    {"endswith and not filter: filtered",
     "detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: whoami\n"
     "  filter:\n    User: SYSTEM\n  condition: sel and not filter\n",
     {"Image", "C:\\Windows\\System32\\cmd.exe", "CommandLine", "whoami", "User", "SYSTEM", NULL},
     NULL, 0, EVALUATED},
    {"endswith and not filter: no literal",
     "detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: whoami\n"
     "  filter:\n    User: SYSTEM\n  condition: sel and not filter\n",
     {"Image", "C:\\Windows\\explorer.exe", "CommandLine", "explorer", NULL}, NULL, 0, SKIPPED},
    {"wildcards: longest piece",
     "detection:\n  sel:\n    CommandLine: '*power?hell*-enc*'\n  condition: sel\n",
     {"CommandLine", "POWERSHELL.exe -nop -ENC AAAA", NULL}, NULL, 1, EVALUATED},
    {"wildcards: ? spans a UTF-8 character",
     "detection:\n  sel:\n    CommandLine: '*power?hell*-enc*'\n  condition: sel\n",
     {"CommandLine", "power\xc3\xa9hell -enc", NULL}, NULL, 1, EVALUATED},
    {"wildcards: piece absent",
     "detection:\n  sel:\n    CommandLine: '*power?hell*-enc*'\n  condition: sel\n",
     {"CommandLine", "cmd.exe -enc", NULL}, NULL, 0, SKIPPED},
    {"windash: slash form",
     "detection:\n  sel:\n    CommandLine|windash|contains: ' -decode '\n  condition: sel\n",
     {"CommandLine", "certutil /decode a b", NULL}, NULL, 1, EVALUATED},
    {"windash: en dash form",
     "detection:\n  sel:\n    CommandLine|windash|contains: ' -decode '\n  condition: sel\n",
     {"CommandLine", "certutil \xe2\x80\x93" "decode a b", NULL}, NULL, 1, EVALUATED},
    {"windash: none",
     "detection:\n  sel:\n    CommandLine|windash|contains: ' -decode '\n  condition: sel\n",
     {"CommandLine", "certutil -encode a b", NULL}, NULL, 0, SKIPPED},
    {"base64offset",
     "detection:\n  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n",
     {"CommandLine", "powershell -e eHggaHR0cDovL2V2aWw=", NULL}, NULL, 1, EVALUATED},
    {"base64offset: folded like any string",
     "detection:\n  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n",
     {"CommandLine", "powershell -e EHGGAHR0CDOVL2V2AWW=", NULL}, NULL, 1, EVALUATED},
    {"utf16le base64offset",
     "detection:\n  sel:\n    CommandLine|wide|base64offset|contains: 'http://'\n"
     "  condition: sel\n",
     {"CommandLine", "-e aQBlAHgAIABoAHQAdABwADoALwAvAGUAdgBpAGwA", NULL}, NULL, 1, EVALUATED},
    {"cased: exact case",
     "detection:\n  sel:\n    CommandLine|cased|contains: 'MiMiKaTz'\n  condition: sel\n",
     {"CommandLine", "run MiMiKaTz now", NULL}, NULL, 1, EVALUATED},
    {"cased: other case",
     "detection:\n  sel:\n    CommandLine|cased|contains: 'MiMiKaTz'\n  condition: sel\n",
     {"CommandLine", "run mimikatz now", NULL}, NULL, 0, SKIPPED},
    {"all: both",
     "detection:\n  sel:\n    CommandLine|contains|all: ['alpha', 'bravo']\n  condition: sel\n",
     {"CommandLine", "ALPHA and Bravo", NULL}, NULL, 1, EVALUATED},
    {"all: one",
     "detection:\n  sel:\n    CommandLine|contains|all: ['alpha', 'bravo']\n  condition: sel\n",
     {"CommandLine", "bravo only", NULL}, NULL, 0, ANY},
    {"re: always a candidate",
     "detection:\n  sel:\n    CommandLine|re: 'who.mi'\n  condition: sel\n",
     {"CommandLine", "whoAmi", NULL}, NULL, 1, EVALUATED},
    {"re: evaluated even without literals",
     "detection:\n  sel:\n    CommandLine|re: 'who.mi'\n  condition: sel\n",
     {"CommandLine", "nothing", NULL}, NULL, 0, EVALUATED},
    {"keyword in the raw record only",
     "detection:\n  keywords:\n    - 'segfault at'\n  condition: keywords\n",
     {"message", "kernel line", NULL}, "kernel: app[12]: SEGFAULT AT 0 ip", 1, EVALUATED},
    {"keyword absent",
     "detection:\n  keywords:\n    - 'segfault at'\n  condition: keywords\n",
     {"message", "kernel line", NULL}, "kernel: app[12]: ok", 0, SKIPPED},
    {"null: absent field",
     "detection:\n  sel:\n    Foo: null\n  condition: sel\n", {"Bar", "x", NULL}, NULL, 1,
     EVALUATED},
    {"exists false",
     "detection:\n  sel:\n    Foo|exists: false\n  condition: sel\n", {"Foo", "x", NULL}, NULL,
     0, EVALUATED},
    {"fieldref",
     "detection:\n  sel:\n    A|fieldref: B\n  condition: sel\n", {"A", "same", "B", "same", NULL},
     NULL, 1, EVALUATED},
    {"gt",
     "detection:\n  sel:\n    Count|gt: 5\n  condition: sel\n", {"Count", "6", NULL}, NULL, 1,
     EVALUATED},
    {"number equals numerically, not textually",
     "detection:\n  sel:\n    EventID: 4688\n  condition: sel\n", {"EventID", "04688", NULL},
     NULL, 1, EVALUATED},
    {"number: field absent, skipped",
     "detection:\n  sel:\n    EventID: 4688\n  condition: sel\n", {"EventCode", "4688", NULL},
     NULL, 0, SKIPPED},
    {"number: field with spaces reaches the rule's name",
     "detection:\n  sel:\n    EventID: 4688\n  condition: sel\n", {"Event ID", "4688.0", NULL},
     NULL, 1, EVALUATED},
    {"re: field absent, skipped",
     "detection:\n  sel:\n    CommandLine|re: 'who.mi'\n  condition: sel\n",
     {"Image", "whoami", NULL}, NULL, 0, SKIPPED},
    {"exists true",
     "detection:\n  sel:\n    Foo|exists: true\n  condition: sel\n", {"Foo", "", NULL}, NULL, 1,
     EVALUATED},
    {"field with spaces: stripped name",
     "detection:\n  sel:\n    SourceName|gte: 2\n  condition: sel\n", {"Source Name", "3", NULL},
     NULL, 1, EVALUATED},
    {"bool",
     "detection:\n  sel:\n    Flag: true\n  condition: sel\n", {"Flag", "TRUE", NULL}, NULL, 1,
     EVALUATED},
    {"pure not",
     "detection:\n  sel:\n    User: admin\n  condition: not sel\n", {"User", "bob", NULL}, NULL,
     1, EVALUATED},
    {"neq",
     "detection:\n  sel:\n    User|neq: admin\n  condition: sel\n", {"User", "bob", NULL}, NULL,
     1, EVALUATED},
    {"1 of: the second",
     "detection:\n  sel_a:\n    A: 'needle_a'\n  sel_b:\n    B|startswith: 'needle_b'\n"
     "  condition: 1 of sel_*\n",
     {"B", "NEEDLE_Bxyz", NULL}, NULL, 1, EVALUATED},
    {"1 of: neither",
     "detection:\n  sel_a:\n    A: 'needle_a'\n  sel_b:\n    B|startswith: 'needle_b'\n"
     "  condition: 1 of sel_*\n",
     {"B", "nothing", NULL}, NULL, 0, SKIPPED},
    {"list of maps, one without literal",
     "detection:\n  sel:\n    - A: 'needle_a'\n    - B|gt: 3\n  condition: sel\n",
     {"B", "4", NULL}, NULL, 1, EVALUATED},
    {"expand",
     "detection:\n  sel:\n    U|expand: '%Admins%'\n  condition: sel\n", {"U", "ADM_bob", NULL},
     NULL, 1, EVALUATED},
    {"expand: none",
     "detection:\n  sel:\n    U|expand: '%Admins%'\n  condition: sel\n", {"U", "bob", NULL}, NULL,
     0, SKIPPED},
};

static const char *const admins[] = {"root", "adm_*"};
static const struct sigma_placeholder placeholders[] = {{"Admins", admins, 2}};

struct hits {
    size_t n;
    size_t idx[64];
};

static void on_hit(const struct sigma_rule *r, size_t idx, void *arg)
{
    struct hits *h = arg;
    (void)r;
    if (h->n < sizeof(h->idx) / sizeof(h->idx[0]))
        h->idx[h->n] = idx;
    h->n++;
}

static void test_extractions(void **state)
{
    (void)state;
    struct sigma_load_opts opts = {placeholders, 1};
    struct arena a;
    struct event ev;
    arena_init(&a, 0);
    for (size_t c = 0; c < sizeof(ucases) / sizeof(ucases[0]); c++) {
        const struct ucase *u = &ucases[c];
        char y[2048];
        snprintf(y, sizeof(y), "title: t\nlogsource:\n  product: windows\n%s", u->det);
        struct sigma_rule *r = NULL;
        struct sigma_err err;
        if (sigma_load_buf(y, strlen(y), "case.yml", &opts, &r, &err) != 0)
            fail_msg("%s: refused: %s", u->name, err.reason);
        struct sigma_ruleset *rs = NULL;
        assert_int_equal(sigma_ruleset_new(&r, 1, &rs), 0);

        event_init(&ev, &a, u->raw ? u->raw : "", u->raw ? strlen(u->raw) : 0, 0);
        for (size_t i = 0; u->kv[i] && u->kv[i + 1]; i += 2)
            assert_int_equal(event_add_named(&ev, u->kv[i], strlen(u->kv[i]), u->kv[i + 1],
                                             strlen(u->kv[i + 1])),
                             0);
        int ref = sigma_eval(r, &ev);
        struct hits h = {0};
        size_t n = sigma_ruleset_match(rs, &ev, on_hit, &h);
        struct sigma_ruleset_stats st;
        sigma_ruleset_stats(rs, &st);
        if (ref != u->match)
            fail_msg("%s: reference says %d, case expects %d", u->name, ref, u->match);
        if (n != (size_t)ref || h.n != (size_t)ref)
            fail_msg("%s: compiled matched %zu, reference %d", u->name, n, ref);
        if (u->skip == SKIPPED && st.evaluated != 0)
            fail_msg("%s: prefilter should have skipped the rule", u->name);
        if (u->skip == EVALUATED && st.evaluated != 1)
            fail_msg("%s: prefilter skipped a rule it must evaluate", u->name);
        event_reset(&ev);
        sigma_ruleset_free(rs);
        sigma_rule_free(r);
    }
    arena_done(&a);
}

/* ---- UTF-16 values without base64 ----
 *
 * `utf16be` and `wide` (utf16le) turn a value into UTF-16 bytes, NULs
 * included; a utf16be value starts with a NUL, which Vectorscan's literal
 * API once refused, failing the whole set.  Here they share one set with a
 * plain rule: the set compiles, the plain rule still matches, and each
 * UTF-16 rule matches its own encoding only, as the reference says. */

static const char *const u16_rules[] = {
    "title: plain\nlogsource:\n  product: windows\ndetection:\n  sel:\n"
    "    CommandLine|contains: 'Failed password'\n  condition: sel\n",
    "title: be\nlogsource:\n  product: windows\ndetection:\n  sel:\n"
    "    CommandLine|utf16be: abc\n  condition: sel\n",
    "title: le\nlogsource:\n  product: windows\ndetection:\n  sel:\n"
    "    CommandLine|wide: abc\n  condition: sel\n",
    "title: be contains\nlogsource:\n  product: windows\ndetection:\n  sel:\n"
    "    CommandLine|utf16be|contains: 'evil.exe'\n  condition: sel\n",
    "title: bom\nlogsource:\n  product: windows\ndetection:\n  sel:\n"
    "    CommandLine|utf16|startswith: 'xy'\n  condition: sel\n",
};

struct u16_event {
    const char *name;
    const char *val;
    size_t len;
    unsigned want; /* bit i: u16_rules[i] matches */
};

#define U16_EV(n, v, w) {n, v, sizeof(v) - 1, w}
static const struct u16_event u16_events[] = {
    U16_EV("ASCII text", "sshd: Failed password for root", 1u << 0),
    U16_EV("UTF-16BE abc", "\0a\0b\0c", 1u << 1),
    U16_EV("UTF-16LE abc", "a\0b\0c\0", 1u << 2),
    U16_EV("ASCII abc", "abc", 0),
    U16_EV("UTF-16BE text containing evil.exe",
           "\0r\0u\0n\0 \0E\0V\0I\0L\0.\0e\0x\0e", 1u << 3),
    U16_EV("UTF-16LE evil.exe is not BE", "e\0v\0i\0l\0.\0e\0x\0e\0 \0", 0),
    U16_EV("UTF-16 with BOM", "\xff\xfex\0y\0z\0", 1u << 4),
    U16_EV("UTF-16 without BOM", "x\0y\0z\0", 0),
};

static void test_utf16(void **state)
{
    (void)state;
    enum { NR = sizeof(u16_rules) / sizeof(u16_rules[0]) };
    struct sigma_rule *r[NR] = {0};
    struct sigma_ruleset *rs = NULL;
    struct sigma_ruleset_err cerr;
    struct arena a;
    struct event ev;

    for (size_t i = 0; i < NR; i++) {
        struct sigma_err err;
        if (sigma_load_buf(u16_rules[i], strlen(u16_rules[i]), "u16.yml", NULL, &r[i], &err) != 0)
            fail_msg("rule %zu refused: %s", i, err.reason);
    }
    if (sigma_ruleset_new_err(r, NR, &rs, &cerr) != 0)
        fail_msg("the set does not compile: rule %zu: %s", cerr.rule, cerr.reason);
    arena_init(&a, 0);
    for (size_t e = 0; e < sizeof(u16_events) / sizeof(u16_events[0]); e++) {
        const struct u16_event *u = &u16_events[e];
        struct hits h = {0};
        unsigned got = 0, ref = 0;

        event_init(&ev, &a, "", 0, 0);
        assert_int_equal(event_add_named(&ev, "CommandLine", 11, u->val, u->len), 0);
        sigma_ruleset_match(rs, &ev, on_hit, &h);
        for (size_t k = 0; k < h.n; k++)
            got |= 1u << h.idx[k];
        for (size_t i = 0; i < NR; i++)
            if (sigma_eval(r[i], &ev))
                ref |= 1u << i;
        if (ref != u->want)
            fail_msg("%s: reference matches %#x, want %#x", u->name, ref, u->want);
        if (got != ref)
            fail_msg("%s: compiled set matches %#x, reference %#x", u->name, got, ref);
        event_reset(&ev);
    }
    sigma_ruleset_free(rs);
    for (size_t i = 0; i < NR; i++)
        sigma_rule_free(r[i]);
    arena_done(&a);
}

/* ---- (2) differential test on real data ---- */

/* Under ASan the reference evaluator (a PCRE2 match data per regex test)
 * is many times slower: the sample is thinned further to stay within the
 * test timeout.  The regression data is still checked whole. */
#if defined(__SANITIZE_ADDRESS__)
#define DIFF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DIFF_SANITIZED 1
#endif
#endif
#ifdef DIFF_SANITIZED
#define DIFF_EVTX_PER_FILE 2
#define DIFF_LINE_STRIDE 20
#else
#define DIFF_EVTX_PER_FILE 8
#define DIFF_LINE_STRIDE 5
#endif

struct diff {
    int full; /* every event, not a thinned sample */
    struct sigma_rule **rules;
    size_t nrules;
    struct sigma_ruleset *rs;
    unsigned char *ref;  /* per rule: sigma_eval() result for this event */
    size_t events, matches, mismatches;
    size_t evtx_events, json_events, line_events;
};

static void diff_hit(const struct sigma_rule *r, size_t idx, void *arg)
{
    struct diff *d = arg;
    (void)r;
    if (d->ref[idx] != 1) {
        if (d->mismatches++ < 10)
            printf("  MISMATCH: compiled matched %s, reference did not\n", d->rules[idx]->file);
    }
    d->ref[idx] = 2; /* seen by the compiled matcher */
}

static void diff_event(struct diff *d, const struct event *ev)
{
    for (size_t i = 0; i < d->nrules; i++)
        d->ref[i] = (unsigned char)sigma_eval(d->rules[i], ev);
    size_t n = sigma_ruleset_match(d->rs, ev, diff_hit, d);
    for (size_t i = 0; i < d->nrules; i++) {
        if (d->ref[i] == 1 && d->mismatches++ < 10)
            printf("  MISMATCH: reference matched %s, compiled did not\n", d->rules[i]->file);
    }
    d->events++;
    d->matches += n;
}

/* One decoded record of the regression data or EVTX-ATTACK-SAMPLES. */
struct diff_src {
    struct diff *d;
    const char *path;
    int json;
};

static void diff_record(void *arg, struct event *ev, int rc, const struct parse_err *perr)
{
    struct diff_src *ds = arg;
    (void)perr;
    /* The json decoder must understand every regression export; EVTX
     * records are compared whatever the decoder made of them. */
    if (ds->json && rc != 0)
        fail_msg("%s: json decoder refused an event", ds->path);
    diff_event(ds->d, ev);
    if (ds->json)
        ds->d->json_events++;
    else
        ds->d->evtx_events++;
}

static void diff_evtx_file(struct diff *d, const char *path, size_t max)
{
    struct diff_src ds = {d, path, 0};
    int rc = sigma_testlib_evtx_each(path, NULL, max, 0, diff_record, &ds, NULL, NULL);
    if (rc < 0)
        fail_msg("%s: cannot open: %d", path, rc);
}

/* Each top-level JSON value of the file (pretty-printed, possibly several)
 * becomes one record for the json decoder. */
static void diff_json_file(struct diff *d, const char *path)
{
    struct diff_src ds = {d, path, 1};
    int rc = sigma_testlib_json_each(path, diff_record, &ds);
    if (rc < 0)
        fail_msg("%s: cannot read: %d", path, rc);
}

static void diff_line_file(struct diff *d, const char *path)
{
    size_t len;
    char *s = sigma_testlib_slurp(path, &len);
    if (!s)
        fail_msg("cannot read %s", path);
    struct arena a;
    struct event ev;
    struct decode_ctx ctx = {0};
    arena_init(&a, 0);
    size_t lineno = 0;
    for (size_t i = 0; i < len; lineno++) {
        size_t e = i;
        while (e < len && s[e] != '\n')
            e++;
        if (!d->full && lineno % DIFF_LINE_STRIDE != 0) {
            i = e + 1;
            continue;
        }
        struct parse_err err;
        event_init(&ev, &a, s + i, e - i, 0);
        (void)decode_record(&ev, NULL, &ctx, &err);
        diff_event(d, &ev);
        d->line_events++;
        event_reset(&ev);
        i = e + 1;
    }
    arena_done(&a);
    free(s);
}

static void load_rules(const char *dir, struct diff *d, size_t *ret_refused)
{
    struct sigma_testlib_paths pv = {0};
    if (sigma_testlib_find_files(dir, ".yml", &pv) < 0)
        fail_msg("cannot read the rules in %s", dir);
    sigma_testlib_paths_sort(&pv);
    d->rules = realloc(d->rules, (d->nrules + pv.n) * sizeof(*d->rules));
    assert_non_null(d->rules);
    for (size_t i = 0; i < pv.n; i++) {
        struct sigma_doc *docs = NULL;
        struct sigma_err err;
        size_t nd = 0, k;

        if (sigma_load_docs_file(pv.v[i], NULL, &docs, &nd, &err) < 0) {
            (*ret_refused)++;
            continue;
        }
        /* Detection rules take part; correlation documents have no
         * detection of their own (test_sigma_corr covers them). */
        d->rules = realloc(d->rules, (d->nrules + nd) * sizeof(*d->rules));
        assert_non_null(d->rules);
        for (k = 0; k < nd; k++) {
            if (docs[k].rule) {
                d->rules[d->nrules++] = docs[k].rule;
                docs[k].rule = NULL;
            }
        }
        sigma_docs_free(docs, nd);
    }
    sigma_testlib_paths_free(&pv);
}

static void test_differential(void **state)
{
    (void)state;
    const char *base = sigma_testlib_shared_dir();
    char dir[4096];
    struct diff d = {0};
    size_t refused = 0;
    const char *full = getenv("HIKESHI_SIGMA_DIFF_FULL");
    d.full = full && strcmp(full, "1") == 0;

    snprintf(dir, sizeof(dir), "%s/sigma/rules", base);
    load_rules(dir, &d, &refused);
    size_t nsigma = d.nrules;
    load_rules("rules", &d, &refused);
    printf("rules: %zu SigmaHQ + %zu hikeshi, %zu refused\n", nsigma, d.nrules - nsigma, refused);
    assert_true(nsigma >= 3000);
    assert_true(d.nrules > nsigma);

    assert_int_equal(sigma_ruleset_new(d.rules, d.nrules, &d.rs), 0);
    struct sigma_ruleset_stats st;
    sigma_ruleset_stats(d.rs, &st);
    printf("prefilter: %zu literals, %zu of %zu rules always evaluated\n", st.literals, st.always,
           st.rules);
    d.ref = calloc(d.nrules, 1);
    assert_non_null(d.ref);

    struct sigma_testlib_paths pv = {0};
    snprintf(dir, sizeof(dir), "%s/sigma/regression_data", base);
    assert_int_equal(sigma_testlib_find_files(dir, ".evtx", &pv), 0);
    assert_int_equal(sigma_testlib_find_files(dir, ".json", &pv), 0);
    size_t nregr = pv.n;
    snprintf(dir, sizeof(dir), "%s/data/windows/EVTX-ATTACK-SAMPLES", base);
    assert_int_equal(sigma_testlib_find_files(dir, ".evtx", &pv), 0);
    assert_true(nregr >= 400);
    assert_true(pv.n - nregr > 250);
    for (size_t i = 0; i < pv.n; i++) {
        size_t n = strlen(pv.v[i]);
        if (strcmp(pv.v[i] + n - 5, ".json") == 0)
            diff_json_file(&d, pv.v[i]);
        else
            diff_evtx_file(&d, pv.v[i], i < nregr || d.full ? (size_t)-1 : DIFF_EVTX_PER_FILE);
    }
    sigma_testlib_paths_free(&pv);
    static const char *const lines[] = {"Linux/Linux_2k.log", "OpenSSH/OpenSSH_2k.log"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        snprintf(dir, sizeof(dir), "%s/data/linux-logs/loghub/%s", base, lines[i]);
        diff_line_file(&d, dir);
    }

    sigma_ruleset_stats(d.rs, &st);
    printf("differential (%s): %zu events (%zu EVTX records, %zu JSON, %zu lines), %zu matches, "
           "%zu mismatches\n",
           d.full ? "every event" : "thinned sample", d.events, d.evtx_events, d.json_events, d.line_events, d.matches, d.mismatches);
    printf("candidate ratio: %llu evaluated / %zu rules x %zu events = %.4f\n",
           (unsigned long long)st.evaluated, d.nrules, d.events,
           (double)st.evaluated / ((double)d.nrules * (double)d.events));
    assert_int_equal(d.mismatches, 0);
    assert_true(d.evtx_events > (d.full ? 10000u : 1000u));
    assert_true(d.json_events >= 200);
    assert_int_equal(d.line_events, d.full ? 4000 : 4000 / DIFF_LINE_STRIDE);
    /* The regression data exists to make rules fire: the comparison is only
     * meaningful if many do. */
    assert_true(d.matches > 500);
    /* And the prefilter must actually filter. */
    assert_true(st.evaluated < (uint64_t)d.nrules * d.events / 4);

    sigma_ruleset_free(d.rs);
    for (size_t i = 0; i < d.nrules; i++)
        sigma_rule_free(d.rules[i]);
    free(d.rules);
    free(d.ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extractions),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_differential),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    field_done();
    return rc;
}
