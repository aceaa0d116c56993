/*
 * c_plugin.c — a ferry plugin written in plain C, for the plugin suites.
 *
 * The plugin ABI is language-neutral: this file fills the descriptor by hand.
 * It links the shared libferry (one handle table per process) and offers:
 *
 *   type c.Counter (unique kind: release only, Send + Sync)
 *   counter_new(i64) -> own<c.Counter>       counter_get(ref<c.Counter>) -> i64
 *   counter_add(mut<c.Counter>, i64)          counter_free(own<c.Counter>)
 *   released() -> u64                         (c.Counter releases so far)
 *   sum3, sum16, mix, fmix, id_<kind>         scalars through libffi
 *   echo(str) -> str, str_len(str) -> u64     strings
 *   host_buffer_len(ref<host.Buffer>) -> u32  host_buffer_drop(own<host.Buffer>)
 *   shared_get/shared_set/shared_drop         host.Shared through ref/mut/own
 *   fail(i32)                                 an error status with a message
 *   consume_fail(own<c.Counter>)              takes the unit, then fails
 *   bad_result / stale_result / buffer_as_counter: results that are not a
 *                                             live c.Counter
 *   gate_wait(), gate_hold(ref<c.Counter>), gate_state() -> u32, gate_open(),
 *   gate_close()                              a call that stays running until
 *                                             another thread opens the gate
 *   Results and arguments the host must check (review regressions):
 *   steal_buffer(ref<host.Buffer>) -> own<host.Buffer>, steal_buffer_mut
 *   (mut<...>), steal_as_counter(ref<host.Buffer>) -> own<c.Counter>
 *                                             return the handle they were lent
 *   lend_result() -> own<c.Counter>           a lent handle as the result;
 *   lent_bits() -> u64, lent_revoke()         its bits; the plugin revokes it
 *   bool_byte(bool) -> u8                     the raw byte the callee got
 *   bool_seven() -> bool                      writes the byte 7
 *   null_str() -> str, latin1_str() -> str    a NULL / non-UTF-8 result
 *   take2(own<host.Buffer>, own<host.Buffer>) drops both
 *   take_peek(ref<host.Buffer>, own<host.Buffer>) -> u32  first's len, drops
 *                                             the second
 *
 * The same source builds the broken plugins the open tests need, one compile
 * definition each (tests/plugin/CMakeLists.txt): CPLUG_BAD_MAGIC,
 * CPLUG_BAD_ABI, CPLUG_BAD_FLAGS, CPLUG_NO_DESCRIPTOR, CPLUG_BAD_SIGNATURE,
 * CPLUG_BAD_NAME, CPLUG_NULL_ENTRY, CPLUG_DUPLICATE_FUNCTION,
 * CPLUG_DUPLICATE_TYPE, CPLUG_TYPE_TWICE, CPLUG_NULL_TABLE_ID and
 * CPLUG_UNRESOLVED. CPLUG_OWN_TABLE is this source unchanged, linked against
 * its own static copy of libferry.
 */
#include <ferry.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin_types.h"

#if defined(__GNUC__) || defined(__clang__)
#define CPLUG_EXPORT __attribute__((visibility("default")))
#else
#define CPLUG_EXPORT
#endif

static _Atomic uint64_t released_count;

/* ------------------------------------------------------------------ */
/* c.Counter                                                           */
/* ------------------------------------------------------------------ */

static void counter_release(void *obj)
{
    c_counter *c = obj;
    if (c == NULL || c->magic != COUNTER_MAGIC_LIVE)
        abort(); /* a release of something that is not a live counter */
    c->magic = COUNTER_MAGIC_DEAD;
    free(c);
    atomic_fetch_add(&released_count, 1);
}

static ferry_status not_registered(const char *op, const char *name)
{
    char msg[128];
    snprintf(msg, sizeof msg, "type %s is not registered", name);
    return ferry_report_error(FERRY_E_TYPE, op, msg);
}

static ferry_status counter_new(int64_t value, ferry_handle *out)
{
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    if (t == NULL)
        return not_registered("counter_new", COUNTER_NAME);
    c_counter *c = malloc(sizeof *c);
    if (c == NULL)
        return ferry_report_error(FERRY_E_NOMEM, "counter_new", "out of memory");
    c->magic = COUNTER_MAGIC_LIVE;
    c->value = value;
    ferry_status s = ferry_box(t, c, out);
    if (s != FERRY_OK)
        free(c);
    return s;
}

static ferry_status counter_get(ferry_handle h, int64_t *out)
{
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    if (t == NULL)
        return not_registered("counter_get", COUNTER_NAME);
    const void *obj;
    ferry_status s = ferry_borrow(h, t, &obj);
    if (s != FERRY_OK)
        return s;
    int64_t v = ((const c_counter *)obj)->value;
    s = ferry_unborrow(h);
    if (s != FERRY_OK)
        return s;
    *out = v;
    return FERRY_OK;
}

static ferry_status counter_add(ferry_handle h, int64_t delta)
{
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    if (t == NULL)
        return not_registered("counter_add", COUNTER_NAME);
    void *obj;
    ferry_status s = ferry_borrow_mut(h, t, &obj);
    if (s != FERRY_OK)
        return s;
    ((c_counter *)obj)->value += delta;
    return ferry_unborrow(h);
}

static ferry_status counter_free(ferry_handle h)
{
    return ferry_drop(h);
}

static ferry_status released(uint64_t *out)
{
    *out = atomic_load(&released_count);
    return FERRY_OK;
}

/* Owns the unit it was given (the host moved it), gives it up, then fails. */
static ferry_status consume_fail(ferry_handle h)
{
    ferry_status s = ferry_drop(h);
    if (s != FERRY_OK)
        return s;
    return ferry_report_error(FERRY_E_KIND, "consume_fail", "consume_fail refuses on purpose");
}

/* Results that are not a live c.Counter: the host must refuse them. */
static ferry_status bad_result(ferry_handle *out)
{
    out->bits = UINT64_C(0x00dead00beef0001);
    return FERRY_OK;
}

static ferry_status stale_result(ferry_handle *out)
{
    ferry_handle h;
    ferry_status s = counter_new(1, &h);
    if (s != FERRY_OK)
        return s;
    s = ferry_drop(h);
    if (s != FERRY_OK)
        return s;
    *out = h;
    return FERRY_OK;
}

static ferry_status buffer_as_counter(ferry_handle buffer, ferry_handle *out)
{
    *out = buffer; /* a live handle, but a host.Buffer */
    return FERRY_OK;
}

/* ------------------------------------------------------------------ */
/* Scalars and strings                                                 */
/* ------------------------------------------------------------------ */

static ferry_status sum3(int32_t a, int32_t b, int32_t c, int64_t *out)
{
    *out = (int64_t)a + (int64_t)b + (int64_t)c;
    return FERRY_OK;
}

static ferry_status sum16(int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5, int32_t a6,
                          int32_t a7, int32_t a8, int32_t a9, int32_t a10, int32_t a11, int32_t a12,
                          int32_t a13, int32_t a14, int32_t a15, int32_t a16, int64_t *out)
{
    /* weights tell the positions apart */
    int64_t r = 0;
    int32_t v[16] = {a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16};
    for (int i = 0; i < 16; i++)
        r += (int64_t)v[i] * (i + 1);
    *out = r;
    return FERRY_OK;
}

static ferry_status mix(int8_t a, int16_t b, int32_t c, int64_t d, uint8_t e, uint16_t f,
                        uint32_t g, uint64_t h, int64_t *out)
{
    *out = (int64_t)a + (int64_t)b + (int64_t)c + d + (int64_t)e + (int64_t)f + (int64_t)g +
           (int64_t)h;
    return FERRY_OK;
}

/* floats and integers interleaved: a libffi layout test */
static ferry_status fmix(float a, double b, int32_t c, float d, double e, bool f, double *out)
{
    double r = (double)a + b * 2.0 + (double)c * 3.0 + (double)d * 4.0 + e * 5.0;
    *out = f ? -r : r;
    return FERRY_OK;
}

#define CPLUG_ID(NAME, T)                                                                          \
    static ferry_status NAME(T v, T *out)                                                          \
    {                                                                                              \
        *out = v;                                                                                  \
        return FERRY_OK;                                                                           \
    }
CPLUG_ID(id_i8, int8_t)
CPLUG_ID(id_i16, int16_t)
CPLUG_ID(id_i32, int32_t)
CPLUG_ID(id_i64, int64_t)
CPLUG_ID(id_u8, uint8_t)
CPLUG_ID(id_u16, uint16_t)
CPLUG_ID(id_u32, uint32_t)
CPLUG_ID(id_u64, uint64_t)
CPLUG_ID(id_f32, float)
CPLUG_ID(id_f64, double)
CPLUG_ID(id_bool, bool)
#undef CPLUG_ID

/* A result str must stay valid while the plugin is open: static storage. */
static ferry_status echo(const char *s, const char **out)
{
    *out = strcmp(s, "ping") == 0 ? "pong" : "cplug";
    return FERRY_OK;
}

static ferry_status str_len(const char *s, uint64_t *out)
{
    *out = strlen(s);
    return FERRY_OK;
}

static ferry_status fail(int32_t code)
{
    char msg[64];
    snprintf(msg, sizeof msg, "fail was called with %d", (int)code);
    return ferry_report_error(FERRY_E_KIND, "fail", msg);
}

/* ------------------------------------------------------------------ */
/* Host objects                                                        */
/* ------------------------------------------------------------------ */

static ferry_status host_buffer_len(ferry_handle h, uint32_t *out)
{
    const ferry_type *t = ferry_type_find(HOST_BUFFER_NAME);
    if (t == NULL)
        return not_registered("host_buffer_len", HOST_BUFFER_NAME);
    const void *obj;
    ferry_status s = ferry_borrow(h, t, &obj);
    if (s != FERRY_OK)
        return s;
    uint32_t len = ((const host_buffer *)obj)->len;
    s = ferry_unborrow(h);
    if (s != FERRY_OK)
        return s;
    *out = len;
    return FERRY_OK;
}

static ferry_status host_buffer_drop(ferry_handle h)
{
    return ferry_drop(h);
}

static ferry_status shared_get(ferry_handle h, int32_t *out)
{
    const ferry_type *t = ferry_type_find(HOST_SHARED_NAME);
    if (t == NULL)
        return not_registered("shared_get", HOST_SHARED_NAME);
    const void *obj;
    ferry_status s = ferry_borrow(h, t, &obj);
    if (s != FERRY_OK)
        return s;
    int32_t v = ((const host_shared *)obj)->value;
    s = ferry_unborrow(h);
    if (s != FERRY_OK)
        return s;
    *out = v;
    return FERRY_OK;
}

static ferry_status shared_set(ferry_handle h, int32_t v)
{
    const ferry_type *t = ferry_type_find(HOST_SHARED_NAME);
    if (t == NULL)
        return not_registered("shared_set", HOST_SHARED_NAME);
    void *obj;
    ferry_status s = ferry_borrow_mut(h, t, &obj);
    if (s != FERRY_OK)
        return s;
    ((host_shared *)obj)->value = v;
    return ferry_unborrow(h);
}

static ferry_status shared_drop(ferry_handle h)
{
    return ferry_drop(h);
}

/* ------------------------------------------------------------------ */
/* The gate: a call that runs until another thread lets it return      */
/* ------------------------------------------------------------------ */

static atomic_uint gate_waiting;
static atomic_bool gate_is_open;

static ferry_status gate_wait(void)
{
    atomic_fetch_add(&gate_waiting, 1);
    /* at most ~120 s, so a broken test cannot hang forever */
    bool opened = false;
    for (int i = 0; i < 120000 && !(opened = atomic_load(&gate_is_open)); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_sub(&gate_waiting, 1);
    if (!opened)
        return ferry_report_error(FERRY_E_BUSY, "gate_wait", "the gate never opened");
    return FERRY_OK;
}

static ferry_status gate_hold(ferry_handle h)
{
    (void)h; /* the host keeps it alive for the call */
    return gate_wait();
}

static ferry_status gate_state(uint32_t *out)
{
    *out = atomic_load(&gate_waiting);
    return FERRY_OK;
}

static ferry_status gate_open(void)
{
    atomic_store(&gate_is_open, true);
    return FERRY_OK;
}

static ferry_status gate_close(void)
{
    atomic_store(&gate_is_open, false);
    return FERRY_OK;
}

/* ------------------------------------------------------------------ */
/* Results and arguments the host must check                           */
/* ------------------------------------------------------------------ */

/* Each returns the handle it was only lent as its own<T> result. */
static ferry_status steal_buffer(ferry_handle lent, ferry_handle *out)
{
    *out = lent;
    return FERRY_OK;
}

static ferry_status steal_buffer_mut(ferry_handle lent, ferry_handle *out)
{
    *out = lent;
    return FERRY_OK;
}

static ferry_status steal_as_counter(ferry_handle lent, ferry_handle *out)
{
    *out = lent; /* a host.Buffer, and only lent */
    return FERRY_OK;
}

/* A c.Counter the plugin lends (it keeps the object): no unit to give. */
static c_counter lent_counter = {COUNTER_MAGIC_LIVE, 77};
static _Atomic uint64_t lent_last;

static ferry_status lend_result(ferry_handle *out)
{
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    if (t == NULL)
        return not_registered("lend_result", COUNTER_NAME);
    ferry_handle h;
    ferry_status s = ferry_lend(t, &lent_counter, &h);
    if (s != FERRY_OK)
        return s;
    atomic_store(&lent_last, h.bits);
    *out = h;
    return FERRY_OK;
}

static ferry_status lent_bits(uint64_t *out)
{
    *out = atomic_load(&lent_last);
    return FERRY_OK;
}

static ferry_status lent_revoke(void)
{
    ferry_handle h = {atomic_exchange(&lent_last, 0)};
    return ferry_revoke(h);
}

/* Declared (bool) -> u8: the entry takes the byte as it arrives. */
static ferry_status bool_byte(uint8_t b, uint8_t *out)
{
    *out = b;
    return FERRY_OK;
}

/* Declared () -> bool: writes a byte no C bool may hold. */
static ferry_status bool_seven(uint8_t *out)
{
    *out = 7;
    return FERRY_OK;
}

static ferry_status null_str(const char **out)
{
    *out = NULL;
    return FERRY_OK;
}

static ferry_status latin1_str(const char **out)
{
    *out = "caf\xe9";
    return FERRY_OK;
}

static ferry_status take2(ferry_handle a, ferry_handle b)
{
    ferry_status sa = ferry_drop(a);
    ferry_status sb = ferry_drop(b);
    return sa != FERRY_OK ? sa : sb;
}

static ferry_status take_peek(ferry_handle lent, ferry_handle owned, uint32_t *out)
{
    uint32_t len;
    ferry_status s = host_buffer_len(lent, &len);
    ferry_status d = ferry_drop(owned);
    if (s != FERRY_OK)
        return s;
    if (d != FERRY_OK)
        return d;
    *out = len;
    return FERRY_OK;
}

/* ------------------------------------------------------------------ */
/* The descriptor                                                      */
/* ------------------------------------------------------------------ */

#ifdef CPLUG_UNRESOLVED
/* Defined nowhere: the loader cannot bind this data relocation, even lazily. */
extern int ferry_test_missing_symbol;
CPLUG_EXPORT int *cplug_unresolved = &ferry_test_missing_symbol;
#endif

#ifdef CPLUG_DUPLICATE_TYPE
static void fake_buffer_release(void *obj)
{
    free(obj);
}
#endif

static const ferry_type_desc cplug_types[] = {
    {
        .name = COUNTER_NAME,
        .flags = FERRY_SEND | FERRY_SYNC,
        .release = counter_release,
        .size = sizeof(c_counter),
        .align = _Alignof(c_counter),
    },
#ifdef CPLUG_TYPE_TWICE
    /* the same name twice in the plugin's own list */
    {
        .name = COUNTER_NAME,
        .flags = FERRY_SEND,
        .release = counter_release,
    },
#endif
#ifdef CPLUG_DUPLICATE_TYPE
    /* the host registered host.Buffer with its own destructor */
    {
        .name = HOST_BUFFER_NAME,
        .flags = FERRY_SEND | FERRY_SYNC,
        .release = fake_buffer_release,
        .size = sizeof(host_buffer),
        .align = _Alignof(host_buffer),
    },
#endif
};

#define FN(name, sig, doc)                                                                         \
    {                                                                                              \
#name, sig, (void (*)(void))name, doc                                                      \
    }

static const ferry_plugin_function cplug_functions[] = {
    FN(counter_new, "(i64) -> own<c.Counter>", "a new counter holding the value"),
    FN(counter_get, "(ref<c.Counter>) -> i64", "the counter's value"),
    FN(counter_add, "(mut<c.Counter>, i64)", "adds to the counter"),
    FN(counter_free, "(own<c.Counter>)", "drops the counter"),
    FN(released, "() -> u64", "c.Counter objects released so far"),
    FN(consume_fail, "(own<c.Counter>)", "drops the counter, then fails"),
    FN(bad_result, "() -> own<c.Counter>", "returns bits that are no handle"),
    FN(stale_result, "() -> own<c.Counter>", "returns a dropped handle"),
    FN(buffer_as_counter, "(own<host.Buffer>) -> own<c.Counter>",
       "returns the buffer it got, as if it were a counter"),
    FN(sum3, "(i32, i32, i32) -> i64", "a + b + c"),
    FN(sum16,
       "(i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32) -> i64",
       "sum of (i + 1) * a_i"),
    FN(mix, "(i8, i16, i32, i64, u8, u16, u32, u64) -> i64", "the sum of all eight"),
    FN(fmix, "(f32, f64, i32, f32, f64, bool) -> f64", "a + 2b + 3c + 4d + 5e, negated if f"),
    FN(id_i8, "(i8) -> i8", NULL),
    FN(id_i16, "(i16) -> i16", NULL),
    FN(id_i32, "(i32) -> i32", NULL),
    FN(id_i64, "(i64) -> i64", NULL),
    FN(id_u8, "(u8) -> u8", NULL),
    FN(id_u16, "(u16) -> u16", NULL),
    FN(id_u32, "(u32) -> u32", NULL),
    FN(id_u64, "(u64) -> u64", NULL),
    FN(id_f32, "(f32) -> f32", NULL),
    FN(id_f64, "(f64) -> f64", NULL),
    FN(id_bool, "(bool) -> bool", NULL),
    FN(echo, "(str) -> str", "\"pong\" for \"ping\", else \"cplug\""),
    FN(str_len, "(str) -> u64", "the string's length in bytes"),
    FN(fail, "(i32)", "fails with FERRY_E_KIND"),
    FN(host_buffer_len, "(ref<host.Buffer>) -> u32", "the buffer's len"),
    FN(host_buffer_drop, "(own<host.Buffer>)", "drops the host's buffer"),
    FN(shared_get, "(ref<host.Shared>) -> i32", "the shared object's value"),
    FN(shared_set, "(mut<host.Shared>, i32)", "sets the shared object's value"),
    FN(shared_drop, "(own<host.Shared>)", "drops one unit of the shared object"),
    FN(gate_wait, "()", "returns when the gate opens"),
    FN(gate_hold, "(ref<c.Counter>)", "returns when the gate opens"),
    FN(gate_state, "() -> u32", "calls waiting at the gate"),
    FN(gate_open, "()", "opens the gate"),
    FN(gate_close, "()", "closes the gate"),
    FN(steal_buffer, "(ref<host.Buffer>) -> own<host.Buffer>", "returns the buffer it was lent"),
    FN(steal_buffer_mut, "(mut<host.Buffer>) -> own<host.Buffer>",
       "returns the buffer it was lent mutably"),
    FN(steal_as_counter, "(ref<host.Buffer>) -> own<c.Counter>",
       "returns the buffer it was lent, as if it were a counter"),
    FN(lend_result, "() -> own<c.Counter>", "returns a handle the plugin only lends"),
    FN(lent_bits, "() -> u64", "the bits of the last lend_result handle"),
    FN(lent_revoke, "()", "revokes the last lend_result handle"),
    FN(bool_byte, "(bool) -> u8", "the byte the bool argument arrived as"),
    FN(bool_seven, "() -> bool", "returns the byte 7 as a bool"),
    FN(null_str, "() -> str", "returns a NULL string"),
    FN(latin1_str, "() -> str", "returns a string that is not UTF-8"),
    FN(take2, "(own<host.Buffer>, own<host.Buffer>)", "drops both buffers"),
    FN(take_peek, "(ref<host.Buffer>, own<host.Buffer>) -> u32",
       "the first buffer's len; drops the second"),
#ifdef CPLUG_BAD_SIGNATURE
    {"bad_sig", "(i33) -> u8", (void (*)(void))id_u8, "a kind that does not exist"},
#endif
#ifdef CPLUG_BAD_NAME
    {"bad-name", "(u8) -> u8", (void (*)(void))id_u8, "not an identifier"},
#endif
#ifdef CPLUG_NULL_ENTRY
    {"no_entry", "(u8) -> u8", NULL, "a function without an entry point"},
#endif
#ifdef CPLUG_DUPLICATE_FUNCTION
    FN(sum3, "(i32, i32, i32) -> i64", "sum3 again"),
#endif
};

#undef FN

#ifdef CPLUG_NO_DESCRIPTOR
#define CPLUG_DESCRIPTOR_SYMBOL cplug_descriptor_under_another_name
#else
#define CPLUG_DESCRIPTOR_SYMBOL ferry_plugin_descriptor
#endif

CPLUG_EXPORT const ferry_plugin_desc CPLUG_DESCRIPTOR_SYMBOL = {
#ifdef CPLUG_BAD_MAGIC
    .magic = UINT64_C(0x474C505952524546) ^ UINT64_C(0xff00000000000000), /* "FERRYPL?" */
#else
    .magic = FERRY_PLUGIN_MAGIC,
#endif
#ifdef CPLUG_BAD_ABI
    .abi_version = 999,
#else
    .abi_version = FERRY_PLUGIN_ABI_VERSION,
#endif
#ifdef CPLUG_BAD_FLAGS
    .flags = FERRY_PLUGIN_UNLOADABLE | 0x80u, /* a flag this ABI does not define */
#else
    .flags = FERRY_PLUGIN_UNLOADABLE,
#endif
    .name = "cplug",
    .version = "1.0.0",
#ifdef CPLUG_NULL_TABLE_ID
    .table_id = NULL,
#else
    .table_id = ferry_table_id,
#endif
    .types = cplug_types,
    .ntypes = sizeof cplug_types / sizeof cplug_types[0],
    .nfunctions = sizeof cplug_functions / sizeof cplug_functions[0],
    .functions = cplug_functions,
};
