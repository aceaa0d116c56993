/*
 * trace.h — FERRY_TRACE=1: a short backtrace at the creation and at the
 * release of every handle, printed by misuse messages and the leak report.
 * Not installed; included by internal.h.
 *
 * Off (the default) it costs each create and each end one relaxed load of a
 * byte and a branch predicted not taken. On, each slot gets a record beside
 * the table (trace.c) and every create and end pays for a backtrace().
 */
#ifndef FERRY_TRACE_H
#define FERRY_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frames kept per event, after libferry's own frames are skipped. */
#define FERRY__TRACE_DEPTH 8

enum { FERRY__TRACE_CREATED, FERRY__TRACE_RELEASED };

/* One event's frames (return addresses), innermost first; n == 0: none. */
typedef struct ferry__trace {
    uintptr_t frames[FERRY__TRACE_DEPTH];
    unsigned n;
} ferry__trace;

/* Set once at start-up from FERRY_TRACE; never changes afterwards. */
extern FERRY_HIDDEN _Atomic bool ferry__trace_on;

/* Whether handles are being traced. The benchmark's baseline library is
 * built with FERRY_TRACE_COMPILED_OUT, to show what the check costs off. */
static inline bool ferry__tracing(void)
{
#ifdef FERRY_TRACE_COMPILED_OUT
    return false;
#else
    return FERRY_UNLIKELY(atomic_load_explicit(&ferry__trace_on, memory_order_relaxed));
#endif
}

/* Reads FERRY_TRACE (ferry__init). */
void ferry__trace_init(void);

/* Records the calling thread's backtrace as slot index's `event`. Called
 * by a create right after its publish, before the handle is returned (so
 * whoever is handed the handle sees the frames; off, nothing has to be kept
 * in registers across the call), and by an end after its CAS and before the
 * release site is stored (so a reader that sees the site sees the frames).
 * Best effort: without memory for the record nothing is recorded and the
 * operation goes on. Cold: the compiler keeps it off the fast paths. */
FERRY_COLD void ferry__trace_record(uint32_t index, int event);

/* Copies slot index's `event` frames into *out (n = 0 when none). A reader
 * racing a reuse of the slot may get the newer handle's frames; callers
 * that can tell (a stale handle's message) check the slot afterwards. */
void ferry__trace_read(uint32_t index, int event, ferry__trace *out);

/* Appends "\n  <title>:" and one line per frame ("\n    #0 fn+0x1f
 * (module+0x11ef)") to buf at *len, never past cap, always NUL-terminated. */
void ferry__trace_format(char *buf, size_t *len, size_t cap, const char *title,
                         const ferry__trace *t);

#endif /* FERRY_TRACE_H */
