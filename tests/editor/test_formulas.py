"""Formulas and shapes on nodes: the tooltip and the inspector show each node's formula for its
parameters and its ports' shapes in this graph, inferred before any run."""
from __future__ import annotations

from helpers import SAMPLES

from gradhopper.editor import values
from gradhopper.runtime.graph import Endpoint


def test_tooltip_shows_formula_and_shapes_before_a_run(window):
    window.open_file(SAMPLES / "wheat_seeds.json")
    g, reg = window.graph, window.registry
    text = values.node_text(g, reg, "hidden_delta").splitlines()
    assert text[:3] == ["hidden_delta: nn.delta", "delta = grad * a * (1 - a)",
                        "in grad (1, 5), a (1, 5)  out delta (1, 5)"]
    assert values.node_text(g, reg, "hidden_sum").splitlines()[1:3] == [
        "z = xW + b", "in x (1, 7), W (7, 5), b (5,)  out z (1, 5)"]
    # the sample wires its slider into lr: the formula names it, not the unused parameter
    assert values.node_text(g, reg, "update_W1").splitlines()[1] == \
        "next = param - learning_rate.value * grad"
    g.disconnect(Endpoint("update_W1", "lr"))
    assert values.node_text(g, reg, "update_W1").splitlines()[1] == "next = param - 0.1 * grad"


def test_inspector_follows_the_parameters(window):
    window.open_file(SAMPLES / "wheat_seeds.json")
    ins = window.inspector
    ins.show_node("update_W1")
    assert ins._about.text().startswith("next = param - ")
    g = window.graph
    from gradhopper.editor import commands
    window.undo.push(commands.SetParam(g, "update_W1", "momentum", 0.9))
    assert ins._about.text().splitlines()[0] == (
        "velocity = 0.9 * velocity + grad; next = param - learning_rate.value * velocity")
    assert ins._about.text().splitlines()[1] == \
        "in param (7, 5), grad (7, 5), lr scalar  out next (7, 5)"
    ins.show_node("hidden")
    assert ins._about.text().splitlines()[0] == "a = 1 / (1 + e^-z)"


def test_port_tooltip_has_the_inferred_shape(window):
    window.open_file(SAMPLES / "wheat_seeds.json")
    c = window.canvas
    out = c.views["hidden"].outputs()["a"].view
    assert c.port_text(out).splitlines()[0] == "hidden.a  (1, 5)"


def test_a_wire_is_refused_for_its_shape_before_any_run(window):
    window.open_file(SAMPLES / "wheat_seeds.json")
    c = window.canvas
    extra = c.add_node("nn.weighted_sum", (0, 900))
    assert c.wire("batches.x", f"{extra}.x") is None
    assert c.wire("W2.value", f"{extra}.W") == (
        "shapes do not fit: x has 7 columns but W has 5 rows (x is (1, 7), W is (5, 3))")
