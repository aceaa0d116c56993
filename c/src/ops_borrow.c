/*
 * ops_borrow.c — borrow, borrow_mut, unborrow and check: the hot path.
 *
 * Each has a fast path for the common case (a live handle of a Send + Sync
 * type, or a pinned one used on its own thread): one acquire load of the
 * slot's state, a few plain loads, and one CAS. Anything unusual falls
 * through to the slow path, which re-checks everything with ferry__resolve
 * and gives the precise error. Only the shared borrows of Send + !Sync
 * objects take a lock (a striped mutex, claims.c).
 */
#include "ops.h"

#define BORROWABLE                                                                                 \
    (FERRY__KIND_BIT(FERRY_KIND_UNIQUE) | FERRY__KIND_BIT(FERRY_KIND_SHARED) |                     \
     FERRY__KIND_BIT(FERRY_KIND_LOCAL) | FERRY__KIND_BIT(FERRY_KIND_LENT) |                        \
     FERRY__KIND_BIT(FERRY_KIND_LENT_MUT))
#define BORROWABLE_MUT (FERRY__KIND_BIT(FERRY_KIND_UNIQUE) | FERRY__KIND_BIT(FERRY_KIND_LENT_MUT))

/*
 * Shared borrows of a Send + !Sync object (whose handles are not pinned) go
 * through the object's claim (claims.c): one thread at a time, across every
 * handle of the object. The slot is pinned first, so its object cannot go
 * away while the claim is looked at, and one CAS then turns the pin into a
 * borrow (or, to unborrow, ends both).
 */
static bool needs_claim(unsigned kind, uint32_t flags, bool exclusive)
{
    return !exclusive && !(flags & FERRY_SYNC) && !ferry__kind_pinned(kind, flags);
}

static ferry_status fail_claimed(const char *op, const ferry__lookup *lk, ferry_handle h,
                                 uint32_t holder, uint32_t me, const char *what)
{
    ferry__subject subj;
    ferry__subject_of(lk, h, &subj);
    return ferry__fail(FERRY_E_THREAD, op, &subj,
                       "a !Sync object's shared borrows are held on thread %u; thread %u cannot %s",
                       holder, me, what);
}

/* A shared borrow through the claim; lk is resolved and its checks passed. */
static ferry_status borrow_claimed(const char *op, ferry_handle h, ferry__thread *self,
                                   ferry__lookup *lk, void **obj)
{
    ferry_status s = ferry__pin(op, h, self, lk);
    if (s != FERRY_OK)
        return s;
    void *target = lk->slot->obj; /* stable while pinned */
    ferry__claims *c = ferry__claims_lock(target);
    uint32_t holder = ferry__claim_holder(c, target);
    if (holder && holder != self->id)
        s = fail_claimed(op, lk, h, holder, self->id, "borrow it at the same time");
    else if (!ferry__claim_add(c, target, self->id))
        s = ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot record the borrowing thread");
    for (uint64_t st = lk->state; s == FERRY_OK;) {
        lk->state = st;
        if (st & FERRY__EXCL)
            s = ferry__fail_borrowed(op, lk, h);
        else if (ferry__state_borrows(st) == FERRY__BORROW_MASK)
            s = ferry__fail(FERRY_E_LIMIT, op, NULL, "%u borrows of one handle outstanding",
                            (unsigned)FERRY__BORROW_MASK);
        else if (atomic_compare_exchange_weak_explicit(
                     &lk->slot->state, &st, st - FERRY__PIN_ONE + FERRY__BORROW_ONE,
                     memory_order_acq_rel, memory_order_acquire)) {
            ferry__claims_unlock(c);
            *obj = target;
            return FERRY_OK;
        }
        if (s != FERRY_OK)
            ferry__claim_remove(c, target);
    }
    ferry__claims_unlock(c);
    ferry__unpin(lk->slot);
    return s;
}

/* Ends a shared borrow taken through the claim. */
static ferry_status unborrow_claimed(const char *op, ferry_handle h, ferry__thread *self,
                                     ferry__lookup *lk)
{
    ferry_status s = ferry__pin(op, h, self, lk);
    if (s != FERRY_OK)
        return s;
    void *target = lk->slot->obj;
    ferry__claims *c = ferry__claims_lock(target);
    uint32_t holder = ferry__claim_holder(c, target);
    if (holder != self->id)
        s = fail_claimed(op, lk, h, holder, self->id, "end one");
    for (uint64_t st = lk->state; s == FERRY_OK;) {
        lk->state = st;
        if (ferry__state_borrows(st) == 0) {
            ferry__subject subj;
            ferry__subject_of(lk, h, &subj);
            s = ferry__fail(FERRY_E_BORROWED, op, &subj, "no borrow of the handle is outstanding");
        } else if (atomic_compare_exchange_weak_explicit(
                       &lk->slot->state, &st, st - FERRY__PIN_ONE - FERRY__BORROW_ONE,
                       memory_order_acq_rel, memory_order_acquire)) {
            ferry__claim_remove(c, target);
            ferry__claims_unlock(c);
            return FERRY_OK;
        }
    }
    ferry__claims_unlock(c);
    ferry__unpin(lk->slot);
    return s;
}

/*
 * Whether the fast path may borrow a slot whose `thread` field is owner: 0
 * marks a slot no thread rule applies to, a thread id a pinned slot (see
 * ferry__owner_ok); FERRY__NEEDS_CLAIM (shared borrows through the claim)
 * needs the claim for shared borrows only. One compare in the common case,
 * and no type flags to load.
 */
static inline bool fast_owner_ok(uint32_t owner, const ferry__thread *self, bool exclusive)
{
    return owner == 0 || owner == self->id || (exclusive && owner == FERRY__NEEDS_CLAIM);
}

static ferry_status borrow_slow(const char *op, ferry_handle h, const ferry_type *t, void **obj,
                                bool exclusive)
{
    if (!t)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null type `t`");
    if (!obj)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null out-pointer `obj`");
    ferry__thread *self = ferry__self();
    if (self && !ferry__ledger_row_of(self, t->id))
        return ferry__fail_ledger(op, t);
    ferry__lookup lk;
    ferry_status s;
    for (;;) {
        s = ferry__resolve(op, h, t, self, &lk);
        if (s != FERRY_OK)
            break;
        unsigned kind = ferry__state_kind(lk.state);
        if (!((exclusive ? BORROWABLE_MUT : BORROWABLE) & FERRY__KIND_BIT(kind))) {
            s = ferry__fail_kind(op, &lk, h,
                                 exclusive ? "be borrowed mutably (only unique and lent mut "
                                             "handles can)"
                                           : "be borrowed (upgrade a weak handle first)");
            break;
        }
        if ((lk.state & FERRY__EXCL) || (exclusive && ferry__state_borrows(lk.state))) {
            s = ferry__fail_borrowed(op, &lk, h);
            break;
        }
        if (ferry__state_borrows(lk.state) == FERRY__BORROW_MASK) {
            s = ferry__fail(FERRY_E_LIMIT, op, NULL, "%u borrows of one handle outstanding",
                            (unsigned)FERRY__BORROW_MASK);
            break;
        }
        if (needs_claim(kind, t->desc.flags, exclusive)) {
            s = borrow_claimed(op, h, self, &lk, obj);
            if (s == FERRY_OK) {
                ferry__note_use(self, lk.slot, t->id);
                ferry__ledger_count(self, t->id, FERRY__C_BORROWS);
            }
            return s;
        }
        uint64_t want = exclusive ? lk.state | FERRY__EXCL : lk.state + FERRY__BORROW_ONE;
        if (atomic_compare_exchange_strong_explicit(&lk.slot->state, &lk.state, want,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            *obj = lk.slot->obj;
            ferry__note_use(self, lk.slot, t->id);
            ferry__ledger_count(self, t->id, FERRY__C_BORROWS);
            return FERRY_OK;
        }
    }
    return s;
}

/* The fast path shared by borrow and borrow_mut; falls back to the slow one. */
static FERRY_INLINE ferry_status borrow(const char *op, ferry_handle h, const ferry_type *t,
                                        void **obj, bool exclusive)
{
    ferry__thread *self = ferry__self_tls;
    ferry__ledger_row *row;
    if (FERRY_LIKELY(self && t && obj && ferry__handle_tag(h) == ferry__table_tag &&
                     (row = ferry__ledger_row_of(self, t->id)) != NULL)) {
        ferry__slot *slot = ferry__slot_at(ferry__handle_index(h));
        uint32_t gen = ferry__handle_gen(h);
        unsigned allowed = exclusive ? BORROWABLE_MUT : BORROWABLE;
        uint64_t s = slot ? atomic_load_explicit(&slot->state, memory_order_acquire) : 0;
        while (slot && ferry__state_gen(s) == gen &&
               (allowed & FERRY__KIND_BIT(ferry__state_kind(s))) && !(s & FERRY__EXCL) &&
               (exclusive ? ferry__state_borrows(s) == 0
                          : ferry__state_borrows(s) < FERRY__BORROW_MASK) &&
               atomic_load_explicit(&slot->type_id, memory_order_acquire) == t->id &&
               fast_owner_ok(atomic_load_explicit(&slot->thread, memory_order_acquire), self,
                             exclusive)) {
            uint64_t want = exclusive ? s | FERRY__EXCL : s + FERRY__BORROW_ONE;
            if (atomic_compare_exchange_weak_explicit(&slot->state, &s, want, memory_order_acq_rel,
                                                      memory_order_acquire)) {
                *obj = slot->obj;
                ferry__note_use_row(self, slot, row);
                ferry__count_add(row, FERRY__C_BORROWS, 1);
                return FERRY_OK;
            }
        }
    }
    return borrow_slow(op, h, t, obj, exclusive);
}

ferry_status ferry_borrow(ferry_handle h, const ferry_type *t, const void **obj)
{
    return borrow("ferry_borrow", h, t, (void **)(uintptr_t)obj, false);
}

ferry_status ferry_borrow_mut(ferry_handle h, const ferry_type *t, void **obj)
{
    return borrow("ferry_borrow_mut", h, t, obj, true);
}

static uint64_t without_one_borrow(uint64_t s)
{
    return (s & FERRY__EXCL) ? s & ~FERRY__EXCL : s - FERRY__BORROW_ONE;
}

static FERRY_COLD ferry_status unborrow_slow(ferry_handle h)
{
    static const char op[] = "ferry_unborrow";
    ferry__thread *self = ferry__self();
    ferry__lookup lk;
    ferry_status s;
    while ((s = ferry__resolve(op, h, NULL, self, &lk)) == FERRY_OK) {
        if (!(lk.state & FERRY__EXCL) && ferry__state_borrows(lk.state) == 0) {
            ferry__subject subj;
            ferry__subject_of(&lk, h, &subj);
            return ferry__fail(FERRY_E_BORROWED, op, &subj,
                               "no borrow of the handle is outstanding");
        }
        unsigned kind = ferry__state_kind(lk.state);
        if (needs_claim(kind, lk.type->desc.flags, (lk.state & FERRY__EXCL) != 0))
            return unborrow_claimed(op, h, self, &lk);
        if (atomic_compare_exchange_strong_explicit(&lk.slot->state, &lk.state,
                                                    without_one_borrow(lk.state),
                                                    memory_order_acq_rel, memory_order_acquire))
            return FERRY_OK;
    }
    return s;
}

ferry_status ferry_unborrow(ferry_handle h)
{
    ferry__thread *self = ferry__self_tls;
    if (FERRY_LIKELY(self && ferry__handle_tag(h) == ferry__table_tag)) {
        ferry__slot *slot = ferry__slot_at(ferry__handle_index(h));
        uint32_t gen = ferry__handle_gen(h);
        uint64_t s = slot ? atomic_load_explicit(&slot->state, memory_order_acquire) : 0;
        /* thread == 0: neither pinned nor a Send + !Sync object whose shared
         * borrows go through a claim, so no thread rule applies. */
        while (slot && ferry__state_gen(s) == gen && ferry__state_kind(s) != FERRY__FREE &&
               ((s & FERRY__EXCL) || ferry__state_borrows(s) > 0) &&
               atomic_load_explicit(&slot->thread, memory_order_acquire) == 0) {
            if (atomic_compare_exchange_weak_explicit(&slot->state, &s, without_one_borrow(s),
                                                      memory_order_release, memory_order_acquire))
                return FERRY_OK;
        }
    }
    return unborrow_slow(h);
}

ferry_status ferry_kind_of(ferry_handle h, ferry_kind *out)
{
    static const char op[] = "ferry_kind_of";
    if (!out)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null out-pointer `out`");
    ferry__lookup lk;
    ferry_status s = ferry__resolve(op, h, NULL, ferry__self(), &lk);
    if (s != FERRY_OK)
        return s;
    unsigned kind = ferry__state_kind(lk.state);
    *out = kind == FERRY__WEAK_LOCAL ? FERRY_KIND_WEAK : (ferry_kind)kind;
    return FERRY_OK;
}

ferry_status ferry_check(ferry_handle h, const ferry_type *t)
{
    ferry__thread *self = ferry__self();
    ferry__lookup lk;
    ferry_status s = ferry__resolve("ferry_check", h, t, self, &lk);
    if (s == FERRY_OK)
        ferry__note_use(self, lk.slot, lk.type->id);
    return s;
}
