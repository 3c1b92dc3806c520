/*
 * api_routes.h - the route table of the HTTP API (docs/api.md) and its
 * dispatcher, apart from libmicrohttpd so that tests and the fuzzer can
 * drive it with a request in memory.
 *
 * Every row of api_routes[] in api_routes.c is one (method, path template,
 * least role) documented in src/api/openapi.json; tests/openapi_routes.py
 * checks the two against each other.
 */
#ifndef HIKESHI_API_API_ROUTES_H
#define HIKESHI_API_API_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "incident/casefile.h"
#include "util/buf.h"

struct api_sources;
struct auth_ratelimit;

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

/* The endpoint's own routes, written by api_http.c. */
int api_http_metrics(const struct api_sources *src, struct buf *out);
int api_http_health(const struct api_sources *src, struct buf *out);

#endif
