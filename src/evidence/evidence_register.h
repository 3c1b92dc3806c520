/*
 * evidence_register.h - the evidence register over the store: adding
 * items, their custody entries (each hash-chained, sealed with the
 * evidence key chain and written to the audit log), local verification
 * and the export of signed bundles (docs/evidence.md).
 *
 * One register is used by one process at a time: evidence_reg_open takes
 * an exclusive lock (DATA_DIR/evidence/lock), since every custody entry
 * takes the key's next epoch.
 */
#ifndef HIKESHI_EVIDENCE_EVIDENCE_REGISTER_H
#define HIKESHI_EVIDENCE_EVIDENCE_REGISTER_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/evidence.h"

struct audit;
struct store;

/* The item kinds and the five purposes of MISSION.md §5. */
extern const char *const evidence_kinds[];
extern const char *const evidence_purposes[];

struct evidence_reg {
    struct store *st;        /* borrowed */
    struct audit *audit;     /* borrowed; NULL: entries go to the store's outbox */
    struct archive_key *key; /* owned; NULL when opened without a key (list only) */
    uint8_t pub0[32];        /* epoch 0's verification key */
    char data_dir[4096];
    char actor[EVIDENCE_NAME_MAX + 1];
    int lock_fd;
    char err[512]; /* what the last failure was, for a person */
};

/*
 * Opens the register of `data_dir` over `st`, with the signing key
 * `key_path` and its verification key `pub_path` (NULL: no key; only
 * listing works).  Creates DATA_DIR/evidence (0750), locks it, and brings
 * a key that a crash left behind the register's seals up to date; a key
 * ahead of them, or seals missing, is -EBADMSG (reg->err says which).
 */
int evidence_reg_open(struct evidence_reg *reg, const char *data_dir, struct store *st,
                      struct audit *audit, const char *key_path, const char *pub_path,
                      const char *actor);
/* The same, but -EBUSY at once when another process holds the lock (the
 * HTTP API, which must not wait behind a long `hikeshi evidence add`). */
int evidence_reg_open_nowait(struct evidence_reg *reg, const char *data_dir, struct store *st,
                             struct audit *audit, const char *key_path, const char *pub_path,
                             const char *actor);
void evidence_reg_close(struct evidence_reg *reg);

struct evidence_add_req {
    const char *path; /* the file (unused with url) */
    const char *url;  /* or a reference that is not a local file (URL) */
    /* The url's digests, as the acquirer gives them; with a path, the
     * digests the file must have (else -EIO, nothing added); or NULL. */
    const struct evidence_digest *digest;
    const char *name; /* the record's name (NULL: the path's base name) */
    /* The collection plan step it was collected for ("CLASS/STEP"), or NULL. */
    const char *collection;
    const char *kind;    /* one of evidence_kinds */
    int copy;            /* 1: into DATA_DIR/evidence/<sha256>, read-only */
    const char *by;      /* who acquired it (NULL: the actor) */
    const char *at;      /* when (text as given; NULL: now) */
    const char *host;    /* from which host (NULL: "") */
    const char *tool;    /* with which tool */
    const char *command; /* and command line */
    const char *reason;  /* why */
    const int64_t *incidents;
    size_t n_incidents;
    const char *const *purposes; /* each one of evidence_purposes */
    size_t n_purposes;
};
/* Hashes the file (one streaming pass), copies it when asked, and adds the
 * item with its "add" custody entry.  *ret_id the item number. */
int evidence_add(struct evidence_reg *reg, const struct evidence_add_req *req, int64_t *ret_id,
                 struct evidence_digest *ret_d);
/* Appends an "import" entry with `details` (a JSON object we wrote: where
 * the item came from, docs/evidence.md) to item `id`, sealed and audited
 * as every custody entry. */
int evidence_custody_import(struct evidence_reg *reg, int64_t id, const char *details);
/* Appends the records of all items (incident 0) or of one incident's,
 * as a JSON array. */
int evidence_list(struct evidence_reg *reg, int64_t incident, struct buf *out);
/* Appends {"record":...,"custody":[...]} of item `id` and records the
 * access ("access", how: `how`) in its custody log. */
int evidence_show(struct evidence_reg *reg, int64_t id, const char *how, struct buf *out);
/* Hands item `id` from `from` (who must hold it) to `to`. */
int evidence_transfer(struct evidence_reg *reg, int64_t id, const char *from, const char *to,
                      const char *reason);
/* Re-hashes item `id` and checks its custody log and the seals; faults to
 * rep; records the check ("verify") in the custody log.  0 when the check
 * ran (rep->faults says the verdict). */
int evidence_verify(struct evidence_reg *reg, int64_t id, struct evidence_report *rep);
/* Writes a bundle of the items to directory `dir` (created; must not
 * exist): each gets an "export" custody entry, then manifest.json, the
 * files under items/ (unless no_copy) and manifest.sig. */
int evidence_export(struct evidence_reg *reg, const int64_t *ids, size_t n, const char *dir,
                    int no_copy);
/* "EV-<n>" and back (-EINVAL). */
void evidence_id_format(int64_t id, char out[32]);
int evidence_id_parse(const char *s, int64_t *ret);

#endif
