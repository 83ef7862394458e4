"""Counts the test images on which a W1A2 quantizer input lies near a rounding tie.

Usage: /usr/bin/python3 models/fashion_mnist_lowbit/tie_margin.py [--ckpt bnn_w1a2.pt] [--eps 1e-4]

The quantizer is q = round(clamp(x, 0, 1) * 3) / 3 with x the output of the block's input BatchNorm. Forward
hooks on those BatchNorms (export form, the computation the ONNX holds) capture x; v = clamp(x, 0, 1) * 3 is
near a tie when |v - (k + 0.5)| < eps for k in {0, 1, 2}. A converter that folds the BatchNorm into
per-channel thresholds computes v with a different rounding, so on those images it may legitimately pick the
other level."""
import argparse
import os

import torch

from lowbit import LEVELS, LowBitBlock, build, load_split

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "bnn_w1a2.pt"))
    ap.add_argument("--eps", type=float, nargs="+", default=[1e-4, 1e-5, 1e-6])
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = build("w1a2")
    model.load_state_dict(torch.load(args.ckpt)["state_dict"])
    model.to_export_form().eval()
    xte, _ = load_split("t10k")

    blocks = [m for m in model.modules() if isinstance(m, LowBitBlock)]
    captured = []
    hooks = [b.bn_in.register_forward_hook(lambda mod, inp, out: captured.append(out.detach()))
             for b in blocks]
    eps = sorted(args.eps, reverse=True)
    img_near = {e: torch.zeros(len(xte), dtype=torch.bool) for e in eps}
    val_near = {e: 0 for e in eps}
    per_block = {e: [0] * len(blocks) for e in eps}
    exact = 0
    with torch.no_grad():
        for i in range(0, len(xte), 256):
            captured.clear()
            model(xte[i:i + 256])
            for b, x in enumerate(captured):
                v = torch.clamp(x, 0.0, 1.0) * LEVELS
                dist = (v - (torch.floor(v) + 0.5)).abs()  # distance to the nearest k + 0.5 (v in [0, 3])
                exact += (dist == 0).sum().item()
                for e in eps:
                    near = dist < e
                    val_near[e] += near.sum().item()
                    per_block[e][b] += near.sum().item()
                    img_near[e][i:i + len(x)] |= near.flatten(1).any(1)
    for h in hooks:
        h.remove()
    for e in eps:
        print(f"eps {e:g}: {img_near[e].sum().item()} / {len(xte)} images have a quantizer input within eps of a "
              f"tie; {val_near[e]} values in all (per block {per_block[e]})")
    print(f"values exactly on a tie: {exact}")


if __name__ == "__main__":
    main()
