/*
 * field.c - the interned dictionary of field names.
 *
 * Open addressing over a power-of-two table of ids; names live in an array
 * indexed by id that never moves (allocated once at its full size), so
 * field_name() needs no lock.
 */
#include "event/field.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/limits.h"

#define FIELD_SLOTS (LIMIT_FIELD_NAMES * 2) /* load factor <= 1/2 */

static pthread_mutex_t field_lock = PTHREAD_MUTEX_INITIALIZER;
/* names[id]: NUL-terminated, heap; published with release order. */
static char **names;
/* spaced[id]: its name holds a space (set before the id is published). */
static unsigned char *spaced;
static uint32_t *slots; /* 0 = empty, else id */
static _Atomic uint32_t nnames;
static _Atomic uint64_t refused;
static _Atomic uint32_t generation; /* field_generation(): + 1 at each field_done() */

static const char *const fixed_names[] = {
    NULL,
#define FIELD_NAME(sym, name) name,
    FIELD_LIST(FIELD_NAME)
#undef FIELD_NAME
};

static uint32_t hash_name(const char *s, size_t len)
{
    /* FNV-1a: field names are short; collisions only cost a probe. */
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Caller holds field_lock.  Returns the slot for name: holding its id, or
 * empty if absent. */
static uint32_t *find_slot(const char *name, size_t len)
{
    uint32_t i = hash_name(name, len) & (FIELD_SLOTS - 1);

    for (;;) {
        uint32_t id = slots[i];
        if (id == 0)
            return &slots[i];
        {
            const char *n = __atomic_load_n(&names[id], __ATOMIC_RELAXED);
            if (strncmp(n, name, len) == 0 && n[len] == '\0')
                return &slots[i];
        }
        i = (i + 1) & (FIELD_SLOTS - 1);
    }
}

/* Caller holds field_lock. */
static uint32_t add_locked(const char *name, size_t len)
{
    uint32_t *slot = find_slot(name, len);
    uint32_t existing = *slot;
    uint32_t id = atomic_load_explicit(&nnames, memory_order_relaxed);
    char *copy;

    if (existing)
        return existing;
    if (id >= LIMIT_FIELD_NAMES) {
        atomic_fetch_add_explicit(&refused, 1, memory_order_relaxed);
        return FIELD_NONE;
    }
    copy = malloc(len + 1);
    if (!copy)
        return FIELD_NONE;
    memcpy(copy, name, len);
    copy[len] = '\0';
    spaced[id] = memchr(name, ' ', len) != NULL;
    __atomic_store_n(&names[id], copy, __ATOMIC_RELEASE);
    *slot = id;
    atomic_store_explicit(&nnames, id + 1, memory_order_release);
    return id;
}

/* Caller holds field_lock.  0 or -1 on allocation failure. */
static int init_locked(void)
{
    if (names)
        return 0;
    names = calloc(LIMIT_FIELD_NAMES, sizeof(*names));
    slots = calloc(FIELD_SLOTS, sizeof(*slots));
    spaced = calloc(LIMIT_FIELD_NAMES, 1);
    if (!names || !slots || !spaced) {
        free(names);
        free(slots);
        free(spaced);
        names = NULL;
        slots = NULL;
        spaced = NULL;
        return -1;
    }
    atomic_store(&nnames, 1); /* id 0 is FIELD_NONE */
    for (uint32_t id = 1; id < FIELD_FIXED_COUNT; id++)
        add_locked(fixed_names[id], strlen(fixed_names[id]));
    return 0;
}

void field_init(void)
{
    pthread_mutex_lock(&field_lock);
    init_locked();
    pthread_mutex_unlock(&field_lock);
}

void field_done(void)
{
    pthread_mutex_lock(&field_lock);
    if (names) {
        uint32_t n = atomic_load(&nnames);
        for (uint32_t id = 1; id < n; id++)
            free(names[id]);
        free(names);
        free(slots);
        free(spaced);
        names = NULL;
        slots = NULL;
        spaced = NULL;
        atomic_store(&nnames, 0);
    }
    atomic_fetch_add(&generation, 1);
    pthread_mutex_unlock(&field_lock);
}

uint32_t field_intern(const char *name, size_t len)
{
    uint32_t id = FIELD_NONE;

    if (len == 0 || len > LIMIT_FIELD_NAME_LEN || memchr(name, '\0', len))
        return FIELD_NONE;
    pthread_mutex_lock(&field_lock);
    if (init_locked() == 0)
        id = add_locked(name, len);
    pthread_mutex_unlock(&field_lock);
    return id;
}

uint32_t field_lookup(const char *name, size_t len)
{
    uint32_t id = FIELD_NONE;

    /* An embedded NUL would let find_slot() match a shorter name and read
     * past its end. */
    if (len == 0 || len > LIMIT_FIELD_NAME_LEN || memchr(name, '\0', len))
        return FIELD_NONE;
    pthread_mutex_lock(&field_lock);
    if (init_locked() == 0)
        id = *find_slot(name, len);
    pthread_mutex_unlock(&field_lock);
    return id;
}

const char *field_name(uint32_t id)
{
    char **n;

    /* Fixed names need no dictionary: decoders may set FIELD_* ids before
     * anything called field_init(), and the JSON writer needs their names. */
    if (id > 0 && id < FIELD_FIXED_COUNT)
        return fixed_names[id];
    /* nnames first (acquire), so that `names` is read after it was set. */
    if (id == 0 || id >= atomic_load_explicit(&nnames, memory_order_acquire))
        return NULL;
    n = __atomic_load_n(&names, __ATOMIC_ACQUIRE);
    if (!n)
        return NULL;
    return __atomic_load_n(&n[id], __ATOMIC_ACQUIRE);
}

uint32_t field_count(void)
{
    return atomic_load_explicit(&nnames, memory_order_acquire);
}

uint64_t field_refused(void)
{
    return atomic_load_explicit(&refused, memory_order_relaxed);
}

uint32_t field_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_acquire);
}

const unsigned char *field_spaced_table(uint32_t *ret_n)
{
    /* nnames first (acquire), so that spaced[0 .. n) is read after it was
     * set. */
    uint32_t n = atomic_load_explicit(&nnames, memory_order_acquire);
    const unsigned char *sp = __atomic_load_n(&spaced, __ATOMIC_ACQUIRE);

    *ret_n = sp ? n : 0;
    return sp;
}

int field_spaced(uint32_t id)
{
    uint32_t n;
    const unsigned char *sp = field_spaced_table(&n);

    if (id == 0 || id >= n) {
        const char *name = id > 0 && id < FIELD_FIXED_COUNT ? fixed_names[id] : NULL;
        return name && strchr(name, ' ') != NULL;
    }
    return sp[id];
}
