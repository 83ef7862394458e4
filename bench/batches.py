#!/usr/bin/python3
"""Throughput of onebit's Python API at N images per call (issue 22): N single runs (run(x[k:k+1]), batch 1),
one run of N images on the model's batch-1 interpreter (run(x): chunks of the model's batch, in the C
library's onebit_interpreter_invoke_batch), and one run on an interpreter re-planned for N
(Model.interpreter(batch=N)). Rounds interleave the three, so machine noise hits them alike; medians.

    ONEBIT_LIBRARY=build/runtime/libonebit.so PYTHONPATH=python /usr/bin/python3 bench/batches.py M.fb [N] [ROUNDS]
"""
import sys
import time

import numpy as np

import onebit


def main():
    path, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 64
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 21
    model = onebit.Model(path)
    one, planned = model.interpreter(), model.interpreter(batch=n)
    shape = one.inputs[0][1]  # NHWC, the model's batch first
    x = np.random.default_rng(0).random((n,) + tuple(shape[1:]), dtype=np.float32)
    ways = {
        "%d single runs (N = 1)" % n: lambda: [one.run(x[k:k + 1], layout="nhwc") for k in range(n)],
        "one run of %d, chunks of the model's batch" % n: lambda: one.run(x, layout="nhwc"),
        "one run of %d, interpreter re-planned for %d" % (n, n): lambda: planned.run(x, layout="nhwc"),
    }
    ref = np.concatenate(list(ways.values())[0]())
    assert all(np.array_equal(np.asarray(np.concatenate(f()) if i == 0 else f()), ref)
               for i, f in enumerate(ways.values())), "the ways disagree"
    times = {name: [] for name in ways}
    for _ in range(rounds):
        for name, f in ways.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    print("%s, isa %s, 1 thread, %d rounds (medians):" % (path, one.isa, rounds))
    for name, t in times.items():
        m = float(np.median(t))
        print("  %-48s %8.2f ms  %8.0f images/s" % (name, m * 1e3, n / m))


if __name__ == "__main__":
    main()
