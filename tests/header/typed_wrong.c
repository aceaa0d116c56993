/* Must NOT compile: a Handle_Image passed where a Handle_Point is wanted. */
#include <ferry.h>

typedef struct Handle_Point { uint64_t bits; } Handle_Point;
typedef struct Handle_Image { uint64_t bits; } Handle_Image;
FERRY_TYPED_HANDLE(Point, Handle_Point, "demo.Point")

int ferry_typed_handles_reject(Handle_Image i);
int ferry_typed_handles_reject(Handle_Image i) { return (int)ferry_drop_as(Point, i); }
