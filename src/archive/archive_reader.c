/*
 * archive_reader.c - reads records back, oldest segment first, skipping
 * blocks whose time range misses the one asked for without reading or
 * decompressing them, and, for a hunt, blocks whose index says they cannot
 * hold what it looks for.  A block that fails its hash or does not decode is
 * skipped and counted; a damaged segment is left at the damage and the
 * next one read: the reader never stops on bad bytes (archive_verify is
 * what says where they are).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive_priv.h"

struct archive_reader {
    int dirfd;
    uint64_t *segs; /* segment numbers, sorted (owned) */
    size_t nsegs, iseg;
    struct archive_scan s;
    int scanning; /* 1: s is an open segment */
    int64_t from, to;
    uint8_t *raw; /* the decompressed block (owned) */
    size_t raw_cap;
    struct archive_block_iter it; /* over raw */
    int in_block;
    uint64_t blk_first;  /* number of the open block's first record */
    uint64_t from_rec;   /* records numbered below it are not returned */
    uint64_t last_no;    /* number of the record last returned */
    uint64_t read, skipped, corrupt;
    int (*may_match)(void *ctx, const struct archive_index *ix);
    void *may_ctx;
    uint8_t *ixbuf; /* the block's index, read alone (owned) */
    uint64_t ix_skipped, ix_seen;
};

int archive_reader_open(const char *dir, int64_t from_us, int64_t to_us,
                        struct archive_reader **ret)
{
    struct archive_reader *r = calloc(1, sizeof(*r));
    int e;

    if (!r)
        return -ENOMEM;
    r->s.fd = -1;
    r->from = from_us;
    r->to = to_us;
    r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dirfd < 0) {
        e = -errno;
        free(r);
        return e;
    }
    e = archive_seg_list(r->dirfd, &r->segs, &r->nsegs);
    if (e == 0 && r->nsegs == 0)
        e = -ENOENT;
    if (e < 0) {
        archive_reader_free(r);
        return e;
    }
    *ret = r;
    return 0;
}

/* 0 when the block just scanned has an index that rules it out.  An index
 * that cannot be read or decoded rules nothing out: the block is read and
 * its hash check decides. */
static int index_allows(struct archive_reader *r)
{
    const struct archive_frame_hdr *fh = &r->s.fh;
    struct archive_index ix;
    const char *why;

    if (!r->may_match || fh->index_len == 0 || fh->index_len > ARCHIVE_INDEX_MAX)
        return 1;
    if (!r->ixbuf && !(r->ixbuf = malloc(ARCHIVE_INDEX_MAX)))
        return 1;
    if (archive_pread_full(r->s.fd, r->ixbuf, fh->index_len,
                           r->s.off + ARCHIVE_FRAME_HDR_LEN + fh->payload_len - fh->index_len) < 0 ||
        archive_index_decode(r->ixbuf, fh->index_len, &ix, &why) < 0)
        return 1;
    r->ix_seen++;
    if (r->may_match(r->may_ctx, &ix))
        return 1;
    r->ix_skipped++;
    return 0;
}

/* Positions r->raw on the next block in range: 1, 0 at the end, -errno. */
static int next_block(struct archive_reader *r)
{
    const char *why;
    int what;

    for (;;) {
        if (!r->scanning) {
            if (r->iseg == r->nsegs)
                return 0;
            if (archive_scan_open(r->dirfd, r->segs[r->iseg++], 0, &r->s) < 0) {
                archive_scan_done(&r->s);
                r->corrupt++;
                continue;
            }
            r->scanning = 1;
        }
        what = archive_scan_next(&r->s, 0);
        if (what < 0 && what != -EIO)
            return what;
        if (what != ARCHIVE_SCAN_FRAME) {
            if (what != ARCHIVE_SCAN_END)
                r->corrupt++;
            archive_scan_done(&r->s);
            r->scanning = 0;
            continue;
        }
        if (r->s.fh.type != ARCHIVE_FRAME_BLOCK)
            continue;
        if (r->s.fh.t_max < r->from || r->s.fh.t_min >= r->to ||
            r->s.fh.first_record + r->s.fh.nrecords <= r->from_rec) {
            r->skipped++;
            continue;
        }
        if (!index_allows(r))
            continue;
        what = archive_scan_payload(&r->s);
        if (what == -ENOMEM)
            return what;
        if (what < 0 ||
            archive_block_inflate(&r->s.fh, r->s.payload, &r->raw, &r->raw_cap, &why) < 0) {
            r->corrupt++;
            continue;
        }
        if (archive_block_iter_init(&r->it, r->raw, r->s.fh.raw_len, r->s.fh.nrecords, &why) < 0) {
            r->corrupt++;
            continue;
        }
        r->blk_first = r->s.fh.first_record;
        r->read++;
        return 1;
    }
}

int archive_reader_next(struct archive_reader *r, struct archive_record *ret)
{
    const char *why;
    int e;

    for (;;) {
        while (r->in_block) {
            e = archive_block_iter_next(&r->it, ret, &why);
            if (e == 0)
                break;
            if (e < 0) {
                r->corrupt++;
                break;
            }
            /* it.i is one past the record just read */
            if (r->blk_first + r->it.i - 1 < r->from_rec)
                continue;
            if (ret->recv_us >= r->from && ret->recv_us < r->to) {
                r->last_no = r->blk_first + r->it.i - 1;
                return 1;
            }
        }
        r->in_block = 0;
        e = next_block(r);
        if (e <= 0)
            return e;
        r->in_block = 1;
    }
}

void archive_reader_from_record(struct archive_reader *r, uint64_t from)
{
    r->from_rec = from;
}

uint64_t archive_reader_record_no(const struct archive_reader *r)
{
    return r->last_no;
}

void archive_reader_counts(const struct archive_reader *r, uint64_t *ret_read,
                           uint64_t *ret_skipped, uint64_t *ret_corrupt)
{
    *ret_read = r->read;
    *ret_skipped = r->skipped;
    *ret_corrupt = r->corrupt;
}

void archive_reader_set_index(struct archive_reader *r,
                              int (*may_match)(void *ctx, const struct archive_index *ix),
                              void *ctx)
{
    r->may_match = may_match;
    r->may_ctx = ctx;
}

void archive_reader_index_counts(const struct archive_reader *r, uint64_t *ret_skipped,
                                 uint64_t *ret_indexed)
{
    *ret_skipped = r->ix_skipped;
    *ret_indexed = r->ix_seen;
}

void archive_reader_free(struct archive_reader *r)
{
    if (!r)
        return;
    free(r->ixbuf);
    archive_scan_done(&r->s);
    if (r->dirfd >= 0)
        close(r->dirfd);
    free(r->segs);
    free(r->raw);
    free(r);
}
