/*
 * archive.h - the append-only record archive: every raw record kept on
 * receipt, compressed, hash-chained and sealed (issue 17).
 *
 * DATA_DIR/archive/ holds segment files (seg-<16 hex digits>.hka).  A
 * segment is a header and a run of frames; a frame is either a block (a
 * zstd-compressed run of records with its time range and count) or a seal
 * (the chain head, counts and time range signed with the current epoch's
 * Ed25519 key).  Every frame carries the BLAKE2b hash of the frame before
 * it, across segments, so one chain runs through the whole archive.  The
 * byte layout, the key chain and what each check proves are in
 * docs/archive.md.
 *
 * This module does not log: it returns -errno and fills the caller's
 * reports; the caller (the CLI, later the daemon) says what happened.
 */
#ifndef HIKESHI_ARCHIVE_ARCHIVE_H
#define HIKESHI_ARCHIVE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/limits.h"

/* Bytes of an Ed25519 public key (the verification key). */
#define ARCHIVE_PUBKEY_LEN 32
/* Longest input name kept with a record. */
#define ARCHIVE_INPUT_NAME_MAX 255
/* Longest record kept: the inputs' own largest max_line. */
#define ARCHIVE_RECORD_MAX LIMIT_LINE_MAX

/* One record as the archive keeps it.  Borrowed: the strings and bytes
 * belong to the caller on append and to the reader on read (valid until the
 * reader's next call). */
struct archive_record {
    int64_t recv_us;       /* receive time, µs since the epoch */
    uint16_t flags;        /* the input's RECORD_* flags, kept as given */
    uint8_t peer_family;   /* 0 (none), 4 or 6 */
    uint16_t peer_port;    /* host order */
    uint8_t peer_addr[16]; /* network order; 4 or 16 bytes used */
    const char *input;     /* input name, not NUL-terminated */
    size_t input_len;      /* <= ARCHIVE_INPUT_NAME_MAX */
    const uint8_t *raw;    /* the record's bytes, exactly as received */
    size_t raw_len;        /* <= ARCHIVE_RECORD_MAX */
};

/* ---- signing keys (archive_seal.c) ---- */

/* The signing key's current state: the epoch and its secret seed.  Opaque;
 * the seed is kept in locked memory and wiped when the key evolves. */
struct archive_key;

/*
 * Creates a new key chain at epoch 0: writes the secret key file `path`
 * (mode 0600, refused if it exists) and the verification key `pub_path`
 * (mode 0644, refused if it exists), and returns the public key in
 * ret_pub.  -EEXIST if either file exists, else -errno.
 */
int archive_key_generate(const char *path, const char *pub_path,
                         uint8_t ret_pub[ARCHIVE_PUBKEY_LEN]);
/* Loads the secret key file `path`; -EBADMSG when it is not one (reterr, if
 * given, gets a short reason).  The key keeps `path` to write each evolved
 * epoch back to it. */
int archive_key_load(const char *path, struct archive_key **ret, const char **reterr);
/* Wipes and frees.  NULL is a no-op. */
void archive_key_free(struct archive_key *k);
/* The epoch the key is at (the epoch of the next seal it signs). */
uint64_t archive_key_epoch(const struct archive_key *k);
/* Reads a verification key file (one line of 64 hex digits); -EBADMSG if
 * it is not one. */
int archive_pubkey_load(const char *path, uint8_t ret_pub[ARCHIVE_PUBKEY_LEN]);

/*
 * The same key chain for another log's seals (the audit trail,
 * docs/audit.md): the caller builds its message around the epoch, signer
 * and next key that archive_key_sig_prepare fills in (so that the signature
 * covers them), then archive_key_sign signs "DOMAIN\0" + message with the
 * current epoch's key, runs `before_evolve` (write and sync the seal there;
 * when it fails the key is not evolved) and evolves the key.  A log using
 * this needs its own key file: each log's seals must take every epoch in
 * turn.  Distinct domains keep one log's seals from passing for another's.
 */
#define ARCHIVE_SIG_BYTES 64
#define ARCHIVE_DOMAIN_MAX 64           /* domain string, its NUL included */
#define ARCHIVE_KEY_MSG_MAX (64 * 1024) /* message signed by archive_key_sign */
struct archive_key_sig {
    uint64_t epoch;                     /* the epoch that signs */
    uint8_t signer[ARCHIVE_PUBKEY_LEN]; /* its public key */
    uint8_t next[ARCHIVE_PUBKEY_LEN];   /* the next epoch's public key */
    uint8_t sig[ARCHIVE_SIG_BYTES];     /* Ed25519 signature */
};
/* Moves the key forward to `epoch`, writing each step to its file (a
 * writer catches up a key that a crash left one seal behind).  -errno. */
int archive_key_evolve_to(struct archive_key *k, uint64_t epoch);
/* The public key of the key's current epoch. */
void archive_key_pub(const struct archive_key *k, uint8_t out[ARCHIVE_PUBKEY_LEN]);
/* Fills epoch, signer and next for the key's current epoch; sig zeroed. */
void archive_key_sig_prepare(const struct archive_key *k, struct archive_key_sig *ret);
/* Signs (s prepared from k, -ESTALE otherwise), runs before_evolve, evolves
 * the key.  -EINVAL for a domain or message over its cap, -errno. */
int archive_key_sign(struct archive_key *k, const char *domain, const uint8_t *msg, size_t len,
                     struct archive_key_sig *s,
                     int (*before_evolve)(void *ctx, const struct archive_key_sig *s), void *ctx);
/* 1 when s->sig is s->signer's signature of "DOMAIN\0" + msg, else 0. */
int archive_key_sig_ok(const char *domain, const uint8_t *msg, size_t len,
                       const struct archive_key_sig *s);

/* ---- writing (archive_writer.c) ---- */

struct archive_writer_opts {
    size_t block_bytes;     /* close a block at this many raw bytes; 0: default */
    uint32_t block_records; /* ... or this many records; 0: default */
    uint64_t segment_bytes; /* start a new segment past this size; 0: default */
    uint64_t seal_records;  /* seal after this many records; 0: only on time or close */
    int64_t seal_us;        /* seal when the oldest unsealed record is this old
                               (checked by append and archive_writer_tick); 0: never */
    int zstd_level;         /* 0: default (3) */
    int no_index;           /* 1: write blocks without their index (bench) */
};

/* What opening found and repaired.  A torn tail (a crash mid-write) is cut
 * off at the end of the last intact frame. */
struct archive_open_report {
    uint64_t dropped_bytes;   /* bytes cut from the last segment */
    uint64_t dropped_records; /* records in the cut block by its header, if
                                 its header was whole (else 0, see below) */
    int dropped_unknown;      /* 1: a torn frame header; its count is unknown */
    char segment[64];         /* the segment cut ("" when nothing was) */
    uint64_t records;         /* records in the archive */
    uint64_t seal_gap;        /* > 0: the key is this many epochs past the
                                 archive's last seal (seals lost: verify
                                 will fail at the next seal) */
};

struct archive_writer;

/*
 * Opens the archive in directory `dir` for appending (created, mode 0700,
 * if missing), continuing its chain.  `key` is borrowed (may be NULL: no
 * seals are written) and evolves with each seal.  A torn tail is cut and
 * reported in *rep; a fault inside the last segment (not at its end) is
 * -EBADMSG: the archive needs `hikeshi archive verify` before anything is
 * appended to it.
 */
int archive_writer_open(const char *dir, const struct archive_writer_opts *opts,
                        struct archive_key *key, struct archive_writer **ret,
                        struct archive_open_report *rep);
/* Appends one record (copied).  -EINVAL when a length is over its cap;
 * -errno from writing.  May close a block, a segment, or seal. */
int archive_writer_append(struct archive_writer *w, const struct archive_record *rec);
/* Writes the open block out (no fsync). */
int archive_writer_flush(struct archive_writer *w);
/* Flushes and fdatasyncs the open segment. */
int archive_writer_sync(struct archive_writer *w);
/* Seals now if there is anything unsealed (flushes first, fsyncs the seal
 * before the key evolves).  No key: flushes only. */
int archive_writer_seal(struct archive_writer *w);
/* Seals when the oldest unsealed record is older than opts.seal_us at
 * `now_us`; for an idle writer. */
int archive_writer_tick(struct archive_writer *w, int64_t now_us);
/* Records appended through the writer since open, and in the archive. */
uint64_t archive_writer_records(const struct archive_writer *w);
/* Flushes, seals (with a key), syncs and frees.  NULL is a no-op; returns
 * the first error. */
int archive_writer_close(struct archive_writer *w);

/* ---- reading (archive_reader.c) ---- */

struct archive_reader;

/* Opens the archive in `dir` for reading the records received in
 * [from_us, to_us) (INT64_MIN / INT64_MAX for no bound).  Blocks whose time
 * range misses it are skipped unread.  -ENOENT when there is no archive. */
int archive_reader_open(const char *dir, int64_t from_us, int64_t to_us,
                        struct archive_reader **ret);
/* Next record: 1 and *ret filled, 0 at the end, -errno on a fault that
 * stops the read (a corrupt block is skipped and counted, not an error). */
int archive_reader_next(struct archive_reader *r, struct archive_record *ret);
/* Returns only records numbered `from` or later (a record's number is its
 * position in the whole archive, 0 first: the daemon's cursor).  Blocks
 * wholly before it are skipped unread.  Call before the first next. */
void archive_reader_from_record(struct archive_reader *r, uint64_t from);
/* The number of the record the last archive_reader_next returned. */
uint64_t archive_reader_record_no(const struct archive_reader *r);
/* Blocks read, skipped by time or number, and skipped as corrupt. */
void archive_reader_counts(const struct archive_reader *r, uint64_t *ret_read,
                           uint64_t *ret_skipped, uint64_t *ret_corrupt);
void archive_reader_free(struct archive_reader *r);

/* A block's index (archive_index.c): what its records' raw text may hold. */
struct archive_index;
/* 0 when no record of the block can contain `text` (already lowered, as a
 * hunt's words are) as a substring, 1 when one may. */
int archive_index_may_contain(const struct archive_index *ix, const char *text, size_t len);
/* Before each block in range that has an index, the reader asks
 * may_match(ctx, index): 0 skips the block unread (counted by
 * archive_reader_index_skipped).  A block without an index is always read.
 * The index is read without the block, so its hash is not checked here:
 * archive verify checks it.  NULL may_match: no skipping (the default). */
void archive_reader_set_index(struct archive_reader *r,
                              int (*may_match)(void *ctx, const struct archive_index *ix),
                              void *ctx);
/* Blocks skipped by their index; blocks in range that had one. */
void archive_reader_index_counts(const struct archive_reader *r, uint64_t *ret_skipped,
                                 uint64_t *ret_indexed);

/* ---- verifying (archive_verify.c) ---- */

enum archive_fault {
    ARCHIVE_FAULT_NONE = 0,
    ARCHIVE_FAULT_SEGMENT,   /* segment header bad, or segments out of sequence */
    ARCHIVE_FAULT_FRAME,     /* frame header unreadable (magic, lengths) */
    ARCHIVE_FAULT_HASH,      /* a frame's bytes do not match its hash */
    ARCHIVE_FAULT_CHAIN,     /* a frame does not follow the one before it */
    ARCHIVE_FAULT_TORN,      /* the last frame is cut short */
    ARCHIVE_FAULT_BLOCK,     /* a block does not decompress to its records */
    ARCHIVE_FAULT_SEAL,      /* a seal's signature, key or counts are wrong */
    ARCHIVE_FAULT_TRUNCATED, /* fewer seals than the key's epoch says */
    ARCHIVE_FAULT_TOMBSTONE, /* a retention tombstone is damaged, forged or off the chain */
};

/* Where verify stopped and what it counted up to there. */
struct archive_verify_result {
    enum archive_fault fault;
    char segment[64]; /* segment file of the fault */
    uint64_t frame;   /* chain position (frame sequence number) of the fault */
    uint64_t offset;  /* byte offset of the faulty frame in its segment */
    char why[160];    /* a sentence saying what is wrong */
    uint64_t segments, blocks, seals, records;
    uint64_t sealed_records; /* records covered by a good seal */
    uint64_t epoch;          /* the next epoch expected (seals verified) */
    /* Segments removed by retention, each replaced by a tombstone. */
    uint64_t tombstones, tomb_unsigned;
    uint64_t removed_records, removed_first, removed_last; /* record numbers */
    int64_t removed_t_min, removed_t_max;
    uint64_t tomb_epoch_min, tomb_epoch_max; /* epochs that signed them */
};

/*
 * Verifies the whole archive in `dir`: every frame's hash, the chain, the
 * blocks' contents, and every seal against the key chain that starts at
 * `pub` (NULL: seals are checked for form only).  `expect_epoch` > 0 (the
 * key's current epoch, or an exported seal's) makes missing seals at the
 * end a fault.  Returns 0 with res->fault set (NONE when intact), -errno
 * when the directory cannot be read.
 */
int archive_verify(const char *dir, const uint8_t *pub, uint64_t expect_epoch,
                   struct archive_verify_result *res);
/* A short name of a fault ("hash mismatch", ...); never NULL. */
const char *archive_fault_name(enum archive_fault f);

/* ---- witnesses (archive_witness.c, docs/archive.md "Witnesses") ---- */

/* A seal as a witness keeps it: its frame header (128 bytes) and payload
 * (152 bytes), exactly as in the archive. */
#define ARCHIVE_WITNESS_SEAL_LEN 280
#define ARCHIVE_WITNESS_LINE_MAX 1024 /* a witness line, newline and NUL included */
struct archive_witnessed {
    uint64_t epoch;   /* the seal's key epoch */
    uint64_t frame;   /* its chain position */
    uint64_t records; /* records in the archive up to it */
    int64_t t_min, t_max;
    uint8_t archive_id[16];
    uint8_t head[32]; /* the seal frame's hash: the chain head it fixes */
    uint8_t bytes[ARCHIVE_WITNESS_SEAL_LEN];
};
/* Where a follower stands: segment and byte offset (both 0 at first). */
struct archive_seal_follow {
    uint64_t seq, off;
};
/*
 * Calls cb for every seal of the archive in `dir` after `f`'s position, in
 * order, and moves `f` past each one cb accepted (cb < 0 stops there, to be
 * tried again by the next call).  Stops quietly at a frame still being
 * written; -EBADMSG at a damaged frame (verify says where), -errno.  A
 * segment removed by retention under the follower is passed over.
 */
int archive_seals_follow(const char *dir, struct archive_seal_follow *f,
                         int (*cb)(void *ctx, const struct archive_witnessed *ws), void *ctx);
/* Writes ws as one JSON line (newline included) into out: its length, or
 * -ENOSPC. */
int archive_witness_line(const struct archive_witnessed *ws, char *out, size_t cap);
/* Parses one witness line (hostile; `len` bytes, no newline needed): its
 * "seal" member must be a seal's frame header and payload whose frame hash
 * holds.  0 with ws filled, or -EBADMSG with *why (a static sentence). */
int archive_witness_parse(const char *p, size_t len, struct archive_witnessed *ws,
                          const char **why);

struct archive_witness_result {
    uint64_t lines;         /* lines read from the witness file */
    uint64_t seals;         /* of them, witnessed seals */
    uint64_t max_epoch;     /* the latest witnessed epoch (seals > 0) */
    uint64_t matched;       /* found in the archive byte for byte */
    uint64_t missing;       /* not in the archive (nor in a tombstone) */
    uint64_t differ;        /* another frame at their place: a rewrite */
    uint64_t bad_lines;     /* lines that are no witnessed seal */
    uint64_t archive_seals; /* seals the archive and its tombstones hold */
    uint64_t faults;        /* missing + differ + bad lines + foreign seals */
    uint64_t line;          /* line of the first fault */
    char why[256];          /* the first fault, a sentence */
};
/*
 * Checks the witness file `path` (lines of archive_witness_line) against
 * the archive in `dir`: every witnessed seal must be in the archive, or in
 * a retention tombstone's copies, byte for byte at its chain position.
 * 0 with res filled (res->faults 0: all match), -errno when the witness
 * file or the archive cannot be read.  It checks the seals only; the chain
 * and signatures are archive_verify's, with expect_epoch max_epoch + 1.
 */
int archive_witness_check(const char *dir, const char *path, struct archive_witness_result *res);

#endif
