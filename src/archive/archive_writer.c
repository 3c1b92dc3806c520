/*
 * archive_writer.c - appends records to the archive: gathers them into a
 * block, compresses and chains each block, rolls segments, and seals.
 *
 * One writer per archive directory at a time (the caller's business: the
 * daemon holds it).  Opening continues the chain where the last segment
 * ends, cutting a torn tail; anything else wrong with the last segment stops
 * the open, since appending after damage would bury it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "archive/archive_priv.h"

#define BLOCK_RECORDS_DEFAULT 65536
#define ZSTD_LEVEL_DEFAULT 3

struct archive_writer {
    int dirfd;
    struct archive_writer_opts o; /* defaults filled in */
    struct archive_key *key;      /* borrowed; NULL: no seals */
    int fd;                       /* open segment, -1 before the first */
    uint64_t seg_seq;             /* its number */
    uint64_t seg_size;            /* its length: where the next frame goes */
    uint64_t seg_frames;          /* frames in it */
    uint8_t archive_id[ARCHIVE_ID_LEN];
    uint64_t next_frame;            /* chain position of the next frame */
    uint8_t head[ARCHIVE_HASH_LEN]; /* hash of the last frame (zeros: none) */
    uint64_t flushed;               /* records in frames on disk */
    /* The open block: records not yet written, as the two columns of
     * archive_block.c (heads, then variable parts), joined at flush. */
    uint8_t *blk; /* heads; at flush, heads and data */
    size_t blk_cap;
    uint8_t *dat; /* variable parts */
    size_t dat_len, dat_cap;
    uint32_t blk_n;
    int64_t blk_min, blk_max, blk_prev;
    /* Records since the last seal, written or not. */
    uint64_t unsealed;
    int64_t us_min, us_max;
    uint8_t *zbuf;
    size_t zcap;
    ZSTD_CCtx *cctx;
    uint64_t appended;
    struct archive_index_builder ix; /* the open block's index */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Creates segment w->seg_seq with its header; the chain goes on from
 * w->head at w->next_frame. */
static int segment_create(struct archive_writer *w)
{
    struct archive_seg_hdr h = {0};
    uint8_t buf[ARCHIVE_SEG_HDR_LEN];
    char name[ARCHIVE_SEG_NAME_LEN + 1];
    ssize_t n;
    int fd;

    h.seq = w->seg_seq;
    h.first_frame = w->next_frame;
    h.first_record = w->flushed;
    h.created_us = now_us();
    memcpy(h.archive_id, w->archive_id, ARCHIVE_ID_LEN);
    memcpy(h.chain_in, w->head, ARCHIVE_HASH_LEN);
    archive_seg_hdr_encode(&h, buf);
    archive_seg_name(w->seg_seq, name, sizeof(name));
    fd = openat(w->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    n = pwrite(fd, buf, sizeof(buf), 0);
    if (n != (ssize_t)sizeof(buf) || fdatasync(fd) < 0 || fsync(w->dirfd) < 0) {
        int r = n < 0 ? -errno : -EIO;

        close(fd);
        (void)unlinkat(w->dirfd, name, 0);
        return r;
    }
    w->fd = fd;
    w->seg_size = ARCHIVE_SEG_HDR_LEN;
    w->seg_frames = 0;
    return 0;
}

static int segment_roll(struct archive_writer *w)
{
    if (w->fd >= 0) {
        if (fdatasync(w->fd) < 0)
            return -errno;
        close(w->fd);
        w->fd = -1;
    }
    w->seg_seq++;
    return segment_create(w);
}

/* Writes one finished frame at the end of the open segment (a new segment
 * first if this one is full) and moves the chain on. */
static int frame_write(struct archive_writer *w, uint8_t *hdr, const struct archive_frame_hdr *fh,
                       uint8_t *payload)
{
    size_t len = ARCHIVE_FRAME_HDR_LEN + fh->payload_len;
    struct iovec iov[2];
    ssize_t n;
    int r;

    if (w->seg_frames > 0 && w->seg_size + len > w->o.segment_bytes) {
        r = segment_roll(w);
        if (r < 0)
            return r;
    }
    iov[0].iov_base = hdr;
    iov[0].iov_len = ARCHIVE_FRAME_HDR_LEN;
    iov[1].iov_base = payload;
    iov[1].iov_len = fh->payload_len;
    n = pwritev(w->fd, iov, 2, (off_t)w->seg_size);
    if (n != (ssize_t)len) {
        r = n < 0 ? -errno : -EIO;
        /* Leave no half frame behind for the next open to cut. */
        (void)ftruncate(w->fd, (off_t)w->seg_size);
        return r;
    }
    w->seg_size += len;
    w->seg_frames++;
    w->next_frame++;
    memcpy(w->head, fh->hash, ARCHIVE_HASH_LEN);
    return 0;
}

/* Grows *buf to hold `need` bytes. */
static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *nb;
    size_t ncap = *cap ? *cap : 4096;

    if (*cap >= need)
        return 0;
    while (ncap < need)
        ncap *= 2;
    nb = realloc(*buf, ncap);
    if (!nb)
        return -ENOMEM;
    *buf = nb;
    *cap = ncap;
    return 0;
}

int archive_writer_flush(struct archive_writer *w)
{
    struct archive_frame_hdr fh = {0};
    uint8_t hdr[ARCHIVE_FRAME_HDR_LEN];
    uint8_t *payload;
    size_t heads = (size_t)w->blk_n * ARCHIVE_REC_HDR_LEN, len = heads + w->dat_len, z;
    size_t ixlen = w->o.no_index ? 0 : archive_index_builder_size(&w->ix);
    int r;

    if (w->blk_n == 0)
        return 0;
    /* Room for the index after the block in either buffer: the payload is
     * the block's bytes, then its index, hashed and written as one. */
    if (reserve(&w->blk, &w->blk_cap, len + ixlen) < 0 ||
        reserve(&w->zbuf, &w->zcap, ZSTD_compressBound(len) + ixlen) < 0)
        return -ENOMEM;
    memcpy(w->blk + heads, w->dat, w->dat_len);
    payload = w->blk;
    fh.type = ARCHIVE_FRAME_BLOCK;
    fh.codec = ARCHIVE_CODEC_NONE;
    fh.payload_len = (uint32_t)len;
    z = ZSTD_compressCCtx(w->cctx, w->zbuf, w->zcap, w->blk, len, w->o.zstd_level);
    if (!ZSTD_isError(z) && z < len) {
        fh.codec = ARCHIVE_CODEC_ZSTD;
        fh.payload_len = (uint32_t)z;
        payload = w->zbuf;
    }
    if (ixlen) {
        archive_index_builder_write(&w->ix, payload + fh.payload_len, ixlen);
        fh.payload_len += (uint32_t)ixlen;
        fh.index_len = (uint32_t)ixlen;
    }
    fh.raw_len = (uint32_t)len;
    fh.nrecords = w->blk_n;
    fh.seq = w->next_frame;
    fh.first_record = w->flushed;
    fh.t_min = w->blk_min;
    fh.t_max = w->blk_max;
    memcpy(fh.prev, w->head, ARCHIVE_HASH_LEN);
    archive_frame_hdr_encode(&fh, hdr);
    archive_frame_finish(&fh, hdr, payload, fh.payload_len);
    r = frame_write(w, hdr, &fh, payload);
    if (r < 0)
        return r;
    w->flushed += w->blk_n;
    w->blk_n = 0;
    w->dat_len = 0;
    archive_index_builder_reset(&w->ix);
    return 0;
}

struct seal_ctx {
    struct archive_writer *w;
    struct archive_frame_hdr *fh;
    uint8_t *hdr;
};

/* Runs between signing and the key's evolution: the seal must be on disk
 * before the key that signed it is gone. */
static int seal_write(void *ctx, const struct archive_seal *s)
{
    struct seal_ctx *c = ctx;
    uint8_t payload[ARCHIVE_SEAL_LEN];
    int r;

    archive_seal_encode(s, payload);
    archive_frame_finish(c->fh, c->hdr, payload, sizeof(payload));
    r = frame_write(c->w, c->hdr, c->fh, payload);
    if (r == 0 && fdatasync(c->w->fd) < 0)
        r = -errno;
    return r;
}

int archive_writer_seal(struct archive_writer *w)
{
    struct archive_frame_hdr fh = {0};
    uint8_t hdr[ARCHIVE_FRAME_HDR_LEN];
    struct archive_seal s = {0};
    struct seal_ctx c = {w, &fh, hdr};
    int r;

    r = archive_writer_flush(w);
    if (r < 0 || !w->key || w->unsealed == 0)
        return r;
    fh.type = ARCHIVE_FRAME_SEAL;
    fh.codec = ARCHIVE_CODEC_NONE;
    fh.payload_len = fh.raw_len = ARCHIVE_SEAL_LEN;
    fh.nrecords = (uint32_t)w->unsealed;
    fh.seq = w->next_frame;
    fh.first_record = w->flushed;
    fh.t_min = w->us_min;
    fh.t_max = w->us_max;
    memcpy(fh.prev, w->head, ARCHIVE_HASH_LEN);
    archive_frame_hdr_encode(&fh, hdr);
    memcpy(s.archive_id, w->archive_id, ARCHIVE_ID_LEN);
    r = archive_seal_sign(w->key, &s, hdr, seal_write, &c);
    if (r < 0)
        return r;
    w->unsealed = 0;
    return 0;
}

int archive_writer_sync(struct archive_writer *w)
{
    int r = archive_writer_flush(w);

    if (r == 0 && w->fd >= 0 && fdatasync(w->fd) < 0)
        r = -errno;
    return r;
}

int archive_writer_tick(struct archive_writer *w, int64_t now)
{
    if (w->key && w->unsealed && w->o.seal_us > 0 && now - w->us_min >= w->o.seal_us)
        return archive_writer_seal(w);
    return 0;
}

int archive_writer_append(struct archive_writer *w, const struct archive_record *rec)
{
    size_t need;
    int r;

    if (rec->input_len > ARCHIVE_INPUT_NAME_MAX || rec->raw_len > ARCHIVE_RECORD_MAX ||
        (rec->peer_family != 0 && rec->peer_family != 4 && rec->peer_family != 6) ||
        (rec->input_len && !rec->input) || (rec->raw_len && !rec->raw))
        return -EINVAL;
    need = archive_block_data_size(rec);
    if (w->blk_n > 0 &&
        (size_t)(w->blk_n + 1) * ARCHIVE_REC_HDR_LEN + w->dat_len + need > w->o.block_bytes) {
        r = archive_writer_flush(w);
        if (r < 0)
            return r;
    }
    if (reserve(&w->blk, &w->blk_cap, (size_t)(w->blk_n + 1) * ARCHIVE_REC_HDR_LEN) < 0 ||
        reserve(&w->dat, &w->dat_cap, w->dat_len + need) < 0)
        return -ENOMEM;
    archive_block_rec_put(w->blk + (size_t)w->blk_n * ARCHIVE_REC_HDR_LEN, w->dat + w->dat_len, rec,
                          w->blk_n ? w->blk_prev : 0);
    w->dat_len += need;
    if (!w->o.no_index && archive_index_builder_add(&w->ix, rec->raw, rec->raw_len) < 0)
        w->ix.over = 1; /* out of memory: this block goes without an index */
    w->blk_prev = rec->recv_us;
    if (w->blk_n == 0 || rec->recv_us < w->blk_min)
        w->blk_min = rec->recv_us;
    if (w->blk_n == 0 || rec->recv_us > w->blk_max)
        w->blk_max = rec->recv_us;
    if (w->unsealed == 0 || rec->recv_us < w->us_min)
        w->us_min = rec->recv_us;
    if (w->unsealed == 0 || rec->recv_us > w->us_max)
        w->us_max = rec->recv_us;
    w->blk_n++;
    w->unsealed++;
    w->appended++;
    if ((size_t)w->blk_n * ARCHIVE_REC_HDR_LEN + w->dat_len >= w->o.block_bytes ||
        w->blk_n >= w->o.block_records) {
        r = archive_writer_flush(w);
        if (r < 0)
            return r;
    }
    if (w->key &&
        ((w->o.seal_records && w->unsealed >= w->o.seal_records) || w->unsealed >= UINT32_MAX - 1))
        return archive_writer_seal(w);
    return archive_writer_tick(w, rec->recv_us);
}

uint64_t archive_writer_records(const struct archive_writer *w)
{
    return w->flushed + w->blk_n;
}

/* State carried back from the segments: where the last seal stands. */
struct open_state {
    int have_seal;
    struct archive_seal last; /* the last seal, if have_seal */
    uint64_t unsealed;        /* records in blocks after it */
    int64_t us_min, us_max;
};

static void note_frame(struct open_state *st, const struct archive_frame_hdr *fh)
{
    if (fh->type != ARCHIVE_FRAME_BLOCK)
        return;
    if (st->unsealed == 0 || fh->t_min < st->us_min)
        st->us_min = fh->t_min;
    if (st->unsealed == 0 || fh->t_max > st->us_max)
        st->us_max = fh->t_max;
    st->unsealed += fh->nrecords;
}

/* Walks the last segment whole, checking each frame against the chain, and
 * cuts a torn tail.  Leaves w positioned after its last frame. */
static int open_last(struct archive_writer *w, uint64_t seq, struct open_state *st,
                     struct archive_open_report *rep)
{
    struct archive_scan s;
    const char *why;
    int r, what;

    r = archive_scan_open(w->dirfd, seq, 1, &s);
    if (r < 0)
        goto out;
    memcpy(w->archive_id, s.seg.archive_id, ARCHIVE_ID_LEN);
    memcpy(w->head, s.seg.chain_in, ARCHIVE_HASH_LEN);
    w->next_frame = s.seg.first_frame;
    w->flushed = s.seg.first_record;
    w->seg_seq = seq;
    w->seg_frames = 0;
    while ((what = archive_scan_next(&s, 1)) == ARCHIVE_SCAN_FRAME) {
        if (s.fh.seq != w->next_frame || sodium_memcmp(s.fh.prev, w->head, ARCHIVE_HASH_LEN) != 0 ||
            s.fh.first_record != w->flushed) {
            r = -EBADMSG;
            goto out;
        }
        if (s.fh.type == ARCHIVE_FRAME_SEAL) {
            if (archive_seal_decode(s.payload, s.fh.payload_len, &st->last, &why) < 0) {
                r = -EBADMSG;
                goto out;
            }
            st->have_seal = 1;
            st->unsealed = 0;
        } else {
            note_frame(st, &s.fh);
            w->flushed += s.fh.nrecords;
        }
        w->next_frame++;
        w->seg_frames++;
        memcpy(w->head, s.fh.hash, ARCHIVE_HASH_LEN);
    }
    if (what < 0 || what == ARCHIVE_SCAN_BAD) {
        r = what < 0 ? what : -EBADMSG;
        goto out;
    }
    if (what == ARCHIVE_SCAN_TORN) {
        rep->dropped_bytes = s.size - s.off;
        rep->dropped_unknown = !s.fh_ok;
        rep->dropped_records = s.fh_ok && s.fh.type == ARCHIVE_FRAME_BLOCK ? s.fh.nrecords : 0;
        archive_seg_name(seq, rep->segment, sizeof(rep->segment));
        if (ftruncate(s.fd, (off_t)s.off) < 0 || fdatasync(s.fd) < 0) {
            r = -errno;
            goto out;
        }
    }
    w->fd = s.fd;
    s.fd = -1;
    w->seg_size = s.off;
out:
    archive_scan_done(&s);
    return r;
}

/* Walks earlier segments backwards (headers only) until a seal, so the
 * first seal after the open covers every record since the last one. */
static int open_earlier(struct archive_writer *w, const uint64_t *segs, size_t n,
                        struct open_state *st)
{
    for (size_t i = n; i-- > 0 && !st->have_seal;) {
        struct open_state seg = {0};
        struct archive_scan s;
        int what, r;

        r = archive_scan_open(w->dirfd, segs[i], 0, &s);
        if (r < 0) {
            archive_scan_done(&s);
            return r;
        }
        while ((what = archive_scan_next(&s, 0)) == ARCHIVE_SCAN_FRAME) {
            if (s.fh.type == ARCHIVE_FRAME_SEAL) {
                uint8_t p[ARCHIVE_SEAL_LEN];
                const char *why;

                /* Blocks before a seal are sealed: start again after it,
                 * with the seal's payload for its next key. */
                seg = (struct open_state){0};
                seg.have_seal = 1;
                if (archive_pread_full(s.fd, p, sizeof(p), s.off + ARCHIVE_FRAME_HDR_LEN) < 0 ||
                    archive_seal_decode(p, sizeof(p), &seg.last, &why) < 0) {
                    archive_scan_done(&s);
                    return -EBADMSG;
                }
            } else {
                note_frame(&seg, &s.fh);
            }
        }
        archive_scan_done(&s);
        if (what != ARCHIVE_SCAN_END)
            return what < 0 ? what : -EBADMSG;
        /* seg's blocks come before st's: merge. */
        if (seg.unsealed) {
            if (st->unsealed == 0 || seg.us_min < st->us_min)
                st->us_min = seg.us_min;
            if (st->unsealed == 0 || seg.us_max > st->us_max)
                st->us_max = seg.us_max;
            st->unsealed += seg.unsealed;
        }
        if (seg.have_seal) {
            st->have_seal = 1;
            st->last = seg.last;
        }
    }
    return 0;
}

/* Brings the key in step with the archive's last seal. */
static int open_key(struct archive_writer *w, const struct open_state *st,
                    struct archive_open_report *rep)
{
    uint64_t want = st->have_seal ? st->last.epoch + 1 : 0;
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    int r;

    if (!w->key)
        return 0;
    if (archive_key_epoch(w->key) + 1 == want) {
        /* The seal reached the disk, the evolved key did not. */
        r = archive_key_evolve_to(w->key, want);
        if (r < 0)
            return r;
    }
    if (archive_key_epoch(w->key) < want)
        return -EKEYREJECTED; /* an older key than the archive's */
    if (archive_key_epoch(w->key) > want) {
        rep->seal_gap = archive_key_epoch(w->key) - want;
        return 0;
    }
    if (st->have_seal) {
        archive_key_pub(w->key, pub);
        if (sodium_memcmp(pub, st->last.next, ARCHIVE_PUBKEY_LEN) != 0)
            return -EKEYREJECTED; /* not the key chain that sealed it */
    }
    return 0;
}

/* A crash while a segment was created can leave it shorter than its
 * header: it never held a frame, so it is removed (and reported).  1 when
 * removed, 0 when the segment is whole, -errno. */
static int drop_unborn(struct archive_writer *w, uint64_t seq, struct archive_open_report *rep)
{
    char name[ARCHIVE_SEG_NAME_LEN + 1];
    struct stat st;

    archive_seg_name(seq, name, sizeof(name));
    if (fstatat(w->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_size >= ARCHIVE_SEG_HDR_LEN)
        return 0;
    if (unlinkat(w->dirfd, name, 0) < 0)
        return -errno;
    rep->dropped_bytes = (uint64_t)st.st_size;
    rep->dropped_unknown = 0;
    snprintf(rep->segment, sizeof(rep->segment), "%s", name);
    return 1;
}

static void opts_defaults(struct archive_writer_opts *o)
{
    if (o->block_bytes == 0)
        o->block_bytes = LIMIT_ARCHIVE_BLOCK_DEFAULT;
    if (o->block_bytes > LIMIT_ARCHIVE_BLOCK_RAW / 2)
        o->block_bytes = LIMIT_ARCHIVE_BLOCK_RAW / 2;
    if (o->block_records == 0)
        o->block_records = BLOCK_RECORDS_DEFAULT;
    if (o->segment_bytes == 0)
        o->segment_bytes = LIMIT_ARCHIVE_SEGMENT_DEFAULT;
    if (o->zstd_level == 0)
        o->zstd_level = ZSTD_LEVEL_DEFAULT;
}

int archive_writer_open(const char *dir, const struct archive_writer_opts *opts,
                        struct archive_key *key, struct archive_writer **ret,
                        struct archive_open_report *rep)
{
    struct archive_writer *w;
    struct open_state st = {0};
    uint64_t *segs = NULL;
    size_t n = 0;
    int r;

    memset(rep, 0, sizeof(*rep));
    if (sodium_init() < 0)
        return -EIO;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fd = -1;
    w->dirfd = -1;
    w->key = key;
    if (opts)
        w->o = *opts;
    opts_defaults(&w->o);
    w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0) {
        r = -errno;
        goto out;
    }
    archive_index_builder_init(&w->ix);
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) {
        r = -ENOMEM;
        goto out;
    }
    r = archive_seg_list(w->dirfd, &segs, &n);
    if (r < 0)
        goto out;
    if (n > 0) {
        r = drop_unborn(w, segs[n - 1], rep);
        if (r < 0)
            goto out;
        n -= (size_t)r;
    }
    if (n == 0) {
        randombytes_buf(w->archive_id, ARCHIVE_ID_LEN);
        r = segment_create(w);
    } else {
        r = open_last(w, segs[n - 1], &st, rep);
        if (r == 0 && !st.have_seal)
            r = open_earlier(w, segs, n - 1, &st);
    }
    if (r < 0)
        goto out;
    w->unsealed = st.unsealed;
    w->us_min = st.us_min;
    w->us_max = st.us_max;
    r = open_key(w, &st, rep);
    if (r < 0)
        goto out;
    rep->records = w->flushed;
    *ret = w;
    w = NULL;
out:
    free(segs);
    if (w) {
        w->key = NULL; /* nothing to seal on a failed open */
        w->blk_n = 0;
        (void)archive_writer_close(w);
    }
    return r;
}

int archive_writer_close(struct archive_writer *w)
{
    int r = 0, r2;

    if (!w)
        return 0;
    if (w->fd >= 0) {
        r = archive_writer_seal(w);
        r2 = fdatasync(w->fd) < 0 ? -errno : 0;
        if (r == 0)
            r = r2;
        close(w->fd);
    }
    if (w->dirfd >= 0)
        close(w->dirfd);
    ZSTD_freeCCtx(w->cctx);
    archive_index_builder_done(&w->ix);
    free(w->blk);
    free(w->dat);
    free(w->zbuf);
    free(w);
    return r;
}
