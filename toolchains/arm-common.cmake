# Shared part of the Arm toolchain files; expects ONEBIT_TRIPLE, ONEBIT_QEMU and ONEBIT_ARCH_FLAGS.
# No CMAKE_SYSROOT: Debian's cross gcc uses sysroot "/" with libc in /usr/<triple>.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${ONEBIT_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${ONEBIT_TRIPLE}-g++)
# -ffp-contract=off: GCC fuses a*b+c into FMA by default on Arm (x86-64's baseline has no FMA), which
# changes float rounding between architectures: the tests' float references then differ from the kernels
# (compiled with -ffp-contract=off) in the last bit, and predicted labels could differ from x86 runs.
set(CMAKE_C_FLAGS_INIT "${ONEBIT_ARCH_FLAGS} -ffp-contract=off")
set(CMAKE_CXX_FLAGS_INIT "${ONEBIT_ARCH_FLAGS} -ffp-contract=off")

# The unpacked target packages. CMAKE_SOURCE_DIR is not set yet while try_compile projects read this file,
# so the default is derived from this file's own location (<source>/toolchains).
get_filename_component(_onebit_src "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(ONEBIT_ARM_DEPS "${_onebit_src}/build-deps/${ONEBIT_TRIPLE}" CACHE PATH
    "Unpacked ${ONEBIT_TRIPLE} Debian packages (scripts/fetch-arm-deps)")
if(NOT EXISTS "${ONEBIT_ARM_DEPS}/usr/include/xnnpack.h")
  message(FATAL_ERROR "No ${ONEBIT_TRIPLE} dependencies in ${ONEBIT_ARM_DEPS}: run scripts/fetch-arm-deps "
                      "(or pass -DONEBIT_ARM_DEPS=<folder>)")
endif()
# try_compile projects get the value from the outer project.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ONEBIT_ARM_DEPS)

set(CMAKE_FIND_ROOT_PATH "${ONEBIT_ARM_DEPS}" /usr/${ONEBIT_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Libraries link against each other's sonames (libXNNPACK -> libcpuinfo, libz in lib/ not usr/lib/).
set(_onebit_libdirs "${ONEBIT_ARM_DEPS}/usr/lib/${ONEBIT_TRIPLE}:${ONEBIT_ARM_DEPS}/lib/${ONEBIT_TRIPLE}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_onebit_libdirs}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_onebit_libdirs}")

find_program(ONEBIT_QEMU_EXECUTABLE ${ONEBIT_QEMU})
if(ONEBIT_QEMU_EXECUTABLE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ONEBIT_QEMU_EXECUTABLE} -L /usr/${ONEBIT_TRIPLE}
      -E LD_LIBRARY_PATH=${_onebit_libdirs})
endif()
