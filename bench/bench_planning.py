"""Loading costs, as ratios measured in the same run.

1. `gradhopper check` as whole processes on generated chains of catalogue nodes (a dense layer
   per three nodes: param.tensor, nn.weighted_sum, nn.activation) at 500, 5,000 and 50,000
   nodes. Loading, validating and planning are O(nodes + edges), so the 5,000-node check should
   cost at most 3x the 500-node one (most of a 500-node check is starting Python and numpy).
2. The CSV reader of data.dataset against np.loadtxt on the same 20,000 x 64 file. Target: at
   most 1.5x (it was 5x with a Python number check per cell).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

import numpy as np

from gradhopper.nodes.csvtable import read_csv

SIZES = (500, 5_000, 50_000)
REPEAT = 3


def chain_graph(n_nodes: int) -> dict:
    """A graph file of about `n_nodes` nodes: the xor data through n/3 dense 2 -> 2 layers."""
    nodes = [{"id": "data", "type": "data.dataset", "params": {"name": "xor"}}]
    edges, previous = [], "data.X"
    for i in range((n_nodes - 1) // 3):
        nodes += [{"id": f"W{i}", "type": "param.tensor",
                   "params": {"shape": [2, 2], "init": "zeros"}},
                  {"id": f"sum{i}", "type": "nn.weighted_sum"},
                  {"id": f"act{i}", "type": "nn.activation", "params": {"fn": "tanh"}}]
        edges += [{"from": previous, "to": f"sum{i}.x"}, {"from": f"W{i}.value", "to": f"sum{i}.W"},
                  {"from": f"sum{i}.z", "to": f"act{i}.z"}]
        previous = f"act{i}.a"
    return {"format": "gradhopper.graph", "version": 1, "name": f"chain of {len(nodes)}",
            "run": {"epochs": 1, "seed": 0}, "nodes": nodes, "edges": edges}


def check_seconds(path: Path) -> float:
    """The best wall time of `gradhopper check PATH` as a fresh process."""
    command = [sys.executable, "-m", "gradhopper.runtime.cli.main", "check", str(path)]

    def once():
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return min(timeit.repeat(once, number=1, repeat=REPEAT))


def planning(folder: Path) -> None:
    seconds = {}
    for n in SIZES:
        path = folder / f"chain{n}.json"
        path.write_text(json.dumps(chain_graph(n)))
        seconds[n] = check_seconds(path)
        print(f"check, {n:>6,} nodes: {seconds[n]:7.2f} s")
    print(f"check 5,000 / 500 nodes:  {seconds[5_000] / seconds[500]:5.2f}x (target <= 3)")
    print(f"check 50,000 / 500 nodes: {seconds[50_000] / seconds[500]:5.2f}x")


def csv_reading(folder: Path) -> None:
    data = np.random.default_rng(0).normal(size=(20_000, 64))
    path = folder / "wide.csv"
    np.savetxt(path, data, delimiter=",", fmt="%.17g")
    text = path.read_text()
    ours = min(timeit.repeat(lambda: read_csv(text, "wide.csv"), number=1, repeat=REPEAT))
    theirs = min(timeit.repeat(lambda: np.loadtxt(path, delimiter=",", dtype=np.float64),
                               number=1, repeat=REPEAT))
    assert np.array_equal(read_csv(text, "wide.csv"), data)
    print(f"CSV 20,000 x 64: ours {ours:.3f} s, np.loadtxt {theirs:.3f} s, "
          f"ratio {ours / theirs:.2f}x (target <= 1.5)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        csv_reading(Path(tmp))
        planning(Path(tmp))


if __name__ == "__main__":
    main()
