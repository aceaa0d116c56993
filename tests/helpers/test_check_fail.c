/* test_check_fail.c — ferry/check.h's assertions on code that is wrong.
 * Every case must fail, with a message that shows the ledger diff or the
 * status; main runs the suite and checks each case's result, so this
 * program succeeds only if every assertion failed the way it should. Runs
 * in both of Check's modes (CK_FORK=no and yes). */
#include "helpers_types.h"

#include <stdlib.h>
#include <string.h>

START_TEST(leak_against_all_types)
{
    const ferry_type *t = helpers_type("helpers.fail.Leak", 0);
    ferry_mark m;
    ferry_ledger_mark(&m);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ferry_assert_balanced(&m);
}
END_TEST

START_TEST(fixture_catches_a_leak)
{
    const ferry_type *t = helpers_type("helpers.fail.Fixture", 0);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
}
END_TEST

START_TEST(clone_against_one_type)
{
    const ferry_type *t = helpers_type("helpers.fail.Shared", 1);
    ferry_handle a, b;
    ck_assert_ferry_ok(ferry_share(t, &helpers_object, &a));
    ferry_mark m;
    ferry_ledger_mark_type(&m, t);
    ck_assert_ferry_ok(ferry_clone(a, &b));
    ferry_assert_balanced(&m);
}
END_TEST

START_TEST(dropping_more_than_made)
{
    const ferry_type *t = helpers_type("helpers.fail.Over", 0);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ferry_mark m;
    ferry_ledger_mark_type(&m, t);
    ck_assert_ferry_ok(ferry_drop(h));
    ferry_assert_balanced(&m);
}
END_TEST

START_TEST(live_change_other_than_expected)
{
    const ferry_type *t = helpers_type("helpers.fail.Two", 0);
    ferry_mark m;
    ferry_ledger_mark_type(&m, t);
    ferry_handle a, b;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &a));
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &b));
    ferry_assert_live_change(&m, 1);
}
END_TEST

START_TEST(status_not_ok)
{
    ck_assert_ferry_ok(ferry_drop(FERRY_NULL_HANDLE));
}
END_TEST

START_TEST(status_ok_where_an_error_was_expected)
{
    const ferry_type *t = helpers_type("helpers.fail.Status", 0);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ck_assert_ferry_status(ferry_check(h, t), FERRY_E_STALE);
}
END_TEST

START_TEST(status_other_error)
{
    const ferry_type *t = helpers_type("helpers.fail.Other", 0);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ck_assert_ferry_ok(ferry_drop(h));
    ck_assert_ferry_status(ferry_drop(h), FERRY_E_TYPE);
}
END_TEST

START_TEST(many_live_handles)
{
    const ferry_type *t = helpers_type("helpers.fail.Many", 0);
    ferry_mark m;
    ferry_ledger_mark_type(&m, t);
    for (int i = 0; i < FERRY_CHECK_MAX_LIVE_LINES + 3; i++) {
        ferry_handle h;
        ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    }
    ferry_assert_balanced(&m);
}
END_TEST

/* What each case's failure message must contain, in this order. */
typedef struct expectation {
    const char *name;
    int fixture;
    const char *parts[10];
} expectation;

/* Runs after the checks (and in nofork mode in the same process), so no
 * case may depend on another; many_live_handles comes last because its 15
 * handles would crowd the all-types lists. */
static const expectation cases[] = {
    {"leak_against_all_types",
     0,
     {"ferry ledger not balanced since the mark at ",
      "test_check_fail.c:", " (all types): live 0 -> 1\n", "  created ", " (+1)\n",
      "  live 0 -> 1 (+1)\n", "live handles now:\n", "  ferry: live handle 0x",
      ": type helpers.fail.Leak, kind unique, created at ", "test_check_fail.c:"}},
    {"fixture_catches_a_leak",
     1,
     {"ferry ledger not balanced since the mark at ferry_ck_mark_setup (checked fixture) "
      "(all types): live ",
      "live handles now:\n", ": type helpers.fail.Fixture, kind unique, created at ",
      "test_check_fail.c:"}},
    {"clone_against_one_type",
     0,
     {"ferry ledger not balanced since the mark at ", " (type helpers.fail.Shared): live 1 -> 2\n",
      "  cloned 0 -> 1 (+1)\n", "  live 1 -> 2 (+1)\n",
      "live handles of helpers.fail.Shared now:\n", ": type helpers.fail.Shared, kind shared",
      ": type helpers.fail.Shared, kind shared"}},
    {"dropping_more_than_made",
     0,
     {" (type helpers.fail.Over): live 1 -> 0\n", "  dropped_by_c 0 -> 1 (+1)\n",
      "  live 1 -> 0 (-1)\n", "live handles of helpers.fail.Over now:"}},
    {"live_change_other_than_expected",
     0,
     {"ferry ledger: live changed by +2, expected +1 since the mark at ",
      "(type helpers.fail.Two): live 0 -> 2\n", "  created 0 -> 2 (+2)\n"}},
    {"status_not_ok",
     0,
     {"ferry_drop(FERRY_NULL_HANDLE) returned FERRY_E_NULL: FERRY_E_NULL: ferry_drop"}},
    {"status_ok_where_an_error_was_expected",
     0,
     {"ferry_check(h, t) returned FERRY_OK, expected FERRY_E_STALE"}},
    {"status_other_error",
     0,
     {"ferry_drop(h) returned FERRY_E_STALE, expected FERRY_E_TYPE: FERRY_E_STALE: ",
      "type helpers.fail.Other", "released at ", "test_check_fail.c:"}},
    {"many_live_handles",
     0,
     {"  created 0 -> 15 (+15)\n", "live handles of helpers.fail.Many now:\n", "  ... and 3 more"}},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

static const TTest *test_of(size_t i)
{
    const TTest *tests[NCASES] = {
        leak_against_all_types,
        fixture_catches_a_leak,
        clone_against_one_type,
        dropping_more_than_made,
        live_change_other_than_expected,
        status_not_ok,
        status_ok_where_an_error_was_expected,
        status_other_error,
        many_live_handles,
    };
    return tests[i];
}

/* Whether every part occurs in msg, each after the previous one. */
static int contains_in_order(const char *msg, const char *const *parts, size_t n)
{
    const char *at = msg;
    for (size_t i = 0; i < n && parts[i]; i++) {
        const char *hit = strstr(at, parts[i]);
        if (!hit) {
            printf("  missing (in order): \"%s\"\n", parts[i]);
            return 0;
        }
        at = hit + strlen(parts[i]);
    }
    return 1;
}

/* With FERRY_TRACE=1 (helpers.check_fail.traced) the first live handle
 * listed is followed by its creation backtrace, and only the first: the
 * counts and the "... and N more" line are unchanged. Without it, no
 * frame appears. */
static int traced_as_expected(const expectation *e, const char *msg)
{
    const char *v = getenv("FERRY_TRACE");
    int traced = v && strcmp(v, "1") == 0;
    const char *first = strstr(msg, "  ferry: live handle ");
    if (!first)
        return 1; /* the status cases list no handles */
    const char *frames = strstr(msg, "\n    created:\n      #0 ");
    const char *second = strstr(first + 1, "  ferry: live handle ");
    int ok = traced ? frames != NULL && (!second || frames < second) : frames == NULL;
    if (traced && second && strstr(second, "    created:"))
        ok = 0;
    if (!ok)
        printf("  frames %s in %s\n", traced ? "wrong or missing" : "present", e->name);
    return ok;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int main(void)
{
    /* the cases provoke misuse on purpose; abort would end them early */
    ferry_set_error_policy(FERRY_POLICY_RETURN);
    Suite *s = suite_create("helpers.check_fail");
    for (size_t i = 0; i < NCASES; i++) {
        /* one TCase per case: a result names its TCase, not its test */
        TCase *tc = tcase_create(cases[i].name);
        if (cases[i].fixture)
            tcase_add_checked_fixture(tc, ferry_ck_mark_setup, ferry_ck_balanced_teardown);
        tcase_add_test(tc, test_of(i));
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_SILENT);
    printf("mode: %s\n", srunner_fork_status(sr) == CK_FORK ? "fork" : "nofork");

    int bad = 0;
    int seen[NCASES] = {0};
    TestResult **results = srunner_results(sr);
    for (int r = 0; r < srunner_ntests_run(sr); r++) {
        TestResult *tr = results[r];
        size_t i = 0;
        while (i < NCASES && strcmp(cases[i].name, tr_tcname(tr)) != 0)
            i++;
        if (i == NCASES) {
            printf("unexpected result from %s\n", tr_tcname(tr));
            bad++;
            continue;
        }
        seen[i] = 1;
        const expectation *e = &cases[i];
        int ok = tr_rtype(tr) == CK_FAILURE;
        if (!ok)
            printf("  result type %d, not a failure\n", tr_rtype(tr));
        /* the failure is reported where the assertion was written */
        const char *want_file = e->fixture ? "ferry/check.h" : "test_check_fail.c";
        if (!tr_lfile(tr) || !ends_with(tr_lfile(tr), want_file)) {
            printf("  failure reported in %s, not %s\n", tr_lfile(tr) ? tr_lfile(tr) : "(none)",
                   want_file);
            ok = 0;
        }
        if (e->fixture && tr_ctx(tr) != CK_CTX_TEARDOWN) {
            printf("  failure not in the teardown\n");
            ok = 0;
        }
        ok &= contains_in_order(tr_msg(tr), e->parts, sizeof e->parts / sizeof e->parts[0]);
        ok &= traced_as_expected(e, tr_msg(tr));
        printf("%s %s\n", ok ? "ok" : "WRONG", e->name);
        if (!ok) {
            printf("--- its message:\n%s\n---\n", tr_msg(tr));
            bad++;
        }
    }
    free(results); /* the array is the caller's, its results the runner's */
    for (size_t i = 0; i < NCASES; i++) {
        if (!seen[i]) {
            printf("no result from %s\n", cases[i].name);
            bad++;
        }
    }
    srunner_free(sr);
    return bad == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
