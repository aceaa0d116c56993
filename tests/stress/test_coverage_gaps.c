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
    return run_suite(s);
}
