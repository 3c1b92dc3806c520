/*
 * archive_witness.c - seals handed to an external witness, and the archive
 * checked against what a witness holds (docs/archive.md, "Witnesses").
 *
 * A seal fixes everything before it, but a thief holding the current key
 * can still cut the archive after any seal, or rewrite from the key's
 * epoch on and seal the rewrite.  A copy of each seal kept where the
 * archive's writer cannot reach (a file on another mount, a webhook,
 * another hikeshi) closes both: the archive must still hold every
 * witnessed seal, byte for byte, at its place in the chain.
 *
 * This file follows the archive for new seals (so a sender can resume
 * after a restart from the archive itself, not from memory), formats a
 * witnessed seal as one JSON line, and checks a witness file of such
 * lines against the archive's seals, including the copies kept in
 * retention tombstones.  It does no I/O to the witness itself: the daemon
 * (pipeline_witness.c) sends, the CLI reads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "archive/archive_priv.h"
#include "archive/archive_retention.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/jp.h"

_Static_assert(ARCHIVE_WITNESS_SEAL_LEN == ARCHIVE_FRAME_HDR_LEN + ARCHIVE_SEAL_LEN,
               "a witnessed seal is its frame header and payload");
_Static_assert(ARCHIVE_ID_LEN == 16 && ARCHIVE_HASH_LEN == 32, "archive.h spells these out");
_Static_assert(ARCHIVE_TOMB_SEAL_COPY == ARCHIVE_WITNESS_SEAL_LEN,
               "a tombstone's seal copy is a witnessed seal's bytes");

/* Longest witness line read: the line written is about 700 bytes. */
#define WITNESS_LINE_MAX 4096

/* Fills `ws` from a seal's frame header bytes and payload (both checked
 * by the caller: the frame hash, the payload's form). */
static int witnessed_fill(const uint8_t *bytes, struct archive_witnessed *ws, const char **why)
{
    struct archive_frame_hdr fh;
    struct archive_seal s;

    if (archive_frame_hdr_decode(bytes, ARCHIVE_FRAME_HDR_LEN, &fh, why) < 0)
        return -EBADMSG;
    if (fh.type != ARCHIVE_FRAME_SEAL || fh.payload_len != ARCHIVE_SEAL_LEN) {
        *why = "not a seal's frame";
        return -EBADMSG;
    }
    if (!archive_frame_hash_ok(bytes, &fh, bytes + ARCHIVE_FRAME_HDR_LEN)) {
        *why = "its frame hash does not match its bytes";
        return -EBADMSG;
    }
    if (archive_seal_decode(bytes + ARCHIVE_FRAME_HDR_LEN, ARCHIVE_SEAL_LEN, &s, why) < 0)
        return -EBADMSG;
    memset(ws, 0, sizeof(*ws));
    ws->epoch = s.epoch;
    ws->frame = fh.seq;
    ws->records = fh.first_record + fh.nrecords;
    ws->t_min = fh.t_min;
    ws->t_max = fh.t_max;
    memcpy(ws->archive_id, s.archive_id, ARCHIVE_ID_LEN);
    memcpy(ws->head, fh.hash, ARCHIVE_HASH_LEN);
    memcpy(ws->bytes, bytes, ARCHIVE_WITNESS_SEAL_LEN);
    return 0;
}

/* Reads the frames of segment `seq` from f->off, calling cb for each
 * seal: 1 when the segment ended cleanly (the caller moves on), 0 when it
 * stops inside it (a frame still being written), -errno. */
static int follow_segment(int dirfd, uint64_t seq, struct archive_seal_follow *f,
                          int (*cb)(void *ctx, const struct archive_witnessed *ws), void *ctx)
{
    struct archive_scan s;
    struct archive_witnessed ws;
    const char *why = NULL;
    int r, what;

    r = archive_scan_open(dirfd, seq, 0, &s);
    if (r < 0) {
        archive_scan_done(&s);
        return r;
    }
    if (f->off > ARCHIVE_SEG_HDR_LEN && f->off <= s.size)
        s.off = s.next = f->off;
    for (;;) {
        what = archive_scan_next(&s, 0);
        if (what != ARCHIVE_SCAN_FRAME) /* an error, the end, or a fault */
            break;
        if (s.fh.type == ARCHIVE_FRAME_SEAL) {
            if (s.fh.payload_len != ARCHIVE_SEAL_LEN || archive_scan_payload(&s) < 0) {
                what = ARCHIVE_SCAN_BAD;
                break;
            }
            uint8_t bytes[ARCHIVE_WITNESS_SEAL_LEN];

            memcpy(bytes, s.hdr, ARCHIVE_FRAME_HDR_LEN);
            memcpy(bytes + ARCHIVE_FRAME_HDR_LEN, s.payload, ARCHIVE_SEAL_LEN);
            if (witnessed_fill(bytes, &ws, &why) < 0) {
                what = ARCHIVE_SCAN_BAD;
                break;
            }
            r = cb(ctx, &ws);
            if (r < 0) {
                archive_scan_done(&s);
                return r; /* the position stays before this seal */
            }
        }
        f->off = s.next;
    }
    archive_scan_done(&s);
    if (what < 0)
        return what;
    if (what == ARCHIVE_SCAN_BAD)
        return -EBADMSG;
    return what == ARCHIVE_SCAN_END ? 1 : 0;
}

int archive_seals_follow(const char *dir, struct archive_seal_follow *f,
                         int (*cb)(void *ctx, const struct archive_witnessed *ws), void *ctx)
{
    uint64_t *segs = NULL;
    size_t n = 0, i;
    int dirfd, r;

    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    r = archive_seg_list(dirfd, &segs, &n);
    if (r < 0)
        goto out;
    /* The segment the follower stood in may have gone (retention): go on
     * from the next one there is. */
    for (i = 0; i < n && segs[i] < f->seq; i++)
        ;
    if (i < n && segs[i] != f->seq) {
        f->seq = segs[i];
        f->off = 0;
    }
    for (; i < n; i++) {
        r = follow_segment(dirfd, segs[i], f, cb, ctx);
        if (r <= 0)
            break;
        if (i + 1 == n)
            break; /* the open segment ended cleanly: stay at its end */
        f->seq = segs[i + 1];
        f->off = 0;
    }
    if (r > 0)
        r = 0;
out:
    free(segs);
    close(dirfd);
    return r;
}

int archive_witness_line(const struct archive_witnessed *ws, char *out, size_t cap)
{
    char id[2 * ARCHIVE_ID_LEN + 1], head[2 * ARCHIVE_HASH_LEN + 1];
    char seal[2 * ARCHIVE_WITNESS_SEAL_LEN + 1];
    int n;

    hex_encode(ws->archive_id, ARCHIVE_ID_LEN, id);
    hex_encode(ws->head, ARCHIVE_HASH_LEN, head);
    hex_encode(ws->bytes, ARCHIVE_WITNESS_SEAL_LEN, seal);
    n = snprintf(out, cap,
                 "{\"kind\":\"hikeshi-archive-seal\",\"archive_id\":\"%s\",\"epoch\":%" PRIu64
                 ",\"frame\":%" PRIu64 ",\"records\":%" PRIu64 ",\"t_min\":%" PRId64
                 ",\"t_max\":%" PRId64 ",\"head\":\"%s\",\"seal\":\"%s\"}\n",
                 id, ws->epoch, ws->frame, ws->records, ws->t_min, ws->t_max, head, seal);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* ---- checking an archive against a witness file ---- */

/* The archive's seals, by frame position. */
struct seal_set {
    struct archive_witnessed *v;
    size_t n, cap;
    int from_tomb; /* set while adding a tombstone's copies */
};

static int set_add(void *ctx, const struct archive_witnessed *ws)
{
    struct seal_set *set = ctx;

    if (set->n == set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 64;
        struct archive_witnessed *nv = realloc(set->v, ncap * sizeof(*nv));

        if (!nv)
            return -ENOMEM;
        set->v = nv;
        set->cap = ncap;
    }
    set->v[set->n++] = *ws;
    return 0;
}

static int by_frame(const void *a, const void *b)
{
    const struct archive_witnessed *x = a, *y = b;

    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

/* Adds every tombstone's seal copies (the seals of removed segments). */
static int add_tombstones(const char *dir, struct seal_set *set)
{
    struct dirent *de;
    DIR *d;
    int dirfd, r = 0;

    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    d = fdopendir(dirfd);
    if (!d) {
        r = -errno;
        close(dirfd);
        return r;
    }
    while (r == 0 && (de = readdir(d)) != NULL) {
        struct archive_tomb t;
        struct archive_witnessed ws;
        uint64_t seq;
        uint8_t *buf = NULL;
        size_t len = 0;
        const char *why = NULL;
        char *end = NULL;

        if (strlen(de->d_name) != ARCHIVE_TOMB_NAME_LEN || strncmp(de->d_name, "tomb-", 5) != 0 ||
            strcmp(de->d_name + 21, ".hkt") != 0)
            continue;
        errno = 0;
        seq = strtoull(de->d_name + 5, &end, 16);
        if (errno || end != de->d_name + 21)
            continue;
        if (archive_tomb_read(dirfd, seq, &buf, &len) < 0)
            continue; /* verify reports it */
        if (archive_tomb_parse(buf, len, &t, &why) == 0)
            for (uint32_t i = 0; r == 0 && i < t.nseals; i++)
                if (witnessed_fill(t.seals + (size_t)i * ARCHIVE_TOMB_SEAL_COPY, &ws, &why) == 0)
                    r = set_add(set, &ws);
        free(buf);
    }
    closedir(d);
    return r;
}

static const struct archive_witnessed *set_find(const struct seal_set *set, uint64_t frame)
{
    struct archive_witnessed key = {.frame = frame};

    return set->n ? bsearch(&key, set->v, set->n, sizeof(*set->v), by_frame) : NULL;
}

static int wfault(struct archive_witness_result *res, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int wfault(struct archive_witness_result *res, uint64_t line, const char *fmt, ...)
{
    va_list ap;

    if (res->faults++ == 0) {
        res->line = line;
        va_start(ap, fmt);
        vsnprintf(res->why, sizeof(res->why), fmt, ap);
        va_end(ap);
    }
    return 0;
}

int archive_witness_parse(const char *p, size_t len, struct archive_witnessed *ws, const char **why)
{
    uint8_t bytes[ARCHIVE_WITNESS_SEAL_LEN];
    struct jp_span doc, v;
    struct parse_err pe = {0};

    if (jp_doc(p, len, &doc, &pe) < 0) {
        *why = pe.msg ? pe.msg : "not JSON";
        return -EBADMSG;
    }
    if (jp_lookup(doc, "seal", &v) < 0) {
        *why = "no \"seal\" member";
        return -EBADMSG;
    }
    if (v.len != 2 * ARCHIVE_WITNESS_SEAL_LEN + 2 || v.p[0] != '"' ||
        hex_decode_lower(v.p + 1, ARCHIVE_WITNESS_SEAL_LEN, bytes) < 0) {
        *why = "\"seal\" is not 560 lowercase hex digits";
        return -EBADMSG;
    }
    return witnessed_fill(bytes, ws, why);
}

/* Checks one witnessed seal against the archive's. */
static void check_one(const struct seal_set *set, const struct archive_witnessed *ws, uint64_t line,
                      struct archive_witness_result *res)
{
    const struct archive_witnessed *a;

    if (res->seals == 0 || ws->epoch > res->max_epoch)
        res->max_epoch = ws->epoch;
    res->seals++;
    if (set->n && memcmp(set->v[0].archive_id, ws->archive_id, ARCHIVE_ID_LEN) != 0) {
        wfault(res, line, "the witnessed seal (epoch %" PRIu64 ") is another archive's", ws->epoch);
        return;
    }
    a = set_find(set, ws->frame);
    if (!a && set->n && ws->frame < set->v[set->n - 1].frame) {
        wfault(res, line,
               "chain position %" PRIu64 " is not the witnessed seal of epoch %" PRIu64
               ": the archive was rewritten (it holds no seal there, and seals after it)",
               ws->frame, ws->epoch);
        res->differ++;
        return;
    }
    if (!a) {
        wfault(res, line,
               "the witnessed seal of epoch %" PRIu64 " (chain position %" PRIu64 ", %" PRIu64
               " records) is not in the archive: cut off or removed without a "
               "tombstone",
               ws->epoch, ws->frame, ws->records);
        res->missing++;
        return;
    }
    if (memcmp(a->bytes, ws->bytes, ARCHIVE_WITNESS_SEAL_LEN) != 0) {
        wfault(res, line,
               "chain position %" PRIu64 " is not the witnessed seal of epoch %" PRIu64
               ": the archive was rewritten (it holds %s)",
               ws->frame, ws->epoch,
               a->epoch == ws->epoch ? "another seal of that epoch" : "a seal of another epoch");
        res->differ++;
        return;
    }
    res->matched++;
}

int archive_witness_check(const char *dir, const char *path, struct archive_witness_result *res)
{
    struct archive_seal_follow f = {0};
    struct seal_set set = {0};
    char line[WITNESS_LINE_MAX + 2];
    uint64_t no = 0;
    FILE *fp;
    int r;

    memset(res, 0, sizeof(*res));
    r = archive_seals_follow(dir, &f, set_add, &set);
    if (r == 0)
        r = add_tombstones(dir, &set);
    if (r < 0 && r != -EBADMSG)
        goto out; /* a damaged segment: its seals before the damage still count */
    if (set.n)
        qsort(set.v, set.n, sizeof(*set.v), by_frame);
    res->archive_seals = set.n;
    fp = fopen(path, "re");
    if (!fp) {
        r = -errno;
        goto out;
    }
    r = 0;
    while (fgets(line, sizeof(line), fp)) {
        size_t len = strlen(line);
        struct archive_witnessed ws;
        const char *why = NULL;

        no++;
        if (len && line[len - 1] != '\n' && !feof(fp)) {
            int c;

            while ((c = fgetc(fp)) != EOF && c != '\n')
                ;
            wfault(res, no, "line longer than %d bytes", WITNESS_LINE_MAX);
            continue;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (archive_witness_parse(line, len, &ws, &why) < 0) {
            wfault(res, no, "not a witnessed seal: %s", why);
            res->bad_lines++;
            continue;
        }
        check_one(&set, &ws, no, res);
    }
    if (ferror(fp))
        r = -EIO;
    fclose(fp);
    res->lines = no;
out:
    free(set.v);
    return r;
}
