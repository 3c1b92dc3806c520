/*
 * triage.h - from alerts to incidents: dedup and aggregation, suppression,
 * entity risk, grouping into incidents.
 *
 * The funnel is records -> alerts -> aggregated alerts -> incidents.  Each
 * alert (a Sigma match, a correlation hit or an anomaly) is given to
 * triage_add() as a struct triage_in whose strings are borrowed for the call
 * only; triage copies what it keeps.  Triage is by risk, not by alert: most
 * alerts only add risk to their entities, and an incident opens when an
 * entity's risk crosses the threshold or when a detection that may stand
 * alone (a correlation, an anomaly, a high-confidence rule) says so; each
 * incident keeps why it opened.  Triage never logs and never does I/O:
 * it reports through the callbacks given at triage_new(), and the caller
 * (the store) writes what it is told.  Every time is event time (the µs of
 * the event behind the alert), so a scan of old logs triages as if live.
 *
 * Everything it holds in memory is capped (triage_opts caps); past a cap the
 * oldest item (by last touch) is evicted and counted.  Options, their
 * defaults and the tables behind the decisions are in rules/config/triage.yaml
 * and documented in docs/triage.md.
 */
#ifndef HIKESHI_TRIAGE_TRIAGE_H
#define HIKESHI_TRIAGE_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "triage/asset.h"
#include "util/parse_err.h"

enum triage_kind {
    TRIAGE_KIND_RULE = 0,    /* single-event Sigma match */
    TRIAGE_KIND_CORRELATION, /* Sigma correlation hit */
    TRIAGE_KIND_ANOMALY,     /* rate, first-seen, beaconing */
};

enum triage_role {
    TRIAGE_ROLE_OTHER = 0,
    TRIAGE_ROLE_ATTACKER,
    TRIAGE_ROLE_VICTIM,
};

/* How sure a detector says it is (an IDS signature's metadata); NONE when
 * it does not say, which weighs as medium. */
enum triage_conf {
    TRIAGE_CONF_NONE = 0,
    TRIAGE_CONF_LOW,
    TRIAGE_CONF_MEDIUM,
    TRIAGE_CONF_HIGH,
};
#define TRIAGE_CONF_COUNT 4

/* Levels as enum sigma_level: 1 informational .. 5 critical. */
#define TRIAGE_LEVEL_INFORMATIONAL 1
#define TRIAGE_LEVEL_LOW 2
#define TRIAGE_LEVEL_MEDIUM 3
#define TRIAGE_LEVEL_HIGH 4
#define TRIAGE_LEVEL_CRITICAL 5

struct triage_entity {
    const char *field; /* ECS name: source.ip, destination.ip, host.name, user.name ... */
    const char *value;
    int role; /* enum triage_role */
};

/* One alert, as the detection stage hands it over.  All borrowed. */
struct triage_in {
    enum triage_kind kind;
    const char *rule_id;
    const char *rule_name;  /* may be NULL; anomalies: "anomaly.beacon" ... */
    const char *rule_title; /* may be NULL */
    int level;              /* 1..5 as above; out of range is clamped */
    const char *const *tags;
    size_t ntags;
    const char *corr_type; /* event_count, temporal_ordered ... or NULL */
    int64_t time_us;       /* the event's own time (a hit: its last event's) */
    uint64_t count;        /* events behind it; 0 is taken as 1 */
    const struct triage_entity *entities;
    size_t nentities;
    /* A relayed alert: the record the rule matched is itself another
     * detector's alert (an IDS's, event.kind "alert").  sig_id / sig_name
     * are that detector's own signature (either may be NULL, not both);
     * both NULL for hikeshi's own detections.  A relayed alert only adds
     * risk, aggregates per signature, and its type counts fully only once
     * something else corroborates it (docs/triage.md). */
    const char *sig_id;
    const char *sig_name;
    int confidence; /* enum triage_conf, as the rule or detector gives it */
    /* The detector's connection id (EVE flow_id) or NULL: an IDS fires
     * several overlapping signatures on one connection, and relayed
     * alerts sharing one are one observation (risk and breadth once). */
    const char *flow_id;
    /* Which records' world it belongs to: 0 real records; any other value
     * a tabletop exercise's run (the pipeline gives the run's id, -1 when
     * it is unknown).  Alerts, entity risk and incidents of one realm
     * never meet another's: a second run of a scenario within the group
     * window opens its own incidents, and exercise alerts neither join
     * nor raise a real incident (docs/exercise.md). */
    int64_t realm;
};

/*
 * The incident types of MISSION.md section 2: one enum for triage's
 * proposal and the incident record (incident/ uses it as is).  The internal
 * types come first, in precedence order: when alerts join an incident the
 * type with the higher value wins.  Triage proposes only those
 * (TRIAGE_TYPE_COUNT); the external types after them come from information
 * gathering and exist only on the record (TRIAGE_TYPE_ALL_COUNT).
 */
enum triage_type {
    TRIAGE_TYPE_NONE = 0,
    TRIAGE_TYPE_COMPLAINT,    /* complaints about rules */
    TRIAGE_TYPE_NEW_SYSTEM,   /* new system / organisation change */
    TRIAGE_TYPE_VULNERABLE,   /* vulnerability present */
    TRIAGE_TYPE_ANOMALOUS,    /* anomalous behaviour */
    TRIAGE_TYPE_POLICY,       /* policy violation */
    TRIAGE_TYPE_PROBE,        /* probe or attack without damage */
    TRIAGE_TYPE_INTRUDED,     /* intruded, no damage yet */
    TRIAGE_TYPE_DAMAGE,       /* damage manifest */
    /* External types: analysed for impact, never proposed by triage. */
    TRIAGE_TYPE_EXT_VULN_INFO, /* vulnerability information */
    TRIAGE_TYPE_EXT_VIRUS,     /* new virus outbreak */
    TRIAGE_TYPE_EXT_TREND,     /* attack trend */
    TRIAGE_TYPE_EXT_OTHER_ORG, /* incident at another organisation */
    TRIAGE_TYPE_EXT_LAW,       /* change of law/guidelines */
};
/* The internal types (NONE included): what triage proposes and what its
 * options and the response policy name. */
#define TRIAGE_TYPE_COUNT 9
/* Every type, external ones included: what an incident record may hold. */
#define TRIAGE_TYPE_ALL_COUNT 14

/* Lockheed Martin kill-chain phases, in order. */
enum triage_stage {
    TRIAGE_STAGE_NONE = 0,
    TRIAGE_STAGE_RECON,
    TRIAGE_STAGE_WEAPONIZATION,
    TRIAGE_STAGE_DELIVERY,
    TRIAGE_STAGE_EXPLOITATION,
    TRIAGE_STAGE_INSTALLATION,
    TRIAGE_STAGE_C2,
    TRIAGE_STAGE_ACTIONS,
};
#define TRIAGE_STAGE_COUNT 8

/* MISSION.md section 3 levels. */
enum triage_alert_level {
    TRIAGE_GREEN = 0,
    TRIAGE_YELLOW,
    TRIAGE_ORANGE,
    TRIAGE_RED,
};

/* A name -> type mapping row of the options (rule names, corr types, tags). */
struct triage_map {
    char *key; /* owned */
    int value; /* enum triage_type or enum triage_stage */
};

struct triage_supp {
    char *id;     /* owned; optional label, "#<n>" when not given */
    char *reason; /* owned; required */
    char *author; /* owned; required */
    int64_t expires_us;
    char **rules; /* owned; rule ids or names, any may match; none = any rule */
    size_t nrules;
    char **fields; /* owned; fields[i] must equal values[i] for some entity */
    char **values;
    size_t nfields;
    struct asset_net *nets; /* any IP-valued entity in any of these */
    size_t nnets;
    char *net_field; /* owned; restrict nets to this entity field; NULL = any */
    unsigned line;   /* in its file, for listings */
    int expired;     /* expired when loaded: never used */
};

struct triage_opts {
    char *path;               /* owned; where it was loaded from, NULL = built in */
    int64_t dedup_window_us;  /* same rule + entities within this = one alert */
    int64_t group_window_us;  /* alerts of one attacker within this = one incident */
    int64_t risk_half_life_us;
    double risk_threshold;
    double level_weight[6]; /* by level 1..5; [0] unused */
    double crit_factor[ASSET_CRIT_COUNT];
    enum asset_crit default_crit;       /* for unknown assets */
    enum asset_category default_cat;    /* for unknown assets */
    int open_min_level_rule;            /* single rules open an incident at >= this */
    int open_min_level_other;           /* correlations and anomalies: >= this */
    char **open_rules;                  /* owned; rules (name, id or tag) that always open */
    size_t nopen_rules;
    char **risk_only; /* owned; rules (name, id or tag) that never open */
    size_t nrisk_only;
    int64_t risk_window_us;                /* distinct rules and tactics are counted within */
    double rule_bonus;                     /* score factor per distinct rule past the first */
    double tactic_bonus;                   /* score factor per distinct tactic past the first */
    size_t risk_min_rules;                 /* distinct rules an entity needs to cross */
    double conf_factor[TRIAGE_CONF_COUNT]; /* by enum triage_conf; [NONE] is 1 */
    int relayed_max_type;                  /* type a relayed alert gives uncorroborated */
    size_t max_alerts, max_entities, max_incidents;
    struct triage_map *type_by_rule;    /* rule name or id -> type */
    size_t ntype_by_rule;
    struct triage_map *type_by_corr;    /* correlation type -> type */
    size_t ntype_by_corr;
    struct triage_map *type_by_tag;     /* tag -> type (most severe match wins) */
    size_t ntype_by_tag;
    int type_default[3];                /* by enum triage_kind */
    struct triage_map *stage_by_tactic; /* ATT&CK tactic -> stage */
    size_t nstage_by_tactic;
    int level_table[TRIAGE_TYPE_COUNT][5]; /* [type][category] -> level */
    int crit_adjust[ASSET_CRIT_COUNT];     /* added to the level, clamped */
    struct triage_supp *supp;
    size_t nsupp;
    size_t nsupp_expired;
    char **asset_files; /* owned; inventory files named in the options */
    size_t nasset_files;
};

/*
 * Parses triage options from YAML text (the language of
 * rules/config/triage.yaml).  Keys not given keep the built-in defaults.
 * Suppressions whose expiry is at or before `now_us` are kept but marked
 * expired (and counted in nsupp_expired).  On a syntax or value error returns
 * -EINVAL with reterr's line, col and msg set, and *ret untouched; -ENOMEM.
 * The caller owns *ret (triage_opts_free).
 */
int triage_opts_parse(const char *text, size_t len, const char *name, int64_t now_us,
                      struct triage_opts **ret, struct parse_err *reterr);
/* As triage_opts_parse on a file; -errno when it cannot be read. */
int triage_opts_load(const char *path, int64_t now_us, struct triage_opts **ret,
                     struct parse_err *reterr);
/* The built-in defaults (the same as the shipped triage.yaml); NULL on OOM. */
struct triage_opts *triage_opts_defaults(void);
/* Adds the `suppress:` list of a separate YAML file to `o`.  Same error
 * contract as triage_opts_parse; on error `o` is unchanged. */
int triage_opts_load_suppress(struct triage_opts *o, const char *text, size_t len,
                              int64_t now_us, struct parse_err *reterr);
void triage_opts_free(struct triage_opts *o);

/* Exact MISSION.md strings ("damage manifest" ...) of every type, the
 * external ones included; "none" for NONE and out of range. */
const char *triage_type_name(enum triage_type t);
/* "recon", "weaponization", "delivery", "exploitation", "installation",
 * "command and control", "actions on objectives"; "none". */
const char *triage_stage_name(enum triage_stage s);
/* "Green", "Yellow", "Orange", "Red". */
const char *triage_level_name(enum triage_alert_level l);

/* An aggregated alert: one rule on one entity set within the dedup window. */
struct triage_alert {
    uint64_t id;
    enum triage_kind kind;
    char *rule_id, *rule_name, *rule_title; /* owned */
    int level;
    char *key; /* owned; rule id and sorted "field=value" entities */
    uint64_t count;
    int64_t first_us, last_us;
    uint64_t incident_id; /* 0 when it joined none */
    enum triage_type type; /* as the alert claims it; relayed: see relayed_max_type */
    int relayed;           /* an IDS's alert: aggregated per signature, not per entity set */
};

#define TRIAGE_INC_MAX_VICTIMS 32
/* The explanation of an incident, NUL-terminated, cut to fit. */
#define TRIAGE_WHY_MAX 200
#define TRIAGE_INC_MAX_ALERTS 64

struct triage_incident {
    uint64_t id;
    char *key; /* owned; the grouping entity: "source.ip=203.0.113.5" ... */
    enum triage_type type;
    enum triage_alert_level level;
    unsigned stages;         /* bit (1 << stage) for each stage seen */
    enum triage_stage stage; /* furthest seen */
    enum asset_category cat;
    enum asset_crit crit;
    int asset_from_victim; /* 1: cat/crit came from a victim asset */
    int risk_opened;       /* 1: opened because an entity crossed the threshold */
    /* Why it opened, for people: "opened because: 3 rules, 2 tactics,
     * risk 84 >= 60", "opened because: correlation ssh_bruteforce_success". */
    char why[TRIAGE_WHY_MAX];
    enum triage_type relayed_type; /* most severe type relayed alerts claimed */
    int corroborated;              /* evidence other than relayed alerts is in it */
    int64_t first_us, last_us;
    uint64_t nalerts;     /* aggregated alerts joined */
    uint64_t nevents;     /* alerts behind them, duplicates included */
    uint64_t alerts[TRIAGE_INC_MAX_ALERTS]; /* first aggregated alert ids */
    char *victims[TRIAGE_INC_MAX_VICTIMS];  /* owned; "field=value" */
    size_t nvictims;
    uint64_t victims_dropped;
    /* In incident_updated: the type and level it had when last reported,
     * and why triage changed it since ("alert X joined, type T; ..."), for
     * the audit trail; "" when nothing but counts changed. */
    enum triage_type was_type;
    enum triage_alert_level was_level;
    char chg_why[TRIAGE_WHY_MAX];
};

/* Bits of `changed` in incident callbacks. */
#define TRIAGE_CHG_ALERT 0x01u  /* a new aggregated alert joined */
#define TRIAGE_CHG_TYPE 0x02u
#define TRIAGE_CHG_LEVEL 0x04u
#define TRIAGE_CHG_STAGE 0x08u
#define TRIAGE_CHG_VICTIM 0x10u
#define TRIAGE_CHG_RISK 0x20u   /* an entity of it crossed the risk threshold */
#define TRIAGE_CHG_COUNT 0x40u  /* only counts and times (from triage_flush) */

/* Callbacks; any may be NULL.  Pointers are valid during the call only. */
struct triage_cb {
    void *ctx;
    void (*alert_new)(void *ctx, const struct triage_alert *a);
    /* Duplicates grew count/last_us: from triage_sync and triage_flush
     * (not once per duplicate), and before a grown alert leaves memory
     * (its window ended, or the table's cap evicted it), so that what
     * was reported last is always whole. */
    void (*alert_updated)(void *ctx, const struct triage_alert *a);
    void (*suppressed)(void *ctx, const struct triage_in *in, const struct triage_supp *s);
    void (*incident_opened)(void *ctx, const struct triage_incident *inc);
    void (*incident_updated)(void *ctx, const struct triage_incident *inc, unsigned changed);
    /* Numbers a new incident (the store's next free id, so that incidents
     * opened elsewhere, e.g. by the API, never share one).  NULL, or a
     * return of 0: triage counts on from its last id.  Ids never go back:
     * an id at or below the last one given is replaced by the next. */
    uint64_t (*incident_id)(void *ctx);
};

struct triage_stats {
    uint64_t alerts_in;
    uint64_t suppressed;
    uint64_t supp_expired_rules; /* suppressions ignored as expired */
    uint64_t aggregated;         /* aggregated alerts created */
    uint64_t duplicates;         /* alerts folded into an existing one */
    uint64_t incidents_opened;
    uint64_t incidents_updated;
    uint64_t risk_crossings;
    uint64_t risk_opened; /* incidents opened by an entity's risk */
    uint64_t risk_only;   /* alerts that joined no incident: risk only */
    uint64_t evicted_alerts, evicted_entities, evicted_incidents; /* by caps */
    uint64_t expired_alerts, expired_incidents; /* past their window at flush */
    uint64_t oom;                               /* alerts dropped for memory */
    size_t live_alerts, live_entities, live_incidents;
};

struct triage;

/*
 * A triage state.  `o` and `inv` are borrowed and must outlive it (inv may
 * be NULL: every asset is unknown); `cb` is copied.  NULL on OOM.
 */
struct triage *triage_new(const struct triage_opts *o, const struct asset_inv *inv,
                          const struct triage_cb *cb);
void triage_free(struct triage *t);

/* What triage_add made of one alert. */
struct triage_made {
    uint64_t agg_id;      /* the aggregated alert it created or joined; 0 when
                             suppressed or lost for memory */
    uint64_t incident_id; /* the incident that aggregated alert is in; 0 none */
};

/*
 * Triages one alert: suppression, dedup, risk, grouping, with callbacks as
 * things are created or change.  Duplicates of a live aggregated alert only
 * mark it dirty (see triage_flush).  *ret_made (may be NULL) is always set:
 * what the alert became.  Returns 0, or -ENOMEM (counted; the alert is lost
 * for aggregation, or its aggregated alert lost its incident link, but
 * state stays consistent; *ret_made says which).
 */
int triage_add(struct triage *t, const struct triage_in *in, struct triage_made *ret_made);

/*
 * Reports the aggregated alerts that duplicates grew since the last report
 * (alert_updated), each once.  Costs what changed, not what is live: the
 * pipeline calls it after every batch, so that the stored count and last
 * seen are current at each commit.
 */
void triage_sync(struct triage *t);

/*
 * Reports dirty aggregated alerts (alert_updated) and incidents
 * (incident_updated with TRIAGE_CHG_COUNT), then forgets aggregated alerts
 * and incidents whose window ended before `now_us` (event time).
 */
void triage_flush(struct triage *t, int64_t now_us);

void triage_stats(const struct triage *t, struct triage_stats *ret);
/* Alerts silenced by o->supp[i] so far (0 past the end). */
uint64_t triage_supp_hits(const struct triage *t, size_t i);
/* Call after suppressions were added to the options this triage runs on
 * (triage_opts_load_suppress on the same options, same thread): they
 * apply from the next alert.  -ENOMEM (the new ones are then not counted
 * and must not be used: the caller stops). */
int triage_supp_added(struct triage *t);
/* Current risk of an entity at time `at_us` (decayed), 0 when unknown. */
double triage_risk(const struct triage *t, const char *field, const char *value, int64_t at_us);
/* The score that is compared with the threshold: the risk times the
 * bonus for distinct rules and tactics within the window; 0 when unknown.
 * ret_rules / ret_tactics (may be NULL) get the distinct counts. */
double triage_score(const struct triage *t, const char *field, const char *value, int64_t at_us,
                    unsigned *ret_rules, unsigned *ret_tactics);

#endif
