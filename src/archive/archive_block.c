/*
 * archive_block.c - records inside a block: their byte layout, the checks
 * a decompressed block must pass, and decompression bounded by the caps.
 *
 * A record in a decompressed block (little-endian):
 *   0  u32  raw length          4  u16 flags       6  u8 input name length
 *   7  u8   peer family (0/4/6) 8  i64 receive µs  16 u16 peer port
 *   18 input name, peer address (0, 4 or 16 bytes), raw bytes
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

size_t archive_block_rec_size(const struct archive_record *rec)
{
    return ARCHIVE_REC_HDR_LEN + rec->input_len + addr_len(rec->peer_family) + rec->raw_len;
}

void archive_block_rec_put(uint8_t *out, const struct archive_record *rec)
{
    size_t al = addr_len(rec->peer_family);

    archive_put32(out, (uint32_t)rec->raw_len);
    archive_put16(out + 4, rec->flags);
    out[6] = (uint8_t)rec->input_len;
    out[7] = al ? rec->peer_family : 0;
    archive_put64(out + 8, (uint64_t)rec->recv_us);
    archive_put16(out + 16, al ? rec->peer_port : 0);
    out += ARCHIVE_REC_HDR_LEN;
    if (rec->input_len)
        memcpy(out, rec->input, rec->input_len);
    out += rec->input_len;
    if (al)
        memcpy(out, rec->peer_addr, al);
    out += al;
    if (rec->raw_len)
        memcpy(out, rec->raw, rec->raw_len);
}

int archive_block_rec_get(const uint8_t *buf, size_t len, size_t *off,
                          struct archive_record *ret, const char **reterr)
{
    size_t o = *off, al, need;
    const uint8_t *p;

    if (o > len || len - o < ARCHIVE_REC_HDR_LEN) {
        *reterr = "record head cut short";
        return -EBADMSG;
    }
    p = buf + o;
    memset(ret, 0, sizeof(*ret));
    ret->raw_len = archive_get32(p);
    ret->flags = archive_get16(p + 4);
    ret->input_len = p[6];
    ret->peer_family = p[7];
    ret->recv_us = (int64_t)archive_get64(p + 8);
    ret->peer_port = archive_get16(p + 16);
    if (ret->peer_family != 0 && ret->peer_family != 4 && ret->peer_family != 6) {
        *reterr = "record with an unknown address family";
        return -EBADMSG;
    }
    if (ret->raw_len > ARCHIVE_RECORD_MAX) {
        *reterr = "record longer than the largest kept";
        return -EBADMSG;
    }
    al = addr_len(ret->peer_family);
    need = ARCHIVE_REC_HDR_LEN + ret->input_len + al + ret->raw_len;
    if (len - o < need) {
        *reterr = "record runs past the end of its block";
        return -EBADMSG;
    }
    p += ARCHIVE_REC_HDR_LEN;
    ret->input = (const char *)p;
    p += ret->input_len;
    memcpy(ret->peer_addr, p, al);
    p += al;
    ret->raw = p;
    *off = o + need;
    return 0;
}

int archive_block_check(const uint8_t *buf, size_t len, const struct archive_frame_hdr *h,
                        const char **reterr)
{
    struct archive_record rec;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    size_t off = 0;
    uint32_t n = 0;
    int r;

    while (off < len) {
        if (n == h->nrecords) {
            *reterr = "block holds more records than its header says";
            return -EBADMSG;
        }
        r = archive_block_rec_get(buf, len, &off, &rec, reterr);
        if (r < 0)
            return r;
        if (rec.recv_us < h->t_min || rec.recv_us > h->t_max) {
            *reterr = "record time outside its block's range";
            return -EBADMSG;
        }
        lo = rec.recv_us < lo ? rec.recv_us : lo;
        hi = rec.recv_us > hi ? rec.recv_us : hi;
        n++;
    }
    if (n != h->nrecords) {
        *reterr = "block holds fewer records than its header says";
        return -EBADMSG;
    }
    if (lo != h->t_min || hi != h->t_max) {
        *reterr = "block time range wider than its records";
        return -EBADMSG;
    }
    return 0;
}

int archive_block_inflate(const struct archive_frame_hdr *h, const uint8_t *payload,
                          uint8_t **buf, size_t *cap, const char **reterr)
{
    size_t got;

    if (h->raw_len > LIMIT_ARCHIVE_BLOCK_RAW) {
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
        if (h->payload_len != h->raw_len) {
            *reterr = "stored block length mismatch";
            return -EBADMSG;
        }
        memcpy(*buf, payload, h->raw_len);
        return 0;
    }
    /* ZSTD_decompress never writes past the capacity given; a frame that
     * claims or yields another size is refused. */
    got = ZSTD_decompress(*buf, h->raw_len, payload, h->payload_len);
    if (ZSTD_isError(got) || got != h->raw_len) {
        *reterr = "block does not decompress to its length";
        return -EBADMSG;
    }
    return 0;
}
