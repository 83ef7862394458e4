// A small vocabulary for building the converter tests' ONNX graphs on top of OnnxTestGraph (whose node() takes
// its attributes as a list, {{"transB", 1}, {"pads", {1, 1, 1, 1}}}): chains of nodes written as one list, and
// the layers the tests build again and again (a conv, a Pad, a pool, the Sign -> binary conv pair, a fully
// connected layer, a second float reader of a value, the small binary ResNets' residual block).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/rng.h"
#include "onnx_test_graph.h"

namespace onebit::testing {

// One node of a chain. `in` lists its inputs, `^` standing for the previous node's output (the chain's start
// for the first node); an empty `in` is {"^"}.
struct Link {
  Link(std::string op_, std::string name_, std::string out_, std::vector<std::string> in_ = {}, Attrs attrs_ = {})
      : op(std::move(op_)),
        name(std::move(name_)),
        out(std::move(out_)),
        in(std::move(in_)),
        attrs(std::move(attrs_)) {}
  std::string op, name, out;
  std::vector<std::string> in;
  Attrs attrs;
};

// Adds `links` to t, the first reading `from`; returns the last node's output.
inline std::string add_chain(OnnxTestGraph& t, const std::string& from, const std::vector<Link>& links) {
  std::string cur = from;
  for (const Link& l : links) {
    std::vector<std::string> in = l.in.empty() ? std::vector<std::string>{"^"} : l.in;
    for (std::string& v : in)
      if (v == "^") v = cur;
    t.node(l.op, in, {l.out}, l.name, l.attrs);
    cur = l.out;
  }
  return cur;
}

// Input x[x_shape] -> links -> the last link's output, the graph output.
inline OnnxTestGraph chain(const std::vector<int64_t>& x_shape, const std::vector<Link>& links) {
  OnnxTestGraph t;
  t.input("x", x_shape);
  t.output(add_chain(t, "x", links));
  return t;
}

// A square window's attributes: kernel k x k, stride on H and W (and the same pad on every side for a conv).
inline Attrs pool_attrs(int64_t k, int64_t stride) { return {{"kernel_shape", {k, k}}, {"strides", {stride, stride}}}; }
inline Attrs conv_attrs(int64_t k, int64_t stride, int64_t pad) {
  Attrs a = pool_attrs(k, stride);
  a.push_back({"pads", {pad, pad, pad, pad}});
  return a;
}

inline onnx::NodeProto& add_conv(OnnxTestGraph& t, const std::string& name, const std::vector<std::string>& inputs,
                                 const std::string& out, int64_t k, int64_t stride, int64_t pad) {
  return t.node("Conv", inputs, {out}, name, conv_attrs(k, stride, pad));
}

// Pad of H and W (by 1 on every side unless `pads` says otherwise) with `value`.
inline onnx::NodeProto& add_pad(OnnxTestGraph& t, const std::string& name, const std::string& in,
                                const std::string& out, float value,
                                std::vector<int64_t> pads = {0, 0, 1, 1, 0, 0, 1, 1}) {
  t.initializer_i64(name + ".pads", {8}, pads);
  t.initializer(name + ".value", {}, {value});
  return t.node("Pad", {in, name + ".pads", name + ".value"}, {out}, name);
}

inline onnx::NodeProto& add_pool(OnnxTestGraph& t, const std::string& op, const std::string& name,
                                 const std::string& in, const std::string& out, int64_t k, int64_t stride) {
  return t.node(op, {in}, {out}, name, pool_attrs(k, stride));
}

// in -> Sign (node `sign`, output value `sign`) -> Conv `conv` (weights `w` of w_shape [O, C, k, k], stride 1,
// pad k / 2, initializer `conv`.w) -> out: the binary conv the rules look for.
inline void add_sign_conv(OnnxTestGraph& t, const std::string& in, const std::string& sign, const std::string& conv,
                          const std::string& out, const std::vector<int64_t>& w_shape, const std::vector<float>& w) {
  t.node("Sign", {in}, {sign}, sign);
  t.initializer(conv + ".w", w_shape, w);
  add_conv(t, conv, {sign, conv + ".w"}, out, w_shape[2], 1, w_shape[2] / 2);
}

// Block A of the small binary ResNets (convert_graph_test, rules_driver_test): in -> BatchNormalization a.bn_in
// -> Sign a.sign -> binary conv a.conv (C -> C, 3x3, zero pad) -> Mul a.mul by alpha (per channel, uniform in
// [alpha_lo, alpha_hi)) -> BatchNormalization a.bn -> Add a.add with `in` -> out. `bn(name, in, out)` adds a
// BatchNormalization of C channels (each test draws its parameters its own way).
template <class AddBn>
void add_binary_residual_block(OnnxTestGraph& t, Rng& r, const AddBn& bn, const std::string& in, const std::string& out,
                               int64_t c, float alpha_lo, float alpha_hi) {
  bn("a.bn_in", in, "a.pre");
  add_sign_conv(t, "a.pre", "a.sign", "a.conv", "a.c", {c, c, 3, 3}, r.signs(size_t(c * c * 9)));
  t.initializer("a.alpha", {1, c, 1, 1}, r.uniform(size_t(c), alpha_lo, alpha_hi));
  t.node("Mul", {"a.c", "a.alpha"}, {"a.m"}, "a.mul");
  bn("a.bn", "a.m", "a.bnout");
  t.node("Add", {"a.bnout", in}, {out}, "a.add");
}

// A fully connected layer `name` with weights w_ok [O][K]: Gemm(transB = 1) on them, or MatMul on their
// transpose [K][O] (initializer `name`.w).
inline void add_fc(OnnxTestGraph& t, const std::string& name, const std::string& in, const std::string& out,
                   int64_t o_count, int64_t k_count, const std::vector<float>& w_ok, bool matmul = false) {
  if (!matmul) {
    t.initializer(name + ".w", {o_count, k_count}, w_ok);
    t.node("Gemm", {in, name + ".w"}, {out}, name, {{"transB", 1}});
    return;
  }
  std::vector<float> w_ko(w_ok.size());
  for (int64_t o = 0; o < o_count; ++o)
    for (int64_t k = 0; k < k_count; ++k) w_ko[size_t(k * o_count + o)] = w_ok[size_t(o * k_count + k)];
  t.initializer(name + ".w", {k_count, o_count}, w_ko);
  t.node("MatMul", {in, name + ".w"}, {out}, name);
}

// A second, float reader of `in`: Relu `name` -> z, a graph output.
inline void add_float_reader(OnnxTestGraph& t, const std::string& in, const std::string& name) {
  t.node("Relu", {in}, {"z"}, name);
  t.output("z");
}

}  // namespace onebit::testing
