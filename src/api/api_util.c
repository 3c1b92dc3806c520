/*
 * api_util.c - what every handler of the API shares: writing an answer
 * (JSON, errors from the case file and the store), reading query
 * parameters, and authenticating a request (token or session cookie, CSRF,
 * least role).  Handlers live in one file per resource; none calls
 * another's; all of them come here.
 */
#include "api/api_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/auth.h"
#include "event/time.h"
#include "incident/audit.h"
#include "store/store.h"
#include "util/limits.h"

/* ------------------------------------------------------------------ */
/* Answers                                                             */

void api_util_answer_error(struct api_call *c, unsigned status, const char *msg, long off,
                           const char *field)
{
    struct buf *b = &c->resp->body;

    buf_reset(b);
    c->resp->status = status;
    c->resp->type = "application/json";
    if (buf_puts(b, "{\"error\":") < 0 || buf_json_str(b, msg, strlen(msg)) < 0 ||
        (off >= 0 && buf_printf(b, ",\"offset\":%ld", off) < 0) ||
        (field && *field &&
         (buf_puts(b, ",\"field\":") < 0 || buf_json_str(b, field, strlen(field)) < 0)) ||
        buf_puts(b, "}\n") < 0) {
        buf_reset(b);
        (void)buf_puts(b, "{\"error\":\"internal error\"}\n");
        c->resp->status = 500;
    }
}

/* A case file error as its HTTP answer. */
void api_util_answer_cf(struct api_call *c, int r, const struct casefile_err *e)
{
    unsigned status;

    switch (r) {
    case -EINVAL: status = 400; break;
    case -ENOENT: status = 404; break;
    case -ESTALE: /* fall through: both are a conflict */
    case -EEXIST: status = 409; break;
    case -EDOM: status = 422; break;
    case -EACCES: status = 403; break;
    case -EBUSY: status = 503; break;
    default: status = 500; break;
    }
    api_util_answer_error(c, status, e->msg[0] ? e->msg : "internal error", e->off, e->field);
}

enum casefile_rank api_util_rank(const struct api_call *c)
{
    if (c->role == AUTH_ROLE_ADMIN)
        return CASEFILE_RANK_ADMIN;
    if (c->role == AUTH_ROLE_LEAD)
        return CASEFILE_RANK_LEAD;
    return CASEFILE_RANK_ANALYST;
}

void api_util_answer_store(struct api_call *c, int r)
{
    api_util_answer_error(c,
                          r == -ENOENT  ? 404
                          : r == -EBUSY ? 503
                                        : 500,
                          r == -ENOENT ? "not found" : store_errmsg(c->ctx->cf.st), -1, NULL);
}

/* Ends a JSON answer built in the body. */
void api_util_answer_json(struct api_call *c, unsigned status, int r)
{
    if (r < 0) {
        api_util_answer_error(c, 500, r == -E2BIG ? "answer too large" : "internal error", -1,
                              NULL);
        return;
    }
    if (buf_putc(&c->resp->body, '\n') < 0) {
        api_util_answer_error(c, 500, "answer too large", -1, NULL);
        return;
    }
    c->resp->status = status;
    c->resp->type = "application/json";
}

/* ------------------------------------------------------------------ */
/* Query parameters                                                    */

/* An integer in [min, max], or `def` when absent.  -EINVAL otherwise. */
int api_util_query_int(struct api_call *c, const char *key, int64_t min, int64_t max, int64_t def,
                       int64_t *ret)
{
    const char *v = c->rq->query ? c->rq->query(c->rq->query_ctx, key) : NULL;
    char *end;
    long long n;

    *ret = def;
    if (!v)
        return 0;
    if (!*v || strlen(v) > 19 || strspn(v, "0123456789") != strlen(v))
        return -EINVAL;
    n = strtoll(v, &end, 10);
    if (*end || n < min || n > max)
        return -EINVAL;
    *ret = n;
    return 0;
}

const char *api_util_query_str(struct api_call *c, const char *key)
{
    return c->rq->query ? c->rq->query(c->rq->query_ctx, key) : NULL;
}

int api_util_page(struct api_call *c, int64_t *limit, int64_t *offset)
{
    if (api_util_query_int(c, "limit", 1, API_UTIL_LIST_MAX, API_UTIL_LIST_DEFAULT, limit) < 0 ||
        api_util_query_int(c, "offset", 0, INT64_C(1000000000), 0, offset) < 0) {
        api_util_answer_error(c, 400, "limit must be 1 to 500 and offset a non-negative integer",
                              -1, NULL);
        return -1;
    }
    return 0;
}
/* 404 unless incident c->p[0] exists. */
int api_util_need_incident(struct api_call *c)
{
    struct store_incident_row row;
    int r = store_incident_row_get(c->ctx->cf.st, c->p[0], &row);

    if (r == -ENOENT) {
        api_util_answer_error(c, 404, "no such incident", -1, NULL);
        return -1;
    }
    if (r < 0) {
        api_util_answer_store(c, r);
        return -1;
    }
    store_incident_row_done(&row);
    return 0;
}
/* When a token made now with `ttl_s` (0: http.token_ttl) expires.  From
 * the wall clock, which store_token_find checks expiry against, not the
 * request's time (the same in the daemon; fixed in tests). */
int64_t api_util_token_expiry(const struct api_call *c, int64_t ttl_s)
{
    if (ttl_s <= 0)
        ttl_s = c->ctx->token_ttl_s > 0 ? c->ctx->token_ttl_s : LIMIT_TOKEN_TTL_DEFAULT;
    return time_now_us() + ttl_s * 1000000;
}
int api_util_json_str_or_null(struct buf *b, const char *s)
{
    return s ? buf_json_str(b, s, strlen(s)) : buf_puts(b, "null");
}
void api_util_audit_denied(struct api_call *c, const char *who, const char *action, unsigned status,
                           const char *why)
{
    struct buf b;
    int r;

    if (!c->ctx->cf.audit)
        return;
    buf_init(&b, 2048);
    r = buf_printf(&b, "{\"status\":%u,\"method\":", status);
    if (r == 0)
        r = buf_json_str(&b, c->rq->method, strlen(c->rq->method));
    if (r == 0 && (r = buf_puts(&b, ",\"path\":")) == 0)
        r = buf_json_str(&b, c->rq->path, strnlen(c->rq->path, 512));
    if (r == 0 && (r = buf_puts(&b, ",\"client\":")) == 0)
        r = api_util_json_str_or_null(&b, c->rq->client);
    if (r == 0 && (r = buf_puts(&b, ",\"reason\":")) == 0)
        r = buf_json_str(&b, why, strlen(why));
    if (r == 0)
        r = buf_putc(&b, '}');
    /* Rate-limited over the whole log: a scan of the API must not fill
     * the disk.  A failure is the log's, which the next change reports. */
    if (r == 0)
        (void)audit_deny(c->ctx->cf.audit, who && who[0] ? who : "anonymous", action, "api", b.data,
                         b.len);
    buf_done(&b);
}

/*
 * The user and role of the request's token: the Authorization header's
 * Bearer token, or without that header the console's session cookie.  A
 * cookie comes with every request the browser makes, whoever caused it, so
 * a change made with one must also carry the session's CSRF token
 * (X-CSRF-Token), which only our own pages can read.  -1 when refused (the
 * answer is written).
 */
int api_util_authenticate(struct api_call *c, enum auth_role need)
{
    const char *v = c->rq->authorization;
    struct auth_header ah;
    unsigned char th[AUTH_TOKEN_HASHLEN];
    char *user = NULL, *role_s = NULL;
    const char *tok = NULL;
    size_t tok_len = 0;
    int r;

    c->role = AUTH_ROLE_NONE;
    c->by_cookie = !v && c->rq->session;
    r = auth_header_parse(v, v ? strlen(v) : 0, &ah, NULL);
    if (r == 0 && ah.scheme != AUTH_SCHEME_BEARER)
        r = -ENOTSUP;
    if (r == 0)
        tok = ah.token, tok_len = ah.token_len;
    else if (c->by_cookie)
        tok = c->rq->session, tok_len = strlen(c->rq->session), r = 0;
    if (r == 0)
        r = auth_token_hash(tok, tok_len, th);
    if (r == 0) {
        /* Shaped like a token: the length is AUTH_TOKEN_LEN. */
        memcpy(c->token, tok, tok_len);
        c->token[tok_len] = '\0';
    }
    auth_header_done(&ah);
    if (r == 0 &&
        (r = store_token_find(c->ctx->cf.st, th, sizeof(th), &user, &role_s, &c->expires_us)) ==
            0 &&
        auth_role_parse(role_s, strlen(role_s), &c->role) < 0)
        c->role = AUTH_ROLE_NONE;
    if (r == 0)
        snprintf(c->user, sizeof(c->user), "%s", user);
    free(user);
    free(role_s);
    if (r == -EBUSY || r == -EIO) {
        api_util_answer_store(c, r);
        return -1;
    }
    if (r < 0) {
        const char *why = c->by_cookie        ? "the session has expired or ended; log in again"
                          : r == -ENOENT && v ? "invalid, expired or revoked token"
                                              : "a Bearer token is required (hikeshi user add)";

        /* A request with no credentials at all is not an attempt. */
        if (v || c->by_cookie)
            api_util_audit_denied(c, NULL, "api.denied", 401, why);
        api_util_answer_error(c, 401, why, -1, NULL);
        return -1;
    }
    if (c->by_cookie && strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "HEAD") != 0 &&
        auth_csrf_check(c->token, strlen(c->token), c->rq->csrf) < 0) {
        api_util_audit_denied(c, c->user, "api.denied", 403, "missing or wrong CSRF token");
        api_util_answer_error(c, 403, "missing or wrong CSRF token", -1, NULL);
        return -1;
    }
    if (!auth_role_allows(c->role, need)) {
        char msg[sizeof(c->user) + 64];
        snprintf(msg, sizeof(msg), "%s may not do this: it needs the %s role", c->user,
                 auth_role_name(need));
        api_util_audit_denied(c, c->user, "api.denied", 403, msg);
        api_util_answer_error(c, 403, msg, -1, NULL);
        return -1;
    }
    return 0;
}

/* A request body must be JSON. */
int api_util_body_ok(struct api_call *c)
{
    const char *t = c->rq->content_type;

    if (c->rq->body_len == 0)
        return 1;
    if (!t || strncasecmp(t, "application/json", 16) != 0 ||
        (t[16] && t[16] != ';' && t[16] != ' ')) {
        api_util_answer_error(c, 415, "the body must be application/json", -1, NULL);
        return 0;
    }
    return 1;
}
