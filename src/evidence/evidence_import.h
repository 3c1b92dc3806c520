/*
 * evidence_import.h - taking a signed bundle from another site into this
 * site's evidence register (docs/evidence.md, "Importing a bundle").
 *
 * The bundle is verified first against the other site's verification key,
 * and nothing is imported unless it is intact.  Each item becomes an item
 * here (a copied file is kept in the evidence store; a referenced one
 * stays a reference), with the acquisition it had there, its "add" entry,
 * then an "import" entry naming the site it was received from (its key),
 * the item's id there and the hash of its last custody entry there.  The
 * bundle's manifest and signature are kept in DATA_DIR/evidence/bundles/
 * so that the chain of custody before the hand-over stays checkable.
 */
#ifndef HIKESHI_EVIDENCE_EVIDENCE_IMPORT_H
#define HIKESHI_EVIDENCE_EVIDENCE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/evidence_register.h"

/* Items one import takes at most. */
#define EVIDENCE_IMPORT_MAX 1024

struct evidence_import_req {
    const char *dir;          /* the bundle's directory */
    const uint8_t *site_pub;  /* the other site's verification key (32 bytes) */
    const int64_t *incidents; /* link each item to these incidents here */
    size_t n_incidents;
    const char *by; /* the custodian here (NULL: the register's actor) */
};

/*
 * Verifies the bundle (faults to rep) and, when it is intact, imports
 * every item.  *ret_n items were imported, their ids in ret_ids (cap of
 * them).  Errors: -EBADMSG the bundle does not verify (rep says why;
 * nothing imported), -E2BIG more items than EVIDENCE_IMPORT_MAX or cap,
 * -EIO a file changed after the verification (the items before it stay
 * imported, each with its import entry; reg->err names the item), other
 * -errno from the register (reg->err).
 */
int evidence_import(struct evidence_reg *reg, const struct evidence_import_req *req,
                    struct evidence_report *rep, int64_t *ret_ids, size_t cap, size_t *ret_n);

/* "ed25519:<64 hex>": how a site's key is named in custody (out[73]). */
void evidence_import_key_name(const uint8_t pub[32], char out[80]);

#endif
