/* support.c — see support.h. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef FERRY_TEST_HELPER
#error "FERRY_TEST_HELPER must name the helper program (set by tests/c/CMakeLists.txt)"
#endif

/* ------------------------------------------------------------------ */
/* Fixture types and objects                                          */
/* ------------------------------------------------------------------ */

long fx_count(atomic_long *c) { return atomic_load(c); }

static void fx_weak_dec(fx_obj *o) {
    fx *f = o->owner;
    if (atomic_fetch_sub(&o->weak, 1) == 1) {
        atomic_fetch_add(&f->freed, 1);
        o->magic = FX_MAGIC_DEAD;
        free(o);
    }
}

static void fx_strong_dec(fx_obj *o) {
    fx *f = o->owner;
    long before = atomic_fetch_sub(&o->strong, 1);
    if (before <= 0) {
        atomic_fetch_add(&f->bad, 1);
        return;
    }
    if (before == 1) {
        atomic_fetch_add(&f->destroyed, 1);
        fx_weak_dec(o); /* the implicit weak unit of all strong units */
    }
}

void fx_release(void *obj) {
    fx_obj *o = obj;
    if (o == NULL || o->magic != FX_MAGIC_LIVE) {
        /* Reading magic of a freed object is itself a bug the sanitizers
         * report; this counter catches the cases they do not. */
        return;
    }
    atomic_fetch_add(&o->owner->released, 1);
    fx_strong_dec(o);
}

void fx_release_alt(void *obj) { fx_release(obj); }

void *fx_retain(void *obj) {
    fx_obj *o = obj;
    atomic_fetch_add(&o->owner->retained, 1);
    if (atomic_fetch_add(&o->strong, 1) <= 0) atomic_fetch_add(&o->owner->bad, 1);
    return o;
}

void *fx_downgrade(void *obj) {
    fx_obj *o = obj;
    atomic_fetch_add(&o->owner->downgraded, 1);
    if (atomic_load(&o->strong) <= 0) atomic_fetch_add(&o->owner->bad, 1);
    atomic_fetch_add(&o->weak, 1);
    return o;
}

void *fx_upgrade(void *weak) {
    fx_obj *o = weak;
    long n = atomic_load(&o->strong);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&o->strong, &n, n + 1)) {
            atomic_fetch_add(&o->owner->upgraded, 1);
            return o;
        }
    }
    atomic_fetch_add(&o->owner->upgrade_failed, 1);
    return NULL;
}

void fx_release_weak(void *weak) {
    fx_obj *o = weak;
    atomic_fetch_add(&o->owner->weak_released, 1);
    fx_weak_dec(o);
}

ferry_type_desc fx_desc(const fx *f) {
    ferry_type_desc d = {
        .name = f->name,
        .flags = f->flags,
        .release = fx_release,
        .retain = (f->features & FX_RETAIN) ? fx_retain : NULL,
        .downgrade = (f->features & FX_WEAK) ? fx_downgrade : NULL,
        .upgrade = (f->features & FX_WEAK) ? fx_upgrade : NULL,
        .release_weak = (f->features & FX_WEAK) ? fx_release_weak : NULL,
        .size = sizeof(fx_obj),
        .align = _Alignof(fx_obj),
    };
    return d;
}

void fx_init(fx *f, const char *base, uint32_t flags, unsigned features) {
    static atomic_int serial;
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "test.%s.%d", base, atomic_fetch_add(&serial, 1));
    f->flags = flags;
    f->features = features;
    ferry_type_desc d = fx_desc(f);
    const ferry_type *t = NULL;
    ferry_status s = ferry_type_register(&d, &t);
    ck_assert_msg(s == FERRY_OK, "registering %s: %s (%s)", f->name, ferry_status_name(s),
                  ferry_last_error());
    ck_assert_ptr_nonnull(t);
    f->type = t;
}

fx_obj *fx_new(fx *f, int value) {
    fx_obj *o = calloc(1, sizeof *o);
    ck_assert_ptr_nonnull(o);
    o->magic = FX_MAGIC_LIVE;
    atomic_init(&o->strong, 1);
    atomic_init(&o->weak, 1);
    atomic_init(&o->readers, 0);
    atomic_init(&o->writers, 0);
    o->owner = f;
    o->value = value;
    return o;
}

void fx_obj_init_lent(fx_obj *o, fx *f, int value) {
    memset(o, 0, sizeof *o);
    o->magic = FX_MAGIC_LIVE;
    atomic_init(&o->strong, 1);
    atomic_init(&o->weak, 1);
    atomic_init(&o->readers, 0);
    atomic_init(&o->writers, 0);
    o->owner = f;
    o->value = value;
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                          */
/* ------------------------------------------------------------------ */

ferry_counts ledger_of(const ferry_type *t) {
    ferry_counts c;
    memset(&c, 0xa5, sizeof c);
    ferry_status s = ferry_ledger(t, &c);
    ck_assert_msg(s == FERRY_OK, "ferry_ledger: %s", ferry_status_name(s));
    return c;
}

#define CMP_FIELD(a, b, field, what)                                                         \
    ck_assert_msg((a)->field == (b)->field, "%s:%d: %s.%s changed: %" PRIu64 " -> %" PRIu64, \
                  file, line, what, #field, (uint64_t)(a)->field, (uint64_t)(b)->field)

static void counts_cmp(const ferry_counts *a, const ferry_counts *b, const char *what,
                       const char *file, int line) {
    CMP_FIELD(a, b, created, what);
    CMP_FIELD(a, b, cloned, what);
    CMP_FIELD(a, b, borrows, what);
    CMP_FIELD(a, b, handoffs, what);
    CMP_FIELD(a, b, taken, what);
    CMP_FIELD(a, b, dropped_by_c, what);
    CMP_FIELD(a, b, dropped_by_rust, what);
    CMP_FIELD(a, b, live, what);
    CMP_FIELD(a, b, peak_live, what);
    CMP_FIELD(a, b, revoked, what);
}

void counts_assert_eq_at(const ferry_counts *a, const ferry_counts *b, const char *file,
                         int line) {
    counts_cmp(a, b, "ledger", file, line);
}

void counts_assert_identity_at(const ferry_counts *c, const char *file, int line) {
    uint64_t in = c->created + c->cloned;
    uint64_t out = c->taken + c->dropped_by_c + c->dropped_by_rust;
    ck_assert_msg(c->live == in - out,
                  "%s:%d: live %" PRIu64 " != created %" PRIu64 " + cloned %" PRIu64
                  " - taken %" PRIu64 " - dropped_by_c %" PRIu64 " - dropped_by_rust %" PRIu64,
                  file, line, c->live, c->created, c->cloned, c->taken, c->dropped_by_c,
                  c->dropped_by_rust);
    ck_assert_msg(c->revoked <= c->dropped_by_c + c->dropped_by_rust,
                  "%s:%d: revoked %" PRIu64 " is more than the drops it is part of", file, line,
                  c->revoked);
    ck_assert_msg(c->peak_live >= c->live, "%s:%d: peak_live %" PRIu64 " < live %" PRIu64, file,
                  line, c->peak_live, c->live);
}

void snap_take(snap *s, fx *f) {
    memset(s, 0, sizeof *s);
    s->type = ledger_of(f->type);
    s->all = ledger_of(NULL);
    s->live = ferry_live();
    s->released = fx_count(&f->released);
    s->retained = fx_count(&f->retained);
    s->downgraded = fx_count(&f->downgraded);
    s->upgraded = fx_count(&f->upgraded);
    s->upgrade_failed = fx_count(&f->upgrade_failed);
    s->weak_released = fx_count(&f->weak_released);
    s->destroyed = fx_count(&f->destroyed);
    s->freed = fx_count(&f->freed);
    s->bad = fx_count(&f->bad);
}

#define CMP_LONG(a, b, field)                                                                \
    ck_assert_msg((a)->field == (b)->field, "%s:%d: fixture counter %s changed: %ld -> %ld", \
                  file, line, #field, (long)(a)->field, (long)(b)->field)

void snap_assert_eq_at(const snap *a, const snap *b, const char *file, int line) {
    counts_cmp(&a->type, &b->type, "type ledger", file, line);
    counts_cmp(&a->all, &b->all, "all-types ledger", file, line);
    ck_assert_msg(a->live == b->live, "%s:%d: ferry_live changed: %zu -> %zu", file, line,
                  a->live, b->live);
    CMP_LONG(a, b, released);
    CMP_LONG(a, b, retained);
    CMP_LONG(a, b, downgraded);
    CMP_LONG(a, b, upgraded);
    CMP_LONG(a, b, upgrade_failed);
    CMP_LONG(a, b, weak_released);
    CMP_LONG(a, b, destroyed);
    CMP_LONG(a, b, freed);
    CMP_LONG(a, b, bad);
}

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

void msg_assert_prefix_at(ferry_status s, const char *op, const char *file, int line) {
    const char *msg = ferry_last_error();
    ck_assert_msg(msg != NULL, "%s:%d: ferry_last_error() returned NULL", file, line);
    char want[128];
    snprintf(want, sizeof want, "%s: %s", ferry_status_name(s), op);
    size_t n = strlen(want);
    bool ok = strncmp(msg, want, n) == 0;
    if (ok) {
        char c = msg[n];
        ok = !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_');
    }
    require(ok, "%s:%d: message should start with \"%s\": \"%s\"", file, line, want, msg);
}

void msg_assert_has_at(const char *needle, const char *file, int line) {
    const char *msg = ferry_last_error();
    require(msg != NULL && strstr(msg, needle) != NULL,
                  "%s:%d: message should contain \"%s\": \"%s\"", file, line, needle,
                  msg ? msg : "(null)");
}

void msg_assert_lacks_at(const char *needle, const char *file, int line) {
    const char *msg = ferry_last_error();
    require(msg != NULL && strstr(msg, needle) == NULL,
                  "%s:%d: message should not contain \"%s\": \"%s\"", file, line, needle,
                  msg ? msg : "(null)");
}

bool text_has_site(const char *text, const char *label, const char *srcfile, int srcline) {
    char want[256];
    site_of(want, sizeof want, srcfile, srcline);
    size_t lablen = strlen(label);
    for (const char *p = text ? strstr(text, label) : NULL; p; p = strstr(p + 1, label)) {
        const char *tok = p + lablen;
        while (*tok == ' ') tok++;
        size_t len = strcspn(tok, " ,;)\n\t");
        /* basename of the token */
        const char *base = tok;
        for (size_t i = 0; i < len; i++)
            if (tok[i] == '/') base = tok + i + 1;
        size_t blen = len - (size_t)(base - tok);
        if (blen == strlen(want) && strncmp(base, want, blen) == 0) return true;
    }
    return false;
}

void msg_assert_site_at(const char *label, const char *srcfile, int srcline, bool present,
                        const char *file, int line) {
    const char *msg = ferry_last_error();
    char want[256];
    site_of(want, sizeof want, srcfile, srcline);
    require(text_has_site(msg, label, srcfile, srcline) == present,
            "%s:%d: message should %s \"%s <path>/%s\": \"%s\"", file, line,
            present ? "contain" : "not contain", label, want, msg ? msg : "(null)");
}

const char *site_of(char *buf, size_t n, const char *file, int line) {
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    snprintf(buf, n, "%s:%d", base, line);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Operations by number                                               */
/* ------------------------------------------------------------------ */

const char *op_name(op o) {
    static const char *const names[OP_COUNT] = {
        [OP_CHECK] = "ferry_check",         [OP_BORROW] = "ferry_borrow",
        [OP_BORROW_MUT] = "ferry_borrow_mut", [OP_UNBORROW] = "ferry_unborrow",
        [OP_CLONE] = "ferry_clone",         [OP_DOWNGRADE] = "ferry_downgrade",
        [OP_UPGRADE] = "ferry_upgrade",     [OP_DROP] = "ferry_drop",
        [OP_DROP_RUST] = "ferry_drop",      [OP_TAKE] = "ferry_take",
        [OP_REVOKE] = "ferry_revoke",
    };
    return ((unsigned)o < OP_COUNT) ? names[o] : "?";
}

ferry_status run_op(op o, ferry_handle h, const ferry_type *t, ferry_handle *out_h,
                    void **out_obj) {
    ferry_handle dummy_h;
    void *dummy_obj;
    if (!out_h) out_h = &dummy_h;
    if (!out_obj) out_obj = &dummy_obj;
    switch (o) {
    case OP_CHECK: return ferry_check(h, t);
    case OP_BORROW: {
        const void *p = NULL;
        ferry_status s = ferry_borrow(h, t, &p);
        if (s == FERRY_OK) *out_obj = (void *)(uintptr_t)p;
        return s;
    }
    case OP_BORROW_MUT: return ferry_borrow_mut(h, t, out_obj);
    case OP_UNBORROW: return ferry_unborrow(h);
    case OP_CLONE: return ferry_clone(h, out_h);
    case OP_DOWNGRADE: return ferry_downgrade(h, out_h);
    case OP_UPGRADE: return ferry_upgrade(h, out_h);
    case OP_DROP: return ferry_drop(h);
    case OP_DROP_RUST: return ferry_drop_at(h, FERRY_BY_RUST, FERRY_SITE);
    case OP_TAKE: return ferry_take(h, t, out_obj);
    case OP_REVOKE: return ferry_revoke(h);
    case OP_COUNT: break;
    }
    return (ferry_status)-1;
}

typedef struct op_job {
    op o;
    ferry_handle h;
    const ferry_type *t;
    ferry_handle out_h;
    ferry_status st;
    char msg[1024];
} op_job;

static void *op_job_run(void *arg) {
    op_job *j = arg;
    j->st = run_op(j->o, j->h, j->t, &j->out_h, NULL);
    if (j->st != FERRY_OK) snprintf(j->msg, sizeof j->msg, "%s", ferry_last_error());
    return NULL;
}

ferry_status run_op_on_thread(op o, ferry_handle h, const ferry_type *t, ferry_handle *out_h,
                              char *msg, size_t n) {
    op_job j = {.o = o, .h = h, .t = t, .out_h = out_h ? *out_h : FERRY_NULL_HANDLE};
    run_on_thread(op_job_run, &j);
    if (out_h) *out_h = j.out_h;
    if (msg && n) snprintf(msg, n, "%s", j.msg);
    return j.st;
}

struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state; /* 0 idle, 1 job posted, 2 job done, 3 stop */
    op o;
    ferry_handle h, out_h;
    const ferry_type *t;
    void *out_obj;
    ferry_status st;
    char msg[1024];
};

static void *worker_main(void *arg) {
    worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->state != 1 && w->state != 3) pthread_cond_wait(&w->cv, &w->mu);
        if (w->state == 3) break;
        w->st = run_op(w->o, w->h, w->t, &w->out_h, &w->out_obj);
        w->msg[0] = '\0';
        if (w->st != FERRY_OK) snprintf(w->msg, sizeof w->msg, "%s", ferry_last_error());
        w->state = 2;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

worker *worker_start(void) {
    worker *w = calloc(1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    ck_assert_int_eq(pthread_create(&w->thread, NULL, worker_main, w), 0);
    return w;
}

ferry_status worker_run(worker *w, op o, ferry_handle h, const ferry_type *t,
                        ferry_handle *out_h, void **out_obj, char *msg, size_t n) {
    pthread_mutex_lock(&w->mu);
    w->o = o;
    w->h = h;
    w->t = t;
    w->out_h = out_h ? *out_h : FERRY_NULL_HANDLE;
    w->out_obj = out_obj ? *out_obj : NULL;
    w->state = 1;
    pthread_cond_broadcast(&w->cv);
    while (w->state != 2) pthread_cond_wait(&w->cv, &w->mu);
    w->state = 0;
    ferry_status st = w->st;
    if (out_h) *out_h = w->out_h;
    if (out_obj) *out_obj = w->out_obj;
    if (msg && n) snprintf(msg, n, "%s", w->msg);
    pthread_mutex_unlock(&w->mu);
    return st;
}

void worker_stop(worker *w) {
    pthread_mutex_lock(&w->mu);
    w->state = 3;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

/* ------------------------------------------------------------------ */
/* Processes, threads, stderr                                          */
/* ------------------------------------------------------------------ */

static int make_tmp_fd(void) {
    FILE *f = tmpfile();
    ck_assert_msg(f != NULL, "tmpfile: %s", strerror(errno));
    int fd = dup(fileno(f));
    ck_assert_int_ge(fd, 0);
    fclose(f);
    return fd;
}

static char *slurp_fd(int fd) {
    off_t end = lseek(fd, 0, SEEK_END);
    ck_assert_int_ge(end, 0);
    char *buf = malloc((size_t)end + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got = 0;
    while (got < (size_t)end) {
        ssize_t r = pread(fd, buf + got, (size_t)end - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        ck_assert_int_gt(r, 0);
        got += (size_t)r;
    }
    buf[got] = '\0';
    return buf;
}

void capture_begin(capture *c) {
    fflush(stderr);
    c->tmp_fd = make_tmp_fd();
    c->saved_fd = dup(STDERR_FILENO);
    ck_assert_int_ge(c->saved_fd, 0);
    ck_assert_int_ge(dup2(c->tmp_fd, STDERR_FILENO), 0);
}

char *capture_end(capture *c) {
    fflush(stderr);
    ck_assert_int_ge(dup2(c->saved_fd, STDERR_FILENO), 0);
    close(c->saved_fd);
    char *text = slurp_fd(c->tmp_fd);
    close(c->tmp_fd);
    return text;
}

int run_helper(const char *mode, const char *env_name, const char *env_value, char **out,
               char **err) {
    /* Build argv and envp before fork: only async-signal-safe calls after. */
    size_t n = 0;
    while (environ[n]) n++;
    char **envp = calloc(n + 2, sizeof *envp);
    ck_assert_ptr_nonnull(envp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "FERRY_ON_ERROR=", 15) == 0) continue;
        if (strncmp(environ[i], "FERRY_LEAK_CHECK=", 17) == 0) continue;
        envp[k++] = environ[i];
    }
    char *extra = NULL;
    if (env_name) {
        size_t len = strlen(env_name) + strlen(env_value) + 2;
        extra = malloc(len);
        ck_assert_ptr_nonnull(extra);
        snprintf(extra, len, "%s=%s", env_name, env_value);
        envp[k++] = extra;
    }
    envp[k] = NULL;
    char *argv[] = {(char *)FERRY_TEST_HELPER, (char *)mode, NULL};

    int out_fd = make_tmp_fd();
    int err_fd = make_tmp_fd();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(out_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        execve(FERRY_TEST_HELPER, argv, envp);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        ck_assert_int_eq(errno, EINTR);
    }
    free(extra);
    free(envp);
    if (out) *out = slurp_fd(out_fd);
    if (err) *err = slurp_fd(err_fd);
    close(out_fd);
    close(err_fd);
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 127),
                  "could not run helper %s", FERRY_TEST_HELPER);
    return status;
}

void run_on_thread(void *(*fn)(void *), void *arg) {
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, fn, arg), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
}

long scaled(long n) {
    const char *s = getenv("FERRY_TEST_SCALE");
    long div = s ? strtol(s, NULL, 10) : 1;
    if (div < 1) div = 1;
    long r = n / div;
    return r < 1 ? 1 : r;
}

uint64_t rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void support_case_teardown(void) {
    ferry__test_set_slot_limit(0);
    ferry_set_error_policy(FERRY_POLICY_RETURN);
}

int run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
