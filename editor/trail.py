"""The canvas following a run node by node: the node that ran, its wires lit, their values.

When a run is watched node by node (stepping into nodes, or at a slow pace) each node event
reaches the GUI as a queued signal; the trail lights that node's outgoing wires and writes the
value that just went down each wire beside it, so a person sees one sample go forward and the
deltas come back. A label whose value is not from the current step turns grey and names its
step (as stale values do everywhere). Labels are children of the wire items (view only, no
undo entry), so a wire deleted mid-run takes its label with it. `recent` keeps the last nodes
lit, in order.
"""
from __future__ import annotations

from collections import deque

import shiboken6
from PySide6 import QtGui, QtWidgets

from .values import read, short

LABEL_COLOUR = QtGui.QColor(255, 235, 150)
STALE_COLOUR = QtGui.QColor(140, 140, 140)


class Trail:
    def __init__(self, canvas, executor, debugger):
        self.canvas = canvas
        self.executor = executor  # callables: the run whose values the labels show...
        self.debugger = debugger  # ...and its debugger, which says which are stale
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
            for pipe in port.connected_pipes:
                pipe.highlight()
                self._lit.append(pipe)
                self._labelled.add(pipe)
        self.relabel()

    def relabel(self) -> None:
        """Each labelled wire's value as it is now, grey with its step where it is stale."""
        ex, debugger = self.executor(), self.debugger()
        for pipe in list(self._labelled):
            if not shiboken6.isValid(pipe) or pipe.output_port is None:
                self._labelled.discard(pipe)
                continue
            port = pipe.output_port
            value, stale = read(ex, debugger, self.canvas.uid(port.node), port.name)
            self._label(pipe, short(value) + ("" if stale is None else f" (step {stale})"),
                        STALE_COLOUR if stale is not None else LABEL_COLOUR)

    @staticmethod
    def _label(pipe, text: str, colour) -> None:
        label = getattr(pipe, "_trail_label", None)
        if label is None or not shiboken6.isValid(label):
            label = pipe._trail_label = QtWidgets.QGraphicsSimpleTextItem(pipe)
            label.setZValue(10)
        label.setBrush(colour)
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
