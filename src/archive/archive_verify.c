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
#include "archive/archive_retention.h"

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
    struct archive_index_builder ix; /* rebuilds each block's index */
    uint8_t *ixbuf;
    int have_id;
    uint64_t first_unsigned; /* the first unsigned tombstone's segment */
    /* Tombstone signers waiting for the key chain to reach their epoch. */
    struct vtomb {
        uint64_t seq, epoch;
        uint8_t signer[ARCHIVE_PUBKEY_LEN];
    } *pending;
    size_t npending;
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
    case ARCHIVE_FAULT_TOMBSTONE: return "bad tombstone";
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

/* A block's index must be the one its records give (what the writer
 * built): an index missing a run would make a hunt skip a block that
 * holds it.  The decompressed block is in v->raw.  NULL, or why not. */
static const char *check_index(struct vstate *v, const struct archive_scan *s)
{
    const struct archive_frame_hdr *h = &s->fh;
    const uint8_t *stored = s->payload + h->payload_len - h->index_len;
    struct archive_block_iter it;
    struct archive_record rec;
    struct archive_index ix;
    const char *why;
    int r;

    if (h->index_len == 0)
        return NULL; /* older block, or past the cap: never skipped */
    if (archive_index_decode(stored, h->index_len, &ix, &why) < 0)
        return why;
    archive_index_builder_reset(&v->ix);
    if (archive_block_iter_init(&it, v->raw, h->raw_len, h->nrecords, &why) < 0)
        return why;
    while ((r = archive_block_iter_next(&it, &rec, &why)) == 1)
        if (archive_index_builder_add(&v->ix, rec.raw, rec.raw_len) < 0)
            return "out of memory rebuilding the block's index";
    if (r < 0)
        return why;
    if (archive_index_builder_size(&v->ix) != h->index_len)
        return "block index of another size than its records give";
    if (!v->ixbuf && !(v->ixbuf = malloc(ARCHIVE_INDEX_MAX)))
        return "out of memory rebuilding the block's index";
    archive_index_builder_write(&v->ix, v->ixbuf, h->index_len);
    if (memcmp(v->ixbuf, stored, h->index_len) != 0)
        return "block index does not match its records";
    return NULL;
}

static int check_block(struct vstate *v, const struct archive_scan *s)
{
    const char *why = NULL;

    if (archive_block_inflate(&s->fh, s->payload, &v->raw, &v->raw_cap, &why) < 0 ||
        archive_block_check(v->raw, s->fh.raw_len, &s->fh, &why) < 0)
        return fault(v, ARCHIVE_FAULT_BLOCK, s->seq, s->off, "%s", why ? why : "out of memory");
    if ((why = check_index(v, s)) != NULL)
        return fault(v, ARCHIVE_FAULT_BLOCK, s->seq, s->off, "%s", why);
    if (v->unsealed == 0 || s->fh.t_min < v->us_min)
        v->us_min = s->fh.t_min;
    if (v->unsealed == 0 || s->fh.t_max > v->us_max)
        v->us_max = s->fh.t_max;
    v->unsealed += s->fh.nrecords;
    v->records += s->fh.nrecords;
    v->res->blocks++;
    return 0;
}

/* Tombstones are signed with the key's epoch at the time of the prune;
 * that key is the key chain's once the walk learns the epoch's public key
 * (from the verification key or a verified seal).  Called whenever it
 * learns one: 1 at a fault. */
static int tomb_signers_check(struct vstate *v)
{
    for (size_t i = 0; i < v->npending; i++) {
        struct vtomb *p = &v->pending[i];
        char name[ARCHIVE_TOMB_NAME_LEN + 8];

        if (p->epoch != v->res->epoch || !v->have_epoch_pub)
            continue;
        if (sodium_memcmp(p->signer, v->epoch_pub, ARCHIVE_PUBKEY_LEN) != 0) {
            fault(v, ARCHIVE_FAULT_TOMBSTONE, p->seq, 0, "x");
            archive_tomb_name(p->seq, name, sizeof(name));
            snprintf(v->res->segment, sizeof(v->res->segment), "%s", name);
            snprintf(v->res->why, sizeof(v->res->why),
                     "tombstone of segment %" PRIu64 " signed by a key that is not the key "
                     "chain's key of epoch %" PRIu64 " (forged)",
                     p->seq, p->epoch);
            return 1;
        }
        v->pending[i--] = v->pending[--v->npending];
    }
    return 0;
}

/* Verifies the seal copies a tombstone keeps, as the walk would have
 * verified the seals themselves: 1 at a fault (why filled). */
static int tomb_seals(struct vstate *v, const struct archive_tomb *t, char *why, size_t size)
{
    for (uint32_t i = 0; i < t->nseals; i++) {
        const uint8_t *hdr = t->seals + (size_t)i * ARCHIVE_TOMB_SEAL_COPY;
        const uint8_t *pay = hdr + ARCHIVE_FRAME_HDR_LEN;
        struct archive_frame_hdr fh;
        struct archive_seal seal;
        const char *e = NULL;

        if (archive_frame_hdr_decode(hdr, ARCHIVE_FRAME_HDR_LEN, &fh, &e) < 0 ||
            fh.type != ARCHIVE_FRAME_SEAL || !archive_frame_hash_ok(hdr, &fh, pay) ||
            archive_seal_decode(pay, ARCHIVE_SEAL_LEN, &seal, &e) < 0 ||
            fh.seq < t->first_frame || fh.seq - t->first_frame >= t->frames) {
            snprintf(why, size, "its copy of seal %" PRIu32 " is damaged or not in its segment", i);
            return 1;
        }
        if (sodium_memcmp(seal.archive_id, v->id, ARCHIVE_ID_LEN) != 0 ||
            seal.epoch != v->res->epoch ||
            (v->have_epoch_pub && sodium_memcmp(seal.signer, v->epoch_pub, ARCHIVE_PUBKEY_LEN)) ||
            !archive_seal_sig_ok(&seal, hdr)) {
            snprintf(why, size,
                     "its copy of the seal of epoch %" PRIu64 " does not verify against the key "
                     "chain",
                     seal.epoch);
            return 1;
        }
        if (fh.seq == t->first_frame + t->frames - 1 &&
            sodium_memcmp(fh.hash, t->chain_out, ARCHIVE_HASH_LEN) != 0) {
            snprintf(why, size, "its chain head is not the hash of its last seal");
            return 1;
        }
        memcpy(v->epoch_pub, seal.next, ARCHIVE_PUBKEY_LEN);
        v->have_epoch_pub = 1;
        v->res->epoch++;
        v->res->seals++;
        if (tomb_signers_check(v))
            return -1;
    }
    return 0;
}

/* Takes the place of missing segment `seq` with its tombstone: 0 and the
 * chain continued from its head, 1 at a fault, -errno. */
static int verify_tombstone(struct vstate *v, int dirfd, uint64_t seq)
{
    char name[ARCHIVE_TOMB_NAME_LEN + 8], why[160] = "";
    struct archive_verify_result *res = v->res;
    struct archive_tomb t;
    uint8_t *buf = NULL;
    size_t len = 0;
    const char *e = NULL;
    int r;

    archive_tomb_name(seq, name, sizeof(name));
    r = archive_tomb_read(dirfd, seq, &buf, &len);
    if (r == -ENOENT)
        return fault(v, ARCHIVE_FAULT_SEGMENT, seq, 0,
                     "segment %" PRIu64 " is missing and left no tombstone (removed by hand, "
                     "not by retention)",
                     seq);
    if (r < 0)
        return r;
    if (archive_tomb_parse(buf, len, &t, &e) < 0)
        snprintf(why, sizeof(why), "%s", e);
    else if (t.seq != seq)
        snprintf(why, sizeof(why), "it names segment %" PRIu64, t.seq);
    else if (v->have_id && sodium_memcmp(t.archive_id, v->id, ARCHIVE_ID_LEN) != 0)
        snprintf(why, sizeof(why), "it is another archive's");
    else if (t.first_frame != v->next_frame || t.first_record != v->records ||
             sodium_memcmp(t.chain_in, v->head, ARCHIVE_HASH_LEN) != 0)
        snprintf(why, sizeof(why), "it does not continue the chain before it");
    else if (t.is_signed && !archive_tomb_sig_ok(buf, len, &t))
        snprintf(why, sizeof(why), "its signature (epoch %" PRIu64 ") does not verify",
                 t.sig.epoch);
    if (!why[0]) {
        if (!v->have_id)
            memcpy(v->id, t.archive_id, ARCHIVE_ID_LEN);
        v->have_id = 1;
        r = tomb_seals(v, &t, why, sizeof(why));
        if (r < 0) {
            free(buf);
            return 1; /* a signer fault, already filled */
        }
    }
    if (why[0]) {
        fault(v, ARCHIVE_FAULT_TOMBSTONE, seq, 0, "tombstone %s: %s", name, why);
        snprintf(res->segment, sizeof(res->segment), "%s", name);
        free(buf);
        return 1;
    }
    if (t.is_signed) {
        struct vtomb *p = realloc(v->pending, (v->npending + 1) * sizeof(*p));

        if (!p) {
            free(buf);
            return -ENOMEM;
        }
        v->pending = p;
        p[v->npending].seq = seq;
        p[v->npending].epoch = t.sig.epoch;
        memcpy(p[v->npending].signer, t.sig.signer, ARCHIVE_PUBKEY_LEN);
        v->npending++;
        if (res->tombstones == 0 || t.sig.epoch < res->tomb_epoch_min)
            res->tomb_epoch_min = t.sig.epoch;
        if (t.sig.epoch > res->tomb_epoch_max)
            res->tomb_epoch_max = t.sig.epoch;
    } else {
        if (res->tomb_unsigned++ == 0)
            v->first_unsigned = seq;
    }
    if (t.records) {
        if (res->removed_records == 0) {
            res->removed_first = t.first_record;
            res->removed_t_min = t.t_min;
        }
        res->removed_last = t.first_record + t.records - 1;
        if (t.t_min < res->removed_t_min)
            res->removed_t_min = t.t_min;
        if (t.t_max > res->removed_t_max)
            res->removed_t_max = t.t_max;
    }
    res->tombstones++;
    res->removed_records += t.records;
    v->next_frame = t.first_frame + t.frames;
    v->records = t.first_record + t.records;
    memcpy(v->head, t.chain_out, ARCHIVE_HASH_LEN);
    v->unsealed = t.tail_unsealed;
    if (t.nseals)
        res->sealed_records = v->records - t.tail_unsealed;
    v->us_min = t.tail_t_min;
    v->us_max = t.tail_t_max;
    free(buf);
    return tomb_signers_check(v);
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
    return tomb_signers_check(v);
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
    v->have_id = 1;
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
    archive_index_builder_init(&v.ix);
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
    /* A missing segment must have left a tombstone (retention). */
    for (size_t i = 0, seq = 0; i < n && r == 0; seq++) {
        if (segs[i] != seq) {
            r = verify_tombstone(&v, dirfd, seq);
            continue;
        }
        r = verify_segment(&v, dirfd, segs[i], !v.have_id);
        i++;
    }
    /* Anyone can write an unsigned tombstone: in a sealed archive it is
     * no proof of anything. */
    if (r == 0 && res->tomb_unsigned && (res->seals || v.pub)) {
        char name[ARCHIVE_TOMB_NAME_LEN + 8];

        archive_tomb_name(v.first_unsigned, name, sizeof(name));
        r = fault(&v, ARCHIVE_FAULT_TOMBSTONE, v.first_unsigned, 0,
                  "unsigned tombstone in a sealed archive (a segment removed without the key)");
        snprintf(res->segment, sizeof(res->segment), "%s", name);
    }
    if (r == 0 && v.npending && v.pub) {
        char name[ARCHIVE_TOMB_NAME_LEN + 8];

        archive_tomb_name(v.pending[0].seq, name, sizeof(name));
        r = fault(&v, ARCHIVE_FAULT_TOMBSTONE, v.pending[0].seq, 0,
                  "tombstone signed by epoch %" PRIu64 ", which the archive's key chain never "
                  "reaches (forged, or the seals after it were cut off)",
                  v.pending[0].epoch);
        snprintf(res->segment, sizeof(res->segment), "%s", name);
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
    archive_index_builder_done(&v.ix);
    free(v.ixbuf);
    free(v.pending);
    close(dirfd);
    return r;
}
