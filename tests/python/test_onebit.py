#!/usr/bin/python3
"""The onebit Python module (python/onebit) on the shipped Fashion-MNIST model against PyTorch's committed
outputs, plus its API contracts (layouts, copies, batches, normalization, profiling, summary, errors).

    /usr/bin/python3 tests/python/test_onebit.py --model M.fb --source-dir /work/main [unittest args]

M.fb: onebit-convert models/fashion_mnist/bnn_resnet.onnx -o M.fb --input-mean 0.2860 --input-std 0.3530.
The library comes from ONEBIT_LIBRARY (ctest sets it to the build's libonebit), the module from PYTHONPATH
(else <source-dir>/python). Plain unittest: no pytest needed.
"""

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

ARGS = None
SUMMARY = {}
onebit = None  # imported in main() once sys.path is known


def read_idx_u8(path):
    """An IDX file of unsigned bytes (optionally gzipped) as a numpy array of its dims."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError("%s: not an IDX file of unsigned bytes" % path)
    rank = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=rank, offset=4))
    offset = 4 + 4 * rank
    count = int(np.prod(dims))
    if len(data) != offset + count:
        raise ValueError("%s: %d bytes, dims %s need %d" % (path, len(data), dims, offset + count))
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def normalize(pixels, mean, std, channels):
    """bench/eval/evaluate.cc's preprocessing, in float32 like it: (float(px) / 255.0f - mean[c]) / std[c],
    mean/std from the model (0 values: 0 / 1; 1 value: every channel; else one per channel)."""
    m = np.zeros(channels, np.float32) if mean.size == 0 else np.broadcast_to(mean.astype(np.float32), channels)
    s = np.ones(channels, np.float32) if std.size == 0 else np.broadcast_to(std.astype(np.float32), channels)
    x = pixels.astype(np.float32) / np.float32(255.0)
    return ((x - m) / s).astype(np.float32)


def module_dir():
    """The directory the onebit package was imported from (for subprocesses)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(onebit.__file__)))


class ShippedModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = onebit.Model(ARGS.model)
        cls.it = cls.model.interpreter()
        ref = os.path.join(ARGS.source_dir, "models", "fashion_mnist")
        cls.torch_labels = np.loadtxt(os.path.join(ref, "pytorch_predictions.txt"), dtype=np.int64)
        cls.torch_logits = np.loadtxt(os.path.join(ref, "pytorch_logits_first16.txt"), dtype=np.float64)
        (cls.in_name, cls.in_shape), = cls.it.inputs
        n, h, w, c = cls.in_shape  # the runtime's NHWC
        images = read_idx_u8(IMAGES)  # [10000, 28, 28]
        assert images.shape[1:] == (h, w) and c == 1, (images.shape, cls.in_shape)
        nhwc = normalize(images.reshape(-1, h, w, 1), cls.model.input_mean, cls.model.input_std, c)
        cls.nhwc = nhwc  # [10000, 28, 28, 1]
        cls.nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))  # [10000, 1, 28, 28], PyTorch's
        cls.batch = n
        SUMMARY["isa"] = cls.it.isa

    @classmethod
    def tearDownClass(cls):
        cls.it.close()
        cls.model.close()

    def test_metadata(self):
        np.testing.assert_allclose(self.model.input_mean, [0.2860], rtol=0, atol=1e-7)
        np.testing.assert_allclose(self.model.input_std, [0.3530], rtol=0, atol=1e-7)
        self.assertEqual(self.model.input_mean.dtype, np.float32)
        labels = self.model.labels  # the fixture converts without --labels: possibly none
        self.assertIsInstance(labels, list)
        self.assertTrue(all(isinstance(l, str) for l in labels))
        self.assertIn(len(labels), (0, 10))
        self.assertGreater(self.model.size_bytes, 0)
        self.assertEqual(self.model.size_bytes, os.path.getsize(ARGS.model))
        self.assertEqual(self.in_shape, (1, 28, 28, 1))
        (_, out_shape), = self.it.outputs
        self.assertEqual(out_shape, (1, 10))
        self.assertIn(self.it.isa, ("scalar", "avx2", "avx512vpopcnt", "neon"))
        self.assertEqual(onebit.isas(), ("scalar", "avx2", "avx512vpopcnt", "neon"))
        self.assertEqual(self.it.threads, 1)
        self.assertGreater(self.it.arena_bytes, 0)
        if os.environ.get("ONEBIT_LIBRARY"):
            self.assertEqual(onebit.library_path(), os.environ["ONEBIT_LIBRARY"])

    def test_all_labels_equal_pytorch(self):
        n = len(self.torch_labels)
        self.assertEqual(n, 10000)
        self.assertEqual(self.nchw.shape[0], n)
        start, start_cpu = time.perf_counter(), time.process_time()
        logits = self.it.run(self.nchw)  # all 10,000 in one call, the model's batch at a time
        self.assertEqual(logits.shape, (n, 10))
        pred = np.argmax(logits, axis=1)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
        same = int(np.sum(pred == self.torch_labels))
        SUMMARY["labels"] = (same, n, seconds, cpu_seconds)
        self.assertEqual(same, n, "first differing images: %s" % np.nonzero(pred != self.torch_labels)[0][:20])
        # CPU time, not wall time: the cores are shared with builds and other tests (one thread here).
        self.assertLess(cpu_seconds, 60.0)

    def test_first16_logits(self):
        worst = 0.0
        for i in range(16):
            y = self.it.run(self.nchw[i:i + 1])
            self.assertEqual(y.shape, (1, 10))
            self.assertEqual(y.dtype, np.float32)
            ref = self.torch_logits[i]
            err = float(np.max(np.abs(y[0].astype(np.float64) - ref)))
            worst = max(worst, err)
            self.assertLessEqual(err, 1e-3 * float(np.max(np.abs(ref))), "image %d: %s vs %s" % (i, y[0], ref))
        SUMMARY["logit_error"] = worst

    def test_layouts_identical(self):
        x = self.nchw[3:4]  # [1, 1, 28, 28]
        a = self.it.run(x)
        b = self.it.run(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), layout="nhwc")
        c = self.it.run(x.transpose(0, 2, 3, 1), layout="nhwc")  # a non-contiguous view
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        # The NHWC array given as NCHW is the wrong shape, and the message says so in NCHW terms.
        with self.assertRaises(ValueError) as cm:
            self.it.run(self.nhwc[3:4])
        self.assertIn("[1, 1, 28, 28]", str(cm.exception))
        self.assertIn("[1, 28, 28, 1]", str(cm.exception))
        with self.assertRaises(ValueError):
            self.it.run(x, layout="NCHW ")

    def test_run_twice_returns_copies(self):
        a = self.it.run(self.nchw[0:1])
        a_saved = a.copy()
        b = self.it.run(self.nchw[0:1])
        np.testing.assert_array_equal(a, b)
        self.assertFalse(np.shares_memory(a, b))
        self.it.run(self.nchw[1:2])  # the runtime reuses its output buffer; our arrays must not change
        np.testing.assert_array_equal(a, a_saved)
        self.assertFalse(np.array_equal(a, self.it.run(self.nchw[1:2])))

    def test_input_conversion(self):
        x = self.nchw[5:6]
        ref = self.it.run(x)
        np.testing.assert_array_equal(self.it.run(x.astype(np.float64)), ref)
        np.testing.assert_array_equal(self.it.run(x.tolist()), ref)  # nested lists
        np.testing.assert_array_equal(self.it.run([x]), ref)  # a list of one array per input
        np.testing.assert_array_equal(x, self.nchw[5:6])  # the caller's array is not modified

    def test_wrong_shape(self):
        for bad in (np.zeros((1, 28, 28), np.float32), np.zeros((2, 28, 28, 1), np.float32),
                    np.zeros((1, 1, 27, 28), np.float32), np.zeros((1, 1, 1, 28, 28), np.float32)):
            with self.assertRaises(ValueError) as cm:
                self.it.run(bad)
            self.assertIn(str(list(bad.shape)), str(cm.exception))
            self.assertIn("[1, 1, 28, 28]", str(cm.exception))
            self.assertIn("'%s'" % self.in_name, str(cm.exception))
        with self.assertRaises(ValueError) as cm:
            self.it.run(np.zeros((1, 1, 28, 28), np.float32), layout="nhwc")
        self.assertIn("[1, 28, 28, 1]", str(cm.exception))
        # Any number of images is a right shape (issue 22), none included.
        self.assertEqual(self.it.run(np.zeros((2, 1, 28, 28), np.float32)).shape, (2, 10))
        self.assertEqual(self.it.run(np.zeros((0, 1, 28, 28), np.float32)).shape, (0, 10))

    def test_wrong_dtype(self):
        for bad in (np.zeros((1, 1, 28, 28), np.complex64), np.full((1, 1, 28, 28), "a"),
                    np.zeros((1, 1, 28, 28), bool), np.array([[None]], dtype=object)):
            with self.assertRaises(TypeError) as cm:
                self.it.run(bad)
            self.assertIn(str(bad.dtype), str(cm.exception))
            self.assertIn("'%s'" % self.in_name, str(cm.exception))
        # Integers and other floats are numbers: converted to float32.
        ints = np.arange(784, dtype=np.int16).reshape(1, 1, 28, 28) % 3 - 1
        np.testing.assert_array_equal(self.it.run(ints), self.it.run(ints.astype(np.float32)))

    def test_batch_equals_single_runs(self):
        x = self.nchw[20:25]  # 5 images: with a batch-2 interpreter, 2 + 2 + a padded 1
        singles = np.concatenate([self.it.run(x[k:k + 1]) for k in range(len(x))])
        np.testing.assert_array_equal(self.it.run(x), singles)  # bit for bit, in one call
        self.assertEqual(self.model.batch, 1)
        with self.model.interpreter(batch=2) as it2:
            self.assertEqual(it2.batch, 2)
            self.assertEqual(it2.inputs[0][1], (2, 28, 28, 1))
            np.testing.assert_array_equal(it2.run(x), singles)
            np.testing.assert_array_equal(it2.run(x[:1]), singles[:1])
        np.testing.assert_array_equal(self.it.run(x.transpose(0, 2, 3, 1), layout="nhwc"), singles)
        for bad in (0, -1, 1.5, True):
            with self.assertRaises(ValueError):
                self.model.interpreter(batch=bad)

    def test_normalize(self):
        # Raw pixels as the demo's IDX images hold them (uint8, 0..255), or scaled to [0, 1]: normalize=True
        # applies the model's (x - 0.2860) / 0.3530 and gives what the normalized input gives, bit for bit.
        pixels = read_idx_u8(IMAGES)[:4].reshape(4, 1, 28, 28)
        ref = self.it.run(self.nchw[:4])
        np.testing.assert_array_equal(self.it.run(pixels, normalize=True), ref)
        np.testing.assert_array_equal(self.it.run(pixels.astype(np.float32) / np.float32(255), normalize=True), ref)
        nhwc = np.ascontiguousarray(pixels.transpose(0, 2, 3, 1))
        np.testing.assert_array_equal(self.it.run(nhwc, layout="nhwc", normalize=True), ref)
        self.assertFalse(np.array_equal(self.it.run(pixels / np.float32(255)), ref))  # default off

    def test_profile(self):
        runs = 3
        with self.model.interpreter(profiling=True) as it:
            for i in range(runs):
                it.run(self.nchw[i:i + 1])
            prof = it.profile()
            self.assertGreater(len(prof), 10)
            keys = {"name", "type", "output_shape", "last_ms", "median_ms", "samples", "binary_macs",
                    "float_macs"}
            for p in prof:
                self.assertEqual(set(p), keys)
                self.assertEqual(p["samples"], runs, p)
                self.assertTrue(p["type"], p)
                self.assertGreaterEqual(p["last_ms"], 0.0)
                self.assertGreaterEqual(p["median_ms"], 0.0)
            self.assertEqual(prof[-1]["output_shape"], it.outputs[0][1])
            self.assertGreater(sum(p["binary_macs"] for p in prof), sum(p["float_macs"] for p in prof))
            # The shipped model's six binary convolutions (models/fashion_mnist/README.md).
            self.assertEqual(sum(p["type"] == "BinaryConv2D" for p in prof), 6)
            self.assertTrue(all(p["binary_macs"] > 0 for p in prof if p["type"] == "BinaryConv2D"))
            table = str(prof)  # prints as a table: one line per operator, a total
            self.assertIn("Median ms", table)
            self.assertEqual(len(table.splitlines()), len(prof) + 4)
            it.clear_profile()
            self.assertTrue(all(p["samples"] == 0 for p in it.profile()))
            it.run(self.nchw[0:1])
            self.assertTrue(all(p["samples"] == 1 for p in it.profile()))
        # Without profiling, operators are listed but nothing is recorded.
        self.assertTrue(all(p["samples"] == 0 for p in self.it.profile()))
        self.assertEqual(len(self.it.profile()), len(prof))

    def test_summary(self):
        rows = self.model.summary()
        prof = self.it.profile()
        self.assertEqual([r["index"] for r in rows], list(range(len(prof))))
        for r, p in zip(rows, prof):
            self.assertEqual((r["name"], r["type"], r["output_shape"]), (p["name"], p["type"], p["output_shape"]))
            self.assertEqual((r["binary_macs"], r["float_macs"]), (p["binary_macs"], p["float_macs"]))
        t = rows.totals()
        self.assertEqual((t["operators"], t["binary_operators"]), (len(rows), 6))  # six binary convolutions
        self.assertTrue(all(r["binary"] == (r["type"] == "BinaryConv2D") for r in rows))
        self.assertGreater(t["binary_params"], 10 * t["float_params"])
        self.assertEqual(t["param_bytes"], sum(r["param_bytes"] for r in rows))
        table = str(rows)
        for text in ("Binary params", "BinaryConv2D", "Total", "%d ops, 6 binary" % len(rows), str(t["binary_macs"])):
            self.assertIn(text, table)

    def test_from_bytes_and_threads(self):
        with open(ARGS.model, "rb") as f:
            data = f.read()
        with onebit.Model.from_bytes(data) as m, m.interpreter(threads=2) as it:
            self.assertEqual(it.threads, 2)
            self.assertEqual(m.labels, self.model.labels)
            np.testing.assert_array_equal(it.run(self.nchw[7:8]), self.it.run(self.nchw[7:8]))

    def test_isa_scalar_agrees(self):
        with self.model.interpreter(isa="scalar") as it:
            self.assertEqual(it.isa, "scalar")
            for i in range(4):
                self.assertEqual(int(np.argmax(it.run(self.nchw[i:i + 1]))), int(self.torch_labels[i]))
        with self.assertRaises(onebit.Error):
            self.model.interpreter(isa="no-such-isa")

    def test_lifetimes(self):
        m = onebit.Model(ARGS.model)
        it = m.interpreter()
        del m  # the interpreter keeps its model alive
        y = it.run(self.nchw[0:1])
        self.assertEqual(y.shape, (1, 10))
        m = it.model
        m.close()  # closes the interpreter first
        self.assertTrue(it.closed)
        with self.assertRaises(onebit.Error):
            it.run(self.nchw[0:1])
        with self.assertRaises(onebit.Error):
            m.interpreter()
        it.close()
        m.close()  # idempotent


class Errors(unittest.TestCase):
    def test_bad_path(self):
        path = os.path.join(tempfile.gettempdir(), "onebit-no-such-dir", "missing model.fb")
        with self.assertRaises(onebit.Error) as cm:
            onebit.Model(path)
        self.assertIn(path, str(cm.exception))
        self.assertIsInstance(cm.exception, RuntimeError)

    def test_truncated_model(self):
        with open(ARGS.model, "rb") as f:
            head = f.read(100)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "truncated.fb")
            with open(path, "wb") as f:
                f.write(head)
            with self.assertRaises(onebit.Error) as cm:
                onebit.Model(path)
            self.assertTrue(str(cm.exception))
        with self.assertRaises(onebit.Error):
            onebit.Model.from_bytes(head)
        with self.assertRaises(onebit.Error):
            onebit.Model.from_bytes(b"")

    def test_check_tool(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = module_dir()
        r = subprocess.run([sys.executable, "-m", "onebit", ARGS.model], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("isa: ", r.stdout)
        self.assertIn("input: ", r.stdout)
        self.assertIn("[1, 28, 28, 1]", r.stdout)
        self.assertIn("output: ", r.stdout)
        r = subprocess.run([sys.executable, "-m", "onebit", "/nonexistent.fb"], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent.fb", r.stderr)

    def test_library_lookup_lists_places(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = module_dir()
        env["ONEBIT_LIBRARY"] = "/nonexistent/libonebit.so.0"
        r = subprocess.run([sys.executable, "-c", "import onebit; onebit.version()"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ONEBIT_LIBRARY: /nonexistent/libonebit.so.0", r.stderr)

    def test_install_file_lookup(self):
        """Without ONEBIT_LIBRARY: onebit/_install.py's LIBRARY (relative to the package), else the system
        loader; a failure names every place tried."""
        lib = os.environ.get("ONEBIT_LIBRARY")
        if not lib:
            self.skipTest("ONEBIT_LIBRARY not set: no library to point _install.py at")
        src = os.path.join(module_dir(), "onebit")
        with tempfile.TemporaryDirectory() as d:
            pkg = os.path.join(d, "onebit")
            shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__", "_install.py"))
            env = {k: v for k, v in os.environ.items() if k not in ("ONEBIT_LIBRARY", "LD_LIBRARY_PATH")}
            env["PYTHONPATH"] = d
            code = "import onebit; print(onebit.library_path()); print(onebit.version())"
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:  # no libonebit.so.0 installed on this system
                self.assertIn("system loader: libonebit.so.0", r.stderr)
            relative = os.path.relpath(os.path.realpath(lib), pkg)
            with open(os.path.join(pkg, "_install.py"), "w") as f:
                f.write("LIBRARY = %r\n" % relative)
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.splitlines()[0], os.path.normpath(os.path.join(pkg, relative)))
            with open(os.path.join(pkg, "_install.py"), "w") as f:
                f.write("LIBRARY = 'no/such/libonebit.so.0'\n")
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                self.assertIn("onebit/_install.py: " + os.path.join(pkg, "no/such/libonebit.so.0"), r.stderr)
                self.assertIn("system loader: libonebit.so.0", r.stderr)


def main():
    global ARGS, onebit
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="the converted shipped model (.fb)")
    parser.add_argument("--source-dir", required=True, help="the onebit source tree (reference outputs)")
    ARGS, rest = parser.parse_known_args()
    python_dir = os.path.join(ARGS.source_dir, "python")
    if not os.environ.get("PYTHONPATH") and python_dir not in sys.path:
        sys.path.insert(0, python_dir)
    import onebit as module
    onebit = module
    program = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    ok = program.result.wasSuccessful()
    if "labels" in SUMMARY and "logit_error" in SUMMARY:
        same, n, seconds, cpu_seconds = SUMMARY["labels"]
        print("python: %d/%d labels equal PyTorch's, max logit error %.3g (%d images in one run: %.1f s wall, "
              "%.1f s CPU, isa %s)"
              % (same, n, SUMMARY["logit_error"], n, seconds, cpu_seconds, SUMMARY.get("isa", "?")))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
