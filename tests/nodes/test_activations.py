import numpy as np
import pytest

from gradcheck import assert_gradient, call_pure, seeded
from gradhopper.nodes.activations import ACTIVATION, ACTIVATIONS, DELTA
from gradhopper.runtime.errors import ParamError, ShapeError

FNS = tuple(ACTIVATIONS)


def test_every_catalogue_function_is_there():
    assert FNS == ("sigmoid", "tanh", "relu", "linear", "softmax")


def test_forward_values(build):
    z = np.array([[-1.0, 0.0, 2.0]])
    expected = {
        "sigmoid": 1.0 / (1.0 + np.exp(-z)),
        "tanh": np.tanh(z),
        "relu": np.array([[0.0, 0.0, 2.0]]),
        "linear": z,
        "softmax": np.exp(z) / np.exp(z).sum(),
    }
    for fn, want in expected.items():
        a = call_pure(build(ACTIVATION, fn=fn), z)
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, want, rtol=1e-15, atol=1e-16, err_msg=fn)


def test_sigmoid_and_softmax_do_not_overflow(build):
    z = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sig = build(ACTIVATION, fn="sigmoid")(z)
        soft = build(ACTIVATION, fn="softmax")(np.array([[1000.0, 1001.0], [-1000.0, -1000.0]]))
    np.testing.assert_array_equal(sig[:, 1:], [[0.5, 1.0]])
    assert 0.0 < sig[0, 0] < 4e-308  # e^1000 capped at e^708: the smallest normal floats
    e = 1.0 / (1.0 + np.e)
    np.testing.assert_allclose(soft, [[e, 1.0 - e], [0.5, 0.5]], rtol=1e-15)


def test_softmax_rows_sum_to_one_and_ignore_a_shift(build):
    softmax = build(ACTIVATION, fn="softmax")
    z = seeded(5, 3, low=-4.0, high=4.0)
    np.testing.assert_allclose(softmax(z).sum(axis=1), np.ones(5), rtol=1e-15)
    np.testing.assert_allclose(softmax(z + 7.0), softmax(z), rtol=1e-13)


@pytest.mark.parametrize("fn", FNS)
def test_delta_is_the_gradient_wrt_z(build, fn):
    forward, delta = build(ACTIVATION, fn=fn), build(DELTA, fn=fn)
    z = seeded(4, 3, low=-2.0, high=2.0)
    z = z + 0.1 * np.sign(z)  # keep relu's kink out of the finite-difference step
    g = seeded(4, 3, seed=1)
    analytic = call_pure(delta, g, forward(z))
    assert_gradient(lambda zz: np.sum(g * forward(zz)), z, analytic)


def test_delta_values_match_the_tutorial(build):
    # The tutorial's delta for a sigmoid output: (output - expected) * output * (1 - output).
    a, grad = np.array([[0.75136507]]), np.array([[0.74136507]])
    delta = build(DELTA, fn="sigmoid")(grad, a)
    np.testing.assert_allclose(delta, [[0.74136507 * 0.75136507 * (1 - 0.75136507)]])


def test_delta_check_names_both_ports():
    with pytest.raises(ShapeError) as err:
        DELTA.check(np.zeros((2, 3)), np.zeros((2, 4)))
    assert err.value.ports == ("grad", "a")
    assert "(2, 3)" in str(err.value) and "(2, 4)" in str(err.value)


@pytest.mark.parametrize("node_type", [ACTIVATION, DELTA])
def test_a_misspelt_function_gets_a_hint(node_type):
    with pytest.raises(ParamError) as err:
        node_type.resolve_params({"fn": "sigmiod"})
    assert err.value.param == "fn"
    assert "did you mean 'sigmoid'?" in str(err.value)


def test_sigmoid_is_safe_and_exact_for_any_z(build):
    """Finite, no warning, equal to 1 / (1 + e^-z) where that does not overflow, and never NaN."""
    z = np.array([[-np.inf, -1e308, -800.0, -708.0, -40.0, -1e-300, 0.0, 1e-300, 40.0, 745.0,
                   1e308, np.inf]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = call_pure(build(ACTIVATION, fn="sigmoid"), z)
    assert np.all(np.isfinite(a)) and np.all((0.0 < a) & (a <= 1.0))
    exact = 1.0 / (1.0 + np.exp(-z[:, 3:]))
    np.testing.assert_allclose(a[:, 3:], exact, rtol=4e-16, atol=0)
    assert np.all(a[:, :3] <= a[0, 3])
    assert np.isnan(build(ACTIVATION, fn="sigmoid")(np.array([[np.nan]])))[0, 0]
