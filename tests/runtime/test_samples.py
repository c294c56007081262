"""The digits, house-prices and plateau samples do what their descriptions say, measured."""
from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import SAMPLES, run_sample, sample_plan

from gradhopper.nodes.dataset import BUILT_INS
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.nodetype import NodeType, Param, Port
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import Registry, default_registry


def with_view_image() -> Registry:
    """The installed types, plus a bare view.image if this checkout does not have it yet (the
    views lane declares it, with these parameters and one input `value`)."""
    registry = default_registry()
    if "view.image" in registry:
        return registry
    stand_in = NodeType("view.image", make=None, role="view", display="image",
                        inputs=(Port("value", kind="any"),),
                        params=(Param("image_shape", "shape", [8, 8]),
                                Param("of", "str", "columns", choices=("columns", "rows"))))
    return Registry([*registry, stand_in])


def stated(description: str, pattern: str) -> float:
    """A number the description states, such as the accuracy in "about 97.7%"."""
    return float(re.search(pattern, description.replace("\n", " ")).group(1).replace(",", ""))


def test_digits_learns_the_digits_and_shows_w1_as_8x8_images():
    registry = with_view_image()
    graph = load(SAMPLES / "digits.json", registry)
    ran = Executor(plan(graph, registry), epochs=graph.run["epochs"], cache=None).run()
    accuracy = ran.report()["test_accuracy.accuracy"]
    assert ran.value("split.X_test").shape == (611, 64)
    assert accuracy >= 0.95
    assert round(100 * accuracy, 1) == stated(graph.description, r"about ([\d.]+)% of the 611")
    first = ran.history[0]["test_accuracy.accuracy"]
    assert first < accuracy - 0.05  # it learnt: the first epoch scores well below the last
    image = graph.nodes["W1_image"]
    assert image.params == {"image_shape": [8, 8], "of": "columns"}
    W1 = ran.value("W1.value")
    assert W1.shape == (64, 16) and np.prod(image.params["image_shape"]) == W1.shape[0]
    np.testing.assert_array_equal(ran.report()["W1_image.value"], W1)


def test_house_prices_fits_the_formula_the_data_was_made_from():
    graph = load(SAMPLES / "house_prices.json", default_registry())
    ran = run_sample("house_prices", epochs=graph.run["epochs"])
    losses = [h["train_loss.mean"] for h in ran.history]
    assert losses[-1] < losses[0] / 5 and min(losses) < 0.05
    assert ran.history[-1]["test_loss.loss"] < 0.05  # standardised: the noise is about 0.02
    # A typical house, priced through the trained weights and the data's own scaling.
    X, y = BUILT_INS["house_prices"]()
    W, b = ran.value("W.value"), ran.value("b.value")
    house = (np.array([120.0, 3.0]) - X.mean(axis=0)) / X.std(axis=0)
    price = float((house @ W + b)[0] * y.std() + y.mean())
    formula = 50_000 + 1_200 * 120 + 8_000 * 3
    assert abs(price - formula) < 5_000  # within half the noise's standard deviation
    assert abs(price - stated(graph.description, r"priced at about ([\d,]+)")) < 500
    # SGD lands where least squares on the same training rows does.
    Xt, Yt = ran.value("split.X_train"), ran.value("split.Y_train")
    exact = np.linalg.lstsq(np.column_stack([Xt, np.ones(len(Xt))]), Yt, rcond=None)[0]
    np.testing.assert_allclose(np.append(W, b), exact[:, 0], atol=0.02)


def plateau(history, shares: np.ndarray) -> int:
    """How many epochs the test accuracy starts with at what always guessing one class scores
    (that class's share of the test set): the network has not yet told the classes apart."""
    accuracy = [h["test_accuracy.accuracy"] for h in history]
    guessing = [np.isclose(a, shares, rtol=0, atol=1e-12).any() for a in accuracy]
    return guessing.index(False) if False in guessing else len(guessing)


@pytest.fixture(scope="module")
def plateau_runs():
    graph = load(SAMPLES / "plateau.json", default_registry())
    slow = run_sample("plateau", epochs=graph.run["epochs"])
    fast = Executor(sample_plan("plateau", learning_rate={"value": 0.3}), epochs=40,
                    cache=None).run()
    return graph, slow, fast


def test_a_small_learning_rate_sits_on_a_plateau_then_climbs(plateau_runs):
    graph, slow, fast = plateau_runs
    assert graph.nodes["learning_rate"].params["value"] < 0.3 / 10
    shares = slow.value("split.Y_test").mean(axis=0)  # each single-class guess's accuracy
    accuracy = np.array([h["test_accuracy.accuracy"] for h in slow.history])
    flat = plateau(slow.history, shares)
    assert flat >= 20  # the accuracy "just sits there", on one class's share or another's...
    assert accuracy[-20:].mean() >= shares.max() + 0.4  # ...then it climbs, and stays up
    assert np.all(np.diff(accuracy[flat:]) > -0.05)  # climbs without a fall
    quick = plateau(fast.history, shares)
    assert quick * 5 <= flat  # at the seeds sample's 0.3 the wait is short
    text = graph.description.replace("\n", " ")
    assert f"same wait is {quick} epochs" in text
    assert abs(stated(text, r"first (\d+) or so epochs") - flat) <= 3
