/*
 * input_bulk.c - the Elasticsearch bulk API's body and answer (see
 * input_bulk.h).
 *
 * Only what shippers send is understood: the action line's _index and _id
 * (other metadata, such as pipeline or require_alias, is skipped), and a
 * document per index or create.  update and delete are answered (the
 * update's body is not a log record, and a log record is never deleted)
 * without making records.
 */
#include "input/input_bulk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/limits.h"

static const struct {
    const char *name;
    enum bulk_action action;
} bulk_actions[] = {
    {"index", BULK_INDEX},
    {"create", BULK_CREATE},
    {"update", BULK_UPDATE},
    {"delete", BULK_DELETE},
};

/* The next line of p[*pos..n) without its LF (and a CR before it); 0 at
 * the end.  Blank lines are skipped. */
static int next_line(const char *p, size_t n, size_t *pos, const char **ret, size_t *ret_len,
                     size_t *ret_off)
{
    while (*pos < n) {
        const char *s = p + *pos, *e = memchr(s, '\n', n - *pos);
        size_t len = e ? (size_t)(e - s) : n - *pos;
        size_t k = 0;

        *ret_off = *pos;
        *pos += len + (e ? 1 : 0);
        if (len > 0 && s[len - 1] == '\r')
            len--;
        while (k < len && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k == len)
            continue;
        *ret = s;
        *ret_len = len;
        return 1;
    }
    return 0;
}

/* Reads one action line into *it.  -EINVAL with *reterr (offset in the
 * line; the caller adds the line's) when it is not {"action":{...}}. */
static int parse_action(const char *line, size_t len, struct bulk_item *it,
                        struct parse_err *reterr)
{
    struct jp j = {line, len, 0, reterr, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int first = 1, r;
    size_t k, at;

    memset(it, 0, sizeof(*it));

    if ((r = jp_expect(&j, '{', "action line: expected an object")) < 0)
        return r;
    at = j.off;
    if ((r = jp_member(&j, &first, key)) <= 0)
        return r < 0 ? r : jp_fail(&j, "action line: empty object");
    for (k = 0; k < sizeof(bulk_actions) / sizeof(bulk_actions[0]); k++)
        if (strcmp(key, bulk_actions[k].name) == 0)
            break;
    if (k == sizeof(bulk_actions) / sizeof(bulk_actions[0])) {
        j.off = at; /* the error names where the action's name starts */
        return jp_fail(&j, "action line: not index, create, update or delete");
    }
    it->action = bulk_actions[k].action;
    if ((r = jp_expect(&j, '{', "action line: expected the action's metadata object")) < 0)
        return r;
    first = 1;
    while ((r = jp_member(&j, &first, key)) == 1) {
        struct jp_span v;

        if ((r = jp_skip(&j, 4, &v)) < 0)
            return r;
        if (strcmp(key, "_index") == 0 && v.p[0] == '"')
            it->index = v;
        else if (strcmp(key, "_id") == 0 && v.p[0] == '"')
            it->id = v;
    }
    if (r < 0)
        return r;
    first = 0;
    if ((r = jp_member(&j, &first, key)) != 0)
        return r < 0 ? r : jp_fail(&j, "action line: one action per line");
    return jp_end(&j);
}

/* The source line of an index or create: one JSON object, handed over. */
static int take_doc(const char *line, size_t len, struct bulk_item *it, bulk_doc_fn cb, void *arg)
{
    struct jp_span doc;
    int r;

    if (jp_doc(line, len, &doc, NULL) < 0 || doc.p[0] != '{') {
        it->status = 400;
        it->error = "the document is not one JSON object";
        return 0;
    }
    r = cb(arg, line, len);
    if (r == -E2BIG) {
        it->status = 400;
        it->error = "the document is longer than the input's max_line";
        return 0;
    }
    if (r < 0)
        return r;
    it->status = 201;
    return 0;
}

int bulk_parse(const char *p, size_t n, bulk_doc_fn cb, void *arg, struct bulk_item **ret_items,
               size_t *ret_n, struct parse_err *reterr)
{
    struct bulk_item *items = NULL;
    size_t nitems = 0, cap = 0, pos = 0, len, off;
    const char *line;
    int r = 0;

    *ret_items = NULL;
    *ret_n = 0;
    while (next_line(p, n, &pos, &line, &len, &off)) {
        struct bulk_item *it;

        if (nitems == LIMIT_BULK_ITEMS) {
            parse_err_set(reterr, off, "more actions in one body than hikeshi takes");
            r = -EINVAL;
            goto out;
        }
        if (nitems == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct bulk_item *ni;

            if (nc > LIMIT_BULK_ITEMS)
                nc = LIMIT_BULK_ITEMS;
            if (!(ni = realloc(items, nc * sizeof(*ni)))) {
                r = -ENOMEM;
                goto out;
            }
            items = ni;
            cap = nc;
        }
        it = &items[nitems++];
        if ((r = parse_action(line, len, it, reterr)) < 0) {
            if (reterr)
                reterr->off += off;
            goto out;
        }
        if (it->action == BULK_DELETE) {
            it->status = 404; /* nothing is ever stored to delete */
            continue;
        }
        if (!next_line(p, n, &pos, &line, &len, &off)) {
            parse_err_set(reterr, n, "the last action has no document line");
            r = -EINVAL;
            goto out;
        }
        if (it->action == BULK_UPDATE) {
            it->status = 200; /* a partial update is no log record: answered only */
            continue;
        }
        if ((r = take_doc(line, len, it, cb, arg)) < 0)
            goto out;
    }
out:
    if (r < 0) {
        free(items);
        return r;
    }
    *ret_items = items;
    *ret_n = nitems;
    return 0;
}

static int item_json(const struct bulk_item *it, size_t i, const char *url_index, uint64_t id_base,
                     struct buf *out)
{
    static const char *const names[] = {"index", "create", "update", "delete"};
    int r;

    r = buf_printf(out, "%s{\"%s\":{\"_index\":", i ? "," : "", names[it->action]);
    if (!r && it->index.len)
        r = buf_append(out, it->index.p, it->index.len);
    else if (!r)
        r = buf_json_str(out, url_index ? url_index : "hikeshi",
                         strlen(url_index ? url_index : "hikeshi"));
    r = r ? r : buf_puts(out, ",\"_id\":");
    if (!r && it->id.len)
        r = buf_append(out, it->id.p, it->id.len);
    else if (!r)
        r = buf_printf(out, "\"hk%016llx%06zx\"", (unsigned long long)id_base, i);
    if (r)
        return r;
    if (it->status >= 400 && it->status != 404)
        return buf_printf(out, ",\"status\":%d,\"error\":{\"type\":\"%s\",\"reason\":\"%s\"}}}",
                          it->status, "mapper_parsing_exception", it->error ? it->error : "");
    return buf_printf(out,
                      ",\"_version\":1,\"result\":\"%s\",\"_shards\":{\"total\":1,"
                      "\"successful\":%d,\"failed\":0},\"_seq_no\":%zu,\"_primary_term\":1,"
                      "\"status\":%d}}",
                      it->status == 404   ? "not_found"
                      : it->status == 200 ? "noop"
                                          : "created",
                      it->status == 404 ? 0 : 1, i, it->status);
}

int bulk_response(const struct bulk_item *items, size_t n, int64_t took_ms, const char *url_index,
                  uint64_t id_base, struct buf *out)
{
    int errors = 0, r;

    for (size_t i = 0; i < n; i++)
        if (items[i].status >= 400 && items[i].status != 404)
            errors = 1;
    r = buf_printf(out, "{\"took\":%lld,\"errors\":%s,\"items\":[", (long long)took_ms,
                   errors ? "true" : "false");
    for (size_t i = 0; !r && i < n; i++)
        r = item_json(&items[i], i, url_index, id_base, out);
    return r ? r : buf_puts(out, "]}");
}
