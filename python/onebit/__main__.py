"""python3 -m onebit MODEL.fb: load a model, create an interpreter and print what it takes and gives.
python3 -m onebit convert IN.onnx -o OUT.fb [options]: onebit-convert's conversion through onebit.convert()."""

import argparse
import sys

import onebit


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
    args = parser.parse_args(argv)
    numbers = lambda text: [float(v) for v in text.split(",")] if text else None
    labels = None
    if args.labels:
        with open(args.labels) as f:
            labels = [line.strip() for line in f if line.strip()]
    try:
        conversion = onebit.convert(args.onnx, input_mean=numbers(args.input_mean), input_std=numbers(args.input_std),
                                    labels=labels, batch=args.batch, sign_zero=args.sign_zero,
                                    strict=args.strict or None, float16_weights=args.float16_weights or None)
    except (onebit.ConversionError, ValueError, OSError) as e:
        print("onebit convert: %s" % e, file=sys.stderr)
        return 1
    sys.stdout.write(conversion.summary)
    for w in conversion.warnings:
        print("onebit convert: warning: %s" % w, file=sys.stderr)
    conversion.save(args.output)
    print("wrote %s (%d bytes)" % (args.output, len(conversion.model_bytes)))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["convert"]:
        return convert_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python3 -m onebit",
        description="Loads a onebit model, creates an interpreter and prints its inputs, outputs (NHWC shapes, "
                    "as the runtime reports them), labels, normalization and the kernel path (ISA) in use. "
                    "Exits 1 when the model does not load.")
    parser.add_argument("model", help="a .fb model written by onebit-convert")
    try:
        names = ", ".join(onebit.isas())
    except onebit.LibraryNotFound:
        names = "a name onebit.isas() lists"  # --help still works without the library
    parser.add_argument("--isa", default=None, help="%s (default: best)" % names)
    parser.add_argument("--threads", type=int, default=1, help="default 1")
    args = parser.parse_args(argv)
    try:
        model = onebit.Model(args.model)
        it = model.interpreter(threads=args.threads, isa=args.isa)
    except (onebit.Error, onebit.LibraryNotFound) as e:
        print("onebit: %s" % e, file=sys.stderr)
        return 1
    print("model: %s (%d bytes)" % (args.model, model.size_bytes))
    print("library: %s (onebit %s)" % (onebit.library_path(), onebit.version()))
    print("isa: %s, threads: %d, arena: %d bytes" % (it.isa, it.threads, it.arena_bytes))
    for kind, tensors in (("input", it.inputs), ("output", it.outputs)):
        for name, shape in tensors:
            print("%s: %s %s" % (kind, name, list(shape)))
    print("labels (%d): %s" % (len(model.labels), ", ".join(model.labels) if model.labels else "none"))
    if model.input_mean.size or model.input_std.size:
        fmt = lambda a: "[" + ", ".join("%.6g" % v for v in a.tolist()) + "]"
        print("normalization: (x - %s) / %s" % (fmt(model.input_mean), fmt(model.input_std)))
    it.close()
    model.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
