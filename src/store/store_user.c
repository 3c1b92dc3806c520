/*
 * store_user.c - the administration of API users and their tokens (the
 * web console's admin page and `hikeshi user`): list, change, disable,
 * delete users; list, make and revoke tokens.  Only hashes of tokens are
 * ever stored, and no reader here returns a password hash.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

#define ISO(col) STORE_ISO(col)

/* A user: tokens still valid at ?1 (sessions included). */
/* clang-format off */
#define USER_JSON                                                                                  \
    "json_object('id', u.id, 'name', u.name, 'role', u.role, 'created', " ISO("u.created_us") ","  \
    " 'has_password', json(iif(u.pw_hash IS NULL, 'false', 'true')),"                              \
    " 'disabled', json(iif(u.disabled, 'true', 'false')),"                                         \
    " 'last_login', iif(u.last_login_us IS NULL, NULL, " ISO("u.last_login_us") "),"                \
    " 'tokens', (" TOKENS_VALID "))"

/* The tokens and sessions of user u still valid at ?1. */
#define TOKENS_VALID                                                                               \
    "SELECT count(*) FROM tokens t WHERE t.user_id = u.id"                                         \
    " AND (t.expires_us IS NULL OR t.expires_us > ?1)"
/* clang-format on */

#define USER_INFO_COLS                                                                             \
    "u.id, u.name, u.role, u.disabled, u.pw_hash IS NOT NULL, u.created_us,"                       \
    " coalesce(u.last_login_us, 0), (" TOKENS_VALID ")"

static void user_info_row(sqlite3_stmt *s, struct store_user_info *u)
{
    const unsigned char *n = sqlite3_column_text(s, 1), *r = sqlite3_column_text(s, 2);

    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(s, 0);
    snprintf(u->name, sizeof(u->name), "%s", n ? (const char *)n : "");
    snprintf(u->role, sizeof(u->role), "%s", r ? (const char *)r : "");
    u->disabled = sqlite3_column_int(s, 3) != 0;
    u->has_password = sqlite3_column_int(s, 4) != 0;
    u->created_us = sqlite3_column_int64(s, 5);
    u->last_login_us = sqlite3_column_int64(s, 6);
    u->tokens = sqlite3_column_int64(s, 7);
}

int store_user_find(struct store *st, const char *name, int64_t now_us, struct store_user_info *ret)
{
    sqlite3_stmt *s;
    int r = store_row_one(st, "reading a user", "no such user", &s,
                          "SELECT " USER_INFO_COLS " FROM users u WHERE u.name = ?2", "it", now_us,
                          name);

    if (r < 0)
        return r;
    user_info_row(s, ret);
    sqlite3_finalize(s);
    return 0;
}

struct user_list {
    struct store_user_info *v;
    size_t n, cap;
};

static int user_list_row(sqlite3_stmt *s, void *ctx)
{
    struct user_list *l = ctx;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct store_user_info *v;

        if (l->n >= STORE_USERS_MAX)
            return -E2BIG;
        if (!(v = realloc(l->v, cap * sizeof(*v))))
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    user_info_row(s, &l->v[l->n++]);
    return 0;
}

int store_user_list(struct store *st, int64_t now_us, struct store_user_info **ret, size_t *ret_n)
{
    struct user_list l = {0};
    int r =
        store_each_row(st, "listing users", "SELECT " USER_INFO_COLS " FROM users u ORDER BY u.id",
                       now_us, user_list_row, &l);

    if (r < 0) {
        free(l.v);
        l.v = NULL;
        l.n = 0;
    }
    *ret = l.v;
    *ret_n = l.n;
    return r;
}

int store_users_json(struct store *st, int64_t now_us, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "listing users", out, ret_n,
                          "SELECT " USER_JSON " FROM users u ORDER BY u.id", "i", now_us);
}

int store_user_json(struct store *st, int64_t id, int64_t now_us, struct buf *out)
{
    return store_json_one(st, "reading a user", "no such user", out,
                          "SELECT " USER_JSON " FROM users u WHERE u.id = ?2", "ii", now_us, id);
}

int store_user_get_id(struct store *st, int64_t id, char **ret_name, char **ret_role)
{
    sqlite3_stmt *s;
    const unsigned char *n, *r;
    int rc;

    *ret_name = *ret_role = NULL;
    rc = store_row_one(st, "reading a user", "no such user", &s,
                       "SELECT name, role FROM users WHERE id = ?1", "i", id);
    if (rc < 0)
        return rc;
    n = sqlite3_column_text(s, 0);
    r = sqlite3_column_text(s, 1);
    *ret_name = strdup(n ? (const char *)n : "");
    *ret_role = strdup(r ? (const char *)r : "");
    sqlite3_finalize(s);
    if (!*ret_name || !*ret_role) {
        free(*ret_name);
        free(*ret_role);
        *ret_name = *ret_role = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* -ENOENT with a message when `changed` is 0 after a successful change. */
static int changed_one(struct store *st, int r, int64_t changed, const char *missing)
{
    if (r == 0 && changed == 0) {
        store_seterr(st, "%s", missing);
        return -ENOENT;
    }
    return r;
}

int store_user_update(struct store *st, int64_t id, const char *role, const char *pw_hash)
{
    int64_t changed = 0;
    int r;

    r = store_exec_sql(st, "changing a user", &changed, NULL,
                       "UPDATE users SET role = coalesce(?2, role), pw_hash = coalesce(?3, pw_hash)"
                       " WHERE id = ?1",
                       "itt", id, role, pw_hash);
    return changed_one(st, r, changed, "no such user");
}

int store_user_set_disabled(struct store *st, int64_t id, int disabled)
{
    int64_t changed = 0;
    int r = store_exec_sql(st, disabled ? "disabling a user" : "enabling a user", &changed, NULL,
                           "UPDATE users SET disabled = ?2 WHERE id = ?1", "ii", id,
                           (int64_t)(disabled != 0));

    return changed_one(st, r, changed, "no such user");
}

int store_user_set_login(struct store *st, int64_t id, int64_t now_us)
{
    int64_t changed = 0;
    int r = store_exec_sql(st, "noting a login", &changed, NULL,
                           "UPDATE users SET last_login_us = ?2 WHERE id = ?1", "ii", id, now_us);

    return changed_one(st, r, changed, "no such user");
}

int store_tokens_revoke_user(struct store *st, int64_t user_id, int64_t *ret_n)
{
    return store_exec_sql(st, "revoking a user's tokens", ret_n, NULL,
                          "DELETE FROM tokens WHERE user_id = ?1", "i", user_id);
}

int store_outbox_add(struct store *st, const char *actor, const char *action, const char *object,
                     const char *details)
{
    return store_exec_sql(st, "queueing an audit entry", NULL, NULL,
                          "INSERT INTO audit_outbox(actor, action, object, details)"
                          " VALUES(?1, ?2, ?3, ?4)",
                          "tttt", actor, action, object, details);
}

int store_outbox_drain(struct store *st,
                       int (*append)(void *ctx, const char *actor, const char *action,
                                     const char *object, const char *details),
                       void *ctx, size_t *ret_n)
{
    size_t n = 0;
    int r = 0;

    /* One entry at a time, so that a delete never waits on an open read. */
    for (;;) {
        sqlite3_stmt *s;
        int64_t id;

        r = store_row_one(st, "reading the audit outbox", "empty", &s,
                          "SELECT id, actor, action, object, details FROM audit_outbox"
                          " ORDER BY id LIMIT 1",
                          "");
        if (r == -ENOENT) {
            r = 0;
            break;
        }
        if (r < 0)
            break;
        id = sqlite3_column_int64(s, 0);
        r = append(ctx, (const char *)sqlite3_column_text(s, 1),
                   (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
                   (const char *)sqlite3_column_text(s, 4));
        sqlite3_finalize(s);
        if (r < 0)
            break;
        n++;
        if ((r = store_exec_sql(st, "emptying the audit outbox", NULL, NULL,
                                "DELETE FROM audit_outbox WHERE id = ?1", "i", id)) < 0)
            break;
    }
    if (ret_n)
        *ret_n = n;
    return r;
}

int store_user_delete(struct store *st, int64_t id)
{
    int64_t changed = 0;
    int r;

    /* Foreign keys may be off on this connection: the tokens go by hand. */
    r = store_exec_sql(st, "deleting a user's tokens", NULL, NULL,
                       "DELETE FROM tokens WHERE user_id = ?1", "i", id);
    if (r == 0)
        r = store_exec_sql(st, "deleting a user", &changed, NULL,
                           "DELETE FROM users WHERE id = ?1", "i", id);
    return changed_one(st, r, changed, "no such user");
}

int store_tokens_json(struct store *st, int64_t user_id, int64_t now_us, struct buf *out,
                      size_t *ret_n)
{
    return store_json_sql(
        st, "listing tokens", out, ret_n,
        "SELECT json_object('id', id, 'label', label, 'created', " ISO(
            "created_us") ","
                          " 'expires', iif(expires_us IS NULL, NULL, " ISO(
                              "expires_us") "),"
                                            " 'session', json(iif(session, 'true', 'false')))"
                                            " FROM tokens WHERE user_id = ?1 AND (expires_us IS "
                                            "NULL OR expires_us > ?2) ORDER BY id",
        "ii", user_id, now_us);
}

int store_token_add_id(struct store *st, int64_t user_id, const unsigned char *hash,
                       size_t hash_len, const char *label, int64_t now_us, int64_t expires_us,
                       int64_t *ret_id)
{
    sqlite3_stmt *s = NULL;
    int rc, r;

    if ((r = store_token_prune(st, now_us)) < 0)
        return r;
    rc = sqlite3_prepare_v2(st->db,
                            "INSERT INTO tokens(user_id, hash, label, created_us, expires_us)"
                            " VALUES(?1, ?2, ?3, ?4, ?5)",
                            -1, &s, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 2, hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, label);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, now_us);
    if (rc == SQLITE_OK)
        rc = expires_us > 0 ? sqlite3_bind_int64(s, 5, expires_us) : sqlite3_bind_null(s, 5);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        r = store_dberr(st, rc, "adding a token");
    else if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_finalize(s);
    return r;
}

int store_token_rotate(struct store *st, const unsigned char *old_hash,
                       const unsigned char *new_hash, size_t hash_len, int64_t now_us,
                       int64_t expires_us, int64_t *ret_id)
{
    sqlite3_stmt *s = NULL;
    int rc, r;

    if ((r = store_token_prune(st, now_us)) < 0)
        return r;
    /* Sessions are not rotated: they end with a logout or their 12 hours. */
    rc = sqlite3_prepare_v2(st->db,
                            "INSERT INTO tokens(user_id, hash, label, created_us, expires_us)"
                            " SELECT user_id, ?2, label, ?3, ?4 FROM tokens"
                            " WHERE hash = ?1 AND session = 0",
                            -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 1, old_hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 2, new_hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, now_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, expires_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sqlite3_finalize(s);
    s = NULL;
    if (rc != SQLITE_DONE)
        return store_dberr(st, rc, "rotating a token");
    if (sqlite3_changes(st->db) == 0) {
        store_seterr(st, "no such token, or a session");
        return -ENOENT;
    }
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    rc = sqlite3_prepare_v2(st->db, "DELETE FROM tokens WHERE hash = ?1", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 1, old_hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : store_dberr(st, rc, "rotating a token");
}

int store_token_get(struct store *st, int64_t id, int64_t *ret_user_id, char **ret_label,
                    unsigned char *hash_out, size_t hash_len)
{
    sqlite3_stmt *s;
    const unsigned char *l;
    int r;

    *ret_label = NULL;
    r = store_row_one(st, "reading a token", "no such token", &s,
                      "SELECT user_id, label, hash FROM tokens WHERE id = ?1", "i", id);
    if (r < 0)
        return r;
    *ret_user_id = sqlite3_column_int64(s, 0);
    l = sqlite3_column_text(s, 1);
    if (l && !(*ret_label = strdup((const char *)l)))
        r = -ENOMEM;
    if (hash_out) {
        const void *h = sqlite3_column_blob(s, 2);
        size_t n = (size_t)sqlite3_column_bytes(s, 2);

        memset(hash_out, 0, hash_len);
        if (h)
            memcpy(hash_out, h, n < hash_len ? n : hash_len);
    }
    sqlite3_finalize(s);
    return r;
}

int store_token_revoke(struct store *st, int64_t id)
{
    int64_t changed = 0;
    int r = store_exec_sql(st, "revoking a token", &changed, NULL, "DELETE FROM tokens WHERE id = ?1",
                           "i", id);

    return changed_one(st, r, changed, "no such token");
}
