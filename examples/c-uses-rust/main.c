/*
 * c-uses-rust: a C program that indexes text with a Rust library. It holds a
 * Handle_WordIndex, never a pointer into Rust; every call is checked, and a
 * mistake (here: freeing the index twice) is a status and a message.
 */
#include "wordindex.h"

#include <stdio.h>

static int fail(const char *what, ferry_status s)
{
    fprintf(stderr, "%s: %s\n  %s\n", what, ferry_status_name(s), ferry_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    Handle_WordIndex index;
    ferry_status s = wordindex_new(&index);
    if (s != FERRY_OK)
        return fail("wordindex_new", s);

    static const char *const default_text[] = {
        "The quick brown fox jumps over the lazy dog.",
        "The dog sleeps; the fox does not.",
    };
    int n = argc > 1 ? argc - 1 : 2;
    for (int i = 0; i < n; i++) {
        s = wordindex_add(index, argc > 1 ? argv[i + 1] : default_text[i]);
        if (s != FERRY_OK)
            return fail("wordindex_add", s);
    }

    uint64_t total, distinct, top, foxes;
    uint8_t word[64];
    if ((s = wordindex_stats(index, &total, &distinct, &top, &word)) != FERRY_OK)
        return fail("wordindex_stats", s);
    if ((s = wordindex_count(index, "fox", &foxes)) != FERRY_OK)
        return fail("wordindex_count", s);
    printf("%llu words, %llu distinct; most common: \"%s\" (%llu times); \"fox\": %llu\n",
           (unsigned long long)total, (unsigned long long)distinct, (const char *)word,
           (unsigned long long)top, (unsigned long long)foxes);

    if ((s = wordindex_free(index)) != FERRY_OK)
        return fail("wordindex_free", s);
    /* A double free, which with raw pointers would corrupt the heap: */
    s = wordindex_free(index);
    printf("freeing it again: %s\n  %s\n", ferry_status_name(s), ferry_last_error());
    ferry_counts c;
    ferry_ledger(NULL, &c);
    printf("ledger: created %llu, cloned %llu, taken %llu,\n  dropped_by_c %llu, "
           "dropped_by_rust %llu, live %llu\n",
           (unsigned long long)c.created, (unsigned long long)c.cloned,
           (unsigned long long)c.taken, (unsigned long long)c.dropped_by_c,
           (unsigned long long)c.dropped_by_rust, (unsigned long long)c.live);
    return s == FERRY_E_STALE && c.live == 0 ? 0 : 1;
}
