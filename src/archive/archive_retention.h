/*
 * archive_retention.h - removing old segments by age and by size, each
 * leaving a tombstone that says exactly what went (docs/archive.md,
 * "Retention").  A tombstone keeps the removed segment's place in the
 * chain (first frame and record, chain in and out), its counts and time
 * range, copies of its seals (so the key chain still starts at the
 * verification key) and is signed with the archive key's current epoch.
 */
#ifndef HIKESHI_ARCHIVE_ARCHIVE_RETENTION_H
#define HIKESHI_ARCHIVE_ARCHIVE_RETENTION_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/archive_priv.h"

#define ARCHIVE_TOMB_MAGIC "HKTOMB1\n"
#define ARCHIVE_TOMB_FIXED 296 /* bytes before the seal copies */
#define ARCHIVE_TOMB_SIGNED_END 192
#define ARCHIVE_TOMB_SEAL_COPY (ARCHIVE_FRAME_HDR_LEN + ARCHIVE_SEAL_LEN)
#define ARCHIVE_TOMB_CHECK_LEN 16
/* Seal copies one tombstone may hold: a segment sealed every second for
 * a day; caps what a hostile file makes the parser walk. */
#define ARCHIVE_TOMB_SEALS_MAX 100000
#define ARCHIVE_TOMB_DOMAIN "hikeshi-archive-tombstone-v1"
/* Tombstone file names: tomb-<16 hex digits of the segment>.hkt */
#define ARCHIVE_TOMB_NAME_LEN 25

enum archive_tomb_reason {
    ARCHIVE_TOMB_AGE = 1,  /* every record older than retention.max_age */
    ARCHIVE_TOMB_SIZE = 2, /* the archive over retention.max_size */
};

struct archive_tomb {
    uint64_t seq;                        /* the removed segment */
    uint64_t first_frame, frames;        /* its chain positions */
    uint64_t first_record, records;      /* its record numbers */
    int64_t t_min, t_max;                /* receive-time range of its records */
    uint8_t archive_id[ARCHIVE_ID_LEN];  /* the archive's id */
    uint8_t chain_in[ARCHIVE_HASH_LEN];  /* its header's chain in */
    uint8_t chain_out[ARCHIVE_HASH_LEN]; /* hash of its last frame: the next one's prev */
    uint64_t tail_unsealed;              /* records after its last seal */
    int64_t tail_t_min, tail_t_max;      /* their time range */
    uint32_t reason;                     /* enum archive_tomb_reason */
    uint32_t nseals;                     /* seal copies that follow */
    int64_t removed_us;                  /* when it was removed */
    uint32_t is_signed;                  /* 0: the archive has no key */
    struct archive_key_sig sig;          /* epoch, signer, signature (next unused) */
    const uint8_t *seals; /* nseals × (frame header + seal payload), into the parsed buffer */
};

/* Encodes `t` with its seal copies (t->seals, t->nseals of them) into a
 * malloc'd buffer; signs it with `k` (NULL: unsigned) without evolving
 * the key.  -errno. */
int archive_tomb_build(struct archive_tomb *t, struct archive_key *k, uint8_t **ret,
                       size_t *ret_len);
/* Parses a tombstone file's bytes (hostile): lengths, check and fields.
 * t->seals points into `buf`.  -EBADMSG with *reterr. */
int archive_tomb_parse(const uint8_t *buf, size_t len, struct archive_tomb *t, const char **reterr);
/* 1 when a signed tombstone's signature verifies by its own signer key
 * (whether that key is the key chain's is the verifier's business). */
int archive_tomb_sig_ok(const uint8_t *buf, size_t len, const struct archive_tomb *t);
void archive_tomb_name(uint64_t seq, char *out, size_t size);
/* Reads tombstone `seq` from `dirfd` into a malloc'd *ret: 0, -ENOENT, -errno. */
int archive_tomb_read(int dirfd, uint64_t seq, uint8_t **ret, size_t *ret_len);

/* One input's own retention (archive.retention.inputs). */
struct archive_retention_input {
    const char *name;   /* the input's name, as its records carry it */
    int64_t max_age_us; /* 0: the archive's max_age */
    uint64_t max_bytes; /* 0: no size limit of its own; else its records' raw bytes */
};
/* What each segment holds per input, kept for the closed segments between
 * prunes (a closed segment never changes).  Opaque. */
struct archive_input_cache;
struct archive_input_cache *archive_input_cache_new(void);
void archive_input_cache_free(struct archive_input_cache *c);

/* What a prune removes. */
struct archive_retention {
    int64_t max_age_us; /* 0: no age limit */
    uint64_t max_bytes; /* 0: no size limit */
    /* Per input: with any, a segment goes by age or size only when every
     * input with records in it lets it go (docs/archive.md, "Retention per
     * input"); an input not listed has the archive's max_age and no size
     * limit of its own. */
    const struct archive_retention_input *inputs;
    size_t ninputs;
    struct archive_input_cache *cache; /* NULL: computed afresh */
    /* Held only around signing each tombstone, when another thread seals
     * with the same key (the daemon's writer); NULL: none. */
    pthread_mutex_t *key_lock;
};

struct archive_prune_report {
    uint64_t segments, records, bytes;  /* removed (or, dry run, would be) */
    uint64_t first_record, last_record; /* the removed records' numbers */
    int64_t t_min, t_max;
    uint64_t kept_for_cursor; /* removable segments kept: not yet processed */
    uint64_t kept_unsealed;   /* ... or not yet covered by a seal */
    uint64_t kept_for_input;  /* the oldest segment kept for an input's retention */
    char kept_input[256];     /* ... that input */
    char first_removed[ARCHIVE_SEG_NAME_LEN + 1];
};

/*
 * Removes whole closed segments of the archive in `dir` that retention
 * `rt` says have to go, oldest first: never the last (open) segment, never
 * one with a record numbered `cursor` or later (not yet processed), and
 * with a key `k`, never one with records no seal covers yet.  For each,
 * writes and fsyncs its tombstone (signed with k's current epoch, which
 * does not evolve), then unlinks it and fsyncs the directory.  dry_run:
 * reports only.  `now_us` is the time ages count from.  -errno.
 */
int archive_prune(const char *dir, const struct archive_retention *rt, struct archive_key *k,
                  uint64_t cursor, int64_t now_us, int dry_run, struct archive_prune_report *rep);

#endif
