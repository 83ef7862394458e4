// The converter's C API (onebit_convert.h): "name=value" options onto ConvertOptions, the conversion, and
// its report as JSON.
#include "onebit_convert.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "convert.h"

struct onebit_conversion {
  std::vector<uint8_t> model;
  std::string report;
};

namespace {

using onebit::converter::ConvertOptions;
using onebit::converter::ConvertResult;
using onebit::converter::SignZero;

thread_local std::string g_last_error;

int failed(int status, const std::string& message) {
  g_last_error = message;
  return status;
}

bool parse_integer(const std::string& text, long long lo, long long hi, long long* out) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool parse_flag(const std::string& text, bool* out) {
  if (text.empty() || text == "1" || text == "true") return *out = true, true;
  if (text == "0" || text == "false") return *out = false, true;
  return false;
}

// One "name=value" option onto `o`; "" when fine, else what is wrong.
std::string apply_option(const std::string& option, ConvertOptions* o) {
  const size_t eq = option.find('=');
  const std::string name = option.substr(0, eq), value = eq == std::string::npos ? "" : option.substr(eq + 1);
  long long n = 0;
  const auto integer = [&](long long lo, long long hi) {
    return parse_integer(value, lo, hi, &n) ? std::string()
                                            : name + " takes an integer in " + std::to_string(lo) + ".." +
                                                  std::to_string(hi) + ", not '" + value + "'";
  };
  const auto flag = [&](bool* b) { return parse_flag(value, b) ? std::string() : name + " takes 1 or 0, not '" + value + "'"; };
  if (name == "input-mean" || name == "input-std") {
    std::vector<float>& v = name == "input-mean" ? o->input_mean : o->input_std;
    v.clear();
    return onebit::converter::parse_float_list(value, &v) ? "" : name + " takes a number or comma-separated numbers, not '" + value + "'";
  }
  if (name == "labels") {
    o->labels.clear();
    std::stringstream ss(value);
    std::string line;
    while (std::getline(ss, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) o->labels.push_back(line);
    }
    return o->labels.empty() ? "labels holds no class names" : "";
  }
  if (name == "batch") {
    std::string e = integer(1, 65536);
    if (e.empty()) o->batch = int(n);
    return e;
  }
  if (name == "sign-zero") {
    if (value == "ternary") o->sign_zero = SignZero::kTernary;
    else if (value == "plus-one") o->sign_zero = SignZero::kPlusOne;
    else if (value == "error") o->sign_zero = SignZero::kError;
    else return "sign-zero takes 'ternary', 'plus-one' or 'error', not '" + value + "'";
    return "";
  }
  if (name == "strict") return flag(&o->strict);
  if (name == "float-reference") return flag(&o->float_reference);
  if (name == "float16-weights") return flag(&o->float16_weights);
  if (name == "int8-float-layers") return flag(&o->int8_float_layers);
  if (name == "calibration") return (o->calibration = value).empty() ? "calibration needs a file" : "";
  if (name == "calibration-images") {
    std::string e = integer(1, 10000000);
    if (e.empty()) o->calibration_images = size_t(n);
    return e;
  }
  if (name == "max-fold-bytes") {
    std::string e = integer(1, std::numeric_limits<long long>::max());
    if (e.empty()) o->max_fold_bytes = n;
    return e;
  }
  if (name == "source") return (o->source = value), "";
  return "unknown option '" + name + "' (onebit_convert.h lists them)";
}

// What onebit-convert also refuses before converting.
std::string check_options(const ConvertOptions& o) {
  if (std::string e = onebit::converter::normalization_problem(o, ""); !e.empty()) return e;
  if (!o.calibration.empty() && !o.int8_float_layers) return "calibration is only used with int8-float-layers";
  return "";
}

void json_string(std::string* out, const std::string& s) {
  *out += '"';
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += char(c);
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c < 0x20) {
      static const char hex[] = "0123456789abcdef";
      *out += "\\u00";
      *out += hex[c >> 4];
      *out += hex[c & 15];
    } else {
      *out += char(c);
    }
  }
  *out += '"';
}

std::string report_json(const ConvertResult& r) {
  std::string j = "{\"summary\": ";
  json_string(&j, r.summary);
  j += ", \"warnings\": [";
  for (size_t i = 0; i < r.warnings.size(); ++i) {
    if (i > 0) j += ", ";
    json_string(&j, r.warnings[i]);
  }
  j += "], \"binary_layers\": " + std::to_string(r.binary_layers) +
       ", \"float16_layers\": " + std::to_string(r.float16_layers) + ", \"int8_layers\": " + std::to_string(r.int8_layers) +
       ", \"binary_macs\": " + std::to_string(r.binary_macs) + ", \"float_macs\": " + std::to_string(r.float_macs) +
       ", \"onnx_parameter_bytes\": " + std::to_string(r.onnx_parameter_bytes) +
       ", \"model_bytes\": " + std::to_string(r.model.size()) + "}";
  return j;
}

}  // namespace

extern "C" {

int onebit_convert_buffer(const void* onnx, size_t size, const char* origin, const char* const* options,
                          onebit_conversion** out) {
  if (out == nullptr) return failed(2, "onebit_convert_buffer: out is NULL");
  *out = nullptr;
  if (onnx == nullptr || size == 0) return failed(2, "onebit_convert_buffer: no ONNX bytes");
  try {
    ConvertOptions o;
    for (const char* const* p = options; p != nullptr && *p != nullptr; ++p) {
      const std::string e = apply_option(*p, &o);
      if (!e.empty()) return failed(2, "option '" + std::string(*p) + "': " + e);
    }
    if (const std::string e = check_options(o); !e.empty()) return failed(2, e);
    const std::string name = origin != nullptr && *origin != '\0' ? origin : "ONNX buffer";
    if (o.source.empty()) o.source = name;
    ConvertResult r;
    const onebit::Status s =
        onebit::converter::convert_onnx_bytes(std::string(static_cast<const char*>(onnx), size), name, o, &r);
    if (!s.ok()) return failed(1, s.message());
    auto* c = new onebit_conversion;
    c->report = report_json(r);
    c->model = std::move(r.model);
    *out = c;
    g_last_error.clear();
    return 0;
  } catch (const std::bad_alloc&) {
    return failed(1, "out of memory while converting");
  } catch (const std::exception& e) {
    return failed(1, std::string("conversion failed: ") + e.what());
  }
}

const void* onebit_conversion_model(const onebit_conversion* c, size_t* size) {
  if (c == nullptr) return nullptr;
  if (size != nullptr) *size = c->model.size();
  return c->model.data();
}

const char* onebit_conversion_report(const onebit_conversion* c) { return c != nullptr ? c->report.c_str() : ""; }

void onebit_conversion_free(onebit_conversion* c) { delete c; }

const char* onebit_convert_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
