"""A value from a port as a few lines of text: what a tooltip, the watch panel and a
`view.value` node show. A value not computed in the current step says so, with the step it
comes from (DESIGN: never silently as current). And a node as text: its formula for its
parameters and its ports' shapes in this graph."""
from __future__ import annotations

import weakref

import numpy as np

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.shapes import Shapes, shape_text  # noqa: F401 - the canvas's too

_SHAPES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def read(executor, debugger, node_id: str, port: str, side: str = "out"):
    """(value, stale) of an output port, or of an input port's wire; stale is None or the step
    the value comes from. (None, None) where there is no run or no such port."""
    if executor is None:
        return None, None
    end = Endpoint(node_id, port)
    if side != "out":
        edge = executor.plan.graph.edge_into(end)
        if edge is None:
            return None, None
        end = edge.src
    try:
        if debugger is not None:
            return debugger.value(end)
        return executor.value(end), None
    except (KeyError, ValueError, IndexError, GradhopperError):
        return None, None


def stale_note(stale) -> str:
    return "" if stale is None else f"stale: from step {stale}"


def describe(value, numbers: int = 6, stale=None) -> str:
    """Shape, min/max and the first few numbers; a scalar as itself; and whether it is stale."""
    text = _describe(value, numbers)
    return text if stale is None or value is None else f"{text}\n{stale_note(stale)}"


def _describe(value, numbers: int) -> str:
    if value is None:
        return "no value yet: run the graph"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):.6g}"
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf" or arr.size == 0:
        return f"{type(value).__name__} {getattr(arr, 'shape', '')}"
    flat = arr.ravel()
    head = ", ".join(f"{x:.4g}" for x in flat[:numbers]) + (", …" if flat.size > numbers else "")
    return (f"shape {tuple(arr.shape)}  min {flat.min():.4g}  max {flat.max():.4g}\n"
            f"[{head}]")


def short(value) -> str:
    """One line for a node's face."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{float(value):.5g}"
    if isinstance(value, np.ndarray):
        return f"{tuple(value.shape)} mean {value.mean():.4g}" if value.size else "empty"
    return "-" if value is None else str(value)[:24]


def shapes(graph, registry) -> Shapes:
    """The graph's shapes inferred before any run (runtime/shapes.py), kept per graph so that
    re-inferring after an edit recomputes only what changed."""
    found = _SHAPES.get(graph)
    if found is None:
        found = _SHAPES[graph] = Shapes(registry)
    return found.infer(graph)


def formula(nt, params, sources: dict | None = None) -> str:
    """The type's formula for these parameters ("" if it declares none or they do not fit).
    `sources` maps a connected input to its source: an input named as a parameter overrides it
    (optim.sgd's lr), so the formula names the source instead of the unused value."""
    if nt is None or nt.formula is None:
        return ""
    try:
        resolved = nt.resolve_params(params)
    except GradhopperError:
        return ""
    resolved.update({k: v for k, v in (sources or {}).items() if k in resolved})
    return nt.formula(resolved)


def fed(graph, node_id: str) -> dict[str, str]:
    """Each connected input of the node -> "source.port"."""
    return {e.dst.port: str(e.src) for e in graph.edges if e.dst.node == node_id}


def port_shapes(graph, registry, node_id: str) -> str:
    """ "in x (210, 7), W (7, 5)  out z (210, 5)": each port's shape in this graph."""
    node = graph.nodes[node_id]
    if node.type not in registry:
        return ""
    nt, inferred = registry.get(node.type), shapes(graph, registry)
    ins = []
    for port in nt.inputs:
        edge = graph.edge_into(Endpoint(node_id, port.name))
        ins.append(f"{port.name} {shape_text(None if edge is None else inferred.shape(edge.src))}")
    outs = [f"{p.name} {shape_text(inferred.shape(Endpoint(node_id, p.name)))}"
            for p in nt.outputs]
    return "  ".join(part for part in (("in " + ", ".join(ins)) if ins else "",
                                       ("out " + ", ".join(outs)) if outs else "") if part)


def node_text(graph, registry, node_id: str) -> str:
    """A node's tooltip: id and type, formula, port shapes, then what the type does."""
    node = graph.nodes[node_id]
    if node.type not in registry:
        return (f"{node.type} is not installed: this placeholder keeps the node's parameters "
                "and wires, and saves them unchanged")
    nt = registry.get(node.type)
    lines = [f"{node_id}: {node.type}", formula(nt, node.params, fed(graph, node_id)),
             port_shapes(graph, registry, node_id), nt.doc]
    return "\n".join(line for line in lines if line)
