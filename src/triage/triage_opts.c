/*
 * triage_opts.c - the triage options (rules/config/triage.yaml): parsing,
 * validation with file:line:col errors, the built-in defaults, and the
 * names of incident types, kill-chain stages and levels they use.
 *
 * Kept apart from triage.c, which makes the decisions: this file only turns
 * YAML into a struct triage_opts and never sees an alert.
 */
#include "triage/triage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/time.h"
#include "util/limits.h"
#include "util/readfile.h"
#include "util/ydoc.h"

/* Suppressions one options set may hold. */
#define TRIAGE_MAX_SUPP 4096

#define US_PER_S INT64_C(1000000)

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* MISSION.md section 2's exact strings; the options name only the first
 * TRIAGE_TYPE_COUNT (get_type). */
static const char *const type_names[TRIAGE_TYPE_ALL_COUNT] = {
    "none",
    "complaints about rules",
    "new system / organisation change",
    "vulnerability present",
    "anomalous behaviour",
    "policy violation",
    "probe or attack without damage",
    "intruded, no damage yet",
    "damage manifest",
    "vulnerability information",
    "new virus outbreak",
    "attack trend",
    "incident at another organisation",
    "change of law/guidelines",
};

static const char *const stage_names[TRIAGE_STAGE_COUNT] = {
    "none",         "recon",        "weaponization",       "delivery",
    "exploitation", "installation", "command and control", "actions on objectives",
};

static const char *const level_names[4] = {"Green", "Yellow", "Orange", "Red"};

const char *triage_type_name(enum triage_type t)
{
    return (unsigned)t < TRIAGE_TYPE_ALL_COUNT ? type_names[t] : "none";
}

const char *triage_stage_name(enum triage_stage s)
{
    return (unsigned)s < TRIAGE_STAGE_COUNT ? stage_names[s] : "none";
}

const char *triage_level_name(enum triage_alert_level l)
{
    return (unsigned)l < 4 ? level_names[l] : "Green";
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

/* The defaults; rules/config/triage.yaml ships the same values with
 * comments, and test_triage checks that the two agree. */
static const char builtin_yaml[] =
    "dedup_window: 10m\n"
    "group_window: 1h\n"
    "risk:\n"
    "  half_life: 6h\n"
    "  threshold: 100\n"
    "  window: 24h\n"
    "  min_rules: 2\n"
    "  rule_bonus: 0.25\n"
    "  tactic_bonus: 0.5\n"
    "  level_weight: {informational: 0, low: 2, medium: 5, high: 15, critical: 40}\n"
    "  confidence_factor: {low: 0.5, medium: 1, high: 1.5}\n"
    "  criticality_factor: {low: 0.5, medium: 1, high: 1.5, critical: 2}\n"
    "assets: {files: [], default_criticality: medium, default_category: A}\n"
    "open_incident: {rule_min_level: high, other_min_level: medium, rules: [], risk_only: []}\n"
    "limits: {max_alerts: 10000, max_entities: 50000, max_incidents: 2000}\n"
    "types:\n"
    "  by_rule:\n"
    "    ssh_bruteforce: probe or attack without damage\n"
    "    ssh_bruteforce_success: intruded, no damage yet\n"
    "    db_bruteforce_success: intruded, no damage yet\n"
    "    ftp_bruteforce_success: intruded, no damage yet\n"
    "    port_scan_vertical: probe or attack without damage\n"
    "    port_scan_horizontal: probe or attack without damage\n"
    "    worm_smb_rpc_spread: damage manifest\n"
    "    sudo_abuse: policy violation\n"
    "    sudo_bruteforce: policy violation\n"
    "    anomaly.beacon: intruded, no damage yet\n"
    "    anomaly.rate: anomalous behaviour\n"
    "    anomaly.first_seen: anomalous behaviour\n"
    "    anomaly.first_seen_external: anomalous behaviour\n"
    "    anomaly.outbound_volume: damage manifest\n"
    "    anomaly.dns_tunnel: intruded, no damage yet\n"
    "    web_scanner_burst: probe or attack without damage\n"
    "    lnx_sudo_password_attempts_exhausted: policy violation\n"
    "    e0b76878-f492-4a6a-beda-9624f32d7b67: probe or attack without damage\n"
    "    b1a8d886-2225-4449-81fb-7859e5b0a630: probe or attack without damage\n"
    "    78ad086e-f49e-4c72-a6aa-d83fe30ec39c: probe or attack without damage\n"
    "    d8bdaf14-b3e4-4cc6-883f-94f28c8b7740: probe or attack without damage\n"
    "    540474e6-5a94-4638-b5bf-fdc2931f4b44: policy violation\n"
    "    0ab5b95d-7bc6-45ea-a1f9-02a5f854dcbb: policy violation\n"
    "  by_correlation:\n"
    "    temporal_ordered: intruded, no damage yet\n"
    "    temporal: probe or attack without damage\n"
    "    event_count: probe or attack without damage\n"
    "    value_count: probe or attack without damage\n"
    "  by_tag:\n"
    "    attack.impact: damage manifest\n"
    "    attack.exfiltration: damage manifest\n"
    "    attack.lateral_movement: damage manifest\n"
    "    attack.collection: intruded, no damage yet\n"
    "    attack.command_and_control: intruded, no damage yet\n"
    "    attack.persistence: intruded, no damage yet\n"
    "    attack.privilege_escalation: intruded, no damage yet\n"
    "    attack.defense_evasion: intruded, no damage yet\n"
    "    attack.execution: intruded, no damage yet\n"
    "    attack.credential_access: probe or attack without damage\n"
    "    attack.discovery: probe or attack without damage\n"
    "    attack.initial_access: probe or attack without damage\n"
    "    attack.reconnaissance: probe or attack without damage\n"
    "    attack.resource_development: probe or attack without damage\n"
    "    hikeshi.policy_violation: policy violation\n"
    "    hikeshi.vulnerability: vulnerability present\n"
    "    hikeshi.new_system: new system / organisation change\n"
    "    hikeshi.rule_complaint: complaints about rules\n"
    "  relayed_max: probe or attack without damage\n"
    "  default:\n"
    "    rule: probe or attack without damage\n"
    "    correlation: probe or attack without damage\n"
    "    anomaly: anomalous behaviour\n"
    "kill_chain:\n"
    "  reconnaissance: recon\n"
    "  resource_development: weaponization\n"
    "  initial_access: delivery\n"
    "  execution: exploitation\n"
    "  privilege_escalation: exploitation\n"
    "  credential_access: exploitation\n"
    "  persistence: installation\n"
    "  defense_evasion: installation\n"
    "  command_and_control: command and control\n"
    "  discovery: actions on objectives\n"
    "  lateral_movement: actions on objectives\n"
    "  collection: actions on objectives\n"
    "  exfiltration: actions on objectives\n"
    "  impact: actions on objectives\n"
    "levels:\n"
    "  damage manifest: {A: red, B: red, C: red, D: orange}\n"
    "  intruded, no damage yet: {A: orange, B: orange, C: orange, D: yellow}\n"
    "  probe or attack without damage: {A: green, B: green, C: green, D: green}\n"
    "  policy violation: {A: green, B: green, C: yellow, D: yellow}\n"
    "  anomalous behaviour: {A: yellow, B: yellow, C: yellow, D: yellow}\n"
    "  vulnerability present: {A: yellow, B: yellow, C: yellow, D: green}\n"
    "  new system / organisation change: {A: green, B: green, C: green, D: green}\n"
    "  complaints about rules: {A: green, B: green, C: green, D: yellow}\n"
    "criticality_adjust: {low: -1, medium: 0, high: 0, critical: 1}\n"
    "suppress: []\n";

static void map_free(struct triage_map *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(m[i].key);
    free(m);
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void supp_clear(struct triage_supp *s)
{
    free(s->id);
    free(s->reason);
    free(s->author);
    strv_free(s->rules, s->nrules);
    strv_free(s->fields, s->nfields);
    strv_free(s->values, s->nfields);
    free(s->nets);
    free(s->net_field);
    memset(s, 0, sizeof(*s));
}

void triage_opts_free(struct triage_opts *o)
{
    if (!o)
        return;
    free(o->path);
    map_free(o->type_by_rule, o->ntype_by_rule);
    map_free(o->type_by_corr, o->ntype_by_corr);
    map_free(o->type_by_tag, o->ntype_by_tag);
    map_free(o->stage_by_tactic, o->nstage_by_tactic);
    for (size_t i = 0; i < o->nsupp; i++)
        supp_clear(&o->supp[i]);
    free(o->supp);
    strv_free(o->asset_files, o->nasset_files);
    strv_free(o->open_rules, o->nopen_rules);
    strv_free(o->risk_only, o->nrisk_only);
    free(o);
}

/* The options being filled and the clock that decides expiry. */
struct oparse {
    struct triage_opts *o;
    int64_t now_us;
};

static struct triage_opts *opts(const struct ydoc *d)
{
    return ((struct oparse *)d->ctx)->o;
}

/* A count read as a number (so "1e3" is 1000, as it always was), whole. */
static int get_size(struct ydoc *d, yaml_node_t *n, size_t lo, size_t hi, size_t *ret)
{
    double v = 0;
    int r;

    if ((r = ydoc_double(d, n, (double)lo, (double)hi, NULL, &v)) < 0)
        return r;
    if (v != (double)(size_t)v)
        return ydoc_failf(d, n, "expected a whole number");
    *ret = (size_t)v;
    return 0;
}

static const char *const sigma_levels[6] = {"none",   "informational", "low",
                                            "medium", "high",          "critical"};

/* A scalar that must be one of names[1..count) (case-insensitive): *ret
 * gets its index.  names[0] is "none", which no option may name. */
static int get_named(struct ydoc *d, yaml_node_t *n, const char *const *names, int count,
                     const char *what, int *ret)
{
    int i = 0, r = ydoc_name(d, n, names + 1, (size_t)count - 1, 1, what, &i);

    if (r == 0)
        *ret = i + 1;
    return r;
}

static int get_sigma_level(struct ydoc *d, yaml_node_t *n, int *ret)
{
    return get_named(d, n, sigma_levels, 6,
                     "not a level (informational, low, medium, high, critical)", ret);
}

static int get_type(struct ydoc *d, yaml_node_t *n, int *ret)
{
    return get_named(d, n, type_names, TRIAGE_TYPE_COUNT,
                     "not an incident type of MISSION.md section 2", ret);
}

static int get_stage(struct ydoc *d, yaml_node_t *n, int *ret)
{
    return get_named(d, n, stage_names, TRIAGE_STAGE_COUNT, "not a kill-chain phase", ret);
}

/* ---- name -> type or stage maps ---- */

struct map_build {
    struct triage_map *v;
    size_t n;
    int (*val)(struct ydoc *, yaml_node_t *, int *);
};

static int map_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct map_build *b = arg;
    struct triage_map *m = &b->v[b->n];
    int r;

    if ((r = ydoc_strdup(d, k, 0, 0, &m->key)) < 0)
        return r;
    b->n++;
    return b->val(d, v, &m->value);
}

/* A mapping of name -> value (type or stage) replacing *ret_map. */
static int get_map(struct ydoc *d, yaml_node_t *m, int (*val)(struct ydoc *, yaml_node_t *, int *),
                   struct triage_map **ret_map, size_t *ret_n)
{
    struct map_build b = {NULL, 0, val};
    int r;

    if (!m || m->type != YAML_MAPPING_NODE)
        return ydoc_failf(d, m, "expected a mapping");
    b.v =
        calloc((size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) + 1, sizeof(*b.v));
    if (!b.v)
        return -ENOMEM;
    if ((r = ydoc_pairs(d, m, map_pair, &b)) < 0) {
        map_free(b.v, b.n);
        return r;
    }
    map_free(*ret_map, *ret_n);
    *ret_map = b.v;
    *ret_n = b.n;
    return 0;
}

static const char *const conf_names[TRIAGE_CONF_COUNT] = {"none", "low", "medium", "high"};

/* A list of rule names, ids or tags replacing *v. */
static int get_rule_list(struct ydoc *d, yaml_node_t *n, char ***v, size_t *nv)
{
    char **nl = NULL;
    size_t nn = 0;
    int r;

    if (!n || n->type != YAML_SEQUENCE_NODE)
        return ydoc_failf(d, n, "expected a list of rule names, ids or tags");
    if ((r = ydoc_strlist(d, n, SIZE_MAX, 0, 0, &nl, &nn)) < 0) {
        strv_free(nl, nn);
        return r;
    }
    strv_free(*v, *nv);
    *v = nl;
    *nv = nn;
    return 0;
}

/* ---- risk: ---- */

static int kw_half_life(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_duration(d, v, YDOC_DUR_BARE, &opts(d)->risk_half_life_us);
}

static int kw_threshold(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_double(d, v, 0.001, 1e9, NULL, &opts(d)->risk_threshold);
}

static int kw_window(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_duration(d, v, YDOC_DUR_BARE, &opts(d)->risk_window_us);
}

static int kw_min_rules(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    /* At most the distinct rules an entity remembers. */
    return get_size(d, v, 1, 16, &opts(d)->risk_min_rules);
}

static int kw_rule_bonus(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_double(d, v, 0, 10, NULL, &opts(d)->rule_bonus);
}

static int kw_tactic_bonus(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_double(d, v, 0, 10, NULL, &opts(d)->tactic_bonus);
}

static int conf_factor_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int c = 0, r;

    if ((r = get_named(d, k, conf_names, TRIAGE_CONF_COUNT, "not a confidence (low, medium, high)",
                       &c)) < 0)
        return r;
    return ydoc_double(d, v, 0, 1000, NULL, &opts(d)->conf_factor[c]);
}

static int kw_conf_factor(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_pairs(d, v, conf_factor_pair, NULL);
}

static int level_weight_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int l = 0, r;

    if ((r = get_named(d, k, sigma_levels, 6, "not a level", &l)) < 0)
        return r;
    return ydoc_double(d, v, 0, 1e6, NULL, &opts(d)->level_weight[l]);
}

static int kw_level_weight(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_pairs(d, v, level_weight_pair, NULL);
}

/* A criticality named by a key (low, medium, high, critical). */
static int get_crit_key(struct ydoc *d, yaml_node_t *k, enum asset_crit *ret)
{
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, k, &s, &len)) < 0)
        return r;
    if ((*ret = asset_crit_parse(s, len)) == ASSET_CRIT_NONE)
        return ydoc_fail(d, k, "not a criticality");
    return 0;
}

static int crit_factor_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    enum asset_crit c;
    int r;

    if ((r = get_crit_key(d, k, &c)) < 0)
        return r;
    return ydoc_double(d, v, 0, 1000, NULL, &opts(d)->crit_factor[c]);
}

static int kw_crit_factor(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_pairs(d, v, crit_factor_pair, NULL);
}

static const struct ydoc_key risk_keys[] = {
    {"confidence_factor", kw_conf_factor},
    {"criticality_factor", kw_crit_factor},
    {"half_life", kw_half_life},
    {"level_weight", kw_level_weight},
    {"min_rules", kw_min_rules},
    {"rule_bonus", kw_rule_bonus},
    {"tactic_bonus", kw_tactic_bonus},
    {"threshold", kw_threshold},
    {"window", kw_window},
};
static const struct ydoc_table risk_table = {risk_keys, YDOC_NKEYS(risk_keys), NULL, NULL};

/* ---- assets:, open_incident:, limits: ---- */

static int kw_asset_files(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct triage_opts *o = opts(d);

    if (!v || v->type != YAML_SEQUENCE_NODE)
        return ydoc_failf(d, v, "expected a list of files");
    strv_free(o->asset_files, o->nasset_files);
    o->asset_files = NULL;
    o->nasset_files = 0;
    return ydoc_strlist(d, v, SIZE_MAX, 0, 0, &o->asset_files, &o->nasset_files);
}

static int kw_default_crit(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if ((opts(d)->default_crit = asset_crit_parse(s, len)) == ASSET_CRIT_NONE)
        return ydoc_fail(d, v, "not a criticality (low, medium, high, critical)");
    return 0;
}

static int kw_default_cat(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if ((opts(d)->default_cat = asset_category_parse(s, len)) == ASSET_CAT_NONE)
        return ydoc_fail(d, v, "not a category (A, B, C, D)");
    return 0;
}

static const struct ydoc_key assets_keys[] = {
    {"default_category", kw_default_cat},
    {"default_criticality", kw_default_crit},
    {"files", kw_asset_files},
};
static const struct ydoc_table assets_table = {assets_keys, YDOC_NKEYS(assets_keys), NULL, NULL};

static int kw_rule_min_level(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_sigma_level(d, v, &opts(d)->open_min_level_rule);
}

static int kw_other_min_level(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_sigma_level(d, v, &opts(d)->open_min_level_other);
}

static int kw_open_rules(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_rule_list(d, v, &opts(d)->open_rules, &opts(d)->nopen_rules);
}

static int kw_risk_only(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_rule_list(d, v, &opts(d)->risk_only, &opts(d)->nrisk_only);
}

static const struct ydoc_key open_keys[] = {
    {"other_min_level", kw_other_min_level},
    {"risk_only", kw_risk_only},
    {"rule_min_level", kw_rule_min_level},
    {"rules", kw_open_rules},
};
static const struct ydoc_table open_table = {open_keys, YDOC_NKEYS(open_keys), NULL, NULL};

static int kw_max_alerts(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_size(d, v, 1, 10000000, &opts(d)->max_alerts);
}

static int kw_max_entities(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_size(d, v, 1, 10000000, &opts(d)->max_entities);
}

static int kw_max_incidents(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    /* At least 2 incidents: opening one must never evict the one the
     * current alert just joined. */
    return get_size(d, v, 2, 1000000, &opts(d)->max_incidents);
}

static const struct ydoc_key limits_keys[] = {
    {"max_alerts", kw_max_alerts},
    {"max_entities", kw_max_entities},
    {"max_incidents", kw_max_incidents},
};
static const struct ydoc_table limits_table = {limits_keys, YDOC_NKEYS(limits_keys), NULL, NULL};

/* ---- types:, levels:, criticality_adjust: ---- */

static int kw_by_rule(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_map(d, v, get_type, &opts(d)->type_by_rule, &opts(d)->ntype_by_rule);
}

static int kw_by_corr(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_map(d, v, get_type, &opts(d)->type_by_corr, &opts(d)->ntype_by_corr);
}

static int kw_by_tag(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_map(d, v, get_type, &opts(d)->type_by_tag, &opts(d)->ntype_by_tag);
}

static int kw_relayed_max(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_type(d, v, &opts(d)->relayed_max_type);
}

static int kw_default_rule(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_type(d, v, &opts(d)->type_default[TRIAGE_KIND_RULE]);
}

static int kw_default_corr(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_type(d, v, &opts(d)->type_default[TRIAGE_KIND_CORRELATION]);
}

static int kw_default_anomaly(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_type(d, v, &opts(d)->type_default[TRIAGE_KIND_ANOMALY]);
}

static const struct ydoc_key default_keys[] = {
    {"anomaly", kw_default_anomaly},
    {"correlation", kw_default_corr},
    {"rule", kw_default_rule},
};
static const struct ydoc_table default_table = {default_keys, YDOC_NKEYS(default_keys), NULL,
                                                "unknown kind (rule, correlation, anomaly)"};

static int kw_type_default(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &default_table, NULL);
}

static const struct ydoc_key types_keys[] = {
    {"by_correlation", kw_by_corr}, {"by_rule", kw_by_rule},         {"by_tag", kw_by_tag},
    {"default", kw_type_default},   {"relayed_max", kw_relayed_max},
};
static const struct ydoc_table types_table = {types_keys, YDOC_NKEYS(types_keys), NULL, NULL};

static const char *const color_names[4] = {"green", "yellow", "orange", "red"};

/* One cell of the level table: category -> colour, for the type in arg. */
static int level_cell(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const int *t = arg;
    enum asset_category c;
    const char *s;
    size_t len;
    int r, l = 0;

    if ((r = ydoc_str(d, k, &s, &len)) < 0)
        return r;
    if ((c = asset_category_parse(s, len)) == ASSET_CAT_NONE)
        return ydoc_fail(d, k, "not a category (A, B, C, D)");
    if ((r = ydoc_name(d, v, color_names, 4, 1, "not a level (green, yellow, orange, red)", &l)) <
        0)
        return r;
    opts(d)->level_table[*t][c] = l;
    return 0;
}

static int level_row(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int t = 0, r;

    if ((r = get_type(d, k, &t)) < 0)
        return r;
    return ydoc_pairs(d, v, level_cell, &t);
}

static int kw_levels(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_pairs(d, v, level_row, NULL);
}

static int crit_adjust_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    enum asset_crit c;
    double x;
    int r;

    if ((r = get_crit_key(d, k, &c)) < 0 || (r = ydoc_double(d, v, -3, 3, NULL, &x)) < 0)
        return r;
    if (x != (int)x)
        return ydoc_failf(d, v, "expected a whole number");
    opts(d)->crit_adjust[c] = (int)x;
    return 0;
}

static int kw_crit_adjust(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_pairs(d, v, crit_adjust_pair, NULL);
}

/* ---- suppress: ---- */

static int get_expiry(struct ydoc *d, yaml_node_t *n, int64_t *ret)
{
    char buf[40];
    const char *s;
    size_t len, used;
    int r;

    if ((r = ydoc_str(d, n, &s, &len)) < 0)
        return r;
    /* A bare date means the start of that day, UTC. */
    if (len == 10 && s[4] == '-' && s[7] == '-') {
        memcpy(buf, s, 10);
        memcpy(buf + 10, "T00:00:00Z", 10);
        s = buf;
        len = 20;
    }
    if (time_parse_iso8601(s, len, 0, ret, &used) < 0 || used != len)
        return ydoc_fail(d, n, "expires is not an ISO 8601 date or time");
    return 0;
}

/* One suppression while it is read. */
struct supp_build {
    struct triage_supp *s;
    int has_exp;
};

static int kw_supp_id(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct supp_build *)arg)->s->id);
}

static int kw_supp_reason(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct supp_build *)arg)->s->reason);
}

static int kw_supp_author(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct supp_build *)arg)->s->author);
}

static int kw_supp_expires(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct supp_build *b = arg;

    b->has_exp = 1;
    return get_expiry(d, v, &b->s->expires_us);
}

static int kw_supp_rule(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct triage_supp *s = ((struct supp_build *)arg)->s;

    return ydoc_strlist(d, v, SIZE_MAX, 0, 0, &s->rules, &s->nrules);
}

static int kw_supp_cidr_field(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct supp_build *)arg)->s->net_field);
}

static int kw_supp_cidr(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct triage_supp *s = ((struct supp_build *)arg)->s;
    char **nets = NULL;
    size_t nn = 0;
    int r;

    if ((r = ydoc_strlist(d, v, SIZE_MAX, 0, 0, &nets, &nn)) == 0) {
        free(s->nets);
        s->nets = calloc(nn ? nn : 1, sizeof(*s->nets));
        if (!s->nets)
            r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < nn; i++) {
            if (asset_net_parse(nets[i], strlen(nets[i]), &s->nets[i]) < 0)
                r = ydoc_fail(d, v, "bad CIDR in suppression");
        }
        s->nnets = r == 0 ? nn : 0;
    }
    strv_free(nets, nn);
    return r;
}

/* match: field: value or [values]; one (field, value) pair per value, a
 * list meaning any of them. */
static int supp_match_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct triage_supp *s = ((struct supp_build *)arg)->s;
    char **vals = NULL;
    size_t nvals = 0;
    int r;

    if ((r = ydoc_strlist(d, v, SIZE_MAX, 0, 0, &vals, &nvals)) == 0) {
        for (size_t i = 0; r == 0 && i < nvals; i++) {
            char **f = realloc(s->fields, (s->nfields + 1) * sizeof(*f));
            char **x = f ? realloc(s->values, (s->nfields + 1) * sizeof(*x)) : NULL;
            if (f)
                s->fields = f;
            if (x)
                s->values = x;
            if (!f || !x) {
                r = -ENOMEM;
                break;
            }
            f[s->nfields] = NULL;
            if ((r = ydoc_strdup(d, k, 0, 0, &f[s->nfields])) < 0)
                break;
            x[s->nfields] = vals[i];
            vals[i] = NULL;
            s->nfields++;
        }
    }
    strv_free(vals, nvals);
    return r;
}

static int kw_supp_match(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_pairs(d, v, supp_match_pair, arg);
}

static const struct ydoc_key supp_keys[] = {
    {"author", kw_supp_author},   {"cidr", kw_supp_cidr}, {"cidr_field", kw_supp_cidr_field},
    {"expires", kw_supp_expires}, {"id", kw_supp_id},     {"match", kw_supp_match},
    {"reason", kw_supp_reason},   {"rule", kw_supp_rule},
};
static const struct ydoc_table supp_table = {supp_keys, YDOC_NKEYS(supp_keys), NULL, NULL};

static int supp_one(struct ydoc *d, yaml_node_t *m, struct triage_supp *s, size_t idx)
{
    struct supp_build b = {s, 0};
    int r;

    s->line = ydoc_line(m);
    if ((r = ydoc_walk(d, m, &supp_table, &b)) < 0)
        return r;
    if (!s->reason || !*s->reason)
        return ydoc_fail(d, m, "suppression needs a reason");
    if (!s->author || !*s->author)
        return ydoc_fail(d, m, "suppression needs an author");
    if (!b.has_exp)
        return ydoc_fail(d, m, "suppression needs an expiry (expires)");
    if (!s->nrules && !s->nfields && !s->nnets)
        return ydoc_fail(d, m, "suppression needs at least one of rule, match, cidr");
    if (!s->id) {
        char buf[32];
        snprintf(buf, sizeof(buf), "#%zu", idx + 1);
        if (!(s->id = strdup(buf)))
            return -ENOMEM;
    }
    s->expired = s->expires_us <= ((struct oparse *)d->ctx)->now_us;
    return 0;
}

static int kw_suppress(struct ydoc *d, yaml_node_t *k, yaml_node_t *n, void *arg)
{
    struct triage_opts *o = opts(d);
    size_t cnt;
    int r;

    if (!n || n->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, n, "expected a list of suppressions");
    (void)ydoc_list(d, n, 0, SIZE_MAX, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *item = ydoc_list_at(d, n, i);
        struct triage_supp *nv;

        if (o->nsupp >= TRIAGE_MAX_SUPP)
            return ydoc_fail(d, item, "too many suppressions");
        nv = realloc(o->supp, (o->nsupp + 1) * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        o->supp = nv;
        memset(&nv[o->nsupp], 0, sizeof(*nv));
        if ((r = supp_one(d, item, &nv[o->nsupp], o->nsupp)) < 0) {
            supp_clear(&nv[o->nsupp]);
            return r;
        }
        if (nv[o->nsupp].expired)
            o->nsupp_expired++;
        o->nsupp++;
    }
    return 0;
}

/* ---- the file ---- */

static int kw_dedup_window(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_duration(d, v, YDOC_DUR_BARE, &opts(d)->dedup_window_us);
}

static int kw_group_window(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_duration(d, v, YDOC_DUR_BARE, &opts(d)->group_window_us);
}

static int kw_risk(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &risk_table, NULL);
}

static int kw_assets(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &assets_table, NULL);
}

static int kw_open(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &open_table, NULL);
}

static int kw_limits(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &limits_table, NULL);
}

static int kw_types(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &types_table, NULL);
}

static int kw_kill_chain(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_map(d, v, get_stage, &opts(d)->stage_by_tactic, &opts(d)->nstage_by_tactic);
}

static const struct ydoc_key top_keys[] = {
    {"assets", kw_assets},
    {"criticality_adjust", kw_crit_adjust},
    {"dedup_window", kw_dedup_window},
    {"group_window", kw_group_window},
    {"kill_chain", kw_kill_chain},
    {"levels", kw_levels},
    {"limits", kw_limits},
    {"open_incident", kw_open},
    {"risk", kw_risk},
    {"suppress", kw_suppress},
    {"types", kw_types},
};
static const struct ydoc_table top_table = {top_keys, YDOC_NKEYS(top_keys), NULL, NULL};

/* A suppression file holds suppressions only. */
static const struct ydoc_key supp_file_keys[] = {{"suppress", kw_suppress}};
static const struct ydoc_table supp_file_table = {
    supp_file_keys, YDOC_NKEYS(supp_file_keys), NULL,
    "only `suppress` is allowed in a suppression file"};

static int parse_into(struct triage_opts *o, const char *text, size_t len, int64_t now_us,
                      int suppress_only, struct parse_err *reterr)
{
    struct oparse p = {o, now_us};
    struct ydoc d;
    yaml_node_t *root;
    int r;

    r = ydoc_load(&d, text, len, reterr);
    d.ctx = &p;
    if (r == 0 && (root = ydoc_root(&d)))
        r = ydoc_walk(&d, root, suppress_only ? &supp_file_table : &top_table, NULL);
    ydoc_done(&d);
    return r;
}

/* Deep copy, so that a failed parse leaves the caller's options intact. */
static struct triage_opts *opts_new(void)
{
    struct triage_opts *o = calloc(1, sizeof(struct triage_opts));

    /* A detector that states no confidence weighs as medium. */
    if (o)
        o->conf_factor[TRIAGE_CONF_NONE] = 1;
    return o;
}

struct triage_opts *triage_opts_defaults(void)
{
    struct triage_opts *o = opts_new();
    struct parse_err e;

    if (!o)
        return NULL;
    if (parse_into(o, builtin_yaml, sizeof(builtin_yaml) - 1, 0, 0, &e) < 0) {
        /* Only OOM can fail here: test_triage parses the built-in text. */
        triage_opts_free(o);
        return NULL;
    }
    return o;
}

int triage_opts_parse(const char *text, size_t len, const char *name, int64_t now_us,
                      struct triage_opts **ret, struct parse_err *reterr)
{
    struct triage_opts *o;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (!(o = triage_opts_defaults()))
        return -ENOMEM;
    if (name && !(o->path = strdup(name))) {
        triage_opts_free(o);
        return -ENOMEM;
    }
    if ((r = parse_into(o, text, len, now_us, 0, reterr)) < 0) {
        triage_opts_free(o);
        return r;
    }
    *ret = o;
    return 0;
}

int triage_opts_load(const char *path, int64_t now_us, struct triage_opts **ret,
                     struct parse_err *reterr)
{
    char *text;
    size_t len;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if ((r = readfile_all(path, LIMIT_CONFIG_BYTES, &text, &len)) < 0)
        return r;
    r = triage_opts_parse(text, len, path, now_us, ret, reterr);
    free(text);
    return r;
}

int triage_opts_load_suppress(struct triage_opts *o, const char *text, size_t len, int64_t now_us,
                              struct parse_err *reterr)
{
    size_t n0 = o->nsupp, e0 = o->nsupp_expired;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    r = parse_into(o, text, len, now_us, 1, reterr);
    if (r < 0) {
        for (size_t i = n0; i < o->nsupp; i++)
            supp_clear(&o->supp[i]);
        o->nsupp = n0;
        o->nsupp_expired = e0;
    }
    return r;
}
