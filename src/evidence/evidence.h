/*
 * evidence.h - forensic evidence (issue 19, MISSION.md §5): content
 * digests computed streaming, the hash-chained and sealed custody log of
 * each item, and signed bundles that a third party checks offline.
 *
 * The formats (custody line, seal line, bundle manifest) and what each
 * check proves are in docs/evidence.md.  This header holds the parts that
 * need no store: hashing (evidence_hash.c), custody lines and seals
 * (evidence_custody.c), and the bundle's manifest and its verifier
 * (evidence_bundle.c).  The register over the store is evidence_register.h.
 * Nothing here logs: errors are returned, faults written to a report.
 */
#ifndef HIKESHI_EVIDENCE_EVIDENCE_H
#define HIKESHI_EVIDENCE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "archive/archive.h"
#include "util/buf.h"
#include "util/parse_err.h"

#define EVIDENCE_SHA256_LEN 32
#define EVIDENCE_BLAKE2B_LEN 64 /* BLAKE2b-512, as b2sum prints it */
/* Bytes read per call while hashing: large reads run at disk speed. */
#define EVIDENCE_READ_CHUNK (1024 * 1024)
/* Longest custody line, seal line and item record accepted. */
#define EVIDENCE_LINE_MAX (16 * 1024)
/* Longest actor, action or item id in a custody line. */
#define EVIDENCE_NAME_MAX 128
/* Largest manifest read by the verifier, and most items and seals in it. */
#define EVIDENCE_MANIFEST_MAX (256 * 1024 * 1024)
#define EVIDENCE_BUNDLE_ITEMS_MAX 65536
#define EVIDENCE_SEALS_MAX (4 * 1024 * 1024)

/* The two signature domains of the evidence key chain. */
#define EVIDENCE_DOMAIN_CUSTODY "hikeshi-evidence-custody-v1"
#define EVIDENCE_DOMAIN_BUNDLE "hikeshi-evidence-bundle-v1"
#define EVIDENCE_BUNDLE_FORMAT "hikeshi-evidence-bundle-v1"
/* epoch (8, big-endian), signer, next, hash (32 each). */
#define EVIDENCE_SEAL_MSG_LEN (8 + 3 * 32)

/* ---- digests (evidence_hash.c) ---- */

struct evidence_digest {
    uint8_t sha256[EVIDENCE_SHA256_LEN];
    uint8_t blake2b[EVIDENCE_BLAKE2B_LEN];
    uint64_t size; /* bytes hashed */
};

/* Hashes everything read from `fd` to its end with both digests in one
 * pass.  0 or -errno from read. */
int evidence_hash_fd(int fd, struct evidence_digest *ret);
/* The same for the file at `path`.  -errno from open. */
int evidence_hash_file(const char *path, struct evidence_digest *ret);

/* ---- the report of a verification ---- */

/* Faults found, each one line naming what broke ("item EV-2: content
 * SHA-256 mismatch"), in text (capped; the count goes on). */
struct evidence_report {
    size_t faults;
    size_t checked; /* things that checked out: items, entries, seals */
    struct buf text;
};
void evidence_report_init(struct evidence_report *rep);
void evidence_report_done(struct evidence_report *rep);
void evidence_report_fault(struct evidence_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- custody lines (evidence_custody.c) ---- */

/*
 * One custody entry is one line of JSON in exactly this layout:
 *
 *   {"item":"EV-1","seq":1,"time":"2026-12-07T05:24:07.123456Z",
 *    "actor":"cli:alice","action":"add","details":{...},
 *    "prev":"<64 hex>","hash":"<64 hex>"}
 *
 * prev is the previous entry's hash (64 zeros for seq 1) and hash the
 * SHA-256 of the line's bytes before `,"hash":`.
 */
struct evidence_entry {
    char item[EVIDENCE_NAME_MAX + 1];
    uint64_t seq;
    char time[40];
    char actor[EVIDENCE_NAME_MAX + 1];
    char action[EVIDENCE_NAME_MAX + 1];
    const char *details; /* the details object as written, in the caller's line */
    size_t details_len;
    uint8_t prev[32];
    uint8_t hash[32]; /* as written */
    int hash_ok;      /* 1 when `hash` is the SHA-256 of the hashed bytes */
};

/* Appends one entry line (no newline) to `out`: `details` is a JSON object
 * we wrote (not checked here), the rest are names of at most
 * EVIDENCE_NAME_MAX bytes.  *ret_hash (may be NULL) gets its hash. */
int evidence_entry_format(struct buf *out, const char *item, uint64_t seq, int64_t time_us,
                          const char *actor, const char *action, const char *details,
                          const uint8_t prev[32], uint8_t ret_hash[32]);
/* Parses one line in exactly the layout above.  -EINVAL with reterr
 * filled when it is not one; a wrong hash is not an error (hash_ok 0). */
int evidence_entry_parse(const char *line, size_t len, struct evidence_entry *ret,
                         struct parse_err *reterr);

/*
 * Checks one item's custody log: `lines` is a JSON array of custody lines
 * each given as an object (as the store returns them) or as a string (as
 * a manifest holds them).  Each must parse, name `item`, number 1, 2, ...,
 * chain on its prev, and carry a good hash; each hash must be sealed by a
 * seal of `seals` (kind custody, see below).  Faults go to `rep`, prefixed
 * with `who`.  The SHA-256 the add entry names goes to ret_add_sha256 (64
 * hex digits, "" when none; may be NULL), the last custodian to ret_holder
 * (may be NULL).  0, or -ENOMEM.
 */
struct evidence_seals;
int evidence_custody_check(const char *who, const char *item, const char *lines, size_t len,
                           const struct evidence_seals *seals, struct evidence_report *rep,
                           char ret_add_sha256[65], char *ret_holder, size_t holder_cap);

/* ---- seals (evidence_custody.c) ---- */

enum evidence_seal_kind {
    EVIDENCE_SEAL_CUSTODY = 1, /* seals a custody entry's hash */
    EVIDENCE_SEAL_BUNDLE = 2,  /* signs a bundle's manifest (its SHA-256) */
};

/*
 * A seal line:
 *   {"epoch":E,"kind":"custody","hash":"<64 hex>","signer":"<64 hex>",
 *    "next":"<64 hex>","sig":"<128 hex>"}
 * sig is signer's Ed25519 signature of the kind's domain, a NUL, and
 * evidence_seal_message() (epoch, signer, next, hash).
 */
struct evidence_seal {
    struct archive_key_sig ks;
    enum evidence_seal_kind kind;
    uint8_t hash[32];
};
int evidence_seal_format(struct buf *out, const struct evidence_seal *s);
int evidence_seal_parse(const char *p, size_t len, struct evidence_seal *ret,
                        struct parse_err *reterr);
void evidence_seal_message(const struct evidence_seal *s, uint8_t out[EVIDENCE_SEAL_MSG_LEN]);
/* 1 when the signature is good for its kind's domain, else 0. */
int evidence_seal_sig_ok(const struct evidence_seal *s);
/* Signs `hash` as a seal of `kind` with k's current epoch, calls `keep`
 * with the seal (store it and commit there: when it fails the key is not
 * evolved), then evolves the key.  -errno. */
int evidence_seal_sign(struct archive_key *k, enum evidence_seal_kind kind, const uint8_t hash[32],
                       int (*keep)(void *ctx, const struct evidence_seal *s), void *ctx,
                       struct evidence_seal *ret);

/* The key chain's seals, in epoch order, checked from epoch 0's key. */
struct evidence_seals {
    struct evidence_seal *v;
    size_t n;
    uint8_t pub0[32];
    int chain_ok; /* 1 when every seal's epoch, signer link and signature is good */
};
/*
 * Parses `arr` (a JSON array of seal objects in epoch order) and checks the
 * chain from `pub0`: seal i has epoch i, its signer is pub0 (i = 0) or the
 * previous seal's next, and its signature is good.  Faults go to rep.
 * -EINVAL when arr is not an array of seals (rep says where), -ENOMEM.
 * Free with evidence_seals_done.
 */
int evidence_seals_load(struct evidence_seals *ret, const char *arr, size_t len,
                        const uint8_t pub0[32], struct evidence_report *rep);
void evidence_seals_done(struct evidence_seals *s);
/* The seal of `kind` over `hash`, or NULL. */
const struct evidence_seal *evidence_seals_find(const struct evidence_seals *s,
                                                enum evidence_seal_kind kind,
                                                const uint8_t hash[32]);

/* ---- bundles (evidence_bundle.c) ---- */

/* One item of a parsed manifest: spans into the manifest's bytes. */
struct evidence_manifest_item {
    char id[EVIDENCE_NAME_MAX + 1];
    const char *record; /* the item's record object */
    size_t record_len;
    const char *custody; /* the array of custody lines (strings) */
    size_t custody_len;
    char file[80]; /* "items/<sha256>" or "" when only referenced */
    uint8_t sha256[32];
    uint8_t blake2b[64];
    uint64_t size;
};
struct evidence_manifest {
    uint8_t public_key[32];
    struct evidence_manifest_item *items;
    size_t n_items;
    const char *seals; /* the array of seal objects */
    size_t seals_len;
};
/* Parses a manifest (docs/evidence.md, "Bundle").  -EINVAL with reterr
 * filled when it is not one, -ENOMEM, -E2BIG past the caps.  The spans
 * point into p, which must outlive the manifest. */
int evidence_manifest_parse(const char *p, size_t len, struct evidence_manifest *ret,
                            struct parse_err *reterr);
void evidence_manifest_done(struct evidence_manifest *m);

/*
 * Verifies the bundle in directory `dir` against the site's verification
 * key `pub` (epoch 0 of the evidence key chain): manifest.sig signs the
 * manifest's SHA-256 with the epoch after the last seal listed; the seals
 * chain from pub; each item's custody log is whole and sealed and its add
 * entry names the item's digests; each copied file has the size and both
 * digests the manifest lists.  Faults go to rep, each naming what broke.
 * 0 when the verification ran (rep->faults says the verdict), -errno when
 * the directory cannot be read at all.
 */
int evidence_bundle_verify(const char *dir, const uint8_t pub[32], struct evidence_report *rep);

/* ---- small shared helpers ---- */

/* "2026-12-07T05:24:07.123456Z" for µs since the epoch, into out[32]. */
void evidence_time_format(int64_t us, char out[32]);
/* Copies file `src` to `dst` (created, mode 0444, refused if it exists),
 * keeping holes (SEEK_DATA/SEEK_HOLE), and fsyncs it.  -errno. */
int evidence_copy_file(const char *src, const char *dst);

#endif
