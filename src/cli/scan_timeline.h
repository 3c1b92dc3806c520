/*
 * scan_timeline.h - the rows of `hikeshi scan`, put in event-time order.
 *
 * Alerts arrive in the order files are read, not in the order their events
 * happened.  The timeline keeps each row (its time plus a fixed number of
 * text columns) until the scan ends and then hands the rows back sorted by
 * time; rows with the same time keep their arrival order.  Rows are kept in
 * memory up to a budget; past it, the rows held are sorted and written as a
 * run to one unlinked temporary file, and the end merges the runs (a k-way
 * merge through a heap, each run read through its own small window of the
 * one file, so the number of runs never costs file descriptors).
 */
#ifndef HIKESHI_CLI_SCAN_TIMELINE_H
#define HIKESHI_CLI_SCAN_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

struct scan_timeline;

/* One row.  The columns are views; the timeline copies them. */
struct scan_timeline_row {
    int64_t time_us;
    const char *const *col; /* ncols strings (NULL counts as "") */
    const size_t *len;      /* their lengths */
};

struct scan_timeline_stats {
    uint64_t rows;    /* rows added */
    uint64_t runs;    /* runs written to the temporary file (0: all in memory) */
    uint64_t spilled; /* bytes written to it */
};

/* Called once per row, in time order; the row's views last until it
 * returns.  A negative return stops the merge and is returned. */
typedef int (*scan_timeline_emit_fn)(void *arg, const struct scan_timeline_row *row);

/* A timeline of rows of `ncols` columns (1..SCAN_TIMELINE_MAX_COLS) held in
 * at most `mem_budget` bytes before runs go to a temporary file in `tmpdir`
 * (NULL: $TMPDIR, else /tmp).  0 and *ret (free with scan_timeline_free()),
 * -EINVAL or -ENOMEM. */
#define SCAN_TIMELINE_MAX_COLS 32
int scan_timeline_new(size_t ncols, size_t mem_budget, const char *tmpdir,
                      struct scan_timeline **ret);

/* Copies the row in.  0, -ENOMEM, -EOVERFLOW (a row over 64 MiB), or the
 * -errno of writing a run (the file cannot be created or the disk is full). */
int scan_timeline_add(struct scan_timeline *t, const struct scan_timeline_row *row);

/* Hands every row to `emit` in time order, then forgets them.  0, the
 * emitter's error, -ENOMEM, -EIO or the -errno of reading the runs. */
int scan_timeline_finish(struct scan_timeline *t, scan_timeline_emit_fn emit, void *arg);

const struct scan_timeline_stats *scan_timeline_stats(const struct scan_timeline *t);

/* Frees the rows and closes (so removes) the temporary file; NULL is a no-op. */
void scan_timeline_free(struct scan_timeline *t);

#endif
