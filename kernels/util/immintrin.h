// <immintrin.h> for the x86 SIMD kernel files. GCC 12's AVX-512 intrinsics initialise their "undefined"
// operands with a self-assignment that -Wmaybe-uninitialized reports once inlined (GCC bug 105593, fixed in
// later releases); the warning points into the system header and is silenced for that header only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
