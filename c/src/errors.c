/*
 * errors.c — status names, the thread-local last-error message, and the
 * process-wide policy applied after every failure.
 */
#include "alloc.h"
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The message is one line. Kept small: libferry's thread-locals live in
 * the static TLS block, which a library loaded with dlopen must fit into. */
#define MESSAGE_SIZE 1024
/* With FERRY_TRACE=1 the backtraces follow on lines of their own, in a
 * larger buffer allocated once per thread (ferry__thread.trace_message). */
#define TRACE_MESSAGE_SIZE 4096

static _Thread_local char last_message[MESSAGE_SIZE];
static _Atomic int policy = FERRY_POLICY_RETURN;

const char *ferry_status_name(ferry_status s)
{
    switch (s) {
#define FERRY_X_NAME(name, value, text)                                                            \
    case name:                                                                                     \
        return #name;
        FERRY_STATUS_LIST(FERRY_X_NAME)
#undef FERRY_X_NAME
    }
    return "FERRY_E_UNKNOWN";
}

const char *ferry_status_text(ferry_status s)
{
    switch (s) {
#define FERRY_X_TEXT(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        FERRY_STATUS_LIST(FERRY_X_TEXT)
#undef FERRY_X_TEXT
    }
    return "unknown status";
}

const char *ferry__kind_name(unsigned kind)
{
    switch (kind) {
    case FERRY_KIND_UNIQUE:
        return "unique";
    case FERRY_KIND_SHARED:
        return "shared";
    case FERRY_KIND_LOCAL:
        return "local";
    case FERRY_KIND_WEAK:
    case FERRY__WEAK_LOCAL:
        return "weak";
    case FERRY_KIND_LENT:
        return "lent";
    case FERRY_KIND_LENT_MUT:
        return "lent mut";
    }
    return "unknown";
}

const char *ferry_kind_name(ferry_kind k)
{
    return ferry__kind_name((unsigned)k);
}

const char *ferry_last_error(void)
{
    const ferry__thread *self = ferry__self_tls;
    return self && self->message_traced ? self->trace_message : last_message;
}

const char *ferry__last_message_line(void)
{
    return last_message;
}

ferry_status ferry_report_error(ferry_status s, const char *op, const char *message)
{
    /* A copy: message may be ferry_last_error() itself, which the new
     * message overwrites while it is formatted. */
    char copy[MESSAGE_SIZE];
    snprintf(copy, sizeof copy, "%s", message ? message : "");
    return ferry__fail(s, op ? op : "(unknown operation)", NULL, "%s", copy);
}

ferry_error_policy ferry_set_error_policy(ferry_error_policy p)
{
    ferry__init(); /* so a later first init cannot overwrite p from the environment */
    return (ferry_error_policy)atomic_exchange_explicit(&policy, (int)p, memory_order_relaxed);
}

void ferry__errors_init(void)
{
    const char *v = getenv("FERRY_ON_ERROR");
    if (!v)
        return;
    if (strcmp(v, "log") == 0)
        atomic_store_explicit(&policy, FERRY_POLICY_LOG, memory_order_relaxed);
    else if (strcmp(v, "abort") == 0)
        atomic_store_explicit(&policy, FERRY_POLICY_ABORT, memory_order_relaxed);
    else if (strcmp(v, "return") == 0)
        atomic_store_explicit(&policy, FERRY_POLICY_RETURN, memory_order_relaxed);
}

static void vappend(char *buf, size_t *len, size_t cap, const char *fmt, va_list ap)
{
    if (*len >= cap - 1)
        return;
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - 1 - *len;
}

void ferry__appendf(char *buf, size_t *len, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vappend(buf, len, cap, fmt, ap);
    va_end(ap);
}

/* Appends one detail of the subject: "; " before the first, ", " after. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static void
detail(char *buf, size_t *len, bool *first, const char *fmt, ...)
{
    ferry__appendf(buf, len, MESSAGE_SIZE, "%s", *first ? "; " : ", ");
    *first = false;
    va_list ap;
    va_start(ap, fmt);
    vappend(buf, len, MESSAGE_SIZE, fmt, ap);
    va_end(ap);
}

/* The message followed by the subject's backtraces (FERRY_TRACE=1), in the
 * thread's trace buffer, which ferry_last_error then returns; just the
 * message when there are none or no memory for the buffer. */
static const char *with_traces(const char *message, const ferry__subject *subj)
{
    ferry__thread *self = ferry__self_tls;
    if (!self)
        return message;
    self->message_traced = false;
    if (!subj || (subj->created_trace.n == 0 && subj->released_trace.n == 0))
        return message;
    if (!self->trace_message &&
        !(self->trace_message = ferry__malloc(TRACE_MESSAGE_SIZE, "trace message")))
        return message;
    size_t len = 0;
    ferry__appendf(self->trace_message, &len, TRACE_MESSAGE_SIZE, "%s", message);
    ferry__trace_format(self->trace_message, &len, TRACE_MESSAGE_SIZE, "created",
                        &subj->created_trace);
    ferry__trace_format(self->trace_message, &len, TRACE_MESSAGE_SIZE, "released",
                        &subj->released_trace);
    self->message_traced = true;
    return self->trace_message;
}

FERRY_COLD ferry_status ferry__fail(ferry_status s, const char *op, const ferry__subject *subj,
                                    const char *fmt, ...)
{
    ferry__init();
    char *buf = last_message;
    size_t len = 0;
    ferry__appendf(buf, &len, MESSAGE_SIZE, "%s: %s: ", ferry_status_name(s), op);
    va_list ap;
    va_start(ap, fmt);
    vappend(buf, &len, MESSAGE_SIZE, fmt, ap);
    va_end(ap);
    if (subj) {
        bool first = true;
        if (subj->type)
            detail(buf, &len, &first, "type %s%s", subj->type->name,
                   atomic_load_explicit(&subj->type->retired, memory_order_acquire)
                       ? " (unregistered: its plugin was closed)"
                       : "");
        if (subj->kind != FERRY__FREE)
            detail(buf, &len, &first, "kind %s", ferry__kind_name(subj->kind));
        if (subj->h.bits)
            detail(buf, &len, &first, "handle 0x%016llx", (unsigned long long)subj->h.bits);
        if (subj->created_at)
            detail(buf, &len, &first, "created at %s", subj->created_at);
        if (subj->released_at)
            detail(buf, &len, &first, "released at %s", subj->released_at);
    }
    const char *report = with_traces(buf, subj);

    switch ((ferry_error_policy)atomic_load_explicit(&policy, memory_order_relaxed)) {
    case FERRY_POLICY_RETURN:
        break;
    case FERRY_POLICY_LOG:
        fprintf(stderr, "ferry: %s\n", report);
        break;
    case FERRY_POLICY_ABORT:
        fprintf(stderr, "ferry: %s\nferry: aborting (FERRY_ON_ERROR=abort)\n", report);
        fflush(stderr);
        abort();
    }
    return s;
}
