/*
 * casefile.c - what the case file's resources share (casefile_priv.h):
 * errors, the request body reader, the transaction skeleton every change
 * runs through, and loading the record; and casefile_change(), a change
 * outside an incident made the case file's way.  Each resource of
 * casefile.h has its own file (see casefile_priv.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/audit.h"
#include "incident/casefile_priv.h"
#include "util/jp.h"

/* Alert ids merged into the incident shown. */
#define CF_ALERTS_MAX INCIDENT_MAX_ALERTS

int casefile_fail(struct casefile_err *err, int r, long off, const char *field, const char *fmt,
                  ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->off = off;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    return r;
}

int casefile_store_fail(const struct casefile *cf, struct casefile_err *err, int r)
{
    if (r == -ENOMEM)
        return casefile_fail(err, r, -1, NULL, "out of memory");
    return casefile_fail(err, r, -1, NULL, "%s", store_errmsg(cf->st));
}

/* ------------------------------------------------------------------ */
/* Request bodies: flat objects described by a table                   */

void casefile_vals_free(struct casefile_val *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].s);
        free(v[i].iv);
        v[i].s = NULL;
        v[i].iv = NULL;
        v[i].niv = 0;
    }
}

static int cf_read_str(struct jp *j, size_t max, char **ret)
{
    char *s = malloc(max + 1);
    int r;

    if (!s)
        return -ENOMEM;
    if ((r = jp_string(j, s, max, NULL)) < 0) {
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

/* An array of at most f->max integers into v->iv (heap). */
static int cf_read_i64v(struct jp *j, const struct casefile_field *f, struct casefile_val *v)
{
    int r, first = 1;

    if ((r = jp_expect(j, '[', "wrong type: expected an array of integers")) < 0)
        return r;
    if (!(v->iv = malloc((f->max ? f->max : 1) * sizeof(*v->iv))))
        return -ENOMEM;
    while ((r = jp_element(j, &first)) == 1) {
        if (v->niv >= f->max)
            return jp_fail(j, "array too long");
        if ((r = jp_i64(j, &v->iv[v->niv])) < 0)
            return r;
        v->niv++;
    }
    return r;
}

static int cf_read_value(struct jp *j, const struct casefile_field *f, struct casefile_val *v)
{
    int r, first = 1;
    struct buf b;

    switch (f->kind) {
    case CASEFILE_STR_NULL:
        if (jp_null(j)) {
            v->is_null = 1;
            return 0;
        }
        /* fall through */
    case CASEFILE_STR: return cf_read_str(j, f->max, &v->s);
    case CASEFILE_I64: return jp_i64(j, &v->i);
    case CASEFILE_NUM: return jp_double(j, &v->d);
    case CASEFILE_BOOL: return jp_bool(j, &v->b);
    case CASEFILE_I64V: return cf_read_i64v(j, f, v);
    case CASEFILE_STRV:
        if ((r = jp_expect(j, '[', "wrong type: expected an array of strings")) < 0)
            return r;
        buf_init(&b, 64 * 1024);
        while ((r = jp_element(j, &first)) == 1) {
            char *s;
            if ((r = cf_read_str(j, f->max, &s)) < 0)
                break;
            r = b.len ? buf_putc(&b, '\n') : 0;
            if (r == 0)
                r = buf_puts(&b, s);
            free(s);
            if (r < 0) {
                r = r == -E2BIG ? jp_fail(j, "array too long") : r;
                break;
            }
        }
        if (r == 0)
            r = buf_putc(&b, '\0');
        if (r < 0) {
            buf_done(&b);
            return r;
        }
        v->s = b.data; /* NUL-terminated above */
        return 0;
    }
    return -EINVAL;
}

/*
 * Reads `body` as one object of the fields in spec[0..n) into vals (zeroed
 * here).  Unknown fields, duplicates, wrong types, strings past their cap
 * and missing required fields are refused with the offset and the field.
 */
int casefile_read_body(const char *body, size_t len, const struct casefile_field *spec, size_t n,
                       struct casefile_val *vals, struct casefile_err *err)
{
    struct parse_err pe = {0};
    struct jp j = {body, len, 0, &pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1;

    memset(vals, 0, n * sizeof(*vals));
    if (len > CASEFILE_BODY_MAX)
        return casefile_fail(err, -EINVAL, -1, NULL, "request body too large");
    if (jp_expect(&j, '{', "expected a JSON object") < 0)
        goto bad;
    while ((r = jp_member(&j, &first, key)) == 1) {
        size_t i;
        size_t key_off = j.off;

        for (i = 0; i < n && strcmp(spec[i].name, key) != 0; i++)
            ;
        if (i == n) {
            casefile_vals_free(vals, n);
            return casefile_fail(err, -EINVAL, (long)key_off, key, "unknown field \"%s\"", key);
        }
        if (vals[i].have) {
            casefile_vals_free(vals, n);
            return casefile_fail(err, -EINVAL, (long)key_off, key, "field \"%s\" given twice", key);
        }
        vals[i].have = 1;
        if ((r = cf_read_value(&j, &spec[i], &vals[i])) < 0) {
            if (r == -ENOMEM) {
                casefile_vals_free(vals, n);
                return casefile_fail(err, r, -1, NULL, "out of memory");
            }
            casefile_vals_free(vals, n);
            return casefile_fail(err, -EINVAL, (long)pe.off, key, "%s: %s", key,
                                 pe.msg ? pe.msg : "bad value");
        }
    }
    if (r < 0 || jp_end(&j) < 0)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (spec[i].required && (!vals[i].have || vals[i].is_null)) {
            casefile_vals_free(vals, n);
            return casefile_fail(err, -EINVAL, -1, spec[i].name, "field \"%s\" is required",
                                 spec[i].name);
        }
    }
    return 0;
bad:
    casefile_vals_free(vals, n);
    return casefile_fail(err, -EINVAL, (long)pe.off, NULL, "%s", pe.msg ? pe.msg : "bad JSON");
}

/* A string value that must be non-empty when given. */
int casefile_nonempty(const struct casefile_field *spec, const struct casefile_val *v, size_t i,
                      struct casefile_err *err)
{
    if (v[i].have && v[i].s && !v[i].s[0])
        return casefile_fail(err, -EINVAL, -1, spec[i].name, "field \"%s\" is empty", spec[i].name);
    return 0;
}
int casefile_one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Transactions and the audit trail                                    */

/* Appends the audit entry, then commits; rolls back if either fails, so
 * that no change is kept without its entry. */
static int cf_commit(const struct casefile *cf, const char *who, const char *action,
                     const char *object, struct buf *details, struct casefile_err *err)
{
    int r = 0;

    if (cf->audit)
        r = audit_append(cf->audit, who, action, object, details->data ? details->data : "{}",
                         details->data ? details->len : 2, NULL);
    if (r < 0) {
        store_rollback(cf->st);
        return casefile_fail(err, r, -1, NULL, "audit log: %s", strerror(-r));
    }
    if ((r = store_commit(cf->st)) < 0) {
        r = casefile_store_fail(cf, err, r);
        store_rollback(cf->st);
    }
    return r;
}

int casefile_run(const struct casefile *cf, struct casefile_txn *t,
                 int (*act)(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                            struct casefile_err *err),
                 void *ctx, struct casefile_err *err)
{
    int r;

    if ((r = store_begin(cf->st)) < 0)
        return casefile_store_fail(cf, err, r);
    if (t->incident > 0 && (r = casefile_load(cf, t->incident, &t->inc, &t->row, err)) < 0) {
        store_rollback(cf->st);
        if (r == -ENOENT && t->incident_field)
            r = casefile_fail(err, -EINVAL, -1, t->incident_field, "no such incident");
        return r;
    }
    buf_init(&t->details, t->details_max ? t->details_max : AUDIT_DETAILS_MAX);
    r = act(cf, t, ctx, err);
    if (r == 0) {
        r = cf_commit(cf, t->who, t->action, t->object ? t->object : t->objbuf, &t->details, err);
    } else {
        store_rollback(cf->st);
        if (r == CASEFILE_TXN_NOTHING)
            r = 0;
    }
    buf_done(&t->details);
    if (t->incident > 0) {
        incident_done(&t->inc);
        store_incident_row_done(&t->row);
    }
    return r;
}

void casefile_object(char *obj, size_t size, int64_t id)
{
    snprintf(obj, size, "incident/%lld", (long long)id);
}

int casefile_details(struct buf *d, const struct incident *inc, const char *extra_key,
                     const char *extra)
{
    int r = buf_printf(d, "{\"incident\":%llu,\"version\":%llu", (unsigned long long)inc->id,
                       (unsigned long long)inc->version);
    if (r == 0 && extra_key)
        r = buf_printf(d, ",\"%s\":", extra_key);
    if (r == 0 && extra_key)
        r = buf_json_str(d, extra ? extra : "", extra ? strlen(extra) : 0);
    return r < 0 ? r : buf_putc(d, '}');
}
struct change_ctx {
    int (*change)(struct store *st, void *ctx, struct buf *details);
    void *ctx;
};

static int change_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct change_ctx *c = ctx;
    int r = c->change(cf->st, c->ctx, &t->details);

    return r < 0 ? casefile_store_fail(cf, err, r) : 0;
}

int casefile_change(const struct casefile *cf, const char *who, const char *action,
                    const char *object,
                    int (*change)(struct store *st, void *ctx, struct buf *details), void *ctx,
                    struct casefile_err *err)
{
    struct casefile_txn t = {
        .who = who, .action = action, .object = object, .details_max = 64 * 1024};
    struct change_ctx c = {change, ctx};

    return casefile_run(cf, &t, change_act, &c, err);
}

/* ------------------------------------------------------------------ */
/* Loading and saving the record                                       */

static enum incident_entity_kind cf_entity_kind(const char *field, size_t n)
{
    if ((n == 9 && memcmp(field, "host.name", 9) == 0) ||
        (n == 13 && memcmp(field, "host.hostname", 13) == 0))
        return INCIDENT_ENTITY_HOST;
    if (n >= 5 && memcmp(field, "user.", 5) == 0)
        return INCIDENT_ENTITY_USER;
    return INCIDENT_ENTITY_ADDRESS;
}

/* Adds "field=value" as an entity (bad or over-cap values are skipped:
 * triage's keys are its own, the record stays usable).  A local policy
 * alert's key "user.name=U|host.name=H" gives the user U alone: the host
 * comes in with the victims. */
static int cf_add_entity_kv(struct incident *inc, const char *kv, enum incident_entity_role role,
                            int64_t now_us)
{
    static const char user[] = "user.name=", host[] = "|host.name=";
    const char *eq = strchr(kv, '='), *cut;
    char value[INCIDENT_VALUE_MAX + 1];
    size_t n;
    int r;

    if (!eq || !eq[1])
        return 0;
    n = strlen(eq + 1);
    if (strncmp(kv, user, sizeof(user) - 1) == 0 && (cut = strstr(eq + 1, host)))
        n = (size_t)(cut - (eq + 1));
    if (n == 0 || n >= sizeof(value))
        return 0;
    memcpy(value, eq + 1, n);
    value[n] = '\0';
    r = incident_add_entity(inc, value, cf_entity_kind(kv, (size_t)(eq - kv)), role,
                            AUDIT_ACTOR_SYSTEM, now_us, NULL);
    return r == -ENOMEM ? r : 0;
}

/* Calls fn on each string of a JSON array of strings (triage's victims
 * and stages columns); a malformed column is skipped. */
static int cf_each_str(const char *json, int (*fn)(void *ctx, const char *s), void *ctx)
{
    struct parse_err pe;
    struct jp j = {json, json ? strlen(json) : 0, 0, &pe, NULL, 0};
    char s[INCIDENT_VALUE_MAX + 64];
    int first = 1, r;

    if (!json || jp_expect(&j, '[', "") < 0)
        return 0;
    while (jp_element(&j, &first) == 1) {
        if (jp_string(&j, s, sizeof(s) - 1, NULL) < 0)
            return 0;
        if ((r = fn(ctx, s)) < 0)
            return r;
    }
    return 0;
}

struct cf_merge {
    struct incident *inc;
    int64_t now_us;
};

static int cf_merge_victim(void *ctx, const char *s)
{
    struct cf_merge *m = ctx;
    return cf_add_entity_kv(m->inc, s, INCIDENT_ROLE_VICTIM, m->now_us);
}

static int cf_merge_stage(void *ctx, const char *s)
{
    struct cf_merge *m = ctx;

    for (int st = 1; st < TRIAGE_STAGE_COUNT; st++)
        if (strcmp(triage_stage_name((enum triage_stage)st), s) == 0)
            return incident_add_stage(m->inc, (enum triage_stage)st, AUDIT_ACTOR_SYSTEM, m->now_us,
                                      NULL) == -ENOMEM
                       ? -ENOMEM
                       : 0;
    return 0;
}

/* Folds in what triage linked (alerts, victims, stages) without counting
 * it as a change: the version and times stay those of the record. */
int casefile_merge_triage(const struct casefile *cf, struct incident *inc,
                          const struct store_incident_row *row)
{
    uint64_t version = inc->version, *ids = NULL;
    int64_t updated = inc->updated_us;
    struct cf_merge m = {inc, inc->updated_us};
    size_t n = 0;
    int r;

    if (!(ids = malloc(CF_ALERTS_MAX * sizeof(*ids))))
        return -ENOMEM;
    r = store_incident_agg_ids(cf->st, row->id, ids, CF_ALERTS_MAX, &n);
    for (size_t i = 0; r == 0 && i < n; i++)
        if ((r = incident_add_alert(inc, ids[i], AUDIT_ACTOR_SYSTEM, inc->updated_us, NULL)) ==
            -E2BIG)
            r = 0;
    free(ids);
    if (r == 0 && row->entity_key && row->entity_key[0])
        r = cf_add_entity_kv(inc, row->entity_key, INCIDENT_ROLE_ATTACKER, inc->updated_us);
    if (r == 0)
        r = cf_each_str(row->victims_json, cf_merge_victim, &m);
    if (r == 0)
        r = cf_each_str(row->stages_json, cf_merge_stage, &m);
    inc->version = version;
    inc->updated_us = updated;
    return r;
}

/* The record from triage's proposal, for an incident nobody changed yet:
 * version 1, phase and times from the row. */
static int cf_seed(const struct store_incident_row *row, struct incident *inc)
{
    enum triage_type type = TRIAGE_TYPE_NONE;
    enum triage_alert_level level = TRIAGE_GREEN;
    enum asset_category cat = ASSET_CAT_NONE;
    enum incident_phase phase = INCIDENT_PHASE_NEW;
    char title[INCIDENT_TITLE_MAX + 1];
    char *t;
    int r;

    if ((r = incident_init(inc, (uint64_t)row->id, row->created_us)) < 0)
        return r;
    if (row->proposed_type)
        (void)incident_type_from_name(row->proposed_type, strlen(row->proposed_type), &type);
    if (row->proposed_level)
        (void)incident_level_from_name(row->proposed_level, strlen(row->proposed_level), &level);
    if (row->proposed_category)
        (void)incident_category_from_name(row->proposed_category, strlen(row->proposed_category),
                                          &cat);
    if (row->phase)
        (void)incident_phase_from_name(row->phase, strlen(row->phase), &phase);
    inc->type = type;
    inc->level = level;
    inc->category = cat;
    inc->phase = phase;
    snprintf(title, sizeof(title), "%s%s%s", triage_type_name(type),
             row->entity_key && row->entity_key[0] ? ": " : "",
             row->entity_key ? row->entity_key : "");
    if (!(t = strdup(title))) {
        incident_done(inc);
        return -ENOMEM;
    }
    free(inc->title);
    inc->title = t;
    inc->version = 1;
    return 0;
}

/* Loads incident `id`: its record or the seed.  *ret_row holds the row
 * (the caller frees both). */
int casefile_load(const struct casefile *cf, int64_t id, struct incident *inc,
                  struct store_incident_row *row, struct casefile_err *err)
{
    struct parse_err pe = {0};
    int r;

    memset(inc, 0, sizeof(*inc));
    if ((r = store_incident_row_get(cf->st, id, row)) < 0)
        return r == -ENOENT ? casefile_fail(err, r, -1, NULL, "no such incident")
                            : casefile_store_fail(cf, err, r);
    if (!row->record)
        r = cf_seed(row, inc);
    else if ((r = incident_from_json(row->record, strlen(row->record), inc, &pe)) == -EINVAL)
        r = -EIO; /* our own text: a damaged record */
    if (r < 0) {
        store_incident_row_done(row);
        return casefile_fail(err, r, -1, NULL, "incident %lld: its record cannot be read (%s)",
                             (long long)id,
                             r == -ENOMEM ? "out of memory"
                             : pe.msg     ? pe.msg
                                          : "?");
    }
    return 0;
}

/* A timeline entry that is not a field of the record (task, note, ...). */
int casefile_event(const struct casefile *cf, int64_t id, const struct incident *inc,
                   int64_t now_us, const char *who, const char *what, const char *from,
                   const char *to, struct casefile_err *err)
{
    int r =
        store_timeline_add(cf->st, id, now_us, inc ? inc->version : 0, who, what, from, to, NULL);
    return r < 0 ? casefile_store_fail(cf, err, r) : 0;
}
