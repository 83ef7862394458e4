"""Generates the crafted ONNX files of tests/converter/untrusted (issue 21, item 3): tiny graphs (< 1 KB each)
written with the onnx helper API as an attacker would, one per class of finding against onebit-convert:
int64 overflow in shape inference and in the quantizer recognizers, Clip bounds ONNX forbids, and constant
folding past its memory / time budget. untrusted_test.cc converts each and expects exit-1-style errors naming
the node; scripts/fuzz seeds fuzz_convert with them (with the QDQ and shape-op seeds made here too).

Usage: /usr/bin/python3 tests/converter/untrusted/gen_untrusted.py [OUT_DIR]   (default: this folder)
Needs python3-onnx (and numpy). Regenerating gives byte-identical files."""
import os
import sys

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper as nh
from onnx import TensorProto as TP

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min


def i64(name, values):
    return nh.from_array(np.array(values, dtype=np.int64), name)


def f32(name, values):
    return nh.from_array(np.array(values, dtype=np.float32), name)


def u8(name, values):
    return nh.from_array(np.array(values, dtype=np.uint8), name)


def save(name, nodes, inits, x_shape=(1, 4, 4, 4), y_shape=None, opset=13):
    """x (float x_shape) -> nodes -> y; y's shape left open unless given."""
    x = oh.make_tensor_value_info("x", TP.FLOAT, list(x_shape))
    y = oh.make_tensor_value_info("y", TP.FLOAT, y_shape)
    graph = oh.make_graph(nodes, name, [x], [y], initializer=inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", opset)], producer_name="gen_untrusted.py")
    data = model.SerializeToString()
    assert len(data) < 1024, (name, len(data))
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data)


def add_scalar_of(value, nodes):
    """y = x + mean(value): keeps a constant chain alive (a graph output depends on it) so it gets folded."""
    nodes += [oh.make_node("ReduceMean", [value], ["m"], "mean", keepdims=0),
              oh.make_node("Add", ["x", "m"], ["y"], "add")]
    return nodes


def main():
    # ---- int64 overflow in shape inference (attacker-chosen shapes, steps, pads)
    # Reshape to [2^40, 2^40, -1]: the product of the known dims overflows int64.
    save("reshape_product_overflow", [oh.make_node("Reshape", ["x", "shape"], ["y"], "reshape")],
         [i64("shape", [1 << 40, 1 << 40, -1])])
    # Slices of a constant c = [0, 1, 2, 3] with step INT64_MAX from 1 (valid ONNX: [1]) and step INT64_MIN from
    # INT64_MAX to INT64_MIN (valid: [3]); y = x + mean(slice) converts to x + 1 / x + 3.
    for name, starts, ends, steps in (("slice_step_max", 1, 4, I64_MAX), ("slice_step_min", I64_MAX, I64_MIN, I64_MIN)):
        save(name, add_scalar_of("s", [oh.make_node("Slice", ["c", "starts", "ends", "axes", "steps"], ["s"], "slice")]),
             [f32("c", [0, 1, 2, 3]), i64("starts", [starts]), i64("ends", [ends]), i64("axes", [0]), i64("steps", [steps])])
    # Pad by INT64_MAX on one side: the padded dim overflows.
    save("pad_overflow", [oh.make_node("Pad", ["x", "pads"], ["y"], "pad")],
         [i64("pads", [0, 0, 0, I64_MAX, 0, 0, 0, 1])])
    # A 0-element constant whose other dims multiply past int64: Flatten(axis 1) multiplies them.
    save("empty_huge_dims", add_scalar_of("t", [oh.make_node("Flatten", ["c"], ["t"], "flatten", axis=1)]),
         [oh.make_tensor("c", TP.FLOAT, [0, 2**31 - 1, 2**31 - 1, 2**31 - 1], [])])

    # ---- the quantizer recognizers: float bounds far beyond int64, bounds ONNX forbids
    # Round(Clip(x, -1e30, 1e30)): the clamp's level count (2e30 + 1) does not fit int64.
    save("round_clip_1e30", [oh.make_node("Clip", ["x", "lo", "hi"], ["c"], "clip"),
                             oh.make_node("Round", ["c"], ["y"], "round")],
         [f32("lo", -1e30), f32("hi", 1e30)])
    qdq = [oh.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], "quant"),
           oh.make_node("Clip", ["q", "lo", "hi"], ["c"], "clip"),
           oh.make_node("DequantizeLinear", ["c", "s", "zp"], ["y"], "dequant")]
    # Q -> Clip(1e30, 3) -> DQ: min > max (ONNX: every output is max, a constant) and float bounds on uint8.
    save("qdq_clip_min_above_max", qdq, [f32("s", 0.1), u8("zp", 0), f32("lo", 1e30), f32("hi", 3.0)])
    # Q -> Clip(uint8 3, uint8 1) -> DQ: bounds of the right type, min > max.
    save("qdq_clip_u8_min_above_max", qdq, [f32("s", 0.1), u8("zp", 0), u8("lo", 3), u8("hi", 1)])
    # Q -> Clip(float 0, float 3) -> DQ: float bounds on the uint8 tensor (ONNX ties the bounds' type to it).
    save("qdq_clip_float_bounds", qdq, [f32("s", 0.1), u8("zp", 0), f32("lo", 0.0), f32("hi", 3.0)])
    # A float Clip(3, 1) on an activation: min > max.
    save("clip_min_above_max", [oh.make_node("Relu", ["x"], ["r"], "relu"),
                                oh.make_node("Clip", ["r", "lo", "hi"], ["y"], "clip")],
         [f32("lo", 3.0), f32("hi", 1.0)])

    # ---- constant folding past its budget
    # Range(0, 2^28) -> Cast -> Add -> Mul: 2 GiB of int64, then 1 GiB floats per step.
    save("fold_range_chain", add_scalar_of("p", [
        oh.make_node("Range", ["zero", "limit", "one"], ["r"], "range"),
        oh.make_node("Cast", ["r"], ["f"], "cast", to=TP.FLOAT),
        oh.make_node("Add", ["f", "half"], ["a"], "add_half"),
        oh.make_node("Mul", ["a", "half"], ["p"], "mul_half")]),
         [i64("zero", 0), i64("limit", 1 << 28), i64("one", 1), f32("half", 0.5)])
    # Sum of four 1 GiB ConstantOfShape outputs.
    fill = [oh.make_node("ConstantOfShape", ["n"], ["k%d" % i], "fill%d" % i,
                         value=oh.make_tensor("v", TP.FLOAT, [1], [float(i)])) for i in range(4)]
    save("fold_sum_of_fills", add_scalar_of("s", fill + [oh.make_node("Sum", ["k0", "k1", "k2", "k3"], ["s"], "sum")]),
         [i64("n", [1 << 28])])
    # MatMul of two 1024 x 1024 constants (4 MiB each): 2^30 multiply-adds, past the default work budget.
    mm = [oh.make_node("ConstantOfShape", ["n"], ["a"], "fill_a", value=oh.make_tensor("v", TP.FLOAT, [1], [1.0])),
          oh.make_node("ConstantOfShape", ["n"], ["b"], "fill_b", value=oh.make_tensor("v", TP.FLOAT, [1], [2.0])),
          oh.make_node("MatMul", ["a", "b"], ["p"], "matmul")]
    save("fold_matmul_work", add_scalar_of("p", mm), [i64("n", [1024, 1024])])

    # ---- valid seeds for the fuzzer (convert fine): QDQ forms and a shape-op chain
    save("seed_qcdq_2bit", qdq, [f32("s", 0.1), u8("zp", 0), u8("lo", 0), u8("hi", 3)])
    save("seed_qdq_int8", [oh.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], "quant"),
                           oh.make_node("Clip", ["q", "lo", "hi"], ["c"], "clip"),
                           oh.make_node("DequantizeLinear", ["c", "s", "zp"], ["y"], "dequant")],
         [f32("s", 0.25), nh.from_array(np.array(0, dtype=np.int8), "zp"),
          nh.from_array(np.array(-2, dtype=np.int8), "lo"), nh.from_array(np.array(1, dtype=np.int8), "hi")])
    save("seed_shape_ops", [oh.make_node("Shape", ["x"], ["sh"], "shape"),
                            oh.make_node("Gather", ["sh", "zero"], ["b"], "batch", axis=0),
                            oh.make_node("Unsqueeze", ["b", "axes"], ["b1"], "unsqueeze"),
                            oh.make_node("Concat", ["b1", "minus1"], ["target"], "concat", axis=0),
                            oh.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["sl"], "slice"),
                            oh.make_node("Reshape", ["sl", "target"], ["flat"], "reshape"),
                            oh.make_node("MatMul", ["flat", "w"], ["y"], "fc")],
         [i64("zero", 0), i64("axes", [0]), i64("minus1", [-1]), i64("st", [0, 0]), i64("en", [I64_MAX, I64_MAX]),
          i64("ax", [2, 3]), i64("sp", [2, 2]), f32("w", np.linspace(-1, 1, 48).reshape(16, 3))])


if __name__ == "__main__":
    main()
