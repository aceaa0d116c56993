/*
 * plugin_support.h — helpers shared by the plugin Check suites.
 *
 * The suites link the SHARED libferry, like a real host: plugins resolve
 * their ferry_* calls to the same library, so the process has one handle
 * table. They may run with CK_FORK=no (sanitizers, valgrind), where
 * registrations, counters and the ledger carry over from case to case, so
 * every case asserts deltas, closes what it opens and ends what it makes.
 *
 * Rule for threads other than the one running the case: no Check assertion
 * there. Record what happened and assert on the case's thread afterwards.
 */
#ifndef FERRY_PLUGIN_SUPPORT_H
#define FERRY_PLUGIN_SUPPORT_H

#include <check.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ferry.h"
#include "plugin_types.h"

/* ------------------------------------------------------------------ */
/* Plugin files (compile definitions from tests/plugin/CMakeLists.txt)  */
/* ------------------------------------------------------------------ */

#ifndef PLUG_CPLUG
#error "PLUG_CPLUG must name the C test plugin (set by tests/plugin/CMakeLists.txt)"
#endif

/* ------------------------------------------------------------------ */
/* Host types                                                          */
/* ------------------------------------------------------------------ */

/* Registers host.Buffer and host.Shared (idempotent: the same descriptors
 * every time). Asserts success. */
void host_types_init(void);
const ferry_type *host_buffer_type(void);
const ferry_type *host_shared_type(void);

/* host.Buffer destructor calls, ever (the destructor also scrubs and frees). */
long host_buffers_destroyed(void);
/* host.Buffer destructor calls on a buffer that was not live (must stay 0). */
long host_buffers_bad(void);
/* A new heap buffer with len bytes 0, 1, 2, ... */
host_buffer *host_buffer_new(uint32_t len);
/* host_buffer_new boxed into a unique handle; asserts success. */
ferry_handle host_buffer_handle(uint32_t len);

/* host.Shared: Arc-like. Counters: objects destroyed (last strong unit
 * gone), objects freed (last weak unit gone), release calls. */
long host_shared_destroyed(void);
long host_shared_freed(void);
long host_shared_bad(void);
host_shared *host_shared_new(int32_t value);
long host_shared_strong(const host_shared *s);

/* ------------------------------------------------------------------ */
/* Opening and calling                                                 */
/* ------------------------------------------------------------------ */

/* ferry_plugin_open, asserting success; the plugin is remembered so the
 * case teardown can close it if the case failed half-way. */
ferry_plugin *plug_open_at(const char *path, const char *file, int line);
#define plug_open(path) plug_open_at((path), __FILE__, __LINE__)
/* ferry_plugin_close, asserting success. */
void plug_close_at(ferry_plugin *p, const char *file, int line);
#define plug_close(p) plug_close_at((p), __FILE__, __LINE__)
/* Forget p (after a close the test made itself). */
void plug_forget(ferry_plugin *p);

/* An argument list: ARGS(ferry_value_i32(1), ...) expands to "array, count". */
#define ARGS(...)                                                                                  \
    (const ferry_value[]){__VA_ARGS__},                                                            \
        sizeof((const ferry_value[]){__VA_ARGS__}) / sizeof(ferry_value)
#define NOARGS NULL, 0
/* An explicit array and count, as one macro argument. */
#define RAW_ARGS(array, count) (array), (count)

/* ferry_plugin_call that must succeed; returns the result. */
ferry_value call_ok_at(ferry_plugin *p, const char *name, const ferry_value *args, size_t nargs,
                       const char *file, int line);
#define call_ok(p, name, ...) call_ok_at((p), (name), __VA_ARGS__, __FILE__, __LINE__)
/* A result of the given kind, asserting the kind. */
int64_t value_i64_at(ferry_value v, const char *file, int line);
uint64_t value_u64_at(ferry_value v, const char *file, int line);
uint32_t value_u32_at(ferry_value v, const char *file, int line);
ferry_handle value_own_at(ferry_value v, const char *file, int line);
#define value_i64(v) value_i64_at((v), __FILE__, __LINE__)
#define value_u64(v) value_u64_at((v), __FILE__, __LINE__)
#define value_u32(v) value_u32_at((v), __FILE__, __LINE__)
#define value_own(v) value_own_at((v), __FILE__, __LINE__)

/* The C plugin's released() (c.Counter destructor calls since it loaded). */
uint64_t cplug_released(ferry_plugin *p);
/* counter_new(v), asserting success. */
ferry_handle cplug_counter(ferry_plugin *p, int64_t v);
/* counter_get(h), asserting success. */
int64_t cplug_get(ferry_plugin *p, ferry_handle h);

/* ------------------------------------------------------------------ */
/* Assertions                                                          */
/* ------------------------------------------------------------------ */

/* Like ck_assert_msg, silent on success (fast in loops). */
#define require(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

void expect_status_at(ferry_status got, ferry_status want, const char *what, const char *file,
                      int line);
/* The status is `want`, the message starts with its name, and it contains
 * every needle (a NULL-terminated list). */
void expect_fail_at(ferry_status got, ferry_status want, const char *what, const char *file,
                    int line, const char *const *needles);
#define expect_ok(call) expect_status_at((call), FERRY_OK, #call, __FILE__, __LINE__)
#define expect_status(call, want) expect_status_at((call), (want), #call, __FILE__, __LINE__)
#define expect_fail(call, want, ...)                                                               \
    expect_fail_at((call), (want), #call, __FILE__, __LINE__,                                      \
                   (const char *const[]){__VA_ARGS__, NULL})

/* A result kept for later: cases that must clean up before they assert (a
 * failed assertion under CK_FORK=no would leave the plugin busy for the
 * cases after it) record the call, clean up, then assert on the record. */
typedef struct outcome {
    ferry_status status;
    char message[1024];
    const char *what, *file;
    int line;
} outcome;
void record_at(outcome *o, ferry_status s, const char *what, const char *file, int line);
#define record(o, call) record_at(&(o), (call), #call, __FILE__, __LINE__)
void expect_recorded_at(const outcome *o, ferry_status want, const char *const *needles);
#define expect_recorded(o, want, ...)                                                              \
    expect_recorded_at(&(o), (want), (const char *const[]){__VA_ARGS__, NULL})

/* ferry_last_error() contains / lacks needle. */
void msg_has_at(const char *needle, const char *file, int line);
#define msg_has(needle) msg_has_at((needle), __FILE__, __LINE__)

/* ------------------------------------------------------------------ */
/* Snapshots: "a failed call changes nothing"                           */
/* ------------------------------------------------------------------ */

typedef struct snap {
    ferry_counts all, counter, buffer, shared;
    size_t live;
    uint64_t counter_released;
    long buffers_destroyed, shared_destroyed, shared_freed;
} snap;

/* Takes the ledgers, ferry_live, the host counters and (p not NULL) the C
 * plugin's released(). */
void snap_take(snap *s, ferry_plugin *p);
void snap_assert_eq_at(const snap *a, const snap *b, const char *file, int line);
#define snap_assert_eq(a, b) snap_assert_eq_at((a), (b), __FILE__, __LINE__)

ferry_counts ledger_of(const ferry_type *t);
/* created + cloned == taken + dropped_by_c + dropped_by_rust + live */
void counts_assert_balanced_at(const ferry_counts *c, const char *file, int line);
#define counts_assert_balanced(c) counts_assert_balanced_at((c), __FILE__, __LINE__)
/* The all-types ledger balances. */
#define ledger_assert_balanced()                                                                   \
    do {                                                                                           \
        ferry_counts all_ = ledger_of(NULL);                                                       \
        counts_assert_balanced(&all_);                                                             \
    } while (0)

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/* Iteration count n divided by FERRY_TEST_SCALE (at least 1). */
long scaled(long n);
/* Sleeps about ms milliseconds. */
void sleep_ms(long ms);

/* Closes the plugins a failed case left open (best effort). */
void plug_case_teardown(void);
int run_suite(Suite *s);

#define ADD_CASE(suite, fn, timeout)                                                               \
    do {                                                                                           \
        TCase *tc_ = tcase_create(#fn);                                                            \
        tcase_set_timeout(tc_, (timeout));                                                         \
        tcase_add_checked_fixture(tc_, host_types_init, plug_case_teardown);                       \
        tcase_add_test(tc_, fn);                                                                   \
        suite_add_tcase((suite), tc_);                                                             \
    } while (0)

#endif /* FERRY_PLUGIN_SUPPORT_H */
