/*
 * pipeline_silence.h - silent sources: per input and sender, when each was
 * last heard, and which stopped sending for longer than their input's
 * expect_every (internal to src/pipeline/).
 *
 * A sender is the address a network input's records came from (a file or
 * stdin input is one sender, itself).  It is tracked from its first record;
 * once silent for expect_every it is reported once, and it counts as
 * silent until it sends again.  At most LIMIT_SILENCE_SOURCES senders are
 * tracked (keyed hash: spoofed UDP sources cannot pick their slots);
 * further ones are not, and counted.
 */
#ifndef HIKESHI_PIPELINE_PIPELINE_SILENCE_H
#define HIKESHI_PIPELINE_PIPELINE_SILENCE_H

#include <stddef.h>
#include <stdint.h>

struct psilence;

/* One sender gone silent, as psilence_due() reports it. */
struct psilence_src {
    uint32_t input; /* the input's index */
    uint8_t family; /* 0 (the input itself), 4 or 6 */
    uint8_t addr[16];
    int64_t last_us;  /* its last record's receive time */
    int64_t every_us; /* the interval it was expected in */
};

/* NULL when out of memory (or no entropy for the hash key). */
struct psilence *psilence_new(void);
void psilence_free(struct psilence *s);
/*
 * A record from (family, addr) on `input`, expected every `every_us`,
 * received at now_us.  Returns 1 when the sender had been reported silent
 * (it is back), else 0.
 */
int psilence_seen(struct psilence *s, uint32_t input, int64_t every_us, uint8_t family,
                  const uint8_t addr[16], int64_t now_us);
/*
 * The next sender silent at now_us and not yet reported: 1 with *ret
 * filled (and the sender marked reported), 0 when none is left.
 */
int psilence_due(struct psilence *s, int64_t now_us, struct psilence_src *ret);
/* Senders not tracked because the table was full. */
uint64_t psilence_untracked(const struct psilence *s);

#endif
