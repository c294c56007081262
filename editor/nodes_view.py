"""How one runtime node looks on the canvas: ports coloured by kind, a status frame, widgets.

There is a single NodeGraphQt class, GradNode; its ports, colour and widgets come from our
NodeType (or, for a placeholder, from the node's edges). Its `uid` property holds our node id,
because NodeGraphQt's own ids change on every load (trap 3). Status is painted by a child frame
with cached pens, so it never touches NodeGraphQt's undo stack or properties (trap 3).
"""
from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from .compat import BaseNode, NodeBaseWidget
from .lod import ReadableNodeItem

PORT_COLOURS = {"array": (90, 160, 230), "scalar": (240, 170, 60), "any": (170, 170, 170)}
DELAYED_COLOUR = (200, 110, 220)
CATEGORY_COLOURS = {  # header colour by the type id's prefix
    "data": (46, 92, 72), "input": (120, 90, 30), "param": (110, 60, 110), "nn": (40, 70, 120),
    "optim": (130, 60, 50), "metric": (50, 100, 110), "view": (70, 70, 80),
}
PLACEHOLDER_COLOUR = (85, 85, 85)
STATUS_PENS = {
    "idle": QtGui.QPen(QtCore.Qt.PenStyle.NoPen),
    "ran": QtGui.QPen(QtGui.QColor(80, 200, 120), 3),
    "running": QtGui.QPen(QtGui.QColor(255, 210, 60), 4),
    "error": QtGui.QPen(QtGui.QColor(235, 60, 60), 4),
}


class GradNode(BaseNode):
    """Every Gradhopper node on the canvas; what it shows is set up by `dress`."""

    __identifier__ = "gradhopper"
    NODE_NAME = "node"

    def __init__(self):
        super().__init__(ReadableNodeItem)  # its titles stay readable zoomed out (lod.py)
        self.create_property("uid", "")


def category_colour(type_id: str, placeholder: bool) -> tuple[int, int, int]:
    if placeholder:
        return PLACEHOLDER_COLOUR
    return CATEGORY_COLOURS.get(type_id.split(".")[0], (60, 60, 60))


def dress(view_node: GradNode, inputs, outputs) -> None:
    """Add ports: `inputs`/`outputs` are (name, kind, delayed) triples. The node item lays
    itself out once at the end, not once per port as NodeGraphQt does (a third of an open)."""
    item = view_node.view
    item.post_init = lambda *args: None
    try:
        for name, kind, delayed in inputs:
            colour = DELAYED_COLOUR if delayed else PORT_COLOURS.get(kind, PORT_COLOURS["any"])
            view_node.add_input(name, multi_input=False, color=colour)
        for name, kind, _ in outputs:
            view_node.add_output(name, multi_output=True,
                                 color=PORT_COLOURS.get(kind, PORT_COLOURS["any"]))
    finally:
        del item.post_init
    item.draw_node()
    item._text_item.set_locked(True)  # ids are renamed in the inspector, not on the canvas


class StatusFrame(QtWidgets.QGraphicsRectItem):
    """A frame around the node in its status colour, and the error message under it."""

    def __init__(self, node_item):
        super().__init__(node_item)
        self.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setZValue(-1)
        self.status = "idle"
        self.setPen(STATUS_PENS["idle"])
        self._message = QtWidgets.QGraphicsSimpleTextItem(node_item)
        self._message.setBrush(QtGui.QColor(255, 120, 120))
        self._message.hide()
        self.fit()

    def fit(self) -> None:
        rect = self.parentItem().boundingRect().adjusted(-3, -3, 3, 3)
        self.setRect(rect)
        self._message.setPos(rect.left(), rect.bottom() + 4)

    def set_status(self, status: str, message: str = "") -> None:
        if status != self.status:
            self.status = status
            self.setPen(STATUS_PENS[status])
        if message:
            self._message.setText(_wrap(message, 48))
            self._message.show()
        elif self._message.isVisible():
            self._message.hide()


def _wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])


class SliderWidget(NodeBaseWidget):
    """The slider of an `input.number` node.

    It emits `moved(value, merge_key)` itself instead of `value_changed`, so that NodeGraphQt
    pushes no undo entry per tick (trap 5); the canvas turns it into one merged parameter edit.
    """

    def __init__(self, parent=None, low=0.0, high=1.0, step=0.01, value=0.0):
        super().__init__(parent, name="slider", label="")
        box = QtWidgets.QWidget()
        layout = QtWidgets.QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(110)
        self.label = QtWidgets.QLabel()
        self.label.setMinimumWidth(42)
        self.label.setStyleSheet("color: #eee;")
        layout.addWidget(self.slider)
        layout.addWidget(self.label)
        self.set_custom_widget(box)
        self.listener = None  # callable(value, merge_key)
        self._drag = 0
        self.configure(low, high, step, value)
        self.slider.sliderPressed.connect(self._pressed)
        self.slider.valueChanged.connect(self._ticked)

    def configure(self, low: float, high: float, step: float, value: float) -> None:
        self.low, self.step = float(low), float(step) if step > 0 else 0.01
        ticks = max(1, round((float(high) - self.low) / self.step))
        self.slider.blockSignals(True)
        self.slider.setRange(0, int(ticks))
        self.slider.blockSignals(False)
        self.set_value(value)

    def _pressed(self) -> None:
        self._drag += 1

    def _ticked(self, tick: int) -> None:
        value = self._value_at(tick)
        self.label.setText(f"{value:g}")
        if self.listener is not None:
            key = ("drag", self._drag) if self.slider.isSliderDown() else None
            self.listener(value, key)

    def _value_at(self, tick: int) -> float:
        return round(self.low + tick * self.step, 12)

    def get_value(self):
        return self._value_at(self.slider.value())

    def set_value(self, value) -> None:
        tick = round((float(value) - self.low) / self.step)
        self.slider.blockSignals(True)
        self.slider.setValue(int(tick))
        self.slider.blockSignals(False)
        self.label.setText(f"{float(value):g}")


class ValueWidget(NodeBaseWidget):
    """The last value on a `view.value` node, as text."""

    def __init__(self, parent=None):
        super().__init__(parent, name="shown", label="")
        self.label = QtWidgets.QLabel("-")
        self.label.setStyleSheet("color: #eee; font-family: monospace;")
        self.label.setMinimumWidth(140)
        self.set_custom_widget(self.label)

    def get_value(self):
        return ""

    def set_value(self, text) -> None:
        if self.label.text() != text:
            self.label.setText(text)


def embed(view_node: GradNode, widget: NodeBaseWidget) -> None:
    """Put a widget on the node without a property or an undo entry (trap 5)."""
    widget._node = view_node
    view_node.view.add_widget(widget)
    view_node.view.draw_node()
    widget.parent()


class DebugMarks:
    """A node's debugger marks, drawn as child items (view only: no property, no undo entry):
    a red dot for a breakpoint and a cyan frame for the node that runs next."""

    DOT = 12.0

    def __init__(self, node_item):
        self.dot = QtWidgets.QGraphicsEllipseItem(0, 0, self.DOT, self.DOT, node_item)
        self.dot.setBrush(QtGui.QColor(230, 40, 40))
        self.dot.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 1.5))
        self.dot.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.dot.setZValue(5)
        self.dot.hide()
        self.next = QtWidgets.QGraphicsRectItem(node_item)
        self.next.setPen(QtGui.QPen(QtGui.QColor(60, 220, 255), 3, QtCore.Qt.PenStyle.DashLine))
        self.next.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        self.next.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.next.hide()

    @classmethod
    def of(cls, node_item) -> "DebugMarks":
        marks = getattr(node_item, "_debug_marks", None)
        if marks is None:
            marks = node_item._debug_marks = cls(node_item)
        return marks

    def set_break(self, on: bool) -> None:
        if on:
            rect = self.dot.parentItem().boundingRect()
            self.dot.setPos(rect.left() - self.DOT / 2, rect.top() - self.DOT / 2)
        self.dot.setVisible(on)

    def set_next(self, on: bool) -> None:
        if on:
            self.next.setRect(self.next.parentItem().boundingRect().adjusted(-7, -7, 7, 7))
        self.next.setVisible(on)


SLIDER_PARAMS = ("value", "min", "max", "step")
MAX_TICKS = 1_000_000  # a range of more steps than this (max 1e300) moves in coarser ones


def slider_params(nt, node) -> dict:
    """The slider's range and value; a value the inspector would refuse shows as the default."""
    p = {**nt.defaults(), **node.params}
    for key in SLIDER_PARAMS:
        if isinstance(p[key], bool) or not isinstance(p[key], (int, float)) \
                or not math.isfinite(p[key]):
            p[key] = nt.param(key).default
    if p["step"] > 0 and (p["max"] - p["min"]) / p["step"] > MAX_TICKS:  # QSlider takes an int
        p["step"] = (p["max"] - p["min"]) / MAX_TICKS
    return p
