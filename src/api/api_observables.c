/*
 * api_observables.c - an incident's observables over the API (issue 20,
 * docs/api.md "Observables"): the list with the incidents each one links
 * to, an analyst's additions and removals, and promotion to an indicator
 * of the local feed, after which the pipeline's matcher is reloaded so the
 * indicator matches at once.
 */
#include <errno.h>
#include <stdio.h>

#include "api/api_handlers.h"
#include "api/api_util.h"
#include "incident/casefile_observable.h"
#include "pipeline/pipeline.h"
#include "store/store_observable.h"
#include "util/log.h"

void api_observables_list(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    int r;

    if (api_util_need_incident(c) < 0)
        return;
    r = buf_puts(b, "{\"observables\":[");
    if (r == 0 && (r = store_observables_json(c->ctx->cf.st, c->p[0], b, NULL)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "],\"linked_incidents\":[");
    if (r == 0 && (r = store_observable_links_json(c->ctx->cf.st, c->p[0], b, NULL)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    api_util_answer_json(c, 200, r);
}

/* Answers with observable `obs` of incident c->p[0]. */
static void show(struct api_call *c, unsigned status, int64_t obs)
{
    int r;

    buf_reset(&c->resp->body);
    if ((r = store_observable_json(c->ctx->cf.st, c->p[0], obs, &c->resp->body)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, status, 0);
}

void api_observables_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t obs = 0;
    int added = 0;
    int r = casefile_observable_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                    c->rq->now_us, &obs, &added, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    show(c, added ? 201 : 200, obs);
}

void api_observables_delete(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_observable_delete(&c->ctx->cf, c->p[0], c->p[1], c->user, c->rq->now_us, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    api_util_answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
}

void api_observables_promote(struct api_call *c)
{
    const struct api_sources *src = c->ctx->src;
    struct casefile_err e = {0};
    int64_t ind = 0;
    int reloaded = 0;
    int r = casefile_observable_promote(&c->ctx->cf, c->p[0], c->p[1], c->user, c->rq->body,
                                        c->rq->body_len, c->rq->now_us, &ind, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    /* The matcher is reloaded as after a feed's import: the indicator
     * matches from the next record on. */
    if (src && src->pipeline && src->cfg) {
        if (pipeline_reload_intel(src->pipeline, src->cfg) < 0)
            log_warnx("intel: out of memory reloading the indicators after a promotion; "
                      "keeping the loaded ones");
        else
            reloaded = 1;
    }
    buf_reset(&c->resp->body);
    r = buf_printf(&c->resp->body,
                   "{\"indicator\":%lld,\"feed\":\"" CASEFILE_OBS_FEED
                   "\",\"reloaded\":%s,\"observable\":",
                   (long long)ind, reloaded ? "true" : "false");
    if (r == 0 &&
        (r = store_observable_json(c->ctx->cf.st, c->p[0], c->p[1], &c->resp->body)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_putc(&c->resp->body, '}');
    api_util_answer_json(c, 200, r);
}
