// Small matching helpers shared by the rules.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace onebit::converter {

/// Producer of `v` if it is a live node of type `op`, else nullptr.
const Node* producer_of(const Graph& g, ValueId v, const char* op);
/// Id of the producer of `v` (kNoId for constants and graph inputs).
inline NodeId producer_id(const Graph& g, ValueId v) { return v == kNoId ? kNoId : g.value(v).producer; }

/// Constant `v` read as `channels` per-channel values along ONNX axis 1 of a rank-`rank` tensor that it
/// broadcasts against: a scalar, or a tensor whose only non-1 dim is axis 1 with `channels` entries.
bool per_channel(const Graph& g, ValueId v, int64_t channels, size_t rank, std::vector<float>* out);
/// Constant `v` whose every element equals `x`.
bool all_equal(const Graph& g, ValueId v, float x);
/// A finite one-element constant, as a double.
bool scalar_const(const Graph& g, ValueId v, double* c);
/// A binary conv that also writes the bits of its float output (its second output; rules/binary_fusion.cc):
/// its output transform and its readers are fixed from then on.
inline bool writes_bits_too(const Node& conv) { return conv.out(1) != kNoId; }

/// Clip bounds from constant inputs (missing: ±inf). False when a bound is not a constant scalar, or when
/// the bounds make no range (clip_bounds_problem says why): no rule may treat such a Clip as a clamp.
bool clip_bounds(const Graph& g, const Node& clip, float* lo, float* hi);
/// Why a Clip's constant bounds make no clamp onebit converts, "" when they do (or are not constant): min > max
/// (ONNX defines every output as max then, a constant), min == max (a constant too) or a NaN bound.
std::string clip_bounds_problem(const Graph& g, const Node& clip);
/// Walks back from `v` through live producers, at most `max_depth` of them, while step(producer, its output,
/// &input) accepts the producer and names the input to continue from; returns the value where it stopped.
ValueId walk_producers(const Graph& g, ValueId v, int max_depth,
                       const std::function<bool(const Node&, ValueId, ValueId*)>& step);
/// Shape of `v` when known, else empty.
const std::vector<int64_t>* known_shape(const Graph& g, ValueId v);
/// A float constant of shape [c] (per-channel vectors of onebit ops).
ValueId vector_constant(Graph& g, const std::string& name, std::vector<float> v);
/// Splits `w` ([out][rest]) into ±1 signs and per-output magnitudes (the mean |w| of the row); false, with
/// *why naming the first offending output channel and weights, if a row is not ±s (or holds an exact 0).
bool split_sign_magnitude(const std::vector<float>& w, int64_t out, std::vector<float>* signs, std::vector<float>* mag,
                          std::string* why);
/// The constant B of a Gemm (alpha applied, transA = 0) or MatMul as an [out][in] matrix; false if B is not a
/// constant float matrix or transA is set.
bool fc_weight_matrix(const Graph& g, const Node& n, std::vector<float>* w, int64_t* out, int64_t* k);
/// BatchNormalization with constant parameters as y = scale * x + shift per channel.
bool batch_norm_affine(const Graph& g, const Node& bn, std::vector<float>* scale, std::vector<float>* shift);

}  // namespace onebit::converter
