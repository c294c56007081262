"""The executor's cost, as ratios against plain Python measured in the same run.

1. Per-node overhead: a chain of trivial nodes run by the executor's fast path, against calling
   the same functions in a plain loop. Target: at most 0.5 us per node (ryvencore, the best peer
   runtime we know, costs about 2.6).
2. Whole run: the seeds sample's epoch against a hand-written numpy loop doing the same
   batch-size-1 matrix work. Target: ratio at most 1.3.
3. The debugger attached (runtime/debugger.py) with one condition breakpoint that never holds:
   the same chain, now on the checked path node by node, with a snapshot kept at every step
   boundary. Target: a few microseconds per node.
4. Sigmoid: the node's 1 / (1 + e^-z) (e^-z capped, in place) against the old
   exp(-logaddexp(0, -z)), on a 256x128 batch of hidden sums. Target: 2-3x faster or better.
"""
from __future__ import annotations

import timeit
from importlib.resources import files

import numpy as np

from gradhopper.nodes.activations import sigmoid
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Endpoint, Graph, Node
from gradhopper.runtime.nodetype import NodeType, Port
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import Registry, default_registry

CHAIN = 200
STEPS = 2000
REPEAT = 7


def interleaved(*functions) -> list[float]:
    """Each function's best time, taken in turns so a slow minute hits all of them alike."""
    best = [float("inf")] * len(functions)
    for _ in range(REPEAT):
        for i, fn in enumerate(functions):
            best[i] = min(best[i], timeit.timeit(fn, number=1))
    return best


def _inc(x):
    return x + 1


def chain_plan(n: int = CHAIN):
    """One epoch of STEPS steps; each step runs n trivial nodes from a state back into it."""
    registry = Registry([
        NodeType("bench.batches", role="batches", make=lambda ctx: lambda: [(i,) for i in
                                                                           range(STEPS)],
                 outputs=(Port("i", kind="any"),)),
        NodeType("bench.state", role="state", make=lambda ctx: 0,
                 inputs=(Port("next", kind="any", delayed=True, optional=True),),
                 outputs=(Port("value", kind="any"),)),
        NodeType("bench.inc", make=lambda ctx: _inc, inputs=(Port("x", kind="any"),),
                 outputs=(Port("y", kind="any"),)),
    ])
    graph = Graph("chain", run={"epochs": 1, "seed": 0})
    graph.add_node(Node("batches", "bench.batches"))
    graph.add_node(Node("s", "bench.state"))
    previous = Endpoint("s", "value")
    for i in range(n):
        graph.add_node(Node(f"n{i}", "bench.inc"))
        graph.connect(previous, Endpoint(f"n{i}", "x"))
        previous = Endpoint(f"n{i}", "y")
    graph.connect(previous, Endpoint("s", "next"))
    return plan(graph, registry)


def plain_chain(steps: int):
    """The baseline: the chain's functions called in a plain loop, `steps` times over."""
    functions = [_inc] * CHAIN

    def plain():
        x = 0
        for _ in range(steps):
            for f in functions:
                x = f(x)
        return x
    return plain


def per_node_overhead() -> float:
    the_plan = chain_plan()
    plain = plain_chain(STEPS)

    def executor():
        ex = Executor(the_plan, cache=None)
        ex.run()
        return ex.state()["s"]

    assert plain() == executor() == CHAIN * STEPS
    t_plain, t_exec = interleaved(plain, executor)
    per_node = (t_exec - t_plain) / (CHAIN * STEPS) * 1e6
    print(f"chain of {CHAIN} nodes x {STEPS} steps: plain loop {t_plain * 1e3:.1f} ms, "
          f"executor {t_exec * 1e3:.1f} ms")
    print(f"per-node overhead: {per_node:.3f} us (target <= 0.5; ryvencore about 2.6)")
    return per_node


def debugger_per_node(steps: int = 500) -> float:
    """Microseconds per node with a Debugger and one unhit condition breakpoint attached."""
    from gradhopper.runtime.debugger import Debugger

    the_plan = chain_plan()
    plain = plain_chain(steps)

    def debugged():
        ex = Executor(the_plan, cache=None)
        d = Debugger(ex)
        d.add_break(condition=f"n{CHAIN // 2}.y < -1")
        ex.run(steps=steps)
        return ex.state()["s"]

    assert plain() == debugged() == CHAIN * steps
    t_plain, t_debug = interleaved(plain, debugged)
    per_node = (t_debug - t_plain) / (CHAIN * steps) * 1e6
    print(f"debugger attached, one unhit condition, {CHAIN} nodes x {steps} steps: "
          f"{t_debug * 1e3:.1f} ms")
    print(f"per-node overhead with the debugger: {per_node:.3f} us (target <= 3 us)")
    return per_node


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand_written_epoch(batches, W1, b1, W2, b2, lr):
    """The tutorial's online SGD on the same matrices, written as directly as numpy allows.

    Like the graph, it adds up the loss for the epoch's mean; the caller scores the test set.
    """
    total = 0.0
    for x, y in batches:
        h = _sigmoid(x @ W1 + b1)
        o = _sigmoid(h @ W2 + b2)
        e = o - y
        total += 0.5 * float(np.vdot(e, e))
        d2 = e * o * (1.0 - o)
        d1 = (d2 @ W2.T) * h * (1.0 - h)
        W2 = W2 - lr * (h.T @ d2)
        b2 = b2 - lr * d2.sum(axis=0)
        W1 = W1 - lr * (x.T @ d1)
        b1 = b1 - lr * d1.sum(axis=0)
    return (W1, b1, W2, b2), total / len(batches)


def accuracy(X, Y, W1, b1, W2, b2) -> float:
    o = _sigmoid(_sigmoid(X @ W1 + b1) @ W2 + b2)
    return float(np.mean(o.argmax(axis=1) == Y.argmax(axis=1)))


def whole_run_ratio(epochs: int = 20) -> float:
    path = files("gradhopper.sample_graphs").joinpath("wheat_seeds.json")
    the_plan = plan(load(path, default_registry()), default_registry())
    probe = Executor(the_plan, epochs=0).run()
    X, Y = probe.value("split.X_train"), probe.value("split.Y_train")
    X_test, Y_test = probe.value("split.X_test"), probe.value("split.Y_test")
    batches = [(X[i:i + 1], Y[i:i + 1]) for i in range(len(X))]
    start = probe.state()

    def hand():
        w = (start["W1"], start["b1"], start["W2"], start["b2"])
        for _ in range(epochs):
            w, loss = hand_written_epoch(batches, *w, 0.3)
            score = accuracy(X_test, Y_test, *w)
        return w, loss, score

    def graph():
        return Executor(the_plan, epochs=epochs).run()

    (W1, _, _, _), loss, score = hand()
    ran = graph()
    assert np.allclose(ran.state()["W1"], W1, rtol=0, atol=1e-12)
    assert abs(ran.report()["test_accuracy.accuracy"] - score) < 1e-12

    t_hand, t_graph = interleaved(hand, graph)
    ratio = t_graph / t_hand
    steps = epochs * len(batches)
    print(f"seeds sample, {epochs} epochs x {len(batches)} steps: hand-written numpy "
          f"{t_hand / epochs * 1e3:.2f} ms/epoch ({t_hand / steps * 1e6:.1f} us/step), "
          f"graph {t_graph / epochs * 1e3:.2f} ms/epoch")
    print(f"whole-run ratio graph / hand-written: {ratio:.2f} (target <= 1.3)")
    return ratio


def sigmoid_ratio(shape=(256, 128), calls: int = 50) -> float:
    z = np.random.default_rng(0).normal(0.0, 3.0, shape)

    def old():
        for _ in range(calls):
            np.exp(-np.logaddexp(0.0, -z))

    def new():
        for _ in range(calls):
            sigmoid(z)

    np.testing.assert_allclose(sigmoid(z), np.exp(-np.logaddexp(0.0, -z)), rtol=1e-15)
    t_old, t_new = interleaved(old, new)
    per = calls * z.size / 1e9
    print(f"sigmoid on {shape[0]}x{shape[1]}: old {t_old / per:.2f} ns/element, "
          f"new {t_new / per:.2f} ns/element")
    print(f"sigmoid ratio old / new: {t_old / t_new:.2f} (target >= 2)")
    return t_old / t_new


def main() -> None:
    per_node_overhead()
    debugger_per_node()
    whole_run_ratio()
    sigmoid_ratio()


if __name__ == "__main__":
    main()
