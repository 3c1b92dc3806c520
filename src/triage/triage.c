/*
 * triage.c - from alerts to incidents: suppression, dedup, entity risk and
 * grouping (the options that drive them are parsed in triage_opts.c).
 *
 * Triage is by risk, not by alert: most alerts only add risk to their
 * entities, and an incident opens when an entity's risk crosses the
 * threshold or when a detection that can stand alone (a correlation, an
 * anomaly, a high-confidence rule) says so.  docs/triage.md is the model.
 *
 * State lives in three string-keyed tables (aggregated alerts, entities,
 * incidents): util/htable's keyed tables, capped in entries and kept in
 * least-recently touched order so that eviction at the cap is O(1).  The
 * keys are record contents, hence the keyed hash (no hash flooding).
 *
 * Each alert belongs to a realm (triage_in.realm: real records, or one
 * tabletop exercise run).  A key of another realm than the real one
 * carries the realm's 8 bytes after its terminating NUL: the table keys
 * on them, while the key stays the same text for everyone who reads it
 * (the store, the console).  Real records pay nothing for it.
 */
#include "triage/triage.h"
#include "util/htable.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entities of one alert taken into its keys; the rest are ignored. */
#define TRIAGE_MAX_ENTITIES 32
/* Longest "field=value" entity string kept. */
#define TRIAGE_MAX_ENTITY_LEN 512
/* Distinct rules an entity remembers (for risk dedup and the bonus); past
 * it the least recently seen is forgotten, so the counts saturate here. */
#define TRIAGE_ENT_RULES 16
/* Bytes an exercise realm adds after a key's NUL. */
#define TRIAGE_REALM_LEN sizeof(int64_t)
/* An entity string buffer: "field=value", its NUL and a realm. */
#define TRIAGE_ENT_BUF (TRIAGE_MAX_ENTITY_LEN + 2 + TRIAGE_REALM_LEN)
/* Longest signature name put in a relayed alert's title. */
#define TRIAGE_SIG_TITLE_MAX 160

/* ------------------------------------------------------------------ */
/* State                                                               */

struct agg {
    struct htable_node hn; /* first: a node pointer is a struct agg pointer; key a.key */
    struct triage_alert a;
    char *gkey; /* owned; the grouping key of its incident, NULL when none */
    /* Set while duplicates grew count/last_us since the last report; such
     * an entry is on the triage's dirty list (dirty_prev/dirty_next), so
     * that reporting them costs what changed, not what is live. */
    int dirty;
    struct agg *dirty_prev, *dirty_next;
};

/* One rule's (or IDS signature's) contribution to an entity's risk. */
struct ent_rule {
    uint64_t h;       /* rule identity hash; 0: free slot */
    uint64_t flow;    /* relayed: hash of the detector's connection id; 0: none */
    int64_t last_us;  /* its last alert on the entity: its risk decays from here */
    float w;          /* its weight on the entity (the largest of its alerts') */
    uint32_t tactics; /* bit i: tactic i of the kill_chain table */
    uint8_t type;     /* enum triage_type the alert claims */
    uint8_t relayed;  /* an IDS's alert */
    uint8_t actor;    /* the entity was the attacker in it */
};

struct ent {
    struct htable_node hn; /* first; keyed by `key` */
    char *key;             /* owned: "field=value" */
    int above;     /* set on crossing the threshold, cleared below half of it */
    struct ent_rule rules[TRIAGE_ENT_RULES];
};

struct inc {
    struct htable_node hn; /* first; keyed by i.key */
    struct triage_incident i;
    int64_t realm; /* triage_in.realm of the alert that opened it */
    int dirty;
    enum triage_type rep_type; /* type and level last reported */
    enum triage_alert_level rep_level;
};

struct triage {
    const struct triage_opts *o;
    const struct asset_inv *inv;
    struct triage_cb cb;
    struct htable alerts, ents, incs;
    struct agg *dirty; /* head of the dirty aggregated alerts (struct agg) */
    uint64_t next_alert_id, next_inc_id;
    uint64_t *supp_hits; /* per o->supp[i]: alerts it silenced */
    size_t nsupp_counted; /* entries of supp_hits */
    struct triage_stats st;
};

static void agg_free(struct agg *g)
{
    free(g->a.key);
    free(g->a.rule_id);
    free(g->a.rule_name);
    free(g->a.rule_title);
    free(g->gkey);
    free(g);
}

static void inc_free(struct inc *c)
{
    free(c->i.key);
    for (size_t i = 0; i < c->i.nvictims; i++)
        free(c->i.victims[i]);
    free(c);
}

static void ent_free(struct ent *e)
{
    free(e->key);
    free(e);
}

/* Takes g off the dirty list, if it is on it. */
static void agg_clean(struct triage *t, struct agg *g)
{
    if (!g->dirty)
        return;
    if (g->dirty_prev)
        g->dirty_prev->dirty_next = g->dirty_next;
    else
        t->dirty = g->dirty_next;
    if (g->dirty_next)
        g->dirty_next->dirty_prev = g->dirty_prev;
    g->dirty_prev = g->dirty_next = NULL;
    g->dirty = 0;
}

static void agg_mark_dirty(struct triage *t, struct agg *g)
{
    if (g->dirty)
        return;
    g->dirty = 1;
    g->dirty_prev = NULL;
    g->dirty_next = t->dirty;
    if (t->dirty)
        t->dirty->dirty_prev = g;
    t->dirty = g;
}

/* Reports g's unreported growth (alert_updated) before memory forgets it:
 * the store's row is then the last word on it, and must be whole. */
static void agg_report(struct triage *t, struct agg *g)
{
    if (!g->dirty)
        return;
    agg_clean(t, g);
    if (t->cb.alert_updated)
        t->cb.alert_updated(t->cb.ctx, &g->a);
}

/* The tables' eviction callbacks: a full table pushed out its least
 * recently touched entry, counted here. */
static void evict_alert(void *ctx, struct htable_node *n)
{
    struct triage *t = ctx;

    t->st.evicted_alerts++;
    agg_report(t, (struct agg *)n);
    agg_free((struct agg *)n);
}

static void evict_ent(void *ctx, struct htable_node *n)
{
    ((struct triage *)ctx)->st.evicted_entities++;
    ent_free((struct ent *)n);
}

static void report_update(struct triage *t, struct inc *c, unsigned chg);

static void evict_inc(void *ctx, struct htable_node *n)
{
    struct triage *t = ctx;
    struct inc *c = (struct inc *)n;

    t->st.evicted_incidents++;
    if (c->dirty) /* its event count grew since it was last reported */
        report_update(t, c, TRIAGE_CHG_COUNT);
    inc_free(c);
}

/* The length a table keys on: the text, and for an exercise realm the
 * NUL and the realm after it (key_seal, key_dup). */
static size_t key_len(const char *key, int64_t realm)
{
    return strlen(key) + (realm ? 1 + TRIAGE_REALM_LEN : 0);
}

/* Writes the realm after the NUL of `key`, which has room for it. */
static void key_mark(char *key, int64_t realm)
{
    if (realm)
        memcpy(key + strlen(key) + 1, &realm, TRIAGE_REALM_LEN);
}

/* Heap key `key` (taken over) made a key of `realm`; NULL on OOM (freed). */
static char *key_seal(char *key, int64_t realm)
{
    char *k;

    if (!realm || !key)
        return key;
    if (!(k = realloc(key, strlen(key) + 1 + TRIAGE_REALM_LEN))) {
        free(key);
        return NULL;
    }
    key_mark(k, realm);
    return k;
}

/* A heap copy of key `s` of `realm` (its realm bytes too); NULL on OOM. */
static char *key_dup(const char *s, int64_t realm)
{
    size_t l = key_len(s, realm) + (realm ? 0 : 1);
    char *k = malloc(l);

    if (k)
        memcpy(k, s, l);
    return k;
}

/* The entry keyed by the string `key` of `realm` in table `h`, or NULL. */
static struct htable_node *ht_find(const struct htable *h, const char *key, int64_t realm)
{
    return htable_find(h, key, key_len(key, realm));
}

/* Links `n` keyed by the string `key` of `realm` (the entry owns it) as
 * the newest; a full table evicts its oldest through the callback first. */
static void ht_insert(struct htable *h, struct htable_node *n, const char *key, int64_t realm)
{
    htable_insert(h, n, key, key_len(key, realm), 0);
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
    if (htable_init(&t->alerts, o->max_alerts, 0, evict_alert, t) < 0 ||
        htable_init(&t->ents, o->max_entities, 0, evict_ent, t) < 0 ||
        htable_init(&t->incs, o->max_incidents, 0, evict_inc, t) < 0) {
        triage_free(t);
        return NULL;
    }
    return t;
}

void triage_free(struct triage *t)
{
    struct htable_node *n, *next;

    if (!t)
        return;
    for (n = htable_oldest(&t->alerts); n; n = next) {
        next = htable_newer(n);
        agg_free((struct agg *)n);
    }
    for (n = htable_oldest(&t->ents); n; n = next) {
        next = htable_newer(n);
        ent_free((struct ent *)n);
    }
    for (n = htable_oldest(&t->incs); n; n = next) {
        next = htable_newer(n);
        inc_free((struct inc *)n);
    }
    htable_done(&t->alerts);
    htable_done(&t->ents);
    htable_done(&t->incs);
    free(t->supp_hits);
    free(t);
}

static void drop_alert(struct triage *t, struct agg *g)
{
    agg_report(t, g);
    htable_remove(&t->alerts, &g->hn);
    agg_free(g);
}

static void drop_inc(struct triage *t, struct inc *c)
{
    if (c->dirty)
        report_update(t, c, TRIAGE_CHG_COUNT);
    htable_remove(&t->incs, &c->hn);
    inc_free(c);
}

static void drop_ent(struct triage *t, struct ent *e)
{
    htable_remove(&t->ents, &e->hn);
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

/* The alert's ATT&CK tactics as bits: bit i for row i of the kill_chain
 * table (rows past 31 are not counted). */
static uint32_t alert_tactics(const struct triage_opts *o, const struct triage_in *in)
{
    uint32_t bits = 0;
    char tag[128];

    for (size_t i = 0; i < in->ntags; i++) {
        if (!in->tags[i])
            continue;
        norm_tag(in->tags[i], tag, sizeof(tag));
        if (strncmp(tag, "attack.", 7) != 0)
            continue;
        for (size_t j = 0; j < o->nstage_by_tactic && j < 32; j++)
            if (strcmp(o->stage_by_tactic[j].key, tag + 7) == 0)
                bits |= UINT32_C(1) << j;
    }
    return bits;
}

static int in_relayed(const struct triage_in *in)
{
    return (in->sig_id && *in->sig_id) || (in->sig_name && *in->sig_name);
}

static const char *in_rule(const struct triage_in *in)
{
    return in->rule_id ? in->rule_id : in->rule_name ? in->rule_name : "";
}

/* The signature that identifies a relayed alert: the detector's id, else
 * its name. */
static const char *in_sig(const struct triage_in *in)
{
    return in->sig_id && *in->sig_id ? in->sig_id : in->sig_name ? in->sig_name : "";
}

/* The string's keyed hash (the entity table's key): signature ids and
 * connection ids come from the detector's records, so a public hash would
 * let crafted ones pass for another rule or connection. */
static uint64_t str_hash(const struct triage *t, const char *s)
{
    return htable_hash(&t->ents, s, strlen(s));
}

/* What counts as one distinct rule: the rule, and for a relayed alert the
 * detector's signature (one relay rule carries every IDS signature). */
static uint64_t rule_hash(const struct triage *t, const struct triage_in *in)
{
    uint64_t h = str_hash(t, in_rule(in));

    if (in_relayed(in)) {
        /* Rotated so that rule and signature are not interchangeable. */
        uint64_t sh = str_hash(t, in_sig(in));
        h ^= (sh << 1) | (sh >> 63);
    }
    return h ? h : 1; /* 0 marks a free slot */
}

static int tag_eq(const char *a, const char *b)
{
    char x[128], y[128];

    norm_tag(a, x, sizeof(x));
    norm_tag(b, y, sizeof(y));
    return strcmp(x, y) == 0;
}

/* 1 when an entry of `list` names the alert's rule (name or id) or one of
 * its tags. */
static int rule_listed(char *const *list, size_t n, const struct triage_in *in)
{
    for (size_t i = 0; i < n; i++) {
        if (streq(list[i], in->rule_name) || streq(list[i], in->rule_id))
            return 1;
        for (size_t j = 0; j < in->ntags; j++)
            if (in->tags[j] && tag_eq(list[i], in->tags[j]))
                return 1;
    }
    return 0;
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

/* "rule\x1f" + sorted "field=value\x1f"...: the dedup key.  A relayed
 * alert's is "rule\x1fsig=<signature>\x1f": an IDS signature that fires
 * for many sources is one aggregated alert, not one per source.  Heap;
 * NULL on OOM. */
static char *dedup_key(const struct triage_in *in)
{
    const char *rule = in_rule(in);
    char *parts[TRIAGE_MAX_ENTITIES] = {0}, *key = NULL;
    size_t n = 0, total = strlen(rule) + 2, pos;

    if (in_relayed(in)) {
        const char *sig = in_sig(in);
        size_t l = strlen(rule) + strlen(sig) + 8;
        if ((key = malloc(l)))
            snprintf(key, l, "%s\x1fsig=%s\x1f", rule, sig);
        return key;
    }

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

/*
 * An entity's risk at `at_us`: the weight of each distinct rule it
 * remembers, decayed from that rule's last alert on it.  Repeats of a rule
 * refresh its weight and never stack: a signature that fires all day is
 * one rule's worth of risk, not a day's.
 */
static double ent_risk(const struct triage_opts *o, const struct ent *e, int64_t at_us)
{
    double sum = 0;

    for (size_t i = 0; i < TRIAGE_ENT_RULES; i++) {
        const struct ent_rule *r = &e->rules[i];
        if (!r->h)
            continue;
        sum += at_us <= r->last_us
                   ? r->w
                   : r->w * exp2(-(double)(at_us - r->last_us) / (double)o->risk_half_life_us);
    }
    return sum;
}

/* Slot i of the entity counts at `at_us`: within the window. */
static int ent_rule_live(const struct triage_opts *o, const struct ent_rule *r, int64_t at_us)
{
    return r->h && at_us - r->last_us <= o->risk_window_us;
}

static unsigned popcount32(uint32_t x)
{
    unsigned n = 0;

    for (; x; x &= x - 1)
        n++;
    return n;
}

/*
 * The score compared with the threshold: the decayed risk times a bonus
 * for breadth.  Breadth counts only what the entity did as the attacker
 * (distinct rules and ATT&CK tactics within the window): a victim's risk
 * comes from many unrelated sources, whose variety says nothing about a
 * campaign.  ret_rules / ret_tactics get the distinct counts over every
 * role (for min_rules and the explanation).
 */
static double ent_score(const struct triage_opts *o, const struct ent *e, int64_t at_us,
                        unsigned *ret_rules, unsigned *ret_tactics)
{
    unsigned nrules = 0, nact = 0;
    uint32_t tall = 0, tact = 0;
    double mult = 1;

    for (size_t i = 0; i < TRIAGE_ENT_RULES; i++) {
        const struct ent_rule *r = &e->rules[i];
        if (!ent_rule_live(o, r, at_us))
            continue;
        nrules++;
        tall |= r->tactics;
        if (r->actor) {
            nact++;
            tact |= r->tactics;
        }
    }
    if (nact > 1)
        mult *= 1 + o->rule_bonus * (nact - 1);
    if (popcount32(tact) > 1)
        mult *= 1 + o->tactic_bonus * (popcount32(tact) - 1);
    if (ret_rules)
        *ret_rules = nrules;
    if (ret_tactics)
        *ret_tactics = popcount32(tall);
    return ent_risk(o, e, at_us) * mult;
}

/*
 * What an entity's live contributions say about the incident its risk
 * opens: the most severe type of its own detections, what relayed alerts
 * claimed, whether anything but relayed alerts is among them, and the
 * kill-chain stages of their tactics.
 */
static void ent_types(const struct triage_opts *o, const struct ent *e, int64_t at_us,
                      struct triage_incident *i)
{
    for (size_t k = 0; k < TRIAGE_ENT_RULES; k++) {
        const struct ent_rule *r = &e->rules[k];
        if (!ent_rule_live(o, r, at_us))
            continue;
        for (size_t j = 0; j < o->nstage_by_tactic && j < 32; j++)
            if (r->tactics & (UINT32_C(1) << j))
                i->stages |= 1u << o->stage_by_tactic[j].value;
        if (r->relayed) {
            if (r->type > i->relayed_type)
                i->relayed_type = (enum triage_type)r->type;
        } else {
            i->corroborated = 1;
            if (r->type > i->type)
                i->type = (enum triage_type)r->type;
        }
    }
}

/*
 * Records that rule `h`, of weight `w`, hit entity `e` at `at_us`: a new
 * rule takes a slot (the least recently seen makes room), a known one is
 * refreshed (its risk back to its weight, never added twice).  A relayed
 * alert on a connection (`flow`, not 0) that another signature already
 * reported on this entity within the dedup window is folded into that one:
 * overlapping signatures are one observation.
 */
static void ent_note_rule(const struct triage_opts *o, struct ent *e, uint64_t h, uint64_t flow,
                          double w, int64_t at_us, uint32_t tactics, enum triage_type type,
                          int relayed, int actor)
{
    struct ent_rule *r = NULL, *old = &e->rules[0], *same_flow = NULL;

    for (size_t i = 0; i < TRIAGE_ENT_RULES && !r; i++) {
        struct ent_rule *x = &e->rules[i];
        int64_t gap = at_us > x->last_us ? at_us - x->last_us : x->last_us - at_us;
        if (x->h == h)
            r = x;
        else if (!x->h || (old->h && x->last_us < old->last_us))
            old = x;
        if (flow && x->h && x->flow == flow && gap <= o->dedup_window_us)
            same_flow = x;
    }
    if (!r && same_flow)
        r = same_flow;
    else if (r && at_us - r->last_us > o->risk_window_us)
        memset(r, 0, sizeof(*r)); /* what it did a window ago no longer counts */
    if (!r || !r->h) {
        if (!r)
            r = old;
        memset(r, 0, sizeof(*r));
        r->h = h;
        r->flow = flow;
        r->last_us = at_us;
    }
    if (at_us > r->last_us)
        r->last_us = at_us;
    if (w > r->w)
        r->w = (float)w;
    r->tactics |= tactics;
    if ((int)type > r->type)
        r->type = (uint8_t)type;
    r->relayed |= (uint8_t)(relayed != 0);
    r->actor |= (uint8_t)(actor != 0);
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

/* Appends a reason to the incident's chg_why ("; "-separated, cut to fit). */
static void why_add(struct triage_incident *i, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void why_add(struct triage_incident *i, const char *fmt, ...)
{
    size_t n = strlen(i->chg_why);
    va_list ap;

    if (n + 3 >= sizeof(i->chg_why))
        return;
    if (n) {
        memcpy(i->chg_why + n, "; ", 3);
        n += 2;
    }
    va_start(ap, fmt);
    vsnprintf(i->chg_why + n, sizeof(i->chg_why) - n, fmt, ap);
    va_end(ap);
}

/*
 * Applies what relayed alerts claim and recomputes the proposed level.  A
 * relayed (IDS) alert's type counts in full only once the incident holds
 * other evidence (corroborated); until then it counts at most as
 * relayed_max_type, so that an IDS tag alone never makes "intruded".
 * Levels only go up by themselves; people lower them.  Returns CHG_ bits.
 */
static unsigned inc_settle(struct triage *t, struct inc *c)
{
    struct triage_incident *i = &c->i;
    enum triage_type claim = i->relayed_type;
    enum triage_alert_level lvl;
    unsigned chg = 0;

    if (!i->corroborated && (int)claim > t->o->relayed_max_type)
        claim = (enum triage_type)t->o->relayed_max_type;
    if (claim > i->type) {
        i->type = claim;
        chg |= TRIAGE_CHG_TYPE;
        why_add(i, "relayed alerts claim %s", triage_type_name(claim));
    }
    lvl = proposed_level(t->o, i->type, i->cat, i->crit);
    if (lvl > i->level) {
        i->level = lvl;
        chg |= TRIAGE_CHG_LEVEL;
        why_add(i, "%s on category %s (%s) proposes %s", triage_type_name(i->type),
                asset_category_name(i->cat), asset_crit_name(i->crit), triage_level_name(lvl));
    }
    return chg;
}

/* Folds an aggregated alert into an incident.  Returns the CHG_ bits. */
static unsigned inc_join(struct triage *t, struct inc *c, struct agg *g,
                         const struct triage_in *in, uint64_t count, unsigned stages)
{
    struct triage_incident *i = &c->i;
    unsigned chg = TRIAGE_CHG_ALERT;
    const char *rule = g->a.rule_name ? g->a.rule_name : g->a.rule_id;

    why_add(i, "alert %s joined (%s%s)", rule ? rule : "?", g->a.relayed ? "relayed, " : "",
            triage_type_name(g->a.type));
    if (i->nalerts < TRIAGE_INC_MAX_ALERTS)
        i->alerts[i->nalerts] = g->a.id;
    i->nalerts++;
    i->nevents += count;
    if (in->time_us < i->first_us)
        i->first_us = in->time_us;
    if (in->time_us > i->last_us)
        i->last_us = in->time_us;
    if (g->a.relayed) {
        if (g->a.type > i->relayed_type)
            i->relayed_type = g->a.type;
    } else {
        i->corroborated = 1;
        if (g->a.type > i->type) {
            i->type = g->a.type;
            chg |= TRIAGE_CHG_TYPE;
        }
    }
    if ((i->stages | stages) != i->stages) {
        i->stages |= stages;
        i->stage = top_stage(i->stages);
        chg |= TRIAGE_CHG_STAGE;
    }
    chg |= inc_assets(t, c, in);
    chg |= inc_settle(t, c);
    if (!g->a.incident_id)
        g->a.incident_id = i->id;
    htable_touch(&t->incs, &c->hn);
    return chg;
}

/* A new incident keyed `key` (taken over) holding alert g.  NULL on OOM
 * (key freed). */
static struct inc *inc_open(struct triage *t, char *key, struct agg *g, const struct triage_in *in,
                            uint64_t count, unsigned stages, const struct ent *by_risk,
                            const char *why)
{
    struct inc *c = calloc(1, sizeof(*c));

    if (!c) {
        free(key);
        return NULL;
    }
    c->i.key = key;
    c->realm = in->realm;
    c->i.id = t->cb.incident_id ? t->cb.incident_id(t->cb.ctx) : 0;
    if (c->i.id < t->next_inc_id)
        c->i.id = t->next_inc_id;
    t->next_inc_id = c->i.id + 1;
    c->i.first_us = c->i.last_us = in->time_us;
    c->i.risk_opened = by_risk != NULL;
    c->i.level = TRIAGE_GREEN;
    snprintf(c->i.why, sizeof(c->i.why), "%s", why);
    ht_insert(&t->incs, &c->hn, key, in->realm);
    inc_join(t, c, g, in, count, stages);
    if (by_risk) {
        /* Its type is what the entity did within the window, not only the
         * alert that tipped it over. */
        ent_types(t->o, by_risk, in->time_us, &c->i);
        c->i.stage = top_stage(c->i.stages);
        inc_settle(t, c);
        t->st.risk_opened++;
    }
    t->st.incidents_opened++;
    /* Opening is audited as such; changes count from here. */
    c->rep_type = c->i.type;
    c->rep_level = c->i.level;
    c->i.chg_why[0] = '\0';
    return c;
}

static struct inc *inc_live(struct triage *t, const char *key, int64_t realm, int64_t at_us)
{
    struct inc *c = key ? (struct inc *)ht_find(&t->incs, key, realm) : NULL;

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
static struct inc *inc_with_victim(struct triage *t, const char *victim, int64_t realm,
                                   int64_t at_us)
{
    for (struct htable_node *n = htable_newest(&t->incs); n; n = htable_older(n)) {
        struct inc *c = (struct inc *)n;

        if (c->realm != realm || at_us > c->i.last_us + t->o->group_window_us)
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
    c->i.was_type = c->rep_type;
    c->i.was_level = c->rep_level;
    if (t->cb.incident_updated)
        t->cb.incident_updated(t->cb.ctx, &c->i, chg);
    c->rep_type = c->i.type;
    c->rep_level = c->i.level;
    c->i.chg_why[0] = '\0';
}

/* May this alert open an incident by itself?  Never a relayed one (an
 * IDS's verdict on one packet) nor one listed in risk_only; a single rule
 * when it is listed in open_incident.rules or at rule_min_level and above;
 * a correlation or an anomaly at other_min_level and above. */
static int may_open(const struct triage_opts *o, const struct triage_in *in, int level)
{
    if (in_relayed(in) || rule_listed(o->risk_only, o->nrisk_only, in))
        return 0;
    if (in->kind != TRIAGE_KIND_RULE)
        return level >= o->open_min_level_other;
    return rule_listed(o->open_rules, o->nopen_rules, in) || level >= o->open_min_level_rule;
}

static const char *const level_words[6] = {"none",   "informational", "low",
                                           "medium", "high",          "critical"};

/* The explanation of an incident an alert opened by itself. */
static void why_direct(const struct triage_opts *o, const struct triage_in *in, int level,
                       char *buf, size_t size)
{
    const char *name = in->rule_name    ? in->rule_name
                       : in->rule_title ? in->rule_title
                                        : in_rule(in);

    if (in->kind == TRIAGE_KIND_CORRELATION)
        snprintf(buf, size, "opened because: correlation %s", name);
    else if (in->kind == TRIAGE_KIND_ANOMALY)
        snprintf(buf, size, "opened because: anomaly %s", name);
    else if (rule_listed(o->open_rules, o->nopen_rules, in))
        snprintf(buf, size, "opened because: rule %s (open_incident.rules)", name);
    else
        snprintf(buf, size, "opened because: rule %s, level %s", name,
                 level_words[level >= 1 && level <= 5 ? level : 0]);
}

/* A duplicate of a live aggregated alert: counts only, no callbacks.  The
 * incident of the aggregated alert counts it when the alert is of its
 * group (`gkey`; a relayed alert names many sources: only its own
 * source's count). */
static void add_duplicate(struct triage *t, struct agg *g, const struct triage_in *in,
                          uint64_t count, const char *gkey)
{
    struct inc *c;

    g->a.count += count;
    if (in->time_us < g->a.first_us)
        g->a.first_us = in->time_us;
    if (in->time_us > g->a.last_us)
        g->a.last_us = in->time_us;
    agg_mark_dirty(t, g);
    htable_touch(&t->alerts, &g->hn);
    t->st.duplicates++;
    if (g->gkey && streq(g->gkey, gkey) && (c = inc_live(t, g->gkey, in->realm, in->time_us)) &&
        c->i.id == g->a.incident_id) {
        c->i.nevents += count;
        if (in->time_us > c->i.last_us)
            c->i.last_us = in->time_us;
        c->dirty = 1;
        htable_touch(&t->incs, &c->hn);
    }
}

/* A new aggregated alert for `in` keyed `key` (taken over), linked into
 * the table; NULL on OOM (key freed). */
static struct agg *agg_new(struct triage *t, char *key, const struct triage_in *in, int level,
                           uint64_t count)
{
    struct agg *g = calloc(1, sizeof(*g));

    if (!g) {
        free(key);
        return NULL;
    }
    g->a.key = key;
    g->a.relayed = in_relayed(in);
    if ((in->rule_id && !(g->a.rule_id = strdup(in->rule_id))) ||
        (in->rule_name && !(g->a.rule_name = strdup(in->rule_name))))
        goto oom;
    if (g->a.relayed && in->sig_name && *in->sig_name) {
        /* The relay rule says only "an IDS alert of severity 1": the
         * signature is what a person needs to read. */
        const char *title = in->rule_title ? in->rule_title : in_rule(in);
        size_t l = strlen(title) + TRIAGE_SIG_TITLE_MAX + 4;
        if (!(g->a.rule_title = malloc(l)))
            goto oom;
        snprintf(g->a.rule_title, l, "%s: %.*s", title, TRIAGE_SIG_TITLE_MAX, in->sig_name);
    } else if (in->rule_title && !(g->a.rule_title = strdup(in->rule_title))) {
        goto oom;
    }
    g->a.id = t->next_alert_id++;
    g->a.kind = in->kind;
    g->a.level = level;
    g->a.count = count;
    g->a.first_us = g->a.last_us = in->time_us;
    g->a.type = alert_type(t->o, in);
    ht_insert(&t->alerts, &g->hn, key, in->realm);
    t->st.aggregated++;
    return g;
oom:
    agg_free(g);
    return NULL;
}

/*
 * Adds the alert's risk to each of its entities (once per rule and entity
 * within the dedup window) and notes in ret_crossed the indexes of the
 * entities whose score crossed the threshold with at least min_rules
 * distinct rules.  Returns how many crossed.
 */
static size_t add_risk(struct triage *t, const struct triage_in *in, int level, uint32_t tactics,
                       enum triage_type type, size_t *ret_crossed)
{
    const struct triage_opts *o = t->o;
    uint64_t h = rule_hash(t, in);
    int relayed = in_relayed(in);
    uint64_t flow = relayed && in->flow_id && *in->flow_id
                        ? str_hash(t, in->flow_id) | 1
                        : 0;
    size_t ncrossed = 0;
    double conf = o->conf_factor[(unsigned)in->confidence < TRIAGE_CONF_COUNT ? in->confidence : 0];

    for (size_t i = 0; i < nents(in); i++) {
        const struct triage_entity *e = &in->entities[i];
        struct ent *en;
        char buf[TRIAGE_ENT_BUF];
        unsigned nrules;
        double w;

        if (!ent_ok(e))
            continue;
        w = o->level_weight[level] * conf *
            o->crit_factor[asset_crit_or_default(o, entity_asset(t, e))];
        if (w <= 0)
            continue; /* no risk, and no breadth either */
        ent_str(buf, e);
        key_mark(buf, in->realm);
        if (!(en = (struct ent *)ht_find(&t->ents, buf, in->realm))) {
            if (!(en = calloc(1, sizeof(*en))) || !(en->key = key_dup(buf, in->realm))) {
                free(en);
                t->st.oom++;
                continue;
            }
            ht_insert(&t->ents, &en->hn, en->key, in->realm);
        } else {
            htable_touch(&t->ents, &en->hn);
        }
        /* Hysteresis: an entity hovering at the threshold would otherwise
         * cross it again on every alert. */
        if (en->above && ent_score(o, en, in->time_us, NULL, NULL) < o->risk_threshold / 2)
            en->above = 0;
        ent_note_rule(o, en, h, flow, w, in->time_us, tactics, type, relayed,
                      e->role == TRIAGE_ROLE_ATTACKER);
        if (!en->above && ent_score(o, en, in->time_us, &nrules, NULL) >= o->risk_threshold &&
            nrules >= o->risk_min_rules) {
            en->above = 1;
            ret_crossed[ncrossed++] = i;
            t->st.risk_crossings++;
        }
    }
    return ncrossed;
}

/* The explanation of an incident an entity's risk opened. */
static void why_risk(const struct triage_opts *o, const struct ent *en, int64_t at_us, char *buf,
                     size_t size)
{
    unsigned nrules = 0, ntactics = 0;
    double score = ent_score(o, en, at_us, &nrules, &ntactics);

    snprintf(buf, size, "opened because: %u rule%s, %u tactic%s, risk %.0f >= %.0f", nrules,
             nrules == 1 ? "" : "s", ntactics, ntactics == 1 ? "" : "s", floor(score),
             o->risk_threshold);
}

/*
 * Risk crossings of the alert's entities: each raises an incident, or opens
 * one for the entity.  `c` is the incident the alert joined or opened (may
 * be NULL), `opened_now` whether it opened it.  0 or -ENOMEM.
 */
static int on_crossings(struct triage *t, const struct triage_in *in, struct agg *g, struct inc *c,
                        const char *gkey, int opened_now, const size_t *crossed, size_t ncrossed,
                        uint64_t count, unsigned stages)
{
    for (size_t j = 0; j < ncrossed; j++) {
        const struct triage_entity *e = &in->entities[crossed[j]];
        char buf[TRIAGE_ENT_BUF], why[TRIAGE_WHY_MAX];
        struct inc *ci;
        struct ent *en;

        ent_str(buf, e);
        key_mark(buf, in->realm);
        if (gkey && strcmp(buf, gkey) == 0 && opened_now)
            continue; /* this very alert opened it */
        ci = inc_live(t, buf, in->realm, in->time_us);
        /* An entity of the alert that just joined or opened incident `c`
         * raises that incident.  A victim's risk comes from what is done
         * to it: failing that it raises any live incident that names it,
         * and opens one of its own only when none does (many small
         * attacks from many sources).  Other entities (a targeted account,
         * a port) are context: their risk never opens an incident. */
        if (!ci)
            ci = c;
        if (!ci && e->role == TRIAGE_ROLE_VICTIM)
            ci = inc_with_victim(t, buf, in->realm, in->time_us);
        if (!ci && e->role == TRIAGE_ROLE_OTHER)
            continue;
        if (ci) {
            unsigned chg = TRIAGE_CHG_RISK;
            if (ci->i.level < TRIAGE_RED) {
                ci->i.level++;
                chg |= TRIAGE_CHG_LEVEL;
                why_add(&ci->i, "the risk of %s=%s crossed the threshold: one level up", e->field,
                        e->value);
            }
            if (g->a.incident_id != ci->i.id)
                chg |= inc_join(t, ci, g, in, count, stages);
            report_update(t, ci, chg);
            continue;
        }
        if (!(en = (struct ent *)ht_find(&t->ents, buf, in->realm)))
            continue; /* evicted meanwhile by a later entity of this alert */
        why_risk(t->o, en, in->time_us, why, sizeof(why));
        char *k2 = key_dup(buf, in->realm);
        if (!k2 || !(ci = inc_open(t, k2, g, in, count, stages, en, why)))
            return -ENOMEM;
        if (!g->gkey && !(g->gkey = key_dup(buf, in->realm)))
            return -ENOMEM;
        if (t->cb.incident_opened)
            t->cb.incident_opened(t->cb.ctx, &ci->i);
    }
    return 0;
}

/* Counts and reports an alert a suppression silenced; 1 when one did. */
static int take_suppressed(struct triage *t, const struct triage_in *in)
{
    const struct triage_supp *s = suppressed_by(t, in);

    if (!s)
        return 0;
    t->supp_hits[s - t->o->supp]++;
    t->st.suppressed++;
    if (t->cb.suppressed)
        t->cb.suppressed(t->cb.ctx, in, s);
    return 1;
}

/*
 * Grouping by attacker: a new aggregated alert `g` joins its attacker's
 * live incident (`gkey`), or opens one when it may by itself.  *ret_c is
 * the incident it joined or opened (NULL: none), *ret_opened whether it
 * opened it.  0 or -ENOMEM.
 */
static int group_new_alert(struct triage *t, const struct triage_in *in, struct agg *g,
                           const char *gkey, int level, uint64_t count, unsigned stages,
                           struct inc **ret_c, int *ret_opened)
{
    char why[TRIAGE_WHY_MAX];
    struct inc *c = inc_live(t, gkey, in->realm, in->time_us);

    *ret_c = NULL;
    *ret_opened = 0;
    if (c) {
        report_update(t, c, inc_join(t, c, g, in, count, stages));
    } else if (gkey && may_open(t->o, in, level)) {
        char *k2 = key_dup(gkey, in->realm);
        why_direct(t->o, in, level, why, sizeof(why));
        if (!k2 || !(c = inc_open(t, k2, g, in, count, stages, NULL, why)))
            return -ENOMEM;
        *ret_opened = 1;
        if (t->cb.incident_opened)
            t->cb.incident_opened(t->cb.ctx, &c->i);
    }
    *ret_c = c;
    if (c && !(g->gkey = key_dup(gkey, in->realm)))
        return -ENOMEM;
    return 0;
}

int triage_add(struct triage *t, const struct triage_in *in, struct triage_made *ret_made)
{
    const struct triage_opts *o = t->o;
    struct triage_made made = {0, 0};
    struct agg *g = NULL;
    struct inc *c = NULL;
    char *key = NULL, *gkey = NULL;
    size_t crossed[TRIAGE_MAX_ENTITIES], ncrossed;
    uint64_t count = in->count ? in->count : 1;
    int level = in->level < 1 ? 1 : in->level > 5 ? 5 : in->level;
    int oom = 0, opened_now = 0, dup = 0, relayed = in_relayed(in), r = 0;
    unsigned stages;

    t->st.alerts_in++;
    if (take_suppressed(t, in))
        goto out;
    if (!(key = key_seal(dedup_key(in), in->realm)))
        goto oom;
    gkey = group_key(in, &oom);
    if (gkey && !(gkey = key_seal(gkey, in->realm)))
        oom = 1;
    if (oom)
        goto oom;
    g = (struct agg *)ht_find(&t->alerts, key, in->realm);
    if (g && in->time_us >= g->a.first_us - o->dedup_window_us &&
        in->time_us <= g->a.last_us + o->dedup_window_us) {
        add_duplicate(t, g, in, count, gkey);
        free(key);
        key = NULL;
        dup = 1;
        /* A duplicate of one entity set adds no risk; a relayed alert's
         * may name a new source, which gets its risk. */
        if (!relayed) {
            made.agg_id = g->a.id;
            made.incident_id = g->a.incident_id;
            if (!g->a.incident_id)
                t->st.risk_only++;
            goto out;
        }
    } else {
        if (g) {
            /* Past its window: the store keeps it, memory does not. */
            drop_alert(t, g);
            t->st.expired_alerts++;
        }
        g = agg_new(t, key, in, level, count);
        key = NULL; /* taken over, or freed on failure */
        if (!g)
            goto oom;
    }
    made.agg_id = g->a.id;
    stages = alert_stages(o, in);
    ncrossed = add_risk(t, in, level, alert_tactics(o, in), alert_type(o, in), crossed);
    if (!dup && group_new_alert(t, in, g, gkey, level, count, stages, &c, &opened_now) < 0)
        goto oom_late;
    if (on_crossings(t, in, g, c, gkey, opened_now, crossed, ncrossed, count, stages) < 0)
        goto oom_late;
    made.incident_id = g->a.incident_id;
    if (!g->a.incident_id)
        t->st.risk_only++;
    if (!dup && t->cb.alert_new)
        t->cb.alert_new(t->cb.ctx, &g->a);
    goto out;

oom:
    /* Every jump here comes before a new g is linked into the table. */
    free(key);
    /* fall through */
oom_late:
    /* After it, g is in the table and consistent; only its incident link
     * is lost (made keeps its id and no incident). */
    t->st.oom++;
    r = -ENOMEM;
out:
    free(gkey);
    if (ret_made)
        *ret_made = made;
    return r;
}

void triage_sync(struct triage *t)
{
    while (t->dirty)
        agg_report(t, t->dirty);
}

void triage_flush(struct triage *t, int64_t now_us)
{
    struct htable_node *n, *next;

    triage_sync(t);
    for (n = htable_oldest(&t->alerts); n; n = next) {
        struct agg *g = (struct agg *)n;
        next = htable_newer(n);
        if (now_us > g->a.last_us + t->o->dedup_window_us) {
            drop_alert(t, g);
            t->st.expired_alerts++;
        }
    }
    for (n = htable_oldest(&t->incs); n; n = next) {
        struct inc *c = (struct inc *)n;
        next = htable_newer(n);
        if (c->dirty)
            report_update(t, c, TRIAGE_CHG_COUNT);
        if (now_us > c->i.last_us + t->o->group_window_us) {
            drop_inc(t, c);
            t->st.expired_incidents++;
        }
    }
    /* Entities whose risk has decayed to nothing are forgotten. */
    for (n = htable_oldest(&t->ents); n; n = next) {
        struct ent *e = (struct ent *)n;
        next = htable_newer(n);
        if (ent_risk(t->o, e, now_us) < 0.01 * t->o->risk_threshold / 50.0)
            drop_ent(t, e);
    }
}

void triage_stats(const struct triage *t, struct triage_stats *ret)
{
    *ret = t->st;
    ret->supp_expired_rules = t->o->nsupp_expired;
    ret->live_alerts = htable_count(&t->alerts);
    ret->live_entities = htable_count(&t->ents);
    ret->live_incidents = htable_count(&t->incs);
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
    e = (const struct ent *)ht_find(&t->ents, buf, 0);
    return e ? ent_risk(t->o, e, at_us) : 0;
}

double triage_score(const struct triage *t, const char *field, const char *value, int64_t at_us,
                    unsigned *ret_rules, unsigned *ret_tactics)
{
    struct triage_entity probe = {field, value, 0};
    char buf[TRIAGE_MAX_ENTITY_LEN + 2];
    const struct ent *e;

    if (ret_rules)
        *ret_rules = 0;
    if (ret_tactics)
        *ret_tactics = 0;
    if (strlen(field) + strlen(value) >= TRIAGE_MAX_ENTITY_LEN)
        return 0;
    ent_str(buf, &probe);
    e = (const struct ent *)ht_find(&t->ents, buf, 0);
    return e ? ent_score(t->o, e, at_us, ret_rules, ret_tactics) : 0;
}
