/*
 * record.c - batches of raw records.
 */
#include "input/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REC_ALIGN 8

size_t rec_batch_record_size(size_t len)
{
    return (sizeof(struct record) + len + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

struct rec_batch *rec_batch_new(uint32_t input_id, size_t size)
{
    struct rec_batch *b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    if (size < 4096)
        size = 4096;
    b->buf = malloc(size);
    if (!b->buf) {
        free(b);
        return NULL;
    }
    b->size = size;
    b->input_id = input_id;
    return b;
}

void rec_batch_free(struct rec_batch *b)
{
    if (!b)
        return;
    free(b->buf);
    free(b->path);
    free(b);
}

/* queue_free()'s callback for batches still queued at shutdown. */
static void free_queued(void *item)
{
    rec_batch_free(item);
}

struct queue *rec_batch_queue_new(size_t max_batches)
{
    return queue_new(max_batches, offsetof(struct rec_batch, link), free_queued);
}

void rec_batch_clear(struct rec_batch *b)
{
    b->nrec = 0;
    b->used = 0;
    b->has_pos = 0;
    b->arch_end = 0;
}

struct record *rec_batch_add(struct rec_batch *b, const char *data, size_t len, int64_t recv_us,
                             uint16_t flags)
{
    size_t need = rec_batch_record_size(len);
    struct record *r;

    if (len > UINT32_MAX)
        return NULL;
    if (b->size - b->used < need) {
        char *nbuf;

        if (b->nrec > 0)
            return NULL;
        nbuf = realloc(b->buf, need);
        if (!nbuf)
            return NULL;
        b->buf = nbuf;
        b->size = need;
    }
    r = (struct record *)(void *)(b->buf + b->used);
    memset(r, 0, sizeof(*r));
    r->len = (uint32_t)len;
    r->flags = flags;
    r->recv_us = recv_us;
    if (len)
        memcpy(r->data, data, len);
    b->used += need;
    b->nrec++;
    return r;
}

struct record *rec_batch_first(const struct rec_batch *b)
{
    if (b->nrec == 0)
        return NULL;
    return (struct record *)(void *)b->buf;
}

struct record *rec_batch_next(const struct rec_batch *b, const struct record *r)
{
    size_t off = (size_t)((const char *)r - b->buf) + rec_batch_record_size(r->len);

    if (off >= b->used)
        return NULL;
    return (struct record *)(void *)(b->buf + off);
}

int rec_batch_set_pos(struct rec_batch *b, const char *path, const struct file_pos *pos)
{
    if (!b->path || strcmp(b->path, path) != 0) {
        char *p = strdup(path);
        if (!p)
            return -ENOMEM;
        free(b->path);
        b->path = p;
    }
    b->pos = *pos;
    b->has_pos = 1;
    return 0;
}
