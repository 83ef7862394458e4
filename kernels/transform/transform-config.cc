// Output transforms: the table of ukernel pairs (transform.h) and selection, best ISA first.
#include "transform/transform.h"
#include "util/ukernel-list.h"

namespace onebit::kernels {
namespace {

#define ONEBIT_TRANSFORM_ENTRY(tile, isa) \
  {Isa::isa, onebit_transform_f32_ukernel_##tile, onebit_transform_bits_ukernel_##tile, #tile},
const TransformConfig kUkernels[] = {ONEBIT_COMPILED_UKERNELS(ONEBIT_TRANSFORM_UKERNELS, ONEBIT_TRANSFORM_ENTRY)};
#undef ONEBIT_TRANSFORM_ENTRY

}  // namespace

const TransformConfig& transform_select(Isa isa) { return select_ukernel(kUkernels, isa); }
const TransformConfig* transform_ukernels(size_t* count) { return ukernel_table(kUkernels, count); }

}  // namespace onebit::kernels
