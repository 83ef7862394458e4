"""QuantizeLinear / DequantizeLinear fixtures (issue 21): a W2A2 LSQ-style model the way the quantization
toolkits export it, for the low-bit pattern test (tests/converter/patterns_test.cc).

  fakequant_w2a2  PyTorch's own fake-quant functions, exported by torch.onnx.export at opset 13. torch 1.13
                  exports only the 8-bit ranges, so the 2-bit quantizers are written as users write them:
                  activations clamp(x, lo*s, hi*s) -> fake_quantize_per_tensor_affine(x, s, 0, 0..255 or
                  -128..127) (Clip -> QuantizeLinear -> DequantizeLinear), weights
                  min(max(w, -2 s_c), 1 s_c) -> fake_quantize_per_channel_affine(w, s_c, 0, axis 0, -128..127)
                  (Max / Min -> QuantizeLinear(axis 0) -> DequantizeLinear on the float initializer): LSQ's
                  signed levels {-2, -1, 0, 1} * s_c.
  qcdq_w2a2       the same trained model written with the onnx helper API in Brevitas's QCDQ form: every
                  quantizer QuantizeLinear(8-bit) -> Clip(integer bounds) -> DequantizeLinear, weights
                  per channel on the float initializer.

Both share lowbit.input.f32 (64 images of gen_patterns.py's low-bit task) and PyTorch's outputs for them.
Usage: /usr/bin/python3 tests/converter/patterns/gen_qdq.py [OUT_DIR]  (deterministic)."""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_patterns as gp  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
SEED = 3400


class FQAct(nn.Module):
    """LSQ activation with integer range [lo, hi] through PyTorch's fake quant: clamp to [lo s, hi s], then
    fake_quantize_per_tensor_affine over the full 8-bit range of the sign (uint8 for lo >= 0, else int8)."""

    def __init__(self, lo, hi, s):
        super().__init__()
        self.lo, self.hi, self.s = lo, hi, s

    def forward(self, x):
        x = torch.clamp(x, self.lo * self.s, self.hi * self.s)
        gp.note_round_input(x / self.s)
        qmin, qmax = (0, 255) if self.lo >= 0 else (-128, 127)
        return torch.fake_quantize_per_tensor_affine(x, self.s, 0, qmin, qmax)


class FQConv(nn.Module):
    """3x3 conv with LSQ 2-bit signed weights {-2, -1, 0, 1} * s_c (per output channel, s_c from LSQ's
    initialization 2 mean|w| / sqrt(1), kept fixed), through fake_quantize_per_channel_affine."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)
        self.register_buffer("s", 2 * self.weight.detach().abs().mean(dim=(1, 2, 3)))
        self.register_buffer("zp", torch.zeros(cout, dtype=torch.int32))

    def qweight(self):
        s = self.s.view(-1, 1, 1, 1)
        w = torch.min(torch.max(self.weight, -2 * s), 1 * s)
        return torch.fake_quantize_per_channel_affine(w, self.s, self.zp, 0, -128, 127)

    def forward(self, x):
        return F.conv2d(x, self.qweight(), stride=self.stride, padding=1)


class FQNet(nn.Module):
    """stem conv -> BN -> act [0, 3] (uint8) -> qconv -> BN -> act [-2, 1] (int8) -> qconv(stride 2) -> BN ->
    ReLU -> GAP -> FC: LowBitNet's layout (gen_patterns.py) with one unsigned and one signed activation."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(16)
        self.act1 = FQAct(0, 3, 0.4)
        self.conv1 = FQConv(16, 16, 1)
        self.bn1 = nn.BatchNorm2d(16)
        self.act2 = FQAct(-2, 1, 0.5)
        self.conv2 = FQConv(16, 32, 2)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, gp.CLASSES)

    def forward(self, x):
        x = self.act1(self.bn0(self.stem(x)))
        x = self.act2(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def init(name, a, dtype=None):
    a = np.asarray(a if dtype is None else np.asarray(a).astype(dtype))
    return numpy_helper.from_array(a, name)


def qcdq_graph(model):
    """The trained model in Brevitas's QCDQ form (onnx helper API): Q(8-bit) -> Clip(int) -> DQ everywhere."""
    nodes, inits = [], []

    def t(x):
        return x.detach().numpy().astype(np.float32)

    def quant(x, name, s, zp_dtype, lo, hi, axis=None):
        scale, zero = name + "_scale", name + "_zp"
        inits.extend([init(scale, s, np.float32), init(zero, np.zeros(np.shape(s)), zp_dtype),
                      init(name + "_lo", lo, zp_dtype), init(name + "_hi", hi, zp_dtype)])
        kw = {} if axis is None else {"axis": axis}
        nodes.append(helper.make_node("QuantizeLinear", [x, scale, zero], [name + "_q"], name + "_quant", **kw))
        nodes.append(helper.make_node("Clip", [name + "_q", name + "_lo", name + "_hi"], [name + "_c"], name + "_clip"))
        nodes.append(helper.make_node("DequantizeLinear", [name + "_c", scale, zero], [name], name + "_dequant", **kw))
        return name

    def bn(x, name, m):
        for k, v in (("scale", m.weight), ("bias", m.bias), ("mean", m.running_mean), ("var", m.running_var)):
            inits.append(init("%s_%s" % (name, k), t(v)))
        nodes.append(helper.make_node("BatchNormalization", [x] + ["%s_%s" % (name, k) for k in ("scale", "bias", "mean", "var")],
                                      [name], name, epsilon=m.eps))
        return name

    def conv(x, name, w, stride):
        nodes.append(helper.make_node("Conv", [x, w], [name], name, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride] * 2))
        return name

    def act(x, name, a):
        return quant(x, name, np.float32(a.s), np.uint8 if a.lo >= 0 else np.int8, a.lo, a.hi)

    def qweight(name, c):
        inits.append(init(name, t(c.weight)))
        return quant(name, name + "_wq", t(c.s), np.int8, -2, 1, axis=0)

    inits.append(init("stem_w", t(model.stem.weight)))
    x = conv("input", "stem", "stem_w", 1)
    x = act(bn(x, "bn0", model.bn0), "act1", model.act1)
    x = act(bn(conv(x, "conv1", qweight("conv1_w", model.conv1), 1), "bn1", model.bn1), "act2", model.act2)
    x = bn(conv(x, "conv2", qweight("conv2_w", model.conv2), 2), "bn2", model.bn2)
    nodes.append(helper.make_node("Relu", [x], ["relu"], "relu"))
    nodes.append(helper.make_node("GlobalAveragePool", ["relu"], ["gap"], "gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], "flatten"))
    inits.extend([init("fc_w", t(model.fc.weight)), init("fc_b", t(model.fc.bias))])
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["output"], "fc", transB=1))
    graph = helper.make_graph(nodes, "qcdq_w2a2", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, *gp.LOWBIT_SHAPE])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, gp.CLASSES])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_qdq.py")
    onnx.checker.check_model(m)
    return m


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    task = gp.Task(gp.LOWBIT_SHAPE, gp.LOWBIT_TASK_SEED)
    x, _ = task.sample(gp.LOWBIT_COUNT, torch.Generator().manual_seed(gp.LOWBIT_TASK_SEED + 2))
    torch.manual_seed(SEED)
    model = FQNet()
    gp.train(model, task, SEED)
    gp._TIE_MIN = []
    with torch.no_grad():
        out = model(x)
    tie = torch.stack(gp._TIE_MIN).min(dim=0).values
    gp._TIE_MIN = None
    kinds = {"BinaryConv2D W2A2": 2}
    fams = [("fakequant_w2a2", "PyTorch fake quant W2A2 (LSQ levels): Clip -> fake_quantize_per_tensor_affine "
             "(uint8 [0, 3] and int8 [-2, 1]), weights Max/Min clamp -> fake_quantize_per_channel_affine(axis 0, "
             "int8) with levels {-2, -1, 0, 1} * s_c; torch.onnx.export opset 13"),
            ("qcdq_w2a2", "the same model in Brevitas's QCDQ form, written with the onnx helper API: "
             "QuantizeLinear(8-bit) -> Clip(integer bounds) -> DequantizeLinear, per-channel weights")]
    for name, description in fams:
        file = name + ".o13.fixed.onnx"
        path = os.path.join(OUT, file)
        if name == "fakequant_w2a2":
            gp.export(model, gp.LOWBIT_SHAPE, path, 13, False)
        else:
            onnx.save(qcdq_graph(model), path)
        out.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".output.f32"))
        meta = dict(family=name, description=description, input_shape=list(gp.LOWBIT_SHAPE), classes=gp.CLASSES,
                    count=gp.LOWBIT_COUNT, input_file="lowbit.input.f32", binary_layers=2, layer_kinds=kinds,
                    variants=[file], failed_variants={}, ops=gp.op_types(path), seed=SEED,
                    min_tie_distance=[float("%.6g" % v) for v in tie.tolist()])
        gp.write_json(os.path.join(OUT, name + ".json"), meta)
        print("%-15s ops %s" % (name, meta["ops"]))


if __name__ == "__main__":
    main()
