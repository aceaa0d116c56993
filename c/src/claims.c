/*
 * claims.c — which thread holds the shared borrows of a Send + !Sync object.
 *
 * Keyed by the object pointer, so every handle of one object (clones,
 * upgrades) shares one claim: "a !Sync object borrowed from two threads at
 * once" is refused whichever handles the two threads use. Only such types'
 * shared borrows come here, and they hold a stripe's lock for a few
 * instructions, so striped mutexes over small arrays do.
 */
#include "alloc.h"
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>

#define STRIPES 64

typedef struct claim {
    const void *obj;
    uint32_t thread; /* holder of all the object's shared borrows */
    uint32_t count;  /* how many it holds */
} claim;

struct ferry__claims {
    pthread_mutex_t lock;
    claim *items;
    size_t n, cap;
};

static ferry__claims stripes[STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;

static void stripes_init(void)
{
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&stripes[i].lock, NULL);
}

ferry__claims *ferry__claims_lock(const void *obj)
{
    pthread_once(&stripes_once, stripes_init);
    uintptr_t key = (uintptr_t)obj;
    ferry__claims *c = &stripes[(key >> 4 ^ key >> 12) % STRIPES];
    pthread_mutex_lock(&c->lock);
    return c;
}

void ferry__claims_unlock(ferry__claims *c)
{
    pthread_mutex_unlock(&c->lock);
}

static claim *find(ferry__claims *c, const void *obj)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i].obj == obj)
            return &c->items[i];
    return NULL;
}

uint32_t ferry__claim_holder(ferry__claims *c, const void *obj)
{
    claim *cl = find(c, obj);
    return cl ? cl->thread : 0;
}

bool ferry__claim_add(ferry__claims *c, const void *obj, uint32_t thread)
{
    claim *cl = find(c, obj);
    if (cl) {
        cl->count++;
        return true;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        claim *items = ferry__realloc(c->items, cap * sizeof *items, "claim list");
        if (!items)
            return false;
        c->items = items;
        c->cap = cap;
    }
    c->items[c->n++] = (claim){.obj = obj, .thread = thread, .count = 1};
    return true;
}

void ferry__claim_remove(ferry__claims *c, const void *obj)
{
    claim *cl = find(c, obj);
    if (cl && --cl->count == 0)
        *cl = c->items[--c->n];
}
