# Runs the ferry command once and checks everything it did: the exit status,
# stdout and stderr, so a wrong status or a wrong word both fail the test.
#
#   cmake -DFERRY=<tool> "-DARGS=<arg;...>" -DEXIT=<status>
#         [-DSTDOUT=<regex>] [-DSTDERR=<regex>] [-DPLUGIN_STDERR=1] -P run_cli.cmake
#
# In the regexes "\n" stands for a line break. Without STDOUT, stdout must be
# empty. On success stderr must be empty; on failure it must be exactly one
# line starting "ferry: ", which STDERR (if given) must match as well.
# PLUGIN_STDERR allows lines before that one: what the plugin itself wrote
# (Rust's panic hook reports a panic there before ferry does).
#
# FERRY_LEAK_CHECK=1 makes a run that leaves a handle alive exit with 23, and
# the error policy is the default whatever the caller's environment says.
cmake_minimum_required(VERSION 3.20)

set(ENV{FERRY_LEAK_CHECK} 1)
unset(ENV{FERRY_ON_ERROR})
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

set(own_err "${err}")
if(PLUGIN_STDERR AND err MATCHES "\n(ferry: [^\n]*\n)$")
  set(own_err "${CMAKE_MATCH_1}")
endif()
if(EXIT EQUAL 0)
  if(NOT err STREQUAL "")
    string(APPEND problems "stderr is not empty\n")
  endif()
elseif(NOT own_err MATCHES "^ferry: [^\n]*\n$")
  string(APPEND problems "stderr does not end in exactly one line starting \"ferry: \"\n")
endif()
if(DEFINED STDERR)
  string(REPLACE "\\n" "\n" STDERR "${STDERR}")
  if(NOT own_err MATCHES "${STDERR}")
    string(APPEND problems "stderr does not match: ${STDERR}\n")
  endif()
endif()

if(problems)
  string(REPLACE ";" " " shown "${ARGS}")
  message(FATAL_ERROR "ferry ${shown}\n${problems}"
                      "--- stdout ---\n${out}--- stderr ---\n${err}--------------")
endif()
