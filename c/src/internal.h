/*
 * internal.h — what the parts of libferry share. Not installed.
 *
 * Names with a double underscore (ferry__x) are internal; nothing outside
 * c/src may call them except ferry_testing.h's hooks.
 */
#ifndef FERRY_INTERNAL_H
#define FERRY_INTERNAL_H

#include "ferry.h"

#include <stdatomic.h>
#include <stdbool.h>

#if defined(__GNUC__) || defined(__clang__)
#define FERRY_LIKELY(x) __builtin_expect(!!(x), 1)
#define FERRY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FERRY_COLD __attribute__((cold, noinline))
#define FERRY_TLS_FAST __attribute__((tls_model("initial-exec")))
/* Internal globals: hidden, so the library reaches them without the GOT. */
#define FERRY_HIDDEN __attribute__((visibility("hidden")))
/* The coverage build (FERRY_COVERAGE) does not force inlining, so gcov
 * counts each fast path's branches once, not once per inlined copy. */
#ifdef FERRY_COVERAGE_BUILD
#define FERRY_INLINE inline
#else
#define FERRY_INLINE inline __attribute__((always_inline))
#endif
#else
#define FERRY_HIDDEN
#define FERRY_INLINE inline
#define FERRY_LIKELY(x) (x)
#define FERRY_UNLIKELY(x) (x)
#define FERRY_COLD
#define FERRY_TLS_FAST
#endif

#include "trace.h"

/* ---- Handle bits: tag (8) | generation (28) | index (28) ---------------- */

#define FERRY__INDEX_BITS 28
#define FERRY__GEN_BITS 28
#define FERRY__MAX_SLOTS (1u << FERRY__INDEX_BITS)
#define FERRY__GEN_MAX ((1u << FERRY__GEN_BITS) - 1)

static inline ferry_handle ferry__handle_make(uint32_t tag, uint32_t gen, uint32_t index)
{
    ferry_handle h = {((uint64_t)tag << 56) | ((uint64_t)gen << FERRY__INDEX_BITS) | index};
    return h;
}
static inline uint32_t ferry__handle_tag(ferry_handle h)
{
    return (uint32_t)(h.bits >> 56);
}
static inline uint32_t ferry__handle_gen(ferry_handle h)
{
    return (uint32_t)(h.bits >> FERRY__INDEX_BITS) & FERRY__GEN_MAX;
}
static inline uint32_t ferry__handle_index(ferry_handle h)
{
    return (uint32_t)h.bits & (FERRY__MAX_SLOTS - 1);
}

/* ---- Slot state word ----------------------------------------------------
 * One 64-bit atomic holds everything a check must see at once, so a single
 * load tells whether a handle is live and a single CAS moves it:
 *   borrows (20) | pins (12) | exclusive (1) | kind (3) | generation (28)
 * kind 0 means the slot is free; the generation then is the last one issued.
 * Pins are ferry's own short borrows (while clone/downgrade/upgrade call the
 * type's functions), kept apart from the caller's borrows so a stray
 * ferry_unborrow can never end one.
 */
#define FERRY__BORROW_ONE ((uint64_t)1)
#define FERRY__BORROW_MASK ((uint64_t)0xFFFFF)
#define FERRY__PIN_ONE ((uint64_t)1 << 20)
#define FERRY__PIN_MASK ((uint64_t)0xFFF << 20)
#define FERRY__EXCL ((uint64_t)1 << 32)
#define FERRY__KIND_SHIFT 33
#define FERRY__KIND_MASK ((uint64_t)7 << FERRY__KIND_SHIFT)
#define FERRY__GEN_SHIFT 36

/* Internal kind values stored in the state word: ferry_kind, plus these. */
enum {
    FERRY__FREE = 0,
    FERRY__WEAK_LOCAL = 7 /* a weak unit of a local (Rc) object */
};

static inline uint32_t ferry__state_gen(uint64_t s)
{
    return (uint32_t)(s >> FERRY__GEN_SHIFT);
}
static inline unsigned ferry__state_kind(uint64_t s)
{
    return (unsigned)((s & FERRY__KIND_MASK) >> FERRY__KIND_SHIFT);
}
static inline uint64_t ferry__state_make(uint32_t gen, unsigned kind)
{
    return ((uint64_t)gen << FERRY__GEN_SHIFT) | ((uint64_t)kind << FERRY__KIND_SHIFT);
}
static inline uint32_t ferry__state_borrows(uint64_t s)
{
    return (uint32_t)(s & FERRY__BORROW_MASK);
}

/* A freed slot keeps its last kind in the (now unused) borrow bits, so a
 * message about a stale handle can still name it. */
static inline uint64_t ferry__state_freed(uint32_t gen, unsigned last_kind)
{
    return ferry__state_make(gen, FERRY__FREE) | last_kind;
}
static inline unsigned ferry__state_freed_kind(uint64_t s)
{
    return (unsigned)(s & 7);
}

/*
 * One slot: 48 bytes, so a million live handles cost 48 MB.
 * Fields other than `state` are written only while the writer owns the slot
 * (free and popped, or live and ended by a successful CAS) and are read
 * either under a borrow/pin (which keeps them stable) or optimistically and
 * then validated against `state` (seqlock style); docs/design.md argues each
 * ordering.
 */
typedef struct ferry__slot {
    _Atomic uint64_t state;
    void *obj;                        /* the unit; stable while live */
    _Atomic(const char *) created_at; /* site strings, static storage */
    _Atomic(const char *) released_at;
    _Atomic uint32_t type_id;     /* kept after release for messages */
    _Atomic uint32_t thread;      /* pinned: owner; Send + !Sync: FERRY__NEEDS_CLAIM */
    _Atomic uint32_t last_thread; /* for handoff counting */
    _Atomic uint32_t next_free;   /* free-list link (index + 1) */
} ferry__slot;

_Static_assert(sizeof(ferry__slot) == 48, "a slot must stay 48 bytes (docs/design.md)");

/* ---- Types --------------------------------------------------------------- */

/*
 * A plugin's gate (plugin.c): every operation that runs a plugin type's code
 * or makes a handle of one — and every call into the plugin — holds the gate
 * open while it runs, so ferry_plugin_close can tell, without a lock on the
 * hot paths of other types, that nothing of the plugin is running or live.
 */
enum { FERRY__GATE_OPEN, FERRY__GATE_CLOSING, FERRY__GATE_CLOSED };
typedef struct ferry__gate {
    _Atomic uint32_t ops;   /* operations inside the gate */
    _Atomic uint32_t phase; /* FERRY__GATE_* */
    /* the plugin's name, for messages: a kept string that a reopen may
     * replace while a thread that found the gate closed reads it */
    _Atomic(const char *) plugin;
} ferry__gate;

struct ferry_type {
    uint32_t id;                 /* 1-based index into the registry */
    _Atomic bool retired;        /* unregistered when its plugin closed */
    _Atomic(ferry__gate *) gate; /* the plugin whose code it runs, or NULL */
    ferry_type_desc desc;        /* desc.name points at `name` below */
    char name[256];
};

#define FERRY__MAX_TYPES 65535u
extern FERRY_HIDDEN _Atomic(const ferry_type *) ferry__types[FERRY__MAX_TYPES + 1]; /* [0] unused */

/* The type with this id, or NULL. Lock-free. */
static inline const ferry_type *ferry__type_by_id(uint32_t id)
{
    return id <= FERRY__MAX_TYPES ? atomic_load_explicit(&ferry__types[id], memory_order_acquire)
                                  : NULL;
}
uint32_t ferry__type_count(void);

/*
 * Registers a plugin's types all or nothing: fails with FERRY_E_TYPE when a
 * name repeats or is registered already (a type of a closed plugin with the
 * same descriptor is revived instead, so a reopened plugin's cached type
 * pointers stay right), or with the registry's own statuses. On success
 * out[i] is the type of descs[i], gated by gate. op names the operation.
 */
ferry_status ferry__types_register_plugin(const char *op, const ferry_type_desc *descs, uint32_t n,
                                          ferry__gate *gate, const ferry_type **out);
/* Unregisters a closed plugin's types: lookups no longer find them. */
void ferry__types_retire(const ferry_type *const *types, uint32_t n);

/* Enters t's gate (see ferry__gate) for an operation that makes a handle of
 * t (`creating`) or runs t's code: waits while its plugin is being closed
 * and fails with FERRY_E_TYPE (creating) once it is closed. *g is the gate
 * to leave, NULL for types of no plugin (the common case, inline). */
ferry_status ferry__gate_enter_slow(const char *op, const ferry_type *t, bool creating,
                                    ferry__gate **g);
static inline ferry_status ferry__gate_enter(const char *op, const ferry_type *t, bool creating,
                                             ferry__gate **g)
{
    *g = NULL;
    if (FERRY_LIKELY(atomic_load_explicit(&t->gate, memory_order_acquire) == NULL))
        return FERRY_OK;
    return ferry__gate_enter_slow(op, t, creating, g);
}
static inline void ferry__gate_leave(ferry__gate *g)
{
    if (g)
        atomic_fetch_sub_explicit(&g->ops, 1, memory_order_release);
}

/*
 * Whether the slot's object is bound to the thread that made the handle:
 * an Rc (local and its weak), anything of a type without FERRY_SEND, and a
 * shared lend (&T) of a type without FERRY_SYNC (&T is Send only when T is
 * Sync, and the lender itself may be reading the object meanwhile).
 * Other handles of a Send + !Sync type move freely; their shared borrows
 * go through the per-object claims (claims.c).
 */
static inline bool ferry__kind_pinned(unsigned kind, uint32_t flags)
{
    if (kind == FERRY_KIND_LOCAL || kind == FERRY__WEAK_LOCAL || !(flags & FERRY_SEND))
        return true;
    return kind == FERRY_KIND_LENT && !(flags & FERRY_SYNC);
}

/* The `thread` field of an unpinned slot of a Send + !Sync type: its shared
 * borrows need the object's claim (never a thread id: ids stop below it). */
#define FERRY__NEEDS_CLAIM UINT32_MAX

/* The value publish stores in a new slot's `thread` field. */
static inline uint32_t ferry__slot_thread(unsigned kind, uint32_t flags, uint32_t self_id)
{
    if (ferry__kind_pinned(kind, flags))
        return self_id;
    return (flags & FERRY_SYNC) ? 0 : FERRY__NEEDS_CLAIM;
}

/* ---- Claims (claims.c) ---- */
typedef struct ferry__claims ferry__claims;
/* Locks and returns the stripe holding obj's claim. */
ferry__claims *ferry__claims_lock(const void *obj);
void ferry__claims_unlock(ferry__claims *c);
/* The thread holding obj's shared borrows, or 0. Stripe locked. */
uint32_t ferry__claim_holder(ferry__claims *c, const void *obj);
/* One more shared borrow of obj by thread; false when out of memory. */
bool ferry__claim_add(ferry__claims *c, const void *obj, uint32_t thread);
/* One shared borrow of obj fewer; the claim goes with the last one. */
void ferry__claim_remove(ferry__claims *c, const void *obj);

/* ---- Threads ------------------------------------------------------------- */

#define FERRY__CACHE_SLOTS 64 /* a power of two: the cache is a ring */
#define FERRY__CACHE_BATCH 32
/* Freed slots wait behind at least this many others before reuse, so a
 * stale handle's message keeps its type and "released at" for a while (the
 * way ASan quarantines freed memory). */
#define FERRY__CACHE_QUARANTINE 8
#define FERRY__LEDGER_PAGE 64 /* types per ledger page */

enum {
    FERRY__C_CREATED,
    FERRY__C_CLONED,
    FERRY__C_BORROWS,
    FERRY__C_HANDOFFS,
    FERRY__C_TAKEN,
    FERRY__C_DROPPED_C,
    FERRY__C_DROPPED_RUST,
    FERRY__C_REVOKED,
    FERRY__C_BALANCE,      /* created + cloned - ended on this thread (may wrap) */
    FERRY__C_PEAK_BALANCE, /* highest balance this thread has had (>= 0) */
    FERRY__C_MIN_BALANCE,  /* lowest balance this thread has had (<= 0, as int64) */
    FERRY__C_COUNT
};

/* One thread's counters for one type. Written only by the owning thread
 * (plain load+store, no lock prefix); summed by readers with relaxed loads. */
typedef struct ferry__ledger_row {
    _Atomic uint64_t c[FERRY__C_COUNT];
} ferry__ledger_row;

typedef struct ferry__thread {
    uint32_t id;
    uint32_t chead, ncache;             /* ring: oldest at chead */
    uint32_t cache[FERRY__CACHE_SLOTS]; /* free slot indices owned by this thread */
    struct ferry__thread *next;         /* registry list, under the registry lock */
    _Atomic(ferry__ledger_row *) pages[(FERRY__MAX_TYPES + 1) / FERRY__LEDGER_PAGE];
    /* FERRY_TRACE=1: the last message with its backtraces (errors.c), and
     * whether ferry_last_error returns it rather than the one-line one. */
    char *trace_message;
    bool message_traced;
} ferry__thread;

extern FERRY_HIDDEN FERRY_TLS_FAST _Thread_local ferry__thread *ferry__self_tls;

ferry__thread *ferry__thread_attach(void); /* slow path of ferry__self */

/* The calling thread's state, or NULL when it cannot be allocated. */
static inline ferry__thread *ferry__self(void)
{
    ferry__thread *t = ferry__self_tls;
    return FERRY_LIKELY(t != NULL) ? t : ferry__thread_attach();
}

/* Visits every attached thread under the registry lock, then calls
 * fn(NULL, ctx) once, still under it, for the totals of exited threads. */
void ferry__threads_each(void (*fn)(ferry__thread *t, void *ctx), void *ctx);

/* ---- Ledger -------------------------------------------------------------- */

/* Allocates the page holding type_id's row; NULL when out of memory.
 * Operations call ferry__ledger_ready first and fail with FERRY_E_NOMEM
 * rather than lose a count. */
ferry__ledger_row *ferry__ledger_row_slow(ferry__thread *self, uint32_t type_id);

static inline ferry__ledger_row *ferry__ledger_row_of(ferry__thread *self, uint32_t type_id)
{
    ferry__ledger_row *page =
        atomic_load_explicit(&self->pages[type_id / FERRY__LEDGER_PAGE], memory_order_relaxed);
    if (FERRY_LIKELY(page != NULL))
        return &page[type_id % FERRY__LEDGER_PAGE];
    return ferry__ledger_row_slow(self, type_id);
}

/* Row 0 of every thread counts the handles of all types together (made and
 * ended, and the balance), so ferry_ledger(NULL) and ferry_live() read one
 * row per thread. Borrows, handoffs and revokes are counted in the type's
 * row only and summed over types on read: the borrow path touches one row. */
#define FERRY__ALL_TYPES 0u

/* Single-writer increment: only the owning thread writes its rows. */
static inline void ferry__count_add(ferry__ledger_row *row, int which, uint64_t n)
{
    uint64_t v = atomic_load_explicit(&row->c[which], memory_order_relaxed) + n;
    atomic_store_explicit(&row->c[which], v, memory_order_relaxed);
}

/* Counts a borrow, a handoff or a revoke (which also counts as a drop):
 * no effect on the balance. */
static inline void ferry__ledger_count(ferry__thread *self, uint32_t type_id, int which)
{
    ferry__ledger_row *row = ferry__ledger_row_of(self, type_id);
    if (FERRY_LIKELY(row != NULL))
        ferry__count_add(row, which, 1);
}

static inline void ferry__ledger_row_change(ferry__ledger_row *row, int which)
{
    /* The balance and its extreme are computed in registers: a relaxed
     * atomic store is not folded into a following load by the compiler. */
    ferry__count_add(row, which, 1);
    bool made = which == FERRY__C_CREATED || which == FERRY__C_CLONED;
    uint64_t b = atomic_load_explicit(&row->c[FERRY__C_BALANCE], memory_order_relaxed) +
                 (made ? 1 : (uint64_t)-1);
    atomic_store_explicit(&row->c[FERRY__C_BALANCE], b, memory_order_relaxed);
    int extreme = made ? FERRY__C_PEAK_BALANCE : FERRY__C_MIN_BALANCE;
    int64_t old = (int64_t)atomic_load_explicit(&row->c[extreme], memory_order_relaxed);
    if (made ? (int64_t)b > old : (int64_t)b < old)
        atomic_store_explicit(&row->c[extreme], b, memory_order_relaxed);
}

/* Makes sure self has rows for type_id and for all types, so that an
 * operation about to succeed can count itself. False: out of memory. */
static inline bool ferry__ledger_ready(ferry__thread *self, uint32_t type_id)
{
    return ferry__ledger_row_of(self, type_id) && ferry__ledger_row_of(self, FERRY__ALL_TYPES);
}

/* Counts a new handle (FERRY__C_CREATED or _CLONED) or the end of one
 * (_TAKEN, _DROPPED_*), keeping the thread's peak balance. */
static inline void ferry__ledger_count_change(ferry__thread *self, uint32_t type_id, int which)
{
    ferry__ledger_row *row = ferry__ledger_row_of(self, type_id);
    ferry__ledger_row *all = ferry__ledger_row_of(self, FERRY__ALL_TYPES);
    if (FERRY_LIKELY(row && all)) {
        ferry__ledger_row_change(row, which);
        ferry__ledger_row_change(all, which);
    }
}

/* The thread's row for type_id if it exists already, else NULL: fast paths
 * look rows up without allocating and leave the rest to their slow path. */
static inline ferry__ledger_row *ferry__ledger_row_peek(const ferry__thread *self, uint32_t type_id)
{
    ferry__ledger_row *page =
        atomic_load_explicit(&self->pages[type_id / FERRY__LEDGER_PAGE], memory_order_relaxed);
    return FERRY_LIKELY(page != NULL) ? &page[type_id % FERRY__LEDGER_PAGE] : NULL;
}

/* ferry__ledger_count_change with both rows already at hand. */
static inline void ferry__ledger_rows_change(ferry__ledger_row *row, ferry__ledger_row *all,
                                             int which)
{
    ferry__ledger_row_change(row, which);
    ferry__ledger_row_change(all, which);
}

/* Folds an exiting thread's rows into the retired totals (registry lock held). */
void ferry__ledger_retire_thread(ferry__thread *t);
/* Installs the FERRY_LEAK_CHECK exit report when the environment asks. */
void ferry__ledger_init(void);

/* ---- Table --------------------------------------------------------------- */

/* Initialises the process state once (tag, environment, exit hook). */
void ferry__init(void);

#define FERRY__CHUNK_BITS 16
#define FERRY__CHUNK_SLOTS (1u << FERRY__CHUNK_BITS)
#define FERRY__CHUNK_COUNT (FERRY__MAX_SLOTS / FERRY__CHUNK_SLOTS)
extern FERRY_HIDDEN _Atomic(ferry__slot *) ferry__chunks[FERRY__CHUNK_COUNT];

/* The slot at index, or NULL when the index was never allocated. */
static inline ferry__slot *ferry__slot_at(uint32_t index)
{
    ferry__slot *chunk = atomic_load_explicit(
        &ferry__chunks[(index >> FERRY__CHUNK_BITS) & (FERRY__CHUNK_COUNT - 1)],
        memory_order_acquire);
    return chunk ? &chunk[index & (FERRY__CHUNK_SLOTS - 1)] : NULL;
}

/* The slot at an index this table has handed out (its chunk exists). */
static inline ferry__slot *ferry__slot_issued(uint32_t index)
{
    ferry__slot *chunk = atomic_load_explicit(
        &ferry__chunks[(index >> FERRY__CHUNK_BITS) & (FERRY__CHUNK_COUNT - 1)],
        memory_order_acquire);
    return &chunk[index & (FERRY__CHUNK_SLOTS - 1)];
}

/* The table's tag: the top 8 bits of every handle it issues. */
extern FERRY_HIDDEN uint32_t ferry__table_tag;

ferry_status ferry__slot_alloc_slow(ferry__thread *self, uint32_t *index);
void ferry__slot_free_slow(ferry__thread *self, uint32_t index, uint32_t gen);

/*
 * Pops a free slot for the caller; *index receives it. The slot is the
 * caller's until it is published or given back with ferry__slot_free.
 * Returns FERRY_OK, FERRY_E_NOMEM or FERRY_E_LIMIT.
 */
/* Takes the oldest cached slot; the caller made sure the cache holds more
 * than its quarantine. */
static inline uint32_t ferry__cache_pop(ferry__thread *self)
{
    uint32_t index = self->cache[self->chead];
    self->chead = (self->chead + 1) & (FERRY__CACHE_SLOTS - 1);
    self->ncache--;
    return index;
}

static inline ferry_status ferry__slot_alloc(ferry__thread *self, uint32_t *index)
{
    if (FERRY_LIKELY(self->ncache > FERRY__CACHE_QUARANTINE)) {
        *index = ferry__cache_pop(self);
        return FERRY_OK;
    }
    return ferry__slot_alloc_slow(self, index);
}

/* Appends a slot index to the newest end of the thread's ring. */
static inline void ferry__cache_push(ferry__thread *self, uint32_t index)
{
    self->cache[(self->chead + self->ncache++) & (FERRY__CACHE_SLOTS - 1)] = index;
}

/* Gives a slot the caller owns back to the free lists (or retires it). */
static inline void ferry__slot_free(ferry__thread *self, uint32_t index, uint32_t gen)
{
    if (FERRY_LIKELY(self->ncache < FERRY__CACHE_SLOTS && gen < FERRY__GEN_MAX)) {
        ferry__cache_push(self, index);
        return;
    }
    ferry__slot_free_slow(self, index, gen);
}

/* Gives an exiting thread's cached free slots to the global free list. */
void ferry__table_release_cache(ferry__thread *self);

/* A live handle as a scan of the table saw it. */
typedef struct ferry__live {
    ferry_handle h;
    const ferry_type *type;
    unsigned kind;
    const char *created_at;
} ferry__live;

/* Calls fn for every handle live when the scan reaches its slot; handles
 * made or ended during the scan may or may not be seen. */
void ferry__each_live(void (*fn)(const ferry__live *live, void *ctx), void *ctx);

/* Highest slot index ever handed out, plus one. */
uint32_t ferry__slots_issued(void);

/* The site recorded when a caller gives none (a call through a pointer). */
#define FERRY__NO_SITE "(no call site)"

/* ---- Errors -------------------------------------------------------------- */

/* What a message can say about the handle involved; all fields optional. */
typedef struct ferry__subject {
    ferry_handle h;
    const ferry_type *type;
    unsigned kind; /* internal kind; FERRY__FREE = unknown */
    const char *created_at;
    const char *released_at;
    ferry__trace created_trace; /* FERRY_TRACE=1 only */
    ferry__trace released_trace;
} ferry__subject;

/* Records a failure: formats the message, applies the policy, returns s. */
ferry_status ferry__fail(ferry_status s, const char *op, const ferry__subject *subj,
                         const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The last failure's one-line message, without FERRY_TRACE's frames: for
 * quoting it inside another message. */
const char *ferry__last_message_line(void);

/* Appends to buf at *len, never past cap, always NUL-terminated. */
void ferry__appendf(char *buf, size_t *len, size_t cap, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The name of an internal kind value ("weak" for a local weak). */
const char *ferry__kind_name(unsigned kind);

/* Reads the environment once at start-up. */
void ferry__errors_init(void);

#endif /* FERRY_INTERNAL_H */
