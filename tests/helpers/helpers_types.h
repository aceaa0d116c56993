/* Types for the helper suites: objects are static ints, so a handle that a
 * failing test leaves behind leaks no memory (the suites also run under
 * ASan and valgrind). */
#ifndef HELPERS_TYPES_H
#define HELPERS_TYPES_H

#include <ferry/check.h>

static int helpers_object;

static void helpers_release(void *obj)
{
    (void)obj;
}
static void *helpers_retain(void *obj)
{
    return obj;
}

/* Registers (or finds) a Send+Sync type; shared types can be cloned. */
static inline const ferry_type *helpers_type(const char *name, int shared)
{
    ferry_type_desc d = {0};
    const ferry_type *t = NULL;
    d.name = name;
    d.flags = FERRY_SEND | FERRY_SYNC;
    d.release = helpers_release;
    d.retain = shared ? helpers_retain : NULL;
    ck_assert_ferry_ok(ferry_type_register(&d, &t));
    return t;
}

#endif
