// onebit-run and onebit-info end to end: models made with the ModelBuilder, written to a scratch folder, run
// through the built tool binaries (paths from CMake; in a cross build through CMAKE_CROSSCOMPILING_EMULATOR,
// as ctest runs this suite), outputs read back with io/'s .npy reader and compared with plain-loop references.
#include <cmath>
#include <cstring>

#include "onebit/io/npy.h"
#include "tools_test_util.h"
#if __has_include("onebit/builder/model_builder.h")
#include "onebit/builder/model_builder.h"
#else
#include "onebit/builder.h"
#endif

using onebit::ModelBuilder;
using onebit::Status;
using onebit::io::npy::Array;
using namespace onebit::tools_test;

namespace {

const std::string kRun = ONEBIT_RUN_EXE;
const std::string kInfo = ONEBIT_INFO_EXE;

void save_model(ModelBuilder& b, const std::string& path) {
  std::vector<uint8_t> bytes;
  const Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  write_bytes(path, std::string(bytes.begin(), bytes.end()));
}

void save_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& v) {
  const Status s = onebit::io::npy::write(path, shape, v.data());
  REQUIRE_MESSAGE(s.ok(), s.message());
}

Array load_npy(const std::string& path) {
  Array a;
  const Status s = onebit::io::npy::read(path, &a);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return a;
}

// The conv + ReLU model: x is NHWC [1, 3, 4, 2] (C=2, H=3, W=4), a 3x3 conv to 3 channels with padding 1.
constexpr int kC = 2, kH = 3, kW = 4, kO = 3;

float weight(int o, int i, int ky, int kx) { return float((o * 7 + i * 3 + ky * 5 + kx) % 11 - 5) * 0.125f; }
float bias(int o) { return 0.25f * float(o) - 0.25f; }

void save_conv_model(const std::string& path) {
  ModelBuilder b;
  std::vector<float> w;
  for (int o = 0; o < kO; ++o)
    for (int i = 0; i < kC; ++i)
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) w.push_back(weight(o, i, ky, kx));
  onebit::Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const int x = b.add_input("x", {1, kH, kW, kC});
  b.mark_output(
      b.relu("relu", b.conv2d("conv", x, kO, onebit::Weights::float32(w), {bias(0), bias(1), bias(2)}, p)));
  save_model(b, path);
}

// NCHW input of n samples, all values different.
std::vector<float> conv_input(int n) {
  std::vector<float> v;
  for (int s = 0; s < n; ++s)
    for (int c = 0; c < kC; ++c)
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x) v.push_back(float((s * 13 + c * 5 + y * 3 + x * 7) % 17 - 8) * 0.25f);
  return v;
}

// The reference, by hand: NCHW in, NCHW out.
std::vector<float> conv_reference(const std::vector<float>& in, int n) {
  std::vector<float> out;
  for (int s = 0; s < n; ++s)
    for (int o = 0; o < kO; ++o)
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x) {
          double acc = bias(o);
          for (int i = 0; i < kC; ++i)
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int yy = y + ky - 1, xx = x + kx - 1;
                if (yy < 0 || yy >= kH || xx < 0 || xx >= kW) continue;
                acc += double(weight(o, i, ky, kx)) * in[size_t(((s * kC + i) * kH + yy) * kW + xx)];
              }
          out.push_back(float(std::max(acc, 0.0)));
        }
  return out;
}

// NCHW <-> NHWC of n samples with the given (NHWC) extents.
std::vector<float> to_nhwc(const std::vector<float>& nchw, int n, int h, int w, int c) {
  std::vector<float> r(nchw.size());
  for (int s = 0; s < n; ++s)
    for (int k = 0; k < c; ++k)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) r[size_t(((s * h + y) * w + x) * c + k)] = nchw[size_t(((s * c + k) * h + y) * w + x)];
  return r;
}

}  // namespace

TEST_CASE("onebit-run: a conv + ReLU on an NCHW input matches the hand computation") {
  ScratchDir dir;
  save_conv_model(dir.file("m.fb"));
  const std::vector<float> in = conv_input(1);
  save_npy(dir.file("x.npy"), {1, kC, kH, kW}, in);
  const RunResult r = spawn({kRun, dir.file("m.fb"), "--input", dir.file("x.npy"), "--output", dir.file("y.npy")}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Array y = load_npy(dir.file("y.npy"));
  CHECK(y.shape == std::vector<int64_t>{1, kO, kH, kW});
  const std::vector<float> want = conv_reference(in, 1);
  REQUIRE(y.data.size() == want.size());
  int positive = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(y.data[i] == doctest::Approx(want[i]).epsilon(1e-5));
    positive += want[i] > 0;
  }
  CHECK(positive > 0);                         // the ReLU neither passes
  CHECK(positive < int(want.size()));          // nor clears everything

  SUBCASE("--layout nhwc gives the same numbers, transposed") {
    save_npy(dir.file("x_nhwc.npy"), {1, kH, kW, kC}, to_nhwc(in, 1, kH, kW, kC));
    const RunResult r2 = spawn({kRun, dir.file("m.fb"), "--layout", "nhwc", "--input", dir.file("x_nhwc.npy"),
                                "--output", dir.file("y_nhwc.npy"), "--threads", "2"},
                               dir);
    INFO(r2.err);
    REQUIRE(r2.exit_code == 0);
    const Array y2 = load_npy(dir.file("y_nhwc.npy"));
    CHECK(y2.shape == std::vector<int64_t>{1, kH, kW, kO});
    CHECK(y2.data == to_nhwc(y.data, 1, kH, kW, kO));
  }
  SUBCASE("a batch of 3 on a batch-1 model equals three single runs") {
    const std::vector<float> in3 = conv_input(3);
    save_npy(dir.file("x3.npy"), {3, kC, kH, kW}, in3);
    const RunResult r3 = spawn({kRun, dir.file("m.fb"), "--input=" + dir.file("x3.npy"), "--output=" + dir.file("y3.npy")}, dir);
    INFO(r3.err);
    REQUIRE(r3.exit_code == 0);
    const Array y3 = load_npy(dir.file("y3.npy"));
    CHECK(y3.shape == std::vector<int64_t>{3, kO, kH, kW});
    const size_t per = size_t(kC * kH * kW), out_per = size_t(kO * kH * kW);
    REQUIRE(y3.data.size() == 3 * out_per);
    for (size_t s = 0; s < 3; ++s) {
      save_npy(dir.file("xs.npy"), {1, kC, kH, kW}, std::vector<float>(in3.begin() + long(s * per), in3.begin() + long((s + 1) * per)));
      REQUIRE(spawn({kRun, dir.file("m.fb"), "--input", dir.file("xs.npy"), "--output", dir.file("ys.npy")}, dir).exit_code == 0);
      const Array ys = load_npy(dir.file("ys.npy"));
      CHECK(std::vector<float>(y3.data.begin() + long(s * out_per), y3.data.begin() + long((s + 1) * out_per)) == ys.data);
    }
    CHECK(r3.err.empty());  // no progress below 1000 samples
  }
  SUBCASE("a wrong shape exits 1 naming the expected and the given shape") {
    save_npy(dir.file("bad.npy"), {1, kH, kW, kC}, to_nhwc(in, 1, kH, kW, kC));  // NHWC given as NCHW
    const RunResult rb = spawn({kRun, dir.file("m.fb"), "--input", dir.file("bad.npy"), "--output", dir.file("yb.npy")}, dir);
    CHECK(rb.exit_code == 1);
    CHECK(rb.err.find(dir.file("bad.npy") + ": shape (1, 3, 4, 2) does not fit the model's input 0 'x': expected "
                      "(1, 2, 3, 4) (N, C, H, W: --layout nchw)") != std::string::npos);
    CHECK(rb.err.find("the array fits --layout nhwc") != std::string::npos);
    CHECK(access(dir.file("yb.npy").c_str(), F_OK) != 0);  // nothing written
    save_npy(dir.file("bad2.npy"), {kC * kH * kW}, in);
    const RunResult r2 = spawn({kRun, dir.file("m.fb"), "--layout", "nhwc", "--input", dir.file("bad2.npy"), "--output", dir.file("yb.npy")}, dir);
    CHECK(r2.exit_code == 1);
    CHECK(r2.err.find("shape (24,) does not fit the model's input 0 'x': expected (1, 3, 4, 2) (N, H, W, C: --layout nhwc)") !=
          std::string::npos);
  }
  SUBCASE("errors: a missing model, a bad .npy, a wrong number of outputs, usage") {
    const RunResult rm = spawn({kRun, dir.file("none.fb"), "--input", dir.file("x.npy"), "--output", dir.file("o.npy")}, dir);
    CHECK(rm.exit_code == 1);
    CHECK(rm.err.find(dir.file("none.fb")) != std::string::npos);
    write_bytes(dir.file("junk.npy"), "junk");
    const RunResult rj = spawn({kRun, dir.file("m.fb"), "--input", dir.file("junk.npy"), "--output", dir.file("o.npy")}, dir);
    CHECK(rj.exit_code == 1);
    CHECK(rj.err.find(dir.file("junk.npy") + ": not a .npy file (magic bytes missing)") != std::string::npos);
    const RunResult ro = spawn({kRun, dir.file("m.fb"), "--input", dir.file("x.npy"), "--output", dir.file("o.npy"),
                                "--output", dir.file("o2.npy")}, dir);
    CHECK(ro.exit_code == 1);
    CHECK(ro.err.find("the model has 1 output(s) ('relu' (1, 3, 3, 4)) but 2 --output file(s) were given") != std::string::npos);
    CHECK(spawn({kRun, dir.file("m.fb"), "--input", dir.file("x.npy")}, dir).exit_code == 2);
    CHECK(spawn({kRun, dir.file("m.fb"), "--input", dir.file("x.npy"), "--output", dir.file("o.npy"), "--layout", "chw"}, dir).exit_code == 2);
    CHECK(spawn({kRun, dir.file("m.fb"), "--input", dir.file("x.npy"), "--output", dir.file("o.npy"), "--threads", "0"}, dir).exit_code == 2);
    CHECK(spawn({kRun, dir.file("m.fb"), "--bogus"}, dir).exit_code == 2);
    CHECK(access(dir.file("o.npy").c_str(), F_OK) != 0);
  }
}

TEST_CASE("onebit-run: two inputs and outputs, given in order; progress above 1000 samples") {
  ScratchDir dir;
  ModelBuilder b;
  const int a = b.add_input("a", {1, 2}), c = b.add_input("b", {1, 2});
  b.mark_output(b.add("sum", a, c));
  b.mark_output(b.relu("relu_a", a));
  save_model(b, dir.file("two.fb"));
  const int n = 1001;
  std::vector<float> va, vb;
  for (int i = 0; i < n; ++i) {
    va.insert(va.end(), {float(i), -float(i) - 1});
    vb.insert(vb.end(), {0.5f, 2.0f});
  }
  save_npy(dir.file("a.npy"), {n, 2}, va);
  save_npy(dir.file("b.npy"), {n, 2}, vb);
  const RunResult r = spawn({kRun, dir.file("two.fb"), "--input", dir.file("a.npy"), "--input", dir.file("b.npy"),
                             "--output", dir.file("sum.npy"), "--output", dir.file("relu.npy")},
                            dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("onebit-run: 1000/1001 samples\n") != std::string::npos);
  CHECK(r.err.find("onebit-run: 1001/1001 samples\n") != std::string::npos);
  const Array sum = load_npy(dir.file("sum.npy")), relu = load_npy(dir.file("relu.npy"));
  CHECK(sum.shape == std::vector<int64_t>{n, 2});
  CHECK(relu.shape == std::vector<int64_t>{n, 2});
  bool same = true;
  for (int i = 0; i < n; ++i) {
    same &= sum.data[size_t(2 * i)] == float(i) + 0.5f && sum.data[size_t(2 * i + 1)] == -float(i) + 1.0f;
    same &= relu.data[size_t(2 * i)] == float(i) && relu.data[size_t(2 * i + 1)] == 0.0f;
  }
  CHECK(same);

  const RunResult r1 = spawn({kRun, dir.file("two.fb"), "--input", dir.file("a.npy"), "--output", dir.file("s.npy"),
                              "--output", dir.file("t.npy")}, dir);
  CHECK(r1.exit_code == 1);
  CHECK(r1.err.find("the model has 2 input(s) ('a' (1, 2), 'b' (1, 2)) but 1 --input file(s) were given: give one "
                    "--input per model input, in that order") != std::string::npos);
  save_npy(dir.file("b2.npy"), {2, 2}, {1, 2, 3, 4});
  const RunResult r2 = spawn({kRun, dir.file("two.fb"), "--input", dir.file("a.npy"), "--input", dir.file("b2.npy"),
                              "--output", dir.file("s.npy"), "--output", dir.file("t.npy")}, dir);
  CHECK(r2.exit_code == 1);
  CHECK(r2.err.find("holds 2 batch(es) of the model's input 1, but " + dir.file("a.npy") + " holds 1001") != std::string::npos);
}

namespace {

const std::string kStemName = "stem \"q\"\t\x01\\";  // a name JSON must escape

// Float conv 3->4 (3x3, pad 1): 108 + 4 float. Sign. Binary conv 4->8 (3x3): 288 binary, 8 + 8 float.
// Global average pool. FC 8->5: 40 + 5 float. LogSoftmax.
constexpr int64_t kBinaryParams = 288, kFloatParams = 112 + 16 + 45;

void save_info_model(const std::string& path) {
  ModelBuilder b;
  onebit::Conv2DParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  std::vector<float> w1(4 * 3 * 9), wb(8 * 4 * 9), wf(5 * 8);
  for (size_t i = 0; i < w1.size(); ++i) w1[i] = float(int(i % 7) - 3) * 0.1f;
  for (size_t i = 0; i < wb.size(); ++i) wb[i] = (i * 5 % 3) ? 1.0f : -1.0f;
  for (size_t i = 0; i < wf.size(); ++i) wf[i] = float(int(i % 5) - 2) * 0.2f;
  const int x = b.add_input("image", {1, 6, 6, 3});
  const int stem = b.conv2d(kStemName, x, 4, onebit::Weights::float32(w1), {0.1f, -0.1f, 0.2f, 0}, p);
  const int q = b.quantize("sign", stem);
  onebit::BinaryConv2DParams bp;
  bp.kernel_h = bp.kernel_w = 3;
  const int bc = b.binary_conv2d("bconv", q, 8, wb, std::vector<float>(8, 0.5f), std::vector<float>(8, 0.1f), bp);
  const int g = b.global_avg_pool("gap", bc);
  const int fc = b.fully_connected("fc", g, 5, onebit::Weights::float32(wf), {0, 0, 0, 0, 0});
  b.mark_output(b.softmax("log_softmax", fc, true));
  onebit::ModelMetadata m;
  m.producer = "tools-test";
  m.source = "cli_test.cc";
  m.input_shape = {1, 6, 6, 3};
  m.input_mean = {0.5f, 0.25f, 0.125f};
  m.input_std = {2, 4, 8};
  m.labels = {"zero", "one \"1\"", "two", "three", "four"};
  b.set_metadata(m);
  save_model(b, path);
}

}  // namespace

TEST_CASE("onebit-info: --json parses, its totals are the sums of its rows, params are what the builder got") {
  ScratchDir dir;
  save_info_model(dir.file("m.fb"));
  const RunResult r = spawn({kInfo, dir.file("m.fb"), "--json"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = parse_json(r.out);
  const nlohmann::json& ops = j.at("operators");
  REQUIRE(ops.is_array());
  REQUIRE(ops.size() == 6);
  double sums[5] = {0, 0, 0, 0, 0};
  const char* keys[5] = {"binary_params", "float_params", "param_bytes", "binary_macs", "float_macs"};
  for (size_t i = 0; i < ops.size(); ++i) {
    CHECK(ops[i].at("index").get<double>() == double(i));
    for (int k = 0; k < 5; ++k) sums[k] += ops[i].at(keys[k]).get<double>();
  }
  const nlohmann::json& totals = j.at("totals");
  for (int k = 0; k < 5; ++k) CHECK_MESSAGE(totals.at(keys[k]).get<double>() == sums[k], keys[k]);
  CHECK(totals.at("binary_params").get<double>() == double(kBinaryParams));
  CHECK(totals.at("float_params").get<double>() == double(kFloatParams));
  CHECK(totals.at("params").get<double>() == double(kBinaryParams + kFloatParams));
  CHECK(totals.at("macs").get<double>() == sums[3] + sums[4]);
  CHECK(totals.at("binary_macs").get<double>() > 0);
  CHECK(totals.at("binary_mac_share").get<double>() == doctest::Approx(sums[3] / (sums[3] + sums[4])));
  CHECK(totals.at("operators").get<double>() == 6);

  CHECK(ops[0].at("name").get<std::string>() == kStemName);  // escaped and read back intact
  CHECK(ops[0].at("type").get<std::string>() == "Conv2D");
  CHECK(ops[0].at("float_params").get<double>() == 112);
  CHECK(ops[0].at("binary").get<bool>() == false);
  CHECK(ops[2].at("name").get<std::string>() == "bconv");
  CHECK(ops[2].at("binary").get<bool>() == true);
  CHECK(ops[2].at("binary_params").get<double>() == double(kBinaryParams));
  CHECK(ops[2].at("binary_macs").get<double>() == 4 * 4 * 8 * 36);
  CHECK(ops[2].at("output_shape").size() == 4);
  CHECK(ops[5].at("type").get<std::string>() == "LogSoftmax");

  const nlohmann::json& mem = j.at("memory");
  CHECK(mem.at("model_file_bytes").get<double>() == double(read_text(dir.file("m.fb")).size()));
  CHECK(mem.at("arena_bytes").get<double>() >= mem.at("arena_lower_bound_bytes").get<double>());
  CHECK(mem.at("arena_lower_bound_bytes").get<double>() > 0);
  REQUIRE(j.at("inputs").size() == 1);
  CHECK(j.at("inputs")[0].at("name").get<std::string>() == "image");
  CHECK(j.at("inputs")[0].at("shape").size() == 4);
  CHECK(j.at("outputs").size() == 1);
  const nlohmann::json& meta = j.at("metadata");
  CHECK(meta.at("producer").get<std::string>() == "tools-test");
  CHECK(meta.at("source").get<std::string>() == "cli_test.cc");
  CHECK(meta.at("label_count").get<double>() == 5);
  CHECK(meta.at("labels")[1].get<std::string>() == "one \"1\"");
  CHECK(meta.at("input_mean")[2].get<double>() == 0.125);
  CHECK(meta.at("input_std")[1].get<double>() == 4);

  if (access("/usr/bin/python3", X_OK) == 0) {  // a second, independent JSON parser when there is one
    write_bytes(dir.file("info.json"), r.out);
    const RunResult py = spawn({"/usr/bin/python3", "-m", "json.tool", dir.file("info.json")}, dir, false);
    CHECK_MESSAGE(py.exit_code == 0, py.err);
  } else {
    MESSAGE("no /usr/bin/python3: json.tool check skipped");
  }
}

TEST_CASE("onebit-info: the table, errors, --help") {
  ScratchDir dir;
  save_info_model(dir.file("m.fb"));
  const RunResult r = spawn({kInfo, dir.file("m.fb")}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* s : {"Binary params", "Float MACs", "stem \"q\"??\\", "bconv", "BinaryConv2D", "LogSoftmax",
                        "Binary share of MACs", "Arena / bound", "Labels: 5 (\"zero\", \"one \"1\"\", \"two\", \"three\", "
                        "\"four\")", "mean [0.5, 0.25, 0.125], std [2, 4, 8]", "Producer: tools-test", "image"}) {
    CHECK_MESSAGE(r.out.find(s) != std::string::npos, s);
  }
  CHECK(r.out.find(" 288 ") != std::string::npos);

  const RunResult missing = spawn({kInfo, dir.file("none.fb")}, dir);
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find(dir.file("none.fb")) != std::string::npos);
  write_bytes(dir.file("junk.fb"), "not a model at all");
  const RunResult junk = spawn({kInfo, dir.file("junk.fb"), "--json"}, dir);
  CHECK(junk.exit_code == 1);
  CHECK(junk.err.find(dir.file("junk.fb")) != std::string::npos);
  CHECK(junk.out.empty());
  CHECK(spawn({kInfo}, dir).exit_code == 2);
  CHECK(spawn({kInfo, dir.file("m.fb"), "--frobnicate"}, dir).exit_code == 2);
  CHECK(spawn({kInfo, dir.file("m.fb"), "--isa"}, dir).exit_code == 2);
  const RunResult bad_isa = spawn({kInfo, dir.file("m.fb"), "--isa", "sparc"}, dir);
  CHECK(bad_isa.exit_code == 1);
  CHECK(bad_isa.err.find("sparc") != std::string::npos);
  const RunResult scalar = spawn({kInfo, dir.file("m.fb"), "--isa", "scalar", "--json"}, dir);
  CHECK(scalar.exit_code == 0);
  CHECK(scalar.out.find("\"isa\": \"scalar\"") != std::string::npos);
}

TEST_CASE("onebit-run and onebit-info: --help exits 0 with the usage on stdout") {
  ScratchDir dir;
  for (const std::string& tool : {kRun, kInfo}) {
    const RunResult r = spawn({tool, "--help"}, dir);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("usage: onebit-", 0) == 0);
    CHECK(r.err.empty());
  }
}
