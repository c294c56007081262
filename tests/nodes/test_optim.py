import numpy as np
import pytest

from gradcheck import call_pure, seeded
from gradhopper.nodes.optim import SGD
from gradhopper.runtime.errors import ParamError, ShapeError

P, G = seeded(3, 2), seeded(3, 2, seed=1)


def test_plain_step_uses_the_lr_parameter_when_unconnected(build):
    step = build(SGD, lr=0.5)
    nxt, velocity = call_pure(step, P, G, None, None)
    np.testing.assert_array_equal(nxt, P - 0.5 * G)
    assert velocity is None


def test_a_connected_lr_wins_over_the_parameter(build):
    step = build(SGD, connected={"param", "grad", "lr"}, lr=0.5)
    nxt, velocity = call_pure(step, P, G, 0.25, None)
    np.testing.assert_array_equal(nxt, P - 0.25 * G)
    assert velocity is None


def test_momentum_follows_pytorchs_formula(build):
    step = build(SGD, lr=0.1, momentum=0.9)
    grads = [G, seeded(3, 2, seed=2), seeded(3, 2, seed=3)]
    param, velocity = P, None
    v1 = grads[0]
    v2 = 0.9 * v1 + grads[1]
    v3 = 0.9 * v2 + grads[2]
    expected_params = [P - 0.1 * v1, P - 0.1 * v1 - 0.1 * v2, P - 0.1 * (v1 + v2 + v3)]
    for grad, v_want, p_want in zip(grads, (v1, v2, v3), expected_params):
        param, velocity = call_pure(step, param, grad, None, velocity)
        np.testing.assert_allclose(velocity, v_want, rtol=1e-15)
        np.testing.assert_allclose(param, p_want, rtol=1e-14)


def test_parameter_ranges():
    with pytest.raises(ParamError) as err:
        SGD.resolve_params({"momentum": 1.0})
    assert err.value.param == "momentum"
    with pytest.raises(ParamError) as err:
        SGD.resolve_params({"lr": -0.1})
    assert err.value.param == "lr"
    assert SGD.resolve_params({"momentum": 0.99})["momentum"] == 0.99


def test_check_names_the_ports():
    with pytest.raises(ShapeError) as err:
        SGD.check(np.zeros((3, 2)), np.zeros((2, 3)), None)
    assert err.value.ports == ("param", "grad")
    with pytest.raises(ShapeError) as err:
        SGD.check(np.zeros(2), np.zeros(2), np.zeros(2))
    assert err.value.ports == ("lr",)
    SGD.check(np.zeros(2), np.zeros(2), 0.1)
