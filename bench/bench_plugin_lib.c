/*
 * bench_plugin_lib.c — the plugin bench_plugin calls: the same two
 * functions reached three ways (directly, through a bare ffi_call, through
 * ferry_plugin_call). Plain C, so the plugin's own work is a few
 * instructions and the cost of the call path dominates.
 */
#include "ferry.h"

typedef struct bench_obj {
    int64_t value;
} bench_obj;

static void release_obj(void *obj)
{
    (void)obj; /* the host owns the object's storage */
}

static const ferry_type_desc types[] = {
    {.name = "bench.Obj",
     .flags = FERRY_SEND | FERRY_SYNC,
     .release = release_obj,
     .size = sizeof(bench_obj),
     .align = _Alignof(bench_obj)},
};

static ferry_status add(int64_t a, int64_t b, int64_t *out)
{
    *out = a + b;
    return FERRY_OK;
}

/* Borrows the object, as any function with a ref<T> parameter does. */
static ferry_status value(ferry_handle h, int64_t *out)
{
    static const ferry_type *t; /* bench_plugin calls from one thread */
    if (!t)
        t = ferry_type_find("bench.Obj");
    const void *obj;
    ferry_status s = ferry_borrow(h, t, &obj);
    if (s != FERRY_OK)
        return s;
    *out = ((const bench_obj *)obj)->value;
    return ferry_unborrow(h);
}

static const ferry_plugin_function functions[] = {
    {"add", "(i64, i64) -> i64", (void (*)(void))add, "a + b"},
    {"value", "(ref<bench.Obj>) -> i64", (void (*)(void))value, "the object's value"},
};

FERRY_API const ferry_plugin_desc ferry_plugin_descriptor = {
    .magic = FERRY_PLUGIN_MAGIC,
    .abi_version = FERRY_PLUGIN_ABI_VERSION,
    .name = "bench",
    .version = "1.0.0",
    .table_id = ferry_table_id,
    .types = types,
    .ntypes = 1,
    .nfunctions = 2,
    .functions = functions,
};
