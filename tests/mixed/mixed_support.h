/*
 * mixed_support.h — helpers for the mixed C/Rust Check suites.
 *
 * The suites link two Rust static libraries (library A = rust/fixtures,
 * library B = rust/fixtures_b) and the shared libferry, so the process has one
 * handle table that C, A and B all use. The helpers here look up the fixture
 * types, take "balance" snapshots (the ferry ledger of every fixture type,
 * the Rust drop/clone counters and ferry_live()) and assert exact deltas
 * between two snapshots: the suites may run with CK_FORK=no, where every
 * counter carries over from case to case, so nothing asserts absolute counts.
 *
 * Rule for callbacks that Rust calls and for threads other than the one
 * running the case: never call a Check assertion there (a failure would
 * longjmp across Rust frames or kill the wrong thread). Record what happened
 * and assert on the case's own thread afterwards.
 */
#ifndef FERRY_MIXED_SUPPORT_H
#define FERRY_MIXED_SUPPORT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ferry.h"
#include "fixtures.h"
#include "fixtures_b.h"

/* Typed helpers (Counter_untyped(h), ferry_drop_as(Counter, h), ...). */
FERRY_TYPED_HANDLE(Counter, Handle_Counter, "fixture.Counter")
FERRY_TYPED_HANDLE(Cell, Handle_CellBox, "fixture.CellBox")
FERRY_TYPED_HANDLE(Node, Handle_Node, "fixture.Node")
FERRY_TYPED_HANDLE(Locked, Handle_Locked, "fixture.Locked")
FERRY_TYPED_HANDLE(Panicky, Handle_Panicky, "fixture.Panicky")

/* ------------------------------------------------------------------ */
/* Fixture types                                                      */
/* ------------------------------------------------------------------ */

/* Index of a fixture type; the same numbers fixture_count() takes for its
 * drop counters. */
enum mx_type { MX_COUNTER = 0, MX_CELL = 1, MX_NODE = 2, MX_LOCKED = 3, MX_PANICKY = 4, MX_NTYPES = 5 };
/* fixture_count(MX_COUNTER_CLONES): Counter::clone calls (deep copies). */
#define MX_COUNTER_CLONES 5

/* The registered ferry type of a fixture type. Library A registers its types
 * lazily (on the first handle it makes), so this makes and ends one object of
 * every fixture type the first time it is called in a process (idempotent;
 * called from every case's setup). Asserts on failure. */
const ferry_type *mx_type(enum mx_type which);
const char *mx_type_name(enum mx_type which);
void mx_types_init(void);

/* ------------------------------------------------------------------ */
/* Balance snapshots                                                  */
/* ------------------------------------------------------------------ */

typedef struct mx_balance {
    ferry_counts type[MX_NTYPES]; /* ferry_ledger of each fixture type */
    ferry_counts all;             /* ferry_ledger(NULL) */
    uint64_t rust[6];             /* fixture_count(0..5) */
    size_t live;                  /* ferry_live() */
} mx_balance;

void mx_balance_take(mx_balance *b);

/*
 * Expected change of one type's ledger and Rust counters between two
 * snapshots. Every field is a delta. live is not given: it must be
 * created + cloned - taken - dropped_by_c - dropped_by_rust.
 * Fields set to MX_ANY are not compared (use sparingly, with a reason).
 */
#define MX_ANY INT64_MIN
typedef struct mx_delta {
    int64_t created, cloned, taken, by_c, by_rust, revoked;
    int64_t borrows, handoffs;
    int64_t rust_drops;   /* fixture_count(type) */
    int64_t rust_clones;  /* fixture_count(5); Counter only */
} mx_delta;

/*
 * Asserts that between *before and now:
 *  - type `which` changed exactly by *d (its ledger identity holds too);
 *  - every other fixture type's ledger and Rust counters did not change,
 *    unless `others_may_change` (thread tests that run other types);
 *  - ferry_live() changed by exactly the sum of the fixture types' live
 *    deltas (no other type in this process makes handles).
 */
void mx_balance_expect_at(const mx_balance *before, enum mx_type which, const mx_delta *d,
                          const char *file, int line);
#define mx_balance_expect(before, which, ...)                                                \
    mx_balance_expect_at((before), (which), &(mx_delta){__VA_ARGS__}, __FILE__, __LINE__)

/* Asserts nothing changed at all between *before and now: every ledger field
 * of every fixture type and of all types, the Rust counters, ferry_live(). */
void mx_balance_unchanged_at(const mx_balance *before, const char *file, int line);
#define mx_balance_unchanged(before) mx_balance_unchanged_at((before), __FILE__, __LINE__)

/* Like mx_balance_unchanged, but returns the number of differences (0: none)
 * and writes them, one per line, to buf. For loops that report at the end. */
int mx_balance_diff(const mx_balance *before, char *buf, size_t n);

/* The Arc strong count Rust reports for h (asserts the call succeeds). The
 * call itself clones and takes one handle: +1 cloned, +1 taken. */
size_t mx_strong(Handle_Counter h);

/* ------------------------------------------------------------------ */
/* Assertions                                                         */
/* ------------------------------------------------------------------ */

/* Like ck_assert_msg but silent on success (Check records a mark point on
 * every passing assertion, too slow in loops). */
#define require(cond, ...)                                                                   \
    do {                                                                                     \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                                              \
    } while (0)

#define expect_ok(call)                                                                      \
    do {                                                                                     \
        ferry_status st_ = (call);                                                           \
        require(st_ == FERRY_OK, "%s:%d: %s: expected FERRY_OK, got %s (%s)", __FILE__,      \
                __LINE__, #call, ferry_status_name(st_),                                     \
                st_ == FERRY_OK ? "" : ferry_last_error());                                  \
    } while (0)

/* The call's status is `expect` and ferry_last_error() starts with the
 * status name. */
#define expect_status(call, expect)                                                          \
    do {                                                                                     \
        ferry_status st_ = (call);                                                           \
        require(st_ == (expect), "%s:%d: %s: expected %s, got %s (%s)", __FILE__, __LINE__,  \
                #call, ferry_status_name(expect), ferry_status_name(st_),                    \
                ferry_last_error());                                                         \
        msg_assert_starts(ferry_status_name(expect));                                        \
    } while (0)

void msg_assert_starts_at(const char *prefix, const char *file, int line);
#define msg_assert_starts(prefix) msg_assert_starts_at((prefix), __FILE__, __LINE__)
/* ferry_last_error() contains needle. */
void msg_assert_has_at(const char *needle, const char *file, int line);
#define msg_assert_has(needle) msg_assert_has_at((needle), __FILE__, __LINE__)
/* `text` (a saved message) contains needle. */
void text_assert_has_at(const char *text, const char *needle, const char *file, int line);
#define text_assert_has(text, needle) text_assert_has_at((text), (needle), __FILE__, __LINE__)
/* ferry_last_error() has `label` (e.g. "released at") followed by a site
 * whose path ends in `suffix` followed by ':' and a line number. */
void msg_assert_site_at(const char *label, const char *suffix, const char *file, int line);
#define msg_assert_site(label, suffix) msg_assert_site_at((label), (suffix), __FILE__, __LINE__)
bool text_has_site(const char *text, const char *label, const char *suffix);
/* The same for one line number (want >= 0). The suffix matches whole path
 * components: "fixtures/src/lib.rs" does not match ".../fixtures_b/src/lib.rs"
 * nor "myfixtures/src/lib.rs". */
bool text_has_site_line(const char *text, const char *label, const char *suffix, long want);
/* ferry_last_error() has "<label> <path>/<this file's basename>:<srcline>":
 * the site a C call on line srcline of this file recorded. */
void msg_assert_c_site_at(const char *label, const char *srcfile, int srcline, const char *file,
                          int line);
#define msg_assert_c_site(label, srcline)                                                    \
    msg_assert_c_site_at((label), __FILE__, (srcline), __FILE__, __LINE__)

/* ------------------------------------------------------------------ */
/* Threads, scale, running                                            */
/* ------------------------------------------------------------------ */

/* Runs fn(arg) on a new thread and waits for it. */
void run_on_thread(void *(*fn)(void *), void *arg);

/* n divided by FERRY_TEST_SCALE (default 1), at least 1. */
long scaled(long n);

/* Per-case setup and teardown: registers the fixture types; restores the
 * RETURN error policy. */
void mx_case_setup(void);
void mx_case_teardown(void);

/* One test case per test function, named after it (CK_RUN_CASE=<name>). */
#define ADD_CASE(suite, fn, timeout)                                                         \
    do {                                                                                     \
        TCase *tc_ = tcase_create(#fn);                                                      \
        tcase_set_timeout(tc_, (timeout));                                                   \
        tcase_add_checked_fixture(tc_, mx_case_setup, mx_case_teardown);                     \
        tcase_add_test(tc_, fn);                                                             \
        suite_add_tcase((suite), tc_);                                                       \
    } while (0)

/* Runs the suite (CK_RUN_CASE / CK_FORK / CK_VERBOSITY honoured). */
int run_suite(Suite *s);

#endif /* FERRY_MIXED_SUPPORT_H */
