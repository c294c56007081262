"""The canvas following a run node by node: the node that ran, its wires lit, their values.

When a run is watched node by node (stepping into nodes, or at a slow pace) each node event
reaches the GUI as a queued signal; the trail lights that node's outgoing wires and writes the
value that just went down each wire beside it, so a person sees one sample go forward and the
deltas come back. Labels are children of the wire items (view only, no undo entry), so a wire
deleted mid-run takes its label with it. `recent` keeps the last nodes lit, in order.
"""
from __future__ import annotations

from collections import deque

import shiboken6
from PySide6 import QtGui, QtWidgets

from .values import short

LABEL_COLOUR = QtGui.QColor(255, 235, 150)


class Trail:
    def __init__(self, canvas, executor):
        self.canvas = canvas
        self.executor = executor  # callable: the run whose values the labels show
        self.recent: deque[str] = deque(maxlen=512)
        self._lit: list = []  # the wires lit by the last node
        self._labelled: set = set()  # every wire labelled since the trail was cleared

    def node_ran(self, node_id: str) -> None:
        self.recent.append(node_id)
        self._unlight()
        view = self.canvas.views.get(node_id)
        ex = self.executor()
        if view is None or ex is None:
            return
        for port in view.view.outputs:
            value = self._value(ex, node_id, port.name)
            for pipe in port.connected_pipes:
                pipe.highlight()
                self._lit.append(pipe)
                self._label(pipe, value)

    @staticmethod
    def _value(ex, node_id: str, port: str) -> str:
        try:
            return short(ex.value(f"{node_id}.{port}"))
        except (KeyError, ValueError, IndexError):
            return "-"

    def _label(self, pipe, text: str) -> None:
        label = getattr(pipe, "_trail_label", None)
        if label is None or not shiboken6.isValid(label):
            label = pipe._trail_label = QtWidgets.QGraphicsSimpleTextItem(pipe)
            label.setBrush(LABEL_COLOUR)
            label.setZValue(10)
        self._labelled.add(pipe)
        label.setText(text)
        middle = pipe.path().pointAtPercent(0.5)
        label.setPos(middle.x() + 4, middle.y() - 16)
        label.show()

    def _unlight(self) -> None:
        for pipe in self._lit:
            if shiboken6.isValid(pipe):
                pipe.reset()
        self._lit = []

    def clear(self) -> None:
        """The run goes freely, or is gone: no lit wire, no label."""
        self._unlight()
        for pipe in self._labelled:
            label = getattr(pipe, "_trail_label", None) if shiboken6.isValid(pipe) else None
            if label is not None and shiboken6.isValid(label):
                label.hide()
        self._labelled = set()
        self.recent.clear()
