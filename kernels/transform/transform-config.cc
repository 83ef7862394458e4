// Output transforms: the table of ukernel pairs (transform.h) and selection, best ISA first.
#include "transform/transform.h"
#include "util/ukernel-list.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_TRANSFORM_ENTRY(tile, isa) \
  {Isa::isa, onebit_transform_f32_ukernel_##tile, onebit_transform_bits_ukernel_##tile, #tile},
const TransformConfig kUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_TRANSFORM_UKERNELS, ONEBIT_TRANSFORM_ENTRY)};
#undef ONEBIT_TRANSFORM_ENTRY
#define ONEBIT_TRANSFORM_F32_BITS_ENTRY(tile, isa) {Isa::isa, onebit_transform_f32_bits_ukernel_##tile, #tile},
const TransformF32BitsConfig kF32Bits[] = {
    ONEBIT_COMPILED_UKERNELS(ONEBIT_TRANSFORM_F32_BITS_UKERNELS, ONEBIT_TRANSFORM_F32_BITS_ENTRY)};
#undef ONEBIT_TRANSFORM_F32_BITS_ENTRY

}  // namespace

const TransformConfig& transform_select(Isa isa) { return select_ukernel(kUkernels, isa); }
const TransformConfig* transform_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }

onebit_transform_f32_bits_ukernel_fn transform_f32_bits_for(Isa isa) {
  for (const TransformF32BitsConfig& c : kF32Bits) {
    if (c.isa == isa && isa_supported(isa)) return c.fn;
  }
  return nullptr;
}
const TransformF32BitsConfig* transform_f32_bits_ukernels(size_t* count) { return ukernel_table(kF32Bits, count); }

}  // namespace onebit::kernels
