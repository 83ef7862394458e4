"""Prints the node types of an ONNX model in graph order, for a quick look.

Usage: /usr/bin/python3 models/fashion_mnist_lowbit/check_onnx.py model.onnx [more.onnx ...] [--detail]
           [--verify logits_first16.txt]   (one model only)

--detail also prints each node's inputs (initializer shapes in brackets) and attributes.
--verify runs the graph on the first 16 test images with a small op-by-op interpreter (torch.nn.functional,
float32, batch 1, only the ops these exports use) and compares with the stored PyTorch logits (computed in
batches of 256). Fails if an argmax differs; lists images whose logits differ by more than 1e-4 (for W1A2 a
different summation order can move a quantizer input across a rounding tie: image 3 does, by 0.04)."""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F


def run_graph(model, x):
    """Evaluates the ONNX graph node by node (ops used by the fashion-mnist exports only)."""
    env = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for n in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [env[name] if name else None for name in n.input]
        op = n.op_type
        if op == "Constant":
            y = torch.from_numpy(onnx.numpy_helper.to_array(a["value"]).copy())
        elif op == "Conv":
            assert a.get("group", 1) == 1 and set(a.get("dilations", [1, 1])) == {1}
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=(p[0], p[1]))
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        elif op in ("Mul", "Add", "Sub", "Div"):
            y = {"Mul": torch.mul, "Add": torch.add, "Sub": torch.sub, "Div": torch.div}[op](i[0], i[1])
        elif op == "Clip":
            y = torch.clamp(i[0], i[1].item() if i[1] is not None else None,
                            i[2].item() if len(i) > 2 and i[2] is not None else None)
        elif op == "Round":
            y = torch.round(i[0])  # half to even, as ONNX Round
        elif op == "Sign":
            y = torch.sign(i[0])
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "PRelu":
            y = torch.where(i[0] >= 0, i[0], i[0] * i[1])
        elif op == "AveragePool":
            assert a.get("count_include_pad", 0) == 0 and not any(a.get("pads", [0]))
            y = F.avg_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]))
        elif op == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif op == "Flatten":
            y = i[0].flatten(a.get("axis", 1))
        elif op == "Gemm":
            assert a.get("transB", 0) == 1 and not a.get("transA", 0)
            y = F.linear(i[0], i[1], i[2])
        else:
            raise SystemExit(f"--verify: op {op} not supported by this small interpreter")
        env[n.output[0]] = y
    return env[model.graph.output[0].name]


def verify(model, logits_path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from lowbit import load_split
    xte, _ = load_split("t10k")
    ref = np.loadtxt(logits_path, dtype=np.float32)
    with torch.no_grad():
        out = torch.cat([run_graph(model, xte[k:k + 1]) for k in range(len(ref))]).numpy()
    per_image = np.abs(out - ref).max(axis=1)
    same = (out.argmax(1) == ref.argmax(1)).sum()
    print(f"verify: max |logit - stored| {per_image.max():.3g} over {len(ref)} images (stored with 6 decimals); "
          f"argmax agrees on {same} / {len(ref)}")
    for k in np.nonzero(per_image > 1e-4)[0]:
        print(f"verify: image {k} differs by {per_image[k]:.3g} (a quantizer input near a rounding tie?)")
    return same == len(ref)


def main():
    args = sys.argv[1:]
    detail = "--detail" in args
    logits = None
    if "--verify" in args:
        k = args.index("--verify")
        logits = args[k + 1]
        del args[k:k + 2]
    for path in [a for a in args if a != "--detail"]:
        model = onnx.load(path)
        inits = {i.name: tuple(i.dims) for i in model.graph.initializer}
        ops = [n.op_type for n in model.graph.node]
        print(f"{path}: opset {[o.version for o in model.opset_import]}, {len(ops)} nodes, "
              f"{len(inits)} initializers")
        print(" ".join(ops))
        if detail:
            for i, n in enumerate(model.graph.node):
                ins = [f"{x}{list(inits[x])}" if x in inits else x for x in n.input]
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                attrs = {k: (onnx.numpy_helper.to_array(v).tolist() if isinstance(v, onnx.TensorProto) else v)
                         for k, v in attrs.items()}
                print(f"  {i:3d} {n.op_type:20s} {', '.join(ins)} -> {', '.join(n.output)} {attrs or ''}")
        if logits:
            torch.set_num_threads(1)
            if not verify(model, logits):
                raise SystemExit("verify: ONNX predicted classes differ from the stored PyTorch logits")


if __name__ == "__main__":
    main()
