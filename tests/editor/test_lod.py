"""Zoomed out, titles stay readable (editor/lod.py): measured on what the paint code drew and on
the pixels of the viewport."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui

from gradhopper.editor import lod
from gradhopper.editor.lod import READABLE_SCALE

SAMPLES = Path(__file__).resolve().parents[2] / "sample_graphs"
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"


def fit_all(window, qtbot):
    """The seeds sample in a 1600x1000 window, after F; returns the view's scale."""
    window.resize(1600, 1000)
    assert window.open_file(SAMPLES / "wheat_seeds.json")
    canvas, viewer = window.canvas, window.canvas.viewer
    qtbot.waitUntil(lambda: canvas.scale() >= READABLE_SCALE - 0.01)  # the open's queued view
    viewer.setFocus()
    qtbot.keyClick(viewer, QtCore.Qt.Key.Key_F)
    assert canvas.scale() < READABLE_SCALE
    viewer.viewport().repaint()
    return canvas.scale()


def shown(title) -> str:
    return "".join(text for _, _, text in title.lines)


def bright_pixels(image: QtGui.QImage, rect: QtCore.QRect, colour: QtGui.QColor) -> int:
    """Pixels in `rect` within 60 of `colour` on each channel: the title's glyphs (the box is
    in a dark category colour, its border lighter, wires under it)."""
    count = 0
    for y in range(rect.top(), rect.bottom() + 1, 1):
        for x in range(rect.left(), rect.right() + 1):
            pixel = image.pixelColor(x, y)
            if max(abs(pixel.red() - colour.red()), abs(pixel.green() - colour.green()),
                   abs(pixel.blue() - colour.blue())) < 60:
                count += 1
    return count


def test_at_fit_all_every_title_is_drawn_whole_at_least_10_px_high_and_can_be_seen(window, qtbot):
    scale = fit_all(window, qtbot)
    viewer = window.canvas.viewer
    image = viewer.viewport().grab().toImage()
    for node_id, view in window.canvas.views.items():
        item = view.view
        title = item.drawn_title
        assert title is not None, node_id
        assert title.pixel_size * scale >= 10, node_id
        text = shown(title)
        assert text == node_id  # whole, in the box or past its sides
        on_screen = viewer.mapFromScene(item.sceneBoundingRect()).boundingRect()
        glyphs = bright_pixels(image, on_screen.adjusted(3, 3, -3, -3),
                               lod.text_colour(item.color))
        assert glyphs >= 20, (node_id, glyphs)  # a word of 10 px glyphs, not a stray pixel
    for backdrop in window.canvas.backdrops:
        title = backdrop.view.drawn_title
        assert title is not None and title.pixel_size * scale >= 10, backdrop.title
        assert backdrop.title.startswith(shown(title).rstrip(ELLIPSIS))


def test_zoomed_out_ports_and_widgets_are_see_through_but_wires_stay(window, qtbot):
    fit_all(window, qtbot)
    canvas = window.canvas
    item = canvas.views["hidden"].view
    assert all(port.opacity() == 0.0 and port.isVisible() for port in item.inputs + item.outputs)
    assert item._text_item.opacity() == 0.0
    slider = canvas.sliders["learning_rate"]
    assert slider.opacity() == 0.0
    assert slider.acceptedMouseButtons() == QtCore.Qt.MouseButton.NoButton  # clicks go to the node
    x, y = item.xy_pos
    item.xy_pos = [x + 20.0, y]  # a wire to a hidden port would hide itself as it is redrawn
    pipes = [p for port in item.inputs + item.outputs for p in port.connected_pipes]
    assert pipes and all(p.isVisible() for p in pipes)


def test_above_the_readable_scale_the_normal_paint_comes_back(window, qtbot):
    fit_all(window, qtbot)
    canvas, viewer = window.canvas, window.canvas.viewer
    canvas.show_start()
    assert canvas.scale() >= READABLE_SCALE - 0.01
    viewer.viewport().repaint()
    seen = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    painted = [v.view for v in canvas.views.values()
               if seen.intersects(v.view.sceneBoundingRect())]
    assert len(painted) >= 5
    for item in painted:
        assert item.drawn_title is None  # NodeGraphQt's own paint
        assert item._text_item.opacity() == 1.0 and not item._proxy_mode
        assert all(port.opacity() == 1.0 for port in item.inputs + item.outputs)
    around = QtCore.QRectF(viewer.viewport().rect())  # an item switches back when painted
    around.moveCenter(canvas.views["learning_rate"].view.sceneBoundingRect().center())
    viewer.set_scene_rect([around.x(), around.y(), around.width(), around.height()])
    assert canvas.scale() >= READABLE_SCALE
    viewer.viewport().repaint()
    slider = canvas.sliders["learning_rate"]
    assert slider.opacity() == 1.0
    assert slider.acceptedMouseButtons() == QtCore.Qt.MouseButton.LeftButton \
        | QtCore.Qt.MouseButton.RightButton | QtCore.Qt.MouseButton.MiddleButton \
        | QtCore.Qt.MouseButton.BackButton | QtCore.Qt.MouseButton.ForwardButton  # Qt's default


def test_a_zoom_change_makes_and_drops_no_items(window, qtbot):
    window.resize(1600, 1000)
    assert window.open_file(SAMPLES / "wheat_seeds.json")
    canvas, viewer = window.canvas, window.canvas.viewer
    qtbot.waitUntil(lambda: canvas.scale() >= READABLE_SCALE - 0.01)
    viewer.viewport().repaint()
    before = set(viewer.scene().items())
    for _ in range(2):
        canvas.fit()
        viewer.viewport().repaint()
        canvas.show_start()
        viewer.viewport().repaint()
    assert set(viewer.scene().items()) == before


def test_a_title_wraps_after_underscores_and_elides_what_does_not_fit(qapp):
    size = 30
    metrics = QtGui.QFontMetricsF(lod.title_font(size))
    room = 160 - 2 * lod.PAD_EM * size
    two = lod.title_lines("output_gradient", size, 160.0, 2.2 * metrics.lineSpacing())
    assert [text for _, _, text in two.lines] == ["output_", "gradient"]
    one = lod.title_lines("output_gradient", size, 160.0, 1.5 * metrics.lineSpacing())
    (x, _, text), = one.lines
    assert text.endswith(ELLIPSIS) and "output_gradient".startswith(text[:-1]) and one.elided
    assert metrics.horizontalAdvance(text) <= room and x >= lod.PAD_EM * size - 1
    tiny = lod.title_lines("W1", size, 160.0, 1.0)  # never less than one line
    assert [text for _, _, text in tiny.lines] == ["W1"]
    for text, scale in (("", 0.5), ("x" * 200, 0.5), ("x" * 200, 0.01)):  # no exception: one
        title = lod.node_title(text, scale, 160.0, 60.0)      # raised in a paint is a crash
        assert title.lines and all(len(text) < 30 for _, _, text in title.lines)


def test_a_title_past_its_box_follows_its_node_and_leaves_with_it(window, qtbot):
    """The title that reaches past a box is drawn by an item of its own, not the node's child
    (a fit and a backdrop go round the node's own rectangle): it moves and goes with it."""
    fit_all(window, qtbot)
    canvas = window.canvas
    item = canvas.views["output_gradient"].view
    title = item._title
    assert title.scene() is item.scene()
    assert title not in item.childItems() and title.parentItem() is None
    drawn = item.drawn_title  # past the box: to its left, or above it
    ascent = QtGui.QFontMetricsF(lod.title_font(drawn.pixel_size)).ascent()
    assert drawn.lines[0][0] < 0 or drawn.lines[0][1] - ascent < 0
    x, y = item.xy_pos
    item.xy_pos = [x + 40.0, y + 10.0]
    assert title.pos() == item.pos()
    assert canvas.viewer.scene().items(item.sceneBoundingRect().center())[0] is not title
    scene = item.scene()
    scene.removeItem(item)
    assert title.scene() is None
