/*
 * trace.c — FERRY_TRACE=1 (trace.h): backtraces of each handle's creation
 * and release, kept beside the table and printed by the reports.
 *
 * The records live in chunks parallel to the table's (one record per slot,
 * 128 bytes, allocated when a chunk's first slot is traced and never freed
 * or moved), so a record is found from the slot index alone and the 48-byte
 * slot stays as it is. Frames are atomics written with relaxed stores: a
 * message about a stale handle may read them while another thread reuses
 * the slot, which must be a race on values, never undefined behaviour.
 */
#define _GNU_SOURCE /* dladdr1, dl_iterate_phdr */

#include "alloc.h"
#include "internal.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <inttypes.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

_Atomic bool ferry__trace_on;

typedef struct record {
    _Atomic uintptr_t frames[2][FERRY__TRACE_DEPTH]; /* [event][frame]; 0 ends */
} record;

#define CHUNK_BYTES (FERRY__CHUNK_SLOTS * sizeof(record))

static _Atomic(record *) chunks[FERRY__CHUNK_COUNT];

/* The executable segment of libferry when it is its own shared library:
 * frames inside it are ferry's own and are skipped. Empty when libferry is
 * linked statically into a program or another library, whose own frames
 * share that segment. */
static uintptr_t self_begin, self_end;

/* libferry's frames above the first caller's: at most a few (a plugin
 * call's move is the deepest); these extra are captured and skipped. */
#define SKIP_ROOM 8

static record *record_at(uint32_t index, bool make)
{
    _Atomic(record *) *cell = &chunks[(index >> FERRY__CHUNK_BITS) & (FERRY__CHUNK_COUNT - 1)];
    record *chunk = atomic_load_explicit(cell, memory_order_acquire);
    if (!chunk && make) {
        /* Anonymous pages: zero, and committed only as slots are traced. */
        record *fresh = ferry__mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, "trace chunk");
        if (fresh == MAP_FAILED)
            return NULL;
        if (atomic_compare_exchange_strong_explicit(cell, &chunk, fresh, memory_order_acq_rel,
                                                    memory_order_acquire))
            chunk = fresh;
        else
            munmap(fresh, CHUNK_BYTES);
    }
    return chunk ? &chunk[index & (FERRY__CHUNK_SLOTS - 1)] : NULL;
}

/* Whether a loaded object is libferry's own shared library (libferry.so.*,
 * or the tests' libferry_faulty.so): a program or another library that
 * linked the static libferry in holds the user's code in the same segment. */
static bool is_libferry(const char *path)
{
    const char *base = path ? strrchr(path, '/') : NULL;
    base = base ? base + 1 : path;
    return base && strncmp(base, "libferry", 8) == 0;
}

static int find_self(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    uintptr_t here = (uintptr_t)ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t begin = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD || here < begin || here >= begin + ph->p_memsz)
            continue;
        if (is_libferry(info->dlpi_name)) {
            self_begin = begin;
            self_end = begin + ph->p_memsz;
        }
        return 1;
    }
    return 0;
}

void ferry__trace_init(void)
{
    const char *v = getenv("FERRY_TRACE");
    if (!v || strcmp(v, "1") != 0)
        return;
    /* backtrace() loads the unwinder on its first call; do it now rather
     * than inside the first traced operation. */
    void *warm[1];
    backtrace(warm, 1);
    dl_iterate_phdr(find_self, (void *)(uintptr_t)ferry__trace_init);
    atomic_store_explicit(&ferry__trace_on, true, memory_order_relaxed);
}

static bool in_self(void *pc)
{
    return (uintptr_t)pc >= self_begin && (uintptr_t)pc < self_end;
}

FERRY_COLD void ferry__trace_record(uint32_t index, int event)
{
    /* Orders what the caller stored before (publish's new state, an end's
     * CAS) before the relaxed frame stores, so a reader whose frame loads
     * see these frames sees that state too after its acquire fence
     * (resolve.c, fail_stale). */
    atomic_thread_fence(memory_order_release);
    void *raw[FERRY__TRACE_DEPTH + SKIP_ROOM];
    int n = backtrace(raw, (int)(sizeof raw / sizeof raw[0]));
    record *r = record_at(index, true);
    if (!r)
        return;
    int first = 1; /* raw[0] is this function */
    while (first < n - 1 && in_self(raw[first]))
        first++;
    for (int i = 0; i < FERRY__TRACE_DEPTH; i++)
        atomic_store_explicit(&r->frames[event][i], first + i < n ? (uintptr_t)raw[first + i] : 0,
                              memory_order_relaxed);
}

void ferry__trace_read(uint32_t index, int event, ferry__trace *out)
{
    out->n = 0;
    const record *r = ferry__tracing() ? record_at(index, false) : NULL;
    if (!r)
        return;
    for (unsigned i = 0; i < FERRY__TRACE_DEPTH; i++) {
        uintptr_t pc = atomic_load_explicit(&r->frames[event][i], memory_order_relaxed);
        if (!pc)
            break;
        out->frames[out->n++] = pc;
    }
}

/* One frame as "fn+0x1f (module+0x11ef)": the offset into the module is
 * what addr2line -e module takes (the load bias subtracted, so it holds for
 * position-independent and fixed-address programs alike). A name is given
 * only when the symbol found really contains the address: dladdr sees
 * exported symbols only, and would otherwise name the nearest one before a
 * static function. */
static void format_frame(char *buf, size_t *len, size_t cap, unsigned i, uintptr_t pc)
{
    /* A return address points just past its call; pc - 1 is still inside
     * the calling function even when the call was its last instruction. */
    void *inside = (void *)(pc - 1);
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    struct link_map *map = NULL;
    if (!dladdr1(inside, &info, (void **)&sym, RTLD_DL_SYMENT) ||
        !dladdr1(inside, &info, (void **)&map, RTLD_DL_LINKMAP) || !map) {
        ferry__appendf(buf, len, cap, "\n    #%u 0x%" PRIxPTR, i, pc);
        return;
    }
    const char *module = info.dli_fname && info.dli_fname[0] ? info.dli_fname : "(program)";
    uintptr_t offset = pc - (uintptr_t)map->l_addr;
    if (info.dli_sname && sym && pc - (uintptr_t)info.dli_saddr <= sym->st_size)
        ferry__appendf(buf, len, cap, "\n    #%u %s+0x%" PRIxPTR " (%s+0x%" PRIxPTR ")", i,
                       info.dli_sname, pc - (uintptr_t)info.dli_saddr, module, offset);
    else
        ferry__appendf(buf, len, cap, "\n    #%u %s+0x%" PRIxPTR, i, module, offset);
}

void ferry__trace_format(char *buf, size_t *len, size_t cap, const char *title,
                         const ferry__trace *t)
{
    if (t->n == 0)
        return;
    ferry__appendf(buf, len, cap, "\n  %s:", title);
    for (unsigned i = 0; i < t->n; i++)
        format_frame(buf, len, cap, i, t->frames[i]);
}
