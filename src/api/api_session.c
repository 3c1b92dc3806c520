/*
 * api_session.c - logging in to the API: a token for a password (scripts),
 * the web console's session (cookie plus CSRF token), its end and its
 * rotation.  Password attempts are limited per client address.
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "event/time.h"
#include "incident/audit.h"
#include "store/store.h"
#include "util/jp.h"
#include "util/limits.h"
#include "util/log.h"

/* ------------------------------------------------------------------ */
/* Logging in with a password                                          */

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* {"name": "...", "password": "..."}, strictly. */
static int read_login(const struct api_req *rq, char *name, size_t namecap, char *pw, size_t pwcap,
                      struct parse_err *pe)
{
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1, have = 0;

    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        if (strcmp(key, "name") == 0 && !(have & 1))
            r = jp_string(&j, name, namecap, NULL), have |= 1;
        else if (strcmp(key, "password") == 0 && !(have & 2))
            r = jp_string(&j, pw, pwcap, NULL), have |= 2;
        else
            return jp_fail(&j, "unknown or repeated field");
        if (r < 0)
            return r;
    }
    if (r < 0 || (r = jp_end(&j)) < 0)
        return r;
    if (have != 3) {
        parse_err_set(pe, 0, "name and password are required");
        return -EINVAL;
    }
    return 0;
}

/*
 * Checks the request's {"name", "password"} for a login.  Wrong name and
 * wrong password answer alike, after the same Argon2id work, and a client
 * gets 10 attempts then one a minute.  0 with the user's id, name and role
 * (heap, the caller frees *ret_role); -1 when refused (the answer is
 * written).
 */
static int login_check(struct api_call *c, char name[128], int64_t *ret_uid, char **ret_role)
{
    /* A valid Argon2id string of no password: verifying against it costs
     * what a real check costs, so an unknown name takes as long. */
    static char dummy[AUTH_PWHASH_STRLEN];
    char pw[1024];
    struct parse_err pe = {0};
    char *role = NULL, *hash = NULL;
    int r, ok;

    *ret_role = NULL;
    if (!c->ctx->cf.st) {
        api_util_answer_error(c, 503, "no store", -1, NULL);
        return -1;
    }
    if (!api_util_body_ok(c))
        return -1;
    if (c->ctx->login_rl &&
        !auth_ratelimit_allow(c->ctx->login_rl, c->rq->client ? c->rq->client : "?", mono_us())) {
        api_util_answer_error(c, 429, "too many login attempts; wait a minute", -1, NULL);
        return -1;
    }
    if (read_login(c->rq, name, 127, pw, sizeof(pw) - 1, &pe) < 0) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
        return -1;
    }
    if (!dummy[0] && auth_password_hash("no user has this password", 25, dummy) < 0)
        dummy[0] = '\0';
    r = store_user_get(c->ctx->cf.st, name, ret_uid, &role, &hash);
    if (r < 0 && r != -ENOENT) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_store(c, r);
        return -1;
    }
    ok = r == 0 && hash && auth_password_verify(hash, pw, strlen(pw)) == 0;
    if (!ok && dummy[0] && (r < 0 || !hash))
        (void)auth_password_verify(dummy, pw, strlen(pw));
    sodium_memzero(pw, sizeof(pw));
    free(hash);
    if (!ok) {
        free(role);
        log_warnx("http: failed login for \"%s\" from %s", name,
                  c->rq->client ? c->rq->client : "?");
        {
            char why[128 + 48];

            /* The name is the caller's claim, not an actor: it goes in the details. */
            snprintf(why, sizeof(why), "wrong name or password for user %s", name);
            api_util_audit_denied(c, NULL, "user.login_failed", 401, why);
        }
        api_util_answer_error(c, 401, "wrong name or password", -1, NULL);
        return -1;
    }
    /* Said only to whoever knows the password: the name alone tells
     * nothing more than a wrong password does. */
    {
        struct store_user_info ui;

        r = store_user_find(c->ctx->cf.st, name, c->rq->now_us, &ui);
        if (r == 0 && ui.disabled) {
            free(role);
            log_warnx("http: login of disabled user \"%s\" from %s", name,
                      c->rq->client ? c->rq->client : "?");
            api_util_answer_error(c, 403, "this account is disabled (hikeshi user enable)", -1,
                                  NULL);
            return -1;
        }
        if (r < 0) {
            free(role);
            api_util_answer_store(c, r);
            return -1;
        }
        if (store_user_set_login(c->ctx->cf.st, *ret_uid, c->rq->now_us) < 0)
            log_warnx("http: noting the login of \"%s\": %s", name, store_errmsg(c->ctx->cf.st));
    }
    *ret_role = role;
    return 0;
}

static void audit_login(struct api_call *c, const char *name, const char *action, const char *label)
{
    char obj[160], det[64];
    int n;

    if (!c->ctx->cf.audit)
        return;
    n = snprintf(det, sizeof(det), "{\"label\":\"%s\"}", label);
    snprintf(obj, sizeof(obj), "user/%s", name);
    (void)audit_append(c->ctx->cf.audit, name, action, obj, det, (size_t)n, NULL);
}

/* A password for a token: any script's way in when it holds no token yet. */
void api_session_login(struct api_call *c)
{
    char name[128], tok[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    char *role = NULL;
    int64_t uid = 0, exp;
    int r;
    struct buf *b = &c->resp->body;
    char when[40];

    if (login_check(c, name, &uid, &role) < 0)
        return;
    exp = api_util_token_expiry(c, 0);
    r = auth_token_new(tok, th);
    if (r == 0 && (r = store_token_add(c->ctx->cf.st, uid, th, sizeof(th), "login", exp)) < 0) {
        free(role);
        sodium_memzero(tok, sizeof(tok));
        api_util_answer_store(c, r);
        return;
    }
    audit_login(c, name, "user.login", "login");
    r = r < 0 ? r : buf_puts(b, "{\"token\":");
    if (r == 0)
        r = buf_json_str(b, tok, strlen(tok));
    if (r == 0)
        r = buf_puts(b, ",\"user\":");
    if (r == 0)
        r = buf_json_str(b, name, strlen(name));
    time_format_iso(exp, when, sizeof(when));
    if (r == 0)
        r = buf_printf(b, ",\"role\":\"%s\",\"expires\":\"%s\"}", role ? role : "", when);
    sodium_memzero(tok, sizeof(tok));
    free(role);
    api_util_answer_json(c, 201, r);
}

/* {"user", "role", "csrf", "expires"}: what the console needs to know of
 * its session.  csrf only for a cookie session; expires null for a token
 * that does not expire. */
static int session_json(struct api_call *c, const char *name, const char *role, const char *tok,
                        int64_t expires_us)
{
    struct buf *b = &c->resp->body;
    char csrf[AUTH_CSRF_STRLEN];
    int r;

    if ((r = buf_puts(b, "{\"user\":")) < 0 || (r = buf_json_str(b, name, strlen(name))) < 0 ||
        (r = buf_printf(b, ",\"role\":\"%s\",\"csrf\":", role)) < 0)
        return r;
    if (tok && auth_csrf_token(tok, strlen(tok), csrf) == 0)
        r = buf_printf(b, "\"%s\"", csrf);
    else
        r = buf_puts(b, "null");
    sodium_memzero(csrf, sizeof(csrf));
    if (r == 0 && expires_us > 0) {
        char t[40];
        time_format_iso(expires_us, t, sizeof(t));
        r = buf_printf(b, ",\"expires\":\"%s\"", t);
    } else if (r == 0) {
        r = buf_puts(b, ",\"expires\":null");
    }
    return r < 0 ? r : buf_putc(b, '}');
}

/*
 * The web console's login: a password for a session held in an HttpOnly,
 * SameSite=Strict cookie that lasts AUTH_SESSION_SECONDS, and the CSRF
 * token that every change made with it must carry.
 */
void api_session_new(struct api_call *c)
{
    char name[128], tok[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    char *role = NULL;
    int64_t uid = 0, exp = time_now_us() + (int64_t)AUTH_SESSION_SECONDS * 1000000;
    int r;

    if (login_check(c, name, &uid, &role) < 0)
        return;
    r = auth_token_new(tok, th);
    if (r == 0 && (r = store_session_add(c->ctx->cf.st, uid, th, sizeof(th), exp)) < 0) {
        free(role);
        sodium_memzero(tok, sizeof(tok));
        api_util_answer_store(c, r);
        return;
    }
    audit_login(c, name, "user.login", "session");
    if (r == 0)
        r = session_json(c, name, role ? role : "", tok, exp);
    if (r == 0)
        snprintf(c->resp->set_cookie, sizeof(c->resp->set_cookie),
                 AUTH_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d", tok,
                 AUTH_SESSION_SECONDS);
    sodium_memzero(tok, sizeof(tok));
    free(role);
    api_util_answer_json(c, 201, r);
}

void api_session_get(struct api_call *c)
{
    api_util_answer_json(c, 200,
                         session_json(c, c->user, auth_role_name(c->role),
                                      c->by_cookie ? c->token : NULL, c->expires_us));
}

/* Logout: the token that authenticated this request stops working, and a
 * cookie session's cookie is cleared. */
void api_session_end(struct api_call *c)
{
    unsigned char th[AUTH_TOKEN_HASHLEN];
    int r = auth_token_hash(c->token, strlen(c->token), th);

    if (r == 0 && (r = store_token_revoke_hash(c->ctx->cf.st, th, sizeof(th))) < 0 &&
        r != -ENOENT) {
        api_util_answer_store(c, r);
        return;
    }
    audit_login(c, c->user, "user.logout", c->by_cookie ? "session" : "token");
    snprintf(c->resp->set_cookie, sizeof(c->resp->set_cookie),
             AUTH_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    api_util_answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
}

struct rotate {
    const unsigned char *old_hash, *new_hash;
    int64_t now_us, expires_us, new_id;
};

static int rotate_apply(struct store *st, void *ctx, struct buf *details)
{
    struct rotate *t = ctx;
    int r = store_token_rotate(st, t->old_hash, t->new_hash, AUTH_TOKEN_HASHLEN, t->now_us,
                               t->expires_us, &t->new_id);

    return r < 0 ? r : buf_printf(details, "{\"token\":%lld}", (long long)t->new_id);
}

/*
 * POST /api/v1/session/rotate: the Bearer token of this request is
 * replaced by a new one with its label and a fresh http.token_ttl, and
 * stops working at once; a script renews its token before it expires.
 */
void api_session_rotate(struct api_call *c)
{
    unsigned char old[AUTH_TOKEN_HASHLEN], nh[AUTH_TOKEN_HASHLEN];
    char tok[AUTH_TOKEN_STRLEN], obj[160], when[40];
    struct casefile_err e = {0};
    struct rotate t = {old, nh, c->rq->now_us, api_util_token_expiry(c, 0), 0};
    struct buf *b = &c->resp->body;
    int r;

    if (c->by_cookie) {
        api_util_answer_error(c, 422, "a console session is not rotated: log out and in again", -1,
                              NULL);
        return;
    }
    if (auth_token_hash(c->token, strlen(c->token), old) < 0 || auth_token_new(tok, nh) < 0) {
        api_util_answer_error(c, 500, "no randomness for a token", -1, NULL);
        return;
    }
    snprintf(obj, sizeof(obj), "user/%s", c->user);
    r = casefile_change(&c->ctx->cf, c->user, "token.rotate", obj, rotate_apply, &t, &e);
    if (r < 0) {
        sodium_memzero(tok, sizeof(tok));
        if (r == -ENOENT)
            api_util_answer_error(c, 422, "a session is not rotated: log out and in again", -1,
                                  NULL);
        else
            api_util_answer_cf(c, r, &e);
        return;
    }
    time_format_iso(t.expires_us, when, sizeof(when));
    r = buf_printf(b, "{\"id\":%lld,\"token\":\"%s\",\"user\":", (long long)t.new_id, tok);
    if (r == 0)
        r = buf_json_str(b, c->user, strlen(c->user));
    if (r == 0)
        r = buf_printf(b, ",\"role\":\"%s\",\"expires\":\"%s\"}", auth_role_name(c->role), when);
    sodium_memzero(tok, sizeof(tok));
    api_util_answer_json(c, 201, r);
}
