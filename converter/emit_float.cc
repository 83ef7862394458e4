// Full-precision ONNX nodes -> onebit float operators (see emit.h for the layout rules).

#include "emitter.h"
#include "padding.h"

namespace onebit::converter {
namespace {


Status pool_params(const Node& n, Pool2DParams* p) {
  if (n.get_int("ceil_mode", 0) != 0) return Status::Error(n.describe() + ": ceil_mode=1 is not supported");
  for (int64_t d : n.get_ints("dilations"))
    if (d != 1) return Status::Error(n.describe() + ": dilated pooling is not supported");
  const auto k = n.get_ints("kernel_shape");
  if (k.size() != 2) return Status::Error(n.describe() + ": expected a 2-D kernel_shape");
  const auto st = n.get_ints("strides", {1, 1});
  int pads[4];
  Status s = conv_pads(n, pads);
  if (!s.ok()) return s;
  p->kernel_h = int(k[0]);
  p->kernel_w = int(k[1]);
  p->stride_h = int(st[0]);
  p->stride_w = int(st[1]);
  p->pad_top = pads[0];
  p->pad_left = pads[1];
  p->pad_bottom = pads[2];
  p->pad_right = pads[3];
  return Status::Ok();
}

bool is_flatten_like(const Node* n) {
  return n != nullptr && (n->op_type == "Flatten" || n->op_type == "Reshape");
}

}  // namespace

Status Emitter::emit_node(const Node& n) {
  static const char* const kSupported[] = {
      "Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Sub", "Mul", "Div",
      "Relu", "PRelu", "Clip", "BatchNormalization", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Softmax",
      "Concat", "Pad", "Identity", "Dropout"};
  bool supported = false;
  for (const char* op : kSupported) supported = supported || n.op_type == op;
  if (!supported)
    return Status::Error(n.describe() + ": operator '" + n.op_type + "' is not supported by onebit-convert");
  for (const std::string& out : n.outputs) {
    if (out.empty()) continue;
    std::vector<int64_t> shape;
    Status s = onnx_shape(out, &n, &shape);
    if (!s.ok()) return s;
  }
  const std::string& op = n.op_type;
  if (op == "Conv") return emit_conv(n);
  if (op == "Gemm" || op == "MatMul") return emit_fully_connected(n);
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool") return emit_pool(n);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Relu" || op == "PRelu" || op == "Clip" ||
      op == "BatchNormalization")
    return emit_elementwise(n);
  if (op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze") return emit_reshape(n);
  if (op == "Softmax" || op == "Concat" || op == "Pad" || op == "Identity" || op == "Dropout") return emit_misc(n);
  return Status::Error(n.describe() + ": operator '" + op + "' is not supported by onebit-convert");
}

Status Emitter::emit_conv(const Node& n) {
  int x;
  Status s = float_as(n.inputs[0], 4, &x);
  if (!s.ok()) return s;
  if (n.inputs.size() < 2 || !g_.is_constant(n.inputs[1]))
    return Status::Error(n.describe() + ": weights are not a constant initializer");
  const Value& w = *g_.find(n.inputs[1]);
  if (w.shape.size() != 4) return Status::Error(n.describe() + ": only 2-D convolutions are supported");
  std::vector<float> bias(size_t(w.shape[0]), 0.0f);
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    if (!g_.is_constant(n.inputs[2])) return Status::Error(n.describe() + ": bias is not a constant initializer");
    bias = g_.find(n.inputs[2])->data;
  }
  Conv2DParams p;
  int pads[4];
  s = conv_pads(n, pads);
  if (!s.ok()) return s;
  const auto st = n.get_ints("strides", {1, 1});
  const auto dil = n.get_ints("dilations", {1, 1});
  p.kernel_h = int(w.shape[2]);
  p.kernel_w = int(w.shape[3]);
  p.stride_h = int(st[0]);
  p.stride_w = int(st[1]);
  p.dilation_h = int(dil[0]);
  p.dilation_w = int(dil[1]);
  p.pad_top = pads[0];
  p.pad_left = pads[1];
  p.pad_bottom = pads[2];
  p.pad_right = pads[3];
  p.groups = int(n.get_int("group", 1));
  const int out = b_.conv2d(n.name, x, int(w.shape[0]), w.data, bias, p);
  report_.float_macs += elements(out) * w.shape[1] * w.shape[2] * w.shape[3];
  set_float(n.outputs[0], out);
  record(n.name, "float Conv2D");
  return Status::Ok();
}

Status Emitter::emit_fully_connected(const Node& n) {
  const bool gemm = n.op_type == "Gemm";
  if (gemm && n.get_int("transA", 0) != 0) return Status::Error(n.describe() + ": transA=1 is not supported");
  if (n.inputs.size() < 2 || !g_.is_constant(n.inputs[1]))
    return Status::Error(n.describe() + ": weights '" + (n.inputs.size() > 1 ? n.inputs[1] : "") +
                         "' are not a constant initializer");
  const Value& b = *g_.find(n.inputs[1]);
  if (b.shape.size() != 2) return Status::Error(n.describe() + ": weights must be a matrix");
  const bool trans_b = gemm && n.get_int("transB", 0) != 0;
  const int64_t out = trans_b ? b.shape[0] : b.shape[1], k = trans_b ? b.shape[1] : b.shape[0];
  const float alpha = gemm ? n.get_float("alpha", 1.0f) : 1.0f, beta = gemm ? n.get_float("beta", 1.0f) : 1.0f;
  std::vector<float> w(size_t(out * k));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < k; ++i)
      w[size_t(o * k + i)] = alpha * (trans_b ? b.data[size_t(o * k + i)] : b.data[size_t(i * out + o)]);
  std::vector<float> bias(size_t(out), 0.0f);
  if (gemm && n.inputs.size() > 2 && !n.inputs[2].empty()) {
    std::vector<float> c;
    if (!per_channel_constant(g_, n.inputs[2], out, 2, 1, &c))
      return Status::Error(n.describe() + ": bias C must be a constant of [out] or [1, out] values");
    for (int64_t o = 0; o < out; ++o) bias[size_t(o)] = beta * c[size_t(o)];
  }
  int x;
  Status s = Status::Ok();
  const Node* flatten = g_.producer(n.inputs[0]);
  std::vector<int64_t> spatial;
  if (is_flatten_like(flatten) && g_.find(flatten->inputs[0])->shape_known &&
      g_.find(flatten->inputs[0])->shape.size() == 4 &&
      g_.find(flatten->inputs[0])->shape[2] * g_.find(flatten->inputs[0])->shape[3] > 1)
    spatial = g_.find(flatten->inputs[0])->shape;
  if (!spatial.empty()) {
    // Flatten of an NCHW map: ONNX's column index is c*H*W + h*W + w; onebit flattens NHWC as
    // (h*W + w)*C + c. Permute the weight columns instead of the activations.
    const int64_t C = spatial[1], H = spatial[2], W = spatial[3];
    if (C * H * W != k) return Status::Error(n.describe() + ": flattened input has " + std::to_string(C * H * W) + " features, weights expect " + std::to_string(k));
    s = float_as(flatten->inputs[0], 4, &x);
    if (!s.ok()) return s;
    x = b_.reshape(flatten->name, x, {int(spatial[0]), int(C * H * W)});
    std::vector<float> permuted(w.size());
    for (int64_t o = 0; o < out; ++o)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t hw = 0; hw < H * W; ++hw) permuted[size_t(o * k + hw * C + c)] = w[size_t(o * k + c * H * W + hw)];
    w.swap(permuted);
    record(flatten->name, "Reshape (NCHW order kept by permuting the weights of '" + n.name + "')");
  } else {
    s = float_as(n.inputs[0], 2, &x);
    if (!s.ok()) return s;
    if (b_.shape(x).back() != k)
      return Status::Error(n.describe() + ": input has " + std::to_string(b_.shape(x).back()) + " features, weights expect " + std::to_string(k));
  }
  const int y = b_.fully_connected(n.name, x, int(out), w, bias);
  report_.float_macs += elements(y) * k;
  set_float(n.outputs[0], y);
  record(n.name, "float FullyConnected");
  return Status::Ok();
}

Status Emitter::emit_pool(const Node& n) {
  int x;
  if (n.op_type == "GlobalAveragePool") {
    Status s = float_as(n.inputs[0], 4, &x);
    if (!s.ok()) return s;
    set_float(n.outputs[0], b_.global_avg_pool(n.name, x));
    record(n.name, "float GlobalAvgPool");
    return Status::Ok();
  }
  if (n.outputs.size() > 1 && !n.outputs[1].empty())
    return Status::Error(n.describe() + ": the Indices output is not supported");
  Pool2DParams p;
  Status s = pool_params(n, &p);
  if (!s.ok()) return s;
  std::string input = n.inputs[0];
  if (n.op_type == "MaxPool") {
    s = float_as(input, 4, &x);
    if (!s.ok()) return s;
    set_float(n.outputs[0], b_.max_pool(n.name, x, p));
    record(n.name, "float MaxPool2D");
    return Status::Ok();
  }
  p.count_include_pad = n.get_int("count_include_pad", 0) != 0;
  const Node* pad = g_.producer(input);
  const bool no_own_pads = !p.pad_top && !p.pad_left && !p.pad_bottom && !p.pad_right;
  if (pad != nullptr && pad->op_type == "Pad" && no_own_pads && plan_.binary_values.count(pad->inputs[0]) == 0) {
    // PyTorch exports AvgPool2d(count_include_pad=True) with padding as Pad(0) + AveragePool.
    PadAttributes a;
    s = read_pad(g_, *pad, &a);
    if (s.ok() && a.mode == "constant" && a.value == 0.0f && a.pads.size() == 8 && !a.pads[0] && !a.pads[1] &&
        !a.pads[4] && !a.pads[5]) {
      p.pad_top = int(a.pads[2]);
      p.pad_left = int(a.pads[3]);
      p.pad_bottom = int(a.pads[6]);
      p.pad_right = int(a.pads[7]);
      p.count_include_pad = true;
      input = pad->inputs[0];
      record(pad->name, "folded into AvgPool2D '" + n.name + "' (count_include_pad)");
    }
  }
  s = float_as(input, 4, &x);
  if (!s.ok()) return s;
  set_float(n.outputs[0], b_.avg_pool(n.name, x, p));
  record(n.name, std::string("float AvgPool2D") + (p.count_include_pad ? " (count_include_pad)" : ""));
  return Status::Ok();
}

Status Emitter::emit_elementwise(const Node& n) {
  const std::string& op = n.op_type;
  std::vector<int64_t> shape;
  Status s = onnx_shape(n.outputs[0], &n, &shape);
  if (!s.ok()) return s;
  const int rank = shape.size() == 4 ? 4 : 2;
  if (shape.size() != 4 && shape.size() != 2)
    return Status::Error(n.describe() + ": tensors of rank " + std::to_string(shape.size()) + " are not supported");
  const int64_t channels = shape[1];
  int x, out;
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    const bool c0 = g_.is_constant(n.inputs[0]), c1 = g_.is_constant(n.inputs[1]);
    if (!c0 && !c1) {
      if (op != "Add")
        return Status::Error(n.describe() + ": " + op + " of two activation tensors is not supported (only Add)");
      std::vector<int64_t> a, b;
      s = onnx_shape(n.inputs[0], &n, &a);
      if (s.ok()) s = onnx_shape(n.inputs[1], &n, &b);
      if (!s.ok()) return s;
      if (a != b) return Status::Error(n.describe() + ": Add with broadcasting between activations is not supported");
      int y;
      s = float_as(n.inputs[0], rank, &x);
      if (s.ok()) s = float_as(n.inputs[1], rank, &y);
      if (!s.ok()) return s;
      out = b_.add(n.name, x, y);
      record(n.name, "float Add");
    } else {
      if (c0 && (op == "Sub" || op == "Div"))
        return Status::Error(n.describe() + ": constant " + op + " tensor is not supported");
      const std::string& operand = c0 ? n.inputs[0] : n.inputs[1];
      std::vector<float> k;
      if (!per_channel_constant(g_, operand, channels, rank, 1, &k))
        return Status::Error(n.describe() + ": constant operand '" + operand +
                             "' must be a scalar or hold one value per channel");
      s = float_as(c0 ? n.inputs[1] : n.inputs[0], rank, &x);
      if (!s.ok()) return s;
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
    }
  } else {
    s = float_as(n.inputs[0], rank, &x);
    if (!s.ok()) return s;
    if (op == "Relu") {
      out = b_.relu(n.name, x);
      record(n.name, "float ReLU");
    } else if (op == "PRelu") {
      std::vector<float> slope;
      if (n.inputs.size() < 2 || !per_channel_constant(g_, n.inputs[1], channels, rank, 1, &slope))
        return Status::Error(n.describe() + ": slope must be a constant scalar or per-channel tensor");
      out = b_.prelu(n.name, x, slope);
      record(n.name, "float PReLU");
    } else if (op == "Clip") {
      float lo, hi;
      s = clip_bounds(g_, n, &lo, &hi);
      if (!s.ok()) return s;
      out = b_.clamp(n.name, x, lo, hi);
      record(n.name, "float Clamp");
    } else {
      std::vector<float> scale, shift;
      s = batch_norm_affine(g_, n, &scale, &shift);
      if (!s.ok()) return s;
      if (int64_t(scale.size()) != channels) return Status::Error(n.describe() + ": parameter length differs from the channel count");
      out = b_.channel_affine(n.name, x, scale, shift);
      record(n.name, "float ChannelAffine (BatchNormalization)");
    }
  }
  set_float(n.outputs[0], out);
  return Status::Ok();
}

Status Emitter::emit_reshape(const Node& n) {
  std::vector<int64_t> in, out;
  Status s = onnx_shape(n.inputs[0], &n, &in);
  if (s.ok()) s = onnx_shape(n.outputs[0], &n, &out);
  if (!s.ok()) return s;
  if (n.op_type == "Flatten" && n.get_int("axis", 1) != 1)
    return Status::Error(n.describe() + ": only axis=1 is supported");
  int x;
  if (in.size() == 4 && out.size() == 2) {
    if (in[2] * in[3] != 1)
      return Status::Error(n.describe() + ": flattens a spatial map (C, H, W = " + std::to_string(in[1]) + ", " +
                           std::to_string(in[2]) + ", " + std::to_string(in[3]) +
                           ") for a consumer other than Gemm/MatMul; onebit's NHWC order differs from ONNX's "
                           "NCHW order there, so this is only supported directly in front of a Gemm or MatMul");
    s = float_as(n.inputs[0], 2, &x);
  } else if (in.size() == 2 && out.size() == 4 && out[2] * out[3] == 1 && out[1] == in[1]) {
    s = float_as(n.inputs[0], 4, &x);
  } else if (in == out && (in.size() == 2 || in.size() == 4)) {
    s = float_as(n.inputs[0], int(in.size()), &x);
  } else if (in.size() == 2 && out.size() == 2) {
    s = float_as(n.inputs[0], 2, &x);
    if (s.ok()) x = b_.reshape(n.name, x, {int(out[0]), int(out[1])});
  } else {
    return Status::Error(n.describe() + ": reshaping rank " + std::to_string(in.size()) + " to rank " +
                         std::to_string(out.size()) + " is not supported");
  }
  if (!s.ok()) return s;
  set_float(n.outputs[0], x);
  record(n.name, "Reshape (layout-neutral)");
  return Status::Ok();
}

Status Emitter::emit_misc(const Node& n) {
  const std::string& op = n.op_type;
  std::vector<int64_t> in;
  Status s = onnx_shape(n.inputs[0], &n, &in);
  if (!s.ok()) return s;
  const int rank = int(in.size());
  int x, out;
  if (op == "Identity" || op == "Dropout") {
    s = get_float(n.inputs[0], &x);
    if (!s.ok()) return s;
    set_float(n.outputs[0], x);
    record(n.name, "removed (identity)");
    return Status::Ok();
  }
  if (op == "Softmax") {
    int64_t axis = n.get_int("axis", g_.opset >= 13 ? -1 : 1);
    if (axis < 0) axis += rank;
    const bool ok = (rank == 2 && axis == 1) || (rank == 4 && in[2] * in[3] == 1 && axis == 1);
    if (!ok) return Status::Error(n.describe() + ": softmax is supported over the channels of [N, C] (or [N, C, 1, 1]) only");
    s = float_as(n.inputs[0], 2, &x);
    if (!s.ok()) return s;
    out = b_.softmax(n.name, x);
    record(n.name, "float Softmax");
  } else if (op == "Concat") {
    if (rank != 4 && rank != 2) return Status::Error(n.describe() + ": only rank 2 or 4 tensors are supported");
    const int axis = onebit_axis(n.get_int("axis", 1), rank);
    if (axis < 0) return Status::Error(n.describe() + ": axis out of range");
    std::vector<int> xs;
    for (const std::string& v : n.inputs) {
      s = float_as(v, rank, &x);
      if (!s.ok()) return s;
      xs.push_back(x);
    }
    out = b_.concat(n.name, xs, axis);
    record(n.name, "float Concat");
  } else {  // Pad
    PadAttributes a;
    s = read_pad(g_, n, &a);
    if (!s.ok()) return s;
    if (a.mode != "constant") return Status::Error(n.describe() + ": mode '" + a.mode + "' is not supported (constant only)");
    if (int(a.pads.size()) != 2 * rank || (rank != 4 && rank != 2))
      return Status::Error(n.describe() + ": pads must cover all axes of a rank 2 or 4 tensor");
    std::vector<int> pads;
    if (rank == 4) {
      const int order[4] = {0, 2, 3, 1};
      for (int e = 0; e < 2; ++e)
        for (int d : order) pads.push_back(int(a.pads[size_t(e * 4 + d)]));
    } else {
      pads.assign(a.pads.begin(), a.pads.end());
    }
    s = float_as(n.inputs[0], rank, &x);
    if (!s.ok()) return s;
    out = b_.pad(n.name, x, pads, a.value);
    record(n.name, "float Pad");
  }
  set_float(n.outputs[0], out);
  return Status::Ok();
}

}  // namespace onebit::converter
