/*
 * arena.c - bump allocator for per-event memory.
 */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/limits.h"

struct arena_block {
    struct arena_block *next; /* older block */
    size_t size;              /* bytes of data[] */
    size_t used;              /* bytes of data[] handed out */
    max_align_t data[];       /* aligned for any type */
};

#define ARENA_ALIGN (sizeof(max_align_t))

void arena_init(struct arena *a, size_t max_total)
{
    a->head = NULL;
    a->block_size = LIMIT_ARENA_BLOCK;
    a->used_total = 0;
    a->max_total = max_total ? max_total : LIMIT_ARENA_MAX;
}

void arena_done(struct arena *a)
{
    struct arena_block *b = a->head;

    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;

    if (!b)
        return;
    /* Keep the oldest block (the normal-sized one) and free the rest. */
    while (b->next) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    if (b->size > a->block_size) {
        /* An oversized first block (one huge record) is not worth keeping. */
        free(b);
        b = NULL;
    } else {
        b->used = 0;
    }
    a->head = b;
    a->used_total = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->head;
    size_t need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);

    /* Compare by subtraction: used_total + need could wrap for a huge n. */
    if (need < n || need > a->max_total - a->used_total)
        return NULL;
    if (!b || b->size - b->used < need) {
        size_t size = a->block_size;
        struct arena_block *nb;

        if (size < need)
            size = need;
        nb = malloc(sizeof(*nb) + size);
        if (!nb)
            return NULL;
        nb->size = size;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    {
        void *p = (char *)b->data + b->used;
        b->used += need;
        a->used_total += need;
        return p;
    }
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);

    if (p)
        memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);

    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
