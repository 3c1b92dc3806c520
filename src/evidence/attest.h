/*
 * attest.h - proof of non-occurrence (issue 19, MISSION.md §5): a
 * statement "between T1 and T2, for sources S, the archive is complete and
 * query Q matched N records", with the evidence for each clause, refused
 * when a clause does not hold.  The statement becomes an evidence item of
 * kind attestation and goes out in a signed bundle, so the site's evidence
 * key signs it and a third party checks it offline (docs/evidence.md,
 * "Attestations").
 *
 * attest.c holds the document's checker (hostile input, fuzzed);
 * attest_build.c gathers the clauses from the archive and the register.
 */
#ifndef HIKESHI_EVIDENCE_ATTEST_H
#define HIKESHI_EVIDENCE_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/evidence.h"

#define ATTEST_FORMAT "hikeshi-attestation-v1"
/* Most sources one attestation names. */
#define ATTEST_SOURCES_MAX 256

struct config;
struct evidence_reg;

/* One source: an input as a whole ("syslog"), or one sender of it
 * ("syslog/192.0.2.7"; a sender is its address, the port left out). */
struct attest_source {
    char name[ARCHIVE_INPUT_NAME_MAX + 64];
    int64_t every_us;       /* the interval it is expected to send in */
    const char *every_from; /* "expect_every" (the configuration) or "--max-gap" */
    /* Filled by the build. */
    uint64_t records;
    int64_t first_us, last_us;
    int64_t gap_us, gap_from_us, gap_to_us; /* its longest silence in the window */
};

struct attest_req {
    const char *archive_dir;
    uint8_t archive_pub[32];
    const char *query;
    int64_t from_us, to_us;
    struct attest_source *sources;
    size_t nsources;
};

/* Why an attestation was refused. */
struct attest_refusal {
    char clause[32]; /* "archive", "source" or "query" */
    char why[512];   /* a sentence naming the segment or source */
};

/*
 * Gathers the clauses and writes the attestation document to `out`:
 * 1 when it was refused (ref filled: a source silent past its interval, a
 * segment missing or removed in the window, records in it not sealed yet,
 * a damaged block), 0 when written (*ret_matched records matched the
 * query: 0 is the proof of non-occurrence), -EINVAL for a bad query (ref
 * says where), -errno.
 */
int attest_build(const struct config *cfg, struct attest_req *req, struct buf *out,
                 uint64_t *ret_matched, struct attest_refusal *ref);

/*
 * Checks an attestation document (hostile bytes): its form, its archive
 * proof (evidence_excerpt.h), and that its clauses hold and agree with
 * each other and with its statement.  Faults to rep prefixed with `who`;
 * *ret_matched (may be NULL) gets the count it states.  -ENOMEM, else 0.
 */
int attest_check(const char *who, const char *doc, size_t len, const uint8_t *pin,
                 struct evidence_report *rep, uint64_t *ret_matched);

/* The statement sentence for the document's fields, into out (cap bytes). */
void attest_statement(const char *from, const char *to, const char *sources, const char *query,
                      uint64_t matched, char *out, size_t cap);

#endif
