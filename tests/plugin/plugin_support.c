/* plugin_support.c — see plugin_support.h. */
#include "plugin_support.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* host.Buffer                                                         */
/* ------------------------------------------------------------------ */

#define BUFFER_DEAD_LEN UINT32_C(0xdeadbeef)

static atomic_long buffers_destroyed;
static atomic_long buffers_bad;

static void host_buffer_release(void *obj)
{
    host_buffer *b = obj;
    if (b == NULL || b->len > HOST_BUFFER_CAPACITY) {
        atomic_fetch_add(&buffers_bad, 1);
        return;
    }
    b->len = BUFFER_DEAD_LEN;
    free(b);
    atomic_fetch_add(&buffers_destroyed, 1);
}

long host_buffers_destroyed(void)
{
    return atomic_load(&buffers_destroyed);
}

long host_buffers_bad(void)
{
    return atomic_load(&buffers_bad);
}

host_buffer *host_buffer_new(uint32_t len)
{
    ck_assert_uint_le(len, HOST_BUFFER_CAPACITY);
    host_buffer *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->len = len;
    for (uint32_t i = 0; i < len; i++)
        b->bytes[i] = (uint8_t)i;
    return b;
}

ferry_handle host_buffer_handle(uint32_t len)
{
    ferry_handle h = FERRY_NULL_HANDLE;
    host_buffer *b = host_buffer_new(len);
    ferry_status s = ferry_box(host_buffer_type(), b, &h);
    ck_assert_msg(s == FERRY_OK, "ferry_box(host.Buffer): %s", ferry_last_error());
    return h;
}

/* ------------------------------------------------------------------ */
/* host.Shared                                                         */
/* ------------------------------------------------------------------ */

#define SHARED_LIVE UINT64_C(0x5348415245444c56)
#define SHARED_DEAD UINT64_C(0x5348415245444444)

static atomic_long shared_destroyed;
static atomic_long shared_freed;
static atomic_long shared_bad;

static void shared_weak_dec(host_shared *s)
{
    if (atomic_fetch_sub(&s->weak, 1) == 1) {
        s->magic = SHARED_DEAD;
        free(s);
        atomic_fetch_add(&shared_freed, 1);
    }
}

static void shared_release(void *obj)
{
    host_shared *s = obj;
    if (s == NULL || s->magic != SHARED_LIVE) {
        atomic_fetch_add(&shared_bad, 1);
        return;
    }
    long before = atomic_fetch_sub(&s->strong, 1);
    if (before <= 0) {
        atomic_fetch_add(&shared_bad, 1);
        return;
    }
    if (before == 1) {
        atomic_fetch_add(&shared_destroyed, 1);
        shared_weak_dec(s);
    }
}

static void *shared_retain(void *obj)
{
    host_shared *s = obj;
    if (atomic_fetch_add(&s->strong, 1) <= 0)
        atomic_fetch_add(&shared_bad, 1);
    return s;
}

static void *shared_downgrade(void *obj)
{
    host_shared *s = obj;
    atomic_fetch_add(&s->weak, 1);
    return s;
}

static void *shared_upgrade(void *weak)
{
    host_shared *s = weak;
    long n = atomic_load(&s->strong);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&s->strong, &n, n + 1))
            return s;
    }
    return NULL;
}

static void shared_release_weak(void *weak)
{
    shared_weak_dec(weak);
}

long host_shared_destroyed(void)
{
    return atomic_load(&shared_destroyed);
}

long host_shared_freed(void)
{
    return atomic_load(&shared_freed);
}

long host_shared_bad(void)
{
    return atomic_load(&shared_bad);
}

host_shared *host_shared_new(int32_t value)
{
    host_shared *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->magic = SHARED_LIVE;
    atomic_init(&s->strong, 1);
    atomic_init(&s->weak, 1);
    s->value = value;
    return s;
}

long host_shared_strong(const host_shared *s)
{
    return atomic_load(&((host_shared *)s)->strong);
}

/* ------------------------------------------------------------------ */
/* Registration                                                        */
/* ------------------------------------------------------------------ */

static const ferry_type_desc buffer_desc = {
    .name = HOST_BUFFER_NAME,
    /* plain data: the imaging plugin reads it through its layout */
    .flags = FERRY_SEND | FERRY_SYNC | FERRY_PLAIN,
    .release = host_buffer_release,
    .size = sizeof(host_buffer),
    .align = _Alignof(host_buffer),
};

static const ferry_type_desc shared_desc = {
    .name = HOST_SHARED_NAME,
    .flags = FERRY_SEND | FERRY_SYNC,
    .release = shared_release,
    .retain = shared_retain,
    .downgrade = shared_downgrade,
    .upgrade = shared_upgrade,
    .release_weak = shared_release_weak,
    .size = sizeof(host_shared),
    .align = _Alignof(host_shared),
};

static const ferry_type *buffer_t;
static const ferry_type *shared_t;

void host_types_init(void)
{
    ferry_status s = ferry_type_register(&buffer_desc, &buffer_t);
    ck_assert_msg(s == FERRY_OK, "register host.Buffer: %s", ferry_last_error());
    s = ferry_type_register(&shared_desc, &shared_t);
    ck_assert_msg(s == FERRY_OK, "register host.Shared: %s", ferry_last_error());
}

const ferry_type *host_buffer_type(void)
{
    return buffer_t;
}

const ferry_type *host_shared_type(void)
{
    return shared_t;
}

/* ------------------------------------------------------------------ */
/* Opening and calling                                                 */
/* ------------------------------------------------------------------ */

#define MAX_OPEN 16
static ferry_plugin *open_plugins[MAX_OPEN];
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static void remember(ferry_plugin *p)
{
    pthread_mutex_lock(&open_lock);
    for (int i = 0; i < MAX_OPEN; i++) {
        if (open_plugins[i] == NULL) {
            open_plugins[i] = p;
            break;
        }
    }
    pthread_mutex_unlock(&open_lock);
}

void plug_forget(ferry_plugin *p)
{
    pthread_mutex_lock(&open_lock);
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_plugins[i] == p)
            open_plugins[i] = NULL;
    pthread_mutex_unlock(&open_lock);
}

ferry_plugin *plug_open_at(const char *path, const char *file, int line)
{
    ferry_plugin *p = NULL;
    ferry_status s = ferry_plugin_open(path, &p);
    ck_assert_msg(s == FERRY_OK, "%s:%d: ferry_plugin_open(%s): %s (%s)", file, line, path,
                  ferry_status_name(s), ferry_last_error());
    ck_assert_msg(p != NULL, "%s:%d: ferry_plugin_open returned OK and NULL", file, line);
    remember(p);
    return p;
}

void plug_close_at(ferry_plugin *p, const char *file, int line)
{
    ferry_status s = ferry_plugin_close(p);
    ck_assert_msg(s == FERRY_OK, "%s:%d: ferry_plugin_close: %s (%s)", file, line,
                  ferry_status_name(s), ferry_last_error());
    plug_forget(p);
}

void plug_case_teardown(void)
{
    pthread_mutex_lock(&open_lock);
    for (int i = 0; i < MAX_OPEN; i++) {
        if (open_plugins[i] != NULL) {
            if (ferry_plugin_close(open_plugins[i]) != FERRY_OK)
                fprintf(stderr, "teardown: a plugin stays open: %s\n", ferry_last_error());
            open_plugins[i] = NULL;
        }
    }
    pthread_mutex_unlock(&open_lock);
    ferry_set_error_policy(FERRY_POLICY_RETURN);
}

ferry_value call_ok_at(ferry_plugin *p, const char *name, const ferry_value *args, size_t nargs,
                       const char *file, int line)
{
    ferry_value r;
    memset(&r, 0xa5, sizeof r);
    ferry_status s = ferry_plugin_call(p, name, args, nargs, &r);
    require(s == FERRY_OK, "%s:%d: ferry_plugin_call(%s): %s (%s)", file, line, name,
            ferry_status_name(s), ferry_last_error());
    return r;
}

#define VALUE_GETTER(fn, T, K, field)                                                              \
    T fn(ferry_value v, const char *file, int line)                                                \
    {                                                                                              \
        require(v.kind == K, "%s:%d: result kind %s, expected %s", file, line,                     \
                ferry_value_kind_name(v.kind), ferry_value_kind_name(K));                          \
        return v.as.field;                                                                         \
    }
VALUE_GETTER(value_i64_at, int64_t, FERRY_VALUE_I64, i64)
VALUE_GETTER(value_u64_at, uint64_t, FERRY_VALUE_U64, u64)
VALUE_GETTER(value_u32_at, uint32_t, FERRY_VALUE_U32, u32)
VALUE_GETTER(value_own_at, ferry_handle, FERRY_VALUE_OWNED, handle)
#undef VALUE_GETTER

uint64_t cplug_released(ferry_plugin *p)
{
    return value_u64(call_ok(p, "released", NOARGS));
}

ferry_handle cplug_counter(ferry_plugin *p, int64_t v)
{
    return value_own(call_ok(p, "counter_new", ARGS(ferry_value_i64(v))));
}

int64_t cplug_get(ferry_plugin *p, ferry_handle h)
{
    return value_i64(call_ok(p, "counter_get", ARGS(ferry_value_borrowed(h))));
}

/* ------------------------------------------------------------------ */
/* Assertions                                                          */
/* ------------------------------------------------------------------ */

void expect_status_at(ferry_status got, ferry_status want, const char *what, const char *file,
                      int line)
{
    require(got == want, "%s:%d: %s: expected %s, got %s (%s)", file, line, what,
            ferry_status_name(want), ferry_status_name(got),
            got == FERRY_OK ? "" : ferry_last_error());
}

static void expect_message_at(ferry_status want, const char *msg, const char *what,
                              const char *file, int line, const char *const *needles)
{
    const char *name = ferry_status_name(want);
    require(strncmp(msg, name, strlen(name)) == 0 && msg[strlen(name)] == ':',
            "%s:%d: %s: message should start with \"%s:\": \"%s\"", file, line, what, name, msg);
    for (; *needles; needles++)
        require(strstr(msg, *needles) != NULL, "%s:%d: %s: message should contain \"%s\": \"%s\"",
                file, line, what, *needles, msg);
}

void expect_fail_at(ferry_status got, ferry_status want, const char *what, const char *file,
                    int line, const char *const *needles)
{
    expect_status_at(got, want, what, file, line);
    expect_message_at(want, ferry_last_error(), what, file, line, needles);
}

void record_at(outcome *o, ferry_status s, const char *what, const char *file, int line)
{
    o->status = s;
    snprintf(o->message, sizeof o->message, "%s", s == FERRY_OK ? "" : ferry_last_error());
    o->what = what;
    o->file = file;
    o->line = line;
}

void expect_recorded_at(const outcome *o, ferry_status want, const char *const *needles)
{
    require(o->status == want, "%s:%d: %s: expected %s, got %s (%s)", o->file, o->line, o->what,
            ferry_status_name(want), ferry_status_name(o->status), o->message);
    expect_message_at(want, o->message, o->what, o->file, o->line, needles);
}

void msg_has_at(const char *needle, const char *file, int line)
{
    const char *msg = ferry_last_error();
    require(strstr(msg, needle) != NULL, "%s:%d: message should contain \"%s\": \"%s\"", file, line,
            needle, msg);
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

ferry_counts ledger_of(const ferry_type *t)
{
    ferry_counts c;
    memset(&c, 0, sizeof c);
    ferry_status s = ferry_ledger(t, &c);
    ck_assert_msg(s == FERRY_OK, "ferry_ledger: %s", ferry_last_error());
    return c;
}

void counts_assert_balanced_at(const ferry_counts *c, const char *file, int line)
{
    uint64_t in = c->created + c->cloned;
    uint64_t out = c->taken + c->dropped_by_c + c->dropped_by_rust + c->live;
    require(in == out,
            "%s:%d: ledger unbalanced: created %" PRIu64 " + cloned %" PRIu64 " != taken %" PRIu64
            " + dropped_by_c %" PRIu64 " + dropped_by_rust %" PRIu64 " + live %" PRIu64,
            file, line, c->created, c->cloned, c->taken, c->dropped_by_c, c->dropped_by_rust,
            c->live);
}

void snap_take(snap *s, ferry_plugin *p)
{
    memset(s, 0, sizeof *s);
    s->all = ledger_of(NULL);
    const ferry_type *ct = ferry_type_find(COUNTER_NAME);
    if (ct)
        s->counter = ledger_of(ct);
    s->buffer = ledger_of(host_buffer_type());
    s->shared = ledger_of(host_shared_type());
    s->live = ferry_live();
    s->counter_released = p ? cplug_released(p) : 0;
    s->buffers_destroyed = host_buffers_destroyed();
    s->shared_destroyed = host_shared_destroyed();
    s->shared_freed = host_shared_freed();
}

#define CMP_FIELD(a, b, field, what)                                                               \
    require((a)->field == (b)->field, "%s:%d: %s.%s changed: %" PRIu64 " -> %" PRIu64, file, line, \
            what, #field, (uint64_t)(a)->field, (uint64_t)(b)->field)

static void counts_cmp(const ferry_counts *a, const ferry_counts *b, const char *what,
                       const char *file, int line)
{
    CMP_FIELD(a, b, created, what);
    CMP_FIELD(a, b, cloned, what);
    CMP_FIELD(a, b, borrows, what);
    CMP_FIELD(a, b, handoffs, what);
    CMP_FIELD(a, b, taken, what);
    CMP_FIELD(a, b, dropped_by_c, what);
    CMP_FIELD(a, b, dropped_by_rust, what);
    CMP_FIELD(a, b, live, what);
    CMP_FIELD(a, b, revoked, what);
}

void snap_assert_eq_at(const snap *a, const snap *b, const char *file, int line)
{
    counts_cmp(&a->all, &b->all, "all-types ledger", file, line);
    counts_cmp(&a->counter, &b->counter, "c.Counter ledger", file, line);
    counts_cmp(&a->buffer, &b->buffer, "host.Buffer ledger", file, line);
    counts_cmp(&a->shared, &b->shared, "host.Shared ledger", file, line);
    CMP_FIELD(a, b, live, "ferry_live()");
    CMP_FIELD(a, b, counter_released, "cplug");
    CMP_FIELD(a, b, buffers_destroyed, "host");
    CMP_FIELD(a, b, shared_destroyed, "host");
    CMP_FIELD(a, b, shared_freed, "host");
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

long scaled(long n)
{
    const char *s = getenv("FERRY_TEST_SCALE");
    long div = s ? strtol(s, NULL, 10) : 1;
    if (div < 1)
        div = 1;
    long r = n / div;
    return r < 1 ? 1 : r;
}

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
