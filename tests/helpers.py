"""Helpers shared by the tests: the sample graphs, and a toy node library."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np

from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Endpoint, Graph, Node
from gradhopper.runtime.nodetype import NodeType, Param, Port
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import Registry, default_registry

SAMPLES = Path(str(files("gradhopper.sample_graphs")))


def sample_plan(name: str, **sets):
    """The plan of a sample graph, after setting {node: {param: value}}."""
    registry = default_registry()
    graph = load(SAMPLES / f"{name}.json", registry)
    for node, params in sets.items():
        graph.nodes[node].params.update(params)
    return plan(graph, registry)


def run_sample(name: str, epochs: int, **sets) -> Executor:
    return Executor(sample_plan(name, **sets), epochs=epochs, cache=None).run()


def toy_registry(calls: list | None = None) -> Registry:
    """A few tiny node types, so executor tests do not depend on the node library.

    t.const counts its computations in `calls`, to observe the static cache.
    """
    def make_const(ctx):
        def const():
            if calls is not None:
                calls.append(ctx.node_id)
            return np.full(ctx.params["n"], ctx.params["value"])
        return const

    def check_add(a, b):
        from gradhopper.runtime.errors import ShapeError
        if a.shape != b.shape:
            raise ShapeError(("a", "b"), f"a has shape {a.shape} but b has {b.shape}")

    return Registry([
        NodeType("t.const", make=make_const, outputs=(Port("X"),),
                 params=(Param("n", "int", 4, low=1), Param("value", "float", 1.0))),
        NodeType("t.batches", role="batches",
                 make=lambda ctx: lambda X: [(X[i:i + 1],) for i in range(len(X))],
                 inputs=(Port("X"),), outputs=(Port("x"),)),
        NodeType("t.param", role="state", make=lambda ctx: np.zeros(1),
                 inputs=(Port("next", delayed=True, optional=True),), outputs=(Port("value"),)),
        NodeType("t.add", make=lambda ctx: lambda a, b: a + b, check=check_add,
                 inputs=(Port("a"), Port("b")), outputs=(Port("out"),)),
        NodeType("t.scale", make=lambda ctx: lambda a: a * ctx.params["k"],
                 inputs=(Port("a"),), outputs=(Port("out"),),
                 params=(Param("k", "float", 1.0),)),
        NodeType("t.log", make=lambda ctx: np.log, inputs=(Port("a"),), outputs=(Port("out"),)),
        NodeType("t.fail", make=lambda ctx: lambda a: 1 / 0, inputs=(Port("a"),),
                 outputs=(Port("out"),)),
        NodeType("t.total", make=lambda ctx: lambda a: float(a.sum()), inputs=(Port("a"),),
                 outputs=(Port("total", kind="scalar"),)),
        NodeType("t.mean", role="reduce",
                 make=lambda ctx: (lambda acc, v: (v, 1) if acc is None else
                                   (acc[0] + v, acc[1] + 1),
                                   lambda acc: float(acc[0].sum() / acc[1])),
                 inputs=(Port("value", kind="any"),), outputs=(Port("mean", kind="any"),)),
        NodeType("t.view", role="view", make=None, inputs=(Port("value", kind="any"),)),
    ])


def toy_graph(nodes, edges, epochs: int = 2) -> Graph:
    """A graph from (id, type) or (id, type, params) tuples and ("a.out", "b.in") edges."""
    graph = Graph("toy", run={"epochs": epochs, "seed": 0})
    for node_id, node_type, *params in nodes:
        graph.add_node(Node(node_id, node_type, dict(params[0]) if params else {}))
    for src, dst in edges:
        graph.connect(Endpoint.parse(src), Endpoint.parse(dst))
    return graph


def toy_plan(nodes, edges, epochs: int = 2, registry: Registry | None = None):
    return plan(toy_graph(nodes, edges, epochs), registry or toy_registry())
