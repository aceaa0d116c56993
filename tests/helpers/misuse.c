/* misuse.c — drops a handle twice. Run through ferry_add_test
 * (FERRY_ON_ERROR=abort) it must abort at the second drop with ferry's
 * message; without the policy it would reach the end and exit 0. */
#include <ferry.h>

#include <stdio.h>

static int object;
static void release(void *obj)
{
    (void)obj;
}

int main(void)
{
    ferry_type_desc desc = {.name = "helpers.Misused", .release = release};
    const ferry_type *t;
    ferry_handle h;
    if (ferry_type_register(&desc, &t) != FERRY_OK || ferry_box(t, &object, &h) != FERRY_OK ||
        ferry_drop(h) != FERRY_OK) {
        fprintf(stderr, "%s\n", ferry_last_error());
        return 1;
    }
    ferry_status s = ferry_drop(h);
    printf("misuse: the second drop returned %s instead of aborting\n", ferry_status_name(s));
    return 0;
}
