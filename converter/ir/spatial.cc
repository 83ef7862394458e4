#include "ir/spatial.h"

#include <limits>

namespace onebit::converter {
namespace {

Status per_axis(const Node& n, const char* attr, size_t rank, int64_t fallback, int64_t min, std::vector<int64_t>* out) {
  const std::vector<int64_t>& v = n.ints(attr);
  if (v.empty()) {
    out->assign(rank, fallback);
    return Status::Ok();
  }
  if (v.size() != rank)
    return Status::Error(n.describe() + ": attribute '" + attr + "' has " + std::to_string(v.size()) +
                         " values; expected " + std::to_string(rank) + " (one per spatial axis)");
  for (int64_t x : v)
    if (x < min || x > std::numeric_limits<int32_t>::max())
      return Status::Error(n.describe() + ": attribute '" + attr + "' value " + std::to_string(x) + " must be >= " +
                           std::to_string(min));
  *out = v;
  return Status::Ok();
}

}  // namespace

Status resolve_spatial(const Node& n, const std::vector<int64_t>& x, const std::vector<int64_t>& kernel, Spatial* out) {
  if (x.size() < 3) return Status::Error(n.describe() + ": input has rank " + std::to_string(x.size()) + "; expected N, C and spatial axes");
  const size_t rank = x.size() - 2;
  if (kernel.size() != rank)
    return Status::Error(n.describe() + ": " + (n.op == "Conv" ? std::string("the weights' kernel") : "attribute 'kernel_shape'") +
                         " has " + std::to_string(kernel.size()) + " dims; the input has " + std::to_string(rank) +
                         " spatial axes");
  for (int64_t k : kernel)
    if (k < 1) return Status::Error(n.describe() + ": kernel size " + std::to_string(k) + " must be >= 1");
  if (n.has("kernel_shape") && !n.ints("kernel_shape").empty() && n.ints("kernel_shape") != kernel)
    return Status::Error(n.describe() + ": attribute 'kernel_shape' " + shape_str(n.ints("kernel_shape")) +
                         " disagrees with the weights' kernel " + shape_str(kernel));
  out->kernel = kernel;
  ONEBIT_RETURN_IF_ERROR(per_axis(n, "strides", rank, 1, 1, &out->strides));
  ONEBIT_RETURN_IF_ERROR(per_axis(n, "dilations", rank, 1, 1, &out->dilations));
  std::vector<int64_t> pads;
  ONEBIT_RETURN_IF_ERROR(per_axis(n, "pads", 2 * rank, 0, 0, &pads));
  out->pad_begin.assign(pads.begin(), pads.begin() + long(rank));
  out->pad_end.assign(pads.begin() + long(rank), pads.end());
  out->ceil_mode = n.has("ceil_mode") && n.i("ceil_mode") != 0;  // Conv has none
  const std::string& auto_pad = n.s("auto_pad");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && !auto_pad.empty())
    return Status::Error(n.describe() + ": attribute 'auto_pad' is '" + auto_pad + "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  out->out.assign(rank, 0);
  out->ceil_differs = false;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t in = x[d + 2], st = out->strides[d];
    const int64_t window = (kernel[d] - 1) * out->dilations[d] + 1;
    if (auto_pad == "VALID") {
      out->pad_begin[d] = out->pad_end[d] = 0;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t want = (in + st - 1) / st;
      const int64_t total = std::max<int64_t>(0, (want - 1) * st + window - in);
      const int64_t small = total / 2, large = total - small;
      out->pad_begin[d] = auto_pad == "SAME_UPPER" ? small : large;
      out->pad_end[d] = auto_pad == "SAME_UPPER" ? large : small;
    }
    const int64_t span = in + out->pad_begin[d] + out->pad_end[d] - window;
    if (span < 0)
      return Status::Error(n.describe() + ": window " + std::to_string(window) + " is larger than the padded input " +
                           std::to_string(in + out->pad_begin[d] + out->pad_end[d]) + " along spatial axis " + std::to_string(d));
    const int64_t floor_out = core::window_output_size(in, out->pad_begin[d], out->pad_end[d], kernel[d], st, out->dilations[d]);
    int64_t ceil_out = (span + st - 1) / st + 1;
    // A last window that would start inside the end padding is dropped (PyTorch's and ONNX's rule).
    if (ceil_out > floor_out && (ceil_out - 1) * st >= in + out->pad_begin[d]) ceil_out = floor_out;
    out->ceil_differs = out->ceil_differs || (out->ceil_mode && ceil_out != floor_out);
    out->out[d] = out->ceil_mode ? ceil_out : floor_out;
  }
  return Status::Ok();
}

namespace {
template <class Params>
Params window_2d(const Spatial& sp) {
  Params p;
  p.kernel_h = int(sp.kernel[0]);
  p.kernel_w = int(sp.kernel[1]);
  p.stride_h = int(sp.strides[0]);
  p.stride_w = int(sp.strides[1]);
  p.pad_top = int(sp.pad_begin[0]);
  p.pad_left = int(sp.pad_begin[1]);
  p.pad_bottom = int(sp.pad_end[0]);
  p.pad_right = int(sp.pad_end[1]);
  return p;
}
}  // namespace

Conv2DParams conv_2d(const Spatial& sp) {
  Conv2DParams p = window_2d<Conv2DParams>(sp);
  p.dilation_h = int(sp.dilations[0]);
  p.dilation_w = int(sp.dilations[1]);
  return p;
}

Pool2DParams pool_2d(const Spatial& sp) { return window_2d<Pool2DParams>(sp); }

}  // namespace onebit::converter
