# cmake -DMODE=<mode> -DCONFIG=<config> -DBUILD_DIR=<ferry build tree> -DWORK=<scratch dir>
#       -DSOURCE_DIR=<tests/install> -DLIBDIR=<lib> -DVERSION=<x.y.z> -DSONAME=<libferry.so.N>
#       -DCC=<compiler> [-DSANITIZE_FLAGS=<flags>] -P run.cmake
#
# Installs BUILD_DIR into WORK/prefix, then, by MODE:
#   layout        the installed files, the soname, ferry --version, ferry.pc,
#                 the CMake package's version promise
#   find_package  consumer/ built with find_package(ferry 0.1), shared and static
#   pkg_config    consumer/main.c compiled with pkg-config's flags, shared and static
#   relocated     the prefix moved elsewhere: find_package, pkg-config and ferry still work
#   crate         crate_consumer/: a user's crate built by ferry_add_crate, used from C;
#                 then what a rebuild runs cargo for, and what it does not
cmake_minimum_required(VERSION 3.20)

# run(<what> COMMAND <command...> [OUTPUT <var>] [MATCH <regex>] [NO_MATCH <regex>])
# Fails unless the command succeeds; stdout and stderr are checked together.
function(run what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT;MATCH;NO_MATCH" "COMMAND")
  execute_process(COMMAND ${arg_COMMAND} OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${arg_COMMAND}\n${out}")
  endif()
  if(DEFINED arg_MATCH AND NOT out MATCHES "${arg_MATCH}")
    message(FATAL_ERROR "${what}: output does not match '${arg_MATCH}':\n${out}")
  endif()
  if(DEFINED arg_NO_MATCH AND out MATCHES "${arg_NO_MATCH}")
    message(FATAL_ERROR "${what}: output matches '${arg_NO_MATCH}' (${CMAKE_MATCH_0}):\n${out}")
  endif()
  if(arg_OUTPUT)
    set(${arg_OUTPUT} "${out}" PARENT_SCOPE)
  endif()
  message(STATUS "ok: ${what}")
endfunction()

function(install_ferry prefix)
  file(REMOVE_RECURSE "${prefix}")
  run("cmake --install" COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}"
                                --config "${CONFIG}")
endfunction()

# A CMake project built against the ferry installed in <prefix>.
function(build_project what source binary prefix)
  run("${what}: configure" COMMAND "${CMAKE_COMMAND}" -S "${source}" -B "${binary}"
      "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${CONFIG}" "-DCMAKE_C_COMPILER=${CC}"
      "-DCMAKE_C_FLAGS=${SANITIZE_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${SANITIZE_FLAGS}")
  run("${what}: build" COMMAND "${CMAKE_COMMAND}" --build "${binary}")
endfunction()

# Runs the find_package consumer against <prefix>: the shared program needs
# libferry.so, the static one does not.
function(check_find_package prefix binary)
  build_project(find_package "${SOURCE_DIR}/consumer" "${binary}" "${prefix}")
  foreach(flavour shared static)
    run("consumer_${flavour}" COMMAND "${binary}/consumer_${flavour}"
        MATCH "^consumer: ferry ${VERSION}, ledger balanced\n$")
  endforeach()
  run("consumer_shared links ${SONAME}" COMMAND readelf -d "${binary}/consumer_shared"
      MATCH "NEEDED[^\n]*\\[${SONAME}\\]")
  run("consumer_static links no libferry.so" COMMAND readelf -d "${binary}/consumer_static"
      NO_MATCH "NEEDED[^\n]*libferry")
  run("ferry_add_test from the package" COMMAND "${CMAKE_CTEST_COMMAND}" --test-dir "${binary}"
      --output-on-failure MATCH "100% tests passed")
  run("ferry_add_test sets the leak check"
      COMMAND "${CMAKE_CTEST_COMMAND}" --test-dir "${binary}" --show-only=json-v1
      MATCH "FERRY_LEAK_CHECK=1.*FERRY_ON_ERROR=return")
endfunction()

# Compiles consumer/main.c with pkg-config's flags for <prefix>: shared, and
# static with `--static` (libferry.a named explicitly, since -lferry prefers
# the shared library).
function(check_pkg_config prefix binary)
  set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
  file(MAKE_DIRECTORY "${binary}")
  run("pkg-config --modversion" COMMAND pkg-config --modversion ferry MATCH "^${VERSION}\n$")
  run("pkg-config --variable=libdir" COMMAND pkg-config --variable=libdir ferry OUTPUT libdir)
  string(STRIP "${libdir}" libdir)
  run("pkg-config --cflags --libs" COMMAND pkg-config --cflags --libs ferry OUTPUT flags)
  run("pkg-config --static --cflags --libs" COMMAND pkg-config --static --cflags --libs ferry
      MATCH "-lferry" OUTPUT static_flags)
  foreach(lib -pthread -ldl -lffi)
    if(NOT static_flags MATCHES "(^| )${lib}( |\n|$)")
      message(FATAL_ERROR "pkg-config --static --libs ferry lacks ${lib}: ${static_flags}")
    endif()
  endforeach()
  string(REPLACE "-lferry" "-l:libferry.a" static_flags "${static_flags}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(static_flags UNIX_COMMAND "${static_flags}")
  separate_arguments(san UNIX_COMMAND "${SANITIZE_FLAGS}")
  set(main "${SOURCE_DIR}/consumer/main.c")
  run("cc: pkg-config shared" COMMAND "${CC}" ${san} "${main}" ${flags} "-Wl,-rpath,${libdir}"
      -o "${binary}/consumer_pc")
  run("cc: pkg-config static" COMMAND "${CC}" ${san} "${main}" ${static_flags}
      -o "${binary}/consumer_pc_static")
  foreach(exe consumer_pc consumer_pc_static)
    run("${exe}" COMMAND "${binary}/${exe}" MATCH "^consumer: ferry ${VERSION}, ledger balanced\n$")
  endforeach()
  run("consumer_pc_static links no libferry.so" COMMAND readelf -d "${binary}/consumer_pc_static"
      NO_MATCH "NEEDED[^\n]*libferry")
endfunction()

function(check_ferry_command prefix)
  run("bin/ferry --version" COMMAND "${prefix}/bin/ferry" --version MATCH "^ferry ${VERSION} ")
endfunction()

function(check_layout prefix)
  foreach(file
      include/ferry.h include/ferry/plugin.h bin/ferry
      ${LIBDIR}/libferry.a ${LIBDIR}/libferry.so ${LIBDIR}/${SONAME} ${LIBDIR}/libferry.so.${VERSION}
      ${LIBDIR}/pkgconfig/ferry.pc
      ${LIBDIR}/cmake/ferry/ferryConfig.cmake ${LIBDIR}/cmake/ferry/ferryConfigVersion.cmake
      ${LIBDIR}/cmake/ferry/ferryTargets.cmake ${LIBDIR}/cmake/ferry/FerryCargo.cmake
      share/ferry/rust/ferry/Cargo.toml share/ferry/rust/ferry/build.rs
      share/ferry/rust/ferry/src/lib.rs)
    if(NOT EXISTS "${prefix}/${file}")
      message(FATAL_ERROR "not installed: ${file}")
    endif()
  endforeach()
  run("soname" COMMAND readelf -d "${prefix}/${LIBDIR}/libferry.so"
      MATCH "SONAME[^\n]*\\[${SONAME}\\]")
  check_ferry_command("${prefix}")
  run("installed crate has no workspace inheritance"
      COMMAND "${CMAKE_COMMAND}" -E cat "${prefix}/share/ferry/rust/ferry/Cargo.toml"
      MATCH "\nversion = \"${VERSION}\"\n" NO_MATCH "\\.workspace|workspace *=")

  # What find_package(ferry <wanted>) accepts.
  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" minor "${VERSION}")
  set(major ${CMAKE_MATCH_1})
  math(EXPR next_minor "${CMAKE_MATCH_2} + 1")
  math(EXPR next_major "${major} + 1")
  foreach(case "${minor}=TRUE" "${VERSION}=TRUE" "${major}.${next_minor}=FALSE" "${next_major}.0=FALSE")
    string(REPLACE "=" ";" case "${case}")
    list(GET case 0 PACKAGE_FIND_VERSION)
    list(GET case 1 expected)
    string(REPLACE "." ";" parts "${PACKAGE_FIND_VERSION}")
    list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
    list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
    set(PACKAGE_VERSION_COMPATIBLE "")
    include("${prefix}/${LIBDIR}/cmake/ferry/ferryConfigVersion.cmake")
    if(NOT PACKAGE_VERSION_COMPATIBLE STREQUAL expected)
      message(FATAL_ERROR "find_package(ferry ${PACKAGE_FIND_VERSION}) against ${VERSION}: "
                          "compatible '${PACKAGE_VERSION_COMPATIBLE}', expected ${expected}")
    endif()
  endforeach()
  message(STATUS "ok: find_package(ferry ${minor}) takes ${VERSION}; ${major}.${next_minor} and ${next_major}.0 do not")
endfunction()

# A user's crate through ferry_add_crate, then dependency tracking:
# cargo runs again exactly when the crate's sources, its manifest or its
# dependencies' sources change.
function(check_crate prefix)
  set(FERRY_RUST_CRATE_DIR "${prefix}/share/ferry/rust/ferry")
  set(src "${WORK}/crate_consumer")
  set(binary "${WORK}/crate_consumer-build")
  file(COPY "${SOURCE_DIR}/crate_consumer/" DESTINATION "${src}" PATTERN Cargo.toml.in EXCLUDE)
  configure_file("${SOURCE_DIR}/crate_consumer/Cargo.toml.in" "${src}/Cargo.toml" @ONLY)
  build_project(crate "${src}" "${binary}" "${prefix}")
  if(NOT EXISTS "${binary}/include/counter.h")
    message(FATAL_ERROR "cbindgen did not write ${binary}/include/counter.h")
  endif()
  foreach(flavour static shared)
    run("counter_${flavour}" COMMAND "${binary}/counter_${flavour}"
        MATCH "^counter: 42, live handles: 0\n$")
  endforeach()
  run("counter_static carries the crate" COMMAND readelf -d "${binary}/counter_static"
      NO_MATCH "NEEDED[^\n]*libcounter")
  run("counter_shared needs the cdylib by name" COMMAND readelf -d "${binary}/counter_shared"
      MATCH "NEEDED[^\n]*\\[libcounter_lib\\.so\\]")

  set(build "${CMAKE_COMMAND}" --build "${binary}" -- VERBOSE=1)
  set(cargo_ran "rustc --offline")
  run("rebuild, nothing changed: no cargo" COMMAND ${build} NO_MATCH "${cargo_ran}")
  foreach(changed "${src}/src/lib.rs" "${src}/Cargo.toml" "${FERRY_RUST_CRATE_DIR}/src/handle.rs")
    file(TOUCH "${changed}")
    cmake_path(GET changed FILENAME name)
    run("rebuild, ${name} touched: cargo" COMMAND ${build} MATCH "${cargo_ran}")
    run("rebuild again: no cargo" COMMAND ${build} NO_MATCH "${cargo_ran}")
  endforeach()
  run("counter_static after the rebuilds" COMMAND "${binary}/counter_static"
      MATCH "^counter: 42, live handles: 0\n$")
endfunction()

file(REMOVE_RECURSE "${WORK}")
set(prefix "${WORK}/prefix")
install_ferry("${prefix}")
if(MODE STREQUAL "layout")
  check_layout("${prefix}")
elseif(MODE STREQUAL "find_package")
  check_find_package("${prefix}" "${WORK}/consumer-build")
elseif(MODE STREQUAL "pkg_config")
  check_pkg_config("${prefix}" "${WORK}/consumer-pc")
elseif(MODE STREQUAL "relocated")
  # Moved, not copied: nothing may still point into the old prefix.
  file(MAKE_DIRECTORY "${WORK}/moved")
  file(RENAME "${prefix}" "${WORK}/moved/elsewhere")
  set(prefix "${WORK}/moved/elsewhere")
  check_ferry_command("${prefix}")
  check_find_package("${prefix}" "${WORK}/consumer-build")
  check_pkg_config("${prefix}" "${WORK}/consumer-pc")
elseif(MODE STREQUAL "crate")
  check_crate("${prefix}")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()
