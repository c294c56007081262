import itertools

import numpy as np
import pytest

from gradcheck import assert_gradient, call_pure, seeded
from gradhopper.nodes.activations import ACTIVATION, DELTA
from gradhopper.nodes.loss import LOSS, PAIRS
from gradhopper.nodes.loss_math import LOSSES, TINY
from gradhopper.runtime.errors import ParamError, ShapeError

GAPS = (0.0, 1.0, 30.0, 100.0, 700.0, 745.0, 1000.0)
WITH_LOGITS = ("prediction", "target", "logits")


@pytest.mark.parametrize("kind, reduction, batch",
                         list(itertools.product(LOSSES, ("sum", "mean"), (1, 4))))
def test_grad_is_the_derivative_of_the_loss(build, kind, reduction, batch):
    loss = build(LOSS, kind=kind, reduction=reduction)
    p = seeded(batch, 3, low=0.1, high=0.9)  # inside (0, 1) so cross-entropy is unclipped
    t = seeded(batch, 3, seed=1, low=0.0, high=1.0)
    value, grad, _, rows = call_pure(loss, p, t, None)
    assert isinstance(value, float) and rows.shape == (batch,)
    assert value == pytest.approx(rows.sum() / (batch if reduction == "mean" else 1), rel=1e-15)
    assert_gradient(lambda pp: loss(pp, t, None)[0], p, grad)


@pytest.mark.parametrize("kind, reduction, logits",
                         list(itertools.product(LOSSES, ("sum", "mean"), (False, True))))
def test_delta_is_the_derivative_wrt_the_pairs_logits(build, kind, reduction, logits):
    """dloss/dz through the kind's activation, by finite differences, with or without logits."""
    f = build(ACTIVATION, fn=PAIRS[kind])
    loss = build(LOSS, connected=WITH_LOGITS if logits else (), kind=kind, reduction=reduction)
    z = seeded(4, 3, seed=2, low=-2.0, high=2.0)
    t = seeded(4, 3, seed=3, low=0.0, high=1.0)  # soft, unnormalised targets: the general case
    value, _, delta, _ = call_pure(loss, f(z), t, z)
    assert_gradient(lambda zz: loss(f(zz), t, zz)[0], z, delta)
    if logits:  # the loss from z is the loss from p, where p is not clipped
        assert value == pytest.approx(build(LOSS, kind=kind, reduction=reduction)(
            f(z), t, None)[0], rel=1e-13)


def exact_sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                    np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


@pytest.mark.parametrize("gap", GAPS)
def test_softmax_cross_entropy_is_exact_at_any_logit_gap(build, gap):
    """Logits [0, g], target class 0: loss g + log1p(e^-g), delta softmax(z) - t, as torch."""
    z, t = np.array([[0.0, gap]]), np.array([[1.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = build(ACTIVATION, fn="softmax")(z)
        value, grad, delta, _ = build(LOSS, connected=WITH_LOGITS, kind="cross_entropy")(a, t, z)
    assert value == pytest.approx(gap + np.log1p(np.exp(-gap)), rel=1e-15, abs=1e-15)
    p0 = np.exp(-gap) / (1.0 + np.exp(-gap))
    np.testing.assert_allclose(delta, [[p0 - 1.0, 1.0 - p0]], rtol=1e-15, atol=1e-300)
    assert np.all(np.isfinite(grad))
    if gap <= 700.0:  # p stays a normal float: the chain grad -> nn.delta is exact as well
        chained = build(DELTA, fn="softmax")(grad, a)
        np.testing.assert_allclose(chained, delta, rtol=1e-15, atol=1e-15)
        without = build(LOSS, kind="cross_entropy")(a, t, None)[0]
        assert without == pytest.approx(value, rel=1e-15, abs=1e-15)


@pytest.mark.parametrize("gap", GAPS)
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_sigmoid_binary_cross_entropy_is_exact_at_any_logit_gap(build, gap, target):
    """A single sigmoid output on the wrong side by g: loss g + log1p(e^-g), delta s(z) - t."""
    z = np.array([[gap if target == 0.0 else -gap]])
    t = np.array([[target]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = build(ACTIVATION, fn="sigmoid")(z)
        value, grad, delta, _ = build(LOSS, connected=WITH_LOGITS,
                                      kind="binary_cross_entropy")(a, t, z)
    assert value == pytest.approx(gap + np.log1p(np.exp(-gap)), rel=1e-15, abs=1e-15)
    np.testing.assert_allclose(delta, exact_sigmoid(z) - t, rtol=1e-15, atol=1e-300)
    assert np.all(np.isfinite(grad))
    # the right side by g: loss log1p(e^-g), exact in the tail too
    value = build(LOSS, connected=WITH_LOGITS, kind="binary_cross_entropy")(a, 1.0 - t, z)[0]
    assert value == pytest.approx(np.log1p(np.exp(-gap)), rel=1e-15, abs=1e-300)


def test_without_logits_cross_entropy_clips_at_the_smallest_normal_float(build):
    loss = build(LOSS, kind="cross_entropy")
    value, grad, delta, _ = loss(np.array([[0.7, 0.2, 0.1]]), np.array([[1.0, 0.0, 0.0]]), None)
    assert value == pytest.approx(-np.log(0.7), rel=1e-15)
    np.testing.assert_allclose(grad, [[-1.0 / 0.7, 0.0, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(delta, [[-0.3, 0.2, 0.1]], rtol=1e-15)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad, delta, _ = loss(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]), None)
    assert value == pytest.approx(-np.log(TINY), rel=1e-15)  # 708.4: the most it can say
    np.testing.assert_allclose(grad, [[-1.0 / TINY, 0.0]], rtol=1e-15)
    np.testing.assert_array_equal(delta, [[-1.0, 1.0]])  # delta needs no logits to be exact


def test_half_sse_is_mazurs_total_error(build):
    value, grad, delta, rows = build(LOSS)(np.array([[0.75136507, 0.772928465]]),
                                           np.array([[0.01, 0.99]]), None)
    assert value == pytest.approx(0.298371109, abs=1e-9)
    assert rows[0] == pytest.approx(value, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.74136507, -0.217071535]], rtol=1e-12)
    np.testing.assert_array_equal(delta, grad)  # a linear output's delta is grad


def test_mse_values(build):
    p, t = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 0.0], [3.0, 3.0]])
    value, grad, _, rows = build(LOSS, kind="mse")(p, t, None)
    assert value == 2.5 + 2.0  # per sample: (1 + 4) / 2 and (0 + 4) / 2
    np.testing.assert_array_equal(rows, [2.5, 2.0])
    np.testing.assert_array_equal(grad, [[1.0, 2.0], [0.0, 2.0]])  # 2 (p - t) / 2
    value, grad, delta, rows = build(LOSS, kind="mse", reduction="mean")(p, t, None)
    assert value == 4.5 / 2
    np.testing.assert_array_equal(rows, [2.5, 2.0])  # per sample, before the reduction
    np.testing.assert_array_equal(grad, [[0.5, 1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(delta, grad)


def test_mean_divides_by_the_rows(build):
    p, t = seeded(5, 2, low=0.1, high=0.9), seeded(5, 2, seed=1, low=0.0, high=1.0)
    for kind in LOSSES:
        total, g_total, d_total, rows = build(LOSS, kind=kind)(p, t, None)
        mean, g_mean, d_mean, rows_mean = build(LOSS, kind=kind, reduction="mean")(p, t, None)
        assert mean == pytest.approx(total / 5, rel=1e-14)
        np.testing.assert_allclose(g_mean, g_total / 5, rtol=1e-14)
        np.testing.assert_allclose(d_mean, d_total / 5, rtol=1e-14)
        np.testing.assert_array_equal(rows_mean, rows)


def test_logits_that_did_not_make_the_prediction_are_refused_on_the_first_step(build):
    z = seeded(3, 2, low=-2.0, high=2.0)
    sigmoid_output = build(ACTIVATION, fn="sigmoid")(z)
    loss = build(LOSS, connected=WITH_LOGITS, kind="cross_entropy")
    with pytest.raises(ShapeError) as err:
        loss(sigmoid_output, np.eye(3, 2), z)
    assert err.value.ports == ("prediction", "logits")
    assert str(err.value) == ("prediction is not softmax(logits): cross_entropy pairs with a "
                              "softmax output (binary_cross_entropy with a sigmoid one); "
                              "wire the z its nn.activation gets")


def test_check_names_the_ports():
    with pytest.raises(ShapeError) as err:
        LOSS.check(np.zeros((2, 3)), np.zeros((2, 2)), None)
    assert err.value.ports == ("prediction", "target")
    with pytest.raises(ShapeError) as err:
        LOSS.check(np.zeros(3), np.zeros(3), None)
    assert err.value.ports == ("prediction",)
    with pytest.raises(ShapeError) as err:
        LOSS.check(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 2)))
    assert err.value.ports == ("prediction", "logits")


def test_a_misspelt_kind_gets_a_hint():
    with pytest.raises(ParamError, match="did you mean 'cross_entropy'"):
        LOSS.resolve_params({"kind": "crossentropy"})
