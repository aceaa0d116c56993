# FerryTesting — register tests that run under ferry's checks.
#
#   ferry_add_test(NAME <name>
#                  COMMAND <executable-target-or-program> [<arg>...]
#                  [WORKING_DIRECTORY <dir>]
#                  [LABELS <label>...]
#                  [ENVIRONMENT <VAR=value>...]
#                  [PROPERTIES <property> <value>...])
#
# Registers a CTest test, like add_test(NAME … COMMAND …), that runs with
#
#   FERRY_LEAK_CHECK=1     a handle still live at exit prints ferry's leak
#                          report and ends the process with status 23
#   FERRY_ON_ERROR=abort   the first misuse prints ferry's message and aborts
#
# so a leak or a misuse fails the test even when the test itself never looks.
# ENVIRONMENT entries come after these two, so a test may override them (a
# test that provokes misuse on purpose: FERRY_ON_ERROR=return, or set the
# policy in code with ferry_set_error_policy). PROPERTIES go to
# set_tests_properties (TIMEOUT, WILL_FAIL, RESOURCE_LOCK, …).
#
# When COMMAND names an executable target with a CROSSCOMPILING_EMULATOR
# (initialised from CMAKE_CROSSCOMPILING_EMULATOR), the test runs the target
# through it, as add_test did for every such target before CMake 3.29
# (policy CMP0158 limits that to cross builds). That keeps the usual
# valgrind recipe working whatever the CMake version and policy:
#
#   cmake -B build-valgrind "-DCMAKE_CROSSCOMPILING_EMULATOR=valgrind;--error-exitcode=99;--leak-check=full"
#
# Without an emulator the target name is handed to add_test unchanged, so
# add_test's own target handling (TEST_LAUNCHER in CMake 3.29+) applies.
#
# Use it in-tree with include(<ferry source>/cmake/FerryTesting.cmake), or
# from an installed ferry: find_package(ferry) includes it (docs/testing.md).
include_guard(GLOBAL)

function(ferry_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;WORKING_DIRECTORY"
                        "COMMAND;LABELS;ENVIRONMENT;PROPERTIES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ferry_add_test: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_NAME OR NOT arg_COMMAND)
    message(FATAL_ERROR "ferry_add_test: NAME and COMMAND are required")
  endif()

  # arg_COMMAND keeps an argument's own semicolons escaped (\;). list()
  # and unquoted set() would drop the escapes: it is handled as a string and
  # expanded once, in add_test.
  set(command "${arg_COMMAND}")
  list(GET arg_COMMAND 0 program)
  if(TARGET "${program}")
    get_target_property(type "${program}" TYPE)
    get_target_property(emulator "${program}" CROSSCOMPILING_EMULATOR)
    if(type STREQUAL "EXECUTABLE" AND emulator)
      # the arguments after the target (a target's name has no semicolon)
      string(FIND "${arg_COMMAND}" ";" end)
      set(args "")
      if(end GREATER 0)
        string(SUBSTRING "${arg_COMMAND}" ${end} -1 args)
      endif()
      string(JOIN ";" command ${emulator} "$<TARGET_FILE:${program}>")
      string(APPEND command "${args}")
    endif()
  endif()

  set(where)
  if(arg_WORKING_DIRECTORY)
    set(where WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}")
  endif()
  add_test(NAME "${arg_NAME}" ${where} COMMAND ${command})

  set(environment "FERRY_LEAK_CHECK=1;FERRY_ON_ERROR=abort")
  if(arg_ENVIRONMENT)
    string(APPEND environment ";${arg_ENVIRONMENT}")
  endif()
  set_tests_properties("${arg_NAME}" PROPERTIES ENVIRONMENT "${environment}")
  if(arg_LABELS)
    set_tests_properties("${arg_NAME}" PROPERTIES LABELS "${arg_LABELS}")
  endif()
  if(arg_PROPERTIES)
    set_tests_properties("${arg_NAME}" PROPERTIES ${arg_PROPERTIES})
  endif()
endfunction()
