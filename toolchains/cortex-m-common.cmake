# Shared part of the Cortex-M (bare metal) toolchain files; expects ONEBIT_MCU_CPU (cortex-m4 | cortex-m7 |
# cortex-m55) and ONEBIT_MCU_ARCH_FLAGS. Debian's arm-none-eabi GCC 12 with newlib (scripts/setup mcu).
# Images need a board's startup and linker script: mcu/CMakeLists.txt (onebit_mcu_executable) adds them,
# and scripts/mcu-qemu runs them under qemu-system-arm (also as CMAKE_CROSSCOMPILING_EMULATOR, so `ctest`
# runs the bare-metal tests on the build machine).
set(CMAKE_SYSTEM_NAME Generic)
# Not "arm": cmake/Isa.cmake would add the NEON kernels for that name (there is no NEON on Cortex-M).
set(CMAKE_SYSTEM_PROCESSOR ${ONEBIT_MCU_CPU})
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# A test executable needs the startup code and linker script of a board: try_compile builds libraries.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# -ffp-contract=off as on every onebit target: the Cortex-M4F/M7/M55 FPUs have VFMA, and the same model
# must compute bit for bit what the x86 build of the portable kernels computes. Sections per function and
# object so --gc-sections keeps only what an image reaches (flash follows the model). No exceptions, RTTI or
# thread-safe statics (one thread, no unwinder in flash).
set(_onebit_mcu_common "${ONEBIT_MCU_ARCH_FLAGS} -mthumb -ffunction-sections -fdata-sections -ffp-contract=off")
# Link-time optimization (flash: the shipped W1A1 example's runtime and kernels 75.4 -> 67.3 KB of .text):
# inlining and dead-code removal across files. Static libraries then hold GCC's IR, so they are archived by
# the gcc-ar wrappers. ONEBIT_MCU_LTO=OFF builds without it (same outputs, bit for bit: -ffp-contract is a
# per-function option that LTO keeps).
set(ONEBIT_MCU_LTO ON CACHE BOOL "Link-time optimization of the Cortex-M images (-flto)")
if(ONEBIT_MCU_LTO)
  string(APPEND _onebit_mcu_common " -flto -fconserve-stack")
  set(CMAKE_AR arm-none-eabi-gcc-ar)
  set(CMAKE_RANLIB arm-none-eabi-gcc-ranlib)
endif()
set(CMAKE_C_FLAGS_INIT "${_onebit_mcu_common}")
set(CMAKE_CXX_FLAGS_INIT "${_onebit_mcu_common} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_ASM_FLAGS_INIT "${_onebit_mcu_common}")
# newlib-nano with semihosting (librdimon: stdio, files, exit code through the debugger interface qemu
# implements); the startup code is mcu/startup.c (-nostartfiles), not newlib's crt0, which faults here.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs --specs=rdimon.specs -nostartfiles -Wl,--gc-sections")

# Flash and RAM are what a microcontroller build is judged by: -Os unless asked otherwise.
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE MinSizeRel CACHE STRING "Build type")
endif()
set(ONEBIT_MCU ON CACHE BOOL "Bare-metal Cortex-M build (set by the toolchains/cortex-m*.cmake files)")
set(ONEBIT_MCU_CPU ${ONEBIT_MCU_CPU} CACHE STRING "The Cortex-M core of this build")

set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

get_filename_component(_onebit_src "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR "${_onebit_src}/scripts/mcu-qemu;${ONEBIT_MCU_CPU}")
