/*
 * inspect.c — `ferry inspect PLUGIN`: what a plugin offers, read from its
 * descriptor after ferry_plugin_open has checked it, so what is shown is
 * what a host can use.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void print_header(const ferry_plugin *p, const ferry_plugin_desc *d)
{
    printf("plugin %s %s\n", d->name, d->version ? d->version : "(no version)");
    printf("  path        %s\n", ferry_plugin_path(p));
    printf("  abi         %u\n", (unsigned)d->abi_version);
    printf("  unloadable  %s\n",
           (d->flags & FERRY_PLUGIN_UNLOADABLE) ? "yes" : "no (its code stays mapped after close)");
}

/* "Send Sync", "Send !Sync", ...: the names Rust gives the two properties. */
static void print_threads(uint32_t flags)
{
    char both[16];
    snprintf(both, sizeof both, "%s %s", (flags & FERRY_SEND) ? "Send" : "!Send",
             (flags & FERRY_SYNC) ? "Sync" : "!Sync");
    printf("%-11s", both);
}

static void print_size(const char *what, size_t n)
{
    if (n != 0)
        printf("  %s %zu", what, n);
    else
        printf("  %s ?", what);
}

static void print_types(const ferry_plugin_desc *d)
{
    if (d->ntypes == 0) {
        printf("\ntypes: none\n");
        return;
    }
    int width = 0;
    for (uint32_t i = 0; i < d->ntypes; i++) {
        size_t n = strlen(d->types[i].name);
        width = n > (size_t)width ? (int)n : width;
    }
    printf("\ntypes (%u):\n", (unsigned)d->ntypes);
    for (uint32_t i = 0; i < d->ntypes; i++) {
        const ferry_type_desc *t = &d->types[i];
        printf("  %-*s  ", width, t->name);
        print_threads(t->flags);
        print_size("size", t->size);
        print_size("align", t->align);
        /* Every type can be boxed; sharing needs retain, weak handles downgrade. */
        printf("  unique%s%s\n", t->retain ? ", shared (retain)" : "",
               t->downgrade ? ", weak (downgrade)" : "");
    }
}

static void print_functions(const ferry_plugin_desc *d)
{
    if (d->nfunctions == 0) {
        printf("\nfunctions: none\n");
        return;
    }
    int width = 0;
    for (uint32_t i = 0; i < d->nfunctions; i++) {
        size_t n = strlen(d->functions[i].name);
        width = n > (size_t)width ? (int)n : width;
    }
    printf("\nfunctions (%u):\n", (unsigned)d->nfunctions);
    for (uint32_t i = 0; i < d->nfunctions; i++) {
        const ferry_plugin_function *f = &d->functions[i];
        printf("  %-*s  %s\n", width, f->name, f->signature);
        if (f->doc && f->doc[0] != '\0')
            printf("  %-*s  %s\n", width, "", f->doc);
    }
}

int cli_inspect(const char *path)
{
    ferry_plugin *p = NULL;
    ferry_status s = ferry_plugin_open(path, &p);
    if (s != FERRY_OK)
        return cli_fail_ferry(s, "open");
    const ferry_plugin_desc *d = ferry_plugin_descriptor_of(p);
    print_header(p, d);
    print_types(d);
    print_functions(d);
    s = ferry_plugin_close(p);
    if (s != FERRY_OK)
        return cli_fail_ferry(s, "close");
    return CLI_OK;
}
