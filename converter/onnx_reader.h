// Reads an ONNX file (protobuf classes of Debian's libonnx-dev) into the converter's Graph: initializers
// (typed fields or raw_data) and Constant nodes become constant values, static shapes come from the file's
// inputs / value_info / outputs, completed by ONNX's own shape inference (with data propagation, so
// Shape -> Gather -> Reshape chains resolve). Errors: unreadable, truncated or non-ONNX files, external
// data, unsupported tensor types, inputs that nothing defines (a missing initializer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph.h"
#include "onebit/status.h"

namespace onebit::converter {

Status read_onnx_file(const std::string& path, Graph* graph);
Status read_onnx_bytes(const std::string& bytes, const std::string& origin, Graph* graph);

}  // namespace onebit::converter
