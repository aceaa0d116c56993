# cmake -DLIB="<libfixtures.so>;<plugin.so>…" -DARCHIVES="<a.a>;<b.a>" -P check_no_libferry_copy.cmake
# One table per process: each Rust cdylib must need the shared libferry and
# define none of its functions, and a Rust staticlib must not bundle it.
foreach(lib IN LISTS LIB)
  execute_process(COMMAND readelf -d "${lib}" OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
  if(rc OR NOT dynamic MATCHES "NEEDED[^\n]*libferry\\.so")
    message(FATAL_ERROR "${lib} does not link the shared libferry:\n${dynamic}")
  endif()
endforeach()
foreach(file IN LISTS LIB ARCHIVES)
  execute_process(COMMAND nm --defined-only "${file}" OUTPUT_VARIABLE symbols ERROR_QUIET)
  if(symbols MATCHES "[TtDdBb] ferry_(box_at|drop_at|borrow|type_register)\n")
    message(FATAL_ERROR "${file} carries its own copy of libferry (defines ${CMAKE_MATCH_0})")
  endif()
endforeach()
message(STATUS "no Rust library carries its own libferry")
