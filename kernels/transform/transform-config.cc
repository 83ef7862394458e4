// Output transform selection, best ISA first.
#include "transform/transform.h"

namespace onebit::kernels {

TransformConfig transform_select(Isa isa) {
  static const TransformConfig candidates[] = {
#if defined(ONEBIT_HAVE_AVX512VPOPCNT)
      {Isa::kAvx512Vpopcnt, onebit_transform_f32_ukernel_x16__avx512vpopcnt,
       onebit_transform_bits_ukernel_x16__avx512vpopcnt},
#endif
#if defined(ONEBIT_HAVE_AVX2)
      {Isa::kAvx2, onebit_transform_f32_ukernel_x8__avx2, onebit_transform_bits_ukernel_x8__avx2},
#endif
#if defined(ONEBIT_HAVE_NEON)
      {Isa::kNeon, onebit_transform_f32_ukernel_x4__neon, onebit_transform_bits_ukernel_x4__neon},
#endif
      {Isa::kScalar, onebit_transform_f32_ukernel__scalar, onebit_transform_bits_ukernel__scalar},
  };
  for (const TransformConfig& c : candidates) {
    if (isa_allows(isa, c.isa) && isa_supported(c.isa)) return c;
  }
  return candidates[sizeof(candidates) / sizeof(candidates[0]) - 1];
}

}  // namespace onebit::kernels
