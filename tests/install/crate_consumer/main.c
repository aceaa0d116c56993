/* C using the user's Rust counter through the header cbindgen generated. */
#include "counter.h"

#include <stdio.h>

int main(void)
{
    Handle_Counter counter;
    uint64_t value = 0;
    ferry_status s = counter_new(41, &counter);
    if (s == FERRY_OK)
        s = counter_bump(counter, &value);
    if (s == FERRY_OK)
        s = counter_free(counter);
    if (s != FERRY_OK) {
        fprintf(stderr, "%s: %s\n", ferry_status_name(s), ferry_last_error());
        return 1;
    }
    printf("counter: %llu, live handles: %zu\n", (unsigned long long)value, ferry_live());
    return value == 42 && ferry_live() == 0 ? 0 : 1;
}
