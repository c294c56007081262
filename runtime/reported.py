"""What a run reports: one definition, read off the plan, for every place that shows numbers.

A reported value is every non-static output declared `scalar` (an accuracy, a loss, an epoch's
mean) and every view's input (what the view shows, which may be an array). A *metric* is a
reported value that is a number: declared scalar, or a view fed by a port not declared an
array (a port of kind `any` counts when its value is a number). A view with several inputs
(view.network, view.fit...) reports each wired one as `node.port`; an unwired optional input
is left out.
`--json` prints every reported value; the history (one row per epoch), a sweep's result rows,
the compiled engine's and the exported script's per-epoch lines hold the metrics; the progress
lines and the editor's run bar show the *shown* ones: per-epoch metrics that are not views
(a view repeats the metric it shows, and a per-step value is only the epoch's last step's).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .planner import Plan


@dataclass(frozen=True)
class Reported:
    key: str  # "node.port", as in --json, the history and a sweep's rows
    slot: int  # where the value lives in the run's slots
    rate: str  # of the node reporting it: static, step or epoch
    metric: bool  # a number (for kind `any`, when its value is one), kept in the history
    view: bool  # a view's input

    @property
    def shown(self) -> bool:
        """Shown on its own while a run goes: a per-epoch metric that no view repeats."""
        return self.metric and self.rate == "epoch" and not self.view


def reported(plan: Plan) -> list[Reported]:
    """Every reported value of the plan, in plan order."""
    out = []
    for node_id in plan.order:
        call = plan.calls[node_id]
        rate = plan.rate[node_id]
        if call.role == "view":
            for port, slot, source in zip(call.type.inputs, call.inputs, call.sources):
                if source is None and port.optional:
                    continue  # a view's optional input left unwired shows and reports nothing
                kind = "array" if source is None else plan.calls[source.node].type.output(
                    source.port).kind
                out.append(Reported(f"{node_id}.{port.name}", slot, rate, kind != "array", True))
        elif rate != "static":
            out += [Reported(f"{node_id}.{port.name}", slot, rate, True, False)
                    for port, slot in zip(call.type.outputs, call.outputs)
                    if port.kind == "scalar"]
    return out


def metrics(entries: list[Reported], values) -> dict[str, float]:
    """The metrics among `entries` as floats, from `values` (a run's slots); a value that is
    not a number (a plug-in's port declared scalar that gives an array) is left out."""
    out = {}
    for entry in entries:
        value = values[entry.slot]
        if entry.metric and is_number(value):
            out[entry.key] = float(value)
    return out


def is_number(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))
