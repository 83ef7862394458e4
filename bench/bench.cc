// bench: end-to-end latency of a model (min / median / p90 over N runs after warm-up) and, with --profile,
// a per-operator table. --json prints the same as one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "onebit/interpreter.h"
#include "onebit/model.h"
#include "stats.h"

static const char kUsage[] =
    "usage: bench --model M.fb [--runs N] [--warmup N] [--threads N] [--isa NAME] [--profile] [--json]\n"
    "  --model FILE   onebit model\n"
    "  --runs N       timed runs, default 20\n"
    "  --warmup N     untimed runs first, default 3\n"
    "  --threads N    threads (1 = single-threaded, no pool), default 1\n"
    "  --isa NAME     force a kernel path: scalar, avx2, avx512vpopcnt, neon (default: best this CPU has;\n"
    "                 the environment variable ONEBIT_ISA does the same)\n"
    "  --profile      per-operator table: name, type, output shape, median ms, % of total, MACs\n"
    "  --json         print one JSON object instead of tables\n";

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

}  // namespace

int main(int argc, char** argv) {
  onebit::cli::Flags flags(argc, argv, kUsage, {"profile", "json"});
  flags.allow_only({"model", "runs", "warmup", "threads", "isa", "profile", "json"});
  const std::string path = flags.required("model");
  const int runs = int(flags.integer("runs", 20, 1, 1000000));
  const int warmup = int(flags.integer("warmup", 3, 0, 1000000));
  onebit::InterpreterOptions options;
  options.threads = int(flags.integer("threads", 1, 1, 256));
  options.isa = flags.str("isa");
  options.profiling = flags.has("profile");
  const bool json = flags.has("json");

  std::unique_ptr<onebit::Model> model;
  onebit::Status s = onebit::Model::load_file(path, &model);
  std::unique_ptr<onebit::Interpreter> interp;
  if (s.ok()) s = onebit::Interpreter::create(*model, options, &interp);
  if (!s.ok()) {
    std::fprintf(stderr, "bench: %s\n", s.message().c_str());
    return 1;
  }

  // Filled once with deterministic data: invoke() never writes graph inputs, so every timed run sees it.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < interp->input_count(); ++i) {
    size_t n = 1;
    for (int d : interp->input_info(i).shape) n *= size_t(d);
    float* in = interp->input(i);
    for (size_t j = 0; j < n; ++j) in[j] = dist(rng);
  }

  for (int i = 0; i < warmup; ++i) {
    if (!(s = interp->invoke()).ok()) break;
  }
  interp->clear_profile();
  std::vector<double> ms;
  for (int i = 0; i < runs && s.ok(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    s = interp->invoke();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  if (!s.ok()) {
    std::fprintf(stderr, "bench: invoke failed: %s\n", s.message().c_str());
    return 1;
  }
  const onebit::bench::Summary lat = onebit::bench::summarize(ms);

  struct Row { std::string name, type, shape; double median; int64_t bmacs, fmacs; };
  std::vector<Row> rows;
  double op_total = 0;
  for (const auto& p : interp->profile()) {
    rows.push_back({p.name, p.type, shape_str(p.output_shape), onebit::bench::summarize(p.samples_ms).median,
                    p.binary_macs, p.float_macs});
    op_total += rows.back().median;
  }

  if (json) {
    std::printf("{\"model\": \"%s\", \"latency_ms\": {\"min\": %.4f, \"median\": %.4f, \"p90\": %.4f}, "
                "\"runs\": %d, \"isa\": \"%s\", \"threads\": %d, \"model_bytes\": %zu, \"arena_bytes\": %zu",
                json_escape(path).c_str(), lat.min, lat.median, lat.p90, runs, interp->isa_name(),
                interp->threads(), model->size_bytes(), interp->arena_bytes());
    if (options.profiling) {
      std::printf(", \"ops\": [");
      for (size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        std::printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"output_shape\": \"%s\", \"median_ms\": %.4f, "
                    "\"percent\": %.2f, \"binary_macs\": %lld, \"float_macs\": %lld}",
                    i ? ", " : "", json_escape(r.name).c_str(), r.type.c_str(), r.shape.c_str(), r.median,
                    op_total > 0 ? 100.0 * r.median / op_total : 0.0, (long long)r.bmacs, (long long)r.fmacs);
      }
      std::printf("]");
    }
    std::printf("}\n");
    return 0;
  }

  std::printf("model        %s (%zu bytes)\n", path.c_str(), model->size_bytes());
  std::printf("isa          %s\n", interp->isa_name());
  std::printf("threads      %d\n", interp->threads());
  std::printf("arena        %zu bytes\n", interp->arena_bytes());
  std::printf("runs         %d (after %d warm-up)\n", runs, warmup);
  std::printf("latency ms   min %.3f  median %.3f  p90 %.3f\n", lat.min, lat.median, lat.p90);
  if (options.profiling) {
    int name_width = 2;
    for (const Row& r : rows) name_width = std::max(name_width, int(r.name.size()));
    std::printf("\n%-*s %-20s %-14s %10s %7s %14s %14s\n", name_width, "op", "type", "output", "median ms", "%",
                "binary MACs", "float MACs");
    std::map<std::string, double> by_type;
    for (const Row& r : rows) {
      std::printf("%-*s %-20s %-14s %10.4f %6.2f%% %14lld %14lld\n", name_width, r.name.c_str(), r.type.c_str(), r.shape.c_str(),
                  r.median, op_total > 0 ? 100.0 * r.median / op_total : 0.0, (long long)r.bmacs, (long long)r.fmacs);
      by_type[r.type] += r.median;
    }
    std::printf("\nby type (sum of per-op medians, %.3f ms):\n", op_total);
    for (const auto& kv : by_type)
      std::printf("  %-20s %10.4f ms %6.2f%%\n", kv.first.c_str(), kv.second, op_total > 0 ? 100 * kv.second / op_total : 0.0);
  }
  return 0;
}
