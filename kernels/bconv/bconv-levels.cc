// k-bit (bit-serial) binary convolution: activations of act_bits planes (Unipolar, Bipolar, Ternary or
// Binary levels) times weights of weight_bits planes (1-bit Binary or 2-bit Bipolar), through the binary
// XOR-popcount GEMM. This file holds the derivation, the validation, the prepare-time constants and the
// combine step; the driver (bconv.cc) runs either the bit-serial GEMM (below) or the GEMM once per
// activation plane and weight plane followed by the combine step.
//
// Notation. One output value (pixel, output channel o) sees a window of K bit positions: K = taps =
// kernel_h * kernel_w * cin_g real channels (channel padding bits are 0 in activations and weights, XOR to 0
// and appear in no popcount below). Padded taps (outside the image) are among the K positions and hold the
// plane's fill bit, written by im2col. For a bit b, u(b) = 1 - 2b is its ±1 value (bit 1 means -1). Activation
// plane i holds bits a_i, weight plane j bits b_j, and
//     P_ij = popcount over the K positions of (plane i of x) XOR (plane j of w)     (one GEMM column each),
//     B_j  = popcount over the window of plane j of w                              (a weight constant).
// Two identities do all the work, summed over the K positions t:
//   (1) sum_t u(a) u(b) = K - 2 * popcount(a XOR b)       (agreeing pairs +1, disagreeing -1: the binary dot)
//   (2) sum_t a * u(b)  = popcount(a XOR b) - popcount(b)
//       since a (1 - 2b) = a - 2ab and popcount(a XOR b) = pop(a) + pop(b) - 2 pop(a AND b), so
//       sum_t a u(b) = pop(a) - 2 pop(a AND b) = pop(a) + (pop(a XOR b) - pop(a) - pop(b)) = P - pop(b).
//       The popcount(a) term of the unipolar form cancels: only weight popcounts remain, and those are
//       known at prepare time.
//
// Weights. Binary 1-bit: L_w = u(b_0). Bipolar 2-bit (bit_contract.h): L_w = 2q - 3 with q = b_0 + 2 b_1,
// = (2 b_0 - 1) + 2 (2 b_1 - 1) = -(u(b_0) + 2 u(b_1)): a plane bit 1 means +2^j, the opposite of the Binary
// convention. Both are  L_w = sigma * sum_j 2^j u(b_j)  with sigma = +1 (Binary) or -1 (Bipolar). Weight
// planes are extra GEMM columns (N = out_c * weight_bits), so the ukernels are unchanged.
// Let Wsum_o = sum over the window of L_w = sigma * sum_j 2^j (K - 2 B_j), Bw_o = sum_j 2^j B_j.
//
// In every case D = sum over REAL taps of L_x * L_w (zero padding: padded taps count 0) comes out as
//     D = alpha * S + beta_o + gamma * Wpad_o(position),   S = sum_ij c_i 2^j P_ij,
// with integer alpha, c_i, gamma per convolution, beta_o per output channel, and Wpad_o(position) = sum of
// L_w over the padded taps of that position's window (the existing zero-padding correction table, built on
// weight levels by bconv-padding.cc; only needed when the activations have no zero level).
//
//  * Unipolar x (k bits, q = sum_i 2^i a_i, L_x = q - z, 0 <= z <= 2^k - 1). Padded taps are filled with the
//    bits of z (plane i gets bit i of z), so q = z and L_x = 0 there: the padding is free. Over all K:
//      sum_t q L_w = sum_i 2^i sigma sum_j 2^j sum_t a_i u(b_j) = sigma sum_ij 2^{i+j} (P_ij - B_j)  by (2)
//                  = sigma (S - (2^k - 1) Bw_o)                        with c_i = 2^i,
//      D = sum_t (q - z) L_w = sigma S - sigma (2^k - 1) Bw_o - z Wsum_o.
//    alpha = sigma, beta_o = -sigma (2^k - 1) Bw_o - z Wsum_o, gamma = 0.
//  * Ternary x (planes p1 = (L < 0), p2 = (L <= 0)): u(p1) + u(p2) = 2, 0, -2 for L = +1, 0, -1, so
//    L_x = (u1 + u2) / 2. Zero padding is the fill (0, 1), L_x = 0: free. By (1),
//      D = sum_t (u1 + u2)/2 * sigma sum_j 2^j u(b_j) = sigma/2 sum_j 2^j (2K - 2 P_1j - 2 P_2j)
//        = sigma sum_j 2^j (K - P_1j - P_2j)         (c_1 = c_2 = 1)
//    alpha = -sigma, beta_o = sigma (2^wb - 1) K, gamma = 0. With m = NOT(p1 XOR p2) (L != 0) and s = p1 (the
//    sign), the textbook mask form is D = popcount(m) - 2 popcount(m AND (s XOR w)) for binary weights. Per
//    tap, 1 - (p1 XOR w) - (p2 XOR w) equals 1 - 2 (s XOR w) where p1 = p2 (m = 1) and 1 - w - (1 - w) = 0
//    where (p1, p2) = (0, 1) (m = 0), so the two forms agree tap by tap. Ours needs only XOR-popcounts of
//    each plane, so the same GEMM ukernels (no three-operand AND-XOR kernel per ISA) and the same im2col
//    (padding a constant bit per plane) serve; the cost is one more popcount per word, as for any 2-bit input.
//  * Bipolar x (L_x = 2q - (2^k - 1) = -sum_i 2^i u(a_i)) and Binary x (L_x = u(a_0)): L_x = sigma_x sum_i
//    2^i u(a_i), sigma_x = -1 (Bipolar) or +1 (Binary). There is no zero level: padded taps are filled with
//    0 bits (L_x = sigma_x (2^k - 1) there) and their contribution is subtracted. Over all K, by (1),
//      D_all = sigma_x sigma sum_ij 2^{i+j} (K - 2 P_ij) = sigma_x sigma ((2^k - 1)(2^wb - 1) K - 2 S),
//      D = D_all - sigma_x (2^k - 1) Wpad_o(position).
//    alpha = -2 sigma_x sigma, beta_o = sigma_x sigma (2^k - 1)(2^wb - 1) K, gamma = -sigma_x (2^k - 1).
//    That is what bipolar costs: the per-position correction table of the binary path, one multiply-add per
//    output at the border. Binary x Binary (k = wb = 1) gives D = K - 2P - Wpad: today's formula, which the
//    driver keeps on its own path (the transform ukernels apply it directly, no combine step).
//
// Bound. prepare() enforces K * max|L_x| * max|L_w| <= 2^24, so |D| <= 2^24 and float(D) is exact. The
// int32 arithmetic of the combine step cannot overflow either: with max|L_w| = 2^wb - 1, and for Unipolar /
// Bipolar / Binary 2^k - 1 <= 2 max|L_x| and z <= 2 max|L_x|, every term is bounded by a multiple of
// M = (2^k - 1)(2^wb - 1) K <= 2 * 2^24: sum_ij |alpha c_i 2^j| P_ij <= 2M, |beta_o| <= M + z (2^wb - 1) K
// <= M + 2^25, |gamma Wpad| <= M (Ternary: all terms together <= 3 (2^wb - 1) K <= 3 * 2^24). So every
// partial sum is below 2^28 in magnitude.
//
// Float output. The combine step writes P' = -D; the f32 transform ukernels compute
// dot = taps - 2 P' - correction with taps 0 and no correction, i.e. dot = 2D (exact in float: |2D| <= 2^25,
// even), and y = fl(fl(m' * 2D) + b) with m' = fl(m / 2). When m / 2 is exact (every m but some subnormals)
// m' * 2D = m * D as real numbers, so fl(m' * 2D) = fl(m * D): the result is exactly fl(fl(m * D) + b),
// clamped. Channels with an inexact half make prepare choose bconv_levels_f32 (plain scalar D -> float).
//
// Bit-serial GEMM (where the chosen bgemm tile has a serial twin: AVX-512, aarch64 NEON, scalar). Cost on
// AVX-512 (Zen 5, bench_kernels bconv3x3_levels, 56x56x64 W1A2, rdtsc per stage): with one GEMM per plane
// the GEMMs took 57% (2.05x W1A1's GEMM: planes x W1A1, as expected) but the combine step 37% - more than
// all of W1A1 - a scalar-ISA pass multiplying every popcount by its coefficient (W2A2: 38%). The serial
// ukernel instead runs every (activation plane i, weight plane j) term over the same tile, doubling its
// accumulators in registers between terms of falling weight c_i 2^j (Horner), and stores
// S = sum_ij c_i 2^j P_ij once per output channel. All that D needs besides S is per channel and padding
// class: dot_scale * D = -2 S - corr with dot_scale = -2 / alpha and
// corr = dot_scale * (neg_const_o + neg_gamma * Wpad_o(class)), a row per class built at prepare; so the
// binary path's own f32 transform (taps 0, a correction row for every pixel, multiplier m / dot_scale,
// exact as the half multipliers above are) finishes the job and no combine pass remains. Needs
// m / dot_scale exact for every channel (dot_scale 1 or -1 always; 2 or -2 as above); else the combine path.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "bconv/bconv-impl.h"
#include "onebit/kernels/bit_contract.h"
#include "onebit/pool.h"
#include "util/bits.h"

namespace onebit::kernels {
namespace {

long max_abs_level(const BConvGeometry& g) { return core::max_abs_level(g.act_kind, g.act_bits, g.act_zero_level); }

// dot_multiplier = multiplier / scale (scale 1, -1, 2 or -2); whether every one is exact (NaN multipliers
// stay NaN: exact enough, they give NaN either way).
bool set_dot_multipliers(BConvPlan& p, int32_t scale) {
  const size_t out_c = static_cast<size_t>(p.g.out_c);
  p.dot_scale = scale;
  p.dot_multiplier.resize(out_c);
  p.dot_exact = true;
  for (size_t o = 0; o < out_c; ++o) {
    const float m = p.multiplier[o];
    const float scaled = m / static_cast<float>(scale);
    p.dot_multiplier[o] = scaled;
    if (m == m && scaled * static_cast<float>(scale) != m) p.dot_exact = false;
  }
  return p.dot_exact;
}

// The bit-serial GEMM's terms and correction rows (bconv-impl.h). Term (i, j) weighs c_i 2^j = 2^e with
// e = log2(c_i) + j (c_i is 2^i, or 1 for Ternary); Horner takes them by decreasing e, shifting by the drop.
// dot = -2 S - corr = dot_scale * D = dot_scale (alpha S - neg_const - neg_gamma Wpad) with
// dot_scale * alpha = -2, so corr = dot_scale * (neg_const + neg_gamma * Wpad) (Wpad = 0 inside the image).
void serial_prepare(BConvPlan& p, const int32_t* c) {
  struct Term { int i, j, e; };
  Term terms[8];
  size_t count = 0;
  for (int i = 0; i < p.planes; ++i) {
    const int ci_log2 = c[i] == 1 ? 0 : c[i] == 2 ? 1 : c[i] == 4 ? 2 : 3;
    for (int j = 0; j < p.weight_bits; ++j) terms[count++] = Term{i, j, ci_log2 + j};
  }
  std::stable_sort(terms, terms + count, [](const Term& x, const Term& y) { return x.e > y.e; });
  p.terms.assign(1, onebit_bgemm_terms{});
  onebit_bgemm_terms& out = p.terms[0];
  out.count = count;
  for (size_t t = 0; t < count; ++t) {
    out.a_offset[t] = static_cast<size_t>(terms[t].i);
    out.w_offset[t] = static_cast<size_t>(terms[t].j) * p.plane_chunks;
    out.shift[t] = t == 0 ? 0u : static_cast<uint32_t>(terms[t - 1].e - terms[t].e);
  }
  const size_t out_c = static_cast<size_t>(p.g.out_c);
  p.gemm_n = out_c;
  p.gemm_n_g = p.cout_g;
  const size_t rows = p.correction.empty() ? 1 : p.correction.size() / out_c;
  p.serial_correction.resize(rows * out_c);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t o = 0; o < out_c; ++o) {
      const int32_t wpad = r == 0 ? 0 : p.correction[r * out_c + o];  // row 0: class (0, 0), all taps real
      p.serial_correction[r * out_c + o] = p.dot_scale * (p.neg_const[o] + p.neg_gamma * wpad);
    }
  }
}

}  // namespace

Text bconv_levels_validate(const BConvGeometry& g, bool bitpacked) {
  const char* kind = core::level_kind_name(g.act_kind);
  switch (g.act_kind) {
    case LevelKind::kBinary:
      if (g.act_bits != 1) return cat("act_bits must be 1 for Binary activations (got ", num(g.act_bits), ")");
      break;
    case LevelKind::kUnipolar:
    case LevelKind::kBipolar:
      if (g.act_bits < 1 || g.act_bits > 4)
        return cat("act_bits must be 1..4 for ", kind, " activations (got ", num(g.act_bits), ")");
      break;
    case LevelKind::kTernary:
      if (g.act_bits != 2) return cat("act_bits must be 2 for Ternary activations (got ", num(g.act_bits), ")");
      break;
    default: return cat("unknown act_kind ", num(static_cast<int>(g.act_kind)));
  }
  if (g.act_kind == LevelKind::kUnipolar && (g.act_zero_level < 0 || g.act_zero_level > (1 << g.act_bits) - 1)) {
    return cat("act_zero_level must be in [0, ", num((1 << g.act_bits) - 1), "] for ", num(g.act_bits),
               "-bit Unipolar activations (got ", num(g.act_zero_level), ")");
  }
  if (g.weight_bits != 1 && g.weight_bits != 2)
    return cat("weight_bits must be 1 (Binary) or 2 (Bipolar) (got ", num(g.weight_bits), ")");
  if (g.act_kind == LevelKind::kBinary && g.weight_bits == 1) return "";  // binary x binary: the binary path
  const auto what = [&](auto... tail) {
    return cat(num(g.act_bits), "-bit ", kind, " activations x ", num(g.weight_bits), "-bit weights", tail...);
  };
  if (g.pad_mode != PadMode::kZero) return what(" need pad_mode kZero (padded taps are level 0)");
  if (bitpacked) return what(" have float output only (bitpacked output needs binary x binary)");
  const long bound = g.taps() * max_abs_level(g) * (g.weight_bits == 1 ? 1 : 3);
  if (bound > (1L << 24)) {
    return what(": taps * max|L_x| * max|L_w| = ", num(g.taps()), " * ", num(max_abs_level(g)), " * ",
                num(g.weight_bits == 1 ? 1 : 3), " = ", num(bound), " exceeds 2^24 (the dot would not be exact in float)");
  }
  return "";
}

const BConvLevelOps kBConvLevelOps = {bconv_levels_combine, bconv_levels_f32};

void bconv_levels_prepare(BConvPlan& p, const uint32_t* weights) {
  p.level_ops = &kBConvLevelOps;
  const BConvGeometry& g = p.g;
  const int k = g.act_bits, wb = g.weight_bits;
  const int32_t K = p.taps;
  const int32_t sigma = wb == 1 ? 1 : -1;
  const int32_t top_x = (1 << k) - 1, top_w = (1 << wb) - 1;
  const size_t out_c = static_cast<size_t>(g.out_c);
  // Weight constants B_j(o) (popcount of plane j over the window) -> Bw_o and Wsum_o.
  Vec<int32_t> bw(out_c, 0), wsum(out_c, 0);
  for (size_t j = 0; j < static_cast<size_t>(wb); ++j) {
    for (size_t o = 0; o < out_c; ++o) {
      const uint32_t* w = weights + (j * out_c + o) * p.row_words;
      int32_t ones = 0;
      for (size_t i = 0; i < p.row_words; ++i) ones += popcount32(w[i]);  // padding bits already masked
      bw[o] += (int32_t{1} << j) * ones;
      wsum[o] += sigma * (int32_t{1} << j) * (K - 2 * ones);
    }
  }
  int32_t alpha = 0, gamma = 0;
  int32_t c[4] = {1, 2, 4, 8};
  p.neg_const.assign(out_c, 0);
  for (int i = 0; i < 4; ++i) p.fill_ones[i] = false;
  switch (g.act_kind) {
    case LevelKind::kUnipolar: {
      const int32_t z = g.act_zero_level;
      alpha = sigma;
      for (size_t o = 0; o < out_c; ++o) p.neg_const[o] = sigma * top_x * bw[o] + z * wsum[o];
      for (int i = 0; i < k; ++i) p.fill_ones[i] = ((z >> i) & 1) != 0;
      break;
    }
    case LevelKind::kTernary:
      alpha = -sigma;
      c[0] = c[1] = 1;
      for (size_t o = 0; o < out_c; ++o) p.neg_const[o] = -sigma * top_w * K;
      p.fill_ones[1] = true;  // padding = (0, 1) = level 0
      break;
    default: {  // Bipolar, Binary: no zero level, 0-bit fill and the correction table
      const int32_t sigma_x = g.act_kind == LevelKind::kBinary ? 1 : -1;
      alpha = -2 * sigma_x * sigma;
      gamma = -sigma_x * top_x;
      for (size_t o = 0; o < out_c; ++o) p.neg_const[o] = -sigma_x * sigma * top_x * top_w * K;
      break;
    }
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j) p.neg_coef[i][j] = i < k && j < wb ? -alpha * c[i] * (int32_t{1} << j) : 0;
  p.neg_gamma = -gamma;
  // Bit-serial GEMM when the ukernel has a twin and m / dot_scale is exact (dot = -2S - corr = dot_scale * D
  // with dot_scale = -2 / alpha), else the combine step (dot = 2D).
  p.serial = p.gemm.serial_ukernel != nullptr && !p.row_weights && set_dot_multipliers(p, -2 / alpha);
  if (!p.serial) set_dot_multipliers(p, 2);
  if (p.serial) serial_prepare(p, c);
}

// Scalar C++ written so that the compiler vectorizes the inner loops over output channels. Every
// coefficient has alpha's sign and a power-of-two magnitude (|alpha| c_i 2^j), so the popcounts are summed
// with shifts and adds, -D = sign * sum_ij (P_ij << e_ij) + neg_const + neg_gamma * correction: no int32
// multiply per popcount, which baseline x86-64 (SSE2, how this file is compiled) lacks.
// Channels [c0, c1): group grp contributes its channels [lo, hi) = [c0, c1) n [grp * cout_g, (grp + 1) * cout_g).
void bconv_levels_combine(const BConvPlan& p, size_t mb, size_t c0, size_t c1, const int32_t* popcounts,
                          const int32_t* const* corrections, int32_t* neg_dots) {
  const size_t out_c = static_cast<size_t>(p.g.out_c), cout_g = p.cout_g, groups = static_cast<size_t>(p.g.groups);
  const size_t plane_stride = p.block_m * p.gemm_n;
  const int32_t* __restrict neg_const = p.neg_const.data();
  const int32_t neg_gamma = p.neg_gamma;
  const bool negative = p.neg_coef[0][0] < 0;
  int shift[4][2] = {};
  for (int i = 0; i < p.planes; ++i)
    for (int j = 0; j < p.weight_bits; ++j)
      while ((int32_t{1} << shift[i][j]) < std::abs(p.neg_coef[i][j])) ++shift[i][j];
  for (size_t px = 0; px < mb; ++px) {
    int32_t* __restrict d = neg_dots + px * out_c;
    for (size_t o = c0; o < c1; ++o) d[o] = 0;
    for (int i = 0; i < p.planes; ++i) {
      const int32_t* row = popcounts + static_cast<size_t>(i) * plane_stride + px * p.gemm_n;
      for (int j = 0; j < p.weight_bits; ++j) {
        const int e = shift[i][j];
        for (size_t grp = 0; grp < groups; ++grp) {
          const size_t lo = std::max(c0, grp * cout_g), hi = std::min(c1, (grp + 1) * cout_g);
          if (lo >= hi) continue;
          // Column of channel o in group grp: grp * gemm_n_g + j * cout_g + (o - grp * cout_g).
          const int32_t* __restrict src = row + grp * p.gemm_n_g + static_cast<size_t>(j) * cout_g + (lo - grp * cout_g);
          int32_t* __restrict dst = d + lo;
          for (size_t o = 0; o < hi - lo; ++o) dst[o] += src[o] << e;
        }
      }
    }
    if (negative) {
      for (size_t o = c0; o < c1; ++o) d[o] = neg_const[o] - d[o];
    } else {
      for (size_t o = c0; o < c1; ++o) d[o] += neg_const[o];
    }
    const int32_t* __restrict corr = corrections != nullptr ? corrections[px] : nullptr;
    if (corr != nullptr) {
      for (size_t o = c0; o < c1; ++o) d[o] += neg_gamma * corr[o];
    }
  }
}

void bconv_levels_f32(const BConvPlan& p, size_t mb, size_t c0, size_t c1, const int32_t* neg_dots,
                      const float* residual, float* out) {
  const size_t out_c = static_cast<size_t>(p.g.out_c);
  for (size_t px = 0; px < mb; ++px) {
    for (size_t o = c0; o < c1; ++o) {
      const float product = p.multiplier[o] * static_cast<float>(-neg_dots[px * out_c + o]);
      float y = product + p.bias[o];
      if (residual != nullptr) y = y + residual[px * out_c + o];
      out[px * out_c + o] = std::min(std::max(y, p.clamp_min), p.clamp_max);
    }
  }
}

}  // namespace onebit::kernels
