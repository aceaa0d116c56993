/*
 * types.c — the registry of types. Registration takes a lock (it is rare);
 * lookup by id, which every handle operation does, is a lock-free load.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic(const ferry_type *) ferry__types[FERRY__MAX_TYPES + 1];
static _Atomic uint32_t type_count;

uint32_t ferry__type_count(void)
{
    return atomic_load_explicit(&type_count, memory_order_acquire);
}

static const ferry_type *find_locked(const char *name)
{
    uint32_t n = atomic_load_explicit(&type_count, memory_order_relaxed);
    for (uint32_t id = 1; id <= n; id++) {
        const ferry_type *t = atomic_load_explicit(&ferry__types[id], memory_order_relaxed);
        if (strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

static bool same_desc(const ferry_type_desc *a, const ferry_type_desc *b)
{
    return a->flags == b->flags && a->release == b->release && a->retain == b->retain &&
           a->downgrade == b->downgrade && a->upgrade == b->upgrade &&
           a->release_weak == b->release_weak && a->size == b->size && a->align == b->align;
}

static const char *desc_problem(const ferry_type_desc *d)
{
    if (!d->name)
        return "descriptor has a null name";
    if (!d->name[0])
        return "descriptor has an empty name";
    if (!d->release)
        return "descriptor has no release function";
    bool weak_any = d->downgrade || d->upgrade || d->release_weak;
    if (weak_any && !(d->downgrade && d->upgrade && d->release_weak))
        return "descriptor sets some of downgrade, upgrade and release_weak but not all three";
    return NULL;
}

ferry_status ferry_type_register(const ferry_type_desc *desc, const ferry_type **out)
{
    static const char op[] = "ferry_type_register";
    if (!desc)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null descriptor `desc`");
    if (!out)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null out-pointer `out`");
    const char *problem = desc_problem(desc);
    if (problem)
        return ferry__fail(FERRY_E_NULL, op, NULL, "%s", problem);
    if (strlen(desc->name) > 255)
        return ferry__fail(FERRY_E_LIMIT, op, NULL, "type name longer than 255 bytes");
    ferry__init();

    ferry_status s = FERRY_OK;
    pthread_mutex_lock(&types_lock);
    const ferry_type *t = find_locked(desc->name);
    if (t) {
        if (!same_desc(&t->desc, desc))
            s = ferry__fail(FERRY_E_TYPE, op, NULL,
                            "type name \"%s\" is already registered with a different descriptor",
                            desc->name);
    } else if (atomic_load_explicit(&type_count, memory_order_relaxed) >= FERRY__MAX_TYPES) {
        s = ferry__fail(FERRY_E_LIMIT, op, NULL, "%u types are registered already",
                        FERRY__MAX_TYPES);
    } else {
        ferry_type *nt = calloc(1, sizeof *nt);
        if (!nt) {
            s = ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot allocate type \"%s\"", desc->name);
        } else {
            nt->desc = *desc;
            strcpy(nt->name, desc->name);
            nt->desc.name = nt->name;
            nt->id = atomic_load_explicit(&type_count, memory_order_relaxed) + 1;
            atomic_store_explicit(&ferry__types[nt->id], nt, memory_order_release);
            atomic_store_explicit(&type_count, nt->id, memory_order_release);
            t = nt;
        }
    }
    pthread_mutex_unlock(&types_lock);
    if (s == FERRY_OK)
        *out = t;
    return s;
}

const ferry_type *ferry_type_find(const char *name)
{
    if (!name)
        return NULL;
    pthread_mutex_lock(&types_lock);
    const ferry_type *t = find_locked(name);
    pthread_mutex_unlock(&types_lock);
    return t;
}

const char *ferry_type_name(const ferry_type *t)
{
    return t ? t->name : NULL;
}

const ferry_type_desc *ferry_type_descriptor(const ferry_type *t)
{
    return t ? &t->desc : NULL;
}
