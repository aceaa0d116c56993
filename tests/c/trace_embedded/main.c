/*
 * main.c — c.trace_embedded: with FERRY_TRACE=1, the frames of a library
 * that linked the static libferry in are the library's own functions.
 */
#include <stdio.h>
#include <string.h>

const char *embedded_double_drop(void);

int main(void)
{
    const char *msg = embedded_double_drop();
    const char *created = strstr(msg, "\n  created:\n");
    const char *released = strstr(msg, "\n  released:\n");
    int ok = strncmp(msg, "FERRY_E_STALE: ferry_drop: ", 27) == 0 && created && released &&
             strstr(created, " embedded_make+0x") &&
             strstr(created, " embedded_make+0x") < released &&
             strstr(released, " embedded_drop+0x");
    printf("%s\n%s\n", msg, ok ? "trace_embedded: ok" : "trace_embedded: library frames missing");
    return ok ? 0 : 1;
}
