/*
 * support.h — fixtures and helpers shared by the Check suites in tests/c.
 *
 * Fixture objects (fx_obj) carry an Arc-like strong and weak count and point
 * back to their fixture type (fx), whose atomic counters record every call
 * ferry makes into the descriptor: release, retain, downgrade, upgrade,
 * release_weak, plus how many objects were destroyed and freed. Tests assert
 * exact numbers on those counters.
 */
#ifndef FERRY_TEST_SUPPORT_H
#define FERRY_TEST_SUPPORT_H

#include <check.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ferry.h"
#include "ferry_testing.h"

/* ------------------------------------------------------------------ */
/* Fixture types and objects                                          */
/* ------------------------------------------------------------------ */

enum fx_features {
    FX_PLAIN = 0,  /* release only */
    FX_RETAIN = 1, /* + retain: shared/local handles can be cloned */
    FX_WEAK = 2,   /* + downgrade/upgrade/release_weak */
    FX_ALL = FX_RETAIN | FX_WEAK
};

typedef struct fx {
    const ferry_type *type;
    char name[96];
    uint32_t flags;
    unsigned features;
    atomic_long released;       /* release calls */
    atomic_long retained;       /* retain calls */
    atomic_long downgraded;     /* downgrade calls */
    atomic_long upgraded;       /* upgrade calls that returned a unit */
    atomic_long upgrade_failed; /* upgrade calls that returned NULL */
    atomic_long weak_released;  /* release_weak calls */
    atomic_long destroyed;      /* objects whose last strong unit went */
    atomic_long freed;          /* objects whose memory went */
    atomic_long bad;            /* calls on a dead object (must stay 0) */
} fx;

#define FX_MAGIC_LIVE 0x4645525259214c56ull /* "FERRY!LV" */
#define FX_MAGIC_DEAD 0x4645525259214444ull

typedef struct fx_obj {
    uint64_t magic;
    atomic_long strong; /* strong units */
    atomic_long weak;   /* weak units, +1 while any strong unit lives */
    fx *owner;
    int value;
    atomic_int readers; /* for exclusivity checks in thread tests */
    atomic_int writers;
} fx_obj;

/* Registers a fresh type named "test.<base>.<n>" (unique in the process)
 * with the given flags and features; asserts success. */
void fx_init(fx *f, const char *base, uint32_t flags, unsigned features);
/* The descriptor fx_init registers (for re-registration tests). */
ferry_type_desc fx_desc(const fx *f);
/* A new heap object with one strong unit. */
fx_obj *fx_new(fx *f, int value);
/* An object meant to be lent (no units are ever released by ferry). */
void fx_obj_init_lent(fx_obj *o, fx *f, int value);

/* The descriptor functions (also callable by tests to give up a unit
 * obtained by ferry_take). */
void fx_release(void *obj);
void *fx_retain(void *obj);
void *fx_downgrade(void *obj);
void *fx_upgrade(void *weak);
void fx_release_weak(void *weak);
/* A release function that differs from fx_release (same behaviour). */
void fx_release_alt(void *obj);

/* Current counter values. */
long fx_count(atomic_long *c);

/* ------------------------------------------------------------------ */
/* Snapshots: "a failed operation changes nothing"                     */
/* ------------------------------------------------------------------ */

typedef struct snap {
    ferry_counts type, all;
    size_t live;
    long released, retained, downgraded, upgraded, upgrade_failed, weak_released, destroyed,
        freed, bad;
} snap;

void snap_take(snap *s, fx *f);
/* Asserts two snapshots are identical, naming the first differing field. */
void snap_assert_eq_at(const snap *before, const snap *after, const char *file, int line);
#define snap_assert_eq(a, b) snap_assert_eq_at((a), (b), __FILE__, __LINE__)

ferry_counts ledger_of(const ferry_type *t);
void counts_assert_eq_at(const ferry_counts *a, const ferry_counts *b, const char *file, int line);
#define counts_assert_eq(a, b) counts_assert_eq_at((a), (b), __FILE__, __LINE__)
/* live == created + cloned - taken - dropped_by_c - dropped_by_rust, and
 * the revokes are among the drops */
void counts_assert_identity_at(const ferry_counts *c, const char *file, int line);
#define counts_assert_identity(c) counts_assert_identity_at((c), __FILE__, __LINE__)

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

/* Asserts ferry_last_error() starts with "<STATUS_NAME>: <op>" followed by
 * something that cannot continue an identifier. */
void msg_assert_prefix_at(ferry_status s, const char *op, const char *file, int line);
#define msg_assert_prefix(s, op) msg_assert_prefix_at((s), (op), __FILE__, __LINE__)
/* Asserts ferry_last_error() contains needle. */
void msg_assert_has_at(const char *needle, const char *file, int line);
#define msg_assert_has(needle) msg_assert_has_at((needle), __FILE__, __LINE__)
void msg_assert_lacks_at(const char *needle, const char *file, int line);
#define msg_assert_lacks(needle) msg_assert_lacks_at((needle), __FILE__, __LINE__)
/* Like ck_assert_msg, but silent on success: Check's assertions record a
 * "mark point" (a pipe write in fork mode) on every success, too slow for
 * loops of 10^5 operations. */
#define require(cond, ...)                                                                   \
    do {                                                                                     \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                                              \
    } while (0)

/* Asserts that the call's status is `expect` and that the message starts
 * with the status name and op. */
#define expect_fail(call, expect, op)                                                        \
    do {                                                                                     \
        ferry_status st_ = (call);                                                           \
        require(st_ == (expect), "%s: expected %s, got %s (%s)", #call,                      \
                ferry_status_name(expect), ferry_status_name(st_), ferry_last_error());      \
        msg_assert_prefix(expect, op);                                                       \
    } while (0)
#define expect_ok(call)                                                                      \
    do {                                                                                     \
        ferry_status st_ = (call);                                                           \
        require(st_ == FERRY_OK, "%s: expected FERRY_OK, got %s (%s)", #call,                \
                ferry_status_name(st_), st_ == FERRY_OK ? "" : ferry_last_error());          \
    } while (0)
#define expect_status(call, expect)                                                          \
    do {                                                                                     \
        ferry_status st_ = (call);                                                           \
        require(st_ == (expect), "%s: expected %s, got %s (%s)", #call,                      \
                ferry_status_name(expect), ferry_status_name(st_), ferry_last_error());      \
    } while (0)

/* Whether text has `label` (e.g. "created at") followed by a site whose
 * file basename and line are those of srcfile:srcline. Sites are printed
 * with the path the compiler was given, so only the basename is compared. */
bool text_has_site(const char *text, const char *label, const char *srcfile, int srcline);
void msg_assert_site_at(const char *label, const char *srcfile, int srcline, bool present,
                        const char *file, int line);
/* ferry_last_error() has "<label> <this file's basename>:<srcline>". */
#define msg_assert_site(label, srcline)                                                      \
    msg_assert_site_at((label), __FILE__, (srcline), true, __FILE__, __LINE__)
#define msg_assert_no_site(label, srcline)                                                   \
    msg_assert_site_at((label), __FILE__, (srcline), false, __FILE__, __LINE__)

/* "<basename of file>:<line>" into buf, e.g. "test_errors.c:42". */
const char *site_of(char *buf, size_t n, const char *file, int line);

/* ------------------------------------------------------------------ */
/* Operations by number (for tables of cases and other threads)        */
/* ------------------------------------------------------------------ */

typedef enum op {
    OP_CHECK,      /* ferry_check(h, t) */
    OP_BORROW,     /* ferry_borrow(h, t, &obj) */
    OP_BORROW_MUT, /* ferry_borrow_mut(h, t, &obj) */
    OP_UNBORROW,   /* ferry_unborrow(h) */
    OP_CLONE,      /* ferry_clone(h, &out) */
    OP_DOWNGRADE,  /* ferry_downgrade(h, &out) */
    OP_UPGRADE,    /* ferry_upgrade(h, &out) */
    OP_DROP,       /* ferry_drop(h) */
    OP_DROP_RUST,  /* ferry_drop_at(h, FERRY_BY_RUST, site) */
    OP_TAKE,       /* ferry_take(h, t, &obj) */
    OP_REVOKE,     /* ferry_revoke(h) */
    OP_COUNT
} op;

/* The function name a message reports for op ("ferry_drop" for both drops). */
const char *op_name(op o);
/* Runs op on h. *out_h / *out_obj receive what the op produced (may be
 * NULL pointers to ignore). */
ferry_status run_op(op o, ferry_handle h, const ferry_type *t, ferry_handle *out_h,
                    void **out_obj);
/* Runs op on a new thread and waits; on failure copies that thread's
 * ferry_last_error() into msg. */
ferry_status run_op_on_thread(op o, ferry_handle h, const ferry_type *t, ferry_handle *out_h,
                              char *msg, size_t n);

/* A long-lived thread that runs ops on request, so that a test can keep
 * several distinct threads alive at once (thread ids are not reused while
 * they live). */
typedef struct worker worker;
worker *worker_start(void);
/* Runs op on the worker and waits for it; like run_op_on_thread. */
ferry_status worker_run(worker *w, op o, ferry_handle h, const ferry_type *t,
                        ferry_handle *out_h, void **out_obj, char *msg, size_t n);
void worker_stop(worker *w);

/* ------------------------------------------------------------------ */
/* Processes, threads, stderr                                          */
/* ------------------------------------------------------------------ */

/* Redirects fd 2 to a temporary file until capture_end, which restores it
 * and returns what was written (malloc'd, NUL-terminated). */
typedef struct capture {
    int saved_fd;
    int tmp_fd;
} capture;
void capture_begin(capture *c);
char *capture_end(capture *c);

/* Runs the helper program (FERRY_TEST_HELPER) with argv[1] = mode, the
 * variables FERRY_ON_ERROR and FERRY_LEAK_CHECK removed from its environment
 * and then env_name=env_value set (if env_name is not NULL). Returns the
 * wait status; *err (if not NULL) receives its stderr, *out its stdout
 * (malloc'd). */
int run_helper(const char *mode, const char *env_name, const char *env_value, char **out,
               char **err);

/* Runs fn(arg) on a new thread and waits for it. */
void run_on_thread(void *(*fn)(void *), void *arg);

/* Iteration count n divided by FERRY_TEST_SCALE (at least 1). */
long scaled(long n);

/* A deterministic 64-bit generator (splitmix64). */
uint64_t rng_next(uint64_t *state);

/* Runs the suite (CK_RUN_CASE / CK_FORK / CK_VERBOSITY honoured) and
 * returns the process exit status. */
int run_suite(Suite *s);

/* Run after every case, failed or not (matters with CK_FORK=no): lifts a
 * slot limit a case set and restores the RETURN error policy. */
void support_case_teardown(void);

/* One test case per test function, named after it, so CK_RUN_CASE=<name>
 * runs exactly one. */
#define ADD_CASE(suite, fn, timeout)                                                         \
    do {                                                                                     \
        TCase *tc_ = tcase_create(#fn);                                                      \
        tcase_set_timeout(tc_, (timeout));                                                   \
        tcase_add_checked_fixture(tc_, NULL, support_case_teardown);                         \
        tcase_add_test(tc_, fn);                                                             \
        suite_add_tcase((suite), tc_);                                                       \
    } while (0)

#endif /* FERRY_TEST_SUPPORT_H */
