#include "verify/verify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <random>

#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "verify/divergence.h"
#include "verify/reference.h"

namespace onebit::converter {
namespace {

// N(0, 1) by Box-Muller on 53-bit uniforms from mt19937_64: the same numbers on every platform and library
// (std::normal_distribution is implementation-defined).
class Normal {
 public:
  explicit Normal(uint64_t seed) : gen_(seed) {}
  float next() {
    if (have_) {
      have_ = false;
      return float(spare_);
    }
    const double u1 = (double(gen_() >> 11) + 1.0) * 0x1p-53, u2 = double(gen_() >> 11) * 0x1p-53;
    const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
    spare_ = r * std::sin(a);
    have_ = true;
    return float(r * std::cos(a));
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0;
  bool have_ = false;
};

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Argmax of every row ([rows, len] row-major); true when all rows agree.
bool same_argmax(const std::vector<double>& want, const std::vector<float>& got, int64_t rows) {
  const int64_t len = rows ? int64_t(want.size()) / rows : 0;
  for (int64_t r = 0; r < rows; ++r) {
    const auto w = want.begin() + long(r * len);
    const auto g = got.begin() + long(r * len);
    if (std::max_element(w, w + long(len)) - w != std::max_element(g, g + long(len)) - g) return false;
  }
  return true;
}

// Elements of `x` within rounding of 0 (|x| <= kSignRounding * max |x|), and those exactly 0.
void near_zero_in(const RefTensor& x, int64_t* near, int64_t* exact) {
  double hi = 0;
  for (double v : x.data) hi = std::max(hi, std::fabs(v));
  for (double v : x.data) {
    *near += std::fabs(v) <= kSignRounding * hi;
    *exact += v == 0;
  }
}

// The first diverging layer of a disagreeing input (divergence.h), or the fallback: the first binarizing node
// whose input was within rounding of 0 on it.
Status diagnose(const ReferenceGraph& ref, const std::map<std::string, RefTensor>& values,
                const std::vector<uint8_t>& model, const std::vector<float>& x_nhwc, VerifyReport* report) {
  Divergence d;
  ONEBIT_RETURN_IF_ERROR(find_first_divergence(ref, values, model, x_nhwc, &d));
  if (d.found) {
    report->first_diverging_layer = d.layer;
    report->divergence = "(" + d.type + ", ONNX tensor '" + d.onnx_tensor + "'): " + std::to_string(d.differing) +
                         " of " + std::to_string(d.elements) + " values differ, max |Δ| " + format("%.3g", d.max_delta) +
                         " where max |reference| is " + format("%.3g", d.scale);
    report->explained_by_near_zero_signs = d.near_zero;
    report->exact_zero_cause = d.exact_zero;
    return Status::Ok();
  }
  report->first_diverging_layer = "?";
  report->divergence = "(no operator output maps to a diverging ONNX tensor; no Sign input was within float "
                       "rounding of 0)";
  for (const BinarizingInput& b : ref.binarizing_inputs()) {
    int64_t near = 0, exact = 0;
    near_zero_in(values.at(b.value), &near, &exact);
    if (near == 0) continue;
    report->first_diverging_layer = b.node;
    report->divergence = "(no operator output maps to a diverging ONNX tensor; the first binarizing node whose "
                         "input was within float rounding of 0: " + std::to_string(near) + " elements)";
    break;
  }
  return Status::Ok();
}

}  // namespace

std::string VerifyReport::text() const {
  std::string s = "verify: " + std::to_string(inputs) + " inputs, argmax agreement " + std::to_string(argmax_agree) +
                  "/" + std::to_string(inputs) + ", max |Δ| relative to the logit range " +
                  format("%.3g", max_relative_delta) + ", binary activations within float rounding of 0: " +
                  std::to_string(near_zero_binary);
  if (exact_zero_binary > 0) s += " (" + std::to_string(exact_zero_binary) + " exactly 0)";
  s += "\n";
  if (disagreeing == 0) return s;
  s += "verify: " + std::to_string(disagreeing) + " of " + std::to_string(inputs) +
       " inputs disagree (argmax, or logits by more than " + format("%g", kLogitTolerance) +
       " of their range); first diverging layer (input " + std::to_string(first_disagreeing_input) + "): '" +
       first_diverging_layer + "' " + divergence + "\n";
  if (explained_by_near_zero_signs && exact_zero_cause)
    s += "verify: the disagreement comes only from Sign inputs that are exactly 0: ONNX computes sign(0) = 0 there, "
         "the converted model ±1 (see --sign-zero)\n";
  else if (explained_by_near_zero_signs)
    s += "verify: the disagreement is explained only by Sign inputs within float rounding of 0\n";
  return s;
}

static Status verify_unchecked(const std::string& onnx_bytes, const std::string& origin, const std::vector<uint8_t>& model,
                               const VerifyOptions& options, VerifyReport* report);

bool VerifyReport::passed() const {
  return disagreeing == 0 || (argmax_agree == inputs && explained_by_near_zero_signs && !exact_zero_cause);
}

Status verify_conversion(const std::string& onnx_bytes, const std::string& origin, const std::vector<uint8_t>& model,
                         const VerifyOptions& options, VerifyReport* report) {
  try {
    return verify_unchecked(onnx_bytes, origin, model, options, report);
  } catch (const std::exception& e) {  // the reference's tensors are plain std::vectors: bad_alloc, length_error
    return Status::Error("verify: " + std::string(e.what()));
  }
}

static Status verify_unchecked(const std::string& onnx_bytes, const std::string& origin, const std::vector<uint8_t>& model,
                               const VerifyOptions& options, VerifyReport* report) {
  *report = VerifyReport();
  ReferenceGraph ref;
  ONEBIT_RETURN_IF_ERROR(ReferenceGraph::parse(onnx_bytes, origin, &ref));
  if (ref.inputs().size() != 1 || ref.outputs().empty())
    return Status::Error(origin + ": --verify handles graphs with one input and at least one output");
  std::unique_ptr<Model> m;
  ONEBIT_RETURN_IF_ERROR(Model::load_buffer(model.data(), model.size(), &m));
  std::unique_ptr<Interpreter> interp;
  ONEBIT_RETURN_IF_ERROR(Interpreter::create(*m, InterpreterOptions(), &interp));
  if (interp->input_count() != 1 || interp->output_count() < 1)
    return Status::Error("verify: the converted model has " + std::to_string(interp->input_count()) + " inputs");
  // The ONNX input shape from the runtime's NHWC one (a symbolic batch became --batch there).
  const std::vector<int>& in_shape = interp->input_info(0).shape;
  std::vector<int64_t> nchw(in_shape.begin(), in_shape.end());
  if (nchw.size() == 4) nchw = {in_shape[0], in_shape[3], in_shape[1], in_shape[2]};
  const size_t per_input = size_t(element_count(nchw));
  if (options.inputs < 1) return Status::Error("verify: the number of inputs must be positive");
  if (!options.data_nhwc.empty() && options.data_nhwc.size() < per_input * size_t(options.inputs))
    return Status::Error("verify: " + options.source_name + " holds fewer than " + std::to_string(options.inputs) +
                         " inputs of the model's input size");
  report->input_source = options.data_nhwc.empty() ? "seeded random normal (seed " + std::to_string(options.seed) + ")"
                                                   : options.source_name;
  Normal normal(options.seed);
  std::vector<bool> has_near_zero;
  std::map<std::string, RefTensor> values;
  for (int i = 0; i < options.inputs; ++i) {
    std::vector<float> x_nhwc(per_input);
    if (options.data_nhwc.empty()) {
      std::vector<double> x(per_input);
      for (double& v : x) v = normal.next();
      const std::vector<double> t = relayout(x, nchw, true);
      std::copy(t.begin(), t.end(), x_nhwc.begin());
    } else {
      std::copy_n(options.data_nhwc.begin() + long(size_t(i) * per_input), per_input, x_nhwc.begin());
    }
    const std::vector<double> x_wide(x_nhwc.begin(), x_nhwc.end());
    RefTensor input{nchw, relayout(x_wide, nchw, false), 1};
    for (double& v : input.data) v = double(float(v));
    ONEBIT_RETURN_IF_ERROR(ref.evaluate({{ref.inputs()[0], input}}, &values));
    std::copy(x_nhwc.begin(), x_nhwc.end(), interp->input(0));
    ONEBIT_RETURN_IF_ERROR(interp->invoke());
    const RefTensor& want_t = values.at(ref.outputs()[0]);
    const std::vector<int>& out_shape = interp->output_info(0).shape;
    const size_t out_n = size_t(element_count(std::vector<int64_t>(out_shape.begin(), out_shape.end())));
    if (out_n != want_t.size())
      return Status::Error("verify: the converted model's output has " + std::to_string(out_n) +
                           " elements, the ONNX output '" + ref.outputs()[0] + "' " + std::to_string(want_t.size()));
    std::vector<float> got(interp->output(0), interp->output(0) + out_n);
    std::vector<double> want = want_t.data;
    if (want_t.shape.size() == 4 && out_shape.size() == 4) want = relayout(want, want_t.shape, true);
    double lo = INFINITY, hi = -INFINITY, delta = 0;
    for (size_t k = 0; k < out_n; ++k) {
      lo = std::min(lo, want[k]);
      hi = std::max(hi, want[k]);
      delta = std::max(delta, std::fabs(double(got[k]) - want[k]));
    }
    const double range = hi > lo ? hi - lo : std::max(std::fabs(hi), 1.0);
    report->max_relative_delta = std::max(report->max_relative_delta, delta / range);
    int64_t near = 0, exact = 0;
    for (const BinarizingInput& b : ref.binarizing_inputs()) near_zero_in(values.at(b.value), &near, &exact);
    report->near_zero_binary += near;
    report->exact_zero_binary += exact;
    const int64_t rows = out_shape.size() >= 2 ? out_shape[0] : 1;
    const bool agree = same_argmax(want, got, rows);
    report->argmax_agree += agree;
    report->per_input.push_back({agree, !(agree && delta <= kLogitTolerance * range), delta / range, near, exact});
    if (!report->per_input.back().disagrees) continue;
    ++report->disagreeing;
    has_near_zero.push_back(near > 0);
    if (report->disagreeing > 1) continue;
    report->first_disagreeing_input = i;
    ONEBIT_RETURN_IF_ERROR(diagnose(ref, values, model, x_nhwc, report));
  }
  report->inputs = options.inputs;
  if (report->explained_by_near_zero_signs)
    for (bool b : has_near_zero) report->explained_by_near_zero_signs = report->explained_by_near_zero_signs && b;
  return Status::Ok();
}

}  // namespace onebit::converter
