#include "padding.h"

namespace onebit::converter {

Status read_pad(const Graph& g, const Node& pad, PadAttributes* out) {
  out->mode = pad.get_string("mode", "constant");
  if (pad.inputs.size() >= 2 && !pad.inputs[1].empty()) {
    const Value* pads = g.find(pad.inputs[1]);
    if (pads == nullptr || !pads->is_constant)
      return Status::Error(pad.describe() + ": pads input '" + pad.inputs[1] + "' is not a constant");
    out->pads = pads->int_data;
    if (pad.inputs.size() >= 3 && !pad.inputs[2].empty()) {
      const Value* value = g.find(pad.inputs[2]);
      if (value == nullptr || !value->is_constant || value->data.size() != 1)
        return Status::Error(pad.describe() + ": constant_value '" + pad.inputs[2] + "' is not a constant scalar");
      out->value = value->data[0];
    }
    if (pad.inputs.size() >= 4 && !pad.inputs[3].empty())
      return Status::Error(pad.describe() + ": the axes input is not supported");
  } else {
    out->pads = pad.get_ints("pads");
    out->value = pad.get_float("value", 0.0f);
  }
  for (int64_t p : out->pads)
    if (p < 0) return Status::Error(pad.describe() + ": negative pads (cropping) are not supported");
  return Status::Ok();
}

Status conv_pads(const Node& conv, int pads[4]) {
  const std::string auto_pad = conv.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    return Status::Error(conv.describe() + ": auto_pad=" + auto_pad + " is not supported (export explicit pads)");
  std::vector<int64_t> p = conv.get_ints("pads", {0, 0, 0, 0});
  if (auto_pad == "VALID") p = {0, 0, 0, 0};
  if (p.size() != 4) return Status::Error(conv.describe() + ": expected 4 pads for a 2-D operation");
  pads[0] = int(p[0]);  // top (H begin)
  pads[1] = int(p[1]);  // left (W begin)
  pads[2] = int(p[2]);  // bottom (H end)
  pads[3] = int(p[3]);  // right (W end)
  return Status::Ok();
}

Status resolve_binary_padding(const Graph& g, const Plan& plan, const Node& conv, BinaryInput* out) {
  *out = BinaryInput();
  Status s = conv_pads(conv, out->pads);
  if (!s.ok()) return s;
  const std::string& x = conv.inputs[0];
  if (plan.binary_values.count(x) != 0) {
    out->is_binary = true;
    out->value = x;
    return Status::Ok();
  }
  const Node* pad = g.producer(x);
  if (pad == nullptr || pad->op_type != "Pad" || plan.binary_values.count(pad->inputs[0]) == 0) return Status::Ok();
  PadAttributes attrs;
  s = read_pad(g, *pad, &attrs);
  if (!s.ok()) return s;
  const std::string where = conv.describe() + ": its input is " + pad->describe() + " of a binary activation";
  if (attrs.mode != "constant") return Status::Error(where + " with mode '" + attrs.mode + "'; only constant padding is supported");
  if (attrs.pads.size() != 8 || attrs.pads[0] || attrs.pads[1] || attrs.pads[4] || attrs.pads[5])
    return Status::Error(where + " that pads other axes than H and W");
  const bool own_pads = out->pads[0] || out->pads[1] || out->pads[2] || out->pads[3];
  const int extra[4] = {int(attrs.pads[2]), int(attrs.pads[3]), int(attrs.pads[6]), int(attrs.pads[7])};
  if (attrs.value == 0.0f) {
    out->mode = kernels::PadMode::kZero;
  } else if (attrs.value == 1.0f || attrs.value == -1.0f) {
    if (own_pads)
      return Status::Error(where + " with value " + std::to_string(attrs.value) +
                           " and the conv also has its own (zero) pads: mixed padding cannot be expressed");
    out->mode = attrs.value == 1.0f ? kernels::PadMode::kOne : kernels::PadMode::kMinusOne;
  } else {
    return Status::Error(where + " with value " + std::to_string(attrs.value) +
                         "; a binary conv can pad with 0, +1 or -1 only");
  }
  for (int i = 0; i < 4; ++i) out->pads[i] += extra[i];
  out->is_binary = true;
  out->value = pad->inputs[0];
  out->absorbed_pad = pad->name;
  return Status::Ok();
}

}  // namespace onebit::converter
