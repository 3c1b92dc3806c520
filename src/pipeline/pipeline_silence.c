/*
 * pipeline_silence.c - silent sources (see pipeline_silence.h).
 *
 * An open-addressed table of LIMIT_SILENCE_SOURCES slots, probed linearly
 * from a keyed hash of (input, address).  Senders are never removed: a
 * source that went silent stays known so that it is reported again after
 * it comes back and stops once more.  psilence_due() walks the table; the
 * pipeline calls it about once a second, and psilence_publish() after it.
 * Most batches come from one sender, so the last slot found is tried
 * before the hash.
 */
#include "pipeline/pipeline_silence.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/limits.h"

/* Gap lengths in milliseconds: bucket 0 holds 0, bucket b holds
 * [2^(b-1), 2^b), the last one everything longer. */
#define NBUCKETS 32

struct psilence_slot {
    uint8_t used;
    uint8_t reported; /* silent and reported; cleared by its next record */
    uint8_t family;
    uint8_t addr[16];
    uint32_t input;
    int64_t first_us, last_us;
    /* the learner (inputs without a configured interval) */
    uint32_t gaps;              /* gaps seen, up to PSILENCE_LEARN_GAPS */
    uint32_t total_ms;          /* sum of w[] */
    uint32_t w[NBUCKETS];       /* time (ms) covered by gaps of each length */
    uint32_t longest[NBUCKETS]; /* the longest gap (ms) seen in each bucket */
};

struct psilence {
    struct htable_key key;
    struct psilence_slot *slots; /* LIMIT_SILENCE_SOURCES */
    size_t used;
    size_t last; /* the slot psilence_seen() found last */
    uint64_t untracked;
    struct psilence_watch *watch; /* per input index; nwatch of them */
    uint32_t nwatch;
    /* what psilence_publish() copied for other threads */
    pthread_mutex_t pub_lock;
    struct pipeline_source *pub; /* LIMIT_SILENCE_SOURCES */
    uint32_t *pub_input;         /* the input of each */
    size_t npub;
};

struct psilence *psilence_new(void)
{
    struct psilence *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    if (pthread_mutex_init(&s->pub_lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->slots = calloc(LIMIT_SILENCE_SOURCES, sizeof(*s->slots));
    s->pub = calloc(LIMIT_SILENCE_SOURCES, sizeof(*s->pub));
    s->pub_input = calloc(LIMIT_SILENCE_SOURCES, sizeof(*s->pub_input));
    if (!s->slots || !s->pub || !s->pub_input || htable_key_init(&s->key) < 0) {
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
    free(s->watch);
    free(s->pub);
    free(s->pub_input);
    pthread_mutex_destroy(&s->pub_lock);
    free(s);
}

int psilence_watch(struct psilence *s, uint32_t input, const struct psilence_watch *w)
{
    if (w->every_us == 0 && (w->learn_min_us <= 0 || w->learn_max_us < w->learn_min_us))
        return -EINVAL;
    if (input >= s->nwatch) {
        struct psilence_watch *nw = realloc(s->watch, ((size_t)input + 1) * sizeof(*nw));

        if (!nw)
            return -ENOMEM;
        for (uint32_t i = s->nwatch; i <= input; i++)
            nw[i] = (struct psilence_watch){.every_us = -1};
        s->watch = nw;
        s->nwatch = input + 1;
    }
    s->watch[input] = *w;
    return 0;
}

static const struct psilence_watch *watch_of(const struct psilence *s, uint32_t input)
{
    return input < s->nwatch && s->watch[input].every_us >= 0 ? &s->watch[input] : NULL;
}

static int slot_is(const struct psilence_slot *sl, uint32_t input, uint8_t family,
                   const uint8_t addr[16])
{
    return sl->used && sl->input == input && sl->family == family &&
           memcmp(sl->addr, addr, 16) == 0;
}

static unsigned bucket_of(uint32_t ms)
{
    unsigned b = 0;

    while (ms && b < NBUCKETS - 1) {
        ms >>= 1;
        b++;
    }
    return b;
}

/* One more gap of a learning sender. */
static void learn_gap(struct psilence_slot *sl, int64_t gap_us)
{
    uint32_t ms = gap_us >= (int64_t)UINT32_MAX * 1000 ? UINT32_MAX : (uint32_t)(gap_us / 1000);
    unsigned b = bucket_of(ms);

    if (sl->gaps < PSILENCE_LEARN_GAPS)
        sl->gaps++;
    if (ms > sl->longest[b])
        sl->longest[b] = ms;
    if (ms == 0)
        return; /* a gap covers no time: it counts, weighs nothing */
    if (ms > UINT32_MAX - sl->total_ms || sl->total_ms + ms > PSILENCE_LEARN_HORIZON_MS) {
        sl->total_ms = 0;
        for (unsigned i = 0; i < NBUCKETS; i++) {
            sl->w[i] /= 2;
            sl->total_ms += sl->w[i];
        }
        if (ms > UINT32_MAX - sl->total_ms)
            ms = UINT32_MAX - sl->total_ms;
    }
    sl->w[b] += ms;
    sl->total_ms += ms;
}

/* The interval a learning sender is expected in: 0 while it learns. */
static int64_t learned_every(const struct psilence_slot *sl, const struct psilence_watch *w)
{
    uint64_t want, acc = 0;
    int64_t q_ms = 0, every;

    if (sl->gaps < PSILENCE_LEARN_GAPS)
        return 0;
    want = ((uint64_t)sl->total_ms * PSILENCE_LEARN_QUANTILE + 99) / 100;
    for (unsigned b = 0; b < NBUCKETS && sl->total_ms; b++) {
        acc += sl->w[b];
        if (sl->w[b] && acc >= want) {
            q_ms = sl->longest[b];
            break;
        }
    }
    every = q_ms * 1000 * PSILENCE_LEARN_FACTOR;
    if (every < w->learn_min_us)
        every = w->learn_min_us;
    if (every > w->learn_max_us)
        every = w->learn_max_us;
    /* Not before it was heard over one whole interval: a first burst
     * says nothing of the pauses between bursts. */
    return sl->last_us - sl->first_us >= every ? every : 0;
}

static int64_t slot_every(const struct psilence *s, const struct psilence_slot *sl,
                          int *ret_learned)
{
    const struct psilence_watch *w = watch_of(s, sl->input);

    *ret_learned = 0;
    if (!w)
        return 0;
    if (w->every_us > 0)
        return w->every_us;
    *ret_learned = 1;
    return learned_every(sl, w);
}

/* The slot of (input, family, addr), made on its first record; NULL when
 * the table is too full to track it. */
static struct psilence_slot *slot_get(struct psilence *s, uint32_t input, uint8_t family,
                                      const uint8_t addr[16], int64_t now_us)
{
    uint8_t k[21];
    size_t h;

    if (slot_is(&s->slots[s->last], input, family, addr))
        return &s->slots[s->last];
    memcpy(k, &input, 4);
    k[4] = family;
    memcpy(k + 5, addr, 16);
    h = (size_t)(htable_key_hash(&s->key, k, sizeof(k)) % LIMIT_SILENCE_SOURCES);
    for (size_t i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        size_t at = (h + i) % LIMIT_SILENCE_SOURCES;
        struct psilence_slot *sl = &s->slots[at];

        if (!sl->used) {
            if (s->used * 4 >= (size_t)LIMIT_SILENCE_SOURCES * 3)
                return NULL; /* three quarters full: probes would grow long */
            memset(sl, 0, sizeof(*sl));
            sl->used = 1;
            sl->input = input;
            sl->family = family;
            memcpy(sl->addr, addr, 16);
            sl->first_us = sl->last_us = now_us;
            s->used++;
            s->last = at;
            return sl;
        }
        if (slot_is(sl, input, family, addr)) {
            s->last = at;
            return sl;
        }
    }
    return NULL;
}

int psilence_seen(struct psilence *s, uint32_t input, uint8_t family, const uint8_t addr[16],
                  int64_t now_us)
{
    const struct psilence_watch *w = watch_of(s, input);
    struct psilence_slot *sl;
    int back;

    if (!w)
        return 0;
    if (!(sl = slot_get(s, input, family, addr, now_us))) {
        s->untracked++;
        return 0;
    }
    if (now_us <= sl->last_us) /* its first record, or one received out of order */
        return 0;
    if (w->every_us == 0)
        learn_gap(sl, now_us - sl->last_us);
    back = sl->reported;
    sl->reported = 0;
    sl->last_us = now_us;
    return back;
}

int psilence_due(struct psilence *s, int64_t now_us, struct psilence_src *ret)
{
    for (size_t i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        struct psilence_slot *sl = &s->slots[i];
        int learned;
        int64_t every;

        if (!sl->used || sl->reported)
            continue;
        every = slot_every(s, sl, &learned);
        if (every <= 0 || now_us - sl->last_us < every)
            continue;
        sl->reported = 1;
        ret->input = sl->input;
        ret->family = sl->family;
        memcpy(ret->addr, sl->addr, 16);
        ret->learned = (uint8_t)learned;
        ret->last_us = sl->last_us;
        ret->every_us = every;
        return 1;
    }
    return 0;
}

int64_t psilence_every(const struct psilence *s, uint32_t input, uint8_t family,
                       const uint8_t addr[16])
{
    for (size_t i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        int learned;

        if (slot_is(&s->slots[i], input, family, addr))
            return slot_every(s, &s->slots[i], &learned);
    }
    return 0;
}

uint64_t psilence_untracked(const struct psilence *s)
{
    return s->untracked;
}

void psilence_publish(struct psilence *s)
{
    size_t n = 0;

    pthread_mutex_lock(&s->pub_lock);
    for (size_t i = 0; i < LIMIT_SILENCE_SOURCES; i++) {
        const struct psilence_slot *sl = &s->slots[i];
        struct pipeline_source *p = &s->pub[n];
        int learned;

        if (!sl->used || !watch_of(s, sl->input))
            continue;
        p->family = sl->family;
        memcpy(p->addr, sl->addr, 16);
        p->last_us = sl->last_us;
        p->every_us = slot_every(s, sl, &learned);
        p->learned = (uint8_t)learned;
        p->silent = sl->reported;
        s->pub_input[n++] = sl->input;
    }
    s->npub = n;
    pthread_mutex_unlock(&s->pub_lock);
}

/* Silent first, then the most recently heard. */
static int source_before(const struct pipeline_source *a, const struct pipeline_source *b)
{
    if (a->silent != b->silent)
        return a->silent > b->silent;
    return a->last_us > b->last_us;
}

size_t psilence_sources(struct psilence *s, uint32_t input, struct pipeline_source *ret, size_t max)
{
    size_t total = 0, n = 0;

    pthread_mutex_lock(&s->pub_lock);
    for (size_t i = 0; i < s->npub; i++) {
        const struct pipeline_source *p = &s->pub[i];
        size_t at;

        if (s->pub_input[i] != input)
            continue;
        total++;
        /* Insertion into the kept (sorted) few; the last one falls off. */
        if (n < max)
            at = n++;
        else if (max && source_before(p, &ret[max - 1]))
            at = max - 1;
        else
            continue;
        while (at > 0 && source_before(p, &ret[at - 1])) {
            ret[at] = ret[at - 1];
            at--;
        }
        ret[at] = *p;
    }
    pthread_mutex_unlock(&s->pub_lock);
    return total;
}
