/*
 * test_rust.c — the Rust test plugins (rust/plugins/imaging and text) opened
 * by a C host.
 *
 * Their descriptors come from ferry::plugin!: the signatures must be the
 * ones the Rust functions have; every scalar kind round-trips; a panic is
 * FERRY_E_PANIC with the panic's message and leaves the plugin usable; a
 * host buffer given to Rust is destroyed exactly once (also on another
 * thread); own<T> arguments are consumed; close is refused while Rust
 * objects live; a handle of one plugin's type is refused by the other's.
 */
#include "plugin_support.h"

#include <float.h>
#include <pthread.h>
#include <stdio.h>

#ifndef RUST_IMAGING
#error "RUST_IMAGING must name the imaging plugin (set by tests/plugin/CMakeLists.txt)"
#endif

#define IMAGE_NAME "img.Image"
#define DOC_NAME "text.Doc"

static ferry_plugin *IMG;

static void setup(void)
{
    host_types_init();
    IMG = plug_open(RUST_IMAGING);
}

static void teardown(void)
{
    ferry_status s = FERRY_OK;
    if (IMG) {
        s = ferry_plugin_close(IMG);
        if (s == FERRY_OK)
            plug_forget(IMG);
        IMG = NULL;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", s == FERRY_OK ? "" : ferry_last_error());
    plug_case_teardown();
    ck_assert_msg(s == FERRY_OK, "the case left the imaging plugin busy: %s", msg);
}

static const ferry_type *image_t(void)
{
    const ferry_type *t = ferry_type_find(IMAGE_NAME);
    ck_assert_ptr_nonnull(t);
    return t;
}

static ferry_handle new_image(uint32_t w, uint32_t h, uint8_t fill)
{
    return value_own(call_ok(IMG, "new_image",
                             ARGS(ferry_value_u32(w), ferry_value_u32(h), ferry_value_u8(fill))));
}

static uint64_t checksum(ferry_handle img)
{
    return value_u64(call_ok(IMG, "checksum", ARGS(ferry_value_borrowed(img))));
}

/* ------------------------------------------------------------------ */
/* Descriptors                                                         */
/* ------------------------------------------------------------------ */

static void expect_signature(ferry_plugin *p, const char *fn, const char *want)
{
    const ferry_plugin_function *f = ferry_plugin_find(p, fn);
    ck_assert_msg(f != NULL, "no function %s", fn);
    ferry_signature got, expected;
    ck_assert_msg(ferry_signature_parse(f->signature, &got) == FERRY_OK, "%s: \"%s\": %s", fn,
                  f->signature, ferry_last_error());
    ck_assert_msg(ferry_signature_parse(want, &expected) == FERRY_OK, "%s", ferry_last_error());
    bool same = got.nargs == expected.nargs && got.result.kind == expected.result.kind &&
                strcmp(got.result.type_name, expected.result.type_name) == 0;
    for (uint32_t i = 0; same && i < got.nargs; i++)
        same = got.args[i].kind == expected.args[i].kind &&
               got.args[i].exclusive == expected.args[i].exclusive &&
               strcmp(got.args[i].type_name, expected.args[i].type_name) == 0;
    ck_assert_msg(same, "%s: signature \"%s\", expected \"%s\"", fn, f->signature, want);
}

START_TEST(rust_imaging_descriptor)
{
    const ferry_plugin_desc *d = ferry_plugin_descriptor_of(IMG);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->abi_version, FERRY_PLUGIN_ABI_VERSION);
    ck_assert_str_eq(d->name, "imaging");
    ck_assert_str_eq(d->version, "0.1.0");
    ck_assert_uint_eq(d->ntypes, 1);
    ck_assert(d->table_id() == ferry_table_id());
    ck_assert_ptr_eq(ferry_plugin_type_at(IMG, 0), image_t());
    ck_assert_uint_eq(ferry_type_descriptor(image_t())->flags & FERRY_SEND, FERRY_SEND);

    static const char *const sigs[][2] = {
        {"new_image", "(u32, u32, u8) -> own<img.Image>"},
        {"width", "(ref<img.Image>) -> u32"},
        {"checksum", "(ref<img.Image>) -> u64"},
        {"brighten", "(mut<img.Image>, u8)"},
        {"blur", "(own<img.Image>, f64) -> own<img.Image>"},
        {"from_buffer", "(own<host.Buffer>) -> own<img.Image>"},
        {"buffer_len", "(ref<host.Buffer>) -> u32"},
        {"drop_buffer_on_thread", "(own<host.Buffer>)"},
        {"add", "(i64, i64) -> i64"},
        {"mix", "(i8, i16, i32, i64, u8, u16, u32, u64) -> i64"},
        {"scale", "(f32, f64) -> f64"},
        {"negate", "(bool) -> bool"},
        {"strlen", "(str) -> u64"},
        {"describe", "() -> str"},
        {"panic_now", "()"},
        {"fail", "(i32)"},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        expect_signature(IMG, sigs[i][0], sigs[i][1]);
    ck_assert_uint_eq(d->nfunctions, sizeof sigs / sizeof sigs[0]);
}
END_TEST

START_TEST(rust_text_descriptor)
{
    ferry_plugin *t = plug_open(RUST_TEXT);
    const ferry_plugin_desc *d = ferry_plugin_descriptor_of(t);
    ck_assert_str_eq(d->name, "text");
    ck_assert_uint_eq(d->ntypes, 1);
    ck_assert_ptr_eq(ferry_plugin_type_at(t, 0), ferry_type_find(DOC_NAME));
    static const char *const sigs[][2] = {
        {"doc_new", "(str) -> own<text.Doc>"},
        {"doc_len", "(ref<text.Doc>) -> u64"},
        {"doc_upper", "(ref<text.Doc>) -> own<text.Doc>"},
        {"doc_concat", "(own<text.Doc>, ref<text.Doc>) -> own<text.Doc>"},
        {"word_count", "(str) -> u32"},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        expect_signature(t, sigs[i][0], sigs[i][1]);
    ck_assert_uint_eq(d->nfunctions, sizeof sigs / sizeof sigs[0]);
    plug_close(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Scalars, strings, panics, errors                                    */
/* ------------------------------------------------------------------ */

START_TEST(rust_scalar_round_trips)
{
    ck_assert_int_eq(value_i64(call_ok(IMG, "add", ARGS(ferry_value_i64(40), ferry_value_i64(2)))),
                     42);
    ck_assert_int_eq(
        value_i64(call_ok(IMG, "add", ARGS(ferry_value_i64(INT64_MAX), ferry_value_i64(1)))),
        INT64_MIN); /* wrapping */
    ck_assert_int_eq(
        value_i64(call_ok(IMG, "add", ARGS(ferry_value_i64(INT64_MIN), ferry_value_i64(-1)))),
        INT64_MAX);

    /* every integer kind at its extremes: sign and zero extension through libffi */
    ferry_value r =
        call_ok(IMG, "mix",
                ARGS(ferry_value_i8(INT8_MIN), ferry_value_i16(INT16_MIN),
                     ferry_value_i32(INT32_MIN), ferry_value_i64(-1), ferry_value_u8(UINT8_MAX),
                     ferry_value_u16(UINT16_MAX), ferry_value_u32(UINT32_MAX), ferry_value_u64(7)));
    ck_assert_int_eq(value_i64(r), (int64_t)INT8_MIN + INT16_MIN + INT32_MIN - 1 + UINT8_MAX +
                                       UINT16_MAX + (int64_t)UINT32_MAX + 7);
    r = call_ok(IMG, "mix",
                ARGS(ferry_value_i8(-1), ferry_value_i16(-1), ferry_value_i32(-1),
                     ferry_value_i64(0), ferry_value_u8(1), ferry_value_u16(1), ferry_value_u32(1),
                     ferry_value_u64(UINT64_MAX)));
    ck_assert_int_eq(value_i64(r), -1); /* -3 + 3 + (u64::MAX as i64 == -1) */

    r = call_ok(IMG, "scale", ARGS(ferry_value_f32(1.5f), ferry_value_f64(-4.0)));
    ck_assert_int_eq(r.kind, FERRY_VALUE_F64);
    ck_assert_double_eq(r.as.f64, -6.0);
    r = call_ok(IMG, "scale", ARGS(ferry_value_f32(FLT_MAX), ferry_value_f64(2.0)));
    ck_assert_double_eq(r.as.f64, (double)FLT_MAX * 2.0);

    r = call_ok(IMG, "negate", ARGS(ferry_value_bool(true)));
    ck_assert_int_eq(r.kind, FERRY_VALUE_BOOL);
    ck_assert(r.as.b == false);
    r = call_ok(IMG, "negate", ARGS(ferry_value_bool(false)));
    ck_assert(r.as.b == true);

    ck_assert_uint_eq(value_u64(call_ok(IMG, "strlen", ARGS(ferry_value_str("")))), 0);
    ck_assert_uint_eq(
        value_u64(call_ok(IMG, "strlen", ARGS(ferry_value_str("gr\xc3\xbc\xc3\x9f")))), 6);
    ferry_value d1 = call_ok(IMG, "describe", NOARGS);
    ck_assert_int_eq(d1.kind, FERRY_VALUE_STR);
    ck_assert_str_eq(d1.as.str, "imaging test plugin");
    call_ok(IMG, "add", ARGS(ferry_value_i64(1), ferry_value_i64(1)));
    ck_assert_str_eq(d1.as.str, "imaging test plugin"); /* valid while open */
}
END_TEST

START_TEST(rust_refused_calls)
{
    ferry_value r;
    snap before, after;
    snap_take(&before, NULL);
    expect_fail(ferry_plugin_call(IMG, "add", ARGS(ferry_value_i32(1), ferry_value_i64(2)), &r),
                FERRY_E_SIGNATURE, "add", "i64", "i32");
    expect_fail(ferry_plugin_call(IMG, "strlen", ARGS(ferry_value_str("\xff")), &r),
                FERRY_E_SIGNATURE, "strlen", "UTF-8");
    expect_fail(ferry_plugin_call(IMG, "strlen", ARGS(ferry_value_str(NULL)), &r), FERRY_E_NULL,
                "strlen");
    expect_fail(ferry_plugin_call(IMG, "describe", NOARGS, NULL), FERRY_E_NULL, "describe");
    expect_fail(ferry_plugin_call(IMG, "no_such_fn", NOARGS, &r), FERRY_E_SIGNATURE, "no_such_fn");
    snap_take(&after, NULL);
    snap_assert_eq(&before, &after);
}
END_TEST

START_TEST(rust_panic_is_an_error)
{
    snap before, after;
    snap_take(&before, NULL);
    for (int i = 0; i < 3; i++) {
        ferry_value r;
        expect_fail(ferry_plugin_call(IMG, "panic_now", NOARGS, &r), FERRY_E_PANIC,
                    "panic_now was called");
        /* still usable */
        ck_assert_int_eq(
            value_i64(call_ok(IMG, "add", ARGS(ferry_value_i64(i), ferry_value_i64(1)))), i + 1);
    }
    expect_fail(ferry_plugin_call(IMG, "panic_now", NOARGS, NULL), FERRY_E_PANIC,
                "panic_now was called");
    snap_take(&after, NULL);
    snap_assert_eq(&before, &after);
}
END_TEST

START_TEST(rust_error_status)
{
    ferry_value r;
    expect_fail(ferry_plugin_call(IMG, "fail", ARGS(ferry_value_i32(7)), &r), FERRY_E_KIND,
                "fail was called with 7");
    expect_fail(ferry_plugin_call(IMG, "fail", ARGS(ferry_value_i32(-12)), NULL), FERRY_E_KIND,
                "fail was called with -12");
}
END_TEST

/* Every entry shape of the "panicky" plugin panics: each call is
 * FERRY_E_PANIC with the panic's text, owned arguments are still released,
 * borrowed ones stay the caller's, and the plugin stays usable. */
START_TEST(rust_panic_in_every_shape)
{
    ferry_plugin *pp = plug_open(RUST_PANICKY);
    ferry_value r;
    uint64_t drops = value_u64(call_ok(pp, "drops", NOARGS));
    ferry_handle bomb = value_own(call_ok(pp, "bomb", ARGS(ferry_value_bool(false))));
    ferry_handle kept = value_own(call_ok(pp, "bomb", ARGS(ferry_value_bool(false))));
    expect_fail(ferry_plugin_call(pp, "no_args", NOARGS, NULL), FERRY_E_PANIC,
                "panicky.no_args", "no_args panicked");
    expect_fail(ferry_plugin_call(pp, "scalars", ARGS(ferry_value_i64(3), ferry_value_f64(0.5)), &r),
                FERRY_E_PANIC, "scalars panicked with 3 and 0.5");
    expect_fail(ferry_plugin_call(pp, "text", ARGS(ferry_value_str("x")), &r), FERRY_E_PANIC,
                "text panicked on \"x\"");
    expect_fail(ferry_plugin_call(pp, "string_result", NOARGS, &r), FERRY_E_PANIC,
                "string_result panicked");
    expect_fail(ferry_plugin_call(pp, "shared", ARGS(ferry_value_borrowed(kept)), &r),
                FERRY_E_PANIC, "shared panicked");
    expect_fail(ferry_plugin_call(pp, "exclusive", ARGS(ferry_value_borrowed(kept)), NULL),
                FERRY_E_PANIC, "exclusive panicked");
    expect_ok(ferry_check(kept, NULL)); /* borrowed: still the caller's */
    size_t live = ferry_live();
    expect_fail(ferry_plugin_call(pp, "handle_result", NOARGS, &r), FERRY_E_PANIC,
                "handle_result panicked");
    ck_assert_uint_eq(ferry_live(), live);
    expect_fail(ferry_plugin_call(pp, "owned", ARGS(ferry_value_owned(bomb)), NULL),
                FERRY_E_PANIC, "owned panicked");
    expect_status(ferry_check(bomb, NULL), FERRY_E_STALE); /* moved, and released */
    ck_assert_uint_eq(value_u64(call_ok(pp, "drops", NOARGS)), drops + 1);
    expect_fail(ferry_plugin_call(pp, "fallible", ARGS(ferry_value_bool(true)), &r),
                FERRY_E_PANIC, "fallible panicked");
    ck_assert_uint_eq(value_u32(call_ok(pp, "fallible", ARGS(ferry_value_bool(false)))), 7);
    expect_ok(ferry_drop(kept));
    ck_assert_uint_eq(value_u64(call_ok(pp, "drops", NOARGS)), drops + 2);
    plug_close(pp);
    ledger_assert_balanced();
}
END_TEST

/* A destructor that panics when C drops its handle: the drop succeeds (a
 * release cannot fail), the object is gone exactly once, and the panic is
 * reported as the thread's last error rather than unwinding into C. */
START_TEST(rust_panic_in_a_destructor_called_from_c)
{
    ferry_plugin *pp = plug_open(RUST_PANICKY);
    uint64_t drops = value_u64(call_ok(pp, "drops", NOARGS));
    ferry_handle armed = value_own(call_ok(pp, "bomb", ARGS(ferry_value_bool(true))));
    expect_ok(ferry_drop(armed));
    ck_assert_msg(strstr(ferry_last_error(), "FERRY_E_PANIC") &&
                      strstr(ferry_last_error(), "Bomb went off in its destructor"),
                  "last error: %s", ferry_last_error());
    expect_status(ferry_check(armed, NULL), FERRY_E_STALE);
    ck_assert_uint_eq(value_u64(call_ok(pp, "drops", NOARGS)), drops + 1);
    plug_close(pp);
    ledger_assert_balanced();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rust objects                                                        */
/* ------------------------------------------------------------------ */

START_TEST(rust_image_round_trip)
{
    const ferry_type *t = image_t();
    ferry_counts before = ledger_of(t);
    size_t live = ferry_live();

    ferry_handle img = new_image(4, 3, 10);
    ck_assert_uint_eq(value_u32(call_ok(IMG, "width", ARGS(ferry_value_borrowed(img)))), 4);
    ck_assert_uint_eq(checksum(img), 120);
    call_ok(IMG, "brighten", ARGS(ferry_value_borrowed(img), ferry_value_u8(5)));
    ck_assert_uint_eq(checksum(img), 180);
    call_ok(IMG, "brighten", ARGS(ferry_value_borrowed(img), ferry_value_u8(250)));
    ck_assert_uint_eq(checksum(img), 12 * 255); /* saturating */

    /* blur consumes its argument */
    ferry_handle blurred =
        value_own(call_ok(IMG, "blur", ARGS(ferry_value_owned(img), ferry_value_f64(1.0))));
    expect_fail(ferry_check(img, t), FERRY_E_STALE, IMAGE_NAME);
    ferry_value r;
    expect_fail(
        ferry_plugin_call(IMG, "blur", ARGS(ferry_value_owned(img), ferry_value_f64(1.0)), &r),
        FERRY_E_STALE, IMAGE_NAME, "moved into imaging.blur");
    expect_fail(ferry_plugin_call(IMG, "width", ARGS(ferry_value_borrowed(img)), &r), FERRY_E_STALE,
                IMAGE_NAME);
    ck_assert_uint_eq(checksum(blurred), 12 * 255);
    ck_assert_uint_eq(ferry_live(), live + 1);

    /* wrong kinds and a borrowed handle */
    expect_fail(ferry_plugin_call(IMG, "blur",
                                  ARGS(ferry_value_borrowed(blurred), ferry_value_f64(1.0)), &r),
                FERRY_E_SIGNATURE, "blur");
    void *m;
    expect_ok(ferry_borrow_mut(blurred, t, &m));
    expect_fail(ferry_plugin_call(IMG, "checksum", ARGS(ferry_value_borrowed(blurred)), &r),
                FERRY_E_BORROWED, IMAGE_NAME);
    expect_ok(ferry_unborrow(blurred));

    expect_ok(ferry_drop(blurred));
    ck_assert_uint_eq(ferry_live(), live);
    ferry_counts after = ledger_of(t);
    ck_assert_uint_eq(after.live, before.live);
    counts_assert_balanced(&after);
    ledger_assert_balanced();
}
END_TEST

START_TEST(rust_host_buffer_to_rust)
{
    const ferry_type *bt = host_buffer_type();
    long destroyed = host_buffers_destroyed();
    size_t live = ferry_live();

    ferry_handle b = host_buffer_handle(10);
    ck_assert_uint_eq(value_u32(call_ok(IMG, "buffer_len", ARGS(ferry_value_borrowed(b)))), 10);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed);
    expect_ok(ferry_check(b, bt));

    /* from_buffer consumes the buffer: the host's destructor runs once */
    ferry_handle img = value_own(call_ok(IMG, "from_buffer", ARGS(ferry_value_owned(b))));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    expect_fail(ferry_check(b, bt), FERRY_E_STALE, HOST_BUFFER_NAME);
    ck_assert_uint_eq(value_u32(call_ok(IMG, "width", ARGS(ferry_value_borrowed(img)))), 10);
    ck_assert_uint_eq(checksum(img), 45); /* 0 + 1 + ... + 9 */
    expect_ok(ferry_drop(img));

    /* a buffer dropped on a thread Rust spawns */
    ferry_handle b2 = host_buffer_handle(3);
    call_ok(IMG, "drop_buffer_on_thread", ARGS(ferry_value_owned(b2)));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 2);
    ck_assert_int_eq(host_buffers_bad(), 0);
    expect_fail(ferry_check(b2, bt), FERRY_E_STALE, HOST_BUFFER_NAME);

    /* a c.Counter is no host.Buffer */
    ferry_handle img2 = new_image(1, 1, 1);
    ferry_value r;
    snap before, after;
    snap_take(&before, NULL);
    expect_fail(ferry_plugin_call(IMG, "buffer_len", ARGS(ferry_value_borrowed(img2)), &r),
                FERRY_E_TYPE, HOST_BUFFER_NAME, IMAGE_NAME);
    expect_fail(ferry_plugin_call(IMG, "from_buffer", ARGS(ferry_value_owned(img2)), &r),
                FERRY_E_TYPE, HOST_BUFFER_NAME, IMAGE_NAME);
    snap_take(&after, NULL);
    snap_assert_eq(&before, &after);
    expect_ok(ferry_drop(img2));

    ck_assert_uint_eq(ferry_live(), live);
    ferry_counts c = ledger_of(bt);
    counts_assert_balanced(&c);
    ledger_assert_balanced();
}
END_TEST

START_TEST(rust_close_busy_with_images)
{
    ferry_handle a = new_image(2, 2, 1);
    ferry_handle b = new_image(1, 1, 1);
    expect_fail(ferry_plugin_close(IMG), FERRY_E_BUSY, IMAGE_NAME);
    expect_ok(ferry_drop(a));
    expect_fail(ferry_plugin_close(IMG), FERRY_E_BUSY, IMAGE_NAME);
    /* still usable */
    ck_assert_uint_eq(checksum(b), 1);
    expect_ok(ferry_drop(b));
    plug_close(IMG);
    IMG = NULL;
    ck_assert_ptr_null(ferry_type_find(IMAGE_NAME));
    expect_fail(ferry_check(b, NULL), FERRY_E_STALE, IMAGE_NAME);

    /* a Rust plugin's code stays mapped; opening it again works */
    IMG = plug_open(RUST_IMAGING);
    ferry_handle c = new_image(3, 1, 2);
    ck_assert_uint_eq(checksum(c), 6);
    call_ok(IMG, "brighten", ARGS(ferry_value_borrowed(c), ferry_value_u8(1)));
    ck_assert_uint_eq(checksum(c), 9);
    expect_ok(ferry_drop(c));
    ferry_value r;
    expect_fail(ferry_plugin_call(IMG, "panic_now", NOARGS, &r), FERRY_E_PANIC,
                "panic_now was called");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Two Rust plugins and the C one                                      */
/* ------------------------------------------------------------------ */

START_TEST(rust_both_plugins_open)
{
    ferry_plugin *txt = plug_open(RUST_TEXT);
    ferry_plugin *cp = plug_open(PLUG_CPLUG);
    const ferry_type *dt = ferry_type_find(DOC_NAME);
    ck_assert_ptr_nonnull(dt);
    size_t live = ferry_live();

    ferry_handle doc =
        value_own(call_ok(txt, "doc_new", ARGS(ferry_value_str("hello w\xc3\xb6rld"))));
    ferry_kind k;
    expect_ok(ferry_kind_of(doc, &k));
    ck_assert_int_eq(k, FERRY_KIND_SHARED);
    ck_assert_uint_eq(value_u64(call_ok(txt, "doc_len", ARGS(ferry_value_borrowed(doc)))), 12);
    ferry_handle upper = value_own(call_ok(txt, "doc_upper", ARGS(ferry_value_borrowed(doc))));
    ck_assert_uint_eq(value_u64(call_ok(txt, "doc_len", ARGS(ferry_value_borrowed(upper)))), 12);
    ck_assert_uint_eq(
        value_u32(call_ok(txt, "word_count", ARGS(ferry_value_str("  one two\tthree \n")))), 3);

    /* a clone of the shared doc: concat consumes one unit, the other lives */
    ferry_handle copy;
    expect_ok(ferry_clone(doc, &copy));
    ferry_handle both = value_own(
        call_ok(txt, "doc_concat", ARGS(ferry_value_owned(copy), ferry_value_borrowed(upper))));
    expect_fail(ferry_check(copy, dt), FERRY_E_STALE, DOC_NAME);
    expect_ok(ferry_check(doc, dt));
    ck_assert_uint_eq(value_u64(call_ok(txt, "doc_len", ARGS(ferry_value_borrowed(both)))), 24);

    /* an image is not a document, a document is not an image */
    ferry_handle img = new_image(2, 1, 3);
    ferry_value r;
    snap before, after;
    snap_take(&before, cp);
    expect_fail(ferry_plugin_call(txt, "doc_len", ARGS(ferry_value_borrowed(img)), &r),
                FERRY_E_TYPE, DOC_NAME, IMAGE_NAME);
    expect_fail(ferry_plugin_call(txt, "doc_concat",
                                  ARGS(ferry_value_owned(img), ferry_value_borrowed(doc)), &r),
                FERRY_E_TYPE, DOC_NAME, IMAGE_NAME);
    expect_fail(ferry_plugin_call(IMG, "width", ARGS(ferry_value_borrowed(doc)), &r), FERRY_E_TYPE,
                DOC_NAME, IMAGE_NAME);
    expect_fail(ferry_plugin_call(cp, "counter_get", ARGS(ferry_value_borrowed(doc)), &r),
                FERRY_E_TYPE, DOC_NAME, COUNTER_NAME);
    snap_take(&after, cp);
    snap_assert_eq(&before, &after);

    /* each plugin's close only looks at its own types */
    expect_fail(ferry_plugin_close(txt), FERRY_E_BUSY, DOC_NAME);
    expect_fail(ferry_plugin_close(IMG), FERRY_E_BUSY, IMAGE_NAME);
    plug_close(cp);
    expect_ok(ferry_drop(doc));
    expect_ok(ferry_drop(upper));
    expect_ok(ferry_drop(both));
    plug_close(txt);
    expect_ok(ferry_drop(img));
    ck_assert_uint_eq(ferry_live(), live);
    ledger_assert_balanced();
}
END_TEST

START_TEST(rust_host_buffer_to_c_then_rust)
{
    /* one host type, two plugins in two languages */
    ferry_plugin *cp = plug_open(PLUG_CPLUG);
    long destroyed = host_buffers_destroyed();
    ferry_handle b = host_buffer_handle(20);
    ck_assert_uint_eq(value_u32(call_ok(cp, "host_buffer_len", ARGS(ferry_value_borrowed(b)))), 20);
    ck_assert_uint_eq(value_u32(call_ok(IMG, "buffer_len", ARGS(ferry_value_borrowed(b)))), 20);
    ferry_handle img = value_own(call_ok(IMG, "from_buffer", ARGS(ferry_value_owned(b))));
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    ferry_value r;
    expect_fail(ferry_plugin_call(cp, "host_buffer_drop", ARGS(ferry_value_owned(b)), &r),
                FERRY_E_STALE, HOST_BUFFER_NAME);
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + 1);
    expect_ok(ferry_drop(img));
    plug_close(cp);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

typedef struct img_worker {
    pthread_t thread;
    int id;
    long iterations, ok, errors;
    char first_error[512];
} img_worker;

static void img_error(img_worker *w, const char *what, ferry_status s)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "thread %d: %s: %s (%s)", w->id, what,
                 ferry_status_name(s), ferry_last_error());
}

/* new_image, brighten, blur (consumes), checksum, then a drop by C */
static void *img_thread(void *arg)
{
    img_worker *w = arg;
    for (long i = 0; i < w->iterations; i++) {
        uint8_t fill = (uint8_t)(i + w->id);
        ferry_value r;
        ferry_status s = ferry_plugin_call(
            IMG, "new_image", ARGS(ferry_value_u32(3), ferry_value_u32(2), ferry_value_u8(fill)),
            &r);
        if (s != FERRY_OK) {
            img_error(w, "new_image", s);
            continue;
        }
        ferry_handle img = r.as.handle;
        s = ferry_plugin_call(IMG, "brighten", ARGS(ferry_value_borrowed(img), ferry_value_u8(1)),
                              NULL);
        if (s != FERRY_OK)
            img_error(w, "brighten", s);
        s = ferry_plugin_call(IMG, "blur", ARGS(ferry_value_owned(img), ferry_value_f64(1.0)), &r);
        if (s != FERRY_OK) {
            img_error(w, "blur", s);
            continue;
        }
        ferry_handle blurred = r.as.handle;
        uint8_t px = (uint8_t)(fill == 255 ? 255 : fill + 1);
        s = ferry_plugin_call(IMG, "checksum", ARGS(ferry_value_borrowed(blurred)), &r);
        if (s != FERRY_OK || r.as.u64 != 6u * px)
            img_error(w, "checksum", s);
        s = ferry_drop(blurred);
        if (s != FERRY_OK)
            img_error(w, "ferry_drop", s);
        else
            w->ok++;
    }
    return NULL;
}

START_TEST(rust_threads_images)
{
    enum { N = 4 };
    const ferry_type *t = image_t();
    ferry_counts before = ledger_of(t);
    size_t live = ferry_live();
    long n = scaled(10000);
    img_worker ws[N];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < N; i++) {
        ws[i].id = i;
        ws[i].iterations = n;
        ck_assert_int_eq(pthread_create(&ws[i].thread, NULL, img_thread, &ws[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(ws[i].thread, NULL);
    for (int i = 0; i < N; i++) {
        ck_assert_msg(ws[i].errors == 0, "%ld errors; first: %s", ws[i].errors, ws[i].first_error);
        ck_assert_int_eq(ws[i].ok, n);
    }
    ck_assert_uint_eq(ferry_live(), live);
    ferry_counts after = ledger_of(t);
    ck_assert_uint_eq(after.live, before.live);
    ck_assert_uint_ge(after.created - before.created, (uint64_t)(2 * N * n));
    counts_assert_balanced(&after);
    ledger_assert_balanced();
}
END_TEST

static Suite *rust_suite(void)
{
    Suite *s = suite_create("plugin.rust");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
#define CASE(fn) {#fn, fn}
        CASE(rust_imaging_descriptor),         CASE(rust_text_descriptor),
        CASE(rust_scalar_round_trips),         CASE(rust_refused_calls),
        CASE(rust_panic_is_an_error),          CASE(rust_error_status),
        CASE(rust_image_round_trip),           CASE(rust_host_buffer_to_rust),
        CASE(rust_close_busy_with_images),     CASE(rust_both_plugins_open),
        CASE(rust_host_buffer_to_c_then_rust), CASE(rust_threads_images),
        CASE(rust_panic_in_every_shape),       CASE(rust_panic_in_a_destructor_called_from_c),
#undef CASE
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 600);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return run_suite(rust_suite());
}
