/*
 * pipeline_silence.h - silent sources: per input and sender, when each was
 * last heard, the interval it is expected to send in (configured, or
 * learned from its own traffic), and which stopped sending for longer
 * (internal to src/pipeline/).
 *
 * A sender is the address a network input's records came from (a file or
 * stdin input is one sender, itself).  It is tracked from its first record;
 * once silent for its interval it is reported once, and it counts as
 * silent until it sends again.  At most LIMIT_SILENCE_SOURCES senders are
 * tracked (keyed hash: spoofed UDP sources cannot pick their slots);
 * further ones are not, and counted.
 *
 * Learning, for an input with no configured interval: each sender's gaps
 * between records go into a histogram of gap lengths (powers of two of a
 * millisecond) weighted by the time they cover, so that a sender sending
 * bursts is judged by the pauses between its bursts, not by the many short
 * gaps inside them.  The learned interval is PSILENCE_LEARN_FACTOR times
 * the gap below which PSILENCE_LEARN_QUANTILE % of the watched time fell,
 * held between the input's floor and cap.  It counts only once the sender
 * has sent PSILENCE_LEARN_GAPS gaps and has been heard over a span at
 * least as long as that interval; before, the sender is never reported.
 * Weights are halved when they sum past PSILENCE_LEARN_HORIZON_MS, so a
 * sender's present rate outweighs what it did weeks ago.
 *
 * The table belongs to the pipeline thread.  psilence_publish() copies
 * what other threads may read (the health answer) under a lock of its own,
 * so that a reader never waits for a batch.
 */
#ifndef HIKESHI_PIPELINE_PIPELINE_SILENCE_H
#define HIKESHI_PIPELINE_PIPELINE_SILENCE_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/pipeline.h"

#define PSILENCE_LEARN_GAPS 16
#define PSILENCE_LEARN_FACTOR 3
#define PSILENCE_LEARN_QUANTILE 95
#define PSILENCE_LEARN_HORIZON_MS (7LL * 86400 * 1000)
/* inputs[].silence_learn_min and silence_learn_max by default */
#define PSILENCE_LEARN_MIN_DEFAULT_S 600
#define PSILENCE_LEARN_MAX_DEFAULT_S 86400

struct psilence;

/* How one input's senders are watched. */
struct psilence_watch {
    int64_t every_us;     /* > 0: configured; 0: learned; < 0: not watched */
    int64_t learn_min_us; /* learned intervals' floor (> 0) */
    int64_t learn_max_us; /* and cap (>= learn_min_us) */
};

/* One sender gone silent, as psilence_due() reports it. */
struct psilence_src {
    uint32_t input; /* the input's index */
    uint8_t family; /* 0 (the input itself), 4 or 6 */
    uint8_t addr[16];
    uint8_t learned;  /* 1: every_us was learned, 0: configured */
    int64_t last_us;  /* its last record's receive time */
    int64_t every_us; /* the interval it was expected in */
};

/* NULL when out of memory (or no entropy for the hash key). */
struct psilence *psilence_new(void);
void psilence_free(struct psilence *s);
/* Sets how `input`'s senders are watched (not watched until then).  0,
 * -EINVAL (a learned input's floor or cap out of order) or -ENOMEM. */
int psilence_watch(struct psilence *s, uint32_t input, const struct psilence_watch *w);
/*
 * A record from (family, addr) on `input`, received at now_us.  Returns 1
 * when the sender had been reported silent (it is back), else 0 (also when
 * the input is not watched).
 */
int psilence_seen(struct psilence *s, uint32_t input, uint8_t family, const uint8_t addr[16],
                  int64_t now_us);
/*
 * The next sender silent at now_us and not yet reported: 1 with *ret
 * filled (and the sender marked reported), 0 when none is left.
 */
int psilence_due(struct psilence *s, int64_t now_us, struct psilence_src *ret);
/* The interval (family, addr) on `input` is expected in now: > 0, or 0
 * while it is still learning (or not tracked). */
int64_t psilence_every(const struct psilence *s, uint32_t input, uint8_t family,
                       const uint8_t addr[16]);
/* Senders not tracked because the table was full. */
uint64_t psilence_untracked(const struct psilence *s);

/* Publishes every tracked sender's state for psilence_sources(). */
void psilence_publish(struct psilence *s);
/* Copies up to `max` of `input`'s senders as last published, the silent
 * ones first, then the most recently heard; returns how many it has in
 * all.  Safe from any thread. */
size_t psilence_sources(struct psilence *s, uint32_t input, struct pipeline_source *ret,
                        size_t max);

#endif
