"""Opening and saving: all or nothing, any `ui` survives, names readable, files kept as they were."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pyqtgraph as pg
from helpers import SAMPLES
from PySide6 import QtWidgets

from gradhopper.editor import opening
from gradhopper.editor.lod import READABLE_SCALE
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Node


def test_a_failed_open_keeps_the_old_graph_and_the_next_open_works(window, monkeypatch, boxes):
    assert window.open_file(SAMPLES / "xor.json")
    canvas = window.canvas
    calls = []

    def broken(edge):
        calls.append(edge)
        raise RuntimeError("scene refused")

    real = canvas._connect_view
    monkeypatch.setattr(canvas, "_connect_view",
                        lambda edge: broken(edge) if len(calls) < 1 else real(edge))
    assert not window.open_file(SAMPLES / "wheat_seeds.json")
    assert boxes[-1][0] == "warning" and "scene refused" in boxes[-1][2]
    assert window.graph.path == SAMPLES / "xor.json"
    assert set(canvas.views) == set(window.graph.nodes) and canvas.graph is window.graph
    wired = {(p.node().get_property("uid"), p.name()) for v in canvas.views.values()
             for p in v.input_ports() if p.connected_ports()}
    assert wired == {(e.dst.node, e.dst.port) for e in window.graph.edges}
    monkeypatch.undo()
    assert window.open_file(SAMPLES / "wheat_seeds.json")
    assert set(canvas.views) == set(load(SAMPLES / "wheat_seeds.json").nodes)


def test_any_ui_value_opens_and_unusable_positions_are_placed_beside_the_graph(window):
    graph = load(SAMPLES / "xor.json")
    bad = {"hidden": "12, 40", "output": {"x": 1}, "loss": None, "W1": [1], "b1": [[1, 2], 3],
           "W2": [float("nan"), 0.0], "b2": [True, 2], "xor": [1e300, 0]}
    bad = {k: v for k, v in bad.items() if k in graph.nodes}
    assert len(bad) >= 4
    for node_id, pos in bad.items():
        graph.nodes[node_id].ui = {"pos": pos}
    odd = next(n for n in graph.nodes if n not in bad)
    graph.nodes[odd].ui = "not a dict"
    bad[odd] = None
    graph.ui = {"backdrops": ["a string", None, {"title": 3, "nodes": ["hidden"]},
                              {"title": "t", "nodes": "hidden"}, {"nodes": ["hidden"]},
                              {"title": "ok", "nodes": ["hidden", "loss"], "color": "red"}]}
    window.set_graph(graph)
    canvas = window.canvas
    assert set(canvas.views) == set(graph.nodes)
    assert [b.title for b in canvas.backdrops] == ["ok"]
    placed = [canvas.views[n].view.sceneBoundingRect() for n in bad]
    others = [canvas.views[n].view.sceneBoundingRect() for n in graph.nodes if n not in bad]
    right = max(r.right() for r in others)
    assert all(r.left() > right for r in placed)
    assert all(not a.intersects(b) for i, a in enumerate(placed) for b in placed[i + 1:])
    canvas.add_node("nn.loss", (0.0, 0.0))
    canvas.select(set(graph.nodes))
    canvas.delete_selected()  # backdrops that were never drawn are handled too
    window.undo.undo()
    assert set(canvas.views) == set(graph.nodes)


def test_a_sample_opens_with_its_names_readable(window, qtbot):
    window.resize(1600, 1000)
    assert window.open_file(SAMPLES / "wheat_seeds.json")
    viewer = window.canvas.viewer
    seeds = window.canvas.views["seeds"].view.sceneBoundingRect()  # where the data comes in

    def seen():
        return viewer.mapToScene(viewer.viewport().rect()).boundingRect()

    qtbot.waitUntil(lambda: seen().contains(seeds))  # once the open's queued view is shown
    assert window.canvas.scale() >= READABLE_SCALE - 0.01
    viewer.viewport().repaint()  # NodeGraphQt hides titles and port names (its proxy mode)
    assert not any(v.view._proxy_mode for v in window.canvas.views.values())  # when zoomed out
    window.canvas.fit()  # the whole graph, on request (F)
    assert window.canvas.scale() < READABLE_SCALE
    whole = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    assert whole.contains(window.canvas.graph_rect())


def test_a_small_graph_opens_whole_and_no_larger_than_life(window, qtbot):
    graph = load(SAMPLES / "xor.json")
    for node_id in list(graph.nodes)[3:]:
        graph.remove_node(node_id)
    for i, node in enumerate(graph.nodes.values()):  # side by side, wherever the layout put them
        node.ui["pos"] = [220.0 * i, 0.0]
    graph.ui = {}
    window.set_graph(graph)
    viewer = window.canvas.viewer
    whole = window.canvas.graph_rect()
    qtbot.waitUntil(lambda: viewer.mapToScene(viewer.viewport().rect()).boundingRect()
                    .contains(whole))
    assert READABLE_SCALE <= window.canvas.scale() <= 1.0


def test_save_keeps_the_file_mode_and_writes_through_a_symlink(window, tmp_path):
    """Passes once runtime/fileformat.save goes through runtime/atomicwrite.py (another lane)."""
    assert window.open_file(SAMPLES / "xor.json")
    target = tmp_path / "graph.json"
    assert window.save_to(target)
    os.chmod(target, 0o640)
    window.canvas.add_node("nn.loss", (0.0, 0.0))
    assert window.save_to(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    link = tmp_path / "link.json"
    link.symlink_to(target)
    window.canvas.add_node("nn.loss", (0.0, 200.0))
    assert window.save_to(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(load(target).nodes) == len(load(SAMPLES / "xor.json").nodes) + 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_open_places_a_node_the_file_gives_no_position(window):
    graph = load(SAMPLES / "xor.json")
    graph.add_node(Node("extra", "view.value", {}, {}))
    window.set_graph(graph)
    extra = window.canvas.views["extra"].view.sceneBoundingRect()
    assert all(not extra.intersects(v.view.sceneBoundingRect())
               for n, v in window.canvas.views.items() if n != "extra")


def _big_graph(path, copies=4):
    """The bench's big graph (bench/bench_editor.big_graph), read from its file: 4 seeds copies."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_editor", Path(__file__).resolve().parents[2] / "bench" / "bench_editor.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.big_graph(path, copies)


def test_a_big_graph_opens_on_its_first_view_and_the_idle_build_completes_it(window, qtbot,
                                                                             tmp_path):
    path = tmp_path / "big.json"
    count = _big_graph(path)
    assert count >= opening.LAZY_FROM
    canvas = window.canvas
    with qtbot.waitSignal(canvas.built, timeout=60_000):
        assert window.open_file(path)
        early = len(canvas._views)  # built before the first paint: the first view's nodes
        assert 0 < early < count and not canvas.complete()
    assert canvas.complete()
    assert len(canvas._views) == count
    graph = window.graph
    assert set(canvas.views) == set(graph.nodes)
    wired = {(p.node().get_property("uid"), p.name(), q.node().get_property("uid"), q.name())
             for v in canvas.views.values() for p in v.input_ports() for q in p.connected_ports()}
    assert wired == {(e.dst.node, e.dst.port, e.src.node, e.src.port) for e in graph.edges}
    for node_id, view in canvas.views.items():
        assert [round(x, 1) for x in view.view.xy_pos] == graph.nodes[node_id].ui["pos"]
        assert canvas.frames[node_id].rect().contains(view.view.boundingRect())
    assert sorted(b.title for b in canvas.backdrops) == sorted(
        b["title"] for b in graph.ui["backdrops"])
    assert canvas.ng.undo_stack().count() == 0


def test_reading_a_big_graph_mid_build_finishes_it_and_edits_reach_the_whole_scene(window,
                                                                                   tmp_path):
    path = tmp_path / "big.json"
    count = _big_graph(path)
    assert window.open_file(path) and not window.canvas.complete()
    canvas = window.canvas
    last = list(window.graph.nodes)[-1]
    assert last not in canvas._views  # far from the first view: not built yet
    canvas.select({last})  # reads the views: the build finishes first
    assert canvas.complete() and len(canvas._views) == count
    assert canvas.selected_ids() == [last]
    added = canvas.add_node("nn.loss", (0.0, 0.0))
    assert added in canvas.views and len(canvas.views) == count + 1


def test_a_failure_in_an_idle_time_slice_puts_the_old_graph_back_with_one_message(window, qtbot,
                                                                                 boxes, tmp_path):
    assert window.open_file(SAMPLES / "xor.json")
    old = window.graph
    path = tmp_path / "big.json"
    _big_graph(path)
    canvas = window.canvas
    real, calls = canvas._connect_view, []

    def broken(edge):
        calls.append(edge)
        if not canvas._idle.active:  # the first view builds; an idle-time slice breaks
            return real(edge)
        raise RuntimeError("scene refused")

    canvas._connect_view = broken
    with qtbot.waitSignal(canvas.build_failed, timeout=60_000) as failed:
        assert window.open_file(path)  # the first view opens; the break comes after its paint
        assert 0 < len(canvas._views) < len(window.graph.nodes)
    del canvas._connect_view
    assert "big.json: RuntimeError: scene refused" in failed.args[0]
    assert [b[0] for b in boxes] == ["warning"] and "scene refused" in boxes[0][2]
    assert window.graph is old and canvas.graph is old and canvas.complete()
    assert set(canvas.views) == set(old.nodes)
    wired = {(p.node().get_property("uid"), p.name()) for v in canvas.views.values()
             for p in v.input_ports() if p.connected_ports()}
    assert wired == {(e.dst.node, e.dst.port) for e in old.edges}
    assert window.plots.curves.keys() == {f"{n}.value" for n, node in old.nodes.items()
                                          if node.type == "view.plot"}
    assert window.runner.graph is old and canvas.ng.undo_stack().count() == 0
    assert window.open_file(path)  # and the next open works
    canvas.finish_build()
    assert set(canvas.views) == set(load(path).nodes)


def test_the_docks_are_filled_after_the_first_paint_and_the_views_when_first_seen(window, qtbot,
                                                                                 wait_idle):
    plots, views = window.plots, window.learning_views
    with qtbot.waitSignal(window.canvas.painted):
        assert window.open_file(SAMPLES / "wheat_seeds.json")
        assert plots._graph is window.graph and not plots._curves  # not before the paint
    qtbot.waitUntil(lambda: plots._graph is None)
    assert set(plots._curves) == {"loss_plot.value", "accuracy_plot.value"}
    assert not views.seen and views._stale  # tabbed behind the plots: never made
    window.graph.run["epochs"] = 2
    window.run_controls.start("done")
    wait_idle(window)
    assert views._stale
    window.findChild(QtWidgets.QDockWidget, "views").raise_()
    qtbot.waitUntil(lambda: views.seen)
    bars = [i for i in views._panels["blame"].getPlotItem().items
            if isinstance(i, pg.BarGraphItem)]
    ex = window.runner.executor
    assert [b.opts["height"].tolist() for b in bars] == [
        ex.value("output_delta.delta")[0].tolist(), ex.value("hidden_delta.delta")[0].tolist()]
