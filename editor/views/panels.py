"""The learning views' panels, one per view node whose type declares a display drawn here.

A timer (POLL_MS) looks at the run; a panel redraws at most every REDRAW_S while it goes, and
only when the run has moved, like the plots. Each panel turns its node's wired input values into
numbers with data.py and hands them to pyqtgraph; a misfit shows as one line in its title.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gradhopper.runtime.graph import Graph

from . import data

REDRAW_S = 0.25
POLL_MS = 100
BACKGROUND = "#202124"
LAYER_COLOURS = ["#e57373", "#ffb74d", "#81c784", "#4fc3f7"]
WIDTH_STEPS = 6  # a network's lines are drawn in this many thicknesses per sign


class ViewPanel(pg.PlotWidget):
    """One view node's picture: `draw(values, executor)` takes its wired inputs by port."""

    def __init__(self, node, node_type):
        super().__init__(background=BACKGROUND)
        self.node, self.type = node, node_type
        self.setMinimumHeight(220)
        self.item = self.getPlotItem()
        self.item.getAxis("left").setWidth(52)
        self.item.setTitle(node.id)

    def show_error(self, message: str) -> None:
        self.item.clear()
        self.item.setTitle(f"{self.node.id}: {message}")

    def param(self, name: str):
        value = self.node.params.get(name)
        return self.type.param(name).default if value is None else value


class NetworkPanel(ViewPanel):
    def draw(self, values: dict, executor) -> None:
        layers = [k for k in ("a1", "a2", "a3") if k in values]
        picture = data.network(values["x"], [values[k] for k in layers],
                               [values[f"W{k[1]}"] for k in layers if f"W{k[1]}" in values])
        item = self.item
        item.clear()
        item.hideAxis("left"), item.hideAxis("bottom")
        step = (data.MAX_WIDTH - data.MIN_WIDTH) / WIDTH_STEPS
        bucket = np.minimum(((picture.widths - data.MIN_WIDTH) / step).astype(int), WIDTH_STEPS - 1)
        for positive in (True, False):
            for b in range(WIDTH_STEPS):
                chosen = (bucket == b) & ((picture.weights >= 0) == positive)
                if chosen.any():
                    pts = picture.edges[chosen].reshape(-1, 2)
                    rgb = data.POSITIVE if positive else data.NEGATIVE
                    pen = pg.mkPen((*rgb, 200), width=data.MIN_WIDTH + (b + 0.5) * step)
                    item.addItem(pg.PlotCurveItem(pts[:, 0], pts[:, 1], pen=pen, connect="pairs"))
        item.addItem(pg.ScatterPlotItem(
            picture.positions[:, 0], picture.positions[:, 1], size=16, pen=pg.mkPen("#5f6368"),
            brush=[pg.mkBrush(*c) for c in picture.dot_colours]))
        item.setTitle(f"{self.node.id}: sample 1 of the batch")


class BlamePanel(ViewPanel):
    def __init__(self, node, node_type):
        super().__init__(node, node_type)
        self.means = data.BlameMeans()
        self._steps = None

    def draw(self, values: dict, executor) -> None:
        deltas = [values[k] for k in ("delta1", "delta2", "delta3") if k in values]
        steps = executor.steps
        # the epoch the last step belongs to: the one under way, or the one just finished
        epoch = executor.epoch + (executor.step_in_epoch > 0 or executor.epoch == 0)
        fast = self._steps is not None and steps - self._steps > 1
        self._steps = steps
        means = self.means.add(epoch, deltas)
        layers = means if fast else data.blame_current(deltas)
        xs, heights, centres = data.bars(layers)
        item = self.item
        item.clear()
        at = 0
        for i, layer in enumerate(layers):
            colour = LAYER_COLOURS[i % len(LAYER_COLOURS)]
            item.addItem(pg.BarGraphItem(x=xs[at:at + layer.size], height=heights[at:at + layer.size],
                                         width=0.8, brush=colour, pen=None))
            at += layer.size
        names = ["output (delta1)"] + [f"delta{i + 1}" for i in range(1, len(layers))]
        item.getAxis("bottom").setTicks([list(zip(centres, names))])
        what = f"mean |delta| over epoch {epoch}" if fast else "delta of the current sample"
        item.setTitle(f"{self.node.id}: {what}")


class FitPanel(ViewPanel):
    def draw(self, values: dict, executor) -> None:
        x, y, cx, cy = data.fit(values["x"], values["y"], values["prediction"])
        item = self.item
        item.clear()
        item.addItem(pg.ScatterPlotItem(x, y, size=6, pen=None, brush="#ffb74d"))
        item.addItem(pg.PlotCurveItem(cx, cy, pen=pg.mkPen("#4fc3f7", width=2)))
        item.setTitle(f"{self.node.id}: the data and the network's curve")


class ProbabilitiesPanel(ViewPanel):
    def draw(self, values: dict, executor) -> None:
        samples = data.probabilities(values["prediction"], values["target"],
                                     self.param("samples"), self.param("classes"))
        item = self.item
        item.clear()
        item.setYRange(0, 1.15)
        ticks = []
        for i, sample in enumerate(samples):
            k = sample.probabilities.size
            xs = i * (k + 1) + np.arange(k)
            brushes = ["#81c784" if c == sample.true else "#78909c" for c in range(k)]
            item.addItem(pg.BarGraphItem(x=xs, height=sample.probabilities, width=0.85,
                                         brushes=brushes, pen=None))
            for x, p in zip(xs, sample.probabilities):
                label = pg.TextItem(f"{p:.0%}", color="#e8eaed", anchor=(0.5, 1))
                label.setPos(x, p)
                item.addItem(label)
            ticks.append((xs.mean(), f"#{sample.row}: {sample.true_name}"))
        item.getAxis("bottom").setTicks([ticks])
        item.enableAutoRange(x=True)
        item.setTitle(f"{self.node.id}: test samples, the true class in green")


class HistogramPanel(ViewPanel):
    SHOWN = 40  # the last epochs drawn

    def __init__(self, node, node_type):
        super().__init__(node, node_type)
        self.history = data.HistogramHistory()
        self.item.invertY(True)
        self.item.setLabel("left", "epoch")

    def draw(self, values: dict, executor) -> None:
        self.history.add(executor.epoch, values["value"])  # 0: the start values
        edges, counts = self.history.rows(int(self.param("bins")))
        epochs = self.history.epochs[-self.SHOWN:]
        counts = counts[-self.SHOWN:]
        centres = (edges[:-1] + edges[1:]) / 2
        spacing = max(1.0, (epochs[-1] - epochs[0]) / max(len(epochs) - 1, 1))
        top = max(int(counts.max()), 1)
        item = self.item
        item.clear()
        for i, (epoch, row) in enumerate(zip(epochs, counts)):
            shade = 90 + int(165 * (i + 1) / len(epochs))
            ys = epoch - 1.8 * spacing * row / top
            item.addItem(pg.PlotCurveItem(centres, ys, pen=pg.mkPen((255, shade // 2 + 60, 0)),
                                          fillLevel=epoch, brush=(shade // 3, shade // 4, 0, 160)))
        item.setTitle(f"{self.node.id}: distribution per epoch")


class ImagePanel(ViewPanel):
    def __init__(self, node, node_type):
        super().__init__(node, node_type)
        self.item.invertY(True)
        self.item.setAspectLocked(True)
        self.item.hideAxis("left"), self.item.hideAxis("bottom")
        self.image = pg.ImageItem()
        self.cmap = pg.colormap.get("CET-D1")

    def draw(self, values: dict, executor) -> None:
        pictures = data.tiles(values["value"], self.param("image_shape"), self.param("of"))
        grid = data.mosaic(pictures)
        item = self.item
        item.clear()
        scale = max(float(np.nanmax(np.abs(grid))), 1e-12)
        rgba = self.cmap.map((np.nan_to_num(grid) / scale + 1) / 2, mode="byte")
        rgba[np.isnan(grid)] = (32, 33, 36, 255)
        self.image.setImage(rgba.transpose(1, 0, 2), autoLevels=False)  # rows down
        item.addItem(self.image)
        item.setTitle(f"{self.node.id}: {len(pictures)} {self.param('of')} as "
                      f"{'x'.join(str(int(s)) for s in self.param('image_shape'))} pictures")


PANELS = {"network": NetworkPanel, "blame": BlamePanel, "fit": FitPanel,
          "probabilities": ProbabilitiesPanel, "histogram": HistogramPanel, "image": ImagePanel}


class LearningViews(QtWidgets.QScrollArea):
    """Every learning view of the graph, stacked; `executor()` gives the run to show.

    A panel is a pyqtgraph PlotWidget (~8 ms each), so they are made when first needed: when
    the views are first seen (set_seen: the window's dock, tabbed behind the plots, tells), or
    on a refresh asked for by code. While unseen, the poll timer draws nothing; seen, the views
    catch up at once and then follow the run."""

    def __init__(self, registry, executor, seen: bool = True, parent=None):
        super().__init__(parent)
        self.registry, self.executor, self.seen = registry, executor, seen
        self.setWidgetResizable(True)
        self._panels: dict[str, ViewPanel] = {}
        self._graph: Graph | None = None
        self._stale = True  # the panels are not those of _graph yet
        self._seen = (None, -1)
        self._drawn = 0.0
        self.timer = QtCore.QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    @property
    def panels(self) -> dict[str, ViewPanel]:
        """node id -> its panel (made now if they were not yet)."""
        if self._stale:
            self._make_panels()
        return self._panels

    def shows(self, node) -> bool:
        return node.type in self.registry and self.registry.get(node.type).display in PANELS

    def set_graph(self, graph: Graph | None) -> None:
        self._graph, self._stale, self._seen = graph, True, (None, -1)
        if self.seen:
            self._make_panels()

    def set_seen(self, seen: bool) -> None:
        self.seen = seen
        if seen and self._stale:
            self._make_panels()
            self.refresh(final=True)  # what the run has reached so far

    def _make_panels(self) -> None:
        self._stale = False
        box = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(box)
        layout.setContentsMargins(2, 2, 2, 2)
        self._panels = {}
        for node in (self._graph.nodes.values() if self._graph is not None else ()):
            if self.shows(node):
                node_type = self.registry.get(node.type)
                self._panels[node.id] = PANELS[node_type.display](node, node_type)
                layout.addWidget(self._panels[node.id])
        if not self._panels:
            layout.addWidget(QtWidgets.QLabel("No learning views in this graph: add a "
                                              "view.network, view.blame, view.fit... node."))
        layout.addStretch(1)
        self.setWidget(box)

    def _poll(self) -> None:
        if self.seen:
            self.refresh()

    def refresh(self, final: bool = False) -> bool:
        """Redraw every panel if the run moved, at most every REDRAW_S unless `final`."""
        executor = self.executor()
        now = time.monotonic()
        if executor is None or not self.panels or (not final and now - self._drawn < REDRAW_S):
            return False
        seen = (id(executor), executor.steps)
        if seen == self._seen:
            return False
        self._seen, self._drawn = seen, now
        for node_id, panel in self.panels.items():
            try:
                panel.draw(wired(executor, node_id), executor)
            except (KeyError, ValueError, IndexError, TypeError) as exc:
                panel.show_error(str(exc) or "nothing to show yet")
        return True


def wired(executor, node_id: str) -> dict:
    """The values on a view's wired inputs, by port (those not yet computed left out)."""
    call = executor.plan.calls.get(node_id)
    if call is None:
        raise KeyError("not in this run: run it again")
    out = {}
    for port, source in zip(call.type.inputs, call.sources):
        if source is not None:
            value = executor.input_value(node_id, port.name)
            if value is not None:
                out[port.name] = value
    return out
