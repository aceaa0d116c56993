/*
 * ferry_testing.h — hooks for ferry's own tests. Not installed, not API.
 *
 * They reach states that would take hours or gigabytes to reach honestly
 * (a generation about to wrap, a full table). The symbols exist in every
 * build of libferry; nothing but the test suites calls them.
 */
#ifndef FERRY_TESTING_H
#define FERRY_TESTING_H

#include "ferry.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Moves the live handle h's slot to the last generation before wrapping and
 * returns the new bits of the same handle (h's old bits become invalid).
 * Dropping the returned handle retires the slot. Returns the null handle if h
 * is not live. Not thread-safe with other uses of h.
 */
FERRY_API ferry_handle ferry__test_age_slot(ferry_handle h);

/* Slots retired because their generation would wrap. */
FERRY_API size_t ferry__test_retired_slots(void);

/* Slot index encoded in a handle's bits. */
FERRY_API uint32_t ferry__test_slot_index(ferry_handle h);

/* Slots ever handed out fresh (the table's high-water mark). */
FERRY_API uint32_t ferry__test_slots_issued(void);

/*
 * Caps the number of slots the table may hand out fresh; 0 restores the
 * built-in maximum (2^28). Slots already issued stay usable.
 */
FERRY_API void ferry__test_set_slot_limit(uint32_t max_slots);

/*
 * Allocation-failure injection (tests/c/test_nomem.c, docs/design.md).
 * Compiled in only with FERRY_FAULT_INJECTION (the test library
 * ferry_faulty, or -DFERRY_FAULT_INJECTION=ON); in any other build these
 * hooks do nothing, the counters stay 0 and ferry__test_fault_injection()
 * is false.
 *
 * Every allocation libferry makes (malloc, calloc, realloc, strdup,
 * realpath, mmap: c/src/alloc.h) is one attempt. ferry__test_fail_allocation(n)
 * resets the counters, counts attempts from the call on, and fails exactly
 * the nth one (one-shot: the attempts after it succeed again);
 * ferry__test_fail_allocations_from(n) fails the nth and every one after it
 * (persistent), until the next call of either. n = 0: never fail. Attempts
 * of every thread are counted, in the order they happen.
 */
FERRY_API bool ferry__test_fault_injection(void);
FERRY_API void ferry__test_fail_allocation(uint64_t n);
FERRY_API void ferry__test_fail_allocations_from(uint64_t n);
/* Allocation attempts since the last ferry__test_fail_* call. */
FERRY_API uint64_t ferry__test_allocations(void);
/* Attempts made to fail since then. */
FERRY_API uint64_t ferry__test_allocation_failures(void);
/* The site name (c/src/alloc.h) of the first attempt made to fail since
 * then, or NULL. */
FERRY_API const char *ferry__test_failed_allocation_site(void);

/*
 * Marks the next n never-used slots as issued without handing them out, so
 * the next fresh slots come from further on (a test reaches a new chunk of
 * the table without creating 2^16 handles). The skipped slots stay free
 * forever; a handle can never name them (their generation is 0).
 */
FERRY_API void ferry__test_skip_fresh_slots(uint32_t n);

/*
 * Plugin records made since the process started: one per plugin file ever
 * opened, since a reopen refills the file's record (plugin_host.h). And
 * the strings kept for good for plugins (call sites, names): one per
 * distinct string. Neither grows when the same plugin is opened and
 * closed again.
 */
FERRY_API size_t ferry__test_plugin_records(void);
FERRY_API size_t ferry__test_plugin_kept_strings(void);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_TESTING_H */
