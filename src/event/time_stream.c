/*
 * time_stream.c - the bounded table of streams' last event times (see
 * time_stream.h for why it is a direct-mapped array).
 */
#include "event/time_stream.h"

#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "event/time.h"
#include "util/limits.h"

struct slot {
    uint64_t key; /* 0: empty */
    int64_t last; /* event time of the stream's last noted record */
    int64_t seen; /* reference time when it was noted */
};

struct time_streams {
    uint64_t k0, k1; /* hash key, random per table */
    struct slot slots[LIMIT_TIME_STREAMS];
};

struct time_streams *time_streams_new(void)
{
    struct time_streams *ts = calloc(1, sizeof(*ts));
    uint64_t k[2];

    if (!ts)
        return NULL;
    if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
        /* No entropy yet (early boot): a weaker key still bounds memory. */
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        k[0] = (uint64_t)t.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)ts;
        k[1] = (uint64_t)t.tv_sec * 0xc2b2ae3d27d4eb4fULL;
    }
    ts->k0 = k[0];
    ts->k1 = k[1] | 1;
    return ts;
}

void time_streams_free(struct time_streams *ts)
{
    free(ts);
}

static uint64_t mix(uint64_t h)
{
    /* The 64-bit finaliser of MurmurHash3: every input bit reaches every
     * output bit. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t time_streams_key(const struct time_streams *ts, uint32_t input_id, const void *id,
                          size_t id_len)
{
    const unsigned char *p = id;
    uint64_t h = ts->k0 ^ mix(input_id + ts->k1);

    for (size_t i = 0; i < id_len; i++)
        h = mix(h ^ (p[i] * ts->k1) ^ i);
    h = mix(h ^ id_len ^ ts->k1);
    return h ? h : 1;
}

int64_t time_streams_last(const struct time_streams *ts, uint64_t key, int64_t ref_us)
{
    const struct slot *s = &ts->slots[key % LIMIT_TIME_STREAMS];

    if (s->key != key || ref_us - s->seen > TIME_STREAM_STALE_US)
        return 0;
    return s->last;
}

void time_streams_note(struct time_streams *ts, uint64_t key, int64_t us, int64_t ref_us)
{
    struct slot *s = &ts->slots[key % LIMIT_TIME_STREAMS];

    if (us <= 0 || us > ref_us + TIME_FUTURE_SKEW_US)
        return;
    s->key = key;
    s->last = us;
    s->seen = ref_us;
}
