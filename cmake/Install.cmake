# `cmake --install`: the public API (headers, libonebit.so / libonebit.a, a CMake package and a pkg-config
# file) and the tools, in three components that cmake/Packaging.cmake turns into Debian packages:
#   runtime  libonebit.so.<major>*                                            -> libonebit0
#   dev      include/onebit/*.h (public headers only), libonebit.so, libonebit.a,
#            lib/cmake/onebit/, lib/pkgconfig/onebit.pc                        -> libonebit-dev
#   tools    bin/* and the Python module (lib/python3/dist-packages/onebit)   -> onebit-tools
# Everything installed is relocatable: the CMake package finds itself from its own location
# (configure_package_config_file), onebit.pc from ${pcfiledir}, the Python module from _install.py (a
# relative path).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ONEBIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/onebit" CACHE STRING
    "Where onebitConfig.cmake is installed, relative to the prefix")
set(ONEBIT_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig" CACHE STRING
    "Where onebit.pc is installed, relative to the prefix")
set(ONEBIT_HOMEPAGE "https://github.com/onebit-dev/onebit" CACHE STRING
    "Project homepage written into onebit.pc and the Debian packages (placeholder)")
# Debian's directory for Python 3 modules shared by every python3 version (not site-packages).
set(ONEBIT_INSTALL_PYTHONDIR "lib/python3/dist-packages" CACHE STRING
    "Where the onebit Python package is installed, relative to the prefix")

# The libraries: `onebit` (shared) and the static one (`onebit_static`; `onebit_runtime` in older trees,
# when it is still the static library itself).
if(NOT TARGET onebit)
  message(FATAL_ERROR "cmake/Install.cmake: no target 'onebit' (the shared library, runtime/CMakeLists.txt)")
endif()
set(ONEBIT_STATIC_TARGET "")
if(TARGET onebit_static)
  set(ONEBIT_STATIC_TARGET onebit_static)
elseif(TARGET onebit_runtime)
  get_target_property(_onebit_rt_type onebit_runtime TYPE)
  if(_onebit_rt_type STREQUAL "STATIC_LIBRARY")
    set(ONEBIT_STATIC_TARGET onebit_runtime)
  endif()
endif()
if(NOT ONEBIT_STATIC_TARGET)
  message(FATAL_ERROR "cmake/Install.cmake: no static library target (onebit_static) in runtime/CMakeLists.txt")
endif()

# ---- public headers: exactly these; everything else under runtime/ is internal -------------------------
set(ONEBIT_PUBLIC_HEADERS export.h model.h interpreter.h onebit.h op_resolver.h)
list(TRANSFORM ONEBIT_PUBLIC_HEADERS PREPEND "${PROJECT_SOURCE_DIR}/runtime/include/onebit/")
list(APPEND ONEBIT_PUBLIC_HEADERS "${PROJECT_SOURCE_DIR}/core/include/onebit/status.h"
     "${PROJECT_SOURCE_DIR}/core/include/onebit/text.h"
     "${PROJECT_SOURCE_DIR}/core/include/onebit/pool.h")  # core's, public
install(FILES ${ONEBIT_PUBLIC_HEADERS} DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/onebit" COMPONENT dev)

# ---- libraries + CMake package -------------------------------------------------------------------------
set_target_properties(${ONEBIT_STATIC_TARGET} PROPERTIES EXPORT_NAME onebit_static)
install(TARGETS onebit EXPORT onebitTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT runtime)
install(TARGETS ${ONEBIT_STATIC_TARGET} EXPORT onebitStaticTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev)
# Two export sets: onebit::onebit needs nothing on the consumer's machine but itself; onebit::onebit_static
# names XNNPACK, pthreadpool and cpuinfo, which onebitConfig.cmake finds first (and only when present, so a
# machine with libonebit-dev but without libxnnpack-dev can still use the shared library).
install(EXPORT onebitTargets NAMESPACE onebit:: FILE onebitTargets.cmake
        DESTINATION "${ONEBIT_INSTALL_CMAKEDIR}" COMPONENT dev)
install(EXPORT onebitStaticTargets NAMESPACE onebit:: FILE onebitStaticTargets.cmake
        DESTINATION "${ONEBIT_INSTALL_CMAKEDIR}" COMPONENT dev)

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/onebitConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/install/onebitConfig.cmake"
  INSTALL_DESTINATION "${ONEBIT_INSTALL_CMAKEDIR}")
# SameMajorVersion: the SONAME is libonebit.so.<major>; 0.x releases keep the C API's struct_size contract.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/install/onebitConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/install/onebitConfig.cmake"
              "${PROJECT_BINARY_DIR}/install/onebitConfigVersion.cmake"
        DESTINATION "${ONEBIT_INSTALL_CMAKEDIR}" COMPONENT dev)

# ---- pkg-config: prefix relative to the .pc file's own folder, so the tree can move (and a cross sysroot
# via PKG_CONFIG_SYSROOT_DIR works too: pkgconf does not prefix a path that already starts with it).
if(IS_ABSOLUTE "${ONEBIT_INSTALL_PKGCONFIGDIR}")
  set(ONEBIT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _onebit_pc_up "/onebit-prefix/${ONEBIT_INSTALL_PKGCONFIGDIR}" "/onebit-prefix")
  string(REGEX REPLACE "/$" "" _onebit_pc_up "${_onebit_pc_up}")
  set(ONEBIT_PC_PREFIX "\${pcfiledir}/${_onebit_pc_up}")
endif()
foreach(_d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_d}}")
    set(ONEBIT_PC_${_d} "${CMAKE_INSTALL_${_d}}")
  else()
    set(ONEBIT_PC_${_d} "\${prefix}/${CMAKE_INSTALL_${_d}}")
  endif()
endforeach()
configure_file("${CMAKE_CURRENT_LIST_DIR}/onebit.pc.in" "${PROJECT_BINARY_DIR}/install/onebit.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/install/onebit.pc" DESTINATION "${ONEBIT_INSTALL_PKGCONFIGDIR}" COMPONENT dev)

# ---- tools ---------------------------------------------------------------------------------------------
# Those linking libonebit.so get RUNPATH $ORIGIN/../<libdir>, so they run from any prefix (/usr, /opt/onebit,
# a test's temporary one); those linking the static runtime need none (CMake drops the build-tree RPATH).
set(ONEBIT_INSTALLED_TOOLS "")
if(NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  file(RELATIVE_PATH _onebit_bin_to_lib "/onebit-prefix/${CMAKE_INSTALL_BINDIR}" "/onebit-prefix/${CMAKE_INSTALL_LIBDIR}")
else()
  set(_onebit_bin_to_lib "")
endif()
foreach(_tool IN ITEMS onebit-synth onebit-eval onebit-convert onebit-info onebit-run onebit-embed)
  if(TARGET ${_tool})
    list(APPEND ONEBIT_INSTALLED_TOOLS ${_tool})
    get_target_property(_onebit_tool_libs ${_tool} LINK_LIBRARIES)
    if(_onebit_bin_to_lib AND ("onebit" IN_LIST _onebit_tool_libs OR "onebit::onebit" IN_LIST _onebit_tool_libs))
      set_target_properties(${_tool} PROPERTIES INSTALL_RPATH "$ORIGIN/${_onebit_bin_to_lib}")
    endif()
  endif()
endforeach()
if(ONEBIT_INSTALLED_TOOLS)
  install(TARGETS ${ONEBIT_INSTALLED_TOOLS} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT tools)
endif()
# The converter's C API (libonebit_convert.so.0, for the Python module's onebit.convert()): beside
# libonebit, in the tools package, which already carries the converter and its ONNX / protobuf libraries.
if(TARGET onebit_convert)
  # (Its header is not installed: the tools package carries no development files; C programs that want it
  # take converter/capi/onebit_convert.h from the sources.)
  install(TARGETS onebit_convert LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT tools NAMELINK_SKIP)
endif()
# `bench` in the build tree; installed as onebit-bench (a system-wide /usr/bin/bench would be too generic).
# It links the static runtime, so it carries no RPATH to rewrite.
if(TARGET bench)
  install(PROGRAMS $<TARGET_FILE:bench> DESTINATION "${CMAKE_INSTALL_BINDIR}" RENAME onebit-bench COMPONENT tools)
endif()

# ---- Python module (ctypes over the C API) + _install.py: where libonebit.so.<major> is, relative to the
# package's folder (the module's loader reads it; ONEBIT_LIBRARY still overrides it).
set(ONEBIT_PYTHON_SOURCE "${PROJECT_SOURCE_DIR}/python/onebit")
if(EXISTS "${ONEBIT_PYTHON_SOURCE}/__init__.py")
  get_target_property(_onebit_soversion onebit SOVERSION)
  if(NOT _onebit_soversion)
    set(_onebit_soversion "${PROJECT_VERSION_MAJOR}")
  endif()
  set(_onebit_soname "libonebit.so.${_onebit_soversion}")
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${ONEBIT_INSTALL_PYTHONDIR}")
    set(ONEBIT_PYTHON_LIBRARY "${CMAKE_INSTALL_FULL_LIBDIR}/${_onebit_soname}")
  else()
    file(RELATIVE_PATH ONEBIT_PYTHON_LIBRARY "/onebit-prefix/${ONEBIT_INSTALL_PYTHONDIR}/onebit"
         "/onebit-prefix/${CMAKE_INSTALL_LIBDIR}/${_onebit_soname}")
  endif()
  string(REPLACE "${_onebit_soname}" "libonebit_convert.so.0" ONEBIT_PYTHON_CONVERT_LIBRARY "${ONEBIT_PYTHON_LIBRARY}")
  file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/install/_install.py" CONTENT
"# Generated by cmake/Install.cmake: where `cmake --install` put the C libraries, relative to this folder.
LIBRARY = \"${ONEBIT_PYTHON_LIBRARY}\"
CONVERT_LIBRARY = \"${ONEBIT_PYTHON_CONVERT_LIBRARY}\"
")
  install(DIRECTORY "${ONEBIT_PYTHON_SOURCE}/" DESTINATION "${ONEBIT_INSTALL_PYTHONDIR}/onebit" COMPONENT tools
          FILES_MATCHING PATTERN "*.py" PATTERN "_install.py" EXCLUDE PATTERN "__pycache__" EXCLUDE)
  install(FILES "${PROJECT_BINARY_DIR}/install/_install.py"
          DESTINATION "${ONEBIT_INSTALL_PYTHONDIR}/onebit" COMPONENT tools)
endif()

# Everything `cmake --install` copies, for building only that (scripts/package-test):
#   cmake --build <dir> --target onebit_installables
add_custom_target(onebit_installables)
add_dependencies(onebit_installables onebit ${ONEBIT_STATIC_TARGET} ${ONEBIT_INSTALLED_TOOLS})
if(TARGET onebit_convert)
  add_dependencies(onebit_installables onebit_convert)
endif()
if(TARGET bench)
  add_dependencies(onebit_installables bench)
endif()
