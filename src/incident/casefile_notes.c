/*
 * casefile_notes.c - what people write into an incident's case file:
 * notes, and communications with contacts or other parties (see
 * casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"

static const struct casefile_field note_fields[] = {
    {"text", CASEFILE_STR, CASEFILE_NOTE_MAX, 1},
};

static int note_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    const char *text = t->v[0].s;
    int r;

    if ((r = store_note_add(cf->st, t->incident, t->now_us, t->who, text, ctx)) < 0)
        return casefile_store_fail(cf, err, r);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "note", NULL, text, err)) <
        0)
        return r;
    if (casefile_details(&t->details, &t->inc, "text", text) < 0)
        return casefile_fail(err, -E2BIG, -1, "text", "the note is too long to audit");
    return 0;
}

int casefile_note_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, int64_t *ret_note, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(note_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "note.add", .incident = id, .v = v};
    int r;

    if ((r = casefile_read_body(body, len, note_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if ((r = casefile_nonempty(note_fields, v, 0, err)) == 0)
        r = casefile_run(cf, &t, note_act, ret_note, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

static const struct casefile_field comm_fields[] = {
    {"contact", CASEFILE_I64, 0, 0},
    {"party", CASEFILE_STR, INCIDENT_VALUE_MAX, 0},
    {"channel", CASEFILE_STR, 16, 1},
    {"direction", CASEFILE_STR, 8, 1},
    {"summary", CASEFILE_STR, CASEFILE_NOTE_MAX, 1},
};

static const char *const cf_channels[] = {"phone", "mail", "meeting", "web", "fax", "other", NULL};
static const char *const cf_directions[] = {"out", "in", NULL};

int casefile_comm_put(const struct casefile *cf, int64_t id, const struct store_comm_rec *c,
                      int64_t *ret_comm, struct casefile_err *err)
{
    int r;

    if (c->contact_id) {
        struct buf tmp;
        buf_init(&tmp, 64 * 1024);
        r = store_contact_json(cf->st, c->contact_id, &tmp);
        buf_done(&tmp);
        if (r == -ENOENT)
            return casefile_fail(err, -EINVAL, -1, "contact", "no such contact");
        if (r < 0)
            return casefile_store_fail(cf, err, r);
    }
    if ((r = store_comm_add(cf->st, id, c, ret_comm)) < 0)
        return casefile_store_fail(cf, err, r);
    return 0;
}

static int comm_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    const struct casefile_val *v = t->v;
    const struct store_comm_rec c = {
        .contact_id = v[0].have ? v[0].i : 0,
        .party = v[1].have ? v[1].s : NULL,
        .channel = v[2].s,
        .direction = v[3].s,
        .summary = v[4].s,
        .who = t->who,
        .time_us = t->now_us,
    };
    char to[INCIDENT_VALUE_MAX + 64], name[INCIDENT_VALUE_MAX + 1] = "";
    int r;

    if ((r = casefile_comm_put(cf, t->incident, &c, ctx, err)) < 0)
        return r;
    /* The timeline (and so the reports) names the party: the one written,
     * else the contact's name as it is now. */
    if (!(c.party && c.party[0]) && c.contact_id &&
        (r = store_contact_name(cf->st, c.contact_id, name, sizeof(name))) < 0)
        return casefile_store_fail(cf, err, r);
    snprintf(to, sizeof(to), "%s %s (%s)", strcmp(c.direction, "in") == 0 ? "from" : "to",
             c.party && c.party[0] ? c.party : name, c.channel);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "communication", NULL, to,
                            err)) < 0)
        return r;
    if (casefile_details(&t->details, &t->inc, "summary", c.summary) < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int casefile_comm_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, int64_t *ret_comm, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(comm_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "communication.add", .incident = id, .v = v};
    int r;

    if ((r = casefile_read_body(body, len, comm_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (!casefile_one_of(v[2].s, cf_channels))
        r = casefile_fail(err, -EINVAL, -1, "channel",
                          "channel is one of phone, mail, meeting, web, fax, other");
    else if (!casefile_one_of(v[3].s, cf_directions))
        r = casefile_fail(err, -EINVAL, -1, "direction", "direction is out or in");
    else if (!v[0].have && !(v[1].have && v[1].s[0]))
        r = casefile_fail(err, -EINVAL, -1, "party", "name a contact or a party");
    else if (v[0].have && v[0].i <= 0)
        r = casefile_fail(err, -EINVAL, -1, "contact", "a contact id is a positive number");
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if (r == 0 && (r = casefile_nonempty(comm_fields, v, 4, err)) == 0)
        r = casefile_run(cf, &t, comm_act, ret_comm, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}
