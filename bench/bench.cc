// bench: end-to-end latency of a model (min / median / p90 over N runs after warm-up) and, with --profile,
// a per-operator table. --json prints the same as one JSON object. --threads 1,2 times one interpreter per
// thread count, interleaved run by run (so machine noise hits every count alike), and the profile then shows
// each operator's median per count and its scaling (median at the first count / median at each other).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "stats.h"

static const char kUsage[] =
    "usage: bench --model M.fb [--runs N] [--warmup N] [--threads N[,N...]] [--isa NAME] [--portable-float]\n"
    "             [--profile] [--json]\n";

namespace {

std::string shape_str(const std::vector<int>& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return r;
}

// "1,2" -> {1, 2}: thread counts in [1, 256]; "" when good, else the message.
std::string parse_thread_list(const std::string& text, std::vector<int>* list) {
  list->clear();
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    long long v = 0;
    if (!onebit::cli::parse_integer(item, &v) || v < 1 || v > 256)
      return "--threads expects integers in [1, 256] separated by commas, got '" + text + "'";
    list->push_back(int(v));
  }
  return list->empty() ? "--threads expects at least one thread count" : "";
}

// JSON numbers with the precision the text output has (ms to 4 decimals, percent to 2).
double rounded(double v, double scale) { return std::round(v * scale) / scale; }

struct Row { std::string name, type, shape; double median; int64_t bmacs, fmacs; std::string route; };

/// One interpreter (one thread count) and its samples.
struct Run {
  std::unique_ptr<onebit::Interpreter> interp;
  std::vector<double> ms;
  onebit::bench::Summary lat;
  std::vector<Row> rows;
  double op_total = 0;

  void summarize() {
    lat = onebit::bench::summarize(ms);
    for (const auto& p : interp->profile()) {
      rows.push_back({p.name, p.type, shape_str(p.output_shape), onebit::bench::summarize(p.samples_ms).median,
                      p.binary_macs, p.float_macs, p.route});
      op_total += rows.back().median;
    }
  }
};

nlohmann::ordered_json run_json(const std::string& path, const onebit::Model& model, const Run& r, int runs,
                                const onebit::InterpreterOptions& options) {
  const bool profiling = options.profiling;
  nlohmann::ordered_json j;
  j["model"] = path;
  j["latency_ms"] = {{"min", rounded(r.lat.min, 1e4)}, {"median", rounded(r.lat.median, 1e4)},
                     {"p90", rounded(r.lat.p90, 1e4)}};
  j["runs"] = runs;
  j["isa"] = r.interp->isa_name();
  j["threads"] = r.interp->threads();
  j["model_bytes"] = model.size_bytes();
  j["arena_bytes"] = r.interp->arena_bytes();
  j["float_kernels"] = options.portable_float_kernels ? "portable" : "xnnpack";
  if (profiling) {
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const Row& o : r.rows) {
      ops.push_back({{"name", o.name},
                     {"type", o.type},
                     {"output_shape", o.shape},
                     {"median_ms", rounded(o.median, 1e4)},
                     {"percent", rounded(r.op_total > 0 ? 100.0 * o.median / r.op_total : 0.0, 1e2)},
                     {"binary_macs", o.bmacs},
                     {"float_macs", o.fmacs}});
      if (!o.route.empty()) ops.back()["route"] = o.route;  // int8-marked float layers: "int8" / "fp32 (...)"
    }
    j["ops"] = std::move(ops);
  }
  return j;
}

/// Per-op table: one median column per thread count, % of the first count's total, and with several
/// counts the scaling of each (first count's median / this count's median).
void print_profile(const std::vector<Run>& runs) {
  const Run& base = runs[0];
  int name_width = 2;
  for (const Row& r : base.rows) name_width = std::max(name_width, int(r.name.size()));
  std::printf("\n%-*s %-20s %-14s", name_width, "op", "type", "output");
  for (const Run& r : runs) std::printf(" %7s ms@%-2d", "median", r.interp->threads());
  std::printf(" %7s", "%");
  for (size_t k = 1; k < runs.size(); ++k) std::printf("  x@%-3d", runs[k].interp->threads());
  bool routes = false;  // a last column for the int8-marked float layers' path, when the model has any
  for (const Row& r : base.rows) routes = routes || !r.route.empty();
  std::printf(" %14s %14s%s\n", "binary MACs", "float MACs", routes ? "  route" : "");
  std::map<std::string, std::vector<double>> by_type;
  for (size_t i = 0; i < base.rows.size(); ++i) {
    const Row& r = base.rows[i];
    std::printf("%-*s %-20s %-14s", name_width, r.name.c_str(), r.type.c_str(), r.shape.c_str());
    std::vector<double>& t = by_type[r.type];
    t.resize(runs.size());
    for (size_t k = 0; k < runs.size(); ++k) {
      std::printf(" %13.4f", runs[k].rows[i].median);
      t[k] += runs[k].rows[i].median;
    }
    std::printf(" %6.2f%%", base.op_total > 0 ? 100.0 * r.median / base.op_total : 0.0);
    for (size_t k = 1; k < runs.size(); ++k)
      std::printf("  %5.2f", runs[k].rows[i].median > 0 ? r.median / runs[k].rows[i].median : 0.0);
    std::printf(" %14lld %14lld%s%s\n", (long long)r.bmacs, (long long)r.fmacs, r.route.empty() ? "" : "  ",
                r.route.c_str());
  }
  std::printf("\nby type (sum of per-op medians, %.3f ms at %d thread(s)):\n", base.op_total, base.interp->threads());
  for (const auto& kv : by_type) {
    std::printf("  %-20s %10.4f ms %6.2f%%", kv.first.c_str(), kv.second[0],
                base.op_total > 0 ? 100 * kv.second[0] / base.op_total : 0.0);
    for (size_t k = 1; k < runs.size(); ++k)
      std::printf("  %.4f ms @%d (x%.2f)", kv.second[k], runs[k].interp->threads(),
                  kv.second[k] > 0 ? kv.second[0] / kv.second[k] : 0.0);
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int n_runs = 20, warmup = 3;
  std::vector<int> threads = {1};
  onebit::InterpreterOptions options;
  bool json = false;
  onebit::cli::Parser cli("bench", kUsage, "", 17);
  cli.text("--model", &path, "FILE", "onebit model").required();
  cli.integer("--runs", &n_runs, 1, 1000000, "N", "timed runs, default 20");
  cli.integer("--warmup", &warmup, 0, 1000000, "N", "untimed runs first, default 3");
  const auto set_threads = [&](const std::string& v) { return parse_thread_list(v, &threads); };
  cli.custom("--threads", set_threads, "LIST",
             "threads (1 = single-threaded, no pool), default 1; a list such as 1,2 times one\n"
             "interpreter per count, runs interleaved, and prints per-op scaling with --profile");
  cli.isa(&options.isa, "force a kernel path", false);
  cli.portable_float(&options.portable_float_kernels);
  cli.flag("--profile", &options.profiling,
           "per-operator table: name, type, output shape, median ms, % of total, MACs");
  cli.flag("--json", &json,
           "print one JSON object (an array of them for a list of thread counts) instead of tables");
  if (const int status = cli.parse(argc, argv); status >= 0) return status;

  std::unique_ptr<onebit::Model> model;
  onebit::Status s = onebit::Model::load_file(path, &model);
  std::vector<Run> runs(threads.size());
  for (size_t k = 0; k < threads.size() && s.ok(); ++k) {
    options.threads = threads[k];
    s = onebit::Interpreter::create(*model, options, &runs[k].interp);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "bench: %s\n", s.message().c_str());
    return 1;
  }

  // Filled once with deterministic data: invoke() never writes graph inputs, so every timed run sees it.
  for (Run& r : runs) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (size_t i = 0; i < r.interp->input_count(); ++i) {
      size_t n = 1;
      for (int d : r.interp->input_info(i).shape) n *= size_t(d);
      float* in = r.interp->input(i);
      for (size_t j = 0; j < n; ++j) in[j] = dist(rng);
    }
  }

  for (int i = 0; i < warmup && s.ok(); ++i)
    for (Run& r : runs)
      if (!(s = r.interp->invoke()).ok()) break;
  for (Run& r : runs) r.interp->clear_profile();
  for (int i = 0; i < n_runs && s.ok(); ++i) {
    for (Run& r : runs) {
      const auto t0 = std::chrono::steady_clock::now();
      if (!(s = r.interp->invoke()).ok()) break;
      r.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "bench: invoke failed: %s\n", s.message().c_str());
    return 1;
  }
  for (Run& r : runs) r.summarize();

  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const Run& r : runs) out.push_back(run_json(path, *model, r, n_runs, options));
    // Invalid UTF-8 in a path or name becomes U+FFFD, so the output is always valid JSON.
    const std::string text =
        (runs.size() > 1 ? out : out[0]).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    std::printf("%s\n", text.c_str());
    return 0;
  }

  std::printf("model        %s (%zu bytes)\n", path.c_str(), model->size_bytes());
  std::printf("isa          %s\n", runs[0].interp->isa_name());
  std::printf("float layers %s\n", options.portable_float_kernels ? "portable kernels" : "XNNPACK");
  std::printf("runs         %d (after %d warm-up)%s\n", n_runs, warmup, runs.size() > 1 ? ", interleaved" : "");
  for (const Run& r : runs) {
    std::printf("threads      %d\n", r.interp->threads());
    std::printf("arena        %zu bytes\n", r.interp->arena_bytes());
    std::printf("latency ms   min %.3f  median %.3f  p90 %.3f", r.lat.min, r.lat.median, r.lat.p90);
    if (&r != &runs[0]) std::printf("  (x%.2f of %d thread(s) on medians)", runs[0].lat.median / r.lat.median,
                                    runs[0].interp->threads());
    std::printf("\n");
  }
  if (options.profiling) print_profile(runs);
  return 0;
}
