// ferry.h must compile alone, first, as C++17 (sokol compiles its headers both ways).
#include <ferry.h>

ferry_status (*const ferry_headertest_cpp_drop)(ferry_handle) = ferry_drop;
ferry_status (*const ferry_headertest_cpp_borrow)(ferry_handle, const ferry_type *,
                                                  const void **) = ferry_borrow;
