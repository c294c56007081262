import math

import numpy as np
import pytest

from gradhopper.nodes.tensors import NUMBER, TENSOR
from gradhopper.runtime.errors import ParamError


def test_uniform_is_in_low_high_with_the_shape(build):
    value = build(TENSOR, shape=[7, 5], low=-0.5, high=0.5, seed=3)
    assert value.shape == (7, 5) and value.dtype == np.float64
    assert value.min() >= -0.5 and value.max() < 0.5
    np.testing.assert_array_equal(value, np.random.default_rng(3).uniform(-0.5, 0.5, (7, 5)))


def test_the_default_is_the_tutorials_random(build):
    value = build(TENSOR, shape=[200])
    assert value.min() >= 0.0 and value.max() < 1.0 and value.std() > 0.2


def test_a_seed_reproduces_and_another_differs(build):
    one = build(TENSOR, shape=[4, 3], init="normal", seed=7)
    np.testing.assert_array_equal(one, build(TENSOR, shape=[4, 3], init="normal", seed=7))
    assert not np.array_equal(one, build(TENSOR, shape=[4, 3], init="normal", seed=8))


def test_the_run_seed_and_node_id_seed_an_unseeded_tensor(build):
    one, two = build(TENSOR, shape=[3]), build(TENSOR, shape=[3])
    np.testing.assert_array_equal(one, two)


def test_normal_uses_std(build):
    value = build(TENSOR, shape=[100, 100], init="normal", std=0.1, seed=1)
    assert value.mean() == pytest.approx(0.0, abs=0.005)
    assert value.std() == pytest.approx(0.1, rel=0.02)


def test_xavier_stays_within_glorots_limit(build):
    value = build(TENSOR, shape=[7, 5], init="xavier", seed=1)
    limit = math.sqrt(6.0 / (7 + 5))
    assert np.abs(value).max() <= limit
    assert np.abs(value).max() > 0.8 * limit
    assert (value < 0).any() and (value > 0).any()


def test_zeros_and_values(build):
    np.testing.assert_array_equal(build(TENSOR, shape=[2, 3], init="zeros"), np.zeros((2, 3)))
    value = build(TENSOR, shape=[2, 2], init="values", values=[[0.15, 0.25], [0.2, 0.3]])
    assert value.dtype == np.float64
    np.testing.assert_array_equal(value, [[0.15, 0.25], [0.2, 0.3]])


@pytest.mark.parametrize("params, param, words", [
    ({"shape": [2, 2], "init": "values", "values": [1.0, 2.0]}, "values", ["[2]", "[2, 2]"]),
    ({"shape": [2], "init": "values"}, "values", ["needs"]),
    ({"shape": [2], "values": [1.0, 2.0]}, "values", ["'uniform'"]),
    ({"shape": [2], "low": 1.0, "high": 1.0}, "low", ["below"]),
    ({"shape": [0, 3]}, "shape", ["positive"]),
    ({"shape": [2], "init": "xavir"}, "init", ["did you mean 'xavier'?"]),
])
def test_bad_parameters_are_named(params, param, words):
    with pytest.raises(ParamError) as err:
        TENSOR.resolve_params(params)
    assert err.value.param == param
    for word in words:
        assert word in str(err.value)


def test_number_gives_its_value(build):
    assert build(NUMBER, value=0.5)() == 0.5
    assert build(NUMBER)() == 0.1


@pytest.mark.parametrize("params, param", [
    ({"value": 2.0}, "value"), ({"value": -0.1}, "value"), ({"step": 0.0}, "step"),
])
def test_number_validates_its_range(params, param):
    with pytest.raises(ParamError) as err:
        NUMBER.resolve_params(params)
    assert err.value.param == param
