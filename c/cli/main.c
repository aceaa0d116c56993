/*
 * main.c — the `ferry` command: picks the command, answers --help and
 * --version, and turns a failed write of the output into a failure.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: ferry inspect PLUGIN\n"
    "       ferry call PLUGIN FUNCTION [ARG]...\n"
    "       ferry --help | --version\n"
    "\n"
    "PLUGIN is a shared library exporting a ferry plugin descriptor.\n"
    "\n"
    "  inspect  print the plugin's name, version, ABI, types and functions\n"
    "  call     call FUNCTION with the ARGs read as its signature says, print\n"
    "           the result and what changed in the handle ledger\n"
    "\n"
    "ARGs: integers in decimal within their width, f32/f64 as C's strtod reads\n"
    "them, bool as true, false, 1 or 0, str as given (UTF-8). Handle parameters\n"
    "(own<T>, ref<T>, mut<T>) cannot be given on the command line. An own<T>\n"
    "result is dropped after it is printed.\n"
    "\n"
    "Exit status: 0 success, 1 the operation failed, 2 usage error.\n";

static const char see_help[] = "(ferry --help shows the usage)";

static int run(int argc, char *argv[])
{
    if (argc < 2)
        return cli_fail(CLI_USAGE, "no command given %s", see_help);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("ferry %s (plugin ABI %u)\n", FERRY_VERSION_STRING, FERRY_PLUGIN_ABI_VERSION);
        return CLI_OK;
    }
    if (strcmp(cmd, "inspect") == 0) {
        if (argc != 3)
            return cli_fail(CLI_USAGE, "inspect takes one argument, the PLUGIN %s", see_help);
        return cli_inspect(argv[2]);
    }
    if (strcmp(cmd, "call") == 0) {
        if (argc < 4)
            return cli_fail(CLI_USAGE, "call takes a PLUGIN, a FUNCTION and its arguments %s",
                            see_help);
        return cli_call(argv[2], argv[3], argv + 4, (size_t)(argc - 4));
    }
    return cli_fail(CLI_USAGE, "unknown command '%s' %s", cmd, see_help);
}

int main(int argc, char *argv[])
{
    int code = run(argc, argv);
    /* Output cut short (a full disk, a closed pipe) must not look like success. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && code == CLI_OK)
        return cli_fail(CLI_FAILED, "cannot write the output: %s", strerror(errno));
    return code;
}
