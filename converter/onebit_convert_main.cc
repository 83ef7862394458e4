// onebit-convert: ONNX (a trained binary network exported from PyTorch) -> onebit model file.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "convert.h"

namespace {

const char kUsage[] =
    "usage: onebit-convert IN.onnx -o OUT.fb [--float-reference] [--input-mean M --input-std S]\n"
    "                      [--labels FILE] [--batch N] [--sign-zero=ternary|plus-one|error] [--strict]\n"
    "                      [--float16-weights] [--int8-float-layers --calibration FILE [--calibration-images N]]\n"
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
    "\n"
    "  -o, --output OUT.fb  output file (written only if the conversion succeeds)\n"
    "  --float-reference    emit binary layers as float convolutions on ±1 values (same outputs)\n"
    "  --input-mean M       input normalization stored in the model: x' = (x - M) / S;\n"
    "  --input-std S        M and S are one value or comma-separated per-channel values\n"
    "  --labels FILE        class names, one per line, stored in the model\n"
    "  --batch N            batch size for a symbolic / unknown batch dim (dynamic_axes export); default 1\n"
    "  --sign-zero=MODE     a Sign whose input can hold exact zeros (after a ReLU, zero padding, ...):\n"
    "                       'ternary' (default: ONNX/PyTorch compute sign(0) = 0 there; it becomes an exact\n"
    "                       ternary {-1, 0, +1} activation), 'plus-one' (your training used sign(0) = +1) or\n"
    "                       'error' (refuse such a Sign, the behaviour before ternary activations)\n"
    "  --strict             warnings (a layer reading a Sign output that stays float) are errors\n"
    "  --float16-weights    store the weights of the layers that stay float (stem, 1x1 shortcuts, classifier)\n"
    "                       as IEEE float16 (round to nearest even); the runtime expands them to float32 once\n"
    "  --int8-float-layers  run those layers in int8 (XNNPACK qc8: symmetric per-channel int8 weights,\n"
    "                       per-tensor activation scales observed on --calibration; ONNX QDQ pairs around\n"
    "                       float layers are not read yet)\n"
    "  --calibration FILE   images to observe activation ranges on (min / max): IDX uint8 (gzip or plain;\n"
    "                       pixels / 255, then the --input-mean / --input-std normalization) or .npy float32\n"
    "                       N x C x H x W, already normalized\n"
    "  --calibration-images N  use the first N images of FILE (default 1000)\n";

bool parse_floats(const std::string& text, std::vector<float>* out) {
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

int fail(const std::string& message) {
  std::fprintf(stderr, "onebit-convert: error: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, out, labels_file;
  onebit::converter::ConvertOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "-o" || a == "--output") {
      if (!value(&out)) return fail("-o needs a file name");
    } else if (a == "--float-reference") {
      options.float_reference = true;
    } else if (a == "--input-mean") {
      if (!value(&v) || !parse_floats(v, &options.input_mean)) return fail("--input-mean needs a number or a comma-separated list");
    } else if (a == "--input-std") {
      if (!value(&v) || !parse_floats(v, &options.input_std)) return fail("--input-std needs a number or a comma-separated list");
      for (float s : options.input_std)
        if (!(s > 0)) return fail("--input-std values must be positive");
    } else if (a == "--batch") {
      char* end = nullptr;
      if (!value(&v)) return fail("--batch needs a number");
      const long b = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || b < 1 || b > 65536) return fail("--batch needs a number from 1 to 65536, got '" + v + "'");
      options.batch = int(b);
    } else if (a.rfind("--sign-zero", 0) == 0) {
      if (a == "--sign-zero") {
        if (!value(&v)) return fail("--sign-zero needs ternary, plus-one or error");
      } else if (a[11] == '=') {
        v = a.substr(12);
      } else {
        return fail("unknown option '" + a + "'\n" + kUsage);
      }
      if (v == "error") options.sign_zero = onebit::converter::SignZero::kError;
      else if (v == "plus-one") options.sign_zero = onebit::converter::SignZero::kPlusOne;
      else if (v == "ternary") options.sign_zero = onebit::converter::SignZero::kTernary;
      else return fail("--sign-zero takes 'ternary', 'plus-one' or 'error', not '" + v + "'");
    } else if (a == "--float16-weights") {
      options.float16_weights = true;
    } else if (a == "--int8-float-layers") {
      options.int8_float_layers = true;
    } else if (a == "--calibration") {
      if (!value(&options.calibration)) return fail("--calibration needs a file name");
    } else if (a == "--calibration-images") {
      char* end = nullptr;
      if (!value(&v)) return fail("--calibration-images needs a number");
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 10000000) return fail("--calibration-images needs a positive number, got '" + v + "'");
      options.calibration_images = size_t(n);
    } else if (a == "--strict") {
      options.strict = true;
    } else if (a == "--labels") {
      if (!value(&labels_file)) return fail("--labels needs a file name");
    } else if (!a.empty() && a[0] == '-') {
      return fail("unknown option '" + a + "'\n" + kUsage);
    } else if (in.empty()) {
      in = a;
    } else {
      return fail("more than one input file ('" + in + "', '" + a + "')");
    }
  }
  if (in.empty() || out.empty()) return fail(std::string("an input file and -o OUT are required\n") + kUsage);
  if (!options.calibration.empty() && !options.int8_float_layers)
    return fail("--calibration is only used with --int8-float-layers");
  if (options.input_mean.size() != options.input_std.size())
    return fail("--input-mean and --input-std must be given together, with the same number of values");
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
  return 0;
}
