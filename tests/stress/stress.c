/*
 * stress.c — the concurrency proof: 8 threads (more than the machine's
 * cores) mix every handle operation on handles shared through a contested
 * pool, handed off through mailboxes, pinned to other threads, and kept
 * private, then the books are balanced to the unit.
 *
 *   ferry_stress [OPS]        OPS total ferry calls (default: FERRY_STRESS_OPS,
 *                             else 2,000,000 / FERRY_TEST_SCALE)
 *
 * Roles of a handle (docs/coverage.md and tests/stress/README.md list the
 * statuses each role may see):
 *   contested  pool[i]: any thread may run any operation on it, ends race;
 *              the one thread whose drop/take/revoke returns FERRY_OK
 *              replaces it (a failed replacement CAS means two ends won).
 *   mailbox    mail[i]: moved between threads by atomic exchange (a
 *              handoff); others only check and kind_of it in flight.
 *   foreign    foreign[t]: a pinned handle of thread t (local, !Send,
 *              lent !Sync) that every other thread tries and must be
 *              refused with FERRY_E_THREAD (or FERRY_E_STALE once ended).
 *   private    a thread's own handles: every status is predicted exactly.
 *
 * Every status is checked against the set the operation may return in its
 * situation; a status outside it is a failure. At the end every object's
 * destructor ran exactly once and its memory was freed exactly once, the
 * ledger's counts equal this program's own tallies of successful calls,
 * created + cloned == taken + dropped_by_c + dropped_by_rust + live, and
 * live == 0. Exit status 0 only if all of it holds.
 */
#define _POSIX_C_SOURCE 200809L

#include "ferry.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NTHREADS 8
#define NPRIV 24     /* private handles per thread */
#define NHELD 4      /* borrows of contested handles a thread holds at once */
#define NPOOL 22     /* contested handles (2 of each class) */
#define NMAIL 24     /* mailboxes (3 of each class) */
#define QUARANTINE 256 /* dead objects kept (marked) before free, per thread */

/* ------------------------------------------------------------------ */
/* Types and objects                                                  */
/* ------------------------------------------------------------------ */

enum { TY_SS, TY_SN, TY_NS, TY_PLAIN, TY_COUNT };
static const char *const ty_names[TY_COUNT] = {"stress.SendSync", "stress.SendNotSync",
                                               "stress.NotSend", "stress.Plain"};
static const ferry_type *types[TY_COUNT];

#define MAGIC_LIVE 0x5354524553534c56ull /* "STRESSLV" */
#define MAGIC_DEAD 0x5354524553534444ull

typedef struct sobj {
    uint64_t magic;
    uint64_t id;
    int ty;
    bool lent;          /* a lender's object: never released through ferry */
    atomic_long strong; /* Arc-like strong units */
    atomic_long weak;   /* weak units, +1 while any strong unit lives */
    atomic_int readers; /* threads inside a shared borrow */
    atomic_int writers; /* threads inside an exclusive borrow */
    atomic_int sn_count; /* !Sync: shared borrows outstanding ... */
    atomic_int sn_holder; /* ... and the thread (stress index + 1) holding them */
    long value;
} sobj;

/* Per-object destructor and free counts, indexed by object id. */
static atomic_uchar *destroyed_count, *freed_count;
static uint64_t max_objects;
static atomic_uint_fast64_t next_object_block;
#define ID_BLOCK 1024

static atomic_long bad_calls; /* a type function called on a dead or wrong object */
static atomic_long failures;  /* anything unexpected */

static _Thread_local int my_index; /* 1..NTHREADS, 0 on the main thread */

static void fail(const char *fmt, ...)
{
    long n = atomic_fetch_add(&failures, 1);
    if (n >= 20)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "stress: FAIL (thread %d): ", my_index);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Objects are not freed at once: the last QUARANTINE dead ones of each
 * thread keep their (dead) magic, so a call on a freed object is seen even
 * without a sanitizer. */
typedef struct quarantine {
    sobj *ring[QUARANTINE];
    unsigned n, head;
} quarantine;
static _Thread_local quarantine qring;

static void bury(sobj *o)
{
    atomic_fetch_add(&freed_count[o->id], 1);
    o->magic = MAGIC_DEAD;
    quarantine *q = &qring;
    if (q->n == QUARANTINE) {
        free(q->ring[q->head]);
        q->ring[q->head] = o;
        q->head = (q->head + 1) % QUARANTINE;
    } else {
        q->ring[(q->head + q->n++) % QUARANTINE] = o;
    }
}

static void quarantine_flush(void)
{
    quarantine *q = &qring;
    for (unsigned i = 0; i < q->n; i++)
        free(q->ring[(q->head + i) % QUARANTINE]);
    q->n = q->head = 0;
}

typedef struct id_block {
    uint64_t next, end;
} id_block;
static _Thread_local id_block ids;

static sobj *obj_new(int ty, bool lent)
{
    if (ids.next == ids.end) {
        ids.next = atomic_fetch_add(&next_object_block, ID_BLOCK);
        ids.end = ids.next + ID_BLOCK;
        if (ids.end > max_objects) {
            fprintf(stderr, "stress: more than %" PRIu64 " objects\n", max_objects);
            abort();
        }
    }
    sobj *o = calloc(1, sizeof *o);
    if (!o) {
        fprintf(stderr, "stress: out of memory\n");
        abort();
    }
    o->magic = MAGIC_LIVE;
    o->id = ids.next++;
    o->ty = ty;
    o->lent = lent;
    atomic_init(&o->strong, 1);
    atomic_init(&o->weak, 1);
    return o;
}

static bool obj_ok(const sobj *o, int ty)
{
    return o && o->magic == MAGIC_LIVE && o->ty == ty;
}

static void weak_dec(sobj *o)
{
    long before = atomic_fetch_sub(&o->weak, 1);
    if (before <= 0)
        atomic_fetch_add(&bad_calls, 1);
    else if (before == 1)
        bury(o);
}

static void strong_dec(sobj *o)
{
    long before = atomic_fetch_sub(&o->strong, 1);
    if (before <= 0) {
        atomic_fetch_add(&bad_calls, 1);
        return;
    }
    if (before == 1) {
        atomic_fetch_add(&destroyed_count[o->id], 1);
        weak_dec(o);
    }
}

/* The descriptor functions. */
static void t_release(void *p)
{
    sobj *o = p;
    if (!o || o->magic != MAGIC_LIVE || o->lent) {
        atomic_fetch_add(&bad_calls, 1);
        return;
    }
    strong_dec(o);
}

static void *t_retain(void *p)
{
    sobj *o = p;
    if (!o || o->magic != MAGIC_LIVE || atomic_fetch_add(&o->strong, 1) <= 0) {
        atomic_fetch_add(&bad_calls, 1);
        return NULL;
    }
    return o;
}

static void *t_downgrade(void *p)
{
    sobj *o = p;
    if (!o || o->magic != MAGIC_LIVE || atomic_load(&o->strong) <= 0) {
        atomic_fetch_add(&bad_calls, 1);
        return NULL;
    }
    atomic_fetch_add(&o->weak, 1);
    return o;
}

static void *t_upgrade(void *p)
{
    sobj *o = p;
    if (!o || o->magic != MAGIC_LIVE) {
        atomic_fetch_add(&bad_calls, 1);
        return NULL;
    }
    long n = atomic_load(&o->strong);
    while (n > 0)
        if (atomic_compare_exchange_weak(&o->strong, &n, n + 1))
            return o;
    return NULL;
}

static void t_release_weak(void *p)
{
    sobj *o = p;
    if (!o || o->magic != MAGIC_LIVE) {
        atomic_fetch_add(&bad_calls, 1);
        return;
    }
    weak_dec(o);
}

/* A lent object ends with the lend (its lender's scope). */
static void lent_end(sobj *o)
{
    if (!o->lent || o->magic != MAGIC_LIVE)
        atomic_fetch_add(&bad_calls, 1);
    atomic_fetch_add(&destroyed_count[o->id], 1);
    bury(o);
}

static void register_types(void)
{
    static const uint32_t flags[TY_COUNT] = {FERRY_SEND | FERRY_SYNC, FERRY_SEND, 0,
                                             FERRY_SEND | FERRY_SYNC};
    for (int i = 0; i < TY_COUNT; i++) {
        ferry_type_desc d = {.name = ty_names[i], .flags = flags[i], .release = t_release};
        if (i != TY_PLAIN) {
            d.retain = t_retain;
            d.downgrade = t_downgrade;
            d.upgrade = t_upgrade;
            d.release_weak = t_release_weak;
        }
        if (ferry_type_register(&d, &types[i]) != FERRY_OK) {
            fprintf(stderr, "stress: cannot register %s: %s\n", ty_names[i], ferry_last_error());
            exit(1);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Operations, statuses, tallies                                      */
/* ------------------------------------------------------------------ */

enum {
    O_BOX, O_SHARE, O_LOCAL, O_LEND, O_LEND_MUT, O_REVOKE, O_CLONE, O_DOWNGRADE, O_UPGRADE,
    O_DROP, O_DROP_RUST, O_TAKE, O_BORROW, O_BORROW_MUT, O_UNBORROW, O_CHECK, O_KIND_OF,
    O_LEDGER, O_LIVE, O_COUNT
};
static const char *const op_names[O_COUNT] = {
    "box", "share", "local", "lend", "lend_mut", "revoke", "clone", "downgrade", "upgrade",
    "drop", "drop(rust)", "take", "borrow", "borrow_mut", "unborrow", "check", "kind_of",
    "ledger", "live"};
#define NSTATUS 20

/* What one thread did: calls by operation and status, and the successes the
 * ledger must show. */
typedef struct tally {
    uint64_t calls[O_COUNT][NSTATUS];
    uint64_t contested[O_COUNT][NSTATUS]; /* the calls on contested handles */
    uint64_t ops;
    /* Published for the ledger's lower-bound check (see ledger_read). */
    _Atomic uint64_t made, ended;
} tally;

static tally tallies[NTHREADS + 1];

#define BIT(s) (1u << (s))
#define ST_OK BIT(FERRY_OK)
#define ST_STALE BIT(FERRY_E_STALE)

static const char *where_names[] = {"private", "contested", "mailbox", "foreign", "held", "misuse",
                                    "teardown"};
enum { W_PRIVATE, W_CONTESTED, W_MAILBOX, W_FOREIGN, W_HELD, W_MISUSE, W_TEARDOWN };

/* Records a call's status and checks it is one of `allowed`. */
static ferry_status note(tally *t, int op, ferry_status s, unsigned allowed, int where,
                         const char *what)
{
    t->ops++;
    t->calls[op][(unsigned)s < NSTATUS ? (unsigned)s : NSTATUS - 1]++;
    if (where == W_CONTESTED)
        t->contested[op][(unsigned)s < NSTATUS ? (unsigned)s : NSTATUS - 1]++;
    if (!((unsigned)s < 32 && (allowed & BIT(s))))
        fail("%s %s (%s): got %s: %s", where_names[where], op_names[op], what,
             ferry_status_name(s), s == FERRY_OK ? "" : ferry_last_error());
    return s;
}

static void count_made(tally *t)
{
    atomic_store_explicit(&t->made, atomic_load_explicit(&t->made, memory_order_relaxed) + 1,
                          memory_order_release);
}
static void count_ended(tally *t)
{
    atomic_store_explicit(&t->ended, atomic_load_explicit(&t->ended, memory_order_relaxed) + 1,
                          memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Handle classes (kind x type) for the shared places                  */
/* ------------------------------------------------------------------ */

typedef struct hclass {
    ferry_kind kind;
    int ty;
} hclass;

/* Every unpinned combination: what the pool and the mailboxes hold. */
static const hclass classes[] = {
    {FERRY_KIND_UNIQUE, TY_SS},   {FERRY_KIND_SHARED, TY_SS},   {FERRY_KIND_WEAK, TY_SS},
    {FERRY_KIND_LENT, TY_SS},     {FERRY_KIND_LENT_MUT, TY_SS}, {FERRY_KIND_UNIQUE, TY_SN},
    {FERRY_KIND_SHARED, TY_SN},   {FERRY_KIND_WEAK, TY_SN},     {FERRY_KIND_LENT_MUT, TY_SN},
    {FERRY_KIND_UNIQUE, TY_PLAIN}, {FERRY_KIND_SHARED, TY_PLAIN},
};
#define NCLASSES (sizeof classes / sizeof classes[0])
/* Mailboxes carry the classes that do not need the pool's weak objects. */
static const int mail_classes[] = {0, 1, 4, 5, 6, 8, 9, 10};
#define NMAILCLASSES (sizeof mail_classes / sizeof mail_classes[0])

static bool is_owning(ferry_kind k)
{
    return k == FERRY_KIND_UNIQUE || k == FERRY_KIND_SHARED || k == FERRY_KIND_LOCAL ||
           k == FERRY_KIND_WEAK;
}
static bool is_lent(ferry_kind k)
{
    return k == FERRY_KIND_LENT || k == FERRY_KIND_LENT_MUT;
}
static bool can_borrow(ferry_kind k)
{
    return k != FERRY_KIND_WEAK;
}
static bool can_borrow_mut(ferry_kind k)
{
    return k == FERRY_KIND_UNIQUE || k == FERRY_KIND_LENT_MUT;
}
static bool has_retain(int ty)
{
    return ty != TY_PLAIN;
}
/* Whether a handle of kind k and type ty is bound to its creating thread
 * (docs/threading.md): local and its weak, any !Send type, a lend of !Sync. */
static bool pinned(ferry_kind k, int ty, bool weak_of_local)
{
    return k == FERRY_KIND_LOCAL || weak_of_local || ty == TY_NS ||
           (k == FERRY_KIND_LENT && ty == TY_SN);
}
/* Whether shared borrows of it go through the object's claim. */
static bool claimed(ferry_kind k, int ty, bool weak_of_local)
{
    return ty == TY_SN && !pinned(k, ty, weak_of_local);
}

/* A contested handle: the bits and, for the one thread that ends it, the
 * lent object to end with it. */
typedef struct pool_entry {
    _Atomic uint64_t bits;
    _Atomic(sobj *) lent;
} pool_entry;

static pool_entry pool[NPOOL];
static _Atomic uint64_t mail[NMAIL];
static _Atomic uint64_t foreign[NTHREADS + 1];

/* ------------------------------------------------------------------ */
/* Private handles                                                    */
/* ------------------------------------------------------------------ */

typedef struct priv {
    ferry_handle h;
    ferry_kind kind;
    int ty;
    bool weak_of_local; /* a weak made from a local handle (pinned) */
    bool excl;          /* borrow_mut outstanding */
    unsigned borrows;   /* shared borrows outstanding */
    sobj *obj;          /* the object (lent: ours to end; else for checks) */
} priv;

/* A borrow this thread holds on a contested or mailbox handle. */
typedef struct held {
    ferry_handle h;
    int ty;
    ferry_kind kind;
    bool excl;
    sobj *obj;
} held;

typedef struct worker {
    int index; /* 1..NTHREADS */
    uint64_t rng;
    uint64_t quota;
    tally *t;
    priv p[NPRIV];
    unsigned np;
    held hd[NHELD];
    unsigned nh;
    ferry_handle ended[8]; /* recently ended private handles (stale) */
    unsigned nended;
    ferry_counts last_all; /* the previous ledger read, for monotonicity */
    bool have_last;
} worker;

static uint64_t rnd(worker *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static unsigned below(worker *w, unsigned n)
{
    return (unsigned)(rnd(w) % n);
}

static void remember_ended(worker *w, ferry_handle h)
{
    w->ended[w->nended++ % 8] = h;
}

static void leave_borrow(sobj *o, bool excl, bool claim);

static void priv_remove(worker *w, unsigned i)
{
    w->p[i] = w->p[--w->np];
}

/* Disposes of a unit moved out by a take. */
static void dispose_taken(void *unit, int ty, bool weak)
{
    sobj *o = unit;
    if (!obj_ok(o, ty)) {
        fail("take returned %p, not a live object of type %s", unit, ty_names[ty]);
        return;
    }
    if (weak)
        t_release_weak(o);
    else
        t_release(o);
}

/* Makes a new handle of (kind, ty) owned by the caller; kind WEAK makes a
 * weak handle from a fresh share that is dropped at once (an expired weak)
 * unless `from` gives a live shared handle to downgrade. */
static ferry_handle make_handle(worker *w, ferry_kind kind, int ty, sobj **lent_out, int where)
{
    tally *t = w->t;
    ferry_handle h = FERRY_NULL_HANDLE;
    ferry_status s;
    sobj *o;
    switch (kind) {
    case FERRY_KIND_UNIQUE:
        o = obj_new(ty, false);
        s = note(t, O_BOX, ferry_box(types[ty], o, &h), ST_OK, where, "new object");
        break;
    case FERRY_KIND_SHARED:
        o = obj_new(ty, false);
        s = note(t, O_SHARE, ferry_share(types[ty], o, &h), ST_OK, where, "new object");
        break;
    case FERRY_KIND_LOCAL:
        o = obj_new(ty, false);
        s = note(t, O_LOCAL, ferry_local(types[ty], o, &h), ST_OK, where, "new object");
        break;
    case FERRY_KIND_LENT:
        o = obj_new(ty, true);
        s = note(t, O_LEND, ferry_lend(types[ty], o, &h), ST_OK, where, "new object");
        break;
    case FERRY_KIND_LENT_MUT:
        o = obj_new(ty, true);
        s = note(t, O_LEND_MUT, ferry_lend_mut(types[ty], o, &h), ST_OK, where, "new object");
        break;
    case FERRY_KIND_WEAK: {
        /* Downgrade one of our shared handles of the type if we have one
         * (a weak whose object lives on), else an expired weak. */
        for (unsigned i = 0; i < w->np; i++) {
            priv *p = &w->p[i];
            if (p->kind == FERRY_KIND_SHARED && p->ty == ty) {
                s = note(t, O_DOWNGRADE, ferry_downgrade(p->h, &h), ST_OK, where, "own shared");
                if (s == FERRY_OK)
                    count_made(t);
                return s == FERRY_OK ? h : FERRY_NULL_HANDLE;
            }
        }
        ferry_handle sh;
        o = obj_new(ty, false);
        if (note(t, O_SHARE, ferry_share(types[ty], o, &sh), ST_OK, where, "for a weak") !=
            FERRY_OK)
            return FERRY_NULL_HANDLE;
        count_made(t);
        if (note(t, O_DOWNGRADE, ferry_downgrade(sh, &h), ST_OK, where, "fresh shared") ==
            FERRY_OK)
            count_made(t);
        if (note(t, O_DROP, ferry_drop(sh), ST_OK, where, "fresh shared") == FERRY_OK)
            count_ended(t);
        return h;
    }
    default:
        return FERRY_NULL_HANDLE;
    }
    if (s != FERRY_OK)
        return FERRY_NULL_HANDLE;
    count_made(t);
    if (lent_out)
        *lent_out = is_lent(kind) ? o : NULL;
    return h;
}

/* Adds a handle to the private set (the caller made sure there is room). */
static void priv_add(worker *w, ferry_handle h, ferry_kind kind, int ty, bool weak_of_local,
                     sobj *obj)
{
    w->p[w->np++] = (priv){.h = h, .kind = kind, .ty = ty, .weak_of_local = weak_of_local,
                           .obj = obj};
}

/* Ends private handle i (it has no borrows): must succeed. */
static void priv_end(worker *w, unsigned i, int where)
{
    tally *t = w->t;
    priv *p = &w->p[i];
    ferry_status s;
    if (is_lent(p->kind)) {
        s = note(t, O_REVOKE, ferry_revoke(p->h), ST_OK, where, "own lent");
        if (s == FERRY_OK)
            lent_end(p->obj);
    } else {
        switch (below(w, 3)) {
        case 0:
            s = note(t, O_DROP, ferry_drop(p->h), ST_OK, where, "own");
            break;
        case 1:
            s = note(t, O_DROP_RUST, ferry_drop_at(p->h, FERRY_BY_RUST, "stress.rs:1"), ST_OK,
                     where, "own");
            break;
        default: {
            void *unit = NULL;
            s = note(t, O_TAKE, ferry_take(p->h, types[p->ty], &unit), ST_OK, where, "own");
            if (s == FERRY_OK)
                dispose_taken(unit, p->ty, p->kind == FERRY_KIND_WEAK);
        }
        }
    }
    if (s == FERRY_OK) {
        count_ended(t);
        remember_ended(w, p->h);
    }
    priv_remove(w, i);
}

/* Ends our borrows of private handle i (exactly OK each). */
static void priv_unborrow_all(worker *w, unsigned i, int where)
{
    priv *p = &w->p[i];
    bool claim = claimed(p->kind, p->ty, p->weak_of_local);
    while (p->excl || p->borrows) {
        leave_borrow(p->obj, p->excl, claim && !p->excl);
        note(w->t, O_UNBORROW, ferry_unborrow(p->h), ST_OK, where, "own");
        if (p->excl)
            p->excl = false;
        else
            p->borrows--;
    }
}

/* Frees a private place: ends a handle, after ending its borrows. */
static void make_room(worker *w)
{
    unsigned i = below(w, w->np);
    priv_unborrow_all(w, i, W_PRIVATE);
    priv_end(w, i, W_PRIVATE);
}

/* ------------------------------------------------------------------ */
/* Borrow bookkeeping (what the object sees while borrowed)            */
/* ------------------------------------------------------------------ */

static void enter_borrow(sobj *o, int ty, bool excl, bool claim)
{
    if (!obj_ok(o, ty)) {
        fail("borrow returned %p, not a live object of type %s", (void *)o, ty_names[ty]);
        return;
    }
    if (excl) {
        if (atomic_fetch_add(&o->writers, 1) != 0 || atomic_load(&o->readers) != 0)
            fail("exclusive borrow of object %" PRIu64 " while it is borrowed", o->id);
        o->value++;
    } else {
        atomic_fetch_add(&o->readers, 1);
        if (atomic_load(&o->writers) != 0)
            fail("shared borrow of object %" PRIu64 " while it is mutably borrowed", o->id);
        if (claim) {
            if (atomic_fetch_add(&o->sn_count, 1) == 0)
                atomic_store(&o->sn_holder, my_index);
            else if (atomic_load(&o->sn_holder) != my_index)
                fail("!Sync object %" PRIu64 " borrowed on threads %d and %d at once", o->id,
                     atomic_load(&o->sn_holder), my_index);
        }
    }
}

static void leave_borrow(sobj *o, bool excl, bool claim)
{
    if (!o || o->magic != MAGIC_LIVE) {
        fail("object %p died while borrowed", (void *)o);
        return;
    }
    if (excl) {
        atomic_fetch_sub(&o->writers, 1);
    } else {
        if (claim)
            atomic_fetch_sub(&o->sn_count, 1);
        atomic_fetch_sub(&o->readers, 1);
    }
}

/* ------------------------------------------------------------------ */
/* Ledger reads                                                       */
/* ------------------------------------------------------------------ */

static void ledger_read(worker *w, int where)
{
    tally *t = w->t;
    /* Successes every thread had finished (and counted) before the read:
     * the ledger counted each before its call returned, so it shows at
     * least these. */
    uint64_t made = 0, ended = 0;
    for (int i = 0; i <= NTHREADS; i++) {
        made += atomic_load_explicit(&tallies[i].made, memory_order_acquire);
        ended += atomic_load_explicit(&tallies[i].ended, memory_order_acquire);
    }
    ferry_counts c;
    if (note(t, O_LEDGER, ferry_ledger(NULL, &c), ST_OK, where, "all types") != FERRY_OK)
        return;
    uint64_t l_ended = c.taken + c.dropped_by_c + c.dropped_by_rust;
    if (c.created + c.cloned < made || l_ended < ended)
        fail("ledger behind: made %" PRIu64 " < %" PRIu64 " or ended %" PRIu64 " < %" PRIu64,
             c.created + c.cloned, made, l_ended, ended);
    if (c.live != c.created + c.cloned - l_ended)
        fail("ledger identity broken mid-run");
    if (w->have_last) {
        const ferry_counts *o = &w->last_all;
        if (c.created < o->created || c.cloned < o->cloned || c.borrows < o->borrows ||
            c.handoffs < o->handoffs || c.taken < o->taken || c.dropped_by_c < o->dropped_by_c ||
            c.dropped_by_rust < o->dropped_by_rust || c.revoked < o->revoked ||
            c.peak_live < o->peak_live)
            fail("a ledger counter went backwards between two reads of one thread");
    }
    w->last_all = c;
    w->have_last = true;
    ferry_counts ct;
    int ty = (int)below(w, TY_COUNT);
    note(t, O_LEDGER, ferry_ledger(types[ty], &ct), ST_OK, where, "one type");
    note(t, O_LEDGER, ferry_ledger(NULL, NULL), BIT(FERRY_E_NULL), W_MISUSE, "null out");
}

/* ------------------------------------------------------------------ */
/* Held borrows of shared handles                                     */
/* ------------------------------------------------------------------ */

static void held_release(worker *w, unsigned i)
{
    held *b = &w->hd[i];
    bool claim = !b->excl && claimed(b->kind, b->ty, false);
    leave_borrow(b->obj, b->excl, claim);
    /* We hold a borrow, so nobody can end the handle: exactly OK. */
    note(w->t, O_UNBORROW, ferry_unborrow(b->h), ST_OK, W_HELD, "own borrow");
    w->hd[i] = w->hd[--w->nh];
}

/* Operations on a contested handle we hold borrowed: fully predictable. */
static void held_poke(worker *w)
{
    tally *t = w->t;
    held *b = &w->hd[below(w, w->nh)];
    const ferry_type *ty = types[b->ty];
    switch (below(w, 5)) {
    case 0: /* a borrowed handle cannot be ended */
        if (is_owning(b->kind))
            note(t, O_DROP, ferry_drop(b->h), BIT(FERRY_E_BORROWED), W_HELD, "borrowed by us");
        else
            note(t, O_REVOKE, ferry_revoke(b->h), BIT(FERRY_E_BORROWED), W_HELD,
                 "borrowed by us");
        break;
    case 1: {
        void *u;
        if (is_owning(b->kind))
            note(t, O_TAKE, ferry_take(b->h, ty, &u), BIT(FERRY_E_BORROWED), W_HELD,
                 "borrowed by us");
        else
            note(t, O_CHECK, ferry_check(b->h, ty), ST_OK, W_HELD, "borrowed by us");
        break;
    }
    case 2: { /* another shared borrow: refused only while we hold it mutably */
        const void *o;
        ferry_status s = note(t, O_BORROW, ferry_borrow(b->h, ty, &o),
                              b->excl ? BIT(FERRY_E_BORROWED) : ST_OK, W_HELD, "borrowed by us");
        if (s == FERRY_OK) {
            if (o != b->obj)
                fail("borrow of a held handle returned another object");
            note(t, O_UNBORROW, ferry_unborrow(b->h), ST_OK, W_HELD, "own second borrow");
        }
        break;
    }
    case 3: {
        void *o;
        if (can_borrow_mut(b->kind))
            note(t, O_BORROW_MUT, ferry_borrow_mut(b->h, ty, &o), BIT(FERRY_E_BORROWED), W_HELD,
                 "borrowed by us");
        else
            note(t, O_BORROW_MUT, ferry_borrow_mut(b->h, ty, &o), BIT(FERRY_E_KIND), W_HELD,
                 "borrowed by us");
        break;
    }
    default: {
        ferry_kind k;
        if (note(t, O_KIND_OF, ferry_kind_of(b->h, &k), ST_OK, W_HELD, "borrowed by us") ==
                FERRY_OK &&
            k != b->kind)
            fail("kind_of says %d for a handle of kind %d", (int)k, (int)b->kind);
    }
    }
}

/* ------------------------------------------------------------------ */
/* Contested pool                                                     */
/* ------------------------------------------------------------------ */

/* Puts a fresh handle of entry i's class in place of the ended `old`; only
 * the thread whose end of `old` succeeded does this, so the CAS must win. */
static void pool_replace(worker *w, unsigned i, uint64_t old)
{
    const hclass *c = &classes[i % NCLASSES];
    sobj *lent = NULL;
    ferry_handle h = FERRY_NULL_HANDLE;
    /* Sometimes a clone of our own shared handle, so pool and private
     * handles reach one object. */
    if (c->kind == FERRY_KIND_SHARED && has_retain(c->ty) && below(w, 2) == 0) {
        for (unsigned j = 0; j < w->np; j++) {
            if (w->p[j].kind == FERRY_KIND_SHARED && w->p[j].ty == c->ty) {
                if (note(w->t, O_CLONE, ferry_clone(w->p[j].h, &h), ST_OK, W_CONTESTED,
                         "own shared for the pool") == FERRY_OK)
                    count_made(w->t);
                break;
            }
        }
    }
    if (!h.bits)
        h = make_handle(w, c->kind, c->ty, &lent, W_CONTESTED);
    atomic_store(&pool[i].lent, lent);
    uint64_t expected = old;
    if (!atomic_compare_exchange_strong(&pool[i].bits, &expected, h.bits))
        fail("pool entry %u ended twice: it holds %#" PRIx64 ", not the %#" PRIx64
             " this thread ended",
             i, expected, old);
}

static void contested(worker *w)
{
    tally *t = w->t;
    unsigned i = below(w, NPOOL);
    const hclass *c = &classes[i % NCLASSES];
    ferry_handle h = {atomic_load(&pool[i].bits)};
    if (!h.bits)
        return; /* between an end and its replacement */
    const ferry_type *ty = types[c->ty];
    ferry_kind k = c->kind;
    bool claim = claimed(k, c->ty, false);
    /* Anyone may hold a borrow or a pin (clone/downgrade/upgrade) of it. */
    unsigned end_ok = ST_OK | ST_STALE | BIT(FERRY_E_BORROWED);
    unsigned kind_err = BIT(FERRY_E_KIND) | ST_STALE;
    ferry_status s;
    switch (below(w, 16)) {
    case 0:
    case 1: { /* drop by C or Rust */
        bool rust = below(w, 2);
        s = rust ? note(t, O_DROP_RUST, ferry_drop_at(h, FERRY_BY_RUST, "stress.rs:2"),
                        is_owning(k) ? end_ok : kind_err, W_CONTESTED, "racing")
                 : note(t, O_DROP, ferry_drop(h), is_owning(k) ? end_ok : kind_err, W_CONTESTED,
                        "racing");
        if (s == FERRY_OK) {
            count_ended(t);
            pool_replace(w, i, h.bits);
        }
        break;
    }
    case 2: {
        void *unit = NULL;
        s = note(t, O_TAKE, ferry_take(h, ty, &unit), is_owning(k) ? end_ok : kind_err,
                 W_CONTESTED, "racing");
        if (s == FERRY_OK) {
            count_ended(t);
            dispose_taken(unit, c->ty, k == FERRY_KIND_WEAK);
            pool_replace(w, i, h.bits);
        }
        break;
    }
    case 3: {
        s = note(t, O_REVOKE, ferry_revoke(h), is_lent(k) ? end_ok : kind_err, W_CONTESTED,
                 "racing");
        if (s == FERRY_OK) {
            count_ended(t);
            lent_end(atomic_load(&pool[i].lent));
            pool_replace(w, i, h.bits);
        }
        break;
    }
    case 4:
    case 5:
    case 6: { /* shared borrow, held for a while */
        if (w->nh == NHELD) {
            held_release(w, below(w, w->nh));
            break;
        }
        unsigned allowed = can_borrow(k) ? ST_OK | ST_STALE : kind_err;
        if (can_borrow(k) && can_borrow_mut(k))
            allowed |= BIT(FERRY_E_BORROWED); /* someone's borrow_mut */
        if (can_borrow(k) && claim)
            allowed |= BIT(FERRY_E_THREAD); /* someone's claim on the !Sync object */
        const void *o = NULL;
        s = note(t, O_BORROW, ferry_borrow(h, ty, &o), allowed, W_CONTESTED, "racing");
        if (s == FERRY_OK) {
            enter_borrow((sobj *)o, c->ty, false, claim);
            if (is_lent(k) && o != atomic_load(&pool[i].lent))
                fail("borrow of a lent handle returned another object than lent");
            w->hd[w->nh++] = (held){.h = h, .ty = c->ty, .kind = k, .excl = false, .obj = (sobj *)o};
        }
        break;
    }
    case 7: { /* exclusive borrow */
        if (w->nh == NHELD) {
            held_release(w, below(w, w->nh));
            break;
        }
        void *o = NULL;
        s = note(t, O_BORROW_MUT, ferry_borrow_mut(h, ty, &o),
                 can_borrow_mut(k) ? ST_OK | ST_STALE | BIT(FERRY_E_BORROWED) : kind_err,
                 W_CONTESTED, "racing");
        if (s == FERRY_OK) {
            enter_borrow(o, c->ty, true, false);
            w->hd[w->nh++] = (held){.h = h, .ty = c->ty, .kind = k, .excl = true, .obj = o};
        }
        break;
    }
    case 8: { /* clone: the new handle is ours */
        ferry_handle out;
        bool ok = k == FERRY_KIND_SHARED && has_retain(c->ty) && w->np < NPRIV;
        if (k == FERRY_KIND_SHARED && has_retain(c->ty) && !ok)
            break;
        s = note(t, O_CLONE, ferry_clone(h, &out), ok ? ST_OK | ST_STALE : kind_err, W_CONTESTED,
                 "racing");
        if (s == FERRY_OK) {
            count_made(t);
            priv_add(w, out, FERRY_KIND_SHARED, c->ty, false, NULL);
        }
        break;
    }
    case 9: {
        ferry_handle out;
        bool ok = k == FERRY_KIND_SHARED && has_retain(c->ty);
        if (ok && w->np == NPRIV)
            break;
        s = note(t, O_DOWNGRADE, ferry_downgrade(h, &out), ok ? ST_OK | ST_STALE : kind_err,
                 W_CONTESTED, "racing");
        if (s == FERRY_OK) {
            count_made(t);
            priv_add(w, out, FERRY_KIND_WEAK, c->ty, false, NULL);
        }
        break;
    }
    case 10: {
        ferry_handle out;
        bool ok = k == FERRY_KIND_WEAK;
        if (ok && w->np == NPRIV)
            break;
        s = note(t, O_UPGRADE, ferry_upgrade(h, &out),
                 ok ? ST_OK | ST_STALE | BIT(FERRY_E_EXPIRED) : kind_err, W_CONTESTED, "racing");
        if (s == FERRY_OK) {
            count_made(t);
            priv_add(w, out, FERRY_KIND_SHARED, c->ty, false, NULL);
        }
        break;
    }
    case 11:
    case 12:
        note(t, O_CHECK, ferry_check(h, ty), ST_OK | ST_STALE, W_CONTESTED, "racing");
        break;
    case 13:
        note(t, O_CHECK, ferry_check(h, types[(c->ty + 1) % TY_COUNT]),
             BIT(FERRY_E_TYPE) | ST_STALE, W_CONTESTED, "wrong type");
        break;
    case 14: {
        ferry_kind got;
        if (note(t, O_KIND_OF, ferry_kind_of(h, &got), ST_OK | ST_STALE, W_CONTESTED, "racing") ==
                FERRY_OK &&
            got != k)
            fail("kind_of of a pool handle of kind %d says %d", (int)k, (int)got);
        break;
    }
    default: { /* a wrong type where a type is required */
        void *o;
        note(t, O_TAKE, ferry_take(h, types[(c->ty + 1) % TY_COUNT], &o),
             BIT(FERRY_E_TYPE) | ST_STALE, W_CONTESTED, "wrong type");
        break;
    }
    }
}

/* ------------------------------------------------------------------ */
/* Mailboxes: handoffs                                                */
/* ------------------------------------------------------------------ */

static void handoff(worker *w)
{
    tally *t = w->t;
    unsigned m = below(w, NMAIL);
    const hclass *c = &classes[mail_classes[m % NMAILCLASSES]];
    /* A private handle of the class with no borrows, else a new one. */
    unsigned pick = w->np;
    for (unsigned i = 0; i < w->np; i++)
        if (w->p[i].kind == c->kind && w->p[i].ty == c->ty && !w->p[i].weak_of_local &&
            !w->p[i].borrows && !w->p[i].excl) {
            pick = i;
            break;
        }
    ferry_handle mine;
    sobj *obj = NULL;
    if (pick < w->np) {
        mine = w->p[pick].h;
        obj = w->p[pick].obj;
        priv_remove(w, pick);
    } else {
        mine = make_handle(w, c->kind, c->ty, &obj, W_MAILBOX);
        if (!mine.bits)
            return;
    }
    /* Lent objects travel with their handle: the mailbox word carries the
     * handle, a side word is not needed because the receiver finds the
     * object by borrowing (lent handles are always borrowable by their
     * holder). */
    ferry_handle got = {atomic_exchange(&mail[m], mine.bits)};
    if (!got.bits)
        return;
    /* It is ours now and nobody else can end it: exact answers. */
    ferry_kind k;
    if (note(t, O_KIND_OF, ferry_kind_of(got, &k), ST_OK, W_MAILBOX, "received") == FERRY_OK &&
        k != c->kind)
        fail("a mailbox handle of kind %d arrived as kind %d", (int)c->kind, (int)k);
    note(t, O_CHECK, ferry_check(got, types[c->ty]), ST_OK, W_MAILBOX, "received");
    sobj *o = NULL;
    if (is_lent(c->kind)) {
        const void *p;
        if (note(t, O_BORROW, ferry_borrow(got, types[c->ty], &p), ST_OK, W_MAILBOX,
                 "received lent") == FERRY_OK) {
            o = (sobj *)p;
            if (!obj_ok(o, c->ty) || !o->lent)
                fail("a received lent handle borrows a wrong object");
            note(t, O_UNBORROW, ferry_unborrow(got), ST_OK, W_MAILBOX, "received lent");
        }
    }
    if (w->np == NPRIV)
        make_room(w);
    priv_add(w, got, c->kind, c->ty, false, o);
}

/* Peeks at a handle in flight: it may be ended by its receiver any time. */
static void mailbox_peek(worker *w)
{
    unsigned m = below(w, NMAIL);
    const hclass *c = &classes[mail_classes[m % NMAILCLASSES]];
    ferry_handle h = {atomic_load(&mail[m])};
    if (!h.bits)
        return;
    ferry_kind k;
    if (below(w, 2))
        note(w->t, O_CHECK, ferry_check(h, types[c->ty]), ST_OK | ST_STALE, W_MAILBOX, "in flight");
    else if (note(w->t, O_KIND_OF, ferry_kind_of(h, &k), ST_OK | ST_STALE, W_MAILBOX,
                  "in flight") == FERRY_OK &&
             k != c->kind)
        fail("a mailbox handle of kind %d is seen as kind %d", (int)c->kind, (int)k);
}

/* ------------------------------------------------------------------ */
/* Foreign (pinned) handles                                           */
/* ------------------------------------------------------------------ */

static void foreign_try(worker *w)
{
    unsigned other = 1 + below(w, NTHREADS);
    if ((int)other == w->index)
        return;
    ferry_handle h = {atomic_load(&foreign[other])};
    if (!h.bits)
        return;
    tally *t = w->t;
    unsigned refused = BIT(FERRY_E_THREAD) | ST_STALE;
    ferry_handle out;
    const void *o;
    void *u;
    ferry_kind k;
    /* Pinned handles are of any type; passing NULL/any type where the call
     * needs one would answer FERRY_E_TYPE, so use calls without a type or
     * try every type (the right one says THREAD, the others TYPE). */
    int ty = (int)below(w, TY_COUNT);
    unsigned typed = refused | BIT(FERRY_E_TYPE);
    switch (below(w, 8)) {
    case 0:
        note(t, O_CHECK, ferry_check(h, NULL), refused, W_FOREIGN, "pinned elsewhere");
        break;
    case 1:
        note(t, O_KIND_OF, ferry_kind_of(h, &k), refused, W_FOREIGN, "pinned elsewhere");
        break;
    case 2:
        note(t, O_DROP, ferry_drop(h), refused, W_FOREIGN, "pinned elsewhere");
        break;
    case 3:
        note(t, O_CLONE, ferry_clone(h, &out), refused, W_FOREIGN, "pinned elsewhere");
        break;
    case 4:
        note(t, O_BORROW, ferry_borrow(h, types[ty], &o), typed, W_FOREIGN, "pinned elsewhere");
        break;
    case 5:
        note(t, O_TAKE, ferry_take(h, types[ty], &u), typed, W_FOREIGN, "pinned elsewhere");
        break;
    case 6:
        note(t, O_UNBORROW, ferry_unborrow(h), refused | BIT(FERRY_E_BORROWED), W_FOREIGN,
             "pinned elsewhere");
        break;
    default:
        note(t, O_REVOKE, ferry_revoke(h), refused, W_FOREIGN, "pinned elsewhere");
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Private handles: every answer predicted                             */
/* ------------------------------------------------------------------ */

static void private_create(worker *w)
{
    static const ferry_kind kinds[] = {FERRY_KIND_UNIQUE, FERRY_KIND_SHARED, FERRY_KIND_LOCAL,
                                       FERRY_KIND_LENT, FERRY_KIND_LENT_MUT};
    ferry_kind k = kinds[below(w, 5)];
    int ty = (int)below(w, TY_COUNT);
    sobj *lent = NULL;
    ferry_handle h = make_handle(w, k, ty, &lent, W_PRIVATE);
    if (!h.bits)
        return;
    priv_add(w, h, k, ty, false, lent);
    if (pinned(k, ty, false) && below(w, 4) == 0)
        atomic_store(&foreign[w->index], h.bits);
}

static void private_op(worker *w)
{
    tally *t = w->t;
    if (w->np == 0 || (w->np < NPRIV && below(w, 5) == 0)) {
        private_create(w);
        return;
    }
    unsigned i = below(w, w->np);
    priv *p = &w->p[i];
    const ferry_type *ty = types[p->ty];
    bool busy = p->excl || p->borrows;
    unsigned exact_kind = BIT(FERRY_E_KIND);
    ferry_handle out;
    ferry_status s;
    switch (below(w, 12)) {
    case 0:
    case 1: /* end it */
        if (busy) {
            if (is_lent(p->kind))
                note(t, O_REVOKE, ferry_revoke(p->h), BIT(FERRY_E_BORROWED), W_PRIVATE, "borrowed");
            else
                note(t, O_DROP, ferry_drop(p->h), BIT(FERRY_E_BORROWED), W_PRIVATE, "borrowed");
        } else {
            if (is_lent(p->kind))
                note(t, O_DROP, ferry_drop(p->h), exact_kind, W_PRIVATE, "lent");
            else
                note(t, O_REVOKE, ferry_revoke(p->h), exact_kind, W_PRIVATE, "owning");
            priv_end(w, i, W_PRIVATE);
        }
        break;
    case 2: { /* clone */
        bool ok = (p->kind == FERRY_KIND_SHARED || p->kind == FERRY_KIND_LOCAL) &&
                  has_retain(p->ty);
        if (ok && w->np == NPRIV)
            break;
        s = note(t, O_CLONE, ferry_clone(p->h, &out), ok ? ST_OK : exact_kind, W_PRIVATE, "own");
        if (s == FERRY_OK) {
            count_made(t);
            priv_add(w, out, p->kind, p->ty, false, NULL);
        }
        break;
    }
    case 3: { /* downgrade */
        bool ok = (p->kind == FERRY_KIND_SHARED || p->kind == FERRY_KIND_LOCAL) &&
                  has_retain(p->ty);
        if (ok && w->np == NPRIV)
            break;
        s = note(t, O_DOWNGRADE, ferry_downgrade(p->h, &out), ok ? ST_OK : exact_kind, W_PRIVATE,
                 "own");
        if (s == FERRY_OK) {
            count_made(t);
            priv_add(w, out, FERRY_KIND_WEAK, p->ty, p->kind == FERRY_KIND_LOCAL, NULL);
        }
        break;
    }
    case 4: { /* upgrade: the object may be gone (its strong units are anywhere) */
        bool ok = p->kind == FERRY_KIND_WEAK;
        if (ok && w->np == NPRIV)
            break;
        bool wl = p->weak_of_local;
        int pty = p->ty;
        s = note(t, O_UPGRADE, ferry_upgrade(p->h, &out),
                 ok ? ST_OK | BIT(FERRY_E_EXPIRED) : exact_kind, W_PRIVATE, "own");
        if (s == FERRY_OK) {
            count_made(t);
            priv_add(w, out, wl ? FERRY_KIND_LOCAL : FERRY_KIND_SHARED, pty, false, NULL);
        }
        break;
    }
    case 5:
    case 6: { /* borrow: kept outstanding until a later unborrow */
        const void *o;
        unsigned allowed = !can_borrow(p->kind) ? exact_kind
                           : p->excl            ? BIT(FERRY_E_BORROWED)
                                                : ST_OK;
        /* Other handles (anyone's) may reach a shared !Sync object. */
        bool claim = claimed(p->kind, p->ty, p->weak_of_local);
        if (allowed == ST_OK && claim && p->kind == FERRY_KIND_SHARED)
            allowed |= BIT(FERRY_E_THREAD);
        s = note(t, O_BORROW, ferry_borrow(p->h, ty, &o), allowed, W_PRIVATE, "own");
        if (s == FERRY_OK) {
            if (p->obj && o != p->obj)
                fail("borrow of a private handle returned another object");
            p->obj = (sobj *)o;
            enter_borrow(p->obj, p->ty, false, claim);
            p->borrows++;
        }
        break;
    }
    case 7: { /* borrow_mut */
        void *o;
        unsigned allowed = !can_borrow_mut(p->kind) ? exact_kind
                           : busy                   ? BIT(FERRY_E_BORROWED)
                                                    : ST_OK;
        s = note(t, O_BORROW_MUT, ferry_borrow_mut(p->h, ty, &o), allowed, W_PRIVATE, "own");
        if (s == FERRY_OK) {
            if (p->obj && o != p->obj)
                fail("borrow_mut of a private handle returned another object");
            p->obj = o;
            enter_borrow(p->obj, p->ty, true, false);
            p->excl = true;
        }
        break;
    }
    case 8: /* unborrow: exact, including "none outstanding" */
        s = note(t, O_UNBORROW, ferry_unborrow(p->h), busy ? ST_OK : BIT(FERRY_E_BORROWED),
                 W_PRIVATE, "own");
        if (s == FERRY_OK) {
            bool claim = claimed(p->kind, p->ty, p->weak_of_local);
            if (p->excl) {
                leave_borrow(p->obj, true, false);
                p->excl = false;
            } else {
                leave_borrow(p->obj, false, claim);
                p->borrows--;
            }
        }
        break;
    case 9: {
        ferry_kind k;
        if (note(t, O_KIND_OF, ferry_kind_of(p->h, &k), ST_OK, W_PRIVATE, "own") == FERRY_OK &&
            k != p->kind)
            fail("kind_of of a private handle of kind %d says %d", (int)p->kind, (int)k);
        break;
    }
    case 10: {
        void *u;
        if (below(w, 2))
            note(t, O_CHECK, ferry_check(p->h, ty), ST_OK, W_PRIVATE, "own");
        else if (is_owning(p->kind))
            note(t, O_TAKE, ferry_take(p->h, types[(p->ty + 1) % TY_COUNT], &u),
                 BIT(FERRY_E_TYPE), W_PRIVATE, "wrong type");
        else
            note(t, O_CHECK, ferry_check(p->h, types[(p->ty + 1) % TY_COUNT]), BIT(FERRY_E_TYPE),
                 W_PRIVATE, "wrong type");
        break;
    }
    default: { /* misuse: stale, null, forged */
        const void *o;
        switch (below(w, 4)) {
        case 0:
            if (w->nended) {
                ferry_handle st = w->ended[below(w, w->nended < 8 ? w->nended : 8)];
                note(t, O_DROP, ferry_drop(st), ST_STALE, W_MISUSE, "ended by us");
                note(t, O_BORROW, ferry_borrow(st, NULL, &o), BIT(FERRY_E_NULL), W_MISUSE,
                     "null type");
            }
            break;
        case 1:
            note(t, O_CHECK, ferry_check(FERRY_NULL_HANDLE, NULL), BIT(FERRY_E_NULL), W_MISUSE,
                 "null handle");
            break;
        case 2: { /* bits with this table's tag but a generation never issued */
            ferry_handle f = {p->h.bits ^ ((uint64_t)0x7FFFFFF << 28)};
            note(t, O_BORROW, ferry_borrow(f, ty, &o), BIT(FERRY_E_INVALID) | ST_STALE, W_MISUSE,
                 "forged");
            break;
        }
        default:
            note(t, O_CLONE, ferry_clone(p->h, NULL), BIT(FERRY_E_NULL) | exact_kind, W_MISUSE,
                 "null out");
            break;
        }
    }
    }
}

/* ------------------------------------------------------------------ */
/* The worker                                                         */
/* ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    worker *w = arg;
    my_index = w->index;
    tally *t = w->t;
    while (t->ops < w->quota) {
        unsigned r = below(w, 1000);
        if (w->nh && below(w, 3) == 0) {
            if (below(w, 3) == 0)
                held_poke(w);
            else
                held_release(w, below(w, w->nh));
        } else if (r < 420) {
            contested(w);
        } else if (r < 860) {
            private_op(w);
        } else if (r < 920) {
            handoff(w);
        } else if (r < 950) {
            mailbox_peek(w);
        } else if (r < 990) {
            foreign_try(w);
        } else if (r < 995) {
            ledger_read(w, W_PRIVATE);
        } else {
            t->ops++;
            t->calls[O_LIVE][FERRY_OK]++;
            (void)ferry_live();
        }
    }
    /* Teardown: end our borrows, then our handles (exactly OK). */
    atomic_store(&foreign[w->index], 0);
    while (w->nh)
        held_release(w, 0);
    for (unsigned i = 0; i < w->np; i++)
        priv_unborrow_all(w, i, W_TEARDOWN);
    while (w->np)
        priv_end(w, w->np - 1, W_TEARDOWN);
    quarantine_flush();
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Main: run, tear down, balance the books                             */
/* ------------------------------------------------------------------ */

static void print_table(const char *title, uint64_t calls[O_COUNT][NSTATUS])
{
    static const ferry_status shown[] = {FERRY_OK,      FERRY_E_NULL,     FERRY_E_INVALID,
                                         FERRY_E_STALE, FERRY_E_TYPE,     FERRY_E_KIND,
                                         FERRY_E_BORROWED, FERRY_E_THREAD, FERRY_E_EXPIRED};
    enum { NSHOWN = sizeof shown / sizeof shown[0] };
    printf("\n%s\n%-11s", title, "operation");
    for (size_t s = 0; s < NSHOWN; s++)
        printf(" %9s", ferry_status_name(shown[s]) + (shown[s] == FERRY_OK ? 6 : 8));
    printf(" %9s\n", "other");
    for (int o = 0; o < O_COUNT; o++) {
        uint64_t other = 0, row = 0;
        for (int s = 0; s < NSTATUS; s++) {
            bool listed = false;
            for (size_t j = 0; j < NSHOWN; j++)
                listed |= (int)shown[j] == s;
            if (!listed)
                other += calls[o][s];
            row += calls[o][s];
        }
        if (!row)
            continue;
        printf("%-11s", op_names[o]);
        for (size_t s = 0; s < NSHOWN; s++)
            printf(" %9" PRIu64, calls[o][shown[s]]);
        printf(" %9" PRIu64 "\n", other);
    }
    printf("\n");
}

static uint64_t ops_wanted(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : getenv("FERRY_STRESS_OPS");
    if (v && *v)
        return strtoull(v, NULL, 0);
    long scale = 1;
    const char *sc = getenv("FERRY_TEST_SCALE");
    if (sc && atol(sc) > 1)
        scale = atol(sc);
    return 2000000 / (uint64_t)scale;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t total = ops_wanted(argc, argv);
    if (total < NTHREADS * 100)
        total = NTHREADS * 100;
    /* Each call makes at most one object, and the pool and mailboxes a few
     * more; ids are handed out in blocks per thread. */
    max_objects = total + (NTHREADS + 1) * ID_BLOCK * 4 + NPOOL + NMAIL;
    destroyed_count = calloc(max_objects, 1);
    freed_count = calloc(max_objects, 1);
    if (!destroyed_count || !freed_count) {
        fprintf(stderr, "stress: cannot allocate the object counters\n");
        return 1;
    }
    register_types();
    ferry_counts base;
    ferry_ledger(NULL, &base);

    /* The main thread fills the pool (it joins the ledger like a worker). */
    worker mainw = {.index = 0, .rng = 0x5eed, .t = &tallies[0]};
    for (unsigned i = 0; i < NPOOL; i++) {
        const hclass *c = &classes[i % NCLASSES];
        sobj *lent = NULL;
        ferry_handle h = make_handle(&mainw, c->kind, c->ty, &lent, W_CONTESTED);
        atomic_store(&pool[i].lent, lent);
        atomic_store(&pool[i].bits, h.bits);
    }

    static worker workers[NTHREADS];
    pthread_t th[NTHREADS];
    double t0 = now();
    for (int i = 0; i < NTHREADS; i++) {
        workers[i] = (worker){.index = i + 1, .rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 7),
                              .quota = total / NTHREADS, .t = &tallies[i + 1]};
        if (pthread_create(&th[i], NULL, worker_main, &workers[i]) != 0) {
            fprintf(stderr, "stress: cannot start thread %d\n", i);
            return 1;
        }
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    double elapsed = now() - t0;

    /* Teardown of what is left in shared places: nobody races any more,
     * so every end is exactly OK. */
    my_index = 0;
    tally *mt = &tallies[0];
    for (unsigned i = 0; i < NPOOL; i++) {
        const hclass *c = &classes[i % NCLASSES];
        ferry_handle h = {atomic_load(&pool[i].bits)};
        if (!h.bits)
            continue;
        if (is_lent(c->kind)) {
            if (note(mt, O_REVOKE, ferry_revoke(h), ST_OK, W_TEARDOWN, "pool") == FERRY_OK) {
                count_ended(mt);
                lent_end(atomic_load(&pool[i].lent));
            }
        } else if (note(mt, O_DROP, ferry_drop(h), ST_OK, W_TEARDOWN, "pool") == FERRY_OK) {
            count_ended(mt);
        }
    }
    for (unsigned m = 0; m < NMAIL; m++) {
        const hclass *c = &classes[mail_classes[m % NMAILCLASSES]];
        ferry_handle h = {atomic_load(&mail[m])};
        if (!h.bits)
            continue;
        if (is_lent(c->kind)) {
            const void *p = NULL;
            note(mt, O_BORROW, ferry_borrow(h, types[c->ty], &p), ST_OK, W_TEARDOWN, "mailbox");
            note(mt, O_UNBORROW, ferry_unborrow(h), ST_OK, W_TEARDOWN, "mailbox");
            if (note(mt, O_REVOKE, ferry_revoke(h), ST_OK, W_TEARDOWN, "mailbox") == FERRY_OK) {
                count_ended(mt);
                lent_end((sobj *)p);
            }
        } else if (note(mt, O_DROP, ferry_drop(h), ST_OK, W_TEARDOWN, "mailbox") == FERRY_OK) {
            count_ended(mt);
        }
    }
    quarantine_flush();

    /* ---- the books ---- */
    static uint64_t calls[O_COUNT][NSTATUS], contested[O_COUNT][NSTATUS];
    uint64_t ops = 0;
    for (int i = 0; i <= NTHREADS; i++) {
        ops += tallies[i].ops;
        for (int o = 0; o < O_COUNT; o++)
            for (int s = 0; s < NSTATUS; s++) {
                calls[o][s] += tallies[i].calls[o][s];
                contested[o][s] += tallies[i].contested[o][s];
            }
    }
    printf("ferry stress: %d threads, %" PRIu64 " operations in %.2f s (%.0f ops/s)\n", NTHREADS,
           ops, elapsed, (double)ops / elapsed);
    print_table("all calls", calls);
    print_table("calls on contested handles (every thread may end them)", contested);

    /* Every object: destroyed exactly once, freed exactly once. */
    uint64_t nobj = 0, wrong = 0;
    uint64_t issued = atomic_load(&next_object_block);
    for (uint64_t id = 0; id < issued && id < max_objects; id++) {
        unsigned d = destroyed_count[id], f = freed_count[id];
        if (d == 0 && f == 0)
            continue; /* an id of a block never used up */
        nobj++;
        if (d != 1 || f != 1) {
            if (wrong++ < 10)
                fail("object %" PRIu64 ": destroyed %u times, freed %u times", id, d, f);
        }
    }
    /* Ids never used cannot be told apart from objects never destroyed, so
     * count the objects made: every successful create of an object. */
    uint64_t made_objects = calls[O_BOX][0] + calls[O_SHARE][0] + calls[O_LOCAL][0] +
                            calls[O_LEND][0] + calls[O_LEND_MUT][0];
    if (nobj != made_objects)
        fail("%" PRIu64 " objects were made but %" PRIu64 " destroyed", made_objects, nobj);
    if (atomic_load(&bad_calls))
        fail("%ld type-function calls on dead or wrong objects", atomic_load(&bad_calls));

    ferry_counts c;
    ferry_ledger(NULL, &c);
    ferry_counts d = {
        .created = c.created - base.created,
        .cloned = c.cloned - base.cloned,
        .borrows = c.borrows - base.borrows,
        .handoffs = c.handoffs - base.handoffs,
        .taken = c.taken - base.taken,
        .dropped_by_c = c.dropped_by_c - base.dropped_by_c,
        .dropped_by_rust = c.dropped_by_rust - base.dropped_by_rust,
        .revoked = c.revoked - base.revoked,
    };
    printf("ledger: created %" PRIu64 " cloned %" PRIu64 " borrows %" PRIu64 " handoffs %" PRIu64
           " taken %" PRIu64 " dropped_by_c %" PRIu64 " dropped_by_rust %" PRIu64
           " revoked %" PRIu64 " live %" PRIu64 " peak_live %" PRIu64 "\n",
           d.created, d.cloned, d.borrows, d.handoffs, d.taken, d.dropped_by_c, d.dropped_by_rust,
           d.revoked, c.live, c.peak_live);
    printf("objects: %" PRIu64 " made, each destroyed and freed exactly once: %s\n", nobj,
           wrong ? "NO" : "yes");

    uint64_t creates = calls[O_BOX][0] + calls[O_SHARE][0] + calls[O_LOCAL][0] +
                       calls[O_LEND][0] + calls[O_LEND_MUT][0] + calls[O_DOWNGRADE][0] +
                       calls[O_UPGRADE][0];
    struct {
        const char *name;
        uint64_t ledger, ours;
    } rows[] = {
        {"created", d.created, creates},
        {"cloned", d.cloned, calls[O_CLONE][0]},
        {"borrows", d.borrows, calls[O_BORROW][0] + calls[O_BORROW_MUT][0]},
        {"taken", d.taken, calls[O_TAKE][0]},
        {"dropped_by_c", d.dropped_by_c, calls[O_DROP][0] + calls[O_REVOKE][0]},
        {"dropped_by_rust", d.dropped_by_rust, calls[O_DROP_RUST][0]},
        {"revoked", d.revoked, calls[O_REVOKE][0]},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        if (rows[r].ledger != rows[r].ours)
            fail("ledger %s is %" PRIu64 ", the successful calls were %" PRIu64, rows[r].name,
                 rows[r].ledger, rows[r].ours);
    if (c.created + c.cloned != c.taken + c.dropped_by_c + c.dropped_by_rust + c.live)
        fail("ledger identity: created+cloned != taken+dropped_by_c+dropped_by_rust+live");
    if (c.live != 0 || ferry_live() != 0)
        fail("%" PRIu64 " handles live after teardown (ferry_live %zu)", c.live, ferry_live());
    size_t leaks = ferry_report_leaks(NULL);
    if (leaks)
        fail("ferry_report_leaks counts %zu live handles", leaks);
    for (int i = 0; i < TY_COUNT; i++) {
        ferry_counts ct;
        ferry_ledger(types[i], &ct);
        if (ct.live != 0 ||
            ct.created + ct.cloned != ct.taken + ct.dropped_by_c + ct.dropped_by_rust)
            fail("type %s: live %" PRIu64 " or identity broken", ty_names[i], ct.live);
    }

    long nfail = atomic_load(&failures);
    if (total >= 10000000 && ops < 10000000)
        fail("only %" PRIu64 " operations", ops);
    printf("ledger identity holds, live == 0: %s\n", nfail ? "NO (see failures)" : "yes");
    free(destroyed_count);
    free(freed_count);
    if (nfail) {
        fprintf(stderr, "stress: %ld failure(s)\n", atomic_load(&failures));
        return 1;
    }
    printf("stress: OK\n");
    return 0;
}
