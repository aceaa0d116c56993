/*
 * plugin_host.h — what plugin.c (open, close, the gate) and plugin_call.c
 * (dynamic calls) share. Not installed.
 */
#ifndef FERRY_PLUGIN_HOST_H
#define FERRY_PLUGIN_HOST_H

#include "internal.h"

#include <ffi.h>

/* A parameter or result, parsed once at open. */
typedef struct ferry__param {
    ferry_value_kind kind;
    bool exclusive;
    char *type_name; /* own/ref/mut: the type's name; else NULL */
    /* The operation named in messages about this handle:
     * "ferry_plugin_call: plugin.fn argument N (own<T>)" or "... result". */
    char *op;
    /* The type last found under type_name (looked up again once retired). */
    _Atomic(const ferry_type *) type;
} ferry__param;

/* A function, ready to call: its signature parsed and its libffi call
 * interface prepared at open. */
typedef struct ferry__function {
    const ferry_plugin_function *entry;
    uint32_t nargs;
    ferry__param args[FERRY_PLUGIN_MAX_ARGS];
    ferry__param result; /* kind VOID: none */
    ffi_cif cif;
    ffi_type *ffi_args[FERRY_PLUGIN_MAX_ARGS + 1]; /* + the out-pointer */
    /* "released at" of a handle moved into this function: kept for the
     * life of the process, since slots point at it. */
    char *moved_site;
    char *refused_site; /* "released at" of a refused result, dropped */
} ferry__function;

/*
 * A plugin record. Records are never freed (a closed one stays in the list
 * and a reopen makes a new one), so a thread racing a close, or a stale
 * slot message, never reads freed memory; a record costs a few hundred
 * bytes per function.
 */
struct ferry_plugin {
    struct ferry_plugin *next;
    char *path;     /* as given to open */
    char *realpath; /* identity: one open record per file */
    void *dl;
    /* Where an unloadable plugin is mapped: call sites recorded in slots
     * that point into it are rewritten before it is unmapped. */
    uintptr_t map_begin, map_end;
    const ferry_plugin_desc *desc;
    _Atomic bool open;
    ferry__gate gate;
    char name[FERRY_PLUGIN_MAX_NAME + 1];
    uint32_t ntypes;
    const ferry_type **types;
    uint32_t nfunctions;
    ferry__function *functions;
};

/* Parses and prepares every function of desc into p->functions. Fails with
 * FERRY_E_SIGNATURE (or FERRY_E_NOMEM), recording op's message. */
ferry_status ferry__plugin_prepare_functions(const char *op, ferry_plugin *p);

/* Records where an unloadable plugin is mapped (map_begin, map_end). */
void ferry__plugin_note_mapping(ferry_plugin *p);
/* Points every slot's call site inside p's mapping at a fixed string. */
void ferry__plugin_forget_sites(const ferry_plugin *p);

/* p's prepared function named `name`, or NULL. */
ferry__function *ferry__plugin_function(const ferry_plugin *p, const char *name);

/* Enters p's gate for a call: waits while a close is deciding, fails with
 * FERRY_E_STALE once p is closed. */
ferry_status ferry__plugin_enter(const char *op, ferry_plugin *p);

#endif /* FERRY_PLUGIN_HOST_H */
