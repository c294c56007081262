import numpy as np
import pytest

from gradcheck import assert_gradient, call_pure, seeded
from gradhopper.nodes.layers import BACKPROP, GRADIENT, WEIGHTED_SUM
from gradhopper.runtime.errors import ShapeError


def test_weighted_sum_values(build):
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    W = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, -1.0]])
    b = np.array([0.5, -0.5, 0.0])
    z = call_pure(build(WEIGHTED_SUM, connected={"b"}), x, W, b)
    np.testing.assert_array_equal(z, [[7.5, 1.5, 0.0], [-2.5, -1.5, 1.0]])
    without_b = call_pure(build(WEIGHTED_SUM), x, W, None)
    np.testing.assert_array_equal(without_b, [[7.0, 2.0, 0.0], [-3.0, -1.0, 1.0]])


def test_backprop_and_gradient_are_the_derivatives_of_the_sum(build):
    """With L = sum(delta * (xW + b)): dL/dx = backprop, dL/dW and dL/db = gradient."""
    x, W, b, delta = seeded(4, 3), seeded(3, 2, seed=1), seeded(2, seed=2), seeded(4, 2, seed=3)
    grad = call_pure(build(BACKPROP), delta, W)
    dW, db = call_pure(build(GRADIENT), x, delta)
    assert_gradient(lambda xx: np.sum(delta * (xx @ W + b)), x, grad)
    assert_gradient(lambda WW: np.sum(delta * (x @ WW + b)), W, dW)
    assert_gradient(lambda bb: np.sum(delta * (x @ W + bb)), b, db)


def shape_error(check, *args) -> ShapeError:
    with pytest.raises(ShapeError) as err:
        check(*args)
    return err.value


def test_weighted_sum_check_names_the_ports():
    err = shape_error(WEIGHTED_SUM.check, np.zeros((2, 7)), np.zeros((5, 3)), None)
    assert err.ports == ("x", "W")
    assert err.message == "x has 7 columns but W has 5 rows"
    assert shape_error(WEIGHTED_SUM.check, np.zeros(7), np.zeros((7, 3)), None).ports == ("x",)
    assert shape_error(WEIGHTED_SUM.check, np.zeros((2, 7)), np.zeros(7), None).ports == ("W",)
    err = shape_error(WEIGHTED_SUM.check, np.zeros((2, 7)), np.zeros((7, 3)), np.zeros(4))
    assert err.ports == ("b", "W") and "(3,)" in err.message
    WEIGHTED_SUM.check(np.zeros((2, 7)), np.zeros((7, 3)), np.zeros(3))  # fits


def test_backprop_check_names_the_ports():
    err = shape_error(BACKPROP.check, np.zeros((2, 3)), np.zeros((5, 4)))
    assert err.ports == ("delta", "W")
    assert "delta has 3 columns but W has 4" in err.message
    assert shape_error(BACKPROP.check, np.zeros(3), np.zeros((5, 3))).ports == ("delta",)
    BACKPROP.check(np.zeros((2, 3)), np.zeros((5, 3)))


def test_gradient_check_names_the_ports():
    err = shape_error(GRADIENT.check, np.zeros((4, 3)), np.zeros((2, 5)))
    assert err.ports == ("x", "delta")
    assert "x has 4 rows but delta has 2" in err.message
    assert shape_error(GRADIENT.check, np.zeros((4, 3)), np.zeros(4)).ports == ("delta",)
    GRADIENT.check(np.zeros((4, 3)), np.zeros((4, 5)))
