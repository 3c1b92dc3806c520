/*
 * store_priv.h - what the SQLite store's files share: the connection and
 * its helpers.  Included by src/store/ only; nothing else sees sqlite3.h.
 */
#ifndef HIKESHI_STORE_STORE_PRIV_H
#define HIKESHI_STORE_STORE_PRIV_H

#include <sqlite3.h>
#include <stddef.h>

#include "util/buf.h"

struct store;

/* Room for the statements store_sqlite.c prepares at open. */
#define STORE_STMT_MAX 32

struct store {
    sqlite3 *db;
    int version;                        /* schema version after migrations */
    sqlite3_stmt *stmt[STORE_STMT_MAX]; /* all prepared at open; reset after use */
    struct buf json;                    /* fields of the row being written; reused */
    char errmsg[512];                   /* last error, for store_errmsg() */
};

/* SQLite result code to a negative errno (-ENOMEM, -EBUSY, -EIO). */
int store_errno(int rc);
/* Sets the message store_errmsg() returns. */
void store_seterr(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the connection's error for `what` and returns it as an errno. */
int store_dberr(struct store *st, int rc, const char *what);
/* Binds text (SQLITE_STATIC), or NULL as SQL NULL. */
int store_bind_text(sqlite3_stmt *s, int i, const char *t);
/* Steps `s` and appends the first column of each row (JSON text),
 * comma-separated, to `out`; resets and clears `s`.  *ret_n (may be NULL)
 * gets the number of rows. */
int store_json_rows(struct store *st, sqlite3_stmt *s, struct buf *out, size_t *ret_n);

#endif
