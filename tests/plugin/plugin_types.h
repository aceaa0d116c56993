/*
 * plugin_types.h — the object layouts the plugin suites and the C test
 * plugin (c_plugin.c) agree on.
 *
 *   host.Buffer  a C host object the test registers (size 64, align 4,
 *                FERRY_SEND | FERRY_SYNC, a counting destructor) and hands to
 *                plugins: the C plugin and the Rust imaging plugin read it.
 *   host.Shared  a C host object with a reference count and weak units, so
 *                the suites can make shared, local and weak handles that a
 *                plugin function's ref/mut/own parameter must refuse or take.
 *   c.Counter    the C plugin's own type (unique kind only); the host may take
 *                one out of its handle and box it again, so it knows the
 *                layout too.
 */
#ifndef FERRY_PLUGIN_TYPES_H
#define FERRY_PLUGIN_TYPES_H

#include <stdatomic.h>
#include <stdint.h>

#define HOST_BUFFER_NAME "host.Buffer"
#define HOST_BUFFER_CAPACITY 60

typedef struct host_buffer {
    uint32_t len;
    uint8_t bytes[HOST_BUFFER_CAPACITY];
} host_buffer;

_Static_assert(sizeof(host_buffer) == 64, "host.Buffer is 64 bytes");
_Static_assert(_Alignof(host_buffer) == 4, "host.Buffer is 4-aligned");

#define HOST_SHARED_NAME "host.Shared"

typedef struct host_shared {
    uint64_t magic;
    atomic_long strong; /* strong units */
    atomic_long weak;   /* weak units, +1 while any strong unit lives */
    int32_t value;
} host_shared;

#define COUNTER_NAME "c.Counter"
#define COUNTER_MAGIC_LIVE UINT64_C(0x434f554e5445524c) /* "COUNTERL" */
#define COUNTER_MAGIC_DEAD UINT64_C(0x434f554e54455244)

typedef struct c_counter {
    uint64_t magic;
    int64_t value;
} c_counter;

#endif /* FERRY_PLUGIN_TYPES_H */
