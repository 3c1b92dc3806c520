/*
 * triage.c - suppression, dedup, entity risk and grouping of alerts into
 * incidents; the options (rules/config/triage.yaml) that drive them.
 *
 * State lives in three string-keyed tables (aggregated alerts, entities,
 * incidents), each sized once from its cap and kept in least-recently
 * touched order so that eviction at the cap is O(1).
 */
#include "triage/triage.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "event/time.h"
#include "util/limits.h"
#include "util/readfile.h"

/* Entities of one alert taken into its keys; the rest are ignored. */
#define TRIAGE_MAX_ENTITIES 32
/* Longest "field=value" entity string kept. */
#define TRIAGE_MAX_ENTITY_LEN 512
/* Suppressions one options set may hold. */
#define TRIAGE_MAX_SUPP 4096

#define US_PER_S INT64_C(1000000)

/* ------------------------------------------------------------------ */
/* Names                                                               */

static const char *const type_names[TRIAGE_TYPE_COUNT] = {
    "none",
    "complaints about rules",
    "new system / organisation change",
    "vulnerability present",
    "anomalous behaviour",
    "policy violation",
    "probe or attack without damage",
    "intruded, no damage yet",
    "damage manifest",
};

static const char *const stage_names[TRIAGE_STAGE_COUNT] = {
    "none",         "recon",        "weaponization",       "delivery",
    "exploitation", "installation", "command and control", "actions on objectives",
};

static const char *const level_names[4] = {"Green", "Yellow", "Orange", "Red"};

const char *triage_type_name(enum triage_type t)
{
    return (unsigned)t < TRIAGE_TYPE_COUNT ? type_names[t] : "none";
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
    "  level_weight: {informational: 0, low: 2, medium: 5, high: 15, critical: 40}\n"
    "  criticality_factor: {low: 0.5, medium: 1, high: 1.5, critical: 2}\n"
    "assets: {files: [], default_criticality: medium, default_category: A}\n"
    "open_incident: {rule_min_level: high, other_min_level: medium}\n"
    "limits: {max_alerts: 10000, max_entities: 50000, max_incidents: 2000}\n"
    "types:\n"
    "  by_rule:\n"
    "    ssh_bruteforce: probe or attack without damage\n"
    "    ssh_bruteforce_success: intruded, no damage yet\n"
    "    port_scan_vertical: probe or attack without damage\n"
    "    port_scan_horizontal: probe or attack without damage\n"
    "    worm_smb_rpc_spread: damage manifest\n"
    "    sudo_abuse: policy violation\n"
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

static const char *const sigma_levels[6] = {"none", "informational", "low",
                                            "medium", "high", "critical"};

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
#define EACH_PAIR(p, m, it, k, v)                                                        \
    for (yaml_node_pair_t *(it) = (m)->data.mapping.pairs.start;                         \
         (it) < (m)->data.mapping.pairs.top &&                                           \
         ((k) = node((p), (it)->key), (v) = node((p), (it)->value), 1);                  \
         (it)++)

static int key_is(yaml_node_t *k, const char *name)
{
    size_t len;
    const char *s = sc(k, &len);

    return s && strlen(name) == len && memcmp(s, name, len) == 0;
}

/* A mapping of name -> value (type or stage) replacing *ret_map. */
static int get_map(struct oparse *p, yaml_node_t *m, int (*val)(struct oparse *, yaml_node_t *, int *),
                   struct triage_map **ret_map, size_t *ret_n)
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
        else if (key_is(k, "level_weight") && (r = need_map(p, v)) == 0) {
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
    return calloc(1, sizeof(struct triage_opts));
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

int triage_opts_load_suppress(struct triage_opts *o, const char *text, size_t len,
                              int64_t now_us, struct parse_err *reterr)
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

/* ------------------------------------------------------------------ */
/* String-keyed tables with least-recently-touched order               */

struct hnode {
    struct hnode *hnext;         /* bucket chain */
    struct hnode *lprev, *lnext; /* touch order: head is the oldest */
    uint64_t h;
    char *key; /* owned */
};

struct htab {
    struct hnode **b;
    size_t nb; /* power of two */
    size_t n, cap;
    struct hnode *head, *tail;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);

    while (*s)
        h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
    return h;
}

static int ht_init(struct htab *t, size_t cap)
{
    size_t nb = 16;

    while (nb < cap && nb < (SIZE_MAX / 4))
        nb <<= 1;
    memset(t, 0, sizeof(*t));
    /* The buckets are pointers: the type is spelled out because
     * bugprone-sizeof-expression (clang-tidy 14) flags every sizeof of an
     * expression whose type is a struct pointer, even sizeof(t->b[0]). */
    if (!(t->b = calloc(nb, sizeof(struct hnode *))))
        return -ENOMEM;
    t->nb = nb;
    t->cap = cap;
    return 0;
}

static struct hnode *ht_find(const struct htab *t, const char *key)
{
    uint64_t h = hash_str(key);

    for (struct hnode *n = t->b[h & (t->nb - 1)]; n; n = n->hnext)
        if (n->h == h && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static void lru_unlink(struct htab *t, struct hnode *n)
{
    if (n->lprev)
        n->lprev->lnext = n->lnext;
    else
        t->head = n->lnext;
    if (n->lnext)
        n->lnext->lprev = n->lprev;
    else
        t->tail = n->lprev;
    n->lprev = n->lnext = NULL;
}

static void lru_append(struct htab *t, struct hnode *n)
{
    n->lprev = t->tail;
    n->lnext = NULL;
    if (t->tail)
        t->tail->lnext = n;
    else
        t->head = n;
    t->tail = n;
}

static void ht_touch(struct htab *t, struct hnode *n)
{
    lru_unlink(t, n);
    lru_append(t, n);
}

/* Links `n` (whose key is set) in; the caller made room first. */
static void ht_insert(struct htab *t, struct hnode *n)
{
    size_t i;

    n->h = hash_str(n->key);
    i = n->h & (t->nb - 1);
    n->hnext = t->b[i];
    t->b[i] = n;
    lru_append(t, n);
    t->n++;
}

static void ht_remove(struct htab *t, struct hnode *n)
{
    struct hnode **pp = &t->b[n->h & (t->nb - 1)];

    while (*pp && *pp != n)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = n->hnext;
    lru_unlink(t, n);
    t->n--;
}

/* ------------------------------------------------------------------ */
/* State                                                               */

struct agg {
    struct hnode hn; /* first: a struct hnode * is a struct agg * */
    struct triage_alert a;
    char *gkey; /* owned; the grouping key of its incident, NULL when none */
    int dirty;
};

struct ent {
    struct hnode hn;
    double risk;   /* as of at_us */
    int64_t at_us;
    int above;     /* set on crossing the threshold, cleared below half of it */
};

struct inc {
    struct hnode hn;
    struct triage_incident i;
    int dirty;
};

struct triage {
    const struct triage_opts *o;
    const struct asset_inv *inv;
    struct triage_cb cb;
    struct htab alerts, ents, incs;
    uint64_t next_alert_id, next_inc_id;
    uint64_t *supp_hits; /* per o->supp[i]: alerts it silenced */
    size_t nsupp_counted; /* entries of supp_hits */
    uint64_t last_agg;    /* the aggregated alert the last triage_add joined */
    uint64_t last_inc;    /* and the incident that alert is in, 0 none */
    struct triage_stats st;
};

static void agg_free(struct agg *g)
{
    free(g->hn.key);
    free(g->a.rule_id);
    free(g->a.rule_name);
    free(g->a.rule_title);
    free(g->gkey);
    free(g);
}

static void inc_free(struct inc *c)
{
    free(c->hn.key);
    for (size_t i = 0; i < c->i.nvictims; i++)
        free(c->i.victims[i]);
    free(c);
}

static void ent_free(struct ent *e)
{
    free(e->hn.key);
    free(e);
}

struct triage *triage_new(const struct triage_opts *o, const struct asset_inv *inv,
                          const struct triage_cb *cb)
{
    struct triage *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->o = o;
    t->inv = inv;
    if (cb)
        t->cb = *cb;
    t->next_alert_id = t->next_inc_id = 1;
    if (!(t->supp_hits = calloc(o->nsupp + 1, sizeof(*t->supp_hits)))) {
        free(t);
        return NULL;
    }
    t->nsupp_counted = o->nsupp + 1;
    if (ht_init(&t->alerts, o->max_alerts) < 0 || ht_init(&t->ents, o->max_entities) < 0 ||
        ht_init(&t->incs, o->max_incidents) < 0) {
        triage_free(t);
        return NULL;
    }
    return t;
}

void triage_free(struct triage *t)
{
    struct hnode *n, *next;

    if (!t)
        return;
    for (n = t->alerts.head; n; n = next) {
        next = n->lnext;
        agg_free((struct agg *)n);
    }
    for (n = t->ents.head; n; n = next) {
        next = n->lnext;
        ent_free((struct ent *)n);
    }
    for (n = t->incs.head; n; n = next) {
        next = n->lnext;
        inc_free((struct inc *)n);
    }
    free(t->alerts.b);
    free(t->ents.b);
    free(t->incs.b);
    free(t->supp_hits);
    free(t);
}

static void drop_alert(struct triage *t, struct agg *g)
{
    ht_remove(&t->alerts, &g->hn);
    agg_free(g);
}

static void drop_inc(struct triage *t, struct inc *c)
{
    ht_remove(&t->incs, &c->hn);
    inc_free(c);
}

static void drop_ent(struct triage *t, struct ent *e)
{
    ht_remove(&t->ents, &e->hn);
    ent_free(e);
}

/* ------------------------------------------------------------------ */
/* Decisions                                                           */

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* A tag normalised for table lookups: lower case, '-' as '_' (Sigma has
 * used both attack.credential-access and attack.credential_access). */
static void norm_tag(const char *tag, char *buf, size_t size)
{
    size_t i = 0;

    for (; tag[i] && i + 1 < size; i++)
        buf[i] = tag[i] == '-' ? '_' : (char)tolower((unsigned char)tag[i]);
    buf[i] = '\0';
}

static const struct triage_map *map_find(const struct triage_map *m, size_t n, const char *key)
{
    if (!key)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            return &m[i];
    return NULL;
}

static enum triage_type alert_type(const struct triage_opts *o, const struct triage_in *in)
{
    const struct triage_map *m;
    int best = TRIAGE_TYPE_NONE;
    char tag[128];

    if ((m = map_find(o->type_by_rule, o->ntype_by_rule, in->rule_name)) ||
        (m = map_find(o->type_by_rule, o->ntype_by_rule, in->rule_id)))
        return (enum triage_type)m->value;
    for (size_t i = 0; i < in->ntags; i++) {
        if (!in->tags[i])
            continue;
        norm_tag(in->tags[i], tag, sizeof(tag));
        if ((m = map_find(o->type_by_tag, o->ntype_by_tag, tag)) && m->value > best)
            best = m->value;
    }
    if (best != TRIAGE_TYPE_NONE)
        return (enum triage_type)best;
    if ((m = map_find(o->type_by_corr, o->ntype_by_corr, in->corr_type)))
        return (enum triage_type)m->value;
    if ((unsigned)in->kind < 3 && o->type_default[in->kind] > 0)
        return (enum triage_type)o->type_default[in->kind];
    return TRIAGE_TYPE_PROBE;
}

/* The kill-chain stages of the alert's tactic tags, as a bit set. */
static unsigned alert_stages(const struct triage_opts *o, const struct triage_in *in)
{
    const struct triage_map *m;
    unsigned bits = 0;
    char tag[128];

    for (size_t i = 0; i < in->ntags; i++) {
        if (!in->tags[i])
            continue;
        norm_tag(in->tags[i], tag, sizeof(tag));
        if (strncmp(tag, "attack.", 7) == 0 &&
            (m = map_find(o->stage_by_tactic, o->nstage_by_tactic, tag + 7)))
            bits |= 1u << m->value;
    }
    return bits;
}

static enum triage_stage top_stage(unsigned bits)
{
    enum triage_stage s = TRIAGE_STAGE_NONE;

    for (int i = 1; i < TRIAGE_STAGE_COUNT; i++)
        if (bits & (1u << i))
            s = (enum triage_stage)i;
    return s;
}

static int field_is_ip(const char *f)
{
    size_t n = strlen(f);

    return (n >= 3 && strcmp(f + n - 3, ".ip") == 0) || strcmp(f, "ip") == 0;
}

static int field_is_host(const char *f)
{
    return strcmp(f, "host.name") == 0 || strcmp(f, "host.hostname") == 0 ||
           strcmp(f, "destination.domain") == 0 || strcmp(f, "source.domain") == 0;
}

static const struct asset *entity_asset(const struct triage *t, const struct triage_entity *e)
{
    if (!t->inv || !e->field || !e->value)
        return NULL;
    if (field_is_ip(e->field))
        return asset_inv_by_ip(t->inv, e->value, strlen(e->value));
    if (field_is_host(e->field))
        return asset_inv_by_name(t->inv, e->value, strlen(e->value));
    return NULL;
}

static enum asset_crit asset_crit_or_default(const struct triage_opts *o, const struct asset *a)
{
    return a && a->crit != ASSET_CRIT_NONE ? a->crit : o->default_crit;
}

static enum asset_category asset_cat_or_default(const struct triage_opts *o, const struct asset *a)
{
    return a && a->cat != ASSET_CAT_NONE ? a->cat : o->default_cat;
}

static size_t nents(const struct triage_in *in)
{
    return in->nentities < TRIAGE_MAX_ENTITIES ? in->nentities : TRIAGE_MAX_ENTITIES;
}

static int ent_ok(const struct triage_entity *e)
{
    return e->field && e->value && *e->field &&
           strlen(e->field) + strlen(e->value) < TRIAGE_MAX_ENTITY_LEN;
}

/* "field=value" into buf (at least TRIAGE_MAX_ENTITY_LEN + 2 bytes) for an
 * entity that passed ent_ok(). */
static void ent_str(char *buf, const struct triage_entity *e)
{
    size_t fl = strlen(e->field), vl = strlen(e->value);

    memcpy(buf, e->field, fl);
    buf[fl] = '=';
    memcpy(buf + fl + 1, e->value, vl);
    buf[fl + 1 + vl] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "rule\x1f" + sorted "field=value\x1f"...: the dedup key.  Heap; NULL on
 * OOM. */
static char *dedup_key(const struct triage_in *in)
{
    const char *rule = in->rule_id ? in->rule_id : in->rule_name ? in->rule_name : "";
    char *parts[TRIAGE_MAX_ENTITIES] = {0}, *key = NULL;
    size_t n = 0, total = strlen(rule) + 2, pos;

    for (size_t i = 0; i < nents(in); i++) {
        const struct triage_entity *e = &in->entities[i];
        if (!ent_ok(e))
            continue;
        size_t l = strlen(e->field) + strlen(e->value) + 2;
        if (!(parts[n] = malloc(l)))
            goto out;
        snprintf(parts[n], l, "%s=%s", e->field, e->value);
        total += l;
        n++;
    }
    qsort(parts, n, sizeof(parts[0]), cmp_str);
    if (!(key = malloc(total)))
        goto out;
    pos = (size_t)snprintf(key, total, "%s\x1f", rule);
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(key + pos, total - pos, "%s\x1f", parts[i]);
out:
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    return key;
}

static const char *ent_value(const struct triage_in *in, const char *field, int role)
{
    for (size_t i = 0; i < nents(in); i++) {
        const struct triage_entity *e = &in->entities[i];
        if (ent_ok(e) && strcmp(e->field, field) == 0 && (role < 0 || e->role == role))
            return e->value;
    }
    return NULL;
}

/*
 * The incident grouping key: the attacker.  source.ip when the attacker is
 * known by address; user.name with host.name for local policy alerts (sudo
 * abuse: the same user on another host is another matter); otherwise the
 * first attacker-role entity.  NULL when no attacker is known (the alert can
 * then only be grouped by risk).  Heap.
 */
static char *group_key(const struct triage_in *in, int *ret_oom)
{
    const char *ip = ent_value(in, "source.ip", TRIAGE_ROLE_ATTACKER);
    const char *user = ent_value(in, "user.name", TRIAGE_ROLE_ATTACKER);
    char *k = NULL;

    *ret_oom = 0;
    if (ip) {
        size_t l = strlen(ip) + 11;
        if ((k = malloc(l)))
            snprintf(k, l, "source.ip=%s", ip);
    } else if (user) {
        const char *host = ent_value(in, "host.name", -1);
        size_t l = strlen(user) + (host ? strlen(host) : 0) + 32;
        if ((k = malloc(l)))
            snprintf(k, l, "user.name=%s|host.name=%s", user, host ? host : "");
    } else {
        for (size_t i = 0; i < nents(in); i++) {
            const struct triage_entity *e = &in->entities[i];
            if (ent_ok(e) && e->role == TRIAGE_ROLE_ATTACKER) {
                if ((k = malloc(strlen(e->field) + strlen(e->value) + 2)))
                    ent_str(k, e);
                break;
            }
        }
        if (!k) {
            for (size_t i = 0; i < nents(in); i++)
                if (ent_ok(&in->entities[i]) && in->entities[i].role == TRIAGE_ROLE_ATTACKER)
                    *ret_oom = 1;
            return NULL;
        }
    }
    if (!k)
        *ret_oom = 1;
    return k;
}

static const struct triage_supp *suppressed_by(struct triage *t, const struct triage_in *in)
{
    const struct triage_opts *o = t->o;

    for (size_t i = 0; i < o->nsupp; i++) {
        const struct triage_supp *s = &o->supp[i];
        int ok = 1;

        if (s->expired || in->time_us >= s->expires_us)
            continue;
        if (s->nrules) {
            ok = 0;
            for (size_t j = 0; j < s->nrules && !ok; j++)
                ok = streq(s->rules[j], in->rule_id) || streq(s->rules[j], in->rule_name);
        }
        /* match: every field named must carry one of its values. */
        for (size_t j = 0; ok && j < s->nfields; j++) {
            int field_ok = 0;
            if (j > 0 && strcmp(s->fields[j], s->fields[j - 1]) == 0)
                continue; /* decided with the first value of this field */
            for (size_t v = j; v < s->nfields && strcmp(s->fields[v], s->fields[j]) == 0 &&
                               !field_ok; v++)
                for (size_t e = 0; e < nents(in) && !field_ok; e++)
                    field_ok = ent_ok(&in->entities[e]) &&
                               strcmp(in->entities[e].field, s->fields[v]) == 0 &&
                               strcmp(in->entities[e].value, s->values[v]) == 0;
            ok = field_ok;
        }
        if (ok && s->nnets) {
            int net_ok = 0;
            for (size_t e = 0; e < nents(in) && !net_ok; e++) {
                const struct triage_entity *en = &in->entities[e];
                struct asset_net a;
                if (!ent_ok(en) || (s->net_field ? strcmp(en->field, s->net_field) != 0
                                                 : !field_is_ip(en->field)))
                    continue;
                if (asset_net_parse(en->value, strlen(en->value), &a) < 0)
                    continue;
                for (size_t nn = 0; nn < s->nnets && !net_ok; nn++)
                    net_ok = asset_net_contains(&s->nets[nn], &a);
            }
            ok = net_ok;
        }
        if (ok)
            return s;
    }
    return NULL;
}

static double decayed(const struct triage_opts *o, const struct ent *e, int64_t at_us)
{
    if (at_us <= e->at_us)
        return e->risk;
    return e->risk * exp2(-(double)(at_us - e->at_us) / (double)o->risk_half_life_us);
}

static enum triage_alert_level proposed_level(const struct triage_opts *o, enum triage_type type,
                                              enum asset_category cat, enum asset_crit crit)
{
    int l = o->level_table[(unsigned)type < TRIAGE_TYPE_COUNT ? type : 0]
                          [(unsigned)cat <= ASSET_CAT_D ? cat : 0];

    l += o->crit_adjust[(unsigned)crit < ASSET_CRIT_COUNT ? crit : 0];
    if (l < TRIAGE_GREEN)
        l = TRIAGE_GREEN;
    if (l > TRIAGE_RED)
        l = TRIAGE_RED;
    return (enum triage_alert_level)l;
}

/* Adds victims and takes the most critical victim asset (or, with no
 * victim asset known, an internal attacker's).  Returns CHG_ bits. */
static unsigned inc_assets(struct triage *t, struct inc *c, const struct triage_in *in)
{
    const struct triage_opts *o = t->o;
    const struct asset *best_v = NULL, *best_a = NULL;
    unsigned chg = 0;

    for (size_t i = 0; i < nents(in); i++) {
        const struct triage_entity *e = &in->entities[i];
        const struct asset *a;
        if (!ent_ok(e))
            continue;
        a = entity_asset(t, e);
        if (e->role == TRIAGE_ROLE_VICTIM) {
            char buf[TRIAGE_MAX_ENTITY_LEN + 2];
            int seen = 0;
            ent_str(buf, e);
            for (size_t v = 0; v < c->i.nvictims && !seen; v++)
                seen = strcmp(c->i.victims[v], buf) == 0;
            if (!seen) {
                if (c->i.nvictims < TRIAGE_INC_MAX_VICTIMS &&
                    (c->i.victims[c->i.nvictims] = strdup(buf))) {
                    c->i.nvictims++;
                    chg |= TRIAGE_CHG_VICTIM;
                } else {
                    c->i.victims_dropped++;
                }
            }
            if (a && (!best_v || asset_crit_or_default(o, a) > asset_crit_or_default(o, best_v)))
                best_v = a;
        } else if (e->role == TRIAGE_ROLE_ATTACKER && a && !best_a) {
            best_a = a;
        }
    }
    if (best_v) {
        enum asset_crit cr = asset_crit_or_default(o, best_v);
        if (!c->i.asset_from_victim || cr > c->i.crit) {
            c->i.crit = cr;
            c->i.cat = asset_cat_or_default(o, best_v);
            c->i.asset_from_victim = 1;
        }
    } else if (best_a && !c->i.asset_from_victim && c->i.cat == ASSET_CAT_NONE) {
        c->i.crit = asset_crit_or_default(o, best_a);
        c->i.cat = asset_cat_or_default(o, best_a);
    }
    if (c->i.cat == ASSET_CAT_NONE) {
        c->i.cat = o->default_cat;
        c->i.crit = o->default_crit;
    }
    return chg;
}

/* Folds an aggregated alert into an incident.  Returns the CHG_ bits. */
static unsigned inc_join(struct triage *t, struct inc *c, struct agg *g,
                         const struct triage_in *in, uint64_t count, unsigned stages)
{
    struct triage_incident *i = &c->i;
    enum triage_alert_level lvl;
    unsigned chg = TRIAGE_CHG_ALERT;

    if (i->nalerts < TRIAGE_INC_MAX_ALERTS)
        i->alerts[i->nalerts] = g->a.id;
    i->nalerts++;
    i->nevents += count;
    if (in->time_us < i->first_us)
        i->first_us = in->time_us;
    if (in->time_us > i->last_us)
        i->last_us = in->time_us;
    if (g->a.type > i->type) {
        i->type = g->a.type;
        chg |= TRIAGE_CHG_TYPE;
    }
    if ((i->stages | stages) != i->stages) {
        i->stages |= stages;
        i->stage = top_stage(i->stages);
        chg |= TRIAGE_CHG_STAGE;
    }
    chg |= inc_assets(t, c, in);
    /* Levels only go up by themselves; people lower them. */
    lvl = proposed_level(t->o, i->type, i->cat, i->crit);
    if (lvl > i->level) {
        i->level = lvl;
        chg |= TRIAGE_CHG_LEVEL;
    }
    if (!g->a.incident_id)
        g->a.incident_id = i->id;
    ht_touch(&t->incs, &c->hn);
    return chg;
}

/* A new incident keyed `key` (taken over) holding alert g.  NULL on OOM
 * (key freed). */
static struct inc *inc_open(struct triage *t, char *key, struct agg *g, const struct triage_in *in,
                            uint64_t count, unsigned stages, int by_risk)
{
    struct inc *c = calloc(1, sizeof(*c));

    if (!c) {
        free(key);
        return NULL;
    }
    if (t->incs.n >= t->incs.cap && t->incs.head) {
        drop_inc(t, (struct inc *)t->incs.head);
        t->st.evicted_incidents++;
    }
    c->hn.key = key;
    c->i.key = key;
    c->i.id = t->cb.incident_id ? t->cb.incident_id(t->cb.ctx) : 0;
    if (c->i.id < t->next_inc_id)
        c->i.id = t->next_inc_id;
    t->next_inc_id = c->i.id + 1;
    c->i.first_us = c->i.last_us = in->time_us;
    c->i.risk_opened = by_risk;
    c->i.level = TRIAGE_GREEN;
    ht_insert(&t->incs, &c->hn);
    inc_join(t, c, g, in, count, stages);
    t->st.incidents_opened++;
    return c;
}

static struct inc *inc_live(struct triage *t, const char *key, int64_t at_us)
{
    struct inc *c = key ? (struct inc *)ht_find(&t->incs, key) : NULL;

    if (c && at_us > c->i.last_us + t->o->group_window_us) {
        /* Its window is over: a new alert starts a new incident. */
        drop_inc(t, c);
        t->st.expired_incidents++;
        c = NULL;
    }
    return c;
}

/* The most recently touched live incident that lists `victim`
 * ("field=value") among its victims, or NULL.  Linear in the live
 * incidents; called on risk crossings only. */
static struct inc *inc_with_victim(struct triage *t, const char *victim, int64_t at_us)
{
    for (struct hnode *n = t->incs.tail; n; n = n->lprev) {
        struct inc *c = (struct inc *)n;

        if (at_us > c->i.last_us + t->o->group_window_us)
            continue;
        for (size_t v = 0; v < c->i.nvictims; v++)
            if (strcmp(c->i.victims[v], victim) == 0)
                return c;
    }
    return NULL;
}

static void report_update(struct triage *t, struct inc *c, unsigned chg)
{
    t->st.incidents_updated++;
    c->dirty = 0;
    if (t->cb.incident_updated)
        t->cb.incident_updated(t->cb.ctx, &c->i, chg);
}

static int opens_incident(const struct triage_opts *o, const struct triage_in *in, int level)
{
    if (in->kind == TRIAGE_KIND_RULE)
        return level >= o->open_min_level_rule;
    return level >= o->open_min_level_other;
}

/* A duplicate of a live aggregated alert: counts only, no callbacks. */
static void add_duplicate(struct triage *t, struct agg *g, const struct triage_in *in,
                          uint64_t count)
{
    struct inc *c;

    g->a.count += count;
    if (in->time_us < g->a.first_us)
        g->a.first_us = in->time_us;
    if (in->time_us > g->a.last_us)
        g->a.last_us = in->time_us;
    g->dirty = 1;
    ht_touch(&t->alerts, &g->hn);
    t->st.duplicates++;
    if (g->gkey && (c = inc_live(t, g->gkey, in->time_us)) && c->i.id == g->a.incident_id) {
        c->i.nevents += count;
        if (in->time_us > c->i.last_us)
            c->i.last_us = in->time_us;
        c->dirty = 1;
        ht_touch(&t->incs, &c->hn);
    }
}

int triage_add(struct triage *t, const struct triage_in *in)
{
    const struct triage_opts *o = t->o;
    const struct triage_supp *s;
    struct agg *g = NULL;
    struct inc *c;
    char *key = NULL, *gkey = NULL;
    size_t crossed[TRIAGE_MAX_ENTITIES], ncrossed = 0;
    uint64_t count = in->count ? in->count : 1;
    int level = in->level < 1 ? 1 : in->level > 5 ? 5 : in->level;
    unsigned stages;
    int r = 0, oom = 0, opened_now = 0;

    t->st.alerts_in++;
    t->last_agg = 0;
    t->last_inc = 0;
    if ((s = suppressed_by(t, in))) {
        t->supp_hits[s - o->supp]++;
        t->st.suppressed++;
        if (t->cb.suppressed)
            t->cb.suppressed(t->cb.ctx, in, s);
        return 0;
    }
    if (!(key = dedup_key(in)))
        goto oom;
    g = (struct agg *)ht_find(&t->alerts, key);
    if (g && in->time_us >= g->a.first_us - o->dedup_window_us &&
        in->time_us <= g->a.last_us + o->dedup_window_us) {
        add_duplicate(t, g, in, count);
        t->last_agg = g->a.id;
        t->last_inc = g->a.incident_id;
        free(key);
        return 0;
    }
    if (g) {
        /* Past its window: the store keeps it, memory does not. */
        drop_alert(t, g);
        t->st.expired_alerts++;
    }
    if (!(g = calloc(1, sizeof(*g))))
        goto oom;
    g->hn.key = key;
    g->a.key = key;
    key = NULL;
    if ((in->rule_id && !(g->a.rule_id = strdup(in->rule_id))) ||
        (in->rule_name && !(g->a.rule_name = strdup(in->rule_name))) ||
        (in->rule_title && !(g->a.rule_title = strdup(in->rule_title))))
        goto oom;
    g->a.id = t->next_alert_id++;
    g->a.kind = in->kind;
    g->a.level = level;
    g->a.count = count;
    g->a.first_us = g->a.last_us = in->time_us;
    g->a.type = alert_type(o, in);
    gkey = group_key(in, &oom);
    if (oom)
        goto oom;
    if (t->alerts.n >= t->alerts.cap && t->alerts.head) {
        drop_alert(t, (struct agg *)t->alerts.head);
        t->st.evicted_alerts++;
    }
    ht_insert(&t->alerts, &g->hn);
    t->st.aggregated++;
    t->last_agg = g->a.id;
    stages = alert_stages(o, in);

    /* Risk: every entity of a new aggregated alert; duplicates add none, so
     * a flood counts once per window. */
    for (size_t i = 0; i < nents(in); i++) {
        const struct triage_entity *e = &in->entities[i];
        struct ent *en;
        char buf[TRIAGE_MAX_ENTITY_LEN + 2];
        double w;

        if (!ent_ok(e))
            continue;
        ent_str(buf, e);
        if (!(en = (struct ent *)ht_find(&t->ents, buf))) {
            if (!(en = calloc(1, sizeof(*en))) || !(en->hn.key = strdup(buf))) {
                free(en);
                t->st.oom++;
                continue;
            }
            if (t->ents.n >= t->ents.cap && t->ents.head) {
                drop_ent(t, (struct ent *)t->ents.head);
                t->st.evicted_entities++;
            }
            en->at_us = in->time_us;
            ht_insert(&t->ents, &en->hn);
        } else {
            ht_touch(&t->ents, &en->hn);
        }
        w = o->level_weight[level] * o->crit_factor[asset_crit_or_default(o, entity_asset(t, e))];
        en->risk = decayed(o, en, in->time_us);
        if (in->time_us > en->at_us)
            en->at_us = in->time_us;
        /* Hysteresis: an entity hovering at the threshold would otherwise
         * cross it again on every alert. */
        if (en->above && en->risk < o->risk_threshold / 2)
            en->above = 0;
        en->risk += w;
        if (!en->above && en->risk >= o->risk_threshold) {
            en->above = 1;
            crossed[ncrossed++] = i;
            t->st.risk_crossings++;
        }
    }

    /* Grouping by attacker. */
    c = inc_live(t, gkey, in->time_us);
    if (c) {
        report_update(t, c, inc_join(t, c, g, in, count, stages));
    } else if (gkey && opens_incident(o, in, level)) {
        char *k2 = strdup(gkey);
        if (!k2 || !(c = inc_open(t, k2, g, in, count, stages, 0)))
            goto oom_late;
        opened_now = 1;
        if (t->cb.incident_opened)
            t->cb.incident_opened(t->cb.ctx, &c->i);
    }
    if (c && !(g->gkey = strdup(gkey)))
        goto oom_late;

    /* Risk crossings: raise an incident, or open one for the entity. */
    for (size_t j = 0; j < ncrossed; j++) {
        const struct triage_entity *e = &in->entities[crossed[j]];
        char buf[TRIAGE_MAX_ENTITY_LEN + 2];
        struct inc *ci;

        ent_str(buf, e);
        if (gkey && strcmp(buf, gkey) == 0 && opened_now)
            continue; /* this very alert opened it */
        ci = inc_live(t, buf, in->time_us);
        /* An entity of the alert that just joined or opened incident `c`
         * raises that incident.  A victim's risk comes from what is done
         * to it: failing that it raises any live incident that names it,
         * and opens one of its own only when none does (many small
         * attacks from many sources).  Other entities (a targeted account,
         * a port) are context: their risk never opens an incident. */
        if (!ci)
            ci = c;
        if (!ci && e->role == TRIAGE_ROLE_VICTIM)
            ci = inc_with_victim(t, buf, in->time_us);
        if (!ci && e->role == TRIAGE_ROLE_OTHER)
            continue;
        if (ci) {
            unsigned chg = TRIAGE_CHG_RISK;
            if (ci->i.level < TRIAGE_RED) {
                ci->i.level++;
                chg |= TRIAGE_CHG_LEVEL;
            }
            if (g->a.incident_id != ci->i.id)
                chg |= inc_join(t, ci, g, in, count, stages);
            report_update(t, ci, chg);
        } else {
            char *k2 = strdup(buf);
            if (!k2 || !(ci = inc_open(t, k2, g, in, count, stages, 1)))
                goto oom_late;
            if (!g->gkey && !(g->gkey = strdup(buf)))
                goto oom_late;
            if (t->cb.incident_opened)
                t->cb.incident_opened(t->cb.ctx, &ci->i);
        }
    }
    t->last_inc = g->a.incident_id;
    if (t->cb.alert_new)
        t->cb.alert_new(t->cb.ctx, &g->a);
    free(gkey);
    return 0;

oom:
    /* Every jump here comes before g is linked into the table. */
    if (g)
        agg_free(g);
    free(key);
    free(gkey);
    t->st.oom++;
    return -ENOMEM;
oom_late:
    /* g is in the table and consistent; only its incident link is lost. */
    free(gkey);
    t->st.oom++;
    r = -ENOMEM;
    return r;
}

void triage_flush(struct triage *t, int64_t now_us)
{
    struct hnode *n, *next;

    for (n = t->alerts.head; n; n = next) {
        struct agg *g = (struct agg *)n;
        next = n->lnext;
        if (g->dirty) {
            g->dirty = 0;
            if (t->cb.alert_updated)
                t->cb.alert_updated(t->cb.ctx, &g->a);
        }
        if (now_us > g->a.last_us + t->o->dedup_window_us) {
            drop_alert(t, g);
            t->st.expired_alerts++;
        }
    }
    for (n = t->incs.head; n; n = next) {
        struct inc *c = (struct inc *)n;
        next = n->lnext;
        if (c->dirty)
            report_update(t, c, TRIAGE_CHG_COUNT);
        if (now_us > c->i.last_us + t->o->group_window_us) {
            drop_inc(t, c);
            t->st.expired_incidents++;
        }
    }
    /* Entities whose risk has decayed to nothing are forgotten. */
    for (n = t->ents.head; n; n = next) {
        struct ent *e = (struct ent *)n;
        next = n->lnext;
        if (decayed(t->o, e, now_us) < 0.01 * t->o->risk_threshold / 50.0)
            drop_ent(t, e);
    }
}

void triage_stats(const struct triage *t, struct triage_stats *ret)
{
    *ret = t->st;
    ret->supp_expired_rules = t->o->nsupp_expired;
    ret->live_alerts = t->alerts.n;
    ret->live_entities = t->ents.n;
    ret->live_incidents = t->incs.n;
}

uint64_t triage_last_alert(const struct triage *t)
{
    return t->last_agg;
}

uint64_t triage_last_incident(const struct triage *t)
{
    return t->last_inc;
}

int triage_supp_added(struct triage *t)
{
    size_t n = t->o->nsupp + 1;
    uint64_t *h = realloc(t->supp_hits, n * sizeof(*h));

    if (!h)
        return -ENOMEM;
    /* Counters of the suppressions already there stay; new ones start at 0. */
    for (size_t i = t->nsupp_counted; i < n; i++)
        h[i] = 0;
    t->supp_hits = h;
    t->nsupp_counted = n;
    return 0;
}

uint64_t triage_supp_hits(const struct triage *t, size_t i)
{
    return i < t->o->nsupp ? t->supp_hits[i] : 0;
}

double triage_risk(const struct triage *t, const char *field, const char *value, int64_t at_us)
{
    struct triage_entity probe = {field, value, 0};
    char buf[TRIAGE_MAX_ENTITY_LEN + 2];
    const struct ent *e;

    if (strlen(field) + strlen(value) >= TRIAGE_MAX_ENTITY_LEN)
        return 0;
    ent_str(buf, &probe);
    e = (const struct ent *)ht_find(&t->ents, buf);
    return e ? decayed(t->o, e, at_us) : 0;
}
