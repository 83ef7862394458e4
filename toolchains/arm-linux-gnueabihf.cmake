# Cross build for 32-bit Arm (armv7-a, NEON, hard float: Raspberry Pi 2/3/4 on 32-bit OS, i.MX6/7, ...)
# with Debian's g++-arm-linux-gnueabihf, whose default (armv7-a+fp) has NEON off.
# Dependencies: scripts/fetch-arm-deps armhf unpacks the armhf Debian packages into ONEBIT_ARM_DEPS.
# Tests run through qemu-arm (CMAKE_CROSSCOMPILING_EMULATOR), so `ctest` works on the build machine.
set(ONEBIT_TRIPLE arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(ONEBIT_QEMU qemu-arm)
# -Wno-psabi: libstdc++'s "parameter passing ... changed in GCC 7.1" notes, irrelevant within one build.
set(ONEBIT_ARCH_FLAGS "-march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -Wno-psabi")
include(${CMAKE_CURRENT_LIST_DIR}/arm-common.cmake)
