// BConv2D driver: prepare (validation, weight packing into the GEMM's tiles - on Cortex-M none: the
// row-weight ukernel reads the caller's weights where they lie - thresholds, zero-padding correction) and run (im2col on packed words when needed -> binary GEMM -> output transform), threaded
// with pthreadpool over chunks of output pixels and, when those cannot keep the pool busy (batch-1 FC, small
// heads), also over ranges of output channels (partition() below); each output element is computed by the
// same arithmetic whatever the partition, so every thread count gives the same bytes.
// k-bit activations / weights (bconv-levels.cc): where the bgemm tile has a bit-serial twin, one GEMM per
// tile over every (activation plane, weight plane) term, straight into the float transform; else the GEMM
// runs once per activation plane over columns that are (weight plane, output channel) pairs, into one
// popcount block per plane, and the combine step turns the blocks into dots.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "bconv/bconv-impl.h"
#include "onebit/kernels/bit_contract.h"
#include "onebit/pool.h"

namespace onebit::kernels {
namespace {

constexpr size_t kAlign = 64;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool fail(Text* error, const Text& message) {
  if (error != nullptr) *error = message;
  return false;
}

Text validate(const BConvGeometry& g) {
  if (g.batch < 1 || g.in_h < 1 || g.in_w < 1 || g.in_c < 1 || g.out_c < 1) return "sizes must be >= 1";
  if (g.kernel_h < 1 || g.kernel_w < 1) return "kernel size must be >= 1";
  if (g.stride_h < 1 || g.stride_w < 1) return "stride must be >= 1";
  if (g.dilation_h < 1 || g.dilation_w < 1) return "dilation must be >= 1";
  if (g.pad_top < 0 || g.pad_left < 0 || g.pad_bottom < 0 || g.pad_right < 0) return "padding must be >= 0";
  if (g.groups < 1 || g.in_c % g.groups != 0 || g.out_c % g.groups != 0) {
    return "groups (" + num(g.groups) + ") must divide in_c (" + num(g.in_c) +
           ") and out_c (" + num(g.out_c) + ")";
  }
  if (g.pad_mode != PadMode::kZero && g.pad_mode != PadMode::kOne && g.pad_mode != PadMode::kMinusOne) {
    return "unknown padding mode";
  }
  if (g.out_h() < 1 || g.out_w() < 1) {
    return "kernel window larger than the padded input";
  }
  if (g.taps() > (1L << 24)) return "more than 2^24 taps per output (float dot would be inexact)";
  return "";
}

// Where the first set channel-padding bit of the [weight_bits][out_c][taps][tap_words] weights is, or "" if
// none is: the format makes them 0, and a build that reads the weights in place (no masked copy) must not
// compute with set ones. Only the last word of a tap has padding bits.
Text padding_bits_set(const uint32_t* weights, size_t weight_words, size_t cin_g, size_t tap_words) {
  const uint32_t padding = ~channel_mask(cin_g, tap_words - 1);
  if (padding == 0) return "";
  for (size_t i = tap_words - 1; i < weight_words; i += tap_words) {
    if ((weights[i] & padding) != 0) return "word " + num(i) + " of the weights";
  }
  return "";
}

// Weight rows for the GEMM of group grp, from the masked [weight_bits][out_c][row_words] weights: row
// j * cout_g + o is weight plane j of the group's output channel o (the combine step's GEMM columns).
Vec<uint32_t> group_weight_rows(const BConvPlan& p, const uint32_t* masked, size_t grp) {
  Vec<uint32_t> rows(p.cout_g * static_cast<size_t>(p.weight_bits) * p.row_words);
  for (size_t j = 0; j < static_cast<size_t>(p.weight_bits); ++j) {
    const uint32_t* src = masked + (j * static_cast<size_t>(p.g.out_c) + grp * p.cout_g) * p.row_words;
    std::memcpy(rows.data() + j * p.cout_g * p.row_words, src, p.cout_g * p.row_words * sizeof(uint32_t));
  }
  return rows;
}

// Block of output pixels per GEMM call: im2col rows + popcounts (one block per activation plane) + dots
// (k-bit only) of a block stay within kBlockBytes: ~48 KiB (in L1/L2 on application processors), 2 KiB on
// Cortex-M, where this scratch is SRAM the whole model competes for (the sums are integers: any block
// size gives the same outputs). Sets block_m and the per-thread scratch layout.
void plan_scratch(BConvPlan& p) {
#if ONEBIT_MCU
  constexpr size_t kBlockBytes = 2 * 1024;
#else
  constexpr size_t kBlockBytes = 48 * 1024;
#endif
  const size_t out_c = static_cast<size_t>(p.g.out_c);
  const size_t a_planes = p.serial ? static_cast<size_t>(p.planes) : 1;  // im2col rows / pointers at once
  const size_t blocks = p.serial ? 1 : static_cast<size_t>(p.planes);    // popcount blocks
  const bool dots = p.levels && !p.serial;
  const size_t bytes_per_pixel = (p.needs_im2col ? a_planes * p.row_words * 4 : 0) + blocks * p.gemm_n * 4 +
                                 (dots ? out_c * 4 : 0) +
                                 (p.correction_per_pixel ? out_c * 4 + 24 : 0);  // + its cache tag
  size_t block = std::max<size_t>(1, kBlockBytes / bytes_per_pixel);
  block = std::max(p.gemm.mr, block / p.gemm.mr * p.gemm.mr);
  const size_t pixels = static_cast<size_t>(p.g.batch) * p.out_h * p.out_w;
  p.block_m = std::min(block, (pixels + p.gemm.mr - 1) / p.gemm.mr * p.gemm.mr);
  p.im2col_bytes = p.needs_im2col ? align_up(a_planes * p.block_m * p.row_words * sizeof(uint32_t)) : 0;
  p.pointer_bytes = align_up(p.block_m * (a_planes * p.segs + 1) * sizeof(const uint32_t*));  // + correction pointers
  p.popcount_bytes = align_up(blocks * p.block_m * p.gemm_n * sizeof(int32_t));
  p.dots_bytes = dots ? align_up(p.block_m * out_c * sizeof(int32_t)) : 0;
  p.correction_bytes = p.correction_per_pixel ? align_up(bconv_correction_cache_bytes(p)) : 0;
  p.slot_bytes = p.im2col_bytes + p.pointer_bytes + p.popcount_bytes + p.dots_bytes + p.correction_bytes;
}

}  // namespace

BConv2D::BConv2D() = default;
BConv2D::~BConv2D() { delete impl_; }
BConv2D::BConv2D(BConv2D&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
BConv2D& BConv2D::operator=(BConv2D&& other) noexcept {
  if (this != &other) {
    delete impl_;
    impl_ = other.impl_;
    other.impl_ = nullptr;
  }
  return *this;
}

Isa BConv2D::isa() const { return impl_ != nullptr ? impl_->gemm.isa : Isa::kScalar; }

namespace {
// FloatAndLevels: the QuantizeLevels operator's ukernel and quantizer for the second output.
void prepare_levels_output(BConvPlan& p, Isa isa, const LevelQuantizer& q) {
  p.levels_out.resize(1);
  BConvLevelsOutput& l = p.levels_out[0];
  l.ukernel = quantize_levels_select(isa);
  l.quantizer = q;
#if !ONEBIT_MCU
  const size_t out_c = static_cast<size_t>(p.g.out_c);
  if (q.scale != nullptr) l.scale_copy.assign(q.scale, q.scale + out_c);
  if (q.shift != nullptr) l.shift_copy.assign(q.shift, q.shift + out_c);
  l.quantizer.scale = q.scale != nullptr ? l.scale_copy.data() : nullptr;
  l.quantizer.shift = q.shift != nullptr ? l.shift_copy.data() : nullptr;
#endif
  l.plane_words = static_cast<size_t>(p.g.batch) * p.out_h * p.out_w * p.out_words;
}

// Why transform.levels cannot be prepared, or null (static text: no message buffer on the stack here).
const char* levels_output_problem(const OutputTransformParams& t, bool levels_code) {
  if (t.levels == nullptr) return nullptr;
  if (!levels_code) return "a k-bit levels output needs BConv2D::prepare (prepare_binary writes bits only)";
  if (!t.float_and_bits || t.bitpacked) return "a k-bit levels output needs float_and_bits and a float output";
  const LevelQuantizer& q = *t.levels;
  const bool ok = q.kind != LevelKind::kBinary && core::levels_allowed(q.kind, q.bits);
  return ok ? nullptr : "levels output: kind / bits not Unipolar or Bipolar 1..4, or Ternary 2";
}
}  // namespace

bool BConv2D::prepare(Isa isa, const BConvGeometry& g, const uint32_t* weights,
                      const OutputTransformParams& transform, Text* error) {
  if (!prepare_with(&bconv_levels_prepare, isa, g, weights, transform, error)) return false;
  if (transform.levels != nullptr) prepare_levels_output(*impl_, isa, *transform.levels);
  return true;
}

bool BConv2D::prepare_binary(Isa isa, const BConvGeometry& g, const uint32_t* weights,
                             const OutputTransformParams& transform, Text* error) {
  return prepare_with(nullptr, isa, g, weights, transform, error);
}

bool BConv2D::prepare_with(LevelsPrepare levels_prepare, Isa isa, const BConvGeometry& g, const uint32_t* weights,
                           const OutputTransformParams& transform, Text* error) {
  delete impl_;
  impl_ = nullptr;
  Text problem = validate(g);
  if (problem.empty()) problem = bconv_levels_validate(g, transform.bitpacked);
  if (problem.empty() && levels_prepare == nullptr && !(g.act_kind == LevelKind::kBinary && g.weight_bits == 1))
    problem = "k-bit activations or weights need BConv2D::prepare (prepare_binary takes binary x binary only)";
  if (problem.empty()) {
    const char* why = levels_output_problem(transform, levels_prepare != nullptr);
    if (why != nullptr) problem = why;
  }
  if (!problem.empty()) return fail(error, "BinaryConv2D: " + problem);
  if (weights == nullptr) return fail(error, "BinaryConv2D: weights are null");
  if (transform.multiplier == nullptr || transform.bias == nullptr) {
    return fail(error, "BinaryConv2D: output transform needs multiplier and bias");
  }

  // Cortex-M: the row-weight ukernel reads the caller's weights where they lie (issue 19: no copy).
#if ONEBIT_MCU
  const bool row_weights = true;
#else
  const bool row_weights = false;
#endif
  const size_t tap_words = packed_words(static_cast<size_t>(g.in_c / g.groups));
  const size_t weight_words =
      static_cast<size_t>(g.weight_bits) * g.out_c * g.kernel_h * g.kernel_w * tap_words;
  if (row_weights) {
    const Text at = padding_bits_set(weights, weight_words, static_cast<size_t>(g.in_c / g.groups), tap_words);
    if (!at.empty()) {
      return fail(error, "BinaryConv2D: channel-padding bits set in " + at +
                             " (the format requires 0-bits; this build reads the weights in place, unmasked)");
    }
  }

  Impl* p = new Impl;
  p->g = g;
  p->transform = transform_select(isa);
  p->cin_g = static_cast<size_t>(g.in_c / g.groups);
  p->cout_g = static_cast<size_t>(g.out_c / g.groups);
  p->tap_words = packed_words(p->cin_g);
  p->row_words = static_cast<size_t>(g.kernel_h) * g.kernel_w * p->tap_words;
  p->in_words = packed_words(static_cast<size_t>(g.in_c));
  p->out_words = packed_words(static_cast<size_t>(g.out_c));
  p->taps = static_cast<int32_t>(g.taps());
  p->out_h = g.out_h();
  p->out_w = g.out_w();
  const bool aligned_groups = g.groups == 1 || p->cin_g % kBitsPerWord == 0;
  p->extract = !aligned_groups;
  p->in_place = aligned_groups && g.dilation_w == 1 && (g.kernel_w == 1 || p->tap_words == p->in_words);
  p->segs = p->in_place ? static_cast<size_t>(g.kernel_h) : 1;
  p->seg_words = p->row_words / p->segs;
  p->row_inside.resize(p->out_h);
  p->col_inside.resize(p->out_w);
  bool all_inside = true;
  for (int oy = 0; oy < p->out_h; ++oy) all_inside &= (p->row_inside[oy] = p->window_rows_inside(oy)) != 0;
  for (int ox = 0; ox < p->out_w; ++ox) all_inside &= (p->col_inside[ox] = p->window_cols_inside(ox)) != 0;
  p->needs_im2col = !p->in_place || !all_inside;
  p->levels = !(g.act_kind == LevelKind::kBinary && g.weight_bits == 1);
  p->planes = g.act_bits;
  p->weight_bits = g.weight_bits;
  p->plane_words = static_cast<size_t>(g.batch) * g.in_h * g.in_w * p->in_words;
  p->gemm_n_g = p->cout_g * static_cast<size_t>(g.weight_bits);
  p->gemm_n = p->gemm_n_g * static_cast<size_t>(g.groups);
  // Each GEMM call covers one weight plane of one group: cout_g columns (or a channel range of them).
  const BgemmShape shape{static_cast<size_t>(g.batch) * p->out_h * p->out_w, p->cout_g, p->row_words};
  p->gemm = row_weights ? bgemm_rows_select(isa, shape) : bgemm_select(isa, shape);
  p->row_weights = row_weights;
  p->fill_ones[0] = g.pad_mode == PadMode::kMinusOne;  // binary input; k-bit fills: bconv_levels_prepare

  // Weights: in place (padding bits checked above), or with channel padding bits masked (the contract says
  // they are 0; masking makes that certain) and each (group, weight plane) packed into the ukernel's tiles.
  Vec<uint32_t> masked;
  const uint32_t* unpacked = weights;  // [weight_bits][out_c][row_words], padding bits 0
  if (row_weights) {
    p->weights = weights;
  } else {
    masked.assign(weights, weights + weight_words);
    for (size_t i = 0; i < weight_words; ++i) masked[i] &= channel_mask(p->cin_g, i % p->tap_words);
    unpacked = masked.data();
    p->plane_chunks = bgemm_packed_chunks(p->gemm.nr, p->cout_g, p->segs, p->seg_words);
    p->group_chunks = p->plane_chunks * static_cast<size_t>(g.weight_bits);
    p->packed_weights.assign(p->group_chunks * g.groups, 0);
    for (size_t grp = 0; grp < static_cast<size_t>(g.groups); ++grp) {
      const Vec<uint32_t> rows = group_weight_rows(*p, masked.data(), grp);
      for (size_t j = 0; j < static_cast<size_t>(g.weight_bits); ++j)
        bgemm_pack_weights(p->gemm.nr, p->cout_g, p->segs, p->seg_words, rows.data() + j * p->cout_g * p->row_words,
                           p->row_words, p->packed_weights.data() + grp * p->group_chunks + j * p->plane_chunks);
    }
  }

  p->bitpacked = transform.bitpacked;
  // Float ranges on 16 channels (a 64-byte line of output floats) at least; bits on whole words.
  const bool bits_out = transform.bitpacked || transform.float_and_bits;
  p->channel_unit = g.groups == 1 ? std::lcm(p->gemm.nr, size_t{bits_out ? 32u : 16u}) : 0;
  if (row_weights) {
    p->multiplier = transform.multiplier;
    p->bias = transform.bias;
  } else {
    p->multiplier_copy.assign(transform.multiplier, transform.multiplier + g.out_c);
    p->bias_copy.assign(transform.bias, transform.bias + g.out_c);
    p->multiplier = p->multiplier_copy.data();
    p->bias = p->bias_copy.data();
  }
  p->clamp_min = transform.clamp_min;
  p->clamp_max = transform.clamp_max;
  p->float_and_bits = transform.float_and_bits && !transform.bitpacked;
  if (p->float_and_bits) {
    p->pack = pack_select(isa);
#if !ONEBIT_MCU  // Cortex-M keeps the two passes (bconv-impl.h f32_bits)
    p->f32_bits = transform_f32_bits_for(p->transform.isa);
#endif
    p->quantize_thresholds = transform.quantize != nullptr;
    if (p->quantize_thresholds) {
      const QuantizeThresholds& q = *transform.quantize;
      if (row_weights) {  // Cortex-M: the caller's tables, which outlive this (like the weights)
        p->quantize = q;
      } else {
        p->quantize_threshold.assign(q.threshold, q.threshold + g.out_c);
        p->quantize_flip.assign(q.flip, q.flip + p->out_words);
        p->quantize_mask.assign(q.const_mask, q.const_mask + p->out_words);
        p->quantize_bits.assign(q.const_bits, q.const_bits + p->out_words);
        p->quantize = {p->quantize_threshold.data(), p->quantize_flip.data(), p->quantize_mask.data(),
                       p->quantize_bits.data()};
      }
    }
  }
  if (p->bitpacked) {
    p->threshold.resize(g.out_c);
    p->sign_mask.resize(g.out_c);
    bits_transform_thresholds(g.out_c, p->taps, p->multiplier, p->bias, p->threshold.data(), p->sign_mask.data());
  }
  // Zero padding costs a correction unless the activations have a zero level (Unipolar, Ternary: their
  // padded taps are filled with level 0, see bconv-levels.cc): a table, or with row weights per pixel.
  const bool zero_level = g.act_kind == LevelKind::kUnipolar || g.act_kind == LevelKind::kTernary;
  if (g.pad_mode == PadMode::kZero && !zero_level) {
    if (row_weights) {
      p->correction_per_pixel = !all_inside;
    } else {
      bconv_zero_padding_correction(*p, unpacked);
    }
  }
  if (p->levels) levels_prepare(*p, unpacked);  // sets level_ops

  plan_scratch(*p);
  impl_ = p;
  return true;
}

size_t BConv2D::scratch_bytes(size_t threads) const {
  if (impl_ == nullptr) return 0;
  return std::max<size_t>(threads, 1) * impl_->slot_bytes + kAlign;  // + kAlign: run() aligns the base
}

namespace {

size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

struct RunContext {
  const BConvPlan* impl;
  const uint32_t* input;
  void* output;
  BConvRunArgs args;
  char* scratch;
  size_t pixels, tiles, units;  // output pixels, GEMM tiles of mr pixels, channel units of channel_unit
  size_t chunks, ranges;        // tasks = chunks x ranges (task t: chunk t / ranges, range t % ranges)
};

// One block's output transform, channels [c0, c1). The ukernels take rows of n contiguous channels (row
// stride n): the whole range is one call over the block, as before the split; a sub-range is one call per
// pixel row, on pointers offset by c0 channels (c0 / 32 words: c0 is a multiple of 32 for bits outputs) and
// per-channel parameters offset alike, so each element sees the same arithmetic as in the whole-range call.
struct Block {
  size_t mb, c0, c1;
  const int32_t* popcounts;            // mb rows of gemm_n (binary) ...
  const int32_t* neg_dots;             // ... or of out_c (k-bit, after the combine step)
  const int32_t* const* corrections;   // null or mb pointers
  const float* residual;               // null or mb rows of out_c
  float* y;                            // float output, mb rows of out_c
  uint32_t* bits;                      // bitpacked output or the FloatAndBitPacked bits (null: none), rows of out_words
};

// p + i, or null for a null p (an empty parameter vector): offsetting a null pointer is undefined, even by
// an offset nobody reads through (clang's UBSan: pointer-overflow).
template <typename T>
T* offset_or_null(T* p, size_t i) {
  return p != nullptr ? p + i : nullptr;
}

void transform_block(const BConvPlan& p, const Block& b) {
  const size_t out_c = static_cast<size_t>(p.g.out_c), nc = b.c1 - b.c0, w0 = b.c0 / kBitsPerWord;
  const bool whole = nc == out_c;
  FloatTransform ft;
  // k-bit: dot = dot_scale * D (bconv-levels.cc), from the combine step's P' = -D or the bit-serial S.
  const bool combined = p.levels && !p.serial;
  ft.taps = p.levels ? 0 : p.taps;
  ft.multiplier = offset_or_null(p.levels ? p.dot_multiplier.data() : p.multiplier, b.c0);
  ft.bias = offset_or_null(p.bias, b.c0);
  ft.clamp_min = p.clamp_min;
  ft.clamp_max = p.clamp_max;
  BitsTransform bt;
  bt.taps = p.taps;
  bt.threshold = offset_or_null(p.threshold.data(), b.c0);
  bt.sign_mask = offset_or_null(p.sign_mask.data(), b.c0);
  QuantizeThresholds q = p.quantize;
  if (p.quantize_thresholds)
    q = {q.threshold + b.c0, q.flip + w0, q.const_mask + w0, q.const_bits + w0};
  if (combined && !p.dot_exact) p.level_ops->to_f32(p, b.mb, b.c0, b.c1, b.neg_dots, b.residual, b.y);
  const size_t calls = whole ? 1 : b.mb, rows = whole ? b.mb : 1;
  for (size_t i = 0; i < calls; ++i) {
    const int32_t* corr = nullptr;
    const int32_t* const* corrections = b.corrections;
    if (!whole && corrections != nullptr) {
      corr = corrections[i] != nullptr ? corrections[i] + b.c0 : nullptr;
      corrections = &corr;
    }
    ft.residual = b.residual != nullptr ? b.residual + i * out_c + b.c0 : nullptr;
    float* y = offset_or_null(b.y, i * out_c + b.c0);
    uint32_t* bits = b.bits != nullptr ? b.bits + i * p.out_words + w0 : nullptr;
    if (combined) {
      if (p.dot_exact) p.transform.f32(rows, nc, b.neg_dots + i * out_c + b.c0, nullptr, &ft, y);
    } else if (p.bitpacked) {
      p.transform.bits(rows, nc, b.popcounts + i * p.gemm_n + b.c0, corrections, &bt, bits);
      continue;
#if !ONEBIT_MCU
    } else if (bits != nullptr && p.f32_bits != nullptr && p.levels_out.empty()) {
      p.f32_bits(rows, nc, b.popcounts + i * p.gemm_n + b.c0, corrections, &ft, y,
                 p.quantize_thresholds ? &q : nullptr, bits);
      continue;
#endif
    } else {
      p.transform.f32(rows, nc, b.popcounts + i * p.gemm_n + b.c0, corrections, &ft, y);
    }
    // FloatAndBitPacked without a float-and-bits ukernel (f32_bits: the sign bits of Quantize only): the
    // floats, just written and still in cache, through Quantize's kernel; FloatAndLevels: through
    // QuantizeLevels' (planes out_plane_words apart, channels offset by c0).
    if (bits == nullptr) continue;
    if (!p.levels_out.empty()) {
      const BConvLevelsOutput& l = p.levels_out[0];
      LevelQuantizer lq = l.quantizer;
      lq.scale = offset_or_null(lq.scale, b.c0);
      lq.shift = offset_or_null(lq.shift, b.c0);
      l.ukernel.fn(rows, nc, y, bits, l.plane_words, &lq);
    } else {
      p.pack.fn(rows, nc, y, bits, p.quantize_thresholds ? &q : nullptr);
    }
  }
}

using Cursor = BConvCursor;

// Output pixels [q0, q1) of the flattened [batch][out_h][out_w] output, output channels [c0, c1) (the whole
// range, or with groups 1 a range whose c0 is a multiple of channel_unit).
void run_pixels(const BConvPlan& p, const uint32_t* input, void* output, const BConvRunArgs& args, char* slot,
                size_t q0, size_t q1, size_t c0, size_t c1) {
  const BConvGeometry& g = p.g;
  // Serial: the rows of every activation plane at once (plane i's at i * a_plane_*), for one GEMM call.
  const size_t a_planes = p.serial ? static_cast<size_t>(p.planes) : 1;
  const size_t a_plane_pointers = p.serial ? p.block_m * p.segs : 0;
  const size_t a_plane_words = p.serial ? p.block_m * p.row_words : 0;
  uint32_t* im2col = reinterpret_cast<uint32_t*>(slot);
  const uint32_t** pointers = reinterpret_cast<const uint32_t**>(slot + p.im2col_bytes);
  const int32_t** correction_ptrs = reinterpret_cast<const int32_t**>(pointers + a_planes * p.block_m * p.segs);
  int32_t* popcounts = reinterpret_cast<int32_t*>(slot + p.im2col_bytes + p.pointer_bytes);
  int32_t* neg_dots = reinterpret_cast<int32_t*>(slot + p.im2col_bytes + p.pointer_bytes + p.popcount_bytes);
  char* correction_cache = reinterpret_cast<char*>(neg_dots) + p.dots_bytes;
  if (p.correction_per_pixel) bconv_correction_cache_clear(p, correction_cache);
  const size_t out_c = static_cast<size_t>(g.out_c);
  const size_t mr = p.gemm.mr, segs = p.segs;
  const size_t plane = static_cast<size_t>(p.out_h) * p.out_w;
  // GEMM columns of the range within a group: the whole group, or (groups 1) [c0, c1), whose tiles start
  // c0 / nr tiles into each weight plane's run of packed tiles.
  const bool whole = c1 - c0 == out_c;
  const size_t gc0 = whole ? 0 : c0, gnc = whole ? p.cout_g : c1 - c0;
  const size_t tile_chunks = bgemm_packed_chunks(p.gemm.nr, 1, segs, p.seg_words);
  const size_t wb = static_cast<size_t>(p.weight_bits);
  onebit_bgemm_terms terms = p.terms.empty() ? onebit_bgemm_terms{} : p.terms[0];  // plane -> its pointers
  for (size_t t = 0; t < terms.count; ++t) terms.a_offset[t] *= a_plane_pointers;
  Cursor start{static_cast<int>(q0 / plane), static_cast<int>(q0 % plane / p.out_w), static_cast<int>(q0 % p.out_w)};
  for (size_t b0 = q0; b0 < q1; b0 += p.block_m) {
    const size_t mb = std::min(p.block_m, q1 - b0);
    for (size_t grp = 0; grp < static_cast<size_t>(g.groups); ++grp) {
      for (int bit_plane = 0; bit_plane < p.planes; ++bit_plane) {  // without serial: one GEMM per plane
        const size_t slot_i = p.serial ? static_cast<size_t>(bit_plane) : 0;
        bconv_gather_rows(p, input + static_cast<size_t>(bit_plane) * p.plane_words, start, mb, grp, p.fill_ones[bit_plane],
                    pointers + slot_i * a_plane_pointers, im2col + slot_i * a_plane_words);
        if (p.serial) continue;
        int32_t* plane_popcounts = popcounts + static_cast<size_t>(bit_plane) * p.block_m * p.gemm_n;
        for (size_t j = 0; j < wb; ++j) {  // weight plane j: columns j * cout_g + o of the group
          int32_t* c = plane_popcounts + grp * p.gemm_n_g + j * p.cout_g + gc0;
          if (p.row_weights) {
            const uint32_t* w = p.weights + (j * out_c + grp * p.cout_g + gc0) * p.row_words;
            for (size_t m0 = 0; m0 < mb; m0 += mr) {
              p.gemm.rows_ukernel(std::min(mr, mb - m0), gnc, segs, p.seg_words, pointers + m0 * segs, w,
                                  p.row_words, c + m0 * p.gemm_n, p.gemm_n * sizeof(int32_t));
            }
            continue;
          }
          const uint64_t* w = p.packed_weights.data() + grp * p.group_chunks + j * p.plane_chunks +
                              gc0 / p.gemm.nr * tile_chunks;
          for (size_t m0 = 0; m0 < mb; m0 += mr) {
            p.gemm.ukernel(std::min(mr, mb - m0), gnc, segs, p.seg_words, pointers + m0 * segs, w,
                           c + m0 * p.gemm_n, p.gemm_n * sizeof(int32_t));
          }
        }
      }
      if (!p.serial) continue;
      const uint64_t* w = p.packed_weights.data() + grp * p.group_chunks + gc0 / p.gemm.nr * tile_chunks;
      int32_t* c = popcounts + grp * p.cout_g + gc0;  // columns: output channels
      for (size_t m0 = 0; m0 < mb; m0 += mr) {
        p.gemm.serial_ukernel(std::min(mr, mb - m0), gnc, segs, p.seg_words, pointers + m0 * segs, w,
                              c + m0 * out_c, out_c * sizeof(int32_t), &terms);
      }
    }
    const int32_t* const* corrections = nullptr;
    if (p.serial) {  // every pixel has its row (bconv-impl.h serial_correction)
      const bool classes = p.serial_correction.size() > out_c;
      for (size_t i = 0; i < mb; ++i, start.next(p)) {
        const size_t row =
            classes ? static_cast<size_t>(p.row_class[start.oy]) * p.col_classes + p.col_class[start.ox] : 0;
        correction_ptrs[i] = p.serial_correction.data() + row * out_c;
      }
      corrections = correction_ptrs;
    } else if (!p.correction.empty()) {
      start = bconv_correction_rows(p, start, mb, correction_ptrs);
      corrections = correction_ptrs;
    } else if (p.correction_per_pixel) {
      for (size_t i = 0; i < mb; ++i, start.next(p)) {
        const bool inside = p.row_inside[start.oy] && p.col_inside[start.ox];
        correction_ptrs[i] = inside ? nullptr : bconv_correction_cached(p, correction_cache, start.oy, start.ox, c0, c1, b0);
      }
      corrections = correction_ptrs;
    } else {
      for (size_t i = 0; i < mb; ++i) start.next(p);
    }
    if (p.levels && !p.serial) p.level_ops->combine(p, mb, c0, c1, popcounts, corrections, neg_dots);
    Block b{mb, c0, c1, popcounts, neg_dots, corrections, nullptr, static_cast<float*>(output) + b0 * out_c, nullptr};
    if (args.residual != nullptr) b.residual = args.residual + b0 * out_c;
    if (p.bitpacked) b.bits = static_cast<uint32_t*>(output) + b0 * p.out_words;
    if (p.float_and_bits && args.bits != nullptr) b.bits = args.bits + b0 * p.out_words;
    transform_block(p, b);
  }
}

// Tasks = chunks x ranges <= threads (one scratch slot each). Pixel chunks alone (the split before issue 12)
// unless splitting the channels too shortens the longest task, counted in (GEMM tile, channel unit) blocks,
// by 1/8 or more: a channel range re-reads (and re-im2cols) every A row of its chunk, so it is not free.
// E.g. a batch-1 FC (1 tile) on 2 threads: 1 chunk x 2 ranges; 3 tiles on 2 threads: 1 x 2 (cost 3/2 vs 2).
void partition(size_t threads, size_t tiles, size_t units, size_t* chunks, size_t* ranges) {
  *chunks = std::min(threads, tiles);
  *ranges = 1;
  const size_t pixel_cost = div_up(tiles, *chunks) * units;
  size_t best = pixel_cost;
  for (size_t pc = *chunks; pc >= 1; --pc) {
    const size_t cr = std::min(units, threads / pc);
    const size_t cost = div_up(tiles, pc) * div_up(units, cr);
    if (cost < best && 8 * cost <= 7 * pixel_cost) best = cost, *chunks = pc, *ranges = cr;
  }
}

void run_task(void* context, size_t task) {
  const RunContext& ctx = *static_cast<const RunContext*>(context);
  const BConvPlan& p = *ctx.impl;
  const size_t chunk = task / ctx.ranges, range = task % ctx.ranges;
  // Chunks on whole GEMM tiles, so only the output's last tile is partial; ranges on whole channel units.
  // chunks <= tiles and ranges <= units: no task is empty.
  const size_t mr = p.gemm.mr, unit = p.channel_unit, out_c = static_cast<size_t>(p.g.out_c);
  const size_t q0 = ctx.tiles * chunk / ctx.chunks * mr;
  const size_t q1 = std::min(ctx.pixels, ctx.tiles * (chunk + 1) / ctx.chunks * mr);
  const size_t c0 = ctx.ranges == 1 ? 0 : ctx.units * range / ctx.ranges * unit;
  const size_t c1 = ctx.ranges == 1 ? out_c : std::min(out_c, ctx.units * (range + 1) / ctx.ranges * unit);
  run_pixels(p, ctx.input, ctx.output, ctx.args, ctx.scratch + task * p.slot_bytes, q0, q1, c0, c1);
}

}  // namespace

void BConv2D::run(const uint32_t* input, void* output, void* scratch, pthreadpool_t pool,
                  const BConvRunArgs& args) const {
  if (impl_ == nullptr) return;
  const size_t threads = pool != nullptr ? std::max<size_t>(1, pthreadpool_get_threads_count(pool)) : 1;
  RunContext ctx;
  ctx.impl = impl_;
  ctx.input = input;
  ctx.output = output;
  ctx.args = args;
  const uintptr_t base = reinterpret_cast<uintptr_t>(scratch);
  ctx.scratch = static_cast<char*>(scratch) + (align_up(base) - base);
  ctx.pixels = static_cast<size_t>(impl_->g.batch) * impl_->out_h * impl_->out_w;
  ctx.tiles = div_up(ctx.pixels, impl_->gemm.mr);
  ctx.units = impl_->channel_unit != 0 ? div_up(static_cast<size_t>(impl_->g.out_c), impl_->channel_unit) : 1;
  partition(threads, ctx.tiles, ctx.units, &ctx.chunks, &ctx.ranges);
  if (ctx.chunks * ctx.ranges <= 1) {
    run_pixels(*impl_, input, output, args, ctx.scratch, 0, ctx.pixels, 0, static_cast<size_t>(impl_->g.out_c));
  } else {
    pthreadpool_parallelize_1d(pool, run_task, &ctx, ctx.chunks * ctx.ranges, 0);
  }
}

}  // namespace onebit::kernels
