/*
 * api_assets.c - what the API knows of the estate: the entities triage has
 * seen and the asset inventory the pipeline loaded.
 */
#include "api/api_handlers.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "api/api_util.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
#include "triage/asset.h"

/* ------------------------------------------------------------------ */
/* Entities and assets                                                 */

void api_assets_entities(struct api_call *c)
{
    int64_t limit, offset;
    size_t n = 0;
    int r;

    if (api_util_page(c, &limit, &offset) < 0)
        return;
    r = buf_puts(&c->resp->body, "{\"entities\":[");
    if (r == 0 && (r = store_entities_json(c->ctx->cf.st, limit, offset, &c->resp->body, &n)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)limit, (long long)offset);
    api_util_answer_json(c, 200, r);
}

/* One asset as JSON. */
static int asset_json(struct buf *b, const struct asset *a)
{
    char net[INET6_ADDRSTRLEN + 8] = "";
    int r;

    if (a->has_net && inet_ntop(a->net.family, a->net.addr, net, sizeof(net)))
        snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%u", a->net.prefix);
    r = buf_puts(b, "{\"name\":");
    if (r == 0)
        r = a->name ? buf_json_str(b, a->name, strlen(a->name)) : buf_puts(b, "null");
    if (r == 0)
        r = buf_puts(b, ",\"owner\":");
    if (r == 0)
        r = a->owner ? buf_json_str(b, a->owner, strlen(a->owner)) : buf_puts(b, "null");
    if (r == 0)
        r = net[0] ? buf_printf(b, ",\"network\":\"%s\"", net) : buf_puts(b, ",\"network\":null");
    if (r == 0)
        r = buf_printf(b, ",\"criticality\":\"%s\",\"category\":\"%s\",\"tags\":[",
                       asset_crit_name(a->crit), asset_category_name(a->cat));
    for (size_t i = 0; r == 0 && i < a->ntags; i++) {
        if (i)
            r = buf_putc(b, ',');
        if (r == 0)
            r = buf_json_str(b, a->tags[i], strlen(a->tags[i]));
    }
    return r < 0 ? r : buf_puts(b, "]}");
}

void api_assets_list(struct api_call *c)
{
    const struct asset_inv *inv =
        c->ctx->src && c->ctx->src->pipeline ? pipeline_assets(c->ctx->src->pipeline) : NULL;
    int64_t limit, offset;
    size_t n = 0;
    int r;

    if (api_util_page(c, &limit, &offset) < 0)
        return;
    r = buf_puts(&c->resp->body, "{\"assets\":[");
    for (size_t i = (size_t)offset; r == 0 && inv && i < inv->n && (int64_t)n < limit; i++) {
        if (n && (r = buf_putc(&c->resp->body, ',')) < 0)
            break;
        r = asset_json(&c->resp->body, &inv->v[i]);
        n++;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body,
                       "],\"count\":%zu,\"total\":%zu,\"limit\":%lld,"
                       "\"offset\":%lld}",
                       n, inv ? inv->n : 0, (long long)limit, (long long)offset);
    api_util_answer_json(c, 200, r);
}
