/*
 * fuzz_plugin_file.c — ferry_plugin_open on files made of the input bytes:
 * random, truncated and corrupted files, and (seeded with the real plugin
 * fuzz_desc_plugin.so and a truncated copy, see build.sh fuzz) mutated
 * shared objects. Every outcome must be a status with a message naming it.
 *
 * Loading a shared object runs the system loader and the library's own
 * code, which no host can make safe against a corrupted file, so each open
 * runs in a forked child. When the child dies, a second child loads the
 * same file with dlopen alone and reads the descriptor the way a host must
 * trust it (docs/safety.md, "Descriptors that lie"); if that dies too, the
 * crash is the loader's or the file's own code (counted, not a failure).
 * Only a crash that happens in ferry_plugin_open while plain loading and
 * reading survive — ferry's own fault — fails the run.
 */
#define _POSIX_C_SOURCE 200809L
#include <ferry.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];
static unsigned long loader_crashes;

static void default_signals(void)
{
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        signal(sigs[i], SIG_DFL);
}

/* Child 1: the real open. Exit 200 + status (ld.so dies with 127); 99 for a bad message. */
static void child_open(void)
{
    default_signals();
    ferry_plugin *p = NULL;
    ferry_status s = ferry_plugin_open(path, &p);
    if (s != FERRY_OK && !strstr(ferry_last_error(), ferry_status_name(s)))
        _exit(99);
    if (s == FERRY_OK && ferry_plugin_close(p) != FERRY_OK)
        _exit(98);
    _exit(200 + (int)s);
}

/* Child 2: what loading and trusting the descriptor alone does. */
static void child_trust(void)
{
    default_signals();
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        _exit(0);
    const ferry_plugin_desc *d = dlsym(dl, FERRY_PLUGIN_SYMBOL);
    volatile size_t sink = 0;
    if (d && d->magic == FERRY_PLUGIN_MAGIC && d->abi_version == FERRY_PLUGIN_ABI_VERSION && d->table_id) {
        sink += d->table_id();
        if (d->name)
            sink += strlen(d->name);
        if (d->version)
            sink += strlen(d->version);
        for (uint32_t i = 0; d->functions && i < d->nfunctions; i++)
            sink += (d->functions[i].name ? strlen(d->functions[i].name) : 0) +
                    (d->functions[i].signature ? strlen(d->functions[i].signature) : 0);
        for (uint32_t i = 0; d->types && i < d->ntypes; i++)
            sink += d->types[i].name ? strlen(d->types[i].name) : 0;
    }
    (void)sink;
    /* ferry_plugin_open unloads a refused (or unloadable) plugin, which runs
     * the library's own destructors: so does a host that trusts it. */
    dlclose(dl);
    _exit(0);
}

static int run_child(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0)
        fn();
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/ferry-fuzz-plugin-%ld.so", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(path);
        abort();
    }
    int st = run_child(child_open);
    if (WIFEXITED(st) && WEXITSTATUS(st) >= 200) {
        int s = WEXITSTATUS(st) - 200;
        if (s == FERRY_OK || s == FERRY_E_LOAD || s == FERRY_E_ABI || s == FERRY_E_SIGNATURE ||
            s == FERRY_E_TYPE || s == FERRY_E_NOMEM)
            goto out;
        fprintf(stderr, "fuzz_plugin_file: open gave %s, not a status an open may give\n",
                ferry_status_name((ferry_status)s));
        abort();
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 99) {
        fprintf(stderr, "fuzz_plugin_file: a refused open left a message not naming its status\n");
        abort();
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 98) {
        fprintf(stderr, "fuzz_plugin_file: an opened plugin with no handles did not close\n");
        abort();
    }
    int st2 = run_child(child_trust);
    if (!(WIFEXITED(st2) && WEXITSTATUS(st2) == 0)) {
        if (++loader_crashes % 100 == 1)
            fprintf(stderr, "fuzz_plugin_file: %lu inputs crash the loader or their own code "
                    "(not ferry's)\n", loader_crashes);
        goto out;
    }
    fprintf(stderr, "fuzz_plugin_file: ferry_plugin_open died (%s %d) on a file that dlopen "
            "and the descriptor reads survive\n",
            WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    abort();
out:
    unlink(path);
    return 0;
}
