/*
 * alloc.h — every allocation libferry makes goes through these wrappers.
 * Not installed.
 *
 * In a normal build they are static inline functions around the C library
 * call and compile to exactly that call: FERRY__ALLOC_FAILS is the constant
 * false, so the test and its branch fold away (no counter, no load, no
 * call). In a build with FERRY_FAULT_INJECTION defined (the test library
 * ferry_faulty, or every target with -DFERRY_FAULT_INJECTION=ON), each
 * wrapper first asks ferry__alloc_fails, which counts the attempt and fails
 * the one ferry__test_fail_allocation chose (alloc.c, ferry_testing.h).
 *
 * `site` names the allocation for the tests ("ledger page", "table chunk",
 * ...); ferry__test_failed_allocation_site returns it for a failure.
 */
#ifndef FERRY_ALLOC_H
#define FERRY_ALLOC_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#ifdef FERRY_FAULT_INJECTION
/* Counts one allocation attempt; true when it is to fail (errno is then
 * ENOMEM). Thread-safe. */
bool ferry__alloc_fails(const char *site);
#define FERRY__ALLOC_FAILS(site) ferry__alloc_fails(site)
#else
#define FERRY__ALLOC_FAILS(site) ((void)(site), false)
#endif

static inline void *ferry__malloc(size_t size, const char *site)
{
    return FERRY__ALLOC_FAILS(site) ? NULL : malloc(size);
}

static inline void *ferry__calloc(size_t n, size_t size, const char *site)
{
    return FERRY__ALLOC_FAILS(site) ? NULL : calloc(n, size);
}

/* Like realloc: on failure p is left as it was. */
static inline void *ferry__realloc(void *p, size_t size, const char *site)
{
    return FERRY__ALLOC_FAILS(site) ? NULL : realloc(p, size);
}

static inline char *ferry__strdup(const char *s, const char *site)
{
    return FERRY__ALLOC_FAILS(site) ? NULL : strdup(s);
}

/* realpath(path, NULL), whose result is malloc'd. A macro: realpath is
 * declared only where the file asks for it (_GNU_SOURCE in plugin.c). */
#define ferry__realpath(path, site) (FERRY__ALLOC_FAILS(site) ? NULL : realpath((path), NULL))

/* mmap; MAP_FAILED on failure. */
static inline void *ferry__mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off,
                                const char *site)
{
    return FERRY__ALLOC_FAILS(site) ? MAP_FAILED : mmap(addr, len, prot, flags, fd, off);
}

#endif /* FERRY_ALLOC_H */
