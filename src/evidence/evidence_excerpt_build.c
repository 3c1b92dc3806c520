/*
 * evidence_excerpt_build.c - building archive excerpts
 * (evidence_excerpt.h): a hunt over the archive collects the matching
 * record numbers, archive_proof_build copies out those records with the
 * frames and seals that prove them, and the document is registered as an
 * evidence item of kind archive-excerpt (copied into the evidence store,
 * so that export and verify treat it as any other file).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive_proof.h"
#include "evidence/evidence_excerpt.h"
#include "evidence/evidence_register.h"
#include "hunt/hunt.h"
#include "util/hex.h"

/* ---- building ---- */

struct collect {
    uint64_t *v;
    size_t n, cap;
};

static int collect_hit(void *arg, const struct hunt_hit *hit)
{
    struct collect *c = arg;

    if (c->n == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 64;
        uint64_t *nv = realloc(c->v, ncap * sizeof(*nv));

        if (!nv)
            return -ENOMEM;
        c->v = nv;
        c->cap = ncap;
    }
    c->v[c->n++] = hit->record_no;
    return 0;
}

static int put_time(struct buf *b, const char *key, int64_t us)
{
    char t[32];

    evidence_time_format(us, t);
    return buf_printf(b, ",\"%s\":\"%s\",\"%s_us\":%" PRId64, key, t, key, us);
}

int evidence_excerpt_build(const struct config *cfg, const char *archive_dir,
                           const uint8_t archive_pub[32], const char *query, int64_t from_us,
                           int64_t to_us, struct buf *out, char *err, size_t errlen)
{
    struct hunt_opts o = {0};
    struct hunt_stats st;
    struct archive_proof_facts facts;
    struct collect c = {0};
    struct hunt *h = NULL;
    struct buf seals, frames, records;
    char hex[65], idhex[33];
    int r;

    buf_init(&seals, EVIDENCE_EXCERPT_MAX / 4);
    buf_init(&frames, EVIDENCE_EXCERPT_MAX / 4);
    buf_init(&records, EVIDENCE_EXCERPT_MAX / 4);
    if ((r = hunt_new(cfg, query, strlen(query), NULL, &h, err, errlen)) < 0)
        goto out;
    o.dir = archive_dir;
    o.from_us = from_us;
    o.to_us = to_us;
    o.limit = ARCHIVE_PROOF_RECORDS_MAX + 1;
    if ((r = hunt_run(h, &o, collect_hit, &c, &st)) < 0) {
        snprintf(err, errlen, "reading the archive %s: %s", archive_dir, strerror(-r));
        goto out;
    }
    if (st.stop == HUNT_STOP_LIMIT) {
        snprintf(err, errlen,
                 "more than %d records match: narrow the query or the time range "
                 "(an excerpt is for reading, not bulk export)",
                 ARCHIVE_PROOF_RECORDS_MAX);
        r = -E2BIG;
        goto out;
    }
    if (st.blocks_corrupt) {
        snprintf(err, errlen,
                 "%" PRIu64 " damaged block(s) in the range: run hikeshi archive verify",
                 st.blocks_corrupt);
        r = -EBADMSG;
        goto out;
    }
    r = archive_proof_build(archive_dir, c.v, c.n, from_us, to_us, &seals, &frames, &records,
                            &facts);
    if (r < 0) {
        snprintf(err, errlen, "building the proof from %s: %s", archive_dir, strerror(-r));
        goto out;
    }
    if (facts.fault[0]) {
        snprintf(err, errlen, "%s", facts.fault);
        r = strstr(facts.fault, "not sealed yet") ? -EAGAIN : -EBADMSG;
        goto out;
    }
    hex_encode(archive_pub, 32, hex);
    hex_encode(facts.archive_id, 16, idhex);
    r = -E2BIG;
    if (buf_printf(out, "{\"format\":\"%s\",\"query\":", EVIDENCE_EXCERPT_FORMAT) < 0 ||
        buf_json_str(out, query, strlen(query)) < 0 || put_time(out, "from", from_us) < 0 ||
        put_time(out, "to", to_us) < 0 ||
        buf_printf(out,
                   ",\"scan\":{\"records\":%" PRIu64 ",\"matched\":%" PRIu64
                   ",\"blocks_read\":%" PRIu64 ",\"blocks_index_skipped\":%" PRIu64 "}",
                   st.records, st.matched, st.blocks_read, st.blocks_index_skipped) < 0 ||
        buf_puts(out, ",\"records\":") < 0 || buf_append(out, records.data, records.len) < 0 ||
        buf_printf(out, ",\"archive\":{\"id\":\"%s\",\"public_key\":\"%s\",\"seals\":", idhex,
                   hex) < 0 ||
        buf_append(out, seals.data, seals.len) < 0 || buf_puts(out, ",\"frames\":") < 0 ||
        buf_append(out, frames.data, frames.len) < 0 || buf_puts(out, "}}\n") < 0) {
        snprintf(err, errlen, "the excerpt is larger than %d MiB", EVIDENCE_EXCERPT_MAX >> 20);
        goto out;
    }
    r = 0;
out:
    hunt_free(h);
    free(c.v);
    buf_done(&seals);
    buf_done(&frames);
    buf_done(&records);
    return r;
}

int evidence_excerpt_add(struct evidence_reg *reg, const struct config *cfg,
                         const char *archive_dir, const uint8_t archive_pub[32], const char *query,
                         int64_t from_us, int64_t to_us, struct evidence_add_req *q,
                         int64_t *ret_id, struct evidence_digest *ret_d)
{
    struct buf doc;
    char tmp[4200], err[400] = "";
    size_t off = 0;
    int fd = -1, r;

    buf_init(&doc, EVIDENCE_EXCERPT_MAX);
    r = evidence_excerpt_build(cfg, archive_dir, archive_pub, query, from_us, to_us, &doc, err,
                               sizeof(err));
    if (r < 0) {
        snprintf(reg->err, sizeof(reg->err), "archive excerpt: %s", err[0] ? err : strerror(-r));
        goto out;
    }
    snprintf(tmp, sizeof(tmp), "%s/evidence/archive-excerpt-XXXXXX", reg->data_dir);
    if ((fd = mkstemp(tmp)) < 0) {
        r = -errno;
        snprintf(reg->err, sizeof(reg->err), "archive excerpt: %.300s: %s", tmp, strerror(-r));
        goto out;
    }
    while (off < doc.len) {
        ssize_t n = write(fd, doc.data + off, doc.len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            snprintf(reg->err, sizeof(reg->err), "archive excerpt: %.300s: %s", tmp, strerror(-r));
            goto out;
        }
        off += (size_t)n;
    }
    q->path = tmp;
    q->kind = "archive-excerpt";
    q->copy = 1;
    if (!q->tool)
        q->tool = "hikeshi evidence add --archive";
    if (!q->command)
        q->command = query;
    r = evidence_add(reg, q, ret_id, ret_d);
out:
    if (fd >= 0) {
        close(fd);
        (void)unlink(tmp);
    }
    buf_done(&doc);
    return r;
}
