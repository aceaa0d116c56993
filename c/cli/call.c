/*
 * call.c — `ferry call PLUGIN FUNCTION ARG...`: one dynamic call with the
 * arguments read by the function's own signature. It prints the result and
 * the ledger's change, which shows whether the call left anything alive.
 */
#include "cli.h"

#include <stdio.h>

/* Reads the command-line arguments into values; a usage error names the
 * first one that does not fit. */
static int read_args(const ferry_plugin_function *f, const ferry_signature *sig, char *const text[],
                     size_t n, ferry_value *out)
{
    if (n != sig->nargs)
        return cli_fail(CLI_USAGE, "%s %s takes %u argument%s, %zu given", f->name, f->signature,
                        (unsigned)sig->nargs, sig->nargs == 1 ? "" : "s", n);
    for (size_t i = 0; i < n; i++) {
        char reason[256], spelling[FERRY_PLUGIN_MAX_NAME + 8];
        if (!cli_parse_arg(&sig->args[i], text[i], &out[i], reason, sizeof reason))
            return cli_fail(CLI_USAGE, "%s argument %zu (%s): %s", f->name, i + 1,
                            cli_param_spelling(&sig->args[i], spelling, sizeof spelling), reason);
    }
    return CLI_OK;
}

static int call_and_print(ferry_plugin *p, const ferry_plugin_function *f,
                          const ferry_signature *sig, const ferry_value *args)
{
    ferry_counts before, after;
    ferry_value ret;
    ferry_ledger(NULL, &before);
    ferry_status s = ferry_plugin_call(p, f->name, args, sig->nargs, &ret);
    if (s != FERRY_OK)
        return cli_fail_ferry(s, f->name);
    cli_print_value(&ret, &sig->result);
    /* Nobody else can use the result, and the plugin cannot close while it
     * lives; dropping it also lets the ledger show whether the run balances. */
    if (ret.kind == FERRY_VALUE_OWNED) {
        s = ferry_drop(ret.as.handle);
        if (s != FERRY_OK)
            return cli_fail_ferry(s, "drop of the result");
    }
    ferry_ledger(NULL, &after);
    cli_print_ledger_delta(&before, &after);
    return CLI_OK;
}

int cli_call(const char *path, const char *function, char *const args[], size_t nargs)
{
    ferry_plugin *p = NULL;
    ferry_status s = ferry_plugin_open(path, &p);
    if (s != FERRY_OK)
        return cli_fail_ferry(s, "open");

    int code;
    ferry_signature sig;
    ferry_value values[FERRY_PLUGIN_MAX_ARGS];
    const ferry_plugin_function *f = ferry_plugin_find(p, function);
    if (!f) {
        code = cli_fail(CLI_USAGE, "plugin %s has no function '%s' (ferry inspect lists them)",
                        ferry_plugin_descriptor_of(p)->name, function);
    } else if ((s = ferry_signature_parse(f->signature, &sig)) != FERRY_OK) {
        code = cli_fail_ferry(s, function);
    } else if ((code = read_args(f, &sig, args, nargs, values)) == CLI_OK) {
        code = call_and_print(p, f, &sig, values);
    }

    /* On the way out of a failure, the first failure is the one to tell. */
    s = ferry_plugin_close(p);
    if (s != FERRY_OK && code == CLI_OK)
        code = cli_fail_ferry(s, "close");
    return code;
}
