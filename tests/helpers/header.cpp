// ferry/check.h must compile alone, first, as C++17 with -pedantic, macros included.
#include <ferry/check.h>

int helpers_header_cpp_uses_macros(const ferry_type *t);
int helpers_header_cpp_uses_macros(const ferry_type *t)
{
    ferry_mark m;
    ferry_ledger_mark(&m);
    ferry_ledger_mark_type(&m, t);
    ck_assert_ferry_ok(ferry_check(ferry_handle{0}, t));
    ck_assert_ferry_status(ferry_check(ferry_handle{0}, t), FERRY_E_NULL);
    ferry_assert_live_change(&m, 1);
    ferry_assert_balanced(&m);
    return 0;
}

extern void (*const helpers_header_cpp_fixture[2])(void);
void (*const helpers_header_cpp_fixture[2])(void) = {ferry_ck_mark_setup,
                                                     ferry_ck_balanced_teardown};
