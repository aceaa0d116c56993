/*
 * ferry_helper.c — a small program the suites run with a chosen environment
 * (FERRY_ON_ERROR, FERRY_LEAK_CHECK) to test what ferry does at start-up and
 * at exit. argv[1] selects what it does:
 *
 *   policy       exit status = the policy in force at start-up (0/1/2)
 *   double-drop  boxes a "helper.Thing", drops it twice; prints the second
 *                status name on stdout and exits 0 (unless the policy aborts)
 *   leak         boxes a "helper.Leaky" and exits 0 without dropping it;
 *                prints the creation site on stdout
 *   noleak       boxes a "helper.Tidy", drops it, exits 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry.h"

static int released;
static void release_counted(void *obj) {
    (void)obj;
    released++;
}

static const ferry_type *reg(const char *name) {
    ferry_type_desc d = {.name = name, .flags = FERRY_SEND | FERRY_SYNC, .release = release_counted};
    const ferry_type *t = NULL;
    if (ferry_type_register(&d, &t) != FERRY_OK) {
        fprintf(stdout, "register failed: %s\n", ferry_last_error());
        exit(90);
    }
    return t;
}

static int object;

int main(int argc, char **argv) {
    if (argc != 2) return 91;
    const char *mode = argv[1];
    ferry_handle h = FERRY_NULL_HANDLE;

    if (strcmp(mode, "policy") == 0) {
        ferry_error_policy p = ferry_set_error_policy(FERRY_POLICY_RETURN);
        return (int)p;
    }
    if (strcmp(mode, "double-drop") == 0) {
        const ferry_type *t = reg("helper.Thing");
        if (ferry_box(t, &object, &h) != FERRY_OK) return 92;
        if (ferry_drop(h) != FERRY_OK) return 93;
        ferry_status s = ferry_drop(h);
        printf("%s\n", ferry_status_name(s));
        fflush(stdout);
        return 0;
    }
    if (strcmp(mode, "leak") == 0) {
        const ferry_type *t = reg("helper.Leaky");
        printf("%s\n", FERRY_SITE); ferry_status s = ferry_box(t, &object, &h);
        fflush(stdout);
        return s == FERRY_OK ? 0 : 94;
    }
    if (strcmp(mode, "noleak") == 0) {
        const ferry_type *t = reg("helper.Tidy");
        if (ferry_box(t, &object, &h) != FERRY_OK) return 95;
        if (ferry_drop(h) != FERRY_OK) return 96;
        return released == 1 ? 0 : 97;
    }
    return 98;
}
