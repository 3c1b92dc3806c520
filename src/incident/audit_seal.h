/*
 * audit_seal.h - the audit log's seal entries (docs/audit.md, "Seals"): the
 * one layout of their details, the bytes their signature covers, and
 * checking that signature.  audit.c writes and walks the log; this file
 * only knows what a seal says.
 *
 * A seal is an ordinary entry of the chain by "hikeshi", action
 * "audit.seal", object "audit", whose details are exactly
 *
 *   {"epoch":E,"entries":N,"head":"<64 hex>","signer":"<64 hex>",
 *    "next":"<64 hex>","sig":"<128 hex>"}
 *
 * N is the number of entries before it (its seq is N + 1), head the
 * SHA-256 of entry N's line (its own prev), signer the Ed25519 public key
 * of epoch E of the audit key chain (src/archive/archive_seal.c), next the
 * key of epoch E + 1, sig the signature of AUDIT_SEAL_DOMAIN, its NUL and
 * audit_seal_message().
 */
#ifndef HIKESHI_INCIDENT_AUDIT_SEAL_H
#define HIKESHI_INCIDENT_AUDIT_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "archive/archive.h"
#include "util/buf.h"

#define AUDIT_SEAL_ACTION "audit.seal"
#define AUDIT_SEAL_OBJECT "audit"
/* Distinct from the archive's "hikeshi-archive-seal-v1": a seal of one log
 * never verifies as a seal of the other, even under the same key. */
#define AUDIT_SEAL_DOMAIN "hikeshi-audit-seal-v1"
#define AUDIT_SEAL_HASH_LEN 32
/* epoch, entries, time (8 each), head, signer, next (32 each). */
#define AUDIT_SEAL_MSG_LEN (3 * 8 + 3 * 32)

struct audit_seal {
    struct archive_key_sig ks; /* epoch, signer, next, sig */
    uint64_t entries;          /* entries before the seal */
    int64_t time_us;           /* the seal entry's time field */
    unsigned char head[AUDIT_SEAL_HASH_LEN];
};

/* Appends the details object of `s` to `b` (the layout above). */
int audit_seal_details(const struct audit_seal *s, struct buf *b);
/* Parses details in exactly the layout above into *ret (time_us and head
 * are left alone: they come from the line).  -EINVAL otherwise. */
int audit_seal_parse(const char *p, size_t len, struct audit_seal *ret);
/* The signed message (without the domain). */
void audit_seal_message(const struct audit_seal *s, uint8_t out[AUDIT_SEAL_MSG_LEN]);
/* 1 when s->ks.sig is s->ks.signer's signature of the seal, else 0. */
int audit_seal_sig_ok(const struct audit_seal *s);

#endif
