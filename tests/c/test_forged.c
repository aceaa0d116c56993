/* test_forged.c — made-up handle bits never crash and are never accepted:
 * zero is FERRY_E_NULL; anything else that is not a live handle is
 * FERRY_E_INVALID or FERRY_E_STALE; FERRY_OK only for bits equal to a live
 * handle. Live handles and their objects are untouched by the abuse. */
#include "support.h"

#include <inttypes.h>
#include <stdlib.h>

#define SS (FERRY_SEND | FERRY_SYNC)

/* A pool of live handles of every kind, and some dead ones. */
enum { POOL_OBJS = 16, POOL_MAX = 6 * POOL_OBJS };
typedef struct pool {
    fx f;
    fx_obj lent[POOL_OBJS];
    ferry_handle live[POOL_MAX];
    int nlive;
    ferry_handle dead[POOL_MAX];
    int ndead;
    size_t live0;
} pool;

static void pool_init(pool *p) {
    memset(p, 0, sizeof *p);
    p->live0 = ferry_live();
    fx_init(&p->f, "forged", SS, FX_ALL);
    for (int i = 0; i < POOL_OBJS; i++) {
        ferry_handle h;
        switch (i % 4) {
        case 0: expect_ok(ferry_box(p->f.type, fx_new(&p->f, i), &h)); break;
        case 1: expect_ok(ferry_share(p->f.type, fx_new(&p->f, i), &h)); break;
        case 2: expect_ok(ferry_local(p->f.type, fx_new(&p->f, i), &h)); break;
        default:
            fx_obj_init_lent(&p->lent[i], &p->f, i);
            expect_ok(ferry_lend_mut(p->f.type, &p->lent[i], &h));
            break;
        }
        p->live[p->nlive++] = h;
        if (i % 4 == 1 || i % 4 == 2) {
            ferry_handle c, w;
            expect_ok(ferry_clone(h, &c));
            expect_ok(ferry_downgrade(h, &w));
            p->live[p->nlive++] = c;
            p->live[p->nlive++] = w;
        }
    }
    /* dead handles: made and ended, their slots are free for reuse */
    for (int i = 0; i < 8; i++) {
        ferry_handle h;
        expect_ok(ferry_box(p->f.type, fx_new(&p->f, 100 + i), &h));
        expect_ok(ferry_drop(h));
        p->dead[p->ndead++] = h;
    }
}

static bool pool_is_live(const pool *p, uint64_t bits) {
    for (int i = 0; i < p->nlive; i++)
        if (p->live[i].bits == bits) return true;
    return false;
}

/* The pool is as it was: every live handle passes check and its object has
 * released nothing. */
static void pool_assert_intact(pool *p) {
    for (int i = 0; i < p->nlive; i++) {
        ferry_status s = ferry_check(p->live[i], p->f.type);
        ck_assert_msg(s == FERRY_OK, "live handle %#" PRIx64 " now %s", p->live[i].bits,
                      ferry_status_name(s));
        /* no borrow was left behind (a weak handle may answer KIND) */
        s = ferry_unborrow(p->live[i]);
        ck_assert_msg(s == FERRY_E_BORROWED || s == FERRY_E_KIND,
                      "live handle %#" PRIx64 " was left borrowed (%s)", p->live[i].bits,
                      ferry_status_name(s));
    }
    ck_assert_int_eq(fx_count(&p->f.released), 8); /* the dead ones only */
    ck_assert_int_eq(fx_count(&p->f.retained), POOL_OBJS / 2);
    ck_assert_int_eq(fx_count(&p->f.weak_released), 0);
    ck_assert_int_eq(fx_count(&p->f.bad), 0);
    ck_assert_uint_eq(ferry_live(), p->live0 + (size_t)p->nlive);
}

static void pool_end(pool *p) {
    for (int i = 0; i < p->nlive; i++) {
        ferry_status s = ferry_drop(p->live[i]);
        if (s == FERRY_E_KIND) s = ferry_revoke(p->live[i]);
        ck_assert_int_eq(s, FERRY_OK);
    }
    ck_assert_uint_eq(ferry_live(), p->live0);
    /* 8 dead ones, and the heap objects: 3 of every 4 (the 4th is lent) */
    ck_assert_int_eq(fx_count(&p->f.destroyed), 8 + 3 * POOL_OBJS / 4);
    ck_assert_int_eq(fx_count(&p->f.freed), 8 + 3 * POOL_OBJS / 4);
}

/* Tries every operation on forged bits that are not a live handle. All
 * must fail with NULL (only for 0), INVALID or STALE. */
static void try_forged(pool *p, uint64_t bits, const char *how) {
    ferry_handle h = {bits};
    if (pool_is_live(p, bits)) {
        require(ferry_check(h, NULL) == FERRY_OK, "live %#" PRIx64 " refused", bits);
        return;
    }
    for (op o = 0; o < OP_COUNT; o++) {
        ferry_handle out = {0x77};
        void *obj = &out;
        ferry_status s = run_op(o, h, p->f.type, &out, &obj);
        bool ok = bits == 0 ? s == FERRY_E_NULL : (s == FERRY_E_INVALID || s == FERRY_E_STALE);
        require(ok, "%s(%#" PRIx64 ") [%s]: got %s (%s)", op_name(o), bits, how,
                ferry_status_name(s), ferry_last_error());
        require(out.bits == 0x77 && obj == (void *)&out, "%s(%#" PRIx64 ") wrote its out",
                op_name(o), bits);
    }
}

START_TEST(forged_zero_is_null_everywhere) {
    pool p;
    pool_init(&p);
    try_forged(&p, 0, "zero");
    pool_assert_intact(&p);
    pool_end(&p);
}
END_TEST

START_TEST(forged_random_patterns_never_accepted) {
    pool p;
    pool_init(&p);
    uint64_t seed = 0x5eed0f0f1e55ull;
    const long n = 100000;
    uint64_t tag_mask = 0xff00000000000000ull;
    uint64_t table_tag = p.live[0].bits & tag_mask;
    uint32_t issued = ferry__test_slots_issued();
    for (long i = 0; i < n; i++) {
        uint64_t r = rng_next(&seed);
        /* fully random bits */
        try_forged(&p, r, "random");
        /* this table's tag with random generation and random index */
        try_forged(&p, table_tag | (r & ~tag_mask), "tag");
        /* this table's tag, random generation, an issued index */
        uint64_t idx = issued ? (r >> 8) % issued : 0;
        try_forged(&p, table_tag | (rng_next(&seed) & 0x00fffffff0000000ull) | idx, "issued");
    }
    pool_assert_intact(&p);
    pool_end(&p);
}
END_TEST

START_TEST(forged_flipped_bits_of_live_handles) {
    pool p;
    pool_init(&p);
    for (int i = 0; i < p.nlive; i++) {
        uint64_t b = p.live[i].bits;
        for (int bit = 0; bit < 64; bit++) try_forged(&p, b ^ (1ull << bit), "one bit");
        /* whole fields: tag, generation, index */
        try_forged(&p, b ^ 0xff00000000000000ull, "tag");
        try_forged(&p, b ^ 0x00fffffff0000000ull, "generation");
        try_forged(&p, b ^ 0x000000000fffffffull, "index");
        /* neighbouring generations of the same slot */
        for (int d = 1; d <= 3; d++) {
            try_forged(&p, b + ((uint64_t)d << 28), "gen+");
            try_forged(&p, b - ((uint64_t)d << 28), "gen-");
        }
    }
    pool_assert_intact(&p);
    pool_end(&p);
}
END_TEST

START_TEST(forged_dead_handles_stay_stale) {
    pool p;
    pool_init(&p);
    for (int i = 0; i < p.ndead; i++) {
        for (op o = 0; o < OP_COUNT; o++) {
            ferry_handle out = {0x77};
            ferry_status s = run_op(o, p.dead[i], p.f.type, &out, NULL);
            ck_assert_msg(s == FERRY_E_STALE || (pool_is_live(&p, p.dead[i].bits)),
                          "%s(dead %#" PRIx64 "): %s", op_name(o), p.dead[i].bits,
                          ferry_status_name(s));
        }
        /* and their bit-flips */
        for (int bit = 0; bit < 64; bit++) try_forged(&p, p.dead[i].bits ^ (1ull << bit), "dead");
    }
    pool_assert_intact(&p);
    pool_end(&p);
}
END_TEST

int main(void) {
    Suite *s = suite_create("forged");
    ADD_CASE(s, forged_zero_is_null_everywhere, 30);
    ADD_CASE(s, forged_random_patterns_never_accepted, 300);
    ADD_CASE(s, forged_flipped_bits_of_live_handles, 120);
    ADD_CASE(s, forged_dead_handles_stay_stale, 60);
    return run_suite(s);
}
