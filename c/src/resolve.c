/*
 * resolve.c — decoding a handle into its slot with every check a use needs,
 * and the precise message when one fails.
 */
#include "ops.h"

#include <sched.h>

#define GEN_KIND_MASK (~(uint64_t)0 << FERRY__KIND_SHIFT)

static ferry_status fail_stale(const char *op, ferry_handle h, ferry__slot *slot, uint64_t s)
{
    ferry__subject subj = {.h = h};
    if (ferry__state_gen(s) != ferry__handle_gen(h))
        return ferry__fail(FERRY_E_STALE, op, &subj,
                           "handle was released and its slot has been reused since");
    subj.type = ferry__type_by_id(atomic_load_explicit(&slot->type_id, memory_order_acquire));
    subj.kind = ferry__state_freed_kind(s);
    subj.created_at = atomic_load_explicit(&slot->created_at, memory_order_acquire);
    /* The releasing thread stores the site just after its CAS; give it a
     * moment so the message can say who released the handle. */
    for (int i = 0; i < 100; i++) {
        subj.released_at = atomic_load_explicit(&slot->released_at, memory_order_acquire);
        if (subj.released_at)
            break;
        sched_yield();
    }
    ferry__trace_read(ferry__handle_index(h), FERRY__TRACE_CREATED, &subj.created_trace);
    /* The release frames are stored before released_at: without the site
     * they may still be an earlier handle's. */
    if (subj.released_at)
        ferry__trace_read(ferry__handle_index(h), FERRY__TRACE_RELEASED, &subj.released_trace);
    /* Orders the relaxed frame loads before the re-check (trace.c's release
     * fence is the other half): frames of a reuse show up as a new state. */
    atomic_thread_fence(memory_order_acquire);
    if ((atomic_load_explicit(&slot->state, memory_order_acquire) & GEN_KIND_MASK) !=
        (s & GEN_KIND_MASK))
        return ferry__fail(FERRY_E_STALE, op, &(ferry__subject){.h = h},
                           "handle was released and its slot has been reused since");
    return ferry__fail(FERRY_E_STALE, op, &subj, "handle was already dropped, taken or revoked");
}

void ferry__subject_of(const ferry__lookup *lk, ferry_handle h, ferry__subject *subj)
{
    *subj = (ferry__subject){
        .h = h,
        .type = lk->type,
        .kind = ferry__state_kind(lk->state),
        .created_at = atomic_load_explicit(&lk->slot->created_at, memory_order_acquire),
    };
    ferry__trace_read(lk->index, FERRY__TRACE_CREATED, &subj->created_trace);
}

ferry_status ferry__fail_kind(const char *op, const ferry__lookup *lk, ferry_handle h,
                              const char *what)
{
    ferry__subject subj;
    ferry__subject_of(lk, h, &subj);
    unsigned kind = ferry__state_kind(lk->state);
    return ferry__fail(FERRY_E_KIND, op, &subj, "a %s handle cannot %s", ferry__kind_name(kind),
                       what);
}

ferry_status ferry__fail_ledger(const char *op, const ferry_type *t)
{
    return ferry__fail(FERRY_E_NOMEM, op, &(ferry__subject){.type = t},
                       "cannot allocate the ledger's counters for this thread");
}

ferry_status ferry__fail_borrowed(const char *op, const ferry__lookup *lk, ferry_handle h)
{
    ferry__subject subj;
    ferry__subject_of(lk, h, &subj);
    uint64_t s = lk->state;
    if (s & FERRY__EXCL)
        return ferry__fail(FERRY_E_BORROWED, op, &subj, "handle is mutably borrowed");
    if (ferry__state_borrows(s))
        return ferry__fail(FERRY_E_BORROWED, op, &subj, "%u borrow%s outstanding",
                           ferry__state_borrows(s), ferry__state_borrows(s) == 1 ? "" : "s");
    return ferry__fail(FERRY_E_BORROWED, op, &subj,
                       "handle is in use by a clone, downgrade or upgrade on another thread");
}

FERRY_COLD ferry_status ferry__resolve_slow(const char *op, ferry_handle h, const ferry_type *t,
                                            ferry__thread *self, ferry__lookup *lk)
{
    if (h.bits == 0)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null handle");
    if (!self)
        return ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot allocate this thread's state");
    uint32_t index = ferry__handle_index(h), gen = ferry__handle_gen(h);
    ferry__slot *slot = NULL;
    if (ferry__handle_tag(h) == ferry__table_tag && gen != 0)
        slot = ferry__slot_at(index);
    if (!slot)
        return ferry__fail(FERRY_E_INVALID, op, &(ferry__subject){.h = h},
                           "bits were never issued by this handle table");
    for (;;) {
        uint64_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
        if (gen > ferry__state_gen(s))
            return ferry__fail(FERRY_E_INVALID, op, &(ferry__subject){.h = h},
                               "bits were never issued by this handle table");
        if (gen < ferry__state_gen(s) || ferry__state_kind(s) == FERRY__FREE)
            return fail_stale(op, h, slot, s);
        /* Optimistic reads, validated below: the fields change only while
         * the slot is free, and a free slot's generation moves first. */
        const ferry_type *type =
            ferry__type_by_id(atomic_load_explicit(&slot->type_id, memory_order_acquire));
        uint32_t owner = atomic_load_explicit(&slot->thread, memory_order_acquire);
        uint64_t again = atomic_load_explicit(&slot->state, memory_order_acquire);
        if ((again & GEN_KIND_MASK) != (s & GEN_KIND_MASK))
            continue;
        *lk = (ferry__lookup){.slot = slot, .state = again, .type = type, .index = index};
        unsigned kind = ferry__state_kind(s);
        if (t && type != t) {
            ferry__subject subj;
            ferry__subject_of(lk, h, &subj);
            return ferry__fail(FERRY_E_TYPE, op, &subj, "expected type %s, handle has type %s",
                               t->name, type ? type->name : "?");
        }
        if (type && ferry__kind_pinned(kind, type->desc.flags) && owner != self->id) {
            ferry__subject subj;
            ferry__subject_of(lk, h, &subj);
            const char *why = kind == FERRY_KIND_LOCAL || kind == FERRY__WEAK_LOCAL
                                  ? "a local handle"
                              : !(type->desc.flags & FERRY_SEND) ? "a !Send object"
                                                                 : "a lent !Sync object";
            return ferry__fail(FERRY_E_THREAD, op, &subj,
                               "%s used on thread %u, but it belongs to thread %u", why, self->id,
                               owner);
        }
        return FERRY_OK;
    }
}

ferry_status ferry__pin(const char *op, ferry_handle h, ferry__thread *self, ferry__lookup *lk)
{
    for (;;) {
        if ((lk->state & FERRY__PIN_MASK) == FERRY__PIN_MASK)
            return ferry__fail(FERRY_E_LIMIT, op, NULL,
                               "4095 clones, downgrades or upgrades of one handle in flight");
        uint64_t want = lk->state + FERRY__PIN_ONE;
        if (atomic_compare_exchange_weak_explicit(&lk->slot->state, &lk->state, want,
                                                  memory_order_acq_rel, memory_order_acquire)) {
            lk->state = want;
            return FERRY_OK;
        }
        if ((lk->state & GEN_KIND_MASK) != (want & GEN_KIND_MASK)) {
            ferry_status s = ferry__resolve(op, h, NULL, self, lk);
            if (s != FERRY_OK)
                return s;
        }
    }
}

void ferry__unpin(ferry__slot *slot)
{
    atomic_fetch_sub_explicit(&slot->state, FERRY__PIN_ONE, memory_order_release);
}

ferry_status ferry__reserve(const char *op, ferry__thread *self, const ferry_type *t, unsigned kind,
                            uint32_t *index)
{
    ferry_status s = ferry__slot_alloc(self, index);
    if (s != FERRY_OK)
        return ferry__fail(s, op, &(ferry__subject){.type = t, .kind = kind},
                           s == FERRY_E_LIMIT ? "the handle table is full"
                                              : "cannot grow the handle table");
    return FERRY_OK;
}

void ferry__unreserve(ferry__thread *self, uint32_t index)
{
    ferry__slot *slot = ferry__slot_at(index);
    ferry__slot_free(self, index,
                     ferry__state_gen(atomic_load_explicit(&slot->state, memory_order_relaxed)));
}

ferry_status ferry__end(const char *op, ferry_handle h, const ferry_type *t, unsigned allowed_kinds,
                        const char *what, const char *site, ferry__thread *self, ferry__lookup *lk,
                        void **obj, ferry__gate **gate)
{
    ferry_status s = ferry__resolve(op, h, t, self, lk);
    while (s == FERRY_OK) {
        unsigned kind = ferry__state_kind(lk->state);
        if (!(allowed_kinds & FERRY__KIND_BIT(kind)))
            return ferry__fail_kind(op, lk, h, what);
        if (ferry__state_busy(lk->state))
            return ferry__fail_borrowed(op, lk, h);
        if (!ferry__ledger_ready(self, lk->type->id))
            return ferry__fail_ledger(op, lk->type);
        if (gate && !*gate && atomic_load_explicit(&lk->type->gate, memory_order_acquire)) {
            /* The release code about to run is a plugin's: hold its gate,
             * then look again (entering may have waited for a close). */
            s = ferry__gate_enter_slow(op, lk->type, false, gate);
            if (s == FERRY_OK)
                s = ferry__resolve(op, h, t, self, lk);
            continue;
        }
        uint32_t gen = ferry__state_gen(lk->state);
        if (atomic_compare_exchange_strong_explicit(&lk->slot->state, &lk->state,
                                                    ferry__state_freed(gen, kind),
                                                    memory_order_acq_rel, memory_order_acquire)) {
            if (ferry__tracing())
                ferry__trace_record(lk->index, FERRY__TRACE_RELEASED);
            atomic_store_explicit(&lk->slot->released_at, site ? site : FERRY__NO_SITE,
                                  memory_order_release);
            *obj = lk->slot->obj;
            ferry__note_use(self, lk->slot, lk->type->id);
            ferry__slot_free(self, lk->index, gen);
            return FERRY_OK;
        }
        s = ferry__resolve(op, h, t, self, lk);
    }
    return s;
}
