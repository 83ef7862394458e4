"""Low-bit variants of the Fashion-MNIST binary ResNet (models/fashion_mnist/bnn.py), same topology:

  w1a2: binary weights alpha*sign(W) (per output channel alpha = mean|W|), 2-bit unipolar activations
        q = round(clamp(x, 0, 1) * 3) / 3 (DoReFa / PACT style, fixed clip 1), BatchNorm before the quantizer.
  bwn:  binary weights alpha*sign(W) (BinaryConnect / BWN), float activations (BN -> ReLU before the conv).

Stem conv, shortcuts (AvgPool + 1x1 conv + BN), PReLU, head BN/ReLU/pool and the FC stay float, as in W1A1.
Data loading and the weight binarization (sign with 0 -> +1, alpha = mean|W|) are imported from
models/fashion_mnist/bnn.py."""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fashion_mnist"))
from bnn import MEAN, STD, ResNetTrunk, binarize_weight, evaluate, load_split  # noqa: E402,F401  (shared with W1A1)

LEVELS = 3  # 2 bits: levels 0, 1/3, 2/3, 1


def quantize_a2(x):
    """2-bit unipolar activation quantizer, straight-through estimator written the ordinary way.

    Forward: q = round(clamp(x, 0, 1) * 3) / 3. Backward: d q / d x = 1 on 0 <= x <= 1, 0 outside (the clamp's
    gradient; the rounding is passed straight through). Traced for ONNX (eval) this gives
    Clip -> Mul -> Round -> Div -> Sub -> Add (the detach vanishes, leaving x_c + (q - x_c))."""
    x_c = torch.clamp(x, 0.0, 1.0)
    q = torch.round(x_c * LEVELS) / LEVELS
    return x_c + (q - x_c).detach()


def quantize_a2_export(x):
    """The same forward without the STE residue: exports as exactly Clip -> Mul -> Round -> Div."""
    return torch.round(torch.clamp(x, 0.0, 1.0) * LEVELS) / LEVELS


class ScaledBinaryConv(nn.Module):
    """3x3 conv, pad 1, with weights alpha * sign(W) (sign(0) = +1, i.e. torch.where(W >= 0, 1, -1)),
    alpha = mean |W| per output channel computed in forward; straight-through gradient to the latent W.

    After freeze(): persistent ±1 buffer and alpha buffer, exported as Conv(±1 initializer) -> Mul(alpha),
    the same form as the W1A1 model (conv(x, alpha*s) == alpha * conv(x, s) per output channel)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * (2.0 / (9 * cin)) ** 0.5)
        self.frozen = False

    def forward(self, x):
        if self.frozen:
            return F.conv2d(x, self.w_pm1, stride=self.stride, padding=1) * self.alpha
        pm1, alpha = binarize_weight(self.weight)
        w = self.weight + (alpha.view(-1, 1, 1, 1) * pm1 - self.weight).detach()  # STE to the latent weights
        return F.conv2d(x, w, stride=self.stride, padding=1)

    def freeze(self):
        pm1, alpha = binarize_weight(self.weight.detach())
        self.register_buffer("w_pm1", pm1.contiguous(), persistent=True)
        self.register_buffer("alpha", alpha.view(1, -1, 1, 1).contiguous(), persistent=True)
        del self.weight
        self.frozen = True


class LowBitBlock(nn.Module):
    """x -> BN -> act -> ScaledBinaryConv -> BN, + float shortcut, PReLU.

    act: 'a2' = 2-bit quantizer (w1a2), 'relu' = float ReLU (bwn)."""

    def __init__(self, cin, cout, stride, act):
        super().__init__()
        self.act_kind = act
        self.bn_in = nn.BatchNorm2d(cin)
        self.conv = ScaledBinaryConv(cin, cout, stride)
        self.bn_out = nn.BatchNorm2d(cout)
        self.act = nn.PReLU(cout)
        self.export_mode = False
        if stride != 1 or cin != cout:
            layers = [nn.AvgPool2d(2, count_include_pad=False)] if stride == 2 else []
            layers += [nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)]
            self.shortcut = nn.Sequential(*layers)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        t = self.bn_in(x)
        if self.act_kind == "a2":
            t = quantize_a2_export(t) if self.export_mode else quantize_a2(t)
        else:
            t = F.relu(t)
        return self.act(self.bn_out(self.conv(t)) + self.shortcut(x))


class LowBitResNet(ResNetTrunk):
    def __init__(self, act, widths=(32, 64, 128), blocks=(2, 2, 2), num_classes=10):
        super().__init__(lambda cin, cout, stride: LowBitBlock(cin, cout, stride, act), widths, blocks, num_classes)


MODELS = {"w1a2": "a2", "bwn": "relu"}


def build(name):
    return LowBitResNet(MODELS[name])
