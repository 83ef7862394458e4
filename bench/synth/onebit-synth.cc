// onebit-synth: writes a model with a known topology and random weights (for benchmarks and tests).
#include <cstdio>
#include <string>

#include "cli/flags.h"
#include "onebit/builder/model_builder.h"
#include "synth/bireal.h"

static const char kUsage[] =
    "usage: onebit-synth --arch bireal18 [--input HxWxC] [--classes N] [--seed N] [--activation-bits K]\n"
    "                    [--float-reference] [--no-fuse] -o OUT.fb\n"
    "  --arch bireal18     Bi-Real-Net-18 topology (float stem, 16 binary 3x3 convs, float shortcuts, FC)\n"
    "  --input HxWxC       input size, default 224x224x3 (at least 32x32)\n"
    "  --classes N         classifier outputs, default 1000\n"
    "  --seed N            weight seed, default 1\n"
    "  --activation-bits K 1 (default): Sign -> binary activations; 2..4: k-bit unipolar activations (W1AK)\n"
    "  --float-reference   the same network with binary layers as float convs on the level values (XNNPACK)\n"
    "  --no-fuse           Sign, BinaryConv2D and residual Add as separate operators (default: each block is\n"
    "                      one BinaryConv2D with the Add and the next block's Sign fused; same outputs)\n"
    "  -o, --output FILE   model file to write (written atomically)\n";

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "-o") argv[i] = const_cast<char*>("--output");
  onebit::cli::Flags flags(argc, argv, kUsage, {"float-reference", "no-fuse"});
  flags.allow_only({"arch", "input", "classes", "seed", "activation-bits", "float-reference", "no-fuse", "output"});
  if (flags.required("arch") != "bireal18") flags.fail("unknown --arch '" + flags.str("arch") + "' (known: bireal18)");
  onebit::synth::BiRealOptions o;
  const std::string input = flags.str("input", "224x224x3");
  if (std::sscanf(input.c_str(), "%dx%dx%d", &o.input_h, &o.input_w, &o.input_c) != 3 || o.input_h > 4096 ||
      o.input_w > 4096 || o.input_c > 64)
    flags.fail("--input expects HxWxC (e.g. 224x224x3), got '" + input + "'");
  o.classes = int(flags.integer("classes", 1000, 1, 100000));
  o.seed = uint64_t(flags.integer("seed", 1, 0, 1L << 30));
  o.float_reference = flags.has("float-reference");
  o.fuse = !flags.has("no-fuse");
  o.activation_bits = int(flags.integer("activation-bits", 1, 1, 4));
  const std::string out = flags.required("output");

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
