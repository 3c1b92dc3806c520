/*
 * api_util.h - what the API's handlers share (api_util.c): the call they
 * are handed, answers, query parameters and authentication.  Internal to
 * src/api/: the transport sees only api_routes.h.
 */
#ifndef HIKESHI_API_API_UTIL_H
#define HIKESHI_API_API_UTIL_H

#include <stdint.h>

#include "api/api_routes.h"
#include "api/auth.h"
#include "incident/casefile.h"
#include "util/buf.h"

#define API_UTIL_LIST_DEFAULT 50
#define API_UTIL_LIST_MAX 500

/* One request on its way through a handler; lives on the dispatcher's stack. */
struct api_call {
    struct api_ctx *ctx;
    const struct api_req *rq;
    struct api_resp *resp;
    int64_t p[2];                  /* path parameters in order */
    char user[128];                /* who made the request (api_util_authenticate) */
    enum auth_role role;           /* their role */
    char token[AUTH_TOKEN_STRLEN]; /* the token presented (wiped at the end) */
    int by_cookie;                 /* 1: the session cookie, not a Bearer header */
    int64_t expires_us;            /* the token's expiry; 0: never */
};

/* An error answer: {"error": msg[, "offset": off (>= 0)][, "field": field]}. */
void api_util_answer_error(struct api_call *c, unsigned status, const char *msg, long off,
                           const char *field);
/* A case file error (-EINVAL, -ENOENT, ...) as its HTTP answer. */
void api_util_answer_cf(struct api_call *c, int r, const struct casefile_err *e);
/* What the caller may decide in the case file (casefile.h): lead and
 * admin their own ranks, any other role an analyst's. */
enum casefile_rank api_util_rank(const struct api_call *c);
/* A store error as its HTTP answer (-ENOENT: 404, -EBUSY: 503, else 500). */
void api_util_answer_store(struct api_call *c, int r);
/* Ends a JSON answer built in the body; r < 0 (building it failed): 500. */
void api_util_answer_json(struct api_call *c, unsigned status, int r);

/* {"KEY":[rows]} from a store list function. */
#define API_UTIL_LIST_OBJECT(c, key, call)                                                         \
    do {                                                                                           \
        struct buf *b_ = &(c)->resp->body;                                                         \
        int r_ = buf_puts(b_, "{\"" key "\":[");                                                   \
        if (r_ == 0 && (r_ = (call)) < 0) {                                                        \
            api_util_answer_store((c), r_);                                                        \
            break;                                                                                 \
        }                                                                                          \
        if (r_ == 0)                                                                               \
            r_ = buf_puts(b_, "]}");                                                               \
        api_util_answer_json((c), 200, r_);                                                        \
    } while (0)

/* Query parameter `key` as an integer in [min, max], or `def` when absent.
 * -EINVAL otherwise. */
int api_util_query_int(struct api_call *c, const char *key, int64_t min, int64_t max, int64_t def,
                       int64_t *ret);
/* Query parameter `key`, or NULL. */
const char *api_util_query_str(struct api_call *c, const char *key);
/* limit and offset of a list; -1 with the 400 answer written. */
int api_util_page(struct api_call *c, int64_t *limit, int64_t *offset);

/* 404 unless incident c->p[0] exists; -1 with the answer written. */
int api_util_need_incident(struct api_call *c);
/* When a token made now with `ttl_s` (0: http.token_ttl) expires. */
int64_t api_util_token_expiry(const struct api_call *c, int64_t ttl_s);
/* s as a JSON string, or null. */
int api_util_json_str_or_null(struct buf *b, const char *s);

/* Fills c->user and c->role from the request's token; -1 when refused
 * (401, 403 or a store error, the answer written). */
int api_util_authenticate(struct api_call *c, enum auth_role need);
/* Records a refused request in the audit log (audit_deny: rate-limited):
 * who (NULL or "": "anonymous"), the action ("api.denied"), and the
 * status, method, path, client and why in its details. */
void api_util_audit_denied(struct api_call *c, const char *who, const char *action, unsigned status,
                           const char *why);
/* 1 when the body is empty or JSON; 0 with the 415 answer written. */
int api_util_body_ok(struct api_call *c);

#endif
