// How the builder stores weights: the layout conversions done here (and only here) from the training
// framework's order to the file format's.
//  - Float layers (Weights): OIHW -> OHWI (the element order XNNPACK and the format use; a fully connected
//    layer is the 1x1 case, [out][in] unchanged), then Float32 bytes, Float16 halves (float_to_half), Int8
//    bytes, or 1 bit per weight packed along I (BWN).
//  - Binary layers: OIHW ±1 floats -> OHWI packed along I (bit 1 = -1, see bit_contract.h); FC weights
//    [out][in] -> packed rows; 2-bit Bipolar weights -> level indices q = (L + 3) / 2, packed planes-major
//    (plane i = bit i of q, each plane a whole packed OHWI tensor, bit_contract.h "k-bit tensors").
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph.h"
#include "onebit/builder/model_builder.h"

namespace onebit::weight_encoding {

/// OIHW -> OHWI for o_n x i_n x kh x kw elements.
template <typename T>
std::vector<T> oihw_to_ohwi(const std::vector<T>& w, int o_n, int i_n, int kh, int kw) {
  std::vector<T> r(w.size());
  for (int o = 0; o < o_n; ++o)
    for (int i = 0; i < i_n; ++i)
      for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
          r[((size_t(o) * kh + y) * kw + x) * i_n + i] = w[((size_t(o) * i_n + i) * kh + y) * kw + x];
  return r;
}

/// The bytes of a Float32 / BitPacked constant, in host byte order (what the runtime reads them as).
std::vector<uint8_t> float_bytes(const std::vector<float>& v);
std::vector<uint8_t> word_bytes(const std::vector<uint32_t>& v);

/// The constant a float layer's weights become: its dtype and bytes.
struct StoredWeights {
  fb::DType dtype = fb::DType::Float32;
  std::vector<uint8_t> bytes;
};
/// w's weights (o_n x i_n x kh x kw, OIHW) in the storage w asks for, OHWI. w.count() must be their number.
StoredWeights store(const Weights& w, int o_n, int i_n, int kh, int kw);

/// The BitPacked weights of a binary layer: the words and the levels the tensor carries.
struct PackedWeights {
  std::vector<uint32_t> words;
  rt::TensorLevels levels;
};
/// `rows` rows of `cols` values (row-major, already OHW-major / I-minor) as Binary weights (weight_bits 1:
/// signs, w < 0 means -1) or Bipolar 2-bit weights (weight_bits 2: the nearest of {-3, -1, 1, 3}, ties
/// toward +inf), packed rows of packed_words(cols).
PackedWeights pack_binary(const std::vector<float>& v, size_t rows, size_t cols, int weight_bits);

}  // namespace onebit::weight_encoding
