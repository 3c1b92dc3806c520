/*
 * scan_timeline.c - the rows of `hikeshi scan` in event-time order, through
 * a temporary file when they do not fit in memory (scan_timeline.h).
 *
 * A row is kept encoded, the same bytes in memory and in a run:
 *   i64 time_us, u64 seq, then per column u32 len, the bytes and a NUL
 * (the NUL lets an emitter treat a column as a C string; len is what
 * counts).  seq is the arrival number, the tie-break that keeps the sort
 * stable.  In a run each row is preceded by its u32 size.
 */
#include "cli/scan_timeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TL_HEAD 16u                    /* time and seq */
#define TL_ROW_MAX (64u * 1024 * 1024) /* refuse a row over this */
#define TL_WINDOW_MIN (16u * 1024)     /* smallest read window per run */

struct tl_rec {
    size_t len;
    unsigned char d[]; /* the encoded row */
};

struct tl_run {
    off_t start, end; /* [start, end) of the temporary file */
};

struct scan_timeline {
    size_t ncols, budget, used;
    char *tmpdir;
    struct tl_rec **recs; /* rows held in memory */
    size_t nrecs, cap;
    uint64_t seq;
    FILE *tmp; /* the runs, one after another; unlinked at creation */
    off_t tmp_end;
    struct tl_run *runs;
    size_t nruns, runs_cap;
    struct scan_timeline_stats st;
};

int scan_timeline_new(size_t ncols, size_t mem_budget, const char *tmpdir,
                      struct scan_timeline **ret)
{
    struct scan_timeline *t;

    *ret = NULL;
    if (ncols == 0 || ncols > SCAN_TIMELINE_MAX_COLS)
        return -EINVAL;
    if (!(t = calloc(1, sizeof(*t))))
        return -ENOMEM;
    t->ncols = ncols;
    t->budget = mem_budget;
    if (!tmpdir)
        tmpdir = getenv("TMPDIR");
    if (!(t->tmpdir = strdup(tmpdir && *tmpdir ? tmpdir : "/tmp"))) {
        free(t);
        return -ENOMEM;
    }
    *ret = t;
    return 0;
}

static int64_t rec_time(const unsigned char *d)
{
    int64_t v;

    memcpy(&v, d, sizeof(v));
    return v;
}

static uint64_t rec_seq(const unsigned char *d)
{
    uint64_t v;

    memcpy(&v, d + 8, sizeof(v));
    return v;
}

static int rec_cmp(const unsigned char *a, const unsigned char *b)
{
    int64_t ta = rec_time(a), tb = rec_time(b);
    uint64_t sa, sb;

    if (ta != tb)
        return ta < tb ? -1 : 1;
    sa = rec_seq(a);
    sb = rec_seq(b);
    return sa < sb ? -1 : sa > sb;
}

static int cmp_recp(const void *a, const void *b)
{
    const struct tl_rec *x = *(const struct tl_rec *const *)a;
    const struct tl_rec *y = *(const struct tl_rec *const *)b;

    return rec_cmp(x->d, y->d);
}

/* Reads an encoded row of len bytes back into columns (views into d).
 * -EIO when the encoding does not add up (a damaged temporary file). */
static int rec_decode(const struct scan_timeline *t, const unsigned char *d, size_t len,
                      const char **col, size_t *clen, struct scan_timeline_row *row)
{
    size_t o = TL_HEAD;

    if (len < TL_HEAD)
        return -EIO;
    for (size_t i = 0; i < t->ncols; i++) {
        uint32_t n;

        if (len - o < 4)
            return -EIO;
        memcpy(&n, d + o, 4);
        o += 4;
        if (len - o < (size_t)n + 1)
            return -EIO;
        col[i] = (const char *)d + o;
        clen[i] = n;
        o += (size_t)n + 1;
    }
    row->time_us = rec_time(d);
    row->col = col;
    row->len = clen;
    return 0;
}

static int tmp_open(struct scan_timeline *t)
{
    char path[4096];
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/hikeshi-scan-XXXXXX", t->tmpdir) >= sizeof(path))
        return -ENAMETOOLONG;
    if ((fd = mkstemp(path)) < 0)
        return -errno;
    unlink(path);
    if (!(t->tmp = fdopen(fd, "w+"))) {
        int e = errno;
        close(fd);
        return -e;
    }
    return 0;
}

/* Sorts the rows held and writes them as one run, freeing them. */
static int spill(struct scan_timeline *t)
{
    int r;

    if (t->nrecs == 0)
        return 0;
    if (!t->tmp && (r = tmp_open(t)) < 0)
        return r;
    if (t->nruns == t->runs_cap) {
        size_t ncap = t->runs_cap ? t->runs_cap * 2 : 16;
        struct tl_run *nr = realloc(t->runs, ncap * sizeof(*nr));
        if (!nr)
            return -ENOMEM;
        t->runs = nr;
        t->runs_cap = ncap;
    }
    qsort(t->recs, t->nrecs, sizeof(struct tl_rec *), cmp_recp);
    t->runs[t->nruns].start = t->tmp_end;
    errno = 0;
    for (size_t i = 0; i < t->nrecs; i++) {
        uint32_t n = (uint32_t)t->recs[i]->len;

        /* On failure the rows stay held (and freed with the timeline). */
        if (fwrite(&n, 4, 1, t->tmp) != 1 || fwrite(t->recs[i]->d, 1, n, t->tmp) != n)
            return errno ? -errno : -EIO;
        t->tmp_end += 4 + (off_t)n;
        t->st.spilled += 4 + (uint64_t)n;
    }
    for (size_t i = 0; i < t->nrecs; i++)
        free(t->recs[i]);
    t->runs[t->nruns++].end = t->tmp_end;
    t->st.runs++;
    t->nrecs = 0;
    t->used = 0;
    return 0;
}

int scan_timeline_add(struct scan_timeline *t, const struct scan_timeline_row *row)
{
    size_t len = TL_HEAD, o = TL_HEAD;
    struct tl_rec *rec;
    uint64_t seq = t->seq;
    int r;

    for (size_t i = 0; i < t->ncols; i++) {
        if (row->len[i] > TL_ROW_MAX)
            return -EOVERFLOW;
        len += 4 + row->len[i] + 1;
    }
    if (len > TL_ROW_MAX)
        return -EOVERFLOW;
    if (t->nrecs == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        struct tl_rec **nr = realloc(t->recs, ncap * sizeof(struct tl_rec *));
        if (!nr)
            return -ENOMEM;
        t->recs = nr;
        t->cap = ncap;
    }
    if (!(rec = malloc(sizeof(*rec) + len)))
        return -ENOMEM;
    rec->len = len;
    memcpy(rec->d, &row->time_us, 8);
    memcpy(rec->d + 8, &seq, 8);
    for (size_t i = 0; i < t->ncols; i++) {
        uint32_t n = (uint32_t)row->len[i];

        memcpy(rec->d + o, &n, 4);
        o += 4;
        if (n)
            memcpy(rec->d + o, row->col[i], n);
        o += n;
        rec->d[o++] = '\0';
    }
    t->recs[t->nrecs++] = rec;
    t->seq++;
    t->st.rows++;
    t->used += sizeof(struct tl_rec) + len + sizeof(struct tl_rec *);
    if (t->used > t->budget && (r = spill(t)) < 0)
        return r;
    return 0;
}

/* A run being merged: a window of the temporary file and the row at its
 * head (cur, of cur_len bytes, inside the window). */
struct tl_reader {
    off_t pos, end; /* next byte of the file to read, end of the run */
    unsigned char *win;
    size_t win_cap, lo, hi; /* window bytes [lo, hi) not yet consumed */
    const unsigned char *cur;
    size_t cur_len;
};

/* Makes at least `need` bytes available in the window.  1 when they are,
 * 0 at the end of the run, or -errno. */
static int reader_fill(int fd, struct tl_reader *rd, size_t need)
{
    if (rd->hi - rd->lo >= need)
        return 1;
    if (rd->lo) {
        memmove(rd->win, rd->win + rd->lo, rd->hi - rd->lo);
        rd->hi -= rd->lo;
        rd->lo = 0;
    }
    if (need > rd->win_cap) {
        unsigned char *nw = realloc(rd->win, need);
        if (!nw)
            return -ENOMEM;
        rd->win = nw;
        rd->win_cap = need;
    }
    while (rd->hi < need) {
        size_t want = rd->win_cap - rd->hi;
        ssize_t n;

        if ((off_t)want > rd->end - rd->pos)
            want = (size_t)(rd->end - rd->pos);
        if (want == 0)
            return rd->hi == 0 ? 0 : -EIO; /* a row cut short */
        n = pread(fd, rd->win + rd->hi, want, rd->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        rd->hi += (size_t)n;
        rd->pos += n;
    }
    return 1;
}

/* Advances to the run's next row.  1, 0 at its end, or -errno. */
static int reader_next(int fd, struct tl_reader *rd)
{
    uint32_t n;
    int r;

    rd->lo += rd->cur_len;
    rd->cur = NULL;
    rd->cur_len = 0;
    if ((r = reader_fill(fd, rd, 4)) <= 0)
        return r;
    memcpy(&n, rd->win + rd->lo, 4);
    if (n < TL_HEAD || n > TL_ROW_MAX)
        return -EIO;
    rd->lo += 4;
    if ((r = reader_fill(fd, rd, n)) <= 0)
        return r < 0 ? r : -EIO;
    rd->cur = rd->win + rd->lo;
    rd->cur_len = n;
    return 1;
}

static int heap_less(const struct tl_reader *rd, size_t a, size_t b)
{
    return rec_cmp(rd[a].cur, rd[b].cur) < 0;
}

/* Restores the heap (of reader indices, smallest row on top) below i. */
static void heap_down(const struct tl_reader *rd, size_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i, tmp;

        if (l < n && heap_less(rd, h[l], h[m]))
            m = l;
        if (l + 1 < n && heap_less(rd, h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

/* Emits one encoded row. */
static int emit_rec(const struct scan_timeline *t, const unsigned char *d, size_t len,
                    scan_timeline_emit_fn emit, void *arg)
{
    const char *col[SCAN_TIMELINE_MAX_COLS];
    size_t clen[SCAN_TIMELINE_MAX_COLS];
    struct scan_timeline_row row;
    int r;

    if ((r = rec_decode(t, d, len, col, clen, &row)) < 0)
        return r;
    return emit(arg, &row);
}

/* The k-way merge of the runs. */
static int merge_runs(struct scan_timeline *t, scan_timeline_emit_fn emit, void *arg)
{
    size_t k = t->nruns, n = 0, win = t->budget / (k ? k : 1);
    struct tl_reader *rd;
    size_t *h;
    int fd, r = 0;

    if (k == 0)
        return 0;
    rd = calloc(k, sizeof(*rd));
    h = calloc(k, sizeof(*h));
    if (!rd || !h) {
        r = -ENOMEM;
        goto out;
    }
    if (fflush(t->tmp) != 0) {
        r = -errno;
        goto out;
    }
    fd = fileno(t->tmp);
    if (win < TL_WINDOW_MIN)
        win = TL_WINDOW_MIN;
    for (size_t i = 0; i < k; i++) {
        rd[i].pos = t->runs[i].start;
        rd[i].end = t->runs[i].end;
        rd[i].win_cap = win;
        if (!(rd[i].win = malloc(win))) {
            r = -ENOMEM;
            goto out;
        }
        if ((r = reader_next(fd, &rd[i])) < 0)
            goto out;
        if (r == 1)
            h[n++] = i;
    }
    for (size_t i = n / 2; i-- > 0;)
        heap_down(rd, h, n, i);
    r = 0;
    while (n > 0) {
        struct tl_reader *top = &rd[h[0]];

        if ((r = emit_rec(t, top->cur, top->cur_len, emit, arg)) < 0)
            goto out;
        if ((r = reader_next(fd, top)) < 0)
            goto out;
        if (r == 0)
            h[0] = h[--n];
        heap_down(rd, h, n, 0);
        r = 0;
    }
out:
    if (rd)
        for (size_t i = 0; i < k; i++)
            free(rd[i].win);
    free(rd);
    free(h);
    return r;
}

int scan_timeline_finish(struct scan_timeline *t, scan_timeline_emit_fn emit, void *arg)
{
    int r = 0;

    if (t->nruns == 0) {
        if (t->nrecs) /* recs is NULL when no alert was kept */
            qsort(t->recs, t->nrecs, sizeof(struct tl_rec *), cmp_recp);
        for (size_t i = 0; i < t->nrecs && r >= 0; i++)
            r = emit_rec(t, t->recs[i]->d, t->recs[i]->len, emit, arg);
    } else if ((r = spill(t)) == 0) {
        r = merge_runs(t, emit, arg);
    }
    for (size_t i = 0; i < t->nrecs; i++)
        free(t->recs[i]);
    t->nrecs = 0;
    t->used = 0;
    return r < 0 ? r : 0;
}

const struct scan_timeline_stats *scan_timeline_stats(const struct scan_timeline *t)
{
    return &t->st;
}

void scan_timeline_free(struct scan_timeline *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrecs; i++)
        free(t->recs[i]);
    free(t->recs);
    free(t->runs);
    if (t->tmp)
        fclose(t->tmp);
    free(t->tmpdir);
    free(t);
}
