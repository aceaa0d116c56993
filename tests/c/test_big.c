/* test_big.c — 2^26 live handles at once (DESIGN.md: "at least 2^26 live
 * handles"). Needs about 3.2 GB; labelled "big" so sanitizer and valgrind
 * runs can leave it out. */
#include "support.h"

#include <stdlib.h>

static atomic_long big_released;
static void big_release(void *obj) {
    (void)obj;
    atomic_fetch_add_explicit(&big_released, 1, memory_order_relaxed);
}

START_TEST(big_two_to_the_26_live_handles) {
    const size_t n = (size_t)1 << 26;
    size_t live0 = ferry_live();
    ferry_type_desc d = {.name = "test.big", .flags = FERRY_SEND | FERRY_SYNC,
                         .release = big_release};
    const ferry_type *t;
    expect_ok(ferry_type_register(&d, &t));
    ferry_handle *hs = malloc(n * sizeof *hs);
    ck_assert_ptr_nonnull(hs);
    /* one bit per possible slot index: no index is handed out twice */
    uint8_t *seen = calloc((size_t)1 << 25, 1);
    ck_assert_ptr_nonnull(seen);
    static int object;
    for (size_t i = 0; i < n; i++) {
        ferry_status s = ferry_box(t, &object, &hs[i]);
        require(s == FERRY_OK, "create %zu of %zu: %s (%s)", i, n, ferry_status_name(s),
                ferry_last_error());
        uint32_t idx = ferry__test_slot_index(hs[i]);
        require(idx < (1u << 28), "index %u out of range", idx);
        require(!(seen[idx >> 3] & (1u << (idx & 7))), "slot %u used twice", idx);
        seen[idx >> 3] |= (uint8_t)(1u << (idx & 7));
    }
    ck_assert_uint_eq(ferry_live(), live0 + n);
    ferry_counts c = ledger_of(t);
    ck_assert_uint_eq(c.live, n);
    ck_assert_uint_eq(c.peak_live, n);
    /* spot checks across the table */
    for (size_t i = 0; i < n; i += 4099) {
        require(ferry_check(hs[i], t) == FERRY_OK, "check %zu", i);
    }
    for (size_t i = 0; i < n; i++) {
        ferry_status s = ferry_drop(hs[i]);
        require(s == FERRY_OK, "drop %zu: %s", i, ferry_status_name(s));
    }
    ck_assert_int_eq(atomic_load(&big_released), (long)n);
    ck_assert_uint_eq(ferry_live(), live0);
    c = ledger_of(t);
    ck_assert_uint_eq(c.live, 0);
    ck_assert_uint_eq(c.dropped_by_c, n);
    for (size_t i = 0; i < n; i += 4099) {
        require(ferry_check(hs[i], t) == FERRY_E_STALE, "stale check %zu", i);
    }
    free(seen);
    free(hs);
}
END_TEST

int main(void) {
    Suite *s = suite_create("big");
    ADD_CASE(s, big_two_to_the_26_live_handles, 600);
    return run_suite(s);
}
