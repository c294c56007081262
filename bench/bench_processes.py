"""Whole processes, as a person runs them: `gradhopper run` against a hand-written numpy script.

Both sides start a fresh Python, read the same CSV, build the same network from the same seeds
and train it the same way, so start-up (imports, the kernel cache, planning) is in the figure.
The hand script prints its last epoch's mean loss and the bench checks that the graph's agrees
(to 1e-9: the engines' sigmoid forms and summation orders differ in the last bits).

1. batch 256: a 64-128-10 sigmoid network on 6,000 x 64 points (DESIGN's "normal sizes").
   Targets (issues 11 and 15): the best engine within 1.3x of the hand loop; the compiled engine
   at most 1.3x and no slower than the interpreter.
2. online SGD: the same network shape as the tutorial's (7-5-3, batch 1) on 6,000 x 7 points.
   Target for the compiled engine: at most 0.8x of the hand loop.
Times are the best of REPEAT runs taken in turns; the kernel cache is warmed first, so the
compiled figure is a cached start, as every run after the first is.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPEAT = 3
EPOCHS = 30
LR = 0.1

HAND = """
import sys
import numpy as np

path, sizes, batch, epochs, lr = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], \\
    int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
data = np.loadtxt(path, delimiter=",", dtype=np.float64)
X, labels = data[:, :-1], data[:, -1]
Y = np.eye(len(np.unique(labels)))[np.unique(labels, return_inverse=True)[1]]
params = []
for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    W = np.random.default_rng(2 * i + 1).uniform(-limit, limit, (fan_in, fan_out))
    limit = np.sqrt(6.0 / (2 * fan_out))  # xavier of a vector: its one dimension twice
    b = np.random.default_rng(2 * i + 2).uniform(-limit, limit, (fan_out,))
    params.append((W, b))

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

batches = [(X[i:i + batch], Y[i:i + batch]) for i in range(0, len(X), batch)]
(W1, b1), (W2, b2) = params
for epoch in range(epochs):
    total = 0.0
    for x, y in batches:
        a1 = sigmoid(x @ W1 + b1)
        a2 = sigmoid(a1 @ W2 + b2)
        n = x.shape[0]
        d = a2 - y
        total += 0.5 * float(np.vdot(d, d)) / n
        delta2 = d / n * a2 * (1.0 - a2)
        delta1 = (delta2 @ W2.T) * a1 * (1.0 - a1)
        W1, b1, W2, b2 = (W1 - lr * (x.T @ delta1), b1 - lr * delta1.sum(axis=0),
                          W2 - lr * (a1.T @ delta2), b2 - lr * delta2.sum(axis=0))
    mean = total / len(batches)
print(repr(mean))
"""


def graph(csv: Path, sizes: list[int], batch: int) -> dict:
    """The same network as HAND, as a graph file."""
    nodes = [
        {"id": "data", "type": "data.dataset", "params": {"path": str(csv)}},
        {"id": "onehot", "type": "data.onehot"},
        {"id": "batches", "type": "data.batches", "params": {"batch_size": batch}},
        {"id": "loss", "type": "nn.loss", "params": {"kind": "half_sse", "reduction": "mean"}},
        {"id": "train_loss", "type": "metric.epoch_mean"},
    ]
    edges = [("data.X", "batches.X"), ("data.y", "onehot.y"), ("onehot.Y", "batches.Y"),
             ("batches.y", "loss.target"), ("loss.loss", "train_loss.value")]
    x = "batches.x"
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        nodes += [
            {"id": f"W{i}", "type": "param.tensor",
             "params": {"shape": [fan_in, fan_out], "init": "xavier", "seed": 2 * i - 1}},
            {"id": f"b{i}", "type": "param.tensor",
             "params": {"shape": [fan_out], "init": "xavier", "seed": 2 * i}},
            {"id": f"sum{i}", "type": "nn.weighted_sum"},
            {"id": f"act{i}", "type": "nn.activation", "params": {"fn": "sigmoid"}},
            {"id": f"delta{i}", "type": "nn.delta", "params": {"fn": "sigmoid"}},
            {"id": f"gradient{i}", "type": "nn.gradient"},
            {"id": f"update_W{i}", "type": "optim.sgd", "params": {"lr": LR}},
            {"id": f"update_b{i}", "type": "optim.sgd", "params": {"lr": LR}},
        ]
        edges += [(x, f"sum{i}.x"), (f"W{i}.value", f"sum{i}.W"), (f"b{i}.value", f"sum{i}.b"),
                  (f"sum{i}.z", f"act{i}.z"), (f"act{i}.a", f"delta{i}.a"),
                  (x, f"gradient{i}.x"), (f"delta{i}.delta", f"gradient{i}.delta"),
                  (f"W{i}.value", f"update_W{i}.param"), (f"gradient{i}.dW", f"update_W{i}.grad"),
                  (f"b{i}.value", f"update_b{i}.param"), (f"gradient{i}.db", f"update_b{i}.grad"),
                  (f"update_W{i}.next", f"W{i}.next"), (f"update_b{i}.next", f"b{i}.next")]
        x = f"act{i}.a"
    last = len(sizes) - 1
    edges += [(x, "loss.prediction"), ("loss.grad", f"delta{last}.grad")]
    for i in range(last, 1, -1):
        nodes.append({"id": f"backprop{i}", "type": "nn.backprop"})
        edges += [(f"delta{i}.delta", f"backprop{i}.delta"), (f"W{i}.value", f"backprop{i}.W"),
                  (f"backprop{i}.grad", f"delta{i - 1}.grad")]
    return {"format": "gradhopper.graph", "version": 1, "name": "bench", "run":
            {"epochs": EPOCHS, "seed": 1}, "nodes": nodes,
            "edges": [{"from": a, "to": b} for a, b in edges]}


# As a person's shell runs them: Python caches compiled modules (a session that sets
# PYTHONDONTWRITEBYTECODE would make every start compile gradhopper's 60 modules again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(args: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one process, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def compare(folder: Path, name: str, rows: int, sizes: list[int], batch: int) -> dict:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, sizes[0]))
    labels = rng.integers(0, sizes[-1], rows)
    csv = folder / f"{name}.csv"
    np.savetxt(csv, np.column_stack([X, labels]), delimiter=",", fmt="%.17g")
    path = folder / f"{name}.json"
    path.write_text(json.dumps(graph(csv, sizes, batch)))
    hand_script = folder / "hand.py"
    hand_script.write_text(HAND)
    gradhopper = [sys.executable, "-m", "gradhopper.runtime.cli.main", "run", str(path), "--json"]
    commands = {
        "hand": [sys.executable, str(hand_script), str(csv), ",".join(map(str, sizes)),
                 str(batch), str(EPOCHS), str(LR)],
        "interpreter": gradhopper,
        "compiled": gradhopper + ["--engine", "compiled"],
    }
    timed(commands["compiled"])  # fills the kernel cache
    best = dict.fromkeys(commands, float("inf"))
    outputs = {}
    for _ in range(REPEAT):
        for key, args in commands.items():
            seconds, _, outputs[key] = timed(args)
            best[key] = min(best[key], seconds)
    hand_loss = float(outputs["hand"])
    for key in ("interpreter", "compiled"):
        loss = json.loads(outputs[key])["outputs"]["train_loss.mean"]
        assert abs(loss - hand_loss) <= 1e-9 * abs(hand_loss), (key, loss, hand_loss)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = (("batch 256, 64-128-10, 6000 x 64", "wide", 6000, [64, 128, 10], 256, 1.3),
                 ("online SGD, 7-5-3, 6000 x 7", "online", 6000, [7, 5, 3], 1, 0.8))
        for title, name, rows, sizes, batch, target in cases:
            best = compare(folder, name, rows, sizes, batch)
            hand = best["hand"]
            print(f"{title}, {EPOCHS} epochs, whole processes (hand loop {hand:.2f} s):")
            for key in ("interpreter", "compiled"):
                print(f"  {key:<12} {best[key]:6.2f} s  ratio {best[key] / hand:5.2f}"
                      + (f"  (target <= {target})" if key == "compiled" else ""))


if __name__ == "__main__":
    main()
