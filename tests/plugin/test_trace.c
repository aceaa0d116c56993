/*
 * test_trace.c — FERRY_TRACE=1 (plugin.trace) with plugin calls: a handle
 * moved into a plugin function has the caller's stack as its release, and
 * a refused result quotes the one-line message of the handle it names.
 * The host exports its symbols (-rdynamic), so its frames are named.
 */
#include "plugin_support.h"

#include <stdlib.h>
#include <string.h>

static ferry_plugin *P;

/* The host code the frames must name: exported and never inlined. */
__attribute__((noinline)) ferry_status trace_host_moves_into_plugin(ferry_handle h)
{
    ferry_value arg = ferry_value_owned(h), r;
    volatile ferry_status s = ferry_plugin_call(P, "counter_free", &arg, 1, &r); /* no tail call */
    return s;
}

START_TEST(trace_moved_handle_released_at_the_call)
{
    P = plug_open(PLUG_CPLUG);
    const ferry_type *t = ferry_type_find("c.Counter");
    ck_assert_ptr_nonnull(t);
    ferry_handle h = cplug_counter(P, 5);
    ck_assert_int_eq(trace_host_moves_into_plugin(h), FERRY_OK);
    ck_assert_int_eq(ferry_check(h, t), FERRY_E_STALE);
    const char *msg = ferry_last_error();
    ck_assert_msg(strstr(msg, "released at ferry_plugin_call (moved into cplug.counter_free)\n"),
                  "%s", msg);
    const char *released = strstr(msg, "\n  released:\n");
    ck_assert_msg(released && strstr(released, "\n    #0 trace_host_moves_into_plugin+0x"), "%s",
                  msg);
    ck_assert_int_eq(ferry_plugin_close(P), FERRY_OK);
    plug_forget(P);
}
END_TEST

START_TEST(trace_refused_result_stays_one_line)
{
    P = plug_open(PLUG_CPLUG);
    ferry_value r;
    ck_assert_int_eq(ferry_plugin_call(P, "stale_result", NOARGS, &r), FERRY_E_SIGNATURE);
    const char *msg = ferry_last_error();
    ck_assert_msg(strstr(msg, "stale_result") && !strchr(msg, '\n'), "%s", msg);
    ck_assert_int_eq(ferry_plugin_close(P), FERRY_OK);
    plug_forget(P);
}
END_TEST

int main(void)
{
    const char *v = getenv("FERRY_TRACE");
    if (!v || strcmp(v, "1") != 0) {
        fprintf(stderr, "plugin.trace runs with FERRY_TRACE=1\n");
        return 1;
    }
    Suite *s = suite_create("plugin.trace");
    ADD_CASE(s, trace_moved_handle_released_at_the_call, 60);
    ADD_CASE(s, trace_refused_result_stays_one_line, 60);
    return run_suite(s);
}
