// Full-precision ONNX nodes -> onebit float operators (see emit.h for the layout rules).
#include <cmath>

#include "audit.h"
#include "emit/emitter.h"
#include "ir/spatial.h"
#include "rules/match.h"

namespace onebit::converter {
namespace {

Status pool_params(const Node& n, const std::vector<int64_t>& x, Pool2DParams* p) {
  Spatial sp;
  ONEBIT_RETURN_IF_ERROR(resolve_spatial(n, x, n.ints("kernel_shape"), &sp));
  if (sp.kernel.size() != 2) return Status::Error(n.describe() + ": only 2-D pooling is supported");
  if (sp.ceil_differs)
    return Status::Error(n.describe() + ": ceil_mode=1 gives more windows than floor here; only pools where both agree are supported");
  if (sp.dilations[0] != 1 || sp.dilations[1] != 1) return Status::Error(n.describe() + ": dilated pooling is not supported");
  *p = pool_2d(sp);
  return Status::Ok();
}

/// Activation scales of an int8 layer (attributes set by convert.cc from calibration).
Int8Params int8_params(const Node& n) {
  Int8Params q;
  q.input_scale = n.f("int8_input_scale");
  q.input_zero_point = int(n.i("int8_input_zero_point"));
  q.output_scale = n.f("int8_output_scale");
  q.output_zero_point = int(n.i("int8_output_zero_point"));
  return q;
}

}  // namespace

Status Emitter::emit_conv(const Node& n) {
  int x;
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), 4, &x));
  const Tensor* w = g_.constant(n.in(1));
  if (w == nullptr)
    return Status::Error(n.describe() + ": weights '" + g_.value(n.in(1)).name + "' are not a constant: " + why_not_constant(g_, n.in(1)));
  if (w->shape.size() != 4) return Status::Error(n.describe() + ": only 2-D convolutions are supported");
  if (!w->is_float()) return Status::Error(n.describe() + ": weights must be float, not " + dtype_name(w->dtype));
  std::vector<float> bias(size_t(w->shape[0]), 0.0f);
  if (n.in(2) != kNoId) {
    const Tensor* b = g_.constant(n.in(2));
    if (b == nullptr || b->elements() != w->shape[0]) return Status::Error(n.describe() + ": bias must be a constant with one value per output channel");
    bias = b->to_floats();
  }
  Spatial sp;
  ONEBIT_RETURN_IF_ERROR(resolve_spatial(n, g_.value(n.in(0)).shape, {w->shape[2], w->shape[3]}, &sp));
  Conv2DParams p = conv_2d(sp);
  p.groups = int(n.i("group"));
  if (n.has("clamp_min")) p.clamp_min = n.f("clamp_min"), p.clamp_max = n.f("clamp_max");  // float_layer_clamp
  if (n.i("binary_weights") && !options_.float_reference) return emit_bwn_conv(n, x, bias, p);
  const int out_c = int(w->shape[0]);
  int out;
  if (n.i("int8")) {
    std::vector<int8_t> q;
    std::vector<float> scale;
    quantize_per_channel(w->f, out_c, &q, &scale);
    out = b_.conv2d(n.name, x, out_c, Weights::int8(std::move(q), std::move(scale), int8_params(n)), bias, p);
    record(n.name, "int8 Conv2D (qc8)");
  } else if (n.i("float16_weights")) {
    out = b_.conv2d(n.name, x, out_c, Weights::float16(w->f), bias, p);
    record(n.name, "float Conv2D (float16 weights)");
  } else {
    out = b_.conv2d(n.name, x, out_c, Weights::float32(w->f), bias, p);
    record(n.name, "float Conv2D");
  }
  report_.float_macs += elements(out) * w->shape[1] * w->shape[2] * w->shape[3];
  set(n.out(), out);
  return Status::Ok();
}

Status Emitter::emit_fully_connected(const Node& n) {
  const bool gemm = n.op == "Gemm";
  if (gemm && n.i("transA")) return Status::Error(n.describe() + ": transA=1 is not supported");
  const Tensor* b = g_.constant(n.in(1));
  if (b == nullptr)
    return Status::Error(n.describe() + ": weights '" + g_.value(n.in(1)).name + "' are not a constant: " + why_not_constant(g_, n.in(1)));
  if (b->shape.size() != 2) return Status::Error(n.describe() + ": weights must be a matrix");
  if (!b->is_float()) return Status::Error(n.describe() + ": weights must be float, not " + dtype_name(b->dtype));
  const bool tb = gemm && n.i("transB");
  const int64_t out = tb ? b->shape[0] : b->shape[1], k = tb ? b->shape[1] : b->shape[0];
  const float alpha = gemm ? n.f("alpha") : 1.0f, beta = gemm ? n.f("beta") : 1.0f;
  std::vector<float> w(size_t(out * k));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < k; ++i) w[size_t(o * k + i)] = alpha * (tb ? b->f[size_t(o * k + i)] : b->f[size_t(i * out + o)]);
  std::vector<float> bias(size_t(out), 0.0f);
  if (gemm && n.in(2) != kNoId) {
    std::vector<float> c;
    if (!per_channel(g_, n.in(2), out, 2, &c))
      return Status::Error(n.describe() + ": bias C must be a constant of [out] or [1, out] values");
    for (int64_t o = 0; o < out; ++o) bias[size_t(o)] = beta * c[size_t(o)];
  }
  const auto& xs = g_.value(n.in(0)).shape;
  if (xs.size() != 2) return Status::Error(n.describe() + ": input has shape " + shape_str(xs) + "; expected [N, K]");
  int x;
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), 2, &x));
  if (b_.shape(x).back() != k)
    return Status::Error(n.describe() + ": input has " + std::to_string(b_.shape(x).back()) + " features, weights expect " + std::to_string(k));
  if (n.i("binary_weights") && !options_.float_reference) return emit_bwn_fc(n, x, out, k, w, bias);
  const float lo = n.has("clamp_min") ? n.f("clamp_min") : -INFINITY;  // float_layer_clamp
  const float hi = n.has("clamp_max") ? n.f("clamp_max") : INFINITY;
  int y;
  if (n.i("int8")) {
    std::vector<int8_t> q;
    std::vector<float> scale;
    quantize_per_channel(w, int(out), &q, &scale);
    y = b_.fully_connected(n.name, x, int(out), Weights::int8(std::move(q), std::move(scale), int8_params(n)), bias, lo,
                           hi);
    record(n.name, "int8 FullyConnected (qc8, as a 1x1 conv)");
  } else if (n.i("float16_weights")) {
    y = b_.fully_connected(n.name, x, int(out), Weights::float16(w), bias, lo, hi);
    record(n.name, "float FullyConnected (float16 weights)");
  } else {
    y = b_.fully_connected(n.name, x, int(out), Weights::float32(w), bias, lo, hi);
    record(n.name, "float FullyConnected");
  }
  report_.float_macs += elements(y) * k;
  set(n.out(), y);
  return Status::Ok();
}

Status Emitter::emit_pool(const Node& n) {
  int x;
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), 4, &x));
  if (n.op == "GlobalAveragePool") {
    set(n.out(), b_.global_avg_pool(n.name, x));
    record(n.name, "float GlobalAvgPool");
    return Status::Ok();
  }
  if (n.outputs.size() > 1 && n.outputs[1] != kNoId && !g_.users(n.outputs[1]).empty())
    return Status::Error(n.describe() + ": the Indices output is not supported");
  Pool2DParams p;
  ONEBIT_RETURN_IF_ERROR(pool_params(n, g_.value(n.in(0)).shape, &p));
  if (n.op == "MaxPool") {
    set(n.out(), b_.max_pool(n.name, x, p));
    record(n.name, "float MaxPool2D");
    return Status::Ok();
  }
  p.count_include_pad = n.i("count_include_pad") != 0;
  set(n.out(), b_.avg_pool(n.name, x, p));
  record(n.name, std::string("float AvgPool2D") + (p.count_include_pad ? " (count_include_pad)" : ""));
  return Status::Ok();
}

// Add or Mul of two activations of one rank (2 or 4): Add of equal shapes; Mul with broadcasting, e.g.
// XNOR-Net's feature map [N, C, H, W] times its run-time scale K [N, 1, H, W] (issue 21). NCHW -> NHWC
// permutes both operands alike, so what broadcasts in one layout broadcasts in the other.
Status Emitter::emit_activation_product(const Node& n) {
  const std::string& op = n.op;
  const std::vector<int64_t>&sa = g_.value(n.in(0)).shape, &sb = g_.value(n.in(1)).shape;
  const int rank = int(g_.value(n.out()).shape.size());
  if (op != "Add" && op != "Mul")
    return Status::Error(n.describe() + ": " + op + " of two activation tensors is not supported (only Add and Mul)");
  if (op == "Add" && sa != sb)
    return Status::Error(n.describe() + ": Add with broadcasting between activations is not supported");
  if (sa.size() != sb.size())
    return Status::Error(n.describe() + ": Mul of activations of ranks " + std::to_string(sa.size()) + " and " +
                         std::to_string(sb.size()) + " is not supported (only of one rank)");
  int x, y;
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), rank, &x));
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(1), rank, &y));
  set(n.out(), op == "Add" ? b_.add(n.name, x, y) : b_.mul(n.name, x, y));
  record(n.name, op == "Add" ? "float Add" : "float Mul (two activations)");
  return Status::Ok();
}

// Mul of a feature map [N, C, H, W] by a constant that varies along H or W (and does not enlarge the map):
// XNOR-Net++'s learned scale alpha_c beta_h gamma_w. Stored as a constant [1 | N, H, W, 1 | C] in NHWC.
Status Emitter::emit_constant_product(const Node& n, ValueId xv, ValueId operand) {
  const Tensor& t = *g_.constant(operand);
  std::vector<int64_t> s = t.shape;
  if (s.size() > 4 || !t.is_float())
    return Status::Error(n.describe() + ": constant operand '" + g_.value(operand).name + "' must be a float tensor of rank <= 4");
  s.insert(s.begin(), 4 - s.size(), 1);
  const std::vector<float> v = t.to_floats();
  std::vector<float> nhwc(v.size());
  size_t at = 0;
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t h = 0; h < s[2]; ++h)
      for (int64_t w = 0; w < s[3]; ++w)
        for (int64_t c = 0; c < s[1]; ++c) nhwc[at++] = v[size_t(((i * s[1] + c) * s[2] + h) * s[3] + w)];
  int x;
  ONEBIT_RETURN_IF_ERROR(float_as(xv, 4, &x));
  const int k = b_.float_constant(g_.value(operand).name + "/nhwc", {int(s[0]), int(s[2]), int(s[3]), int(s[1])}, nhwc);
  set(n.out(), b_.mul(n.name, x, k));
  record(n.name, "float Mul (constant " + shape_str(t.shape) + ")");
  return Status::Ok();
}

Status Emitter::emit_elementwise(const Node& n) {
  const std::string& op = n.op;
  const std::vector<int64_t>& shape = g_.value(n.out()).shape;
  if (shape.size() != 4 && shape.size() != 2)
    return Status::Error(n.describe() + ": tensors of rank " + std::to_string(shape.size()) + " are not supported");
  const int rank = int(shape.size());
  const bool c0 = g_.value(n.in(0)).is_constant(), c1 = g_.value(n.in(1)).is_constant();
  int x, out;
  if (!c0 && !c1) return emit_activation_product(n);
  if (c0 && (op == "Sub" || op == "Div")) return Status::Error(n.describe() + ": constant " + op + " tensor is not supported");
  const ValueId operand = c0 ? n.in(0) : n.in(1), xv = c0 ? n.in(1) : n.in(0);
  if (g_.value(xv).shape != shape)
    return Status::Error(n.describe() + ": the constant operand broadcasts the activation " + shape_str(g_.value(xv).shape) +
                         " to " + shape_str(shape) + ", which is not supported");
  std::vector<float> k;
  if (!per_channel(g_, operand, shape[1], size_t(rank), &k)) {
    if (op == "Mul" && rank == 4) return emit_constant_product(n, xv, operand);
    return Status::Error(n.describe() + ": constant operand '" + g_.value(operand).name +
                         "' must be a scalar or hold one value per channel");
  }
  ONEBIT_RETURN_IF_ERROR(float_as(xv, rank, &x));
  if (op == "Mul" || op == "Div") {
    if (op == "Div")
      for (float& v : k) v = 1.0f / v;
    out = b_.mul(n.name, x, k);
    record(n.name, "float Mul");
  } else {
    if (op == "Sub")
      for (float& v : k) v = -v;
    out = b_.channel_affine(n.name, x, std::vector<float>(k.size(), 1.0f), k);
    record(n.name, "float ChannelAffine (constant " + op + ")");
  }
  set(n.out(), out);
  return Status::Ok();
}

Status Emitter::emit_activation(const Node& n) {
  const std::string& op = n.op;
  const std::vector<int64_t>& shape = g_.value(n.in(0)).shape;
  if (shape.size() != 4 && shape.size() != 2)
    return Status::Error(n.describe() + ": tensors of rank " + std::to_string(shape.size()) + " are not supported");
  const int rank = int(shape.size());
  const int64_t channels = shape[1];
  int x, out;
  ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), rank, &x));
  if (op == "Relu") {
    out = b_.relu(n.name, x);
    record(n.name, "float ReLU");
  } else if (op == "PRelu" || op == "LeakyRelu") {
    std::vector<float> slope;
    if (op == "LeakyRelu") slope.assign(size_t(channels), n.f("alpha"));
    else if (!per_channel(g_, n.in(1), channels, size_t(rank), &slope))
      return Status::Error(n.describe() + ": slope must be a constant scalar or per-channel tensor");
    out = b_.prelu(n.name, x, slope);
    record(n.name, "float PReLU");
  } else if (op == "Clip") {
    float lo, hi;
    if (const std::string problem = clip_bounds_problem(g_, n); !problem.empty())
      return Status::Error(n.describe() + ": " + problem + "; onebit-convert does not convert such a Clip");
    if (!clip_bounds(g_, n, &lo, &hi)) return Status::Error(n.describe() + ": min and max must be constant scalars");
    out = b_.clamp(n.name, x, lo, hi);
    record(n.name, "float Clamp");
  } else {
    std::vector<float> scale, shift;
    if (!batch_norm_affine(g_, n, &scale, &shift) || int64_t(scale.size()) != channels)
      return Status::Error(n.describe() + ": scale, bias, mean and var must be constants with one value per channel (" +
                           std::to_string(channels) + ")");
    out = b_.channel_affine(n.name, x, scale, shift);
    record(n.name, "float ChannelAffine (BatchNormalization)");
  }
  set(n.out(), out);
  return Status::Ok();
}

Status Emitter::emit_reshape(const Node& n) {
  const std::vector<int64_t>& in = g_.value(n.in(0)).shape;
  const std::vector<int64_t>& out = g_.value(n.out()).shape;
  int x;
  Status s;
  if (in.size() == 4 && out.size() == 2) {
    if (in[2] * in[3] != 1 && !n.i("nhwc_order"))
      return Status::Error(n.describe() + ": flattens a spatial map (C, H, W = " + std::to_string(in[1]) + ", " +
                           std::to_string(in[2]) + ", " + std::to_string(in[3]) +
                           ") for a consumer other than Gemm/MatMul; onebit's NHWC order differs from ONNX's "
                           "NCHW order there, so this is only supported in front of fully connected layers");
    if (out[0] != in[0]) return Status::Error(n.describe() + ": reshapes the batch dim " + shape_str(in) + " -> " + shape_str(out));
    x = ids_[size_t(n.in(0))];
    if (x < 0) return Status::Error("internal: no float form of '" + g_.value(n.in(0)).name + "'");
    x = b_.reshape(n.name, x, {int(out[0]), int(out[1])});
    record(n.name, in[2] * in[3] == 1 ? "Reshape (layout-neutral)" : "Reshape (NHWC order; weights of its readers permuted)");
    set(n.out(), x);
    return Status::Ok();
  }
  if (in.size() == 2 && out.size() == 4 && out[2] * out[3] == 1 && out[1] == in[1]) {
    s = float_as(n.in(0), 4, &x);
  } else if (in == out && (in.size() == 2 || in.size() == 4)) {
    s = float_as(n.in(0), int(in.size()), &x);
  } else if (in.size() == 2 && out.size() == 2) {
    s = float_as(n.in(0), 2, &x);
    if (s.ok()) x = b_.reshape(n.name, x, {int(out[0]), int(out[1])});
  } else {
    return Status::Error(n.describe() + ": reshaping " + shape_str(in) + " to " + shape_str(out) + " is not supported");
  }
  if (!s.ok()) return s;
  set(n.out(), x);
  record(n.name, "Reshape (layout-neutral)");
  return Status::Ok();
}

Status Emitter::emit_misc(const Node& n) {
  const std::string& op = n.op;
  const std::vector<int64_t>& in = g_.value(n.in(0)).shape;
  const int rank = int(in.size());
  int x, out;
  if (op == "Softmax" || op == "LogSoftmax") {
    int64_t axis = n.i("axis");
    if (axis < 0) axis += rank;
    const bool ok = (rank == 2 && axis == 1) || (rank == 4 && in[2] * in[3] == 1 && axis == 1);
    if (!ok) return Status::Error(n.describe() + ": " + op + " is supported over the channels of [N, C] (or [N, C, 1, 1]) only");
    ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), 2, &x));
    out = b_.softmax(n.name, x, op == "LogSoftmax");
    record(n.name, "float " + op);
  } else if (op == "Concat") {
    if (rank != 4 && rank != 2) return Status::Error(n.describe() + ": only rank 2 or 4 tensors are supported");
    const int axis = onebit_axis(n.i("axis"), rank);
    if (axis < 0) return Status::Error(n.describe() + ": axis out of range");
    std::vector<int> xs;
    for (ValueId v : n.inputs) {
      ONEBIT_RETURN_IF_ERROR(float_as(v, rank, &x));
      xs.push_back(x);
    }
    out = b_.concat(n.name, xs, axis);
    record(n.name, "float Concat");
  } else {  // Pad
    const Tensor* pads = g_.constant(n.in(1));
    const Tensor* value = n.in(2) == kNoId ? nullptr : g_.constant(n.in(2));
    if (pads == nullptr || (n.in(2) != kNoId && value == nullptr) || n.in(3) != kNoId)
      return Status::Error(n.describe() + ": pads and value must be constants (and no axes input)");
    if (n.s("mode") != "constant") return Status::Error(n.describe() + ": mode '" + n.s("mode") + "' is not supported (constant only)");
    if (pads->elements() != 2 * rank || (rank != 4 && rank != 2))
      return Status::Error(n.describe() + ": pads must cover all axes of a rank 2 or 4 tensor");
    std::vector<int> p;
    for (int64_t k = 0; k < pads->elements(); ++k)
      if (pads->as_int(k) < 0) return Status::Error(n.describe() + ": negative pads (cropping) are not supported");
    if (rank == 4) {
      const int order[4] = {0, 2, 3, 1};
      for (int e = 0; e < 2; ++e)
        for (int d : order) p.push_back(int(pads->as_int(e * 4 + d)));
    } else {
      for (int64_t k = 0; k < pads->elements(); ++k) p.push_back(int(pads->as_int(k)));
    }
    ONEBIT_RETURN_IF_ERROR(float_as(n.in(0), rank, &x));
    out = b_.pad(n.name, x, p, value ? value->as_float(0) : 0.0f);
    record(n.name, "float Pad");
  }
  set(n.out(), out);
  return Status::Ok();
}

}  // namespace onebit::converter
