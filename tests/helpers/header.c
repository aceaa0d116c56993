/* ferry/check.h must compile alone, first, as C11 with -pedantic. */
#include <ferry/check.h>

void (*const helpers_header_c_fixture[2])(void) = {ferry_ck_mark_setup, ferry_ck_balanced_teardown};
