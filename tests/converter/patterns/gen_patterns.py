"""Generates the converter's "public BNN code base" pattern models: one small PyTorch model per family, each
written the way a well-known BNN code base writes its layers (see converter/README.md, "Which PyTorch BNN
code converts"), briefly trained on a synthetic task, then exported with plain torch.onnx.export the way users
of those code bases do it.

Usage: /usr/bin/python3 tests/converter/patterns/gen_patterns.py [OUT_DIR]   (default: this folder)

Per family NAME:
  NAME.o11.fixed.onnx, NAME.o11.dyn.onnx, NAME.o13.fixed.onnx, NAME.o13.dyn.onnx   (opset x batch 1 / dynamic batch)
  NAME.input.f32   100 reference inputs, raw little-endian float32, [100, C, H, W] (NCHW)
  NAME.output.f32  PyTorch's eval-mode outputs for them, raw float32, [100, classes]
  NAME.json        family, description, shapes, binary_layers, variants, min_abs_sign_input, ops, ...
Plus the ternary case sign_after_relu (ONNX, JSON, shared inputs, one output file per variant) and the
low-bit families (LOWBIT_FAMILIES: DoReFa, PACT, LSQ, torch.ao fake quant, BWN; opset 13, fixed batch, one
shared input file lowbit.input.f32, NAME.output.f32, NAME.json with layer_kinds and min_tie_distance).

Deterministic: fixed seeds, one CPU thread; running it twice gives identical files."""
import json
import math
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
COUNT = 100          # reference images per family
CLASSES = 10
TRAIN_STEPS = 40
OPSETS = (11, 13)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
warnings.filterwarnings("ignore")  # TracerWarnings about Python ints / constant tensors, like users get

# ---------------------------------------------------------------------------------------------------------
# Recording how close the inputs of activation Signs come to 0. A Python-only side path: skipped while
# tracing, so the exported graph is exactly what the model's own forward() exports.
_SIGN_MIN = None  # list of per-image tensors while recording, else None


def note_sign_input(x):
    if _SIGN_MIN is not None and not torch.jit.is_tracing():
        _SIGN_MIN.append(x.detach().abs().flatten(1).min(dim=1).values)


def run_recording_signs(model, x):
    """model(x) without gradients, and per image the smallest |t| any note_sign_input(t) saw during it."""
    global _SIGN_MIN
    _SIGN_MIN = []
    with torch.no_grad():
        out = model(x)
    min_abs = torch.stack(_SIGN_MIN).min(dim=0).values
    _SIGN_MIN = None
    return out, min_abs


class STESign(torch.autograd.Function):
    """sign(x) forward (exports as an inlined ONNX Sign); straight-through gradient inside |x| <= 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sign()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).type_as(grad)


# ---------------------------------------------------------------------------------------------------------
# Family 1 and 2: ReActNet / Bi-Real Net. Polynomial straight-through sign and a real-valued weight whose
# binary version (mean |W| per output channel times sign W) is computed inside forward().

class PolySign(nn.Module):
    """sign(x) forward; the piecewise quadratic approximation of sign carries the gradient."""

    def forward(self, x):
        note_sign_input(x)
        hard = torch.sign(x)
        below_m1 = (x < -1).type(torch.float32)
        below_0 = (x < 0).type(torch.float32)
        below_p1 = (x < 1).type(torch.float32)
        approx = -1 * below_m1 + (x * x + 2 * x) * (1 - below_m1)
        approx = approx * below_0 + (-x * x + 2 * x) * (1 - below_0)
        approx = approx * below_p1 + 1 * (1 - below_p1)
        return hard.detach() - approx.detach() + approx


class ScaledSignConv(nn.Module):
    """3x3 conv on real weights W; forward uses mean(|W|) * sign(W) with a clamp straight-through."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.05)

    def forward(self, x):
        w = self.weight
        scale = w.abs().mean(dim=3, keepdim=True).mean(dim=2, keepdim=True).mean(dim=1, keepdim=True)
        binary_value = scale * torch.sign(w)
        clipped = torch.clamp(w, -1.0, 1.0)
        bw = binary_value.detach() - clipped.detach() + clipped
        return F.conv2d(x, bw, stride=self.stride, padding=1)


class ShiftBias(nn.Module):
    """A learnable per-channel offset, broadcast with expand_as (exports Shape -> Expand -> Add)."""

    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x):
        return x + self.bias.expand_as(x)


class RPReLU(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.shift_in = ShiftBias(c)
        self.prelu = nn.PReLU(c)
        self.shift_out = ShiftBias(c)

    def forward(self, x):
        # x - b0 written as a subtraction of the expanded bias, as ReActNet does
        x = x - self.shift_in.bias.expand_as(x)
        return self.shift_out(self.prelu(x))


class ReActBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.move = ShiftBias(cin)          # RSign = sign(x + b)
        self.act = PolySign()
        self.conv = ScaledSignConv(cin, cout, stride)
        self.bn = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, ceil_mode=True) if stride != 1 else nn.Identity(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        else:
            self.shortcut = None
        self.rprelu = RPReLU(cout)

    def forward(self, x):
        out = self.bn(self.conv(self.act(self.move(x))))
        out = out + (self.shortcut(x) if self.shortcut is not None else x)
        return self.rprelu(out)


class ReActNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16))
        self.blocks = nn.Sequential(ReActBlock(16, 16, 1), ReActBlock(16, 32, 2), ReActBlock(32, 32, 1),
                                    ReActBlock(32, 32, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.pool(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


class BiRealBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.act = PolySign()
        self.conv = ScaledSignConv(cin, cout, stride)
        self.bn = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.AvgPool2d(kernel_size=2, stride=stride),
                                            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.bn(self.conv(self.act(x)))
        out += residual
        return out


class BiRealTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layers = nn.Sequential(BiRealBlock(16, 16, 1), BiRealBlock(16, 16, 1), BiRealBlock(16, 32, 2),
                                    BiRealBlock(32, 32, 1))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.layers(self.bn1(self.conv1(x)))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


# ---------------------------------------------------------------------------------------------------------
# Family 3: IR-Net. Weights balanced + standardized in forward, a power-of-two scale, custom autograd sign
# (error decay estimator backward). ResNet-20-for-CIFAR layout with option-A shortcuts.

class EDESign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k, t):
        ctx.save_for_backward(x, k, t)
        return x.sign()

    @staticmethod
    def backward(ctx, grad):
        x, k, t = ctx.saved_tensors
        return grad * k * t * (1 - torch.pow(torch.tanh(x * t), 2)), None, None


class IRConv2d(nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.k = torch.tensor([10.0])
        self.t = torch.tensor([0.1])

    def forward(self, x):
        w = self.weight
        bw = w - w.view(w.size(0), -1).mean(-1).view(w.size(0), 1, 1, 1)
        bw = bw / bw.view(bw.size(0), -1).std(-1).view(bw.size(0), 1, 1, 1)
        sw = torch.pow(torch.tensor([2.0] * bw.size(0)),
                       (torch.log(bw.abs().view(bw.size(0), -1).mean(-1)) / math.log(2)).round().float())
        sw = sw.view(bw.size(0), 1, 1, 1).detach()
        bw = EDESign.apply(bw, self.k, self.t) * sw
        note_sign_input(x)
        ba = EDESign.apply(x, self.k, self.t)
        return F.conv2d(ba, bw, self.bias, self.stride, self.padding, self.dilation, self.groups)


class PadShortcut(nn.Module):
    """ResNet-CIFAR option A: subsample by 2, zero-pad the channels."""

    def __init__(self, planes):
        super().__init__()
        self.planes = planes

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.planes // 4, self.planes // 4), "constant", 0)


class IRBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = IRConv2d(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = IRConv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = PadShortcut(planes) if stride != 1 or cin != planes else nn.Sequential()

    def forward(self, x):
        out = F.hardtanh(self.bn1(self.conv1(x)) + self.shortcut(x))
        out = F.hardtanh(self.bn2(self.conv2(out)) + out)
        return out


class IRNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = IRBlock(16, 16, 1)
        self.layer2 = IRBlock(16, 32, 2)
        self.linear = nn.Linear(32, CLASSES)

    def forward(self, x):
        out = F.hardtanh(self.bn1(self.conv1(x)))
        out = self.layer2(self.layer1(out))
        # The usual ResNet-CIFAR line F.avg_pool2d(out, out.size()[3]) does not trace in torch 1.13
        # ("kernel_size must be tuple of ints, not Tensor"); users write int(...) instead.
        out = F.avg_pool2d(out, int(out.size()[3]))
        out = out.view(out.size(0), -1)
        return self.linear(out)


# ---------------------------------------------------------------------------------------------------------
# Family 4: XNOR-Net (XNOR-Net-PyTorch arrangement): BN -> BinActive -> Dropout -> Conv(alpha*sign W) -> ReLU.

class BinActive(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sign()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g = grad.clone()
        g[x.ge(1)] = 0
        g[x.le(-1)] = 0
        return g


class XnorConv(nn.Module):
    def __init__(self, cin, cout, k, padding, dropout=0.0):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin, eps=1e-4, momentum=0.1, affine=True)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.conv = nn.Conv2d(cin, cout, k, stride=1, padding=padding)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.bn(x)
        note_sign_input(x)
        x = BinActive.apply(x)
        if self.dropout is not None:
            x = self.dropout(x)
        w = self.conv.weight
        n = w[0].nelement()
        alpha = w.norm(1, 3, keepdim=True).sum(2, keepdim=True).sum(1, keepdim=True).div(n)
        x = F.conv2d(x, alpha * STESign.apply(w), self.conv.bias, self.conv.stride, self.conv.padding)
        return self.relu(x)


class XnorNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.xnor = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=1, padding=1),
            nn.BatchNorm2d(16, eps=1e-4, momentum=0.1, affine=False),
            nn.ReLU(inplace=True),
            XnorConv(16, 32, 3, padding=1),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            XnorConv(32, 32, 3, padding=1, dropout=0.5),
            XnorConv(32, 64, 1, padding=0),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.BatchNorm2d(64, eps=1e-4, momentum=0.1, affine=False),
            nn.Conv2d(64, CLASSES, kernel_size=1, stride=1, padding=0),
            nn.ReLU(inplace=True),
            nn.AvgPool2d(kernel_size=4, stride=1, padding=0),
        )

    def forward(self, x):
        x = self.xnor(x)
        return x.view(x.size(0), CLASSES)


# ---------------------------------------------------------------------------------------------------------
# Family 5: BinaryNet / BNN (BinaryNet.pytorch style): ±1 weights (no scale), inputs signed except the
# first layer's, bias added with expand_as, conv -> MaxPool -> BN -> Hardtanh, LogSoftmax at the end.

class BinarizeConv2d(nn.Conv2d):
    def forward(self, x):
        if x.size(1) != 3:
            note_sign_input(x)
            x = STESign.apply(x)
        out = F.conv2d(x, STESign.apply(self.weight), None, self.stride, self.padding, self.dilation, self.groups)
        if self.bias is not None:
            out += self.bias.view(1, -1, 1, 1).expand_as(out)
        return out


class BinarizeLinear(nn.Linear):
    def forward(self, x):
        note_sign_input(x)
        x = STESign.apply(x)
        out = F.linear(x, STESign.apply(self.weight))
        if self.bias is not None:
            out += self.bias.view(1, -1).expand_as(out)
        return out


class BinaryNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            BinarizeConv2d(3, 32, 3, padding=1, bias=True),
            nn.BatchNorm2d(32),
            nn.Hardtanh(inplace=True),
            BinarizeConv2d(32, 32, 3, padding=1, bias=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.BatchNorm2d(32),
            nn.Hardtanh(inplace=True),
            BinarizeConv2d(32, 16, 3, padding=1, bias=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.BatchNorm2d(16),
            nn.Hardtanh(inplace=True),
        )
        self.classifier = nn.Sequential(
            BinarizeLinear(16 * 4 * 4, 64, bias=True),
            nn.BatchNorm1d(64),
            nn.Hardtanh(inplace=True),
            BinarizeLinear(64, CLASSES, bias=True),
            nn.BatchNorm1d(CLASSES, affine=False),
            nn.LogSoftmax(dim=1),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(-1, 16 * 4 * 4)
        return self.classifier(x)


# ---------------------------------------------------------------------------------------------------------
# Family 6: the `bnn` library (binary-networks-pytorch): layers with activation / weight pre-process
# modules and Identity post-process, BN -> binary conv -> PReLU blocks with a residual.

class InputBinarizer(nn.Module):
    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale  # a Python float: the exporter keeps Div / Mul by a constant 1.0

    def forward(self, x):
        note_sign_input(x.div(self.scale))
        return STESign.apply(x.div(self.scale)).mul(self.scale)


class XNORWeightBinarizer(nn.Module):
    def forward(self, w):
        return STESign.apply(w) * w.abs().mean(dim=(1, 2, 3), keepdim=True)


class PreprocConv2d(nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.activation_pre_process = InputBinarizer(1.0)
        self.weight_pre_process = XNORWeightBinarizer()
        self.activation_post_process = nn.Identity()

    def forward(self, x):
        x = self.activation_pre_process(x)
        w = self.weight_pre_process(self.weight)
        return self.activation_post_process(
            F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups))


class BnnLibBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn = nn.BatchNorm2d(cin)
        self.conv = PreprocConv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.act = nn.PReLU(cout)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.AvgPool2d(kernel_size=stride, stride=stride),
                                          nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        return self.act(self.conv(self.bn(x))) + self.shortcut(x)


class BnnLibTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = nn.PReLU(16)
        self.layer1 = nn.Sequential(BnnLibBlock(16, 16, 1), BnnLibBlock(16, 16, 1))
        self.layer2 = nn.Sequential(BnnLibBlock(16, 32, 2), BnnLibBlock(32, 32, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Identity()
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = self.drop(torch.flatten(self.pool(x), 1))
        return self.fc(x)


# ---------------------------------------------------------------------------------------------------------
# Error case: Sign of a ReLU output (or of a MaxPool of one) -> binary conv. sign(0) = 0 in ONNX/PyTorch.

class ReluSignConv(nn.Module):
    def __init__(self, with_maxpool):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1)
        self.with_maxpool = with_maxpool
        # already-binarized weights (alpha * ±1) held as a buffer: a plain initializer, so the only thing
        # wrong with this graph is the Sign of exact zeros
        w = torch.randn(16, 16, 3, 3)
        self.register_buffer("bw", w.abs().mean(dim=(1, 2, 3), keepdim=True) * torch.sign(w))
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, CLASSES)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        if self.with_maxpool:
            x = F.max_pool2d(x, 2)
        x = self.bn(F.conv2d(torch.sign(x), self.bw, padding=1))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------------------------------------------------
# Low-bit families (k-bit activations, 1- and 2-bit weights, BWN), written from the papers. All use one
# shared synthetic task and one shared reference input file (lowbit.input.f32), 1x12x12 images, and are
# exported at opset 13 with a fixed batch. Per image the JSON records the smallest distance of any
# quantizer's pre-rounding value to a rounding tie (min_tie_distance), recorded like the Sign margins.
_TIE_MIN = None


def note_round_input(t, lo=None, hi=None):
    """t: the value a quantizer rounds. Records per image the distance to the nearest .5 tie; values a clamp
    [lo, hi] after the rounding saturates anyway (t < lo - 0.5 or t > hi + 0.5) do not count."""
    if _TIE_MIN is not None and not torch.jit.is_tracing():
        t = t.detach()
        d = (t - torch.floor(t) - 0.5).abs()
        if lo is not None:
            d = torch.where((t < lo - 0.5) | (t > hi + 0.5), torch.full_like(d, 0.5), d)
        _TIE_MIN.append(d.flatten(1).min(dim=1).values)


def ste(x, q):
    """x + (q - x).detach(): forward q, gradient of x (DoReFa / PACT code writes exactly this)."""
    return x + (q - x).detach()


class DoReFaAct(nn.Module):
    """DoReFa-Net (Zhou et al. 2016) activation: q = round(clip(x, 0, 1) * n) / n, n = 2^k - 1."""

    def __init__(self, k):
        super().__init__()
        self.n = float(2 ** k - 1)

    def forward(self, x):
        x = torch.clamp(x, 0.0, 1.0)
        note_round_input(x * self.n)
        q = torch.round(x * self.n) / self.n
        return ste(x, q)


class PACTAct(nn.Module):
    """PACT (Choi et al. 2018): y = clip(x, 0, alpha) with a learned alpha, q = round(y * n / alpha) * alpha / n."""

    def __init__(self, k, alpha=3.0):
        super().__init__()
        self.n = float(2 ** k - 1)
        self.alpha = nn.Parameter(torch.tensor(alpha))

    def forward(self, x):
        y = torch.minimum(torch.relu(x), self.alpha)
        note_round_input(y * self.n / self.alpha)
        q = torch.round(y * self.n / self.alpha) * self.alpha / self.n
        return ste(y, q)


class LSQAct(nn.Module):
    """LSQ (Esser et al. 2019): q = clamp(round(x / s), lo, hi) * s with a learned step s (round with STE)."""

    def __init__(self, lo, hi, s=0.5):
        super().__init__()
        self.lo, self.hi = lo, hi
        self.s = nn.Parameter(torch.tensor(s))

    def forward(self, x):
        t = x / self.s
        note_round_input(t, self.lo, self.hi)
        r = (t.round() - t).detach() + t   # round_pass
        return torch.clamp(r, self.lo, self.hi) * self.s


class FakeQuantAct(nn.Module):
    """torch.ao fake quantization, quint8 range narrowed to 0..15 (4 bits). Trains with FakeQuantize; torch
    1.13 cannot export that range (recorded in failed_variants), so the export writes the same formula out:
    (clamp(round(x / s) + zp, 0, 15) - zp) * s."""

    def __init__(self):
        super().__init__()
        import torch.ao.quantization as tq
        self.fq = tq.FakeQuantize(observer=tq.MovingAverageMinMaxObserver, quant_min=0, quant_max=15,
                                  dtype=torch.quint8, qscheme=torch.per_tensor_affine)
        self.explicit = False

    def forward(self, x):
        if not self.explicit:
            return self.fq(x)
        s, zp = float(self.fq.scale), float(self.fq.zero_point)
        note_round_input(x / s, -zp, 15.0 - zp)
        return (torch.clamp(torch.round(x / s) + zp, 0.0, 15.0) - zp) * s


def dorefa_weight(w, k):
    """DoReFa k-bit weights: k = 1: E(|w|) sign(w); k >= 2: 2 round(((tanh w / 2 max|tanh w|) + 1/2) n) / n - 1."""
    if k == 1:
        return ste(w, w.abs().mean() * torch.sign(w))
    n = float(2 ** k - 1)
    t = torch.tanh(w)
    t = t / (2 * t.abs().max()) + 0.5
    q = 2 * (torch.round(t * n) / n) - 1
    return ste(2 * t - 1, q)


def xnor_weight(w):
    """mean |W| per output channel times sign(W) (XNOR-Net / BWN alpha), with a clamp straight-through."""
    alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True)
    return ste(torch.clamp(w, -1, 1), alpha * torch.sign(w))


class QConv(nn.Module):
    """3x3 conv whose weights are quantized in forward (wq: 'dorefa1', 'dorefa2', 'xnor', 'pre2': precomputed
    2-bit levels held as a buffer)."""

    def __init__(self, cin, cout, stride, wq):
        super().__init__()
        self.stride, self.wq = stride, wq
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)

    def qweight(self):
        if self.wq == "dorefa1":
            return dorefa_weight(self.weight, 1)
        if self.wq in ("dorefa2", "pre2"):
            return dorefa_weight(self.weight, 2)
        return xnor_weight(self.weight)

    def freeze(self):
        """'pre2': store the quantized weights (what a checkpoint of precomputed weights exports)."""
        if self.wq == "pre2":
            self.register_buffer("frozen", self.qweight().detach().clone())

    def forward(self, x):
        w = self.frozen if hasattr(self, "frozen") else self.qweight()
        return F.conv2d(x, w, stride=self.stride, padding=1)


class LowBitNet(nn.Module):
    """stem conv (float) -> BN -> act -> qconv -> BN -> act -> qconv(stride 2) -> BN -> ReLU -> GAP -> FC."""

    def __init__(self, make_act, wq):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(16)
        self.act1 = make_act()
        self.conv1 = QConv(16, 16, 1, wq)
        self.bn1 = nn.BatchNorm2d(16)
        self.act2 = make_act()
        self.conv2 = QConv(16, 32, 2, wq)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.act1(self.bn0(self.stem(x)))
        x = self.act2(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class BWNNet(nn.Module):
    """BWN (Rastegari et al. 2016) / BinaryConnect: float activations, weights alpha * sign(W) computed in
    forward (alpha = mean |W| per output channel), for the inner convs and the classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(16)
        self.w1 = nn.Parameter(torch.randn(16, 16, 3, 3) * 0.1)
        self.bn1 = nn.BatchNorm2d(16)
        self.w2 = nn.Parameter(torch.randn(32, 16, 3, 3) * 0.1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc_w = nn.Parameter(torch.randn(CLASSES, 32) * 0.1)
        self.fc_b = nn.Parameter(torch.zeros(CLASSES))

    def forward(self, x):
        x = torch.relu(self.bn0(self.stem(x)))
        x = torch.relu(self.bn1(F.conv2d(x, xnor_weight(self.w1), padding=1)))
        x = torch.relu(self.bn2(F.conv2d(x, xnor_weight(self.w2), stride=2, padding=1)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        alpha = self.fc_w.abs().mean(dim=1, keepdim=True)
        return F.linear(x, ste(self.fc_w, alpha * torch.sign(self.fc_w)), self.fc_b)


LOWBIT_SHAPE = (1, 12, 12)
LOWBIT_COUNT = 64
LOWBIT_TASK_SEED = 3000
LOWBIT_FAMILIES = [
    dict(name="dorefa_w2a2", build=lambda: LowBitNet(lambda: DoReFaAct(2), "dorefa2"),
         layer_kinds={"BinaryConv2D W2A2": 2},
         description="DoReFa-Net W2A2: BN -> clip(0, 1) -> round(x*3)/3 with x + (q - x).detach(); 2-bit weights "
                     "2 round((tanh w / 2 max|tanh w| + 1/2) 3) / 3 - 1 computed in forward"),
    dict(name="dorefa_w1a4", build=lambda: LowBitNet(lambda: DoReFaAct(4), "dorefa1"),
         layer_kinds={"BinaryConv2D W1A4": 2},
         description="DoReFa-Net W1A4: 4-bit activations round(clip(x, 0, 1) * 15) / 15, weights E|w| sign(w)"),
    dict(name="pact_w1a2", build=lambda: LowBitNet(lambda: PACTAct(2), "xnor"),
         layer_kinds={"BinaryConv2D W1A2": 2},
         description="PACT W1A2: min(relu(x), alpha) with learned alpha, round(y * 3 / alpha) * alpha / 3 (STE), "
                     "weights mean|W| sign(W) per channel"),
    dict(name="pact_w2a4", build=lambda: LowBitNet(lambda: PACTAct(4), "pre2"),
         layer_kinds={"BinaryConv2D W2A4": 2},
         description="PACT W2A4: 4-bit PACT activations, 2-bit DoReFa weights stored precomputed (a buffer of "
                     "{-1, -1/3, 1/3, 1} values)"),
    dict(name="lsq_w1a2", build=lambda: LowBitNet(lambda: LSQAct(-2, 1, 0.5), "xnor"),
         layer_kinds={"BinaryConv2D W1A2": 2},
         description="LSQ W1A2, signed: BN -> clamp(round_pass(x / s), -2, 1) * s with learned s (zero level 2)"),
    dict(name="lsq_w1a4", build=lambda: LowBitNet(lambda: LSQAct(0, 15, 0.2), "xnor"),
         layer_kinds={"BinaryConv2D W1A4": 2},
         description="LSQ W1A4, unsigned: clamp(round_pass(x / s), 0, 15) * s with learned s"),
    # seed 3106 puts one BN-mapped level of conv1's (discrete) output 7e-6 from a tie for nearly every image
    dict(name="fakequant_w1a4", build=lambda: LowBitNet(FakeQuantAct, "xnor"), fakequant=True, seed=3206,
         layer_kinds={"BinaryConv2D W1A4": 2},
         description="torch.ao FakeQuantize quint8 0..15 (trained with the observer); exported as its formula "
                     "(clamp(round(x / s) + zp, 0, 15) - zp) * s since torch 1.13 cannot export that range"),
    dict(name="bwn", build=BWNNet, layer_kinds={"Conv2D (binary weights)": 2, "FullyConnected (binary weights)": 1},
         description="BWN / BinaryConnect: float activations, conv and linear weights alpha * sign(W) per output "
                     "channel computed in forward: 1-bit weights + alpha in the file, float compute"),
]


def make_lowbit_family(index, fam, x_ref, task):
    global _TIE_MIN
    name = fam["name"]
    seed = fam.get("seed", 3100 + index)
    torch.manual_seed(seed)
    model = fam["build"]()
    train(model, task, seed)
    for m in model.modules():
        if isinstance(m, QConv):
            m.freeze()
    failed = {}
    file = name + ".o13.fixed.onnx"
    if fam.get("fakequant"):
        import torch.ao.quantization as tq
        model.apply(tq.disable_observer)  # freeze scale / zero point, as before any export
        try:  # what users try first: export the FakeQuantize modules as they are
            export(model, LOWBIT_SHAPE, os.path.join(OUT, file), 13, False)
        except Exception as e:  # noqa: BLE001
            failed[file + " (FakeQuantize modules)"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:160])
        if os.path.exists(os.path.join(OUT, file)):
            os.remove(os.path.join(OUT, file))
        for m in model.modules():
            if isinstance(m, FakeQuantAct):
                m.explicit = True
    _TIE_MIN = []
    with torch.no_grad():
        out = model(x_ref)
    tie = torch.stack(_TIE_MIN).min(dim=0).values if _TIE_MIN else torch.full((x_ref.shape[0],), 0.5)
    _TIE_MIN = None
    out.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".output.f32"))
    export(model, LOWBIT_SHAPE, os.path.join(OUT, file), 13, False)
    meta = dict(
        family=name, description=fam["description"], input_shape=list(LOWBIT_SHAPE), classes=CLASSES,
        count=LOWBIT_COUNT, input_file="lowbit.input.f32", binary_layers=sum(
            v for k, v in fam["layer_kinds"].items() if k.startswith("Binary")),
        layer_kinds=fam["layer_kinds"], variants=[file], failed_variants=failed, ops=op_types(os.path.join(OUT, file)),
        seed=seed, min_tie_distance=[float("%.6g" % v) for v in tie.tolist()])
    write_json(os.path.join(OUT, name + ".json"), meta)
    print("%-14s variants 1  failed %s  ops %s" % (name, list(failed), meta["ops"]))


def make_lowbit():
    task = Task(LOWBIT_SHAPE, LOWBIT_TASK_SEED)
    x, _ = task.sample(LOWBIT_COUNT, torch.Generator().manual_seed(LOWBIT_TASK_SEED + 2))
    x.numpy().astype("<f4").tofile(os.path.join(OUT, "lowbit.input.f32"))
    for i, fam in enumerate(LOWBIT_FAMILIES):
        make_lowbit_family(i, fam, x, task)


FAMILIES = [
    dict(name="reactnet", build=ReActNetTiny, shape=(3, 16, 16), binary_layers=4,
         description="ReActNet: RSign (x + expand_as bias) -> polynomial-STE sign -> conv on mean|W|*sign(W) "
                     "(clamp STE) -> BN + shortcut (AvgPool ceil_mode + 1x1 conv + BN) -> RPReLU"),
    dict(name="bireal", build=BiRealTiny, shape=(3, 16, 16), binary_layers=4,
         description="Bi-Real Net: out = BN(conv(polynomial-STE sign(x))) + x around every binary conv, "
                     "weights mean|W|*sign(W) with clamp STE, downsample AvgPool(2) + 1x1 conv + BN"),
    dict(name="irnet", build=IRNetTiny, shape=(3, 16, 16), binary_layers=4,
         description="IR-Net: balanced+standardized weights, sign(W)*2^round(log2 mean|W|), custom autograd sign, "
                     "ResNet-20 blocks hardtanh(BN(conv) + shortcut) with option-A (strided slice + channel pad)"),
    # seed 1003 happens to put one BN-mapped level of a binary conv's (discrete) output at 1.2e-6 from 0, so
    # nearly every image has a Sign input within 1e-5 of 0 and the logit comparison would check almost nothing
    dict(name="xnornet", build=XnorNetTiny, shape=(3, 16, 16), binary_layers=3, seed=1203,
         description="XNOR-Net: BN -> BinActive (custom autograd sign) -> Dropout -> Conv(alpha*sign W, bias) "
                     "-> ReLU, MaxPool between stages, float first and last layers"),
    dict(name="binarynet", build=BinaryNetTiny, shape=(3, 16, 16), binary_layers=4,
         description="BinaryNet: ±1 weights (sign W, no scale), sign of inputs except layer 1, expand_as bias, "
                     "conv -> MaxPool -> BN -> Hardtanh, view -> sign -> linear -> BN1d, LogSoftmax"),
    dict(name="bnn_lib", build=BnnLibTiny, shape=(3, 16, 16), binary_layers=4,
         description="bnn library: input pre-process x.div(1.0).sign().mul(1.0), XNOR weight pre-process "
                     "sign(W)*mean|W|, Identity post-process, BN -> binary conv -> PReLU + residual"),
]


# ---------------------------------------------------------------------------------------------------------
# The synthetic task: per class a Gaussian blob in a 16-d latent space, pushed through a fixed random linear
# map to image shape, plus pixel noise.

class Task:
    def __init__(self, shape, seed):
        g = torch.Generator().manual_seed(seed)
        self.shape = shape
        self.latent = 16
        self.means = torch.randn(CLASSES, self.latent, generator=g) * 2.0
        self.proj = torch.randn(int(np.prod(shape)), self.latent, generator=g) / math.sqrt(self.latent)

    def sample(self, n, g):
        y = torch.randint(0, CLASSES, (n,), generator=g)
        z = self.means[y] + torch.randn(n, self.latent, generator=g)
        x = z @ self.proj.t() + 0.3 * torch.randn(n, self.proj.shape[0], generator=g)
        return x.view(n, *self.shape), y


def train(model, task, seed, log_softmax_output=False):
    g = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    model.train()
    for _ in range(TRAIN_STEPS):
        x, y = task.sample(64, g)
        out = model(x)
        loss = F.nll_loss(out, y) if log_softmax_output else F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def export(model, shape, path, opset, dynamic):
    x = torch.zeros(1, *shape)
    kwargs = dict(opset_version=opset, do_constant_folding=True, input_names=["input"], output_names=["output"])
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, x, path, **kwargs)
    onnx.checker.check_model(onnx.load(path))


def export_variants(model, shape, name, out=None):
    """NAME.o{11,13}.{fixed,dyn}.onnx in `out` (default OUT); returns (files written, {file: export error})."""
    out = out or OUT
    variants, failed = [], {}
    for opset in OPSETS:
        for dynamic in (False, True):
            file = "%s.o%d.%s.onnx" % (name, opset, "dyn" if dynamic else "fixed")
            try:
                export(model, shape, os.path.join(out, file), opset, dynamic)
                variants.append(file)
            except Exception as e:  # noqa: BLE001 - recorded in the JSON and README
                failed[file] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
                if os.path.exists(os.path.join(out, file)):
                    os.remove(os.path.join(out, file))
    return variants, failed


def op_types(path):
    return sorted({n.op_type for n in onnx.load(path).graph.node})


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def make_family(index, fam):
    name, shape = fam["name"], fam["shape"]
    seed = fam.get("seed", 1000 + index)
    torch.manual_seed(seed)
    model = fam["build"]()
    task = Task(shape, seed)
    train(model, task, seed, log_softmax_output=(name == "binarynet"))

    # reference data (eval mode), from the task's test distribution
    x, y = task.sample(COUNT, torch.Generator().manual_seed(seed + 2))
    out, min_abs = run_recording_signs(model, x)
    x.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".input.f32"))
    out.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".output.f32"))
    accuracy = float((out.argmax(1) == y).float().mean())

    variants, failed = export_variants(model, shape, name)

    ops_file = name + ".o13.fixed.onnx"
    meta = dict(
        family=name,
        description=fam["description"],
        input_shape=list(shape),
        classes=CLASSES,
        count=COUNT,
        binary_layers=fam["binary_layers"],
        variants=variants,
        failed_variants=failed,
        ops=op_types(os.path.join(OUT, ops_file)) if ops_file in variants else [],
        seed=seed,
        pytorch_accuracy_on_reference=round(accuracy, 4),
        min_abs_sign_input=[float("%.6g" % v) for v in min_abs.tolist()],
    )
    write_json(os.path.join(OUT, name + ".json"), meta)
    print("%-10s acc %.2f  variants %d  failed %s  ops %s" % (name, accuracy, len(variants), list(failed), meta["ops"]))


SIGN_AFTER_RELU_COUNT = 32


def make_sign_after_relu():
    name = "sign_after_relu"
    variants, sign_nodes, outputs, margins = [], [], [], []
    x = torch.randn(SIGN_AFTER_RELU_COUNT, 1, 16, 16, generator=torch.Generator().manual_seed(2100))
    x.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".input.f32"))
    for i, with_maxpool in enumerate((False, True)):
        torch.manual_seed(2000 + i)
        model = ReluSignConv(with_maxpool)
        for p in model.bn.parameters():
            p.data.uniform_(0.5, 1.5)
        model.bn.running_mean.normal_(0, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
        model.eval()
        file = name + (".maxpool" if with_maxpool else "") + ".o13.fixed.onnx"
        with torch.no_grad():
            out = model(x)
            # smallest nonzero |x| a Sign sees (exact zeros are exact in the ternary conversion)
            pre = torch.relu(model.stem(x))
            if with_maxpool:
                pre = F.max_pool2d(pre, 2)
            nz = torch.where(pre == 0, torch.full_like(pre, float("inf")), pre.abs())
            margins.append([float("%.6g" % v) for v in nz.flatten(1).min(dim=1).values.tolist()])
        out_file = name + (".maxpool" if with_maxpool else "") + ".output.f32"
        out.numpy().astype("<f4").tofile(os.path.join(OUT, out_file))
        outputs.append(out_file)
        export(model, (1, 16, 16), os.path.join(OUT, file), 13, False)
        variants.append(file)
        graph = onnx.load(os.path.join(OUT, file)).graph
        sign_nodes.append([n.name for n in graph.node if n.op_type == "Sign"])
    write_json(os.path.join(OUT, name + ".json"), dict(
        family=name,
        description="ternary case: Relu (and MaxPool of a Relu) -> Sign -> binary conv; the Sign sees exact zeros "
                    "(sign(0) = 0 in ONNX): an exact ternary activation by default, refused with --sign-zero=error, "
                    "binary with --sign-zero=plus-one",
        input_shape=[1, 16, 16],
        classes=CLASSES,
        count=SIGN_AFTER_RELU_COUNT,
        binary_layers=1,
        layer_kinds={"BinaryConv2D W1 ternary": 1},
        variants=variants,
        outputs=outputs,
        sign_nodes=[s[0] for s in sign_nodes],
        min_abs_nonzero_sign_input=margins,
        expected_error_contains="sign(0)",
    ))
    print("%-10s variants %s  sign nodes %s" % (name, variants, sign_nodes))


def main():
    os.makedirs(OUT, exist_ok=True)
    only = os.environ.get("ONEBIT_PATTERNS_ONLY", "")  # "lowbit": only the low-bit families and sign_after_relu
    if only != "lowbit":
        for i, fam in enumerate(FAMILIES):
            make_family(i, fam)
    make_sign_after_relu()
    make_lowbit()


if __name__ == "__main__":
    main()
