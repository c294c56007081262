"""Why a network does not learn: per-epoch checks on values a run already holds, one line each.

`Watch.epoch(value, history)` is called after an epoch, off the hot path (the editor calls it
from its redraw timer); `value(endpoint)` reads the run's current values. It finds the nodes to
look at by their declared part, never by type id:
- ``layer.activation`` of a hidden layer (one that feeds no ``loss``) with a saturating
  function: most outputs within SATURATION of the function's limits, so f'(a) is about 0;
- ``layer.gradient``: every output's norm below VANISHING for VANISH_EPOCHS epochs in a row;
  a non-finite or huge norm;
- ``update``: a new value that is not finite or past EXPLODING (the learning rate too large);
- ``loss``: the epoch's loss unchanged (relative FLAT) over FLAT_EPOCHS epochs.
`labels(...)` checks the wiring before any run, from inferred shapes (runtime/shapes.py): a
class label column into a loss whose prediction has several columns needs one-hot encoding.
"""
from __future__ import annotations

import math

import numpy as np

from .graph import Endpoint, Graph
from .planner import Plan
from .registry import Registry
from .shapes import Shapes, shape_text

SATURATING = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}  # an activation's limits
SATURATION, SATURATED_SHARE = 1e-3, 0.9
VANISHING, VANISH_EPOCHS = 1e-7, 2
EXPLODING = 1e6
FLAT, FLAT_EPOCHS = 1e-6, 5


class Watch:
    """The checks of one run; keeps what it needs across epochs (the loss, small gradients)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        parts = {}
        for node_id, call in plan.calls.items():
            parts.setdefault(call.type.part, []).append(call)
        feeds_loss = {s.node for c in parts.get("loss", ()) for s in c.sources if s is not None}
        self.activations = [c for c in parts.get("layer.activation", ())
                            if c.params.get("fn") in SATURATING and c.node not in feeds_loss]
        self.gradients = parts.get("layer.gradient", [])
        self.updates = parts.get("update", [])
        self.losses = parts.get("loss", [])
        self._small: dict[str, int] = {}

    def epoch(self, value, history: list[dict]) -> dict[str, str]:
        """node id -> one line saying what is wrong there, for the epoch just finished."""
        found = {}
        for call in self.activations:
            line = _saturated(call, value(Endpoint(call.node, call.type.outputs[0].name)))
            if line:
                found[call.node] = line
        for call in self.gradients:
            norms = [_norm(value(Endpoint(call.node, p.name))) for p in call.type.outputs]
            norms = [n for n in norms if n is not None]
            if not norms:
                continue
            total = math.hypot(*norms) if all(math.isfinite(n) for n in norms) else math.inf
            self._small[call.node] = self._small.get(call.node, 0) + 1 if total < VANISHING \
                else 0
            if not total < EXPLODING:
                found[call.node] = f"exploding gradients: norm {total:.3g}"
            elif self._small[call.node] >= VANISH_EPOCHS:
                found[call.node] = (f"vanishing gradients: norm {total:.2g} for "
                                    f"{self._small[call.node]} epochs; nothing below learns")
        for call in self.updates:
            top = _max_abs(value(Endpoint(call.node, call.type.outputs[0].name)))
            if top is not None and not top < EXPLODING:
                found[call.node] = (f"weights exploding: max |{call.type.outputs[0].name}| "
                                    f"{top:.3g}; lower the learning rate")
        for call in self.losses:
            line = _flat(self.plan, call, history)
            if line:
                found[call.node] = line
        return found


def labels(graph: Graph, registry: Registry, shapes: Shapes) -> dict[str, str]:
    """Before any run: a loss fed a label column where its prediction has k > 1 columns."""
    found = {}
    for node_id, node in graph.nodes.items():
        nt = registry.get(node.type) if node.type in registry else None
        if nt is None or nt.part != "loss" or len(nt.inputs) < 2:
            continue
        ends = [graph.edge_into(Endpoint(node_id, p.name)) for p in nt.inputs[:2]]
        if None in ends:
            continue
        pred, target = (shapes.shape(e.src) for e in ends)
        if pred is not None and target is not None and len(pred) == 2 and pred[1] > 1 \
                and (len(target) == 1 or target[1:] == (1,)):
            found[node_id] = (f"{nt.inputs[1].name} is {shape_text(target)} but "
                              f"{nt.inputs[0].name} has {pred[1]} columns: one-hot encode the "
                              f"labels ({pred[1]} columns, one per class)")
    return found


def _saturated(call, a) -> str:
    if not isinstance(a, np.ndarray) or a.size == 0:
        return ""
    low, high = SATURATING[call.params["fn"]]
    near = np.minimum(np.abs(a - low), np.abs(a - high)) < SATURATION
    share = float(near.mean())
    if share < SATURATED_SHARE:
        return ""
    return (f"saturated: {share:.0%} of outputs within {SATURATION:g} of {low:g} or {high:g}, so "
            f"its gradients are about 0; normalise the inputs or start with smaller weights")


def _flat(plan: Plan, call, history: list[dict]) -> str:
    """The loss's per-epoch series (its epoch mean if a reduction takes it) has not moved."""
    keys = [f"{n}.{c.type.outputs[0].name}" for n, c in plan.calls.items()
            if c.role == "reduce" and any(s is not None and s.node == call.node
                                          for s in c.sources)]
    keys += [f"{call.node}.{p.name}" for p in call.type.outputs if p.kind == "scalar"]
    key = next((k for k in keys if history and k in history[-1]), None)
    if key is None or len(history) < FLAT_EPOCHS:
        return ""
    series = [h.get(key, math.nan) for h in history[-FLAT_EPOCHS:]]
    if not all(math.isfinite(x) for x in series):
        return f"the loss is not a finite number ({series[-1]})"
    if max(series) - min(series) > FLAT * max(1.0, abs(series[-1])):
        return ""
    return f"the loss has not moved over the last {FLAT_EPOCHS} epochs ({series[-1]:.4g})"


def _norm(value):
    if isinstance(value, (np.ndarray, float, int, np.floating)):
        top = _max_abs(value)
        if top is None or not math.isfinite(top):
            return top
        return float(np.linalg.norm(np.asarray(value, dtype=np.float64) / top)) * top \
            if top > 0 else 0.0
    return None


def _max_abs(value):
    if isinstance(value, (np.ndarray, float, int, np.floating)) and np.size(value):
        with np.errstate(all="ignore"):
            top = float(np.max(np.abs(value)))
        return top if not math.isnan(top) else math.inf
    return None
