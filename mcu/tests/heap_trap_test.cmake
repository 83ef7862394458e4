# ctest driver of heap_trap_test: cmake -DRUNNER=scripts/mcu-qemu -DCPU=cortex-m4 -DIMAGE=heap_trap_test
# -DMODE=malloc|new|vector|free|float|none -P heap_trap_test.cmake. "none" must exit 0 without the message;
# every other mode must exit 86 (BOARD_HEAP_TRAP_EXIT) with "heap use after board_forbid_heap()".
execute_process(COMMAND ${RUNNER} ${CPU} ${IMAGE} ${MODE} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
set(message "onebit mcu: heap use after board_forbid_heap()")
string(FIND "${out}${err}" "${message}" at)
if(MODE STREQUAL "none")
  if(NOT code EQUAL 0 OR NOT at EQUAL -1)
    message(FATAL_ERROR "mode none: exit ${code} (expected 0), output:\n${out}${err}")
  endif()
elseif(NOT code EQUAL 86 OR at EQUAL -1)
  message(FATAL_ERROR "mode ${MODE}: exit ${code} (expected 86 and the trap's message), output:\n${out}${err}")
endif()
message(STATUS "mode ${MODE}: exit ${code}, output:\n${out}${err}")
