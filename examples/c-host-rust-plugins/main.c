/*
 * c-host-rust-plugins: a C program that loads every plugin in a directory
 * and runs lines of text through them.
 *
 * The lines live in the host's own type, "host.Text". Plugin "stats" reads
 * them without taking them (ref<host.Text>); plugin "caps" takes them
 * (own<host.Text>) and answers with Rust objects, "caps.Shout", which the
 * host holds by handle, hands back to caps, and drops. Every step is
 * checked; the ledger at the end proves that both sides balanced.
 *
 *     usage: ferry_example_plugins PLUGIN_DIR [LINE]...
 */
#define _POSIX_C_SOURCE 200809L /* opendir, readdir */

#include <ferry.h>

#include <dirent.h>
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* host.Text                                                                */
/* ------------------------------------------------------------------------ */

/* Plain data, so that plugins can read it: its Rust mirror is TextData in
 * plugins/host/src/lib.rs, and ferry refuses a plugin whose idea of the
 * size or alignment differs from the registration's. */
#define TEXT_CAPACITY 252
struct text {
    uint32_t len;
    uint8_t bytes[TEXT_CAPACITY];
};

/* Atomic because host.Text is FERRY_SEND: a plugin may drop one on any
 * thread, and the destructor runs wherever the last holder lets go. */
static atomic_ulong texts_made, texts_freed;

static void text_free(void *obj)
{
    free(obj);
    atomic_fetch_add(&texts_freed, 1);
}

/* A new buffer holding s, owned by the handle in *out. */
static ferry_status text_new(const ferry_type *type, const char *line, ferry_handle *out)
{
    size_t len = strlen(line);
    if (len > TEXT_CAPACITY)
        return ferry_report_error(FERRY_E_LIMIT, "text_new", "a line holds at most 252 bytes");
    struct text *t = calloc(1, sizeof *t);
    if (!t)
        return ferry_report_error(FERRY_E_NOMEM, "text_new", NULL);
    t->len = (uint32_t)len;
    memcpy(t->bytes, line, len);
    ferry_status s = ferry_box(type, t, out);
    if (s != FERRY_OK) {
        free(t); /* a failed ferry_box leaves the object with us */
        return s;
    }
    atomic_fetch_add(&texts_made, 1);
    return FERRY_OK;
}

/* ------------------------------------------------------------------------ */
/* Plugins                                                                  */
/* ------------------------------------------------------------------------ */

struct plugins {
    ferry_plugin **open;
    size_t count;
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool is_shared_object(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int by_plugin_name(const void *a, const void *b)
{
    const ferry_plugin *pa = *(ferry_plugin *const *)a, *pb = *(ferry_plugin *const *)b;
    return strcmp(ferry_plugin_descriptor_of(pa)->name, ferry_plugin_descriptor_of(pb)->name);
}

/* Opens every *.so in dir. One that does not open is reported and skipped:
 * a broken plugin should not take the host down. Sorted by name, because
 * readdir's order is the file system's. */
static bool open_plugins(const char *dir, struct plugins *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot read %s: %s\n", dir, strerror(errno));
        return false;
    }
    bool ok = true;
    for (struct dirent *e; ok && (e = readdir(d)) != NULL;) {
        if (!is_shared_object(e->d_name))
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) {
            printf("skipped %s: the path is too long\n", e->d_name);
            continue;
        }
        ferry_plugin *p;
        ferry_status s = ferry_plugin_open(path, &p);
        if (s != FERRY_OK) {
            printf("skipped %s: %s\n", e->d_name, ferry_last_error());
            continue;
        }
        ferry_plugin **grown = realloc(out->open, (out->count + 1) * sizeof *grown);
        if (grown) {
            out->open = grown;
            out->open[out->count++] = p;
        } else {
            fprintf(stderr, "out of memory\n");
            ok = false;
        }
    }
    closedir(d);
    if (out->count > 1)
        qsort(out->open, out->count, sizeof *out->open, by_plugin_name);
    return ok;
}

static void describe(const ferry_plugin *p)
{
    const ferry_plugin_desc *d = ferry_plugin_descriptor_of(p);
    printf("%s %s (%s)\n", d->name, d->version, base_name(ferry_plugin_path(p)));
    for (uint32_t i = 0; i < d->nfunctions; i++)
        printf("  %-13s %s\n", d->functions[i].name, d->functions[i].signature);
}

static ferry_plugin *find_plugin(const struct plugins *ps, const char *name)
{
    for (size_t i = 0; i < ps->count; i++)
        if (strcmp(ferry_plugin_descriptor_of(ps->open[i])->name, name) == 0)
            return ps->open[i];
    return NULL;
}

/* Calls p's function fn with the arguments that follow ret. */
#define CALL(p, fn, ret, ...)                                                                      \
    ferry_plugin_call((p), (fn), (const ferry_value[]){__VA_ARGS__},                               \
                      sizeof((const ferry_value[]){__VA_ARGS__}) / sizeof(ferry_value), (ret))

/* ------------------------------------------------------------------------ */
/* The pipeline                                                             */
/* ------------------------------------------------------------------------ */

static int fail(const char *what, ferry_status s)
{
    fprintf(stderr, "%s: %s\n  %s\n", what, ferry_status_name(s), ferry_last_error());
    return 1;
}

/* The shout's text, in a string the caller frees. A Rust object is opaque
 * to the host, so it asks caps for the length and then each byte. */
static ferry_status read_shout(ferry_plugin *caps, ferry_handle shout, char **out)
{
    ferry_value len, byte;
    ferry_status s = CALL(caps, "shout_len", &len, ferry_value_borrowed(shout));
    if (s != FERRY_OK)
        return s;
    char *text = malloc((size_t)len.as.u32 + 1);
    if (!text)
        return ferry_report_error(FERRY_E_NOMEM, "read_shout", NULL);
    for (uint32_t i = 0; i < len.as.u32; i++) {
        s = CALL(caps, "shout_byte", &byte, ferry_value_borrowed(shout), ferry_value_u32(i));
        if (s != FERRY_OK) {
            free(text);
            return s;
        }
        text[i] = (char)byte.as.u8;
    }
    text[len.as.u32] = '\0';
    *out = text;
    return FERRY_OK;
}

/* One line through both plugins: stats reads the buffer, then caps takes
 * it and returns a shout, which the caller owns. *line is the buffer's
 * handle, stale once caps has it. */
static ferry_status run_line(ferry_plugin *stats, ferry_plugin *caps, const ferry_type *text_type,
                             const char *text, ferry_handle *line, ferry_handle *out)
{
    ferry_value words, longest, the, shout;
    ferry_status s = text_new(text_type, text, line);
    if (s == FERRY_OK)
        s = CALL(stats, "word_count", &words, ferry_value_borrowed(*line));
    if (s == FERRY_OK)
        s = CALL(stats, "longest_word", &longest, ferry_value_borrowed(*line));
    if (s == FERRY_OK)
        s = CALL(stats, "occurrences", &the, ferry_value_borrowed(*line), ferry_value_str("the"));
    if (s != FERRY_OK)
        return s;
    printf("\"%s\"\n  stats: %u words, longest %u letters, \"the\": %u\n", text, words.as.u32,
           longest.as.u32, the.as.u32);

    s = CALL(caps, "shout", &shout, ferry_value_owned(*line), ferry_value_u8(1));
    if (s != FERRY_OK)
        return s;
    char *loud;
    if ((s = read_shout(caps, shout.as.handle, &loud)) != FERRY_OK) {
        ferry_drop(shout.as.handle);
        return s;
    }
    printf("  caps:  %s\n", loud);
    free(loud);
    *out = shout.as.handle;
    return FERRY_OK;
}

static void print_counts(const char *what, const ferry_counts *c)
{
    printf("%s: created %llu, cloned %llu, borrows %llu, handoffs %llu, taken %llu,\n"
           "  dropped_by_c %llu, dropped_by_rust %llu, live %llu\n",
           what, (unsigned long long)c->created, (unsigned long long)c->cloned,
           (unsigned long long)c->borrows, (unsigned long long)c->handoffs,
           (unsigned long long)c->taken, (unsigned long long)c->dropped_by_c,
           (unsigned long long)c->dropped_by_rust, (unsigned long long)c->live);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PLUGIN_DIR [LINE]...\n", argv[0]);
        return 2;
    }
    static const char *const default_lines[] = {
        "the quick brown fox jumps over the lazy dog",
        "ownership moves, borrows come back",
        "The end",
    };
    const char *const *lines = argc > 2 ? (const char *const *)argv + 2 : default_lines;
    size_t nlines = argc > 2 ? (size_t)argc - 2 : sizeof default_lines / sizeof *default_lines;

    const ferry_type *text_type;
    /* FERRY_PLAIN: the plugins read a struct text through their layout */
    ferry_status s =
        ferry_type_register(&(ferry_type_desc){.name = "host.Text",
                                               .flags = FERRY_SEND | FERRY_SYNC | FERRY_PLAIN,
                                               .release = text_free,
                                               .size = sizeof(struct text),
                                               .align = alignof(struct text)},
                            &text_type);
    if (s != FERRY_OK)
        return fail("registering host.Text", s);

    struct plugins ps = {0};
    if (!open_plugins(argv[1], &ps))
        return 1;
    printf("%zu plugins in %s:\n", ps.count, argv[1]);
    for (size_t i = 0; i < ps.count; i++)
        describe(ps.open[i]);
    ferry_plugin *caps = find_plugin(&ps, "caps"), *stats = find_plugin(&ps, "stats");
    if (!caps || !stats) {
        fprintf(stderr, "%s must hold the plugins caps and stats\n", argv[1]);
        return 1;
    }

    /* Each line in turn; the shouts are joined into one as they come. */
    printf("\n");
    ferry_handle first_line = FERRY_NULL_HANDLE, line, shout, joined = FERRY_NULL_HANDLE;
    for (size_t i = 0; i < nlines; i++) {
        if ((s = run_line(stats, caps, text_type, lines[i], &line, &shout)) != FERRY_OK)
            return fail(lines[i], s);
        if (i == 0) {
            first_line = line;
            joined = shout;
            continue;
        }
        ferry_value longer;
        s = CALL(caps, "join", &longer, ferry_value_owned(joined), ferry_value_borrowed(shout));
        if (s != FERRY_OK)
            return fail("caps.join", s);
        joined = longer.as.handle;
        if ((s = ferry_drop(shout)) != FERRY_OK)
            return fail("dropping a shout", s);
    }
    char *all;
    ferry_value words, shouting;
    if ((s = read_shout(caps, joined, &all)) != FERRY_OK)
        return fail("reading the joined shout", s);
    s = CALL(stats, "count_words", &words, ferry_value_str(all));
    if (s == FERRY_OK)
        s = CALL(caps, "is_shouting", &shouting, ferry_value_str(all));
    if (s != FERRY_OK)
        return fail("checking the joined shout", s);
    printf("joined: %s\n  %u words, shouting: %s\n", all, words.as.u32,
           shouting.as.b ? "yes" : "no");
    free(all);

    /* The mistake ferry is there for: the first buffer went to caps.shout,
     * yet the host passes it again. With a pointer this would read freed
     * memory; with a handle it is a status and a message. */
    printf("\nreading the first line again, after caps.shout took it:\n");
    ferry_value ignored;
    s = CALL(stats, "word_count", &ignored, ferry_value_borrowed(first_line));
    printf("  %s\n", ferry_last_error());
    if (s != FERRY_E_STALE || !strstr(ferry_last_error(), "moved into caps.shout"))
        return fail("expected FERRY_E_STALE, moved into caps.shout", s);

    /* caps's code releases caps.Shout objects, so caps cannot close while
     * one lives: the close refuses and leaves the plugin working. */
    printf("\nclosing caps while the joined shout is alive:\n");
    s = ferry_plugin_close(caps);
    printf("  %s\n", ferry_last_error());
    if (s != FERRY_E_BUSY)
        return fail("expected FERRY_E_BUSY", s);
    if ((s = ferry_drop(joined)) != FERRY_OK)
        return fail("dropping the joined shout", s);
    printf("after dropping it, closing every plugin:\n");
    for (size_t i = 0; i < ps.count; i++) {
        const char *name = ferry_plugin_descriptor_of(ps.open[i])->name;
        if ((s = ferry_plugin_close(ps.open[i])) != FERRY_OK)
            return fail(name, s);
        printf("  %s: %s\n", name, ferry_status_name(s));
    }
    free(ps.open);

    ferry_counts all_types, texts;
    ferry_ledger(NULL, &all_types);
    ferry_ledger(text_type, &texts);
    printf("\n");
    print_counts("ledger", &all_types);
    print_counts("host.Text", &texts);
    unsigned long made = atomic_load(&texts_made), freed = atomic_load(&texts_freed);
    printf("host.Text destructor: ran %lu times for %lu buffers\n", freed, made);
    bool balanced = all_types.live == 0 && ferry_live() == 0 && freed == made;
    printf("%s\n", balanced ? "balanced" : "NOT BALANCED");
    return balanced ? 0 : 1;
}
