#include "emit/emit.h"

#include <cmath>

#include "emit/emitter.h"
#include "ir/onebit_ops.h"
#include "ops/op_def.h"
#include "rules/match.h"

namespace onebit::converter {

std::vector<int> nhwc(const std::vector<int64_t>& s) {
  if (s.size() == 4) return {int(s[0]), int(s[2]), int(s[3]), int(s[1])};
  return std::vector<int>(s.begin(), s.end());
}

int onebit_axis(int64_t axis, int rank) {
  if (axis < 0) axis += rank;
  if (rank != 4) return int(axis);
  static const int map[4] = {0, 3, 1, 2};
  return axis >= 0 && axis < 4 ? map[axis] : -1;
}

void Emitter::record(const std::string& node, const std::string& what) {
  std::string& slot = report_.emitted[node];
  slot = slot.empty() ? what : slot + " + " + what;
}

int64_t Emitter::elements(int id) const {
  int64_t n = 1;
  for (int d : b_.shape(id)) n *= d;
  return n;
}

Status Emitter::shape(ValueId v, const Node& at, std::vector<int64_t>* s) const {
  if (v != kNoId && g_.value(v).shape_known) {
    *s = g_.value(v).shape;
    return Status::Ok();
  }
  return Status::Error(at.describe() + ": tensor '" + (v == kNoId ? std::string("?") : g_.value(v).name) +
                       "' has a shape the converter could not infer (it depends on an op whose output size is "
                       "data-dependent, or on values that could not be folded)");
}

Status Emitter::run() {
  ids_.assign(g_.value_count(), -1);
  for (ValueId in : g_.inputs) {
    const std::vector<int64_t>& s = g_.value(in).shape;
    if (s.size() != 4 && s.size() != 2)
      return Status::Error("graph input '" + g_.value(in).name + "' has rank " + std::to_string(s.size()) +
                           "; expected NCHW or [N, C]");
    set(in, b_.add_input(g_.value(in).name, nhwc(s)));
  }
  std::vector<NodeId> order;
  std::string cycle;
  if (!g_.topo_order(&order, &cycle)) return Status::Error(cycle + ": the graph has a cycle");
  // Ops with no onebit operator are named first, before any other layer's error: what the user must change
  // is that op (a fold-only op such as TopK left on activations), not the layer that reads it.
  for (NodeId id : order) {
    const OpDef* def = find_op(g_.node(id).op);
    if (def == nullptr || def->emit == nullptr) return not_emitted(g_.node(id));
  }
  for (NodeId id : order) {
    ONEBIT_RETURN_IF_ERROR(emit(g_.node(id)));
  }
  for (ValueId out : g_.outputs) {
    if (g_.value(out).dtype != DType::kFloat) return Status::Error("graph output '" + g_.value(out).name + "' is not a float tensor");
    if (g_.value(out).is_constant() || ids_[size_t(out)] < 0)
      return Status::Error("graph output '" + g_.value(out).name + "' is a constant; onebit models compute their outputs");
    b_.mark_output(ids_[size_t(out)]);
  }
  return Status::Ok();
}

Status Emitter::emit(const Node& n) {
  for (ValueId v : n.outputs)
    if (v != kNoId && !g_.value(v).shape_known) {
      std::vector<int64_t> s;
      return shape(v, n, &s);
    }
  const OpDef* def = find_op(n.op);
  if (def != nullptr && def->emit != nullptr) return def->emit(*this, n);
  return not_emitted(n);
}

Status Emitter::not_emitted(const Node& n) const {
  bool constant_inputs = !n.inputs.empty();
  for (ValueId v : n.inputs) constant_inputs = constant_inputs && (v == kNoId || g_.value(v).is_constant());
  if (constant_inputs)
    return Status::Error(n.describe() + ": all its inputs are constant but onebit-convert cannot evaluate " + n.op +
                         " at conversion time");
  return Status::Error(n.describe() + ": operator '" + n.op + "' is not supported by onebit-convert on activations " +
                       "(it is only evaluated when all its inputs are constant)");
}

Status Emitter::float_as(ValueId v, int rank, int* id) {
  if (v == kNoId || g_.value(v).is_constant())
    return Status::Error("tensor '" + (v == kNoId ? std::string("?") : g_.value(v).name) +
                         "' is used as an activation but is a constant");
  if (g_.value(v).dtype != DType::kFloat) {
    const Node* p = g_.producer(v);
    return Status::Error((p ? p->describe() + ": output" : std::string("tensor")) + " '" + g_.value(v).name + "' is " +
                         dtype_name(g_.value(v).dtype) + " where a float activation is expected");
  }
  if (ids_[size_t(v)] < 0) return Status::Error("internal: tensor '" + g_.value(v).name + "' has no float form");
  *id = ids_[size_t(v)];
  const std::vector<int> s = b_.shape(*id);
  if (int(s.size()) == rank) return Status::Ok();
  const std::string name = g_.value(v).name + "/reshape";
  if (rank == 4 && s.size() == 2) *id = b_.reshape(name, *id, {s[0], 1, 1, s[1]});
  else if (rank == 2 && s.size() == 4 && s[1] == 1 && s[2] == 1) *id = b_.reshape(name, *id, {s[0], s[3]});
  else
    return Status::Error("tensor '" + g_.value(v).name + "' of rank " + std::to_string(s.size()) + " is used where rank " +
                         std::to_string(rank) + " is needed");
  return Status::Ok();
}

Status Emitter::bits(ValueId v, int* id) {
  if (v == kNoId || !ops::packed(g_.value(v).dtype) || ids_[size_t(v)] < 0)
    return Status::Error("internal: tensor '" + (v == kNoId ? std::string("?") : g_.value(v).name) + "' has no bits form");
  *id = ids_[size_t(v)];
  return Status::Ok();
}

namespace {
// The runtime Quantize options of bits = (scale x + shift < 0) over `c` channels (scale / shift: constant
// inputs of node `n`, or kNoId); all empty for a plain sign. One place for both the Quantize operator and a
// BinaryConv2D's FloatAndBitPacked output.
Status quantize_options(const Graph& g, const Node& n, ValueId scale, ValueId shift, int64_t c,
                        std::vector<float>* threshold, std::vector<bool>* flip, std::vector<int8_t>* constant) {
  if (scale == kNoId && shift == kNoId) return Status::Ok();
  // bit = (a x + b < 0):  a > 0: x < -b/a;  a < 0: x > -b/a (flip);  a = 0: the constant bit (b < 0).
  std::vector<float> a(size_t(c), 1.0f), b(size_t(c), 0.0f);
  if (scale != kNoId) a = g.constant(scale)->f;
  if (shift != kNoId) b = g.constant(shift)->f;
  if (int64_t(a.size()) != c || int64_t(b.size()) != c)
    return Status::Error(n.describe() + ": threshold has " + std::to_string(a.size()) + " channels, its input " +
                         std::to_string(c));
  threshold->assign(size_t(c), 0.0f);
  flip->assign(size_t(c), false);
  constant->assign(size_t(c), -1);
  for (size_t i = 0; i < size_t(c); ++i) {
    if (a[i] == 0.0f) {
      (*constant)[i] = b[i] < 0 ? 1 : 0;
    } else {
      (*threshold)[i] = -b[i] / a[i];
      (*flip)[i] = a[i] < 0;
    }
  }
  return Status::Ok();
}
}  // namespace

Status Emitter::emit_dequantize(const Node& n) {
  int x;
  ONEBIT_RETURN_IF_ERROR(bits(n.in(0), &x));
  set(n.out(), b_.dequantize(n.name, x));
  return Status::Ok();
}

Status Emitter::emit_quantize(const Node& n) {
  const std::vector<int64_t>& s = g_.value(n.in(0)).shape;
  int x;
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), s.size() == 4 ? 4 : 2, &x));
  std::vector<float> threshold;
  std::vector<bool> flip;
  std::vector<int8_t> constant;
  ONEBIT_RETURN_IF_ERROR(quantize_options(g_, n, n.in(1), n.in(2), int64_t(b_.shape(x).back()), &threshold, &flip, &constant));
  set(n.out(), b_.quantize(n.name, x, threshold, flip, constant));
  record(n.name, threshold.empty() ? "binary Quantize"
                 : n.i("folded_bn") ? "binary Quantize (BatchNormalization threshold)" : "binary Quantize (threshold)");
  return Status::Ok();
}

// A binary layer's inputs 0-3 (bits or levels, weights, multiplier, bias), as both layers read them.
struct BinaryLayerInputs {
  int in = -1;
  const Tensor* w = nullptr;
  const std::vector<float>* mult = nullptr;
  const std::vector<float>* bias = nullptr;
  int out_c = 0;
};

Status Emitter::binary_layer_inputs(const Node& n, BinaryLayerInputs* l) {
  ONEBIT_RETURN_IF_ERROR(bits(n.in(0), &l->in));
  l->w = g_.constant(n.in(1));
  l->mult = &g_.constant(n.in(2))->f;
  l->bias = &g_.constant(n.in(3))->f;
  l->out_c = int(l->w->shape[0]);
  return Status::Ok();
}

Status Emitter::emit_binary_conv(const Node& n) {
  BinaryLayerInputs l;
  ONEBIT_RETURN_IF_ERROR(binary_layer_inputs(n, &l));
  const int in = l.in, out_c = l.out_c;
  const Tensor& w = *l.w;
  const std::vector<float>&mult = *l.mult, &bias = *l.bias;
  const BinaryConv2DParams& p = n.conv_params();  // as the rule wrote it (rules/binary_layers.cc)
  const std::string label = kbit_label(g_, n);
  const int64_t taps = w.elements() / out_c;
  // Fusions (rules/binary_fusion.cc): the residual input and a Quantize of the output written by the conv.
  BinaryConv2DFusion fusion;
  if (n.in(4) != kNoId) {
    ONEBIT_RETURN_IF_ERROR(float_as(n.in(4), 4, &fusion.residual));
  }
  const bool bits_too = n.out(1) != kNoId;  // FloatAndBitPacked (never in the float reference)
  const bool levels_too = bits_too && g_.value(n.out(1)).dtype == DType::kLevels;  // FloatAndLevels
  if (bits_too && options_.float_reference)
    return Status::Error(n.describe() + ": internal: a fused bits output in the float reference");
  int out;
  if (!options_.float_reference) {
    if (levels_too) {
      ONEBIT_RETURN_IF_ERROR(fused_levels(n, out_c, &fusion));
    } else if (bits_too) {
      fusion.quantize = true;
      ONEBIT_RETURN_IF_ERROR(quantize_options(g_, n, n.in(5), n.in(6), out_c, &fusion.threshold, &fusion.flip, &fusion.constant));
    }
    int bits_out = -1;
    out = b_.binary_conv2d(n.name, in, out_c, w.f, mult, bias, p, fusion, &bits_out);
    report_.binary_macs += elements(out) * taps;
    ++report_.binary_convs;
    if (!label.empty()) ++report_.kbit_layers[label];
    record(n.name, std::string("binary BinaryConv2D") + (label.empty() ? "" : " " + label) +
                       (p.bitpacked_output ? " (bitpacked output)" : "") + (fusion.residual >= 0 ? " + residual" : "") +
                       (levels_too ? " (float and levels output)"
                        : bits_too ? " (float and bits output)"
                                   : ""));
    set(n.out(), out);
    if (bits_too) {
      set(n.out(1), bits_out);
      record(n.s("bits_from"), "written by binary BinaryConv2D '" + n.name + "' (" +
                                   (levels_too ? "FloatAndLevels" : "FloatAndBitPacked") + ")");
    }
    return Status::Ok();
  }
  int x = b_.dequantize(n.name + "/dequantize", in);
  Conv2DParams cp = p;
  cp.clamp_min = -INFINITY;
  cp.clamp_max = INFINITY;
  if (p.pad_mode != BinaryPadding::kZero) {
    const float value = p.pad_mode == BinaryPadding::kOne ? 1.0f : -1.0f;
    x = b_.pad(n.name + "/pad", x, {0, p.pad_top, p.pad_left, 0, 0, p.pad_bottom, p.pad_right, 0}, value);
    cp.pad_top = cp.pad_left = cp.pad_bottom = cp.pad_right = 0;
  }
  out = b_.conv2d(n.name, x, out_c, Weights::float32(w.f), std::vector<float>(size_t(out_c), 0.0f), cp);
  report_.float_macs += elements(out) * taps;
  record(n.name, "float reference Conv2D on ±1 values");
  set(n.out(), reference_transform(n, out, fusion.residual));
  return Status::Ok();
}

int Emitter::reference_transform(const Node& n, int x, int residual) {
  const float lo = ops::layer_clamp_min(n), hi = ops::layer_clamp_max(n);
  // The float reference computes on dequantized values level_scale * L: the multiplier held level_scale.
  std::vector<float> mult = g_.constant(n.in(2))->f;
  if (g_.value(n.in(0)).dtype == DType::kLevels)
    for (float& m : mult) m /= g_.value(n.in(0)).levels.scale;
  x = b_.channel_affine(n.name + "/transform", x, mult, g_.constant(n.in(3))->f);
  if (residual >= 0) x = b_.add(n.name + "/residual", x, residual);
  if (lo > -INFINITY || hi < INFINITY) x = b_.clamp(n.name + "/clamp", x, lo, hi);
  if (g_.value(n.out()).dtype == DType::kBits) x = b_.quantize(n.name + "/quantize", x);
  return x;
}

Status Emitter::emit_binary_fc(const Node& n) {
  BinaryLayerInputs l;
  ONEBIT_RETURN_IF_ERROR(binary_layer_inputs(n, &l));
  const int in = l.in, out_c = l.out_c;
  const Tensor& w = *l.w;
  const BinaryFullyConnectedParams& p = n.fc_params();  // as the rules wrote it (rules/binary_layers.cc)
  if (b_.shape(in).size() != 2 || b_.shape(in).back() != w.shape[1])
    return Status::Error(n.describe() + ": binary input has shape of rank " + std::to_string(b_.shape(in).size()) +
                         "; expected [N, " + std::to_string(w.shape[1]) + "]");
  int out;
  const std::string label = kbit_label(g_, n);
  if (!options_.float_reference) {
    out = b_.binary_fully_connected(n.name, in, out_c, w.f, *l.mult, *l.bias, p);
    report_.binary_macs += elements(out) * w.shape[1];
    ++report_.binary_fcs;
    if (!label.empty()) ++report_.kbit_layers[label];
    record(n.name, std::string("binary BinaryFullyConnected") + (label.empty() ? "" : " " + label) +
                       (p.bitpacked_output ? " (bitpacked output)" : ""));
  } else {
    const int x = b_.dequantize(n.name + "/dequantize", in);
    out = b_.fully_connected(n.name, x, out_c, Weights::float32(w.f), std::vector<float>(size_t(out_c), 0.0f));
    report_.float_macs += elements(out) * w.shape[1];
    out = reference_transform(n, out);
    record(n.name, "float reference FullyConnected on ±1 values");
  }
  set(n.out(), out);
  return Status::Ok();
}

Status Emitter::emit_binary_pool(const Node& n) {
  int in;
  ONEBIT_RETURN_IF_ERROR(bits(n.in(0), &in));
  const Pool2DParams& p = n.pool_params();
  if (!options_.float_reference) {
    set(n.out(), b_.binary_max_pool(n.name, in, p));
    record(n.name, "binary BinaryMaxPool2D");
  } else {
    const int x = b_.dequantize(n.name + "/dequantize", in);
    set(n.out(), b_.quantize(n.name + "/quantize", b_.max_pool(n.name, x, p)));
    record(n.name, "float MaxPool2D on ±1 values");
  }
  return Status::Ok();
}

Status emit_model(const Graph& g, const EmitOptions& options, ModelBuilder* builder, EmitReport* report) {
  Emitter e(g, options, builder, report);
  return e.run();
}

}  // namespace onebit::converter
