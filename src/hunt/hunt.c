/*
 * hunt.c - the hunt engine: archive records in, matching decoded events
 * out, one at a time (see hunt.h).
 *
 * A record is decoded only when the raw text may match (the query's
 * three-valued prefilter), because decoding costs more than reading; a
 * query of words alone never decodes.  Records are decoded as the daemon
 * decodes them: with the decoder and time zone of the input that received
 * them, looked up by the input name the archive kept (an input no longer
 * configured: auto-detection).  A block whose index shows that it holds
 * none of the words the query requires is not read at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/archive.h"
#include "conf/config.h"
#include "decode/decode.h"
#include "detect/detect_sigma.h"
#include "event/event.h"
#include "event/time.h"
#include "hunt/hunt.h"
#include "hunt/hunt_query.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/netaddr.h"

/* Records between two looks at the clock for the time budget. */
#define HUNT_CLOCK_EVERY 1024

struct hunt {
    const struct config *cfg;   /* borrowed */
    struct hunt_query *q;       /* NULL: Sigma only */
    struct detect_sigma *sigma; /* NULL: query only */
    struct arena arena;         /* the current event's */
    struct event ev;
    /* The last input looked up, since records come in runs of one input. */
    char in_name[ARCHIVE_INPUT_NAME_MAX + 1];
    size_t in_len;
    int in_valid;
    const struct decoder *in_dec;
    const struct tz *in_tz;
};

struct sigma_load_err {
    char *err;
    size_t errlen;
    int n;
};

static void sigma_report(void *arg, const char *msg)
{
    struct sigma_load_err *e = arg;

    if (e->n++ == 0)
        snprintf(e->err, e->errlen, "%s", msg);
}

static int load_sigma(struct hunt *h, const char *path, char *err, size_t errlen)
{
    struct sigma_load_err le = {.err = err, .errlen = errlen};
    int r;

    if (!h->cfg->sigma_mappings) {
        snprintf(err, errlen, "%s: no sigma.mappings in the configuration to route the rule", path);
        return -EINVAL;
    }
    r = detect_sigma_new(&path, 1, h->cfg->sigma_mappings, NULL, sigma_report, &le, &h->sigma, err,
                         errlen);
    if (r < 0)
        return r;
    if (detect_sigma_loaded(h->sigma) == 0) {
        if (le.n == 0)
            snprintf(err, errlen, "%s: no Sigma detection rule in the file", path);
        return -EINVAL;
    }
    return 0;
}

int hunt_new(const struct config *cfg, const char *query, size_t len, const char *sigma_path,
             struct hunt **ret, char *err, size_t errlen)
{
    struct hunt *h;
    struct parse_err pe = {0};
    int r = 0;

    *ret = NULL;
    if (!(h = calloc(1, sizeof(*h))))
        return -ENOMEM;
    h->cfg = cfg;
    arena_init(&h->arena, LIMIT_ARENA_MAX);
    if (query && (r = hunt_query_parse(query, len, &h->q, &pe)) < 0) {
        if (r == -EINVAL)
            snprintf(err, errlen, "query, at byte %zu: %s", pe.off, pe.msg ? pe.msg : "invalid");
        goto out;
    }
    if (sigma_path && (r = load_sigma(h, sigma_path, err, errlen)) < 0)
        goto out;
    if (!h->q && !h->sigma) {
        snprintf(err, errlen, "no query and no Sigma rule");
        r = -EINVAL;
    }
out:
    if (r < 0) {
        hunt_free(h);
        return r;
    }
    *ret = h;
    return 0;
}

void hunt_free(struct hunt *h)
{
    if (!h)
        return;
    hunt_query_free(h->q);
    detect_sigma_free(h->sigma);
    arena_done(&h->arena);
    free(h);
}

/* The decoder and zone of the input the record came from. */
static void input_of(struct hunt *h, const struct archive_record *rec)
{
    const struct config_input *in;

    if (h->in_valid && rec->input_len == h->in_len &&
        memcmp(rec->input, h->in_name, h->in_len) == 0)
        return;
    memcpy(h->in_name, rec->input, rec->input_len);
    h->in_name[rec->input_len] = '\0';
    h->in_len = rec->input_len;
    h->in_valid = 1;
    h->in_dec = NULL;
    h->in_tz = h->cfg->tz;
    if ((in = config_input_find(h->cfg, h->in_name))) {
        if (in->decoder && strcmp(in->decoder, "auto") != 0)
            h->in_dec = decode_lookup(in->decoder);
        if (in->tz)
            h->in_tz = in->tz;
    }
}

static void count_sigma(void *arg, const struct sigma_rule *r)
{
    (void)r;
    (*(size_t *)arg)++;
}

/* Decodes the record into h->ev as the pipeline would. */
static void decode(struct hunt *h, const struct archive_record *rec, struct hunt_stats *st)
{
    struct decode_ctx ctx = {0};
    struct parse_err pe;

    input_of(h, rec);
    ctx.ref_us = rec->recv_us;
    ctx.tz = h->in_tz;
    st->decoded++;
    if (decode_record(&h->ev, h->in_dec, &ctx, &pe) < 0) {
        /* Unparsed: raw only, as the pipeline keeps it. */
        h->ev.nfields = 0;
        h->ev.decoder = NULL;
        h->ev.time_us = rec->recv_us;
        h->ev.has_time = 0;
    }
}

/* 1 when the record matches, else 0. */
static int examine(struct hunt *h, const struct archive_record *rec, int want_decoded,
                   struct hunt_stats *st)
{
    size_t hits = 0;
    int decoded = 0;

    if (h->q && !hunt_query_prefilter(h->q, (const char *)rec->raw, rec->raw_len))
        return 0;
    arena_reset(&h->arena);
    event_init(&h->ev, &h->arena, (const char *)rec->raw, rec->raw_len, rec->recv_us);
    if (h->sigma || (h->q && hunt_query_needs_fields(h->q))) {
        decode(h, rec, st);
        decoded = 1;
    }
    if (h->q && !hunt_query_match(h->q, &h->ev))
        return 0;
    if (want_decoded && !decoded)
        decode(h, rec, st);
    if (h->sigma) {
        /* detect_sigma_match adds the mapped names to the event; the
         * caller sees the event as decoded (the aliases hidden again). */
        detect_sigma_match(h->sigma, &h->ev, count_sigma, &hits);
        if (hits == 0)
            return 0;
    }
    return 1;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int index_may_contain(const void *ctx, const char *text, size_t len)
{
    return archive_index_may_contain(ctx, text, len);
}

static int block_may_match(void *ctx, const struct archive_index *ix)
{
    const struct hunt *h = ctx;

    return hunt_query_block_may_match(h->q, index_may_contain, ix);
}

int hunt_run(struct hunt *h, const struct hunt_opts *o, hunt_emit_fn emit, void *arg,
             struct hunt_stats *st)
{
    struct archive_reader *rd = NULL;
    struct archive_record rec;
    int64_t start = o->budget_us > 0 ? now_us() : 0;
    int r;

    memset(st, 0, sizeof(*st));
    if ((r = archive_reader_open(o->dir, o->from_us, o->to_us, &rd)) < 0)
        return r;
    if (o->from_record)
        archive_reader_from_record(rd, o->from_record);
    if (h->q && !o->no_index)
        archive_reader_set_index(rd, block_may_match, h);
    while ((r = archive_reader_next(rd, &rec)) == 1) {
        uint64_t no = archive_reader_record_no(rd);

        st->records++;
        st->raw_bytes += rec.raw_len;
        if (o->budget_us > 0 && st->records % HUNT_CLOCK_EVERY == 0 &&
            now_us() - start > o->budget_us) {
            st->stop = HUNT_STOP_BUDGET;
            st->next_record = no; /* this one not examined yet */
            break;
        }
        if (examine(h, &rec, o->decode, st) == 1) {
            struct hunt_hit hit = {.record_no = no, .rec = &rec, .ev = &h->ev};

            st->matched++;
            if ((r = emit(arg, &hit)) < 0)
                break;
            if (o->limit && st->matched >= o->limit) {
                st->stop = HUNT_STOP_LIMIT;
                st->next_record = no + 1;
                r = 0;
                break;
            }
        }
    }
    if (r == 1)
        r = 0;
    archive_reader_counts(rd, &st->blocks_read, &st->blocks_skipped, &st->blocks_corrupt);
    archive_reader_index_counts(rd, &st->blocks_index_skipped, &st->blocks_indexed);
    if (h->q)
        st->regex_errors = hunt_query_regex_errors(h->q);
    archive_reader_free(rd);
    arena_reset(&h->arena);
    return r;
}

void hunt_peer_format(const struct archive_record *rec, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

    buf[0] = '\0';
    memset(&ss, 0, sizeof(ss));
    if (rec->peer_family == 4) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(rec->peer_port);
        memcpy(&in4->sin_addr, rec->peer_addr, 4);
    } else if (rec->peer_family == 6) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(rec->peer_port);
        memcpy(&in6->sin6_addr, rec->peer_addr, 16);
    } else {
        return;
    }
    netaddr_format((const struct sockaddr *)&ss, buf, size);
}

int hunt_hit_json(const struct hunt_hit *hit, struct buf *out)
{
    char recv[64], t[64], peer[INET6_ADDRSTRLEN + 16];

    time_format_iso(hit->rec->recv_us, recv, sizeof(recv));
    time_format_iso(hit->ev->time_us, t, sizeof(t));
    hunt_peer_format(hit->rec, peer, sizeof(peer));
    buf_printf(out, "{\"record\":%llu,\"received\":\"%s\",\"time\":\"%s\",\"input\":",
               (unsigned long long)hit->record_no, recv, t);
    buf_json_str(out, hit->rec->input, hit->rec->input_len);
    buf_puts(out, ",\"peer\":");
    if (peer[0])
        buf_json_str(out, peer, strlen(peer));
    else
        buf_puts(out, "null");
    buf_puts(out, ",\"decoder\":");
    if (hit->ev->decoder)
        buf_json_str(out, hit->ev->decoder, strlen(hit->ev->decoder));
    else
        buf_puts(out, "null");
    buf_puts(out, ",\"raw\":");
    buf_json_str(out, (const char *)hit->rec->raw, hit->rec->raw_len);
    buf_puts(out, ",\"fields\":");
    if (event_fields_json(hit->ev, out) < 0)
        return -ENOMEM;
    return buf_putc(out, '}');
}
