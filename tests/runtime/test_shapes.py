"""Shapes inferred before any run (runtime/shapes.py) match the shapes a real run gives, and a
wire whose shape does not fit is refused when it is made, with one line naming both ports."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import SAMPLES, sample_plan

import gradhopper as gh
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.shapes import Shapes, shape_text


@pytest.mark.parametrize("sample", sorted(p.stem for p in SAMPLES.glob("*.json")))
def test_every_port_has_the_shape_of_the_first_step(sample):
    plan = sample_plan(sample)
    shapes = Shapes(plan.registry).infer(plan.graph)
    run = Executor(plan, epochs=1)
    run.run(steps=1)  # the first batch: what inference predicts for per-step ports
    first = {end: run.value(end) for end in plan.slots}
    run.run()  # the per-epoch ports have their values at the epoch's end
    checked = 0
    for end in plan.slots:
        value = first[end] if first[end] is not None else run.value(end)
        assert shapes.shape(end) == np.shape(value), end
        checked += 1
    assert checked == len(plan.slots) > 20
    assert shapes.problems == {}


def test_memo_recomputes_only_what_changed():
    plan = sample_plan("wheat_seeds")
    shapes = Shapes(plan.registry)
    first = dict(shapes.infer(plan.graph).values)
    plan.graph.set_param("W2", "shape", [5, 4])
    again = shapes.infer(plan.graph).values
    split_x = Endpoint("split", "X_train")
    assert again[split_x] is first[split_x]  # static data not recomputed
    assert shape_text(shapes.shape(Endpoint("W2", "value"))) == "(5, 4)"


def layer_graph() -> gh.Graph:
    g = gh.Graph(epochs=1)
    g.add("data", "data.dataset", name="seeds")
    g.add("W", "param.tensor", shape=[5, 3])
    g.add("sum", "nn.weighted_sum")
    g.connect("W.value", "sum.W")
    return g


def test_api_refuses_a_wire_of_the_wrong_shape():
    g = layer_graph()
    with pytest.raises(gh.GradhopperError) as info:
        g.connect("data.X", "sum.x")
    assert str(info.value) == ("node sum, port x: x has 7 columns but W has 5 rows "
                               "(x is (210, 7), W is (5, 3))")
    assert g.model.edge_into(Endpoint("sum", "x")) is None  # the graph is as it was
    g.set("W.shape", [7, 3])
    g.connect("data.X", "sum.x")
    assert g.model.edge_into(Endpoint("sum", "x")) is not None


def test_unknown_shapes_never_refuse():
    g = gh.Graph(epochs=1)
    g.add("sum", "nn.weighted_sum")
    g.add("W", "param.tensor", shape=[5, 3])
    g.connect("W.value", "sum.W")  # x not wired yet: nothing to judge against
    assert shape_text(None) == "?" and shape_text(()) == "scalar"


def test_a_placeholder_has_unknown_shapes():
    plan = sample_plan("xor")
    model = plan.graph.copy()
    model.nodes["loss"].type = "acme.not_installed"
    shapes = Shapes(plan.registry).infer(model)
    assert shapes.shape(Endpoint("loss", "grad")) is None
    assert shapes.shape(Endpoint("output", "a")) == (1, 2)
    assert shapes.refusal(model, Endpoint("output", "a"), Endpoint("loss", "prediction")) is None
