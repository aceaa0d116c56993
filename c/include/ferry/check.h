/*
 * ferry/check.h — ledger and status assertions for Check test suites.
 *
 * Header-only. Include it after nothing in particular; it includes <check.h>
 * and <ferry.h> itself. Link the test with Check (pkg-config `check`) and
 * libferry. It compiles as C11 and C++17.
 *
 *   START_TEST(round_trip) {
 *       ferry_mark m;
 *       ferry_ledger_mark_type(&m, point_type);   // or ferry_ledger_mark(&m): all types
 *       ferry_handle h;
 *       ck_assert_ferry_ok(ferry_box(point_type, point_new(), &h));
 *       ck_assert_ferry_ok(ferry_drop(h));
 *       ck_assert_ferry_status(ferry_drop(h), FERRY_E_STALE);
 *       ferry_assert_balanced(&m);
 *   }
 *   END_TEST
 *
 * A failing assertion fails the test at the caller's file:line like any
 * ck_assert, with a message that says what ferry saw: for a ledger, every
 * counter that changed since the mark ("created 4 -> 6 (+2)") and the
 * handles live now, one line each as ferry_report_leaks writes them (type,
 * kind, bits, creation site).
 *
 * Works in both of Check's modes. Nothing here allocates or holds a
 * resource across an assertion, so a failure (a longjmp with CK_FORK=no, an
 * exit of the test's process otherwise) leaks nothing.
 *
 * The ledger is process-wide and its reads are exact when no other thread is
 * creating or ending handles (docs/ledger.md): mark and assert while the
 * test's own workers are joined. A mark of one type ignores every other
 * type, so handles a fixture keeps alive in another type do not count.
 *
 * Tests that provoke a misuse on purpose (ck_assert_ferry_status with an
 * error) under FERRY_ON_ERROR=abort (ferry_add_test sets it) must set the
 * policy to return for that test first: ferry_set_error_policy returns the
 * previous policy to restore.
 */
#ifndef FERRY_CHECK_H
#define FERRY_CHECK_H

#include <check.h>
#include <ferry.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A snapshot of the ledger to compare against later. Plain data owned by the
 * caller (usually a local variable); it holds no resource, so it needs no
 * cleanup and may be copied or simply forgotten.
 */
typedef struct ferry_mark {
    const ferry_type *type; /* NULL: all types */
    ferry_counts at;        /* the counts when the mark was taken */
    const char *site;       /* "file.c:42" of the mark, static storage */
} ferry_mark;

/* How much of a ledger diff fits in one Check message; Check's own message
 * limit (CK_MAX_MSG_SIZE) defaults to 4096 bytes. */
#define FERRY_CHECK_MSG_MAX 3072
/* At most this many live handles are listed; the rest are counted. */
#define FERRY_CHECK_MAX_LIVE_LINES 12

/*
 * ferry_ledger_mark(&m): marks the counts of all types now.
 * ferry_ledger_mark_type(&m, t): marks the counts of type t only (t must be
 * a registered type; a NULL t means all types).
 * Both record the caller's file:line for the failure message.
 */
#define ferry_ledger_mark(m) ferry_ledger_mark_at((m), (const ferry_type *)0, FERRY_SITE)
#define ferry_ledger_mark_type(m, t) ferry_ledger_mark_at((m), (t), FERRY_SITE)

/*
 * ferry_assert_balanced(&m): fails the test unless every handle of the
 * mark's scope made since the mark (created + cloned) has been ended (taken,
 * dropped or revoked by C or by Rust) — that is, unless live is what it was
 * at the mark. The message lists the counters that changed and the live
 * handles.
 */
#define ferry_assert_balanced(m) ferry_assert_live_change((m), 0)

/*
 * ferry_assert_live_change(&m, n): fails the test unless live changed by
 * exactly n since the mark (n > 0: the test deliberately leaves n handles to
 * a later test step; n < 0: it ended n handles made before the mark).
 * Same message as ferry_assert_balanced.
 */
#define ferry_assert_live_change(m, n)                                                             \
    do {                                                                                           \
        char ferry_ck_msg_[FERRY_CHECK_MSG_MAX];                                                   \
        ck_assert_msg(ferry_ledger_check_((m), (n), ferry_ck_msg_, sizeof ferry_ck_msg_), "%s",    \
                      ferry_ck_msg_);                                                              \
    } while (0)

/*
 * ck_assert_ferry_ok(expr): evaluates the ferry_status expression once and
 * fails the test unless it is FERRY_OK, with the expression, the status name
 * and ferry_last_error() (which names the operation, type, kind and sites).
 */
#define ck_assert_ferry_ok(expr)                                                                   \
    do {                                                                                           \
        ferry_status ferry_ck_got_ = (expr);                                                       \
        ck_assert_msg(ferry_ck_got_ == FERRY_OK, "%s returned %s: %s", #expr,                      \
                      ferry_status_name(ferry_ck_got_), ferry_last_error());                       \
    } while (0)

/*
 * ck_assert_ferry_status(expr, want): evaluates the ferry_status expression
 * once and fails the test unless it equals want (e.g. FERRY_E_STALE), with
 * both status names and, when the call failed, ferry_last_error().
 */
#define ck_assert_ferry_status(expr, want)                                                         \
    do {                                                                                           \
        ferry_status ferry_ck_got_ = (expr);                                                       \
        ferry_status ferry_ck_want_ = (want);                                                      \
        ck_assert_msg(ferry_ck_got_ == ferry_ck_want_, "%s returned %s, expected %s%s%s", #expr,   \
                      ferry_status_name(ferry_ck_got_), ferry_status_name(ferry_ck_want_),         \
                      ferry_ck_got_ == FERRY_OK ? "" : ": ",                                       \
                      ferry_ck_got_ == FERRY_OK ? "" : ferry_last_error());                        \
    } while (0)

/*
 * A checked fixture that holds every test of a TCase to the balance rule:
 *
 *   tcase_add_checked_fixture(tc, ferry_ck_mark_setup, ferry_ck_balanced_teardown);
 *
 * The setup marks all types; the teardown asserts balanced. Checked
 * fixtures run around each test in the test's own process (both modes), so
 * one mark per translation unit suffices. Add it before other checked
 * fixtures that make or end handles: Check runs setups in the order added
 * and teardowns in reverse, so it then wraps them.
 */
FERRY_MAYBE_UNUSED static ferry_mark ferry_ck_fixture_mark_;

FERRY_MAYBE_UNUSED static inline void ferry_ledger_mark_at(ferry_mark *m, const ferry_type *t,
                                                           const char *site)
{
    m->type = t;
    m->site = site;
    ferry_ledger(t, &m->at);
}

FERRY_MAYBE_UNUSED static inline void ferry_ck_mark_setup(void)
{
    ferry_ledger_mark_at(&ferry_ck_fixture_mark_, (const ferry_type *)0,
                         "ferry_ck_mark_setup (checked fixture)");
}

/* ------------------------------------------------------------------------ */
/* Implementation                                                           */
/* ------------------------------------------------------------------------ */

/* Appends to a fixed buffer, truncating (never overflowing) when full. */
typedef struct ferry_ck_buf_ {
    char *p;
    size_t len, cap;
} ferry_ck_buf_;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
FERRY_MAYBE_UNUSED static inline void
ferry_ck_append_(ferry_ck_buf_ *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->len + 1 >= b->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    b->len += (size_t)n;
    if (b->len >= b->cap)
        b->len = b->cap - 1;
}

/*
 * Lists the handles live now (of t, or of all types), as ferry_report_leaks
 * writes them. The report goes through tmpfile() because ferry_report_leaks
 * writes to a FILE; the file is closed before returning.
 */
FERRY_MAYBE_UNUSED static inline void ferry_ck_live_lines_(ferry_ck_buf_ *b, const ferry_type *t)
{
    char line[512];
    char needle[300];
    size_t shown = 0, matched = 0;
    int whole_line = 1;
    FILE *f = tmpfile();
    if (!f) {
        ferry_ck_append_(b, "(live handles not listed: tmpfile() failed)\n");
        return;
    }
    ferry_report_leaks(f);
    rewind(f);
    /* report lines read "ferry: live handle 0x…: type NAME, kind KIND, …";
     * with FERRY_TRACE=1 each is followed by its creation backtrace on
     * indented lines, shown for the first handle listed only (Check's
     * messages are cut at CK_MAX_MSG_SIZE) */
    snprintf(needle, sizeof needle, ": type %s, kind ", t ? ferry_type_name(t) : "");
    int show_frames = 0;
    while (fgets(line, (int)sizeof line, f)) {
        /* a continuation of a line longer than the buffer was decided with its start */
        int starts_line = whole_line;
        whole_line = strchr(line, '\n') != NULL;
        if (!starts_line)
            continue;
        if (strncmp(line, "ferry: live handle ", 19) != 0) {
            if (show_frames)
                ferry_ck_append_(b, "  %s%s", line, whole_line ? "" : "...\n");
            continue;
        }
        show_frames = 0;
        if (t && !strstr(line, needle))
            continue;
        matched++;
        if (shown == FERRY_CHECK_MAX_LIVE_LINES)
            continue;
        show_frames = shown++ == 0;
        ferry_ck_append_(b, "  %s%s", line, whole_line ? "" : "...\n");
    }
    fclose(f);
    if (matched > shown)
        ferry_ck_append_(b, "  ... and %lu more\n", (unsigned long)(matched - shown));
}

/* The counters a diff compares, in ferry_counts order. */
#define FERRY_CK_COUNTERS_(X)                                                                      \
    X(created)                                                                                     \
    X(cloned)                                                                                      \
    X(borrows)                                                                                     \
    X(handoffs)                                                                                    \
    X(taken)                                                                                       \
    X(dropped_by_c)                                                                                \
    X(dropped_by_rust)                                                                             \
    X(revoked)                                                                                     \
    X(live)                                                                                        \
    X(peak_live)

/*
 * Whether live changed by exactly `want` since the mark. If not, writes the
 * diff into msg (size bytes; always NUL-terminated) and returns 0; the
 * assertion macros above call it. Reads the ledger once.
 */
FERRY_MAYBE_UNUSED static inline int ferry_ledger_check_(const ferry_mark *m, long long want,
                                                         char *msg, size_t size)
{
    ferry_counts now;
    ferry_ck_buf_ b;
    long long change;
    b.p = msg;
    b.len = 0;
    b.cap = size;
    msg[0] = '\0';
    ferry_ledger(m->type, &now);
    change = (long long)(now.live - m->at.live);
    if (change == want)
        return 1;

    if (want == 0)
        ferry_ck_append_(&b, "ferry ledger not balanced");
    else
        ferry_ck_append_(&b, "ferry ledger: live changed by %+lld, expected %+lld", change, want);
    ferry_ck_append_(&b, " since the mark at %s (%s%s): live %llu -> %llu\n", m->site,
                     m->type ? "type " : "all types", m->type ? ferry_type_name(m->type) : "",
                     (unsigned long long)m->at.live, (unsigned long long)now.live);
#define FERRY_CK_DIFF_(field)                                                                      \
    if (now.field != m->at.field)                                                                  \
        ferry_ck_append_(&b, "  %s %llu -> %llu (%+lld)\n", #field,                                \
                         (unsigned long long)m->at.field, (unsigned long long)now.field,           \
                         (long long)(now.field - m->at.field));
    FERRY_CK_COUNTERS_(FERRY_CK_DIFF_)
#undef FERRY_CK_DIFF_
    ferry_ck_append_(&b, "live handles%s%s now:\n", m->type ? " of " : "",
                     m->type ? ferry_type_name(m->type) : "");
    ferry_ck_live_lines_(&b, m->type);
    /* Check prints the message and a newline of its own */
    if (b.len > 0 && msg[b.len - 1] == '\n')
        msg[b.len - 1] = '\0';
    return 0;
}

FERRY_MAYBE_UNUSED static inline void ferry_ck_balanced_teardown(void)
{
    ferry_assert_balanced(&ferry_ck_fixture_mark_);
}

#ifdef __cplusplus
}
#endif

#endif /* FERRY_CHECK_H */
