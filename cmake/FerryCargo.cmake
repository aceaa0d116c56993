# FerryCargo: build a Rust crate that uses `ferry` with cargo, as part of a
# CMake project, and link it from C.
#
#   ferry_add_crate(<name>
#     MANIFEST_PATH <path/to/Cargo.toml>
#     [CRATE <cargo package name>]
#     [STATIC] [SHARED]
#     [HEADER <file.h> [CBINDGEN_CONFIG <cbindgen.toml>]])
#
# Makes <name>::static (the crate's staticlib, with STATIC or when neither is
# given) and/or <name>::shared (its cdylib, with SHARED), and <name>, which
# links the static one when it is built and the shared one otherwise. All
# link ferry::ferry; with HEADER they carry the directory of the header that
# cbindgen generates. <name>_cargo is the custom target that runs cargo.
# docs/install.md is the reference.
#
# ferryConfig.cmake includes this file; in the ferry source tree,
# include(FerryCargo) after libferry's targets exist.

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  # Build step of ferry_add_crate:
  #   cmake -DCARGO_DEPFILE=<lib.d> -DDEPFILE=<out.d> -DOUTPUT=<file> -P FerryCargo.cmake
  # Cargo's dep-info names one library (the last crate type it wrote) as
  # its target; the build tool wants the custom command's first output.
  # (A path in it escapes its spaces as "\ ".)
  set(target "^([^ ]|\\\\ )+: ")
  file(STRINGS "${CARGO_DEPFILE}" rule REGEX "${target}" LIMIT_COUNT 1)
  if(NOT rule)
    message(FATAL_ERROR "no dependency rule in ${CARGO_DEPFILE}")
  endif()
  string(REGEX MATCH "${target}" cargo_target "${rule}")
  string(LENGTH "${cargo_target}" skip)
  string(SUBSTRING "${rule}" ${skip} -1 dependencies)
  string(REPLACE " " "\\ " OUTPUT "${OUTPUT}")
  file(WRITE "${DEPFILE}" "${OUTPUT}: ${dependencies}\n")
  return()
endif()

include_guard(GLOBAL)

function(ferry_add_crate name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "STATIC;SHARED" "MANIFEST_PATH;CRATE;HEADER;CBINDGEN_CONFIG" "")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ferry_add_crate(${name}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MANIFEST_PATH)
    message(FATAL_ERROR "ferry_add_crate(${name}): MANIFEST_PATH <Cargo.toml> is required")
  endif()
  if(arg_CBINDGEN_CONFIG AND NOT arg_HEADER)
    message(FATAL_ERROR "ferry_add_crate(${name}): CBINDGEN_CONFIG needs HEADER")
  endif()
  if(NOT TARGET ferry::ferry)
    message(FATAL_ERROR "ferry_add_crate(${name}): no ferry::ferry target; call find_package(ferry) first")
  endif()
  if(NOT arg_STATIC AND NOT arg_SHARED)
    set(arg_STATIC TRUE)
  endif()

  find_program(FERRY_CARGO_EXECUTABLE cargo HINTS "$ENV{HOME}/.cargo/bin" DOC "cargo, for ferry_add_crate")
  if(NOT FERRY_CARGO_EXECUTABLE)
    message(FATAL_ERROR "ferry_add_crate(${name}): cargo not found (set FERRY_CARGO_EXECUTABLE)")
  endif()
  cmake_path(ABSOLUTE_PATH arg_MANIFEST_PATH BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
             NORMALIZE OUTPUT_VARIABLE manifest)
  cmake_path(GET manifest PARENT_PATH crate_dir)

  # The package and its library's file name come from cargo itself (a [lib]
  # name may differ from the package's). Read again when the manifest changes.
  execute_process(
    COMMAND "${FERRY_CARGO_EXECUTABLE}" metadata --offline --no-deps --format-version 1
            --manifest-path "${manifest}"
    OUTPUT_VARIABLE metadata ERROR_VARIABLE error RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "ferry_add_crate(${name}): cargo metadata failed for ${manifest}:\n${error}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${manifest}")
  string(JSON npackages LENGTH "${metadata}" packages)
  math(EXPR last "${npackages} - 1")
  unset(package)
  foreach(i RANGE ${last})
    string(JSON candidate GET "${metadata}" packages ${i} name)
    string(JSON candidate_manifest GET "${metadata}" packages ${i} manifest_path)
    if((arg_CRATE AND candidate STREQUAL arg_CRATE)
       OR (NOT arg_CRATE AND candidate_manifest STREQUAL manifest))
      set(package ${i})
      set(crate ${candidate})
    endif()
  endforeach()
  if(NOT DEFINED package)
    message(FATAL_ERROR "ferry_add_crate(${name}): ${manifest} has no package "
                        "${arg_CRATE} (a workspace manifest needs CRATE)")
  endif()
  string(JSON ntargets LENGTH "${metadata}" packages ${package} targets)
  math(EXPR last "${ntargets} - 1")
  unset(lib)
  foreach(i RANGE ${last})
    string(JSON kinds GET "${metadata}" packages ${package} targets ${i} kind)
    if(kinds MATCHES "\"(lib|rlib|staticlib|cdylib|dylib)\"")
      string(JSON lib GET "${metadata}" packages ${package} targets ${i} name)
      string(REPLACE "-" "_" lib "${lib}")
    endif()
  endforeach()
  if(NOT lib)
    message(FATAL_ERROR "ferry_add_crate(${name}): package ${crate} has no library target")
  endif()

  # Cargo's profile follows the build type: dev for Debug, release for the
  # others (and, with a multi-config generator, per configuration).
  get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(multi_config)
    set(profile "$<IF:$<CONFIG:Debug>,debug,release>")
  elseif(CMAKE_BUILD_TYPE STREQUAL "Debug")
    set(profile debug)
  else()
    set(profile release)
  endif()
  # One target directory for every crate of the project: the `ferry`
  # dependency compiles once.
  set(target_dir "${CMAKE_BINARY_DIR}/cargo-target")
  set(out_dir "${target_dir}/${profile}")

  set(crate_types "")
  set(outputs "")
  if(arg_STATIC)
    list(APPEND crate_types staticlib)
    list(APPEND outputs "${out_dir}/lib${lib}.a")
  endif()
  if(arg_SHARED)
    list(APPEND crate_types cdylib)
    list(APPEND outputs "${out_dir}/lib${lib}.so")
  endif()
  list(JOIN crate_types "," crate_types)

  set(header_commands "")
  set(header_depends "")
  if(arg_HEADER)
    find_program(FERRY_CBINDGEN_EXECUTABLE cbindgen DOC "cbindgen, for ferry_add_crate HEADER")
    if(NOT FERRY_CBINDGEN_EXECUTABLE)
      message(FATAL_ERROR "ferry_add_crate(${name}): HEADER needs cbindgen (Debian: apt-get install cbindgen)")
    endif()
    cmake_path(ABSOLUTE_PATH arg_HEADER BASE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
               NORMALIZE OUTPUT_VARIABLE header)
    cmake_path(GET header PARENT_PATH header_dir)
    cmake_path(GET header FILENAME header_name)
    # Imported targets may only name include directories that exist.
    file(MAKE_DIRECTORY "${header_dir}")
    if(multi_config)
      # One header per configuration (<dir>/<config>/<file>): one file that
      # every configuration's command wrote would make each switch of
      # configuration run cargo again.
      foreach(config IN LISTS CMAKE_CONFIGURATION_TYPES)
        file(MAKE_DIRECTORY "${header_dir}/${config}")
      endforeach()
      set(header_dir "${header_dir}/$<CONFIG>")
      set(header "${header_dir}/${header_name}")
    endif()
    if(arg_CBINDGEN_CONFIG)
      cmake_path(ABSOLUTE_PATH arg_CBINDGEN_CONFIG BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
                 NORMALIZE OUTPUT_VARIABLE config)
      set(config_args --config "${config}")
      list(APPEND header_depends "${config}")
    elseif(EXISTS "${crate_dir}/cbindgen.toml")
      set(config_args --config "${crate_dir}/cbindgen.toml")
      list(APPEND header_depends "${crate_dir}/cbindgen.toml")
    else()
      # cbindgen's own default language is C++.
      set(config_args --lang c)
    endif()
    set(header_commands
      COMMAND "${CMAKE_COMMAND}" -E env "CARGO=${FERRY_CARGO_EXECUTABLE}" CARGO_NET_OFFLINE=true
              "${FERRY_CBINDGEN_EXECUTABLE}" --quiet ${config_args} --crate ${crate}
              --output "${header}" "${crate_dir}")
    list(APPEND outputs "${header}")
  endif()

  # Dependencies: cargo's dep-info for the library lists every source file
  # of the crate and of its path dependencies (ferry's installed sources
  # included), and CMake 3.20+ reads such a depfile with the Makefile and
  # Ninja generators alike. That is exact where a GLOB_RECURSE of the crate
  # directory would miss the dependencies' files and see unrelated ones. The
  # manifests are not in it, so they are listed. Cargo leaves an up-to-date
  # library untouched, so the outputs are touched after every run: otherwise
  # a dependency newer than them (a touched Cargo.toml) would run cargo on
  # every build.
  set(manifests "${manifest}")
  if(EXISTS "${crate_dir}/Cargo.lock")
    list(APPEND manifests "${crate_dir}/Cargo.lock")
  endif()
  list(GET outputs 0 first_output)
  set(depfile "${CMAKE_CURRENT_BINARY_DIR}/${name}-${profile}.cargo.d")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "${CMAKE_COMMAND}" -E env "CARGO_TARGET_DIR=${target_dir}"
            "FERRY_LIB_DIR=$<TARGET_FILE_DIR:ferry::ferry>"
            "${FERRY_CARGO_EXECUTABLE}" rustc --offline --manifest-path "${manifest}"
            --package ${crate} --lib --crate-type ${crate_types}
            "$<$<STREQUAL:${profile},release>:--release>"
    COMMAND "${CMAKE_COMMAND}" "-DCARGO_DEPFILE=${out_dir}/lib${lib}.d" "-DDEPFILE=${depfile}"
            "-DOUTPUT=${first_output}" -P "${CMAKE_CURRENT_FUNCTION_LIST_FILE}"
    ${header_commands}
    COMMAND "${CMAKE_COMMAND}" -E touch ${outputs}
    DEPFILE "${depfile}"
    DEPENDS ${manifests} ${header_depends} ferry::ferry
    # cargo reads .cargo/config.toml from where it runs: the crate's own
    # settings apply as they would to a `cargo build` in its directory.
    WORKING_DIRECTORY "${crate_dir}"
    COMMENT "cargo: ${crate} (${profile})"
    COMMAND_EXPAND_LISTS
    VERBATIM)
  add_custom_target(${name}_cargo DEPENDS ${outputs})

  if(NOT TARGET Threads::Threads)
    find_package(Threads REQUIRED)
  endif()
  foreach(flavour static shared)
    string(TOUPPER ${flavour} wanted)
    if(NOT arg_${wanted})
      continue()
    endif()
    add_library(${name}::${flavour} ${wanted} IMPORTED)
    if(flavour STREQUAL "static")
      set(suffix a)
      # What Rust's std needs from the system in a static link
      # (rustc --print native-static-libs); libferry stays outside.
      set(links ferry::ferry Threads::Threads ${CMAKE_DL_LIBS} m)
    else()
      set(suffix so)
      set(links ferry::ferry)
      # A cdylib has no soname: link it as -l<lib> so that the program
      # records its name, not the build tree's path.
      set_target_properties(${name}::${flavour} PROPERTIES IMPORTED_NO_SONAME TRUE)
    endif()
    if(multi_config)
      set_target_properties(${name}::${flavour} PROPERTIES
        IMPORTED_LOCATION_DEBUG "${target_dir}/debug/lib${lib}.${suffix}"
        IMPORTED_LOCATION "${target_dir}/release/lib${lib}.${suffix}")
    else()
      set_target_properties(${name}::${flavour} PROPERTIES
        IMPORTED_LOCATION "${out_dir}/lib${lib}.${suffix}")
    endif()
    set_target_properties(${name}::${flavour} PROPERTIES INTERFACE_LINK_LIBRARIES "${links}")
    if(arg_HEADER)
      set_target_properties(${name}::${flavour} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${header_dir}")
    endif()
    add_dependencies(${name}::${flavour} ${name}_cargo)
  endforeach()

  add_library(${name} INTERFACE IMPORTED)
  if(arg_STATIC)
    target_link_libraries(${name} INTERFACE ${name}::static)
  else()
    target_link_libraries(${name} INTERFACE ${name}::shared)
  endif()
endfunction()
