"""The sweep's pictures and its report folder, drawn headless with matplotlib.

`--plot FILE` draws one metric's mean over the grid (`Results.series`). `--report DIR` writes
runs.csv (one row per run: settings, fold, every metric), parallel.png (the settings against
the metric, runtime/sweep/views.py's parallel coordinates; only with a grid) and curves.png (each
metric per epoch: the mean over a setting's folds, a band of one std either side). Both are
checked before the runs start and written at the end through runtime/atomicwrite.py.
matplotlib is imported only inside these functions, and through its Agg canvas, so no global
backend is switched (the editor's Qt stays untouched) and `gradhopper run` never imports it.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from .. import atomicwrite
from ..errors import GradhopperError
from .results import Results, csv_text
from .views import curve_metrics, curves, parallel

REPORT_FILES = ("runs.csv", "parallel.png", "curves.png")
LEGEND_MAX = 12  # settings; more lines than this are drawn without a legend


def check_plot_format(path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    kinds = FigureCanvasAgg.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in kinds:
        raise GradhopperError(f"--plot {path}: the name must end in one of "
                              f"{', '.join('.' + k for k in sorted(kinds))}")


def check_report(folder) -> None:
    """Refuse now a report folder that could not be made, or whose files could not be written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise GradhopperError(f"--report {folder}: it exists and is not a folder")
    if not folder.exists():
        parent = folder.absolute().parent
        if not parent.is_dir():
            raise GradhopperError(f"--report {folder}: the folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise GradhopperError(f"--report {folder}: the folder {parent} is not writable")
        return
    for name in REPORT_FILES:
        atomicwrite.check(folder / name)


def write_report(results: Results, metric: str | None, folder) -> list[Path]:
    """Write the report's files into `folder` (made if missing); returns the paths written."""
    folder = Path(folder)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise GradhopperError(f"cannot write {folder}: {exc.strerror}") from None
    written = [folder / "runs.csv"]
    atomicwrite.write_text(written[0], csv_text(results))
    if results.keys and metric is not None and parallel(results, metric).runs:
        written.append(folder / "parallel.png")
        _save(draw_parallel(results, metric), written[-1])
    if curve_metrics(results):
        written.append(folder / "curves.png")
        _save(draw_curves(results), written[-1])
    return written


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> None:
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:
        atomicwrite.write(path, lambda fh: fig.savefig(fh, format=fmt))
    except ValueError as exc:  # matplotlib's own refusal, one line
        raise GradhopperError(f"cannot write {path}: {exc}") from None


def draw_parallel(results: Results, metric: str):
    """One vertical axis per grid key and one for the metric; a line per run, coloured by it."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    view = parallel(results, metric)
    fig = _figure(max(5.0, 2.2 * len(view.axes)), 4.5)
    ax = fig.add_subplot()
    xs = range(len(view.axes))
    low, high = (view.values.min(), view.values.max()) if len(view.values) else (0, 1)
    norm = Normalize(low, high if high > low else low + 1)
    cmap = colormaps["viridis"]
    for line, value in zip(view.positions, view.values):
        ax.plot(xs, line, color=cmap(norm(value)), alpha=0.8, linewidth=1.4)
    for x, axis in zip(xs, view.axes):
        ax.axvline(x, color="#444444", linewidth=1)
        for y, label in axis.ticks:
            ax.text(x, y, label, fontsize="small", va="center", ha="center",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8,
                          "linewidth": 0})
    ax.set_xticks(list(xs), [a.name for a in view.axes])
    ax.set_xlim(-0.1, len(view.axes) - 0.6)
    ax.set_ylim(-0.05, 1.05)
    ax.set_yticks([])
    ax.set_title(f"{metric} against the settings, one line per run")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=metric)
    return fig


def draw_curves(results: Results):
    """A panel per metric: each setting's mean per epoch, and a band of one std either side."""
    from matplotlib.ticker import MaxNLocator

    names = curve_metrics(results)
    columns = 1 if len(names) == 1 else 2
    rows = math.ceil(len(names) / columns)
    fig = _figure(6.0 * columns, 3.6 * rows)
    spread = f"mean ± std over {results.folds} folds" if results.folds else "per run"
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, columns, i + 1)
        lines = curves(results, name)
        for curve in lines:
            (drawn,) = ax.plot(curve.epochs, curve.mean, label=curve.label, linewidth=1.4)
            if results.folds:
                ax.fill_between(curve.epochs, curve.mean - curve.std, curve.mean + curve.std,
                                color=drawn.get_color(), alpha=0.2, linewidth=0)
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if i == 0 and 1 < len(lines) <= LEGEND_MAX:
            ax.legend(fontsize="small")
    fig.suptitle(f"Metrics per epoch, {spread}")
    return fig


def plot(results: Results, metric: str | None, path) -> None:
    """Draw `results.series(metric)`: lines with std bars over the grid, or bars per fold."""
    metric = metric or results.default_metric()
    fig = _figure(7, 4.5)
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
    _save(fig, path)
