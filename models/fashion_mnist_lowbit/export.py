"""Exports a trained low-bit model to ONNX and writes PyTorch's reference outputs.

Usage: /usr/bin/python3 models/fashion_mnist_lowbit/export.py --model w1a2|bwn [--ckpt bnn_<model>.pt]

Writes bnn_<model>.onnx, pytorch_predictions_<model>.txt (argmax of the export-form model for the 10,000
test images, file order) and pytorch_logits_first16_<model>.txt (logits of the first 16 test images, one image
per line, 10 values). Export form: ±1 weight buffers + alpha (Conv -> Mul), quantizer without the STE residue
(Clip -> Mul -> Round -> Div). torch.onnx.export(opset_version=13, do_constant_folding=True), eval mode, input
`input` [1,1,28,28] (fixed batch 1), output `logits` [1,10]; checked with onnx.checker (full) and strict shape
inference (helpers shared with models/fashion_mnist/export.py)."""
import argparse
import importlib.util
import os

import numpy as np
import torch

from lowbit import MODELS, build, load_split

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("w1a1_export", os.path.join(HERE, "..", "fashion_mnist", "export.py"))
w1a1_export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(w1a1_export)


def predict(model, x, batch=256):
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    ckpt_path = args.ckpt or os.path.join(HERE, f"bnn_{args.model}.pt")
    out = args.out or os.path.join(HERE, f"bnn_{args.model}.onnx")
    torch.set_num_threads(1)

    ckpt = torch.load(ckpt_path)
    model = build(args.model)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    xte, yte = load_split("t10k")
    train_logits = predict(model, xte)
    model.to_export_form().eval()

    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), out, opset_version=13, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.EVAL)
    w1a1_export.materialize_shared_initializers(out)
    w1a1_export.check_onnx(out)

    logits = predict(model, xte)
    pred = logits.argmax(1)
    acc = (pred == yte).float().mean().item()
    with open(os.path.join(HERE, f"pytorch_predictions_{args.model}.txt"), "w") as f:
        f.write("".join(f"{p}\n" for p in pred.tolist()))
    np.savetxt(os.path.join(HERE, f"pytorch_logits_first16_{args.model}.txt"), logits[:16].numpy(), fmt="%.6f")
    agree = (pred == train_logits.argmax(1)).sum().item()
    print(f"{args.model}: export-form accuracy {acc:.4f} ({(pred == yte).sum().item()} / {len(yte)}); "
          f"agrees with the training-form model on {agree} / {len(yte)} images; "
          f"max |logit diff| {(logits - train_logits).abs().max().item():.3g}")


if __name__ == "__main__":
    main()
