/*
 * queue.h - the bounded queue of record batches between inputs and the
 * pipeline.
 *
 * Many producers (input threads), one consumer (the pipeline).  Bounded in
 * batches: when it is full, queue_push() blocks, which is how backpressure
 * reaches TCP senders and file readers; queue_trypush() fails instead, for
 * UDP, whose caller counts the drop.
 */
#ifndef HIKESHI_UTIL_QUEUE_H
#define HIKESHI_UTIL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct rec_batch;
struct queue;

/* NULL on allocation failure. */
struct queue *queue_new(size_t max_batches);
/* Frees the queue and any batches still in it.  NULL is a no-op. */
void queue_free(struct queue *q);

/* Takes ownership of `b`.  Blocks while the queue is full.  Returns 0, or
 * -ESHUTDOWN if the queue was closed (ownership stays with the caller). */
int queue_push(struct queue *q, struct rec_batch *b);
/* As queue_push but never blocks: -EAGAIN when full (caller keeps `b`). */
int queue_trypush(struct queue *q, struct rec_batch *b);
/*
 * Removes the oldest batch.  Waits up to `timeout_ms` (-1: forever) for one.
 * Returns the batch (caller owns it) or NULL on timeout, or when the queue
 * is closed and empty.
 */
struct rec_batch *queue_pop(struct queue *q, int timeout_ms);
/* Closes the queue: pushes fail from now on; pops drain what is left, then
 * return NULL at once.  Wakes every waiter. */
void queue_close(struct queue *q);
/* Batches queued now, and the most ever queued at once. */
size_t queue_depth(struct queue *q);
size_t queue_high_water(struct queue *q);
size_t queue_capacity(const struct queue *q);

#endif
