// Reads an ONNX file into the converter's IR (ir/graph.h), once: every node is checked against its
// schema (its op-table entry, ops/op_def.h: input/output counts, attribute kinds, defaults), old-opset attribute forms are
// moved to the canonical constant inputs, initializers and Constant nodes become constant values (element
// counts checked against their dims), and every value gets the shape the file states or ONNX's own shape
// inference finds (Value::onnx_shape; -1 for a symbolic dim).
//
// Batch: a graph input whose first dim is symbolic or unknown gets `batch` there (default 1) before ONNX's
// shape inference runs, so shapes derived from it resolve; any other unknown input dim is an error naming
// the input.
#pragma once

#include <string>

#include "ir/graph.h"
#include "onebit/status.h"

namespace onebit::converter {

struct ImportOptions {
  int batch = 1;
};

struct ImportReport {
  std::vector<std::string> batch_set;  // "input 'x': dim 0 'batch' set to 1"
};

Status import_onnx(const std::string& bytes, const std::string& origin, const ImportOptions& options, Graph* graph,
                   ImportReport* report);

}  // namespace onebit::converter
