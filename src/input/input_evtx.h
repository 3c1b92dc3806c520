/*
 * input_evtx.h - reading Windows event log files (EVTX): `hikeshi scan`, and
 * the daemon's file input when the file it follows is an EVTX file.
 *
 * libevtx does the binary XML; this module hands out each record's event
 * XML as UTF-8, which decode_winxml() then parses like a forwarded event.
 * The records of the file come first, then the ones libevtx recovered from
 * free space (deleted or overwritten events, of value to an investigator).
 * A record that libevtx cannot render is counted and skipped: one bad chunk
 * never ends the file.
 */
#ifndef HIKESHI_INPUT_INPUT_EVTX_H
#define HIKESHI_INPUT_INPUT_EVTX_H

#include <stddef.h>
#include <stdint.h>

struct input_evtx;

/* What a reader has seen so far. */
struct input_evtx_stats {
    uint64_t records;   /* records handed out, recovered ones included */
    uint64_t recovered; /* of which recovered from free space */
    uint64_t skipped;   /* records of the file libevtx could not render, or
                           too large: corrupt records */
    uint64_t recovered_skipped; /* recovery candidates that did not render
                                   (free space mostly holds fragments) */
};

/*
 * 1 if `path` starts with the EVTX file signature "ElfFile\0", 0 if not or
 * if it cannot be read (the line reader then reports the error).
 */
int input_evtx_is_evtx(const char *path);

/*
 * Opens the EVTX file `path`.  Returns 0 with a reader in *ret (owned by the
 * caller: input_evtx_free), -EINVAL when it is not an EVTX file or its
 * header is unusable, -ENOMEM, or the errno of open(2) (-ENOENT, -EACCES).
 */
int input_evtx_open(const char *path, struct input_evtx **ret);

/*
 * The next record's event XML, UTF-8, not NUL-terminated in *ret_len bytes
 * (a NUL follows it, but callers must not rely on it).  Valid until the
 * next call or input_evtx_free.  Returns 1 with a record, 0 when the file
 * is exhausted, or -ENOMEM.  Unreadable records are skipped and counted.
 */
int input_evtx_next(struct input_evtx *r, const char **ret_xml, size_t *ret_len);

/* Leaves out the records recovered from free space: a followed log hands
 * out only its live records, once each.  Call before the first next. */
void input_evtx_skip_recovered(struct input_evtx *r);

/* The record number (from the record header; usually the EventRecordID
 * the XML shows, but not in every file) of the record the last
 * input_evtx_next handed out, 0 if libevtx gave none.  The daemon's file
 * input saves it as its position in a followed EVTX file. */
uint64_t input_evtx_last_id(const struct input_evtx *r);

/* The counters of `r`. */
const struct input_evtx_stats *input_evtx_stats(const struct input_evtx *r);

/* Closes and frees.  NULL is a no-op. */
void input_evtx_free(struct input_evtx *r);

#endif
