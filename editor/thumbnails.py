"""Thumbnails: a small live preview of each node's output on the canvas, so the whole algorithm
can be watched at once: a number, a sparkline of a scalar over the epochs, a tiny heatmap.

Each is a child item of its node's item, drawn from a few numbers it keeps (view only: no
NodeGraphQt property, no undo entry, trap 3). `refresh(executor)` is throttled as the plots are
(plots.REDRAW_S) and redraws only when the run has moved. On by default for graphs under
AUTO_LIMIT nodes; View ▸ Thumbnails turns them on or off for any graph.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from gradhopper.runtime.graph import Endpoint

from .plots import REDRAW_S
from .values import short

AUTO_LIMIT = 100  # nodes
SIZE = QtCore.QSizeF(96.0, 26.0)  # scene px, above the node's title
CELLS = 24  # a heatmap shows at most this many rows and columns (evenly picked)
LINE = QtGui.QColor(79, 195, 247)
TEXT = QtGui.QColor(230, 230, 230)


class Thumbnail(QtWidgets.QGraphicsItem):
    """One node's preview: `kind` is "number", "sparkline" or "heatmap"; what it draws is kept
    as plain data (text, points, cells) that a test can read."""

    def __init__(self, node_item):
        super().__init__(node_item)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setPos(0.0, -SIZE.height() - 4.0)
        self.kind, self.text = "", ""
        self.points: np.ndarray = np.zeros((0, 2))  # x, y in 0..1 (y up)
        self.cells: np.ndarray = np.zeros((0, 0))  # the picked values
        self._image: QtGui.QImage | None = None

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF(QtCore.QPointF(0, 0), SIZE)

    def show_number(self, text: str) -> None:
        self.kind, self.text, self._image = "number", text, None
        self.update()

    def show_series(self, ys: np.ndarray) -> None:
        ys = ys[np.isfinite(ys)]
        low, span = (ys.min(), np.ptp(ys)) if ys.size else (0.0, 0.0)
        xs = np.linspace(0.0, 1.0, ys.size) if ys.size > 1 else np.zeros(ys.size)
        self.points = np.column_stack([xs, (ys - low) / span if span > 0 else ys * 0 + 0.5])
        self.kind, self.text, self._image = "sparkline", f"{ys[-1]:.4g}" if ys.size else "", None
        self.update()

    def show_matrix(self, value: np.ndarray) -> None:
        grid = np.atleast_2d(value.astype(np.float64))
        rows = np.unique(np.linspace(0, grid.shape[0] - 1, min(CELLS, grid.shape[0])).astype(int))
        cols = np.unique(np.linspace(0, grid.shape[1] - 1, min(CELLS, grid.shape[1])).astype(int))
        self.cells = grid[np.ix_(rows, cols)]
        finite = self.cells[np.isfinite(self.cells)]
        low, span = (finite.min(), np.ptp(finite)) if finite.size else (0.0, 0.0)
        grey = np.nan_to_num((self.cells - low) / span if span > 0 else self.cells * 0 + 0.5)
        rgb = np.zeros(grey.shape + (4,), np.uint8)  # dark blue to yellow
        rgb[..., 0] = (grey * 250).astype(np.uint8)
        rgb[..., 1] = (40 + grey * 190).astype(np.uint8)
        rgb[..., 2] = (120 - grey * 90).astype(np.uint8)
        rgb[..., 3] = 255
        self._pixels = np.ascontiguousarray(rgb)  # QImage reads this buffer: keep it alive
        h, w = grey.shape
        self._image = QtGui.QImage(self._pixels.data, w, h, 4 * w,
                                   QtGui.QImage.Format.Format_RGBA8888)
        self.kind, self.text = "heatmap", str(value.shape)
        self.update()

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        rect = self.boundingRect()
        painter.fillRect(rect, QtGui.QColor(20, 21, 24, 220))
        if self.kind == "heatmap" and self._image is not None:
            painter.drawImage(rect.adjusted(1, 1, -40, -1), self._image)
            painter.setPen(TEXT)
            painter.drawText(rect.adjusted(0, 0, -2, 0), QtCore.Qt.AlignmentFlag.AlignRight
                             | QtCore.Qt.AlignmentFlag.AlignVCenter, self.text)
        elif self.kind == "sparkline" and len(self.points):
            area = rect.adjusted(2, 3, -44, -3)
            line = QtGui.QPolygonF([QtCore.QPointF(area.left() + x * area.width(),
                                                   area.bottom() - y * area.height())
                                    for x, y in self.points])
            painter.setPen(QtGui.QPen(LINE, 1.5))
            painter.drawPolyline(line)
            painter.setPen(TEXT)
            painter.drawText(rect.adjusted(0, 0, -2, 0), QtCore.Qt.AlignmentFlag.AlignRight
                             | QtCore.Qt.AlignmentFlag.AlignVCenter, self.text)
        elif self.kind == "number":
            painter.setPen(TEXT)
            painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, self.text)


class Thumbnails:
    """The canvas's thumbnails: one per node with a value, kept in step with the run."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.items: dict[str, Thumbnail] = {}
        self.chosen: bool | None = None  # the View menu's choice; None: by the graph's size
        self._seen = None
        self._drawn = 0.0

    def visible(self) -> bool:
        graph = self.canvas.graph
        if self.chosen is not None:
            return self.chosen
        return graph is not None and len(graph.nodes) < AUTO_LIMIT

    def set_visible(self, on: bool) -> None:
        self.chosen = on
        for item in self.items.values():
            item.setVisible(on)
        self._seen = None
        self.refresh(self.canvas.executor(), final=True)

    def clear(self) -> None:
        """The scene was rebuilt (its items went with it)."""
        self.items, self._seen = {}, None

    def refresh(self, executor, final: bool = False) -> bool:
        now = time.monotonic()
        if executor is None or not self.visible() or (not final and now - self._drawn < REDRAW_S):
            return False
        self._drawn = now
        seen = (id(executor), len(executor.history), executor.steps)
        if seen == self._seen:
            return False
        self._seen = seen
        history = executor.history[:]
        for node_id, view in list(self.canvas.views.items()):
            value, key = _value(executor, node_id)
            if value is None:
                continue
            item = self.items.get(node_id)
            if item is None or item.parentItem() is not view.view:
                item = self.items[node_id] = Thumbnail(view.view)
            _draw(item, value, [h[key] for h in history if key in h])
        return True


def _value(executor, node_id: str):
    """The value a node's thumbnail shows (its first output; a view's input) and its key in
    the history, or (None, "") when it has none yet."""
    call = executor.plan.calls.get(node_id)
    if call is None:
        return None, ""
    try:
        if call.role == "view":
            port = call.type.inputs[0].name
            return executor.input_value(node_id, port), f"{node_id}.{port}"
        port = call.type.outputs[0].name
        return executor.value(Endpoint(node_id, port)), f"{node_id}.{port}"
    except (KeyError, ValueError, IndexError):
        return None, ""


def _draw(item: Thumbnail, value, series: list) -> None:
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size > 1 \
            and value.ndim <= 2:
        item.show_matrix(value)
    elif len(series) > 1:
        item.show_series(np.asarray(series, dtype=np.float64))
    else:
        item.show_number(short(value))
