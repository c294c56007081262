"""Live plots and heatmaps for the view nodes whose type declares display "plot" or "heatmap".

`refresh(executor)` is called by the window's poll timer (at most ~30 times a second); it reads
the executor's per-epoch history and last values and redraws only what changed.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Graph

from .compare import EarlierRuns

REDRAW_S = 0.25
SERIES_COLOURS = ["#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176"]


class PlotPanel(QtWidgets.QWidget):
    """One plot holding every `view.plot` series (per epoch), and a heatmap per matrix view."""

    def __init__(self, registry, parent=None):
        super().__init__(parent)
        self.registry = registry
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.plot = pg.PlotWidget(background="#202124")
        self.plot.setLabel("bottom", "epoch")
        self.plot.enableAutoRange(x=False)  # x is the run's epochs: its axis is drawn once
        self.legend = self.plot.addLegend(offset=(-10, 10))
        layout.addWidget(self.plot, 3)
        self.runs = EarlierRuns(self.plot)  # earlier runs' curves, faded (compare.py)
        layout.addLayout(self._run_buttons())
        self.maps = pg.GraphicsLayoutWidget()
        self.maps.setBackground("#202124")
        layout.addWidget(self.maps, 2)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._graph: Graph | None = None  # whose series are still to be made (fill)
        self.images: dict[str, pg.ImageItem] = {}
        self._seen = (None, -1, -1)
        self._drawn = 0.0  # when the plots were last redrawn
        self._heatmaps: list[str] = []  # the heatmap views' node ids

    def _run_buttons(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        for text, slot in (("Clear earlier runs", self.runs.clear),
                           ("Export PNG…", lambda: self._export("PNG")),
                           ("Export CSV…", lambda: self._export("CSV"))):
            button = QtWidgets.QPushButton(text)
            button.clicked.connect(lambda _=False, f=slot: f())
            row.addWidget(button)
        return row

    def _export(self, kind: str) -> None:
        ext = kind.lower()
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, f"Export the plot as {kind}",
                                                        f"runs.{ext}", f"{kind} (*.{ext})")
        if not path:
            return
        try:
            if kind == "PNG":
                self.runs.export_png(path)
            else:
                self.runs.export_csv(path, self.curves)
        except GradhopperError as exc:
            QtWidgets.QMessageBox.warning(self, "Export", str(exc))

    def shows(self, node) -> str:
        """What this panel draws for `node`: "plot", "heatmap" or ""."""
        return self.registry.get(node.type).display if node.type in self.registry else ""

    @property
    def curves(self) -> dict[str, pg.PlotDataItem]:
        """"node.value" -> its series' curve (made now if they were not yet)."""
        self.fill()
        return self._curves

    def set_graph(self, graph: Graph) -> None:
        """Show `graph`'s plots from the next fill(), which the window calls once the canvas
        has painted its first view, or once a burst of edits is over (a cluster of 400 nodes
        expanded is one rebuild, not one per view node), or when they are first read: a curve
        and its legend entry cost ~1.5 ms, 50 ms for the 32 series of a 500-node graph."""
        self._graph = graph
        self.plot.setXRange(1, max(graph.epochs, 2), padding=0.02)

    def fill(self) -> None:
        """Make the series of the graph given to set_graph, if not made yet."""
        graph, self._graph = self._graph, None
        if graph is None:
            return
        self.plot.clear()
        self.legend.clear()
        self.maps.clear()
        self._curves, self.images = {}, {}
        self.runs.forget()  # plot.clear() took their items
        self._seen = (None, -1, -1)
        self._drawn = 0.0
        self._heatmaps = [n.id for n in graph.nodes.values() if self.shows(n) == "heatmap"]
        self.maps.setVisible(bool(self._heatmaps))
        plots = [n.id for n in graph.nodes.values() if self.shows(n) == "plot"]
        for i, node_id in enumerate(plots):
            pen = pg.mkPen(SERIES_COLOURS[i % len(SERIES_COLOURS)], width=2)
            curve = self.plot.plot([], [], pen=pen, name=node_id)
            curve.setDownsampling(auto=True, method="peak")  # 100,000 epochs draw as smoothly
            curve.setClipToView(True)  # as a few hundred: only what the view's pixels can show
            self._curves[f"{node_id}.value"] = curve

    def _heatmap(self, node_id: str) -> pg.ImageItem:
        """A heatmap's box, made when it first has a value: a PlotItem costs ~60 ms, which
        was a fifth of opening a graph of 16 heatmaps."""
        if node_id not in self.images:
            box = self.maps.addPlot(title=node_id)
            box.setAspectLocked(False)
            box.invertY(True)
            box.hideAxis("left")
            box.hideAxis("bottom")
            image = pg.ImageItem(colorMap=pg.colormap.get("viridis"))
            box.addItem(image)
            self.images[node_id] = image
        return self.images[node_id]

    def refresh(self, executor, final: bool = False) -> bool:
        """Redraw what changed, at most every REDRAW_S while a run goes (a pyqtgraph paint is
        Python, and time the worker waits for), always when `final`. True if it redrew."""
        now = time.monotonic()
        if executor is None or (not final and now - self._drawn < REDRAW_S):
            return False
        self._drawn = now
        self.fill()
        history = executor.history[:]  # the worker appends to it; read a stable copy
        seen = (id(executor), len(history), executor.steps)
        if seen == self._seen:
            return False
        if seen[0] != self._seen[0]:
            self.runs.follow(executor, self.curves)
            self.plot.setXRange(1, max(executor.epochs, 2), padding=0.02)
        if seen[:2] != self._seen[:2]:
            epochs = np.arange(1, len(history) + 1)
            for key, curve in self.curves.items():
                ys = np.array([h.get(key, np.nan) for h in history], dtype=float)
                curve.setData(epochs, ys, skipFiniteCheck=True)
        self._seen = seen
        for node_id in self._heatmaps:
            try:
                value = executor.input_value(node_id, "value")
            except (KeyError, ValueError, IndexError):
                continue
            if isinstance(value, np.ndarray) and value.ndim in (1, 2) and value.size:
                image = self._heatmap(node_id)
                image.setImage(np.atleast_2d(value).T, autoLevels=True)  # rows down, columns across
        return True
