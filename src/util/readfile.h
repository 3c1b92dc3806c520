/*
 * readfile.h - reading a whole regular file with a size cap (configuration,
 * rules, mapping files).
 */
#ifndef HIKESHI_UTIL_READFILE_H
#define HIKESHI_UTIL_READFILE_H

#include <stddef.h>

/*
 * Reads `path` into a heap buffer (NUL-terminated; the NUL is not counted
 * in *ret_len) that the caller frees.  Returns 0, -errno from open/read,
 * -EISDIR for anything but a regular file, -EFBIG when it is larger than
 * `max` bytes, -ENOMEM.
 */
int readfile_all(const char *path, size_t max, char **ret_buf, size_t *ret_len);

#endif
