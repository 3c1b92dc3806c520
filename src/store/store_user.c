/*
 * store_user.c - the administration of API users and their tokens (the
 * web console's admin page): list, change, delete users; list, make and
 * revoke tokens.  Only hashes of tokens are ever stored.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/buf.h"

#define ISO(col) STORE_ISO(col)

/* A user: tokens still valid at ?1 (sessions included). */
#define USER_JSON                                                                                  \
    "json_object('id', u.id, 'name', u.name, 'role', u.role, 'created', " ISO("u.created_us") ","  \
    " 'has_password', json(iif(u.pw_hash IS NULL, 'false', 'true')),"                              \
    " 'tokens', (SELECT count(*) FROM tokens t WHERE t.user_id = u.id"                             \
    "   AND (t.expires_us IS NULL OR t.expires_us > ?1)))"

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
        "SELECT json_object('id', id, 'label', label, 'created', " ISO("created_us") ","
        " 'expires', iif(expires_us IS NULL, NULL, " ISO("expires_us") "),"
        " 'session', json(iif(expires_us IS NULL, 'false', 'true')))"
        " FROM tokens WHERE user_id = ?1 AND (expires_us IS NULL OR expires_us > ?2) ORDER BY id",
        "ii", user_id, now_us);
}

int store_token_add_id(struct store *st, int64_t user_id, const unsigned char *hash,
                       size_t hash_len, const char *label, int64_t now_us, int64_t *ret_id)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db,
                                "INSERT INTO tokens(user_id, hash, label, created_us)"
                                " VALUES(?1, ?2, ?3, ?4)",
                                -1, &s, NULL);
    int r = 0;

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 2, hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, label);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, now_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        r = store_dberr(st, rc, "adding a token");
    else if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_finalize(s);
    return r;
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
