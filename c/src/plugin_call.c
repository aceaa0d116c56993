/*
 * plugin_call.c — calling a plugin's function by name with tagged values:
 * every argument is checked against the signature before anything changes,
 * then owned handles move to fresh handles for the callee, borrowed ones
 * are pinned for the call, and libffi makes the call.
 */
#include "plugin_host.h"

#include "alloc.h"

#include "ops.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

static const char call_op[] = "ferry_plugin_call";

/* ---- libffi types -------------------------------------------------------- */

/* A handle is a struct of one uint64_t, passed by value. */
static ffi_type *handle_elements[] = {&ffi_type_uint64, NULL};
static ffi_type ffi_type_handle = {0, 0, FFI_TYPE_STRUCT, handle_elements};
static pthread_once_t handle_type_once = PTHREAD_ONCE_INIT;

/* ffi_prep_cif fills in a struct type's size on first use; do it once,
 * before any call can read it. */
static void init_handle_type(void)
{
    ffi_cif cif;
    ffi_type *args[] = {&ffi_type_handle};
    ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, &ffi_type_void, args);
}

static ffi_type *ffi_type_of(ferry_value_kind k)
{
    switch (k) {
    case FERRY_VALUE_I8:
        return &ffi_type_sint8;
    case FERRY_VALUE_I16:
        return &ffi_type_sint16;
    case FERRY_VALUE_I32:
        return &ffi_type_sint32;
    case FERRY_VALUE_I64:
        return &ffi_type_sint64;
    case FERRY_VALUE_U8:
    case FERRY_VALUE_BOOL:
        return &ffi_type_uint8;
    case FERRY_VALUE_U16:
        return &ffi_type_uint16;
    case FERRY_VALUE_U32:
        return &ffi_type_uint32;
    case FERRY_VALUE_U64:
        return &ffi_type_uint64;
    case FERRY_VALUE_F32:
        return &ffi_type_float;
    case FERRY_VALUE_F64:
        return &ffi_type_double;
    case FERRY_VALUE_STR:
        return &ffi_type_pointer;
    case FERRY_VALUE_OWNED:
    case FERRY_VALUE_BORROWED:
        return &ffi_type_handle;
    case FERRY_VALUE_VOID:
        break;
    }
    return &ffi_type_void;
}

/* ---- Preparing a plugin's functions at open ------------------------------ */

static bool identifier(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return n <= FERRY_PLUGIN_MAX_NAME;
}

static bool copy_param(const ferry_param *from, ferry__param *to)
{
    to->kind = from->kind;
    to->exclusive = from->exclusive;
    to->type_name = NULL;
    to->op = NULL;
    atomic_init(&to->type, NULL);
    return !from->type_name[0] ||
           (to->type_name = ferry__strdup(from->type_name, "plugin parameter type")) != NULL;
}

/* The op string of handle argument i (see ferry__param.op). */
static bool name_handle_arg(const ferry_plugin *p, const ferry_plugin_function *e, uint32_t i,
                            ferry__param *prm)
{
    const char *form = prm->kind == FERRY_VALUE_OWNED ? "own" : prm->exclusive ? "mut" : "ref";
    const char *name = p->desc->name;
    size_t len = strlen(name) + strlen(e->name) + strlen(prm->type_name) + 64;
    prm->op = ferry__malloc(len, "plugin argument op");
    if (prm->op)
        snprintf(prm->op, len, "ferry_plugin_call: %s.%s argument %u (%s<%s>)", name, e->name,
                 i + 1, form, prm->type_name);
    return prm->op != NULL;
}

static ferry_status prepare(const char *op, const ferry_plugin *p, const ferry_plugin_function *e,
                            ferry__function *f)
{
    f->entry = e;
    ferry_signature sig;
    if (ferry_signature_parse(e->signature, &sig) != FERRY_OK) {
        /* Keep the parser's account of what is wrong, with whose it is. */
        char why[512];
        snprintf(why, sizeof why, "%s", ferry__last_message_line());
        return ferry__fail(FERRY_E_SIGNATURE, op, NULL, "plugin \"%s\" function %s: %s", p->path,
                           e->name, why);
    }
    f->nargs = sig.nargs;
    bool ok = copy_param(&sig.result, &f->result);
    for (uint32_t i = 0; i < sig.nargs; i++) {
        ok = copy_param(&sig.args[i], &f->args[i]) && ok;
        if (ok && f->args[i].type_name)
            ok = name_handle_arg(p, e, i, &f->args[i]);
        f->ffi_args[i] = ffi_type_of(sig.args[i].kind);
    }
    unsigned nffi = sig.nargs;
    if (sig.result.kind != FERRY_VALUE_VOID)
        f->ffi_args[nffi++] = &ffi_type_pointer;
    /* Names are checked (at most 255 bytes each) before functions are
     * prepared, so the sites fit. Kept strings: a reopen finds the same. */
    const char *name = p->desc->name;
    char site[2 * FERRY_PLUGIN_MAX_NAME + 64];
    snprintf(site, sizeof site, "ferry_plugin_call (moved into %s.%s)", name, e->name);
    f->moved_site = ferry__plugin_keep(site, "plugin moved site");
    snprintf(site, sizeof site, "ferry_plugin_call (refused result of %s.%s)", name, e->name);
    f->refused_site = ferry__plugin_keep(site, "plugin refused site");
    if (ok && f->result.type_name) {
        size_t len = strlen(name) + strlen(e->name) + strlen(f->result.type_name) + 64;
        f->result.op = ferry__malloc(len, "plugin result op");
        if (f->result.op)
            snprintf(f->result.op, len, "ferry_plugin_call: %s.%s result (own<%s>)", name, e->name,
                     f->result.type_name);
        ok = f->result.op != NULL;
    }
    if (!ok || !f->moved_site || !f->refused_site)
        return ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot allocate function %s", e->name);
    if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, nffi, &ffi_type_sint32, f->ffi_args) != FFI_OK)
        return ferry__fail(FERRY_E_SIGNATURE, op, NULL,
                           "plugin \"%s\" function %s: libffi cannot prepare the call", p->path,
                           e->name);
    return FERRY_OK;
}

ferry_status ferry__plugin_prepare_functions(const char *op, ferry_plugin *p)
{
    pthread_once(&handle_type_once, init_handle_type);
    const ferry_plugin_function *fns = p->desc->functions;
    p->functions =
        ferry__calloc(p->nfunctions ? p->nfunctions : 1, sizeof *p->functions, "plugin functions");
    if (!p->functions)
        return ferry__fail(FERRY_E_NOMEM, op, NULL, "cannot allocate plugin functions");
    for (uint32_t i = 0; i < p->nfunctions; i++) {
        const ferry_plugin_function *e = &fns[i];
        if (!identifier(e->name))
            return ferry__fail(FERRY_E_SIGNATURE, op, NULL,
                               "plugin \"%s\" function %u: name \"%s\" is not an identifier",
                               p->path, i, e->name ? e->name : "(null)");
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(fns[j].name, e->name) == 0)
                return ferry__fail(FERRY_E_SIGNATURE, op, NULL,
                                   "plugin \"%s\" has two functions named %s", p->path, e->name);
        if (!e->signature || !e->entry)
            return ferry__fail(FERRY_E_SIGNATURE, op, NULL, "plugin \"%s\" function %s has no %s",
                               p->path, e->name, e->signature ? "entry point" : "signature");
        ferry_status s = prepare(op, p, e, &p->functions[i]);
        if (s != FERRY_OK)
            return s;
    }
    return FERRY_OK;
}

/* ---- Checking arguments -------------------------------------------------- */

/* Whether s is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static bool utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s++;
        if (c < 0x80)
            continue;
        unsigned n, min;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0)
            n = 1, min = 0x80, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            n = 2, min = 0x800, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            n = 3, min = 0x10000, cp = c & 0x07;
        else
            return false;
        for (unsigned i = 0; i < n; i++, s++) {
            if ((*s & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (*s & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
    }
    return true;
}

/* The type a handle parameter names, looked up (again) when needed. */
static const ferry_type *param_type(ferry__param *prm)
{
    const ferry_type *t = atomic_load_explicit(&prm->type, memory_order_acquire);
    if (FERRY_LIKELY(t && !atomic_load_explicit(&t->retired, memory_order_acquire)))
        return t;
    t = ferry_type_find(prm->type_name);
    if (t)
        atomic_store_explicit(&prm->type, t, memory_order_release);
    return t;
}

#define OWNABLE                                                                                    \
    (FERRY__KIND_BIT(FERRY_KIND_UNIQUE) | FERRY__KIND_BIT(FERRY_KIND_SHARED) |                     \
     FERRY__KIND_BIT(FERRY_KIND_LOCAL))
#define SHAREABLE                                                                                  \
    (OWNABLE | FERRY__KIND_BIT(FERRY_KIND_LENT) | FERRY__KIND_BIT(FERRY_KIND_LENT_MUT))
#define EXCLUSIVE (FERRY__KIND_BIT(FERRY_KIND_UNIQUE) | FERRY__KIND_BIT(FERRY_KIND_LENT_MUT))

/* An own<T> argument between hold and move: its handle is locked (an
 * exclusive flag no borrower can get past, and a pin no drop can), a slot
 * is reserved for the callee's new handle, and T's gate is held. */
typedef struct held_owned {
    uint32_t arg;
    uint32_t slot_index;
    ferry__gate *gate;
    ferry__lookup lk; /* lk.state: the locked state word */
} held_owned;

typedef struct call {
    const ferry_plugin *p;
    ferry__function *f;
    ferry__thread *self;
    const ferry_type *types[FERRY_PLUGIN_MAX_ARGS];
    ferry__lookup pinned[FERRY_PLUGIN_MAX_ARGS]; /* borrowed args, once pinned */
    uint32_t npinned;
    held_owned owned[FERRY_PLUGIN_MAX_ARGS];
    uint32_t nowned;
    ferry_value vals[FERRY_PLUGIN_MAX_ARGS]; /* what the callee receives */
} call;

static ferry_status fail_arg(const call *c, uint32_t i, ferry_status s, const char *why)
{
    return ferry__fail(s, call_op, NULL, "%s.%s argument %u (%s): %s", ferry__plugin_name(c->p),
                       c->f->entry->name, i + 1, c->f->entry->signature, why);
}

/* Checks handle argument i; changes nothing. */
static ferry_status check_handle(call *c, uint32_t i, ferry_handle h)
{
    ferry__param *prm = &c->f->args[i];
    const ferry_type *t = param_type(prm);
    if (!t) {
        char why[FERRY_PLUGIN_MAX_NAME + 64];
        snprintf(why, sizeof why, "no type named %s is registered", prm->type_name);
        return fail_arg(c, i, FERRY_E_TYPE, why);
    }
    c->types[i] = t;
    ferry__lookup lk;
    ferry_status s = ferry__resolve(prm->op, h, t, c->self, &lk);
    if (s != FERRY_OK)
        return s;
    unsigned kind = ferry__state_kind(lk.state);
    unsigned allowed = prm->kind == FERRY_VALUE_OWNED ? OWNABLE
                       : prm->exclusive               ? EXCLUSIVE
                                                      : SHAREABLE;
    if (!(allowed & FERRY__KIND_BIT(kind)))
        return ferry__fail_kind(prm->op, &lk, h,
                                prm->kind == FERRY_VALUE_OWNED
                                    ? "be given to an own<T> parameter (only unique, shared and "
                                      "local handles can)"
                                : prm->exclusive ? "be passed to a mut<T> parameter (only unique "
                                                   "and lent mut handles can)"
                                                 : "be passed to a ref<T> parameter (upgrade a "
                                                   "weak handle first)");
    bool conflict = prm->kind == FERRY_VALUE_OWNED ? ferry__state_busy(lk.state)
                    : prm->exclusive ? (lk.state & (FERRY__EXCL | FERRY__BORROW_MASK)) != 0
                                     : (lk.state & FERRY__EXCL) != 0;
    if (conflict)
        return ferry__fail_borrowed(prm->op, &lk, h);
    return FERRY_OK;
}

static ferry_status check_args(call *c, const ferry_value *args, size_t nargs)
{
    ferry__function *f = c->f;
    if (nargs != f->nargs) {
        char why[64];
        snprintf(why, sizeof why, "%zu argument%s given, %u expected", nargs, nargs == 1 ? "" : "s",
                 f->nargs);
        return ferry__fail(FERRY_E_SIGNATURE, call_op, NULL, "%s.%s%s: %s",
                           ferry__plugin_name(c->p), f->entry->name, f->entry->signature, why);
    }
    for (uint32_t i = 0; i < nargs; i++) {
        const ferry_value *v = &args[i];
        if (v->kind != f->args[i].kind) {
            char why[96];
            snprintf(why, sizeof why, "a %s value was given", ferry_value_kind_name(v->kind));
            return fail_arg(c, i, FERRY_E_SIGNATURE, why);
        }
        if (v->kind == FERRY_VALUE_STR) {
            if (!v->as.str)
                return fail_arg(c, i, FERRY_E_NULL, "null string");
            if (!utf8_valid((const unsigned char *)v->as.str))
                return fail_arg(c, i, FERRY_E_SIGNATURE, "the string is not UTF-8");
        } else if (v->kind == FERRY_VALUE_OWNED || v->kind == FERRY_VALUE_BORROWED) {
            ferry_status s = check_handle(c, i, v->as.handle);
            if (s != FERRY_OK)
                return s;
            for (uint32_t j = 0; j < i; j++)
                if ((v->kind == FERRY_VALUE_OWNED || args[j].kind == FERRY_VALUE_OWNED) &&
                    args[j].kind >= FERRY_VALUE_OWNED &&
                    args[j].as.handle.bits == v->as.handle.bits)
                    return fail_arg(c, i, FERRY_E_BORROWED,
                                    "the handle is given away and also passed as another argument");
        }
        c->vals[i] = *v;
        if (v->kind == FERRY_VALUE_BOOL) /* the callee may rely on 0 or 1 */
            c->vals[i].as.b = v->as.u8 != 0;
    }
    return FERRY_OK;
}

/* ---- Committing ---------------------------------------------------------- */

#define LOCK (FERRY__EXCL | FERRY__PIN_ONE)

static void unlock(held_owned *o)
{
    atomic_fetch_sub_explicit(&o->lk.slot->state, FERRY__PIN_ONE, memory_order_release);
    atomic_fetch_and_explicit(&o->lk.slot->state, ~FERRY__EXCL, memory_order_release);
}

static void undo(call *c)
{
    while (c->npinned)
        ferry__unpin(c->pinned[--c->npinned].slot);
    while (c->nowned) {
        held_owned *o = &c->owned[--c->nowned];
        if (o->lk.slot)
            unlock(o);
        ferry__gate_leave(o->gate);
        ferry__unreserve(c->self, o->slot_index);
    }
}

/* Locks owned argument o->arg's handle: no borrow may be outstanding, and
 * none can start until the move. */
static ferry_status lock_owned(call *c, held_owned *o)
{
    ferry_handle h = c->vals[o->arg].as.handle;
    const char *op = c->f->args[o->arg].op;
    ferry__lookup *lk = &o->lk;
    ferry_status s = ferry__resolve(op, h, c->types[o->arg], c->self, lk);
    while (s == FERRY_OK) {
        if (!(OWNABLE & FERRY__KIND_BIT(ferry__state_kind(lk->state))))
            return ferry__fail_kind(op, lk, h,
                                    "be given to an own<T> parameter (only unique, shared and "
                                    "local handles can)");
        if (ferry__state_busy(lk->state))
            return ferry__fail_borrowed(op, lk, h);
        uint64_t want = lk->state | LOCK;
        if (atomic_compare_exchange_strong_explicit(&lk->slot->state, &lk->state, want,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            lk->state = want;
            return FERRY_OK;
        }
        s = ferry__resolve(op, h, c->types[o->arg], c->self, lk);
    }
    return s;
}

/* Pins borrowed args and locks owned ones (each with a reserved slot and
 * its type's gate): may fail, and then leaves everything as it was. */
static ferry_status hold(call *c)
{
    for (uint32_t i = 0; i < c->f->nargs; i++) {
        ferry_value_kind k = c->f->args[i].kind;
        const char *op = c->f->args[i].op;
        ferry_status s = FERRY_OK;
        if (k == FERRY_VALUE_BORROWED) {
            ferry__lookup *lk = &c->pinned[c->npinned];
            s = ferry__resolve(op, c->vals[i].as.handle, c->types[i], c->self, lk);
            if (s == FERRY_OK)
                s = ferry__pin(op, c->vals[i].as.handle, c->self, lk);
            if (s == FERRY_OK)
                c->npinned++;
        } else if (k == FERRY_VALUE_OWNED) {
            held_owned *o = &c->owned[c->nowned];
            memset(o, 0, sizeof *o);
            o->arg = i;
            s = ferry__reserve(op, c->self, c->types[i], FERRY_KIND_UNIQUE, &o->slot_index);
            if (s == FERRY_OK) {
                s = ferry__gate_enter(op, c->types[i], true, &o->gate);
                if (s != FERRY_OK)
                    ferry__unreserve(c->self, o->slot_index);
            }
            if (s == FERRY_OK) {
                c->nowned++;
                s = lock_owned(c, o);
                if (s != FERRY_OK)
                    o->lk.slot = NULL;
            }
        }
        if (s != FERRY_OK) {
            undo(c);
            return s;
        }
    }
    return FERRY_OK;
}

/*
 * Moves every owned argument's unit into its reserved slot: the caller's
 * handle goes stale, the callee gets the new one. Cannot fail: a locked
 * handle can be neither ended nor borrowed, so the only change to wait out
 * is a pin of a concurrent clone (released in a moment), or a borrow that
 * a stray ferry_unborrow of the lock let in. No ledger change: one handle
 * ends where another begins.
 */
static void move_all(call *c)
{
    for (uint32_t k = 0; k < c->nowned; k++) {
        held_owned *o = &c->owned[k];
        ferry__slot *slot = o->lk.slot;
        uint32_t gen = ferry__state_gen(o->lk.state);
        unsigned kind = ferry__state_kind(o->lk.state);
        uint64_t st = atomic_load_explicit(&slot->state, memory_order_acquire);
        for (;;) {
            bool quiet = ferry__state_borrows(st) == 0 && (st & FERRY__PIN_MASK) == FERRY__PIN_ONE;
            if (quiet && atomic_compare_exchange_weak_explicit(
                             &slot->state, &st, ferry__state_freed(gen, kind), memory_order_acq_rel,
                             memory_order_acquire))
                break;
            if (!quiet) {
                sched_yield();
                st = atomic_load_explicit(&slot->state, memory_order_acquire);
            }
        }
        const char *created = atomic_load_explicit(&slot->created_at, memory_order_relaxed);
        if (ferry__tracing())
            ferry__trace_record(o->lk.index, FERRY__TRACE_RELEASED);
        atomic_store_explicit(&slot->released_at, c->f->moved_site, memory_order_release);
        void *obj = slot->obj;
        ferry__note_use(c->self, slot, c->types[o->arg]->id);
        ferry__slot_free(c->self, o->lk.index, gen);
        c->vals[o->arg].as.handle =
            ferry__publish_reserved(c->self, o->slot_index, c->types[o->arg], kind, obj, created);
        ferry__gate_leave(o->gate);
    }
    c->nowned = 0;
}

/* ---- The call ------------------------------------------------------------ */

/* Refuses a result after the call: records the message; the caller keeps
 * nothing of it. */
static ferry_status bad_result(const call *c, const char *why)
{
    return ferry__fail(FERRY_E_SIGNATURE, call_op, NULL, "%s.%s%s returned %s",
                       ferry__plugin_name(c->p), c->f->entry->name, c->f->entry->signature, why);
}

/*
 * An own<T> result must be a new unit the caller can own: a live handle of
 * T, of an owning kind, and not one of the handles the caller only lent.
 * A refused result the callee did give away (an owning handle of another
 * type, a weak one) is dropped; one it does not own is left alone.
 */
static ferry_status check_handle_result(call *c, ferry_handle h)
{
    ferry__function *f = c->f;
    for (uint32_t i = 0; i < f->nargs; i++)
        if (f->args[i].kind == FERRY_VALUE_BORROWED && c->vals[i].as.handle.bits == h.bits)
            return bad_result(c, "a handle it was only lent");
    const ferry_type *t = param_type(&f->result);
    ferry__lookup lk;
    if (ferry__resolve(f->result.op, h, NULL, c->self, &lk) != FERRY_OK) {
        char why[600];
        snprintf(why, sizeof why, "no live handle (%s)", ferry__last_message_line());
        return bad_result(c, why);
    }
    unsigned kind = ferry__state_kind(lk.state);
    bool owning = kind != FERRY_KIND_LENT && kind != FERRY_KIND_LENT_MUT;
    if ((OWNABLE & FERRY__KIND_BIT(kind)) && lk.type == t)
        return FERRY_OK;
    char why[600];
    snprintf(why, sizeof why, "a %s handle of type %s", ferry__kind_name(kind), lk.type->name);
    if (owning)
        ferry_drop_at(h, FERRY_BY_C, f->refused_site);
    return bad_result(c, why);
}

/* Checks a result the callee wrote: values C may not hold are refused. */
static ferry_status check_result(call *c, const ferry_value *res)
{
    switch (res->kind) {
    case FERRY_VALUE_BOOL:
        return res->as.u8 <= 1 ? FERRY_OK : bad_result(c, "a bool that is neither 0 nor 1");
    case FERRY_VALUE_STR:
        if (!res->as.str)
            return bad_result(c, "a null string");
        return utf8_valid((const unsigned char *)res->as.str)
                   ? FERRY_OK
                   : bad_result(c, "a string that is not UTF-8");
    case FERRY_VALUE_OWNED:
        return check_handle_result(c, res->as.handle);
    default:
        return FERRY_OK;
    }
}

static ferry_status invoke(call *c, ferry_value *ret)
{
    ferry__function *f = c->f;
    void *avalues[FERRY_PLUGIN_MAX_ARGS + 1];
    for (uint32_t i = 0; i < f->nargs; i++)
        avalues[i] = &c->vals[i].as;
    ferry_value res;
    memset(&res, 0, sizeof res);
    void *out = &res.as;
    if (f->result.kind != FERRY_VALUE_VOID)
        avalues[f->nargs] = &out;
    ffi_arg rc = 0;
    ffi_call(&f->cif, f->entry->entry, &rc, avalues);
    ferry_status s = (ferry_status)(int32_t)rc;
    while (c->npinned)
        ferry__unpin(c->pinned[--c->npinned].slot);
    if (s != FERRY_OK)
        return s;
    res.kind = f->result.kind;
    s = check_result(c, &res);
    if (s == FERRY_OK && ret)
        *ret = res;
    return s;
}

ferry_status ferry_plugin_call(ferry_plugin *p, const char *name, const ferry_value *args,
                               size_t nargs, ferry_value *ret)
{
    if (!p)
        return ferry__fail(FERRY_E_NULL, call_op, NULL, "null plugin `p`");
    if (!name)
        return ferry__fail(FERRY_E_NULL, call_op, NULL, "null function `name`");
    if (!args && nargs)
        return ferry__fail(FERRY_E_NULL, call_op, NULL, "null `args` with nargs %zu", nargs);
    ferry_status s = ferry__plugin_enter(call_op, p);
    if (s != FERRY_OK)
        return s;
    call c;
    c.p = p;
    c.npinned = c.nowned = 0;
    c.f = ferry__plugin_function(p, name);
    c.self = ferry__self();
    if (!c.f)
        s = ferry__fail(FERRY_E_SIGNATURE, call_op, NULL, "plugin \"%s\" has no function %s",
                        ferry__plugin_name(p), name);
    else if (!c.self)
        s = ferry__fail(FERRY_E_NOMEM, call_op, NULL, "cannot allocate this thread's state");
    else if (c.f->result.kind != FERRY_VALUE_VOID && !ret)
        s = ferry__fail(FERRY_E_NULL, call_op, NULL, "null `ret` for %s.%s, which returns %s",
                        ferry__plugin_name(p), name, ferry_value_kind_name(c.f->result.kind));
    if (s == FERRY_OK)
        s = check_args(&c, args, nargs);
    if (s == FERRY_OK)
        s = hold(&c);
    if (s == FERRY_OK) {
        move_all(&c);
        s = invoke(&c, ret);
    }
    ferry__gate_leave(&p->gate);
    return s;
}
