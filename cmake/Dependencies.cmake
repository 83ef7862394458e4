# Finds every dependency from Debian's packages (scripts/setup installs them). Some ship no usable CMake
# config (XNNPACK has none, cpuinfo's is broken), so those are imported by hand.
find_package(Threads REQUIRED)

function(onebit_import_library target header lib)
  find_path(${target}_INCLUDE_DIR ${header} REQUIRED)
  find_library(${target}_LIBRARY ${lib} REQUIRED)
  add_library(${target} UNKNOWN IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    IMPORTED_LOCATION "${${target}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${${target}_INCLUDE_DIR}")
endfunction()

onebit_import_library(onebit::cpuinfo cpuinfo.h cpuinfo)
onebit_import_library(onebit::pthreadpool pthreadpool.h pthreadpool)
set_property(TARGET onebit::pthreadpool PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
onebit_import_library(onebit::xnnpack xnnpack.h XNNPACK)
# xnnpack.h includes pthreadpool.h; the library calls cpuinfo_* (cross links fail without this).
set_property(TARGET onebit::xnnpack PROPERTY INTERFACE_LINK_LIBRARIES onebit::pthreadpool onebit::cpuinfo)

find_package(FlatBuffers CONFIG REQUIRED)
# io/ reads gzip-compressed IDX image sets.
find_package(ZLIB REQUIRED)
# Generated headers static_assert the exact flatc version: always generate at build time, with the build
# machine's flatc (also when cross compiling).
find_program(FLATC_EXECUTABLE flatc REQUIRED NO_CMAKE_FIND_ROOT_PATH)

if(ONEBIT_BUILD_TESTS)
  find_package(doctest CONFIG REQUIRED)
endif()
if(ONEBIT_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
if(ONEBIT_BUILD_CONVERTER)
  find_package(ONNX CONFIG REQUIRED)
  find_package(Protobuf REQUIRED)
endif()

# Header-only libraries of the desktop tools (bench, onebit-synth, onebit-eval, onebit-info, onebit-run and
# onebit-convert's main file): CLI11 parses their command lines, nlohmann/json writes (and the tools' tests
# read) their JSON. The library, kernels, builder and converter library never use them. Both are Debian
# packages of architecture "all" with CMake configs; cross builds find them in the unpacked Arm packages
# (scripts/fetch-arm-deps), like every other dependency.
function(onebit_find_header_package name debian_package)
  find_package(${name} CONFIG QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "onebit: ${name} not found: install the Debian package ${debian_package} "
                        "(scripts/setup); for an Arm cross build run scripts/fetch-arm-deps")
  endif()
endfunction()
onebit_find_header_package(CLI11 libcli11-dev)
onebit_find_header_package(nlohmann_json nlohmann-json3-dev)
