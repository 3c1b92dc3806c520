/*
 * input_syslog.h - syslog over UDP and TCP (internal to src/input/; the
 * rest of the program goes through input.h).
 */
#ifndef HIKESHI_INPUT_INPUT_SYSLOG_H
#define HIKESHI_INPUT_INPUT_SYSLOG_H

#include <stddef.h>

#include "input/input.h"

struct input_syslog;

/*
 * Binds c->listen (UDP or TCP after c->type) and starts the thread.
 * Returns 0, or a negative errno with a message in errbuf.
 */
int input_syslog_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                       struct input_syslog **ret, char *errbuf, size_t errlen);
/* Drains what the kernel holds into the queue, then joins the thread. */
void input_syslog_stop(struct input_syslog *s);
/* Frees a stopped input.  NULL is a no-op. */
void input_syslog_free(struct input_syslog *s);
/* "127.0.0.1:5514" or "[::1]:5514": the address actually bound. */
const char *input_syslog_bound_address(const struct input_syslog *s);

#endif
