// The converter's C API (onebit_convert.h): "name=value" options onto ConvertOptions, the conversion, and
// its report as JSON; the --verify check (verify/verify.h) of a model against its ONNX graph, per input.
#include "onebit_convert.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "convert.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "verify/verify.h"

struct onebit_conversion {
  std::vector<uint8_t> model;
  std::string report;
};

struct onebit_verification {
  std::string report;
};

namespace {

using onebit::converter::ConvertOptions;
using onebit::converter::ConvertResult;
using onebit::converter::SignZero;
using onebit::converter::VerifyOptions;
using onebit::converter::VerifyReport;

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

// A JSON number (Python's json reads NaN and Infinity).
std::string json_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

const char* json_bool(bool b) { return b ? "true" : "false"; }

// The floats of one input of `model` (its only input, as the runtime takes it).
onebit::Status input_floats(const std::vector<uint8_t>& model, size_t* n) {
  std::unique_ptr<onebit::Model> m;
  ONEBIT_RETURN_IF_ERROR(onebit::Model::load_buffer(model.data(), model.size(), &m));
  std::unique_ptr<onebit::Interpreter> it;
  ONEBIT_RETURN_IF_ERROR(onebit::Interpreter::create(*m, onebit::InterpreterOptions(), &it));
  if (it->input_count() != 1)
    return onebit::Status::Error("verify: the model has " + std::to_string(it->input_count()) +
                                 " inputs; verify handles models with one");
  *n = 1;
  for (int d : it->input_info(0).shape) *n *= size_t(d);
  return onebit::Status::Ok();
}

// One input's figures, and (`diagnosis`, when given) the first diverging layer found for it.
std::string input_json(size_t i, const VerifyReport::Input& in, const VerifyReport* diagnosis) {
  std::string j = "{\"input\": " + std::to_string(i) + ", \"argmax_agrees\": " + json_bool(in.argmax_agrees) +
                  ", \"max_relative_delta\": " + json_number(in.max_relative_delta) +
                  ", \"near_zero_binary\": " + std::to_string(in.near_zero_binary) +
                  ", \"exact_zero_binary\": " + std::to_string(in.exact_zero_binary) +
                  ", \"disagrees\": " + json_bool(in.disagrees);
  if (diagnosis != nullptr) {
    j += ", \"first_diverging_layer\": ";
    json_string(&j, diagnosis->first_diverging_layer);
    j += ", \"divergence\": ";
    json_string(&j, diagnosis->divergence);
    j += std::string(", \"explained_by_near_zero_signs\": ") + json_bool(diagnosis->explained_by_near_zero_signs) +
         ", \"exact_zero_cause\": " + json_bool(diagnosis->exact_zero_cause);
  }
  return j + "}";
}

// onebit_verify_buffer's work once the arguments are checked: 0, or 1 / 2 with the message set. One pass of
// verify_conversion over all inputs (the figures and text onebit-convert --verify gives for them, the first
// disagreeing input diagnosed), then, for given inputs, the next disagreeing ones diagnosed one by one.
int verify(const std::string& onnx, const std::string& origin, const std::vector<uint8_t>& model, const float* inputs,
           size_t floats, size_t count, size_t diagnose, std::string* json) {
  if (count < 1 || count > 1000000) return failed(2, "onebit_verify_buffer: count must be 1..1000000");
  VerifyOptions options;
  options.inputs = int(count);
  size_t per_input = 0;
  if (inputs == nullptr) {  // the CLI's --verify=count
    if (floats != 0) return failed(2, "onebit_verify_buffer: floats given without inputs");
  } else {
    if (const onebit::Status s = input_floats(model, &per_input); !s.ok()) return failed(1, s.message());
    if (per_input == 0 || floats / per_input != count || floats % per_input != 0)
      return failed(2, "onebit_verify_buffer: " + std::to_string(floats) + " floats are not " + std::to_string(count) +
                           " inputs of the model's " + std::to_string(per_input));
    options.data_nhwc.assign(inputs, inputs + floats);
    options.source_name = "given inputs";
  }
  VerifyReport total;
  if (const onebit::Status s = onebit::converter::verify_conversion(onnx, origin, model, options, &total); !s.ok())
    return failed(1, s.message());
  std::string disagreeing, per;
  size_t diagnosed = 0;
  for (size_t i = 0; i < total.per_input.size(); ++i) {
    const VerifyReport::Input& in = total.per_input[i];
    VerifyReport one;
    const VerifyReport* diagnosis = nullptr;
    if (in.disagrees && diagnosed < diagnose) {
      if (int(i) == total.first_disagreeing_input) {
        diagnosis = &total;
      } else if (inputs != nullptr) {
        VerifyOptions o;
        o.inputs = 1;
        o.data_nhwc.assign(inputs + i * per_input, inputs + (i + 1) * per_input);
        o.source_name = "input " + std::to_string(i);
        if (const onebit::Status s = onebit::converter::verify_conversion(onnx, origin, model, o, &one); !s.ok())
          return failed(1, s.message());
        if (one.disagreeing > 0) diagnosis = &one;
      }
      diagnosed += diagnosis != nullptr;
    }
    if (in.disagrees) disagreeing += (disagreeing.empty() ? "" : ", ") + std::to_string(i);
    per += (i ? ", " : "") + input_json(i, in, diagnosis);
  }
  std::string j = "{\"text\": ";
  json_string(&j, total.text());
  j += ", \"inputs\": " + std::to_string(total.inputs) + ", \"argmax_agree\": " + std::to_string(total.argmax_agree) +
       ", \"max_relative_delta\": " + json_number(total.max_relative_delta) +
       ", \"near_zero_binary\": " + std::to_string(total.near_zero_binary) +
       ", \"exact_zero_binary\": " + std::to_string(total.exact_zero_binary) + ", \"input_source\": ";
  json_string(&j, total.input_source);
  j += std::string(", \"passed\": ") + json_bool(total.passed()) + ", \"disagreeing\": [" + disagreeing +
       "], \"first_diverging_layer\": ";
  json_string(&j, total.disagreeing > 0 ? total.first_diverging_layer : "");
  *json = j + ", \"per_input\": [" + per + "]}";
  return 0;
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

int onebit_verify_buffer(const void* onnx, size_t onnx_size, const char* origin, const void* model,
                         size_t model_size, const float* inputs, size_t floats, size_t count, size_t diagnose,
                         onebit_verification** out) {
  if (out == nullptr) return failed(2, "onebit_verify_buffer: out is NULL");
  *out = nullptr;
  if (onnx == nullptr || onnx_size == 0) return failed(2, "onebit_verify_buffer: no ONNX bytes");
  if (model == nullptr || model_size == 0) return failed(2, "onebit_verify_buffer: no model bytes");
  try {
    const std::string name = origin != nullptr && *origin != '\0' ? origin : "ONNX buffer";
    const auto* m = static_cast<const uint8_t*>(model);
    std::string json;
    const int status = verify(std::string(static_cast<const char*>(onnx), onnx_size), name,
                              std::vector<uint8_t>(m, m + model_size), inputs, floats, count, diagnose, &json);
    if (status != 0) return status;
    *out = new onebit_verification{std::move(json)};
    g_last_error.clear();
    return 0;
  } catch (const std::bad_alloc&) {
    return failed(1, "out of memory while verifying");
  } catch (const std::exception& e) {
    return failed(1, std::string("verify failed: ") + e.what());
  }
}

const char* onebit_verification_report(const onebit_verification* v) { return v != nullptr ? v->report.c_str() : ""; }

void onebit_verification_free(onebit_verification* v) { delete v; }

const char* onebit_convert_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
