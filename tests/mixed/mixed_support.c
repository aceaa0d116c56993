/* mixed_support.c — see mixed_support.h. */
#include "mixed_support.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Fixture types                                                      */
/* ------------------------------------------------------------------ */

static const char *const type_names[MX_NTYPES] = {
    [MX_COUNTER] = "fixture.Counter", [MX_CELL] = "fixture.CellBox",
    [MX_NODE] = "fixture.Node",       [MX_LOCKED] = "fixture.Locked",
    [MX_PANICKY] = "fixture.Panicky",
};

const char *mx_type_name(enum mx_type which) {
    return (unsigned)which < MX_NTYPES ? type_names[which] : "?";
}

void mx_types_init(void) {
    if (!ferry_type_find("fixture.Counter")) {
        Handle_Counter h;
        int64_t v;
        expect_ok(fixture_counter_new(0, &h));
        expect_ok(fixture_counter_take(h, &v));
    }
    if (!ferry_type_find("fixture.CellBox")) {
        Handle_CellBox h;
        int64_t v;
        expect_ok(fixture_cell_new(0, &h));
        expect_ok(fixture_cell_take(h, &v));
    }
    if (!ferry_type_find("fixture.Node")) {
        Handle_Node h;
        expect_ok(fixture_node_new(0, &h));
        expect_ok(ferry_drop_as(Node, h));
    }
    if (!ferry_type_find("fixture.Locked")) {
        Handle_Locked h;
        expect_ok(fixture_locked_new(0, &h));
        expect_ok(ferry_drop_as(Locked, h));
    }
    if (!ferry_type_find("fixture.Panicky")) {
        Handle_Panicky h;
        expect_ok(fixture_panicky_new(&h));
        expect_ok(ferry_drop_as(Panicky, h));
    }
}

const ferry_type *mx_type(enum mx_type which) {
    ck_assert_int_lt((int)which, MX_NTYPES);
    const ferry_type *t = ferry_type_find(type_names[which]);
    if (!t) {
        mx_types_init();
        t = ferry_type_find(type_names[which]);
    }
    ck_assert_msg(t != NULL, "type %s is not registered", type_names[which]);
    return t;
}

/* ------------------------------------------------------------------ */
/* Balance snapshots                                                  */
/* ------------------------------------------------------------------ */

static ferry_counts ledger_of(const ferry_type *t) {
    ferry_counts c;
    memset(&c, 0xa5, sizeof c);
    ferry_status s = ferry_ledger(t, &c);
    ck_assert_msg(s == FERRY_OK, "ferry_ledger: %s", ferry_status_name(s));
    return c;
}

void mx_balance_take(mx_balance *b) {
    memset(b, 0, sizeof *b);
    for (int i = 0; i < MX_NTYPES; i++) b->type[i] = ledger_of(mx_type((enum mx_type)i));
    b->all = ledger_of(NULL);
    for (uint32_t i = 0; i < 6; i++) b->rust[i] = fixture_count(i);
    b->live = ferry_live();
}

#define D(a, b, f) ((int64_t)((b)->f - (a)->f))

static void identity(const ferry_counts *c, const char *what, const char *file, int line) {
    uint64_t in = c->created + c->cloned;
    uint64_t out = c->taken + c->dropped_by_c + c->dropped_by_rust;
    ck_assert_msg(c->live == in - out,
                  "%s:%d: %s: live %" PRIu64 " != created %" PRIu64 " + cloned %" PRIu64
                  " - taken %" PRIu64 " - dropped_by_c %" PRIu64 " - dropped_by_rust %" PRIu64,
                  file, line, what, c->live, c->created, c->cloned, c->taken, c->dropped_by_c,
                  c->dropped_by_rust);
    ck_assert_msg(c->revoked <= c->dropped_by_c + c->dropped_by_rust,
                  "%s:%d: %s: revoked %" PRIu64 " exceeds the drops", file, line, what,
                  c->revoked);
}

/* Differences are collected, so one failure lists every counter that is
 * off, not just the first. */
typedef struct diffs {
    char text[8192];
    size_t len;
    int n;
} diffs;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void diff_add(diffs *d, const char *fmt, ...) {
    d->n++;
    if (d->len >= sizeof d->text - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(d->text + d->len, sizeof d->text - d->len, fmt, ap);
    va_end(ap);
    if (w > 0) d->len += (size_t)w;
    if (d->len >= sizeof d->text) d->len = sizeof d->text - 1;
}

#define CMP(field, want)                                                                     \
    do {                                                                                     \
        int64_t want_ = (want);                                                              \
        int64_t got_ = D(a, b, field);                                                       \
        if (want_ != MX_ANY && got_ != want_)                                                \
            diff_add(&df, "\n  ledger of %s: %s changed by %" PRId64 ", expected %" PRId64,  \
                     name, #field, got_, want_);                                             \
    } while (0)

#define REPORT(df, what)                                                                     \
    ck_assert_msg((df).n == 0, "%s:%d: %s: %d difference%s:%s", file, line, (what), (df).n,  \
                  (df).n == 1 ? "" : "s", (df).text)

void mx_balance_expect_at(const mx_balance *before, enum mx_type which, const mx_delta *d,
                          const char *file, int line) {
    mx_balance now;
    mx_balance_take(&now);
    diffs df = {.len = 0};
    for (int i = 0; i < MX_NTYPES; i++) {
        const ferry_counts *a = &before->type[i], *b = &now.type[i];
        const char *name = type_names[i];
        identity(b, name, file, line);
        if (i == (int)which) {
            CMP(created, d->created);
            CMP(cloned, d->cloned);
            CMP(taken, d->taken);
            CMP(dropped_by_c, d->by_c);
            CMP(dropped_by_rust, d->by_rust);
            CMP(revoked, d->revoked);
            CMP(borrows, d->borrows);
            CMP(handoffs, d->handoffs);
            CMP(live, d->created + d->cloned - d->taken - d->by_c - d->by_rust);
            int64_t drops = (int64_t)(now.rust[i] - before->rust[i]);
            if (d->rust_drops != MX_ANY && drops != d->rust_drops)
                diff_add(&df, "\n  Rust drops of %s changed by %" PRId64 ", expected %" PRId64,
                         name, drops, d->rust_drops);
        } else {
            CMP(created, 0);
            CMP(cloned, 0);
            CMP(taken, 0);
            CMP(dropped_by_c, 0);
            CMP(dropped_by_rust, 0);
            CMP(revoked, 0);
            CMP(borrows, 0);
            CMP(handoffs, 0);
            CMP(live, 0);
            if (now.rust[i] != before->rust[i])
                diff_add(&df, "\n  Rust drops of %s changed by %" PRId64 ", expected 0", name,
                         (int64_t)(now.rust[i] - before->rust[i]));
        }
    }
    int64_t clones = (int64_t)(now.rust[MX_COUNTER_CLONES] - before->rust[MX_COUNTER_CLONES]);
    if (d->rust_clones != MX_ANY && clones != d->rust_clones)
        diff_add(&df, "\n  Counter::clone calls changed by %" PRId64 ", expected %" PRId64,
                 clones, d->rust_clones);
    int64_t live_sum = 0;
    for (int i = 0; i < MX_NTYPES; i++) live_sum += D(&before->type[i], &now.type[i], live);
    int64_t live = (int64_t)now.live - (int64_t)before->live;
    if (live != live_sum)
        diff_add(&df, "\n  ferry_live() changed by %" PRId64 ", the fixture ledgers by %" PRId64,
                 live, live_sum);
    REPORT(df, "balance");
    identity(&now.all, "all types", file, line);
    ck_assert_msg(now.all.live == now.live, "%s:%d: ferry_ledger(NULL).live %" PRIu64
                  " != ferry_live() %zu", file, line, now.all.live, now.live);
}

static void unchanged_diffs(const mx_balance *before, diffs *dfp) {
    mx_balance now;
    mx_balance_take(&now);
#define df (*dfp)
    for (int i = 0; i <= MX_NTYPES; i++) {
        const ferry_counts *a = i < MX_NTYPES ? &before->type[i] : &before->all;
        const ferry_counts *b = i < MX_NTYPES ? &now.type[i] : &now.all;
        const char *name = i < MX_NTYPES ? type_names[i] : "all types";
        CMP(created, 0);
        CMP(cloned, 0);
        CMP(taken, 0);
        CMP(dropped_by_c, 0);
        CMP(dropped_by_rust, 0);
        CMP(revoked, 0);
        CMP(borrows, 0);
        CMP(handoffs, 0);
        CMP(live, 0);
        CMP(peak_live, 0);
    }
    for (int i = 0; i < 6; i++)
        if (now.rust[i] != before->rust[i])
            diff_add(&df, "\n  fixture_count(%d) changed by %" PRId64 ", expected 0", i,
                     (int64_t)(now.rust[i] - before->rust[i]));
    if (now.live != before->live)
        diff_add(&df, "\n  ferry_live() changed: %zu -> %zu", before->live, now.live);
#undef df
}

void mx_balance_unchanged_at(const mx_balance *before, const char *file, int line) {
    diffs df = {.len = 0};
    unchanged_diffs(before, &df);
    REPORT(df, "expected no change");
}

int mx_balance_diff(const mx_balance *before, char *buf, size_t n) {
    diffs df = {.len = 0};
    unchanged_diffs(before, &df);
    if (buf && n) snprintf(buf, n, "%s", df.text);
    return df.n;
}

size_t mx_strong(Handle_Counter h) {
    size_t n = 0;
    ferry_status s = fixture_counter_strong_count(h, &n);
    ck_assert_msg(s == FERRY_OK, "fixture_counter_strong_count: %s (%s)", ferry_status_name(s),
                  ferry_last_error());
    return n;
}

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

void msg_assert_starts_at(const char *prefix, const char *file, int line) {
    const char *msg = ferry_last_error();
    size_t n = strlen(prefix);
    require(msg != NULL && strncmp(msg, prefix, n) == 0 && msg[n] == ':',
            "%s:%d: message should start with \"%s:\": \"%s\"", file, line, prefix,
            msg ? msg : "(null)");
}

void text_assert_has_at(const char *text, const char *needle, const char *file, int line) {
    require(text != NULL && strstr(text, needle) != NULL,
            "%s:%d: message should contain \"%s\": \"%s\"", file, line, needle,
            text ? text : "(null)");
}

void msg_assert_has_at(const char *needle, const char *file, int line) {
    text_assert_has_at(ferry_last_error(), needle, file, line);
}

bool text_has_site_line(const char *text, const char *label, const char *suffix, long want) {
    size_t lablen = strlen(label), suflen = strlen(suffix);
    for (const char *p = text ? strstr(text, label) : NULL; p; p = strstr(p + 1, label)) {
        const char *tok = p + lablen;
        while (*tok == ' ') tok++;
        size_t len = strcspn(tok, " ,;)\n\t");
        /* tok[0..len) is "<path>:<line>": split at the last ':' */
        size_t colon = len;
        while (colon > 0 && tok[colon - 1] != ':') colon--;
        if (colon == 0 || colon == len) continue;
        size_t path_len = colon - 1;
        bool digits = true;
        long line = 0;
        for (size_t i = colon; i < len; i++) {
            if (tok[i] < '0' || tok[i] > '9') digits = false;
            else line = line * 10 + (tok[i] - '0');
        }
        if (!digits || (want >= 0 && line != want)) continue;
        if (path_len >= suflen && strncmp(tok + path_len - suflen, suffix, suflen) == 0 &&
            (path_len == suflen || tok[path_len - suflen - 1] == '/'))
            return true;
    }
    return false;
}

bool text_has_site(const char *text, const char *label, const char *suffix) {
    return text_has_site_line(text, label, suffix, -1);
}

void msg_assert_site_at(const char *label, const char *suffix, const char *file, int line) {
    const char *msg = ferry_last_error();
    require(text_has_site(msg, label, suffix),
            "%s:%d: message should contain \"%s <path ending in %s>:<line>\": \"%s\"", file, line,
            label, suffix, msg ? msg : "(null)");
}

void msg_assert_c_site_at(const char *label, const char *srcfile, int srcline, const char *file,
                          int line) {
    const char *msg = ferry_last_error();
    const char *base = strrchr(srcfile, '/');
    base = base ? base + 1 : srcfile;
    require(text_has_site_line(msg, label, base, srcline),
            "%s:%d: message should contain \"%s <path>/%s:%d\": \"%s\"", file, line, label, base,
            srcline, msg ? msg : "(null)");
}

/* ------------------------------------------------------------------ */
/* Threads, scale, running                                            */
/* ------------------------------------------------------------------ */

void run_on_thread(void *(*fn)(void *), void *arg) {
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, fn, arg), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
}

long scaled(long n) {
    const char *s = getenv("FERRY_TEST_SCALE");
    long div = s ? strtol(s, NULL, 10) : 1;
    if (div < 1) div = 1;
    long r = n / div;
    return r < 1 ? 1 : r;
}

void mx_case_setup(void) {
    ferry_set_error_policy(FERRY_POLICY_RETURN);
    mx_types_init();
}

void mx_case_teardown(void) {
    ferry_set_error_policy(FERRY_POLICY_RETURN);
}

int run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
