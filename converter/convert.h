// The whole conversion: read ONNX into the IR (onnx/import.h) -> rewrite rules to a fixed point
// (rules/rule.h: constant folding, simplification, binary recognition, fusions) -> audit (audit.h) ->
// emit (emit/emit.h) -> serialize, plus the human-readable summary (summary.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onebit/status.h"
#include "rules/rule.h"

namespace onebit::converter {

struct ConvertOptions {
  bool float_reference = false;
  std::vector<float> input_mean, input_std;  // stored as model metadata (onebit-eval applies them)
  std::vector<std::string> labels;
  std::string source;                        // recorded as the model's source file
  int batch = 0;                             // a symbolic / unknown batch dim becomes this (0: 1)
  SignZero sign_zero = SignZero::kTernary;   // what a Sign whose input may hold exact zeros does
  bool strict = false;                       // warnings (binary input, float layer) are errors
  // Stored precision of the layers that stay float (Conv / Gemm / MatMul with float weights, not 1-bit ones):
  bool float16_weights = false;    // weights as IEEE binary16 (nearest even), expanded to float at prepare
  bool int8_float_layers = false;  // int8 through XNNPACK qc8 (calibrate/calibrate.h); wins over float16
  std::string calibration;         // IDX (uint8, normalized with input_mean / input_std) or .npy NCHW float32
  size_t calibration_images = 0;   // images of `calibration` used (0: 1000)
  int64_t max_fold_bytes = kDefaultMaxFoldBytes;  // constant folding's budget (RewriteOptions::max_fold_bytes)
};

struct ConvertResult {
  std::vector<uint8_t> model;  // the onebit FlatBuffer
  std::string summary;         // per node: binary / float / folded into X; rules; warnings; bytes; MACs
  std::vector<std::string> warnings;
  int64_t onnx_parameter_bytes = 0;
  int64_t binary_macs = 0, float_macs = 0;
  int binary_layers = 0;
  int float16_layers = 0, int8_layers = 0;
};

/// "0.5" or "0.485,0.456,0.406" (the --input-mean / --input-std forms) into *out; false if any item is not a number.
bool parse_float_list(const std::string& text, std::vector<float>* out);

/// What is wrong with the options' input normalization ("" when fine): every std positive, mean and std
/// given together with as many values. Names the options with `flag` before each ("--" for the CLI).
std::string normalization_problem(const ConvertOptions& options, const std::string& flag);

/// `bytes` is an ONNX ModelProto; `origin` names it in messages.
Status convert_onnx_bytes(const std::string& bytes, const std::string& origin, const ConvertOptions& options,
                          ConvertResult* result);
Status convert_onnx_file(const std::string& path, const ConvertOptions& options, ConvertResult* result);
/// What onebit-convert does: converts `in_path` and writes `out_path` atomically (temporary file + rename),
/// so on any error no output file exists.
Status convert_file_to_file(const std::string& in_path, const std::string& out_path, const ConvertOptions& options,
                            ConvertResult* result);

}  // namespace onebit::converter
