/*
 * triage_opts.c - the triage options (rules/config/triage.yaml): parsing,
 * validation with file:line:col errors, the built-in defaults, and the
 * names of incident types, kill-chain stages and levels they use.
 *
 * Kept apart from triage.c, which makes the decisions: this file only turns
 * YAML into a struct triage_opts and never sees an alert.
 */
#include "triage/triage.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "event/time.h"
#include "util/limits.h"
#include "util/readfile.h"

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

struct oparse {
    yaml_document_t *doc;
    struct triage_opts *o;
    struct parse_err *err;
    int64_t now_us;
};

static int perr(struct oparse *p, const yaml_node_t *n, const char *msg)
{
    if (p->err) {
        p->err->line = n ? (unsigned)n->start_mark.line + 1 : 0;
        p->err->col = n ? (unsigned)n->start_mark.column + 1 : 0;
        p->err->off = n ? n->start_mark.index : 0;
        p->err->msg = msg;
    }
    return -EINVAL;
}

static yaml_node_t *node(struct oparse *p, int i)
{
    return yaml_document_get_node(p->doc, i);
}

/* The scalar's text (NUL-terminated by libyaml) and length, or NULL. */
static const char *sc(const yaml_node_t *n, size_t *ret_len)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    if (ret_len)
        *ret_len = n->data.scalar.length;
    return (const char *)n->data.scalar.value;
}

/* On failure *ret is NULL and *ret_len 0: callers never see an unset length. */
static int need_scalar(struct oparse *p, yaml_node_t *n, const char **ret, size_t *ret_len)
{
    *ret_len = 0;
    if (!(*ret = sc(n, ret_len)))
        return perr(p, n, "expected a scalar");
    if (memchr(*ret, '\0', *ret_len))
        return perr(p, n, "NUL byte in value");
    return 0;
}

static int need_map(struct oparse *p, yaml_node_t *n)
{
    return n && n->type == YAML_MAPPING_NODE ? 0 : perr(p, n, "expected a mapping");
}

static int dup_scalar(struct oparse *p, yaml_node_t *n, char **dst)
{
    const char *s;
    size_t len;
    char *d;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if (!(d = strndup(s, len)))
        return -ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

/* "30s", "10m", "1h", "2d", or plain seconds; > 0 and at most a year. */
static int get_duration(struct oparse *p, yaml_node_t *n, int64_t *ret)
{
    const char *s;
    size_t len, i = 0;
    int64_t v = 0, mul = US_PER_S;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    while (i < len && isdigit((unsigned char)s[i]) && v < INT64_C(100000000))
        v = v * 10 + (s[i++] - '0');
    if (i == 0)
        return perr(p, n, "expected a duration such as 10m or 6h");
    if (i + 1 == len) {
        switch (s[i]) {
        case 's': break;
        case 'm': mul *= 60; break;
        case 'h': mul *= 3600; break;
        case 'd': mul *= 86400; break;
        default: return perr(p, n, "duration unit is not s, m, h or d");
        }
    } else if (i != len) {
        return perr(p, n, "expected a duration such as 10m or 6h");
    }
    if (v <= 0 || v * (mul / US_PER_S) > 366 * 86400)
        return perr(p, n, "duration must be positive and at most a year");
    *ret = v * mul;
    return 0;
}

static int get_double(struct oparse *p, yaml_node_t *n, double lo, double hi, double *ret)
{
    char buf[64], *end;
    const char *s;
    size_t len;
    double v;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if (len == 0 || len >= sizeof(buf))
        return perr(p, n, "expected a number");
    memcpy(buf, s, len);
    buf[len] = '\0';
    v = strtod(buf, &end);
    if (*end || !(v >= lo && v <= hi))
        return perr(p, n, "number out of range");
    *ret = v;
    return 0;
}

static int get_size(struct oparse *p, yaml_node_t *n, size_t lo, size_t hi, size_t *ret)
{
    double v = 0;
    int r;

    if ((r = get_double(p, n, (double)lo, (double)hi, &v)) < 0)
        return r;
    if (v != (double)(size_t)v)
        return perr(p, n, "expected a whole number");
    *ret = (size_t)v;
    return 0;
}

static int lookup_name(const char *s, size_t len, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0)
            return i;
    return -1;
}

static const char *const sigma_levels[6] = {"none",   "informational", "low",
                                            "medium", "high",          "critical"};

/* A scalar that must be one of names[1..n): *ret gets its index. */
static int get_named(struct oparse *p, yaml_node_t *n, const char *const *names, int count,
                     const char *what, int *ret)
{
    const char *s;
    size_t len;
    int r, v;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if ((v = lookup_name(s, len, names, count)) <= 0)
        return perr(p, n, what);
    *ret = v;
    return 0;
}

static int get_sigma_level(struct oparse *p, yaml_node_t *n, int *ret)
{
    return get_named(p, n, sigma_levels, 6,
                     "not a level (informational, low, medium, high, critical)", ret);
}

static int get_type(struct oparse *p, yaml_node_t *n, int *ret)
{
    return get_named(p, n, type_names, TRIAGE_TYPE_COUNT,
                     "not an incident type of MISSION.md section 2", ret);
}

static int get_stage(struct oparse *p, yaml_node_t *n, int *ret)
{
    return get_named(p, n, stage_names, TRIAGE_STAGE_COUNT, "not a kill-chain phase", ret);
}

/* Iterates the pairs of mapping `m` with iterator `it`: k, v are set for
 * the body.  `it` is an identifier; the parentheses around it, even in the
 * declarator, are valid C and keep the argument from mixing with operators. */
#define EACH_PAIR(p, m, it, k, v)                                                                  \
    for (yaml_node_pair_t * (it) = (m)->data.mapping.pairs.start;                                  \
         (it) < (m)->data.mapping.pairs.top &&                                                     \
         ((k) = node((p), (it)->key), (v) = node((p), (it)->value), 1);                            \
         (it)++)

static int key_is(yaml_node_t *k, const char *name)
{
    size_t len;
    const char *s = sc(k, &len);

    return s && strlen(name) == len && memcmp(s, name, len) == 0;
}

/* A mapping of name -> value (type or stage) replacing *ret_map. */
static int get_map(struct oparse *p, yaml_node_t *m,
                   int (*val)(struct oparse *, yaml_node_t *, int *), struct triage_map **ret_map,
                   size_t *ret_n)
{
    struct triage_map *v = NULL;
    size_t n = 0;
    yaml_node_t *k, *x;
    int r = 0;

    if ((r = need_map(p, m)) < 0)
        return r;
    v = calloc(m->data.mapping.pairs.top - m->data.mapping.pairs.start + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    EACH_PAIR(p, m, out_, k, x)
    {
        const char *ks;
        size_t klen;
        if ((r = need_scalar(p, k, &ks, &klen)) < 0 || (r = val(p, x, &v[n].value)) < 0)
            goto out;
        if (!(v[n].key = strndup(ks, klen))) {
            r = -ENOMEM;
            goto out;
        }
        n++;
    }
    map_free(*ret_map, *ret_n);
    *ret_map = v;
    *ret_n = n;
    v = NULL;
out:
    if (v)
        map_free(v, n);
    return r;
}

static const char *const conf_names[TRIAGE_CONF_COUNT] = {"none", "low", "medium", "high"};

static int get_strs(struct oparse *p, yaml_node_t *n, char ***v, size_t *nv);

/* A list of rule names, ids or tags replacing *v. */
static int get_rule_list(struct oparse *p, yaml_node_t *n, char ***v, size_t *nv)
{
    char **nl = NULL;
    size_t nn = 0;
    int r;

    if (!n || n->type != YAML_SEQUENCE_NODE)
        return perr(p, n, "expected a list of rule names, ids or tags");
    if ((r = get_strs(p, n, &nl, &nn)) < 0) {
        strv_free(nl, nn);
        return r;
    }
    strv_free(*v, *nv);
    *v = nl;
    *nv = nn;
    return 0;
}

static int kw_risk(struct oparse *p, yaml_node_t *m)
{
    struct triage_opts *o = p->o;
    yaml_node_t *k, *v, *k2, *v2;
    int r;

    if ((r = need_map(p, m)) < 0)
        return r;
    EACH_PAIR(p, m, out_, k, v)
    {
        if (key_is(k, "half_life"))
            r = get_duration(p, v, &o->risk_half_life_us);
        else if (key_is(k, "threshold"))
            r = get_double(p, v, 0.001, 1e9, &o->risk_threshold);
        else if (key_is(k, "window"))
            r = get_duration(p, v, &o->risk_window_us);
        else if (key_is(k, "min_rules"))
            /* At most the distinct rules an entity remembers. */
            r = get_size(p, v, 1, 16, &o->risk_min_rules);
        else if (key_is(k, "rule_bonus"))
            r = get_double(p, v, 0, 10, &o->rule_bonus);
        else if (key_is(k, "tactic_bonus"))
            r = get_double(p, v, 0, 10, &o->tactic_bonus);
        else if (key_is(k, "confidence_factor") && (r = need_map(p, v)) == 0) {
            EACH_PAIR(p, v, in_, k2, v2)
            {
                const char *s;
                size_t len;
                int c;
                if ((r = need_scalar(p, k2, &s, &len)) < 0)
                    return r;
                if ((c = lookup_name(s, len, conf_names, TRIAGE_CONF_COUNT)) <= 0)
                    return perr(p, k2, "not a confidence (low, medium, high)");
                if ((r = get_double(p, v2, 0, 1000, &o->conf_factor[c])) < 0)
                    return r;
            }
        } else if (key_is(k, "level_weight") && (r = need_map(p, v)) == 0) {
            EACH_PAIR(p, v, in_, k2, v2)
            {
                const char *s;
                size_t len;
                int l;
                if ((r = need_scalar(p, k2, &s, &len)) < 0)
                    return r;
                if ((l = lookup_name(s, len, sigma_levels, 6)) <= 0)
                    return perr(p, k2, "not a level");
                if ((r = get_double(p, v2, 0, 1e6, &o->level_weight[l])) < 0)
                    return r;
            }
        } else if (key_is(k, "criticality_factor") && (r = need_map(p, v)) == 0) {
            EACH_PAIR(p, v, in_, k2, v2)
            {
                const char *s;
                size_t len;
                enum asset_crit c;
                if ((r = need_scalar(p, k2, &s, &len)) < 0)
                    return r;
                if ((c = asset_crit_parse(s, len)) == ASSET_CRIT_NONE)
                    return perr(p, k2, "not a criticality");
                if ((r = get_double(p, v2, 0, 1000, &o->crit_factor[c])) < 0)
                    return r;
            }
        } else if (r == 0)
            r = perr(p, k, "unknown key in risk");
        if (r < 0)
            return r;
    }
    return 0;
}

static int kw_assets(struct oparse *p, yaml_node_t *m)
{
    struct triage_opts *o = p->o;
    yaml_node_t *k, *v;
    const char *s;
    size_t len;
    int r;

    if ((r = need_map(p, m)) < 0)
        return r;
    EACH_PAIR(p, m, out_, k, v)
    {
        if (key_is(k, "files")) {
            if (!v || v->type != YAML_SEQUENCE_NODE)
                return perr(p, v, "expected a list of files");
            strv_free(o->asset_files, o->nasset_files);
            o->asset_files = NULL;
            o->nasset_files = 0;
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                char **nv = realloc(o->asset_files, (o->nasset_files + 1) * sizeof(*nv));
                if (!nv)
                    return -ENOMEM;
                o->asset_files = nv;
                nv[o->nasset_files] = NULL;
                if ((r = dup_scalar(p, node(p, *it), &nv[o->nasset_files])) < 0)
                    return r;
                o->nasset_files++;
            }
        } else if (key_is(k, "default_criticality")) {
            if ((r = need_scalar(p, v, &s, &len)) < 0)
                return r;
            if ((o->default_crit = asset_crit_parse(s, len)) == ASSET_CRIT_NONE)
                return perr(p, v, "not a criticality (low, medium, high, critical)");
        } else if (key_is(k, "default_category")) {
            if ((r = need_scalar(p, v, &s, &len)) < 0)
                return r;
            if ((o->default_cat = asset_category_parse(s, len)) == ASSET_CAT_NONE)
                return perr(p, v, "not a category (A, B, C, D)");
        } else {
            return perr(p, k, "unknown key in assets");
        }
    }
    return 0;
}

static int kw_open(struct oparse *p, yaml_node_t *m)
{
    yaml_node_t *k, *v;
    int r;

    if ((r = need_map(p, m)) < 0)
        return r;
    EACH_PAIR(p, m, out_, k, v)
    {
        if (key_is(k, "rule_min_level"))
            r = get_sigma_level(p, v, &p->o->open_min_level_rule);
        else if (key_is(k, "other_min_level"))
            r = get_sigma_level(p, v, &p->o->open_min_level_other);
        else if (key_is(k, "rules"))
            r = get_rule_list(p, v, &p->o->open_rules, &p->o->nopen_rules);
        else if (key_is(k, "risk_only"))
            r = get_rule_list(p, v, &p->o->risk_only, &p->o->nrisk_only);
        else
            r = perr(p, k, "unknown key in open_incident");
        if (r < 0)
            return r;
    }
    return 0;
}

static int kw_limits(struct oparse *p, yaml_node_t *m)
{
    yaml_node_t *k, *v;
    int r;

    if ((r = need_map(p, m)) < 0)
        return r;
    EACH_PAIR(p, m, out_, k, v)
    {
        /* At least 2 incidents: opening one must never evict the one the
         * current alert just joined. */
        if (key_is(k, "max_alerts"))
            r = get_size(p, v, 1, 10000000, &p->o->max_alerts);
        else if (key_is(k, "max_entities"))
            r = get_size(p, v, 1, 10000000, &p->o->max_entities);
        else if (key_is(k, "max_incidents"))
            r = get_size(p, v, 2, 1000000, &p->o->max_incidents);
        else
            r = perr(p, k, "unknown key in limits");
        if (r < 0)
            return r;
    }
    return 0;
}

static int kw_types(struct oparse *p, yaml_node_t *m)
{
    struct triage_opts *o = p->o;
    yaml_node_t *k, *v, *k2, *v2;
    int r;

    if ((r = need_map(p, m)) < 0)
        return r;
    EACH_PAIR(p, m, out_, k, v)
    {
        if (key_is(k, "by_rule"))
            r = get_map(p, v, get_type, &o->type_by_rule, &o->ntype_by_rule);
        else if (key_is(k, "by_correlation"))
            r = get_map(p, v, get_type, &o->type_by_corr, &o->ntype_by_corr);
        else if (key_is(k, "by_tag"))
            r = get_map(p, v, get_type, &o->type_by_tag, &o->ntype_by_tag);
        else if (key_is(k, "relayed_max"))
            r = get_type(p, v, &o->relayed_max_type);
        else if (key_is(k, "default") && (r = need_map(p, v)) == 0) {
            EACH_PAIR(p, v, in_, k2, v2)
            {
                if (key_is(k2, "rule"))
                    r = get_type(p, v2, &o->type_default[TRIAGE_KIND_RULE]);
                else if (key_is(k2, "correlation"))
                    r = get_type(p, v2, &o->type_default[TRIAGE_KIND_CORRELATION]);
                else if (key_is(k2, "anomaly"))
                    r = get_type(p, v2, &o->type_default[TRIAGE_KIND_ANOMALY]);
                else
                    r = perr(p, k2, "unknown kind (rule, correlation, anomaly)");
                if (r < 0)
                    return r;
            }
        } else if (r == 0)
            r = perr(p, k, "unknown key in types");
        if (r < 0)
            return r;
    }
    return 0;
}

static const char *const color_names[4] = {"green", "yellow", "orange", "red"};

static int kw_levels(struct oparse *p, yaml_node_t *m)
{
    yaml_node_t *k, *v, *k2, *v2;
    const char *s;
    size_t len;
    int r, t, l;
    enum asset_category c;

    if ((r = need_map(p, m)) < 0)
        return r;
    EACH_PAIR(p, m, out_, k, v)
    {
        if ((r = get_type(p, k, &t)) < 0 || (r = need_map(p, v)) < 0)
            return r;
        EACH_PAIR(p, v, in_, k2, v2)
        {
            if ((r = need_scalar(p, k2, &s, &len)) < 0)
                return r;
            if ((c = asset_category_parse(s, len)) == ASSET_CAT_NONE)
                return perr(p, k2, "not a category (A, B, C, D)");
            if ((r = need_scalar(p, v2, &s, &len)) < 0)
                return r;
            if ((l = lookup_name(s, len, color_names, 4)) < 0)
                return perr(p, v2, "not a level (green, yellow, orange, red)");
            p->o->level_table[t][c] = l;
        }
    }
    return 0;
}

static int kw_crit_adjust(struct oparse *p, yaml_node_t *m)
{
    yaml_node_t *k, *v;
    const char *s;
    size_t len;
    enum asset_crit c;
    double d;
    int r;

    if ((r = need_map(p, m)) < 0)
        return r;
    EACH_PAIR(p, m, out_, k, v)
    {
        if ((r = need_scalar(p, k, &s, &len)) < 0)
            return r;
        if ((c = asset_crit_parse(s, len)) == ASSET_CRIT_NONE)
            return perr(p, k, "not a criticality");
        if ((r = get_double(p, v, -3, 3, &d)) < 0)
            return r;
        if (d != (int)d)
            return perr(p, v, "expected a whole number");
        p->o->crit_adjust[c] = (int)d;
    }
    return 0;
}

/* Appends every scalar of a scalar-or-sequence node to *v. */
static int get_strs(struct oparse *p, yaml_node_t *n, char ***v, size_t *nv)
{
    yaml_node_item_t one, *start, *top;
    int r;

    if (n && n->type == YAML_SEQUENCE_NODE) {
        start = n->data.sequence.items.start;
        top = n->data.sequence.items.top;
    } else {
        one = 0;
        start = &one;
        top = start + 1;
    }
    for (yaml_node_item_t *it = start; it < top; it++) {
        yaml_node_t *x = it == &one ? n : node(p, *it);
        char **nv2 = realloc(*v, (*nv + 1) * sizeof(**v));
        if (!nv2)
            return -ENOMEM;
        *v = nv2;
        nv2[*nv] = NULL;
        if ((r = dup_scalar(p, x, &nv2[*nv])) < 0) {
            free(nv2[*nv]);
            return r;
        }
        (*nv)++;
    }
    return 0;
}

static int get_expiry(struct oparse *p, yaml_node_t *n, int64_t *ret)
{
    char buf[40];
    const char *s;
    size_t len, used;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    /* A bare date means the start of that day, UTC. */
    if (len == 10 && s[4] == '-' && s[7] == '-') {
        memcpy(buf, s, 10);
        memcpy(buf + 10, "T00:00:00Z", 10);
        s = buf;
        len = 20;
    }
    if (time_parse_iso8601(s, len, 0, ret, &used) < 0 || used != len)
        return perr(p, n, "expires is not an ISO 8601 date or time");
    return 0;
}

static int supp_one(struct oparse *p, yaml_node_t *m, struct triage_supp *s, size_t idx)
{
    yaml_node_t *k, *v, *k2, *v2;
    int r, has_exp = 0;

    if ((r = need_map(p, m)) < 0)
        return r;
    s->line = (unsigned)m->start_mark.line + 1;
    EACH_PAIR(p, m, out_, k, v)
    {
        if (key_is(k, "id"))
            r = dup_scalar(p, v, &s->id);
        else if (key_is(k, "reason"))
            r = dup_scalar(p, v, &s->reason);
        else if (key_is(k, "author"))
            r = dup_scalar(p, v, &s->author);
        else if (key_is(k, "expires")) {
            r = get_expiry(p, v, &s->expires_us);
            has_exp = 1;
        } else if (key_is(k, "rule"))
            r = get_strs(p, v, &s->rules, &s->nrules);
        else if (key_is(k, "cidr_field"))
            r = dup_scalar(p, v, &s->net_field);
        else if (key_is(k, "cidr")) {
            char **nets = NULL;
            size_t nn = 0;
            if ((r = get_strs(p, v, &nets, &nn)) == 0) {
                free(s->nets);
                s->nets = calloc(nn ? nn : 1, sizeof(*s->nets));
                if (!s->nets)
                    r = -ENOMEM;
                for (size_t i = 0; r == 0 && i < nn; i++) {
                    if (asset_net_parse(nets[i], strlen(nets[i]), &s->nets[i]) < 0)
                        r = perr(p, v, "bad CIDR in suppression");
                }
                s->nnets = r == 0 ? nn : 0;
            }
            strv_free(nets, nn);
        } else if (key_is(k, "match") && (r = need_map(p, v)) == 0) {
            EACH_PAIR(p, v, in_, k2, v2)
            {
                char **vals = NULL;
                size_t nvals = 0;
                if ((r = get_strs(p, v2, &vals, &nvals)) == 0) {
                    /* One (field, value) pair per value: a list means any. */
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
                        if ((r = dup_scalar(p, k2, &f[s->nfields])) < 0)
                            break;
                        x[s->nfields] = vals[i];
                        vals[i] = NULL;
                        s->nfields++;
                    }
                }
                strv_free(vals, nvals);
                if (r < 0)
                    return r;
            }
        } else if (r == 0)
            r = perr(p, k, "unknown key in suppression");
        if (r < 0)
            return r;
    }
    if (!s->reason || !*s->reason)
        return perr(p, m, "suppression needs a reason");
    if (!s->author || !*s->author)
        return perr(p, m, "suppression needs an author");
    if (!has_exp)
        return perr(p, m, "suppression needs an expiry (expires)");
    if (!s->nrules && !s->nfields && !s->nnets)
        return perr(p, m, "suppression needs at least one of rule, match, cidr");
    if (!s->id) {
        char buf[32];
        snprintf(buf, sizeof(buf), "#%zu", idx + 1);
        if (!(s->id = strdup(buf)))
            return -ENOMEM;
    }
    s->expired = s->expires_us <= p->now_us;
    return 0;
}

static int kw_suppress(struct oparse *p, yaml_node_t *n)
{
    struct triage_opts *o = p->o;
    int r;

    if (!n || n->type != YAML_SEQUENCE_NODE)
        return perr(p, n, "expected a list of suppressions");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        struct triage_supp *nv;
        if (o->nsupp >= TRIAGE_MAX_SUPP)
            return perr(p, node(p, *it), "too many suppressions");
        nv = realloc(o->supp, (o->nsupp + 1) * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        o->supp = nv;
        memset(&nv[o->nsupp], 0, sizeof(*nv));
        if ((r = supp_one(p, node(p, *it), &nv[o->nsupp], o->nsupp)) < 0) {
            supp_clear(&nv[o->nsupp]);
            return r;
        }
        if (nv[o->nsupp].expired)
            o->nsupp_expired++;
        o->nsupp++;
    }
    return 0;
}

static int parse_top(struct oparse *p, yaml_node_t *root, int suppress_only)
{
    yaml_node_t *k, *v;
    int r;

    if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
        return 0;
    if ((r = need_map(p, root)) < 0)
        return r;
    EACH_PAIR(p, root, out_, k, v)
    {
        if (key_is(k, "suppress"))
            r = kw_suppress(p, v);
        else if (suppress_only)
            r = perr(p, k, "only `suppress` is allowed in a suppression file");
        else if (key_is(k, "dedup_window"))
            r = get_duration(p, v, &p->o->dedup_window_us);
        else if (key_is(k, "group_window"))
            r = get_duration(p, v, &p->o->group_window_us);
        else if (key_is(k, "risk"))
            r = kw_risk(p, v);
        else if (key_is(k, "assets"))
            r = kw_assets(p, v);
        else if (key_is(k, "open_incident"))
            r = kw_open(p, v);
        else if (key_is(k, "limits"))
            r = kw_limits(p, v);
        else if (key_is(k, "types"))
            r = kw_types(p, v);
        else if (key_is(k, "kill_chain"))
            r = get_map(p, v, get_stage, &p->o->stage_by_tactic, &p->o->nstage_by_tactic);
        else if (key_is(k, "levels"))
            r = kw_levels(p, v);
        else if (key_is(k, "criticality_adjust"))
            r = kw_crit_adjust(p, v);
        else
            r = perr(p, k, "unknown key");
        if (r < 0)
            return r;
    }
    return 0;
}

static int parse_into(struct triage_opts *o, const char *text, size_t len, int64_t now_us,
                      int suppress_only, struct parse_err *reterr)
{
    yaml_parser_t yp;
    yaml_document_t doc;
    struct oparse p;
    int r;

    if (!yaml_parser_initialize(&yp))
        return -ENOMEM;
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &doc)) {
        if (reterr) {
            reterr->line = (unsigned)yp.problem_mark.line + 1;
            reterr->col = (unsigned)yp.problem_mark.column + 1;
            reterr->off = yp.problem_mark.index;
            reterr->msg = yp.problem ? yp.problem : "YAML syntax error";
        }
        yaml_parser_delete(&yp);
        return -EINVAL;
    }
    p.doc = &doc;
    p.o = o;
    p.err = reterr;
    p.now_us = now_us;
    r = parse_top(&p, yaml_document_get_root_node(&doc), suppress_only);
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
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
