/*
 * ops_end.c — operations that end a handle: drop (give the unit up), take
 * (move it out to the caller) and revoke (end a lend).
 */
#include "ops.h"

#define OWNING_KINDS                                                                               \
    (FERRY__KIND_BIT(FERRY_KIND_UNIQUE) | FERRY__KIND_BIT(FERRY_KIND_SHARED) |                     \
     FERRY__KIND_BIT(FERRY_KIND_LOCAL) | FERRY__KIND_BIT(FERRY_KIND_WEAK) |                        \
     FERRY__KIND_BIT(FERRY__WEAK_LOCAL))
#define LENT_KINDS (FERRY__KIND_BIT(FERRY_KIND_LENT) | FERRY__KIND_BIT(FERRY_KIND_LENT_MUT))

static FERRY_COLD ferry_status drop_slow(ferry_handle h, ferry_side by, const char *site)
{
    static const char op[] = "ferry_drop";
    ferry__thread *self = ferry__self();
    ferry__lookup lk;
    void *obj;
    ferry__gate *gate = NULL;
    ferry_status s = ferry__end(op, h, NULL, OWNING_KINDS,
                                "be dropped (a lent handle is ended by its lender's revoke)", site,
                                self, &lk, &obj, &gate);
    if (s != FERRY_OK) {
        ferry__gate_leave(gate);
        return s;
    }
    unsigned kind = ferry__state_kind(lk.state);
    /* The slot is already free and the drop counted (as on the fast path):
     * a release function that re-enters ferry, even to drop this very
     * handle, sees a table and a ledger that agree. */
    ferry__ledger_count_change(self, lk.type->id,
                               by == FERRY_BY_RUST ? FERRY__C_DROPPED_RUST : FERRY__C_DROPPED_C);
    if (kind == FERRY_KIND_WEAK || kind == FERRY__WEAK_LOCAL)
        lk.type->desc.release_weak(obj);
    else
        lk.type->desc.release(obj);
    ferry__gate_leave(gate);
    return FERRY_OK;
}

/*
 * Moves a live, idle slot from state s to freed. A slot pinned to the
 * calling thread (owner is its id) is ended with a plain release store: no
 * other thread writes the state word of a live pinned slot (every writer
 * checks the owner first and leaves with FERRY_E_THREAD), and only its
 * owner can end it, so nothing can change between our load of s and the
 * store; docs/design.md gives the argument. Any other slot needs the CAS,
 * since a borrow on another thread may race with the drop.
 */
static FERRY_INLINE bool end_state(ferry__slot *slot, uint64_t s, uint64_t freed, uint32_t owner,
                                   const ferry__thread *self)
{
    if (owner == self->id) {
        atomic_store_explicit(&slot->state, freed, memory_order_release);
        return true;
    }
    return atomic_compare_exchange_strong_explicit(&slot->state, &s, freed, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

/*
 * The common case inline: a live owning handle, nothing borrowed or pinned,
 * usable on this thread, a type of no plugin, the ledger rows present. The
 * optimistic loads of type_id and thread are validated by the CAS itself:
 * it succeeds only if the state still holds the generation they were read
 * under (generations only grow, so there is no ABA). Anything else, a lost
 * CAS included, goes to the full path, which re-checks from scratch.
 */
static FERRY_INLINE ferry_status drop(ferry_handle h, ferry_side by, const char *site)
{
    ferry__thread *self = ferry__self_tls;
    if (FERRY_LIKELY(self && ferry__handle_tag(h) == ferry__table_tag)) {
        uint32_t index = ferry__handle_index(h);
        ferry__slot *slot = ferry__slot_at(index);
        if (FERRY_LIKELY(slot != NULL)) {
            uint64_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
            unsigned kind = ferry__state_kind(s);
            uint32_t gen = ferry__state_gen(s);
            uint32_t type_id = atomic_load_explicit(&slot->type_id, memory_order_acquire);
            uint32_t owner = atomic_load_explicit(&slot->thread, memory_order_acquire);
            const ferry_type *t;
            ferry__ledger_row *row, *all;
            if (FERRY_LIKELY(gen == ferry__handle_gen(h) &&
                             (OWNING_KINDS & FERRY__KIND_BIT(kind)) && !ferry__state_busy(s) &&
                             ferry__owner_ok(owner, self) &&
                             (t = ferry__type_by_id(type_id)) != NULL &&
                             atomic_load_explicit(&t->gate, memory_order_acquire) == NULL &&
                             (row = ferry__ledger_row_peek(self, type_id)) != NULL &&
                             (all = ferry__ledger_row_peek(self, FERRY__ALL_TYPES)) != NULL &&
                             end_state(slot, s, ferry__state_freed(gen, kind), owner, self))) {
                if (ferry__tracing())
                    ferry__trace_record(index, FERRY__TRACE_RELEASED);
                atomic_store_explicit(&slot->released_at, site ? site : FERRY__NO_SITE,
                                      memory_order_release);
                void *obj = slot->obj;
                ferry__note_use_row(self, slot, row);
                ferry__slot_free(self, index, gen);
                /* Counted before the release runs (nothing needs keeping
                 * across the call then); as below, the slot is already
                 * free, so a release that re-enters ferry sees a table and
                 * a ledger that agree. */
                ferry__ledger_rows_change(
                    row, all, by == FERRY_BY_RUST ? FERRY__C_DROPPED_RUST : FERRY__C_DROPPED_C);
                void (*release)(void *) = kind == FERRY_KIND_WEAK || kind == FERRY__WEAK_LOCAL
                                              ? t->desc.release_weak
                                              : t->desc.release;
                release(obj);
                return FERRY_OK;
            }
        }
    }
    return drop_slow(h, by, site);
}

ferry_status ferry_drop_at(ferry_handle h, ferry_side by, const char *site)
{
    return drop(h, by, site);
}

ferry_status ferry_drop(ferry_handle h)
{
    return drop(h, FERRY_BY_C, NULL);
}

static ferry_status take(ferry_handle h, const ferry_type *t, void **obj, const char *site)
{
    static const char op[] = "ferry_take";
    if (!t)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null type `t`");
    if (!obj)
        return ferry__fail(FERRY_E_NULL, op, NULL, "null out-pointer `obj`");
    ferry__thread *self = ferry__self();
    ferry__lookup lk;
    void *unit;
    ferry_status s = ferry__end(op, h, t, OWNING_KINDS,
                                "be taken (a lent handle is ended by its lender's revoke)", site,
                                self, &lk, &unit, NULL);
    if (s != FERRY_OK)
        return s;
    *obj = unit;
    ferry__ledger_count_change(self, t->id, FERRY__C_TAKEN);
    return FERRY_OK;
}

ferry_status ferry_take_at(ferry_handle h, const ferry_type *t, void **obj, const char *site)
{
    return take(h, t, obj, site);
}

ferry_status ferry_take(ferry_handle h, const ferry_type *t, void **obj)
{
    return take(h, t, obj, NULL);
}

static ferry_status revoke(ferry_handle h, ferry_side by, const char *site)
{
    ferry__thread *self = ferry__self();
    ferry__lookup lk;
    void *obj;
    ferry_status s = ferry__end("ferry_revoke", h, NULL, LENT_KINDS,
                                "be revoked (only lent handles can; drop or take it)", site, self,
                                &lk, &obj, NULL);
    if (s == FERRY_OK) {
        ferry__ledger_count_change(
            self, lk.type->id, by == FERRY_BY_RUST ? FERRY__C_DROPPED_RUST : FERRY__C_DROPPED_C);
        ferry__ledger_count(self, lk.type->id, FERRY__C_REVOKED);
    }
    return s;
}

ferry_status ferry_revoke_at(ferry_handle h, ferry_side by, const char *site)
{
    return revoke(h, by, site);
}

ferry_status ferry_revoke(ferry_handle h)
{
    return revoke(h, FERRY_BY_C, NULL);
}
