/*
 * api_taxii.c - a read-only TAXII 2.1 server (docs/intel.md, "TAXII"):
 * discovery, one API root, one collection of indicators, and its objects
 * paged by date added, so that another CSIRT's MISP or OpenCTI can poll us.
 *
 * A peer presents an API token of its own user (the API's token auth, at
 * least viewer); intel.peers names that user and the most restricted TLP it
 * may read.  The collection is filtered per peer by intel_export_collect:
 * TLP:RED is never served, AMBER only to a peer allowed it.  A user that is
 * not a peer is refused (403) everything but discovery and the API root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_util.h"
#include "conf/config.h"
#include "event/time.h"
#include "intel/intel_export.h"

#define TAXII_TYPE "application/taxii+json;version=2.1"
/* The one collection's fixed id (a UUID: TAXII's collection ids are). */
#define TAXII_COLLECTION "365fed99-08fa-4dcd-a1b3-fb247eb41d01"
/* Objects per page: the default and the most a client may ask for. */
#define TAXII_PAGE_DEFAULT 100
#define TAXII_PAGE_MAX 1000

/* TAXII 2.1 (section 1.6.8): a client that accepts neither TAXII's media
 * type nor anything (no Accept, * / *, application/ *) is answered 406. */
static int taxii_accepts(const char *accept)
{
    if (!accept || !*accept)
        return 1;
    return strstr(accept, "application/taxii+json") || strstr(accept, "*/*") ||
           strstr(accept, "application/*");
}

static void taxii_answer(struct api_call *c, int r)
{
    if (!taxii_accepts(c->rq->accept)) {
        api_util_answer_error(c, 406, "this server answers application/taxii+json;version=2.1",
                              -1, NULL);
        return;
    }
    api_util_answer_json(c, 200, r);
    if (c->resp->status == 200)
        c->resp->type = TAXII_TYPE;
}

/* The peer the request's user is, or NULL (the 403 answer written). */
static const struct config_intel_peer *taxii_peer(struct api_call *c)
{
    const struct config *cfg = c->ctx->src ? c->ctx->src->cfg : NULL;

    if (!cfg) {
        api_util_answer_error(c, 503, "no configuration", -1, NULL);
        return NULL;
    }
    for (size_t i = 0; i < cfg->nintel_peers; i++)
        if (strcmp(cfg->intel_peers[i].user, c->user) == 0)
            return &cfg->intel_peers[i];
    api_util_audit_denied(c, c->user, "taxii.denied", 403, "not an intel.peers user");
    api_util_answer_error(c, 403, "this user is not a TAXII peer (intel.peers)", -1, NULL);
    return NULL;
}

static const char *taxii_identity(struct api_call *c)
{
    const struct config *cfg = c->ctx->src ? c->ctx->src->cfg : NULL;

    return cfg && cfg->intel_identity ? cfg->intel_identity : "hikeshi";
}

void api_taxii_discovery(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    const char *name = taxii_identity(c);
    int r = buf_puts(b, "{\"title\":");

    if (r == 0)
        r = buf_json_str(b, name, strlen(name));
    if (r == 0)
        r = buf_puts(b, ",\"description\":\"Indicators of compromise shared by this CSIRT "
                        "(read-only)\",\"default\":\"/taxii2/hikeshi/\","
                        "\"api_roots\":[\"/taxii2/hikeshi/\"]}");
    taxii_answer(c, r);
}

void api_taxii_root(struct api_call *c)
{
    int r = buf_printf(&c->resp->body,
                       "{\"title\":\"hikeshi\",\"description\":\"Indicators (TLP-filtered per "
                       "peer)\",\"versions\":[\"%s\"],\"max_content_length\":0}",
                       TAXII_TYPE);

    taxii_answer(c, r);
}

static int collection_json(struct buf *b)
{
    return buf_puts(b, "{\"id\":\"" TAXII_COLLECTION "\",\"title\":\"Indicators\","
                       "\"description\":\"The indicators this peer may read: never TLP:RED, "
                       "AMBER only to peers allowed it\",\"can_read\":true,\"can_write\":false,"
                       "\"media_types\":[\"application/stix+json;version=2.1\"]}");
}

void api_taxii_collections(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    int r;

    if (!taxii_peer(c))
        return;
    r = buf_puts(b, "{\"collections\":[");
    if (r == 0)
        r = collection_json(b);
    if (r == 0)
        r = buf_puts(b, "]}");
    taxii_answer(c, r);
}

void api_taxii_collection(struct api_call *c)
{
    if (!taxii_peer(c))
        return;
    taxii_answer(c, collection_json(&c->resp->body));
}

/* added_after as µs; 0 when absent, -1 (400 written) when not a timestamp. */
static int64_t added_after(struct api_call *c)
{
    const char *v = api_util_query_str(c, "added_after");
    int64_t us = 0;
    size_t used = 0;

    if (!v)
        return 0;
    if (time_parse_iso8601(v, strlen(v), NULL, &us, &used) < 0 || used != strlen(v) || us < 0) {
        api_util_answer_error(c, 400, "added_after: not an RFC 3339 timestamp", -1, "added_after");
        return -1;
    }
    return us;
}

/*
 * The objects of the collection added after `added_after`, oldest first,
 * `limit` a page.  `next` is the position in that order of the first
 * object not yet served: stable while no indicator is deleted between two
 * pages (a client may as well ask again with added_after set to the
 * X-TAXII-Date-Added-Last of the page it got).
 */
void api_taxii_objects(struct api_call *c)
{
    const struct config_intel_peer *peer = taxii_peer(c);
    struct intel_export_set *set = NULL;
    struct buf *b = &c->resp->body;
    int64_t after, limit, next;
    size_t from = 0, n, to;
    int r;

    if (!peer)
        return;
    if ((after = added_after(c)) < 0)
        return;
    if (api_util_query_int(c, "limit", 1, TAXII_PAGE_MAX, TAXII_PAGE_DEFAULT, &limit) < 0 ||
        api_util_query_int(c, "next", 0, INT64_C(1000000000), 0, &next) < 0) {
        api_util_answer_error(c, 400, "limit must be 1 to 1000 and next a value from a page", -1,
                              NULL);
        return;
    }
    if ((r = intel_export_collect(c->ctx->cf.st, peer->tlp_max, &set)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    n = intel_export_count(set);
    while (from < n && intel_export_added_us(set, from) <= after)
        from++;
    if (next > 0)
        from = (size_t)next < n ? (size_t)next : n;
    to = n - from > (size_t)limit ? from + (size_t)limit : n;
    struct intel_export_opts o = {
        .format = INTEL_EXPORT_STIX,
        .identity = taxii_identity(c),
        .now_us = c->rq->now_us,
    };
    r = buf_printf(b, "{\"more\":%s", to < n ? "true" : "false");
    if (r == 0 && to < n)
        r = buf_printf(b, ",\"next\":\"%zu\"", to);
    if (r == 0)
        r = buf_puts(b, ",\"objects\":[");
    if (r == 0)
        r = intel_export_stix_objects(set, from, to, &o, b);
    if (r == 0)
        r = buf_puts(b, "]}");
    if (r == 0 && to > from) {
        time_format_iso(intel_export_added_us(set, from), c->resp->hdr_value[0],
                        sizeof(c->resp->hdr_value[0]));
        time_format_iso(intel_export_added_us(set, to - 1), c->resp->hdr_value[1],
                        sizeof(c->resp->hdr_value[1]));
        c->resp->hdr_name[0] = "X-TAXII-Date-Added-First";
        c->resp->hdr_name[1] = "X-TAXII-Date-Added-Last";
    }
    intel_export_set_free(set);
    taxii_answer(c, r);
}
