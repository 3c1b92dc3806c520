/*
 * archive_proof.h - what the archive can prove to someone who holds only
 * its verification key (issue 19): that given records are in it as
 * sealed, and what its seals say about its completeness.
 *
 * The archive hashes every frame (BLAKE2b of the header's first 88 bytes
 * and the payload), each header names the hash of the frame before, and a
 * seal is a signed frame whose header ends such a run.  So a record's
 * proof is its block frame and every frame after it up to and including
 * the next seal (each whole: the hash covers the payload), plus every seal
 * from epoch 0 on, which chain the seal's signer back to the verification
 * key.  There is no Merkle tree: a proof costs the blocks up to the next
 * seal, which the seal interval bounds.  The builder walks the archive as
 * archive_verify does and stops at the first fault; the checks below are
 * the byte-level half of verifying a proof, for callers that parse their
 * own container (evidence_excerpt.c).  docs/evidence.md has the format.
 */
#ifndef HIKESHI_ARCHIVE_ARCHIVE_PROOF_H
#define HIKESHI_ARCHIVE_ARCHIVE_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "archive/archive.h"
#include "util/buf.h"

#define ARCHIVE_PROOF_HDR_LEN 128
#define ARCHIVE_PROOF_HASH_LEN 32
#define ARCHIVE_PROOF_ID_LEN 16
/* Most records one proof carries (an excerpt is for reading, not bulk). */
#define ARCHIVE_PROOF_RECORDS_MAX 10000

/* What the walk found about the archive as a whole. */
struct archive_proof_facts {
    uint8_t archive_id[ARCHIVE_PROOF_ID_LEN];
    uint64_t segments, tombstones, seals, records;
    uint64_t sealed_records; /* records up to the last seal */
    int64_t sealed_t_max;    /* latest receive time of a sealed record (INT64_MIN: none) */
    int64_t unsealed_t_min;  /* earliest receive time after the last seal (INT64_MAX: none) */
    uint64_t window_tombs;   /* tombstones whose records overlap the window */
    uint64_t window_tomb_seq;
    int64_t window_tomb_t_min, window_tomb_t_max;
    uint64_t frames_out; /* frames written to the proof */
    char fault[256];     /* non-empty: where the archive stops being whole */
};

/*
 * Walks the archive in `dir`, checking each frame's hash and link as it
 * goes.  Appends to `seals` a JSON array of every seal (from epoch 0; a
 * removed segment's seals from its tombstone) and to `frames` a JSON array
 * of the frames that prove the records numbered `recnos` (n of them,
 * ascending): each record's block and the frames after it up to the next
 * seal.  `records` (may be NULL) gets a JSON array of those records
 * ({"no","frame","index","recv_us","input","peer","raw" or "raw_hex"}).
 * A frame is {"hdr":"<256 hex>","payload":"<hex>"}.  Tombstones whose
 * records overlap [from_us, to_us) are counted in facts.
 *
 * 0 with facts->fault empty when the walk reached the end; 0 with
 * facts->fault saying where the archive is broken, or which record is not
 * sealed yet; -ENOENT without an archive, -ENOMEM / -E2BIG (the buffers'
 * caps), -errno.
 */
int archive_proof_build(const char *dir, const uint64_t *recnos, size_t n, int64_t from_us,
                        int64_t to_us, struct buf *seals, struct buf *frames, struct buf *records,
                        struct archive_proof_facts *facts);

/* One frame of a proof, decoded. */
struct archive_proof_frame {
    int is_seal;
    uint64_t seq, first_record;
    uint32_t nrecords;
    int64_t t_min, t_max;
    uint8_t prev[ARCHIVE_PROOF_HASH_LEN], hash[ARCHIVE_PROOF_HASH_LEN];
    /* Seals only. */
    uint64_t epoch;
    uint8_t archive_id[ARCHIVE_PROOF_ID_LEN];
    uint8_t signer[ARCHIVE_PUBKEY_LEN], next[ARCHIVE_PUBKEY_LEN];
    int sig_ok; /* 1 when the seal's signature by `signer` is good */
};

/* Decodes a frame given as its header bytes and payload (hostile): the
 * header's check, the payload's length, the frame hash; for a seal its
 * fields and signature.  -EBADMSG with *reterr naming what is wrong. */
int archive_proof_frame_decode(const uint8_t *hdr, size_t hdr_len, const uint8_t *payload,
                               size_t len, struct archive_proof_frame *ret, const char **reterr);
/* Decompresses and checks the block frame (hdr, payload) into *buf (grown
 * up to the block cap; the caller frees it): *ret_len bytes holding *ret_n
 * records.  -EBADMSG with *reterr, -ENOMEM. */
int archive_proof_block_inflate(const uint8_t *hdr, const uint8_t *payload, size_t len,
                                uint8_t **buf, size_t *cap, size_t *ret_len, uint32_t *ret_n,
                                const char **reterr);
/* Record `index` of a block archive_proof_block_inflate returned; *ret
 * points into buf.  -EBADMSG with *reterr. */
int archive_proof_block_record(const uint8_t *buf, size_t len, uint32_t n, uint32_t index,
                               struct archive_record *ret, const char **reterr);

/* A record's sender as the proof's "peer" writes it: "1.2.3.4:514",
 * "[::1]:514", or "" without one; out holds >= 64 bytes. */
void archive_proof_peer_format(const struct archive_record *rec, char *out, size_t size);

#endif
