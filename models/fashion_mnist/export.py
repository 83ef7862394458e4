"""Exports the trained model to ONNX in its binary form and writes PyTorch's reference outputs.

Usage: /usr/bin/python3 models/fashion_mnist/export.py [--ckpt models/fashion_mnist/bnn_resnet.pt]

Writes bnn_resnet.onnx, pytorch_predictions.txt (argmax of the export-form model for all 10,000 test images,
in file order) and pytorch_logits_first16.txt (logits of the first 16 test images, one image per line)."""
import argparse
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch

from bnn import BinaryResNet, load_split

HERE = os.path.dirname(os.path.abspath(__file__))


def materialize_shared_initializers(path):
    """torch 1.13 de-duplicates parameters with identical values into one initializer plus Identity nodes
    (e.g. untouched BatchNorm statistics). Give each such output its own initializer and drop the Identity."""
    model = onnx.load(path)
    inits = {i.name: i for i in model.graph.initializer}
    keep, copied = [], 0
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[node.input[0]])
            t.name = node.output[0]
            model.graph.initializer.append(t)
            copied += 1
        else:
            keep.append(node)
    if copied:
        del model.graph.node[:]
        model.graph.node.extend(keep)
        used = {n for node in keep for n in node.input}
        unused = [i for i in model.graph.initializer if i.name not in used]
        for i in unused:
            model.graph.initializer.remove(i)
        onnx.save(model, path)
    print(f"replaced {copied} Identity nodes on shared initializers by copies")


def check_onnx(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    values = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
    for v in values:
        dims = v.type.tensor_type.shape.dim
        if not all(d.HasField("dim_value") for d in dims):
            raise SystemExit(f"non-static shape for {v.name}: {dims}")
    pm1 = [i.name for i in model.graph.initializer
           if i.data_type == onnx.TensorProto.FLOAT and len(i.dims) == 4
           and np.all(np.abs(onnx.numpy_helper.to_array(i)) == 1.0)]
    ops = [n.op_type for n in model.graph.node]
    print(f"{path}: {os.path.getsize(path)} bytes, {len(ops)} nodes, {len(values)} static value shapes, "
          f"{len(pm1)} ±1 conv weight initializers")
    print("nodes:", " ".join(ops))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "bnn_resnet.pt"))
    ap.add_argument("--out", default=os.path.join(HERE, "bnn_resnet.onnx"))
    args = ap.parse_args()
    torch.set_num_threads(2)

    ckpt = torch.load(args.ckpt)
    model = BinaryResNet()
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    xte, yte = load_split("t10k")
    with torch.no_grad():
        latent_pred = torch.cat([model(xte[i:i + 256]).argmax(1) for i in range(0, len(xte), 256)])
    model.to_export_form().eval()

    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), args.out, opset_version=13, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.EVAL)
    materialize_shared_initializers(args.out)
    check_onnx(args.out)

    with torch.no_grad():
        logits = torch.cat([model(xte[i:i + 256]) for i in range(0, len(xte), 256)])
    pred = logits.argmax(1)
    acc = (pred == yte).float().mean().item()
    with open(os.path.join(HERE, "pytorch_predictions.txt"), "w") as f:
        f.write("".join(f"{p}\n" for p in pred.tolist()))
    np.savetxt(os.path.join(HERE, "pytorch_logits_first16.txt"), logits[:16].numpy(), fmt="%.6f")
    print(f"export-form accuracy {acc:.4f} ({len(yte)} images); agrees with the training-form model on "
          f"{(pred == latent_pred).float().mean().item():.4f} of the images")


if __name__ == "__main__":
    main()
