#include "convert.h"

#include <fstream>
#include <sstream>

#include "binary_activation.h"
#include "onebit/builder.h"
#include "binary_conv.h"
#include "constant_fold.h"
#include "emit.h"
#include "fold.h"
#include "onnx_reader.h"
#include "plan.h"
#include "summary.h"

namespace onebit::converter {

Status convert_onnx_bytes(const std::string& bytes, const std::string& origin, const ConvertOptions& options,
                          ConvertResult* result) {
  Graph g;
  Status s = read_onnx_bytes(bytes, origin, &g);
  FoldedConstants constants;
  if (s.ok()) s = fold_constants(&g, &constants);
  Plan plan;
  if (s.ok()) s = detect_binary_activations(g, &plan);
  if (s.ok()) s = detect_binary_convs(g, &plan);
  if (s.ok()) s = fold_output_transforms(g, &plan);
  if (s.ok()) s = fuse_signs(g, &plan);
  ModelBuilder builder;
  EmitReport report;
  EmitOptions emit_options;
  emit_options.float_reference = options.float_reference;
  if (s.ok()) s = emit_model(g, plan, emit_options, &builder, &report);
  if (!s.ok()) return s;
  ModelMetadata meta;
  meta.producer = options.float_reference ? "onebit-convert (float reference)" : "onebit-convert";
  meta.source = options.source.empty() ? origin : options.source;
  if (!g.inputs.empty()) {
    const Value& in = *g.find(g.inputs[0]);
    if (in.shape.size() == 4) meta.input_shape = {int(in.shape[0]), int(in.shape[2]), int(in.shape[3]), int(in.shape[1])};
    else meta.input_shape.assign(in.shape.begin(), in.shape.end());
  }
  meta.input_mean = options.input_mean;
  meta.input_std = options.input_std;
  meta.labels = options.labels;
  builder.set_metadata(meta);
  s = builder.finish(&result->model);
  if (!s.ok()) return Status::Error(origin + ": building the onebit model failed: " + s.message());
  result->onnx_parameter_bytes = g.onnx_parameter_bytes;
  result->binary_macs = report.binary_macs;
  result->float_macs = report.float_macs;
  result->summary = format_summary(g, plan, constants, report, int64_t(bytes.size()), result->model.size(),
                                   options.float_reference);
  return Status::Ok();
}

Status convert_onnx_file(const std::string& path, const ConvertOptions& options, ConvertResult* result) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::Error(path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return convert_onnx_bytes(ss.str(), path, options, result);
}

Status convert_file_to_file(const std::string& in_path, const std::string& out_path, const ConvertOptions& options,
                            ConvertResult* result) {
  Status s = convert_onnx_file(in_path, options, result);
  if (!s.ok()) return s;
  return write_file_atomically(out_path, result->model);
}

}  // namespace onebit::converter
