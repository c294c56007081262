"""The sweep dialog's plots, drawn with pyqtgraph from the numbers of runtime/sweep/views.py.

Three views of one metric: over the grid (the summary's mean, with std bars over folds),
parallel coordinates (one axis per grid key and one for the metric, a line per run coloured by
the metric, as TensorBoard's HParams view draws them) and the curves per epoch (each setting's
mean over folds, a band of one std either side).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gradhopper.runtime.sweep.results import Results
from gradhopper.runtime.sweep.views import curves, parallel

COLOURS = ["#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176"]


def new_plot() -> pg.PlotWidget:
    plot = pg.PlotWidget(background="#202124")
    plot.showGrid(x=True, y=True, alpha=0.2)
    return plot


def draw_grid(plot: pg.PlotWidget, results: Results, metric: str | None) -> None:
    """`results.series(metric)`: lines with std bars over the grid, or bars per fold."""
    plot.clear()
    plot.addLegend(offset=(-10, 10))
    if metric is None:
        return
    xlabel, xs, lines = results.series(metric)
    plot.getAxis("bottom").setTicks([list(enumerate(xs))])
    plot.setLabel("bottom", xlabel)
    plot.setTitle(metric + (f", mean ± std of {results.folds} folds"
                            if results.folds and results.keys else ""))
    if not results.keys:
        plot.addItem(pg.BarGraphItem(x=range(len(xs)), width=0.6, brush=COLOURS[0],
                                     height=[m for m, _ in lines[metric]]))
        stats = results.summary()[0].stats.get(metric)
        if stats:
            plot.addItem(pg.InfiniteLine(stats["mean"], angle=0, pen=COLOURS[1],
                                         label=f"mean {stats['mean']:.4f}"))
        return
    for n, (label, points) in enumerate(lines.items()):
        x, mean = list(range(len(xs))), [m for m, _ in points]
        pen = COLOURS[n % len(COLOURS)]
        plot.plot(x, mean, pen=pen, symbol="o", symbolBrush=pen, name=label, connect="finite")
        if results.folds:
            plot.addItem(pg.ErrorBarItem(x=np.array(x), y=np.array(mean), beam=0.1,
                                         height=np.array([2 * s for _, s in points]), pen=pen))


def draw_parallel(plot: pg.PlotWidget, results: Results, metric: str | None) -> None:
    """A line per run across the axes, coloured from dark (lowest metric) to bright."""
    plot.clear()
    plot.setTitle("")
    if metric is None:
        return
    view = parallel(results, metric)
    xs = np.arange(len(view.axes), dtype=float)
    colours = pg.colormap.get("viridis").map(view.positions[:, -1], mode="qcolor") \
        if len(view.runs) else []
    for line, colour, run in zip(view.positions, colours, view.runs):
        item = plot.plot(xs, line, pen=pg.mkPen(colour, width=2))
        item.setToolTip(f"run {run}")
    for x, axis in zip(xs, view.axes):
        plot.addItem(pg.InfiniteLine(x, angle=90, pen="#9e9e9e"))
        for y, label in axis.ticks:
            text = pg.TextItem(label, color="#e0e0e0", anchor=(0, 0.5), fill="#202124c0")
            text.setPos(x, y)
            plot.addItem(text)
    plot.getAxis("bottom").setTicks([[(x, a.name) for x, a in zip(xs, view.axes)]])
    plot.getAxis("left").setTicks([[]])
    plot.setXRange(-0.35, len(view.axes) - 0.5, padding=0)
    plot.setYRange(-0.05, 1.05, padding=0)
    plot.setTitle(f"{metric} against the settings: {len(view.runs)} runs")


def draw_curves(plot: pg.PlotWidget, results: Results, metric: str | None) -> None:
    """Each setting's mean per epoch, and with folds a band of one std either side."""
    plot.clear()
    plot.addLegend(offset=(-10, 10))
    if metric is None:
        return
    drawn = curves(results, metric)
    for n, curve in enumerate(drawn):
        colour = COLOURS[n % len(COLOURS)]
        x = curve.epochs.astype(float)
        plot.plot(x, curve.mean, pen=pg.mkPen(colour, width=2), name=curve.label)
        if results.folds:
            low = pg.PlotCurveItem(x, curve.mean - curve.std)
            high = pg.PlotCurveItem(x, curve.mean + curve.std)
            band = pg.mkColor(colour)
            band.setAlpha(60)
            plot.addItem(pg.FillBetweenItem(low, high, brush=band))
    plot.getAxis("bottom").setTicks(None)
    plot.setLabel("bottom", "epoch")
    plot.setTitle(metric + (f" per epoch, mean ± std over {results.folds} folds"
                            if results.folds else " per epoch"))
