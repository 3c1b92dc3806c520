/*
 * casefile_alert.c - aggregated alerts in the case file: acknowledged,
 * attached to an incident, or suppressed for triage to pick up (see
 * casefile.h), one at a time or a selection at once (bulk: one
 * transaction and one audit entry per action).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/time.h"
#include "incident/audit.h"
#include "incident/casefile_observable.h"
#include "incident/casefile_priv.h"

static void alert_object(struct casefile_txn *t, int64_t alert)
{
    snprintf(t->objbuf, sizeof(t->objbuf), "alert/%lld", (long long)alert);
}

static int ack_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                   struct casefile_err *err)
{
    int64_t alert = *(const int64_t *)ctx;
    int r = store_agg_ack(cf->st, alert, t->who, t->now_us);

    if (r == -ENOENT)
        return casefile_fail(err, r, -1, NULL, "no such alert");
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (buf_printf(&t->details, "{\"alert\":%lld}", (long long)alert) < 0)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    return 0;
}

int casefile_alert_ack(const struct casefile *cf, int64_t alert, const char *who, int64_t now_us,
                       struct casefile_err *err)
{
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "alert.ack", .details_max = 256};

    alert_object(&t, alert);
    return casefile_run(cf, &t, ack_act, &alert, err);
}

static const struct casefile_field attach_fields[] = {
    {"incident", CASEFILE_I64, 0, 1},
};

static int attach_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    int64_t alert = *(const int64_t *)ctx;
    char to[64];
    int r = store_agg_attach(cf->st, alert, t->incident);

    if (r == -ENOENT)
        return casefile_fail(err, r, -1, NULL, "no such alert");
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    /* The alert's observables join the incident's (issue 20). */
    if ((r = casefile_observables_from_agg(cf, t->incident, alert, t->now_us, NULL, err)) < 0)
        return r;
    snprintf(to, sizeof(to), "alert %lld", (long long)alert);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "alert", NULL, to, err)) <
        0)
        return r;
    if (buf_printf(&t->details, "{\"alert\":%lld,\"incident\":%lld}", (long long)alert,
                   (long long)t->incident) < 0)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    return 0;
}

int casefile_alert_attach(const struct casefile *cf, int64_t alert, const char *who,
                          const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(attach_fields)];
    struct casefile_txn t = {.who = who,
                             .now_us = now_us,
                             .action = "alert.attach",
                             .incident_field = "incident",
                             .details_max = 256};
    int r;

    if ((r = casefile_read_body(body, len, attach_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (v[0].i <= 0)
        return casefile_fail(err, -EINVAL, -1, "incident", "an incident id is a positive number");
    t.incident = v[0].i;
    alert_object(&t, alert);
    return casefile_run(cf, &t, attach_act, &alert, err);
}

static const struct casefile_field suppress_fields[] = {
    {"reason", CASEFILE_STR, INCIDENT_REASON_MAX, 1},
    {"expires", CASEFILE_STR, 40, 1},
    {"scope", CASEFILE_STR, 16, 0},
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
            const char *end = strchr(p, '\x1f'),
                       *eq = memchr(p, '=', end ? (size_t)(end - p) : strlen(p));
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

/* A suppression asked for, checked before the transaction. */
struct supp_req {
    int64_t alert;
    int entity;       /* scope entity (else rule) */
    int64_t exp_us;   /* expires */
    char expires[40]; /* the normal form triage reads: second precision, UTC */
    int64_t id;       /* the suppression made */
};

/* Reads `expires` (an ISO 8601 time, or a bare date: its start, UTC),
 * `scope` (NULL: not given) and `reason` of the body into q. */
static int supp_check(const char *reason, const char *expires, const char *scope, int64_t now_us,
                      struct supp_req *q, struct casefile_err *err)
{
    size_t used = 0;

    if (strlen(expires) == 10) {
        char day[40];
        snprintf(day, sizeof(day), "%sT00:00:00Z", expires);
        if (time_parse_iso8601(day, strlen(day), 0, &q->exp_us, &used) < 0 || used != strlen(day))
            used = 0;
    } else if (time_parse_iso8601(expires, strlen(expires), 0, &q->exp_us, &used) < 0 ||
               used != strlen(expires)) {
        used = 0;
    }
    if (used == 0)
        return casefile_fail(err, -EINVAL, -1, "expires",
                             "expires is an ISO 8601 time or date (UTC when no zone)");
    if (q->exp_us <= now_us)
        return casefile_fail(err, -EINVAL, -1, "expires", "expires is in the past");
    if (scope && strcmp(scope, "rule") != 0 && strcmp(scope, "entity") != 0)
        return casefile_fail(err, -EINVAL, -1, "scope",
                             "scope is rule (every alert of the rule) or entity (of the rule on "
                             "these entities)");
    if (!reason[0])
        return casefile_fail(err, -EINVAL, -1, "reason", "field \"reason\" is empty");
    q->entity = !(scope && strcmp(scope, "rule") == 0);
    {
        time_t t = (time_t)(q->exp_us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(q->expires, sizeof(q->expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    return 0;
}

/* Writes the suppression's YAML into `yaml` (NUL-terminated) and checks
 * that triage accepts it, parsing it as the pipeline will. */
static int supp_text(const struct casefile_txn *t, const struct supp_req *q, const char *reason,
                     const char *rule, const char *key, struct buf *yaml, struct casefile_err *err)
{
    struct parse_err pe = {0};
    struct triage_opts *check;
    int r = 0;

    if (cf_supp_yaml(yaml, q->id, reason, t->who, q->expires, rule ? rule : "", key, q->entity) <
            0 ||
        buf_putc(yaml, '\0') < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "the suppression is too large");
    if (!(check = triage_opts_defaults()))
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (triage_opts_load_suppress(check, yaml->data, yaml->len - 1, t->now_us, &pe) < 0)
        r = casefile_fail(err, -EINVAL, -1, NULL, "triage refuses the suppression: %s",
                          pe.msg ? pe.msg : "?");
    triage_opts_free(check);
    return r;
}

/* Makes the suppression q asks for from alert q->alert (its rule, and
 * key when scope entity; read here unless given), inside t's transaction;
 * q->id is its id. */
static int suppress_one(const struct casefile *cf, struct casefile_txn *t, struct supp_req *q,
                        const char *reason, struct casefile_err *err)
{
    struct store_supp_rec rec;
    struct buf yaml;
    char *rule = NULL, *key = NULL;
    int r;

    buf_init(&yaml, 64 * 1024);
    r = store_agg_rule_key(cf->st, q->alert, &rule, &key);
    if (r == -ENOENT)
        r = casefile_fail(err, r, -1, NULL, "no such alert %lld", (long long)q->alert);
    else if (r < 0)
        r = casefile_store_fail(cf, err, r);
    rec = (struct store_supp_rec){.created_us = t->now_us,
                                  .expires_us = q->exp_us,
                                  .alert_id = q->alert,
                                  .who = t->who,
                                  .reason = reason,
                                  .yaml = ""};
    /* The row first, for its id (the suppression's label), then its text. */
    if (r == 0 && (r = store_supp_add(cf->st, &rec, &q->id)) < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0)
        r = supp_text(t, q, reason, rule, key, &yaml, err);
    if (r == 0 && (r = store_supp_set_yaml(cf->st, q->id, yaml.data)) < 0)
        r = casefile_store_fail(cf, err, r);
    free(rule);
    free(key);
    buf_done(&yaml);
    return r;
}

static int suppress_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                        struct casefile_err *err)
{
    struct supp_req *q = ctx;
    const char *reason = t->v[0].s;
    int r = suppress_one(cf, t, q, reason, err);

    if (r == 0 &&
        (buf_printf(&t->details,
                    "{\"suppression\":%lld,\"alert\":%lld,\"scope\":\"%s\","
                    "\"expires\":\"%s\",\"reason\":",
                    (long long)q->id, (long long)q->alert, q->entity ? "entity" : "rule",
                    q->expires) < 0 ||
         buf_json_str(&t->details, reason, strlen(reason)) < 0 || buf_putc(&t->details, '}') < 0))
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return r;
}

int casefile_alert_suppress(const struct casefile *cf, int64_t alert, const char *who,
                            const char *body, size_t len, int64_t now_us, int64_t *ret_id,
                            struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(suppress_fields)];
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "alert.suppress", .v = v};
    struct supp_req q = {.alert = alert};
    int r;

    if ((r = casefile_read_body(body, len, suppress_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    alert_object(&t, alert);
    if ((r = supp_check(v[0].s, v[1].s, v[2].have ? v[2].s : NULL, now_us, &q, err)) == 0 &&
        (r = casefile_run(cf, &t, suppress_act, &q, err)) == 0)
        *ret_id = q.id;
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

/* ------------------------------------------------------------------ */
/* Bulk: one action over a selection                                   */

static const struct casefile_field bulk_fields[] = {
    {"action", CASEFILE_STR, 16, 1},
    /* Read to the body's size: past CASEFILE_BULK_MAX is told as the cap. */
    {"ids", CASEFILE_I64V, CASEFILE_BODY_MAX / 2 + 1, 0},
    {"matching", CASEFILE_BOOL, 0, 0},
    {"max", CASEFILE_I64, 0, 0},
    {"reason", CASEFILE_STR, INCIDENT_REASON_MAX, 0},
    {"expires", CASEFILE_STR, 40, 0},
    {"scope", CASEFILE_STR, 16, 0},
    {"incident", CASEFILE_I64, 0, 0},
    {"title", CASEFILE_STR, INCIDENT_TITLE_MAX, 0},
    {"summary", CASEFILE_STR, INCIDENT_SUMMARY_MAX, 0},
    {"type", CASEFILE_STR, 64, 0},
    {"category", CASEFILE_STR, 8, 0},
    {"level", CASEFILE_STR, 16, 0},
};
enum {
    B_ACTION,
    B_IDS,
    B_MATCHING,
    B_MAX,
    B_REASON,
    B_EXPIRES,
    B_SCOPE,
    B_INCIDENT,
    B_TITLE,
    B_SUMMARY,
    B_TYPE,
    B_CATEGORY,
    B_LEVEL,
};

/* Per action: its name, audit action and the fields it takes (bits of the
 * enum above; action, ids, matching and max go with every one). */
static const struct bulk_kind {
    const char *name, *audit;
    enum casefile_bulk_action act;
    unsigned takes, needs;
} bulk_kinds[] = {
    {"ack", "alert.bulk_ack", CASEFILE_BULK_ACK, 0, 0},
    {"suppress", "alert.bulk_suppress", CASEFILE_BULK_SUPPRESS,
     1u << B_REASON | 1u << B_EXPIRES | 1u << B_SCOPE, 1u << B_REASON | 1u << B_EXPIRES},
    {"attach", "alert.bulk_attach", CASEFILE_BULK_ATTACH, 1u << B_INCIDENT, 1u << B_INCIDENT},
    {"open_incident", "alert.bulk_open", CASEFILE_BULK_OPEN,
     1u << B_TITLE | 1u << B_SUMMARY | 1u << B_TYPE | 1u << B_CATEGORY | 1u << B_LEVEL,
     1u << B_TITLE},
};

struct bulk {
    const struct bulk_kind *kind;
    const struct casefile_val *v;
    const struct store_agg_filter *f; /* the selection when by filter, else NULL */
    int64_t *ids;                     /* the selection, ascending, no repeats */
    size_t n;
    struct supp_req q; /* suppress */
    struct casefile_bulk_result *res;
    enum casefile_rank rank; /* open_incident: who may open at Orange/Red */
    char *asked;             /* open_incident gated: the request's audit details */
};

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Appends the ids (ascending) as ranges, "1-40,42", within `room` bytes
 * of `b`; *ret_cut set when they did not all fit. */
static int bulk_ranges(struct buf *b, const int64_t *ids, size_t n, size_t room, int *ret_cut)
{
    size_t start = b->len;
    int r = 0;

    *ret_cut = 0;
    for (size_t i = 0; r == 0 && i < n;) {
        size_t j = i;

        while (j + 1 < n && ids[j + 1] == ids[j] + 1)
            j++;
        if (b->len - start > room) {
            *ret_cut = 1;
            break;
        }
        r = j > i ? buf_printf(b, "%s%lld-%lld", i ? "," : "", (long long)ids[i], (long long)ids[j])
                  : buf_printf(b, "%s%lld", i ? "," : "", (long long)ids[i]);
        i = j + 1;
    }
    return r;
}

/* The audit entry's details: the action, how many, how they were chosen
 * (the filter as given, or ids) and the ids touched as ranges. */
static int bulk_details(const struct bulk *k, struct buf *d)
{
    const struct store_agg_filter *f = k->f;
    int cut = 0;
    int r = buf_printf(d, "{\"action\":\"%s\",\"count\":%zu,\"selected\":\"%s\"", k->kind->name,
                       k->n, f ? "filter" : "ids");

    if (r == 0 && f) {
        r = buf_puts(d, ",\"filter\":{");
        int any = 0;
        if (r == 0 && f->rule) {
            r = buf_puts(d, "\"rule\":");
            if (r == 0)
                r = buf_json_str(d, f->rule, strlen(f->rule));
            any = 1;
        }
        if (r == 0 && f->min_level)
            r = buf_printf(d, "%s\"level\":%d", any++ ? "," : "", f->min_level);
        if (r == 0 && f->acknowledged >= 0)
            r = buf_printf(d, "%s\"acknowledged\":%d", any++ ? "," : "", f->acknowledged);
        if (r == 0 && f->incident_id)
            r = buf_printf(d, "%s\"incident\":%lld", any++ ? "," : "", (long long)f->incident_id);
        if (r == 0 && f->entity) {
            r = buf_printf(d, "%s\"entity\":", any++ ? "," : "");
            if (r == 0)
                r = buf_json_str(d, f->entity, strlen(f->entity));
        }
        if (r == 0 && f->q) {
            r = buf_printf(d, "%s\"q\":", any++ ? "," : "");
            if (r == 0)
                r = buf_json_str(d, f->q, strlen(f->q));
        }
        if (r == 0 && f->since_us)
            r = buf_printf(d, "%s\"since_us\":%lld", any++ ? "," : "", (long long)f->since_us);
        if (r == 0 && f->until_us)
            r = buf_printf(d, "%s\"until_us\":%lld", any++ ? "," : "", (long long)f->until_us);
        if (r == 0)
            r = buf_putc(d, '}');
    }
    if (r == 0 && k->res->incident)
        r = buf_printf(d, ",\"incident\":%lld", (long long)k->res->incident);
    if (r == 0 && k->kind->act == CASEFILE_BULK_SUPPRESS) {
        r = buf_printf(d, ",\"suppressions\":%zu,\"scope\":\"%s\",\"expires\":\"%s\",\"reason\":",
                       k->res->suppressions, k->q.entity ? "entity" : "rule", k->q.expires);
        if (r == 0)
            r = buf_json_str(d, k->v[B_REASON].s, strlen(k->v[B_REASON].s));
    }
    if (r == 0)
        r = buf_puts(d, ",\"ids\":\"");
    /* Ranges keep a contiguous selection short; a scattered one is cut to
     * fit the entry, and says so. */
    if (r == 0)
        r = bulk_ranges(d, k->ids, k->n, AUDIT_DETAILS_MAX / 2, &cut);
    if (r == 0)
        r = buf_printf(d, "\"%s}", cut ? ",\"ids_cut\":true" : "");
    return r;
}

/* A suppression per distinct rule (scope rule) or rule and entities
 * (scope entity) among the selection: the first alert of each names it. */
struct supp_pick {
    char *k; /* rule, 0x1e, key (scope entity); heap */
    int64_t id;
};

static int pick_cmp(const void *a, const void *b)
{
    const struct supp_pick *x = a, *y = b;
    int c = strcmp(x->k, y->k);

    return c ? c : i64_cmp(&x->id, &y->id);
}

static int bulk_suppress(const struct casefile *cf, struct casefile_txn *t, struct bulk *k,
                         struct casefile_err *err)
{
    struct supp_pick *p = calloc(k->n ? k->n : 1, sizeof(*p));
    size_t np = 0;
    int r = 0;

    if (!p)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    for (size_t i = 0; r == 0 && i < k->n; i++) {
        char *rule = NULL, *key = NULL;

        r = store_agg_rule_key(cf->st, k->ids[i], &rule, &key);
        if (r == -ENOENT)
            r = casefile_fail(err, r, -1, "ids", "no such alert %lld", (long long)k->ids[i]);
        else if (r < 0)
            r = casefile_store_fail(cf, err, r);
        else if (asprintf(&p[np].k, "%s\x1e%s", rule ? rule : "", k->q.entity && key ? key : "") <
                 0)
            r = casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
        else
            p[np++].id = k->ids[i];
        free(rule);
        free(key);
    }
    qsort(p, np, sizeof(*p), pick_cmp);
    for (size_t i = 0; r == 0 && i < np; i++) {
        if (i && strcmp(p[i].k, p[i - 1].k) == 0)
            continue;
        k->q.alert = p[i].id;
        if ((r = suppress_one(cf, t, &k->q, k->v[B_REASON].s, err)) == 0)
            k->res->suppressions++;
    }
    for (size_t i = 0; i < np; i++)
        free(p[i].k);
    free(p);
    return r;
}

/* Links the selection to incident `id` and notes it in its timeline. */
static int bulk_attach(const struct casefile *cf, struct casefile_txn *t, struct bulk *k,
                       int64_t id, const struct incident *inc, struct casefile_err *err)
{
    char to[INCIDENT_VALUE_MAX + 1];
    int r = 0;

    for (size_t i = 0; r == 0 && i < k->n; i++)
        if ((r = store_agg_attach(cf->st, k->ids[i], id)) == -ENOENT)
            r = casefile_fail(err, r, -1, "ids", "no such alert %lld", (long long)k->ids[i]);
        else if (r < 0)
            r = casefile_store_fail(cf, err, r);
        else if (i < CASEFILE_OBS_BULK_AGGS) /* its observables join the incident's */
            r = casefile_observables_from_agg(cf, id, k->ids[i], t->now_us, NULL, err);
    snprintf(to, sizeof(to), "%zu alert%s (%lld to %lld)", k->n, k->n == 1 ? "" : "s",
             (long long)k->ids[0], (long long)k->ids[k->n - 1]);
    if (r == 0)
        r = casefile_event(cf, id, inc, t->now_us, t->who, "alert", NULL, to, err);
    k->res->incident = id;
    return r;
}

/* The create body of the incident to open, from the bulk body's fields. */
static int bulk_open_body(const struct casefile_val *v, struct buf *b)
{
    static const int keys[] = {B_TITLE, B_SUMMARY, B_TYPE, B_CATEGORY, B_LEVEL};
    int r = buf_putc(b, '{');

    for (size_t i = 0; r == 0 && i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct casefile_val *x = &v[keys[i]];
        if (!x->have)
            continue;
        r = buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", bulk_fields[keys[i]].name);
        if (r == 0)
            r = buf_json_str(b, x->s, strlen(x->s));
    }
    return r < 0 ? r : buf_putc(b, '}');
}

static int bulk_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    struct bulk *k = ctx;
    int r = 0;

    switch (k->kind->act) {
    case CASEFILE_BULK_ACK:
        for (size_t i = 0; r == 0 && i < k->n; i++)
            if ((r = store_agg_ack(cf->st, k->ids[i], t->who, t->now_us)) == -ENOENT)
                r = casefile_fail(err, r, -1, "ids", "no such alert %lld", (long long)k->ids[i]);
            else if (r < 0)
                r = casefile_store_fail(cf, err, r);
        snprintf(t->objbuf, sizeof(t->objbuf), "alerts");
        break;
    case CASEFILE_BULK_SUPPRESS:
        r = bulk_suppress(cf, t, k, err);
        snprintf(t->objbuf, sizeof(t->objbuf), "alerts");
        break;
    case CASEFILE_BULK_ATTACH:
        r = bulk_attach(cf, t, k, t->incident, &t->inc, err);
        casefile_object(t->objbuf, sizeof(t->objbuf), t->incident);
        break;
    case CASEFILE_BULK_OPEN: {
        struct incident inc;
        struct buf body;

        buf_init(&body, CASEFILE_BODY_MAX);
        if (bulk_open_body(k->v, &body) < 0) {
            buf_done(&body);
            return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
        }
        r = casefile_record_new_as(cf, t, body.data, body.len, k->rank, &inc, &k->res->approval,
                                   &k->asked, err);
        t->action = k->kind->audit; /* a gated opening's request set it */
        buf_done(&body);
        if (r == 0)
            r = bulk_attach(cf, t, k, (int64_t)inc.id, &inc, err);
        incident_done(&inc);
        /* The details are this action's, not the new record's. */
        buf_reset(&t->details);
        break;
    }
    }
    if (r == 0 && bulk_details(k, &t->details) < 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    /* A gated opening: the request it filed, in this one entry. */
    if (r == 0 && k->asked && t->details.len && t->details.data[t->details.len - 1] == '}') {
        t->details.len--;
        if (buf_printf(&t->details, ",\"approval\":%s}", k->asked) < 0)
            r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    }
    k->res->count = k->n;
    return r;
}

/* Checks the body's fields against its action; *ret_kind is the action. */
static int bulk_check(const struct casefile_val *v, const struct bulk_kind **ret_kind,
                      int64_t *ret_max, struct casefile_err *err)
{
    const struct bulk_kind *kind = NULL;

    for (size_t i = 0; i < sizeof(bulk_kinds) / sizeof(bulk_kinds[0]); i++)
        if (strcmp(v[B_ACTION].s, bulk_kinds[i].name) == 0)
            kind = &bulk_kinds[i];
    if (!kind)
        return casefile_fail(err, -EINVAL, -1, "action",
                             "action is ack, suppress, attach or open_incident");
    for (unsigned i = B_REASON; i <= B_LEVEL; i++) {
        if (v[i].have && !(kind->takes & (1u << i)))
            return casefile_fail(err, -EINVAL, -1, bulk_fields[i].name,
                                 "field \"%s\" is not for action %s", bulk_fields[i].name,
                                 kind->name);
        if (!v[i].have && (kind->needs & (1u << i)))
            return casefile_fail(err, -EINVAL, -1, bulk_fields[i].name,
                                 "action %s needs field \"%s\"", kind->name, bulk_fields[i].name);
    }
    if (v[B_IDS].have == (v[B_MATCHING].have && v[B_MATCHING].b))
        return casefile_fail(err, -EINVAL, -1, "ids",
                             "name the alerts: \"ids\" (a list), or \"matching\": true for those "
                             "the query's filter keeps");
    if (v[B_IDS].have && v[B_IDS].niv == 0)
        return casefile_fail(err, -EINVAL, -1, "ids", "ids is empty");
    *ret_max = v[B_MAX].have ? v[B_MAX].i : CASEFILE_BULK_MAX;
    if (*ret_max < 1 || *ret_max > CASEFILE_BULK_MAX)
        return casefile_fail(err, -EINVAL, -1, "max", "max is 1 to %d", CASEFILE_BULK_MAX);
    if (kind->act == CASEFILE_BULK_ATTACH && v[B_INCIDENT].i <= 0)
        return casefile_fail(err, -EINVAL, -1, "incident", "an incident id is a positive number");
    if (kind->act == CASEFILE_BULK_OPEN && !v[B_TITLE].s[0])
        return casefile_fail(err, -EINVAL, -1, "title", "field \"title\" is empty");
    *ret_kind = kind;
    return 0;
}

/* The selection into k->ids: the body's ids (sorted, repeats dropped) or
 * those the filter keeps; -EOVERFLOW past max. */
static int bulk_select(const struct casefile *cf, const struct casefile_val *v,
                       const struct store_agg_filter *f, int64_t max, struct bulk *k,
                       struct casefile_err *err)
{
    int64_t total = 0;
    size_t n = 0;
    int r;

    if (v[B_IDS].have) {
        if (!(k->ids = malloc(v[B_IDS].niv * sizeof(*k->ids))))
            return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
        memcpy(k->ids, v[B_IDS].iv, v[B_IDS].niv * sizeof(*k->ids));
        qsort(k->ids, v[B_IDS].niv, sizeof(*k->ids), i64_cmp);
        for (size_t i = 0; i < v[B_IDS].niv; i++)
            if (!n || k->ids[i] != k->ids[n - 1])
                k->ids[n++] = k->ids[i];
        k->n = n;
        if ((int64_t)n > max)
            return casefile_fail(err, -EOVERFLOW, -1, "ids",
                                 "%zu alerts named; one request touches at most %lld", n,
                                 (long long)max);
        return 0;
    }
    if (!(k->ids = malloc((size_t)max * sizeof(*k->ids))))
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if ((r = store_agg_ids(cf->st, f, k->ids, (size_t)max, &n, &total)) < 0)
        return casefile_store_fail(cf, err, r);
    k->n = n;
    k->f = f;
    if (total > max)
        return casefile_fail(err, -EOVERFLOW, -1, "matching",
                             "the filter keeps %lld aggregated alerts; one request touches at "
                             "most %lld: narrow the filter (level, rule, entity, time)",
                             (long long)total, (long long)max);
    if (n == 0)
        return casefile_fail(err, -ENOENT, -1, "matching", "the filter keeps no alert");
    return 0;
}

int casefile_alert_bulk(const struct casefile *cf, const struct store_agg_filter *f,
                        const char *who, const char *body, size_t len, int64_t now_us,
                        struct casefile_bulk_result *ret, struct casefile_err *err)
{
    return casefile_alert_bulk_as(cf, f, who, CASEFILE_RANK_ADMIN, body, len, now_us, ret, err);
}

int casefile_alert_bulk_as(const struct casefile *cf, const struct store_agg_filter *f,
                           const char *who, enum casefile_rank rank, const char *body, size_t len,
                           int64_t now_us, struct casefile_bulk_result *ret,
                           struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(bulk_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .v = v, .details_max = AUDIT_DETAILS_MAX};
    struct bulk k = {.v = v, .res = ret, .rank = rank};
    int64_t max = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    if ((r = casefile_read_body(body, len, bulk_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if ((r = bulk_check(v, &k.kind, &max, err)) < 0)
        goto out;
    ret->action = k.kind->name;
    if (k.kind->act == CASEFILE_BULK_SUPPRESS &&
        (r = supp_check(v[B_REASON].s, v[B_EXPIRES].s, v[B_SCOPE].have ? v[B_SCOPE].s : NULL,
                        now_us, &k.q, err)) < 0)
        goto out;
    /* Selected before the transaction: a read; what it names is checked
     * again inside, and a vanished alert fails the whole action. */
    if ((r = bulk_select(cf, v, f, max, &k, err)) < 0)
        goto out;
    t.action = k.kind->audit;
    if (k.kind->act == CASEFILE_BULK_ATTACH) {
        t.incident = v[B_INCIDENT].i;
        t.incident_field = "incident";
    }
    r = casefile_run(cf, &t, bulk_act, &k, err);
out:
    free(k.ids);
    free(k.asked);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}
