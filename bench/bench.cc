// bench: end-to-end latency of a model (min / median / p90 over N runs after warm-up) and, with --profile,
// a per-operator table. --json prints the same as one JSON object. --threads 1,2 times one interpreter per
// thread count, interleaved run by run (so machine noise hits every count alike), and the profile then shows
// each operator's median per count and its scaling (median at the first count / median at each other).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "stats.h"

static const char kUsage[] =
    "usage: bench --model M.fb [--runs N] [--warmup N] [--threads N[,N...]] [--isa NAME] [--profile] [--json]\n"
    "  --model FILE   onebit model\n"
    "  --runs N       timed runs, default 20\n"
    "  --warmup N     untimed runs first, default 3\n"
    "  --threads LIST threads (1 = single-threaded, no pool), default 1; a list such as 1,2 times one\n"
    "                 interpreter per count, runs interleaved, and prints per-op scaling with --profile\n"
    "  --isa NAME     force a kernel path: scalar, avx2, avx512vpopcnt, neon (default: best this CPU has;\n"
    "                 the environment variable ONEBIT_ISA does the same)\n"
    "  --profile      per-operator table: name, type, output shape, median ms, % of total, MACs\n"
    "  --json         print one JSON object (an array of them for a list of thread counts) instead of tables\n";

namespace {

std::string shape_str(const std::vector<int>& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return r;
}

std::string json_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (static_cast<unsigned char>(c) < 0x20) { r += ' '; continue; }
    r += c;
  }
  return r;
}

std::vector<int> thread_list(const onebit::cli::Flags& flags) {
  std::vector<int> list;
  std::stringstream in(flags.str("threads", "1"));
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 256)
      flags.fail("--threads expects integers in [1, 256] separated by commas, got '" + flags.str("threads") + "'");
    list.push_back(int(v));
  }
  if (list.empty()) flags.fail("--threads expects at least one thread count");
  return list;
}

struct Row { std::string name, type, shape; double median; int64_t bmacs, fmacs; };

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
                      p.binary_macs, p.float_macs});
      op_total += rows.back().median;
    }
  }
};

void print_json(const std::string& path, const onebit::Model& model, const Run& r, int runs, bool profiling) {
  std::printf("{\"model\": \"%s\", \"latency_ms\": {\"min\": %.4f, \"median\": %.4f, \"p90\": %.4f}, "
              "\"runs\": %d, \"isa\": \"%s\", \"threads\": %d, \"model_bytes\": %zu, \"arena_bytes\": %zu",
              json_escape(path).c_str(), r.lat.min, r.lat.median, r.lat.p90, runs, r.interp->isa_name(),
              r.interp->threads(), model.size_bytes(), r.interp->arena_bytes());
  if (profiling) {
    std::printf(", \"ops\": [");
    for (size_t i = 0; i < r.rows.size(); ++i) {
      const Row& o = r.rows[i];
      std::printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"output_shape\": \"%s\", \"median_ms\": %.4f, "
                  "\"percent\": %.2f, \"binary_macs\": %lld, \"float_macs\": %lld}",
                  i ? ", " : "", json_escape(o.name).c_str(), o.type.c_str(), o.shape.c_str(), o.median,
                  r.op_total > 0 ? 100.0 * o.median / r.op_total : 0.0, (long long)o.bmacs, (long long)o.fmacs);
    }
    std::printf("]");
  }
  std::printf("}");
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
  std::printf(" %14s %14s\n", "binary MACs", "float MACs");
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
    std::printf(" %14lld %14lld\n", (long long)r.bmacs, (long long)r.fmacs);
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
  onebit::cli::Flags flags(argc, argv, kUsage, {"profile", "json"});
  flags.allow_only({"model", "runs", "warmup", "threads", "isa", "profile", "json"});
  const std::string path = flags.required("model");
  const int n_runs = int(flags.integer("runs", 20, 1, 1000000));
  const int warmup = int(flags.integer("warmup", 3, 0, 1000000));
  const std::vector<int> threads = thread_list(flags);
  onebit::InterpreterOptions options;
  options.isa = flags.str("isa");
  options.profiling = flags.has("profile");
  const bool json = flags.has("json");

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
    if (runs.size() > 1) std::printf("[");
    for (size_t k = 0; k < runs.size(); ++k) {
      if (k) std::printf(", ");
      print_json(path, *model, runs[k], n_runs, options.profiling);
    }
    std::printf(runs.size() > 1 ? "]\n" : "\n");
    return 0;
  }

  std::printf("model        %s (%zu bytes)\n", path.c_str(), model->size_bytes());
  std::printf("isa          %s\n", runs[0].interp->isa_name());
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
