/*
 * incident_json.c - the JSON forms of an incident (incident.h): the record
 * written out, read back, and the partial updates the API sends.
 *
 * JSON is read by a small pull parser (util/jp.h) rather than by
 * decode/decode_json.c: that decoder flattens into an event whose field
 * names are interned in the process-wide dictionary (API keys would grow
 * it) and it keeps numbers and strings alike as text, so it cannot tell
 * "level": 3 from "level": "3" — which a strict update must refuse.
 */
#include "incident/incident.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/incident_priv.h"
#include "util/jp.h"

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
    J(json_kstr(b, "leak_type",
                inc->leak == INCIDENT_LEAK_NONE ? NULL : incident_leak_name(inc->leak)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "category",
                inc->category == ASSET_CAT_NONE ? NULL : incident_category_name(inc->category)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "level", triage_level_name(inc->level)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "phase", incident_phase_name(inc->phase)));
    J(buf_putc(b, ','));
    J(json_kstr(b, "assignee", inc->assignee));
    J(buf_putc(b, ','));
    J(json_kstr(b, "responsible", inc->responsible));
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
static int chk_leak(const char *s, size_t n, void *ret)
{
    return incident_leak_from_name(s, n, ret);
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
    return incident_stage_from_name(s, n, ret);
}
static int chk_kind(const char *s, size_t n, void *ret)
{
    return incident_entity_kind_from_name(s, n, ret);
}
static int chk_role(const char *s, size_t n, void *ret)
{
    return incident_entity_role_from_name(s, n, ret);
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
            incident_free_tags(t, i);
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
    int r, first = 1, nullable = 0;
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
    if (strcmp(key, "leak_type") == 0) {
        if (jp_null(j)) {
            inc->leak = INCIDENT_LEAK_NONE;
            return 0;
        }
        return jp_enum(j, key, sc->s, 32, chk_leak, &inc->leak);
    }
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
    else if ((nullable = strcmp(key, "assignee") == 0))
        slot = &inc->assignee, max = INCIDENT_NAME_MAX;
    else if ((nullable = strcmp(key, "responsible") == 0))
        slot = &inc->responsible, max = INCIDENT_NAME_MAX;
    if (max) { /* one of the strings above */
        char *copy;
        if (nullable && jp_null(j)) {
            free(*slot);
            *slot = NULL;
            return 0;
        }
        if ((r = jp_field_str(j, key, sc->s, max, nullable)) < 0)
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
        incident_free_tags(inc->tags, inc->ntags);
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
    U_RESPONSIBLE = 1 << 11,
    U_LEAK = 1 << 12,
};
#define UPD_MAX_CHANGES 12

struct upd {
    unsigned have;
    char title[INCIDENT_TITLE_MAX + 1];
    char summary[INCIDENT_SUMMARY_MAX + 1];
    enum triage_type type;
    enum incident_method method;
    enum incident_leak leak; /* NONE: null */
    enum asset_category cat;
    enum triage_alert_level level;
    enum incident_phase phase;
    char assignee[INCIDENT_NAME_MAX + 1]; /* "" = unassign (null) */
    char responsible[INCIDENT_NAME_MAX + 1]; /* "" = none (null) */
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
    {"version", U_VERSION}, {"responsible", U_RESPONSIBLE},
    {"leak_type", U_LEAK},
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
    case U_RESPONSIBLE:
        if (jp_null(j)) {
            u->responsible[0] = '\0';
            return 0;
        }
        return jp_field_str(j, key, u->responsible, INCIDENT_NAME_MAX, 1);
    case U_TYPE: return jp_enum(j, key, u->tmp, 64, chk_type, &u->type);
    case U_METHOD: return jp_enum(j, key, u->tmp, 64, chk_method, &u->method);
    case U_LEAK:
        if (jp_null(j)) {
            u->leak = INCIDENT_LEAK_NONE;
            return 0;
        }
        return jp_enum(j, key, u->tmp, 32, chk_leak, &u->leak);
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
    incident_copy_trunc(dst, size, tmp);
}

/* Reads the update body into u: one object of upd_keys. */
static int upd_read(struct jp *j, struct upd *u)
{
    char key[JP_KEY_MAX + 1];
    int r, first = 1;

    if ((r = jp_expect(j, '{', "expected an object")) < 0)
        return r;
    while ((r = jp_member(j, &first, key)) == 1)
        if ((r = upd_member(j, u, key)) < 0)
            return r;
    if (r < 0 || (r = jp_end(j)) < 0)
        return r;
    return 0;
}

/* Checks a parsed update against the incident: the version, the phase
 * move, who may change a closed incident.  Changes nothing. */
static int upd_check(struct jp *j, const struct incident *inc, const struct upd *u, const char *who,
                     const char *reason, int reopen, int need_version)
{
    int r;

    if (need_version && !(u->have & U_VERSION)) {
        j->off = 0;
        return jp_fail(j, "version is required: send the version you read");
    }
    if ((u->have & U_VERSION) && u->version != inc->version) {
        parse_err_set(j->err, 0, "stale version");
        if (j->why && j->whylen)
            snprintf(j->why, j->whylen, "version %llu is stale: the incident is at version %llu",
                     (unsigned long long)u->version, (unsigned long long)inc->version);
        return -ESTALE;
    }
    if ((u->have & U_PHASE) &&
        (r = incident_transition_check(inc, u->phase, who, reason, j->why, j->whylen)) < 0) {
        parse_err_set(j->err, 0, "illegal phase change");
        return r;
    }
    if ((u->have & ~(unsigned)(U_PHASE | U_REASON | U_VERSION)) &&
        (r = incident_change_check(inc->phase == INCIDENT_PHASE_CLOSED && !reopen, who, reason,
                                   "incident", j->why, j->whylen)) < 0) {
        parse_err_set(j->err, 0, "change refused");
        return r;
    }
    return 0;
}

/* What an update moves into the incident, allocated before the incident
 * is touched so that it applies all or nothing.  NULL members are moved
 * (or were never needed); upd_copies_done frees the rest. */
struct upd_copies {
    struct incident_change *ch; /* UPD_MAX_CHANGES */
    char *title, *summary, *assignee, *responsible, **tags;
    size_t ntags;
};

static int upd_copies_make(const struct upd *u, struct upd_copies *c)
{
    if (!(c->ch = calloc(UPD_MAX_CHANGES, sizeof(*c->ch))))
        return -ENOMEM;
    if ((u->have & U_TITLE) && !(c->title = strdup(u->title)))
        return -ENOMEM;
    if ((u->have & U_SUMMARY) && !(c->summary = strdup(u->summary)))
        return -ENOMEM;
    if ((u->have & U_ASSIGNEE) && u->assignee[0] && !(c->assignee = strdup(u->assignee)))
        return -ENOMEM;
    if ((u->have & U_RESPONSIBLE) && u->responsible[0] &&
        !(c->responsible = strdup(u->responsible)))
        return -ENOMEM;
    if ((u->have & U_TAGS) && !(c->tags = tags_dup(&u->tags)))
        return -ENOMEM;
    c->ntags = u->tags.n;
    return 0;
}

static void upd_copies_done(struct upd_copies *c)
{
    free(c->ch);
    free(c->title);
    free(c->summary);
    free(c->assignee);
    free(c->responsible);
    if (c->tags)
        incident_free_tags(c->tags, c->ntags);
}

/* Moves the string `*copy` into `*field` when it differs, with its
 * timeline entry in *ch; returns 1 when it was a change. */
static int upd_string(struct incident *inc, char **field, char **copy, const char *what,
                      const char *who, const char *reason, int64_t now_us,
                      struct incident_change *ch)
{
    if (*copy ? *field && strcmp(*field, *copy) == 0 : !*field)
        return 0;
    incident_bump(inc, now_us);
    incident_change_fill(ch, inc, now_us, who, what, *field, *copy, reason);
    free(*field);
    *field = *copy;
    *copy = NULL;
    return 1;
}

/* The tags, when they differ: returns 1 when it was a change. */
static int upd_tags(struct incident *inc, struct upd_copies *c, const char *who, const char *reason,
                    int64_t now_us, struct incident_change *ch)
{
    char from[INCIDENT_VALUE_MAX + 1], to[INCIDENT_VALUE_MAX + 1];
    char *tagp[INCIDENT_MAX_TAGS];
    int same = c->ntags == inc->ntags;

    for (size_t i = 0; same && i < inc->ntags; i++)
        same = strcmp(inc->tags[i], c->tags[i]) == 0;
    if (same)
        return 0;
    for (size_t i = 0; i < c->ntags; i++)
        tagp[i] = c->tags[i];
    tags_join(from, sizeof(from), inc->tags, inc->ntags);
    tags_join(to, sizeof(to), tagp, c->ntags);
    incident_bump(inc, now_us);
    incident_change_fill(ch, inc, now_us, who, "tags", from, to, reason);
    incident_free_tags(inc->tags, inc->ntags);
    inc->tags = c->tags;
    inc->ntags = c->ntags;
    c->tags = NULL;
    return 1;
}

/* An enumerated field changed from `from` to `to` (names), already set. */
static void upd_enum(struct incident *inc, const char *what, const char *from, const char *to,
                     const char *who, const char *reason, int64_t now_us,
                     struct incident_change *ch)
{
    incident_bump(inc, now_us);
    incident_change_fill(ch, inc, now_us, who, what, from, to, reason);
}

/* Applies a checked update with its copies; returns the number of
 * timeline entries written into c->ch. */
static size_t upd_apply(struct incident *inc, const struct upd *u, struct upd_copies *c,
                        const char *who, const char *reason, int reopen, int64_t now_us)
{
    struct incident_change *ch = c->ch;
    size_t n = 0;

    /* A reopened incident changes phase first so that the other fields
     * apply to an open incident; otherwise the phase goes last. */
    if (reopen)
        incident_transition_apply(inc, u->phase, who, reason, now_us, &ch[n++]);
    if ((u->have & U_TITLE) &&
        upd_string(inc, &inc->title, &c->title, "title", who, reason, now_us, &ch[n]))
        n++;
    if ((u->have & U_SUMMARY) &&
        upd_string(inc, &inc->summary, &c->summary, "summary", who, reason, now_us, &ch[n]))
        n++;
    if ((u->have & U_TYPE) && inc->type != u->type) {
        upd_enum(inc, "type", triage_type_name(inc->type), triage_type_name(u->type), who, reason,
                 now_us, &ch[n++]);
        inc->type = u->type;
    }
    if ((u->have & U_METHOD) && inc->method != u->method) {
        upd_enum(inc, "detection_method", incident_method_name(inc->method),
                 incident_method_name(u->method), who, reason, now_us, &ch[n++]);
        inc->method = u->method;
    }
    if ((u->have & U_LEAK) && inc->leak != u->leak) {
        upd_enum(inc, "leak_type", incident_leak_name(inc->leak), incident_leak_name(u->leak), who,
                 reason, now_us, &ch[n++]);
        inc->leak = u->leak;
    }
    if ((u->have & U_CAT) && inc->category != u->cat) {
        upd_enum(inc, "category", incident_category_name(inc->category),
                 incident_category_name(u->cat), who, reason, now_us, &ch[n++]);
        inc->category = u->cat;
    }
    if ((u->have & U_LEVEL) && inc->level != u->level) {
        upd_enum(inc, "level", triage_level_name(inc->level), triage_level_name(u->level), who,
                 reason, now_us, &ch[n++]);
        inc->level = u->level;
    }
    if ((u->have & U_ASSIGNEE) &&
        upd_string(inc, &inc->assignee, &c->assignee, "assignee", who, reason, now_us, &ch[n]))
        n++;
    if ((u->have & U_RESPONSIBLE) && upd_string(inc, &inc->responsible, &c->responsible,
                                                "responsible", who, reason, now_us, &ch[n]))
        n++;
    if ((u->have & U_TAGS) && upd_tags(inc, c, who, reason, now_us, &ch[n]))
        n++;
    if ((u->have & U_PHASE) && !reopen)
        incident_transition_apply(inc, u->phase, who, reason, now_us, &ch[n++]);
    return n;
}

static int update_json(struct incident *inc, const char *json, size_t len, const char *who,
                       int64_t now_us, struct incident_change **ret_changes, size_t *ret_n,
                       struct parse_err *reterr, char *why, size_t whylen, int need_version)
{
    struct jp j = {json, len, 0, reterr, why, whylen};
    struct upd_copies c = {0};
    struct upd *u = NULL;
    const char *reason;
    size_t n;
    int r, reopen;

    *ret_changes = NULL;
    *ret_n = 0;
    if (why && whylen)
        why[0] = '\0';
    if (len > INCIDENT_JSON_MAX)
        return jp_fail(&j, "document too large");
    if (!(u = calloc(1, sizeof(*u))))
        return -ENOMEM;
    if ((r = upd_read(&j, u)) < 0)
        goto out;
    /* Everything is parsed; now check it against the incident. */
    reason = u->reason[0] ? u->reason : NULL;
    reopen = (u->have & U_PHASE) && inc->phase == INCIDENT_PHASE_CLOSED;
    if ((r = upd_check(&j, inc, u, who, reason, reopen, need_version)) < 0 ||
        (r = upd_copies_make(u, &c)) < 0)
        goto out;
    if ((n = upd_apply(inc, u, &c, who, reason, reopen, now_us)) > 0) {
        *ret_changes = c.ch;
        *ret_n = n;
        c.ch = NULL;
    }
out:
    free(u);
    upd_copies_done(&c);
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
