/*
 * fuzz_model.c — model-based fuzzing of libferry's core API.
 *
 * The input is a program: each operation is one opcode byte followed by the
 * bytes its arguments need (fuzz_model.h documents the encoding, and
 * gen_seeds.py writes the seed corpus with it). Every core function is
 * driven — type_register, box, share, local, lend, lend_mut, revoke, clone,
 * downgrade, upgrade, drop, take, borrow, borrow_mut, unborrow, check,
 * kind_of, ledger, live, report_leaks — with handles picked from live ones,
 * dead ones, forged bits (random, a record's bits +-1, another tag, another
 * generation), the null handle, wrong and NULL types and NULL out-pointers.
 *
 * A plain reference model (per handle: alive, type, kind, object, borrows,
 * exclusive flag, owning and last thread; per object: strong and weak units,
 * destroyed; per type: the ledger deltas) predicts each call. For a call
 * with several misuses at once the contract does not say which is reported,
 * so the model predicts the set of statuses that apply and the call must
 * return one of them (and OK exactly when the set is empty). Every failure
 * must leave everything unchanged (out-pointers included) and leave a
 * message naming the status. After every operation the objects' unit counts
 * and the ledger of every type are compared with the model; at the end of
 * the input every handle is ended, every object must have been destroyed
 * exactly once, and ferry_live() must be back to zero.
 *
 * Bit 7 of an opcode runs the operation on a second thread (a persistent
 * worker the main thread waits for, so runs stay deterministic): the thread
 * rules (!Send types, local handles, lent !Sync objects, the claims of
 * !Sync shared borrows) and the ledger's handoffs are predicted too.
 *
 * Any difference aborts with a message naming the operation. Built as a
 * libFuzzer target (clang -fsanitize=fuzzer,address,undefined) and as a
 * plain replay program (fuzz_replay.c) that the normal suite runs over the
 * committed corpus and regressions.
 */
#include <ferry.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_model.h"

/* ---- failing ------------------------------------------------------------ */

static int op_no;           /* index of the operation being run */
static const char *op_name; /* its name */

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\nfuzz_model: MODEL MISMATCH at operation #%d (%s): ", op_no,
            op_name ? op_name : "teardown");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  last error: %s\n", ferry_last_error());
    abort();
}

/* ---- objects and their type functions ----------------------------------- */

#define OBJ_LIVE 0x4F424A4Cu
#define OBJ_DEAD 0xDEADDEADu
#define NTYPES 4 /* the types handles are made of */

typedef struct fz_obj {
    uint32_t magic;
    int type;      /* index into types[] */
    int strong;    /* units held by handles, by the harness (taken) or lent */
    int weak;      /* weak units */
    int destroyed; /* times the last strong unit went: must end at exactly 1 */
    char weak_anchor; /* &weak_anchor is the weak unit, so ferry must pass units, not objects */
    uint64_t payload;
} fz_obj;

static fz_obj *obj_of_weak(void *w)
{
    return (fz_obj *)((char *)w - offsetof(fz_obj, weak_anchor));
}

static void check_obj(fz_obj *o, int type, const char *fn)
{
    if (!o || o->magic != OBJ_LIVE)
        fail("%s of type %d called with a pointer that is not a live object", fn, type);
    if (o->type != type)
        fail("%s of type %d called with an object of type %d", fn, type, o->type);
}

static void obj_release(fz_obj *o, int type)
{
    check_obj(o, type, "release");
    if (o->strong <= 0)
        fail("release called on an object with no strong unit left (destructor run twice)");
    if (--o->strong == 0)
        o->destroyed++;
}

static void *obj_retain(fz_obj *o, int type)
{
    check_obj(o, type, "retain");
    if (o->strong <= 0)
        fail("retain called on a destroyed object");
    o->strong++;
    return o;
}

static void *obj_downgrade(fz_obj *o, int type)
{
    check_obj(o, type, "downgrade");
    if (o->strong <= 0)
        fail("downgrade called on a destroyed object");
    o->weak++;
    return &o->weak_anchor;
}

static void *obj_upgrade(void *w, int type)
{
    fz_obj *o = obj_of_weak(w);
    check_obj(o, type, "upgrade");
    if (o->weak <= 0)
        fail("upgrade called with a weak unit nobody holds");
    if (o->strong == 0)
        return NULL;
    o->strong++;
    return o;
}

static void obj_release_weak(void *w, int type)
{
    fz_obj *o = obj_of_weak(w);
    check_obj(o, type, "release_weak");
    if (o->weak <= 0)
        fail("release_weak called with no weak unit left (weak released twice)");
    o->weak--;
}

#define TYPE_FNS(i)                                                                                \
    static void rel##i(void *o) { obj_release(o, i); }                                             \
    static void *ret##i(void *o) { return obj_retain(o, i); }                                      \
    static void *down##i(void *o) { return obj_downgrade(o, i); }                                  \
    static void *up##i(void *w) { return obj_upgrade(w, i); }                                      \
    static void relw##i(void *w) { obj_release_weak(w, i); }
static void rel0(void *o) { obj_release(o, 0); }
TYPE_FNS(1)
TYPE_FNS(2)
TYPE_FNS(3)
#undef TYPE_FNS

static void rel_extra(void *o)
{
    (void)o;
    fail("release of fuzz.Extra called: no handle of it is ever made");
}

/* T0: Send + Sync, unique only (no retain, no weak functions).
 * T1: Send + Sync, shared with retain and weak functions.
 * T2: !Send (Sync only): every handle pinned to its thread.
 * T3: !Sync (Send only): shared borrows claimed by one thread at a time. */
static const ferry_type_desc descs[NTYPES + 1] = {
    {.name = "fuzz.Unique", .flags = FERRY_SEND | FERRY_SYNC, .release = rel0, .size = sizeof(fz_obj)},
    {.name = "fuzz.Shared", .flags = FERRY_SEND | FERRY_SYNC, .release = rel1, .retain = ret1,
     .downgrade = down1, .upgrade = up1, .release_weak = relw1},
    {.name = "fuzz.NoSend", .flags = FERRY_SYNC, .release = rel2, .retain = ret2,
     .downgrade = down2, .upgrade = up2, .release_weak = relw2},
    {.name = "fuzz.NoSync", .flags = FERRY_SEND, .release = rel3, .retain = ret3,
     .downgrade = down3, .upgrade = up3, .release_weak = relw3},
    {.name = "fuzz.Extra", .flags = FERRY_SEND | FERRY_SYNC, .release = rel_extra},
};
#define T_EXTRA NTYPES
static const ferry_type *types[NTYPES + 1];

/* ---- the model ---------------------------------------------------------- */

#define MAX_HANDLES 64
#define MAX_OBJS 64
#define MAX_OPS 400
#define K_WEAK_LOCAL 7 /* model-only kind: a weak handle of a local object */

typedef struct rec {
    uint64_t bits;
    bool alive;
    int type, kind, obj;
    int borrows; /* shared borrows outstanding */
    bool excl;   /* exclusive borrow outstanding */
    int owner;   /* thread that made it (pinned handles) */
    int last;    /* thread of its last counted use */
} rec;

typedef struct mobj {
    fz_obj *p;
    int type;
    int strong, weak; /* predicted */
    bool lent;        /* harness-owned, lent out: the harness holds the strong unit */
    int claim_thread, claim_count;
} mobj;

typedef struct counts {
    uint64_t created, cloned, borrows, handoffs, taken, dropped, revoked, live;
} counts;

static rec recs[MAX_HANDLES];
static int nrecs;
static mobj objs[MAX_OBJS];
static int nobjs;
static counts model[NTYPES + 1];          /* deltas this input */
static ferry_counts base[NTYPES + 1];     /* ledger at the start of this input */
static ferry_counts base_all;
static uint64_t peak_seen[NTYPES + 1];    /* highest live a ledger read returned */
static int cur_thread;                    /* 0 main, 1 worker */

/* Every slot index ever issued, with the generation it holds now and
 * whether that generation is live: lets the model classify any bits. */
static uint32_t table_tag;
static bool tag_known;
typedef struct slotinfo {
    uint32_t gen;
    bool live;
} slotinfo;
static slotinfo *slots;
static size_t nslots;

static uint32_t h_tag(uint64_t b) { return (uint32_t)(b >> 56); }
static uint32_t h_gen(uint64_t b) { return (uint32_t)(b >> 28) & ((1u << 28) - 1); }
static uint32_t h_index(uint64_t b) { return (uint32_t)b & ((1u << 28) - 1); }

static slotinfo *slot_of(uint32_t index)
{
    if (index >= nslots) {
        size_t n = nslots ? nslots : 1024;
        while (n <= index)
            n *= 2;
        slotinfo *s = realloc(slots, n * sizeof *s);
        if (!s)
            abort();
        memset(s + nslots, 0, (n - nslots) * sizeof *s);
        slots = s;
        nslots = n;
    }
    return &slots[index];
}

static bool pinned(int kind, int type)
{
    uint32_t f = descs[type].flags;
    if (kind == FERRY_KIND_LOCAL || kind == K_WEAK_LOCAL || !(f & FERRY_SEND))
        return true;
    return kind == FERRY_KIND_LENT && !(f & FERRY_SYNC);
}

/* ---- status sets -------------------------------------------------------- */

typedef uint32_t sset; /* bit per ferry_status */
#define S(x) ((sset)1 << (x))

static const char *set_text(sset s)
{
    static char buf[512];
    buf[0] = 0;
    if (!s)
        return "FERRY_OK";
    for (int i = 0; i < 32; i++)
        if (s & S(i)) {
            strcat(buf, buf[0] ? "|" : "");
            strcat(buf, ferry_status_name((ferry_status)i));
        }
    return buf;
}

static void expect(sset want, ferry_status got)
{
    if (want == 0 && got != FERRY_OK)
        fail("expected FERRY_OK, got %s", ferry_status_name(got));
    if (want != 0 && (got == FERRY_OK || (unsigned)got >= 32 || !(want & S(got))))
        fail("expected %s, got %s", set_text(want), ferry_status_name(got));
    if (got != FERRY_OK) {
        const char *msg = ferry_last_error();
        if (!msg || !strstr(msg, ferry_status_name(got)))
            fail("status %s left the message \"%s\", which does not name it",
                 ferry_status_name(got), msg ? msg : "(null)");
    }
}

/* What a handle argument's bits mean to the table: the live record they
 * name, or the status resolving them must give. */
typedef struct resolved {
    int r; /* live record index, or -1 */
    sset err;
} resolved;

static resolved resolve_bits(uint64_t b)
{
    resolved v = {-1, 0};
    if (b == 0) {
        v.err = S(FERRY_E_NULL);
        return v;
    }
    for (int i = 0; i < nrecs; i++)
        if (recs[i].alive && recs[i].bits == b) {
            v.r = i;
            return v;
        }
    uint32_t idx = h_index(b), gen = h_gen(b);
    if (!tag_known || h_tag(b) != table_tag || gen == 0 || idx >= nslots ||
        slots[idx].gen == 0 || gen > slots[idx].gen)
        v.err = S(FERRY_E_INVALID);
    else if (gen == slots[idx].gen && slots[idx].live)
        fail("bits %#llx name a live slot the model does not know", (unsigned long long)b);
    else
        v.err = S(FERRY_E_STALE);
    return v;
}

/* The checks every resolve of a live record makes beyond liveness. */
static sset resolve_checks(int r, int want_type /* -1: any */)
{
    sset e = 0;
    if (want_type >= 0 && recs[r].type != want_type)
        e |= S(FERRY_E_TYPE);
    if (pinned(recs[r].kind, recs[r].type) && recs[r].owner != cur_thread)
        e |= S(FERRY_E_THREAD);
    return e;
}

static void note_use(int r)
{
    if (recs[r].last != cur_thread) {
        recs[r].last = cur_thread;
        model[recs[r].type].handoffs++;
    }
}

/* A handle the library just returned: fresh bits for a slot it may reuse. */
static int add_rec(uint64_t b, int type, int kind, int obj)
{
    if (!tag_known) {
        table_tag = h_tag(b);
        tag_known = true;
    }
    if (b == 0 || h_tag(b) != table_tag || h_gen(b) == 0)
        fail("new handle %#llx has malformed bits", (unsigned long long)b);
    slotinfo *si = slot_of(h_index(b));
    if (si->live)
        fail("new handle %#llx reuses a slot that is live", (unsigned long long)b);
    if (h_gen(b) <= si->gen)
        fail("new handle %#llx reuses generation %u of its slot (had %u)", (unsigned long long)b,
             h_gen(b), si->gen);
    si->gen = h_gen(b);
    si->live = true;
    if (nrecs == MAX_HANDLES)
        abort(); /* callers check room first */
    recs[nrecs] = (rec){.bits = b, .alive = true, .type = type, .kind = kind, .obj = obj,
                        .owner = cur_thread, .last = cur_thread};
    model[type].live++;
    return nrecs++;
}

static void end_rec(int r)
{
    recs[r].alive = false;
    slot_of(h_index(recs[r].bits))->live = false;
    model[recs[r].type].live--;
}

static int new_obj(int type, bool lent)
{
    if (nobjs == MAX_OBJS)
        abort();
    fz_obj *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    *p = (fz_obj){.magic = OBJ_LIVE, .type = type, .strong = 1, .payload = (uint64_t)nobjs};
    objs[nobjs] = (mobj){.p = p, .type = type, .strong = 1, .lent = lent};
    return nobjs++;
}

/* The model's unit release, as ferry's or the harness's release calls it. */
static void model_release(int o)
{
    objs[o].strong--;
}

/* ---- input -------------------------------------------------------------- */

static const uint8_t *in;
static size_t in_len, in_pos;

static uint8_t next(void)
{
    return in_pos < in_len ? in[in_pos++] : 0;
}

static uint64_t next64(void)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | next();
    return v;
}

/* A type argument: index 0..4 or -1 for NULL. */
static int pick_type(void)
{
    static const int map[8] = {0, 1, 2, 3, -1, T_EXTRA, 1, 3};
    return map[next() % 8];
}

/* A handle argument: bits from a record (live or dead), forged, or null. */
static uint64_t pick_handle(void)
{
    uint8_t m = next();
    uint64_t base_bits = nrecs ? recs[next() % nrecs].bits : 0x5A00000010000001ull;
    switch (m % 10) {
    case 0: case 1: case 2: case 3: case 4: case 5:
        return base_bits;
    case 6:
        return 0;
    case 7:
        return next64();
    case 8:
        return next() & 1 ? base_bits + 1 : base_bits - 1;
    default:
        switch (next() % 4) {
        case 0: return base_bits ^ ((uint64_t)(next() | 1) << 56); /* another tag */
        case 1: return base_bits + (1ull << 28);                   /* a later generation */
        case 2: return base_bits - (1ull << 28);                   /* an earlier one */
        default: return base_bits ^ (1ull << (next() % 64));       /* one bit flipped */
        }
    }
}

/* ---- checks after every operation --------------------------------------- */

static void check_objects(void)
{
    for (int i = 0; i < nobjs; i++) {
        fz_obj *p = objs[i].p;
        if (p->strong != objs[i].strong || p->weak != objs[i].weak)
            fail("object %d holds %d strong / %d weak units, the model says %d / %d", i,
                 p->strong, p->weak, objs[i].strong, objs[i].weak);
        if (p->destroyed != (objs[i].strong == 0))
            fail("object %d destroyed %d times with %d strong units left", i, p->destroyed,
                 objs[i].strong);
    }
}

static void check_ledger_of(int t, const ferry_counts *b, const counts *m)
{
    ferry_counts c;
    ferry_status s = ferry_ledger(t < 0 ? NULL : types[t], &c);
    if (s != FERRY_OK)
        fail("ferry_ledger failed: %s", ferry_status_name(s));
#define CMP(field, want)                                                                           \
    if (c.field - b->field != (want))                                                              \
        fail("ledger of %s: " #field " moved by %llu, the model says %llu",                        \
             t < 0 ? "all types" : descs[t].name, (unsigned long long)(c.field - b->field),       \
             (unsigned long long)(want));
    CMP(created, m->created)
    CMP(cloned, m->cloned)
    CMP(borrows, m->borrows)
    CMP(handoffs, m->handoffs)
    CMP(taken, m->taken)
    CMP(dropped_by_c, m->dropped)
    CMP(dropped_by_rust, 0)
    CMP(revoked, m->revoked)
#undef CMP
    if (c.live != b->live + m->live)
        fail("ledger of %s: live %llu, the model says %llu", t < 0 ? "all types" : descs[t].name,
             (unsigned long long)c.live, (unsigned long long)(b->live + m->live));
    if (c.live != c.created + c.cloned - c.taken - c.dropped_by_c - c.dropped_by_rust)
        fail("ledger identity live = created + cloned - taken - dropped does not hold");
    if (t >= 0) {
        if (c.peak_live < c.live || c.peak_live < peak_seen[t])
            fail("ledger of %s: peak_live %llu is below a live value seen (%llu)", descs[t].name,
                 (unsigned long long)c.peak_live, (unsigned long long)peak_seen[t]);
        if (c.live > peak_seen[t])
            peak_seen[t] = c.live;
    }
}

static void check_ledgers(void)
{
    counts all = {0};
    for (int t = 0; t <= NTYPES; t++) {
        check_ledger_of(t, &base[t], &model[t]);
        all.created += model[t].created;
        all.cloned += model[t].cloned;
        all.borrows += model[t].borrows;
        all.handoffs += model[t].handoffs;
        all.taken += model[t].taken;
        all.dropped += model[t].dropped;
        all.revoked += model[t].revoked;
        all.live += model[t].live;
    }
    check_ledger_of(-1, &base_all, &all);
    if (ferry_live() != base_all.live + all.live)
        fail("ferry_live() is %zu, the model says %llu", ferry_live(),
             (unsigned long long)(base_all.live + all.live));
}

/* ---- the operations ------------------------------------------------------ */

#define SENTINEL_BITS 0xFEEDFACECAFEBEEFull
static void *const SENTINEL_PTR = (void *)(uintptr_t)0x5e5e5e5e5e5e5e50ull;
static int dummy_obj;

static void op_type_register(void)
{
    ferry_type_desc d;
    const ferry_type *out = (const ferry_type *)SENTINEL_PTR;
    int t = next() % (NTYPES + 1);
    uint8_t v = next() % 10;
    static char longname[301];
    memset(longname, 'x', 300);
    d = descs[t];
    sset want = 0;
    bool null_desc = false, null_out = false;
    switch (v) {
    case 0: case 9: break;
    case 1: null_desc = true; want = S(FERRY_E_NULL); break;
    case 2: null_out = true; want = S(FERRY_E_NULL); break;
    case 3: d.flags ^= FERRY_SYNC; want = S(FERRY_E_TYPE); break;
    case 4: d.release = NULL; want = S(FERRY_E_NULL) | S(FERRY_E_TYPE); break;
    case 5:
        d.downgrade = down1;
        d.upgrade = NULL;
        want = S(FERRY_E_NULL) | S(FERRY_E_TYPE);
        break;
    case 6: d.name = ""; want = S(FERRY_E_NULL); break;
    case 7: d.name = longname; want = S(FERRY_E_LIMIT); break;
    default: d.name = NULL; want = S(FERRY_E_NULL); break;
    }
    ferry_status s = ferry_type_register(null_desc ? NULL : &d, null_out ? NULL : &out);
    expect(want, s);
    if (s == FERRY_OK && out != types[t])
        fail("registering %s again returned another type", descs[t].name);
    if (s != FERRY_OK && !null_out && out != (const ferry_type *)SENTINEL_PTR)
        fail("a failed ferry_type_register wrote *out");
    if (ferry_type_find(descs[t].name) != types[t])
        fail("ferry_type_find(\"%s\") lost the type", descs[t].name);
}

static void op_create(int kind)
{
    static const char *const names[] = {"", "box", "share", "local", "", "lend", "lend_mut"};
    op_name = names[kind];
    int t = pick_type();
    uint8_t flags = next();
    bool null_obj = flags % 8 == 1, null_out = flags % 8 == 2;
    if (t == T_EXTRA)
        t = 1;
    sset want = 0;
    if (t < 0 || null_obj || null_out)
        want = S(FERRY_E_NULL);
    if (!want && (nrecs == MAX_HANDLES || nobjs == MAX_OBJS))
        return; /* no room to model it */
    bool lent = kind == FERRY_KIND_LENT || kind == FERRY_KIND_LENT_MUT;
    int o = -1;
    void *p = &dummy_obj;
    if (t >= 0 && !null_obj && nobjs < MAX_OBJS) {
        o = new_obj(t, lent);
        p = objs[o].p;
    }
    if (null_obj)
        p = NULL;
    const ferry_type *ft = t >= 0 ? types[t] : NULL;
    ferry_handle h = {SENTINEL_BITS};
    ferry_handle *outp = null_out ? NULL : &h;
    ferry_status s;
    bool plain = flags & 0x40;
    switch (kind) {
    case FERRY_KIND_UNIQUE: s = plain ? (ferry_box)(ft, p, outp) : ferry_box(ft, p, outp); break;
    case FERRY_KIND_SHARED: s = plain ? (ferry_share)(ft, p, outp) : ferry_share(ft, p, outp); break;
    case FERRY_KIND_LOCAL: s = plain ? (ferry_local)(ft, p, outp) : ferry_local(ft, p, outp); break;
    case FERRY_KIND_LENT: s = plain ? (ferry_lend)(ft, p, outp) : ferry_lend(ft, p, outp); break;
    default: s = plain ? (ferry_lend_mut)(ft, p, outp) : ferry_lend_mut(ft, p, outp); break;
    }
    expect(want, s);
    if (s != FERRY_OK) {
        if (h.bits != SENTINEL_BITS)
            fail("a failed create wrote *out");
        if (o >= 0) { /* the caller still owns obj: dispose of it ourselves */
            objs[o].p->strong--;
            objs[o].p->destroyed++;
            objs[o].strong--;
        }
        return;
    }
    model[t].created++;
    add_rec(h.bits, t, kind, o);
}

/* Ends of a handle's use the model shares between drop, take and revoke. */
static void op_end(int which /* 0 drop, 1 take, 2 revoke */)
{
    static const char *const names[] = {"drop", "take", "revoke"};
    op_name = names[which];
    uint64_t b = pick_handle();
    int t = -2;
    bool null_obj = false, plain = false;
    uint8_t f = next();
    plain = f & 0x40;
    if (which == 1) {
        t = pick_type();
        null_obj = f % 8 == 1;
    }
    sset want = 0;
    if (which == 1 && (t == -1 || null_obj))
        want |= S(FERRY_E_NULL);
    resolved v = resolve_bits(b);
    want |= v.err;
    int r = v.r;
    if (r >= 0) {
        want |= resolve_checks(r, which == 1 ? t : -1);
        int k = recs[r].kind;
        bool is_lent = k == FERRY_KIND_LENT || k == FERRY_KIND_LENT_MUT;
        if (which == 2 ? !is_lent : is_lent)
            want |= S(FERRY_E_KIND);
        if (recs[r].borrows || recs[r].excl)
            want |= S(FERRY_E_BORROWED);
    }
    ferry_handle h = {b};
    void *unit = SENTINEL_PTR;
    ferry_status s;
    const ferry_type *ft = t >= 0 ? types[t] : NULL;
    if (which == 0)
        s = plain ? (ferry_drop)(h) : ferry_drop(h);
    else if (which == 1)
        s = plain ? (ferry_take)(h, ft, null_obj ? NULL : &unit)
                  : ferry_take(h, ft, null_obj ? NULL : &unit);
    else
        s = plain ? (ferry_revoke)(h) : ferry_revoke(h);
    /* A drop runs the type's release: predict it before checking objects. */
    expect(want, s);
    if (s != FERRY_OK) {
        if (unit != SENTINEL_PTR)
            fail("a failed take wrote *obj");
        return;
    }
    rec *R = &recs[r];
    note_use(r);
    end_rec(r);
    int o = R->obj;
    bool weak = R->kind == FERRY_KIND_WEAK || R->kind == K_WEAK_LOCAL;
    if (which == 2) {
        model[R->type].dropped++;
        model[R->type].revoked++;
        return;
    }
    if (which == 0) {
        model[R->type].dropped++;
        if (weak)
            objs[o].weak--;
        else
            model_release(o);
        return;
    }
    model[R->type].taken++;
    /* take: the unit is ours now; check it and give it up. */
    void *expect_unit = weak ? (void *)&objs[o].p->weak_anchor : (void *)objs[o].p;
    if (unit != expect_unit)
        fail("take returned %p, the unit is %p", unit, expect_unit);
    if (weak) {
        descs[R->type].release_weak(unit);
        objs[o].weak--;
    } else {
        descs[R->type].release(unit);
        model_release(o);
    }
}

static void op_derive(int which /* 0 clone, 1 downgrade, 2 upgrade */)
{
    static const char *const names[] = {"clone", "downgrade", "upgrade"};
    op_name = names[which];
    uint64_t b = pick_handle();
    uint8_t f = next();
    bool null_out = f % 8 == 1, plain = f & 0x40;
    sset want = 0;
    resolved v = resolve_bits(b);
    want |= v.err;
    int r = v.r;
    if (null_out)
        want |= S(FERRY_E_NULL);
    if (r >= 0) {
        want |= resolve_checks(r, -1);
        int k = recs[r].kind;
        const ferry_type_desc *d = &descs[recs[r].type];
        if (which < 2 ? !(k == FERRY_KIND_SHARED || k == FERRY_KIND_LOCAL)
                      : !(k == FERRY_KIND_WEAK || k == K_WEAK_LOCAL))
            want |= S(FERRY_E_KIND);
        if (which == 0 ? !d->retain : !d->downgrade)
            want |= S(FERRY_E_KIND);
        if (which == 2 && !want && objs[recs[r].obj].strong == 0)
            want |= S(FERRY_E_EXPIRED);
    }
    if (!want && nrecs == MAX_HANDLES)
        return;
    ferry_handle h = {b}, out = {SENTINEL_BITS};
    ferry_handle *outp = null_out ? NULL : &out;
    ferry_status s;
    if (which == 0)
        s = plain ? (ferry_clone)(h, outp) : ferry_clone(h, outp);
    else if (which == 1)
        s = plain ? (ferry_downgrade)(h, outp) : ferry_downgrade(h, outp);
    else
        s = plain ? (ferry_upgrade)(h, outp) : ferry_upgrade(h, outp);
    expect(want, s);
    if (s != FERRY_OK) {
        if (out.bits != SENTINEL_BITS)
            fail("a failed %s wrote *out", op_name);
        return;
    }
    int k = recs[r].kind, t = recs[r].type, o = recs[r].obj;
    note_use(r);
    bool local = k == FERRY_KIND_LOCAL || k == K_WEAK_LOCAL;
    int nk;
    if (which == 0) {
        nk = k;
        objs[o].strong++;
        model[t].cloned++;
    } else if (which == 1) {
        nk = local ? K_WEAK_LOCAL : FERRY_KIND_WEAK;
        objs[o].weak++;
        model[t].created++;
    } else {
        nk = local ? FERRY_KIND_LOCAL : FERRY_KIND_SHARED;
        objs[o].strong++;
        model[t].created++;
    }
    add_rec(out.bits, t, nk, o);
}

static bool needs_claim(int r)
{
    return !(descs[recs[r].type].flags & FERRY_SYNC) && !pinned(recs[r].kind, recs[r].type);
}

static void op_borrow(bool exclusive)
{
    op_name = exclusive ? "borrow_mut" : "borrow";
    uint64_t b = pick_handle();
    int t = pick_type();
    uint8_t f = next();
    bool null_obj = f % 8 == 1;
    sset want = 0;
    if (t < 0 || null_obj)
        want |= S(FERRY_E_NULL);
    resolved v = resolve_bits(b);
    want |= v.err;
    int r = v.r;
    bool claim = false;
    if (r >= 0) {
        want |= resolve_checks(r, t);
        int k = recs[r].kind;
        bool ok_kind = exclusive ? (k == FERRY_KIND_UNIQUE || k == FERRY_KIND_LENT_MUT)
                                 : !(k == FERRY_KIND_WEAK || k == K_WEAK_LOCAL);
        if (!ok_kind)
            want |= S(FERRY_E_KIND);
        if (recs[r].excl || (exclusive && recs[r].borrows))
            want |= S(FERRY_E_BORROWED);
        if (!exclusive && needs_claim(r)) {
            claim = true;
            mobj *mo = &objs[recs[r].obj];
            if (mo->claim_count && mo->claim_thread != cur_thread)
                want |= S(FERRY_E_THREAD);
        }
    }
    void *p = SENTINEL_PTR;
    ferry_status s;
    const ferry_type *ft = t >= 0 ? types[t] : NULL;
    if (exclusive)
        s = ferry_borrow_mut((ferry_handle){b}, ft, null_obj ? NULL : &p);
    else
        s = ferry_borrow((ferry_handle){b}, ft, null_obj ? NULL : (const void **)&p);
    expect(want, s);
    if (s != FERRY_OK) {
        if (p != SENTINEL_PTR)
            fail("a failed borrow wrote *obj");
        return;
    }
    if (p != objs[recs[r].obj].p)
        fail("borrow returned %p, the object is %p", p, (void *)objs[recs[r].obj].p);
    /* Touch it: ASan catches a borrow of freed memory. */
    if (exclusive)
        objs[recs[r].obj].p->payload++;
    else if (((fz_obj *)p)->magic != OBJ_LIVE)
        fail("borrowed object is not live");
    note_use(r);
    model[recs[r].type].borrows++;
    if (exclusive)
        recs[r].excl = true;
    else
        recs[r].borrows++;
    if (claim) {
        objs[recs[r].obj].claim_thread = cur_thread;
        objs[recs[r].obj].claim_count++;
    }
}

static void op_unborrow(void)
{
    op_name = "unborrow";
    uint64_t b = pick_handle();
    sset want = 0;
    resolved v = resolve_bits(b);
    want |= v.err;
    int r = v.r;
    bool claim = false;
    if (r >= 0) {
        want |= resolve_checks(r, -1);
        if (!recs[r].excl && !recs[r].borrows)
            want |= S(FERRY_E_BORROWED);
        else if (!recs[r].excl && needs_claim(r)) {
            claim = true;
            if (objs[recs[r].obj].claim_thread != cur_thread)
                want |= S(FERRY_E_THREAD);
        }
    }
    ferry_status s = ferry_unborrow((ferry_handle){b});
    expect(want, s);
    if (s != FERRY_OK)
        return;
    if (recs[r].excl)
        recs[r].excl = false;
    else
        recs[r].borrows--;
    if (claim)
        objs[recs[r].obj].claim_count--;
}

static void op_check(void)
{
    op_name = "check";
    uint64_t b = pick_handle();
    int t = pick_type(); /* -1: any type */
    sset want = 0;
    resolved v = resolve_bits(b);
    want |= v.err;
    if (v.r >= 0)
        want |= resolve_checks(v.r, t);
    ferry_status s = ferry_check((ferry_handle){b}, t >= 0 ? types[t] : NULL);
    expect(want, s);
    if (s == FERRY_OK)
        note_use(v.r);
}

static void op_kind_of(void)
{
    op_name = "kind_of";
    uint64_t b = pick_handle();
    bool null_out = next() % 8 == 1;
    sset want = null_out ? S(FERRY_E_NULL) : 0;
    resolved v = resolve_bits(b);
    want |= v.err;
    if (v.r >= 0)
        want |= resolve_checks(v.r, -1);
    ferry_kind k = (ferry_kind)99;
    ferry_status s = ferry_kind_of((ferry_handle){b}, null_out ? NULL : &k);
    expect(want, s);
    if (s != FERRY_OK) {
        if (k != (ferry_kind)99)
            fail("a failed kind_of wrote *out");
        return;
    }
    int mk = recs[v.r].kind == K_WEAK_LOCAL ? FERRY_KIND_WEAK : recs[v.r].kind;
    if ((int)k != mk)
        fail("kind_of says %s, the handle is %s", ferry_kind_name(k),
             ferry_kind_name((ferry_kind)mk));
}

static void op_ledger(void)
{
    op_name = "ledger";
    int t = pick_type();
    bool null_out = next() % 4 == 1;
    ferry_counts c;
    ferry_status s = ferry_ledger(t >= 0 ? types[t] : NULL, null_out ? NULL : &c);
    expect(null_out ? S(FERRY_E_NULL) : 0, s);
    op_name = "live";
    size_t live = 0;
    for (int i = 0; i < nrecs; i++)
        live += recs[i].alive;
    if (ferry_live() != base_all.live + live)
        fail("ferry_live() is %zu, %zu handles are live", ferry_live(), live);
    op_name = "report_leaks";
    if (ferry_report_leaks(NULL) != base_all.live + live)
        fail("ferry_report_leaks(NULL) disagrees with the live handles (%zu)", live);
}

static void op_names(void)
{
    op_name = "status_name";
    ferry_status s = (ferry_status)(next() % 20);
    const char *n = ferry_status_name(s), *t = ferry_status_text(s);
    if (!n || !t || !n[0])
        fail("ferry_status_name/text(%d) gave NULL or empty", (int)s);
    const char *k = ferry_kind_name((ferry_kind)(next() % 9));
    if (!k)
        fail("ferry_kind_name gave NULL");
}

/* ---- the second thread -------------------------------------------------- */

static pthread_t worker;
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcond = PTHREAD_COND_INITIALIZER;
static void (*wjob)(void *);
static void *wctx;
static bool wbusy;

static void *worker_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&wlock);
    for (;;) {
        while (!wbusy)
            pthread_cond_wait(&wcond, &wlock);
        pthread_mutex_unlock(&wlock);
        cur_thread = 1;
        wjob(wctx);
        cur_thread = 0;
        pthread_mutex_lock(&wlock);
        wbusy = false;
        pthread_cond_broadcast(&wcond);
    }
    return NULL;
}

static void on_thread(int thread, void (*job)(void *), void *ctx)
{
    if (thread == 0) {
        job(ctx);
        return;
    }
    pthread_mutex_lock(&wlock);
    wjob = job;
    wctx = ctx;
    wbusy = true;
    pthread_cond_broadcast(&wcond);
    while (wbusy)
        pthread_cond_wait(&wcond, &wlock);
    pthread_mutex_unlock(&wlock);
}

static void run_one(void *ctx)
{
    uint8_t op = (uint8_t)(uintptr_t)ctx;
    switch ((op & 0x7f) % OP_COUNT) {
    case OP_TYPE_REGISTER: op_name = "type_register"; op_type_register(); break;
    case OP_BOX: op_create(FERRY_KIND_UNIQUE); break;
    case OP_SHARE: op_create(FERRY_KIND_SHARED); break;
    case OP_LOCAL: op_create(FERRY_KIND_LOCAL); break;
    case OP_LEND: op_create(FERRY_KIND_LENT); break;
    case OP_LEND_MUT: op_create(FERRY_KIND_LENT_MUT); break;
    case OP_REVOKE: op_end(2); break;
    case OP_CLONE: op_derive(0); break;
    case OP_DOWNGRADE: op_derive(1); break;
    case OP_UPGRADE: op_derive(2); break;
    case OP_DROP: op_end(0); break;
    case OP_TAKE: op_end(1); break;
    case OP_BORROW: op_borrow(false); break;
    case OP_BORROW_MUT: op_borrow(true); break;
    case OP_UNBORROW: op_unborrow(); break;
    case OP_CHECK: op_check(); break;
    case OP_KIND_OF: op_kind_of(); break;
    case OP_LEDGER: op_ledger(); break;
    default: op_names(); break;
    }
}

/* ---- set-up and teardown ------------------------------------------------ */

static void init_once(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    ferry_set_error_policy(FERRY_POLICY_RETURN);
    for (int t = 0; t <= NTYPES; t++)
        if (ferry_type_register(&descs[t], &types[t]) != FERRY_OK) {
            fprintf(stderr, "fuzz_model: cannot register %s: %s\n", descs[t].name,
                    ferry_last_error());
            abort();
        }
    if (pthread_create(&worker, NULL, worker_main, NULL) != 0)
        abort();
}

typedef struct end_job {
    int r;
    ferry_status s;
} end_job;

static void teardown_unborrow(void *ctx)
{
    end_job *j = ctx;
    j->s = ferry_unborrow((ferry_handle){recs[j->r].bits});
}

static void teardown_end(void *ctx)
{
    end_job *j = ctx;
    rec *R = &recs[j->r];
    bool lent = R->kind == FERRY_KIND_LENT || R->kind == FERRY_KIND_LENT_MUT;
    j->s = lent ? ferry_revoke((ferry_handle){R->bits}) : ferry_drop((ferry_handle){R->bits});
}

static void teardown(void)
{
    op_name = NULL;
    /* Borrows first (a claimed one on its claiming thread, a pinned handle's
     * on its owner), then every handle in reverse order of creation. */
    for (int r = 0; r < nrecs; r++) {
        rec *R = &recs[r];
        if (!R->alive)
            continue;
        while (R->excl || R->borrows) {
            int th = pinned(R->kind, R->type) ? R->owner
                     : (!R->excl && needs_claim(r)) ? objs[R->obj].claim_thread
                                                    : 0;
            end_job j = {r, FERRY_OK};
            on_thread(th, teardown_unborrow, &j);
            if (j.s != FERRY_OK)
                fail("teardown: unborrow of a borrowed handle failed: %s",
                     ferry_status_name(j.s));
            if (R->excl)
                R->excl = false;
            else {
                R->borrows--;
                if (needs_claim(r))
                    objs[R->obj].claim_count--;
            }
        }
    }
    for (int r = nrecs - 1; r >= 0; r--) {
        rec *R = &recs[r];
        if (!R->alive)
            continue;
        int th = pinned(R->kind, R->type) ? R->owner : 0;
        end_job j = {r, FERRY_OK};
        on_thread(th, teardown_end, &j);
        if (j.s != FERRY_OK)
            fail("teardown: ending live handle %#llx failed: %s", (unsigned long long)R->bits,
                 ferry_status_name(j.s));
        int saved = cur_thread;
        cur_thread = th;
        note_use(r);
        cur_thread = saved;
        end_rec(r);
        bool lent = R->kind == FERRY_KIND_LENT || R->kind == FERRY_KIND_LENT_MUT;
        model[R->type].dropped++;
        if (lent)
            model[R->type].revoked++;
        else if (R->kind == FERRY_KIND_WEAK || R->kind == K_WEAK_LOCAL)
            objs[R->obj].weak--;
        else
            model_release(R->obj);
    }
    check_objects();
    /* The lender's own unit of each lent object. */
    for (int o = 0; o < nobjs; o++)
        if (objs[o].lent && objs[o].strong > 0) {
            descs[objs[o].type].release(objs[o].p);
            model_release(o);
        }
    check_objects();
    check_ledgers();
    for (int o = 0; o < nobjs; o++) {
        fz_obj *p = objs[o].p;
        if (p->destroyed != 1 || p->strong != 0 || p->weak != 0)
            fail("teardown: object %d destroyed %d times, %d strong / %d weak units left", o,
                 p->destroyed, p->strong, p->weak);
        for (int c = 0; c < 2 && objs[o].claim_count; c++)
            fail("teardown: object %d still has %d claimed borrows in the model", o,
                 objs[o].claim_count);
        p->magic = OBJ_DEAD;
        free(p);
    }
    if (ferry_live() != base_all.live)
        fail("teardown: %zu handles live after every handle was ended", ferry_live());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    in = data;
    in_len = size;
    in_pos = 0;
    nrecs = 0;
    nobjs = 0;
    memset(model, 0, sizeof model);
    for (int t = 0; t <= NTYPES; t++)
        if (ferry_ledger(types[t], &base[t]) != FERRY_OK)
            abort();
    if (ferry_ledger(NULL, &base_all) != FERRY_OK)
        abort();
    if (base_all.live != 0) {
        fprintf(stderr, "fuzz_model: %llu handles live before the input\n",
                (unsigned long long)base_all.live);
        abort();
    }
    for (op_no = 0; op_no < MAX_OPS && in_pos < in_len; op_no++) {
        uint8_t op = next();
        on_thread(op & 0x80 ? 1 : 0, run_one, (void *)(uintptr_t)op);
        check_objects();
        check_ledgers();
    }
    teardown();
    return 0;
}
