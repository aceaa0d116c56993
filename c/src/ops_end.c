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

static ferry_status drop(ferry_handle h, ferry_side by, const char *site)
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
    /* The slot is already free: a release function that re-enters ferry,
     * even to drop this very handle, sees a consistent table. */
    if (kind == FERRY_KIND_WEAK || kind == FERRY__WEAK_LOCAL)
        lk.type->desc.release_weak(obj);
    else
        lk.type->desc.release(obj);
    ferry__gate_leave(gate);
    ferry__ledger_count_change(self, lk.type->id,
                               by == FERRY_BY_RUST ? FERRY__C_DROPPED_RUST : FERRY__C_DROPPED_C);
    return FERRY_OK;
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
