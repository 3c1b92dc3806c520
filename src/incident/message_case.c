/*
 * message_case.c - the life of a message on the case file (see
 * message_case.h): drafting from a template under the party's disclosure
 * rule, the state changes with their timeline and audit entries, replies
 * and field markings.  Each function is one casefile_run transaction.
 */
#include "incident/message_case.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "incident/audit.h"
#include "incident/casefile_priv.h"
#include "incident/comms_advice.h"
#include "store/store_message.h"
#include "util/buf.h"

static struct message_case_conf mc_conf;

void message_case_configure(const struct message_case_conf *c)
{
    mc_conf = *c;
}

/* ------------------------------------------------------------------ */
/* Markings                                                            */

static int marks_load(const struct casefile *cf, int64_t incident,
                      enum message_tlp marks[MESSAGE_FIELD_COUNT], uint32_t *ret_set,
                      struct casefile_err *err)
{
    if (ret_set)
        *ret_set = 0;
    for (int f = 0; f < MESSAGE_FIELD_COUNT; f++) {
        char tlp[32];
        int r = store_marking_get(cf->st, incident, message_field_name((enum message_field)f), tlp,
                                  sizeof(tlp));

        if (r < 0)
            return casefile_store_fail(cf, err, r);
        marks[f] = message_field_default_tlp((enum message_field)f);
        if (tlp[0] && message_tlp_from_name(tlp, &marks[f]) == 0 && ret_set)
            *ret_set |= MESSAGE_FIELD_BIT(f);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Composing                                                           */

struct compose {
    const struct casefile *cf;
    const struct incident *inc;
    enum message_party party;
    uint32_t fields;
    enum message_tlp marks[MESSAGE_FIELD_COUNT];
    enum message_tlp top; /* highest marking among fields */
    const char *recipient;
    char ref[MESSAGE_REF_MAX];
    struct buf impact, threats, cms; /* from the store, for their fields */
};

static int entities_text(const struct incident *inc, struct buf *out)
{
    int r = 0;

    if (inc->nentities == 0)
        return buf_puts(out, "none recorded");
    for (size_t i = 0; r == 0 && i < inc->nentities; i++)
        r = buf_printf(out, "%s%s %s (%s)", i ? "; " : "",
                       incident_entity_kind_name(inc->entities[i].kind), inc->entities[i].value,
                       incident_entity_role_name(inc->entities[i].role));
    return r;
}

static enum comms_leak leak_of(const struct incident *inc)
{
    for (size_t i = 0; i < inc->ntags; i++) {
        enum comms_leak k = comms_leak_from_tag(inc->tags[i]);
        if (k != COMMS_LEAK_NONE)
            return k;
    }
    return COMMS_LEAK_NONE;
}

static int field_value(struct compose *c, enum message_field f, struct buf *out)
{
    const struct incident *inc = c->inc;

    switch (f) {
    case MESSAGE_FIELD_TITLE: return buf_puts(out, inc->title);
    case MESSAGE_FIELD_SUMMARY: return buf_puts(out, inc->summary[0] ? inc->summary : "(none)");
    case MESSAGE_FIELD_TYPE: return buf_puts(out, triage_type_name(inc->type));
    case MESSAGE_FIELD_CATEGORY: return buf_puts(out, incident_category_name(inc->category));
    case MESSAGE_FIELD_LEVEL: return buf_puts(out, triage_level_name(inc->level));
    case MESSAGE_FIELD_PHASE: return buf_puts(out, incident_phase_name(inc->phase));
    case MESSAGE_FIELD_METHOD: return buf_puts(out, incident_method_name(inc->method));
    case MESSAGE_FIELD_ENTITIES: return entities_text(inc, out);
    case MESSAGE_FIELD_IMPACT:
        return buf_puts(out, c->impact.len ? c->impact.data : "Not yet analysed.");
    case MESSAGE_FIELD_THREATS:
        return buf_puts(out, c->threats.len ? c->threats.data : "Not yet analysed.");
    case MESSAGE_FIELD_COUNTERMEASURES:
        return buf_puts(out, c->cms.len ? c->cms.data : "None planned yet.");
    case MESSAGE_FIELD_ADVICE: return buf_puts(out, comms_advice(inc->type, leak_of(inc)));
    default: return -EINVAL;
    }
}

static const char *const field_labels[MESSAGE_FIELD_COUNT] = {
    "Title",       "Summary",  "Type",   "Category", "Level",           "Phase",
    "Detected by", "Affected", "Impact", "Threats",  "Countermeasures", "Advice",
};

static int compose_lookup(void *ctx, const char *name, struct buf *out)
{
    struct compose *c = ctx;
    enum message_field f;

    if (strcmp(name, "incident") == 0)
        return buf_printf(out, "%llu", (unsigned long long)c->inc->id);
    if (strcmp(name, "ref") == 0)
        return buf_puts(out, c->ref);
    if (strcmp(name, "party") == 0)
        return buf_puts(out, message_party_name(c->party));
    if (strcmp(name, "tlp") == 0)
        return buf_puts(out, message_tlp_name(c->top));
    if (strcmp(name, "recipient") == 0)
        return buf_puts(out, c->recipient);
    if (strcmp(name, "fields") == 0) {
        int r = 0;
        for (int i = 0; r == 0 && i < MESSAGE_FIELD_COUNT; i++) {
            if (!(c->fields & MESSAGE_FIELD_BIT(i)))
                continue;
            r = buf_printf(out, "%s [%s]:\n", field_labels[i], message_tlp_name(c->marks[i]));
            if (r == 0)
                r = field_value(c, (enum message_field)i, out);
            if (r == 0)
                r = buf_puts(out, "\n\n");
        }
        return r;
    }
    if (message_field_from_name(name, &f) < 0)
        return -ENOENT;
    if (!(c->fields & MESSAGE_FIELD_BIT(f)))
        return buf_puts(out, "[withheld]");
    return field_value(c, f, out);
}

static int cms_text(const struct casefile *cf, int64_t incident, struct buf *out)
{
    struct buf j;
    int r;

    /* The countermeasures' JSON is shown as is: a list for a reader who
     * asked for them, not prose. */
    buf_init(&j, MESSAGE_BODY_MAX / 2);
    r = store_cms_json(cf->st, incident, &j, NULL);
    if (r == 0 && j.len)
        r = buf_printf(out, "[%s]", j.data);
    buf_done(&j);
    return r;
}

/* Writes subject and body of a message for c into subj/body. */
static int compose(struct compose *c, struct buf *subj, struct buf *body, struct casefile_err *err)
{
    char *tpl = NULL;
    size_t tlen = 0;
    const char *s = NULL, *b = NULL;
    size_t sl = 0, bl = 0;
    struct buf text;
    struct parse_err pe = {0};
    int r;

    r = store_impact_texts(c->cf->st, c->inc->id, &c->impact, &c->threats);
    if (r < 0 && r != -ENOENT)
        return casefile_store_fail(c->cf, err, r);
    if ((r = cms_text(c->cf, c->inc->id, &c->cms)) < 0)
        return casefile_store_fail(c->cf, err, r);
    r = message_template_read(mc_conf.templates_dir, c->party, &tpl, &tlen);
    if (r < 0 && r != -ENOENT) {
        return casefile_fail(err, r, -1, NULL, "message template of %s in %s: %s",
                             message_party_name(c->party), mc_conf.templates_dir, strerror(-r));
    }
    buf_init(&text, MESSAGE_BODY_MAX + MESSAGE_SUBJECT_MAX + 16);
    r = message_render(tpl ? tpl : message_template_builtin,
                       tpl ? tlen : strlen(message_template_builtin), compose_lookup, c,
                       MESSAGE_BODY_MAX, &text, &pe);
    if (r == -EINVAL)
        r = casefile_fail(err, -EINVAL, -1, NULL, "message template of %s: byte %zu: %s",
                          message_party_name(c->party), pe.off, pe.msg);
    else if (r == -E2BIG)
        r = casefile_fail(err, -EINVAL, -1, NULL, "the message would pass %d bytes",
                          MESSAGE_BODY_MAX);
    else if (r < 0)
        r = casefile_fail(err, r, -1, NULL, "composing the message: %s", strerror(-r));
    else if (message_split(text.data, text.len, &s, &sl, &b, &bl) < 0)
        r = casefile_fail(err, -EINVAL, -1, NULL,
                          "message template of %s: the first line must be \"Subject: ...\", "
                          "then a blank line",
                          message_party_name(c->party));
    else if (sl > MESSAGE_SUBJECT_MAX || memchr(s, '\n', sl) || memchr(s, '\r', sl))
        r = casefile_fail(err, -EINVAL, -1, NULL, "the subject would pass %d bytes",
                          MESSAGE_SUBJECT_MAX);
    if (r == 0)
        r = buf_append(subj, s, sl);
    if (r == 0)
        r = buf_append(body, b, bl);
    if (r < 0 && !err->msg[0])
        casefile_fail(err, r, -1, NULL, "composing the message: %s", strerror(-r));
    buf_done(&text);
    free(tpl);
    return r;
}

/* ------------------------------------------------------------------ */
/* Drafting                                                            */

struct draft {
    enum message_party party;
    enum message_channel channel;
    int64_t contact;
    const char *recipient; /* given, or NULL */
    uint32_t fields;       /* 0: the party's defaults */
    const char *kind;
    int64_t *ret_msg;
    /* A procedure's draft: fields marked above `cap` are left out (and
     * named in *ret_withheld when not NULL); none left is -EDOM. */
    int capped;
    enum message_tlp cap;
    uint32_t *ret_withheld;
};

static int recipient_ok(enum message_channel ch, const char *rcpt, struct casefile_err *err)
{
    if (!rcpt[0])
        return casefile_fail(err, -EINVAL, -1, "recipient",
                             "no recipient: name a contact with an e-mail address or a recipient");
    if (strlen(rcpt) > MESSAGE_RECIPIENT_MAX)
        return casefile_fail(err, -EINVAL, -1, "recipient", "recipient too long");
    for (const char *p = rcpt; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == 0x7f)
            return casefile_fail(err, -EINVAL, -1, "recipient",
                                 "the recipient holds a space, a control byte, <, > or \"");
    if (ch == MESSAGE_CHANNEL_SMTP) {
        const char *at = strchr(rcpt, '@');
        if (!at || at == rcpt || !at[1] || strchr(at + 1, '@'))
            return casefile_fail(err, -EINVAL, -1, "recipient",
                                 "an smtp recipient is one address, local@domain");
    } else if (ch == MESSAGE_CHANNEL_WEBHOOK) {
        for (size_t i = 0; i < mc_conf.nwebhook_allow; i++)
            if (strncmp(rcpt, mc_conf.webhook_allow[i], strlen(mc_conf.webhook_allow[i])) == 0)
                return 0;
        return casefile_fail(err, -EINVAL, -1, "recipient",
                             "the webhook URL is not under incident.messages.webhook_allow");
    } else {
        if (strspn(rcpt, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(rcpt) ||
            strlen(rcpt) > 64)
            return casefile_fail(err, -EINVAL, -1, "recipient",
                                 "an export's recipient is a name of a-z, 0-9, _ and -");
    }
    return 0;
}

static int draft_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                     struct casefile_err *err)
{
    struct draft *d = ctx;
    const struct message_rule *rule = message_rule(d->party);
    struct compose c = {.cf = cf, .inc = &t->inc, .party = d->party};
    char email[MESSAGE_RECIPIENT_MAX + 1] = "", name[INCIDENT_NAME_MAX + 1] = "";
    char why[300], fields[256] = "", to[160], hex[17];
    unsigned char rnd[8];
    struct buf subj, body;
    int64_t id = 0;
    int r;

    if (d->contact) {
        r = store_contact_addr(cf->st, d->contact, email, sizeof(email), name, sizeof(name));
        if (r == -ENOENT)
            return casefile_fail(err, -EINVAL, -1, "contact", "no such contact");
        if (r < 0)
            return casefile_store_fail(cf, err, r);
    }
    c.recipient = d->recipient                           ? d->recipient
                  : d->channel == MESSAGE_CHANNEL_EXPORT ? message_party_name(d->party)
                                                         : email;
    if ((r = recipient_ok(d->channel, c.recipient, err)) < 0)
        return r;
    c.fields = d->fields ? d->fields : rule->defaults;
    if ((r = marks_load(cf, t->incident, c.marks, NULL, err)) < 0)
        return r;
    if (d->capped) {
        uint32_t out = 0;

        for (int f = 0; f < MESSAGE_FIELD_COUNT; f++)
            if ((c.fields & MESSAGE_FIELD_BIT(f)) && c.marks[f] > d->cap)
                out |= MESSAGE_FIELD_BIT(f);
        c.fields &= ~out;
        if (d->ret_withheld)
            *d->ret_withheld = out;
        if (!c.fields)
            return casefile_fail(err, -EDOM, -1, "fields",
                                 "every field the procedure names is marked above %s",
                                 message_tlp_name(d->cap));
    }
    if (message_check(rule, c.fields, c.marks, why, sizeof(why)) < 0)
        return casefile_fail(err, -EDOM, -1, "fields", "%s", why);
    for (int f = 0; f < MESSAGE_FIELD_COUNT; f++)
        if (c.fields & MESSAGE_FIELD_BIT(f)) {
            if (c.marks[f] > c.top)
                c.top = c.marks[f];
            snprintf(fields + strlen(fields), sizeof(fields) - strlen(fields), "%s%s",
                     fields[0] ? "," : "", message_field_name((enum message_field)f));
        }
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    snprintf(c.ref, sizeof(c.ref), "hk-%lld-%s", (long long)t->incident, hex);
    buf_init(&c.impact, 16 * 1024);
    buf_init(&c.threats, 16 * 1024);
    buf_init(&c.cms, MESSAGE_BODY_MAX / 2);
    buf_init(&subj, MESSAGE_SUBJECT_MAX + 1);
    buf_init(&body, MESSAGE_BODY_MAX);
    r = compose(&c, &subj, &body, err);
    if (r == 0) {
        const struct store_message_rec m = {
            .incident_id = t->incident,
            .kind = d->kind,
            .party = message_party_name(d->party),
            .contact_id = d->contact,
            .recipient = c.recipient,
            .channel = message_channel_name(d->channel),
            .subject = subj.data ? subj.data : "",
            .body = body.data ? body.data : "",
            .fields = fields,
            .tlp = message_tlp_name(c.top),
            .ref = c.ref,
            .created_us = t->now_us,
            .created_by = t->who,
        };
        if ((r = store_message_add(cf->st, &m, &id)) < 0)
            r = casefile_store_fail(cf, err, r);
    }
    if (r == 0) {
        snprintf(to, sizeof(to), "#%lld draft to %s (%s, %s)", (long long)id,
                 message_party_name(d->party), message_channel_name(d->channel),
                 message_tlp_name(c.top));
        r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "message", NULL, to, err);
    }
    if (r == 0 &&
        buf_printf(&t->details,
                   "{\"incident\":%lld,\"message\":%lld,\"kind\":\"%s\",\"party\":\"%s\","
                   "\"channel\":\"%s\",\"tlp\":\"%s\",\"fields\":\"%s\",\"recipient\":",
                   (long long)t->incident, (long long)id, d->kind, message_party_name(d->party),
                   message_channel_name(d->channel), message_tlp_name(c.top), fields) == 0 &&
        buf_json_str(&t->details, c.recipient, strlen(c.recipient)) == 0 &&
        buf_putc(&t->details, '}') == 0)
        *d->ret_msg = id;
    else if (r == 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    buf_done(&c.impact);
    buf_done(&c.threats);
    buf_done(&c.cms);
    buf_done(&subj);
    buf_done(&body);
    return r;
}

static const struct casefile_field draft_fields[] = {
    {"party", CASEFILE_STR, 32, 1},
    {"contact", CASEFILE_I64, 0, 0},
    {"recipient", CASEFILE_STR, MESSAGE_RECIPIENT_MAX, 0},
    {"channel", CASEFILE_STR, 16, 0},
    {"fields", CASEFILE_STRV, 32, 0},
};

static int draft_run(const struct casefile *cf, int64_t incident, const char *who, struct draft *d,
                     int64_t now_us, struct casefile_err *err)
{
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "message.draft", .incident = incident};

    casefile_object(t.objbuf, sizeof(t.objbuf), incident);
    return casefile_run(cf, &t, draft_act, d, err);
}

int message_case_draft(const struct casefile *cf, int64_t incident, const char *who,
                       const char *body, size_t len, int64_t now_us, int64_t *ret_msg,
                       struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(draft_fields)];
    struct draft d = {.kind = "manual", .ret_msg = ret_msg};
    int r;

    if ((r = casefile_read_body(body, len, draft_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (message_party_from_name(v[0].s, &d.party) < 0)
        r = casefile_fail(err, -EINVAL, -1, "party",
                          "party is one of csirt, isp, carrier, press, partner, shareholder, "
                          "police, regulator, reporter, responsible");
    else if (v[1].have && v[1].i <= 0)
        r = casefile_fail(err, -EINVAL, -1, "contact", "a contact id is a positive number");
    else if (v[3].have && message_channel_from_name(v[3].s, &d.channel) < 0)
        r = casefile_fail(err, -EINVAL, -1, "channel", "channel is one of smtp, webhook, export");
    if (r == 0 && !v[3].have)
        d.channel = message_rule(d.party)->channel;
    if (r == 0 && v[4].have) {
        char *s = v[4].s, *save = NULL;

        for (char *f = strtok_r(s, "\n", &save); f && r == 0; f = strtok_r(NULL, "\n", &save)) {
            enum message_field mf;
            if (message_field_from_name(f, &mf) < 0)
                r = casefile_fail(err, -EINVAL, -1, "fields",
                                  "unknown field '%.32s' (title, summary, type, category, "
                                  "level, phase, method, entities, impact, threats, "
                                  "countermeasures, advice)",
                                  f);
            else
                d.fields |= MESSAGE_FIELD_BIT(mf);
        }
        if (r == 0 && !d.fields)
            r = casefile_fail(err, -EINVAL, -1, "fields", "name at least one field");
    }
    d.contact = v[1].have ? v[1].i : 0;
    d.recipient = v[2].have ? v[2].s : NULL;
    if (r == 0)
        r = draft_run(cf, incident, who, &d, now_us, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

int message_case_draft_auto(const struct casefile *cf, int64_t incident, enum message_party party,
                            int64_t contact_id, const char *recipient, const char *kind,
                            int64_t now_us, int64_t *ret_msg, struct casefile_err *err)
{
    struct draft d = {
        .party = party,
        .contact = contact_id,
        .recipient = recipient,
        .kind = kind,
        .ret_msg = ret_msg,
    };

    if (!message_rule(party))
        return casefile_fail(err, -EINVAL, -1, "party", "no such party");
    d.channel = message_rule(party)->channel;
    return draft_run(cf, incident, AUDIT_ACTOR_SYSTEM, &d, now_us, err);
}

int message_case_draft_box(const struct casefile *cf, int64_t incident, enum message_party party,
                           enum message_channel channel, uint32_t fields, enum message_tlp cap,
                           const char *kind, int64_t now_us, int64_t *ret_msg,
                           uint32_t *ret_withheld, struct casefile_err *err)
{
    struct draft d = {
        .party = party,
        .channel = channel,
        .fields = fields,
        .kind = kind,
        .ret_msg = ret_msg,
        .capped = 1,
        .cap = cap,
        .ret_withheld = ret_withheld,
    };
    const char *key = message_party_name(party);
    int r;

    if (ret_withheld)
        *ret_withheld = 0;
    if (!message_rule(party) || !fields)
        return casefile_fail(err, -EINVAL, -1, "party", "no such party, or no field");
    /* The party's contact (its role or name is the party's name; the
     * responsible person's also "manager"), for mail; without one, or for
     * a webhook (no address from the contacts), an export: the draft is
     * still one click from going out. */
    r = channel == MESSAGE_CHANNEL_SMTP ? store_contact_by_key(cf->st, key, &d.contact) : -ENOENT;
    if (r == -ENOENT && channel == MESSAGE_CHANNEL_SMTP && party == MESSAGE_PARTY_RESPONSIBLE)
        r = store_contact_by_key(cf->st, "manager", &d.contact);
    if (r < 0 && r != -ENOENT)
        return casefile_store_fail(cf, err, r);
    if (r < 0) {
        d.contact = 0;
        d.channel = MESSAGE_CHANNEL_EXPORT;
        d.recipient = key;
    }
    return draft_run(cf, incident, AUDIT_ACTOR_SYSTEM, &d, now_us, err);
}

/* ------------------------------------------------------------------ */
/* State changes                                                       */

struct step {
    int64_t msg;
    const char *from[3]; /* states it may leave; NULL-ended */
    const char *to;
    int check;          /* 1: re-check the disclosure rule first */
    int attempts_delta; /* + to attempts */
    int64_t next_us;
    const char *reason;            /* error column and audit */
    struct store_message_row *ret; /* filled when not NULL */
    const char *was;               /* the state it left */
};

static int step_check(const struct casefile *cf, const struct store_message_row *m,
                      struct casefile_err *err)
{
    enum message_party p;
    enum message_tlp marks[MESSAGE_FIELD_COUNT];
    uint32_t fields = 0;
    char why[300], *save = NULL, list[256];
    int r;

    if (message_party_from_name(m->party, &p) < 0)
        return casefile_fail(err, -EDOM, -1, NULL, "the message names no known party");
    snprintf(list, sizeof(list), "%s", m->fields);
    for (char *f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        enum message_field mf;
        if (message_field_from_name(f, &mf) == 0)
            fields |= MESSAGE_FIELD_BIT(mf);
    }
    if ((r = marks_load(cf, m->incident_id, marks, NULL, err)) < 0)
        return r;
    if (message_check(message_rule(p), fields, marks, why, sizeof(why)) < 0)
        return casefile_fail(err, -EDOM, -1, NULL, "%s", why);
    return 0;
}

static int step_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    struct step *s = ctx;
    struct store_message_row m;
    struct store_message_move mv;
    char to[200];
    int r, i;

    if ((r = store_message_get(cf->st, s->msg, &m)) < 0)
        return r == -ENOENT ? casefile_fail(err, -ENOENT, -1, NULL, "no such message")
                            : casefile_store_fail(cf, err, r);
    if (t->incident && m.incident_id != t->incident) {
        store_message_row_done(&m);
        return casefile_fail(err, -ENOENT, -1, NULL, "no such message on this incident");
    }
    for (i = 0; s->from[i]; i++)
        if (strcmp(m.state, s->from[i]) == 0)
            break;
    if (!s->from[i]) {
        r = casefile_fail(err, -ESTALE, -1, NULL, "message %lld is %s, not %s", (long long)s->msg,
                          m.state, s->from[0]);
        goto out;
    }
    s->was = s->from[i];
    if (s->check && (r = step_check(cf, &m, err)) < 0)
        goto out;
    mv = (struct store_message_move){
        .from = s->from[i],
        .to = s->to,
        .attempts = m.attempts + s->attempts_delta,
        .next_us = s->next_us,
        .error = s->reason,
        .who = t->who,
        .now_us = t->now_us,
    };
    if ((r = store_message_move(cf->st, s->msg, &mv)) < 0) {
        r = casefile_store_fail(cf, err, r);
        goto out;
    }
    m.attempts = mv.attempts;
    snprintf(to, sizeof(to), "#%lld %s to %s (%s)%s%.100s", (long long)s->msg, s->to, m.party,
             m.channel, s->reason ? ": " : "", s->reason ? s->reason : "");
    if ((r = casefile_event(cf, m.incident_id, &t->inc, t->now_us, t->who, "message", s->was, to,
                            err)) < 0)
        goto out;
    if (buf_printf(&t->details,
                   "{\"incident\":%lld,\"message\":%lld,\"from\":\"%s\",\"to\":\"%s\","
                   "\"party\":\"%s\",\"channel\":\"%s\",\"attempts\":%d,\"reason\":",
                   (long long)m.incident_id, (long long)s->msg, s->was, s->to, m.party, m.channel,
                   m.attempts) < 0 ||
        (s->reason ? buf_json_str(&t->details, s->reason, strlen(s->reason))
                   : buf_puts(&t->details, "null")) < 0 ||
        buf_putc(&t->details, '}') < 0) {
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
        goto out;
    }
    if (s->ret) {
        *s->ret = m;
        return 0;
    }
out:
    store_message_row_done(&m);
    return r;
}

static int step_run(const struct casefile *cf, int64_t incident, const char *who,
                    const char *action, struct step *s, int64_t now_us, struct casefile_err *err)
{
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = action, .incident = incident};
    int r;

    snprintf(t.objbuf, sizeof(t.objbuf), "message/%lld", (long long)s->msg);
    r = casefile_run(cf, &t, step_act, s, err);
    if (r < 0 && s->ret)
        store_message_row_done(s->ret);
    return r;
}

int message_case_approve(const struct casefile *cf, int64_t incident, int64_t msg, const char *who,
                         int send, int64_t now_us, struct casefile_err *err)
{
    struct step s = {
        .msg = msg, .from = {"draft"}, .to = "approved", .check = 1, .next_us = INT64_MAX};
    int r = step_run(cf, incident, who, "message.approve", &s, now_us, err);

    if (r == 0 && send)
        r = message_case_send(cf, incident, msg, who, now_us, err);
    return r;
}

int message_case_send(const struct casefile *cf, int64_t incident, int64_t msg, const char *who,
                      int64_t now_us, struct casefile_err *err)
{
    struct step s = {
        .msg = msg, .from = {"approved"}, .to = "queued", .check = 1, .next_us = now_us};
    struct store_message_row m;

    /* The one click: a draft is approved and queued by the same person. */
    if (store_message_get(cf->st, msg, &m) == 0) {
        int draft = strcmp(m.state, "draft") == 0;
        store_message_row_done(&m);
        if (draft)
            return message_case_approve(cf, incident, msg, who, 1, now_us, err);
    }
    return step_run(cf, incident, who, "message.queue", &s, now_us, err);
}

int message_case_cancel(const struct casefile *cf, int64_t incident, int64_t msg, const char *who,
                        int64_t now_us, struct casefile_err *err)
{
    struct step s = {.msg = msg, .from = {"draft", "approved"}, .to = "cancelled"};

    return step_run(cf, incident, who, "message.cancel", &s, now_us, err);
}

int message_case_attempt_begin(const struct casefile *cf, int64_t msg, int64_t now_us,
                               struct store_message_row *ret, struct casefile_err *err)
{
    struct step s = {.msg = msg,
                     .from = {"queued", "retry"},
                     .to = "sent",
                     .check = 1,
                     .attempts_delta = 1,
                     .ret = ret};
    struct store_message_row m;
    int r;

    memset(ret, 0, sizeof(*ret));
    if ((r = store_message_get(cf->st, msg, &m)) < 0)
        return casefile_store_fail(cf, err, r);
    r = step_run(cf, m.incident_id, AUDIT_ACTOR_SYSTEM, "message.send", &s, now_us, err);
    if (r == -EDOM) {
        /* The markings changed since approval: it must not go, ever. */
        struct casefile_err e2 = {.off = -1};
        struct step f = {.msg = msg, .from = {m.state}, .to = "failed", .reason = err->msg};
        (void)step_run(cf, m.incident_id, AUDIT_ACTOR_SYSTEM, "message.failed", &f, now_us, &e2);
    }
    store_message_row_done(&m);
    return r;
}

int message_case_attempt_end(const struct casefile *cf, int64_t msg, int ok, const char *reason,
                             int64_t retry_us, int64_t now_us, struct casefile_err *err)
{
    struct step s = {.msg = msg, .from = {"sent"}, .reason = reason};
    const char *action;
    struct store_message_row m;
    int r;

    if ((r = store_message_get(cf->st, msg, &m)) < 0)
        return casefile_store_fail(cf, err, r);
    if (ok) {
        s.to = "delivered";
        s.reason = NULL;
        action = "message.delivered";
    } else if (retry_us > 0) {
        s.to = "retry";
        s.next_us = retry_us;
        action = "message.retry";
    } else {
        s.to = "failed";
        action = "message.failed";
    }
    r = step_run(cf, m.incident_id, AUDIT_ACTOR_SYSTEM, action, &s, now_us, err);
    store_message_row_done(&m);
    return r;
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */

static const struct casefile_field reply_fields[] = {
    {"ref", CASEFILE_STR, MESSAGE_REF_MAX, 1},
    {"from", CASEFILE_STR, MESSAGE_RECIPIENT_MAX, 1},
    {"subject", CASEFILE_STR, MESSAGE_SUBJECT_MAX * 2, 0},
    {"body", CASEFILE_STR, MESSAGE_BODY_MAX, 1},
};

struct reply {
    int64_t msg, *ret_reply;
};

static int reply_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                     struct casefile_err *err)
{
    struct reply *rp = ctx;
    const struct casefile_val *v = t->v;
    const struct store_reply_rec rec = {
        .message_id = rp->msg,
        .incident_id = t->incident,
        .sender = v[1].s,
        .subject = v[2].have ? v[2].s : "",
        .body = v[3].s,
        .received_us = t->now_us,
        .received_by = t->who,
    };
    char to[200];
    int r;

    if ((r = store_reply_add(cf->st, &rec, rp->ret_reply)) < 0)
        return casefile_store_fail(cf, err, r);
    snprintf(to, sizeof(to), "#%lld reply from %.120s", (long long)rp->msg, v[1].s);
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "message", NULL, to,
                            err)) < 0)
        return r;
    if (buf_printf(&t->details, "{\"incident\":%lld,\"message\":%lld,\"reply\":%lld,\"from\":",
                   (long long)t->incident, (long long)rp->msg, (long long)*rp->ret_reply) < 0 ||
        buf_json_str(&t->details, v[1].s, strlen(v[1].s)) < 0 || buf_putc(&t->details, '}') < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int message_case_reply(const struct casefile *cf, const char *who, const char *body, size_t len,
                       int64_t now_us, int64_t *ret_reply, int64_t *ret_msg,
                       struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(reply_fields)];
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "message.reply", .v = v};
    struct reply rp = {.ret_reply = ret_reply};
    int64_t incident = 0;
    int r;

    if ((r = casefile_read_body(body, len, reply_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    r = store_message_by_ref(cf->st, v[0].s, &rp.msg, &incident);
    if (r == -ENOENT)
        r = casefile_fail(err, -ENOENT, -1, "ref", "no message has this reference");
    else if (r < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0) {
        t.incident = incident;
        snprintf(t.objbuf, sizeof(t.objbuf), "message/%lld", (long long)rp.msg);
        r = casefile_run(cf, &t, reply_act, &rp, err);
        *ret_msg = rp.msg;
    }
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

/* ------------------------------------------------------------------ */
/* Markings                                                            */

static int mark_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    const struct casefile_val *v = t->v;
    const enum message_tlp *tlp = ctx;
    int r, first = 1;

    if (buf_printf(&t->details, "{\"incident\":%lld,\"markings\":{", (long long)t->incident) < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    for (int f = 0; f < MESSAGE_FIELD_COUNT; f++) {
        const char *fn = message_field_name((enum message_field)f);
        char to[64];

        if (!v[f].have)
            continue;
        if ((r = store_marking_set(cf->st, t->incident, fn, message_tlp_name(tlp[f]))) < 0)
            return casefile_store_fail(cf, err, r);
        snprintf(to, sizeof(to), "%s %s", fn, message_tlp_name(tlp[f]));
        if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "marking", NULL, to,
                                err)) < 0)
            return r;
        if (buf_printf(&t->details, "%s\"%s\":\"%s\"", first ? "" : ",", fn,
                       message_tlp_name(tlp[f])) < 0)
            return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
        first = 0;
    }
    if (buf_puts(&t->details, "}}") < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int message_case_mark(const struct casefile *cf, int64_t incident, const char *who,
                      const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    struct casefile_field spec[MESSAGE_FIELD_COUNT];
    struct casefile_val v[MESSAGE_FIELD_COUNT];
    enum message_tlp tlp[MESSAGE_FIELD_COUNT] = {0};
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "incident.mark", .incident = incident, .v = v};
    int r, any = 0;

    for (int f = 0; f < MESSAGE_FIELD_COUNT; f++)
        spec[f] =
            (struct casefile_field){message_field_name((enum message_field)f), CASEFILE_STR, 24, 0};
    if ((r = casefile_read_body(body, len, spec, MESSAGE_FIELD_COUNT, v, err)) < 0)
        return r;
    for (int f = 0; f < MESSAGE_FIELD_COUNT && r == 0; f++) {
        if (!v[f].have)
            continue;
        any = 1;
        if (message_tlp_from_name(v[f].s, &tlp[f]) < 0)
            r = casefile_fail(err, -EINVAL, -1, spec[f].name,
                              "a marking is one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, "
                              "TLP:AMBER+STRICT, TLP:RED");
    }
    if (r == 0 && !any)
        r = casefile_fail(err, -EINVAL, -1, NULL, "mark at least one field");
    casefile_object(t.objbuf, sizeof(t.objbuf), incident);
    if (r == 0)
        r = casefile_run(cf, &t, mark_act, tlp, err);
    casefile_vals_free(v, MESSAGE_FIELD_COUNT);
    return r;
}

int message_case_markings_json(const struct casefile *cf, int64_t incident, struct buf *out,
                               struct casefile_err *err)
{
    enum message_tlp marks[MESSAGE_FIELD_COUNT] = {0};
    uint32_t set = 0;
    int r;

    if ((r = marks_load(cf, incident, marks, &set, err)) < 0)
        return r;
    r = buf_putc(out, '{');
    for (int f = 0; r == 0 && f < MESSAGE_FIELD_COUNT; f++)
        r = buf_printf(out, "%s\"%s\":{\"tlp\":\"%s\",\"set\":%s}", f ? "," : "",
                       message_field_name((enum message_field)f), message_tlp_name(marks[f]),
                       set & MESSAGE_FIELD_BIT(f) ? "true" : "false");
    if (r == 0)
        r = buf_putc(out, '}');
    return r < 0 ? casefile_fail(err, r, -1, NULL, "out of memory") : 0;
}
