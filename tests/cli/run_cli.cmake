# Runs the ferry command once and checks everything it did: the exit status,
# stdout and stderr, so a wrong status or a wrong word both fail the test.
#
#   cmake -DFERRY=<tool> "-DARGS=<arg;...>" -DEXIT=<status>
#         [-DSTDOUT=<regex>] [-DSTDERR=<regex>] -P run_cli.cmake
#
# In the regexes "\n" stands for a line break. Without STDOUT, stdout must be
# empty. On success stderr must be empty; on failure it must be exactly one
# line starting "ferry: ", which STDERR (if given) must match as well.
# A Rust plugin's panic counts: ferry::plugin! keeps the panic hook quiet
# for panics its shims catch, unless RUST_BACKTRACE is set (unset here).
#
# FERRY_LEAK_CHECK=1 makes a run that leaves a handle alive exit with 23, and
# the error policy is the default whatever the caller's environment says.
cmake_minimum_required(VERSION 3.20)

set(ENV{FERRY_LEAK_CHECK} 1)
unset(ENV{FERRY_ON_ERROR})
unset(ENV{RUST_BACKTRACE})
execute_process(COMMAND ${FERRY} ${ARGS}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)

set(problems "")
if(NOT status STREQUAL EXIT)
  string(APPEND problems "exit status ${status}, expected ${EXIT}\n")
endif()

if(NOT DEFINED STDOUT)
  set(STDOUT "^$")
endif()
string(REPLACE "\\n" "\n" STDOUT "${STDOUT}")
if(NOT out MATCHES "${STDOUT}")
  string(APPEND problems "stdout does not match: ${STDOUT}\n")
endif()

if(EXIT EQUAL 0)
  if(NOT err STREQUAL "")
    string(APPEND problems "stderr is not empty\n")
  endif()
elseif(NOT err MATCHES "^ferry: [^\n]*\n$")
  string(APPEND problems "stderr is not exactly one line starting \"ferry: \"\n")
endif()
if(DEFINED STDERR)
  string(REPLACE "\\n" "\n" STDERR "${STDERR}")
  if(NOT err MATCHES "${STDERR}")
    string(APPEND problems "stderr does not match: ${STDERR}\n")
  endif()
endif()

if(problems)
  string(REPLACE ";" " " shown "${ARGS}")
  message(FATAL_ERROR "ferry ${shown}\n${problems}"
                      "--- stdout ---\n${out}--- stderr ---\n${err}--------------")
endif()
