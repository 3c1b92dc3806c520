/*
 * archive_segment.c - the archive's fixed layouts: the segment header, the
 * frame header and its hash, and segment file names.  Every decoder here
 * reads bytes that may have been written by an attacker or torn by a crash:
 * each length is checked against its cap before it is used.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "archive/archive_priv.h"

#define HDR_CHECK_LEN 16  /* segment header check: BLAKE2b-128 */
#define FRAME_CHECK_LEN 8 /* frame header check: BLAKE2b-64 */
#define FRAME_CHECK_OFF (ARCHIVE_FRAME_HASHED + ARCHIVE_HASH_LEN)

void archive_seg_hdr_encode(const struct archive_seg_hdr *h, uint8_t out[ARCHIVE_SEG_HDR_LEN])
{
    memset(out, 0, ARCHIVE_SEG_HDR_LEN);
    memcpy(out, ARCHIVE_SEG_MAGIC, 8);
    archive_put16(out + 8, ARCHIVE_SEG_VERSION);
    archive_put16(out + 10, ARCHIVE_SEG_HDR_LEN);
    archive_put32(out + 12, 0);
    archive_put64(out + 16, h->seq);
    archive_put64(out + 24, h->first_frame);
    archive_put64(out + 32, h->first_record);
    archive_put64(out + 40, (uint64_t)h->created_us);
    memcpy(out + 48, h->archive_id, ARCHIVE_ID_LEN);
    memcpy(out + 64, h->chain_in, ARCHIVE_HASH_LEN);
    crypto_generichash(out + 96, HDR_CHECK_LEN, out, 96, NULL, 0);
}

int archive_seg_hdr_decode(const uint8_t *buf, size_t len, struct archive_seg_hdr *ret,
                           const char **reterr)
{
    uint8_t check[HDR_CHECK_LEN];

    if (len < ARCHIVE_SEG_HDR_LEN) {
        *reterr = "segment shorter than its header";
        return -EBADMSG;
    }
    if (memcmp(buf, ARCHIVE_SEG_MAGIC, 8) != 0) {
        *reterr = "not an archive segment (bad magic)";
        return -EBADMSG;
    }
    if (archive_get16(buf + 8) != ARCHIVE_SEG_VERSION) {
        *reterr = "unknown segment version";
        return -EBADMSG;
    }
    if (archive_get16(buf + 10) != ARCHIVE_SEG_HDR_LEN || archive_get32(buf + 12) != 0) {
        *reterr = "unknown segment header length or flags";
        return -EBADMSG;
    }
    crypto_generichash(check, sizeof(check), buf, 96, NULL, 0);
    if (sodium_memcmp(check, buf + 96, HDR_CHECK_LEN) != 0) {
        *reterr = "segment header check mismatch";
        return -EBADMSG;
    }
    ret->seq = archive_get64(buf + 16);
    ret->first_frame = archive_get64(buf + 24);
    ret->first_record = archive_get64(buf + 32);
    ret->created_us = (int64_t)archive_get64(buf + 40);
    memcpy(ret->archive_id, buf + 48, ARCHIVE_ID_LEN);
    memcpy(ret->chain_in, buf + 64, ARCHIVE_HASH_LEN);
    return 0;
}

void archive_frame_hdr_encode(const struct archive_frame_hdr *h, uint8_t out[ARCHIVE_FRAME_HDR_LEN])
{
    memset(out, 0, ARCHIVE_FRAME_HDR_LEN);
    memcpy(out, ARCHIVE_FRAME_MAGIC, 4);
    out[4] = h->type;
    out[5] = h->codec;
    archive_put16(out + 6, ARCHIVE_FRAME_HDR_LEN);
    archive_put32(out + 8, h->payload_len);
    archive_put32(out + 12, h->raw_len);
    archive_put32(out + 16, h->nrecords);
    archive_put32(out + 20, h->index_len);
    archive_put64(out + 24, h->seq);
    archive_put64(out + 32, h->first_record);
    archive_put64(out + 40, (uint64_t)h->t_min);
    archive_put64(out + 48, (uint64_t)h->t_max);
    memcpy(out + 56, h->prev, ARCHIVE_HASH_LEN);
}

static void frame_hash(const uint8_t *hdr, const uint8_t *payload, size_t payload_len,
                       uint8_t out[ARCHIVE_HASH_LEN])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, ARCHIVE_HASH_LEN);
    crypto_generichash_update(&st, hdr, ARCHIVE_FRAME_HASHED);
    crypto_generichash_update(&st, payload, payload_len);
    crypto_generichash_final(&st, out, ARCHIVE_HASH_LEN);
}

void archive_frame_finish(struct archive_frame_hdr *h, uint8_t out[ARCHIVE_FRAME_HDR_LEN],
                          const uint8_t *payload, size_t payload_len)
{
    frame_hash(out, payload, payload_len, h->hash);
    memcpy(out + ARCHIVE_FRAME_HASHED, h->hash, ARCHIVE_HASH_LEN);
    crypto_generichash(out + FRAME_CHECK_OFF, FRAME_CHECK_LEN, out, FRAME_CHECK_OFF, NULL, 0);
}

int archive_frame_hdr_decode(const uint8_t *buf, size_t len, struct archive_frame_hdr *ret,
                             const char **reterr)
{
    uint8_t check[FRAME_CHECK_LEN];

    if (len < ARCHIVE_FRAME_HDR_LEN) {
        *reterr = "frame header cut short";
        return -EBADMSG;
    }
    if (memcmp(buf, ARCHIVE_FRAME_MAGIC, 4) != 0) {
        *reterr = "no frame here (bad magic)";
        return -EBADMSG;
    }
    crypto_generichash(check, sizeof(check), buf, FRAME_CHECK_OFF, NULL, 0);
    if (sodium_memcmp(check, buf + FRAME_CHECK_OFF, FRAME_CHECK_LEN) != 0) {
        *reterr = "frame header check mismatch";
        return -EBADMSG;
    }
    ret->type = buf[4];
    ret->codec = buf[5];
    ret->payload_len = archive_get32(buf + 8);
    ret->raw_len = archive_get32(buf + 12);
    ret->nrecords = archive_get32(buf + 16);
    ret->index_len = archive_get32(buf + 20);
    ret->seq = archive_get64(buf + 24);
    ret->first_record = archive_get64(buf + 32);
    ret->t_min = (int64_t)archive_get64(buf + 40);
    ret->t_max = (int64_t)archive_get64(buf + 48);
    memcpy(ret->prev, buf + 56, ARCHIVE_HASH_LEN);
    memcpy(ret->hash, buf + ARCHIVE_FRAME_HASHED, ARCHIVE_HASH_LEN);
    if (archive_get16(buf + 6) != ARCHIVE_FRAME_HDR_LEN) {
        *reterr = "unknown frame header length";
        return -EBADMSG;
    }
    if (ret->type == ARCHIVE_FRAME_BLOCK) {
        if (ret->codec != ARCHIVE_CODEC_ZSTD && ret->codec != ARCHIVE_CODEC_NONE) {
            *reterr = "unknown block codec";
            return -EBADMSG;
        }
        /* Caps before anything is allocated from these numbers. */
        if (ret->raw_len > LIMIT_ARCHIVE_BLOCK_RAW || ret->payload_len > LIMIT_ARCHIVE_BLOCK_RAW ||
            ret->nrecords == 0 || ret->nrecords > ret->raw_len / ARCHIVE_REC_HDR_LEN ||
            ret->index_len > ARCHIVE_INDEX_MAX || ret->index_len > ret->payload_len ||
            (ret->codec == ARCHIVE_CODEC_NONE &&
             ret->payload_len - ret->index_len != ret->raw_len) ||
            ret->t_min > ret->t_max) {
            *reterr = "block header out of bounds";
            return -EBADMSG;
        }
    } else if (ret->type == ARCHIVE_FRAME_SEAL) {
        if (ret->codec != ARCHIVE_CODEC_NONE || ret->payload_len != ARCHIVE_SEAL_LEN ||
            ret->raw_len != ARCHIVE_SEAL_LEN || ret->index_len != 0) {
            *reterr = "seal header out of bounds";
            return -EBADMSG;
        }
    } else {
        *reterr = "unknown frame type";
        return -EBADMSG;
    }
    return 0;
}

int archive_frame_hash_ok(const uint8_t hdr[ARCHIVE_FRAME_HDR_LEN],
                          const struct archive_frame_hdr *h, const uint8_t *payload)
{
    uint8_t hash[ARCHIVE_HASH_LEN];

    frame_hash(hdr, payload, h->payload_len, hash);
    return sodium_memcmp(hash, h->hash, ARCHIVE_HASH_LEN) == 0;
}

void archive_seg_name(uint64_t seq, char *out, size_t size)
{
    snprintf(out, size, "seg-%016" PRIx64 ".hka", seq);
}

int archive_seg_name_parse(const char *name, uint64_t *ret_seq)
{
    uint64_t v = 0;

    if (strlen(name) != ARCHIVE_SEG_NAME_LEN || strncmp(name, "seg-", 4) != 0 ||
        strcmp(name + 20, ".hka") != 0)
        return 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];

        if (c >= '0' && c <= '9')
            v = (v << 4) | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = (v << 4) | (uint64_t)(c - 'a' + 10);
        else
            return 0;
    }
    *ret_seq = v;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int archive_seg_list(int dirfd, uint64_t **ret, size_t *ret_n)
{
    uint64_t *v = NULL, seq;
    size_t n = 0, cap = 0;
    struct dirent *de;
    DIR *d;
    int fd, r = 0;

    fd = dup(dirfd);
    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (!d) {
        r = -errno;
        close(fd);
        return r;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        if (!archive_seg_name_parse(de->d_name, &seq))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, ncap * sizeof(*v));

            if (!nv) {
                r = -ENOMEM;
                goto out;
            }
            v = nv;
            cap = ncap;
        }
        v[n++] = seq;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_u64);
out:
    closedir(d);
    if (r < 0) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int archive_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}
