"""What a new user trips over on the canvas and in the inspector (issue 13, "the canvas first")."""
from __future__ import annotations

import dataclasses
import re

from helpers import SAMPLES
from PySide6 import QtCore, QtGui, QtWidgets

from gradhopper.editor.canvas import NEW_NODE_STEP
from gradhopper.editor.inspector import NOT_SET, parse_shape
from gradhopper.editor.window import MainWindow
from gradhopper.runtime.fileformat import dumps
from gradhopper.runtime.nodetype import NodeType, Param, Port
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import Registry, default_registry


def click(win, node_id: str, modifier=QtCore.Qt.KeyboardModifier.NoModifier) -> None:
    from PySide6.QtTest import QTest

    view = win.canvas.views[node_id].view
    centre = view.mapToScene(QtCore.QPointF(view.boundingRect().width() / 2, 8))  # the title
    at = win.canvas.viewer.mapFromScene(centre)
    QTest.mouseClick(win.canvas.viewer.viewport(), QtCore.Qt.MouseButton.LeftButton, modifier,
                     at)


def test_ctrl_pressed_before_a_dialog_is_not_held_after_it(window, qtbot, boxes):
    window.canvas.add_node("param.tensor")  # an edit: Ctrl+N will ask to save it
    viewer = window.canvas.viewer
    viewer.keyPressEvent(QtGui.QKeyEvent(QtCore.QEvent.Type.KeyPress, QtCore.Qt.Key.Key_N,
                                         QtCore.Qt.KeyboardModifier.ControlModifier))  # Ctrl+N
    assert viewer.CTRL_state  # what NodeGraphQt records; the release goes to the dialog
    window.new_graph()
    assert boxes[-1][0] == "question" and not window.graph.nodes
    assert not (viewer.CTRL_state or viewer.SHIFT_state or viewer.ALT_state)
    window.open_file(SAMPLES / "xor.json")
    qtbot.wait(10)
    click(window, "hidden")
    assert window.canvas.selected_ids() == ["hidden"]


def test_a_press_reads_the_modifiers_it_carries(window, qtbot):
    """Whatever release the viewer missed, a plain click grabs a node, not a deselect band."""
    window.open_file(SAMPLES / "xor.json")
    qtbot.wait(10)
    window.canvas.viewer.CTRL_state = True  # stale, as after a dialog that took the release
    click(window, "hidden")
    assert window.canvas.selected_ids() == ["hidden"]
    assert not window.canvas.viewer.CTRL_state


def test_what_the_inspector_shows_for_a_new_node_is_what_runs(window):
    registry = default_registry()
    for nt in registry:
        node_id = window.canvas.add_node(nt.identifier)
        window.canvas.select({node_id})
        given = window.graph.nodes[node_id].params
        for name, editor in window.inspector._editors.items():
            if isinstance(editor, QtWidgets.QComboBox):
                value = given.get(name, nt.param(name).default)
                assert editor.currentText() == (NOT_SET if value is None else str(value)), \
                    (nt.identifier, name)
    dataset = window.canvas.add_node("data.dataset")
    window.canvas.select({dataset})
    combo = window.inspector._editors["name"]
    assert combo.currentText() == NOT_SET and "name" not in window.graph.nodes[dataset].params
    assert "give either a built-in name or a CSV path" in window.inspector._error.text()
    combo.setCurrentIndex(combo.findText("seeds"))
    combo.activated.emit(combo.currentIndex())
    assert window.graph.nodes[dataset].params == {"name": "seeds"}
    registry.get("data.dataset").resolve_params(window.graph.nodes[dataset].params)
    assert window.inspector._error.text() == ""


def test_new_nodes_land_at_the_cursor_or_the_drop_and_never_on_each_other(window, monkeypatch):
    viewer = window.canvas.viewer
    at = QtCore.QPoint(200, 150)
    monkeypatch.setattr(QtGui.QCursor, "pos", staticmethod(
        lambda: viewer.viewport().mapToGlobal(at)))
    first = window.canvas.add_node("param.tensor")
    second = window.canvas.add_node("param.tensor")
    scene = viewer.mapToScene(at)
    assert window.graph.nodes[first].ui["pos"] == [round(scene.x(), 1), round(scene.y(), 1)]
    assert window.graph.nodes[second].ui["pos"] == [round(scene.x(), 1),
                                                    round(scene.y() + NEW_NODE_STEP, 1)]
    dropped = window.canvas.add_node("nn.loss", (500.0, -300.0))
    assert window.graph.nodes[dropped].ui["pos"] == [500.0, -300.0]
    monkeypatch.setattr(QtGui.QCursor, "pos", staticmethod(lambda: QtCore.QPoint(-9999, -9999)))
    centre = viewer.mapToScene(viewer.viewport().rect().center())  # cursor off the canvas
    third = window.canvas.add_node("nn.loss")
    assert window.graph.nodes[third].ui["pos"] == [round(centre.x(), 1), round(centre.y(), 1)]


def test_shapes_are_read_as_people_write_them(window):
    for text in ("7, 3", "7x3", "7 x 3", "[7, 3]", "(7,3)", "7 3"):
        assert parse_shape(text) == [7, 3], text
    assert parse_shape("5") == [5]
    node = window.canvas.add_node("param.tensor")
    window.canvas.select({node})
    edit = window.inspector._editors["shape"]
    edit.setText("7, 3")
    edit.editingFinished.emit()
    assert window.graph.nodes[node].params["shape"] == [7, 3]
    edit.setText("seven by three")
    edit.editingFinished.emit()
    assert window.graph.nodes[node].params["shape"] == [7, 3]
    refusal = window.inspector._error.text()
    assert "is not a shape" in refusal and "7, 3" in refusal


def test_new_forgets_the_old_zoom_progress_and_plot_range(window, wait_idle, qtbot):
    window.open_file(SAMPLES / "wheat_seeds.json")
    window.graph.run["epochs"] = 3
    window.run_controls.start("done")
    wait_idle(window)
    qtbot.wait(10)
    assert window.run_controls.progress.value() == 3
    assert abs(window.canvas.scale() - 1.0) > 0.05
    window.new_graph()
    assert abs(window.canvas.scale() - 1.0) < 0.02
    assert window.run_controls.progress.value() == 0
    assert window.run_controls.progress.maximum() == window.graph.epochs == 100
    assert window.run_controls.counters.text() == "not run"
    low, high = window.plots.plot.getViewBox().viewRange()[0]
    assert low < 1 < 100 < high < 104


def test_toolbar_and_status_bar_say_the_same_epoch(window, wait_idle):
    def epochs() -> tuple[int, int, int]:
        bar = re.search(r"epoch (\d+)/", window.run_controls.counters.text())
        status = re.search(r"epoch (\d+)", window.statusBar().currentMessage())
        return int(bar.group(1)), int(status.group(1)), window.run_controls.progress.value()

    window.open_file(SAMPLES / "xor.json")
    window.run_controls.start("step")  # in epoch 1, one step done
    wait_idle(window)
    assert epochs() == (1, 1, 1)
    window.run_controls.start("epoch")  # epoch 1 done
    wait_idle(window)
    assert epochs() == (1, 1, 1)
    window.run_controls.start("step")  # in epoch 2
    wait_idle(window)
    assert epochs() == (2, 2, 2)


def test_sweep_is_in_the_run_menu(window):
    menus = {a.text(): [x.text() for x in a.menu().actions()]
             for a in window.menuBar().actions()}
    assert "S&weep…" in menus["&Run"] and "S&weep…" not in menus["&File"]


def test_renaming_a_node_is_one_undo_step_and_refuses_taken_or_bad_ids(window):
    window.open_file(SAMPLES / "wheat_seeds.json")
    before, order = dumps(window.graph), list(window.graph.nodes)
    wires = sum("hidden" in (e.src.node, e.dst.node) for e in window.graph.edges)
    window.canvas.select({"hidden"})
    ident = window.inspector._ident
    ident.setText("hidden_layer")
    ident.editingFinished.emit()
    g = window.graph
    assert "hidden_layer" in g.nodes and "hidden" not in g.nodes
    assert list(g.nodes).index("hidden_layer") == order.index("hidden")  # same file order
    assert sum("hidden_layer" in (e.src.node, e.dst.node) for e in g.edges) == wires
    assert not any("hidden" in (e.src.node, e.dst.node) for e in g.edges)
    view = window.canvas.views["hidden_layer"]
    assert view.get_property("uid") == "hidden_layer" and view.name() == "hidden_layer"
    assert window.undo.count() == 1 and window.inspector.node_id == "hidden_layer"
    assert any("hidden_layer" in b.members for b in window.canvas.backdrops)
    plan(g.copy(), default_registry())  # the renamed graph still plans
    for taken_or_bad, why in (("W1", "taken"), ("1st", "not an id"), ("a b", "not an id")):
        window.inspector._ident.setText(taken_or_bad)
        window.inspector._ident.editingFinished.emit()
        assert why in window.inspector._error.text()
        assert window.inspector._ident.text() == "hidden_layer" and window.undo.count() == 1
    window.undo.undo()
    assert dumps(window.graph) == before and "hidden" in window.canvas.views


def test_the_editor_reads_what_a_node_type_declares_not_its_id(qtbot, tmp_path, boxes):
    """A plug-in's slider and chart work as the built-in ones do."""
    knob = NodeType("my.knob", make=lambda ctx: (lambda: ctx.params["value"]), widget="slider",
                    outputs=(Port("value", kind="scalar"),),
                    params=(Param("value", "float", 0.5), Param("min", "float", 0.0),
                            Param("max", "float", 2.0), Param("step", "float", 0.5)))
    chart = NodeType("my.chart", make=None, role="view", display="plot",
                     inputs=(Port("value", kind="any"),))
    number = default_registry().get("input.number")
    registry = Registry([*default_registry(), knob, chart,
                         dataclasses.replace(number, identifier="my.plain", widget="")])
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(settings, registry)
    qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
    k, c, p = (win.canvas.add_node(t) for t in ("my.knob", "my.chart", "my.plain"))
    assert set(win.canvas.sliders) == {k} and win.graph.nodes[k].params == {
        "value": 0.5, "min": 0.0, "max": 2.0, "step": 0.5}
    assert win.graph.nodes[p].params == {}
    assert list(win.plots.curves) == [f"{c}.value"]
    win.canvas.sliders[k].slider.setValue(3)
    assert win.graph.nodes[k].params["value"] == 1.5
