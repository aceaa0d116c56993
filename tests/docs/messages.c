/*
 * The misuse messages README.md quotes under "Why not raw pointers": each
 * mistake once, its message on one line of stdout. check_readme.py
 * checks that the README still quotes every line (handle bits and the
 * directory of this file aside). Exits 0 only if every misuse was refused.
 */
#include <ferry.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void release(void *obj) { free(obj); }
static void *retain(void *obj) { return obj; } /* one object, never freed twice here */
static void release_shared(void *obj) { (void)obj; }

static int refused;
static void show(ferry_status got, ferry_status want)
{
    printf("%s\n", ferry_last_error());
    refused += got == want;
}

static ferry_handle cursor;
static const ferry_type *cursor_type;

static void *other_thread(void *arg)
{
    (void)arg;
    const void *obj;
    show(ferry_borrow(cursor, cursor_type, &obj), FERRY_E_THREAD);
    return NULL;
}

int main(void)
{
    static int config;
    const ferry_type *point, *image, *config_type;
    ferry_type_register(&(ferry_type_desc){.name = "demo.Point",
                                           .flags = FERRY_SEND | FERRY_SYNC,
                                           .release = release},
                        &point);
    ferry_type_register(&(ferry_type_desc){.name = "demo.Image",
                                           .flags = FERRY_SEND | FERRY_SYNC,
                                           .release = release},
                        &image);
    ferry_type_register(&(ferry_type_desc){.name = "demo.Config",
                                           .flags = FERRY_SEND | FERRY_SYNC,
                                           .release = release_shared,
                                           .retain = retain},
                        &config_type);
    ferry_type_register(&(ferry_type_desc){.name = "demo.Cursor", .release = release},
                        &cursor_type); /* no FERRY_SEND: pinned to its thread */

    const void *obj;
    ferry_handle h, copy;

    /* double free, use after free */
    ferry_box(point, malloc(16), &h);
    ferry_drop(h);
    show(ferry_drop(h), FERRY_E_STALE);
    show(ferry_borrow(h, point, &obj), FERRY_E_STALE);

    /* wrong type; a kind that does not allow the operation */
    ferry_box(point, malloc(16), &h);
    show(ferry_borrow(h, image, &obj), FERRY_E_TYPE);
    show(ferry_clone(h, &copy), FERRY_E_KIND);
    ferry_drop(h);

    /* free while borrowed */
    ferry_share(config_type, &config, &h);
    ferry_borrow(h, config_type, &obj);
    show(ferry_drop(h), FERRY_E_BORROWED);
    ferry_unborrow(h);
    ferry_drop(h);

    /* wrong thread */
    ferry_box(cursor_type, malloc(16), &cursor);
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    ferry_drop(cursor);

    return refused == 6 && ferry_live() == 0 ? 0 : 1;
}
