/*
 * input_bulk.h - the Elasticsearch bulk API's body and answer (internal to
 * src/input/; input_http.c serves it).
 *
 * A bulk body is NDJSON: an action line ({"index":{...}}, "create",
 * "update" or "delete", with optional _index and _id), then for all but
 * delete one source line, the document.  Beats, Fluent Bit and Vector all
 * send index or create.  The parser hands each document of an index or
 * create to a callback (the input makes it a record) and notes one item
 * per action, from which the answer Beats read is written: took, errors,
 * and per item its action, _index, _id, result and status.
 *
 * Every byte is the sender's: lines are found with memchr, each action is
 * read by the strict JSON reader (util/jp.h), at most LIMIT_BULK_ITEMS
 * actions are taken per body.
 */
#ifndef HIKESHI_INPUT_INPUT_BULK_H
#define HIKESHI_INPUT_INPUT_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "util/jp.h"
#include "util/parse_err.h"

struct buf;

enum bulk_action {
    BULK_INDEX,
    BULK_CREATE,
    BULK_UPDATE,
    BULK_DELETE,
};

struct bulk_item {
    enum bulk_action action;
    int status;           /* HTTP status of the item: 201, 400, 404 ... */
    const char *error;    /* static reason when status >= 400, else NULL */
    struct jp_span index; /* the action's _index (a JSON string), or len 0 */
    struct jp_span id;    /* its _id, or len 0 */
};

/*
 * Called for each document of an index or create action: (doc, len) is the
 * source line without its line end, checked to be one JSON object.  Returns
 * 0 when taken, -E2BIG when too long to take (the item gets status 400),
 * or another negative errno, which stops the parse and is returned.
 */
typedef int (*bulk_doc_fn)(void *arg, const char *doc, size_t len);

/*
 * Parses body (p, n).  On success returns 0 with the items in *ret_items
 * (heap, free() them; NULL when there are none) and their count.  A
 * malformed action line, a missing source line or more than
 * LIMIT_BULK_ITEMS actions fail the whole body: -EINVAL with *reterr (the
 * byte offset and why).  A source line that is not one JSON object fails
 * its item only.  -ENOMEM, or the callback's error.
 */
int bulk_parse(const char *p, size_t n, bulk_doc_fn cb, void *arg, struct bulk_item **ret_items,
               size_t *ret_n, struct parse_err *reterr);

/*
 * Writes the answer Beats and the other shippers read: {"took":..,
 * "errors":..,"items":[{"index":{"_index":..,"_id":..,"_version":1,
 * "result":"created","status":201,...}}, ...]}.  `url_index` (may be NULL)
 * names the index of items without one (the URL's); ids missing from the
 * request are made from `id_base` and the item's position.
 */
int bulk_response(const struct bulk_item *items, size_t n, int64_t took_ms, const char *url_index,
                  uint64_t id_base, struct buf *out);

#endif
