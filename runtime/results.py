"""A sweep's results: one row per run, a summary per setting, and the CSV, JSON, tables and plot.

A row holds the run's settings (the grid values), its fold, every scalar that the executor
reports (metrics and view inputs, as floats), the seconds the run took in its task, and its error
as one line (empty if it ran). The summary groups rows by setting, folds together, and gives each
metric's mean, std, min and max over the runs of the setting that did not fail; std is the sample
standard deviation (n - 1), 0 for a single run. matplotlib is imported only to draw the plot,
and through its Agg canvas, so no global backend is switched (the editor's Qt stays untouched).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GradhopperError


@dataclass
class Row:
    index: int
    settings: dict
    fold: int | None
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

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


# -- files ---------------------------------------------------------------------------------
def csv_text(results: Results) -> str:
    names = results.metric_names
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["run", *results.keys, "fold", *names, "seconds", "error"])
    for row in sorted(results.rows, key=lambda r: r.index):
        writer.writerow([row.index, *(cell(row.settings[k]) for k in results.keys),
                         "" if row.fold is None else row.fold,
                         *(repr(row.metrics[n]) if n in row.metrics else "" for n in names),
                         f"{row.seconds:.3f}", row.error])
    return out.getvalue()


def write_text(path: Path, text: str) -> None:
    """Write beside the target and rename, so a failure never leaves half a file."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise GradhopperError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GradhopperError(f"cannot write {path}: {exc.strerror}") from None


def check_writable(path: Path | None, option: str) -> None:
    """Refuse an output whose folder is missing now, before the sweep spends any time."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        raise GradhopperError(f"{option} {path}: the folder {Path(path).parent} does not exist")


# -- the terminal --------------------------------------------------------------------------
def print_tables(results: Results, metric: str | None, console) -> None:
    from rich.table import Table

    metric = metric or results.default_metric()
    runs = Table(title=f"{len(results.rows)} of {results.total} runs", title_justify="left")
    for name in ["run", *results.keys] + (["fold"] if results.folds else []):
        runs.add_column(name, justify="right")
    runs.add_column(metric or "metric", justify="right")
    runs.add_column("seconds", justify="right")
    runs.add_column("error", overflow="fold")
    for row in sorted(results.rows, key=lambda r: r.index):
        value = row.metrics.get(metric)
        runs.add_row(str(row.index), *(cell(row.settings[k]) for k in results.keys),
                     *([str(row.fold)] if results.folds else []),
                     "" if value is None else f"{value:.4f}", f"{row.seconds:.2f}",
                     row.error)
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


# -- the plot ------------------------------------------------------------------------------
def plot(results: Results, metric: str | None, path) -> None:
    """Draw `results.series(metric)`: lines with std bars over the grid, or bars per fold."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metric = metric or results.default_metric()
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xlabel, xs, lines = results.series(metric)
    if results.keys:
        for label, points in lines.items():
            ax.errorbar(range(len(xs)), [m for m, _ in points],
                        yerr=[s for _, s in points] if results.folds else None,
                        marker="o", capsize=4, label=label)
        if len(lines) > 1:
            ax.legend(fontsize="small")
        ax.set_ylabel(f"mean {metric}")
    else:
        ax.bar(range(len(xs)), [m for m, _ in lines[metric]], color="#7aa6d6")
        stats = results.summary()[0].stats.get(metric) if results.rows else None
        if stats:
            ax.axhline(stats["mean"], color="#c0392b",
                       label=f"mean {stats['mean']:.4f} ± {stats['std']:.4f}")
            ax.legend()
        ax.set_ylabel(metric)
    ax.set_xticks(range(len(xs)), xs)
    ax.set_xlabel(xlabel)
    ax.set_title(metric + (f", mean ± std of {results.folds} folds" if results.keys else
                           f" over {results.folds} folds") if results.folds else metric)
    ax.grid(alpha=0.3)
    try:
        fig.savefig(path)
    except (OSError, ValueError) as exc:
        raise GradhopperError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}")\
            from None
