/*
 * threads.c — per-thread state: a small id, the free-slot cache and the
 * ledger rows, attached on a thread's first ferry call and folded back into
 * the process when the thread exits.
 */
#include "alloc.h"
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>

FERRY_TLS_FAST _Thread_local ferry__thread *ferry__self_tls;

/* Thread ids start at 1 (0 means "none") and are never reused, so a handle
 * pinned to a thread that has exited can never be mistaken for another's. */
static _Atomic uint32_t next_thread_id = 1;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ferry__thread *registry;

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void thread_detach(void *arg)
{
    ferry__thread *t = arg;
    ferry__table_release_cache(t);
    pthread_mutex_lock(&registry_lock);
    for (ferry__thread **p = &registry; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    ferry__ledger_retire_thread(t);
    pthread_mutex_unlock(&registry_lock);
    ferry__self_tls = NULL;
    free(t->trace_message);
    free(t);
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, thread_detach);
}

FERRY_COLD ferry__thread *ferry__thread_attach(void)
{
    ferry__init();
    pthread_once(&exit_key_once, make_exit_key);
    uint32_t id = atomic_load_explicit(&next_thread_id, memory_order_relaxed);
    do {
        if (id == UINT32_MAX)
            return NULL; /* 2^32 - 2 threads: ids would repeat, pinning would lie */
    } while (!atomic_compare_exchange_weak_explicit(&next_thread_id, &id, id + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    ferry__thread *t = ferry__calloc(1, sizeof *t, "thread state");
    if (!t)
        return NULL;
    t->id = id;
    pthread_mutex_lock(&registry_lock);
    t->next = registry;
    registry = t;
    pthread_mutex_unlock(&registry_lock);
    /* The key's destructor runs at thread exit (not for the main thread
     * leaving through exit(), whose state simply lives on). */
    pthread_setspecific(exit_key, t);
    ferry__self_tls = t;
    return t;
}

void ferry__threads_each(void (*fn)(ferry__thread *t, void *ctx), void *ctx)
{
    pthread_mutex_lock(&registry_lock);
    for (ferry__thread *t = registry; t; t = t->next)
        fn(t, ctx);
    fn(NULL, ctx); /* NULL: the retired totals, read under the same lock */
    pthread_mutex_unlock(&registry_lock);
}
