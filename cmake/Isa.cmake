# Which SIMD paths this target can compile, and the flags each path's own source files get.
# Never applied globally: one binary runs on any CPU of the architecture and picks kernels at run time.
set(ONEBIT_ARCH "other")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(ONEBIT_ARCH "x86_64")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(ONEBIT_ARCH "aarch64")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(ONEBIT_ARCH "arm")
endif()

set(ONEBIT_FLAGS_avx2 -mavx2 -mfma -mpopcnt -mbmi2)
set(ONEBIT_FLAGS_avx512vpopcnt -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vpopcntdq -mpopcnt -mbmi2)
set(ONEBIT_FLAGS_neon "")
if(ONEBIT_ARCH STREQUAL "arm")
  set(ONEBIT_FLAGS_neon -mfpu=neon-vfpv4)
endif()

set(ONEBIT_ISAS "")
if(ONEBIT_ARCH STREQUAL "x86_64")
  set(ONEBIT_ISAS avx2 avx512vpopcnt)
elseif(ONEBIT_ARCH MATCHES "^(aarch64|arm)$")
  set(ONEBIT_ISAS neon)
endif()

# Adds to `target` every file of `files` named *-<isa>.cc for the ISAs this target compiles, with that ISA's
# flags, and defines ONEBIT_HAVE_<ISA>=1 on the target for the dispatch code.
function(onebit_add_isa_sources target)
  foreach(isa IN LISTS ONEBIT_ISAS)
    string(TOUPPER ${isa} ISA)
    target_compile_definitions(${target} PRIVATE ONEBIT_HAVE_${ISA}=1)
    foreach(f IN LISTS ARGN)
      if(f MATCHES "-${isa}\\.cc$")
        target_sources(${target} PRIVATE ${f})
        set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${ONEBIT_FLAGS_${isa}}")
      endif()
    endforeach()
  endforeach()
endfunction()
