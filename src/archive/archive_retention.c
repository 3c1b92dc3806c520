/*
 * archive_retention.c - retention: whole closed segments removed by age
 * or size, each replaced by a signed tombstone so that the chain still
 * verifies from the verification key (docs/archive.md, "Retention").
 *
 * The tombstone is written and fsynced before the segment is unlinked: a
 * crash between the two leaves both, which verify accepts (the segment is
 * walked, the tombstone ignored) and the next prune finishes.  Signing
 * uses the key's current epoch without evolving it, so a prune from the
 * command line never races the daemon's writer over the key file.
 */
#include "archive/archive_retention.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* Field offsets; docs/archive.md's tombstone table must agree. */
#define T_SEQ 8
#define T_FIRST_FRAME 16
#define T_FRAMES 24
#define T_FIRST_RECORD 32
#define T_RECORDS 40
#define T_TMIN 48
#define T_TMAX 56
#define T_ID 64
#define T_CHAIN_IN 80
#define T_CHAIN_OUT 112
#define T_TAIL 144
#define T_TAIL_TMIN 152
#define T_TAIL_TMAX 160
#define T_REASON 168
#define T_NSEALS 172
#define T_REMOVED 176
#define T_SIGNED 184
#define T_EPOCH 192
#define T_SIGNER 200
#define T_SIG 232

void archive_tomb_name(uint64_t seq, char *out, size_t size)
{
    snprintf(out, size, "tomb-%016" PRIx64 ".hkt", seq);
}

/* The signed bytes: everything but the signature and the check. */
static int tomb_message(const uint8_t *buf, size_t len, uint8_t **ret, size_t *ret_len)
{
    size_t seals = len - ARCHIVE_TOMB_FIXED - ARCHIVE_TOMB_CHECK_LEN;
    uint8_t *m = malloc(T_SIG + seals);

    if (!m)
        return -ENOMEM;
    memcpy(m, buf, T_SIG);
    memcpy(m + T_SIG, buf + ARCHIVE_TOMB_FIXED, seals);
    *ret = m;
    *ret_len = T_SIG + seals;
    return 0;
}

/* Makes archive_key_sign return before it evolves the key. */
static int no_evolve(void *ctx, const struct archive_key_sig *s)
{
    (void)ctx;
    (void)s;
    return 1;
}

int archive_tomb_build(struct archive_tomb *t, struct archive_key *k, uint8_t **ret,
                       size_t *ret_len)
{
    size_t len =
        ARCHIVE_TOMB_FIXED + (size_t)t->nseals * ARCHIVE_TOMB_SEAL_COPY + ARCHIVE_TOMB_CHECK_LEN;
    uint8_t *b, *m = NULL;
    size_t mlen = 0;
    int r;

    if (t->nseals > ARCHIVE_TOMB_SEALS_MAX)
        return -E2BIG;
    if (!(b = calloc(1, len)))
        return -ENOMEM;
    memcpy(b, ARCHIVE_TOMB_MAGIC, 8);
    archive_put64(b + T_SEQ, t->seq);
    archive_put64(b + T_FIRST_FRAME, t->first_frame);
    archive_put64(b + T_FRAMES, t->frames);
    archive_put64(b + T_FIRST_RECORD, t->first_record);
    archive_put64(b + T_RECORDS, t->records);
    archive_put64(b + T_TMIN, (uint64_t)t->t_min);
    archive_put64(b + T_TMAX, (uint64_t)t->t_max);
    memcpy(b + T_ID, t->archive_id, ARCHIVE_ID_LEN);
    memcpy(b + T_CHAIN_IN, t->chain_in, ARCHIVE_HASH_LEN);
    memcpy(b + T_CHAIN_OUT, t->chain_out, ARCHIVE_HASH_LEN);
    archive_put64(b + T_TAIL, t->tail_unsealed);
    archive_put64(b + T_TAIL_TMIN, (uint64_t)t->tail_t_min);
    archive_put64(b + T_TAIL_TMAX, (uint64_t)t->tail_t_max);
    archive_put32(b + T_REASON, t->reason);
    archive_put32(b + T_NSEALS, t->nseals);
    archive_put64(b + T_REMOVED, (uint64_t)t->removed_us);
    archive_put32(b + T_SIGNED, k ? 1 : 0);
    if (t->nseals)
        memcpy(b + ARCHIVE_TOMB_FIXED, t->seals, (size_t)t->nseals * ARCHIVE_TOMB_SEAL_COPY);
    t->is_signed = k != NULL;
    if (k) {
        archive_key_sig_prepare(k, &t->sig);
        archive_put64(b + T_EPOCH, t->sig.epoch);
        memcpy(b + T_SIGNER, t->sig.signer, ARCHIVE_PUBKEY_LEN);
        if ((r = tomb_message(b, len, &m, &mlen)) < 0)
            goto fail;
        r = archive_key_sign(k, ARCHIVE_TOMB_DOMAIN, m, mlen, &t->sig, no_evolve, NULL);
        free(m);
        if (r < 0)
            goto fail;
        memcpy(b + T_SIG, t->sig.sig, ARCHIVE_SIG_LEN);
    }
    crypto_generichash(b + len - ARCHIVE_TOMB_CHECK_LEN, ARCHIVE_TOMB_CHECK_LEN, b,
                       len - ARCHIVE_TOMB_CHECK_LEN, NULL, 0);
    *ret = b;
    *ret_len = len;
    return 0;
fail:
    free(b);
    return r;
}

int archive_tomb_parse(const uint8_t *buf, size_t len, struct archive_tomb *t, const char **reterr)
{
    uint8_t check[ARCHIVE_TOMB_CHECK_LEN];

    memset(t, 0, sizeof(*t));
    if (len < ARCHIVE_TOMB_FIXED + ARCHIVE_TOMB_CHECK_LEN ||
        memcmp(buf, ARCHIVE_TOMB_MAGIC, 8) != 0) {
        *reterr = "not a tombstone (bad magic or too short)";
        return -EBADMSG;
    }
    t->nseals = archive_get32(buf + T_NSEALS);
    if (t->nseals > ARCHIVE_TOMB_SEALS_MAX ||
        len != ARCHIVE_TOMB_FIXED + (size_t)t->nseals * ARCHIVE_TOMB_SEAL_COPY +
                   ARCHIVE_TOMB_CHECK_LEN) {
        *reterr = "tombstone length does not match its seal count";
        return -EBADMSG;
    }
    crypto_generichash(check, sizeof(check), buf, len - ARCHIVE_TOMB_CHECK_LEN, NULL, 0);
    if (sodium_memcmp(check, buf + len - ARCHIVE_TOMB_CHECK_LEN, ARCHIVE_TOMB_CHECK_LEN) != 0) {
        *reterr = "tombstone check mismatch (a changed byte)";
        return -EBADMSG;
    }
    t->seq = archive_get64(buf + T_SEQ);
    t->first_frame = archive_get64(buf + T_FIRST_FRAME);
    t->frames = archive_get64(buf + T_FRAMES);
    t->first_record = archive_get64(buf + T_FIRST_RECORD);
    t->records = archive_get64(buf + T_RECORDS);
    t->t_min = (int64_t)archive_get64(buf + T_TMIN);
    t->t_max = (int64_t)archive_get64(buf + T_TMAX);
    memcpy(t->archive_id, buf + T_ID, ARCHIVE_ID_LEN);
    memcpy(t->chain_in, buf + T_CHAIN_IN, ARCHIVE_HASH_LEN);
    memcpy(t->chain_out, buf + T_CHAIN_OUT, ARCHIVE_HASH_LEN);
    t->tail_unsealed = archive_get64(buf + T_TAIL);
    t->tail_t_min = (int64_t)archive_get64(buf + T_TAIL_TMIN);
    t->tail_t_max = (int64_t)archive_get64(buf + T_TAIL_TMAX);
    t->reason = archive_get32(buf + T_REASON);
    t->removed_us = (int64_t)archive_get64(buf + T_REMOVED);
    t->is_signed = archive_get32(buf + T_SIGNED);
    t->sig.epoch = archive_get64(buf + T_EPOCH);
    memcpy(t->sig.signer, buf + T_SIGNER, ARCHIVE_PUBKEY_LEN);
    memcpy(t->sig.sig, buf + T_SIG, ARCHIVE_SIG_LEN);
    t->seals = buf + ARCHIVE_TOMB_FIXED;
    if (t->is_signed > 1 || (t->reason != ARCHIVE_TOMB_AGE && t->reason != ARCHIVE_TOMB_SIZE)) {
        *reterr = "tombstone flag or reason out of range";
        return -EBADMSG;
    }
    if (t->frames == 0 || t->frames > UINT64_MAX - t->first_frame ||
        t->records > UINT64_MAX - t->first_record || t->tail_unsealed > t->records + UINT32_MAX ||
        t->nseals > t->frames || t->t_min > t->t_max) {
        *reterr = "tombstone counts out of bounds";
        return -EBADMSG;
    }
    return 0;
}

int archive_tomb_sig_ok(const uint8_t *buf, size_t len, const struct archive_tomb *t)
{
    uint8_t *m = NULL;
    size_t mlen = 0;
    int ok;

    if (!t->is_signed || tomb_message(buf, len, &m, &mlen) < 0)
        return 0;
    ok = archive_key_sig_ok(ARCHIVE_TOMB_DOMAIN, m, mlen, &t->sig);
    free(m);
    return ok;
}

int archive_tomb_read(int dirfd, uint64_t seq, uint8_t **ret, size_t *ret_len)
{
    char name[ARCHIVE_TOMB_NAME_LEN + 8];
    size_t max = ARCHIVE_TOMB_FIXED + (size_t)ARCHIVE_TOMB_SEALS_MAX * ARCHIVE_TOMB_SEAL_COPY +
                 ARCHIVE_TOMB_CHECK_LEN;
    struct stat st;
    uint8_t *b;
    int fd, r;

    archive_tomb_name(seq, name, sizeof(name));
    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    /* A length over the cap is read as the cap, and the parser refuses it. */
    if ((uint64_t)st.st_size < max)
        max = (size_t)st.st_size;
    b = malloc(max ? max : 1);
    if (!b) {
        close(fd);
        return -ENOMEM;
    }
    r = archive_pread_full(fd, b, max, 0);
    close(fd);
    if (r < 0) {
        free(b);
        return r;
    }
    *ret = b;
    *ret_len = max;
    return 0;
}

/* ---- per input: what each segment holds of each input ---- */

/* Distinct input names one segment may hold before we stop counting (a
 * hostile archive could name a new input in every record). */
#define SEG_INPUTS_MAX 4096

struct seg_input {
    char *name;
    size_t len;
    uint64_t bytes, records; /* its records' raw bytes and count */
    int64_t newest;          /* its latest receive time */
};
struct seg_inputs {
    uint64_t seq;
    struct seg_input *v;
    size_t n;
};
struct archive_input_cache {
    struct seg_inputs *v; /* closed segments, by seq */
    size_t n, cap;
};

static void seg_inputs_done(struct seg_inputs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].name);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int seg_inputs_add(struct seg_inputs *s, const struct archive_record *rec)
{
    struct seg_input *in = NULL;

    for (size_t i = 0; i < s->n && !in; i++)
        if (s->v[i].len == rec->input_len && memcmp(s->v[i].name, rec->input, rec->input_len) == 0)
            in = &s->v[i];
    if (!in) {
        struct seg_input *nv;

        if (s->n == SEG_INPUTS_MAX)
            return -E2BIG;
        if (!(nv = realloc(s->v, (s->n + 1) * sizeof(*nv))))
            return -ENOMEM;
        s->v = nv;
        in = &s->v[s->n];
        memset(in, 0, sizeof(*in));
        if (!(in->name = strndup(rec->input, rec->input_len)))
            return -ENOMEM;
        in->len = rec->input_len;
        in->newest = rec->recv_us;
        s->n++;
    }
    in->bytes += rec->raw_len;
    in->records++;
    if (rec->recv_us > in->newest)
        in->newest = rec->recv_us;
    return 0;
}

/* Reads every record of segment `seq` (each block's hash checked):
 * 0, -EBADMSG at damage (the segment is then kept), -errno. */
static int seg_inputs_compute(int dirfd, uint64_t seq, struct seg_inputs *ret)
{
    struct archive_scan s;
    uint8_t *raw = NULL;
    size_t cap = 0;
    const char *why = NULL;
    int what, r;

    memset(ret, 0, sizeof(*ret));
    ret->seq = seq;
    if ((r = archive_scan_open(dirfd, seq, 0, &s)) < 0)
        goto out;
    while ((what = archive_scan_next(&s, 1)) == ARCHIVE_SCAN_FRAME) {
        struct archive_block_iter it;
        struct archive_record rec;

        if (s.fh.type != ARCHIVE_FRAME_BLOCK)
            continue;
        if (archive_block_inflate(&s.fh, s.payload, &raw, &cap, &why) < 0 ||
            archive_block_iter_init(&it, raw, s.fh.raw_len, s.fh.nrecords, &why) < 0) {
            r = -EBADMSG;
            goto out;
        }
        while ((r = archive_block_iter_next(&it, &rec, &why)) == 1)
            if ((r = seg_inputs_add(ret, &rec)) < 0)
                goto out;
        if (r < 0)
            goto out;
    }
    /* The open segment may end inside a frame being written. */
    r = what == ARCHIVE_SCAN_END || what == ARCHIVE_SCAN_TORN ? 0 : what < 0 ? what : -EBADMSG;
out:
    archive_scan_done(&s);
    free(raw);
    if (r < 0)
        seg_inputs_done(ret);
    return r;
}

struct archive_input_cache *archive_input_cache_new(void)
{
    return calloc(1, sizeof(struct archive_input_cache));
}

void archive_input_cache_free(struct archive_input_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        seg_inputs_done(&c->v[i]);
    free(c->v);
    free(c);
}

/* Every segment's per-input figures, in the order of `segs`: closed ones
 * from the cache (or read and kept there), the last (open) one read
 * afresh.  The cache forgets segments no longer there. */
static int inputs_of_all(int dirfd, const uint64_t *segs, size_t n, struct archive_input_cache *c,
                         struct seg_inputs *ret)
{
    size_t k = 0;
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i++) {
        const struct seg_inputs *hit = NULL;

        while (c && k < c->n && c->v[k].seq < segs[i])
            k++;
        if (c && k < c->n && c->v[k].seq == segs[i])
            hit = &c->v[k];
        if (hit && i + 1 < n) {
            ret[i] = *hit; /* borrowed from the cache */
            continue;
        }
        r = seg_inputs_compute(dirfd, segs[i], &ret[i]);
        if (r == -EBADMSG) {
            /* Damage is verify's to report: the segment counts as holding
             * nothing, and per-input rules keep it. */
            ret[i].seq = segs[i];
            r = 0;
        }
        if (r == 0 && c && i + 1 < n) {
            if (c->n == c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 64;
                struct seg_inputs *nv = realloc(c->v, ncap * sizeof(*nv));

                if (!nv) {
                    seg_inputs_done(&ret[i]);
                    return -ENOMEM;
                }
                c->v = nv;
                c->cap = ncap;
            }
            memmove(c->v + k + 1, c->v + k, (c->n - k) * sizeof(*c->v));
            c->v[k] = ret[i];
            c->n++;
        }
    }
    /* Forget what went before the first segment. */
    if (c && n) {
        size_t drop = 0;

        while (drop < c->n && c->v[drop].seq < segs[0])
            seg_inputs_done(&c->v[drop++]);
        memmove(c->v, c->v + drop, (c->n - drop) * sizeof(*c->v));
        c->n -= drop;
    }
    return r;
}

static const struct archive_retention_input *rt_input(const struct archive_retention *rt,
                                                      const struct seg_input *in)
{
    for (size_t i = 0; i < rt->ninputs; i++)
        if (strlen(rt->inputs[i].name) == in->len &&
            memcmp(rt->inputs[i].name, in->name, in->len) == 0)
            return &rt->inputs[i];
    return NULL;
}

/* Per-input retention's verdict on segment i: ARCHIVE_TOMB_AGE when every
 * input in it is past its age, ARCHIVE_TOMB_SIZE when each is past its
 * age or over its size (`left[j]`: input j's bytes from segment i on, by
 * rt->inputs' order), 0 (and *ret_keeper, the input keeping it) when one
 * input keeps it. */
static int input_verdict(const struct archive_retention *rt, const struct seg_inputs *s,
                         const uint64_t *left, int64_t now_us, const char **ret_keeper)
{
    int by_size = 0;

    if (s->n == 0)
        return 0; /* seals only: left to the archive-wide rules */
    for (size_t j = 0; j < s->n; j++) {
        const struct seg_input *in = &s->v[j];
        const struct archive_retention_input *ri = rt_input(rt, in);
        int64_t age = ri && ri->max_age_us ? ri->max_age_us : rt->max_age_us;

        if (age && in->newest < now_us - age)
            continue;
        if (ri && ri->max_bytes && left[ri - rt->inputs] > ri->max_bytes) {
            by_size = 1;
            continue;
        }
        *ret_keeper = in->name;
        return 0;
    }
    return by_size ? ARCHIVE_TOMB_SIZE : ARCHIVE_TOMB_AGE;
}

/* Adds (sign 1) or takes away (-1) segment s's bytes of each listed input
 * to left[], by rt->inputs' order. */
static void inputs_count(const struct archive_retention *rt, const struct seg_inputs *s,
                         uint64_t *left, int sign)
{
    for (size_t j = 0; j < s->n; j++) {
        const struct archive_retention_input *ri = rt_input(rt, &s->v[j]);

        if (ri && sign > 0)
            left[ri - rt->inputs] += s->v[j].bytes;
        else if (ri)
            left[ri - rt->inputs] -= s->v[j].bytes;
    }
}

/* Each segment's per-input figures (*ret_per, n of them) and each listed
 * input's bytes in the whole archive (*ret_left).  Both are freed by the
 * caller, even on failure. */
static int inputs_prepare(int dirfd, const uint64_t *segs, size_t n,
                          const struct archive_retention *rt, struct seg_inputs **ret_per,
                          uint64_t **ret_left)
{
    int r;

    *ret_per = calloc(n, sizeof(**ret_per));
    *ret_left = calloc(rt->ninputs, sizeof(**ret_left));
    if (!*ret_per || !*ret_left)
        return -ENOMEM;
    if ((r = inputs_of_all(dirfd, segs, n, rt->cache, *ret_per)) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        inputs_count(rt, &(*ret_per)[i], *ret_left, 1);
    return 0;
}

/* ---- pruning ---- */

/* What one walk of a segment found (headers, and seal payloads). */
struct seg_walk {
    struct archive_tomb t;
    uint8_t *seals; /* nseals copies (owned) */
    uint64_t bytes;
    int64_t t_min, t_max;
    int any_record;
};

static int walk_segment(int dirfd, uint64_t seq, const struct archive_tomb *carry,
                        struct seg_walk *w)
{
    struct archive_scan s;
    size_t cap = 0;
    int what, r = 0;

    memset(w, 0, sizeof(*w));
    w->t.tail_unsealed = carry->tail_unsealed;
    w->t.tail_t_min = carry->tail_t_min;
    w->t.tail_t_max = carry->tail_t_max;
    if ((r = archive_scan_open(dirfd, seq, 0, &s)) < 0)
        goto out;
    w->bytes = s.size;
    w->t.seq = seq;
    w->t.first_frame = s.seg.first_frame;
    w->t.first_record = s.seg.first_record;
    memcpy(w->t.archive_id, s.seg.archive_id, ARCHIVE_ID_LEN);
    memcpy(w->t.chain_in, s.seg.chain_in, ARCHIVE_HASH_LEN);
    memcpy(w->t.chain_out, s.seg.chain_in, ARCHIVE_HASH_LEN);
    while ((what = archive_scan_next(&s, 0)) == ARCHIVE_SCAN_FRAME) {
        w->t.frames++;
        memcpy(w->t.chain_out, s.fh.hash, ARCHIVE_HASH_LEN);
        if (s.fh.type == ARCHIVE_FRAME_SEAL) {
            if (w->t.nseals >= ARCHIVE_TOMB_SEALS_MAX) {
                r = -E2BIG;
                goto out;
            }
            if ((size_t)w->t.nseals == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                uint8_t *n = realloc(w->seals, ncap * ARCHIVE_TOMB_SEAL_COPY);

                if (!n) {
                    r = -ENOMEM;
                    goto out;
                }
                w->seals = n;
                cap = ncap;
            }
            uint8_t *c = w->seals + (size_t)w->t.nseals * ARCHIVE_TOMB_SEAL_COPY;

            memcpy(c, s.hdr, ARCHIVE_FRAME_HDR_LEN);
            if ((r = archive_pread_full(s.fd, c + ARCHIVE_FRAME_HDR_LEN, ARCHIVE_SEAL_LEN,
                                        s.off + ARCHIVE_FRAME_HDR_LEN)) < 0)
                goto out;
            w->t.nseals++;
            w->t.tail_unsealed = 0;
            continue;
        }
        if (!w->any_record || s.fh.t_min < w->t.t_min)
            w->t.t_min = s.fh.t_min;
        if (!w->any_record || s.fh.t_max > w->t.t_max)
            w->t.t_max = s.fh.t_max;
        w->any_record = 1;
        if (w->t.tail_unsealed == 0 || s.fh.t_min < w->t.tail_t_min)
            w->t.tail_t_min = s.fh.t_min;
        if (w->t.tail_unsealed == 0 || s.fh.t_max > w->t.tail_t_max)
            w->t.tail_t_max = s.fh.t_max;
        w->t.tail_unsealed += s.fh.nrecords;
        w->t.records += s.fh.nrecords;
    }
    /* Only a segment that reads cleanly to its end is removed: damage is
     * for verify to report, not for retention to bury. */
    if (what != ARCHIVE_SCAN_END)
        r = what < 0 ? what : -EBADMSG;
    else if (w->t.frames == 0)
        r = -ENODATA;
    w->t.seals = w->seals;
out:
    archive_scan_done(&s);
    return r;
}

/* 1 when a seal follows in segments segs[i..n), 0 if not, -errno. */
static int seal_follows(int dirfd, const uint64_t *segs, size_t i, size_t n)
{
    for (; i < n; i++) {
        struct archive_scan s;
        int what, found = 0;

        if ((what = archive_scan_open(dirfd, segs[i], 0, &s)) < 0) {
            archive_scan_done(&s);
            return what;
        }
        while (!found && archive_scan_next(&s, 0) == ARCHIVE_SCAN_FRAME)
            found = s.fh.type == ARCHIVE_FRAME_SEAL;
        archive_scan_done(&s);
        if (found)
            return 1;
    }
    return 0;
}

static int write_tomb(int dirfd, uint64_t seq, const uint8_t *b, size_t len)
{
    char name[ARCHIVE_TOMB_NAME_LEN + 8], tmp[ARCHIVE_TOMB_NAME_LEN + 16];
    size_t off = 0;
    int fd, r = 0;

    archive_tomb_name(seq, name, sizeof(name));
    snprintf(tmp, sizeof(tmp), "%s.new", name);
    (void)unlinkat(dirfd, tmp, 0);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    while (off < len && r == 0) {
        ssize_t n = write(fd, b + off, len - off);

        if (n < 0 && errno != EINTR)
            r = -errno;
        else if (n > 0)
            off += (size_t)n;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
        r = -errno;
    if (r == 0 && fsync(dirfd) < 0)
        r = -errno;
    if (r < 0)
        (void)unlinkat(dirfd, tmp, 0);
    return r;
}

/* The tail state carried into segment `seq` from its tombstoned
 * predecessor (zeros for segment 0).  -EBADMSG when the predecessor is
 * gone without a tombstone. */
static int carried_tail(int dirfd, uint64_t seq, struct archive_tomb *ret)
{
    uint8_t *b = NULL;
    size_t len = 0;
    const char *why;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (seq == 0)
        return 0;
    if ((r = archive_tomb_read(dirfd, seq - 1, &b, &len)) < 0)
        return r == -ENOENT ? -EBADMSG : r;
    r = archive_tomb_parse(b, len, ret, &why);
    ret->seals = NULL;
    free(b);
    return r;
}

static int prune_one(int dirfd, struct seg_walk *w, struct archive_key *k,
                     pthread_mutex_t *key_lock, int reason, int64_t now_us)
{
    char name[ARCHIVE_SEG_NAME_LEN + 1];
    uint8_t *b = NULL;
    size_t len = 0;
    int r;

    w->t.reason = (uint32_t)reason;
    w->t.removed_us = now_us;
    if (k && key_lock)
        pthread_mutex_lock(key_lock);
    r = archive_tomb_build(&w->t, k, &b, &len);
    if (k && key_lock)
        pthread_mutex_unlock(key_lock);
    if (r < 0)
        return r;
    r = write_tomb(dirfd, w->t.seq, b, len);
    free(b);
    if (r < 0)
        return r;
    archive_seg_name(w->t.seq, name, sizeof(name));
    if (unlinkat(dirfd, name, 0) < 0)
        return -errno;
    return fsync(dirfd) < 0 ? -errno : 0;
}

int archive_prune(const char *dir, const struct archive_retention *rt, struct archive_key *k,
                  uint64_t cursor, int64_t now_us, int dry_run, struct archive_prune_report *rep)
{
    struct archive_tomb carry;
    struct seg_inputs *per = NULL; /* with per-input rules: each segment's */
    uint64_t *segs = NULL, total = 0, *left = NULL;
    size_t n = 0;
    int dirfd, r, sealed = 0;

    memset(rep, 0, sizeof(*rep));
    if (sodium_init() < 0)
        return -EIO;
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    if ((r = archive_seg_list(dirfd, &segs, &n)) < 0 || n < 2)
        goto out;
    for (size_t i = 0; i < n; i++) {
        char name[ARCHIVE_SEG_NAME_LEN + 1];
        struct stat st;

        archive_seg_name(segs[i], name, sizeof(name));
        if (fstatat(dirfd, name, &st, 0) == 0)
            total += (uint64_t)st.st_size;
    }
    if ((r = carried_tail(dirfd, segs[0], &carry)) < 0)
        goto out;
    if (rt->ninputs && (r = inputs_prepare(dirfd, segs, n, rt, &per, &left)) < 0)
        goto out;
    /* Oldest first, never the last segment (the writer's open one). */
    for (size_t i = 0; i + 1 < n; i++) {
        struct seg_walk w;
        int reason = 0;

        if (i > 0 && segs[i] != segs[i - 1] + 1)
            break; /* a gap: verify's business; keep what follows it */
        if ((r = walk_segment(dirfd, segs[i], &carry, &w)) < 0) {
            free(w.seals);
            goto out;
        }
        if (rt->max_bytes && total > rt->max_bytes) {
            reason = ARCHIVE_TOMB_SIZE;
        } else if (per) {
            const char *keeper = NULL;

            reason = input_verdict(rt, &per[i], left, now_us, &keeper);
            if (!reason && keeper) {
                rep->kept_for_input++;
                snprintf(rep->kept_input, sizeof(rep->kept_input), "%s", keeper);
            }
        } else if (rt->max_age_us && w.any_record && w.t.t_max < now_us - rt->max_age_us) {
            reason = ARCHIVE_TOMB_AGE;
        }
        if (reason && w.t.first_record + w.t.records > cursor) {
            rep->kept_for_cursor++;
            reason = 0;
        }
        /* A sealed archive's tombstones must be signed: it has seals here,
         * later (sealing this segment's records), or before (a signed
         * tombstone). */
        if (reason && !k && !sealed)
            sealed = w.t.nseals || carry.is_signed || seal_follows(dirfd, segs, i + 1, n) != 0;
        if (reason && !k && sealed) {
            free(w.seals);
            r = -ENOKEY;
            goto out;
        }
        if (reason && k && w.t.tail_unsealed) {
            if ((r = seal_follows(dirfd, segs, i + 1, n)) < 0) {
                free(w.seals);
                goto out;
            }
            if (r == 0) {
                rep->kept_unsealed++;
                reason = 0;
            }
            r = 0;
        }
        if (!reason) {
            free(w.seals);
            break;
        }
        if (!dry_run && (r = prune_one(dirfd, &w, k, rt->key_lock, reason, now_us)) < 0) {
            free(w.seals);
            goto out;
        }
        if (rep->segments == 0) {
            rep->first_record = w.t.first_record;
            rep->t_min = w.t.t_min;
            archive_seg_name(w.t.seq, rep->first_removed, sizeof(rep->first_removed));
        }
        if (w.any_record && (rep->t_max == 0 || w.t.t_max > rep->t_max))
            rep->t_max = w.t.t_max;
        if (w.any_record && w.t.t_min < rep->t_min)
            rep->t_min = w.t.t_min;
        rep->segments++;
        rep->records += w.t.records;
        rep->bytes += w.bytes;
        rep->last_record = w.t.first_record + w.t.records - (w.t.records ? 1 : 0);
        total -= w.bytes;
        if (per)
            inputs_count(rt, &per[i], left, -1);
        carry = w.t;
        carry.seals = NULL;
        free(w.seals);
    }
out:
    /* The closed segments' figures belong to the cache when there is one;
     * the last segment's, and all without a cache, are ours. */
    for (size_t i = 0; per && i < n; i++)
        if (!rt->cache || i + 1 == n)
            seg_inputs_done(&per[i]);
    free(per);
    free(left);
    free(segs);
    close(dirfd);
    return r;
}
