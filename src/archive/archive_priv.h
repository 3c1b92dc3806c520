/*
 * archive_priv.h - the archive's byte layout and the pieces its writer,
 * reader and verifier share.  Not for callers outside src/archive/ (and
 * the archive's own tests and fuzz target).  docs/archive.md is the
 * layout's reference; the offsets below must agree with its tables.
 *
 * Every integer is little-endian.  Hashes are BLAKE2b (libsodium's
 * crypto_generichash), unkeyed: anyone may recompute them, which is why the
 * seals, not the hashes, are what a thief cannot forge.
 */
#ifndef HIKESHI_ARCHIVE_ARCHIVE_PRIV_H
#define HIKESHI_ARCHIVE_ARCHIVE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "archive/archive.h"

#define ARCHIVE_HASH_LEN 32
#define ARCHIVE_ID_LEN 16

/* Segment header: 112 bytes at offset 0 of every segment file. */
#define ARCHIVE_SEG_MAGIC "\x89HKA\r\n\x1a\n"
#define ARCHIVE_SEG_VERSION 1
#define ARCHIVE_SEG_HDR_LEN 112
struct archive_seg_hdr {
    uint64_t seq;          /* segment number: 0, 1, 2, ... */
    uint64_t first_frame;  /* chain position of its first frame */
    uint64_t first_record; /* records in the archive before it */
    int64_t created_us;
    uint8_t archive_id[ARCHIVE_ID_LEN]; /* the same in every segment */
    uint8_t chain_in[ARCHIVE_HASH_LEN]; /* hash of the frame before its first */
};

/* Frame header: 128 bytes before each frame's payload. */
#define ARCHIVE_FRAME_MAGIC "HKFR"
#define ARCHIVE_FRAME_HDR_LEN 128
#define ARCHIVE_FRAME_HASHED 88 /* header bytes the frame hash and a seal cover */
enum archive_frame_type {
    ARCHIVE_FRAME_BLOCK = 1,
    ARCHIVE_FRAME_SEAL = 2,
};
enum archive_codec {
    ARCHIVE_CODEC_NONE = 0,
    ARCHIVE_CODEC_ZSTD = 1,
};
struct archive_frame_hdr {
    uint8_t type;                   /* enum archive_frame_type */
    uint8_t codec;                  /* enum archive_codec */
    uint32_t payload_len;           /* bytes following the header */
    uint32_t raw_len;               /* payload bytes once decompressed */
    uint32_t nrecords;              /* block: its records; seal: records it seals */
    uint32_t index_len;             /* block: index bytes ending the payload (0: none) */
    uint64_t seq;                   /* chain position */
    uint64_t first_record;          /* block: number of its first record; seal: all
                                       records before it */
    int64_t t_min, t_max;           /* receive-time range (µs) of those records */
    uint8_t prev[ARCHIVE_HASH_LEN]; /* hash of the frame before */
    uint8_t hash[ARCHIVE_HASH_LEN]; /* BLAKE2b-256 of header[0..88) + payload */
};

/* A record's head inside a decompressed block (archive_block.c). */
#define ARCHIVE_REC_HDR_LEN 18

/* Seal payload: 152 bytes, stored uncompressed. */
#define ARCHIVE_SEAL_LEN 152
#define ARCHIVE_SEAL_SIGNED 88 /* payload bytes the signature covers */
#define ARCHIVE_SIG_LEN 64
struct archive_seal {
    uint64_t epoch;
    uint8_t archive_id[ARCHIVE_ID_LEN];
    uint8_t signer[ARCHIVE_PUBKEY_LEN]; /* epoch's public key */
    uint8_t next[ARCHIVE_PUBKEY_LEN];   /* next epoch's public key */
    uint8_t sig[ARCHIVE_SIG_LEN];
};

/* Segment file names: seg-<16 lowercase hex digits of seq>.hka */
#define ARCHIVE_SEG_NAME_LEN 24

static inline void archive_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void archive_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void archive_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t archive_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t archive_get32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static inline uint64_t archive_get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- archive_segment.c: headers, names, the frame hash ---- */

void archive_seg_hdr_encode(const struct archive_seg_hdr *h, uint8_t out[ARCHIVE_SEG_HDR_LEN]);
/* -EBADMSG with *reterr set when `buf` is not a segment header we read. */
int archive_seg_hdr_decode(const uint8_t *buf, size_t len, struct archive_seg_hdr *ret,
                           const char **reterr);
/* Encodes everything but hash and the header check, which
 * archive_frame_finish computes over the header and payload. */
void archive_frame_hdr_encode(const struct archive_frame_hdr *h,
                              uint8_t out[ARCHIVE_FRAME_HDR_LEN]);
/* Computes the frame hash over out[0..88) and payload, stores it in
 * out[88..120) and h->hash, then the header check in out[120..128). */
void archive_frame_finish(struct archive_frame_hdr *h, uint8_t out[ARCHIVE_FRAME_HDR_LEN],
                          const uint8_t *payload, size_t payload_len);
/* Decodes and checks a frame header alone (magic, header check, type,
 * codec, lengths within their caps).  -EBADMSG with *reterr set. */
int archive_frame_hdr_decode(const uint8_t *buf, size_t len, struct archive_frame_hdr *ret,
                             const char **reterr);
/* 1 when the frame hash of header `hdr` (raw bytes) and payload is right. */
int archive_frame_hash_ok(const uint8_t hdr[ARCHIVE_FRAME_HDR_LEN],
                          const struct archive_frame_hdr *h, const uint8_t *payload);
/* Writes "seg-%016llx.hka" into out (>= ARCHIVE_SEG_NAME_LEN + 1 bytes). */
void archive_seg_name(uint64_t seq, char *out, size_t size);
/* 1 and *ret_seq when `name` is a segment file name. */
int archive_seg_name_parse(const char *name, uint64_t *ret_seq);
/* The segment numbers found in `dirfd`, sorted (malloc'd array in *ret,
 * count in *ret_n).  -errno. */
int archive_seg_list(int dirfd, uint64_t **ret, size_t *ret_n);
/* Reads exactly `len` bytes at `off`: 0, -EIO on a short read, -errno. */
int archive_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* ---- archive_scan.c: walking the frames of one segment ---- */

/* What archive_scan_next found. */
enum archive_scan_what {
    ARCHIVE_SCAN_END = 0,   /* clean end of the segment */
    ARCHIVE_SCAN_FRAME = 1, /* a frame: s->fh, s->hdr (and s->payload) */
    ARCHIVE_SCAN_TORN = 2,  /* the segment ends inside a frame (s->why) */
    ARCHIVE_SCAN_BAD = 3,   /* a damaged frame with more frames after it (s->why) */
};
struct archive_scan {
    int fd;        /* the segment (owned) */
    uint64_t seq;  /* its number */
    uint64_t size; /* its length when opened */
    uint64_t off;  /* offset of the frame last returned,
                      or of the fault */
    uint64_t next; /* offset of the frame after it */
    struct archive_seg_hdr seg;
    uint8_t hdr[ARCHIVE_FRAME_HDR_LEN];
    struct archive_frame_hdr fh;
    int fh_ok;        /* TORN: 1 when fh was readable */
    uint8_t *payload; /* with payloads: the frame's (owned) */
    size_t payload_cap;
    const char *why; /* static text */
};
/* Opens segment `seq` in `dirfd` and reads its header: 0; -EBADMSG with
 * s->why when the header is bad (s->fd stays open for the caller to
 * close with archive_scan_done); -errno. */
int archive_scan_open(int dirfd, uint64_t seq, int writable, struct archive_scan *s);
/* Reads the next frame.  with_payload: read the payload and check the frame
 * hash; otherwise only the header is read and checked.  Returns an
 * enum archive_scan_what, or -errno (I/O, memory). */
int archive_scan_next(struct archive_scan *s, int with_payload);
/* Reads the payload of the frame just returned and checks its hash: 0,
 * -EBADMSG (s->why), -errno. */
int archive_scan_payload(struct archive_scan *s);
void archive_scan_done(struct archive_scan *s);

/* ---- archive_block.c: records in a block ---- */

/* Bytes of record `rec`'s variable part (name, address, raw). */
size_t archive_block_data_size(const struct archive_record *rec);
/* Writes `rec`'s head (its time as a delta from prev_us, the time of the
 * record before it in the block, 0 for the first) and its variable part at
 * data (archive_block_data_size bytes free). */
void archive_block_rec_put(uint8_t head[ARCHIVE_REC_HDR_LEN], uint8_t *data,
                           const struct archive_record *rec, int64_t prev_us);
/* Walks the records of a decompressed block. */
struct archive_block_iter {
    const uint8_t *buf;
    size_t len;
    uint32_t n, i;   /* records, and the next one */
    size_t data_off; /* next record's variable part */
    int64_t prev;    /* time of the record before */
};
/* -EBADMSG with *reterr when `len` bytes cannot hold `nrecords` heads. */
int archive_block_iter_init(struct archive_block_iter *it, const uint8_t *buf, size_t len,
                            uint32_t nrecords, const char **reterr);
/* 1 and *ret (pointing into the block), 0 after the last record (when the
 * records fill the block exactly), -EBADMSG with *reterr. */
int archive_block_iter_next(struct archive_block_iter *it, struct archive_record *ret,
                            const char **reterr);
/* Checks a whole decompressed block: exactly `nrecords` records filling it,
 * times within [t_min, t_max] and each bound reached.  -EBADMSG. */
int archive_block_check(const uint8_t *buf, size_t len, const struct archive_frame_hdr *h,
                        const char **reterr);
/* Decompresses a block's payload into *buf (grown as needed, up to the
 * header's raw_len, itself capped).  -EBADMSG when it does not decompress
 * to raw_len bytes, -ENOMEM. */
int archive_block_inflate(const struct archive_frame_hdr *h, const uint8_t *payload, uint8_t **buf,
                          size_t *cap, const char **reterr);

/* ---- archive_index.c: a block's filter of its raw text ---- */

#define ARCHIVE_INDEX_HDR_LEN 8
/* Largest index: the header and 2^20 bits. */
#define ARCHIVE_INDEX_MAX (ARCHIVE_INDEX_HDR_LEN + (1u << 20) / 8)
/* What a block's index is built from (one per writer or verifier). */
struct archive_index_builder {
    uint64_t seed;    /* keys the run hash that removes repeats */
    uint64_t *set;    /* hashes of the runs seen in the block */
    size_t set_n, set_cap;
    uint64_t *entries; /* packed runs and grams to put in the filter */
    size_t n, cap;
    int over;          /* past the cap: this block gets no index */
};
/* A decoded index, pointing into the bytes it was decoded from. */
struct archive_index {
    const uint8_t *bits;
    uint32_t nbits; /* bit count: a multiple of 64 */
    uint8_t k;
};
int archive_index_builder_init(struct archive_index_builder *b);
/* Empties it for the next block, keeping its memory. */
void archive_index_builder_reset(struct archive_index_builder *b);
void archive_index_builder_done(struct archive_index_builder *b);
/* Adds one record's raw text.  -ENOMEM (the builder is then unusable). */
int archive_index_builder_add(struct archive_index_builder *b, const uint8_t *raw, size_t len);
/* Bytes of the index for what was added: 0 when the block gets none (no
 * entry, or past the cap), else <= ARCHIVE_INDEX_MAX. */
size_t archive_index_builder_size(const struct archive_index_builder *b);
/* Writes the index into out (len = archive_index_builder_size, not 0). */
void archive_index_builder_write(const struct archive_index_builder *b, uint8_t *out, size_t len);
/* -EBADMSG with *reterr when `len` bytes are not an index we read. */
int archive_index_decode(const uint8_t *buf, size_t len, struct archive_index *ret,
                         const char **reterr);

/* ---- archive_seal.c: keys and seals ---- */

void archive_seal_encode(const struct archive_seal *s, uint8_t out[ARCHIVE_SEAL_LEN]);
int archive_seal_decode(const uint8_t *buf, size_t len, struct archive_seal *ret,
                        const char **reterr);
/* Fills s->epoch, signer, next and sig for frame header `hdr` (encoded,
 * its first 88 bytes final) with key `k`, then evolves `k` to the next
 * epoch and writes it back to its file.  `before_evolve` runs between the
 * signature and the evolution (the writer writes and fsyncs the seal
 * there); when it fails the key is not evolved.  -errno. */
int archive_seal_sign(struct archive_key *k, struct archive_seal *s,
                      const uint8_t hdr[ARCHIVE_FRAME_HDR_LEN],
                      int (*before_evolve)(void *ctx, const struct archive_seal *s), void *ctx);
/* archive_key_evolve_to and archive_key_pub are in archive.h (the audit
 * log uses them too). */
/* 1 when s->sig is signer's signature of header `hdr` and the seal. */
int archive_seal_sig_ok(const struct archive_seal *s, const uint8_t hdr[ARCHIVE_FRAME_HDR_LEN]);

#endif
