"""What the sweep's views show, as numbers: the parallel coordinates and the curves per setting.

The editor draws these with pyqtgraph (editor/sweep_plots.py), `gradhopper sweep --report` with
matplotlib (runtime/sweep/report.py); both draw the same data, computed here once.

Parallel coordinates, as TensorBoard's HParams view has them: one vertical axis per grid key
and a last one for the chosen metric, one polyline per run that has the metric, coloured by it.
Every axis runs from 0 (bottom) to 1 (top). A key whose values are all numbers is a linear
axis from its smallest value to its largest; any other key (strings, booleans, shapes) is
categorical, its values placed evenly in the grid's order. The metric's axis spans the runs'
smallest value to their largest. An axis with one value puts it at 0.5.

Curves: for each metric in the runs' histories and each setting, the mean and the sample
standard deviation (n - 1, 0 for one run, as in the summary) over the setting's runs that did
not fail, epoch by epoch; `count` says how many runs reached each epoch (runs can stop early).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .results import Results, cell


@dataclass
class ParallelAxis:
    name: str
    categorical: bool
    ticks: list[tuple[float, str]]  # (position in 0..1, label)


@dataclass
class Parallel:
    metric: str
    axes: list[ParallelAxis]  # the grid's keys in --grid order, then the metric
    positions: np.ndarray  # (runs, axes), each in 0..1; the last column colours the line
    values: np.ndarray  # the metric of each run
    runs: list[int]  # each line's run index


def parallel(results: Results, metric: str) -> Parallel:
    rows = [r for r in sorted(results.rows, key=lambda r: r.index)
            if not r.error and metric in r.metrics]
    axes, columns = [], []
    for key in results.keys:
        axis, column = _setting_axis(key, [r.settings[key] for r in rows])
        axes.append(axis)
        columns.append(column)
    values = np.array([r.metrics[metric] for r in rows], dtype=float)
    column = _scale(values)
    low, high = (values.min(), values.max()) if len(values) else (0.0, 0.0)
    ticks = [(float(p), f"{low + p * (high - low):.4g}") for p in np.linspace(0, 1, 5)]
    axes.append(ParallelAxis(metric, False, ticks if high > low else [(0.5, f"{low:.4g}")]))
    columns.append(column)
    positions = np.column_stack(columns) if rows else np.zeros((0, len(axes)))
    return Parallel(metric, axes, positions, values, [r.index for r in rows])


def _setting_axis(key: str, values: list) -> tuple[ParallelAxis, np.ndarray]:
    distinct = list({cell(v): v for v in values}.values())  # first seen: the grid's order
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in distinct)
    if numeric and distinct:
        column = _scale(np.array(values, dtype=float))
        where = dict(zip(map(cell, values), column))
        ticks = sorted((float(where[cell(v)]), cell(v)) for v in distinct)
        return ParallelAxis(key, False, ticks), column
    place = {cell(v): i / (len(distinct) - 1) if len(distinct) > 1 else 0.5
             for i, v in enumerate(distinct)}
    column = np.array([place[cell(v)] for v in values], dtype=float)
    return ParallelAxis(key, True, [(p, label) for label, p in place.items()]), column


def _scale(values: np.ndarray) -> np.ndarray:
    """Linear from the smallest (0) to the largest (1); all at 0.5 if they are equal."""
    if len(values) == 0:
        return values
    low, high = values.min(), values.max()
    if high == low:
        return np.full(len(values), 0.5)
    return (values - low) / (high - low)


@dataclass
class Curve:
    settings: dict
    label: str  # "key=value, ..." or "all runs" without a grid
    mean: np.ndarray  # per epoch, from epoch 1
    std: np.ndarray
    count: np.ndarray  # runs that reached the epoch

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(1, len(self.mean) + 1)


def curve_metrics(results: Results) -> list[str]:
    """The metrics that have a history, in the order the runs report them."""
    names: dict = {}
    for row in results.rows:
        names.update(dict.fromkeys(row.history))
    return list(names)


def curves(results: Results, metric: str) -> list[Curve]:
    """One curve of `metric` per setting that has at least one run with its history."""
    groups: dict = {}
    for row in sorted(results.rows, key=lambda r: r.index):
        key = tuple(cell(row.settings[k]) for k in results.keys)
        groups.setdefault(key, (row.settings, []))
        if not row.error and row.history.get(metric):
            groups[key][1].append(row.history[metric])
    out = []
    for settings, histories in groups.values():
        if not histories:
            continue
        longest = max(map(len, histories))
        table = np.full((len(histories), longest), np.nan)
        for i, h in enumerate(histories):
            table[i, :len(h)] = h
        count = np.sum(~np.isnan(table), axis=0)
        mean = np.nanmean(table, axis=0)
        spread = np.nansum((table - mean) ** 2, axis=0)
        std = np.where(count > 1, np.sqrt(spread / np.maximum(count - 1, 1)), 0.0)
        label = ", ".join(f"{k}={cell(settings[k])}" for k in results.keys) or "all runs"
        out.append(Curve(settings, label, mean, std, count))
    return out
