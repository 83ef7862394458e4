#include "convert.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "audit.h"
#include "calibrate/calibrate.h"
#include "emit/emit.h"
#include "onebit/builder/model_builder.h"
#include "onnx/import.h"
#include "summary.h"

namespace onebit::converter {
namespace {

/// Marks the float layers for emission (emit_float.cc reads the attributes): `int8` with the activation
/// scales (int8_* attributes, from calibration, or from ONNX 8-bit QDQ pairs: rules/qdq.cc), or
/// `float16_weights`.
Status set_float_storage(Graph* g, const ConvertOptions& o, int* f16, int* i8) {
  const std::vector<NodeId> layers = int8_candidates(*g);
  std::vector<NodeId> uncalibrated;
  for (NodeId id : layers)
    if (o.int8_float_layers && !g->node(id).i("int8")) uncalibrated.push_back(id);
  if (!uncalibrated.empty()) {
    if (o.calibration.empty())
      return Status::Error("--int8-float-layers needs --calibration FILE (images to observe activation ranges on) for " +
                           g->node(uncalibrated[0]).describe());
    CalibrationSet set;
    Status s = read_calibration_set(o.calibration, o.input_mean, o.input_std,
                                    o.calibration_images ? o.calibration_images : 1000, &set);
    std::map<NodeId, Int8Ranges> ranges;
    if (s.ok()) s = calibrate_ranges(*g, uncalibrated, set, &ranges);
    if (!s.ok()) return s;
    for (NodeId id : uncalibrated) {
      Node& n = g->node(id);
      const Int8Ranges& r = ranges[id];
      float scale;
      int zp;
      int8_grid(r.input_min, r.input_max, &scale, &zp);
      n.attrs["int8_input_scale"] = Attr::Float(scale);
      n.attrs["int8_input_zero_point"] = Attr::Int(zp);
      int8_grid(r.output_min, r.output_max, &scale, &zp);
      n.attrs["int8_output_scale"] = Attr::Float(scale);
      n.attrs["int8_output_zero_point"] = Attr::Int(zp);
      n.attrs["int8"] = Attr::Int(1);
    }
  }
  for (NodeId id : layers) {
    Node& n = g->node(id);
    if (n.i("int8") && o.int8_float_layers) {
      ++*i8;
    } else if (o.float16_weights) {
      n.attrs.erase("int8");
      n.attrs["float16_weights"] = Attr::Int(1);
      ++*f16;
    } else {
      n.attrs.erase("int8");
    }
  }
  return Status::Ok();
}

}  // namespace

bool parse_float_list(const std::string& text, std::vector<float>* out) {
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const float v = std::strtof(item.c_str(), &end);
    if (item.empty() || end == nullptr || *end != '\0') return false;
    out->push_back(v);
  }
  return !out->empty();
}

std::string normalization_problem(const ConvertOptions& options, const std::string& flag) {
  for (float s : options.input_std)
    if (!(s > 0)) return flag + "input-std values must be positive";
  if (options.input_mean.size() != options.input_std.size())
    return flag + "input-mean and " + flag + "input-std must be given together, with the same number of values";
  return "";
}

Status convert_onnx_bytes(const std::string& bytes, const std::string& origin, const ConvertOptions& options,
                          ConvertResult* result) {
  if (options.batch < 0 || options.batch > 65536) return Status::Error("batch must be 1 .. 65536");
  Graph g;
  ImportOptions io;
  io.batch = options.batch > 0 ? options.batch : 1;
  ImportReport imported;
  Status s = import_onnx(bytes, origin, io, &g, &imported);
  RewriteOptions ro;
  ro.sign_zero = options.sign_zero;
  ro.float_reference = options.float_reference;
  ro.max_fold_bytes = options.max_fold_bytes;
  RewriteLog log;
  if (s.ok()) s = rewrite_to_fixed_point(&g, ro, &log);
  std::vector<std::string> warnings;
  if (s.ok()) s = audit_binary_layers(g, options.strict, &warnings);
  if (s.ok() && options.strict && !log.warnings.empty()) s = Status::Error(log.warnings[0] + " (--strict)");
  warnings.insert(warnings.end(), log.warnings.begin(), log.warnings.end());  // the rules' (rules/qdq.cc)
  if (s.ok() && options.float_reference && options.int8_float_layers)
    s = Status::Error("--int8-float-layers and --float-reference exclude each other (the reference is float)");
  int f16 = 0, i8 = 0;
  if (s.ok() && !options.float_reference) s = set_float_storage(&g, options, &f16, &i8);
  ModelBuilder builder;
  EmitReport report;
  EmitOptions eo;
  eo.float_reference = options.float_reference;
  if (s.ok()) s = emit_model(g, eo, &builder, &report);
  if (!s.ok()) return s;
  ModelMetadata meta;
  meta.producer = options.float_reference ? "onebit-convert (float reference)" : "onebit-convert";
  meta.source = options.source.empty() ? origin : options.source;
  if (!g.inputs.empty()) meta.input_shape = nhwc(g.value(g.inputs[0]).shape);
  meta.input_mean = options.input_mean;
  meta.input_std = options.input_std;
  meta.labels = options.labels;
  builder.set_metadata(meta);
  s = builder.finish(&result->model);
  if (!s.ok()) return Status::Error(origin + ": building the onebit model failed: " + s.message());
  result->onnx_parameter_bytes = g.onnx_parameter_bytes;
  result->binary_macs = report.binary_macs;
  result->float_macs = report.float_macs;
  result->binary_layers = report.binary_convs + report.binary_fcs;
  result->float16_layers = f16;
  result->int8_layers = i8;
  result->warnings = warnings;
  SummaryInput in{g, log, imported, report, warnings, int64_t(bytes.size()), result->model.size(), options.float_reference};
  result->summary = format_summary(in);
  return Status::Ok();
}

Status convert_onnx_file(const std::string& path, const ConvertOptions& options, ConvertResult* result) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::Error(path + ": cannot open file");
  if (!S_ISREG(st.st_mode)) return Status::Error(path + ": not a regular file (an ONNX model file is expected)");
  if (st.st_size > (int64_t(2) << 30))
    return Status::Error(path + ": " + std::to_string(int64_t(st.st_size)) + " bytes; ONNX files above 2 GiB (protobuf's limit) are not supported");
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::Error(path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return convert_onnx_bytes(ss.str(), path, options, result);
}

Status convert_file_to_file(const std::string& in_path, const std::string& out_path, const ConvertOptions& options,
                            ConvertResult* result) {
  ONEBIT_RETURN_IF_ERROR(convert_onnx_file(in_path, options, result));
  return write_file_atomically(out_path, result->model);
}

}  // namespace onebit::converter
