/*
 * bench_plugin.c — ferry_bench_plugin: what a checked dynamic call costs.
 * The same plugin function is called three ways, in alternation, in one
 * run:
 *   direct   through the entry pointer, as a host that knew the C
 *            signature at compile time would (the floor);
 *   ffi      a bare ffi_call with a prepared cif: the price of calling a
 *            signature known only at run time, without any check;
 *   ferry    ferry_plugin_call by name with tagged values: lookup, every
 *            check of DESIGN.md, the plugin gate, then the same ffi_call.
 * Target: ferry <= 2x ffi (the checks cost no more than the call itself).
 * Two functions: add(i64, i64) -> i64, and value(ref<bench.Obj>) -> i64,
 * whose handle argument ferry checks and pins and the plugin borrows.
 *
 * Usage: ferry_bench_plugin PLUGIN [--quick] [--markdown FILE] [--reps N]
 * Not part of the CTest suite on purpose (timings would make it flaky).
 */
#include <ffi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"
#include "report.h"

typedef struct bench_obj {
    int64_t value;
} bench_obj;

typedef ferry_status (*add_fn)(int64_t, int64_t, int64_t *);
typedef ferry_status (*value_fn)(ferry_handle, int64_t *);

static ferry_plugin *plugin;
static add_fn direct_add;
static value_fn direct_value;
static ffi_cif add_cif, value_cif;
static ffi_type *add_args[] = {&ffi_type_sint64, &ffi_type_sint64, &ffi_type_pointer};
static ffi_type *handle_elements[] = {&ffi_type_uint64, NULL};
static ffi_type handle_type = {0, 0, FFI_TYPE_STRUCT, handle_elements};
static ffi_type *value_args[] = {&handle_type, &ffi_type_pointer};
static ferry_handle obj_handle;
static volatile int64_t sink;

static void check(ferry_status s, const char *what)
{
    if (s != FERRY_OK)
        die(what, s);
}

/* Each loop makes n calls and keeps the results live through `sink`. */
static void loop_direct_add(uint64_t n)
{
    int64_t r = 0, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        check(direct_add((int64_t)i, 1, &r), "direct add");
        acc += r;
    }
    sink = acc;
}

static void loop_ffi_add(uint64_t n)
{
    int64_t a, b = 1, r = 0, acc = 0;
    int64_t *out = &r;
    void *values[] = {&a, &b, &out};
    ffi_arg rc;
    for (uint64_t i = 0; i < n; i++) {
        a = (int64_t)i;
        ffi_call(&add_cif, (void (*)(void))direct_add, &rc, values);
        check((ferry_status)(int32_t)rc, "ffi add");
        acc += r;
    }
    sink = acc;
}

static void loop_ferry_add(uint64_t n)
{
    ferry_value args[2] = {ferry_value_i64(0), ferry_value_i64(1)}, ret;
    int64_t acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        args[0].as.i64 = (int64_t)i;
        check(ferry_plugin_call(plugin, "add", args, 2, &ret), "ferry_plugin_call add");
        acc += ret.as.i64;
    }
    sink = acc;
}

static void loop_direct_value(uint64_t n)
{
    int64_t r = 0, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        check(direct_value(obj_handle, &r), "direct value");
        acc += r;
    }
    sink = acc;
}

static void loop_ffi_value(uint64_t n)
{
    int64_t r = 0, acc = 0;
    int64_t *out = &r;
    void *values[] = {&obj_handle, &out};
    ffi_arg rc;
    for (uint64_t i = 0; i < n; i++) {
        ffi_call(&value_cif, (void (*)(void))direct_value, &rc, values);
        check((ferry_status)(int32_t)rc, "ffi value");
        acc += r;
    }
    sink = acc;
}

static void loop_ferry_value(uint64_t n)
{
    ferry_value arg = ferry_value_borrowed(obj_handle), ret;
    int64_t acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        check(ferry_plugin_call(plugin, "value", &arg, 1, &ret), "ferry_plugin_call value");
        acc += ret.as.i64;
    }
    sink = acc;
}

typedef void (*loop_fn)(uint64_t n);

/* Best ns/call of each loop over reps rounds, the loops alternating. */
static void measure(const loop_fn *loops, int count, int reps, double rep_ns, double *best)
{
    uint64_t n[8];
    for (int k = 0; k < count; k++) {
        n[k] = 1000;
        for (;;) {
            double t0 = now_ns();
            loops[k](n[k]);
            double t = now_ns() - t0;
            if (t >= rep_ns / 4 || n[k] > (1ull << 32))
                break;
            n[k] *= 4;
        }
        best[k] = 1e30;
    }
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < count; k++) {
            double t0 = now_ns();
            loops[k](n[k]);
            double ns = (now_ns() - t0) / (double)n[k];
            if (ns < best[k])
                best[k] = ns;
        }
}

static void table(const char *fn, const double *ns)
{
    double ratio = ns[2] / ns[1];
    emit("| %s | %.1f | %.1f | %.1f | %.2fx | %.2fx | <= 2x | %s |\n", fn, ns[0], ns[1], ns[2],
         ns[2] / ns[0], ratio,
         verdict(ratio <= 2.0, "plugin call %s: ferry_plugin_call %.1f ns vs bare ffi_call %.1f ns "
                               "= %.2fx, target <= 2x",
                 fn, ns[2], ns[1], ratio));
}

static void setup(const char *path)
{
    check(ferry_plugin_open(path, &plugin), "ferry_plugin_open");
    direct_add = (add_fn)ferry_plugin_find(plugin, "add")->entry;
    direct_value = (value_fn)ferry_plugin_find(plugin, "value")->entry;
    if (ffi_prep_cif(&add_cif, FFI_DEFAULT_ABI, 3, &ffi_type_sint32, add_args) != FFI_OK ||
        ffi_prep_cif(&value_cif, FFI_DEFAULT_ABI, 2, &ffi_type_sint32, value_args) != FFI_OK) {
        fprintf(stderr, "%s: ffi_prep_cif failed\n", report_program);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    report_program = "ferry_bench_plugin";
    const char *path = NULL, *md_path = NULL;
    bool quick = false;
    int reps = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--markdown") == 0 && i + 1 < argc)
            md_path = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: %s PLUGIN [--quick] [--markdown FILE] [--reps N]\n",
                    report_program);
            return 2;
        }
    }
    if (!path || reps < 1) {
        fprintf(stderr, "usage: %s PLUGIN [--quick] [--markdown FILE] [--reps N]\n",
                report_program);
        return 2;
    }
    if (md_path && !report_markdown(md_path))
        return 2;
    setup(path);
    static bench_obj obj = {.value = 42};
    check(ferry_box(ferry_plugin_type_at(plugin, 0), &obj, &obj_handle), "ferry_box");

    double rep_ns = quick ? 3e6 : 30e6;
    double add_ns[3], value_ns[3];
    progress("add(i64, i64) -> i64");
    measure((const loop_fn[]){loop_direct_add, loop_ffi_add, loop_ferry_add}, 3, reps, rep_ns,
            add_ns);
    progress("value(ref<bench.Obj>) -> i64");
    measure((const loop_fn[]){loop_direct_value, loop_ffi_value, loop_ferry_value}, 3, reps,
            rep_ns, value_ns);

    emit("## Plugin calls\n\n");
    emit("ns per call, best of %d, the three ways measured in alternation in one run.\n\n", reps);
    emit("| function | direct | bare ffi_call | ferry_plugin_call | ferry / direct | "
         "ferry / ffi | target | result |\n");
    emit("|---|---:|---:|---:|---:|---:|---:|:---:|\n");
    table("add(i64, i64) -> i64", add_ns);
    table("value(ref<bench.Obj>) -> i64", value_ns);
    emit("\n");

    check(ferry_drop(obj_handle), "ferry_drop");
    check(ferry_plugin_close(plugin), "ferry_plugin_close");
    report_finish();
    return 0;
}
