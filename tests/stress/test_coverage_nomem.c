/*
 * test_coverage_nomem.c — allocation failures at moments c.nomem's scenario
 * does not produce (docs/coverage.md): a thread whose ledger has the page of
 * a type but not yet page 0, a borrow on a thread without the type's page,
 * a thread whose state cannot be allocated. Linked to ferry_faulty, like
 * tests/c/test_nomem.c; each case checks the status, the message, the
 * allocation site that failed and that nothing changed, then that the same
 * call succeeds once allocations do.
 */
#include "support.h"

#include <stdlib.h>

#define SS (FERRY_SEND | FERRY_SYNC)

/* 80 types: the last ones have ids past 63, in page 1 of a thread's ledger
 * (each page holds 64 rows), so a thread that has page 0 can still lack
 * theirs. */
static fx types[80];
static fx *early, *late;

static void setup(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    for (int i = 0; i < 80; i++)
        fx_init(&types[i], "nomem_cov", SS, FX_ALL);
    early = &types[0];
    late = &types[79];
}

typedef struct ctx {
    ferry_handle h; /* a shared handle of `late`, made by the main thread */
    ferry_status s[4];
    char msg[4][512];
    const char *site[4];
    uint64_t failures[4];
} ctx;

static void note(ctx *c, int i, ferry_status s)
{
    c->s[i] = s;
    snprintf(c->msg[i], sizeof c->msg[i], "%s", s == FERRY_OK ? "" : ferry_last_error());
    c->site[i] = ferry__test_failed_allocation_site();
    c->failures[i] = ferry__test_allocation_failures();
}

static void expect_nomem(const ctx *c, int i, const char *op, const char *text, const char *site)
{
    ck_assert_msg(c->s[i] == FERRY_E_NOMEM, "step %d: %s (%s)", i, ferry_status_name(c->s[i]),
                  c->msg[i]);
    ck_assert_msg(strncmp(c->msg[i], "FERRY_E_NOMEM: ", 15) == 0 &&
                      strncmp(c->msg[i] + 15, op, strlen(op)) == 0,
                  "step %d: message %s", i, c->msg[i]);
    ck_assert_msg(strstr(c->msg[i], text) != NULL, "step %d: message lacks \"%s\": %s", i, text,
                  c->msg[i]);
    ck_assert_msg(c->site[i] && strcmp(c->site[i], site) == 0, "step %d: failed site %s, not %s",
                  i, c->site[i] ? c->site[i] : "(none)", site);
    ck_assert_uint_ge(c->failures[i], 1);
}

static void expect_step_ok(const ctx *c, int i)
{
    ck_assert_msg(c->s[i] == FERRY_OK, "step %d: %s (%s)", i, ferry_status_name(c->s[i]),
                  c->msg[i]);
}

/* A thread with page 0 borrows a page-1 type: its ledger page cannot be
 * allocated (the fast path's lookup, then borrow_slow's), then can. */
static void *borrow_without_page(void *p)
{
    ctx *c = p;
    ferry_handle mine;
    const void *o;
    ferry_status s = ferry_box(early->type, fx_new(early, 1), &mine);
    if (s == FERRY_OK)
        s = ferry_drop(mine);
    note(c, 0, s);
    ferry__test_fail_allocations_from(1);
    note(c, 1, ferry_borrow(c->h, late->type, &o));
    /* one-shot: the fast path's allocation fails, borrow_slow's succeeds */
    ferry__test_fail_allocation(1);
    s = ferry_borrow(c->h, late->type, &o);
    note(c, 2, s);
    ferry__test_fail_allocation(0);
    note(c, 3, s == FERRY_OK ? ferry_unborrow(c->h) : s);
    return NULL;
}

START_TEST(cov_nomem_borrow_ledger_page)
{
    setup();
    ck_assert(ferry__test_fault_injection());
    ctx c = {0};
    expect_ok(ferry_share(late->type, fx_new(late, 1), &c.h));
    ferry_counts before = ledger_of(late->type);
    run_on_thread(borrow_without_page, &c);
    expect_step_ok(&c, 0);
    expect_nomem(&c, 1, "ferry_borrow", "ledger", "ledger page");
    expect_step_ok(&c, 2);
    ck_assert_uint_eq(c.failures[2], 1);
    expect_step_ok(&c, 3);
    ferry_counts after = ledger_of(late->type);
    ck_assert_uint_eq(after.borrows, before.borrows + 1); /* the failed borrow is not counted */
    expect_ok(ferry_drop(c.h));
    ck_assert_int_eq(fx_count(&late->destroyed), 1);
}
END_TEST

/* A thread's first call borrows a page-1 type (its ledger gets page 1
 * only); dropping then needs page 0 for the all-types row, which cannot be
 * allocated: the handle stays live and the drop succeeds later. */
static void *drop_without_page0(void *p)
{
    ctx *c = p;
    const void *o;
    ferry_status s = ferry_borrow(c->h, late->type, &o);
    if (s == FERRY_OK)
        s = ferry_unborrow(c->h);
    note(c, 0, s);
    ferry__test_fail_allocations_from(1);
    note(c, 1, ferry_drop(c->h));
    ferry__test_fail_allocation(0);
    note(c, 2, ferry_check(c->h, late->type));
    note(c, 3, ferry_drop(c->h));
    return NULL;
}

START_TEST(cov_nomem_drop_without_all_types_row)
{
    setup();
    ctx c = {0};
    ferry_handle keep;
    expect_ok(ferry_share(late->type, fx_new(late, 2), &keep));
    expect_ok(ferry_clone(keep, &c.h));
    size_t live = ferry_live();
    run_on_thread(drop_without_page0, &c);
    expect_step_ok(&c, 0);
    expect_nomem(&c, 1, "ferry_drop", "ledger", "ledger page");
    expect_step_ok(&c, 2);
    expect_step_ok(&c, 3);
    ck_assert_uint_eq(ferry_live(), live - 1);
    expect_ok(ferry_drop(keep));
    ck_assert_int_eq(fx_count(&late->bad), 0);
}
END_TEST

/* A thread whose state cannot be allocated: its borrow fails with
 * FERRY_E_NOMEM (borrow_slow has no thread), the next one works. */
static void *borrow_without_thread_state(void *p)
{
    ctx *c = p;
    const void *o;
    ferry__test_fail_allocations_from(1);
    note(c, 0, ferry_borrow(c->h, late->type, &o));
    ferry__test_fail_allocation(0);
    ferry_status s = ferry_borrow(c->h, late->type, &o);
    note(c, 1, s);
    note(c, 2, s == FERRY_OK ? ferry_unborrow(c->h) : s);
    return NULL;
}

START_TEST(cov_nomem_thread_state)
{
    setup();
    ctx c = {0};
    expect_ok(ferry_share(late->type, fx_new(late, 3), &c.h));
    run_on_thread(borrow_without_thread_state, &c);
    expect_nomem(&c, 0, "ferry_borrow", "thread", "thread state");
    expect_step_ok(&c, 1);
    expect_step_ok(&c, 2);
    expect_ok(ferry_drop(c.h));
    ck_assert_int_eq(fx_count(&late->bad), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coverage_nomem");
    ADD_CASE(s, cov_nomem_borrow_ledger_page, 60);
    ADD_CASE(s, cov_nomem_drop_without_all_types_row, 60);
    ADD_CASE(s, cov_nomem_thread_state, 60);
    return run_suite(s);
}
