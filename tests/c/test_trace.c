/*
 * test_trace.c — FERRY_TRACE=1: backtraces of a handle's creation and
 * release in misuse messages, the abort report and the leak report.
 *
 * One source, three CTest entries (CMakeLists.txt): c.trace (linked to the
 * shared library, FERRY_TRACE=1: libferry's own frames are skipped, so the
 * caller is frame #0), c.trace_static (static libferry, FERRY_TRACE=1: the
 * caller is among the frames) and c.trace_off (FERRY_TRACE=0: no frames
 * anywhere). The executables export their symbols (-rdynamic) so the frames
 * are named.
 */
#include "support.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry_testing.h"

#define SS (FERRY_SEND | FERRY_SYNC)

static bool tracing(void)
{
    const char *v = getenv("FERRY_TRACE");
    return v && strcmp(v, "1") == 0;
}

static fx things;

/* The user code the traces must name: exported and never inlined. */
__attribute__((noinline)) ferry_handle trace_make_thing(void)
{
    ferry_handle h;
    ck_assert_int_eq(ferry_box(things.type, fx_new(&things, 1), &h), FERRY_OK);
    return h;
}

__attribute__((noinline)) ferry_status trace_drop_thing(ferry_handle h)
{
    /* volatile: a tail call would leave this frame out of the stack */
    volatile ferry_status s = ferry_drop(h);
    return s;
}

static void setup(void)
{
    if (!things.type)
        fx_init(&things, "trace", SS, FX_ALL);
}

/* The section "\n  <title>:" of text up to the next section or the end
 * (malloc'd), or NULL when there is none. */
static char *section(const char *text, const char *title)
{
    char head[64];
    snprintf(head, sizeof head, "\n  %s:", title);
    const char *start = strstr(text, head);
    if (!start)
        return NULL;
    const char *end = strstr(start + strlen(head), "\n  ");
    while (end && end[3] == ' ') /* a frame line ("\n    #0"), not a section */
        end = strstr(end + 1, "\n  ");
    return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* Asserts the section names fn: as frame #0 when libferry is a shared
 * library (its own frames are skipped), as some frame when it is linked in. */
static void assert_frame(const char *text, const char *title, const char *fn)
{
    char *sec = section(text, title);
    ck_assert_msg(sec != NULL, "no \"%s:\" section in:\n%s", title, text);
    char want[128];
#ifdef TRACE_STATIC
    snprintf(want, sizeof want, " %s+0x", fn);
#else
    snprintf(want, sizeof want, "\n    #0 %s+0x", fn);
#endif
    ck_assert_msg(strstr(sec, want) != NULL, "\"%s\" not in:\n%s", want, sec);
    ck_assert_msg(strstr(sec, "\n    #1 ") != NULL, "only one frame in:\n%s", sec);
    free(sec);
}

/* The first line is the message FERRY_TRACE leaves alone. */
static void assert_first_line_unchanged(const char *text)
{
    const char *nl = strchr(text, '\n');
    size_t first = nl ? (size_t)(nl - text) : strlen(text);
    char *line = strndup(text, first);
    ck_assert_msg(strstr(line, "created at ") != NULL, "%s", text);
    free(line);
    ck_assert_msg(tracing() == (nl != NULL), "trace lines %s in:\n%s",
                  tracing() ? "missing" : "present", text);
}

START_TEST(trace_stale_handle_shows_creation_and_release)
{
    setup();
    ferry_handle h = trace_make_thing();
    ck_assert_int_eq(trace_drop_thing(h), FERRY_OK);
    ck_assert_int_eq(ferry_drop(h), FERRY_E_STALE);
    const char *msg = ferry_last_error();
    msg_assert_has("handle was already dropped");
    assert_first_line_unchanged(msg);
    if (!tracing())
        return;
    assert_frame(msg, "created", "trace_make_thing");
    assert_frame(msg, "released", "trace_drop_thing");
    /* created comes first, and each frame line has a module offset */
    ck_assert(strstr(msg, "\n  created:") < strstr(msg, "\n  released:"));
    ck_assert_msg(strstr(msg, "test_trace") != NULL, "no module named in:\n%s", msg);
}
END_TEST

START_TEST(trace_live_handle_misuse_shows_creation_only)
{
    setup();
    ferry_handle h = trace_make_thing();
    ck_assert_int_eq(ferry_revoke(h), FERRY_E_KIND);
    const char *msg = ferry_last_error();
    assert_first_line_unchanged(msg);
    if (tracing()) {
        assert_frame(msg, "created", "trace_make_thing");
        msg_assert_lacks("\n  released:");
    }
    ck_assert_int_eq(ferry_drop(h), FERRY_OK);
}
END_TEST

__attribute__((noinline)) void *trace_drop_on_thread(void *arg)
{
    ck_assert_int_eq(ferry_drop(*(ferry_handle *)arg), FERRY_OK);
    return NULL;
}

START_TEST(trace_release_on_another_thread_is_that_threads_stack)
{
    setup();
    ferry_handle h = trace_make_thing();
    run_on_thread(trace_drop_on_thread, &h);
    ck_assert_int_eq(ferry_drop(h), FERRY_E_STALE);
    assert_first_line_unchanged(ferry_last_error());
    if (!tracing())
        return;
    assert_frame(ferry_last_error(), "created", "trace_make_thing");
    assert_frame(ferry_last_error(), "released", "trace_drop_on_thread");
}
END_TEST

START_TEST(trace_reused_slot_shows_no_frames)
{
    setup();
    ferry_handle h = trace_make_thing();
    uint32_t index = ferry__test_slot_index(h);
    ck_assert_int_eq(ferry_drop(h), FERRY_OK);
    /* Make handles until one gets the slot back (past the quarantine). */
    ferry_handle made[256];
    int n = 0;
    bool reused = false;
    while (n < 256 && !reused) {
        made[n] = trace_make_thing();
        reused = ferry__test_slot_index(made[n++]) == index;
    }
    ck_assert(reused);
    ck_assert_int_eq(ferry_drop(h), FERRY_E_STALE);
    msg_assert_has("its slot has been reused since");
    /* The slot's frames are the new handle's now: none are shown. */
    msg_assert_lacks("\n  ");
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(ferry_drop(made[i]), FERRY_OK);
}
END_TEST

START_TEST(trace_leak_report_shows_creation)
{
    setup();
    ferry_handle h = trace_make_thing();
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    ck_assert_uint_ge(ferry_report_leaks(tmp), 1);
    long len = ftell(tmp);
    rewind(tmp);
    char *text = calloc(1, (size_t)len + 1);
    ck_assert_uint_eq(fread(text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    char bits[32];
    snprintf(bits, sizeof bits, "0x%016llx", (unsigned long long)h.bits);
    const char *line = strstr(text, bits);
    ck_assert_msg(line != NULL, "%s", text);
    const char *next = strstr(line, "\nferry: live handle");
    char *entry = strndup(line, next ? (size_t)(next - line) : strlen(line));
    if (tracing())
        assert_frame(entry, "created", "trace_make_thing");
    else
        ck_assert_msg(strstr(entry, "\n  ") == NULL, "%s", entry);
    free(entry);
    free(text);
    ck_assert_int_eq(ferry_drop(h), FERRY_OK);
}
END_TEST

/* FERRY_ON_ERROR=abort prints the whole report before aborting. */
START_TEST(trace_abort_report_has_the_frames)
{
    setup();
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        ferry_handle h = trace_make_thing();
        trace_drop_thing(h);
        ferry_set_error_policy(FERRY_POLICY_ABORT);
        ferry_drop(h);
        _exit(0);
    }
    close(pipefd[1]);
    char report[8192];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof report - 1 &&
           (got = read(pipefd[0], report + len, sizeof report - 1 - len)) > 0)
        len += (size_t)got;
    report[len] = '\0';
    close(pipefd[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    ck_assert_msg(strncmp(report, "ferry: FERRY_E_STALE: ferry_drop: ", 34) == 0, "%s", report);
    ck_assert_msg(strstr(report, "\nferry: aborting (FERRY_ON_ERROR=abort)\n") != NULL, "%s",
                  report);
    if (tracing()) {
        assert_frame(report, "created", "trace_make_thing");
        assert_frame(report, "released", "trace_drop_thing");
    }
}
END_TEST

/* Without memory for a chunk of trace records an operation still succeeds;
 * its handle just has no frames. Needs the injection library (c.trace). */
#define TABLE_CHUNK_SLOTS 65536u /* FERRY__CHUNK_SLOTS, c/src/internal.h */

START_TEST(trace_without_memory_for_records_still_succeeds)
{
    setup();
    if (!ferry__test_fault_injection() || !tracing())
        return;
    /* Fresh slots start at a chunk boundary, so once the free ones run out
     * the next create needs a table chunk and then a trace chunk. */
    uint32_t issued = ferry__test_slots_issued();
    ferry__test_skip_fresh_slots(TABLE_CHUNK_SLOTS - issued % TABLE_CHUNK_SLOTS);
    size_t cap = 1u << 17, n = 0;
    ferry_handle *made = calloc(cap, sizeof *made);
    ck_assert_ptr_nonnull(made);
    uint64_t fail_at = 1;
    bool hit = false;
    while (!hit && n < cap) {
        ferry__test_fail_allocation(fail_at);
        fx_obj *obj = fx_new(&things, 1);
        ferry_status s = ferry_box(things.type, obj, &made[n]);
        uint64_t attempts = ferry__test_allocations();
        const char *site = ferry__test_failed_allocation_site();
        ferry__test_fail_allocation(0);
        if (s != FERRY_OK) {
            /* the table chunk came first: let it through next time */
            ck_assert_int_eq(s, FERRY_E_NOMEM);
            fx_release(obj);
            fail_at++;
            continue;
        }
        if (attempts > 0 && site && strcmp(site, "trace chunk") == 0) {
            hit = true;
            ck_assert_int_eq(ferry_revoke(made[n]), FERRY_E_KIND);
            msg_assert_lacks("\n  created:");
        }
        n++;
    }
    ck_assert_msg(hit, "no trace chunk allocation was failed in %zu creates", n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ferry_drop(made[i]), FERRY_OK);
    free(made);
}
END_TEST

/* Without memory for the thread's message buffer, a failure still reports
 * its status and one-line message; the frames come back with the memory. */
typedef struct buffer_probe {
    ferry_handle h;
    ferry_status first, second;
    const char *failed_site;
    bool first_framed, second_framed;
    char first_line[512];
} buffer_probe;

static void *misuse_without_a_buffer(void *arg)
{
    buffer_probe *p = arg;
    ck_assert_int_eq(ferry_check(p->h, things.type), FERRY_OK); /* attaches the thread */
    ferry__test_fail_allocation(1);
    p->first = ferry_revoke(p->h);
    p->failed_site = ferry__test_failed_allocation_site();
    ferry__test_fail_allocation(0);
    p->first_framed = strchr(ferry_last_error(), '\n') != NULL;
    snprintf(p->first_line, sizeof p->first_line, "%s", ferry_last_error());
    p->second = ferry_revoke(p->h);
    p->second_framed = strstr(ferry_last_error(), "\n  created:") != NULL;
    return NULL;
}

START_TEST(trace_without_memory_for_the_message_keeps_the_line)
{
    setup();
    if (!ferry__test_fault_injection() || !tracing())
        return;
    buffer_probe p = {.h = trace_make_thing()};
    run_on_thread(misuse_without_a_buffer, &p);
    ck_assert_str_eq(p.failed_site ? p.failed_site : "(none)", "trace message");
    ck_assert_int_eq(p.first, FERRY_E_KIND);
    ck_assert(!p.first_framed);
    ck_assert_msg(strncmp(p.first_line, "FERRY_E_KIND: ferry_revoke: ", 28) == 0, "%s",
                  p.first_line);
    ck_assert_int_eq(p.second, FERRY_E_KIND);
    ck_assert(p.second_framed);
    ck_assert_int_eq(ferry_drop(p.h), FERRY_OK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace");
    ADD_CASE(s, trace_stale_handle_shows_creation_and_release, 30);
    ADD_CASE(s, trace_live_handle_misuse_shows_creation_only, 30);
    ADD_CASE(s, trace_release_on_another_thread_is_that_threads_stack, 30);
    ADD_CASE(s, trace_reused_slot_shows_no_frames, 30);
    ADD_CASE(s, trace_leak_report_shows_creation, 30);
    ADD_CASE(s, trace_abort_report_has_the_frames, 30);
    ADD_CASE(s, trace_without_memory_for_records_still_succeeds, 60);
    ADD_CASE(s, trace_without_memory_for_the_message_keeps_the_line, 30);
    return run_suite(s);
}
