// The command lines of bench, onebit-synth, onebit-eval and onebit-convert (onebit-info's and onebit-run's are
// in cli_test.cc): the spellings each accepts (-o and --output, --flag=value, repeated and comma-separated
// values, base-10 integers, the last of a repeated value winning) and the exit status of usage errors (2; 1
// for onebit-convert, which has always exited 1 on any error) and of --help (0, the usage on stdout).
#include "tools_test_util.h"

using namespace onebit::tools_test;

namespace {

const std::string kBenchExe = ONEBIT_BENCH_EXE;
const std::string kSynth = ONEBIT_SYNTH_EXE;
const std::string kEval = ONEBIT_EVAL_EXE;

// A small synthetic model (onebit-synth at its smallest input).
std::string small_model(const ScratchDir& dir) {
  const std::string path = dir.file("synth.fb");
  const RunResult r = spawn({kSynth, "--arch", "bireal18", "--input", "32x32x3", "--classes", "4", "-o", path}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return path;
}

void check_help(const std::string& tool, const std::string& name, const ScratchDir& dir) {
  for (const char* flag : {"--help", "-h"}) {
    const RunResult r = spawn({tool, flag}, dir);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("usage: " + name + " ", 0) == 0);
    CHECK(r.out.find("--help") != std::string::npos);
    CHECK(r.err.empty());
  }
}

}  // namespace

TEST_CASE("bench: flags, integers in base 10, the last repeated value, usage errors exit 2") {
  ScratchDir dir;
  check_help(kBenchExe, "bench", dir);
  const std::string m = small_model(dir);
  const RunResult r = spawn({kBenchExe, "--model", m, "--runs", "9", "--runs", "010", "--warmup=0", "--json"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = parse_json(r.out);
  CHECK(j.at("runs").get<int>() == 10);  // "010" is ten, and the second --runs wins
  CHECK(j.at("threads").get<int>() == 1);

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{}, {"--model"}, {"--model", m, "--runs", "0"}, {"--model", m, "--runs", "1x"},
        {"--model", m, "--warmup", "-1"}, {"--model", m, "--threads", "1,,2"}, {"--model", m, "--threads", "0"},
        {"--model", m, "--threads", "257"}, {"--model", m, "--threads", ""}, {"--model", m, "--bogus"},
        {"--model", m, "extra"}, {m}}) {
    std::vector<std::string> argv = {kBenchExe};
    argv.insert(argv.end(), bad.begin(), bad.end());
    const RunResult e = spawn(argv, dir);
    CHECK_MESSAGE(e.exit_code == 2, e.err);
    CHECK(e.err.rfind("bench: ", 0) == 0);
    CHECK(e.err.find("usage: bench ") != std::string::npos);
    CHECK(e.out.empty());
  }
}

TEST_CASE("onebit-synth: -o and --output write the same model; usage errors exit 2") {
  ScratchDir dir;
  check_help(kSynth, "onebit-synth", dir);
  const std::vector<std::string> args = {"--arch", "bireal18", "--input", "32x32x3", "--classes", "3", "--seed", "5",
                                         "--activation-bits", "2", "--no-fuse"};
  std::vector<std::string> a = {kSynth}, b = {kSynth};
  a.insert(a.end(), args.begin(), args.end());
  b.insert(b.end(), args.begin(), args.end());
  a.insert(a.end(), {"-o", dir.file("a.fb")});
  b.insert(b.end(), {"--output", dir.file("b.fb")});
  REQUIRE(spawn(a, dir).exit_code == 0);
  REQUIRE(spawn(b, dir).exit_code == 0);
  CHECK(read_text(dir.file("a.fb")) == read_text(dir.file("b.fb")));
  CHECK(!read_text(dir.file("a.fb")).empty());
  b.back() = dir.file("c.fb");
  b.push_back("--float-reference");
  REQUIRE(spawn(b, dir).exit_code == 0);
  CHECK(read_text(dir.file("c.fb")) != read_text(dir.file("a.fb")));

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"-o", dir.file("x.fb")}, {"--arch", "resnet", "-o", dir.file("x.fb")},
        {"--arch", "bireal18"}, {"--arch", "bireal18", "--input", "32x32", "-o", dir.file("x.fb")},
        {"--arch", "bireal18", "--activation-bits", "5", "-o", dir.file("x.fb")},
        {"--arch", "bireal18", "--classes", "0", "-o", dir.file("x.fb")}}) {
    std::vector<std::string> argv = {kSynth};
    argv.insert(argv.end(), bad.begin(), bad.end());
    const RunResult e = spawn(argv, dir);
    CHECK_MESSAGE(e.exit_code == 2, e.err);
    CHECK(e.err.find("usage: onebit-synth ") != std::string::npos);
  }
}

TEST_CASE("onebit-eval: usage errors exit 2") {
  ScratchDir dir;
  check_help(kEval, "onebit-eval", dir);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--model", "m.fb"}, {"--images", "i.idx"},
        {"--model", "m.fb", "--images", "i.idx", "--threads", "0"},
        {"--model", "m.fb", "--images", "i.idx", "--limit", "-1"},
        {"--model", "m.fb", "--images", "i.idx", "--frobnicate"}}) {
    std::vector<std::string> argv = {kEval};
    argv.insert(argv.end(), bad.begin(), bad.end());
    const RunResult e = spawn(argv, dir);
    CHECK_MESSAGE(e.exit_code == 2, e.err);
    CHECK(e.err.find("usage: onebit-eval ") != std::string::npos);
  }
}

#ifdef ONEBIT_CONVERT_EXE
TEST_CASE("onebit-convert: every spelling of its options; usage errors exit 1") {
  ScratchDir dir;
  const std::string conv = ONEBIT_CONVERT_EXE;
  check_help(conv, "onebit-convert", dir);
  const std::string onnx = source_dir() + "/tests/converter/fixtures/sign_of_weight.onnx";
  write_bytes(dir.file("labels.txt"), "a\nb\n");
  const auto convert = [&](const std::string& out, std::vector<std::string> options) {
    std::vector<std::string> argv = {conv, onnx};
    argv.insert(argv.end(), options.begin(), options.end());
    if (!out.empty()) argv.insert(argv.end(), {"-o", dir.file(out)});
    return spawn(argv, dir);
  };
  const RunResult base = convert("base.fb", {"--sign-zero=ternary"});
  INFO(base.err);
  REQUIRE(base.exit_code == 0);
  CHECK(base.out.find("wrote " + dir.file("base.fb")) != std::string::npos);
  // The same model from every spelling of the same options.
  REQUIRE(convert("", {"--sign-zero", "ternary", "--output", dir.file("long.fb")}).exit_code == 0);
  REQUIRE(convert("default.fb", {}).exit_code == 0);
  CHECK(read_text(dir.file("long.fb")) == read_text(dir.file("base.fb")));
  CHECK(read_text(dir.file("default.fb")) == read_text(dir.file("base.fb")));
  // Comma-separated and repeated --input-mean / --input-std, negative values.
  REQUIRE(convert("comma.fb", {"--input-mean", "-0.5,0.25", "--input-std", "2,4", "--labels", dir.file("labels.txt"),
                               "--batch", "1", "--float16-weights", "--strict"})
              .exit_code == 0);
  REQUIRE(convert("repeated.fb", {"--input-mean", "-0.5", "--input-mean", "0.25", "--input-std", "2", "--input-std",
                                  "4", "--labels", dir.file("labels.txt"), "--batch", "1", "--float16-weights",
                                  "--strict"})
              .exit_code == 0);
  CHECK(read_text(dir.file("comma.fb")) == read_text(dir.file("repeated.fb")));
  CHECK(read_text(dir.file("comma.fb")) != read_text(dir.file("base.fb")));
  REQUIRE(convert("plus.fb", {"--sign-zero=plus-one", "--float-reference"}).exit_code == 0);

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--sign-zero=bogus"}, {"--sign-zero"}, {"--batch", "0"}, {"--batch", "x"},
        {"--input-mean", "0.5"}, {"--input-mean", "0.5", "--input-std", "0"}, {"--input-mean", "a", "--input-std", "1"},
        {"--calibration", "c.idx"}, {"--calibration-images", "0"}, {"--frobnicate"}, {"second.onnx"}}) {
    const RunResult e = convert("bad.fb", bad);
    CHECK_MESSAGE(e.exit_code == 1, e.err);
    CHECK(e.err.rfind("onebit-convert: error: ", 0) == 0);
  }
  CHECK(spawn({conv}, dir).exit_code == 1);
  CHECK(spawn({conv, onnx}, dir).exit_code == 1);
  CHECK(read_text(dir.file("bad.fb")).empty());
}

TEST_CASE("onebit-convert --verify: N from --verify=N (32 alone), --calibration images, exit 3 only with --verify-strict") {
  ScratchDir dir;
  const std::string conv = ONEBIT_CONVERT_EXE;
  // Relu -> Sign -> Conv on a 1x16x16 input: agrees when converted ternary, not with sign(0) = +1.
  const std::string onnx = source_dir() + "/tests/converter/patterns/sign_after_relu.o13.fixed.onnx";
  const auto convert = [&](std::vector<std::string> options) {
    std::vector<std::string> argv = {conv, onnx, "-o", dir.file("m.fb")};
    argv.insert(argv.end(), options.begin(), options.end());
    return spawn(argv, dir);
  };
  const RunResult alone = convert({"--verify"});
  INFO(alone.err);
  REQUIRE(alone.exit_code == 0);
  CHECK(alone.out.find("verify: 32 inputs, argmax agreement 32/32,") != std::string::npos);
  const RunResult four = convert({"--verify=4"});
  REQUIRE(four.exit_code == 0);
  CHECK(four.out.find("verify: 4 inputs, argmax agreement 4/4,") != std::string::npos);
  const RunResult strict_two = convert({"--verify=2", "--verify-strict"});
  CHECK(strict_two.exit_code == 0);
  CHECK(strict_two.out.find("verify: 2 inputs, argmax agreement 2/2,") != std::string::npos);
  // Two IDX images (uint8 [2, 16, 16]) as the inputs checked.
  std::string idx = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 16};
  for (int k = 0; k < 2 * 16 * 16; ++k) idx += char(k * 37 % 256);
  write_bytes(dir.file("images.idx"), idx);
  const RunResult calibrated = convert({"--verify=8", "--calibration", dir.file("images.idx")});
  REQUIRE_MESSAGE(calibrated.exit_code == 0, calibrated.err);
  CHECK(calibrated.out.find("verify: 2 inputs, argmax agreement 2/2,") != std::string::npos);
  // sign(0) = +1: the check reports the disagreement; only --verify-strict turns it into exit status 3, and
  // the model file is written either way.
  const RunResult plus = convert({"--sign-zero=plus-one", "--verify=8"});
  REQUIRE(plus.exit_code == 0);
  CHECK(plus.out.find("first diverging layer (input 0): '/Sign'") != std::string::npos);
  std::remove(dir.file("m.fb").c_str());
  const RunResult strict = convert({"--sign-zero=plus-one", "--verify-strict"});
  CHECK(strict.exit_code == 3);
  CHECK(strict.out.find("verify: 32 inputs,") != std::string::npos);
  CHECK(!read_text(dir.file("m.fb")).empty());
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--verify=0"}, {"--verify=x"}, {"--verify="}})
    CHECK(convert(bad).exit_code == 1);
}
#endif
