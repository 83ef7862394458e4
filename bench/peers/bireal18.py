"""Bi-Real-Net-18 (Liu et al., "Bi-Real Net", ECCV 2018) in PyTorch, written here from the paper.

ResNet-18 layout: a float 7x7/2 stem conv (3 -> 64) + BatchNorm + 3x3/2 max pool, then 4 stages of 64, 128,
256, 512 channels with 4 binary 3x3 convs each (16 in all, the first of stages 2-4 with stride 2). Every
binary conv has its own float residual shortcut (the "Bi-Real" connection):

    y = BN_out(BinaryConv(sign(BN_in(x)))) + shortcut(x)

sign() has a straight-through estimator (Bi-Real's piecewise-quadratic ApproxSign derivative in backward),
the conv uses sign(W) scaled by mean |W| per output channel (straight-through to the latent W), and zero
padding 1. The shortcut is the identity, or, where the shape changes, AvgPool 2x2 + float 1x1 conv + BN.
Then global average pooling and a float fully connected layer to 1000 classes.

The model is not trained: random weights from a fixed seed, eval mode, BatchNorm affine parameters and
running statistics drawn at random (so no BatchNorm is an identity). It is for timing and for checking the
converter on the ordinary export of this topology, not for accuracy.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SignSTE(torch.autograd.Function):
    """Forward sign(x); backward the derivative of Bi-Real's ApproxSign (2 - 2|x| on [-1, 1], 0 outside).
    Exports as ONNX Sign."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.clamp(2.0 - 2.0 * x.abs(), min=0.0)

    @staticmethod
    def symbolic(g, x):
        return g.op("Sign", x)


class BinaryConv2d(nn.Conv2d):
    """3x3 conv whose forward uses alpha * sign(W), alpha = mean |W| over each output channel's filter."""

    def __init__(self, cin, cout, stride):
        super().__init__(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.frozen = None  # precomputed alpha * sign(W) after freeze(): the deployed form for timing

    def binary_weight(self):
        w = self.weight
        alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True)
        wb = alpha * torch.sign(w)
        return w + (wb - w).detach()  # straight-through to the latent weights

    def forward(self, x):
        w = self.frozen if self.frozen is not None else self.binary_weight()
        return F.conv2d(x, w, None, self.stride, self.padding)

    def freeze(self):
        with torch.no_grad():
            self.frozen = self.binary_weight().detach().clone()


class BiRealUnit(nn.Module):
    """One binary conv with its own residual: BN -> sign -> binary conv -> BN, + shortcut(x)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn_in = nn.BatchNorm2d(cin)
        self.conv = BinaryConv2d(cin, cout, stride)
        self.bn_out = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(2, stride=2),
                nn.Conv2d(cin, cout, 1, bias=False),
                nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        return self.bn_out(self.conv(SignSTE.apply(self.bn_in(x)))) + self.shortcut(x)


class BiRealNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        units, cin = [], 64
        for stage, width in enumerate((64, 128, 256, 512)):
            for i in range(4):  # 2 ResNet basic blocks = 4 binary convs per stage
                stride = 2 if stage > 0 and i == 0 else 1
                units.append(BiRealUnit(cin, width, stride))
                cin = width
        self.units = nn.Sequential(*units)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.bn1(self.conv1(x)))
        x = self.units(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def freeze(self):
        """Precomputes every binary conv's alpha * sign(W) (same values the forward computes)."""
        for m in self.modules():
            if isinstance(m, BinaryConv2d):
                m.freeze()
        return self


def make_model(seed=2018):
    """The benchmark's model: fixed-seed random weights, random BatchNorm parameters and statistics, eval."""
    torch.manual_seed(seed)
    model = BiRealNet18()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.empty(c).uniform_(0.5, 1.5, generator=g))
                m.bias.copy_(torch.empty(c).normal_(0.0, 0.1, generator=g))
                m.running_mean.copy_(torch.empty(c).normal_(0.0, 0.1, generator=g))
                m.running_var.copy_(torch.empty(c).uniform_(0.5, 2.0, generator=g))
    return model.eval()


def make_input(seed=7, n=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 224, 224, generator=g)
