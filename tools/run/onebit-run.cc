// onebit-run: runs a model on inputs from NumPy .npy files and writes its outputs as .npy files.
//
// Layout: the runtime's feature maps are NHWC; with --layout nchw (the default, PyTorch's) a 4-D input is
// given as N,C,H,W and transposed, and a 4-D output written back as N,C,H,W. Other ranks are unchanged.
// Batching: an input whose first dimension is a multiple k of the model's batch (usually 1) runs as k
// invocations whose outputs are concatenated along the first dimension, so a whole test set in one .npy works.
// Uses only the public API (onebit/model.h, onebit/interpreter.h) and the .npy reader/writer of io/.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "onebit/interpreter.h"
#include "onebit/io/npy.h"
#include "onebit/model.h"

namespace {

const char kUsage[] =
    "usage: onebit-run MODEL.fb --input X.npy [--input X2.npy ...] --output Y.npy [--output Y2.npy ...]\n"
    "                  [--layout nchw|nhwc] [--threads N] [--isa NAME] [--portable-float]\n"
    "  Runs the model on the input arrays and writes its outputs (float32 .npy, written atomically).\n";
const char kEpilogue[] =
    "  An input's first dimension may be any multiple of the model's batch: the model then runs once per\n"
    "  batch and the outputs are concatenated along their first dimension (progress on stderr above 1000).\n"
    "Exit status: 0 ok, 1 error (loading, shapes, files), 2 usage error.\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "onebit-run: %s\n", message.c_str());
  return 1;
}

std::string naming(const std::string& path, const std::string& message) {
  return message.find(path) != std::string::npos ? message : path + ": " + message;
}

std::string printable(const std::string& s) {
  std::string r;
  for (char c : s) r += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return r;
}

std::vector<int64_t> widen(const std::vector<int>& v) { return std::vector<int64_t>(v.begin(), v.end()); }

// The runtime's NHWC shape as the user gives it in `layout`.
std::vector<int64_t> user_shape(const std::vector<int>& nhwc, bool nchw) {
  std::vector<int64_t> s = widen(nhwc);
  if (nchw && s.size() == 4) s = {s[0], s[3], s[1], s[2]};
  return s;
}

// One sample block of `n` images: NCHW -> NHWC (to_nhwc) or NHWC -> NCHW, with dims of the NHWC shape.
void transpose(const float* src, float* dst, int64_t n, int64_t h, int64_t w, int64_t c, bool to_nhwc) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < c; ++k) {
          const int64_t nhwc = ((b * h + y) * w + x) * c + k;
          const int64_t nchw = ((b * c + k) * h + y) * w + x;
          if (to_nhwc)
            dst[nhwc] = src[nchw];
          else
            dst[nchw] = src[nhwc];
        }
}

int64_t product(const std::vector<int>& shape) {
  int64_t n = 1;
  for (int d : shape) n *= d;
  return n;
}

/// Why the array `got` read from `file` does not fit the model's input i (t), or "" when it does: the model's
/// shape in the user's layout, or any multiple of its first dimension (run in batches).
std::string input_mismatch(const std::string& file, size_t i, const onebit::TensorInfo& t,
                           const std::vector<int64_t>& got, bool nchw) {
  const std::vector<int64_t> want = user_shape(t.shape, nchw);
  bool ok = !want.empty() && got.size() == want.size() && want[0] > 0 && got[0] > 0 && got[0] % want[0] == 0;
  for (size_t d = 1; ok && d < want.size(); ++d) ok = got[d] == want[d];
  if (want.empty()) ok = got.empty() || (got.size() == 1 && got[0] == 1);
  if (ok) return "";
  std::string msg = file + ": shape " + onebit::io::npy::shape_string(got) + " does not fit the model's input " +
                    std::to_string(i) + " '" + printable(t.name) + "': expected " + onebit::io::npy::shape_string(want);
  if (want.size() == 4) msg += std::string(nchw ? " (N, C, H, W: --layout nchw)" : " (N, H, W, C: --layout nhwc)");
  if (want.size() > 1 && want[0] == 1)
    msg += ", or any first dimension N (run as N batches)";
  else if (want.size() > 1 && want[0] > 1)
    msg += ", or a first dimension that is a multiple of " + std::to_string(want[0]) + " (run in batches)";
  if (want.size() == 4) {
    const std::vector<int64_t> other = user_shape(t.shape, !nchw);
    bool fits_other = got.size() == 4 && got[0] > 0 && got[0] % other[0] == 0;
    for (size_t d = 1; fits_other && d < 4; ++d) fits_other = got[d] == other[d];
    if (fits_other) msg += std::string(" (the array fits --layout ") + (nchw ? "nhwc" : "nchw") + ")";
  }
  return msg;
}

/// Runs the model batch by batch: each input's slice in (NCHW transposed to NHWC), invoke, each output's
/// slice out; progress on stderr every 1,000 samples when there are more than 1,000. 0, or the exit status.
int run_batches(onebit::Interpreter& interp, const std::string& model_path,
                const std::vector<onebit::io::npy::Array>& arrays, int64_t batches, bool nchw,
                std::vector<onebit::io::npy::Array>* results) {
  const int64_t batch = interp.input_info(0).shape.empty() ? 1 : interp.input_info(0).shape[0];
  const int64_t samples = batches * batch;
  const bool progress = samples > 1000;
  int64_t next_report = 1000;
  for (int64_t b = 0; b < batches; ++b) {
    for (size_t i = 0; i < arrays.size(); ++i) {
      const std::vector<int>& m = interp.input_info(i).shape;
      const int64_t n = product(m);
      const float* src = arrays[i].data.data() + b * n;
      float* dst = interp.input(i);
      if (nchw && m.size() == 4)
        transpose(src, dst, m[0], m[1], m[2], m[3], true);
      else
        std::copy(src, src + n, dst);
    }
    const onebit::Status s = interp.invoke();
    if (!s.ok()) return fail(model_path + ": invoke failed on batch " + std::to_string(b) + ": " + s.message());
    for (size_t k = 0; k < results->size(); ++k) {
      const std::vector<int>& m = interp.output_info(k).shape;
      const int64_t n = product(m);
      const float* src = interp.output(k);
      float* dst = (*results)[k].data.data() + b * n;
      if (nchw && m.size() == 4)
        transpose(src, dst, m[0], m[1], m[2], m[3], false);
      else
        std::copy(src, src + n, dst);
    }
    if (progress && (b + 1) * batch >= next_report) {
      std::fprintf(stderr, "onebit-run: %lld/%lld samples\n", static_cast<long long>((b + 1) * batch),
                   static_cast<long long>(samples));
      while (next_report <= (b + 1) * batch) next_report += 1000;
    }
  }
  if (progress && samples % 1000 != 0)
    std::fprintf(stderr, "onebit-run: %lld/%lld samples\n", static_cast<long long>(samples),
                 static_cast<long long>(samples));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, isa, layout = "nchw";
  std::vector<std::string> inputs, outputs;
  int threads = 1;
  onebit::cli::Parser cli("onebit-run", kUsage, kEpilogue, 18);
  cli.positional("model", &model_path);
  cli.texts("--input", &inputs, "FILE",
            "a .npy array (float32, float64, int32, int64 or uint8; read as float32, used as is:\n"
            "no normalization is applied, see onebit-info for the model's mean/std); once per model\n"
            "input, in the model's order");
  cli.texts("--output", &outputs, "FILE", "where to write each model output, once per model output, in order");
  const auto set_layout = [&](const std::string& v) {
    layout = v;
    return v == "nchw" || v == "nhwc" ? std::string() : "--layout expects nchw or nhwc, got '" + v + "'";
  };
  cli.custom("--layout", set_layout, "L",
             "nchw (default, PyTorch's order) or nhwc (the runtime's): how 4-D inputs are given and\n"
             "4-D outputs written; other ranks are passed unchanged");
  cli.integer("--threads", &threads, 1, 1024, "N", "threads of the interpreter, default 1");
  cli.isa(&isa, "kernel path", true);
  bool portable_float = false;
  cli.portable_float(&portable_float);
  if (const int status = cli.parse(argc, argv); status >= 0) return status;
  if (!cli.given("model")) cli.fail("no model file given");
  if (inputs.empty()) cli.fail("no --input given");
  if (outputs.empty()) cli.fail("no --output given");
  for (const std::string& f : inputs)
    if (f.empty()) cli.fail("--input needs a file name");
  for (const std::string& f : outputs)
    if (f.empty()) cli.fail("--output needs a file name");
  const bool nchw = layout == "nchw";

  std::unique_ptr<onebit::Model> model;
  onebit::Status s = onebit::Model::load_file(model_path, &model);
  if (!s.ok()) return fail(naming(model_path, s.message()));
  onebit::InterpreterOptions options;
  options.threads = threads;
  options.isa = isa;
  options.portable_float_kernels = portable_float;
  std::unique_ptr<onebit::Interpreter> interp;
  s = onebit::Interpreter::create(*model, options, &interp);
  if (!s.ok()) return fail(model_path + ": cannot prepare an interpreter: " + s.message());

  const auto describe = [&](bool in) {
    const size_t n = in ? interp->input_count() : interp->output_count();
    std::string d;
    for (size_t i = 0; i < n; ++i) {
      const onebit::TensorInfo& t = in ? interp->input_info(i) : interp->output_info(i);
      d += (i ? ", '" : "'") + printable(t.name) + "' " + onebit::io::npy::shape_string(user_shape(t.shape, nchw));
    }
    return d;
  };
  if (inputs.size() != interp->input_count())
    return fail(model_path + ": the model has " + std::to_string(interp->input_count()) + " input(s) (" +
                describe(true) + ") but " + std::to_string(inputs.size()) +
                " --input file(s) were given: give one --input per model input, in that order");
  if (outputs.size() != interp->output_count())
    return fail(model_path + ": the model has " + std::to_string(interp->output_count()) + " output(s) (" +
                describe(false) + ") but " + std::to_string(outputs.size()) +
                " --output file(s) were given: give one --output per model output, in that order");

  // Read and check every input; all must have the same number of model batches.
  std::vector<onebit::io::npy::Array> arrays(inputs.size());
  int64_t batches = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    s = onebit::io::npy::read(inputs[i], &arrays[i]);
    if (!s.ok()) return fail(s.message());
    const onebit::TensorInfo& t = interp->input_info(i);
    const std::vector<int64_t> want = user_shape(t.shape, nchw);
    const std::vector<int64_t>& got = arrays[i].shape;
    if (const std::string msg = input_mismatch(inputs[i], i, t, got, nchw); !msg.empty()) return fail(msg);
    const int64_t b = want.empty() ? 1 : got[0] / want[0];
    if (batches >= 0 && b != batches)
      return fail(inputs[i] + ": holds " + std::to_string(b) + " batch(es) of the model's input " + std::to_string(i) +
                  ", but " + inputs[0] + " holds " + std::to_string(batches) + ": every input needs as many");
    batches = b;
  }

  // Output arrays in the user's layout, first dimension times the number of batches.
  std::vector<onebit::io::npy::Array> results(outputs.size());
  for (size_t k = 0; k < outputs.size(); ++k) {
    const onebit::TensorInfo& t = interp->output_info(k);
    std::vector<int64_t> shape = user_shape(t.shape, nchw);
    if (shape.empty() && batches > 1)
      return fail(model_path + ": output " + std::to_string(k) + " '" + printable(t.name) +
                  "' is a scalar: the input cannot be split into batches");
    if (!shape.empty()) shape[0] *= batches;
    int64_t n = 0;
    if (!onebit::io::npy::element_count(shape, &n)) return fail(outputs[k] + ": output shape too large");
    results[k].shape = shape;
    try {
      results[k].data.resize(size_t(n));
    } catch (const std::bad_alloc&) {
      return fail(outputs[k] + ": out of memory for " + std::to_string(n) + " output values");
    }
  }

  if (const int status = run_batches(*interp, model_path, arrays, batches, nchw, &results); status != 0) return status;

  for (size_t k = 0; k < results.size(); ++k) {
    s = onebit::io::npy::write(outputs[k], results[k]);
    if (!s.ok()) return fail(s.message());
  }
  return 0;
}
