"""Building and editing graphs on the canvas: palette, wires and their refusals, undo/redo."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import dumps, load
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry

SAMPLES = Path(__file__).resolve().parents[2] / "sample_graphs"


def port_items(win, src: str, dst: str):
    (sn, sp), (dn, dp) = src.split("."), dst.split(".")
    return (win.canvas.views[sn].outputs()[sp].view, win.canvas.views[dn].inputs()[dp].view)


def drag_wire(win, src: str, dst: str) -> None:
    """What the viewer reports when a wire is dragged from an output onto an input."""
    out, inp = port_items(win, src, dst)
    if win.canvas.viewer._validate_accept_connection(out, inp):
        win.canvas.viewer.connection_changed.emit([], [(out, inp)])


def drag_node(win, node_id: str, pos) -> None:
    """What the viewer reports when a node is dragged: it is there, and where it was."""
    item = win.canvas.views[node_id].view
    old = list(item.xy_pos)
    item.xy_pos = [float(x) for x in pos]
    win.canvas.viewer.moved_nodes.emit({item: old})


def set_in_inspector(win, node_id: str, name: str, value) -> None:
    win.canvas.select({node_id})
    editor = win.inspector._editors[name]
    if hasattr(editor, "setChecked"):
        editor.setChecked(value)
    elif hasattr(editor, "findText"):
        editor.setCurrentIndex(editor.findText(str(value)))
        editor.activated.emit(editor.currentIndex())
    else:
        editor.setText(value if isinstance(value, str) else json.dumps(value))
        editor.editingFinished.emit()


def test_build_the_tutorial_network_from_the_palette(window, tmp_path, wait_idle, qtbot):
    """Every node of the seeds sample added from the palette search, set up in the inspector
    and wired by dragging; saved, reopened and run, it gives the sample's numbers."""
    recipe = load(SAMPLES / "wheat_seeds.json")
    ids = {}
    for node in recipe.nodes.values():
        window.palette.search.setText(node.type)
        window.palette.search.returnPressed.emit()
        (new_id,) = window.canvas.selected_ids()
        assert window.graph.nodes[new_id].type == node.type
        ids[node.id] = new_id
        for name, value in node.params.items():
            set_in_inspector(window, new_id, name, value)
        drag_node(window, new_id, node.ui["pos"])
    for edge in recipe.edges:
        drag_wire(window, f"{ids[edge.src.node]}.{edge.src.port}",
                  f"{ids[edge.dst.node]}.{edge.dst.port}")
    assert len(window.graph.edges) == len(recipe.edges)
    window.canvas.select(set())
    window.inspector._editors["epochs"].setText("3")
    window.inspector._editors["epochs"].editingFinished.emit()
    assert window.isWindowModified()
    path = tmp_path / "built.json"
    assert window.save_to(path) and not window.isWindowModified()
    assert window.open_file(path)
    window.run_controls.start("done")
    wait_idle(window)
    ex = window.runner.executor
    assert ex.finished and ex.epoch == 3
    headless = Executor(plan(load(SAMPLES / "wheat_seeds.json", default_registry()),
                             default_registry()), epochs=3).run()
    for old, new in ids.items():
        if recipe.nodes[old].type == "param.tensor":
            assert np.array_equal(ex.state()[new], headless.state()[old])


def test_refused_wires_say_why(window, qtbot):
    window.open_file(SAMPLES / "wheat_seeds.json")
    canvas = window.canvas
    messages = []
    canvas.message.connect(messages.append)
    out, inp = port_items(window, "seeds.X", "normalize.X")
    assert not canvas.viewer._validate_accept_connection(inp, inp)  # input to input
    assert "from an output to an input" in messages[-1]
    a = canvas.add_node("nn.activation", (0, 900))
    b = canvas.add_node("nn.activation", (200, 900))
    assert "scalar" in canvas.wire("loss.loss", f"{a}.z")  # a scalar into an array input
    assert "already has a wire from normalize.X" in canvas.wire("seeds.X", "split.X")
    assert canvas.wire(f"{a}.a", f"{b}.z") is None
    assert "loop without a delay" in canvas.wire(f"{b}.a", f"{a}.z")
    before, entries = dumps(window.graph), window.undo.count()
    drag_wire(window, "loss.loss", f"{a}.z")
    assert dumps(window.graph) == before and window.undo.count() == entries
    assert "Cannot connect" in window.statusBar().currentMessage()
    assert "scalar" in window.statusBar().currentMessage()


def test_refusal_names_shapes_known_from_the_last_run(window, wait_idle):
    window.open_file(SAMPLES / "wheat_seeds.json")
    c = window.canvas
    window.run_controls.start("step")
    wait_idle(window)
    extra = c.add_node("nn.weighted_sum", (0, 900))
    assert c.wire("batches.x", f"{extra}.x") is None
    reason = c.wire("W2.value", f"{extra}.W")  # x is (1, 7) but W2 is (5, 3)
    assert reason is not None and "shapes do not fit" in reason


def test_undo_redo_add_delete_wire_move_param(window, qtbot):
    window.open_file(SAMPLES / "xor.json")
    g, c, undo = window.graph, window.canvas, window.undo
    start = dumps(g)
    node = c.add_node("view.value", (100, 100))  # add
    assert c.wire("loss.loss", f"{node}.value") is None  # wire
    first = next(iter(g.nodes))
    item = c.views[first].view
    old = list(item.xy_pos)
    item.xy_pos = [old[0] - 500.0, old[1] - 500.0]
    c.viewer.moved_nodes.emit({item: old})  # what a drag reports: the old place
    assert g.nodes[first].ui["pos"] == [old[0] - 500.0, old[1] - 500.0]
    set_in_inspector(window, "hidden", "fn", "relu")  # parameter
    c.select({"output"})
    c.delete_selected()  # delete, with its wires
    assert "output" not in g.nodes and "output" not in c.views
    after = dumps(g)
    assert undo.count() == 5
    while undo.canUndo():
        undo.undo()
    assert dumps(g) == start
    assert list(c.views[first].view.xy_pos) == old
    assert len(c.views) == len(g.nodes)
    while undo.canRedo():
        undo.redo()
    assert dumps(g) == after


def test_undo_restores_a_deleted_node_with_its_wires_in_place(window):
    window.open_file(SAMPLES / "wheat_seeds.json")
    start = dumps(window.graph)
    window.canvas.select({"hidden", "W2"})
    window.canvas.delete_selected()
    assert "hidden" not in window.graph.nodes
    window.undo.undo()
    assert dumps(window.graph) == start
    view = window.canvas.views["hidden"]
    assert [p.name() for p in view.inputs()["z"].connected_ports()] == ["z"]


def test_parameter_edits_and_slider_drags_are_single_undo_steps(window, qtbot):
    window.open_file(SAMPLES / "wheat_seeds.json")
    set_in_inspector(window, "hidden", "fn", "tanh")
    assert window.graph.nodes["hidden"].params["fn"] == "tanh"
    set_in_inspector(window, "split", "train_fraction", "2.5")
    assert window.graph.nodes["split"].params["train_fraction"] == 0.66  # refused
    assert "range" in window.statusBar().currentMessage()
    slider = window.canvas.sliders["learning_rate"].slider
    slider.setSliderDown(True)
    for tick in (10, 20, 30, 40):
        slider.setValue(tick)
    slider.setSliderDown(False)
    assert window.graph.nodes["learning_rate"].params["value"] == 0.4
    assert window.undo.count() == 2
    window.undo.undo()
    assert window.graph.nodes["learning_rate"].params["value"] == 0.3
    assert slider.value() == 30


def test_copy_paste_and_backdrops(window, qtbot):
    window.open_file(SAMPLES / "wheat_seeds.json")
    c = window.canvas
    c.select({"hidden_sum", "hidden"})
    assert c.copy_selected()
    new = c.paste()
    assert sorted(new) == ["hidden_2", "hidden_sum_2"]
    assert window.graph.edge_into(Endpoint("hidden_2", "z")).src.node == "hidden_sum_2"
    c.select({"hidden_2", "hidden_sum_2"})
    c.group_selected("Copy")
    assert window.graph.ui["backdrops"][-1] == {"title": "Copy",
                                                "nodes": ["hidden_sum_2", "hidden_2"]}
    assert any(b.title == "Copy" for b in c.backdrops)
    window.undo.undo()
    assert all(b.title != "Copy" for b in c.backdrops)
    window.undo.undo()
    assert "hidden_2" not in window.graph.nodes


def test_status_colours_never_enter_the_undo_stack(window, wait_idle):
    window.open_file(SAMPLES / "xor.json")
    window.run_controls.start("epoch")
    wait_idle(window)
    assert window.undo.count() == 0 and window.canvas.ng.undo_stack().count() == 0
    assert {f.status for f in window.canvas.frames.values()} == {"ran"}
    assert not window.isWindowModified()


def test_tooltip_shows_shape_range_and_numbers(window, wait_idle):
    window.open_file(SAMPLES / "wheat_seeds.json")
    out, inp = port_items(window, "hidden.a", "output_sum.x")
    assert "no value yet" in window.canvas.port_text(out)
    window.run_controls.start("step")
    wait_idle(window)
    text = window.canvas.port_text(out)
    assert "shape (1, 5)" in text and "min" in text and "max" in text
    pipe = out.connected_pipes[0]
    assert window.canvas.port_text(pipe) == text
    assert "shape (1, 5)" in window.canvas.port_text(inp)


def test_palette_search_puts_matching_ids_first(window):
    window.palette.search.setText("sum")
    assert window.palette.visible()[0] == "nn.weighted_sum"
    window.palette.search.setText("zzz")
    assert window.palette.visible() == []


def test_dropping_a_palette_entry_or_a_graph_file_on_the_canvas(window, qtbot):
    from PySide6 import QtCore

    window.new_graph()
    item = window.palette.list.findItems("nn.loss", QtCore.Qt.MatchFlag.MatchExactly)[0]
    mime = window.palette.list.mimeData([item])
    window.canvas.viewer.data_dropped.emit(mime, QtCore.QPoint(120, 80))
    (node,) = window.graph.nodes.values()
    assert node.type == "nn.loss" and node.ui["pos"] == [120.0, 80.0]
    assert window.undo.count() == 1
    window.undo.undo()
    files = QtCore.QMimeData()
    files.setUrls([QtCore.QUrl.fromLocalFile(str(SAMPLES / "xor.json"))])
    window.canvas.viewer.data_dropped.emit(files, QtCore.QPoint(0, 0))
    assert window.graph.path == SAMPLES / "xor.json"


def test_deleting_a_selected_wire(window):
    window.open_file(SAMPLES / "xor.json")
    out, inp = port_items(window, "loss.loss", "train_loss.value")
    out.connected_pipes[0].setSelected(True)
    window.canvas.delete_selected()
    assert window.graph.edge_into(Endpoint("train_loss", "value")) is None
    assert not inp.connected_pipes
    window.undo.undo()
    assert window.graph.edge_into(Endpoint("train_loss", "value")).src == Endpoint("loss", "loss")


def test_hovering_a_wire_shows_its_value(window, wait_idle, qtbot):
    from PySide6 import QtCore, QtGui, QtWidgets

    window.open_file(SAMPLES / "wheat_seeds.json")
    window.run_controls.start("step")
    wait_idle(window)
    qtbot.wait(20)
    out, _ = port_items(window, "hidden.a", "output_sum.x")
    viewer = window.canvas.viewer
    at = viewer.mapFromScene(out.sceneBoundingRect().center())
    event = QtGui.QHelpEvent(QtCore.QEvent.Type.ToolTip, at, viewer.viewport().mapToGlobal(at))
    QtWidgets.QApplication.sendEvent(viewer.viewport(), event)
    assert "hidden.a" in QtWidgets.QToolTip.text() and "shape (1, 5)" in QtWidgets.QToolTip.text()
