/*
 * incident.c - the incident record, its phase state machine, time targets,
 * the organisation's declared levels, the real risk meter and the JSON
 * forms of an incident.
 *
 * JSON is read by a small pull parser of its own rather than by
 * decode/decode_json.c: that decoder flattens into an event whose field
 * names are interned in the process-wide dictionary (API keys would grow
 * it) and it keeps numbers and strings alike as text, so it cannot tell
 * "level": 3 from "level": "3" — which a strict update must refuse.
 */
#include "incident/incident.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int stage_from_name(const char *s, size_t len, enum triage_stage *ret)
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
static void copy_trunc(char *dst, size_t size, const char *src)
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

static void free_tags(char **tags, size_t n)
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
    for (size_t i = 0; i < inc->nentities; i++)
        free(inc->entities[i].value);
    free(inc->entities);
    free(inc->alerts);
    free_tags(inc->tags, inc->ntags);
    memset(inc, 0, sizeof(*inc));
}

static void change_fill(struct incident_change *c, const struct incident *inc, int64_t now_us,
                        const char *who, const char *what, const char *from, const char *to,
                        const char *reason)
{
    if (!c)
        return;
    c->time_us = now_us;
    c->version = inc->version;
    copy_trunc(c->who, sizeof(c->who), who);
    copy_trunc(c->what, sizeof(c->what), what);
    copy_trunc(c->from, sizeof(c->from), from);
    copy_trunc(c->to, sizeof(c->to), to);
    copy_trunc(c->reason, sizeof(c->reason), reason);
}

static void no_change(struct incident_change *c)
{
    if (c)
        memset(c, 0, sizeof(*c));
}

static void bump(struct incident *inc, int64_t now_us)
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
static int transition_check(const struct incident *inc, enum incident_phase to, const char *who,
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

static void transition_apply(struct incident *inc, enum incident_phase to, const char *who,
                             const char *reason, int64_t now_us, struct incident_change *ret)
{
    enum incident_phase from = inc->phase;
    inc->phase = to;
    inc->phase_since_us = now_us;
    bump(inc, now_us);
    change_fill(ret, inc, now_us, who, "phase", incident_phase_name(from), incident_phase_name(to),
                reason);
}

int incident_transition(struct incident *inc, enum incident_phase to, const char *who,
                        const char *reason, int64_t now_us, struct incident_change *ret, char *why,
                        size_t whylen)
{
    int r = transition_check(inc, to, who, reason, why, whylen);
    if (r < 0)
        return r;
    transition_apply(inc, to, who, reason, now_us, ret);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Field changes                                                       */

static int change_check(int closed, const char *who, const char *reason, const char *what,
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
    int r = change_check(inc->phase == INCIDENT_PHASE_CLOSED, who, reason, "level", why, whylen);
    if (r < 0)
        return r;
    if ((unsigned)level > TRIAGE_RED)
        return refuse(why, whylen, "cannot change the level: there is no such level");
    no_change(ret);
    if (level == from)
        return 0;
    inc->level = level;
    bump(inc, now_us);
    change_fill(ret, inc, now_us, who, "level", triage_level_name(from), triage_level_name(level),
                reason);
    return 0;
}

int incident_set_assignee(struct incident *inc, const char *assignee, const char *who,
                          int64_t now_us, struct incident_change *ret, char *why, size_t whylen)
{
    char *copy = NULL;
    int r = change_check(inc->phase == INCIDENT_PHASE_CLOSED, who, NULL, "assignee", why, whylen);
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
    bump(inc, now_us);
    change_fill(ret, inc, now_us, who, "assignee", inc->assignee, copy, NULL);
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
    bump(inc, now_us);
    snprintf(to, sizeof(to), "%s %s %s", incident_entity_role_name(role),
             incident_entity_kind_name(kind), value);
    change_fill(ret, inc, now_us, who, "entity", NULL, to, NULL);
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
    bump(inc, now_us);
    snprintf(to, sizeof(to), "%llu", (unsigned long long)alert_id);
    change_fill(ret, inc, now_us, who, "alert", NULL, to, NULL);
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
    bump(inc, now_us);
    change_fill(ret, inc, now_us, who, "stage", NULL, triage_stage_name(stage), NULL);
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
    copy_trunc(d->who, sizeof(d->who), who);
    copy_trunc(d->why, sizeof(d->why), why);
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

/* ------------------------------------------------------------------ */
/* JSON out                                                            */

static int json_kstr(struct buf *b, const char *key, const char *s)
{
    int r = buf_printf(b, "\"%s\":", key);
    if (r == 0)
        r = s ? buf_json_str(b, s, strlen(s)) : buf_puts(b, "null");
    return r;
}

int incident_to_json(const struct incident *inc, struct buf *b)
{
    int r;
    unsigned first = 1;

#define J(x)                                                                                       \
    do {                                                                                           \
        if ((r = (x)) < 0)                                                                         \
            return r;                                                                              \
    } while (0)
    J(buf_printf(b, "{\"id\":%llu,", (unsigned long long)inc->id));
    J(json_kstr(b, "title", inc->title));
    J(buf_putc(b, ','));
    J(json_kstr(b, "summary", inc->summary));
    J(buf_putc(b, ','));
    J(json_kstr(b, "type", triage_type_name(inc->type)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "detection_method", incident_method_name(inc->method)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "category",
                inc->category == ASSET_CAT_NONE ? NULL : incident_category_name(inc->category)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "level", triage_level_name(inc->level)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "phase", incident_phase_name(inc->phase)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "assignee", inc->assignee));
    J(buf_puts(b, ",\"entities\":["));
    for (size_t i = 0; i < inc->nentities; i++) {
        const struct incident_entity *e = &inc->entities[i];
        J(buf_puts(b, i ? ",{" : "{"));
        J(json_kstr(b, "value", e->value));
        J(buf_putc(b, ','));
        J(json_kstr(b, "kind", incident_entity_kind_name(e->kind)));
        J(buf_putc(b, ','));
        J(json_kstr(b, "role", incident_entity_role_name(e->role)));
        J(buf_putc(b, '}'));
    }
    J(buf_puts(b, "],\"alerts\":["));
    for (size_t i = 0; i < inc->nalerts; i++)
        J(buf_printf(b, "%s%llu", i ? "," : "", (unsigned long long)inc->alerts[i]));
    J(buf_puts(b, "],\"stages\":["));
    for (int s = 1; s < TRIAGE_STAGE_COUNT; s++) {
        if (!(inc->stages & (1u << s)))
            continue;
        if (!first)
            J(buf_putc(b, ','));
        first = 0;
        J(buf_json_str(b, triage_stage_name((enum triage_stage)s),
                       strlen(triage_stage_name((enum triage_stage)s))));
    }
    J(buf_puts(b, "],\"tags\":["));
    for (size_t i = 0; i < inc->ntags; i++) {
        if (i)
            J(buf_putc(b, ','));
        J(buf_json_str(b, inc->tags[i], strlen(inc->tags[i])));
    }
    J(buf_printf(b,
                 "],\"created_us\":%lld,\"updated_us\":%lld,\"phase_since_us\":%lld,"
                 "\"version\":%llu}",
                 (long long)inc->created_us, (long long)inc->updated_us,
                 (long long)inc->phase_since_us, (unsigned long long)inc->version));
#undef J
    return 0;
}

/* ------------------------------------------------------------------ */
/* JSON in: a bounded pull parser for the shapes incidents use         */

/* Longest string value read (the summary is the longest). */
#define JP_STR_MAX INCIDENT_SUMMARY_MAX

/* A string naming an enum value through `from_name`. */
static int jp_enum(struct jp *j, const char *key, char *tmp, size_t cap,
                   int (*check)(const char *s, size_t len, void *ret), void *ret)
{
    size_t n;
    int r = jp_string(j, tmp, cap, &n);
    if (r < 0)
        return jp_fail_key(j, j->err && j->err->msg ? j->err->msg : "bad value", key);
    if (check(tmp, n, ret) < 0)
        return jp_fail_key(j, "unknown value for", key);
    return 0;
}

static int chk_type(const char *s, size_t n, void *ret)
{
    return incident_type_from_name(s, n, ret);
}
static int chk_method(const char *s, size_t n, void *ret)
{
    return incident_method_from_name(s, n, ret);
}
static int chk_cat(const char *s, size_t n, void *ret)
{
    return incident_category_from_name(s, n, ret);
}
static int chk_level(const char *s, size_t n, void *ret)
{
    return incident_level_from_name(s, n, ret);
}
static int chk_phase(const char *s, size_t n, void *ret)
{
    return incident_phase_from_name(s, n, ret);
}
static int chk_stage(const char *s, size_t n, void *ret)
{
    return stage_from_name(s, n, ret);
}
static int chk_kind(const char *s, size_t n, void *ret)
{
    int i = name_index(kind_names, 3, s, n, 0);
    if (i < 0)
        return -EINVAL;
    *(enum incident_entity_kind *)ret = (enum incident_entity_kind)i;
    return 0;
}
static int chk_role(const char *s, size_t n, void *ret)
{
    int i = name_index(role_names, 2, s, n, 0);
    if (i < 0)
        return -EINVAL;
    *(enum incident_entity_role *)ret = (enum incident_entity_role)i;
    return 0;
}

/* A string field: refuses the wrong type and values past `max`; `nonempty`
 * refuses "". */
static int jp_field_str(struct jp *j, const char *key, char *out, size_t max, int nonempty)
{
    size_t n;
    if (jp_peek(j) != '"')
        return jp_fail_key(j, "wrong type: expected a string for", key);
    if (jp_string(j, out, max, &n) < 0)
        return jp_fail_key(j, j->err && j->err->msg ? j->err->msg : "bad string", key);
    if (nonempty && n == 0)
        return jp_fail_key(j, "empty value for", key);
    return 0;
}

/* Tags: an array of distinct non-empty strings, at most INCIDENT_MAX_TAGS. */
struct tagset {
    char v[INCIDENT_MAX_TAGS][INCIDENT_NAME_MAX + 1];
    size_t n;
};

static int jp_tags(struct jp *j, struct tagset *ts)
{
    int first = 1, r;
    ts->n = 0;
    if (jp_expect(j, '[', "wrong type: expected an array for tags") < 0)
        return -EINVAL;
    while ((r = jp_element(j, &first)) == 1) {
        if (ts->n >= INCIDENT_MAX_TAGS)
            return jp_fail_key(j, "too many values in", "tags");
        if ((r = jp_field_str(j, "tags", ts->v[ts->n], INCIDENT_NAME_MAX, 1)) < 0)
            return r;
        for (size_t i = 0; i < ts->n; i++)
            if (strcmp(ts->v[i], ts->v[ts->n]) == 0)
                return jp_fail_key(j, "duplicate value in", "tags");
        ts->n++;
    }
    return r;
}


static char **tags_dup(const struct tagset *ts)
{
    char **t = calloc(ts->n ? ts->n : 1, sizeof(*t));
    if (!t)
        return NULL;
    for (size_t i = 0; i < ts->n; i++) {
        if (!(t[i] = strdup(ts->v[i]))) {
            free_tags(t, i);
            return NULL;
        }
    }
    return t;
}

/* Scratch of incident_from_json: too big for a comfortable stack frame. */
struct from_scratch {
    char s[JP_STR_MAX + 1];
    struct tagset tags;
};

static int from_entity(struct jp *j, struct incident *inc, char *tmp)
{
    struct incident_entity e = {NULL, INCIDENT_ENTITY_HOST, INCIDENT_ROLE_VICTIM};
    struct incident_entity *p;
    char key[JP_KEY_MAX + 1];
    int first = 1, r;

    if (jp_expect(j, '{', "wrong type: expected an object in entities") < 0)
        return -EINVAL;
    while ((r = jp_member(j, &first, key)) == 1) {
        if (strcmp(key, "value") == 0) {
            if (e.value) {
                r = jp_fail_key(j, "duplicate field", key);
                goto out;
            }
            if ((r = jp_field_str(j, "value", tmp, INCIDENT_VALUE_MAX, 1)) < 0)
                goto out;
            if (!(e.value = strdup(tmp))) {
                r = -ENOMEM;
                goto out;
            }
        } else if (strcmp(key, "kind") == 0) {
            if ((r = jp_enum(j, "kind", tmp, 16, chk_kind, &e.kind)) < 0)
                goto out;
        } else if (strcmp(key, "role") == 0) {
            if ((r = jp_enum(j, "role", tmp, 16, chk_role, &e.role)) < 0)
                goto out;
        } else {
            r = jp_fail_key(j, "unknown field", key);
            goto out;
        }
    }
    if (r < 0)
        goto out;
    if (!e.value) {
        r = jp_fail_key(j, "missing field", "value");
        goto out;
    }
    if (!(p = realloc(inc->entities, (inc->nentities + 1) * sizeof(*p)))) {
        r = -ENOMEM;
        goto out;
    }
    inc->entities = p;
    p[inc->nentities++] = e;
    e.value = NULL;
out:
    free(e.value);
    return r;
}

static int from_entities(struct jp *j, struct incident *inc, char *tmp)
{
    int first = 1, r;
    if (jp_expect(j, '[', "wrong type: expected an array for entities") < 0)
        return -EINVAL;
    while ((r = jp_element(j, &first)) == 1) {
        if (inc->nentities >= INCIDENT_MAX_ENTITIES)
            return jp_fail_key(j, "too many values in", "entities");
        if ((r = from_entity(j, inc, tmp)) < 0)
            return r;
    }
    return r;
}

static int from_member(struct jp *j, struct incident *inc, const char *key, struct from_scratch *sc,
                       int *have_id)
{
    int r, first = 1;
    char **slot = NULL;
    size_t max = 0;

    if (strcmp(key, "id") == 0) {
        *have_id = 1;
        return jp_u64(j, &inc->id);
    }
    if (strcmp(key, "version") == 0) {
        if ((r = jp_u64(j, &inc->version)) == 0 && inc->version == 0)
            return jp_fail_key(j, "version must be at least 1:", key);
        return r;
    }
    if (strcmp(key, "created_us") == 0)
        return jp_i64(j, &inc->created_us);
    if (strcmp(key, "updated_us") == 0)
        return jp_i64(j, &inc->updated_us);
    if (strcmp(key, "phase_since_us") == 0)
        return jp_i64(j, &inc->phase_since_us);
    if (strcmp(key, "type") == 0)
        return jp_enum(j, key, sc->s, 64, chk_type, &inc->type);
    if (strcmp(key, "detection_method") == 0)
        return jp_enum(j, key, sc->s, 64, chk_method, &inc->method);
    if (strcmp(key, "level") == 0)
        return jp_enum(j, key, sc->s, 16, chk_level, &inc->level);
    if (strcmp(key, "phase") == 0)
        return jp_enum(j, key, sc->s, 16, chk_phase, &inc->phase);
    if (strcmp(key, "category") == 0) {
        if (jp_null(j)) {
            inc->category = ASSET_CAT_NONE;
            return 0;
        }
        return jp_enum(j, key, sc->s, 16, chk_cat, &inc->category);
    }
    if (strcmp(key, "title") == 0)
        slot = &inc->title, max = INCIDENT_TITLE_MAX;
    else if (strcmp(key, "summary") == 0)
        slot = &inc->summary, max = INCIDENT_SUMMARY_MAX;
    else if (strcmp(key, "assignee") == 0)
        slot = &inc->assignee, max = INCIDENT_NAME_MAX;
    if (slot) {
        char *copy;
        if (slot == &inc->assignee && jp_null(j)) {
            free(inc->assignee);
            inc->assignee = NULL;
            return 0;
        }
        if ((r = jp_field_str(j, key, sc->s, max, slot == &inc->assignee)) < 0)
            return r;
        if (!(copy = strdup(sc->s)))
            return -ENOMEM;
        free(*slot);
        *slot = copy;
        return 0;
    }
    if (strcmp(key, "entities") == 0) {
        if (inc->nentities)
            return jp_fail_key(j, "duplicate field", key);
        return from_entities(j, inc, sc->s);
    }
    if (strcmp(key, "alerts") == 0) {
        if (inc->nalerts)
            return jp_fail_key(j, "duplicate field", key);
        if (jp_expect(j, '[', "wrong type: expected an array for alerts") < 0)
            return -EINVAL;
        while ((r = jp_element(j, &first)) == 1) {
            uint64_t id, *p;
            if (inc->nalerts >= INCIDENT_MAX_ALERTS)
                return jp_fail_key(j, "too many values in", key);
            if ((r = jp_u64(j, &id)) < 0)
                return r;
            for (size_t i = 0; i < inc->nalerts; i++)
                if (inc->alerts[i] == id)
                    return jp_fail_key(j, "duplicate value in", key);
            if (!(p = realloc(inc->alerts, (inc->nalerts + 1) * sizeof(*p))))
                return -ENOMEM;
            inc->alerts = p;
            p[inc->nalerts++] = id;
        }
        return r;
    }
    if (strcmp(key, "stages") == 0) {
        if (jp_expect(j, '[', "wrong type: expected an array for stages") < 0)
            return -EINVAL;
        inc->stages = 0;
        while ((r = jp_element(j, &first)) == 1) {
            enum triage_stage st = TRIAGE_STAGE_NONE;
            if ((r = jp_enum(j, key, sc->s, 32, chk_stage, &st)) < 0)
                return r;
            inc->stages |= 1u << st;
        }
        return r;
    }
    if (strcmp(key, "tags") == 0) {
        char **t;
        if ((r = jp_tags(j, &sc->tags)) < 0)
            return r;
        if (!(t = tags_dup(&sc->tags)))
            return -ENOMEM;
        free_tags(inc->tags, inc->ntags);
        inc->tags = t;
        inc->ntags = sc->tags.n;
        return 0;
    }
    return jp_fail_key(j, "unknown field", key);
}

int incident_from_json(const char *json, size_t len, struct incident *ret, struct parse_err *reterr)
{
    struct jp j = {json, len, 0, reterr, NULL, 0};
    struct from_scratch *sc = NULL;
    char key[JP_KEY_MAX + 1];
    int r, first = 1, have_id = 0;

    if ((r = incident_init(ret, 0, 0)) < 0)
        return r;
    if (len > INCIDENT_JSON_MAX) {
        r = jp_fail(&j, "document too large");
        goto out;
    }
    if (!(sc = malloc(sizeof(*sc)))) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = jp_expect(&j, '{', "expected an object")) < 0)
        goto out;
    while ((r = jp_member(&j, &first, key)) == 1)
        if ((r = from_member(&j, ret, key, sc, &have_id)) < 0)
            goto out;
    if (r < 0 || (r = jp_end(&j)) < 0)
        goto out;
    if (!have_id)
        r = jp_fail_key(&j, "missing field", "id");
out:
    free(sc);
    if (r < 0)
        incident_done(ret);
    return r;
}

/* ------------------------------------------------------------------ */
/* Partial updates                                                     */

enum {
    U_TITLE = 1 << 0,
    U_SUMMARY = 1 << 1,
    U_TYPE = 1 << 2,
    U_METHOD = 1 << 3,
    U_CAT = 1 << 4,
    U_LEVEL = 1 << 5,
    U_PHASE = 1 << 6,
    U_ASSIGNEE = 1 << 7,
    U_TAGS = 1 << 8,
    U_REASON = 1 << 9,
    U_VERSION = 1 << 10,
};
#define UPD_MAX_CHANGES 10

struct upd {
    unsigned have;
    char title[INCIDENT_TITLE_MAX + 1];
    char summary[INCIDENT_SUMMARY_MAX + 1];
    enum triage_type type;
    enum incident_method method;
    enum asset_category cat;
    enum triage_alert_level level;
    enum incident_phase phase;
    char assignee[INCIDENT_NAME_MAX + 1]; /* "" = unassign (null) */
    struct tagset tags;
    char reason[INCIDENT_REASON_MAX + 1];
    uint64_t version;
    char tmp[INCIDENT_REASON_MAX + 1];
};

static const struct {
    const char *key;
    unsigned bit;
} upd_keys[] = {
    {"title", U_TITLE},     {"summary", U_SUMMARY},
    {"type", U_TYPE},       {"detection_method", U_METHOD},
    {"category", U_CAT},    {"level", U_LEVEL},
    {"phase", U_PHASE},     {"assignee", U_ASSIGNEE},
    {"tags", U_TAGS},       {"reason", U_REASON},
    {"version", U_VERSION},
};

static int upd_member(struct jp *j, struct upd *u, const char *key)
{
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof(upd_keys) / sizeof(upd_keys[0]); i++)
        if (strcmp(upd_keys[i].key, key) == 0)
            bit = upd_keys[i].bit;
    if (!bit)
        return jp_fail_key(j, "unknown field", key);
    if (u->have & bit)
        return jp_fail_key(j, "duplicate field", key);
    u->have |= bit;
    switch (bit) {
    case U_TITLE: return jp_field_str(j, key, u->title, INCIDENT_TITLE_MAX, 1);
    case U_SUMMARY: return jp_field_str(j, key, u->summary, INCIDENT_SUMMARY_MAX, 0);
    case U_REASON: return jp_field_str(j, key, u->reason, INCIDENT_REASON_MAX, 0);
    case U_ASSIGNEE:
        if (jp_null(j)) {
            u->assignee[0] = '\0';
            return 0;
        }
        return jp_field_str(j, key, u->assignee, INCIDENT_NAME_MAX, 1);
    case U_TYPE: return jp_enum(j, key, u->tmp, 64, chk_type, &u->type);
    case U_METHOD: return jp_enum(j, key, u->tmp, 64, chk_method, &u->method);
    case U_CAT: return jp_enum(j, key, u->tmp, 16, chk_cat, &u->cat);
    case U_LEVEL: return jp_enum(j, key, u->tmp, 16, chk_level, &u->level);
    case U_PHASE: return jp_enum(j, key, u->tmp, 16, chk_phase, &u->phase);
    case U_TAGS: return jp_tags(j, &u->tags);
    case U_VERSION: return jp_u64(j, &u->version);
    }
    return -EINVAL;
}

static void tags_join(char *dst, size_t size, char *const *tags, size_t n)
{
    char tmp[INCIDENT_MAX_TAGS * (INCIDENT_NAME_MAX + 2) + 1];
    size_t off = 0;
    tmp[0] = '\0';
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(tmp + off, sizeof(tmp) - off, "%s%s", i ? "," : "", tags[i]);
    copy_trunc(dst, size, tmp);
}

static int update_json(struct incident *inc, const char *json, size_t len, const char *who,
                       int64_t now_us, struct incident_change **ret_changes, size_t *ret_n,
                       struct parse_err *reterr, char *why, size_t whylen, int need_version)
{
    struct jp j = {json, len, 0, reterr, why, whylen};
    struct upd *u = NULL;
    struct incident_change *ch = NULL;
    char *title = NULL, *summary = NULL, *assignee = NULL, **tags = NULL;
    char key[JP_KEY_MAX + 1], *tagp[INCIDENT_MAX_TAGS];
    const char *reason;
    size_t n = 0, ntags = 0;
    int r, first = 1, reopen;

    *ret_changes = NULL;
    *ret_n = 0;
    if (why && whylen)
        why[0] = '\0';
    if (len > INCIDENT_JSON_MAX)
        return jp_fail(&j, "document too large");
    if (!(u = calloc(1, sizeof(*u))))
        return -ENOMEM;
    if ((r = jp_expect(&j, '{', "expected an object")) < 0)
        goto out;
    while ((r = jp_member(&j, &first, key)) == 1)
        if ((r = upd_member(&j, u, key)) < 0)
            goto out;
    if (r < 0 || (r = jp_end(&j)) < 0)
        goto out;

    /* Everything is parsed; now check it against the incident. */
    if (need_version && !(u->have & U_VERSION)) {
        j.off = 0;
        r = jp_fail(&j, "version is required: send the version you read");
        goto out;
    }
    if ((u->have & U_VERSION) && u->version != inc->version) {
        parse_err_set(reterr, 0, "stale version");
        if (why && whylen)
            snprintf(why, whylen, "version %llu is stale: the incident is at version %llu",
                     (unsigned long long)u->version, (unsigned long long)inc->version);
        r = -ESTALE;
        goto out;
    }
    reason = u->reason[0] ? u->reason : NULL;
    reopen = (u->have & U_PHASE) && inc->phase == INCIDENT_PHASE_CLOSED;
    if (u->have & U_PHASE) {
        if ((r = transition_check(inc, u->phase, who, reason, why, whylen)) < 0) {
            parse_err_set(reterr, 0, "illegal phase change");
            goto out;
        }
    }
    if ((u->have & ~(unsigned)(U_PHASE | U_REASON | U_VERSION)) &&
        (r = change_check(inc->phase == INCIDENT_PHASE_CLOSED && !reopen, who, reason, "incident",
                          why, whylen)) < 0) {
        parse_err_set(reterr, 0, "change refused");
        goto out;
    }

    /* Allocate everything before touching `inc`: all or nothing. */
    r = -ENOMEM;
    if (!(ch = calloc(UPD_MAX_CHANGES, sizeof(*ch))))
        goto out;
    if ((u->have & U_TITLE) && !(title = strdup(u->title)))
        goto out;
    if ((u->have & U_SUMMARY) && !(summary = strdup(u->summary)))
        goto out;
    if ((u->have & U_ASSIGNEE) && u->assignee[0] && !(assignee = strdup(u->assignee)))
        goto out;
    if ((u->have & U_TAGS) && !(tags = tags_dup(&u->tags)))
        goto out;
    ntags = u->tags.n;
    r = 0;

    /* A reopened incident changes phase first so that the other fields
     * apply to an open incident; otherwise the phase goes last. */
    if (reopen)
        transition_apply(inc, u->phase, who, reason, now_us, &ch[n++]);
    if ((u->have & U_TITLE) && strcmp(inc->title, title) != 0) {
        bump(inc, now_us);
        change_fill(&ch[n++], inc, now_us, who, "title", inc->title, title, reason);
        free(inc->title);
        inc->title = title;
        title = NULL;
    }
    if ((u->have & U_SUMMARY) && strcmp(inc->summary, summary) != 0) {
        bump(inc, now_us);
        change_fill(&ch[n++], inc, now_us, who, "summary", inc->summary, summary, reason);
        free(inc->summary);
        inc->summary = summary;
        summary = NULL;
    }
    if ((u->have & U_TYPE) && inc->type != u->type) {
        bump(inc, now_us);
        change_fill(&ch[n++], inc, now_us, who, "type", triage_type_name(inc->type),
                    triage_type_name(u->type), reason);
        inc->type = u->type;
    }
    if ((u->have & U_METHOD) && inc->method != u->method) {
        bump(inc, now_us);
        change_fill(&ch[n++], inc, now_us, who, "detection_method",
                    incident_method_name(inc->method), incident_method_name(u->method), reason);
        inc->method = u->method;
    }
    if ((u->have & U_CAT) && inc->category != u->cat) {
        bump(inc, now_us);
        change_fill(&ch[n++], inc, now_us, who, "category", incident_category_name(inc->category),
                    incident_category_name(u->cat), reason);
        inc->category = u->cat;
    }
    if ((u->have & U_LEVEL) && inc->level != u->level) {
        bump(inc, now_us);
        change_fill(&ch[n++], inc, now_us, who, "level", triage_level_name(inc->level),
                    triage_level_name(u->level), reason);
        inc->level = u->level;
    }
    if ((u->have & U_ASSIGNEE) &&
        !(assignee ? inc->assignee && strcmp(inc->assignee, assignee) == 0 : !inc->assignee)) {
        bump(inc, now_us);
        change_fill(&ch[n++], inc, now_us, who, "assignee", inc->assignee, assignee, reason);
        free(inc->assignee);
        inc->assignee = assignee;
        assignee = NULL;
    }
    if (u->have & U_TAGS) {
        int same = u->tags.n == inc->ntags;
        for (size_t i = 0; same && i < inc->ntags; i++)
            same = strcmp(inc->tags[i], tags[i]) == 0;
        if (!same) {
            char from[INCIDENT_VALUE_MAX + 1], to[INCIDENT_VALUE_MAX + 1];
            for (size_t i = 0; i < u->tags.n; i++)
                tagp[i] = tags[i];
            tags_join(from, sizeof(from), inc->tags, inc->ntags);
            tags_join(to, sizeof(to), tagp, u->tags.n);
            bump(inc, now_us);
            change_fill(&ch[n++], inc, now_us, who, "tags", from, to, reason);
            free_tags(inc->tags, inc->ntags);
            inc->tags = tags;
            inc->ntags = u->tags.n;
            tags = NULL;
        }
    }
    if ((u->have & U_PHASE) && !reopen)
        transition_apply(inc, u->phase, who, reason, now_us, &ch[n++]);
    if (n) {
        *ret_changes = ch;
        *ret_n = n;
        ch = NULL;
    }
out:
    free(u);
    free(ch);
    free(title);
    free(summary);
    free(assignee);
    if (tags)
        free_tags(tags, ntags);
    return r;
}

int incident_update_json(struct incident *inc, const char *json, size_t len, const char *who,
                         int64_t now_us, struct incident_change **ret_changes, size_t *ret_n,
                         struct parse_err *reterr, char *why, size_t whylen)
{
    return update_json(inc, json, len, who, now_us, ret_changes, ret_n, reterr, why, whylen, 0);
}

int incident_patch_json(struct incident *inc, const char *json, size_t len, const char *who,
                        int64_t now_us, struct incident_change **ret_changes, size_t *ret_n,
                        struct parse_err *reterr, char *why, size_t whylen)
{
    return update_json(inc, json, len, who, now_us, ret_changes, ret_n, reterr, why, whylen, 1);
}
