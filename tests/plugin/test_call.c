/*
 * test_call.c — ferry_plugin_call against the C test plugin.
 *
 * Every way a call can be refused before the plugin runs (with its status,
 * its message, and nothing changed: ledgers, live handles, destructor
 * counts, the handle still live), own<T> moving the caller's handle, checked
 * results, plugin errors, every scalar kind through libffi, and ownership
 * round trips host -> plugin -> host with exact destructor counts.
 */
#include "plugin_support.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static ferry_plugin *P;

static void setup(void)
{
    host_types_init();
    P = plug_open(PLUG_CPLUG);
}

/* Every case ends what it made: the plugin must close. */
static void teardown(void)
{
    ferry_status s = FERRY_OK;
    if (P) {
        s = ferry_plugin_close(P);
        if (s == FERRY_OK)
            plug_forget(P);
        P = NULL;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", s == FERRY_OK ? "" : ferry_last_error());
    plug_case_teardown();
    ck_assert_msg(s == FERRY_OK, "the case left the plugin busy: %s", msg);
}

/* A refused call: status, message (status, needles), nothing changed, *ret
 * untouched. */
static void expect_refused_at(const char *fn, const ferry_value *args, size_t nargs,
                              ferry_status want, const char *const *needles, const char *file,
                              int line)
{
    snap before, after;
    snap_take(&before, P);
    ferry_value r;
    memset(&r, 0x5a, sizeof r);
    ferry_value r0 = r;
    char what[128];
    snprintf(what, sizeof what, "ferry_plugin_call(%s)", fn ? fn : "NULL");
    expect_fail_at(ferry_plugin_call(P, fn, args, nargs, &r), want, what, file, line, needles);
    require(memcmp(&r, &r0, sizeof r) == 0, "%s:%d: %s: *ret written by a refused call", file, line,
            what);
    snap_take(&after, P);
    snap_assert_eq_at(&before, &after, file, line);
}
#define expect_refused(fn, args, want, ...)                                                        \
    expect_refused_at((fn), args, (want), (const char *const[]){__VA_ARGS__, NULL}, __FILE__,      \
                      __LINE__)

static void expect_live_at(ferry_handle h, const ferry_type *t, const char *file, int line)
{
    ferry_status s = ferry_check(h, t);
    require(s == FERRY_OK, "%s:%d: handle should still be live: %s (%s)", file, line,
            ferry_status_name(s), ferry_last_error());
}
#define expect_live(h, t) expect_live_at((h), (t), __FILE__, __LINE__)

static const ferry_type *counter_t(void)
{
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* ------------------------------------------------------------------ */
/* Refused before the call                                             */
/* ------------------------------------------------------------------ */

START_TEST(call_unknown_function)
{
    expect_refused("nope", NOARGS, FERRY_E_SIGNATURE, "ferry_plugin_call", "nope");
    expect_refused("sum", ARGS(ferry_value_i32(1)), FERRY_E_SIGNATURE, "sum");
    expect_refused("", NOARGS, FERRY_E_SIGNATURE, "ferry_plugin_call");
    expect_refused(NULL, NOARGS, FERRY_E_NULL, "ferry_plugin_call");
}
END_TEST

START_TEST(call_wrong_count)
{
    expect_refused("sum3", ARGS(ferry_value_i32(1), ferry_value_i32(2)), FERRY_E_SIGNATURE, "sum3",
                   "3", "2");
    expect_refused(
        "sum3",
        ARGS(ferry_value_i32(1), ferry_value_i32(2), ferry_value_i32(3), ferry_value_i32(4)),
        FERRY_E_SIGNATURE, "sum3", "3", "4");
    expect_refused("sum3", NOARGS, FERRY_E_SIGNATURE, "sum3", "3", "0");
    expect_refused("released", ARGS(ferry_value_i32(1)), FERRY_E_SIGNATURE, "released");
    /* a count without an array */
    expect_refused("sum3", RAW_ARGS(NULL, 3), FERRY_E_NULL, "ferry_plugin_call");
}
END_TEST

START_TEST(call_wrong_tag_scalar)
{
    /* an i32 is not accepted for an i64, nor the other way round */
    expect_refused("counter_new", ARGS(ferry_value_i32(1)), FERRY_E_SIGNATURE, "i64", "i32");
    expect_refused("sum3", ARGS(ferry_value_i32(1), ferry_value_i64(2), ferry_value_i32(3)),
                   FERRY_E_SIGNATURE, "i32", "i64");
    expect_refused("id_u8", ARGS(ferry_value_i8(1)), FERRY_E_SIGNATURE, "u8", "i8");
    expect_refused("id_f32", ARGS(ferry_value_f64(1.0)), FERRY_E_SIGNATURE, "f32", "f64");
    expect_refused("id_bool", ARGS(ferry_value_i32(1)), FERRY_E_SIGNATURE, "bool", "i32");
    expect_refused("echo", ARGS(ferry_value_i64(0)), FERRY_E_SIGNATURE, "str", "i64");
    expect_refused("id_u64", ARGS(ferry_value_u32(1)), FERRY_E_SIGNATURE, "u64", "u32");
    ferry_value v = ferry_value_i32(0);
    v.kind = FERRY_VALUE_VOID;
    expect_refused("id_i32", RAW_ARGS(&v, 1), FERRY_E_SIGNATURE, "id_i32");
    v.kind = (ferry_value_kind)77;
    expect_refused("id_i32", RAW_ARGS(&v, 1), FERRY_E_SIGNATURE, "id_i32");
    /* a handle where a scalar goes */
    ferry_handle h = cplug_counter(P, 1);
    expect_refused("id_u64", ARGS(ferry_value_borrowed(h)), FERRY_E_SIGNATURE, "u64");
    expect_refused("id_u64", ARGS(ferry_value_owned(h)), FERRY_E_SIGNATURE, "u64");
    expect_live(h, counter_t());
    call_ok(P, "counter_free", ARGS(ferry_value_owned(h)));
}
END_TEST

START_TEST(call_wrong_tag_handle)
{
    ferry_handle h = cplug_counter(P, 1);
    /* borrowed for own: the caller did not say it gives the handle away */
    expect_refused("counter_free", ARGS(ferry_value_borrowed(h)), FERRY_E_SIGNATURE, "own");
    expect_live(h, counter_t());
    /* owned for ref / mut: the handle must not move */
    expect_refused("counter_get", ARGS(ferry_value_owned(h)), FERRY_E_SIGNATURE, "ref");
    expect_live(h, counter_t());
    expect_refused("counter_add", ARGS(ferry_value_owned(h), ferry_value_i64(1)), FERRY_E_SIGNATURE,
                   "mut");
    expect_live(h, counter_t());
    /* a scalar where a handle goes */
    expect_refused("counter_get", ARGS(ferry_value_u64(h.bits)), FERRY_E_SIGNATURE, "u64");
    ck_assert_int_eq(cplug_get(P, h), 1);
    call_ok(P, "counter_free", ARGS(ferry_value_owned(h)));
}
END_TEST

START_TEST(call_null_str)
{
    expect_refused("echo", ARGS(ferry_value_str(NULL)), FERRY_E_NULL, "echo");
    expect_refused("str_len", ARGS(ferry_value_str(NULL)), FERRY_E_NULL, "str_len");
}
END_TEST

START_TEST(call_non_utf8_str)
{
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "ab\xfe",           /* never valid */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xe2\x82",         /* truncated euro sign */
        "\x80",             /* lone continuation byte */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "caf\xe9",          /* Latin-1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused("str_len", ARGS(ferry_value_str(bad[i])), FERRY_E_SIGNATURE, "UTF-8");
}
END_TEST

START_TEST(call_null_ret)
{
    snap before, after;
    snap_take(&before, P);
    expect_fail(ferry_plugin_call(P, "sum3",
                                  ARGS(ferry_value_i32(1), ferry_value_i32(2), ferry_value_i32(3)),
                                  NULL),
                FERRY_E_NULL, "sum3");
    /* counter_new must not have run: nothing was created */
    expect_fail(ferry_plugin_call(P, "counter_new", ARGS(ferry_value_i64(1)), NULL), FERRY_E_NULL,
                "counter_new");
    snap_take(&after, P);
    snap_assert_eq(&before, &after);

    /* a function without a result may be called without ret */
    ferry_handle h = cplug_counter(P, 1);
    expect_ok(ferry_plugin_call(P, "counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(2)),
                                NULL));
    ck_assert_int_eq(cplug_get(P, h), 3);
    /* and with one it answers VOID */
    ferry_value r = call_ok(P, "counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(2)));
    ck_assert_int_eq(r.kind, FERRY_VALUE_VOID);
    expect_ok(ferry_plugin_call(P, "counter_free", ARGS(ferry_value_owned(h)), NULL));
}
END_TEST

START_TEST(call_handle_null_invalid)
{
    ferry_handle null = FERRY_NULL_HANDLE;
    expect_refused("counter_get", ARGS(ferry_value_borrowed(null)), FERRY_E_NULL, "null handle");
    expect_refused("counter_add", ARGS(ferry_value_borrowed(null), ferry_value_i64(1)),
                   FERRY_E_NULL, "null handle");
    expect_refused("counter_free", ARGS(ferry_value_owned(null)), FERRY_E_NULL, "null handle");

    ferry_handle made_up = {UINT64_C(0x0123456789abcdef)};
    expect_refused("counter_get", ARGS(ferry_value_borrowed(made_up)), FERRY_E_INVALID,
                   "ferry_plugin_call");
    expect_refused("counter_free", ARGS(ferry_value_owned(made_up)), FERRY_E_INVALID,
                   "ferry_plugin_call");
}
END_TEST

START_TEST(call_handle_stale)
{
    ferry_handle h = cplug_counter(P, 1);
    expect_ok(ferry_drop(h));
    expect_refused("counter_get", ARGS(ferry_value_borrowed(h)), FERRY_E_STALE, COUNTER_NAME);
    expect_refused("counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(1)), FERRY_E_STALE,
                   COUNTER_NAME);
    expect_refused("counter_free", ARGS(ferry_value_owned(h)), FERRY_E_STALE, COUNTER_NAME);
}
END_TEST

START_TEST(call_handle_wrong_type)
{
    ferry_handle b = host_buffer_handle(3);
    ferry_handle c = cplug_counter(P, 1);
    expect_refused("counter_get", ARGS(ferry_value_borrowed(b)), FERRY_E_TYPE, COUNTER_NAME,
                   HOST_BUFFER_NAME);
    expect_refused("counter_add", ARGS(ferry_value_borrowed(b), ferry_value_i64(1)), FERRY_E_TYPE,
                   COUNTER_NAME, HOST_BUFFER_NAME);
    expect_refused("counter_free", ARGS(ferry_value_owned(b)), FERRY_E_TYPE, COUNTER_NAME,
                   HOST_BUFFER_NAME);
    expect_refused("host_buffer_len", ARGS(ferry_value_borrowed(c)), FERRY_E_TYPE, COUNTER_NAME,
                   HOST_BUFFER_NAME);
    expect_refused("host_buffer_drop", ARGS(ferry_value_owned(c)), FERRY_E_TYPE, COUNTER_NAME,
                   HOST_BUFFER_NAME);
    expect_live(b, host_buffer_type());
    expect_live(c, counter_t());
    long destroyed = host_buffers_destroyed();
    call_ok(P, "host_buffer_drop", ARGS(ferry_value_owned(b)));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    call_ok(P, "counter_free", ARGS(ferry_value_owned(c)));
}
END_TEST

START_TEST(call_handle_wrong_kind)
{
    const ferry_type *st = host_shared_type();
    host_shared *obj = host_shared_new(5);
    ferry_handle shared, weak, lent, lent_mut;
    expect_ok(ferry_share(st, obj, &shared));
    expect_ok(ferry_downgrade(shared, &weak));
    host_shared *lent_obj = host_shared_new(6);
    expect_ok(ferry_lend(st, lent_obj, &lent));
    expect_ok(ferry_lend_mut(st, lent_obj, &lent_mut));

    /* ref<T>: not weak */
    expect_refused("shared_get", ARGS(ferry_value_borrowed(weak)), FERRY_E_KIND, "weak");
    /* mut<T>: unique or lent mut only */
    expect_refused("shared_set", ARGS(ferry_value_borrowed(shared), ferry_value_i32(1)),
                   FERRY_E_KIND, "shared");
    expect_refused("shared_set", ARGS(ferry_value_borrowed(weak), ferry_value_i32(1)), FERRY_E_KIND,
                   "weak");
    expect_refused("shared_set", ARGS(ferry_value_borrowed(lent), ferry_value_i32(1)), FERRY_E_KIND,
                   "lent");
    /* own<T>: unique, shared or local only */
    expect_refused("shared_drop", ARGS(ferry_value_owned(weak)), FERRY_E_KIND, "weak");
    expect_refused("shared_drop", ARGS(ferry_value_owned(lent)), FERRY_E_KIND, "lent");
    expect_refused("shared_drop", ARGS(ferry_value_owned(lent_mut)), FERRY_E_KIND, "lent");
    expect_live(shared, st);
    expect_live(weak, st);
    expect_live(lent, st);
    expect_live(lent_mut, st);
    ck_assert_int_eq(host_shared_strong(obj), 1);

    /* what they do take */
    ck_assert_int_eq(call_ok(P, "shared_get", ARGS(ferry_value_borrowed(shared))).as.i32, 5);
    ck_assert_int_eq(call_ok(P, "shared_get", ARGS(ferry_value_borrowed(lent))).as.i32, 6);
    call_ok(P, "shared_set", ARGS(ferry_value_borrowed(lent_mut), ferry_value_i32(60)));
    ck_assert_int_eq(lent_obj->value, 60);

    expect_ok(ferry_revoke(lent));
    expect_ok(ferry_revoke(lent_mut));
    free(lent_obj);
    long destroyed = host_shared_destroyed(), freed = host_shared_freed();
    expect_ok(ferry_drop(shared));
    ck_assert_int_eq(host_shared_destroyed(), destroyed + 1);
    ck_assert_int_eq(host_shared_freed(), freed);
    expect_ok(ferry_drop(weak));
    ck_assert_int_eq(host_shared_freed(), freed + 1);
    ck_assert_int_eq(host_shared_bad(), 0);
}
END_TEST

START_TEST(call_handle_lent_counter_for_own)
{
    /* a c.Counter the host lends (after taking it out of its handle) cannot
     * be given away */
    const ferry_type *t = counter_t();
    ferry_handle h = cplug_counter(P, 4);
    void *obj;
    expect_ok(ferry_take(h, t, &obj));
    ferry_handle lent, lent_mut;
    expect_ok(ferry_lend(t, obj, &lent));
    expect_ok(ferry_lend_mut(t, obj, &lent_mut));
    expect_refused("counter_free", ARGS(ferry_value_owned(lent)), FERRY_E_KIND, "lent");
    expect_refused("counter_free", ARGS(ferry_value_owned(lent_mut)), FERRY_E_KIND, "lent");
    /* a plain lend is no mut<T> */
    expect_refused("counter_add", ARGS(ferry_value_borrowed(lent), ferry_value_i64(1)),
                   FERRY_E_KIND, "lent");
    /* but a ref<T> and, lent mutably, a mut<T> */
    ck_assert_int_eq(cplug_get(P, lent), 4);
    call_ok(P, "counter_add", ARGS(ferry_value_borrowed(lent_mut), ferry_value_i64(1)));
    ck_assert_int_eq(((c_counter *)obj)->value, 5);
    expect_ok(ferry_revoke(lent));
    expect_ok(ferry_revoke(lent_mut));
    /* give it back to the plugin */
    uint64_t released = cplug_released(P);
    ferry_handle again;
    expect_ok(ferry_box(t, obj, &again));
    call_ok(P, "counter_free", ARGS(ferry_value_owned(again)));
    ck_assert_uint_eq(cplug_released(P), released + 1);
}
END_TEST

START_TEST(call_handle_borrowed)
{
    const ferry_type *t = counter_t();
    ferry_handle h = cplug_counter(P, 8);
    /* borrowed exclusively: no ref<T>, no mut<T>, no own<T> */
    void *m;
    expect_ok(ferry_borrow_mut(h, t, &m));
    expect_refused("counter_get", ARGS(ferry_value_borrowed(h)), FERRY_E_BORROWED, COUNTER_NAME);
    expect_refused("counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(1)),
                   FERRY_E_BORROWED, COUNTER_NAME);
    expect_refused("counter_free", ARGS(ferry_value_owned(h)), FERRY_E_BORROWED, COUNTER_NAME);
    expect_ok(ferry_unborrow(h));
    /* borrowed shared: ref<T> yes, mut<T> and own<T> no */
    const void *c;
    expect_ok(ferry_borrow(h, t, &c));
    ck_assert_int_eq(cplug_get(P, h), 8);
    expect_refused("counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(1)),
                   FERRY_E_BORROWED, COUNTER_NAME);
    expect_refused("counter_free", ARGS(ferry_value_owned(h)), FERRY_E_BORROWED, COUNTER_NAME);
    expect_ok(ferry_unborrow(h));
    expect_live(h, t);
    /* and the handle's borrows are all ended: it can be dropped */
    call_ok(P, "counter_free", ARGS(ferry_value_owned(h)));
}
END_TEST

/* A local handle made on another thread. */
typedef struct local_job {
    ferry_handle h;
    atomic_int stage; /* 1: made, 2: main is done, 3: dropped */
    ferry_status made, dropped;
} local_job;

static void *local_thread(void *arg)
{
    local_job *j = arg;
    host_shared *obj = calloc(1, sizeof *obj);
    obj->magic = UINT64_C(0x5348415245444c56);
    atomic_init(&obj->strong, 1);
    atomic_init(&obj->weak, 1);
    obj->value = 31;
    j->made = ferry_local(host_shared_type(), obj, &j->h);
    atomic_store(&j->stage, 1);
    while (atomic_load(&j->stage) != 2)
        sleep_ms(1);
    j->dropped = ferry_drop(j->h);
    atomic_store(&j->stage, 3);
    return NULL;
}

START_TEST(call_handle_wrong_thread)
{
    local_job j = {.h = FERRY_NULL_HANDLE};
    atomic_init(&j.stage, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, local_thread, &j), 0);
    while (atomic_load(&j.stage) != 1)
        sleep_ms(1);
    ck_assert_int_eq(j.made, FERRY_OK);
    expect_refused("shared_get", ARGS(ferry_value_borrowed(j.h)), FERRY_E_THREAD, "thread",
                   HOST_SHARED_NAME);
    expect_refused("shared_drop", ARGS(ferry_value_owned(j.h)), FERRY_E_THREAD, "thread",
                   HOST_SHARED_NAME);
    long destroyed = host_shared_destroyed();
    atomic_store(&j.stage, 2);
    pthread_join(th, NULL);
    ck_assert_int_eq(j.dropped, FERRY_OK);
    ck_assert_int_eq(host_shared_destroyed(), destroyed + 1);
}
END_TEST

START_TEST(call_handle_refusals_name_the_function)
{
    /* a refused handle argument says which call it was refused for: with
     * several handle parameters, "handle was already dropped" alone does
     * not tell the user which one */
    ferry_handle null = FERRY_NULL_HANDLE;
    ferry_handle made_up = {UINT64_C(0x0123456789abcdef)};
    ferry_handle stale = cplug_counter(P, 1);
    expect_ok(ferry_drop(stale));
    ferry_handle b = host_buffer_handle(1);
    ferry_handle h = cplug_counter(P, 2);
    ferry_value r;
    outcome o[5];
    record(o[0], ferry_plugin_call(P, "counter_get", ARGS(ferry_value_borrowed(null)), &r));
    record(o[1], ferry_plugin_call(P, "counter_free", ARGS(ferry_value_owned(made_up)), &r));
    record(o[2], ferry_plugin_call(P, "counter_add",
                                   ARGS(ferry_value_borrowed(stale), ferry_value_i64(1)), &r));
    record(o[3], ferry_plugin_call(P, "counter_get", ARGS(ferry_value_borrowed(b)), &r));
    void *m;
    expect_ok(ferry_borrow_mut(h, counter_t(), &m));
    record(o[4], ferry_plugin_call(P, "counter_get", ARGS(ferry_value_borrowed(h)), &r));
    expect_ok(ferry_unborrow(h));
    expect_ok(ferry_drop(h));
    expect_ok(ferry_drop(b));

    expect_recorded(o[0], FERRY_E_NULL, "counter_get");
    expect_recorded(o[1], FERRY_E_INVALID, "counter_free");
    expect_recorded(o[2], FERRY_E_STALE, "counter_add");
    expect_recorded(o[3], FERRY_E_TYPE, "counter_get");
    expect_recorded(o[4], FERRY_E_BORROWED, "counter_get");
}
END_TEST

/* ------------------------------------------------------------------ */
/* own<T> moves the caller's handle                                    */
/* ------------------------------------------------------------------ */

START_TEST(call_own_moves_handle)
{
    const ferry_type *t = counter_t();
    ferry_handle h = cplug_counter(P, 2);
    uint64_t released = cplug_released(P);
    size_t live = ferry_live();
    call_ok(P, "counter_free", ARGS(ferry_value_owned(h)));
    ck_assert_uint_eq(cplug_released(P), released + 1);
    ck_assert_uint_eq(ferry_live(), live - 1);
    /* the stale handle says where it went (docs/plugin-abi.md) */
    expect_fail(ferry_check(h, t), FERRY_E_STALE, COUNTER_NAME, "moved into cplug.counter_free");
    /* passing it again fails before the call: nothing is released twice */
    expect_refused("counter_free", ARGS(ferry_value_owned(h)), FERRY_E_STALE, COUNTER_NAME,
                   "moved into cplug.counter_free");
    expect_refused("counter_get", ARGS(ferry_value_borrowed(h)), FERRY_E_STALE, COUNTER_NAME);
    expect_fail(ferry_drop(h), FERRY_E_STALE, COUNTER_NAME);
    ck_assert_uint_eq(cplug_released(P), released + 1);
}
END_TEST

START_TEST(call_own_moves_even_when_call_fails)
{
    const ferry_type *t = counter_t();
    ferry_handle h = cplug_counter(P, 2);
    uint64_t released = cplug_released(P);
    size_t live = ferry_live();
    ferry_value r;
    expect_fail(ferry_plugin_call(P, "consume_fail", ARGS(ferry_value_owned(h)), &r), FERRY_E_KIND,
                "consume_fail refuses on purpose");
    /* the callee owned the unit and gave it up; the caller's handle is stale */
    ck_assert_uint_eq(cplug_released(P), released + 1);
    ck_assert_uint_eq(ferry_live(), live - 1);
    expect_fail(ferry_check(h, t), FERRY_E_STALE, COUNTER_NAME);
    expect_refused("consume_fail", ARGS(ferry_value_owned(h)), FERRY_E_STALE, COUNTER_NAME);
    ledger_assert_balanced();
}
END_TEST

START_TEST(call_own_shared_unit)
{
    /* own<T> of a shared handle gives away one strong unit, not the object */
    const ferry_type *st = host_shared_type();
    host_shared *obj = host_shared_new(3);
    ferry_handle a, b;
    expect_ok(ferry_share(st, obj, &a));
    expect_ok(ferry_clone(a, &b));
    ck_assert_int_eq(host_shared_strong(obj), 2);
    long destroyed = host_shared_destroyed();
    call_ok(P, "shared_drop", ARGS(ferry_value_owned(b)));
    ck_assert_int_eq(host_shared_strong(obj), 1);
    ck_assert_int_eq(host_shared_destroyed(), destroyed);
    expect_fail(ferry_check(b, st), FERRY_E_STALE, HOST_SHARED_NAME);
    expect_live(a, st);
    ck_assert_int_eq(call_ok(P, "shared_get", ARGS(ferry_value_borrowed(a))).as.i32, 3);
    call_ok(P, "shared_drop", ARGS(ferry_value_owned(a)));
    ck_assert_int_eq(host_shared_destroyed(), destroyed + 1);
    ck_assert_int_eq(host_shared_bad(), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Checked results and plugin errors                                   */
/* ------------------------------------------------------------------ */

START_TEST(call_result_not_a_handle)
{
    snap before, after;
    snap_take(&before, P);
    ferry_value r;
    expect_fail(ferry_plugin_call(P, "bad_result", NOARGS, &r), FERRY_E_SIGNATURE, "bad_result");
    snap_take(&after, P);
    snap_assert_eq(&before, &after);
}
END_TEST

START_TEST(call_result_stale_handle)
{
    uint64_t released = cplug_released(P);
    size_t live = ferry_live();
    ferry_value r;
    expect_fail(ferry_plugin_call(P, "stale_result", NOARGS, &r), FERRY_E_SIGNATURE,
                "stale_result");
    ck_assert_uint_eq(cplug_released(P), released + 1);
    ck_assert_uint_eq(ferry_live(), live);
    ledger_assert_balanced();
}
END_TEST

START_TEST(call_result_wrong_type_is_dropped)
{
    /* the plugin returns the host.Buffer it got as an own<c.Counter>: the
     * host drops it (destructor exactly once) and fails the call */
    long destroyed = host_buffers_destroyed();
    size_t live = ferry_live();
    ferry_handle b = host_buffer_handle(9);
    ferry_value r;
    expect_fail(ferry_plugin_call(P, "buffer_as_counter", ARGS(ferry_value_owned(b)), &r),
                FERRY_E_SIGNATURE, "buffer_as_counter");
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    ck_assert_int_eq(host_buffers_bad(), 0);
    ck_assert_uint_eq(ferry_live(), live);
    expect_fail(ferry_check(b, NULL), FERRY_E_STALE, HOST_BUFFER_NAME);
    ledger_assert_balanced();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Review regressions: results and arguments the host checks           */
/* ------------------------------------------------------------------ */

static void expect_kind_at(ferry_handle h, ferry_kind want, const char *file, int line)
{
    ferry_kind k = (ferry_kind)-1;
    ferry_status s = ferry_kind_of(h, &k);
    require(s == FERRY_OK && k == want, "%s:%d: kind_of: %s, kind %d, want %d (%s)", file, line,
            ferry_status_name(s), (int)k, (int)want, s == FERRY_OK ? "" : ferry_last_error());
}
#define expect_kind(h, k) expect_kind_at((h), (k), __FILE__, __LINE__)

START_TEST(call_result_lent_argument_refused)
{
    /* a function returns the ref<T>/mut<T> handle it was lent as its own<T>
     * result: the call fails, and the caller's handle is still live and its
     * object not released (it used to be dropped, or handed back twice) */
    const ferry_type *bt = host_buffer_type();
    long destroyed = host_buffers_destroyed();
    ferry_handle b = host_buffer_handle(5);

    expect_refused("steal_buffer", ARGS(ferry_value_borrowed(b)), FERRY_E_SIGNATURE,
                   "cplug.steal_buffer", "returned a handle it was only lent");
    expect_live(b, bt);
    expect_kind(b, FERRY_KIND_UNIQUE);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed);

    expect_refused("steal_buffer_mut", ARGS(ferry_value_borrowed(b)), FERRY_E_SIGNATURE,
                   "cplug.steal_buffer_mut", "returned a handle it was only lent");
    expect_live(b, bt);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed);

    /* of another type as well (the lent check comes first: not dropped) */
    expect_refused("steal_as_counter", ARGS(ferry_value_borrowed(b)), FERRY_E_SIGNATURE,
                   "cplug.steal_as_counter", "returned a handle it was only lent");
    expect_live(b, bt);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed);

    /* a handle the host itself only lends */
    host_buffer *obj = host_buffer_new(7);
    ferry_handle lent, lent_mut;
    expect_ok(ferry_lend(bt, obj, &lent));
    expect_refused("steal_buffer", ARGS(ferry_value_borrowed(lent)), FERRY_E_SIGNATURE,
                   "returned a handle it was only lent");
    expect_live(lent, bt);
    expect_ok(ferry_revoke(lent));
    expect_ok(ferry_lend_mut(bt, obj, &lent_mut));
    expect_refused("steal_buffer_mut", ARGS(ferry_value_borrowed(lent_mut)), FERRY_E_SIGNATURE,
                   "returned a handle it was only lent");
    expect_live(lent_mut, bt);
    expect_ok(ferry_revoke(lent_mut));
    ck_assert_uint_eq(obj->len, 7);
    free(obj);

    /* the buffer is intact and works as before */
    ck_assert_uint_eq(value_u32(call_ok(P, "host_buffer_len", ARGS(ferry_value_borrowed(b)))), 5);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed);
    expect_ok(ferry_drop(b));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    ck_assert_int_eq(host_buffers_bad(), 0);
    ledger_assert_balanced();
}
END_TEST

START_TEST(call_result_owned_wrong_type_names_kind)
{
    /* an owned handle of another type: refused, message names kind and type,
     * dropped exactly once, *ret untouched */
    long destroyed = host_buffers_destroyed();
    size_t live = ferry_live();
    uint64_t released = cplug_released(P);
    ferry_handle b = host_buffer_handle(9);
    ferry_value r;
    memset(&r, 0x5a, sizeof r);
    ferry_value r0 = r;
    expect_fail(ferry_plugin_call(P, "buffer_as_counter", ARGS(ferry_value_owned(b)), &r),
                FERRY_E_SIGNATURE, "cplug.buffer_as_counter", "unique", HOST_BUFFER_NAME);
    ck_assert(memcmp(&r, &r0, sizeof r) == 0);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    ck_assert_int_eq(host_buffers_bad(), 0);
    ck_assert_uint_eq(cplug_released(P), released);
    ck_assert_uint_eq(ferry_live(), live);
    expect_fail(ferry_check(b, NULL), FERRY_E_STALE, HOST_BUFFER_NAME);
    ledger_assert_balanced();
}
END_TEST

START_TEST(call_result_lent_is_refused_not_dropped)
{
    /* a result the plugin only lends: refused, and left alone (it is not the
     * host's to drop: a drop would be FERRY_E_KIND) */
    const ferry_type *t = counter_t();
    uint64_t released = cplug_released(P);
    size_t live = ferry_live();
    ferry_value r;
    memset(&r, 0x5a, sizeof r);
    ferry_value r0 = r;
    expect_fail(ferry_plugin_call(P, "lend_result", NOARGS, &r), FERRY_E_SIGNATURE,
                "cplug.lend_result", "lent", COUNTER_NAME);
    ck_assert(memcmp(&r, &r0, sizeof r) == 0);
    ferry_handle h = {value_u64(call_ok(P, "lent_bits", NOARGS))};
    ck_assert_uint_ne(h.bits, 0);
    expect_live(h, t);
    expect_kind(h, FERRY_KIND_LENT);
    ck_assert_uint_eq(ferry_live(), live + 1);
    expect_fail(ferry_drop(h), FERRY_E_KIND, COUNTER_NAME);
    expect_live(h, t);
    call_ok(P, "lent_revoke", NOARGS);
    expect_fail(ferry_check(h, t), FERRY_E_STALE, COUNTER_NAME);
    ck_assert_uint_eq(ferry_live(), live);
    ck_assert_uint_eq(cplug_released(P), released);
    ledger_assert_balanced();
}
END_TEST

START_TEST(call_bool_argument_normalised)
{
    /* a bool argument whose byte is not 0 or 1 reaches the callee as 1 */
    static const uint8_t bytes[] = {1, 2, 7, 0x80, 0xff};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        ferry_value v = ferry_value_bool(true);
        v.as.u8 = bytes[i];
        ferry_value r = call_ok(P, "bool_byte", RAW_ARGS(&v, 1));
        ck_assert_int_eq(r.kind, FERRY_VALUE_U8);
        ck_assert_msg(r.as.u8 == 1, "bool byte %u reached the callee as %u", bytes[i], r.as.u8);
        r = call_ok(P, "id_bool", RAW_ARGS(&v, 1));
        ck_assert_int_eq(r.kind, FERRY_VALUE_BOOL);
        ck_assert_uint_eq(r.as.u8, 1);
    }
    ferry_value v = ferry_value_bool(false);
    ck_assert_uint_eq(call_ok(P, "bool_byte", RAW_ARGS(&v, 1)).as.u8, 0);
    /* among other arguments, too */
    ferry_value f = ferry_value_bool(true);
    f.as.u8 = 2;
    ferry_value r = call_ok(P, "fmix",
                            ARGS(ferry_value_f32(1.0f), ferry_value_f64(0.0), ferry_value_i32(0),
                                 ferry_value_f32(0.0f), ferry_value_f64(0.0), f));
    ck_assert_double_eq(r.as.f64, -1.0);
}
END_TEST

START_TEST(call_result_bool_not_0_or_1)
{
    expect_refused("bool_seven", NOARGS, FERRY_E_SIGNATURE, "cplug.bool_seven",
                   "a bool that is neither 0 nor 1");
}
END_TEST

START_TEST(call_result_bad_str)
{
    expect_refused("null_str", NOARGS, FERRY_E_SIGNATURE, "cplug.null_str", "a null string");
    expect_refused("latin1_str", NOARGS, FERRY_E_SIGNATURE, "cplug.latin1_str", "UTF-8");
}
END_TEST

START_TEST(call_own_same_handle_twice)
{
    /* one handle given away twice, or given away and lent: refused before
     * the call, nothing moved */
    const ferry_type *bt = host_buffer_type();
    long destroyed = host_buffers_destroyed();
    ferry_handle a = host_buffer_handle(3), b = host_buffer_handle(4);
    expect_refused("take2", ARGS(ferry_value_owned(a), ferry_value_owned(a)), FERRY_E_BORROWED,
                   "take2", "also passed as another argument");
    expect_refused("take_peek", ARGS(ferry_value_borrowed(a), ferry_value_owned(a)),
                   FERRY_E_BORROWED, "take_peek", "also passed as another argument");
    expect_live(a, bt);
    expect_kind(a, FERRY_KIND_UNIQUE);

    /* the second owned argument borrowed by the caller: refused before
     * anything moved, the first argument still live */
    const void *o;
    expect_ok(ferry_borrow(b, bt, &o));
    expect_refused("take2", ARGS(ferry_value_owned(a), ferry_value_owned(b)), FERRY_E_BORROWED,
                   "take2", HOST_BUFFER_NAME);
    expect_ok(ferry_unborrow(b));
    expect_live(a, bt);
    expect_live(b, bt);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed);

    /* and done right */
    ck_assert_uint_eq(
        value_u32(call_ok(P, "take_peek", ARGS(ferry_value_borrowed(a), ferry_value_owned(b)))), 3);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    expect_live(a, bt);
    expect_fail(ferry_check(b, bt), FERRY_E_STALE, HOST_BUFFER_NAME, "moved into cplug.take_peek");
    ferry_handle c = host_buffer_handle(1);
    call_ok(P, "take2", ARGS(ferry_value_owned(a), ferry_value_owned(c)));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 3);
    expect_fail(ferry_check(a, bt), FERRY_E_STALE, HOST_BUFFER_NAME, "moved into cplug.take2");
    expect_fail(ferry_check(c, bt), FERRY_E_STALE, HOST_BUFFER_NAME, "moved into cplug.take2");
    ck_assert_int_eq(host_buffers_bad(), 0);
    ledger_assert_balanced();
}
END_TEST

START_TEST(call_plugin_error)
{
    snap before, after;
    snap_take(&before, P);
    ferry_value r;
    expect_fail(ferry_plugin_call(P, "fail", ARGS(ferry_value_i32(42)), &r), FERRY_E_KIND,
                "fail was called with 42");
    expect_fail(ferry_plugin_call(P, "fail", ARGS(ferry_value_i32(-7)), NULL), FERRY_E_KIND,
                "fail was called with -7");
    snap_take(&after, P);
    snap_assert_eq(&before, &after);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Scalars and strings                                                 */
/* ------------------------------------------------------------------ */

#define ROUND_TRIP(fn, ctor, K, field, v)                                                          \
    do {                                                                                           \
        ferry_value r_ = call_ok(P, fn, ARGS(ctor(v)));                                            \
        ck_assert_msg(r_.kind == K, "%s: result kind %s", fn, ferry_value_kind_name(r_.kind));     \
        ck_assert_msg(r_.as.field == (v), "%s(%s) came back different", fn, #v);                   \
    } while (0)

START_TEST(call_scalar_round_trips)
{
    ROUND_TRIP("id_i8", ferry_value_i8, FERRY_VALUE_I8, i8, INT8_MIN);
    ROUND_TRIP("id_i8", ferry_value_i8, FERRY_VALUE_I8, i8, INT8_MAX);
    ROUND_TRIP("id_i8", ferry_value_i8, FERRY_VALUE_I8, i8, -1);
    ROUND_TRIP("id_i16", ferry_value_i16, FERRY_VALUE_I16, i16, INT16_MIN);
    ROUND_TRIP("id_i16", ferry_value_i16, FERRY_VALUE_I16, i16, -2);
    ROUND_TRIP("id_i32", ferry_value_i32, FERRY_VALUE_I32, i32, INT32_MIN);
    ROUND_TRIP("id_i32", ferry_value_i32, FERRY_VALUE_I32, i32, INT32_MAX);
    ROUND_TRIP("id_i64", ferry_value_i64, FERRY_VALUE_I64, i64, INT64_MIN);
    ROUND_TRIP("id_i64", ferry_value_i64, FERRY_VALUE_I64, i64, INT64_MAX);
    ROUND_TRIP("id_u8", ferry_value_u8, FERRY_VALUE_U8, u8, UINT8_MAX);
    ROUND_TRIP("id_u8", ferry_value_u8, FERRY_VALUE_U8, u8, 0);
    ROUND_TRIP("id_u16", ferry_value_u16, FERRY_VALUE_U16, u16, UINT16_MAX);
    ROUND_TRIP("id_u32", ferry_value_u32, FERRY_VALUE_U32, u32, UINT32_MAX);
    ROUND_TRIP("id_u64", ferry_value_u64, FERRY_VALUE_U64, u64, UINT64_MAX);
    ROUND_TRIP("id_u64", ferry_value_u64, FERRY_VALUE_U64, u64, UINT64_C(0x8000000000000001));
    ROUND_TRIP("id_f32", ferry_value_f32, FERRY_VALUE_F32, f32, 1.5f);
    ROUND_TRIP("id_f32", ferry_value_f32, FERRY_VALUE_F32, f32, -FLT_MAX);
    ROUND_TRIP("id_f32", ferry_value_f32, FERRY_VALUE_F32, f32, FLT_MIN);
    ROUND_TRIP("id_f64", ferry_value_f64, FERRY_VALUE_F64, f64, -2.25);
    ROUND_TRIP("id_f64", ferry_value_f64, FERRY_VALUE_F64, f64, DBL_MAX);
    ROUND_TRIP("id_f64", ferry_value_f64, FERRY_VALUE_F64, f64, DBL_TRUE_MIN);
    ROUND_TRIP("id_bool", ferry_value_bool, FERRY_VALUE_BOOL, b, true);
    ROUND_TRIP("id_bool", ferry_value_bool, FERRY_VALUE_BOOL, b, false);

    ferry_value r = call_ok(P, "id_f64", ARGS(ferry_value_f64(NAN)));
    ck_assert(isnan(r.as.f64));
    r = call_ok(P, "id_f32", ARGS(ferry_value_f32(-0.0f)));
    ck_assert(r.as.f32 == 0.0f && signbit(r.as.f32));
}
END_TEST

START_TEST(call_many_arguments)
{
    ferry_value r =
        call_ok(P, "sum3",
                ARGS(ferry_value_i32(INT32_MAX), ferry_value_i32(INT32_MAX), ferry_value_i32(-5)));
    ck_assert_int_eq(value_i64(r), (int64_t)INT32_MAX * 2 - 5);

    r = call_ok(P, "mix",
                ARGS(ferry_value_i8(-1), ferry_value_i16(-300), ferry_value_i32(-70000),
                     ferry_value_i64(-5000000000), ferry_value_u8(200), ferry_value_u16(60000),
                     ferry_value_u32(4000000000u), ferry_value_u64(7)));
    ck_assert_int_eq(value_i64(r),
                     -1 - 300 - 70000 - INT64_C(5000000000) + 200 + 60000 + 4000000000 + 7);

    r = call_ok(P, "fmix",
                ARGS(ferry_value_f32(0.5f), ferry_value_f64(1.25), ferry_value_i32(-3),
                     ferry_value_f32(2.0f), ferry_value_f64(0.125), ferry_value_bool(true)));
    ck_assert_int_eq(r.kind, FERRY_VALUE_F64);
    ck_assert_double_eq(r.as.f64, -(0.5 + 2.5 - 9.0 + 8.0 + 0.625));

    ferry_value args[16];
    int64_t want = 0;
    for (int i = 0; i < 16; i++) {
        args[i] = ferry_value_i32((i % 2 ? -1 : 1) * (i * 1000 + 7));
        want += (int64_t)args[i].as.i32 * (i + 1);
    }
    r = call_ok(P, "sum16", args, 16);
    ck_assert_int_eq(value_i64(r), want);
}
END_TEST

START_TEST(call_strings)
{
    ferry_value r1 = call_ok(P, "echo", ARGS(ferry_value_str("ping")));
    ck_assert_int_eq(r1.kind, FERRY_VALUE_STR);
    ck_assert_str_eq(r1.as.str, "pong");
    char buf[16];
    strcpy(buf, "other");
    ferry_value r2 = call_ok(P, "echo", ARGS(ferry_value_str(buf)));
    memset(buf, 0, sizeof buf);
    /* result strings stay valid while the plugin is open */
    ck_assert_str_eq(r1.as.str, "pong");
    ck_assert_str_eq(r2.as.str, "cplug");

    ck_assert_uint_eq(value_u64(call_ok(P, "str_len", ARGS(ferry_value_str("")))), 0);
    ck_assert_uint_eq(value_u64(call_ok(P, "str_len", ARGS(ferry_value_str("h\xc3\xa9llo")))), 6);
    ck_assert_uint_eq(
        value_u64(call_ok(P, "str_len", ARGS(ferry_value_str("\xf0\x9f\xa6\x80 \xe2\x82\xac")))),
        8);
    ck_assert_uint_eq(value_u64(call_ok(P, "str_len", ARGS(ferry_value_str("\xf4\x8f\xbf\xbf")))),
                      4); /* U+10FFFF, the last code point */
}
END_TEST

START_TEST(call_value_kind_names)
{
    ck_assert_str_eq(ferry_value_kind_name(FERRY_VALUE_I8), "i8");
    ck_assert_str_eq(ferry_value_kind_name(FERRY_VALUE_U64), "u64");
    ck_assert_str_eq(ferry_value_kind_name(FERRY_VALUE_F32), "f32");
    ck_assert_str_eq(ferry_value_kind_name(FERRY_VALUE_BOOL), "bool");
    ck_assert_str_eq(ferry_value_kind_name(FERRY_VALUE_STR), "str");
    ck_assert_str_eq(ferry_value_kind_name(FERRY_VALUE_OWNED), "own");
    ck_assert_str_eq(ferry_value_kind_name((ferry_value_kind)99), "?");
    ck_assert_str_ne(ferry_value_kind_name(FERRY_VALUE_BORROWED), "?");
    ck_assert_str_ne(ferry_value_kind_name(FERRY_VALUE_VOID), "?");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Ownership round trips                                               */
/* ------------------------------------------------------------------ */

START_TEST(round_trip_host_buffer)
{
    const ferry_type *bt = host_buffer_type();
    ferry_counts before_t = ledger_of(bt);
    long destroyed = host_buffers_destroyed();
    size_t live = ferry_live();

    ferry_handle b = host_buffer_handle(HOST_BUFFER_CAPACITY);
    ferry_value r = call_ok(P, "host_buffer_len", ARGS(ferry_value_borrowed(b)));
    ck_assert_uint_eq(value_u32(r), HOST_BUFFER_CAPACITY);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed);
    expect_live(b, bt);

    call_ok(P, "host_buffer_drop", ARGS(ferry_value_owned(b)));
    /* the host's destructor ran exactly once, from the plugin's drop */
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    ck_assert_int_eq(host_buffers_bad(), 0);
    expect_fail(ferry_check(b, bt), FERRY_E_STALE, HOST_BUFFER_NAME);
    expect_refused("host_buffer_drop", ARGS(ferry_value_owned(b)), FERRY_E_STALE, HOST_BUFFER_NAME);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    ck_assert_uint_eq(ferry_live(), live);

    ferry_counts after_t = ledger_of(bt);
    ck_assert_uint_eq(after_t.live, before_t.live);
    ck_assert_uint_ge(after_t.created, before_t.created + 1);
    ck_assert_uint_eq(after_t.dropped_by_rust, before_t.dropped_by_rust);
    counts_assert_balanced(&after_t);
    ledger_assert_balanced();
}
END_TEST

START_TEST(round_trip_counter)
{
    const ferry_type *t = counter_t();
    uint64_t released = cplug_released(P);
    size_t live = ferry_live();

    /* plugin -> host */
    ferry_handle h = cplug_counter(P, 40);
    ck_assert_uint_eq(ferry_live(), live + 1);
    call_ok(P, "counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(2)));
    ck_assert_int_eq(cplug_get(P, h), 42);
    /* the host looks inside through a borrow */
    const void *obj;
    expect_ok(ferry_borrow(h, t, &obj));
    ck_assert_int_eq(((const c_counter *)obj)->value, 42);
    expect_ok(ferry_unborrow(h));
    /* takes the object out of its handle, boxes it again */
    void *raw;
    expect_ok(ferry_take(h, t, &raw));
    ck_assert_uint_eq(ferry_live(), live);
    ferry_handle again;
    expect_ok(ferry_box(t, raw, &again));
    /* host -> plugin: released exactly once */
    ck_assert_uint_eq(cplug_released(P), released);
    call_ok(P, "counter_free", ARGS(ferry_value_owned(again)));
    ck_assert_uint_eq(cplug_released(P), released + 1);
    ck_assert_uint_eq(ferry_live(), live);

    /* and a counter the host drops itself: the plugin's release runs */
    h = cplug_counter(P, 1);
    expect_ok(ferry_drop(h));
    ck_assert_uint_eq(cplug_released(P), released + 2);

    ferry_counts c = ledger_of(t);
    counts_assert_balanced(&c);
    ck_assert_uint_eq(c.live, 0);
    ledger_assert_balanced();
}
END_TEST

START_TEST(round_trip_many)
{
    /* a few thousand objects across, in both directions, in a mixed order */
    enum { N = 2000 };
    static ferry_handle hs[N];
    uint64_t released = cplug_released(P);
    long destroyed = host_buffers_destroyed();
    size_t live = ferry_live();
    long n = scaled(N);
    for (long i = 0; i < n; i++)
        hs[i] =
            (i % 3 == 0) ? host_buffer_handle((uint32_t)(i % 61)) : cplug_counter(P, (int64_t)i);
    ck_assert_uint_eq(ferry_live(), live + (size_t)n);
    long buffers = 0, counters = 0;
    for (long i = n - 1; i >= 0; i--) {
        if (i % 3 == 0) {
            ferry_value r = call_ok(P, "host_buffer_len", ARGS(ferry_value_borrowed(hs[i])));
            require(value_u32(r) == (uint32_t)(i % 61), "buffer %ld has the wrong length", i);
            call_ok(P, "host_buffer_drop", ARGS(ferry_value_owned(hs[i])));
            buffers++;
        } else {
            require(cplug_get(P, hs[i]) == i, "counter %ld has the wrong value", i);
            if (i % 2)
                call_ok(P, "counter_free", ARGS(ferry_value_owned(hs[i])));
            else
                expect_ok(ferry_drop(hs[i]));
            counters++;
        }
    }
    ck_assert_uint_eq(ferry_live(), live);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + buffers);
    ck_assert_uint_eq(cplug_released(P), released + (uint64_t)counters);
    ledger_assert_balanced();
}
END_TEST

static Suite *call_suite(void)
{
    Suite *s = suite_create("plugin.call");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
#define CASE(fn) {#fn, fn}
        CASE(call_unknown_function),
        CASE(call_wrong_count),
        CASE(call_wrong_tag_scalar),
        CASE(call_wrong_tag_handle),
        CASE(call_null_str),
        CASE(call_non_utf8_str),
        CASE(call_null_ret),
        CASE(call_handle_null_invalid),
        CASE(call_handle_stale),
        CASE(call_handle_wrong_type),
        CASE(call_handle_wrong_kind),
        CASE(call_handle_lent_counter_for_own),
        CASE(call_handle_borrowed),
        CASE(call_handle_wrong_thread),
        CASE(call_handle_refusals_name_the_function),
        CASE(call_own_moves_handle),
        CASE(call_own_moves_even_when_call_fails),
        CASE(call_own_shared_unit),
        CASE(call_result_not_a_handle),
        CASE(call_result_stale_handle),
        CASE(call_result_wrong_type_is_dropped),
        CASE(call_result_lent_argument_refused),
        CASE(call_result_owned_wrong_type_names_kind),
        CASE(call_result_lent_is_refused_not_dropped),
        CASE(call_bool_argument_normalised),
        CASE(call_result_bool_not_0_or_1),
        CASE(call_result_bad_str),
        CASE(call_own_same_handle_twice),
        CASE(call_plugin_error),
        CASE(call_scalar_round_trips),
        CASE(call_many_arguments),
        CASE(call_strings),
        CASE(call_value_kind_names),
        CASE(round_trip_host_buffer),
        CASE(round_trip_counter),
        CASE(round_trip_many),
#undef CASE
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 60);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return run_suite(call_suite());
}
