"""Why a network does not learn (runtime/diagnose.py): each check flags its case on the node
concerned, and a sample that learns flags nothing."""
from __future__ import annotations

import numpy as np
from helpers import sample_plan

from gradhopper.runtime.diagnose import Watch, labels
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.planner import plan as make_plan
from gradhopper.runtime.shapes import Shapes


def watched(plan, epochs: int) -> list[dict]:
    """Every epoch's flags, as the editor gets them."""
    run, watch, flags = Executor(plan, epochs=epochs), Watch(plan), []
    for _ in range(epochs):
        run.advance("epoch")
        flags.append(watch.epoch(run.value, run.history))
    return flags


def without_normalize():
    plan = sample_plan("wheat_seeds")
    model = plan.graph.copy()
    model.remove_node("normalize")
    model.connect(Endpoint("seeds", "X"), Endpoint("split", "X"))
    return make_plan(model, plan.registry)


def test_the_sample_flags_nothing():
    assert watched(sample_plan("wheat_seeds"), 6) == [{}] * 6


def test_unnormalised_inputs_saturate_the_hidden_layer():
    last = watched(without_normalize(), 8)[-1]
    assert last["hidden"].startswith("saturated: 100% of outputs within 0.001 of 0 or 1")
    assert last["test_hidden"].startswith("saturated: 100%")
    assert last["hidden_gradient"].startswith("vanishing gradients: norm ")
    assert last["loss"].startswith("the loss has not moved over the last 5 epochs (")
    assert "output" not in last  # the output layer's sigmoid is judged by the loss


def test_a_huge_learning_rate_explodes_the_weights():
    plan = sample_plan("wheat_seeds", learning_rate={"max": 1e300, "value": 1e300})
    first = watched(plan, 1)[0]
    for update in ("update_W1", "update_W2"):
        assert first[update].startswith("weights exploding: max |next| ")
        assert float(first[update].split()[4].rstrip(";")) > 1e6


def test_watch_numbers_match_numpy():
    plan = without_normalize()
    run, watch = Executor(plan, epochs=2), Watch(plan)
    run.advance("epoch")
    watch.epoch(run.value, run.history)
    run.advance("epoch")
    line = watch.epoch(run.value, run.history)["hidden_gradient"]
    dW, db = (run.value(Endpoint("hidden_gradient", p)) for p in ("dW", "db"))
    expected = np.sqrt(np.sum(dW ** 2) + np.sum(db ** 2))
    assert line == f"vanishing gradients: norm {expected:.2g} for 2 epochs; nothing below learns"


def test_labels_without_one_hot_are_named_before_a_run():
    plan = sample_plan("wheat_seeds")
    model = plan.graph.copy()
    model.remove_node("onehot")
    model.connect(Endpoint("seeds", "y"), Endpoint("split", "Y"))
    shapes = Shapes(plan.registry).infer(model)
    assert labels(model, plan.registry, shapes) == {
        "loss": "target is (1,) but prediction has 3 columns: one-hot encode the labels "
                "(3 columns, one per class)"}
    assert labels(plan.graph, plan.registry, Shapes(plan.registry).infer(plan.graph)) == {}
