/*
 * fuzz_sigparse.c — ferry_signature_parse on arbitrary text (the input
 * bytes up to the first NUL). Every outcome must be FERRY_OK with a sane
 * signature, or FERRY_E_SIGNATURE with a message naming it and *out
 * untouched; anything else, a crash or a sanitizer report fails.
 */
#include <ferry.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *text, const char *why)
{
    fprintf(stderr, "fuzz_sigparse: \"%s\": %s (last error: %s)\n", text, why, ferry_last_error());
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    ferry_signature sig, untouched;
    memset(&sig, 0xA5, sizeof sig);
    memcpy(&untouched, &sig, sizeof sig);
    ferry_status s = ferry_signature_parse(text, &sig);
    if (s == FERRY_OK) {
        if (sig.nargs > FERRY_PLUGIN_MAX_ARGS)
            fail(text, "parsed more than FERRY_PLUGIN_MAX_ARGS arguments");
        for (uint32_t i = 0; i <= sig.nargs; i++) {
            const ferry_param *p = i < sig.nargs ? &sig.args[i] : &sig.result;
            if (memchr(p->type_name, 0, sizeof p->type_name) == NULL)
                fail(text, "a type name is not NUL-terminated");
            bool handle = p->kind == FERRY_VALUE_OWNED || p->kind == FERRY_VALUE_BORROWED;
            if (handle != (p->type_name[0] != 0))
                fail(text, "a handle parameter without a type name, or a scalar with one");
            if ((unsigned)p->kind > FERRY_VALUE_BORROWED || (i < sig.nargs && p->kind == FERRY_VALUE_VOID))
                fail(text, "a parameter of an impossible kind");
        }
        if (sig.result.kind == FERRY_VALUE_BORROWED)
            fail(text, "a borrowed result");
        /* Parsing is a pure function of the text. */
        ferry_signature again;
        if (ferry_signature_parse(text, &again) != FERRY_OK || again.nargs != sig.nargs)
            fail(text, "a second parse disagrees");
    } else {
        if (s != FERRY_E_SIGNATURE)
            fail(text, "refused with a status other than FERRY_E_SIGNATURE");
        if (!strstr(ferry_last_error(), "FERRY_E_SIGNATURE"))
            fail(text, "the message does not name the status");
        if (memcmp(&sig, &untouched, sizeof sig) != 0)
            fail(text, "a failed parse wrote *out");
    }
    if (ferry_signature_parse(NULL, &sig) != FERRY_E_NULL || ferry_signature_parse(text, NULL) != FERRY_E_NULL)
        fail(text, "NULL arguments are not FERRY_E_NULL");
    free(text);
    return 0;
}
