/*
 * queue.h - the bounded queue between inputs and the pipeline.
 *
 * Many producers (input threads), one consumer (the pipeline).  Bounded in
 * items: when it is full, queue_push() blocks, which is how backpressure
 * reaches TCP senders and file readers; queue_trypush() fails instead, for
 * UDP, whose caller counts the drop.
 *
 * The queue knows nothing of what it carries (util/ includes nothing above
 * it): each item embeds a struct queue_link, whose offset in the item and
 * a function that frees an item are given at creation.  The input layer's
 * record batches are the items in the daemon (rec_batch_queue_new() in
 * input/record.h).  Linking through the item means a push never allocates.
 */
#ifndef HIKESHI_UTIL_QUEUE_H
#define HIKESHI_UTIL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* Embedded in every item; owned by the queue while the item is queued. */
struct queue_link {
    struct queue_link *next;
};

struct queue;

/*
 * A queue of at most `max_items` items (0 counts as 1).  `link_offset` is
 * offsetof(struct item, its struct queue_link member); `free_item` frees an
 * item still queued when the queue is freed (NULL: such items are leaked,
 * for callers that drain first).  NULL on allocation failure.
 */
struct queue *queue_new(size_t max_items, size_t link_offset, void (*free_item)(void *item));
/* Frees the queue and, through free_item, any items still in it.  NULL is a
 * no-op. */
void queue_free(struct queue *q);

/*
 * Sets `hook` (NULL: none) to be called with each item as it enters the
 * queue, under the queue's lock, so that the order the hook sees is the
 * order items are popped in: the daemon's archive appends each batch there,
 * which keeps the log and the queue in one order.  The hook cannot refuse
 * an item, and must not call the queue.  Set it before the first push.
 */
void queue_set_push_hook(struct queue *q, void (*hook)(void *ctx, void *item), void *ctx);
/* Takes ownership of `item`.  Blocks while the queue is full.  Returns 0, or
 * -ESHUTDOWN if the queue was closed (ownership stays with the caller). */
int queue_push(struct queue *q, void *item);
/* As queue_push but never blocks: -EAGAIN when full (caller keeps `item`). */
int queue_trypush(struct queue *q, void *item);
/*
 * Removes the oldest item.  Waits up to `timeout_ms` (-1: forever) for one.
 * Returns the item (caller owns it) or NULL on timeout, or when the queue
 * is closed and empty.
 */
void *queue_pop(struct queue *q, int timeout_ms);
/* Closes the queue: pushes fail from now on; pops drain what is left, then
 * return NULL at once.  Wakes every waiter. */
void queue_close(struct queue *q);
/* Items queued now, and the most ever queued at once. */
size_t queue_depth(struct queue *q);
size_t queue_high_water(struct queue *q);
size_t queue_capacity(const struct queue *q);

#endif
