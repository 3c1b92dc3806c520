/*
 * arena.h - bump allocator for per-event memory.
 *
 * Every string and field of one event comes from its arena; one reset per
 * event replaces a dozen frees.  Nothing that points into an arena may
 * outlive the next arena_reset().  The arena keeps its first block across
 * resets so that the steady state allocates nothing.
 */
#ifndef HIKESHI_UTIL_ARENA_H
#define HIKESHI_UTIL_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* current block; its chain holds older ones */
    size_t block_size;        /* size of new blocks (grows for big requests) */
    size_t used_total;        /* bytes handed out since the last reset */
    size_t max_total;         /* cap on used_total; allocations past it fail */
};

/* Embeds an arena in `a`; allocates nothing until the first request.
 * `max_total` caps what one event may take (0 means LIMIT_ARENA_MAX). */
void arena_init(struct arena *a, size_t max_total);
/* Frees every block.  Safe on a zeroed or already-done arena. */
void arena_done(struct arena *a);
/* Forgets every allocation; keeps the first block for reuse. */
void arena_reset(struct arena *a);

/* Returns `n` bytes aligned for any type, or NULL when the cap is reached or
 * memory is exhausted.  The memory is not zeroed. */
void *arena_alloc(struct arena *a, size_t n);
/* As arena_alloc, zeroed. */
void *arena_zalloc(struct arena *a, size_t n);
/* Copies `len` bytes of `s` and appends a NUL.  NULL on failure. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
/* printf into the arena.  NULL on failure. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
