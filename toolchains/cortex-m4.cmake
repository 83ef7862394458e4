# Bare-metal Cortex-M4F (Armv7E-M, single-precision FPU, hard-float ABI); qemu board mps2-an386.
set(ONEBIT_MCU_CPU cortex-m4)
set(ONEBIT_MCU_ARCH_FLAGS "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m-common.cmake)
