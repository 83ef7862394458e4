"""python3 -m onebit {convert,run,info,bench,verify}: the CLI tools (onebit-convert, onebit-run, onebit-info,
bench, onebit-convert --verify) through the Python package. Exit status as theirs: 0 ok, 1 error (a model
that does not load or convert, files, shapes; verify: a disagreement), 2 usage error (argparse's)."""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np

import onebit
from onebit.convert import write_atomically


class Failure(Exception):
    """An error the tool reports on one line and exits 1 for."""


def _isa_help():
    try:
        return ", ".join(onebit.isas())
    except onebit.LibraryNotFound:
        return "a name onebit.isas() lists"  # --help still works without the library


def _runtime_flags(parser, threads=True):
    if threads:
        parser.add_argument("--threads", type=int, default=1, help="threads of the interpreter, default 1")
    parser.add_argument("--isa", default=None, help="kernel path: %s (default: the best this CPU supports, or "
                                                    "$ONEBIT_ISA)" % _isa_help())
    parser.add_argument("--portable-float", action="store_true",
                        help="full-precision layers on onebit's portable float kernels, not XNNPACK")


def read_idx(path):
    """An IDX file of unsigned bytes (gzip or plain: onebit-eval's images) as uint8 [N, 1, H, W]."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:3] != b"\0\0\x08" or data[3] != 3:
        raise Failure("%s: not an IDX file of unsigned-byte images (magic 0x00000803)" % path)
    dims = [int(d) for d in np.frombuffer(data, dtype=">u4", count=3, offset=4)]
    if len(data) != 16 + dims[0] * dims[1] * dims[2]:
        raise Failure("%s: %d bytes, dims %s need %d" % (path, len(data), dims, 16 + int(np.prod(dims))))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(dims[0], 1, dims[1], dims[2])


def _load_npy(path, images=False):
    """A .npy array; with images=True also an IDX image file (onebit-eval's: uint8 [N, 1, H, W])."""
    if images and not path.endswith(".npy"):
        try:
            with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
                idx = f.read(3) == b"\0\0\x08"
        except OSError as e:
            raise Failure("%s: %s" % (path, e))
        if idx:
            return read_idx(path)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise Failure("%s: not a .npy array (%s)" % (path, e))


def convert_main(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m onebit convert",
        description="Converts an ONNX model to a onebit model (onebit.convert(), the same converter as "
                    "onebit-convert) and prints the converter's report. Writes OUT only on success; exits 1 "
                    "when the model cannot be converted.")
    parser.add_argument("onnx", help="the ONNX file")
    parser.add_argument("-o", "--output", required=True, help="the .fb file to write")
    parser.add_argument("--input-mean", help="normalization stored in the model: one value or per-channel, commas")
    parser.add_argument("--input-std", help="as --input-mean")
    parser.add_argument("--labels", help="a text file of class names, one per line")
    parser.add_argument("--batch", type=int, help="batch size for a symbolic batch dim (default 1)")
    parser.add_argument("--sign-zero", choices=["ternary", "plus-one", "error"], help="what a Sign that can see 0 does")
    parser.add_argument("--strict", action="store_true", help="warnings are errors")
    parser.add_argument("--float16-weights", action="store_true", help="float layers' weights as float16")
    parser.add_argument("--verify", nargs="?", type=int, const=32, metavar="N",
                        help="then check the model against the ONNX graph on N seeded random inputs (default 32), "
                             "as onebit-convert --verify")
    args = parser.parse_args(argv)
    numbers = lambda text: [float(v) for v in text.split(",")] if text else None
    labels = None
    if args.labels:
        with open(args.labels) as f:
            labels = [line.strip() for line in f if line.strip()]
    conversion = onebit.convert(args.onnx, input_mean=numbers(args.input_mean), input_std=numbers(args.input_std),
                                labels=labels, batch=args.batch, sign_zero=args.sign_zero,
                                strict=args.strict or None, float16_weights=args.float16_weights or None)
    sys.stdout.write(conversion.summary)
    for w in conversion.warnings:
        print("onebit convert: warning: %s" % w, file=sys.stderr)
    conversion.save(args.output)
    print("wrote %s (%d bytes)" % (args.output, len(conversion.model_bytes)))
    if args.verify:
        print(onebit.verify(args.onnx, conversion, count=args.verify))
    return 0


def run_main(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m onebit run",
        description="Runs a model on .npy inputs (as onebit-run) and writes its outputs (float32 .npy, written "
                    "atomically) or, without --output, prints each image's top class. An input's first "
                    "dimension is the number of images, any number.")
    parser.add_argument("model", help="a .fb model")
    parser.add_argument("--input", action="append", required=True, metavar="X.npy",
                        help="a .npy array of numbers (or onebit-eval's IDX images, uint8), once per model input, "
                             "in order; used as is unless --normalize")
    parser.add_argument("--output", action="append", metavar="Y.npy", help="once per model output, in order")
    parser.add_argument("--layout", choices=["nchw", "nhwc"], default="nchw",
                        help="how 4-D inputs are given and outputs written: nchw (default, PyTorch's) or nhwc")
    parser.add_argument("--normalize", action="store_true",
                        help="apply the model's stored mean/std first (uint8 pixels are scaled to [0, 1] first)")
    _runtime_flags(parser)
    args = parser.parse_args(argv)
    model = onebit.Model(args.model)
    it = model.interpreter(threads=args.threads, isa=args.isa, portable_float=args.portable_float)
    if len(args.input) != len(it.inputs):
        raise Failure("the model has %d inputs, %d --input given" % (len(it.inputs), len(args.input)))
    if args.output and len(args.output) != len(it.outputs):
        raise Failure("the model has %d outputs, %d --output given" % (len(it.outputs), len(args.output)))
    xs = [_load_npy(path, images=True) for path in args.input]
    ys = it.run(xs if len(xs) > 1 else xs[0], layout=args.layout, normalize=args.normalize)
    ys = ys if isinstance(ys, list) else [ys]
    if args.output:
        for path, y in zip(args.output, ys):
            write_atomically(path, lambda f, y=y: np.save(f, y))
            print("wrote %s %s" % (path, list(y.shape)))
        return 0
    for (name, _), y in zip(it.outputs, ys):
        print("output %s %s" % (name, list(y.shape)))
        rows = y.reshape(y.shape[0], -1) if y.ndim else y.reshape(1, 1)
        for i, row in enumerate(rows[:20]):
            k = int(row.argmax())
            label = " (%s)" % model.labels[k] if k < len(model.labels) else ""
            print("  %d: class %d%s, value %.6g" % (i, k, label, float(row[k])))
        if rows.shape[0] > 20:
            print("  ... %d more (write them with --output)" % (rows.shape[0] - 20))
    return 0


def _info_dict(path, model, it):
    s = model.summary()
    ops = [dict(row, output_shape=list(row["output_shape"])) for row in s]
    return {"model": path, "model_bytes": model.size_bytes, "isa": it.isa, "arena_bytes": it.arena_bytes,
            "operators": ops, "totals": s.totals(),
            "inputs": [{"name": n, "shape": list(sh)} for n, sh in it.inputs],
            "outputs": [{"name": n, "shape": list(sh)} for n, sh in it.outputs],
            "input_mean": model.input_mean.tolist(), "input_std": model.input_std.tolist(), "labels": model.labels}


def info_main(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m onebit info",
        description="Prints a model summary (as onebit-info): per operator name, type, output shape (NHWC or "
                    "[N, C]), binary / float parameters, bytes, binary / float MACs, totals, then model and arena "
                    "bytes, inputs, outputs, normalization and labels.")
    parser.add_argument("model", help="a .fb model")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    parser.add_argument("--isa", default=None, help="kernel path of the interpreter that plans the arena: %s" % _isa_help())
    args = parser.parse_args(argv)
    model = onebit.Model(args.model)
    it = model.interpreter(isa=args.isa)
    info = _info_dict(args.model, model, it)
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    print("Model: %s (%d bytes)    Kernel path: %s\n" % (args.model, model.size_bytes, it.isa))
    print(model.summary())
    print("\nArena: %d bytes" % it.arena_bytes)
    for kind in ("inputs", "outputs"):
        for t in info[kind]:
            print("%s: %s %s" % (kind[:-1], t["name"], t["shape"]))
    if model.input_mean.size or model.input_std.size:
        print("normalization: (x - %s) / %s" % (info["input_mean"], info["input_std"]))
    print("labels (%d): %s" % (len(model.labels), ", ".join(model.labels) if model.labels else "none"))
    return 0


class _BenchProfile(onebit.Profile):
    COLUMNS = onebit.Profile.COLUMNS[:4] + (("share", "%", False),) + onebit.Profile.COLUMNS[5:]


def bench_main(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m onebit bench",
        description="Times invoke (as bench): min / median / p90 ms over --runs after --warmup untimed runs, on "
                    "seeded random inputs, with the kernel path, threads, model and arena bytes; --profile adds "
                    "the per-operator median table. One thread count (bench's lists are not taken here).")
    parser.add_argument("model", nargs="?", help="a .fb model (or --model)")
    parser.add_argument("--model", dest="model_flag", metavar="M.fb", help="as bench --model")
    parser.add_argument("--runs", type=int, default=20, help="timed runs, default 20")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first, default 3")
    parser.add_argument("--profile", action="store_true", help="per-operator table: median ms, %% of total, MACs")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the text")
    _runtime_flags(parser)
    args = parser.parse_args(argv)
    path = args.model_flag or args.model
    if not path or (args.model_flag and args.model):
        parser.error("give the model once, as MODEL or --model")
    if args.runs < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--runs and --threads take integers >= 1, --warmup >= 0")
    model = onebit.Model(path)
    it = model.interpreter(threads=args.threads, isa=args.isa, profiling=args.profile,
                           portable_float=args.portable_float)
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(shape).astype(np.float32) for _, shape in it.inputs]
    x = xs if len(xs) > 1 else xs[0]
    for _ in range(args.warmup):
        it.run(x, layout="nhwc")
    it.clear_profile()
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        it.run(x, layout="nhwc")
        times.append(1e3 * (time.perf_counter() - t))
    s = sorted(times)
    n = len(s)
    latency = {"min": s[0], "median": s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2]),
               "p90": s[min(n - 1, -(-9 * n // 10) - 1)]}
    result = {"model": path, "latency_ms": latency, "runs": args.runs, "isa": it.isa, "threads": it.threads,
              "model_bytes": model.size_bytes, "arena_bytes": it.arena_bytes,
              "float_kernels": "portable" if args.portable_float else "xnnpack"}
    profile = it.profile() if args.profile else None
    if profile is not None:
        result["ops"] = [dict(row, output_shape=list(row["output_shape"])) for row in profile]
    if args.json:
        print(json.dumps(result))
        return 0
    print("model        %s (%d bytes)" % (path, model.size_bytes))
    print("isa          %s" % it.isa)
    print("float layers %s" % ("portable kernels" if args.portable_float else "XNNPACK"))
    print("runs         %d (after %d warm-up)" % (args.runs, args.warmup))
    print("threads      %d" % it.threads)
    print("arena        %d bytes" % it.arena_bytes)
    print("latency ms   min %.3f  median %.3f  p90 %.3f  (Python's run() included)" % (
        latency["min"], latency["median"], latency["p90"]))
    if profile is not None:
        total = sum(row["median_ms"] for row in profile) or 1.0
        table = _BenchProfile(dict(row, share="%.2f%%" % (100.0 * row["median_ms"] / total)) for row in profile)
        print()
        print(table)
    return 0


def _load_module(spec, weights):
    """FILE.py:Class or package.module:Class, constructed without arguments, weights from a torch.load()able
    state dict (or a dict holding one under "state_dict")."""
    import importlib
    import importlib.util
    import torch
    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise Failure("a module reference is FILE.py:Class or package.module:Class, not %r" % spec)
    if where.endswith(".py"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(where)))  # its sibling imports
        loaded = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(where))[0], where)
        if loaded is None or not os.path.exists(where):
            raise Failure("%s: no such Python file" % where)
        module = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    if not hasattr(module, name):
        raise Failure("%s has no %s" % (where, name))
    net = getattr(module, name)()
    if weights:
        state = torch.load(weights, map_location="cpu")
        net.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
    return net


def verify_main(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m onebit verify",
        description="Checks a onebit model against its source (onebit.verify()): an ONNX file, run by "
                    "onebit-convert --verify's double-precision reference, or a PyTorch module (FILE.py:Class or "
                    "package.module:Class, with --weights). Prints the verify: line (argmax agreement, max |Δ| "
                    "relative to the logit range, binary activations within float rounding of 0), the differing "
                    "inputs and where disagreeing ones first diverge. Exit status 0 when every argmax agrees "
                    "(ONNX: and what --verify-strict accepts), 1 otherwise or on error, 2 usage error.")
    parser.add_argument("reference", help="an .onnx file, or FILE.py:Class / package.module:Class")
    parser.add_argument("model", help="the .fb model")
    parser.add_argument("--weights", help="a module's checkpoint (torch.load: a state dict, or a dict with 'state_dict')")
    parser.add_argument("--input", metavar="X.npy", help="inputs as the model takes them (normalized), N x C x H x W")
    parser.add_argument("--images", metavar="IDX", help="raw images as onebit-eval reads them (IDX, gzip or plain; "
                                                        "normalized with the model's stored mean/std)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N of --input / --images")
    parser.add_argument("--count", type=int, default=32,
                        help="without --input/--images: N seeded random normal inputs, default 32 (for an ONNX "
                             "reference the very inputs of onebit-convert --verify=N)")
    parser.add_argument("--diagnose", type=int, default=16,
                        help="module reference: disagreeing inputs whose first diverging layer is looked for, default 16")
    parser.add_argument("--threads", type=int, default=1, help="threads of the interpreter, default 1")
    args = parser.parse_args(argv)
    if args.input and args.images:
        parser.error("give --input or --images, not both")
    if args.count < 1 or (args.limit is not None and args.limit < 1):
        parser.error("--count and --limit take integers >= 1")
    is_onnx = args.reference.endswith(".onnx") or ":" not in args.reference
    if is_onnx and args.weights:
        parser.error("--weights goes with a module reference (FILE.py:Class), not an ONNX file")
    reference = args.reference if is_onnx else _load_module(args.reference, args.weights)
    x = None
    if args.input:
        x = _load_npy(args.input)[:args.limit]
    elif args.images:
        with onebit.Model(args.model) as m, m.interpreter() as it:
            x = it._normalized(read_idx(args.images)[:args.limit], "nchw").astype(np.float32)
    elif not is_onnx:
        with onebit.Model(args.model) as m, m.interpreter() as it:
            (_, shape), = it.inputs[:1]
        n, h, w, c = shape if len(shape) == 4 else (shape[0], None, None, None)
        dims = (args.count * n, c, h, w) if h else (args.count * n,) + tuple(shape[1:])
        x = np.random.default_rng(20261207).standard_normal(dims).astype(np.float32)
    report = onebit.verify(reference, args.model, x, threads=args.threads, count=args.count, diagnose=args.diagnose)
    print(report)
    return 0 if report.passed else 1


COMMANDS = {"convert": convert_main, "run": run_main, "info": info_main, "bench": bench_main, "verify": verify_main}


def main(command, argv):
    """Runs one subcommand; errors as one line on stderr and exit status 1."""
    try:
        return COMMANDS[command](argv)
    except (Failure, onebit.Error, onebit.ConversionError, onebit.LibraryNotFound, ValueError, TypeError,
            OSError, ImportError) as e:  # ImportError: a module reference's imports, torch among them
        print("onebit %s: %s" % (command, e), file=sys.stderr)
        return 1
