// onebit-synth: writes a model with a known topology and random weights (for benchmarks and tests).
#include <cstdio>
#include <string>

#include "cli/cli.h"
#include "onebit/builder/model_builder.h"
#include "synth/bireal.h"

static const char kUsage[] =
    "usage: onebit-synth --arch bireal18 [--input HxWxC] [--classes N] [--seed N] [--activation-bits K]\n"
    "                    [--float-reference] [--no-fuse] -o OUT.fb\n";

int main(int argc, char** argv) {
  onebit::synth::BiRealOptions o;
  std::string arch, out;
  bool no_fuse = false;
  onebit::cli::Parser cli("onebit-synth", kUsage, "", 22);
  const auto set_arch = [&](const std::string& v) {
    arch = v;
    return v == "bireal18" ? std::string() : "unknown --arch '" + v + "' (known: bireal18)";
  };
  const auto set_input = [&](const std::string& v) {
    if (std::sscanf(v.c_str(), "%dx%dx%d", &o.input_h, &o.input_w, &o.input_c) != 3 || o.input_h > 4096 ||
        o.input_w > 4096 || o.input_c > 64)
      return "--input expects HxWxC (e.g. 224x224x3), got '" + v + "'";
    return std::string();
  };
  cli.custom("--arch", set_arch, "bireal18",
             "Bi-Real-Net-18 topology (float stem, 16 binary 3x3 convs, float shortcuts, FC)")
      .required();
  cli.custom("--input", set_input, "HxWxC", "input size, default 224x224x3 (at least 32x32)");
  cli.integer("--classes", &o.classes, 1, 100000, "N", "classifier outputs, default 1000");
  cli.integer("--seed", &o.seed, 0, 1L << 30, "N", "weight seed, default 1");
  cli.integer("--activation-bits", &o.activation_bits, 1, 4, "K",
              "1 (default): Sign -> binary activations; 2..4: k-bit unipolar activations (W1AK)");
  cli.flag("--float-reference", &o.float_reference,
           "the same network with binary layers as float convs on the level values (XNNPACK)");
  cli.flag("--no-fuse", &no_fuse,
           "Sign, BinaryConv2D and residual Add as separate operators (default: each block is\n"
           "one BinaryConv2D with the Add and the next block's Sign fused; same outputs)");
  cli.text("-o,--output", &out, "FILE", "model file to write (written atomically)").required();
  if (const int status = cli.parse(argc, argv); status >= 0) return status;
  o.fuse = !no_fuse;

  std::vector<uint8_t> bytes;
  onebit::Status s = onebit::synth::build_bireal18(o, &bytes);
  if (s.ok()) s = onebit::write_file_atomically(out, bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "onebit-synth: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("wrote %s: bireal18%s%s, input %dx%dx%d, %d classes, %zu bytes\n", out.c_str(),
              o.activation_bits > 1 ? (" W1A" + std::to_string(o.activation_bits)).c_str() : "",
              o.float_reference ? " (float reference)" : "", o.input_h, o.input_w, o.input_c, o.classes, bytes.size());
  return 0;
}
