/* test_errors.c — ferry_last_error, status and kind names, the error policy
 * (call and FERRY_ON_ERROR) and the call-site macros in messages. */
#include "support.h"

/* How many creates on one thread a freed slot survives (internal.h). */
#define FERRY_TEST_QUARANTINE 8

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SS (FERRY_SEND | FERRY_SYNC)

static void assert_has(const char *text, const char *needle) {
    ck_assert_msg(text != NULL && strstr(text, needle) != NULL, "\"%s\" should contain \"%s\"",
                  text ? text : "(null)", needle);
}

/* ------------------------------------------------------------------ */
/* ferry_last_error                                                   */
/* ------------------------------------------------------------------ */

typedef struct msg_job {
    const ferry_type *t;
    char before[256];
    char after[1024];
    int was_null;
} msg_job;

static void *fresh_thread_messages(void *arg) {
    msg_job *j = arg;
    const char *m = ferry_last_error();
    j->was_null = m == NULL;
    snprintf(j->before, sizeof j->before, "%s", m ? m : "");
    ferry_handle h;
    (void)ferry_clone(FERRY_NULL_HANDLE, &h);
    m = ferry_last_error();
    snprintf(j->after, sizeof j->after, "%s", m ? m : "(null)");
    return NULL;
}

START_TEST(errors_last_error_empty_then_thread_local) {
    fx f;
    fx_init(&f, "e_last", SS, FX_PLAIN);
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    expect_ok(ferry_drop(h));
    expect_status(ferry_drop(h), FERRY_E_STALE);
    char mine[1024];
    snprintf(mine, sizeof mine, "%s", ferry_last_error());
    msg_assert_prefix(FERRY_E_STALE, "ferry_drop");

    /* a new thread starts with "" and its failure does not touch ours */
    msg_job j = {.t = f.type};
    run_on_thread(fresh_thread_messages, &j);
    ck_assert_int_eq(j.was_null, 0);
    ck_assert_str_eq(j.before, "");
    ck_assert_msg(strncmp(j.after, "FERRY_E_NULL: ferry_clone", 25) == 0, "thread's message: %s",
                  j.after);
    ck_assert_str_eq(ferry_last_error(), mine);
}
END_TEST

START_TEST(errors_last_error_replaced_by_next_failure) {
    fx f;
    fx_init(&f, "e_replace", SS, FX_PLAIN);
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    expect_status(ferry_unborrow(h), FERRY_E_BORROWED);
    msg_assert_prefix(FERRY_E_BORROWED, "ferry_unborrow");
    ferry_handle out;
    expect_status(ferry_clone(h, &out), FERRY_E_KIND);
    msg_assert_prefix(FERRY_E_KIND, "ferry_clone");
    msg_assert_lacks("ferry_unborrow");
    expect_ok(ferry_drop(h));
    msg_assert_prefix(FERRY_E_KIND, "ferry_clone");
}
END_TEST

/* ------------------------------------------------------------------ */
/* names                                                              */
/* ------------------------------------------------------------------ */

typedef struct status_row {
    ferry_status s;
    const char *name;
    const char *text;
} status_row;

#define ROW(name, value, text) {name, #name, text},
static const status_row status_rows[] = {FERRY_STATUS_LIST(ROW)};
#undef ROW

START_TEST(errors_status_name_and_text_for_every_status) {
    size_t n = sizeof status_rows / sizeof status_rows[0];
    ck_assert_uint_eq(n, 16);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq((int)status_rows[i].s, (int)i);
        ck_assert_str_eq(ferry_status_name(status_rows[i].s), status_rows[i].name);
        const char *text = ferry_status_text(status_rows[i].s);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_gt(strlen(text), 0);
        ck_assert_ptr_null(strchr(text, '\n'));
        for (size_t k = 0; k < i; k++)
            ck_assert_str_ne(text, ferry_status_text(status_rows[k].s));
    }
    ck_assert_str_eq(ferry_status_name(FERRY_OK), "FERRY_OK");
    ck_assert_str_eq(ferry_status_name(FERRY_E_STALE), "FERRY_E_STALE");
    ck_assert_str_eq(ferry_status_name(FERRY_E_SIGNATURE), "FERRY_E_SIGNATURE");
    const int unknown[] = {16, 17, 99, 1000, -1, -100};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        ck_assert_str_eq(ferry_status_name((ferry_status)unknown[i]), "FERRY_E_UNKNOWN");
        const char *text = ferry_status_text((ferry_status)unknown[i]);
        ck_assert_ptr_nonnull(text);
    }
}
END_TEST

START_TEST(errors_kind_names) {
    ck_assert_str_eq(ferry_kind_name(FERRY_KIND_UNIQUE), "unique");
    ck_assert_str_eq(ferry_kind_name(FERRY_KIND_SHARED), "shared");
    ck_assert_str_eq(ferry_kind_name(FERRY_KIND_LOCAL), "local");
    ck_assert_str_eq(ferry_kind_name(FERRY_KIND_WEAK), "weak");
    ck_assert_str_eq(ferry_kind_name(FERRY_KIND_LENT), "lent");
    ck_assert_str_eq(ferry_kind_name(FERRY_KIND_LENT_MUT), "lent mut");
    ck_assert_ptr_nonnull(ferry_kind_name((ferry_kind)0));
    ck_assert_ptr_nonnull(ferry_kind_name((ferry_kind)7));
    ck_assert_ptr_nonnull(ferry_kind_name((ferry_kind)-1));
}
END_TEST

/* ------------------------------------------------------------------ */
/* policy                                                             */
/* ------------------------------------------------------------------ */

START_TEST(errors_policy_set_returns_previous) {
    /* the suite runs without FERRY_ON_ERROR (CTest does not set it) */
    const char *env = getenv("FERRY_ON_ERROR");
    ferry_error_policy p0 = ferry_set_error_policy(FERRY_POLICY_LOG);
    if (env == NULL) ck_assert_int_eq(p0, FERRY_POLICY_RETURN);
    ck_assert_int_eq(ferry_set_error_policy(FERRY_POLICY_ABORT), FERRY_POLICY_LOG);
    ck_assert_int_eq(ferry_set_error_policy(FERRY_POLICY_RETURN), FERRY_POLICY_ABORT);
    ck_assert_int_eq(ferry_set_error_policy(FERRY_POLICY_RETURN), FERRY_POLICY_RETURN);
    ck_assert_int_eq(ferry_set_error_policy(p0), FERRY_POLICY_RETURN);
}
END_TEST

START_TEST(errors_policy_log_prints_message_to_stderr) {
    fx f;
    fx_init(&f, "e_log", SS, FX_PLAIN);
    ferry_handle h;
    int created = __LINE__; expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    int released = __LINE__; expect_ok(ferry_drop(h));

    capture c;
    capture_begin(&c);
    ferry_error_policy old = ferry_set_error_policy(FERRY_POLICY_LOG);
    ferry_status s = ferry_drop(h);
    ferry_set_error_policy(old);
    char *err = capture_end(&c);
    ck_assert_int_eq(s, FERRY_E_STALE);
    assert_has(err, "FERRY_E_STALE: ferry_drop");
    assert_has(err, ferry_last_error());
    ck_assert_msg(text_has_site(err, "created at", __FILE__, created), "stderr: %s", err);
    ck_assert_msg(text_has_site(err, "released at", __FILE__, released), "stderr: %s", err);
    free(err);

    /* RETURN prints nothing */
    capture_begin(&c);
    old = ferry_set_error_policy(FERRY_POLICY_RETURN);
    s = ferry_drop(h);
    ferry_set_error_policy(old);
    err = capture_end(&c);
    ck_assert_int_eq(s, FERRY_E_STALE);
    ck_assert_str_eq(err, "");
    free(err);

    /* and LOG prints nothing for successful calls */
    capture_begin(&c);
    old = ferry_set_error_policy(FERRY_POLICY_LOG);
    ferry_handle h2;
    s = ferry_box(f.type, fx_new(&f, 1), &h2);
    ferry_status s2 = s == FERRY_OK ? ferry_drop(h2) : s;
    ferry_set_error_policy(old);
    err = capture_end(&c);
    ck_assert_int_eq(s, FERRY_OK);
    ck_assert_int_eq(s2, FERRY_OK);
    ck_assert_str_eq(err, "");
    free(err);
}
END_TEST

START_TEST(errors_policy_abort_kills_with_report) {
    fx f;
    fx_init(&f, "e_abort", SS, FX_PLAIN);
    ferry_handle h, keep;
    /* made and ended here; the child inherits the table and misuses it */
    expect_ok(ferry_box(f.type, fx_new(&f, 1), &keep)); /* before h's slot is free */
    int created = __LINE__; expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    int released = __LINE__; expect_ok(ferry_drop(h));
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fileno(tmp), STDERR_FILENO);
        ferry_set_error_policy(FERRY_POLICY_ABORT);
        /* successful calls do not abort (and reuse no slot, so the
         * message can still say where h was released) */
        const void *p;
        if (ferry_check(keep, f.type) != FERRY_OK) _exit(3);
        if (ferry_borrow(keep, f.type, &p) != FERRY_OK) _exit(4);
        if (ferry_unborrow(keep) != FERRY_OK) _exit(6);
        ferry_drop(h);
        _exit(5); /* not reached under ABORT */
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "child should die by SIGABRT; status %#x (exit %d)", status,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    fseek(tmp, 0, SEEK_END);
    long len = ftell(tmp);
    rewind(tmp);
    char *err = calloc(1, (size_t)len + 1);
    ck_assert_uint_eq(fread(err, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    assert_has(err, "FERRY_E_STALE: ferry_drop");
    ck_assert_msg(text_has_site(err, "created at", __FILE__, created), "stderr: %s", err);
    ck_assert_msg(text_has_site(err, "released at", __FILE__, released), "stderr: %s", err);
    free(err);
    expect_ok(ferry_drop(keep));
    /* the policy of this process did not change */
    ck_assert_int_eq(ferry_set_error_policy(FERRY_POLICY_RETURN), FERRY_POLICY_RETURN);
}
END_TEST

START_TEST(errors_env_on_error_sets_initial_policy) {
    struct {
        const char *value;
        int policy;
    } cases[] = {{"return", 0}, {"log", 1}, {"abort", 2}, {"bogus", 0}, {"", 0}, {NULL, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = run_helper("policy", cases[i].value ? "FERRY_ON_ERROR" : NULL,
                                cases[i].value, NULL, NULL);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == cases[i].policy,
                      "FERRY_ON_ERROR=%s: helper status %#x, expected exit %d",
                      cases[i].value ? cases[i].value : "(unset)", status, cases[i].policy);
    }
}
END_TEST

START_TEST(errors_env_on_error_abort_and_log) {
    char *out = NULL, *err = NULL;
    int status = run_helper("double-drop", "FERRY_ON_ERROR", "abort", &out, &err);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "FERRY_ON_ERROR=abort: status %#x, stdout %s, stderr %s", status, out, err);
    assert_has(err, "FERRY_E_STALE: ferry_drop");
    assert_has(err, "helper.Thing");
    assert_has(err, "ferry_helper.c:");
    ck_assert_str_eq(out, ""); /* died before printing */
    free(out);
    free(err);

    status = run_helper("double-drop", "FERRY_ON_ERROR", "log", &out, &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "log: status %#x (%s)", status,
                  err);
    ck_assert_str_eq(out, "FERRY_E_STALE\n");
    assert_has(err, "FERRY_E_STALE: ferry_drop");
    free(out);
    free(err);

    status = run_helper("double-drop", "FERRY_ON_ERROR", "return", &out, &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "return: status %#x", status);
    ck_assert_str_eq(out, "FERRY_E_STALE\n");
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}
END_TEST

/* ------------------------------------------------------------------ */
/* call sites                                                         */
/* ------------------------------------------------------------------ */

START_TEST(errors_site_macros_name_creating_and_releasing_lines) {
    fx f;
    fx_init(&f, "e_sites", SS, FX_ALL);
    ferry_handle u, s, c, w;
    void *unit;

    int l_box = __LINE__; expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    int l_drop = __LINE__; expect_ok(ferry_drop(u));
    expect_fail(ferry_check(u, f.type), FERRY_E_STALE, "ferry_check");
    msg_assert_site("created at", l_box);
    msg_assert_site("released at", l_drop);

    int l_share = __LINE__; expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    int l_clone = __LINE__; expect_ok(ferry_clone(s, &c));
    int l_down = __LINE__; expect_ok(ferry_downgrade(c, &w));
    int l_take = __LINE__; expect_ok(ferry_take(c, f.type, &unit));
    fx_release(unit);
    expect_fail(ferry_drop(c), FERRY_E_STALE, "ferry_drop");
    msg_assert_site("created at", l_clone);
    msg_assert_site("released at", l_take);
    msg_assert_no_site("created at", l_share);

    /* a live handle's failure names where it was made */
    expect_fail(ferry_borrow(w, f.type, (const void **)&unit), FERRY_E_KIND, "ferry_borrow");
    msg_assert_site("created at", l_down);
    msg_assert_lacks("released at");

    int l_drop_s = __LINE__; expect_ok(ferry_drop(s));
    ferry_handle up;
    expect_fail(ferry_upgrade(w, &up), FERRY_E_EXPIRED, "ferry_upgrade");
    msg_assert_site("created at", l_down);
    (void)l_drop_s;
    expect_ok(ferry_drop(w));

    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    ferry_handle l;
    int l_lend = __LINE__; expect_ok(ferry_lend(f.type, &lent, &l));
    int l_revoke = __LINE__; expect_ok(ferry_revoke(l));
    expect_fail(ferry_revoke(l), FERRY_E_STALE, "ferry_revoke");
    msg_assert_site("created at", l_lend);
    msg_assert_site("released at", l_revoke);
}
END_TEST

/* Freed slots are quarantined: handles made right after a drop do not reuse
 * the slot, so a double drop still tells the whole story ("freed by"). */
/* Failures found outside libferry (the Rust boundary) read like its own. */
START_TEST(errors_report_error_sets_message_and_applies_policy) {
    ck_assert_int_eq(ferry_report_error(FERRY_E_PANIC, "fixture_poke", "Rust code panicked: boom"),
                     FERRY_E_PANIC);
    ck_assert_str_eq(ferry_last_error(), "FERRY_E_PANIC: fixture_poke: Rust code panicked: boom");
    ck_assert_int_eq(ferry_report_error(FERRY_E_NULL, NULL, NULL), FERRY_E_NULL);
    msg_assert_prefix(FERRY_E_NULL, "(unknown operation)");

    capture c;
    ferry_error_policy old = ferry_set_error_policy(FERRY_POLICY_LOG);
    capture_begin(&c);
    ferry_report_error(FERRY_E_TYPE, "rust_fn", "wrong handle");
    char *err = capture_end(&c);
    ferry_set_error_policy(old);
    ck_assert_msg(strstr(err, "ferry: FERRY_E_TYPE: rust_fn: wrong handle") != NULL, "stderr: %s",
                  err);
    free(err);
}
END_TEST

/* Wrapping the last message in a new one: the message passed in is the
 * buffer the new message is written to. */
START_TEST(errors_report_error_of_the_last_message_itself) {
    ck_assert_int_eq(ferry_drop(FERRY_NULL_HANDLE), FERRY_E_NULL);
    char before[1024];
    snprintf(before, sizeof before, "%s", ferry_last_error());
    ck_assert_int_eq(ferry_report_error(FERRY_E_PANIC, "wrap", ferry_last_error()), FERRY_E_PANIC);
    char want[1100];
    snprintf(want, sizeof want, "FERRY_E_PANIC: wrap: %s", before);
    ck_assert_str_eq(ferry_last_error(), want);
}
END_TEST

START_TEST(errors_stale_story_survives_later_creates) {
    fx f;
    fx_init(&f, "e_quarantine", SS, FX_PLAIN);
    ferry_handle h, later[FERRY_TEST_QUARANTINE];
    int l_box = __LINE__; expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    int l_drop = __LINE__; expect_ok(ferry_drop(h));
    for (int i = 0; i < FERRY_TEST_QUARANTINE; i++)
        expect_ok(ferry_box(f.type, fx_new(&f, i), &later[i]));
    expect_fail(ferry_drop(h), FERRY_E_STALE, "ferry_drop");
    msg_assert_has("type test.e_quarantine");
    msg_assert_has("kind unique");
    msg_assert_site("created at", l_box);
    msg_assert_site("released at", l_drop);
    for (int i = 0; i < FERRY_TEST_QUARANTINE; i++) expect_ok(ferry_drop(later[i]));
    ck_assert_int_eq(fx_count(&f.released), FERRY_TEST_QUARANTINE + 1);
}
END_TEST

START_TEST(errors_at_variants_report_plain_name_and_given_site) {
    fx f;
    fx_init(&f, "e_at", SS, FX_ALL);
    ferry_handle u, s, w, out;
    void *p;
    fx_obj *o = fx_new(&f, 0);
    expect_ok(ferry_box_at(f.type, o, &u, "custom/make.c:11"));
    expect_ok(ferry_drop_at(u, FERRY_BY_RUST, "src/lib.rs:22"));
    expect_fail(ferry_drop_at(u, FERRY_BY_C, "custom/again.c:33"), FERRY_E_STALE, "ferry_drop");
    msg_assert_has("created at custom/make.c:11");
    msg_assert_has("released at src/lib.rs:22");
    expect_fail(ferry_take_at(u, f.type, &p, "x.c:1"), FERRY_E_STALE, "ferry_take");
    expect_fail(ferry_revoke_at(u, FERRY_BY_C, "x.c:2"), FERRY_E_STALE, "ferry_revoke");
    expect_fail(ferry_clone_at(u, &out, "x.c:3"), FERRY_E_STALE, "ferry_clone");
    expect_fail(ferry_downgrade_at(u, &out, "x.c:4"), FERRY_E_STALE, "ferry_downgrade");
    expect_fail(ferry_upgrade_at(u, &out, "x.c:5"), FERRY_E_STALE, "ferry_upgrade");

    o = fx_new(&f, 0);
    expect_fail(ferry_box_at(NULL, o, &out, "x.c:6"), FERRY_E_NULL, "ferry_box");
    expect_fail(ferry_share_at(NULL, o, &out, "x.c:7"), FERRY_E_NULL, "ferry_share");
    expect_fail(ferry_local_at(NULL, o, &out, "x.c:8"), FERRY_E_NULL, "ferry_local");
    expect_fail(ferry_lend_at(NULL, o, &out, "x.c:9"), FERRY_E_NULL, "ferry_lend");
    expect_fail(ferry_lend_mut_at(NULL, o, &out, "x.c:10"), FERRY_E_NULL, "ferry_lend_mut");

    expect_ok(ferry_share_at(f.type, o, &s, "rust/src/a.rs:5"));
    expect_ok(ferry_downgrade_at(s, &w, "rust/src/a.rs:6"));
    expect_fail(ferry_revoke_at(w, FERRY_BY_C, "x.c:11"), FERRY_E_KIND, "ferry_revoke");
    msg_assert_has("created at rust/src/a.rs:6");
    msg_assert_has("kind weak");
    expect_ok(ferry_drop_at(s, FERRY_BY_RUST, "rust/src/a.rs:7"));
    expect_ok(ferry_drop_at(w, FERRY_BY_RUST, "rust/src/a.rs:8"));
    expect_fail(ferry_drop(s), FERRY_E_STALE, "ferry_drop");
    msg_assert_has("created at rust/src/a.rs:5");
    msg_assert_has("released at rust/src/a.rs:7");
}
END_TEST

START_TEST(errors_message_details_per_status) {
    fx f, g;
    fx_init(&f, "e_detail_f", SS, FX_ALL);
    fx_init(&g, "e_detail_g", SS, FX_ALL);
    ferry_handle u;
    const void *p;
    char want[160];
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));

    expect_fail(ferry_borrow(FERRY_NULL_HANDLE, f.type, &p), FERRY_E_NULL, "ferry_borrow");
    msg_assert_has("null handle");

    expect_fail(ferry_borrow(u, g.type, &p), FERRY_E_TYPE, "ferry_borrow");
    msg_assert_has(f.name);
    msg_assert_has(g.name);
    snprintf(want, sizeof want, "type %s", f.name);
    msg_assert_has(want);
    msg_assert_has("kind unique");

    ferry_handle out;
    expect_fail(ferry_clone(u, &out), FERRY_E_KIND, "ferry_clone");
    snprintf(want, sizeof want, "type %s", f.name);
    msg_assert_has(want);
    msg_assert_has("kind unique");

    char msg[1024];
    fx n;
    fx_init(&n, "e_detail_nosend", 0, FX_PLAIN);
    ferry_handle pinned;
    expect_ok(ferry_box(n.type, fx_new(&n, 0), &pinned));
    ck_assert_int_eq(run_op_on_thread(OP_BORROW, pinned, n.type, NULL, msg, sizeof msg),
                     FERRY_E_THREAD);
    ck_assert_msg(strncmp(msg, "FERRY_E_THREAD: ferry_borrow", 28) == 0, "message: %s", msg);
    assert_has(msg, "thread");
    snprintf(want, sizeof want, "type %s", n.name);
    assert_has(msg, want);
    assert_has(msg, "kind unique");

    expect_ok(ferry_drop(pinned));
    expect_ok(ferry_drop(u));
}
END_TEST

int main(void) {
    Suite *s = suite_create("errors");
    ADD_CASE(s, errors_last_error_empty_then_thread_local, 30);
    ADD_CASE(s, errors_last_error_replaced_by_next_failure, 30);
    ADD_CASE(s, errors_status_name_and_text_for_every_status, 30);
    ADD_CASE(s, errors_kind_names, 30);
    ADD_CASE(s, errors_policy_set_returns_previous, 30);
    ADD_CASE(s, errors_policy_log_prints_message_to_stderr, 30);
    ADD_CASE(s, errors_policy_abort_kills_with_report, 60);
    ADD_CASE(s, errors_env_on_error_sets_initial_policy, 60);
    ADD_CASE(s, errors_env_on_error_abort_and_log, 60);
    ADD_CASE(s, errors_site_macros_name_creating_and_releasing_lines, 30);
    ADD_CASE(s, errors_stale_story_survives_later_creates, 30);
    ADD_CASE(s, errors_report_error_sets_message_and_applies_policy, 30);
    ADD_CASE(s, errors_at_variants_report_plain_name_and_given_site, 30);
    ADD_CASE(s, errors_message_details_per_status, 30);
    ADD_CASE(s, errors_report_error_of_the_last_message_itself, 30);
    return run_suite(s);
}
