#!/usr/bin/python3
"""onebit.convert() (python/onebit/convert.py over libonebit_convert.so): a PyTorch module, an ONNX file or
ONNX bytes -> a onebit model in memory, against PyTorch's committed predictions and onebit-convert's file.

    /usr/bin/python3 tests/python/test_convert.py --cli-model M.fb --source-dir /work/main [unittest args]

M.fb: onebit-convert <source-dir>/models/fashion_mnist/bnn_resnet.onnx -o M.fb --input-mean 0.2860
--input-std 0.3530. Libraries from ONEBIT_LIBRARY and ONEBIT_CONVERT_LIBRARY (ctest sets both).
"""

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import unittest

import numpy as np

IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
N_IMAGES = 1000
ARGS = None
onebit = None


def test_images(n):
    with gzip.open(IMAGES, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=16, count=n * 28 * 28).reshape(n, 1, 28, 28)


def shipped_module():
    import torch
    sys.path.insert(0, os.path.join(ARGS.source_dir, "models", "fashion_mnist"))
    import bnn
    model = bnn.BinaryResNet()
    model.load_state_dict(torch.load(os.path.join(ARGS.source_dir, "models", "fashion_mnist", "bnn_resnet.pt"))["state_dict"])
    return model


class ConvertTest(unittest.TestCase):
    def test_module_in_three_calls_gives_pytorchs_labels(self):
        import torch
        conversion = onebit.convert(shipped_module(), example_input=torch.zeros(1, 1, 28, 28),
                                    input_mean=0.2860, input_std=0.3530)
        self.assertEqual(conversion.report["binary_layers"], 6)
        self.assertEqual(conversion.notes, [])  # the dynamic-batch export worked
        interp = onebit.Model.from_bytes(conversion.model_bytes).interpreter()
        x = (test_images(N_IMAGES).astype(np.float32) / np.float32(255.0) - np.float32(0.2860)) / np.float32(0.3530)
        got = np.array([int(np.argmax(interp.run(x[i:i + 1]))) for i in range(N_IMAGES)])
        with open(os.path.join(ARGS.source_dir, "models", "fashion_mnist", "pytorch_predictions.txt")) as f:
            want = np.array([int(line) for line in f.read().split()[:N_IMAGES]])
        self.assertEqual(int((got == want).sum()), N_IMAGES)

    def test_onnx_path_gives_onebit_converts_file(self):
        onnx = os.path.join(ARGS.source_dir, "models", "fashion_mnist", "bnn_resnet.onnx")
        conversion = onebit.convert(onnx, input_mean=0.2860, input_std=0.3530)
        with open(ARGS.cli_model, "rb") as f:
            self.assertEqual(conversion.model_bytes, f.read())  # the CLI was given the same path
        with open(onnx, "rb") as f:
            from_bytes = onebit.convert(f.read(), input_mean=[0.2860], input_std=[0.3530])
        x = np.random.default_rng(3).standard_normal((1, 1, 28, 28)).astype(np.float32)
        a = onebit.Model.from_bytes(conversion.model_bytes).interpreter().run(x)
        b = onebit.Model.from_bytes(from_bytes.model_bytes).interpreter().run(x)
        self.assertTrue(np.array_equal(a, b))
        self.assertEqual(conversion.report["model_bytes"], len(conversion.model_bytes))
        self.assertIn("binary layers: 6", conversion.summary)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.fb")
            conversion.save(path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), conversion.model_bytes)
            self.assertEqual(os.listdir(d), ["m.fb"])  # no temporary left behind

    def test_verify_reports_agreement_and_where_it_breaks(self):
        import torch
        module = shipped_module()
        conversion = onebit.convert(module, example_input=torch.zeros(1, 1, 28, 28))
        x = (test_images(64).astype(np.float32) / np.float32(255.0) - np.float32(0.2860)) / np.float32(0.3530)
        report = onebit.verify(module, conversion, x)
        self.assertEqual((report.inputs, report.agreement, report.differing), (64, 64, []))
        self.assertLess(report.max_rel_delta, 1e-3)
        self.assertIn("argmax agreement 64/64", str(report))
        with torch.no_grad():  # a reference that is not what was converted: class 0 always wins
            module.fc.bias[0] += 1e3
        broken = onebit.verify(module, conversion.model_bytes, x, diagnose=1)
        want = [i for i in range(64) if broken.labels.get(i, (0, 0))[1] != 0]
        self.assertGreater(len(broken.differing), 0)
        self.assertEqual(broken.differing, want)
        self.assertTrue(all(ref == 0 for ref, _ in broken.labels.values()))
        self.assertIn("differing inputs: ", str(broken))
        # The first disagreeing input, through the module's ONNX export and the converter's reference: the
        # layer the change was made in (not the shortcut conv before the fused residual Add).
        self.assertEqual(broken.disagreeing, list(range(64)))  # every logit row moved by far more than 1e-3
        self.assertEqual(list(broken.diagnoses), [0])
        self.assertEqual(broken.first_diverging_layer, "/fc/Gemm")
        self.assertFalse(broken.diagnoses[0]["explained_by_near_zero_signs"])
        self.assertIn("input 0: first diverging layer '/fc/Gemm' (FullyConnected", str(broken))
        self.assertFalse(broken.passed)

    def test_verify_against_onnx_reference(self):
        onnx = os.path.join(ARGS.source_dir, "models", "fashion_mnist", "bnn_resnet.onnx")
        x = (test_images(4).astype(np.float32) / np.float32(255.0) - np.float32(0.2860)) / np.float32(0.3530)
        report = onebit.verify(onnx, ARGS.cli_model, x)  # the double-precision ONNX run of onebit-convert --verify
        self.assertEqual((report.reference, report.inputs, report.agreement, report.differing, report.disagreeing),
                         ("onnx", 4, 4, [], []))
        self.assertLess(report.max_rel_delta, 1e-5)
        self.assertIsNone(report.first_diverging_layer)
        self.assertTrue(report.passed)
        self.assertRegex(str(report), r"^verify: 4 inputs, argmax agreement 4/4, max \|Δ\| relative to the logit "
                                      r"range [0-9.e-]+, binary activations within float rounding of 0: \d+$")
        with open(onnx, "rb") as f:
            seeded = onebit.verify(f.read(), onebit.Model(ARGS.cli_model), count=2)  # onebit-convert --verify=2's inputs
        self.assertEqual((seeded.inputs, seeded.agreement, seeded.passed), (2, 2, True))

    def test_verify_names_where_sign_zero_breaks(self):
        # sign_after_relu: a Sign after Relu sees exact zeros; plus-one takes sign(0) = +1 where ONNX gives 0.
        patterns = os.path.join(ARGS.source_dir, "tests", "converter", "patterns")
        onnx = os.path.join(patterns, "sign_after_relu.o13.fixed.onnx")
        x = np.fromfile(os.path.join(patterns, "sign_after_relu.input.f32"), dtype=np.float32)[:2 * 256]
        x = x.reshape(2, 1, 16, 16)
        exact = onebit.verify(onnx, onebit.convert(onnx), x)  # ternary (the default): exact
        self.assertEqual((exact.agreement, exact.disagreeing, exact.passed), (2, [], True))
        self.assertGreater(exact.exact_zero_binary, 0)
        converted = onebit.convert(onnx, sign_zero="plus-one")
        plus_one = onebit.verify(onnx, converted, x)
        self.assertEqual(plus_one.disagreeing, [0, 1])
        self.assertEqual(plus_one.first_diverging_layer, "/Sign")
        for d in plus_one.diagnoses.values():
            self.assertEqual(d["first_diverging_layer"], "/Sign")
            self.assertTrue(d["explained_by_near_zero_signs"] and d["exact_zero_cause"])
        self.assertFalse(plus_one.passed)
        self.assertIn("first diverging layer (input 0): '/Sign' (Quantize", str(plus_one))
        self.assertIn("ONNX computes sign(0) = 0 there", str(plus_one))
        capped = onebit.verify(onnx, converted, x, diagnose=1)  # only the first disagreeing input looked into
        self.assertEqual((capped.disagreeing, list(capped.diagnoses)), ([0, 1], [0]))
        seeded = onebit.verify(onnx, converted, count=3)  # onebit-convert --verify=3: all disagree, first diagnosed
        self.assertEqual((seeded.disagreeing, list(seeded.diagnoses), seeded.first_diverging_layer), ([0, 1, 2], [0], "/Sign"))

    def test_verify_bad_input(self):
        onnx = os.path.join(ARGS.source_dir, "models", "fashion_mnist", "bnn_resnet.onnx")
        with self.assertRaisesRegex(ValueError, "input 0 'input'"):
            onebit.verify(onnx, ARGS.cli_model, np.zeros((2, 1, 27, 28), np.float32))
        with self.assertRaisesRegex(TypeError, "dtype <U1 are not numbers"):
            onebit.verify(onnx, ARGS.cli_model, np.array([["a"]]))
        with self.assertRaisesRegex(TypeError, "torch.nn.Module or an ONNX path or bytes"):
            onebit.verify(42, ARGS.cli_model, np.zeros((1, 1, 28, 28), np.float32))
        with self.assertRaisesRegex(ValueError, "needs inputs"):
            onebit.verify(shipped_module(), ARGS.cli_model)
        with self.assertRaisesRegex(onebit.ConversionError, "ONNX bytes"):
            onebit.verify(b"not an onnx model", ARGS.cli_model, np.zeros((1, 1, 28, 28), np.float32))
        with self.assertRaisesRegex(FileNotFoundError, "no-such.fb"):
            onebit.verify(onnx, "no-such.fb", np.zeros((1, 1, 28, 28), np.float32))
        from onebit.verify import onnx_reference  # onebit_verify_buffer's own argument checks
        with open(onnx, "rb") as f:
            graph = f.read()
        with open(ARGS.cli_model, "rb") as f:
            model = f.read()
        with self.assertRaisesRegex(ValueError, "1000 floats are not 2 inputs of the model's 784"):
            onnx_reference(graph, model, np.zeros(1000, np.float32), count=2)
        with self.assertRaisesRegex(ValueError, "count must be 1..1000000"):
            onnx_reference(graph, model, None, count=0)
        with self.assertRaisesRegex(onebit.ConversionError, "corrupt or truncated"):  # the runtime refuses it
            onnx_reference(graph, model[:100], None, count=1)


    def test_bad_input_raises_clear_errors(self):
        with self.assertRaisesRegex(onebit.ConversionError, "ONNX"):
            onebit.convert(b"not an onnx model")
        onnx = os.path.join(ARGS.source_dir, "models", "fashion_mnist", "bnn_resnet.onnx")
        with self.assertRaisesRegex(TypeError, "unknown option 'color'"):
            onebit.convert(onnx, color=1)
        with self.assertRaisesRegex(ValueError, "sign-zero takes"):
            onebit.convert(onnx, sign_zero="maybe")
        with self.assertRaisesRegex(ValueError, "input-mean and input-std"):
            onebit.convert(onnx, input_mean=0.5)
        with self.assertRaisesRegex(TypeError, "ONNX path, ONNX bytes or a torch.nn.Module"):
            onebit.convert(42)
        import torch
        with self.assertRaisesRegex(ValueError, "example_input"):
            onebit.convert(shipped_module())
        with self.assertRaisesRegex(onebit.ConversionError, "torch.onnx.export failed"):
            onebit.convert(shipped_module(), example_input=torch.zeros(1, 3, 28, 28))  # the stem wants 1 channel

def cli(*argv):
    """python3 -m onebit's main in this process: (exit status, stdout, stderr)."""
    import contextlib
    import io
    from onebit import __main__ as entry
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = entry.main(list(argv))
        except SystemExit as e:  # argparse: --help (0) and usage errors (2)
            status = e.code
    return status, out.getvalue(), err.getvalue()


class CommandLineTest(unittest.TestCase):
    """python3 -m onebit {run,info,bench,verify} on the shipped model, in process (wheel_test.sh runs
    python3 -m onebit itself)."""

    def test_help_and_usage_errors(self):
        for command, flag in (("convert", "--sign-zero"), ("run", "--normalize"), ("info", "--json"),
                              ("bench", "--profile"), ("verify", "--images")):
            status, out, _ = cli(command, "--help")
            self.assertEqual(status, 0, command)
            self.assertIn("usage: python3 -m onebit " + command, out)
            self.assertIn(flag, out)
            self.assertEqual(cli(command)[0], 2, command)  # its required arguments missing
        self.assertEqual(cli("bench", "--model", ARGS.cli_model, "--runs", "0")[0], 2)

    def test_run(self):
        pixels = test_images(3)
        want = onebit.Model(ARGS.cli_model).interpreter().run(pixels, normalize=True)
        with tempfile.TemporaryDirectory() as d:
            x, y = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")
            np.save(x, pixels)
            status, out, _ = cli("run", ARGS.cli_model, "--input", x, "--normalize", "--output", y)
            self.assertEqual((status, out), (0, "wrote %s [3, 10]\n" % y))
            self.assertTrue(np.array_equal(np.load(y), want))
            self.assertEqual(sorted(os.listdir(d)), ["x.npy", "y.npy"])  # no temporary left behind
            status, out, _ = cli("run", ARGS.cli_model, "--input", x, "--normalize")
            self.assertEqual(status, 0)
            self.assertIn("output /fc/Gemm [3, 10]\n  0: class %d, value" % int(want[0].argmax()), out)
            status, portable, _ = cli("run", ARGS.cli_model, "--input", x, "--normalize", "--portable-float", "--isa", "scalar")
            classes = lambda text: re.findall(r"class \d+", text)
            self.assertEqual((status, classes(portable)), (0, classes(out)))  # the portable float path's classes
            idx = os.path.join(d, "images.idx")  # onebit-eval's image files are taken too
            with open(idx, "wb") as f:
                f.write(bytes([0, 0, 8, 3]) + np.array(pixels.shape[:1] + pixels.shape[2:], ">u4").tobytes() + pixels.tobytes())
            status, out, _ = cli("run", ARGS.cli_model, "--input", idx, "--normalize")
            self.assertEqual(status, 0)
            self.assertIn("output /fc/Gemm [3, 10]\n  0: class %d, value" % int(want[0].argmax()), out)
            np.save(x, np.zeros((1, 1, 28, 27), np.float32))
            status, _, err = cli("run", ARGS.cli_model, "--input", x, "--output", y)
            self.assertEqual(status, 1)
            self.assertIn("onebit run: input 0 'input'", err)
            self.assertTrue(np.array_equal(np.load(y), want))  # not overwritten
            status, _, err = cli("run", ARGS.cli_model, "--input", os.path.join(d, "missing.npy"))
            self.assertEqual(status, 1)
            self.assertIn("missing.npy", err)

    def test_info_and_bench(self):
        status, out, _ = cli("info", ARGS.cli_model)
        self.assertEqual(status, 0)
        self.assertIn("/fc/Gemm", out)
        self.assertIn("28 ops, 6 binary", out)
        self.assertIn("input: input [1, 28, 28, 1]", out)
        status, out, _ = cli("info", ARGS.cli_model, "--json")
        info = json.loads(out)
        self.assertEqual((info["totals"]["binary_operators"], len(info["operators"])), (6, 28))
        self.assertEqual(cli("info", "no-such.fb")[0], 1)
        status, out, _ = cli("bench", ARGS.cli_model, "--runs", "3", "--warmup", "1", "--profile")
        self.assertEqual(status, 0)
        self.assertRegex(out, r"latency ms   min [0-9.]+  median [0-9.]+  p90 [0-9.]+")
        self.assertIn("BinaryConv2D", out)
        status, out, _ = cli("bench", "--model", ARGS.cli_model, "--runs", "2", "--json")
        result = json.loads(out)
        self.assertEqual((result["runs"], result["model_bytes"]), (2, os.path.getsize(ARGS.cli_model)))
        self.assertLessEqual(result["latency_ms"]["min"], result["latency_ms"]["p90"])

    def test_verify(self):
        onnx = os.path.join(ARGS.source_dir, "models", "fashion_mnist", "bnn_resnet.onnx")
        status, out, _ = cli("verify", onnx, ARGS.cli_model, "--images", IMAGES, "--limit", "2")
        self.assertEqual(status, 0)
        self.assertTrue(out.startswith("verify: 2 inputs, argmax agreement 2/2, "), out)
        folder = os.path.join(ARGS.source_dir, "models", "fashion_mnist")
        status, out, _ = cli("verify", os.path.join(folder, "bnn.py") + ":BinaryResNet", ARGS.cli_model,
                             "--weights", os.path.join(folder, "bnn_resnet.pt"), "--images", IMAGES, "--limit", "2")
        self.assertEqual((status, out), (0, out))
        self.assertTrue(out.startswith("verify: 2 inputs, argmax agreement 2/2, "), out)
        patterns = os.path.join(ARGS.source_dir, "tests", "converter", "patterns")
        with tempfile.TemporaryDirectory() as d:
            model = os.path.join(d, "plus_one.fb")
            onebit.convert(os.path.join(patterns, "sign_after_relu.o13.fixed.onnx"), sign_zero="plus-one").save(model)
            status, out, _ = cli("verify", os.path.join(patterns, "sign_after_relu.o13.fixed.onnx"), model, "--count", "1")
        self.assertEqual(status, 1)
        self.assertIn("first diverging layer (input 0): '/Sign'", out)
        self.assertEqual(cli("verify", onnx, ARGS.cli_model, "--weights", "w.pt")[0], 2)
        status, _, err = cli("verify", os.path.join(folder, "bnn.py") + ":NoSuchNet", ARGS.cli_model)
        self.assertEqual(status, 1)
        self.assertIn("bnn.py has no NoSuchNet", err)
        status, _, err = cli("verify", onnx, ARGS.cli_model, "--input", "no-such.npy")
        self.assertEqual(status, 1)
        self.assertIn("onebit verify: no-such.npy", err)


def main():
    global ARGS, onebit
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli-model", required=True)
    ap.add_argument("--source-dir", required=True)
    ARGS, rest = ap.parse_known_args()
    if not os.environ.get("PYTHONPATH"):
        sys.path.insert(0, os.path.join(ARGS.source_dir, "python"))
    import onebit as module
    onebit = module
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
