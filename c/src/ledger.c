/*
 * ledger.c — counts per type and per thread, summed on read.
 *
 * Each thread writes only its own rows, with plain loads and stores (no lock
 * prefix, no shared cache line), so counting costs the hot path almost
 * nothing; a reader adds up every thread's rows plus the totals of threads
 * that have exited.
 */
#include "alloc.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE_COUNT ((FERRY__MAX_TYPES + 1) / FERRY__LEDGER_PAGE)

/* Totals of exited threads; written under the registry lock only. */
static ferry__ledger_row *retired_pages[PAGE_COUNT];

/* Highest live any read has computed, per type id (0 = all types). */
static _Atomic uint64_t peak_seen[FERRY__MAX_TYPES + 1];

FERRY_COLD ferry__ledger_row *ferry__ledger_row_slow(ferry__thread *self, uint32_t type_id)
{
    ferry__ledger_row *page = ferry__calloc(FERRY__LEDGER_PAGE, sizeof *page, "ledger page");
    if (!page)
        return NULL;
    /* Only the owning thread stores its pages; release pairs with the
     * acquire of readers in other threads. */
    atomic_store_explicit(&self->pages[type_id / FERRY__LEDGER_PAGE], page, memory_order_release);
    return &page[type_id % FERRY__LEDGER_PAGE];
}

static const ferry__ledger_row *row_in(_Atomic(ferry__ledger_row *) const *pages, uint32_t id)
{
    const ferry__ledger_row *page =
        atomic_load_explicit(&pages[id / FERRY__LEDGER_PAGE], memory_order_acquire);
    return page ? &page[id % FERRY__LEDGER_PAGE] : NULL;
}

static int64_t load_signed(const ferry__ledger_row *r, int which)
{
    return (int64_t)atomic_load_explicit(&r->c[which], memory_order_relaxed);
}

/*
 * Folds row `from` into row `to` so that the peak bound (ledger_sum) stays
 * valid: sums add up; when to's peak happened, from's balance was at least
 * its minimum, and the other way round; the minima add up.
 */
static void fold_row(ferry__ledger_row *to, const ferry__ledger_row *from)
{
    int64_t peak_to = load_signed(to, FERRY__C_PEAK_BALANCE);
    int64_t min_to = load_signed(to, FERRY__C_MIN_BALANCE);
    int64_t peak_from = load_signed(from, FERRY__C_PEAK_BALANCE);
    int64_t min_from = load_signed(from, FERRY__C_MIN_BALANCE);
    for (int c = 0; c < FERRY__C_PEAK_BALANCE; c++) /* counters and the balance */
        atomic_store_explicit(&to->c[c],
                              atomic_load_explicit(&to->c[c], memory_order_relaxed) +
                                  atomic_load_explicit(&from->c[c], memory_order_relaxed),
                              memory_order_relaxed);
    int64_t peak =
        peak_to + min_from > peak_from + min_to ? peak_to + min_from : peak_from + min_to;
    atomic_store_explicit(&to->c[FERRY__C_PEAK_BALANCE], (uint64_t)(peak > 0 ? peak : 0),
                          memory_order_relaxed);
    atomic_store_explicit(&to->c[FERRY__C_MIN_BALANCE], (uint64_t)(min_to + min_from),
                          memory_order_relaxed);
}

void ferry__ledger_retire_thread(ferry__thread *t)
{
    for (uint32_t p = 0; p < PAGE_COUNT; p++) {
        ferry__ledger_row *page = atomic_load_explicit(&t->pages[p], memory_order_relaxed);
        if (!page)
            continue;
        if (!retired_pages[p] && !(retired_pages[p] = ferry__calloc(
                                       FERRY__LEDGER_PAGE, sizeof *page, "retired ledger page"))) {
            /* Keep the page rather than lose its counts. */
            retired_pages[p] = page;
            continue;
        }
        for (uint32_t i = 0; i < FERRY__LEDGER_PAGE; i++)
            fold_row(&retired_pages[p][i], &page[i]);
        free(page);
    }
}

typedef struct sum_ctx {
    uint32_t id;
    uint64_t c[FERRY__C_COUNT];
    int64_t sum_of_minima;      /* sum over rows of their lowest balance */
    int64_t best_peak_over_min; /* max over rows of (peak - lowest balance) */
} sum_ctx;

static const ferry__ledger_row *retired_row(uint32_t id)
{
    ferry__ledger_row *page = retired_pages[id / FERRY__LEDGER_PAGE];
    return page ? &page[id % FERRY__LEDGER_PAGE] : NULL;
}

/* Borrows, handoffs and revokes live in the type rows only; row 0 gets
 * their sum. */
static void sum_type_only_counters(ferry__thread *t, uint64_t *c)
{
    uint32_t n = ferry__type_count();
    for (uint32_t id = 1; id <= n; id++) {
        const ferry__ledger_row *r = t ? row_in(t->pages, id) : retired_row(id);
        if (!r)
            continue;
        c[FERRY__C_BORROWS] += atomic_load_explicit(&r->c[FERRY__C_BORROWS], memory_order_relaxed);
        c[FERRY__C_HANDOFFS] +=
            atomic_load_explicit(&r->c[FERRY__C_HANDOFFS], memory_order_relaxed);
        c[FERRY__C_REVOKED] += atomic_load_explicit(&r->c[FERRY__C_REVOKED], memory_order_relaxed);
    }
}

static void sum_thread(ferry__thread *t, void *arg)
{
    sum_ctx *ctx = arg;
    const ferry__ledger_row *r = t ? row_in(t->pages, ctx->id) : retired_row(ctx->id);
    if (ctx->id == FERRY__ALL_TYPES)
        sum_type_only_counters(t, ctx->c);
    if (!r)
        return;
    for (int c = 0; c < FERRY__C_PEAK_BALANCE; c++)
        ctx->c[c] += atomic_load_explicit(&r->c[c], memory_order_relaxed);
    int64_t peak = load_signed(r, FERRY__C_PEAK_BALANCE),
            min = load_signed(r, FERRY__C_MIN_BALANCE);
    ctx->sum_of_minima += min;
    if (peak - min > ctx->best_peak_over_min)
        ctx->best_peak_over_min = peak - min;
}

static void ledger_sum(uint32_t id, ferry_counts *out)
{
    sum_ctx ctx = {.id = id};
    ferry__threads_each(sum_thread, &ctx);
    memset(out, 0, sizeof *out);
    out->created = ctx.c[FERRY__C_CREATED];
    out->cloned = ctx.c[FERRY__C_CLONED];
    out->borrows = ctx.c[FERRY__C_BORROWS];
    out->handoffs = ctx.c[FERRY__C_HANDOFFS];
    out->taken = ctx.c[FERRY__C_TAKEN];
    out->dropped_by_c = ctx.c[FERRY__C_DROPPED_C];
    out->dropped_by_rust = ctx.c[FERRY__C_DROPPED_RUST];
    out->revoked = ctx.c[FERRY__C_REVOKED];
    out->live = out->created + out->cloned - out->taken - out->dropped_by_c - out->dropped_by_rust;

    /* When row r had its peak, every other row's balance was at least its
     * minimum, so live was at least peak_r + (sum of the others' minima).
     * With one thread (one row) that is exactly its peak. */
    int64_t bound = ctx.sum_of_minima + ctx.best_peak_over_min;
    uint64_t best = out->live;
    if (bound > (int64_t)best)
        best = (uint64_t)bound;
    uint64_t seen = atomic_load_explicit(&peak_seen[id], memory_order_relaxed);
    while (seen < best &&
           !atomic_compare_exchange_weak_explicit(&peak_seen[id], &seen, best, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    out->peak_live = seen > best ? seen : best;
}

ferry_status ferry_ledger(const ferry_type *t, ferry_counts *out)
{
    if (!out)
        return ferry__fail(FERRY_E_NULL, "ferry_ledger", NULL, "null out-pointer `out`");
    ledger_sum(t ? t->id : FERRY__ALL_TYPES, out);
    return FERRY_OK;
}

size_t ferry_live(void)
{
    ferry_counts all;
    ledger_sum(FERRY__ALL_TYPES, &all);
    return (size_t)all.live;
}

void ferry__each_live(void (*fn)(const ferry__live *live, void *ctx), void *ctx)
{
    uint32_t issued = ferry__slots_issued();
    for (uint32_t i = 0; i < issued; i++) {
        ferry__slot *slot = ferry__slot_at(i);
        if (!slot)
            continue;
        uint64_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
        unsigned kind = ferry__state_kind(s);
        if (kind == FERRY__FREE)
            continue;
        ferry__live live = {
            .h = ferry__handle_make(ferry__table_tag, ferry__state_gen(s), i),
            .type = ferry__type_by_id(atomic_load_explicit(&slot->type_id, memory_order_acquire)),
            .kind = kind,
            .created_at = atomic_load_explicit(&slot->created_at, memory_order_acquire),
        };
        fn(&live, ctx);
    }
}

typedef struct leak_report {
    FILE *out;
    size_t live;
} leak_report;

static void report_one(const ferry__live *l, void *ctx)
{
    leak_report *r = ctx;
    r->live++;
    if (!r->out)
        return;
    fprintf(r->out, "ferry: live handle 0x%016llx: type %s, kind %s, created at %s",
            (unsigned long long)l->h.bits, l->type ? l->type->name : "?", ferry__kind_name(l->kind),
            l->created_at ? l->created_at : "(unknown site)");
    ferry__trace trace;
    ferry__trace_read(ferry__handle_index(l->h), FERRY__TRACE_CREATED, &trace);
    char text[1024];
    size_t len = 0;
    text[0] = '\0';
    ferry__trace_format(text, &len, sizeof text, "created", &trace);
    fprintf(r->out, "%s\n", text);
}

size_t ferry_report_leaks(FILE *out)
{
    leak_report r = {out, 0};
    ferry__each_live(report_one, &r);
    return r.live;
}

static void leak_check_at_exit(void)
{
    size_t live = ferry_report_leaks(NULL);
    if (live == 0)
        return;
    fprintf(stderr, "ferry: FERRY_LEAK_CHECK: %zu handle%s still live at exit:\n", live,
            live == 1 ? "" : "s");
    ferry_report_leaks(stderr);
    fflush(NULL);
    _exit(23); /* LeakSanitizer's status, so CI scripts treat both alike */
}

void ferry__ledger_init(void)
{
    const char *v = getenv("FERRY_LEAK_CHECK");
    if (v && strcmp(v, "1") == 0)
        atexit(leak_check_at_exit);
}
