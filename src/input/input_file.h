/*
 * input_file.h - files followed like `tail -F`, and standard input
 * (internal to src/input/; the rest of the program goes through input.h).
 */
#ifndef HIKESHI_INPUT_INPUT_FILE_H
#define HIKESHI_INPUT_INPUT_FILE_H

#include <stddef.h>

#include "input/input.h"

struct input_file;

/*
 * Starts following c->path (INPUT_FILE) or reading fd 0 (INPUT_STDIN).
 * `start` is the saved position or NULL.  Opens the file before returning
 * when it exists; a file that does not exist yet is waited for.  Returns 0,
 * or a negative errno with a message in errbuf.
 */
int input_file_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                     const struct file_pos *start, struct input_file **ret, char *errbuf,
                     size_t errlen);
/* Pushes the complete lines already written, then joins the thread. */
void input_file_stop(struct input_file *f);
/* Frees a stopped input.  NULL is a no-op. */
void input_file_free(struct input_file *f);

#endif
