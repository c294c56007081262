"""Level of detail: titles that can be read when the canvas is zoomed out.

Below READABLE_SCALE, NodeGraphQt's 9 pt titles shrink to a few pixels, and once a node is
under 70 px on screen its proxy mode hides them. There a node is drawn instead as a box in its
category colour, its title in a font scaled inversely with the zoom (TITLE_PX high on screen),
wrapped at `_` `.` `-`; a title the box cannot hold reaches past its sides (OVERFLOW, on a band
in the box's colour, drawn by an item of its own) before it is elided. Its ports, port names,
title item and widgets are made transparent, not hidden: a wire hides itself when one of its
ports is hidden, and a hidden port name or widget would change the node's size at its next
layout. Wires are still drawn.

Cost: node items are cached in device coordinates (NodeGraphQt's ITEM_CACHE_MODE), so a zoom
paints each node in view once (the few with widgets twice as they cross back), and a repaint at
the same zoom paints none; no item is made or dropped, the children's opacity changes only when
a node crosses the threshold, and a title's layout is kept per font size (one per zoom step,
found again when zooming back). Backdrops get the same treatment for their titles. Nothing here
may raise: an exception in a paint called from Qt ends the process.
"""
from __future__ import annotations

import functools
import math
import re
from typing import NamedTuple

from PySide6 import QtCore, QtGui, QtWidgets

from .compat import BackdropNodeItem, NodeItem

READABLE_SCALE = 0.85  # the least zoom at which titles and port names (9 pt) can be read
SLACK = 0.02  # a view fitted to READABLE_SCALE lands up to 0.01 under it (QGraphicsView margins)
TITLE_PX = 11  # on-screen size of a title's font when zoomed out...
LEAST_TITLE_PX = 10  # ...or this, if TITLE_PX elides it and this shows more of it
OVERFLOW = 40.0  # scene px a title that its box cannot hold may reach past each side of it,
OVERFLOW_Y = 30.0  # and above and below it: under half the layout's gaps between columns and
# between the nodes of a column (runtime.layout's COLUMN_GAP, ROW_GAP), so titles never meet
BACKDROP_PX = 13
PAD_EM = 0.27  # padding each side of a title, in its font's size (3 px at TITLE_PX)
SELECTED_BORDER = (254, 207, 42)  # NodeGraphQt's
_BREAKS = re.compile(r"([_.\-/])")
_ZWSP = "\u200b"  # a break opportunity after each of those, for the text layout
_ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
_NOTHING = QtCore.Qt.MouseButton.NoButton


class Title(NamedTuple):
    """A title as drawn: its font's pixel size (scene px) and its lines, each (x, baseline y,
    text) from the top left of its box."""
    pixel_size: int
    lines: tuple[tuple[float, float, str], ...]

    @property
    def elided(self) -> bool:
        return bool(self.lines) and self.lines[-1][2].endswith(_ELLIPSIS)


def view_scale(painter: QtGui.QPainter) -> float:
    """The zoom the item is being drawn at, whichever view (or image) draws it."""
    return QtWidgets.QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())


def pixel_size(on_screen_px: float, scale: float) -> int:
    """The font size (scene px) that is at least `on_screen_px` high at `scale`."""
    return max(1, math.ceil(on_screen_px / scale))


@functools.lru_cache(maxsize=256)
def title_font(size: int) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPixelSize(size)
    font.setBold(True)
    font.setStretch(QtGui.QFont.Stretch.Condensed)
    return font


def text_colour(rgb) -> QtGui.QColor:
    """White on a dark box, near black on a light one (relative luminance, as WCAG has it)."""
    def linear(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    lum = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    return QtGui.QColor(255, 255, 255) if lum < 0.18 else QtGui.QColor(20, 20, 20)


@functools.lru_cache(maxsize=8192)
def title_lines(text: str, size: int, width: float, height: float) -> Title:
    """`text` in a `size` px font, wrapped to a `width` x `height` box less its padding, in as
    many lines as the height holds (at least one), the last elided if the rest does not fit;
    centred."""
    font = title_font(size)
    metrics = QtGui.QFontMetricsF(font)
    room = width - 2 * PAD_EM * size
    breakable = _BREAKS.sub(r"\1" + _ZWSP, text)
    layout = QtGui.QTextLayout(breakable, font)
    option = QtGui.QTextOption()
    option.setWrapMode(QtGui.QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    step = metrics.lineSpacing()
    most = max(1, int(height // step))
    starts = []
    layout.beginLayout()
    while len(starts) < most:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(room)
        starts.append(line.textStart())
    layout.endLayout()
    ends = starts[1:] + [len(breakable)]
    pieces = [breakable[a:b].replace(_ZWSP, "") for a, b in zip(starts, ends)]
    if pieces and metrics.horizontalAdvance(pieces[-1]) > room:
        pieces[-1] = metrics.elidedText(pieces[-1], QtCore.Qt.TextElideMode.ElideRight, room)
    top = (height - len(pieces) * step) / 2 + metrics.ascent()
    return Title(size, tuple(((width - metrics.horizontalAdvance(p)) / 2, top + i * step, p)
                             for i, p in enumerate(pieces)))


def node_title(text: str, scale: float, width: float, height: float) -> Title:
    """A node's title at `scale`, from its box's top left: TITLE_PX on screen, or
    LEAST_TITLE_PX if that shows more; in the box if it fits, else reaching up to OVERFLOW
    past each side of it and OVERFLOW_Y above and below; lines broken after `_` `.` `-` `/`
    rather than inside a word, where that fits."""
    best, broken = None, None
    for dx, dy in ((0.0, 0.0), (OVERFLOW, OVERFLOW_Y)):
        for px in (TITLE_PX, LEAST_TITLE_PX):
            title = title_lines(text, pixel_size(px, scale), width + 2 * dx, height + 2 * dy)
            title = title._replace(lines=tuple((x - dx, y - dy, t) for x, y, t in title.lines))
            if not title.elided:
                if all(_BREAKS.search(t[-1:]) for _, _, t in title.lines[:-1]):
                    return title
                broken = broken or title  # whole, but a word split across lines
            elif best is None or len(title.lines) > len(best.lines):
                best = title
    return broken or best


def _draw_title(painter: QtGui.QPainter, title: Title, at: QtCore.QPointF,
                colour: QtGui.QColor) -> None:
    painter.setFont(title_font(title.pixel_size))
    painter.setPen(colour)
    for x, y, text in title.lines:
        painter.drawText(QtCore.QPointF(at.x() + x, at.y() + y), text)


def _border(rgb, selected: bool) -> QtGui.QPen:
    colour = QtGui.QColor(*SELECTED_BORDER) if selected else QtGui.QColor(*rgb[:3]).lighter(160)
    pen = QtGui.QPen(colour, 2.0 if selected else 1.0)
    pen.setCosmetic(True)  # as thick on screen at any zoom
    return pen


class ReadableNodeItem(NodeItem):
    """NodeGraphQt's node item; below READABLE_SCALE a coloured box with a readable title.

    `drawn_title` is the Title of its last simplified paint, None after a normal one."""

    drawn_title: Title | None = None
    _simplified: tuple[bool, int] | None = None  # (on, how many parts it was applied to)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._buttons = {}  # a widget's own mouse buttons, while it takes none
        self._title = _TitleItem(self)
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)

    def itemChange(self, change, value):
        """The title item follows the node into (and out of) its scene, and as it moves."""
        Change = QtWidgets.QGraphicsItem.GraphicsItemChange
        if change == Change.ItemPositionHasChanged:
            self._title.setPos(self.pos())
        elif change == Change.ItemSceneHasChanged:
            old, new = self._title.scene(), self.scene()
            if old is not new:
                if old is not None:
                    old.removeItem(self._title)
                if new is not None:
                    new.addItem(self._title)
                    self._title.setPos(self.pos())
        return super().itemChange(change, value)

    def paint(self, painter, option, widget):
        scale = view_scale(painter)
        simplified = scale < READABLE_SCALE - SLACK
        self._simplify(simplified)
        if not simplified:
            self.drawn_title = None
            super().paint(painter, option, widget)
            return
        rect = self.boundingRect()
        rgb = self.color
        painter.save()
        painter.setPen(_border(rgb, self.selected))
        painter.setBrush(QtGui.QColor(*rgb[:3]))
        painter.drawRoundedRect(rect.adjusted(1.0, 1.0, -1.0, -1.0), 4.0, 4.0)
        title = node_title(self.name, scale, rect.width(), rect.height())
        painter.restore()
        if title != self.drawn_title:  # its title item draws it (on a repaint of the node
            self.drawn_title = title  # alone, too)
            self._title.update()

    def draw_node(self):
        super().draw_node()
        self._title.fit()

    def _simplify(self, on: bool) -> None:
        """Make the parts the box stands for transparent (on) or opaque again; a node that
        gained a port or a widget while zoomed out has it applied too."""
        parts = [self._text_item, self._icon_item, *self._input_items.keys(),
                 *self._input_items.values(), *self._output_items.keys(),
                 *self._output_items.values(), *self._widgets.values()]
        if self._simplified == (on, len(parts)) or (self._simplified is None and not on):
            return
        self._simplified = (on, len(parts))
        for part in parts:
            part.setOpacity(0.0 if on else 1.0)
        for widget in self._widgets.values():  # a click meant for the node is not a slider's
            if on:
                self._buttons[widget] = self._buttons.get(widget, widget.acceptedMouseButtons())
            widget.setAcceptedMouseButtons(
                _NOTHING if on else self._buttons.pop(widget, widget.acceptedMouseButtons()))


class _TitleItem(QtWidgets.QGraphicsItem):
    """A zoomed-out node's title, drawn over the node and up to OVERFLOW past its sides (the
    node's own paint is cached in, and clipped to, its box): where the title leaves the box it
    sits on a band in the node's colour. Not the node's child, so that the node's bounding
    rectangle with its children (what a fit or a backdrop goes round) stays its own; it takes
    no clicks, hovers or room in item lookups."""

    def __init__(self, node: ReadableNodeItem):
        super().__init__()
        self.node = node
        self._rect = QtCore.QRectF()
        self.setZValue(node.zValue() + 2)  # over the nodes, a selected one too
        self.setAcceptedMouseButtons(_NOTHING)
        self.setAcceptHoverEvents(False)

    def fit(self) -> None:
        """Follow the node's size (its layout calls this)."""
        rect = self.node.boundingRect().adjusted(-OVERFLOW, -OVERFLOW_Y, OVERFLOW, OVERFLOW_Y)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect

    def boundingRect(self) -> QtCore.QRectF:
        return self._rect

    def shape(self) -> QtGui.QPainterPath:
        return QtGui.QPainterPath()

    def paint(self, painter, option, widget):
        node = self.node
        title = node.drawn_title
        if title is None or not node.isVisible() or view_scale(painter) >= READABLE_SCALE - SLACK:
            return
        box = node.boundingRect()
        font = title_font(title.pixel_size)
        metrics = QtGui.QFontMetricsF(font)
        rgb = node.color
        painter.save()
        pad = PAD_EM * title.pixel_size
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(*rgb[:3]))
        for x, y, text in title.lines:
            width = metrics.horizontalAdvance(text)
            if x < pad or x + width > box.width() - pad or y - metrics.ascent() < 0 \
                    or y + metrics.descent() > box.height():  # past the box: a band behind it
                painter.drawRoundedRect(QtCore.QRectF(
                    box.left() + x - pad, box.top() + y - metrics.ascent() - pad / 2,
                    width + 2 * pad, metrics.height() + pad), 3.0, 3.0)
        _draw_title(painter, title, box.topLeft(), text_colour(rgb))
        painter.restore()


_backdrop_paint = BackdropNodeItem.paint


def _paint_backdrop(self, painter, option, widget) -> None:
    """A backdrop below READABLE_SCALE: its title in a band as high as a readable font needs
    (its members, drawn above it, may cover the band's lower edge)."""
    scale = view_scale(painter)
    if scale >= READABLE_SCALE - SLACK:
        self.drawn_title = None
        _backdrop_paint(self, painter, option, widget)
        return
    rect = self.boundingRect().adjusted(1.0, 1.0, -1.0, -1.0)
    rgb = self.color
    size = pixel_size(BACKDROP_PX, scale)
    band = QtCore.QRectF(rect.topLeft(), QtCore.QSizeF(rect.width(), min(
        rect.height(), QtGui.QFontMetricsF(title_font(size)).lineSpacing() + PAD_EM * size)))
    painter.save()
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(*rgb[:3], 50))
    painter.drawRect(rect)
    painter.setBrush(QtGui.QColor(*rgb[:3]))
    painter.drawRect(band)
    painter.setPen(_border(rgb, self.selected))
    painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    self.drawn_title = title_lines(self.name, size, band.width(), band.height())
    _draw_title(painter, self.drawn_title, band.topLeft(), text_colour(rgb))
    painter.restore()


BackdropNodeItem.drawn_title = None
BackdropNodeItem.paint = _paint_backdrop  # backdrops are NodeGraphQt's own class, made by name
