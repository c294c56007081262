"""Composing on the canvas: Insert layer…, Remove layer and Auto-layout, one undo step each,
with the numbers of the Python API's insert_layer / remove_layer on the same file."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES
from PySide6 import QtCore

from gradhopper.editor import compose
from gradhopper.runtime import api
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import dumps
from gradhopper.runtime.layout import layout
from gradhopper.runtime.planner import plan


def _sibling(name: str):
    """A module of this folder (pytest imports test files by path, not as a package)."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_compose_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


measure, overlaps, pipes = (getattr(_sibling("test_layout"), n)
                            for n in ("measure", "overlaps", "pipes"))


def wiring(graph) -> tuple:
    """Everything but the editor's places: nodes and parameters in file order, edges."""
    return ([(n.id, n.type, n.params) for n in graph.nodes.values()],
            [(str(e.src), str(e.dst)) for e in graph.edges])


def state(graph, registry, epochs=2) -> dict:
    return Executor(plan(graph.copy(), registry), epochs=epochs).run().state()


@pytest.fixture
def seeds(window):
    assert window.open_file(SAMPLES / "wheat_seeds.json")
    return window


def test_insert_then_remove_a_layer_one_undo_step_each_with_the_apis_numbers(seeds):
    win, reg = seeds, seeds.registry
    before = dumps(win.graph)
    new = win.composer.insert_layer("hidden", 4, "tanh")
    assert win.undo.count() == 1 and win.undo.undoText() == f"Insert layer {new['act']}"
    by_api = api.load(SAMPLES / "wheat_seeds.json")
    assert by_api.insert_layer(after="hidden", width=4, fn="tanh") == new
    assert wiring(win.graph) == wiring(by_api.model)
    assert set(win.canvas.views) == set(win.graph.nodes)
    assert len(pipes(win.canvas)) == len(win.graph.edges)
    ours, theirs = state(win.graph, reg), state(by_api.model, reg)
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)
    gone = win.composer.remove_layer(new["act"])
    assert sorted(gone) == sorted(new.values()) and win.undo.count() == 2
    by_api.remove_layer(new["act"])
    assert wiring(win.graph) == wiring(by_api.model)
    nodes, edges = wiring(api.load(SAMPLES / "wheat_seeds.json").model)
    assert wiring(win.graph)[0] == nodes and sorted(wiring(win.graph)[1]) == sorted(edges)
    win.undo.undo()
    assert set(new.values()) <= set(win.graph.nodes)
    win.undo.undo()
    assert dumps(win.graph) == before  # undo gives the file back byte for byte
    assert set(win.canvas.views) == set(win.graph.nodes)
    win.undo.redo()
    assert set(new.values()) <= set(win.canvas.views)


def test_the_new_layer_joins_the_backdrops_of_its_bands(window, qtbot):
    """xor: its backdrops hold whole bands (the seeds sample's W1 heatmap, in a backdrop of
    its own, lands inside the parameters' band: runtime/layout.py places views so)."""
    seeds = window
    assert window.open_file(SAMPLES / "xor.json")
    new = seeds.composer.insert_layer("hidden", 4, "sigmoid")
    members = {b["title"].split(":")[0].split(" (")[0]: set(b["nodes"])
               for b in seeds.graph.ui["backdrops"]}
    assert {new["sum"], new["act"]} <= members["Forward pass"]
    assert {new["twin_sum_0"], new["twin_act_0"]} <= members["Test pass"]
    assert {new["delta"], new["gradient"], new["backprop"]} <= members["Backward pass"]
    assert {new["W"], new["b"], new["update_W"]} <= members["Parameters and their updates"]
    qtbot.wait(10)  # the backdrops refit on the next turn of the event loop
    assert overlaps(measure(seeds.canvas)) == []


def test_a_wires_context_menu_inserts_a_layer_after_its_source(seeds, monkeypatch):
    asked = []
    monkeypatch.setattr(compose, "ask_layer",
                        lambda parent, fns, first: asked.append((fns, first)) or (6, "relu"))
    pipe = pipes(seeds.canvas)[("hidden.a", "output_sum.x")]
    menu = seeds.composer.menu_for(pipe)
    (action,) = menu.actions()
    assert action.text() == compose.INSERT_TEXT
    action.trigger()
    assert asked and not asked[0][1] and "relu" in asked[0][0]
    act = seeds.graph.edge_into(api.Endpoint("output_sum", "x")).src.node
    assert act not in ("hidden", "batches") and seeds.graph.nodes[act].params["fn"] == "relu"
    assert seeds.graph.edge_into(api.Endpoint(act, "z")).src.node != "hidden_sum"
    assert seeds.graph.nodes["W2"].params["shape"] == [6, 3]
    assert seeds.undo.count() == 1


def test_remove_layer_is_on_a_hidden_layers_node_menu_only(seeds):
    def texts(node_id):
        return [a.text() for a in seeds.composer.menu_for(seeds.canvas.views[node_id].view)
                .actions()]
    assert texts("hidden") == [compose.INSERT_TEXT, "Remove layer"]
    assert texts("W1") == [compose.INSERT_TEXT, "Remove layer"]
    assert texts("output") == [compose.INSERT_TEXT]  # the output layer stays
    seeds.composer.menu_for(seeds.canvas.views["hidden"].view).actions()[1].trigger()
    assert "hidden" not in seeds.graph.nodes and seeds.undo.count() == 1
    assert seeds.graph.nodes["W2"].params["shape"] == [7, 3]


def test_the_palette_entry_inserts_after_the_selected_node(seeds, monkeypatch):
    monkeypatch.setattr(compose, "ask_layer", lambda parent, fns, first: (3, "sigmoid"))
    item = seeds.palette.list.findItems(compose.INSERT_TEXT, QtCore.Qt.MatchFlag.MatchExactly)[0]
    assert not item.flags() & QtCore.Qt.ItemFlag.ItemIsDragEnabled
    seeds.canvas.select(set())
    seeds.palette.list.itemActivated.emit(item)
    assert seeds.undo.count() == 0 and "select the node" in seeds.statusBar().currentMessage()
    seeds.canvas.select({"hidden"})
    seeds.palette.list.itemActivated.emit(item)
    assert seeds.undo.count() == 1 and seeds.graph.nodes["W2"].params["shape"] == [3, 3]


def test_a_refused_insert_says_why_and_changes_nothing(seeds):
    before = dumps(seeds.graph)
    assert seeds.composer.insert_layer("loss", 4, "sigmoid") is None
    assert seeds.composer.insert_layer("hidden", 0, "sigmoid") is None
    assert "width" in seeds.statusBar().currentMessage()
    assert seeds.undo.count() == 0 and dumps(seeds.graph) == before


def test_auto_layout_is_one_undo_step_with_the_runtimes_places(seeds, qtbot):
    graph, canvas = seeds.graph, seeds.canvas
    before = dumps(graph)
    (action,) = [a for a in seeds.actions() if a.shortcut().toString() == "Ctrl+L"]
    action.trigger()
    assert seeds.undo.count() == 1 and seeds.undo.undoText() == "Auto-layout"
    sizes = {n: (v.view.sceneBoundingRect().width(), v.view.sceneBoundingRect().height())
             for n, v in canvas.views.items()}
    wanted = layout(graph, seeds.registry, size=lambda node, nt: sizes[node.id])
    for node_id, (x, y) in wanted.items():
        assert graph.nodes[node_id].ui["pos"] == [round(x, 1), round(y, 1)]
        assert list(canvas.views[node_id].view.xy_pos) == pytest.approx([x, y], abs=0.1)
    qtbot.wait(10)  # the backdrops refit on the next turn of the event loop
    drawn = measure(canvas)
    for title, (left, top, right, bottom), members in drawn.backdrops:
        for node_id in members:
            l2, t2, r2, b2 = drawn.nodes[node_id]
            assert left <= l2 and top <= t2 and r2 <= right and b2 <= bottom, title
    seeds.undo.undo()
    assert dumps(graph) == before
