/*
 * test_triage.c - dedup, suppression, entity risk (breadth bonus, decay,
 * relayed IDS alerts aggregated per signature), what opens an incident and
 * why, grouping into incidents, kill-chain stages and the level table,
 * with the shipped options (rules/config/triage.yaml; cwd = source root)
 * and realistic alerts; plus the funnel over the real OpenSSH_2k sample.
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

#include "event/time.h"
#include "triage/asset.h"
#include "triage/triage.h"

#define MIN_US (60 * INT64_C(1000000))
#define HOUR_US (60 * MIN_US)
/* 2024-03-12T09:00:00Z */
#define T0 INT64_C(1710234000000000)

/* ---- what the callbacks saw ---- */

#define REC_MAX 64

struct rec {
    unsigned alerts_new, alerts_updated, suppressed, opened, updated;
    struct triage_alert last_alert;   /* shallow: strings not kept */
    struct triage_alert last_updated; /* the last alert_updated's, shallow */
    uint64_t updated_count_sum;
    struct {
        uint64_t id;
        enum triage_type type;
        enum triage_alert_level level;
        enum triage_stage stage;
        enum asset_category cat;
        unsigned changed;
        char key[128];
        char why[TRIAGE_WHY_MAX];
        int risk_opened;
        enum triage_type was_type;
        enum triage_alert_level was_level;
        char chg_why[TRIAGE_WHY_MAX];
    } inc[REC_MAX];
    unsigned ninc_ev;
    const char *last_supp_id;
};

static void note_inc(struct rec *r, const struct triage_incident *i, unsigned changed)
{
    if (r->ninc_ev >= REC_MAX)
        return;
    r->inc[r->ninc_ev].id = i->id;
    r->inc[r->ninc_ev].type = i->type;
    r->inc[r->ninc_ev].level = i->level;
    r->inc[r->ninc_ev].stage = i->stage;
    r->inc[r->ninc_ev].cat = i->cat;
    r->inc[r->ninc_ev].changed = changed;
    snprintf(r->inc[r->ninc_ev].key, sizeof(r->inc[0].key), "%s", i->key);
    memcpy(r->inc[r->ninc_ev].why, i->why, sizeof(i->why));
    r->inc[r->ninc_ev].risk_opened = i->risk_opened;
    r->inc[r->ninc_ev].was_type = i->was_type;
    r->inc[r->ninc_ev].was_level = i->was_level;
    memcpy(r->inc[r->ninc_ev].chg_why, i->chg_why, sizeof(i->chg_why));
    r->ninc_ev++;
}

static void cb_alert_new(void *ctx, const struct triage_alert *a)
{
    struct rec *r = ctx;
    r->alerts_new++;
    r->last_alert = *a;
}

static void cb_alert_updated(void *ctx, const struct triage_alert *a)
{
    struct rec *r = ctx;
    r->alerts_updated++;
    r->last_alert = *a;
    r->last_updated = *a;
    r->updated_count_sum += a->count;
}

static void cb_suppressed(void *ctx, const struct triage_in *in, const struct triage_supp *s)
{
    struct rec *r = ctx;
    (void)in;
    r->suppressed++;
    r->last_supp_id = s->id;
}

static void cb_opened(void *ctx, const struct triage_incident *i)
{
    struct rec *r = ctx;
    r->opened++;
    note_inc(r, i, 0);
}

static void cb_updated(void *ctx, const struct triage_incident *i, unsigned changed)
{
    struct rec *r = ctx;
    r->updated++;
    note_inc(r, i, changed);
}

struct fix {
    struct triage_opts *o;
    struct asset_inv inv;
    struct triage *t;
    struct rec rec;
};

static const char inventory[] =
    "- {name: web01, address: 192.0.2.10, owner: web-team, criticality: high, category: A}\n"
    "- {name: dmz, address: 192.0.2.0/24, criticality: medium, category: A}\n"
    "- {name: office-lan, address: 10.20.0.0/16, criticality: medium, category: B}\n"
    "- {name: hr-db, address: 10.30.4.7, criticality: critical, category: C}\n"
    "- {name: intranet, address: 10.30.4.8, criticality: low, category: C}\n"
    "- {name: press-site, address: 198.51.100.80, criticality: medium, category: D}\n"
    "- {name: build01, criticality: medium, category: C}\n";

/* Options from the shipped file plus `extra` (suppressions), at `now`. */
static void fix_setup(struct fix *f, const char *extra, int64_t now_us)
{
    struct parse_err e;

    memset(f, 0, sizeof(*f));
    assert_int_equal(triage_opts_load("rules/config/triage.yaml", now_us, &f->o, &e), 0);
    if (extra)
        assert_int_equal(triage_opts_load_suppress(f->o, extra, strlen(extra), now_us, &e), 0);
    asset_inv_init(&f->inv);
    assert_int_equal(asset_inv_load_yaml(&f->inv, inventory, sizeof(inventory) - 1, "inv"), 7);
    struct triage_cb cb = {&f->rec, cb_alert_new, cb_alert_updated, cb_suppressed, cb_opened,
                           cb_updated, NULL};
    f->t = triage_new(f->o, &f->inv, &cb);
    assert_non_null(f->t);
}

static void fix_done(struct fix *f)
{
    triage_free(f->t);
    asset_inv_done(&f->inv);
    triage_opts_free(f->o);
}

/* ---- alerts as the detection stage makes them ---- */

static const char *const tags_bruteforce[] = {"attack.credential_access", "attack.t1110.001"};
static const char *const tags_scan[] = {"attack.reconnaissance", "attack.t1595.001"};
static const char *const tags_web[] = {"attack.initial_access", "attack.t1190"};
static const char *const tags_c2[] = {"attack.command_and_control", "attack.t1071.001"};
static const char *const tags_worm[] = {"attack.lateral_movement", "attack.t1021.002"};
static const char *const tags_sudo[] = {"attack.privilege_escalation", "attack.t1548.003"};

static struct triage_in mk(enum triage_kind kind, const char *id, const char *name, int level,
                           const char *const *tags, size_t ntags, const char *corr,
                           int64_t t, uint64_t count, const struct triage_entity *ents,
                           size_t nents)
{
    struct triage_in in;

    memset(&in, 0, sizeof(in));
    in.kind = kind;
    in.rule_id = id;
    in.rule_name = name;
    in.rule_title = name;
    in.level = level;
    in.tags = tags;
    in.ntags = ntags;
    in.corr_type = corr;
    in.time_us = t;
    in.count = count;
    in.entities = ents;
    in.nentities = nents;
    return in;
}

static const struct triage_entity ssh_from_5[] = {
    {"source.ip", "203.0.113.5", TRIAGE_ROLE_ATTACKER},
    {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM},
    {"user.name", "root", TRIAGE_ROLE_OTHER},
};
static const struct triage_entity ssh_from_9[] = {
    {"source.ip", "198.18.7.9", TRIAGE_ROLE_ATTACKER},
    {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM},
    {"user.name", "root", TRIAGE_ROLE_OTHER},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SSH_FAIL_ID "2cb53b5a-4f1c-4e5b-a8a1-8a4f0b9a3c11"

/* ---- options ---- */

static void test_shipped_equals_builtin(void **state)
{
    struct triage_opts *d = triage_opts_defaults(), *f = NULL;
    struct parse_err e;

    (void)state;
    assert_non_null(d);
    assert_int_equal(triage_opts_load("rules/config/triage.yaml", 0, &f, &e), 0);
    assert_int_equal(d->dedup_window_us, 10 * MIN_US);
    assert_int_equal(d->group_window_us, HOUR_US);
    assert_int_equal(d->risk_half_life_us, 6 * HOUR_US);
    assert_true(d->risk_threshold == 100);
    assert_int_equal(f->dedup_window_us, d->dedup_window_us);
    assert_int_equal(f->group_window_us, d->group_window_us);
    assert_int_equal(f->risk_half_life_us, d->risk_half_life_us);
    assert_true(f->risk_threshold == d->risk_threshold);
    assert_memory_equal(f->level_weight, d->level_weight, sizeof(d->level_weight));
    assert_memory_equal(f->crit_factor, d->crit_factor, sizeof(d->crit_factor));
    assert_memory_equal(f->level_table, d->level_table, sizeof(d->level_table));
    assert_memory_equal(f->crit_adjust, d->crit_adjust, sizeof(d->crit_adjust));
    assert_memory_equal(f->type_default, d->type_default, sizeof(d->type_default));
    assert_int_equal(f->default_crit, d->default_crit);
    assert_int_equal(f->default_cat, d->default_cat);
    assert_int_equal(f->open_min_level_rule, d->open_min_level_rule);
    assert_int_equal(f->open_min_level_other, d->open_min_level_other);
    assert_int_equal(f->risk_window_us, d->risk_window_us);
    assert_int_equal(d->risk_window_us, 24 * HOUR_US);
    assert_true(f->rule_bonus == d->rule_bonus && d->rule_bonus == 0.25);
    assert_true(f->tactic_bonus == d->tactic_bonus && d->tactic_bonus == 0.5);
    assert_int_equal(f->risk_min_rules, d->risk_min_rules);
    assert_int_equal(d->risk_min_rules, 2);
    assert_memory_equal(f->conf_factor, d->conf_factor, sizeof(d->conf_factor));
    assert_true(d->conf_factor[TRIAGE_CONF_NONE] == 1 && d->conf_factor[TRIAGE_CONF_HIGH] == 1.5);
    assert_int_equal(f->relayed_max_type, d->relayed_max_type);
    assert_int_equal(d->relayed_max_type, TRIAGE_TYPE_PROBE);
    assert_int_equal(f->nopen_rules, d->nopen_rules);
    assert_int_equal(f->nrisk_only, d->nrisk_only);
    assert_int_equal(f->max_alerts, d->max_alerts);
    assert_int_equal(f->max_entities, d->max_entities);
    assert_int_equal(f->max_incidents, d->max_incidents);
    struct {
        struct triage_map *a, *b;
        size_t na, nb;
    } maps[] = {
        {f->type_by_rule, d->type_by_rule, f->ntype_by_rule, d->ntype_by_rule},
        {f->type_by_corr, d->type_by_corr, f->ntype_by_corr, d->ntype_by_corr},
        {f->type_by_tag, d->type_by_tag, f->ntype_by_tag, d->ntype_by_tag},
        {f->stage_by_tactic, d->stage_by_tactic, f->nstage_by_tactic, d->nstage_by_tactic},
    };
    for (size_t m = 0; m < ARRAY_LEN(maps); m++) {
        assert_true(maps[m].na > 0);
        assert_int_equal(maps[m].na, maps[m].nb);
        for (size_t i = 0; i < maps[m].na; i++) {
            assert_string_equal(maps[m].a[i].key, maps[m].b[i].key);
            assert_int_equal(maps[m].a[i].value, maps[m].b[i].value);
        }
    }
    assert_int_equal(d->nstage_by_tactic, 14); /* every ATT&CK enterprise tactic */
    triage_opts_free(d);
    triage_opts_free(f);
}

static void test_opts_errors(void **state)
{
    static const struct {
        const char *text;
        unsigned line;
        const char *msg_part;
    } cases[] = {
        {"dedup_window: 10x\n", 1, "unit"},
        {"group_window: 1h\nrisk:\n  threshold: -3\n", 3, "range"},
        {"types:\n  by_rule:\n    ssh_bruteforce: stolen laptop\n", 3, "incident type"},
        {"suppress:\n  - rule: ssh_bruteforce\n    author: soc\n    expires: 2030-01-01\n", 2,
         "reason"},
        {"suppress:\n  - {rule: x, author: a, reason: r}\n", 2, "expir"},
        {"suppress:\n  - {cidr: 10.0.0.0/33, author: a, reason: r, expires: 2030-01-01}\n", 2,
         "CIDR"},
        {"suppress:\n  - {author: a, reason: r, expires: 2030-01-01}\n", 2, "at least one"},
        {"levels:\n  damage manifest: {A: crimson}\n", 2, "level"},
        {"kill_chain: {impact: detonation}\n", 1, "kill-chain"},
        {"limits: {max_incidents: 1}\n", 1, "range"},
        {"colour: red\n", 1, "unknown key"},
        {"risk: [1, 2\n", 2, ""},
        {"risk:\n  half_life: 6h\n  min_rules: 40\n", 3, "range"},
        {"risk:\n  confidence_factor: {certain: 2}\n", 2, "confidence"},
        {"risk:\n  window: 0s\n", 2, "positive"},
        {"risk:\n  tactic_bonus: lots\n", 2, "number"},
        {"open_incident:\n  rules: web_sqli\n", 2, "list"},
        {"open_incident:\n  risk_only: [a, {b: c}]\n", 2, "scalar"},
        {"types:\n  relayed_max: intrusion\n", 2, "incident type"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct triage_opts *o = NULL;
        struct parse_err e;
        int r = triage_opts_parse(cases[i].text, strlen(cases[i].text), "t.yaml", 0, &o, &e);
        assert_int_equal(r, -EINVAL);
        assert_null(o);
        assert_int_equal(e.line, cases[i].line);
        assert_non_null(e.msg);
        assert_non_null(strstr(e.msg, cases[i].msg_part));
    }
    /* The column points at the offending key. */
    {
        static const char bad[] = "risk:\n  confidence_factor: {certain: 2}\n";
        struct triage_opts *o = NULL;
        struct parse_err e;
        assert_int_equal(triage_opts_parse(bad, sizeof(bad) - 1, "t.yaml", 0, &o, &e), -EINVAL);
        assert_int_equal(e.line, 2);
        assert_int_equal(e.col, 23);
    }
}

/* The risk options, as a site would set them. */
static void test_opts_risk(void **state)
{
    static const char yaml[] = "risk:\n"
                               "  window: 12h\n"
                               "  min_rules: 3\n"
                               "  rule_bonus: 0.3\n"
                               "  tactic_bonus: 0.75\n"
                               "  confidence_factor: {low: 0.25, high: 2}\n"
                               "open_incident:\n"
                               "  rules: [ssh_bruteforce_success, attack.impact]\n"
                               "  risk_only: [57011468-8309-4538-ae0d-682f29a6a238]\n"
                               "types:\n"
                               "  relayed_max: policy violation\n";
    struct triage_opts *o = NULL;
    struct parse_err e;

    (void)state;
    assert_int_equal(triage_opts_parse(yaml, sizeof(yaml) - 1, "t.yaml", 0, &o, &e), 0);
    assert_int_equal(o->risk_window_us, 12 * HOUR_US);
    assert_int_equal(o->risk_min_rules, 3);
    assert_true(o->rule_bonus == 0.3 && o->tactic_bonus == 0.75);
    assert_true(o->conf_factor[TRIAGE_CONF_LOW] == 0.25);
    assert_true(o->conf_factor[TRIAGE_CONF_MEDIUM] == 1); /* not given: default */
    assert_true(o->conf_factor[TRIAGE_CONF_HIGH] == 2);
    assert_true(o->conf_factor[TRIAGE_CONF_NONE] == 1);
    assert_int_equal(o->nopen_rules, 2);
    assert_string_equal(o->open_rules[1], "attack.impact");
    assert_int_equal(o->nrisk_only, 1);
    assert_int_equal(o->relayed_max_type, TRIAGE_TYPE_POLICY);
    assert_true(o->risk_threshold == 100); /* not given: default */
    triage_opts_free(o);
}

/* ---- 1. dedup ---- */

static void test_dedup(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;

    (void)state;
    fix_setup(&f, NULL, T0);
    /* 1000 identical failures in 5 minutes (one every 300 ms). */
    for (int i = 0; i < 1000; i++) {
        in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
                T0 + (int64_t)i * 300000, 1, ssh_from_5, ARRAY_LEN(ssh_from_5));
        assert_int_equal(triage_add(f.t, &in, NULL), 0);
    }
    triage_stats(f.t, &st);
    assert_int_equal(st.alerts_in, 1000);
    assert_int_equal(st.aggregated, 1);
    assert_int_equal(st.duplicates, 999);
    assert_int_equal(f.rec.alerts_new, 1);
    assert_int_equal(f.rec.alerts_updated, 0); /* no call per duplicate */
    triage_flush(f.t, T0 + 5 * MIN_US);
    assert_int_equal(f.rec.alerts_updated, 1);
    assert_int_equal(f.rec.last_alert.count, 1000);
    assert_int_equal(f.rec.last_alert.first_us, T0);
    assert_int_equal(f.rec.last_alert.last_us, T0 + 999 * 300000);
    triage_flush(f.t, T0 + 5 * MIN_US);
    assert_int_equal(f.rec.alerts_updated, 1); /* clean now */

    /* Same rule, other attacker: a second aggregated alert. */
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
            T0 + 5 * MIN_US, 1, ssh_from_9, ARRAY_LEN(ssh_from_9));
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    triage_stats(f.t, &st);
    assert_int_equal(st.aggregated, 2);

    /* Entity order does not matter: same set, same alert. */
    struct triage_entity rev[] = {ssh_from_5[2], ssh_from_5[1], ssh_from_5[0]};
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
            T0 + 6 * MIN_US, 1, rev, 3);
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    triage_stats(f.t, &st);
    assert_int_equal(st.aggregated, 2);

    /* Window slides on event time: 9 min after the last duplicate still
     * joins; 11 min after it is a new aggregated alert. */
    in.time_us = T0 + 15 * MIN_US;
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    triage_stats(f.t, &st);
    assert_int_equal(st.aggregated, 2);
    in.time_us = T0 + 26 * MIN_US;
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    triage_stats(f.t, &st);
    assert_int_equal(st.aggregated, 3);
    assert_int_equal(f.rec.alerts_new, 3);
    fix_done(&f);
}

/* ---- 2. suppression ---- */

static const char supp_yaml[] =
    "suppress:\n"
    "  - id: vuln-scanner\n"
    "    reason: weekly authorised Nessus scan from the SOC scanner\n"
    "    author: a.tanaka@example.org\n"
    "    expires: 2024-06-30T00:00:00Z\n"
    "    rule: port_scan_vertical\n"
    "    cidr: 198.51.100.64/26\n"
    "  - id: backup-user\n"
    "    reason: backup job logs in as svc_backup with a stale key\n"
    "    author: k.sato@example.org\n"
    "    expires: 2024-12-31\n"
    "    match:\n"
    "      user.name: svc_backup\n"
    "  - id: v6-monitoring\n"
    "    reason: monitoring probes from the NOC v6 range\n"
    "    author: noc@example.org\n"
    "    expires: 2025-01-01\n"
    "    cidr: [2001:db8:ff::/48]\n"
    "    cidr_field: source.ip\n"
    "  - id: old-pentest\n"
    "    reason: pentest engagement 2023\n"
    "    author: ciso@example.org\n"
    "    expires: 2023-11-30\n"
    "    cidr: 203.0.113.0/24\n";

static void test_suppression(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;
    static const struct triage_entity scanner[] = {
        {"source.ip", "198.51.100.70", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity scanner_out[] = {
        {"source.ip", "198.51.100.130", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity backup[] = {
        {"source.ip", "10.20.5.5", TRIAGE_ROLE_ATTACKER},
        {"user.name", "svc_backup", TRIAGE_ROLE_OTHER}};
    static const struct triage_entity v6[] = {
        {"source.ip", "2001:db8:ff:12::5", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "2001:db8:100::80", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity v6_as_victim[] = {
        {"source.ip", "2001:db8:1::5", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "2001:db8:ff::80", TRIAGE_ROLE_VICTIM}};

    (void)state;
    fix_setup(&f, supp_yaml, T0);
    assert_int_equal(f.o->nsupp, 4);
    assert_int_equal(f.o->nsupp_expired, 1);
    assert_true(f.o->supp[3].expired);

    /* By rule and CIDR (both must hold). */
    in = mk(TRIAGE_KIND_CORRELATION, "c1", "port_scan_vertical", TRIAGE_LEVEL_MEDIUM, tags_scan,
            2, "value_count", T0, 1200, scanner, 2);
    triage_add(f.t, &in, NULL);
    in.time_us += HOUR_US;
    triage_add(f.t, &in, NULL);
    in.entities = scanner_out; /* outside the /26 */
    triage_add(f.t, &in, NULL);
    in = mk(TRIAGE_KIND_CORRELATION, "c2", "port_scan_horizontal", TRIAGE_LEVEL_MEDIUM, tags_scan,
            2, "value_count", T0, 300, scanner, 2); /* other rule */
    triage_add(f.t, &in, NULL);
    assert_int_equal(triage_supp_hits(f.t, 0), 2);

    /* By field value, any rule. */
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL, T0,
            1, backup, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(triage_supp_hits(f.t, 1), 1);
    assert_string_equal(f.rec.last_supp_id, "backup-user");

    /* IPv6 CIDR on source.ip only. */
    in.entities = v6;
    triage_add(f.t, &in, NULL);
    in.entities = v6_as_victim;
    triage_add(f.t, &in, NULL);
    assert_int_equal(triage_supp_hits(f.t, 2), 1);

    /* Expired: ignored. */
    in.entities = ssh_from_5;
    in.nentities = 3;
    triage_add(f.t, &in, NULL);
    assert_int_equal(triage_supp_hits(f.t, 3), 0);

    /* A suppression stops at its expiry in event time too. */
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
            INT64_C(1735689600000000) /* 2025-01-01 */, 1, backup, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(triage_supp_hits(f.t, 1), 1);

    triage_stats(f.t, &st);
    assert_int_equal(st.alerts_in, 9);
    assert_int_equal(st.suppressed, 4);
    assert_int_equal(f.rec.suppressed, 4);
    assert_int_equal(st.supp_expired_rules, 1);
    assert_int_equal(st.aggregated + st.duplicates, 5); /* nothing lost */

    /* A suppression added while triage runs (the API's way) applies from
     * the next alert and is counted on its own; the others keep theirs. */
    {
        static const char more[] = "suppress:\n"
                                   "  - id: api-1\n"
                                   "    reason: \"lab pentest\"\n"
                                   "    author: \"bob\"\n"
                                   "    expires: 2026-01-01T00:00:00Z\n"
                                   "    rule: \"port_scan_horizontal\"\n"
                                   "    match:\n"
                                   "      \"source.ip\": \"198.51.100.70\"\n";
        struct parse_err e;

        assert_int_equal(triage_opts_load_suppress(f.o, more, sizeof(more) - 1, T0, &e), 0);
        assert_int_equal(triage_supp_added(f.t), 0);
        in = mk(TRIAGE_KIND_CORRELATION, "c2", "port_scan_horizontal", TRIAGE_LEVEL_MEDIUM,
                tags_scan, 2, "value_count", T0 + 2 * HOUR_US, 300, scanner, 2);
        triage_add(f.t, &in, NULL);
        assert_int_equal(triage_supp_hits(f.t, 4), 1);
        assert_int_equal(triage_supp_hits(f.t, 0), 2);
        assert_int_equal(triage_supp_hits(f.t, 1), 1);
        assert_string_equal(f.rec.last_supp_id, "api-1");
    }
    fix_done(&f);
}

/* ---- 3. risk ---- */

static void test_risk(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;
    char id[32];
    unsigned nrules = 0, ntactics = 0;
    static const struct triage_entity att[] = {
        {"source.ip", "203.0.113.77", TRIAGE_ROLE_ATTACKER}};
    static const struct triage_entity att_other_victim[] = {
        {"source.ip", "203.0.113.77", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "10.20.1.1", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity on_web01[] = {
        {"source.ip", "203.0.113.78", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM}};

    (void)state;
    fix_setup(&f, NULL, T0);
    /* Medium single rules do not open incidents; 5 points each on an
     * unknown (medium, factor 1) address, and breadth multiplies: seven
     * distinct rules of one tactic score 35 x (1 + 0.25 x 6) = 87.5. */
    for (int i = 0; i < 7; i++) {
        snprintf(id, sizeof(id), "rule-%d", i);
        in = mk(TRIAGE_KIND_RULE, id, NULL, TRIAGE_LEVEL_MEDIUM, tags_web, 2, NULL, T0, 1, att, 1);
        triage_add(f.t, &in, NULL);
    }
    assert_true(fabs(triage_risk(f.t, "source.ip", "203.0.113.77", T0) - 35.0) < 1e-9);
    assert_true(
        fabs(triage_score(f.t, "source.ip", "203.0.113.77", T0, &nrules, &ntactics) - 87.5) < 1e-9);
    assert_int_equal(nrules, 7);
    assert_int_equal(ntactics, 1);
    assert_int_equal(f.rec.opened, 0);
    /* Half-life 6 h: 35 -> 17.5. */
    assert_true(fabs(triage_risk(f.t, "source.ip", "203.0.113.77", T0 + 6 * HOUR_US) - 17.5) <
                1e-9);
    /* The same rule again on the same attacker, with another victim: a new
     * aggregated alert, but the attacker's risk from that rule is counted
     * once per dedup window. */
    in = mk(TRIAGE_KIND_RULE, "rule-6", NULL, TRIAGE_LEVEL_MEDIUM, tags_web, 2, NULL, T0, 1,
            att_other_victim, 2);
    triage_add(f.t, &in, NULL);
    assert_true(fabs(triage_risk(f.t, "source.ip", "203.0.113.77", T0) - 35.0) < 1e-9);
    /* The eighth distinct rule: 40 x 2.75 = 110 crosses 100. */
    in =
        mk(TRIAGE_KIND_RULE, "rule-7", NULL, TRIAGE_LEVEL_MEDIUM, tags_web, 2, NULL, T0, 1, att, 1);
    triage_add(f.t, &in, NULL);
    triage_stats(f.t, &st);
    assert_int_equal(st.risk_crossings, 1);
    assert_int_equal(st.risk_opened, 1);
    assert_int_equal(f.rec.opened, 1);
    assert_string_equal(f.rec.inc[0].key, "source.ip=203.0.113.77");
    assert_true(f.rec.inc[0].risk_opened);
    assert_string_equal(f.rec.inc[0].why, "opened because: 8 rules, 1 tactic, risk 110 >= 100");
    /* Staying above the threshold opens nothing more; the alerts join. */
    for (int i = 20; i < 25; i++) {
        snprintf(id, sizeof(id), "rule-%d", i);
        in = mk(TRIAGE_KIND_RULE, id, NULL, TRIAGE_LEVEL_MEDIUM, tags_web, 2, NULL, T0 + MIN_US,
                1, att, 1);
        triage_add(f.t, &in, NULL);
    }
    triage_stats(f.t, &st);
    assert_int_equal(st.incidents_opened, 1);
    assert_int_equal(st.risk_crossings, 1);
    assert_int_equal(f.rec.updated, 5);

    /* Criticality factor: high (web01) is 1.5 x. */
    in = mk(TRIAGE_KIND_RULE, "web-sqli", NULL, TRIAGE_LEVEL_MEDIUM, tags_web, 2, NULL, T0, 1,
            on_web01, 2);
    triage_add(f.t, &in, NULL);
    assert_true(fabs(triage_risk(f.t, "destination.ip", "192.0.2.10", T0) - 7.5) < 1e-9);
    assert_true(fabs(triage_risk(f.t, "source.ip", "203.0.113.78", T0) - 5.0) < 1e-9);
    /* Decay before adding: 12 h later 7.5 -> 1.875, + 7.5. */
    in.rule_id = "web-traversal";
    in.time_us = T0 + 12 * HOUR_US;
    triage_add(f.t, &in, NULL);
    assert_true(fabs(triage_risk(f.t, "destination.ip", "192.0.2.10", T0 + 12 * HOUR_US) - 9.375) <
                1e-9);
    fix_done(&f);
}

/* ---- relayed IDS alerts ---- */

/* An IDS alert as the pipeline hands it over: the relay rule for Suricata
 * severity 1 (level high, no tags of its own), the signature of the
 * record, and the tactic the signature's metadata states (or none). */
#define SURICATA_SEV1_ID "57011468-8309-4538-ae0d-682f29a6a238"

static struct triage_in mk_ids(const char *sig_id, const char *sig_name, const char *const *tags,
                               size_t ntags, int64_t t, const struct triage_entity *ents,
                               size_t nents)
{
    struct triage_in in = mk(TRIAGE_KIND_RULE, SURICATA_SEV1_ID, NULL, TRIAGE_LEVEL_HIGH, tags,
                             ntags, NULL, t, 1, ents, nents);

    in.rule_title = "Suricata Alert of Severity 1 (High)";
    in.sig_id = sig_id;
    in.sig_name = sig_name;
    return in;
}

/* Background noise: one policy signature from 500 random internet sources
 * against one server is one aggregated alert and no incident, and every
 * source still carries its risk. */
static void test_ids_flood(void **state)
{
    struct fix f;
    struct triage_stats st;
    char src[500][32];
    uint32_t x = 2463534242u; /* xorshift32: reproducible "random" sources */

    (void)state;
    fix_setup(&f, NULL, T0);
    for (int i = 0; i < 500; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        snprintf(src[i], sizeof(src[i]), "%u.%u.%u.%u", 11 + x % 200, (x >> 8) & 255,
                 (x >> 16) & 255, 1 + (x >> 24) % 254);
        struct triage_entity en[] = {{"source.ip", src[i], TRIAGE_ROLE_ATTACKER},
                                     {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM}};
        struct triage_in in = mk_ids("2013028", "ET POLICY curl User-Agent Outbound", NULL, 0,
                                     T0 + (int64_t)i * 600000, en, 2);
        struct triage_made made;
        assert_int_equal(triage_add(f.t, &in, &made), 0);
        assert_int_not_equal(made.agg_id, 0);
        assert_int_equal(made.incident_id, 0);
    }
    triage_stats(f.t, &st);
    assert_int_equal(st.alerts_in, 500);
    assert_int_equal(st.aggregated, 1);
    assert_int_equal(st.duplicates, 499);
    assert_int_equal(st.incidents_opened, 0);
    assert_int_equal(st.risk_crossings, 0);
    assert_int_equal(st.risk_only, 500);
    assert_int_equal(f.rec.alerts_new, 1);
    assert_int_equal(f.rec.opened, 0);
    /* The aggregated alert names the signature. */
    assert_string_equal(f.rec.last_alert.rule_title,
                        "Suricata Alert of Severity 1 (High): ET POLICY curl User-Agent Outbound");
    assert_true(f.rec.last_alert.relayed);
    /* Each source has its 15 points (high, unknown address); the server
     * counts the signature once (15 x 1.5 for web01), not 500 times. */
    for (int i = 0; i < 500; i += 97)
        assert_true(fabs(triage_risk(f.t, "source.ip", src[i], T0 + 5 * MIN_US) -
                         15.0 * exp2(-(double)(T0 + 5 * MIN_US - (T0 + (int64_t)i * 600000)) /
                                     (double)(6 * HOUR_US))) < 1e-6);
    assert_true(triage_risk(f.t, "destination.ip", "192.0.2.10", T0) > 22.4 &&
                triage_risk(f.t, "destination.ip", "192.0.2.10", T0) < 22.6);
    triage_flush(f.t, T0 + 5 * MIN_US);
    assert_int_equal(f.rec.alerts_updated, 1);
    assert_int_equal(f.rec.last_alert.count, 500);
    fix_done(&f);
}

static const char *const tags_ids_c2[] = {"attack.command_and_control"};
static const char *const tags_ids_recon[] = {"attack.reconnaissance"};

/* One IDS severity-1 alert alone opens nothing, whatever tactic it names;
 * nor does the same signature again. */
static void test_ids_alone(void **state)
{
    struct fix f;
    struct triage_stats st;
    static const struct triage_entity en[] = {
        {"source.ip", "10.20.7.7", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "198.51.100.200", TRIAGE_ROLE_VICTIM}};
    struct triage_in in =
        mk_ids("2027865", "ET MALWARE Possible Cobalt Strike beacon", tags_ids_c2, 1, T0, en, 2);

    (void)state;
    fix_setup(&f, NULL, T0);
    in.confidence = TRIAGE_CONF_HIGH;
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    in.time_us = T0 + 20 * MIN_US; /* past the dedup window: a new aggregated alert */
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    triage_stats(f.t, &st);
    assert_int_equal(st.incidents_opened, 0);
    assert_int_equal(st.aggregated, 2);
    assert_int_equal(st.risk_only, 2);
    /* 15 x 1.5 (high confidence): the repeat refreshes the signature's
     * risk, never adds it twice; and one rule is not enough (min_rules). */
    assert_true(fabs(triage_risk(f.t, "source.ip", "10.20.7.7", T0 + 20 * MIN_US) - 22.5) < 1e-6);
    for (int i = 0; i < 100; i++) {
        in.time_us = T0 + (21 + i) * MIN_US;
        assert_int_equal(triage_add(f.t, &in, NULL), 0);
    }
    assert_true(fabs(triage_risk(f.t, "source.ip", "10.20.7.7", T0 + 120 * MIN_US) - 22.5) < 1e-6);
    assert_int_equal(f.rec.opened, 0);
    fix_done(&f);
}

/* Breadth opens an incident, and the incident says why: one source hits
 * three distinct rules across two tactics. */
static void test_risk_breadth_opens(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;
    /* 10.20.3.3 is in office-lan (medium); the IDS sees it beacon and
     * scan, and its own SSH log sees it fail as root. */
    static const struct triage_entity out_c2[] = {
        {"source.ip", "10.20.3.3", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "198.51.100.201", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity ssh[] = {{"source.ip", "10.20.3.3", TRIAGE_ROLE_ATTACKER},
                                               {"destination.ip", "10.20.3.4", TRIAGE_ROLE_VICTIM},
                                               {"user.name", "root", TRIAGE_ROLE_OTHER}};

    (void)state;
    /* Three IDS signatures, two tactics: 45 x 1.5 (3 rules) x 1.5 (2
     * tactics) = 101.25.  Nothing but the IDS says so: the type stays a
     * probe although a signature names command and control. */
    fix_setup(&f, NULL, T0);
    in = mk_ids("2027865", "ET MALWARE Cobalt Strike beacon", tags_ids_c2, 1, T0, out_c2, 2);
    triage_add(f.t, &in, NULL);
    in =
        mk_ids("2030358", "ET MALWARE Generic C2 check-in", tags_ids_c2, 1, T0 + MIN_US, out_c2, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 0);
    in = mk_ids("2001219", "ET SCAN Potential SSH Scan OUTBOUND", tags_ids_recon, 1,
                T0 + 2 * MIN_US, ssh, 2);
    triage_add(f.t, &in, NULL);
    triage_stats(f.t, &st);
    assert_int_equal(st.incidents_opened, 1);
    assert_int_equal(st.risk_opened, 1);
    assert_int_equal(f.rec.opened, 1);
    assert_string_equal(f.rec.inc[0].key, "source.ip=10.20.3.3");
    assert_true(f.rec.inc[0].risk_opened);
    assert_string_equal(f.rec.inc[0].why, "opened because: 3 rules, 2 tactics, risk 101 >= 100");
    assert_int_equal(f.rec.inc[0].type, TRIAGE_TYPE_PROBE);
    fix_done(&f);

    /* The same host with its own log as the third rule: 15 + 15 + 5 = 35,
     * x 1.5 x 1.5 = 78.75 on a medium host; on a critical one (hr-db,
     * factor 2) 157.5 crosses.  The SSH log corroborates the IDS: its
     * command-and-control claim now makes the incident "intruded". */
    static const struct triage_entity hr_c2[] = {
        {"source.ip", "10.30.4.7", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "198.51.100.201", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity hr_ssh[] = {
        {"source.ip", "10.30.4.7", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "10.20.3.4", TRIAGE_ROLE_VICTIM},
        {"user.name", "root", TRIAGE_ROLE_OTHER}};
    fix_setup(&f, NULL, T0);
    in = mk_ids("2027865", "ET MALWARE Cobalt Strike beacon", tags_ids_c2, 1, T0, hr_c2, 2);
    triage_add(f.t, &in, NULL);
    in = mk_ids("2030358", "ET MALWARE Generic C2 check-in", tags_ids_c2, 1, T0 + MIN_US, hr_c2, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 0);
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_MEDIUM, tags_bruteforce, 2, NULL,
            T0 + 2 * MIN_US, 1, hr_ssh, 3);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 1);
    assert_string_equal(f.rec.inc[0].key, "source.ip=10.30.4.7");
    assert_string_equal(f.rec.inc[0].why, "opened because: 3 rules, 2 tactics, risk 157 >= 100");
    assert_int_equal(f.rec.inc[0].type, TRIAGE_TYPE_INTRUDED);
    fix_done(&f);
}

/* Overlapping signatures on one connection are one observation: four
 * PowerShell-over-SMB signatures on one flow add risk and breadth once. */
static void test_ids_same_flow(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;
    unsigned nrules = 0, ntactics = 0;
    char id[16], name[64];
    static const struct triage_entity en[] = {{"source.ip", "10.20.8.8", TRIAGE_ROLE_ATTACKER},
                                              {"destination.ip", "10.20.8.9", TRIAGE_ROLE_VICTIM}};
    static const char *const tags_lateral[] = {"attack.lateral_movement"};

    (void)state;
    fix_setup(&f, NULL, T0);
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof(id), "20253%02d", i);
        snprintf(name, sizeof(name), "ET POLICY Powershell over SMB variant %d", i);
        in = mk_ids(id, name, i == 3 ? tags_lateral : NULL, i == 3, T0, en, 2);
        in.flow_id = "186287239400886";
        triage_add(f.t, &in, NULL);
    }
    triage_stats(f.t, &st);
    assert_int_equal(st.aggregated, 4); /* four signatures for the analyst */
    assert_true(fabs(triage_score(f.t, "source.ip", "10.20.8.8", T0, &nrules, &ntactics) - 15.0) <
                1e-9);
    assert_int_equal(nrules, 1);
    assert_int_equal(ntactics, 1); /* the tactic of any of them */
    /* Another signature on another connection is new evidence. */
    in = mk_ids("2024218", "ET EXPLOIT Possible GoldenPac Priv Esc in-use", NULL, 0, T0 + MIN_US,
                en, 2);
    in.flow_id = "276941704824022";
    triage_add(f.t, &in, NULL);
    assert_true(fabs(triage_risk(f.t, "source.ip", "10.20.8.8", T0 + MIN_US) -
                     (15.0 * exp2(-1.0 / 360) + 15.0)) < 1e-9);
    (void)triage_score(f.t, "source.ip", "10.20.8.8", T0 + MIN_US, &nrules, NULL);
    assert_int_equal(nrules, 2);
    assert_int_equal(f.rec.opened, 0);
    fix_done(&f);
}

/* Risk decays, and breadth counts only within the window: the same three
 * rules spread over three days never cross. */
static void test_risk_decays(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;
    static const struct triage_entity en[] = {{"source.ip", "203.0.113.60", TRIAGE_ROLE_ATTACKER}};
    static const char *const sig[3][2] = {{"2027865", "ET MALWARE Cobalt Strike beacon"},
                                          {"2030358", "ET MALWARE Generic C2 check-in"},
                                          {"2001219", "ET SCAN Potential SSH Scan"}};
    unsigned nrules = 0;

    (void)state;
    fix_setup(&f, NULL, T0);
    for (int i = 0; i < 3; i++) {
        in = mk_ids(sig[i][0], sig[i][1], i < 2 ? tags_ids_c2 : tags_ids_recon, 1,
                    T0 + i * 25 * HOUR_US, en, 1);
        triage_add(f.t, &in, NULL);
    }
    triage_stats(f.t, &st);
    assert_int_equal(st.incidents_opened, 0);
    /* 15 + 15/16 + 15/16/16 a day apart, and one rule in the window. */
    assert_true(
        fabs(triage_score(f.t, "source.ip", "203.0.113.60", T0 + 50 * HOUR_US, &nrules, NULL) -
             (15.0 + 15.0 * exp2(-25.0 / 6) + 15.0 * exp2(-50.0 / 6))) < 1e-6);
    assert_int_equal(nrules, 1);
    /* Half-lives: the risk halves every 6 h. */
    double r0 = triage_risk(f.t, "source.ip", "203.0.113.60", T0 + 50 * HOUR_US);
    assert_true(fabs(triage_risk(f.t, "source.ip", "203.0.113.60", T0 + 62 * HOUR_US) - r0 / 4) <
                1e-9);
    /* Flushing far later forgets the entity. */
    triage_flush(f.t, T0 + 30 * 24 * HOUR_US);
    triage_stats(f.t, &st);
    assert_int_equal(st.live_entities, 0);
    assert_true(triage_risk(f.t, "source.ip", "203.0.113.60", T0 + 30 * 24 * HOUR_US) == 0);
    fix_done(&f);
}

/* What may open by itself is configurable: risk_only silences a rule's
 * opening (by tag), open_incident.rules lets a medium rule open. */
static void test_open_lists(void **state)
{
    static const char yaml[] = "open_incident:\n"
                               "  rules: [web_probe_medium]\n"
                               "  risk_only: [attack.initial_access]\n";
    struct fix f;
    struct parse_err e;
    struct triage_in in;
    static const struct triage_entity en[] = {{"source.ip", "203.0.113.61", TRIAGE_ROLE_ATTACKER}};
    static const struct triage_entity en2[] = {{"source.ip", "203.0.113.62", TRIAGE_ROLE_ATTACKER}};

    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(triage_opts_parse(yaml, sizeof(yaml) - 1, "t.yaml", T0, &f.o, &e), 0);
    assert_int_equal(f.o->nopen_rules, 1);
    assert_int_equal(f.o->nrisk_only, 1);
    asset_inv_init(&f.inv);
    struct triage_cb cb = {&f.rec,     cb_alert_new, cb_alert_updated, cb_suppressed, cb_opened,
                           cb_updated, NULL};
    f.t = triage_new(f.o, &f.inv, &cb);
    /* A high web rule, tagged initial access: risk only now. */
    in = mk(TRIAGE_KIND_RULE, "e0b76878-f492-4a6a-beda-9624f32d7b67", NULL, TRIAGE_LEVEL_HIGH,
            tags_web, 2, NULL, T0, 1, en, 1);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 0);
    /* A medium rule named in open_incident.rules opens. */
    in = mk(TRIAGE_KIND_RULE, "x1", "web_probe_medium", TRIAGE_LEVEL_MEDIUM, tags_scan, 2, NULL, T0,
            1, en2, 1);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 1);
    assert_string_equal(f.rec.inc[0].why,
                        "opened because: rule web_probe_medium (open_incident.rules)");
    assert_false(f.rec.inc[0].risk_opened);
    fix_done(&f);
}

/* A victim's risk raises the incident of whoever attacks it; it opens an
 * incident of its own only when no live incident names it. */
static void test_victim_risk(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;
    char id[32], src[32];
    struct triage_entity ents[2] = {
        {"source.ip", "203.0.113.90", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "10.30.4.7", TRIAGE_ROLE_VICTIM},
    };

    (void)state;
    fix_setup(&f, NULL, T0);
    /* A high single rule from one attacker opens an incident naming the
     * victim (hr-db, 10.30.4.7: critical, factor 2; 30 points). */
    in = mk(TRIAGE_KIND_RULE, "sqli", NULL, TRIAGE_LEVEL_HIGH, tags_web, 2, NULL, T0, 1, ents, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 1);
    assert_string_equal(f.rec.inc[0].key, "source.ip=203.0.113.90");
    /* 18 medium rules a minute later from 18 other sources: the victim
     * passes 100 (30, decayed a little, + 10 each; a victim's score has no
     * breadth bonus) while each new source stays at 5. */
    for (int i = 0; i < 18; i++) {
        snprintf(id, sizeof(id), "probe-%d", i);
        snprintf(src, sizeof(src), "198.18.0.%d", i + 1);
        ents[0].value = src;
        in = mk(TRIAGE_KIND_RULE, id, NULL, TRIAGE_LEVEL_MEDIUM, tags_web, 2, NULL,
                T0 + MIN_US, 1, ents, 2);
        triage_add(f.t, &in, NULL);
    }
    triage_stats(f.t, &st);
    assert_int_equal(st.risk_crossings, 1);
    assert_int_equal(st.incidents_opened, 1); /* no "destination.ip=10.30.4.7" incident */
    assert_true(f.rec.ninc_ev >= 2);
    assert_true(f.rec.inc[f.rec.ninc_ev - 1].changed & TRIAGE_CHG_RISK);
    assert_int_equal(f.rec.inc[f.rec.ninc_ev - 1].id, f.rec.inc[0].id);
    fix_done(&f);

    /* With nobody's incident naming it, the victim gets its own. */
    fix_setup(&f, NULL, T0);
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof(id), "probe-%d", i);
        snprintf(src, sizeof(src), "198.18.1.%d", i + 1);
        ents[0].value = src;
        in = mk(TRIAGE_KIND_RULE, id, NULL, TRIAGE_LEVEL_MEDIUM, tags_web, 2, NULL, T0, 1, ents,
                2);
        triage_add(f.t, &in, NULL);
    }
    triage_stats(f.t, &st);
    assert_int_equal(st.incidents_opened, 1);
    assert_string_equal(f.rec.inc[0].key, "destination.ip=10.30.4.7");
    assert_true(f.rec.inc[0].risk_opened);
    fix_done(&f);
}

/* ---- 5. grouping ---- */

static void test_bruteforce_then_success(void **state)
{
    struct fix f;
    struct triage_stats st;
    struct triage_in in;

    (void)state;
    fix_setup(&f, NULL, T0);
    /* Three brute-force hits (event_count >= 10 in 5 min) ... */
    for (int i = 0; i < 3; i++) {
        in = mk(TRIAGE_KIND_CORRELATION, "corr-bf", "ssh_bruteforce", TRIAGE_LEVEL_MEDIUM,
                tags_bruteforce, 2, "event_count", T0 + i * 5 * MIN_US, 12, ssh_from_5, 3);
        triage_add(f.t, &in, NULL);
    }
    assert_int_equal(f.rec.opened, 1);
    assert_int_equal(f.rec.inc[0].type, TRIAGE_TYPE_PROBE);
    assert_string_equal(triage_type_name(f.rec.inc[0].type), "probe or attack without damage");
    assert_string_equal(f.rec.inc[0].key, "source.ip=203.0.113.5");
    assert_string_equal(f.rec.inc[0].why, "opened because: correlation ssh_bruteforce");
    assert_false(f.rec.inc[0].risk_opened);
    /* ... then the success that followed them. */
    in = mk(TRIAGE_KIND_CORRELATION, "corr-bfs", "ssh_bruteforce_success", TRIAGE_LEVEL_HIGH,
            tags_bruteforce, 2, "temporal_ordered", T0 + 16 * MIN_US, 13, ssh_from_5, 3);
    triage_add(f.t, &in, NULL);
    triage_stats(f.t, &st);
    assert_int_equal(st.incidents_opened, 1);
    assert_int_equal(f.rec.opened, 1);
    assert_int_equal(f.rec.updated, 1);
    assert_int_equal(f.rec.inc[1].id, f.rec.inc[0].id);
    assert_int_equal(f.rec.inc[1].type, TRIAGE_TYPE_INTRUDED);
    assert_string_equal(triage_type_name(f.rec.inc[1].type), "intruded, no damage yet");
    assert_true(f.rec.inc[1].changed & TRIAGE_CHG_TYPE);
    /* Victim web01: category A, high -> Orange (intruded on A, +0). */
    assert_int_equal(f.rec.inc[1].cat, ASSET_CAT_A);
    assert_int_equal(f.rec.inc[1].level, TRIAGE_ORANGE);
    assert_string_equal(triage_level_name(f.rec.inc[1].level), "Orange");
    /* What it was and why it changed, for the audit trail. */
    assert_int_equal(f.rec.inc[1].was_type, TRIAGE_TYPE_PROBE);
    assert_int_equal(f.rec.inc[1].was_level, f.rec.inc[0].level);
    assert_string_equal(f.rec.inc[1].chg_why,
                        "alert ssh_bruteforce_success joined (intruded, no damage yet); "
                        "intruded, no damage yet on category A (high) proposes Orange");
    fix_done(&f);
}

/* triage_add says what it made: the aggregated alert an alert became or
 * joined (the id the callbacks report) and the incident that alert is in;
 * nothing for a suppressed alert. */
static void test_made(void **state)
{
    struct fix f;
    struct triage_in in;
    struct triage_made m1, m2, m3, m4;
    static const struct triage_entity scanner[] = {
        {"source.ip", "198.51.100.70", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM}};

    (void)state;
    fix_setup(&f, supp_yaml, T0);
    /* A low single-rule alert: an aggregated alert, risk only. */
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL, T0, 1,
            ssh_from_5, ARRAY_LEN(ssh_from_5));
    memset(&m1, 0xff, sizeof(m1));
    assert_int_equal(triage_add(f.t, &in, &m1), 0);
    assert_int_equal(f.rec.alerts_new, 1);
    assert_int_not_equal(m1.agg_id, 0);
    assert_int_equal(m1.agg_id, f.rec.last_alert.id);
    assert_int_equal(m1.incident_id, 0);
    /* Its duplicate joins the same aggregated alert. */
    in.time_us += MIN_US;
    assert_int_equal(triage_add(f.t, &in, &m2), 0);
    assert_int_equal(m2.agg_id, m1.agg_id);
    assert_int_equal(m2.incident_id, 0);
    /* A correlation of the same attacker opens an incident: a new
     * aggregated alert, in the incident the callback reported. */
    in = mk(TRIAGE_KIND_CORRELATION, "corr-bf", "ssh_bruteforce", TRIAGE_LEVEL_MEDIUM,
            tags_bruteforce, 2, "event_count", T0 + 2 * MIN_US, 12, ssh_from_5, 3);
    assert_int_equal(triage_add(f.t, &in, &m3), 0);
    assert_int_equal(f.rec.opened, 1);
    assert_int_not_equal(m3.agg_id, 0);
    assert_int_not_equal(m3.agg_id, m1.agg_id);
    assert_int_equal(m3.agg_id, f.rec.last_alert.id);
    assert_int_not_equal(m3.incident_id, 0);
    assert_int_equal(m3.incident_id, f.rec.inc[0].id);
    /* A suppressed alert made nothing. */
    in = mk(TRIAGE_KIND_CORRELATION, "c1", "port_scan_vertical", TRIAGE_LEVEL_MEDIUM, tags_scan, 2,
            "value_count", T0, 1200, scanner, 2);
    memset(&m4, 0xff, sizeof(m4));
    assert_int_equal(triage_add(f.t, &in, &m4), 0);
    assert_int_equal(triage_supp_hits(f.t, 0), 1);
    assert_int_equal(m4.agg_id, 0);
    assert_int_equal(m4.incident_id, 0);
    fix_done(&f);
}

static void test_two_attackers_two_incidents(void **state)
{
    struct fix f;
    struct triage_in in;

    (void)state;
    fix_setup(&f, NULL, T0);
    in = mk(TRIAGE_KIND_CORRELATION, "corr-bf", "ssh_bruteforce", TRIAGE_LEVEL_MEDIUM,
            tags_bruteforce, 2, "event_count", T0, 12, ssh_from_5, 3);
    triage_add(f.t, &in, NULL);
    in = mk(TRIAGE_KIND_CORRELATION, "corr-bf", "ssh_bruteforce", TRIAGE_LEVEL_MEDIUM,
            tags_bruteforce, 2, "event_count", T0 + MIN_US, 15, ssh_from_9, 3);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 2);
    assert_int_not_equal(f.rec.inc[0].id, f.rec.inc[1].id);
    assert_string_equal(f.rec.inc[1].key, "source.ip=198.18.7.9");
    /* A low single alert from a third source opens nothing. */
    static const struct triage_entity third[] = {
        {"source.ip", "192.0.2.200", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM}};
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
            T0 + MIN_US, 1, third, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 2);
    /* Group window: the same attacker 2 h later starts a new incident. */
    in = mk(TRIAGE_KIND_CORRELATION, "corr-bf", "ssh_bruteforce", TRIAGE_LEVEL_MEDIUM,
            tags_bruteforce, 2, "event_count", T0 + 2 * HOUR_US, 12, ssh_from_5, 3);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 3);
    fix_done(&f);
}

/* Realms (issue 22): a second tabletop exercise run and the real records
 * never share an alert, an entity's risk or an incident with a run,
 * within the dedup and group windows too; the key reads the same. */
static void test_realms_apart(void **state)
{
    struct fix f;
    struct triage_in in;
    struct triage_made m1, m2, m3, m4;

    (void)state;
    fix_setup(&f, NULL, T0);
    in = mk(TRIAGE_KIND_CORRELATION, "corr-bf", "ssh_bruteforce", TRIAGE_LEVEL_MEDIUM,
            tags_bruteforce, 2, "event_count", T0, 12, ssh_from_5, 3);
    in.realm = 1; /* exercise run 1 */
    triage_add(f.t, &in, &m1);
    in.time_us = T0 + MIN_US;
    in.realm = 2; /* run 2 of the same scenario, a minute later */
    triage_add(f.t, &in, &m2);
    in.time_us = T0 + 2 * MIN_US;
    in.realm = 0; /* the real records */
    triage_add(f.t, &in, &m3);
    assert_int_equal(f.rec.opened, 3);
    assert_int_equal(f.rec.alerts_new, 3);
    assert_true(m1.agg_id != m2.agg_id && m2.agg_id != m3.agg_id && m1.agg_id != m3.agg_id);
    assert_true(m1.incident_id != m2.incident_id && m2.incident_id != m3.incident_id &&
                m1.incident_id != m3.incident_id);
    for (unsigned i = 0; i < 3; i++)
        assert_string_equal(f.rec.inc[i].key, "source.ip=203.0.113.5");
    /* Run 2 again: its own alert and incident, nobody else's. */
    in.time_us = T0 + 3 * MIN_US;
    in.realm = 2;
    triage_add(f.t, &in, &m4);
    assert_int_equal(f.rec.opened, 3);
    assert_int_equal(m4.agg_id, m2.agg_id);
    assert_int_equal(m4.incident_id, m2.incident_id);
    /* The real risk of the attacker is the real alert's alone. */
    fix_done(&f);
    fix_setup(&f, NULL, T0);
    in.realm = 0;
    in.time_us = T0;
    triage_add(f.t, &in, NULL);
    double real_only = triage_risk(f.t, "source.ip", "203.0.113.5", T0);
    fix_done(&f);
    fix_setup(&f, NULL, T0);
    in.realm = 7;
    triage_add(f.t, &in, NULL);
    assert_true(triage_risk(f.t, "source.ip", "203.0.113.5", T0) == 0.0);
    in.realm = 0;
    triage_add(f.t, &in, NULL);
    assert_true(real_only > 0.0);
    assert_true(triage_risk(f.t, "source.ip", "203.0.113.5", T0) == real_only);
    fix_done(&f);
}

static void test_worm_damage(void **state)
{
    struct fix f;
    struct triage_in in;
    static const struct triage_entity worm[] = {
        {"source.ip", "10.20.3.17", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "10.20.3.18", TRIAGE_ROLE_VICTIM},
        {"destination.ip", "10.20.3.19", TRIAGE_ROLE_VICTIM},
        {"destination.ip", "10.30.4.7", TRIAGE_ROLE_VICTIM},
        {"destination.port", "445", TRIAGE_ROLE_OTHER}};

    (void)state;
    fix_setup(&f, NULL, T0);
    in = mk(TRIAGE_KIND_CORRELATION, "corr-worm", "worm_smb_rpc_spread", TRIAGE_LEVEL_HIGH,
            tags_worm, 2, "value_count", T0, 40, worm, ARRAY_LEN(worm));
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 1);
    assert_int_equal(f.rec.inc[0].type, TRIAGE_TYPE_DAMAGE);
    assert_string_equal(triage_type_name(f.rec.inc[0].type), "damage manifest");
    /* The most critical victim decides: hr-db, C, critical -> Red. */
    assert_int_equal(f.rec.inc[0].cat, ASSET_CAT_C);
    assert_int_equal(f.rec.inc[0].level, TRIAGE_RED);
    assert_int_equal(f.rec.inc[0].stage, TRIAGE_STAGE_ACTIONS);
    fix_done(&f);
}

static void test_sudo_policy(void **state)
{
    struct fix f;
    struct triage_in in;
    static const struct triage_entity sudo_u[] = {
        {"user.name", "mallory", TRIAGE_ROLE_ATTACKER},
        {"host.name", "build01", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity sudo_u2[] = {
        {"user.name", "mallory", TRIAGE_ROLE_ATTACKER},
        {"host.name", "web01", TRIAGE_ROLE_VICTIM}};

    (void)state;
    fix_setup(&f, NULL, T0);
    /* "user NOT in sudoers" (rules/lnx_sudo_user_not_in_sudoers.yml, high). */
    in = mk(TRIAGE_KIND_RULE, "540474e6-5a94-4638-b5bf-fdc2931f4b44", NULL, TRIAGE_LEVEL_HIGH,
            tags_sudo, 2, NULL, T0, 1, sudo_u, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 1);
    assert_int_equal(f.rec.inc[0].type, TRIAGE_TYPE_POLICY);
    assert_string_equal(triage_type_name(f.rec.inc[0].type), "policy violation");
    assert_string_equal(f.rec.inc[0].key, "user.name=mallory|host.name=build01");
    /* build01: C, medium -> policy violation on C is Yellow. */
    assert_int_equal(f.rec.inc[0].level, TRIAGE_YELLOW);
    /* The sudo_abuse correlation on the same host joins; on another host it
     * is another incident. */
    in = mk(TRIAGE_KIND_CORRELATION, "corr-sudo", "sudo_abuse", TRIAGE_LEVEL_MEDIUM, tags_sudo, 2,
            "event_count", T0 + MIN_US, 5, sudo_u, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 1);
    in.entities = sudo_u2;
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 2);
    assert_int_equal(f.rec.inc[f.rec.ninc_ev - 1].type, TRIAGE_TYPE_POLICY);
    fix_done(&f);
}

static void test_kill_chain(void **state)
{
    struct fix f;
    struct triage_in in;
    static const struct triage_entity scan[] = {
        {"source.ip", "203.0.113.44", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM}};
    static const struct triage_entity beacon[] = {
        {"source.ip", "203.0.113.44", TRIAGE_ROLE_ATTACKER},
        {"destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM},
        {"destination.port", "443", TRIAGE_ROLE_OTHER}};

    (void)state;
    fix_setup(&f, NULL, T0);
    in = mk(TRIAGE_KIND_CORRELATION, "corr-ps", "port_scan_vertical", TRIAGE_LEVEL_MEDIUM,
            tags_scan, 2, "value_count", T0, 900, scan, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.inc[0].stage, TRIAGE_STAGE_RECON);
    assert_int_equal(f.rec.inc[0].type, TRIAGE_TYPE_PROBE);
    /* Port scan from outside on web01 (A, high): probe is Green. */
    assert_int_equal(f.rec.inc[0].level, TRIAGE_GREEN);
    in = mk(TRIAGE_KIND_RULE, "e0b76878-f492-4a6a-beda-9624f32d7b67", NULL, TRIAGE_LEVEL_HIGH,
            tags_web, 2, NULL, T0 + 10 * MIN_US, 1, scan, 2);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.inc[1].stage, TRIAGE_STAGE_DELIVERY);
    assert_true(f.rec.inc[1].changed & TRIAGE_CHG_STAGE);
    assert_int_equal(f.rec.inc[1].type, TRIAGE_TYPE_PROBE);
    in = mk(TRIAGE_KIND_ANOMALY, "anom-1", "anomaly.beacon", TRIAGE_LEVEL_MEDIUM, tags_c2, 2,
            NULL, T0 + 40 * MIN_US, 24, beacon, 3);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.opened, 1);
    assert_int_equal(f.rec.inc[2].stage, TRIAGE_STAGE_C2);
    assert_string_equal(triage_stage_name(f.rec.inc[2].stage), "command and control");
    assert_int_equal(f.rec.inc[2].type, TRIAGE_TYPE_INTRUDED);
    assert_int_equal(f.rec.inc[2].level, TRIAGE_ORANGE);
    assert_true(f.rec.inc[2].changed & TRIAGE_CHG_LEVEL);
    /* An earlier stage afterwards changes nothing about the furthest. */
    in = mk(TRIAGE_KIND_CORRELATION, "corr-ps", "port_scan_vertical", TRIAGE_LEVEL_MEDIUM,
            tags_scan, 2, "value_count", T0 + 50 * MIN_US, 900, beacon, 3);
    triage_add(f.t, &in, NULL);
    assert_int_equal(f.rec.inc[3].stage, TRIAGE_STAGE_C2);
    assert_false(f.rec.inc[3].changed & TRIAGE_CHG_STAGE);
    fix_done(&f);
}

/* The level table through incidents: type x category x criticality. */
static void test_level_table(void **state)
{
    static const struct {
        const char *rule_name;
        const char *victim; /* destination.ip */
        enum triage_alert_level want;
    } cases[] = {
        {"worm_smb_rpc_spread", "10.30.4.8", TRIAGE_ORANGE},    /* damage, C, low: red-1 */
        {"worm_smb_rpc_spread", "198.51.100.80", TRIAGE_ORANGE}, /* damage, D, medium */
        {"worm_smb_rpc_spread", "10.20.3.18", TRIAGE_RED},      /* damage, B, medium */
        {"anomaly.beacon", "10.30.4.7", TRIAGE_RED},            /* intruded, C, critical */
        {"anomaly.beacon", "10.30.4.8", TRIAGE_YELLOW},         /* intruded, C, low */
        {"port_scan_horizontal", "10.30.4.7", TRIAGE_YELLOW},   /* probe, C, critical */
        {"port_scan_horizontal", "192.0.2.10", TRIAGE_GREEN},   /* probe, A, high */
        {"anomaly.rate", "172.16.0.9", TRIAGE_YELLOW},          /* anomalous, unknown -> A medium */
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fix f;
        struct triage_entity e[] = {{"source.ip", "203.0.113.9", TRIAGE_ROLE_ATTACKER},
                                    {"destination.ip", cases[i].victim, TRIAGE_ROLE_VICTIM}};
        struct triage_in in = mk(TRIAGE_KIND_CORRELATION, "c", cases[i].rule_name,
                                 TRIAGE_LEVEL_HIGH, NULL, 0, NULL, T0, 10, e, 2);
        fix_setup(&f, NULL, T0);
        triage_add(f.t, &in, NULL);
        assert_int_equal(f.rec.opened, 1);
        assert_int_equal(f.rec.inc[0].level, cases[i].want);
        fix_done(&f);
    }
}

/* The store's next ids as the pipeline gives them: no opinion (0), then
 * 100, then 50 (an id behind: triage must not go back), then nothing. */
static uint64_t next_id_calls;
static uint64_t cb_next_id(void *ctx)
{
    static const uint64_t seq[] = {0, 100, 50};
    (void)ctx;
    return next_id_calls < 3 ? seq[next_id_calls++] : 0;
}

static void test_caps_evict(void **state)
{
    struct fix f;
    struct triage_stats st;
    char ip[32];
    struct parse_err e;
    static const char small[] = "limits: {max_alerts: 8, max_entities: 8, max_incidents: 4}\n";

    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(triage_opts_parse(small, sizeof(small) - 1, NULL, T0, &f.o, &e), 0);
    asset_inv_init(&f.inv);
    struct triage_cb cb = {&f.rec, cb_alert_new, NULL, NULL, cb_opened, cb_updated, cb_next_id};
    uint64_t ids[4];
    size_t nids = 0;
    f.t = triage_new(f.o, &f.inv, &cb);
    next_id_calls = 0;
    for (int i = 0; i < 20; i++) {
        snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
        struct triage_entity en[] = {{"source.ip", ip, TRIAGE_ROLE_ATTACKER}};
        struct triage_in in = mk(TRIAGE_KIND_CORRELATION, "c", "ssh_bruteforce",
                                 TRIAGE_LEVEL_MEDIUM, tags_bruteforce, 2, "event_count",
                                 T0 + i * 1000000, 10, en, 1);
        assert_int_equal(triage_add(f.t, &in, NULL), 0);
    }
    /* Incident ids: triage's own, then the caller's, never going back. */
    for (size_t i = 0; i < f.rec.ninc_ev && nids < 4; i++)
        if (f.rec.inc[i].changed == 0)
            ids[nids++] = f.rec.inc[i].id;
    assert_int_equal(nids, 4);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 100);
    assert_int_equal(ids[2], 101);
    assert_int_equal(ids[3], 102);
    triage_stats(f.t, &st);
    assert_int_equal(st.aggregated, 20);
    assert_int_equal(st.live_alerts, 8);
    assert_int_equal(st.evicted_alerts, 12);
    assert_int_equal(st.live_entities, 8);
    assert_int_equal(st.evicted_entities, 12);
    assert_int_equal(st.incidents_opened, 20);
    assert_int_equal(st.live_incidents, 4);
    assert_int_equal(st.evicted_incidents, 16);
    /* Everything expires once event time has moved on. */
    triage_flush(f.t, T0 + 3 * HOUR_US);
    triage_stats(f.t, &st);
    assert_int_equal(st.live_alerts, 0);
    assert_int_equal(st.live_incidents, 0);
    fix_done(&f);
}

/* A stored aggregated alert is only as current as the last report of it.
 * Three ways its growth was lost (issue 21: 466 of 11,857 stale after a
 * replay, and count 1 a minute later live): the table's cap evicted it,
 * an alert past its window replaced it in memory, and reports waited for
 * event time to move.  Each of them reports the growth now. */
static void test_sync_growth(void **state)
{
    struct fix f;
    struct parse_err e;
    char ip[32];
    static const char small[] = "limits: {max_alerts: 2}\n";
    struct triage_entity en[] = {{"source.ip", ip, TRIAGE_ROLE_ATTACKER}};
    struct triage_in in;

    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(triage_opts_parse(small, sizeof(small) - 1, NULL, T0, &f.o, &e), 0);
    asset_inv_init(&f.inv);
    struct triage_cb cb = {&f.rec, cb_alert_new, cb_alert_updated, NULL, NULL, NULL, NULL};
    f.t = triage_new(f.o, &f.inv, &cb);
    assert_non_null(f.t);

    /* Sync: three folded into one, reported once with the whole count. */
    snprintf(ip, sizeof(ip), "203.0.113.1");
    for (int i = 0; i < 3; i++) {
        in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
                T0 + i * 1000000, 1, en, 1);
        assert_int_equal(triage_add(f.t, &in, NULL), 0);
    }
    assert_int_equal(f.rec.alerts_updated, 0);
    triage_sync(f.t);
    assert_int_equal(f.rec.alerts_updated, 1);
    assert_int_equal(f.rec.last_updated.count, 3);
    assert_int_equal(f.rec.last_updated.last_us, T0 + 2000000);
    triage_sync(f.t);
    assert_int_equal(f.rec.alerts_updated, 1); /* nothing grew since */

    /* Eviction: one more duplicate, then two other sources push it out of
     * a table of two before any sync: its count 4 is reported on the way. */
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
            T0 + 3000000, 1, en, 1);
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    for (int i = 2; i <= 3; i++) {
        snprintf(ip, sizeof(ip), "203.0.113.%d", i);
        in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
                T0 + 4000000, 1, en, 1);
        assert_int_equal(triage_add(f.t, &in, NULL), 0);
    }
    assert_int_equal(f.rec.alerts_updated, 2);
    assert_int_equal(f.rec.last_updated.count, 4);
    assert_int_equal(f.rec.last_updated.last_us, T0 + 3000000);
    assert_int_equal(f.rec.last_updated.first_us, T0);

    /* Past the window: source .3 grows, then an alert of it an hour later
     * starts a new aggregated alert; the old one's count 2 is reported
     * before memory lets it go. */
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
            T0 + 5000000, 1, en, 1);
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW, tags_bruteforce, 2, NULL,
            T0 + HOUR_US, 1, en, 1);
    assert_int_equal(triage_add(f.t, &in, NULL), 0);
    assert_int_equal(f.rec.alerts_updated, 3);
    assert_int_equal(f.rec.last_updated.count, 2);
    assert_int_equal(f.rec.last_updated.last_us, T0 + 5000000);
    assert_int_equal(f.rec.alerts_new, 4);
    triage_sync(f.t);
    assert_int_equal(f.rec.alerts_updated, 3); /* the new one has not grown */
    fix_done(&f);
}

/* ---- real data: the funnel over OpenSSH_2k ---- */

static void test_openssh_funnel(void **state)
{
    const char *shared = getenv("HIKESHI_SHARED");
    char path[1024], line[2048], ips[512][48];
    size_t nips = 0;
    unsigned long lines = 0, alerts = 0;
    struct fix f;
    struct triage_stats st;
    FILE *fp;

    (void)state;
    snprintf(path, sizeof(path), "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log",
             shared ? shared : "../shared");
    fp = fopen(path, "r");
    assert_non_null(fp); /* a missing sample fails */
    fix_setup(&f, NULL, T0);
    while (fgets(line, sizeof(line), fp)) {
        const char *from = strstr(line, "Failed password for ");
        char ip[48];
        int64_t t;
        size_t n = 0;

        lines++;
        if (!from || !(from = strstr(from, " from ")))
            continue;
        from += 6;
        while (from[n] && from[n] != ' ' && n < sizeof(ip) - 1) {
            ip[n] = from[n];
            n++;
        }
        ip[n] = '\0';
        /* Dec 10 in the sample; reference time a week later. */
        assert_int_equal(time_parse_rfc3164(line, strlen(line),
                                            INT64_C(1733788800000000) + 7 * 24 * HOUR_US, 0, NULL,
                                            &t, NULL),
                         0);
        struct triage_entity en[] = {{"source.ip", ip, TRIAGE_ROLE_ATTACKER},
                                     {"host.name", "LabSZ", TRIAGE_ROLE_VICTIM}};
        struct triage_in in = mk(TRIAGE_KIND_RULE, SSH_FAIL_ID, NULL, TRIAGE_LEVEL_LOW,
                                 tags_bruteforce, 2, NULL, t, 1, en, 2);
        assert_int_equal(triage_add(f.t, &in, NULL), 0);
        alerts++;
        size_t k = 0;
        while (k < nips && strcmp(ips[k], ip) != 0)
            k++;
        if (k == nips && nips < 512)
            snprintf(ips[nips++], sizeof(ips[0]), "%s", ip);
    }
    fclose(fp);
    triage_flush(f.t, INT64_MAX / 2);
    triage_stats(f.t, &st);
    printf("OpenSSH_2k: %lu lines, %lu failed-password alerts from %zu sources -> %llu "
           "aggregated alerts, %llu incidents (risk crossings %llu)\n",
           lines, alerts, nips, (unsigned long long)st.aggregated,
           (unsigned long long)st.incidents_opened, (unsigned long long)st.risk_crossings);
    assert_int_equal(lines, 2000);
    assert_true(alerts > 100);
    assert_int_equal(st.alerts_in, alerts);
    /* Conservation: every alert is in exactly one aggregated alert. */
    assert_int_equal(st.aggregated + st.duplicates, alerts);
    /* Each source is at least one aggregated alert, and dedup did fold. */
    assert_true(st.aggregated >= nips);
    assert_true(st.aggregated < alerts / 4);
    /* Low single alerts open incidents only through risk. */
    assert_true(st.incidents_opened <= st.risk_crossings);
    fix_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_equals_builtin),
        cmocka_unit_test(test_opts_errors),
        cmocka_unit_test(test_opts_risk),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_suppression),
        cmocka_unit_test(test_risk),
        cmocka_unit_test(test_ids_flood),
        cmocka_unit_test(test_ids_alone),
        cmocka_unit_test(test_risk_breadth_opens),
        cmocka_unit_test(test_ids_same_flow),
        cmocka_unit_test(test_risk_decays),
        cmocka_unit_test(test_open_lists),
        cmocka_unit_test(test_victim_risk),
        cmocka_unit_test(test_bruteforce_then_success),
        cmocka_unit_test(test_made),
        cmocka_unit_test(test_two_attackers_two_incidents),
        cmocka_unit_test(test_realms_apart),
        cmocka_unit_test(test_worm_damage),
        cmocka_unit_test(test_sudo_policy),
        cmocka_unit_test(test_kill_chain),
        cmocka_unit_test(test_level_table),
        cmocka_unit_test(test_caps_evict),
        cmocka_unit_test(test_sync_growth),
        cmocka_unit_test(test_openssh_funnel),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
