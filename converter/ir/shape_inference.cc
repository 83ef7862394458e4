#include "ir/shape_inference.h"

#include <algorithm>
#include <set>

#include "ir/onebit_ops.h"
#include "ir/spatial.h"

namespace onebit::converter {

bool broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> r(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    r[i] = da == 1 ? db : da;
  }
  *out = r;
  return true;
}

void shape_op_range(const Node& n, int64_t rank, int64_t* begin, int64_t* end) {
  int64_t b = n.i("start"), e = std::min<int64_t>(n.i("end"), rank);
  if (b < 0) b += rank;
  if (e < 0) e += rank;
  *begin = std::clamp<int64_t>(b, 0, rank);
  *end = std::clamp<int64_t>(e, *begin, rank);
}

namespace {

const std::set<std::string>& unary_same_shape() {
  static const std::set<std::string> s = {"Relu", "Sign", "Abs", "Neg", "Sqrt", "Exp", "Log", "Round", "Floor", "Ceil",
                                          "Reciprocal", "Tanh", "Sigmoid", "HardSigmoid", "Erf", "LeakyRelu", "Clip",
                                          "Identity", "Dropout", "Softmax", "LogSoftmax", "BatchNormalization", "Not",
                                          "PRelu", ops::kDequantize, "QuantizeLinear", "DequantizeLinear"};
  return s;
}

const std::set<std::string>& broadcasting() {
  static const std::set<std::string> s = {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Min", "Max", "Sum", "Mean",
                                          "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or",
                                          "Xor", "Where"};
  return s;
}

bool is_comparison(const std::string& op) {
  return op == "Equal" || op == "Less" || op == "LessOrEqual" || op == "Greater" || op == "GreaterOrEqual" ||
         op == "And" || op == "Or" || op == "Xor" || op == "Not";
}

int64_t norm_axis(int64_t a, int64_t rank) { return a < 0 ? a + rank : a; }

class Inferer {
 public:
  explicit Inferer(Graph& g) : g_(g) {}

  // Output shapes of `n` (all input shapes known); false if this op's shape cannot be inferred yet.
  Status infer(const Node& n, std::vector<std::vector<int64_t>>* shapes, DType* dtype, bool* known);

 private:
  const std::vector<int64_t>& shape(ValueId v) const { return g_.value(v).shape; }
  const Tensor* constant(ValueId v) const { return g_.constant(v); }
  Graph& g_;
};

Status Inferer::infer(const Node& n, std::vector<std::vector<int64_t>>* shapes, DType* dtype, bool* known) {
  const std::string& op = n.op;
  *known = true;
  *dtype = n.inputs.empty() || n.in(0) == kNoId ? DType::kFloat : g_.value(n.in(0)).dtype;
  const std::vector<int64_t>& x = shape(n.in(0));
  auto one = [&](std::vector<int64_t> s) { shapes->assign(1, std::move(s)); return Status::Ok(); };
  auto err = [&](const std::string& why) { return Status::Error(n.describe() + ": " + why); };
  if (unary_same_shape().count(op)) {
    if (op == ops::kDequantize || op == "DequantizeLinear") *dtype = DType::kFloat;
    if (op == "QuantizeLinear") *dtype = DType::kInt64;
    if (op == "Not") *dtype = DType::kBool;
    shapes->assign(n.outputs.size(), x);
    if (op == "Dropout" && n.outputs.size() > 1) *dtype = DType::kFloat;  // the mask is bool; nothing reads it here
    return Status::Ok();
  }
  if (broadcasting().count(op)) {
    std::vector<int64_t> s = x;
    for (size_t k = 1; k < n.inputs.size(); ++k)
      if (!broadcast_shapes(s, shape(n.in(k)), &s))
        return err("operand shapes " + shape_str(x) + " and " + shape_str(shape(n.in(k))) + " do not broadcast");
    if (op == "Where") *dtype = g_.value(n.in(1)).dtype;
    if (is_comparison(op)) *dtype = DType::kBool;
    return one(s);
  }
  if (op == ops::kQuantize) {
    *dtype = DType::kBits;
    return one(x);
  }
  if (op == ops::kQuantizeLevels) {
    *dtype = DType::kLevels;
    return one(x);
  }
  if (op == "Conv" || op == ops::kBinaryConv2D || op == "MaxPool" || op == "AveragePool" || op == ops::kBinaryMaxPool2D) {
    const bool conv = op == "Conv" || op == ops::kBinaryConv2D;
    std::vector<int64_t> kernel;
    int64_t out_c = x.size() > 1 ? x[1] : 0;
    if (x.size() < 3) return err("input " + shape_str(x) + " has no spatial axes");
    if (conv) {
      const std::vector<int64_t>& w = shape(n.in(1));
      if (w.size() != x.size()) return err("weights " + shape_str(w) + " and input " + shape_str(x) + " differ in rank");
      kernel.assign(w.begin() + 2, w.end());
      out_c = w[0];
      const int64_t group = op == "Conv" ? n.i("group") : n.i("group");
      if (group < 1 || x[1] % group != 0 || w[1] * group != x[1] || out_c % group != 0)
        return err("input channels " + std::to_string(x[1]) + ", weight " + shape_str(w) + " and group " +
                   std::to_string(group) + " do not fit together");
    } else {
      kernel = n.ints("kernel_shape");
    }
    Spatial sp;
    if (op == ops::kBinaryConv2D || op == ops::kBinaryMaxPool2D) {
      // onebit ops carry explicit 2-D geometry (pads as top, left, bottom, right).
      const auto& p = n.ints("pads");
      std::vector<int64_t> s = {x[0], out_c};
      for (int d = 0; d < 2; ++d) {
        const int64_t dil = op == ops::kBinaryConv2D ? n.ints("dilations")[size_t(d)] : 1;
        const int64_t window = (kernel[size_t(d)] - 1) * dil + 1;
        s.push_back((x[size_t(d) + 2] + p[size_t(d)] + p[size_t(d) + 2] - window) / n.ints("strides")[size_t(d)] + 1);
      }
      if (op == ops::kBinaryConv2D) *dtype = g_.value(n.out()).dtype == DType::kBits ? DType::kBits : DType::kFloat;
      return one(s);
    }
    Status s = resolve_spatial(n, x, kernel, &sp);
    if (!s.ok()) return s;
    std::vector<int64_t> out = {x[0], out_c};
    out.insert(out.end(), sp.out.begin(), sp.out.end());
    shapes->assign(n.outputs.size(), out);
    return Status::Ok();
  }
  if (op == ops::kBinaryFullyConnected) {
    *dtype = g_.value(n.out()).dtype == DType::kBits ? DType::kBits : DType::kFloat;
    return one({x[0], shape(n.in(1))[0]});
  }
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    std::vector<int64_t> s = x;
    for (size_t d = 2; d < s.size(); ++d) s[d] = 1;
    return one(s);
  }
  if (op == "Gemm") {
    const std::vector<int64_t>& b = shape(n.in(1));
    if (x.size() != 2 || b.size() != 2) return err("Gemm needs rank-2 A and B, got " + shape_str(x) + " and " + shape_str(b));
    const int64_t m = n.i("transA") ? x[1] : x[0], ka = n.i("transA") ? x[0] : x[1];
    const int64_t kb = n.i("transB") ? b[1] : b[0], nn = n.i("transB") ? b[0] : b[1];
    if (ka != kb) return err("A " + shape_str(x) + " and B " + shape_str(b) + " disagree on K");
    return one({m, nn});
  }
  if (op == "MatMul") {
    std::vector<int64_t> a = x, b = shape(n.in(1));
    if (a.empty() || b.empty()) return err("MatMul of a scalar");
    const bool a1 = a.size() == 1, b1 = b.size() == 1;
    if (a1) a.insert(a.begin(), 1);
    if (b1) b.push_back(1);
    if (a.back() != b[b.size() - 2]) return err("operands " + shape_str(x) + " and " + shape_str(shape(n.in(1))) + " disagree on K");
    std::vector<int64_t> batch;
    if (!broadcast_shapes({a.begin(), a.end() - 2}, {b.begin(), b.end() - 2}, &batch)) return err("batch dims do not broadcast");
    if (!a1) batch.push_back(a[a.size() - 2]);
    if (!b1) batch.push_back(b.back());
    return one(batch);
  }
  if (op == "Flatten") {
    const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r);
    if (axis < 0 || axis > r) return err("axis " + std::to_string(n.i("axis")) + " out of range for rank " + std::to_string(r));
    int64_t a = 1, b = 1;
    for (int64_t d = 0; d < r; ++d) (d < axis ? a : b) *= x[size_t(d)];
    return one({a, b});
  }
  if (op == "Reshape") {
    const Tensor* t = constant(n.in(1));
    if (t == nullptr) { *known = false; return Status::Ok(); }
    std::vector<int64_t> s;
    int64_t infer = -1, prod = 1;
    for (int64_t k = 0; k < t->elements(); ++k) {
      int64_t d = t->as_int(k);
      if (d == 0 && !n.i("allowzero")) {
        if (size_t(k) >= x.size()) return err("shape entry 0 at " + std::to_string(k) + " copies a dim the input lacks");
        d = x[size_t(k)];
      }
      if (d == -1) {
        if (infer >= 0) return err("shape has more than one -1");
        infer = k;
      } else if (d < 0) {
        return err("shape entry " + std::to_string(d) + " is invalid");
      } else {
        prod *= d;
      }
      s.push_back(d);
    }
    const int64_t total = shape_elements(x);
    if (infer >= 0) {
      if (prod == 0 || total % prod != 0) return err("cannot infer -1: " + std::to_string(total) + " elements into " + shape_str(s));
      s[size_t(infer)] = total / prod;
    } else if (prod != total) {
      return err("reshapes " + std::to_string(total) + " elements " + shape_str(x) + " to " + shape_str(s));
    }
    return one(s);
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    const Tensor* t = n.in(1) == kNoId ? nullptr : constant(n.in(1));
    if (n.in(1) != kNoId && t == nullptr) { *known = false; return Status::Ok(); }
    std::set<int64_t> axes;
    const int64_t rank = op == "Squeeze" ? int64_t(x.size()) : int64_t(x.size()) + (t ? t->elements() : 0);
    for (int64_t k = 0; t && k < t->elements(); ++k) {
      const int64_t a = norm_axis(t->as_int(k), rank);
      if (a < 0 || a >= rank || !axes.insert(a).second) return err("axes entry " + std::to_string(t->as_int(k)) + " is out of range or repeated");
    }
    std::vector<int64_t> s;
    if (op == "Squeeze") {
      for (int64_t d = 0; d < rank; ++d) {
        const bool drop = axes.empty() ? x[size_t(d)] == 1 : axes.count(d) != 0;
        if (drop && x[size_t(d)] != 1) return err("squeezes axis " + std::to_string(d) + " of size " + std::to_string(x[size_t(d)]));
        if (!drop) s.push_back(x[size_t(d)]);
      }
    } else {
      size_t k = 0;
      for (int64_t d = 0; d < rank; ++d) s.push_back(axes.count(d) ? 1 : x[k++]);
    }
    return one(s);
  }
  if (op == "Concat") {
    const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r);
    if (axis < 0 || axis >= r) return err("axis out of range");
    std::vector<int64_t> s = x;
    for (size_t k = 1; k < n.inputs.size(); ++k) {
      const auto& y = shape(n.in(k));
      if (y.size() != x.size()) return err("inputs differ in rank");
      for (int64_t d = 0; d < r; ++d)
        if (d != axis && y[size_t(d)] != x[size_t(d)]) return err("inputs " + shape_str(x) + " and " + shape_str(y) + " differ off the concat axis");
      s[size_t(axis)] += y[size_t(axis)];
    }
    return one(s);
  }
  if (op == "Pad") {
    const Tensor* p = constant(n.in(1));
    if (p == nullptr || (n.in(3) != kNoId && constant(n.in(3)) == nullptr)) { *known = false; return Status::Ok(); }
    const int64_t r = int64_t(x.size());
    std::vector<int64_t> axes;
    if (n.in(3) != kNoId)
      for (int64_t k = 0; k < constant(n.in(3))->elements(); ++k) axes.push_back(norm_axis(constant(n.in(3))->as_int(k), r));
    else
      for (int64_t d = 0; d < r; ++d) axes.push_back(d);
    if (p->elements() != 2 * int64_t(axes.size())) return err("pads has " + std::to_string(p->elements()) + " values; expected " + std::to_string(2 * axes.size()));
    std::vector<int64_t> s = x;
    for (size_t k = 0; k < axes.size(); ++k) {
      if (axes[k] < 0 || axes[k] >= r) return err("axes out of range");
      s[size_t(axes[k])] += p->as_int(int64_t(k)) + p->as_int(int64_t(k + axes.size()));
      if (s[size_t(axes[k])] < 0) return err("pads crop axis " + std::to_string(axes[k]) + " below 0");
    }
    return one(s);
  }
  if (op == "Slice") {
    for (size_t k = 1; k < n.inputs.size(); ++k)
      if (n.in(k) != kNoId && constant(n.in(k)) == nullptr) { *known = false; return Status::Ok(); }
    const Tensor* st = constant(n.in(1));
    const Tensor* en = constant(n.in(2));
    const Tensor* ax = n.in(3) == kNoId ? nullptr : constant(n.in(3));
    const Tensor* sp = n.in(4) == kNoId ? nullptr : constant(n.in(4));
    const int64_t r = int64_t(x.size()), count = st->elements();
    if (en->elements() != count || (ax && ax->elements() != count) || (sp && sp->elements() != count))
      return err("starts, ends, axes and steps differ in length");
    std::vector<int64_t> s = x;
    for (int64_t k = 0; k < count; ++k) {
      const int64_t a = ax ? norm_axis(ax->as_int(k), r) : k;
      if (a < 0 || a >= r) return err("axis out of range");
      const int64_t dim = x[size_t(a)], step = sp ? sp->as_int(k) : 1;
      if (step == 0) return err("step 0");
      int64_t b = st->as_int(k), e = en->as_int(k);
      if (b < 0) b += dim;
      if (e < 0) e += dim;
      if (step > 0) {
        b = std::clamp<int64_t>(b, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        s[size_t(a)] = e > b ? (e - b + step - 1) / step : 0;
      } else {
        b = std::clamp<int64_t>(b, -1, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        s[size_t(a)] = b > e ? (b - e - step - 1) / -step : 0;
      }
    }
    return one(s);
  }
  if (op == "Transpose") {
    std::vector<int64_t> perm = n.ints("perm");
    if (perm.empty())
      for (size_t d = x.size(); d-- > 0;) perm.push_back(int64_t(d));
    if (perm.size() != x.size()) return err("perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(x.size()));
    std::vector<int64_t> s;
    std::set<int64_t> seen;
    for (int64_t p : perm) {
      if (p < 0 || p >= int64_t(x.size()) || !seen.insert(p).second) return err("perm is not a permutation");
      s.push_back(x[size_t(p)]);
    }
    return one(s);
  }
  if (op.rfind("Reduce", 0) == 0) {
    const Tensor* t = n.in(1) == kNoId ? nullptr : constant(n.in(1));
    if (n.in(1) != kNoId && t == nullptr) { *known = false; return Status::Ok(); }
    const int64_t r = int64_t(x.size());
    std::set<int64_t> axes;
    for (int64_t k = 0; t && k < t->elements(); ++k) {
      const int64_t a = norm_axis(t->as_int(k), r);
      if (a < 0 || a >= r) return err("axis out of range");
      axes.insert(a);
    }
    if (axes.empty() && n.i("noop_with_empty_axes")) return one(x);
    std::vector<int64_t> s;
    for (int64_t d = 0; d < r; ++d) {
      const bool reduced = axes.empty() || axes.count(d);
      if (!reduced) s.push_back(x[size_t(d)]);
      else if (n.i("keepdims")) s.push_back(1);
    }
    return one(s);
  }
  if (op == "Shape") {
    int64_t b, e;
    shape_op_range(n, int64_t(x.size()), &b, &e);
    *dtype = DType::kInt64;
    return one({e - b});
  }
  if (op == "Size") {
    *dtype = DType::kInt64;
    return one({});
  }
  if (op == "Cast") {
    const int64_t to = n.i("to");
    *dtype = to == 9 ? DType::kBool : (to == 1 || to == 10 || to == 11 || to == 16) ? DType::kFloat : DType::kInt64;
    return one(x);
  }
  if (op == "Expand") {
    const Tensor* t = constant(n.in(1));
    if (t == nullptr) { *known = false; return Status::Ok(); }
    std::vector<int64_t> target, s;
    for (int64_t k = 0; k < t->elements(); ++k) target.push_back(t->as_int(k));
    if (!broadcast_shapes(x, target, &s)) return err("cannot expand " + shape_str(x) + " to " + shape_str(target));
    return one(s);
  }
  if (op == "Gather") {
    const int64_t r = int64_t(x.size()), axis = norm_axis(n.i("axis"), r);
    if (axis < 0 || axis >= r) return err("axis out of range");
    const auto& idx = shape(n.in(1));
    std::vector<int64_t> s(x.begin(), x.begin() + axis);
    s.insert(s.end(), idx.begin(), idx.end());
    s.insert(s.end(), x.begin() + axis + 1, x.end());
    return one(s);
  }
  *known = false;
  return Status::Ok();
}

// Infers the outputs of one node whose input shapes are known (no-op otherwise).
Status infer_node(Graph& g, Inferer& inferer, NodeId id) {
  const Node& n = g.node(id);
  if (n.dead) return Status::Ok();
  bool inputs_known = true;
  for (ValueId v : n.inputs) inputs_known = inputs_known && (v == kNoId || g.value(v).shape_known);
  if (!inputs_known) return Status::Ok();
  std::vector<std::vector<int64_t>> shapes;
  DType dtype = DType::kFloat;
  bool known = false;
  Status s = inferer.infer(n, &shapes, &dtype, &known);
  if (!s.ok()) return s;
  if (!known) return Status::Ok();
  for (size_t k = 0; k < n.outputs.size() && k < shapes.size(); ++k) {
    if (n.outputs[k] == kNoId) continue;
    Value& v = g.value(n.outputs[k]);
    for (int64_t d : shapes[k])
      if (d < 0 || d > (int64_t(1) << 31) - 1)
        return Status::Error(n.describe() + ": output '" + v.name + "' would have shape " + shape_str(shapes[k]) +
                             "; dims must be 0 .. 2^31-1");
    const int64_t elements = shape_elements(shapes[k]);
    if (elements < 0 || elements > (int64_t(1) << 31) - 1)
      return Status::Error(n.describe() + ": output '" + v.name + "' would have shape " + shape_str(shapes[k]) +
                           ", more than 2^31 - 1 elements");
    if (v.onnx_shape_known) {
      bool agree = v.onnx_shape.size() == shapes[k].size();
      for (size_t d = 0; agree && d < shapes[k].size(); ++d)
        agree = v.onnx_shape[d] < 0 || v.onnx_shape[d] == shapes[k][d];
      if (!agree)
        return Status::Error(n.describe() + ": output '" + v.name + "' has shape " + shape_str(shapes[k]) +
                             " by onebit's inference but " + shape_str(v.onnx_shape) +
                             " by ONNX's; the converter will not guess which is right");
    }
    v.shape = shapes[k];
    v.shape_known = true;
    if (!v.is_constant() && !(k > 0 && n.op == "Dropout")) v.dtype = dtype;
    if (n.op == ops::kQuantizeLevels && !v.is_constant()) v.levels = ops::quantize_levels_of(n);
  }
  return Status::Ok();
}

}  // namespace

namespace ops {

Levels quantize_levels_of(const Node& n) {
  Levels l;
  l.kind = n.s("kind") == "ternary" ? LevelKind::kTernary : n.s("kind") == "bipolar" ? LevelKind::kBipolar : LevelKind::kUnipolar;
  l.bits = int(n.i("bits"));
  l.zero_level = int(n.i("zero_level"));
  l.scale = n.has("level_scale") ? n.f("level_scale") : 1.0f;
  return l;
}

void set_quantize_levels(Node* n, const Levels& l) {
  n->attrs["kind"] = Attr::String(l.kind == LevelKind::kTernary ? "ternary" : l.kind == LevelKind::kBipolar ? "bipolar" : "unipolar");
  n->attrs["bits"] = Attr::Int(l.bits);
  n->attrs["zero_level"] = Attr::Int(l.zero_level);
  n->attrs["level_scale"] = Attr::Float(l.scale);
}

}  // namespace ops

Status infer_shapes(Graph* graph) {
  Graph& g = *graph;
  std::vector<NodeId> order;
  std::string cycle;
  if (!g.topo_order(&order, &cycle)) return Status::Error(cycle + ": the graph has a cycle");
  Inferer inferer(g);
  for (NodeId id : order) {
    Status s = infer_node(g, inferer, id);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status infer_shapes_of(Graph* graph, const std::vector<NodeId>& nodes) {
  Inferer inferer(*graph);
  for (NodeId id : nodes) {
    Status s = infer_node(*graph, inferer, id);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace onebit::converter
