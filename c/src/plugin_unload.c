/*
 * plugin_unload.c — what unmapping a plugin (FERRY_PLUGIN_UNLOADABLE) takes
 * beyond dlclose: slots keep pointers to call-site strings, and those of
 * the plugin's own code would dangle once it is gone.
 */
#define _GNU_SOURCE /* dlinfo, dl_iterate_phdr */
#include "plugin_host.h"

#include <dlfcn.h>
#include <link.h>

typedef struct mapping {
    uintptr_t base; /* the object's load bias, from its link map */
    uintptr_t begin, end;
} mapping;

static int find_mapping(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    mapping *m = ctx;
    if (info->dlpi_addr != m->base)
        return 0;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!m->begin || lo < m->begin)
            m->begin = lo;
        if (hi > m->end)
            m->end = hi;
    }
    return 1;
}

/* Records where an unloadable plugin is mapped (see map_begin). */
void ferry__plugin_note_mapping(ferry_plugin *p)
{
    struct link_map *lm = NULL;
    if (dlinfo(p->dl, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return;
    mapping m = {.base = lm->l_addr};
    dl_iterate_phdr(find_mapping, &m);
    p->map_begin = m.begin;
    p->map_end = m.end;
}

static const char unloaded_site[] = "(a call site in an unloaded plugin)";

/* Slots keep call-site strings of the code that made and ended handles;
 * those of an unloaded plugin would dangle, so they are replaced first. */
void ferry__plugin_forget_sites(const ferry_plugin *p)
{
    uint32_t issued = ferry__slots_issued();
    for (uint32_t i = 0; i < issued; i++) {
        ferry__slot *slot = ferry__slot_at(i);
        if (!slot)
            continue;
        _Atomic(const char *) *sites[] = {&slot->created_at, &slot->released_at};
        for (size_t k = 0; k < 2; k++) {
            const char *site = atomic_load_explicit(sites[k], memory_order_acquire);
            if ((uintptr_t)site >= p->map_begin && (uintptr_t)site < p->map_end)
                atomic_compare_exchange_strong_explicit(sites[k], &site, unloaded_site,
                                                        memory_order_acq_rel, memory_order_acquire);
        }
    }
}
