"""Bi-Real-style binary ResNet for Fashion-MNIST: model, data loading, shared by train.py and export.py."""
import gzip

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # of the training pixels scaled to [0, 1]


def read_idx(path):
    """Reads a gzipped idx file (big-endian header) into a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(split):
    """split is 'train' or 't10k'; returns (normalized float tensor N x 1 x 28 x 28, int64 labels)."""
    images = read_idx(f"{DATA_DIR}/{split}-images-idx3-ubyte.gz")
    labels = read_idx(f"{DATA_DIR}/{split}-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - MEAN) / STD, torch.from_numpy(labels.astype(np.int64))


class SignApprox(torch.autograd.Function):
    """Forward torch.sign (sign(0) = 0, as ONNX Sign); backward Bi-Real's piecewise-quadratic approximation."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.clamp(2.0 - 2.0 * x.abs(), min=0.0)


def binarize_weight(w):
    """±1 weights (0 maps to +1) and per-output-channel alpha = mean |W|."""
    pm1 = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
    alpha = w.abs().mean(dim=(1, 2, 3))
    return pm1, alpha


class BinaryConv(nn.Module):
    """3x3 conv on ±1 activations with ±1 weights, zero padding 1, output scaled by alpha per channel.

    Training: latent float weights, straight-through gradient. After freeze(): persistent ±1 buffer and
    alpha buffer, so the ONNX export shows Conv(±1 initializer) -> Mul(alpha)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * (2.0 / (9 * cin)) ** 0.5)
        self.frozen = False

    def forward(self, x):
        if self.frozen:
            return F.conv2d(x, self.w_pm1, stride=self.stride, padding=1) * self.alpha
        pm1, alpha = binarize_weight(self.weight)
        w = self.weight + (pm1 * alpha.view(-1, 1, 1, 1) - self.weight).detach()  # straight-through estimator
        return F.conv2d(x, w, stride=self.stride, padding=1)

    def freeze(self):
        pm1, alpha = binarize_weight(self.weight.detach())
        self.register_buffer("w_pm1", pm1.contiguous(), persistent=True)
        self.register_buffer("alpha", alpha.view(1, -1, 1, 1).contiguous(), persistent=True)
        del self.weight
        self.frozen = True


class BinaryBlock(nn.Module):
    """x -> BN -> Sign -> BinaryConv -> BN, + float shortcut (AvgPool2d(2) + 1x1 conv + BN if shape changes), PReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn_in = nn.BatchNorm2d(cin)
        self.conv = BinaryConv(cin, cout, stride)
        self.bn_out = nn.BatchNorm2d(cout)
        self.act = nn.PReLU(cout)  # ReActNet-style non-linearity on the float residual stream
        self.export_mode = False
        if stride != 1 or cin != cout:
            # count_include_pad=False: same numbers without padding, and exports as a bare AveragePool (no Pad)
            layers = [nn.AvgPool2d(2, count_include_pad=False)] if stride == 2 else []
            layers += [nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)]
            self.shortcut = nn.Sequential(*layers)
        else:
            self.shortcut = nn.Identity()

    def activation(self, t):
        """What the binary conv reads: sign (its STE while training)."""
        return torch.sign(t) if self.export_mode else SignApprox.apply(t)

    def forward(self, x):
        t = self.activation(self.bn_in(x))
        return self.act(self.bn_out(self.conv(t)) + self.shortcut(x))


class ResNetTrunk(nn.Module):
    """The shipped models' shape: float stem conv + BN, stages of blocks made by make_block(cin, cout, stride)
    (stride 2 at the first block of every stage but the first), then BN -> ReLU -> global average pool ->
    Linear. The block decides what is binary."""

    def __init__(self, make_block, widths=(32, 64, 128), blocks=(2, 2, 2), num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]))
        layers, cin = [], widths[0]
        for stage, (w, n) in enumerate(zip(widths, blocks)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                layers.append(make_block(cin, w, stride))
                cin = w
        self.blocks = nn.Sequential(*layers)
        self.head_bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = F.relu(self.head_bn(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)

    def to_export_form(self):
        """The exact computation the ONNX holds: every binary conv freezes its ±1 weight buffers + alpha
        (freeze()), every block drops its straight-through residue (export_mode)."""
        for m in self.modules():
            if m is not self and callable(getattr(m, "freeze", None)):
                m.freeze()
            if hasattr(m, "export_mode"):
                m.export_mode = True
        return self


class BinaryResNet(ResNetTrunk):
    def __init__(self, widths=(32, 64, 128), blocks=(2, 2, 2), num_classes=10):
        super().__init__(BinaryBlock, widths, blocks, num_classes)


def evaluate(model, x, y, batch=256):
    """Top-1 accuracy of model on (x, y), in eval mode, batch by batch."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)
