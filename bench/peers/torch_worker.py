"""PyTorch peer for bench/peers/run: the Bi-Real-18 of bireal18.py (same seed as the exported ONNX), eval
mode, binary weights precomputed (alpha * sign(W), the values the forward computes and the ONNX holds
after constant folding), torch.no_grad(). Commands as JSON lines on stdin, answers on stdout:
    {"cmd": "time", "threads": T, "runs": N, "warmup": W}  -> {"times_ms": [...]}   (torch.set_num_threads(T))
    {"cmd": "quit"}
Usage: /usr/bin/python3 torch_worker.py [--seed N]"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bireal18 import make_model  # noqa: E402


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2018)
    args = ap.parse_args()
    torch.set_num_interop_threads(1)
    model = make_model(args.seed).freeze()
    g = torch.Generator().manual_seed(7)
    x = torch.rand(1, 3, 224, 224, generator=g) * 2 - 1  # the values do not change the work
    reply({"ready": True, "version": torch.__version__,
           "mkldnn": torch.backends.mkldnn.is_available(), "config_threads": torch.get_num_threads()})
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        if cmd["cmd"] != "time":
            reply({"error": f"unknown command {cmd['cmd']}"})
            continue
        torch.set_num_threads(cmd["threads"])
        times = []
        with torch.no_grad():
            for _ in range(cmd.get("warmup", 0)):
                model(x)
            for _ in range(cmd["runs"]):
                t0 = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - t0) * 1e3)
        reply({"times_ms": times})


if __name__ == "__main__":
    main()
