// The converter's report on stdout: what every ONNX node became (binary / float / folded into X / evaluated
// at conversion time / removed), which rewrite rules fired how often, warnings, the number of binary
// layers, parameter bytes of the ONNX file against the onebit file, binary vs float MACs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emit/emit.h"
#include "ir/graph.h"
#include "onnx/import.h"
#include "rules/rule.h"

namespace onebit::converter {

struct SummaryInput {
  const Graph& g;
  const RewriteLog& log;
  const ImportReport& imported;
  const EmitReport& report;
  const std::vector<std::string>& warnings;
  int64_t onnx_file_bytes;
  size_t onebit_file_bytes;
  bool float_reference;
};

std::string format_summary(const SummaryInput& in);

}  // namespace onebit::converter
