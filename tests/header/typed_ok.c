/* Typed handle helpers compile and work for the struct they were made for. */
#include <ferry.h>

typedef struct Handle_Point { uint64_t bits; } Handle_Point;
typedef struct Handle_Image { uint64_t bits; } Handle_Image;
FERRY_TYPED_HANDLE(Point, Handle_Point, "demo.Point")
FERRY_TYPED_HANDLE(Image, Handle_Image, "demo.Image")

int ferry_typed_handles_compile(Handle_Point p, Handle_Image i);
int ferry_typed_handles_compile(Handle_Point p, Handle_Image i)
{
    Handle_Point copy;
    return (int)ferry_clone_as(Point, p, &copy) + (int)ferry_drop_as(Image, i) +
           (int)ferry_check_as(Point, p);
}
