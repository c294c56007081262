import numpy as np
import pytest

from gradcheck import call_pure
from gradhopper.nodes.metrics import ACCURACY, EPOCH_MEAN
from gradhopper.runtime.errors import ShapeError


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
