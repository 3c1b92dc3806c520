/*
 * audit.h - the tamper-evident audit trail: who did what to which incident.
 *
 * One append-only file of JSON lines (var/audit.log by default).  Each line is
 * one entry, written in one fixed layout:
 *
 *   {"seq":N,"time":"...Z","actor":"...","action":"...","object":"...",
 *    "details":{...},"prev":"<64 hex>","hash":"<64 hex>"}
 *
 * `prev` is the SHA-256 of the previous line (its bytes without the newline;
 * 64 zeros for the first entry) and `hash` the SHA-256 of this line's bytes
 * up to, not including, the `,"hash":` that ends it.  Any changed, removed,
 * reordered or inserted line therefore breaks the chain at that line.  The
 * exact canonical form, and what the chain does not prove, are in
 * docs/audit.md.
 */
#ifndef HIKESHI_INCIDENT_AUDIT_H
#define HIKESHI_INCIDENT_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest line accepted, newline included; longer lines are "malformed". */
#define AUDIT_LINE_MAX (64 * 1024)
/* Longest details object accepted by audit_append, in bytes. */
#define AUDIT_DETAILS_MAX (32 * 1024)
/* Longest actor, action and object accepted by audit_append, in bytes. */
#define AUDIT_NAME_MAX 256
/* Nesting depth accepted in the details object. */
#define AUDIT_JSON_DEPTH 32
/* Hex SHA-256 plus NUL. */
#define AUDIT_HEX_LEN 65
/* The actor of the daemon's own actions. */
#define AUDIT_ACTOR_SYSTEM "hikeshi"
/* Denied actions (audit_deny): a burst of this many entries, then this many
 * a second; the rest are counted into one "audit.denials_dropped" entry. */
#define AUDIT_DENY_BURST 20.0
#define AUDIT_DENY_PER_SEC 1.0

struct archive_key;

/* Why the chain is broken at a line; AUDIT_OK when it is not. */
enum audit_why {
    AUDIT_OK = 0,
    AUDIT_MALFORMED,     /* not JSON, not our layout, or too long */
    AUDIT_TRUNCATED,     /* last line without its newline (torn write) */
    AUDIT_SEQ_GAP,       /* seq is not the previous seq plus one */
    AUDIT_PREV_MISMATCH, /* prev is not the SHA-256 of the previous line */
    AUDIT_HASH_MISMATCH, /* hash is not the SHA-256 of the line's own bytes */
    AUDIT_SEAL_BAD,      /* a seal's layout, counts, signature or signer is wrong */
    AUDIT_SEAL_GAP,      /* a seal's epoch does not follow the seal before it */
    AUDIT_CUT,           /* fewer entries or seals than the head or key says */
    AUDIT_REWRITTEN,     /* the entry the exported head names differs */
};

/*
 * What audit_verify (and a refusing audit_open) found.  `entries` counts the
 * entries that chained correctly before the first fault.  `line` is the
 * 1-based line of the first fault, 0 when intact (audit_open, which reads
 * only the tail, sets it to 0 and sets `why`).
 */
struct audit_result {
    uint64_t entries;
    uint64_t line;
    enum audit_why why;
    /* audit_verify_opts only: */
    uint64_t seals;          /* seals that checked out */
    uint64_t last_seal_line; /* the last one's line (= seq) */
    uint64_t last_epoch;     /* and epoch */
    char detail[256];        /* a sentence saying more about `why`; "" if none */
};

/* A short English reason ("hash mismatch", ...); never NULL. */
const char *audit_why_name(enum audit_why why);

struct audit;

/*
 * Opens the log at `path`, creating it (mode 0640) when missing, and reads its
 * last entry to continue the chain: the last complete line must parse and its
 * own hash must match, otherwise -EBADMSG is returned with the reason in
 * *reterr and nothing may be appended until `hikeshi audit verify` has been
 * run and the file repaired by hand.
 *
 * A torn tail (bytes after the last newline: a write that a crash cut short,
 * which was therefore never acknowledged) is cut off, and audit_open then
 * appends an "audit.torn_tail" entry by "hikeshi" whose details hold the
 * number of bytes dropped and their SHA-256, so the repair itself is in the
 * chain.  A warning is logged.  A tail that is a whole entry chaining on
 * correctly and missing only its newline gets the newline instead.  -EBUSY when another process has
 * the log open for appending.
 *
 * On success *ret_a owns the file; free it with audit_free.  Errors: -errno
 * from open/read/ftruncate, -ENOMEM, -EBADMSG as above.  `reterr` may be NULL.
 */
int audit_open(const char *path, struct audit **ret_a, struct audit_result *reterr);

/* Closes the file.  NULL is a no-op. */
void audit_free(struct audit *a);

/*
 * Appends one entry and returns once it is on stable storage (write(2) then
 * fdatasync(2)): an entry whose append returned 0 survives a crash.
 * `actor` (a user name or AUDIT_ACTOR_SYSTEM), `action` ("incident.update")
 * and `object` ("incident/42") are NUL-terminated, non-empty, at most
 * AUDIT_NAME_MAX bytes; `details` (length `len`, no NUL needed) must be one
 * JSON object, stored with insignificant whitespace removed; NULL means {}.
 * Thread-safe: entries from concurrent callers are serialised, each gets the
 * next seq, and *ret_seq (may be NULL) says which.
 *
 * Errors: -EINVAL (bad argument or details not one JSON object), -E2BIG
 * (over a limit), -ENOMEM, -errno from write.  When fdatasync fails the entry
 * may or may not be on disk, so the log refuses all further appends with -EIO.
 */
int audit_append(struct audit *a, const char *actor, const char *action, const char *object,
                 const char *details, size_t len, uint64_t *ret_seq);

/*
 * Records a denied action (a refused API request, a response the policy
 * refused) like audit_append, but rate-limited over the whole log
 * (AUDIT_DENY_BURST, AUDIT_DENY_PER_SEC): a flood of denials must not fill
 * the disk.  Those dropped are counted, and the count is written as an
 * "audit.denials_dropped" entry before the next denial that passes.
 * Returns 1 when written, 0 when dropped, or audit_append's errors.
 */
int audit_deny(struct audit *a, const char *actor, const char *action, const char *object,
               const char *details, size_t len);

/* ---- seals (docs/audit.md, "Seals") ---- */

struct audit_seal_opts {
    struct archive_key *key; /* the audit key chain, borrowed; NULL: no seals */
    uint64_t seal_entries;   /* seal after this many entries; 0: not by count */
    int64_t seal_us;         /* ... or when the oldest unsealed entry is this old; 0: not */
    const char *head_path;   /* copy each seal's line here (the exported head); NULL: none */
};

/* What audit_seal_start found: `found` is AUDIT_OK, AUDIT_CUT (fewer
 * entries than the exported head, or fewer seals than the key signed) or
 * AUDIT_REWRITTEN (the entry the head names differs). */
struct audit_cut {
    enum audit_why found;
    uint64_t expected; /* head: its entry's seq; key: seals it signed */
    uint64_t entries;  /* entries in the log */
    uint64_t seals;    /* seals in the log (by the last one's epoch) */
    char why[512];     /* the sentence to print (paths, counts) */
};

/*
 * Turns sealing on for an open log and checks it against what was sealed
 * before: the exported head (o->head_path; a missing file is no fault: the
 * first seal writes it) must be an entry of the log, byte for byte, and
 * the key's epoch must be one past the log's last seal (a key one epoch
 * behind, a crash between a seal and the key's evolution, is caught up).
 * Reads the log backwards from its end to its last seal (and to the
 * head's entry).  Returns 0 with ret->found telling a cut or rewrite (the
 * caller refuses to run, or records that it was told to accept it);
 * -EKEYREJECTED when the key is not this log's chain or is behind it,
 * -EBADMSG for a head file that is not a good seal, -errno; ret->why says
 * it in each case.  When 0 is returned sealing is on, but after a cut or
 * rewrite it is held: nothing is sealed (and the head not moved) until
 * audit_seal_release, which the caller calls only once it has decided to
 * go on and recorded so.
 */
int audit_seal_start(struct audit *a, const struct audit_seal_opts *o, struct audit_cut *ret);
/* Lets a log held by audit_seal_start seal again. */
void audit_seal_release(struct audit *a);
/* Seals now if any entry is unsealed (clean shutdown).  0 or -errno. */
int audit_seal(struct audit *a);
/* Seals when the oldest unsealed entry is older than seal_us at now_us
 * (an idle daemon's timer).  0 or -errno. */
int audit_tick(struct audit *a, int64_t now_us);

/*
 * Copies the seq and hex hash of the last entry (0 and 64 zeros when empty)
 * for anchoring the head of the chain somewhere the log's writer cannot
 * reach.  Either pointer may be NULL.
 */
void audit_head(struct audit *a, uint64_t *ret_seq, char ret_hash[AUDIT_HEX_LEN]);

/*
 * Walks the whole file and stops at the first broken entry.  Returns 0 when
 * the file could be read, the verdict being in *ret (why == AUDIT_OK:
 * intact); -errno when it could not be opened or read.  A missing file is
 * -ENOENT, an empty one is intact with 0 entries.
 */
int audit_verify(const char *path, struct audit_result *ret);

/* What verify is given beyond the file. */
struct audit_verify_opts {
    const unsigned char *pub; /* the verification key (epoch 0's public key, 32
                                 bytes); NULL: seals checked for form and
                                 continuity only */
    uint64_t key_epoch;       /* > 0: the signing key's epoch; fewer seals is a cut */
    const char *head_line;    /* the exported head's line (audit_head_load); NULL: none */
    size_t head_len;
    uint64_t head_seq, head_epoch;
};
/* audit_verify, also checking every seal (its layout, its counts, its
 * signature, each epoch following the last and signed by the key the
 * seal before it named, the first by o->pub) and what is missing at the
 * end (o->head_line, o->key_epoch).  o may be NULL. */
int audit_verify_opts(const char *path, const struct audit_verify_opts *o,
                      struct audit_result *ret);
/* Reads an exported head file into o->head_* (*ret_line owns the line;
 * free it).  -EBADMSG when it is not a seal line with a good signature. */
int audit_head_load(const char *path, struct audit_verify_opts *o, char **ret_line);

/*
 * `hikeshi audit verify`: prints "N entries, chain intact" or "line L: why"
 * (or, with `json`, one JSON object) to `out`.  Returns 0 intact, 1 broken,
 * 2 unreadable.
 */
int audit_cli_verify(const char *path, int json, FILE *out);
/* The same with audit_verify_opts; also prints the seals found. */
int audit_cli_verify_opts(const char *path, const struct audit_verify_opts *o, int json, FILE *out);

#endif
