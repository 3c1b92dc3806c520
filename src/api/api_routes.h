/*
 * api_routes.h - the route table of the HTTP API (docs/api.md) and its
 * dispatcher, apart from libmicrohttpd so that tests and the fuzzer can
 * drive it with a request in memory.
 *
 * Every row of api_routes[] in api_routes.c is one (method, path template,
 * least role, handler) documented in src/api/openapi.json;
 * tests/openapi_routes.py checks the two against each other.  The
 * handlers live one file per resource (api_handlers.h); the transport
 * (api_http.c) fills struct api_ctx and calls api_dispatch, and nothing
 * here calls the transport back.
 */
#ifndef HIKESHI_API_API_ROUTES_H
#define HIKESHI_API_API_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "incident/casefile.h"
#include "util/buf.h"

struct audit;
struct auth_ratelimit;
struct cluster_pub_stats;
struct cluster_sub_stats;
struct config;
struct config_http;
struct config_target;
struct input_stats;
struct pipeline;
struct queue;
struct respond;

/* What the endpoint reports on; everything outlives the server. */
struct api_sources {
    struct pipeline *pipeline;
    struct queue *queue;
    struct input_stats *const *input_stats; /* per pipeline input id; entries may be NULL */
    const char *const *input_types;         /* per input id: "syslog-udp", ... */
    uint32_t ninputs;
    int64_t started_us;
    const char *data_dir; /* the store the API reads (incidents); NULL: none */
    struct audit *audit; /* where changes are recorded; NULL with a data_dir:
                          * the endpoint opens DATA_DIR/audit.log itself */
    const char *playbooks_dir; /* incident playbooks; NULL: none */
    const struct config_target *targets; /* phase time targets over the defaults */
    size_t ntargets;
    struct respond *respond; /* the response engine, for /metrics; NULL: off */
    int64_t token_ttl_s;     /* http.token_ttl: lifetime of tokens from login */
    const struct config_http *http; /* the edge: hosts, TLS, caps; NULL: defaults */
    /* role: analyser: the stream consumer's counters for /metrics; role:
     * collector: the publisher's (then pipeline is NULL and /metrics holds
     * only these).  Not owned; NULL: not that role (docs/scale.md). */
    const struct cluster_sub_stats *nats_sub;
    const struct cluster_pub_stats *nats_pub;
    const struct config *cfg; /* the daemon's configuration as started (the
                                 inputs' decoders, for GET /api/v1/events);
                                 NULL: that route answers 503 */
};

/* The OpenAPI document, compiled in by tools/embed.py. */
extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

/* One request, as the transport hands it over; all borrowed. */
struct api_req {
    const char *method; /* "GET", ...; HEAD is served as GET */
    const char *path;   /* without the query string */
    const char *authorization; /* the header's value, or NULL */
    const char *session;       /* the session cookie's value, or NULL */
    const char *csrf;          /* the X-CSRF-Token header's value, or NULL */
    const char *content_type;  /* or NULL */
    const char *accept;        /* the Accept header's value (TAXII), or NULL */
    const char *client;        /* the client's address, for limits; or NULL */
    const char *body;
    size_t body_len;
    /* Query parameter `key`, or NULL. */
    const char *(*query)(void *ctx, const char *key);
    void *query_ctx;
    int64_t now_us;
};

/* The answer; `body` initialised by the caller (buf_init) and filled here. */
struct api_resp {
    unsigned status;
    const char *type; /* static */
    struct buf body;
    char set_cookie[160]; /* a Set-Cookie header's value; "": none */
    /* Up to two more headers (TAXII's X-TAXII-Date-Added-First/Last):
     * a static name, NULL for none, and its value. */
    const char *hdr_name[2];
    char hdr_value[2][48];
};

/* What the routes work on; borrowed. */
struct api_ctx {
    const struct api_sources *src; /* health and metrics; NULL: 503 for those */
    struct casefile cf;            /* cf.st NULL: 503 for the API routes */
    struct auth_ratelimit *login_rl; /* password attempts per client; NULL: none */
    int64_t token_ttl_s; /* lifetime of the API tokens made here; 0: LIMIT_TOKEN_TTL_DEFAULT */
    int metrics_open;    /* 1: /metrics without a token (the listener is on loopback) */
};

/* Answers `rq` into `resp` (status, type, body).  Never fails: an
 * internal error is a 500 answer. */
void api_dispatch(struct api_ctx *ctx, const struct api_req *rq, struct api_resp *resp);

#endif
