# Bare-metal Cortex-M7 (Armv7E-M, double-precision FPv5, hard-float ABI); qemu board mps2-an500, whose
# Cortex-M7 has the double-precision FPU. A part with the single-precision FPU needs -mfpu=fpv5-sp-d16.
set(ONEBIT_MCU_CPU cortex-m7)
set(ONEBIT_MCU_ARCH_FLAGS "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/cortex-m-common.cmake)
