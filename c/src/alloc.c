/*
 * alloc.c — allocation-failure injection for the tests (alloc.h).
 *
 * In a normal build only the hooks of ferry_testing.h exist, and they do
 * nothing: no allocation is counted or failed. With FERRY_FAULT_INJECTION
 * every allocation attempt through alloc.h is counted, and the chosen one
 * fails: only the nth (one-shot), or the nth and every one after it
 * (persistent), the two modes of SQLite's malloc tests.
 */
#include "alloc.h"
#include "internal.h"

#include "ferry_testing.h"

#ifdef FERRY_FAULT_INJECTION

static _Atomic uint64_t attempts; /* since the last ferry__test_fail_* call */
static _Atomic uint64_t fail_at;  /* 0: never */
static _Atomic bool persistent;
static _Atomic uint64_t failures;
static _Atomic(const char *) first_failed_site;

bool ferry__alloc_fails(const char *site)
{
    uint64_t n = atomic_fetch_add_explicit(&attempts, 1, memory_order_relaxed) + 1;
    uint64_t at = atomic_load_explicit(&fail_at, memory_order_relaxed);
    if (at == 0 || n < at || (n > at && !atomic_load_explicit(&persistent, memory_order_relaxed)))
        return false;
    if (atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed) == 0)
        atomic_store_explicit(&first_failed_site, site, memory_order_relaxed);
    errno = ENOMEM;
    return true;
}

static void arm(uint64_t n, bool keep_failing)
{
    atomic_store_explicit(&fail_at, 0, memory_order_relaxed);
    atomic_store_explicit(&attempts, 0, memory_order_relaxed);
    atomic_store_explicit(&failures, 0, memory_order_relaxed);
    atomic_store_explicit(&first_failed_site, NULL, memory_order_relaxed);
    atomic_store_explicit(&persistent, keep_failing, memory_order_relaxed);
    atomic_store_explicit(&fail_at, n, memory_order_relaxed);
}

bool ferry__test_fault_injection(void)
{
    return true;
}

void ferry__test_fail_allocation(uint64_t n)
{
    arm(n, false);
}

void ferry__test_fail_allocations_from(uint64_t n)
{
    arm(n, true);
}

uint64_t ferry__test_allocations(void)
{
    return atomic_load_explicit(&attempts, memory_order_relaxed);
}

uint64_t ferry__test_allocation_failures(void)
{
    return atomic_load_explicit(&failures, memory_order_relaxed);
}

const char *ferry__test_failed_allocation_site(void)
{
    return atomic_load_explicit(&first_failed_site, memory_order_relaxed);
}

#else /* the hooks of a normal build: nothing is counted or failed */

bool ferry__test_fault_injection(void)
{
    return false;
}

void ferry__test_fail_allocation(uint64_t n)
{
    (void)n;
}

void ferry__test_fail_allocations_from(uint64_t n)
{
    (void)n;
}

uint64_t ferry__test_allocations(void)
{
    return 0;
}

uint64_t ferry__test_allocation_failures(void)
{
    return 0;
}

const char *ferry__test_failed_allocation_site(void)
{
    return NULL;
}

#endif
