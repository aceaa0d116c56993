/* test_nomem.c — allocation-failure injection (issue 7, part 3).
 *
 * Linked against ferry_faulty, libferry built with FERRY_FAULT_INJECTION, so
 * ferry__test_fail_allocation(n) (ferry_testing.h) makes the nth allocation
 * attempt fail. For N = 1, 2, ... a forked child (libferry's state is
 * process-wide: each N needs a fresh process) arms the hook and runs one
 * scenario that reaches every allocation in c/src: a thread's first call
 * (thread state), type registration, ledger pages (page 0 and, with type ids
 * past 63, page 1), a new chunk of the table, box/share/local/lend/lend_mut/
 * clone/downgrade/upgrade/borrow/take/revoke, shared borrows of a
 * Send + !Sync object (the claim list), a second thread (its state, its
 * ledger page, the retired totals when it exits), ferry_ledger, and a C
 * plugin (open: the record, path, realpath, function tables, type list,
 * the kept name and call sites;
 * calls; close). The loop ends at the first N whose child completes without
 * any injected failure.
 *
 * In the child, for every N:
 *   - every call returns FERRY_OK or FERRY_E_NOMEM, and FERRY_E_NOMEM only
 *     when an allocation was made to fail during that call, with a message
 *     "FERRY_E_NOMEM: <op>: ...";
 *   - after FERRY_E_NOMEM nothing changed: the ledger (all types and each
 *     type), ferry_live, the table's live handles and high-water mark, every
 *     object's counters;
 *   - one-shot mode: the call is repeated and must now succeed, so the
 *     scenario always runs to its end;
 *   - persistent mode (every allocation from the nth on fails): the scenario
 *     goes on with whatever it has; then the allocations succeed again and
 *     everything is torn down;
 *   - every object handed to a successful create is released by ferry
 *     exactly once (the last drop), an object whose create failed is still
 *     the caller's (ferry never touched it: the test releases it itself);
 *   - the ledger is exact: created, cloned, taken and dropped equal the
 *     successful calls the child counted, created + cloned == taken + dropped
 *     + live, and live == 0 at the end.
 * The parent asserts each child passed, that one-shot injection failed each
 * allocation site of c/src at least once, and that both loops ended.
 */
#include "support.h"

#include "ferry/plugin.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SS (FERRY_SEND | FERRY_SYNC)
#define MAX_N 5000 /* a scenario never makes this many allocations */

/* ------------------------------------------------------------------ */
/* The child: objects with per-object books                           */
/* ------------------------------------------------------------------ */

static bool persistent;
static int report_fd = -1;

#define DIE(...)                                                                           \
    do {                                                                                   \
        fprintf(stderr, "test_nomem child (%s, line %d): ", persistent ? "persistent" : "one-shot", \
                __LINE__);                                                                 \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        fflush(stderr);                                                                    \
        _exit(3);                                                                          \
    } while (0)
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond))                                                                       \
            DIE("check failed (" #cond "): " __VA_ARGS__);                                  \
    } while (0)

#define MAX_OBJS 256

/* What happened to object i; kept outside the object, so they can be read
 * after it is freed. */
typedef struct rec {
    atomic_int releases;  /* strong units given up (release calls) */
    atomic_int destroyed; /* last strong unit gone */
    atomic_int freed;     /* memory gone */
} rec;
static rec recs[MAX_OBJS];
static atomic_int nrecs;

#define OBJ_LIVE 0x6e6f6d656d4f424aull

/* An Arc-like object: strong units, and weak units (+1 while any strong). */
typedef struct tobj {
    uint64_t magic;
    atomic_int strong, weak;
    int id;
} tobj;

static tobj *obj_new(void)
{
    int id = atomic_fetch_add(&nrecs, 1);
    CHECK(id < MAX_OBJS, "too many objects");
    tobj *o = malloc(sizeof *o);
    CHECK(o != NULL, "malloc");
    o->magic = OBJ_LIVE;
    atomic_init(&o->strong, 1);
    atomic_init(&o->weak, 1);
    o->id = id;
    return o;
}

static void check_live(const tobj *o, const char *what)
{
    if (!o || o->magic != OBJ_LIVE)
        DIE("%s on an object that is not live", what);
}

static void weak_put(tobj *o)
{
    if (atomic_fetch_sub(&o->weak, 1) == 1) {
        atomic_fetch_add(&recs[o->id].freed, 1);
        o->magic = 0;
        free(o);
    }
}

static void obj_release(void *p)
{
    tobj *o = p;
    check_live(o, "release");
    atomic_fetch_add(&recs[o->id].releases, 1);
    int before = atomic_fetch_sub(&o->strong, 1);
    CHECK(before > 0, "release of object %d with no strong unit", o->id);
    if (before == 1) {
        atomic_fetch_add(&recs[o->id].destroyed, 1);
        weak_put(o);
    }
}

static void *obj_retain(void *p)
{
    tobj *o = p;
    check_live(o, "retain");
    CHECK(atomic_fetch_add(&o->strong, 1) > 0, "retain of a dead object");
    return o;
}

static void *obj_downgrade(void *p)
{
    tobj *o = p;
    check_live(o, "downgrade");
    atomic_fetch_add(&o->weak, 1);
    return o;
}

static void *obj_upgrade(void *p)
{
    tobj *o = p;
    check_live(o, "upgrade");
    int s = atomic_load(&o->strong);
    while (s > 0 && !atomic_compare_exchange_weak(&o->strong, &s, s + 1))
        ;
    return s > 0 ? o : NULL;
}

static void obj_release_weak(void *p)
{
    tobj *o = p;
    check_live(o, "release_weak");
    weak_put(o);
}

/* The caller gives up its own unit of an object ferry does not hold (a
 * create that failed, or a take). */
static void caller_release(tobj *o)
{
    obj_release(o);
}

/* ------------------------------------------------------------------ */
/* The child: types, expected ledger, snapshots                        */
/* ------------------------------------------------------------------ */

enum { T_BOX, T_ARC, T_RC, T_CELL, T_HIGH, NT }; /* T_HIGH: a type id past 63 */
#define FILLERS 61                                  /* ids 5..65: T_HIGH gets 66 */

static const ferry_type *types[NT];
static const char *const type_names[NT] = {"nomem.Box", "nomem.Arc", "nomem.Rc", "nomem.Cell",
                                           "nomem.High"};

/* The successful calls, as the ledger must count them. */
static atomic_long exp_created, exp_cloned, exp_taken, exp_dropped, exp_revoked;

typedef struct state {
    ferry_counts all, per[NT];
    size_t live, scanned;
    uint32_t issued;
    long rec_sum[3];
    uint64_t failures;
    bool scan;
} state;

static void take_state(state *s)
{
    memset(s, 0, sizeof *s);
    CHECK(ferry_ledger(NULL, &s->all) == FERRY_OK, "ferry_ledger");
    for (int i = 0; i < NT; i++)
        if (types[i])
            CHECK(ferry_ledger(types[i], &s->per[i]) == FERRY_OK, "ferry_ledger");
    s->live = ferry_live();
    s->issued = ferry__test_slots_issued();
    /* Scanning the table costs a read per slot ever issued: skipped once the
     * test has moved the table to its second chunk. */
    s->scan = s->issued <= 4096;
    if (s->scan)
        s->scanned = ferry_report_leaks(NULL);
    int n = atomic_load(&nrecs);
    for (int i = 0; i < n; i++) {
        s->rec_sum[0] += atomic_load(&recs[i].releases) * (i + 1);
        s->rec_sum[1] += atomic_load(&recs[i].destroyed) * (i + 1);
        s->rec_sum[2] += atomic_load(&recs[i].freed) * (i + 1);
    }
    s->failures = ferry__test_allocation_failures();
}

static bool counts_eq(const ferry_counts *a, const ferry_counts *b)
{
    return a->created == b->created && a->cloned == b->cloned && a->borrows == b->borrows &&
           a->handoffs == b->handoffs && a->taken == b->taken &&
           a->dropped_by_c == b->dropped_by_c && a->dropped_by_rust == b->dropped_by_rust &&
           a->revoked == b->revoked && a->live == b->live;
}

static void same_state(const state *a, const state *b, const char *call, int line)
{
    if (!counts_eq(&a->all, &b->all))
        DIE("line %d: %s failed with FERRY_E_NOMEM but changed the ledger", line, call);
    for (int i = 0; i < NT; i++)
        if (!counts_eq(&a->per[i], &b->per[i]))
            DIE("line %d: %s failed with FERRY_E_NOMEM but changed the ledger of %s", line, call,
                type_names[i]);
    if (a->live != b->live)
        DIE("line %d: %s: ferry_live %zu -> %zu", line, call, a->live, b->live);
    if (a->scan && b->scan && a->scanned != b->scanned)
        DIE("line %d: %s: live slots %zu -> %zu", line, call, a->scanned, b->scanned);
    if (a->issued != b->issued)
        DIE("line %d: %s: slots issued %u -> %u", line, call, a->issued, b->issued);
    for (int i = 0; i < 3; i++)
        if (a->rec_sum[i] != b->rec_sum[i])
            DIE("line %d: %s failed with FERRY_E_NOMEM but called into an object", line, call);
}

static atomic_int nomem_seen;
static uint64_t persistent_failures, persistent_attempts; /* before the teardown */

/* A call returned FERRY_E_NOMEM: check the message and that nothing changed. */
static void saw_nomem(const char *call, int line, const state *before)
{
    const char *msg = ferry_last_error();
    state after;
    take_state(&after);
    if (strncmp(msg, "FERRY_E_NOMEM: ", 15) != 0 || strlen(msg) < 25)
        DIE("line %d: %s: FERRY_E_NOMEM with the message \"%s\"", line, call, msg);
    if (after.failures == before->failures)
        DIE("line %d: %s: FERRY_E_NOMEM but no allocation failed (%s)", line, call, msg);
    same_state(before, &after, call, line);
    atomic_fetch_add(&nomem_seen, 1);
}

/* st = call; a FERRY_E_NOMEM is checked and, in one-shot mode, the call is
 * made again (it must then succeed). Any status but FERRY_OK (or, in
 * persistent mode, FERRY_E_NOMEM) ends the child. */
#define TRY(st, call)                                                       \
    do {                                                                                   \
        for (int try_ = 0;; try_++) {                                                      \
            state b_;                                                                      \
            take_state(&b_);                                                               \
            (st) = (call);                                                                 \
            if ((st) != FERRY_E_NOMEM)                                                     \
                break;                                                                     \
            saw_nomem(#call, __LINE__, &b_);                                               \
            if (persistent || try_ > 0)                                                    \
                break;                                                                     \
        }                                                                                  \
        if ((st) != FERRY_OK && !((st) == FERRY_E_NOMEM && persistent))                    \
            DIE("line %d: %s: %s (%s)", __LINE__, #call, ferry_status_name(st),            \
                ferry_last_error());                                                       \
    } while (0)

/* ------------------------------------------------------------------ */
/* The child: operations with their books                              */
/* ------------------------------------------------------------------ */

typedef ferry_status (*create_fn)(const ferry_type *, void *, ferry_handle *);

/* A create of a new object; on failure the caller still owns it. */
static ferry_handle make(int t, create_fn fn)
{
    ferry_handle h = FERRY_NULL_HANDLE;
    if (!types[t])
        return h;
    tobj *o = obj_new();
    ferry_status st;
    TRY(st, fn(types[t], o, &h));
    if (st == FERRY_OK) {
        atomic_fetch_add(&exp_created, 1);
        return h;
    }
    /* Still ours, untouched: ferry released nothing and kept nothing. */
    CHECK(atomic_load(&recs[o->id].releases) == 0, "failed create released object %d", o->id);
    CHECK(atomic_load(&o->strong) == 1 && atomic_load(&o->weak) == 1,
          "failed create changed object %d", o->id);
    caller_release(o);
    return FERRY_NULL_HANDLE;
}

static ferry_status box_fn(const ferry_type *t, void *o, ferry_handle *h)
{
    return ferry_box(t, o, h);
}
static ferry_status share_fn(const ferry_type *t, void *o, ferry_handle *h)
{
    return ferry_share(t, o, h);
}
static ferry_status local_fn(const ferry_type *t, void *o, ferry_handle *h)
{
    return ferry_local(t, o, h);
}

static ferry_handle derive(ferry_status (*fn)(ferry_handle, ferry_handle *), ferry_handle h,
                           atomic_long *counter)
{
    ferry_handle out = FERRY_NULL_HANDLE;
    if (!h.bits)
        return out;
    ferry_status st;
    TRY(st, fn(h, &out));
    if (st != FERRY_OK)
        return FERRY_NULL_HANDLE;
    atomic_fetch_add(counter, 1);
    return out;
}

static void drop(ferry_handle *h)
{
    if (!h->bits)
        return;
    ferry_status st;
    TRY(st, ferry_drop(*h));
    if (st == FERRY_OK) {
        atomic_fetch_add(&exp_dropped, 1);
        *h = FERRY_NULL_HANDLE;
    }
}

static void borrow_and_end(ferry_handle h, int t, bool exclusive)
{
    if (!h.bits)
        return;
    ferry_status st;
    if (exclusive) {
        void *obj = NULL;
        TRY(st, ferry_borrow_mut(h, types[t], &obj));
        if (st == FERRY_OK)
            check_live(obj, "borrow_mut");
    } else {
        const void *obj = NULL;
        TRY(st, ferry_borrow(h, types[t], &obj));
        if (st == FERRY_OK)
            check_live(obj, "borrow");
    }
    if (st == FERRY_OK) {
        ferry_status st2;
        TRY(st2, ferry_unborrow(h));
        CHECK(st2 == FERRY_OK, "unborrow");
    }
}

/* ------------------------------------------------------------------ */
/* The child: the second thread                                        */
/* ------------------------------------------------------------------ */

typedef struct thread_ctx {
    ferry_handle arc, cell;  /* the main thread's, used here */
    ferry_handle made_box;   /* made here, dropped by the main thread */
    ferry_handle made_share; /* made here, dropped by the main thread */
    ferry_counts at_exit;    /* the ledger just before the thread ended */
} thread_ctx;

static void *second_thread(void *arg)
{
    thread_ctx *c = arg;
    ferry_handle clone = derive(ferry_clone, c->arc, &exp_cloned); /* thread state, ledger */
    borrow_and_end(clone, T_ARC, false);
    borrow_and_end(c->cell, T_CELL, false); /* the claim of a Send + !Sync object */
    drop(&clone);
    c->made_box = make(T_BOX, box_fn);
    c->made_share = make(T_CELL, share_fn);
    borrow_and_end(c->made_share, T_CELL, false);
    CHECK(ferry_ledger(NULL, &c->at_exit) == FERRY_OK, "ferry_ledger");
    return NULL; /* exit: the thread's rows join the retired totals */
}

/* ------------------------------------------------------------------ */
/* The child: the scenario                                             */
/* ------------------------------------------------------------------ */

static ferry_type_desc desc_of(const char *name, uint32_t flags, bool arc)
{
    ferry_type_desc d = {.name = name, .flags = flags, .release = obj_release};
    if (arc) {
        d.retain = obj_retain;
        d.downgrade = obj_downgrade;
        d.upgrade = obj_upgrade;
        d.release_weak = obj_release_weak;
    }
    return d;
}

static const ferry_type *register_type(const char *name, uint32_t flags, bool arc)
{
    ferry_type_desc d = desc_of(name, flags, arc);
    const ferry_type *t = NULL;
    ferry_status st;
    TRY(st, ferry_type_register(&d, &t));
    if (st != FERRY_OK) {
        CHECK(ferry_type_find(name) == NULL, "failed registration registered %s", name);
        return NULL;
    }
    return t;
}

static ferry_plugin *plugin_part(ferry_handle *counter_out)
{
    ferry_plugin *p = NULL;
    ferry_status st;
    TRY(st, ferry_plugin_open(NOMEM_PLUGIN, &p));
    if (st != FERRY_OK) {
        CHECK(ferry_type_find("c.Counter") == NULL, "failed open registered c.Counter");
        return NULL;
    }
    ferry_value args[3] = {ferry_value_i32(1), ferry_value_i32(2), ferry_value_i32(3)};
    ferry_value ret;
    TRY(st, ferry_plugin_call(p, "sum3", args, 3, &ret));
    if (st == FERRY_OK)
        CHECK(ret.kind == FERRY_VALUE_I64 && ret.as.i64 == 6, "sum3");
    ferry_value v = ferry_value_i64(41);
    TRY(st, ferry_plugin_call(p, "counter_new", &v, 1, &ret));
    if (st == FERRY_OK) {
        CHECK(ret.kind == FERRY_VALUE_OWNED, "counter_new result");
        atomic_fetch_add(&exp_created, 1);
        ferry_handle h = ret.as.handle;
        ferry_value own = ferry_value_owned(h);
        TRY(st, ferry_plugin_call(p, "counter_free", &own, 1, NULL));
        if (st == FERRY_OK)
            atomic_fetch_add(&exp_dropped, 1);
        else
            *counter_out = h; /* dropped after the allocations come back */
    }
    return p;
}

static void scenario(void)
{
    /* Types: ids 1-4, then fillers so that T_HIGH's row is on ledger page 1. */
    types[T_BOX] = register_type(type_names[T_BOX], SS, false);
    types[T_ARC] = register_type(type_names[T_ARC], SS, true);
    types[T_RC] = register_type(type_names[T_RC], 0, true);
    types[T_CELL] = register_type(type_names[T_CELL], FERRY_SEND, true);
    for (int i = 0; i < FILLERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "nomem.Filler%d", i);
        register_type(name, SS, false);
    }
    types[T_HIGH] = register_type(type_names[T_HIGH], SS, false);

    /* The main thread's first call: its state, ledger page 0, chunk 0. */
    ferry_handle b1 = make(T_BOX, box_fn);
    borrow_and_end(b1, T_BOX, true);
    if (b1.bits) {
        void *obj = NULL;
        ferry_status st;
        TRY(st, ferry_take(b1, types[T_BOX], &obj));
        if (st == FERRY_OK) {
            atomic_fetch_add(&exp_taken, 1);
            caller_release(obj); /* the caller's again */
            b1 = FERRY_NULL_HANDLE;
        }
    }
    ferry_handle b2 = make(T_BOX, box_fn);

    /* Shared: clone, downgrade, upgrade, borrow. */
    ferry_handle a1 = make(T_ARC, share_fn);
    ferry_handle a2 = derive(ferry_clone, a1, &exp_cloned);
    ferry_handle aw = derive(ferry_downgrade, a1, &exp_created);
    ferry_handle a3 = derive(ferry_upgrade, aw, &exp_created);
    borrow_and_end(a1, T_ARC, false);

    /* Local (Rc): the same on a pinned kind. */
    ferry_handle r1 = make(T_RC, local_fn);
    ferry_handle r2 = derive(ferry_clone, r1, &exp_cloned);
    ferry_handle rw = derive(ferry_downgrade, r1, &exp_created);
    ferry_handle r3 = derive(ferry_upgrade, rw, &exp_created);
    borrow_and_end(r2, T_RC, false);

    /* Send + !Sync shared: borrows go through the claim list. */
    ferry_handle c1 = make(T_CELL, share_fn);
    borrow_and_end(c1, T_CELL, false);

    /* Lends and revokes. */
    if (types[T_BOX]) {
        static int lent_value, lent_mut_value;
        ferry_handle l = FERRY_NULL_HANDLE, lm = FERRY_NULL_HANDLE;
        ferry_status st;
        TRY(st, ferry_lend(types[T_BOX], &lent_value, &l));
        if (st == FERRY_OK) {
            atomic_fetch_add(&exp_created, 1);
            const void *obj;
            TRY(st, ferry_borrow(l, types[T_BOX], &obj));
            if (st == FERRY_OK) {
                CHECK(obj == &lent_value, "lent object");
                TRY(st, ferry_unborrow(l));
            }
            TRY(st, ferry_revoke(l));
            if (st == FERRY_OK) {
                atomic_fetch_add(&exp_dropped, 1);
                atomic_fetch_add(&exp_revoked, 1);
            }
        }
        TRY(st, ferry_lend_mut(types[T_BOX], &lent_mut_value, &lm));
        if (st == FERRY_OK) {
            atomic_fetch_add(&exp_created, 1);
            TRY(st, ferry_revoke(lm));
            if (st == FERRY_OK) {
                atomic_fetch_add(&exp_dropped, 1);
                atomic_fetch_add(&exp_revoked, 1);
            }
        }
    }

    /* A second thread: its state, its ledger page, a claim, handoffs, and
     * its rows folded into the retired totals when it exits. */
    thread_ctx tc = {.arc = a1, .cell = c1};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, second_thread, &tc) == 0, "pthread_create");
    CHECK(pthread_join(th, NULL) == 0, "pthread_join");
    ferry_counts after_exit;
    CHECK(ferry_ledger(NULL, &after_exit) == FERRY_OK, "ferry_ledger");
    CHECK(counts_eq(&tc.at_exit, &after_exit), "the ledger changed when the second thread exited");
    borrow_and_end(tc.made_box, T_BOX, true); /* a handoff */
    drop(&tc.made_box);

    /* A new chunk of the table, and a type on ledger page 1: skip to the
     * end of chunk 0, then create until the cache refills from chunk 1. */
    enum { GROW = 200 };
    ferry_handle grown[GROW] = {{0}};
    ferry__test_skip_fresh_slots(65536 - ferry__test_slots_issued());
    bool reached = false;
    for (int i = 0; i < GROW && !reached; i++) {
        grown[i] = make(T_HIGH, box_fn);
        if (grown[i].bits && ferry__test_slot_index(grown[i]) >= 65536)
            reached = true;
    }
    CHECK(reached || persistent, "no handle in the table's second chunk");

    ferry_counts all;
    CHECK(ferry_ledger(NULL, &all) == FERRY_OK, "ferry_ledger");

    ferry_handle counter = FERRY_NULL_HANDLE;
    ferry_plugin *plugin = plugin_part(&counter);

    /* Persistent mode: memory comes back; everything must be usable. */
    if (persistent) {
        persistent_failures = ferry__test_allocation_failures();
        persistent_attempts = ferry__test_allocations();
        ferry__test_fail_allocation(0);
    }

    for (int i = 0; i < GROW; i++)
        drop(&grown[i]);
    drop(&tc.made_share);
    ferry_handle *all_handles[] = {&b2, &a1, &a2, &aw, &a3, &r1, &r2, &rw, &r3, &c1, &counter};
    for (size_t i = 0; i < sizeof all_handles / sizeof all_handles[0]; i++)
        drop(all_handles[i]);
    if (plugin) {
        ferry_status st;
        TRY(st, ferry_plugin_close(plugin));
    }
}

/* After the scenario: every object gone exactly once, the ledger exact. */
static void final_books(void)
{
    int n = atomic_load(&nrecs);
    for (int i = 0; i < n; i++) {
        CHECK(atomic_load(&recs[i].destroyed) == 1, "object %d destroyed %d times", i,
              atomic_load(&recs[i].destroyed));
        CHECK(atomic_load(&recs[i].freed) == 1, "object %d freed %d times", i,
              atomic_load(&recs[i].freed));
    }
    ferry_counts c;
    CHECK(ferry_ledger(NULL, &c) == FERRY_OK, "ferry_ledger");
    CHECK(c.live == 0, "live %" PRIu64 " at the end", c.live);
    CHECK(ferry_live() == 0, "ferry_live");
    CHECK(ferry_report_leaks(NULL) == 0, "live slots at the end");
    CHECK(c.created == (uint64_t)atomic_load(&exp_created), "created %" PRIu64 ", expected %ld",
          c.created, atomic_load(&exp_created));
    CHECK(c.cloned == (uint64_t)atomic_load(&exp_cloned), "cloned %" PRIu64 ", expected %ld",
          c.cloned, atomic_load(&exp_cloned));
    CHECK(c.taken == (uint64_t)atomic_load(&exp_taken), "taken %" PRIu64 ", expected %ld", c.taken,
          atomic_load(&exp_taken));
    CHECK(c.dropped_by_c == (uint64_t)atomic_load(&exp_dropped),
          "dropped %" PRIu64 ", expected %ld", c.dropped_by_c, atomic_load(&exp_dropped));
    CHECK(c.revoked == (uint64_t)atomic_load(&exp_revoked), "revoked %" PRIu64 ", expected %ld",
          c.revoked, atomic_load(&exp_revoked));
    CHECK(c.created + c.cloned == c.taken + c.dropped_by_c + c.dropped_by_rust + c.live,
          "ledger identity");
    for (int t = 0; t < NT; t++) {
        if (!types[t])
            continue;
        ferry_counts tc;
        CHECK(ferry_ledger(types[t], &tc) == FERRY_OK, "ferry_ledger");
        CHECK(tc.live == 0 && tc.created + tc.cloned == tc.taken + tc.dropped_by_c +
                                                            tc.dropped_by_rust,
              "ledger of %s", type_names[t]);
    }
}

/* Runs in the forked child: arm, run, report "<failures> <allocations>
 * <nomem statuses> <site>" to the parent. */
static void child(uint64_t n, bool keep_failing)
{
    persistent = keep_failing;
    if (keep_failing)
        ferry__test_fail_allocations_from(n);
    else
        ferry__test_fail_allocation(n);
    scenario();
    /* Read before teardown checks, which allocate nothing anyway. */
    uint64_t failures = keep_failing ? persistent_failures : ferry__test_allocation_failures();
    uint64_t attempts = keep_failing ? persistent_attempts : ferry__test_allocations();
    const char *site = ferry__test_failed_allocation_site();
    if (!keep_failing)
        CHECK(failures == (n <= attempts ? 1u : 0u), "%" PRIu64 " failures at n %" PRIu64,
              failures, n);
    final_books();
    dprintf(report_fd, "%" PRIu64 " %" PRIu64 " %d %s\n", failures, attempts,
            atomic_load(&nomem_seen), site ? site : "-");
}

/* ------------------------------------------------------------------ */
/* The parent                                                          */
/* ------------------------------------------------------------------ */

/* Every allocation site in c/src (the site names of alloc.h's callers). */
static const char *const all_sites[] = {
    "thread state",       "type",          "ledger page",           "retired ledger page",
    "table chunk",        "claim list",    "plugin record",         "plugin path",
    "plugin realpath",    "plugin types",  "plugin type list",      "plugin functions",
    "plugin parameter type", "plugin argument op", "plugin moved site", "plugin refused site",
    "plugin result op",   "plugin name",   "plugin string set",
};
#define NSITES (sizeof all_sites / sizeof all_sites[0])

typedef struct outcome {
    uint64_t failures, attempts;
    int nomem;
    char site[64];
} outcome;

static outcome run_child(uint64_t n, bool keep_failing)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        child(n, keep_failing);
        close(report_fd);
        exit(0); /* exit, not _exit: LeakSanitizer checks the child too */
    }
    close(fds[1]);
    char buf[256];
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0 ||
           (r < 0 && errno == EINTR))
        if (r > 0)
            len += (size_t)r;
    buf[len] = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "%s n=%" PRIu64 ": child %s %d", keep_failing ? "persistent" : "one-shot", n,
                  WIFEXITED(status) ? "exited with" : "killed by signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    outcome o = {0};
    int pos = 0;
    ck_assert_msg(sscanf(buf, "%" SCNu64 " %" SCNu64 " %d %n", &o.failures, &o.attempts, &o.nomem,
                         &pos) == 3,
                  "n=%" PRIu64 ": child report \"%s\"", n, buf);
    snprintf(o.site, sizeof o.site, "%s", buf + pos);
    o.site[strcspn(o.site, "\n")] = 0;
    return o;
}

START_TEST(nomem_hook_compiled_in) {
    ck_assert_msg(ferry__test_fault_injection(), "test_nomem is not linked to ferry_faulty");
}
END_TEST

/* One-shot: the nth allocation fails, the call is repeated and succeeds. */
START_TEST(nomem_one_shot_every_allocation) {
    int hits[NSITES] = {0};
    uint64_t total = 0, nomem_total = 0, silent = 0;
    uint64_t n;
    for (n = 1; n <= MAX_N; n++) {
        outcome o = run_child(n, false);
        if (o.failures == 0) {
            total = o.attempts;
            break;
        }
        ck_assert_uint_eq(o.failures, 1);
        nomem_total += (uint64_t)o.nomem;
        if (o.nomem == 0)
            silent++; /* absorbed: a retired ledger page, a fast path's retry */
        size_t i;
        for (i = 0; i < NSITES; i++)
            if (strcmp(o.site, all_sites[i]) == 0)
                break;
        ck_assert_msg(i < NSITES, "n=%" PRIu64 ": unknown allocation site \"%s\"", n, o.site);
        hits[i]++;
    }
    ck_assert_msg(n <= MAX_N, "the scenario never completed without a failure");
    ck_assert_uint_eq(total, n - 1); /* every n up to the last allocation failed one */
    fprintf(stderr, "test_nomem: one-shot: n = 1..%" PRIu64 " (%" PRIu64
                    " allocations), %" PRIu64 " FERRY_E_NOMEM statuses, %" PRIu64
                    " failures absorbed; per site:",
            n, total, nomem_total, silent);
    for (size_t i = 0; i < NSITES; i++)
        fprintf(stderr, "%s %s %d", i ? "," : "", all_sites[i], hits[i]);
    fprintf(stderr, "\n");
    for (size_t i = 0; i < NSITES; i++)
        ck_assert_msg(hits[i] > 0, "allocation site \"%s\" was never made to fail", all_sites[i]);
}
END_TEST

/* Persistent: from the nth on every allocation fails; then they succeed
 * again and the child tears everything down. Every n, or every
 * FERRY_TEST_SCALE-th under valgrind (each child there takes ~0.4 s). */
START_TEST(nomem_persistent_every_allocation) {
    const char *scale = getenv("FERRY_TEST_SCALE");
    uint64_t step = scale && atoi(scale) > 1 ? (uint64_t)atoi(scale) : 1;
    uint64_t n, total = 0;
    for (n = 1; n <= MAX_N; n += step) {
        outcome o = run_child(n, true);
        if (o.failures == 0) {
            total = o.attempts;
            break;
        }
    }
    ck_assert_msg(n <= MAX_N, "the scenario never completed without a failure");
    ck_assert_msg(total < n && total + step >= n, "%" PRIu64 " allocations, n %" PRIu64, total, n);
    fprintf(stderr, "test_nomem: persistent: n = 1..%" PRIu64 " step %" PRIu64 "\n", n, step);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nomem");
    ADD_CASE(s, nomem_hook_compiled_in, 10);
    ADD_CASE(s, nomem_one_shot_every_allocation, 600);
    ADD_CASE(s, nomem_persistent_every_allocation, 600);
    return run_suite(s);
}
