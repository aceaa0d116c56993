/*
 * print.c — a call's result and the ledger's change as text on stdout:
 * numbers that read back to the same value, strings quoted and escaped so
 * that where one ends is never in doubt.
 */
#include "cli.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* The shortest decimal that strtod/strtof reads back as v: 3.5, not
 * 3.50000000000000000. */
static void print_float(double v, bool single)
{
    char buf[40];
    int max = single ? 9 : 17; /* digits that always round-trip */
    for (int digits = 1; digits <= max; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, stdout);
}

static void print_quoted(const char *s)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", stdout);
        else if (*c == '\t')
            fputs("\\t", stdout);
        else if (*c < 0x20 || *c == 0x7f)
            printf("\\x%02x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

void cli_print_value(const ferry_value *v, const ferry_param *result)
{
    switch (v->kind) {
    case FERRY_VALUE_VOID:
        fputs("()", stdout);
        break;
    case FERRY_VALUE_I8:
        printf("%" PRId8, v->as.i8);
        break;
    case FERRY_VALUE_I16:
        printf("%" PRId16, v->as.i16);
        break;
    case FERRY_VALUE_I32:
        printf("%" PRId32, v->as.i32);
        break;
    case FERRY_VALUE_I64:
        printf("%" PRId64, v->as.i64);
        break;
    case FERRY_VALUE_U8:
        printf("%" PRIu8, v->as.u8);
        break;
    case FERRY_VALUE_U16:
        printf("%" PRIu16, v->as.u16);
        break;
    case FERRY_VALUE_U32:
        printf("%" PRIu32, v->as.u32);
        break;
    case FERRY_VALUE_U64:
        printf("%" PRIu64, v->as.u64);
        break;
    case FERRY_VALUE_F32:
        print_float(v->as.f32, true);
        break;
    case FERRY_VALUE_F64:
        print_float(v->as.f64, false);
        break;
    case FERRY_VALUE_BOOL:
        fputs(v->as.b ? "true" : "false", stdout);
        break;
    case FERRY_VALUE_STR:
        print_quoted(v->as.str);
        break;
    case FERRY_VALUE_OWNED:
    case FERRY_VALUE_BORROWED: {
        char spelling[FERRY_PLUGIN_MAX_NAME + 8];
        printf("%s (handle 0x%016" PRIx64 ")",
               cli_param_spelling(result, spelling, sizeof spelling), v->as.handle.bits);
        break;
    }
    }
    putchar('\n');
}

/* The counters that only grow, in ferry_counts order. live is a level and
 * printed as is; peak_live is a high-water mark, not a count of events. */
static const struct {
    const char *name;
    size_t offset;
} counters[] = {
    {"created", offsetof(ferry_counts, created)},
    {"cloned", offsetof(ferry_counts, cloned)},
    {"borrows", offsetof(ferry_counts, borrows)},
    {"handoffs", offsetof(ferry_counts, handoffs)},
    {"taken", offsetof(ferry_counts, taken)},
    {"dropped_by_c", offsetof(ferry_counts, dropped_by_c)},
    {"dropped_by_rust", offsetof(ferry_counts, dropped_by_rust)},
    {"revoked", offsetof(ferry_counts, revoked)},
};

static uint64_t counter(const ferry_counts *c, size_t offset)
{
    return *(const uint64_t *)((const char *)c + offset);
}

void cli_print_ledger_delta(const ferry_counts *before, const ferry_counts *after)
{
    bool any = false;
    fputs("ledger:", stdout);
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        uint64_t delta = counter(after, counters[i].offset) - counter(before, counters[i].offset);
        if (delta != 0) {
            printf("%s %s +%" PRIu64, any ? "," : "", counters[i].name, delta);
            any = true;
        }
    }
    printf("%s live %" PRIu64 "\n", any ? "," : " unchanged,", after->live);
}
