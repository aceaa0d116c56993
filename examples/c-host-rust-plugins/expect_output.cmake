# cmake [-DEMULATOR=cmd;...] -DCOMMAND=prog "-DARGS=arg;..." -DEXPECT=regex
#       -P expect_output.cmake
# Runs the command (under EMULATOR, e.g. valgrind, if given) and passes only
# when it exits 0 and its standard output matches EXPECT.
# (PASS_REGULAR_EXPRESSION alone would ignore the exit status, and the
# example's exit status is its verdict on the ledger.)
execute_process(COMMAND ${EMULATOR} ${COMMAND} ${ARGS}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exit status ${rc}, expected 0")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match:\n${EXPECT}")
endif()
