// The converter's report on stdout: what every ONNX node became (binary / float / folded into X / evaluated
// at conversion time), parameter bytes of the ONNX file against the onebit file, binary vs float MACs.
#pragma once

#include <cstdint>
#include <string>

#include "constant_fold.h"
#include "emit.h"
#include "graph.h"
#include "plan.h"

namespace onebit::converter {

std::string format_summary(const Graph& g, const Plan& plan, const FoldedConstants& constants,
                           const EmitReport& report, int64_t onnx_file_bytes, size_t onebit_file_bytes,
                           bool float_reference);

}  // namespace onebit::converter
