# Debian packages of the install components (cmake/Install.cmake), one per component:
#   libonebit0     runtime  the shared library
#   libonebit-dev  dev      headers, libonebit.so, libonebit.a, CMake package, onebit.pc
#   onebit-tools   tools    bench, onebit-synth, onebit-eval, onebit-info, onebit-run, onebit-embed, onebit-convert (when
#                           built) and the Python module
# Build them with `cpack -G DEB` (or `cmake --build <dir> --target package`) in a build tree; the files land
# in <dir>/packages/<name>_<version>_<arch>.deb. Works for cross builds: the architecture comes from the
# target (CMAKE_SYSTEM_PROCESSOR), and Depends are written out here instead of computed by dpkg-shlibdeps,
# which cannot read a cross-built binary's dependencies on this machine. The lower bounds are Debian 12's
# versions (what the packages are built and tested against); scripts/package-test checks that every library
# a packaged ELF file needs is covered by its package's Depends.
set(ONEBIT_DEB_VERSION "${PROJECT_VERSION}")

# Debian architecture of the target.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(ONEBIT_DEB_ARCH amd64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(ONEBIT_DEB_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(ONEBIT_DEB_ARCH armhf)  # the Arm toolchain here is arm-linux-gnueabihf (hard float)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(i.86|x86)$")
  set(ONEBIT_DEB_ARCH i386)
else()
  execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE ONEBIT_DEB_ARCH
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT ONEBIT_DEB_ARCH)
    set(ONEBIT_DEB_ARCH "${CMAKE_SYSTEM_PROCESSOR}")
  endif()
endif()

# Shared libraries the binaries need (Debian 12 package names and versions).
set(_deb_base "libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12)")
set(_deb_xnnpack "libxnnpack0 (>= 0.0~git20220216.ae108ef), libpthreadpool0 (>= 0.0~git20210507.1787867), libcpuinfo0 (>= 0.0~git20220617.082deff)")
set(_deb_xnnpack_dev "libxnnpack-dev (>= 0.0~git20220216.ae108ef), libpthreadpool-dev (>= 0.0~git20210507.1787867), libcpuinfo-dev (>= 0.0~git20220617.082deff)")
set(_deb_self "libonebit0 (= ${ONEBIT_DEB_VERSION})")

set(ONEBIT_DEB_RUNTIME_DEPENDS "${_deb_base}, ${_deb_xnnpack}")
set(ONEBIT_DEB_DEV_DEPENDS "${_deb_self}, ${_deb_xnnpack_dev}")
# The tools link the static runtime (so XNNPACK & co. directly); onebit-eval and onebit-convert read gzipped
# IDX files (zlib, through io/); the Python module loads libonebit.so.0.
set(ONEBIT_DEB_TOOLS_DEPENDS "${_deb_self}, ${_deb_base}, ${_deb_xnnpack}, zlib1g (>= 1:1.2.0)")
if(TARGET onebit-convert)
  string(APPEND ONEBIT_DEB_TOOLS_DEPENDS ", libonnx1 (>= 1.12.0), libprotobuf32 (>= 3.21.12)")
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "onebit")
set(CPACK_PACKAGE_VENDOR "onebit")
set(CPACK_PACKAGE_VERSION "${ONEBIT_DEB_VERSION}")
set(CPACK_PACKAGE_CONTACT "onebit maintainers <onebit@example.org>")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")  # for generators that show one (not DEB)
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would prepend it to every component description; the first line
# of each CPACK_DEBIAN_<COMPONENT>_DESCRIPTION is that package's synopsis.
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev tools)  # never "Unspecified" (install rules of other projects)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)      # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_VERSION "${ONEBIT_DEB_VERSION}")
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${ONEBIT_DEB_ARCH}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${ONEBIT_HOMEPAGE}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libonebit0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "${ONEBIT_DEB_RUNTIME_DEPENDS}")
# DEBIAN/shlibs (what dpkg-shlibdeps tells packages built against libonebit.so.0) and the ldconfig trigger
# (what debhelper generates), written here rather than by CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS, which needs
# the `file` utility (not on a fresh machine) and adds maintainer scripts instead of a trigger.
get_target_property(_deb_soversion onebit SOVERSION)
set(_deb_control "${PROJECT_BINARY_DIR}/packaging/libonebit0")
file(WRITE "${_deb_control}/shlibs" "libonebit ${_deb_soversion} libonebit0 (>= ${ONEBIT_DEB_VERSION})\n")
file(WRITE "${_deb_control}/triggers" "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA "${_deb_control}/shlibs;${_deb_control}/triggers")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "inference engine for binarized neural networks - shared library
Runs onebit models (.fb files, converted from ONNX by onebit-convert) on
x86-64 (AVX2, AVX-512) and Arm (NEON) CPUs: bitpacked binary convolutions,
XNNPACK for the float layers.
This package holds libonebit.so.0 (the C API and the C++ classes
onebit::Model and onebit::Interpreter).")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libonebit-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${ONEBIT_DEB_DEV_DEPENDS}")
set(CPACK_DEBIAN_DEV_DESCRIPTION "inference engine for binarized neural networks - development files
Headers (C API onebit/onebit.h; C++ API onebit/model.h, onebit/interpreter.h),
libonebit.so, the static libonebit.a, the CMake package
(find_package(onebit CONFIG): onebit::onebit, onebit::onebit_static) and
onebit.pc for pkg-config.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME onebit-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION science)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${ONEBIT_DEB_TOOLS_DEPENDS}")
set(CPACK_DEBIAN_TOOLS_PACKAGE_RECOMMENDS "python3-numpy")
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "inference engine for binarized neural networks - tools and Python module
Command-line tools: onebit-info (what a model contains), onebit-run (run a
model on .npy inputs), bench (latency, per-operator profile), onebit-eval
(accuracy on IDX image sets), onebit-synth (synthetic models), onebit-embed
(a model as C source for firmware) and, when
built, onebit-convert (ONNX to onebit); plus the onebit Python module
(ctypes over the C API; needs python3-numpy).")

# License: Apache-2.0 (LICENSE at the top of the source tree). A Debian package states it in
# /usr/share/doc/<package>/copyright (machine-readable format 1.0), one per package; `cmake --install` puts the
# same files under <prefix>/share/doc/.
set(ONEBIT_LICENSE "Apache-2.0")
set(_deb_copyright "${PROJECT_BINARY_DIR}/packaging/copyright")
file(WRITE "${_deb_copyright}" "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: onebit
Source: ${ONEBIT_HOMEPAGE}

Files: *
Copyright: the onebit authors
License: ${ONEBIT_LICENSE}
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
")
foreach(_deb_component RUNTIME DEV TOOLS)
  string(TOLOWER ${_deb_component} _deb_component_lower)
  install(FILES "${_deb_copyright}" COMPONENT ${_deb_component_lower}
          DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/${CPACK_DEBIAN_${_deb_component}_PACKAGE_NAME}")
endforeach()

include(CPack)
