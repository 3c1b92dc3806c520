/*
 * evidence_excerpt.c - checking archive excerpts (evidence_excerpt.h): the
 * archive proof that an excerpt or an attestation carries, offline, from
 * the archive's verification key alone (building one is
 * evidence_excerpt_build.c, which needs the archive and the hunt).  The document is hostile when
 * checked: every span is capped, hex decoded strictly, and each fault names the seal, frame or
 * record it is about.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "archive/archive_proof.h"
#include "evidence/evidence_excerpt.h"
#include "util/hex.h"
#include "util/readfile.h"

/* Largest frame payload read from a proof: a block's compressed bytes and
 * its index stay far below this. */
#define PROOF_PAYLOAD_MAX (4u * 1024 * 1024)
/* Most seals and frames one proof may hold. */
#define PROOF_FRAMES_MAX (4u * 1024 * 1024)

/* ---- checking ---- */

/* One frame of the proof, decoded. */
struct pframe {
    uint8_t hdr[ARCHIVE_PROOF_HDR_LEN];
    uint8_t *payload; /* owned */
    size_t len;
    struct archive_proof_frame f;
    int proven; /* in a run that ends at a verified seal */
};

static int span_hex_exact(struct jp_span v, uint8_t *out, size_t n)
{
    if (v.len != 2 * n + 2 || v.p[0] != '"' || v.p[v.len - 1] != '"')
        return -EINVAL;
    return hex_decode_lower(v.p + 1, n, out);
}

/* {"hdr":"<256 hex>","payload":"<hex>"} into fr (payload malloc'd). */
static const char *frame_read(struct jp_span o, struct pframe *fr)
{
    struct jp_span h, p;
    size_t n;

    memset(fr, 0, sizeof(*fr));
    if (jp_lookup(o, "hdr", &h) < 0 || jp_lookup(o, "payload", &p) < 0)
        return "not an object with hdr and payload";
    if (span_hex_exact(h, fr->hdr, sizeof(fr->hdr)) < 0)
        return "hdr is not 256 lowercase hex digits";
    if (p.len < 2 || p.p[0] != '"' || p.p[p.len - 1] != '"' || (p.len - 2) % 2 ||
        (p.len - 2) / 2 > PROOF_PAYLOAD_MAX)
        return "payload is not a string of hex digit pairs within the cap";
    n = (p.len - 2) / 2;
    if (!(fr->payload = malloc(n ? n : 1)))
        return "out of memory";
    if (hex_decode_lower(p.p + 1, n, fr->payload) < 0)
        return "payload is not lowercase hex";
    fr->len = n;
    return NULL;
}

struct proof {
    struct pframe *seals, *frames;
    size_t nseals, nframes;
    uint8_t *blk; /* the block last inflated */
    size_t blk_cap, blk_len;
    uint32_t blk_n;
    int64_t blk_seq; /* -1: none */
};

static void proof_done(struct proof *p)
{
    for (size_t i = 0; i < p->nseals; i++)
        free(p->seals[i].payload);
    for (size_t i = 0; i < p->nframes; i++)
        free(p->frames[i].payload);
    free(p->seals);
    free(p->frames);
    free(p->blk);
}

/* Reads an array of frames into *ret; a fault names the element. */
static int frames_load(const char *who, const char *what, struct jp_span arr, struct pframe **ret,
                       size_t *ret_n, struct evidence_report *rep)
{
    struct jp_iter it;
    struct jp_span v;
    size_t cap = 0;
    int r;

    *ret = NULL;
    *ret_n = 0;
    if (arr.p[0] != '[' || jp_iter_init(&it, arr) < 0) {
        evidence_report_fault(rep, "%s: archive %s is not an array", who, what);
        return 0;
    }
    while ((r = jp_iter_next(&it, NULL, &v)) == 1) {
        const char *why;

        if (*ret_n >= PROOF_FRAMES_MAX) {
            evidence_report_fault(rep, "%s: archive %s: more than %u", who, what, PROOF_FRAMES_MAX);
            return 0;
        }
        if (*ret_n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            struct pframe *nv = realloc(*ret, ncap * sizeof(*nv));

            if (!nv)
                return -ENOMEM;
            *ret = nv;
            cap = ncap;
        }
        why = frame_read(v, &(*ret)[*ret_n]);
        (*ret_n)++;
        if (!why) {
            const struct pframe *fr = &(*ret)[*ret_n - 1];
            struct archive_proof_frame *f = &(*ret)[*ret_n - 1].f;

            if (archive_proof_frame_decode(fr->hdr, sizeof(fr->hdr), fr->payload, fr->len, f,
                                           &why) == 0)
                continue;
        }
        evidence_report_fault(rep, "%s: archive %s[%zu]: %s", who, what, *ret_n - 1, why);
        return 1;
    }
    if (r < 0) {
        evidence_report_fault(rep, "%s: archive %s: malformed array", who, what);
        return 1;
    }
    return 0;
}

/* The seals chain from pub (epoch i signed by the key the seal before
 * named) and count the records continuously. */
static int seals_check(const char *who, const struct proof *p, const uint8_t pub[32],
                       const uint8_t id[16], struct evidence_report *rep,
                       struct evidence_proof_summary *sum)
{
    const uint8_t *expect = pub;
    uint64_t total = 0, last_seq = 0;

    for (size_t i = 0; i < p->nseals; i++) {
        const struct archive_proof_frame *f = &p->seals[i].f;

        if (!f->is_seal) {
            evidence_report_fault(rep, "%s: archive seals[%zu]: frame %" PRIu64 " is a block", who,
                                  i, f->seq);
            return 1;
        }
        if (f->epoch != i || memcmp(f->archive_id, id, 16) != 0) {
            evidence_report_fault(rep,
                                  "%s: archive seals[%zu]: seal of epoch %" PRIu64
                                  " (or of another archive) where epoch %zu was due",
                                  who, i, f->epoch, i);
            return 1;
        }
        if (sodium_memcmp(f->signer, expect, 32) != 0 || !f->sig_ok) {
            evidence_report_fault(rep,
                                  "%s: archive seals[%zu]: the seal of epoch %zu (frame %" PRIu64
                                  ") is not signed by the key chain's key for its epoch%s",
                                  who, i, i, f->seq, i == 0 ? " (the archive's public key)" : "");
            return 1;
        }
        if ((i && f->seq <= last_seq) || f->nrecords > f->first_record ||
            f->first_record - f->nrecords != total) {
            evidence_report_fault(rep,
                                  "%s: archive seals[%zu]: seal of epoch %zu does not continue "
                                  "the one before (records %" PRIu64 " after %" PRIu64 ")",
                                  who, i, i, f->first_record, total);
            return 1;
        }
        total = f->first_record;
        last_seq = f->seq;
        expect = f->next;
        if (f->nrecords && f->t_max > sum->sealed_t_max)
            sum->sealed_t_max = f->t_max;
        sum->seals++;
    }
    sum->sealed_records = total;
    return 0;
}

/* Each run of frames: a block first, each frame naming the one before,
 * ending at a seal of the verified list. */
static void runs_check(const char *who, struct proof *p, struct evidence_report *rep)
{
    size_t start = 0;
    int in_run = 0;

    for (size_t i = 0; i < p->nframes; i++) {
        struct archive_proof_frame *f = &p->frames[i].f;

        if (!in_run) {
            if (f->is_seal) {
                evidence_report_fault(rep, "%s: archive frames[%zu]: a run starts with a seal", who,
                                      i);
                return;
            }
            in_run = 1;
            start = i;
        } else {
            const struct archive_proof_frame *b = &p->frames[i - 1].f;

            if (f->seq != b->seq + 1 || memcmp(f->prev, b->hash, 32) != 0) {
                evidence_report_fault(rep,
                                      "%s: archive frames[%zu]: frame %" PRIu64
                                      " does not follow frame %" PRIu64
                                      " (its prev is not that frame's hash)",
                                      who, i, f->seq, b->seq);
                return;
            }
        }
        if (f->is_seal) {
            int found = 0;

            for (size_t k = 0; k < p->nseals && !found; k++)
                found = p->seals[k].f.seq == f->seq && memcmp(p->seals[k].f.hash, f->hash, 32) == 0;
            if (!found || f->epoch >= p->nseals) {
                evidence_report_fault(rep,
                                      "%s: archive frames[%zu]: seal frame %" PRIu64
                                      " is not one of the verified seals",
                                      who, i, f->seq);
                return;
            }
            for (size_t k = start; k <= i; k++)
                p->frames[k].proven = 1;
            in_run = 0;
        }
    }
    if (in_run)
        evidence_report_fault(
            rep, "%s: archive frames: the last run (from frame %" PRIu64 ") ends without a seal",
            who, p->frames[start].f.seq);
}

/* A record's bytes as the document gives them: "raw" (a string) or
 * "raw_hex".  Malloc'd into *ret. */
static const char *record_raw(struct jp_span o, uint8_t **ret, size_t *ret_len)
{
    struct jp_span v;

    *ret = NULL;
    if (jp_lookup(o, "raw", &v) == 0) {
        struct parse_err pe = {0};
        struct jp j = {v.p, v.len, 0, &pe, NULL, 0};

        if (!(*ret = malloc(v.len + 1)))
            return "out of memory";
        if (jp_string(&j, (char *)*ret, v.len + 1, ret_len) < 0 || jp_end(&j) < 0)
            return "raw is not a string";
        return NULL;
    }
    if (jp_lookup(o, "raw_hex", &v) < 0 || v.len < 2 || v.p[0] != '"' || (v.len - 2) % 2)
        return "no raw or raw_hex";
    *ret_len = (v.len - 2) / 2;
    if (!(*ret = malloc(*ret_len + 1)))
        return "out of memory";
    if (hex_decode_lower(v.p + 1, *ret_len, *ret) < 0)
        return "raw_hex is not lowercase hex";
    return NULL;
}

static int span_u64(struct jp_span v, uint64_t *ret)
{
    int64_t x;

    if (jp_span_i64(v, &x) < 0 || x < 0)
        return -EINVAL;
    *ret = (uint64_t)x;
    return 0;
}

static int span_cstr(struct jp_span v, char *out, size_t cap)
{
    struct parse_err pe = {0};
    struct jp j = {v.p, v.len, 0, &pe, NULL, 0};

    if (jp_string(&j, out, cap, NULL) < 0 || jp_end(&j) < 0)
        return -EINVAL;
    return 0;
}

/* One record against its block. */
static const char *record_check(struct proof *p, struct jp_span o, uint64_t *ret_no)
{
    struct jp_span v;
    uint64_t no, seq, index;
    int64_t recv;
    struct archive_record rec;
    char input[ARCHIVE_INPUT_NAME_MAX + 1], peer[128], rpeer[80];
    const struct pframe *fr = NULL;
    const char *why = NULL;
    uint8_t *raw = NULL;
    size_t raw_len = 0;

    *ret_no = UINT64_MAX;
    if (jp_lookup(o, "no", &v) < 0 || span_u64(v, &no) < 0)
        return "no record number";
    *ret_no = no;
    if (jp_lookup(o, "frame", &v) < 0 || span_u64(v, &seq) < 0 || jp_lookup(o, "index", &v) < 0 ||
        span_u64(v, &index) < 0 || index > UINT32_MAX)
        return "no frame or index";
    if (jp_lookup(o, "recv_us", &v) < 0 || jp_span_i64(v, &recv) < 0)
        return "no recv_us";
    if (jp_lookup(o, "input", &v) < 0 || span_cstr(v, input, sizeof(input)) < 0)
        return "no input";
    if (jp_lookup(o, "peer", &v) < 0)
        return "no peer";
    if (jp_span_is(v, "null"))
        peer[0] = '\0';
    else if (span_cstr(v, peer, sizeof(peer)) < 0)
        return "peer is not a string";
    for (size_t i = 0; i < p->nframes && !fr; i++)
        if (p->frames[i].f.seq == seq && !p->frames[i].f.is_seal)
            fr = &p->frames[i];
    if (!fr)
        return "its block frame is not in the proof";
    if (!fr->proven)
        return "its block frame is not chained to a verified seal";
    if (p->blk_seq != (int64_t)seq) {
        p->blk_seq = -1;
        if (archive_proof_block_inflate(fr->hdr, fr->payload, fr->len, &p->blk, &p->blk_cap,
                                        &p->blk_len, &p->blk_n, &why) < 0)
            return why;
        p->blk_seq = (int64_t)seq;
    }
    if (archive_proof_block_record(p->blk, p->blk_len, p->blk_n, (uint32_t)index, &rec, &why) < 0)
        return why;
    if (fr->f.first_record + index != no)
        return "its number is not its place in its block";
    if ((why = record_raw(o, &raw, &raw_len)) != NULL)
        goto out;
    archive_proof_peer_format(&rec, rpeer, sizeof(rpeer));
    if (rec.recv_us != recv)
        why = "its receive time is not the archive's";
    else if (rec.input_len != strlen(input) || memcmp(rec.input, input, rec.input_len) != 0)
        why = "its input is not the archive's";
    else if (strcmp(peer, rpeer) != 0)
        why = "its sender is not the archive's";
    else if (rec.raw_len != raw_len || memcmp(rec.raw, raw, raw_len) != 0)
        why = "its bytes are not the archive's record";
out:
    free(raw);
    return why;
}

int evidence_proof_check(const char *who, struct jp_span archive, struct jp_span records,
                         const uint8_t *pin, struct evidence_report *rep,
                         struct evidence_proof_summary *ret)
{
    struct proof p = {0};
    struct jp_span v;
    uint8_t pub[32], id[16];
    size_t before = rep->faults;
    int r = 0;

    memset(ret, 0, sizeof(*ret));
    ret->sealed_t_max = INT64_MIN;
    p.blk_seq = -1;
    if (archive.len == 0 || archive.p[0] != '{') {
        evidence_report_fault(rep, "%s: no archive proof", who);
        return 0;
    }
    if (jp_lookup(archive, "public_key", &v) < 0 || span_hex_exact(v, pub, 32) < 0 ||
        jp_lookup(archive, "id", &v) < 0 || span_hex_exact(v, id, 16) < 0) {
        evidence_report_fault(rep, "%s: archive proof without public_key or id", who);
        return 0;
    }
    memcpy(ret->archive_pub, pub, 32);
    if (pin && sodium_memcmp(pin, pub, 32) != 0)
        evidence_report_fault(rep, "%s: the archive's public key is not the one given", who);
    if (jp_lookup(archive, "seals", &v) < 0 ||
        (r = frames_load(who, "seals", v, &p.seals, &p.nseals, rep)) != 0)
        goto out;
    if (seals_check(who, &p, pub, id, rep, ret))
        goto out;
    if (jp_lookup(archive, "frames", &v) < 0 ||
        (r = frames_load(who, "frames", v, &p.frames, &p.nframes, rep)) != 0)
        goto out;
    runs_check(who, &p, rep);
    if (rep->faults != before)
        goto out;
    rep->checked += p.nseals + p.nframes;
    if (records.len) {
        struct jp_iter it;
        size_t i = 0;

        if (records.p[0] != '[' || jp_iter_init(&it, records) < 0) {
            evidence_report_fault(rep, "%s: records is not an array", who);
            goto out;
        }
        while (jp_iter_next(&it, NULL, &v) == 1) {
            uint64_t no = UINT64_MAX;
            const char *why = v.p[0] == '{' ? record_check(&p, v, &no) : "not an object";

            if (why)
                evidence_report_fault(rep, "%s: record %zu (archive record %" PRIu64 "): %s", who,
                                      i, no, why);
            else
                ret->records_ok++;
            i++;
        }
        rep->checked += ret->records_ok;
    }
out:
    proof_done(&p);
    return r < 0 ? r : 0;
}

int evidence_excerpt_check(const char *who, const char *doc, size_t len, const uint8_t *pin,
                           struct evidence_report *rep)
{
    struct evidence_proof_summary sum;
    struct parse_err pe = {0};
    struct jp_span d, v, archive = {0}, records = {0};
    char fmt[64];
    int64_t from, to;
    uint64_t matched, n = 0;
    struct jp_iter it;
    int r;

    if (len > EVIDENCE_EXCERPT_MAX || jp_doc(doc, len, &d, &pe) < 0 || d.p[0] != '{') {
        evidence_report_fault(rep, "%s: not an excerpt document (byte %zu: %s)", who, pe.off,
                              pe.msg ? pe.msg : "too large or not an object");
        return 0;
    }
    if (jp_lookup(d, "format", &v) < 0 || span_cstr(v, fmt, sizeof(fmt)) < 0 ||
        strcmp(fmt, EVIDENCE_EXCERPT_FORMAT) != 0) {
        evidence_report_fault(rep, "%s: not an excerpt (format)", who);
        return 0;
    }
    if (jp_lookup(d, "from_us", &v) < 0 || jp_span_i64(v, &from) < 0 ||
        jp_lookup(d, "to_us", &v) < 0 || jp_span_i64(v, &to) < 0 || jp_lookup(d, "scan", &v) < 0 ||
        jp_lookup(v, "matched", &v) < 0 || span_u64(v, &matched) < 0 ||
        jp_lookup(d, "records", &records) < 0 || jp_lookup(d, "archive", &archive) < 0) {
        evidence_report_fault(rep, "%s: excerpt without its window, scan, records or archive", who);
        return 0;
    }
    if (records.p[0] == '[' && jp_iter_init(&it, records) == 0)
        while (jp_iter_next(&it, NULL, &v) == 1) {
            int64_t t;
            struct jp_span tv;

            n++;
            if (v.p[0] == '{' && jp_lookup(v, "recv_us", &tv) == 0 && jp_span_i64(tv, &t) == 0 &&
                (t < from || t >= to))
                evidence_report_fault(rep,
                                      "%s: record %" PRIu64 " was received outside the "
                                      "excerpt's window",
                                      who, n - 1);
        }
    if (n != matched)
        evidence_report_fault(
            rep, "%s: the scan matched %" PRIu64 " records, the excerpt holds %" PRIu64, who,
            matched, n);
    r = evidence_proof_check(who, archive, records, pin, rep, &sum);
    return r;
}
