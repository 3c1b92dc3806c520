/*
 * casefile_level.c - the organisation's state in the case file, outside
 * any one incident: the level declared per asset category and the samples
 * of the real risk meter (see casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"
#include "incident/casefile_procedure.h"

static const struct casefile_field declare_fields[] = {
    {"category", CASEFILE_STR, 8, 1},
    {"level", CASEFILE_STR, 16, 1},
    {"why", CASEFILE_STR, INCIDENT_REASON_MAX, 1},
};

struct declare_ctx {
    enum asset_category cat;
    enum triage_alert_level level;
};

static int declare_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                       struct casefile_err *err)
{
    const struct declare_ctx *d = ctx;
    const char *why = t->v[2].s;
    int r;

    if ((r = store_declare_add(cf->st, incident_category_name(d->cat), triage_level_name(d->level),
                               t->who, why, t->now_us)) < 0)
        return casefile_store_fail(cf, err, r);
    if (buf_printf(&t->details, "{\"category\":\"%s\",\"level\":\"%s\",\"why\":",
                   incident_category_name(d->cat), triage_level_name(d->level)) < 0 ||
        buf_json_str(&t->details, why, strlen(why)) < 0 || buf_putc(&t->details, '}') < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int casefile_declare(const struct casefile *cf, const char *who, const char *body, size_t len,
                     int64_t now_us, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(declare_fields)];
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "level.declare", .v = v};
    struct declare_ctx d = {ASSET_CAT_NONE, TRIAGE_GREEN};
    int r;

    if ((r = casefile_read_body(body, len, declare_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (incident_category_from_name(v[0].s, strlen(v[0].s), &d.cat) < 0 || d.cat == ASSET_CAT_NONE)
        r = casefile_fail(err, -EINVAL, -1, "category", "category is A, B, C or D");
    else if (incident_level_from_name(v[1].s, strlen(v[1].s), &d.level) < 0)
        r = casefile_fail(err, -EINVAL, -1, "level", "level is Green, Yellow, Orange or Red");
    snprintf(t.objbuf, sizeof(t.objbuf), "level/%s", incident_category_name(d.cat));
    if (r == 0 && (r = casefile_nonempty(declare_fields, v, 2, err)) == 0)
        r = casefile_run(cf, &t, declare_act, &d, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    /* The box's procedures on the category's open incidents, each in a
     * transaction of its own after the declaration stands: declaring
     * again makes what a failure here left out, and nothing twice. */
    if (r == 0)
        r = casefile_procedure_declared(cf, d.cat, d.level, who, now_us, NULL, err);
    return r;
}

static const struct casefile_field risk_fields[] = {
    {"a", CASEFILE_NUM, 0, 0},
    {"b", CASEFILE_NUM, 0, 1},
    {"c", CASEFILE_NUM, 0, 1},
    {"d", CASEFILE_NUM, 0, 0},
    {"note", CASEFILE_STR, INCIDENT_REASON_MAX, 0},
};

static int risk_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    const struct casefile_val *v = t->v;
    struct store_risk_rec rec;
    double live_a = 0, live_d = 0, value = 0;
    char live[32];
    int r = 0;

    if ((!v[0].have || !v[3].have) &&
        (r = store_risk_live(cf->st, t->now_us, &live_a, &live_d)) < 0)
        r = casefile_store_fail(cf, err, r);
    rec = (struct store_risk_rec){
        .time_us = t->now_us,
        .a = v[0].have ? v[0].d : live_a,
        .b = v[1].d,
        .c = v[2].d,
        .d = v[3].have ? v[3].d : live_d,
        .who = t->who,
        .note = v[4].s,
    };
    snprintf(live, sizeof(live), "[%s%s%s]", v[0].have ? "" : "\"a\"",
             !v[0].have && !v[3].have ? "," : "", v[3].have ? "" : "\"d\"");
    rec.live_json = live;
    if (r == 0 && incident_risk_meter(rec.a, rec.b, rec.c, rec.d, &value) < 0)
        r = casefile_fail(err, -EINVAL, -1, NULL,
                          "a and d are >= 0, b and c percentages from 0 to 100, the result finite");
    rec.value = value;
    if (r == 0 && (r = store_risk_add(cf->st, &rec, NULL)) < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0 && buf_printf(&t->details,
                             "{\"a\":%.17g,\"b\":%.17g,\"c\":%.17g,\"d\":%.17g,\"value\":%.17g,"
                             "\"live\":%s}",
                             rec.a, rec.b, rec.c, rec.d, rec.value, live) < 0)
        r = casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    return r;
}

int casefile_risk_add(const struct casefile *cf, const char *who, const char *body, size_t len,
                      int64_t now_us, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(risk_fields)];
    struct casefile_txn t = {.who = who,
                             .now_us = now_us,
                             .action = "risk.sample",
                             .object = "risk-meter",
                             .details_max = 1024,
                             .v = v};
    int r;

    if ((r = casefile_read_body(body, len, risk_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    r = casefile_run(cf, &t, risk_act, NULL, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}
