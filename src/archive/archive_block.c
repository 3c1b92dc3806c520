/*
 * archive_block.c - records inside a block: their byte layout, the checks
 * a decompressed block must pass, and decompression bounded by the caps.
 *
 * A decompressed block of n records is two columns: n fixed 18-byte heads,
 * then each record's variable bytes in the same order.  Apart, each column
 * is alike from record to record, which zstd turns into a far better ratio
 * than heads interleaved with text (7.3:1 -> 10:1 on hikeshi-gen's syslog).
 * A head (little-endian):
 *   0  u32 raw length       4  u16 flags        6  u8 input name length
 *   7  u8  peer family      8  u64 receive time, zigzag delta from the
 *                                  record before (the first: from 0)
 *   16 u16 peer port
 * Variable bytes: input name, peer address (0, 4 or 16 bytes), raw bytes.
 * A block frame's payload is the compressed block, then its index
 * (archive_index.c; the header's index_len bytes, 0 in older archives).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "archive/archive_priv.h"

static size_t addr_len(uint8_t family)
{
    return family == 4 ? 4 : family == 6 ? 16 : 0;
}

size_t archive_block_data_size(const struct archive_record *rec)
{
    return rec->input_len + addr_len(rec->peer_family) + rec->raw_len;
}

static uint64_t zigzag(int64_t v)
{
    uint64_t u = (uint64_t)v;

    return (u << 1) ^ (0 - (u >> 63)); /* the sign spread over every bit */
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void archive_block_rec_put(uint8_t head[ARCHIVE_REC_HDR_LEN], uint8_t *data,
                           const struct archive_record *rec, int64_t prev_us)
{
    size_t al = addr_len(rec->peer_family);

    archive_put32(head, (uint32_t)rec->raw_len);
    archive_put16(head + 4, rec->flags);
    head[6] = (uint8_t)rec->input_len;
    head[7] = al ? rec->peer_family : 0;
    /* Wrapping subtraction: any two times have a delta that round-trips. */
    archive_put64(head + 8, zigzag((int64_t)((uint64_t)rec->recv_us - (uint64_t)prev_us)));
    archive_put16(head + 16, al ? rec->peer_port : 0);
    if (rec->input_len)
        memcpy(data, rec->input, rec->input_len);
    data += rec->input_len;
    if (al)
        memcpy(data, rec->peer_addr, al);
    data += al;
    if (rec->raw_len)
        memcpy(data, rec->raw, rec->raw_len);
}

int archive_block_iter_init(struct archive_block_iter *it, const uint8_t *buf, size_t len,
                            uint32_t nrecords, const char **reterr)
{
    memset(it, 0, sizeof(*it));
    if (nrecords > len / ARCHIVE_REC_HDR_LEN) {
        *reterr = "block too short for its records' heads";
        return -EBADMSG;
    }
    it->buf = buf;
    it->len = len;
    it->n = nrecords;
    it->data_off = (size_t)nrecords * ARCHIVE_REC_HDR_LEN;
    return 0;
}

int archive_block_iter_next(struct archive_block_iter *it, struct archive_record *ret,
                            const char **reterr)
{
    const uint8_t *h, *p;
    size_t al, need;

    if (it->i == it->n) {
        if (it->data_off != it->len) {
            *reterr = "bytes after the block's last record";
            return -EBADMSG;
        }
        return 0;
    }
    h = it->buf + (size_t)it->i * ARCHIVE_REC_HDR_LEN;
    memset(ret, 0, sizeof(*ret));
    ret->raw_len = archive_get32(h);
    ret->flags = archive_get16(h + 4);
    ret->input_len = h[6];
    ret->peer_family = h[7];
    ret->recv_us = (int64_t)((uint64_t)it->prev + (uint64_t)unzigzag(archive_get64(h + 8)));
    ret->peer_port = archive_get16(h + 16);
    if (ret->peer_family != 0 && ret->peer_family != 4 && ret->peer_family != 6) {
        *reterr = "record with an unknown address family";
        return -EBADMSG;
    }
    if (ret->raw_len > ARCHIVE_RECORD_MAX) {
        *reterr = "record longer than the largest kept";
        return -EBADMSG;
    }
    al = addr_len(ret->peer_family);
    need = ret->input_len + al + ret->raw_len;
    if (it->len - it->data_off < need) {
        *reterr = "record runs past the end of its block";
        return -EBADMSG;
    }
    p = it->buf + it->data_off;
    ret->input = (const char *)p;
    p += ret->input_len;
    memcpy(ret->peer_addr, p, al);
    p += al;
    ret->raw = p;
    it->data_off += need;
    it->prev = ret->recv_us;
    it->i++;
    return 1;
}

int archive_block_check(const uint8_t *buf, size_t len, const struct archive_frame_hdr *h,
                        const char **reterr)
{
    struct archive_block_iter it;
    struct archive_record rec;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int r;

    r = archive_block_iter_init(&it, buf, len, h->nrecords, reterr);
    if (r < 0)
        return r;
    while ((r = archive_block_iter_next(&it, &rec, reterr)) == 1) {
        if (rec.recv_us < h->t_min || rec.recv_us > h->t_max) {
            *reterr = "record time outside its block's range";
            return -EBADMSG;
        }
        lo = rec.recv_us < lo ? rec.recv_us : lo;
        hi = rec.recv_us > hi ? rec.recv_us : hi;
    }
    if (r < 0)
        return r;
    if (lo != h->t_min || hi != h->t_max) {
        *reterr = "block time range wider than its records";
        return -EBADMSG;
    }
    return 0;
}

int archive_block_inflate(const struct archive_frame_hdr *h, const uint8_t *payload, uint8_t **buf,
                          size_t *cap, const char **reterr)
{
    size_t got, data_len = h->payload_len - h->index_len; /* decode checked <= */

    if (h->raw_len > LIMIT_ARCHIVE_BLOCK_RAW || h->index_len > h->payload_len) {
        *reterr = "block larger than the cap";
        return -EBADMSG;
    }
    if (*cap < h->raw_len || !*buf) {
        size_t ncap = h->raw_len ? h->raw_len : 1;
        uint8_t *nb = realloc(*buf, ncap);

        if (!nb)
            return -ENOMEM;
        *buf = nb;
        *cap = ncap;
    }
    if (h->codec == ARCHIVE_CODEC_NONE) {
        if (data_len != h->raw_len) {
            *reterr = "stored block length mismatch";
            return -EBADMSG;
        }
        memcpy(*buf, payload, h->raw_len);
        return 0;
    }
    /* ZSTD_decompress never writes past the capacity given; a frame that
     * claims or yields another size is refused. */
    got = ZSTD_decompress(*buf, h->raw_len, payload, data_len);
    if (ZSTD_isError(got) || got != h->raw_len) {
        *reterr = "block does not decompress to its length";
        return -EBADMSG;
    }
    return 0;
}
