"""The compiled engine on big graphs: compile time, the compiler's peak memory, the disk cache.

A deep net of small layers (bench_processes' graph, 8 inputs, L hidden layers of 4, 3 outputs),
about 500 nodes and about 5,000: `gradhopper run --engine compiled --epochs 1` as a whole
process, first with an empty kernel cache (it compiles) and then again (it loads the kernel).
Peak memory is the child process's maximum resident set (getrusage of the waited child).
Targets (issue 15): 500 nodes compile within 10 s and under 1 GB, and the second run loads
from the cache; 5,000 nodes compile, or the engine declines at once and runs the interpreter.
The ratio that matters here is the cached run against the first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.bench_processes import graph

SIZES = (500, 5_000)
WRAP = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], "
        "capture_output=True, text=True); print(resource.getrusage(resource.RUSAGE_CHILDREN)"
        ".ru_maxrss); sys.stderr.write(done.stderr); sys.exit(done.returncode)")


def deep_graph(csv: Path, n_nodes: int) -> dict:
    """About `n_nodes` nodes: nine a layer (weights, bias, sum, activation, delta, gradient, two
    updates, backprop)."""
    layers = max(2, n_nodes // 9)
    return graph(csv, [8] + [4] * (layers - 1) + [3], batch=16)


def measured(args: list[str], env: dict) -> tuple[float, int, str]:
    """Seconds, the child's peak RSS in MB, and its stderr."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAP, *args], capture_output=True, text=True,
                          env=env, check=False)
    seconds = time.perf_counter() - start
    return seconds, int(done.stdout.strip() or 0) // 1024, done.stderr.strip()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(0)
        csv = folder / "data.csv"
        np.savetxt(csv, np.column_stack([rng.normal(size=(256, 8)), rng.integers(0, 3, 256)]),
                   delimiter=",", fmt="%.17g")
        for size in SIZES:
            spec = deep_graph(csv, size)
            path = folder / f"deep{size}.json"
            path.write_text(json.dumps(spec))
            env = dict(os.environ, GRADHOPPER_CACHE=str(folder / f"cache{size}"))
            run = ["-m", "gradhopper.runtime.cli.main", "run", str(path), "--epochs", "1",
                   "--quiet", "--engine", "compiled"]
            first = measured([sys.executable, *run], env)
            again = measured([sys.executable, *run], env)
            interp = measured([sys.executable, *run[:-2]], env)
            print(f"{len(spec['nodes'])} nodes: compiling {first[0]:6.2f} s, peak {first[1]} MB"
                  f"{'  [' + first[2] + ']' if first[2] else ''}")
            print(f"  cached run {again[0]:6.2f} s, peak {again[1]} MB (ratio to the first "
                  f"{again[0] / first[0]:.2f}); interpreter {interp[0]:6.2f} s")


if __name__ == "__main__":
    main()
