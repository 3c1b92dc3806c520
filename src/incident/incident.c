/*
 * incident.c - the incident record: names, its phase state machine, field
 * changes, time targets, the organisation's declared levels and the real
 * risk meter.  Its JSON forms are in incident_json.c.
 */
#include "incident/incident.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "incident/incident_priv.h"
#include "util/jp.h"

#define US_PER_MIN (INT64_C(60) * 1000000)
#define US_PER_DAY (INT64_C(86400) * 1000000)

/* ------------------------------------------------------------------ */
/* Names                                                               */

static const char *const method_names[INCIDENT_METHOD_COUNT] = {
    "own monitoring",           "information gathering",
    "internal report",          "external report (private)",
    "external report (public)", "press",
};

static const char *const leak_names[INCIDENT_LEAK_COUNT] = {
    "none", "loss-theft", "misdelivery",         "insider",
    "p2p",  "malware",    "unauthorised-access", "rumour",
};

static const char *const phase_names[INCIDENT_PHASE_COUNT] = {
    "new", "first_aid", "emergency", "watch", "full_response", "closed",
};

static const char *const cat_names[5] = {"none", "A", "B", "C", "D"};
static const char *const kind_names[3] = {"host", "user", "address"};
static const char *const role_names[2] = {"victim", "attacker"};
static const char *const level_names[4] = {"Green", "Yellow", "Orange", "Red"};

const char *incident_method_name(enum incident_method m)
{
    return (unsigned)m < INCIDENT_METHOD_COUNT ? method_names[m] : "?";
}

const char *incident_leak_name(enum incident_leak l)
{
    return (unsigned)l < INCIDENT_LEAK_COUNT ? leak_names[l] : "?";
}

const char *incident_phase_name(enum incident_phase p)
{
    return (unsigned)p < INCIDENT_PHASE_COUNT ? phase_names[p] : "?";
}

const char *incident_category_name(enum asset_category c)
{
    return (unsigned)c < 5 ? cat_names[c] : "none";
}

const char *incident_entity_kind_name(enum incident_entity_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "?";
}

const char *incident_entity_role_name(enum incident_entity_role r)
{
    return (unsigned)r < 2 ? role_names[r] : "?";
}

static int name_index(const char *const *names, size_t n, const char *s, size_t len, int nocase)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) != len)
            continue;
        if (nocase ? strncasecmp(names[i], s, len) == 0 : memcmp(names[i], s, len) == 0)
            return (int)i;
    }
    return -1;
}

int incident_type_from_name(const char *s, size_t len, enum triage_type *ret)
{
    /* triage holds the one table of names: every type, external ones too. */
    for (int i = 0; i < TRIAGE_TYPE_ALL_COUNT; i++) {
        const char *name = triage_type_name((enum triage_type)i);
        if (strlen(name) == len && memcmp(name, s, len) == 0) {
            *ret = (enum triage_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

int incident_method_from_name(const char *s, size_t len, enum incident_method *ret)
{
    int i = name_index(method_names, INCIDENT_METHOD_COUNT, s, len, 0);
    if (i < 0)
        return -EINVAL;
    *ret = (enum incident_method)i;
    return 0;
}

int incident_leak_from_name(const char *s, size_t len, enum incident_leak *ret)
{
    int i = name_index(leak_names, INCIDENT_LEAK_COUNT, s, len, 0);
    if (i <= 0) /* "none" is not a name a client sends: null is */
        return -EINVAL;
    *ret = (enum incident_leak)i;
    return 0;
}

int incident_phase_from_name(const char *s, size_t len, enum incident_phase *ret)
{
    int i = name_index(phase_names, INCIDENT_PHASE_COUNT, s, len, 0);
    if (i < 0)
        return -EINVAL;
    *ret = (enum incident_phase)i;
    return 0;
}

int incident_category_from_name(const char *s, size_t len, enum asset_category *ret)
{
    /* "none" is not a category a person declares: only A..D. */
    int i = name_index(cat_names, 5, s, len, 1);
    if (i <= 0)
        return -EINVAL;
    *ret = (enum asset_category)i;
    return 0;
}

int incident_level_from_name(const char *s, size_t len, enum triage_alert_level *ret)
{
    int i = name_index(level_names, 4, s, len, 1);
    if (i < 0)
        return -EINVAL;
    *ret = (enum triage_alert_level)i;
    return 0;
}

int incident_stage_from_name(const char *s, size_t len, enum triage_stage *ret)
{
    for (int i = 1; i < TRIAGE_STAGE_COUNT; i++) {
        const char *n = triage_stage_name((enum triage_stage)i);
        if (strlen(n) == len && memcmp(n, s, len) == 0) {
            *ret = (enum triage_stage)i;
            return 0;
        }
    }
    return -EINVAL;
}

int incident_entity_kind_from_name(const char *s, size_t len, enum incident_entity_kind *ret)
{
    int i = name_index(kind_names, 3, s, len, 0);
    if (i < 0)
        return -EINVAL;
    *ret = (enum incident_entity_kind)i;
    return 0;
}

int incident_entity_role_from_name(const char *s, size_t len, enum incident_entity_role *ret)
{
    int i = name_index(role_names, 2, s, len, 0);
    if (i < 0)
        return -EINVAL;
    *ret = (enum incident_entity_role)i;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */

/* A string a person gives (title, names, reasons): valid UTF-8 and within
 * its cap.  NULL counts as empty. */
static int str_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n <= max && jp_utf8_ok((const unsigned char *)s, n);
}

static int str_nonempty(const char *s)
{
    return s && s[0];
}

/* Copies src into dst[size], cut at a UTF-8 boundary with "..." when it
 * does not fit.  NULL copies as "". */
void incident_copy_trunc(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (size < 4) {
        /* No room for the ellipsis: callers never do this, keep it safe. */
        if (size > 0)
            dst[0] = '\0';
        return;
    }
    if (!src || n < size) {
        memcpy(dst, src ? src : "", n);
        dst[n] = '\0';
        return;
    }
    n = size - 4;
    while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
        n--;
    memcpy(dst, src, n);
    memcpy(dst + n, "...", 4);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

int incident_init(struct incident *inc, uint64_t id, int64_t now_us)
{
    memset(inc, 0, sizeof(*inc));
    inc->id = id;
    inc->title = strdup("");
    inc->summary = strdup("");
    if (!inc->title || !inc->summary) {
        incident_done(inc);
        return -ENOMEM;
    }
    inc->method = INCIDENT_METHOD_OWN_MONITORING;
    inc->level = TRIAGE_GREEN;
    inc->phase = INCIDENT_PHASE_NEW;
    inc->created_us = inc->updated_us = inc->phase_since_us = now_us;
    inc->version = 1;
    return 0;
}

void incident_free_tags(char **tags, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tags[i]);
    free(tags);
}

void incident_done(struct incident *inc)
{
    if (!inc)
        return;
    free(inc->title);
    free(inc->summary);
    free(inc->assignee);
    free(inc->responsible);
    for (size_t i = 0; i < inc->nentities; i++)
        free(inc->entities[i].value);
    free(inc->entities);
    free(inc->alerts);
    incident_free_tags(inc->tags, inc->ntags);
    memset(inc, 0, sizeof(*inc));
}

void incident_change_fill(struct incident_change *c, const struct incident *inc, int64_t now_us,
                          const char *who, const char *what, const char *from, const char *to,
                          const char *reason)
{
    if (!c)
        return;
    c->time_us = now_us;
    c->version = inc->version;
    incident_copy_trunc(c->who, sizeof(c->who), who);
    incident_copy_trunc(c->what, sizeof(c->what), what);
    incident_copy_trunc(c->from, sizeof(c->from), from);
    incident_copy_trunc(c->to, sizeof(c->to), to);
    incident_copy_trunc(c->reason, sizeof(c->reason), reason);
}

static void no_change(struct incident_change *c)
{
    if (c)
        memset(c, 0, sizeof(*c));
}

void incident_bump(struct incident *inc, int64_t now_us)
{
    inc->version++;
    inc->updated_us = now_us;
}

static int refuse(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    if (why && whylen) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Phases                                                              */

/* NULL when from -> to is legal with the given reason, else why not. */
static const char *transition_refusal(enum incident_phase from, enum incident_phase to,
                                      int has_reason)
{
    if (from == to)
        return "the incident is already in that phase";
    if (to == INCIDENT_PHASE_NEW)
        return "no incident returns to new; it has been seen";
    switch (from) {
    case INCIDENT_PHASE_NEW:
        if (to == INCIDENT_PHASE_FIRST_AID)
            return NULL;
        if (to == INCIDENT_PHASE_CLOSED)
            return has_reason ? NULL
                              : "closing before any response needs a reason "
                                "(false positive, duplicate, merged)";
        return "first aid comes first (contain, isolate, preserve evidence, first report)";
    case INCIDENT_PHASE_FIRST_AID:
        if (to == INCIDENT_PHASE_EMERGENCY)
            return NULL;
        if (to == INCIDENT_PHASE_CLOSED)
            return has_reason ? NULL
                              : "closing during first aid needs a reason "
                                "(false positive, duplicate, merged)";
        return "the emergency response (method, route, scope) comes first";
    case INCIDENT_PHASE_EMERGENCY:
        if (to == INCIDENT_PHASE_WATCH || to == INCIDENT_PHASE_FULL_RESPONSE)
            return NULL;
        if (to == INCIDENT_PHASE_CLOSED)
            return has_reason ? NULL
                              : "closing during the emergency response needs a reason "
                                "(false positive, duplicate, merged)";
        return "phases do not go back; the emergency response goes on to watch or full_response";
    case INCIDENT_PHASE_WATCH:
        if (to == INCIDENT_PHASE_FULL_RESPONSE || to == INCIDENT_PHASE_CLOSED)
            return NULL;
        if (to == INCIDENT_PHASE_EMERGENCY)
            return has_reason ? NULL
                              : "going back to the emergency response needs a reason "
                                "(renewed activity)";
        return "phases do not go back; from watch go to full_response, closed or emergency";
    case INCIDENT_PHASE_FULL_RESPONSE:
        if (to == INCIDENT_PHASE_CLOSED)
            return NULL;
        return "phases do not go back; full_response ends by closing";
    case INCIDENT_PHASE_CLOSED:
        if (to == INCIDENT_PHASE_FIRST_AID)
            return has_reason ? NULL : "reopening needs a reason (new evidence, recurrence)";
        return "a closed incident can only be reopened into first_aid";
    }
    return "unknown phase";
}

int incident_transition_legal(enum incident_phase from, enum incident_phase to)
{
    if ((unsigned)from >= INCIDENT_PHASE_COUNT || (unsigned)to >= INCIDENT_PHASE_COUNT)
        return 0;
    return transition_refusal(from, to, 1) == NULL;
}

/* Checks a move without making it; writes why on refusal. */
int incident_transition_check(const struct incident *inc, enum incident_phase to, const char *who,
                              const char *reason, char *why, size_t whylen)
{
    const char *from = incident_phase_name(inc->phase);
    const char *no;

    if ((unsigned)to >= INCIDENT_PHASE_COUNT)
        return refuse(why, whylen, "cannot go from %s to %s: there is no such phase", from, "?");
    if (!str_nonempty(who) || !str_ok(who, INCIDENT_NAME_MAX))
        return refuse(why, whylen,
                      "cannot go from %s to %s: who makes the change must be given "
                      "(at most 64 bytes of UTF-8)",
                      from, incident_phase_name(to));
    if (!str_ok(reason, INCIDENT_REASON_MAX))
        return refuse(why, whylen,
                      "cannot go from %s to %s: the reason must be UTF-8 of at "
                      "most 512 bytes",
                      from, incident_phase_name(to));
    no = transition_refusal(inc->phase, to, str_nonempty(reason));
    if (no) {
        if (why && whylen)
            snprintf(why, whylen, "cannot go from %s to %s: %s", from, incident_phase_name(to), no);
        return -EINVAL;
    }
    return 0;
}

void incident_transition_apply(struct incident *inc, enum incident_phase to, const char *who,
                               const char *reason, int64_t now_us, struct incident_change *ret)
{
    enum incident_phase from = inc->phase;
    inc->phase = to;
    inc->phase_since_us = now_us;
    incident_bump(inc, now_us);
    incident_change_fill(ret, inc, now_us, who, "phase", incident_phase_name(from),
                         incident_phase_name(to), reason);
}

int incident_transition(struct incident *inc, enum incident_phase to, const char *who,
                        const char *reason, int64_t now_us, struct incident_change *ret, char *why,
                        size_t whylen)
{
    int r = incident_transition_check(inc, to, who, reason, why, whylen);
    if (r < 0)
        return r;
    incident_transition_apply(inc, to, who, reason, now_us, ret);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Field changes                                                       */

int incident_change_check(int closed, const char *who, const char *reason, const char *what,
                          char *why, size_t whylen)
{
    if (!str_nonempty(who) || !str_ok(who, INCIDENT_NAME_MAX))
        return refuse(why, whylen,
                      "cannot change the %s: who makes the change must be given "
                      "(at most 64 bytes of UTF-8)",
                      what);
    if (!str_ok(reason, INCIDENT_REASON_MAX))
        return refuse(why, whylen,
                      "cannot change the %s: the reason must be UTF-8 of at most "
                      "512 bytes",
                      what);
    if (closed)
        return refuse(why, whylen,
                      "cannot change the %s: the incident is closed; reopen it "
                      "first",
                      what);
    return 0;
}

int incident_set_level(struct incident *inc, enum triage_alert_level level, const char *who,
                       const char *reason, int64_t now_us, struct incident_change *ret, char *why,
                       size_t whylen)
{
    enum triage_alert_level from = inc->level;
    int r = incident_change_check(inc->phase == INCIDENT_PHASE_CLOSED, who, reason, "level", why,
                                  whylen);
    if (r < 0)
        return r;
    if ((unsigned)level > TRIAGE_RED)
        return refuse(why, whylen, "cannot change the level: there is no such level");
    no_change(ret);
    if (level == from)
        return 0;
    inc->level = level;
    incident_bump(inc, now_us);
    incident_change_fill(ret, inc, now_us, who, "level", triage_level_name(from),
                         triage_level_name(level), reason);
    return 0;
}

int incident_set_assignee(struct incident *inc, const char *assignee, const char *who,
                          int64_t now_us, struct incident_change *ret, char *why, size_t whylen)
{
    char *copy = NULL;
    int r = incident_change_check(inc->phase == INCIDENT_PHASE_CLOSED, who, NULL, "assignee", why,
                                  whylen);
    if (r < 0)
        return r;
    if (!str_ok(assignee, INCIDENT_NAME_MAX))
        return refuse(why, whylen,
                      "cannot change the assignee: the name must be UTF-8 of at most "
                      "64 bytes");
    no_change(ret);
    if (!str_nonempty(assignee) ? inc->assignee == NULL
                                : inc->assignee && strcmp(inc->assignee, assignee) == 0)
        return 0;
    if (str_nonempty(assignee) && !(copy = strdup(assignee)))
        return -ENOMEM;
    incident_bump(inc, now_us);
    incident_change_fill(ret, inc, now_us, who, "assignee", inc->assignee, copy, NULL);
    free(inc->assignee);
    inc->assignee = copy;
    return 0;
}

int incident_add_entity(struct incident *inc, const char *value, enum incident_entity_kind kind,
                        enum incident_entity_role role, const char *who, int64_t now_us,
                        struct incident_change *ret)
{
    struct incident_entity *e;
    char *copy;
    char to[INCIDENT_VALUE_MAX + 32];

    if (!str_nonempty(value) || !str_ok(value, INCIDENT_VALUE_MAX) || (unsigned)kind > 2 ||
        (unsigned)role > 1 || !str_nonempty(who))
        return -EINVAL;
    no_change(ret);
    for (size_t i = 0; i < inc->nentities; i++)
        if (inc->entities[i].kind == kind && inc->entities[i].role == role &&
            strcmp(inc->entities[i].value, value) == 0)
            return 0;
    if (inc->nentities >= INCIDENT_MAX_ENTITIES)
        return -E2BIG;
    e = realloc(inc->entities, (inc->nentities + 1) * sizeof(*e));
    if (!e)
        return -ENOMEM;
    inc->entities = e;
    if (!(copy = strdup(value)))
        return -ENOMEM;
    e[inc->nentities++] = (struct incident_entity){copy, kind, role};
    incident_bump(inc, now_us);
    snprintf(to, sizeof(to), "%s %s %s", incident_entity_role_name(role),
             incident_entity_kind_name(kind), value);
    incident_change_fill(ret, inc, now_us, who, "entity", NULL, to, NULL);
    return 0;
}

int incident_add_alert(struct incident *inc, uint64_t alert_id, const char *who, int64_t now_us,
                       struct incident_change *ret)
{
    uint64_t *a;
    char to[24];

    if (!str_nonempty(who))
        return -EINVAL;
    no_change(ret);
    for (size_t i = 0; i < inc->nalerts; i++)
        if (inc->alerts[i] == alert_id)
            return 0;
    if (inc->nalerts >= INCIDENT_MAX_ALERTS)
        return -E2BIG;
    a = realloc(inc->alerts, (inc->nalerts + 1) * sizeof(*a));
    if (!a)
        return -ENOMEM;
    inc->alerts = a;
    a[inc->nalerts++] = alert_id;
    incident_bump(inc, now_us);
    snprintf(to, sizeof(to), "%llu", (unsigned long long)alert_id);
    incident_change_fill(ret, inc, now_us, who, "alert", NULL, to, NULL);
    return 0;
}

int incident_add_stage(struct incident *inc, enum triage_stage stage, const char *who,
                       int64_t now_us, struct incident_change *ret)
{
    if (stage <= TRIAGE_STAGE_NONE || stage >= TRIAGE_STAGE_COUNT || !str_nonempty(who))
        return -EINVAL;
    no_change(ret);
    if (inc->stages & (1u << stage))
        return 0;
    inc->stages |= 1u << stage;
    incident_bump(inc, now_us);
    incident_change_fill(ret, inc, now_us, who, "stage", NULL, triage_stage_name(stage), NULL);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Time targets                                                        */

void incident_targets_default(struct incident_targets *t)
{
    static const int64_t def[INCIDENT_PHASE_COUNT] = {
        15 * US_PER_MIN, 30 * US_PER_MIN, 2 * US_PER_DAY, 14 * US_PER_DAY, 90 * US_PER_DAY, 0,
    };
    for (int p = 0; p < INCIDENT_PHASE_COUNT; p++)
        for (int c = 0; c < 5; c++)
            for (int l = 0; l < 4; l++)
                t->target_us[p][c][l] = def[p];
    t->due_soon_permille = 200;
}

int incident_targets_set(struct incident_targets *t, enum incident_phase phase, int category,
                         int level, int64_t us)
{
    if ((unsigned)phase >= INCIDENT_PHASE_COUNT || category < -1 || category > 4 || level < -1 ||
        level > 3 || us < 0)
        return -EINVAL;
    for (int c = 0; c < 5; c++)
        for (int l = 0; l < 4; l++)
            if ((category < 0 || c == category) && (level < 0 || l == level))
                t->target_us[phase][c][l] = us;
    return 0;
}

int incident_deadline(const struct incident *inc, const struct incident_targets *t, int64_t now_us,
                      struct incident_deadline *ret)
{
    unsigned p = (unsigned)inc->phase, c = (unsigned)inc->category, l = (unsigned)inc->level;
    int64_t target;

    memset(ret, 0, sizeof(*ret));
    if (p >= INCIDENT_PHASE_COUNT)
        return 0;
    target = t->target_us[p][c < 5 ? c : 0][l < 4 ? l : 0];
    if (target <= 0)
        return 0;
    ret->has_target = 1;
    ret->due_us = inc->phase_since_us + target;
    ret->left_us = ret->due_us - now_us;
    ret->overdue = ret->left_us < 0;
    /* Compare in double: target * permille may not fit in int64 for a
     * target of centuries that a config file could give. */
    ret->due_soon =
        !ret->overdue && (double)ret->left_us < (double)target * t->due_soon_permille / 1000.0;
    return 0;
}

size_t incident_overdue(const struct incident *const *incs, size_t n,
                        const struct incident_targets *t, int64_t now_us, size_t *ret_idx,
                        size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct incident_deadline d;
        if (!incs[i])
            continue;
        incident_deadline(incs[i], t, now_us, &d);
        if (!d.overdue)
            continue;
        if (k < max)
            ret_idx[k] = i;
        k++;
    }
    return k;
}

/* ------------------------------------------------------------------ */
/* Declared levels                                                     */

void incident_org_init(struct incident_org *org)
{
    memset(org, 0, sizeof(*org));
}

void incident_org_done(struct incident_org *org)
{
    if (!org)
        return;
    free(org->hist);
    memset(org, 0, sizeof(*org));
}

int incident_org_declare(struct incident_org *org, enum asset_category category,
                         enum triage_alert_level level, const char *who, const char *why,
                         int64_t now_us, const char **reterr_msg)
{
    const char *msg = NULL;
    struct incident_declaration *d;

    if (category < ASSET_CAT_A || category > ASSET_CAT_D)
        msg = "category must be A, B, C or D";
    else if ((unsigned)level > TRIAGE_RED)
        msg = "level must be Green, Yellow, Orange or Red";
    else if (!str_nonempty(who) || !str_ok(who, INCIDENT_NAME_MAX))
        msg = "who declares must be given (at most 64 bytes)";
    else if (!str_nonempty(why) || !str_ok(why, INCIDENT_REASON_MAX))
        msg = "a declaration needs a reason (at most 512 bytes)";
    else if (org->n && now_us < org->hist[org->n - 1].time_us)
        msg = "a declaration cannot predate the previous one";
    if (msg) {
        if (reterr_msg)
            *reterr_msg = msg;
        return -EINVAL;
    }
    if (org->n >= INCIDENT_ORG_MAX_HISTORY) {
        if (reterr_msg)
            *reterr_msg = "declaration history is full";
        return -E2BIG;
    }
    if (org->n == org->cap) {
        size_t cap = org->cap ? org->cap * 2 : 16;
        d = realloc(org->hist, cap * sizeof(*d));
        if (!d)
            return -ENOMEM;
        org->hist = d;
        org->cap = cap;
    }
    d = &org->hist[org->n++];
    memset(d, 0, sizeof(*d));
    d->category = category;
    d->level = level;
    d->time_us = now_us;
    incident_copy_trunc(d->who, sizeof(d->who), who);
    incident_copy_trunc(d->why, sizeof(d->why), why);
    return 0;
}

enum triage_alert_level incident_org_current(const struct incident_org *org,
                                             enum asset_category category,
                                             const struct incident_declaration **ret_decl)
{
    for (size_t i = org->n; i > 0; i--) {
        if (org->hist[i - 1].category == category) {
            if (ret_decl)
                *ret_decl = &org->hist[i - 1];
            return org->hist[i - 1].level;
        }
    }
    if (ret_decl)
        *ret_decl = NULL;
    return TRIAGE_GREEN;
}

/* ------------------------------------------------------------------ */
/* Risk meter                                                          */

int incident_risk_meter(double a, double b, double c, double d, double *ret)
{
    double v;
    if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(d))
        return -EINVAL;
    if (a < 0 || d < 0 || b < 0 || b > 100 || c < 0 || c > 100)
        return -EINVAL;
    v = a + a * (100.0 - b) * (100.0 - c) * d;
    if (!isfinite(v))
        return -ERANGE;
    *ret = v;
    return 0;
}

void incident_risk_history_init(struct incident_risk_history *h)
{
    memset(h, 0, sizeof(*h));
}

void incident_risk_history_done(struct incident_risk_history *h)
{
    if (!h)
        return;
    free(h->s);
    memset(h, 0, sizeof(*h));
}

int incident_risk_history_add(struct incident_risk_history *h, int64_t time_us, double a, double b,
                              double c, double d)
{
    struct incident_risk_sample s = {time_us, a, b, c, d, 0};
    int r = incident_risk_meter(a, b, c, d, &s.value);
    if (r < 0)
        return r;
    if (h->n == h->cap && h->cap < INCIDENT_RISK_MAX_SAMPLES) {
        /* Grow only while nothing has wrapped: start is 0 until cap is
         * the maximum. */
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct incident_risk_sample *p;
        if (cap > INCIDENT_RISK_MAX_SAMPLES)
            cap = INCIDENT_RISK_MAX_SAMPLES;
        p = realloc(h->s, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        h->s = p;
        h->cap = cap;
    }
    if (h->n == h->cap) {
        h->s[h->start] = s;
        h->start = (h->start + 1) % h->cap;
    } else {
        h->s[(h->start + h->n) % h->cap] = s;
        h->n++;
    }
    return 0;
}

const struct incident_risk_sample *incident_risk_history_get(const struct incident_risk_history *h,
                                                             size_t i)
{
    return i < h->n ? &h->s[(h->start + i) % h->cap] : NULL;
}
