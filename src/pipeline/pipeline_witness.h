/*
 * pipeline_witness.h - the daemon's seal exporter: every seal of the
 * archive sent to each configured witness (archive.witness: a file it
 * appends to, a URL it POSTs to), in order, retried until it is taken
 * (docs/archive.md, "Witnesses").
 *
 * One thread follows the archive for new seals (archive_seals_follow), so
 * nothing is held in the writer's path and a restart resumes from the
 * archive itself: each witness's next epoch is kept in a state file under
 * DATA_DIR/archive.witness/, written after the witness took the seal.  A
 * witness that fails is tried again after 1 s, doubling to 5 minutes; the
 * others go on.
 */
#ifndef HIKESHI_PIPELINE_PIPELINE_WITNESS_H
#define HIKESHI_PIPELINE_PIPELINE_WITNESS_H

#include <stddef.h>
#include <stdint.h>

struct config_witness;
struct pwitness;

/* What /api/v1/health and /metrics show of one witness. */
struct pwitness_state {
    const char *target;  /* its file or URL (owned by the exporter) */
    uint64_t next_epoch; /* the next seal's epoch it has to take */
    uint64_t sent;       /* seals it took since start */
    uint64_t failures;   /* attempts that failed since start */
    int failing;         /* 1 while the last attempt failed */
    int64_t last_ok_us;  /* when it last took a seal (0: not in this run) */
    char last_error[512];
};

/* Starts the exporter for the archive in `archive_dir`, with its state
 * under `state_dir` (created, 0700).  Reads each url's secret_file now:
 * -EINVAL (logged) when one is unreadable or shorter than 32 bytes. */
int pwitness_start(const char *archive_dir, const char *state_dir, const struct config_witness *w,
                   size_t n, struct pwitness **ret);
/* Starts an exporter of the audit log's head (audit.head_url): each time
 * the file `head_path` (audit.head) holds a new head, its line is POSTed
 * to `url`, signed with the key in `secret_file`, retried as above.  It
 * sends the latest head; heads superseded before a round are not sent. */
int pwitness_start_head(const char *head_path, const char *url, const char *secret_file,
                        struct pwitness **ret);
/* Wakes the thread at once (after a seal). */
void pwitness_kick(struct pwitness *pw);
/* Sends what is left it can in one last round, stops and frees.  NULL: no-op. */
void pwitness_stop(struct pwitness *pw);
/* Witnesses configured; fills ret[0..min(n, max)) (a snapshot). */
size_t pwitness_states(struct pwitness *pw, struct pwitness_state *ret, size_t max);

#endif
