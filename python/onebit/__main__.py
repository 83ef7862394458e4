"""python3 -m onebit MODEL.fb: load a model, create an interpreter and print what it takes and gives.
python3 -m onebit {convert,run,info,bench,verify} ...: the CLI tools through the package (onebit/_cli.py;
each answers --help)."""

import argparse
import sys

import onebit
from onebit import _cli


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in _cli.COMMANDS:
        return _cli.main(argv[0], argv[1:])
    parser = argparse.ArgumentParser(
        prog="python3 -m onebit",
        description="Loads a onebit model, creates an interpreter and prints its inputs, outputs (NHWC shapes, "
                    "as the runtime reports them), labels, normalization and the kernel path (ISA) in use. "
                    "Exits 1 when the model does not load. Subcommands (each with --help): convert, run, info, "
                    "bench, verify.")
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
