/*
 * api_events.c - GET /api/v1/events: the hunt (src/hunt/, docs/hunt.md)
 * over the daemon's archive, one page at a time.
 *
 * The HTTP endpoint answers on one thread, so a page is bounded three
 * ways: `limit` matches, a time budget, and a byte budget for the answer.
 * Whichever stops the page first, `next_cursor` says where the next one
 * starts (a record number of the archive), so a client pages through the
 * whole range and gets every match exactly once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_util.h"
#include "event/time.h"
#include "hunt/hunt.h"
#include "hunt/hunt_query.h"

/* Wall time one page may take (the endpoint's thread is shared). */
#define API_EVENTS_BUDGET_US (1000 * 1000)
/* The answer stops taking matches past this many bytes. */
#define API_EVENTS_BODY_MAX (8 * 1024 * 1024)

struct page {
    struct buf *b;
    uint64_t n;
    uint64_t last; /* record number of the last match written */
};

static int page_add(void *arg, const struct hunt_hit *hit)
{
    struct page *pg = arg;
    size_t mark = pg->b->len;
    int r;

    if (pg->n && (r = buf_putc(pg->b, ',')) < 0)
        return r;
    if ((r = hunt_hit_json(hit, pg->b)) < 0) {
        pg->b->len = mark; /* the answer stays whole; the match goes to the next page */
        if (pg->b->data)
            pg->b->data[mark] = '\0';
        return pg->n ? -ENOBUFS : r;
    }
    pg->n++;
    pg->last = hit->record_no;
    return pg->b->len >= API_EVENTS_BODY_MAX ? -ENOBUFS : 0;
}

static int query_time(struct api_call *c, const char *key, int64_t def, int64_t *ret)
{
    const char *v = api_util_query_str(c, key);
    size_t n, used = 0;

    *ret = def;
    if (!v)
        return 0;
    n = strlen(v);
    if (time_parse_iso8601(v, n, NULL, ret, &used) == 0 && used == n)
        return 0;
    used = 0;
    if (time_parse_epoch(v, n, ret, &used) == 0 && used == n)
        return 0;
    return -EINVAL;
}

static const char *stop_name(enum hunt_stop s)
{
    switch (s) {
    case HUNT_STOP_LIMIT: return "limit";
    case HUNT_STOP_BUDGET: return "budget";
    default: return "end";
    }
}

void api_events_list(struct api_call *c)
{
    const struct api_sources *src = c->ctx->src;
    const char *q = api_util_query_str(c, "q");
    struct hunt_opts o = {.decode = 1, .budget_us = API_EVENTS_BUDGET_US};
    struct hunt_query *hq = NULL;
    struct parse_err pe = {0};
    struct hunt_stats st = {0};
    struct hunt *h = NULL;
    struct page pg = {.b = &c->resp->body};
    char dir[4096 + 16], err[512];
    int64_t limit, cursor;
    uint64_t next = 0;
    int r, has_next;

    if (!src || !src->cfg || !src->data_dir) {
        api_util_answer_error(c, 503, "no archive configured", -1, NULL);
        return;
    }
    if (!q || !*q) {
        api_util_answer_error(c, 400, "q (the query) is required", -1, "q");
        return;
    }
    if ((r = hunt_query_parse(q, strlen(q), &hq, &pe)) < 0) {
        if (r == -EINVAL)
            api_util_answer_error(c, 400, pe.msg ? pe.msg : "invalid query", (long)pe.off, "q");
        else
            api_util_answer_error(c, 500, "out of memory", -1, NULL);
        return;
    }
    hunt_query_free(hq);
    if (api_util_query_int(c, "limit", 1, API_UTIL_LIST_MAX, API_UTIL_LIST_DEFAULT, &limit) < 0 ||
        api_util_query_int(c, "cursor", 0, INT64_MAX, 0, &cursor) < 0) {
        api_util_answer_error(c, 400, "limit must be 1 to 500 and cursor a record number", -1,
                              NULL);
        return;
    }
    if (query_time(c, "from", INT64_MIN, &o.from_us) < 0 ||
        query_time(c, "to", INT64_MAX, &o.to_us) < 0 || o.from_us >= o.to_us) {
        api_util_answer_error(c, 400,
                              "from and to are ISO 8601 times or seconds since the epoch, from "
                              "before to",
                              -1, NULL);
        return;
    }
    if ((r = hunt_new(src->cfg, q, strlen(q), NULL, &h, err, sizeof(err))) < 0) {
        api_util_answer_error(c, r == -ENOMEM ? 500 : 400, r == -ENOMEM ? "out of memory" : err, -1,
                              "q");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/archive", src->data_dir);
    o.dir = dir;
    o.from_record = (uint64_t)cursor;
    o.limit = (uint64_t)limit;
    r = buf_puts(pg.b, "{\"events\":[");
    if (r == 0)
        r = hunt_run(h, &o, page_add, &pg, &st);
    hunt_free(h);
    if (r == -ENOENT) {
        /* No archive yet: nothing received, nothing to find. */
        buf_reset(pg.b);
        r = buf_puts(pg.b, "{\"events\":[");
        memset(&st, 0, sizeof(st));
    } else if (r == -ENOBUFS) {
        st.stop = HUNT_STOP_LIMIT;
        st.next_record = pg.last + 1;
        r = 0;
    } else if (r < 0) {
        api_util_answer_error(c, 500, strerror(-r), -1, NULL);
        return;
    }
    has_next = st.stop != HUNT_STOP_END;
    next = st.next_record;
    if (r == 0)
        r = buf_puts(pg.b, "],\"next_cursor\":");
    if (r == 0)
        r = has_next ? buf_printf(pg.b, "%" PRIu64, next) : buf_puts(pg.b, "null");
    if (r == 0)
        r = buf_printf(pg.b,
                       ",\"count\":%" PRIu64 ",\"scanned\":%" PRIu64 ",\"stopped\":\"%s\","
                       "\"damaged_blocks\":%" PRIu64 "}\n",
                       pg.n, st.records, stop_name(st.stop), st.blocks_corrupt);
    api_util_answer_json(c, 200, r);
}
