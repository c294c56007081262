"""Every port's shape before any run, so a wire can be refused for its shape while editing.

Shapes come from the nodes themselves, in the graph's order: a ``param.tensor`` builds its
initial value, a static node (load, split, normalise) runs once on real data, and every other
node either applies its type's declared shape rule (``NodeType.shapes``, for the costly layer
products) or is called once on the values above it. Nothing commits: no state moves, so this is
not training. A ``data.batches``-like node gives its first batch; a reduction its first finish.

Works on graphs that do not plan yet (inputs still unwired): a node whose inputs are unknown
has unknown outputs. The values are memoised per node on (type, parameters, the identity of the
input values), so re-inferring after one edit recomputes only what changed.
"""
from __future__ import annotations

import warnings
from graphlib import CycleError, TopologicalSorter

import numpy as np

from .errors import GradhopperError, ShapeError
from .graph import Endpoint, Graph
from .nodetype import NodeContext, NodeType
from .registry import Registry


def shape_text(shape) -> str:
    """(210, 7) or (5,) as text; a scalar as "scalar"; unknown as "?"."""
    if shape is None:
        return "?"
    return "scalar" if shape == () else str(tuple(shape))


def shape_of(value):
    """The shape of a port's value: a tuple, () for a number, None when not an array."""
    if isinstance(value, (np.ndarray, np.generic)):
        return tuple(int(d) for d in value.shape)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ()
    return None


class Shapes:
    """Inferred values of one graph; keep one per graph and call `infer` after edits."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.values: dict[Endpoint, object] = {}
        self.problems: dict[str, str] = {}  # node -> why its inputs do not fit
        self._memo: dict[str, tuple] = {}

    def shape(self, end: Endpoint):
        return shape_of(self.values.get(end))

    def infer(self, graph: Graph, around=None) -> "Shapes":
        """Every port's value; with `around` (node ids), only theirs and their ancestors'."""
        self.values, self.problems = {}, {}
        order = _order(graph, self.registry)
        if around is not None:
            keep = _ancestors(graph, self.registry, around)
            order = [n for n in order if n in keep]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for node_id in order:
                self._node(graph, node_id)
        if around is None:
            self._memo = {k: v for k, v in self._memo.items() if k in graph.nodes}
        return self

    def inputs_of(self, graph: Graph, node_id: str) -> list:
        nt = _type(self.registry, graph, node_id)
        args = []
        for port in nt.inputs:
            if port.delayed:
                continue
            edge = graph.edge_into(Endpoint(node_id, port.name))
            args.append(None if edge is None else self.values.get(edge.src))
        return args

    def refusal(self, graph: Graph, src: Endpoint, dst: Endpoint) -> str | None:
        """Why `src` cannot feed `dst` for its shape (one line, ports named), or None if it can."""
        nt = _type(self.registry, graph, dst.node)
        port = nt.input(dst.port) if nt is not None else None
        if port is None or nt.check is None or port.delayed or src not in self.values:
            return None
        ports = [p.name for p in nt.inputs if not p.delayed]
        args = self.inputs_of(graph, dst.node)
        args[ports.index(dst.port)] = self.values[src]
        if any(a is None and not p.optional for a, p in zip(args, nt.inputs) if not p.delayed):
            return None  # judged once every input is known
        try:
            with np.errstate(all="ignore"):
                nt.check(*args)
        except ShapeError as exc:
            if dst.port not in exc.ports:
                return None  # the conflict lies elsewhere; this wire is not its cause
            given = ", ".join(f"{p} is {shape_text(shape_of(a))}"
                              for p, a in zip(ports, args) if p in exc.ports)
            return f"{exc.message} ({given})"
        except Exception:  # a check that cannot judge a partial graph does not refuse
            return None
        return None

    def _node(self, graph: Graph, node_id: str) -> None:
        node = graph.nodes[node_id]
        nt = _type(self.registry, graph, node_id)
        if nt is None or nt.role == "view":  # a placeholder's outputs are unknown
            return
        args = self.inputs_of(graph, node_id)
        key = (nt.identifier, repr(sorted(node.params.items())), tuple(id(a) for a in args),
               graph.seed, graph.base_dir)
        memo = self._memo.get(node_id)
        if memo is not None and memo[0] == key:
            outputs = memo[1]
        else:
            outputs = self._compute(graph, node_id, nt, args)
            self._memo[node_id] = (key, outputs, args)  # args kept: their ids stay unique
        for port, value in zip(nt.outputs, outputs or ()):
            if value is not None:
                self.values[Endpoint(node_id, port.name)] = value

    def _compute(self, graph, node_id, nt: NodeType, args):
        try:
            params = nt.resolve_params(graph.nodes[node_id].params)
        except GradhopperError:
            return None
        required = [a for a, p in zip(args, [p for p in nt.inputs if not p.delayed])
                    if not p.optional]
        if any(a is None for a in required):
            return None
        connected = frozenset(p.name for p, a in zip([p for p in nt.inputs if not p.delayed],
                                                     args) if a is not None)
        ctx = NodeContext(node_id, params, run_seed=graph.seed, base_dir=graph.base_dir,
                          connected=connected)
        try:
            if nt.check is not None:
                nt.check(*args)
            if nt.shapes is not None:
                return tuple(np.zeros(s) for s in nt.shapes(params, [shape_of(a) for a in args]))
            made = nt.make(ctx)
            if nt.role == "state":
                return (made,)
            if nt.role == "reduce":
                add, finish = made
                return (finish(add(None, args[0])),)
            state = [None] * len(nt.state)
            result = made(*args, *state)
            if nt.role == "batches":
                batches = result[0] if nt.state else result
                return batches[0] if batches else None
            if nt.state or len(nt.outputs) > 1:
                return tuple(result)[:len(nt.outputs)]
            return (result,)
        except ShapeError as exc:
            self.problems[node_id] = exc.message
        except Exception:  # noqa: BLE001 - a node that fails here fails at run, with its line
            pass
        return None


def _type(registry: Registry, graph: Graph, node_id: str) -> NodeType | None:
    """The node's type, or None for a placeholder (a type not installed)."""
    type_id = graph.nodes[node_id].type
    return registry.get(type_id) if type_id in registry else None


def _ancestors(graph: Graph, registry: Registry, nodes) -> set[str]:
    seen, todo = set(), list(nodes)
    while todo:
        node = todo.pop()
        if node in seen or node not in graph.nodes:
            continue
        seen.add(node)
        nt = _type(registry, graph, node)
        for port in nt.inputs if nt is not None else ():
            edge = graph.edge_into(Endpoint(node, port.name))
            if edge is not None and not port.delayed:
                todo.append(edge.src.node)
    return seen


def _order(graph: Graph, registry: Registry) -> list[str]:
    """The nodes in dependency order over the live (not delayed) wires; [] on a cycle."""
    sorter = TopologicalSorter({n: () for n in graph.nodes})
    for edge in graph.edges:
        nt = _type(registry, graph, edge.dst.node)
        port = nt.input(edge.dst.port) if nt is not None else None
        if port is not None and not port.delayed and edge.src.node in graph.nodes:
            sorter.add(edge.dst.node, edge.src.node)
    try:
        return list(sorter.static_order())
    except CycleError:
        return []
