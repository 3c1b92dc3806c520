/*
 * attest_build.c - gathering an attestation's clauses (attest.h): the
 * archive's walk (archive_proof_build: the chain whole, the seals, what
 * retention removed, what is not sealed yet), each source's records and
 * longest silence over the window (a read of the window's records), and
 * the query's scan (the hunt engine, with its statistics).  It refuses
 * rather than writes a statement that one clause contradicts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_proof.h"
#include "evidence/attest.h"
#include "evidence/evidence_excerpt.h"
#include "hunt/hunt.h"
#include "util/hex.h"

static int count_hit(void *arg, const struct hunt_hit *hit)
{
    (void)arg;
    (void)hit;
    return 0;
}

static void refuse(struct attest_refusal *ref, const char *clause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct attest_refusal *ref, const char *clause, const char *fmt, ...)
{
    va_list ap;

    snprintf(ref->clause, sizeof(ref->clause), "%s", clause);
    va_start(ap, fmt);
    vsnprintf(ref->why, sizeof(ref->why), fmt, ap);
    va_end(ap);
}

/* 1 when record `rec` is one of source `s`'s. */
static int source_has(const struct attest_source *s, const struct archive_record *rec)
{
    const char *slash = strchr(s->name, '/');
    size_t nl = slash ? (size_t)(slash - s->name) : strlen(s->name);
    char peer[80], *colon;

    if (rec->input_len != nl || memcmp(rec->input, s->name, nl) != 0)
        return 0;
    if (!slash)
        return 1;
    archive_proof_peer_format(rec, peer, sizeof(peer));
    /* The sender without its port; an IPv6 one without its brackets. */
    if ((colon = strrchr(peer, ':')))
        *colon = '\0';
    if (peer[0] == '[') {
        size_t n = strlen(peer);

        memmove(peer, peer + 1, n);
        if (n >= 2 && peer[n - 2] == ']')
            peer[n - 2] = '\0';
    }
    return strcmp(peer, slash + 1) == 0;
}

static void gap(struct attest_source *s, int64_t from, int64_t to)
{
    if (to - from > s->gap_us) {
        s->gap_us = to - from;
        s->gap_from_us = from;
        s->gap_to_us = to;
    }
}

/* Each source's records and longest silence over the window. */
static int read_sources(struct attest_req *q, struct attest_refusal *ref)
{
    struct archive_reader *rd = NULL;
    struct archive_record rec;
    uint64_t nread, skipped, corrupt;
    int r;

    for (size_t i = 0; i < q->nsources; i++) {
        q->sources[i].records = 0;
        q->sources[i].gap_us = -1;
    }
    if ((r = archive_reader_open(q->archive_dir, q->from_us, q->to_us, &rd)) < 0)
        return r;
    while ((r = archive_reader_next(rd, &rec)) == 1)
        for (size_t i = 0; i < q->nsources; i++) {
            struct attest_source *s = &q->sources[i];

            if (!source_has(s, &rec))
                continue;
            gap(s, s->records ? s->last_us : q->from_us, rec.recv_us);
            if (!s->records)
                s->first_us = rec.recv_us;
            if (!s->records || rec.recv_us > s->last_us)
                s->last_us = rec.recv_us;
            s->records++;
        }
    archive_reader_counts(rd, &nread, &skipped, &corrupt);
    archive_reader_free(rd);
    if (r < 0)
        return r;
    if (corrupt) {
        refuse(ref, "archive",
               "%" PRIu64 " damaged block(s) in the window: run hikeshi archive verify", corrupt);
        return 1;
    }
    for (size_t i = 0; i < q->nsources; i++) {
        struct attest_source *s = &q->sources[i];

        gap(s, s->records ? s->last_us : q->from_us, q->to_us);
    }
    return 0;
}

static int put_time(struct buf *b, const char *key, int64_t us)
{
    char t[32];

    evidence_time_format(us, t);
    return buf_printf(b, "\"%s\":\"%s\"", key, t);
}

static int write_doc(struct attest_req *q, const struct hunt_stats *st,
                     const struct archive_proof_facts *f, const struct buf *seals, struct buf *out)
{
    char from[32], to[32], idhex[33], pubhex[65];
    struct buf names;
    char *stmt = NULL;
    size_t cap;
    int r = -E2BIG;

    buf_init(&names, 64 * 1024);
    evidence_time_format(q->from_us, from);
    evidence_time_format(q->to_us, to);
    for (size_t i = 0; i < q->nsources; i++)
        if ((i && buf_puts(&names, ", ") < 0) || buf_puts(&names, q->sources[i].name) < 0)
            goto out;
    cap = strlen(q->query) + names.len + 1024;
    if (!(stmt = malloc(cap))) {
        r = -ENOMEM;
        goto out;
    }
    attest_statement(from, to, names.data ? names.data : "", q->query, st->matched, stmt, cap);
    hex_encode(f->archive_id, 16, idhex);
    hex_encode(q->archive_pub, 32, pubhex);
    if (buf_printf(out, "{\"format\":\"%s\",\"statement\":", ATTEST_FORMAT) < 0 ||
        buf_json_str(out, stmt, strlen(stmt)) < 0 ||
        buf_printf(out,
                   ",\"from\":\"%s\",\"from_us\":%" PRId64 ",\"to\":\"%s\",\"to_us\":%" PRId64
                   ",\"query\":",
                   from, q->from_us, to, q->to_us) < 0 ||
        buf_json_str(out, q->query, strlen(q->query)) < 0 ||
        buf_printf(out, ",\"matched\":%" PRIu64 ",\"verdict\":\"%s\",\"sources\":[", st->matched,
                   st->matched ? "occurred" : "not-occurred") < 0)
        goto out;
    for (size_t i = 0; i < q->nsources; i++) {
        const struct attest_source *s = &q->sources[i];

        if ((i && buf_putc(out, ',') < 0) || buf_puts(out, "{\"source\":") < 0 ||
            buf_json_str(out, s->name, strlen(s->name)) < 0 ||
            buf_printf(out,
                       ",\"records\":%" PRIu64 ",\"first_us\":%" PRId64 ",\"last_us\":%" PRId64
                       ",\"expected_interval_us\":%" PRId64 ",\"interval_from\":\"%s\","
                       "\"max_gap_us\":%" PRId64 ",",
                       s->records, s->first_us, s->last_us, s->every_us, s->every_from,
                       s->gap_us) < 0 ||
            put_time(out, "max_gap_from", s->gap_from_us) < 0 || buf_putc(out, ',') < 0 ||
            put_time(out, "max_gap_to", s->gap_to_us) < 0 || buf_putc(out, '}') < 0)
            goto out;
    }
    if (buf_printf(out,
                   "],\"scan\":{\"records\":%" PRIu64 ",\"decoded\":%" PRIu64
                   ",\"matched\":%" PRIu64 ",\"blocks_read\":%" PRIu64
                   ",\"blocks_index_skipped\":%" PRIu64 ",\"blocks_corrupt\":%" PRIu64 "}",
                   st->records, st->decoded, st->matched, st->blocks_read, st->blocks_index_skipped,
                   st->blocks_corrupt) < 0 ||
        buf_printf(out,
                   ",\"completeness\":{\"segments\":%" PRIu64 ",\"tombstones\":%" PRIu64
                   ",\"seals\":%" PRIu64 ",\"records\":%" PRIu64 ",\"sealed_records\":%" PRIu64
                   ",\"sealed_t_max_us\":%" PRId64 ",\"removed_in_window\":%" PRIu64
                   ",\"unsealed_in_window\":0}",
                   f->segments, f->tombstones, f->seals, f->records, f->sealed_records,
                   f->sealed_t_max, f->window_tombs) < 0 ||
        buf_printf(out, ",\"archive\":{\"id\":\"%s\",\"public_key\":\"%s\",\"seals\":", idhex,
                   pubhex) < 0 ||
        buf_append(out, seals->data, seals->len) < 0 || buf_puts(out, ",\"frames\":[]}}\n") < 0)
        goto out;
    r = 0;
out:
    buf_done(&names);
    free(stmt);
    return r;
}

int attest_build(const struct config *cfg, struct attest_req *q, struct buf *out,
                 uint64_t *ret_matched, struct attest_refusal *ref)
{
    struct archive_proof_facts f;
    struct hunt_opts o = {0};
    struct hunt_stats st;
    struct hunt *h = NULL;
    struct buf seals, frames;
    char err[400], t1[32], t2[32];
    int r;

    memset(ref, 0, sizeof(*ref));
    buf_init(&seals, EVIDENCE_EXCERPT_MAX / 2);
    buf_init(&frames, 1024);
    if ((r = hunt_new(cfg, q->query, strlen(q->query), NULL, &h, err, sizeof(err))) < 0) {
        refuse(ref, "query", "%s", err);
        goto out;
    }
    /* Clause: the archive is complete (and what its seals are). */
    r = archive_proof_build(q->archive_dir, NULL, 0, q->from_us, q->to_us, &seals, &frames, NULL,
                            &f);
    if (r < 0) {
        refuse(ref, "archive", "reading the archive %s: %s", q->archive_dir, strerror(-r));
        goto out;
    }
    if (f.fault[0]) {
        refuse(ref, "archive", "the archive is not whole: %s", f.fault);
        r = 1;
        goto out;
    }
    if (f.window_tombs) {
        evidence_time_format(f.window_tomb_t_min, t1);
        evidence_time_format(f.window_tomb_t_max, t2);
        refuse(ref, "archive",
               "segment %" PRIu64 " was removed by retention and held records from %s to %s, "
               "inside the window",
               f.window_tomb_seq, t1, t2);
        r = 1;
        goto out;
    }
    if (f.unsealed_t_min < q->to_us) {
        evidence_time_format(f.unsealed_t_min, t1);
        refuse(ref, "archive",
               "records received from %s on (inside the window) are not sealed yet: attest "
               "after the archive's next seal",
               t1);
        r = 1;
        goto out;
    }
    if (f.seals == 0) {
        refuse(ref, "archive", "the archive has no seal (no archive key): nothing to attest by");
        r = 1;
        goto out;
    }
    /* Clause: each source alive. */
    if ((r = read_sources(q, ref)) != 0) {
        if (r < 0)
            refuse(ref, "archive", "reading the window: %s", strerror(-r));
        goto out;
    }
    for (size_t i = 0; i < q->nsources; i++) {
        const struct attest_source *s = &q->sources[i];

        if (s->gap_us > s->every_us) {
            evidence_time_format(s->gap_from_us, t1);
            evidence_time_format(s->gap_to_us, t2);
            refuse(ref, "source",
                   "source %s was silent from %s to %s (%" PRId64 " s, longer than its expected "
                   "interval of %" PRId64 " s, from %s)%s",
                   s->name, t1, t2, s->gap_us / 1000000, s->every_us / 1000000, s->every_from,
                   s->records ? "" : "; it sent nothing in the window");
            r = 1;
            goto out;
        }
    }
    /* Clause: the query. */
    o.dir = q->archive_dir;
    o.from_us = q->from_us;
    o.to_us = q->to_us;
    if ((r = hunt_run(h, &o, count_hit, NULL, &st)) < 0) {
        refuse(ref, "query", "scanning the archive: %s", strerror(-r));
        goto out;
    }
    if (st.blocks_corrupt) {
        refuse(ref, "archive", "%" PRIu64 " damaged block(s) in the window", st.blocks_corrupt);
        r = 1;
        goto out;
    }
    if ((r = write_doc(q, &st, &f, &seals, out)) < 0) {
        refuse(ref, "archive", "the attestation is larger than its cap");
        goto out;
    }
    *ret_matched = st.matched;
out:
    hunt_free(h);
    buf_done(&seals);
    buf_done(&frames);
    return r;
}
