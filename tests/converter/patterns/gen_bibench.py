"""Generates the BiBench pattern models (issue 21): the binarization operators BiBench (Qin et al., ICML 2023)
compares that the code-base families of gen_patterns.py do not already cover, each written here from its paper
(no code copied) on one small binary ResNet, briefly trained, exported at opset 11 and 13 with a fixed and a
dynamic batch. BNN, Bi-Real and ReActNet are the existing binarynet, bireal and reactnet families.

  xnor_k      XNOR-Net (Rastegari et al. 2016) with its activation scale K computed at run time:
              A = mean_c |x|, K = A * (1/k^2 ones), the conv of sign x and alpha sign W multiplied by K per position
  xnorpp      XNOR-Net++ (Bulat & Tzimiropoulos 2019): sign W, output scale Gamma = alpha_o beta_h gamma_w learned
  recu        ReCU (Xu et al. 2021): weights standardized per output channel, clamped at the tau / 1 - tau quantiles
              of the layer (torch.sort in forward: torch.quantile does not export), then mean|w| sign(w)
  fda         FDA (Xu et al. 2021): sign in value, the gradient of a Fourier series (4/pi) sum sin((2i+1) w x)/(2i+1),
              written as sign(x).detach() - F(x).detach() + F(x), on activations and weights
  dorefa_w1a1 DoReFa-Net (Zhou et al. 2016) at 1 bit: activations round(clip(x, 0, 1)) (levels 0, 1), weights
              E|W| sign(W) over the whole layer

Network: stem conv 1->8 + BN, two blocks BN(bconv(binarize x)) + shortcut (stride 1, then stride 2 with an
AvgPool(2) shortcut), GAP, FC. Usage: /usr/bin/python3 tests/converter/patterns/gen_bibench.py [OUT_DIR].
Shared inputs bibench.input.f32 (100 images 1x8x8); per family the files gen_patterns.py writes."""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_patterns as gp  # noqa: E402  (Task, train, export, write_json, op_types, STESign, Sign margins)

OUT = gp.OUT
SHAPE = (1, 8, 8)
WIDTH = 8
COUNT = 100
TASK_SEED = 4000
# note_margin(t): t is a binarizer's input minus its threshold; gp.run_recording_signs keeps per image the
# smallest |t| (skipped while tracing, so the exported graph is the model's own forward)
note_margin = gp.note_sign_input


def ste(x, q):
    return x + (q - x).detach()


def sign_act(x):
    note_margin(x)
    return gp.STESign.apply(x)


def mean_abs_sign(w):
    """alpha sign(W), alpha = mean |W| per output channel, clamp straight-through."""
    return ste(torch.clamp(w, -1, 1), w.abs().mean(dim=(1, 2, 3), keepdim=True) * torch.sign(w))


class XnorK(nn.Module):
    """XNOR-Net: conv(sign x, alpha sign W) * K, K = AvgPool_3x3(mean_c |x|) with the conv's stride and padding
    (count_include_pad: the paper's convolution with a 1/(k*k) box filter)."""

    def __init__(self, cin, cout, stride, hw):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)

    def forward(self, x):
        k = F.avg_pool2d(x.abs().mean(dim=1, keepdim=True), 3, stride=self.stride, padding=1)
        return F.conv2d(sign_act(x), mean_abs_sign(self.weight), stride=self.stride, padding=1) * k


class XnorPP(nn.Module):
    """XNOR-Net++: conv(sign x, sign W) * Gamma, Gamma = alpha (out channels) x beta (rows) x gamma (columns)."""

    def __init__(self, cin, cout, stride, hw):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)
        self.alpha = nn.Parameter(torch.rand(cout) * 0.5 + 0.75)
        self.beta = nn.Parameter(torch.rand(hw) * 0.5 + 0.75)
        self.gamma = nn.Parameter(torch.rand(hw) * 0.5 + 0.75)

    def forward(self, x):
        w = ste(torch.clamp(self.weight, -1, 1), torch.sign(self.weight))
        scale = self.alpha.view(1, -1, 1, 1) * self.beta.view(1, 1, -1, 1) * self.gamma.view(1, 1, 1, -1)
        return F.conv2d(sign_act(x), w, stride=self.stride, padding=1) * scale


class ReCU(nn.Module):
    """ReCU: w standardized per output channel, clamped to [Q(1 - tau), Q(tau)] of the layer's weights, then
    mean|w| sign(w) per channel."""

    def __init__(self, cin, cout, stride, hw, tau=0.9):
        super().__init__()
        self.stride, self.tau = stride, tau
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)

    def forward(self, x):
        w = self.weight
        flat = w.view(w.size(0), -1)
        w = (w - flat.mean(-1).view(-1, 1, 1, 1)) / flat.std(-1).view(-1, 1, 1, 1)
        ordered = torch.sort(w.flatten())[0]
        n = ordered.numel()
        hi, lo = ordered[int(self.tau * (n - 1))], ordered[int((1 - self.tau) * (n - 1))]
        w = torch.max(torch.min(w, hi), lo)
        bw = ste(w, w.abs().mean(dim=(1, 2, 3), keepdim=True) * torch.sign(w))
        return F.conv2d(sign_act(x), bw, stride=self.stride, padding=1)


def fourier_sign(x, terms=3, omega=math.pi / 2):
    """sign(x) in value; the gradient of FDA's Fourier-series sign (4/pi) sum_i sin((2i+1) omega x) / (2i+1)."""
    series = sum(torch.sin((2 * i + 1) * omega * x) / (2 * i + 1) for i in range(terms)) * (4 / math.pi)
    return torch.sign(x).detach() - series.detach() + series


class FDA(nn.Module):
    def __init__(self, cin, cout, stride, hw):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)

    def forward(self, x):
        note_margin(x)
        w = self.weight
        bw = w.abs().mean(dim=(1, 2, 3), keepdim=True) * fourier_sign(w / w.abs().max())
        return F.conv2d(fourier_sign(x), bw, stride=self.stride, padding=1)


class DoReFa1(nn.Module):
    """DoReFa-Net, 1-bit: activations round(clip(x, 0, 1)) (STE), weights E|W| sign(W) over the layer."""

    def __init__(self, cin, cout, stride, hw):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.1)

    def forward(self, x):
        c = torch.clamp(x, 0.0, 1.0)
        note_margin(c - 0.5)
        a = ste(c, torch.round(c))
        w = self.weight
        bw = ste(w, w.abs().mean() * torch.sign(w))
        return F.conv2d(a, bw, stride=self.stride, padding=1)


class BiBenchNet(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.stem = nn.Conv2d(1, WIDTH, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(WIDTH)
        self.conv1 = layer(WIDTH, WIDTH, 1, SHAPE[1])
        self.bn1 = nn.BatchNorm2d(WIDTH)
        self.conv2 = layer(WIDTH, WIDTH, 2, SHAPE[1] // 2)
        self.bn2 = nn.BatchNorm2d(WIDTH)
        self.fc = nn.Linear(WIDTH, gp.CLASSES)

    def forward(self, x):
        x = self.bn0(self.stem(x))
        x = x + self.bn1(self.conv1(x))
        x = F.avg_pool2d(x, 2) + self.bn2(self.conv2(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


FAMILIES = [
    dict(name="xnor_k", layer=XnorK,
         description="XNOR-Net with K at run time: conv(sign x, mean|W| sign W) * AvgPool3x3(mean_c |x|) per position"),
    dict(name="xnorpp", layer=XnorPP,
         description="XNOR-Net++: conv(sign x, sign W) * (alpha_o beta_h gamma_w), the learned scale per channel "
                     "and position"),
    dict(name="recu", layer=ReCU,
         description="ReCU: weights standardized per channel, clamped at the layer's 0.1 / 0.9 quantiles (torch.sort "
                     "-> TopK in the graph), mean|w| sign(w)"),
    dict(name="fda", layer=FDA,
         description="FDA: sign(x).detach() - F(x).detach() + F(x) with the Fourier series F of sign (Sin terms), "
                     "on activations and on weights scaled by mean|W|"),
    dict(name="dorefa_w1a1", layer=DoReFa1,
         description="DoReFa-Net W1A1: activations round(clip(x, 0, 1)) with STE (unipolar 0/1), weights E|W| sign(W)"),
]


def make_family(index, fam, x, task):
    name = fam["name"]
    seed = fam.get("seed", 4100 + index)
    torch.manual_seed(seed)
    model = BiBenchNet(fam["layer"])
    gp.train(model, task, seed)
    out, margin = gp.run_recording_signs(model, x)
    out.numpy().astype("<f4").tofile(os.path.join(OUT, name + ".output.f32"))
    variants, failed = gp.export_variants(model, SHAPE, name, OUT)
    meta = dict(
        family=name, description=fam["description"], input_shape=list(SHAPE), classes=gp.CLASSES, count=COUNT,
        input_file="bibench.input.f32", binary_layers=2, variants=variants, failed_variants=failed,
        ops=gp.op_types(os.path.join(OUT, variants[0])) if variants else [], seed=seed,
        min_abs_sign_input=[float("%.6g" % v) for v in margin.tolist()])
    gp.write_json(os.path.join(OUT, name + ".json"), meta)
    print("%-12s variants %d  failed %s  ops %s" % (name, len(variants), list(failed), meta["ops"]))


def main():
    torch.set_num_threads(1)
    task = gp.Task(SHAPE, TASK_SEED)
    x, _ = task.sample(COUNT, torch.Generator().manual_seed(TASK_SEED + 2))
    x.numpy().astype("<f4").tofile(os.path.join(OUT, "bibench.input.f32"))
    only = set(sys.argv[2:])
    for i, fam in enumerate(FAMILIES):
        if not only or fam["name"] in only:
            make_family(i, fam, x, task)


if __name__ == "__main__":
    main()
