/*
 * queue.c - the bounded queue, a FIFO linked through the items themselves.
 */
#include "util/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    struct queue_link *head, *tail; /* FIFO through each item's link */
    size_t link_offset;             /* of the link in an item */
    void (*free_item)(void *item);
    size_t depth;
    size_t max;
    size_t high_water;
    int closed;
    void (*push_hook)(void *ctx, void *item); /* NULL: none */
    void *push_ctx;
};

/* The item holding `l`, and the link inside `item`. */
static void *item_of(const struct queue *q, struct queue_link *l)
{
    return (char *)l - q->link_offset;
}

static struct queue_link *link_of(const struct queue *q, void *item)
{
    return (struct queue_link *)(void *)((char *)item + q->link_offset);
}

struct queue *queue_new(size_t max_items, size_t link_offset, void (*free_item)(void *item))
{
    struct queue *q = calloc(1, sizeof(*q));
    pthread_condattr_t ca;

    if (!q)
        return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &ca);
    pthread_cond_init(&q->not_full, &ca);
    pthread_condattr_destroy(&ca);
    q->max = max_items ? max_items : 1;
    q->link_offset = link_offset;
    q->free_item = free_item;
    return q;
}

void queue_free(struct queue *q)
{
    struct queue_link *l;

    if (!q)
        return;
    l = q->head;
    while (l) {
        struct queue_link *next = l->next;
        if (q->free_item)
            q->free_item(item_of(q, l));
        l = next;
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q);
}

/* Caller holds the lock and has checked there is room. */
static void enqueue(struct queue *q, void *item)
{
    struct queue_link *l = link_of(q, item);

    if (q->push_hook)
        q->push_hook(q->push_ctx, item);
    l->next = NULL;
    if (q->tail)
        q->tail->next = l;
    else
        q->head = l;
    q->tail = l;
    if (++q->depth > q->high_water)
        q->high_water = q->depth;
    pthread_cond_signal(&q->not_empty);
}

void queue_set_push_hook(struct queue *q, void (*hook)(void *ctx, void *item), void *ctx)
{
    pthread_mutex_lock(&q->lock);
    q->push_hook = hook;
    q->push_ctx = ctx;
    pthread_mutex_unlock(&q->lock);
}

int queue_push(struct queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->depth >= q->max)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -ESHUTDOWN;
    }
    enqueue(q, item);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int queue_trypush(struct queue *q, void *item)
{
    int r = 0;

    pthread_mutex_lock(&q->lock);
    if (q->closed)
        r = -ESHUTDOWN;
    else if (q->depth >= q->max)
        r = -EAGAIN;
    else
        enqueue(q, item);
    pthread_mutex_unlock(&q->lock);
    return r;
}

void *queue_pop(struct queue *q, int timeout_ms)
{
    struct queue_link *l = NULL;
    struct timespec deadline;

    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    while (!q->head && !q->closed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->not_empty, &q->lock);
        } else if (pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    if (q->head) {
        l = q->head;
        q->head = l->next;
        if (!q->head)
            q->tail = NULL;
        l->next = NULL;
        q->depth--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return l ? item_of(q, l) : NULL;
}

void queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t queue_depth(struct queue *q)
{
    size_t d;

    pthread_mutex_lock(&q->lock);
    d = q->depth;
    pthread_mutex_unlock(&q->lock);
    return d;
}

size_t queue_high_water(struct queue *q)
{
    size_t d;

    pthread_mutex_lock(&q->lock);
    d = q->high_water;
    pthread_mutex_unlock(&q->lock);
    return d;
}

size_t queue_capacity(const struct queue *q)
{
    return q->max;
}
