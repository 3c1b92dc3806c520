/*
 * evidence_excerpt.h - archive excerpts as evidence (issue 19): the
 * records a hunt query matched over a time range, with the proof that the
 * archive holds them as sealed (archive/archive_proof.h), in one JSON
 * document that becomes an evidence item of kind archive-excerpt; and the
 * offline check of that proof, which attestations (attest.h) share.
 * docs/evidence.md, "Archive excerpts", has the format.
 */
#ifndef HIKESHI_EVIDENCE_EVIDENCE_EXCERPT_H
#define HIKESHI_EVIDENCE_EVIDENCE_EXCERPT_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/evidence.h"
#include "util/jp.h"

#define EVIDENCE_EXCERPT_FORMAT "hikeshi-archive-excerpt-v1"
/* Largest excerpt or attestation document read. */
#define EVIDENCE_EXCERPT_MAX (512 * 1024 * 1024)

struct config;

/*
 * Runs `query` over the archive in `archive_dir` for records received in
 * [from_us, to_us), and writes the excerpt document to `out`: the query,
 * the window, the scan's statistics, the matching records (at most
 * ARCHIVE_PROOF_RECORDS_MAX), every seal of the archive and the frames that
 * prove each record up to a seal.  `archive_pub` is the archive's
 * verification key (epoch 0), named in the document.  -EINVAL (bad query),
 * -E2BIG (too many matches), -EAGAIN (a match not sealed yet), -EBADMSG
 * (the archive is broken) with a sentence in err; -errno.
 */
int evidence_excerpt_build(const struct config *cfg, const char *archive_dir,
                           const uint8_t archive_pub[32], const char *query, int64_t from_us,
                           int64_t to_us, struct buf *out, char *err, size_t errlen);

/*
 * Builds the excerpt (as above) and adds it to the register as an item of
 * kind archive-excerpt, copied into the evidence store; `q` gives the
 * acquisition and links (its path, kind and copy are set here).  Errors
 * as evidence_add, with reg->err saying what went wrong.
 */
struct evidence_reg;
struct evidence_add_req;
int evidence_excerpt_add(struct evidence_reg *reg, const struct config *cfg,
                         const char *archive_dir, const uint8_t archive_pub[32], const char *query,
                         int64_t from_us, int64_t to_us, struct evidence_add_req *q,
                         int64_t *ret_id, struct evidence_digest *ret_d);

/* What a checked archive proof says, for the attestation's clauses. */
struct evidence_proof_summary {
    uint64_t seals;          /* seals that verified, epoch 0 on */
    uint64_t sealed_records; /* records up to the last good seal */
    int64_t sealed_t_max;    /* latest receive time a good seal covers */
    uint64_t records_ok;     /* excerpt records found in their blocks */
    uint8_t archive_pub[32];
};

/*
 * Checks the "archive" object of an excerpt or attestation: every seal
 * from epoch 0 chains from the archive's public key (pinned by `pin` when
 * not NULL) with counts that continue each other; each run of frames is
 * hash-linked from a block to a seal of that list; each record of
 * `records` (an array span, len 0: none) is the record at its place in its
 * block.  Each fault is reported prefixed with `who`.  -ENOMEM, else 0.
 */
int evidence_proof_check(const char *who, struct jp_span archive, struct jp_span records,
                         const uint8_t *pin, struct evidence_report *rep,
                         struct evidence_proof_summary *ret);

/* Checks an excerpt document (hostile bytes): its form and its proof.
 * Faults to rep prefixed with `who`.  -ENOMEM, else 0. */
int evidence_excerpt_check(const char *who, const char *doc, size_t len, const uint8_t *pin,
                           struct evidence_report *rep);

#endif
