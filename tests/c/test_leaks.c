/* test_leaks.c — ferry_report_leaks and FERRY_LEAK_CHECK=1 at exit. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#define SS (FERRY_SEND | FERRY_SYNC)

static const char *site(int line) {
    static char buf[8][64];
    static int next;
    char *b = buf[next++ % 8];
    return site_of(b, 64, __FILE__, line);
}

static char *report_to_string(size_t *count) {
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    *count = ferry_report_leaks(tmp);
    fflush(tmp);
    long len = ftell(tmp);
    ck_assert_int_ge(len, 0);
    rewind(tmp);
    char *text = calloc(1, (size_t)len + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(fread(text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    return text;
}

/* The report's line that mentions needle (malloc'd), or NULL. */
static char *line_with(const char *text, const char *needle) {
    const char *hit = strstr(text, needle);
    if (!hit) return NULL;
    const char *start = hit;
    while (start > text && start[-1] != '\n') start--;
    const char *end = strchr(hit, '\n');
    if (!end) end = hit + strlen(hit);
    char *line = calloc(1, (size_t)(end - start) + 1);
    memcpy(line, start, (size_t)(end - start));
    return line;
}

static size_t count_lines_with(const char *text, const char *needle) {
    size_t n = 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *line = strndup(p, len);
        if (strstr(line, needle)) n++;
        free(line);
        p += len + (end ? 1 : 0);
    }
    return n;
}

START_TEST(leaks_report_lists_each_live_handle) {
    size_t base = ferry_live();
    fx fu, fs, fl;
    fx_init(&fu, "leak_unique", SS, FX_ALL);
    fx_init(&fs, "leak_shared", SS, FX_ALL);
    fx_init(&fl, "leak_lent", SS, FX_ALL);
    fx_obj lent;
    fx_obj_init_lent(&lent, &fl, 0);
    ferry_handle u, s, w, l;
    int l_u = __LINE__; expect_ok(ferry_box(fu.type, fx_new(&fu, 0), &u));
    int l_s = __LINE__; expect_ok(ferry_share(fs.type, fx_new(&fs, 0), &s));
    int l_w = __LINE__; expect_ok(ferry_downgrade(s, &w));
    int l_l = __LINE__; expect_ok(ferry_lend_mut(fl.type, &lent, &l));

    size_t n = 0;
    char *text = report_to_string(&n);
    ck_assert_uint_eq(n, base + 4);
    ck_assert_uint_eq(n, ferry_live());

    struct {
        const char *type;
        const char *kind;
        int line;
        size_t lines;
    } want[] = {{fu.name, "unique", l_u, 1}, {fs.name, "shared", l_s, 2},
                {fs.name, "weak", l_w, 2},   {fl.name, "lent mut", l_l, 1}};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_msg(count_lines_with(text, want[i].type) == want[i].lines,
                      "report should name %s on %zu lines:\n%s", want[i].type, want[i].lines,
                      text);
        char *line = line_with(text, site(want[i].line));
        ck_assert_msg(line != NULL, "report lacks site %s:\n%s", site(want[i].line), text);
        ck_assert_msg(strstr(line, want[i].type) != NULL, "line lacks type %s: %s", want[i].type,
                      line);
        ck_assert_msg(strstr(line, want[i].kind) != NULL, "line lacks kind %s: %s", want[i].kind,
                      line);
        free(line);
    }
    free(text);

    /* NULL only counts */
    ck_assert_uint_eq(ferry_report_leaks(NULL), base + 4);

    expect_ok(ferry_drop(u));
    expect_ok(ferry_drop(w));
    expect_ok(ferry_drop(s));
    expect_ok(ferry_revoke(l));
    text = report_to_string(&n);
    ck_assert_uint_eq(n, base);
    ck_assert_msg(strstr(text, fu.name) == NULL && strstr(text, fs.name) == NULL &&
                      strstr(text, fl.name) == NULL,
                  "ended handles still reported:\n%s", text);
    free(text);
    ck_assert_uint_eq(ferry_report_leaks(NULL), base);
}
END_TEST

START_TEST(leaks_report_empty_when_nothing_live) {
    if (ferry_live() != 0) return; /* another case leaked in no-fork mode */
    size_t n = 99;
    char *text = report_to_string(&n);
    ck_assert_uint_eq(n, 0);
    free(text);
}
END_TEST

START_TEST(leaks_env_leak_check_exits_23_with_report) {
    char *out = NULL, *err = NULL;
    int status = run_helper("leak", "FERRY_LEAK_CHECK", "1", &out, &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 23,
                  "leaking helper: status %#x (exit %d), stderr:\n%s", status,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1, err);
    /* out holds the creation site the helper printed */
    char *nl = strchr(out, '\n');
    if (nl) *nl = '\0';
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    ck_assert_msg(strstr(base, "ferry_helper.c:") == base, "helper printed %s", out);
    ck_assert_msg(strstr(err, "helper.Leaky") != NULL, "report lacks type:\n%s", err);
    ck_assert_msg(strstr(err, "unique") != NULL, "report lacks kind:\n%s", err);
    ck_assert_msg(strstr(err, base) != NULL, "report lacks site %s:\n%s", base, err);
    free(out);
    free(err);
}
END_TEST

START_TEST(leaks_env_leak_check_exits_0_without_leaks) {
    char *out = NULL, *err = NULL;
    int status = run_helper("noleak", "FERRY_LEAK_CHECK", "1", &out, &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "tidy helper: status %#x, stderr:\n%s", status, err);
    ck_assert_msg(strstr(err, "helper.Tidy") == NULL, "tidy helper reported:\n%s", err);
    free(out);
    free(err);
}
END_TEST

START_TEST(leaks_no_env_no_check) {
    char *out = NULL, *err = NULL;
    int status = run_helper("leak", NULL, NULL, &out, &err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "leaking helper without FERRY_LEAK_CHECK: status %#x, stderr:\n%s", status, err);
    ck_assert_msg(strstr(err, "helper.Leaky") == NULL, "report printed anyway:\n%s", err);
    free(out);
    free(err);
}
END_TEST

int main(void) {
    Suite *s = suite_create("leaks");
    ADD_CASE(s, leaks_report_lists_each_live_handle, 30);
    ADD_CASE(s, leaks_report_empty_when_nothing_live, 30);
    ADD_CASE(s, leaks_env_leak_check_exits_23_with_report, 60);
    ADD_CASE(s, leaks_env_leak_check_exits_0_without_leaks, 60);
    ADD_CASE(s, leaks_no_env_no_check, 60);
    return run_suite(s);
}
