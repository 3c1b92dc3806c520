/*
 * api_users.c - administration in the API: user accounts (add, change
 * role or password, delete) and their API tokens (list, make, revoke).
 * Every change goes through the case file, which audits it.
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api_util.h"
#include "api/auth.h"
#include "conf/config.h"
#include "event/time.h"
#include "store/store.h"
#include "util/jp.h"
#include "util/limits.h"

/* A flat JSON object of string members, strictly: each of `keys` at most
 * once, into vals[i] (NUL-terminated, at most caps[i] - 1 bytes; "" and
 * have bit i clear when absent).  -EINVAL with *pe. */
static int read_strings(const struct api_req *rq, const char *const *keys, char **vals,
                        const size_t *caps, size_t n, unsigned *ret_have, struct parse_err *pe)
{
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1;
    size_t i;

    *ret_have = 0;
    for (i = 0; i < n; i++)
        vals[i][0] = '\0';
    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        for (i = 0; i < n && strcmp(key, keys[i]) != 0; i++)
            ;
        if (i == n || (*ret_have & (1u << i)))
            return jp_fail(&j, "unknown or repeated field");
        if ((r = jp_string(&j, vals[i], caps[i] - 1, NULL)) < 0)
            return r;
        *ret_have |= 1u << i;
    }
    return r < 0 ? r : jp_end(&j);
}

/* A user name: 1 to 64 of letters, digits and . _ @ -. */
static int user_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n;
}

struct user_change {
    int64_t id;
    const char *name, *role, *pw_hash, *label;
    const unsigned char *hash;
    size_t hash_len;
    int64_t now_us, new_id;
    int64_t expires_us; /* 't': when the new token expires */
    int disabled;       /* 'u': 1 disable, 0 enable, -1 unchanged */
    int op;             /* 'a' add user, 'u' update, 'd' delete, 't' add token, 'r' revoke token */
};

static int user_apply(struct store *st, void *ctx, struct buf *details)
{
    struct user_change *u = ctx;
    int r;

    switch (u->op) {
    case 'a':
        r = store_user_add(st, u->name, u->role, u->pw_hash, &u->new_id);
        if (r == 0)
            r = buf_printf(details, "{\"id\":%lld,\"role\":\"%s\",\"password\":%s}",
                           (long long)u->new_id, u->role, u->pw_hash ? "true" : "false");
        return r;
    case 'u':
        r = store_user_update(st, u->id, u->role, u->pw_hash);
        if (r == 0 && u->disabled >= 0)
            r = store_user_set_disabled(st, u->id, u->disabled);
        if (r == 0 && (r = buf_printf(details, "{\"id\":%lld", (long long)u->id)) == 0 && u->role)
            r = buf_printf(details, ",\"role\":\"%s\"", u->role);
        if (r == 0 && u->disabled >= 0)
            r = buf_printf(details, ",\"disabled\":%s", u->disabled ? "true" : "false");
        if (r == 0)
            r = buf_printf(details, ",\"password_changed\":%s}", u->pw_hash ? "true" : "false");
        return r;
    case 'd':
        r = store_user_delete(st, u->id);
        return r < 0 ? r : buf_printf(details, "{\"id\":%lld}", (long long)u->id);
    case 't': {
        char when[40];

        time_format_iso(u->expires_us, when, sizeof(when));
        r = store_token_add_id(st, u->id, u->hash, u->hash_len, u->label, u->now_us, u->expires_us,
                               &u->new_id);
        if (r == 0 &&
            (r = buf_printf(details, "{\"token\":%lld,\"user\":%lld,\"expires\":\"%s\",\"label\":",
                            (long long)u->new_id, (long long)u->id, when)) == 0 &&
            (r = api_util_json_str_or_null(details, u->label)) == 0)
            r = buf_putc(details, '}');
        return r;
    }
    case 'r':
        r = store_token_revoke(st, u->id);
        return r < 0 ? r : buf_printf(details, "{\"token\":%lld}", (long long)u->id);
    }
    return -EINVAL;
}

void api_users_list(struct api_call *c)
{
    API_UTIL_LIST_OBJECT(c, "users",
                         store_users_json(c->ctx->cf.st, c->rq->now_us, &c->resp->body, NULL));
}

/* Hashes a password from a request into out; -1 with the answer written. */
static int password_from(struct api_call *c, char *pw, char out[AUTH_PWHASH_STRLEN])
{
    const char *why = auth_password_check(pw, strlen(pw));
    int r;

    if (why) {
        api_util_answer_error(c, 400, why, -1, "password");
        return -1;
    }
    if ((r = auth_password_hash(pw, strlen(pw), out)) < 0) {
        api_util_answer_error(c, r == -ENOMEM ? 503 : 400,
                              r == -ENOMEM ? "out of memory for the password hash"
                                           : "password refused",
                              -1, "password");
        return -1;
    }
    return 0;
}

void api_users_user_add(struct api_call *c)
{
    static const char *const keys[] = {"name", "role", "password"};
    char name[128] = "", role[32] = "", pw[AUTH_PASSWORD_MAX + 2] = "", hash[AUTH_PWHASH_STRLEN];
    char *vals[] = {name, role, pw};
    const size_t caps[] = {sizeof(name), sizeof(role), sizeof(pw)};
    struct parse_err pe = {0};
    struct casefile_err e = {0};
    enum auth_role ro;
    unsigned have;
    char obj[160];
    int r;

    r = read_strings(c->rq, keys, vals, caps, 3, &have, &pe);
    if (r < 0 || (have & 3) != 3) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_error(c, 400, r < 0 && pe.msg ? pe.msg : "name and role are required",
                              r < 0 ? (long)pe.off : -1, NULL);
        return;
    }
    if (!user_name_ok(name) || auth_role_parse(role, strlen(role), &ro) < 0) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_error(c, 400,
                              !user_name_ok(name) ? "a name is 1 to 64 letters, digits and . _ @ -"
                                                  : "role is viewer, analyst, lead or admin",
                              -1, !user_name_ok(name) ? "name" : "role");
        return;
    }
    if ((have & 4) && password_from(c, pw, hash) < 0) {
        sodium_memzero(pw, sizeof(pw));
        return;
    }
    sodium_memzero(pw, sizeof(pw));
    {
        struct user_change u = {
            .name = name, .role = role, .pw_hash = (have & 4) ? hash : NULL, .op = 'a'};
        snprintf(obj, sizeof(obj), "user/%s", name);
        r = casefile_change(&c->ctx->cf, c->user, "user.add", obj, user_apply, &u, &e);
        if (r == -EEXIST) {
            api_util_answer_error(c, 409, "a user of that name exists", -1, "name");
            return;
        }
        if (r < 0) {
            api_util_answer_cf(c, r, &e);
            return;
        }
        r = store_user_json(c->ctx->cf.st, u.new_id, c->rq->now_us, &c->resp->body);
        if (r < 0)
            api_util_answer_store(c, r);
        else
            api_util_answer_json(c, 201, 0);
    }
}

/* The user of path parameter p[0], whose name goes into `name`; -1 with
 * the answer written. */
static int need_user(struct api_call *c, char *name, size_t size, char *role, size_t rsize)
{
    char *n = NULL, *ro = NULL;
    int r = store_user_get_id(c->ctx->cf.st, c->p[0], &n, &ro);

    if (r < 0) {
        api_util_answer_store(c, r);
        return -1;
    }
    snprintf(name, size, "%s", n);
    snprintf(role, rsize, "%s", ro);
    free(n);
    free(ro);
    return 0;
}

/* {"role", "password", "disabled"} of PATCH users/{id}, each optional but
 * not all absent; *have has bit 1 role, 2 password, 4 disabled. */
static int read_user_patch(const struct api_req *rq, char *role, size_t rcap, char *pw, size_t pcap,
                           int *disabled, unsigned *have, struct parse_err *pe)
{
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1;

    *have = 0;
    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        if (strcmp(key, "role") == 0 && !(*have & 1))
            r = jp_string(&j, role, rcap - 1, NULL), *have |= 1;
        else if (strcmp(key, "password") == 0 && !(*have & 2))
            r = jp_string(&j, pw, pcap - 1, NULL), *have |= 2;
        else if (strcmp(key, "disabled") == 0 && !(*have & 4))
            r = jp_bool(&j, disabled), *have |= 4;
        else
            return jp_fail(&j, "unknown or repeated field");
        if (r < 0)
            return r;
    }
    return r < 0 ? r : jp_end(&j);
}

void api_users_user_patch(struct api_call *c)
{
    char role[32] = "", pw[AUTH_PASSWORD_MAX + 2] = "", hash[AUTH_PWHASH_STRLEN], name[128],
         cur[32];
    struct parse_err pe = {0};
    struct casefile_err e = {0};
    enum auth_role ro;
    unsigned have = 0;
    int disabled = -1;
    char obj[160];
    int r;

    if (need_user(c, name, sizeof(name), cur, sizeof(cur)) < 0)
        return;
    r = read_user_patch(c->rq, role, sizeof(role), pw, sizeof(pw), &disabled, &have, &pe);
    if (r < 0 || have == 0) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_error(c, 400,
                              r < 0 && pe.msg ? pe.msg : "role, password or disabled is required",
                              r < 0 ? (long)pe.off : -1, NULL);
        return;
    }
    /* Nor locks themselves out: another admin, or `hikeshi user`, does. */
    if ((have & 4) && disabled && strcmp(name, c->user) == 0) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_error(c, 422, "you cannot disable yourself", -1, "disabled");
        return;
    }
    if ((have & 1) && auth_role_parse(role, strlen(role), &ro) < 0) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_error(c, 400, "role is viewer, analyst, lead or admin", -1, "role");
        return;
    }
    /* An administrator never takes their own rights away: one is left. */
    if ((have & 1) && strcmp(name, c->user) == 0 && ro != AUTH_ROLE_ADMIN) {
        sodium_memzero(pw, sizeof(pw));
        api_util_answer_error(c, 422, "you cannot take the admin role from yourself", -1, "role");
        return;
    }
    if ((have & 2) && password_from(c, pw, hash) < 0) {
        sodium_memzero(pw, sizeof(pw));
        return;
    }
    sodium_memzero(pw, sizeof(pw));
    {
        struct user_change u = {.id = c->p[0],
                                .role = (have & 1) ? role : NULL,
                                .pw_hash = (have & 2) ? hash : NULL,
                                .disabled = (have & 4) ? disabled : -1,
                                .op = 'u'};
        snprintf(obj, sizeof(obj), "user/%s", name);
        if ((r = casefile_change(&c->ctx->cf, c->user, "user.update", obj, user_apply, &u, &e)) <
            0) {
            api_util_answer_cf(c, r, &e);
            return;
        }
    }
    r = store_user_json(c->ctx->cf.st, c->p[0], c->rq->now_us, &c->resp->body);
    if (r < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 200, 0);
}

void api_users_user_delete(struct api_call *c)
{
    struct casefile_err e = {0};
    struct user_change u = {.id = c->p[0], .op = 'd'};
    char name[128], role[32], obj[160];
    int r;

    if (need_user(c, name, sizeof(name), role, sizeof(role)) < 0)
        return;
    if (strcmp(name, c->user) == 0) {
        api_util_answer_error(c, 422, "you cannot delete yourself", -1, NULL);
        return;
    }
    snprintf(obj, sizeof(obj), "user/%s", name);
    if ((r = casefile_change(&c->ctx->cf, c->user, "user.delete", obj, user_apply, &u, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    api_util_answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
}

void api_users_tokens(struct api_call *c)
{
    char name[128], role[32];

    if (need_user(c, name, sizeof(name), role, sizeof(role)) < 0)
        return;
    API_UTIL_LIST_OBJECT(
        c, "tokens",
        store_tokens_json(c->ctx->cf.st, c->p[0], c->rq->now_us, &c->resp->body, NULL));
}

void api_users_token_add(struct api_call *c)
{
    static const char *const keys[] = {"label", "ttl"};
    char label[129] = "", ttl_s[32] = "", name[128], role[32], obj[160], tok[AUTH_TOKEN_STRLEN];
    char *vals[] = {label, ttl_s};
    const size_t caps[] = {sizeof(label), sizeof(ttl_s)};
    int64_t exp = api_util_token_expiry(c, 0), ttl = 0;
    unsigned char th[AUTH_TOKEN_HASHLEN];
    struct parse_err pe = {0};
    struct casefile_err e = {0};
    struct buf *b = &c->resp->body;
    unsigned have = 0;
    char when[40];
    int r;

    if (need_user(c, name, sizeof(name), role, sizeof(role)) < 0)
        return;
    if (c->rq->body_len && read_strings(c->rq, keys, vals, caps, 2, &have, &pe) < 0) {
        api_util_answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
        return;
    }
    if (have & 2) {
        if (config_parse_duration(ttl_s, &ttl) < 0 || ttl < LIMIT_TOKEN_TTL_MIN ||
            ttl > LIMIT_TOKEN_TTL_MAX) {
            api_util_answer_error(
                c, 400, "ttl is a duration of 1s to 366d, such as \"12h\" or \"90d\"", -1, "ttl");
            return;
        }
        exp = api_util_token_expiry(c, ttl);
    }
    if (auth_token_new(tok, th) < 0) {
        api_util_answer_error(c, 500, "no randomness for a token", -1, NULL);
        return;
    }
    {
        struct user_change u = {.id = c->p[0],
                                .label = (have & 1) ? label : NULL,
                                .hash = th,
                                .hash_len = sizeof(th),
                                .now_us = c->rq->now_us,
                                .expires_us = exp,
                                .op = 't'};
        snprintf(obj, sizeof(obj), "user/%s", name);
        if ((r = casefile_change(&c->ctx->cf, c->user, "token.add", obj, user_apply, &u, &e)) < 0) {
            sodium_memzero(tok, sizeof(tok));
            api_util_answer_cf(c, r, &e);
            return;
        }
        time_format_iso(c->rq->now_us, when, sizeof(when));
        r = buf_printf(b, "{\"id\":%lld,\"user\":", (long long)u.new_id);
    }
    if (r == 0)
        r = buf_json_str(b, name, strlen(name));
    if (r == 0)
        r = buf_puts(b, ",\"label\":");
    if (r == 0)
        r = api_util_json_str_or_null(b, (have & 1) ? label : NULL);
    if (r == 0)
        r = buf_printf(b, ",\"created\":\"%s\",\"token\":\"%s\"", when, tok);
    time_format_iso(exp, when, sizeof(when));
    if (r == 0)
        r = buf_printf(b, ",\"expires\":\"%s\"}", when);
    sodium_memzero(tok, sizeof(tok));
    api_util_answer_json(c, 201, r);
}

void api_users_token_delete(struct api_call *c)
{
    struct casefile_err e = {0};
    struct user_change u = {.id = c->p[0], .op = 'r'};
    unsigned char th[AUTH_TOKEN_HASHLEN], mine[AUTH_TOKEN_HASHLEN];
    int64_t uid = 0;
    char *label = NULL, obj[64];
    int r = store_token_get(c->ctx->cf.st, c->p[0], &uid, &label, th, sizeof(th));

    free(label);
    if (r < 0) {
        api_util_answer_store(c, r);
        return;
    }
    /* Revoking the token of this very request is a logout: DELETE session. */
    if (auth_token_hash(c->token, strlen(c->token), mine) == 0 &&
        sodium_memcmp(mine, th, sizeof(th)) == 0) {
        api_util_answer_error(c, 422, "this is the token of your own request: log out instead", -1,
                              NULL);
        return;
    }
    snprintf(obj, sizeof(obj), "token/%lld", (long long)c->p[0]);
    if ((r = casefile_change(&c->ctx->cf, c->user, "token.revoke", obj, user_apply, &u, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    api_util_answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
}
