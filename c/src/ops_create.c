/*
 * ops_create.c — operations that make a new handle: from an object (box,
 * share, local, lend, lend_mut) or from another handle (clone, downgrade,
 * upgrade).
 */
#include "ops.h"

/* Every case the fast path below leaves: errors, a thread's first call, a
 * cache down to its quarantine, a plugin's type. */
static FERRY_COLD ferry_status create_slow(const char *op, const ferry_type *t, const void *obj,
                                           unsigned kind, ferry_handle *out, const char *site)
{
    if (!t)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null type `t`");
    if (!obj)
        return ferry__fail(FERRY_E_NULL, op, &(ferry__subject){.type = t, .kind = kind},
                           "null object `obj`");
    if (!out)
        return ferry__fail(FERRY_E_NULL, op, &(ferry__subject){.type = t, .kind = kind},
                           "null out-pointer `out`");
    ferry__thread *self = ferry__self();
    if (!self)
        return ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot allocate this thread's state");
    if (!ferry__ledger_ready(self, t->id))
        return ferry__fail_ledger(op, t);
    ferry__gate *gate;
    ferry_status s = ferry__gate_enter(op, t, true, &gate);
    if (s != FERRY_OK)
        return s;
    uint32_t index;
    s = ferry__reserve(op, self, t, kind, &index);
    if (s == FERRY_OK) {
        /* The object is only stored, never written through, for a shared lend. */
        *out = ferry__publish_reserved(self, index, t, kind, (void *)(uintptr_t)obj, site);
        ferry__ledger_count_change(self, t->id, FERRY__C_CREATED);
    }
    ferry__gate_leave(gate);
    return s;
}

/*
 * The common case inline: an attached thread with its ledger rows, a type
 * of no plugin (its gate pointer is NULL for good) and a slot in the
 * thread's cache. No atomic read-modify-write: the slot is this thread's
 * until the final release store of publish makes it live.
 */
static FERRY_INLINE ferry_status create(const char *op, const ferry_type *t, const void *obj,
                                        unsigned kind, ferry_handle *out, const char *site)
{
    ferry__thread *self = ferry__self_tls;
    ferry__ledger_row *row, *all;
    if (FERRY_LIKELY(self && t && obj && out && self->ncache > FERRY__CACHE_QUARANTINE &&
                     (row = ferry__ledger_row_peek(self, t->id)) != NULL &&
                     (all = ferry__ledger_row_peek(self, FERRY__ALL_TYPES)) != NULL &&
                     atomic_load_explicit(&t->gate, memory_order_acquire) == NULL)) {
        uint32_t index = ferry__cache_pop(self);
        *out = ferry__publish(self, ferry__slot_issued(index), index, t, kind,
                              (void *)(uintptr_t)obj, site);
        ferry__ledger_rows_change(row, all, FERRY__C_CREATED);
        return FERRY_OK;
    }
    return create_slow(op, t, obj, kind, out, site);
}

ferry_status ferry_box_at(const ferry_type *t, void *obj, ferry_handle *out, const char *site)
{
    return create("ferry_box", t, obj, FERRY_KIND_UNIQUE, out, site);
}

ferry_status ferry_share_at(const ferry_type *t, void *obj, ferry_handle *out, const char *site)
{
    return create("ferry_share", t, obj, FERRY_KIND_SHARED, out, site);
}

ferry_status ferry_local_at(const ferry_type *t, void *obj, ferry_handle *out, const char *site)
{
    return create("ferry_local", t, obj, FERRY_KIND_LOCAL, out, site);
}

ferry_status ferry_lend_at(const ferry_type *t, const void *obj, ferry_handle *out,
                           const char *site)
{
    return create("ferry_lend", t, obj, FERRY_KIND_LENT, out, site);
}

ferry_status ferry_lend_mut_at(const ferry_type *t, void *obj, ferry_handle *out, const char *site)
{
    return create("ferry_lend_mut", t, obj, FERRY_KIND_LENT_MUT, out, site);
}

ferry_status ferry_box(const ferry_type *t, void *obj, ferry_handle *out)
{
    return create("ferry_box", t, obj, FERRY_KIND_UNIQUE, out, NULL);
}

ferry_status ferry_share(const ferry_type *t, void *obj, ferry_handle *out)
{
    return create("ferry_share", t, obj, FERRY_KIND_SHARED, out, NULL);
}

ferry_status ferry_local(const ferry_type *t, void *obj, ferry_handle *out)
{
    return create("ferry_local", t, obj, FERRY_KIND_LOCAL, out, NULL);
}

ferry_status ferry_lend(const ferry_type *t, const void *obj, ferry_handle *out)
{
    return create("ferry_lend", t, obj, FERRY_KIND_LENT, out, NULL);
}

ferry_status ferry_lend_mut(const ferry_type *t, void *obj, ferry_handle *out)
{
    return create("ferry_lend_mut", t, obj, FERRY_KIND_LENT_MUT, out, NULL);
}

/* The type functions one derive operation calls. */
static void *clone_unit(const ferry_type *t, void *obj)
{
    return t->desc.retain(obj);
}
static void *downgrade_unit(const ferry_type *t, void *obj)
{
    return t->desc.downgrade(obj);
}
static void *upgrade_unit(const ferry_type *t, void *weak)
{
    return t->desc.upgrade(weak);
}

/* What a derive operation needs from the source handle and the type. */
typedef struct derive_rule {
    const char *op;
    unsigned from_kinds;   /* kinds it applies to */
    const char *kind_what; /* "a <kind> handle cannot <kind_what>" */
    void *(*make_unit)(const ferry_type *t, void *obj);
    const char *missing;  /* the message when the type lacks make_unit */
    ferry_status on_null; /* status when make_unit returns NULL */
    unsigned to_kind, to_kind_local;
    int counter; /* ledger counter of the new handle */
} derive_rule;

static bool type_supports(const derive_rule *r, const ferry_type *t)
{
    return r->make_unit == clone_unit ? t->desc.retain != NULL : t->desc.downgrade != NULL;
}

/* The rest of derive, once the plugin gate (if any) is held: the type's
 * code may run. from: the source handle's kind. */
static FERRY_INLINE ferry_status derive_pinned(const derive_rule *r, ferry_handle h,
                                               ferry_handle *out, const char *site,
                                               ferry__thread *self, ferry__lookup *lkp,
                                               unsigned from)
{
    ferry__lookup lk = *lkp;
    ferry_status s = ferry__pin(r->op, h, self, &lk);
    if (s != FERRY_OK)
        return s;

    unsigned to_kind =
        from == FERRY_KIND_LOCAL || from == FERRY__WEAK_LOCAL ? r->to_kind_local : r->to_kind;
    uint32_t index;
    s = ferry__reserve(r->op, self, lk.type, to_kind, &index);
    if (s != FERRY_OK) {
        ferry__unpin(lk.slot);
        return s;
    }
    void *unit = r->make_unit(lk.type, lk.slot->obj);
    if (!unit) {
        ferry__subject subj;
        ferry__subject_of(&lk, h, &subj);
        ferry__unreserve(self, index);
        ferry__unpin(lk.slot);
        return ferry__fail(r->on_null, r->op, &subj,
                           r->on_null == FERRY_E_EXPIRED ? "the object is gone"
                                                         : "the type's function returned NULL");
    }
    *out = ferry__publish_reserved(self, index, lk.type, to_kind, unit, site);
    ferry__note_use(self, lk.slot, lk.type->id);
    ferry__unpin(lk.slot);
    ferry__ledger_count_change(self, lk.type->id, r->counter);
    return FERRY_OK;
}

/*
 * clone, downgrade and upgrade: pin the source so its object outlives the
 * type's function, reserve the new slot, and only then call the function
 * for the new unit, so a full table calls no type function at all.
 */
static ferry_status derive(const derive_rule *r, ferry_handle h, ferry_handle *out,
                           const char *site)
{
    ferry__thread *self = ferry__self();
    ferry__lookup lk;
    ferry_status s = ferry__resolve(r->op, h, NULL, self, &lk);
    if (s != FERRY_OK)
        return s;
    if (!out)
        return ferry__fail(FERRY_E_NULL, r->op, NULL, "null out-pointer `out`");
    unsigned from = ferry__state_kind(lk.state);
    if (!(r->from_kinds & FERRY__KIND_BIT(from)))
        return ferry__fail_kind(r->op, &lk, h, r->kind_what);
    if (!type_supports(r, lk.type))
        return ferry__fail_kind(r->op, &lk, h, r->missing);
    if (!ferry__ledger_ready(self, lk.type->id))
        return ferry__fail_ledger(r->op, lk.type);
    ferry__gate *gate;
    s = ferry__gate_enter(r->op, lk.type, true, &gate);
    if (s != FERRY_OK)
        return s;
    s = derive_pinned(r, h, out, site, self, &lk, from);
    ferry__gate_leave(gate);
    return s;
}

static const derive_rule clone_rule = {
    .op = "ferry_clone",
    .from_kinds = FERRY__KIND_BIT(FERRY_KIND_SHARED) | FERRY__KIND_BIT(FERRY_KIND_LOCAL),
    .kind_what = "be cloned (only shared and local handles can)",
    .make_unit = clone_unit,
    .missing = "be cloned: its type has no retain function",
    .on_null = FERRY_E_NOMEM,
    .to_kind = FERRY_KIND_SHARED,
    .to_kind_local = FERRY_KIND_LOCAL,
    .counter = FERRY__C_CLONED,
};
static const derive_rule downgrade_rule = {
    .op = "ferry_downgrade",
    .from_kinds = FERRY__KIND_BIT(FERRY_KIND_SHARED) | FERRY__KIND_BIT(FERRY_KIND_LOCAL),
    .kind_what = "be downgraded (only shared and local handles can)",
    .make_unit = downgrade_unit,
    .missing = "be downgraded: its type has no downgrade function",
    .on_null = FERRY_E_NOMEM,
    .to_kind = FERRY_KIND_WEAK,
    .to_kind_local = FERRY__WEAK_LOCAL,
    .counter = FERRY__C_CREATED,
};
static const derive_rule upgrade_rule = {
    .op = "ferry_upgrade",
    .from_kinds = FERRY__KIND_BIT(FERRY_KIND_WEAK) | FERRY__KIND_BIT(FERRY__WEAK_LOCAL),
    .kind_what = "be upgraded (only weak handles can)",
    .make_unit = upgrade_unit,
    .missing = "be upgraded: its type has no upgrade function",
    .on_null = FERRY_E_EXPIRED,
    .to_kind = FERRY_KIND_SHARED,
    .to_kind_local = FERRY_KIND_LOCAL,
    .counter = FERRY__C_CREATED,
};

/* A retain that returned NULL in clone's fast path: undo, as derive_pinned. */
static FERRY_COLD ferry_status clone_null(ferry__thread *self, ferry_handle h, ferry__slot *slot,
                                          uint64_t state, const ferry_type *t, uint32_t index)
{
    ferry__lookup lk = {.slot = slot, .state = state, .type = t, .index = ferry__handle_index(h)};
    ferry__subject subj;
    ferry__subject_of(&lk, h, &subj);
    ferry__unreserve(self, index);
    ferry__unpin(slot);
    return ferry__fail(clone_rule.on_null, clone_rule.op, &subj,
                       "the type's function returned NULL");
}

/*
 * clone's common case inline: a live shared handle of a type of no plugin
 * with a retain function, usable on this thread, the ledger rows present and
 * a slot in the thread's cache. The same steps as derive_pinned, in one
 * piece: pin the source with one CAS against the state the checks were made
 * on (which validates the optimistic loads of type_id and thread, as in
 * drop), take a slot, retain, publish, unpin. A lost CAS goes to the full
 * path; a retain that returns NULL is answered here after undoing (the full
 * path would call retain a second time).
 */
static FERRY_INLINE ferry_status clone(ferry_handle h, ferry_handle *out, const char *site)
{
    ferry__thread *self = ferry__self_tls;
    if (FERRY_LIKELY(self && out && ferry__handle_tag(h) == ferry__table_tag &&
                     self->ncache > FERRY__CACHE_QUARANTINE)) {
        ferry__slot *slot = ferry__slot_at(ferry__handle_index(h));
        if (FERRY_LIKELY(slot != NULL)) {
            uint64_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
            uint32_t type_id = atomic_load_explicit(&slot->type_id, memory_order_acquire);
            uint32_t owner = atomic_load_explicit(&slot->thread, memory_order_acquire);
            const ferry_type *t;
            ferry__ledger_row *row, *all;
            if (FERRY_LIKELY(
                    ferry__state_gen(s) == ferry__handle_gen(h) &&
                    ferry__state_kind(s) == FERRY_KIND_SHARED &&
                    (s & FERRY__PIN_MASK) != FERRY__PIN_MASK && ferry__owner_ok(owner, self) &&
                    (t = ferry__type_by_id(type_id)) != NULL && t->desc.retain &&
                    atomic_load_explicit(&t->gate, memory_order_acquire) == NULL &&
                    (row = ferry__ledger_row_peek(self, type_id)) != NULL &&
                    (all = ferry__ledger_row_peek(self, FERRY__ALL_TYPES)) != NULL &&
                    atomic_compare_exchange_strong_explicit(&slot->state, &s, s + FERRY__PIN_ONE,
                                                            memory_order_acq_rel,
                                                            memory_order_relaxed))) {
                uint32_t index = ferry__cache_pop(self);
                void *unit = t->desc.retain(slot->obj);
                if (FERRY_UNLIKELY(!unit))
                    return clone_null(self, h, slot, s + FERRY__PIN_ONE, t, index);
                *out = ferry__publish(self, ferry__slot_issued(index), index, t, FERRY_KIND_SHARED,
                                      unit, site);
                ferry__note_use_row(self, slot, row);
                ferry__unpin(slot);
                ferry__ledger_rows_change(row, all, FERRY__C_CLONED);
                return FERRY_OK;
            }
        }
    }
    return derive(&clone_rule, h, out, site);
}

ferry_status ferry_clone_at(ferry_handle h, ferry_handle *out, const char *site)
{
    return clone(h, out, site);
}
ferry_status ferry_downgrade_at(ferry_handle h, ferry_handle *out, const char *site)
{
    return derive(&downgrade_rule, h, out, site);
}
ferry_status ferry_upgrade_at(ferry_handle weak, ferry_handle *out, const char *site)
{
    return derive(&upgrade_rule, weak, out, site);
}
ferry_status ferry_clone(ferry_handle h, ferry_handle *out)
{
    return clone(h, out, NULL);
}
ferry_status ferry_downgrade(ferry_handle h, ferry_handle *out)
{
    return derive(&downgrade_rule, h, out, NULL);
}
ferry_status ferry_upgrade(ferry_handle weak, ferry_handle *out)
{
    return derive(&upgrade_rule, weak, out, NULL);
}
