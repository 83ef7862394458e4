# What the Cortex-M build takes from the build machine (onebit's only dependencies there): flatc, to generate
# the schema's header, and FlatBuffers' header-only runtime (the Verifier and the table accessors, which do
# not allocate). The headers are staged into the build tree: /usr/include itself must not be on a bare-metal
# include path (glibc's headers would shadow newlib's).
find_program(FLATC_EXECUTABLE flatc REQUIRED NO_CMAKE_FIND_ROOT_PATH)
find_path(ONEBIT_FLATBUFFERS_INCLUDE flatbuffers/flatbuffers.h PATHS /usr/include NO_CMAKE_FIND_ROOT_PATH
          NO_DEFAULT_PATH)
if(NOT ONEBIT_FLATBUFFERS_INCLUDE)
  message(FATAL_ERROR "onebit: flatbuffers/flatbuffers.h not found: install libflatbuffers-dev (scripts/setup)")
endif()
set(_onebit_fb_stage ${CMAKE_BINARY_DIR}/mcu-include)
file(MAKE_DIRECTORY ${_onebit_fb_stage})
file(CREATE_LINK ${ONEBIT_FLATBUFFERS_INCLUDE}/flatbuffers ${_onebit_fb_stage}/flatbuffers SYMBOLIC)
add_library(flatbuffers::flatbuffers INTERFACE IMPORTED)
set_target_properties(flatbuffers::flatbuffers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_onebit_fb_stage})
