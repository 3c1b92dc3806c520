/*
 * sigma_testlib.h - what the Sigma tests and bench_sigma share: where the
 * sample data is, finding and reading sample files, and reading the
 * SigmaHQ regression data (EVTX records and pretty-printed JSON exports)
 * as decoded events.
 *
 * Not cmocka-based (bench_sigma links it too): functions return 0 or
 * -errno and the caller decides whether that fails a test.
 */
#ifndef HIKESHI_TESTS_SIGMA_TESTLIB_H
#define HIKESHI_TESTS_SIGMA_TESTLIB_H

#include <stddef.h>

#include "util/parse_err.h"

struct event;

/* $HIKESHI_SHARED, else "../shared"; $HIKESHI_SOURCE, else ".". */
const char *sigma_testlib_shared_dir(void);
const char *sigma_testlib_source_dir(void);

/* A growable list of owned path strings. */
struct sigma_testlib_paths {
    char **v; /* owned, each owned */
    size_t n, cap;
};

/*
 * Adds every regular file under `dir` (recursively, hidden entries skipped,
 * in directory order) whose name ends in `suffix`.  Returns 0, -errno when
 * `dir` itself cannot be opened (missing sample data must fail a test), or
 * -ENOMEM.
 */
int sigma_testlib_find_files(const char *dir, const char *suffix, struct sigma_testlib_paths *pv);
/* Sorts the paths by strcmp. */
void sigma_testlib_paths_sort(struct sigma_testlib_paths *pv);
/* Frees the strings and the array; the list is empty afterwards. */
void sigma_testlib_paths_free(struct sigma_testlib_paths *pv);

/* Reads a whole file into a malloc'd buffer (the caller frees) with a NUL
 * after its `*ret_len` bytes.  NULL with errno set when it cannot be read. */
char *sigma_testlib_slurp(const char *path, size_t *ret_len);

/* Length of the JSON object starting at p[0] == '{' (strings and escapes
 * respected), 0 when it does not end within `len`. */
size_t sigma_testlib_json_object_len(const char *p, size_t len);

/*
 * Called for each record read: `ev` is decoded (or not: `rc` is what
 * decode_record() returned, `perr` says where it failed) and is reset
 * after the call, so nothing of it may be kept.  `raw` of a JSON record
 * points into a buffer freed once the file is done, and that of an EVTX
 * record into libevtx's buffer, valid during the call only.
 */
typedef void (*sigma_testlib_event_fn)(void *arg, struct event *ev, int rc,
                                       const struct parse_err *perr);

/*
 * Reads up to `max` records of the EVTX file `path` ((size_t)-1: all),
 * decodes each with decoder `decoder` (NULL: auto-detection) and calls
 * fn.  With `skip_recovered`, records libevtx recovered from free space
 * are skipped and counted in *ret_recovered (may be NULL).  *ret_skipped
 * (may be NULL) gets the records libevtx could not render.  Returns 0, or
 * -errno when the file cannot be opened or read.
 */
int sigma_testlib_evtx_each(const char *path, const char *decoder, size_t max, int skip_recovered,
                            sigma_testlib_event_fn fn, void *arg, size_t *ret_recovered,
                            size_t *ret_skipped);

/*
 * Each top-level JSON object of the file `path` (pretty-printed, one or
 * several: the SigmaHQ regression exports) is one record for the json
 * decoder; calls fn for each.  Returns 0, -errno when the file cannot be
 * read, or -EBADMSG when an object is not terminated (the objects before
 * it were handed out).
 */
int sigma_testlib_json_each(const char *path, sigma_testlib_event_fn fn, void *arg);

#endif
