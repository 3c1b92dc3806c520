/*
 * casefile_observable.c - analysts' changes to an incident's observables
 * (casefile_observable.h): values checked with the indicator store's own
 * normalisation (intel_normalize), so that the same address or name is
 * the same observable whoever typed it and links incidents as the ones
 * taken from alerts do.
 */
#include "incident/casefile_observable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"
#include "intel/intel.h"
#include "store/store.h"
#include "store/store_observable.h"
#include "util/jp.h"

/* A user name: 1..256 bytes, no control characters. */
#define OBS_USER_MAX 256

static const struct casefile_field obs_fields[] = {
    {"type", CASEFILE_STR, 32, 1},
    {"value", CASEFILE_STR, INTEL_VALUE_MAX, 1},
    {"note", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
};

struct obs_add {
    char type[33];
    char value[INTEL_VALUE_MAX + 1];
    int64_t *ret_obs;
    int *ret_new;
};

/* The canonical form of (type, value) into a->type and a->value. */
static int obs_check(const char *type, const char *value, struct obs_add *a,
                     struct casefile_err *err)
{
    size_t n = strlen(value);
    const char *why = NULL;
    int t;

    if (strcmp(type, "user") == 0) {
        if (n == 0 || n > OBS_USER_MAX)
            return casefile_fail(err, -EINVAL, -1, "value", "a user name is 1 to %d bytes",
                                 OBS_USER_MAX);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
                return casefile_fail(err, -EINVAL, -1, "value",
                                     "a user name holds no control characters");
        snprintf(a->type, sizeof(a->type), "user");
        memcpy(a->value, value, n + 1);
        return 0;
    }
    /* a URL pattern is a regex to look for, not a value seen */
    if ((t = intel_type_parse(type)) < 0 || t == INTEL_URL_PATTERN)
        return casefile_fail(err, -EINVAL, -1, "type",
                             "not an observable type: ipv4, ipv6, domain, hostname, url, email, "
                             "md5, sha1, sha256, ja3, ja4, user-agent, regkey, process or user");
    if (intel_normalize((enum intel_type)t, value, n, a->value, &why) < 0)
        return casefile_fail(err, -EINVAL, -1, "value", "not a %s: %s", type,
                             why ? why : "malformed");
    snprintf(a->type, sizeof(a->type), "%s", intel_type_name((enum intel_type)t));
    return 0;
}

static int add_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                   struct casefile_err *err)
{
    struct obs_add *a = ctx;
    char what[INTEL_VALUE_MAX + 48];
    int r;

    r = store_observable_add(cf->st, t->incident, a->type, a->value, STORE_OBS_ANALYST, t->who, 0,
                             t->v[2].have ? t->v[2].s : NULL, t->now_us, a->ret_obs, a->ret_new);
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (!*a->ret_new)
        return CASEFILE_TXN_NOTHING;
    snprintf(what, sizeof(what), "%s %s", a->type, a->value);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "observable", NULL, what,
                            err)) < 0)
        return r;
    if (casefile_details(&t->details, &t->inc, "observable", what) < 0)
        return casefile_fail(err, -E2BIG, -1, "value", "the observable is too long to audit");
    return 0;
}

int casefile_observable_add(const struct casefile *cf, int64_t id, const char *who,
                            const char *body, size_t len, int64_t now_us, int64_t *ret_obs,
                            int *ret_new, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(obs_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "observable.add", .incident = id, .v = v};
    struct obs_add *a = calloc(1, sizeof(*a)); /* 2 KiB of value: off the stack */
    int r;

    *ret_obs = 0;
    *ret_new = 0;
    if (!a)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if ((r = casefile_read_body(body, len, obs_fields, CASEFILE_NFIELDS(v), v, err)) < 0) {
        free(a);
        return r;
    }
    a->ret_obs = ret_obs;
    a->ret_new = ret_new;
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if ((r = obs_check(v[0].s, v[1].s, a, err)) == 0)
        r = casefile_run(cf, &t, add_act, a, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    free(a);
    return r;
}

/* ---- removing and promoting ---- */

struct obs_one {
    int64_t obs;
    int confidence, tlp;
    int64_t *ret_indicator;
    char type[33];
    char value[INTEL_VALUE_MAX + 1];
    char what[INTEL_VALUE_MAX + 96];
};

static int delete_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct obs_one *o = ctx;
    int r = store_observable_get(cf->st, t->incident, o->obs, o->type, sizeof(o->type), o->value,
                                 sizeof(o->value));

    if (r == -ENOENT)
        return casefile_fail(err, -ENOENT, -1, NULL, "no such observable");
    if (r < 0 || (r = store_observable_delete(cf->st, t->incident, o->obs)) < 0)
        return casefile_store_fail(cf, err, r);
    snprintf(o->what, sizeof(o->what), "%s %s", o->type, o->value);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "observable removed",
                            o->what, NULL, err)) < 0)
        return r;
    if (casefile_details(&t->details, &t->inc, "observable", o->what) < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "the observable is too long to audit");
    return 0;
}

int casefile_observable_delete(const struct casefile *cf, int64_t id, int64_t obs, const char *who,
                               int64_t now_us, struct casefile_err *err)
{
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "observable.delete", .incident = id};
    struct obs_one *o = calloc(1, sizeof(*o));
    int r;

    if (!o)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    o->obs = obs;
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    r = casefile_run(cf, &t, delete_act, o, err);
    free(o);
    return r;
}

static const struct casefile_field promote_fields[] = {
    {"tlp", CASEFILE_STR, 16, 1},
    {"confidence", CASEFILE_I64, 0, 0},
};

static int promote_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                       struct casefile_err *err)
{
    struct obs_one *o = ctx;
    const char *tlp = intel_tlp_name((enum intel_tlp)o->tlp);
    int r = store_observable_get(cf->st, t->incident, o->obs, o->type, sizeof(o->type), o->value,
                                 sizeof(o->value));

    if (r == -ENOENT)
        return casefile_fail(err, -ENOENT, -1, NULL, "no such observable");
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (intel_type_parse(o->type) < 0)
        return casefile_fail(err, -EINVAL, -1, NULL,
                             "a %s observable has no indicator type: it cannot be promoted",
                             o->type);
    r = store_observable_promote(cf->st, t->incident, o->obs, CASEFILE_OBS_FEED, o->type, o->value,
                                 o->confidence, tlp, t->now_us, o->ret_indicator);
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    snprintf(o->what, sizeof(o->what), "%s %s as an indicator of feed %s (TLP:%s, confidence %d)",
             o->type, o->value, CASEFILE_OBS_FEED, tlp, o->confidence);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "observable promoted",
                            NULL, o->what, err)) < 0)
        return r;
    if (casefile_details(&t->details, &t->inc, "indicator", o->what) < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "the observable is too long to audit");
    return 0;
}

int casefile_observable_promote(const struct casefile *cf, int64_t id, int64_t obs, const char *who,
                                const char *body, size_t len, int64_t now_us,
                                int64_t *ret_indicator, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(promote_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "observable.promote", .incident = id, .v = v};
    struct obs_one *o;
    int r;

    *ret_indicator = 0;
    if ((r = casefile_read_body(body, len, promote_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (!(o = calloc(1, sizeof(*o)))) {
        casefile_vals_free(v, CASEFILE_NFIELDS(v));
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    }
    o->obs = obs;
    o->ret_indicator = ret_indicator;
    o->confidence = CASEFILE_OBS_CONFIDENCE;
    o->tlp = intel_tlp_parse(v[0].s, strlen(v[0].s));
    if (o->tlp < 0)
        r = casefile_fail(err, -EINVAL, -1, "tlp", "tlp: CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
    else if (v[1].have && (v[1].i < 0 || v[1].i > 100))
        r = casefile_fail(err, -EINVAL, -1, "confidence", "confidence: 0 to 100");
    if (r == 0) {
        if (v[1].have)
            o->confidence = (int)v[1].i;
        casefile_object(t.objbuf, sizeof(t.objbuf), id);
        r = casefile_run(cf, &t, promote_act, o, err);
    }
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    free(o);
    return r;
}

/* ---- from an attached alert's stored events ---- */

struct obs_scan {
    const struct casefile *cf;
    int64_t incident, alert, now_us;
    size_t n, added;
    struct buf text;
    char value[INTEL_VALUE_MAX + 1];
};

/* One string value of a field of `type`: added when it is an observable. */
static int scan_value(struct obs_scan *o, int type, struct jp_span v)
{
    const char *tname = NULL;
    int fresh = 0, r;

    if (!v.len || v.p[0] != '"' || o->n >= CASEFILE_OBS_PER_ALERT)
        return 0;
    buf_reset(&o->text);
    if (jp_text(v, &o->text, 0) != 0 || !o->text.data ||
        intel_obs_norm(type, o->text.data, o->text.len, o->value, &tname) < 0)
        return 0; /* not an observable of that type, or too long: skipped */
    o->n++;
    r = store_observable_add(o->cf->st, o->incident, tname, o->value, STORE_OBS_ALERT, NULL,
                             o->alert, NULL, o->now_us, NULL, &fresh);
    o->added += fresh > 0;
    return r;
}

/* The observables of one alert's "fields" object. */
static int scan_fields(struct obs_scan *o, struct jp_span fields)
{
    int r = 0;

    o->n = 0;
    for (size_t i = 0; r == 0 && i < intel_obs_nfields; i++) {
        struct jp_span v, e;
        struct jp_iter it;

        if (jp_lookup(fields, intel_obs_fields[i].field, &v) < 0)
            continue;
        if (v.len && v.p[0] == '[') {
            if (jp_iter_init(&it, v) < 0)
                continue;
            while (r == 0 && jp_iter_next(&it, NULL, &e) == 1)
                r = scan_value(o, intel_obs_fields[i].type, e);
        } else {
            r = scan_value(o, intel_obs_fields[i].type, v);
        }
    }
    return r;
}

int casefile_observables_from_agg(const struct casefile *cf, int64_t incident, int64_t agg,
                                  int64_t now_us, size_t *ret_added, struct casefile_err *err)
{
    struct obs_scan *o = calloc(1, sizeof(*o));
    struct buf page;
    struct jp_span doc, e, f;
    struct jp_iter it;
    size_t n = 0;
    int r;

    if (ret_added)
        *ret_added = 0;
    if (!o)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    o->cf = cf;
    o->incident = incident;
    o->now_us = now_us;
    buf_init(&o->text, INTEL_VALUE_MAX + 8);
    buf_init(&page, (size_t)64 << 20);
    r = buf_putc(&page, '[');
    if (r == 0)
        r = store_agg_events_json(cf->st, agg, CASEFILE_OBS_AGG_ALERTS, 0, &page, &n);
    if (r == 0)
        r = buf_putc(&page, ']');
    if (r == -ENOENT) {
        r = 0; /* attach said so already */
    } else if (r < 0) {
        r = r == -ENOMEM || r == -E2BIG ? casefile_fail(err, -ENOMEM, -1, NULL, "out of memory")
                                        : casefile_store_fail(cf, err, r);
    } else if (jp_doc(page.data, page.len, &doc, NULL) == 0 && jp_iter_init(&it, doc) == 0) {
        while (r == 0 && jp_iter_next(&it, NULL, &e) == 1) {
            struct jp_span id;
            int64_t alert = 0;

            if (jp_lookup(e, "fields", &f) < 0 || !f.len || f.p[0] != '{')
                continue;
            if (jp_lookup(e, "id", &id) == 0)
                (void)jp_span_i64(id, &alert);
            o->alert = alert;
            if ((r = scan_fields(o, f)) < 0)
                r = casefile_store_fail(cf, err, r);
        }
    }
    if (r == 0 && ret_added)
        *ret_added = o->added;
    buf_done(&page);
    buf_done(&o->text);
    free(o);
    return r;
}
