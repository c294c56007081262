import numpy as np
import pytest

from gradcheck import call_pure
from helpers import sample_plan

from gradhopper.nodes.metrics import ACCURACY, EPOCH_MEAN
from gradhopper.runtime.errors import ShapeError
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.graph import Endpoint, Node
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry


def test_accuracy_matches_the_argmax_of_each_row(build):
    prediction = np.array([[0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.4, 0.35, 0.25], [0.1, 0.7, 0.2]])
    target = np.eye(3)[[0, 2, 1, 1]]
    value = call_pure(build(ACCURACY), prediction, target)
    assert type(value) is float and value == 0.75


def test_accuracy_thresholds_a_single_output(build):
    accuracy = build(ACCURACY)
    assert accuracy(np.array([[0.9], [0.4], [0.6], [0.2]]), np.array([[1.0], [1.0], [0.0], [0.0]])) \
        == 0.5
    assert accuracy(np.array([0.9, 0.1, 0.51]), np.array([1.0, 0.0, 1.0])) == 1.0


def test_accuracy_check_names_the_ports():
    with pytest.raises(ShapeError) as err:
        ACCURACY.check(np.zeros((4, 3)), np.zeros((4, 2)))
    assert err.value.ports == ("prediction", "target")


def test_epoch_mean_of_numbers_is_a_float(build):
    add, finish = build(EPOCH_MEAN)
    acc = None
    for loss in (1.0, 2.0, 6.0):
        acc = add(acc, loss)
    mean = finish(acc)
    assert type(mean) is float and mean == 3.0


def test_epoch_mean_of_arrays_leaves_them_alone(build):
    add, finish = build(EPOCH_MEAN)
    first, second = np.array([1.0, 2.0]), np.array([3.0, 6.0])
    acc = call_pure(add, None, first)
    acc = call_pure(add, acc, second)
    np.testing.assert_array_equal(finish(acc), [2.0, 4.0])
    np.testing.assert_array_equal(first, [1.0, 2.0])
    assert type(finish(add(None, np.float64(2.5)))) is float


def test_epoch_mean_weighs_steps_or_samples_as_a_numpy_loop_does():
    """139 samples in batches of 16: the last has 11, so the two means differ; each as numpy."""
    graph = sample_plan("softmax_minibatch").graph
    graph.add_node(Node("per_sample", "metric.epoch_mean", params={"weight": "sample"}))
    graph.connect(Endpoint("loss", "losses"), Endpoint("per_sample", "value"))
    ex = Executor(plan(graph, default_registry()), epochs=1, cache=None)
    ex.watch = True  # every step on the checked path, each one reported
    batch_means, rows = [], []
    ex.subscribe(lambda e: e.kind == "step" and (
        batch_means.append(ex.value("loss.loss")), rows.append(ex.value("loss.losses"))))
    ex.run()
    sizes = [len(r) for r in rows]
    assert sizes == [16] * 8 + [11]
    by_step = sum(batch_means) / len(batch_means)
    by_sample = sum(float(np.sum(r)) for r in rows) / sum(sizes)
    assert ex.report()["train_loss.mean"] == pytest.approx(by_step, rel=1e-14)
    assert ex.report()["per_sample.mean"] == pytest.approx(by_sample, rel=1e-14)
    assert abs(by_step - by_sample) > 1e-4  # the short batch weighs as much as a full one
    for r, m in zip(rows, batch_means):  # each step's mean loss is the mean of its rows
        assert m == pytest.approx(np.mean(r), rel=1e-14)
    fast = Executor(plan(graph, default_registry()), epochs=1, cache=None).run()
    assert fast.report()["per_sample.mean"] == ex.report()["per_sample.mean"]


def test_epoch_mean_by_sample(build):
    add, finish = build(EPOCH_MEAN, weight="sample")
    acc = call_pure(add, None, np.array([1.0, 2.0, 3.0]))
    acc = call_pure(add, acc, np.array([10.0]))
    assert finish(acc) == 4.0  # (1 + 2 + 3 + 10) / 4, where by step it would be 6
    acc = add(add(None, np.array([[1.0, 2.0], [3.0, 4.0]])), np.array([[5.0, 12.0]]))
    np.testing.assert_array_equal(finish(acc), [3.0, 6.0])  # per column, over the samples
    with pytest.raises(ShapeError, match="one value per sample") as err:
        add(None, 0.5)
    assert err.value.ports == ("value",)
