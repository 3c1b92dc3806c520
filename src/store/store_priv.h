/*
 * store_priv.h - what the SQLite store's files share: the connection and
 * its helpers.  Included by src/store/ only; nothing else sees sqlite3.h.
 */
#ifndef HIKESHI_STORE_STORE_PRIV_H
#define HIKESHI_STORE_STORE_PRIV_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

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
    const char *record_id;              /* store_set_record_id (borrowed); NULL: none */
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

/* Times as the API shows them (SQL over a µs column). */
#define STORE_ISO(col) "strftime('%Y-%m-%dT%H:%M:%fZ', " col " / 1e6, 'unixepoch')"

/*
 * Statement helpers shared by the readers and writers (store_incident.c).
 * `fmt` binds the variadic arguments in order, one letter each: 'i'
 * int64_t, 'u' uint64_t, 't' const char * (NULL binds SQL NULL), 'd'
 * double.  `what` names the operation in error messages.
 */
/* Runs a statement that returns no row; the rows changed and the last
 * insert id when asked (either may be NULL). */
int store_exec_sql(struct store *st, const char *what, int64_t *ret_changes, int64_t *ret_id,
                   const char *sql, const char *fmt, ...);
/* Appends the first column of every row (JSON objects), comma-separated. */
int store_json_sql(struct store *st, const char *what, struct buf *out, size_t *ret_n,
                   const char *sql, const char *fmt, ...);
/* Appends the first column of the one row; -ENOENT with `missing`. */
int store_json_one(struct store *st, const char *what, const char *missing, struct buf *out,
                   const char *sql, const char *fmt, ...);
/* Calls row() on each row of `sql`, its ?1 bound to `arg` (unused when
 * `sql` has no parameter); stops at the first negative return and
 * returns it. */
int store_each_row(struct store *st, const char *what, const char *sql, int64_t arg,
                   int (*row)(sqlite3_stmt *s, void *ctx), void *ctx);
/* Steps to the statement's one row: 0 with *ret on it (the caller reads
 * and finalizes), -ENOENT with `missing`, or an error. */
int store_row_one(struct store *st, const char *what, const char *missing, sqlite3_stmt **ret,
                  const char *sql, const char *fmt, ...);

#endif
