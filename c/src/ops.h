/*
 * ops.h — the steps every handle operation shares: decoding and validating a
 * handle, giving the precise error, publishing a new slot, and counting.
 */
#ifndef FERRY_OPS_H
#define FERRY_OPS_H

#include "internal.h"

/* A validated view of a live handle's slot. */
typedef struct ferry__lookup {
    ferry__slot *slot;
    uint64_t state; /* snapshot; CAS against it to act on this generation */
    const ferry_type *type;
    uint32_t index;
} ferry__lookup;

/*
 * Decodes h and checks it names a live slot of type t (NULL: any type) that
 * the calling thread may use. Fails with FERRY_E_NULL, _INVALID, _STALE,
 * _TYPE, _THREAD or _NOMEM (no thread state), recording the message for op.
 * The snapshot is consistent: the fields were read while the slot held this
 * generation, so a CAS on lk->state acts on exactly what was checked.
 */
ferry_status ferry__resolve_slow(const char *op, ferry_handle h, const ferry_type *t,
                                 ferry__thread *self, ferry__lookup *lk);

/* The common case inline — a live handle, the right type and thread — and
 * everything else (including every error) in ferry__resolve_slow. The
 * re-load of the state validates the optimistic field reads (same cache
 * line, so it costs about nothing). */
static inline ferry_status ferry__resolve(const char *op, ferry_handle h, const ferry_type *t,
                                          ferry__thread *self, ferry__lookup *lk)
{
    if (FERRY_LIKELY(self != NULL && ferry__handle_tag(h) == ferry__table_tag)) {
        uint32_t index = ferry__handle_index(h);
        ferry__slot *slot = ferry__slot_at(index);
        if (FERRY_LIKELY(slot != NULL)) {
            uint64_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
            unsigned kind = ferry__state_kind(s);
            if (FERRY_LIKELY(ferry__state_gen(s) == ferry__handle_gen(h) && kind != FERRY__FREE)) {
                const ferry_type *type =
                    ferry__type_by_id(atomic_load_explicit(&slot->type_id, memory_order_acquire));
                uint32_t owner = atomic_load_explicit(&slot->thread, memory_order_acquire);
                uint64_t again = atomic_load_explicit(&slot->state, memory_order_acquire);
                if (FERRY_LIKELY(
                        ((again ^ s) >> FERRY__KIND_SHIFT) == 0 && type && (!t || t == type) &&
                        (owner == self->id || !ferry__kind_pinned(kind, type->desc.flags)))) {
                    *lk =
                        (ferry__lookup){.slot = slot, .state = again, .type = type, .index = index};
                    return FERRY_OK;
                }
            }
        }
    }
    return ferry__resolve_slow(op, h, t, self, lk);
}

/* Fills a message subject from a lookup. */
void ferry__subject_of(const ferry__lookup *lk, ferry_handle h, ferry__subject *subj);

/* Fails op with FERRY_E_KIND: "a <kind> handle cannot <what>". */
ferry_status ferry__fail_kind(const char *op, const ferry__lookup *lk, ferry_handle h,
                              const char *what);

/* Fails op with FERRY_E_NOMEM: the ledger cannot get a row to count it. */
ferry_status ferry__fail_ledger(const char *op, const ferry_type *t);

/* Fails op with FERRY_E_BORROWED describing lk's outstanding borrows. */
ferry_status ferry__fail_borrowed(const char *op, const ferry__lookup *lk, ferry_handle h);

/*
 * Making a handle is two steps, so that clone/downgrade/upgrade can be sure
 * of a slot before they call the type's function: reserve a free slot (it is
 * the caller's until published or unreserved), then publish it live with one
 * unit of obj. A stale handle's message can read the slot's old contents
 * until the publish.
 * ferry__reserve fails with FERRY_E_NOMEM or FERRY_E_LIMIT, recording op.
 */
ferry_status ferry__reserve(const char *op, ferry__thread *self, const ferry_type *t, unsigned kind,
                            uint32_t *index);
void ferry__unreserve(ferry__thread *self, uint32_t index);

/* Publishes the reserved slot (its address at hand) live with one unit of
 * obj; returns the new handle. Inline: it is most of a create. */
static FERRY_INLINE ferry_handle ferry__publish(ferry__thread *self, ferry__slot *slot,
                                                uint32_t index, const ferry_type *t, unsigned kind,
                                                void *obj, const char *site)
{
    uint32_t gen = ferry__state_gen(atomic_load_explicit(&slot->state, memory_order_relaxed)) + 1;
    /* Move the generation first, so a reader of an old handle that sees any
     * of the new fields also sees that the slot was reused. */
    atomic_store_explicit(&slot->state, ferry__state_make(gen, FERRY__FREE), memory_order_relaxed);
    slot->obj = obj;
    atomic_store_explicit(&slot->type_id, t->id, memory_order_release);
    atomic_store_explicit(&slot->thread, ferry__slot_thread(kind, t->desc.flags, self->id),
                          memory_order_release);
    atomic_store_explicit(&slot->last_thread, self->id, memory_order_relaxed);
    atomic_store_explicit(&slot->created_at, site ? site : FERRY__NO_SITE, memory_order_release);
    atomic_store_explicit(&slot->released_at, NULL, memory_order_release);
    atomic_store_explicit(&slot->state, ferry__state_make(gen, kind), memory_order_release);
    if (ferry__tracing())
        ferry__trace_record(index, FERRY__TRACE_CREATED);
    return ferry__handle_make(ferry__table_tag, gen, index);
}

static inline ferry_handle ferry__publish_reserved(ferry__thread *self, uint32_t index,
                                                   const ferry_type *t, unsigned kind, void *obj,
                                                   const char *site)
{
    return ferry__publish(self, ferry__slot_issued(index), index, t, kind, obj, site);
}

/*
 * Whether the calling thread may use a live slot whose `thread` field holds
 * owner. Publish stores a pinned slot's owning thread id there (never 0 nor
 * FERRY__NEEDS_CLAIM) and 0 or FERRY__NEEDS_CLAIM in every other slot, so
 * this is resolve's thread rule without looking at the type's flags.
 */
static inline bool ferry__owner_ok(uint32_t owner, const ferry__thread *self)
{
    return owner == 0 || owner == FERRY__NEEDS_CLAIM || owner == self->id;
}

/* Counts a use of the slot by self: a handoff if another thread used it last. */
static inline void ferry__note_use(ferry__thread *self, ferry__slot *slot, uint32_t type_id)
{
    if (atomic_load_explicit(&slot->last_thread, memory_order_relaxed) != self->id) {
        atomic_store_explicit(&slot->last_thread, self->id, memory_order_relaxed);
        ferry__ledger_count(self, type_id, FERRY__C_HANDOFFS);
    }
}

/* ferry__note_use with the type's row at hand. */
static inline void ferry__note_use_row(ferry__thread *self, ferry__slot *slot,
                                       ferry__ledger_row *row)
{
    if (FERRY_UNLIKELY(atomic_load_explicit(&slot->last_thread, memory_order_relaxed) !=
                       self->id)) {
        atomic_store_explicit(&slot->last_thread, self->id, memory_order_relaxed);
        ferry__count_add(row, FERRY__C_HANDOFFS, 1);
    }
}

/* Pins lk's slot (see internal.h) so its object stays alive without a
 * caller-visible borrow; FERRY_E_BORROWED-free, may fail with _LIMIT or any
 * resolve status when the handle changes under us. */
ferry_status ferry__pin(const char *op, ferry_handle h, ferry__thread *self, ferry__lookup *lk);
void ferry__unpin(ferry__slot *slot);

/* Whether a state word has any borrow or pin outstanding. */
static inline bool ferry__state_busy(uint64_t s)
{
    return (s & (FERRY__BORROW_MASK | FERRY__PIN_MASK | FERRY__EXCL)) != 0;
}

/*
 * Ends a live handle: frees its slot if nothing borrows it and its kind is
 * one of allowed_kinds (a bit mask of 1u << kind). On success *obj is the
 * unit, h is stale and its slot is back on the free list; the caller
 * disposes of the unit and counts the end. With a gate (callers that run
 * the type's release code), *gate is the plugin gate entered first — NULL
 * for types of no plugin — which the caller leaves, on failure too.
 */
ferry_status ferry__end(const char *op, ferry_handle h, const ferry_type *t, unsigned allowed_kinds,
                        const char *what, const char *site, ferry__thread *self, ferry__lookup *lk,
                        void **obj, ferry__gate **gate);

#define FERRY__KIND_BIT(k) (1u << (k))

#endif /* FERRY_OPS_H */
