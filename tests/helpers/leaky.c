/* leaky.c — leaves one handle live at exit. Run through ferry_add_test
 * (FERRY_LEAK_CHECK=1) it must end with status 23 and the leak report. */
#include <ferry.h>

#include <stdio.h>

static int object;
static void release(void *obj)
{
    (void)obj;
}

int main(void)
{
    ferry_type_desc desc = {.name = "helpers.Leaked", .release = release};
    const ferry_type *t;
    ferry_handle h;
    if (ferry_type_register(&desc, &t) != FERRY_OK || ferry_box(t, &object, &h) != FERRY_OK) {
        fprintf(stderr, "%s\n", ferry_last_error());
        return 1;
    }
    puts("leaky: returning with one handle live");
    /* before the leak report, which ferry writes to stderr at exit */
    fflush(stdout);
    return 0;
}
