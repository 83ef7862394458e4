// onebit-convert: ONNX (a trained binary network exported from PyTorch) -> onebit model file.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "calibrate/calibrate.h"
#include "cli/cli.h"
#include "convert.h"
#include "verify/verify.h"

namespace {

const char kUsage[] =
    "usage: onebit-convert IN.onnx -o OUT.fb [--float-reference] [--input-mean M --input-std S]\n"
    "                      [--labels FILE] [--batch N] [--sign-zero=ternary|plus-one|error] [--strict]\n"
    "                      [--float16-weights] [--int8-float-layers --calibration FILE [--calibration-images N]]\n"
    "                      [--max-fold-bytes N] [--verify[=N]] [--verify-strict]\n"
    "                      [--help]\n"
    "\n"
    "Converts an ONNX model of a binarized network into a onebit model. Sign on activations becomes a\n"
    "binary Quantize (ternary where its input can be 0); DoReFa / PACT / LSQ / QuantizeLinear quantizers\n"
    "of up to 4 bits become k-bit QuantizeLevels. Convolutions and Gemm / MatMul on those with ±1 (or ±s\n"
    "per output channel, or 2-bit {-3,-1,1,3}·s) weights become BinaryConv2D / BinaryFullyConnected with\n"
    "alpha, bias, BatchNormalization, a following residual Add and the next Sign folded into them;\n"
    "everything else stays full precision. Constant subgraphs (weights binarized inside forward) are\n"
    "evaluated, straight-through-estimator residues and unit factors removed. Prints what each ONNX node\n"
    "became, the rules that fired, warnings, the number of binary layers, sizes and MAC counts. Guide:\n"
    "converter/README.md in the onebit sources.\n"
    "\n";
const char kSignZeroHelp[] =
    "a Sign whose input can hold exact zeros (after a ReLU, zero padding, ...):\n"
    "'ternary' (default: ONNX/PyTorch compute sign(0) = 0 there; it becomes an exact\n"
    "ternary {-1, 0, +1} activation), 'plus-one' (your training used sign(0) = +1) or\n"
    "'error' (refuse such a Sign, the behaviour before ternary activations)";

int fail(const std::string& message) {
  std::fprintf(stderr, "onebit-convert: error: %s\n", message.c_str());
  return 1;
}

constexpr int kDefaultVerifyInputs = 32;
constexpr int kVerifyFailed = 3;  // --verify-strict: converted and written, but the check failed

const char kVerifyHelp[] =
    "after converting, run the ONNX graph in a double-precision reference and the\n"
    "converted model in the runtime on N inputs (--calibration images if given, else\n"
    "seeded random normal) and print argmax agreement, max |delta| relative to the\n"
    "logit range, Sign inputs within float rounding of 0 and, when an input disagrees,\n"
    "the first diverging layer; --verify alone: N = 32";
const char kVerifyStrictHelp[] =
    "like --verify (N = 32 unless --verify=N), and exit with status 3 (the model file\n"
    "is still written) when the check cannot run or an input disagrees (argmax, or\n"
    "logits by more than 0.001 of their range) other than through Sign inputs within\n"
    "float rounding of 0";

// --verify[=N]: "--verify" alone becomes "--verify=32" before parsing (the parser's options take a value).
std::vector<char*> with_verify_default(int argc, char** argv, std::string* storage) {
  *storage = "--verify=" + std::to_string(kDefaultVerifyInputs);
  std::vector<char*> args(argv, argv + argc);
  for (char*& a : args)
    if (std::string(a) == "--verify") a = &(*storage)[0];
  return args;
}

// Runs the check after a successful conversion; returns the exit status.
int verify(const std::string& in, const std::vector<uint8_t>& model, const onebit::converter::ConvertOptions& options,
           int inputs, bool strict) {
  onebit::converter::VerifyOptions vo;
  vo.inputs = inputs;
  onebit::Status s = onebit::Status::Ok();
  if (!options.calibration.empty()) {
    onebit::converter::CalibrationSet set;
    s = onebit::converter::read_calibration_set(options.calibration, options.input_mean, options.input_std,
                                                size_t(inputs), &set);
    vo.data_nhwc = set.data;
    vo.inputs = int(std::min(set.images, size_t(inputs)));
    vo.source_name = "images of " + options.calibration;
  }
  std::string bytes;
  if (s.ok()) {
    std::ifstream f(in, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    bytes = ss.str();
  }
  onebit::converter::VerifyReport report;
  if (s.ok()) s = onebit::converter::verify_conversion(bytes, in, model, vo, &report);
  if (!s.ok()) {
    std::fprintf(stderr, "onebit-convert: %s: --verify could not run: %s\n", strict ? "error" : "warning",
                 s.message().c_str());
    return strict ? kVerifyFailed : 0;
  }
  std::fputs(report.text().c_str(), stdout);
  return strict && !report.passed() ? kVerifyFailed : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, out, labels_file;
  std::vector<std::string> means, stds;
  onebit::converter::ConvertOptions options;
  int verify_inputs = 0;
  bool verify_strict = false;
  onebit::cli::Parser cli("onebit-convert", kUsage, "", 23);
  cli.set_error_style("onebit-convert: error: ", 1);
  cli.positional("input", &in);
  cli.text("-o,--output", &out, "OUT.fb", "output file (written only if the conversion succeeds)");
  cli.flag("--float-reference", &options.float_reference,
           "emit binary layers as float convolutions on ±1 values (same outputs)");
  cli.texts("--input-mean", &means, "M", "input normalization stored in the model: x' = (x - M) / S;");
  cli.texts("--input-std", &stds, "S", "M and S are one value or comma-separated per-channel values");
  cli.text("--labels", &labels_file, "FILE", "class names, one per line, stored in the model");
  cli.integer("--batch", &options.batch, 1, 65536, "N",
              "batch size for a symbolic / unknown batch dim (dynamic_axes export); default 1");
  const auto set_sign_zero = [&](const std::string& v) {
    using onebit::converter::SignZero;
    if (v == "error") options.sign_zero = SignZero::kError;
    else if (v == "plus-one") options.sign_zero = SignZero::kPlusOne;
    else if (v == "ternary") options.sign_zero = SignZero::kTernary;
    else return "--sign-zero takes 'ternary', 'plus-one' or 'error', not '" + v + "'";
    return std::string();
  };
  cli.custom("--sign-zero", set_sign_zero, "=MODE", kSignZeroHelp);
  cli.flag("--strict", &options.strict, "warnings (a layer reading a Sign output that stays float) are errors");
  cli.flag("--float16-weights", &options.float16_weights,
           "store the weights of the layers that stay float (stem, 1x1 shortcuts, classifier)\n"
           "as IEEE float16 (round to nearest even); the runtime expands them to float32 once");
  cli.flag("--int8-float-layers", &options.int8_float_layers,
           "run those layers in int8 (XNNPACK qc8: symmetric per-channel int8 weights,\n"
           "per-tensor activation scales observed on --calibration; ONNX QDQ pairs around\n"
           "float layers are not read yet)");
  cli.text("--calibration", &options.calibration, "FILE",
           "images to observe activation ranges on (min / max), and with --verify the inputs\n"
           "checked: IDX uint8 (gzip or plain; pixels / 255, then the --input-mean /\n"
           "--input-std normalization) or .npy float32 N x C x H x W, already normalized");
  cli.integer("--calibration-images", &options.calibration_images, 1, 10000000, "N",
              "use the first N images of FILE (default 1000)");
  cli.integer("--max-fold-bytes", &options.max_fold_bytes, 1, std::numeric_limits<long long>::max(), "N",
              "constant folding's budget: at most N bytes of folded constants alive at once\n"
              "(default 268435456 = 256 MiB) and 1 element operation per byte over the\n"
              "conversion; a model that needs more stops with an error naming the node");
  cli.integer("--verify", &verify_inputs, 1, 1000000, "=N", kVerifyHelp);
  cli.flag("--verify-strict", &verify_strict, kVerifyStrictHelp);
  std::string verify_default;
  std::vector<char*> args = with_verify_default(argc, argv, &verify_default);
  if (const int status = cli.parse(int(args.size()), args.data()); status >= 0) return status;
  if (verify_strict && verify_inputs == 0) verify_inputs = kDefaultVerifyInputs;
  for (const std::string& m : means)
    if (!onebit::converter::parse_float_list(m, &options.input_mean)) return fail("--input-mean needs a number or a comma-separated list");
  for (const std::string& s : stds)
    if (!onebit::converter::parse_float_list(s, &options.input_std)) return fail("--input-std needs a number or a comma-separated list");
  if (in.empty() || out.empty()) cli.fail("an input file and -o OUT are required");
  if (!options.calibration.empty() && !options.int8_float_layers && verify_inputs == 0)
    return fail("--calibration is only used with --int8-float-layers or --verify");
  if (const std::string e = onebit::converter::normalization_problem(options, "--"); !e.empty()) return fail(e);
  if (!labels_file.empty()) {
    struct stat st;
    if (stat(labels_file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return fail(labels_file + ": --labels needs a text file (one class name per line); this is not a regular file");
    std::ifstream f(labels_file);
    if (!f) return fail(labels_file + ": cannot open labels file");
    std::string line;
    while (std::getline(f, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) options.labels.push_back(line);
    }
    if (options.labels.empty()) return fail(labels_file + ": the labels file holds no class names");
  }
  onebit::converter::ConvertResult result;
  const onebit::Status s = onebit::converter::convert_file_to_file(in, out, options, &result);
  if (!s.ok()) return fail(s.message());
  std::fputs(result.summary.c_str(), stdout);
  for (const std::string& w : result.warnings) std::fprintf(stderr, "onebit-convert: warning: %s\n", w.c_str());
  if (result.float16_layers > 0) std::printf("float16 weights: %d float layers\n", result.float16_layers);
  if (result.int8_layers > 0) std::printf("int8 (qc8): %d float layers\n", result.int8_layers);
  std::printf("wrote %s (%zu bytes)\n", out.c_str(), result.model.size());
  std::fflush(stdout);
  return verify_inputs > 0 ? verify(in, result.model, options, verify_inputs, verify_strict) : 0;
}
