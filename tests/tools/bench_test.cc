// bench --json end to end: a small model made with the ModelBuilder, timed by the built bench binary (through
// the cross build's emulator when there is one), its output parsed with nlohmann/json and its fields checked
// against the model: one object per thread count, keys in the documented order, latencies ordered, the
// per-operator rows of --profile with names read back intact (one needs JSON escaping).
#include <algorithm>

#include "tools_test_util.h"
#if __has_include("onebit/builder/model_builder.h")
#include "onebit/builder/model_builder.h"
#else
#include "onebit/builder.h"
#endif

using onebit::ModelBuilder;
using onebit::Status;
using namespace onebit::tools_test;

namespace {

const std::string kBench = ONEBIT_BENCH_EXE;
const std::string kConvName = "conv \"q\"\t\x01\\";  // a name JSON must escape

// Input NHWC [1, 3, 4, 2], a 3x3 conv to 3 channels (padding 1), ReLU: 3 * 4 * 3 * 2 * 9 = 648 float MACs.
void save_small_model(const std::string& path) {
  ModelBuilder b;
  std::vector<float> w(3 * 2 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i % 5) - 2) * 0.25f;
  onebit::Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const int x = b.add_input("x", {1, 3, 4, 2});
  b.mark_output(b.relu("relu", b.conv2d(kConvName, x, 3, onebit::Weights::float32(w), {0.5f, 0, -0.5f}, p)));
  std::vector<uint8_t> bytes;
  const Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  write_bytes(path, std::string(bytes.begin(), bytes.end()));
}

// The fields every run object has, in the order bench writes them.
void check_run(const nlohmann::ordered_json& run, const std::string& model, int runs, int threads) {
  std::vector<std::string> keys;
  for (const auto& item : run.items()) keys.push_back(item.key());
  const std::vector<std::string> want = {"model",       "latency_ms",  "runs",         "isa",
                                         "threads",     "model_bytes", "arena_bytes", "float_kernels"};
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + std::min(keys.size(), want.size())) == want);
  CHECK(run.at("model").get<std::string>() == model);
  const nlohmann::ordered_json& lat = run.at("latency_ms");
  CHECK(lat.at("min").get<double>() >= 0);
  CHECK(lat.at("min").get<double>() <= lat.at("median").get<double>());
  CHECK(lat.at("median").get<double>() <= lat.at("p90").get<double>());
  CHECK(run.at("runs").get<int>() == runs);
  CHECK(!run.at("isa").get<std::string>().empty());
  CHECK(run.at("threads").get<int>() == threads);
  CHECK(run.at("model_bytes").get<size_t>() == read_text(model).size());
  CHECK(run.at("arena_bytes").get<size_t>() > 0);
  CHECK(run.at("float_kernels").get<std::string>() == "xnnpack");
}

nlohmann::ordered_json parse_ordered(const std::string& text) {
  parse_json(text);  // one JSON value, no duplicate keys (or a failure)
  return nlohmann::ordered_json::parse(text);
}

}  // namespace

TEST_CASE("bench --json: one object with the model, latency, runs, ISA, threads and sizes") {
  ScratchDir dir;
  save_small_model(dir.file("m.fb"));
  const RunResult r = spawn({kBench, "--model", dir.file("m.fb"), "--runs", "3", "--warmup", "1", "--json"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find('\n') == r.out.size() - 1);  // one line
  const nlohmann::ordered_json j = parse_ordered(r.out);
  REQUIRE(j.is_object());
  check_run(j, dir.file("m.fb"), 3, 1);
  CHECK(j.size() == 8);
  CHECK(!j.contains("ops"));

  const RunResult scalar =
      spawn({kBench, "--model", dir.file("m.fb"), "--runs", "1", "--warmup", "0", "--isa", "scalar", "--json"}, dir);
  REQUIRE(scalar.exit_code == 0);
  CHECK(parse_ordered(scalar.out).at("isa").get<std::string>() == "scalar");
}

TEST_CASE("bench --json --profile: per-operator rows; --threads 1,2: an array, one object per count") {
  ScratchDir dir;
  save_small_model(dir.file("m.fb"));
  const RunResult r =
      spawn({kBench, "--model", dir.file("m.fb"), "--runs", "4", "--warmup", "0", "--profile", "--json"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::ordered_json j = parse_ordered(r.out);
  check_run(j, dir.file("m.fb"), 4, 1);
  const nlohmann::ordered_json& ops = j.at("ops");
  REQUIRE(ops.is_array());
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].at("name").get<std::string>() == kConvName);  // escaped and read back intact
  CHECK(ops[0].at("type").get<std::string>() == "Conv2D");
  CHECK(ops[0].at("output_shape").get<std::string>() == "1x3x4x3");
  CHECK(ops[0].at("float_macs").get<int64_t>() == 648);
  CHECK(ops[0].at("binary_macs").get<int64_t>() == 0);
  CHECK(ops[1].at("name").get<std::string>() == "relu");
  CHECK(ops[1].at("type").get<std::string>() == "Relu");
  double percent = 0;
  for (const auto& op : ops) {
    CHECK(op.at("median_ms").get<double>() >= 0);
    percent += op.at("percent").get<double>();
  }
  if (percent > 0) CHECK(percent == doctest::Approx(100).epsilon(0.001));  // each rounded to 0.01

  const RunResult list = spawn({kBench, "--model", dir.file("m.fb"), "--runs", "2", "--warmup", "0", "--threads",
                                "1,2", "--profile", "--json"},
                               dir);
  INFO(list.err);
  REQUIRE(list.exit_code == 0);
  const nlohmann::ordered_json a = parse_ordered(list.out);
  REQUIRE(a.is_array());
  REQUIRE(a.size() == 2);
  check_run(a[0], dir.file("m.fb"), 2, 1);
  check_run(a[1], dir.file("m.fb"), 2, 2);
  CHECK(a[1].at("ops").size() == 2);
}
