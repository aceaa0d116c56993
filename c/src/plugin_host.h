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
    /* "released at" of a handle moved into this function, and of a refused
     * result that was dropped: slots point at them after the plugin closes,
     * so they are kept strings (ferry__plugin_keep). */
    const char *moved_site;
    const char *refused_site;
} ferry__function;

/*
 * A plugin record: one per plugin file (realpath), made by its first
 * successful open and never freed. A close empties it (functions, types)
 * and a reopen of the same file fills the same record again, so a
 * process that opens and closes a plugin in a loop allocates its record
 * once, and the memory ferry keeps for plugins is bounded by the files
 * opened and the distinct strings kept, never by the number of opens.
 *
 * Never freeing the shell is what lets a `ferry_plugin *` outlive its
 * close: a call through it, or a thread racing the close, finds the gate
 * closed and fails with FERRY_E_STALE instead of reading freed memory. The
 * price, documented in ferry/plugin.h, is that such a pointer refers to the
 * plugin again once the same file is reopened (as a reused file descriptor
 * does); ferry_plugin_open returns the same pointer then.
 *
 * Who reads what: the fields below `gate` are written by open and close
 * under plugins_lock while the gate is closed, and read either under that
 * lock or inside the gate (ferry__plugin_enter), which a close cannot pass
 * and a reopen opens only after writing them (a seq_cst store that the
 * entering load reads). What a thread that found the gate closed reads —
 * the gate and the name — is never freed; the name is a kept string that a
 * reopen may replace, hence ferry__gate_name.
 */
struct ferry_plugin {
    struct ferry_plugin *next;
    char *realpath; /* identity: one record per file */
    /* phase CLOSED while the record is empty; plugin: the kept name */
    ferry__gate gate;
    const char *path; /* as given to the last open: a kept string */
    void *dl;
    /* Where an unloadable plugin is mapped: call sites recorded in slots
     * that point into it are rewritten before it is unmapped. */
    uintptr_t map_begin, map_end;
    const ferry_plugin_desc *desc;
    uint32_t ntypes;
    const ferry_type **types;
    uint32_t nfunctions;
    ferry__function *functions;
};

/* The name of a gate's plugin (see ferry__gate). */
static inline const char *ferry__gate_name(const ferry__gate *g)
{
    return atomic_load_explicit(&g->plugin, memory_order_acquire);
}
static inline const char *ferry__plugin_name(const ferry_plugin *p)
{
    return ferry__gate_name(&p->gate);
}

/* The one kept copy of s: a process-wide set of strings keyed by content,
 * never freed, for strings that must outlive a close (slots point at the
 * call sites; messages about a closed plugin name it; a caller may still
 * read the path ferry_plugin_path gave it). Made on first use
 * with alloc.h's `site`; NULL when that allocation fails. Call with the
 * plugins lock held, as open does. */
const char *ferry__plugin_keep(const char *s, const char *site);

/* Parses and prepares every function of p->desc into p->functions. Fails
 * with FERRY_E_SIGNATURE (or FERRY_E_NOMEM), recording op's message; what
 * it allocated is left in p for the caller to free. */
ferry_status ferry__plugin_prepare_functions(const char *op, ferry_plugin *p);

/* Records where an unloadable plugin is mapped (map_begin, map_end). */
void ferry__plugin_note_mapping(ferry_plugin *p);
/* Points every slot's call site inside p's mapping at a fixed string. */
void ferry__plugin_forget_sites(const ferry_plugin *p);

/* p's prepared function named `name`, or NULL. Inside p's gate. */
ferry__function *ferry__plugin_function(const ferry_plugin *p, const char *name);

/* Enters p's gate for a call or an inspection: waits while a close is
 * deciding, fails with FERRY_E_STALE while p is closed. */
ferry_status ferry__plugin_enter(const char *op, const ferry_plugin *p);

#endif /* FERRY_PLUGIN_HOST_H */
