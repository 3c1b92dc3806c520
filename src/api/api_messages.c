/*
 * api_messages.c - the routes of communications that are sent and of the
 * impact analysis (issue 25, docs/api.md "Messages", "Impact"): an
 * incident's messages, their approval and sending, replies coming back,
 * the TLP markings of its fields, its impact and threat analysis and its
 * countermeasures.  The logic is message_case.c's and impact_case.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_util.h"
#include "incident/impact_case.h"
#include "incident/message.h"
#include "incident/message_case.h"
#include "store/store_message.h"

static void show_message(struct api_call *c, unsigned status, int64_t id)
{
    struct buf *b = &c->resp->body;
    int r;

    buf_reset(b);
    r = buf_puts(b, "{\"message\":");
    if (r == 0 && (r = store_message_json(c->ctx->cf.st, id, b)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, ",\"replies\":[");
    if (r == 0 && (r = store_replies_json(c->ctx->cf.st, id, b, NULL)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    api_util_answer_json(c, status, r);
}

void api_messages_list(struct api_call *c)
{
    if (api_util_need_incident(c) == 0)
        API_UTIL_LIST_OBJECT(c, "messages",
                             store_messages_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

void api_messages_draft(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = message_case_draft(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                               c->rq->now_us, &id, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_message(c, 201, id);
}

/* 404 unless message c->p[1] belongs to incident c->p[0]. */
static int need_message(struct api_call *c)
{
    struct store_message_row m;
    int r = store_message_get(c->ctx->cf.st, c->p[1], &m);

    if (r == 0 && m.incident_id != c->p[0])
        r = -ENOENT;
    if (r == -ENOENT)
        api_util_answer_error(c, 404, "no such message on this incident", -1, NULL);
    else if (r < 0)
        api_util_answer_store(c, r);
    store_message_row_done(&m);
    return r < 0 ? -1 : 0;
}

void api_messages_message(struct api_call *c)
{
    if (need_message(c) == 0)
        show_message(c, 200, c->p[1]);
}

static void answer_step(struct api_call *c, int r, const struct casefile_err *e)
{
    if (r < 0)
        api_util_answer_cf(c, r, e);
    else
        show_message(c, 200, c->p[1]);
}

void api_messages_approve(struct api_call *c)
{
    struct casefile_err e = {0};

    answer_step(
        c, message_case_approve(&c->ctx->cf, c->p[0], c->p[1], c->user, 0, c->rq->now_us, &e), &e);
}

void api_messages_send(struct api_call *c)
{
    struct casefile_err e = {0};

    answer_step(c, message_case_send(&c->ctx->cf, c->p[0], c->p[1], c->user, c->rq->now_us, &e),
                &e);
}

void api_messages_cancel(struct api_call *c)
{
    struct casefile_err e = {0};

    answer_step(c, message_case_cancel(&c->ctx->cf, c->p[0], c->p[1], c->user, c->rq->now_us, &e),
                &e);
}

void api_messages_reply(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t reply = 0, msg = 0;
    int r = message_case_reply(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us,
                               &reply, &msg, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_message(c, 201, msg);
}

void api_messages_markings(struct api_call *c)
{
    struct casefile_err e = {0};
    struct buf *b = &c->resp->body;
    int r;

    if (api_util_need_incident(c) < 0)
        return;
    r = buf_puts(b, "{\"markings\":");
    if (r == 0 && (r = message_case_markings_json(&c->ctx->cf, c->p[0], b, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_putc(b, '}');
    api_util_answer_json(c, 200, r);
}

void api_messages_mark(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = message_case_mark(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                              c->rq->now_us, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        api_messages_markings(c);
}

void api_messages_rules(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    int r = buf_puts(b, "{\"parties\":[");

    for (int p = 0; r == 0 && p < MESSAGE_PARTY_COUNT; p++) {
        const struct message_rule *rule = message_rule((enum message_party)p);
        int first = 1;

        r = buf_printf(b, "%s{\"party\":\"%s\",\"max_tlp\":\"%s\",\"channel\":\"%s\",\"allowed\":[",
                       p ? "," : "", rule->name, message_tlp_name(rule->max_tlp),
                       message_channel_name(rule->channel));
        for (int f = 0; r == 0 && f < MESSAGE_FIELD_COUNT; f++)
            if (rule->allowed & MESSAGE_FIELD_BIT(f)) {
                r = buf_printf(b, "%s\"%s\"", first ? "" : ",",
                               message_field_name((enum message_field)f));
                first = 0;
            }
        if (r == 0)
            r = buf_puts(b, "],\"defaults\":[");
        first = 1;
        for (int f = 0; r == 0 && f < MESSAGE_FIELD_COUNT; f++)
            if (rule->defaults & MESSAGE_FIELD_BIT(f)) {
                r = buf_printf(b, "%s\"%s\"", first ? "" : ",",
                               message_field_name((enum message_field)f));
                first = 0;
            }
        if (r == 0)
            r = buf_puts(b, "]}");
    }
    if (r == 0)
        r = buf_puts(b, "],\"field_defaults\":{");
    for (int f = 0; r == 0 && f < MESSAGE_FIELD_COUNT; f++)
        r = buf_printf(b, "%s\"%s\":\"%s\"", f ? "," : "",
                       message_field_name((enum message_field)f),
                       message_tlp_name(message_field_default_tlp((enum message_field)f)));
    if (r == 0)
        r = buf_puts(b, "}}");
    api_util_answer_json(c, 200, r);
}

void api_messages_impact(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    int r;

    if (api_util_need_incident(c) < 0)
        return;
    r = buf_puts(b, "{\"impact\":");
    if (r == 0 && (r = store_impact_json(c->ctx->cf.st, c->p[0], b)) == -ENOENT) {
        buf_reset(b);
        r = buf_puts(b, "{\"impact\":null");
    } else if (r < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_putc(b, '}');
    api_util_answer_json(c, 200, r);
}

void api_messages_impact_put(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = impact_case_put(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                            c->rq->now_us, NULL, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        api_messages_impact(c);
}

void api_messages_cms(struct api_call *c)
{
    if (api_util_need_incident(c) == 0)
        API_UTIL_LIST_OBJECT(c, "countermeasures",
                             store_cms_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

static void show_cm(struct api_call *c, unsigned status, int64_t id)
{
    int r;

    buf_reset(&c->resp->body);
    if ((r = store_cm_json(c->ctx->cf.st, id, &c->resp->body)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, status, 0);
}

void api_messages_cm_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = impact_case_cm_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                               c->rq->now_us, &id, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_cm(c, 201, id);
}

void api_messages_cm_patch(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = impact_case_cm_update(&c->ctx->cf, c->p[0], c->p[1], c->user, c->rq->body,
                                  c->rq->body_len, c->rq->now_us, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_cm(c, 200, c->p[1]);
}
