/*
 * plugin.c — opening and closing plugins, and the gate that makes a close
 * safe: see ferry/plugin.h for the contract and docs/plugin-abi.md for
 * the descriptor.
 *
 * The gate: every operation that makes a handle of a plugin's type or runs
 * its code (create, clone, downgrade, upgrade, drop, a call) increments the
 * plugin's `ops`, then reads `phase`; close sets phase CLOSING, then reads
 * `ops`. Both sides use seq_cst, so at least one sees the other (the
 * store-load pattern of Dekker's algorithm): an operation that missed the
 * CLOSING store has its increment seen by close, which answers BUSY; an
 * operation that sees CLOSING backs out and waits for the verdict. Close
 * itself never waits, so a release function that closes its own plugin
 * gets FERRY_E_BUSY instead of a deadlock.
 */
#define _GNU_SOURCE /* RTLD_NODELETE, RTLD_NOLOAD */
#include "plugin_host.h"

#include "alloc.h"

#include "ferry_testing.h"
#include "ops.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t plugins_lock = PTHREAD_MUTEX_INITIALIZER;
static ferry_plugin *plugins; /* every record, open or empty, newest first */
static size_t records;        /* records made (ferry__test_plugin_records) */

uintptr_t ferry_table_id(void)
{
    /* The address of this copy's chunk directory: unique per copy of
     * libferry in the process. */
    return (uintptr_t)&ferry__chunks;
}

/* ---- The gate ------------------------------------------------------------ */

/* One attempt: FERRY_OK inside, or the phase that kept us out. */
static uint32_t gate_try(ferry__gate *g)
{
    atomic_fetch_add_explicit(&g->ops, 1, memory_order_seq_cst);
    uint32_t phase = atomic_load_explicit(&g->phase, memory_order_seq_cst);
    if (phase != FERRY__GATE_OPEN)
        atomic_fetch_sub_explicit(&g->ops, 1, memory_order_release);
    return phase;
}

ferry_status ferry__gate_enter_slow(const char *op, const ferry_type *t, bool creating,
                                    ferry__gate **out)
{
    for (;;) {
        ferry__gate *g = atomic_load_explicit(&t->gate, memory_order_acquire);
        uint32_t phase = gate_try(g);
        if (phase == FERRY__GATE_OPEN) {
            /* A reopen may have moved the type to a new plugin record. */
            if (atomic_load_explicit(&t->gate, memory_order_acquire) == g) {
                *out = g;
                return FERRY_OK;
            }
            ferry__gate_leave(g);
        } else if (phase == FERRY__GATE_CLOSING) {
            sched_yield();
        } else if (atomic_load_explicit(&t->gate, memory_order_acquire) == g) {
            /* Closed: no handle of t is live, so nothing can end one. */
            *out = NULL;
            if (!creating)
                return FERRY_OK;
            return ferry__fail(FERRY_E_TYPE, op, &(ferry__subject){.type = t},
                               "the type was unregistered when plugin \"%s\" closed",
                               ferry__gate_name(g));
        }
    }
}

ferry_status ferry__plugin_enter(const char *op, const ferry_plugin *p)
{
    /* The gate counts who is inside; records are ferry's own, never const
     * objects, so the inspection functions' const pointer may enter too. */
    ferry__gate *g = (ferry__gate *)&p->gate;
    for (;;) {
        uint32_t phase = gate_try(g);
        if (phase == FERRY__GATE_OPEN)
            return FERRY_OK;
        if (phase == FERRY__GATE_CLOSED)
            return ferry__fail(FERRY_E_STALE, op, NULL, "plugin \"%s\" is closed",
                               ferry__gate_name(g));
        sched_yield();
    }
}

/* ---- Kept strings -------------------------------------------------------- */

/* Open addressing with linear probing; a power-of-two capacity at most
 * half full. Guarded by plugins_lock; the strings themselves are immutable
 * and published to lock-free readers by the release stores that point at
 * them (slot sites, gate names). */
static const char **kept;
static size_t kept_cap, kept_count;

static size_t kept_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return (size_t)h;
}

/* The bucket of s: where it is, or the empty one where it would go. */
static size_t kept_bucket(const char **set, size_t cap, const char *s)
{
    size_t i = kept_hash(s) & (cap - 1);
    while (set[i] && strcmp(set[i], s) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

const char *ferry__plugin_keep(const char *s, const char *site)
{
    if (kept_cap) {
        const char *found = kept[kept_bucket(kept, kept_cap, s)];
        if (found)
            return found;
    }
    if (2 * (kept_count + 1) > kept_cap) {
        size_t cap = kept_cap ? 2 * kept_cap : 64;
        const char **grown = ferry__calloc(cap, sizeof *grown, "plugin string set");
        if (!grown)
            return NULL;
        for (size_t i = 0; i < kept_cap; i++)
            if (kept[i])
                grown[kept_bucket(grown, cap, kept[i])] = kept[i];
        free(kept);
        kept = grown;
        kept_cap = cap;
    }
    char *copy = ferry__strdup(s, site);
    if (copy) {
        kept[kept_bucket(kept, kept_cap, s)] = copy;
        kept_count++;
    }
    return copy;
}

/* ---- Open ---------------------------------------------------------------- */

static const char open_op[] = "ferry_plugin_open";

/* Whether the file at path is an ELF shared object; FERRY_E_LOAD if not. */
static ferry_status check_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ferry__fail(FERRY_E_LOAD, open_op, NULL, "cannot open plugin \"%s\": %s", path,
                           strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ferry__fail(FERRY_E_LOAD, open_op, NULL,
                           "plugin \"%s\" is not a shared object (not a regular file)", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ferry__fail(FERRY_E_LOAD, open_op, NULL, "cannot open plugin \"%s\": %s", path,
                           strerror(errno));
    unsigned char hdr[18];
    ssize_t n = read(fd, hdr, sizeof hdr);
    close(fd);
    if (n != (ssize_t)sizeof hdr || memcmp(hdr,
                                           "\x7f"
                                           "ELF",
                                           4) != 0)
        return ferry__fail(FERRY_E_LOAD, open_op, NULL,
                           "plugin \"%s\" is not a shared object (no ELF header)", path);
    /* e_type, in the byte order e_ident[EI_DATA] names (1: little endian). */
    unsigned type = hdr[5] == 1 ? hdr[16] | hdr[17] << 8 : hdr[17] | hdr[16] << 8;
    if (type != 3 /* ET_DYN */)
        return ferry__fail(FERRY_E_LOAD, open_op, NULL,
                           "plugin \"%s\" is not a shared object (ELF type %u, want ET_DYN)", path,
                           type);
    return FERRY_OK;
}

/* The descriptor's own fields; FERRY_E_ABI when they are not ours. */
static ferry_status check_descriptor(const char *path, const ferry_plugin_desc *d)
{
    if (d->magic != FERRY_PLUGIN_MAGIC)
        return ferry__fail(FERRY_E_ABI, open_op, NULL,
                           "plugin \"%s\": symbol %s is not a ferry plugin descriptor (bad magic)",
                           path, FERRY_PLUGIN_SYMBOL);
    if (d->abi_version != FERRY_PLUGIN_ABI_VERSION)
        return ferry__fail(FERRY_E_ABI, open_op, NULL,
                           "plugin \"%s\" was built for plugin ABI %u; this libferry speaks ABI %u",
                           path, d->abi_version, FERRY_PLUGIN_ABI_VERSION);
    if (!d->table_id)
        return ferry__fail(FERRY_E_ABI, open_op, NULL,
                           "plugin \"%s\": descriptor has no table_id (set it to ferry_table_id)",
                           path);
    if (d->table_id() != ferry_table_id())
        return ferry__fail(FERRY_E_ABI, open_op, NULL,
                           "plugin \"%s\" carries its own copy of libferry (a second handle "
                           "table); link it against the shared libferry (-lferry, never "
                           "libferry.a; Rust plugins: depend on the ferry crate, which does this) "
                           "so it uses the host's table",
                           path);
    if (!d->name || !d->name[0] || strlen(d->name) > FERRY_PLUGIN_MAX_NAME)
        return ferry__fail(FERRY_E_ABI, open_op, NULL,
                           "plugin \"%s\": descriptor name is missing or longer than 255 bytes",
                           path);
    if (!d->version)
        return ferry__fail(FERRY_E_ABI, open_op, NULL, "plugin \"%s\": descriptor has no version",
                           path);
    if ((d->ntypes && !d->types) || (d->nfunctions && !d->functions))
        return ferry__fail(FERRY_E_ABI, open_op, NULL,
                           "plugin \"%s\": descriptor counts types or functions it does not point "
                           "at",
                           path);
    if (d->flags & ~FERRY_PLUGIN_UNLOADABLE)
        return ferry__fail(FERRY_E_ABI, open_op, NULL,
                           "plugin \"%s\": descriptor has unknown flags 0x%x", path, d->flags);
    return FERRY_OK;
}

static ferry_plugin *find_record_locked(const char *realpath)
{
    for (ferry_plugin *p = plugins; p; p = p->next)
        if (strcmp(p->realpath, realpath) == 0)
            return p;
    return NULL;
}

static bool is_open_locked(const ferry_plugin *p)
{
    return atomic_load_explicit(&p->gate.phase, memory_order_relaxed) != FERRY__GATE_CLOSED;
}

/* Frees what an open put in p, leaving the empty record a close leaves.
 * The gate and the name stay (threads that find it closed read them), and
 * so does the path, a kept string: ferry_plugin_path's answer stays
 * readable however a close races with its caller. */
static void empty(ferry_plugin *p)
{
    for (uint32_t i = 0; i < p->nfunctions && p->functions; i++) {
        for (uint32_t a = 0; a < p->functions[i].nargs; a++) {
            free(p->functions[i].args[a].type_name);
            free(p->functions[i].args[a].op);
        }
        free(p->functions[i].result.type_name);
        free(p->functions[i].result.op);
    }
    free(p->functions);
    free(p->types);
    p->functions = NULL;
    p->types = NULL;
    p->nfunctions = p->ntypes = 0;
    p->dl = NULL;
    p->desc = NULL;
    p->map_begin = p->map_end = 0;
}

/* Loads and checks; on success p->dl and p->desc are set. */
static ferry_status load(ferry_plugin *p)
{
    /* RTLD_LOCAL: the plugin's symbols do not leak into the process. */
    p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl)
        return ferry__fail(FERRY_E_LOAD, open_op, NULL, "cannot load plugin \"%s\": %s", p->path,
                           dlerror());
    p->desc = dlsym(p->dl, FERRY_PLUGIN_SYMBOL);
    if (!p->desc)
        return ferry__fail(FERRY_E_LOAD, open_op, NULL,
                           "plugin \"%s\" exports no symbol %s (declare it with ferry::plugin! "
                           "or see docs/plugin-abi.md)",
                           p->path, FERRY_PLUGIN_SYMBOL);
    return check_descriptor(p->path, p->desc);
}

ferry_status ferry_plugin_open(const char *path, ferry_plugin **out)
{
    if (!path)
        return ferry__fail(FERRY_E_NULL, open_op, NULL, "null `path`");
    if (!out)
        return ferry__fail(FERRY_E_NULL, open_op, NULL, "null out-pointer `out`");
    ferry__init();
    ferry_status s = check_file(path);
    if (s != FERRY_OK)
        return s;
    char *real = ferry__realpath(path, "plugin realpath");
    if (!real)
        return ferry__fail(FERRY_E_NOMEM, open_op, NULL, "cannot allocate plugin \"%s\"", path);

    pthread_mutex_lock(&plugins_lock);
    /* The file's record if it was opened before (open now, or emptied by
     * a close), else a new one, listed only if this open succeeds. */
    ferry_plugin *p = find_record_locked(real);
    bool made = !p;
    if (made) {
        p = ferry__calloc(1, sizeof *p, "plugin record");
        if (p) {
            p->realpath = real;
            real = NULL;
            atomic_init(&p->gate.phase, FERRY__GATE_CLOSED);
        }
    }
    if (!p) {
        s = ferry__fail(FERRY_E_NOMEM, open_op, NULL, "cannot allocate plugin \"%s\"", path);
    } else if (is_open_locked(p)) {
        s = ferry__fail(FERRY_E_BUSY, open_op, NULL,
                        "plugin \"%s\" is open already (as \"%s\"); close it first", path, p->path);
    } else if (!(p->path = ferry__plugin_keep(path, "plugin path"))) {
        s = ferry__fail(FERRY_E_NOMEM, open_op, NULL, "cannot allocate plugin \"%s\"", path);
    } else {
        s = load(p);
    }
    free(real);
    const ferry_plugin_desc *d = p && s == FERRY_OK ? p->desc : NULL;
    const char *name = NULL;
    if (s == FERRY_OK) {
        p->ntypes = d->ntypes;
        p->nfunctions = d->nfunctions;
        s = ferry__plugin_prepare_functions(open_op, p);
    }
    if (s == FERRY_OK && !(name = ferry__plugin_keep(d->name, "plugin name")))
        s = ferry__fail(FERRY_E_NOMEM, open_op, NULL, "cannot allocate plugin \"%s\"", path);
    if (s == FERRY_OK) {
        p->types = ferry__calloc(d->ntypes ? d->ntypes : 1, sizeof *p->types, "plugin types");
        s = p->types
                ? ferry__types_register_plugin(open_op, d->types, d->ntypes, &p->gate, p->types)
                : ferry__fail(FERRY_E_NOMEM, open_op, NULL, "cannot allocate plugin types");
    }
    if (s == FERRY_OK && !(d->flags & FERRY_PLUGIN_UNLOADABLE)) {
        /* Keep the code mapped after dlclose (docs/plugin-abi.md). */
        void *pin = dlopen(p->path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD | RTLD_NODELETE);
        if (pin)
            dlclose(pin);
    } else if (s == FERRY_OK) {
        ferry__plugin_note_mapping(p);
    }
    if (s == FERRY_OK) {
        atomic_store_explicit(&p->gate.plugin, name, memory_order_release);
        if (made) {
            p->next = plugins;
            plugins = p;
            records++;
        }
        /* Opens the gate, publishing everything written above to the
         * threads that enter it (ferry__plugin_enter). */
        atomic_store_explicit(&p->gate.phase, FERRY__GATE_OPEN, memory_order_seq_cst);
        *out = p;
    } else if (p && (made || !is_open_locked(p))) {
        /* A refused open leaves the record as it found it: empty (or none). */
        if (p->dl)
            dlclose(p->dl);
        empty(p);
        if (made) {
            free(p->realpath);
            free(p);
        }
    }
    pthread_mutex_unlock(&plugins_lock);
    return s;
}

/* ---- Close --------------------------------------------------------------- */

static const char close_op[] = "ferry_plugin_close";

#define BUSY_LISTED 8 /* live handles a BUSY message names */

typedef struct busy_list {
    const ferry__gate *gate;
    size_t live, used;
    char text[512];
} busy_list;

/* Counts a live handle of the plugin's types, describing the first few. */
static void note_busy(const ferry__live *l, void *ctx)
{
    busy_list *b = ctx;
    if (!l->type || atomic_load_explicit(&l->type->gate, memory_order_acquire) != b->gate)
        return;
    size_t cap = sizeof b->text;
    if (b->live++ < BUSY_LISTED && b->used < cap) {
        int n = snprintf(b->text + b->used, cap - b->used, "%s%s %s created at %s",
                         b->live > 1 ? "; " : "", l->type->name, ferry__kind_name(l->kind),
                         l->created_at ? l->created_at : FERRY__NO_SITE);
        if (n > 0)
            b->used += (size_t)n < cap - b->used ? (size_t)n : cap - b->used - 1;
    }
}

ferry_status ferry_plugin_close(ferry_plugin *p)
{
    if (!p)
        return ferry__fail(FERRY_E_NULL, close_op, NULL, "null plugin `p`");
    ferry_status s = FERRY_OK;
    pthread_mutex_lock(&plugins_lock);
    if (!is_open_locked(p)) {
        s = ferry__fail(FERRY_E_STALE, close_op, NULL, "plugin \"%s\" is closed already",
                        ferry__plugin_name(p));
        goto out;
    }
    atomic_store_explicit(&p->gate.phase, FERRY__GATE_CLOSING, memory_order_seq_cst);
    uint32_t running = atomic_load_explicit(&p->gate.ops, memory_order_seq_cst);
    busy_list busy = {.gate = &p->gate};
    ferry__each_live(note_busy, &busy);
    size_t live = busy.live;
    if (running || live) {
        atomic_store_explicit(&p->gate.phase, FERRY__GATE_OPEN, memory_order_seq_cst);
        char why[768];
        int n = 0;
        if (running)
            n = snprintf(why, sizeof why,
                         "%u call%s into it or operation%s on its objects in progress", running,
                         running == 1 ? "" : "s", running == 1 ? "" : "s");
        if (live)
            snprintf(why + n, sizeof why - (size_t)n,
                     "%s%zu live handle%s whose release code it holds: %s%s", n ? "; " : "", live,
                     live == 1 ? "" : "s", busy.text, live > BUSY_LISTED ? "; ..." : "");
        s = ferry__fail(FERRY_E_BUSY, close_op, NULL, "plugin \"%s\" is busy: %s",
                        ferry__plugin_name(p), why);
        goto out;
    }
    ferry__types_retire(p->types, p->ntypes);
    atomic_store_explicit(&p->gate.phase, FERRY__GATE_CLOSED, memory_order_seq_cst);
    if (p->map_end)
        ferry__plugin_forget_sites(p);
    dlclose(p->dl);
    /* Nobody is inside the gate and nobody can enter it: what the open
     * made can go; the record stays for the next open of the file. */
    empty(p);
out:
    pthread_mutex_unlock(&plugins_lock);
    return s;
}

/* ---- Inspection ---------------------------------------------------------- */

/* Each reads the record inside its gate, so neither a close nor a reopen
 * can change what it reads; a closed plugin gives NULL (FERRY_E_STALE
 * recorded). */

const ferry_plugin_desc *ferry_plugin_descriptor_of(const ferry_plugin *p)
{
    if (!p || ferry__plugin_enter("ferry_plugin_descriptor_of", p) != FERRY_OK)
        return NULL;
    const ferry_plugin_desc *d = p->desc;
    ferry__gate_leave((ferry__gate *)&p->gate);
    return d;
}

const char *ferry_plugin_path(const ferry_plugin *p)
{
    if (!p || ferry__plugin_enter("ferry_plugin_path", p) != FERRY_OK)
        return NULL;
    const char *path = p->path;
    ferry__gate_leave((ferry__gate *)&p->gate);
    return path;
}

const ferry_type *ferry_plugin_type_at(const ferry_plugin *p, size_t i)
{
    if (!p || ferry__plugin_enter("ferry_plugin_type_at", p) != FERRY_OK)
        return NULL;
    const ferry_type *t = i < p->ntypes ? p->types[i] : NULL;
    ferry__gate_leave((ferry__gate *)&p->gate);
    return t;
}

ferry__function *ferry__plugin_function(const ferry_plugin *p, const char *name)
{
    for (uint32_t i = 0; i < p->nfunctions; i++)
        if (strcmp(p->functions[i].entry->name, name) == 0)
            return &p->functions[i];
    return NULL;
}

const ferry_plugin_function *ferry_plugin_find(const ferry_plugin *p, const char *name)
{
    if (!p || !name || ferry__plugin_enter("ferry_plugin_find", p) != FERRY_OK)
        return NULL;
    const ferry__function *f = ferry__plugin_function(p, name);
    ferry__gate_leave((ferry__gate *)&p->gate);
    return f ? f->entry : NULL;
}

/* ---- Test hooks (ferry_testing.h) ---------------------------------------- */

size_t ferry__test_plugin_records(void)
{
    pthread_mutex_lock(&plugins_lock);
    size_t n = records;
    pthread_mutex_unlock(&plugins_lock);
    return n;
}

size_t ferry__test_plugin_kept_strings(void)
{
    pthread_mutex_lock(&plugins_lock);
    size_t n = kept_count;
    pthread_mutex_unlock(&plugins_lock);
    return n;
}
