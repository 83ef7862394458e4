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
from bnn import (MEAN, STD, BinaryBlock, BinaryConv, ResNetTrunk, binarize_weight,  # noqa: E402,F401 (W1A1)
                 evaluate, load_split)

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


# alpha * sign(W) 3x3 convs (sign(0) = +1, alpha = mean |W| per output channel, straight-through to the latent
# W; after freeze() a ±1 buffer and an alpha buffer, exported as Conv(±1 initializer) -> Mul(alpha)): the W1A1
# model's BinaryConv, unchanged.
ScaledBinaryConv = BinaryConv


class LowBitBlock(BinaryBlock):
    """The W1A1 block (x -> BN -> act -> binary conv -> BN, + float shortcut, PReLU) with another act:
    'a2' = 2-bit quantizer (w1a2), 'relu' = float ReLU (bwn)."""

    def __init__(self, cin, cout, stride, act):
        super().__init__(cin, cout, stride)
        self.act_kind = act

    def activation(self, t):
        if self.act_kind == "a2":
            return quantize_a2_export(t) if self.export_mode else quantize_a2(t)
        return F.relu(t)


class LowBitResNet(ResNetTrunk):
    def __init__(self, act, widths=(32, 64, 128), blocks=(2, 2, 2), num_classes=10):
        super().__init__(lambda cin, cout, stride: LowBitBlock(cin, cout, stride, act), widths, blocks, num_classes)


MODELS = {"w1a2": "a2", "bwn": "relu"}


def build(name):
    return LowBitResNet(MODELS[name])
