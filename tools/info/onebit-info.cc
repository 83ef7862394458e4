// onebit-info: what a model file holds, in the manner of larq's lq.models.summary: one row per operator
// (output shape, parameters, multiply-accumulates), totals with the binary share, memory (file, arena and the
// arena's liveness lower bound), inputs and outputs, and the file's metadata. --json prints the same as one
// JSON object. Uses only the public API (onebit/model.h, onebit/interpreter.h).
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"

namespace {

const char kUsage[] =
    "usage: onebit-info MODEL.fb [--json] [--isa NAME]\n"
    "  Prints a summary of a onebit model: one row per operator (index, name, type, output shape, binary and\n"
    "  float parameters, parameter bytes, binary and float MACs), totals, memory (model file, arena, the\n"
    "  arena's liveness lower bound), inputs and outputs, input normalization, labels, producer and source.\n"
    "  Shapes are the runtime's: NHWC for feature maps, [N, C] otherwise.\n";
const char kEpilogue[] = "Exit status: 0 ok, 1 the model could not be loaded or prepared, 2 usage error.\n";

// ---- text helpers ----

// A name for the table: control bytes and DEL as '?', at most `width` characters (longer ones end in "...").
std::string printable(const std::string& s, size_t width) {
  std::string r;
  for (char c : s) r += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (r.size() > width && width > 3) r = r.substr(0, width - 3) + "...";
  return r;
}

std::string shape_text(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// 1234567 -> "1.23 M"
std::string human(double v) {
  const char* units[] = {"", " k", " M", " G", " T"};
  int u = 0;
  while (std::fabs(v) >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.2f%s", v, units[u]);
  return buf;
}

std::string bytes_text(uint64_t b) {
  char buf[48];
  if (b < 1024)
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", b);
  else if (b < (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B (%.1f KiB)", b, double(b) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B (%.2f MiB)", b, double(b) / (1024.0 * 1024.0));
  return buf;
}

std::string percent(double part, double whole) {
  if (whole <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %%", 100.0 * part / whole);
  return buf;
}

std::string floats_text(const std::vector<float>& v) {
  std::string s = "[";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%g", i ? ", " : "", double(v[i]));
    s += buf;
  }
  return s + "]";
}

// ---- JSON ----

using Json = nlohmann::ordered_json;  // keys in the order written

// A float as JSON: 9 significant digits (what float needs to round-trip), null for NaN and infinity (JSON has
// neither).
Json json_number(double v) {
  if (!std::isfinite(v)) return nullptr;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return std::strtod(buf, nullptr);
}

Json json_floats(const std::vector<float>& v) {
  Json a = Json::array();
  for (float x : v) a.push_back(json_number(x));
  return a;
}

// Compact JSON; bytes that are not valid UTF-8 (names and metadata come from the file) become U+FFFD, so the
// output is always valid JSON (RFC 8259 requires UTF-8).
std::string dump(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

// An object one key per line, and an array of objects (operators, inputs, outputs) one element per line, so
// the output stays short and greppable for a large model; nlohmann writes every key and value.
std::string json_lines(const Json& o) {
  std::string s = "{\n";
  size_t k = 0;
  for (const auto& item : o.items()) {
    const Json& v = item.value();
    s += "  " + dump(item.key()) + ": ";
    if (v.is_array() && !v.empty() && v[0].is_object()) {
      s += "[\n";
      for (size_t i = 0; i < v.size(); ++i) s += "    " + dump(v[i]) + (i + 1 < v.size() ? ",\n" : "\n");
      s += "  ]";
    } else {
      s += dump(v);
    }
    s += ++k < o.size() ? ",\n" : "\n";
  }
  return s + "}\n";
}

// ---- the summary ----

struct Row {
  const onebit::OperatorInfo* op;
  int64_t binary_macs = 0, float_macs = 0;
  std::string route;  // OpProfile::route: int8-marked float layers' path on this CPU, else empty
};

struct Totals {
  int64_t binary_params = 0, float_params = 0, binary_macs = 0, float_macs = 0, binary_ops = 0;
  uint64_t param_bytes = 0;
};

void print_tensors(const char* title, const onebit::Interpreter& interp, bool inputs) {
  const size_t n = inputs ? interp.input_count() : interp.output_count();
  std::printf("%s:\n", title);
  for (size_t i = 0; i < n; ++i) {
    const onebit::TensorInfo& t = inputs ? interp.input_info(i) : interp.output_info(i);
    std::printf("  %zu  %-24s %s%s\n", i, printable(t.name, 40).c_str(), shape_text(t.shape).c_str(),
                t.bitpacked ? "  (bitpacked in the graph, read as float)" : "");
  }
}

void print_text(const std::string& path, const onebit::Model& model, const onebit::Interpreter& interp,
                const std::vector<Row>& rows, const Totals& t) {
  const onebit::ModelInfo& info = model.info();
  std::printf("Model: %s\n", printable(path, 1000).c_str());
  std::printf("Producer: %s%s%s\n", info.producer.empty() ? "(none recorded)" : printable(info.producer, 200).c_str(),
              info.source.empty() ? "" : "    Source: ", printable(info.source, 200).c_str());
  std::printf("Format version: %u    Kernel path: %s\n\n", info.format_version, interp.isa_name());

  struct Col {
    const char* title;
    bool left;
    std::vector<std::string> cells;
    size_t width = 0;
  };
  std::vector<Col> cols = {{"#", false, {}},           {"Name", true, {}},          {"Type", true, {}},
                           {"Output shape", true, {}}, {"Binary params", false, {}}, {"Float params", false, {}},
                           {"Bytes", false, {}},       {"Binary MACs", false, {}},   {"Float MACs", false, {}}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const onebit::OperatorInfo& op = *rows[i].op;
    const std::string cells[] = {std::to_string(i),
                                 printable(op.name, 32),
                                 printable(op.type, 24),
                                 shape_text(op.output_shape),
                                 op.binary_params ? std::to_string(op.binary_params) : "0",
                                 std::to_string(op.float_params),
                                 std::to_string(op.param_bytes),
                                 std::to_string(rows[i].binary_macs),
                                 std::to_string(rows[i].float_macs)};
    for (size_t c = 0; c < cols.size(); ++c) cols[c].cells.push_back(cells[c]);
  }
  size_t line = 0;
  for (Col& c : cols) {
    c.width = std::strlen(c.title);
    for (const std::string& s : c.cells) c.width = std::max(c.width, s.size());
    line += c.width + 2;
  }
  // Columns two spaces apart; the last one is right-aligned, so no line ends in spaces.
  const auto cell = [](const Col& c, const std::string& s) {
    std::printf(c.left ? "%-*s  " : "%*s  ", int(c.width), s.c_str());
  };
  const auto last = [](const Col& c, const std::string& s) { std::printf("%*s\n", int(c.width), s.c_str()); };
  const std::string rule(line > 2 ? line - 2 : 0, '-');
  for (size_t c = 0; c + 1 < cols.size(); ++c) cell(cols[c], cols[c].title);
  last(cols.back(), cols.back().title);
  std::printf("%s\n", rule.c_str());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t c = 0; c + 1 < cols.size(); ++c) cell(cols[c], cols[c].cells[i]);
    last(cols.back(), cols.back().cells[i]);
  }
  std::printf("%s\n", rule.c_str());
  const std::string total_cells[] = {"",
                                     "Total",
                                     std::to_string(rows.size()) + " ops, " + std::to_string(t.binary_ops) + " binary",
                                     "",
                                     std::to_string(t.binary_params),
                                     std::to_string(t.float_params),
                                     std::to_string(t.param_bytes),
                                     std::to_string(t.binary_macs),
                                     std::to_string(t.float_macs)};
  for (size_t c = 0; c + 1 < cols.size(); ++c) {
    // The label may be wider than its column: then it spills into the next (empty) one.
    if (c == 2 && total_cells[2].size() > cols[2].width) {
      std::printf("%-*s  ", int(cols[2].width + 2 + cols[3].width), total_cells[2].c_str());
      ++c;
      continue;
    }
    cell(cols[c], total_cells[c]);
  }
  last(cols.back(), total_cells[cols.size() - 1]);
  std::printf("\n");

  const int64_t params = t.binary_params + t.float_params;
  const int64_t macs = t.binary_macs + t.float_macs;
  // As larq reports it: what the parameters would take as float32, against 1 bit per binary parameter.
  const double f32_bytes = 4.0 * double(params);
  const double packed_bytes = double(t.binary_params) / 8.0 + 4.0 * double(t.float_params);
  std::printf("Totals:\n");
  std::printf("  Parameters:   %s  (binary %s, float %s; binary %s)\n", human(double(params)).c_str(),
              human(double(t.binary_params)).c_str(), human(double(t.float_params)).c_str(),
              percent(double(t.binary_params), double(params)).c_str());
  std::printf("  Param bytes:  %s in the file; float32 equivalent %s", bytes_text(t.param_bytes).c_str(),
              bytes_text(uint64_t(f32_bytes)).c_str());
  if (packed_bytes > 0) std::printf(" (%.2fx the 1-bit size)", f32_bytes / packed_bytes);
  std::printf("\n");
  std::printf("  MACs:         %s  (binary %s, float %s)\n", human(double(macs)).c_str(),
              human(double(t.binary_macs)).c_str(), human(double(t.float_macs)).c_str());
  std::printf("  Binary share of MACs: %s\n\n", percent(double(t.binary_macs), double(macs)).c_str());
  bool routes = false;
  for (const Row& r : rows) routes = routes || !r.route.empty();
  if (routes) {  // --int8-float-layers: how each such layer runs on this CPU (static per-ISA rules)
    std::printf("Int8-marked float layers on this CPU:\n");
    for (size_t i = 0; i < rows.size(); ++i)
      if (!rows[i].route.empty())
        std::printf("  %4zu  %-44s  %s\n", i, printable(rows[i].op->name, 44).c_str(), rows[i].route.c_str());
    std::printf("\n");
  }

  const size_t arena = interp.arena_bytes(), bound = interp.arena_lower_bound_bytes();
  std::printf("Memory:\n");
  std::printf("  Model file:        %s\n", bytes_text(model.size_bytes()).c_str());
  std::printf("  Arena:             %s\n", bytes_text(arena).c_str());
  std::printf("  Liveness bound:    %s\n", bytes_text(bound).c_str());
  if (bound > 0)
    std::printf("  Arena / bound:     %.3f\n\n", double(arena) / double(bound));
  else
    std::printf("  Arena / bound:     n/a\n\n");

  print_tensors("Inputs", interp, true);
  print_tensors("Outputs", interp, false);
  std::printf("\n");
  if (!info.input_shape.empty()) std::printf("Recorded input shape: %s\n", shape_text(info.input_shape).c_str());
  if (info.input_mean.empty() && info.input_std.empty())
    std::printf("Input normalization: none recorded\n");
  else
    std::printf("Input normalization: x' = (x - mean) / std, mean %s, std %s\n", floats_text(info.input_mean).c_str(),
                floats_text(info.input_std).c_str());
  if (info.labels.empty()) {
    std::printf("Labels: none recorded\n");
  } else {
    constexpr size_t kShown = 5;
    std::string s;
    for (size_t i = 0; i < info.labels.size() && i < kShown; ++i)
      s += (i ? ", " : "") + std::string("\"") + printable(info.labels[i], 40) + "\"";
    if (info.labels.size() > kShown) s += ", ...";
    std::printf("Labels: %zu (%s)\n", info.labels.size(), s.c_str());
  }
}

void print_json(const std::string& path, const onebit::Model& model, const onebit::Interpreter& interp,
                const std::vector<Row>& rows, const Totals& t) {
  const onebit::ModelInfo& info = model.info();
  Json o;
  o["model"] = path;
  o["isa"] = interp.isa_name();
  Json ops = Json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    const onebit::OperatorInfo& op = *rows[i].op;
    ops.push_back({{"index", i},
                   {"name", op.name},
                   {"type", op.type},
                   {"output_shape", op.output_shape},
                   {"binary", op.binary},
                   {"binary_params", op.binary_params},
                   {"float_params", op.float_params},
                   {"param_bytes", op.param_bytes},
                   {"binary_macs", rows[i].binary_macs},
                   {"float_macs", rows[i].float_macs}});
    if (!rows[i].route.empty()) ops.back()["route"] = rows[i].route;
  }
  o["operators"] = std::move(ops);
  const int64_t macs = t.binary_macs + t.float_macs;
  o["totals"] = {{"operators", rows.size()},
                 {"binary_operators", t.binary_ops},
                 {"binary_params", t.binary_params},
                 {"float_params", t.float_params},
                 {"params", t.binary_params + t.float_params},
                 {"param_bytes", t.param_bytes},
                 {"binary_macs", t.binary_macs},
                 {"float_macs", t.float_macs},
                 {"macs", macs},
                 {"binary_mac_share", macs > 0 ? json_number(double(t.binary_macs) / double(macs)) : Json()}};
  const size_t arena = interp.arena_bytes(), bound = interp.arena_lower_bound_bytes();
  o["memory"] = {{"model_file_bytes", model.size_bytes()},
                 {"arena_bytes", arena},
                 {"arena_lower_bound_bytes", bound},
                 {"arena_to_lower_bound", bound > 0 ? json_number(double(arena) / double(bound)) : Json()}};
  for (int inputs = 1; inputs >= 0; --inputs) {
    const size_t n = inputs ? interp.input_count() : interp.output_count();
    Json list = Json::array();
    for (size_t i = 0; i < n; ++i) {
      const onebit::TensorInfo& ti = inputs ? interp.input_info(i) : interp.output_info(i);
      list.push_back({{"name", ti.name}, {"shape", ti.shape}, {"bitpacked", ti.bitpacked}});
    }
    o[inputs ? "inputs" : "outputs"] = std::move(list);
  }
  o["metadata"] = {{"format_version", info.format_version},
                   {"producer", info.producer},
                   {"source", info.source},
                   {"input_shape", info.input_shape},
                   {"input_mean", json_floats(info.input_mean)},
                   {"input_std", json_floats(info.input_std)},
                   {"label_count", info.labels.size()},
                   {"labels", info.labels}};
  const std::string text = json_lines(o);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// A message that names the file: the library's messages usually do; when one does not, prefix it.
std::string naming(const std::string& path, const std::string& message) {
  return message.find(path) != std::string::npos ? message : path + ": " + message;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path, isa;
  bool json = false;
  onebit::cli::Parser cli("onebit-info", kUsage, kEpilogue, 15);
  cli.positional("model", &path);
  cli.flag("--json", &json,
           "one JSON object instead of the table (operators, totals, memory, inputs, outputs, metadata)");
  cli.isa(&isa, "kernel path of the interpreter that computes the MACs and the arena", true);
  if (const int status = cli.parse(argc, argv); status >= 0) return status;
  if (!cli.given("model")) cli.fail("no model file given");

  std::unique_ptr<onebit::Model> model;
  onebit::Status s = onebit::Model::load_file(path, &model);
  if (!s.ok()) {
    std::fprintf(stderr, "onebit-info: %s\n", naming(path, s.message()).c_str());
    return 1;
  }
  onebit::InterpreterOptions options;
  options.threads = 1;
  options.isa = isa;
  options.profiling = true;  // fills profile() (names, MACs) at create; nothing is invoked
  std::unique_ptr<onebit::Interpreter> interp;
  s = onebit::Interpreter::create(*model, options, &interp);
  if (!s.ok()) {
    std::fprintf(stderr, "onebit-info: %s: cannot prepare an interpreter: %s\n", path.c_str(), s.message().c_str());
    return 1;
  }
  const std::vector<onebit::OperatorInfo>& ops = model->operators();
  const std::vector<onebit::OpProfile>& prof = interp->profile();
  if (prof.size() != ops.size()) {
    std::fprintf(stderr, "onebit-info: %s: the interpreter profiles %zu operators, the model declares %zu\n",
                 path.c_str(), prof.size(), ops.size());
    return 1;
  }
  std::vector<Row> rows;
  Totals t;
  for (size_t i = 0; i < ops.size(); ++i) {
    rows.push_back({&ops[i], prof[i].binary_macs, prof[i].float_macs, prof[i].route});
    t.binary_params += ops[i].binary_params;
    t.float_params += ops[i].float_params;
    t.param_bytes += ops[i].param_bytes;
    t.binary_macs += prof[i].binary_macs;
    t.float_macs += prof[i].float_macs;
    t.binary_ops += ops[i].binary ? 1 : 0;
  }
  if (json)
    print_json(path, *model, *interp, rows, t);
  else
    print_text(path, *model, *interp, rows, t);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "onebit-info: error writing to standard output\n");
    return 1;
  }
  return 0;
}
