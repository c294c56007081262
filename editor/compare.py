"""Compare runs: the curves of earlier runs stay in the plot, faded, each labelled with what
changed before the next run (a learning rate, a seed, a hidden width: the diff of parameters
and run settings), so "initial weights matter" and a learning-rate plateau are seen side by
side. They can be cleared, and exported as CSV (runtime/atomicwrite.py) and PNG.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - pg.exporters is not imported by pyqtgraph itself
from PySide6 import QtCore

from gradhopper.runtime import atomicwrite

FADED_ALPHA = 90  # of 255
MAX_KEPT = 8  # earlier runs kept; the oldest go first


@dataclass
class EarlierRun:
    number: int
    label: str  # what changed after it: "learning_rate.value 0.3 -> 0.1"
    series: dict[str, tuple[np.ndarray, np.ndarray]]  # plot key -> (epochs, values)
    items: list = field(default_factory=list)


def settings(executor) -> dict[str, object]:
    """Every node parameter of the run and the run settings, as "node.param" -> value."""
    out = {f"run.{k}": v for k, v in sorted(executor.plan.graph.run.items())}
    for node_id in executor.plan.order:
        for name, value in executor.params_of(executor.plan.calls[node_id]).items():
            out[f"{node_id}.{name}"] = value
    return out


def changes(old: dict, new: dict) -> str:
    """The settings that differ, "key old -> new", joined; "no change" if none do."""
    keys = sorted(set(old) | set(new))
    diff = [f"{k} {_text(old.get(k))} -> {_text(new.get(k))}" for k in keys
            if old.get(k) != new.get(k)]
    return ", ".join(diff) if diff else "no change"


def _text(value) -> str:
    if value is None:
        return "(none)"
    return f"{value:g}" if isinstance(value, float) else json.dumps(value)


class EarlierRuns:
    """The faded curves of `plot`'s earlier runs."""

    def __init__(self, plot: pg.PlotWidget):
        self.plot = plot
        self.runs: list[EarlierRun] = []
        self._count = 0
        self._current = None  # the run drawn now, and its settings as it started
        self._settings: dict = {}

    def follow(self, executor, curves: dict) -> EarlierRun | None:
        """The plot now draws `executor`'s run: keep the one it drew before as an earlier run."""
        if executor is self._current:
            return None
        old, old_settings = self._current, self._settings
        self._current, self._settings = executor, settings(executor)
        return None if old is None else self._keep(old, old_settings, curves)

    def forget(self) -> None:
        """Another graph: its plot was cleared, and runs of the old one are not compared."""
        self.runs, self._current, self._settings = [], None, {}

    def _keep(self, old_executor, old_settings: dict, curves: dict) -> EarlierRun | None:
        """Fade the finished run's curves and label them with what the new run changed."""
        self._count += 1
        history = old_executor.history[:]
        epochs = np.arange(1, len(history) + 1)
        series = {key: (epochs, np.array([h.get(key, np.nan) for h in history], dtype=float))
                  for key in curves}
        if not len(history) or not series:
            return None
        run = EarlierRun(self._count, changes(old_settings, self._settings), series)
        for key, (xs, ys) in series.items():
            colour = pg.mkColor(curves[key].opts["pen"].color())
            colour.setAlpha(FADED_ALPHA)
            pen = pg.mkPen(colour, width=1, style=QtCore.Qt.PenStyle.DashLine)
            name = f"{key.split('.')[0]} (run {run.number}: {run.label})"
            run.items.append(self.plot.plot(xs, ys, pen=pen, name=name))
        self.runs.append(run)
        while len(self.runs) > MAX_KEPT:
            self._remove(self.runs.pop(0))
        return run

    def clear(self) -> None:
        for run in self.runs:
            self._remove(run)
        self.runs = []

    def _remove(self, run: EarlierRun) -> None:
        for item in run.items:
            self.plot.removeItem(item)

    def csv_text(self, curves: dict) -> str:
        """run, changed, series, epoch, value: every earlier run's points, then the current's."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["run", "changed", "series", "epoch", "value"])
        rows = [(str(r.number), r.label, r.series) for r in self.runs]
        current = {}
        for key, curve in curves.items():
            xs, ys = curve.getData()
            if xs is not None and len(xs):
                current[key] = (xs, ys)
        rows.append(("current", "", current))
        for number, label, series in rows:
            for key, (xs, ys) in series.items():
                for x, y in zip(xs, ys):
                    writer.writerow([number, label, key, int(x), repr(float(y))])
        return out.getvalue()

    def export_csv(self, path, curves: dict) -> None:
        atomicwrite.write_text(path, self.csv_text(curves))

    def export_png(self, path) -> None:
        """The plot as pyqtgraph's exporter renders it, written through atomicwrite."""
        image = pg.exporters.ImageExporter(self.plot.plotItem).export(toBytes=True)
        buffer = QtCore.QBuffer()
        buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        data = bytes(buffer.data())
        atomicwrite.write(path, lambda fh: fh.write(data))
