// onebit-convert --verify: does the converted model compute what the ONNX graph computes?
//
// verify_conversion runs the ONNX graph in the reference (reference.h: plain double-precision ONNX
// semantics, no converter or runtime code) and the converted model in the runtime (onebit::Interpreter, the
// kernels this CPU picks) on the same inputs, and reports
//   - argmax agreement: inputs whose every output row has the same argmax in both;
//   - max |Δ| relative to the logit range: max over inputs of max |runtime − reference| / (max − min of the
//     reference's output for that input);
//   - binary activations within float rounding of 0: elements fed to a binarizing node (a Sign, or a
//     Greater / Less against 0) with |x| <= kSignRounding · max |x| of that tensor, over all inputs. There the
//     float32 runtime and the double reference may take different signs, or a deliberate sign(0) = +1
//     (--sign-zero=plus-one) differs from ONNX's sign(0) = 0; exact zeros are counted apart.
// An input disagrees when its argmax differs, or its logits differ by more than kLogitTolerance of their
// range (a conversion can change every logit and keep the argmax). When one does, the first diverging layer
// of the first disagreeing input: the runtime is run
// again with each operator's output made the graph output, in execution order, and compared with the ONNX
// tensor that operator computes (divergence.h says how that tensor is found), and the cause is classified
// (only Sign inputs within rounding of 0, exactly 0, or a real difference).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onebit/status.h"

namespace onebit::converter {

/// Relative size of a Sign input that float rounding can flip (float32 sums of a few thousand terms).
constexpr double kSignRounding = 1e-5;
/// An input disagrees when its argmax differs or its max |Δ| exceeds this times its logit range.
constexpr double kLogitTolerance = 1e-3;
/// A layer diverges when max |runtime − reference| exceeds this times max |reference| of that tensor.
constexpr double kLayerTolerance = 1e-3;

struct VerifyOptions {
  int inputs = 32;                 // N
  uint64_t seed = 20261207;        // of the random normal inputs
  /// Given inputs instead of random ones (e.g. --calibration images): float32, NHWC as the runtime takes
  /// them (already normalized), at least `inputs` of the model's input size. Empty: seeded N(0, 1).
  std::vector<float> data_nhwc;
  std::string source_name;         // names the given inputs in the report ("calibration FILE")
};

struct VerifyReport {
  int inputs = 0;
  int argmax_agree = 0;
  double max_relative_delta = 0;   // R
  int64_t near_zero_binary = 0;    // Z (exact zeros included)
  int64_t exact_zero_binary = 0;
  std::string input_source;        // "seeded random normal (seed S)" or VerifyOptions::source_name
  int disagreeing = 0;              // inputs that disagree (argmax, or logits beyond kLogitTolerance)
  // When disagreeing > 0:
  int first_disagreeing_input = -1;
  std::string first_diverging_layer;  // runtime operator (= ONNX node) name, or the Sign node of the fallback
  std::string divergence;             // what differs there, one sentence
  /// Every disagreeing input had Sign inputs within rounding of 0, and at the first diverging layer only
  /// such positions differ; exact_zero_cause when they are all exactly 0 (sign(0) taken as ±1).
  bool explained_by_near_zero_signs = false;
  bool exact_zero_cause = false;
  /// Every input's own figures, in order (the C API's onebit_verify_buffer reports them).
  struct Input {
    bool argmax_agrees = true, disagrees = false;
    double max_relative_delta = 0;
    int64_t near_zero_binary = 0, exact_zero_binary = 0;
  };
  std::vector<Input> per_input;

  /// The report: the one summary line, then (when an input disagrees) the diverging layer and its cause.
  std::string text() const;
  /// What --verify-strict accepts: no input disagrees, or only through Sign inputs within float rounding of
  /// 0 that are not exactly 0 with every argmax the same.
  bool passed() const;
};

/// `onnx_bytes` is the ModelProto that was converted (`origin` names it), `model` the converted onebit model.
/// Errors: the ONNX graph has an op the reference lacks, the model does not load or run, or their input /
/// output shapes differ.
Status verify_conversion(const std::string& onnx_bytes, const std::string& origin, const std::vector<uint8_t>& model,
                         const VerifyOptions& options, VerifyReport* report);

}  // namespace onebit::converter
