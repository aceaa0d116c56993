/*
 * fuzz_desc.c — descriptor symbols with garbage contents. One real plugin
 * (fuzz_desc_plugin.c) exports a mutable ferry_plugin_descriptor; for each
 * input this harness fills it from the bytes — bad magic, ABI versions and
 * flags, missing/empty/overlong/non-identifier names, garbage signatures,
 * NULL entries, counts with NULL arrays, broken and clashing type
 * descriptors, a table_id of another table — pointing only into buffers it
 * owns, then calls ferry_plugin_open on the file (and ferry_plugin_close
 * when it opens). A byte that is missing reads as 0, and 0 always chooses
 * the valid value, so an empty input is a plugin that opens.
 *
 * The harness predicts which statuses the descriptor deserves (FERRY_E_ABI
 * for the descriptor's own fields, FERRY_E_SIGNATURE for functions,
 * FERRY_E_TYPE for types; ferry_signature_parse is the oracle for the
 * signature text) and the open must return one of them, or FERRY_OK when
 * there is none, with a message naming the status. A crash or sanitizer
 * report fails too. The plugin's path comes from FUZZ_DESC_PLUGIN (the
 * environment) or the compile definition of the same name.
 */
#define _POSIX_C_SOURCE 200809L
#include <ferry.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_DESC_PLUGIN
#define FUZZ_DESC_PLUGIN "libfuzz_desc_plugin.so"
#endif

#define MAXT 3
#define MAXF 4

static const uint8_t *in;
static size_t in_len, in_pos;
static uint8_t next(void) { return in_pos < in_len ? in[in_pos++] : 0; }

static ferry_plugin_desc *desc;
static const char *path;
static char strings[2 * (MAXT + MAXF) + 4][320];
static int nstrings;
static ferry_type_desc tdescs[MAXT];
static ferry_plugin_function fns[MAXF];

static void fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_desc: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n  last error: %s\n", ferry_last_error());
    abort();
}

/* A string the harness owns, made from the input: up to 31 bytes. */
static const char *input_string(void)
{
    char *s = strings[nstrings++];
    size_t n = next() % 32;
    for (size_t i = 0; i < n; i++)
        s[i] = (char)next();
    s[n] = 0;
    return s;
}

static const char *repeat(char c, size_t n)
{
    char *s = strings[nstrings++];
    memset(s, c, n);
    s[n] = 0;
    return s;
}

static uintptr_t other_table(void) { return 12345; }
static void t_release(void *o) { (void)o; }
static void *t_retain(void *o) { return o; }
static void *t_down(void *o) { return o; }
static void *t_up(void *o) { return o; }
static void t_release_weak(void *o) { (void)o; }
static ferry_status entry(void) { return FERRY_OK; }

static bool is_identifier(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return n <= FERRY_PLUGIN_MAX_NAME;
}

static const ferry_type *host_type;

static void init(void)
{
    if (desc)
        return;
    const char *env = getenv("FUZZ_DESC_PLUGIN");
    path = env && *env ? env : FUZZ_DESC_PLUGIN;
    /* Our own reference keeps the plugin mapped whatever ferry does. */
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl || !(desc = dlsym(dl, FERRY_PLUGIN_SYMBOL))) {
        fprintf(stderr, "fuzz_desc: cannot load %s: %s\n", path, dlerror());
        abort();
    }
    static const ferry_type_desc host = {.name = "fuzz.Host", .flags = FERRY_SEND | FERRY_SYNC,
                                         .release = t_release};
    if (ferry_type_register(&host, &host_type) != FERRY_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    in = data;
    in_len = size;
    in_pos = 0;
    nstrings = 0;
    uint32_t need = 0;  /* statuses the descriptor deserves */
    uint32_t maybe = 1u << FERRY_E_LIMIT | 1u << FERRY_E_NOMEM;
#define NEED(st) (need |= 1u << (st))
    ferry_plugin_desc d = {.magic = FERRY_PLUGIN_MAGIC, .abi_version = FERRY_PLUGIN_ABI_VERSION,
                           .name = "fuzzdesc", .version = "1.0", .table_id = ferry_table_id};
    uint8_t b = next();
    if (b) { d.magic ^= (uint64_t)b << (8 * (next() % 8)); NEED(FERRY_E_ABI); }
    if ((b = next()) != 0) { d.abi_version = b + 1u; NEED(FERRY_E_ABI); }
    switch ((b = next()) % 4) {
    case 0: break;
    case 1: d.flags = FERRY_PLUGIN_UNLOADABLE; break;
    default: d.flags = (uint32_t)b << 1 | 2; NEED(FERRY_E_ABI); break;
    }
    switch (next() % 6) {
    case 0: break;
    case 1: d.name = NULL; NEED(FERRY_E_ABI); break;
    case 2: d.name = ""; NEED(FERRY_E_ABI); break;
    case 3: d.name = repeat('n', 255); break;
    case 4: d.name = repeat('n', 256); NEED(FERRY_E_ABI); break;
    default: d.name = input_string(); if (!d.name[0]) NEED(FERRY_E_ABI); break;
    }
    switch (next() % 3) {
    case 0: break;
    case 1: d.version = NULL; NEED(FERRY_E_ABI); break;
    default: d.version = input_string(); break;
    }
    switch (next() % 3) {
    case 0: break;
    case 1: d.table_id = NULL; NEED(FERRY_E_ABI); break;
    default: d.table_id = other_table; NEED(FERRY_E_ABI); break;
    }
    /* Types. */
    d.ntypes = next() % (MAXT + 1);
    d.types = tdescs;
    if (next() % 5 == 1) { d.types = NULL; if (d.ntypes) NEED(FERRY_E_ABI); }
    static const char *const tnames[] = {"fuzz.P0", "fuzz.P1", "fuzz.P2", "fuzz.P3"};
    for (uint32_t i = 0; i < MAXT; i++) {
        ferry_type_desc *t = &tdescs[i];
        *t = (ferry_type_desc){.name = tnames[i], .flags = FERRY_SEND | FERRY_SYNC, .release = t_release};
        if (i >= d.ntypes)
            continue;
        bool bad = false;
        switch (next() % 7) {
        case 0: break;
        case 1: t->name = tnames[next() % 4]; break;
        case 2: t->name = NULL; bad = true; break;
        case 3: t->name = ""; bad = true; break;
        case 4: t->name = repeat('t', 256); bad = true; break;
        case 5: t->name = "fuzz.Host"; bad = true; break; /* registered by the host */
        default: {
            static const char alpha[] = "abcdefghijklmnop";
            char *s = strings[nstrings++];
            snprintf(s, 16, "fuzz.q%c%c", alpha[next() % 16], alpha[next() % 16]);
            t->name = s;
        }
        }
        uint8_t f = next();
        t->flags = f & 3;
        if (f & 4) { t->release = NULL; bad = true; }
        if (f & 8) t->retain = t_retain;
        uint8_t w = (f >> 4) & 7;
        if (w & 1) t->downgrade = t_down;
        if (w & 2) t->upgrade = t_up;
        if (w & 4) t->release_weak = t_release_weak;
        if (w != 0 && w != 7) bad = true;
        for (uint32_t j = 0; j < i && t->name; j++)
            if (tdescs[j].name && strcmp(tdescs[j].name, t->name) == 0)
                bad = true;
        if (bad && d.types)
            NEED(FERRY_E_TYPE);
    }
    /* Functions. */
    d.nfunctions = next() % (MAXF + 1);
    d.functions = fns;
    if (next() % 5 == 1) { d.functions = NULL; if (d.nfunctions) NEED(FERRY_E_ABI); }
    static const char *const fnames[] = {"f0", "f1", "f2", "f3"};
    static const char *const sigs[] = {"()", "(i64) -> u64", "(own<fuzz.Host>, f64) -> own<fuzz.P0>",
                                       "(ref<fuzz.Host>, str) -> str", "(mut<a.b>, bool, u8)"};
    for (uint32_t i = 0; i < MAXF; i++) {
        ferry_plugin_function *f = &fns[i];
        *f = (ferry_plugin_function){.name = fnames[i], .signature = sigs[i], .entry = (void (*)(void))entry};
        if (i >= d.nfunctions)
            continue;
        bool bad = false;
        switch (next() % 8) {
        case 0: break;
        case 1: f->name = NULL; break;
        case 2: f->name = ""; break;
        case 3: f->name = "bad-name"; break;
        case 4: f->name = "9x"; break;
        case 5: f->name = fnames[0]; break;
        case 6: f->name = repeat('i', 256); break;
        default: f->name = input_string(); break;
        }
        if (!is_identifier(f->name))
            bad = true;
        for (uint32_t j = 0; j < i && f->name; j++)
            if (fns[j].name && strcmp(fns[j].name, f->name) == 0)
                bad = true;
        switch (next() % 4) {
        case 0: f->signature = sigs[next() % 5]; break;
        case 1: f->signature = NULL; bad = true; break;
        default: f->signature = input_string(); break;
        }
        ferry_signature sig;
        if (f->signature && ferry_signature_parse(f->signature, &sig) != FERRY_OK)
            bad = true;
        if (next() % 4 == 1) { f->entry = NULL; bad = true; }
        f->doc = next() % 2 ? "a doc line" : NULL;
        if (bad && d.functions)
            NEED(FERRY_E_SIGNATURE);
    }
    *desc = d;

    ferry_plugin *p = (ferry_plugin *)(uintptr_t)0x5e5e5e50;
    ferry_status s = ferry_plugin_open(path, &p);
    char want[256] = "";
    for (int i = 0; i < 32; i++)
        if (need & (1u << i))
            snprintf(want + strlen(want), sizeof want - strlen(want), " %s", ferry_status_name((ferry_status)i));
    if (s == FERRY_OK) {
        if (need)
            fail("opened a descriptor that deserves%s%s", want, "");
        if (ferry_plugin_descriptor_of(p) != desc)
            fail("descriptor_of is not the exported descriptor%s%s", "", "");
        for (uint32_t i = 0; i < d.nfunctions; i++)
            if (ferry_plugin_find(p, fns[i].name) == NULL)
                fail("function %s of an open plugin not found%s", fns[i].name, "");
        for (uint32_t i = 0; i < d.ntypes; i++)
            if (ferry_plugin_type_at(p, i) != ferry_type_find(tdescs[i].name))
                fail("type %s of an open plugin not registered%s", tdescs[i].name, "");
        s = ferry_plugin_close(p);
        if (s != FERRY_OK)
            fail("closing a plugin with no live handles: %s%s", ferry_status_name(s), "");
        for (uint32_t i = 0; i < d.ntypes; i++)
            if (ferry_type_find(tdescs[i].name) != NULL)
                fail("type %s still registered after close%s", tdescs[i].name, "");
    } else {
        if (!((need | maybe) & (1u << s)))
            fail("open refused with %s; the descriptor deserves%s", ferry_status_name(s),
                 need ? want : " FERRY_OK");
        if (!strstr(ferry_last_error(), ferry_status_name(s)))
            fail("the message does not name %s%s", ferry_status_name(s), "");
        if (p != (ferry_plugin *)(uintptr_t)0x5e5e5e50)
            fail("a failed open wrote *out%s%s", "", "");
    }
    return 0;
}
