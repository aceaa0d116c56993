/*
 * ferry.h — checked ownership handles between C and Rust.
 *
 * A C program never holds a raw pointer to an object it shares with Rust: it
 * holds a 64-bit handle. One process-wide handle table checks every use, so a
 * double free, a use after free, a wrong type, a wrong thread or a free while
 * borrowed becomes a status code and a message instead of undefined behaviour.
 * A ledger counts every create, clone, borrow, thread handoff and drop per
 * type.
 *
 * Conventions (docs/conventions.md has the long form):
 *   - Every operation returns a ferry_status; FERRY_OK is 0. Lookups that
 *     cannot fail in an interesting way return their value (NULL, 0, "").
 *   - One out-parameter, named `out`, last. It is written only on success.
 *   - A failed call changes nothing: no handle, object, count or borrow moves.
 *     Objects handed in by a failed call still belong to the caller.
 *   - The message of the last failure on this thread is ferry_last_error().
 *   - Every function is thread-safe unless its comment says otherwise.
 *   - "Unit" means one unit of ownership of an object: the Box itself, one Arc
 *     strong reference, one Weak reference, or one C reference.
 */
#ifndef FERRY_H
#define FERRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which side of the boundary ended a handle, for the ledger. */
typedef enum ferry_side { FERRY_BY_C = 0, FERRY_BY_RUST = 1 } ferry_side;

/* Lets FERRY_TYPED_HANDLE's helpers go unused without a warning. */
#if defined(__GNUC__) || defined(__clang__)
#define FERRY_MAYBE_UNUSED __attribute__((unused))
#else
#define FERRY_MAYBE_UNUSED
#endif

/* Marks the exported functions; libferry builds with hidden visibility. */
#if defined(__GNUC__) || defined(__clang__)
#define FERRY_API __attribute__((visibility("default")))
#else
#define FERRY_API
#endif

#define FERRY_VERSION_MAJOR 0
#define FERRY_VERSION_MINOR 1
#define FERRY_VERSION_PATCH 0
#define FERRY_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/*
 * X(name, value, description): the one list that the enum, ferry_status_name
 * and the messages are generated from, so they never drift apart.
 */
#define FERRY_STATUS_LIST(X)                                                                       \
    X(FERRY_OK, 0, "success")                                                                      \
    X(FERRY_E_NULL, 1, "null handle or null pointer argument")                                     \
    X(FERRY_E_INVALID, 2, "bits never issued by this handle table")                                \
    X(FERRY_E_STALE, 3, "handle already dropped, taken or revoked")                                \
    X(FERRY_E_TYPE, 4, "handle of another type than the one expected")                             \
    X(FERRY_E_KIND, 5, "operation the handle's kind does not allow")                               \
    X(FERRY_E_BORROWED, 6, "conflicting or missing borrow")                                        \
    X(FERRY_E_THREAD, 7, "object used from a thread it may not be used on")                        \
    X(FERRY_E_EXPIRED, 8, "weak handle whose object is gone")                                      \
    X(FERRY_E_PANIC, 9, "Rust code panicked behind the boundary")                                  \
    X(FERRY_E_NOMEM, 10, "out of memory")                                                          \
    X(FERRY_E_LIMIT, 11, "a fixed limit of the table was reached")                                 \
    X(FERRY_E_BUSY, 12, "plugin still has live objects")                                           \
    X(FERRY_E_ABI, 13, "ABI version mismatch")                                                     \
    X(FERRY_E_LOAD, 14, "plugin could not be loaded")                                              \
    X(FERRY_E_SIGNATURE, 15, "arguments do not match the signature")

typedef enum ferry_status {
#define FERRY_X_ENUM(name, value, text) name = value,
    FERRY_STATUS_LIST(FERRY_X_ENUM)
#undef FERRY_X_ENUM
} ferry_status;

/* The enumerator's name as a string ("FERRY_E_STALE"); never NULL.
 * Unknown values give "FERRY_E_UNKNOWN". Pure function. */
FERRY_API const char *ferry_status_name(ferry_status s);

/* A one-line description of the status; never NULL. Pure function. */
FERRY_API const char *ferry_status_text(ferry_status s);

/*
 * The message of the last failed ferry call on the calling thread, naming the
 * status, the operation, the type, the kind and, where known, where the handle
 * was created and where it was released. Successful calls leave it alone.
 * Never NULL; "" before the first failure. The string belongs to ferry and
 * stays valid until the next failing ferry call on this thread.
 *
 * The message is one line. With FERRY_TRACE=1 in the environment (read once
 * at start-up) ferry also records a short backtrace when each handle is
 * created and when it is released, and a message about a handle continues
 * with them on lines of their own, as the reports printed under
 * FERRY_ON_ERROR=log|abort and FERRY_LEAK_CHECK=1 do:
 *
 *   FERRY_E_STALE: ferry_drop: handle was already dropped, ...
 *     created:
 *       #0 make_image+0x2f (/usr/bin/viewer+0x11ef)
 *       #1 main+0x52 (/usr/bin/viewer+0x1262)
 *     released:
 *       #0 close_image+0x16 (/usr/bin/viewer+0x1241)
 *       ...
 *
 * Up to 8 frames each, innermost first; module+offset is what
 * `addr2line -f -e module offset` resolves, and functions are named only
 * when their symbols are exported (link the program with -rdynamic). Off,
 * it costs a test of one byte per create and release, within 2% in time
 * (docs/performance.md); on, every create and release takes a backtrace
 * (~1 microsecond) and each slot 128 more bytes.
 */
FERRY_API const char *ferry_last_error(void);

/*
 * Records a failure found outside libferry — the Rust boundary uses it for a
 * panic or a Rust error — as if a ferry call had failed: this thread's last
 * error becomes "<STATUS>: <op>: <message>" and the error policy applies.
 * op and message may be NULL. It records whatever s is, FERRY_OK included,
 * so call it only for failures. Returns s.
 */
FERRY_API ferry_status ferry_report_error(ferry_status s, const char *op, const char *message);

/* What ferry does after it has recorded a failure. */
typedef enum ferry_error_policy {
    FERRY_POLICY_RETURN = 0, /* return the status (default) */
    FERRY_POLICY_LOG = 1,    /* also print the message to stderr */
    FERRY_POLICY_ABORT = 2   /* print the message to stderr, then abort() */
} ferry_error_policy;

/*
 * Sets the process-wide error policy and returns the previous one. The
 * initial policy comes from the environment variable FERRY_ON_ERROR
 * (return|log|abort) read once at start-up. An unknown value is ignored.
 */
FERRY_API ferry_error_policy ferry_set_error_policy(ferry_error_policy policy);

/* ------------------------------------------------------------------------ */
/* Handles and types                                                        */
/* ------------------------------------------------------------------------ */

/*
 * An untyped handle. bits == 0 is the null handle, so a zero-initialised
 * handle is always safe to pass: every function answers FERRY_E_NULL.
 * Bit layout (docs/design.md): 8-bit table tag | 28-bit generation |
 * 28-bit slot index.
 */
typedef struct ferry_handle {
    uint64_t bits;
} ferry_handle;

#define FERRY_NULL_HANDLE ((ferry_handle){0})

/* The kind of ownership a handle carries (DESIGN.md § Handles). */
typedef enum ferry_kind {
    FERRY_KIND_UNIQUE = 1,  /* Box<T>: sole owner */
    FERRY_KIND_SHARED = 2,  /* Arc<T>: one strong reference */
    FERRY_KIND_LOCAL = 3,   /* Rc<T>: shared, pinned to the creating thread */
    FERRY_KIND_WEAK = 4,    /* Weak<T>: upgrade or FERRY_E_EXPIRED */
    FERRY_KIND_LENT = 5,    /* &T: borrow only, until revoked */
    FERRY_KIND_LENT_MUT = 6 /* &mut T: borrow or borrow_mut, until revoked */
} ferry_kind;

/* "unique", "shared", "local", "weak", "lent", "lent mut"; never NULL. */
FERRY_API const char *ferry_kind_name(ferry_kind k);

/*
 * Type flags: what the object may do across threads, as Rust's auto traits
 * say. Without FERRY_SEND every handle of the type is pinned to the thread
 * that made it. Without FERRY_SYNC the object's shared borrows may be
 * outstanding on one thread at a time (across all its handles), and a
 * ferry_lend of it is pinned to the lender's thread.
 */
#define FERRY_SEND 0x1u
#define FERRY_SYNC 0x2u
/*
 * FERRY_PLAIN: the objects are plain data of the declared size and align —
 * any bit pattern valid, no pointers, locks or atomics inside — so a Rust
 * plugin may read one through a declared layout (ferry::host_type! with
 * `layout =`). Only a host sets it, for its own C types; ferry refuses a
 * layout view of a type without it.
 */
#define FERRY_PLAIN 0x4u

/*
 * How to manage one unit of a type. Fill with designated initializers; zero
 * fields mean "absent". ferry copies the descriptor (and the name) at
 * registration; the functions must stay callable while any handle of the
 * type is alive.
 */
typedef struct ferry_type_desc {
    const char *name;                 /* required; unique in the process, e.g. "host.Image" */
    uint32_t flags;                   /* FERRY_SEND | FERRY_SYNC | FERRY_PLAIN */
    void (*release)(void *obj);       /* required: give up one unit */
    void *(*retain)(void *obj);       /* shared kinds: one more unit; enables clone */
    void *(*downgrade)(void *obj);    /* optional: a weak unit from a strong one */
    void *(*upgrade)(void *weak);     /* optional: a strong unit, NULL when gone */
    void (*release_weak)(void *weak); /* downgrade, upgrade, release_weak: all or none */
    size_t size, align;               /* optional, 0 = unknown */
} ferry_type_desc;

/* A registered type. Opaque; lives until the process ends. */
typedef struct ferry_type ferry_type;

/*
 * Registers a type from its descriptor.
 * Ownership: desc stays the caller's (ferry copies it); *out belongs to
 * ferry and is valid for the life of the process.
 * Registering the same name again with an identical descriptor returns the
 * type already registered (so lazy registration from several places is
 * safe); with a different descriptor it fails.
 * Returns FERRY_OK; FERRY_E_NULL (desc, out, name or release NULL, an empty
 * name, or downgrade/upgrade/release_weak given incompletely); FERRY_E_TYPE (name
 * taken by a different descriptor); FERRY_E_LIMIT (name longer than 255 bytes
 * or 65535 types registered); FERRY_E_NOMEM.
 */
FERRY_API ferry_status ferry_type_register(const ferry_type_desc *desc, const ferry_type **out);

/* The type registered under name, or NULL (also for a NULL name). */
FERRY_API const ferry_type *ferry_type_find(const char *name);

/* The registered name of a type; NULL for a NULL type. */
FERRY_API const char *ferry_type_name(const ferry_type *t);

/* ferry's copy of the type's descriptor (name included); NULL for a NULL
 * type. Read-only; valid for the life of the process. */
FERRY_API const ferry_type_desc *ferry_type_descriptor(const ferry_type *t);

/* ------------------------------------------------------------------------ */
/* Creating handles                                                         */
/* ------------------------------------------------------------------------ */
/*
 * Statuses of the creating functions: FERRY_OK; FERRY_E_NULL (t, obj or out
 * NULL); FERRY_E_NOMEM and FERRY_E_LIMIT (the table cannot grow). On failure
 * the caller still owns obj and *out is untouched. On success the new handle
 * owns the unit and the handle belongs to the caller, who must end it exactly
 * once (drop, take or revoke). The handle may be used on any thread unless
 * the kind or the type pins it (docs/threading.md). Takes no lock (a
 * thread's first ferry call registers the thread under a mutex).
 *
 * The *_at variants take `site`, a string with static storage duration
 * ("file.c:42") that ferry keeps and prints in messages; the plain names are
 * macros below that pass the caller's file:line. Define FERRY_NO_SITE_MACROS
 * to turn the macros off. The functions stay callable through a pointer:
 * `(ferry_box)(t, obj, &h)` or `&ferry_box` bypass the macro.
 */

/* Unique (Box): the handle owns obj; drop calls t's release once. On failure
 * (FERRY_E_NOMEM included), the caller still owns obj. */
FERRY_API ferry_status ferry_box(const ferry_type *t, void *obj, ferry_handle *out);
FERRY_API ferry_status ferry_box_at(const ferry_type *t, void *obj, ferry_handle *out,
                                    const char *site);

/* Shared (Arc): obj is one strong unit; clone needs t's retain. On failure
 * (FERRY_E_NOMEM included), the caller still owns obj. */
FERRY_API ferry_status ferry_share(const ferry_type *t, void *obj, ferry_handle *out);
FERRY_API ferry_status ferry_share_at(const ferry_type *t, void *obj, ferry_handle *out,
                                      const char *site);

/* Local (Rc): like shared, but every use must come from the calling thread.
 * On failure (FERRY_E_NOMEM included), the caller still owns obj. */
FERRY_API ferry_status ferry_local(const ferry_type *t, void *obj, ferry_handle *out);
FERRY_API ferry_status ferry_local_at(const ferry_type *t, void *obj, ferry_handle *out,
                                      const char *site);

/*
 * Lent (&T / &mut T): the handle owns nothing. The caller keeps obj and
 * must keep it alive until ferry_revoke succeeds. Holders may borrow (and, for
 * lend_mut, borrow_mut) but never drop, take or clone it.
 */
FERRY_API ferry_status ferry_lend(const ferry_type *t, const void *obj, ferry_handle *out);
FERRY_API ferry_status ferry_lend_at(const ferry_type *t, const void *obj, ferry_handle *out,
                                     const char *site);
FERRY_API ferry_status ferry_lend_mut(const ferry_type *t, void *obj, ferry_handle *out);
FERRY_API ferry_status ferry_lend_mut_at(const ferry_type *t, void *obj, ferry_handle *out,
                                         const char *site);

/*
 * Ends a lend: afterwards the handle is stale and the lender may free obj.
 * Returns FERRY_OK; FERRY_E_NULL; FERRY_E_INVALID; FERRY_E_STALE;
 * FERRY_E_KIND (not a lent handle); FERRY_E_BORROWED (a borrow is
 * outstanding: the lender must not free obj yet); FERRY_E_THREAD;
 * FERRY_E_NOMEM. The ledger counts it as a drop by `by`, and as revoked.
 */
FERRY_API ferry_status ferry_revoke(ferry_handle h);
FERRY_API ferry_status ferry_revoke_at(ferry_handle h, ferry_side by, const char *site);

/* ------------------------------------------------------------------------ */
/* Using handles                                                            */
/* ------------------------------------------------------------------------ */
/*
 * Statuses every function taking a handle can return: FERRY_E_NULL (null
 * handle, out-pointer, or type where one is required), FERRY_E_INVALID (bits this table never
 * issued), FERRY_E_STALE (dropped, taken or revoked), FERRY_E_THREAD (a pinned handle used from
 * another thread than the one that made it: a local handle and its weak handles, any handle of a
 * type without FERRY_SEND, and a ferry_lend of a type without FERRY_SYNC), FERRY_E_NOMEM (the
 * calling thread's state or ledger counters cannot be allocated).
 */

/*
 * A new handle with one more unit of the same object (t's retain). h is
 * unchanged and both must be ended. For the duration of the call h counts as
 * borrowed, so a drop of h racing with the clone may get FERRY_E_BORROWED.
 * Also returns FERRY_E_KIND (unique, weak or lent handle, or no retain);
 * FERRY_E_NOMEM; FERRY_E_LIMIT.
 */
FERRY_API ferry_status ferry_clone(ferry_handle h, ferry_handle *out);
FERRY_API ferry_status ferry_clone_at(ferry_handle h, ferry_handle *out, const char *site);

/*
 * A new weak handle to the object of the shared or local handle h (t's
 * downgrade). h is unchanged. Also returns FERRY_E_KIND (other kinds, or no
 * downgrade); FERRY_E_NOMEM; FERRY_E_LIMIT.
 */
FERRY_API ferry_status ferry_downgrade(ferry_handle h, ferry_handle *out);
FERRY_API ferry_status ferry_downgrade_at(ferry_handle h, ferry_handle *out, const char *site);

/*
 * A new shared (or local, if the weak came from a local) handle from a weak
 * one (t's upgrade). weak is unchanged. Also returns FERRY_E_EXPIRED (the
 * object is gone); FERRY_E_KIND (not a weak handle); FERRY_E_NOMEM;
 * FERRY_E_LIMIT.
 */
FERRY_API ferry_status ferry_upgrade(ferry_handle weak, ferry_handle *out);
FERRY_API ferry_status ferry_upgrade_at(ferry_handle weak, ferry_handle *out, const char *site);

/*
 * Ends h and gives up its unit (t's release, or release_weak for a weak
 * handle), on the calling thread. Afterwards h is stale. Also returns
 * FERRY_E_KIND (lent handles are revoked, not dropped); FERRY_E_BORROWED (a
 * borrow of h is outstanding). `by` tells the ledger which side dropped.
 * h is already stale when release runs, so release may call ferry again:
 * drop other handles (a chain drops recursively), make or borrow handles,
 * read the ledger; dropping h again there is FERRY_E_STALE.
 */
FERRY_API ferry_status ferry_drop(ferry_handle h);
FERRY_API ferry_status ferry_drop_at(ferry_handle h, ferry_side by, const char *site);

/*
 * Ends h and moves its unit out to *obj: the caller owns it now (Box::from_raw,
 * Arc::from_raw, Weak::from_raw, or a C reference). Afterwards h is stale.
 * Also returns FERRY_E_TYPE (h is not of type t); FERRY_E_KIND (lent);
 * FERRY_E_BORROWED.
 */
FERRY_API ferry_status ferry_take(ferry_handle h, const ferry_type *t, void **obj);
FERRY_API ferry_status ferry_take_at(ferry_handle h, const ferry_type *t, void **obj,
                                     const char *site);

/*
 * Borrows the object: *obj stays valid until the matching ferry_unborrow;
 * ownership does not move. Borrows nest and count; while any is outstanding
 * h cannot be dropped, taken or revoked. Shared borrows of an object of a
 * FERRY_SEND type without FERRY_SYNC may be outstanding on one thread at a
 * time, across all its handles. Lock-free, except for those borrows (a
 * striped mutex, c/src/claims.c).
 * Also returns FERRY_E_TYPE; FERRY_E_KIND (weak handle); FERRY_E_BORROWED
 * (h is mutably borrowed); FERRY_E_THREAD (another thread holds the !Sync
 * object's shared borrows); FERRY_E_LIMIT (2^20 - 1 borrows outstanding, or
 * 4095 claimed borrows of one handle in flight); FERRY_E_NOMEM (the claim
 * cannot be recorded).
 */
FERRY_API ferry_status ferry_borrow(ferry_handle h, const ferry_type *t, const void **obj);

/*
 * Borrows the object exclusively: only unique and lent-mut handles allow it.
 * Also returns FERRY_E_TYPE; FERRY_E_KIND; FERRY_E_BORROWED (any borrow is
 * outstanding). Lock-free.
 */
FERRY_API ferry_status ferry_borrow_mut(ferry_handle h, const ferry_type *t, void **obj);

/*
 * Ends one outstanding borrow of h (the exclusive one if h is mutably
 * borrowed). Borrows are counted, not owned: ferry cannot tell whose borrow
 * an unborrow ends, so each caller must end exactly the borrows it took.
 * Also returns FERRY_E_BORROWED (no borrow outstanding); FERRY_E_THREAD (a
 * !Sync object's shared borrows are held on another thread); FERRY_E_LIMIT
 * (4095 claimed unborrows of one handle in flight). Lock-free, except for a
 * !Sync object's shared borrows (a striped mutex).
 */
FERRY_API ferry_status ferry_unborrow(ferry_handle h);

/*
 * The kind of the live handle h, in *out. The kind of a handle never
 * changes, so a caller may decide on it before a take (Rust checks that a
 * handle it turns back into an Arc is not a weak one). Returns FERRY_OK or
 * one of the common statuses.
 */
FERRY_API ferry_status ferry_kind_of(ferry_handle h, ferry_kind *out);

/*
 * Whether h is a live handle of type t (t == NULL: of any type) usable on
 * this thread. Calls none of the type's functions, so for a weak handle it
 * says the handle is live, not whether its object still is: ferry_upgrade
 * answers that (FERRY_E_EXPIRED). Changes nothing but the ledger's handoff
 * count. Lock-free.
 * Returns FERRY_OK, one of the common statuses, or FERRY_E_TYPE.
 */
FERRY_API ferry_status ferry_check(ferry_handle h, const ferry_type *t);

/* ------------------------------------------------------------------------ */
/* Ledger                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Counts since the process started. created counts box, share, local, lend,
 * lend_mut, downgrade and upgrade; cloned counts clone; borrows counts
 * borrow and borrow_mut; handoffs counts uses of a handle on another thread
 * than its previous use; dropped_by_* count drops and revokes; revoked
 * counts the revokes among them. Always
 *   live = created + cloned - taken - dropped_by_c - dropped_by_rust.
 * peak_live is a lower bound of the highest live value: exact when one
 * thread at a time holds the type's handles (one thread, or workers one
 * after another); with several holding handles at once it may be as low as
 * the largest single thread's peak, and is always at least every live value
 * an earlier ledger read returned (docs/ledger.md).
 */
typedef struct ferry_counts {
    uint64_t created, cloned, borrows, handoffs, taken;
    uint64_t dropped_by_c, dropped_by_rust, live, peak_live;
    uint64_t revoked;
} ferry_counts;

/*
 * Fills *out with the counts of type t, or of all types when t is NULL.
 * Returns FERRY_OK or FERRY_E_NULL (out NULL). Exact when no other thread is
 * creating or dropping at the same time.
 */
FERRY_API ferry_status ferry_ledger(const ferry_type *t, ferry_counts *out);

/* The number of live handles of all types. */
FERRY_API size_t ferry_live(void);

/*
 * Writes one line per live handle to out (type, kind, handle bits, creation
 * site) and returns how many there were. out == NULL only counts. Meant for a
 * quiescent process (at exit, at the end of a test).
 * With FERRY_LEAK_CHECK=1 in the environment, ferry writes this report to
 * stderr at exit and, if anything is live, ends the process with status 23.
 * With FERRY_TRACE=1 each line is followed by the handle's creation
 * backtrace (see ferry_last_error).
 */
FERRY_API size_t ferry_report_leaks(FILE *out);

/* ------------------------------------------------------------------------ */
/* Call-site macros                                                         */
/* ------------------------------------------------------------------------ */

#define FERRY_STRINGIFY_(x) #x
#define FERRY_STRINGIFY(x) FERRY_STRINGIFY_(x)
/* "file.c:42" for the line it appears on; a string literal (static storage). */
#define FERRY_SITE __FILE__ ":" FERRY_STRINGIFY(__LINE__)

#ifndef FERRY_NO_SITE_MACROS
#define ferry_box(t, obj, out) ferry_box_at((t), (obj), (out), FERRY_SITE)
#define ferry_share(t, obj, out) ferry_share_at((t), (obj), (out), FERRY_SITE)
#define ferry_local(t, obj, out) ferry_local_at((t), (obj), (out), FERRY_SITE)
#define ferry_lend(t, obj, out) ferry_lend_at((t), (obj), (out), FERRY_SITE)
#define ferry_lend_mut(t, obj, out) ferry_lend_mut_at((t), (obj), (out), FERRY_SITE)
#define ferry_revoke(h) ferry_revoke_at((h), FERRY_BY_C, FERRY_SITE)
#define ferry_clone(h, out) ferry_clone_at((h), (out), FERRY_SITE)
#define ferry_downgrade(h, out) ferry_downgrade_at((h), (out), FERRY_SITE)
#define ferry_upgrade(h, out) ferry_upgrade_at((h), (out), FERRY_SITE)
#define ferry_drop(h) ferry_drop_at((h), FERRY_BY_C, FERRY_SITE)
#define ferry_take(h, t, obj) ferry_take_at((h), (t), (obj), FERRY_SITE)
#endif

/* ------------------------------------------------------------------------ */
/* Typed handles                                                            */
/* ------------------------------------------------------------------------ */

/*
 * FERRY_TYPED_HANDLE(Prefix, HandleStruct, "type.name") defines, for a handle
 * struct cbindgen emitted for Rust's Handle<T> (one uint64_t `bits`, e.g.
 * Handle_Point), helpers that accept only that struct, so passing a
 * Handle_Image where a Handle_Point is wanted does not compile:
 *
 *   FERRY_TYPED_HANDLE(Point, Handle_Point, "demo.Point")
 *   ferry_clone_as(Point, h, &copy);   ferry_drop_as(Point, h);
 *   ferry_check_as(Point, h);          Point_untyped(h), Point_typed(u)
 *
 * The _as macros pass the caller's file:line like the core macros. Ownership
 * and statuses are those of ferry_clone, ferry_drop and ferry_check;
 * check also answers FERRY_E_TYPE when the handle is of another type or no
 * type NAME is registered yet (Prefix_type() looks the type up by name,
 * taking the registry lock). Only the compiler checks the type of a drop or
 * clone; at run time they check liveness like ferry_drop and ferry_clone.
 */
#define FERRY_TYPED_HANDLE(P, H, NAME)                                                             \
    FERRY_MAYBE_UNUSED static inline ferry_handle P##_untyped(H h)                                 \
    {                                                                                              \
        ferry_handle u;                                                                            \
        u.bits = h.bits;                                                                           \
        return u;                                                                                  \
    }                                                                                              \
    FERRY_MAYBE_UNUSED static inline H P##_typed(ferry_handle u)                                   \
    {                                                                                              \
        H h;                                                                                       \
        h.bits = u.bits;                                                                           \
        return h;                                                                                  \
    }                                                                                              \
    FERRY_MAYBE_UNUSED static inline const ferry_type *P##_type(void)                              \
    {                                                                                              \
        return ferry_type_find(NAME);                                                              \
    }                                                                                              \
    FERRY_MAYBE_UNUSED static inline ferry_status P##_clone_at(H h, H *out, const char *site)      \
    {                                                                                              \
        ferry_handle u;                                                                            \
        ferry_status s;                                                                            \
        if (!out)                                                                                  \
            return ferry_clone_at(P##_untyped(h), (ferry_handle *)0, site);                        \
        s = ferry_clone_at(P##_untyped(h), &u, site);                                              \
        if (s == FERRY_OK)                                                                         \
            out->bits = u.bits;                                                                    \
        return s;                                                                                  \
    }                                                                                              \
    FERRY_MAYBE_UNUSED static inline ferry_status P##_drop_at(H h, const char *site)               \
    {                                                                                              \
        return ferry_drop_at(P##_untyped(h), FERRY_BY_C, site);                                    \
    }                                                                                              \
    FERRY_MAYBE_UNUSED static inline ferry_status P##_check(H h)                                   \
    {                                                                                              \
        const ferry_type *t = P##_type();                                                          \
        return t ? ferry_check(P##_untyped(h), t)                                                  \
                 : ferry_report_error(FERRY_E_TYPE, "ferry_check",                                 \
                                      "type " NAME " is not registered");                          \
    }

#define ferry_clone_as(P, h, out) P##_clone_at((h), (out), FERRY_SITE)
#define ferry_drop_as(P, h) P##_drop_at((h), FERRY_SITE)
#define ferry_check_as(P, h) P##_check(h)

#ifdef __cplusplus
}
#endif

#include "ferry/plugin.h"

#endif /* FERRY_H */
