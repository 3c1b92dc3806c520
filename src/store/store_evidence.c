/*
 * store_evidence.c - the evidence register's rows (schema 11): items with
 * their fixed records and incident links, the custody lines of each item,
 * and the evidence key chain's seal lines.  The lines are written and
 * checked by src/evidence/; here they are only kept and read back in order.
 */
#include <errno.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_priv.h"

int store_evidence_next_id(struct store *st, int64_t *ret)
{
    sqlite3_stmt *s;
    int r;

    r = store_row_one(st, "numbering an evidence item", "no row", &s,
                      "SELECT coalesce(max(id), 0) + 1 FROM evidence_items", "");
    if (r < 0)
        return r;
    *ret = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

int store_evidence_item_add(struct store *st, int64_t id, const char *sha256, const char *record,
                            const int64_t *incidents, size_t n_incidents)
{
    int r;

    r = store_exec_sql(st, "adding an evidence item", NULL, NULL,
                       "INSERT INTO evidence_items (id, sha256, record) VALUES (?, ?, ?)", "itt",
                       id, sha256, record);
    for (size_t i = 0; r == 0 && i < n_incidents; i++)
        r = store_exec_sql(st, "linking an evidence item", NULL, NULL,
                           "INSERT OR IGNORE INTO evidence_links (item_id, incident_id) "
                           "VALUES (?, ?)",
                           "ii", id, incidents[i]);
    return r;
}

int store_evidence_item_get(struct store *st, int64_t id, struct buf *out)
{
    return store_json_one(st, "reading an evidence item", "no such evidence item", out,
                          "SELECT record FROM evidence_items WHERE id = ?", "i", id);
}

int store_evidence_items(struct store *st, int64_t incident, struct buf *out, size_t *ret_n)
{
    if (incident == 0)
        return store_json_sql(st, "listing evidence", out, ret_n,
                              "SELECT record FROM evidence_items ORDER BY id", "");
    return store_json_sql(st, "listing evidence", out, ret_n,
                          "SELECT i.record FROM evidence_items i JOIN evidence_links l "
                          "ON l.item_id = i.id WHERE l.incident_id = ? ORDER BY i.id",
                          "i", incident);
}

struct ids_ctx {
    int64_t *ids;
    size_t cap, n;
};

static int id_row(sqlite3_stmt *s, void *arg)
{
    struct ids_ctx *c = arg;

    if (c->n < c->cap)
        c->ids[c->n] = sqlite3_column_int64(s, 0);
    c->n++;
    return 0;
}

int store_evidence_item_ids(struct store *st, int64_t incident, int64_t *ret, size_t cap,
                            size_t *ret_n)
{
    struct ids_ctx c = {ret, cap, 0};
    int r;

    if (incident == 0)
        r = store_each_row(st, "listing evidence", "SELECT id FROM evidence_items ORDER BY id", 0,
                           id_row, &c);
    else
        r = store_each_row(st, "listing evidence",
                           "SELECT item_id FROM evidence_links WHERE incident_id = ?1 "
                           "ORDER BY item_id",
                           incident, id_row, &c);
    *ret_n = c.n;
    return r;
}

int store_evidence_custody_add(struct store *st, int64_t id, uint64_t seq, const char *line)
{
    return store_exec_sql(st, "adding a custody entry", NULL, NULL,
                          "INSERT INTO evidence_custody (item_id, seq, line) VALUES (?, ?, ?)",
                          "iut", id, seq, line);
}

int store_evidence_custody(struct store *st, int64_t id, struct buf *out, size_t *ret_n)
{
    return store_json_sql(st, "reading a custody log", out, ret_n,
                          "SELECT line FROM evidence_custody WHERE item_id = ? ORDER BY seq", "i",
                          id);
}

int store_evidence_seal_add(struct store *st, uint64_t epoch, const char *line)
{
    return store_exec_sql(st, "adding an evidence seal", NULL, NULL,
                          "INSERT INTO evidence_seals (epoch, line) VALUES (?, ?)", "ut", epoch,
                          line);
}

int store_evidence_seals(struct store *st, uint64_t below, struct buf *out, size_t *ret_n)
{
    if (below > INT64_MAX)
        below = INT64_MAX;
    return store_json_sql(st, "reading the evidence seals", out, ret_n,
                          "SELECT line FROM evidence_seals WHERE epoch < ? ORDER BY epoch", "u",
                          below);
}

int store_evidence_seal_count(struct store *st, uint64_t *ret_count, uint64_t *ret_next)
{
    sqlite3_stmt *s;
    int r;

    r = store_row_one(st, "counting the evidence seals", "no row", &s,
                      "SELECT count(*), coalesce(max(epoch) + 1, 0) FROM evidence_seals", "");
    if (r < 0)
        return r;
    *ret_count = (uint64_t)sqlite3_column_int64(s, 0);
    *ret_next = (uint64_t)sqlite3_column_int64(s, 1);
    sqlite3_finalize(s);
    return 0;
}
