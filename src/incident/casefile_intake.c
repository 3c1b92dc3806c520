/*
 * casefile_intake.c - what reaches the CSIRT from people: a report taken
 * in as a new incident with its first communication and task, and the
 * contacts the CSIRT talks to (see casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"
#include "incident/availability.h"

static const struct casefile_field intake_fields[] = {
    {"reporter", CASEFILE_STR, INCIDENT_VALUE_MAX, 1},
    {"contact", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"description", CASEFILE_STR, INCIDENT_SUMMARY_MAX / 2, 1},
    {"evidence", CASEFILE_STRV, INCIDENT_VALUE_MAX, 0},
    {"source", CASEFILE_STR, 32, 1},
    {"type", CASEFILE_STR, 64, 0},
};
#define INTAKE_NFIELDS CASEFILE_NFIELDS(intake_fields)

/* The intake's record as an update body: title, summary (the description
 * with the evidence), detection method and type. */
static int intake_update(const struct casefile_val *v, enum incident_method method,
                         enum triage_type type, struct buf *upd)
{
    char title[INCIDENT_TITLE_MAX + 1];
    int r;

    snprintf(title, sizeof(title), "Report from %s", v[0].s);
    r = buf_puts(upd, "{\"title\":");
    if (r == 0)
        r = buf_json_str(upd, title, strlen(title));
    if (r == 0)
        r = buf_puts(upd, ",\"summary\":");
    if (r == 0) {
        struct buf sum;
        buf_init(&sum, INCIDENT_SUMMARY_MAX);
        r = buf_puts(&sum, v[2].s);
        if (r == 0 && v[3].s && v[3].s[0])
            r = buf_printf(&sum, "\n\nEvidence:\n%s", v[3].s);
        if (r == 0)
            r = buf_json_str(upd, sum.data, sum.len);
        buf_done(&sum);
    }
    if (r == 0)
        r = buf_printf(upd, ",\"detection_method\":\"%s\",\"type\":\"%s\"}",
                       incident_method_name(method), triage_type_name(type));
    return r;
}

/* The task every intake starts with: reply to the reporter. */
static int intake_task(const struct casefile *cf, struct casefile_txn *t,
                       const struct incident *inc, struct casefile_err *err)
{
    const struct casefile_val *v = t->v;
    struct playbook_checklist cl;
    char desc[INCIDENT_VALUE_MAX + 64];
    uint32_t tid;
    int r;

    if ((r = casefile_tasks_load(cf, (int64_t)inc->id, &cl, err)) < 0)
        return r;
    snprintf(desc, sizeof(desc),
             "Acknowledge the report and tell the reporter what happens "
             "next. Contact: %s",
             v[1].have && v[1].s[0] ? v[1].s : "(none given)");
    if ((r = playbook_task_add(&cl, INCIDENT_PHASE_NEW, "Reply to the reporter", desc, "csirt", 1,
                               &tid)) < 0)
        r = casefile_fail(err, r, -1, NULL, "the checklist cannot take the task");
    else if ((r = casefile_task_save(cf, (int64_t)inc->id, playbook_task_get(&cl, tid), err)) == 0)
        r = casefile_event(cf, (int64_t)inc->id, inc, t->now_us, t->who, "communication", NULL,
                           "report received", err);
    playbook_checklist_done(&cl);
    return r;
}

struct intake_ctx {
    const struct buf *upd;
    int64_t id;
};

static int intake_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct intake_ctx *c = ctx;
    const struct casefile_val *v = t->v;
    const struct store_comm_rec comm = {
        .party = v[0].s,
        .channel = "other",
        .direction = "in",
        .summary = v[2].s,
        .who = t->who,
        .time_us = t->now_us,
    };
    struct incident inc;
    int r;

    r = casefile_record_new(cf, t, c->upd->data, c->upd->len, &inc, err);
    if (r == 0)
        r = casefile_comm_put(cf, (int64_t)inc.id, &comm, NULL, err);
    if (r == 0)
        r = intake_task(cf, t, &inc, err);
    c->id = (int64_t)inc.id;
    incident_done(&inc);
    return r;
}

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
    struct casefile_val v[INTAKE_NFIELDS];
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "intake.create", .v = v};
    struct buf upd;
    struct intake_ctx c = {&upd, 0};
    enum incident_method method = INCIDENT_METHOD_INTERNAL_REPORT;
    enum triage_type type = TRIAGE_TYPE_NONE;
    int r, found = 0;

    if ((r = casefile_read_body(body, len, intake_fields, INTAKE_NFIELDS, v, err)) < 0)
        return r;
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (strcmp(v[4].s, sources[i].source) == 0) {
            method = sources[i].method;
            found = 1;
        }
    if (!found)
        r = casefile_fail(err, -EINVAL, -1, "source",
                          "source is internal, external_private, external_public or press");
    else if (v[5].have && incident_type_from_name(v[5].s, strlen(v[5].s), &type) < 0)
        r = casefile_fail(err, -EINVAL, -1, "type", "unknown incident type");
    else if ((r = casefile_nonempty(intake_fields, v, 0, err)) == 0)
        r = casefile_nonempty(intake_fields, v, 2, err);
    /* The record is made through the same update path as a PATCH. */
    buf_init(&upd, INCIDENT_JSON_MAX);
    if (r == 0 && intake_update(v, method, type, &upd) < 0)
        r = casefile_fail(err, -EINVAL, -1, "description", "the report is too long");
    if (r == 0 && (r = casefile_run(cf, &t, intake_act, &c, err)) == 0)
        *ret_id = c.id;
    buf_done(&upd);
    casefile_vals_free(v, INTAKE_NFIELDS);
    return r;
}

static const struct casefile_field contact_fields[] = {
    {"name", CASEFILE_STR, INCIDENT_VALUE_MAX, 1},
    {"kind", CASEFILE_STR, 16, 1},
    {"organisation", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"role", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"email", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"phone", CASEFILE_STR, 64, 0},
    {"notes", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"quiet_hours", CASEFILE_STR, AVAIL_TEXT_MAX, 0},
    {"on_call", CASEFILE_STR, AVAIL_TEXT_MAX, 0},
    {"timezone", CASEFILE_STR, 64, 0},
};

/* Checks a contact's quiet_hours, on_call and timezone (v[7..9]); "" is
 * none.  0 or -EINVAL told in err, naming the field and where. */
static int contact_avail_check(const struct casefile_val *v, struct casefile_err *err)
{
    const char *why = NULL;
    size_t at = 0;
    struct tz *tz = NULL;
    int r;

    if (v[7].have && v[7].s && avail_check_quiet(v[7].s, &why, &at) < 0)
        return casefile_fail(err, -EINVAL, -1, "quiet_hours", "quiet_hours at byte %zu: %s", at,
                             why);
    if (v[8].have && v[8].s && avail_check_on_call(v[8].s, &why, &at) < 0)
        return casefile_fail(err, -EINVAL, -1, "on_call", "on_call at byte %zu: %s", at, why);
    if (v[9].have && v[9].s && v[9].s[0]) {
        if ((r = tz_load(v[9].s, NULL, &tz)) < 0)
            return casefile_fail(err, r == -ENOMEM ? r : -EINVAL, -1, "timezone",
                                 "timezone: %s", r == -ENOENT ? "no such zone"
                                                              : "not a zone (Europe/Berlin, "
                                                                "+09:00, UTC)");
        tz_free(tz);
    }
    return 0;
}
#define CONTACT_NFIELDS CASEFILE_NFIELDS(contact_fields)

static int contact_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                       struct casefile_err *err)
{
    const struct casefile_val *v = t->v;
    const struct store_contact_rec c = {.name = v[0].s,
                                        .kind = v[1].s,
                                        .organisation = v[2].s,
                                        .role = v[3].s,
                                        .email = v[4].s,
                                        .phone = v[5].s,
                                        .notes = v[6].s,
                                        .created_by = t->who,
                                        .created_us = t->now_us,
                                        .quiet_hours = v[7].s,
                                        .on_call = v[8].s,
                                        .timezone = v[9].s};
    int64_t *ret_id = ctx;
    int r;

    if ((r = store_contact_add(cf->st, &c, ret_id)) < 0)
        return casefile_store_fail(cf, err, r);
    snprintf(t->objbuf, sizeof(t->objbuf), "contact/%lld", (long long)*ret_id);
    if (buf_puts(&t->details, "{\"name\":") < 0 ||
        buf_json_str(&t->details, v[0].s ? v[0].s : "", v[0].s ? strlen(v[0].s) : 0) < 0 ||
        buf_printf(&t->details, ",\"kind\":\"%s\"}", c.kind) < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int casefile_contact_add(const struct casefile *cf, const char *who, const char *body, size_t len,
                         int64_t now_us, int64_t *ret_id, struct casefile_err *err)
{
    static const char *const kinds[] = {"vertical", "horizontal", "external", NULL};
    struct casefile_val v[CONTACT_NFIELDS];
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "contact.add", .v = v};
    int r;

    if ((r = casefile_read_body(body, len, contact_fields, CONTACT_NFIELDS, v, err)) < 0)
        return r;
    if (!casefile_one_of(v[1].s, kinds))
        r = casefile_fail(err, -EINVAL, -1, "kind", "kind is vertical, horizontal or external");
    if (r == 0)
        r = contact_avail_check(v, err);
    if (r == 0 && (r = casefile_nonempty(contact_fields, v, 0, err)) == 0)
        r = casefile_run(cf, &t, contact_act, ret_id, err);
    casefile_vals_free(v, CONTACT_NFIELDS);
    return r;
}

/* ------------------------------------------------------------------ */
/* Editing and deleting a contact                                      */

static const struct casefile_field contact_patch_fields[] = {
    {"name", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"kind", CASEFILE_STR, 16, 0},
    {"organisation", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"role", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"email", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"phone", CASEFILE_STR, 64, 0},
    {"notes", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"quiet_hours", CASEFILE_STR, AVAIL_TEXT_MAX, 0},
    {"on_call", CASEFILE_STR, AVAIL_TEXT_MAX, 0},
    {"timezone", CASEFILE_STR, 64, 0},
};

/* A "contact" entry, old name -> new, on the timeline of every incident
 * that communicated with the contact. */
static int contact_timeline(const struct casefile *cf, const struct casefile_txn *t, int64_t id,
                            const char *from, const char *to, struct casefile_err *err)
{
    struct store_contact_inc *v = NULL;
    size_t n = 0;
    int r = store_contact_incidents(cf->st, id, &v, &n);

    for (size_t i = 0; r == 0 && i < n; i++)
        r = store_timeline_add(cf->st, v[i].incident, t->now_us, v[i].version, t->who, "contact",
                               from, to, NULL);
    free(v);
    return r < 0 ? casefile_store_fail(cf, err, r) : 0;
}

static int contact_edit_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                            struct casefile_err *err)
{
    const int64_t id = *(const int64_t *)ctx;
    const struct casefile_val *v = t->v;
    char old[INCIDENT_VALUE_MAX + 1];
    int r;

    snprintf(t->objbuf, sizeof(t->objbuf), "contact/%lld", (long long)id);
    if ((r = store_contact_name(cf->st, id, old, sizeof(old))) == -ENOENT)
        return casefile_fail(err, -ENOENT, -1, NULL, "no such contact");
    if (r < 0 || (r = buf_puts(&t->details, "{\"before\":")) < 0 ||
        (r = store_contact_json(cf->st, id, &t->details)) < 0)
        return r == -E2BIG ? casefile_fail(err, r, -1, NULL, "too long to audit")
                           : casefile_store_fail(cf, err, r);
    if (!v) {
        /* Deleting: the timelines first, while the link still stands. */
        if ((r = contact_timeline(cf, t, id, old, "deleted", err)) < 0)
            return r;
        if ((r = store_contact_delete(cf->st, id)) < 0)
            return casefile_store_fail(cf, err, r);
        if (buf_puts(&t->details, "}") < 0)
            return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
        return 0;
    }
    {
        const struct store_contact_rec c = {v[0].have ? v[0].s : NULL,
                                            v[1].have ? v[1].s : NULL,
                                            v[2].have ? v[2].s : NULL,
                                            v[3].have ? v[3].s : NULL,
                                            v[4].have ? v[4].s : NULL,
                                            v[5].have ? v[5].s : NULL,
                                            v[6].have ? v[6].s : NULL,
                                            NULL,
                                            0,
                                            v[7].have ? v[7].s : NULL,
                                            v[8].have ? v[8].s : NULL,
                                            v[9].have ? v[9].s : NULL};
        if ((r = store_contact_update(cf->st, id, &c)) < 0)
            return casefile_store_fail(cf, err, r);
    }
    if ((r = contact_timeline(cf, t, id, old, v[0].have ? v[0].s : old, err)) < 0)
        return r;
    if ((r = buf_puts(&t->details, ",\"after\":")) < 0 ||
        (r = store_contact_json(cf->st, id, &t->details)) < 0 ||
        (r = buf_puts(&t->details, "}")) < 0)
        return r == -E2BIG ? casefile_fail(err, r, -1, NULL, "too long to audit")
                           : casefile_store_fail(cf, err, r);
    return 0;
}

int casefile_contact_update(const struct casefile *cf, int64_t id, const char *who,
                            const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    static const char *const kinds[] = {"vertical", "horizontal", "external", NULL};
    struct casefile_val v[CASEFILE_NFIELDS(contact_patch_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "contact.update", .details_max = 64 * 1024, .v = v};
    size_t given = 0;
    int r;

    if ((r = casefile_read_body(body, len, contact_patch_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    for (size_t i = 0; i < CASEFILE_NFIELDS(v); i++)
        given += v[i].have != 0;
    if (!given)
        r = casefile_fail(err, -EINVAL, -1, NULL,
                          "name at least one of name, kind, organisation, role, email, phone,"
                          " notes, quiet_hours, on_call, timezone");
    else if (v[1].have && !casefile_one_of(v[1].s, kinds))
        r = casefile_fail(err, -EINVAL, -1, "kind", "kind is vertical, horizontal or external");
    if (r == 0)
        r = contact_avail_check(v, err);
    if (r == 0 && (r = casefile_nonempty(contact_patch_fields, v, 0, err)) == 0)
        r = casefile_run(cf, &t, contact_edit_act, &id, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

int casefile_contact_delete(const struct casefile *cf, int64_t id, const char *who, int64_t now_us,
                            struct casefile_err *err)
{
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "contact.delete", .details_max = 64 * 1024};

    return casefile_run(cf, &t, contact_edit_act, &id, err);
}
