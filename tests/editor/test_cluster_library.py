"""The cluster library in the editor: a cluster saved from its context menu appears in the
palette at once, a new graph gets a copy of it in one undo step by a drop or Enter, a broken
file in the folder costs one status line, and a copy wired where the original was runs with
its numbers, bit for bit."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gradhopper.editor import clusters as editor_clusters
from gradhopper.editor.compose import SAVE_TO_LIBRARY
from gradhopper.editor.palette import HEADER
from gradhopper.runtime import clusterlib, clusters
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry

SAMPLES = Path(__file__).resolve().parents[2] / "sample_graphs"
FORWARD = ["hidden_sum", "hidden"]
ENTRY = "hidden_layer (library)"


@pytest.fixture
def library(window, tmp_path, monkeypatch):
    """The window's library set to an empty folder through Cluster > Cluster library folder…"""
    folder = tmp_path / "library"
    folder.mkdir()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory",
                        lambda *a, **k: str(folder))
    action(window, "Cluster library &folder…").trigger()
    assert window.cluster_tools.folder() == folder
    return folder


def action(window, text):
    return next(a for a in window.actions() if a.text() == text)


def entries(window) -> list[str]:
    palette = window.palette
    return [palette.list.item(i).text() for i in range(palette.list.count())
            if not palette.list.item(i).isHidden()]


def saved_from_the_context_menu(window, monkeypatch) -> None:
    assert window.open_file(SAMPLES / "wheat_seeds.json")
    window.cluster_tools.collapse(FORWARD, "hidden_layer")
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText",
                        lambda *a, **k: (k["text"], True))  # the cluster's id, as offered
    menu = window.composer.menu_for(window.canvas.views["hidden_layer"].view)
    (save,) = [a for a in menu.actions() if a.text() == SAVE_TO_LIBRARY]
    save.trigger()


def numbers(graph):
    ex = Executor(plan(graph.copy(), default_registry()), epochs=2, cache=None).run()
    return ex.history, ex.state()


def test_a_saved_cluster_is_listed_then_dropped_into_a_new_graph_as_one_undo_step(
        window, library, monkeypatch):
    assert HEADER not in entries(window)  # no cluster anywhere: no heading
    saved_from_the_context_menu(window, monkeypatch)
    path = library / "hidden_layer.json"
    assert [e.title for e in clusterlib.load_library(library, default_registry())] \
        == ["hidden_layer"]
    shown = entries(window)
    start = shown.index(HEADER)
    assert shown[start:start + 3] == [HEADER, "hidden_layer (cluster)", ENTRY]
    window.new_graph()  # the unsaved collapse is discarded (the boxes fixture answers)
    assert window.graph.nodes == {}
    assert [t for t in entries(window) if "(cluster)" in t or "(library)" in t] == [ENTRY]
    (item,) = window.palette.list.findItems(ENTRY, QtCore.Qt.MatchFlag.MatchExactly)
    assert str(path) in item.toolTip()
    mime = window.palette.list.mimeData([item])
    window.canvas.viewer.data_dropped.emit(mime, QtCore.QPoint(300, 120))
    assert list(window.graph.nodes) == ["hidden_layer"] and window.undo.count() == 1
    node = window.graph.nodes["hidden_layer"]
    assert clusters.is_cluster(node) and clusters.inner_ids(node) == FORWARD
    assert node.ui["pos"] == [300.0, 120.0] and "hidden_layer" in window.canvas.views
    assert window.canvas.selected_ids() == ["hidden_layer"]
    inputs, outputs = clusters.ports(node)
    assert "hidden_sum/x" in inputs and "hidden/a" in outputs
    window.undo.undo()
    assert window.graph.nodes == {} and window.canvas.views == {}
    window.undo.redo()
    assert list(window.graph.nodes) == ["hidden_layer"]
    window.palette.search.setText("hidden_layer library")  # Enter adds a second copy
    window.palette.search.returnPressed.emit()
    assert list(window.graph.nodes) == ["hidden_layer", "hidden_layer_2"]
    assert clusters.inner_ids(window.graph.nodes["hidden_layer_2"]) == ["hidden_sum_2",
                                                                         "hidden_2"]
    window.undo.undo()
    assert list(window.graph.nodes) == ["hidden_layer"]


def test_a_copy_from_the_library_wired_by_hand_runs_with_the_originals_numbers(
        window, library, monkeypatch):
    saved_from_the_context_menu(window, monkeypatch)
    assert window.open_file(SAMPLES / "wheat_seeds.json")  # discards the collapse
    expected = numbers(window.graph)
    wires = [e for e in window.graph.edges if {e.src.node, e.dst.node} & set(FORWARD)]
    window.canvas.select(set(FORWARD))
    window.canvas.delete_selected()
    window.palette.search.setText("hidden_layer library")
    window.palette.search.returnPressed.emit()
    (made,) = window.canvas.selected_ids()
    for e in wires:
        if e.src.node in FORWARD and e.dst.node in FORWARD:
            continue
        src = f"{made}.{e.src.node}/{e.src.port}" if e.src.node in FORWARD else str(e.src)
        dst = f"{made}.{e.dst.node}/{e.dst.port}" if e.dst.node in FORWARD else str(e.dst)
        assert window.canvas.wire(src, dst) is None, (src, dst)
    history, state = numbers(window.graph)
    assert history == expected[0]
    for key, value in expected[1].items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)
    assert window.graph.edge_into(Endpoint(made, "hidden_sum/x")) is not None


def test_a_broken_library_file_costs_one_status_line_and_hides_nothing(window, library,
                                                                         monkeypatch):
    saved_from_the_context_menu(window, monkeypatch)
    (library / "broken.json").write_text('{"format": "gradhopper.graph", "nodes": [')
    twin = library / os.fsdecode(b"\xff.json")  # a name that is not UTF-8, the same cluster
    twin.write_bytes((library / "hidden_layer.json").read_bytes())
    shown = []
    monkeypatch.setattr(window, "show_message", shown.append)
    window.cluster_tools.reload_library()
    assert ENTRY in entries(window) and "hidden_layer (library, \\udcff.json)" in entries(window)
    assert len(shown) == 1 and "broken.json" in shown[0] and "\n" not in shown[0]
    assert "broken.json" in window.palette.header.toolTip()


def test_replacing_a_library_file_asks_first(window, library, monkeypatch, boxes):
    saved_from_the_context_menu(window, monkeypatch)
    before = (library / "hidden_layer.json").read_text()
    window.cluster_tools.collapse(["loss"], "scoring")
    assert window.cluster_tools.save_to_library("scoring", "hidden_layer") is None  # Discard
    assert boxes[-1][0] == "question" and "Replace" in boxes[-1][2]
    assert (library / "hidden_layer.json").read_text() == before
    boxes.answer["question"] = QtWidgets.QMessageBox.StandardButton.Yes
    assert window.cluster_tools.save_to_library("scoring", "hidden_layer") \
        == library / "hidden_layer.json"
    (entry,) = window.cluster_tools.library
    assert clusters.inner_ids(entry.cluster) == ["loss"]


def test_the_folder_is_the_chosen_one_else_the_environments_else_the_config_folder(
        window, monkeypatch, tmp_path):
    tools = window.cluster_tools
    window.settings.remove(editor_clusters.FOLDER_KEY)
    monkeypatch.delenv(clusterlib.ENV, raising=False)
    config = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.AppConfigLocation)
    assert tools.folder() == Path(config) / "clusters"
    monkeypatch.setenv(clusterlib.ENV, str(tmp_path / "env"))
    assert tools.folder() == tmp_path / "env"
    window.settings.setValue(editor_clusters.FOLDER_KEY, str(tmp_path / "chosen"))
    assert tools.folder() == tmp_path / "chosen"
