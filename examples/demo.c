/*
 * demo.c — what ferry does, in one page: a C object handed out as checked
 * handles, a double free caught with its story, and a ledger that balances.
 */
#include <ferry.h>

#include <stdio.h>
#include <stdlib.h>

typedef struct point {
    int refs;
    double x, y;
} point;

static void *point_retain(void *obj)
{
    ((point *)obj)->refs++;
    return obj;
}

static void point_release(void *obj)
{
    point *p = obj;
    if (--p->refs == 0) {
        printf("   (point %.0f,%.0f freed)\n", p->x, p->y);
        free(p);
    }
}

static void print_ledger(const ferry_type *t)
{
    ferry_counts c;
    ferry_ledger(t, &c);
    printf("   ledger of %s: created %llu, cloned %llu, borrows %llu, dropped %llu, live %llu "
           "(peak %llu)\n",
           ferry_type_name(t), (unsigned long long)c.created, (unsigned long long)c.cloned,
           (unsigned long long)c.borrows, (unsigned long long)(c.dropped_by_c + c.dropped_by_rust),
           (unsigned long long)c.live, (unsigned long long)c.peak_live);
}

int main(void)
{
    const ferry_type *point_type;
    if (ferry_type_register(&(ferry_type_desc){.name = "demo.Point",
                                               .flags = FERRY_SEND | FERRY_SYNC,
                                               .release = point_release,
                                               .retain = point_retain},
                            &point_type) != FERRY_OK) {
        fprintf(stderr, "%s\n", ferry_last_error());
        return 1;
    }

    point *p = malloc(sizeof *p);
    if (!p)
        return 1;
    *p = (point){.refs = 1, .x = 3, .y = 4};

    printf("1. A shared point becomes a handle; C never sees the pointer again.\n");
    ferry_handle a, b;
    ferry_share(point_type, p, &a);
    ferry_clone(a, &b);
    printf("   handles %016llx and its clone %016llx\n", (unsigned long long)a.bits,
           (unsigned long long)b.bits);

    printf("2. A checked borrow gives the object for as long as C needs it.\n");
    const void *obj;
    ferry_borrow(b, point_type, &obj);
    printf("   borrowed point (%.0f, %.0f)\n", ((const point *)obj)->x, ((const point *)obj)->y);
    printf("3. Dropping it while borrowed is refused, not a use after free:\n");
    ferry_status s = ferry_drop(b);
    printf("   %s\n   %s\n", ferry_status_name(s), ferry_last_error());
    ferry_unborrow(b);

    printf("4. Drop both, then drop one again: a double free, caught.\n");
    ferry_drop(a);
    ferry_drop(b);
    s = ferry_drop(a);
    printf("   %s\n   %s\n", ferry_status_name(s), ferry_last_error());

    printf("5. The ledger balances: everything made was ended exactly once.\n");
    print_ledger(point_type);
    printf("   live handles in the process: %zu\n", ferry_live());
    return ferry_live() == 0 ? 0 : 1;
}
