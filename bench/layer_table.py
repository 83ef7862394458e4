#!/usr/bin/env python3
"""Per-layer table of a model: time (bench --profile medians), MACs, G MAC/s and % of the peak bench_kernels
measures on this machine for the same ISA (xor/popcount for binary layers, FMA for float layers).

usage: bench/layer_table.py --build-dir DIR --model M.fb [--runs N] [--threads N]
Prints a markdown table, its totals and the command lines that produced the figures."""
import argparse
import json
import re
import subprocess
import sys

PEAKS = {  # the ISA bench reports -> bench_kernels' peak loops (binary, float)
    "avx512vpopcnt": ("BM_peak_xor_popcount_avx512vpopcnt", "BM_peak_fma_f32_avx512"),
    "avx2": ("BM_peak_xor_popcount_avx2_full_adder", "BM_peak_fma_f32_avx2"),
}


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"layer_table: {' '.join(argv)} failed: {r.stderr.strip()[-500:]}")
    return r.stdout


def peak(kernels, name, counter):
    out = run([kernels, f"--benchmark_filter=^{name}$", "--benchmark_repetitions=5",
               "--benchmark_report_aggregates_only=true"])
    m = re.search(rf"{name}_median.*?{re.escape(counter)}=([0-9.]+)(k?)/s", out)
    if not m:
        sys.exit(f"layer_table: no {counter} median in the output of {name}")
    return float(m.group(1)) * (1000 if m.group(2) == "k" else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    bench_argv = [f"{a.build_dir}/bench/bench", "--model", a.model, "--runs", str(a.runs), "--warmup", "10",
                  "--threads", str(a.threads), "--profile", "--json"]
    prof = json.loads(run(bench_argv))
    isa = prof["isa"]
    if isa not in PEAKS:
        sys.exit(f"layer_table: no peak loops for ISA {isa} (known: {', '.join(PEAKS)})")
    kernels = f"{a.build_dir}/bench/kernels/bench_kernels"
    bpeak = peak(kernels, PEAKS[isa][0], "binary_GMAC/s") * a.threads
    fpeak = peak(kernels, PEAKS[isa][1], "float_GMAC/s") * a.threads
    print(f"| layer | type | output | ms | binary MACs | float MACs | G MAC/s | % of peak |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    tot = {"ms": 0.0, "b_ms": 0.0, "f_ms": 0.0, "b": 0, "f": 0}
    for op in prof["ops"]:
        ms, b, f = op["median_ms"], op["binary_macs"], op["float_macs"]
        tot["ms"] += ms
        rate = (b + f) / (ms * 1e6) if ms > 0 else 0.0
        pct = ""
        if b:
            pct = f"{100 * rate / bpeak:.0f} %"
            tot["b_ms"] += ms
            tot["b"] += b
        elif f:
            pct = f"{100 * rate / fpeak:.0f} %"
            tot["f_ms"] += ms
            tot["f"] += f
        route = f" ({op['route']})" if op.get("route") else ""
        print(f"| `{op['name']}` | {op['type']}{route} | {op['output_shape']} | {ms:.4f} | {b:,} | {f:,} | "
              f"{rate:.1f} | {pct} |")
    print()
    print(f"Sum of per-op medians {tot['ms']:.3f} ms (latency median {prof['latency_ms']['median']:.3f} ms). "
          f"Binary layers: {tot['b_ms']:.3f} ms, {tot['b'] / (tot['b_ms'] * 1e6):.0f} G MAC/s = "
          f"{100 * tot['b'] / (tot['b_ms'] * 1e6) / bpeak:.0f} % of the binary peak ({bpeak:.0f} G MAC/s). "
          f"Float layers: {tot['f_ms']:.3f} ms, {tot['f'] / (tot['f_ms'] * 1e6):.1f} G MAC/s = "
          f"{100 * tot['f'] / (tot['f_ms'] * 1e6) / fpeak:.0f} % of the FMA peak ({fpeak:.1f} G MAC/s). "
          f"ISA {isa}, {a.threads} thread(s).")
    print()
    print(f"Commands: `{' '.join(bench_argv)}`; peaks: `{kernels} --benchmark_filter=^NAME$ "
          f"--benchmark_repetitions=5` for {PEAKS[isa][0]} and {PEAKS[isa][1]} (medians).")


if __name__ == "__main__":
    main()
