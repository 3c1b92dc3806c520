/*
 * pipeline_silence.c - silent sources (see pipeline_silence.h).
 *
 * An open-addressed table of LIMIT_SILENCE_SOURCES slots, probed linearly
 * from a keyed hash of (input, address).  Senders are never removed: a
 * source that went silent stays known so that it is reported again after
 * it comes back and stops once more.  psilence_due() walks the table from
 * where the last walk stopped; the pipeline calls it about once a second.
 */
#include "pipeline/pipeline_silence.h"

#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/limits.h"

struct psilence_slot {
    uint8_t used;
    uint8_t reported; /* silent and reported; cleared by its next record */
    uint8_t family;
    uint8_t addr[16];
    uint32_t input;
    int64_t last_us;
    int64_t every_us;
};

struct psilence {
    struct htable_key key;
    struct psilence_slot *slots; /* LIMIT_SILENCE_SOURCES */
    size_t used;
    uint64_t untracked;
};

struct psilence *psilence_new(void)
{
    struct psilence *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->slots = calloc(LIMIT_SILENCE_SOURCES, sizeof(*s->slots));
    if (!s->slots || htable_key_init(&s->key) < 0) {
        psilence_free(s);
        return NULL;
    }
    return s;
}

void psilence_free(struct psilence *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s);
}

int psilence_seen(struct psilence *s, uint32_t input, int64_t every_us, uint8_t family,
                  const uint8_t addr[16], int64_t now_us)
{
    uint8_t k[21];
    size_t h;

    memcpy(k, &input, 4);
    k[4] = family;
    memcpy(k + 5, addr, 16);
    h = (size_t)(htable_key_hash(&s->key, k, sizeof(k)) % LIMIT_SILENCE_SOURCES);
    for (size_t i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        struct psilence_slot *sl = &s->slots[(h + i) % LIMIT_SILENCE_SOURCES];
        int back;

        if (!sl->used) {
            if (s->used * 4 >= (size_t)LIMIT_SILENCE_SOURCES * 3) {
                /* Three quarters full: probes would grow long. */
                s->untracked++;
                return 0;
            }
            sl->used = 1;
            sl->input = input;
            sl->family = family;
            memcpy(sl->addr, addr, 16);
            sl->last_us = now_us;
            sl->every_us = every_us;
            s->used++;
            return 0;
        }
        if (sl->input != input || sl->family != family || memcmp(sl->addr, addr, 16) != 0)
            continue;
        back = sl->reported;
        sl->reported = 0;
        if (now_us > sl->last_us)
            sl->last_us = now_us;
        sl->every_us = every_us;
        return back;
    }
    s->untracked++;
    return 0;
}

int psilence_due(struct psilence *s, int64_t now_us, struct psilence_src *ret)
{
    for (size_t i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        struct psilence_slot *sl = &s->slots[i];

        if (!sl->used || sl->reported || sl->every_us <= 0 || now_us - sl->last_us < sl->every_us)
            continue;
        sl->reported = 1;
        ret->input = sl->input;
        ret->family = sl->family;
        memcpy(ret->addr, sl->addr, 16);
        ret->last_us = sl->last_us;
        ret->every_us = sl->every_us;
        return 1;
    }
    return 0;
}

uint64_t psilence_untracked(const struct psilence *s)
{
    return s->untracked;
}
