/*
 * table.c — the one handle table of the process: slot storage that grows
 * without moving, and lock-free free lists.
 *
 * Slots live in chunks of 2^16 that are allocated on demand and never freed
 * or moved, so a slot's address is stable for the life of the process and a
 * reader needs no lock to find it. Free slots are kept first in a per-thread
 * cache (no atomics at all on the create/drop fast path), then in one global
 * Treiber stack that caches spill into and refill from in batches.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include "alloc.h"
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BITS FERRY__CHUNK_BITS
#define CHUNK_SLOTS FERRY__CHUNK_SLOTS
#define CHUNK_BYTES (CHUNK_SLOTS * sizeof(ferry__slot))

_Atomic(ferry__slot *) ferry__chunks[FERRY__CHUNK_COUNT];

/* Next never-used slot index; slots below it have been handed out once. */
static _Atomic uint32_t fresh_next;
static _Atomic uint32_t fresh_limit = FERRY__MAX_SLOTS;

/* Global free stack: (aba counter << 32) | (index + 1); 0 = empty. */
static _Atomic uint64_t free_head;

static _Atomic size_t retired_slots;

uint32_t ferry__table_tag;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_once_fn(void)
{
    /* The tag tells this table's handles from another process's or from
     * made-up bits; any non-zero value works, so cheap entropy will do. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20) ^ (uint64_t)(uintptr_t)&ts;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 29;
    uint32_t tag = (uint32_t)(x & 0xFF);
    ferry__table_tag = tag ? tag : 0x5A;
    ferry__errors_init();
    ferry__ledger_init();
    ferry__trace_init();
}

void ferry__init(void)
{
    pthread_once(&init_once, init_once_fn);
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((constructor)) static void init_at_load(void)
{
    ferry__init();
}
#endif

/* Makes sure the chunk holding index exists; losers of a race free theirs. */
static ferry_status chunk_ensure(uint32_t index)
{
    _Atomic(ferry__slot *) *cell = &ferry__chunks[index >> CHUNK_BITS];
    if (atomic_load_explicit(cell, memory_order_acquire))
        return FERRY_OK;
    /* Fresh anonymous pages are zero and committed only as slots are
     * touched; mmap (not calloc, whose header would spill onto one more
     * page) keeps the cost at 48 bytes per live handle. */
    void *chunk = ferry__mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, "table chunk");
    if (chunk == MAP_FAILED)
        return FERRY_E_NOMEM;
    ferry__slot *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(cell, &expected, chunk, memory_order_acq_rel,
                                                 memory_order_acquire))
        munmap(chunk, CHUNK_BYTES);
    return FERRY_OK;
}

static bool global_pop(uint32_t *index)
{
    uint64_t head = atomic_load_explicit(&free_head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (top == 0)
            return false;
        /* The slot may be popped and reused by another thread between the
         * load of head and this read; then `next` is garbage, but the CAS
         * fails because the ABA counter moved, and we retry. */
        uint32_t next =
            atomic_load_explicit(&ferry__slot_issued(top - 1)->next_free, memory_order_relaxed);
        uint64_t repl = (((head >> 32) + 1) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(&free_head, &head, repl, memory_order_acquire,
                                                  memory_order_acquire)) {
            *index = top - 1;
            return true;
        }
    }
}

/* Pushes a chain first..last (already linked through next_free). */
static void global_push_chain(uint32_t first, uint32_t last)
{
    _Atomic uint32_t *tail_link = &ferry__slot_issued(last)->next_free;
    uint64_t head = atomic_load_explicit(&free_head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(tail_link, (uint32_t)head, memory_order_relaxed);
        uint64_t repl = (((head >> 32) + 1) << 32) | (first + 1);
        if (atomic_compare_exchange_weak_explicit(&free_head, &head, repl, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

static uint32_t cache_at(const ferry__thread *self, uint32_t i)
{
    return self->cache[(self->chead + i) & (FERRY__CACHE_SLOTS - 1)];
}

/* Moves the oldest `n` cached indices of self to the global stack. */
static void cache_spill(ferry__thread *self, uint32_t n)
{
    for (uint32_t i = 0; i + 1 < n; i++)
        atomic_store_explicit(&ferry__slot_issued(cache_at(self, i))->next_free,
                              cache_at(self, i + 1) + 1, memory_order_relaxed);
    global_push_chain(cache_at(self, 0), cache_at(self, n - 1));
    self->chead = (self->chead + n) & (FERRY__CACHE_SLOTS - 1);
    self->ncache -= n;
}

/* Grabs up to a batch of never-used slots for the cache. */
static ferry_status cache_refill_fresh(ferry__thread *self)
{
    uint32_t limit = atomic_load_explicit(&fresh_limit, memory_order_relaxed);
    uint32_t first = atomic_load_explicit(&fresh_next, memory_order_relaxed);
    uint32_t n;
    do {
        if (first >= limit)
            return FERRY_E_LIMIT;
        n = limit - first < FERRY__CACHE_BATCH ? limit - first : FERRY__CACHE_BATCH;
        /* A batch never straddles two chunks, so one chunk_ensure covers it. */
        uint32_t to_chunk_end = CHUNK_SLOTS - (first & (CHUNK_SLOTS - 1));
        if (n > to_chunk_end)
            n = to_chunk_end;
    } while (!atomic_compare_exchange_weak_explicit(&fresh_next, &first, first + n,
                                                    memory_order_relaxed, memory_order_relaxed));
    ferry_status s = chunk_ensure(first);
    if (s != FERRY_OK) {
        /* Give the range back if nobody took a later one; otherwise those
         * indices are lost, which only costs capacity, never correctness. */
        uint32_t expected = first + n;
        atomic_compare_exchange_strong_explicit(&fresh_next, &expected, first, memory_order_relaxed,
                                                memory_order_relaxed);
        return s;
    }
    for (uint32_t i = 0; i < n; i++)
        ferry__cache_push(self, first + i);
    return FERRY_OK;
}

/*
 * Tops the cache up from the global stack, then with fresh slots. If neither
 * has any, the quarantined slots are used after all: a full table must not
 * fail while this thread still holds free slots.
 */
FERRY_COLD ferry_status ferry__slot_alloc_slow(ferry__thread *self, uint32_t *index)
{
    uint32_t got;
    while (self->ncache < FERRY__CACHE_QUARANTINE + FERRY__CACHE_BATCH && global_pop(&got))
        ferry__cache_push(self, got);
    if (self->ncache <= FERRY__CACHE_QUARANTINE) {
        ferry_status s = cache_refill_fresh(self);
        if (s != FERRY_OK && self->ncache == 0)
            return s;
    }
    *index = self->cache[self->chead];
    self->chead = (self->chead + 1) & (FERRY__CACHE_SLOTS - 1);
    self->ncache--;
    return FERRY_OK;
}

FERRY_COLD void ferry__slot_free_slow(ferry__thread *self, uint32_t index, uint32_t gen)
{
    if (gen >= FERRY__GEN_MAX) {
        /* Reusing it would wrap the generation and make old handles alive
         * again: retire the slot for good. */
        atomic_fetch_add_explicit(&retired_slots, 1, memory_order_relaxed);
        return;
    }
    /* Otherwise ferry__slot_free came here because the cache is full. */
    cache_spill(self, FERRY__CACHE_BATCH);
    ferry__cache_push(self, index);
}

/* Called when a thread exits: its cached slots go back to everyone. */
void ferry__table_release_cache(ferry__thread *self)
{
    if (self->ncache)
        cache_spill(self, self->ncache);
}

uint32_t ferry__slots_issued(void)
{
    return atomic_load_explicit(&fresh_next, memory_order_relaxed);
}

/* ---- Test hooks (ferry_testing.h) ---------------------------------------- */

#include "ferry_testing.h"

ferry_handle ferry__test_age_slot(ferry_handle h)
{
    uint32_t index = ferry__handle_index(h);
    ferry__slot *slot = ferry__handle_tag(h) == ferry__table_tag ? ferry__slot_at(index) : NULL;
    if (!slot)
        return FERRY_NULL_HANDLE;
    uint64_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
    if (ferry__state_gen(s) != ferry__handle_gen(h) || ferry__state_kind(s) == FERRY__FREE)
        return FERRY_NULL_HANDLE;
    uint64_t aged =
        (s & ~(~(uint64_t)0 << FERRY__GEN_SHIFT)) | ((uint64_t)FERRY__GEN_MAX << FERRY__GEN_SHIFT);
    atomic_store_explicit(&slot->state, aged, memory_order_release);
    return ferry__handle_make(ferry__table_tag, FERRY__GEN_MAX, index);
}

size_t ferry__test_retired_slots(void)
{
    return atomic_load_explicit(&retired_slots, memory_order_relaxed);
}

uint32_t ferry__test_slot_index(ferry_handle h)
{
    return ferry__handle_index(h);
}

uint32_t ferry__test_slots_issued(void)
{
    return ferry__slots_issued();
}

void ferry__test_set_slot_limit(uint32_t max_slots)
{
    uint32_t limit = max_slots == 0 || max_slots > FERRY__MAX_SLOTS ? FERRY__MAX_SLOTS : max_slots;
    atomic_store_explicit(&fresh_limit, limit, memory_order_relaxed);
}

void ferry__test_skip_fresh_slots(uint32_t n)
{
    uint32_t limit = atomic_load_explicit(&fresh_limit, memory_order_relaxed);
    uint32_t first = atomic_load_explicit(&fresh_next, memory_order_relaxed), next;
    do {
        next = first >= limit ? first : limit - first < n ? limit : first + n;
    } while (!atomic_compare_exchange_weak_explicit(&fresh_next, &first, next, memory_order_relaxed,
                                                    memory_order_relaxed));
}
