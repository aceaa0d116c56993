/* ferry.h must compile alone, first, under strict C11 (libgit2's headertest). */
#include <ferry.h>

/* The plain names stay real functions behind the call-site macros. */
ferry_status (*const ferry_headertest_drop)(ferry_handle) = ferry_drop;
ferry_status (*const ferry_headertest_box)(const ferry_type *, void *, ferry_handle *) = ferry_box;
