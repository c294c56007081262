"""Why it does not learn, on the canvas: runtime/diagnose.py's one line on the node concerned.

After each epoch the canvas's redraw timer hands the run here (never the worker: the checks read
values the run already holds); before any run, the wiring checks use the inferred shapes. Each
line is a badge under its node, and `notes(graph)` is what the inspector shows for a node.
"""
from __future__ import annotations

import weakref

from PySide6 import QtGui, QtWidgets

from gradhopper.runtime import diagnose

from . import values

BADGE = QtGui.QColor(255, 183, 77)
_NOTES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def notes(graph) -> dict[str, str]:
    """node id -> the line said about it last (empty when all is well)."""
    return _NOTES.get(graph, {})


class Diagnosis:
    def __init__(self, canvas):
        self.canvas = canvas
        self.badges: dict[str, QtWidgets.QGraphicsSimpleTextItem] = {}
        self._watch: diagnose.Watch | None = None
        self._seen = None
        self._wired = False  # the wiring checked since the graph was shown

    def clear(self) -> None:
        """The scene was rebuilt (its items went with it)."""
        self.badges, self._watch, self._seen, self._wired = {}, None, None, False

    def check_wiring(self) -> dict[str, str]:
        g = self.canvas.graph
        if g is None:
            return {}
        found = diagnose.labels(g, self.canvas.registry, values.shapes(g, self.canvas.registry))
        self._show(found)
        return found

    def refresh(self, executor) -> dict[str, str] | None:
        """Run the checks if an epoch has ended since the last call; what they found. With no
        run yet, the wiring checks, once the scene is whole."""
        if self.canvas.graph is None:
            return None
        if executor is None:
            if self._wired or not self.canvas.complete():  # after the idle-time build
                return None
            self._wired = True
            return self.check_wiring()
        seen = (id(executor), len(executor.history))
        if seen == self._seen or not executor.history:
            return None
        if self._watch is None or self._watch.plan is not executor.plan:
            self._watch = diagnose.Watch(executor.plan)
        self._seen = seen
        found = self._watch.epoch(executor.value, executor.history[:])
        self._show(found)
        return found

    def _show(self, found: dict[str, str]) -> None:
        _NOTES[self.canvas.graph] = dict(found)
        for node_id in list(self.badges):
            if node_id not in found:
                self.badges.pop(node_id).setVisible(False)
        for node_id, line in found.items():
            view = self.canvas.views.get(node_id)
            if view is None:
                continue
            badge = self.badges.get(node_id)
            if badge is None or badge.parentItem() is not view.view:
                badge = self.badges[node_id] = QtWidgets.QGraphicsSimpleTextItem(view.view)
                badge.setBrush(BADGE)
            badge.setText("⚠ " + line)
            badge.setPos(0.0, view.view.boundingRect().bottom() + 20.0)
            badge.setVisible(True)
