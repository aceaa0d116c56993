/*
 * The installed package's smoke test: one C type through box, borrow and
 * drop, and the ledger balanced at the end.
 */
#include <ferry.h>

#include <stdio.h>
#include <stdlib.h>

static void point_free(void *p)
{
    free(p);
}

static int check(const char *what, ferry_status s)
{
    if (s != FERRY_OK)
        fprintf(stderr, "%s: %s: %s\n", what, ferry_status_name(s), ferry_last_error());
    return s == FERRY_OK;
}

int main(void)
{
    const ferry_type *point;
    ferry_handle h;
    const void *obj;
    ferry_counts counts;
    if (!check("register",
               ferry_type_register(&(ferry_type_desc){.name = "consumer.Point",
                                                      .flags = FERRY_SEND | FERRY_SYNC,
                                                      .release = point_free},
                                   &point)) ||
        !check("box", ferry_box(point, calloc(1, 16), &h)) ||
        !check("borrow", ferry_borrow(h, point, &obj)) || !check("unborrow", ferry_unborrow(h)) ||
        !check("drop", ferry_drop(h)) || !check("ledger", ferry_ledger(point, &counts)))
        return 1;
    if (ferry_drop(h) != FERRY_E_STALE || counts.created != 1 || counts.dropped_by_c != 1 ||
        counts.live != 0 || ferry_live() != 0) {
        fprintf(stderr, "ledger not balanced\n");
        return 1;
    }
    printf("consumer: ferry %s, ledger balanced\n", FERRY_VERSION_STRING);
    return 0;
}
