/*
 * test_open.c — ferry_plugin_open / close and ferry_signature_parse.
 *
 * Every way a file can fail to open as a plugin, each with its status and
 * message, and with nothing registered, nothing live and *out untouched
 * afterwards; introspection of an open plugin; close refused while handles
 * or calls are live, then a clean close, a stale handle naming its closed
 * type, and a reopen; a `ferry_plugin *` kept across close and reopen, and
 * open/close cycles that cost no memory.
 */
#include "plugin_support.h"

#include "ferry_testing.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>

#define SENTINEL ((ferry_plugin *)(uintptr_t)0x5e5e5e5e)

/* The state a failed open must leave alone. */
typedef struct open_state {
    ferry_counts all;
    size_t live;
    const ferry_type *buffer, *shared;
} open_state;

static open_state open_state_now(void)
{
    open_state s;
    s.all = ledger_of(NULL);
    s.live = ferry_live();
    s.buffer = ferry_type_find(HOST_BUFFER_NAME);
    s.shared = ferry_type_find(HOST_SHARED_NAME);
    return s;
}

/*
 * Opens path, expecting `want` and every needle in the message; then checks
 * that *out is untouched, that c.Counter (the type every broken plugin
 * declares) is not registered, that the host's types are still the host's,
 * that the ledger did not move, and that the good plugin still opens.
 */
static void expect_open_fails_at(const char *path, ferry_status want, const char *const *needles,
                                 const char *file, int line)
{
    ck_assert_msg(ferry_type_find(COUNTER_NAME) == NULL, "%s:%d: c.Counter registered before", file,
                  line);
    open_state before = open_state_now();
    ferry_plugin *p = SENTINEL;
    char what[512];
    snprintf(what, sizeof what, "ferry_plugin_open(%s)", path);
    expect_fail_at(ferry_plugin_open(path, &p), want, what, file, line, needles);
    if (p != SENTINEL && p != NULL)
        ferry_plugin_close(p); /* a broken host handed one out anyway */
    ck_assert_msg(p == SENTINEL, "%s:%d: *out was written by a failed open", file, line);
    ck_assert_msg(ferry_type_find(COUNTER_NAME) == NULL,
                  "%s:%d: a failed open left c.Counter registered", file, line);
    open_state after = open_state_now();
    ck_assert_msg(after.buffer == before.buffer && after.shared == before.shared,
                  "%s:%d: a failed open changed the host's registrations", file, line);
    ck_assert_msg(after.live == before.live, "%s:%d: ferry_live changed: %zu -> %zu", file, line,
                  before.live, after.live);
    ck_assert_msg(after.all.created == before.all.created &&
                      after.all.dropped_by_c == before.all.dropped_by_c &&
                      after.all.live == before.all.live,
                  "%s:%d: a failed open moved the ledger", file, line);

    /* and nothing half-done stops the good plugin from opening */
    ferry_plugin *good = plug_open(PLUG_CPLUG);
    ck_assert_ptr_nonnull(ferry_type_find(COUNTER_NAME));
    plug_close(good);
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
}
#define expect_open_fails(path, want, ...)                                                         \
    expect_open_fails_at((path), (want), (const char *const[]){__VA_ARGS__, NULL}, __FILE__,       \
                         __LINE__)

/* ------------------------------------------------------------------ */
/* Files that are no plugin                                            */
/* ------------------------------------------------------------------ */

START_TEST(open_missing_file)
{
    expect_open_fails(PLUG_MISSING, FERRY_E_LOAD, PLUG_MISSING);
}
END_TEST

START_TEST(open_text_file)
{
    expect_open_fails(PLUG_TEXT_FILE, FERRY_E_LOAD, PLUG_TEXT_FILE);
}
END_TEST

START_TEST(open_static_archive)
{
    expect_open_fails(PLUG_ARCHIVE, FERRY_E_LOAD, PLUG_ARCHIVE);
}
END_TEST

START_TEST(open_executable)
{
    expect_open_fails(PLUG_EXECUTABLE, FERRY_E_LOAD, PLUG_EXECUTABLE);
}
END_TEST

START_TEST(open_directory)
{
    expect_open_fails(PLUG_DIR, FERRY_E_LOAD, PLUG_DIR);
}
END_TEST

START_TEST(open_unresolved_symbol)
{
    /* the loader refuses it: the message carries dlerror's text */
    expect_open_fails(PLUG_UNRESOLVED, FERRY_E_LOAD, "ferry_test_missing_symbol");
}
END_TEST

START_TEST(open_no_descriptor)
{
    expect_open_fails(PLUG_NO_DESCRIPTOR, FERRY_E_LOAD, FERRY_PLUGIN_SYMBOL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Descriptors that are wrong                                          */
/* ------------------------------------------------------------------ */

START_TEST(open_bad_magic)
{
    expect_open_fails(PLUG_BAD_MAGIC, FERRY_E_ABI, "magic");
}
END_TEST

START_TEST(open_bad_abi_version)
{
    expect_open_fails(PLUG_BAD_ABI, FERRY_E_ABI, "999");
}
END_TEST

START_TEST(open_bad_flags)
{
    expect_open_fails(PLUG_BAD_FLAGS, FERRY_E_ABI, "flags");
}
END_TEST

START_TEST(open_own_table)
{
    /* a plugin that carries its own libferry: refused, with how to link */
    expect_open_fails(PLUG_OWN_TABLE, FERRY_E_ABI, "link");
    /* and nothing of its copy is left running in ours */
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
}
END_TEST

START_TEST(open_null_table_id)
{
    expect_open_fails(PLUG_NULL_TABLE_ID, FERRY_E_ABI, "table");
}
END_TEST

START_TEST(open_bad_signature)
{
    expect_open_fails(PLUG_BAD_SIGNATURE, FERRY_E_SIGNATURE, "bad_sig", "i33");
}
END_TEST

START_TEST(open_bad_function_name)
{
    expect_open_fails(PLUG_BAD_NAME, FERRY_E_SIGNATURE, "bad-name");
}
END_TEST

START_TEST(open_null_entry)
{
    expect_open_fails(PLUG_NULL_ENTRY, FERRY_E_SIGNATURE, "no_entry");
}
END_TEST

START_TEST(open_type_twice)
{
    expect_open_fails(PLUG_TYPE_TWICE, FERRY_E_TYPE, COUNTER_NAME);
}
END_TEST

START_TEST(open_duplicate_function)
{
    expect_open_fails(PLUG_DUPLICATE_FUNCTION, FERRY_E_SIGNATURE, "sum3");
}
END_TEST

START_TEST(open_duplicate_type)
{
    /* declares c.Counter, then host.Buffer with another release: the host
     * registered host.Buffer first, so open fails, and c.Counter (listed
     * before the clash) must not stay registered either */
    const ferry_type *host = ferry_type_find(HOST_BUFFER_NAME);
    ck_assert_ptr_nonnull(host);
    expect_open_fails(PLUG_DUPLICATE_TYPE, FERRY_E_TYPE, HOST_BUFFER_NAME);
    ck_assert_ptr_eq(ferry_type_find(HOST_BUFFER_NAME), host);
    ck_assert_ptr_eq(ferry_type_descriptor(host)->release,
                     ferry_type_descriptor(host_buffer_type())->release);
    /* the host's buffers still work */
    long destroyed = host_buffers_destroyed();
    ferry_handle b = host_buffer_handle(4);
    expect_ok(ferry_drop(b));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
}
END_TEST

START_TEST(open_copy_clashes_with_open_plugin)
{
    /* another file declaring c.Counter with its own release function */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    ck_assert_ptr_nonnull(t);
    ferry_plugin *q = SENTINEL;
    expect_fail(ferry_plugin_open(PLUG_COPY, &q), FERRY_E_TYPE, COUNTER_NAME);
    ck_assert_ptr_eq(q, SENTINEL);
    ck_assert_ptr_eq(ferry_type_find(COUNTER_NAME), t);
    /* the first one is untouched */
    ferry_handle h = cplug_counter(p, 5);
    ck_assert_int_eq(cplug_get(p, h), 5);
    call_ok(p, "counter_free", ARGS(ferry_value_owned(h)));
    plug_close(p);
    /* once it is closed the copy opens */
    ferry_plugin *c = plug_open(PLUG_COPY);
    h = cplug_counter(c, 6);
    ck_assert_int_eq(cplug_get(c, h), 6);
    call_ok(c, "counter_free", ARGS(ferry_value_owned(h)));
    plug_close(c);
}
END_TEST

START_TEST(open_same_file_twice)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    ferry_plugin *q = SENTINEL;
    expect_fail(ferry_plugin_open(PLUG_CPLUG, &q), FERRY_E_BUSY, PLUG_CPLUG);
    ck_assert_ptr_eq(q, SENTINEL);
    /* the same file under another spelling of its path */
    char other[4096];
    snprintf(other, sizeof other, "%s/./%s", PLUG_CPLUG_DIR, PLUG_CPLUG_NAME);
    expect_fail(ferry_plugin_open(other, &q), FERRY_E_BUSY, other);
    ck_assert_ptr_eq(q, SENTINEL);
    /* p still works */
    ferry_value r =
        call_ok(p, "sum3", ARGS(ferry_value_i32(1), ferry_value_i32(2), ferry_value_i32(3)));
    ck_assert_int_eq(value_i64(r), 6);
    plug_close(p);
}
END_TEST

START_TEST(open_null_arguments)
{
    ferry_plugin *p = SENTINEL;
    expect_fail(ferry_plugin_open(NULL, &p), FERRY_E_NULL, "ferry_plugin_open");
    ck_assert_ptr_eq(p, SENTINEL);
    expect_fail(ferry_plugin_open(PLUG_CPLUG, NULL), FERRY_E_NULL, "ferry_plugin_open");
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
    expect_fail(ferry_plugin_close(NULL), FERRY_E_NULL, "ferry_plugin_close");
    ck_assert_ptr_null(ferry_plugin_find(NULL, "sum3"));
    ck_assert_ptr_null(ferry_plugin_descriptor_of(NULL));
    ck_assert_ptr_null(ferry_plugin_type_at(NULL, 0));
    ferry_value r;
    expect_fail(ferry_plugin_call(NULL, "sum3", NULL, 0, &r), FERRY_E_NULL, "ferry_plugin_call");
}
END_TEST

/* ------------------------------------------------------------------ */
/* An open plugin                                                      */
/* ------------------------------------------------------------------ */

START_TEST(open_introspection)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_plugin_desc *d = ferry_plugin_descriptor_of(p);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->magic, FERRY_PLUGIN_MAGIC);
    ck_assert_uint_eq(d->abi_version, FERRY_PLUGIN_ABI_VERSION);
    ck_assert_str_eq(d->name, "cplug");
    ck_assert_str_eq(d->version, "1.0.0");
    ck_assert_uint_eq(d->flags, FERRY_PLUGIN_UNLOADABLE);
    ck_assert_uint_eq(d->ntypes, 1);
    ck_assert(d->table_id != NULL && d->table_id() == ferry_table_id());
    ck_assert_str_eq(ferry_plugin_path(p), PLUG_CPLUG);

    const ferry_type *t = ferry_plugin_type_at(p, 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_eq(t, ferry_type_find(COUNTER_NAME));
    ck_assert_ptr_null(ferry_plugin_type_at(p, 1));
    const ferry_type_desc *td = ferry_type_descriptor(t);
    ck_assert_str_eq(td->name, COUNTER_NAME);
    ck_assert_uint_eq(td->flags, FERRY_SEND | FERRY_SYNC);
    ck_assert_uint_eq(td->size, sizeof(c_counter));
    ck_assert_uint_eq(td->align, _Alignof(c_counter));
    ck_assert(td->retain == NULL && td->downgrade == NULL);

    const ferry_plugin_function *f = ferry_plugin_find(p, "counter_add");
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->name, "counter_add");
    ck_assert_str_eq(f->signature, "(mut<c.Counter>, i64)");
    ck_assert(f >= d->functions && f < d->functions + d->nfunctions);
    ck_assert_ptr_null(ferry_plugin_find(p, "nope"));
    ck_assert_ptr_null(ferry_plugin_find(p, ""));
    ck_assert_ptr_null(ferry_plugin_find(p, NULL));
    ck_assert_ptr_null(ferry_plugin_find(p, "sum")); /* no prefix matches */
    ck_assert_ptr_null(ferry_plugin_find(p, "sum3 "));
    plug_close(p);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Close                                                               */
/* ------------------------------------------------------------------ */

START_TEST(close_busy_with_live_handle)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    ferry_handle h = cplug_counter(p, 7);
    uint64_t released = cplug_released(p);

    expect_fail(ferry_plugin_close(p), FERRY_E_BUSY, COUNTER_NAME, "unique", "c_plugin.c");
    /* still open and usable, the handle still live */
    ck_assert_ptr_nonnull(ferry_type_find(COUNTER_NAME));
    expect_ok(ferry_check(h, ferry_type_find(COUNTER_NAME)));
    ck_assert_int_eq(cplug_get(p, h), 7);
    call_ok(p, "counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(3)));
    ck_assert_int_eq(cplug_get(p, h), 10);
    ck_assert_uint_eq(cplug_released(p), released);

    /* a second live handle: both are listed */
    ferry_handle h2 = cplug_counter(p, 1);
    expect_fail(ferry_plugin_close(p), FERRY_E_BUSY, COUNTER_NAME);
    const char *msg = ferry_last_error();
    const char *first = strstr(msg, COUNTER_NAME);
    ck_assert_msg(first && strstr(first + 1, COUNTER_NAME),
                  "both live handles should be listed: \"%s\"", msg);

    expect_ok(ferry_drop(h2));
    call_ok(p, "counter_free", ARGS(ferry_value_owned(h)));
    ck_assert_uint_eq(cplug_released(p), released + 2);
    plug_close(p);
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
}
END_TEST

START_TEST(close_busy_with_handle_the_host_took)
{
    /* take moves the unit out: no handle, so close may go; but a handle the
     * host made again from the object (ferry_box with the plugin's type)
     * counts like any other */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    ferry_handle h = cplug_counter(p, 11);
    void *obj = NULL;
    expect_ok(ferry_take(h, t, &obj));
    ck_assert_int_eq(((c_counter *)obj)->value, 11);
    ferry_handle again;
    expect_ok(ferry_box(t, obj, &again));
    expect_fail(ferry_plugin_close(p), FERRY_E_BUSY, COUNTER_NAME, "test_open.c");
    uint64_t released = cplug_released(p);
    call_ok(p, "counter_free", ARGS(ferry_value_owned(again)));
    ck_assert_uint_eq(cplug_released(p), released + 1);
    plug_close(p);
}
END_TEST

START_TEST(close_then_stale_handle_names_type)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    ck_assert_ptr_nonnull(t);
    ferry_handle h = cplug_counter(p, 3);
    uint64_t released = cplug_released(p);
    expect_ok(ferry_drop(h));
    ck_assert_uint_eq(cplug_released(p), released + 1);
    plug_close(p);

    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
    expect_fail(ferry_check(h, NULL), FERRY_E_STALE, COUNTER_NAME, "closed");
    expect_fail(ferry_drop(h), FERRY_E_STALE, COUNTER_NAME);
    /* making a new handle of a closed plugin's type fails */
    c_counter fake = {COUNTER_MAGIC_LIVE, 0};
    ferry_handle nh = FERRY_NULL_HANDLE;
    size_t live = ferry_live();
    expect_fail(ferry_box(t, &fake, &nh), FERRY_E_TYPE, COUNTER_NAME);
    ck_assert_uint_eq(nh.bits, 0);
    ck_assert_uint_eq(ferry_live(), live);
    ledger_assert_balanced();
}
END_TEST

START_TEST(close_then_reopen)
{
    for (int round = 0; round < 3; round++) {
        ferry_plugin *p = plug_open(PLUG_CPLUG);
        const ferry_type *t = ferry_type_find(COUNTER_NAME);
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_eq(ferry_plugin_type_at(p, 0), t);
        uint64_t released = cplug_released(p);
        ferry_handle h = cplug_counter(p, round);
        call_ok(p, "counter_add", ARGS(ferry_value_borrowed(h), ferry_value_i64(100)));
        ck_assert_int_eq(cplug_get(p, h), 100 + round);
        ferry_counts c = ledger_of(t);
        ck_assert_uint_eq(c.live, 1);
        call_ok(p, "counter_free", ARGS(ferry_value_owned(h)));
        ck_assert_uint_eq(cplug_released(p), released + 1);
        c = ledger_of(t);
        ck_assert_uint_eq(c.live, 0);
        counts_assert_balanced(&c);
        ferry_value r = call_ok(p, "echo", ARGS(ferry_value_str("ping")));
        ck_assert_str_eq(r.as.str, "pong");
        plug_close(p);
        ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
    }
    ledger_assert_balanced();
}
END_TEST

START_TEST(close_then_register_type_again_then_reopen)
{
    /* Review regression (host5.c): after a close, code of the plugin that
     * still runs (a Rust plugin's lazy registration from a thread it left
     * running) registers the plugin's own type again. That must neither make
     * the type usable nor block reopening the plugin. */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_plugin_desc *pd = ferry_plugin_descriptor_of(p);
    ck_assert_ptr_nonnull(pd);
    ck_assert_uint_ge(pd->ntypes, 1);
    ck_assert_str_eq(pd->types[0].name, COUNTER_NAME);
    /* the plugin's own descriptor, captured before close (the plugin is
     * unloadable: its name string goes with it, so the copy uses ours) */
    ferry_type_desc own = pd->types[0];
    own.name = COUNTER_NAME;
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    ck_assert_ptr_nonnull(t);
    ferry_type_desc registered = *ferry_type_descriptor(t);
    char name_copy[FERRY_PLUGIN_MAX_NAME + 1];
    snprintf(name_copy, sizeof name_copy, "%s", registered.name);
    registered.name = name_copy;
    plug_close(p);
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));

    const ferry_type_desc *descs[] = {&own, &registered};
    for (size_t i = 0; i < 2; i++) {
        const ferry_type *again = NULL;
        expect_ok(ferry_type_register(descs[i], &again));
        ck_assert_ptr_nonnull(again);
        /* still retired: nothing finds it, and no handle can be made of it */
        ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
        c_counter fake = {COUNTER_MAGIC_LIVE, 0};
        ferry_handle nh = FERRY_NULL_HANDLE;
        size_t live = ferry_live();
        expect_fail(ferry_box(again, &fake, &nh), FERRY_E_TYPE, COUNTER_NAME);
        const char *m = ferry_last_error();
        ck_assert_msg(strstr(m, "closed") || strstr(m, "unregistered") || strstr(m, "retired"),
                      "the message does not say the type's plugin is closed: %s", m);
        ck_assert_uint_eq(nh.bits, 0);
        ck_assert_uint_eq(ferry_live(), live);
    }

    /* reopening works, and the plugin's type is usable again */
    p = plug_open(PLUG_CPLUG);
    const ferry_type *t2 = ferry_type_find(COUNTER_NAME);
    ck_assert_ptr_nonnull(t2);
    ck_assert_ptr_eq(ferry_plugin_type_at(p, 0), t2);
    uint64_t released = cplug_released(p);
    ferry_handle h = cplug_counter(p, 11);
    ck_assert_int_eq(cplug_get(p, h), 11);
    call_ok(p, "counter_free", ARGS(ferry_value_owned(h)));
    ck_assert_uint_eq(cplug_released(p), released + 1);
    ferry_counts c = ledger_of(t2);
    ck_assert_uint_eq(c.live, 0);
    counts_assert_balanced(&c);
    plug_close(p);
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
    ledger_assert_balanced();
}
END_TEST

START_TEST(close_then_register_type_again_after_a_copy)
{
    /* The same, when another record of the name is retired already: a copy
     * of the plugin (another file, its own release function) was opened and
     * closed first. The copy stays mapped (this test holds a reference), so
     * the plugin's release function lies elsewhere and the two retired
     * records differ. Registering the plugin's descriptor again must find
     * the plugin's own retired record, not stop at the copy's. */
    void *hold = dlopen(PLUG_COPY, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(hold != NULL, "dlopen(%s): %s", PLUG_COPY, dlerror());
    ferry_plugin *q = plug_open(PLUG_COPY);
    ferry_handle h = cplug_counter(q, 1);
    call_ok(q, "counter_free", ARGS(ferry_value_owned(h)));
    void (*copy_release)(void *) = ferry_type_descriptor(ferry_plugin_type_at(q, 0))->release;
    plug_close(q);

    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_type *t = ferry_plugin_type_at(p, 0);
    ferry_type_desc desc = *ferry_type_descriptor(t);
    desc.name = COUNTER_NAME;
    bool distinct = desc.release != copy_release;
    plug_close(p);
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));

    const ferry_type *again = NULL;
    outcome reg, boxed, reopened;
    record(reg, ferry_type_register(&desc, &again));
    const ferry_type *found = ferry_type_find(COUNTER_NAME);
    c_counter fake = {COUNTER_MAGIC_LIVE, 0};
    ferry_handle nh = FERRY_NULL_HANDLE;
    record(boxed, again ? ferry_box(again, &fake, &nh) : FERRY_E_NULL);
    if (boxed.status == FERRY_OK)
        (void)ferry_take(nh, again, &(void *){NULL});
    ferry_plugin *p2 = NULL;
    record(reopened, ferry_plugin_open(PLUG_CPLUG, &p2));
    uint64_t released = 0, released_after = 0;
    int64_t got = 0;
    if (reopened.status == FERRY_OK) {
        released = cplug_released(p2);
        ferry_handle c = cplug_counter(p2, 12);
        got = cplug_get(p2, c);
        call_ok(p2, "counter_free", ARGS(ferry_value_owned(c)));
        released_after = cplug_released(p2);
        plug_close(p2);
    }
    dlclose(hold);

    ck_assert_msg(distinct, "the copy and the plugin share a release function: no test");
    require(reg.status == FERRY_OK, "ferry_type_register after close: %s (%s)",
            ferry_status_name(reg.status), reg.message);
    ck_assert_msg(found == NULL, "ferry_type_register made %s a live type again",
                  COUNTER_NAME);
    expect_recorded(boxed, FERRY_E_TYPE, COUNTER_NAME);
    require(reopened.status == FERRY_OK, "reopening the plugin: %s (%s)",
            ferry_status_name(reopened.status), reopened.message);
    ck_assert_int_eq(got, 12);
    ck_assert_uint_eq(released_after, released + 1);
    ledger_assert_balanced();
}
END_TEST

START_TEST(close_then_stale_plugin_pointer)
{
    /* A pointer kept across its close is refused while the plugin is
     * closed, and refers to the plugin again once the file is reopened
     * (the reopen returns the same pointer). */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    plug_close(p);
    ferry_value r;
    expect_fail(ferry_plugin_call(p, "sum3",
                                  ARGS(ferry_value_i32(1), ferry_value_i32(2), ferry_value_i32(3)),
                                  &r),
                FERRY_E_STALE, "ferry_plugin_call", "plugin \"cplug\" is closed");
    ck_assert_ptr_null(ferry_plugin_find(p, "sum3"));
    msg_has("FERRY_E_STALE: ferry_plugin_find: plugin \"cplug\" is closed");
    ck_assert_ptr_null(ferry_plugin_descriptor_of(p));
    ck_assert_ptr_null(ferry_plugin_path(p));
    ck_assert_ptr_null(ferry_plugin_type_at(p, 0));
    msg_has("plugin \"cplug\" is closed");
    expect_fail(ferry_plugin_close(p), FERRY_E_STALE, "plugin \"cplug\" is closed already");

    ferry_plugin *again = plug_open(PLUG_CPLUG);
    ck_assert_ptr_eq(again, p);
    ck_assert_ptr_nonnull(ferry_plugin_find(p, "sum3"));
    ck_assert_str_eq(ferry_plugin_path(p), PLUG_CPLUG);
    ck_assert_int_eq(
        value_i64(
            call_ok(p, "sum3", ARGS(ferry_value_i32(1), ferry_value_i32(2), ferry_value_i32(3)))),
        6);
    plug_close(again);
    expect_fail(ferry_plugin_call(p, "sum3",
                                  ARGS(ferry_value_i32(1), ferry_value_i32(2), ferry_value_i32(3)),
                                  &r),
                FERRY_E_STALE, "plugin \"cplug\" is closed");
}
END_TEST

/* Heap bytes in use (glibc). 0 where another allocator answers (ASan,
 * valgrind): those runs still check the record and string counts. */
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

START_TEST(reopen_cycles_cost_no_memory)
{
    /* Keep the plugin mapped, so every cycle finds it at the same address
     * and revives the same types: what is left to grow is ferry's own
     * bookkeeping per open, which must not. */
    void *hold = dlopen(PLUG_CPLUG, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(hold != NULL, "dlopen(%s): %s", PLUG_CPLUG, dlerror());
    const ferry_type *bt = host_buffer_type();
    ferry_handle b = host_buffer_handle(4);

    /* Handles moved into a plugin function name it as their release site;
     * that stays right through every cycle below. */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    ferry_handle c = cplug_counter(p, 1);
    call_ok(p, "counter_free", ARGS(ferry_value_owned(c)));
    call_ok(p, "host_buffer_drop", ARGS(ferry_value_owned(b)));
    plug_close(p);

    const long n = 2000;
    size_t records = ferry__test_plugin_records();
    size_t kept = ferry__test_plugin_kept_strings();
    size_t heap = heap_in_use();
    for (long i = 0; i < n; i++) {
        ferry_plugin *q = NULL;
        ferry_status s = ferry_plugin_open(PLUG_CPLUG, &q);
        require(s == FERRY_OK, "cycle %ld: open: %s", i, ferry_last_error());
        require(q == p, "cycle %ld: a reopen made another record", i);
        s = ferry_plugin_close(q);
        require(s == FERRY_OK, "cycle %ld: close: %s", i, ferry_last_error());
    }
    size_t heap_after = heap_in_use();
    ck_assert_uint_eq(ferry__test_plugin_records(), records);
    ck_assert_uint_eq(ferry__test_plugin_kept_strings(), kept);
    /* Before records were reused this grew by about 50 KB a cycle (this
     * plugin has 49 functions), 100 MB in all; allow a little for the C
     * library's own caches. */
    ck_assert_msg(heap_after <= heap + 64 * 1024,
                  "%ld open/close cycles grew the heap by %zu bytes", n, heap_after - heap);

    expect_fail(ferry_check(c, NULL), FERRY_E_STALE, COUNTER_NAME,
                "released at ferry_plugin_call (moved into cplug.counter_free)");
    expect_fail(ferry_check(b, bt), FERRY_E_STALE, HOST_BUFFER_NAME,
                "released at ferry_plugin_call (moved into cplug.host_buffer_drop)");
    dlclose(hold);
    ledger_assert_balanced();
}
END_TEST

/* A call that is running keeps the plugin open. */
typedef struct gate_job {
    ferry_plugin *p;
    const char *fn;
    ferry_handle arg;
    ferry_status status;
} gate_job;

static void *gate_thread(void *arg)
{
    gate_job *j = arg;
    ferry_value r;
    if (j->arg.bits)
        j->status = ferry_plugin_call(j->p, j->fn, ARGS(ferry_value_borrowed(j->arg)), &r);
    else
        j->status = ferry_plugin_call(j->p, j->fn, NOARGS, &r);
    return NULL;
}

static void wait_for_gate(ferry_plugin *p, uint32_t waiting)
{
    for (int i = 0; i < 60000; i++) {
        if (value_u32(call_ok(p, "gate_state", NOARGS)) == waiting)
            return;
        sleep_ms(1);
    }
    ck_abort_msg("no call reached the gate");
}

START_TEST(close_busy_while_call_runs)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    call_ok(p, "gate_close", NOARGS);
    gate_job j = {p, "gate_wait", FERRY_NULL_HANDLE, FERRY_E_LIMIT};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, gate_thread, &j), 0);
    wait_for_gate(p, 1);

    expect_fail(ferry_plugin_close(p), FERRY_E_BUSY, "call");
    /* still usable from this thread while the other call runs */
    ferry_value r =
        call_ok(p, "sum3", ARGS(ferry_value_i32(4), ferry_value_i32(5), ferry_value_i32(6)));
    ck_assert_int_eq(value_i64(r), 15);

    call_ok(p, "gate_open", NOARGS);
    pthread_join(th, NULL);
    ck_assert_msg(j.status == FERRY_OK, "gate_wait: %s", ferry_status_name(j.status));
    plug_close(p);
}
END_TEST

START_TEST(close_ref_argument_kept_alive_during_call)
{
    /* a ref<T> argument is kept alive for the call: dropping it from another
     * thread meanwhile fails with FERRY_E_BORROWED */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    call_ok(p, "gate_close", NOARGS);
    ferry_handle h = cplug_counter(p, 9);
    gate_job j = {p, "gate_hold", h, FERRY_E_LIMIT};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, gate_thread, &j), 0);
    wait_for_gate(p, 1);

    uint64_t released = cplug_released(p);
    outcome drop, close;
    record(drop, ferry_drop(h));
    record(close, ferry_plugin_close(p));
    uint64_t released_during = cplug_released(p);

    call_ok(p, "gate_open", NOARGS);
    pthread_join(th, NULL);
    ck_assert_msg(j.status == FERRY_OK, "gate_hold: %s", ferry_status_name(j.status));
    if (drop.status != FERRY_OK)
        expect_ok(ferry_drop(h));
    if (close.status != FERRY_OK)
        plug_close(p);
    else
        plug_forget(p);

    expect_recorded(drop, FERRY_E_BORROWED, "ferry_drop");
    ck_assert_uint_eq(released_during, released);
    /* busy for two reasons: the running call and the live handle, which the
     * message lists like any live handle */
    expect_recorded(close, FERRY_E_BUSY, "call", COUNTER_NAME);
}
END_TEST

START_TEST(close_host_handles_do_not_block)
{
    /* handles of host types the plugin used do not keep it open */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    ferry_handle b = host_buffer_handle(12);
    ferry_value r = call_ok(p, "host_buffer_len", ARGS(ferry_value_borrowed(b)));
    ck_assert_uint_eq(value_u32(r), 12);
    plug_close(p);
    long destroyed = host_buffers_destroyed();
    expect_ok(ferry_drop(b));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Signatures                                                          */
/* ------------------------------------------------------------------ */

static ferry_signature parse_ok_at(const char *text, const char *file, int line)
{
    ferry_signature sig;
    memset(&sig, 0xa5, sizeof sig);
    ferry_status s = ferry_signature_parse(text, &sig);
    require(s == FERRY_OK, "%s:%d: ferry_signature_parse(\"%s\"): %s (%s)", file, line, text,
            ferry_status_name(s), ferry_last_error());
    return sig;
}
#define parse_ok(text) parse_ok_at((text), __FILE__, __LINE__)

static void expect_param(const ferry_param *p, ferry_value_kind k, bool exclusive, const char *type)
{
    ck_assert_msg(p->kind == k, "kind %s, expected %s", ferry_value_kind_name(p->kind),
                  ferry_value_kind_name(k));
    ck_assert(p->exclusive == exclusive);
    ck_assert_str_eq(p->type_name, type);
}

START_TEST(signature_scalars)
{
    static const struct {
        const char *name;
        ferry_value_kind kind;
    } kinds[] = {
        {"i8", FERRY_VALUE_I8},   {"i16", FERRY_VALUE_I16},   {"i32", FERRY_VALUE_I32},
        {"i64", FERRY_VALUE_I64}, {"u8", FERRY_VALUE_U8},     {"u16", FERRY_VALUE_U16},
        {"u32", FERRY_VALUE_U32}, {"u64", FERRY_VALUE_U64},   {"f32", FERRY_VALUE_F32},
        {"f64", FERRY_VALUE_F64}, {"bool", FERRY_VALUE_BOOL}, {"str", FERRY_VALUE_STR},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "(%s) -> %s", kinds[i].name, kinds[i].name);
        ferry_signature sig = parse_ok(text);
        ck_assert_uint_eq(sig.nargs, 1);
        expect_param(&sig.args[0], kinds[i].kind, false, "");
        expect_param(&sig.result, kinds[i].kind, false, "");
        ck_assert_str_eq(ferry_value_kind_name(kinds[i].kind), kinds[i].name);
    }
    ferry_signature sig =
        parse_ok("(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool, str) -> u64");
    ck_assert_uint_eq(sig.nargs, 12);
    for (size_t i = 0; i < 12; i++)
        expect_param(&sig.args[i], kinds[i].kind, false, "");
    expect_param(&sig.result, FERRY_VALUE_U64, false, "");
}
END_TEST

START_TEST(signature_handles)
{
    ferry_signature sig = parse_ok("(own<host.Image>, ref<img.Image>, mut<a_b.C9>) -> own<x.Y>");
    ck_assert_uint_eq(sig.nargs, 3);
    expect_param(&sig.args[0], FERRY_VALUE_OWNED, false, "host.Image");
    expect_param(&sig.args[1], FERRY_VALUE_BORROWED, false, "img.Image");
    expect_param(&sig.args[2], FERRY_VALUE_BORROWED, true, "a_b.C9");
    expect_param(&sig.result, FERRY_VALUE_OWNED, false, "x.Y");

    /* a plain name without a dot is a type name too */
    sig = parse_ok("(ref<Image>) -> u32");
    expect_param(&sig.args[0], FERRY_VALUE_BORROWED, false, "Image");
}
END_TEST

START_TEST(signature_no_result_and_spaces)
{
    ferry_signature sig = parse_ok("()");
    ck_assert_uint_eq(sig.nargs, 0);
    expect_param(&sig.result, FERRY_VALUE_VOID, false, "");

    sig = parse_ok("(own<c.Counter>)");
    ck_assert_uint_eq(sig.nargs, 1);
    expect_param(&sig.args[0], FERRY_VALUE_OWNED, false, "c.Counter");
    expect_param(&sig.result, FERRY_VALUE_VOID, false, "");

    sig = parse_ok("() -> str");
    ck_assert_uint_eq(sig.nargs, 0);
    expect_param(&sig.result, FERRY_VALUE_STR, false, "");

    sig = parse_ok("  (  i32 ,mut<c.Counter> ,  f64  )   ->   own<c.Counter>  ");
    ck_assert_uint_eq(sig.nargs, 3);
    expect_param(&sig.args[0], FERRY_VALUE_I32, false, "");
    expect_param(&sig.args[1], FERRY_VALUE_BORROWED, true, "c.Counter");
    expect_param(&sig.args[2], FERRY_VALUE_F64, false, "");
    expect_param(&sig.result, FERRY_VALUE_OWNED, false, "c.Counter");

    sig = parse_ok("(i32,i32)->i64");
    ck_assert_uint_eq(sig.nargs, 2);
    expect_param(&sig.result, FERRY_VALUE_I64, false, "");

    /* exactly FERRY_PLUGIN_MAX_ARGS */
    sig = parse_ok("(u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8)");
    ck_assert_uint_eq(sig.nargs, FERRY_PLUGIN_MAX_ARGS);
}
END_TEST

START_TEST(signature_invalid)
{
    static const struct {
        const char *text;
        const char *needle; /* must be in the message */
    } bad[] = {
        {"(i33) -> u8", "i33"},
        {"(i32 -> u8", "i32 -> u8"},
        {"(i32", "(i32"},
        {"i32) -> u8", "i32) -> u8"},
        {"", "ferry_signature_parse"},
        {"(i32) -> ref<c.Counter>", "ref"},
        {"(i32) -> mut<c.Counter>", "mut"},
        {"(own<>) -> u8", "own<>"},
        {"(ref<c.Counter) -> u8", "ref<c.Counter)"},
        {"(own<c Counter>)", "c Counter"},
        {"(i32,) -> u8", "(i32,)"},
        {"(,i32)", "(,i32)"},
        {"(i32 i32)", "(i32 i32)"},
        {"(i32) -> ", "(i32) -> "},
        {"(i32) ->", "(i32) ->"},
        {"(i32) u8", "(i32) u8"},
        {"(i32) -> u8 garbage", "garbage"},
        {"(i32) -> u8)", "u8)"},
        {"(I32)", "I32"},
        {"(void)", "void"},
        {"(u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8,u8)", "16"},
        {"(own<own<c.Counter>>)", "own<own<c.Counter>>"},
        /* no spaces inside own<...> (docs/plugin-abi.md) */
        {"(mut< c.Counter >)", "mut< c.Counter >"},
        {"(own <c.Counter>)", "own <c.Counter>"},
        {"() -> own<c.Counter >", "own<c.Counter >"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ferry_signature sig;
        memset(&sig, 0x5a, sizeof sig);
        ferry_signature before = sig;
        char what[256];
        snprintf(what, sizeof what, "ferry_signature_parse(\"%s\")", bad[i].text);
        expect_fail_at(ferry_signature_parse(bad[i].text, &sig), FERRY_E_SIGNATURE, what, __FILE__,
                       __LINE__, (const char *const[]){bad[i].needle, NULL});
        ck_assert_msg(memcmp(&sig, &before, sizeof sig) == 0, "%s wrote *out", what);
    }

    /* a type name longer than FERRY_PLUGIN_MAX_NAME */
    char text[FERRY_PLUGIN_MAX_NAME + 64];
    char name[FERRY_PLUGIN_MAX_NAME + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(text, sizeof text, "(own<%s>)", name);
    ferry_signature sig;
    expect_fail(ferry_signature_parse(text, &sig), FERRY_E_SIGNATURE, "ferry_signature_parse");
    /* ... and exactly the longest allowed */
    name[FERRY_PLUGIN_MAX_NAME] = '\0';
    snprintf(text, sizeof text, "(own<%s>)", name);
    sig = parse_ok(text);
    ck_assert_uint_eq(strlen(sig.args[0].type_name), FERRY_PLUGIN_MAX_NAME);
}
END_TEST

START_TEST(signature_null_arguments)
{
    ferry_signature sig;
    expect_fail(ferry_signature_parse(NULL, &sig), FERRY_E_NULL, "ferry_signature_parse");
    expect_fail(ferry_signature_parse("(i32)", NULL), FERRY_E_NULL, "ferry_signature_parse");
}
END_TEST

START_TEST(signature_position_in_message)
{
    /* the message points at the offending position */
    ferry_signature sig;
    expect_fail(ferry_signature_parse("(i32, i64, x99) -> u8", &sig), FERRY_E_SIGNATURE, "x99");
    /* offset 11, or column 12 */
    const char *msg = ferry_last_error();
    ck_assert_msg(strstr(msg, "11") || strstr(msg, "12"), "no position in \"%s\"", msg);
}
END_TEST

static Suite *open_suite(void)
{
    Suite *s = suite_create("plugin.open");
    ADD_CASE(s, open_missing_file, 30);
    ADD_CASE(s, open_text_file, 30);
    ADD_CASE(s, open_static_archive, 30);
    ADD_CASE(s, open_executable, 30);
    ADD_CASE(s, open_directory, 30);
    ADD_CASE(s, open_unresolved_symbol, 30);
    ADD_CASE(s, open_no_descriptor, 30);
    ADD_CASE(s, open_bad_magic, 30);
    ADD_CASE(s, open_bad_abi_version, 30);
    ADD_CASE(s, open_bad_flags, 30);
    ADD_CASE(s, open_own_table, 30);
    ADD_CASE(s, open_null_table_id, 30);
    ADD_CASE(s, open_bad_signature, 30);
    ADD_CASE(s, open_bad_function_name, 30);
    ADD_CASE(s, open_null_entry, 30);
    ADD_CASE(s, open_duplicate_function, 30);
    ADD_CASE(s, open_type_twice, 30);
    ADD_CASE(s, open_duplicate_type, 30);
    ADD_CASE(s, open_copy_clashes_with_open_plugin, 30);
    ADD_CASE(s, open_same_file_twice, 30);
    ADD_CASE(s, open_null_arguments, 30);
    ADD_CASE(s, open_introspection, 30);
    ADD_CASE(s, close_busy_with_live_handle, 30);
    ADD_CASE(s, close_busy_with_handle_the_host_took, 30);
    ADD_CASE(s, close_then_stale_handle_names_type, 30);
    ADD_CASE(s, close_then_reopen, 60);
    ADD_CASE(s, close_then_register_type_again_then_reopen, 60);
    ADD_CASE(s, close_then_register_type_again_after_a_copy, 60);
    ADD_CASE(s, close_then_stale_plugin_pointer, 30);
    ADD_CASE(s, reopen_cycles_cost_no_memory, 300);
    ADD_CASE(s, close_busy_while_call_runs, 120);
    ADD_CASE(s, close_ref_argument_kept_alive_during_call, 120);
    ADD_CASE(s, close_host_handles_do_not_block, 30);
    ADD_CASE(s, signature_scalars, 30);
    ADD_CASE(s, signature_handles, 30);
    ADD_CASE(s, signature_no_result_and_spaces, 30);
    ADD_CASE(s, signature_invalid, 30);
    ADD_CASE(s, signature_null_arguments, 30);
    ADD_CASE(s, signature_position_in_message, 30);
    return s;
}

int main(void)
{
    return run_suite(open_suite());
}
