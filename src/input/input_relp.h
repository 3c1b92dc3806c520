/*
 * input_relp.h - RELP (the Reliable Event Logging Protocol, rsyslog's
 * omrelp/imrelp) as an input, through Debian's librelp (internal to
 * src/input/; the rest of the program goes through input.h).
 *
 * RELP answers every message with "200 OK" once the receiver has it, and a
 * sender resends what was not answered when the connection breaks.  This
 * input answers a message only after its record went through the queue's
 * push, which appends it to the archive (and syncs it with archive.sync:
 * every record): see docs/archive.md, "RELP: what an ack means".
 */
#ifndef HIKESHI_INPUT_INPUT_RELP_H
#define HIKESHI_INPUT_INPUT_RELP_H

#include "input/input.h"

struct input_relp;

/* Binds c->listen (a port is required: librelp cannot say which port it
 * bound for port 0) and starts the RELP engine's thread.  0, or a
 * negative errno with a message in errbuf. */
int input_relp_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                     struct input_relp **ret, char *errbuf, size_t errlen);
/* Stops the engine after the message in progress (its record queued and
 * answered) and joins its thread.  Messages not yet answered are resent by
 * their senders after they reconnect: RELP's own guarantee. */
void input_relp_stop(struct input_relp *r);
/* Frees a stopped input.  NULL is a no-op. */
void input_relp_free(struct input_relp *r);
/* c->listen, as configured. */
const char *input_relp_bound_address(const struct input_relp *r);

#endif
