/*
 * archive_proof.c - builds the inclusion proofs of archive records and
 * decodes the frames of one (archive_proof.h): a walk over every segment
 * (or its tombstone) in chain order that copies out the seals, and the
 * frames from each wanted record's block up to the next seal.  The walk
 * checks each frame's hash and link itself, so a proof is never built
 * over a chain that archive verify would call broken.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "archive/archive_priv.h"
#include "archive/archive_proof.h"
#include "archive/archive_retention.h"
#include "util/hex.h"

/* The walk's state. */
struct pw {
    const uint64_t *want; /* wanted record numbers, ascending */
    size_t n, next;       /* count, and the next not yet found */
    int64_t from_us, to_us;
    struct buf *seals, *frames, *records;
    struct archive_proof_facts *f;
    uint64_t next_frame, nrec;
    uint8_t head[ARCHIVE_HASH_LEN];
    int have_id;
    int capturing;          /* 1: frames go to the proof until the next seal */
    uint64_t capture_rec;   /* the record that started the capture */
    int64_t unsealed_t_max; /* latest time since the last seal */
    int64_t unsealed_t_min;
    int unsealed;
    uint8_t *raw;
    size_t raw_cap;
    int nseals_out, nframes_out, nrecords_out;
};

static void pw_fault(struct pw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pw_fault(struct pw *w, const char *fmt, ...)
{
    va_list ap;

    if (w->f->fault[0])
        return;
    va_start(ap, fmt);
    vsnprintf(w->f->fault, sizeof(w->f->fault), fmt, ap);
    va_end(ap);
}

static int put_hex(struct buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[512];
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        chunk[k++] = digits[p[i] >> 4];
        chunk[k++] = digits[p[i] & 15];
        if (k == sizeof(chunk)) {
            if (buf_append(b, chunk, k) < 0)
                return -E2BIG;
            k = 0;
        }
    }
    return k && buf_append(b, chunk, k) < 0 ? -E2BIG : 0;
}

/* Appends {"hdr":"..","payload":".."} to `b` after a comma when not first. */
static int put_frame(struct buf *b, int *count, const uint8_t *hdr, const uint8_t *payload,
                     size_t len)
{
    if ((*count)++ && buf_putc(b, ',') < 0)
        return -E2BIG;
    if (buf_puts(b, "{\"hdr\":\"") < 0 || put_hex(b, hdr, ARCHIVE_FRAME_HDR_LEN) < 0 ||
        buf_puts(b, "\",\"payload\":\"") < 0 || put_hex(b, payload, len) < 0 ||
        buf_puts(b, "\"}") < 0)
        return -E2BIG;
    return 0;
}

static int utf8_printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || p[i] >= 0x80)
            return 0; /* ASCII only: a reader sees exactly these bytes */
    return 1;
}

static int put_record(struct pw *w, const struct archive_frame_hdr *fh, uint32_t index,
                      const struct archive_record *rec)
{
    struct buf *b = w->records;
    char peer[80] = "";

    if (!b)
        return 0;
    archive_proof_peer_format(rec, peer, sizeof(peer));
    if ((w->nrecords_out++ && buf_putc(b, ',') < 0) ||
        buf_printf(b,
                   "{\"no\":%" PRIu64 ",\"frame\":%" PRIu64 ",\"index\":%" PRIu32
                   ",\"recv_us\":%" PRId64 ",\"input\":",
                   fh->first_record + index, fh->seq, index, rec->recv_us) < 0 ||
        buf_json_str(b, rec->input, rec->input_len) < 0 || buf_puts(b, ",\"peer\":") < 0)
        return -E2BIG;
    if (peer[0] ? buf_json_str(b, peer, strlen(peer)) < 0 : buf_puts(b, "null") < 0)
        return -E2BIG;
    if (utf8_printable(rec->raw, rec->raw_len)) {
        if (buf_puts(b, ",\"raw\":") < 0 ||
            buf_json_str(b, (const char *)rec->raw, rec->raw_len) < 0)
            return -E2BIG;
    } else if (buf_puts(b, ",\"raw_hex\":\"") < 0 || put_hex(b, rec->raw, rec->raw_len) < 0 ||
               buf_putc(b, '"') < 0) {
        return -E2BIG;
    }
    return buf_putc(b, '}') < 0 ? -E2BIG : 0;
}

/* The wanted records inside block `s` go to records; 1 when any did. */
static int block_records(struct pw *w, const struct archive_scan *s)
{
    const struct archive_frame_hdr *fh = &s->fh;
    struct archive_block_iter it;
    struct archive_record rec;
    const char *why = NULL;
    uint32_t i = 0;
    int any = 0;

    if (w->next >= w->n || w->want[w->next] >= fh->first_record + fh->nrecords)
        return 0;
    if (archive_block_inflate(fh, s->payload, &w->raw, &w->raw_cap, &why) < 0 ||
        archive_block_iter_init(&it, w->raw, fh->raw_len, fh->nrecords, &why) < 0) {
        pw_fault(w, "block at frame %" PRIu64 " does not decompress: %s", fh->seq,
                 why ? why : "out of memory");
        return 0;
    }
    while (w->next < w->n && archive_block_iter_next(&it, &rec, &why) == 1) {
        if (fh->first_record + i == w->want[w->next]) {
            int r = put_record(w, fh, i, &rec);

            if (r < 0)
                return r;
            w->next++;
            any = 1;
        }
        i++;
    }
    while (w->next < w->n && w->want[w->next] < fh->first_record + fh->nrecords)
        w->next++; /* past the block's end: not there (a corrupt block) */
    return any;
}

static void note_seal(struct pw *w)
{
    w->f->seals++;
    if (w->unsealed && w->unsealed_t_max > w->f->sealed_t_max)
        w->f->sealed_t_max = w->unsealed_t_max;
    w->f->sealed_records = w->nrec;
    w->unsealed = 0;
}

static int walk_segment(struct pw *w, int dirfd, uint64_t seq)
{
    struct archive_scan s;
    int what, r = 0;

    what = archive_scan_open(dirfd, seq, 0, &s);
    if (what == -EBADMSG) {
        pw_fault(w, "segment %" PRIu64 ": %s", seq, s.why);
        goto out;
    }
    if (what < 0) {
        r = what;
        goto out;
    }
    if (!w->have_id)
        memcpy(w->f->archive_id, s.seg.archive_id, ARCHIVE_ID_LEN);
    w->have_id = 1;
    if (memcmp(s.seg.archive_id, w->f->archive_id, ARCHIVE_ID_LEN) != 0 ||
        s.seg.first_frame != w->next_frame || s.seg.first_record != w->nrec ||
        memcmp(s.seg.chain_in, w->head, ARCHIVE_HASH_LEN) != 0) {
        pw_fault(w, "segment %" PRIu64 " does not continue the one before it", seq);
        goto out;
    }
    w->f->segments++;
    while ((what = archive_scan_next(&s, 1)) == ARCHIVE_SCAN_FRAME) {
        const struct archive_frame_hdr *fh = &s.fh;

        if (fh->seq != w->next_frame || fh->first_record != w->nrec ||
            memcmp(fh->prev, w->head, ARCHIVE_HASH_LEN) != 0) {
            pw_fault(w,
                     "segment %" PRIu64 " offset %" PRIu64 ": frame %" PRIu64
                     " does not follow frame %" PRIu64,
                     seq, s.off, fh->seq, w->next_frame);
            goto out;
        }
        if (fh->type == ARCHIVE_FRAME_BLOCK) {
            if ((r = block_records(w, &s)) < 0)
                goto out;
            if (r == 1 && !w->capturing) {
                w->capturing = 1;
                w->capture_rec = w->want[w->next - 1];
            }
            r = 0;
            if (w->capturing &&
                (r = put_frame(w->frames, &w->nframes_out, s.hdr, s.payload, fh->payload_len)) < 0)
                goto out;
            if (!w->unsealed || fh->t_max > w->unsealed_t_max)
                w->unsealed_t_max = fh->t_max;
            if (!w->unsealed || fh->t_min < w->unsealed_t_min)
                w->unsealed_t_min = fh->t_min;
            w->unsealed = 1;
            w->nrec += fh->nrecords;
        } else {
            if ((r = put_frame(w->seals, &w->nseals_out, s.hdr, s.payload, fh->payload_len)) < 0)
                goto out;
            if (w->capturing &&
                (r = put_frame(w->frames, &w->nframes_out, s.hdr, s.payload, fh->payload_len)) < 0)
                goto out;
            w->capturing = 0;
            note_seal(w);
        }
        if (w->f->fault[0])
            goto out;
        memcpy(w->head, fh->hash, ARCHIVE_HASH_LEN);
        w->next_frame++;
    }
    if (what < 0)
        r = what;
    else if (what != ARCHIVE_SCAN_END)
        pw_fault(w, "segment %" PRIu64 " offset %" PRIu64 ": %s", seq, s.off, s.why);
out:
    archive_scan_done(&s);
    return r;
}

static int walk_tombstone(struct pw *w, int dirfd, uint64_t seq)
{
    struct archive_tomb t;
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *why = NULL;
    int r;

    r = archive_tomb_read(dirfd, seq, &buf, &len);
    if (r == -ENOENT) {
        pw_fault(w, "segment %" PRIu64 " is missing and left no tombstone", seq);
        return 0;
    }
    if (r < 0)
        return r;
    if (archive_tomb_parse(buf, len, &t, &why) < 0 || t.seq != seq ||
        t.first_frame != w->next_frame || t.first_record != w->nrec ||
        memcmp(t.chain_in, w->head, ARCHIVE_HASH_LEN) != 0) {
        pw_fault(w, "tombstone of segment %" PRIu64 " is damaged or off the chain", seq);
        goto out;
    }
    if (w->capturing) {
        pw_fault(w, "segment %" PRIu64 " was removed while record %" PRIu64 " needs it", seq,
                 w->capture_rec);
        goto out;
    }
    if (!w->have_id)
        memcpy(w->f->archive_id, t.archive_id, ARCHIVE_ID_LEN);
    w->have_id = 1;
    for (uint32_t i = 0; i < t.nseals; i++) {
        const uint8_t *hdr = t.seals + (size_t)i * ARCHIVE_TOMB_SEAL_COPY;

        if ((r = put_frame(w->seals, &w->nseals_out, hdr, hdr + ARCHIVE_FRAME_HDR_LEN,
                           ARCHIVE_SEAL_LEN)) < 0)
            goto out;
        w->f->seals++;
    }
    if (t.records && t.t_min < w->to_us && t.t_max >= w->from_us) {
        if (w->f->window_tombs++ == 0) {
            w->f->window_tomb_seq = seq;
            w->f->window_tomb_t_min = t.t_min;
            w->f->window_tomb_t_max = t.t_max;
        }
    }
    w->f->tombstones++;
    w->next_frame = t.first_frame + t.frames;
    w->nrec = t.first_record + t.records;
    memcpy(w->head, t.chain_out, ARCHIVE_HASH_LEN);
    if (t.nseals)
        w->f->sealed_records = w->nrec - t.tail_unsealed;
    w->unsealed = t.tail_unsealed > 0;
    w->unsealed_t_min = t.tail_t_min;
    w->unsealed_t_max = t.tail_t_max;
    while (w->next < w->n && w->want[w->next] < w->nrec)
        w->next++;
out:
    free(buf);
    return r;
}

int archive_proof_build(const char *dir, const uint64_t *recnos, size_t n, int64_t from_us,
                        int64_t to_us, struct buf *seals, struct buf *frames, struct buf *records,
                        struct archive_proof_facts *facts)
{
    struct pw w;
    uint64_t *segs = NULL;
    size_t nseg = 0;
    int dirfd, r;

    memset(facts, 0, sizeof(*facts));
    memset(&w, 0, sizeof(w));
    facts->sealed_t_max = INT64_MIN;
    facts->unsealed_t_min = INT64_MAX;
    if (sodium_init() < 0)
        return -EIO;
    w.want = recnos;
    w.n = n;
    w.from_us = from_us;
    w.to_us = to_us;
    w.seals = seals;
    w.frames = frames;
    w.records = records;
    w.f = facts;
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    if ((r = archive_seg_list(dirfd, &segs, &nseg)) < 0)
        goto out;
    if (nseg == 0) {
        r = -ENOENT;
        goto out;
    }
    if (buf_putc(seals, '[') < 0 || buf_putc(frames, '[') < 0 ||
        (records && buf_putc(records, '[') < 0)) {
        r = -E2BIG;
        goto out;
    }
    for (size_t i = 0, seq = 0; i < nseg && r == 0 && !facts->fault[0]; seq++) {
        if (segs[i] != seq) {
            r = walk_tombstone(&w, dirfd, seq);
            continue;
        }
        r = walk_segment(&w, dirfd, segs[i]);
        i++;
    }
    if (r < 0)
        goto out;
    if (!facts->fault[0] && w.capturing)
        pw_fault(&w,
                 "record %" PRIu64 " is not sealed yet (no seal after its block): run again "
                 "after the archive's next seal",
                 w.capture_rec);
    facts->records = w.nrec;
    facts->frames_out = (uint64_t)w.nframes_out;
    if (w.unsealed)
        facts->unsealed_t_min = w.unsealed_t_min;
    if (buf_putc(seals, ']') < 0 || buf_putc(frames, ']') < 0 ||
        (records && buf_putc(records, ']') < 0))
        r = -E2BIG;
out:
    free(segs);
    free(w.raw);
    close(dirfd);
    return r;
}

int archive_proof_frame_decode(const uint8_t *hdr, size_t hdr_len, const uint8_t *payload,
                               size_t len, struct archive_proof_frame *ret, const char **reterr)
{
    struct archive_frame_hdr fh;
    struct archive_seal seal;

    memset(ret, 0, sizeof(*ret));
    if (sodium_init() < 0) {
        *reterr = "no crypto library";
        return -EBADMSG;
    }
    if (hdr_len != ARCHIVE_FRAME_HDR_LEN) {
        *reterr = "frame header not 128 bytes";
        return -EBADMSG;
    }
    if (archive_frame_hdr_decode(hdr, hdr_len, &fh, reterr) < 0)
        return -EBADMSG;
    if (fh.payload_len != len) {
        *reterr = "payload of another length than its header says";
        return -EBADMSG;
    }
    if (!archive_frame_hash_ok(hdr, &fh, payload)) {
        *reterr = "frame hash mismatch (header or payload changed)";
        return -EBADMSG;
    }
    ret->is_seal = fh.type == ARCHIVE_FRAME_SEAL;
    ret->seq = fh.seq;
    ret->first_record = fh.first_record;
    ret->nrecords = fh.nrecords;
    ret->t_min = fh.t_min;
    ret->t_max = fh.t_max;
    memcpy(ret->prev, fh.prev, ARCHIVE_HASH_LEN);
    memcpy(ret->hash, fh.hash, ARCHIVE_HASH_LEN);
    if (!ret->is_seal)
        return 0;
    if (archive_seal_decode(payload, len, &seal, reterr) < 0)
        return -EBADMSG;
    ret->epoch = seal.epoch;
    memcpy(ret->archive_id, seal.archive_id, ARCHIVE_ID_LEN);
    memcpy(ret->signer, seal.signer, ARCHIVE_PUBKEY_LEN);
    memcpy(ret->next, seal.next, ARCHIVE_PUBKEY_LEN);
    ret->sig_ok = archive_seal_sig_ok(&seal, hdr);
    return 0;
}

int archive_proof_block_inflate(const uint8_t *hdr, const uint8_t *payload, size_t len,
                                uint8_t **buf, size_t *cap, size_t *ret_len, uint32_t *ret_n,
                                const char **reterr)
{
    struct archive_frame_hdr fh;
    int r;

    if (archive_frame_hdr_decode(hdr, ARCHIVE_FRAME_HDR_LEN, &fh, reterr) < 0)
        return -EBADMSG;
    if (fh.type != ARCHIVE_FRAME_BLOCK || fh.payload_len != len) {
        *reterr = "not a block frame";
        return -EBADMSG;
    }
    *reterr = "out of memory";
    if ((r = archive_block_inflate(&fh, payload, buf, cap, reterr)) < 0)
        return r;
    if (archive_block_check(*buf, fh.raw_len, &fh, reterr) < 0)
        return -EBADMSG;
    *ret_len = fh.raw_len;
    *ret_n = fh.nrecords;
    return 0;
}

int archive_proof_block_record(const uint8_t *buf, size_t len, uint32_t n, uint32_t index,
                               struct archive_record *ret, const char **reterr)
{
    struct archive_block_iter it;

    if (index >= n) {
        *reterr = "record index past the block's records";
        return -EBADMSG;
    }
    if (archive_block_iter_init(&it, buf, len, n, reterr) < 0)
        return -EBADMSG;
    for (uint32_t i = 0; i <= index; i++)
        if (archive_block_iter_next(&it, ret, reterr) != 1)
            return -EBADMSG;
    return 0;
}

void archive_proof_peer_format(const struct archive_record *rec, char *out, size_t size)
{
    char a[INET6_ADDRSTRLEN];

    out[0] = '\0';
    if (rec->peer_family == 4 && inet_ntop(AF_INET, rec->peer_addr, a, sizeof(a)))
        snprintf(out, size, "%s:%u", a, rec->peer_port);
    else if (rec->peer_family == 6 && inet_ntop(AF_INET6, rec->peer_addr, a, sizeof(a)))
        snprintf(out, size, "[%s]:%u", a, rec->peer_port);
}
