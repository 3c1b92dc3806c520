/*
 * casefile_alert.c - aggregated alerts in the case file: acknowledged,
 * attached to an incident, or suppressed for triage to pick up (see
 * casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/time.h"
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

/* Reads `expires` (an ISO 8601 time, or a bare date: its start, UTC) and
 * `scope` of the body into q. */
static int supp_check(const struct casefile_val *v, int64_t now_us, struct supp_req *q,
                      struct casefile_err *err)
{
    size_t used = 0;
    int r;

    if (strlen(v[1].s) == 10) {
        char day[40];
        snprintf(day, sizeof(day), "%sT00:00:00Z", v[1].s);
        if (time_parse_iso8601(day, strlen(day), 0, &q->exp_us, &used) < 0 || used != strlen(day))
            used = 0;
    } else if (time_parse_iso8601(v[1].s, strlen(v[1].s), 0, &q->exp_us, &used) < 0 ||
               used != strlen(v[1].s)) {
        used = 0;
    }
    if (used == 0)
        return casefile_fail(err, -EINVAL, -1, "expires",
                             "expires is an ISO 8601 time or date (UTC when no zone)");
    if (q->exp_us <= now_us)
        return casefile_fail(err, -EINVAL, -1, "expires", "expires is in the past");
    if (v[2].have && strcmp(v[2].s, "rule") != 0 && strcmp(v[2].s, "entity") != 0)
        return casefile_fail(err, -EINVAL, -1, "scope",
                             "scope is rule (every alert of the rule) or entity (of the rule on "
                             "these entities)");
    if ((r = casefile_nonempty(suppress_fields, v, 0, err)) < 0)
        return r;
    q->entity = !(v[2].have && strcmp(v[2].s, "rule") == 0);
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
static int supp_text(const struct casefile_txn *t, const struct supp_req *q, const char *rule,
                     const char *key, struct buf *yaml, struct casefile_err *err)
{
    const char *reason = t->v[0].s;
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

static int suppress_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                        struct casefile_err *err)
{
    struct supp_req *q = ctx;
    const char *reason = t->v[0].s;
    struct store_supp_rec rec;
    struct buf yaml;
    char *rule = NULL, *key = NULL;
    int r;

    buf_init(&yaml, 64 * 1024);
    r = store_agg_rule_key(cf->st, q->alert, &rule, &key);
    if (r == -ENOENT)
        r = casefile_fail(err, r, -1, NULL, "no such alert");
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
        r = supp_text(t, q, rule, key, &yaml, err);
    if (r == 0 && (r = store_supp_set_yaml(cf->st, q->id, yaml.data)) < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0 &&
        (buf_printf(&t->details,
                    "{\"suppression\":%lld,\"alert\":%lld,\"scope\":\"%s\","
                    "\"expires\":\"%s\",\"reason\":",
                    (long long)q->id, (long long)q->alert, q->entity ? "entity" : "rule",
                    q->expires) < 0 ||
         buf_json_str(&t->details, reason, strlen(reason)) < 0 || buf_putc(&t->details, '}') < 0))
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    free(rule);
    free(key);
    buf_done(&yaml);
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
    if ((r = supp_check(v, now_us, &q, err)) == 0 &&
        (r = casefile_run(cf, &t, suppress_act, &q, err)) == 0)
        *ret_id = q.id;
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}
