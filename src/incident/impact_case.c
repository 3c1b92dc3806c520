/*
 * impact_case.c - the impact analysis and the countermeasures on the case
 * file (impact_case.h): request bodies read, the analysis and its texts
 * stored, the recommended level told on the timeline.
 */
#include "incident/impact_case.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "event/time.h"
#include "incident/casefile_priv.h"
#include "incident/impact.h"
#include "store/store_message.h"

static const struct casefile_field impact_fields[] = {
    {"category", CASEFILE_STR, 32, 1},
    {"scale", CASEFILE_STR, 32, 1},
    {"state", CASEFILE_STR, 32, 1},
    {"whom", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
    {"description", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
    {"technical_general_direct", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
    {"technical_general_secondary", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
    {"technical_specific_direct", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
    {"technical_specific_secondary", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
    {"business_direct", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
    {"business_secondary", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
};

struct impact_ctx {
    struct impact im;
    const char *level;
};

static int impact_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct impact_ctx *ic = ctx;
    char why[300];
    enum triage_alert_level l = impact_recommend(&ic->im, why, sizeof(why));
    struct buf rec, itext, ttext;
    char to[400];
    int r;

    buf_init(&rec, 64 * 1024);
    buf_init(&itext, 16 * 1024);
    buf_init(&ttext, 32 * 1024);
    r = impact_json(&ic->im, &rec);
    if (r == 0)
        r = impact_text(&ic->im, &itext);
    if (r == 0)
        r = impact_threats_text(&ic->im, &ttext);
    if (r < 0) {
        r = casefile_fail(err, -EINVAL, -1, NULL, "the analysis is too long");
        goto out;
    }
    {
        const struct store_impact_rec sr = {
            .record = rec.data,
            .recommended = triage_level_name(l),
            .impact_text = itext.data,
            .threats_text = ttext.data,
            .who = t->who,
            .now_us = t->now_us,
        };
        if ((r = store_impact_put(cf->st, t->incident, &sr)) < 0) {
            r = casefile_store_fail(cf, err, r);
            goto out;
        }
    }
    snprintf(to, sizeof(to), "recommended %s: %s", triage_level_name(l), why);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "impact", NULL, to, err)) <
        0)
        goto out;
    if (buf_printf(&t->details, "{\"incident\":%lld,\"recommended_level\":\"%s\",\"analysis\":",
                   (long long)t->incident, triage_level_name(l)) < 0 ||
        buf_append(&t->details, rec.data, rec.len) < 0 || buf_putc(&t->details, '}') < 0) {
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
        goto out;
    }
    ic->level = triage_level_name(l);
out:
    buf_done(&rec);
    buf_done(&itext);
    buf_done(&ttext);
    return r;
}

int impact_case_put(const struct casefile *cf, int64_t incident, const char *who, const char *body,
                    size_t len, int64_t now_us, const char **ret_level, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(impact_fields)];
    struct casefile_txn t = {.who = who,
                             .now_us = now_us,
                             .action = "incident.impact",
                             .incident = incident,
                             .v = v,
                             .details_max = 256 * 1024};
    struct impact_ctx ic = {0};
    int r;

    if ((r = casefile_read_body(body, len, impact_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (impact_category_from_name(v[0].s, &ic.im.category) < 0)
        r = casefile_fail(err, -EINVAL, -1, "category",
                          "category is one of society, third_parties, own, none");
    else if (impact_scale_from_name(v[1].s, &ic.im.scale) < 0)
        r = casefile_fail(err, -EINVAL, -1, "scale",
                          "scale is one of none, limited, significant, severe");
    else if (impact_state_from_name(v[2].s, &ic.im.state) < 0)
        r = casefile_fail(err, -EINVAL, -1, "state",
                          "state is one of none, possible, likely, occurring");
    ic.im.whom = v[3].have ? v[3].s : NULL;
    ic.im.description = v[4].have ? v[4].s : NULL;
    for (int i = 0; i < IMPACT_LAYER_COUNT; i++) {
        ic.im.direct[i] = v[5 + 2 * i].have ? v[5 + 2 * i].s : NULL;
        ic.im.secondary[i] = v[6 + 2 * i].have ? v[6 + 2 * i].s : NULL;
    }
    casefile_object(t.objbuf, sizeof(t.objbuf), incident);
    if (r == 0)
        r = casefile_run(cf, &t, impact_act, &ic, err);
    if (r == 0 && ret_level)
        *ret_level = ic.level;
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

/* ------------------------------------------------------------------ */
/* Countermeasures                                                     */

static const struct casefile_field cm_fields[] = {
    {"function", CASEFILE_STR, 16, 1},
    {"title", CASEFILE_STR, 300, 1},
    {"owner", CASEFILE_STR, 128, 1},
    {"due", CASEFILE_STR, 40, 0},
};

struct cm_ctx {
    int64_t due_us, id, *ret_id;
    const char *state, *verification;
};

static int cm_add_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct cm_ctx *c = ctx;
    const struct casefile_val *v = t->v;
    const struct store_cm_rec rec = {
        .incident_id = t->incident,
        .function = v[0].s,
        .title = v[1].s,
        .owner = v[2].s,
        .due_us = c->due_us,
        .created_us = t->now_us,
        .created_by = t->who,
    };
    char to[400];
    int r;

    if ((r = store_cm_add(cf->st, &rec, c->ret_id)) < 0)
        return casefile_store_fail(cf, err, r);
    snprintf(to, sizeof(to), "#%lld %s: %.200s (owner %.100s)", (long long)*c->ret_id, v[0].s,
             v[1].s, v[2].s);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "countermeasure", NULL, to,
                            err)) < 0)
        return r;
    if (buf_printf(&t->details,
                   "{\"incident\":%lld,\"countermeasure\":%lld,\"function\":\"%s\","
                   "\"title\":",
                   (long long)t->incident, (long long)*c->ret_id, v[0].s) < 0 ||
        buf_json_str(&t->details, v[1].s, strlen(v[1].s)) < 0 ||
        buf_puts(&t->details, ",\"owner\":") < 0 ||
        buf_json_str(&t->details, v[2].s, strlen(v[2].s)) < 0 || buf_putc(&t->details, '}') < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int impact_case_cm_add(const struct casefile *cf, int64_t incident, const char *who,
                       const char *body, size_t len, int64_t now_us, int64_t *ret_id,
                       struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(cm_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "countermeasure.add", .incident = incident, .v = v};
    struct cm_ctx c = {.ret_id = ret_id};
    enum impact_function fn;
    int r;

    if ((r = casefile_read_body(body, len, cm_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (impact_function_from_name(v[0].s, &fn) < 0)
        r = casefile_fail(err, -EINVAL, -1, "function",
                          "function is one of deter, prevent, defend, detect, recover");
    else if ((r = casefile_nonempty(cm_fields, v, 1, err)) == 0 &&
             (r = casefile_nonempty(cm_fields, v, 2, err)) == 0 && v[3].have) {
        size_t used = 0;
        if (time_parse_iso8601(v[3].s, strlen(v[3].s), 0, &c.due_us, &used) < 0 ||
            used != strlen(v[3].s))
            r = casefile_fail(err, -EINVAL, -1, "due", "due is an ISO 8601 time");
    }
    casefile_object(t.objbuf, sizeof(t.objbuf), incident);
    if (r == 0)
        r = casefile_run(cf, &t, cm_add_act, &c, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

static const struct casefile_field cm_upd_fields[] = {
    {"state", CASEFILE_STR, 16, 1},
    {"verification", CASEFILE_STR, IMPACT_TEXT_MAX, 0},
};

static int cm_upd_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct cm_ctx *c = ctx;
    char old[32], to[200];
    struct buf cur;
    int r;

    if (strcmp(c->state, "verified") == 0 && !(c->verification && c->verification[0])) {
        /* A verification given before counts. */
        buf_init(&cur, 64 * 1024);
        r = store_cm_json(cf->st, c->id, &cur);
        if (r == 0 && strstr(cur.data, "\"verification\":null"))
            r = -EINVAL;
        buf_done(&cur);
        if (r == -EINVAL)
            return casefile_fail(err, -EINVAL, -1, "verification",
                                 "verified needs a verification: what was checked, and how");
    }
    r = store_cm_update(cf->st, t->incident, c->id, c->state, c->verification, t->who, t->now_us,
                        old, sizeof(old));
    if (r == -ENOENT)
        return casefile_fail(err, -ENOENT, -1, NULL, "no such countermeasure on this incident");
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    snprintf(to, sizeof(to), "#%lld %s", (long long)c->id, c->state);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "countermeasure", old, to,
                            err)) < 0)
        return r;
    if (buf_printf(&t->details,
                   "{\"incident\":%lld,\"countermeasure\":%lld,\"from\":\"%s\",\"to\":\"%s\","
                   "\"verification\":",
                   (long long)t->incident, (long long)c->id, old, c->state) < 0 ||
        (c->verification ? buf_json_str(&t->details, c->verification, strlen(c->verification))
                         : buf_puts(&t->details, "null")) < 0 ||
        buf_putc(&t->details, '}') < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int impact_case_cm_update(const struct casefile *cf, int64_t incident, int64_t cm, const char *who,
                          const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    static const char *const states[] = {"planned", "in_progress", "done", "verified", NULL};
    struct casefile_val v[CASEFILE_NFIELDS(cm_upd_fields)];
    struct casefile_txn t = {.who = who,
                             .now_us = now_us,
                             .action = "countermeasure.update",
                             .incident = incident,
                             .v = v};
    struct cm_ctx c = {.id = cm};
    int r;

    if ((r = casefile_read_body(body, len, cm_upd_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (!casefile_one_of(v[0].s, states))
        r = casefile_fail(err, -EINVAL, -1, "state",
                          "state is one of planned, in_progress, done, verified");
    c.state = v[0].s;
    c.verification = v[1].have ? v[1].s : NULL;
    snprintf(t.objbuf, sizeof(t.objbuf), "countermeasure/%lld", (long long)cm);
    if (r == 0)
        r = casefile_run(cf, &t, cm_upd_act, &c, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}
