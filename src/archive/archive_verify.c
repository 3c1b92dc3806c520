/*
 * archive_verify.c - walks the whole archive and says where it stops being
 * what the writer wrote: each segment's header and sequence, each frame's
 * hash and its link to the frame before, each block's contents against its
 * header, and each seal's counts, epoch and signature against the key chain
 * that starts at the verification key.  It stops at the first fault and
 * names its segment, chain position and byte offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "archive/archive_priv.h"

/* The walk's running state: what the next frame must continue. */
struct vstate {
    struct archive_verify_result *res;
    const uint8_t *pub;         /* trusted epoch-0 key, or NULL */
    uint8_t id[ARCHIVE_ID_LEN]; /* the archive's id (from segment 0) */
    uint64_t next_frame;
    uint8_t head[ARCHIVE_HASH_LEN];
    uint64_t records;
    uint64_t unsealed; /* records since the last seal */
    int64_t us_min, us_max;
    uint8_t epoch_pub[ARCHIVE_PUBKEY_LEN]; /* key expected of the next seal */
    int have_epoch_pub;
    uint8_t *raw;
    size_t raw_cap;
};

const char *archive_fault_name(enum archive_fault f)
{
    switch (f) {
    case ARCHIVE_FAULT_NONE: return "intact";
    case ARCHIVE_FAULT_SEGMENT: return "bad segment";
    case ARCHIVE_FAULT_FRAME: return "unreadable frame";
    case ARCHIVE_FAULT_HASH: return "hash mismatch";
    case ARCHIVE_FAULT_CHAIN: return "broken chain";
    case ARCHIVE_FAULT_TORN: return "torn tail";
    case ARCHIVE_FAULT_BLOCK: return "bad block";
    case ARCHIVE_FAULT_SEAL: return "bad seal";
    case ARCHIVE_FAULT_TRUNCATED: return "seals missing at the end";
    }
    return "unknown";
}

__attribute__((format(printf, 5, 6))) static int
fault(struct vstate *v, enum archive_fault f, uint64_t seq, uint64_t off, const char *fmt, ...)
{
    va_list ap;

    v->res->fault = f;
    archive_seg_name(seq, v->res->segment, sizeof(v->res->segment));
    v->res->frame = v->next_frame;
    v->res->offset = off;
    va_start(ap, fmt);
    vsnprintf(v->res->why, sizeof(v->res->why), fmt, ap);
    va_end(ap);
    return 1;
}

static int check_block(struct vstate *v, const struct archive_scan *s)
{
    const char *why = NULL;

    if (archive_block_inflate(&s->fh, s->payload, &v->raw, &v->raw_cap, &why) < 0 ||
        archive_block_check(v->raw, s->fh.raw_len, &s->fh, &why) < 0)
        return fault(v, ARCHIVE_FAULT_BLOCK, s->seq, s->off, "%s", why ? why : "out of memory");
    if (v->unsealed == 0 || s->fh.t_min < v->us_min)
        v->us_min = s->fh.t_min;
    if (v->unsealed == 0 || s->fh.t_max > v->us_max)
        v->us_max = s->fh.t_max;
    v->unsealed += s->fh.nrecords;
    v->records += s->fh.nrecords;
    v->res->blocks++;
    return 0;
}

static int check_seal(struct vstate *v, const struct archive_scan *s)
{
    struct archive_seal seal;
    const char *why;

    if (archive_seal_decode(s->payload, s->fh.payload_len, &seal, &why) < 0)
        return fault(v, ARCHIVE_FAULT_SEAL, s->seq, s->off, "%s", why);
    if (sodium_memcmp(seal.archive_id, v->id, ARCHIVE_ID_LEN) != 0)
        return fault(v, ARCHIVE_FAULT_SEAL, s->seq, s->off, "seal of another archive");
    if (seal.epoch != v->res->epoch)
        return fault(v, ARCHIVE_FAULT_SEAL, s->seq, s->off,
                     "seal of epoch %" PRIu64 " where epoch %" PRIu64 " was due", seal.epoch,
                     v->res->epoch);
    if (s->fh.nrecords != v->unsealed ||
        (v->unsealed && (s->fh.t_min != v->us_min || s->fh.t_max != v->us_max)))
        return fault(v, ARCHIVE_FAULT_SEAL, s->seq, s->off,
                     "seal counts %" PRIu32 " records where %" PRIu64 " were written since the "
                     "last seal, or another time range",
                     s->fh.nrecords, v->unsealed);
    if (v->have_epoch_pub && sodium_memcmp(seal.signer, v->epoch_pub, ARCHIVE_PUBKEY_LEN) != 0)
        return fault(v, ARCHIVE_FAULT_SEAL, s->seq, s->off,
                     "seal of epoch %" PRIu64 " signed by a key not in the key chain%s", seal.epoch,
                     v->pub && seal.epoch == 0 ? " (not the verification key)" : "");
    if (!archive_seal_sig_ok(&seal, s->hdr))
        return fault(v, ARCHIVE_FAULT_SEAL, s->seq, s->off,
                     "signature of the seal of epoch %" PRIu64 " does not verify", seal.epoch);
    memcpy(v->epoch_pub, seal.next, ARCHIVE_PUBKEY_LEN);
    v->have_epoch_pub = 1;
    v->res->epoch++;
    v->res->seals++;
    v->res->sealed_records = v->records;
    v->unsealed = 0;
    return 0;
}

/* Walks one segment; 1 at a fault, 0 when it ended cleanly, -errno. */
static int verify_segment(struct vstate *v, int dirfd, uint64_t seq, int first)
{
    struct archive_scan s;
    int what, r = 0;

    what = archive_scan_open(dirfd, seq, 0, &s);
    if (what == -EBADMSG) {
        r = fault(v, ARCHIVE_FAULT_SEGMENT, seq, 0, "%s", s.why);
        goto out;
    }
    if (what < 0) {
        r = what;
        goto out;
    }
    if (first)
        memcpy(v->id, s.seg.archive_id, ARCHIVE_ID_LEN);
    if (sodium_memcmp(s.seg.archive_id, v->id, ARCHIVE_ID_LEN) != 0 ||
        s.seg.first_frame != v->next_frame || s.seg.first_record != v->records ||
        sodium_memcmp(s.seg.chain_in, v->head, ARCHIVE_HASH_LEN) != 0) {
        r = fault(v, ARCHIVE_FAULT_SEGMENT, seq, 0,
                  "segment does not continue the one before it (removed, reordered or from "
                  "another archive)");
        goto out;
    }
    v->res->segments++;
    while ((what = archive_scan_next(&s, 1)) == ARCHIVE_SCAN_FRAME) {
        if (s.fh.seq != v->next_frame || s.fh.first_record != v->records ||
            sodium_memcmp(s.fh.prev, v->head, ARCHIVE_HASH_LEN) != 0) {
            r = fault(v, ARCHIVE_FAULT_CHAIN, seq, s.off,
                      "frame %" PRIu64 " found where frame %" PRIu64
                      " was due, or it does not name the frame before it",
                      s.fh.seq, v->next_frame);
            goto out;
        }
        r = s.fh.type == ARCHIVE_FRAME_BLOCK ? check_block(v, &s) : check_seal(v, &s);
        if (r)
            goto out;
        memcpy(v->head, s.fh.hash, ARCHIVE_HASH_LEN);
        v->next_frame++;
    }
    if (what < 0) {
        r = what;
    } else if (what == ARCHIVE_SCAN_TORN) {
        r = fault(v, ARCHIVE_FAULT_TORN, seq, s.off, "%s (%" PRIu64 " bytes)", s.why,
                  s.size - s.off);
    } else if (what == ARCHIVE_SCAN_BAD) {
        r = fault(v, s.fh_ok ? ARCHIVE_FAULT_HASH : ARCHIVE_FAULT_FRAME, seq, s.off, "%s", s.why);
    }
out:
    archive_scan_done(&s);
    return r;
}

int archive_verify(const char *dir, const uint8_t *pub, uint64_t expect_epoch,
                   struct archive_verify_result *res)
{
    struct vstate v = {0};
    uint64_t *segs = NULL;
    size_t n = 0;
    int dirfd, r = 0;

    memset(res, 0, sizeof(*res));
    if (sodium_init() < 0)
        return -EIO;
    v.res = res;
    v.pub = pub;
    if (pub) {
        memcpy(v.epoch_pub, pub, ARCHIVE_PUBKEY_LEN);
        v.have_epoch_pub = 1;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    r = archive_seg_list(dirfd, &segs, &n);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (segs[i] != i) {
            r = fault(&v, ARCHIVE_FAULT_SEGMENT, i, 0, "segment %zu is missing", i);
            break;
        }
        r = verify_segment(&v, dirfd, segs[i], i == 0);
    }
    if (r == 0 && expect_epoch > res->epoch)
        fault(&v, ARCHIVE_FAULT_TRUNCATED, n ? segs[n - 1] : 0, 0,
              "the archive's seals end before epoch %" PRIu64 ", the key is at epoch %" PRIu64
              " (seals or segments cut off the end)",
              res->epoch, expect_epoch);
    res->records = v.records;
    r = r < 0 ? r : 0;
out:
    free(segs);
    free(v.raw);
    close(dirfd);
    return r;
}
