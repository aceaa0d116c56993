/*
 * test_reentry.c — release functions that call back into ferry. The drop
 * frees the slot before it calls release, so the callback sees a consistent
 * table: it may drop other handles (a whole chain, recursively), try its own
 * handle again (stale), make new handles, borrow others and read the ledger.
 */
#include "support.h"

#include <pthread.h>
#include <stdlib.h>

/* A node that owns the handle of the next one: dropping the head drops the
 * chain from inside release functions. */
typedef struct node {
    ferry_handle next;
    ferry_handle self;       /* its own handle, to try again from release */
    ferry_handle peer;       /* a live handle release borrows, or null */
    int make_new;            /* release boxes a new node */
} node;

static const ferry_type *node_type;
static atomic_long released;
/* What the last release saw (the node itself is freed by then). */
static ferry_status self_again, peer_borrow;
static ferry_handle made_in_release;

static void node_release(void *obj)
{
    node *n = obj;
    atomic_fetch_add(&released, 1);
    if (n->self.bits)
        self_again = ferry_drop(n->self);
    if (n->peer.bits) {
        const void *p;
        peer_borrow = ferry_borrow(n->peer, node_type, &p);
        if (peer_borrow == FERRY_OK)
            ferry_unborrow(n->peer);
    }
    if (n->make_new) {
        node *fresh = calloc(1, sizeof *fresh);
        if (ferry_box(node_type, fresh, &made_in_release) != FERRY_OK)
            free(fresh);
    }
    if (n->next.bits)
        ferry_drop(n->next); /* recursion: the next release runs in here */
    free(n);
}

static void setup(void)
{
    static int registered;
    if (!registered) {
        ck_assert_int_eq(ferry_type_register(&(ferry_type_desc){.name = "reentry.Node",
                                                                .flags = FERRY_SEND | FERRY_SYNC,
                                                                .release = node_release},
                                             &node_type),
                         FERRY_OK);
        registered = 1;
    }
    atomic_store(&released, 0);
    self_again = peer_borrow = FERRY_E_INVALID; /* "not called" */
    made_in_release = FERRY_NULL_HANDLE;
}

static ferry_handle box_node(node **out)
{
    node *n = calloc(1, sizeof *n);
    ferry_handle h;
    expect_ok(ferry_box(node_type, n, &h));
    n->self = FERRY_NULL_HANDLE;
    if (out)
        *out = n;
    return h;
}

START_TEST(reentry_release_drops_a_chain) {
    setup();
    ferry_counts before;
    expect_ok(ferry_ledger(node_type, &before));
    enum { LENGTH = 1000 };
    ferry_handle head = FERRY_NULL_HANDLE;
    for (int i = 0; i < LENGTH; i++) {
        node *n;
        ferry_handle h = box_node(&n);
        n->next = head;
        head = h;
    }
    expect_ok(ferry_drop(head));
    ck_assert_int_eq(atomic_load(&released), LENGTH);
    ferry_counts after;
    expect_ok(ferry_ledger(node_type, &after));
    ck_assert_uint_eq(after.created - before.created, LENGTH);
    ck_assert_uint_eq(after.dropped_by_c - before.dropped_by_c, LENGTH);
    ck_assert_uint_eq(after.live, before.live);
}
END_TEST

START_TEST(reentry_release_drops_its_own_handle_again) {
    setup();
    node *n;
    ferry_handle h = box_node(&n);
    n->self = h;
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(self_again, FERRY_E_STALE);
    msg_assert_prefix(FERRY_E_STALE, "ferry_drop");
    ck_assert_int_eq(atomic_load(&released), 1); /* not twice */
}
END_TEST

START_TEST(reentry_release_makes_and_borrows_handles) {
    setup();
    node *peer_node;
    ferry_handle peer = box_node(&peer_node);
    node *n;
    ferry_handle h = box_node(&n);
    n->peer = peer;
    n->make_new = 1;
    ferry_counts before;
    expect_ok(ferry_ledger(node_type, &before));
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(peer_borrow, FERRY_OK);
    /* The node made inside release is a live, usable handle. */
    expect_ok(ferry_check(made_in_release, node_type));
    ferry_counts mid;
    expect_ok(ferry_ledger(node_type, &mid));
    ck_assert_uint_eq(mid.created - before.created, 1);
    ck_assert_uint_eq(mid.dropped_by_c - before.dropped_by_c, 1);
    ck_assert_uint_eq(mid.borrows - before.borrows, 1);
    expect_ok(ferry_drop(made_in_release));
    expect_ok(ferry_drop(peer));
    ck_assert_int_eq(atomic_load(&released), 3);
    ferry_counts after;
    expect_ok(ferry_ledger(node_type, &after));
    counts_assert_identity(&after);
}
END_TEST

/* A release sees its own drop counted, whichever path the drop took: the
 * creating thread's first drops take the fast path, another thread's first
 * drop of the type the full one. */
static size_t live_in_release;
static void counting_release(void *obj)
{
    (void)obj;
    live_in_release = ferry_live();
}

static ferry_handle handed_over;
static void *drop_elsewhere(void *arg)
{
    (void)arg;
    expect_ok(ferry_drop(handed_over));
    return NULL;
}

START_TEST(reentry_release_sees_its_drop_counted_on_both_paths) {
    const ferry_type *t;
    expect_ok(ferry_type_register(&(ferry_type_desc){.name = "reentry.Counting",
                                                     .flags = FERRY_SEND | FERRY_SYNC,
                                                     .release = counting_release},
                                  &t));
    static int a, b;
    size_t base = ferry_live();
    ferry_handle ha;
    expect_ok(ferry_box(t, &a, &ha));
    expect_ok(ferry_box(t, &b, &handed_over));
    expect_ok(ferry_drop(ha));
    ck_assert_uint_eq(live_in_release, base + 1);
    pthread_t other;
    ck_assert_int_eq(pthread_create(&other, NULL, drop_elsewhere, NULL), 0);
    ck_assert_int_eq(pthread_join(other, NULL), 0);
    ck_assert_uint_eq(live_in_release, base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reentry");
    ADD_CASE(s, reentry_release_drops_a_chain, 60);
    ADD_CASE(s, reentry_release_drops_its_own_handle_again, 30);
    ADD_CASE(s, reentry_release_makes_and_borrows_handles, 30);
    ADD_CASE(s, reentry_release_sees_its_drop_counted_on_both_paths, 30);
    return run_suite(s);
}
