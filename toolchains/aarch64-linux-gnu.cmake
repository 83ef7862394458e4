# Cross build for 64-bit Arm (armv8-a, NEON always present) with Debian's g++-aarch64-linux-gnu.
# Dependencies: scripts/fetch-arm-deps arm64 unpacks the arm64 Debian packages into ONEBIT_ARM_DEPS.
# Tests run through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR), so `ctest` works on the build machine.
set(ONEBIT_TRIPLE aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(ONEBIT_QEMU qemu-aarch64)
set(ONEBIT_ARCH_FLAGS "")
include(${CMAKE_CURRENT_LIST_DIR}/arm-common.cmake)
