/*
 * input_gelf.c - GELF 1.1 datagrams to messages: chunk reassembly and
 * decompression (see input_gelf.h for the contract).
 *
 * The table is a small array scanned linearly: at most LIMIT_GELF_PENDING
 * messages, and a datagram costs one pass.  A hash would only pay off with
 * a larger table, which the byte cap forbids anyway.  Each chunk is copied
 * into its own allocation when it arrives (the datagram buffer is reused),
 * and the pieces are joined into one buffer when the last one comes.
 */
#include "input/input_gelf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
/* next_in as const: the datagram is not ours to write. */
#define ZLIB_CONST
#include <zlib.h>

#include "util/limits.h"

#define GELF_CHUNK_HDR 12 /* magic 2, id 8, sequence 1, count 1 */
#define GELF_PEER_MAX 18

struct gelf_pend {
    int used;
    uint8_t id[8];
    uint8_t peer[GELF_PEER_MAX];
    uint8_t peer_len;
    uint8_t count;                     /* chunks the sender announced, 1..LIMIT_GELF_CHUNKS */
    uint8_t nrecv;                     /* distinct chunks held */
    int64_t first_us;                  /* monotonic time of the first chunk: the deadline's base */
    size_t bytes;                      /* sum of clen[] */
    uint8_t *chunk[LIMIT_GELF_CHUNKS]; /* heap copies, NULL until received */
    size_t clen[LIMIT_GELF_CHUNKS];
};

struct gelf_reasm {
    size_t max_msg;
    struct gelf_pend *pend; /* LIMIT_GELF_PENDING slots */
    size_t npend;
    size_t total_bytes; /* held by every pending message; <= LIMIT_GELF_PENDING_BYTES */
    uint8_t *cat;       /* the joined chunks, max_msg bytes */
    char *out;          /* the inflated message, max_msg bytes */
    struct gelf_stats st;
};

struct gelf_reasm *gelf_reasm_new(size_t max_msg)
{
    struct gelf_reasm *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->max_msg = max_msg;
    g->pend = calloc(LIMIT_GELF_PENDING, sizeof(*g->pend));
    g->cat = malloc(max_msg ? max_msg : 1);
    g->out = malloc(max_msg ? max_msg : 1);
    if (!g->pend || !g->cat || !g->out) {
        gelf_reasm_free(g);
        return NULL;
    }
    return g;
}

static void pend_clear(struct gelf_reasm *g, struct gelf_pend *p)
{
    if (!p->used)
        return;
    for (size_t i = 0; i < LIMIT_GELF_CHUNKS; i++) {
        free(p->chunk[i]);
        p->chunk[i] = NULL;
        p->clen[i] = 0;
    }
    g->total_bytes -= p->bytes;
    p->bytes = 0;
    p->nrecv = 0;
    p->used = 0;
    g->npend--;
}

void gelf_reasm_free(struct gelf_reasm *g)
{
    if (!g)
        return;
    for (size_t i = 0; g->pend && i < LIMIT_GELF_PENDING; i++)
        pend_clear(g, &g->pend[i]);
    free(g->pend);
    free(g->cat);
    free(g->out);
    free(g);
}

const struct gelf_stats *gelf_reasm_stats(const struct gelf_reasm *g)
{
    return &g->st;
}

size_t gelf_reasm_pending(const struct gelf_reasm *g)
{
    return g->npend;
}

size_t gelf_reasm_expire(struct gelf_reasm *g, int64_t now_us)
{
    size_t n = 0;

    for (size_t i = 0; g->npend && i < LIMIT_GELF_PENDING; i++) {
        struct gelf_pend *p = &g->pend[i];

        if (p->used && now_us - p->first_us >= (int64_t)LIMIT_GELF_REASM_S * 1000000) {
            pend_clear(g, p);
            g->st.expired++;
            n++;
        }
    }
    return n;
}

/* The oldest pending message (to evict), or NULL when none. */
static struct gelf_pend *pend_oldest(struct gelf_reasm *g)
{
    struct gelf_pend *old = NULL;

    for (size_t i = 0; i < LIMIT_GELF_PENDING; i++)
        if (g->pend[i].used && (!old || g->pend[i].first_us < old->first_us))
            old = &g->pend[i];
    return old;
}

/* The message (id, peer), or a fresh slot for it (evicting the oldest when
 * the table is full); NULL only if nothing can be had. */
static struct gelf_pend *pend_get(struct gelf_reasm *g, const uint8_t *id, const uint8_t *peer,
                                  size_t peer_len, int64_t now_us, int *ret_new)
{
    struct gelf_pend *free_slot = NULL;

    *ret_new = 0;
    for (size_t i = 0; i < LIMIT_GELF_PENDING; i++) {
        struct gelf_pend *p = &g->pend[i];

        if (!p->used) {
            if (!free_slot)
                free_slot = p;
            continue;
        }
        if (memcmp(p->id, id, 8) == 0 && p->peer_len == peer_len &&
            memcmp(p->peer, peer, peer_len) == 0)
            return p;
    }
    if (!free_slot) {
        free_slot = pend_oldest(g);
        if (!free_slot)
            return NULL;
        pend_clear(g, free_slot);
        g->st.evicted++;
    }
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = 1;
    memcpy(free_slot->id, id, 8);
    memcpy(free_slot->peer, peer, peer_len);
    free_slot->peer_len = (uint8_t)peer_len;
    free_slot->first_us = now_us;
    g->npend++;
    *ret_new = 1;
    return free_slot;
}

/*
 * Inflates (zlib or gzip, told apart by zlib itself) into g->out.  Returns
 * the message length, -EMSGSIZE past max_msg, -EINVAL when the stream is
 * broken or does not end, -ENOMEM.
 */
static long inflate_msg(struct gelf_reasm *g, const uint8_t *d, size_t len)
{
    z_stream z;
    int r;
    long ret;

    memset(&z, 0, sizeof(z));
    if (len > UINT32_MAX || g->max_msg > UINT32_MAX)
        return -EMSGSIZE;
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return -ENOMEM;
    z.next_in = d;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)g->out;
    z.avail_out = (uInt)g->max_msg;
    r = inflate(&z, Z_FINISH);
    if (r == Z_STREAM_END)
        ret = (long)z.total_out;
    else if (r == Z_MEM_ERROR)
        ret = -ENOMEM;
    else if (z.avail_out == 0)
        ret = -EMSGSIZE;
    else
        ret = -EINVAL;
    inflateEnd(&z);
    return ret;
}

/* A whole message (d, len), compressed or not, to *ret_msg. */
static int finish_msg(struct gelf_reasm *g, const uint8_t *d, size_t len, const char **ret_msg,
                      size_t *ret_len)
{
    const char *m = (const char *)d;
    size_t n = len;

    if (len >= 2 && ((d[0] == 0x1f && d[1] == 0x8b) ||
                     ((d[0] & 0x0f) == 8 && ((unsigned)d[0] << 8 | d[1]) % 31 == 0))) {
        long k = inflate_msg(g, d, len);

        if (k < 0) {
            if (k == -EMSGSIZE)
                g->st.oversized++;
            else if (k == -EINVAL)
                g->st.malformed++;
            return (int)k;
        }
        m = g->out;
        n = (size_t)k;
    } else if (len > g->max_msg) {
        g->st.oversized++;
        return -EMSGSIZE;
    }
    while (n > 0 && (m[n - 1] == '\0' || m[n - 1] == '\n' || m[n - 1] == '\r'))
        n--;
    *ret_msg = m;
    *ret_len = n;
    return 1;
}

/* One chunk datagram (its header checked for length by the caller). */
static int take_chunk(struct gelf_reasm *g, const uint8_t *d, size_t len, const uint8_t *peer,
                      size_t peer_len, int64_t now_us, const char **ret_msg, size_t *ret_len)
{
    const uint8_t *id = d + 2;
    unsigned seq = d[10], count = d[11];
    size_t plen = len - GELF_CHUNK_HDR, o = 0;
    struct gelf_pend *p;
    int fresh, r;

    if (count == 0 || count > LIMIT_GELF_CHUNKS || seq >= count) {
        g->st.malformed++;
        return -EINVAL;
    }
    g->st.chunks++;
    p = pend_get(g, id, peer, peer_len, now_us, &fresh);
    if (!p)
        return -ENOMEM;
    if (!fresh && p->count != count) {
        /* The same id announcing another count: not one message. */
        pend_clear(g, p);
        g->st.malformed++;
        return -EINVAL;
    }
    p->count = (uint8_t)count;
    if (p->chunk[seq]) {
        g->st.duplicates++;
        return 0;
    }
    if (p->bytes + plen > g->max_msg) {
        pend_clear(g, p);
        g->st.oversized++;
        return -EMSGSIZE;
    }
    /* Room in the byte budget: the oldest other messages make it. */
    while (g->total_bytes + plen > LIMIT_GELF_PENDING_BYTES) {
        struct gelf_pend *old = NULL;

        for (size_t i = 0; i < LIMIT_GELF_PENDING; i++)
            if (g->pend[i].used && &g->pend[i] != p &&
                (!old || g->pend[i].first_us < old->first_us))
                old = &g->pend[i];
        if (!old)
            break; /* p alone: max_msg < the budget keeps it under */
        pend_clear(g, old);
        g->st.evicted++;
    }
    p->chunk[seq] = malloc(plen ? plen : 1);
    if (!p->chunk[seq]) {
        pend_clear(g, p);
        return -ENOMEM;
    }
    memcpy(p->chunk[seq], d + GELF_CHUNK_HDR, plen);
    p->clen[seq] = plen;
    p->bytes += plen;
    g->total_bytes += plen;
    p->nrecv++;
    if (p->nrecv < p->count)
        return 0;
    for (unsigned i = 0; i < p->count; i++) {
        memcpy(g->cat + o, p->chunk[i], p->clen[i]);
        o += p->clen[i];
    }
    pend_clear(g, p);
    r = finish_msg(g, g->cat, o, ret_msg, ret_len);
    return r;
}

int gelf_reasm_datagram(struct gelf_reasm *g, const uint8_t *d, size_t len, const uint8_t *peer,
                        size_t peer_len, int64_t now_us, const char **ret_msg, size_t *ret_len)
{
    if (peer_len > GELF_PEER_MAX)
        peer_len = GELF_PEER_MAX;
    if (g->npend)
        (void)gelf_reasm_expire(g, now_us);
    if (len >= 2 && d[0] == 0x1e && d[1] == 0x0f) {
        if (len < GELF_CHUNK_HDR) {
            g->st.malformed++;
            return -EINVAL;
        }
        return take_chunk(g, d, len, peer, peer_len, now_us, ret_msg, ret_len);
    }
    return finish_msg(g, d, len, ret_msg, ret_len);
}
