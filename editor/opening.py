"""Opening a graph quickly: what NodeGraphQt does per item that an open can skip, and, for a big
graph, the first view built at once and the rest in idle-time slices.

A graph of LAZY_FROM nodes or more that is too big to show whole at a readable zoom opens on its
top left (canvas.show_start). Only the nodes that can appear in that view are built before the
window paints; once it has painted, IdleBuild builds the others nearest first, a slice of
SLICE_S at a time, so the window answers between slices. Anything that reads the canvas's views
before then finishes the build at once (canvas.views), so the rest of the editor never sees a
half-built scene. Opening is all or nothing: a slice that raises puts the old graph back.
"""
from __future__ import annotations

import contextlib
import gc
import math
import time

from PySide6 import QtCore

from .compat import NodeItem, PortItem

LAZY_FROM = 100  # nodes; a smaller graph is built whole, as one step
SLICE_S = 0.010  # seconds of building per idle-time slice
CHUNK = 4  # nodes built between two looks at the clock


def usable_pos(value) -> list[float] | None:
    """A file's `ui.pos` as two finite floats, or None if it is anything else."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in value):
        return None
    pos = [float(x) for x in value]
    return pos if all(math.isfinite(x) and abs(x) < 1e7 for x in pos) else None


def first_view(graph, size: QtCore.QSizeF, pad: float):
    """(rect, first, rest): the scene rectangle a big graph opens on, `size` scene px at its
    top left less `pad`; the ids of the nodes that can appear in it; the others, nearest first.
    None when the graph is built whole: it is small, its positions fit in `size`, or a node has
    no usable position (placing it needs every other node's size)."""
    if len(graph.nodes) < LAZY_FROM:
        return None
    spots = {}
    for node_id, node in graph.nodes.items():
        pos = usable_pos(node.ui.get("pos") if isinstance(node.ui, dict) else None)
        if pos is None:
            return None
        spots[node_id] = pos
    left = min(x for x, _ in spots.values()) - pad
    top = min(y for _, y in spots.values()) - pad
    right, bottom = max(x for x, _ in spots.values()), max(y for _, y in spots.values())
    if right - left <= size.width() and bottom - top <= size.height():
        return None
    rect = QtCore.QRectF(QtCore.QPointF(left, top), size)
    first = [n for n, (x, y) in spots.items() if x <= rect.right() and y <= rect.bottom()]
    shown = set(first)
    rest = sorted((n for n in spots if n not in shown),
                  key=lambda n: (spots[n][0] - left) ** 2 + (spots[n][1] - top) ** 2)
    return rect, first, rest


def whole(name: str, doc: str) -> property:
    """A canvas table (`name`, an attribute of the canvas) read only once the scene is whole:
    reading it finishes an idle-time build first."""
    def read(canvas):
        canvas.finish_build()
        return getattr(canvas, name)
    return property(read, doc=doc)


class IdleBuild(QtCore.QObject):
    """Calls `step(ids)` on the nodes given to `queue`, a few at a time in idle-time slices once
    `go()` is called, then `done()`; `finish()` does what is left at once. An exception raised by
    a step ends the build: `failed(exc)` is called instead of `done()`."""

    def __init__(self, step, done, failed, parent=None):
        super().__init__(parent)
        self._step, self._done, self._failed = step, done, failed
        self._todo: list = []
        self.active = False
        self._timer = QtCore.QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._slice)

    def queue(self, ids: list) -> None:
        self._timer.stop()
        self._todo, self.active = list(reversed(ids)), True

    def go(self) -> None:
        if self.active:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._todo, self.active = [], False

    def finish(self) -> None:
        if self.active:
            self._timer.stop()
            self._run(math.inf)

    def _slice(self) -> None:
        self._run(time.perf_counter() + SLICE_S)
        if self.active:
            self._timer.start()

    def _run(self, deadline: float) -> None:
        try:
            while self._todo and time.perf_counter() < deadline:
                chunk = [self._todo.pop() for _ in range(min(CHUNK, len(self._todo)))]
                self._step(chunk)
            if not self._todo:
                self.active = False  # before done(): it may read the canvas's views
                self._done()
        except Exception as exc:  # noqa: BLE001 - any bug: the open is undone, not half kept
            self.stop()
            self._failed(exc)


def join(viewer, out, inp) -> None:
    """Wire the output port `out` to the free input `inp`: what Port.connect_to(push_undo=False,
    emit_signal=False) does for a wire our graph has already checked, without its per-wire
    checks (accept/reject lists, locks, acyclic) and two undo commands made to be run once."""
    if inp in out.connected_ports():
        return
    out.model.connected_ports[inp.node().id].append(inp.name())
    inp.model.connected_ports[out.node().id].append(out.name())
    viewer.establish_connection(out.view, inp.view)
    out.view.update()
    inp.view.update()


def union(items) -> QtCore.QRectF:
    """The scene rectangle round `items` and their children: what NodeGraphQt's _combined_rect
    gives, without the item group it builds and destroys for it."""
    rect = QtCore.QRectF()
    for item in items:
        rect = rect.united(item.mapRectToScene(item.boundingRect() | item.childrenBoundingRect()))
    return rect


@contextlib.contextmanager
def building():
    """What NodeGraphQt does per item that a build can skip: per-item tooltips and, for Qt's
    thousands of new wrappers, cycle collections that find nothing to free (its unique-name
    check is off for good: compat.new_node_graph)."""
    with _collector_paused(), _tooltips_unset():
        yield


@contextlib.contextmanager
def layout_deferred():
    """NodeGraphQt lays a node out five times as it is made (init, properties, the scene,
    each port); while a graph is built the canvas does it once per node, after."""
    draw_node = NodeItem.draw_node
    NodeItem.draw_node = lambda self: None
    try:
        yield
    finally:
        NodeItem.draw_node = draw_node


@contextlib.contextmanager
def _tooltips_unset():
    """NodeGraphQt sets a tooltip on every node and port as it is made (7,000 calls for 500
    nodes); the canvas's event filter answers tooltips itself (port_text, node_text)."""
    for cls in (NodeItem, PortItem):
        cls.setToolTip = lambda self, text: None
    try:
        yield
    finally:
        for cls in (NodeItem, PortItem):
            del cls.setToolTip


@contextlib.contextmanager
def _collector_paused():
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
