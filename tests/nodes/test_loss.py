import itertools

import numpy as np
import pytest

from gradcheck import assert_gradient, call_pure, seeded
from gradhopper.nodes.loss import LOSS, LOSSES
from gradhopper.runtime.errors import ParamError, ShapeError


@pytest.mark.parametrize("kind, reduction, batch",
                         list(itertools.product(LOSSES, ("sum", "mean"), (1, 4))))
def test_grad_is_the_derivative_of_the_loss(build, kind, reduction, batch):
    loss = build(LOSS, kind=kind, reduction=reduction)
    p = seeded(batch, 3, low=0.1, high=0.9)  # inside (0, 1) so cross-entropy is unclipped
    t = seeded(batch, 3, seed=1, low=0.0, high=1.0)
    value, grad = call_pure(loss, p, t)
    assert isinstance(value, float)
    assert_gradient(lambda pp: loss(pp, t)[0], p, grad)


def test_half_sse_is_mazurs_total_error(build):
    value, grad = build(LOSS)(np.array([[0.75136507, 0.772928465]]), np.array([[0.01, 0.99]]))
    assert value == pytest.approx(0.298371109, abs=1e-9)
    np.testing.assert_allclose(grad, [[0.74136507, -0.217071535]], rtol=1e-12)


def test_mse_values(build):
    p, t = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 0.0], [3.0, 3.0]])
    value, grad = build(LOSS, kind="mse")(p, t)
    assert value == 2.5 + 2.0  # per sample: (1 + 4) / 2 and (0 + 4) / 2
    np.testing.assert_array_equal(grad, [[1.0, 2.0], [0.0, 2.0]])  # 2 (p - t) / 2
    value, grad = build(LOSS, kind="mse", reduction="mean")(p, t)
    assert value == 4.5 / 2
    np.testing.assert_array_equal(grad, [[0.5, 1.0], [0.0, 1.0]])


def test_cross_entropy_values_and_clipping(build):
    loss = build(LOSS, kind="cross_entropy")
    value, grad = loss(np.array([[0.7, 0.2, 0.1]]), np.array([[1.0, 0.0, 0.0]]))
    assert value == pytest.approx(-np.log(0.7), rel=1e-15)
    np.testing.assert_allclose(grad, [[-1.0 / 0.7, 0.0, 0.0]], rtol=1e-15)
    with np.errstate(all="raise"):
        value, grad = loss(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    assert value == pytest.approx(-np.log(1e-12), rel=1e-15)
    np.testing.assert_allclose(grad, [[-1e12, 0.0]], rtol=1e-15)


def test_mean_divides_by_the_rows(build):
    p, t = seeded(5, 2, low=0.1, high=0.9), seeded(5, 2, seed=1, low=0.0, high=1.0)
    for kind in LOSSES:
        total, g_total = build(LOSS, kind=kind)(p, t)
        mean, g_mean = build(LOSS, kind=kind, reduction="mean")(p, t)
        assert mean == pytest.approx(total / 5, rel=1e-14)
        np.testing.assert_allclose(g_mean, g_total / 5, rtol=1e-14)


def test_check_names_the_ports():
    with pytest.raises(ShapeError) as err:
        LOSS.check(np.zeros((2, 3)), np.zeros((2, 2)))
    assert err.value.ports == ("prediction", "target")
    with pytest.raises(ShapeError) as err:
        LOSS.check(np.zeros(3), np.zeros(3))
    assert err.value.ports == ("prediction",)


def test_a_misspelt_kind_gets_a_hint():
    with pytest.raises(ParamError, match="did you mean 'cross_entropy'"):
        LOSS.resolve_params({"kind": "crossentropy"})
