// Writing in place (InterpreterOptions::write_in_place, interpreter_build.cc's write_in_place phase): the
// same outputs bit for bit as with a buffer per tensor, on the synthetic Bi-Real-18 (fused residual binary
// convs, PReLU, ChannelAffine; 1-bit and 2-bit activations), with XNNPACK and with the portable float
// kernels (where ReLU / Clamp / PReLU also write in place), and a smaller arena where the peak is in the
// blocks.
#include <doctest/doctest.h>

#include <cstring>

#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

namespace {

/// stem -> [Sign -> BinaryConv2D + residual (fused) -> PReLU -> ChannelAffine] x 2 -> ReLU: the shipped
/// model's blocks at 16x16x32, where the peak is a block (so writing in place lowers it).
std::vector<uint8_t> resnet_blocks() {
  ModelBuilder b;
  int y = float_stem(b, b.add_input("x", {1, 16, 16, 3}), 32, 5);
  for (int k = 0; k < 2; ++k) {
    const std::string name = "block" + std::to_string(k);
    BinaryConv2DParams p;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
    BinaryConv2DFusion fusion;
    fusion.residual = y;
    const int q = b.quantize(name + "/sign", y);
    y = b.binary_conv2d(name + "/bconv", q, 32, signs(32 * 32 * 9, 10 + k), uniform(32, 20 + k, 0.01f, 0.1f),
                        uniform(32, 30 + k), p, fusion);
    y = b.prelu(name + "/prelu", y, uniform(32, 40 + k, 0.0f, 0.3f));
    y = b.channel_affine(name + "/bn", y, uniform(32, 50 + k, 0.5f, 1.5f), uniform(32, 60 + k));
  }
  b.mark_output(b.relu("relu", y));
  std::vector<uint8_t> bytes;
  const Status s = b.finish(&bytes);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return bytes;
}

}  // namespace

TEST_CASE("write in place: same outputs as separate buffers, smaller arena where a block is the peak") {
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    size_t input;
    bool peak_in_blocks;  // the synthetic Bi-Real-18 at 32x32 peaks at its stem: no smaller arena there
  };
  const Case cases[] = {{"blocks", resnet_blocks(), 16 * 16 * 3, true},
                        {"bireal18 W1A1", bireal_bytes(bireal_options(32, 1)), 32 * 32 * 3, false},
                        {"bireal18 W1A2", bireal_bytes(bireal_options(32, 2)), 32 * 32 * 3, false}};
  for (const Case& c : cases) {
    const std::unique_ptr<Model> model = load_model(c.bytes);
    const std::vector<float> x = uniform(c.input, 11);
    for (bool portable : {false, true}) {
      CAPTURE(c.name);
      CAPTURE(portable);
      InterpreterOptions separate;
      separate.portable_float_kernels = portable;
      separate.write_in_place = false;
      InterpreterOptions in_place = separate;
      in_place.write_in_place = true;
      std::unique_ptr<Interpreter> a, b;
      REQUIRE(Interpreter::create(*model, separate, &a).ok());
      REQUIRE(Interpreter::create(*model, in_place, &b).ok());
      const std::vector<float> ya = run(*a, {x}), yb = run(*b, {x});
      REQUIRE(ya.size() == yb.size());
      CHECK(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)) == 0);
      MESSAGE("arena " << a->arena_bytes() << " -> " << b->arena_bytes() << " bytes");
      CHECK(b->arena_bytes() <= a->arena_bytes());
      if (c.peak_in_blocks) CHECK(b->arena_bytes() < a->arena_bytes());
      size_t planned = 0;
      REQUIRE(Interpreter::required_arena_bytes(*model, in_place, &planned).ok());
      CHECK(planned == b->arena_bytes());
    }
  }
}
