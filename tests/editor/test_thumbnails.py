"""Thumbnails (editor/thumbnails.py) show each node's value after a run: a number, a sparkline
of a metric over the epochs, a heatmap of a matrix; and the per-epoch checks' badges."""
from __future__ import annotations

import numpy as np
from helpers import SAMPLES

from gradhopper.editor.diagnosis import notes
from gradhopper.editor.thumbnails import CELLS
from gradhopper.runtime.graph import Endpoint


def run_to_end(window, wait_idle, epochs: int):
    window.graph.run["epochs"] = epochs
    window.run_controls.start("done")
    wait_idle(window)
    ex = window.runner.values
    window.canvas.watch_run(final=True)
    return ex


def test_each_node_shows_its_value(window, wait_idle):
    window.open_file(SAMPLES / "xor.json")
    ex = run_to_end(window, wait_idle, 6)
    thumbs = window.canvas.thumbnails.items
    assert window.canvas.thumbnails.visible()  # 35 nodes: on by default
    assert set(thumbs) == {n for n in ex.plan.order if n in window.canvas.views
                           and _has_value(ex, n)}
    # a scalar reported every epoch: a sparkline of its history, scaled into 0..1
    loss = thumbs["train_loss"]
    ys = np.array([h["train_loss.mean"] for h in ex.history])
    assert loss.kind == "sparkline" and len(loss.points) == 6
    np.testing.assert_allclose(loss.points[:, 1], (ys - ys.min()) / np.ptp(ys), atol=1e-12)
    assert loss.text == f"{ys[-1]:.4g}"
    # a matrix: its cells, the values themselves
    w1 = thumbs["W1"]
    assert w1.kind == "heatmap"
    np.testing.assert_array_equal(w1.cells, ex.value(Endpoint("W1", "value")))
    # a number that is not in the history: its text
    lr = thumbs["learning_rate"]
    assert lr.kind == "number" and lr.text == f"{ex.value(Endpoint('learning_rate', 'value')):.5g}"


def _has_value(ex, node_id):
    call = ex.plan.calls[node_id]
    try:
        if call.role == "view":
            return ex.input_value(node_id, call.type.inputs[0].name) is not None
        return ex.value(Endpoint(node_id, call.type.outputs[0].name)) is not None
    except (KeyError, ValueError, IndexError):
        return False


def test_a_large_matrix_is_sampled(window, wait_idle):
    window.open_file(SAMPLES / "wheat_seeds.json")
    ex = run_to_end(window, wait_idle, 1)
    split = window.canvas.thumbnails.items["split"]  # X_train, (139, 7)
    value = ex.value(Endpoint("split", "X_train"))
    rows = np.unique(np.linspace(0, value.shape[0] - 1, CELLS).astype(int))
    np.testing.assert_array_equal(split.cells, value[rows])


def test_view_toggle_hides_and_shows(window, wait_idle):
    window.open_file(SAMPLES / "xor.json")
    run_to_end(window, wait_idle, 2)
    thumbs = window.canvas.thumbnails
    thumbs.set_visible(False)
    assert not any(item.isVisible() for item in thumbs.items.values())
    thumbs.set_visible(True)
    assert all(item.isVisible() for item in thumbs.items.values())


def test_badges_say_why_it_does_not_learn(window, wait_idle):
    window.open_file(SAMPLES / "wheat_seeds.json")
    from gradhopper.editor import commands
    g = window.graph
    window.undo.push(commands.SetParam(g, "learning_rate", "max", 1e300))
    window.undo.push(commands.SetParam(g, "learning_rate", "value", 1e300))
    run_to_end(window, wait_idle, 1)
    badges = window.canvas.diagnosis.badges
    assert badges["update_W1"].text().startswith("⚠ weights exploding: max |next| ")
    assert notes(g)["update_W1"] == badges["update_W1"].text()[2:]
    window.inspector.show_node("update_W1")
    assert window.inspector._about.text().splitlines()[-1] == badges["update_W1"].text()


def test_on_by_default_only_under_a_hundred_nodes():
    from types import SimpleNamespace

    from gradhopper.editor.thumbnails import AUTO_LIMIT, Thumbnails
    from gradhopper.runtime.graph import Graph, Node

    graph = Graph("many")
    for i in range(AUTO_LIMIT - 1):
        graph.add_node(Node(f"n{i}", "input.number"))
    thumbs = Thumbnails(SimpleNamespace(graph=graph))
    assert thumbs.visible()
    graph.add_node(Node("last", "input.number"))
    assert not thumbs.visible()
    thumbs.chosen = True  # the View menu's choice wins
    assert thumbs.visible()
