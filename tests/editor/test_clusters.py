"""Clusters in the editor: collapse, open, close and expand are each one undo step that gives
back the file's bytes, the cluster node shows its crossing wires as ports, and the palette's
cluster entry inserts a copy that runs like the original."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gradhopper.runtime import clusters
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import dumps
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from PySide6 import QtWidgets

SAMPLES = Path(__file__).resolve().parents[2] / "sample_graphs"
FORWARD = ["hidden_sum", "hidden"]


def opened(window):
    assert window.open_file(SAMPLES / "wheat_seeds.json")
    return dumps(window.graph)


def numbers(graph):
    ex = Executor(plan(graph.copy(), default_registry()), epochs=2, cache=None).run()
    return ex.history, {k: v.tolist() for k, v in ex.state().items()}


def test_collapse_from_the_menu_is_one_undo_step(window, monkeypatch):
    original = opened(window)
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText",
                        lambda *a, **k: ("hidden_layer", True))
    window.canvas.select(set(FORWARD))
    action = next(a for a in window.actions() if a.text().startswith("&Collapse selection"))
    action.trigger()
    node = window.graph.nodes["hidden_layer"]
    assert clusters.is_cluster(node) and clusters.inner_ids(node) == FORWARD
    view = window.canvas.views["hidden_layer"]
    inputs, outputs = clusters.ports(node)
    assert list(view.inputs()) == inputs and list(view.outputs()) == outputs
    assert "hidden_sum/x" in inputs and "hidden/a" in outputs
    assert not set(FORWARD) & set(window.canvas.views)
    wired = {(p.name(), q.node().get_property("uid")) for p in view.inputs().values()
             for q in p.connected_ports()}
    assert wired == {(e.dst.port, e.src.node) for e in window.graph.edges
                     if e.dst.node == "hidden_layer"}
    clustered = dumps(window.graph)
    assert window.canvas.selected_ids() == ["hidden_layer"]
    window.undo.undo()
    assert dumps(window.graph) == original
    assert set(FORWARD) <= set(window.canvas.views) and "hidden_layer" not in window.canvas.views
    window.undo.redo()
    assert dumps(window.graph) == clustered


def test_open_close_and_expand_give_back_the_bytes(window):
    original = opened(window)
    tools = window.cluster_tools
    assert tools.collapse(FORWARD, "hidden_layer") == "hidden_layer"
    clustered = dumps(window.graph)
    window.canvas.select({"hidden_layer"})
    assert tools.open_cluster() == FORWARD
    assert dumps(window.graph) == original
    assert sorted(window.canvas.selected_ids()) == sorted(FORWARD)
    assert tools.close_cluster() == "hidden_layer"
    assert dumps(window.graph) == clustered
    window.undo.undo()  # the close
    assert dumps(window.graph) == original
    window.undo.undo()  # the open
    assert dumps(window.graph) == clustered
    window.canvas.select({"hidden_layer"})
    assert tools.expand() == FORWARD
    assert dumps(window.graph) == original and "hidden_layer" not in window.canvas.views
    window.undo.undo()
    assert dumps(window.graph) == clustered and "hidden_layer" in window.canvas.views
    assert window.undo.count() == 2  # collapse, expand (pushed over the undone open, close)


def test_a_refused_collapse_changes_nothing_and_says_why(window):
    original = opened(window)
    shown = []
    window.show_message = shown.append
    assert window.cluster_tools.collapse(FORWARD, "loss") is None
    assert dumps(window.graph) == original and window.undo.count() == 0
    assert shown and "taken" in shown[-1]


def test_the_palette_entry_inserts_a_copy_that_runs_like_the_original(window):
    opened(window)
    expected = numbers(window.graph)
    window.cluster_tools.collapse(FORWARD, "hidden_layer")
    entries = [window.palette.list.item(i).text() for i in range(window.palette.list.count())]
    assert entries[len(window.palette.commands) + 1] == "hidden_layer (cluster)"  # heading
    crossing = [e for e in window.graph.edges if "hidden_layer" in (e.src.node, e.dst.node)]
    window.palette.search.setText("hidden_layer cluster")
    window.palette.search.returnPressed.emit()
    assert window.canvas.selected_ids() == ["hidden_layer_2"]
    copy = window.graph.nodes["hidden_layer_2"]
    assert clusters.inner_ids(copy) == ["hidden_sum_2", "hidden_2"]
    rename = dict(zip(FORWARD, clusters.inner_ids(copy)))

    def moved(port: str) -> str:
        node, _, name = port.partition("/")
        return f"hidden_layer_2.{rename[node]}/{name}"

    window.canvas.select({"hidden_layer"})
    window.canvas.delete_selected()
    for e in crossing:  # wire the copy where the original was, through the canvas's checks
        src = moved(e.src.port) if e.src.node == "hidden_layer" else str(e.src)
        dst = moved(e.dst.port) if e.dst.node == "hidden_layer" else str(e.dst)
        assert window.canvas.wire(src, dst) is None, (src, dst)
    assert numbers(window.graph) == expected


def test_a_wire_of_the_wrong_kind_into_a_cluster_port_is_refused(window):
    opened(window)
    window.cluster_tools.collapse(FORWARD, "hidden_layer")
    edge = window.graph.edge_into(Endpoint("hidden_layer", "hidden_sum/x"))
    window.graph.disconnect(edge.dst)
    reason = window.canvas.refusal(Endpoint("learning_rate", "value"),
                                   Endpoint("hidden_layer", "hidden_sum/x"))
    assert reason is not None and "scalar" in reason


def test_a_clustered_graph_runs_in_the_editor_with_the_headless_numbers(window, wait_idle):
    opened(window)
    expected = Executor(plan(window.graph.copy(), default_registry()), epochs=3,
                        cache=None).run()
    window.cluster_tools.collapse(FORWARD, "hidden_layer")
    window.graph.run["epochs"] = 3
    window.run_controls.start("done")
    wait_idle(window)
    ex = window.runner.executor
    assert ex.finished and ex.history == expected.history
    for key, value in expected.state().items():
        assert np.array_equal(ex.state()[key], value)
    port = window.canvas.views["hidden_layer"].outputs()["hidden/a"].view
    text = window.canvas.port_text(port)  # a cluster's port shows its inner port's value
    assert text.startswith("hidden_layer.hidden/a") and "shape (" in text


def test_a_pasted_cluster_gets_fresh_ids_inside_and_the_file_reopens(window, tmp_path):
    opened(window)
    window.cluster_tools.collapse(FORWARD, "hidden_layer")
    window.canvas.select({"hidden_layer"})
    window.duplicate()
    (pasted,) = window.canvas.selected_ids()
    assert pasted != "hidden_layer"
    assert not set(clusters.inner_ids(window.graph.nodes[pasted])) & set(FORWARD)
    assert window.graph.unique_id("hidden") not in clusters.owners(window.graph)
    assert window.save_to(tmp_path / "two.json")
    assert window.open_file(tmp_path / "two.json")
    assert clusters.names(window.graph) == ["hidden_layer", pasted]


def test_a_cluster_of_many_plots_rebuilds_the_plot_panel_once(window, qtbot, monkeypatch):
    """Each plot node a collapse or its undo takes away or puts back used to rebuild every
    series: seconds for a 500-node graph. Now one rebuild once the edits are over."""
    from gradhopper.runtime.graph import Node

    opened(window)
    for k in range(6):
        window.graph.add_node(Node(f"extra_plot{k}", "view.plot", {}, {"pos": [0.0, 90.0 * k]}))
    qtbot.wait(10)
    plots = {n for n, node in window.graph.nodes.items() if window.plots.shows(node) == "plot"}
    assert {f"{n}.value" for n in plots} == set(window.plots.curves)
    builds = []
    clear = window.plots.legend.clear
    monkeypatch.setattr(window.plots.legend, "clear", lambda: (builds.append(1), clear()))
    window.cluster_tools.collapse(sorted(plots), "views")
    qtbot.wait(10)
    assert not window.plots.curves and len(builds) == 1
    window.undo.undo()
    qtbot.wait(10)
    assert {f"{n}.value" for n in plots} == set(window.plots.curves) and len(builds) == 2
