"""An independent numpy evaluator for the pattern models (onnxruntime is not available here): runs every ONNX
variant listed in each NAME.json on the 100 stored inputs and compares with PyTorch's stored outputs. Checks
that what the exporter wrote computes what PyTorch computed, so the C++ test compares the converter against a
graph that is right. Also checks the sign_after_relu files really feed exact zeros to a Sign.

Usage: /usr/bin/python3 tests/converter/patterns/check_patterns.py [DIR [FAMILY...]]   (default: this folder, all)"""
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
from numpy.lib.stride_tricks import sliding_window_view

DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pool_windows(x, kernel, strides, pads, ceil_mode, value):
    h, w = x.shape[2:]
    out = []
    for i, n in enumerate((h, w)):
        span = n + pads[i] + pads[i + 2] - kernel[i]
        o = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
        if ceil_mode and (o - 1) * strides[i] >= n + pads[i]:
            o -= 1
        out.append(o)
    extra = [max(0, (out[i] - 1) * strides[i] + kernel[i] - (x.shape[2 + i] + pads[i] + pads[i + 2])) for i in range(2)]
    xp = np.pad(x, [(0, 0), (0, 0), (pads[0], pads[2] + extra[0]), (pads[1], pads[3] + extra[1])],
                constant_values=value)
    win = sliding_window_view(xp, kernel, axis=(2, 3))[:, :, ::strides[0], ::strides[1]]
    return win[:, :, :out[0], :out[1]], extra


def conv(x, w, b, a):
    assert a.get("group", 1) == 1 and all(d == 1 for d in a.get("dilations", [1, 1]))
    p = a.get("pads", [0, 0, 0, 0])
    s = a.get("strides", [1, 1])
    xp = np.pad(x, [(0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])])
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s[0], ::s[1]]
    y = np.einsum("nchwij,ocij->nohw", win.astype(np.float64), w.astype(np.float64), optimize=True)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y.astype(np.float32)


def reduce(op, x, axes, keep):
    axes = None if axes is None else tuple(int(a) for a in axes)
    f = {"ReduceMean": np.mean, "ReduceSum": np.sum, "ReduceProd": np.prod, "ReduceMax": np.max}[op]
    return f(x, axis=axes, keepdims=bool(keep)).astype(x.dtype)


def run(model, x, opset, sign_inputs=None):
    v = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    v[model.graph.input[0].name] = x
    for n in model.graph.node:
        a = attrs(n)
        i = [v[name] if name else None for name in n.input]
        op = n.op_type
        if op == "Constant":
            y = onnx.numpy_helper.to_array(a["value"])
        elif op == "Identity":
            y = i[0]
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}[op]
            y = f(i[0], i[1])
            if i[0].dtype.kind == "i" and op == "Div":
                y = i[0] // i[1]
            y = y.astype(np.result_type(i[0].dtype, i[1].dtype))
        elif op in ("Neg", "Abs", "Sqrt", "Log", "Relu", "Sin"):
            y = {"Neg": np.negative, "Abs": np.abs, "Sqrt": np.sqrt, "Log": np.log, "Sin": np.sin,
                 "Relu": lambda t: np.maximum(t, 0)}[op](i[0]).astype(i[0].dtype)
        elif op in ("Max", "Min"):
            y = (np.maximum if op == "Max" else np.minimum)(i[0], i[1]).astype(i[0].dtype)
        elif op == "TopK":  # ReCU's torch.sort: sorted, largest first (a stable order for equal values)
            ax, k = a.get("axis", -1), int(i[1][0])
            order = np.flip(np.argsort(i[0], axis=ax, kind="stable"), axis=ax) if a.get("largest", 1) else \
                np.argsort(i[0], axis=ax, kind="stable")
            idx = np.take(order, np.arange(k), axis=ax)
            v[n.output[1]] = idx.astype(np.int64)
            y = np.take_along_axis(i[0], idx, axis=ax)
        elif op == "Round":
            y = np.round(i[0])  # half to even, as ONNX
        elif op == "Sign":
            if sign_inputs is not None:
                sign_inputs.append((n.name, i[0]))
            y = np.sign(i[0])
        elif op == "Less":
            y = i[0] < i[1]
        elif op == "Cast":
            y = i[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])
        elif op == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else -np.inf
            hi = i[2] if len(i) > 2 and i[2] is not None else np.inf
            y = np.clip(i[0], lo, hi).astype(i[0].dtype)
        elif op == "Shape":
            y = np.array(i[0].shape, dtype=np.int64)
        elif op == "Expand":
            y = i[0] * np.ones(tuple(i[1]), dtype=i[0].dtype)
        elif op == "Gather":
            y = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            axes = a["axes"] if opset < 13 else list(i[1])
            y = i[0]
            for ax in sorted(axes):
                y = np.expand_dims(y, ax)
        elif op == "Concat":
            y = np.concatenate(i, axis=a["axis"])
        elif op == "ConstantOfShape":
            val = onnx.numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            y = np.full(tuple(i[0]), val.reshape(-1)[0], dtype=val.dtype)
        elif op == "Reshape":
            shape = [d if d != 0 else i[0].shape[k] for k, d in enumerate(i[1])]
            y = i[0].reshape(shape)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Transpose":
            y = np.transpose(i[0], a["perm"])
        elif op == "Slice":
            starts, ends, axes, steps = i[1], i[2], i[3], i[4] if len(i) > 4 else None
            sl = [slice(None)] * i[0].ndim
            for k, ax in enumerate(axes):
                st = int(steps[k]) if steps is not None else 1
                s0, e0 = int(starts[k]), int(ends[k])
                dim = i[0].shape[ax]
                if st > 0:
                    sl[ax] = slice(max(min(s0, dim), -dim), max(min(e0, dim), -dim - 1), st)
                else:
                    s0 = min(s0, dim - 1)
                    e0 = None if e0 < -dim else e0
                    sl[ax] = slice(s0, e0, st)
            y = i[0][tuple(sl)]
        elif op == "Pad":
            assert a.get("mode", b"constant") == b"constant"
            pads = list(i[1])
            val = float(i[2]) if len(i) > 2 and i[2] is not None else 0.0
            r = i[0].ndim
            y = np.pad(i[0], [(pads[k], pads[k + r]) for k in range(r)], constant_values=val)
        elif op in ("ReduceMean", "ReduceSum", "ReduceProd", "ReduceMax"):
            axes = a.get("axes")
            if op == "ReduceSum" and opset >= 13:
                axes = list(i[1]) if len(i) > 1 else None
            y = reduce(op, i[0], axes, a.get("keepdims", 1))
        elif op == "BatchNormalization":
            xx, g, b, m, var = i[:5]
            sh = (1, -1) + (1,) * (xx.ndim - 2)
            y = ((xx - m.reshape(sh)) / np.sqrt(var.reshape(sh) + a.get("epsilon", 1e-5)) * g.reshape(sh)
                 + b.reshape(sh)).astype(np.float32)
        elif op == "Conv":
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif op in ("MaxPool", "AveragePool"):
            k, s = a["kernel_shape"], a.get("strides", [1, 1])
            p = a.get("pads", [0, 0, 0, 0])
            if op == "MaxPool":
                win, _ = pool_windows(i[0], k, s, p, a.get("ceil_mode", 0), -np.inf)
                y = win.max(axis=(4, 5))
            else:
                assert a.get("count_include_pad", 0) == 0 and not any(p)
                win, extra = pool_windows(i[0], k, s, p, a.get("ceil_mode", 0), np.nan)
                y = np.nanmean(win, axis=(4, 5)).astype(np.float32)
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "PRelu":
            slope = i[1].reshape((1, -1) + (1,) * (i[0].ndim - 2)) if i[1].ndim == 1 else i[1]
            y = np.where(i[0] < 0, i[0] * slope, i[0]).astype(np.float32)
        elif op == "Gemm":
            aa = i[0].T if a.get("transA", 0) else i[0]
            bb = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (aa.astype(np.float64) @ bb.astype(np.float64))
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
            y = y.astype(np.float32)
        elif op == "MatMul":
            y = (i[0].astype(np.float64) @ i[1].astype(np.float64)).astype(np.float32)
        elif op == "LogSoftmax":
            ax = a.get("axis", -1)
            m = i[0].max(axis=ax, keepdims=True)
            y = (i[0] - m - np.log(np.exp(i[0] - m).sum(axis=ax, keepdims=True))).astype(np.float32)
        else:
            raise NotImplementedError("%s (%s)" % (op, n.name))
        y = np.asarray(y)
        v[n.output[0]] = y
    return v[model.graph.output[0].name]


def check_family(meta):
    name = meta["family"]
    c, h, w = meta["input_shape"]
    x = np.fromfile(os.path.join(DIR, meta.get("input_file", name + ".input.f32")), dtype="<f4")
    x = x[:meta["count"] * c * h * w].reshape(meta["count"], c, h, w)
    want = np.fromfile(os.path.join(DIR, name + ".output.f32"), dtype="<f4").reshape(meta["count"], -1)
    scale = max(1.0, float(np.abs(want).max()))
    margin = np.array(meta["min_abs_sign_input"])
    ok = True
    for file in meta["variants"]:
        model = onnx.load(os.path.join(DIR, file))
        opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        if ".dyn." in file:
            got = run(model, x, opset)
        else:
            got = np.concatenate([run(model, x[k:k + 1], opset) for k in range(len(x))])
        err = np.abs(got - want).max(axis=1) / scale
        argmax = float((got.argmax(1) == want.argmax(1)).mean())
        safe = margin > 1e-5
        bad = int((err[safe] > 1e-3).sum())
        print("  %-28s argmax agreement %.2f, max rel err %.2e (images with sign margin > 1e-5: %d, off: %d)"
              % (file, argmax, err.max(), int(safe.sum()), bad))
        ok = ok and argmax >= 0.99 and bad == 0
    return ok


def check_sign_after_relu(meta):
    ok = True
    for file, sign_node in zip(meta["variants"], meta["sign_nodes"]):
        model = onnx.load(os.path.join(DIR, file))
        c, h, w = meta["input_shape"]
        x = np.random.default_rng(0).standard_normal((1, c, h, w)).astype(np.float32)
        seen = []
        run(model, x, 13, seen)
        zeros = {n: int((t == 0).sum()) for n, t in seen}
        print("  %-38s exact zeros into Sign: %s" % (file, zeros))
        ok = ok and zeros.get(sign_node, 0) > 0
    return ok


def main():
    ok = True
    only = set(sys.argv[2:])  # family names, e.g. the BiBench ones: xnor_k xnorpp recu fda dorefa_w1a1
    for f in sorted(os.listdir(DIR)):
        if not f.endswith(".json") or (only and f[:-5] not in only):
            continue
        meta = json.load(open(os.path.join(DIR, f)))
        print(meta["family"])
        ok = (check_sign_after_relu(meta) if meta["family"] == "sign_after_relu" else check_family(meta)) and ok
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
