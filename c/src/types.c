/*
 * types.c — the registry of types. Registration takes a lock (it is rare);
 * lookup by id, which every handle operation does, is a lock-free load.
 */
#include "alloc.h"
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

/* The registered type named `name` (not one of a closed plugin). */
static ferry_type *find_locked(const char *name)
{
    uint32_t n = atomic_load_explicit(&type_count, memory_order_relaxed);
    for (uint32_t id = 1; id <= n; id++) {
        ferry_type *t = (ferry_type *)atomic_load_explicit(&ferry__types[id], memory_order_relaxed);
        if (!atomic_load_explicit(&t->retired, memory_order_relaxed) && strcmp(t->name, name) == 0)
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

/* A closed plugin's type named desc->name with exactly this descriptor:
 * there may be several of that name (other files, other load addresses). */
static ferry_type *find_retired_locked(const ferry_type_desc *desc)
{
    uint32_t n = atomic_load_explicit(&type_count, memory_order_relaxed);
    for (uint32_t id = 1; id <= n; id++) {
        ferry_type *t = (ferry_type *)atomic_load_explicit(&ferry__types[id], memory_order_relaxed);
        if (atomic_load_explicit(&t->retired, memory_order_relaxed) &&
            strcmp(t->name, desc->name) == 0 && same_desc(&t->desc, desc))
            return t;
    }
    return NULL;
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

/* A new, unpublished type (id 0) copied from desc. */
static ferry_status new_type_locked(const char *op, const ferry_type_desc *desc, ferry_type **out)
{
    if (atomic_load_explicit(&type_count, memory_order_relaxed) >= FERRY__MAX_TYPES)
        return ferry__fail(FERRY_E_LIMIT, op, NULL, "%u types are registered already",
                           FERRY__MAX_TYPES);
    ferry_type *nt = ferry__calloc(1, sizeof *nt, "type");
    if (!nt)
        return ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot allocate type \"%s\"", desc->name);
    nt->desc = *desc;
    strcpy(nt->name, desc->name);
    nt->desc.name = nt->name;
    *out = nt;
    return FERRY_OK;
}

/* Gives t the next id and makes it visible to lock-free lookups by id. */
static void publish_locked(ferry_type *t)
{
    t->id = atomic_load_explicit(&type_count, memory_order_relaxed) + 1;
    atomic_store_explicit(&ferry__types[t->id], t, memory_order_release);
    atomic_store_explicit(&type_count, t->id, memory_order_release);
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
    ferry_type *t = find_locked(desc->name);
    if (t) {
        if (!same_desc(&t->desc, desc))
            s = ferry__fail(FERRY_E_TYPE, op, NULL,
                            "type name \"%s\" is already registered with a different descriptor",
                            desc->name);
    } else if ((t = find_retired_locked(desc)) != NULL) {
        /* A closed plugin's type, registered again by code of that plugin
         * that still runs: it stays retired (making a handle of it fails),
         * and reopening the plugin revives it. */
    } else {
        s = new_type_locked(op, desc, &t);
        if (s == FERRY_OK)
            publish_locked(t);
    }
    pthread_mutex_unlock(&types_lock);
    if (s == FERRY_OK)
        *out = t;
    return s;
}

ferry_status ferry__types_register_plugin(const char *op, const ferry_type_desc *descs, uint32_t n,
                                          ferry__gate *gate, const ferry_type **out)
{
    ferry_type **made = ferry__calloc(n ? n : 1, sizeof *made, "plugin type list");
    if (!made)
        return ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot allocate the plugin's type list");
    ferry_status s = FERRY_OK;
    pthread_mutex_lock(&types_lock);
    for (uint32_t i = 0; i < n && s == FERRY_OK; i++) {
        const ferry_type_desc *d = &descs[i];
        const char *problem = desc_problem(d);
        if (problem) {
            s = ferry__fail(FERRY_E_TYPE, op, NULL, "type %u: %s", i, problem);
            break;
        }
        if (strlen(d->name) > 255) {
            s = ferry__fail(FERRY_E_TYPE, op, NULL, "type %u: name longer than 255 bytes", i);
            break;
        }
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(descs[j].name, d->name) == 0)
                s = ferry__fail(FERRY_E_TYPE, op, NULL, "type name \"%s\" appears twice", d->name);
        if (s != FERRY_OK)
            break;
        if (find_locked(d->name)) {
            s = ferry__fail(FERRY_E_TYPE, op, NULL,
                            "type name \"%s\" is already registered (by the host, a library or "
                            "another plugin)",
                            d->name);
            break;
        }
        made[i] = find_retired_locked(d);
        if (!made[i])
            s = new_type_locked(op, d, &made[i]);
    }
    if (s == FERRY_OK) {
        for (uint32_t i = 0; i < n; i++) {
            atomic_store_explicit(&made[i]->gate, gate, memory_order_release);
            if (made[i]->id)
                atomic_store_explicit(&made[i]->retired, false, memory_order_release);
            else
                publish_locked(made[i]);
            out[i] = made[i];
        }
    } else {
        for (uint32_t i = 0; i < n; i++)
            if (made[i] && !made[i]->id)
                free(made[i]);
    }
    pthread_mutex_unlock(&types_lock);
    free(made);
    return s;
}

void ferry__types_retire(const ferry_type *const *types, uint32_t n)
{
    pthread_mutex_lock(&types_lock);
    for (uint32_t i = 0; i < n; i++)
        atomic_store_explicit(&((ferry_type *)types[i])->retired, true, memory_order_release);
    pthread_mutex_unlock(&types_lock);
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
