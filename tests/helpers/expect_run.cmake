# Runs a program and checks how it ended:
#   cmake -DEXPECT_STATUS=<exit status or execute_process's text>
#         [-DEXPECT_1=<text>] [-DEXPECT_2=<text>] [-DEXPECT_3=<text>]
#         -P expect_run.cmake <program> [<arg>...]
# Each EXPECT_n must occur in the program's stdout+stderr, in that order.
# The helper tests use it as a target's CROSSCOMPILING_EMULATOR, which also
# proves that ferry_add_test runs a target through its emulator.
cmake_minimum_required(VERSION 3.20)

# The program and its arguments are everything after the script's path; an
# argument's own semicolons are escaped so the list keeps it whole.
set(command)
set(state options)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(state STREQUAL "command")
    string(REPLACE ";" "\\;" arg "${CMAKE_ARGV${i}}")
    list(APPEND command "${arg}")
  elseif(state STREQUAL "script")
    set(state command)
  elseif(CMAKE_ARGV${i} STREQUAL "-P")
    set(state script)
  endif()
endforeach()
if(NOT command)
  message(FATAL_ERROR "expect_run.cmake: no program to run")
endif()

execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT status STREQUAL EXPECT_STATUS)
  message(FATAL_ERROR "expected ${command} to end with '${EXPECT_STATUS}', it ended with '${status}'")
endif()
set(rest "${out}")
foreach(n 1 2 3)
  if(DEFINED EXPECT_${n})
    string(FIND "${rest}" "${EXPECT_${n}}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "expected (in order) in the output: ${EXPECT_${n}}")
    endif()
    string(LENGTH "${EXPECT_${n}}" len)
    math(EXPR at "${at} + ${len}")
    string(SUBSTRING "${rest}" ${at} -1 rest)
  endif()
endforeach()
message("ended with '${status}' as expected")
