"""Where a compiled step's time goes: the 64-128-10 sigmoid net at batch 256 (bench_processes'
first case), node by node.

The kernel's per-step code is a sequence of blocks, one per node, each headed by a comment
naming its type. Each block that gives the same values when run twice (all but the updates and
the running mean) is run REPEAT more times in a copy of the kernel; its cost per step is the
difference, per extra run, against the kernel as generated (the baseline, in the same run),
printed in microseconds and as a share of the step. The batch copies are measured the same way.
Times are the CPU time of the calling thread (the kernel's BLAS runs one thread, blas.py), best
of ROUNDS, so other processes on the machine count less than in wall time.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.bench_processes import graph

REPEAT, ROUNDS, EPOCHS = 4, 5, 10
ROWS, SIZES, BATCH = 6000, [64, 128, 10], 256
BLOCK = "            # "  # a node's block in the per-step loop starts with its type
STEP_END = "            steps += 1"


def recorded_call(runner):
    """The arguments of the kernel's one call in a run, copied before it changed them."""
    calls, real = [], runner.kernel
    runner.kernel = lambda *args: (calls.append(copy(args)), real(*args))[1]
    runner.run()
    runner.kernel = real
    return calls[0]


def copy(args: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def build(source: str):
    namespace: dict = {}
    exec(compile(source.replace("cache=True, ", ""), "<kernel>", "exec"), namespace)
    return namespace["run"]


def per_step(kernel, args: tuple, steps: int) -> float:
    kernel(*copy(args))  # compiles
    best = float("inf")
    for _ in range(ROUNDS):
        fresh = copy(args)
        start = time.thread_time()
        kernel(*fresh)
        best = min(best, time.thread_time() - start)
    return best / steps * 1e6


def repeated(lines: list[str], first: int, last: int) -> str:
    """The source with lines first..last (one block) run REPEAT + 1 times."""
    body = ["    " + line for line in lines[first:last + 1]]
    loop = BLOCK.replace("# ", "") + f"for _again in range({REPEAT + 1}):"
    return "\n".join(lines[:first] + [loop] + body + lines[last + 1:])


def main() -> None:
    from gradhopper.runtime.api import open_plan
    from gradhopper.runtime.codegen import compiled

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        csv, path = Path(tmp) / "wide.csv", Path(tmp) / "wide.json"
        np.savetxt(csv, np.column_stack([rng.normal(size=(ROWS, SIZES[0])),
                                         rng.integers(0, SIZES[-1], ROWS)]),
                   delimiter=",", fmt="%.17g")
        path.write_text(json.dumps(graph(csv, SIZES, BATCH)))
        runner = compiled.runner_for(open_plan(path), "compiled", epochs=EPOCHS)
        args = recorded_call(runner)
        steps = runner.steps
    lines = runner.source.splitlines()
    marks = [k for k, line in enumerate(lines) if line.startswith(BLOCK) or line == STEP_END]
    whole = per_step(build(runner.source), args, steps)
    print(f"compiled step, {SIZES} at batch {BATCH}: {whole:.0f} us of thread CPU "
          f"(best of {ROUNDS}); each part's cost per step:")
    for first, end in zip(marks, marks[1:]):
        name = lines[first].strip()[2:]
        if name in ("optim.sgd", "metric.epoch_mean"):  # not the same when run twice
            continue
        cost = (per_step(build(repeated(lines, first + 1, end - 1)), args, steps) - whole) / REPEAT
        print(f"  {name:<18} {cost:6.0f} us  {cost / whole:5.0%}   {lines[first + 1].strip()[:48]}")
    copies = [k for k, line in enumerate(lines) if line.strip().startswith("for q in range(")]
    text = lines
    for k in reversed(copies):  # each copy loop is two lines
        text = repeated(text, k, k + 1).splitlines()
    cost = (per_step(build("\n".join(text)), args, steps) - whole) / REPEAT
    print(f"  {'batch copies':<18} {cost:6.0f} us  {cost / whole:5.0%}")


if __name__ == "__main__":
    main()
