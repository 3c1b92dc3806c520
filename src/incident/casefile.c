/*
 * casefile.c - incident management over the store (see casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/time.h"
#include "incident/audit.h"
#include "incident/report.h"
#include "util/jp.h"

/* Timeline entries kept for a report. */
#define CF_REPORT_TIMELINE_MAX 2048
/* Alert ids merged into the incident shown. */
#define CF_ALERTS_MAX INCIDENT_MAX_ALERTS

static int cf_fail(struct casefile_err *err, int r, long off, const char *field, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

static int cf_fail(struct casefile_err *err, int r, long off, const char *field, const char *fmt,
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

static int cf_store_fail(const struct casefile *cf, struct casefile_err *err, int r)
{
    if (r == -ENOMEM)
        return cf_fail(err, r, -1, NULL, "out of memory");
    return cf_fail(err, r, -1, NULL, "%s", store_errmsg(cf->st));
}

/* ------------------------------------------------------------------ */
/* Request bodies: flat objects described by a table                   */

enum cf_kind { CF_STR, CF_STR_NULL, CF_I64, CF_NUM, CF_BOOL, CF_STRV };

struct cf_field {
    const char *name;
    enum cf_kind kind;
    unsigned max; /* strings: bytes (each, for CF_STRV) */
    int required;
};

struct cf_val {
    int have, is_null;
    char *s; /* heap; CF_STRV: the strings joined by newlines */
    int64_t i;
    double d;
    int b;
};

static void cf_vals_free(struct cf_val *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].s);
        v[i].s = NULL;
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

static int cf_read_value(struct jp *j, const struct cf_field *f, struct cf_val *v)
{
    int r, first = 1;
    struct buf b;

    switch (f->kind) {
    case CF_STR_NULL:
        if (jp_null(j)) {
            v->is_null = 1;
            return 0;
        }
        /* fall through */
    case CF_STR: return cf_read_str(j, f->max, &v->s);
    case CF_I64: return jp_i64(j, &v->i);
    case CF_NUM: return jp_double(j, &v->d);
    case CF_BOOL: return jp_bool(j, &v->b);
    case CF_STRV:
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
static int cf_read_body(const char *body, size_t len, const struct cf_field *spec, size_t n,
                        struct cf_val *vals, struct casefile_err *err)
{
    struct parse_err pe = {0};
    struct jp j = {body, len, 0, &pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1;

    memset(vals, 0, n * sizeof(*vals));
    if (len > CASEFILE_BODY_MAX)
        return cf_fail(err, -EINVAL, -1, NULL, "request body too large");
    if (jp_expect(&j, '{', "expected a JSON object") < 0)
        goto bad;
    while ((r = jp_member(&j, &first, key)) == 1) {
        size_t i;
        size_t key_off = j.off;

        for (i = 0; i < n && strcmp(spec[i].name, key) != 0; i++)
            ;
        if (i == n) {
            cf_vals_free(vals, n);
            return cf_fail(err, -EINVAL, (long)key_off, key, "unknown field \"%s\"", key);
        }
        if (vals[i].have) {
            cf_vals_free(vals, n);
            return cf_fail(err, -EINVAL, (long)key_off, key, "field \"%s\" given twice", key);
        }
        vals[i].have = 1;
        if ((r = cf_read_value(&j, &spec[i], &vals[i])) < 0) {
            if (r == -ENOMEM) {
                cf_vals_free(vals, n);
                return cf_fail(err, r, -1, NULL, "out of memory");
            }
            cf_vals_free(vals, n);
            return cf_fail(err, -EINVAL, (long)pe.off, key, "%s: %s", key,
                           pe.msg ? pe.msg : "bad value");
        }
    }
    if (r < 0 || jp_end(&j) < 0)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (spec[i].required && (!vals[i].have || vals[i].is_null)) {
            cf_vals_free(vals, n);
            return cf_fail(err, -EINVAL, -1, spec[i].name, "field \"%s\" is required",
                           spec[i].name);
        }
    }
    return 0;
bad:
    cf_vals_free(vals, n);
    return cf_fail(err, -EINVAL, (long)pe.off, NULL, "%s", pe.msg ? pe.msg : "bad JSON");
}

/* A string value that must be non-empty when given. */
static int cf_nonempty(const struct cf_field *spec, const struct cf_val *v, size_t i,
                       struct casefile_err *err)
{
    if (v[i].have && v[i].s && !v[i].s[0])
        return cf_fail(err, -EINVAL, -1, spec[i].name, "field \"%s\" is empty", spec[i].name);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Transactions and the audit trail                                    */

static int cf_begin(const struct casefile *cf, struct casefile_err *err)
{
    int r = store_begin(cf->st);
    return r < 0 ? cf_store_fail(cf, err, r) : 0;
}

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
        return cf_fail(err, r, -1, NULL, "audit log: %s", strerror(-r));
    }
    if ((r = store_commit(cf->st)) < 0) {
        r = cf_store_fail(cf, err, r);
        store_rollback(cf->st);
    }
    return r;
}

static int cf_abort(const struct casefile *cf, int r)
{
    store_rollback(cf->st);
    return r;
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
 * triage's keys are its own, the record stays usable). */
static int cf_add_entity_kv(struct incident *inc, const char *kv, enum incident_entity_role role,
                            int64_t now_us)
{
    const char *eq = strchr(kv, '=');
    int r;

    if (!eq || !eq[1])
        return 0;
    r = incident_add_entity(inc, eq + 1, cf_entity_kind(kv, (size_t)(eq - kv)), role,
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
            return incident_add_stage(m->inc, (enum triage_stage)st, AUDIT_ACTOR_SYSTEM,
                                      m->now_us, NULL) == -ENOMEM
                       ? -ENOMEM
                       : 0;
    return 0;
}

/* Folds in what triage linked (alerts, victims, stages) without counting
 * it as a change: the version and times stay those of the record. */
static int cf_merge_triage(const struct casefile *cf, struct incident *inc,
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
static int cf_load(const struct casefile *cf, int64_t id, struct incident *inc,
                   struct store_incident_row *row, struct casefile_err *err)
{
    struct parse_err pe = {0};
    int r;

    memset(inc, 0, sizeof(*inc));
    if ((r = store_incident_row_get(cf->st, id, row)) < 0)
        return r == -ENOENT ? cf_fail(err, r, -1, NULL, "no such incident")
                            : cf_store_fail(cf, err, r);
    if (!row->record)
        r = cf_seed(row, inc);
    else if ((r = incident_from_json(row->record, strlen(row->record), inc, &pe)) == -EINVAL)
        r = -EIO; /* our own text: a damaged record */
    if (r < 0) {
        store_incident_row_done(row);
        return cf_fail(err, r, -1, NULL, "incident %lld: its record cannot be read (%s)",
                       (long long)id, r == -ENOMEM ? "out of memory" : pe.msg ? pe.msg : "?");
    }
    return 0;
}

/* Saves the record if nobody saved another since row was read. */
static int cf_save(const struct casefile *cf, const struct incident *inc,
                   const struct store_incident_row *row, struct casefile_err *err)
{
    struct store_record_cols cols = {
        .type = triage_type_name(inc->type),
        .level = triage_level_name(inc->level),
        .category = inc->category != ASSET_CAT_NONE ? incident_category_name(inc->category) : NULL,
        .phase = incident_phase_name(inc->phase),
    };
    struct buf b;
    int r;

    buf_init(&b, INCIDENT_JSON_MAX);
    if ((r = incident_to_json(inc, &b)) == 0 && (r = buf_putc(&b, '\0')) == 0)
        r = store_record_put(cf->st, row->id, b.data, inc->version, row->version, &cols);
    buf_done(&b);
    if (r == -ESTALE)
        return cf_fail(err, r, -1, NULL, "the incident changed since it was read; read it again");
    return r < 0 ? cf_store_fail(cf, err, r) : 0;
}

static int cf_timeline(const struct casefile *cf, int64_t id, const struct incident_change *c,
                       struct casefile_err *err)
{
    int r = store_timeline_add(cf->st, id, c->time_us, c->version, c->who, c->what,
                               c->from[0] ? c->from : NULL, c->to[0] ? c->to : NULL, c->reason);
    return r < 0 ? cf_store_fail(cf, err, r) : 0;
}

/* A timeline entry that is not a field of the record (task, note, ...). */
static int cf_event(const struct casefile *cf, int64_t id, const struct incident *inc,
                    int64_t now_us, const char *who, const char *what, const char *from,
                    const char *to, struct casefile_err *err)
{
    int r = store_timeline_add(cf->st, id, now_us, inc ? inc->version : 0, who, what, from, to,
                               NULL);
    return r < 0 ? cf_store_fail(cf, err, r) : 0;
}

/* ------------------------------------------------------------------ */
/* Checklists                                                          */

static int cf_task_load(void *ctx, const struct store_task_rec *t)
{
    struct playbook_checklist *cl = ctx;
    struct playbook_task *pt;
    enum incident_phase ph = INCIDENT_PHASE_NEW;

    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 16;
        struct playbook_task *nt = realloc(cl->t, cap * sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        cl->t = nt;
        cl->cap = cap;
    }
    pt = &cl->t[cl->n];
    memset(pt, 0, sizeof(*pt));
    if (t->phase)
        (void)incident_phase_from_name(t->phase, strlen(t->phase), &ph);
    pt->id = t->id;
    pt->phase = ph;
    pt->required = t->required;
    pt->added = t->added;
    pt->done = t->done;
    pt->done_us = t->done_us;
    if (!(pt->title = strdup(t->title ? t->title : "")) ||
        !(pt->description = strdup(t->description ? t->description : "")) ||
        !(pt->owner = strdup(t->owner ? t->owner : "")) ||
        (t->assignee && !(pt->assignee = strdup(t->assignee))) ||
        (t->done_by && !(pt->done_by = strdup(t->done_by)))) {
        free(pt->title);
        free(pt->description);
        free(pt->owner);
        free(pt->assignee);
        return -ENOMEM;
    }
    cl->n++;
    if (t->id >= cl->next_id)
        cl->next_id = t->id + 1;
    return 0;
}

static int cf_tasks_load(const struct casefile *cf, int64_t id, struct playbook_checklist *cl,
                         struct casefile_err *err)
{
    int r;

    playbook_checklist_init(cl);
    if ((r = store_tasks_each(cf->st, id, cf_task_load, cl)) < 0) {
        playbook_checklist_done(cl);
        playbook_checklist_init(cl);
        return cf_store_fail(cf, err, r);
    }
    return 0;
}

static int cf_task_save(const struct casefile *cf, int64_t id, const struct playbook_task *t,
                        struct casefile_err *err)
{
    struct store_task_rec rec = {
        .id = t->id,
        .phase = incident_phase_name(t->phase),
        .title = t->title,
        .description = t->description,
        .owner = t->owner,
        .assignee = t->assignee,
        .done_by = t->done_by,
        .required = t->required,
        .added = t->added,
        .done = t->done,
        .done_us = t->done_us,
    };
    int r = store_task_put(cf->st, id, &rec);

    return r < 0 ? cf_store_fail(cf, err, r) : 0;
}

/* Creates the playbook's tasks for entering inc's current phase and saves
 * those new to the checklist. */
static int cf_phase_tasks(const struct casefile *cf, const struct incident *inc,
                          struct playbook_checklist *cl, struct casefile_err *err)
{
    size_t before = cl->n;
    int r;

    if (!cf->playbooks)
        return 0;
    r = playbook_tasks_for(cf->playbooks, inc->type, inc->phase, cl);
    if (r < 0)
        return cf_fail(err, r, -1, NULL, "the checklist is full (%zu tasks)", cl->n);
    for (size_t i = before; i < cl->n; i++)
        if ((r = cf_task_save(cf, (int64_t)inc->id, &cl->t[i], err)) < 0)
            return r;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* Writes the incident shown by the API (the record's JSON with deadline
 * and triage appended). */
static int cf_show(const struct casefile *cf, struct incident *inc,
                   const struct store_incident_row *row, int64_t now_us, struct buf *out)
{
    struct incident_deadline dl;
    char due[40] = "";
    int r;

    if ((r = cf_merge_triage(cf, inc, row)) < 0)
        return r;
    incident_deadline(inc, cf->targets, now_us, &dl);
    if (dl.has_target) {
        time_t t = (time_t)(dl.due_us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(due, sizeof(due), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if ((r = incident_to_json(inc, out)) < 0)
        return r;
    /* Replace the closing brace with the extra members. */
    out->len--;
    if (dl.has_target)
        r = buf_printf(out,
                       ",\"deadline\":{\"has_target\":true,\"due\":\"%s\",\"left_seconds\":%lld,"
                       "\"overdue\":%s,\"due_soon\":%s},\"triage\":",
                       due, (long long)(dl.left_us / 1000000), dl.overdue ? "true" : "false",
                       dl.due_soon ? "true" : "false");
    else
        r = buf_puts(out, ",\"deadline\":{\"has_target\":false},\"triage\":");
    if (r < 0)
        return r;
    if (row->entity_key && row->entity_key[0])
        r = store_incident_get_json(cf->st, row->id, out);
    else
        r = buf_puts(out, "null");
    return r < 0 ? r : buf_putc(out, '}');
}

int casefile_incident_json(const struct casefile *cf, int64_t id, int64_t now_us,
                           struct buf *out, struct casefile_err *err)
{
    struct incident inc;
    struct store_incident_row row;
    int r;

    if ((r = cf_load(cf, id, &inc, &row, err)) < 0)
        return r;
    r = cf_show(cf, &inc, &row, now_us, out);
    incident_done(&inc);
    store_incident_row_done(&row);
    return r < 0 ? cf_store_fail(cf, err, r) : 0;
}

int casefile_list_json(const struct casefile *cf, const struct store_incident_filter *f,
                       int overdue, int64_t now_us, struct buf *out, size_t *ret_n,
                       struct casefile_err *err)
{
    /* Overdue is computed here, so the store lists the open ones in pages
     * and the page is cut after the check. */
    struct store_incident_filter pf = *f;
    int64_t ids[100];
    size_t n, shown = 0;
    int64_t skipped = 0;
    int r;

    *ret_n = 0;
    if (overdue) {
        pf.offset = 0;
        pf.limit = (int64_t)(sizeof(ids) / sizeof(ids[0]));
    } else if (f->limit > (int64_t)(sizeof(ids) / sizeof(ids[0]))) {
        pf.limit = (int64_t)(sizeof(ids) / sizeof(ids[0]));
    }
    for (;;) {
        if ((r = store_incident_ids(cf->st, &pf, overdue, ids, sizeof(ids) / sizeof(ids[0]),
                                    &n)) < 0)
            return cf_store_fail(cf, err, r);
        for (size_t i = 0; i < n && (int64_t)shown < f->limit; i++) {
            struct incident inc;
            struct store_incident_row row;
            size_t mark = out->len;

            if ((r = cf_load(cf, ids[i], &inc, &row, err)) < 0)
                return r;
            if (overdue) {
                struct incident_deadline dl;
                incident_deadline(&inc, cf->targets, now_us, &dl);
                if (!dl.overdue || skipped++ < f->offset) {
                    incident_done(&inc);
                    store_incident_row_done(&row);
                    continue;
                }
            }
            r = shown ? buf_putc(out, ',') : 0;
            if (r == 0)
                r = cf_show(cf, &inc, &row, now_us, out);
            incident_done(&inc);
            store_incident_row_done(&row);
            if (r < 0) {
                out->len = mark;
                return cf_store_fail(cf, err, r);
            }
            shown++;
        }
        if ((int64_t)shown >= f->limit || n < (size_t)pf.limit)
            break;
        pf.offset += (int64_t)n;
        if (!overdue)
            pf.limit = f->limit - (int64_t)shown < pf.limit ? f->limit - (int64_t)shown : pf.limit;
    }
    *ret_n = shown;
    return 0;
}

struct near {
    int64_t id, left_us;
};

static int near_cmp(const void *a, const void *b)
{
    const struct near *x = a, *y = b;

    if (x->left_us != y->left_us)
        return x->left_us < y->left_us ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int casefile_near_target_json(const struct casefile *cf, int64_t now_us, size_t max,
                              struct buf *out, size_t *ret_n, struct casefile_err *err)
{
    struct store_incident_filter f = {.limit = 100};
    struct near *v = NULL;
    size_t nv = 0, shown = 0;
    int64_t ids[100];
    size_t n;
    int r = 0;

    *ret_n = 0;
    if (!(v = calloc(CASEFILE_NEAR_SCAN, sizeof(*v))))
        return cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    /* First the deadlines of the open ones, then the soonest shown. */
    while (nv < CASEFILE_NEAR_SCAN) {
        if ((r = store_incident_ids(cf->st, &f, 1, ids, 100, &n)) < 0) {
            r = cf_store_fail(cf, err, r);
            goto out;
        }
        for (size_t i = 0; i < n && nv < CASEFILE_NEAR_SCAN; i++) {
            struct incident inc;
            struct store_incident_row row;
            struct incident_deadline dl;

            if ((r = cf_load(cf, ids[i], &inc, &row, err)) < 0)
                goto out;
            incident_deadline(&inc, cf->targets, now_us, &dl);
            if (dl.has_target)
                v[nv++] = (struct near){ids[i], dl.left_us};
            incident_done(&inc);
            store_incident_row_done(&row);
        }
        if (n < 100)
            break;
        f.offset += 100;
    }
    qsort(v, nv, sizeof(*v), near_cmp);
    for (size_t i = 0; i < nv && shown < max; i++) {
        struct incident inc;
        struct store_incident_row row;
        struct incident_deadline dl;
        char due[40];

        if ((r = cf_load(cf, v[i].id, &inc, &row, err)) < 0)
            goto out;
        incident_deadline(&inc, cf->targets, now_us, &dl);
        time_format_iso(dl.due_us, due, sizeof(due));
        r = buf_printf(out, "%s{\"id\":%lld,\"title\":", shown ? "," : "", (long long)v[i].id);
        if (r == 0)
            r = buf_json_str(out, inc.title, strlen(inc.title));
        if (r == 0)
            r = buf_printf(out,
                           ",\"phase\":\"%s\",\"level\":\"%s\",\"category\":\"%s\","
                           "\"due\":\"%s\",\"left_seconds\":%lld,\"overdue\":%s}",
                           incident_phase_name(inc.phase), triage_level_name(inc.level),
                           incident_category_name(inc.category), due,
                           (long long)(dl.left_us / 1000000), dl.overdue ? "true" : "false");
        incident_done(&inc);
        store_incident_row_done(&row);
        if (r < 0) {
            r = cf_fail(err, r, -1, NULL, "answer too large");
            goto out;
        }
        shown++;
    }
    *ret_n = shown;
out:
    free(v);
    return r;
}

int casefile_tasks_json(const struct casefile *cf, int64_t id, struct buf *out,
                        struct casefile_err *err)
{
    struct store_incident_row row;
    int r = store_incident_row_get(cf->st, id, &row);

    if (r < 0)
        return r == -ENOENT ? cf_fail(err, r, -1, NULL, "no such incident")
                            : cf_store_fail(cf, err, r);
    store_incident_row_done(&row);
    if ((r = buf_putc(out, '[')) < 0 || (r = store_tasks_json(cf->st, id, out, NULL)) < 0 ||
        (r = buf_putc(out, ']')) < 0)
        return cf_store_fail(cf, err, r);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Changing an incident                                                */

/* The audit details of a change: {"incident":ID,"version":V,...extra}. */
static int cf_details(struct buf *d, const struct incident *inc, const char *extra_key,
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

static void cf_object(char *obj, size_t size, int64_t id)
{
    snprintf(obj, size, "incident/%lld", (long long)id);
}

/*
 * Applies the timeline entries `ch` of one update to the store, enforces
 * the required-task gate when the phase changed, and creates the new
 * phase's tasks.  `old_phase` is the phase before the update.
 */
static int cf_apply(const struct casefile *cf, struct incident *inc,
                    const struct store_incident_row *row, enum incident_phase old_phase,
                    const struct incident_change *ch, size_t nch, struct buf *details,
                    struct casefile_err *err)
{
    struct playbook_checklist cl;
    int r;

    if ((r = cf_tasks_load(cf, (int64_t)inc->id, &cl, err)) < 0)
        return r;
    if (inc->phase != old_phase) {
        /* Closing early (false positive, duplicate) and reopening skip
         * the gate: their reason is the record. */
        int early_close = inc->phase == INCIDENT_PHASE_CLOSED &&
                          old_phase != INCIDENT_PHASE_WATCH &&
                          old_phase != INCIDENT_PHASE_FULL_RESPONSE;
        char why[400];

        if (!early_close && old_phase != INCIDENT_PHASE_CLOSED &&
            playbook_checklist_blocking(&cl, old_phase, why, sizeof(why)) > 0) {
            playbook_checklist_done(&cl);
            return cf_fail(err, -EDOM, -1, "phase", "cannot leave %s: %s",
                           incident_phase_name(old_phase), why);
        }
    }
    if ((r = cf_save(cf, inc, row, err)) < 0)
        goto out;
    for (size_t i = 0; ch && i < nch; i++)
        if ((r = cf_timeline(cf, (int64_t)inc->id, &ch[i], err)) < 0)
            goto out;
    if (inc->phase != old_phase && (r = cf_phase_tasks(cf, inc, &cl, err)) < 0)
        goto out;
    r = buf_printf(details, "{\"incident\":%llu,\"version\":%llu,\"changes\":[",
                   (unsigned long long)inc->id, (unsigned long long)inc->version);
    for (size_t i = 0; ch && r == 0 && i < nch; i++) {
        r = buf_printf(details, "%s{\"what\":", i ? "," : "");
        if (r == 0)
            r = buf_json_str(details, ch[i].what, strlen(ch[i].what));
        if (r == 0)
            r = buf_puts(details, ",\"from\":");
        if (r == 0)
            r = buf_json_str(details, ch[i].from, strlen(ch[i].from));
        if (r == 0)
            r = buf_puts(details, ",\"to\":");
        if (r == 0)
            r = buf_json_str(details, ch[i].to, strlen(ch[i].to));
        if (r == 0)
            r = buf_putc(details, '}');
    }
    if (r == 0)
        r = buf_puts(details, "]}");
    if (r < 0)
        r = cf_fail(err, r, -1, NULL, "the change is too large to audit");
out:
    playbook_checklist_done(&cl);
    return r;
}

static const struct cf_field create_fields[] = {
    {"title", CF_STR, INCIDENT_TITLE_MAX, 1},
    {"summary", CF_STR, INCIDENT_SUMMARY_MAX, 0},
    {"type", CF_STR, 64, 0},
    {"detection_method", CF_STR, 64, 0},
    {"category", CF_STR, 8, 0},
    {"level", CF_STR, 16, 0},
    {"tags", CF_STRV, INCIDENT_NAME_MAX, 0},
};

/* Opens an incident (no triage row) of `who` with the fields of an
 * update body, in the caller's transaction. */
static int cf_open(const struct casefile *cf, const char *who, const char *json, size_t len,
                   int64_t now_us, struct incident *inc, struct store_incident_row *row,
                   struct incident_change **ret_ch, size_t *ret_nch, struct casefile_err *err)
{
    struct store_record_cols cols = {"none", "Green", NULL, "new"};
    struct parse_err pe = {0};
    char why[400] = "";
    int64_t id;
    int r;

    *ret_ch = NULL;
    *ret_nch = 0;
    memset(row, 0, sizeof(*row));
    memset(inc, 0, sizeof(*inc));
    if ((r = store_incident_new(cf->st, &cols, now_us, &id)) < 0)
        return cf_store_fail(cf, err, r);
    if ((r = incident_init(inc, (uint64_t)id, now_us)) < 0)
        return cf_fail(err, r, -1, NULL, "out of memory");
    r = incident_update_json(inc, json, len, who, now_us, ret_ch, ret_nch, &pe, why, sizeof(why));
    if (r < 0) {
        incident_done(inc);
        if (r == -ENOMEM)
            return cf_fail(err, r, -1, NULL, "out of memory");
        return cf_fail(err, -EINVAL, (long)pe.off, NULL, "%s", why[0] ? why : pe.msg);
    }
    if (inc->phase != INCIDENT_PHASE_NEW) {
        incident_done(inc);
        free(*ret_ch);
        *ret_ch = NULL;
        return cf_fail(err, -EINVAL, -1, "phase", "a new incident starts in phase new");
    }
    /* The fields given are the creation, version 1, not changes to it. */
    inc->version = 1;
    for (size_t i = 0; i < *ret_nch; i++)
        (*ret_ch)[i].version = 1;
    row->id = id;
    row->version = 0;
    return 0;
}

int casefile_create(const struct casefile *cf, const char *who, const char *body, size_t len,
                    int64_t now_us, int64_t *ret_id, struct casefile_err *err)
{
    struct cf_val v[sizeof(create_fields) / sizeof(create_fields[0])];
    struct incident inc;
    struct store_incident_row row;
    struct incident_change *ch = NULL;
    size_t nch = 0;
    struct buf details;
    char obj[64];
    int r;

    /* The table checks names, types and caps; incident_update_json then
     * checks the values against the enumerations. */
    if ((r = cf_read_body(body, len, create_fields,
                          sizeof(create_fields) / sizeof(create_fields[0]), v,
                          err)) < 0)
        return r;
    r = cf_nonempty(create_fields, v, 0, err);
    cf_vals_free(v, sizeof(v) / sizeof(v[0]));
    if (r < 0 || (r = cf_begin(cf, err)) < 0)
        return r;
    if ((r = cf_open(cf, who, body, len, now_us, &inc, &row, &ch, &nch, err)) < 0)
        return cf_abort(cf, r);
    buf_init(&details, AUDIT_DETAILS_MAX);
    r = cf_apply(cf, &inc, &row, INCIDENT_PHASE_NEW, ch, nch, &details, err);
    if (r == 0) {
        cf_object(obj, sizeof(obj), (int64_t)inc.id);
        r = cf_commit(cf, who, "incident.create", obj, &details, err);
    } else {
        cf_abort(cf, r);
    }
    if (r == 0)
        *ret_id = (int64_t)inc.id;
    buf_done(&details);
    free(ch);
    incident_done(&inc);
    return r;
}

int casefile_update(const struct casefile *cf, int64_t id, const char *who, const char *body,
                    size_t len, int64_t now_us, struct casefile_err *err)
{
    struct incident inc;
    struct store_incident_row row;
    struct incident_change *ch = NULL;
    struct parse_err pe = {0};
    size_t nch = 0;
    struct buf details;
    char why[600] = "", obj[64];
    enum incident_phase old;
    int r;

    if (len > CASEFILE_BODY_MAX)
        return cf_fail(err, -EINVAL, -1, NULL, "request body too large");
    if ((r = cf_begin(cf, err)) < 0)
        return r;
    if ((r = cf_load(cf, id, &inc, &row, err)) < 0)
        return cf_abort(cf, r);
    old = inc.phase;
    r = incident_patch_json(&inc, body, len, who, now_us, &ch, &nch, &pe, why, sizeof(why));
    if (r < 0) {
        if (r == -ESTALE)
            cf_fail(err, r, -1, "version", "%s", why);
        else if (r == -ENOMEM)
            cf_fail(err, r, -1, NULL, "out of memory");
        else if (pe.msg && (strcmp(pe.msg, "illegal phase change") == 0 ||
                            strcmp(pe.msg, "change refused") == 0))
            r = cf_fail(err, -EDOM, -1, "phase", "%s", why[0] ? why : pe.msg);
        else
            cf_fail(err, r, (long)pe.off, NULL, "%s", why[0] ? why : pe.msg ? pe.msg : "bad");
        goto out;
    }
    /* One accepted request is one version, however many fields it
     * changed: the version a client holds names a state it has seen. */
    if (nch > 0) {
        inc.version = row.version ? row.version + 1 : 2;
        for (size_t i = 0; i < nch; i++)
            ch[i].version = inc.version;
    }
    buf_init(&details, AUDIT_DETAILS_MAX);
    if (nch == 0) {
        /* Nothing changed: nothing to save or audit. */
        buf_done(&details);
        store_rollback(cf->st);
        r = 0;
        goto done;
    }
    r = cf_apply(cf, &inc, &row, old, ch, nch, &details, err);
    if (r == 0) {
        cf_object(obj, sizeof(obj), id);
        r = cf_commit(cf, who, inc.phase != old ? "incident.phase" : "incident.update", obj,
                      &details, err);
    } else {
        store_rollback(cf->st);
    }
    buf_done(&details);
    goto done;
out:
    store_rollback(cf->st);
done:
    free(ch);
    incident_done(&inc);
    store_incident_row_done(&row);
    return r;
}

/* Begins a transaction and loads the incident for a change that is not a
 * field of the record (note, task, ...). */
static int cf_begin_load(const struct casefile *cf, int64_t id, struct incident *inc,
                         struct store_incident_row *row, struct casefile_err *err)
{
    int r;

    if ((r = cf_begin(cf, err)) < 0)
        return r;
    if ((r = cf_load(cf, id, inc, row, err)) < 0)
        return cf_abort(cf, r);
    return 0;
}

static void cf_end_load(struct incident *inc, struct store_incident_row *row)
{
    incident_done(inc);
    store_incident_row_done(row);
}

static const struct cf_field note_fields[] = {
    {"text", CF_STR, CASEFILE_NOTE_MAX, 1},
};

int casefile_note_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, int64_t *ret_note, struct casefile_err *err)
{
    struct cf_val v[1];
    struct incident inc;
    struct store_incident_row row;
    struct buf details;
    char obj[64];
    int r;

    if ((r = cf_read_body(body, len, note_fields, 1, v, err)) < 0)
        return r;
    if ((r = cf_nonempty(note_fields, v, 0, err)) < 0 ||
        (r = cf_begin_load(cf, id, &inc, &row, err)) < 0) {
        cf_vals_free(v, 1);
        return r;
    }
    buf_init(&details, AUDIT_DETAILS_MAX);
    if ((r = store_note_add(cf->st, id, now_us, who, v[0].s, ret_note)) < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0)
        r = cf_event(cf, id, &inc, now_us, who, "note", NULL, v[0].s, err);
    if (r == 0 && cf_details(&details, &inc, "text", v[0].s) < 0)
        r = cf_fail(err, -E2BIG, -1, "text", "the note is too long to audit");
    cf_object(obj, sizeof(obj), id);
    if (r == 0)
        r = cf_commit(cf, who, "note.add", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_vals_free(v, 1);
    cf_end_load(&inc, &row);
    return r;
}

static const struct cf_field task_add_fields[] = {
    {"title", CF_STR, PLAYBOOK_TITLE_MAX, 1},
    {"description", CF_STR, PLAYBOOK_TEXT_MAX, 0},
    {"owner", CF_STR, PLAYBOOK_ROLE_MAX, 0},
    {"required", CF_BOOL, 0, 0},
};

int casefile_task_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, uint32_t *ret_task, struct casefile_err *err)
{
    struct cf_val v[4];
    struct incident inc;
    struct store_incident_row row;
    struct playbook_checklist cl;
    struct buf details;
    char obj[64];
    uint32_t tid = 0;
    int r;

    if ((r = cf_read_body(body, len, task_add_fields, 4, v, err)) < 0)
        return r;
    if ((r = cf_nonempty(task_add_fields, v, 0, err)) < 0 ||
        (r = cf_begin_load(cf, id, &inc, &row, err)) < 0) {
        cf_vals_free(v, 4);
        return r;
    }
    buf_init(&details, AUDIT_DETAILS_MAX);
    if ((r = cf_tasks_load(cf, id, &cl, err)) == 0) {
        if (inc.phase == INCIDENT_PHASE_CLOSED)
            r = cf_fail(err, -EDOM, -1, NULL, "the incident is closed: reopen it first");
        else if ((r = playbook_task_add(&cl, inc.phase, v[0].s, v[1].s, v[2].s,
                                        v[3].have && v[3].b, &tid)) < 0)
            r = cf_fail(err, r == -ENOMEM ? r : -EINVAL, -1, NULL, "%s",
                        r == -E2BIG ? "the checklist is full" : "the task is not valid");
        if (r == 0)
            r = cf_task_save(cf, id, playbook_task_get(&cl, tid), err);
        playbook_checklist_done(&cl);
    }
    if (r == 0)
        r = cf_event(cf, id, &inc, now_us, who, "task", NULL, v[0].s, err);
    if (r == 0 && cf_details(&details, &inc, "task", v[0].s) < 0)
        r = cf_fail(err, -E2BIG, -1, NULL, "the task is too long to audit");
    cf_object(obj, sizeof(obj), id);
    if (r == 0)
        r = cf_commit(cf, who, "task.add", obj, &details, err);
    else
        store_rollback(cf->st);
    if (r == 0)
        *ret_task = tid;
    buf_done(&details);
    cf_vals_free(v, 4);
    cf_end_load(&inc, &row);
    return r;
}

static const struct cf_field task_upd_fields[] = {
    {"done", CF_BOOL, 0, 0},
    {"assignee", CF_STR_NULL, INCIDENT_NAME_MAX, 0},
};

int casefile_task_update(const struct casefile *cf, int64_t id, uint32_t task, const char *who,
                         const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    struct cf_val v[2];
    struct incident inc;
    struct store_incident_row row;
    struct playbook_checklist cl;
    struct buf details;
    char obj[64], what[128] = "";
    int r;

    if ((r = cf_read_body(body, len, task_upd_fields, 2, v, err)) < 0)
        return r;
    if (!v[0].have && !v[1].have) {
        cf_vals_free(v, 2);
        return cf_fail(err, -EINVAL, -1, NULL, "give done and/or assignee");
    }
    if ((r = cf_begin_load(cf, id, &inc, &row, err)) < 0) {
        cf_vals_free(v, 2);
        return r;
    }
    buf_init(&details, AUDIT_DETAILS_MAX);
    if ((r = cf_tasks_load(cf, id, &cl, err)) == 0) {
        const struct playbook_task *t = playbook_task_get(&cl, task);

        if (!t)
            r = cf_fail(err, -ENOENT, -1, NULL, "no such task");
        else if (inc.phase == INCIDENT_PHASE_CLOSED)
            r = cf_fail(err, -EDOM, -1, NULL, "the incident is closed: reopen it first");
        if (r == 0 && v[0].have && (r = playbook_task_tick(&cl, task, v[0].b, who, now_us)) < 0)
            r = cf_fail(err, r == -ENOMEM ? r : -EINVAL, -1, "done", "the task cannot be ticked");
        if (r == 0 && v[1].have &&
            (r = playbook_task_assign(&cl, task, v[1].is_null ? NULL : v[1].s)) < 0)
            r = cf_fail(err, r == -ENOMEM ? r : -EINVAL, -1, "assignee", "bad assignee");
        if (r == 0) {
            t = playbook_task_get(&cl, task);
            snprintf(what, sizeof(what), "%u %s%s%s", task,
                     v[0].have ? (v[0].b ? "done" : "not done") : "",
                     v[0].have && v[1].have ? ", " : "",
                     v[1].have ? (v[1].is_null ? "unassigned" : "assigned") : "");
            r = cf_task_save(cf, id, t, err);
            if (r == 0)
                r = cf_event(cf, id, &inc, now_us, who, "task", t->title, what, err);
            if (r == 0 && cf_details(&details, &inc, "task", what) < 0)
                r = cf_fail(err, -E2BIG, -1, NULL, "too long to audit");
        }
        playbook_checklist_done(&cl);
    }
    cf_object(obj, sizeof(obj), id);
    if (r == 0)
        r = cf_commit(cf, who, "task.update", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_vals_free(v, 2);
    cf_end_load(&inc, &row);
    return r;
}

static const struct cf_field comm_fields[] = {
    {"contact", CF_I64, 0, 0},
    {"party", CF_STR, INCIDENT_VALUE_MAX, 0},
    {"channel", CF_STR, 16, 1},
    {"direction", CF_STR, 8, 1},
    {"summary", CF_STR, CASEFILE_NOTE_MAX, 1},
};

static int cf_one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static const char *const cf_channels[] = {"phone", "mail", "meeting", "web", "fax", "other", NULL};
static const char *const cf_directions[] = {"out", "in", NULL};

/* Records a communication inside the caller's transaction. */
static int cf_comm_put(const struct casefile *cf, int64_t id, const struct store_comm_rec *c,
                       int64_t *ret_comm, struct casefile_err *err)
{
    int r;

    if (c->contact_id) {
        struct buf tmp;
        buf_init(&tmp, 64 * 1024);
        r = store_contact_json(cf->st, c->contact_id, &tmp);
        buf_done(&tmp);
        if (r == -ENOENT)
            return cf_fail(err, -EINVAL, -1, "contact", "no such contact");
        if (r < 0)
            return cf_store_fail(cf, err, r);
    }
    if ((r = store_comm_add(cf->st, id, c, ret_comm)) < 0)
        return cf_store_fail(cf, err, r);
    return 0;
}

int casefile_comm_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, int64_t *ret_comm, struct casefile_err *err)
{
    struct cf_val v[5];
    struct incident inc;
    struct store_incident_row row;
    struct buf details;
    struct store_comm_rec c;
    char obj[64], to[INCIDENT_VALUE_MAX + 64];
    int r;

    if ((r = cf_read_body(body, len, comm_fields, 5, v, err)) < 0)
        return r;
    if (!cf_one_of(v[2].s, cf_channels))
        r = cf_fail(err, -EINVAL, -1, "channel",
                    "channel is one of phone, mail, meeting, web, fax, other");
    else if (!cf_one_of(v[3].s, cf_directions))
        r = cf_fail(err, -EINVAL, -1, "direction", "direction is out or in");
    else if (!v[0].have && !(v[1].have && v[1].s[0]))
        r = cf_fail(err, -EINVAL, -1, "party", "name a contact or a party");
    else if (v[0].have && v[0].i <= 0)
        r = cf_fail(err, -EINVAL, -1, "contact", "a contact id is a positive number");
    if (r < 0 || (r = cf_nonempty(comm_fields, v, 4, err)) < 0 ||
        (r = cf_begin_load(cf, id, &inc, &row, err)) < 0) {
        cf_vals_free(v, 5);
        return r;
    }
    c = (struct store_comm_rec){
        .contact_id = v[0].have ? v[0].i : 0,
        .party = v[1].have ? v[1].s : NULL,
        .channel = v[2].s,
        .direction = v[3].s,
        .summary = v[4].s,
        .who = who,
        .time_us = now_us,
    };
    buf_init(&details, AUDIT_DETAILS_MAX);
    r = cf_comm_put(cf, id, &c, ret_comm, err);
    snprintf(to, sizeof(to), "%s %s (%s)", strcmp(c.direction, "in") == 0 ? "from" : "to",
             c.party ? c.party : "contact", c.channel);
    if (r == 0)
        r = cf_event(cf, id, &inc, now_us, who, "communication", NULL, to, err);
    if (r == 0 && cf_details(&details, &inc, "summary", c.summary) < 0)
        r = cf_fail(err, -E2BIG, -1, NULL, "too long to audit");
    cf_object(obj, sizeof(obj), id);
    if (r == 0)
        r = cf_commit(cf, who, "communication.add", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_vals_free(v, 5);
    cf_end_load(&inc, &row);
    return r;
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */

static const struct cf_field report_fields[] = {
    {"kind", CF_STR, 16, 1},
    {"threats", CF_STR, CASEFILE_NOTE_MAX, 0},
    {"known", CF_STR, CASEFILE_NOTE_MAX, 0},
    {"social_threat", CF_STR, CASEFILE_NOTE_MAX, 0},
    {"evidence", CF_STR, CASEFILE_NOTE_MAX, 0},
    {"scope", CF_STR, CASEFILE_NOTE_MAX, 0},
    {"lessons", CF_STR, CASEFILE_NOTE_MAX, 0},
    {"recommended_level", CF_STR, 16, 0},
    {"revised_level", CF_STR, 16, 0},
};
#define REPORT_NFIELDS (sizeof(report_fields) / sizeof(report_fields[0]))

struct cf_tl {
    struct incident_change *c;
    size_t n;
};

static void cf_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static int cf_tl_add(void *ctx, const struct store_timeline_rec *t)
{
    struct cf_tl *tl = ctx;
    struct incident_change *c;

    if (tl->n >= CF_REPORT_TIMELINE_MAX)
        return 0;
    c = &tl->c[tl->n++];
    c->time_us = t->time_us;
    c->version = t->version;
    cf_copy(c->who, sizeof(c->who), t->who);
    cf_copy(c->what, sizeof(c->what), t->what);
    cf_copy(c->from, sizeof(c->from), t->from);
    cf_copy(c->to, sizeof(c->to), t->to);
    cf_copy(c->reason, sizeof(c->reason), t->reason);
    return 0;
}

static int cf_level_arg(const struct cf_val *v, const char *name, int *ret,
                        struct casefile_err *err)
{
    enum triage_alert_level l;

    *ret = -1;
    if (!v->have)
        return 0;
    if (incident_level_from_name(v->s, strlen(v->s), &l) < 0)
        return cf_fail(err, -EINVAL, -1, name, "%s is Green, Yellow, Orange or Red", name);
    *ret = (int)l;
    return 0;
}

int casefile_report_create(const struct casefile *cf, int64_t id, const char *who,
                           const char *body, size_t len, int64_t now_us, int64_t *ret_report,
                           struct casefile_err *err)
{
    struct cf_val v[REPORT_NFIELDS];
    struct incident inc;
    struct store_incident_row row;
    struct playbook_checklist cl;
    struct cf_tl tl = {0};
    struct report rep;
    struct report_input in;
    enum report_kind kind = REPORT_FIRST;
    struct buf details;
    char obj[64], summary[128];
    int r, rec = -1, rev = -1, found = 0, got_cl = 0;
    size_t nalerts;

    memset(&rep, 0, sizeof(rep));
    if ((r = cf_read_body(body, len, report_fields, REPORT_NFIELDS, v, err)) < 0)
        return r;
    for (int k = 0; k < REPORT_KIND_COUNT; k++)
        if (strcmp(v[0].s, report_kind_id((enum report_kind)k)) == 0) {
            kind = (enum report_kind)k;
            found = 1;
        }
    if (!found)
        r = cf_fail(err, -EINVAL, -1, "kind", "kind is first, interim1, interim2 or final");
    if (r == 0)
        r = cf_level_arg(&v[7], "recommended_level", &rec, err);
    if (r == 0)
        r = cf_level_arg(&v[8], "revised_level", &rev, err);
    if (r < 0 || (r = cf_begin_load(cf, id, &inc, &row, err)) < 0) {
        cf_vals_free(v, REPORT_NFIELDS);
        return r;
    }
    buf_init(&details, AUDIT_DETAILS_MAX);
    if ((r = cf_merge_triage(cf, &inc, &row)) < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0 && (r = cf_tasks_load(cf, id, &cl, err)) == 0)
        got_cl = 1;
    if (r == 0 && !(tl.c = calloc(CF_REPORT_TIMELINE_MAX, sizeof(*tl.c))))
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0 && (r = store_timeline_each(cf->st, id, cf_tl_add, &tl)) < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0) {
        nalerts = inc.nalerts;
        snprintf(summary, sizeof(summary), "%zu aggregated alert%s linked", nalerts,
                 nalerts == 1 ? "" : "s");
        in = (struct report_input){
            .inc = &inc,
            .timeline = tl.c,
            .ntimeline = tl.n,
            .tasks = &cl,
            .alerts_summary = summary,
            .threats = v[1].s,
            .known = v[2].s,
            .social_threat = v[3].s,
            .evidence = v[4].s,
            .scope = v[5].s,
            .lessons = v[6].s,
            .recommended_level = rec,
            .revised_level = rev,
        };
        /* The version shown in the text is the one the store gives next;
         * inside this transaction nobody else adds one. */
        int64_t ver = 0;

        if ((r = store_report_next_version(cf->st, id, report_kind_id(kind), &ver)) < 0) {
            r = cf_store_fail(cf, err, r);
        } else {
            r = report_generate(&in, kind, (unsigned)ver, who, now_us, &rep);
            if (r < 0)
                r = cf_fail(err, r, -1, NULL, "the report cannot be generated: %s",
                            strerror(-r));
        }
    }
    if (r == 0 && (buf_putc(&rep.markdown, '\0') < 0 || buf_putc(&rep.html, '\0') < 0))
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0 && (r = store_report_add(cf->st, id, report_kind_id(kind), 0, who, now_us,
                                        rep.markdown.data, rep.html.data, ret_report)) < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0)
        r = cf_event(cf, id, &inc, now_us, who, "report", NULL, report_kind_name(kind), err);
    if (r == 0 && cf_details(&details, &inc, "report", report_kind_id(kind)) < 0)
        r = cf_fail(err, -E2BIG, -1, NULL, "too long to audit");
    cf_object(obj, sizeof(obj), id);
    if (r == 0)
        r = cf_commit(cf, who, "report.create", obj, &details, err);
    else
        store_rollback(cf->st);
    report_done(&rep);
    if (got_cl)
        playbook_checklist_done(&cl);
    free(tl.c);
    buf_done(&details);
    cf_vals_free(v, REPORT_NFIELDS);
    cf_end_load(&inc, &row);
    return r;
}

static const struct cf_field report_edit_fields[] = {
    {"markdown", CF_STR, CASEFILE_BODY_MAX, 1},
};

int casefile_report_edit(const struct casefile *cf, int64_t id, int64_t report, const char *who,
                         const char *body, size_t len, int64_t now_us, int64_t *ret_report,
                         struct casefile_err *err)
{
    struct cf_val v[1];
    struct incident inc;
    struct store_incident_row row;
    struct buf details;
    char *kind = NULL, *md = NULL, *html = NULL, obj[64];
    int r;

    if ((r = cf_read_body(body, len, report_edit_fields, 1, v, err)) < 0)
        return r;
    if ((r = cf_nonempty(report_edit_fields, v, 0, err)) < 0 ||
        (r = cf_begin_load(cf, id, &inc, &row, err)) < 0) {
        cf_vals_free(v, 1);
        return r;
    }
    buf_init(&details, AUDIT_DETAILS_MAX);
    r = store_report_text(cf->st, id, report, &kind, &md, &html);
    if (r == -ENOENT)
        r = cf_fail(err, r, -1, NULL, "no such report");
    else if (r < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0 && (r = store_report_add(cf->st, id, kind, 1, who, now_us, v[0].s, NULL,
                                        ret_report)) < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0)
        r = cf_event(cf, id, &inc, now_us, who, "report", NULL, "edited", err);
    if (r == 0 && cf_details(&details, &inc, "report", kind) < 0)
        r = cf_fail(err, -E2BIG, -1, NULL, "too long to audit");
    cf_object(obj, sizeof(obj), id);
    if (r == 0)
        r = cf_commit(cf, who, "report.edit", obj, &details, err);
    else
        store_rollback(cf->st);
    free(kind);
    free(md);
    free(html);
    buf_done(&details);
    cf_vals_free(v, 1);
    cf_end_load(&inc, &row);
    return r;
}

/* ------------------------------------------------------------------ */
/* Alerts                                                              */

int casefile_alert_ack(const struct casefile *cf, int64_t alert, const char *who, int64_t now_us,
                       struct casefile_err *err)
{
    struct buf details;
    char obj[64];
    int r;

    if ((r = cf_begin(cf, err)) < 0)
        return r;
    buf_init(&details, 256);
    r = store_agg_ack(cf->st, alert, who, now_us);
    if (r == -ENOENT)
        r = cf_fail(err, r, -1, NULL, "no such alert");
    else if (r < 0)
        r = cf_store_fail(cf, err, r);
    snprintf(obj, sizeof(obj), "alert/%lld", (long long)alert);
    if (r == 0 && buf_printf(&details, "{\"alert\":%lld}", (long long)alert) < 0)
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0)
        r = cf_commit(cf, who, "alert.ack", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    return r;
}

static const struct cf_field attach_fields[] = {
    {"incident", CF_I64, 0, 1},
};

int casefile_alert_attach(const struct casefile *cf, int64_t alert, const char *who,
                          const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    struct cf_val v[1];
    struct incident inc;
    struct store_incident_row row;
    struct buf details;
    char obj[64], to[64];
    int r;

    if ((r = cf_read_body(body, len, attach_fields, 1, v, err)) < 0)
        return r;
    if (v[0].i <= 0)
        return cf_fail(err, -EINVAL, -1, "incident", "an incident id is a positive number");
    if ((r = cf_begin_load(cf, v[0].i, &inc, &row, err)) < 0)
        return r == -ENOENT ? cf_fail(err, -EINVAL, -1, "incident", "no such incident") : r;
    buf_init(&details, 256);
    r = store_agg_attach(cf->st, alert, v[0].i);
    if (r == -ENOENT)
        r = cf_fail(err, r, -1, NULL, "no such alert");
    else if (r < 0)
        r = cf_store_fail(cf, err, r);
    snprintf(to, sizeof(to), "alert %lld", (long long)alert);
    if (r == 0)
        r = cf_event(cf, v[0].i, &inc, now_us, who, "alert", NULL, to, err);
    snprintf(obj, sizeof(obj), "alert/%lld", (long long)alert);
    if (r == 0 && buf_printf(&details, "{\"alert\":%lld,\"incident\":%lld}", (long long)alert,
                             (long long)v[0].i) < 0)
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0)
        r = cf_commit(cf, who, "alert.attach", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_end_load(&inc, &row);
    return r;
}

static const struct cf_field suppress_fields[] = {
    {"reason", CF_STR, INCIDENT_REASON_MAX, 1},
    {"expires", CF_STR, 40, 1},
    {"scope", CF_STR, 16, 0},
};

/* Appends `s` as a YAML double-quoted scalar: JSON string escapes are
 * YAML's too. */
static int cf_yaml_str(struct buf *b, const char *s, size_t len)
{
    return buf_json_str(b, s, len);
}

/*
 * Writes the triage `suppress:` document of one suppression: the alert's
 * rule, and with scope "entity" its entities too (the key after the rule
 * id is field=value pairs separated by 0x1f).
 */
static int cf_supp_yaml(struct buf *y, int64_t sid, const char *reason, const char *who,
                        const char *expires, const char *rule, const char *key, int entity)
{
    int r = buf_printf(y, "suppress:\n  - id: api-%lld\n    reason: ", (long long)sid);

    if (r == 0)
        r = cf_yaml_str(y, reason, strlen(reason));
    if (r == 0)
        r = buf_puts(y, "\n    author: ");
    if (r == 0)
        r = cf_yaml_str(y, who, strlen(who));
    if (r == 0)
        r = buf_printf(y, "\n    expires: %s\n    rule: ", expires);
    if (r == 0)
        r = cf_yaml_str(y, rule, strlen(rule));
    if (r == 0 && entity && key) {
        const char *p = strchr(key, '\x1f');
        int any = 0;

        while (r == 0 && p && *++p) {
            const char *end = strchr(p, '\x1f'), *eq = memchr(p, '=', end ? (size_t)(end - p)
                                                                           : strlen(p));
            size_t n = end ? (size_t)(end - p) : strlen(p);

            if (eq && eq > p && (size_t)(eq - p) < n) {
                r = buf_puts(y, any ? "\n      " : "\n    match:\n      ");
                if (r == 0)
                    r = cf_yaml_str(y, p, (size_t)(eq - p));
                if (r == 0)
                    r = buf_puts(y, ": ");
                if (r == 0)
                    r = cf_yaml_str(y, eq + 1, n - (size_t)(eq - p) - 1);
                any = 1;
            }
            p = end;
        }
    }
    return r < 0 ? r : buf_putc(y, '\n');
}

int casefile_alert_suppress(const struct casefile *cf, int64_t alert, const char *who,
                            const char *body, size_t len, int64_t now_us, int64_t *ret_id,
                            struct casefile_err *err)
{
    struct cf_val v[3];
    struct buf yaml, details;
    struct triage_opts *check = NULL;
    struct parse_err pe = {0};
    struct store_supp_rec rec;
    char *rule = NULL, *key = NULL, expires[40], obj[64];
    int64_t exp_us = 0, sid = 0;
    size_t used = 0;
    int r, entity = 1;

    if ((r = cf_read_body(body, len, suppress_fields, 3, v, err)) < 0)
        return r;
    if (strlen(v[1].s) == 10) {
        /* A bare date: its start, UTC. */
        char day[40];
        snprintf(day, sizeof(day), "%sT00:00:00Z", v[1].s);
        if (time_parse_iso8601(day, strlen(day), 0, &exp_us, &used) < 0 || used != strlen(day))
            used = 0;
    } else if (time_parse_iso8601(v[1].s, strlen(v[1].s), 0, &exp_us, &used) < 0 ||
               used != strlen(v[1].s)) {
        used = 0;
    }
    if (used == 0)
        r = cf_fail(err, -EINVAL, -1, "expires",
                    "expires is an ISO 8601 time or date (UTC when no zone)");
    else if (exp_us <= now_us)
        r = cf_fail(err, -EINVAL, -1, "expires", "expires is in the past");
    else if (v[2].have && strcmp(v[2].s, "rule") != 0 && strcmp(v[2].s, "entity") != 0)
        r = cf_fail(err, -EINVAL, -1, "scope",
                    "scope is rule (every alert of the rule) or entity (of the rule on these "
                    "entities)");
    if (r == 0)
        r = cf_nonempty(suppress_fields, v, 0, err);
    if (r < 0) {
        cf_vals_free(v, 3);
        return r;
    }
    entity = !(v[2].have && strcmp(v[2].s, "rule") == 0);
    {
        /* The normal form triage reads: second precision, UTC. */
        time_t t = (time_t)(exp_us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if ((r = cf_begin(cf, err)) < 0) {
        cf_vals_free(v, 3);
        return r;
    }
    buf_init(&yaml, 64 * 1024);
    buf_init(&details, AUDIT_DETAILS_MAX);
    r = store_agg_rule_key(cf->st, alert, &rule, &key);
    if (r == -ENOENT)
        r = cf_fail(err, r, -1, NULL, "no such alert");
    else if (r < 0)
        r = cf_store_fail(cf, err, r);
    rec = (struct store_supp_rec){.created_us = now_us, .expires_us = exp_us, .alert_id = alert,
                                  .who = who, .reason = v[0].s, .yaml = ""};
    /* The row first, for its id (the suppression's label), then its text. */
    if (r == 0 && (r = store_supp_add(cf->st, &rec, &sid)) < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0 && (cf_supp_yaml(&yaml, sid, v[0].s, who, expires, rule ? rule : "", key,
                                entity) < 0 ||
                   buf_putc(&yaml, '\0') < 0))
        r = cf_fail(err, -E2BIG, -1, NULL, "the suppression is too large");
    /* Triage must accept it: parse it as the pipeline will. */
    if (r == 0 && !(check = triage_opts_defaults()))
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0 && triage_opts_load_suppress(check, yaml.data, yaml.len - 1, now_us, &pe) < 0)
        r = cf_fail(err, -EINVAL, -1, NULL, "triage refuses the suppression: %s",
                    pe.msg ? pe.msg : "?");
    triage_opts_free(check);
    if (r == 0 && (r = store_supp_set_yaml(cf->st, sid, yaml.data)) < 0)
        r = cf_store_fail(cf, err, r);
    snprintf(obj, sizeof(obj), "alert/%lld", (long long)alert);
    if (r == 0 && (buf_printf(&details, "{\"suppression\":%lld,\"alert\":%lld,\"scope\":\"%s\","
                                        "\"expires\":\"%s\",\"reason\":",
                              (long long)sid, (long long)alert, entity ? "entity" : "rule",
                              expires) < 0 ||
                   buf_json_str(&details, v[0].s, strlen(v[0].s)) < 0 ||
                   buf_putc(&details, '}') < 0))
        r = cf_fail(err, -E2BIG, -1, NULL, "too long to audit");
    if (r == 0)
        r = cf_commit(cf, who, "alert.suppress", obj, &details, err);
    else
        store_rollback(cf->st);
    if (r == 0)
        *ret_id = sid;
    free(rule);
    free(key);
    buf_done(&yaml);
    buf_done(&details);
    cf_vals_free(v, 3);
    return r;
}

/* ------------------------------------------------------------------ */
/* Intake, contacts, declared level, risk meter                        */

static const struct cf_field intake_fields[] = {
    {"reporter", CF_STR, INCIDENT_VALUE_MAX, 1},
    {"contact", CF_STR, INCIDENT_VALUE_MAX, 0},
    {"description", CF_STR, INCIDENT_SUMMARY_MAX / 2, 1},
    {"evidence", CF_STRV, INCIDENT_VALUE_MAX, 0},
    {"source", CF_STR, 32, 1},
    {"type", CF_STR, 64, 0},
};
#define INTAKE_NFIELDS (sizeof(intake_fields) / sizeof(intake_fields[0]))

int casefile_intake(const struct casefile *cf, const char *who, const char *body, size_t len,
                    int64_t now_us, int64_t *ret_id, struct casefile_err *err)
{
    static const struct {
        const char *source;
        enum incident_method method;
    } sources[] = {
        {"internal", INCIDENT_METHOD_INTERNAL_REPORT},
        {"external_private", INCIDENT_METHOD_EXTERNAL_PRIVATE},
        {"external_public", INCIDENT_METHOD_EXTERNAL_PUBLIC},
        {"press", INCIDENT_METHOD_PRESS},
    };
    struct cf_val v[INTAKE_NFIELDS];
    struct incident inc;
    struct store_incident_row row;
    struct incident_change *ch = NULL;
    size_t nch = 0;
    struct buf upd, details;
    struct playbook_checklist cl;
    struct store_comm_rec c;
    enum incident_method method = INCIDENT_METHOD_INTERNAL_REPORT;
    enum triage_type type = TRIAGE_TYPE_NONE;
    char title[INCIDENT_TITLE_MAX + 1], obj[64];
    uint32_t tid;
    int r, found = 0;

    if ((r = cf_read_body(body, len, intake_fields, INTAKE_NFIELDS, v, err)) < 0)
        return r;
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (strcmp(v[4].s, sources[i].source) == 0) {
            method = sources[i].method;
            found = 1;
        }
    if (!found)
        r = cf_fail(err, -EINVAL, -1, "source",
                    "source is internal, external_private, external_public or press");
    else if (v[5].have && incident_type_from_name(v[5].s, strlen(v[5].s), &type) < 0)
        r = cf_fail(err, -EINVAL, -1, "type", "unknown incident type");
    else if ((r = cf_nonempty(intake_fields, v, 0, err)) == 0)
        r = cf_nonempty(intake_fields, v, 2, err);
    if (r < 0) {
        cf_vals_free(v, INTAKE_NFIELDS);
        return r;
    }
    /* The record is made through the same update path as a PATCH. */
    snprintf(title, sizeof(title), "Report from %s", v[0].s);
    buf_init(&upd, INCIDENT_JSON_MAX);
    buf_init(&details, AUDIT_DETAILS_MAX);
    r = buf_puts(&upd, "{\"title\":");
    if (r == 0)
        r = buf_json_str(&upd, title, strlen(title));
    if (r == 0)
        r = buf_puts(&upd, ",\"summary\":");
    if (r == 0) {
        struct buf sum;
        buf_init(&sum, INCIDENT_SUMMARY_MAX);
        r = buf_puts(&sum, v[2].s);
        if (r == 0 && v[3].s && v[3].s[0])
            r = buf_printf(&sum, "\n\nEvidence:\n%s", v[3].s);
        if (r == 0)
            r = buf_json_str(&upd, sum.data, sum.len);
        buf_done(&sum);
    }
    if (r == 0)
        r = buf_printf(&upd, ",\"detection_method\":\"%s\",\"type\":\"%s\"}",
                       incident_method_name(method), triage_type_name(type));
    if (r < 0) {
        r = cf_fail(err, -EINVAL, -1, "description", "the report is too long");
        goto early;
    }
    if ((r = cf_begin(cf, err)) < 0)
        goto early;
    if ((r = cf_open(cf, who, upd.data, upd.len, now_us, &inc, &row, &ch, &nch, err)) < 0) {
        store_rollback(cf->st);
        goto early;
    }
    r = cf_apply(cf, &inc, &row, INCIDENT_PHASE_NEW, ch, nch, &details, err);
    c = (struct store_comm_rec){
        .party = v[0].s,
        .channel = "other",
        .direction = "in",
        .summary = v[2].s,
        .who = who,
        .time_us = now_us,
    };
    if (r == 0)
        r = cf_comm_put(cf, (int64_t)inc.id, &c, NULL, err);
    if (r == 0 && (r = cf_tasks_load(cf, (int64_t)inc.id, &cl, err)) == 0) {
        char desc[INCIDENT_VALUE_MAX + 64];
        snprintf(desc, sizeof(desc), "Acknowledge the report and tell the reporter what happens "
                                     "next. Contact: %s",
                 v[1].have && v[1].s[0] ? v[1].s : "(none given)");
        if ((r = playbook_task_add(&cl, INCIDENT_PHASE_NEW, "Reply to the reporter", desc,
                                   "csirt", 1, &tid)) < 0)
            r = cf_fail(err, r, -1, NULL, "the checklist cannot take the task");
        else if ((r = cf_task_save(cf, (int64_t)inc.id, playbook_task_get(&cl, tid), err)) == 0)
            r = cf_event(cf, (int64_t)inc.id, &inc, now_us, who, "communication", NULL,
                         "report received", err);
        playbook_checklist_done(&cl);
    }
    cf_object(obj, sizeof(obj), (int64_t)inc.id);
    if (r == 0)
        r = cf_commit(cf, who, "intake.create", obj, &details, err);
    else
        store_rollback(cf->st);
    if (r == 0)
        *ret_id = (int64_t)inc.id;
    free(ch);
    incident_done(&inc);
early:
    buf_done(&upd);
    buf_done(&details);
    cf_vals_free(v, INTAKE_NFIELDS);
    return r;
}

static const struct cf_field contact_fields[] = {
    {"name", CF_STR, INCIDENT_VALUE_MAX, 1},
    {"kind", CF_STR, 16, 1},
    {"organisation", CF_STR, INCIDENT_VALUE_MAX, 0},
    {"role", CF_STR, INCIDENT_VALUE_MAX, 0},
    {"email", CF_STR, INCIDENT_VALUE_MAX, 0},
    {"phone", CF_STR, 64, 0},
    {"notes", CF_STR, CASEFILE_NOTE_MAX, 0},
};
#define CONTACT_NFIELDS (sizeof(contact_fields) / sizeof(contact_fields[0]))

int casefile_contact_add(const struct casefile *cf, const char *who, const char *body, size_t len,
                         int64_t now_us, int64_t *ret_id, struct casefile_err *err)
{
    static const char *const kinds[] = {"vertical", "horizontal", "external", NULL};
    struct cf_val v[CONTACT_NFIELDS];
    struct store_contact_rec c;
    struct buf details;
    char obj[64];
    int r;

    if ((r = cf_read_body(body, len, contact_fields, CONTACT_NFIELDS, v, err)) < 0)
        return r;
    if (!cf_one_of(v[1].s, kinds))
        r = cf_fail(err, -EINVAL, -1, "kind", "kind is vertical, horizontal or external");
    if (r < 0 || (r = cf_nonempty(contact_fields, v, 0, err)) < 0 ||
        (r = cf_begin(cf, err)) < 0) {
        cf_vals_free(v, CONTACT_NFIELDS);
        return r;
    }
    c = (struct store_contact_rec){v[0].s, v[1].s, v[2].s, v[3].s, v[4].s,
                                   v[5].s, v[6].s, who,    now_us};
    buf_init(&details, AUDIT_DETAILS_MAX);
    if ((r = store_contact_add(cf->st, &c, ret_id)) < 0)
        r = cf_store_fail(cf, err, r);
    snprintf(obj, sizeof(obj), "contact/%lld", r == 0 ? (long long)*ret_id : 0LL);
    if (r == 0 && (buf_puts(&details, "{\"name\":") < 0 ||
                   buf_json_str(&details, v[0].s ? v[0].s : "", v[0].s ? strlen(v[0].s) : 0) < 0 ||
                   buf_printf(&details, ",\"kind\":\"%s\"}", c.kind) < 0))
        r = cf_fail(err, -E2BIG, -1, NULL, "too long to audit");
    if (r == 0)
        r = cf_commit(cf, who, "contact.add", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_vals_free(v, CONTACT_NFIELDS);
    return r;
}

static const struct cf_field declare_fields[] = {
    {"category", CF_STR, 8, 1},
    {"level", CF_STR, 16, 1},
    {"why", CF_STR, INCIDENT_REASON_MAX, 1},
};

int casefile_declare(const struct casefile *cf, const char *who, const char *body, size_t len,
                     int64_t now_us, struct casefile_err *err)
{
    struct cf_val v[3];
    enum asset_category cat = ASSET_CAT_NONE;
    enum triage_alert_level level = TRIAGE_GREEN;
    struct buf details;
    char obj[64];
    int r;

    if ((r = cf_read_body(body, len, declare_fields, 3, v, err)) < 0)
        return r;
    if (incident_category_from_name(v[0].s, strlen(v[0].s), &cat) < 0 || cat == ASSET_CAT_NONE)
        r = cf_fail(err, -EINVAL, -1, "category", "category is A, B, C or D");
    else if (incident_level_from_name(v[1].s, strlen(v[1].s), &level) < 0)
        r = cf_fail(err, -EINVAL, -1, "level", "level is Green, Yellow, Orange or Red");
    if (r < 0 || (r = cf_nonempty(declare_fields, v, 2, err)) < 0 ||
        (r = cf_begin(cf, err)) < 0) {
        cf_vals_free(v, 3);
        return r;
    }
    buf_init(&details, AUDIT_DETAILS_MAX);
    if ((r = store_declare_add(cf->st, incident_category_name(cat), triage_level_name(level), who,
                               v[2].s, now_us)) < 0)
        r = cf_store_fail(cf, err, r);
    snprintf(obj, sizeof(obj), "level/%s", incident_category_name(cat));
    if (r == 0 && (buf_printf(&details, "{\"category\":\"%s\",\"level\":\"%s\",\"why\":",
                              incident_category_name(cat), triage_level_name(level)) < 0 ||
                   buf_json_str(&details, v[2].s, strlen(v[2].s)) < 0 ||
                   buf_putc(&details, '}') < 0))
        r = cf_fail(err, -E2BIG, -1, NULL, "too long to audit");
    if (r == 0)
        r = cf_commit(cf, who, "level.declare", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_vals_free(v, 3);
    return r;
}

static const struct cf_field risk_fields[] = {
    {"a", CF_NUM, 0, 0}, {"b", CF_NUM, 0, 1}, {"c", CF_NUM, 0, 1},
    {"d", CF_NUM, 0, 0}, {"note", CF_STR, INCIDENT_REASON_MAX, 0},
};

int casefile_risk_add(const struct casefile *cf, const char *who, const char *body, size_t len,
                      int64_t now_us, struct casefile_err *err)
{
    struct cf_val v[5];
    struct store_risk_rec rec;
    struct buf details;
    double live_a = 0, live_d = 0, value = 0;
    char live[32];
    int r;

    if ((r = cf_read_body(body, len, risk_fields, 5, v, err)) < 0)
        return r;
    if ((r = cf_begin(cf, err)) < 0) {
        cf_vals_free(v, 5);
        return r;
    }
    if ((!v[0].have || !v[3].have) &&
        (r = store_risk_live(cf->st, now_us, &live_a, &live_d)) < 0)
        r = cf_store_fail(cf, err, r);
    rec = (struct store_risk_rec){
        .time_us = now_us,
        .a = v[0].have ? v[0].d : live_a,
        .b = v[1].d,
        .c = v[2].d,
        .d = v[3].have ? v[3].d : live_d,
        .who = who,
        .note = v[4].s,
    };
    snprintf(live, sizeof(live), "[%s%s%s]", v[0].have ? "" : "\"a\"",
             !v[0].have && !v[3].have ? "," : "", v[3].have ? "" : "\"d\"");
    rec.live_json = live;
    if (r == 0 && incident_risk_meter(rec.a, rec.b, rec.c, rec.d, &value) < 0)
        r = cf_fail(err, -EINVAL, -1, NULL,
                    "a and d are >= 0, b and c percentages from 0 to 100, the result finite");
    rec.value = value;
    buf_init(&details, 1024);
    if (r == 0 && (r = store_risk_add(cf->st, &rec, NULL)) < 0)
        r = cf_store_fail(cf, err, r);
    if (r == 0 &&
        buf_printf(&details, "{\"a\":%.17g,\"b\":%.17g,\"c\":%.17g,\"d\":%.17g,\"value\":%.17g,"
                             "\"live\":%s}",
                   rec.a, rec.b, rec.c, rec.d, rec.value, live) < 0)
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0)
        r = cf_commit(cf, who, "risk.sample", "risk-meter", &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_vals_free(v, 5);
    return r;
}

/* ------------------------------------------------------------------ */
/* Responses: the approval queue and blocks lifted by hand             */

static const struct cf_field answer_fields[] = {
    {"note", CF_STR, INCIDENT_REASON_MAX, 0},
};

int casefile_response_answer(const struct casefile *cf, int64_t id, int approve, const char *who,
                             const char *body, size_t len, int64_t now_us,
                             struct casefile_err *err)
{
    struct cf_val v[1];
    struct buf details;
    char obj[64];
    int r;

    if (len == 0 && approve)
        memset(v, 0, sizeof(v));
    else if ((r = cf_read_body(body, len, answer_fields, 1, v, err)) < 0)
        return r;
    if (!approve && (!v[0].have || !v[0].s || !v[0].s[0])) {
        cf_vals_free(v, 1);
        return cf_fail(err, -EINVAL, -1, "note", "a rejection needs a note saying why");
    }
    if ((r = cf_begin(cf, err)) < 0) {
        cf_vals_free(v, 1);
        return r;
    }
    buf_init(&details, 256);
    r = store_resp_decide(cf->st, id, approve, who, v[0].s, now_us);
    if (r == -ENOENT)
        r = cf_fail(err, r, -1, NULL, "no such response");
    else if (r == -ESTALE)
        r = cf_fail(err, r, -1, NULL, "%s: only a pending request can be %s",
                    store_errmsg(cf->st), approve ? "approved" : "rejected");
    else if (r < 0)
        r = cf_store_fail(cf, err, r);
    snprintf(obj, sizeof(obj), "response/%lld", (long long)id);
    if (r == 0 && (buf_printf(&details, "{\"response\":%lld,\"note\":", (long long)id) < 0 ||
                   (v[0].s ? buf_json_str(&details, v[0].s, strlen(v[0].s))
                           : buf_puts(&details, "null")) < 0 ||
                   buf_putc(&details, '}') < 0))
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0)
        r = cf_commit(cf, who, approve ? "response.approve" : "response.reject", obj, &details,
                      err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    cf_vals_free(v, 1);
    return r;
}

int casefile_block_lift(const struct casefile *cf, int64_t id, const char *who, int64_t now_us,
                        struct casefile_err *err)
{
    struct buf details;
    char obj[64];
    int r;

    if ((r = cf_begin(cf, err)) < 0)
        return r;
    buf_init(&details, 128);
    r = store_resp_lift_request(cf->st, id, who, now_us);
    if (r == -ENOENT)
        r = cf_fail(err, r, -1, NULL, "no such response");
    else if (r == -ESTALE)
        r = cf_fail(err, r, -1, NULL, "%s", store_errmsg(cf->st));
    else if (r < 0)
        r = cf_store_fail(cf, err, r);
    snprintf(obj, sizeof(obj), "response/%lld", (long long)id);
    if (r == 0 && buf_printf(&details, "{\"response\":%lld}", (long long)id) < 0)
        r = cf_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0)
        r = cf_commit(cf, who, "block.lift_request", obj, &details, err);
    else
        store_rollback(cf->st);
    buf_done(&details);
    return r;
}

int casefile_change(const struct casefile *cf, const char *who, const char *action,
                    const char *object,
                    int (*change)(struct store *st, void *ctx, struct buf *details), void *ctx,
                    struct casefile_err *err)
{
    struct buf details;
    int r;

    if ((r = cf_begin(cf, err)) < 0)
        return r;
    buf_init(&details, 64 * 1024);
    if ((r = change(cf->st, ctx, &details)) < 0) {
        r = cf_store_fail(cf, err, r);
        store_rollback(cf->st);
    } else {
        r = cf_commit(cf, who, action, object, &details, err);
    }
    buf_done(&details);
    return r;
}
