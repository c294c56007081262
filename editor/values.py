"""A value from a port as a few lines of text: what a tooltip, the watch panel and a
`view.value` node show. A value not computed in the current step says so, with the step it
comes from (DESIGN: never silently as current)."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Endpoint


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
