import numpy as np
import pytest

from gradcheck import call_pure, seeded
from gradhopper.nodes.prep import NORMALIZE, ONEHOT
from gradhopper.runtime.errors import ShapeError

X = np.array([[1.0, 10.0, 5.0], [3.0, 20.0, 5.0], [2.0, 60.0, 5.0]])


def test_minmax_maps_each_column_onto_0_1(build):
    out = call_pure(build(NORMALIZE), X)
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.0], [1.0, 0.2, 0.0], [0.5, 1.0, 0.0]])


def test_zscore_gives_mean_0_std_1(build):
    Z = seeded(50, 3, low=-5.0, high=20.0)
    out = call_pure(build(NORMALIZE, method="zscore"), Z)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-14)
    with np.errstate(all="raise"):
        constant = build(NORMALIZE, method="zscore")(X)[:, 2]
    np.testing.assert_array_equal(constant, [0.0, 0.0, 0.0])


def test_normalize_check_wants_a_matrix():
    with pytest.raises(ShapeError) as err:
        NORMALIZE.check(np.zeros(3))
    assert err.value.ports == ("X",)


def test_onehot_uses_sorted_classes_as_columns(build):
    Y = call_pure(build(ONEHOT), np.array([3.0, 1.0, 2.0, 3.0]))
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_onehot_check_wants_a_vector():
    with pytest.raises(ShapeError) as err:
        ONEHOT.check(np.zeros((4, 1)))
    assert err.value.ports == ("y",)
