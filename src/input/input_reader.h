/*
 * input_reader.h - reading whole files for `hikeshi scan`: plain or gzip
 * (detected by the magic bytes, not the name), or stdin ("-"), line by
 * line; and walking directories recursively.
 */
#ifndef HIKESHI_INPUT_INPUT_READER_H
#define HIKESHI_INPUT_INPUT_READER_H

#include <stddef.h>
#include <stdint.h>

struct line_reader;

/*
 * Opens `path` ("-" for standard input).  Lines longer than max_line are
 * truncated (the rest skipped, the line flagged RECORD_TRUNCATED).  Returns
 * 0, or a negative errno (-ENOENT, -EACCES, -EISDIR, ...).
 */
int line_reader_open(const char *path, size_t max_line, struct line_reader **ret);
/*
 * Next line, without its "\n" (and without a "\r" before it).  The line is
 * valid until the next call.  Returns 1 with a line, 0 at end of input, or a
 * negative errno (-EIO, -EBADMSG for a corrupt gzip stream: the lines read
 * before it stay valid).  A last line without a newline is returned too.
 */
int line_reader_next(struct line_reader *r, const char **ret_line, size_t *ret_len,
                     unsigned *ret_flags);
/* Bytes of the underlying file consumed so far (compressed bytes for gzip),
 * and its size (0 if unknown, e.g. stdin): for progress bars. */
uint64_t line_reader_consumed(const struct line_reader *r);
uint64_t line_reader_size(const struct line_reader *r);
/* 1 if the file is gzip-compressed. */
int line_reader_is_gzip(const struct line_reader *r);
/* Closes.  NULL is a no-op. */
void line_reader_free(struct line_reader *r);

/*
 * Calls cb(arg, file) for `path` if it is a file (or "-"), or for every
 * regular file under it, recursively, in name order, not following symbolic
 * links to directories.  Unreadable entries are reported to errcb(arg, path,
 * -errno) and skipped.  Stops and returns cb's value if it is non-zero.
 */
int input_walk(const char *path, int (*cb)(void *arg, const char *file),
               void (*errcb)(void *arg, const char *path, int err), void *arg);

#endif
