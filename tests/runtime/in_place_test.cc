// Writing in place (InterpreterOptions::write_in_place, interpreter_build.cc's write_in_place phase): the
// same outputs bit for bit as with a buffer per tensor, on the synthetic Bi-Real-18 (fused residual binary
// convs, PReLU, ChannelAffine; 1-bit and 2-bit activations), with XNNPACK and with the portable float
// kernels (where ReLU / Clamp / PReLU also write in place), and a smaller arena where the peak is in the
// blocks; an unpadded AvgPool2D on the portable kernels with one thread writes over the start of its input
// (the rest of it free for later buffers), and not otherwise.
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

namespace {

/// The average pool of a downsampling shortcut: x [batch, hw, hw, 3] -> stem Conv2D 3x3 pad 1 of 20
/// channels (the pool kernel's block of 16 and 4 one by one) s -> AvgPool2D k x k / stride (`pad` on all
/// sides) p -> ChannelAffine a (in place over p in turn) -> Conv2D 1x1 of 24 channels c (written when only
/// p's bytes of s are live: it may use s's tail) -> GlobalAvgPool, the output. With `s_read_later`, a
/// GlobalAvgPool of s after the pool is a second output (so the pool is not s's last reader).
struct PoolModel {
  std::vector<uint8_t> bytes;
  int s, p, a, c;
};

PoolModel pool_model(int batch, int hw, int k, int stride, int pad, bool s_read_later) {
  ModelBuilder b;
  PoolModel m;
  m.s = float_stem(b, b.add_input("x", {batch, hw, hw, 3}), 20, 3);
  Pool2DParams pp;
  pp.kernel_h = pp.kernel_w = k;
  pp.stride_h = pp.stride_w = stride;
  pp.pad_top = pp.pad_left = pp.pad_bottom = pp.pad_right = pad;
  m.p = b.avg_pool("pool", m.s, pp);
  m.a = b.channel_affine("bn", m.p, uniform(20, 4, 0.5f, 1.5f), uniform(20, 5));
  m.c = b.conv2d("conv1x1", m.a, 24, Weights::float32(uniform(24 * 20, 6)), uniform(24, 7), Conv2DParams());
  b.mark_output(b.global_avg_pool("gap", m.c));
  if (s_read_later) b.mark_output(b.global_avg_pool("gap_s", m.s));
  const Status st = b.finish(&m.bytes);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return m;
}

size_t arena_offset(const Interpreter& interp, int tensor) {
  size_t offset = 0, bytes = 0;
  REQUIRE(interp.tensor_arena_span(tensor, &offset, &bytes));
  return offset;
}

/// Interpreters of `m` with `options` and write_in_place off (*a) and on (*b); REQUIREs that every output
/// is the same bit for bit on two inputs.
void create_both(const Model& model, InterpreterOptions options, std::unique_ptr<Interpreter>* a,
                 std::unique_ptr<Interpreter>* b) {
  options.write_in_place = false;
  REQUIRE(Interpreter::create(model, options, a).ok());
  options.write_in_place = true;
  REQUIRE(Interpreter::create(model, options, b).ok());
  for (uint32_t seed : {1u, 2u}) {
    const std::vector<float> x = uniform(count((*a)->input_info(0).shape), seed);
    for (size_t k = 0; k < (*a)->output_count(); ++k) {
      const std::vector<float> ya = run(**a, {x}, k), yb = run(**b, {x}, k);
      CAPTURE(k);
      REQUIRE(ya.size() == yb.size());
      CHECK(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)) == 0);
    }
  }
}

}  // namespace

TEST_CASE("write in place: an unpadded AvgPool2D on the portable kernels writes over its input's first bytes") {
  struct Case {
    const char* name;
    int batch, hw, k, stride;
  };
  const Case cases[] = {{"2x2 stride 2", 1, 16, 2, 2}, {"3x3 stride 2", 1, 9, 3, 2}, {"batch 2", 2, 8, 2, 2}};
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    const PoolModel m = pool_model(c.batch, c.hw, c.k, c.stride, 0, false);
    const std::unique_ptr<Model> model = load_model(m.bytes);
    InterpreterOptions options;
    options.portable_float_kernels = true;
    std::unique_ptr<Interpreter> a, b;
    create_both(*model, options, &a, &b);
    // The pool's output and the ChannelAffine after it both start where s does; the 1x1 conv's output lies
    // in s's tail (past the pooled head, before s's end).
    CHECK(arena_offset(*b, m.p) == arena_offset(*b, m.s));
    CHECK(arena_offset(*b, m.a) == arena_offset(*b, m.s));
    size_t s_offset = 0, s_bytes = 0, p_bytes = 0, c_offset = 0, c_bytes = 0, unused = 0;
    REQUIRE(b->tensor_arena_span(m.s, &s_offset, &s_bytes));
    REQUIRE(b->tensor_arena_span(m.p, &unused, &p_bytes));
    REQUIRE(b->tensor_arena_span(m.c, &c_offset, &c_bytes));
    CHECK(c_offset >= s_offset + p_bytes);
    CHECK(c_offset + c_bytes <= s_offset + s_bytes);
    MESSAGE(name << ": arena " << a->arena_bytes() << " -> " << b->arena_bytes() << " bytes");
    CHECK(b->arena_bytes() < a->arena_bytes());
    CHECK(b->arena_lower_bound_bytes() < a->arena_lower_bound_bytes());
    size_t planned = 0;
    options.write_in_place = true;
    REQUIRE(Interpreter::required_arena_bytes(*model, options, &planned).ok());
    CHECK(planned == b->arena_bytes());
  }
}

TEST_CASE("write in place: AvgPool2D keeps its own output with padding, threads, XNNPACK, or a later reader") {
  // (With padding 1, a 3x3 window at stride 1 reads the input pixel before its own: in place, that pixel
  // would already hold an output.)
  struct Case {
    const char* name;
    int stride, pad, threads;
    bool portable, s_read_later;
  };
  const Case cases[] = {{"padding, stride 1", 1, 1, 1, true, false},
                        {"padding, stride 2", 2, 1, 1, true, false},
                        {"2 threads", 2, 0, 2, true, false},
                        {"XNNPACK", 2, 0, 1, false, false},
                        {"input read by a later operator", 2, 0, 1, true, true}};
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    const PoolModel m = pool_model(1, 9, 3, c.stride, c.pad, c.s_read_later);
    const std::unique_ptr<Model> model = load_model(m.bytes);
    InterpreterOptions options;
    options.portable_float_kernels = c.portable;
    options.threads = c.threads;
    std::unique_ptr<Interpreter> a, b;
    create_both(*model, options, &a, &b);
    size_t s_offset = 0, s_bytes = 0, p_offset = 0, p_bytes = 0;
    REQUIRE(b->tensor_arena_span(m.s, &s_offset, &s_bytes));
    REQUIRE(b->tensor_arena_span(m.p, &p_offset, &p_bytes));
    CHECK((p_offset + p_bytes <= s_offset || s_offset + s_bytes <= p_offset));
  }
}

TEST_CASE("keep_inputs off: an input's bytes are reused after its last reader, same outputs") {
  const std::unique_ptr<Model> model = load_model(resnet_blocks());
  const std::vector<float> x = uniform(16 * 16 * 3, 12);
  for (bool portable : {false, true}) {
    CAPTURE(portable);
    InterpreterOptions kept;
    kept.portable_float_kernels = portable;
    InterpreterOptions freed = kept;
    freed.keep_inputs = false;
    std::unique_ptr<Interpreter> a, b;
    REQUIRE(Interpreter::create(*model, kept, &a).ok());
    REQUIRE(Interpreter::create(*model, freed, &b).ok());
    const std::vector<float> ya = run(*a, {x}), yb = run(*b, {x});
    REQUIRE(ya.size() == yb.size());
    CHECK(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)) == 0);
    // The peak is in the blocks, after the stem (the input's only reader): the input is not live there.
    MESSAGE("arena " << a->arena_bytes() << " -> " << b->arena_bytes() << " bytes");
    CHECK(b->arena_bytes() + 16 * 16 * 3 * sizeof(float) <= a->arena_bytes());
    const std::vector<float> again = run(*b, {x});  // run() writes the input each time
    CHECK(std::memcmp(again.data(), yb.data(), yb.size() * sizeof(float)) == 0);
  }
}
