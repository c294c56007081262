"""A sweep's results: one row per run, a summary per setting, and the CSV, JSON and tables.

A row holds the run's settings (the grid values), its fold, every scalar that the executor
reports (metrics and view inputs, as floats), the seconds the run took in its task, its error
as one line (empty if it ran) and the history of its metrics per epoch (for the curves of
runtime/sweep/views.py). The summary groups rows by setting, folds together, and gives each
metric's mean, std, min and max over the runs of the setting that did not fail; std is the
sample standard deviation (n - 1), 0 for a single run. The pictures are runtime/sweep/report.py's.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field


@dataclass
class Row:
    index: int
    settings: dict
    fold: int | None
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""
    history: dict = field(default_factory=dict)  # metric -> its value after each epoch

    def as_dict(self) -> dict:
        return {"run": self.index, "settings": self.settings, "fold": self.fold,
                "metrics": self.metrics, "seconds": self.seconds, "error": self.error or None}


@dataclass
class Summary:
    settings: dict
    runs: int
    failed: int
    stats: dict  # metric -> {"mean", "std", "min", "max"}


@dataclass
class Results:
    keys: list  # the grid's NODE.PARAM keys, in --grid order
    folds: int
    total: int  # runs planned; len(rows) is fewer after Ctrl-C
    rows: list = field(default_factory=list)
    interrupted: bool = False

    @property
    def metric_names(self) -> list[str]:
        names: dict = {}
        for row in self.rows:
            names.update(dict.fromkeys(row.metrics))
        return list(names)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.error)

    def default_metric(self) -> str | None:
        """The first metric whose name holds "accuracy", else the first metric."""
        names = self.metric_names
        return next((n for n in names if "accuracy" in n), names[0] if names else None)

    def summary(self) -> list[Summary]:
        groups: dict = {}
        for row in sorted(self.rows, key=lambda r: r.index):
            groups.setdefault(_key(row.settings), []).append(row)
        out = []
        for rows in groups.values():
            good = [r for r in rows if not r.error]
            stats = {}
            for name in self.metric_names:
                values = [r.metrics[name] for r in good if name in r.metrics]
                if values:
                    stats[name] = describe(values)
            out.append(Summary(rows[0].settings, len(rows), len(rows) - len(good), stats))
        return out

    def series(self, metric: str) -> tuple[str, list[str], dict[str, list[tuple]]]:
        """What a plot of `metric` shows: the x axis's name, its tick labels, and for each line
        its (mean, std) at every tick (nan where no run finished). With a grid, x is the first
        key and there is one line per combination of the others; with folds only, x is the
        fold and the one line holds each fold's value."""
        if not self.keys:
            rows = sorted(self.rows, key=lambda r: r.index)
            return "fold", [str(r.fold) for r in rows], {
                metric: [(r.metrics.get(metric, math.nan), 0.0) for r in rows]}
        first, rest = self.keys[0], self.keys[1:]
        summary = self.summary()
        xs = list(dict.fromkeys(cell(s.settings[first]) for s in summary))
        lines: dict = {}
        for s in summary:
            label = ", ".join(f"{k}={cell(s.settings[k])}" for k in rest) or metric
            line = lines.setdefault(label, [(math.nan, 0.0)] * len(xs))
            stats = s.stats.get(metric)
            if stats:
                line[xs.index(cell(s.settings[first]))] = (stats["mean"], stats["std"])
        return first, xs, lines

    def to_json(self, metric: str | None = None) -> dict:
        return {"metric": metric or self.default_metric(), "folds": self.folds,
                "grid": self.keys, "runs": self.total, "finished": len(self.rows),
                "failed": self.failed, "interrupted": self.interrupted,
                "rows": [r.as_dict() for r in sorted(self.rows, key=lambda r: r.index)],
                "summary": [{"settings": s.settings, "runs": s.runs, "failed": s.failed,
                             "stats": s.stats} for s in self.summary()]}


def _key(settings: dict) -> str:
    return json.dumps(settings, sort_keys=False)


def describe(values: list[float]) -> dict:
    n = len(values)
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "min": min(values), "max": max(values)}


def cell(value) -> str:
    """A setting's value as text: strings as they are, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


# -- the table of runs ---------------------------------------------------------------------
def table(results: Results) -> tuple[list[str], list[list]]:
    """The runs as a table: its heads, and one row per run in run order. Settings are text (as
    `cell` writes them), numbers stay numbers (so a view can sort them), a missing one is None."""
    names = results.metric_names
    heads = ["run", *results.keys, "fold", *names, "seconds", "error"]
    rows = [[row.index, *(cell(row.settings[k]) for k in results.keys), row.fold,
             *(row.metrics.get(n) for n in names), row.seconds, row.error]
            for row in sorted(results.rows, key=lambda r: r.index)]
    return heads, rows


def csv_text(results: Results) -> str:
    """`table` as CSV: floats in full (repr), seconds to the millisecond, None as empty."""
    heads, rows = table(results)
    seconds = heads.index("seconds")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(heads)
    for row in rows:
        writer.writerow(["" if v is None else f"{v:.3f}" if j == seconds else
                         repr(v) if isinstance(v, float) else v for j, v in enumerate(row)])
    return out.getvalue()


# -- the terminal --------------------------------------------------------------------------
def print_tables(results: Results, metric: str | None, console) -> None:
    """The runs and the summary of `metric` per setting. The runs show every metric when the
    console is wide enough for them unwrapped, else only `metric` (the CSV has them all)."""
    from rich.table import Table

    metric = metric or results.default_metric()
    heads, rows = table(results)
    texts = [["" if v is None else f"{v:.2f}" if h == "seconds" else
              f"{v:.4f}" if isinstance(v, float) else str(v) for h, v in zip(heads, row)]
             for row in rows]
    widths = [max([len(h)] + [len(t[j]) for t in texts]) for j, h in enumerate(heads)]
    names = set(results.metric_names)
    if sum(w + 3 for h, w in zip(heads, widths) if h != "error") + 20 > console.width:
        names = {metric}
    shown = [j for j, h in enumerate(heads) if (h != "fold" or results.folds)
             and (h not in results.metric_names or h in names)]
    runs = Table(title=f"{len(results.rows)} of {results.total} runs", title_justify="left")
    for j in shown:
        runs.add_column(heads[j], justify="left" if heads[j] == "error" else "right",
                        overflow="fold", style="bold" if heads[j] == metric else None)
    for cells in texts:
        runs.add_row(*(cells[j] for j in shown))
    console.print(runs)
    summary = Table(title=f"{metric} per setting" + (f", {results.folds} folds each"
                                                     if results.folds else ""),
                    title_justify="left")
    for name in [*results.keys, "runs", "failed", "mean", "std", "min", "max"]:
        summary.add_column(name, justify="right")
    for s in results.summary():
        stats = s.stats.get(metric)
        numbers = [f"{stats[k]:.4f}" for k in ("mean", "std", "min", "max")] if stats \
            else ["-"] * 4
        summary.add_row(*(cell(s.settings[k]) for k in results.keys), str(s.runs),
                        str(s.failed), *numbers)
    console.print(summary)
