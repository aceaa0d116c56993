# cmake -DGENERATED=... -DCOMMITTED=... -P check_binding.cmake
# Fails the build when a committed cbindgen header differs from a fresh one.
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${GENERATED}" "${COMMITTED}"
                RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR
    "${COMMITTED} is stale: the Rust crate's exports changed since it was generated.\n"
    "Review and commit the fresh header:\n"
    "  cp ${GENERATED} ${COMMITTED}\n"
    "(or run: cmake --build <build dir> --target ferry_bindings_update)")
endif()
