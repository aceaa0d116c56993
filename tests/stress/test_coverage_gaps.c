/*
 * test_coverage_gaps.c — cases written to reach the lines and branches of
 * c/src that the other suites leave unexecuted (docs/coverage.md lists what
 * remains and why). Each case names the code it is for. Uses the fixtures
 * of tests/c (support.h).
 */
#include "support.h"

#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SS (FERRY_SEND | FERRY_SYNC)

/* The real functions, not the call-site macros of ferry.h: a macro name in
 * parentheses is not expanded. */
typedef ferry_status (*create_fn)(const ferry_type *, void *, ferry_handle *);
typedef ferry_status (*create_at_fn)(const ferry_type *, void *, ferry_handle *, const char *);

static ferry_status lend_shim(const ferry_type *t, void *o, ferry_handle *out)
{
    return (ferry_lend)(t, o, out);
}
static ferry_status lend_at_shim(const ferry_type *t, void *o, ferry_handle *out, const char *s)
{
    return (ferry_lend_at)(t, o, out, s);
}

static const struct {
    const char *name;
    create_fn fn;
    create_at_fn at;
    bool lent;
} creators[] = {
    {"box", (ferry_box), (ferry_box_at), false},
    {"share", (ferry_share), (ferry_share_at), false},
    {"local", (ferry_local), (ferry_local_at), false},
    {"lend", lend_shim, lend_at_shim, true},
    {"lend_mut", (ferry_lend_mut), (ferry_lend_mut_at), true},
};
#define NCREATORS (sizeof creators / sizeof creators[0])

/* Ends h however its kind is ended, through the real functions. */
static void end_any(ferry_handle h, bool lent, int how)
{
    if (lent)
        expect_ok(how ? (ferry_revoke)(h) : (ferry_revoke_at)(h, FERRY_BY_RUST, NULL));
    else if (how == 0)
        expect_ok((ferry_drop)(h));
    else
        expect_ok((ferry_drop_at)(h, FERRY_BY_RUST, NULL));
}

typedef struct matrix_arg {
    fx *f;
    fx_obj *lent_obj;
} matrix_arg;

/* Every create entry point: null arguments, a thread's first call (no
 * thread state yet), a cache refilled many times, with and without a site. */
static void *matrix_thread(void *p)
{
    matrix_arg *a = p;
    for (size_t c = 0; c < NCREATORS; c++) {
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 150; i++) {
                ferry_handle h;
                void *obj = creators[c].lent ? (void *)a->lent_obj : (void *)fx_new(a->f, i);
                ferry_status s = round == 0   ? creators[c].fn(a->f->type, obj, &h)
                                 : round == 1 ? creators[c].at(a->f->type, obj, &h, NULL)
                                              : creators[c].at(a->f->type, obj, &h, "gaps.c:1");
                if (s != FERRY_OK)
                    return (void *)creators[c].name;
                end_any(h, creators[c].lent, i % 2);
            }
        }
    }
    return NULL;
}

START_TEST(gaps_create_entry_points)
{
    fx f;
    fx_init(&f, "gaps_create", SS, FX_ALL);
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 1);
    ferry_handle h;
    for (size_t c = 0; c < NCREATORS; c++) {
        void *obj = &lent;
        expect_status(creators[c].fn(NULL, obj, &h), FERRY_E_NULL);
        expect_status(creators[c].fn(f.type, NULL, &h), FERRY_E_NULL);
        expect_status(creators[c].fn(f.type, obj, NULL), FERRY_E_NULL);
        expect_status(creators[c].at(NULL, obj, &h, NULL), FERRY_E_NULL);
        expect_status(creators[c].at(f.type, NULL, &h, NULL), FERRY_E_NULL);
        expect_status(creators[c].at(f.type, obj, NULL, "x"), FERRY_E_NULL);
    }
    /* Every entry point on a fresh thread, many times. */
    for (int run = 0; run < 2; run++) {
        matrix_arg a = {&f, &lent};
        pthread_t th;
        void *ret = (void *)1;
        ck_assert_int_eq(pthread_create(&th, NULL, matrix_thread, &a), 0);
        ck_assert_int_eq(pthread_join(th, &ret), 0);
        ck_assert_msg(ret == NULL, "create %s failed", (const char *)ret);
    }
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

/* The first ferry call of a thread, per entry point (self == NULL in every
 * inlined fast path). */
typedef struct first_call {
    int which;
    fx *f;
    ferry_handle h; /* a shared handle made by the main thread */
    ferry_handle w; /* a weak of it */
    ferry_status s;
} first_call;

static void *first_call_thread(void *p)
{
    first_call *a = p;
    ferry_handle out;
    const void *o;
    void *m;
    fx_obj *obj = fx_new(a->f, 1);
    switch (a->which) {
    case 0: a->s = (ferry_box)(a->f->type, obj, &out); break;
    case 1: a->s = (ferry_share_at)(a->f->type, obj, &out, NULL); break;
    case 2: a->s = (ferry_clone)(a->h, &out); break;
    case 3: a->s = (ferry_clone_at)(a->h, &out, "gaps.c:2"); break;
    case 4: a->s = ferry_borrow(a->h, a->f->type, &o); if (!a->s) ferry_unborrow(a->h); break;
    case 5: a->s = ferry_unborrow(a->h); break;
    case 6: a->s = (ferry_drop)(a->w); break; /* a weak, through drop's slow path */
    case 7: a->s = ferry_borrow_mut(a->h, a->f->type, &m); break;
    case 8: a->s = ferry_check(a->h, a->f->type); break;
    default: a->s = (ferry_downgrade)(a->h, &out); break;
    }
    if (a->which <= 1) {
        if (a->s == FERRY_OK)
            ferry_drop(out);
    } else if (a->which <= 3 || a->which == 9) {
        if (a->s == FERRY_OK)
            ferry_drop(out);
        fx_release(obj);
    } else {
        fx_release(obj);
    }
    return NULL;
}

START_TEST(gaps_first_call_of_a_thread)
{
    fx f;
    fx_init(&f, "gaps_first", SS, FX_ALL);
    static const ferry_status want[] = {FERRY_OK, FERRY_OK, FERRY_OK, FERRY_OK, FERRY_OK,
                                        FERRY_E_BORROWED, FERRY_OK, FERRY_E_KIND, FERRY_OK,
                                        FERRY_OK};
    for (int which = 0; which < 10; which++) {
        first_call a = {.which = which, .f = &f};
        expect_ok(ferry_share(f.type, fx_new(&f, 0), &a.h));
        expect_ok(ferry_downgrade(a.h, &a.w));
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, first_call_thread, &a), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
        ck_assert_msg(a.s == want[which], "case %d: %s", which, ferry_status_name(a.s));
        expect_ok(ferry_drop(a.h));
        if (which != 6)
            expect_ok(ferry_drop(a.w));
    }
    ck_assert_int_eq(fx_count(&f.destroyed), fx_count(&f.freed));
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

/* Types whose ids lie in a later ledger page (id >= 64) than the ones a
 * thread has used: the fast paths find no row and take the slow path. */
START_TEST(gaps_type_in_a_new_ledger_page)
{
    static fx many[80];
    for (int i = 0; i < 80; i++)
        fx_init(&many[i], "gaps_page", SS, FX_ALL);
    fx *late = &many[79];
    ferry_handle h, c;
    const void *o;
    void *m;
    expect_ok(ferry_box(late->type, fx_new(late, 1), &h));
    expect_ok(ferry_borrow_mut(h, late->type, &m));
    expect_ok(ferry_unborrow(h));
    expect_ok(ferry_drop(h));
    typedef struct {
        ferry_handle h;
    } arg;
    arg a;
    expect_ok(ferry_share(late->type, fx_new(late, 2), &a.h));
    (void)o;
    (void)c;
    ferry_handle w;
    expect_ok(ferry_downgrade(a.h, &w));
    /* the late type is new on the main thread's page 1 now; a page-1 type
     * not yet touched: */
    fx *later = &many[78];
    ferry_handle s2;
    expect_ok(ferry_share(later->type, fx_new(later, 3), &s2));
    expect_ok(ferry_drop(s2));
    expect_ok(ferry_drop(w));
    expect_ok(ferry_drop(a.h));
    for (int i = 0; i < 80; i++)
        ck_assert_int_eq(fx_count(&many[i].bad), 0);
}
END_TEST

/* A type whose retain fails: clone's fast path undoes (clone_null). */
static void *null_retain(void *o)
{
    (void)o;
    return NULL;
}
static void plain_release(void *o)
{
    free(o);
}

START_TEST(gaps_retain_returns_null)
{
    ferry_type_desc d = {.name = "gaps.NullRetain", .flags = SS, .release = plain_release,
                         .retain = null_retain};
    const ferry_type *t;
    expect_ok(ferry_type_register(&d, &t));
    ferry_handle h, c;
    expect_ok(ferry_share(t, malloc(8), &h));
    for (int i = 0; i < 3; i++) {
        expect_fail((ferry_clone)(h, &c), FERRY_E_NOMEM, "ferry_clone");
        expect_fail(ferry_clone(h, &c), FERRY_E_NOMEM, "ferry_clone");
    }
    expect_ok(ferry_check(h, t));
    expect_ok(ferry_drop(h));
}
END_TEST

/* 4095 clones of one handle in flight: a retain that clones the same
 * handle again, recursively, until ferry refuses (FERRY_E_LIMIT). */
typedef struct counted {
    long refs;
} counted;
static ferry_handle deep_h;
static int deep_depth, deep_limit_at;
static ferry_handle deep_made[4200];
static int deep_nmade;

static void *deep_retain(void *p)
{
    counted *o = p;
    if (deep_depth < 4200 && !deep_limit_at) {
        deep_depth++;
        ferry_handle c;
        ferry_status s = ferry_clone(deep_h, &c);
        if (s == FERRY_OK)
            deep_made[deep_nmade++] = c;
        else if (s == FERRY_E_LIMIT)
            deep_limit_at = deep_depth;
    }
    o->refs++;
    return o;
}
static void counted_release(void *p)
{
    counted *o = p;
    if (--o->refs == 0)
        free(o);
}

START_TEST(gaps_pin_limit)
{
    ferry_type_desc d = {.name = "gaps.DeepRetain", .flags = SS, .release = counted_release,
                         .retain = deep_retain};
    const ferry_type *t;
    expect_ok(ferry_type_register(&d, &t));
    counted *o = calloc(1, sizeof *o);
    o->refs = 1;
    expect_ok(ferry_share(t, o, &deep_h));
    ferry_handle c;
    expect_ok(ferry_clone(deep_h, &c));
    ck_assert_int_eq(deep_limit_at, 4095); /* the outer clone and 4094 nested ones hold pins */
    expect_ok(ferry_drop(c));
    for (int i = 0; i < deep_nmade; i++)
        expect_ok(ferry_drop(deep_made[i]));
    expect_ok(ferry_drop(deep_h));
}
END_TEST

/* Shared borrows of many Send + !Sync objects at once: a claims stripe
 * grows past its first 8 entries; 2^20 - 1 claimed borrows of one handle:
 * FERRY_E_LIMIT through the claim path. */
START_TEST(gaps_claims)
{
    fx f;
    fx_init(&f, "gaps_claims", FERRY_SEND, FX_ALL);
    enum { N = 1200 };
    static ferry_handle hs[N];
    const void *o;
    for (int i = 0; i < N; i++) {
        expect_ok(ferry_share(f.type, fx_new(&f, i), &hs[i]));
        expect_ok(ferry_borrow(hs[i], f.type, &o));
    }
    for (int i = 0; i < N; i++) {
        expect_ok(ferry_unborrow(hs[i]));
        expect_ok(ferry_drop(hs[i]));
    }
    ferry_handle h;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &h));
    long n = 0;
    ferry_status s;
    while ((s = ferry_borrow(h, f.type, &o)) == FERRY_OK)
        n++;
    ck_assert_int_eq(s, FERRY_E_LIMIT);
    ck_assert_int_eq(n, 0xFFFFF);
    while (n--)
        expect_ok(ferry_unborrow(h));
    expect_status(ferry_unborrow(h), FERRY_E_BORROWED);
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

/* Odd arguments and messages. */
START_TEST(gaps_messages)
{
    ck_assert_str_eq(ferry_status_name((ferry_status)999), "FERRY_E_UNKNOWN");
    fx f;
    fx_init(&f, "gaps_msg", SS, FX_ALL);
    ferry_handle h;
    void *u;
    expect_fail((ferry_take)(h = FERRY_NULL_HANDLE, NULL, &u), FERRY_E_NULL, "ferry_take");
    /* a message longer than the buffer is cut, not overflowed */
    static char site[3000];
    memset(site, 's', sizeof site - 1);
    expect_ok(ferry_box_at(f.type, fx_new(&f, 1), &h, site));
    expect_ok(ferry_drop_at(h, FERRY_BY_C, site));
    expect_status(ferry_drop_at(h, FERRY_BY_C, site), FERRY_E_STALE);
    ck_assert_uint_lt(strlen(ferry_last_error()), 1024);
    /* an empty type name */
    ferry_type_desc d = fx_desc(&f);
    d.name = "";
    const ferry_type *t;
    expect_fail(ferry_type_register(&d, &t), FERRY_E_NULL, "ferry_type_register");
}
END_TEST

/* FERRY_ON_ERROR=abort: the report, then abort(). Run in a child whose
 * SIGABRT handler exits normally, so the coverage counters are written. */
static void on_abort(int sig)
{
    (void)sig;
    exit(42);
}

START_TEST(gaps_abort_policy)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGABRT, on_abort);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        ferry_set_error_policy(FERRY_POLICY_ABORT);
        ferry_check(FERRY_NULL_HANDLE, NULL);
        _exit(1); /* not reached */
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 42, "child status %d", st);
}
END_TEST

/* ferry_plugin_open on ELF files that are not shared objects, in both byte
 * orders (plugin.c's header check). */
START_TEST(gaps_plugin_not_a_shared_object)
{
    for (int big = 0; big < 2; big++) {
        char path[] = "/tmp/ferry_gaps_XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        unsigned char hdr[64] = {0x7f, 'E', 'L', 'F', 2, (unsigned char)(big ? 2 : 1), 1};
        hdr[big ? 17 : 16] = big ? 2 : 1; /* ET_EXEC big endian, ET_REL little endian */
        ck_assert_int_eq(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
        close(fd);
        ferry_plugin *pl = NULL;
        expect_fail(ferry_plugin_open(path, &pl), FERRY_E_LOAD, "ferry_plugin_open");
        msg_assert_has("want ET_DYN");
        unlink(path);
    }
}
END_TEST

/* Without FERRY_FAULT_INJECTION the hooks of ferry_testing.h do nothing:
 * no allocation is counted or failed (alloc.c's stubs). */
START_TEST(gaps_fault_hooks_inert)
{
    ck_assert(!ferry__test_fault_injection());
    fx f;
    fx_init(&f, "gaps_inert", SS, FX_ALL);
    for (int persistent = 0; persistent < 2; persistent++) {
        if (persistent)
            ferry__test_fail_allocations_from(1);
        else
            ferry__test_fail_allocation(1);
        ferry_handle h;
        expect_ok(ferry_share(f.type, fx_new(&f, 1), &h));
        ferry_handle c;
        expect_ok(ferry_clone(h, &c));
        expect_ok(ferry_drop(c));
        expect_ok(ferry_drop(h));
        ck_assert_uint_eq(ferry__test_allocations(), 0);
        ck_assert_uint_eq(ferry__test_allocation_failures(), 0);
        ck_assert_ptr_null(ferry__test_failed_allocation_site());
    }
    ferry__test_fail_allocation(0);
    ck_assert_int_eq(fx_count(&f.destroyed), 2);
}
END_TEST

/* A descriptor with release_weak alone is refused; a name registered again
 * with a descriptor differing in any one function or size is a type error
 * (types.c desc_problem, same_desc). */
START_TEST(gaps_register_descriptor_checks)
{
    fx f;
    fx_init(&f, "gaps_desc", SS, FX_ALL);
    ferry_type_desc d = fx_desc(&f);
    const ferry_type *t = NULL;
    d.name = "gaps.WeakOnly";
    d.downgrade = NULL;
    d.upgrade = NULL;
    expect_fail(ferry_type_register(&d, &t), FERRY_E_NULL, "ferry_type_register");
    msg_assert_has("not all three");
    ck_assert_ptr_null(ferry_type_find("gaps.WeakOnly"));

    ferry_type_desc base = fx_desc(&f);
    base.size = 16;
    base.align = 8;
    base.name = "gaps.Redescribed";
    const ferry_type *first = NULL;
    expect_ok(ferry_type_register(&base, &first));
    for (int field = 0; field < 5; field++) {
        ferry_type_desc other = base;
        switch (field) {
        case 0: other.downgrade = fx_retain; break;
        case 1: other.upgrade = fx_retain; break;
        case 2: other.release_weak = fx_release_alt; break;
        case 3: other.size = 32; break;
        default: other.align = 16; break;
        }
        t = NULL;
        expect_fail(ferry_type_register(&other, &t), FERRY_E_TYPE, "ferry_type_register");
        msg_assert_has("already registered with a different descriptor");
        ck_assert_ptr_null(t);
    }
    /* the same descriptor again: the same type */
    expect_ok(ferry_type_register(&base, &t));
    ck_assert_ptr_eq(t, first);
}
END_TEST

/* Only FERRY_LEAK_CHECK=1 turns the exit check on: "0" leaves a leaking
 * program's status and stderr alone (ledger.c ferry__ledger_init). */
START_TEST(gaps_leak_check_needs_1)
{
    const char *values[] = {"0", "yes", ""};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char *out = NULL, *err = NULL;
        int status = run_helper("leak", "FERRY_LEAK_CHECK", values[i], &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "FERRY_LEAK_CHECK=%s: status %#x, stderr:\n%s", values[i], status, err);
        ck_assert_msg(strstr(err, "FERRY_LEAK_CHECK") == NULL && strstr(err, "helper.Leaky") == NULL,
                      "FERRY_LEAK_CHECK=%s reported:\n%s", values[i], err);
        free(out);
        free(err);
    }
}
END_TEST

/* A policy value outside the enum (ferry_set_error_policy does not check
 * it) acts as FERRY_POLICY_RETURN: the status comes back, with its message
 * (errors.c's policy switch). */
START_TEST(gaps_policy_out_of_range)
{
    ferry_error_policy old = ferry_set_error_policy((ferry_error_policy)7);
    expect_fail(ferry_check(FERRY_NULL_HANDLE, NULL), FERRY_E_NULL, "ferry_check");
    ck_assert_int_eq((int)ferry_set_error_policy(old), 7);
}
END_TEST

/* Mutable borrow of a !Send unique handle on another thread: the fast path's
 * owner test fails for an exclusive borrow (ops_borrow.c fast_owner_ok), and
 * the slow path names the thread rule. */
typedef struct mut_arg {
    ferry_handle h;
    const ferry_type *t;
    ferry_status s;
    char msg[256];
} mut_arg;

static void *borrow_mut_elsewhere(void *p)
{
    mut_arg *a = p;
    void *o;
    /* a first box and take attach this thread, so the borrow below is the
     * fast path's */
    int local = 0;
    ferry_handle mine;
    a->s = ferry_box(a->t, &local, &mine);
    if (a->s == FERRY_OK)
        a->s = ferry_take(mine, a->t, &o);
    if (a->s == FERRY_OK) {
        a->s = ferry_borrow_mut(a->h, a->t, &o);
        snprintf(a->msg, sizeof a->msg, "%s", ferry_last_error());
    }
    return NULL;
}

START_TEST(gaps_borrow_mut_pinned_elsewhere)
{
    fx f;
    fx_init(&f, "gaps_nosend", FERRY_SYNC, FX_PLAIN);
    mut_arg a = {.t = f.type};
    expect_ok(ferry_box(f.type, fx_new(&f, 1), &a.h));
    run_on_thread(borrow_mut_elsewhere, &a);
    ck_assert_msg(a.s == FERRY_E_THREAD, "got %s: %s", ferry_status_name(a.s), a.msg);
    ck_assert_msg(strstr(a.msg, "!Send") != NULL, "message: %s", a.msg);
    void *o;
    expect_ok(ferry_borrow_mut(a.h, f.type, &o));
    expect_ok(ferry_unborrow(a.h));
    expect_ok(ferry_drop(a.h));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

/* Type names with ':' and '-' parse; a byte above 'z' does not
 * (signature.c word_char/type_char). */
START_TEST(gaps_signature_type_chars)
{
    ferry_signature sig;
    expect_ok(ferry_signature_parse("(ref<ns::Item-2>) -> u8", &sig));
    ck_assert_uint_eq(sig.nargs, 1);
    ck_assert_str_eq(sig.args[0].type_name, "ns::Item-2");
    const char *bad[] = {"(ref<a|b>)", "(i64{)", "(own<~x>)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_fail(ferry_signature_parse(bad[i], &sig), FERRY_E_SIGNATURE, "ferry_signature_parse");
}
END_TEST

/* The table hooks of ferry_testing.h: a fresh batch cut at a chunk's end
 * (table.c cache_refill_fresh), aging a dropped handle, a slot limit above
 * the maximum, skipping past the limit. */
#define GAPS_CHUNK_SLOTS (1u << 16) /* FERRY__CHUNK_SLOTS, c/src/internal.h */

typedef struct chunk_arg {
    uint32_t chunk_end;
    bool saw_last, saw_next;
    ferry_status s;
    fx *f;
} chunk_arg;

static void *create_across_chunk(void *p)
{
    chunk_arg *a = p;
    /* Use up any free slots this process has, until slots come fresh: at
     * most every slot issued so far. */
    uint32_t issued = ferry__test_slots_issued();
    size_t N = (size_t)issued + 200, n = 0;
    ferry_handle *hs = calloc(N, sizeof *hs);
    if (!hs) {
        a->s = FERRY_E_NOMEM;
        return NULL;
    }
    a->s = FERRY_OK;
    while (a->s == FERRY_OK && ferry__test_slots_issued() == issued && n < N) {
        a->s = ferry_box(a->f->type, fx_new(a->f, (int)n), &hs[n]);
        n++;
    }
    if (a->s == FERRY_OK && ferry__test_slots_issued() != issued) {
        uint32_t at = ferry__test_slots_issued();
        a->chunk_end = (at / GAPS_CHUNK_SLOTS + 1) * GAPS_CHUNK_SLOTS;
        if (a->chunk_end - at < 4)
            a->chunk_end += GAPS_CHUNK_SLOTS;
        ferry__test_skip_fresh_slots(a->chunk_end - 3 - at);
        if (ferry__test_slots_issued() != a->chunk_end - 3)
            a->s = FERRY_E_LIMIT;
        for (int i = 0; i < 100 && n < N && a->s == FERRY_OK; i++, n++) {
            a->s = ferry_box(a->f->type, fx_new(a->f, (int)n), &hs[n]);
            if (a->s == FERRY_OK) {
                uint32_t index = ferry__test_slot_index(hs[n]);
                a->saw_last |= index == a->chunk_end - 1;
                a->saw_next |= index == a->chunk_end;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (hs[i].bits && ferry_drop(hs[i]) != FERRY_OK && a->s == FERRY_OK)
            a->s = FERRY_E_INVALID;
    free(hs);
    return NULL;
}

START_TEST(gaps_table_hooks)
{
    fx f;
    fx_init(&f, "gaps_chunk", SS, FX_PLAIN);
    chunk_arg a = {.f = &f};
    run_on_thread(create_across_chunk, &a);
    ck_assert_msg(a.s == FERRY_OK, "%s: %s", ferry_status_name(a.s), ferry_last_error());
    ck_assert_msg(a.saw_last && a.saw_next, "slots %u and %u not both used", a.chunk_end - 1,
                  a.chunk_end);
    ck_assert_int_eq(fx_count(&f.bad), 0);

    /* aging a dropped handle: nothing to age */
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 1), &h));
    expect_ok(ferry_drop(h));
    ck_assert_uint_eq(ferry__test_age_slot(h).bits, 0);

    /* a limit above the maximum is the maximum: slots still come */
    ferry__test_set_slot_limit(UINT32_MAX);
    uint32_t before = ferry__test_slots_issued();
    ferry__test_skip_fresh_slots(5);
    ck_assert_uint_eq(ferry__test_slots_issued(), before + 5);
    /* skipping past the limit stops at it, and at the limit skips nothing */
    ferry__test_set_slot_limit(before + 10);
    ferry__test_skip_fresh_slots(100);
    ck_assert_uint_eq(ferry__test_slots_issued(), before + 10);
    ferry__test_skip_fresh_slots(1);
    ck_assert_uint_eq(ferry__test_slots_issued(), before + 10);
    ferry__test_set_slot_limit(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coverage_gaps");
    ADD_CASE(s, gaps_create_entry_points, 120);
    ADD_CASE(s, gaps_first_call_of_a_thread, 60);
    ADD_CASE(s, gaps_type_in_a_new_ledger_page, 60);
    ADD_CASE(s, gaps_retain_returns_null, 60);
    ADD_CASE(s, gaps_pin_limit, 60);
    ADD_CASE(s, gaps_claims, 120);
    ADD_CASE(s, gaps_messages, 60);
    ADD_CASE(s, gaps_abort_policy, 60);
    ADD_CASE(s, gaps_plugin_not_a_shared_object, 60);
    ADD_CASE(s, gaps_fault_hooks_inert, 60);
    ADD_CASE(s, gaps_register_descriptor_checks, 60);
    ADD_CASE(s, gaps_leak_check_needs_1, 60);
    ADD_CASE(s, gaps_policy_out_of_range, 60);
    ADD_CASE(s, gaps_borrow_mut_pinned_elsewhere, 60);
    ADD_CASE(s, gaps_signature_type_chars, 60);
    ADD_CASE(s, gaps_table_hooks, 60);
    return run_suite(s);
}
