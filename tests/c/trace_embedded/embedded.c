/*
 * embedded.c — a user library with the static libferry linked into it
 * (c.trace_embedded): its own functions share a segment with ferry's code,
 * and FERRY_TRACE=1 must still show them, not skip them as ferry's frames.
 */
#include "ferry.h"

#include <stdio.h>

static int object;

static void release_nothing(void *obj)
{
    (void)obj;
}

__attribute__((noinline)) ferry_handle embedded_make(const ferry_type *t)
{
    ferry_handle h = FERRY_NULL_HANDLE;
    if (ferry_box(t, &object, &h) != FERRY_OK)
        fprintf(stderr, "embedded: %s\n", ferry_last_error());
    return h;
}

__attribute__((noinline)) ferry_status embedded_drop(ferry_handle h)
{
    volatile ferry_status s = ferry_drop(h); /* volatile: no tail call */
    return s;
}

/* Makes a handle, drops it twice and returns the second drop's message. */
const char *embedded_double_drop(void)
{
    static const ferry_type *t;
    ferry_type_desc d = {
        .name = "embedded.Thing", .flags = FERRY_SEND | FERRY_SYNC, .release = release_nothing};
    if (!t && ferry_type_register(&d, &t) != FERRY_OK)
        return ferry_last_error();
    ferry_handle h = embedded_make(t);
    embedded_drop(h);
    embedded_drop(h);
    return ferry_last_error();
}
