# Bare-metal Cortex-M55 (Armv8.1-M, FPv5 + Helium MVE integer and float, hard-float ABI); qemu board
# mps3-an547. GCC 12's -mcpu=cortex-m55 already means +mve.fp (it rejects "+mve.fp" as a feature name; the
# object's attributes say "MVE Integer and FP"), and -mfpu=auto takes the FPU from the CPU.
set(ONEBIT_MCU_CPU cortex-m55)
set(ONEBIT_MCU_ARCH_FLAGS "-mcpu=cortex-m55 -mfpu=auto -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m-common.cmake)
