#!/usr/bin/python3
"""onebit.convert() (python/onebit/convert.py over libonebit_convert.so): a PyTorch module, an ONNX file or
ONNX bytes -> a onebit model in memory, against PyTorch's committed predictions and onebit-convert's file.

    /usr/bin/python3 tests/python/test_convert.py --cli-model M.fb --source-dir /work/main [unittest args]

M.fb: onebit-convert <source-dir>/models/fashion_mnist/bnn_resnet.onnx -o M.fb --input-mean 0.2860
--input-std 0.3530. Libraries from ONEBIT_LIBRARY and ONEBIT_CONVERT_LIBRARY (ctest sets both).
"""

import argparse
import gzip
import os
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
        broken = onebit.verify(module, conversion.model_bytes, x)
        want = [i for i in range(64) if broken.labels.get(i, (0, 0))[1] != 0]
        self.assertGreater(len(broken.differing), 0)
        self.assertEqual(broken.differing, want)
        self.assertTrue(all(ref == 0 for ref, _ in broken.labels.values()))
        self.assertIn("differing inputs: ", str(broken))

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
